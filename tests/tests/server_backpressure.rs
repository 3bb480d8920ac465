//! A client that keeps posting while it does not read its event stream: the server stops reading
//! its POSTs once the session's queues are full, instead of holding every message it accepted.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_sse_core::transport::ServerConfig;
use mcp_sse_glue::io::{duplex, ByteRead};
use mcp_sse_glue::{os_random, SseServer};
use mcp_sse_tests::{load, run_for, Exec, Harness, Transport};

/// Pings the client posts (each answered on the stream it never reads).
const POSTS: usize = 2_000;

/// Reads until `done` holds for what has arrived, or until nothing arrives for `idle`.
async fn read_until(
    h: &Harness,
    r: &mut dyn ByteRead,
    got: &mut Vec<u8>,
    idle: Duration,
    done: impl Fn(&[u8]) -> bool,
) {
    while !done(got) {
        let rt = h.rt();
        let chunk = futures_lite::future::or(async { Some(r.read().await) }, async {
            rt.sleep_until(Instant::now() + idle).await;
            None
        })
        .await;
        match chunk {
            Some(Ok(Some(b))) => got.extend_from_slice(&b),
            _ => return,
        }
    }
}

fn posts_stop_being_read_while_their_session_cannot_take_them(exec: Exec) {
    run_for(
        exec,
        Transport::SseInProcess,
        Duration::from_secs(60),
        |h| async move {
            let rt = h.rt();
            let config = ServerConfig {
                max_session_queue_bytes: 1024,
                ..ServerConfig::default()
            };
            let sse = SseServer::new(rt.clone(), load::echo_server(), config, Box::new(os_random));
            // The stream: read up to the endpoint event, then never again.
            let ((mut get_r, mut get_w), server_end) = duplex();
            let s = sse.clone();
            rt.spawn(Box::pin(
                async move { s.serve_connection(server_end).await },
            ));
            get_w
                .write(vec![Bytes::from_static(
                    b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n",
                )])
                .await
                .expect("write GET");
            let mut head = Vec::new();
            read_until(&h, &mut *get_r, &mut head, Duration::from_secs(10), |b| {
                String::from_utf8_lossy(b).contains("session_id=") && b.ends_with(b"\r\n\r\n\r\n")
            })
            .await;
            let text = String::from_utf8_lossy(&head).into_owned();
            let endpoint = text
                .split("data: ")
                .nth(1)
                .and_then(|t| t.split("\r\n").next())
                .expect("an endpoint event")
                .to_string();
            // One connection posting pings, pipelined, from a task of its own (its writes stop
            // completing once the server stops reading).
            let ((mut post_r, mut post_w), server_end) = duplex();
            let s = sse.clone();
            rt.spawn(Box::pin(
                async move { s.serve_connection(server_end).await },
            ));
            rt.spawn(Box::pin(async move {
                for i in 0..POSTS {
                    let body = format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"ping"}}"#);
                    let post = format!(
                        "POST {endpoint} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\
                         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if post_w.write(vec![Bytes::from(post)]).await.is_err() {
                        return;
                    }
                }
                let _ = post_w.close().await;
            }));
            // Count the 202s until they stop coming.
            let mut replies = Vec::new();
            read_until(
                &h,
                &mut *post_r,
                &mut replies,
                Duration::from_millis(500),
                |_| false,
            )
            .await;
            let accepted = String::from_utf8_lossy(&replies)
                .matches("HTTP/1.1 202 Accepted")
                .count();
            assert!(accepted > 0, "some posts were accepted");
            assert!(
                accepted < POSTS / 4,
                "{accepted} of {POSTS} posts accepted while their session could take none: \
                 the server kept reading them"
            );
            // The client goes: everything unwinds (the harness checks that every task ends).
            drop((get_r, get_w, post_r));
            sse.wait_idle().await;
            assert!(
                sse.wait_connections_closed(Duration::from_secs(10)).await,
                "connections left open"
            );
        },
    );
}

#[test]
fn smol() {
    posts_stop_being_read_while_their_session_cannot_take_them(Exec::Smol);
}

#[test]
fn tokio() {
    posts_stop_being_read_while_their_session_cannot_take_them(Exec::Tokio);
}
