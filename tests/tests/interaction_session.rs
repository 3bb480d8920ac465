//! Interaction suite, session rules of legacy-sse.md d.3 (`test_timeouts.py`, `test_wire.py`) as
//! seen through the public API, over every transport × executor.

mod common_inter2;

use mcp_sse_tests::RpcForm;
use std::time::Duration;

use common_inter2::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_glue::{CallOptions, ClientOptions, McpServer, RequestContext, ServerBuilder};
use mcp_sse_tests::interaction_test;
use serde_json::{json, Value};

fn timeout(ms: u64) -> CallOptions {
    CallOptions {
        timeout: Some(Duration::from_millis(ms)),
        progress: None,
    }
}

/// `block` signals `started`, then waits forever holding a [`DropSignal`] on `dropped`; `echo`
/// answers at once. The prompt `block` does the same.
fn blocking_server(
    started: async_channel::Sender<()>,
    dropped: async_channel::Sender<()>,
) -> McpServer {
    let (s2, d2) = (started.clone(), dropped.clone());
    ServerBuilder::new("b", "1")
        .tool(json!({"name": "block", "inputSchema": {"type": "object"}}), move |_ctx, _args| {
            // The guard exists before the first poll: a handler dropped unpolled still signals.
            let (started, guard) = (started.clone(), DropSignal(dropped.clone()));
            async move {
                let _guard = guard;
                let _ = started.send(()).await;
                futures_lite::future::pending::<()>().await;
                Ok(text("unreachable"))
            }
        })
        .tool(json!({"name": "echo", "inputSchema": {"type": "object"}}), |_ctx, args| async move {
            Ok(text(args["text"].as_str().unwrap_or_default().to_string()))
        })
        .prompt(json!({"name": "block"}), move |_ctx, _args| {
            let (started, guard) = (s2.clone(), DropSignal(d2.clone()));
            async move {
                let _guard = guard;
                let _ = started.send(()).await;
                futures_lite::future::pending::<()>().await;
                Ok(json!({"messages": []}))
            }
        })
        .build()
}

fn echoed(t: &str) -> Result<Value, ErrorObject> {
    Ok(json!({"content": [{"type": "text", "text": t}], "isError": false}))
}

interaction_test!(
    timeout_is_minus_32001_and_the_cancellation_interrupts_the_handler,
    pins = [
        "protocol:timeout:basic",
        "protocol:timeout:sends-cancellation",
        "protocol:timeout:session-survives"
    ],
    |h| async move {
        let (started_tx, started_rx) = async_channel::unbounded();
        let (dropped_tx, dropped_rx) = async_channel::unbounded();
        let c = h
            .connect(
                blocking_server(started_tx, dropped_tx),
                ClientOptions::default(),
            )
            .await;
        let r = c
            .client
            .request("tools/call", obj(json!({"name": "block"})), timeout(200))
            .await;
        assert_eq!(
            r.rpc_form(),
            Err(ErrorObject::new(
                codes::REQUEST_TIMEOUT,
                "Request 'tools/call' timed out"
            ))
        );
        next(&started_rx).await;
        // The courtesy notifications/cancelled reached the server and dropped the handler.
        next(&dropped_rx).await;
        // The session survives the timeout.
        assert_eq!(
            call(&c.client, "echo", json!({"text": "after"})).await,
            echoed("after")
        );
        c.close().await;
    }
);

interaction_test!(
    session_default_timeout_applies_to_every_request,
    pins = ["protocol:timeout:session-default"],
    |h| async move {
        let (started_tx, started_rx) = async_channel::unbounded();
        let (dropped_tx, dropped_rx) = async_channel::unbounded();
        let options = ClientOptions {
            read_timeout: Some(Duration::from_millis(600)),
            ..ClientOptions::default()
        };
        let c = h
            .connect(blocking_server(started_tx, dropped_tx), options)
            .await;
        let tool = c.client.request(
            "tools/call",
            obj(json!({"name": "block"})),
            CallOptions::default(),
        );
        let prompt = c.client.request(
            "prompts/get",
            obj(json!({"name": "block"})),
            CallOptions::default(),
        );
        let (tool, prompt) = futures_lite::future::zip(tool, prompt).await;
        assert_eq!(
            tool.rpc_form(),
            Err(ErrorObject::new(
                codes::REQUEST_TIMEOUT,
                "Request 'tools/call' timed out"
            ))
        );
        assert_eq!(
            prompt.rpc_form(),
            Err(ErrorObject::new(
                codes::REQUEST_TIMEOUT,
                "Request 'prompts/get' timed out"
            ))
        );
        for _ in 0..2 {
            next(&started_rx).await;
            next(&dropped_rx).await;
        }
        // Fast requests are unaffected by the default.
        assert_eq!(
            call(&c.client, "echo", json!({"text": "fast"})).await,
            echoed("fast")
        );
        c.close().await;
    }
);

interaction_test!(
    server_request_timeout_cancels_the_client_callback,
    pins = [
        "protocol:timeout:basic",
        "protocol:timeout:sends-cancellation"
    ],
    |h| async move {
        let server = ServerBuilder::new("s", "1")
            .tool(
                json!({"name": "ask", "inputSchema": {"type": "object"}}),
                |ctx: RequestContext, _args| async move {
                    let r = ctx
                        .request(
                            "sampling/createMessage",
                            obj(json!({"messages": [], "maxTokens": 1})),
                            Some(Duration::from_millis(200)),
                        )
                        .await;
                    let r = r.unwrap_or_else(|e| json!({"code": e.code, "message": e.message}));
                    Ok(json!({"content": [], "structuredContent": r}))
                },
            )
            .build();
        let (started_tx, started_rx) = async_channel::unbounded();
        let (dropped_tx, dropped_rx) = async_channel::unbounded();
        let cb = callback(move |_params| {
            let (started, guard) = (started_tx.clone(), DropSignal(dropped_tx.clone()));
            async move {
                let _guard = guard;
                let _ = started.send(()).await;
                futures_lite::future::pending::<()>().await;
                Ok(json!({}))
            }
        });
        let c = h
            .connect(
                server,
                ClientOptions {
                    sampling_callback: Some(cb),
                    ..ClientOptions::default()
                },
            )
            .await;
        let r = call(&c.client, "ask", json!({})).await;
        assert_eq!(
            r,
            Ok(
                json!({"content": [], "structuredContent": {"code": codes::REQUEST_TIMEOUT, "message": "Request 'sampling/createMessage' timed out"}, "isError": false})
            )
        );
        next(&started_rx).await;
        // The server's notifications/cancelled interrupted the client callback.
        next(&dropped_rx).await;
        assert_eq!(
            c.client.request("ping", None, CallOptions::default()).await,
            Ok(json!({}))
        );
        c.close().await;
    }
);

interaction_test!(
    ids_count_from_one_and_one_initialized_precedes_the_first_request,
    pins = [
        "protocol:request-id:unique",
        "lifecycle:initialized-notification",
        "protocol:notifications:no-response"
    ],
    |h| async move {
        let events = Rec::new();
        let (e1, e2) = (events.clone(), events.clone());
        let (note_tx, note_rx) = async_channel::unbounded::<()>();
        let server = low_level_with_notes(
            tools_only(),
            move |ctx, method, _params| {
                e1.push(
                    json!({"request": method, "id": ctx.request_id().and_then(|i| i.to_value())}),
                );
                async move { Ok(json!({"tools": []})) }
            },
            Some(move |_ctx: RequestContext, method: String, params| {
                e2.push(json!({"notification": method, "params": params}));
                let _ = note_tx.try_send(());
            }),
        );
        let c = h.connect(server, ClientOptions::default()).await;
        let ok = Ok(json!({"tools": []}));
        assert_eq!(
            c.client
                .request("tools/list", None, CallOptions::default())
                .await,
            ok
        );
        assert_eq!(
            c.client.request("ping", None, CallOptions::default()).await,
            Ok(json!({}))
        );
        c.client
            .notify("notifications/roots/list_changed", None)
            .await
            .unwrap();
        assert_eq!(
            c.client
                .request("tools/list", None, CallOptions::default())
                .await,
            ok
        );
        assert_eq!(
            c.client
                .request("tools/list", obj(json!({})), CallOptions::default())
                .await,
            ok
        );
        next(&note_rx).await;
        next(&note_rx).await;
        // initialize is 1, the ping took 3; the notification is never answered and takes no id.
        let expected = vec![
            json!({"notification": "notifications/initialized", "params": null}),
            json!({"request": "tools/list", "id": 2}),
            json!({"notification": "notifications/roots/list_changed", "params": null}),
            json!({"request": "tools/list", "id": 4}),
            json!({"request": "tools/list", "id": 5}),
        ];
        let got = events.get();
        if h.transport == mcp_sse_tests::Transport::InMemory {
            assert_eq!(got, expected);
        } else {
            // DIVERGENCE 5: over SSE each message is its own POST and several may be in flight, so a
            // message may reach the server after one the client sent later. Requests (each awaited
            // before the next) keep their order; the notifications all arrive, each exactly once.
            let kind = |k: &str, v: &[Value]| {
                let mut out: Vec<Value> =
                    v.iter().filter(|e| e.get(k).is_some()).cloned().collect();
                if k == "notification" {
                    out.sort_by_key(|e| e.to_string());
                }
                out
            };
            assert_eq!(kind("request", &got), kind("request", &expected));
            assert_eq!(kind("notification", &got), kind("notification", &expected));
        }
        assert!(note_rx.is_empty());
        c.close().await;
    }
);

interaction_test!(
    closing_fails_in_flight_calls_with_connection_closed,
    pins = ["protocol:error:connection-closed"],
    |h| async move {
        let (started_tx, started_rx) = async_channel::unbounded();
        let (dropped_tx, dropped_rx) = async_channel::unbounded();
        let c = h
            .connect(
                blocking_server(started_tx, dropped_tx),
                ClientOptions::default(),
            )
            .await;
        let client = c.client.clone();
        let in_flight = client.request(
            "tools/call",
            obj(json!({"name": "block"})),
            CallOptions::default(),
        );
        let closer = async move {
            next(&started_rx).await;
            c.close().await;
        };
        let (r, ()) = futures_lite::future::zip(in_flight, closer).await;
        assert_eq!(
            r.rpc_form(),
            Err(ErrorObject::new(
                codes::CONNECTION_CLOSED,
                "Connection closed"
            ))
        );
        // The server interrupted the handler when the session ended.
        next(&dropped_rx).await;
        // Later requests fail the same way.
        assert_eq!(
            client
                .request("ping", None, CallOptions::default())
                .await
                .rpc_form(),
            Err(ErrorObject::new(
                codes::CONNECTION_CLOSED,
                "Connection closed"
            ))
        );
    }
);

interaction_test!(
    malformed_params_and_invalid_log_level_are_invalid_params,
    pins = [
        "protocol:error:invalid-params",
        "logging:set-level:invalid-level"
    ],
    |h| async move {
        let seen = Rec::new();
        let s1 = seen.clone();
        let server = ServerBuilder::new("l", "1")
            .tool(
                json!({"name": "t", "inputSchema": {"type": "object"}}),
                move |_ctx, _args| {
                    s1.push(());
                    async move { Ok(text("ran")) }
                },
            )
            .resource(
                json!({"uri": "mem:///r", "name": "r"}),
                |_ctx, _uri| async move { Ok(json!([])) },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let invalid = Err(ErrorObject::invalid_params());
        assert_eq!(
            invalid,
            Err(
                ErrorObject::new(codes::INVALID_PARAMS, "Invalid request parameters")
                    .with_data(json!(""))
            )
        );
        let req = |m: &'static str, p: Value| {
            c.client.request(
                m,
                if p.is_null() { None } else { obj(p) },
                CallOptions::default(),
            )
        };
        assert_eq!(
            req("tools/call", json!({"name": 5})).await.rpc_form(),
            invalid
        );
        assert_eq!(
            req("resources/read", json!({"uri": 7})).await.rpc_form(),
            invalid
        );
        assert_eq!(req("resources/read", Value::Null).await.rpc_form(), invalid);
        assert_eq!(
            req("logging/setLevel", json!({"level": "verbose"}))
                .await
                .rpc_form(),
            invalid
        );
        assert_eq!(
            req("logging/setLevel", json!({"level": "INFO"}))
                .await
                .rpc_form(),
            invalid
        );
        assert_eq!(
            req("logging/setLevel", Value::Null).await.rpc_form(),
            invalid
        );
        assert_eq!(
            req("logging/setLevel", json!({"level": "warning"})).await,
            Ok(json!({}))
        );
        assert!(seen.get().is_empty());
        c.close().await;
    }
);

interaction_test!(
    dropping_the_last_client_handle_ends_the_session,
    pins = [],
    |h| async move {
        let (started_tx, _started_rx) = async_channel::unbounded();
        let (dropped_tx, _dropped_rx) = async_channel::unbounded();
        let c = h
            .connect(
                blocking_server(started_tx, dropped_tx),
                ClientOptions::default(),
            )
            .await;
        let clone = c.client.clone();
        assert_eq!(
            call(&clone, "echo", json!({"text": "a"})).await,
            echoed("a")
        );
        // A clone dropped early does not end the session; the last handle does (checked by
        // `abandon` on the server table and by the harness's task count afterwards).
        drop(clone);
        assert_eq!(
            call(&c.client, "echo", json!({"text": "b"})).await,
            echoed("b")
        );
        c.abandon().await;
    }
);

interaction_test!(
    dropping_the_client_with_a_call_in_flight_drops_the_handler,
    pins = [],
    |h| async move {
        let (started_tx, started_rx) = async_channel::unbounded();
        let (dropped_tx, dropped_rx) = async_channel::unbounded();
        let c = h
            .connect(
                blocking_server(started_tx, dropped_tx),
                ClientOptions::default(),
            )
            .await;
        let call = c.client.request(
            "tools/call",
            obj(json!({"name": "block"})),
            CallOptions::default(),
        );
        let started = futures_lite::future::or(
            async move {
                let _ = call.await;
                false
            },
            async {
                next(&started_rx).await;
                true
            },
        )
        .await;
        assert!(started, "the blocking call returned");
        c.abandon().await;
        next(&dropped_rx).await;
    }
);
