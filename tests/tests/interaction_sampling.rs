//! Interaction suite, "Sampling" (legacy-sse.md d.2), over every transport × executor.
//!
//! Not covered: the reference's server-side validation of tool-enabled sampling
//! (`sampling.tools` capability, tool_use/tool_result pairing, array content for tool-free
//! requests). Our `RequestContext::sample` sends params verbatim and does no such checks.

mod common_inter2;

use common_inter2::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_glue::{ClientOptions, McpServer, RequestCallback, ServerBuilder};
use mcp_sse_tests::interaction_test;
use serde_json::{json, Value};

/// A tool `sample` sending its arguments as `sampling/createMessage` params; returns the result
/// (or `{"error": …}`) and the client capabilities as structured content.
fn sampling_server() -> McpServer {
    ServerBuilder::new("s", "1")
        .tool(
            json!({"name": "sample", "inputSchema": {"type": "object"}}),
            |ctx, args| async move {
                let caps = ctx.client().map(|c| c.capabilities).unwrap_or(Value::Null);
                let r = match ctx.sample(args).await {
                    Ok(v) => json!({"result": v}),
                    Err(e) => {
                        json!({"error": {"code": e.code, "message": e.message, "data": e.data}})
                    }
                };
                Ok(json!({"content": [], "structuredContent": {"sampled": r, "caps": caps}}))
            },
        )
        .build()
}

fn sampler(answer: Result<Value, ErrorObject>, seen: Rec<Value>) -> RequestCallback {
    callback(move |params| {
        seen.push(json!(params));
        let answer = answer.clone();
        async move { answer }
    })
}

fn with_sampler(cb: RequestCallback) -> ClientOptions {
    ClientOptions {
        sampling_callback: Some(cb),
        ..ClientOptions::default()
    }
}

interaction_test!(
    create_message_round_trip,
    pins = ["sampling:create:basic", "tools:call:sampling-roundtrip"],
    |h| async move {
        let seen = Rec::new();
        let answer = json!({"role": "assistant", "content": {"type": "text", "text": "echo: hi"}, "model": "test-model", "stopReason": "endTurn"});
        let c = h
            .connect(
                sampling_server(),
                with_sampler(sampler(Ok(answer.clone()), seen.clone())),
            )
            .await;
        let params = json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 50});
        let r = call(&c.client, "sample", params.clone()).await.unwrap();
        assert_eq!(
            r["structuredContent"],
            json!({"sampled": {"result": answer}, "caps": {"sampling": {}}})
        );
        assert_eq!(seen.get(), vec![params]);
        c.close().await;
    }
);

interaction_test!(
    every_sampling_parameter_arrives_unchanged,
    pins = [
        "sampling:create:include-context",
        "sampling:create:model-preferences",
        "sampling:create:system-prompt",
        "sampling:context:server-gated-by-capability"
    ],
    |h| async move {
        let seen = Rec::new();
        let answer =
            json!({"role": "assistant", "content": {"type": "text", "text": "ok"}, "model": "m"});
        let c = h
            .connect(
                sampling_server(),
                with_sampler(sampler(Ok(answer), seen.clone())),
            )
            .await;
        let params = json!({
            "messages": [
                {"role": "user", "content": {"type": "text", "text": "q1"}},
                {"role": "assistant", "content": {"type": "text", "text": "a1"}},
                {"role": "user", "content": {"type": "text", "text": "q2", "annotations": {"priority": 0.5}}}
            ],
            "modelPreferences": {"hints": [{"name": "claude-3"}, {"name": "gpt"}], "costPriority": 0.25, "speedPriority": 1, "intelligencePriority": 0.75},
            "systemPrompt": "Be brief.",
            "includeContext": "thisServer",
            "temperature": 0.7,
            "maxTokens": 123,
            "stopSequences": ["\n\n", "END"],
            "metadata": {"trace": "abc", "nested": {"n": [1, 2]}},
            "_meta": {"vendor/x": true}
        });
        call(&c.client, "sample", params.clone()).await.unwrap();
        assert_eq!(seen.get(), vec![params]);
        c.close().await;
    }
);

interaction_test!(
    image_and_audio_content_in_request_and_result,
    pins = [
        "sampling:create-message:image-content",
        "sampling:create-message:audio-content"
    ],
    |h| async move {
        let seen = Rec::new();
        let answer = json!({"role": "assistant", "content": {"type": "image", "data": "R0lGODlhAQABAAAAACw=", "mimeType": "image/gif"}, "model": "vision"});
        let c = h
            .connect(
                sampling_server(),
                with_sampler(sampler(Ok(answer.clone()), seen.clone())),
            )
            .await;
        let params = json!({"messages": [
        {"role": "user", "content": {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"}},
        {"role": "user", "content": {"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav"}}
    ], "maxTokens": 10});
        let r = call(&c.client, "sample", params.clone()).await.unwrap();
        assert_eq!(r["structuredContent"]["sampled"], json!({"result": answer}));
        assert_eq!(seen.get(), vec![params]);
        c.close().await;
    }
);

interaction_test!(
    audio_content_in_the_result,
    pins = ["sampling:create-message:audio-content"],
    |h| async move {
        let seen = Rec::new();
        let answer = json!({"role": "assistant", "content": {"type": "audio", "data": "T2dnUw==", "mimeType": "audio/ogg"}, "model": "voice", "stopReason": "maxTokens"});
        let c = h
            .connect(
                sampling_server(),
                with_sampler(sampler(Ok(answer.clone()), seen)),
            )
            .await;
        let r = call(&c.client, "sample", json!({"messages": [], "maxTokens": 1}))
            .await
            .unwrap();
        assert_eq!(r["structuredContent"]["sampled"], json!({"result": answer}));
        c.close().await;
    }
);

interaction_test!(
    a_callback_error_surfaces_to_the_tool,
    pins = ["sampling:error:user-rejected"],
    |h| async move {
        let seen = Rec::new();
        let err = ErrorObject::new(-1, "User rejected sampling request")
            .with_data(json!({"reason": "declined"}));
        let c = h
            .connect(
                sampling_server(),
                with_sampler(sampler(Err(err), seen.clone())),
            )
            .await;
        let r = call(&c.client, "sample", json!({"messages": [], "maxTokens": 1}))
            .await
            .unwrap();
        assert_eq!(
            r["structuredContent"]["sampled"],
            json!({"error": {"code": -1, "message": "User rejected sampling request", "data": {"reason": "declined"}}})
        );
        assert_eq!(seen.get().len(), 1);
        c.close().await;
    }
);

interaction_test!(
    no_sampling_callback_gives_the_default_error,
    pins = ["sampling:create-message:not-supported"],
    |h| async move {
        let c = h.connect(sampling_server(), ClientOptions::default()).await;
        let r = call(&c.client, "sample", json!({"messages": [], "maxTokens": 1}))
            .await
            .unwrap();
        assert_eq!(
            r["structuredContent"],
            json!({"sampled": {"error": {"code": codes::INVALID_REQUEST, "message": "Sampling not supported", "data": null}}, "caps": {}})
        );
        c.close().await;
    }
);

interaction_test!(
    list_valued_message_content_arrives_as_a_list,
    pins = ["sampling:message:content-cardinality"],
    |h| async move {
        let seen = Rec::new();
        let answer = json!({"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "model": "m"});
        let c = h
            .connect(
                sampling_server(),
                with_sampler(sampler(Ok(answer.clone()), seen.clone())),
            )
            .await;
        let params = json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "image", "data": "AA==", "mimeType": "image/png"}]}], "maxTokens": 5});
        let r = call(&c.client, "sample", params.clone()).await.unwrap();
        assert_eq!(r["structuredContent"]["sampled"], json!({"result": answer}));
        assert!(seen.get()[0]["messages"][0]["content"].is_array());
        assert_eq!(seen.get(), vec![params]);
        c.close().await;
    }
);
