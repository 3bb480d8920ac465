//! Argument autocompletion: `completion/complete`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::common::{Extra, Meta};

/// Identifies a prompt (`"type":"ref/prompt"`).
///
/// ```
/// use mcp_sse_core::mcp::PromptReference;
/// let r = PromptReference::new("greet");
/// assert_eq!(r.name, "greet");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptReference {
    /// Name of the prompt.
    pub name: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl PromptReference {
    /// A reference to prompt `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// Identifies a resource template (`"type":"ref/resource"`).
///
/// ```
/// use mcp_sse_core::mcp::ResourceTemplateReference;
/// let r = ResourceTemplateReference::new("file:///{path}");
/// assert_eq!(r.uri, "file:///{path}");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTemplateReference {
    /// The URI or URI template.
    pub uri: String,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResourceTemplateReference {
    /// A reference to the template `uri`.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            ..Self::default()
        }
    }
}

/// What is being completed, tagged by `type`. An unknown `type` is rejected (the server
/// answers -32602 for unknown references anyway).
///
/// ```
/// use mcp_sse_core::mcp::{CompletionReference, PromptReference};
/// let r = CompletionReference::Prompt(PromptReference::new("p"));
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"type":"ref/prompt","name":"p"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CompletionReference {
    /// `"ref/prompt"`.
    #[serde(rename = "ref/prompt")]
    Prompt(PromptReference),
    /// `"ref/resource"`.
    #[serde(rename = "ref/resource")]
    ResourceTemplate(ResourceTemplateReference),
}

/// The argument being completed.
///
/// ```
/// use mcp_sse_core::mcp::CompletionArgument;
/// let a = CompletionArgument::new("lang", "py");
/// assert_eq!(a.value, "py");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletionArgument {
    /// Argument name.
    pub name: String,
    /// Partial value typed so far.
    pub value: String,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CompletionArgument {
    /// Argument `name` with partial `value`.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            ..Self::default()
        }
    }
}

/// Extra context for a completion: previously resolved arguments.
///
/// ```
/// use mcp_sse_core::mcp::CompletionContext;
/// let c: CompletionContext = serde_json::from_str(r#"{"arguments":{"owner":"me"}}"#).unwrap();
/// assert_eq!(c.arguments.unwrap()["owner"], "me");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletionContext {
    /// Already-resolved arguments (string → string).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub arguments: Option<BTreeMap<String, String>>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Params of `completion/complete`.
///
/// ```
/// use mcp_sse_core::mcp::{CompleteRequestParams, CompletionArgument, CompletionReference, PromptReference};
/// let p = CompleteRequestParams::new(
///     CompletionReference::Prompt(PromptReference::new("code_review")),
///     CompletionArgument::new("language", "py"),
/// );
/// assert_eq!(
///     serde_json::to_string(&p).unwrap(),
///     r#"{"ref":{"type":"ref/prompt","name":"code_review"},"argument":{"name":"language","value":"py"}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteRequestParams {
    /// What is being completed.
    #[serde(rename = "ref")]
    pub reference: CompletionReference,
    /// The argument being completed.
    pub argument: CompletionArgument,
    /// Additional context.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub context: Option<CompletionContext>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CompleteRequestParams {
    /// Complete `argument` of `reference`, without context.
    pub fn new(reference: CompletionReference, argument: CompletionArgument) -> Self {
        Self {
            reference,
            argument,
            context: None,
            meta: None,
            extra: Extra::new(),
        }
    }
}

/// The completion values (at most 100 per response, by the spec).
///
/// ```
/// use mcp_sse_core::mcp::Completion;
/// let c = Completion::new(vec!["python".into(), "pytorch".into()]);
/// assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"values":["python","pytorch"]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// Suggested values.
    pub values: Vec<String>,
    /// Total number of options available (may exceed `values.len()`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total: Option<u64>,
    /// More options exist beyond `values`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub has_more: Option<bool>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Completion {
    /// A completion with these values.
    pub fn new(values: Vec<String>) -> Self {
        Self {
            values,
            ..Self::default()
        }
    }
}

/// Result of `completion/complete`.
///
/// ```
/// use mcp_sse_core::mcp::{CompleteResult, Completion};
/// let r = CompleteResult::new(Completion::new(vec!["a".into()]));
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"completion":{"values":["a"]}}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteResult {
    /// The completion.
    pub completion: Completion,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CompleteResult {
    /// A result wrapping `completion`.
    pub fn new(completion: Completion) -> Self {
        Self {
            completion,
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
    fn prompt_ref_with_context() {
        let p: CompleteRequestParams = round_trip(json!({
            "ref": {"type": "ref/prompt", "name": "code_review", "title": "CR", "x": 1},
            "argument": {"name": "language", "value": "py"},
            "context": {"arguments": {"framework": "flask"}},
            "_meta": {"progressToken": 1}
        }));
        assert!(matches!(p.reference, CompletionReference::Prompt(ref r) if r.extra["x"] == 1));
        assert_eq!(p.context.unwrap().arguments.unwrap()["framework"], "flask");
    }

    #[test]
    fn resource_template_ref() {
        let p: CompleteRequestParams = round_trip(json!({
            "ref": {"type": "ref/resource", "uri": "github://repos/{owner}/{repo}"},
            "argument": {"name": "owner", "value": "mo"}
        }));
        assert!(
            matches!(p.reference, CompletionReference::ResourceTemplate(ref r) if r.uri.contains("{owner}"))
        );
    }

    #[test]
    fn invalid_refs_rejected() {
        for bad in [
            json!({"ref": {"type": "ref/tool", "name": "x"}, "argument": {"name": "a", "value": "b"}}),
            json!({"ref": {"name": "x"}, "argument": {"name": "a", "value": "b"}}),
            json!({"ref": {"type": "ref/prompt"}, "argument": {"name": "a", "value": "b"}}),
            json!({"ref": {"type": "ref/prompt", "name": "x"}, "argument": {"name": "a"}}),
            json!({"ref": {"type": "ref/prompt", "name": "x"}, "argument": {"name": "a", "value": "b"},
                   "context": {"arguments": {"k": 1}}}),
        ] {
            assert!(
                serde_json::from_value::<CompleteRequestParams>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn result_round_trip() {
        let r: CompleteResult = round_trip(json!({
            "completion": {"values": ["python", "pytorch"], "total": 10, "hasMore": true},
            "_meta": {"m": 1}
        }));
        assert_eq!(r.completion.total, Some(10));
    }
}
