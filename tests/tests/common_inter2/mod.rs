//! Helpers shared by the interaction tests of part B (pagination, ping, progress, prompts,
//! resources, roots, sampling, tools, session).
#![allow(dead_code)]

use std::future::Future;
use std::sync::{Arc, Mutex};

use mcp_sse_core::jsonrpc::ErrorObject;
use mcp_sse_core::session::{ServerConfig, ServerFeatures};
use mcp_sse_glue::{
    BoxFuture, CallOptions, Client, Handler, IncomingMessage, McpServer, MessageHandler, Params,
    RequestCallback, RequestContext,
};
use serde_json::{json, Map, Value};

/// `{"content":[{"type":"text","text":t}]}`.
pub fn text(t: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": t.into()}]})
}

/// A JSON object literal as request params.
pub fn obj(v: Value) -> Params {
    match v {
        Value::Object(m) => Some(m),
        other => panic!("not an object: {other}"),
    }
}

/// A JSON object literal as a map.
pub fn map(v: Value) -> Map<String, Value> {
    obj(v).unwrap_or_default()
}

/// `tools/call` of `name` with `arguments`, its error in the JSON-RPC form.
pub async fn call(client: &Client, name: &str, arguments: Value) -> Result<Value, ErrorObject> {
    client
        .request(
            "tools/call",
            obj(json!({"name": name, "arguments": arguments})),
            CallOptions::default(),
        )
        .await
        .map_err(|e| e.to_error_object())
}

/// A request callback (sampling, roots, elicitation) from a closure.
pub fn callback<F, Fut>(f: F) -> RequestCallback
where
    F: Fn(Params) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
{
    Arc::new(move |p| Box::pin(f(p)))
}

/// A message handler forwarding every notification to a channel.
pub fn notifications() -> (MessageHandler, async_channel::Receiver<Value>) {
    let (tx, rx) = async_channel::unbounded();
    let h: MessageHandler = Arc::new(move |m| {
        let tx = tx.clone();
        Box::pin(async move {
            let v = match m {
                IncomingMessage::Notification(n) => json!({"method": n.method, "params": n.params}),
                IncomingMessage::TransportError(t) => json!({"transportError": t}),
            };
            let _ = tx.send(v).await;
        })
    });
    (h, rx)
}

/// Receives the next value; the harness bounds the wait.
pub async fn next<T>(rx: &async_channel::Receiver<T>) -> T {
    rx.recv().await.expect("channel closed")
}

/// A shared, ordered record of what a callback saw.
#[derive(Clone, Default)]
pub struct Rec<T>(Arc<Mutex<Vec<T>>>);

impl<T: Clone> Rec<T> {
    /// An empty record.
    pub fn new() -> Self {
        Rec(Arc::new(Mutex::new(Vec::new())))
    }
    /// Appends.
    pub fn push(&self, v: T) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(v);
    }
    /// A copy of everything recorded so far.
    pub fn get(&self) -> Vec<T> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Sends `()` when dropped: proves a handler future was interrupted (dropped) rather than
/// finished.
pub struct DropSignal(pub async_channel::Sender<()>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.try_send(());
    }
}

type ReqFn = Arc<
    dyn Fn(RequestContext, String, Params) -> BoxFuture<'static, Result<Value, ErrorObject>>
        + Send
        + Sync,
>;
type NoteFn = Arc<dyn Fn(RequestContext, String, Params) + Send + Sync>;

/// A low-level [`Handler`] made of closures.
struct FnHandler {
    req: ReqFn,
    note: Option<NoteFn>,
}

impl Handler for FnHandler {
    fn handle_request(
        &self,
        ctx: RequestContext,
        method: String,
        params: Params,
    ) -> BoxFuture<'static, Result<Value, ErrorObject>> {
        (self.req)(ctx, method, params)
    }

    fn handle_notification(
        &self,
        ctx: RequestContext,
        method: String,
        params: Params,
    ) -> BoxFuture<'static, ()> {
        if let Some(n) = &self.note {
            // Called synchronously, in the order the session dispatches.
            n(ctx, method, params);
        }
        Box::pin(async {})
    }
}

/// A low-level server implementing `features` with `f` as the request handler.
pub fn low_level<F, Fut>(features: ServerFeatures, f: F) -> McpServer
where
    F: Fn(RequestContext, String, Params) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
{
    low_level_with_notes(features, f, None::<fn(RequestContext, String, Params)>)
}

/// Like [`low_level`], also observing notifications with `note` (called synchronously in
/// dispatch order).
pub fn low_level_with_notes<F, Fut, N>(features: ServerFeatures, f: F, note: Option<N>) -> McpServer
where
    F: Fn(RequestContext, String, Params) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
    N: Fn(RequestContext, String, Params) + Send + Sync + 'static,
{
    let config = ServerConfig {
        server_info: json!({"name": "low-level", "version": "0.0.1"}),
        features,
        ..ServerConfig::default()
    };
    let note: Option<NoteFn> = note.map(|n| Arc::new(n) as NoteFn);
    McpServer::new(
        config,
        Arc::new(FnHandler {
            req: Arc::new(move |c, m, p| Box::pin(f(c, m, p))),
            note,
        }),
    )
}

/// Features with only tools on.
pub fn tools_only() -> ServerFeatures {
    ServerFeatures {
        tools: true,
        ..ServerFeatures::default()
    }
}
