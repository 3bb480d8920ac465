//! Runs the core's [`transport::Server`] over byte connections: one reader and one writer task
//! per connection, a timer task, and one MCP session per SSE stream.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use event_listener::Event;
use mcp_sse_core::transport::{self, ConnectionId, SendError, ServerEvent, SessionId};

use crate::io::{ByteWrite, Connection};
use crate::queue;
use crate::rt::Rt;
use crate::server::{Inbound, McpServer, Outbound, SessionHandle};

/// Longest the timer task sleeps before looking at the machine's deadlines again: a deadline that
/// appears while it sleeps fires at most this late.
pub const TIMER_RESOLUTION: Duration = Duration::from_millis(250);

/// Bound, in messages, of one session's queue between its MCP session and the transport (and of
/// its inbound queue). The queues' storage grows with what they hold, up to this bound, and is
/// released when they drain (an idle session holds no slots); the transport's per-session byte
/// bound (`max_session_queue_bytes`) is the real limit behind it.
pub const SESSION_OUTBOUND_MESSAGES: usize = 16;

struct ConnSignal {
    wake: Event,
    /// Notified when the writer has taken output (the reader may resume, see
    /// `transport::Server::wants_read`) or the connection closed.
    drained: Event,
}

struct State {
    machine: transport::Server,
    conns: HashMap<ConnectionId, Arc<ConnSignal>>,
    sessions: HashMap<SessionId, SessionSlot>,
}

struct SessionSlot {
    inbound: queue::Sender<Inbound>,
    writable: Arc<Event>,
}

/// A legacy HTTP+SSE MCP server: feed it connections with [`SseServer::serve_connection`].
pub struct SseServer {
    rt: Rt,
    mcp: McpServer,
    state: Mutex<State>,
    /// Notified whenever a session ends.
    session_ended: Event,
    shutting_down: AtomicBool,
    timer_started: AtomicBool,
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
        Arc::new(SseServer {
            rt,
            mcp,
            state: Mutex::new(State {
                machine: transport::Server::new(config, random),
                conns: HashMap::new(),
                sessions: HashMap::new(),
            }),
            session_ended: Event::new(),
            shutting_down: AtomicBool::new(false),
            timer_started: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Live sessions in the transport's table.
    pub fn session_count(&self) -> usize {
        self.lock().machine.session_count()
    }

    /// Open connections.
    pub fn connection_count(&self) -> usize {
        self.lock().machine.connection_count()
    }

    /// Whether `session` is live.
    pub fn has_session(&self, session: SessionId) -> bool {
        self.lock().machine.has_session(session)
    }

    /// Waits until `session` is no longer in the table, and its MCP session has finished.
    pub async fn wait_session_closed(&self, session: SessionId) {
        loop {
            event_listener::listener!(self.session_ended => listener);
            {
                let st = self.lock();
                if !st.machine.has_session(session) && !st.sessions.contains_key(&session) {
                    return;
                }
            }
            listener.await;
        }
    }

    /// Waits until no session is left.
    pub async fn wait_idle(&self) {
        loop {
            event_listener::listener!(self.session_ended => listener);
            {
                let st = self.lock();
                if st.machine.session_count() == 0 && st.sessions.is_empty() {
                    return;
                }
            }
            listener.await;
        }
    }

    /// Ends every stream cleanly (queued messages flushed, then the final chunk) and refuses
    /// new requests. In-flight requests are answered with a JSON-RPC error first.
    pub async fn shutdown(self: &Arc<Self>) {
        self.shutting_down.store(true, Ordering::SeqCst);
        let sessions: Vec<(SessionId, queue::Sender<Inbound>)> = self
            .lock()
            .sessions
            .iter()
            .map(|(k, v)| (*k, v.inbound.clone()))
            .collect();
        // Ask each MCP session to fail its in-flight requests and flush.
        let mut acks = Vec::new();
        for (_, tx) in &sessions {
            let (ack_tx, ack_rx) = async_channel::bounded(1);
            if tx.send(Inbound::Shutdown(ack_tx)).await.is_ok() {
                acks.push(ack_rx);
            }
        }
        for ack in acks {
            let _ = ack.recv().await;
        }
        let events = {
            let mut st = self.lock();
            st.machine.shutdown();
            drain(&mut st)
        };
        self.dispatch(events);
    }

    /// Serves one connection until it closes.
    pub async fn serve_connection(self: &Arc<Self>, conn: Connection) {
        let (mut reader, writer) = conn;
        self.ensure_timer();
        let signal = Arc::new(ConnSignal {
            wake: Event::new(),
            drained: Event::new(),
        });
        let id = {
            let mut st = self.lock();
            let id = st.machine.open_connection(Instant::now());
            st.conns.insert(id, signal.clone());
            id
        };
        let this = self.clone();
        let wsignal = signal.clone();
        self.rt.spawn(Box::pin(async move {
            this.write_loop(id, wsignal, writer).await
        }));
        loop {
            // Backpressure: while the peer does not read its answers, do not read its requests.
            loop {
                event_listener::listener!(signal.drained => listener);
                let (readable, open) = {
                    let st = self.lock();
                    (st.machine.wants_read(id), st.conns.contains_key(&id))
                };
                if readable || !open {
                    break;
                }
                listener.await;
            }
            match reader.read().await {
                Ok(Some(bytes)) => {
                    let events = {
                        let mut st = self.lock();
                        if !st.conns.contains_key(&id) {
                            break;
                        }
                        st.machine.handle_bytes(id, bytes, Instant::now());
                        wake_if_closing(&st, id);
                        drain(&mut st)
                    };
                    self.dispatch(events);
                }
                Ok(None) => {
                    let events = {
                        let mut st = self.lock();
                        st.machine.handle_eof(id, Instant::now());
                        wake_if_closing(&st, id);
                        drain(&mut st)
                    };
                    self.dispatch(events);
                    break;
                }
                Err(_) => {
                    self.close_conn(id);
                    break;
                }
            }
        }
        drop(reader);
    }

    fn close_conn(self: &Arc<Self>, id: ConnectionId) {
        let events = {
            let mut st = self.lock();
            st.machine.handle_close(id);
            if let Some(sig) = st.conns.remove(&id) {
                sig.wake.notify(usize::MAX);
                sig.drained.notify(usize::MAX);
            }
            drain(&mut st)
        };
        self.dispatch(events);
    }

    async fn write_loop(
        self: Arc<Self>,
        id: ConnectionId,
        signal: Arc<ConnSignal>,
        mut writer: Box<dyn ByteWrite>,
    ) {
        loop {
            event_listener::listener!(signal.wake => listener);
            let (bufs, close, gone) = {
                let mut st = self.lock();
                let gone = !st.conns.contains_key(&id);
                let mut bufs = Vec::new();
                while let Some(b) = st.machine.poll_transmit(id) {
                    bufs.push(b);
                }
                let close = st.machine.wants_close(id);
                let events = drain(&mut st);
                drop(st);
                self.dispatch(events);
                (bufs, close, gone)
            };
            if !bufs.is_empty() {
                if writer.write(bufs).await.is_err() {
                    self.close_conn(id);
                    return;
                }
                signal.drained.notify(usize::MAX);
            }
            if close || gone {
                let _ = writer.close().await;
                self.close_conn(id);
                return;
            }
            listener.await;
        }
    }

    fn ensure_timer(self: &Arc<Self>) {
        if self.timer_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak = Arc::downgrade(self);
        let rt = self.rt.clone();
        self.rt.spawn(Box::pin(async move {
            loop {
                let now = Instant::now();
                let Some(this) = weak.upgrade() else { return };
                let deadline = this.lock().machine.poll_timeout();
                drop(this);
                let wake = match deadline {
                    Some(d) if d < now + TIMER_RESOLUTION => d,
                    _ => now + TIMER_RESOLUTION,
                };
                rt.sleep_until(wake).await;
                let Some(this) = weak.upgrade() else { return };
                let events = {
                    let mut st = this.lock();
                    let ids: Vec<ConnectionId> = st.conns.keys().copied().collect();
                    st.machine.handle_timeout(Instant::now(), SystemTime::now());
                    for id in ids {
                        wake_if_closing(&st, id);
                    }
                    drain(&mut st)
                };
                this.dispatch(events);
            }
        }));
    }

    fn dispatch(self: &Arc<Self>, events: Vec<ServerEvent>) {
        for ev in events {
            match ev {
                ServerEvent::Transmit { connection } => {
                    let st = self.lock();
                    if let Some(sig) = st.conns.get(&connection) {
                        sig.wake.notify(1);
                    }
                }
                ServerEvent::SessionOpened {
                    session, request, ..
                } => {
                    let (tx, rx) = queue::bounded(SESSION_OUTBOUND_MESSAGES);
                    let (out_tx, out_rx) = queue::bounded::<Outbound>(SESSION_OUTBOUND_MESSAGES);
                    let writable = Arc::new(Event::new());
                    self.lock().sessions.insert(
                        session,
                        SessionSlot {
                            inbound: tx,
                            writable: writable.clone(),
                        },
                    );
                    let handle = SessionHandle {
                        session_id: Some(session.to_string()),
                        request_headers: Some(request.headers),
                    };
                    let this = self.clone();
                    let rt = self.rt.clone();
                    self.rt.spawn(Box::pin(async move {
                        this.mcp.run_queued(rt, handle, rx, out_tx).await;
                        let mut st = this.lock();
                        st.sessions.remove(&session);
                        drop(st);
                        this.session_ended.notify(usize::MAX);
                    }));
                    let this = self.clone();
                    self.rt.spawn(Box::pin(async move {
                        this.session_writer(session, out_rx, writable).await
                    }));
                }
                ServerEvent::Message {
                    session,
                    message,
                    headers,
                } => {
                    let tx = self
                        .lock()
                        .sessions
                        .get(&session)
                        .map(|s| s.inbound.clone());
                    if let Some(tx) = tx {
                        // The channel is bounded; a full session makes this POST's processing
                        // wait (the 202 has already been queued, as in the reference).
                        if let Err(async_channel::TrySendError::Full(m)) =
                            tx.try_send(Inbound::Message(message, Some(headers)))
                        {
                            self.rt.spawn(Box::pin(async move {
                                let _ = tx.send(m).await;
                            }));
                        }
                    }
                }
                ServerEvent::SessionClosed { session } => {
                    let slot = self
                        .lock()
                        .sessions
                        .get(&session)
                        .map(|s| (s.inbound.clone(), s.writable.clone()));
                    if let Some((tx, writable)) = slot {
                        tx.close();
                        writable.notify(usize::MAX);
                    }
                    self.session_ended.notify(usize::MAX);
                }
                ServerEvent::Writable { session } => {
                    if let Some(s) = self.lock().sessions.get(&session) {
                        s.writable.notify(usize::MAX);
                    }
                }
            }
        }
    }

    async fn session_writer(
        self: Arc<Self>,
        session: SessionId,
        mut out: queue::Receiver<Outbound>,
        writable: Arc<Event>,
    ) {
        // Allocated by the first message, not by an idle session; then reused (releasing it after
        // each large message made sequential 1 MiB echoes ~35% slower).
        let mut json = Vec::new();
        loop {
            // The message is serialized and dropped within this statement: it is not kept in
            // this future while it waits.
            let message = match out.recv().await {
                Err(_) => return,
                Ok(Outbound::Flush(ack)) => {
                    let _ = ack.try_send(());
                    false
                }
                Ok(Outbound::Message(msg)) => {
                    json.clear();
                    msg.write_to(&mut json);
                    true
                }
            };
            if !message {
                continue;
            }
            loop {
                event_listener::listener!(writable => listener);
                let (res, events) = {
                    let mut st = self.lock();
                    let r = st.machine.send_json(session, &json);
                    (r, drain(&mut st))
                };
                self.dispatch(events);
                match res {
                    Ok(()) => break,
                    Err(SendError::UnknownSession) => {
                        // The stream is gone: drop what is left (the client cannot get it).
                        out.close();
                        return;
                    }
                    Err(SendError::QueueFull { .. }) => listener.await,
                }
            }
        }
    }
}

fn drain(st: &mut State) -> Vec<ServerEvent> {
    let mut v = Vec::new();
    while let Some(e) = st.machine.poll_event() {
        v.push(e);
    }
    v
}

fn wake_if_closing(st: &State, id: ConnectionId) {
    if st.machine.wants_close(id) || st.machine.queued_bytes(id) > 0 {
        if let Some(sig) = st.conns.get(&id) {
            sig.wake.notify(1);
        }
    }
}
