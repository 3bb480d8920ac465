//! Sampling: `sampling/createMessage` (server → client).
//!
//! Message content may be one block or a list of blocks ([`SamplingContent`]); the shape given on
//! the wire is kept. Blocks of an unknown `type` are kept as [`SamplingContentBlock::Unknown`],
//! as for [`ContentBlock`](super::ContentBlock).

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{from_object, serialize_opt_f64, Extra, Meta, Role};
use super::content::{
    take_type, unknown_block, AudioContent, ContentBlock, ImageContent, TextContent,
};
use super::tools::Tool;

/// A model's request to call a tool (`"type":"tool_use"`).
///
/// ```
/// use mcp_sse_core::mcp::ToolUseContent;
/// let u: ToolUseContent = serde_json::from_str(r#"{"id":"c1","name":"get","input":{}}"#).unwrap();
/// assert_eq!(u.id, "c1");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolUseContent {
    /// Identifier matched by the corresponding `tool_result`.
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Arguments (a JSON object).
    pub input: Map<String, Value>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The result of a tool use, given back to the model (`"type":"tool_result"`).
///
/// ```
/// use mcp_sse_core::mcp::{ContentBlock, ToolResultContent};
/// let r = ToolResultContent::new("c1", vec![ContentBlock::text("18°C")]);
/// assert_eq!(r.tool_use_id, "c1");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResultContent {
    /// The `id` of the `tool_use` this answers.
    pub tool_use_id: String,
    /// Unstructured result (same shape as `CallToolResult.content`).
    pub content: Vec<ContentBlock>,
    /// Structured result.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub structured_content: Option<Value>,
    /// Whether the tool use failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub is_error: Option<bool>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ToolResultContent {
    /// A result for tool use `tool_use_id`.
    pub fn new(tool_use_id: impl Into<String>, content: Vec<ContentBlock>) -> Self {
        Self {
            tool_use_id: tool_use_id.into(),
            content,
            ..Self::default()
        }
    }
}

/// One content block of a sampling message, tagged by `type`.
///
/// ```
/// use mcp_sse_core::mcp::SamplingContentBlock;
/// let b: SamplingContentBlock = serde_json::from_str(r#"{"type":"text","text":"hey"}"#).unwrap();
/// assert_eq!(b, SamplingContentBlock::text("hey"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum SamplingContentBlock {
    /// `"text"`.
    #[serde(rename = "text")]
    Text(TextContent),
    /// `"image"`.
    #[serde(rename = "image")]
    Image(ImageContent),
    /// `"audio"`.
    #[serde(rename = "audio")]
    Audio(AudioContent),
    /// `"tool_use"`.
    #[serde(rename = "tool_use")]
    ToolUse(ToolUseContent),
    /// `"tool_result"`.
    #[serde(rename = "tool_result")]
    ToolResult(ToolResultContent),
    /// A block of a `type` this crate does not know: the whole object, `type` included.
    #[serde(untagged)]
    Unknown(Value),
}

impl SamplingContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextContent::new(text))
    }
}

impl<'de> Deserialize<'de> for SamplingContentBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        let (ty, map) = take_type::<D::Error>(map)?;
        match ty.as_str() {
            "text" => from_object(map).map(Self::Text),
            "image" => from_object(map).map(Self::Image),
            "audio" => from_object(map).map(Self::Audio),
            "tool_use" => from_object(map).map(Self::ToolUse),
            "tool_result" => from_object(map).map(Self::ToolResult),
            _ => Ok(Self::Unknown(unknown_block(ty, map))),
        }
    }
}

/// Content of a sampling message: one block, or a list of blocks (kept as given).
///
/// ```
/// use mcp_sse_core::mcp::{SamplingContent, SamplingContentBlock};
/// let one: SamplingContent = serde_json::from_str(r#"{"type":"text","text":"a"}"#).unwrap();
/// assert!(matches!(one, SamplingContent::Single(_)));
/// let many: SamplingContent = serde_json::from_str(r#"[{"type":"text","text":"a"}]"#).unwrap();
/// assert_eq!(many.blocks().len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SamplingContent {
    /// A single block (`"content":{…}`), boxed to keep the enum small.
    Single(Box<SamplingContentBlock>),
    /// A list of blocks (`"content":[…]`).
    Multiple(Vec<SamplingContentBlock>),
}

impl SamplingContent {
    /// The blocks, whichever shape was used.
    pub fn blocks(&self) -> &[SamplingContentBlock] {
        match self {
            Self::Single(b) => std::slice::from_ref(&**b),
            Self::Multiple(v) => v,
        }
    }
}

impl<'de> Deserialize<'de> for SamplingContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Array(items) => items
                .into_iter()
                .map(|v| serde_json::from_value(v).map_err(de::Error::custom))
                .collect::<Result<Vec<_>, _>>()
                .map(Self::Multiple),
            other => serde_json::from_value(other)
                .map(|b| Self::Single(Box::new(b)))
                .map_err(de::Error::custom),
        }
    }
}

impl From<SamplingContentBlock> for SamplingContent {
    fn from(b: SamplingContentBlock) -> Self {
        Self::Single(Box::new(b))
    }
}

/// A message to or from the LLM.
///
/// ```
/// use mcp_sse_core::mcp::SamplingMessage;
/// let m = SamplingMessage::user_text("hello");
/// assert_eq!(
///     serde_json::to_string(&m).unwrap(),
///     r#"{"role":"user","content":{"type":"text","text":"hello"}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamplingMessage {
    /// Who speaks.
    pub role: Role,
    /// One block or a list of blocks.
    pub content: SamplingContent,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SamplingMessage {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<SamplingContent>) -> Self {
        Self {
            role,
            content: content.into(),
            meta: None,
            extra: Extra::new(),
        }
    }

    /// A user text message.
    pub fn user_text(text: impl Into<String>) -> Self {
        Self::new(Role::User, SamplingContentBlock::text(text))
    }
}

/// A hint for model selection.
///
/// ```
/// use mcp_sse_core::mcp::ModelHint;
/// let h: ModelHint = serde_json::from_str(r#"{"name":"sonnet"}"#).unwrap();
/// assert_eq!(h.name.as_deref(), Some("sonnet"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelHint {
    /// A (sub)string of a model name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The server's advisory preferences for model selection. Priorities range from 0 to 1.
///
/// ```
/// use mcp_sse_core::mcp::ModelPreferences;
/// let p: ModelPreferences = serde_json::from_str(r#"{"costPriority":0.3,"speedPriority":1}"#).unwrap();
/// assert_eq!(p.speed_priority, Some(1.0));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelPreferences {
    /// Model hints, evaluated in order.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hints: Option<Vec<ModelHint>>,
    /// Importance of low cost.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        serialize_with = "serialize_opt_f64"
    )]
    pub cost_priority: Option<f64>,
    /// Importance of low latency.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        serialize_with = "serialize_opt_f64"
    )]
    pub speed_priority: Option<f64>,
    /// Importance of capability.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        serialize_with = "serialize_opt_f64"
    )]
    pub intelligence_priority: Option<f64>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Which MCP servers' context to include in the prompt.
///
/// ```
/// use mcp_sse_core::mcp::IncludeContext;
/// assert_eq!(serde_json::to_string(&IncludeContext::ThisServer).unwrap(), "\"thisServer\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IncludeContext {
    /// `"none"` (the default).
    None,
    /// `"thisServer"` (soft-deprecated).
    ThisServer,
    /// `"allServers"` (soft-deprecated).
    AllServers,
}

/// How the model may use tools.
///
/// ```
/// use mcp_sse_core::mcp::ToolChoiceMode;
/// assert_eq!(serde_json::to_string(&ToolChoiceMode::Required).unwrap(), "\"required\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ToolChoiceMode {
    /// `"auto"`: the model decides (the default).
    Auto,
    /// `"required"`: the model must use at least one tool.
    Required,
    /// `"none"`: the model must not use tools.
    None,
}

/// Tool selection behaviour for a sampling request.
///
/// ```
/// use mcp_sse_core::mcp::{ToolChoice, ToolChoiceMode};
/// let c: ToolChoice = serde_json::from_str(r#"{"mode":"auto"}"#).unwrap();
/// assert_eq!(c.mode, Some(ToolChoiceMode::Auto));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolChoice {
    /// The mode.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mode: Option<ToolChoiceMode>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Params of `sampling/createMessage`.
///
/// ```
/// use mcp_sse_core::mcp::{CreateMessageRequestParams, SamplingMessage};
/// let p = CreateMessageRequestParams::new(vec![SamplingMessage::user_text("hello")], 32);
/// assert_eq!(
///     serde_json::to_string(&p).unwrap(),
///     r#"{"messages":[{"role":"user","content":{"type":"text","text":"hello"}}],"maxTokens":32}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMessageRequestParams {
    /// The conversation.
    pub messages: Vec<SamplingMessage>,
    /// Model preferences.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub model_preferences: Option<ModelPreferences>,
    /// System prompt.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub system_prompt: Option<String>,
    /// Context inclusion request.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub include_context: Option<IncludeContext>,
    /// Sampling temperature.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        serialize_with = "serialize_opt_f64"
    )]
    pub temperature: Option<f64>,
    /// Maximum number of tokens to sample.
    pub max_tokens: u64,
    /// Stop sequences.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stop_sequences: Option<Vec<String>>,
    /// Provider-specific metadata (a JSON object).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub metadata: Option<Map<String, Value>>,
    /// Tools the model may use (requires the client's `sampling.tools` capability).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tools: Option<Vec<Tool>>,
    /// Tool selection behaviour.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tool_choice: Option<ToolChoice>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields (e.g. `task`), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CreateMessageRequestParams {
    /// A request for at most `max_tokens` tokens continuing `messages`.
    pub fn new(messages: Vec<SamplingMessage>, max_tokens: u64) -> Self {
        Self {
            messages,
            max_tokens,
            ..Self::default()
        }
    }
}

/// Result of `sampling/createMessage` (the client's answer).
///
/// ```
/// use mcp_sse_core::mcp::{CreateMessageResult, SamplingContentBlock};
/// let r = CreateMessageResult::assistant_text("hey", "raw-model").with_stop_reason("endTurn");
/// assert_eq!(
///     serde_json::to_string(&r).unwrap(),
///     r#"{"role":"assistant","content":{"type":"text","text":"hey"},"model":"raw-model","stopReason":"endTurn"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMessageResult {
    /// Who produced the message (normally `assistant`).
    pub role: Role,
    /// One block or a list of blocks.
    pub content: SamplingContent,
    /// Name of the model used.
    pub model: String,
    /// Why sampling stopped: `endTurn`, `stopSequence`, `maxTokens`, `toolUse` or any
    /// provider-specific string.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stop_reason: Option<String>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CreateMessageResult {
    /// A result with this role, content and model.
    pub fn new(role: Role, content: impl Into<SamplingContent>, model: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            model: model.into(),
            stop_reason: None,
            meta: None,
            extra: Extra::new(),
        }
    }

    /// An assistant text answer from `model`.
    pub fn assistant_text(text: impl Into<String>, model: impl Into<String>) -> Self {
        Self::new(Role::Assistant, SamplingContentBlock::text(text), model)
    }

    /// Set `stopReason`.
    pub fn with_stop_reason(mut self, reason: impl Into<String>) -> Self {
        self.stop_reason = Some(reason.into());
        self
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
    fn captured_request_and_response() {
        let req = r#"{"messages":[{"role":"user","content":{"type":"text","text":"hello"}}],"maxTokens":32}"#;
        let p: CreateMessageRequestParams = serde_json::from_str(req).unwrap();
        assert_eq!(p.max_tokens, 32);
        assert_eq!(serde_json::to_string(&p).unwrap(), req);
        let res = r#"{"role":"assistant","content":{"type":"text","text":"hey"},"model":"raw-model","stopReason":"endTurn"}"#;
        let r: CreateMessageResult = serde_json::from_str(res).unwrap();
        assert_eq!(r.content.blocks()[0], SamplingContentBlock::text("hey"));
        assert_eq!(serde_json::to_string(&r).unwrap(), res);
    }

    #[test]
    fn every_parameter_round_trips() {
        let p: CreateMessageRequestParams = round_trip(json!({
            "messages": [
                {"role": "user", "content": {"type": "image", "data": "AA==", "mimeType": "image/png"}},
                {"role": "user", "content": {"type": "audio", "data": "AA==", "mimeType": "audio/wav"}},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "calling"},
                    {"type": "tool_use", "id": "c1", "name": "weather", "input": {"city": "Paris"},
                     "_meta": {"cache": 1}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "toolUseId": "c1",
                     "content": [{"type": "text", "text": "18°C"}],
                     "structuredContent": {"t": 18}, "isError": false}
                ], "_meta": {"m": 2}}
            ],
            "modelPreferences": {"hints": [{"name": "claude-3-sonnet"}, {"name": "claude"}],
                                 "costPriority": 0.3, "speedPriority": 0.8, "intelligencePriority": 1},
            "systemPrompt": "be brief",
            "includeContext": "thisServer",
            "temperature": 0.7,
            "maxTokens": 100,
            "stopSequences": ["\n\n"],
            "metadata": {"provider": {"x": 1}},
            "tools": [{"name": "weather", "inputSchema": {"type": "object",
                       "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
            "toolChoice": {"mode": "required"},
            "_meta": {"progressToken": 9},
            "task": {"ttl": 60000}
        }));
        assert_eq!(p.include_context, Some(IncludeContext::ThisServer));
        assert_eq!(
            p.tool_choice.as_ref().unwrap().mode,
            Some(ToolChoiceMode::Required)
        );
        assert!(matches!(p.messages[2].content, SamplingContent::Multiple(ref v) if v.len() == 2));
        assert_eq!(p.extra["task"], json!({"ttl": 60000}));
    }

    #[test]
    fn list_result_and_unknown_block() {
        let r: CreateMessageResult = round_trip(json!({
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "a", "name": "t", "input": {}},
                        {"type": "thinking", "text": "hmm"}],
            "model": "m", "stopReason": "toolUse", "_meta": {"k": 1}, "usage": {"in": 3}
        }));
        assert!(matches!(
            r.content.blocks()[1],
            SamplingContentBlock::Unknown(_)
        ));
        assert_eq!(r.extra["usage"], json!({"in": 3}));
    }

    #[test]
    fn invalid_shapes_rejected() {
        for bad in [
            json!({"messages": [], "maxTokens": "32"}),
            json!({"messages": []}),
            json!({"messages": [{"role": "user", "content": {"type": "text"}}], "maxTokens": 1}),
            json!({"messages": [{"role": "user", "content": [{"type": "tool_use", "id": "x"}]}], "maxTokens": 1}),
            json!({"messages": [{"role": "user", "content": "hi"}], "maxTokens": 1}),
            json!({"messages": [], "maxTokens": 1, "includeContext": "everything"}),
            json!({"messages": [], "maxTokens": 1, "toolChoice": {"mode": "sometimes"}}),
            json!({"messages": [], "maxTokens": -1}),
        ] {
            assert!(
                serde_json::from_value::<CreateMessageRequestParams>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        assert!(
            serde_json::from_value::<CreateMessageResult>(json!({"role": "assistant",
            "content": {"type": "text", "text": "x"}}))
            .is_err()
        );
    }

    #[test]
    fn integral_temperature_serializes_as_integer() {
        let mut p = CreateMessageRequestParams::new(vec![], 1);
        p.temperature = Some(1.0);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"messages":[],"temperature":1,"maxTokens":1}"#
        );
    }
}
