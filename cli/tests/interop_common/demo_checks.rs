//! What our client checks against a foreign server that implements the demo contract of
//! `cli/src/demo.rs` (the Python twin implements all of it, the TypeScript server a subset).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_sse_core::jsonrpc::codes;
use mcp_sse_glue::{CallOptions, Client, ClientOptions};
use serde_json::{json, Value};

/// Per-call bound for calls that must succeed (the peers run on a loaded machine).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// What our client's callbacks saw.
#[derive(Default, Clone)]
pub struct Recorder {
    pub logs: Arc<Mutex<Vec<Value>>>,
    pub sampling: Arc<Mutex<Vec<Value>>>,
    pub elicitation: Arc<Mutex<Vec<Value>>>,
    pub roots_calls: Arc<AtomicUsize>,
}

pub const ROOTS: [&str; 2] = ["file:///tmp/rust-a", "file:///tmp/rust-b"];

fn snapshot(v: &Arc<Mutex<Vec<Value>>>) -> Vec<Value> {
    v.lock().map(|g| g.clone()).unwrap_or_default()
}

impl Recorder {
    /// Client options with every callback wired to this recorder.
    pub fn options(&self) -> ClientOptions {
        let (logs, sampling, elicitation, roots) = (
            self.logs.clone(),
            self.sampling.clone(),
            self.elicitation.clone(),
            self.roots_calls.clone(),
        );
        ClientOptions {
            read_timeout: Some(CALL_TIMEOUT),
            logging_callback: Some(Arc::new(move |params: Value| {
                let logs = logs.clone();
                Box::pin(async move {
                    logs.lock().expect("logs").push(params);
                })
            })),
            sampling_callback: Some(Arc::new(move |params| {
                let sampling = sampling.clone();
                Box::pin(async move {
                    let params = Value::Object(params.unwrap_or_default());
                    let text = params
                        .pointer("/messages/0/content/text")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    sampling.lock().expect("sampling").push(params);
                    Ok(
                        json!({"role": "assistant", "content": {"type": "text", "text": format!("you said '{text}'")},
                              "model": "rust-model", "stopReason": "endTurn"}),
                    )
                })
            })),
            list_roots_callback: Some(Arc::new(move |_params| {
                let roots = roots.clone();
                Box::pin(async move {
                    roots.fetch_add(1, Ordering::SeqCst);
                    Ok(
                        json!({"roots": [{"uri": ROOTS[0], "name": "a"}, {"uri": ROOTS[1], "name": "b"}]}),
                    )
                })
            })),
            elicitation_callback: Some(Arc::new(move |params| {
                let elicitation = elicitation.clone();
                Box::pin(async move {
                    elicitation
                        .lock()
                        .expect("elicitation")
                        .push(Value::Object(params.unwrap_or_default()));
                    Ok(json!({"action": "accept", "content": {"answer": "42"}}))
                })
            })),
            client_info: json!({"name": "mcp-sse-interop", "version": "0"}),
            ..ClientOptions::default()
        }
    }
}

/// The text blocks of a tool result.
pub fn texts(result: &Value) -> Vec<String> {
    result["content"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `tools/call` that must succeed at the JSON-RPC level.
pub async fn call(client: &Client, name: &str, args: Value, opts: CallOptions) -> Value {
    let params = json!({"name": name, "arguments": args});
    let Value::Object(params) = params else {
        unreachable!()
    };
    match client.request("tools/call", Some(params), opts).await {
        Ok(v) => v,
        Err(e) => panic!(
            "tools/call {name} failed: {} {} {:?}",
            e.to_error_object().code,
            e.to_error_object().message,
            e.to_error_object().data
        ),
    }
}

/// Asserts `tools/call name args` returns exactly `want` as its text blocks and `is_error`.
pub async fn expect_text(
    client: &Client,
    name: &str,
    args: Value,
    want: &str,
    is_error: bool,
) -> Value {
    let r = call(client, name, args, CallOptions::default()).await;
    assert_eq!(texts(&r), vec![want.to_string()], "{name}: {r}");
    assert_eq!(
        r["isError"].as_bool().unwrap_or(false),
        is_error,
        "{name} isError: {r}"
    );
    r
}

/// `initialize` result, protocol version and the tool list.
pub async fn check_handshake(client: &Client, server_name: &str, tools: &[&str]) {
    let init = client.initialize_result().expect("initialize result");
    assert_eq!(init["serverInfo"]["name"], server_name, "{init}");
    assert_eq!(init["protocolVersion"], "2025-11-25", "{init}");
    let list = client
        .request("tools/list", None, CallOptions::default())
        .await
        .expect("tools/list");
    let mut names: Vec<&str> = list["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort_unstable();
    let mut want = tools.to_vec();
    want.sort_unstable();
    assert_eq!(names, want);
    client
        .request("ping", None, CallOptions::default())
        .await
        .expect("ping");
}

/// `log_and_progress {steps: 3}`: three logs reach the logging callback and three progress
/// notifications the progress callback, in order, before the call returns.
pub async fn check_log_and_progress(client: &Client, rec: &Recorder) {
    rec.logs.lock().expect("logs").clear();
    let progress = Arc::new(Mutex::new(Vec::new()));
    let p = progress.clone();
    let opts = CallOptions {
        timeout: None,
        progress: Some(Arc::new(move |v, total, msg| {
            p.lock().expect("progress").push((v, total, msg))
        })),
    };
    let r = call(client, "log_and_progress", json!({"steps": 3}), opts).await;
    assert_eq!(texts(&r), ["done 3"], "{r}");
    let want: Vec<(f64, Option<f64>, Option<String>)> = (1..=3)
        .map(|i| (i as f64, Some(3.0), Some(format!("step {i}"))))
        .collect();
    assert_eq!(*progress.lock().expect("progress"), want);
    let logs: Vec<(Value, Value)> = snapshot(&rec.logs)
        .iter()
        .map(|l| (l["level"].clone(), l["data"].clone()))
        .collect();
    let want: Vec<(Value, Value)> = (1..=3)
        .map(|i| (json!("info"), json!(format!("step {i}/3"))))
        .collect();
    assert_eq!(
        logs, want,
        "log notifications must reach the callback, in order, before the call returns"
    );
}

/// `sample`: the server's sampling request reaches our callback and its answer the tool.
pub async fn check_sample(client: &Client, rec: &Recorder) {
    rec.sampling.lock().expect("sampling").clear();
    expect_text(
        client,
        "sample",
        json!({"prompt": "What is MCP?"}),
        "rust-model: you said 'What is MCP?'",
        false,
    )
    .await;
    let seen = snapshot(&rec.sampling);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["maxTokens"], 32, "{}", seen[0]);
    assert_eq!(seen[0]["messages"][0]["role"], "user", "{}", seen[0]);
}

/// A call that outlives its timeout fails with -32001; the next call succeeds.
pub async fn check_timeout_then_call(client: &Client) {
    let params = json!({"name": "slow", "arguments": {"seconds": 30}});
    let Value::Object(params) = params else {
        unreachable!()
    };
    let opts = CallOptions {
        timeout: Some(Duration::from_millis(500)),
        progress: None,
    };
    match client.request("tools/call", Some(params), opts).await {
        Err(e) => {
            assert!(e.is_timeout(), "{e:?}");
            assert_eq!(e.to_error_object().code, codes::REQUEST_TIMEOUT, "{e:?}")
        }
        Ok(v) => panic!("slow(30) with a 500 ms timeout returned {v}"),
    }
    expect_text(
        client,
        "echo",
        json!({"text": "after timeout"}),
        "after timeout",
        false,
    )
    .await;
}

/// Every tool, callback and feature of the demo contract (the Python twin).
pub async fn check_full_demo(client: &Client, rec: &Recorder, server_name: &str) {
    check_handshake(
        client,
        server_name,
        &[
            "echo",
            "add",
            "log_and_progress",
            "sample",
            "list_roots",
            "elicit",
            "ping_client",
            "fail",
            "slow",
        ],
    )
    .await;
    expect_text(
        client,
        "echo",
        json!({"text": "hello, SSE é \"q\"\n"}),
        "hello, SSE é \"q\"\n",
        false,
    )
    .await;
    let r = expect_text(client, "add", json!({"a": 20, "b": 22}), "42", false).await;
    assert_eq!(r["structuredContent"], json!({"result": 42}), "{r}");
    check_log_and_progress(client, rec).await;
    check_sample(client, rec).await;
    expect_text(client, "list_roots", json!({}), &ROOTS.join(","), false).await;
    assert_eq!(rec.roots_calls.load(Ordering::SeqCst), 1);
    expect_text(
        client,
        "elicit",
        json!({"question": "What is the answer?"}),
        "accept:42",
        false,
    )
    .await;
    let seen = snapshot(&rec.elicitation);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["message"], "What is the answer?", "{}", seen[0]);
    assert_eq!(
        seen[0]["requestedSchema"]["properties"],
        json!({"answer": {"type": "string"}}),
        "{}",
        seen[0]
    );
    expect_text(client, "ping_client", json!({}), "pong", false).await;
    expect_text(client, "fail", json!({"message": "kaboom"}), "kaboom", true).await;
    expect_text(client, "slow", json!({"seconds": 0.1}), "slept 0.1", false).await;

    let read = client
        .request(
            "resources/read",
            json!({"uri": "demo://greeting/rust"}).as_object().cloned(),
            CallOptions::default(),
        )
        .await
        .expect("resources/read");
    assert_eq!(read["contents"][0]["text"], "Hello, rust!", "{read}");
    let prompt = client
        .request(
            "prompts/get",
            json!({"name": "greet", "arguments": {"name": "bob"}})
                .as_object()
                .cloned(),
            CallOptions::default(),
        )
        .await
        .expect("prompts/get");
    assert_eq!(
        prompt["messages"][0]["content"]["text"], "Please greet bob.",
        "{prompt}"
    );

    check_timeout_then_call(client).await;
}
