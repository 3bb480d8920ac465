//! The MCP server side: a low-level [`Handler`] trait, the per-session runner that drives the
//! core's [`session::ServerSession`], and the [`RequestContext`] handlers use to talk back.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use event_listener::Event;
use foldhash::HashMap;
use mcp_sse_core::http::Headers;
use mcp_sse_core::jsonrpc::{ErrorObject, Message, RequestId};
use mcp_sse_core::mcp::rpc::{self, RequestMethod};
use mcp_sse_core::session::{
    LogLevel, ServerConfig, ServerEvent, ServerNotification, ServerSession,
};
use serde_json::{Map, Value};

use crate::cancel::CancelFlag;
use crate::locked::relock;
use crate::queue;
use crate::rt::{BoxFuture, Rt};

/// Parameters of a request or notification: a JSON object, or absent.
pub type Params = Option<Map<String, Value>>;

/// The low-level server API: every request and notification the session does not answer itself
/// (initialize, ping, logging/setLevel, unknown methods and the init gate are handled by the core)
/// reaches the handler.
pub trait Handler: Send + Sync + 'static {
    /// Answers a request. Runs concurrently with other requests; it is dropped (interrupted) if
    /// the client cancels the request or disconnects.
    fn handle_request(
        &self,
        ctx: RequestContext,
        method: String,
        params: Params,
    ) -> BoxFuture<'static, Result<Value, ErrorObject>>;

    /// Observes a client notification (`notifications/initialized`, `notifications/progress`,
    /// `notifications/roots/list_changed`, …). The default ignores it.
    fn handle_notification(
        &self,
        ctx: RequestContext,
        method: String,
        params: Params,
    ) -> BoxFuture<'static, ()> {
        let _ = (ctx, method, params);
        Box::pin(async {})
    }

    /// Observes a client message the session dropped as invalid (`reason` says why, e.g. a
    /// request reusing an in-flight id); nothing was answered for it. The default ignores it.
    fn handle_invalid_message(&self, reason: &'static str, message: Message) {
        let _ = (reason, message);
    }
}

/// A server: its session configuration (info, instructions, features) and its handler. Cheap to
/// clone; one value serves any number of sessions.
#[derive(Clone)]
pub struct McpServer {
    config: ServerConfig,
    handler: Arc<dyn Handler>,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer").finish_non_exhaustive()
    }
}

/// What the transport knows about a session (for handlers).
#[derive(Debug, Clone, Default)]
pub struct SessionHandle {
    /// The transport's session id (SSE), if any.
    pub session_id: Option<String>,
    /// Headers of the request that opened the session (the SSE GET).
    pub request_headers: Option<Headers>,
}

/// What a session runner sends towards its client.
#[derive(Debug)]
pub enum Outbound {
    /// A message for the client.
    Message(Message),
    /// Acknowledge once every earlier message has been handed to the transport.
    Flush(async_channel::Sender<()>),
}

/// A message for a session runner.
#[derive(Debug)]
pub enum Inbound {
    /// A client message, with the headers of the POST that carried it (SSE).
    Message(Message, Option<Headers>),
    /// The server is shutting down: answer in-flight requests with an error, then ack through
    /// [`Outbound::Flush`] so the ack follows those answers.
    Shutdown(async_channel::Sender<()>),
}

impl McpServer {
    /// A server from a session configuration and a low-level handler.
    pub fn new(config: ServerConfig, handler: Arc<dyn Handler>) -> Self {
        McpServer { config, handler }
    }

    /// The session configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Runs one session until `inbound` closes (the client disconnected), then cancels what is
    /// still running and waits for it to finish. The queues are [`queue`]s, whose storage
    /// follows what they hold.
    pub async fn run_session(
        &self,
        rt: Rt,
        handle: SessionHandle,
        mut inbound: queue::Receiver<Inbound>,
        outbound: queue::Sender<Outbound>,
    ) {
        let outbound = OutboundTx(outbound);
        let core = Arc::new(SessionCore {
            rt,
            machine: Mutex::new(ServerSession::new(self.config.clone())),
            outbound,
            running: Mutex::new(HashMap::default()),
            idle: Event::new(),
            waiters: Mutex::new(HashMap::default()),
            client: Mutex::new(None),
            handler: self.handler.clone(),
            handle,
        });
        // Each message is handled synchronously; what has to wait comes back as a `Rest`, so no
        // message is held in this (long-lived, mostly idle) future while it waits.
        loop {
            let rest = match inbound.recv().await.ok() {
                None => break,
                Some(Inbound::Message(msg, headers)) => {
                    let now = Instant::now();
                    let (_, msgs, events) = core.with_machine(|m| m.handle_message(msg, now));
                    core.after(msgs, events, headers.map(Arc::new))
                }
                Some(Inbound::Shutdown(ack)) => {
                    // Rare and with a large state: boxed. The machine answers what is in
                    // flight and reports each as cancelled, which stops its handler.
                    let core = core.clone();
                    Rest(Some(Box::pin(async move {
                        let (_, msgs, events) = core.with_machine(|m| m.shutdown());
                        core.after(msgs, events, None).await;
                        core.outbound.send(Outbound::Flush(ack)).await;
                    })))
                }
            };
            rest.await;
        }
        // Disconnected: interrupt handlers, fail server→client requests, wait for the drain.
        let flags: Vec<Arc<CancelFlag>> = core.lock_running().values().cloned().collect();
        for f in flags {
            f.cancel();
        }
        let (_, _msgs, events) = core.with_machine(|m| m.handle_connection_lost());
        core.dispatch(events, None);
        core.wait_idle().await;
        core.outbound.close();
    }
}

/// The part of a step that could not finish at once (a full outbound queue): `None` when all is
/// done. Awaiting it finishes the step. Only the waiting case is boxed, so the futures that await
/// a `Rest` carry 8 bytes for it rather than the waiting state.
#[must_use = "awaiting finishes the step"]
struct Rest(Option<BoxFuture<'static, ()>>);

impl Future for Rest {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.0 {
            None => Poll::Ready(()),
            Some(f) => f.as_mut().poll(cx),
        }
    }
}

/// Where a session runner sends its messages to.
#[derive(Clone)]
struct OutboundTx(queue::Sender<Outbound>);

impl OutboundTx {
    /// Sends `item`, waiting while the queue is full; once the queue is closed the item is dropped
    /// (the client is gone: it cannot be delivered). Queued at once when there is room.
    fn send(&self, item: Outbound) -> Rest {
        match self.try_send(item) {
            Err(async_channel::TrySendError::Full(m)) => {
                let tx = self.clone();
                Rest(Some(Box::pin(async move { tx.send_waiting(m).await })))
            }
            _ => Rest(None),
        }
    }

    async fn send_waiting(&self, item: Outbound) {
        let _ = self.0.send(item).await;
    }

    #[allow(clippy::result_large_err)] // the item comes back to the caller, as in async_channel
    fn try_send(&self, item: Outbound) -> Result<(), async_channel::TrySendError<Outbound>> {
        self.0.try_send(item)
    }

    /// Queues `item` now if there is room, else sends it from a new task (never dropped while
    /// the queue is open); for callers that cannot wait (`Drop`).
    fn send_or_spawn(&self, rt: &Rt, item: Outbound) {
        if let Rest(Some(wait)) = self.send(item) {
            rt.spawn(wait);
        }
    }

    fn close(&self) {
        self.0.close();
    }
}

pub(crate) struct SessionCore {
    rt: Rt,
    machine: Mutex<ServerSession>,
    outbound: OutboundTx,
    running: Mutex<HashMap<RequestId, Arc<CancelFlag>>>,
    idle: Event,
    waiters: Mutex<HashMap<RequestId, async_channel::Sender<Result<Value, ErrorObject>>>>,
    client: Mutex<Option<ClientInfo>>,
    handler: Arc<dyn Handler>,
    handle: SessionHandle,
}

/// What the client said about itself in `initialize`.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// The negotiated protocol version.
    pub protocol_version: String,
    /// `clientInfo`.
    pub client_info: Value,
    /// `capabilities`.
    pub capabilities: Value,
}

impl SessionCore {
    fn lock_running(&self) -> MutexGuard<'_, HashMap<RequestId, Arc<CancelFlag>>> {
        relock(&self.running)
    }

    fn with_machine<T>(
        &self,
        f: impl FnOnce(&mut ServerSession) -> T,
    ) -> (T, Vec<Message>, Vec<ServerEvent>) {
        crate::locked::with_session(&self.machine, f)
    }

    /// Hands the machine's messages to the outbound queue, then dispatches its events. Done at
    /// once when the queue has room; when it is full, the rest (waiting for room, in order, then
    /// the events) is the returned [`Rest`].
    fn after(
        self: &Arc<Self>,
        msgs: Vec<Message>,
        events: Vec<ServerEvent>,
        headers: Option<Arc<Headers>>,
    ) -> Rest {
        let mut msgs = msgs.into_iter();
        while let Some(m) = msgs.next() {
            // A closed outbound means the client is gone; the message cannot be delivered.
            if let Err(async_channel::TrySendError::Full(first)) =
                self.outbound.try_send(Outbound::Message(m))
            {
                let this = self.clone();
                return Rest(Some(Box::pin(async move {
                    this.outbound.send_waiting(first).await;
                    for m in msgs {
                        this.outbound.send(Outbound::Message(m)).await;
                    }
                    this.dispatch(events, headers);
                })));
            }
        }
        self.dispatch(events, headers);
        Rest(None)
    }

    fn dispatch(self: &Arc<Self>, events: Vec<ServerEvent>, headers: Option<Arc<Headers>>) {
        for ev in events {
            match ev {
                ServerEvent::Initialized {
                    protocol_version,
                    client_info,
                    client_capabilities,
                } => {
                    *relock(&self.client) = Some(ClientInfo {
                        protocol_version,
                        client_info,
                        capabilities: client_capabilities,
                    });
                }
                ServerEvent::Request { id, method, params } => {
                    let flag = Arc::new(CancelFlag::new());
                    self.lock_running().insert(id.clone(), flag.clone());
                    let ctx = RequestContext::new(
                        self.clone(),
                        Some(id.clone()),
                        &params,
                        headers.clone(),
                    );
                    let fut = guard_panics(&*self.handler, ctx, method, params);
                    let this = self.clone();
                    crate::rt::run_or_spawn(
                        &self.rt,
                        Box::pin(async move {
                            let outcome = flag.run(fut).await;
                            if let Some(result) = outcome {
                                if !flag.is_cancelled() {
                                    let (_, msgs, events) =
                                        this.with_machine(|m| m.respond(id.clone(), result));
                                    this.after(msgs, events, None).await;
                                }
                            }
                            let mut running = this.lock_running();
                            running.remove(&id);
                            if running.is_empty() {
                                this.idle.notify(usize::MAX);
                            }
                        }),
                    );
                }
                ServerEvent::RequestCancelled { id } => {
                    if let Some(flag) = self.lock_running().get(&id) {
                        flag.cancel();
                    }
                }
                ServerEvent::Notification(n) => {
                    let ctx = RequestContext::new(self.clone(), None, &n.params, headers.clone());
                    let fut = self.handler.handle_notification(ctx, n.method, n.params);
                    self.rt.spawn(fut);
                }
                ServerEvent::ClientResponse { id, result } => {
                    if let Some(tx) = relock(&self.waiters).remove(&id) {
                        let _ = tx.try_send(result);
                    }
                }
                // Internal: the machine filters logging by it, and handlers read it through
                // `RequestContext::log_level`.
                ServerEvent::LogLevelChanged { .. } => {}
                ServerEvent::InvalidMessage { reason, message } => {
                    self.handler.handle_invalid_message(reason, message);
                }
            }
        }
    }

    async fn wait_idle(&self) {
        loop {
            event_listener::listener!(self.idle => l);
            if self.lock_running().is_empty() {
                return;
            }
            l.await;
        }
    }
}

/// What a handler gets: who is asking, and how to talk back to the client.
#[derive(Clone)]
pub struct RequestContext {
    core: Arc<SessionCore>,
    request_id: Option<RequestId>,
    meta: Option<Map<String, Value>>,
    headers: Option<Arc<Headers>>,
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("request_id", &self.request_id)
            .field("meta", &self.meta)
            .finish()
    }
}

impl RequestContext {
    fn new(
        core: Arc<SessionCore>,
        request_id: Option<RequestId>,
        params: &Params,
        headers: Option<Arc<Headers>>,
    ) -> Self {
        let meta = params
            .as_ref()
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.as_object())
            .cloned();
        RequestContext {
            core,
            request_id,
            meta,
            headers,
        }
    }

    /// The id of the request being handled (`None` for a notification).
    pub fn request_id(&self) -> Option<&RequestId> {
        self.request_id.as_ref()
    }

    /// The request's `params._meta`, unchanged.
    pub fn meta(&self) -> Option<&Map<String, Value>> {
        self.meta.as_ref()
    }

    /// The request's `progressToken`, if the client asked for progress.
    pub fn progress_token(&self) -> Option<&Value> {
        self.meta.as_ref().and_then(|m| m.get("progressToken"))
    }

    /// What the client said in `initialize` (once initialized).
    pub fn client(&self) -> Option<ClientInfo> {
        relock(&self.core.client).clone()
    }

    /// A header of the HTTP request that carried this message (SSE transport only).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .as_ref()
            .and_then(|h| h.get_str(name))
            .map(str::to_string)
    }

    /// The transport session id (SSE transport only).
    pub fn session_id(&self) -> Option<&str> {
        self.core.handle.session_id.as_deref()
    }

    /// Sleeps on the driver's timer (handlers are runtime-agnostic, so they sleep through here).
    pub async fn sleep(&self, duration: Duration) {
        self.core.rt.sleep_until(Instant::now() + duration).await;
    }

    /// The minimum level the client set with `logging/setLevel`, if any: [`log`](Self::log)
    /// below it sends nothing.
    pub fn log_level(&self) -> Option<LogLevel> {
        crate::locked::relock(&self.core.machine).log_level()
    }

    /// Sends a notification to the client.
    pub async fn notify(&self, method: &str, params: Params) {
        let (_, msgs, events) = self.core.with_machine(|m| m.notify(method, params));
        self.core.after(msgs, events, None).await;
    }

    /// Sends one of the notifications the session builds.
    async fn send(&self, notification: ServerNotification) {
        let (_, msgs, events) = self
            .core
            .with_machine(|m| m.send_notification(notification));
        self.core.after(msgs, events, None).await;
    }

    /// Sends `notifications/message` (dropped by the session if below the client's
    /// `logging/setLevel`).
    pub async fn log(&self, level: &str, logger: Option<&str>, data: Value) {
        self.send(ServerNotification::Log {
            level: level.to_string(),
            logger: logger.map(str::to_string),
            data,
        })
        .await;
    }

    /// Sends `notifications/progress` for this request; does nothing without a progress token.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = self.progress_token().cloned() else {
            return;
        };
        self.send(ServerNotification::Progress {
            token,
            progress,
            total,
            message: message.map(str::to_string),
        })
        .await;
    }

    /// Sends a server→client request and waits for its answer (or `timeout`: -32001).
    pub async fn request(
        &self,
        method: &str,
        params: Params,
        timeout: Option<Duration>,
    ) -> Result<Value, ErrorObject> {
        let (tx, rx) = async_channel::bounded(1);
        let now = Instant::now();
        let (id, msgs, events) = self.core.with_machine(|m| {
            let id = m.send_request(method, params, timeout, now)?;
            relock(&self.core.waiters).insert(id.clone(), tx);
            Ok::<_, mcp_sse_core::session::SessionError>(id)
        });
        let id = id.map_err(|e| e.to_error_object())?;
        // Dropping this future abandons the request: the client is told to cancel its callback.
        let mut guard = AbandonOnDrop {
            core: self.core.clone(),
            id: Some(id.clone()),
        };
        self.core.after(msgs, events, None).await;
        let deadline = timeout.map(|t| now + t);
        loop {
            match crate::rt::recv_until(&self.core.rt, &rx, deadline).await {
                crate::rt::Recv::Value(r) => {
                    guard.id = None;
                    return r;
                }
                crate::rt::Recv::Closed => {
                    guard.id = None;
                    relock(&self.core.waiters).remove(&id);
                    return Err(ErrorObject::connection_closed());
                }
                crate::rt::Recv::Deadline => {
                    // Let the machine expire the request: it answers -32001 through the waiter
                    // and tells the client with notifications/cancelled.
                    let (_, msgs, events) =
                        self.core.with_machine(|m| m.handle_timeout(Instant::now()));
                    self.core.after(msgs, events, None).await;
                    if let Ok(r) = rx.try_recv() {
                        guard.id = None;
                        return r;
                    }
                }
            }
        }
    }

    /// `sampling/createMessage`.
    pub async fn sample(&self, params: Map<String, Value>) -> Result<Value, ErrorObject> {
        self.request(rpc::CreateMessage::METHOD, Some(params), None)
            .await
    }

    /// `elicitation/create`.
    pub async fn elicit(&self, params: Map<String, Value>) -> Result<Value, ErrorObject> {
        self.request(rpc::Elicit::METHOD, Some(params), None).await
    }

    /// `roots/list`.
    pub async fn list_roots(&self) -> Result<Value, ErrorObject> {
        self.request(rpc::ListRoots::METHOD, None, None).await
    }

    /// A server→client `ping`.
    pub async fn ping(&self) -> Result<Value, ErrorObject> {
        self.request(rpc::Ping::METHOD, None, None).await
    }

    /// `notifications/tools/list_changed`.
    pub async fn tools_list_changed(&self) {
        self.send(ServerNotification::ToolsListChanged).await
    }

    /// `notifications/resources/list_changed`.
    pub async fn resources_list_changed(&self) {
        self.send(ServerNotification::ResourcesListChanged).await
    }

    /// `notifications/prompts/list_changed`.
    pub async fn prompts_list_changed(&self) {
        self.send(ServerNotification::PromptsListChanged).await
    }

    /// `notifications/resources/updated` for `uri`.
    pub async fn resource_updated(&self, uri: &str) {
        self.send(ServerNotification::ResourceUpdated {
            uri: uri.to_string(),
        })
        .await
    }
}

/// Starts a handler; a panic, while building its future or while running it, becomes `-32603`
/// with the panic message (DIVERGENCE 7: the reference answers code 0), so one faulty handler
/// never takes the session down.
fn guard_panics(
    handler: &dyn Handler,
    ctx: RequestContext,
    method: String,
    params: Params,
) -> BoxFuture<'static, Result<Value, ErrorObject>> {
    use futures_lite::FutureExt;
    use std::panic::AssertUnwindSafe;
    fn internal(p: Box<dyn std::any::Any + Send>) -> ErrorObject {
        let text = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned());
        ErrorObject::handler_panicked(text)
    }
    match std::panic::catch_unwind(AssertUnwindSafe(|| {
        handler.handle_request(ctx, method, params)
    })) {
        Ok(fut) => Box::pin(async move {
            AssertUnwindSafe(fut)
                .catch_unwind()
                .await
                .unwrap_or_else(|p| Err(internal(p)))
        }),
        Err(p) => Box::pin(async move { Err(internal(p)) }),
    }
}

/// Abandons a pending server→client request when the future awaiting it is dropped.
struct AbandonOnDrop {
    core: Arc<SessionCore>,
    id: Option<RequestId>,
}

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        relock(&self.core.waiters).remove(&id);
        let (_, msgs, _events) = self
            .core
            .with_machine(|m| m.cancel_request(&id, "caller cancelled"));
        for m in msgs {
            self.core
                .outbound
                .send_or_spawn(&self.core.rt, Outbound::Message(m));
        }
    }
}
