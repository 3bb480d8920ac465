//! Helpers shared by the interaction files of part A (cancellation, completion, elicitation,
//! flows, initialize, list-changed, logging, meta).
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_channel::{Receiver, Sender};
use mcp_sse_core::jsonrpc::{ErrorObject, Message};
use mcp_sse_glue::{
    BoxFuture, CallOptions, Client, ClientOptions, Connector, IncomingMessage, Link, LinkItem,
    LoggingCallback, McpServer, MessageHandler, RequestCallback, SseServer,
};
use mcp_sse_tests::{Harness, Transport};
use serde_json::{json, Map, Value};

/// The JSON object `v` as a map (test input is always an object).
pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not a JSON object: {other}"),
    }
}

/// `tools/call` of `name` with `args`, its error in the JSON-RPC form.
pub async fn call(client: &Client, name: &str, args: Value) -> Result<Value, ErrorObject> {
    client
        .request(
            "tools/call",
            Some(obj(json!({"name": name, "arguments": args}))),
            CallOptions::default(),
        )
        .await
        .map_err(|e| e.to_error_object())
}

/// A `CallToolResult` with one text block.
pub fn text(t: &str) -> Value {
    json!({"content": [{"type": "text", "text": t}]})
}

/// A `CallToolResult` carrying `v` as `structuredContent` (order-free comparisons).
pub fn structured(v: Value) -> Value {
    json!({"content": [], "structuredContent": v})
}

/// An error as JSON (`{"code","message"[,"data"]}`), for structured results.
pub fn error_json(e: &ErrorObject) -> Value {
    let mut m = Map::new();
    m.insert("code".into(), Value::from(e.code));
    m.insert("message".into(), Value::from(e.message.clone()));
    if let Some(d) = &e.data {
        m.insert("data".into(), d.clone());
    }
    Value::Object(m)
}

/// A notification as it reached a message handler, as JSON.
pub fn incoming_json(m: &IncomingMessage) -> Value {
    match m {
        IncomingMessage::Notification(n) => match &n.params {
            Some(p) => json!({"method": n.method, "params": p}),
            None => json!({"method": n.method}),
        },
        IncomingMessage::TransportError(t) => json!({"transport_error": t}),
    }
}

/// Receives one value; the harness bounds the wait.
pub async fn next<T>(rx: &Receiver<T>) -> T {
    rx.recv()
        .await
        .expect("channel closed before a value arrived")
}

/// Sends `()` on drop: proves a handler or callback future was dropped (interrupted).
pub struct DropSignal(pub Sender<()>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.try_send(());
    }
}

/// A logging callback that forwards every params object to `tx`.
pub fn logging_to(tx: Sender<Value>) -> LoggingCallback {
    Arc::new(move |p| {
        let tx = tx.clone();
        Box::pin(async move {
            let _ = tx.send(p).await;
        })
    })
}

/// A message handler that forwards everything to `tx`.
pub fn messages_to(tx: Sender<IncomingMessage>) -> MessageHandler {
    Arc::new(move |m| {
        let tx = tx.clone();
        Box::pin(async move {
            let _ = tx.send(m).await;
        })
    })
}

/// A request callback that records its params on `seen` and answers `answer`.
pub fn answering(seen: Sender<Value>, answer: Result<Value, ErrorObject>) -> RequestCallback {
    Arc::new(move |p| {
        let seen = seen.clone();
        let answer = answer.clone();
        Box::pin(async move {
            let _ = seen.send(p.map(Value::Object).unwrap_or(Value::Null)).await;
            answer
        })
    })
}

/// A request callback that announces it started, then waits forever; `dropped` fires when it
/// is interrupted.
pub fn blocking_callback(started: Sender<Value>, dropped: Sender<()>) -> RequestCallback {
    Arc::new(move |p| {
        let started = started.clone();
        let guard = DropSignal(dropped.clone());
        Box::pin(async move {
            let _guard = guard;
            let _ = started
                .send(p.map(Value::Object).unwrap_or(Value::Null))
                .await;
            std::future::pending::<Result<Value, ErrorObject>>().await
        })
    })
}

type Stop = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A scripted MCP client: raw JSON-RPC messages over this run's transport, to see exactly what
/// the server sends (and what it does not).
pub struct RawPeer {
    tx: mcp_sse_glue::queue::Sender<Message>,
    rx: Receiver<Message>,
    stop: std::sync::Mutex<Option<Stop>>,
    sse: Option<Arc<SseServer>>,
}

impl RawPeer {
    /// Connects to `server` over `h`'s transport (no handshake yet).
    pub async fn connect(h: &Harness, server: McpServer) -> RawPeer {
        let rt = h.rt();
        match h.transport {
            Transport::InMemory => {
                let (out_tx, out_rx) = async_channel::bounded::<Message>(64);
                let (o_tx, mut o_rx) = mcp_sse_glue::queue::bounded::<Message>(64);
                rt.spawn(Box::pin(async move {
                    while let Ok(m) = o_rx.recv().await {
                        if out_tx.send(m).await.is_err() {
                            break;
                        }
                    }
                }));
                let (tx, mrx) = mcp_sse_glue::queue::bounded::<Message>(64);
                let closed = mcp_sse_glue::serve_in_memory(rt.clone(), server, mrx, o_tx);
                let stop: Stop = Box::new(move || closed);
                RawPeer {
                    tx,
                    rx: out_rx,
                    stop: std::sync::Mutex::new(Some(stop)),
                    sse: None,
                }
            }
            Transport::SseInProcess => {
                let sse = SseServer::new(
                    rt.clone(),
                    server,
                    mcp_sse_core::transport::ServerConfig::default(),
                    Box::new(mcp_sse_glue::os_random),
                );
                let srv = sse.clone();
                let crt = rt.clone();
                let connector: Connector = Arc::new(move || {
                    let (client_end, server_end) = mcp_sse_glue::io::duplex();
                    let srv = srv.clone();
                    crt.spawn(Box::pin(
                        async move { srv.serve_connection(server_end).await },
                    ));
                    Box::pin(async move { Ok(client_end) })
                });
                Self::over_sse(h, connector, mcp_sse_glue::IN_PROCESS_URL, sse, None).await
            }
            Transport::SseTcp | Transport::SseAxum => {
                let (url, sse, stop) = h.serve_tcp(server).await;
                let port: u16 = url
                    .trim_start_matches("http://127.0.0.1:")
                    .split('/')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("port in the served URL");
                let crt = rt.clone();
                let connector: Connector =
                    Arc::new(move || crt.connect_tcp("127.0.0.1".into(), port));
                Self::over_sse(h, connector, &url, sse, Some(stop)).await
            }
        }
    }

    async fn over_sse(
        h: &Harness,
        connector: Connector,
        url: &str,
        sse: Arc<SseServer>,
        stop: Option<Stop>,
    ) -> RawPeer {
        let rt = h.rt();
        let (link, handle, _session) =
            mcp_sse_glue::connect_sse(rt.clone(), connector, url, Default::default())
                .await
                .expect("SSE transport connects");
        let Link {
            outbound,
            mut inbound,
        } = link;
        let (mtx, mrx) = async_channel::bounded::<Message>(64);
        rt.spawn(Box::pin(async move {
            while let Ok(item) = inbound.recv().await {
                match item {
                    LinkItem::Message(m) => {
                        if mtx.send(m).await.is_err() {
                            break;
                        }
                    }
                    // Anything else ends the stream: the test's next recv fails loudly.
                    other => {
                        eprintln!("raw peer: unexpected link item {other:?}");
                        break;
                    }
                }
            }
        }));
        let server = sse.clone();
        let stop: Stop = Box::new(move || {
            Box::pin(async move {
                handle.close().await;
                server.wait_idle().await;
                if let Some(s) = stop {
                    s().await;
                }
            })
        });
        RawPeer {
            tx: outbound,
            rx: mrx,
            stop: std::sync::Mutex::new(Some(stop)),
            sse: Some(sse),
        }
    }

    /// Sends one JSON-RPC message (must be valid).
    pub async fn send(&self, v: Value) {
        let bytes = serde_json::to_vec(&v).expect("serializable");
        let msg = Message::from_slice(&bytes).expect("a valid JSON-RPC message");
        self.tx.send(msg).await.expect("raw peer link open");
    }

    /// The next message from the server, as JSON.
    pub async fn recv(&self) -> Value {
        let m = self.rx.recv().await.expect("server stream ended");
        serde_json::from_slice(&m.to_vec()).expect("valid JSON")
    }

    /// `initialize` (id 1) with `protocol_version`, then `notifications/initialized`; returns the
    /// whole response.
    pub async fn initialize(&self, protocol_version: &str) -> Value {
        self.send(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": protocol_version, "capabilities": {},
            "clientInfo": {"name": "raw-peer", "version": "0.0.1"}}}),
        )
        .await;
        let r = self.recv().await;
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        r
    }

    /// Closes the transport and waits until the server side unwound (SSE: session table empty).
    pub async fn close(self) {
        self.tx.close();
        let stop = self.stop.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(stop) = stop {
            stop().await;
        }
        if let Some(s) = &self.sse {
            assert_eq!(
                s.session_count(),
                0,
                "server session table not empty after close"
            );
        }
    }
}

/// A scripted MCP server on an in-memory link: what the client sends arrives on `from_client`
/// as JSON; `send` delivers server messages to it.
pub struct ScriptedServer {
    pub to_client: mcp_sse_glue::queue::Sender<LinkItem>,
    pub from_client: mcp_sse_glue::queue::Receiver<Message>,
}

impl ScriptedServer {
    /// Sends one JSON-RPC message to the client.
    pub async fn send(&self, v: Value) {
        let bytes = serde_json::to_vec(&v).expect("serializable");
        let msg = Message::from_slice(&bytes).expect("a valid JSON-RPC message");
        self.to_client
            .send(LinkItem::Message(msg))
            .await
            .expect("client link open");
    }

    /// The next client message as JSON, or `None` once the client closed its side.
    pub async fn recv(&mut self) -> Option<Value> {
        let m = self.from_client.recv().await.ok()?;
        Some(serde_json::from_slice(&m.to_vec()).expect("valid JSON"))
    }

    /// Everything the client sends until it closes its side.
    pub async fn drain(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(v) = self.recv().await {
            out.push(v);
        }
        out
    }
}

/// Starts a [`Client`] against a [`ScriptedServer`]; the client's `initialize` outcome arrives on
/// the returned receiver once the script answers it.
pub fn start_scripted(
    h: &Harness,
    options: ClientOptions,
) -> (
    ScriptedServer,
    Receiver<Result<Client, mcp_sse_glue::Error>>,
) {
    let rt = h.rt();
    let (c_out_tx, c_out_rx) = mcp_sse_glue::queue::bounded::<Message>(64);
    let (c_in_tx, c_in_rx) = mcp_sse_glue::queue::bounded::<LinkItem>(64);
    let (done_tx, done_rx) = async_channel::bounded(1);
    let crt = rt.clone();
    let fut: BoxFuture<'static, ()> = Box::pin(async move {
        let r = Client::start(
            crt,
            Link {
                outbound: c_out_tx,
                inbound: c_in_rx,
            },
            options,
            None,
        )
        .await;
        let _ = done_tx.send(r).await;
    });
    rt.spawn(fut);
    (
        ScriptedServer {
            to_client: c_in_tx,
            from_client: c_out_rx,
        },
        done_rx,
    )
}

/// Runs a scripted-peer body (spec d.3: "in-memory only, same semantics apply") on both executors.
#[allow(unused_macros)]
macro_rules! scripted_test {
    ($name:ident, pins = [$($id:literal),* $(,)?], |$h:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            /// The requirement ids this test pins.
            #[allow(dead_code)]
            pub const PINS: &[&str] = &[$($id),*];
            #[test]
            fn in_memory_smol() {
                mcp_sse_tests::run(
                    mcp_sse_tests::Exec::Smol,
                    mcp_sse_tests::Transport::InMemory,
                    |$h| $body,
                );
            }
            #[test]
            fn in_memory_tokio() {
                mcp_sse_tests::run(
                    mcp_sse_tests::Exec::Tokio,
                    mcp_sse_tests::Transport::InMemory,
                    |$h| $body,
                );
            }
        }
    };
}
