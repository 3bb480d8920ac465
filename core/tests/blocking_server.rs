//! The `blocking_server` example (sans-IO endpoint on blocking `std::net` sockets and threads)
//! over real loopback sockets, with a hand-written HTTP client: the wire bytes of the demo's
//! `echo` and `add`, and a shutdown that ends the stream with the final chunk.
//!
//! Requirement ids: transport:sse, transport:sse:endpoint-event,
//! transport:sse:post:session-routing, tools:call:content:text, tools:call:structured-content,
//! tools:call:unknown-name, tools:list:basic.

#[allow(dead_code)]
#[path = "../examples/blocking_server.rs"]
mod blocking_server;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Bound of every wait in this file.
const DEADLINE: Duration = Duration::from_secs(20);

/// Reads from `stream` into `seen` until `done(seen)` or the deadline.
fn read_until(stream: &mut TcpStream, seen: &mut Vec<u8>, done: impl Fn(&str) -> bool) {
    let end = Instant::now() + DEADLINE;
    let mut buf = [0u8; 8192];
    while !done(&String::from_utf8_lossy(seen)) {
        assert!(
            Instant::now() < end,
            "not seen in time: {}",
            String::from_utf8_lossy(seen)
        );
        match stream.read(&mut buf) {
            Ok(0) => panic!("EOF before expected: {}", String::from_utf8_lossy(seen)),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn post(conn: &mut TcpStream, host: &str, endpoint: &str, body: &str) {
    let req = format!(
        "POST {endpoint} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(req.as_bytes()).expect("write POST");
    let mut seen = Vec::new();
    read_until(conn, &mut seen, |s| s.ends_with("\r\n\r\nAccepted"));
    assert!(
        seen.starts_with(b"HTTP/1.1 202 Accepted\r\n"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
}

#[test]
fn the_example_serves_echo_and_add_and_ends_the_stream_on_shutdown() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let server = blocking_server::start(listener).expect("start");
    let host = server.addr.to_string();
    let mut sse = TcpStream::connect(server.addr).expect("connect");
    sse.set_read_timeout(Some(Duration::from_millis(200))).ok();
    write!(
        sse,
        "GET /sse HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .expect("write GET");
    let mut stream = Vec::new();
    read_until(&mut sse, &mut stream, |s| {
        s.contains("event: endpoint\r\ndata: ") && s.contains("\r\n\r\n\r\n")
    });
    let text = String::from_utf8_lossy(&stream).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    let endpoint = text
        .split("event: endpoint\r\ndata: ")
        .nth(1)
        .and_then(|rest| rest.split("\r\n").next())
        .expect("endpoint data")
        .to_string();
    assert!(endpoint.starts_with("/messages/?session_id="), "{endpoint}");

    let mut conn = TcpStream::connect(server.addr).expect("connect POST");
    conn.set_read_timeout(Some(Duration::from_millis(200))).ok();
    for body in [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi é"}}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"add","arguments":{"a":20,"b":22}}}"#,
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"nope"}}"#,
    ] {
        post(&mut conn, &host, &endpoint, body);
    }
    read_until(&mut sse, &mut stream, |s| s.contains(r#""id":5,"#));
    let text = String::from_utf8_lossy(&stream).into_owned();
    for want in [
        r#""serverInfo":{"name":"mcp-sse-demo""#,
        r#""capabilities":{"logging":{},"tools":{"listChanged":false}}"#,
        r#""name":"echo""#,
        r#""name":"add""#,
        r#"data: {"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"hi é"}],"isError":false}}"#,
        r#"data: {"jsonrpc":"2.0","id":4,"result":{"content":[{"type":"text","text":"42"}],"structuredContent":{"result":42},"isError":false}}"#,
        r#"data: {"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"Unknown tool: nope"}],"isError":true}}"#,
    ] {
        assert!(text.contains(want), "missing {want} in\n{text}");
    }

    // Shutdown: the stream ends with the final chunk and every connection closes.
    let (stop_tx, stop_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = stop_tx.send(server.shutdown(DEADLINE));
    });
    read_until(&mut sse, &mut stream, |s| s.ends_with("\r\n0\r\n\r\n"));
    drop(conn);
    drop(sse);
    assert_eq!(
        stop_rx.recv_timeout(DEADLINE + Duration::from_secs(5)),
        Ok(true),
        "every connection closed"
    );
}
