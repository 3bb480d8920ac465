//! The SSE endpoints mounted in an axum application (`nest_service("/mcp", …)`, behind a
//! middleware layer, beside a route of the app's own), served on 127.0.0.1:
//! - the official Python SDK client's full interop check (`interop/python/client_check.py`);
//! - our client's full demo check;
//! - the request headers (one set by the middleware) reach the handlers;
//! - the HTTP-level bad-input cases get the same statuses and bodies as our own listener, and
//!   what hyper answers itself (malformed heads) is pinned;
//! - a graceful shutdown ends the streams.
//!
//! Requirement ids: transport:sse, lifecycle:initialize:basic, lifecycle:ping,
//! tools:list:basic, tools:call:content:text, tools:call:structured-content.

#[path = "../../cli/tests/interop_common/mod.rs"]
mod interop_common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use interop_common::demo_checks::{check_full_demo, Recorder};
use interop_common::{peers, repo_root, run_check};
use mcp_sse_core::transport::{ClientConfig, ServerConfig};
use mcp_sse_glue::{CallOptions, ServerBuilder, SseServer, ToolDef};
use mcp_sse_tokio::ClientConnect;
use serde_json::{json, Value};
use tower_http::set_header::SetRequestHeaderLayer;

/// One served app: its address, the mounted server, and the runtime that serves both.
struct App {
    addr: SocketAddr,
    server: Arc<SseServer>,
    rt: tokio::runtime::Runtime,
}

fn start_app(mcp: mcp_sse_glue::McpServer) -> App {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (addr, server) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = ServerConfig {
            local_addr: Some(addr),
            ping_interval: Some(Duration::from_secs(1)),
            ..ServerConfig::default()
        };
        let server = mcp_sse_hyper::server_with(mcp, config);
        let app = Router::new()
            .route("/health", get(|| async { "ok" }))
            .nest_service("/mcp", mcp_sse_hyper::service(server.clone()))
            .layer(SetRequestHeaderLayer::overriding(
                axum::http::HeaderName::from_static("x-middleware"),
                axum::http::HeaderValue::from_static("seen"),
            ))
            // As an authentication middleware would: what it learned, in the extensions.
            .layer(tower::util::MapRequestLayer::new(
                |mut request: axum::http::Request<axum::body::Body>| {
                    request.extensions_mut().insert(User("alice".into()));
                    request
                },
            ));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (addr, server)
    });
    App { addr, server, rt }
}

/// What the test's middleware puts into each request's extensions.
#[derive(Clone, Debug)]
struct User(String);

fn sse_url(addr: SocketAddr) -> String {
    format!("http://{addr}/mcp/sse")
}

#[test]
fn python_client_passes_the_full_interop_check_through_the_axum_mount() {
    let app = start_app(mcp_sse::demo::server());
    let peers = peers();
    for mode in ["legacy", "auto"] {
        let mut cmd = Command::new(&peers.python);
        cmd.arg(repo_root().join("interop/python/client_check.py"))
            .args([sse_url(app.addr).as_str(), mode]);
        let stdout = run_check(&format!("client_check.py {mode}"), cmd);
        let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}"));
        assert_eq!(summary["ok"], true, "{summary}");
        assert_eq!(summary["mode"], mode, "{summary}");
        assert_eq!(summary["server"], "mcp-sse-demo", "{summary}");
    }
    drop(app.rt);
}

#[test]
fn our_client_passes_the_full_demo_check_through_the_axum_mount() {
    let app = start_app(mcp_sse::demo::server());
    let rec = Recorder::default();
    app.rt.block_on(async {
        let client = mcp_sse_glue::Client::connect(&sse_url(app.addr), rec.options())
            .await
            .expect("connect");
        check_full_demo(&client, &rec, "mcp-sse-demo").await;
        client.close().await;
    });
    assert!(
        app.rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(20), app.server.wait_idle()).await
            })
            .is_ok(),
        "the session ended with the client"
    );
}

#[test]
fn request_headers_and_extensions_set_by_a_middleware_reach_the_handler() {
    #[derive(serde::Serialize, schemars::JsonSchema)]
    struct Seen {
        middleware: Option<String>,
        authorization: Option<String>,
        user: Option<String>,
    }
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct NoArgs {}
    let mcp = ServerBuilder::new("headers", "1")
        .typed_tool(
            ToolDef::new("seen").description("The request headers a middleware set"),
            |ctx, _: NoArgs| async move {
                Ok(Seen {
                    middleware: ctx.header("x-middleware"),
                    authorization: ctx.header("authorization"),
                    user: mcp_sse_hyper::extensions(&ctx)
                        .and_then(|e| e.get::<User>())
                        .map(|u| u.0.clone()),
                })
            },
        )
        .expect("register")
        .build();
    let app = start_app(mcp);
    app.rt.block_on(async {
        let config = ClientConfig {
            headers: vec![("authorization".into(), "Bearer t0k3n".into())],
            ..ClientConfig::default()
        };
        let client = mcp_sse_tokio::connect_with(&sse_url(app.addr), Default::default(), config)
            .await
            .expect("connect");
        let r = client
            .request(
                "tools/call",
                Some(
                    json!({"name": "seen", "arguments": {}})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                ),
                CallOptions::default(),
            )
            .await
            .expect("call");
        assert_eq!(
            r["structuredContent"],
            json!({"middleware": "seen", "authorization": "Bearer t0k3n", "user": "alice"}),
            "{r}"
        );
        client.close().await;
    });
}

/// Sends `raw` on a fresh connection; the status line's code and the body.
fn exchange(addr: SocketAddr, raw: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // A server may answer (413) and close before the whole body is written.
    let _ = s.write_all(raw);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    // Read one response: up to the head's end, then content-length bytes.
    let (head_end, len) = loop {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "closed before an answer to {raw:?}");
        out.extend_from_slice(&buf[..n]);
        if let Some(i) = out.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&out[..i]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.trim().parse().expect("length"));
            break (i + 4, len);
        }
    };
    while out.len() < head_end + len {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "closed in the body");
        out.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text[9..12].parse().expect("status");
    (status, text[head_end..head_end + len].to_string())
}

#[test]
fn bad_input_gets_the_same_statuses_and_bodies_as_our_own_listener() {
    let app = start_app(mcp_sse::demo::server());
    // Our own listener, same demo server, same defaults.
    let own = app.rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let serving = mcp_sse_tokio::serve(
            listener,
            mcp_sse::demo::server(),
            mcp_sse_glue::ServerOptions::default(),
        )
        .expect("serve");
        (addr, serving)
    });
    let post = |host: SocketAddr, prefix: &str, target: &str, headers: &str, body: &str| {
        format!(
            "POST {prefix}{target} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let get = |host: SocketAddr, prefix: &str, target: &str, headers: &str| {
        format!(
            "GET {prefix}{target} HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n"
        )
    };
    let json = "Content-Type: application/json\r\n";
    type Case = Box<dyn Fn(SocketAddr, &str) -> String>;
    let cases: Vec<(&str, u16, Case)> = vec![
        (
            "no session_id",
            400,
            Box::new(move |h, p| post(h, p, "/messages/", json, "{}")),
        ),
        (
            "bad session_id",
            400,
            Box::new(move |h, p| post(h, p, "/messages/?session_id=zz", json, "{}")),
        ),
        (
            "unknown session",
            404,
            Box::new(move |h, p| {
                post(
                    h,
                    p,
                    "/messages/?session_id=00000000000000000000000000000000",
                    json,
                    "{}",
                )
            }),
        ),
        (
            "no content type",
            400,
            Box::new(move |h, p| post(h, p, "/messages/?session_id=00", "", "{}")),
        ),
        (
            "wrong content type",
            400,
            Box::new(move |h, p| {
                post(
                    h,
                    p,
                    "/messages/?session_id=00",
                    "Content-Type: text/plain\r\n",
                    "{}",
                )
            }),
        ),
        (
            "GET on the message path",
            405,
            Box::new(move |h, p| get(h, p, "/messages/", "")),
        ),
        (
            "POST on the SSE path",
            405,
            Box::new(move |h, p| post(h, p, "/sse", "", "")),
        ),
        (
            "unknown path",
            404,
            Box::new(move |h, p| get(h, p, "/nowhere", "")),
        ),
        (
            "bad Host",
            421,
            Box::new(move |_, p| get("10.9.8.7:80".parse().expect("addr"), p, "/sse", "")),
        ),
        (
            "bad Origin",
            403,
            Box::new(move |h, p| get(h, p, "/sse", "Origin: http://evil.example\r\n")),
        ),
        (
            "declared too large",
            413,
            Box::new(move |h, p| {
                format!(
                    "POST {p}/messages/?session_id=00000000000000000000000000000000 HTTP/1.1\r\n\
                     Host: {h}\r\n{json}Content-Length: {}\r\n\r\n",
                    4 * 1024 * 1024 + 1
                )
            }),
        ),
        (
            "too large, chunked",
            413,
            Box::new(move |h, p| {
                let chunk = "x".repeat(64 * 1024);
                let mut raw = format!(
                    "POST {p}/messages/?session_id=00000000000000000000000000000000 HTTP/1.1\r\n\
                     Host: {h}\r\n{json}Transfer-Encoding: chunked\r\n\r\n"
                );
                for _ in 0..65 {
                    raw.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
                }
                raw.push_str("0\r\n\r\n");
                raw
            }),
        ),
    ];
    for (name, status, case) in &cases {
        let (own_status, own_body) = exchange(own.0, case(own.0, "").as_bytes());
        let (mounted_status, mounted_body) = exchange(app.addr, case(app.addr, "/mcp").as_bytes());
        assert_eq!(own_status, *status, "{name}: {own_body}");
        assert_eq!(
            (mounted_status, mounted_body),
            (own_status, own_body),
            "{name}"
        );
    }
    // A malformed head never reaches the service: hyper answers it itself, 400 with no body
    // (our listener answers `400 Bad Request` with a reason body).
    let (status, body) = exchange(app.addr, b"GARBAGE\r\n\r\n");
    assert_eq!((status, body.as_str()), (400, ""));
    app.rt.block_on(own.1.shutdown());
}

#[test]
fn a_graceful_shutdown_ends_the_stream() {
    let app = start_app(mcp_sse::demo::server());
    let mut s = TcpStream::connect(app.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(s, "GET /mcp/sse HTTP/1.1\r\nHost: {}\r\n\r\n", app.addr).expect("write");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("session_id=") {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "closed early");
        seen.extend_from_slice(&buf[..n]);
    }
    assert_eq!(app.server.session_count(), 1);
    app.rt.block_on(app.server.shutdown());
    // The body ends: hyper writes the last chunk.
    loop {
        let n = s.read(&mut buf).expect("read");
        seen.extend_from_slice(&buf[..n]);
        if n == 0 || seen.ends_with(b"0\r\n\r\n") {
            break;
        }
    }
    assert!(
        seen.ends_with(b"0\r\n\r\n"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    assert_eq!(app.server.session_count(), 0);
}
