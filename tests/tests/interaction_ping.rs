//! Interaction suite, "Ping" (legacy-sse.md d.2), over every transport × executor.

mod common_inter2;

use common_inter2::*;
use mcp_sse_core::session::ServerFeatures;
use mcp_sse_glue::{CallOptions, ClientOptions, ServerBuilder};
use mcp_sse_tests::interaction_test;
use serde_json::json;

interaction_test!(
    client_ping_is_empty_result_even_without_handlers,
    pins = ["ping:client-to-server"],
    |h| async move {
        let seen = Rec::new();
        let s1 = seen.clone();
        let server = low_level(ServerFeatures::default(), move |_ctx, method, _params| {
            s1.push(method);
            async move { Ok(json!({"unexpected": true})) }
        });
        let c = h.connect(server, ClientOptions::default()).await;
        let caps = c
            .client
            .initialize_result()
            .map(|r| r["capabilities"].clone());
        assert_eq!(caps, Some(json!({})));
        for _ in 0..3 {
            assert_eq!(
                c.client.request("ping", None, CallOptions::default()).await,
                Ok(json!({}))
            );
        }
        // Answered by the session: the handler never saw it.
        assert!(seen.get().is_empty());
        c.close().await;
    }
);

interaction_test!(
    builder_server_without_features_answers_ping,
    pins = ["ping:client-to-server"],
    |h| async move {
        let c = h
            .connect(
                ServerBuilder::new("empty", "0").logging(false).build(),
                ClientOptions::default(),
            )
            .await;
        assert_eq!(
            c.client
                .initialize_result()
                .map(|r| r["capabilities"].clone()),
            Some(json!({}))
        );
        assert_eq!(
            c.client
                .request("ping", obj(json!({})), CallOptions::default())
                .await,
            Ok(json!({}))
        );
        c.close().await;
    }
);

interaction_test!(
    server_ping_during_a_request_is_answered_by_the_client,
    pins = ["ping:server-to-client", "lifecycle:ping"],
    |h| async move {
        let server = ServerBuilder::new("p", "1")
        .tool(json!({"name": "ping_client", "inputSchema": {"type": "object"}}), |ctx, _args| async move {
            let first = ctx.ping().await;
            let second = ctx.ping().await;
            let show = |r: Result<serde_json::Value, _>| r.unwrap_or_else(|e: mcp_sse_core::jsonrpc::ErrorObject| json!({"error": e.code}));
            Ok(json!({"content": [], "structuredContent": {"first": show(first), "second": show(second)}}))
        })
        .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = call(&c.client, "ping_client", json!({})).await;
        assert_eq!(
            r,
            Ok(
                json!({"content": [], "structuredContent": {"first": {}, "second": {}}, "isError": false})
            )
        );
        c.close().await;
    }
);
