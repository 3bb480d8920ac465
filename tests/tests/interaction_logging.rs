//! Interaction suite, Logging group (legacy-sse.md d.2).

mod common_inter1;

use async_channel::Sender;
use common_inter1::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_glue::{CallOptions, ClientOptions, McpServer, RequestContext, ServerBuilder};
use serde_json::{json, Value};

const LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// `log` emits `arguments.entries` (`[{level, logger?, data}]`) in order, reporting each on
/// `emitted`; `log_all` emits one message per RFC 5424 level.
fn server(emitted: Sender<Value>) -> McpServer {
    let emitted2 = emitted.clone();
    ServerBuilder::new("logs", "1")
        .tool(
            json!({"name": "log", "inputSchema": {"type": "object"}}),
            move |ctx: RequestContext, args| {
                let emitted = emitted.clone();
                async move {
                    let entries = args
                        .get("entries")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    for e in &entries {
                        let level = e["level"].as_str().unwrap_or("info");
                        ctx.log(
                            level,
                            e.get("logger").and_then(Value::as_str),
                            e["data"].clone(),
                        )
                        .await;
                        let _ = emitted.send(e.clone()).await;
                    }
                    Ok(text(&format!("logged {}", entries.len())))
                }
            },
        )
        .tool(
            json!({"name": "log_all", "inputSchema": {"type": "object"}}),
            move |ctx: RequestContext, _args| {
                let emitted = emitted2.clone();
                async move {
                    for level in LEVELS {
                        ctx.log(level, Some("levels"), json!(format!("at {level}")))
                            .await;
                        let _ = emitted.send(json!(level)).await;
                    }
                    Ok(text("all"))
                }
            },
        )
        .build()
}

fn entry(level: &str) -> Value {
    json!({"level": level, "logger": "levels", "data": format!("at {level}")})
}

// DIVERGENCE 8: the server advertises `logging` and honours `logging/setLevel` itself (the
// reference MCPServer answers -32601). The level is applied by the session, so what the handler
// "sees" is that its messages below the level never leave the server.
mcp_sse_tests::interaction_test!(
    set_level_is_honoured_by_the_server,
    pins = [
        "logging:message:filtered",
        "logging:capability:declared",
        "logging:set-level:invalid-level"
    ],
    |h| async move {
        let (emitted_tx, emitted) = async_channel::unbounded();
        let (log_tx, logs) = async_channel::unbounded();
        let opts = ClientOptions {
            logging_callback: Some(logging_to(log_tx)),
            ..ClientOptions::default()
        };
        let c = h.connect(server(emitted_tx), opts).await;
        assert_eq!(
            c.client.initialize_result().expect("init")["capabilities"]["logging"],
            json!({})
        );

        let set = |level: &str| {
            c.client.request(
                "logging/setLevel",
                Some(obj(json!({"level": level}))),
                CallOptions::default(),
            )
        };
        assert_eq!(set("warning").await, Ok(json!({})));
        let r = call(&c.client, "log_all", json!({})).await;
        assert_eq!(
            r,
            Ok(json!({"content": [{"type": "text", "text": "all"}], "isError": false}))
        );
        let handler_emitted: Vec<Value> = std::iter::from_fn(|| emitted.try_recv().ok()).collect();
        assert_eq!(
            handler_emitted,
            LEVELS.map(|l| json!(l)).to_vec(),
            "the handler emitted all eight"
        );
        let received: Vec<Value> = std::iter::from_fn(|| logs.try_recv().ok()).collect();
        assert_eq!(
            received,
            LEVELS[3..].iter().map(|l| entry(l)).collect::<Vec<_>>()
        );

        // Lowering the level lets everything through again.
        assert_eq!(set("debug").await, Ok(json!({})));
        call(&c.client, "log_all", json!({}))
            .await
            .expect("log_all");
        let received: Vec<Value> = std::iter::from_fn(|| logs.try_recv().ok()).collect();
        assert_eq!(
            received,
            LEVELS.iter().map(|l| entry(l)).collect::<Vec<_>>()
        );

        // A level that is not one of the eight is invalid params (test_wire.py).
        let err = set("verbose").await.expect_err("invalid level");
        assert_eq!(
            err.to_error_object(),
            ErrorObject::new(codes::INVALID_PARAMS, "Invalid request parameters")
                .with_data(json!(""))
        );
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    log_messages_reach_callback_in_order_before_call_returns,
    pins = [
        "logging:message:fields",
        "tools:call:logging-mid-execution",
        "mcpserver:context:logging"
    ],
    |h| async move {
        let (emitted_tx, emitted) = async_channel::unbounded();
        let (log_tx, logs) = async_channel::unbounded();
        let (msg_tx, msgs) = async_channel::unbounded();
        let opts = ClientOptions {
            logging_callback: Some(logging_to(log_tx)),
            message_handler: Some(messages_to(msg_tx)),
            ..ClientOptions::default()
        };
        let c = h.connect(server(emitted_tx), opts).await;
        let entries = json!([
            {"level": "info", "logger": "app", "data": "starting"},
            {"level": "debug", "data": {"step": 1, "detail": ["a", "b"]}},
            {"level": "warning", "logger": "app.db", "data": "slow query: 1.5s é"},
            {"level": "info", "logger": "app", "data": 42}
        ]);
        let r = call(&c.client, "log", json!({"entries": entries})).await;
        assert_eq!(
            r,
            Ok(json!({"content": [{"type": "text", "text": "logged 4"}], "isError": false}))
        );
        let expected = entries.as_array().cloned().unwrap_or_default();
        // Everything was delivered before the call returned: no waiting.
        let received: Vec<Value> = std::iter::from_fn(|| logs.try_recv().ok()).collect();
        assert_eq!(received, expected);
        // The message handler sees each log notification too (legacy-sse.md f.10).
        let notified: Vec<Value> = std::iter::from_fn(|| msgs.try_recv().ok())
            .map(|m| incoming_json(&m))
            .collect();
        let expected_notes: Vec<Value> = expected
            .iter()
            .map(|p| json!({"method": "notifications/message", "params": p}))
            .collect();
        assert_eq!(notified, expected_notes);
        let handler: Vec<Value> = std::iter::from_fn(|| emitted.try_recv().ok()).collect();
        assert_eq!(handler, expected);
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    all_eight_levels_are_deliverable,
    pins = ["logging:message:all-levels"],
    |h| async move {
        let (emitted_tx, emitted) = async_channel::unbounded();
        let (log_tx, logs) = async_channel::unbounded();
        let opts = ClientOptions {
            logging_callback: Some(logging_to(log_tx)),
            ..ClientOptions::default()
        };
        let c = h.connect(server(emitted_tx), opts).await;
        call(&c.client, "log_all", json!({}))
            .await
            .expect("log_all");
        let received: Vec<Value> = std::iter::from_fn(|| logs.try_recv().ok()).collect();
        assert_eq!(
            received,
            LEVELS.iter().map(|l| entry(l)).collect::<Vec<_>>()
        );
        assert_eq!(std::iter::from_fn(|| emitted.try_recv().ok()).count(), 8);
        c.close().await;
    }
);

// A client without a logging callback still gets log notifications on its message handler
// (clients must accept them regardless of capabilities, f.10).
mcp_sse_tests::interaction_test!(
    log_messages_without_logging_callback_reach_message_handler,
    pins = [],
    |h| async move {
        let (emitted_tx, _emitted) = async_channel::unbounded();
        let (msg_tx, msgs) = async_channel::unbounded();
        let opts = ClientOptions {
            message_handler: Some(messages_to(msg_tx)),
            ..ClientOptions::default()
        };
        let c = h.connect(server(emitted_tx), opts).await;
        let entries = json!([{"level": "error", "logger": "x", "data": "boom"}]);
        call(&c.client, "log", json!({"entries": entries}))
            .await
            .expect("log");
        let m = msgs.try_recv().expect("delivered before the call returned");
        assert_eq!(
            incoming_json(&m),
            json!({"method": "notifications/message", "params": {"level": "error", "logger": "x", "data": "boom"}})
        );
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    set_level_reaches_the_handler,
    pins = ["logging:set-level"],
    |h| async move {
        let server = ServerBuilder::new("logs", "1")
            .tool(
                json!({"name": "level", "inputSchema": {"type": "object"}}),
                |ctx: RequestContext, _args| async move {
                    let level = serde_json::to_value(ctx.log_level()).unwrap_or(Value::Null);
                    Ok(text(&level.to_string()))
                },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let level = |c: &mcp_sse_glue::Client| {
            let c = c.clone();
            async move {
                let r = call(&c, "level", json!({})).await.expect("level");
                r["content"][0]["text"].clone()
            }
        };
        // Nothing set yet: the handler sees no level.
        assert_eq!(level(&c.client).await, json!("null"));
        for set in ["warning", "debug", "emergency"] {
            assert_eq!(
                c.client
                    .request(
                        "logging/setLevel",
                        Some(obj(json!({"level": set}))),
                        CallOptions::default(),
                    )
                    .await,
                Ok(json!({}))
            );
            assert_eq!(level(&c.client).await, json!(format!("\"{set}\"")));
        }
        c.close().await;
    }
);
