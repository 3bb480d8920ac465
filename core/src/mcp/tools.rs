//! Tools: `tools/list` and `tools/call`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{Cursor, Extra, Icon, Meta};
use super::content::ContentBlock;

/// Behaviour hints about a tool (all advisory).
///
/// ```
/// use mcp_sse_core::mcp::ToolAnnotations;
/// let a: ToolAnnotations = serde_json::from_str(r#"{"readOnlyHint":true}"#).unwrap();
/// assert_eq!(a.read_only_hint, Some(true));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// Display title.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// The tool does not modify its environment.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub read_only_hint: Option<bool>,
    /// The tool may perform destructive updates.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub destructive_hint: Option<bool>,
    /// Repeating a call with the same arguments has no further effect.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub idempotent_hint: Option<bool>,
    /// The tool interacts with an open world of external entities.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub open_world_hint: Option<bool>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A tool definition, as listed by `tools/list` (and offered in sampling requests).
///
/// `inputSchema`/`outputSchema` are kept as raw JSON, verbatim, so every JSON Schema 2020-12
/// keyword (`$defs`, `oneOf`, `additionalProperties`, …) survives. Fields this crate does not
/// model (e.g. 2025-11-25 `execution`) are kept in `extra`.
///
/// ```
/// use mcp_sse_core::mcp::Tool;
/// let t = Tool::new("echo", serde_json::json!({"type": "object"}));
/// assert_eq!(
///     serde_json::to_string(&t).unwrap(),
///     r#"{"name":"echo","inputSchema":{"type":"object"}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// Programmatic name.
    pub name: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// Description (a hint to the model).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// JSON Schema of the arguments, verbatim.
    pub input_schema: Value,
    /// JSON Schema of `structuredContent`, verbatim.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub output_schema: Option<Value>,
    /// Behaviour hints.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<ToolAnnotations>,
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

impl Tool {
    /// A tool with a name and an input schema.
    pub fn new(name: impl Into<String>, input_schema: Value) -> Self {
        Self {
            name: name.into(),
            input_schema,
            ..Self::default()
        }
    }
}

/// Result of `tools/list` (params: [`PaginatedRequestParams`](super::PaginatedRequestParams)).
///
/// ```
/// use mcp_sse_core::mcp::ListToolsResult;
/// let r: ListToolsResult =
///     serde_json::from_str(r#"{"tools":[{"name":"t","inputSchema":{"type":"object"}}]}"#).unwrap();
/// assert_eq!(r.tools[0].name, "t");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    /// The tools on this page.
    pub tools: Vec<Tool>,
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

/// Params of `tools/call`.
///
/// ```
/// use mcp_sse_core::mcp::CallToolRequestParams;
/// let p = CallToolRequestParams::new("echo").with_argument("text", "hi");
/// assert_eq!(
///     serde_json::to_string(&p).unwrap(),
///     r#"{"name":"echo","arguments":{"text":"hi"}}"#
/// );
/// assert!(serde_json::from_str::<CallToolRequestParams>(r#"{"name":5}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolRequestParams {
    /// Name of the tool.
    pub name: String,
    /// Arguments (a JSON object).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub arguments: Option<Map<String, Value>>,
    /// `_meta` (e.g. `progressToken`).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields (e.g. 2025-11-25 `task`), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CallToolRequestParams {
    /// Call `name` without arguments.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Add one argument.
    pub fn with_argument(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.arguments
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// The `progressToken` in `_meta`, if any.
    pub fn progress_token(&self) -> Option<super::ProgressToken> {
        self.meta.as_ref().and_then(super::progress_token)
    }
}

/// Result of `tools/call`. Tool failures are results with `isError: true`, not JSON-RPC errors.
///
/// ```
/// use mcp_sse_core::mcp::CallToolResult;
/// let ok = CallToolResult::text("done");
/// assert_eq!(serde_json::to_string(&ok).unwrap(), r#"{"content":[{"type":"text","text":"done"}]}"#);
/// let err = CallToolResult::error("boom");
/// assert_eq!(err.is_error, Some(true));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// Unstructured result content.
    pub content: Vec<ContentBlock>,
    /// Structured result (should match the tool's `outputSchema`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub structured_content: Option<Value>,
    /// `true` when the tool failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub is_error: Option<bool>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CallToolResult {
    /// A result with these content blocks.
    pub fn new(content: Vec<ContentBlock>) -> Self {
        Self {
            content,
            ..Self::default()
        }
    }

    /// A successful result with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(vec![ContentBlock::text(text)])
    }

    /// A failed result (`isError: true`) with one text block describing the error.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            is_error: Some(true),
            ..Self::text(message)
        }
    }

    /// Set `structuredContent`.
    pub fn with_structured(mut self, structured: Value) -> Self {
        self.structured_content = Some(structured);
        self
    }

    /// Whether the result reports a failure (`isError` absent means `false`).
    pub fn is_error(&self) -> bool {
        self.is_error.unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::ProgressToken;
    use serde_json::json;

    #[test]
    fn call_params_round_trip_with_meta() {
        let raw = r#"{"name":"log_and_progress","arguments":{"steps":2},"_meta":{"progressToken":"tok-4"}}"#;
        let p: CallToolRequestParams = serde_json::from_str(raw).unwrap();
        assert_eq!(p.progress_token(), Some(ProgressToken::from("tok-4")));
        assert_eq!(serde_json::to_string(&p).unwrap(), raw);
    }

    #[test]
    fn call_params_reject_invalid_shapes() {
        for bad in [
            json!({"name": 5}),
            json!({}),
            json!({"name": "x", "arguments": [1]}),
            json!({"name": "x", "arguments": "a"}),
            json!({"name": "x", "_meta": 3}),
            json!([]),
        ] {
            assert!(
                serde_json::from_value::<CallToolRequestParams>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn call_params_keep_unknown_fields() {
        let v = json!({"name": "x", "task": {"ttl": 1000}, "x-y": null});
        let p: CallToolRequestParams = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(p.extra["task"], json!({"ttl": 1000}));
        assert_eq!(serde_json::to_value(&p).unwrap(), v);
    }

    #[test]
    fn call_result_from_capture_round_trips() {
        let raw = r#"{"content":[{"text":"hi é\n\"q\"","type":"text"}],"isError":false,"structuredContent":{"result":"hi é\n\"q\""}}"#;
        let r: CallToolResult = serde_json::from_str(raw).unwrap();
        assert!(!r.is_error());
        assert_eq!(r.content[0].as_text(), Some("hi é\n\"q\""));
        let back: Value = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(raw).unwrap());
    }

    #[test]
    fn call_result_mixed_content_and_meta() {
        let v = json!({
            "content": [
                {"type": "text", "text": "a"},
                {"type": "image", "data": "AA==", "mimeType": "image/png"},
                {"type": "audio", "data": "AA==", "mimeType": "audio/wav"},
                {"type": "resource_link", "uri": "file:///x", "name": "x"},
                {"type": "resource", "resource": {"uri": "file:///y", "text": "y"}},
                {"type": "future_kind", "z": 1}
            ],
            "structuredContent": {"result": 3},
            "isError": true,
            "_meta": {"io.example/trace": "abc"},
            "resultType": "complete"
        });
        let r: CallToolResult = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.content.len(), 6);
        assert_eq!(r.meta.as_ref().unwrap()["io.example/trace"], "abc");
        assert_eq!(r.extra["resultType"], "complete");
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }

    #[test]
    fn call_result_rejects_bad_shapes() {
        assert!(serde_json::from_value::<CallToolResult>(json!({})).is_err());
        assert!(serde_json::from_value::<CallToolResult>(json!({"content": {}})).is_err());
        assert!(
            serde_json::from_value::<CallToolResult>(json!({"content": [], "isError": "no"}))
                .is_err()
        );
    }

    #[test]
    fn builders() {
        let r = CallToolResult::error("boom").with_structured(json!({"k": 1}));
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"content": [{"type": "text", "text": "boom"}], "structuredContent": {"k": 1}, "isError": true})
        );
    }

    #[test]
    fn tool_with_every_optional_field_and_rich_schema() {
        let v = json!({
            "name": "rich", "title": "Rich tool", "description": "d",
            "inputSchema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {"pos": {"type": "integer", "exclusiveMinimum": 0}},
                "properties": {
                    "n": {"$ref": "#/$defs/pos"},
                    "mode": {"enum": ["a", "b"], "default": "a"},
                    "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true,
                             "prefixItems": [{"const": "x"}]},
                    "choice": {"oneOf": [{"type": "string"}, {"type": "null"}]}
                },
                "required": ["n"],
                "additionalProperties": false,
                "unevaluatedProperties": false
            },
            "outputSchema": {"type": "object", "properties": {"result": {"type": "integer"}}},
            "annotations": {"title": "T", "readOnlyHint": true, "destructiveHint": false,
                            "idempotentHint": true, "openWorldHint": false, "x-hint": 1},
            "icons": [{"src": "https://x.test/t.svg", "mimeType": "image/svg+xml", "sizes": ["any"]}],
            "execution": {"taskSupport": "optional"},
            "_meta": {"io.example/v": 2}
        });
        let t: Tool = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(t.annotations.as_ref().unwrap().read_only_hint, Some(true));
        assert_eq!(t.extra["execution"], json!({"taskSupport": "optional"}));
        assert_eq!(serde_json::to_value(&t).unwrap(), v);
        assert!(serde_json::from_value::<Tool>(json!({"name": "x"})).is_err());
    }

    #[test]
    fn list_tools_pagination() {
        let v = json!({"tools": [], "nextCursor": "c2", "_meta": {"a": 1}});
        let r: ListToolsResult = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.next_cursor.as_ref().map(Cursor::as_str), Some("c2"));
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }
}
