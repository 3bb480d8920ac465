//! DNS-rebinding protection is on by default at every public way to start a server (issue 16's
//! security default): a GET with `Host: evil.example:80` to a server on 127.0.0.1 is answered
//! `421 Invalid Host header`, as the reference's `sse_app(host="127.0.0.1")` does, unless the
//! caller turned protection off explicitly. The last test lists the drivers' public functions
//! that start a server and fails when one appears that this file does not check.
//!
//! Requirement ids: the Host/Origin rows of `../shared/spec/legacy-sse.md` (a.2).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use mcp_sse_core::transport::{Security, ServerConfig};
use mcp_sse_glue::io;
use mcp_sse_glue::{McpServer, ServerOptions, SseServer};
use mcp_sse_tests::{load, on_thread, serve_loopback, Exec};

/// Bound on every raw read and write.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

const EVIL: &str = "evil.example:80";

fn get_request(host: &str) -> String {
    format!("GET /sse HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n")
}

/// The status code at the front of a response head, once the head is complete.
fn status_of(head: &[u8]) -> Option<u16> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => resp.code,
        _ => None,
    }
}

/// Sends a GET /sse with `host` over TCP and returns the status of the answer's head.
fn tcp_get_status(addr: SocketAddr, host: &str) -> u16 {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    s.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
    s.write_all(get_request(host).as_bytes()).expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(code) = status_of(&buf) {
            return code;
        }
        let n = s.read(&mut chunk).expect("read");
        assert!(
            n > 0,
            "closed before a head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Sends a GET /sse with `host` to an in-process server through a pipe and returns the status.
async fn pipe_get_status(server: &Arc<SseServer>, host: &str) -> u16 {
    let ((mut read, mut write), conn) = io::duplex();
    let s = server.clone();
    let serving = async move { s.serve_connection(conn).await };
    let asking = async move {
        write
            .write(vec![get_request(host).into_bytes().into()])
            .await
            .expect("write");
        let mut buf = Vec::new();
        loop {
            if let Some(code) = status_of(&buf) {
                let _ = write.close().await;
                return code;
            }
            let chunk = read
                .read()
                .await
                .expect("read")
                .expect("closed before a head");
            buf.extend_from_slice(&chunk);
        }
    };
    futures_lite::future::or(asking, async {
        serving.await;
        panic!("the connection ended before the head")
    })
    .await
}

fn server() -> McpServer {
    load::echo_server()
}

fn bounded<T>(exec: Exec, f: impl std::future::Future<Output = T> + Send + 'static) -> T
where
    T: Send + 'static,
{
    let limited = async move {
        futures_lite::future::or(async move { Some(f.await) }, async {
            smol::Timer::after(Duration::from_secs(30)).await;
            None
        })
        .await
        .expect("the test took longer than 30 s")
    };
    match exec {
        Exec::Smol => smol::block_on(limited),
        Exec::Tokio => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(limited),
    }
}

fn serve_default_protects(exec: Exec) {
    bounded(exec, async move {
        let serving = serve_loopback(exec, server(), ServerOptions::default()).await;
        let addr = serving.local_addr();
        assert!(serving.sse().security().dns_rebinding_protection);
        assert_eq!(on_thread(move || tcp_get_status(addr, EVIL)).await, 421);
        let good = format!("127.0.0.1:{}", addr.port());
        assert_eq!(on_thread(move || tcp_get_status(addr, &good)).await, 200);
        serving.shutdown().await;
    });
}

fn serve_explicitly_disabled(exec: Exec) {
    bounded(exec, async move {
        let mut options = ServerOptions::default();
        options.transport.security = Security::disabled();
        let serving = serve_loopback(exec, server(), options).await;
        let addr = serving.local_addr();
        assert_eq!(on_thread(move || tcp_get_status(addr, EVIL)).await, 200);
        serving.shutdown().await;
    });
}

#[test]
fn smol_serve_protects_loopback_by_default() {
    serve_default_protects(Exec::Smol);
}

#[test]
fn tokio_serve_protects_loopback_by_default() {
    serve_default_protects(Exec::Tokio);
}

#[test]
fn smol_serve_off_only_when_asked() {
    serve_explicitly_disabled(Exec::Smol);
}

#[test]
fn tokio_serve_off_only_when_asked() {
    serve_explicitly_disabled(Exec::Tokio);
}

#[test]
fn smol_sse_server_protects_by_default() {
    bounded(Exec::Smol, async {
        let s = mcp_sse_smol::sse_server(server(), ServerConfig::default());
        assert_eq!(pipe_get_status(&s, EVIL).await, 421);
        assert_eq!(pipe_get_status(&s, "127.0.0.1:8000").await, 200);
    });
}

#[test]
fn tokio_sse_server_protects_by_default() {
    bounded(Exec::Tokio, async {
        let s = mcp_sse_tokio::sse_server(server(), ServerConfig::default());
        assert_eq!(pipe_get_status(&s, EVIL).await, 421);
        assert_eq!(pipe_get_status(&s, "127.0.0.1:8000").await, 200);
    });
}

#[test]
fn glue_sse_server_new_protects_by_default() {
    bounded(Exec::Smol, async {
        let s = SseServer::new(
            mcp_sse_smol::runtime(),
            server(),
            ServerConfig::default(),
            Box::new(mcp_sse_glue::os_random),
        );
        assert_eq!(pipe_get_status(&s, EVIL).await, 421);
    });
}

/// The drivers' public functions that start a server (they return a `Serving` or an
/// `SseServer`), each checked above; a new one fails this test until it gets its check.
const CHECKED_ENTRY_POINTS: &[&str] = &["serve", "sse_server", "serve_with", "new"];

#[test]
fn every_server_entry_point_is_checked() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let files = [
        "driver-smol/src/lib.rs",
        "driver-tokio/src/lib.rs",
        "glue/src/driver_api.rs",
        "glue/src/serve.rs",
        "glue/src/sse_server.rs",
    ];
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(format!("{root}/{f}")).expect("read driver source");
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_start();
            let Some(rest) = line
                .strip_prefix("pub fn ")
                .or_else(|| line.strip_prefix("pub async fn "))
            else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // The signature runs to the opening brace of the body.
            let sig: String = text
                .lines()
                .skip(i)
                .take_while(|l| !l.trim_end().ends_with('{'))
                .chain(text.lines().skip(i).find(|l| l.trim_end().ends_with('{')))
                .collect();
            // An accessor (`-> &Arc<SseServer>`) starts nothing.
            let ret = sig.split("->").nth(1).unwrap_or("").trim_start();
            let starts = ["Serving", "SseServer>", "Arc<Self>"];
            if !ret.starts_with('&') && starts.iter().any(|t| ret.contains(t)) {
                found.push((f, name));
            }
        }
    }
    assert!(
        found.iter().any(|(_, n)| n == "serve"),
        "the scan found no serve function: {found:?}"
    );
    for (f, name) in &found {
        assert!(
            CHECKED_ENTRY_POINTS.contains(&name.as_str()),
            "{f}: `{name}` starts a server; add a test of its DNS-rebinding default to this file"
        );
    }
}
