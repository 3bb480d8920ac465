//! The command line as a user meets it (issue 16): help and version without side effects,
//! usage errors with exit 2, scriptable `--json` output, exit codes for each outcome, and a
//! closed stdout (`mcp-sse probe URL | head -1`) that ends quietly with exit 0 instead of a
//! panic. Against `mcp-sse serve` on 127.0.0.1; no Python or Node needed.
#![cfg(unix)]

mod interop_common;
#[path = "../../tests/src/pki.rs"]
mod pki;

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use interop_common::{start_our_server, temp_dir, ChildGuard, PEER_DEADLINE};
use serde_json::Value;

/// Bound on one command's run.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

fn mcp_sse(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-sse"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mcp-sse");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            panic!("mcp-sse {args:?} did not finish in {RUN_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_and_version_do_not_connect_anywhere() {
    for sub in ["probe", "call", "serve", "demo", "sse-decode"] {
        let out = mcp_sse(&[sub, "--help"]);
        assert!(out.status.success(), "{sub} --help: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Usage: mcp-sse "), "{sub}");
    }
    let out = mcp_sse(&["probe", "--help"]);
    assert!(text(&out.stdout).contains("--timeout <TIMEOUT>"));
    assert!(text(&out.stdout).contains("[default: 30]"));
    let out = mcp_sse(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        concat!("mcp-sse ", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["probe"][..],
        &["frobnicate"],
        &["serve", "--ping-interval", "soon"],
        &["call", "http://127.0.0.1:1/sse", "add", "[1]"],
        &["call", "http://127.0.0.1:1/sse", "add", "{"],
        &["probe", "http://127.0.0.1:1/sse", "--timeout", "-1"],
    ] {
        let out = mcp_sse(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stderr).contains("panicked"), "{args:?}");
    }
}

#[test]
fn a_server_that_is_not_there_exits_3_naming_the_url() {
    // Port 1 on loopback: nothing listens there.
    let out = mcp_sse(&["probe", "http://127.0.0.1:1/sse"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("http://127.0.0.1:1/sse"));
}

#[test]
fn probe_and_call_print_json_and_exit_by_outcome() {
    let (_server, url) = start_our_server();
    let out = mcp_sse(&["probe", &url, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value =
        serde_json::from_slice(&out.stdout).expect("probe --json is one JSON document");
    assert_eq!(doc["initialize"]["serverInfo"]["name"], "mcp-sse-demo");
    assert!(doc["tools"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t["name"] == "add")));

    let out = mcp_sse(&["call", &url, "add", r#"{"a":1,"b":2}"#, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).expect("call --json");
    assert_eq!(result["structuredContent"]["result"], 3);

    // A tool's failure: its result is printed, and the exit code says it failed.
    let out = mcp_sse(&["call", &url, "nope", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let result: Value = serde_json::from_slice(&out.stdout).expect("call --json");
    assert_eq!(result["isError"], true);
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let (_server, url) = start_our_server();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-sse"))
        .args(["probe", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Read nothing and close the pipe, as `| head -0` would: the first line meets EPIPE.
    drop(child.stdout.take());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(start.elapsed() < RUN_DEADLINE, "probe did not end");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read stderr");
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "nothing on stderr either: {err}");
}

/// `serve --tls-cert/--tls-key` serves HTTPS; `probe --cacert` trusts its CA, and without it
/// the probe fails with exit 3 and says the certificate is not trusted (issue 16).
#[test]
fn serve_and_probe_over_tls() {
    let p = pki::make(&["127.0.0.1"], pki::Leaf::Valid);
    let dir = temp_dir("cli-tls");
    let (cert, key, ca) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("ca.pem"),
    );
    std::fs::write(&cert, &p.cert_pem).expect("write");
    std::fs::write(&key, &p.key_pem).expect("write");
    std::fs::write(&ca, &p.ca_pem).expect("write");
    let path = |f: &std::path::Path| f.to_str().expect("utf-8 path").to_string();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-sse"));
    cmd.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--tls-cert",
        &path(&cert),
        "--tls-key",
        &path(&key),
    ]);
    let server = ChildGuard::spawn("mcp-sse serve --tls-cert", cmd);
    let url = server.wait_for_line(PEER_DEADLINE, |l| {
        l.strip_prefix("mcp-sse: serving the demo server on ")
            .map(str::to_string)
    });
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let out = mcp_sse(&["probe", &url, "--json", "--cacert", &path(&ca)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["initialize"]["serverInfo"]["name"], "mcp-sse-demo");
    let out = mcp_sse(&["probe", &url]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not trusted"),
        "{}",
        text(&out.stderr)
    );
    let out = mcp_sse(&["serve", "--tls-cert", &path(&cert)]);
    assert_eq!(out.status.code(), Some(2), "--tls-cert needs --tls-key");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `serve --bearer-token` refuses requests without the token (exit 3, the challenge named);
/// `probe --bearer-token` gets in.
#[test]
fn serve_and_probe_with_a_bearer_token() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-sse"));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--bearer-token", "s3cret"]);
    let server = ChildGuard::spawn("mcp-sse serve --bearer-token", cmd);
    let url = server.wait_for_line(PEER_DEADLINE, |l| {
        l.strip_prefix("mcp-sse: serving the demo server on ")
            .map(str::to_string)
    });
    let out = mcp_sse(&["probe", &url]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("requires authentication") && err.contains("WWW-Authenticate: Bearer"),
        "{err}"
    );
    let out = mcp_sse(&["probe", &url, "--json", "--bearer-token", "s3cret"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["initialize"]["serverInfo"]["name"], "mcp-sse-demo");
}

/// `serve --cors-origin O` answers O's preflight and refuses another origin's.
#[test]
fn serve_with_a_cors_origin() {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-sse"));
    cmd.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--cors-origin",
        "http://localhost:5173",
    ]);
    let server = ChildGuard::spawn("mcp-sse serve --cors-origin", cmd);
    let url = server.wait_for_line(PEER_DEADLINE, |l| {
        l.strip_prefix("mcp-sse: serving the demo server on ")
            .map(str::to_string)
    });
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/sse")
        .to_string();
    let preflight = |origin: &str| {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        s.set_read_timeout(Some(PEER_DEADLINE)).expect("timeout");
        write!(s, "OPTIONS /messages/?session_id=x HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n").expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    };
    let ok = preflight("http://localhost:5173");
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    assert!(
        ok.contains("access-control-allow-origin: http://localhost:5173\r\n"),
        "{ok}"
    );
    let refused = preflight("http://evil.example");
    assert!(
        refused.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{refused}"
    );
    assert!(refused.ends_with("Disallowed CORS origin"), "{refused}");
}

/// `-vv` logs each request with its session, method, outcome and duration to stderr
/// (issue 16's tracing), without ANSI colours when stderr is not a terminal.
#[test]
fn verbose_serve_logs_requests() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-sse"));
    cmd.args(["-vv", "serve", "--bind", "127.0.0.1:0"]);
    let server = ChildGuard::spawn("mcp-sse -vv serve", cmd);
    let url = server.wait_for_line(PEER_DEADLINE, |l| {
        l.strip_prefix("mcp-sse: serving the demo server on ")
            .map(str::to_string)
    });
    let out = mcp_sse(&["call", &url, "add", r#"{"a":1,"b":2}"#]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The log line is on stderr, written as the request completes: wait for it (bounded).
    let start = Instant::now();
    let line = loop {
        let all = server.output();
        if let Some(l) = all.lines().find(|l| l.contains("request done")) {
            break l.to_string();
        }
        assert!(start.elapsed() < PEER_DEADLINE, "no request log:\n{all}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        line.contains("method=tools/call") && line.contains("outcome=\"ok\""),
        "{line}"
    );
    assert!(
        !line.contains('\x1b'),
        "no colours off a terminal: {line:?}"
    );
    drop(server);
}
