//! Typed MCP messages, protocol revision **2025-11-25**: serde models of the params and results
//! of every method and notification the legacy HTTP+SSE transport carries.
//!
//! These are pure data types. The JSON-RPC layer works with `serde_json::Value` params/results;
//! convert with [`serde_json::from_value`] / [`serde_json::to_value`]:
//!
//! ```
//! use mcp_sse_core::mcp::{methods, CallToolRequestParams, CallToolResult};
//! let params = serde_json::json!({"name": "echo", "arguments": {"text": "hi"}});
//! let call: CallToolRequestParams = serde_json::from_value(params).unwrap();
//! assert_eq!(call.name, "echo");
//! let result = serde_json::to_value(CallToolResult::text("hi")).unwrap();
//! assert_eq!(result["content"][0]["text"], "hi");
//! assert_eq!(methods::TOOLS_CALL, "tools/call");
//! ```
//!
//! Conventions, for every type:
//! - field names are camelCase on the wire; absent optional fields are omitted, never `null`;
//! - unknown fields are kept in a flattened `extra` map and written back (forward compatibility),
//!   and `_meta` is kept as raw JSON in `meta` where the schema has it;
//! - content blocks of an unknown `type` are kept as `Unknown(Value)` instead of failing the whole
//!   message (see [`content`]); other unions (resource contents, completion references,
//!   elicitation modes) reject what they do not know;
//! - `f64` quantities (progress, priorities, temperature) are written as JSON integers when
//!   integral (`"progress":1`), as the reference does;
//! - wrong JSON types are errors (`tools/call` with `"name":5` does not deserialize), which the
//!   session layer maps to -32602.

pub mod common;
pub mod completion;
pub mod content;
pub mod elicitation;
pub mod initialize;
pub mod logging;
pub mod notifications;
pub mod prompts;
pub mod resources;
pub mod roots;
pub mod rpc;
pub mod sampling;
pub mod tools;

pub use common::{
    progress_token, Annotations, Cursor, EmptyResult, Extra, Icon, Implementation, LoggingLevel,
    Meta, NotificationParams, PaginatedRequestParams, ProgressToken, RequestId, RequestParams,
    Role, PROGRESS_TOKEN_META_KEY,
};
pub use completion::{
    CompleteRequestParams, CompleteResult, Completion, CompletionArgument, CompletionContext,
    CompletionReference, PromptReference, ResourceTemplateReference,
};
pub use content::{
    AudioContent, BlobResourceContents, ContentBlock, EmbeddedResource, ImageContent,
    ResourceContents, TextContent, TextResourceContents,
};
pub use elicitation::{
    ElicitAction, ElicitRequestFormParams, ElicitRequestParams, ElicitRequestUrlParams,
    ElicitResult, FormMode, UrlMode,
};
pub use initialize::{
    ClientCapabilities, ElicitationCapability, InitializeRequestParams, InitializeResult,
    PromptsCapability, ResourcesCapability, RootsCapability, SamplingCapability,
    ServerCapabilities, ToolsCapability, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS,
};
pub use logging::{LoggingMessageNotificationParams, SetLevelRequestParams};
pub use notifications::{
    CancelledNotificationParams, ElicitationCompleteNotificationParams,
    ListChangedNotificationParams, ProgressNotificationParams, ResourceUpdatedNotificationParams,
};
pub use prompts::{
    GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument,
    PromptMessage,
};
pub use resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, Resource, ResourceRequestParams, ResourceTemplate, SubscribeRequestParams,
    UnsubscribeRequestParams,
};
pub use roots::{ListRootsResult, Root};
pub use sampling::{
    CreateMessageRequestParams, CreateMessageResult, IncludeContext, ModelHint, ModelPreferences,
    SamplingContent, SamplingContentBlock, SamplingMessage, ToolChoice, ToolChoiceMode,
    ToolResultContent, ToolUseContent,
};
pub use tools::{CallToolRequestParams, CallToolResult, ListToolsResult, Tool, ToolAnnotations};

/// JSON-RPC method names of every MCP request and notification modelled here.
///
/// ```
/// use mcp_sse_core::mcp::methods;
/// assert_eq!(methods::SAMPLING_CREATE_MESSAGE, "sampling/createMessage");
/// assert!(methods::ALL.contains(&"notifications/elicitation/complete"));
/// ```
pub mod methods {
    /// `initialize` (client → server): [`InitializeRequestParams`](super::InitializeRequestParams)
    /// → [`InitializeResult`](super::InitializeResult).
    pub const INITIALIZE: &str = "initialize";
    /// `ping` (either direction): [`RequestParams`](super::RequestParams) →
    /// [`EmptyResult`](super::EmptyResult).
    pub const PING: &str = "ping";
    /// `tools/list`: [`PaginatedRequestParams`](super::PaginatedRequestParams) →
    /// [`ListToolsResult`](super::ListToolsResult).
    pub const TOOLS_LIST: &str = "tools/list";
    /// `tools/call`: [`CallToolRequestParams`](super::CallToolRequestParams) →
    /// [`CallToolResult`](super::CallToolResult).
    pub const TOOLS_CALL: &str = "tools/call";
    /// `resources/list`: [`PaginatedRequestParams`](super::PaginatedRequestParams) →
    /// [`ListResourcesResult`](super::ListResourcesResult).
    pub const RESOURCES_LIST: &str = "resources/list";
    /// `resources/templates/list`: [`PaginatedRequestParams`](super::PaginatedRequestParams) →
    /// [`ListResourceTemplatesResult`](super::ListResourceTemplatesResult).
    pub const RESOURCES_TEMPLATES_LIST: &str = "resources/templates/list";
    /// `resources/read`: [`ReadResourceRequestParams`](super::ReadResourceRequestParams) →
    /// [`ReadResourceResult`](super::ReadResourceResult).
    pub const RESOURCES_READ: &str = "resources/read";
    /// `resources/subscribe`: [`SubscribeRequestParams`](super::SubscribeRequestParams) →
    /// [`EmptyResult`](super::EmptyResult).
    pub const RESOURCES_SUBSCRIBE: &str = "resources/subscribe";
    /// `resources/unsubscribe`: [`UnsubscribeRequestParams`](super::UnsubscribeRequestParams) →
    /// [`EmptyResult`](super::EmptyResult).
    pub const RESOURCES_UNSUBSCRIBE: &str = "resources/unsubscribe";
    /// `prompts/list`: [`PaginatedRequestParams`](super::PaginatedRequestParams) →
    /// [`ListPromptsResult`](super::ListPromptsResult).
    pub const PROMPTS_LIST: &str = "prompts/list";
    /// `prompts/get`: [`GetPromptRequestParams`](super::GetPromptRequestParams) →
    /// [`GetPromptResult`](super::GetPromptResult).
    pub const PROMPTS_GET: &str = "prompts/get";
    /// `completion/complete`: [`CompleteRequestParams`](super::CompleteRequestParams) →
    /// [`CompleteResult`](super::CompleteResult).
    pub const COMPLETION_COMPLETE: &str = "completion/complete";
    /// `logging/setLevel`: [`SetLevelRequestParams`](super::SetLevelRequestParams) →
    /// [`EmptyResult`](super::EmptyResult).
    pub const LOGGING_SET_LEVEL: &str = "logging/setLevel";
    /// `sampling/createMessage` (server → client):
    /// [`CreateMessageRequestParams`](super::CreateMessageRequestParams) →
    /// [`CreateMessageResult`](super::CreateMessageResult).
    pub const SAMPLING_CREATE_MESSAGE: &str = "sampling/createMessage";
    /// `roots/list` (server → client): [`RequestParams`](super::RequestParams) →
    /// [`ListRootsResult`](super::ListRootsResult).
    pub const ROOTS_LIST: &str = "roots/list";
    /// `elicitation/create` (server → client): [`ElicitRequestParams`](super::ElicitRequestParams)
    /// → [`ElicitResult`](super::ElicitResult).
    pub const ELICITATION_CREATE: &str = "elicitation/create";

    /// `notifications/initialized` (client → server): [`NotificationParams`](super::NotificationParams).
    pub const NOTIFICATIONS_INITIALIZED: &str = "notifications/initialized";
    /// `notifications/progress`: [`ProgressNotificationParams`](super::ProgressNotificationParams).
    pub const NOTIFICATIONS_PROGRESS: &str = "notifications/progress";
    /// `notifications/cancelled`: [`CancelledNotificationParams`](super::CancelledNotificationParams).
    pub const NOTIFICATIONS_CANCELLED: &str = "notifications/cancelled";
    /// `notifications/message` (log entry):
    /// [`LoggingMessageNotificationParams`](super::LoggingMessageNotificationParams).
    pub const NOTIFICATIONS_MESSAGE: &str = "notifications/message";
    /// `notifications/tools/list_changed`:
    /// [`ListChangedNotificationParams`](super::ListChangedNotificationParams).
    pub const NOTIFICATIONS_TOOLS_LIST_CHANGED: &str = "notifications/tools/list_changed";
    /// `notifications/resources/list_changed`:
    /// [`ListChangedNotificationParams`](super::ListChangedNotificationParams).
    pub const NOTIFICATIONS_RESOURCES_LIST_CHANGED: &str = "notifications/resources/list_changed";
    /// `notifications/prompts/list_changed`:
    /// [`ListChangedNotificationParams`](super::ListChangedNotificationParams).
    pub const NOTIFICATIONS_PROMPTS_LIST_CHANGED: &str = "notifications/prompts/list_changed";
    /// `notifications/resources/updated`:
    /// [`ResourceUpdatedNotificationParams`](super::ResourceUpdatedNotificationParams).
    pub const NOTIFICATIONS_RESOURCES_UPDATED: &str = "notifications/resources/updated";
    /// `notifications/roots/list_changed` (client → server):
    /// [`ListChangedNotificationParams`](super::ListChangedNotificationParams).
    pub const NOTIFICATIONS_ROOTS_LIST_CHANGED: &str = "notifications/roots/list_changed";
    /// `notifications/elicitation/complete`:
    /// [`ElicitationCompleteNotificationParams`](super::ElicitationCompleteNotificationParams).
    pub const NOTIFICATIONS_ELICITATION_COMPLETE: &str = "notifications/elicitation/complete";

    /// Every request method above.
    pub const REQUESTS: [&str; 16] = [
        INITIALIZE,
        PING,
        TOOLS_LIST,
        TOOLS_CALL,
        RESOURCES_LIST,
        RESOURCES_TEMPLATES_LIST,
        RESOURCES_READ,
        RESOURCES_SUBSCRIBE,
        RESOURCES_UNSUBSCRIBE,
        PROMPTS_LIST,
        PROMPTS_GET,
        COMPLETION_COMPLETE,
        LOGGING_SET_LEVEL,
        SAMPLING_CREATE_MESSAGE,
        ROOTS_LIST,
        ELICITATION_CREATE,
    ];

    /// Every notification method above.
    pub const NOTIFICATIONS: [&str; 10] = [
        NOTIFICATIONS_INITIALIZED,
        NOTIFICATIONS_PROGRESS,
        NOTIFICATIONS_CANCELLED,
        NOTIFICATIONS_MESSAGE,
        NOTIFICATIONS_TOOLS_LIST_CHANGED,
        NOTIFICATIONS_RESOURCES_LIST_CHANGED,
        NOTIFICATIONS_PROMPTS_LIST_CHANGED,
        NOTIFICATIONS_RESOURCES_UPDATED,
        NOTIFICATIONS_ROOTS_LIST_CHANGED,
        NOTIFICATIONS_ELICITATION_COMPLETE,
    ];

    /// Every method and notification name above.
    pub const ALL: [&str; 26] = [
        INITIALIZE,
        PING,
        TOOLS_LIST,
        TOOLS_CALL,
        RESOURCES_LIST,
        RESOURCES_TEMPLATES_LIST,
        RESOURCES_READ,
        RESOURCES_SUBSCRIBE,
        RESOURCES_UNSUBSCRIBE,
        PROMPTS_LIST,
        PROMPTS_GET,
        COMPLETION_COMPLETE,
        LOGGING_SET_LEVEL,
        SAMPLING_CREATE_MESSAGE,
        ROOTS_LIST,
        ELICITATION_CREATE,
        NOTIFICATIONS_INITIALIZED,
        NOTIFICATIONS_PROGRESS,
        NOTIFICATIONS_CANCELLED,
        NOTIFICATIONS_MESSAGE,
        NOTIFICATIONS_TOOLS_LIST_CHANGED,
        NOTIFICATIONS_RESOURCES_LIST_CHANGED,
        NOTIFICATIONS_PROMPTS_LIST_CHANGED,
        NOTIFICATIONS_RESOURCES_UPDATED,
        NOTIFICATIONS_ROOTS_LIST_CHANGED,
        NOTIFICATIONS_ELICITATION_COMPLETE,
    ];
}

#[cfg(test)]
mod wire_capture_tests {
    //! Every JSON-RPC frame of `../shared/spec/wire-capture.txt` whose method (or, for responses,
    //! whose shape) this module models is parsed into its type and serialized back; the result
    //! must equal the captured JSON (compared as `Value`: key order is a pydantic artifact).

    use super::*;
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use serde_json::Value;

    /// The capture, read through the project-relative path (never copied).
    fn capture() -> String {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/spec/wire-capture.txt"
        );
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
    }

    /// Every JSON-RPC message in the capture: POST bodies and SSE `data:` lines.
    fn frames() -> Vec<Value> {
        capture()
            .lines()
            .filter_map(|line| {
                let body = line.strip_prefix("data: ").unwrap_or(line);
                let body = body.strip_suffix("\\r\\n").unwrap_or(body);
                body.starts_with("{\"jsonrpc\"")
                    .then(|| serde_json::from_str::<Value>(body).ok())
                    .flatten()
            })
            .collect()
    }

    /// Parse `value` as `T`, serialize with `to_string`, and compare as `Value`.
    fn assert_round_trip<T: Serialize + DeserializeOwned>(value: &Value) {
        let typed: T =
            serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value}"));
        let text = serde_json::to_string(&typed).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(&back, value);
    }

    fn params_round_trip(method: &str, params: &Value) -> bool {
        match method {
            methods::INITIALIZE => assert_round_trip::<InitializeRequestParams>(params),
            methods::TOOLS_CALL => assert_round_trip::<CallToolRequestParams>(params),
            methods::TOOLS_LIST => assert_round_trip::<PaginatedRequestParams>(params),
            methods::SAMPLING_CREATE_MESSAGE => {
                assert_round_trip::<CreateMessageRequestParams>(params)
            }
            methods::NOTIFICATIONS_MESSAGE => {
                assert_round_trip::<LoggingMessageNotificationParams>(params)
            }
            methods::NOTIFICATIONS_PROGRESS => {
                assert_round_trip::<ProgressNotificationParams>(params)
            }
            _ => return false,
        }
        true
    }

    fn result_round_trip(result: &Value) -> bool {
        let has = |k: &str| result.get(k).is_some();
        if has("protocolVersion") {
            assert_round_trip::<InitializeResult>(result);
        } else if has("tools") {
            assert_round_trip::<ListToolsResult>(result);
        } else if has("content") && has("model") {
            assert_round_trip::<CreateMessageResult>(result);
        } else if has("content") {
            assert_round_trip::<CallToolResult>(result);
        } else if result.as_object().is_some_and(|o| o.is_empty()) {
            assert_round_trip::<EmptyResult>(result);
        } else {
            return false;
        }
        true
    }

    #[test]
    fn every_modelled_captured_frame_round_trips() {
        let frames = frames();
        let mut checked = 0;
        for frame in &frames {
            let ok = match (
                frame.get("method"),
                frame.get("params"),
                frame.get("result"),
            ) {
                (Some(Value::String(m)), Some(params), _) => params_round_trip(m, params),
                (_, _, Some(result)) => result_round_trip(result),
                _ => false,
            };
            if ok {
                checked += 1;
                continue;
            }
            // What is left must be out of scope: params-less requests/notifications, JSON-RPC
            // errors, and the 2026-07-28 `server/discover` exchange.
            let skippable = frame.get("error").is_some()
                || (frame.get("method").is_some() && frame.get("params").is_none())
                || frame["method"] == "server/discover"
                || frame["result"].get("supportedVersions").is_some();
            assert!(skippable, "unmodelled frame: {frame}");
        }
        assert_eq!(frames.len(), 39, "frames found in the capture");
        assert_eq!(checked, 24, "frames round-tripped");
    }

    #[test]
    fn part_b_tools_list_result_is_identical_after_to_string() {
        let frame = frames()
            .into_iter()
            .find(|f| {
                f["id"] == 3
                    && f["result"].get("tools").is_some()
                    && f["result"].get("cacheScope").is_none()
            })
            .expect("Part B tools/list response in the capture");
        let result = &frame["result"];
        let typed: ListToolsResult = serde_json::from_value(result.clone()).unwrap();
        assert_eq!(typed.tools.len(), 9);
        assert_eq!(typed.tools[0].name, "echo");
        let text = serde_json::to_string(&typed).unwrap();
        assert_eq!(&serde_json::from_str::<Value>(&text).unwrap(), result);
    }

    #[test]
    fn part_c_modern_results_keep_unknown_fields() {
        let frame = frames()
            .into_iter()
            .find(|f| f["result"].get("tools").is_some() && f["result"].get("cacheScope").is_some())
            .expect("Part C tools/list response in the capture");
        let typed: ListToolsResult = serde_json::from_value(frame["result"].clone()).unwrap();
        assert_eq!(typed.extra["resultType"], "complete");
        assert_eq!(typed.extra["ttlMs"], 0);
        assert!(typed
            .meta
            .unwrap()
            .contains_key("io.modelcontextprotocol/serverInfo"));
    }

    #[test]
    fn method_names_are_unique() {
        let mut all = methods::ALL.to_vec();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), methods::ALL.len());
        assert_eq!(
            methods::REQUESTS.len() + methods::NOTIFICATIONS.len(),
            methods::ALL.len()
        );
    }
}
