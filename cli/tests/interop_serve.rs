//! `mcp-sse serve` as a process: it stops cleanly on SIGTERM (exit status 0), and a shutdown
//! ends every SSE stream with the final chunk `0\r\n\r\n` after answering in-flight requests
//! with a JSON-RPC error (DIVERGENCE 6). Read with a raw std `TcpStream`, no MCP client.
//! These need no Python or Node, so they do not run `interop/setup.sh`.
#![cfg(unix)]

mod interop_common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use interop_common::{start_our_server, ChildGuard, PEER_DEADLINE};

fn sigterm(child: &ChildGuard) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed: {status}");
}

fn host_of(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("http URL");
    rest.split('/').next().expect("host").to_string()
}

/// Reads from `stream` into `buf` until `done(buf)` or EOF; returns whether `done` held.
fn read_until(stream: &mut TcpStream, buf: &mut Vec<u8>, done: impl Fn(&str) -> bool) -> bool {
    let mut chunk = [0u8; 4096];
    loop {
        if done(&String::from_utf8_lossy(buf)) {
            return true;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return done(&String::from_utf8_lossy(buf)),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!(
                "read failed ({e}); got so far:\n{}",
                String::from_utf8_lossy(buf)
            ),
        }
    }
}

fn connect(host: &str) -> TcpStream {
    let stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(PEER_DEADLINE))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(PEER_DEADLINE))
        .expect("write timeout");
    stream
}

/// One POST on its own connection; returns the status line.
fn post(host: &str, path: &str, body: &str) -> String {
    let mut s = connect(host);
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write POST");
    let mut buf = Vec::new();
    assert!(
        read_until(&mut s, &mut buf, |t| t.contains("\r\n\r\n")),
        "no response head"
    );
    String::from_utf8_lossy(&buf)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn serve_exits_0_on_sigterm() {
    let (mut server, _url) = start_our_server();
    sigterm(&server);
    let status = server.wait_exit(PEER_DEADLINE);
    assert!(
        status.success(),
        "exit status {status}\n{}",
        server.output()
    );
}

#[test]
fn shutdown_answers_in_flight_requests_and_ends_sse_streams_with_the_final_chunk() {
    let (mut server, url) = start_our_server();
    let host = host_of(&url);
    let mut sse = connect(&host);
    write!(sse, "GET /sse HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\nCache-Control: no-store\r\n\r\n").expect("write GET");
    let mut raw = Vec::new();
    assert!(
        read_until(&mut sse, &mut raw, |t| t
            .contains("event: endpoint\r\ndata: ")
            && t.contains("\r\n\r\n\r\n")),
        "no endpoint event"
    );
    let text = String::from_utf8_lossy(&raw).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("transfer-encoding: chunked\r\n"),
        "{text}"
    );
    let endpoint = text
        .split("data: ")
        .nth(1)
        .and_then(|s| s.split("\r\n").next())
        .expect("endpoint data")
        .to_string();
    assert!(endpoint.starts_with("/messages/?session_id="), "{endpoint}");

    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}},"clientInfo":{"name":"raw","version":"0"}}}"#;
    assert_eq!(post(&host, &endpoint, init), "HTTP/1.1 202 Accepted");
    assert!(
        read_until(&mut sse, &mut raw, |t| t.contains(r#""id":1,"result""#)),
        "no initialize result"
    );
    assert_eq!(
        post(
            &host,
            &endpoint,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
        ),
        "HTTP/1.1 202 Accepted"
    );
    // `elicit` blocks on a request to us that we never answer: once that request is on the
    // stream, the tool call is certainly in flight.
    let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"elicit","arguments":{"question":"?"}}}"#;
    assert_eq!(post(&host, &endpoint, call), "HTTP/1.1 202 Accepted");
    assert!(
        read_until(&mut sse, &mut raw, |t| t
            .contains(r#""method":"elicitation/create""#)),
        "no elicitation request"
    );

    sigterm(&server);
    read_until(&mut sse, &mut raw, |_| false); // to EOF
    let text = String::from_utf8_lossy(&raw).into_owned();
    assert!(
        text.ends_with("\r\n0\r\n\r\n"),
        "the stream must end with the final chunk:\n{text}"
    );
    let answer = text.find(r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32603"#);
    assert!(
        answer.is_some(),
        "the in-flight call must get a JSON-RPC error before the end:\n{text}"
    );
    drop(sse);

    let status = server.wait_exit(PEER_DEADLINE);
    assert!(
        status.success(),
        "exit status {status}\n{}",
        server.output()
    );
}

/// `mcp-sse serve` on 127.0.0.1 refuses a foreign Host with `421 Invalid Host header`, as the
/// reference's `sse_app(host="127.0.0.1")` does (one of the entry points of
/// `tests/tests/security_defaults.rs`).
#[test]
fn serve_on_loopback_refuses_a_foreign_host() {
    let (_server, url) = start_our_server();
    let host = host_of(&url);
    let mut s = connect(&host);
    write!(
        s,
        "GET /sse HTTP/1.1\r\nHost: evil.example:80\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
    )
    .expect("write GET");
    let mut raw = Vec::new();
    read_until(&mut s, &mut raw, |_| false); // to EOF
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.starts_with("HTTP/1.1 421 Misdirected Request\r\n"),
        "{text}"
    );
    assert!(text.ends_with("\r\n\r\nInvalid Host header"), "{text}");
}
