//! Memory per idle SSE session: opens N in-process sessions on one `SseServer` and reports the
//! RSS delta (from `/proc/self/statm`) divided by N, as one JSON line.
//!
//! ```text
//! idle_sessions [--sessions 10000] [--exec smol|tokio] [--side server|both]
//! ```
//! `--side server`: raw `GET /sse` requests over in-memory pipes, read until the `endpoint`
//! event (the server's transport slot, its MCP session task and the pipe buffers; no client).
//! `--side both` (default): a full `Client` per session (`connect_over_sse_to`, initialized),
//! so the figure covers the client side too.

use std::sync::Arc;

use bytes::Bytes;
use mcp_sse_glue::io::{duplex, Connection};
use mcp_sse_glue::{ClientOptions, Rt, SseServer};
use mcp_sse_tests::load::{self, Executor};
use mcp_sse_tests::Exec;

/// Upper bound on `--sessions` (the run stays bounded).
const MAX_SESSIONS: usize = 50_000;

async fn open_raw(rt: &Rt, server: &Arc<SseServer>) -> Connection {
    let (client_end, server_end) = duplex();
    let srv = server.clone();
    let (mut r, mut w) = client_end;
    let handle = async move { srv.serve_connection(server_end).await };
    rt.spawn(Box::pin(handle));
    w.write(vec![Bytes::from_static(
        b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAccept: text/event-stream\r\n\r\n",
    )])
    .await
    .expect("write GET");
    let mut seen = Vec::new();
    while !contains(&seen, b"event: endpoint") {
        match r.read().await.expect("read") {
            Some(b) => seen.extend_from_slice(&b),
            None => panic!("stream ended before the endpoint event"),
        }
    }
    (r, w)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn main() {
    let mut sessions = 10_000usize;
    let mut exec = Exec::Smol;
    let mut side = "both".to_string();
    let mut it = std::env::args().skip(1);
    while let Some(f) = it.next() {
        let v = it.next().unwrap_or_default();
        match f.as_str() {
            "--sessions" => sessions = v.parse().unwrap_or(sessions).min(MAX_SESSIONS),
            "--exec" => {
                exec = if v == "tokio" {
                    Exec::Tokio
                } else {
                    Exec::Smol
                }
            }
            "--side" => side = v,
            o => {
                eprintln!("idle_sessions: unknown flag {o}");
                std::process::exit(2);
            }
        }
    }
    let ex = Executor::new(exec);
    let out = ex.block_on(async {
        let rt = mcp_sse_tests::driver_rt(exec);
        let mut config = load::large_server_config();
        config.max_sessions = MAX_SESSIONS + 100;
        let server = SseServer::new(
            rt.clone(),
            load::echo_server(),
            config,
            Box::new(mcp_sse_glue::os_random),
        );
        // Warm up allocator pools and lazily created state with a few sessions.
        let mut raw = Vec::new();
        let mut clients = Vec::new();
        let warm = 16;
        for _ in 0..warm {
            if side == "server" {
                raw.push(open_raw(&rt, &server).await);
            } else {
                clients.push(
                    mcp_sse_glue::connect_over_sse_to(
                        rt.clone(),
                        server.clone(),
                        ClientOptions::default(),
                    )
                    .await
                    .expect("connect"),
                );
            }
        }
        let before = load::rss_bytes().unwrap_or(0);
        for _ in 0..sessions {
            if side == "server" {
                raw.push(open_raw(&rt, &server).await);
            } else {
                clients.push(
                    mcp_sse_glue::connect_over_sse_to(
                        rt.clone(),
                        server.clone(),
                        ClientOptions::default(),
                    )
                    .await
                    .expect("connect"),
                );
            }
        }
        let after = load::rss_bytes().unwrap_or(0);
        assert_eq!(
            server.session_count(),
            sessions + warm,
            "sessions not all open"
        );
        let count = server.session_count();
        for c in &clients {
            c.close().await;
        }
        drop(raw);
        (before, after, count)
    });
    let (before, after, count) = out;
    let per = (after.saturating_sub(before)) as f64 / sessions as f64;
    println!(
        "{{\"exec\":\"{}\",\"side\":\"{side}\",\"sessions\":{sessions},\"open\":{count},\"rss_before\":{before},\"rss_after\":{after},\"bytes_per_session\":{per:.0}}}",
        match exec {
            Exec::Smol => "smol",
            Exec::Tokio => "tokio",
        }
    );
}
