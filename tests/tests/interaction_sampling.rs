//! Interaction suite, "Sampling" (legacy-sse.md d.2), over every transport × executor.
//!
//! `RequestContext::sample` checks what the reference's `create_message` checks
//! (`mcp_sse_core::session::sampling_checks`): tools need the client's `sampling.tools`, a
//! last message with `tool_result` blocks holds only those and answers the previous message's
//! `tool_use` ids, and a request without tools must be answered with one content block.

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
        // One block answers a request without tools (an array would be rejected: see
        // array_content_answering_a_tool_free_request_is_rejected_by_the_server).
        let answer = json!({"role": "assistant", "content": {"type": "text", "text": "2 blocks"}, "model": "m"});
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

interaction_test!(
    array_content_answering_a_tool_free_request_is_rejected_by_the_server,
    pins = ["sampling:result:no-tools-single-content"],
    |h| async move {
        let seen = Rec::new();
        let answer = json!({"role": "assistant", "content": [{"type": "text", "text": "First thought."}, {"type": "text", "text": "Second thought."}], "model": "m"});
        let c = h
            .connect(
                sampling_server(),
                with_sampler(sampler(Ok(answer), seen.clone())),
            )
            .await;
        let params = json!({"messages": [{"role": "user", "content": {"type": "text", "text": "Two thoughts, please."}}], "maxTokens": 100});
        let r = call(&c.client, "sample", params.clone()).await.unwrap();
        assert_eq!(
            r["structuredContent"]["sampled"],
            json!({"error": {"code": codes::INTERNAL_ERROR, "message": "Invalid sampling result: a request without tools must be answered with one content block, not an array", "data": null}})
        );
        // The client's callback did answer: the check is the server's.
        assert_eq!(seen.get(), vec![params]);
        c.close().await;
    }
);

/// Calls `sample` with `params` against a client with a sampling callback (which cannot
/// declare `sampling.tools`); asserts the tool saw `-32602 message` and the callback never ran.
async fn rejected_before_sending(h: &mcp_sse_tests::Harness, params: Value, message: &str) {
    let seen = Rec::new();
    let answer =
        json!({"role": "assistant", "content": {"type": "text", "text": "x"}, "model": "m"});
    let c = h
        .connect(
            sampling_server(),
            with_sampler(sampler(Ok(answer), seen.clone())),
        )
        .await;
    let r = call(&c.client, "sample", params).await.unwrap();
    assert_eq!(
        r["structuredContent"]["sampled"],
        json!({"error": {"code": codes::INVALID_PARAMS, "message": message, "data": null}})
    );
    assert!(seen.get().is_empty(), "the request reached the client");
    c.close().await;
}

interaction_test!(
    tool_enabled_sampling_to_a_client_without_sampling_tools_never_leaves_the_server,
    pins = ["sampling:tools:server-gated-by-capability"],
    |h| async move {
        rejected_before_sending(
            &h,
            json!({"messages": [{"role": "user", "content": {"type": "text", "text": "What is the weather?"}}],
                   "maxTokens": 100, "tools": [{"name": "get_weather", "inputSchema": {"type": "object"}}]}),
            "Client does not support sampling tools capability",
        )
        .await;
    }
);

interaction_test!(
    mixed_tool_result_content_is_rejected_before_sending,
    pins = ["sampling:tool-result:no-mixed-content"],
    |h| async move {
        rejected_before_sending(
            &h,
            json!({"messages": [{"role": "user", "content": [
                       {"type": "tool_result", "toolUseId": "call-1", "content": [{"type": "text", "text": "42"}]},
                       {"type": "text", "text": "Also, a comment alongside the result."}]}],
                   "maxTokens": 100}),
            "The last message must contain only tool_result content if any is present",
        )
        .await;
    }
);

interaction_test!(
    mismatched_tool_use_and_result_ids_are_rejected_before_sending,
    pins = ["sampling:tool-use:server-preflight"],
    |h| async move {
        rejected_before_sending(
            &h,
            json!({"messages": [
                       {"role": "assistant", "content": [{"type": "tool_use", "id": "call-1", "name": "weather", "input": {}}]},
                       {"role": "user", "content": [{"type": "tool_result", "toolUseId": "call-WRONG", "content": [{"type": "text", "text": "42"}]}]}],
                   "maxTokens": 100}),
            "ids of tool_result blocks and tool_use blocks from previous message do not match",
        )
        .await;
    }
);
