//! Runs the core's [`transport::Client`] over byte connections and exposes it as a message
//! [`Link`] for the MCP [`crate::Client`].

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use event_listener::Event;
use foldhash::HashMap;
use mcp_sse_core::jsonrpc::{Message, RequestId};
use mcp_sse_core::transport::{self, ClientConnectionId, ClientError, ClientEvent, SendToken};

use crate::cancel::CancelFlag;
use crate::client::{Link, LinkItem};
use crate::io::Connection;
use crate::rt::{BoxFuture, Rt};

/// Opens a new connection to the server (TCP, or an in-memory pipe to an in-process server).
pub type Connector = Arc<dyn Fn() -> BoxFuture<'static, io::Result<Connection>> + Send + Sync>;

/// Where the transport machine wants a connection: its host and port, and the TLS server name
/// when the connection must be TLS (`https://`, also after an http → https redirect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTarget {
    /// The host (a name or an address).
    pub host: String,
    /// The port.
    pub port: u16,
    /// `Some(server name)` when the connection must be TLS.
    pub tls_server_name: Option<String>,
}

/// A connector that opens what the machine names ([`ConnectTarget`]), for drivers that can
/// follow a redirect to https ([`transport::ClientConfig::follow_https_upgrade`]).
pub type TargetConnector =
    Arc<dyn Fn(ConnectTarget) -> BoxFuture<'static, io::Result<Connection>> + Send + Sync>;

/// How the pump opens connections.
#[derive(Clone)]
pub(crate) enum Dial {
    /// Always the same way.
    Fixed(Connector),
    /// To where the machine says.
    Targeted(TargetConnector),
}

/// Gives the bearer token the client sends on the GET and every POST: called with `None`
/// before connecting, and with the server's `WWW-Authenticate` challenge after a `401`, when
/// the request that got it waits and is retried once with the new token (the core decides:
/// [`transport::ClientConfig::refresh_token_on_401`]). An `Err` fails what waited for it with
/// [`ClientError::TokenProvider`].
///
/// ```
/// use mcp_sse_glue::TokenProvider;
/// let fixed = TokenProvider::fixed("s3cret");
/// let refreshing = TokenProvider::new(|challenge| async move {
///     // e.g. run the OAuth refresh flow the challenge points to
///     let _ = challenge;
///     Ok::<_, String>("fresh".to_string())
/// });
/// # let _ = (fixed, refreshing);
/// ```
#[derive(Clone)]
pub struct TokenProvider(Arc<TokenFn>);

/// The provider's callback: challenge → token, or why not.
type TokenFn = dyn Fn(Option<String>) -> BoxFuture<'static, Result<String, String>> + Send + Sync;

impl std::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenProvider")
    }
}

impl TokenProvider {
    /// An async callback: `challenge` → token.
    pub fn new<F, Fut>(f: F) -> Self
    where
        F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<String, String>> + Send + 'static,
    {
        TokenProvider(Arc::new(move |c| Box::pin(f(c))))
    }

    /// Always the same token (a `401` then fails after one retry with it).
    pub fn fixed(token: impl Into<String>) -> Self {
        let token: String = token.into();
        TokenProvider::new(move |_| {
            let t = token.clone();
            async move { Ok(t) }
        })
    }

    /// Asks for a token.
    pub async fn token(&self, challenge: Option<String>) -> Result<String, String> {
        (self.0)(challenge).await
    }
}

/// Bound, in items, of the queue between the transport and the client session (a
/// [`crate::queue`]: its storage follows what it holds, so the bound costs nothing while idle).
pub const LINK_CAPACITY: usize = 64;

struct ConnCtl {
    wake: Event,
    closed: CancelFlag,
}

struct State {
    machine: transport::Client,
    /// Events taken from the machine, handled in order by one task at a time.
    pending: std::collections::VecDeque<ClientEvent>,
    /// Whether a task is handling `pending`.
    busy: bool,
    conns: HashMap<ClientConnectionId, Arc<ConnCtl>>,
    tokens: HashMap<SendToken, RequestId>,
}

struct Pump {
    rt: Rt,
    dial: Dial,
    /// Asked after a `401` ([`ClientEvent::TokenRequired`]).
    tokens: Option<TokenProvider>,
    state: Mutex<State>,
    inbound: crate::queue::Sender<LinkItem>,
    ready: async_channel::Sender<Result<Option<String>, ClientError>>,
    timer_kick: Event,
    /// Notified when `pending` has been worked off.
    drained: Event,
}

/// Control of a running SSE link.
#[derive(Clone)]
pub struct SseLinkHandle {
    pump: Arc<Pump>,
}

impl std::fmt::Debug for SseLinkHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseLinkHandle").finish_non_exhaustive()
    }
}

impl SseLinkHandle {
    /// Ends the transport: the GET and every POST connection close.
    pub async fn close(&self) {
        {
            let mut st = self.pump.lock();
            st.machine.close();
        }
        self.pump.clone().process().await;
    }
}

/// Connects the SSE transport to `url` and waits for the `endpoint` event. Returns the message
/// link, a handle to close it, and the session id the endpoint named (if any).
pub async fn connect_sse(
    rt: Rt,
    connector: Connector,
    url: &str,
    config: transport::ClientConfig,
) -> Result<(Link, SseLinkHandle, Option<String>), ClientError> {
    connect_sse_with(rt, connector, url, config, None).await
}

/// [`connect_sse_with`] opening each connection to the machine's current target (so an
/// http → https redirect on the default ports can be followed when `config` allows it).
pub(crate) async fn connect_sse_dial(
    rt: Rt,
    dial: Dial,
    url: &str,
    config: transport::ClientConfig,
    tokens: Option<TokenProvider>,
) -> Result<(Link, SseLinkHandle, Option<String>), ClientError> {
    connect_sse_inner(rt, dial, url, config, tokens).await
}

/// [`connect_sse`] with a bearer-token provider: its first token goes on the GET, and a `401`
/// asks it once more (see [`TokenProvider`]).
pub async fn connect_sse_with(
    rt: Rt,
    connector: Connector,
    url: &str,
    config: transport::ClientConfig,
    tokens: Option<TokenProvider>,
) -> Result<(Link, SseLinkHandle, Option<String>), ClientError> {
    connect_sse_inner(rt, Dial::Fixed(connector), url, config, tokens).await
}

async fn connect_sse_inner(
    rt: Rt,
    dial: Dial,
    url: &str,
    mut config: transport::ClientConfig,
    tokens: Option<TokenProvider>,
) -> Result<(Link, SseLinkHandle, Option<String>), ClientError> {
    if let Some(p) = &tokens {
        config.bearer_token = Some(p.token(None).await.map_err(ClientError::TokenProvider)?);
        config.refresh_token_on_401 = true;
    }
    let machine = transport::Client::new(url, config, Instant::now())?;
    let (in_tx, in_rx) = crate::queue::bounded(LINK_CAPACITY);
    // Unbounded on purpose: the client's read loop sends on it and must never wait for the
    // transport (that could close a cycle of full queues); callers' requests are bounded by the
    // session's `max_pending`.
    let (out_tx, mut out_rx) = crate::queue::unbounded::<Message>();
    let (ready_tx, ready_rx) = async_channel::bounded(1);
    let pump = Arc::new(Pump {
        rt: rt.clone(),
        dial,
        tokens,
        state: Mutex::new(State {
            machine,
            pending: Default::default(),
            busy: false,
            conns: HashMap::default(),
            tokens: HashMap::default(),
        }),
        inbound: in_tx,
        ready: ready_tx,
        timer_kick: Event::new(),
        drained: Event::new(),
    });
    pump.clone().process().await;
    // Timer task: endpoint and read-idle deadlines.
    let timer = pump.clone();
    rt.spawn(Box::pin(async move { timer.timer_loop().await }));
    // Outbound task: client messages become POSTs.
    let out = pump.clone();
    rt.spawn(Box::pin(async move {
        while let Ok(msg) = out_rx.recv().await {
            let id = match &msg {
                Message::Request(r) => Some(r.id.clone()),
                _ => None,
            };
            let res = {
                let mut st = out.lock();
                let res = st.machine.send(&msg);
                if let (Ok(token), Some(id)) = (&res, &id) {
                    st.tokens.insert(*token, id.clone());
                }
                res
            };
            if let (Err(e), Some(id)) = (res, id) {
                let _ = out.inbound.send(LinkItem::SendFailed(id, e)).await;
            }
            out.clone().process().await;
        }
        // The client closed its side: end the transport.
        out.lock().machine.close();
        out.clone().process().await;
    }));
    let session = match ready_rx.recv().await {
        Ok(Ok(session)) => session,
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(ClientError::Closed),
    };
    Ok((
        Link {
            outbound: out_tx,
            inbound: in_rx,
        },
        SseLinkHandle { pump },
        session,
    ))
}

impl Pump {
    fn lock(&self) -> MutexGuard<'_, State> {
        crate::locked::relock(&self.state)
    }

    /// Moves the machine's events to the pending queue and makes sure one task works them off,
    /// in order. The caller never handles events itself (so it never blocks on the client's
    /// queue); a connection reader (`backpressure`) waits while too many events are pending.
    fn process(self: Arc<Self>) -> BoxFuture<'static, ()> {
        self.process_inner(false)
    }

    fn process_inner(self: Arc<Self>, backpressure: bool) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            loop {
                event_listener::listener!(self.drained => listener);
                let (start_worker, done) = {
                    let mut st = self.lock();
                    while let Some(e) = st.machine.poll_event() {
                        st.pending.push_back(e);
                    }
                    let start = !st.busy && !st.pending.is_empty();
                    if start {
                        st.busy = true;
                    }
                    (start, !backpressure || st.pending.len() <= LINK_CAPACITY)
                };
                if start_worker {
                    // Outside the lock: the worker takes it. It runs here until it would wait.
                    let worker = self.clone();
                    crate::rt::run_or_spawn(
                        &self.rt,
                        Box::pin(async move { worker.work_off().await }),
                    );
                }
                if done {
                    return;
                }
                listener.await;
            }
        })
    }

    async fn work_off(self: Arc<Self>) {
        loop {
            let ev = {
                let mut st = self.lock();
                while let Some(e) = st.machine.poll_event() {
                    st.pending.push_back(e);
                }
                match st.pending.pop_front() {
                    Some(e) => e,
                    None => {
                        st.busy = false;
                        drop(st);
                        self.drained.notify(usize::MAX);
                        return;
                    }
                }
            };
            self.handle_event(ev).await;
        }
    }

    async fn handle_event(self: &Arc<Self>, ev: ClientEvent) {
        match ev {
            ClientEvent::Open(id) => {
                let ctl = Arc::new(ConnCtl {
                    wake: Event::new(),
                    closed: CancelFlag::new(),
                });
                self.lock().conns.insert(id, ctl.clone());
                let this = self.clone();
                self.rt
                    .spawn(Box::pin(async move { this.run_connection(id, ctl).await }));
            }
            ClientEvent::Close(id) => {
                if let Some(ctl) = self.lock().conns.remove(&id) {
                    ctl.closed.cancel();
                    ctl.wake.notify(usize::MAX);
                }
            }
            ClientEvent::Transmit(id) => {
                if let Some(ctl) = self.lock().conns.get(&id) {
                    ctl.wake.notify(1);
                }
            }
            ClientEvent::Ready { session_id, .. } => {
                self.timer_kick.notify(usize::MAX);
                let _ = self.ready.try_send(Ok(session_id));
            }
            ClientEvent::Message(m) => {
                let _ = self.inbound.send(LinkItem::Message(m)).await;
            }
            ClientEvent::InvalidMessage(e) => {
                let _ = self.inbound.send(LinkItem::Invalid(e.to_string())).await;
            }
            ClientEvent::TokenRequired { challenge } => {
                // Asked off the event loop: the provider may take its time (a refresh flow),
                // and nothing waits on the machine meanwhile but what needs the token.
                let this = self.clone();
                self.rt.spawn(Box::pin(async move {
                    let answer = match &this.tokens {
                        Some(p) => p.token(challenge).await,
                        None => Err("no token provider".to_string()),
                    };
                    {
                        let mut st = this.lock();
                        match answer {
                            Ok(token) => st.machine.handle_token(token),
                            Err(reason) => st.machine.handle_token_failed(&reason),
                        }
                    }
                    this.process().await;
                }));
            }
            ClientEvent::Sent(token) => {
                self.lock().tokens.remove(&token);
            }
            ClientEvent::SendFailed(token, e) => {
                let id = self.lock().tokens.remove(&token);
                // `Closed` only means the whole transport is closing (the caller closed it): the
                // link closes next and every pending request fails with -32000 `Connection
                // closed`, as the session layer words it; this message did not fail on its own.
                if let (Some(id), false) = (id, matches!(e, ClientError::Closed)) {
                    let _ = self.inbound.send(LinkItem::SendFailed(id, e)).await;
                }
            }
            ClientEvent::Closed(err) => {
                let _ = self
                    .ready
                    .try_send(Err(err.clone().unwrap_or(ClientError::Closed)));
                if let Some(e) = err {
                    let _ = self.inbound.send(LinkItem::Invalid(e.to_string())).await;
                }
                self.inbound.close();
                self.timer_kick.notify(usize::MAX);
            }
        }
    }

    async fn run_connection(self: Arc<Self>, id: ClientConnectionId, ctl: Arc<ConnCtl>) {
        let dialed = match &self.dial {
            Dial::Fixed(connector) => connector(),
            Dial::Targeted(connector) => {
                let target = {
                    let st = self.lock();
                    let (host, port) = st.machine.server_address();
                    ConnectTarget {
                        host,
                        port,
                        tls_server_name: st.machine.tls_server_name(),
                    }
                };
                connector(target)
            }
        };
        let connected = ctl.closed.run(dialed).await;
        let (mut reader, mut writer) = match connected {
            None => return,
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                self.lock()
                    .machine
                    .handle_connect_failed(id, &e.to_string());
                self.clone().process().await;
                return;
            }
        };
        self.lock().machine.handle_connected(id, Instant::now());
        self.clone().process().await;
        // Writer.
        let this = self.clone();
        let wctl = ctl.clone();
        self.rt.spawn(Box::pin(async move {
            loop {
                event_listener::listener!(wctl.wake => listener);
                let bufs: Vec<bytes::Bytes> = {
                    let mut st = this.lock();
                    std::iter::from_fn(|| st.machine.poll_transmit(id)).collect()
                };
                if !bufs.is_empty() && writer.write(bufs).await.is_err() {
                    this.lock().machine.handle_eof(id, Instant::now());
                    this.clone().process().await;
                    break;
                }
                if wctl.closed.is_cancelled() {
                    break;
                }
                wctl.closed.run(listener).await;
            }
            let _ = writer.close().await;
        }));
        // Reader.
        loop {
            match ctl.closed.run(reader.read()).await {
                None => break,
                Some(Ok(Some(bytes))) => {
                    self.lock().machine.handle_bytes(id, bytes, Instant::now());
                    self.clone().process_inner(true).await;
                }
                Some(end) => {
                    // A TLS failure is reported as such; any other end as the end of input.
                    let tls = end.err().as_ref().and_then(crate::tls::tls_failure);
                    match tls {
                        Some(f) => self.lock().machine.handle_tls_failed(id, f),
                        None => self.lock().machine.handle_eof(id, Instant::now()),
                    }
                    self.clone().process().await;
                    break;
                }
            }
        }
    }

    async fn timer_loop(self: Arc<Self>) {
        loop {
            event_listener::listener!(self.timer_kick => listener);
            let (deadline, closed) = {
                let st = self.lock();
                (st.machine.poll_timeout(), st.machine.is_closed())
            };
            if closed {
                return;
            }
            match deadline {
                Some(d) => {
                    let sleep = self.rt.sleep_until(d);
                    futures_lite::future::or(sleep, listener).await;
                }
                None => listener.await,
            }
            self.lock().machine.handle_timeout(Instant::now());
            self.clone().process().await;
        }
    }
}
