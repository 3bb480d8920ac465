//! Interaction suite, Flows group (legacy-sse.md d.2): multi-step scenarios.

mod common_inter1;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common_inter1::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_glue::{
    CallOptions, ClientOptions, RequestCallback, RequestContext, ServerBuilder, ToolError,
};
use serde_json::{json, Value};

mcp_sse_tests::interaction_test!(
    tool_returns_resource_link_that_reads_back,
    pins = [
        "flow:tool-result:resource-link-follow",
        "tools:call:content:resource-link"
    ],
    |h| async move {
        let (vars_tx, vars_rx) = async_channel::unbounded::<HashMap<String, String>>();
        let server = ServerBuilder::new("flows", "1")
        .tool(json!({"name": "make_report", "inputSchema": {"type": "object"}}), |_ctx, args| async move {
            let quarter = args.get("quarter").and_then(Value::as_str).unwrap_or("q1").to_string();
            Ok(json!({"content": [
                {"type": "text", "text": "Report ready."},
                {"type": "resource_link", "uri": format!("report://2024/{quarter}"), "name": format!("report-{quarter}"),
                 "mimeType": "text/markdown", "description": "The quarterly report"}
            ]}))
        })
        .resource_template(
            json!({"uriTemplate": "report://{year}/{quarter}", "name": "reports", "mimeType": "text/markdown"}),
            move |_ctx, uri, vars| {
                let vars_tx = vars_tx.clone();
                async move {
                    let body = format!("# {} {}\n", vars["year"], vars["quarter"]);
                    let _ = vars_tx.send(vars).await;
                    Ok(json!([{"uri": uri, "mimeType": "text/markdown", "text": body}]))
                }
            },
        )
        .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = call(&c.client, "make_report", json!({"quarter": "q3"}))
            .await
            .expect("make_report");
        let link = &r["content"][1];
        assert_eq!(
            link,
            &json!({"type": "resource_link", "uri": "report://2024/q3", "name": "report-q3", "mimeType": "text/markdown",
                "description": "The quarterly report"})
        );
        let uri = link["uri"].clone();
        let read = c
            .client
            .request(
                "resources/read",
                Some(obj(json!({"uri": uri}))),
                CallOptions::default(),
            )
            .await;
        assert_eq!(
            read,
            Ok(
                json!({"contents": [{"uri": "report://2024/q3", "mimeType": "text/markdown", "text": "# 2024 q3\n"}]})
            )
        );
        let vars = next(&vars_rx).await;
        assert_eq!(
            vars,
            HashMap::from([
                ("year".to_string(), "2024".to_string()),
                ("quarter".to_string(), "q3".to_string())
            ])
        );
        c.close().await;
    }
);

fn form(message: String, field: &str, ty: &str) -> serde_json::Map<String, Value> {
    obj(json!({"mode": "form", "message": message,
               "requestedSchema": {"type": "object", "properties": {field: {"type": ty}}, "required": [field]}}))
}

async fn accepted(
    ctx: &RequestContext,
    params: serde_json::Map<String, Value>,
    field: &str,
) -> Result<Value, ToolError> {
    let r = ctx.elicit(params).await?;
    if r["action"] != json!("accept") {
        return Err(ToolError::Tool(format!("not accepted: {r}")));
    }
    Ok(r["content"][field].clone())
}

mcp_sse_tests::interaction_test!(
    tool_chains_form_elicitations,
    pins = ["flow:elicitation:multi-step-form"],
    |h| async move {
        let server = ServerBuilder::new("flows", "1")
            .tool(
                json!({"name": "signup", "inputSchema": {"type": "object"}}),
                |ctx: RequestContext, _args| async move {
                    let name = accepted(
                        &ctx,
                        form("What is your name?".into(), "name", "string"),
                        "name",
                    )
                    .await?;
                    let name = name.as_str().unwrap_or_default().to_string();
                    let age = accepted(
                        &ctx,
                        form(format!("Hello {name}, how old are you?"), "age", "integer"),
                        "age",
                    )
                    .await?;
                    let ok = accepted(
                        &ctx,
                        form(format!("Confirm: {name}, {age}?"), "ok", "boolean"),
                        "ok",
                    )
                    .await?;
                    Ok(text(&format!("{name} ({age}) confirmed={ok}")))
                },
            )
            .build();
        let (asked_tx, asked) = async_channel::unbounded();
        let callback: RequestCallback = Arc::new(move |p| {
            let asked_tx = asked_tx.clone();
            Box::pin(async move {
                let message = p
                    .as_ref()
                    .and_then(|p| p.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let _ = asked_tx.send(message.clone()).await;
                let content = if message == "What is your name?" {
                    json!({"name": "Ada"})
                } else if message.starts_with("Hello Ada,") {
                    json!({"age": 36})
                } else if message == "Confirm: Ada, 36?" {
                    json!({"ok": true})
                } else {
                    return Err(ErrorObject::new(
                        codes::INVALID_PARAMS,
                        format!("unexpected question: {message}"),
                    ));
                };
                Ok(json!({"action": "accept", "content": content}))
            })
        });
        let opts = ClientOptions {
            elicitation_callback: Some(callback),
            ..ClientOptions::default()
        };
        let c = h.connect(server, opts).await;
        let r = call(&c.client, "signup", json!({})).await;
        assert_eq!(
            r,
            Ok(
                json!({"content": [{"type": "text", "text": "Ada (36) confirmed=true"}], "isError": false})
            )
        );
        let questions: Vec<String> = std::iter::from_fn(|| asked.try_recv().ok()).collect();
        assert_eq!(
            questions,
            [
                "What is your name?",
                "Hello Ada, how old are you?",
                "Confirm: Ada, 36?"
            ]
        );
        c.close().await;
    }
);

// -32042 (URL elicitation required) → the out-of-band step finishes and the server announces
// `notifications/elicitation/complete` → the retry succeeds.
mcp_sse_tests::interaction_test!(
    url_elicitation_required_then_complete_then_retry,
    pins = ["flow:elicitation:url-required-then-retry"],
    |h| async move {
        let authorized = Arc::new(AtomicBool::new(false));
        let (attempts_tx, attempts) = async_channel::unbounded::<bool>();
        let auth = authorized.clone();
        let auth2 = authorized.clone();
        let server = ServerBuilder::new("flows", "1")
            .tool(
                json!({"name": "list_files", "inputSchema": {"type": "object"}}),
                move |_ctx, _args| {
                    let auth = auth.clone();
                    let attempts_tx = attempts_tx.clone();
                    async move {
                        let ok = auth.load(Ordering::SeqCst);
                        let _ = attempts_tx.send(ok).await;
                        if !ok {
                            return Err(ToolError::Protocol(
                                ErrorObject::new(
                                    codes::URL_ELICITATION_REQUIRED,
                                    "Authorization required",
                                )
                                .with_data(json!({
                            "elicitations": [{"mode": "url", "elicitationId": "auth-7",
                                              "url": "https://example.com/oauth?state=auth-7",
                                              "message": "Connect your drive."}]})),
                            ));
                        }
                        Ok(text("a.txt, b.txt"))
                    }
                },
            )
            // Stands in for the browser finishing the URL flow (the server learns it out of band).
            .tool(
                json!({"name": "oauth_callback", "inputSchema": {"type": "object"}}),
                move |ctx: RequestContext, args| {
                    let auth = auth2.clone();
                    async move {
                        auth.store(true, Ordering::SeqCst);
                        let id = args.get("state").cloned().unwrap_or(Value::Null);
                        ctx.notify(
                            "notifications/elicitation/complete",
                            Some(obj(json!({"elicitationId": id}))),
                        )
                        .await;
                        Ok(json!({"content": []}))
                    }
                },
            )
            .build();
        let (msg_tx, msgs) = async_channel::unbounded();
        let opts = ClientOptions {
            message_handler: Some(messages_to(msg_tx)),
            ..ClientOptions::default()
        };
        let c = h.connect(server, opts).await;

        let err = call(&c.client, "list_files", json!({}))
            .await
            .expect_err("-32042 first");
        assert_eq!(err.code, codes::URL_ELICITATION_REQUIRED);
        let pending = err
            .data
            .as_ref()
            .and_then(|d| d["elicitations"].as_array())
            .cloned()
            .unwrap_or_default();
        assert_eq!(pending.len(), 1);
        let id = pending[0]["elicitationId"].clone();
        assert_eq!(id, json!("auth-7"));

        call(&c.client, "oauth_callback", json!({"state": id}))
            .await
            .expect("oauth_callback");
        let announced = next(&msgs).await;
        assert_eq!(
            incoming_json(&announced),
            json!({"method": "notifications/elicitation/complete", "params": {"elicitationId": "auth-7"}})
        );
        let r = call(&c.client, "list_files", json!({})).await;
        assert_eq!(
            r,
            Ok(json!({"content": [{"type": "text", "text": "a.txt, b.txt"}], "isError": false}))
        );
        let seen: Vec<bool> = std::iter::from_fn(|| attempts.try_recv().ok()).collect();
        assert_eq!(
            seen,
            [false, true],
            "the tool ran twice: refused, then served"
        );
        c.close().await;
    }
);
