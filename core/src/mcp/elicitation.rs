//! Elicitation: `elicitation/create` (server → client) in form mode and URL mode.
//!
//! (`notifications/elicitation/complete` lives in [`notifications`](super::notifications).)

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{from_object, Extra, Meta};

/// The `mode` marker of a form elicitation: always `"form"`.
///
/// ```
/// use mcp_sse_core::mcp::FormMode;
/// assert_eq!(serde_json::to_string(&FormMode::Form).unwrap(), "\"form\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum FormMode {
    /// `"form"`.
    #[default]
    #[serde(rename = "form")]
    Form,
}

/// The `mode` marker of a URL elicitation: always `"url"`.
///
/// ```
/// use mcp_sse_core::mcp::UrlMode;
/// assert_eq!(serde_json::to_string(&UrlMode::Url).unwrap(), "\"url\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum UrlMode {
    /// `"url"`.
    #[default]
    #[serde(rename = "url")]
    Url,
}

/// Form-mode elicitation: ask the user to fill a flat form described by `requestedSchema`.
/// `mode` is optional on the wire (older peers omit it); its presence is kept.
///
/// ```
/// use mcp_sse_core::mcp::ElicitRequestFormParams;
/// let p = ElicitRequestFormParams::new("Your name?", serde_json::json!({"type": "object", "properties": {}}));
/// assert!(p.mode.is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestFormParams {
    /// `"form"`, when given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mode: Option<FormMode>,
    /// What is being asked and why.
    pub message: String,
    /// The (restricted, flat) JSON Schema of the answer, kept verbatim.
    pub requested_schema: Value,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields (e.g. `task`), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ElicitRequestFormParams {
    /// A form elicitation with an explicit `"mode":"form"`, as the reference sends.
    pub fn new(message: impl Into<String>, requested_schema: Value) -> Self {
        Self {
            mode: Some(FormMode::Form),
            message: message.into(),
            requested_schema,
            ..Self::default()
        }
    }
}

/// URL-mode elicitation: send the user to `url` (out of band); completion may be announced with
/// `notifications/elicitation/complete` carrying `elicitationId`.
///
/// ```
/// use mcp_sse_core::mcp::ElicitRequestUrlParams;
/// let p = ElicitRequestUrlParams::new("Sign in", "https://x.test/auth", "e-1");
/// assert_eq!(
///     serde_json::to_string(&p).unwrap(),
///     r#"{"mode":"url","message":"Sign in","url":"https://x.test/auth","elicitationId":"e-1"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestUrlParams {
    /// Always `"url"`.
    pub mode: UrlMode,
    /// Why the interaction is needed.
    pub message: String,
    /// Where the user should go.
    pub url: String,
    /// Opaque id, unique within the server.
    pub elicitation_id: String,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields (e.g. `task`), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ElicitRequestUrlParams {
    /// A URL elicitation.
    pub fn new(
        message: impl Into<String>,
        url: impl Into<String>,
        elicitation_id: impl Into<String>,
    ) -> Self {
        Self {
            mode: UrlMode::Url,
            message: message.into(),
            url: url.into(),
            elicitation_id: elicitation_id.into(),
            ..Self::default()
        }
    }
}

/// Params of `elicitation/create`: chosen by `mode` (absent or `"form"` → form, `"url"` → URL;
/// any other mode is rejected).
///
/// ```
/// use mcp_sse_core::mcp::ElicitRequestParams;
/// let p: ElicitRequestParams = serde_json::from_str(
///     r#"{"message":"Name?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}}}}"#,
/// ).unwrap();
/// assert!(matches!(p, ElicitRequestParams::Form(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ElicitRequestParams {
    /// Form mode.
    Form(ElicitRequestFormParams),
    /// URL mode.
    Url(ElicitRequestUrlParams),
}

impl ElicitRequestParams {
    /// The message shown to the user.
    pub fn message(&self) -> &str {
        match self {
            Self::Form(f) => &f.message,
            Self::Url(u) => &u.message,
        }
    }
}

impl<'de> Deserialize<'de> for ElicitRequestParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        match map.get("mode") {
            None => from_object(map).map(Self::Form),
            Some(Value::String(m)) if m == "form" => from_object(map).map(Self::Form),
            Some(Value::String(m)) if m == "url" => from_object(map).map(Self::Url),
            Some(other) => Err(de::Error::custom(format_args!(
                "unknown elicitation mode {other}"
            ))),
        }
    }
}

impl From<ElicitRequestFormParams> for ElicitRequestParams {
    fn from(p: ElicitRequestFormParams) -> Self {
        Self::Form(p)
    }
}

impl From<ElicitRequestUrlParams> for ElicitRequestParams {
    fn from(p: ElicitRequestUrlParams) -> Self {
        Self::Url(p)
    }
}

/// The user's response to an elicitation.
///
/// ```
/// use mcp_sse_core::mcp::ElicitAction;
/// assert_eq!(serde_json::to_string(&ElicitAction::Decline).unwrap(), "\"decline\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// The user submitted / confirmed.
    Accept,
    /// The user explicitly declined.
    Decline,
    /// The user dismissed without choosing.
    Cancel,
}

/// Result of `elicitation/create`. `content` (form mode, accept only) is kept as raw JSON values,
/// even when they do not match the requested schema.
///
/// ```
/// use mcp_sse_core::mcp::ElicitResult;
/// let mut content = serde_json::Map::new();
/// content.insert("answer".into(), "42".into());
/// let r = ElicitResult::accept(content);
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"action":"accept","content":{"answer":"42"}}"#);
/// assert_eq!(serde_json::to_string(&ElicitResult::decline()).unwrap(), r#"{"action":"decline"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitResult {
    /// What the user did.
    pub action: ElicitAction,
    /// Submitted form data.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content: Option<Map<String, Value>>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ElicitResult {
    /// A result with `action` and no content.
    pub fn new(action: ElicitAction) -> Self {
        Self {
            action,
            content: None,
            meta: None,
            extra: Extra::new(),
        }
    }

    /// Accepted with form `content`.
    pub fn accept(content: Map<String, Value>) -> Self {
        Self {
            content: Some(content),
            ..Self::new(ElicitAction::Accept)
        }
    }

    /// Declined.
    pub fn decline() -> Self {
        Self::new(ElicitAction::Decline)
    }

    /// Cancelled.
    pub fn cancel() -> Self {
        Self::new(ElicitAction::Cancel)
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
    fn form_with_every_primitive_and_enum_variant() {
        let p: ElicitRequestParams = round_trip(json!({
            "mode": "form",
            "message": "Tell us",
            "requestedSchema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "title": "Name", "minLength": 1, "maxLength": 50,
                             "format": "email", "default": "a@b.c"},
                    "age": {"type": "integer", "minimum": 0, "maximum": 150, "default": 30},
                    "score": {"type": "number", "default": 0.5},
                    "ok": {"type": "boolean", "default": true},
                    "color": {"type": "string", "enum": ["r", "g"]},
                    "size": {"type": "string", "oneOf": [{"const": "s", "title": "Small"}]},
                    "tags": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["a", "b"]}},
                    "multi": {"type": "array", "items": {"anyOf": [{"const": "x", "title": "X"}]}},
                    "legacy": {"type": "string", "enum": ["a"], "enumNames": ["A"]}
                },
                "required": ["name"]
            },
            "_meta": {"m": 1}
        }));
        assert_eq!(p.message(), "Tell us");
        assert!(matches!(p, ElicitRequestParams::Form(ref f) if f.mode == Some(FormMode::Form)));
    }

    #[test]
    fn form_without_mode_stays_without_mode() {
        let p: ElicitRequestParams =
            round_trip(json!({"message": "m", "requestedSchema": {"type": "object",
            "properties": {"nested": {"type": "object", "properties": {"a": {"type": "array",
            "items": {"type": "object"}}}}}}}));
        assert!(matches!(p, ElicitRequestParams::Form(ref f) if f.mode.is_none()));
    }

    #[test]
    fn url_mode() {
        let p: ElicitRequestParams = round_trip(json!({"mode": "url", "message": "Auth",
            "url": "https://x.test/a?b=c", "elicitationId": "el-1", "task": {"ttl": 5}}));
        match p {
            ElicitRequestParams::Url(u) => {
                assert_eq!(u.elicitation_id, "el-1");
                assert_eq!(u.extra["task"], json!({"ttl": 5}));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn invalid_requests_rejected() {
        for bad in [
            json!({"mode": "url", "message": "m", "url": "u"}),
            json!({"mode": "sms", "message": "m"}),
            json!({"mode": 1, "message": "m", "requestedSchema": {}}),
            json!({"message": "m"}),
            json!({"mode": "form", "requestedSchema": {}}),
        ] {
            assert!(
                serde_json::from_value::<ElicitRequestParams>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn results() {
        let r: ElicitResult = round_trip(
            json!({"action": "accept", "content": {"answer": "42", "n": 3,
            "b": true, "l": ["a"], "bad": {"nested": 1}}}),
        );
        assert_eq!(r.action, ElicitAction::Accept);
        let r: ElicitResult = round_trip(json!({"action": "cancel", "_meta": {"x": 1}}));
        assert_eq!(
            r,
            ElicitResult {
                meta: r.meta.clone(),
                ..ElicitResult::cancel()
            }
        );
        assert!(serde_json::from_value::<ElicitResult>(json!({"action": "maybe"})).is_err());
        assert!(serde_json::from_value::<ElicitResult>(json!({})).is_err());
    }
}
