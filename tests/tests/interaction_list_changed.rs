//! Interaction suite, List-changed group (legacy-sse.md d.2).

mod common_inter1;

use common_inter1::*;
use mcp_sse_glue::{ClientOptions, RequestContext, ServerBuilder};
use mcp_sse_tests::Harness;
use serde_json::{json, Value};

/// A tool `change` sends the list_changed notification of `kind` (tools, resources, prompts)
/// mid-call; the client's message handler must get it, exactly once, before the call returns.
async fn list_changed_reaches_message_handler(h: Harness, kind: &'static str) {
    let (sent_tx, sent) = async_channel::unbounded();
    let server = ServerBuilder::new("changes", "1")
        .list_changed(true)
        .tool(
            json!({"name": "change", "inputSchema": {"type": "object"}}),
            move |ctx: RequestContext, _args| {
                let sent_tx = sent_tx.clone();
                async move {
                    match kind {
                        "tools" => ctx.tools_list_changed().await,
                        "resources" => ctx.resources_list_changed().await,
                        _ => ctx.prompts_list_changed().await,
                    }
                    let _ = sent_tx.send(kind).await;
                    Ok(text("changed"))
                }
            },
        )
        .resource(
            json!({"uri": "mem://a", "name": "a"}),
            |_c, uri| async move { Ok(json!([{"uri": uri, "text": "a"}])) },
        )
        .prompt(json!({"name": "p"}), |_c, _a| async move {
            Ok(json!({"messages": []}))
        })
        .build();
    let (tx, rx) = async_channel::unbounded();
    let opts = ClientOptions {
        message_handler: Some(messages_to(tx)),
        ..ClientOptions::default()
    };
    let c = h.connect(server, opts).await;
    let caps = &c.client.initialize_result().expect("init")["capabilities"];
    assert_eq!(caps["tools"], json!({"listChanged": true}));
    assert_eq!(
        caps["resources"],
        json!({"listChanged": true, "subscribe": false})
    );
    assert_eq!(caps["prompts"], json!({"listChanged": true}));

    let r = call(&c.client, "change", json!({})).await;
    assert_eq!(
        r,
        Ok(json!({"content": [{"type": "text", "text": "changed"}], "isError": false}))
    );
    assert_eq!(next(&sent).await, kind);
    let m = rx
        .try_recv()
        .expect("the notification is handled before the call returns");
    assert_eq!(
        incoming_json(&m),
        json!({"method": format!("notifications/{kind}/list_changed")})
    );
    assert!(rx.try_recv().is_err(), "exactly one notification");
    // The client can re-list after the change.
    let list: Value = c
        .client
        .request(&format!("{kind}/list"), None, Default::default())
        .await
        .expect("re-list");
    assert_eq!(list[kind].as_array().map(Vec::len), Some(1));
    c.close().await;
}

mcp_sse_tests::interaction_test!(
    tools_list_changed_reaches_message_handler,
    pins = ["tools:list-changed"],
    |h| async move {
        list_changed_reaches_message_handler(h, "tools").await;
    }
);

mcp_sse_tests::interaction_test!(
    resources_list_changed_reaches_message_handler,
    pins = ["resources:list-changed"],
    |h| async move {
        list_changed_reaches_message_handler(h, "resources").await;
    }
);

mcp_sse_tests::interaction_test!(
    prompts_list_changed_reaches_message_handler,
    pins = ["prompts:list-changed"],
    |h| async move {
        list_changed_reaches_message_handler(h, "prompts").await;
    }
);
