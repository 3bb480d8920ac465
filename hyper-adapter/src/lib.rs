//! # mcp-sse-hyper
//!
//! Mounts mcp-sse's legacy HTTP+SSE endpoints (`GET <prefix>/sse`, `POST
//! <prefix>/messages/?session_id=…`) inside an existing hyper 1, tower or axum service, behind
//! its TLS, authentication, tracing and rate-limit middleware.
//!
//! ```no_run
//! use axum::Router;
//! use mcp_sse_tokio::ServerBuilder;
//!
//! # async fn run() -> std::io::Result<()> {
//! let mcp = ServerBuilder::new("demo", "1.0.0").build();
//! let app = Router::new().nest_service("/mcp", mcp_sse_hyper::service(mcp_sse_hyper::server(mcp)));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! // GET http://127.0.0.1:8000/mcp/sse announces /mcp/messages/?session_id=…
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! What is whose:
//! - **mcp-sse decides every answer** exactly as its own listener does: routing, the Host,
//!   Origin and Content-Type checks, authentication and CORS when configured, the body limit,
//!   the POST table's statuses and bodies, the SSE headers (`Cache-Control: no-store`,
//!   `X-Accel-Buffering: no`, `Content-Type: text/event-stream; charset=utf-8`), keep-alive
//!   pings, backpressure and graceful shutdown ([`SseServer::shutdown`]). Each SSE event goes
//!   out as one body frame as soon as it is produced.
//! - **hyper does the HTTP/1.1 (or HTTP/2) framing**: keep-alive, pipelining, chunking,
//!   `content-length`, head parsing and its timeouts. A malformed head is answered by hyper
//!   (`400 Bad Request` with an empty body) before the service sees it.
//! - **The mount prefix** comes from axum's `OriginalUri` (feature `axum`, on by default) when
//!   the service is nested, else from the transport configuration's `root_path`.
//! - **The request headers and extensions reach the handlers**: [`RequestContext::header`] and
//!   [`extensions`] (what a middleware set, e.g. an authenticated user), for the tool, prompt or
//!   resource the POST called.
//!
//! It runs on tokio, hyper's home: the server is built with the tokio driver ([`server`],
//! [`server_with`]). smol users serve with `mcp_sse_smol::serve` (mcp-sse's own listener), or
//! put mcp-sse behind their proxy.
//!
//! [`RequestContext::header`]: mcp_sse_glue::RequestContext::header
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_lite::{Stream, StreamExt};
use http_body::{Body, Frame, SizeHint};
use mcp_sse_core::http::{RequestHead, Version};
use mcp_sse_core::transport::{HostBody, ServerConfig};
use mcp_sse_glue::{ExchangeFrames, McpServer};

pub use mcp_sse_glue::{Exchange, ExchangeError, SseServer};

/// An [`SseServer`] on the current tokio runtime with the default transport configuration
/// (DNS-rebinding protection on, as for a loopback listener: set
/// [`ServerConfig::security`]/[`ServerConfig::local_addr`] with [`server_with`] for a public
/// bind address).
pub fn server(mcp: McpServer) -> Arc<SseServer> {
    server_with(mcp, ServerConfig::default())
}

/// An [`SseServer`] on the current tokio runtime with `config`.
pub fn server_with(mcp: McpServer, config: ServerConfig) -> Arc<SseServer> {
    mcp_sse_tokio::sse_server(mcp, config)
}

/// The tower [`Service`](tower_service::Service) serving `server`'s SSE and message
/// endpoints; clone it freely (all clones serve the same sessions).
pub fn service(server: Arc<SseServer>) -> McpSseService {
    McpSseService { server }
}

/// See [`service`].
#[derive(Clone, Debug)]
pub struct McpSseService {
    server: Arc<SseServer>,
}

impl McpSseService {
    /// The server it serves (for shutdown and session counts).
    pub fn server(&self) -> &Arc<SseServer> {
        &self.server
    }
}

impl<B> tower_service::Service<http::Request<B>> for McpSseService
where
    B: Body + Send + Unpin + 'static,
    B::Data: Into<Bytes> + Send,
    B::Error: std::fmt::Display + Send,
{
    type Response = http::Response<McpSseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let server = self.server.clone();
        Box::pin(async move { Ok(serve(&server, request).await) })
    }
}

/// Serves one request (the body of the [`McpSseService`]).
pub async fn serve<B>(
    server: &Arc<SseServer>,
    request: http::Request<B>,
) -> http::Response<McpSseBody>
where
    B: Body + Unpin,
    B::Data: Into<Bytes>,
    B::Error: std::fmt::Display,
{
    let (parts, body) = request.into_parts();
    let (head, root_path) = request_head(&parts);
    let body = DataFrames(body);
    let extensions: mcp_sse_glue::RequestData = Arc::new(parts.extensions);
    match server
        .serve_exchange(head, root_path.as_deref(), body, Some(extensions))
        .await
    {
        Ok(Exchange { response, frames }) => {
            let mut builder = http::Response::builder().status(response.status);
            for (name, value) in &response.headers {
                builder = builder.header(*name, value.as_str());
            }
            let body = match (response.body, frames) {
                (HostBody::Full(bytes), _) => McpSseBody::full(bytes),
                (HostBody::Stream, Some(frames)) => McpSseBody {
                    inner: Inner::Stream(frames),
                },
                (HostBody::Stream, None) => McpSseBody::full(Bytes::new()),
            };
            builder.body(body).unwrap_or_else(|_| {
                // Statuses and header names come from the transport's fixed tables, header
                // values from quoted paths and configured origins: they always build.
                plain(500, "Internal Server Error")
            })
        }
        // The client's body broke off: nothing was delivered. hyper closes the connection.
        Err(ExchangeError::Body(_)) => plain(400, "Bad Request"),
        Err(ExchangeError::Unanswered) => plain(503, "Service Unavailable"),
    }
}

fn plain(status: u16, body: &'static str) -> http::Response<McpSseBody> {
    let mut r = http::Response::new(McpSseBody::full(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
    r
}

/// The transport's view of the request: its head with the full target (mount prefix
/// included) and the prefix.
fn request_head(parts: &http::request::Parts) -> (RequestHead, Option<String>) {
    let nested = mount_prefix(parts);
    let uri = match &nested {
        Some((original, _)) => original,
        None => &parts.uri,
    };
    let target = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |pq| pq.as_str().to_string());
    let mut head = RequestHead::new(parts.method.as_str(), &target);
    head.version = if parts.version == http::Version::HTTP_10 {
        Version::Http10
    } else {
        Version::Http11
    };
    if !parts.headers.contains_key(http::header::HOST) {
        // HTTP/2 carries the authority in the URI, not in a Host header.
        if let Some(authority) = parts.uri.authority() {
            head.headers.push(
                "host",
                Bytes::copy_from_slice(authority.as_str().as_bytes()),
            );
        }
    }
    for (name, value) in &parts.headers {
        head.headers.push(
            name.as_str().to_string(),
            Bytes::copy_from_slice(value.as_bytes()),
        );
    }
    (head, nested.map(|(_, prefix)| prefix))
}

/// The original URI and the prefix the service is nested under, when a router stripped one.
#[cfg(feature = "axum")]
fn mount_prefix(parts: &http::request::Parts) -> Option<(http::Uri, String)> {
    let original = parts.extensions.get::<axum::extract::OriginalUri>()?;
    let full = original.0.path();
    let prefix = full.strip_suffix(parts.uri.path())?;
    (!prefix.is_empty()).then(|| (original.0.clone(), prefix.to_string()))
}

#[cfg(not(feature = "axum"))]
fn mount_prefix(_parts: &http::request::Parts) -> Option<(http::Uri, String)> {
    None
}

/// A request body's data frames as the stream the server reads (trailers are dropped).
struct DataFrames<B>(B);

impl<B> Stream for DataFrames<B>
where
    B: Body + Unpin,
    B::Data: Into<Bytes>,
    B::Error: std::fmt::Display,
{
    type Item = Result<Bytes, String>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match Pin::new(&mut self.0).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => return Poll::Ready(Some(Ok(data.into()))),
                    Err(_trailers) => continue,
                },
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.to_string()))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// The `http::Extensions` of the request that carried the message a handler is handling
/// (what middleware put there: an authenticated user, a request id, …).
///
/// ```
/// # use mcp_sse_glue::RequestContext;
/// #[derive(Clone)]
/// struct User(String);
/// fn user(ctx: &RequestContext) -> Option<String> {
///     mcp_sse_hyper::extensions(ctx)?.get::<User>().map(|u| u.0.clone())
/// }
/// ```
pub fn extensions(ctx: &mcp_sse_glue::RequestContext) -> Option<&http::Extensions> {
    ctx.request_data::<http::Extensions>()
}

/// The response body: a whole answer, or the SSE stream, one event per frame.
#[derive(Debug)]
pub struct McpSseBody {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Full(Option<Bytes>),
    Stream(ExchangeFrames),
}

impl McpSseBody {
    fn full(bytes: Bytes) -> Self {
        McpSseBody {
            inner: Inner::Full((!bytes.is_empty()).then_some(bytes)),
        }
    }
}

impl Body for McpSseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.inner {
            Inner::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Inner::Stream(frames) => frames.poll_next(cx).map(|f| f.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.inner, Inner::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Inner::Stream(_) => SizeHint::default(),
        }
    }
}
