//! The clients and servers people actually run (issue 16), installed by `interop/setup.sh` at
//! pinned versions, all on 127.0.0.1:
//! - the MCP Inspector's CLI mode (`--transport sse`) against `mcp-sse serve`: tools/list,
//!   tools/call, resources/list, prompts/list;
//! - `mcp-remote --transport sse-only` (a stdio proxy) against `mcp-sse serve`;
//! - the TypeScript reference server `server-everything` in SSE mode, for our client: probe
//!   and calls of its tools. It binds every interface by default, so it runs with the
//!   `interop/node/loopback.cjs` preload, which makes it bind 127.0.0.1.
#![cfg(unix)]

mod interop_common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use interop_common::{peers, repo_root, run_check, start_our_server, ChildGuard, PEER_DEADLINE};
use mcp_sse_core::transport::ClientConfig;
use serde_json::{json, Value};

fn node_bin(name: &str) -> std::path::PathBuf {
    peers().node_dir.join("node_modules/.bin").join(name)
}

fn inspector(url: &str, args: &[&str]) -> Value {
    let mut cmd = Command::new(node_bin("mcp-inspector"));
    cmd.args(["--cli", url, "--transport", "sse"]).args(args);
    let out = run_check(&format!("mcp-inspector --cli {args:?}"), cmd);
    let start = out.find('{').unwrap_or_else(|| panic!("no JSON in: {out}"));
    serde_json::from_str(&out[start..]).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn inspector_cli_against_our_server() {
    let (_server, url) = start_our_server();
    let tools = inspector(&url, &["--method", "tools/list"]);
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"echo") && names.contains(&"add"),
        "{names:?}"
    );
    let sum = inspector(
        &url,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "add",
            "--tool-arg",
            "a=2",
            "--tool-arg",
            "b=40",
        ],
    );
    assert_eq!(sum["structuredContent"]["result"], 42, "{sum}");
    assert_eq!(sum["isError"], false);
    let resources = inspector(&url, &["--method", "resources/list"]);
    assert!(
        resources["resources"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{resources}"
    );
    let prompts = inspector(&url, &["--method", "prompts/list"]);
    assert!(
        prompts["prompts"].as_array().is_some_and(|p| !p.is_empty()),
        "{prompts}"
    );
}

#[test]
fn mcp_remote_sse_only_against_our_server() {
    let (_server, url) = start_our_server();
    let mut child = Command::new("node")
        .arg("-r")
        .arg(repo_root().join("interop/node/loopback.cjs"))
        .arg(node_bin("mcp-remote"))
        .args([
            url.as_str(),
            "--transport",
            "sse-only",
            "--host",
            "127.0.0.1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mcp-remote");
    let guard = KillOnDrop(&mut child);
    let stdout = guard.0.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stdin = guard.0.stdin.take().expect("stdin");
    let mut send = |v: Value| {
        writeln!(stdin, "{v}").expect("write to mcp-remote");
        stdin.flush().expect("flush");
    };
    let answer = |id: i64| -> Value {
        loop {
            let line = lines
                .recv_timeout(PEER_DEADLINE)
                .unwrap_or_else(|e| panic!("no answer {id} from mcp-remote: {e}"));
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if v["id"] == id {
                return v;
            }
        }
    };
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "interop", "version": "1"}}}),
    );
    let init = answer(1);
    assert_eq!(
        init["result"]["serverInfo"]["name"], "mcp-sse-demo",
        "{init}"
    );
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 2, "b": 3}}}));
    let sum = answer(2);
    assert_eq!(sum["result"]["structuredContent"]["result"], 5, "{sum}");
    send(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "through mcp-remote"}}}));
    assert_eq!(
        answer(3)["result"]["content"][0]["text"],
        "through mcp-remote"
    );
}

struct KillOnDrop<'a>(&'a mut std::process::Child);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn our_client_against_server_everything() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut cmd = Command::new("node");
    cmd.arg("-r")
        .arg(repo_root().join("interop/node/loopback.cjs"))
        .arg(
            peers()
                .node_dir
                .join("node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
        )
        .arg("sse")
        .env("PORT", port.to_string());
    let server = ChildGuard::spawn("server-everything sse", cmd);
    let url = format!("http://127.0.0.1:{port}/sse");
    // It says it is running on stderr: wait until it accepts connections (bounded).
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < PEER_DEADLINE,
            "server-everything did not start\n{}",
            server.output()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-sse"))
        .args(["probe", &url, "--json"])
        .output()
        .expect("probe");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.output()
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("probe --json");
    assert_eq!(
        doc["initialize"]["serverInfo"]["name"],
        "mcp-servers/everything"
    );
    smol::block_on(async {
        let client = mcp_sse_smol::connect_with(&url, Default::default(), ClientConfig::default())
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}\n{}", server.output()));
        let call = |name: &str, args: Value| {
            let params = json!({"name": name, "arguments": args});
            let client = client.clone();
            async move {
                client
                    .request(
                        "tools/call",
                        params.as_object().cloned(),
                        Default::default(),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{e}"))
            }
        };
        let echo = call("echo", json!({"message": "hi everything"})).await;
        assert!(
            echo["content"][0]["text"]
                .as_str()
                .is_some_and(|t| t.contains("hi everything")),
            "{echo}"
        );
        let sum = call("get-sum", json!({"a": 2, "b": 3})).await;
        assert!(
            sum["content"][0]["text"]
                .as_str()
                .is_some_and(|t| t.contains('5')),
            "{sum}"
        );
        let structured = call("get-structured-content", json!({"location": "New York"})).await;
        assert!(structured["structuredContent"].is_object(), "{structured}");
        client.close().await;
    });
}
