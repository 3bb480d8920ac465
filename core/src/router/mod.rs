//! The MCP server application's routing, sans-IO: which registered tool, resource, resource
//! template or prompt a request is for, the answers that need no handler (lists and their
//! pagination, `Unknown tool`, `Resource not found`, `Unknown prompt`, bad params), the
//! capabilities derived from what is registered, and the shape of a handler's outcome on the
//! wire (`isError` results, `contents` wrapping).
//!
//! A [`Router`] holds definitions only; the handlers live with the caller (an async layer keeps
//! them in a list parallel to the router's indices, a blocking server in a `match`). For a
//! request the session passed on ([`crate::session::ServerEvent::Request`]), [`Router::route`]
//! says what to do: answer now, or run handler *n* with these arguments and pass its outcome
//! through the matching `*_result` function.
//!
//! ```
//! use mcp_sse_core::router::{Route, Router, ToolError};
//! use serde_json::json;
//!
//! let mut router = Router::new();
//! let echo = router.add_tool(json!({"name": "echo", "inputSchema": {"type": "object"}})).unwrap();
//! assert!(router.features().tools);
//!
//! let params = json!({"name": "echo", "arguments": {"text": "hi"}});
//! let Route::CallTool { tool, arguments } = router.route("tools/call", params.as_object().cloned())
//! else { panic!() };
//! assert_eq!(tool, echo);
//! // ... the application runs its handler number `tool` with `arguments` ...
//! let outcome = Ok(json!({"content": [{"type": "text", "text": arguments["text"]}]}));
//! let result = Router::tool_result(outcome).unwrap();
//! assert_eq!(result["isError"], false);
//! assert_eq!(Router::tool_result(Err(ToolError::from("boom"))).unwrap()["isError"], true);
//!
//! let unknown = json!({"name": "nope"});
//! let Route::Answer(Ok(r)) = router.route("tools/call", unknown.as_object().cloned()) else { panic!() };
//! assert_eq!(r["content"][0]["text"], "Unknown tool: nope");
//! ```

mod page;
mod template;
pub mod typed;
pub mod typed_prompt;

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::jsonrpc::ErrorObject;
use crate::mcp::methods;
use crate::session::ServerFeatures;

pub use template::match_template;

/// Params of a request or notification: a JSON object, or absent.
pub type Params = Option<Map<String, Value>>;

/// How a tool call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolError {
    /// A tool-level failure: returned as a result with `isError: true` and this text (a typed
    /// tool's prefixed `Error executing tool <name>: `, as the reference words it).
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

/// What to do with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// Answer at once with this (lists, unknown names, bad params, features not registered).
    Answer(Result<Value, ErrorObject>),
    /// Run tool handler `tool` (the index [`Router::add_tool`] returned) with `arguments`; pass
    /// its outcome through [`Router::tool_result`].
    CallTool {
        /// The tool's index.
        tool: usize,
        /// `params.arguments` (empty when absent or `null`).
        arguments: Map<String, Value>,
    },
    /// Run static resource handler `resource` for `uri`; pass the `contents` it returns through
    /// [`Router::read_result`].
    ReadResource {
        /// The resource's index.
        resource: usize,
        /// The requested URI.
        uri: String,
    },
    /// Run template handler `template` for `uri` with the template's `variables`; pass the
    /// `contents` it returns through [`Router::read_result`].
    ReadTemplate {
        /// The template's index.
        template: usize,
        /// The requested URI.
        uri: String,
        /// The template's variables, as matched in `uri`.
        variables: HashMap<String, String>,
    },
    /// Run prompt handler `prompt` with `arguments`; its `GetPromptResult` is the answer.
    GetPrompt {
        /// The prompt's index.
        prompt: usize,
        /// `params.arguments`, if an object.
        arguments: Option<Map<String, Value>>,
    },
    /// Run the completion handler with the request's params; its `CompleteResult` is the answer.
    Complete {
        /// The request's params (empty when absent).
        params: Map<String, Value>,
    },
    /// Run the subscribe handler with the request's params.
    Subscribe {
        /// The request's params (empty when absent).
        params: Map<String, Value>,
    },
    /// Run the unsubscribe handler with the request's params.
    Unsubscribe {
        /// The request's params (empty when absent).
        params: Map<String, Value>,
    },
}

/// Why a resource or template could not be registered by [`Router::try_add_resource`] or
/// [`Router::try_add_template`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceRegistrationError {
    /// A resource of this `uri` is already registered (the reference warns and keeps the first).
    #[error("a resource with uri {0:?} is already registered")]
    DuplicateUri(String),
    /// A template of this `uriTemplate` is already registered.
    #[error("a resource template {0:?} is already registered")]
    DuplicateTemplate(String),
    /// The definition has no string `uri` (resource) or `uriTemplate` (template).
    #[error("the definition has no string {0:?}")]
    MissingKey(&'static str),
}

/// The registered features of one server, and the routing of requests to them.
#[derive(Debug, Clone, Default)]
pub struct Router {
    tools: Vec<Value>,
    resources: Vec<Value>,
    templates: Vec<Value>,
    prompts: Vec<Value>,
    completion: bool,
    subscriptions: bool,
    logging: bool,
    list_changed: bool,
    dynamic_tools: bool,
    page_size: Option<usize>,
}

impl Router {
    /// A router with nothing registered, logging on, `listChanged` off, no pagination.
    pub fn new() -> Self {
        Router {
            logging: true,
            ..Router::default()
        }
    }

    /// Paginates every list with pages of `n` items (at least 1).
    pub fn set_page_size(&mut self, n: usize) {
        self.page_size = Some(n.max(1));
    }

    /// Whether to advertise and honour logging.
    pub fn set_logging(&mut self, on: bool) {
        self.logging = on;
    }

    /// Whether to advertise `listChanged` for the registered features.
    pub fn set_list_changed(&mut self, on: bool) {
        self.list_changed = on;
    }

    /// Registers a tool definition (the `Tool` object); its index, or `None` when a tool of
    /// that `name` is already registered (the first registration stays, as the reference does).
    pub fn add_tool(&mut self, def: Value) -> Option<usize> {
        add_unique(&mut self.tools, def, "name")
    }

    /// Registers a typed tool's definition; its index, or
    /// [`DuplicateName`](typed::ToolRegistrationError::DuplicateName) when a tool of that name is
    /// already registered (typed or not: unlike [`add_tool`](Self::add_tool), a typed
    /// registration never silently loses to an earlier one).
    ///
    /// ```
    /// use mcp_sse_core::mcp::CallToolResult;
    /// use mcp_sse_core::router::typed::{ToolRegistrationError, TypedTool};
    /// use mcp_sse_core::router::Router;
    /// type Args = serde_json::Map<String, serde_json::Value>;
    /// let mut router = Router::new();
    /// let tool = TypedTool::<Args, CallToolResult>::new("t")?;
    /// assert_eq!(router.add_typed_tool(&tool), Ok(0));
    /// assert_eq!(
    ///     router.add_typed_tool(&tool),
    ///     Err(ToolRegistrationError::DuplicateName("t".into()))
    /// );
    /// # Ok::<(), ToolRegistrationError>(())
    /// ```
    pub fn add_typed_tool<A, O>(
        &mut self,
        tool: &typed::TypedTool<A, O>,
    ) -> Result<usize, typed::ToolRegistrationError>
    where
        A: serde::de::DeserializeOwned + schemars::JsonSchema,
        O: typed::ToolOutput,
    {
        let name = &tool.tool().name;
        if find(&self.tools, "name", name).is_some() {
            return Err(typed::ToolRegistrationError::DuplicateName(name.clone()));
        }
        self.tools.push(tool.definition().clone());
        Ok(self.tools.len() - 1)
    }

    /// Registers a static resource; a second resource of its `uri` is an error.
    pub fn try_add_resource(&mut self, def: Value) -> Result<usize, ResourceRegistrationError> {
        let uri = def
            .get("uri")
            .and_then(Value::as_str)
            .ok_or(ResourceRegistrationError::MissingKey("uri"))?
            .to_string();
        self.add_resource(def)
            .ok_or(ResourceRegistrationError::DuplicateUri(uri))
    }

    /// Registers a resource template; a second template of its `uriTemplate` is an error.
    pub fn try_add_template(&mut self, def: Value) -> Result<usize, ResourceRegistrationError> {
        let tpl = def
            .get("uriTemplate")
            .and_then(Value::as_str)
            .ok_or(ResourceRegistrationError::MissingKey("uriTemplate"))?
            .to_string();
        self.add_template(def)
            .ok_or(ResourceRegistrationError::DuplicateTemplate(tpl))
    }

    /// The answer to `resources/read` of `uri` when its handler failed without choosing an
    /// error (it panicked): `-32603 Error reading resource <uri>` with the URI in `data`, the
    /// failure's own text kept on the server, as the reference answers.
    pub fn read_failed(uri: &str) -> ErrorObject {
        ErrorObject::internal_error(format!("Error reading resource {uri}"))
            .with_data(json!({ "uri": uri }))
    }

    /// Registers a typed prompt (see [`typed_prompt`]); a second prompt of its name is an
    /// error (the untyped [`Router::add_prompt`] keeps the first, as the reference does).
    pub fn add_typed_prompt<A>(
        &mut self,
        prompt: &typed_prompt::TypedPrompt<A>,
    ) -> Result<usize, typed_prompt::PromptRegistrationError>
    where
        A: serde::de::DeserializeOwned + schemars::JsonSchema,
    {
        let name = prompt.name();
        if find(&self.prompts, "name", name).is_some() {
            return Err(typed_prompt::PromptRegistrationError::DuplicateName(
                name.to_string(),
            ));
        }
        self.prompts.push(prompt.definition().clone());
        Ok(self.prompts.len() - 1)
    }

    /// Removes the tool named `name`; the index it had (later tools move down by one), or
    /// `None` when there is none.
    pub fn remove_tool(&mut self, name: &str) -> Option<usize> {
        let i = find(&self.tools, "name", name)?;
        self.tools.remove(i);
        Some(i)
    }

    /// Advertises the `tools` capability (with `listChanged`) even while no tool is registered,
    /// for a server whose tools come and go while it runs.
    pub fn declare_dynamic_tools(&mut self) {
        self.dynamic_tools = true;
    }

    /// Registers a static resource (the `Resource` object); `None` for a second `uri`.
    pub fn add_resource(&mut self, def: Value) -> Option<usize> {
        add_unique(&mut self.resources, def, "uri")
    }

    /// Registers a resource template (the `ResourceTemplate` object); `None` for a second
    /// `uriTemplate`.
    pub fn add_template(&mut self, def: Value) -> Option<usize> {
        add_unique(&mut self.templates, def, "uriTemplate")
    }

    /// Registers a prompt (the `Prompt` object); `None` for a second `name`.
    pub fn add_prompt(&mut self, def: Value) -> Option<usize> {
        add_unique(&mut self.prompts, def, "name")
    }

    /// Declares a `completion/complete` handler.
    pub fn enable_completion(&mut self) {
        self.completion = true;
    }

    /// Declares `resources/subscribe` and `resources/unsubscribe` handlers.
    pub fn enable_subscriptions(&mut self) {
        self.subscriptions = true;
    }

    /// The features to advertise and serve, derived from what is registered.
    pub fn features(&self) -> ServerFeatures {
        ServerFeatures {
            tools: !self.tools.is_empty() || self.dynamic_tools,
            resources: !self.resources.is_empty()
                || !self.templates.is_empty()
                || self.subscriptions,
            resources_subscribe: self.subscriptions,
            prompts: !self.prompts.is_empty(),
            completions: self.completion,
            logging: self.logging,
            tools_list_changed: self.list_changed || self.dynamic_tools,
            resources_list_changed: self.list_changed,
            prompts_list_changed: self.list_changed,
        }
    }

    /// What to do with request `method` with `params`.
    pub fn route(&self, method: &str, params: Params) -> Route {
        let size = self.page_size;
        let list = |items: &[Value], key: &str| {
            Route::Answer(page::page(items, key, params.as_ref(), size))
        };
        match method {
            methods::TOOLS_LIST => list(&self.tools, "tools"),
            methods::RESOURCES_LIST => list(&self.resources, "resources"),
            methods::RESOURCES_TEMPLATES_LIST => list(&self.templates, "resourceTemplates"),
            methods::PROMPTS_LIST => list(&self.prompts, "prompts"),
            methods::TOOLS_CALL => self.route_call(params.unwrap_or_default()),
            methods::RESOURCES_READ => self.route_read(params),
            methods::PROMPTS_GET => self.route_prompt(params.unwrap_or_default()),
            methods::RESOURCES_SUBSCRIBE if self.subscriptions => Route::Subscribe {
                params: params.unwrap_or_default(),
            },
            methods::RESOURCES_UNSUBSCRIBE if self.subscriptions => Route::Unsubscribe {
                params: params.unwrap_or_default(),
            },
            methods::COMPLETION_COMPLETE if self.completion => Route::Complete {
                params: params.unwrap_or_default(),
            },
            _ => Route::Answer(Err(ErrorObject::method_not_found(method))),
        }
    }

    fn route_call(&self, params: Map<String, Value>) -> Route {
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return Route::Answer(Err(ErrorObject::invalid_params()));
        };
        let arguments = match params.get("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Route::Answer(Err(ErrorObject::invalid_params())),
        };
        match find(&self.tools, "name", name) {
            Some(tool) => Route::CallTool { tool, arguments },
            None => Route::Answer(Ok(tool_failure(&format!("Unknown tool: {name}")))),
        }
    }

    fn route_read(&self, params: Params) -> Route {
        let Some(uri) = params
            .as_ref()
            .and_then(|p| p.get("uri"))
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Route::Answer(Err(ErrorObject::invalid_params()));
        };
        if let Some(resource) = find(&self.resources, "uri", &uri) {
            return Route::ReadResource { resource, uri };
        }
        let matched = self.templates.iter().enumerate().find_map(|(i, t)| {
            let tpl = t.get("uriTemplate").and_then(Value::as_str)?;
            match_template(tpl, &uri).map(|vars| (i, vars))
        });
        match matched {
            Some((template, variables)) => Route::ReadTemplate {
                template,
                uri,
                variables,
            },
            None => Route::Answer(Err(ErrorObject::invalid_params_with(
                "Resource not found",
                Some(json!({ "uri": uri })),
            ))),
        }
    }

    fn route_prompt(&self, params: Map<String, Value>) -> Route {
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let arguments = params.get("arguments").and_then(Value::as_object).cloned();
        match find(&self.prompts, "name", name) {
            Some(prompt) => Route::GetPrompt { prompt, arguments },
            None => Route::Answer(Err(ErrorObject::invalid_params_with(
                format!("Unknown prompt: {name}"),
                None,
            ))),
        }
    }

    /// The answer to `tools/call` from a tool handler's outcome: its `CallToolResult` with
    /// `isError` defaulting to `false`; a [`ToolError::Tool`] as an `isError: true` result
    /// with its text; a [`ToolError::Protocol`] as that JSON-RPC error.
    pub fn tool_result(outcome: Result<Value, ToolError>) -> Result<Value, ErrorObject> {
        match outcome {
            Ok(mut v) => {
                if let Value::Object(m) = &mut v {
                    m.entry("isError").or_insert(Value::Bool(false));
                }
                Ok(v)
            }
            Err(ToolError::Tool(text)) => Ok(tool_failure(&text)),
            Err(ToolError::Protocol(e)) => Err(e),
        }
    }

    /// The answer to `resources/read` from a resource or template handler's `contents`.
    pub fn read_result(contents: Result<Value, ErrorObject>) -> Result<Value, ErrorObject> {
        contents.map(|contents| json!({ "contents": contents }))
    }
}

/// A `CallToolResult` with `isError: true` and one text block.
fn tool_failure(text: &str) -> Value {
    json!({"content": [{"type": "text", "text": text}], "isError": true})
}

/// The index of the entry whose `key` is `value`.
fn find(list: &[Value], key: &str, value: &str) -> Option<usize> {
    list.iter()
        .position(|d| d.get(key).and_then(Value::as_str) == Some(value))
}

/// Pushes `def` unless an entry with the same `key` exists (a `def` without `key` is always
/// added); its index.
fn add_unique(list: &mut Vec<Value>, def: Value, key: &str) -> Option<usize> {
    let k = def.get(key);
    if k.is_some() && list.iter().any(|e| e.get(key) == k) {
        return None;
    }
    list.push(def);
    Some(list.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Params {
        v.as_object().cloned()
    }

    #[test]
    fn features_follow_what_is_registered() {
        let mut r = Router::new();
        assert_eq!(
            r.features(),
            ServerFeatures {
                logging: true,
                ..ServerFeatures::default()
            }
        );
        r.add_template(json!({"uriTemplate": "a://{x}", "name": "a"}));
        r.enable_subscriptions();
        r.set_list_changed(true);
        let f = r.features();
        assert!(f.resources && f.resources_subscribe && f.resources_list_changed && !f.tools);
    }

    #[test]
    fn removed_tools_free_their_name_and_dynamic_tools_are_advertised() {
        let mut r = Router::new();
        assert!(!r.features().tools);
        r.declare_dynamic_tools();
        let f = r.features();
        assert!(f.tools && f.tools_list_changed);
        r.add_tool(json!({"name": "a"}));
        r.add_tool(json!({"name": "b"}));
        assert_eq!(r.remove_tool("a"), Some(0));
        assert_eq!(r.remove_tool("a"), None);
        assert!(matches!(
            r.route("tools/call", obj(json!({"name": "b"}))),
            Route::CallTool { tool: 0, .. }
        ));
        assert_eq!(r.add_tool(json!({"name": "a"})), Some(1));
    }

    #[test]
    fn duplicates_keep_the_first_registration() {
        let mut r = Router::new();
        assert_eq!(
            r.add_tool(json!({"name": "a", "description": "1"})),
            Some(0)
        );
        assert_eq!(r.add_tool(json!({"name": "a", "description": "2"})), None);
        assert_eq!(r.add_tool(json!({"name": "b"})), Some(1));
        let Route::Answer(Ok(list)) = r.route("tools/list", None) else {
            panic!()
        };
        assert_eq!(list["tools"][0]["description"], "1");
        assert_eq!(list["tools"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn calls_route_to_their_tool_or_answer_at_once() {
        let mut r = Router::new();
        r.add_tool(json!({"name": "a"}));
        assert_eq!(
            r.route("tools/call", obj(json!({"name": "a", "arguments": null}))),
            Route::CallTool {
                tool: 0,
                arguments: Map::new()
            }
        );
        for bad in [
            json!({}),
            json!({"name": 5}),
            json!({"name": "a", "arguments": 1}),
        ] {
            assert_eq!(
                r.route("tools/call", obj(bad)),
                Route::Answer(Err(ErrorObject::invalid_params()))
            );
        }
        let Route::Answer(Ok(unknown)) = r.route("tools/call", obj(json!({"name": "z"}))) else {
            panic!()
        };
        assert_eq!(unknown["isError"], true);
        assert_eq!(unknown["content"][0]["text"], "Unknown tool: z");
    }

    #[test]
    fn reads_prefer_static_resources_then_templates() {
        let mut r = Router::new();
        r.add_template(json!({"uriTemplate": "file:///{name}"}));
        r.add_resource(json!({"uri": "file:///fixed"}));
        assert_eq!(
            r.route("resources/read", obj(json!({"uri": "file:///fixed"}))),
            Route::ReadResource {
                resource: 0,
                uri: "file:///fixed".into()
            }
        );
        let Route::ReadTemplate { variables, .. } =
            r.route("resources/read", obj(json!({"uri": "file:///x"})))
        else {
            panic!()
        };
        assert_eq!(variables["name"], "x");
        let Route::Answer(Err(e)) = r.route("resources/read", obj(json!({"uri": "b://"}))) else {
            panic!()
        };
        assert_eq!((e.code, e.message.as_str()), (-32602, "Resource not found"));
        assert_eq!(e.data, Some(json!({"uri": "b://"})));
        assert_eq!(
            Router::read_result(Ok(json!([]))),
            Ok(json!({"contents": []}))
        );
    }

    #[test]
    fn handlers_not_declared_are_method_not_found() {
        let r = Router::new();
        for m in ["resources/subscribe", "completion/complete", "x/y"] {
            assert_eq!(
                r.route(m, None),
                Route::Answer(Err(ErrorObject::method_not_found(m)))
            );
        }
        let Route::Answer(Err(e)) = r.route("prompts/get", obj(json!({"name": "p"}))) else {
            panic!()
        };
        assert_eq!(
            (e.code, e.message.as_str(), e.data),
            (-32602, "Unknown prompt: p", None)
        );
    }

    #[test]
    fn tool_outcomes_on_the_wire() {
        assert_eq!(
            Router::tool_result(Ok(json!({"content": [], "isError": true}))),
            Ok(json!({"content": [], "isError": true}))
        );
        let e = ErrorObject::new(-32042, "x");
        assert_eq!(Router::tool_result(Err(e.clone().into())), Err(e));
    }
}
