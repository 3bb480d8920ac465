//! Reconnection after a dropped stream (issue 16), over the real HTTP+SSE bytes in process, on
//! both executors: with 8 calls in flight the stream is cut; each call fails exactly once with
//! the typed "session lost" error (never re-sent), the application hears `Lost` then
//! `Reconnected`, and the new session serves the next call. When every try fails the client
//! gives up and closes. Every task the client started has ended afterwards (the harness checks).
//!
//! Requirement ids: none of `sse-2025-11-25.csv` (the reference does not reconnect).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use mcp_sse_glue::io::{ByteRead, Connection};
use mcp_sse_glue::{
    BoxFuture, CallOptions, ClientOptions, ConnectionWrap, ReconnectPolicy, ServerBuilder,
    SessionEvent,
};
use mcp_sse_tests::{Exec, Transport};
use serde_json::json;

/// Every connection opened so far can be cut at once; later ones are not affected.
#[derive(Clone, Default)]
struct Cutter {
    live: Arc<Mutex<Vec<async_channel::Sender<()>>>>,
}

impl Cutter {
    fn wrap(&self) -> ConnectionWrap {
        let live = self.live.clone();
        Arc::new(move |(read, write): Connection| {
            let (tx, rx) = async_channel::bounded::<()>(1);
            live.lock().unwrap().push(tx);
            (
                Box::new(CutRead {
                    inner: read,
                    cut: rx,
                }) as Box<dyn ByteRead>,
                write,
            )
        })
    }

    /// Ends every connection opened so far, as a dropped network path does for the reader.
    fn cut(&self) {
        self.live.lock().unwrap().clear();
    }
}

struct CutRead {
    inner: Box<dyn ByteRead>,
    cut: async_channel::Receiver<()>,
}

impl ByteRead for CutRead {
    fn read(&mut self) -> BoxFuture<'_, std::io::Result<Option<Bytes>>> {
        Box::pin(async move {
            let cut = self.cut.clone();
            futures_lite::future::or(self.inner.read(), async move {
                let _ = cut.recv().await;
                Ok(None)
            })
            .await
        })
    }
}

fn policy(tries: u32) -> ReconnectPolicy {
    ReconnectPolicy::Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(40),
        max_attempts: tries,
    }
}

/// A client of `server` through cuttable in-process connections, reconnecting with up to
/// `tries` tries; its session events arrive on the returned channel.
struct Rig {
    client: mcp_sse_glue::Client,
    sse: Arc<mcp_sse_glue::SseServer>,
    cutter: Cutter,
    events: async_channel::Receiver<SessionEvent>,
}

async fn rig(h: &mcp_sse_tests::Harness, server: mcp_sse_glue::McpServer, tries: u32) -> Rig {
    let (ev_tx, events) = async_channel::unbounded();
    let options = ClientOptions {
        reconnect: policy(tries),
        on_session: Some(Arc::new(move |e| {
            let _ = ev_tx.try_send(e);
        })),
        ..ClientOptions::default()
    };
    let sse = mcp_sse_glue::SseServer::new(
        h.rt(),
        server,
        Default::default(),
        Box::new(mcp_sse_glue::os_random),
    );
    let cutter = Cutter::default();
    let client =
        mcp_sse_glue::connect_over_sse_wrapped(h.rt(), sse.clone(), options, Some(cutter.wrap()))
            .await
            .expect("connect");
    Rig {
        client,
        sse,
        cutter,
        events,
    }
}

async fn next_event(rx: &async_channel::Receiver<SessionEvent>) -> SessionEvent {
    futures_lite::future::or(async { rx.recv().await.expect("events") }, async {
        smol::Timer::after(Duration::from_secs(20)).await;
        panic!("no session event within 20 s")
    })
    .await
}

fn cut_under_load(exec: Exec) {
    mcp_sse_tests::run_for(
        exec,
        Transport::SseInProcess,
        Duration::from_secs(60),
        |h| async move {
            let (started_tx, started_rx) = async_channel::unbounded::<()>();
            let server = ServerBuilder::new("r", "1")
                .tool(
                    json!({"name": "block", "inputSchema": {"type": "object"}}),
                    move |_ctx, _args| {
                        let started = started_tx.clone();
                        async move {
                            let _ = started.send(()).await;
                            futures_lite::future::pending::<()>().await;
                            Ok(json!({}))
                        }
                    },
                )
                .tool(
                    json!({"name": "echo", "inputSchema": {"type": "object"}}),
                    |_ctx, args| async move {
                        Ok(json!({"content": [{"type": "text", "text": args["text"]}]}))
                    },
                )
                .build();
            let Rig {
                client,
                sse,
                cutter,
                events: ev_rx,
            } = rig(&h, server, 5).await;
            let (res_tx, res_rx) = async_channel::unbounded();
            for _ in 0..8 {
                let (c, tx) = (client.clone(), res_tx.clone());
                h.rt().spawn(Box::pin(async move {
                    let params = json!({"name": "block"}).as_object().cloned();
                    let r = c
                        .request("tools/call", params, CallOptions::default())
                        .await;
                    let _ = tx.send(r).await;
                }));
            }
            for _ in 0..8 {
                started_rx.recv().await.expect("started");
            }
            cutter.cut();
            let mut all = Vec::new();
            for _ in 0..8 {
                all.push(res_rx.recv().await.expect("each call resolves"));
            }
            assert_eq!(all.len(), 8);
            for r in &all {
                let e = r.as_ref().expect_err("in flight at the cut");
                assert!(
                    matches!(e, mcp_sse_glue::Error::SessionLost { .. })
                        && e.to_error_object().is_session_lost(),
                    "{e:?}"
                );
            }
            match next_event(&ev_rx).await {
                SessionEvent::Lost { cause } => assert!(!cause.is_empty()),
                other => panic!("expected Lost, got {other:?}"),
            }
            assert_eq!(next_event(&ev_rx).await, SessionEvent::Reconnected);
            let r = client
                .request(
                    "tools/call",
                    json!({"name": "echo", "arguments": {"text": "again"}})
                        .as_object()
                        .cloned(),
                    CallOptions::default(),
                )
                .await
                .expect("the new session serves");
            assert_eq!(r["content"][0]["text"], "again");
            client.close().await;
            assert!(ev_rx.try_recv().is_err(), "nothing more after close");
            sse.shutdown().await;
        },
    );
}

#[test]
fn cut_under_load_smol() {
    cut_under_load(Exec::Smol);
}

#[test]
fn cut_under_load_tokio() {
    cut_under_load(Exec::Tokio);
}

fn gives_up(exec: Exec) {
    mcp_sse_tests::run_for(
        exec,
        Transport::SseInProcess,
        Duration::from_secs(60),
        |h| {
            async move {
                let server = ServerBuilder::new("r", "1").build();
                let Rig {
                    client,
                    sse,
                    cutter,
                    events: ev_rx,
                } = rig(&h, server, 3).await;
                // The server shuts down (new GETs get 503), then the stream is cut.
                sse.shutdown().await;
                cutter.cut();
                assert!(matches!(
                    next_event(&ev_rx).await,
                    SessionEvent::Lost { .. }
                ));
                assert_eq!(next_event(&ev_rx).await, SessionEvent::GaveUp);
                let e = client
                    .request("ping", None, CallOptions::default())
                    .await
                    .expect_err("closed for good");
                assert!(e.is_closed(), "{e:?}");
                assert_eq!(e.to_error_object().code, -32000, "{e:?}");
                client.close().await;
            }
        },
    );
}

#[test]
fn gives_up_smol() {
    gives_up(Exec::Smol);
}

#[test]
fn gives_up_tokio() {
    gives_up(Exec::Tokio);
}
