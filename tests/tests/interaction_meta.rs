//! Interaction suite, Meta group (legacy-sse.md d.2).

mod common_inter1;

use std::sync::Arc;

use async_channel::Sender;
use common_inter1::*;
use mcp_sse_glue::{CallOptions, ClientOptions, McpServer, RequestContext, ServerBuilder};
use serde_json::{json, Value};

/// `show_meta` reports `ctx.meta()` (and its progress token) on `seen`; `with_meta` returns a
/// result carrying `_meta`; notifications report their method and `_meta` on `seen`.
fn server(seen: Sender<Value>) -> McpServer {
    let seen2 = seen.clone();
    ServerBuilder::new("meta", "1")
        .tool(json!({"name": "show_meta", "inputSchema": {"type": "object"}}), move |ctx: RequestContext, args| {
            let seen = seen.clone();
            async move {
                let meta = ctx.meta().cloned().map(Value::Object).unwrap_or(Value::Null);
                let token = ctx.progress_token().cloned().unwrap_or(Value::Null);
                let v = json!({"meta": meta, "progressToken": token, "args": args});
                let _ = seen.send(v.clone()).await;
                Ok(text("seen"))
            }
        })
        .tool(json!({"name": "with_meta", "inputSchema": {"type": "object"}}), |_ctx, _args| async move {
            Ok(json!({"content": [{"type": "text", "text": "meta inside", "_meta": {"block": "b-1"}}],
                      "_meta": {"com.example/cost": {"tokens": 12, "usd": 0.0004}, "trace": ["a", "b"], "empty": {}}}))
        })
        .on_notification(move |ctx, method, _params| {
            let seen = seen2.clone();
            async move {
                if method != "notifications/initialized" {
                    let meta = ctx.meta().cloned().map(Value::Object).unwrap_or(Value::Null);
                    let _ = seen.send(json!({"notification": method, "meta": meta})).await;
                }
            }
        })
        .build()
}

fn rich_meta() -> Value {
    json!({"com.example/trace": {"id": "abc-123", "sampled": true, "depth": 3},
           "note": "unicode é ✓", "list": [1, 2.5, null, "x"], "nested": {"a": {"b": {"c": []}}}})
}

mcp_sse_tests::interaction_test!(
    request_meta_reaches_tool_handler_unchanged,
    pins = ["meta:request-to-handler"],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let c = h.connect(server(tx), ClientOptions::default()).await;
        let params = obj(json!({"name": "show_meta", "arguments": {"x": 1}, "_meta": rich_meta()}));
        let r = c
            .client
            .request("tools/call", Some(params), CallOptions::default())
            .await;
        assert_eq!(
            r,
            Ok(json!({"content": [{"type": "text", "text": "seen"}], "isError": false}))
        );
        assert_eq!(
            next(&rx).await,
            json!({"meta": rich_meta(), "progressToken": null, "args": {"x": 1}})
        );

        // Without `_meta` the handler sees none.
        call(&c.client, "show_meta", json!({}))
            .await
            .expect("show_meta");
        assert_eq!(
            next(&rx).await,
            json!({"meta": null, "progressToken": null, "args": {}})
        );
        c.close().await;
    }
);

// Asking for progress adds `progressToken` (the request id) next to the caller's own `_meta`
// keys, which stay unchanged.
mcp_sse_tests::interaction_test!(
    progress_token_joins_caller_meta,
    pins = ["protocol:progress:token-injected"],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let c = h.connect(server(tx), ClientOptions::default()).await;
        let params = obj(json!({"name": "show_meta", "arguments": {}, "_meta": rich_meta()}));
        let opts = CallOptions {
            progress: Some(Arc::new(|_, _, _| {})),
            ..CallOptions::default()
        };
        c.client
            .request("tools/call", Some(params), opts)
            .await
            .expect("show_meta");
        let mut expected_meta = rich_meta();
        // Ids: initialize is 1, this call is 2.
        expected_meta["progressToken"] = json!(2);
        assert_eq!(
            next(&rx).await,
            json!({"meta": expected_meta, "progressToken": 2, "args": {}})
        );
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    result_meta_reaches_client_unchanged,
    pins = ["meta:result-to-client"],
    |h| async move {
        let (tx, _rx) = async_channel::unbounded();
        let c = h.connect(server(tx), ClientOptions::default()).await;
        let r = call(&c.client, "with_meta", json!({})).await;
        assert_eq!(
            r,
            Ok(
                json!({"content": [{"type": "text", "text": "meta inside", "_meta": {"block": "b-1"}}],
                  "_meta": {"com.example/cost": {"tokens": 12, "usd": 0.0004}, "trace": ["a", "b"], "empty": {}},
                  "isError": false})
            )
        );
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    notification_meta_reaches_server_handler_unchanged,
    pins = [],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let c = h.connect(server(tx), ClientOptions::default()).await;
        let params = obj(json!({"_meta": rich_meta()}));
        c.client
            .notify("notifications/roots/list_changed", Some(params))
            .await
            .expect("notify");
        assert_eq!(
            next(&rx).await,
            json!({"notification": "notifications/roots/list_changed", "meta": rich_meta()})
        );
        c.close().await;
    }
);
