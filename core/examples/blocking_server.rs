//! The composed sans-IO server ([`ServerEndpoint`]) driven by blocking `std::net` sockets and
//! plain threads: no async runtime at all. It serves the demo server's `echo` and `add` tools
//! (the exact definitions and results of `cli/src/demo.rs`), routed by the core's [`Router`].
//!
//! ```text
//! cargo run --release -p mcp-sse-core --example blocking_server -- --bind 127.0.0.1:8000
//! ```
//!
//! The driver, per the calling order of [`mcp_sse_core::endpoint`]:
//! - one lock around the endpoint and the router ([`Shared`]);
//! - per connection a reader thread (reads while `wants_read`, else waits to be told
//!   `Readable` or that its writer took output) and a writer thread (woken by `Transmit`,
//!   writes what `poll_transmit` returns, closes when `wants_close`);
//! - one timer thread sleeping until `poll_timeout` (woken when a call may have moved it);
//! - the application runs inline under the lock: `echo` and `add` answer at once.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use mcp_sse_core::endpoint::{EndpointConfig, EndpointEvent, IoEvent, ServerEndpoint};
use mcp_sse_core::router::{Route, Router, ToolError};
use mcp_sse_core::transport::ConnectionId;
use serde_json::{json, Map, Value};

/// Bytes asked of one `read` call.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Longest a waiting thread sleeps before it looks again (a safety net: every wait is also
/// woken by the event it waits for).
const MAX_WAIT: Duration = Duration::from_secs(1);

/// Pause after a failed `accept`.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The demo tools this example serves, in registration order (the router's indices).
const ECHO: usize = 0;
const ADD: usize = 1;

fn schema(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required})
}

/// The router with the demo's `echo` and `add` definitions.
fn demo_router() -> Router {
    let mut router = Router::new();
    let echo = router.add_tool(json!({
        "name": "echo", "description": "Echo the given text back.",
        "inputSchema": schema(json!({"text": {"type": "string"}}), &["text"])
    }));
    let add = router.add_tool(json!({
        "name": "add", "description": "Add two integers.",
        "inputSchema": schema(json!({"a": {"type": "integer"}, "b": {"type": "integer"}}), &["a", "b"]),
        "outputSchema": schema(json!({"result": {"type": "integer"}}), &["result"])
    }));
    debug_assert_eq!((echo, add), (Some(ECHO), Some(ADD)));
    router
}

/// Runs tool number `tool` (the demo's handlers, synchronous).
fn call_tool(tool: usize, args: &Map<String, Value>) -> Result<Value, ToolError> {
    match tool {
        ECHO => {
            let text = args
                .get("text")
                .and_then(Value::as_str)
                .ok_or_else(|| ToolError::Tool("missing string argument 'text'".into()))?;
            Ok(json!({"content": [{"type": "text", "text": text}]}))
        }
        ADD => {
            let get = |n: &str| {
                args.get(n)
                    .and_then(Value::as_i64)
                    .ok_or_else(|| ToolError::Tool(format!("missing integer argument '{n}'")))
            };
            let (a, b) = (get("a")?, get("b")?);
            let sum = a
                .checked_add(b)
                .ok_or(ToolError::Tool("integer overflow".into()))?;
            Ok(
                json!({"content": [{"type": "text", "text": sum.to_string()}],
                      "structuredContent": {"result": sum}}),
            )
        }
        _ => Err(ToolError::Tool(format!("no handler for tool {tool}"))),
    }
}

/// 16 bytes for a session id from the standard library's per-process random hash keys (no
/// dependency; SipHash under secret keys is unpredictable without them).
fn random_bytes() -> [u8; 16] {
    let mut out = [0u8; 16];
    for half in out.chunks_mut(8) {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    out
}

/// What a connection's two threads wait on.
#[derive(Default)]
struct Signal {
    flags: Mutex<Flags>,
    cv: Condvar,
}

#[derive(Default)]
struct Flags {
    /// The writer has output to take (a `Transmit`), or must check `wants_close`.
    write: bool,
    /// Bumped whenever reading may resume (a `Readable`, or output was taken).
    read_kicks: u64,
    /// The connection is closed: both threads end.
    closed: bool,
}

impl Signal {
    fn lock(&self) -> MutexGuard<'_, Flags> {
        self.flags.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn kick_write(&self) {
        self.lock().write = true;
        self.cv.notify_all();
    }
    fn kick_read(&self) {
        self.lock().read_kicks += 1;
        self.cv.notify_all();
    }
    fn close(&self) {
        self.lock().closed = true;
        self.cv.notify_all();
    }
}

struct State {
    endpoint: ServerEndpoint,
    router: Router,
    conns: HashMap<ConnectionId, Arc<Signal>>,
}

/// The endpoint, the router and the connections' signals, behind one lock.
pub struct Shared {
    state: Mutex<State>,
    /// Wakes the timer thread (a call may have moved the deadline earlier, or shutdown).
    timer: Condvar,
    stopping: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Acts on everything the endpoint has to say: I/O instructions wake connection threads,
    /// protocol events go to the application. Called after every call into the endpoint.
    fn drive(&self, st: &mut State) {
        loop {
            let mut any = false;
            while let Some(io) = st.endpoint.poll_io() {
                any = true;
                match io {
                    IoEvent::Transmit(c) => {
                        if let Some(s) = st.conns.get(&c) {
                            s.kick_write();
                        }
                    }
                    IoEvent::Readable(c) => {
                        if let Some(s) = st.conns.get(&c) {
                            s.kick_read();
                        }
                    }
                    // This server opens no direct (in-memory) session.
                    IoEvent::Direct(_) => {}
                    IoEvent::Rejected { status, reason, .. } => {
                        eprintln!("blocking_server: rejected a request: {status} {reason}");
                    }
                }
            }
            while let Some(ev) = st.endpoint.poll_event() {
                any = true;
                application(st, ev);
            }
            if !any {
                break;
            }
        }
        self.timer.notify_all();
    }
}

/// The application: answers each request at once.
fn application(st: &mut State, ev: EndpointEvent) {
    let EndpointEvent::Request {
        session,
        id,
        method,
        params,
        ..
    } = ev
    else {
        // Session life-cycle, notifications, cancellations (nothing runs long here) and the
        // answers to server→client requests (this server sends none) need no action.
        return;
    };
    let result = match st.router.route(&method, params) {
        Route::Answer(r) => r,
        Route::CallTool { tool, arguments } => Router::tool_result(call_tool(tool, &arguments)),
        other => Err(mcp_sse_core::jsonrpc::ErrorObject::internal_error(format!(
            "no handler for {other:?}"
        ))),
    };
    // `NotInFlight` only if the client cancelled meanwhile: nothing to send then.
    let _ = st.endpoint.respond(session, id, result);
}

/// A running server.
pub struct Server {
    /// The address it listens on.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Server {
    /// Shuts down (in-flight requests answered, streams ended with the final chunk), stops
    /// accepting, and waits (bounded) for the connections to close.
    pub fn shutdown(self, wait: Duration) -> bool {
        self.shared.stopping.store(true, Ordering::SeqCst);
        {
            let mut st = self.shared.lock();
            st.endpoint.shutdown(Instant::now());
            self.shared.drive(&mut st);
        }
        // Unblock the accept loop.
        let _ = TcpStream::connect(self.addr);
        let end = Instant::now() + wait;
        loop {
            let left = self.shared.lock().endpoint.connection_count();
            if left == 0 {
                break;
            }
            if Instant::now() >= end {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
        for t in self.threads {
            let _ = t.join();
        }
        true
    }

    /// Blocks until the server stops (never, unless shut down from another thread).
    pub fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Serves the demo tools on `listener` from background threads.
pub fn start(listener: TcpListener) -> io::Result<Server> {
    let addr = listener.local_addr()?;
    let router = demo_router();
    let mut config = EndpointConfig::default();
    config.transport.local_addr = Some(addr);
    config.session.server_info =
        json!({"name": "mcp-sse-demo", "version": env!("CARGO_PKG_VERSION")});
    config.session.instructions = Some("Demo server of mcp-sse: try the tools.".into());
    config.session.features = router.features();
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            endpoint: ServerEndpoint::new(config, Box::new(random_bytes)),
            router,
            conns: HashMap::new(),
        }),
        timer: Condvar::new(),
        stopping: AtomicBool::new(false),
    });
    let timer = {
        let shared = shared.clone();
        thread::spawn(move || timer_loop(&shared))
    };
    let acceptor = {
        let shared = shared.clone();
        thread::spawn(move || accept_loop(&shared, listener))
    };
    Ok(Server {
        addr,
        shared,
        threads: vec![acceptor, timer],
    })
}

fn accept_loop(shared: &Arc<Shared>, listener: TcpListener) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else {
            // E.g. out of file descriptors: back off instead of spinning.
            thread::sleep(ACCEPT_BACKOFF);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok(writer) = stream.try_clone() else {
            continue;
        };
        let signal = Arc::new(Signal::default());
        let id = {
            let mut st = shared.lock();
            let id = st.endpoint.open_connection(Instant::now());
            st.conns.insert(id, signal.clone());
            shared.drive(&mut st);
            id
        };
        let (s1, sig1) = (shared.clone(), signal.clone());
        thread::spawn(move || write_loop(&s1, id, &sig1, writer));
        let s2 = shared.clone();
        thread::spawn(move || read_loop(&s2, id, &signal, stream));
    }
}

/// Marks `id` closed for the endpoint and both threads.
fn close(shared: &Shared, id: ConnectionId, signal: &Signal) {
    let mut st = shared.lock();
    st.endpoint.handle_close(id);
    st.conns.remove(&id);
    shared.drive(&mut st);
    drop(st);
    signal.close();
}

fn read_loop(shared: &Shared, id: ConnectionId, signal: &Signal, mut stream: TcpStream) {
    let mut buf = vec![0u8; READ_BUFFER_BYTES];
    loop {
        // Read only while the endpoint wants input (backpressure).
        loop {
            let kicks = {
                let f = signal.lock();
                if f.closed {
                    return;
                }
                f.read_kicks
            };
            if shared.lock().endpoint.wants_read(id) {
                break;
            }
            let mut f = signal.lock();
            while f.read_kicks == kicks && !f.closed {
                let (g, _) = signal
                    .cv
                    .wait_timeout(f, MAX_WAIT)
                    .unwrap_or_else(|p| p.into_inner());
                f = g;
                if f.read_kicks == kicks {
                    break; // look again after MAX_WAIT
                }
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => {
                let mut st = shared.lock();
                st.endpoint.handle_eof(id, Instant::now());
                shared.drive(&mut st);
                drop(st);
                signal.kick_write(); // it may have to close now
                return;
            }
            Ok(n) => {
                let mut st = shared.lock();
                st.endpoint
                    .handle_bytes(id, Bytes::copy_from_slice(&buf[..n]), Instant::now());
                shared.drive(&mut st);
                let finished = st.endpoint.wants_close(id);
                drop(st);
                if finished {
                    signal.kick_write();
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                close(shared, id, signal);
                return;
            }
        }
    }
}

fn write_loop(shared: &Shared, id: ConnectionId, signal: &Signal, mut stream: TcpStream) {
    loop {
        {
            let mut f = signal.lock();
            while !f.write && !f.closed {
                let (g, _) = signal
                    .cv
                    .wait_timeout(f, MAX_WAIT)
                    .unwrap_or_else(|p| p.into_inner());
                f = g;
            }
            if f.closed {
                return;
            }
            f.write = false;
        }
        let (bufs, finished) = {
            let mut st = shared.lock();
            let now = Instant::now();
            let mut bufs = Vec::new();
            while let Some(b) = st.endpoint.poll_transmit(id, now) {
                bufs.push(b);
            }
            let finished = st.endpoint.wants_close(id);
            shared.drive(&mut st);
            (bufs, finished)
        };
        let mut failed = false;
        for b in &bufs {
            if stream.write_all(b).is_err() {
                failed = true;
                break;
            }
        }
        if !bufs.is_empty() {
            // Taking output can resume reading (see `wants_read`).
            signal.kick_read();
        }
        if failed || finished {
            let _ = stream.flush();
            let _ = stream.shutdown(Shutdown::Both);
            close(shared, id, signal);
            return;
        }
    }
}

fn timer_loop(shared: &Shared) {
    let mut st = shared.lock();
    loop {
        if shared.stopping.load(Ordering::SeqCst) && st.endpoint.connection_count() == 0 {
            return;
        }
        let now = Instant::now();
        match st.endpoint.poll_timeout() {
            Some(at) if at <= now => {
                st.endpoint.handle_timeout(now, SystemTime::now());
                shared.drive(&mut st);
            }
            next => {
                let wait = next.map_or(MAX_WAIT, |at| (at - now).min(MAX_WAIT));
                let (g, _) = shared
                    .timer
                    .wait_timeout(st, wait)
                    .unwrap_or_else(|p| p.into_inner());
                st = g;
            }
        }
    }
}

fn parse_bind(args: impl Iterator<Item = String>) -> Result<String, String> {
    let mut bind = "127.0.0.1:8000".to_string();
    let mut args = args;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bind" => bind = args.next().ok_or("--bind needs an address")?,
            "-h" | "--help" => {
                return Err("usage: blocking_server [--bind HOST:PORT]".into());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(bind)
}

#[allow(dead_code)] // the tests include this file for `start` and do not call `main`
fn main() {
    let bind = match parse_bind(std::env::args().skip(1)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let listener = match TcpListener::bind(&bind) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mcp-sse: cannot bind {bind}: {e}");
            std::process::exit(1);
        }
    };
    let server = match start(listener) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mcp-sse: cannot start: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "mcp-sse: serving the demo server on http://{}/sse",
        server.addr
    );
    server.join();
}
