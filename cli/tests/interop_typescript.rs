//! Interop with the official TypeScript MCP SDK (`@modelcontextprotocol/sdk` 1.32.2, installed
//! by `interop/setup.sh`): its `Client` + `SSEClientTransport` against `mcp-sse serve`, and our
//! client (smol and tokio) against its `Server` + `SSEServerTransport` (`interop/ts/`).

mod interop_common;

use std::process::Command;

use interop_common::demo_checks::{
    check_handshake, check_log_and_progress, check_sample, check_timeout_then_call, expect_text,
    Recorder,
};
use interop_common::{peers, repo_root, run_check, start_our_server, wait_ready, ChildGuard};
use mcp_sse_core::transport::ClientConfig;
use mcp_sse_glue::Client;
use serde_json::{json, Value};

fn node(script: &str) -> Command {
    let peers = peers();
    let mut cmd = Command::new("node");
    cmd.arg(repo_root().join("interop/ts").join(script))
        .env("MCP_INTEROP_NODE_DIR", &peers.node_dir);
    cmd
}

#[test]
fn ts_client_against_our_server() {
    let (_server, url) = start_our_server();
    let mut cmd = node("client_check.mjs");
    cmd.arg(&url);
    let stdout = run_check("client_check.mjs", cmd);
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}"));
    assert_eq!(summary["ok"], true, "{summary}");
}

fn start_ts_server() -> (ChildGuard, String) {
    let mut cmd = node("server.mjs");
    cmd.arg("0");
    let server = ChildGuard::spawn("server.mjs", cmd);
    let url = wait_ready(&server);
    (server, url)
}

async fn check_ts_server(client: &Client, rec: &Recorder) {
    check_handshake(
        client,
        "mcp-sse-demo-ts",
        &["echo", "add", "log_and_progress", "sample", "slow"],
    )
    .await;
    let init = client.initialize_result().unwrap_or_default();
    assert_eq!(
        init["capabilities"],
        json!({"tools": {}, "logging": {}}),
        "{init}"
    );
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
    expect_text(client, "slow", json!({"seconds": 0.1}), "slept 0.1", false).await;
    check_timeout_then_call(client).await;
}

#[test]
fn our_smol_client_against_ts_server() {
    let (server, url) = start_ts_server();
    let rec = Recorder::default();
    smol::block_on(async {
        let client = mcp_sse_smol::connect_with(&url, rec.options(), ClientConfig::default())
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}\n{}", server.output()));
        check_ts_server(&client, &rec).await;
        client.close().await;
    });
}

#[test]
fn our_tokio_client_against_ts_server() {
    let (server, url) = start_ts_server();
    let rec = Recorder::default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let client = mcp_sse_tokio::connect_with(&url, rec.options(), ClientConfig::default())
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}\n{}", server.output()));
        check_ts_server(&client, &rec).await;
        client.close().await;
    });
}
