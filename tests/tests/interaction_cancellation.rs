//! Interaction suite, Cancellation group (legacy-sse.md d.2) and the d.3 `test_cancellation.py`
//! rules seen through the public API.

#[macro_use]
mod common_inter1;

use std::time::Duration;

use async_channel::{Receiver, Sender};
use common_inter1::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_glue::{
    CallOptions, ClientOptions, McpServer, RequestContext, ServerBuilder, ToolError,
};
use serde_json::{json, Value};

/// What the server's handlers report.
struct Probes {
    /// `block` started (its arguments).
    started: Receiver<Value>,
    /// `block` was dropped (interrupted).
    dropped: Receiver<()>,
    /// `gate` may finish (one value per call).
    gate: Sender<()>,
    /// A `gate` call was dropped before it finished (interrupted).
    gate_interrupted: Receiver<()>,
}

/// Signals on drop unless [`Interrupted::finish`] ran first: tells an interrupted handler from
/// one that returned.
struct Interrupted(Option<Sender<()>>);

impl Interrupted {
    fn finish(mut self) {
        self.0 = None;
    }
}

impl Drop for Interrupted {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.try_send(());
        }
    }
}

/// A `gate` call raced against its handler's interruption probe: an interrupted handler leaves
/// the call unanswered, so this fails at once with `interrupted` instead of at the test's
/// timeout.
fn gate_call(
    client: &mcp_sse_glue::Client,
    p: &Probes,
    interrupted: &'static str,
) -> impl std::future::Future<Output = Result<Value, ErrorObject>> {
    let client = client.clone();
    let probe = p.gate_interrupted.clone();
    async move {
        futures_lite::future::or(
            async { Some(call(&client, "gate", json!({})).await) },
            async {
                let _ = probe.recv().await;
                None
            },
        )
        .await
        .expect(interrupted)
    }
}

/// `block` waits forever (reports start and interruption); `gate` returns `"released"` once the
/// test opens the gate; `echo` returns its `text`.
fn server() -> (McpServer, Probes) {
    let (started_tx, started) = async_channel::unbounded();
    let (dropped_tx, dropped) = async_channel::unbounded();
    let (gate, gate_rx) = async_channel::unbounded::<()>();
    let (gate_interrupted_tx, gate_interrupted) = async_channel::unbounded();
    let server = ServerBuilder::new("cancel", "1")
        .tool(
            json!({"name": "block", "inputSchema": {"type": "object"}}),
            move |_ctx, args| {
                let started = started_tx.clone();
                let guard = DropSignal(dropped_tx.clone());
                async move {
                    let _guard = guard;
                    let _ = started.send(Value::Object(args)).await;
                    std::future::pending::<Result<Value, ToolError>>().await
                }
            },
        )
        .tool(
            json!({"name": "gate", "inputSchema": {"type": "object"}}),
            move |_ctx, _args| {
                let gate = gate_rx.clone();
                let interrupted = Interrupted(Some(gate_interrupted_tx.clone()));
                async move {
                    let opened = gate.recv().await;
                    interrupted.finish();
                    opened.map_err(|_| ToolError::from("gate closed"))?;
                    Ok(text("released"))
                }
            },
        )
        .tool(
            json!({"name": "echo", "inputSchema": {"type": "object"}}),
            |_ctx, args| async move {
                Ok(text(
                    args.get("text").and_then(Value::as_str).unwrap_or_default(),
                ))
            },
        )
        .build();
    (
        server,
        Probes {
            started,
            dropped,
            gate,
            gate_interrupted,
        },
    )
}

fn echo_result(t: &str) -> Value {
    json!({"content": [{"type": "text", "text": t}], "isError": false})
}

// Cancelling an in-flight call (the caller drops the request future: `notifications/cancelled`
// with `caller cancelled`) interrupts the handler; the session then serves the next request.
mcp_sse_tests::interaction_test!(
    cancelling_in_flight_call_interrupts_handler,
    pins = [
        "protocol:cancel:in-flight",
        "protocol:cancel:handler-abort-propagates",
        "protocol:cancel:server-survives"
    ],
    |h| async move {
        let (server, p) = server();
        let c = h.connect(server, ClientOptions::default()).await;
        let call_fut = call(&c.client, "block", json!({"n": 1}));
        let outcome = futures_lite::future::or(async { Some(call_fut.await) }, async {
            assert_eq!(next(&p.started).await, json!({"n": 1}));
            None
        })
        .await;
        assert_eq!(outcome, None, "the blocking call cannot finish");
        next(&p.dropped).await; // the handler was interrupted
        assert_eq!(
            call(&c.client, "echo", json!({"text": "after"})).await,
            Ok(echo_result("after"))
        );
        assert!(p.started.try_recv().is_err());
        c.close().await;
    }
);

// The same on the wire: after `notifications/cancelled` no response is ever sent for that id.
mcp_sse_tests::interaction_test!(
    cancelled_request_is_never_answered,
    pins = ["protocol:cancel:in-flight"],
    |h| async move {
        let (server, p) = server();
        let peer = RawPeer::connect(&h, server).await;
        peer.initialize("2025-11-25").await;
        peer.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "block", "arguments": {}}})).await;
        assert_eq!(next(&p.started).await, json!({}));
        peer.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2, "reason": "user gave up"}}))
        .await;
        next(&p.dropped).await;
        // The next thing on the stream is the answer to the next request: nothing for id 2.
        peer.send(json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}))
            .await;
        assert_eq!(
            peer.recv().await,
            json!({"jsonrpc": "2.0", "id": 3, "result": {}})
        );
        // The session still serves tools.
        peer.send(json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "x"}}}))
        .await;
        assert_eq!(
            peer.recv().await,
            json!({"jsonrpc": "2.0", "id": 4, "result": echo_result("x")})
        );
        peer.close().await;
    }
);

// A cancel naming an id that is not in flight (never used, or already answered) is ignored; an
// in-flight request is unaffected.
mcp_sse_tests::interaction_test!(
    cancel_for_unknown_id_is_ignored,
    pins = ["protocol:cancel:unknown-id-ignored"],
    |h| async move {
        let (server, p) = server();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            call(&c.client, "echo", json!({"text": "done"})).await,
            Ok(echo_result("done"))
        );
        let gated = gate_call(&c.client, &p, "a stray cancel interrupted the gated call");
        let cancel_others = async {
            // Id 2 was answered already, 99 was never used.
            for id in [json!(2), json!(99), json!("2")] {
                let params = obj(json!({"requestId": id, "reason": "stray"}));
                c.client
                    .notify("notifications/cancelled", Some(params))
                    .await
                    .expect("notify");
            }
            // A round trip makes sure the server processed the cancels before the gate opens.
            assert_eq!(
                c.client.request("ping", None, CallOptions::default()).await,
                Ok(json!({}))
            );
            p.gate.send(()).await.expect("gate open");
        };
        let (r, ()) = futures_lite::future::zip(gated, cancel_others).await;
        assert_eq!(r, Ok(echo_result("released")));
        assert!(p.dropped.try_recv().is_err());
        assert!(
            p.gate_interrupted.try_recv().is_err(),
            "a stray cancel interrupted the gated call"
        );
        c.close().await;
    }
);

/// `ask` sends `sampling/createMessage` with a 200 ms timeout and reports the outcome.
fn sampling_server(outcome: Sender<Value>) -> McpServer {
    ServerBuilder::new("abandon", "1")
        .tool(json!({"name": "ask", "inputSchema": {"type": "object"}}), move |ctx: RequestContext, _args| {
            let outcome = outcome.clone();
            async move {
                let params = obj(json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 5}));
                let r = ctx.request("sampling/createMessage", Some(params), Some(Duration::from_millis(200))).await;
                let v = match r {
                    Ok(v) => json!({"ok": v}),
                    Err(e) => json!({"err": error_json(&e)}),
                };
                let _ = outcome.send(v.clone()).await;
                Ok(structured(v))
            }
        })
        .build()
}

// A server abandoning its sampling request (here: its timeout expires, so it sends
// `notifications/cancelled`) cancels the client callback mid-await; the tool sees -32001.
mcp_sse_tests::interaction_test!(
    server_abandoning_sampling_cancels_client_callback,
    pins = ["protocol:cancel:server-to-client"],
    |h| async move {
        let (outcome_tx, outcome) = async_channel::unbounded();
        let (started_tx, started) = async_channel::unbounded();
        let (dropped_tx, dropped) = async_channel::unbounded();
        let opts = ClientOptions {
            sampling_callback: Some(blocking_callback(started_tx, dropped_tx)),
            ..ClientOptions::default()
        };
        let c = h.connect(sampling_server(outcome_tx), opts).await;
        let r = call(&c.client, "ask", json!({})).await.expect("ask");
        let expected = json!({"err": {"code": codes::REQUEST_TIMEOUT, "message": "Request 'sampling/createMessage' timed out"}});
        assert_eq!(
            r,
            json!({"content": [], "structuredContent": expected, "isError": false})
        );
        assert_eq!(next(&outcome).await, expected);
        assert_eq!(
            next(&started).await,
            json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 5})
        );
        next(&dropped).await; // the callback was interrupted by the server's cancellation
        c.close().await;
    }
);

// Abandoning the awaiting task cancels the request server-side; later calls (several) work and
// use fresh ids.
mcp_sse_tests::interaction_test!(
    abandoning_awaiting_task_cancels_server_side,
    pins = ["protocol:cancel:abort-signal"],
    |h| async move {
        let (server, p) = server();
        let c = h.connect(server, ClientOptions::default()).await;
        for round in 0..3 {
            let call_fut = call(&c.client, "block", json!({"round": round}));
            let outcome = futures_lite::future::or(async { Some(call_fut.await) }, async {
                assert_eq!(next(&p.started).await, json!({"round": round}));
                None
            })
            .await;
            assert_eq!(outcome, None);
            next(&p.dropped).await;
            let t = format!("round {round}");
            assert_eq!(
                call(&c.client, "echo", json!({"text": t})).await,
                Ok(echo_result(&t))
            );
        }
        c.close().await;
    }
);

// Abandoning one of two concurrent calls interrupts only that one; the other returns.
mcp_sse_tests::interaction_test!(
    abandoning_one_of_two_calls_interrupts_only_it,
    pins = ["protocol:cancel:abort-scoped"],
    |h| async move {
        let (server, p) = server();
        let c = h.connect(server, ClientOptions::default()).await;
        let gated = gate_call(&c.client, &p, "the other call's handler was interrupted");
        let abandon = async {
            let call_fut = call(&c.client, "block", json!({}));
            let outcome = futures_lite::future::or(async { Some(call_fut.await) }, async {
                next(&p.started).await;
                None
            })
            .await;
            assert_eq!(outcome, None);
            next(&p.dropped).await;
            p.gate.send(()).await.expect("gate open");
        };
        let (r, ()) = futures_lite::future::zip(gated, abandon).await;
        assert_eq!(r, Ok(echo_result("released")));
        assert!(
            p.dropped.try_recv().is_err(),
            "only the abandoned handler was interrupted"
        );
        assert!(
            p.gate_interrupted.try_recv().is_err(),
            "the other call's handler was interrupted"
        );
        c.close().await;
    }
);

// d.3 / a.3: a response from the client naming an id the server never used is dropped silently.
mcp_sse_tests::interaction_test!(
    server_ignores_response_for_unknown_id,
    pins = ["protocol:cancel:late-response-ignored"],
    |h| async move {
        let (server, _p) = server();
        let peer = RawPeer::connect(&h, server).await;
        peer.initialize("2025-11-25").await;
        peer.send(json!({"jsonrpc": "2.0", "id": 41, "result": {"stray": true}}))
            .await;
        peer.send(json!({"jsonrpc": "2.0", "id": 42, "error": {"code": -1, "message": "stray"}}))
            .await;
        peer.send(json!({"jsonrpc": "2.0", "id": 5, "method": "ping"}))
            .await;
        assert_eq!(
            peer.recv().await,
            json!({"jsonrpc": "2.0", "id": 5, "result": {}})
        );
        peer.close().await;
    }
);

// d.3 test_cancellation.py (scripted server): a response for an unknown id is ignored; the real
// answer still resolves the request.
scripted_test!(
    client_ignores_response_for_unknown_id,
    pins = ["protocol:cancel:late-response-ignored"],
    |h| async move {
        let (mut server, done) = start_scripted(&h, ClientOptions::default());
        let init = server.recv().await.expect("initialize");
        assert_eq!(init["method"], json!("initialize"));
        server
        .send(json!({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "2025-11-25", "capabilities": {},
               "serverInfo": {"name": "scripted", "version": "1"}}}))
        .await;
        let client = next(&done).await.expect("initialized");
        assert_eq!(
            server.recv().await,
            Some(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        );
        let request = {
            let client = client.clone();
            async move {
                client
                    .request("tools/list", None, CallOptions::default())
                    .await
            }
        };
        let script = async {
            assert_eq!(
                server.recv().await,
                Some(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
            );
            server
                .send(json!({"jsonrpc": "2.0", "id": 77, "result": {"tools": ["wrong"]}}))
                .await;
            server
            .send(
                json!({"jsonrpc": "2.0", "id": 78, "error": {"code": -32603, "message": "wrong"}}),
            )
            .await;
            server
                .send(json!({"jsonrpc": "2.0", "id": 2, "result": {"tools": []}}))
                .await;
        };
        let (r, ()) = futures_lite::future::zip(request, script).await;
        assert_eq!(r, Ok(json!({"tools": []})));
        let closing = client.close();
        let script = async {
            assert_eq!(
                server.drain().await,
                Vec::<Value>::new(),
                "nothing else was sent"
            );
            server.to_client.close();
        };
        futures_lite::future::zip(closing, script).await;
    }
);

// d.3 test_cancellation.py (scripted server): a timed-out `initialize` sends no cancellation.
scripted_test!(
    timed_out_initialize_sends_no_cancellation,
    pins = ["protocol:cancel:initialize-not-cancellable"],
    |h| async move {
        let opts = ClientOptions {
            read_timeout: Some(Duration::from_millis(200)),
            ..ClientOptions::default()
        };
        let (mut server, done) = start_scripted(&h, opts);
        assert_eq!(
            server.recv().await.expect("initialize")["method"],
            json!("initialize")
        );
        // Never answer: the client times out and closes its side having sent nothing else.
        assert_eq!(server.drain().await, Vec::<Value>::new());
        server.to_client.close();
        let err = next(&done).await.expect_err("initialize times out");
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(
            err.to_error_object(),
            ErrorObject::new(codes::REQUEST_TIMEOUT, "Request 'initialize' timed out")
        );
    }
);

// A server abandoning its sampling request (the tool drops the pending `ctx.sample` future, as
// a cancelled task would) sends `notifications/cancelled`, which interrupts the client callback
// mid-await; the session keeps working.
mcp_sse_tests::interaction_test!(
    server_dropping_sampling_request_cancels_client_callback,
    pins = ["protocol:cancel:server-to-client"],
    |h| async move {
        let (started_tx, started) = async_channel::unbounded();
        let (dropped_tx, dropped) = async_channel::unbounded();
        let give_up = started.clone();
        let server = ServerBuilder::new("abandon", "1")
            .tool(
                json!({"name": "ask", "inputSchema": {"type": "object"}}),
                move |ctx: RequestContext, _args| {
                    let give_up = give_up.clone();
                    async move {
                        let params = obj(json!({"messages": [], "maxTokens": 1}));
                        let sample = ctx.sample(params);
                        // Give up as soon as the client's callback is running.
                        let r = futures_lite::future::or(async { Some(sample.await) }, async {
                            let _ = give_up.recv().await;
                            None
                        })
                        .await;
                        Ok(text(if r.is_none() { "gave up" } else { "answered" }))
                    }
                },
            )
            .build();
        let opts = ClientOptions {
            sampling_callback: Some(blocking_callback(started_tx, dropped_tx)),
            ..ClientOptions::default()
        };
        let c = h.connect(server, opts).await;
        let r = call(&c.client, "ask", json!({})).await;
        assert_eq!(r, Ok(echo_result("gave up")));
        next(&dropped).await; // interrupted by the server's notifications/cancelled, not by close
        assert_eq!(
            c.client.request("ping", None, CallOptions::default()).await,
            Ok(json!({}))
        );
        c.close().await;
    }
);
