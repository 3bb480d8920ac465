//! Each MCP request and notification as a type that names its method, params and result, so
//! that typed callers never spell a method string (the shape of `lsp-types`' `Request`).
//!
//! ```
//! use mcp_sse_core::mcp::rpc::{CallTool, RequestMethod, ToolsListChanged, NotificationMethod};
//! use mcp_sse_core::mcp::CallToolResult;
//! assert_eq!(CallTool::METHOD, "tools/call");
//! assert_eq!(ToolsListChanged::METHOD, "notifications/tools/list_changed");
//! fn result_of<R: RequestMethod>(v: serde_json::Value) -> R::Result {
//!     serde_json::from_value(v).unwrap()
//! }
//! let r: CallToolResult = result_of::<CallTool>(serde_json::json!({"content": []}));
//! assert!(r.content.is_empty());
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::methods;
use super::*;

/// A request: its method, the type of its params and of its result.
pub trait RequestMethod {
    /// The JSON-RPC method.
    const METHOD: &'static str;
    /// Its params.
    type Params: Serialize + DeserializeOwned;
    /// Its result.
    type Result: Serialize + DeserializeOwned;
}

/// A notification: its method and the type of its params.
pub trait NotificationMethod {
    /// The JSON-RPC method.
    const METHOD: &'static str;
    /// Its params.
    type Params: Serialize + DeserializeOwned;
}

/// The typed params of a request from the peer; params that do not fit are the `-32602` the
/// peer is answered (with serde's reason as `data`). Absent params read as `{}`.
///
/// ```
/// use mcp_sse_core::mcp::rpc::{decode_params, CreateMessage};
/// let bad = decode_params::<CreateMessage>(None).unwrap_err();
/// assert_eq!(bad.code, -32602);
/// ```
pub fn decode_params<R: RequestMethod>(
    params: Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<R::Params, crate::jsonrpc::ErrorObject> {
    serde_json::from_value(serde_json::Value::Object(params.unwrap_or_default())).map_err(|e| {
        crate::jsonrpc::ErrorObject::invalid_params_with(
            "Invalid request parameters",
            Some(serde_json::Value::from(e.to_string())),
        )
    })
}

/// A typed result as the JSON the peer is sent; one that cannot be encoded is a `-32603`.
pub fn encode_result<R: RequestMethod>(
    result: &R::Result,
) -> Result<serde_json::Value, crate::jsonrpc::ErrorObject> {
    serde_json::to_value(result).map_err(|e| {
        crate::jsonrpc::ErrorObject::internal_error(format!("invalid {} result: {e}", R::METHOD))
    })
}

macro_rules! requests {
    ($($(#[$doc:meta])* $name:ident = $method:path, $params:ty => $result:ty;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {}
        impl RequestMethod for $name {
            const METHOD: &'static str = $method;
            type Params = $params;
            type Result = $result;
        }
    )*};
}

macro_rules! notifications {
    ($($(#[$doc:meta])* $name:ident = $method:path, $params:ty;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {}
        impl NotificationMethod for $name {
            const METHOD: &'static str = $method;
            type Params = $params;
        }
    )*};
}

requests! {
    /// `initialize` (client → server).
    Initialize = methods::INITIALIZE, InitializeRequestParams => InitializeResult;
    /// `ping` (either direction).
    Ping = methods::PING, RequestParams => EmptyResult;
    /// `tools/list`.
    ListTools = methods::TOOLS_LIST, PaginatedRequestParams => ListToolsResult;
    /// `tools/call`.
    CallTool = methods::TOOLS_CALL, CallToolRequestParams => CallToolResult;
    /// `resources/list`.
    ListResources = methods::RESOURCES_LIST, PaginatedRequestParams => ListResourcesResult;
    /// `resources/templates/list`.
    ListResourceTemplates = methods::RESOURCES_TEMPLATES_LIST, PaginatedRequestParams => ListResourceTemplatesResult;
    /// `resources/read`.
    ReadResource = methods::RESOURCES_READ, ReadResourceRequestParams => ReadResourceResult;
    /// `resources/subscribe`.
    Subscribe = methods::RESOURCES_SUBSCRIBE, SubscribeRequestParams => EmptyResult;
    /// `resources/unsubscribe`.
    Unsubscribe = methods::RESOURCES_UNSUBSCRIBE, UnsubscribeRequestParams => EmptyResult;
    /// `prompts/list`.
    ListPrompts = methods::PROMPTS_LIST, PaginatedRequestParams => ListPromptsResult;
    /// `prompts/get`.
    GetPrompt = methods::PROMPTS_GET, GetPromptRequestParams => GetPromptResult;
    /// `completion/complete`.
    Complete = methods::COMPLETION_COMPLETE, CompleteRequestParams => CompleteResult;
    /// `logging/setLevel`.
    SetLevel = methods::LOGGING_SET_LEVEL, SetLevelRequestParams => EmptyResult;
    /// `sampling/createMessage` (server → client).
    CreateMessage = methods::SAMPLING_CREATE_MESSAGE, CreateMessageRequestParams => CreateMessageResult;
    /// `roots/list` (server → client).
    ListRoots = methods::ROOTS_LIST, RequestParams => ListRootsResult;
    /// `elicitation/create` (server → client).
    Elicit = methods::ELICITATION_CREATE, ElicitRequestParams => ElicitResult;
}

notifications! {
    /// `notifications/initialized` (client → server).
    Initialized = methods::NOTIFICATIONS_INITIALIZED, NotificationParams;
    /// `notifications/progress`.
    Progress = methods::NOTIFICATIONS_PROGRESS, ProgressNotificationParams;
    /// `notifications/cancelled`.
    Cancelled = methods::NOTIFICATIONS_CANCELLED, CancelledNotificationParams;
    /// `notifications/message` (a log entry, server → client).
    LoggingMessage = methods::NOTIFICATIONS_MESSAGE, LoggingMessageNotificationParams;
    /// `notifications/tools/list_changed`.
    ToolsListChanged = methods::NOTIFICATIONS_TOOLS_LIST_CHANGED, ListChangedNotificationParams;
    /// `notifications/resources/list_changed`.
    ResourcesListChanged = methods::NOTIFICATIONS_RESOURCES_LIST_CHANGED, ListChangedNotificationParams;
    /// `notifications/prompts/list_changed`.
    PromptsListChanged = methods::NOTIFICATIONS_PROMPTS_LIST_CHANGED, ListChangedNotificationParams;
    /// `notifications/resources/updated`.
    ResourceUpdated = methods::NOTIFICATIONS_RESOURCES_UPDATED, ResourceUpdatedNotificationParams;
    /// `notifications/roots/list_changed` (client → server).
    RootsListChanged = methods::NOTIFICATIONS_ROOTS_LIST_CHANGED, ListChangedNotificationParams;
    /// `notifications/elicitation/complete`.
    ElicitationComplete = methods::NOTIFICATIONS_ELICITATION_COMPLETE, ElicitationCompleteNotificationParams;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<R: RequestMethod>() -> &'static str {
        R::METHOD
    }

    fn notification<N: NotificationMethod>() -> &'static str {
        N::METHOD
    }

    #[test]
    fn every_method_has_its_type() {
        let requests = [
            request::<Initialize>(),
            request::<Ping>(),
            request::<ListTools>(),
            request::<CallTool>(),
            request::<ListResources>(),
            request::<ListResourceTemplates>(),
            request::<ReadResource>(),
            request::<Subscribe>(),
            request::<Unsubscribe>(),
            request::<ListPrompts>(),
            request::<GetPrompt>(),
            request::<Complete>(),
            request::<SetLevel>(),
            request::<CreateMessage>(),
            request::<ListRoots>(),
            request::<Elicit>(),
        ];
        assert_eq!(requests, methods::REQUESTS);
        let notifications = [
            notification::<Initialized>(),
            notification::<Progress>(),
            notification::<Cancelled>(),
            notification::<LoggingMessage>(),
            notification::<ToolsListChanged>(),
            notification::<ResourcesListChanged>(),
            notification::<PromptsListChanged>(),
            notification::<ResourceUpdated>(),
            notification::<RootsListChanged>(),
            notification::<ElicitationComplete>(),
        ];
        assert_eq!(notifications, methods::NOTIFICATIONS);
    }
}
