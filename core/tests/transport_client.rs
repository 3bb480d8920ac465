//! The client machine against scripted servers: connecting, the endpoint rules, POST outcomes,
//! parallel POSTs, stream errors and timers.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_sse_core::jsonrpc::Message;
use mcp_sse_core::transport::{Client, ClientConfig, ClientConnectionId, ClientError, ClientEvent};

const OK_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n";

fn chunk(s: &str) -> String {
    format!("{:x}\r\n{s}\r\n", s.len())
}

fn endpoint(data: &str) -> String {
    chunk(&format!("event: endpoint\r\ndata: {data}\r\n\r\n"))
}

struct Run {
    c: Client,
    now: Instant,
}

impl Run {
    fn new(url: &str, config: ClientConfig) -> Self {
        let now = Instant::now();
        let mut c = Client::new(url, config, now).unwrap();
        assert_eq!(c.poll_event(), Some(ClientEvent::Open(Client::STREAM)));
        c.handle_connected(Client::STREAM, now);
        let get = c.poll_transmit(Client::STREAM).unwrap();
        assert!(get.starts_with(b"GET "));
        Run { c, now }
    }

    fn feed(&mut self, conn: ClientConnectionId, s: &str) -> Vec<ClientEvent> {
        self.c
            .handle_bytes(conn, Bytes::from(s.to_string()), self.now);
        self.events()
    }

    fn events(&mut self) -> Vec<ClientEvent> {
        std::iter::from_fn(|| self.c.poll_event())
            .filter(|e| !matches!(e, ClientEvent::Transmit(_)))
            .collect()
    }

    fn ready(url: &str, config: ClientConfig) -> Self {
        let mut r = Run::new(url, config);
        let evs = r.feed(
            Client::STREAM,
            &format!("{OK_HEAD}{}", endpoint("/messages/?session_id=abc")),
        );
        assert!(
            matches!(evs.as_slice(), [ClientEvent::Ready { .. }]),
            "{evs:?}"
        );
        r
    }
}

fn closed_with(evs: &[ClientEvent]) -> Option<Option<ClientError>> {
    evs.iter().find_map(|e| match e {
        ClientEvent::Closed(err) => Some(err.clone()),
        _ => None,
    })
}

fn ping(id: u64) -> Message {
    Message::from_slice(format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#).as_bytes())
        .unwrap()
}

#[test]
fn endpoint_resolves_relative_to_the_sse_url() {
    for (data, expected) in [
        (
            "/messages/?session_id=abc",
            "http://h:1/messages/?session_id=abc",
        ),
        (
            "messages?sessionId=xyz",
            "http://h:1/mcp/messages?sessionId=xyz",
        ),
        (
            "http://h:1/other?session_id=q",
            "http://h:1/other?session_id=q",
        ),
    ] {
        let mut r = Run::new("http://h:1/mcp/sse", ClientConfig::default());
        let evs = r.feed(Client::STREAM, &format!("{OK_HEAD}{}", endpoint(data)));
        match evs.as_slice() {
            [ClientEvent::Ready {
                endpoint,
                session_id,
            }] => {
                assert_eq!(endpoint, expected);
                assert!(session_id.is_some());
            }
            other => panic!("{data}: {other:?}"),
        }
    }
}

#[test]
fn cross_origin_endpoint_fails_at_once() {
    // DIVERGENCE 2: the reference client hangs here.
    for data in [
        "http://evil.com/messages/",
        "http://localhost:1/messages/",
        "//other:1/m",
    ] {
        let mut r = Run::new("http://127.0.0.1:1/sse", ClientConfig::default());
        let evs = r.feed(Client::STREAM, &format!("{OK_HEAD}{}", endpoint(data)));
        assert!(
            matches!(
                closed_with(&evs),
                Some(Some(ClientError::CrossOriginEndpoint(_)))
            ),
            "{data}: {evs:?}"
        );
    }
}

#[test]
fn events_before_the_endpoint_are_skipped() {
    let mut r = Run::new("http://h/sse", ClientConfig::default());
    let pre =
        chunk(": hello\r\n\r\nevent: other\r\ndata: x\r\n\r\nevent: message\r\ndata: {}\r\n\r\n");
    let evs = r.feed(
        Client::STREAM,
        &format!("{OK_HEAD}{pre}{}", endpoint("/m?session_id=1")),
    );
    assert!(
        matches!(evs.as_slice(), [ClientEvent::Ready { .. }]),
        "{evs:?}"
    );
}

#[test]
fn get_failures_are_typed() {
    let mut r = Run::new("http://h/sse", ClientConfig::default());
    let evs = r.feed(
        Client::STREAM,
        "HTTP/1.1 401 Unauthorized\r\ncontent-length: 4\r\n\r\nnope",
    );
    // A 401 is typed (issue 16): it says to send credentials.
    assert_eq!(
        closed_with(&evs),
        Some(Some(ClientError::Unauthorized { challenge: None }))
    );
    let mut r = Run::new("http://h/sse", ClientConfig::default());
    let evs = r.feed(
        Client::STREAM,
        "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\nnope",
    );
    assert_eq!(
        closed_with(&evs),
        Some(Some(ClientError::HttpStatus {
            status: 500,
            body: "nope".into()
        }))
    );
    let mut r = Run::new("http://h/sse", ClientConfig::default());
    let evs = r.feed(
        Client::STREAM,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
    );
    assert!(
        matches!(
            closed_with(&evs),
            Some(Some(ClientError::NotEventStream(_)))
        ),
        "{evs:?}"
    );
    let mut r = Run::new("http://h/sse", ClientConfig::default());
    r.feed(Client::STREAM, OK_HEAD);
    r.c.handle_eof(Client::STREAM, r.now);
    assert_eq!(
        closed_with(&r.events()),
        Some(Some(ClientError::EndedBeforeEndpoint))
    );
    // https is supported since issue 16 (see https_urls_ask_the_driver_for_tls); other schemes
    // are not.
    assert!(Client::new("ws://h/sse", ClientConfig::default(), Instant::now()).is_err());
    assert!(Client::new("not a url", ClientConfig::default(), Instant::now()).is_err());
}

#[test]
fn a_second_endpoint_event_ends_the_transport() {
    let mut r = Run::ready("http://h/sse", ClientConfig::default());
    let evs = r.feed(Client::STREAM, &endpoint("/messages/?session_id=other"));
    assert_eq!(
        closed_with(&evs),
        Some(Some(ClientError::DuplicateEndpoint))
    );
}

#[test]
fn messages_bad_json_and_empty_data() {
    let mut r = Run::ready("http://h/sse", ClientConfig::default());
    let body = chunk("event: message\r\ndata: {bad\r\n\r\nevent: message\r\ndata: \r\n\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\r\n\r\n");
    let evs = r.feed(Client::STREAM, &body);
    assert!(
        matches!(
            evs.as_slice(),
            [
                ClientEvent::InvalidMessage(ClientError::InvalidMessage(_)),
                ClientEvent::Message(_)
            ]
        ),
        "{evs:?}"
    );
}

#[test]
fn clean_stream_end_and_cut_stream() {
    let mut r = Run::ready("http://h/sse", ClientConfig::default());
    let evs = r.feed(Client::STREAM, "0\r\n\r\n");
    assert_eq!(closed_with(&evs), Some(None), "final chunk = clean end");
    let mut r = Run::ready("http://h/sse", ClientConfig::default());
    r.feed(Client::STREAM, "2a\r\nevent: mess");
    r.c.handle_eof(Client::STREAM, r.now);
    assert_eq!(closed_with(&r.events()), Some(Some(ClientError::StreamCut)));
}

#[test]
fn a_stream_ending_inside_an_event_is_cut_not_clean() {
    // Properly framed ends (final chunk) right after a partial event or line.
    for partial in [
        "event: message\r\ndata: {\"jsonrpc\"",
        "event: mess",
        "data: x\r\n",
    ] {
        let mut r = Run::ready("http://h/sse", ClientConfig::default());
        r.feed(Client::STREAM, &chunk(partial));
        let evs = r.feed(Client::STREAM, "0\r\n\r\n");
        assert_eq!(
            closed_with(&evs),
            Some(Some(ClientError::StreamCut)),
            "{partial:?}"
        );
    }
    // A close-delimited stream: EOF after a complete event is a clean end, inside one a cut.
    for (tail, expected) in [
        (": ping\r\n\r\n", None),
        ("event: message\r\ndata: {", Some(ClientError::StreamCut)),
    ] {
        let mut r = Run::new("http://h/sse", ClientConfig::default());
        r.feed(
            Client::STREAM,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\nevent: endpoint\r\ndata: /messages/?session_id=abc\r\n\r\n",
        );
        r.feed(Client::STREAM, tail);
        r.c.handle_eof(Client::STREAM, r.now);
        assert_eq!(closed_with(&r.events()), Some(expected), "{tail:?}");
    }
}

#[test]
fn endpoint_and_read_timeouts() {
    let cfg = ClientConfig {
        endpoint_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    };
    let mut r = Run::new("http://h/sse", cfg.clone());
    assert_eq!(r.c.poll_timeout(), Some(r.now + Duration::from_secs(2)));
    r.c.handle_timeout(r.now + Duration::from_secs(2));
    assert_eq!(
        closed_with(&r.events()),
        Some(Some(ClientError::EndpointTimeout(Duration::from_secs(2))))
    );

    let mut r = Run::ready("http://h/sse", cfg);
    // Any byte (a keep-alive comment) pushes the read deadline.
    let later = r.now + Duration::from_secs(4);
    r.c.handle_bytes(Client::STREAM, Bytes::from(chunk(": ping\r\n\r\n")), later);
    r.c.handle_timeout(r.now + Duration::from_secs(5));
    assert!(closed_with(&r.events()).is_none());
    assert_eq!(r.c.poll_timeout(), Some(later + Duration::from_secs(5)));
    r.c.handle_timeout(later + Duration::from_secs(5));
    assert_eq!(
        closed_with(&r.events()),
        Some(Some(ClientError::ReadTimeout(Duration::from_secs(5))))
    );
}

fn open_posts(evs: &[ClientEvent]) -> Vec<ClientConnectionId> {
    evs.iter()
        .filter_map(|e| match e {
            ClientEvent::Open(c) => Some(*c),
            _ => None,
        })
        .collect()
}

#[test]
fn posts_run_in_parallel_up_to_the_bound_and_each_fails_alone() {
    // DIVERGENCES 4 and 5.
    let mut r = Run::ready(
        "http://h:9/sse",
        ClientConfig {
            max_in_flight_posts: 2,
            ..ClientConfig::default()
        },
    );
    let tokens: Vec<_> = (1..=3).map(|i| r.c.send(&ping(i)).unwrap()).collect();
    let conns = open_posts(&r.events());
    assert_eq!(conns.len(), 2, "bounded by max_in_flight_posts");
    for c in &conns {
        r.c.handle_connected(*c, r.now);
    }
    r.events();
    let mut sent = Vec::new();
    for c in &conns {
        let mut bytes = Vec::new();
        while let Some(b) = r.c.poll_transmit(*c) {
            bytes.extend_from_slice(&b);
        }
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("POST /messages/?session_id=abc HTTP/1.1\r\nHost: h:9\r\nContent-Type: application/json\r\n"), "{text}");
        sent.push(text);
    }
    // First POST fails with 500: exactly its message fails, with status and body.
    let evs = r.feed(
        conns[0],
        "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\noops",
    );
    assert!(
        evs.contains(&ClientEvent::SendFailed(
            tokens[0],
            ClientError::HttpStatus {
                status: 500,
                body: "oops".into()
            }
        )),
        "{evs:?}"
    );
    assert!(closed_with(&evs).is_none(), "the transport keeps working");
    // The freed connection carries the third message.
    let mut third = Vec::new();
    while let Some(b) = r.c.poll_transmit(conns[0]) {
        third.extend_from_slice(&b);
    }
    assert!(String::from_utf8_lossy(&third).contains("\"id\":3"));
    let evs = r.feed(
        conns[1],
        "HTTP/1.1 202 Accepted\r\ncontent-length: 8\r\n\r\nAccepted",
    );
    assert_eq!(evs, vec![ClientEvent::Sent(tokens[1])]);
    let evs = r.feed(
        conns[0],
        "HTTP/1.1 202 Accepted\r\ncontent-length: 8\r\n\r\nAccepted",
    );
    assert_eq!(evs, vec![ClientEvent::Sent(tokens[2])]);
}

#[test]
fn a_post_reply_closing_the_connection_is_not_reused() {
    // `Connection` is a token list: `keep-alive, close` closes (the same rule as the server's).
    for connection in ["close", "keep-alive, close", "Close"] {
        let mut r = Run::ready("http://h/sse", ClientConfig::default());
        let t = r.c.send(&ping(1)).unwrap();
        let conns = open_posts(&r.events());
        r.c.handle_connected(conns[0], r.now);
        r.events();
        while r.c.poll_transmit(conns[0]).is_some() {}
        let evs = r.feed(
            conns[0],
            &format!("HTTP/1.1 202 Accepted\r\nconnection: {connection}\r\ncontent-length: 8\r\n\r\nAccepted"),
        );
        assert!(evs.contains(&ClientEvent::Sent(t)), "{evs:?}");
        assert!(
            evs.contains(&ClientEvent::Close(conns[0])),
            "{connection}: {evs:?}"
        );
    }
}

#[test]
fn a_post_reply_body_over_the_bound_decides_by_its_status_and_closes_the_connection() {
    // Declared (Content-Length) and streamed (chunked) bodies over `max_error_body_bytes`: a 2xx
    // message is sent, any other status fails it with the body's first bytes; the connection,
    // whose remaining bytes are not read, closes; the transport keeps working.
    let cap = 16;
    let big = "x".repeat(40);
    let declared = |status: &str| format!("HTTP/1.1 {status}\r\ncontent-length: 40\r\n\r\n{big}");
    // Four chunks of 10 bytes: the first fits under the bound, the second crosses it.
    let streamed = |status: &str| {
        let chunks = "a\r\nxxxxxxxxxx\r\n".repeat(4);
        format!("HTTP/1.1 {status}\r\ntransfer-encoding: chunked\r\n\r\n{chunks}0\r\n\r\n")
    };
    for (reply, ok) in [
        (declared("200 OK"), true),
        (streamed("202 Accepted"), true),
        (declared("500 Internal Server Error"), false),
        (streamed("503 Service Unavailable"), false),
    ] {
        let mut r = Run::ready(
            "http://h/sse",
            ClientConfig {
                max_error_body_bytes: cap,
                ..ClientConfig::default()
            },
        );
        let t = r.c.send(&ping(1)).unwrap();
        let conns = open_posts(&r.events());
        r.c.handle_connected(conns[0], r.now);
        r.events();
        while r.c.poll_transmit(conns[0]).is_some() {}
        let evs = r.feed(conns[0], &reply);
        if ok {
            assert!(evs.contains(&ClientEvent::Sent(t)), "{reply}: {evs:?}");
        } else {
            let status = reply[9..12].parse().unwrap();
            let body = if reply.contains("chunked") {
                // The chunks that fit under the bound: a chunk that would cross it is refused at
                // its size line.
                "x".repeat(10)
            } else {
                // A declared length over the bound is refused before any body byte.
                String::new()
            };
            assert!(
                evs.contains(&ClientEvent::SendFailed(
                    t,
                    ClientError::HttpStatus { status, body }
                )),
                "{reply}: {evs:?}"
            );
        }
        assert!(
            evs.contains(&ClientEvent::Close(conns[0])),
            "{reply}: {evs:?}"
        );
        assert!(
            closed_with(&evs).is_none(),
            "{reply}: the transport keeps working"
        );
        // The next message gets a new connection.
        r.c.send(&ping(2)).unwrap();
        assert_eq!(open_posts(&r.events()).len(), 1, "{reply}");
    }
}

#[test]
fn a_404_ends_the_connection() {
    let mut r = Run::ready("http://h/sse", ClientConfig::default());
    let t = r.c.send(&ping(1)).unwrap();
    let conn = open_posts(&r.events())[0];
    r.c.handle_connected(conn, r.now);
    r.events();
    let evs = r.feed(
        conn,
        "HTTP/1.1 404 Not Found\r\ncontent-length: 22\r\n\r\nCould not find session",
    );
    assert!(evs.contains(&ClientEvent::SendFailed(t, ClientError::SessionGone)));
    assert_eq!(closed_with(&evs), Some(Some(ClientError::SessionGone)));
    assert_eq!(r.c.send(&ping(2)), Err(ClientError::Closed));
}

#[test]
fn a_post_connection_failure_fails_only_its_message() {
    let mut r = Run::ready("http://h/sse", ClientConfig::default());
    let t = r.c.send(&ping(1)).unwrap();
    let conn = open_posts(&r.events())[0];
    r.c.handle_connect_failed(conn, "refused");
    let evs = r.events();
    assert!(
        evs.contains(&ClientEvent::SendFailed(
            t,
            ClientError::Connection("h:80: refused".into())
        )),
        "{evs:?}"
    );
    assert!(closed_with(&evs).is_none());
}

#[test]
fn messages_sent_before_the_endpoint_wait_for_it() {
    let mut r = Run::new("http://h/sse", ClientConfig::default());
    r.c.send(&ping(1)).unwrap();
    assert!(open_posts(&r.events()).is_empty());
    let evs = r.feed(
        Client::STREAM,
        &format!("{OK_HEAD}{}", endpoint("/m?session_id=1")),
    );
    assert_eq!(open_posts(&evs).len(), 1);
}

#[test]
fn close_fails_what_is_pending() {
    let mut r = Run::ready("http://h/sse", ClientConfig::default());
    let t = r.c.send(&ping(1)).unwrap();
    r.c.close();
    let evs = r.events();
    assert!(evs.contains(&ClientEvent::SendFailed(t, ClientError::Closed)));
    assert!(evs.contains(&ClientEvent::Close(Client::STREAM)));
    assert_eq!(closed_with(&evs), Some(None));
}

#[test]
fn endless_data_without_a_newline_hits_the_line_limit() {
    let cfg = ClientConfig {
        sse_limits: mcp_sse_core::sse::DecoderLimits {
            max_line_bytes: 1024,
            max_event_bytes: 4096,
        },
        ..ClientConfig::default()
    };
    let mut r = Run::ready("http://h/sse", cfg);
    let mut closed = None;
    for _ in 0..100 {
        let evs = r.feed(Client::STREAM, &chunk(&"x".repeat(100)));
        if let Some(c) = closed_with(&evs) {
            closed = Some(c);
            break;
        }
    }
    assert!(
        matches!(
            closed,
            Some(Some(ClientError::Sse(
                mcp_sse_core::sse::DecodeError::LineTooLong { limit: 1024 }
            )))
        ),
        "{closed:?}"
    );
}

#[test]
fn server_closing_mid_chunk_or_mid_head_is_a_typed_error() {
    let mut r = Run::ready("http://h/sse", ClientConfig::default());
    r.feed(Client::STREAM, "40\r\nevent: message\r\ndata: {\"js");
    r.c.handle_eof(Client::STREAM, r.now);
    assert_eq!(closed_with(&r.events()), Some(Some(ClientError::StreamCut)));
    let mut r = Run::new("http://h/sse", ClientConfig::default());
    r.feed(Client::STREAM, "HTTP/1.1 200 OK\r\ncontent-ty");
    r.c.handle_eof(Client::STREAM, r.now);
    assert_eq!(
        closed_with(&r.events()),
        Some(Some(ClientError::EndedBeforeEndpoint))
    );
}

#[test]
fn notifications_are_ordering_barriers() {
    let mut r = Run::ready("http://h/sse", ClientConfig::default());
    let note = Message::from_slice(
        br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
    )
    .unwrap();
    let t1 = r.c.send(&ping(1)).unwrap();
    let t2 = r.c.send(&note).unwrap();
    let t3 = r.c.send(&ping(3)).unwrap();
    let conns = open_posts(&r.events());
    for c in &conns {
        r.c.handle_connected(*c, r.now);
    }
    r.events();
    let body = |r: &mut Run, c: ClientConnectionId| {
        let mut b = Vec::new();
        while let Some(x) = r.c.poll_transmit(c) {
            b.extend_from_slice(&x);
        }
        String::from_utf8(b).unwrap()
    };
    // Only the request is out: the notification waits for it, and the later request waits for
    // the notification.
    let sent: Vec<String> = conns.iter().map(|c| body(&mut r, *c)).collect();
    assert_eq!(sent.iter().filter(|s| !s.is_empty()).count(), 1, "{sent:?}");
    let first = conns[sent.iter().position(|s| s.contains("\"id\":1")).unwrap()];
    let ok = "HTTP/1.1 202 Accepted\r\ncontent-length: 8\r\n\r\nAccepted";
    assert_eq!(r.feed(first, ok), vec![ClientEvent::Sent(t1)]);
    let sent: Vec<String> = conns.iter().map(|c| body(&mut r, *c)).collect();
    assert!(
        sent.iter().any(|s| s.contains("notifications/cancelled"))
            && !sent.iter().any(|s| s.contains("\"id\":3")),
        "{sent:?}"
    );
    let second = conns[sent
        .iter()
        .position(|s| s.contains("notifications/cancelled"))
        .unwrap()];
    assert_eq!(r.feed(second, ok), vec![ClientEvent::Sent(t2)]);
    let sent: Vec<String> = conns.iter().map(|c| body(&mut r, *c)).collect();
    let third = conns[sent.iter().position(|s| s.contains("\"id\":3")).unwrap()];
    assert_eq!(r.feed(third, ok), vec![ClientEvent::Sent(t3)]);
}

/// Issue 16, "errors that say what to do": each failure a new user meets when connecting names
/// its cause and the fix.
#[test]
fn connect_failures_say_what_to_do() {
    // A Streamable HTTP endpoint answers a GET without a session with a JSON-RPC error.
    let mut r = Run::new("http://h:9/mcp", ClientConfig::default());
    let body = r#"{"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Bad Request: Missing session ID"}}"#;
    let evs = r.feed(
        Client::STREAM,
        &format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    let Some(Some(e)) = closed_with(&evs) else {
        panic!("{evs:?}")
    };
    assert!(matches!(
        e,
        ClientError::StreamableHttpEndpoint { status: 400, .. }
    ));
    let text = e.to_string();
    assert!(text.contains("Streamable HTTP"), "{text}");
    assert!(text.contains("legacy HTTP+SSE"), "{text}");
    assert!(text.contains("Missing session ID"), "{text}");

    // A wrong path: the hint names /sse on the same origin.
    let mut r = Run::new("http://h:9/nope?x=1", ClientConfig::default());
    let evs = r.feed(
        Client::STREAM,
        "HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nNot Found",
    );
    let Some(Some(e)) = closed_with(&evs) else {
        panic!("{evs:?}")
    };
    assert_eq!(
        e.to_string(),
        "HTTP 404 Not Found at http://h:9/nope?x=1: no SSE endpoint there; legacy MCP SSE servers usually serve it at /sse (e.g. http://h:9/sse)"
    );

    // A web page as an error: its title, not its markup.
    let page = "<!DOCTYPE html>\n<html>\n<head>\n<title>502 Bad Gateway</title>\n</head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n";
    let mut r = Run::new("http://h:9/sse", ClientConfig::default());
    let evs = r.feed(
        Client::STREAM,
        &format!(
            "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{page}",
            page.len()
        ),
    );
    let Some(Some(e)) = closed_with(&evs) else {
        panic!("{evs:?}")
    };
    assert_eq!(
        e.to_string(),
        "HTTP 502: an HTML page titled \"502 Bad Gateway\", not an MCP SSE endpoint"
    );

    // A web page as a success.
    let mut r = Run::new("http://h:9/", ClientConfig::default());
    let evs = r.feed(
        Client::STREAM,
        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: 6\r\n\r\n<html>",
    );
    let Some(Some(e)) = closed_with(&evs) else {
        panic!("{evs:?}")
    };
    assert!(e.to_string().contains("usually ends in /sse"), "{e}");

    // A refused connection names the address.
    let now = Instant::now();
    let mut c = Client::new("http://h:9/sse", ClientConfig::default(), now).unwrap();
    c.handle_connect_failed(Client::STREAM, "Connection refused (os error 111)");
    let evs: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(
        closed_with(&evs),
        Some(Some(ClientError::Connection(
            "h:9: Connection refused (os error 111)".into()
        )))
    );
}

/// Connecting has its own bound: a server that accepts and never answers fails after
/// `connect_timeout`, not after the endpoint or read timeouts; a head that arrives in time
/// hands over to `endpoint_timeout`.
#[test]
fn connecting_is_bounded_by_connect_timeout() {
    let config = ClientConfig {
        connect_timeout: Duration::from_secs(2),
        endpoint_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    };
    let mut r = Run::new("http://h/sse", config.clone());
    assert_eq!(r.c.poll_timeout(), Some(r.now + Duration::from_secs(2)));
    r.c.handle_timeout(r.now + Duration::from_secs(2));
    assert_eq!(
        closed_with(&r.events()),
        Some(Some(ClientError::ConnectTimeout {
            address: "h:80".into(),
            after: Duration::from_secs(2)
        }))
    );
    let mut r = Run::new("http://h/sse", config);
    r.feed(Client::STREAM, OK_HEAD);
    assert_eq!(r.c.poll_timeout(), Some(r.now + Duration::from_secs(5)));
    r.c.handle_timeout(r.now + Duration::from_secs(5));
    assert_eq!(
        closed_with(&r.events()),
        Some(Some(ClientError::EndpointTimeout(Duration::from_secs(5))))
    );
}

/// `https://` URLs (issue 16): the driver is told to wrap the connections in TLS for the host,
/// the port defaults to 443, and the Host header carries no default port.
#[test]
fn https_urls_ask_the_driver_for_tls() {
    let now = Instant::now();
    let c = Client::new("https://example.com/sse", ClientConfig::default(), now).unwrap();
    assert_eq!(c.tls_server_name().as_deref(), Some("example.com"));
    assert_eq!(c.server_address(), ("example.com".to_string(), 443));
    assert_eq!(c.address(), "example.com:443");
    let mut r = Run::new("https://[::1]:8443/sse", ClientConfig::default());
    assert_eq!(r.c.tls_server_name().as_deref(), Some("::1"));
    let _ = r.events();
    let plain = Client::new("http://example.com/sse", ClientConfig::default(), now).unwrap();
    assert_eq!(plain.tls_server_name(), None);
    let mut c = Client::new("https://example.com/sse", ClientConfig::default(), now).unwrap();
    c.handle_connected(Client::STREAM, now);
    let get = c.poll_transmit(Client::STREAM).unwrap();
    assert!(
        get.starts_with(b"GET /sse HTTP/1.1\r\nHost: example.com\r\n"),
        "{get:?}"
    );
    c.handle_tls_failed(Client::STREAM, mcp_sse_core::transport::TlsFailure::NotTls);
    let evs: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
    assert!(
        evs.iter()
            .any(|e| matches!(e, ClientEvent::Closed(Some(ClientError::Tls { .. })))),
        "{evs:?}"
    );
    assert!(Client::new("ftp://example.com/sse", ClientConfig::default(), now).is_err());
}

/// A 401 carries the server's challenge, on the GET and on a POST (a token that expired
/// mid-session fails exactly the request it carried).
#[test]
fn unauthorized_carries_the_challenge() {
    let challenge = r#"Bearer error="invalid_token", error_description="Authentication required""#;
    let mut r = Run::new("http://h/sse", ClientConfig::default());
    let evs = r.feed(
        Client::STREAM,
        &format!("HTTP/1.1 401 Unauthorized\r\nwww-authenticate: {challenge}\r\ncontent-length: 2\r\n\r\n{{}}"),
    );
    let Some(Some(e)) = closed_with(&evs) else {
        panic!("{evs:?}")
    };
    assert_eq!(
        e,
        ClientError::Unauthorized {
            challenge: Some(challenge.into())
        }
    );
    assert!(e.to_string().contains("bearer token"), "{e}");
    let mut r = Run::ready("http://h/sse", ClientConfig::default());
    let t = r.c.send(&ping(1)).unwrap();
    let conn = open_posts(&r.events())[0];
    r.c.handle_connected(conn, r.now);
    r.events();
    while r.c.poll_transmit(conn).is_some() {}
    let evs = r.feed(
        conn,
        &format!("HTTP/1.1 401 Unauthorized\r\nwww-authenticate: {challenge}\r\ncontent-length: 0\r\n\r\n"),
    );
    assert!(
        evs.contains(&ClientEvent::SendFailed(
            t,
            ClientError::Unauthorized {
                challenge: Some(challenge.into())
            }
        )),
        "{evs:?}"
    );
    assert!(closed_with(&evs).is_none(), "the transport goes on");
}

fn redirect(status: u16, location: &str) -> String {
    format!("HTTP/1.1 {status} Moved\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n")
}

/// Redirects of the GET (issue 16): followed on the same origin, on a fresh connection, up to
/// `max_redirects`; another origin, a move to https and a loop each end with a typed error
/// that says what to do.
#[test]
fn get_redirects_same_origin_only_and_bounded() {
    let mut r = Run::new("http://h:9/sse", ClientConfig::default());
    let evs = r.feed(Client::STREAM, &redirect(307, "/sse/"));
    let new = match evs.as_slice() {
        [ClientEvent::Close(old), ClientEvent::Open(new)] if *old == Client::STREAM => *new,
        other => panic!("{other:?}"),
    };
    assert_ne!(new, Client::STREAM);
    // Late bytes of the old connection are ignored.
    r.c.handle_bytes(Client::STREAM, Bytes::from_static(b"garbage"), r.now);
    r.c.handle_connected(new, r.now);
    let get = r.c.poll_transmit(new).unwrap();
    assert!(
        get.starts_with(b"GET /sse/ HTTP/1.1\r\nHost: h:9\r\n"),
        "{get:?}"
    );
    let evs = r.feed(
        new,
        &format!("{OK_HEAD}{}", endpoint("/messages/?session_id=abc")),
    );
    assert!(
        evs.iter().any(|e| matches!(e, ClientEvent::Ready { endpoint, .. } if endpoint == "http://h:9/messages/?session_id=abc")),
        "{evs:?}"
    );

    let refused = |from: &str, to: &str| {
        let mut r = Run::new(from, ClientConfig::default());
        let evs = r.feed(Client::STREAM, &redirect(302, to));
        match closed_with(&evs) {
            Some(Some(e @ ClientError::Redirect { .. })) => e.to_string(),
            other => panic!("{other:?}"),
        }
    };
    assert!(refused("http://h:9/sse", "http://other:9/sse").contains("origin"));
    let https = refused("http://h/sse", "https://h/sse");
    assert!(
        https.contains("connect to https://h/sse instead"),
        "{https}"
    );

    let config = ClientConfig {
        max_redirects: 2,
        ..ClientConfig::default()
    };
    let mut r = Run::new("http://h/sse", config);
    let mut conn = Client::STREAM;
    for _ in 0..2 {
        let evs = r.feed(conn, &redirect(308, "/sse"));
        conn = match evs.as_slice() {
            [ClientEvent::Close(_), ClientEvent::Open(new)] => *new,
            other => panic!("{other:?}"),
        };
        r.c.handle_connected(conn, r.now);
        while r.c.poll_transmit(conn).is_some() {}
    }
    let evs = r.feed(conn, &redirect(308, "/sse"));
    match closed_with(&evs) {
        Some(Some(ClientError::Redirect { reason, .. })) => {
            assert!(reason.contains("more than 2 redirects"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

/// While an ordering barrier waits for its answer, an idle POST connection the server closes is
/// not reopened (it could carry nothing): no reconnect loop against a server that closes idle
/// connections, e.g. one shutting down (found by the endpoint_pair fuzz target).
#[test]
fn no_connection_churn_behind_a_barrier() {
    let mut r = Run::ready("http://h/sse", ClientConfig::default());
    let note =
        Message::from_slice(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
    r.c.send(&note).unwrap();
    r.c.send(&ping(2)).unwrap();
    let mut open = open_posts(&r.events());
    let mut busy = None;
    let mut opened_later = 0;
    // Rounds of: connect what the client opened; the barrier goes out on one connection; the
    // server closes every idle one at once (as a server shutting down does).
    for round in 0..10 {
        let mut evs = Vec::new();
        for c in std::mem::take(&mut open) {
            r.c.handle_connected(c, r.now);
            evs.extend(r.events());
            let mut sent = false;
            while r.c.poll_transmit(c).is_some() {
                sent = true;
            }
            if sent {
                busy = Some(c);
            } else if Some(c) != busy {
                r.c.handle_eof(c, r.now);
            }
            evs.extend(r.events());
        }
        let more = open_posts(&evs);
        if round > 0 {
            opened_later += more.len();
        }
        open = more;
    }
    assert!(busy.is_some(), "the barrier was sent");
    assert!(
        opened_later <= 1,
        "{opened_later} connections reopened behind the barrier"
    );
}

fn refreshing(token: &str) -> ClientConfig {
    ClientConfig {
        bearer_token: Some(token.into()),
        refresh_token_on_401: true,
        // An explicit Authorization header is replaced by the token.
        headers: vec![("authorization".into(), "Basic old".into())],
        ..ClientConfig::default()
    }
}

fn unauthorized(challenge: &str) -> String {
    format!(
        "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: {challenge}\r\ncontent-length: 0\r\n\r\n"
    )
}

/// The bearer token goes on the GET; a 401 on the GET asks for a fresh token once, and the GET
/// is sent again with it on a new connection; a second 401 is the typed error.
#[test]
fn a_401_on_the_get_refreshes_the_token_once() {
    let now = Instant::now();
    let mut c = Client::new("http://h/sse", refreshing("stale"), now).unwrap();
    assert_eq!(c.poll_event(), Some(ClientEvent::Open(Client::STREAM)));
    c.handle_connected(Client::STREAM, now);
    let get = String::from_utf8(c.poll_transmit(Client::STREAM).unwrap().to_vec()).unwrap();
    assert!(get.contains("\r\nAuthorization: Bearer stale\r\n"), "{get}");
    assert!(!get.contains("Basic old"), "{get}");
    let mut r = Run { c, now };
    let evs = r.feed(Client::STREAM, &unauthorized("Bearer realm=\"mcp\""));
    assert_eq!(
        evs,
        vec![
            ClientEvent::Close(Client::STREAM),
            ClientEvent::TokenRequired {
                challenge: Some("Bearer realm=\"mcp\"".into())
            }
        ]
    );
    r.c.handle_token("fresh".into());
    let evs = r.events();
    let [ClientEvent::Open(second)] = evs.as_slice() else {
        panic!("{evs:?}")
    };
    let second = *second;
    r.c.handle_connected(second, now);
    let get = String::from_utf8(r.c.poll_transmit(second).unwrap().to_vec()).unwrap();
    assert!(get.contains("\r\nAuthorization: Bearer fresh\r\n"), "{get}");
    let evs = r.feed(second, &unauthorized("Bearer"));
    assert_eq!(
        closed_with(&evs),
        Some(Some(ClientError::Unauthorized {
            challenge: Some("Bearer".into())
        })),
        "refreshed once only: {evs:?}"
    );
}

/// A provider that fails after a 401 on the GET ends the transport with the typed cause.
#[test]
fn a_failing_token_provider_on_the_get_is_typed() {
    let mut r = Run::new("http://h/sse", refreshing("stale"));
    r.feed(Client::STREAM, &unauthorized("Bearer"));
    r.c.handle_token_failed("the refresh token was revoked");
    let evs = r.events();
    assert_eq!(
        closed_with(&evs),
        Some(Some(ClientError::TokenProvider(
            "the refresh token was revoked".into()
        ))),
        "{evs:?}"
    );
    assert!(ClientError::TokenProvider("x".into())
        .to_string()
        .contains("token provider failed"));
}

/// A 401 mid-session: that POST waits (and nothing else is sent) while the token is refreshed,
/// then it is retried once with the new token; a provider failure fails exactly that message.
#[test]
fn a_401_on_a_post_retries_that_message_once_with_a_fresh_token() {
    let mut r = Run::ready("http://h/sse", refreshing("t1"));
    let t = r.c.send(&ping(1)).unwrap();
    let conn = open_posts(&r.events())[0];
    r.c.handle_connected(conn, r.now);
    r.events();
    let post: Vec<u8> = std::iter::from_fn(|| r.c.poll_transmit(conn))
        .flatten()
        .collect();
    assert!(String::from_utf8_lossy(&post).contains("Authorization: Bearer t1\r\n"));
    let evs = r.feed(conn, &unauthorized("Bearer error=\"invalid_token\""));
    assert_eq!(
        evs,
        vec![ClientEvent::TokenRequired {
            challenge: Some("Bearer error=\"invalid_token\"".into())
        }]
    );
    // Meanwhile a second message waits too.
    let t2 = r.c.send(&ping(2)).unwrap();
    assert!(
        r.c.poll_transmit(conn).is_none(),
        "nothing sent while refreshing"
    );
    r.c.handle_token("t2".into());
    r.events();
    let post: Vec<u8> = std::iter::from_fn(|| r.c.poll_transmit(conn))
        .flatten()
        .collect();
    let text = String::from_utf8_lossy(&post).into_owned();
    assert!(text.contains("Authorization: Bearer t2\r\n"), "{text}");
    assert!(
        text.contains(r#""id":1"#),
        "the refused message goes first: {text}"
    );
    let evs = r.feed(
        conn,
        "HTTP/1.1 202 Accepted\r\ncontent-length: 8\r\n\r\nAccepted",
    );
    assert!(evs.contains(&ClientEvent::Sent(t)), "{evs:?}");
    let evs = r.feed(conn, "");
    let _ = evs;
    // The second message was dispatched after the first's answer.
    let post: Vec<u8> = std::iter::from_fn(|| r.c.poll_transmit(conn))
        .flatten()
        .collect();
    assert!(String::from_utf8_lossy(&post).contains(r#""id":2"#));
    // Its 401 asks again; the provider fails: only it fails, typed, and the transport goes on.
    let evs = r.feed(conn, &unauthorized("Bearer"));
    assert_eq!(
        evs,
        vec![ClientEvent::TokenRequired {
            challenge: Some("Bearer".into())
        }]
    );
    r.c.handle_token_failed("offline");
    let evs = r.events();
    assert_eq!(
        evs,
        vec![ClientEvent::SendFailed(
            t2,
            ClientError::TokenProvider("offline".into())
        )]
    );
    assert!(closed_with(&evs).is_none());
}

/// Redirects of a POST (issue 16): 307 and 308 are followed on the same origin with the method
/// and body kept, bounded by `max_redirects`; another status or origin fails that message with
/// a typed error, and the transport goes on.
#[test]
fn post_redirects_follow_307_and_308_on_the_same_origin_only() {
    let config = ClientConfig {
        max_redirects: 2,
        ..ClientConfig::default()
    };
    let mut r = Run::ready("http://h/sse", config);
    let post_of = |r: &mut Run, conn| -> String {
        let b: Vec<u8> = std::iter::from_fn(|| r.c.poll_transmit(conn))
            .flatten()
            .collect();
        String::from_utf8(b).unwrap()
    };
    let t = r.c.send(&ping(1)).unwrap();
    let conn = open_posts(&r.events())[0];
    r.c.handle_connected(conn, r.now);
    r.events();
    assert!(post_of(&mut r, conn).starts_with("POST /messages/?session_id=abc "));
    r.feed(conn, &redirect(307, "/v2/messages/?session_id=abc"));
    let again = post_of(&mut r, conn);
    assert!(
        again.starts_with("POST /v2/messages/?session_id=abc "),
        "{again}"
    );
    assert!(
        again.ends_with(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
        "{again}"
    );
    let evs = r.feed(conn, &redirect(308, "other/"));
    assert!(evs.is_empty(), "{evs:?}");
    assert!(post_of(&mut r, conn).starts_with("POST /v2/messages/other/ "));
    // A third redirect is one too many.
    let evs = r.feed(conn, &redirect(307, "/x"));
    assert!(
        matches!(&evs[..], [ClientEvent::SendFailed(tok, ClientError::Redirect { status: 307, reason, .. })]
            if *tok == t && reason.contains("max_redirects")),
        "{evs:?}"
    );
    // Another origin, and a status that would turn the POST into a GET, are refused.
    for (status, location, why) in [
        (307, "http://elsewhere/messages/", "origin"),
        (302, "/v3/", "307 and 308"),
    ] {
        let t = r.c.send(&ping(2)).unwrap();
        r.events();
        post_of(&mut r, conn);
        let evs = r.feed(conn, &redirect(status, location));
        assert!(
            matches!(&evs[..], [ClientEvent::SendFailed(tok, ClientError::Redirect { reason, .. })]
                if *tok == t && reason.contains(why)),
            "{evs:?}"
        );
    }
    assert!(closed_with(&r.events()).is_none(), "the transport goes on");
}

/// http → https on the default ports (issue 16, as the reference client follows it): only when
/// the driver can do TLS (`follow_https_upgrade`), on the same host, 80 → 443; then the machine
/// asks for TLS on every later connection.
#[test]
fn an_http_to_https_redirect_on_the_default_ports_is_followed_when_the_driver_can_do_tls() {
    let config = ClientConfig {
        follow_https_upgrade: true,
        ..ClientConfig::default()
    };
    let mut r = Run::new("http://h/sse", config.clone());
    assert_eq!(r.c.tls_server_name(), None);
    let evs = r.feed(Client::STREAM, &redirect(301, "https://h/sse"));
    let new = match evs.as_slice() {
        [ClientEvent::Close(old), ClientEvent::Open(new)] if *old == Client::STREAM => *new,
        other => panic!("{other:?}"),
    };
    assert_eq!(r.c.tls_server_name(), Some("h".to_string()));
    assert_eq!(r.c.server_address(), ("h".to_string(), 443));
    r.c.handle_connected(new, r.now);
    let get = String::from_utf8(r.c.poll_transmit(new).unwrap().to_vec()).unwrap();
    assert!(get.starts_with("GET /sse HTTP/1.1\r\nHost: h\r\n"), "{get}");
    // The endpoint resolves against the https URL.
    let evs = r.feed(
        new,
        &format!("{OK_HEAD}{}", endpoint("/messages/?session_id=abc")),
    );
    assert!(
        evs.contains(&ClientEvent::Ready {
            endpoint: "https://h/messages/?session_id=abc".into(),
            session_id: Some("abc".into())
        }),
        "{evs:?}"
    );

    // Another port, or a driver without TLS: refused, saying what to do.
    for (url, location, config) in [
        ("http://h:8080/sse", "https://h:8443/sse", config.clone()),
        ("http://h/sse", "https://h/sse", ClientConfig::default()),
    ] {
        let mut r = Run::new(url, config);
        let evs = r.feed(Client::STREAM, &redirect(308, location));
        match closed_with(&evs) {
            Some(Some(ClientError::Redirect { reason, .. })) => {
                assert!(reason.contains("moved to https"), "{reason}")
            }
            other => panic!("{url}: {other:?}"),
        }
    }
}
