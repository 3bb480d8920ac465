//! The caller-facing client API: each way a request fails is its own `Error` variant (decided
//! by the core's session machine), per-call options on the typed `Call`, and the typed
//! callbacks answering the server's requests.

#[macro_use]
mod common_inter1;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common_inter1::*;
use mcp_sse_core::jsonrpc::ErrorObject;
use mcp_sse_core::mcp::{
    CallToolRequestParams, ContentBlock, CreateMessageResult, ElicitAction, ElicitRequestParams,
    ElicitResult, ListRootsResult, LoggingLevel, Role, Root, SamplingContentBlock,
};
use mcp_sse_glue::{ClientOptions, Error, McpServer, ServerBuilder, ToolError};
use serde_json::{json, Value};

fn server() -> McpServer {
    ServerBuilder::new("errors", "1.0.0")
        .tool(
            json!({"name": "slow", "inputSchema": {"type": "object"}}),
            |ctx, _args| async move {
                ctx.sleep(Duration::from_secs(30)).await;
                Ok(json!({"content": []}))
            },
        )
        .tool(
            json!({"name": "tour", "inputSchema": {"type": "object"}}),
            |ctx, _args| async move {
                ctx.log("warning", Some("tour"), json!("careful")).await;
                let roots = ctx.list_roots().await.map_err(ToolError::Protocol)?;
                let sampled = ctx
                    .sample(
                        json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 10})
                            .as_object()
                            .cloned()
                            .unwrap_or_default(),
                    )
                    .await
                    .map_err(ToolError::Protocol)?;
                let elicited = ctx
                    .elicit(
                        json!({"message": "name?", "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}})
                            .as_object()
                            .cloned()
                            .unwrap_or_default(),
                    )
                    .await
                    .map_err(ToolError::Protocol)?;
                let text = format!(
                    "{}|{}|{}",
                    roots["roots"][0]["uri"], sampled["content"]["text"], elicited["content"]["name"]
                );
                Ok(json!({"content": [{"type": "text", "text": text}]}))
            },
        )
        .build()
}

mcp_sse_tests::interaction_test!(
    each_failure_is_its_own_error_variant,
    pins = [],
    |h| async move {
        let c = h.connect(server(), ClientOptions::default()).await;
        let client = c.client.clone();
        // The server's own JSON-RPC error (no resources declared).
        let r = client.read_resource("memo://x").await;
        assert_eq!(
            r,
            Err(Error::Rpc(ErrorObject::method_not_found("resources/read")))
        );
        // This call's timeout, not the client's (none).
        let r = client
            .call_tool(&CallToolRequestParams::new("slow"))
            .timeout(Duration::from_millis(100))
            .await;
        assert_eq!(
            r,
            Err(Error::Timeout {
                method: "tools/call".into(),
                timeout: Some(Duration::from_millis(100)),
            })
        );
        let e = r.expect_err("timed out");
        assert!(e.is_timeout() && !e.is_closed() && e.rpc().is_none());
        assert_eq!(
            e.to_error_object(),
            ErrorObject::request_timeout("tools/call")
        );
        assert!(e.to_string().contains("raise the timeout"), "{e}");
        // The session goes on after a timeout.
        client.ping().await.expect("ping after a timeout");
        c.close().await;
        // After the close: `Closed`, at once.
        assert_eq!(client.ping().await, Err(Error::Closed));
    }
);

mcp_sse_tests::interaction_test!(
    the_client_default_timeout_applies_without_options,
    pins = [],
    |h| async move {
        let options = ClientOptions::default().with_read_timeout(Duration::from_millis(150));
        let c = h.connect(server(), options).await;
        let r = c
            .client
            .call_tool(&CallToolRequestParams::new("slow"))
            .await;
        assert!(
            matches!(&r, Err(Error::Timeout { method, timeout: Some(t) }) if method == "tools/call" && *t == Duration::from_millis(150)),
            "{r:?}"
        );
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    typed_callbacks_answer_the_server,
    pins = [],
    |h| async move {
        let logs: Arc<Mutex<Vec<(LoggingLevel, Value)>>> = Arc::default();
        let sampled: Arc<Mutex<Vec<usize>>> = Arc::default();
        let (l, s) = (logs.clone(), sampled.clone());
        let options = ClientOptions::default()
            .on_sampling(move |params| {
                let s = s.clone();
                async move {
                    s.lock().expect("lock").push(params.messages.len());
                    Ok(CreateMessageResult::new(
                        Role::Assistant,
                        SamplingContentBlock::text("sampled"),
                        "m",
                    ))
                }
            })
            .on_list_roots(|| async { Ok(ListRootsResult::new(vec![Root::new("file:///r")])) })
            .on_elicitation(|params| async move {
                assert!(matches!(params, ElicitRequestParams::Form(_)), "{params:?}");
                let mut answer = ElicitResult::new(ElicitAction::Accept);
                answer.content = json!({"name": "ada"}).as_object().cloned();
                Ok(answer)
            })
            .on_log(move |log| {
                let l = l.clone();
                async move { l.lock().expect("lock").push((log.level, log.data)) }
            });
        let caps = options.capabilities();
        assert_eq!(
            caps,
            json!({"sampling": {}, "elicitation": {"form": {}, "url": {}}, "roots": {"listChanged": true}})
        );
        let c = h.connect(server(), options).await;
        c.client
            .set_logging_level(LoggingLevel::Debug)
            .await
            .expect("setLevel");
        let r = c
            .client
            .call_tool(&CallToolRequestParams::new("tour"))
            .await
            .expect("tour");
        assert!(
            matches!(&r.content[0], ContentBlock::Text(t) if t.text == r#""file:///r"|"sampled"|"ada""#),
            "{r:?}"
        );
        assert_eq!(*sampled.lock().expect("lock"), vec![1]);
        assert_eq!(
            *logs.lock().expect("lock"),
            vec![(LoggingLevel::Warning, json!("careful"))]
        );
        c.close().await;
    }
);

scripted_test!(
    a_result_that_does_not_fit_the_type_is_decode,
    pins = [],
    |h| async move {
        let (mut server, done) = start_scripted(&h, ClientOptions::default());
        let init = server.recv().await.expect("initialize");
        assert_eq!(init["method"], json!("initialize"));
        let result = json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "x", "version": "1"}});
        server
            .send(json!({"jsonrpc": "2.0", "id": 1, "result": result}))
            .await;
        let client = next(&done).await.expect("initialize succeeds");
        assert_eq!(
            server.recv().await,
            Some(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        );
        let list = {
            let client = client.clone();
            async move { client.list_tools(None).await }
        };
        let answer = async {
            assert_eq!(
                server.recv().await,
                Some(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
            );
            server
                .send(json!({"jsonrpc": "2.0", "id": 2, "result": {"tools": 5}}))
                .await;
        };
        let (r, ()) = futures_lite::future::zip(list, answer).await;
        let e = r.expect_err("tools: 5 is no tool list");
        assert!(
            matches!(&e, Error::Decode { method, .. } if method == "tools/list"),
            "{e:?}"
        );
        assert_eq!(e.to_error_object().code, -32603);
        let closing = client.close();
        let script = async {
            assert_eq!(server.drain().await, Vec::<Value>::new());
            server.to_client.close();
        };
        futures_lite::future::zip(closing, script).await;
    }
);
