//! Interaction suite, "Roots" (legacy-sse.md d.2), over every transport × executor.

mod common_inter2;

use common_inter2::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_glue::{ClientOptions, McpServer, RequestCallback, ServerBuilder};
use mcp_sse_tests::interaction_test;
use serde_json::{json, Value};

/// A tool `roots` returning what `list_roots` gave it (result, or `{"error": …}`), and the client
/// capabilities it saw.
fn roots_server() -> McpServer {
    ServerBuilder::new("r", "1")
        .tool(
            json!({"name": "roots", "inputSchema": {"type": "object"}}),
            |ctx, _args| async move {
                let caps = ctx.client().map(|c| c.capabilities).unwrap_or(Value::Null);
                let r = match ctx.list_roots().await {
                    Ok(v) => json!({"result": v}),
                    Err(e) => {
                        json!({"error": {"code": e.code, "message": e.message, "data": e.data}})
                    }
                };
                Ok(json!({"content": [], "structuredContent": {"roots": r, "caps": caps}}))
            },
        )
        .build()
}

fn roots_cb(answer: Result<Value, ErrorObject>, seen: Rec<Value>) -> RequestCallback {
    callback(move |params| {
        seen.push(json!(params));
        let answer = answer.clone();
        async move { answer }
    })
}

interaction_test!(
    roots_list_from_a_tool_is_answered_by_the_client_callback,
    pins = ["roots:list:basic"],
    |h| async move {
        let seen = Rec::new();
        let roots = json!({"roots": [{"uri": "file:///tmp/root", "name": "root"}, {"uri": "file:///home/u/p", "_meta": {"k": 1}}]});
        let options = ClientOptions {
            list_roots_callback: Some(roots_cb(Ok(roots.clone()), seen.clone())),
            ..ClientOptions::default()
        };
        let c = h.connect(roots_server(), options).await;
        let r = call(&c.client, "roots", json!({})).await.unwrap();
        assert_eq!(
            r["structuredContent"],
            json!({"roots": {"result": roots}, "caps": {"roots": {"listChanged": true}}})
        );
        // The callback ran once, with no params.
        assert_eq!(seen.get(), vec![Value::Null]);
        c.close().await;
    }
);

interaction_test!(
    an_empty_roots_list_is_not_an_error,
    pins = ["roots:list:empty"],
    |h| async move {
        let seen = Rec::new();
        let options = ClientOptions {
            list_roots_callback: Some(roots_cb(Ok(json!({"roots": []})), seen.clone())),
            ..ClientOptions::default()
        };
        let c = h.connect(roots_server(), options).await;
        let r = call(&c.client, "roots", json!({})).await.unwrap();
        assert_eq!(
            r["structuredContent"]["roots"],
            json!({"result": {"roots": []}})
        );
        assert_eq!(seen.get().len(), 1);
        c.close().await;
    }
);

interaction_test!(
    no_roots_callback_gives_the_handler_an_error,
    pins = ["roots:list:not-supported"],
    |h| async move {
        let c = h.connect(roots_server(), ClientOptions::default()).await;
        let r = call(&c.client, "roots", json!({})).await.unwrap();
        // The specification's -32601 (the reference answers -32600; compatibility note 17).
        assert_eq!(
            r["structuredContent"],
            json!({"roots": {"error": {"code": codes::METHOD_NOT_FOUND, "message": "List roots not supported", "data": null}}, "caps": {}})
        );
        c.close().await;
    }
);

interaction_test!(
    a_callback_error_surfaces_as_that_error,
    pins = ["roots:list:client-error"],
    |h| async move {
        let seen = Rec::new();
        let err = ErrorObject::new(-32099, "roots unavailable").with_data(json!({"why": "locked"}));
        let options = ClientOptions {
            list_roots_callback: Some(roots_cb(Err(err), seen.clone())),
            ..ClientOptions::default()
        };
        let c = h.connect(roots_server(), options).await;
        let r = call(&c.client, "roots", json!({})).await.unwrap();
        assert_eq!(
            r["structuredContent"]["roots"],
            json!({"error": {"code": -32099, "message": "roots unavailable", "data": {"why": "locked"}}})
        );
        assert_eq!(seen.get().len(), 1);
        c.close().await;
    }
);

interaction_test!(
    roots_list_changed_reaches_the_server_handler,
    pins = ["roots:list-changed"],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let server = ServerBuilder::new("r", "1")
            .on_notification(move |_ctx, method, params| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(json!({"method": method, "params": params})).await;
                }
            })
            .build();
        let seen = Rec::new();
        let options = ClientOptions {
            list_roots_callback: Some(roots_cb(Ok(json!({"roots": []})), seen)),
            ..ClientOptions::default()
        };
        let c = h.connect(server, options).await;
        assert_eq!(
            next(&rx).await,
            json!({"method": "notifications/initialized", "params": null})
        );
        c.client
            .notify("notifications/roots/list_changed", None)
            .await
            .unwrap();
        assert_eq!(
            next(&rx).await,
            json!({"method": "notifications/roots/list_changed", "params": null})
        );
        c.close().await;
    }
);
