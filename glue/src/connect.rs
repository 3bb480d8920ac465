//! Ways to connect a [`Client`]: in memory (no HTTP), in process over the real HTTP+SSE path,
//! and over TCP to any legacy SSE server.

use std::sync::Arc;

use mcp_sse_core::jsonrpc::Message;
use mcp_sse_core::session::RequestError as Error;
use mcp_sse_core::transport::{self, ClientError, SessionId};

use crate::client::{Client, ClientOptions, Closer, Link, LinkItem, Relink};
use crate::io::{duplex, traced, Connection, TraceFn};
use crate::queue;
use crate::rt::Rt;
use crate::server::McpServer;
use crate::sse_client::{
    connect_sse_dial, ConnectTarget, Connector, Dial, TargetConnector, TokenProvider, LINK_CAPACITY,
};
use crate::sse_server::{DirectSink, SseServer};

/// Why connecting failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectError {
    /// The transport could not be set up (HTTP status, no endpoint, bad URL, …).
    #[error("transport: {0}")]
    Transport(#[from] ClientError),
    /// The `initialize` handshake failed (the server refused it, timed out, is incompatible).
    #[error("initialize failed: {0}")]
    Initialize(Error),
}

impl From<ConnectError> for Error {
    /// One error type for callers: the handshake's own error, or the transport's.
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::Transport(e) => Error::Transport(e),
            ConnectError::Initialize(e) => e,
        }
    }
}

/// 16 bytes from the operating system's random source, for session ids.
pub fn os_random() -> [u8; 16] {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness: ids from the time and a counter stay unique, though guessable.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        b = (t.as_nanos() ^ (u128::from(n) << 64)).to_le_bytes();
    }
    b
}

/// Connects a client to `server` through in-memory message channels: no HTTP, no SSE, the same
/// [`Client`], and the same server composition (a direct session of the server's endpoint,
/// see [`serve_in_memory`]).
pub async fn connect_in_memory(
    rt: Rt,
    server: McpServer,
    options: ClientOptions,
) -> Result<Client, ConnectError> {
    // Client → server is unbounded for the same reason as in the SSE link (see `connect_sse`).
    let (c_out_tx, c_out_rx) = queue::unbounded::<Message>();
    let (c_in_tx, c_in_rx) = queue::bounded::<LinkItem>(LINK_CAPACITY);
    let sse = in_memory_server(&rt, server);
    let session = sse.open_direct(c_out_rx, DirectSink::Link(c_in_tx));
    let closer = Box::new(move || {
        Box::pin(async move { sse.wait_session_closed(session).await })
            as crate::rt::BoxFuture<'static, ()>
    });
    Client::start(
        rt,
        Link {
            outbound: c_out_tx,
            inbound: c_in_rx,
        },
        options,
        Some(closer),
    )
    .await
    .map_err(ConnectError::Initialize)
}

/// Serves one in-memory session of `server` (no HTTP): it reads the client's messages from
/// `from_client` and sends the server's to `to_client`, in order, waiting while `to_client` is
/// full. The session ends when `from_client` closes (every running handler is cancelled); the
/// returned future completes once it has ended and its handlers have finished.
pub fn serve_in_memory(
    rt: Rt,
    server: McpServer,
    from_client: queue::Receiver<Message>,
    to_client: queue::Sender<Message>,
) -> crate::rt::BoxFuture<'static, ()> {
    let sse = in_memory_server(&rt, server);
    let session = sse.open_direct(from_client, DirectSink::Messages(to_client));
    Box::pin(async move { sse.wait_session_closed(session).await })
}

/// The endpoint driver behind an in-memory session (its transport serves no connection).
fn in_memory_server(rt: &Rt, server: McpServer) -> Arc<SseServer> {
    SseServer::new(
        rt.clone(),
        server,
        transport::ServerConfig::default(),
        Box::new(os_random),
    )
}

/// The SSE URL the in-process connection uses (nothing listens there).
pub const IN_PROCESS_URL: &str = "http://127.0.0.1:8000/sse";

/// Connects a client to an in-process [`SseServer`] through in-memory byte pipes: the real HTTP
/// requests, session ids and SSE encoding, no sockets. [`Client::close`] ends the GET and waits
/// until the server has removed the session and finished its handlers.
pub async fn connect_over_sse_to(
    rt: Rt,
    server: Arc<SseServer>,
    options: ClientOptions,
) -> Result<Client, ConnectError> {
    connect_over_sse_traced(rt, server, options, None).await
}

/// Like [`connect_over_sse_to`], showing every byte that crosses the pipes to `trace`.
pub async fn connect_over_sse_traced(
    rt: Rt,
    server: Arc<SseServer>,
    options: ClientOptions,
    trace: Option<TraceFn>,
) -> Result<Client, ConnectError> {
    let wrap: Option<ConnectionWrap> =
        trace.map(|t| Arc::new(move |conn| traced(conn, t.clone())) as ConnectionWrap);
    connect_over_sse_wrapped(rt, server, options, wrap).await
}

/// Turns the client's end of each in-process connection into another connection: a tracer, a
/// fault injector (cut, delay, corrupt), a byte counter.
pub type ConnectionWrap = Arc<dyn Fn(Connection) -> Connection + Send + Sync>;

/// Like [`connect_over_sse_to`], passing the client's end of every connection it opens (the GET
/// and each POST connection) through `wrap`.
pub async fn connect_over_sse_wrapped(
    rt: Rt,
    server: Arc<SseServer>,
    options: ClientOptions,
    wrap: Option<ConnectionWrap>,
) -> Result<Client, ConnectError> {
    let srv = server.clone();
    let crt = rt.clone();
    let connector: Connector = Arc::new(move || {
        let (client_end, server_end) = duplex();
        let client_end = match &wrap {
            Some(w) => w(client_end),
            None => client_end,
        };
        let srv = srv.clone();
        crt.spawn(Box::pin(
            async move { srv.serve_connection(server_end).await },
        ));
        Box::pin(async move { Ok(client_end) })
    });
    let config = transport::ClientConfig::default();
    start_over(
        rt,
        Dial::Fixed(connector),
        IN_PROCESS_URL,
        config,
        Some(server),
        options,
    )
    .await
}

/// Like [`connect_over_sse_to`] with a fresh server for `server` (DNS-rebinding protection off,
/// as the reference's in-process harness).
pub async fn connect_over_sse(
    rt: Rt,
    server: McpServer,
    options: ClientOptions,
) -> Result<Client, ConnectError> {
    let sse = SseServer::new(
        rt.clone(),
        server,
        transport::ServerConfig::default(),
        Box::new(os_random),
    );
    connect_over_sse_to(rt, sse, options).await
}

/// Connects over TCP to any legacy SSE server at `url` (`http://host:port/sse`, or
/// `https://…` with TLS: see [`ClientOptions::tls`]).
pub async fn connect_url(
    rt: Rt,
    url: &str,
    options: ClientOptions,
    transport_config: transport::ClientConfig,
) -> Result<Client, ConnectError> {
    // Validates the URL (a typed error at once).
    transport::Client::new(url, transport_config.clone(), std::time::Instant::now())?;
    // Every connection (the GET and each POST's) goes where the machine says: TLS with the
    // trust of `options.tls` for `https://`, also after a redirect from http to https.
    let trust = options.tls.clone().unwrap_or_default();
    let crt = rt.clone();
    let connector: TargetConnector = Arc::new(move |target: ConnectTarget| {
        let tcp = crt.connect_tcp(target.host.clone(), target.port);
        let trust = trust.clone();
        Box::pin(async move {
            let conn = tcp.await?;
            match target.tls_server_name {
                Some(name) => trust.wrap(conn, &name).map_err(std::io::Error::other),
                None => Ok(conn),
            }
        })
    });
    let mut transport_config = transport_config;
    transport_config.follow_https_upgrade = true;
    start_over(
        rt,
        Dial::Targeted(connector),
        url,
        transport_config,
        None,
        options,
    )
    .await
}

/// Opens the SSE link through `connector` and returns it with what closes it (and, in
/// process, waits for `server` to remove the session).
async fn open_link(
    rt: Rt,
    dial: Dial,
    url: &str,
    config: transport::ClientConfig,
    server: Option<Arc<SseServer>>,
    tokens: Option<TokenProvider>,
) -> Result<(Link, Closer), transport::ClientError> {
    let (link, handle, session) = connect_sse_dial(rt, dial, url, config, tokens).await?;
    let session = session.as_deref().and_then(SessionId::parse_lenient);
    let closer: Closer = Box::new(move || {
        Box::pin(async move {
            handle.close().await;
            if let (Some(server), Some(s)) = (server, session) {
                server.wait_session_closed(s).await;
            }
        }) as crate::rt::BoxFuture<'static, ()>
    });
    Ok((link, closer))
}

/// Starts a client over the SSE link, able to open a new one for
/// [`ClientOptions::reconnect`](crate::ClientOptions::reconnect).
async fn start_over(
    rt: Rt,
    connector: Dial,
    url: &str,
    config: transport::ClientConfig,
    server: Option<Arc<SseServer>>,
    options: ClientOptions,
) -> Result<Client, ConnectError> {
    let (link, closer) = open_link(
        rt.clone(),
        connector.clone(),
        url,
        config.clone(),
        server.clone(),
        options.bearer.clone(),
    )
    .await?;
    let (rrt, url, tokens) = (rt.clone(), url.to_string(), options.bearer.clone());
    let relink: Relink = Arc::new(move || {
        let (rt, connector, url, config, server, tokens) = (
            rrt.clone(),
            connector.clone(),
            url.clone(),
            config.clone(),
            server.clone(),
            tokens.clone(),
        );
        Box::pin(async move {
            let (link, closer) = open_link(rt, connector, &url, config, server, tokens)
                .await
                .map_err(Error::Transport)?;
            Ok((link, Some(closer)))
        })
    });
    Client::start_with(rt, link, options, Some(closer), Some(relink))
        .await
        .map_err(ConnectError::Initialize)
}
