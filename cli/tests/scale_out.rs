//! Scale-out on Redis (issue 17), with real components started by the test: `redis-server`
//! and nginx (Debian's packages) on 127.0.0.1 with test-chosen ports, and two or three
//! `mcp-sse serve --redis …` processes behind nginx round-robin (no stickiness). Every wait
//! is bounded. Without `redis-server` or `nginx` the tests say so loudly and pass, except under
//! CI (`CI` set), where `.ci/run` installs them and their absence fails.
#![cfg(unix)]

mod interop_common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use interop_common::demo_checks::{check_full_demo, texts, Recorder};
use interop_common::{peers, repo_root, run_check, temp_dir, ChildGuard, PEER_DEADLINE};
use mcp_sse_core::transport::ClientConfig;
use mcp_sse_glue::{
    CallOptions, Client, ClientOptions, ReconnectPolicy, SessionCallback, SessionEvent,
};
use serde_json::{json, Value};

/// Bound on any single component becoming ready.
const READY: Duration = Duration::from_secs(30);

/// One test at a time: each starts several processes, and the machine has two cores.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether `bin` is installed; if not, says so loudly (and fails under CI).
fn have(bin: &str) -> bool {
    let found = Command::new("sh")
        .args([
            "-c",
            &format!("command -v {bin} || test -x /usr/sbin/{bin}"),
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{bin} is not installed: .ci/run must install it (apt-get install -y redis-server nginx)"
        );
        eprintln!(
            "\n\n!!!!! SKIPPED: {bin} is not installed (apt-get install -y redis-server nginx) !!!!!\n\n"
        );
    }
    found
}

fn components() -> bool {
    have("redis-server") & have("nginx")
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

fn wait_port(port: u16, what: &str) {
    let end = Instant::now() + READY;
    while Instant::now() < end {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not listen on 127.0.0.1:{port} within {READY:?}");
}

struct Redis {
    port: u16,
    dir: PathBuf,
    child: Option<ChildGuard>,
}

impl Redis {
    fn start(dir: &Path) -> Redis {
        let mut r = Redis {
            port: free_port(),
            dir: dir.to_path_buf(),
            child: None,
        };
        r.restart();
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        self.child = None; // killed and reaped on drop
    }

    fn restart(&mut self) {
        self.stop();
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
        ])
        .arg(&self.dir);
        let child = ChildGuard::spawn("redis-server", cmd);
        wait_port(self.port, "redis-server");
        self.child = Some(child);
    }
}

/// `mcp-sse serve` on a free port with the Redis bus.
fn start_instance(redis: &Redis, name: &str, prefix: &str) -> (ChildGuard, u16) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-sse"));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--ping-interval", "1"])
        .args(["--redis", &redis.url(), "--instance", name])
        .args(["--redis-prefix", prefix]);
    let child = ChildGuard::spawn(&format!("mcp-sse serve {name}"), cmd);
    let url = child.wait_for_line(PEER_DEADLINE, |l| {
        l.strip_prefix("mcp-sse: serving the demo server on ")
            .map(str::to_string)
    });
    let port = url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/sse")
        .parse()
        .unwrap_or_else(|_| panic!("unexpected URL {url}"));
    (child, port)
}

/// nginx round-robin over `upstreams`, no stickiness, in the foreground.
struct Nginx {
    port: u16,
    _child: ChildGuard,
}

fn start_nginx(dir: &Path, upstreams: &[u16]) -> Nginx {
    let port = free_port();
    let servers: String = upstreams
        .iter()
        .map(|p| format!("    server 127.0.0.1:{p} max_fails=0;\n"))
        .collect();
    let d = dir.display();
    let conf = format!(
        "worker_processes 1;\n\
         pid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n\
           access_log off;\n\
           client_body_temp_path {d}/body;\n\
           proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi;\n\
           uwsgi_temp_path {d}/uwsgi;\n\
           scgi_temp_path {d}/scgi;\n\
           upstream mcp {{\n{servers}    keepalive 64;\n  }}\n\
           server {{\n\
             listen 127.0.0.1:{port};\n\
             location / {{\n\
               proxy_pass http://mcp;\n\
               proxy_http_version 1.1;\n\
               proxy_set_header Connection \"\";\n\
               proxy_set_header Host $http_host;\n\
               proxy_buffering off;\n\
               proxy_read_timeout 1h;\n\
             }}\n\
           }}\n\
         }}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).expect("write nginx.conf");
    let bin = if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    };
    let mut cmd = Command::new(bin);
    cmd.arg("-e")
        .arg(dir.join("error.log"))
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .args(["-g", "daemon off;"]);
    let child = ChildGuard::spawn("nginx", cmd);
    wait_port(port, "nginx");
    Nginx {
        port,
        _child: child,
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // The master stops its workers on SIGTERM; a SIGKILL (the guard's) would orphan them.
        let _ = Command::new("kill")
            .args(["-TERM", &self._child.id().to_string()])
            .status();
        let _ = self._child.wait_exit(READY);
    }
}

impl Nginx {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/sse", self.port)
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn connect(url: &str) -> Client {
    let options = ClientOptions {
        read_timeout: Some(Duration::from_secs(20)),
        ..ClientOptions::default()
    };
    let config = ClientConfig {
        max_in_flight_posts: 8,
        ..ClientConfig::default()
    };
    mcp_sse_tokio::connect_with(url, options, config)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

async fn echo(client: &Client, text: &str) -> Result<String, String> {
    let params = json!({"name": "echo", "arguments": {"text": text}});
    let Value::Object(params) = params else {
        unreachable!()
    };
    match client
        .request("tools/call", Some(params), CallOptions::default())
        .await
    {
        Ok(v) => Ok(texts(&v).join("")),
        Err(e) => Err(e.to_string()),
    }
}

/// A deployment: Redis, `n` instances, nginx over them.
struct Cluster {
    dir: PathBuf,
    prefix: String,
    redis: Redis,
    instances: Vec<Option<ChildGuard>>,
    nginx: Nginx,
}

fn start_cluster(name: &str, n: usize) -> Cluster {
    let dir = temp_dir(name);
    let redis = Redis::start(&dir);
    let prefix = format!("t{}-{name}:", std::process::id());
    let mut instances = Vec::new();
    let mut ports = Vec::new();
    for i in 0..n {
        let (child, port) = start_instance(&redis, &format!("i{i}"), &prefix);
        instances.push(Some(child));
        ports.push(port);
    }
    let nginx = start_nginx(&dir, &ports);
    Cluster {
        dir,
        prefix,
        redis,
        instances,
        nginx,
    }
}

impl Cluster {
    /// How many sessions the registry says `instance` holds (`*`: all instances), by
    /// redis-cli (Redis's own client).
    fn sessions_of(&self, instance: &str) -> usize {
        let script = "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do \
                      if ARGV[2] == '*' or redis.call('GET', k) == ARGV[2] then n = n + 1 end end return n";
        let out = Command::new("redis-cli")
            .args(["-p", &self.redis.port.to_string(), "EVAL", script, "0"])
            .arg(format!("{}session:*", self.prefix))
            .arg(instance)
            .output()
            .expect("run redis-cli");
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim()
            .trim_start_matches("(integer) ")
            .parse()
            .unwrap_or_else(|_| panic!("redis-cli said {text:?}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn our_client_and_the_python_client_pass_their_runs_through_the_balancer() {
    if !components() {
        return;
    }
    let _serial = serial();
    let cluster = start_cluster("interop", 2);
    let url = cluster.nginx.url();
    tokio_rt().block_on(async {
        // Twice: the GET lands on either instance, so most POSTs are forwarded.
        for _ in 0..2 {
            let rec = Recorder::default();
            let client = mcp_sse_tokio::connect_with(&url, rec.options(), ClientConfig::default())
                .await
                .expect("connect through nginx");
            check_full_demo(&client, &rec, "mcp-sse-demo").await;
            client.close().await;
        }
    });
    let peers = peers();
    let mut cmd = Command::new(&peers.python);
    cmd.arg(repo_root().join("interop/python/client_check.py"))
        .args([url.as_str(), "legacy"]);
    let stdout = run_check("client_check.py legacy (through nginx)", cmd);
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}"));
    assert_eq!(summary["ok"], true, "{summary}");
}

#[test]
fn fifty_sessions_of_two_hundred_calls_with_eight_in_flight_lose_nothing() {
    if !components() {
        return;
    }
    let _serial = serial();
    let cluster = start_cluster("load", 3);
    let url = cluster.nginx.url();
    let started = Instant::now();
    let (sessions, calls, in_flight) = (50usize, 200usize, 8usize);
    let done = tokio_rt().block_on(async {
        let mut tasks = Vec::new();
        for s in 0..sessions {
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let client = Arc::new(connect(&url).await);
                let mut workers = Vec::new();
                for w in 0..in_flight {
                    let client = client.clone();
                    workers.push(tokio::spawn(async move {
                        let mut ok = 0usize;
                        for c in (w..calls).step_by(in_flight) {
                            let text = format!("s{s}-c{c}");
                            match echo(&client, &text).await {
                                Ok(got) => {
                                    assert_eq!(got, text, "session {s} call {c}: wrong answer");
                                    ok += 1;
                                }
                                Err(e) => panic!("session {s} call {c} failed: {e}"),
                            }
                        }
                        ok
                    }));
                }
                let mut ok = 0;
                for w in workers {
                    ok += w.await.expect("worker");
                }
                client.close().await;
                ok
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("session task");
        }
        total
    });
    assert_eq!(done, sessions * calls, "every call answered");
    eprintln!(
        "{} calls through nginx over 3 instances in {:?}",
        done,
        started.elapsed()
    );
}

#[test]
fn a_killed_instance_ends_only_its_own_sessions_and_a_redis_restart_heals() {
    if !components() {
        return;
    }
    let _serial = serial();
    let mut cluster = start_cluster("faults", 3);
    let url = cluster.nginx.url();
    let rt = tokio_rt();
    rt.block_on(async {
        // Six sessions: round-robin puts two streams on each instance.
        let mut clients = Vec::new();
        for _ in 0..6 {
            let c = connect(&url).await;
            echo(&c, "warm-up").await.expect("a call before any fault");
            clients.push(c);
        }
        // More with a reconnection policy, until one has its stream on i1 (the instance that
        // will be killed): the registry says where each stream is.
        let mut reconnecting = Vec::new();
        let wait_registered = |n: usize| {
            let end = Instant::now() + READY;
            while cluster.sessions_of("*") < n {
                assert!(
                    Instant::now() < end,
                    "{n} sessions not registered within {READY:?}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        wait_registered(6);
        let lost = Arc::new(AtomicUsize::new(0));
        let back = Arc::new(AtomicUsize::new(0));
        for _ in 0..6 {
            let before = cluster.sessions_of("i1");
            let (l, b) = (lost.clone(), back.clone());
            let on_session: SessionCallback = Arc::new(move |ev: SessionEvent| {
                match ev {
                    SessionEvent::Lost { .. } => l.fetch_add(1, Ordering::SeqCst),
                    SessionEvent::Reconnected => b.fetch_add(1, Ordering::SeqCst),
                    SessionEvent::GaveUp => 0,
                };
            });
            let options = ClientOptions {
                read_timeout: Some(Duration::from_secs(20)),
                reconnect: ReconnectPolicy::Backoff {
                    initial: Duration::from_millis(100),
                    max: Duration::from_secs(1),
                    max_attempts: 20,
                },
                on_session: Some(on_session),
                ..ClientOptions::default()
            };
            let c = mcp_sse_tokio::connect_with(&url, options, ClientConfig::default())
                .await
                .expect("connect a reconnecting client");
            reconnecting.push(c);
            wait_registered(6 + reconnecting.len());
            if cluster.sessions_of("i1") > before {
                break;
            }
            // A connection is three requests (GET, initialize, initialized): one more turns
            // nginx's round-robin so the next GET lands on the next instance.
            raw_post(cluster.nginx.port, "0123456789abcdef0123456789abcdef", "{}");
        }
        // --- Redis restarted mid-run: local POSTs keep working, forwarded ones get 503
        // (a clean error), and once Redis is back every session heals (re-subscribe,
        // re-register within the backoff and one renewal).
        cluster.redis.stop();
        let mut refused = 0;
        for c in &clients {
            for i in 0..3 {
                match echo(c, &format!("down-{i}")).await {
                    Ok(_) => {}
                    Err(e) => {
                        assert!(e.contains("503"), "a clean 503 while Redis is down: {e}");
                        refused += 1;
                    }
                }
            }
        }
        assert!(refused > 0, "some POSTs needed the bus while it was down");
        cluster.redis.restart();
        let deadline = Instant::now() + Duration::from_secs(30);
        for (i, c) in clients.iter().enumerate() {
            loop {
                // Three in a row: every instance behind the balancer can route it again.
                let mut ok = true;
                for k in 0..3 {
                    ok &= echo(c, &format!("healed-{k}")).await.is_ok();
                }
                if ok {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "session {i} did not heal within 30 s of the Redis restart"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        // --- One instance killed mid-run.
        let held = cluster.sessions_of("i1");
        assert!(held >= 1, "instance i1 holds sessions");
        cluster.instances[1] = None; // SIGKILL, reaped
        let mut ended = 0;
        let mut alive = 0;
        for (i, c) in clients.iter().enumerate() {
            // Bounded: the read timeout and the lease bound every call.
            let mut results = Vec::new();
            for k in 0..4 {
                results.push(echo(c, &format!("after-kill-{k}")).await);
            }
            if results.iter().all(Result::is_ok) {
                alive += 1;
            } else {
                // A session of the killed instance: its stream is gone, so its calls fail
                // with a clean JSON-RPC error (never a hang, never a wrong answer).
                for r in &results {
                    if let Err(e) = r {
                        assert!(!e.is_empty(), "session {i}: an error with a message");
                    }
                }
                ended += 1;
            }
        }
        // The clients that reconnect find a live instance through the balancer.
        let deadline = Instant::now() + Duration::from_secs(30);
        for (i, c) in reconnecting.iter().enumerate() {
            loop {
                if let Ok(t) = echo(c, "after-kill").await {
                    assert_eq!(t, "after-kill");
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "reconnecting client {i} found no live instance within 30 s"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let (lost, reconnected) = (lost.load(Ordering::SeqCst), back.load(Ordering::SeqCst));
        eprintln!(
            "redis down: {refused} POSTs refused 503; instance killed: {ended} sessions ended, \
             {alive} untouched; {lost} of {} reconnecting clients lost their session, \
             {reconnected} reconnected; the registry said i1 held {held}",
            reconnecting.len()
        );
        assert_eq!(
            ended + lost,
            held,
            "exactly the killed instance's sessions ended"
        );
        assert_eq!(
            reconnected, lost,
            "every client that lost its session reconnected"
        );
        assert!(
            lost >= 1,
            "a reconnecting client had its stream on the killed instance"
        );
        assert!(ended >= 1, "the killed instance's sessions ended");
        assert!(
            alive >= 3,
            "the other instances' sessions are untouched ({alive} of 6)"
        );
        assert_eq!(ended + alive, 6);
        for c in reconnecting {
            c.close().await;
        }
        for c in clients {
            c.close().await;
        }
    });
}

/// Reads from `stream` until `done(text so far)` (bounded by the stream's read timeout).
fn read_until(stream: &mut TcpStream, buf: &mut Vec<u8>, done: impl Fn(&str) -> bool) -> String {
    let mut chunk = [0u8; 4096];
    while !done(&String::from_utf8_lossy(buf)) {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("read failed ({e}): {}", String::from_utf8_lossy(buf)),
        }
    }
    String::from_utf8_lossy(buf).into_owned()
}

fn raw(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    s
}

/// One POST on its own connection: the whole answer.
fn raw_post(port: u16, session: &str, body: &str) -> String {
    let mut s = raw(port);
    let req = format!(
        "POST /messages/?session_id={session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write POST");
    let mut buf = Vec::new();
    read_until(&mut s, &mut buf, |_| false)
}

#[test]
fn a_post_to_an_instance_that_does_not_hold_the_session_is_forwarded_to_its_owner_until_its_lease_ends(
) {
    if !components() {
        return;
    }
    let _serial = serial();
    let dir = temp_dir("forward");
    let redis = Redis::start(&dir);
    let prefix = format!("t{}-forward:", std::process::id());
    let (owner, port_a) = start_instance(&redis, "a", &prefix);
    let (_b, port_b) = start_instance(&redis, "b", &prefix);
    // The stream on A.
    let mut get = raw(port_a);
    write!(get, "GET /sse HTTP/1.1\r\nHost: 127.0.0.1:{port_a}\r\n\r\n").expect("GET");
    let mut stream = Vec::new();
    let text = read_until(&mut get, &mut stream, |t| {
        t.contains("session_id=") && t.contains("\r\n\r\n\r\n")
    });
    let session: String = text
        .split("session_id=")
        .nth(1)
        .expect("endpoint event")
        .chars()
        .take(32)
        .collect();
    let ping = r#"{"jsonrpc":"2.0","id":"fwd-1","method":"ping"}"#;
    // B does not hold it: the bus knows A does (its registration may take one Redis round
    // trip after the GET; bounded retry).
    let end = Instant::now() + READY;
    let answer = loop {
        let answer = raw_post(port_b, &session, ping);
        if !answer.starts_with("HTTP/1.1 404") || Instant::now() > end {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(answer.starts_with("HTTP/1.1 202 Accepted\r\n"), "{answer}");
    // The owner answers on its stream.
    let text = read_until(&mut get, &mut stream, |t| t.contains("fwd-1"));
    assert!(
        text.contains(r#"data: {"jsonrpc":"2.0","id":"fwd-1","result":{}}"#),
        "{text}"
    );
    // The reference's other answers, decided the same way on B.
    let unknown = "0123456789abcdef0123456789abcdef";
    let a = raw_post(port_b, unknown, ping);
    assert!(
        a.starts_with("HTTP/1.1 404") && a.ends_with("Could not find session"),
        "{a}"
    );
    let a = raw_post(port_b, &session, "{not json");
    assert!(
        a.starts_with("HTTP/1.1 400") && a.ends_with("Could not parse message"),
        "{a}"
    );
    // The session ends on A: it is unregistered, and B answers 404 (bounded wait).
    drop(get);
    let end = Instant::now() + READY;
    loop {
        let a = raw_post(port_b, &session, ping);
        if a.starts_with("HTTP/1.1 404") {
            break;
        }
        assert!(
            Instant::now() < end,
            "still routed after the session ended: {a}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A crashes with a live session: its registration outlives it until the lease ends
    // (3 ping intervals = 3 s). Meanwhile B answers 503 (nobody listens on A's channel),
    // then 404 once the lease expired: within the lease and a margin.
    let mut get = raw(port_a);
    write!(get, "GET /sse HTTP/1.1\r\nHost: 127.0.0.1:{port_a}\r\n\r\n").expect("GET");
    let mut stream = Vec::new();
    let text = read_until(&mut get, &mut stream, |t| {
        t.contains("session_id=") && t.contains("\r\n\r\n\r\n")
    });
    let session: String = text
        .split("session_id=")
        .nth(1)
        .expect("endpoint event")
        .chars()
        .take(32)
        .collect();
    let end = Instant::now() + READY;
    while !raw_post(port_b, &session, ping).starts_with("HTTP/1.1 202") {
        assert!(Instant::now() < end, "the second session was never routed");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(owner); // SIGKILL: no unregistration
    let killed = Instant::now();
    // Until Redis has seen the owner's subscription close, a publish still counts it (a
    // message in flight at a crash is lost, as on any pub/sub); then 503, then 404.
    let end = killed + Duration::from_secs(3) + Duration::from_secs(5);
    let mut saw_503 = false;
    loop {
        let a = raw_post(port_b, &session, ping);
        if a.starts_with("HTTP/1.1 404") {
            break;
        }
        saw_503 |= a.starts_with("HTTP/1.1 503");
        assert!(
            a.starts_with("HTTP/1.1 503") || (a.starts_with("HTTP/1.1 202") && !saw_503),
            "{a}"
        );
        assert!(
            Instant::now() < end,
            "the crashed owner's lease did not expire in time: {a}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(saw_503, "503 while the crashed owner's lease was alive");
    eprintln!(
        "a crashed owner's session answered 404 after {:?}",
        killed.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
