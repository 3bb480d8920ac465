//! Interaction suite, Completion group (legacy-sse.md d.2).

mod common_inter1;

use async_channel::Sender;
use common_inter1::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_glue::{CallOptions, ClientOptions, McpServer, ServerBuilder};
use serde_json::{json, Value};

const NAMES: [&str; 4] = ["alice", "albert", "bob", "carol"];

/// A server with prompt `greet(name)`, template `file:///{path}` and a completion handler that
/// records its params on `seen`. Known refs: prompt `greet`, template `file:///{path}`; anything
/// else is -32602 `Unknown reference`.
fn server(seen: Sender<Value>) -> McpServer {
    ServerBuilder::new("complete", "1")
        .prompt(
            json!({"name": "greet", "arguments": [{"name": "name", "required": true}]}),
            |_c, _a| async move { Ok(json!({"messages": []})) },
        )
        .resource_template(json!({"uriTemplate": "file:///{path}", "name": "files"}), |_c, uri, _v| async move {
            Ok(json!([{"uri": uri, "text": ""}]))
        })
        .completion(move |_ctx, params| {
            let seen = seen.clone();
            async move {
                let _ = seen.send(Value::Object(params.clone())).await;
                let r = &params["ref"];
                let value = params["argument"]["value"].as_str().unwrap_or_default().to_string();
                let values: Vec<String> = match (r["type"].as_str(), r.get("name").or(r.get("uri")).and_then(Value::as_str)) {
                    (Some("ref/prompt"), Some("greet")) => {
                        NAMES.iter().filter(|n| n.starts_with(&value)).map(|n| n.to_string()).collect()
                    }
                    (Some("ref/resource"), Some("file:///{path}")) => {
                        let owner = params.get("context").and_then(|c| c["arguments"]["owner"].as_str()).unwrap_or("anyone");
                        vec![format!("{value}{owner}.txt")]
                    }
                    _ => return Err(ErrorObject::new(codes::INVALID_PARAMS, "Unknown reference").with_data(r.clone())),
                };
                Ok(json!({"completion": {"values": values, "total": values.len(), "hasMore": false}}))
            }
        })
        .build()
}

async fn complete(c: &mcp_sse_glue::Client, params: Value) -> Result<Value, ErrorObject> {
    c.request(
        "completion/complete",
        Some(obj(params)),
        CallOptions::default(),
    )
    .await
    .map_err(|e| e.to_error_object())
}

mcp_sse_tests::interaction_test!(
    prompt_argument_completion_delivers_ref_name_and_value,
    pins = ["completion:prompt-arg", "completion:result-shape"],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let c = h.connect(server(tx), ClientOptions::default()).await;
        assert_eq!(
            c.client.initialize_result().expect("init")["capabilities"]["completions"],
            json!({})
        );
        let params = json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": "al"}});
        let r = complete(&c.client, params.clone()).await;
        assert_eq!(
            r,
            Ok(
                json!({"completion": {"values": ["alice", "albert"], "total": 2, "hasMore": false}})
            )
        );
        assert_eq!(next(&rx).await, params);
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    resource_template_completion_delivers_uri_and_variable,
    pins = ["completion:resource-template-arg"],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let c = h.connect(server(tx), ClientOptions::default()).await;
        let params = json!({"ref": {"type": "ref/resource", "uri": "file:///{path}"}, "argument": {"name": "path", "value": "src/"}});
        let r = complete(&c.client, params.clone()).await;
        assert_eq!(
            r,
            Ok(json!({"completion": {"values": ["src/anyone.txt"], "total": 1, "hasMore": false}}))
        );
        assert_eq!(next(&rx).await, params);
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    completion_context_arguments_reach_the_handler,
    pins = ["completion:context-arguments"],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let c = h.connect(server(tx), ClientOptions::default()).await;
        let params = json!({"ref": {"type": "ref/resource", "uri": "file:///{path}"},
                        "argument": {"name": "path", "value": "docs/"},
                        "context": {"arguments": {"owner": "modelcontextprotocol", "repo": "python-sdk"}}});
        let r = complete(&c.client, params.clone()).await;
        assert_eq!(
            r,
            Ok(
                json!({"completion": {"values": ["docs/modelcontextprotocol.txt"], "total": 1, "hasMore": false}})
            )
        );
        assert_eq!(next(&rx).await, params);
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    completion_for_unknown_ref_is_invalid_params,
    pins = ["completion:error:invalid-ref"],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let c = h.connect(server(tx), ClientOptions::default()).await;
        let params = json!({"ref": {"type": "ref/prompt", "name": "nope"}, "argument": {"name": "x", "value": ""}});
        let err = complete(&c.client, params.clone())
            .await
            .expect_err("unknown ref");
        assert_eq!(
            err,
            ErrorObject::new(codes::INVALID_PARAMS, "Unknown reference")
                .with_data(json!({"type": "ref/prompt", "name": "nope"}))
        );
        assert_eq!(next(&rx).await, params);
        // The session goes on.
        let ok = json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": "b"}});
        assert_eq!(
            complete(&c.client, ok).await,
            Ok(json!({"completion": {"values": ["bob"], "total": 1, "hasMore": false}}))
        );
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    no_completion_handler_no_capability_and_method_not_found,
    pins = [
        "completion:complete:not-supported",
        "protocol:error:method-not-found",
        "mcpserver:completion:capability-auto"
    ],
    |h| async move {
        let server = ServerBuilder::new("no-complete", "1")
            .prompt(json!({"name": "greet"}), |_c, _a| async move {
                Ok(json!({"messages": []}))
            })
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let caps = &c.client.initialize_result().expect("init")["capabilities"];
        assert_eq!(
            caps.get("completions"),
            None,
            "no completions capability: {caps}"
        );
        assert_eq!(caps["prompts"], json!({"listChanged": false}));
        let params = json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": ""}});
        let err = complete(&c.client, params).await.expect_err("no handler");
        assert_eq!(
            err,
            ErrorObject::new(codes::METHOD_NOT_FOUND, "Method not found")
                .with_data(json!("completion/complete"))
        );
        c.close().await;
    }
);
