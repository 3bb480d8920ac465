//! The MCP client: drives the core's [`session::ClientSession`] over any message link (in-memory
//! or the SSE transport) and runs the caller's callbacks.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use foldhash::HashMap;
use mcp_sse_core::jsonrpc::{ErrorObject, Message, Notification, RequestId};
use mcp_sse_core::mcp::rpc::{self, RequestMethod};
use mcp_sse_core::session::{
    self, ClientEvent, ClientSession, OutputSchemas, Reconnect, ReconnectPolicy, ReconnectStep,
    RequestError as Error, RequestOptions, ServerRequestKind,
};
use mcp_sse_core::transport::ClientError;
use serde_json::{json, Value};

use crate::cancel::CancelFlag;
use crate::locked::relock;
use crate::rt::{recv_until, BoxFuture, Recv, Rt};
use crate::server::Params;

/// Answers a server→client request (sampling, roots, elicitation): params in, result or
/// JSON-RPC error out.
pub type RequestCallback =
    Arc<dyn Fn(Params) -> BoxFuture<'static, Result<Value, ErrorObject>> + Send + Sync>;
/// Receives the params of each `notifications/message`.
pub type LoggingCallback = Arc<dyn Fn(Value) -> BoxFuture<'static, ()> + Send + Sync>;
/// Receives every server notification and every transport-level problem.
pub type MessageHandler = Arc<dyn Fn(IncomingMessage) -> BoxFuture<'static, ()> + Send + Sync>;
/// Receives the client's session life-cycle ([`SessionEvent`]).
pub type SessionCallback = Arc<dyn Fn(SessionEvent) + Send + Sync>;
/// Opens a new transport to the same server for a reconnection: a fresh link, and what
/// closes it.
pub type Relink =
    Arc<dyn Fn() -> BoxFuture<'static, Result<(Link, Option<Closer>), Error>> + Send + Sync>;

/// A [`RequestCallback`] from a typed one: the params decoded as `R::Params` (the core's
/// [`rpc::decode_params`]), the result encoded back ([`rpc::encode_result`]).
fn typed_callback<R, F, Fut>(f: F) -> RequestCallback
where
    R: RequestMethod + 'static,
    F: Fn(R::Params) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<R::Result, ErrorObject>> + Send + 'static,
{
    Arc::new(move |params: Params| {
        let fut = rpc::decode_params::<R>(params).map(&f);
        Box::pin(async move { rpc::encode_result::<R>(&fut?.await?) })
    })
}

/// A change in the client's session, with [`ClientOptions::reconnect`] on.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// The event stream dropped: requests in flight failed with
    /// [`Error::SessionLost`]; a reconnection follows.
    Lost {
        /// Why the stream ended, as the transport said.
        cause: String,
    },
    /// A new session was opened and initialized (same client info and capabilities).
    Reconnected,
    /// The policy's tries ran out: the client is closed.
    GaveUp,
}

/// Receives `(progress, total, message)` for one request.
pub type ProgressCallback = Arc<dyn Fn(f64, Option<f64>, Option<String>) + Send + Sync>;

/// What reaches a [`MessageHandler`].
#[derive(Debug, Clone, PartialEq)]
pub enum IncomingMessage {
    /// A server notification (other than `notifications/cancelled`).
    Notification(Notification),
    /// A problem on the transport that did not end it (e.g. invalid JSON in a `message` event).
    TransportError(String),
}

/// The client's options, as the reference `Client` takes them.
#[derive(Clone)]
pub struct ClientOptions {
    /// Default timeout of every request (`None`: wait forever).
    pub read_timeout: Option<Duration>,
    /// Answers `sampling/createMessage`; its presence declares the `sampling` capability.
    pub sampling_callback: Option<RequestCallback>,
    /// Answers `roots/list`; its presence declares `roots: {listChanged: true}`.
    pub list_roots_callback: Option<RequestCallback>,
    /// Receives log notifications (before the message handler sees them too).
    pub logging_callback: Option<LoggingCallback>,
    /// Receives every notification and transport error.
    pub message_handler: Option<MessageHandler>,
    /// `clientInfo` (`{"name","version",…}`).
    pub client_info: Value,
    /// Answers `elicitation/create`; its presence declares `elicitation: {form: {}, url: {}}`.
    pub elicitation_callback: Option<RequestCallback>,
    /// The protocol version offered in `initialize`.
    pub protocol_version: String,
    /// Whether to reconnect when the event stream drops ([`ReconnectPolicy::Off`] by default:
    /// the client then ends, as the reference's). With a backoff policy, requests in flight
    /// fail at once with [`Error::SessionLost`] (never re-sent), and the client opens a
    /// new stream and runs `initialize` again; [`ClientOptions::on_session`] hears of it.
    /// Applies to the SSE transport (TCP and in process).
    pub reconnect: ReconnectPolicy,
    /// Receives [`SessionEvent`]s.
    pub on_session: Option<SessionCallback>,
    /// Whom to trust on `https://` URLs (`None`: the `webpki-roots`, as
    /// [`TlsClient::webpki`](crate::tls::TlsClient::webpki)).
    pub tls: Option<crate::tls::TlsClient>,
    /// The bearer token for the GET and every POST, from a provider that is asked again (once
    /// per `401`) when the server refuses it: see [`TokenProvider`](crate::TokenProvider).
    /// `None`: no `Authorization` beyond the transport configuration's headers.
    pub bearer: Option<crate::TokenProvider>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            read_timeout: None,
            sampling_callback: None,
            list_roots_callback: None,
            logging_callback: None,
            message_handler: None,
            client_info: json!({"name": "mcp-sse", "version": env!("CARGO_PKG_VERSION")}),
            elicitation_callback: None,
            protocol_version: session::LATEST_PROTOCOL_VERSION.to_string(),
            tls: None,
            bearer: None,
            reconnect: ReconnectPolicy::Off,
            on_session: None,
        }
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("read_timeout", &self.read_timeout)
            .field("client_info", &self.client_info)
            .field("protocol_version", &self.protocol_version)
            .finish_non_exhaustive()
    }
}

/// The session configuration `options` imply.
fn session_config(options: &ClientOptions) -> session::ClientConfig {
    session::ClientConfig {
        protocol_version: options.protocol_version.clone(),
        client_info: options.client_info.clone(),
        capabilities: options.capabilities(),
        default_timeout: options.read_timeout,
        handles_sampling: options.sampling_callback.is_some(),
        handles_roots: options.list_roots_callback.is_some(),
        handles_elicitation: options.elicitation_callback.is_some(),
        ..session::ClientConfig::default()
    }
}

impl ClientOptions {
    /// Answers `sampling/createMessage` with a typed callback (declares `sampling`). Params that
    /// do not fit [`CreateMessageRequestParams`](mcp_sse_core::mcp::CreateMessageRequestParams)
    /// are answered `-32602` without calling it.
    pub fn on_sampling<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(mcp_sse_core::mcp::CreateMessageRequestParams) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<
                Output = Result<mcp_sse_core::mcp::CreateMessageResult, ErrorObject>,
            > + Send
            + 'static,
    {
        self.sampling_callback = Some(typed_callback::<rpc::CreateMessage, _, _>(f));
        self
    }

    /// Answers `roots/list` with a typed callback (declares `roots: {listChanged: true}`).
    pub fn on_list_roots<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<mcp_sse_core::mcp::ListRootsResult, ErrorObject>>
            + Send
            + 'static,
    {
        self.list_roots_callback = Some(typed_callback::<rpc::ListRoots, _, _>(move |_| f()));
        self
    }

    /// Answers `elicitation/create` with a typed callback (declares `elicitation`, form and
    /// URL modes).
    pub fn on_elicitation<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(mcp_sse_core::mcp::ElicitRequestParams) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<mcp_sse_core::mcp::ElicitResult, ErrorObject>>
            + Send
            + 'static,
    {
        self.elicitation_callback = Some(typed_callback::<rpc::Elicit, _, _>(f));
        self
    }

    /// Receives each log message (`notifications/message`), typed; one whose params do not fit
    /// is not passed on (the message handler still sees it).
    pub fn on_log<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(mcp_sse_core::mcp::LoggingMessageNotificationParams) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let f = Arc::new(f);
        self.logging_callback = Some(Arc::new(move |v: Value| {
            let f = f.clone();
            Box::pin(async move {
                if let Ok(p) = serde_json::from_value(v) {
                    f(p).await;
                }
            })
        }));
        self
    }

    /// Receives every server notification and transport problem ([`IncomingMessage`]).
    pub fn on_message<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(IncomingMessage) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.message_handler = Some(Arc::new(move |m| Box::pin(f(m))));
        self
    }

    /// The default timeout of every request ([`ClientOptions::read_timeout`]).
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// The capabilities the callbacks declare.
    pub fn capabilities(&self) -> Value {
        session::ClientConfig::capabilities_for(
            self.sampling_callback.is_some(),
            self.elicitation_callback.is_some(),
            self.list_roots_callback.is_some(),
        )
    }
}

/// What a transport link delivers to the client.
#[derive(Debug)]
pub enum LinkItem {
    /// A server message.
    Message(Message),
    /// A message that could not be parsed; the link goes on.
    Invalid(String),
    /// The message that carried this request could not be delivered: fail exactly it, with
    /// the transport's reason.
    SendFailed(RequestId, ClientError),
}

/// The two ends a transport gives the client: messages out, items in. The link is finished
/// when `inbound` closes.
#[derive(Debug)]
pub struct Link {
    /// Messages to the server.
    pub outbound: crate::queue::Sender<Message>,
    /// Everything from the server.
    pub inbound: crate::queue::Receiver<LinkItem>,
}

/// Per-call options.
#[derive(Clone, Default)]
pub struct CallOptions {
    /// Timeout of this call (overrides [`ClientOptions::read_timeout`]).
    pub timeout: Option<Duration>,
    /// Called for each progress notification of this call; its presence adds a
    /// `progressToken`.
    pub progress: Option<ProgressCallback>,
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Ends a transport and waits for the server side to unwind.
pub type Closer = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

struct Waiter {
    tx: async_channel::Sender<Result<Value, Error>>,
    progress: Option<ProgressCallback>,
}

struct Inner {
    rt: Rt,
    machine: Mutex<ClientSession>,
    /// The current link's outbound queue (replaced by a reconnection).
    outbound: Mutex<crate::queue::Sender<Message>>,
    waiters: Mutex<HashMap<RequestId, Waiter>>,
    server_requests: Mutex<HashMap<RequestId, Arc<CancelFlag>>>,
    options: ClientOptions,
    initialize_result: Mutex<Option<Value>>,
    closer: Mutex<Option<Closer>>,
    reader_done: CancelFlag,
    /// Set by `close` (or the last clone's drop): no reconnection after it.
    closing: CancelFlag,
    /// How to open a new transport, when reconnection is possible.
    relink: Option<Relink>,
    /// Whether a reconnection's handshake is running (a link that ends then is a failed try,
    /// not a lost session).
    reconnecting: std::sync::atomic::AtomicBool,
    /// The reconnection schedule.
    schedule: Mutex<Reconnect>,
    /// The last transport problem reported (the cause of a lost session).
    last_transport_error: Mutex<Option<String>>,
    /// Server messages the session dropped as invalid ([`Client::invalid_messages`]).
    invalid_messages: std::sync::atomic::AtomicU64,
    /// The tools' output schemas from `tools/list`, to check `tools/call` results against.
    output_schemas: Mutex<OutputSchemas>,
}

/// A connected MCP client. Cheap to clone; all clones share the session.
///
/// Dropping the last clone ends the connection as [`Client::close`] does, without waiting: the
/// transport closes, the server removes the session and cancels its handlers.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    _owner: Arc<Owner>,
}

/// Shared by every clone of a [`Client`]; the last one dropped closes the link. (The reader task
/// keeps `Inner` alive while the link is open, so `Inner` itself cannot do this.)
struct Owner {
    inner: Arc<Inner>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.inner.closing.cancel();
        self.inner.outbound().close();
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a client over `link` and performs the `initialize` handshake. `closer` runs on
    /// [`Client::close`] (it ends the transport and waits for the server side to unwind).
    pub async fn start(
        rt: Rt,
        link: Link,
        options: ClientOptions,
        closer: Option<Closer>,
    ) -> Result<Client, Error> {
        Self::start_with(rt, link, options, closer, None).await
    }

    /// [`Client::start`], able to reconnect through `relink` when
    /// [`ClientOptions::reconnect`] says so.
    pub async fn start_with(
        rt: Rt,
        link: Link,
        options: ClientOptions,
        closer: Option<Closer>,
        relink: Option<Relink>,
    ) -> Result<Client, Error> {
        let config = session_config(&options);
        let schedule = Reconnect::new(options.reconnect);
        let inner = Arc::new(Inner {
            rt: rt.clone(),
            machine: Mutex::new(ClientSession::new(config)),
            outbound: Mutex::new(link.outbound),
            waiters: Mutex::new(HashMap::default()),
            server_requests: Mutex::new(HashMap::default()),
            options,
            initialize_result: Mutex::new(None),
            closer: Mutex::new(closer),
            reader_done: CancelFlag::new(),
            invalid_messages: std::sync::atomic::AtomicU64::new(0),
            closing: CancelFlag::new(),
            relink,
            reconnecting: std::sync::atomic::AtomicBool::new(false),
            schedule: Mutex::new(schedule),
            last_transport_error: Mutex::new(None),
            output_schemas: Mutex::new(OutputSchemas::new()),
        });
        let reader = inner.clone();
        let inbound = link.inbound;
        rt.spawn(Box::pin(async move { reader.read_loop(inbound).await }));
        let client = Client {
            _owner: Arc::new(Owner {
                inner: inner.clone(),
            }),
            inner,
        };
        match client.inner.handshake().await {
            Ok(()) => Ok(client),
            Err(e) => {
                client.close().await;
                Err(e)
            }
        }
    }

    /// How many server messages the session dropped as unusable (e.g. `notifications/progress`
    /// without a numeric `progress`, a duplicate server request id, an error with a `null` id),
    /// as the reference drops them after a warning. Unparseable bytes are reported to the
    /// message handler instead, as [`IncomingMessage::TransportError`].
    pub fn invalid_messages(&self) -> u64 {
        self.inner
            .invalid_messages
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `f` on the cache of the tools' output schemas (see [`OutputSchemas`]).
    pub(crate) fn output_schemas<T>(&self, f: impl FnOnce(&mut OutputSchemas) -> T) -> T {
        f(&mut relock(&self.inner.output_schemas))
    }

    /// The server's `initialize` result.
    pub fn initialize_result(&self) -> Option<Value> {
        relock(&self.inner.initialize_result).clone()
    }

    /// Sends a request and waits for its raw JSON result: the escape hatch under the typed
    /// methods ([`Client::call_tool`], …), for any method. Dropping the future cancels the
    /// request (`notifications/cancelled` with reason `caller cancelled`). The [`Error`] says
    /// why it failed; [`Error::to_error_object`] gives the JSON-RPC form.
    pub async fn request(
        &self,
        method: &str,
        params: Params,
        opts: CallOptions,
    ) -> Result<Value, Error> {
        let (tx, rx) = async_channel::bounded(1);
        let now = Instant::now();
        let ropts = RequestOptions {
            timeout: opts.timeout,
            progress: opts.progress.is_some(),
        };
        let inner = &self.inner;
        let (res, msgs, events) = inner.with_machine(|m| {
            let r = m.send_request(method, params, ropts, now);
            if let Ok(id) = &r {
                relock(&inner.waiters).insert(
                    id.clone(),
                    Waiter {
                        tx,
                        progress: opts.progress.clone(),
                    },
                );
            }
            r
        });
        let id = res?;
        let mut guard = CancelOnDrop {
            inner: self.inner.clone(),
            id: Some(id.clone()),
        };
        inner.after(msgs, events).await;
        let deadline = opts.timeout.or(inner.options.read_timeout).map(|t| now + t);
        let result = inner.wait(&id, &rx, deadline).await;
        guard.id = None;
        result
    }

    /// Sends a notification.
    pub async fn notify(&self, method: &str, params: Params) -> Result<(), Error> {
        let (res, msgs, events) = self
            .inner
            .with_machine(|m| m.send_notification(method, params));
        res?;
        self.inner.after(msgs, events).await;
        Ok(())
    }

    /// Closes the connection and waits until the server side has unwound. Pending requests fail
    /// with [`Error::Closed`].
    pub async fn close(&self) {
        self.inner.closing.cancel();
        let closer = relock(&self.inner.closer).take();
        self.inner.outbound().close();
        if let Some(c) = closer {
            c().await;
        }
        self.inner.reader_done.cancelled().await;
    }
}

struct CancelOnDrop {
    inner: Arc<Inner>,
    id: Option<RequestId>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            relock(&self.inner.waiters).remove(&id);
            let (_, msgs, _events) = self
                .inner
                .with_machine(|m| m.cancel(&id, "caller cancelled"));
            for m in msgs {
                let tx = self.inner.outbound();
                if let Err(async_channel::TrySendError::Full(m)) = tx.try_send(m) {
                    self.inner.rt.spawn(Box::pin(async move {
                        let _ = tx.send(m).await;
                    }));
                }
            }
        }
    }
}

impl Inner {
    fn with_machine<T>(
        &self,
        f: impl FnOnce(&mut ClientSession) -> T,
    ) -> (T, Vec<Message>, Vec<ClientEvent>) {
        crate::locked::with_session(&self.machine, f)
    }

    fn outbound(&self) -> crate::queue::Sender<Message> {
        relock(&self.outbound).clone()
    }

    /// Sends `initialize` on the current session and waits for its result (bounded by the
    /// read timeout).
    async fn handshake(self: &Arc<Self>) -> Result<(), Error> {
        let (tx, rx) = async_channel::bounded(1);
        let now = Instant::now();
        let (id, msgs, events) = self.with_machine(|m| m.initialize(now));
        let id = id?;
        relock(&self.waiters).insert(id.clone(), Waiter { tx, progress: None });
        self.after(msgs, events).await;
        let deadline = self.options.read_timeout.map(|t| now + t);
        let v = self.wait(&id, &rx, deadline).await?;
        *relock(&self.initialize_result) = Some(v);
        // A new session (after a reconnection) may list other tools: forget the old schemas.
        *relock(&self.output_schemas) = OutputSchemas::new();
        Ok(())
    }

    fn tell(&self, event: SessionEvent) {
        crate::trace::event!(info, event = ?event, "client session");
        if let Some(cb) = &self.options.on_session {
            cb(event);
        }
    }

    async fn after(self: &Arc<Self>, msgs: Vec<Message>, events: Vec<ClientEvent>) {
        if !msgs.is_empty() {
            let out = self.outbound();
            for m in msgs {
                if out.send(m).await.is_err() {
                    break;
                }
            }
        }
        self.dispatch(events).await;
    }

    async fn wait(
        self: &Arc<Self>,
        id: &RequestId,
        rx: &async_channel::Receiver<Result<Value, Error>>,
        mut deadline: Option<Instant>,
    ) -> Result<Value, Error> {
        loop {
            match recv_until(&self.rt, rx, deadline).await {
                Recv::Value(r) => return r,
                Recv::Closed => {
                    relock(&self.waiters).remove(id);
                    return Err(Error::Closed);
                }
                Recv::Deadline => {
                    let (next, msgs, events) = self.with_machine(|m| {
                        m.handle_timeout(Instant::now());
                        m.poll_timeout()
                    });
                    self.after(msgs, events).await;
                    if let Ok(r) = rx.try_recv() {
                        return r;
                    }
                    deadline = next;
                }
            }
        }
    }

    fn dispatch(self: &Arc<Self>, events: Vec<ClientEvent>) -> BoxFuture<'static, ()> {
        let this = self.clone();
        Box::pin(async move {
            for ev in events {
                match ev {
                    ClientEvent::Response { id, result } => {
                        if let Some(w) = relock(&this.waiters).remove(&id) {
                            let _ = w.tx.try_send(result);
                        }
                    }
                    ClientEvent::Progress {
                        id,
                        progress,
                        total,
                        message,
                        ..
                    } => {
                        let cb = relock(&this.waiters)
                            .get(&id)
                            .and_then(|w| w.progress.clone());
                        if let Some(cb) = cb {
                            cb(progress, total, message);
                        }
                    }
                    ClientEvent::ServerRequest { id, kind, params } => {
                        let cb = match kind {
                            ServerRequestKind::Sampling => this.options.sampling_callback.clone(),
                            ServerRequestKind::ListRoots => {
                                this.options.list_roots_callback.clone()
                            }
                            ServerRequestKind::Elicitation => {
                                this.options.elicitation_callback.clone()
                            }
                        };
                        let flag = Arc::new(CancelFlag::new());
                        relock(&this.server_requests).insert(id.clone(), flag.clone());
                        let me = this.clone();
                        this.rt.spawn(Box::pin(async move {
                            let result = match cb {
                                Some(cb) => flag.run(cb(params)).await,
                                // The session only asks for kinds it was told we handle, and
                                // those flags come from these very callbacks.
                                None => Some(Err(ErrorObject::method_not_found(kind.method()))),
                            };
                            relock(&me.server_requests).remove(&id);
                            if let Some(result) = result {
                                let (_, msgs, events) = me.with_machine(|m| m.respond(id, result));
                                me.after(msgs, events).await;
                            }
                        }));
                    }
                    ClientEvent::ServerRequestCancelled { id } => {
                        if let Some(flag) = relock(&this.server_requests).get(&id) {
                            flag.cancel();
                        }
                    }
                    ClientEvent::LogMessage(n) => {
                        if let Some(cb) = &this.options.logging_callback {
                            let p = n.params.clone().map(Value::Object).unwrap_or(Value::Null);
                            cb(p).await;
                        }
                        if let Some(h) = &this.options.message_handler {
                            h(IncomingMessage::Notification(n)).await;
                        }
                    }
                    ClientEvent::Notification(n) => {
                        if let Some(h) = &this.options.message_handler {
                            h(IncomingMessage::Notification(n)).await;
                        }
                    }
                    ClientEvent::InvalidMessage { reason, .. } => {
                        crate::trace::event!(warn, reason, "dropped an invalid server message");
                        let _ = reason;
                        this.invalid_messages
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    // Internal: the handshake's outcome reaches `Client::start` as the
                    // `initialize` request's own `Response`, just before these.
                    ClientEvent::Initialized { .. } | ClientEvent::InitializeFailed(_) => {}
                }
            }
        })
    }

    /// Reads the link until it ends, then closes the client or starts a reconnection (boxed:
    /// a reconnection starts a new reader).
    fn read_loop(
        self: Arc<Self>,
        mut inbound: crate::queue::Receiver<LinkItem>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            while let Ok(item) = inbound.recv().await {
                match item {
                    LinkItem::Message(msg) => {
                        let now = Instant::now();
                        let (_, msgs, events) = self.with_machine(|m| m.handle_message(msg, now));
                        self.after(msgs, events).await;
                    }
                    LinkItem::Invalid(text) => {
                        *relock(&self.last_transport_error) = Some(text.clone());
                        if let Some(h) = &self.options.message_handler {
                            h(IncomingMessage::TransportError(text)).await;
                        }
                    }
                    LinkItem::SendFailed(id, error) => {
                        let (_, msgs, events) = self.with_machine(|m| m.fail_request(&id, error));
                        self.after(msgs, events).await;
                    }
                }
            }
            use std::sync::atomic::Ordering;
            if self.reconnecting.load(Ordering::SeqCst) {
                // A reconnection's link ended during its handshake: that try failed; the
                // reconnection task, waiting for the handshake, goes on from there.
                self.fail_all(Error::Closed).await;
                return;
            }
            let reconnect = self.relink.is_some()
                && relock(&self.schedule).enabled()
                && !self.closing.is_cancelled();
            if !reconnect {
                self.fail_all(Error::Closed).await;
                self.reader_done.cancel();
                return;
            }
            let cause = relock(&self.last_transport_error)
                .take()
                .unwrap_or_else(|| "the event stream ended".to_string());
            self.fail_all(Error::SessionLost {
                cause: cause.clone(),
            })
            .await;
            self.tell(SessionEvent::Lost { cause });
            let step = relock(&self.schedule).handle_lost(Instant::now());
            let this = self.clone();
            self.rt
                .spawn(Box::pin(async move { this.reconnect_from(step).await }));
        })
    }

    /// Fails what the lost link leaves: the session's pending requests (with `error`), anyone
    /// still waiting, and the handlers of server requests.
    async fn fail_all(self: &Arc<Self>, error: Error) {
        let (_, _msgs, events) =
            self.with_machine(|m| m.handle_connection_lost_with(error.clone()));
        self.dispatch(events).await;
        // Anything still waiting (e.g. registered after the loss) fails too.
        let rest: Vec<Waiter> = relock(&self.waiters).drain().map(|(_, w)| w).collect();
        for w in rest {
            let _ = w.tx.try_send(Err(error.clone()));
        }
        let flags: Vec<Arc<CancelFlag>> = relock(&self.server_requests).values().cloned().collect();
        for f in flags {
            f.cancel();
        }
    }

    /// Reconnects on the schedule: a new link, a fresh session, `initialize` again; gives up
    /// (closing the client) when the policy says so or the client is closed meanwhile.
    async fn reconnect_from(self: Arc<Self>, mut step: ReconnectStep) {
        use std::sync::atomic::Ordering;
        let Some(relink) = self.relink.clone() else {
            self.reader_done.cancel();
            return;
        };
        loop {
            let at = match step {
                ReconnectStep::GiveUp => break,
                ReconnectStep::RetryAt(at) => at,
            };
            let closed = futures_lite::future::or(
                async {
                    self.rt.sleep_until(at).await;
                    false
                },
                async {
                    self.closing.cancelled().await;
                    true
                },
            )
            .await;
            if closed {
                self.reader_done.cancel();
                return;
            }
            let attempt = match relink().await {
                Ok((link, closer)) => {
                    *relock(&self.machine) = ClientSession::new(session_config(&self.options));
                    *relock(&self.outbound) = link.outbound;
                    *relock(&self.closer) = closer;
                    self.reconnecting.store(true, Ordering::SeqCst);
                    let reader = self.clone();
                    let inbound = link.inbound;
                    self.rt
                        .spawn(Box::pin(async move { reader.read_loop(inbound).await }));
                    let r = self.handshake().await;
                    self.reconnecting.store(false, Ordering::SeqCst);
                    if r.is_err() {
                        // Ends that link; its reader sees `reconnecting` off and the client
                        // closing or not: close it quietly first.
                        self.outbound().close();
                    }
                    r
                }
                Err(e) => Err(e),
            };
            if self.closing.is_cancelled() {
                self.reader_done.cancel();
                return;
            }
            match attempt {
                Ok(()) => {
                    relock(&self.schedule).handle_connected();
                    self.tell(SessionEvent::Reconnected);
                    return;
                }
                Err(_) => step = relock(&self.schedule).handle_failed(Instant::now()),
            }
        }
        self.tell(SessionEvent::GaveUp);
        self.closing.cancel();
        self.reader_done.cancel();
    }
}
