//! The demo server (its tool contract is relied on by interop tests and real clients: keep it
//! exact) and the demo client's callbacks.

use std::sync::Arc;
use std::time::Duration;

use mcp_sse_core::mcp::CallToolResult;
use mcp_sse_glue::{
    ClientOptions, McpServer, RequestContext, ServerBuilder, ToolDef, ToolRegistrationError,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

/// Python's `str(float)`: `1.0`, `0.5`, `2.25`.
pub fn py_float(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

fn first_text(v: &Value) -> String {
    // Sampling content may be one block or a list of blocks.
    let block = match v.get("content") {
        Some(Value::Array(a)) => a.first().cloned().unwrap_or(Value::Null),
        Some(b) => b.clone(),
        None => Value::Null,
    };
    block
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

// No arguments: an empty object (unknown fields are ignored, as before). Plain comments on
// these types: a doc comment would become the schema's `description`.
#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    text: String,
}

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    a: i64,
    b: i64,
}

#[derive(Deserialize, JsonSchema)]
struct StepsArgs {
    #[serde(default = "three")]
    steps: i64,
}

fn three() -> i64 {
    3
}

#[derive(Deserialize, JsonSchema)]
struct PromptArgs {
    prompt: String,
}

#[derive(Deserialize, JsonSchema)]
struct QuestionArgs {
    question: String,
}

#[derive(Deserialize, JsonSchema)]
struct FailArgs {
    #[serde(default = "boom")]
    message: String,
}

fn boom() -> String {
    "boom".into()
}

#[derive(Deserialize, JsonSchema)]
struct SlowArgs {
    #[serde(default = "one_second")]
    seconds: f64,
}

fn one_second() -> f64 {
    1.0
}

/// The demo's tools, typed. Results are the demo contract's, byte for byte: the tools that
/// answered with text alone return a [`CallToolResult`] (no output schema), `add` returns its
/// `i64` (wrapped as `{"result": n}` and mirrored as `"n"`), and `fail` and `slow` report their
/// failures as `isError` results with the text unchanged.
fn tools(b: ServerBuilder) -> Result<ServerBuilder, ToolRegistrationError> {
    b.typed_tool(
        ToolDef::new("echo").description("Echo the given text back."),
        |_ctx, args: EchoArgs| async move { Ok(CallToolResult::text(args.text)) },
    )?
    .typed_tool(
        ToolDef::new("add").description("Add two integers."),
        |_ctx, AddArgs { a, b }| async move { a.checked_add(b).ok_or("integer overflow".into()) },
    )?
    .typed_tool(
        ToolDef::new("log_and_progress")
            .description("Emit log messages and progress notifications, then finish."),
        |ctx: RequestContext, args: StepsArgs| async move {
            let steps = args.steps.clamp(0, 10_000);
            for i in 1..=steps {
                ctx.log("info", None, Value::String(format!("step {i}/{steps}"))).await;
                ctx.progress(i as f64, Some(steps as f64), Some(&format!("step {i}"))).await;
            }
            Ok(CallToolResult::text(format!("done {steps}")))
        },
    )?
    .typed_tool(
        ToolDef::new("sample").description("Ask the client's LLM (sampling/createMessage)."),
        |ctx: RequestContext, args: PromptArgs| async move {
            let params = json!({"messages": [{"role": "user", "content": {"type": "text", "text": args.prompt}}], "maxTokens": 32});
            let Value::Object(params) = params else { unreachable!() };
            let r = ctx.sample(params).await?;
            let model = r.get("model").and_then(Value::as_str).unwrap_or_default();
            Ok(CallToolResult::text(format!("{model}: {}", first_text(&r))))
        },
    )?
    .typed_tool(
        ToolDef::new("list_roots").description("Ask the client for its roots (roots/list)."),
        |ctx: RequestContext, _: NoArgs| async move {
            let r = ctx.list_roots().await?;
            let uris: Vec<&str> = r
                .get("roots")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.get("uri").and_then(Value::as_str)).collect())
                .unwrap_or_default();
            Ok(CallToolResult::text(uris.join(",")))
        },
    )?
    .typed_tool(
        ToolDef::new("elicit")
            .description("Ask the user a question (elicitation/create, form mode)."),
        |ctx: RequestContext, args: QuestionArgs| async move {
            let params = json!({"mode": "form", "message": args.question,
                "requestedSchema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}});
            let Value::Object(params) = params else { unreachable!() };
            let r = ctx.elicit(params).await?;
            let action = r.get("action").and_then(Value::as_str).unwrap_or_default();
            let answer = r.pointer("/content/answer").and_then(Value::as_str).unwrap_or_default();
            Ok(CallToolResult::text(format!("{action}:{answer}")))
        },
    )?
    .typed_tool(
        ToolDef::new("ping_client").description("Ping the client (server-to-client ping)."),
        |ctx: RequestContext, _: NoArgs| async move {
            ctx.ping().await?;
            Ok(CallToolResult::text("pong"))
        },
    )?
    .typed_tool(
        ToolDef::new("fail")
            .description("Always fails; the failure comes back as an isError result."),
        |_ctx, args: FailArgs| async move { Ok(CallToolResult::error(args.message)) },
    )?
    .typed_tool(
        ToolDef::new("slow").description("Sleep for the given number of seconds, then return."),
        |ctx: RequestContext, args: SlowArgs| async move {
            let seconds = args.seconds;
            if !(0.0..=3600.0).contains(&seconds) {
                return Ok(CallToolResult::error("seconds must be between 0 and 3600"));
            }
            ctx.sleep(Duration::from_secs_f64(seconds)).await;
            Ok(CallToolResult::text(format!("slept {}", py_float(seconds))))
        },
    )
}

/// The demo server: `echo`, `add`, `log_and_progress`, `sample`, `list_roots`, `elicit`,
/// `ping_client`, `fail`, `slow` (typed tools); a static resource, a resource template and a
/// prompt with a completable argument.
pub fn server() -> McpServer {
    // The names and types are fixed and valid (the unit test below and every test that starts
    // the demo register them), so this cannot fail at run time.
    let builder = tools(
        ServerBuilder::new("mcp-sse-demo", env!("CARGO_PKG_VERSION"))
            .instructions("Demo server of mcp-sse: try the tools."),
    )
    .expect("the demo's tools register");
    builder
        .resource(
            json!({"uri": "demo://readme", "name": "readme", "description": "What this server is.", "mimeType": "text/plain"}),
            |_ctx, uri| async move {
                Ok(json!([{"uri": uri, "mimeType": "text/plain", "text": "mcp-sse demo server: tools echo, add, log_and_progress, sample, list_roots, elicit, ping_client, fail, slow."}]))
            },
        )
        .resource_template(
            json!({"uriTemplate": "demo://greeting/{name}", "name": "greeting", "mimeType": "text/plain"}),
            |_ctx, uri, vars| async move {
                let name = vars.get("name").cloned().unwrap_or_default();
                Ok(json!([{"uri": uri, "mimeType": "text/plain", "text": format!("Hello, {name}!")}]))
            },
        )
        .prompt(
            json!({"name": "greet", "description": "Greet someone.",
                   "arguments": [{"name": "name", "description": "Who to greet.", "required": true}]}),
            |_ctx, args| async move {
                let name = args.as_ref().and_then(|a| a.get("name")).and_then(Value::as_str).unwrap_or("world").to_string();
                Ok(json!({"description": "A greeting", "messages": [
                    {"role": "user", "content": {"type": "text", "text": format!("Please greet {name}.")}}]}))
            },
        )
        .completion(|_ctx, params| async move {
            const NAMES: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];
            let value = params.get("argument").and_then(|a| a.get("value")).and_then(Value::as_str).unwrap_or("");
            let values: Vec<&str> = NAMES.iter().copied().filter(|n| n.starts_with(value)).collect();
            Ok(json!({"completion": {"values": values, "total": values.len(), "hasMore": false}}))
        })
        .build()
}

/// The demo client's options: sampling answers `"<model>"`-style replies, roots are two
/// directories, elicitation accepts with the answer `42`.
pub fn client_options() -> ClientOptions {
    ClientOptions {
        sampling_callback: Some(Arc::new(|params| {
            Box::pin(async move {
                let prompt = params
                    .as_ref()
                    .and_then(|p| p.get("messages"))
                    .and_then(|m| m.get(0))
                    .map(first_text)
                    .unwrap_or_default();
                Ok(
                    json!({"role": "assistant", "content": {"type": "text", "text": format!("you said '{prompt}'")},
                          "model": "demo-model", "stopReason": "endTurn"}),
                )
            })
        })),
        list_roots_callback: Some(Arc::new(|_params| {
            Box::pin(async move {
                Ok(
                    json!({"roots": [{"uri": "file:///tmp/demo", "name": "demo"}, {"uri": "file:///tmp/other", "name": "other"}]}),
                )
            })
        })),
        elicitation_callback: Some(Arc::new(|_params| {
            Box::pin(async move { Ok(json!({"action": "accept", "content": {"answer": "42"}})) })
        })),
        client_info: json!({"name": "mcp-sse-demo-client", "version": env!("CARGO_PKG_VERSION")}),
        ..ClientOptions::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_tools_register_with_their_contract_schemas() {
        let server = tools(ServerBuilder::new("t", "1"));
        assert!(server.is_ok(), "{:?}", server.err());
        // The demo's typed argument types keep the hand-written schemas' properties.
        let echo = mcp_sse_core::router::typed::TypedTool::<EchoArgs, CallToolResult>::new("echo");
        let def = echo.map(|t| t.definition().clone()).unwrap_or_default();
        assert_eq!(
            def["inputSchema"]["properties"],
            json!({"text": {"type": "string"}})
        );
        assert_eq!(def["inputSchema"]["required"], json!(["text"]));
    }
}
