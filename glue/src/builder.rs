//! The high-level server API: register tools, resources, resource templates, prompts and
//! completion; the builder routes requests to them, paginates lists and derives the advertised
//! capabilities from what was registered.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_core::mcp::methods;
use mcp_sse_core::session::{ServerConfig, ServerFeatures};
use serde_json::{json, Map, Value};

use crate::rt::BoxFuture;
use crate::server::{Handler, McpServer, Params, RequestContext};

/// How a tool call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolError {
    /// A tool-level failure: returned as a result with `isError: true` and this text.
    Tool(String),
    /// A protocol-level failure: returned as this JSON-RPC error (e.g. -32042).
    Protocol(ErrorObject),
}

impl From<ErrorObject> for ToolError {
    fn from(e: ErrorObject) -> Self {
        ToolError::Protocol(e)
    }
}

impl From<String> for ToolError {
    fn from(e: String) -> Self {
        ToolError::Tool(e)
    }
}

impl From<&str> for ToolError {
    fn from(e: &str) -> Self {
        ToolError::Tool(e.to_string())
    }
}

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

struct Entry<F> {
    def: Value,
    f: F,
}

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
    tools: Vec<Entry<ToolFn>>,
    resources: Vec<Entry<ReadFn>>,
    templates: Vec<Entry<ReadFn>>,
    prompts: Vec<Entry<PromptFn>>,
    completion: Option<ParamsFn>,
    subscribe: Option<(ParamsFn, ParamsFn)>,
    on_notification: Option<NotifyFn>,
    page_size: Option<usize>,
    logging: bool,
    list_changed: bool,
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
            tools: Vec::new(),
            resources: Vec::new(),
            templates: Vec::new(),
            prompts: Vec::new(),
            completion: None,
            subscribe: None,
            on_notification: None,
            page_size: None,
            logging: true,
            list_changed: false,
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
        self.page_size = Some(n.max(1));
        self
    }

    /// Whether to advertise and honour logging (default on).
    pub fn logging(mut self, on: bool) -> Self {
        self.logging = on;
        self
    }

    /// Whether to advertise `listChanged` for the registered features (default off).
    pub fn list_changed(mut self, on: bool) -> Self {
        self.list_changed = on;
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
        if !self.has_named(&self.tools, &def) {
            self.tools.push(Entry {
                def,
                f: Arc::new(move |c, a| Box::pin(f(c, a))),
            });
        }
        self
    }

    /// Registers a static resource: `def` is the `Resource` object (`uri`, `name`, …), `f`
    /// returns the `contents` array for `resources/read`. A second registration of the same
    /// `uri` is ignored.
    pub fn resource<F, Fut>(mut self, def: Value, f: F) -> Self
    where
        F: Fn(RequestContext, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
    {
        if !has_key(&self.resources, &def, "uri") {
            self.resources.push(Entry {
                def,
                f: Arc::new(move |c, uri, _| Box::pin(f(c, uri))),
            });
        }
        self
    }

    /// Registers a resource template (`uriTemplate` with `{name}` variables); `f` gets the URI
    /// and the extracted variables and returns the `contents` array. A second registration of
    /// the same `uriTemplate` is ignored.
    pub fn resource_template<F, Fut>(mut self, def: Value, f: F) -> Self
    where
        F: Fn(RequestContext, String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
    {
        if !has_key(&self.templates, &def, "uriTemplate") {
            self.templates.push(Entry {
                def,
                f: Arc::new(move |c, uri, vars| Box::pin(f(c, uri, vars))),
            });
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
        if !self.has_named(&self.prompts, &def) {
            self.prompts.push(Entry {
                def,
                f: Arc::new(move |c, a| Box::pin(f(c, a))),
            });
        }
        self
    }

    /// Registers the `completion/complete` handler (params in, `CompleteResult` out).
    pub fn completion<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(RequestContext, Map<String, Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ErrorObject>> + Send + 'static,
    {
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

    fn has_named<F>(&self, list: &[Entry<F>], def: &Value) -> bool {
        has_key(list, def, "name")
    }

    /// Finishes the server.
    pub fn build(self) -> McpServer {
        let features = ServerFeatures {
            tools: !self.tools.is_empty(),
            resources: !self.resources.is_empty()
                || !self.templates.is_empty()
                || self.subscribe.is_some(),
            resources_subscribe: self.subscribe.is_some(),
            prompts: !self.prompts.is_empty(),
            completions: self.completion.is_some(),
            logging: self.logging,
            tools_list_changed: self.list_changed,
            resources_list_changed: self.list_changed,
            prompts_list_changed: self.list_changed,
        };
        let config = ServerConfig {
            server_info: self.info.clone(),
            instructions: self.instructions.clone(),
            features,
            ..ServerConfig::default()
        };
        McpServer::new(config, Arc::new(Router { b: self }))
    }
}

/// Whether `list` already has an entry with `def`'s `key` (duplicates keep the first
/// registration, as the reference does: tools and prompts by name, resources by URI, templates
/// by URI template).
fn has_key<F>(list: &[Entry<F>], def: &Value, key: &str) -> bool {
    let k = def.get(key);
    k.is_some() && list.iter().any(|e| e.def.get(key) == k)
}

struct Router {
    b: ServerBuilder,
}

fn invalid_params(message: &str, data: Option<Value>) -> ErrorObject {
    let e = ErrorObject::new(codes::INVALID_PARAMS, message);
    match data {
        Some(d) => e.with_data(d),
        None => e,
    }
}

impl Router {
    fn page(&self, items: Vec<Value>, key: &str, params: &Params) -> Result<Value, ErrorObject> {
        let cursor = params
            .as_ref()
            .and_then(|p| p.get("cursor"))
            .and_then(Value::as_str);
        let start = match cursor {
            None => 0,
            Some(c) => c
                .strip_prefix("page-")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= items.len())
                .ok_or_else(|| {
                    invalid_params("Invalid cursor", Some(Value::String(c.to_string())))
                })?,
        };
        let size = self.b.page_size.unwrap_or(usize::MAX);
        let end = start.saturating_add(size).min(items.len());
        let mut out = Map::new();
        out.insert(key.into(), Value::Array(items[start..end].to_vec()));
        if end < items.len() {
            out.insert("nextCursor".into(), Value::String(format!("page-{end}")));
        }
        Ok(Value::Object(out))
    }

    fn call_tool(
        &self,
        ctx: RequestContext,
        params: Params,
    ) -> BoxFuture<'static, Result<Value, ErrorObject>> {
        let params = params.unwrap_or_default();
        let Some(name) = params
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Box::pin(async {
                Err(invalid_params(
                    "Invalid request parameters",
                    Some(Value::String(String::new())),
                ))
            });
        };
        let args = match params.get("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return Box::pin(async {
                    Err(invalid_params(
                        "Invalid request parameters",
                        Some(Value::String(String::new())),
                    ))
                })
            }
        };
        let Some(entry) = self
            .b
            .tools
            .iter()
            .find(|t| t.def.get("name").and_then(Value::as_str) == Some(&name))
        else {
            let text = format!("Unknown tool: {name}");
            return Box::pin(async move {
                Ok(json!({"content": [{"type": "text", "text": text}], "isError": true}))
            });
        };
        let f = entry.f.clone();
        Box::pin(async move {
            match f(ctx, args).await {
                Ok(mut v) => {
                    if let Value::Object(m) = &mut v {
                        m.entry("isError").or_insert(Value::Bool(false));
                    }
                    Ok(v)
                }
                Err(ToolError::Tool(text)) => {
                    Ok(json!({"content": [{"type": "text", "text": text}], "isError": true}))
                }
                Err(ToolError::Protocol(e)) => Err(e),
            }
        })
    }

    fn read_resource(
        &self,
        ctx: RequestContext,
        params: Params,
    ) -> BoxFuture<'static, Result<Value, ErrorObject>> {
        let Some(uri) = params
            .as_ref()
            .and_then(|p| p.get("uri"))
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Box::pin(async {
                Err(invalid_params(
                    "Invalid request parameters",
                    Some(Value::String(String::new())),
                ))
            });
        };
        let found = self
            .b
            .resources
            .iter()
            .find(|r| r.def.get("uri").and_then(Value::as_str) == Some(&uri))
            .map(|r| (r.f.clone(), HashMap::new()))
            .or_else(|| {
                self.b.templates.iter().find_map(|t| {
                    let tpl = t.def.get("uriTemplate").and_then(Value::as_str)?;
                    match_template(tpl, &uri).map(|vars| (t.f.clone(), vars))
                })
            });
        let Some((f, vars)) = found else {
            return Box::pin(async move {
                Err(invalid_params(
                    "Resource not found",
                    Some(json!({"uri": uri})),
                ))
            });
        };
        Box::pin(async move {
            let contents = f(ctx, uri, vars).await?;
            Ok(json!({ "contents": contents }))
        })
    }
}

/// Matches `uri` against an RFC 6570 level-1 template (`{name}` matches one or more characters
/// other than `/`); returns the variables.
pub fn match_template(template: &str, uri: &str) -> Option<HashMap<String, String>> {
    let mut vars = HashMap::new();
    let mut t = template;
    let mut u = uri;
    while !t.is_empty() {
        if let Some(rest) = t.strip_prefix('{') {
            let close = rest.find('}')?;
            let name = &rest[..close];
            t = &rest[close + 1..];
            // The variable runs up to the next literal of the template (or '/' / end).
            let next_lit: String = t.chars().take_while(|c| *c != '{').collect();
            let end = if next_lit.is_empty() {
                u.find('/').unwrap_or(u.len())
            } else {
                u.find(next_lit.as_str())?
            };
            let value = &u[..end];
            if value.is_empty() || value.contains('/') {
                return None;
            }
            vars.insert(name.to_string(), value.to_string());
            u = &u[end..];
        } else {
            let lit_len = t.find('{').unwrap_or(t.len());
            let lit = &t[..lit_len];
            u = u.strip_prefix(lit)?;
            t = &t[lit_len..];
        }
    }
    u.is_empty().then_some(vars)
}

impl Handler for Router {
    fn handle_request(
        &self,
        ctx: RequestContext,
        method: String,
        params: Params,
    ) -> BoxFuture<'static, Result<Value, ErrorObject>> {
        match method.as_str() {
            methods::TOOLS_LIST => {
                let r = self.page(
                    self.b.tools.iter().map(|e| e.def.clone()).collect(),
                    "tools",
                    &params,
                );
                Box::pin(async move { r })
            }
            methods::TOOLS_CALL => self.call_tool(ctx, params),
            methods::RESOURCES_LIST => {
                let r = self.page(
                    self.b.resources.iter().map(|e| e.def.clone()).collect(),
                    "resources",
                    &params,
                );
                Box::pin(async move { r })
            }
            methods::RESOURCES_TEMPLATES_LIST => {
                let r = self.page(
                    self.b.templates.iter().map(|e| e.def.clone()).collect(),
                    "resourceTemplates",
                    &params,
                );
                Box::pin(async move { r })
            }
            methods::RESOURCES_READ => self.read_resource(ctx, params),
            methods::RESOURCES_SUBSCRIBE | methods::RESOURCES_UNSUBSCRIBE => {
                match &self.b.subscribe {
                    Some((s, u)) => {
                        let f = if method == methods::RESOURCES_SUBSCRIBE {
                            s.clone()
                        } else {
                            u.clone()
                        };
                        f(ctx, params.unwrap_or_default())
                    }
                    None => Box::pin(async move { Err(ErrorObject::method_not_found(&method)) }),
                }
            }
            methods::PROMPTS_LIST => {
                let r = self.page(
                    self.b.prompts.iter().map(|e| e.def.clone()).collect(),
                    "prompts",
                    &params,
                );
                Box::pin(async move { r })
            }
            methods::PROMPTS_GET => {
                let p = params.unwrap_or_default();
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let args = p.get("arguments").and_then(Value::as_object).cloned();
                match self
                    .b
                    .prompts
                    .iter()
                    .find(|e| e.def.get("name").and_then(Value::as_str) == Some(&name))
                {
                    Some(e) => (e.f)(ctx, args),
                    None => Box::pin(async move {
                        Err(invalid_params(&format!("Unknown prompt: {name}"), None))
                    }),
                }
            }
            methods::COMPLETION_COMPLETE => match &self.b.completion {
                Some(f) => f(ctx, params.unwrap_or_default()),
                None => Box::pin(async move { Err(ErrorObject::method_not_found(&method)) }),
            },
            _ => Box::pin(async move { Err(ErrorObject::method_not_found(&method)) }),
        }
    }

    fn handle_notification(
        &self,
        ctx: RequestContext,
        method: String,
        params: Params,
    ) -> BoxFuture<'static, ()> {
        match &self.b.on_notification {
            Some(f) => f(ctx, method, params),
            None => Box::pin(async {}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let v = match_template("file:///{dir}/{name}.txt", "file:///a/b.txt").unwrap();
        assert_eq!(v["dir"], "a");
        assert_eq!(v["name"], "b");
        assert!(match_template("file:///{dir}/{name}.txt", "file:///a/b/c.txt").is_none());
        assert!(match_template("greeting://{name}", "greeting://").is_none());
        assert_eq!(
            match_template("greeting://{name}", "greeting://bob").unwrap()["name"],
            "bob"
        );
    }
}
