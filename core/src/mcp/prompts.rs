//! Prompts: `prompts/list` and `prompts/get`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::common::{Cursor, Extra, Icon, Meta, Role};
use super::content::ContentBlock;

/// An argument a prompt template accepts.
///
/// ```
/// use mcp_sse_core::mcp::PromptArgument;
/// let a: PromptArgument = serde_json::from_str(r#"{"name":"topic","required":true}"#).unwrap();
/// assert_eq!(a.required, Some(true));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptArgument {
    /// Argument name.
    pub name: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// Whether the argument must be given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub required: Option<bool>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A prompt or prompt template offered by the server.
///
/// ```
/// use mcp_sse_core::mcp::Prompt;
/// let p = Prompt::new("greet");
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"name":"greet"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prompt {
    /// Programmatic name.
    pub name: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// Declared arguments.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub arguments: Option<Vec<PromptArgument>>,
    /// Icons.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub icons: Option<Vec<Icon>>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Prompt {
    /// A prompt with only a name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// Result of `prompts/list` (params: [`PaginatedRequestParams`](super::PaginatedRequestParams)).
///
/// ```
/// use mcp_sse_core::mcp::ListPromptsResult;
/// let r: ListPromptsResult = serde_json::from_str(r#"{"prompts":[{"name":"p"}]}"#).unwrap();
/// assert_eq!(r.prompts[0].name, "p");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPromptsResult {
    /// The prompts on this page.
    pub prompts: Vec<Prompt>,
    /// Cursor of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_cursor: Option<Cursor>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Params of `prompts/get`. Argument values must be strings.
///
/// ```
/// use mcp_sse_core::mcp::GetPromptRequestParams;
/// let p = GetPromptRequestParams::new("greet").with_argument("name", "Ada");
/// assert_eq!(
///     serde_json::to_string(&p).unwrap(),
///     r#"{"name":"greet","arguments":{"name":"Ada"}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPromptRequestParams {
    /// Name of the prompt.
    pub name: String,
    /// Template arguments (string → string).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub arguments: Option<BTreeMap<String, String>>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl GetPromptRequestParams {
    /// Get `name` without arguments.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Add one argument.
    pub fn with_argument(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.arguments
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value.into());
        self
    }
}

/// One message of a prompt.
///
/// ```
/// use mcp_sse_core::mcp::{PromptMessage, Role};
/// let m = PromptMessage::user_text("hello");
/// assert_eq!(m.role, Role::User);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptMessage {
    /// Who speaks.
    pub role: Role,
    /// The content.
    pub content: ContentBlock,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl PromptMessage {
    /// A message from `role`.
    pub fn new(role: Role, content: ContentBlock) -> Self {
        Self {
            role,
            content,
            extra: Extra::new(),
        }
    }

    /// A user text message.
    pub fn user_text(text: impl Into<String>) -> Self {
        Self::new(Role::User, ContentBlock::text(text))
    }

    /// An assistant text message.
    pub fn assistant_text(text: impl Into<String>) -> Self {
        Self::new(Role::Assistant, ContentBlock::text(text))
    }
}

/// Result of `prompts/get`.
///
/// ```
/// use mcp_sse_core::mcp::{GetPromptResult, PromptMessage};
/// let r = GetPromptResult::new(vec![PromptMessage::user_text("hi")]);
/// assert_eq!(
///     serde_json::to_string(&r).unwrap(),
///     r#"{"messages":[{"role":"user","content":{"type":"text","text":"hi"}}]}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPromptResult {
    /// Description of the prompt.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// The messages, in order.
    pub messages: Vec<PromptMessage>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl GetPromptResult {
    /// A result with these messages.
    pub fn new(messages: Vec<PromptMessage>) -> Self {
        Self {
            messages,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn round_trip<T: Serialize + serde::de::DeserializeOwned>(v: Value) -> T {
        let t: T = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&t).unwrap(), v);
        t
    }

    #[test]
    fn list_with_argument_declarations() {
        let r: ListPromptsResult = round_trip(json!({
            "prompts": [{"name": "review", "title": "Review", "description": "Review code",
                         "arguments": [{"name": "code", "description": "the code", "required": true},
                                       {"name": "style", "title": "Style", "x": 1}],
                         "icons": [{"src": "https://x.test/p.png"}], "_meta": {"m": true}}],
            "nextCursor": "n"
        }));
        assert_eq!(r.prompts[0].arguments.as_ref().unwrap().len(), 2);
    }

    #[test]
    fn get_params() {
        let p: GetPromptRequestParams =
            round_trip(json!({"name": "review", "arguments": {"code": "x=1"}}));
        assert_eq!(p.arguments.unwrap()["code"], "x=1");
        let p: GetPromptRequestParams = round_trip(json!({"name": "review"}));
        assert!(p.arguments.is_none());
        assert!(serde_json::from_value::<GetPromptRequestParams>(
            json!({"name": "r", "arguments": {"n": 1}})
        )
        .is_err());
        assert!(
            serde_json::from_value::<GetPromptRequestParams>(json!({"arguments": {}})).is_err()
        );
    }

    #[test]
    fn get_result_multi_message_rich_content() {
        let r: GetPromptResult = round_trip(json!({
            "description": "conv",
            "messages": [
                {"role": "user", "content": {"type": "text", "text": "q"}},
                {"role": "assistant", "content": {"type": "image", "data": "AA==", "mimeType": "image/png"}},
                {"role": "user", "content": {"type": "audio", "data": "AA==", "mimeType": "audio/mpeg"}},
                {"role": "user", "content": {"type": "resource",
                                             "resource": {"uri": "file:///a", "text": "t", "mimeType": "text/plain"}}}
            ],
            "_meta": {"x": 1}
        }));
        assert_eq!(r.messages[1].role, Role::Assistant);
        assert!(serde_json::from_value::<PromptMessage>(
            json!({"role": "system", "content": {"type": "text", "text": "x"}})
        )
        .is_err());
    }
}
