//! Interop with the official Python MCP SDK (PyPI `mcp` 2.3.0, installed by `interop/setup.sh`):
//! its `sse_client` + `Client` against `mcp-sse serve`, and our client (smol and tokio) against
//! a Python `MCPServer` twin of the demo server under uvicorn (`interop/python/`).

mod interop_common;
#[path = "../../tests/src/pki.rs"]
mod pki;

use std::process::Command;

use interop_common::demo_checks::{check_full_demo, Recorder};
use interop_common::{peers, repo_root, run_check, start_our_server, wait_ready, ChildGuard};
use mcp_sse_core::transport::ClientConfig;
use serde_json::Value;

fn python_client_check(url: &str, mode: &str) -> Value {
    let peers = peers();
    let mut cmd = Command::new(&peers.python);
    cmd.arg(repo_root().join("interop/python/client_check.py"))
        .args([url, mode]);
    let stdout = run_check(&format!("client_check.py {mode}"), cmd);
    let line = stdout.lines().last().unwrap_or_default();
    let summary: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}"));
    assert_eq!(summary["ok"], true, "{summary}");
    assert_eq!(summary["mode"], mode, "{summary}");
    assert_eq!(summary["server"], "mcp-sse-demo", "{summary}");
    summary
}

#[test]
fn python_client_legacy_mode_against_our_server() {
    let (_server, url) = start_our_server();
    python_client_check(&url, "legacy");
}

#[test]
fn python_client_auto_mode_falls_back_at_once_against_our_server() {
    let (_server, url) = start_our_server();
    let summary = python_client_check(&url, "auto");
    // DIVERGENCE 9: `server/discover` gets -32601 (not the 10 s probe timeout, -32001).
    assert_eq!(summary["discover"]["code"], -32601, "{summary}");
}

fn start_python_server() -> (ChildGuard, String) {
    start_python_server_as("sse")
}

/// The Python twin of the demo server, over `transport` (`sse`, or `streamable` for the newer
/// Streamable HTTP transport at `/mcp`).
fn start_python_server_as(transport: &str) -> (ChildGuard, String) {
    start_python_server_with(&["0", transport])
}

fn start_python_server_with(args: &[&str]) -> (ChildGuard, String) {
    let peers = peers();
    let mut cmd = Command::new(&peers.python);
    cmd.arg(repo_root().join("interop/python/demo_server.py"))
        .args(args);
    let server = ChildGuard::spawn("demo_server.py", cmd);
    let url = wait_ready(&server);
    (server, url)
}

#[test]
fn our_smol_client_against_python_server() {
    let (server, url) = start_python_server();
    let rec = Recorder::default();
    smol::block_on(async {
        let client = mcp_sse_smol::connect_with(&url, rec.options(), ClientConfig::default())
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}\n{}", server.output()));
        check_full_demo(&client, &rec, "mcp-sse-demo-py").await;
        client.close().await;
    });
}

#[test]
fn our_tokio_client_against_python_server() {
    let (server, url) = start_python_server();
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
        check_full_demo(&client, &rec, "mcp-sse-demo-py").await;
        client.close().await;
    });
}

/// Pointed at a Streamable HTTP server (the most common mistake now), our client says what it
/// found and what to do instead (issue 16), rather than `HTTP 400: … Missing session ID`.
#[test]
fn our_client_explains_a_streamable_http_server() {
    let (server, url) = start_python_server_as("streamable");
    assert!(url.ends_with("/mcp"), "{url}");
    let err = smol::block_on(mcp_sse_smol::connect_with(
        &url,
        Default::default(),
        ClientConfig::default(),
    ))
    .map(|_| ())
    .expect_err("a legacy client cannot use a Streamable HTTP endpoint");
    let text = err.to_string();
    assert!(
        text.contains("Streamable HTTP") && text.contains("legacy HTTP+SSE"),
        "{text}\n{}",
        server.output()
    );
    assert!(text.contains("Missing session ID"), "{text}");
}

/// Our client over `https://` against the Python SDK's server under uvicorn with
/// `ssl_certfile`/`ssl_keyfile` (issue 16), with a certificate this test makes.
#[test]
fn our_smol_client_over_https_against_python_server() {
    let p = pki::make(&["127.0.0.1"], pki::Leaf::Valid);
    let dir = interop_common::temp_dir("https-python");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &p.cert_pem).expect("write cert");
    std::fs::write(&key, &p.key_pem).expect("write key");
    let (server, url) = start_python_server_with(&[
        "0",
        "sse",
        cert.to_str().expect("path"),
        key.to_str().expect("path"),
    ]);
    assert!(url.starts_with("https://"), "{url}");
    let rec = Recorder::default();
    let mut options = rec.options();
    options.tls =
        Some(mcp_sse_glue::tls::TlsClient::with_only_roots_pem(p.ca_pem.as_bytes()).expect("CA"));
    smol::block_on(async {
        let client = mcp_sse_smol::connect_with(&url, options, ClientConfig::default())
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}\n{}", server.output()));
        check_full_demo(&client, &rec, "mcp-sse-demo-py").await;
        client.close().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
