//! The demo's readable transcript: initialize, tools/list, one call of each demo tool.

use std::io::Write;
use std::sync::Arc;

use mcp_sse_glue::{CallOptions, Client};
use serde_json::{json, Value};

fn line(out: &mut dyn Write, s: &str) {
    let _ = writeln!(out, "{s}");
}

/// Runs the scripted session on a connected client, writing the transcript to `out`. Returns
/// the number of failed steps.
pub async fn run(client: &Client, out: &mut (dyn Write + Send)) -> usize {
    let mut failures = 0;
    if let Some(init) = client.initialize_result() {
        line(
            out,
            &format!(
                "<- initialize: server {} (protocol {})",
                init["serverInfo"], init["protocolVersion"]
            ),
        );
        line(out, &format!("   capabilities: {}", init["capabilities"]));
        if let Some(i) = init.get("instructions") {
            line(out, &format!("   instructions: {i}"));
        }
    }
    match client
        .request("tools/list", None, CallOptions::default())
        .await
    {
        Ok(v) => {
            let names: Vec<&str> = v["tools"]
                .as_array()
                .map(|a| a.iter().filter_map(|t| t["name"].as_str()).collect())
                .unwrap_or_default();
            line(out, &format!("<- tools/list: {}", names.join(", ")));
        }
        Err(e) => {
            failures += 1;
            line(out, &format!("!! tools/list failed: {e:?}"));
        }
    }
    let calls = [
        ("echo", json!({"text": "hello, SSE"})),
        ("add", json!({"a": 20, "b": 22})),
        ("log_and_progress", json!({"steps": 3})),
        ("sample", json!({"prompt": "What is MCP?"})),
        ("list_roots", json!({})),
        ("elicit", json!({"question": "What is the answer?"})),
        ("ping_client", json!({})),
        ("fail", json!({"message": "boom"})),
        ("slow", json!({"seconds": 0.1})),
    ];
    for (name, args) in calls {
        line(out, &format!("-> tools/call {name} {args}"));
        let progress_lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let pl = progress_lines.clone();
        let opts = CallOptions {
            timeout: None,
            progress: Some(Arc::new(move |p, total, msg| {
                if let Ok(mut v) = pl.lock() {
                    v.push(format!(
                        "   progress {p}/{} {}",
                        total.map(|t| t.to_string()).unwrap_or("?".into()),
                        msg.unwrap_or_default()
                    ));
                }
            })),
        };
        let params = json!({"name": name, "arguments": args});
        let Value::Object(params) = params else {
            continue;
        };
        let result = client.request("tools/call", Some(params), opts).await;
        for p in progress_lines.lock().map(|v| v.clone()).unwrap_or_default() {
            line(out, &p);
        }
        match result {
            Ok(v) => {
                let texts: Vec<&str> = v["content"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|c| c["text"].as_str()).collect())
                    .unwrap_or_default();
                let err = if v["isError"] == json!(true) {
                    " (isError)"
                } else {
                    ""
                };
                line(out, &format!("<- {}{err}", texts.join(" | ")));
                if let Some(s) = v.get("structuredContent") {
                    line(out, &format!("   structuredContent: {s}"));
                }
            }
            Err(e) => {
                failures += 1;
                line(
                    out,
                    &format!(
                        "!! {name} failed: {} {}",
                        e.to_error_object().code,
                        e.to_error_object().message
                    ),
                );
            }
        }
    }
    for (method, params) in [
        ("resources/read", json!({"uri": "demo://greeting/sse"})),
        (
            "prompts/get",
            json!({"name": "greet", "arguments": {"name": "bob"}}),
        ),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": "c"}}),
        ),
    ] {
        let Value::Object(p) = params.clone() else {
            continue;
        };
        match client
            .request(method, Some(p), CallOptions::default())
            .await
        {
            Ok(v) => line(out, &format!("-> {method} {params}\n<- {v}")),
            Err(e) => {
                failures += 1;
                line(
                    out,
                    &format!(
                        "!! {method} failed: {} {}",
                        e.to_error_object().code,
                        e.to_error_object().message
                    ),
                );
            }
        }
    }
    failures
}
