//! The handshake: `initialize` params/result and both sides' capabilities.
//!
//! (`notifications/initialized` carries [`NotificationParams`](super::NotificationParams); `ping`
//! carries [`RequestParams`](super::RequestParams) and returns [`EmptyResult`](super::EmptyResult).)

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{Extra, Implementation, Meta};

/// The protocol revision these types model, and the version the reference client offers.
pub const LATEST_PROTOCOL_VERSION: &str = "2025-11-25";

/// Protocol versions the reference accepts in `initialize` (oldest first).
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 4] =
    ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// The client's `roots` capability.
///
/// ```
/// use mcp_sse_core::mcp::RootsCapability;
/// let r = RootsCapability { list_changed: Some(true), ..Default::default() };
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"listChanged":true}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RootsCapability {
    /// The client sends `notifications/roots/list_changed`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub list_changed: Option<bool>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The client's `sampling` capability (`{}` = plain sampling).
///
/// ```
/// use mcp_sse_core::mcp::SamplingCapability;
/// let s: SamplingCapability = serde_json::from_str(r#"{"tools":{}}"#).unwrap();
/// assert!(s.tools.is_some() && s.context.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamplingCapability {
    /// Present if the client honours `includeContext`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub context: Option<Map<String, Value>>,
    /// Present if the client supports `tools`/`toolChoice` in sampling.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tools: Option<Map<String, Value>>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The client's `elicitation` capability. `{}` (neither field) means form mode only.
///
/// ```
/// use mcp_sse_core::mcp::ElicitationCapability;
/// let e = ElicitationCapability::form_and_url();
/// assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"form":{},"url":{}}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCapability {
    /// Form mode supported.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub form: Option<Map<String, Value>>,
    /// URL mode supported.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<Map<String, Value>>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ElicitationCapability {
    /// Both modes, as the reference client declares with an elicitation callback.
    pub fn form_and_url() -> Self {
        Self {
            form: Some(Map::new()),
            url: Some(Map::new()),
            extra: Extra::new(),
        }
    }
}

/// What the client supports. Absent capability = not supported.
///
/// ```
/// use mcp_sse_core::mcp::{ClientCapabilities, RootsCapability};
/// let c = ClientCapabilities {
///     sampling: Some(Default::default()),
///     roots: Some(RootsCapability { list_changed: Some(true), ..Default::default() }),
///     ..Default::default()
/// };
/// assert_eq!(
///     serde_json::to_string(&c).unwrap(),
///     r#"{"roots":{"listChanged":true},"sampling":{}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCapabilities {
    /// Non-standard capabilities.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub experimental: Option<Map<String, Value>>,
    /// Roots support.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub roots: Option<RootsCapability>,
    /// Sampling support.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sampling: Option<SamplingCapability>,
    /// Elicitation support.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub elicitation: Option<ElicitationCapability>,
    /// Task-augmented request support (2025-11-25 tasks; kept as raw JSON).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tasks: Option<Value>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A server's `prompts` capability.
///
/// ```
/// use mcp_sse_core::mcp::PromptsCapability;
/// let p: PromptsCapability = serde_json::from_str(r#"{"listChanged":false}"#).unwrap();
/// assert_eq!(p.list_changed, Some(false));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptsCapability {
    /// The server sends `notifications/prompts/list_changed`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub list_changed: Option<bool>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A server's `resources` capability.
///
/// ```
/// use mcp_sse_core::mcp::ResourcesCapability;
/// let r: ResourcesCapability = serde_json::from_str(r#"{"subscribe":true}"#).unwrap();
/// assert_eq!(r.subscribe, Some(true));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesCapability {
    /// `resources/subscribe` is supported.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subscribe: Option<bool>,
    /// The server sends `notifications/resources/list_changed`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub list_changed: Option<bool>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A server's `tools` capability.
///
/// ```
/// use mcp_sse_core::mcp::ToolsCapability;
/// let t = ToolsCapability { list_changed: Some(true), ..Default::default() };
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"listChanged":true}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolsCapability {
    /// The server sends `notifications/tools/list_changed`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub list_changed: Option<bool>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What the server supports. Absent capability = not supported.
///
/// ```
/// use mcp_sse_core::mcp::{ServerCapabilities, ToolsCapability};
/// let c = ServerCapabilities { tools: Some(ToolsCapability::default()), ..Default::default() };
/// assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"tools":{}}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerCapabilities {
    /// Non-standard capabilities.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub experimental: Option<Map<String, Value>>,
    /// The server sends log messages and accepts `logging/setLevel`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub logging: Option<Map<String, Value>>,
    /// The server answers `completion/complete`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub completions: Option<Map<String, Value>>,
    /// Prompts support.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prompts: Option<PromptsCapability>,
    /// Resources support.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resources: Option<ResourcesCapability>,
    /// Tools support.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tools: Option<ToolsCapability>,
    /// Task-augmented request support (2025-11-25 tasks; kept as raw JSON).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tasks: Option<Value>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Params of `initialize`.
///
/// ```
/// use mcp_sse_core::mcp::{ClientCapabilities, Implementation, InitializeRequestParams};
/// let p = InitializeRequestParams::new(ClientCapabilities::default(), Implementation::new("mcp", "0.1.0"));
/// assert_eq!(
///     serde_json::to_string(&p).unwrap(),
///     r#"{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp","version":"0.1.0"}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeRequestParams {
    /// The latest version the client supports.
    pub protocol_version: String,
    /// Client capabilities.
    pub capabilities: ClientCapabilities,
    /// Client name/version.
    pub client_info: Implementation,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl InitializeRequestParams {
    /// Params offering [`LATEST_PROTOCOL_VERSION`].
    pub fn new(capabilities: ClientCapabilities, client_info: Implementation) -> Self {
        Self {
            protocol_version: LATEST_PROTOCOL_VERSION.to_owned(),
            capabilities,
            client_info,
            meta: None,
            extra: Extra::new(),
        }
    }
}

/// Result of `initialize`.
///
/// ```
/// use mcp_sse_core::mcp::{Implementation, InitializeResult, ServerCapabilities};
/// let r = InitializeResult::new("2025-11-25", ServerCapabilities::default(), Implementation::new("srv", "1.0.0"));
/// assert_eq!(
///     serde_json::to_string(&r).unwrap(),
///     r#"{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"srv","version":"1.0.0"}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult {
    /// The version the server chose.
    pub protocol_version: String,
    /// Server capabilities.
    pub capabilities: ServerCapabilities,
    /// Server name/version.
    pub server_info: Implementation,
    /// Usage instructions (a hint for the model).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub instructions: Option<String>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl InitializeResult {
    /// A result choosing `protocol_version`.
    pub fn new(
        protocol_version: impl Into<String>,
        capabilities: ServerCapabilities,
        server_info: Implementation,
    ) -> Self {
        Self {
            protocol_version: protocol_version.into(),
            capabilities,
            server_info,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip<T: Serialize + serde::de::DeserializeOwned>(v: Value) -> T {
        let t: T = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&t).unwrap(), v);
        t
    }

    #[test]
    fn captured_initialize_params() {
        let raw = r#"{"protocolVersion":"2024-11-05","capabilities":{"sampling":{},"roots":{"listChanged":true}},"clientInfo":{"name":"raw-capture","version":"0.0.1"}}"#;
        let p: InitializeRequestParams = serde_json::from_str(raw).unwrap();
        assert_eq!(
            p.capabilities.roots.as_ref().unwrap().list_changed,
            Some(true)
        );
        assert!(p.capabilities.sampling.is_some());
        let back: Value = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(raw).unwrap());
    }

    #[test]
    fn every_client_capability() {
        let p: InitializeRequestParams = round_trip(json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {
                "experimental": {"x": {"on": true}},
                "roots": {"listChanged": true},
                "sampling": {"context": {}, "tools": {}},
                "elicitation": {"form": {}, "url": {}},
                "tasks": {"list": {}, "requests": {"sampling": {"createMessage": {}}}},
                "extensions": {"io.example/ext": {}}
            },
            "clientInfo": {"name": "c", "version": "1", "title": "C", "icons": [{"src": "https://x.test/c.png"}]},
            "_meta": {"m": 1}
        }));
        assert_eq!(
            p.capabilities.elicitation,
            Some(ElicitationCapability::form_and_url())
        );
        assert!(p.capabilities.extra.contains_key("extensions"));
    }

    #[test]
    fn captured_initialize_result() {
        let raw = r#"{"capabilities":{"prompts":{"listChanged":false},"resources":{"listChanged":false,"subscribe":false},"tools":{"listChanged":false}},"instructions":"Reference SSE peer for interop tests.","protocolVersion":"2025-11-25","serverInfo":{"name":"py-sse-bench","version":"1.0.0"}}"#;
        let r: InitializeResult = serde_json::from_str(raw).unwrap();
        assert_eq!(
            r.capabilities.resources.as_ref().unwrap().subscribe,
            Some(false)
        );
        assert_eq!(
            r.instructions.as_deref(),
            Some("Reference SSE peer for interop tests.")
        );
        let back: Value = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(raw).unwrap());
    }

    #[test]
    fn every_server_capability_and_info_field() {
        let r: InitializeResult = round_trip(json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"experimental": {}, "logging": {}, "completions": {},
                             "prompts": {"listChanged": true}, "resources": {"subscribe": true, "listChanged": true},
                             "tools": {"listChanged": true}, "tasks": {"requests": {"tools": {"call": {}}}}},
            "serverInfo": {"name": "s", "title": "S", "version": "2", "description": "d",
                           "websiteUrl": "https://s.test", "icons": [{"src": "https://s.test/i.png", "theme": "dark"}]},
            "_meta": {"k": "v"},
            "x-future": 1
        }));
        assert!(r.capabilities.logging.is_some());
        assert_eq!(r.server_info.description.as_deref(), Some("d"));
    }

    #[test]
    fn invalid_shapes_rejected() {
        for bad in [
            json!({"capabilities": {}, "clientInfo": {"name": "a", "version": "1"}}),
            json!({"protocolVersion": 20241105, "capabilities": {}, "clientInfo": {"name": "a", "version": "1"}}),
            json!({"protocolVersion": "x", "capabilities": {"roots": true}, "clientInfo": {"name": "a", "version": "1"}}),
            json!({"protocolVersion": "x", "capabilities": {}}),
        ] {
            assert!(
                serde_json::from_value::<InitializeRequestParams>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
