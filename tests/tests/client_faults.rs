//! Client faults (issue 8), end to end: our client (smol and tokio) against a scripted server on
//! 127.0.0.1 that misbehaves in one way per test. The client always surfaces a typed error (to
//! the call, and the cause to the message handler), and no call hangs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_sse_core::jsonrpc::codes;
use mcp_sse_core::transport::ClientError;
use mcp_sse_glue::{CallOptions, ClientOptions, ConnectError, IncomingMessage, MessageHandler};
use mcp_sse_tests::{Exec, Transport};
use serde_json::{json, Value};

/// What the scripted server does wrong.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// Sends the GET's head, then closes before any event.
    CloseBeforeEndpoint,
    /// On `tools/call`: half a `message` event, then closes the stream.
    CloseMidEvent,
    /// On `tools/call`: a chunk header promising more than is sent, then closes (the stream is
    /// chunked in this mode).
    CloseMidChunk,
    /// On `tools/call`: a second `endpoint` event.
    SecondEndpoint,
    /// On `tools/call`: `data:` without end, past the client's line limit.
    EndlessLine,
    /// On `tools/call`: nothing, ever.
    NeverAnswer,
}

/// One scripted session served on 127.0.0.1. Dropping it stops accepting, ends the SSE stream
/// and wakes the accept thread, so no thread outlives the test by more than a read timeout.
struct ScriptedServer {
    url: String,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    stream: Arc<Mutex<Option<TcpStream>>>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        close_stream(&self.stream);
        // Wakes the accept loop so that it sees `stop`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// A peer that stops reading cannot block a scripted write, or a scripted read, for longer.
const SCRIPT_IO_TIMEOUT: Duration = Duration::from_secs(10);

fn scripted_server(fault: Fault) -> ScriptedServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let stream: Arc<Mutex<Option<TcpStream>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let (accept_stream, accept_stop) = (stream.clone(), stop.clone());
    std::thread::spawn(move || {
        // Bounded: a session needs the GET and a few POST connections.
        for conn in listener.incoming().take(16) {
            if accept_stop.load(Ordering::SeqCst) {
                return;
            }
            let Ok(conn) = conn else { return };
            let stream = accept_stream.clone();
            std::thread::spawn(move || serve_conn(conn, stream, fault));
        }
    });
    ScriptedServer {
        url: format!("http://{addr}/sse"),
        addr,
        stop,
        stream,
    }
}

fn chunked(fault: Fault) -> bool {
    fault == Fault::CloseMidChunk
}

/// Writes `bytes` on the SSE stream (as one chunk when the stream is chunked).
fn sse_write(stream: &Mutex<Option<TcpStream>>, fault: Fault, bytes: &[u8]) {
    if let Some(s) = stream.lock().unwrap().as_mut() {
        if chunked(fault) {
            let _ = s.write_all(format!("{:x}\r\n", bytes.len()).as_bytes());
            let _ = s.write_all(bytes);
            let _ = s.write_all(b"\r\n");
        } else {
            let _ = s.write_all(bytes);
        }
    }
}

fn close_stream(stream: &Mutex<Option<TcpStream>>) {
    if let Some(s) = stream.lock().unwrap().take() {
        let _ = s.shutdown(std::net::Shutdown::Both);
    }
}

fn serve_conn(conn: TcpStream, stream: Arc<Mutex<Option<TcpStream>>>, fault: Fault) {
    let _ = conn.set_read_timeout(Some(SCRIPT_IO_TIMEOUT));
    let _ = conn.set_write_timeout(Some(SCRIPT_IO_TIMEOUT));
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut out = conn;
    loop {
        // One request: head, then a Content-Length body.
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            head.push(line);
        }
        let len: usize = head
            .iter()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if head.first().is_some_and(|l| l.starts_with("GET /sse")) {
            let framing = if chunked(fault) {
                "transfer-encoding: chunked\r\n"
            } else {
                "connection: close\r\n"
            };
            let _ = out.write_all(
                format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n{framing}\r\n")
                    .as_bytes(),
            );
            if fault == Fault::CloseBeforeEndpoint {
                let _ = out.shutdown(std::net::Shutdown::Both);
                return;
            }
            *stream.lock().unwrap() = Some(out.try_clone().expect("clone"));
            sse_write(
                &stream,
                fault,
                b"event: endpoint\r\ndata: /messages/?session_id=0123456789abcdef0123456789abcdef\r\n\r\n",
            );
            // The GET connection stays open; the stream is written from the POST threads.
            let mut sink = [0u8; 64];
            while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
            return;
        }
        let _ = out.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 8\r\n\r\nAccepted");
        let msg: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        match msg["method"].as_str() {
            Some("initialize") => {
                let version = msg["params"]["protocolVersion"].clone();
                let reply = json!({"jsonrpc": "2.0", "id": msg["id"], "result": {
                    "protocolVersion": version,
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "scripted", "version": "1"}
                }});
                sse_write(
                    &stream,
                    fault,
                    format!("event: message\r\ndata: {reply}\r\n\r\n").as_bytes(),
                );
            }
            Some("tools/call") => match fault {
                Fault::CloseMidEvent => {
                    sse_write(&stream, fault, b"event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\"");
                    close_stream(&stream);
                }
                Fault::CloseMidChunk => {
                    if let Some(s) = stream.lock().unwrap().as_mut() {
                        let _ = s.write_all(b"64\r\nevent: message\r\nda");
                    }
                    close_stream(&stream);
                }
                Fault::SecondEndpoint => sse_write(
                    &stream,
                    fault,
                    b"event: endpoint\r\ndata: /messages/?session_id=ffffffffffffffffffffffffffffffff\r\n\r\n",
                ),
                Fault::EndlessLine => {
                    sse_write(&stream, fault, b"data: ");
                    let piece = vec![b'x'; 64 * 1024];
                    // Until the client gives up and closes (bounded: 64 MiB).
                    for _ in 0..1024 {
                        let Some(s) = stream.lock().unwrap().as_ref().and_then(|s| s.try_clone().ok()) else { break };
                        if (&s).write_all(&piece).is_err() {
                            break;
                        }
                    }
                }
                Fault::NeverAnswer | Fault::CloseBeforeEndpoint => {}
            },
            _ => {}
        }
    }
}

/// A message handler collecting transport errors.
fn transport_errors() -> (MessageHandler, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = seen.clone();
    let h: MessageHandler = Arc::new(move |m| {
        if let IncomingMessage::TransportError(e) = m {
            s.lock().unwrap().push(e);
        }
        Box::pin(async {})
    });
    (h, seen)
}

fn fault_test(exec: Exec, fault: Fault, expect_cause: &'static str) {
    mcp_sse_tests::run_for(exec, Transport::SseTcp, Duration::from_secs(60), |h| {
        async move {
            let server = scripted_server(fault);
            let url = server.url.clone();
            let (handler, seen) = transport_errors();
            let options = ClientOptions {
                message_handler: Some(handler),
                ..ClientOptions::default()
            };
            let mut config = mcp_sse_core::transport::ClientConfig::default();
            config.sse_limits.max_line_bytes = 256 * 1024;
            config.sse_limits.max_event_bytes = 256 * 1024;
            let connected = mcp_sse_glue::connect_url(h.rt(), &url, options, config).await;
            if fault == Fault::CloseBeforeEndpoint {
                match connected {
                    Err(ConnectError::Transport(ClientError::EndedBeforeEndpoint)) => return,
                    other => panic!("expected EndedBeforeEndpoint, got {other:?}"),
                }
            }
            let client = connected.expect("connect");
            let timeout = (fault == Fault::NeverAnswer).then(|| Duration::from_millis(300));
            let r = client
                .request(
                    "tools/call",
                    json!({"name": "x", "arguments": {}}).as_object().cloned(),
                    CallOptions {
                        timeout,
                        progress: None,
                    },
                )
                .await;
            let err = r.expect_err("the call must fail");
            if fault == Fault::NeverAnswer {
                assert!(err.is_timeout(), "{err:?}");
                assert_eq!(
                    err.to_error_object().code,
                    codes::REQUEST_TIMEOUT,
                    "{err:?}"
                );
                client.close().await;
                return;
            }
            assert_eq!(
                err.to_error_object().code,
                codes::CONNECTION_CLOSED,
                "{err:?}"
            );
            // Later calls fail at once instead of hanging.
            let again = client.request("ping", None, CallOptions::default()).await;
            assert_eq!(again, Err(mcp_sse_glue::Error::Closed));
            // `close` returns once the client has handled everything the transport delivered.
            client.close().await;
            // The cause reaches the caller (when its own message failed with it) or the message
            // handler (when the transport ended under a delivered message), or both.
            let seen = seen.lock().unwrap().clone();
            assert!(
                err.to_error_object().message.contains(expect_cause) || seen.iter().any(|e| e.contains(expect_cause)),
                "{fault:?}: cause {expect_cause:?} not reported; call got {err:?}, handler saw {seen:?}"
            );
        }
    });
}

macro_rules! fault_tests {
    ($($name:ident: $fault:expr, $cause:expr;)*) => {
        $(
            mod $name {
                use super::*;
                #[test]
                fn smol() {
                    fault_test(Exec::Smol, $fault, $cause);
                }
                #[test]
                fn tokio() {
                    fault_test(Exec::Tokio, $fault, $cause);
                }
            }
        )*
    };
}

fault_tests! {
    close_before_endpoint: Fault::CloseBeforeEndpoint, "";
    close_mid_event: Fault::CloseMidEvent, "event stream cut off";
    close_mid_chunk: Fault::CloseMidChunk, "event stream cut off";
    second_endpoint: Fault::SecondEndpoint, "second endpoint event";
    endless_line: Fault::EndlessLine, "longer than 262144 bytes";
    never_answers: Fault::NeverAnswer, "";
}

/// A server that accepts the connection and never answers the GET (issue 16): connecting fails
/// after `ClientConfig::connect_timeout` with a typed error naming the address, instead of
/// waiting for the endpoint timeout.
fn silent_server_fails_connect(exec: Exec) {
    mcp_sse_tests::run_for(exec, Transport::SseTcp, Duration::from_secs(60), |h| {
        async move {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            // Accept one connection and hold it, silent, until the test ends.
            let holder = std::thread::spawn(move || {
                let (conn, _) = listener.accept().expect("accept");
                conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
                let mut buf = [0u8; 1024];
                let _ = (&conn).read(&mut buf);
                let _ = (&conn).read(&mut buf); // until the client gives up (EOF) or 10 s
            });
            let config = mcp_sse_core::transport::ClientConfig {
                connect_timeout: Duration::from_millis(300),
                ..Default::default()
            };
            let url = format!("http://{addr}/sse");
            let started = std::time::Instant::now();
            let r = mcp_sse_glue::connect_url(h.rt(), &url, ClientOptions::default(), config).await;
            match r {
                Err(ConnectError::Transport(ClientError::ConnectTimeout { address, after })) => {
                    assert_eq!(address, addr.to_string());
                    assert_eq!(after, Duration::from_millis(300));
                }
                other => panic!("expected ConnectTimeout, got {other:?}"),
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "bounded by connect_timeout"
            );
            mcp_sse_tests::on_thread(move || holder.join().expect("holder")).await;
        }
    });
}

#[test]
fn silent_server_fails_connect_smol() {
    silent_server_fails_connect(Exec::Smol);
}

#[test]
fn silent_server_fails_connect_tokio() {
    silent_server_fails_connect(Exec::Tokio);
}
