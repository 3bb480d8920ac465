//! Interaction suite, "Progress" (legacy-sse.md d.2), over every transport × executor.

mod common_inter2;

use std::sync::Arc;

use common_inter2::*;
use mcp_sse_glue::{CallOptions, ClientOptions, ProgressCallback, RequestContext, ServerBuilder};
use mcp_sse_tests::interaction_test;
use serde_json::{json, Value};

type Seen = Rec<(f64, Option<f64>, Option<String>)>;

fn recorder() -> (ProgressCallback, Seen) {
    let seen: Seen = Rec::new();
    let s = seen.clone();
    (Arc::new(move |p, t, m| s.push((p, t, m))), seen)
}

fn with_progress(cb: ProgressCallback) -> CallOptions {
    CallOptions {
        timeout: None,
        progress: Some(cb),
    }
}

/// A tool `steps` sending each `[progress, total|null, message|null]` of its `steps` argument.
fn stepper(tokens: Rec<Value>) -> mcp_sse_glue::McpServer {
    ServerBuilder::new("p", "1")
        .tool(json!({"name": "steps", "inputSchema": {"type": "object"}}), move |ctx: RequestContext, args| {
            let tokens = tokens.clone();
            async move {
                tokens.push(json!({"token": ctx.progress_token(), "meta": ctx.meta(), "id": ctx.request_id().and_then(|i| i.to_value())}));
                for s in args["steps"].as_array().cloned().unwrap_or_default() {
                    ctx.progress(s[0].as_f64().unwrap_or(0.0), s[1].as_f64(), s[2].as_str()).await;
                }
                Ok(text("done"))
            }
        })
        .build()
}

interaction_test!(
    tool_progress_reaches_the_callback_in_order_before_the_result,
    pins = [
        "protocol:progress:callback",
        "tools:call:progress",
        "mcpserver:context:progress"
    ],
    |h| async move {
        let tokens = Rec::new();
        let c = h
            .connect(stepper(tokens.clone()), ClientOptions::default())
            .await;
        let (cb, seen) = recorder();
        let steps = json!([[1, 3, "one"], [2, 3, null], [3, null, "three"]]);
        let r = c
            .client
            .request(
                "tools/call",
                obj(json!({"name": "steps", "arguments": {"steps": steps}})),
                with_progress(cb),
            )
            .await;
        assert_eq!(
            r,
            Ok(json!({"content": [{"type": "text", "text": "done"}], "isError": false}))
        );
        assert_eq!(
            seen.get(),
            vec![
                (1.0, Some(3.0), Some("one".into())),
                (2.0, Some(3.0), None),
                (3.0, None, Some("three".into()))
            ]
        );
        c.close().await;
    }
);

interaction_test!(
    progress_callback_attaches_a_token_the_handler_can_read,
    pins = ["protocol:progress:token-injected"],
    |h| async move {
        let tokens = Rec::new();
        let c = h
            .connect(stepper(tokens.clone()), ClientOptions::default())
            .await;
        let (cb, _seen) = recorder();
        let params =
            obj(json!({"name": "steps", "arguments": {"steps": []}, "_meta": {"vendor/x": 1}}));
        c.client
            .request("tools/call", params, with_progress(cb))
            .await
            .unwrap();
        // The token is the request id (an integer); other `_meta` keys are kept.
        assert_eq!(
            tokens.get(),
            vec![json!({"token": 2, "meta": {"vendor/x": 1, "progressToken": 2}, "id": 2})]
        );
        c.close().await;
    }
);

interaction_test!(
    no_progress_callback_means_no_token,
    pins = ["protocol:progress:no-token"],
    |h| async move {
        let tokens = Rec::new();
        let c = h
            .connect(stepper(tokens.clone()), ClientOptions::default())
            .await;
        // The handler's progress() without a token sends nothing (and the call still succeeds).
        let r = call(&c.client, "steps", json!({"steps": [[1, 2, "x"]]})).await;
        assert_eq!(
            r,
            Ok(json!({"content": [{"type": "text", "text": "done"}], "isError": false}))
        );
        assert_eq!(
            tokens.get(),
            vec![json!({"token": null, "meta": null, "id": 2})]
        );
        c.close().await;
    }
);

interaction_test!(
    client_progress_notification_reaches_the_server_handler,
    pins = ["protocol:progress:client-to-server"],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let server = ServerBuilder::new("p", "1")
        .on_notification(move |ctx, method, params| {
            let tx = tx.clone();
            async move {
                if method != "notifications/initialized" {
                    let _ = tx.send(json!({"method": method, "params": params, "id": ctx.request_id().is_some()})).await;
                }
            }
        })
        .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let p =
            json!({"progressToken": "up-1", "progress": 0.25, "total": 1, "message": "uploading"});
        c.client
            .notify("notifications/progress", obj(p.clone()))
            .await
            .unwrap();
        assert_eq!(
            next(&rx).await,
            json!({"method": "notifications/progress", "params": p, "id": false})
        );
        c.close().await;
    }
);

interaction_test!(
    concurrent_requests_get_distinct_tokens_and_only_their_own_progress,
    pins = ["protocol:progress:token-unique"],
    |h| async move {
        let (arrived_tx, arrived_rx) = async_channel::unbounded::<Value>();
        let (go_tx, go_rx) = async_channel::unbounded::<()>();
        let server = ServerBuilder::new("p", "1")
            .tool(
                json!({"name": "tagged", "inputSchema": {"type": "object"}}),
                move |ctx: RequestContext, args| {
                    let (arrived_tx, go_rx) = (arrived_tx.clone(), go_rx.clone());
                    async move {
                        let tag = args["tag"].as_str().unwrap_or_default().to_string();
                        let _ = arrived_tx
                            .send(ctx.progress_token().cloned().unwrap_or(Value::Null))
                            .await;
                        // Both calls are in flight before either reports progress.
                        let _ = go_rx.recv().await;
                        for i in 1..=3 {
                            ctx.progress(i as f64, Some(3.0), Some(&format!("{tag}{i}")))
                                .await;
                        }
                        Ok(text(tag))
                    }
                },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let (cb_a, seen_a) = recorder();
        let (cb_b, seen_b) = recorder();
        let a = c.client.request(
            "tools/call",
            obj(json!({"name": "tagged", "arguments": {"tag": "a"}})),
            with_progress(cb_a),
        );
        let b = c.client.request(
            "tools/call",
            obj(json!({"name": "tagged", "arguments": {"tag": "b"}})),
            with_progress(cb_b),
        );
        let release = async {
            let t1 = next(&arrived_rx).await;
            let t2 = next(&arrived_rx).await;
            go_tx.send(()).await.unwrap();
            go_tx.send(()).await.unwrap();
            (t1, t2)
        };
        let ((ra, rb), (t1, t2)) =
            futures_lite::future::zip(futures_lite::future::zip(a, b), release).await;
        assert_eq!(
            ra,
            Ok(json!({"content": [{"type": "text", "text": "a"}], "isError": false}))
        );
        assert_eq!(
            rb,
            Ok(json!({"content": [{"type": "text", "text": "b"}], "isError": false}))
        );
        let mut tokens = vec![t1, t2];
        tokens.sort_by_key(|t| t.as_i64());
        assert_eq!(tokens, vec![json!(2), json!(3)]);
        let msgs = |s: &Seen| {
            s.get()
                .into_iter()
                .map(|(_, _, m)| m.unwrap_or_default())
                .collect::<Vec<_>>()
        };
        assert_eq!(msgs(&seen_a), vec!["a1", "a2", "a3"]);
        assert_eq!(msgs(&seen_b), vec!["b1", "b2", "b3"]);
        c.close().await;
    }
);

interaction_test!(
    progress_after_the_response_is_dropped_by_the_client,
    pins = [
        "protocol:progress:late-dropped-by-client",
        "protocol:progress:stops-after-completion"
    ],
    |h| async move {
        let (ctx_tx, ctx_rx) = async_channel::unbounded::<RequestContext>();
        let server = ServerBuilder::new("p", "1")
            .tool(
                json!({"name": "keep", "inputSchema": {"type": "object"}}),
                move |ctx: RequestContext, _args| {
                    let ctx_tx = ctx_tx.clone();
                    async move {
                        ctx.progress(1.0, Some(2.0), Some("in time")).await;
                        let _ = ctx_tx.send(ctx).await;
                        Ok(text("ok"))
                    }
                },
            )
            .build();
        let (handler, notes) = notifications();
        let c = h
            .connect(
                server,
                ClientOptions {
                    message_handler: Some(handler),
                    ..ClientOptions::default()
                },
            )
            .await;
        let (cb, seen) = recorder();
        c.client
            .request(
                "tools/call",
                obj(json!({"name": "keep"})),
                with_progress(cb),
            )
            .await
            .unwrap();
        let ctx = next(&ctx_rx).await;
        assert_eq!(ctx.progress_token(), Some(&json!(2)));
        // Late progress for the answered request, then a marker that arrives after it in order.
        ctx.progress(2.0, Some(2.0), Some("late")).await;
        ctx.tools_list_changed().await;
        assert_eq!(
            next(&notes).await,
            json!({"method": "notifications/tools/list_changed", "params": null})
        );
        assert_eq!(seen.get(), vec![(1.0, Some(2.0), Some("in time".into()))]);
        c.close().await;
    }
);

interaction_test!(
    non_increasing_progress_values_are_forwarded_unchanged,
    pins = ["protocol:progress:monotonic"],
    |h| async move {
        let tokens = Rec::new();
        let c = h.connect(stepper(tokens), ClientOptions::default()).await;
        let (cb, seen) = recorder();
        let steps = json!([
            [5, 10, null],
            [3, 10, null],
            [3, 10, null],
            [0.5, null, null],
            [-1.25, 0.75, "odd"]
        ]);
        c.client
            .request(
                "tools/call",
                obj(json!({"name": "steps", "arguments": {"steps": steps}})),
                with_progress(cb),
            )
            .await
            .unwrap();
        assert_eq!(
            seen.get(),
            vec![
                (5.0, Some(10.0), None),
                (3.0, Some(10.0), None),
                (3.0, Some(10.0), None),
                (0.5, None, None),
                (-1.25, Some(0.75), Some("odd".into()))
            ]
        );
        c.close().await;
    }
);

interaction_test!(
    progress_without_a_number_is_dropped_and_counted,
    pins = [],
    |h| async move {
        // A raw `notifications/progress` with a string `progress` for the call's own token: the
        // client session drops it as invalid (as the reference does after a warning), and the
        // client counts it instead of losing it silently.
        let server = ServerBuilder::new("p", "1")
            .tool(
                json!({"name": "bad", "inputSchema": {"type": "object"}}),
                |ctx: RequestContext, _args| async move {
                    let token = ctx.progress_token().cloned().unwrap_or(Value::Null);
                    let params = json!({"progressToken": token, "progress": "half"});
                    ctx.notify("notifications/progress", params.as_object().cloned())
                        .await;
                    ctx.progress(1.0, None, None).await;
                    Ok(text("done"))
                },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(c.client.invalid_messages(), 0);
        let (cb, seen) = recorder();
        let r = c
            .client
            .request("tools/call", obj(json!({"name": "bad"})), with_progress(cb))
            .await;
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(seen.get(), vec![(1.0, None, None)]);
        assert_eq!(c.client.invalid_messages(), 1);
        c.close().await;
    }
);
