//! Interaction suite, Initialize group (legacy-sse.md d.2) and the d.3 `test_initialize.py`
//! rules seen through the public API.

#[macro_use]
mod common_inter1;

use std::sync::Arc;

use common_inter1::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_core::session::ServerConfig;
use mcp_sse_glue::{
    BoxFuture, ClientOptions, Handler, McpServer, Params, RequestContext, ServerBuilder, ToolError,
};
use serde_json::{json, Value};

/// A tool `whoami` that reports what the server learned in `initialize` (and forwards it to
/// `seen`).
fn whoami_server(seen: async_channel::Sender<Value>) -> McpServer {
    ServerBuilder::new("init-server", "1.0.0")
        .tool(json!({"name": "whoami", "inputSchema": {"type": "object"}}), move |ctx: RequestContext, _args| {
            let seen = seen.clone();
            async move {
                let info = ctx.client().ok_or(ToolError::from("no client info"))?;
                let v = json!({"protocolVersion": info.protocol_version, "clientInfo": info.client_info,
                               "capabilities": info.capabilities});
                let _ = seen.send(v.clone()).await;
                Ok(structured(v))
            }
        })
        .build()
}

mcp_sse_tests::interaction_test!(
    every_server_info_field_reaches_the_client,
    pins = [
        "lifecycle:initialize:basic",
        "lifecycle:initialize:server-info"
    ],
    |h| async move {
        let info = json!({
            "name": "full-info", "title": "Full Info Server", "version": "2.5.1",
            "description": "A server that fills in every Implementation field.",
            "websiteUrl": "https://example.com/full-info",
            "icons": [{"src": "https://example.com/icon.png", "mimeType": "image/png", "sizes": ["48x48"]},
                      {"src": "data:image/svg+xml;base64,PHN2Zy8+", "mimeType": "image/svg+xml", "theme": "dark"}]
        });
        let server = ServerBuilder::new("ignored", "0")
            .server_info(info.clone())
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let init = c.client.initialize_result().expect("initialize result");
        assert_eq!(init["serverInfo"], info);
        assert_eq!(init["protocolVersion"], json!("2025-11-25"));
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    instructions_present_when_declared_omitted_otherwise,
    pins = ["lifecycle:initialize:instructions"],
    |h| async move {
        let with = ServerBuilder::new("s", "1")
            .instructions("Use the tools wisely.\nLine two: é")
            .build();
        let c = h.connect(with, ClientOptions::default()).await;
        let init = c.client.initialize_result().expect("initialize result");
        assert_eq!(
            init.get("instructions"),
            Some(&json!("Use the tools wisely.\nLine two: é"))
        );
        c.close().await;

        let without = ServerBuilder::new("s", "1").build();
        let c = h.connect(without, ClientOptions::default()).await;
        let init = c.client.initialize_result().expect("initialize result");
        assert_eq!(
            init.get("instructions"),
            None,
            "instructions key must be omitted: {init}"
        );
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    capabilities_reflect_registered_handlers,
    pins = [
        "lifecycle:initialize:capabilities:from-handlers",
        "tools:capability:declared",
        "resources:capability:declared",
        "prompts:capability:declared",
        "completion:capability:declared",
        "mcpserver:completion:capability-auto"
    ],
    |h| async move {
        let ok = |_c: RequestContext, _a| async move { Ok(json!({"content": []})) };
        let server = ServerBuilder::new("caps", "1")
            .tool(json!({"name": "t", "inputSchema": {"type": "object"}}), ok)
            .resource(
                json!({"uri": "mem://r", "name": "r"}),
                |_c, uri| async move { Ok(json!([{"uri": uri, "text": "x"}])) },
            )
            .prompt(json!({"name": "p"}), |_c, _a| async move {
                Ok(json!({"messages": []}))
            })
            .completion(|_c, _p| async move { Ok(json!({"completion": {"values": []}})) })
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let init = c.client.initialize_result().expect("initialize result");
        // DIVERGENCE 8: `logging` is advertised (the reference MCPServer omits it although it logs).
        assert_eq!(
            init["capabilities"],
            json!({"completions": {}, "logging": {},
               "prompts": {"listChanged": false},
               "resources": {"listChanged": false, "subscribe": false},
               "tools": {"listChanged": false}})
        );
        c.close().await;

        // Only tools: only the tools capability (plus logging).
        let server = ServerBuilder::new("caps", "1")
            .tool(json!({"name": "t", "inputSchema": {"type": "object"}}), ok)
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let init = c.client.initialize_result().expect("initialize result");
        assert_eq!(
            init["capabilities"],
            json!({"logging": {}, "tools": {"listChanged": false}})
        );
        c.close().await;
    }
);

/// A low-level handler that records every request it is given (it should get none).
struct Recorder(async_channel::Sender<String>);

impl Handler for Recorder {
    fn handle_request(
        &self,
        _ctx: RequestContext,
        method: String,
        _params: Params,
    ) -> BoxFuture<'static, Result<Value, ErrorObject>> {
        let _ = self.0.try_send(method);
        Box::pin(async { Ok(json!({})) })
    }
}

mcp_sse_tests::interaction_test!(
    server_without_handlers_advertises_no_feature_capabilities,
    pins = ["lifecycle:initialize:capabilities:minimal"],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let server = McpServer::new(ServerConfig::default(), Arc::new(Recorder(tx)));
        let c = h.connect(server, ClientOptions::default()).await;
        let init = c.client.initialize_result().expect("initialize result");
        assert_eq!(init["capabilities"], json!({}));
        assert_eq!(
            init["serverInfo"],
            json!({"name": "mcp-sse", "version": env!("CARGO_PKG_VERSION")})
        );
        for method in [
            "tools/list",
            "resources/list",
            "prompts/list",
            "completion/complete",
        ] {
            let err = c
                .client
                .request(method, None, Default::default())
                .await
                .expect_err(method);
            assert_eq!(
                err.to_error_object(),
                ErrorObject::new(codes::METHOD_NOT_FOUND, "Method not found")
                    .with_data(json!(method))
            );
        }
        // Ping is always served.
        assert_eq!(
            c.client.request("ping", None, Default::default()).await,
            Ok(json!({}))
        );
        assert!(
            rx.try_recv().is_err(),
            "the handler must not see feature requests of disabled features"
        );
        c.close().await;

        // The builder with nothing registered and logging off advertises nothing either.
        let server = ServerBuilder::new("empty", "1").logging(false).build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            c.client.initialize_result().expect("initialize result")["capabilities"],
            json!({})
        );
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    server_sees_the_client_info_the_client_supplied,
    pins = ["lifecycle:initialize:client-info"],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let client_info = json!({"name": "custom-client", "title": "Custom Client", "version": "9.8.7",
                             "websiteUrl": "https://example.com/client"});
        let opts = ClientOptions {
            client_info: client_info.clone(),
            ..ClientOptions::default()
        };
        let c = h.connect(whoami_server(tx), opts).await;
        let r = call(&c.client, "whoami", json!({})).await.expect("whoami");
        let expected =
            json!({"protocolVersion": "2025-11-25", "clientInfo": client_info, "capabilities": {}});
        assert_eq!(
            r,
            json!({"content": [], "structuredContent": expected, "isError": false})
        );
        assert_eq!(next(&rx).await, expected);
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    server_sees_client_capabilities_matching_callbacks,
    pins = [
        "lifecycle:initialize:client-capabilities",
        "sampling:capability:declare"
    ],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let (seen, _) = async_channel::unbounded();
        let opts = ClientOptions {
            sampling_callback: Some(answering(seen.clone(), Ok(json!({})))),
            list_roots_callback: Some(answering(seen.clone(), Ok(json!({"roots": []})))),
            elicitation_callback: Some(answering(seen, Ok(json!({"action": "cancel"})))),
            ..ClientOptions::default()
        };
        let c = h.connect(whoami_server(tx.clone()), opts).await;
        call(&c.client, "whoami", json!({})).await.expect("whoami");
        assert_eq!(
            next(&rx).await["capabilities"],
            json!({"sampling": {}, "elicitation": {"form": {}, "url": {}}, "roots": {"listChanged": true}})
        );
        c.close().await;

        // Only a roots callback: only roots.
        let (seen, _) = async_channel::unbounded();
        let opts = ClientOptions {
            list_roots_callback: Some(answering(seen, Ok(json!({"roots": []})))),
            ..ClientOptions::default()
        };
        let c = h.connect(whoami_server(tx), opts).await;
        call(&c.client, "whoami", json!({})).await.expect("whoami");
        assert_eq!(
            next(&rx).await["capabilities"],
            json!({"roots": {"listChanged": true}})
        );
        c.close().await;
    }
);

// d.3 test_initialize.py: requests before initialize are rejected with -32602 and never reach
// the handler; ping is exempt; unknown methods are -32601 before initialize too (a.4).
mcp_sse_tests::interaction_test!(
    requests_before_initialize_are_rejected_ping_exempt,
    pins = ["lifecycle:requests-before-initialized"],
    |h| async move {
        let (tx, rx) = async_channel::unbounded();
        let peer = RawPeer::connect(&h, whoami_server(tx)).await;
        peer.send(json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}})).await;
        assert_eq!(
            peer.recv().await,
            json!({"jsonrpc": "2.0", "id": 7, "error": {"code": codes::INVALID_PARAMS, "message": "Invalid request parameters", "data": ""}})
        );
        peer.send(json!({"jsonrpc": "2.0", "id": 8, "method": "ping"}))
            .await;
        assert_eq!(
            peer.recv().await,
            json!({"jsonrpc": "2.0", "id": 8, "result": {}})
        );
        peer.send(json!({"jsonrpc": "2.0", "id": 9, "method": "no/such"}))
            .await;
        assert_eq!(
            peer.recv().await,
            json!({"jsonrpc": "2.0", "id": 9, "error": {"code": codes::METHOD_NOT_FOUND, "message": "Method not found", "data": "no/such"}})
        );
        let init = peer.initialize("2025-11-25").await;
        assert_eq!(init["id"], json!(1));
        assert_eq!(init["result"]["protocolVersion"], json!("2025-11-25"));
        // After initialize the same call is served, and it is the first the handler sees.
        peer.send(json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}})).await;
        let r = peer.recv().await;
        assert_eq!(r["id"], json!(10));
        assert_eq!(
            r["result"]["structuredContent"]["clientInfo"],
            json!({"name": "raw-peer", "version": "0.0.1"})
        );
        assert_eq!(next(&rx).await["protocolVersion"], json!("2025-11-25"));
        assert!(
            rx.try_recv().is_err(),
            "the rejected call must not have reached the handler"
        );
        peer.close().await;
    }
);

// d.3: the server echoes a supported version and answers an unsupported one with 2025-11-25.
mcp_sse_tests::interaction_test!(
    server_echoes_supported_version_and_counters_unsupported,
    pins = [
        "lifecycle:version:match",
        "lifecycle:version:server-fallback-latest"
    ],
    |h| async move {
        for (offered, answered) in [
            ("2025-03-26", "2025-03-26"),
            ("2024-11-05", "2024-11-05"),
            ("2025-06-18", "2025-06-18"),
            ("1999-01-01", "2025-11-25"),
        ] {
            let (tx, rx) = async_channel::unbounded();
            let peer = RawPeer::connect(&h, whoami_server(tx)).await;
            let init = peer.initialize(offered).await;
            assert_eq!(
                init["result"]["protocolVersion"],
                json!(answered),
                "offered {offered}"
            );
            peer.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami"}})).await;
            assert_eq!(
                peer.recv().await["result"]["structuredContent"]["protocolVersion"],
                json!(answered)
            );
            assert_eq!(next(&rx).await["protocolVersion"], json!(answered));
            peer.close().await;
        }
    }
);

// d.3: through the client API: an older supported version (downgrade) is accepted, and a
// client offering an unknown version accepts the server's 2025-11-25.
mcp_sse_tests::interaction_test!(
    client_accepts_downgrade_and_counter_offer,
    pins = ["lifecycle:version:downgrade"],
    |h| async move {
        for (offered, negotiated) in [("2024-11-05", "2024-11-05"), ("1999-01-01", "2025-11-25")] {
            let (tx, rx) = async_channel::unbounded();
            let opts = ClientOptions {
                protocol_version: offered.into(),
                ..ClientOptions::default()
            };
            let c = h.connect(whoami_server(tx), opts).await;
            assert_eq!(
                c.client.initialize_result().expect("init")["protocolVersion"],
                json!(negotiated)
            );
            call(&c.client, "whoami", json!({}))
                .await
                .expect("session usable after the handshake");
            assert_eq!(next(&rx).await["protocolVersion"], json!(negotiated));
            c.close().await;
        }
    }
);

fn initialize_request(protocol_version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": protocol_version, "capabilities": {},
        "clientInfo": {"name": "mcp-sse", "version": env!("CARGO_PKG_VERSION")}}})
}

// d.3 (scripted server): an unsupported server version fails `initialize`; nothing else is sent.
scripted_test!(
    unsupported_server_version_fails_initialize,
    pins = ["lifecycle:version:reject-unsupported"],
    |h| async move {
        let (mut server, done) = start_scripted(&h, ClientOptions::default());
        assert_eq!(server.recv().await, Some(initialize_request("2025-11-25")));
        let result = json!({"protocolVersion": "1999-01-01", "capabilities": {}, "serverInfo": {"name": "x", "version": "1"}});
        server
            .send(json!({"jsonrpc": "2.0", "id": 1, "result": result}))
            .await;
        // The client gives up and closes its side without sending `notifications/initialized`.
        assert_eq!(server.drain().await, Vec::<Value>::new());
        drop(server);
        let err = next(&done).await.expect_err("initialize must fail");
        assert!(
            matches!(err, mcp_sse_glue::Error::Handshake { .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_error_object(),
            ErrorObject::new(
                codes::INTERNAL_ERROR,
                "Unsupported protocol version from the server: 1999-01-01"
            )
            .with_data(result)
        );
    }
);

// d.3 (scripted server): an older supported version is accepted; exactly one
// `notifications/initialized` follows, then the first request.
scripted_test!(
    older_supported_server_version_is_accepted,
    pins = [
        "lifecycle:version:downgrade",
        "lifecycle:initialized-notification"
    ],
    |h| async move {
        let (mut server, done) = start_scripted(&h, ClientOptions::default());
        assert_eq!(server.recv().await, Some(initialize_request("2025-11-25")));
        let result = json!({"protocolVersion": "2024-11-05", "capabilities": {}, "serverInfo": {"name": "old", "version": "1"}});
        server
            .send(json!({"jsonrpc": "2.0", "id": 1, "result": result}))
            .await;
        let client = next(&done).await.expect("initialize succeeds");
        assert_eq!(client.initialize_result(), Some(result));
        assert_eq!(
            server.recv().await,
            Some(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        );
        let ping = {
            let client = client.clone();
            async move { client.request("ping", None, Default::default()).await }
        };
        let answer = async {
            assert_eq!(
                server.recv().await,
                Some(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
            );
            server
                .send(json!({"jsonrpc": "2.0", "id": 2, "result": {}}))
                .await;
        };
        let (r, ()) = futures_lite::future::zip(ping, answer).await;
        assert_eq!(r, Ok(json!({})));
        let closing = client.close();
        let script = async {
            assert_eq!(server.drain().await, Vec::<Value>::new());
            server.to_client.close();
        };
        futures_lite::future::zip(closing, script).await;
    }
);
