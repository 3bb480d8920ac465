//! Typed tools (`ServerBuilder::typed_tool`, decided by `mcp_sse_core::router::typed`) over every
//! transport × executor: generated schemas, structured output and its text mirror, serde's
//! optional fields and defaults, argument and output validation, handler failures and panics,
//! and registration errors.
//!
//! Each test names, in `pins`, the requirement ids of `shared/requirements/sse-2025-11-25.csv`
//! it pins (the Python suite's `tests/interaction/mcpserver/test_tools.py` test of the same id
//! is its reference).

mod common_inter2;

use common_inter2::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_core::mcp::{CallToolResult, ContentBlock};
use mcp_sse_glue::{
    CallOptions, ClientOptions, McpServer, RequestContext, ServerBuilder, ToolDef, ToolError,
    ToolRegistrationError,
};
use mcp_sse_tests::interaction_test;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    a: i64,
    b: i64,
}

#[derive(Serialize, JsonSchema)]
struct Sum {
    sum: i64,
    operands: Vec<i64>,
}

/// Optional fields, serde defaults, and no unknown fields.
#[derive(Deserialize, JsonSchema, Serialize)]
#[serde(deny_unknown_fields)]
struct Greeting {
    name: String,
    #[serde(default = "default_greeting")]
    greeting: String,
    #[serde(default)]
    times: u8,
    punctuation: Option<String>,
}

fn default_greeting() -> String {
    "Hello".into()
}

/// A calculator server: `add` (i64 out, wrapped), `add_object` (an object out), `greet`
/// (optional fields and defaults, a finished result), `fail` (an error with an output schema),
/// `panic`, `needs_auth` (a protocol error), `whoami` (uses the context).
fn calc() -> McpServer {
    ServerBuilder::new("calc", "1")
        .typed_tool(
            ToolDef::new("add")
                .title("Add")
                .description("Add two integers.")
                .read_only(),
            |_ctx, AddArgs { a, b }| async move { a.checked_add(b).ok_or("overflow".into()) },
        )
        .and_then(|b| {
            b.typed_tool("add_object", |_ctx, AddArgs { a, b }| async move {
                Ok(Sum {
                    sum: a + b,
                    operands: vec![a, b],
                })
            })
        })
        .and_then(|b| {
            b.typed_tool("greet", |_ctx, g: Greeting| async move {
                let times = usize::from(g.times.max(1));
                let line = format!(
                    "{}, {}{}",
                    g.greeting,
                    g.name,
                    g.punctuation.as_deref().unwrap_or("")
                );
                Ok(CallToolResult::text(vec![line; times].join(" ")))
            })
        })
        .and_then(|b| {
            b.typed_tool("fail", |_ctx, _: AddArgs| async move {
                Err::<Sum, _>(ToolError::from("the abacus broke"))
            })
        })
        .and_then(|b| {
            b.typed_tool("panic", |_ctx, args: AddArgs| async move {
                if args.a == 0 {
                    panic!("secret internal detail");
                }
                Ok(args.a)
            })
        })
        .and_then(|b| {
            b.typed_tool("needs_auth", |_ctx, _: AddArgs| async move {
                Err::<i64, _>(ToolError::Protocol(ErrorObject::new(
                    codes::URL_ELICITATION_REQUIRED,
                    "URL elicitation required",
                )))
            })
        })
        .and_then(|b| {
            b.typed_tool("whoami", |ctx: RequestContext, _: AddArgs| async move {
                let id = ctx
                    .request_id()
                    .map(|i| format!("{i:?}"))
                    .unwrap_or_default();
                Ok(ContentBlock::text(format!("request {}", !id.is_empty())))
            })
        })
        .expect("calc registers")
        .build()
}

fn tool<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["tools"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("{name} not listed: {list}"))
}

fn error_text(r: &Result<Value, ErrorObject>) -> String {
    match r {
        Ok(v) => {
            assert_eq!(v["isError"], true, "{v}");
            assert!(v.get("structuredContent").is_none(), "{v}");
            v["content"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
        Err(e) => panic!("a JSON-RPC error, not an isError result: {e:?}"),
    }
}

interaction_test!(
    typed_add_lists_generated_schemas_and_answers_wrapped_structured_content,
    pins = [
        "mcpserver:tool:output-schema:wrapped",
        "tools:call:structured-content",
        "tools:input-schema:json-schema-2020-12",
        "tools:list:metadata"
    ],
    |h| async move {
        let c = h.connect(calc(), ClientOptions::default()).await;
        let list = c
            .client
            .request("tools/list", None, CallOptions::default())
            .await
            .expect("tools/list");
        let add = tool(&list, "add");
        assert_eq!(
            add["inputSchema"],
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "title": "AddArgs", "type": "object",
                   "properties": {"a": {"type": "integer", "format": "int64"},
                                  "b": {"type": "integer", "format": "int64"}},
                   "required": ["a", "b"]})
        );
        assert_eq!(
            add["outputSchema"],
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "title": "addOutput", "type": "object",
                   "properties": {"result": {"title": "Result", "type": "integer", "format": "int64"}},
                   "required": ["result"]})
        );
        assert_eq!(
            (&add["title"], &add["description"], &add["annotations"]),
            (
                &json!("Add"),
                &json!("Add two integers."),
                &json!({"readOnlyHint": true})
            )
        );
        assert!(tool(&list, "greet").get("outputSchema").is_none(), "{list}");
        assert_eq!(
            call(&c.client, "add", json!({"a": 20, "b": 22})).await,
            Ok(json!({"content": [{"type": "text", "text": "42"}],
                      "structuredContent": {"result": 42}, "isError": false}))
        );
        // The typed client reads the same answer.
        let typed = c
            .client
            .call_tool(
                &mcp_sse_core::mcp::CallToolRequestParams::new("add")
                    .with_argument("a", -5)
                    .with_argument("b", 2),
            )
            .await
            .expect("call_tool");
        assert_eq!(typed.structured_content, Some(json!({"result": -3})));
        assert_eq!(typed.content[0].as_text(), Some("-3"));
        c.close().await;
    }
);

interaction_test!(
    an_object_output_is_structured_content_mirrored_as_json_text,
    pins = [
        "mcpserver:tool:output-schema:model",
        "tools:call:structured-content:text-mirror"
    ],
    |h| async move {
        let c = h.connect(calc(), ClientOptions::default()).await;
        let list = c
            .client
            .request("tools/list", None, CallOptions::default())
            .await
            .expect("tools/list");
        let schema = &tool(&list, "add_object")["outputSchema"];
        assert_eq!(schema["title"], "Sum");
        assert_eq!(schema["required"], json!(["sum", "operands"]));
        assert!(schema["properties"].get("result").is_none(), "{schema}");
        let r = call(&c.client, "add_object", json!({"a": 1, "b": 2})).await;
        assert_eq!(
            r,
            Ok(json!({"content": [{"type": "text",
                        "text": "{\n  \"sum\": 3,\n  \"operands\": [\n    1,\n    2\n  ]\n}"}],
                      "structuredContent": {"sum": 3, "operands": [1, 2]}, "isError": false}))
        );
        c.close().await;
    }
);

interaction_test!(
    optional_fields_and_serde_defaults_behave_as_serde_says,
    pins = ["mcpserver:tool:schema-variants", "tools:call:content:text"],
    |h| async move {
        let c = h.connect(calc(), ClientOptions::default()).await;
        let list = c
            .client
            .request("tools/list", None, CallOptions::default())
            .await
            .expect("tools/list");
        let schema = &tool(&list, "greet")["inputSchema"];
        assert_eq!(schema["required"], json!(["name"]));
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["properties"]["greeting"]["default"], "Hello");
        assert_eq!(schema["properties"]["times"]["default"], 0);
        let cases = [
            (json!({"name": "Ada"}), "Hello, Ada"),
            (json!({"name": "Ada", "punctuation": null}), "Hello, Ada"),
            (
                json!({"name": "Ada", "greeting": "Hi", "times": 2, "punctuation": "!"}),
                "Hi, Ada! Hi, Ada!",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(
                call(&c.client, "greet", args.clone()).await,
                Ok(json!({"content": [{"type": "text", "text": want}], "isError": false})),
                "{args}"
            );
        }
        c.close().await;
    }
);

interaction_test!(
    bad_arguments_are_clear_is_error_results_and_the_session_goes_on,
    pins = ["mcpserver:tool:input-validation"],
    |h| async move {
        let c = h.connect(calc(), ClientOptions::default()).await;
        let bad = [
            (
                "add",
                json!({"a": "one", "b": 2}),
                "Error executing tool add: invalid arguments: a: value is not of type \"integer\"",
            ),
            (
                "add",
                json!({"a": 1}),
                "Error executing tool add: invalid arguments: \"b\" is a required property",
            ),
            (
                "add",
                json!({"a": 1.5, "b": 2}),
                "Error executing tool add: invalid arguments: a: value is not of type \"integer\"",
            ),
            (
                "greet",
                json!({"name": "Ada", "shout": true}),
                "Error executing tool greet: invalid arguments: Additional properties are not allowed ('shout' was unexpected)",
            ),
            (
                "greet",
                json!({"name": "Ada", "times": 300}),
                "Error executing tool greet: invalid arguments: times: value is greater than the maximum of 255",
            ),
            (
                "greet",
                json!({}),
                "Error executing tool greet: invalid arguments: \"name\" is a required property",
            ),
        ];
        for (name, args, want) in bad {
            let r = call(&c.client, name, args.clone()).await;
            assert_eq!(error_text(&r), want, "{name} {args}");
        }
        // The handler never ran on a rejected call, and the session goes on.
        assert_eq!(
            call(&c.client, "add", json!({"a": 1, "b": 2})).await,
            Ok(json!({"content": [{"type": "text", "text": "3"}],
                      "structuredContent": {"result": 3}, "isError": false}))
        );
        c.close().await;
    }
);

// Huge and deeply nested arguments.
interaction_test!(
    huge_or_deeply_nested_arguments_get_a_bounded_is_error,
    pins = ["mcpserver:tool:input-validation"],
    |h| async move {
        let c = h.connect(calc(), ClientOptions::default()).await;
        // A 1 MiB string where an integer belongs: rejected, and never echoed back.
        let huge = "x".repeat(1 << 20);
        let r = call(&c.client, "add", json!({"a": huge, "b": 1})).await;
        let text = error_text(&r);
        assert_eq!(
            text,
            "Error executing tool add: invalid arguments: a: value is not of type \"integer\""
        );
        // Twenty thousand unexpected fields: one bounded message.
        let mut flood = serde_json::Map::new();
        flood.insert("name".into(), json!("Ada"));
        for i in 0..20_000 {
            flood.insert(format!("unexpected_{i}"), json!(i));
        }
        let r = call(&c.client, "greet", Value::Object(flood)).await;
        let text = error_text(&r);
        assert!(
            text.starts_with("Error executing tool greet: invalid arguments: Additional properties are not allowed ('unexpected_0', "),
            "{}",
            &text[..text.len().min(200)]
        );
        assert!(text.len() < 4096, "{} bytes", text.len());
        // A value nested 100 deep where a string belongs.
        let mut deep = json!("bottom");
        for _ in 0..100 {
            deep = json!({ "x": deep });
        }
        let r = call(&c.client, "greet", json!({"name": deep})).await;
        assert_eq!(
            error_text(&r),
            "Error executing tool greet: invalid arguments: name: value is not of type \"string\""
        );
        assert_eq!(
            call(&c.client, "greet", json!({"name": "still here"})).await,
            Ok(
                json!({"content": [{"type": "text", "text": "Hello, still here"}], "isError": false})
            )
        );
        c.close().await;
    }
);

interaction_test!(
    handler_errors_and_panics_are_is_error_results,
    pins = [
        "mcpserver:tool:handler-throws",
        "mcpserver:output-schema:skip-on-error",
        "mcpserver:tool:url-elicitation-error",
        "mcpserver:tool:extra"
    ],
    |h| async move {
        let c = h.connect(calc(), ClientOptions::default()).await;
        // An error from a tool with an output schema: isError, no structuredContent, no
        // output-schema complaint.
        let r = call(&c.client, "fail", json!({"a": 1, "b": 2})).await;
        assert_eq!(
            r,
            Ok(
                json!({"content": [{"type": "text", "text": "Error executing tool fail: the abacus broke"}],
                      "isError": true})
            )
        );
        let r = call(&c.client, "add", json!({"a": i64::MAX, "b": 1})).await;
        assert_eq!(error_text(&r), "Error executing tool add: overflow");
        // A panic: isError, its text kept on the server; the session goes on.
        let r = call(&c.client, "panic", json!({"a": 0, "b": 0})).await;
        assert_eq!(
            r,
            Ok(
                json!({"content": [{"type": "text", "text": "Error executing tool panic"}],
                      "isError": true})
            )
        );
        let r = call(&c.client, "panic", json!({"a": 7, "b": 0})).await;
        assert_eq!(
            r.map(|v| v["structuredContent"].clone()),
            Ok(json!({"result": 7}))
        );
        // A protocol error stays one.
        assert_eq!(
            call(&c.client, "needs_auth", json!({"a": 1, "b": 2})).await,
            Err(ErrorObject::new(
                codes::URL_ELICITATION_REQUIRED,
                "URL elicitation required"
            ))
        );
        // The context reaches a typed handler.
        assert_eq!(
            call(&c.client, "whoami", json!({"a": 1, "b": 2})).await,
            Ok(json!({"content": [{"type": "text", "text": "request true"}], "isError": false}))
        );
        // Unknown tools and malformed params are still the router's.
        let r = call(&c.client, "nope", json!({})).await;
        assert_eq!(
            r,
            Ok(
                json!({"content": [{"type": "text", "text": "Unknown tool: nope"}], "isError": true})
            )
        );
        let r = c
            .client
            .request(
                "tools/call",
                obj(json!({"name": "add", "arguments": [1, 2]})),
                CallOptions::default(),
            )
            .await;
        assert_eq!(
            r.map_err(|e| e.rpc().map(|e| e.code)),
            Err(Some(codes::INVALID_PARAMS))
        );
        c.close().await;
    }
);

/// Serializes `n` as a string while its schema says integer: the server's own output breaks
/// its output schema.
#[derive(JsonSchema)]
struct Liar {
    #[allow(dead_code)]
    n: i64,
}

impl Serialize for Liar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Liar", 1)?;
        st.serialize_field("n", "forty-two")?;
        st.end()
    }
}

interaction_test!(
    output_violating_its_schema_is_an_is_error_result,
    pins = [
        "mcpserver:output-schema:server-validate",
        "mcpserver:output-schema:missing-structured"
    ],
    |h| async move {
        let server = ServerBuilder::new("t", "1")
            .typed_tool(
                "liar",
                |_ctx, _: serde_json::Map<String, Value>| async move { Ok(Liar { n: 42 }) },
            )
            .expect("liar registers")
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        let r = call(&c.client, "liar", json!({})).await;
        assert_eq!(
            error_text(&r),
            "Error executing tool liar: the result does not match the tool's outputSchema: \
             n: value is not of type \"integer\""
        );
        assert_eq!(
            c.client.request("ping", None, CallOptions::default()).await,
            Ok(json!({}))
        );
        c.close().await;
    }
);

// Duplicate names and names breaking the spec's rule are DIVERGENCES
// from the reference, on purpose: it warns and keeps the first tool, or warns and registers
// the badly named one; a typed registration is rejected with a typed error instead.
#[test]
fn duplicate_and_badly_named_tools_are_registration_errors() {
    mcp_sse_tests::pins![
        "mcpserver:tool:duplicate-name",
        "mcpserver:tool:naming-validation"
    ];
    let add = |_ctx, AddArgs { a, b }| async move { Ok(a + b) };
    let e = ServerBuilder::new("t", "1")
        .typed_tool("add", add)
        .and_then(|b| b.typed_tool("add", add))
        .expect_err("duplicate accepted");
    assert_eq!(e, ToolRegistrationError::DuplicateName("add".into()));
    // An untyped tool of the same name counts too.
    let e = ServerBuilder::new("t", "1")
        .tool(
            json!({"name": "add", "inputSchema": {"type": "object"}}),
            |_ctx, _args| async move { Ok(text("untyped")) },
        )
        .typed_tool("add", add)
        .expect_err("duplicate accepted");
    assert_eq!(e, ToolRegistrationError::DuplicateName("add".into()));
    let long = "t".repeat(129);
    for bad in ["", "get user", "a,b", "naïve", long.as_str()] {
        let e = ServerBuilder::new("t", "1")
            .typed_tool(bad, add)
            .expect_err(bad);
        assert!(
            matches!(e, ToolRegistrationError::InvalidName { ref name, .. } if name == bad),
            "{bad}: {e}"
        );
    }
    assert!(ServerBuilder::new("t", "1")
        .typed_tool("t".repeat(128), add)
        .is_ok());
    // A non-object argument type is an error at registration, not a runtime surprise.
    let e = ServerBuilder::new("t", "1")
        .typed_tool("n", |_ctx, n: i64| async move { Ok(n) })
        .expect_err("non-object arguments accepted");
    assert!(
        matches!(e, ToolRegistrationError::NonObjectArguments { .. }),
        "{e}"
    );
}
