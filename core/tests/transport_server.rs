//! The server machine: one test per row of the POST table (spec a.3), routing, security,
//! lifetime, queue bound, pings and shutdown.

use std::time::{Duration, Instant, UNIX_EPOCH};

use bytes::Bytes;
use mcp_sse_core::http::Limits;
use mcp_sse_core::jsonrpc::Message;
use mcp_sse_core::transport::{
    ConnectionId, Security, SecuritySettings, SendError, Server, ServerConfig, ServerEvent,
    SessionId,
};

struct Fixture {
    server: Server,
    now: Instant,
    session: SessionId,
    stream: ConnectionId,
}

fn fixture(config: ServerConfig) -> Fixture {
    let mut n = 0u8;
    let mut server = Server::new(
        config,
        Box::new(move || {
            n += 1;
            [n; 16]
        }),
    );
    let now = Instant::now();
    let stream = server.open_connection(now);
    server.handle_bytes(
        stream,
        Bytes::from_static(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"),
        now,
    );
    let session = events(&mut server)
        .into_iter()
        .find_map(|e| match e {
            ServerEvent::SessionOpened { session, .. } => Some(session),
            _ => None,
        })
        .expect("session opened");
    drain(&mut server, stream, now);
    Fixture {
        server,
        now,
        session,
        stream,
    }
}

fn events(server: &mut Server) -> Vec<ServerEvent> {
    std::iter::from_fn(|| server.poll_event()).collect()
}

fn drain(server: &mut Server, conn: ConnectionId, now: Instant) -> String {
    let mut out = Vec::new();
    while let Some(b) = server.poll_transmit(conn, now) {
        out.extend_from_slice(&b);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends one request on a fresh connection and returns the response text.
fn request(f: &mut Fixture, raw: &str) -> String {
    let conn = f.server.open_connection(f.now);
    f.server
        .handle_bytes(conn, Bytes::from(raw.to_string()), f.now);
    drain(&mut f.server, conn, f.now)
}

fn post(
    f: &mut Fixture,
    query: &str,
    content_type: Option<&str>,
    extra: &str,
    body: &str,
) -> String {
    let ct = content_type
        .map(|c| format!("Content-Type: {c}\r\n"))
        .unwrap_or_default();
    let raw = format!(
        "POST /messages/{query} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n{ct}{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    request(f, &raw)
}

fn status_and_body(resp: &str) -> (u16, &str) {
    let status = resp.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = resp.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body)
}

const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

fn q(f: &Fixture) -> String {
    format!("?session_id={}", f.session)
}

#[test]
fn row1_method_not_post_is_405_with_allow() {
    let mut f = fixture(ServerConfig::default());
    let q = q(&f);
    let resp = request(
        &mut f,
        &format!("PUT /messages/{q} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Length: 0\r\n\r\n"),
    );
    assert_eq!(status_and_body(&resp), (405, ""));
    assert!(resp.contains("\r\nallow: POST\r\n"), "{resp}");
}

#[test]
fn row2_body_too_large_declared_and_streamed() {
    let mut f = fixture(ServerConfig {
        http_limits: Limits {
            max_body_bytes: 64,
            ..Limits::default()
        },
        ..ServerConfig::default()
    });
    let q = q(&f);
    let big = "x".repeat(65);
    let resp = post(&mut f, &q, Some("text/plain"), "", &big);
    assert_eq!(
        status_and_body(&resp),
        (413, "Request body too large"),
        "declared length"
    );
    // Streamed (chunked) past the limit: 413 too, even though the content type is wrong (row 2
    // comes before row 3).
    let raw = format!(
        "POST /messages/{q} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n{}\r\n30\r\n{}\r\n0\r\n\r\n",
        "y".repeat(32),
        "z".repeat(48)
    );
    let resp = request(&mut f, &raw);
    assert_eq!(
        status_and_body(&resp),
        (413, "Request body too large"),
        "streamed"
    );
    // Within the limit it reaches the later checks.
    let resp = post(&mut f, &q, Some("application/json"), "", PING);
    assert_eq!(status_and_body(&resp), (202, "Accepted"));
}

#[test]
fn row3_content_type_checked_even_without_protection() {
    let mut f = fixture(ServerConfig::default());
    let q = q(&f);
    for ct in [None, Some("text/plain"), Some("application/jso")] {
        let resp = post(&mut f, &q, ct, "", PING);
        assert_eq!(
            status_and_body(&resp),
            (400, "Invalid Content-Type header"),
            "{ct:?}"
        );
        assert!(
            !resp.to_ascii_lowercase().contains("content-type:"),
            "error bodies carry no content-type"
        );
    }
    for ct in [
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/json",
    ] {
        let resp = post(&mut f, &q, Some(ct), "", PING);
        assert_eq!(status_and_body(&resp), (202, "Accepted"), "{ct}");
    }
}

fn protected() -> ServerConfig {
    ServerConfig {
        security: SecuritySettings::for_bind_host("127.0.0.1").into(),
        ..ServerConfig::default()
    }
}

/// The sans-IO entry point's default (issue 16): a `Server` built from `ServerConfig::default()`
/// checks Host and Origin as a loopback server does; off only when asked, and a wildcard
/// listening address turns it off as the reference's `sse_app(host="0.0.0.0")` does.
#[test]
fn default_config_protects_unless_disabled_or_bound_to_a_wildcard() {
    let evil = "GET /sse HTTP/1.1\r\nHost: evil.example:80\r\n\r\n";
    let mut f = fixture(ServerConfig::default());
    assert_eq!(
        status_and_body(&request(&mut f, evil)),
        (421, "Invalid Host header")
    );
    for config in [
        ServerConfig {
            security: Security::disabled(),
            ..ServerConfig::default()
        },
        ServerConfig {
            local_addr: Some("0.0.0.0:8000".parse().unwrap()),
            ..ServerConfig::default()
        },
    ] {
        let mut f = fixture(config);
        assert!(request(&mut f, evil).starts_with("HTTP/1.1 200 OK\r\n"));
    }
}

#[test]
fn row4_bad_host_is_421_before_session_lookup() {
    let mut f = fixture(protected());
    let raw = format!(
        "POST /messages/?session_id={} HTTP/1.1\r\nHost: evil.com\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{PING}",
        "0".repeat(32),
        PING.len()
    );
    assert_eq!(
        status_and_body(&request(&mut f, &raw)),
        (421, "Invalid Host header")
    );
}

#[test]
fn row5_bad_origin_is_403_and_wildcard_ports_pass() {
    let mut f = fixture(protected());
    let q = q(&f);
    let resp = post(
        &mut f,
        &q,
        Some("application/json"),
        "Origin: http://evil.com\r\n",
        PING,
    );
    assert_eq!(status_and_body(&resp), (403, "Invalid Origin header"));
    let resp = post(
        &mut f,
        &q,
        Some("application/json"),
        "Origin: http://localhost:3000\r\n",
        PING,
    );
    assert_eq!(status_and_body(&resp), (202, "Accepted"));
}

#[test]
fn row6_missing_session_id() {
    let mut f = fixture(ServerConfig::default());
    assert_eq!(
        status_and_body(&post(&mut f, "", Some("application/json"), "", PING)),
        (400, "session_id is required")
    );
    assert_eq!(
        status_and_body(&post(
            &mut f,
            "?other=1",
            Some("application/json"),
            "",
            PING
        )),
        (400, "session_id is required")
    );
}

#[test]
fn row7_invalid_session_id_forms() {
    let mut f = fixture(ServerConfig::default());
    for bad in ["not-a-uuid", "", "1234", "zz000000000000000000000000000000"] {
        let resp = post(
            &mut f,
            &format!("?session_id={bad}"),
            Some("application/json"),
            "",
            PING,
        );
        assert_eq!(
            status_and_body(&resp),
            (400, "Invalid session ID"),
            "{bad:?}"
        );
    }
}

#[test]
fn row8_unknown_session_and_lenient_forms_of_a_live_one() {
    let mut f = fixture(ServerConfig::default());
    let resp = post(
        &mut f,
        &format!("?session_id={}", "0".repeat(32)),
        Some("application/json"),
        "",
        PING,
    );
    assert_eq!(status_and_body(&resp), (404, "Could not find session"));
    let hex = f.session.to_string();
    let dashed = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    for form in [
        hex.to_uppercase(),
        dashed.clone(),
        format!("%7B{dashed}%7D"),
        format!("urn:uuid:{dashed}"),
    ] {
        let resp = post(
            &mut f,
            &format!("?session_id={form}"),
            Some("application/json"),
            "",
            PING,
        );
        assert_eq!(status_and_body(&resp), (202, "Accepted"), "{form}");
    }
    // Repeated parameters: the last one wins.
    let resp = post(
        &mut f,
        &format!("?session_id=bad&session_id={hex}"),
        Some("application/json"),
        "",
        PING,
    );
    assert_eq!(status_and_body(&resp), (202, "Accepted"));
}

#[test]
fn row10_unparseable_bodies_are_400_and_produce_nothing() {
    let mut f = fixture(ServerConfig::default());
    let q = q(&f);
    events(&mut f.server);
    for body in [
        "{not json",
        "\u{feff}{\"jsonrpc\":\"2.0\",\"method\":\"x\"}",
        "[{\"jsonrpc\":\"2.0\",\"method\":\"x\"}]",
        "{}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[1]}",
        // DIVERGENCE 1: ids that are not a string or an integer are refused.
        "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
    ] {
        let resp = post(&mut f, &q, Some("application/json"), "", body);
        assert_eq!(
            status_and_body(&resp),
            (400, "Could not parse message"),
            "{body}"
        );
    }
    assert!(
        events(&mut f.server)
            .iter()
            .all(|e| !matches!(e, ServerEvent::Message { .. })),
        "nothing delivered"
    );
    // Nothing was written on the stream either.
    assert_eq!(drain(&mut f.server, f.stream, f.now), "");
}

#[test]
fn row11_accepted_delivers_the_message_with_its_headers() {
    let mut f = fixture(ServerConfig::default());
    let q = q(&f);
    events(&mut f.server);
    let body = r#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"tools/call","params":{"name":"x"}}"#;
    let resp = post(
        &mut f,
        &q,
        Some("application/json"),
        "Authorization: Bearer t\r\n",
        body,
    );
    assert_eq!(
        resp,
        "HTTP/1.1 202 Accepted\r\ncontent-length: 8\r\n\r\nAccepted"
    );
    let evs = events(&mut f.server);
    let (message, headers) = evs
        .into_iter()
        .find_map(|e| match e {
            ServerEvent::Message {
                message, headers, ..
            } => Some((message, headers)),
            _ => None,
        })
        .expect("message");
    assert_eq!(String::from_utf8(message.to_vec()).unwrap(), body);
    assert_eq!(headers.get_str("authorization"), Some("Bearer t"));
    // Responses and notifications are accepted too.
    for body in [
        r#"{"jsonrpc":"2.0","id":7,"result":{}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    ] {
        assert_eq!(
            status_and_body(&post(&mut f, &q, Some("application/json"), "", body)),
            (202, "Accepted")
        );
    }
}

#[test]
fn keep_alive_connection_carries_several_posts() {
    let mut f = fixture(ServerConfig::default());
    let q = q(&f);
    let one = format!(
        "POST /messages/{q} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{PING}",
        PING.len()
    );
    let resp = request(&mut f, &one.repeat(3));
    assert_eq!(resp.matches("HTTP/1.1 202 Accepted").count(), 3, "{resp}");
}

#[test]
fn routing_redirect_below_mount_unknown_paths_and_sse_methods() {
    let mut f = fixture(ServerConfig::default());
    let q = q(&f);
    let resp = request(
        &mut f,
        &format!("POST /messages{q} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Length: 0\r\n\r\n"),
    );
    assert_eq!(status_and_body(&resp).0, 307);
    assert!(
        resp.contains(&format!("location: http://127.0.0.1:8000/messages/{q}\r\n")),
        "{resp}"
    );
    let resp = post(
        &mut f,
        &format!("x/y{q}"),
        Some("application/json"),
        "",
        PING,
    );
    assert_eq!(status_and_body(&resp), (202, "Accepted"), "below the mount");
    let resp = request(&mut f, "GET /nope HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n");
    assert_eq!(status_and_body(&resp), (404, "Not Found"));
    let resp = request(
        &mut f,
        "DELETE /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n",
    );
    assert_eq!(status_and_body(&resp), (405, "Method Not Allowed"));
    assert!(resp.contains("allow: HEAD, GET\r\n"));
    let before = f.server.session_count();
    let resp = request(&mut f, "HEAD /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n");
    assert!(
        resp.starts_with("HTTP/1.1 200 OK\r\n")
            && resp.ends_with("Transfer-Encoding: chunked\r\n\r\n"),
        "{resp}"
    );
    assert_eq!(f.server.session_count(), before, "HEAD opens no session");
}

#[test]
fn prefix_is_quoted_into_the_endpoint() {
    let mut server = Server::new(
        ServerConfig {
            root_path: "/api v1".into(),
            ..ServerConfig::default()
        },
        Box::new(|| [3; 16]),
    );
    let now = Instant::now();
    let c = server.open_connection(now);
    server.handle_bytes(
        c,
        Bytes::from_static(b"GET /api%20v1/sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"),
        now,
    );
    let out = drain(&mut server, c, now);
    assert!(
        out.contains("data: /api%20v1/messages/?session_id="),
        "{out}"
    );
}

#[test]
fn session_lives_as_long_as_the_get() {
    let mut f = fixture(ServerConfig::default());
    let q = q(&f);
    f.server.handle_close(f.stream);
    assert!(events(&mut f.server)
        .iter()
        .any(|e| matches!(e, ServerEvent::SessionClosed { .. })));
    assert_eq!(f.server.session_count(), 0);
    let resp = post(&mut f, &q, Some("application/json"), "", PING);
    assert_eq!(
        status_and_body(&resp),
        (404, "Could not find session"),
        "POST after disconnect"
    );
    assert_eq!(
        f.server.send_json(f.session, PING.as_bytes()),
        Err(SendError::UnknownSession)
    );
}

#[test]
fn messages_are_one_chunk_each_and_the_queue_is_bounded() {
    let mut f = fixture(ServerConfig {
        max_session_queue_bytes: 1000,
        ..ServerConfig::default()
    });
    let msg = Message::from_slice(br#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hi \u00e9"}}"#).unwrap();
    f.server.send(f.session, &msg).unwrap();
    let out = drain(&mut f.server, f.stream, f.now);
    let json = String::from_utf8(msg.to_vec()).unwrap();
    let event = format!("event: message\r\ndata: {json}\r\n\r\n");
    assert_eq!(out, format!("{:x}\r\n{event}\r\n", event.len()));
    // Fill the queue: refused with QueueFull (nothing dropped), then Writable once drained.
    let big = format!(
        r#"{{"jsonrpc":"2.0","method":"x","params":{{"p":"{}"}}}}"#,
        "a".repeat(600)
    );
    f.server.send_json(f.session, big.as_bytes()).unwrap();
    let err = f.server.send_json(f.session, big.as_bytes()).unwrap_err();
    assert!(
        matches!(err, SendError::QueueFull { limit: 1000, .. }),
        "{err:?}"
    );
    events(&mut f.server);
    drain(&mut f.server, f.stream, f.now);
    assert!(events(&mut f.server)
        .iter()
        .any(|e| matches!(e, ServerEvent::Writable { .. })));
    f.server.send_json(f.session, big.as_bytes()).unwrap();
}

#[test]
fn keep_alive_pings_follow_the_interval() {
    let mut f = fixture(ServerConfig {
        ping_interval: Some(Duration::from_secs(15)),
        ..ServerConfig::default()
    });
    assert_eq!(
        f.server.poll_timeout(),
        Some(f.now + Duration::from_secs(15))
    );
    let wall = UNIX_EPOCH + Duration::from_secs(1_795_480_009);
    let at = f.now + Duration::from_secs(15);
    f.server.handle_timeout(at, wall);
    assert_eq!(
        drain(&mut f.server, f.stream, at),
        "26\r\n: ping - 2026-11-24 00:26:49+00:00\r\n\r\n\r\n"
    );
    assert_eq!(
        f.server.poll_timeout(),
        Some(f.now + Duration::from_secs(30))
    );
}

#[test]
fn shutdown_flushes_then_ends_every_stream() {
    let mut f = fixture(ServerConfig::default());
    f.server.send_json(f.session, PING.as_bytes()).unwrap();
    f.server.shutdown();
    let out = drain(&mut f.server, f.stream, f.now);
    assert!(
        out.contains(PING) && out.ends_with("\r\n0\r\n\r\n"),
        "{out}"
    );
    assert!(f.server.wants_close(f.stream));
    assert_eq!(f.server.session_count(), 0);
    let resp = request(&mut f, "GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n");
    assert_eq!(
        resp, "",
        "connections opened during shutdown are closed at once"
    );
}

#[test]
fn slow_loris_head_is_cut_off_by_the_head_deadline() {
    let mut f = fixture(ServerConfig {
        head_read_timeout: Duration::from_secs(10),
        ..ServerConfig::default()
    });
    let c = f.server.open_connection(f.now);
    f.server.handle_bytes(
        c,
        Bytes::from_static(b"POST /messages/ HTTP/1.1\r\nHo"),
        f.now,
    );
    assert!(f
        .server
        .poll_timeout()
        .is_some_and(|d| d <= f.now + Duration::from_secs(10)));
    f.server
        .handle_timeout(f.now + Duration::from_secs(10), UNIX_EPOCH);
    let resp = drain(&mut f.server, c, f.now + Duration::from_secs(10));
    assert_eq!(status_and_body(&resp), (408, "Request Timeout"));
    assert!(f.server.wants_close(c));
}

#[test]
fn malformed_heads_get_their_status_and_a_close() {
    let mut f = fixture(ServerConfig {
        http_limits: Limits {
            max_head_bytes: 256,
            ..Limits::default()
        },
        ..ServerConfig::default()
    });
    let resp = request(&mut f, "BROKEN\r\n\r\n");
    assert_eq!(status_and_body(&resp).0, 400);
    let resp = request(
        &mut f,
        &format!("GET /sse HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(300)),
    );
    assert_eq!(status_and_body(&resp).0, 431);
    let q = q(&f);
    let resp = request(
        &mut f,
        &format!("POST /messages/{q} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
    );
    assert_eq!(status_and_body(&resp).0, 400, "bad chunk size");
    // The live session is unaffected.
    assert_eq!(f.server.session_count(), 1);
}

#[test]
fn pipelined_requests_whose_answers_are_not_read_are_not_queued_without_end() {
    let bound = 1024;
    let mut f = fixture(ServerConfig {
        max_session_queue_bytes: bound,
        ..ServerConfig::default()
    });
    let conn = f.server.open_connection(f.now);
    let one = "GET /nope HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n";
    f.server
        .handle_bytes(conn, Bytes::from(one.repeat(100)), f.now);
    // Answers stop being produced past the bound; the rest of the input waits.
    let queued = f.server.queued_bytes(conn);
    assert!(
        queued > bound && queued < 2 * bound,
        "{queued} bytes queued"
    );
    assert!(!f.server.wants_read(conn));
    // Taking the answers resumes the requests: all 100 are answered, in order.
    let text = drain(&mut f.server, conn, f.now);
    assert_eq!(text.matches("HTTP/1.1 404 ").count(), 100, "{text}");
    assert!(f.server.wants_read(conn));
    // The same input followed by the end of the stream while answers are backed up: every
    // request is still answered before the connection closes (none is dropped with the rest).
    let conn = f.server.open_connection(f.now);
    f.server
        .handle_bytes(conn, Bytes::from(one.repeat(100)), f.now);
    assert!(!f.server.wants_read(conn));
    f.server.handle_eof(conn, f.now);
    let text = drain(&mut f.server, conn, f.now);
    assert_eq!(text.matches("HTTP/1.1 404 ").count(), 100, "{text}");
    assert!(f.server.wants_close(conn));
    // A driver that keeps feeding a backed-up connection past one request's worth of input
    // gets it closed instead of buffered.
    let conn = f.server.open_connection(f.now);
    f.server
        .handle_bytes(conn, Bytes::from(one.repeat(100)), f.now);
    assert!(!f.server.wants_read(conn));
    let limits = ServerConfig::default().http_limits;
    let flood = Bytes::from(vec![
        b'x';
        limits.max_head_bytes + limits.max_body_bytes + 1
    ]);
    f.server.handle_bytes(conn, flood, f.now);
    drain(&mut f.server, conn, f.now);
    assert!(f.server.wants_close(conn));
}

#[test]
fn requests_resumed_by_taking_backed_up_answers_run_at_that_time() {
    let bound = 1024;
    let mut f = fixture(ServerConfig {
        max_session_queue_bytes: bound,
        ..ServerConfig::default()
    });
    let keep_alive = ServerConfig::default().keep_alive_timeout;
    let conn = f.server.open_connection(f.now);
    let one = "GET /nope HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n";
    f.server
        .handle_bytes(conn, Bytes::from(one.repeat(100)), f.now);
    assert!(!f.server.wants_read(conn));
    // The peer reads its answers an hour later: the requests that resume run then, so the
    // connection's keep-alive deadline counts from then, not from the last `handle_bytes`.
    let later = f.now + Duration::from_secs(3600);
    let text = drain(&mut f.server, conn, later);
    assert_eq!(text.matches("HTTP/1.1 404 ").count(), 100);
    let just_before = later + keep_alive - Duration::from_millis(1);
    f.server
        .handle_timeout(just_before, UNIX_EPOCH + Duration::from_secs(1));
    assert!(
        !f.server.wants_close(conn),
        "closed for idleness {keep_alive:?} too early"
    );
    let past = later + keep_alive + Duration::from_millis(1);
    f.server
        .handle_timeout(past, UNIX_EPOCH + Duration::from_secs(2));
    drain(&mut f.server, conn, past);
    assert!(
        f.server.wants_close(conn),
        "idle past the keep-alive timeout"
    );
}

/// Two users' tokens: `Bearer alice` and `Bearer bob`.
struct Users;

impl mcp_sse_core::transport::Authenticate for Users {
    fn authenticate(
        &self,
        head: &mcp_sse_core::http::RequestHead,
    ) -> Result<mcp_sse_core::transport::Principal, mcp_sse_core::transport::AuthRejection> {
        match head.headers.get_str("authorization") {
            Some("Bearer alice") => Ok(mcp_sse_core::transport::Principal("alice".into())),
            Some("Bearer bob") => Ok(mcp_sse_core::transport::Principal("bob".into())),
            _ => Err(mcp_sse_core::transport::AuthRejection::Unauthenticated),
        }
    }
}

/// Authentication (issue 16): a GET or POST without accepted credentials is `401` with the
/// reference's body and `WWW-Authenticate: Bearer` challenge (with `resource_metadata=` when
/// configured), before any other check of the message endpoint; a session belongs to the
/// principal that opened it, and another principal's POST is row 9's `404 Could not find
/// session`.
#[test]
fn auth_401s_and_row9_session_owner() {
    let config = ServerConfig {
        auth: Some(mcp_sse_core::transport::AuthConfig {
            resource_metadata: Some(
                "http://127.0.0.1:8000/.well-known/oauth-protected-resource".into(),
            ),
            ..mcp_sse_core::transport::AuthConfig::new(Users)
        }),
        ..ServerConfig::default()
    };
    let mut server = Server::new(config, Box::new(|| [9; 16]));
    let now = Instant::now();
    let ask = |server: &mut Server, raw: &str| {
        let c = server.open_connection(now);
        server.handle_bytes(c, Bytes::from(raw.to_string()), now);
        (drain(server, c, now), c)
    };
    let challenge = "www-authenticate: Bearer error=\"invalid_token\", error_description=\"Authentication required\", resource_metadata=\"http://127.0.0.1:8000/.well-known/oauth-protected-resource\"\r\n";
    let body = r#"{"error": "invalid_token", "error_description": "Authentication required"}"#;
    for get in [
        "GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n",
        "GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAuthorization: Bearer mallory\r\n\r\n",
    ] {
        let (resp, _) = ask(&mut server, get);
        assert_eq!(status_and_body(&resp), (401, body), "{resp}");
        assert!(resp.contains(challenge), "{resp}");
        assert!(
            resp.contains("content-type: application/json\r\n"),
            "{resp}"
        );
    }
    let (resp, _) = ask(
        &mut server,
        "GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAuthorization: Bearer alice\r\n\r\n",
    );
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    let session = resp
        .split("session_id=")
        .nth(1)
        .and_then(|r| r.get(..32))
        .expect("the endpoint event")
        .to_string();
    let sid = SessionId::parse_lenient(&session).unwrap();
    assert_eq!(server.principal(sid).map(|p| p.0.as_str()), Some("alice"));
    let post = |auth: &str| {
        format!(
            "POST /messages/?session_id={session} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{PING}",
            PING.len()
        )
    };
    let (resp, _) = ask(&mut server, &post(""));
    assert_eq!(status_and_body(&resp), (401, body));
    // Even a wrong method is answered 401 first: the mount is behind authentication.
    let (resp, _) = ask(&mut server, &post("").replacen("POST", "PUT", 1));
    assert_eq!(status_and_body(&resp).0, 401);
    let (resp, _) = ask(&mut server, &post("Authorization: Bearer bob\r\n"));
    assert_eq!(status_and_body(&resp), (404, "Could not find session"));
    let (resp, _) = ask(&mut server, &post("Authorization: Bearer alice\r\n"));
    assert_eq!(status_and_body(&resp), (202, "Accepted"));
}

/// CORS (issue 16): an allowed origin's preflights of the SSE and message paths are `200 OK`
/// with the allow headers, and every answer to it (the stream's head, a `202`, an error)
/// carries `Access-Control-Allow-Origin`; a disallowed origin's preflight is `400`; without
/// CORS configured nothing changes (the bytes stay the reference's).
#[test]
fn cors_preflights_and_answers() {
    let config = ServerConfig {
        cors: Some(mcp_sse_core::transport::CorsConfig::new([
            "http://127.0.0.1:3000",
        ])),
        ..ServerConfig::default()
    };
    let mut f = fixture(config);
    let preflight = |path: &str, origin: &str| {
        format!("OPTIONS {path} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type, authorization\r\n\r\n")
    };
    for (path, methods) in [
        ("/sse", "GET, HEAD, OPTIONS"),
        ("/messages/?session_id=x", "POST, OPTIONS"),
    ] {
        let resp = request(&mut f, &preflight(path, "http://127.0.0.1:3000"));
        assert_eq!(status_and_body(&resp), (200, "OK"), "{resp}");
        assert!(
            resp.contains("access-control-allow-origin: http://127.0.0.1:3000\r\n"),
            "{resp}"
        );
        assert!(
            resp.contains(&format!("access-control-allow-methods: {methods}\r\n")),
            "{resp}"
        );
        assert!(
            resp.contains("access-control-allow-headers: Content-Type, Authorization"),
            "{resp}"
        );
        assert!(resp.contains("access-control-max-age: 600\r\n"), "{resp}");
        let resp = request(&mut f, &preflight(path, "http://127.0.0.1:9999"));
        assert_eq!(
            status_and_body(&resp),
            (400, "Disallowed CORS origin"),
            "{resp}"
        );
        assert!(!resp.contains("access-control-allow-origin"), "{resp}");
    }
    let q = q(&f);
    let resp = post(
        &mut f,
        &q,
        Some("application/json"),
        "Origin: http://127.0.0.1:3000\r\n",
        PING,
    );
    assert_eq!(status_and_body(&resp), (202, "Accepted"));
    assert!(
        resp.contains("access-control-allow-origin: http://127.0.0.1:3000\r\nvary: Origin\r\n"),
        "{resp}"
    );
    let resp = post(
        &mut f,
        &q,
        Some("text/plain"),
        "Origin: http://127.0.0.1:3000\r\n",
        PING,
    );
    assert_eq!(status_and_body(&resp).0, 400);
    assert!(
        resp.contains("access-control-allow-origin: http://127.0.0.1:3000\r\n"),
        "{resp}"
    );
    let resp = post(
        &mut f,
        &q,
        Some("application/json"),
        "Origin: http://127.0.0.1:9999\r\n",
        PING,
    );
    assert!(!resp.contains("access-control-"), "{resp}");
    let conn = f.server.open_connection(f.now);
    f.server.handle_bytes(
        conn,
        Bytes::from_static(
            b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nOrigin: http://127.0.0.1:3000\r\n\r\n",
        ),
        f.now,
    );
    let head = drain(&mut f.server, conn, f.now);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("access-control-allow-origin: http://127.0.0.1:3000\r\n"),
        "{head}"
    );
    // Not configured: an OPTIONS is the reference's 405, with no CORS header.
    let mut plain = fixture(ServerConfig::default());
    let resp = request(&mut plain, &preflight("/sse", "http://127.0.0.1:3000"));
    assert_eq!(status_and_body(&resp).0, 405);
    assert!(!resp.contains("access-control-"), "{resp}");
}

/// A CORS-allowed origin passes the DNS-rebinding Origin check at the transport itself (a
/// library user configuring `cors` needs no matching `allowed_origins`); the Host check still
/// applies, and other origins are still refused.
#[test]
fn a_cors_allowed_origin_passes_the_origin_check() {
    let mut f = fixture(ServerConfig {
        cors: Some(mcp_sse_core::transport::CorsConfig::new([
            "https://app.example",
        ])),
        ..protected()
    });
    let q = q(&f);
    let resp = post(
        &mut f,
        &q,
        Some("application/json"),
        "Origin: https://app.example\r\n",
        PING,
    );
    assert_eq!(status_and_body(&resp), (202, "Accepted"), "{resp}");
    let resp = post(
        &mut f,
        &q,
        Some("application/json"),
        "Origin: https://evil.example\r\n",
        PING,
    );
    assert_eq!(status_and_body(&resp), (403, "Invalid Origin header"));
    let raw = format!(
        "POST /messages/{q} HTTP/1.1\r\nHost: evil.example\r\nOrigin: https://app.example\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{PING}",
        PING.len()
    );
    assert_eq!(
        status_and_body(&request(&mut f, &raw)),
        (421, "Invalid Host header")
    );
}
