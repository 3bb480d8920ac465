//! The high-level server API: register tools, resources, resource templates, prompts and
//! completion with their handlers. The core's [`Router`] holds the definitions and makes every
//! decision (routing, pagination, unknown names, capabilities, result shapes); this builder keeps
//! the handlers, indexed as the router indexes the definitions, and runs the one a route names.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use mcp_sse_core::jsonrpc::ErrorObject;
use mcp_sse_core::mcp::rpc::{self, NotificationMethod};
use mcp_sse_core::router::typed::TypedTool;
use mcp_sse_core::router::typed_prompt::TypedPrompt;
use mcp_sse_core::router::{Route, Router};
use mcp_sse_core::schemars::JsonSchema;
use mcp_sse_core::session::{ServerConfig, ServerNotification};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

pub use mcp_sse_core::router::typed::{ToolDef, ToolOutput, ToolRegistrationError};
pub use mcp_sse_core::router::typed_prompt::{PromptDef, PromptOutput, PromptRegistrationError};
pub use mcp_sse_core::router::{ResourceRegistrationError, ToolError};

use crate::locked::relock;
use crate::rt::BoxFuture;
use crate::server::{Handler, McpServer, Params, RequestContext, SessionHandle};

type ToolFn = Arc<
    dyn Fn(RequestContext, Map<String, Value>) -> BoxFuture<'static, Result<Value, ToolError>>
        + Send
        + Sync,
>;
type ReadFn = Arc<
    dyn Fn(
            RequestContext,
            String,
            HashMap<String, String>,
        ) -> BoxFuture<'static, Result<Value, ErrorObject>>
        + Send
        + Sync,
>;
type PromptFn = Arc<
    dyn Fn(
            RequestContext,
            Option<Map<String, Value>>,
        ) -> BoxFuture<'static, Result<Value, ErrorObject>>
        + Send
        + Sync,
>;
type ParamsFn = Arc<
    dyn Fn(RequestContext, Map<String, Value>) -> BoxFuture<'static, Result<Value, ErrorObject>>
        + Send
        + Sync,
>;
type NotifyFn = Arc<dyn Fn(RequestContext, String, Params) -> BoxFuture<'static, ()> + Send + Sync>;

/// Builds an [`McpServer`] from registered features.
///
/// ```
/// use mcp_sse_glue::{ServerBuilder, ToolError};
/// use serde_json::json;
/// let server = ServerBuilder::new("demo", "1.0.0")
///     .instructions("Say hi.")
///     .tool(
///         json!({"name": "echo", "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}),
///         |_ctx, args| async move {
///             let text = args.get("text").and_then(|v| v.as_str()).ok_or(ToolError::from("text is required"))?;
///             Ok(json!({"content": [{"type": "text", "text": text}]}))
///         },
///     )
///     .build();
/// assert!(server.config().features.tools);
/// ```
pub struct ServerBuilder {
    info: Value,
    instructions: Option<String>,
    router: Router,
    /// The handlers, each at the index the router gave its definition.
    tools: Vec<ToolFn>,
    resources: Vec<ReadFn>,
    templates: Vec<ReadFn>,
    prompts: Vec<PromptFn>,
    completion: Option<ParamsFn>,
    subscribe: Option<(ParamsFn, ParamsFn)>,
    on_notification: Option<NotifyFn>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// A server named `name`, version `version`.
    pub fn new(name: &str, version: &str) -> Self {
        ServerBuilder {
            info: json!({"name": name, "version": version}),
            instructions: None,
            router: Router::new(),
            tools: Vec::new(),
            resources: Vec::new(),
            templates: Vec::new(),
            prompts: Vec::new(),
            completion: None,
            subscribe: None,
            on_notification: None,
        }
    }

    /// Replaces the whole `serverInfo` object (name, title, version, description, websiteUrl,
    /// icons, …).
    pub fn server_info(mut self, info: Value) -> Self {
        self.info = info;
        self
    }

    /// Sets `instructions`.
    pub fn instructions(mut self, text: &str) -> Self {
        self.instructions = Some(text.to_string());
        self
    }

    /// Paginates every list with pages of `n` items (opaque cursors).
    pub fn page_size(mut self, n: usize) -> Self {
        self.router.set_page_size(n);
        self
    }

    /// Whether to advertise and honour logging (default on).
    pub fn logging(mut self, on: bool) -> Self {
        self.router.set_logging(on);
        self
    }

    /// Whether to advertise `listChanged` for the registered features (default off).
    pub fn list_changed(mut self, on: bool) -> Self {
        self.router.set_list_changed(on);
        self
    }

    /// Registers a tool: `def` is the `Tool` object (`name`, `inputSchema`, optional
    /// `outputSchema`, `description`, …), `f` the handler. The handler's `Ok` value is the
    /// `CallToolResult`; `isError` defaults to `false`.
    pub fn tool<F, Fut>(mut self, def: Value, f: F) -> Self
    where
        F: Fn(RequestContext, Map<String, Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ToolError>> + Send + 'static,
    {
        if self.router.add_tool(def).is_some() {
            self.tools.push(Arc::new(move |c, a| Box::pin(f(c, a))));
        }
        self
    }

    /// Registers a tool from Rust types: the handler takes the arguments as an `A` and returns
    /// an `O`; the core's [`TypedTool`] does the rest.
    ///
    /// - `def` is the name, or a [`ToolDef`] with title, description, annotations, icons.
    /// - `A: DeserializeOwned + JsonSchema` gives the `inputSchema` (JSON Schema 2020-12; it
    ///   must describe an object: a struct or a map). Each call's arguments are validated
    ///   against it and deserialized as serde says; a failure is an `isError` result naming the
    ///   fields, and the handler does not run.
    /// - `O: Serialize + JsonSchema` gives the `outputSchema` and `structuredContent` (a
    ///   non-object wrapped as `{"result": …}`), mirrored as JSON text in one text block, and
    ///   checked against the schema before it is sent. A [`CallToolResult`] or one
    ///   [`ContentBlock`] is sent as it is, with no output schema.
    /// - `Err(ToolError::Tool(m))` and a panic are `isError` results (`Error executing tool
    ///   <name>: m`, a panic's text withheld); `Err(ToolError::Protocol(e))` is the JSON-RPC
    ///   error `e`.
    ///
    /// Errors at once, with a [`ToolRegistrationError`], for a name that breaks the 2025-11-25
    /// naming rule (1 to 128 of `A-Z a-z 0-9 _ - .`), a name already registered (typed or
    /// not), an argument type that is not an object, or a schema the validator rejects.
    ///
    /// [`CallToolResult`]: mcp_sse_core::mcp::CallToolResult
    /// [`ContentBlock`]: mcp_sse_core::mcp::ContentBlock
    ///
    /// ```
    /// use mcp_sse_glue::{ServerBuilder, ToolDef};
    /// use schemars::JsonSchema;
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Deserialize, JsonSchema)]
    /// struct AddArgs { a: i64, b: i64 }
    ///
    /// #[derive(Serialize, JsonSchema)]
    /// struct Sum { sum: i64 }
    ///
    /// let server = ServerBuilder::new("calc", "1.0.0")
    ///     .typed_tool("add", |_ctx, args: AddArgs| async move { Ok(args.a + args.b) })?
    ///     .typed_tool(
    ///         ToolDef::new("add_object").description("Add, as an object.").read_only(),
    ///         |_ctx, AddArgs { a, b }| async move {
    ///             a.checked_add(b).map(|sum| Sum { sum }).ok_or("overflow".into())
    ///         },
    ///     )?
    ///     .build();
    /// assert!(server.config().features.tools);
    ///
    /// let again = ServerBuilder::new("calc", "1.0.0")
    ///     .typed_tool("add", |_ctx, args: AddArgs| async move { Ok(args.a + args.b) })?
    ///     .typed_tool("add", |_ctx, args: AddArgs| async move { Ok(args.a - args.b) });
    /// assert!(again.is_err());
    /// # Ok::<(), mcp_sse_glue::ToolRegistrationError>(())
    /// ```
    pub fn typed_tool<A, O, F, Fut>(
        mut self,
        def: impl Into<ToolDef>,
        f: F,
    ) -> Result<Self, ToolRegistrationError>
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        O: ToolOutput + Send + 'static,
        F: Fn(RequestContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, ToolError>> + Send + 'static,
    {
        self.add_typed_tool(def, f)?;
        Ok(self)
    }

    fn add_typed_tool<A, O, F, Fut>(
        &mut self,
        def: impl Into<ToolDef>,
        f: F,
    ) -> Result<(), ToolRegistrationError>
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        O: ToolOutput + Send + 'static,
        F: Fn(RequestContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, ToolError>> + Send + 'static,
    {
        let tool = Arc::new(TypedTool::<A, O>::new(def)?);
        self.router.add_typed_tool(&tool)?;
        let f = Arc::new(f);
        self.tools.push(Arc::new(move |ctx, arguments| {
            let (tool, f) = (tool.clone(), f.clone());
            Box::pin(async move {
                let answer = match tool.arguments(arguments) {
                    Ok(args) => match run_guarded(move || f(ctx, args)).await {
                        Some(outcome) => tool.result(outcome),
                        None => tool.panicked(),
                    },
                    Err(rejected) => tool.result(Err(rejected)),
                };
                answer.map_err(ToolError::Protocol)
            })
        }));
        Ok(())
    }

    /// Registers a static resource: `def` is the `Resource` object (`uri`, `name`, …), `f`
    /// returns the `contents` array for `resources/read`. A second registration of the same
    /// `uri` is ignored.
    pub fn resource<F, Fut>(mut self, def: Value, f: F) -> Self
    where
        F: Fn(RequestContext, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
    {
        if self.router.add_resource(def).is_some() {
            self.resources
                .push(Arc::new(move |c, uri, _| Box::pin(f(c, uri))));
        }
        self
    }

    /// Like [`ServerBuilder::resource`], but a second registration of the same `uri` is an
    /// error instead of being ignored (the reference warns and keeps the first).
    pub fn try_resource<F, Fut>(
        mut self,
        def: Value,
        f: F,
    ) -> Result<Self, ResourceRegistrationError>
    where
        F: Fn(RequestContext, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
    {
        self.router.try_add_resource(def)?;
        self.resources
            .push(Arc::new(move |c, uri, _| Box::pin(f(c, uri))));
        Ok(self)
    }

    /// Like [`ServerBuilder::resource_template`], but a second registration of the same
    /// `uriTemplate` is an error instead of being ignored.
    pub fn try_resource_template<F, Fut>(
        mut self,
        def: Value,
        f: F,
    ) -> Result<Self, ResourceRegistrationError>
    where
        F: Fn(RequestContext, String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
    {
        self.router.try_add_template(def)?;
        self.templates
            .push(Arc::new(move |c, uri, vars| Box::pin(f(c, uri, vars))));
        Ok(self)
    }

    /// Registers a resource template (`uriTemplate` with `{name}` variables); `f` gets the URI
    /// and the extracted variables and returns the `contents` array. A second registration of
    /// the same `uriTemplate` is ignored.
    pub fn resource_template<F, Fut>(mut self, def: Value, f: F) -> Self
    where
        F: Fn(RequestContext, String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
    {
        if self.router.add_template(def).is_some() {
            self.templates
                .push(Arc::new(move |c, uri, vars| Box::pin(f(c, uri, vars))));
        }
        self
    }

    /// Registers a prompt: `def` is the `Prompt` object; `f` gets the arguments and returns the
    /// `GetPromptResult`.
    pub fn prompt<F, Fut>(mut self, def: Value, f: F) -> Self
    where
        F: Fn(RequestContext, Option<Map<String, Value>>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
    {
        if self.router.add_prompt(def).is_some() {
            self.prompts.push(Arc::new(move |c, a| Box::pin(f(c, a))));
        }
        self
    }

    /// Registers a prompt whose arguments are `A` (decided by
    /// [`mcp_sse_core::router::typed_prompt`]): the declared arguments come from `A`'s schema;
    /// `prompts/get` converts, validates and deserializes the arguments before `f` runs
    /// (missing required or invalid ones are `-32602`), so optional fields and defaults behave
    /// as serde says. `f` returns a string (one user message), messages or a `GetPromptResult`;
    /// a panic is `-32603 Error rendering prompt <name>`. A second prompt of the same name is
    /// an error.
    ///
    /// ```
    /// use mcp_sse_glue::{schemars::JsonSchema, ServerBuilder};
    /// #[derive(serde::Deserialize, JsonSchema)]
    /// struct Greet {
    ///     /// Who to greet.
    ///     name: String,
    /// }
    /// let server = ServerBuilder::new("greeter", "1")
    ///     .typed_prompt("greet", |_ctx, g: Greet| async move { Ok(format!("Say hello to {}.", g.name)) })?
    ///     .build();
    /// assert!(server.config().features.prompts);
    /// # Ok::<(), mcp_sse_glue::PromptRegistrationError>(())
    /// ```
    pub fn typed_prompt<A, O, F, Fut>(
        mut self,
        def: impl Into<PromptDef>,
        f: F,
    ) -> Result<Self, PromptRegistrationError>
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        O: PromptOutput + Send + 'static,
        F: Fn(RequestContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, ErrorObject>> + Send + 'static,
    {
        let prompt = Arc::new(TypedPrompt::<A>::new(def)?);
        self.router.add_typed_prompt(&prompt)?;
        let f = Arc::new(f);
        self.prompts.push(Arc::new(move |ctx, arguments| {
            let (prompt, f) = (prompt.clone(), f.clone());
            Box::pin(async move {
                let args = prompt.arguments(arguments)?;
                match run_guarded(move || f(ctx, args)).await {
                    Some(outcome) => prompt.result(outcome),
                    None => Err(prompt.panicked()),
                }
            })
        }));
        Ok(self)
    }

    /// Registers the `completion/complete` handler (params in, `CompleteResult` out).
    pub fn completion<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(RequestContext, Map<String, Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
    {
        self.router.enable_completion();
        self.completion = Some(Arc::new(move |c, p| Box::pin(f(c, p))));
        self
    }

    /// Registers `resources/subscribe` and `resources/unsubscribe` handlers (params in, result
    /// out), and advertises `subscribe`.
    pub fn subscriptions<S, SF, U, UF>(mut self, subscribe: S, unsubscribe: U) -> Self
    where
        S: Fn(RequestContext, Map<String, Value>) -> SF + Send + Sync + 'static,
        SF: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
        U: Fn(RequestContext, Map<String, Value>) -> UF + Send + Sync + 'static,
        UF: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
    {
        self.router.enable_subscriptions();
        self.subscribe = Some((
            Arc::new(move |c, p| Box::pin(subscribe(c, p))),
            Arc::new(move |c, p| Box::pin(unsubscribe(c, p))),
        ));
        self
    }

    /// Observes client notifications (`notifications/progress`, `notifications/roots/list_changed`, …).
    pub fn on_notification<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(RequestContext, String, Params) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_notification = Some(Arc::new(move |c, m, p| Box::pin(f(c, m, p))));
        self
    }

    /// Finishes the server.
    pub fn build(self) -> McpServer {
        self.finish().0
    }

    /// Finishes the server, with a [`ToolsHandle`] that adds and removes typed tools while it
    /// runs. The server then advertises `tools` with `listChanged`, even while it has none.
    ///
    /// ```
    /// use mcp_sse_glue::ServerBuilder;
    /// let (server, tools) = ServerBuilder::new("t", "1").build_with_handle();
    /// assert!(server.config().features.tools && server.config().features.tools_list_changed);
    /// # let _ = tools;
    /// ```
    pub fn build_with_handle(mut self) -> (McpServer, ToolsHandle) {
        self.router.declare_dynamic_tools();
        self.finish()
    }

    fn finish(self) -> (McpServer, ToolsHandle) {
        let config = ServerConfig {
            server_info: self.info.clone(),
            instructions: self.instructions.clone(),
            features: self.router.features(),
            ..ServerConfig::default()
        };
        let shared = Arc::new(Shared {
            b: RwLock::new(self),
            sessions: Mutex::new(Vec::new()),
        });
        let server = McpServer::new(
            config,
            Arc::new(Dispatch {
                shared: shared.clone(),
            }),
        );
        (server, ToolsHandle { shared })
    }
}

/// What the dispatcher and a [`ToolsHandle`] share: the registrations, and the sessions to tell
/// about changes.
struct Shared {
    b: RwLock<ServerBuilder>,
    /// Every session that finished its handshake (pruned of ended ones as new ones come).
    sessions: Mutex<Vec<SessionHandle>>,
}

impl Shared {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, ServerBuilder> {
        self.b.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, ServerBuilder> {
        self.b.write().unwrap_or_else(|p| p.into_inner())
    }

    fn live_sessions(&self) -> Vec<SessionHandle> {
        let mut s = relock(&self.sessions);
        s.retain(SessionHandle::is_live);
        s.clone()
    }
}

/// Adds and removes typed tools of a running server (from
/// [`ServerBuilder::build_with_handle`]); each change sends `notifications/tools/list_changed`
/// to every connected session, as the specification says a server with `listChanged` should
/// (the reference's `MCPServer` sends nothing). Cheap to clone.
#[derive(Clone)]
pub struct ToolsHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ToolsHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolsHandle").finish_non_exhaustive()
    }
}

impl ToolsHandle {
    /// Registers a typed tool as [`ServerBuilder::typed_tool`] does, then tells the sessions.
    pub async fn add_typed_tool<A, O, F, Fut>(
        &self,
        def: impl Into<ToolDef>,
        f: F,
    ) -> Result<(), ToolRegistrationError>
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        O: ToolOutput + Send + 'static,
        F: Fn(RequestContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, ToolError>> + Send + 'static,
    {
        self.shared.write().add_typed_tool(def, f)?;
        self.tools_changed().await;
        Ok(())
    }

    /// Removes the tool named `name` (calls in flight finish); `false` when there is none.
    /// Tells the sessions when one was removed.
    pub async fn remove_tool(&self, name: &str) -> bool {
        let removed = {
            let mut b = self.shared.write();
            match b.router.remove_tool(name) {
                Some(i) if i < b.tools.len() => {
                    b.tools.remove(i);
                    true
                }
                Some(_) | None => false,
            }
        };
        if removed {
            self.tools_changed().await;
        }
        removed
    }

    async fn tools_changed(&self) {
        for session in self.shared.live_sessions() {
            session.send(ServerNotification::ToolsListChanged).await;
        }
    }
}

/// Starts `start` and runs the future it returns; `None` if either panicked.
async fn run_guarded<T, Fut: Future<Output = T>>(start: impl FnOnce() -> Fut) -> Option<T> {
    use futures_lite::FutureExt;
    use std::panic::AssertUnwindSafe;
    let fut = std::panic::catch_unwind(AssertUnwindSafe(start)).ok()?;
    AssertUnwindSafe(fut).catch_unwind().await.ok()
}

/// Runs the handler the core's [`Router`] routes each request to.
struct Dispatch {
    shared: Arc<Shared>,
}

fn ready(r: Result<Value, ErrorObject>) -> BoxFuture<'static, Result<Value, ErrorObject>> {
    Box::pin(async move { r })
}

/// The handler a route names, if it is registered; the router only names registered ones, so
/// `None` is an internal error, answered as one rather than a panic.
fn handler<F: Clone>(list: &[F], i: usize) -> Result<F, ErrorObject> {
    list.get(i)
        .cloned()
        .ok_or_else(|| ErrorObject::internal_error("no handler for the routed index"))
}

impl Handler for Dispatch {
    fn handle_request(
        &self,
        ctx: RequestContext,
        method: String,
        params: Params,
    ) -> BoxFuture<'static, Result<Value, ErrorObject>> {
        let b = self.shared.read();
        let routed: Result<BoxFuture<'static, Result<Value, ErrorObject>>, ErrorObject> =
            match b.router.route(&method, params) {
                Route::Answer(r) => return ready(r),
                Route::CallTool { tool, arguments } => handler(&b.tools, tool).map(|f| {
                    let fut = f(ctx, arguments);
                    Box::pin(async move { Router::tool_result(fut.await) }) as BoxFuture<'_, _>
                }),
                Route::ReadResource { resource, uri } => {
                    handler(&b.resources, resource).map(|f| read(f, ctx, uri, HashMap::new()))
                }
                Route::ReadTemplate {
                    template,
                    uri,
                    variables,
                } => handler(&b.templates, template).map(|f| read(f, ctx, uri, variables)),
                Route::GetPrompt { prompt, arguments } => {
                    handler(&b.prompts, prompt).map(|f| f(ctx, arguments))
                }
                Route::Complete { params } => optional(&b.completion).map(|f| f(ctx, params)),
                Route::Subscribe { params } => {
                    optional(&b.subscribe.as_ref().map(|s| s.0.clone())).map(|f| f(ctx, params))
                }
                Route::Unsubscribe { params } => {
                    optional(&b.subscribe.as_ref().map(|s| s.1.clone())).map(|f| f(ctx, params))
                }
            };
        routed.unwrap_or_else(|e| ready(Err(e)))
    }

    fn handle_notification(
        &self,
        ctx: RequestContext,
        method: String,
        params: Params,
    ) -> BoxFuture<'static, ()> {
        if method == <rpc::Initialized as NotificationMethod>::METHOD {
            let mut sessions = relock(&self.shared.sessions);
            sessions.retain(SessionHandle::is_live);
            sessions.push(ctx.session_handle());
        }
        let on_notification = self.shared.read().on_notification.clone();
        match on_notification {
            Some(f) => f(ctx, method, params),
            None => Box::pin(async {}),
        }
    }
}

/// Runs resource handler `f` for `uri`: its contents, or its own error; a panic is the
/// reference's `-32603 Error reading resource <uri>` (the panic's text is not sent).
fn read(
    f: ReadFn,
    ctx: RequestContext,
    uri: String,
    variables: HashMap<String, String>,
) -> BoxFuture<'static, Result<Value, ErrorObject>> {
    Box::pin(async move {
        let u = uri.clone();
        match run_guarded(move || f(ctx, u, variables)).await {
            Some(contents) => Router::read_result(contents),
            None => Err(Router::read_failed(&uri)),
        }
    })
}

/// The optional handler a route names (the router routes to it only once it is declared).
fn optional(f: &Option<ParamsFn>) -> Result<ParamsFn, ErrorObject> {
    f.clone()
        .ok_or_else(|| ErrorObject::internal_error("no handler for the routed request"))
}
