//! Runs the core's [`transport::Server`] over byte connections: one reader and one writer task
//! per connection, a timer task, and one MCP session per SSE stream.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use event_listener::Event;
use foldhash::HashMap;
use mcp_sse_core::transport::{self, ConnectionId, SendError, ServerEvent, SessionId};

use crate::io::{ByteWrite, Connection};
use crate::queue;
use crate::rt::Rt;
use crate::server::{Inbound, McpServer, Outbound, SessionHandle};

/// Longest the timer task sleeps. A deadline that appears while it sleeps and falls after its
/// wake-up needs no kick: a keep-alive connection whose deadline moves between "idle, in 60 s"
/// and "reading a head, in 10 s" on every request would otherwise wake it on every request.
pub const TIMER_MAX_SLEEP: Duration = Duration::from_secs(1);

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
    /// What the timer task sleeps until (`None` before it first sleeps).
    timer_armed: Option<Instant>,
    /// Wakes the timer task: a deadline earlier than `timer_armed` appeared, or the server is
    /// being dropped.
    timer_kick: Arc<Event>,
    /// Queues of sessions whose `SessionOpened` was drained but not yet dispatched (their tasks
    /// are not spawned yet). The session's slot is in `sessions` from the moment its event is
    /// drained, so a message for it that another task dispatches first is queued, not lost.
    opening: HashMap<SessionId, SessionQueues>,
}

/// The far ends of a new session's queues, for its two tasks.
struct SessionQueues {
    inbound: queue::Receiver<Inbound>,
    outbound_tx: queue::Sender<Outbound>,
    outbound_rx: queue::Receiver<Outbound>,
    writable: Arc<Event>,
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
    /// Notified whenever a connection is closed.
    connection_closed: Event,
    shutting_down: AtomicBool,
    timer_started: AtomicBool,
}

impl Drop for SseServer {
    fn drop(&mut self) {
        // The timer task may be waiting for a kick with no deadline: let it see the server go.
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        st.timer_kick.notify(usize::MAX);
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
        Arc::new(SseServer {
            rt,
            mcp,
            state: Mutex::new(State {
                machine: transport::Server::new(config, random),
                conns: HashMap::default(),
                sessions: HashMap::default(),
                timer_armed: None,
                timer_kick: Arc::new(Event::new()),
                opening: HashMap::default(),
            }),
            session_ended: Event::new(),
            connection_closed: Event::new(),
            shutting_down: AtomicBool::new(false),
            timer_started: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::locked::relock(&self.state)
    }

    /// The Host/Origin checks in force (resolved from the transport configuration's
    /// [`Security`](transport::Security) and listening address).
    pub fn security(&self) -> transport::SecuritySettings {
        self.lock().machine.security().clone()
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
        self.dispatch(events).deliver().await;
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
                    // Backpressure: no more is read from this connection until its messages
                    // are in their sessions' queues.
                    self.dispatch(events).deliver().await;
                }
                Ok(None) => {
                    let events = {
                        let mut st = self.lock();
                        st.machine.handle_eof(id, Instant::now());
                        wake_if_closing(&st, id);
                        drain(&mut st)
                    };
                    self.dispatch(events).deliver().await;
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
        self.connection_closed.notify(usize::MAX);
        self.dispatch_detached(events);
    }

    async fn write_loop(
        self: Arc<Self>,
        id: ConnectionId,
        signal: Arc<ConnSignal>,
        mut writer: Box<dyn ByteWrite>,
    ) {
        loop {
            event_listener::listener!(signal.wake => listener);
            let (bufs, close, gone, undelivered) = {
                let mut st = self.lock();
                let gone = !st.conns.contains_key(&id);
                let mut bufs = Vec::new();
                let now = Instant::now();
                while let Some(b) = st.machine.poll_transmit(id, now) {
                    bufs.push(b);
                }
                let close = st.machine.wants_close(id);
                let events = drain(&mut st);
                drop(st);
                // Requests this take resumed (see `poll_transmit`) may have produced messages.
                (bufs, close, gone, self.dispatch(events))
            };
            if !bufs.is_empty() {
                if writer.write(bufs).await.is_err() {
                    self.close_conn(id);
                    return;
                }
                signal.drained.notify(usize::MAX);
            }
            undelivered.deliver().await;
            if close || gone {
                let _ = writer.close().await;
                self.close_conn(id);
                return;
            }
            listener.await;
        }
    }

    /// Starts the timer task once: it sleeps until the machine's next deadline or for
    /// [`TIMER_MAX_SLEEP`], whichever comes first (`drain` kicks it when an earlier deadline
    /// appears, so none fires late), runs `handle_timeout`, and ends once the server is dropped.
    /// It holds only a weak reference while it sleeps.
    fn ensure_timer(self: &Arc<Self>) {
        if self.timer_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak = Arc::downgrade(self);
        let kick = self.lock().timer_kick.clone();
        let rt = self.rt.clone();
        self.rt.spawn(Box::pin(async move {
            loop {
                event_listener::listener!(kick => kicked);
                let wake = {
                    let Some(this) = weak.upgrade() else { return };
                    let mut st = this.lock();
                    let horizon = Instant::now() + TIMER_MAX_SLEEP;
                    let wake = st
                        .machine
                        .poll_timeout()
                        .map_or(horizon, |d| d.min(horizon));
                    st.timer_armed = Some(wake);
                    wake
                };
                futures_lite::future::or(rt.sleep_until(wake), kicked).await;
                let Some(this) = weak.upgrade() else { return };
                let events = {
                    let mut st = this.lock();
                    st.machine.handle_timeout(Instant::now(), SystemTime::now());
                    drain(&mut st)
                };
                this.dispatch_detached(events);
            }
        }));
    }

    /// Acts on the machine's events. A client message whose session queue is full is not
    /// queued anywhere else: it comes back in [`Undelivered`], with every message after it (so
    /// that none overtakes it), for the caller to deliver before it reads more from the
    /// connection the messages came from.
    fn dispatch(self: &Arc<Self>, events: Vec<ServerEvent>) -> Undelivered {
        let mut undelivered = Undelivered::default();
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
                    // `drain` registered the session and made its queues.
                    let Some(q) = self.lock().opening.remove(&session) else {
                        continue;
                    };
                    let handle = SessionHandle {
                        session_id: Some(session.to_string()),
                        request_headers: Some(request.headers),
                    };
                    let this = self.clone();
                    let rt = self.rt.clone();
                    let (inbound, outbound_tx) = (q.inbound, q.outbound_tx);
                    self.rt.spawn(Box::pin(async move {
                        this.mcp.run_session(rt, handle, inbound, outbound_tx).await;
                        let mut st = this.lock();
                        st.sessions.remove(&session);
                        drop(st);
                        this.session_ended.notify(usize::MAX);
                    }));
                    let this = self.clone();
                    let (outbound_rx, writable) = (q.outbound_rx, q.writable);
                    self.rt.spawn(Box::pin(async move {
                        this.session_writer(session, outbound_rx, writable).await
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
                        // The queue is bounded; a full session makes the connection wait (the 202
                        // has already been queued, as in the reference).
                        let item = Inbound::Message(message, Some(headers));
                        if !undelivered.0.is_empty() {
                            undelivered.0.push((tx, item));
                        } else if let Err(async_channel::TrySendError::Full(item)) =
                            tx.try_send(item)
                        {
                            undelivered.0.push((tx, item));
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
        undelivered
    }

    /// [`SseServer::dispatch`] for callers that read no connection (the timer, a closed
    /// connection, a session's writer, which must not wait for its own session). Their events
    /// carry no client message; one that came anyway would be delivered by a task of its own
    /// rather than dropped.
    fn dispatch_detached(self: &Arc<Self>, events: Vec<ServerEvent>) {
        let undelivered = self.dispatch(events);
        if !undelivered.0.is_empty() {
            self.rt.spawn(Box::pin(undelivered.deliver()));
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
                self.dispatch_detached(events);
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

/// Client messages that their sessions' full queues could not take yet, in order (see
/// [`SseServer::dispatch`]).
#[derive(Default)]
#[must_use = "deliver them, or the messages are lost"]
struct Undelivered(Vec<(queue::Sender<Inbound>, Inbound)>);

impl Undelivered {
    /// Queues each message, waiting for room; a session that ended meanwhile drops its own.
    async fn deliver(self) {
        for (tx, item) in self.0 {
            let _ = tx.send(item).await;
        }
    }
}

/// Takes the machine's events (to dispatch once the lock is released). A new session is
/// registered here, under the lock, so that it exists for every event drained after it.
fn drain(st: &mut State) -> Vec<ServerEvent> {
    let mut v = Vec::new();
    while let Some(e) = st.machine.poll_event() {
        if let ServerEvent::SessionOpened { session, .. } = &e {
            let (tx, rx) = queue::bounded(SESSION_OUTBOUND_MESSAGES);
            let (outbound_tx, outbound_rx) = queue::bounded::<Outbound>(SESSION_OUTBOUND_MESSAGES);
            let writable = Arc::new(Event::new());
            st.sessions.insert(
                *session,
                SessionSlot {
                    inbound: tx,
                    writable: writable.clone(),
                },
            );
            st.opening.insert(
                *session,
                SessionQueues {
                    inbound: rx,
                    outbound_tx,
                    outbound_rx,
                    writable,
                },
            );
        }
        v.push(e);
    }
    // A deadline earlier than the one the timer sleeps until (a new connection, a new head):
    // wake the timer so that it re-arms.
    if let Some(d) = st.machine.poll_timeout() {
        if st.timer_armed.is_none_or(|armed| d < armed) {
            st.timer_armed = Some(d);
            st.timer_kick.notify(1);
        }
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
    fn a_message_dispatched_before_its_session_opened_event_is_queued_not_lost() {
        // Task A drains the GET's events (SessionOpened among them) and, before it dispatches
        // them, task B drains and dispatches a POST for that session. The message must wait in
        // the session's queue, not be dropped after its 202.
        let server = SseServer::new(
            Arc::new(Inert),
            crate::ServerBuilder::new("t", "1").build(),
            transport::ServerConfig::default(),
            Box::new(|| [3; 16]),
        );
        let now = Instant::now();
        let (events_a, events_b) = {
            let mut st = server.lock();
            let a = st.machine.open_connection(now);
            let get = b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n";
            st.machine.handle_bytes(a, Bytes::from_static(get), now);
            let events_a = drain(&mut st);
            let session = events_a
                .iter()
                .find_map(|e| match e {
                    ServerEvent::SessionOpened { session, .. } => Some(*session),
                    _ => None,
                })
                .expect("the GET opened a session");
            let b = st.machine.open_connection(now);
            let body = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
            let post = format!(
                "POST /messages/?session_id={session} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            st.machine.handle_bytes(b, Bytes::from(post), now);
            (events_a, drain(&mut st))
        };
        assert!(events_b
            .iter()
            .any(|e| matches!(e, ServerEvent::Message { .. })));
        assert!(server.dispatch(events_b).0.is_empty(), "the queue had room");
        {
            let st = server.lock();
            let queued: usize = st.opening.values().map(|q| q.inbound.len()).sum();
            assert_eq!(queued, 1, "the message waits for its session's task");
        }
        assert!(server.dispatch(events_a).0.is_empty());
        assert!(
            server.lock().opening.is_empty(),
            "the session's tasks were started"
        );
    }
}
