//! Shared helpers of the interop tests (`cli/tests/interop_*.rs`): peer installation through
//! `interop/setup.sh`, child processes that are killed on drop, bounded waits on their output,
//! and the checks our client runs against a foreign demo server.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Upper bound of every wait for a peer. Generous: the machine runs several builds at once,
/// and importing the Python SDK alone can take 15 s under that load.
pub const PEER_DEADLINE: Duration = Duration::from_secs(180);

/// Paths of the installed peers.
#[derive(Debug, Clone)]
pub struct Peers {
    /// The venv's python (with `mcp` and `uvicorn`).
    pub python: PathBuf,
    /// The folder holding `node_modules/@modelcontextprotocol/sdk`.
    pub node_dir: PathBuf,
}

/// The repository root (`cli/..`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `interop/setup.sh` once per test binary (the script's flock serializes binaries) and
/// returns the peers' paths. Panics with the script's output if it fails: interop tests never
/// pass silently when Python or Node is missing.
pub fn peers() -> Peers {
    static PEERS: OnceLock<Result<Peers, String>> = OnceLock::new();
    let result = PEERS.get_or_init(|| {
        let script = repo_root().join("interop/setup.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            return Err(format!(
                "{} failed ({}):\n{stdout}{stderr}",
                script.display(),
                out.status
            ));
        }
        let field = |name: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(name).map(PathBuf::from))
                .ok_or_else(|| format!("setup.sh printed no `{name}` line:\n{stdout}{stderr}"))
        };
        Ok(Peers {
            python: field("python=")?,
            node_dir: field("node=")?,
        })
    });
    match result {
        Ok(p) => p.clone(),
        Err(e) => panic!("interop peers are not installed: {e}"),
    }
}

/// A child process that is killed (and reaped) when dropped. Its stdout arrives line by line
/// through a channel; its stderr is collected for failure messages.
pub struct ChildGuard {
    name: String,
    child: Child,
    lines: Receiver<String>,
    stdout_seen: Arc<Mutex<String>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl ChildGuard {
    /// Spawns `cmd` with piped stdout/stderr and no stdin.
    pub fn spawn(name: &str, mut cmd: Command) -> ChildGuard {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {name} ({cmd:?}): {e}"));
        let (tx, lines) = mpsc::channel();
        let stdout_seen = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let seen = stdout_seen.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut s) = seen.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut err_pipe = child.stderr.take().expect("piped stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = sink.lock() {
                    s.extend_from_slice(&buf[..n]);
                }
            }
        });
        ChildGuard {
            name: name.to_string(),
            child,
            lines,
            stdout_seen,
            stderr,
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Everything the child wrote to stdout and stderr so far (for failure messages).
    pub fn output(&self) -> String {
        let out = self
            .stdout_seen
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        let err = self
            .stderr
            .lock()
            .map(|s| String::from_utf8_lossy(&s).into_owned())
            .unwrap_or_default();
        format!(
            "--- {} stdout ---\n{out}--- {} stderr ---\n{err}",
            self.name, self.name
        )
    }

    /// The first stdout line for which `pick` returns `Some`, within `deadline`; panics with the
    /// child's output on timeout or EOF.
    pub fn wait_for_line<T>(
        &self,
        deadline: Duration,
        mut pick: impl FnMut(&str) -> Option<T>,
    ) -> T {
        let end = Instant::now() + deadline;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(v) = pick(&line) {
                        return v;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "{}: expected line not seen within {deadline:?}\n{}",
                        self.name,
                        self.output()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "{}: stdout ended before the expected line\n{}",
                        self.name,
                        self.output()
                    )
                }
            }
        }
    }

    /// Waits (bounded) for the child to exit.
    pub fn wait_exit(&mut self, deadline: Duration) -> ExitStatus {
        let end = Instant::now() + deadline;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if Instant::now() < end => {
                    // Bounded poll of the child's state (std has no wait-with-timeout).
                    let _ = self.lines.recv_timeout(Duration::from_millis(20));
                }
                Ok(None) => panic!(
                    "{} did not exit within {deadline:?}\n{}",
                    self.name,
                    self.output()
                ),
                Err(e) => panic!("{}: wait failed: {e}\n{}", self.name, self.output()),
            }
        }
    }

    /// Waits for the child to exit and for its stdout to be read completely.
    pub fn finish(&mut self, deadline: Duration) -> (ExitStatus, String) {
        let end = Instant::now() + deadline;
        let mut rest = String::new();
        loop {
            match self
                .lines
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                Ok(line) => {
                    rest.push_str(&line);
                    rest.push('\n');
                }
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "{} did not finish within {deadline:?}\n{}",
                        self.name,
                        self.output()
                    )
                }
            }
        }
        let status = self.wait_exit(
            end.saturating_duration_since(Instant::now())
                .max(Duration::from_secs(5)),
        );
        (status, rest)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `mcp-sse serve --bind 127.0.0.1:0 --ping-interval 1` and returns it with its SSE URL.
///
/// Only the CLI's own test binaries have the binary (the adapter crates include this module too).
pub fn start_our_server() -> (ChildGuard, String) {
    let Some(bin) = option_env!("CARGO_BIN_EXE_mcp-sse") else {
        panic!("only the mcp-sse crate's tests can start `mcp-sse serve`");
    };
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--ping-interval", "1"]);
    let server = ChildGuard::spawn("mcp-sse serve", cmd);
    let url = server.wait_for_line(PEER_DEADLINE, |l| {
        l.strip_prefix("mcp-sse: serving the demo server on ")
            .map(str::to_string)
    });
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/sse"),
        "unexpected URL {url}"
    );
    (server, url)
}

/// Waits for a peer's `READY <url>` line.
pub fn wait_ready(peer: &ChildGuard) -> String {
    peer.wait_for_line(PEER_DEADLINE, |l| {
        l.strip_prefix("READY ").map(str::to_string)
    })
}

/// Runs a check script to completion (bounded) and returns its stdout; panics with its output
/// unless it exits 0.
pub fn run_check(name: &str, cmd: Command) -> String {
    let mut check = ChildGuard::spawn(name, cmd);
    let (status, stdout) = check.finish(PEER_DEADLINE);
    assert!(
        status.success(),
        "{name} failed ({status})\n{}",
        check.output()
    );
    stdout
}

pub mod demo_checks;

/// A fresh, empty directory for one test's files (certificates, …) under the system's temp
/// directory; the test removes it.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("mcp-sse-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}
