//! Interaction suite, "Low-level tools" and the MCPServer-flavour tool items (legacy-sse.md d.2),
//! over every transport × executor.

mod common_inter2;

use common_inter2::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_core::mcp::CallToolRequestParams;
use mcp_sse_glue::{CallOptions, ClientOptions, ServerBuilder, ToolError};
use mcp_sse_tests::interaction_test;
use mcp_sse_tests::RpcForm;
use serde_json::{json, Value};

fn echo_schema() -> Value {
    json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})
}

interaction_test!(
    text_result_and_is_error_results_are_results,
    pins = ["tools:call:content:text", "tools:call:is-error"],
    |h| async move {
        let seen = Rec::new();
        let s1 = seen.clone();
        let server =
            ServerBuilder::new("t", "1")
                .tool(
                    json!({"name": "echo", "inputSchema": echo_schema()}),
                    move |_ctx, args| {
                        let s1 = s1.clone();
                        async move {
                            s1.push(Value::Object(args.clone()));
                            Ok(text(format!(
                                "echo: {}",
                                args["text"].as_str().unwrap_or_default()
                            )))
                        }
                    },
                )
                .tool(
                    json!({"name": "soft_fail", "inputSchema": {"type": "object"}}),
                    |_ctx, _args| async move {
                        Ok(json!({"content": [{"type": "text", "text": "nope"}], "isError": true}))
                    },
                )
                .tool(
                    json!({"name": "raise", "inputSchema": {"type": "object"}}),
                    |_ctx, _args| async move {
                        Err(ToolError::Tool("Error executing tool raise".into()))
                    },
                )
                .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = call(&c.client, "echo", json!({"text": "hi é"})).await;
        assert_eq!(
            r,
            Ok(json!({"content": [{"type": "text", "text": "echo: hi é"}], "isError": false}))
        );
        let r = call(&c.client, "soft_fail", json!({})).await;
        assert_eq!(
            r,
            Ok(json!({"content": [{"type": "text", "text": "nope"}], "isError": true}))
        );
        let r = call(&c.client, "raise", json!({})).await;
        assert_eq!(
            r,
            Ok(
                json!({"content": [{"type": "text", "text": "Error executing tool raise"}], "isError": true})
            )
        );
        assert_eq!(seen.get(), vec![json!({"text": "hi é"})]);
        c.close().await;
    }
);

interaction_test!(
    unknown_tool_rejected_by_low_level_handler_is_a_jsonrpc_error,
    pins = ["tools:call:unknown-name"],
    |h| async move {
        let seen = Rec::new();
        let s1 = seen.clone();
        let server = low_level(tools_only(), move |_ctx, method, params| {
            s1.push(json!({"method": method, "params": params}));
            async move {
                let name = params
                    .as_ref()
                    .and_then(|p| p.get("name"))
                    .cloned()
                    .unwrap_or(Value::Null);
                Err(ErrorObject::new(
                    codes::INVALID_PARAMS,
                    format!("Unknown tool: {}", name.as_str().unwrap_or_default()),
                )
                .with_data(json!({"name": name})))
            }
        });
        let c = h.connect(server, ClientOptions::default()).await;
        let r = call(&c.client, "nope", json!({"x": 1})).await;
        assert_eq!(
            r,
            Err(
                ErrorObject::new(codes::INVALID_PARAMS, "Unknown tool: nope")
                    .with_data(json!({"name": "nope"}))
            )
        );
        assert_eq!(
            seen.get(),
            vec![
                json!({"method": "tools/call", "params": {"name": "nope", "arguments": {"x": 1}}})
            ]
        );
        c.close().await;
    }
);

interaction_test!(
    builder_unknown_tool_is_an_is_error_result,
    pins = ["mcpserver:tool:unknown-name"],
    |h| async move {
        let server = ServerBuilder::new("t", "1")
            .tool(
                json!({"name": "known", "inputSchema": {"type": "object"}}),
                |_ctx, _args| async move { Err(ToolError::Tool("must not run".into())) },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = call(&c.client, "unknown", json!({})).await;
        assert_eq!(
            r,
            Ok(
                json!({"content": [{"type": "text", "text": "Unknown tool: unknown"}], "isError": true})
            )
        );
        c.close().await;
    }
);

// DIVERGENCE 7: an uncaught handler error is JSON-RPC -32603 with the message text (the
// reference low-level server answers code 0).
interaction_test!(
    handler_internal_error_is_minus_32603_with_its_text,
    pins = ["protocol:error:internal-error"],
    |h| async move {
        let server = low_level(tools_only(), |_ctx, _method, _params| async move {
            Err(ErrorObject::internal_error("division by zero"))
        });
        let c = h.connect(server, ClientOptions::default()).await;
        let r = call(&c.client, "div", json!({"a": 1, "b": 0})).await;
        assert_eq!(
            r,
            Err(ErrorObject::new(codes::INTERNAL_ERROR, "division by zero"))
        );
        // The session goes on.
        assert_eq!(
            c.client.request("ping", None, CallOptions::default()).await,
            Ok(json!({}))
        );
        c.close().await;
    }
);

interaction_test!(
    tool_protocol_error_becomes_that_jsonrpc_error,
    pins = [],
    |h| async move {
        let err = ErrorObject::new(codes::URL_ELICITATION_REQUIRED, "URL elicitation required").with_data(json!({
        "elicitations": [{"mode": "url", "elicitationId": "e1", "url": "https://example.com/auth", "message": "Sign in"}]
    }));
        let e2 = err.clone();
        let server = ServerBuilder::new("t", "1")
            .tool(
                json!({"name": "needs_auth", "inputSchema": {"type": "object"}}),
                move |_ctx, _args| {
                    let e2 = e2.clone();
                    async move { Err(ToolError::Protocol(e2)) }
                },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(call(&c.client, "needs_auth", json!({})).await, Err(err));
        c.close().await;
    }
);

interaction_test!(
    tools_list_unchanged_with_rich_schema_and_every_optional_field,
    pins = [
        "tools:list:basic",
        "tools:list:metadata",
        "tools:input-schema:preserve-additional-properties",
        "tools:input-schema:preserve-defs",
        "tools:input-schema:preserve-schema-dialect",
        "tools:input-schema:json-schema-2020-12"
    ],
    |h| async move {
        let seen = Rec::new();
        let s1 = seen.clone();
        let rich = json!({
            "name": "rich",
            "title": "Rich tool",
            "description": "Every optional field.",
            "inputSchema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}, "required": ["x", "y"]}},
                "properties": {
                    "mode": {"enum": ["a", "b"], "default": "a"},
                    "points": {"type": "array", "items": {"$ref": "#/$defs/point"}, "minItems": 1, "uniqueItems": true},
                    "tuple": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false},
                    "either": {"oneOf": [{"type": "string", "pattern": "^x"}, {"type": "integer", "minimum": 0, "exclusiveMaximum": 10}]},
                    "const": {"const": 42},
                    "nullable": {"type": ["string", "null"]}
                },
                "required": ["points"],
                "additionalProperties": false,
                "dependentRequired": {"mode": ["points"]}
            },
            "outputSchema": {"type": "object", "properties": {"result": {"type": "number"}}, "required": ["result"]},
            "annotations": {"title": "Rich", "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false},
            "icons": [{"src": "https://example.com/i.png", "mimeType": "image/png", "sizes": ["48x48"]}],
            "execution": {"taskSupport": "optional"},
            "_meta": {"vendor/key": [1, 2.5, null]}
        });
        let minimal = json!({"name": "minimal", "inputSchema": {"type": "object"}});
        let server = ServerBuilder::new("t", "1")
            .tool(rich.clone(), move |_ctx, args| {
                s1.push(Value::Object(args));
                async move { Ok(text("r")) }
            })
            .tool(minimal.clone(), |_ctx, _args| async move { Ok(text("m")) })
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = c
            .client
            .request("tools/list", None, CallOptions::default())
            .await;
        assert_eq!(r, Ok(json!({"tools": [rich, minimal]})));
        // The tool behind the rich schema is callable, its arguments arriving unchanged.
        let args = json!({"mode": "b", "points": [{"x": 1, "y": 2.5}], "tuple": ["a", 1],
                          "either": "xy", "const": 42, "nullable": null});
        assert_eq!(
            call(&c.client, "rich", args.clone()).await,
            Ok(json!({"content": [{"type": "text", "text": "r"}], "isError": false}))
        );
        assert_eq!(seen.get(), vec![args]);
        c.close().await;
    }
);

interaction_test!(
    mixed_content_blocks_arrive_in_order,
    pins = [
        "tools:call:content:mixed",
        "tools:call:content:text",
        "tools:call:content:image",
        "tools:call:content:audio",
        "tools:call:content:resource-link",
        "tools:call:content:embedded-resource"
    ],
    |h| async move {
        let content = json!([
            {"type": "text", "text": "first"},
            {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
            {"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav", "annotations": {"audience": ["user"], "priority": 0.5}},
            {"type": "resource_link", "uri": "file:///a.txt", "name": "a", "mimeType": "text/plain"},
            {"type": "resource", "resource": {"uri": "file:///b.bin", "mimeType": "application/octet-stream", "blob": "AAEC"}},
            {"type": "resource", "resource": {"uri": "file:///c.txt", "text": "c"}},
            {"type": "text", "text": "last"}
        ]);
        let c2 = content.clone();
        let server = ServerBuilder::new("t", "1")
            .tool(
                json!({"name": "mixed", "inputSchema": {"type": "object"}}),
                move |_ctx, _args| {
                    let c2 = c2.clone();
                    async move { Ok(json!({"content": c2})) }
                },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            call(&c.client, "mixed", json!({})).await,
            Ok(json!({"content": content, "isError": false}))
        );
        c.close().await;
    }
);

interaction_test!(
    structured_content_alongside_content,
    pins = ["tools:call:structured-content"],
    |h| async move {
        let server = ServerBuilder::new("t", "1")
        .tool(
            json!({"name": "add", "inputSchema": {"type": "object"},
                   "outputSchema": {"type": "object", "properties": {"result": {"type": "integer"}}}}),
            |_ctx, args| async move {
                let sum = args["a"].as_i64().unwrap_or(0) + args["b"].as_i64().unwrap_or(0);
                Ok(json!({"content": [{"type": "text", "text": sum.to_string()}], "structuredContent": {"result": sum}}))
            },
        )
        .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            call(&c.client, "add", json!({"a": 2, "b": 40})).await,
            Ok(
                json!({"content": [{"type": "text", "text": "42"}], "structuredContent": {"result": 42}, "isError": false})
            )
        );
        c.close().await;
    }
);

interaction_test!(
    two_concurrent_calls_complete_independently,
    pins = ["tools:call:concurrent"],
    |h| async move {
        // "slow" waits until the test releases it; "fast" completes while "slow" is still running.
        let (started_tx, started_rx) = async_channel::unbounded::<()>();
        let (release_tx, release_rx) = async_channel::unbounded::<()>();
        let server = ServerBuilder::new("t", "1")
            .tool(
                json!({"name": "slow", "inputSchema": {"type": "object"}}),
                move |_ctx, _args| {
                    let (started_tx, release_rx) = (started_tx.clone(), release_rx.clone());
                    async move {
                        let _ = started_tx.send(()).await;
                        let _ = release_rx.recv().await;
                        Ok(text("slow done"))
                    }
                },
            )
            .tool(
                json!({"name": "fast", "inputSchema": {"type": "object"}}),
                |_ctx, _args| async move { Ok(text("fast done")) },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let client = c.client.clone();
        let slow = call(&client, "slow", json!({}));
        let rest = async {
            next(&started_rx).await;
            let fast = call(&c.client, "fast", json!({})).await;
            assert_eq!(
                fast,
                Ok(json!({"content": [{"type": "text", "text": "fast done"}], "isError": false}))
            );
            // Only now may the slow call finish.
            release_tx.send(()).await.unwrap();
        };
        let (slow, ()) = futures_lite::future::zip(slow, rest).await;
        assert_eq!(
            slow,
            Ok(json!({"content": [{"type": "text", "text": "slow done"}], "isError": false}))
        );
        c.close().await;
    }
);

interaction_test!(
    malformed_tools_call_params_are_invalid_params,
    pins = ["protocol:error:invalid-params"],
    |h| async move {
        let ran = Rec::new();
        let r1 = ran.clone();
        let server = ServerBuilder::new("t", "1")
            .tool(
                json!({"name": "t", "inputSchema": {"type": "object"}}),
                move |_ctx, _args| {
                    r1.push(());
                    async move { Ok(text("ran")) }
                },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let invalid = ErrorObject::new(codes::INVALID_PARAMS, "Invalid request parameters")
            .with_data(json!(""));
        let r = c
            .client
            .request(
                "tools/call",
                obj(json!({"name": 5})),
                CallOptions::default(),
            )
            .await;
        assert_eq!(r.rpc_form(), Err(invalid.clone()));
        let r = c
            .client
            .request(
                "tools/call",
                obj(json!({"name": "t", "arguments": [1, 2]})),
                CallOptions::default(),
            )
            .await;
        assert_eq!(r.rpc_form(), Err(invalid.clone()));
        let r = c
            .client
            .request("tools/call", None, CallOptions::default())
            .await;
        assert_eq!(r.rpc_form(), Err(invalid));
        // No arguments at all is an empty argument object.
        let r = c
            .client
            .request(
                "tools/call",
                obj(json!({"name": "t"})),
                CallOptions::default(),
            )
            .await;
        assert_eq!(
            r,
            Ok(json!({"content": [{"type": "text", "text": "ran"}], "isError": false}))
        );
        assert_eq!(ran.get().len(), 1);
        c.close().await;
    }
);

interaction_test!(
    duplicate_tool_names_keep_the_first,
    pins = [],
    |h| async move {
        let server = ServerBuilder::new("t", "1")
            .tool(
                json!({"name": "dup", "description": "first", "inputSchema": {"type": "object"}}),
                |_ctx, _args| async move { Ok(text("first")) },
            )
            .tool(
                json!({"name": "dup", "description": "second", "inputSchema": {"type": "object"}}),
                |_ctx, _args| async move { Ok(text("second")) },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            c.client
                .request("tools/list", None, CallOptions::default())
                .await,
            Ok(
                json!({"tools": [{"name": "dup", "description": "first", "inputSchema": {"type": "object"}}]})
            )
        );
        assert_eq!(
            call(&c.client, "dup", json!({})).await,
            Ok(json!({"content": [{"type": "text", "text": "first"}], "isError": false}))
        );
        c.close().await;
    }
);

interaction_test!(
    context_exposes_request_id_and_client_info,
    pins = ["mcpserver:tool:extra"],
    |h| async move {
        let seen = Rec::new();
        let s1 = seen.clone();
        let server = ServerBuilder::new("t", "1")
            .tool(
                json!({"name": "who", "inputSchema": {"type": "object"}}),
                move |ctx, _args| {
                    let s1 = s1.clone();
                    async move {
                        let client = ctx.client().expect("initialized");
                        s1.push(json!({
                            "id": ctx.request_id().and_then(|i| i.to_value()),
                            "clientInfo": client.client_info,
                            "capabilities": client.capabilities,
                            "protocolVersion": client.protocol_version,
                        }));
                        Ok(text("ok"))
                    }
                },
            )
            .build();
        let options = ClientOptions {
            client_info: json!({"name": "probe", "title": "Probe", "version": "9.9"}),
            ..ClientOptions::default()
        };
        let c = h.connect(server, options).await;
        call(&c.client, "who", json!({})).await.unwrap();
        call(&c.client, "who", json!({})).await.unwrap();
        let client = json!({"name": "probe", "title": "Probe", "version": "9.9"});
        assert_eq!(
            seen.get(),
            vec![
                json!({"id": 2, "clientInfo": client, "capabilities": {}, "protocolVersion": "2025-11-25"}),
                json!({"id": 3, "clientInfo": client, "capabilities": {}, "protocolVersion": "2025-11-25"}),
            ]
        );
        c.close().await;
    }
);

// DIVERGENCE 7 for the Rust analogue of an uncaught exception: a handler that panics (in its
// future, or while building it) answers -32603 with the panic message; the session goes on and
// unwinds normally at close.
interaction_test!(
    panicking_handler_is_minus_32603_with_the_panic_message,
    pins = ["protocol:error:internal-error"],
    |h| async move {
        let server = low_level(tools_only(), |_ctx, _method, params| {
            let name = params
                .as_ref()
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if name == "sync" {
                panic!("sync kaboom");
            }
            async move {
                if name == "async" {
                    panic!("async kaboom {}", 42);
                }
                Ok(text("fine"))
            }
        });
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            call(&c.client, "async", json!({})).await,
            Err(ErrorObject::new(codes::INTERNAL_ERROR, "async kaboom 42"))
        );
        assert_eq!(
            call(&c.client, "sync", json!({})).await,
            Err(ErrorObject::new(codes::INTERNAL_ERROR, "sync kaboom"))
        );
        assert_eq!(call(&c.client, "other", json!({})).await, Ok(text("fine")));
        c.close().await;
    }
);

/// A low-level server listing `forecast` (output schema: an object whose `temperature` is a
/// number) and `plain` (no output schema), whose `tools/call` answers `result` for every tool;
/// `methods` records each request's method in arrival order.
fn forecast_server(methods: Rec<String>, result: Value) -> mcp_sse_glue::McpServer {
    low_level(tools_only(), move |_ctx, method, _params| {
        methods.push(method.clone());
        let result = result.clone();
        async move {
            match method.as_str() {
                "tools/list" => Ok(json!({"tools": [
                    {
                        "name": "forecast",
                        "inputSchema": {"type": "object"},
                        "outputSchema": {
                            "type": "object",
                            "properties": {"temperature": {"type": "number"}}
                        }
                    },
                    {"name": "plain", "inputSchema": {"type": "object"}}
                ]})),
                _ => Ok(result),
            }
        }
    })
}

fn typed_call(name: &str) -> CallToolRequestParams {
    CallToolRequestParams::new(name)
}

interaction_test!(
    client_rejects_structured_content_violating_the_cached_output_schema,
    pins = ["client:output-schema:validate"],
    |h| async move {
        let methods = Rec::new();
        let server = forecast_server(
            methods.clone(),
            json!({"content": [{"type": "text", "text": "warm"}], "structuredContent": {"temperature": "warm"}}),
        );
        let c = h.connect(server, ClientOptions::default()).await;
        c.client.list_tools(None).await.expect("tools/list");
        let r = c.client.call_tool(&typed_call("forecast")).await;
        assert!(
            matches!(
                &r,
                Err(mcp_sse_glue::Error::OutputSchema(
                    mcp_sse_core::session::OutputSchemaError::Invalid { tool, .. }
                )) if tool == "forecast"
            ),
            "{r:?}"
        );
        assert_eq!(
            r.rpc_form(),
            Err(ErrorObject::new(
                codes::INTERNAL_ERROR,
                "Invalid structured content returned by tool forecast: \
                 temperature: value is not of type \"number\""
            ))
        );
        // A tool without an output schema is not checked; the raw request is never checked.
        assert!(c.client.call_tool(&typed_call("plain")).await.is_ok());
        assert!(call(&c.client, "forecast", json!({})).await.is_ok());
        assert_eq!(
            methods.get(),
            ["tools/list", "tools/call", "tools/call", "tools/call"]
        );
        c.close().await;
    }
);

interaction_test!(
    declared_output_schema_without_structured_content_is_rejected_by_the_client,
    pins = ["client:output-schema:missing-structured"],
    |h| async move {
        let methods = Rec::new();
        let server = forecast_server(
            methods.clone(),
            json!({"content": [{"type": "text", "text": "warm"}]}),
        );
        let c = h.connect(server, ClientOptions::default()).await;
        c.client.list_tools(None).await.expect("tools/list");
        let r = c.client.call_tool(&typed_call("forecast")).await;
        assert_eq!(
            r.rpc_form(),
            Err(ErrorObject::new(
                codes::INTERNAL_ERROR,
                "Tool forecast has an output schema but did not return structured content"
            ))
        );
        c.close().await;
    }
);

interaction_test!(
    is_error_results_bypass_the_client_output_schema_check,
    pins = ["client:output-schema:skip-on-error"],
    |h| async move {
        let methods = Rec::new();
        let failure = json!({
            "content": [{"type": "text", "text": "the sensor is offline"}],
            "structuredContent": {"temperature": "unknown"},
            "isError": true
        });
        let server = forecast_server(methods.clone(), failure.clone());
        let c = h.connect(server, ClientOptions::default()).await;
        // Uncached: an error result needs no listing either.
        let r = c
            .client
            .call_tool(&typed_call("forecast"))
            .await
            .expect("an isError result is a result");
        assert_eq!(serde_json::to_value(&r).unwrap(), failure);
        assert_eq!(methods.get(), ["tools/call"]);
        // Cached: still unchecked.
        c.client.list_tools(None).await.expect("tools/list");
        let r = c
            .client
            .call_tool(&typed_call("forecast"))
            .await
            .expect("an isError result is a result");
        assert_eq!(r.is_error, Some(true));
        c.close().await;
    }
);

interaction_test!(
    the_first_call_of_an_uncached_tool_lists_the_tools_once,
    pins = ["client:output-schema:auto-list"],
    |h| async move {
        let methods = Rec::new();
        let server = forecast_server(
            methods.clone(),
            json!({"content": [], "structuredContent": {"temperature": 21.5}}),
        );
        let c = h.connect(server, ClientOptions::default()).await;
        for _ in 0..2 {
            let r = c
                .client
                .call_tool(&typed_call("forecast"))
                .await
                .expect("a valid result");
            assert_eq!(r.structured_content, Some(json!({"temperature": 21.5})));
        }
        // The implicit tools/list follows the first call (the reference's order) and fills the
        // cache: the second call needs none.
        assert_eq!(methods.get(), ["tools/call", "tools/list", "tools/call"]);
        // A tool the server does not list is checked against nothing, and listed for once only.
        for _ in 0..2 {
            c.client
                .call_tool(&typed_call("unlisted"))
                .await
                .expect("unchecked");
        }
        assert_eq!(
            methods.get(),
            [
                "tools/call",
                "tools/list",
                "tools/call",
                "tools/call",
                "tools/list",
                "tools/call"
            ]
        );
        c.close().await;
    }
);

interaction_test!(
    a_failed_implicit_listing_leaves_the_result_unchecked,
    pins = ["client:output-schema:auto-list"],
    |h| async move {
        let methods = Rec::new();
        let m1 = methods.clone();
        // A server with only tools/call: its tools/list is -32601.
        let server = low_level(tools_only(), move |_ctx, method, _params| {
            m1.push(method.clone());
            async move {
                match method.as_str() {
                    "tools/call" => Ok(json!({"content": [{"type": "text", "text": "warm"}]})),
                    other => Err(ErrorObject::method_not_found(other)),
                }
            }
        });
        let c = h.connect(server, ClientOptions::default()).await;
        for _ in 0..2 {
            let r = c
                .client
                .call_tool(&typed_call("forecast"))
                .await
                .expect("the call succeeded");
            assert_eq!(
                serde_json::to_value(&r).unwrap()["content"][0]["text"],
                "warm"
            );
            assert_eq!(r.structured_content, None);
        }
        assert_eq!(methods.get(), ["tools/call", "tools/list", "tools/call"]);
        c.close().await;
    }
);

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    a: i64,
    b: i64,
}

interaction_test!(
    tools_added_and_removed_while_running_notify_connected_sessions,
    pins = ["mcpserver:register:post-connect"],
    |h| async move {
        let (server, tools) = ServerBuilder::new("t", "1").build_with_handle();
        let (handler, notes) = notifications();
        let opts = ClientOptions {
            message_handler: Some(handler),
            ..ClientOptions::default()
        };
        let c = h.connect(server, opts).await;
        assert_eq!(
            c.client.initialize_result().expect("init")["capabilities"]["tools"],
            json!({"listChanged": true})
        );
        let names = |c: &mcp_sse_glue::Client| {
            let c = c.clone();
            async move {
                let r = c.list_tools(None).await.expect("tools/list");
                r.tools.into_iter().map(|t| t.name).collect::<Vec<_>>()
            }
        };
        assert!(names(&c.client).await.is_empty());
        tools
            .add_typed_tool("add", |_ctx, AddArgs { a, b }| async move { Ok(a + b) })
            .await
            .expect("add registers");
        // The specification's notification (the reference sends none; compatibility note 20).
        assert_eq!(
            next(&notes).await,
            json!({"method": "notifications/tools/list_changed", "params": null})
        );
        assert_eq!(names(&c.client).await, ["add"]);
        let r = call(&c.client, "add", json!({"a": 2, "b": 3}))
            .await
            .expect("add");
        assert_eq!(r["structuredContent"], json!({"result": 5}));
        // A duplicate is still an error, and nothing is announced for it.
        let e = tools
            .add_typed_tool("add", |_ctx, AddArgs { a, b }| async move { Ok(a - b) })
            .await
            .expect_err("duplicate accepted");
        assert_eq!(
            e,
            mcp_sse_glue::ToolRegistrationError::DuplicateName("add".into())
        );
        assert!(tools.remove_tool("add").await);
        assert_eq!(
            next(&notes).await,
            json!({"method": "notifications/tools/list_changed", "params": null})
        );
        assert!(!tools.remove_tool("add").await);
        assert!(names(&c.client).await.is_empty());
        let r = call(&c.client, "add", json!({"a": 2, "b": 3}))
            .await
            .expect("call");
        assert_eq!(r["isError"], json!(true));
        assert!(notes.is_empty(), "a notification for nothing");
        c.close().await;
    }
);
