//! The MCP server side: a low-level [`Handler`] trait, the [`McpServer`] that pairs it with a
//! session configuration, and the [`RequestContext`] handlers use to talk back (a handle on the
//! endpoint driven by [`SseServer`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_sse_core::http::Headers;
use mcp_sse_core::jsonrpc::{ErrorObject, Message, RequestId};
use mcp_sse_core::mcp::rpc::{self, RequestMethod};
use mcp_sse_core::mcp::{ReadResourceResult, ResourceRequestParams};
use mcp_sse_core::schemars::JsonSchema;
use mcp_sse_core::session::typed_elicit::{self, Elicited};
use mcp_sse_core::session::{sampling_checks, LogLevel, ServerConfig, ServerNotification};
use mcp_sse_core::transport::SessionId;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::rt::BoxFuture;
use crate::sse_server::SseServer;

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

impl McpServer {
    /// A server from a session configuration and a low-level handler.
    pub fn new(config: ServerConfig, handler: Arc<dyn Handler>) -> Self {
        McpServer { config, handler }
    }

    /// The session configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    pub(crate) fn handler(&self) -> &Arc<dyn Handler> {
        &self.handler
    }
}

/// A weak handle on a session (see [`RequestContext::session_handle`]).
#[derive(Clone)]
pub(crate) struct SessionHandle {
    server: std::sync::Weak<SseServer>,
    session: SessionId,
}

impl SessionHandle {
    /// Whether the session is still there (its server alive, the session initialized).
    pub(crate) fn is_live(&self) -> bool {
        self.server
            .upgrade()
            .is_some_and(|s| s.client_info(self.session).is_some())
    }

    /// Sends `notification` to the session, if it is still there.
    pub(crate) async fn send(&self, notification: ServerNotification) {
        let Some(server) = self.server.upgrade() else {
            return;
        };
        let method = notification.method();
        let params = notification.into_params();
        server
            .notify_waiting(self.session, |ep, s| ep.notify(s, method, params.clone()))
            .await;
    }
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

/// What a handler gets: who is asking, and how to talk back to the client. A handle on the
/// server's endpoint and the session: every call locks the endpoint once.
#[derive(Clone)]
pub struct RequestContext {
    server: Arc<SseServer>,
    session: SessionId,
    /// The session id as the client sees it (SSE sessions only).
    session_id: Option<Arc<str>>,
    request_id: Option<RequestId>,
    meta: Option<Map<String, Value>>,
    headers: Option<Arc<Headers>>,
    data: Option<RequestData>,
}

/// Per-request data a host HTTP server attached to the request that carried a message (the
/// hyper adapter attaches the request's `http::Extensions`): see
/// [`RequestContext::request_data`].
pub type RequestData = Arc<dyn std::any::Any + Send + Sync>;

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("session", &self.session)
            .field("request_id", &self.request_id)
            .field("meta", &self.meta)
            .finish()
    }
}

impl RequestContext {
    pub(crate) fn new(
        server: Arc<SseServer>,
        session: SessionId,
        session_id: Option<Arc<str>>,
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
            server,
            session,
            session_id,
            request_id,
            meta,
            headers,
            data: None,
        }
    }

    pub(crate) fn with_data(mut self, data: Option<RequestData>) -> Self {
        self.data = data;
        self
    }

    /// What the host server attached to the HTTP request that carried this message, if it is a
    /// `T` (with the hyper adapter: the request's `http::Extensions`, where middleware put
    /// what it learned, e.g. an authenticated user). `None` on mcp-sse's own listener and in
    /// memory.
    pub fn request_data<T: std::any::Any>(&self) -> Option<&T> {
        self.data.as_deref().and_then(|d| d.downcast_ref::<T>())
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
        self.server.client_info(self.session)
    }

    /// A header of the HTTP request that carried this message (SSE transport only).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .as_ref()
            .and_then(|h| h.get_str(name))
            .map(str::to_string)
    }

    /// Who opened this session, as the server's authentication hook said
    /// ([`ServerConfig::auth`](mcp_sse_core::transport::ServerConfig::auth)); `None` without
    /// authentication or in memory.
    pub fn principal(&self) -> Option<mcp_sse_core::transport::Principal> {
        self.server.principal(self.session)
    }

    /// The transport session id (SSE transport only).
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// Sleeps on the driver's timer (handlers are runtime-agnostic, so they sleep through here).
    pub async fn sleep(&self, duration: Duration) {
        self.server
            .rt()
            .sleep_until(Instant::now() + duration)
            .await;
    }

    /// The minimum level the client set with `logging/setLevel`, if any: [`log`](Self::log)
    /// below it sends nothing.
    pub fn log_level(&self) -> Option<LogLevel> {
        self.server.log_level(self.session)
    }

    /// Sends a notification to the client (waiting while the session's outbound queue is
    /// full; nothing is sent once the session has ended).
    pub async fn notify(&self, method: &str, params: Params) {
        self.server
            .notify_waiting(self.session, |ep, s| ep.notify(s, method, params.clone()))
            .await;
    }

    /// Sends one of the notifications the session builds.
    /// A handle on this session that does not keep its server alive (for a server that must
    /// notify its sessions later).
    pub(crate) fn session_handle(&self) -> SessionHandle {
        SessionHandle {
            server: Arc::downgrade(&self.server),
            session: self.session,
        }
    }

    async fn send(&self, notification: ServerNotification) {
        let method = notification.method();
        let params = notification.into_params();
        self.server
            .notify_waiting(self.session, |ep, s| ep.notify(s, method, params.clone()))
            .await;
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

    /// Sends a server→client request and waits for its answer (or `timeout`: -32001, fired by
    /// the endpoint's timer). Dropping the future abandons the request: the client is told to
    /// cancel its callback.
    pub async fn request(
        &self,
        method: &str,
        params: Params,
        timeout: Option<Duration>,
    ) -> Result<Value, ErrorObject> {
        self.server
            .request(self.session, method, params, timeout)
            .await
    }

    /// `sampling/createMessage`, checked as the reference checks it
    /// ([`mcp_sse_core::session::sampling_checks`]): tools need the client's `sampling.tools`
    /// capability and `tool_result` blocks must answer the previous message's `tool_use`
    /// blocks (else `-32602`, and nothing is sent); a request without tools must be answered
    /// with one content block (else `-32603`).
    pub async fn sample(&self, params: Map<String, Value>) -> Result<Value, ErrorObject> {
        let capabilities = self.client().map(|c| c.capabilities).unwrap_or_default();
        sampling_checks::check_request(&capabilities, &params)?;
        let result = self
            .request(rpc::CreateMessage::METHOD, Some(params.clone()), None)
            .await?;
        sampling_checks::check_result(&params, &result)?;
        Ok(result)
    }

    /// `resources/read` of `uri` on this server's own resources: the request goes through the
    /// server's handler as a client's would (not over the wire), and its answer comes back
    /// typed; an unknown URI, or a resource's own error, is that error.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, ErrorObject> {
        let params = match serde_json::to_value(ResourceRequestParams::new(uri)) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let handler = self.server.mcp_handler();
        let v = guard_panics(
            &*handler,
            self.clone(),
            rpc::ReadResource::METHOD.to_string(),
            Some(params),
        )
        .await?;
        serde_json::from_value(v).map_err(|e| {
            ErrorObject::internal_error(format!(
                "invalid {} result: {e}",
                rpc::ReadResource::METHOD
            ))
        })
    }

    /// `elicitation/create`.
    pub async fn elicit(&self, params: Map<String, Value>) -> Result<Value, ErrorObject> {
        self.request(rpc::Elicit::METHOD, Some(params), None).await
    }

    /// Asks the user for a `T` with `message` (form-mode `elicitation/create`, decided by
    /// [`mcp_sse_core::session::typed_elicit`]): `T`'s schema must be in the restricted subset
    /// and the client must declare form mode (else an error, and nothing is sent); accepted
    /// content is validated and deserialized into `T` (else `-32602`).
    pub async fn elicit_form<T: DeserializeOwned + JsonSchema>(
        &self,
        message: &str,
    ) -> Result<Elicited<T>, ErrorObject> {
        let capabilities = self.client().map(|c| c.capabilities).unwrap_or_default();
        let request = typed_elicit::form_request::<T>(&capabilities, message)?;
        let result = self.elicit(request.params.clone()).await?;
        Ok(typed_elicit::form_result(&request, result)?)
    }

    /// Asks the user to visit `url` (URL-mode `elicitation/create` with `elicitation_id`); the
    /// client must declare URL mode (else an error, and nothing is sent).
    pub async fn elicit_url(
        &self,
        message: &str,
        url: &str,
        elicitation_id: &str,
    ) -> Result<Elicited<()>, ErrorObject> {
        let capabilities = self.client().map(|c| c.capabilities).unwrap_or_default();
        let params = typed_elicit::url_request(&capabilities, message, url, elicitation_id)?;
        let result = self.elicit(params).await?;
        Ok(typed_elicit::url_result(result)?)
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
pub(crate) fn guard_panics(
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
