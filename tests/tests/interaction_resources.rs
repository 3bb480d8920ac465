//! Interaction suite, "Resources" and the MCPServer-flavour resource items that apply to our
//! builder (legacy-sse.md d.2), over every transport × executor.

mod common_inter2;

use common_inter2::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_glue::{CallOptions, ClientOptions, ServerBuilder};
use mcp_sse_tests::interaction_test;
use mcp_sse_tests::RpcForm;
use serde_json::json;

fn read(uri: &str) -> mcp_sse_glue::Params {
    obj(json!({"uri": uri}))
}

interaction_test!(
    resources_list_keeps_optional_fields_and_annotations,
    pins = ["resources:list:basic", "resources:annotations"],
    |h| async move {
        let full = json!({"uri": "file:///docs/readme.md", "name": "readme", "title": "Read me", "description": "The readme.",
        "mimeType": "text/markdown", "size": 1234,
        "annotations": {"audience": ["user", "assistant"], "priority": 0.8, "lastModified": "2025-01-12T15:00:58Z"},
        "icons": [{"src": "https://example.com/r.svg", "mimeType": "image/svg+xml"}], "_meta": {"x": 1}});
        let bare = json!({"uri": "mem:///bare", "name": "bare"});
        let server = ServerBuilder::new("r", "1")
            .resource(full.clone(), |_ctx, _uri| async move { Ok(json!([])) })
            .resource(bare.clone(), |_ctx, _uri| async move { Ok(json!([])) })
            .resource_template(
                json!({"uriTemplate": "tpl://{x}", "name": "tpl"}),
                |_ctx, _uri, _v| async move { Ok(json!([])) },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            c.client
                .initialize_result()
                .map(|r| r["capabilities"]["resources"].clone()),
            Some(json!({"listChanged": false, "subscribe": false}))
        );
        // Static resources only; templates are listed separately.
        assert_eq!(
            c.client
                .request("resources/list", None, CallOptions::default())
                .await,
            Ok(json!({"resources": [full, bare]}))
        );
        c.close().await;
    }
);

interaction_test!(
    read_text_and_blob_resources,
    pins = [
        "resources:read:text",
        "resources:read:blob",
        "mcpserver:resource:static"
    ],
    |h| async move {
        let seen = Rec::new();
        let (s1, s2) = (seen.clone(), seen.clone());
        let server = ServerBuilder::new("r", "1")
        .resource(json!({"uri": "file:///a.txt", "name": "a", "mimeType": "text/plain"}), move |_ctx, uri| {
            s1.push(uri.clone());
            async move { Ok(json!([{"uri": uri, "mimeType": "text/plain", "text": "héllo\nworld"}])) }
        })
        .resource(json!({"uri": "file:///b.bin", "name": "b"}), move |_ctx, uri| {
            s2.push(uri.clone());
            async move { Ok(json!([{"uri": uri, "mimeType": "application/octet-stream", "blob": "AP8Q"}])) }
        })
        .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            c.client
                .request(
                    "resources/read",
                    read("file:///a.txt"),
                    CallOptions::default()
                )
                .await,
            Ok(
                json!({"contents": [{"uri": "file:///a.txt", "mimeType": "text/plain", "text": "héllo\nworld"}]})
            )
        );
        assert_eq!(
            c.client
                .request(
                    "resources/read",
                    read("file:///b.bin"),
                    CallOptions::default()
                )
                .await,
            Ok(
                json!({"contents": [{"uri": "file:///b.bin", "mimeType": "application/octet-stream", "blob": "AP8Q"}]})
            )
        );
        assert_eq!(
            seen.get(),
            vec!["file:///a.txt".to_string(), "file:///b.bin".to_string()]
        );
        c.close().await;
    }
);

interaction_test!(
    unknown_uri_is_invalid_params_with_the_uri,
    pins = [
        "resources:read:unknown-uri",
        "mcpserver:resource:unknown-uri"
    ],
    |h| async move {
        let server = ServerBuilder::new("r", "1")
            .resource(
                json!({"uri": "file:///a.txt", "name": "a"}),
                |_ctx, _uri| async move { Ok(json!([])) },
            )
            .resource_template(
                json!({"uriTemplate": "users://{id}/profile", "name": "u"}),
                |_ctx, _uri, _v| async move { Ok(json!([])) },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        for uri in [
            "file:///missing.txt",
            "users://a/b/profile",
            "users:///profile",
        ] {
            let r = c
                .client
                .request("resources/read", read(uri), CallOptions::default())
                .await;
            assert_eq!(
                r.rpc_form(),
                Err(
                    ErrorObject::new(codes::INVALID_PARAMS, "Resource not found")
                        .with_data(json!({"uri": uri}))
                )
            );
        }
        c.close().await;
    }
);

interaction_test!(
    read_handler_error_reaches_the_client,
    pins = [],
    |h| async move {
        let server = ServerBuilder::new("r", "1")
            .resource(
                json!({"uri": "file:///locked", "name": "locked"}),
                |_ctx, uri| async move {
                    Err(ErrorObject::new(-32002, "Access denied").with_data(json!({"uri": uri})))
                },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = c
            .client
            .request(
                "resources/read",
                read("file:///locked"),
                CallOptions::default(),
            )
            .await;
        assert_eq!(
            r.rpc_form(),
            Err(ErrorObject::new(-32002, "Access denied")
                .with_data(json!({"uri": "file:///locked"})))
        );
        c.close().await;
    }
);

interaction_test!(
    templates_list_and_parameters_extracted,
    pins = [
        "resources:templates:list",
        "resources:read:template-vars",
        "mcpserver:resource:template"
    ],
    |h| async move {
        let tpl = json!({"uriTemplate": "users://{id}/posts/{post}", "name": "post", "title": "A post", "mimeType": "application/json",
        "description": "One post", "annotations": {"priority": 0.1}});
        let seen = Rec::new();
        let s1 = seen.clone();
        let server = ServerBuilder::new("r", "1")
            .resource_template(tpl.clone(), move |_ctx, uri, vars| {
                let mut vars: Vec<(String, String)> = vars.into_iter().collect();
                vars.sort();
                s1.push(json!({"uri": uri, "vars": vars}));
                async move { Ok(json!([{"uri": uri, "text": "post"}])) }
            })
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            c.client
                .request("resources/templates/list", None, CallOptions::default())
                .await,
            Ok(json!({"resourceTemplates": [tpl]}))
        );
        // A server with only templates lists no static resources.
        assert_eq!(
            c.client
                .request("resources/list", None, CallOptions::default())
                .await,
            Ok(json!({"resources": []}))
        );
        let r = c
            .client
            .request(
                "resources/read",
                read("users://42/posts/hello-world"),
                CallOptions::default(),
            )
            .await;
        assert_eq!(
            r,
            Ok(json!({"contents": [{"uri": "users://42/posts/hello-world", "text": "post"}]}))
        );
        assert_eq!(
            seen.get(),
            vec![
                json!({"uri": "users://42/posts/hello-world", "vars": [["id", "42"], ["post", "hello-world"]]})
            ]
        );
        c.close().await;
    }
);

interaction_test!(
    subscribe_and_unsubscribe_deliver_the_uri,
    pins = ["resources:subscribe", "resources:unsubscribe"],
    |h| async move {
        let seen = Rec::new();
        let (s1, s2) = (seen.clone(), seen.clone());
        let server = ServerBuilder::new("r", "1")
            .resource(
                json!({"uri": "file:///w", "name": "w"}),
                |_ctx, _uri| async move { Ok(json!([])) },
            )
            .subscriptions(
                move |_ctx, p| {
                    s1.push(json!({"subscribe": p}));
                    async move { Ok(json!({})) }
                },
                move |_ctx, p| {
                    s2.push(json!({"unsubscribe": p}));
                    async move { Ok(json!({})) }
                },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            c.client
                .initialize_result()
                .map(|r| r["capabilities"]["resources"].clone()),
            Some(json!({"listChanged": false, "subscribe": true}))
        );
        assert_eq!(
            c.client
                .request(
                    "resources/subscribe",
                    read("file:///w"),
                    CallOptions::default()
                )
                .await,
            Ok(json!({}))
        );
        assert_eq!(
            c.client
                .request(
                    "resources/unsubscribe",
                    read("file:///w"),
                    CallOptions::default()
                )
                .await,
            Ok(json!({}))
        );
        assert_eq!(
            seen.get(),
            vec![
                json!({"subscribe": {"uri": "file:///w"}}),
                json!({"unsubscribe": {"uri": "file:///w"}})
            ]
        );
        c.close().await;
    }
);

interaction_test!(
    subscribe_without_a_handler_is_method_not_found,
    pins = ["resources:subscribe:capability-required"],
    |h| async move {
        let server = ServerBuilder::new("r", "1")
            .resource(
                json!({"uri": "file:///w", "name": "w"}),
                |_ctx, _uri| async move { Ok(json!([])) },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        for m in ["resources/subscribe", "resources/unsubscribe"] {
            let r = c
                .client
                .request(m, read("file:///w"), CallOptions::default())
                .await;
            assert_eq!(
                r.rpc_form(),
                Err(
                    ErrorObject::new(codes::METHOD_NOT_FOUND, "Method not found")
                        .with_data(json!(m))
                )
            );
        }
        c.close().await;
    }
);

interaction_test!(
    resources_updated_during_a_tool_call_reaches_the_client,
    pins = ["resources:updated-notification"],
    |h| async move {
        let server = ServerBuilder::new("r", "1")
            .tool(
                json!({"name": "touch", "inputSchema": {"type": "object"}}),
                |ctx, args| async move {
                    let uri = args["uri"].as_str().unwrap_or_default().to_string();
                    ctx.resource_updated(&uri).await;
                    Ok(text(format!("touched {uri}")))
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
        let r = call(&c.client, "touch", json!({"uri": "file:///w"})).await;
        assert_eq!(
            r,
            Ok(
                json!({"content": [{"type": "text", "text": "touched file:///w"}], "isError": false})
            )
        );
        // Delivered before the result (the handler may still be running it, hence the channel).
        assert_eq!(
            next(&notes).await,
            json!({"method": "notifications/resources/updated", "params": {"uri": "file:///w"}})
        );
        assert!(notes.is_empty());
        c.close().await;
    }
);

interaction_test!(
    duplicate_resources_and_templates_keep_the_first,
    pins = [],
    |h| async move {
        let server = ServerBuilder::new("r", "1")
            .resource(
                json!({"uri": "file:///d", "name": "first"}),
                |_ctx, uri| async move { Ok(json!([{"uri": uri, "text": "first"}])) },
            )
            .resource(
                json!({"uri": "file:///d", "name": "second"}),
                |_ctx, uri| async move { Ok(json!([{"uri": uri, "text": "second"}])) },
            )
            .resource_template(
                json!({"uriTemplate": "t://{x}", "name": "first"}),
                |_ctx, _uri, _v| async move { Ok(json!([])) },
            )
            .resource_template(
                json!({"uriTemplate": "t://{x}", "name": "second"}),
                |_ctx, _uri, _v| async move { Ok(json!([])) },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            c.client
                .request("resources/list", None, CallOptions::default())
                .await,
            Ok(json!({"resources": [{"uri": "file:///d", "name": "first"}]}))
        );
        assert_eq!(
            c.client
                .request("resources/templates/list", None, CallOptions::default())
                .await,
            Ok(json!({"resourceTemplates": [{"uriTemplate": "t://{x}", "name": "first"}]}))
        );
        assert_eq!(
            c.client
                .request("resources/read", read("file:///d"), CallOptions::default())
                .await,
            Ok(json!({"contents": [{"uri": "file:///d", "text": "first"}]}))
        );
        c.close().await;
    }
);

interaction_test!(
    a_panicking_resource_function_is_error_reading_resource_with_the_uri,
    pins = ["mcpserver:resource:read-throws-surfaced"],
    |h| async move {
        let server = ServerBuilder::new("r", "1")
            .resource(
                json!({"uri": "res://boom", "name": "boom"}),
                |_ctx, _uri| async move {
                    if true {
                        panic!("nope");
                    }
                    Ok(json!([]))
                },
            )
            .resource_template(
                json!({"uriTemplate": "res://boom/{n}", "name": "booms"}),
                |_ctx, _uri, _vars| async move {
                    if true {
                        panic!("nope");
                    }
                    Ok(json!([]))
                },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        for uri in ["res://boom", "res://boom/7"] {
            let r = c
                .client
                .request("resources/read", read(uri), CallOptions::default())
                .await;
            // The reference's text; the panic's own ("nope") stays on the server.
            assert_eq!(
                r.rpc_form(),
                Err(ErrorObject::new(
                    codes::INTERNAL_ERROR,
                    format!("Error reading resource {uri}")
                )
                .with_data(json!({"uri": uri})))
            );
        }
        // The session goes on.
        assert_eq!(
            c.client.request("ping", None, CallOptions::default()).await,
            Ok(json!({}))
        );
        c.close().await;
    }
);

// A DIVERGENCE from the reference, on purpose: it warns and keeps the first resource of a URI;
// `try_resource` and `try_resource_template` reject the second (compatibility note 18).
#[test]
fn duplicate_resources_and_templates_are_registration_errors_with_try() {
    mcp_sse_tests::pins!["mcpserver:resource:duplicate-name"];
    use mcp_sse_glue::ResourceRegistrationError as E;
    let contents = |_ctx, _uri| async move { Ok(json!([])) };
    let e = ServerBuilder::new("r", "1")
        .try_resource(json!({"uri": "config://app", "name": "a"}), contents)
        .and_then(|b| b.try_resource(json!({"uri": "config://app", "name": "b"}), contents))
        .expect_err("duplicate accepted");
    assert_eq!(e, E::DuplicateUri("config://app".into()));
    // One registered by the lenient `resource` counts too.
    let e = ServerBuilder::new("r", "1")
        .resource(json!({"uri": "config://app", "name": "a"}), contents)
        .try_resource(json!({"uri": "config://app", "name": "b"}), contents)
        .expect_err("duplicate accepted");
    assert_eq!(e, E::DuplicateUri("config://app".into()));
    let tpl = |_ctx, _uri, _vars| async move { Ok(json!([])) };
    let e = ServerBuilder::new("r", "1")
        .try_resource_template(json!({"uriTemplate": "u://{id}", "name": "a"}), tpl)
        .and_then(|b| b.try_resource_template(json!({"uriTemplate": "u://{id}", "name": "b"}), tpl))
        .expect_err("duplicate accepted");
    assert_eq!(e, E::DuplicateTemplate("u://{id}".into()));
    let e = ServerBuilder::new("r", "1")
        .try_resource(json!({"name": "no uri"}), contents)
        .expect_err("a resource without a uri accepted");
    assert_eq!(e, E::MissingKey("uri"));
    // Distinct URIs register.
    let b = ServerBuilder::new("r", "1")
        .try_resource(json!({"uri": "config://a", "name": "a"}), contents)
        .and_then(|b| b.try_resource(json!({"uri": "config://b", "name": "b"}), contents))
        .expect("distinct URIs");
    assert!(b.build().config().features.resources);
}

interaction_test!(
    a_tool_reads_the_servers_own_resource_through_its_context,
    pins = ["mcpserver:context:read-resource"],
    |h| async move {
        let server = ServerBuilder::new("library", "1")
            .resource(
                json!({"uri": "config://app", "name": "app_config", "mimeType": "text/plain"}),
                |_ctx, uri| async move {
                    Ok(json!([{"uri": uri, "mimeType": "text/plain", "text": "theme = dark"}]))
                },
            )
            .tool(
                json!({"name": "show_config", "inputSchema": {"type": "object"}}),
                |ctx: mcp_sse_glue::RequestContext, args| async move {
                    let uri = args
                        .get("uri")
                        .and_then(|u| u.as_str())
                        .unwrap_or("config://app")
                        .to_string();
                    let text = match ctx.read_resource(&uri).await {
                        Ok(r) => serde_json::to_value(&r.contents).unwrap_or_default(),
                        Err(e) => json!({"error": {"code": e.code, "message": e.message}}),
                    };
                    Ok(json!({"content": [{"type": "text", "text": text.to_string()}]}))
                },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = call(&c.client, "show_config", json!({}))
            .await
            .expect("call");
        assert_eq!(
            r["content"][0]["text"],
            json!([{"uri": "config://app", "mimeType": "text/plain", "text": "theme = dark"}])
                .to_string()
        );
        let r = call(&c.client, "show_config", json!({"uri": "config://missing"}))
            .await
            .expect("call");
        assert_eq!(
            r["content"][0]["text"],
            json!({"error": {"code": codes::INVALID_PARAMS, "message": "Resource not found"}})
                .to_string()
        );
        c.close().await;
    }
);
