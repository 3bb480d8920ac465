//! Interaction suite, "Prompts" and the MCPServer-flavour prompt items that apply to our
//! builder (legacy-sse.md d.2), over every transport × executor.

mod common_inter2;

use common_inter2::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_core::session::ServerFeatures;
use mcp_sse_glue::{CallOptions, ClientOptions, ServerBuilder};
use mcp_sse_tests::interaction_test;
use mcp_sse_tests::RpcForm;
use serde_json::{json, Value};

fn get(name: &str, arguments: Option<Value>) -> mcp_sse_glue::Params {
    let mut p = map(json!({"name": name}));
    if let Some(a) = arguments {
        p.insert("arguments".into(), a);
    }
    Some(p)
}

interaction_test!(
    prompts_list_returns_argument_declarations,
    pins = ["prompts:list:basic"],
    |h| async move {
        let review = json!({"name": "review", "title": "Code review", "description": "Review code.",
        "arguments": [{"name": "code", "description": "The code", "required": true}, {"name": "style", "required": false}],
        "icons": [{"src": "data:image/png;base64,AA=="}], "_meta": {"k": "v"}});
        let bare = json!({"name": "bare"});
        let server = ServerBuilder::new("p", "1")
            .prompt(review.clone(), |_ctx, _args| async move {
                Ok(json!({"messages": []}))
            })
            .prompt(bare.clone(), |_ctx, _args| async move {
                Ok(json!({"messages": []}))
            })
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            c.client
                .initialize_result()
                .map(|r| r["capabilities"]["prompts"].clone()),
            Some(json!({"listChanged": false}))
        );
        assert_eq!(
            c.client
                .request("prompts/list", None, CallOptions::default())
                .await,
            Ok(json!({"prompts": [review, bare]}))
        );
        c.close().await;
    }
);

interaction_test!(
    prompts_get_substitutes_arguments_and_keeps_roles_and_order,
    pins = ["prompts:get:with-args", "prompts:get:multi-message"],
    |h| async move {
        let seen = Rec::new();
        let s1 = seen.clone();
        let server = ServerBuilder::new("p", "1")
        .prompt(json!({"name": "chat", "arguments": [{"name": "topic", "required": true}]}), move |_ctx, args| {
            s1.push(json!(args));
            async move {
                let topic = args.as_ref().and_then(|a| a.get("topic")).and_then(Value::as_str).unwrap_or_default().to_string();
                Ok(json!({"description": format!("About {topic}"), "messages": [
                    {"role": "user", "content": {"type": "text", "text": format!("Tell me about {topic}.")}},
                    {"role": "assistant", "content": {"type": "text", "text": format!("{topic} is great.")}},
                    {"role": "user", "content": {"type": "text", "text": "Why?"}}
                ]}))
            }
        })
        .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = c
            .client
            .request(
                "prompts/get",
                get("chat", Some(json!({"topic": "Rust", "extra": "kept"}))),
                CallOptions::default(),
            )
            .await;
        assert_eq!(
            r,
            Ok(json!({"description": "About Rust", "messages": [
                {"role": "user", "content": {"type": "text", "text": "Tell me about Rust."}},
                {"role": "assistant", "content": {"type": "text", "text": "Rust is great."}},
                {"role": "user", "content": {"type": "text", "text": "Why?"}}
            ]}))
        );
        assert_eq!(seen.get(), vec![json!({"topic": "Rust", "extra": "kept"})]);
        c.close().await;
    }
);

interaction_test!(
    prompts_get_without_arguments_gives_the_handler_none,
    pins = ["prompts:get:no-args"],
    |h| async move {
        let seen = Rec::new();
        let s1 = seen.clone();
        let server = ServerBuilder::new("p", "1")
        .prompt(json!({"name": "hello"}), move |_ctx, args| {
            s1.push(json!(args));
            async move { Ok(json!({"messages": [{"role": "user", "content": {"type": "text", "text": "Hello!"}}]})) }
        })
        .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = c
            .client
            .request("prompts/get", get("hello", None), CallOptions::default())
            .await;
        assert_eq!(
            r,
            Ok(
                json!({"messages": [{"role": "user", "content": {"type": "text", "text": "Hello!"}}]})
            )
        );
        assert_eq!(seen.get(), vec![Value::Null]);
        c.close().await;
    }
);

interaction_test!(
    image_audio_and_embedded_resource_prompt_content_round_trips,
    pins = [
        "prompts:get:content:image",
        "prompts:get:content:audio",
        "prompts:get:content:embedded-resource"
    ],
    |h| async move {
        let messages = json!([
            {"role": "user", "content": {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"}},
            {"role": "user", "content": {"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav", "annotations": {"priority": 1}}},
            {"role": "assistant", "content": {"type": "resource", "resource": {"uri": "file:///n.txt", "mimeType": "text/plain", "text": "notes"}}},
            {"role": "user", "content": {"type": "resource", "resource": {"uri": "file:///b.bin", "blob": "AAECAw=="}}},
            {"role": "user", "content": {"type": "resource_link", "uri": "file:///l.md", "name": "l"}}
        ]);
        let m2 = messages.clone();
        let server = ServerBuilder::new("p", "1")
            .prompt(json!({"name": "media"}), move |_ctx, _args| {
                let m2 = m2.clone();
                async move { Ok(json!({"messages": m2})) }
            })
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = c
            .client
            .request(
                "prompts/get",
                get("media", Some(json!({}))),
                CallOptions::default(),
            )
            .await;
        assert_eq!(r, Ok(json!({"messages": messages})));
        c.close().await;
    }
);

interaction_test!(
    unknown_prompt_is_a_jsonrpc_error,
    pins = ["prompts:get:unknown-name", "mcpserver:prompt:unknown-name"],
    |h| async move {
        // Builder: -32602 naming the prompt.
        let ran = Rec::new();
        let r1 = ran.clone();
        let server = ServerBuilder::new("p", "1")
            .prompt(json!({"name": "known"}), move |_ctx, _args| {
                r1.push(());
                async move { Ok(json!({"messages": []})) }
            })
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = c
            .client
            .request("prompts/get", get("nope", None), CallOptions::default())
            .await;
        assert_eq!(
            r.rpc_form(),
            Err(ErrorObject::new(
                codes::INVALID_PARAMS,
                "Unknown prompt: nope"
            ))
        );
        assert!(ran.get().is_empty());
        c.close().await;
        // Low-level: the handler's error reaches the client unchanged.
        let seen = Rec::new();
        let s1 = seen.clone();
        let server = low_level(
            ServerFeatures {
                prompts: true,
                ..ServerFeatures::default()
            },
            move |_ctx, method, params| {
                s1.push(json!({"method": method, "params": params}));
                async move {
                    Err(ErrorObject::new(codes::INVALID_PARAMS, "Prompt not found")
                        .with_data(json!({"name": "ghost"})))
                }
            },
        );
        let c = h.connect(server, ClientOptions::default()).await;
        let r = c
            .client
            .request("prompts/get", get("ghost", None), CallOptions::default())
            .await;
        assert_eq!(
            r.rpc_form(),
            Err(ErrorObject::new(codes::INVALID_PARAMS, "Prompt not found")
                .with_data(json!({"name": "ghost"})))
        );
        assert_eq!(
            seen.get(),
            vec![json!({"method": "prompts/get", "params": {"name": "ghost"}})]
        );
        c.close().await;
    }
);

interaction_test!(
    duplicate_prompt_names_keep_the_first,
    pins = [],
    |h| async move {
        let server = ServerBuilder::new("p", "1")
        .prompt(json!({"name": "dup", "description": "first"}), |_ctx, _args| async move {
            Ok(json!({"messages": [{"role": "user", "content": {"type": "text", "text": "first"}}]}))
        })
        .prompt(json!({"name": "dup", "description": "second"}), |_ctx, _args| async move {
            Ok(json!({"messages": [{"role": "user", "content": {"type": "text", "text": "second"}}]}))
        })
        .build();
        let c = h.connect(server, ClientOptions::default()).await;
        assert_eq!(
            c.client
                .request("prompts/list", None, CallOptions::default())
                .await,
            Ok(json!({"prompts": [{"name": "dup", "description": "first"}]}))
        );
        assert_eq!(
            c.client
                .request("prompts/get", get("dup", None), CallOptions::default())
                .await,
            Ok(
                json!({"messages": [{"role": "user", "content": {"type": "text", "text": "first"}}]})
            )
        );
        c.close().await;
    }
);

/// The arguments of the typed `review` prompt.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Review {
    /// The code to review.
    code: String,
    /// How many findings at most.
    #[serde(default = "five")]
    limit: u32,
    /// Whether to be strict.
    #[serde(default)]
    strict: bool,
}

fn five() -> u32 {
    5
}

/// A server with the typed prompt `review`; `ran` records each rendering's arguments.
fn review_server(ran: Rec<Value>) -> mcp_sse_glue::McpServer {
    ServerBuilder::new("p", "1")
        .typed_prompt(
            mcp_sse_glue::PromptDef::new("review").description("Review some code."),
            move |_ctx, r: Review| {
                ran.push(json!({"code": r.code, "limit": r.limit, "strict": r.strict}));
                async move {
                    Ok(format!(
                        "Review this{} (at most {} findings):\n{}",
                        if r.strict { " strictly" } else { "" },
                        r.limit,
                        r.code
                    ))
                }
            },
        )
        .expect("review registers")
        .build()
}

interaction_test!(
    typed_prompt_declares_its_arguments_and_renders_a_string_as_one_user_message,
    pins = ["mcpserver:prompt:decorated"],
    |h| async move {
        let ran = Rec::new();
        let c = h
            .connect(review_server(ran.clone()), ClientOptions::default())
            .await;
        let r = c
            .client
            .request("prompts/list", None, CallOptions::default())
            .await;
        assert_eq!(
            r,
            Ok(json!({"prompts": [{
                "name": "review",
                "description": "Review some code.",
                "arguments": [
                    {"name": "code", "description": "The code to review.", "required": true},
                    {"name": "limit", "description": "How many findings at most.", "required": false},
                    {"name": "strict", "description": "Whether to be strict.", "required": false}
                ]
            }]}))
        );
        let r = c
            .client
            .request(
                "prompts/get",
                get(
                    "review",
                    Some(json!({"code": "x = 1", "limit": "2", "strict": "true"})),
                ),
                CallOptions::default(),
            )
            .await;
        assert_eq!(
            r,
            Ok(
                json!({"messages": [{"role": "user", "content": {"type": "text",
                "text": "Review this strictly (at most 2 findings):\nx = 1"}}]})
            )
        );
        assert_eq!(
            ran.get(),
            vec![json!({"code": "x = 1", "limit": 2, "strict": true})]
        );
        c.close().await;
    }
);

interaction_test!(
    typed_prompt_missing_a_required_argument_is_invalid_params,
    pins = ["prompts:get:missing-required-args"],
    |h| async move {
        let ran = Rec::new();
        let c = h
            .connect(review_server(ran.clone()), ClientOptions::default())
            .await;
        for arguments in [None, Some(json!({})), Some(json!({"limit": "3"}))] {
            let r = c
                .client
                .request(
                    "prompts/get",
                    get("review", arguments),
                    CallOptions::default(),
                )
                .await;
            assert_eq!(
                r.rpc_form(),
                Err(
                    ErrorObject::new(codes::INVALID_PARAMS, "Missing required arguments: code")
                        .with_data(json!({"missing": ["code"]}))
                )
            );
        }
        assert!(ran.get().is_empty(), "the prompt function ran");
        c.close().await;
    }
);

interaction_test!(
    typed_prompt_wrong_typed_argument_is_rejected_before_the_function_runs,
    pins = ["mcpserver:prompt:args-validation"],
    |h| async move {
        let ran = Rec::new();
        let c = h
            .connect(review_server(ran.clone()), ClientOptions::default())
            .await;
        let r = c
            .client
            .request(
                "prompts/get",
                get("review", Some(json!({"code": "x", "limit": "many"}))),
                CallOptions::default(),
            )
            .await;
        assert_eq!(
            r.rpc_form(),
            Err(ErrorObject::new(
                codes::INVALID_PARAMS,
                "Invalid arguments for prompt review: limit: value is not of type \"integer\""
            ))
        );
        assert!(ran.get().is_empty(), "the prompt function ran");
        // The session goes on.
        let r = c
            .client
            .request(
                "prompts/get",
                get("review", Some(json!({"code": "x"}))),
                CallOptions::default(),
            )
            .await;
        assert!(r.is_ok(), "{r:?}");
        c.close().await;
    }
);

interaction_test!(
    typed_prompt_omitted_optional_arguments_take_their_defaults,
    pins = ["mcpserver:prompt:optional-args"],
    |h| async move {
        let ran = Rec::new();
        let c = h
            .connect(review_server(ran.clone()), ClientOptions::default())
            .await;
        let r = c
            .client
            .request(
                "prompts/get",
                get("review", Some(json!({"code": "y = 2"}))),
                CallOptions::default(),
            )
            .await;
        assert_eq!(
            r,
            Ok(
                json!({"messages": [{"role": "user", "content": {"type": "text",
                "text": "Review this (at most 5 findings):\ny = 2"}}]})
            )
        );
        assert_eq!(
            ran.get(),
            vec![json!({"code": "y = 2", "limit": 5, "strict": false})]
        );
        c.close().await;
    }
);

// A DIVERGENCE from the reference, on purpose: it warns and keeps the first prompt of a name; a
// typed registration is rejected with a typed error (compatibility note 18).
#[test]
fn duplicate_typed_prompt_names_are_registration_errors() {
    mcp_sse_tests::pins!["mcpserver:prompt:duplicate-name"];
    let render = |_ctx, r: Review| async move { Ok(r.code) };
    let e = ServerBuilder::new("p", "1")
        .typed_prompt("review", render)
        .and_then(|b| b.typed_prompt("review", render))
        .expect_err("duplicate accepted");
    assert_eq!(
        e,
        mcp_sse_glue::PromptRegistrationError::DuplicateName("review".into())
    );
    // An untyped prompt of that name counts too.
    let e = ServerBuilder::new("p", "1")
        .prompt(json!({"name": "review"}), |_ctx, _args| async move {
            Ok(json!({"messages": []}))
        })
        .typed_prompt("review", render)
        .expect_err("duplicate accepted");
    assert_eq!(
        e,
        mcp_sse_glue::PromptRegistrationError::DuplicateName("review".into())
    );
    // Arguments that are not named fields are an error at registration.
    let e = ServerBuilder::new("p", "1")
        .typed_prompt("n", |_ctx, n: i64| async move { Ok(n.to_string()) })
        .expect_err("non-object arguments accepted");
    assert!(
        matches!(
            e,
            mcp_sse_glue::PromptRegistrationError::NonObjectArguments { .. }
        ),
        "{e}"
    );
}
