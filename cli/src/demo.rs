//! The demo server (its tool contract is relied on by interop tests and real clients: keep it
//! exact) and the demo client's callbacks.

use std::sync::Arc;
use std::time::Duration;

use mcp_sse_glue::{ClientOptions, McpServer, RequestContext, ServerBuilder, ToolError};
use serde_json::{json, Map, Value};

/// Python's `str(float)`: `1.0`, `0.5`, `2.25`.
pub fn py_float(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

fn text(t: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": t.into()}]})
}

fn str_arg(args: &Map<String, Value>, name: &str) -> Result<String, ToolError> {
    args.get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ToolError::Tool(format!("missing string argument '{name}'")))
}

fn schema(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required})
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

/// The demo server: `echo`, `add`, `log_and_progress`, `sample`, `list_roots`, `elicit`,
/// `ping_client`, `fail`, `slow`; a static resource, a resource template and a prompt with a
/// completable argument.
pub fn server() -> McpServer {
    ServerBuilder::new("mcp-sse-demo", env!("CARGO_PKG_VERSION"))
        .instructions("Demo server of mcp-sse: try the tools.")
        .tool(
            json!({"name": "echo", "description": "Echo the given text back.",
                   "inputSchema": schema(json!({"text": {"type": "string"}}), &["text"])}),
            |_ctx, args| async move { Ok(text(str_arg(&args, "text")?)) },
        )
        .tool(
            json!({"name": "add", "description": "Add two integers.",
                   "inputSchema": schema(json!({"a": {"type": "integer"}, "b": {"type": "integer"}}), &["a", "b"]),
                   "outputSchema": schema(json!({"result": {"type": "integer"}}), &["result"])}),
            |_ctx, args| async move {
                let get = |n: &str| args.get(n).and_then(Value::as_i64).ok_or_else(|| ToolError::Tool(format!("missing integer argument '{n}'")));
                let (a, b) = (get("a")?, get("b")?);
                let sum = a.checked_add(b).ok_or(ToolError::Tool("integer overflow".into()))?;
                Ok(json!({"content": [{"type": "text", "text": sum.to_string()}], "structuredContent": {"result": sum}}))
            },
        )
        .tool(
            json!({"name": "log_and_progress", "description": "Emit log messages and progress notifications, then finish.",
                   "inputSchema": {"type": "object", "properties": {"steps": {"type": "integer", "default": 3}}}}),
            |ctx: RequestContext, args| async move {
                let steps = args.get("steps").and_then(Value::as_i64).unwrap_or(3).clamp(0, 10_000);
                for i in 1..=steps {
                    ctx.log("info", None, Value::String(format!("step {i}/{steps}"))).await;
                    ctx.progress(i as f64, Some(steps as f64), Some(&format!("step {i}"))).await;
                }
                Ok(text(format!("done {steps}")))
            },
        )
        .tool(
            json!({"name": "sample", "description": "Ask the client's LLM (sampling/createMessage).",
                   "inputSchema": schema(json!({"prompt": {"type": "string"}}), &["prompt"])}),
            |ctx: RequestContext, args| async move {
                let prompt = str_arg(&args, "prompt")?;
                let params = json!({"messages": [{"role": "user", "content": {"type": "text", "text": prompt}}], "maxTokens": 32});
                let Value::Object(params) = params else { unreachable!() };
                let r = ctx.sample(params).await?;
                let model = r.get("model").and_then(Value::as_str).unwrap_or_default();
                Ok(text(format!("{model}: {}", first_text(&r))))
            },
        )
        .tool(
            json!({"name": "list_roots", "description": "Ask the client for its roots (roots/list).",
                   "inputSchema": {"type": "object", "properties": {}}}),
            |ctx: RequestContext, _args| async move {
                let r = ctx.list_roots().await?;
                let uris: Vec<&str> = r
                    .get("roots")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|x| x.get("uri").and_then(Value::as_str)).collect())
                    .unwrap_or_default();
                Ok(text(uris.join(",")))
            },
        )
        .tool(
            json!({"name": "elicit", "description": "Ask the user a question (elicitation/create, form mode).",
                   "inputSchema": schema(json!({"question": {"type": "string"}}), &["question"])}),
            |ctx: RequestContext, args| async move {
                let question = str_arg(&args, "question")?;
                let params = json!({"mode": "form", "message": question,
                    "requestedSchema": schema(json!({"answer": {"type": "string"}}), &["answer"])});
                let Value::Object(params) = params else { unreachable!() };
                let r = ctx.elicit(params).await?;
                let action = r.get("action").and_then(Value::as_str).unwrap_or_default();
                let answer = r.pointer("/content/answer").and_then(Value::as_str).unwrap_or_default();
                Ok(text(format!("{action}:{answer}")))
            },
        )
        .tool(
            json!({"name": "ping_client", "description": "Ping the client (server-to-client ping).",
                   "inputSchema": {"type": "object", "properties": {}}}),
            |ctx: RequestContext, _args| async move {
                ctx.ping().await?;
                Ok(text("pong"))
            },
        )
        .tool(
            json!({"name": "fail", "description": "Always fails; the failure comes back as an isError result.",
                   "inputSchema": {"type": "object", "properties": {"message": {"type": "string", "default": "boom"}}}}),
            |_ctx, args| async move {
                let message = args.get("message").and_then(Value::as_str).unwrap_or("boom").to_string();
                Err(ToolError::Tool(message))
            },
        )
        .tool(
            json!({"name": "slow", "description": "Sleep for the given number of seconds, then return.",
                   "inputSchema": {"type": "object", "properties": {"seconds": {"type": "number", "default": 1.0}}}}),
            |ctx: RequestContext, args| async move {
                let seconds = args.get("seconds").and_then(Value::as_f64).unwrap_or(1.0);
                if !(0.0..=3600.0).contains(&seconds) {
                    return Err(ToolError::Tool("seconds must be between 0 and 3600".into()));
                }
                ctx.sleep(Duration::from_secs_f64(seconds)).await;
                Ok(text(format!("slept {}", py_float(seconds))))
            },
        )
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
