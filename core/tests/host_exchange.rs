//! The transport served through a host HTTP server's exchanges (hyper, axum): the same routing,
//! checks, statuses, bodies and SSE events as on the transport's own HTTP/1.1 connections, with
//! the framing left to the host.

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use mcp_sse_core::http::{Limits, RequestDecoder, RequestEvent};
use mcp_sse_core::jsonrpc::Message;
use mcp_sse_core::transport::{
    ConnectionId, HostBody, HostResponse, Server, ServerConfig, ServerEvent, SessionId,
};

fn server(config: ServerConfig) -> Server {
    let mut n = 0u8;
    Server::new(
        config,
        Box::new(move || {
            n = n.wrapping_add(1);
            [n; 16]
        }),
    )
}

/// Parses `raw` as the host would, and runs it as one exchange.
fn exchange(s: &mut Server, raw: &[u8], root: Option<&str>) -> (ConnectionId, HostResponse) {
    let now = Instant::now();
    let mut d = RequestDecoder::new(Limits {
        // The host's own limit is larger than ours: ours must still apply.
        max_body_bytes: usize::MAX / 2,
        ..Limits::default()
    });
    d.handle_bytes(Bytes::copy_from_slice(raw));
    d.handle_eof();
    let Ok(Some(RequestEvent::Head(head))) = d.poll_event() else {
        panic!("the host parses {raw:?}")
    };
    let id = s.open_exchange(head, root, now);
    loop {
        match d.poll_event() {
            Ok(Some(RequestEvent::Body(b))) => s.handle_exchange_body(id, b, now),
            Ok(Some(RequestEvent::End)) | Ok(None) => break,
            Ok(Some(RequestEvent::Head(_))) => unreachable!("one request"),
            Err(e) => panic!("host parse error {e:?}"),
        }
    }
    s.handle_exchange_end(id, now);
    let response = s.poll_response(id).expect("answered");
    (id, response)
}

/// Runs `raw` on the transport's own connection: status and body of the first answer.
fn over_http1(s: &mut Server, raw: &[u8]) -> (u16, Vec<u8>) {
    let now = Instant::now();
    let c = s.open_connection(now);
    s.handle_bytes(c, Bytes::copy_from_slice(raw), now);
    let mut out = Vec::new();
    while let Some(b) = s.poll_transmit(c, now) {
        out.extend_from_slice(&b);
    }
    s.handle_close(c);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status: u16 = text[9..12].parse().expect("status");
    let (head, body) = text.split_once("\r\n\r\n").expect("head");
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |v| v.parse().expect("length"));
    (status, body.as_bytes()[..len].to_vec())
}

fn events(s: &mut Server) -> Vec<ServerEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn frames(s: &mut Server, id: ConnectionId) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(b) = s.poll_transmit(id, Instant::now()) {
        out.extend_from_slice(&b);
    }
    out
}

#[test]
fn a_stream_under_a_mount_prefix_announces_the_nested_endpoint_and_carries_messages() {
    let mut s = server(ServerConfig::default());
    let (get, resp) = exchange(
        &mut s,
        b"GET /mcp/sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n",
        Some("/mcp"),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, HostBody::Stream);
    assert_eq!(
        resp.headers,
        vec![
            ("cache-control", "no-store".to_string()),
            ("x-accel-buffering", "no".to_string()),
            (
                "content-type",
                "text/event-stream; charset=utf-8".to_string()
            ),
        ]
    );
    let session = events(&mut s)
        .into_iter()
        .find_map(|e| match e {
            ServerEvent::SessionOpened { session, .. } => Some(session),
            _ => None,
        })
        .expect("opened");
    let first = String::from_utf8(frames(&mut s, get)).expect("utf-8");
    assert_eq!(
        first,
        format!("event: endpoint\r\ndata: /mcp/messages/?session_id={session}\r\n\r\n")
    );

    let body = r#"{"jsonrpc":"2.0","id":1,"method":"a"}"#;
    let post = format!(
        "POST /mcp/messages/?session_id={session} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (p, resp) = exchange(&mut s, post.as_bytes(), Some("/mcp"));
    assert_eq!(
        (resp.status, resp.body),
        (202, HostBody::Full("Accepted".into()))
    );
    assert!(
        s.wants_close(p),
        "a whole answer ends the exchange once taken"
    );
    s.handle_close(p);
    assert!(events(&mut s)
        .iter()
        .any(|e| matches!(e, ServerEvent::Message { session: m, .. } if *m == session)));

    let reply = Message::from_slice(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#).expect("json");
    s.send(session, &reply).expect("sent");
    assert_eq!(
        frames(&mut s, get),
        b"event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\r\n\r\n"
    );
    // Keep-alive pings go out as comments on the stream.
    s.handle_timeout(
        Instant::now() + std::time::Duration::from_secs(16),
        SystemTime::UNIX_EPOCH,
    );
    assert!(String::from_utf8(frames(&mut s, get))
        .expect("utf-8")
        .starts_with(": ping - 1970-01-01 00:00:00"));

    // The host's client went away: the session ends.
    s.handle_close(get);
    assert!(events(&mut s)
        .iter()
        .any(|e| matches!(e, ServerEvent::SessionClosed { session: c } if *c == session)));
    assert!(!s.has_session(session));
}

#[test]
fn shutdown_ends_a_host_stream() {
    let mut s = server(ServerConfig::default());
    let (get, _) = exchange(
        &mut s,
        b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n",
        None,
    );
    frames(&mut s, get);
    s.shutdown();
    assert!(s.wants_close(get));
    assert_eq!(s.session_count(), 0);
}

/// Every HTTP-level case a host lets through gets the same status and body as on our own
/// connections (the bad-input matrix's HTTP rows).
#[test]
fn host_exchanges_answer_as_the_transports_own_connections() {
    let config = || ServerConfig {
        http_limits: Limits {
            max_body_bytes: 64,
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    let mut own = server(config());
    let mut host = server(config());
    // A session on each, with the same id (same random sequence).
    let get = b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n";
    let c = own.open_connection(Instant::now());
    own.handle_bytes(c, Bytes::from_static(get), Instant::now());
    let (_g, _) = exchange(&mut host, get, None);
    let session = SessionId::from_random_bytes([1; 16]);
    assert!(own.has_session(session) && host.has_session(session));

    let post = |target: &str, headers: &str, body: &str| {
        format!(
            "POST {target} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let ok_target = format!("/messages/?session_id={session}");
    let json = "application/json";
    let cases: Vec<(String, u16)> = vec![
        (
            post(
                &ok_target,
                &format!("Content-Type: {json}\r\n"),
                "{\"jsonrpc\":\"2.0\",\"method\":\"n\"}",
            ),
            202,
        ),
        (
            post(&ok_target, &format!("Content-Type: {json}\r\n"), "not json"),
            400,
        ),
        (post(&ok_target, "Content-Type: text/plain\r\n", "{}"), 400),
        (post(&ok_target, "", "{}"), 400),
        (
            post("/messages/", &format!("Content-Type: {json}\r\n"), "{}"),
            400,
        ),
        (
            post(
                "/messages/?session_id=zz",
                &format!("Content-Type: {json}\r\n"),
                "{}",
            ),
            400,
        ),
        (
            post(
                "/messages/?session_id=00000000000000000000000000000000",
                &format!("Content-Type: {json}\r\n"),
                "{}",
            ),
            404,
        ),
        (
            post(
                &ok_target,
                &format!("Content-Type: {json}\r\n"),
                &"x".repeat(65),
            ),
            413,
        ),
        (post("/sse", "", &"x".repeat(65)), 405),
        (post("/elsewhere", "", ""), 404),
        (
            post("/messages", &format!("Content-Type: {json}\r\n"), ""),
            307,
        ),
        (
            "GET /messages/ HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n".into(),
            405,
        ),
        (
            "GET /sse HTTP/1.1\r\nHost: evil.example:80\r\n\r\n".into(),
            421,
        ),
        (
            "GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nOrigin: http://evil.example\r\n\r\n"
                .into(),
            403,
        ),
        (
            post(
                &ok_target,
                &format!("Content-Type: {json}\r\nOrigin: http://evil.example\r\n"),
                "{}",
            ),
            403,
        ),
    ];
    for (raw, status) in cases {
        let (own_status, own_body) = over_http1(&mut own, raw.as_bytes());
        let (x, resp) = exchange(&mut host, raw.as_bytes(), None);
        host.handle_close(x);
        // Every refusal is reported for the logs, with its status and reason.
        let rejected: Vec<(u16, &str)> = events(&mut host)
            .into_iter()
            .filter_map(|e| match e {
                ServerEvent::Rejected { status, reason, .. } => Some((status, reason)),
                _ => None,
            })
            .collect();
        if status >= 400 {
            assert_eq!(rejected.len(), 1, "{raw:?}: {rejected:?}");
            assert_eq!(rejected[0].0, status, "{raw:?}");
        } else {
            assert!(rejected.is_empty(), "{raw:?}: {rejected:?}");
        }
        let HostBody::Full(host_body) = resp.body else {
            panic!("a whole answer for {raw:?}")
        };
        assert_eq!(own_status, status, "{raw:?}");
        assert_eq!(
            (resp.status, host_body.to_vec()),
            (own_status, own_body),
            "{raw:?}"
        );
    }
}
