//! Drives the core's [`ServerEndpoint`] over byte connections (and over in-memory message
//! links): one lock for the machine, a reader and a writer task per connection woken by the
//! endpoint's [`IoEvent`]s, one timer task armed for exactly
//! [`ServerEndpoint::poll_timeout`], and the application dispatch that turns
//! [`EndpointEvent`]s into [`Handler`](crate::Handler) futures, started outside the lock.
//!
//! Every decision (routing, sessions, backpressure, timeouts, shutdown, the protocol's answers)
//! is the endpoint's; this module only moves bytes and messages and runs handlers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use event_listener::Event;
use foldhash::HashMap;
use mcp_sse_core::endpoint::{
    EndpointConfig, EndpointError, EndpointEvent, IoEvent, ServerEndpoint, DIRECT_QUEUE_MESSAGES,
};
use mcp_sse_core::http::Headers;
use mcp_sse_core::jsonrpc::{ErrorObject, Message, Notification, RequestId};
use mcp_sse_core::session::LogLevel;
use mcp_sse_core::transport::{self, ConnectionId, SessionId};
use serde_json::Value;

use crate::bus::{Cluster, ClusterOptions};
use crate::cancel::CancelFlag;
use crate::client::LinkItem;
use crate::io::{ByteWrite, Connection};
use crate::queue;
use crate::rt::Rt;
use crate::server::{guard_panics, ClientInfo, McpServer, Params, RequestContext, RequestData};

/// The reason the client is given when a handler drops its wait for a server→client request.
const ABANDONED: &str = "caller cancelled";

pub(crate) struct ConnSignal {
    /// The endpoint has output for this connection (`IoEvent::Transmit`), or it closed.
    pub(crate) wake: Event,
    /// Reading may resume (`IoEvent::Readable`, output taken), or it closed.
    pub(crate) readable: Event,
}

/// What the driver keeps per live session: the handlers it runs and the requests it awaits.
struct SessionState {
    /// The session id as the client sees it (SSE sessions only).
    session_id: Option<Arc<str>>,
    client: Option<ClientInfo>,
    /// Running handlers, by client request id.
    running: HashMap<RequestId, Arc<CancelFlag>>,
    /// Handlers awaiting the answer to a server→client request.
    waiters: HashMap<RequestId, async_channel::Sender<Result<Value, ErrorObject>>>,
    /// Notified on `EndpointEvent::Writable`, on direct output being taken, and on close.
    writable: Arc<Event>,
    /// A direct session's output signal (`IoEvent::Direct`), for its writer task.
    direct: Option<Arc<Event>>,
    /// The endpoint closed it; it leaves the table once its handlers have finished.
    closed: bool,
}

impl SessionState {
    fn new(session_id: Option<Arc<str>>, direct: bool) -> Self {
        SessionState {
            session_id,
            client: None,
            running: HashMap::default(),
            waiters: HashMap::default(),
            writable: Arc::new(Event::new()),
            direct: direct.then(|| Arc::new(Event::new())),
            closed: false,
        }
    }
}

pub(crate) struct State {
    pub(crate) endpoint: ServerEndpoint,
    pub(crate) conns: HashMap<ConnectionId, Arc<ConnSignal>>,
    /// What a host server attached to an exchange, for the handlers of the messages it carried.
    pub(crate) request_data: HashMap<ConnectionId, RequestData>,
    sessions: HashMap<SessionId, SessionState>,
    /// What the timer task sleeps until (`None` while it has nothing to wait for).
    timer_armed: Option<Instant>,
    /// The session bus, when scaled out ([`SseServer::attach_cluster`]).
    cluster: Option<Cluster>,
}

/// Application work the endpoint's events asked for, started once the lock is released (user
/// code never runs under it).
pub(crate) enum Work {
    Request {
        session: SessionId,
        session_id: Option<Arc<str>>,
        id: RequestId,
        method: String,
        params: Params,
        headers: Headers,
        data: Option<RequestData>,
        flag: Arc<CancelFlag>,
    },
    Notification {
        session: SessionId,
        session_id: Option<Arc<str>>,
        notification: Notification,
        headers: Headers,
        data: Option<RequestData>,
    },
    Invalid {
        reason: &'static str,
        message: Message,
    },
    /// A foreign POST to run on the bus (`None`: no bus attached).
    Foreign {
        connection: ConnectionId,
        session: SessionId,
        frame: Option<bytes::Bytes>,
        bus: Option<(Arc<dyn crate::bus::SessionBus>, Arc<async_lock::Semaphore>)>,
    },
}

/// Where a direct session's messages go.
pub(crate) enum DirectSink {
    /// A [`Client`](crate::Client)'s link.
    Link(queue::Sender<LinkItem>),
    /// Bare messages.
    Messages(queue::Sender<Message>),
}

impl DirectSink {
    async fn send(&self, m: Message) -> bool {
        match self {
            DirectSink::Link(tx) => tx.send(LinkItem::Message(m)).await.is_ok(),
            DirectSink::Messages(tx) => tx.send(m).await.is_ok(),
        }
    }
}

/// A legacy HTTP+SSE MCP server: feed it connections with [`SseServer::serve_connection`].
pub struct SseServer {
    rt: Rt,
    mcp: McpServer,
    state: Mutex<State>,
    /// Wakes the timer task: a deadline earlier than `timer_armed` appeared, or the server is
    /// being dropped.
    timer_kick: Arc<Event>,
    /// Notified whenever a session ends.
    session_ended: Event,
    /// Notified whenever a connection is closed.
    connection_closed: Event,
    timer_started: AtomicBool,
}

impl Drop for SseServer {
    fn drop(&mut self) {
        // The timer task may be waiting for a kick with no deadline: let it see the server go.
        self.timer_kick.notify(usize::MAX);
    }
}

impl std::fmt::Debug for SseServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseServer").finish_non_exhaustive()
    }
}

impl SseServer {
    /// A server with the given transport configuration and MCP server. `random` yields 16
    /// random bytes per session id.
    pub fn new(
        rt: Rt,
        mcp: McpServer,
        config: transport::ServerConfig,
        random: Box<dyn FnMut() -> [u8; 16] + Send>,
    ) -> Arc<Self> {
        let config = EndpointConfig {
            transport: config,
            session: mcp.config().clone(),
            ..EndpointConfig::default()
        };
        Arc::new(SseServer {
            rt,
            mcp,
            state: Mutex::new(State {
                endpoint: ServerEndpoint::new(config, random),
                conns: HashMap::default(),
                request_data: HashMap::default(),
                sessions: HashMap::default(),
                timer_armed: None,
                cluster: None,
            }),
            timer_kick: Arc::new(Event::new()),
            session_ended: Event::new(),
            connection_closed: Event::new(),
            timer_started: AtomicBool::new(false),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        crate::locked::relock(&self.state)
    }

    pub(crate) fn rt(&self) -> &Rt {
        &self.rt
    }

    /// The Host/Origin checks in force (resolved from the transport configuration's
    /// [`Security`](transport::Security) and listening address).
    pub fn security(&self) -> transport::SecuritySettings {
        self.lock().endpoint.transport().security().clone()
    }

    /// Live sessions.
    pub fn session_count(&self) -> usize {
        self.lock().endpoint.session_count()
    }

    /// Open connections.
    pub fn connection_count(&self) -> usize {
        self.lock().endpoint.connection_count()
    }

    /// Whether `session` is live.
    pub fn has_session(&self, session: SessionId) -> bool {
        self.lock().endpoint.has_session(session)
    }

    /// Waits until `session` is no longer live, and its handlers have finished.
    pub async fn wait_session_closed(&self, session: SessionId) {
        loop {
            event_listener::listener!(self.session_ended => listener);
            {
                let st = self.lock();
                if !st.endpoint.has_session(session) && !st.sessions.contains_key(&session) {
                    return;
                }
            }
            listener.await;
        }
    }

    /// Waits until no session is left (and every handler has finished).
    pub async fn wait_idle(&self) {
        loop {
            event_listener::listener!(self.session_ended => listener);
            {
                let st = self.lock();
                if st.endpoint.session_count() == 0 && st.sessions.is_empty() {
                    return;
                }
            }
            listener.await;
        }
    }

    /// Waits until every connection has been flushed and closed, for at most `timeout` (a peer
    /// that stops reading could hold a connection open for ever). `false` if some remain.
    pub async fn wait_connections_closed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            event_listener::listener!(self.connection_closed => closed);
            if self.connection_count() == 0 {
                return true;
            }
            let expired = futures_lite::future::or(
                async {
                    closed.await;
                    false
                },
                async {
                    self.rt.sleep_until(deadline).await;
                    true
                },
            )
            .await;
            if expired {
                return self.connection_count() == 0;
            }
        }
    }

    /// Ends every stream cleanly (in-flight requests answered with a JSON-RPC error, queued
    /// messages flushed, then the final chunk) and refuses new requests
    /// ([`ServerEndpoint::shutdown`]).
    pub async fn shutdown(self: &Arc<Self>) {
        self.ensure_timer();
        let work = {
            let mut st = self.lock();
            st.endpoint.shutdown(Instant::now());
            self.pump(&mut st)
        };
        self.run(work);
    }

    /// Serves one connection until it closes.
    pub async fn serve_connection(self: &Arc<Self>, conn: Connection) {
        let (mut reader, writer) = conn;
        self.ensure_timer();
        let signal = Arc::new(ConnSignal {
            wake: Event::new(),
            readable: Event::new(),
        });
        let (id, work) = {
            let mut st = self.lock();
            let id = st.endpoint.open_connection(Instant::now());
            st.conns.insert(id, signal.clone());
            (id, self.pump(&mut st))
        };
        self.run(work);
        let this = self.clone();
        let wsignal = signal.clone();
        self.rt.spawn(Box::pin(async move {
            this.write_loop(id, wsignal, writer).await
        }));
        loop {
            // Backpressure: the endpoint says when this connection may be read.
            loop {
                event_listener::listener!(signal.readable => listener);
                let (readable, open) = {
                    let st = self.lock();
                    (st.endpoint.wants_read(id), st.conns.contains_key(&id))
                };
                if !open {
                    return;
                }
                if readable {
                    break;
                }
                listener.await;
            }
            match reader.read().await {
                Ok(Some(bytes)) => {
                    let work = {
                        let mut st = self.lock();
                        if !st.conns.contains_key(&id) {
                            break;
                        }
                        st.endpoint.handle_bytes(id, bytes, Instant::now());
                        wake_if_closing(&st, id);
                        self.pump(&mut st)
                    };
                    self.run(work);
                }
                Ok(None) => {
                    let work = {
                        let mut st = self.lock();
                        st.endpoint.handle_eof(id, Instant::now());
                        wake_if_closing(&st, id);
                        self.pump(&mut st)
                    };
                    self.run(work);
                    break;
                }
                Err(_) => {
                    self.close_conn(id);
                    break;
                }
            }
        }
    }

    pub(crate) fn close_conn(self: &Arc<Self>, id: ConnectionId) {
        let work = {
            let mut st = self.lock();
            st.endpoint.handle_close(id);
            st.request_data.remove(&id);
            if let Some(sig) = st.conns.remove(&id) {
                sig.wake.notify(usize::MAX);
                sig.readable.notify(usize::MAX);
            }
            self.pump(&mut st)
        };
        self.connection_closed.notify(usize::MAX);
        self.run(work);
    }

    async fn write_loop(
        self: Arc<Self>,
        id: ConnectionId,
        signal: Arc<ConnSignal>,
        mut writer: Box<dyn ByteWrite>,
    ) {
        loop {
            event_listener::listener!(signal.wake => listener);
            let (bufs, close, gone, work) = {
                let mut st = self.lock();
                let gone = !st.conns.contains_key(&id);
                let mut bufs = Vec::new();
                let now = Instant::now();
                while let Some(b) = st.endpoint.poll_transmit(id, now) {
                    bufs.push(b);
                }
                let close = st.endpoint.wants_close(id);
                // Taking output can resume held-back work (see `poll_transmit`).
                (bufs, close, gone, self.pump(&mut st))
            };
            self.run(work);
            if !bufs.is_empty() {
                if writer.write(bufs).await.is_err() {
                    self.close_conn(id);
                    return;
                }
                // The endpoint may read this connection again now that its replies are taken.
                signal.readable.notify(usize::MAX);
            }
            if close || gone {
                let _ = writer.close().await;
                self.close_conn(id);
                return;
            }
            listener.await;
        }
    }

    /// Opens a session with no HTTP stream: client messages come from `inbound` (the session
    /// ends when it closes), what the server sends goes to `outbound`. Returns the session.
    pub(crate) fn open_direct(
        self: &Arc<Self>,
        mut inbound: queue::Receiver<Message>,
        outbound: DirectSink,
    ) -> SessionId {
        self.ensure_timer();
        let (session, signal, writable) = {
            let mut st = self.lock();
            let session = st.endpoint.open_direct_session(Instant::now());
            let state = SessionState::new(None, true);
            let signal = state.direct.clone().unwrap_or_default();
            let writable = state.writable.clone();
            st.sessions.insert(session, state);
            (session, signal, writable)
        };
        // Reader: client messages into the endpoint, while the session can take them.
        let this = self.clone();
        let rwritable = writable.clone();
        self.rt.spawn(Box::pin(async move {
            loop {
                let message = match inbound.recv().await {
                    Ok(m) => m,
                    Err(_) => break,
                };
                loop {
                    event_listener::listener!(rwritable => listener);
                    if !this.lock().endpoint.is_held_back(session) {
                        break;
                    }
                    listener.await;
                }
                let work = {
                    let mut st = this.lock();
                    if st
                        .endpoint
                        .handle_direct_message(session, message, Instant::now())
                        .is_err()
                    {
                        break;
                    }
                    this.pump(&mut st)
                };
                this.run(work);
            }
            let work = {
                let mut st = this.lock();
                st.endpoint.close_direct_session(session);
                this.pump(&mut st)
            };
            this.run(work);
        }));
        // Writer: the session's messages out, in order, at most a queue's worth at a time.
        let this = self.clone();
        self.rt.spawn(Box::pin(async move {
            loop {
                event_listener::listener!(signal => listener);
                let (msgs, gone, work) = {
                    let mut st = this.lock();
                    let mut msgs = Vec::new();
                    while msgs.len() < DIRECT_QUEUE_MESSAGES {
                        match st.endpoint.poll_direct(session) {
                            Some(m) => msgs.push(m),
                            None => break,
                        }
                    }
                    let gone = st.sessions.get(&session).is_none_or(|s| s.closed);
                    (msgs, gone, this.pump(&mut st))
                };
                this.run(work);
                let full = msgs.len() == DIRECT_QUEUE_MESSAGES;
                let any = !msgs.is_empty();
                for m in msgs {
                    if !outbound.send(m).await {
                        // The client is gone: its reader ends the session.
                        return;
                    }
                }
                if any {
                    // The reader may feed the session again.
                    writable.notify(usize::MAX);
                }
                if full {
                    continue;
                }
                if gone {
                    return;
                }
                listener.await;
            }
        }));
        session
    }

    /// Starts the timer task once: it sleeps until [`ServerEndpoint::poll_timeout`] (or a
    /// kick, when a call moved the deadline earlier), runs `handle_timeout`, and ends once the
    /// server is dropped. It holds only a weak reference while it sleeps.
    pub(crate) fn ensure_timer(self: &Arc<Self>) {
        if self.timer_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak = Arc::downgrade(self);
        let kick = self.timer_kick.clone();
        let rt = self.rt.clone();
        self.rt.spawn(Box::pin(async move {
            loop {
                event_listener::listener!(kick => kicked);
                let wake = {
                    let Some(this) = weak.upgrade() else { return };
                    let mut st = this.lock();
                    let wake = st.endpoint.poll_timeout();
                    st.timer_armed = wake;
                    wake
                };
                match wake {
                    Some(at) => futures_lite::future::or(rt.sleep_until(at), kicked).await,
                    None => kicked.await,
                }
                let Some(this) = weak.upgrade() else { return };
                let work = {
                    let mut st = this.lock();
                    let now = Instant::now();
                    if st.endpoint.poll_timeout().is_some_and(|at| at <= now) {
                        st.endpoint.handle_timeout(now, SystemTime::now());
                    }
                    this.pump(&mut st)
                };
                this.run(work);
            }
        }));
    }

    /// Acts on everything the endpoint has to say, under the lock: I/O instructions wake the
    /// connections' tasks, protocol events update the session table (cancel flags, answers to
    /// waiting handlers) and become [`Work`] to start once the lock is released. Called after
    /// every call into the endpoint.
    pub(crate) fn pump(&self, st: &mut State) -> Vec<Work> {
        let mut work = Vec::new();
        loop {
            while let Some(io) = st.endpoint.poll_io() {
                match io {
                    IoEvent::Transmit(c) => {
                        if let Some(sig) = st.conns.get(&c) {
                            sig.wake.notify(1);
                        }
                    }
                    IoEvent::Readable(c) => {
                        if let Some(sig) = st.conns.get(&c) {
                            sig.readable.notify(usize::MAX);
                        }
                    }
                    IoEvent::Rejected { status, reason, .. } => {
                        crate::trace::event!(warn, status, reason, "request rejected");
                        #[cfg(not(feature = "tracing"))]
                        let _ = (status, reason);
                    }
                    IoEvent::Direct(s) => {
                        if let Some(sig) = st.sessions.get(&s).and_then(|s| s.direct.as_ref()) {
                            sig.notify(1);
                        }
                    }
                }
            }
            let Some(ev) = st.endpoint.poll_event() else {
                break;
            };
            self.on_event(st, ev, &mut work);
        }
        // A deadline earlier than the one the timer sleeps until: wake it to re-arm.
        if let Some(at) = st.endpoint.poll_timeout() {
            if st.timer_armed.is_none_or(|armed| at < armed) {
                st.timer_armed = Some(at);
                self.timer_kick.notify(1);
            }
        }
        work
    }

    fn on_event(&self, st: &mut State, ev: EndpointEvent, work: &mut Vec<Work>) {
        match ev {
            EndpointEvent::SessionOpened { session, .. } => {
                crate::trace::event!(debug, session = %session, "session opened");
                let id: Arc<str> = Arc::from(session.to_string());
                st.sessions
                    .insert(session, SessionState::new(Some(id), false));
                if let Some(c) = &mut st.cluster {
                    c.opened(session);
                }
            }
            EndpointEvent::Initialized {
                session,
                protocol_version,
                client_info,
                client_capabilities,
            } => {
                if let Some(s) = st.sessions.get_mut(&session) {
                    s.client = Some(ClientInfo {
                        protocol_version,
                        client_info,
                        capabilities: client_capabilities,
                    });
                }
            }
            EndpointEvent::Request {
                session,
                id,
                method,
                params,
                headers,
                connection,
            } => {
                let data = connection.and_then(|c| st.request_data.get(&c).cloned());
                let Some(s) = st.sessions.get_mut(&session) else {
                    return;
                };
                // Registered under the lock: a cancellation drained by another task finds it.
                let flag = Arc::new(CancelFlag::new());
                s.running.insert(id.clone(), flag.clone());
                work.push(Work::Request {
                    session,
                    session_id: s.session_id.clone(),
                    id,
                    method,
                    params,
                    headers,
                    data,
                    flag,
                });
            }
            EndpointEvent::RequestCancelled { session, id, .. } => {
                if let Some(flag) = st.sessions.get(&session).and_then(|s| s.running.get(&id)) {
                    flag.cancel();
                }
            }
            EndpointEvent::Notification {
                session,
                notification,
                headers,
                connection,
            } => {
                let data = connection.and_then(|c| st.request_data.get(&c).cloned());
                let session_id = st.sessions.get(&session).and_then(|s| s.session_id.clone());
                work.push(Work::Notification {
                    session,
                    session_id,
                    notification,
                    headers,
                    data,
                });
            }
            EndpointEvent::Response {
                session,
                id,
                result,
            } => {
                if let Some(tx) = st
                    .sessions
                    .get_mut(&session)
                    .and_then(|s| s.waiters.remove(&id))
                {
                    let _ = tx.try_send(result);
                }
            }
            // Internal: the endpoint filters logging by it, and handlers read it through
            // `RequestContext::log_level`.
            EndpointEvent::LogLevelChanged { .. } => {}
            EndpointEvent::InvalidMessage {
                reason, message, ..
            } => work.push(Work::Invalid { reason, message }),
            EndpointEvent::ForeignPost {
                connection,
                session,
                frame,
            } => work.push(Work::Foreign {
                connection,
                session,
                frame,
                bus: st
                    .cluster
                    .as_ref()
                    .map(|c| (c.bus.clone(), c.permits.clone())),
            }),
            EndpointEvent::Writable { session } => {
                if let Some(s) = st.sessions.get(&session) {
                    s.writable.notify(usize::MAX);
                }
            }
            EndpointEvent::SessionClosed { session } => {
                crate::trace::event!(debug, session = %session, "session closed");
                if let Some(c) = &mut st.cluster {
                    c.closed(session);
                }
                if let Some(s) = st.sessions.get_mut(&session) {
                    s.closed = true;
                    // Their `Response`s came first; a late waiter sees the channel close.
                    s.waiters.clear();
                    s.writable.notify(usize::MAX);
                    if let Some(d) = &s.direct {
                        d.notify(usize::MAX);
                    }
                    if s.running.is_empty() {
                        st.sessions.remove(&session);
                    }
                }
                self.session_ended.notify(usize::MAX);
            }
        }
    }

    /// Starts the work the endpoint's events asked for (outside the lock).
    pub(crate) fn run(self: &Arc<Self>, work: Vec<Work>) {
        for w in work {
            match w {
                Work::Request {
                    session,
                    session_id,
                    id,
                    method,
                    params,
                    headers,
                    data,
                    flag,
                } => {
                    let headers = (!headers.is_empty()).then(|| Arc::new(headers));
                    let ctx = RequestContext::new(
                        self.clone(),
                        session,
                        session_id,
                        Some(id.clone()),
                        &params,
                        headers,
                    )
                    .with_data(data);
                    #[cfg(feature = "tracing")]
                    let (span, started) = (
                        tracing::info_span!(target: "mcp_sse", "request", session = %session, id = %id, method = %method),
                        Instant::now(),
                    );
                    let fut = guard_panics(&**self.mcp.handler(), ctx, method, params);
                    #[cfg(feature = "tracing")]
                    let fut = tracing::Instrument::instrument(fut, span.clone());
                    let this = self.clone();
                    crate::rt::run_or_spawn(
                        &self.rt,
                        Box::pin(async move {
                            let outcome = flag.run(fut).await;
                            let result = outcome.filter(|_| !flag.is_cancelled());
                            #[cfg(feature = "tracing")]
                            span.in_scope(|| {
                                let outcome = match &result {
                                    None => "cancelled",
                                    Some(Ok(_)) => "ok",
                                    Some(Err(_)) => "error",
                                };
                                let micros = started.elapsed().as_micros() as u64;
                                tracing::debug!(target: "mcp_sse", outcome, micros, "request done");
                            });
                            this.complete(session, id, result);
                        }),
                    );
                }
                Work::Notification {
                    session,
                    session_id,
                    notification,
                    headers,
                    data,
                } => {
                    let headers = (!headers.is_empty()).then(|| Arc::new(headers));
                    let ctx = RequestContext::new(
                        self.clone(),
                        session,
                        session_id,
                        None,
                        &notification.params,
                        headers,
                    )
                    .with_data(data);
                    let fut = self.mcp.handler().handle_notification(
                        ctx,
                        notification.method,
                        notification.params,
                    );
                    crate::rt::run_or_spawn(&self.rt, fut);
                }
                Work::Invalid { reason, message } => {
                    crate::trace::event!(warn, reason, "dropped an invalid client message");
                    self.mcp.handler().handle_invalid_message(reason, message);
                }
                Work::Foreign {
                    connection,
                    session,
                    frame,
                    bus,
                } => {
                    let this = self.clone();
                    self.rt.spawn(Box::pin(async move {
                        let outcome = match bus {
                            Some((bus, permits)) => {
                                crate::bus::forward(bus, permits, session, frame).await
                            }
                            None => Err(crate::bus::BusError("no session bus attached".into())),
                        };
                        // A failed bus call is the core's `Unavailable` (503); the registry
                        // hears of it and reconnects on its schedule.
                        let outcome = outcome.unwrap_or_else(|_e| {
                            crate::trace::event!(warn, error = %_e, "forwarding a POST failed");
                            this.with_cluster(|c| {
                                c.registry.connection_lost(Instant::now());
                                c.kick.notify(1);
                            });
                            transport::ForeignOutcome::Unavailable
                        });
                        this.resolve_foreign(connection, outcome);
                    }));
                }
            }
        }
    }

    /// A handler finished: its answer (unless it was cancelled) goes to the endpoint, and a
    /// closed session whose last handler this was leaves the table. One lock.
    fn complete(
        self: &Arc<Self>,
        session: SessionId,
        id: RequestId,
        result: Option<Result<Value, ErrorObject>>,
    ) {
        let mut ended = false;
        let work = {
            let mut st = self.lock();
            if let Some(result) = result {
                // `NotInFlight`: cancelled or answered by the shutdown meanwhile.
                let _ = st.endpoint.respond(session, id.clone(), result);
            }
            if let Some(s) = st.sessions.get_mut(&session) {
                s.running.remove(&id);
                if s.closed && s.running.is_empty() {
                    st.sessions.remove(&session);
                    ended = true;
                }
            }
            self.pump(&mut st)
        };
        if ended {
            self.session_ended.notify(usize::MAX);
        }
        self.run(work);
    }

    /// Scales this server out on `options.bus`: registers its sessions there (and renews
    /// and unregisters them on the registry's schedule), delivers the messages other
    /// instances forward to it, and forwards the foreign POSTs its transport reports (with
    /// the transport's [`foreign`](transport::ServerConfig::foreign) setting). Call once,
    /// before serving.
    pub fn attach_cluster(self: &Arc<Self>, options: &ClusterOptions) {
        {
            let mut st = self.lock();
            if st.cluster.is_some() {
                return;
            }
            let mut cluster = Cluster::new(options);
            let live: Vec<SessionId> = st
                .sessions
                .iter()
                .filter(|(_, s)| s.session_id.is_some() && !s.closed)
                .map(|(id, _)| *id)
                .collect();
            for session in live {
                cluster.opened(session);
            }
            st.cluster = Some(cluster);
        }
        let weak = Arc::downgrade(self);
        self.rt
            .spawn(Box::pin(crate::bus::registry_task(weak.clone())));
        self.rt.spawn(Box::pin(crate::bus::subscription_task(weak)));
    }

    /// Runs `f` on the attached bus state (`None` without one).
    pub(crate) fn with_cluster<R>(&self, f: impl FnOnce(&mut Cluster) -> R) -> Option<R> {
        self.lock().cluster.as_mut().map(f)
    }

    /// Whether the session bus is connected (`None`: no bus attached).
    pub fn bus_connected(&self) -> Option<bool> {
        self.with_cluster(|c| c.registry.is_connected())
    }

    /// Waits, at most `timeout`, until the session bus is connected and this instance
    /// subscribed (the registry's [`is_ready`](mcp_sse_core::cluster::Registry::is_ready)):
    /// before that, POSTs needing another instance are answered `503`. `false` on timeout or
    /// without a bus. For announcing readiness; serving does not wait for it.
    pub async fn wait_bus_ready(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let Some((ready, changed)) =
                self.with_cluster(|c| (c.registry.is_ready(), c.changed.clone()))
            else {
                return false;
            };
            event_listener::listener!(changed => listener);
            if ready || self.with_cluster(|c| c.registry.is_ready()) == Some(true) {
                return true;
            }
            let expired = futures_lite::future::or(
                async {
                    listener.await;
                    false
                },
                async {
                    self.rt.sleep_until(deadline).await;
                    true
                },
            )
            .await;
            if expired {
                return self.with_cluster(|c| c.registry.is_ready()) == Some(true);
            }
        }
    }

    /// A frame another instance forwarded: into the endpoint (which drops what is not for
    /// one of its sessions).
    pub(crate) fn handle_forwarded(self: &Arc<Self>, frame: &[u8]) {
        let work = {
            let mut st = self.lock();
            if let Err(_e) = st.endpoint.handle_forwarded(frame, Instant::now()) {
                crate::trace::event!(debug, error = %_e, "dropped a forwarded message");
            }
            self.pump(&mut st)
        };
        self.run(work);
    }

    fn resolve_foreign(
        self: &Arc<Self>,
        connection: ConnectionId,
        outcome: transport::ForeignOutcome,
    ) {
        let work = {
            let mut st = self.lock();
            st.endpoint
                .resolve_foreign(connection, outcome, Instant::now());
            wake_if_closing(&st, connection);
            if let Some(sig) = st.conns.get(&connection) {
                sig.readable.notify(usize::MAX);
            }
            self.pump(&mut st)
        };
        self.run(work);
    }

    pub(crate) fn client_info(&self, session: SessionId) -> Option<ClientInfo> {
        self.lock()
            .sessions
            .get(&session)
            .and_then(|s| s.client.clone())
    }

    pub(crate) fn principal(&self, session: SessionId) -> Option<transport::Principal> {
        self.lock().endpoint.transport().principal(session).cloned()
    }

    /// The handler of the server this transport serves.
    pub(crate) fn mcp_handler(&self) -> Arc<dyn crate::server::Handler> {
        self.mcp.handler().clone()
    }

    pub(crate) fn log_level(&self, session: SessionId) -> Option<LogLevel> {
        self.lock()
            .endpoint
            .session(session)
            .and_then(|s| s.log_level())
    }

    /// Runs `call` on the endpoint; while it is refused because the session's outbound queue
    /// is full, waits for the endpoint's `Writable` and tries again (backpressure on the
    /// handler, nothing lost). Gives up silently once the session is gone.
    pub(crate) async fn notify_waiting(
        self: &Arc<Self>,
        session: SessionId,
        mut call: impl FnMut(&mut ServerEndpoint, SessionId) -> Result<bool, EndpointError>,
    ) {
        loop {
            let listener = {
                let mut st = self.lock();
                let refused = call(&mut st.endpoint, session).is_err_and(|e| e.is_outbound_full());
                // Registered under the lock: the `Writable` cannot come in between.
                let listener = if refused {
                    st.sessions.get(&session).map(|s| s.writable.listen())
                } else {
                    None
                };
                let work = self.pump(&mut st);
                drop(st);
                self.run(work);
                listener
            };
            match listener {
                Some(listener) => listener.await,
                None => return,
            }
        }
    }

    /// A server→client request on `session`; the endpoint resolves it exactly once
    /// (`EndpointEvent::Response`, its timeout fired by the timer task).
    pub(crate) async fn request(
        self: &Arc<Self>,
        session: SessionId,
        method: &str,
        params: Params,
        timeout: Option<Duration>,
    ) -> Result<Value, ErrorObject> {
        let (tx, rx) = async_channel::bounded(1);
        let id = loop {
            let (outcome, listener) = {
                let mut st = self.lock();
                let outcome = st.endpoint.send_request(
                    session,
                    method,
                    params.clone(),
                    timeout,
                    Instant::now(),
                );
                let listener = match &outcome {
                    Ok(id) => {
                        if let Some(s) = st.sessions.get_mut(&session) {
                            s.waiters.insert(id.clone(), tx.clone());
                        }
                        None
                    }
                    // Registered under the lock: the `Writable` cannot come in between.
                    Err(e) if e.is_outbound_full() => {
                        st.sessions.get(&session).map(|s| s.writable.listen())
                    }
                    Err(_) => None,
                };
                let work = self.pump(&mut st);
                drop(st);
                self.run(work);
                (outcome, listener)
            };
            match (outcome, listener) {
                (Ok(id), _) => break id,
                (Err(_), Some(listener)) => listener.await,
                (Err(e), None) => return Err(e.to_error_object()),
            }
        };
        drop(tx);
        // Dropping this future abandons the request: the client is told to cancel its callback.
        let mut guard = AbandonOnDrop {
            server: self.clone(),
            session,
            id: Some(id),
        };
        let result = rx.recv().await;
        guard.id = None;
        result.unwrap_or_else(|_| Err(ErrorObject::connection_closed()))
    }

    fn abandon(self: &Arc<Self>, session: SessionId, id: RequestId) {
        let work = {
            let mut st = self.lock();
            if let Some(s) = st.sessions.get_mut(&session) {
                s.waiters.remove(&id);
            }
            let _ = st.endpoint.cancel_request(session, &id, ABANDONED);
            self.pump(&mut st)
        };
        self.run(work);
    }
}

/// Abandons a pending server→client request when the future awaiting it is dropped.
struct AbandonOnDrop {
    server: Arc<SseServer>,
    session: SessionId,
    id: Option<RequestId>,
}

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.server.abandon(self.session, id);
        }
    }
}

fn wake_if_closing(st: &State, id: ConnectionId) {
    if st.endpoint.wants_close(id) || st.endpoint.transport().queued_bytes(id) > 0 {
        if let Some(sig) = st.conns.get(&id) {
            sig.wake.notify(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{BoxFuture, Runtime};
    use bytes::Bytes;

    /// A runtime that never runs what it is given: the test drives the server by hand.
    struct Inert;

    impl Runtime for Inert {
        fn spawn(&self, _fut: BoxFuture<'static, ()>) {}
        fn sleep_until(&self, _deadline: Instant) -> BoxFuture<'static, ()> {
            Box::pin(std::future::pending())
        }
        fn connect_tcp(
            &self,
            _host: String,
            _port: u16,
        ) -> BoxFuture<'static, std::io::Result<Connection>> {
            Box::pin(async { Err(std::io::ErrorKind::Unsupported.into()) })
        }
    }

    #[test]
    fn a_message_pumped_by_another_task_before_its_session_opened_is_not_lost() {
        // Task A feeds the GET and, before it pumps the endpoint's events, task B feeds and
        // pumps a POST for that session. B's pump must register the session before it
        // handles the message's work, and the answer must reach the stream.
        let server = SseServer::new(
            Arc::new(Inert),
            crate::ServerBuilder::new("t", "1").build(),
            transport::ServerConfig::default(),
            Box::new(|| [3; 16]),
        );
        let now = Instant::now();
        let mut st = server.lock();
        let a = st.endpoint.open_connection(now);
        let get = b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n";
        st.endpoint.handle_bytes(a, Bytes::from_static(get), now);
        let session = SessionId::from_random_bytes([3; 16]);
        assert!(
            st.endpoint.has_session(session),
            "the GET opened the session"
        );
        let b = st.endpoint.open_connection(now);
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
        let post = format!(
            "POST /messages/?session_id={session} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        st.endpoint.handle_bytes(b, Bytes::from(post), now);
        let work = server.pump(&mut st);
        assert!(work.is_empty(), "ping is answered by the session machine");
        assert!(st.sessions.contains_key(&session), "B's pump registered it");
        let mut stream = Vec::new();
        while let Some(bytes) = st.endpoint.poll_transmit(a, now) {
            stream.extend_from_slice(&bytes);
        }
        let stream = String::from_utf8_lossy(&stream);
        assert!(
            stream.contains(r#"data: {"jsonrpc":"2.0","id":1,"result":{}}"#),
            "the answer reached the stream: {stream}"
        );
        // A's pump finds nothing left to do.
        assert!(server.pump(&mut st).is_empty());
    }
}
