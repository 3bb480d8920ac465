//! The client's check of tool results against the tools' declared `outputSchema`s, as the
//! reference `ClientSession` does it: every `tools/list` result fills a cache (tool name → its
//! schema, or none); a `tools/call` result of a tool that is not cached asks for one implicit
//! `tools/list` first ([`OutputSchemas::needs_list`]); then a tool with a schema must return
//! `structuredContent` that satisfies it. A result with `isError: true` is never checked (and
//! needs no listing).
//!
//! ```
//! use mcp_sse_core::mcp::{CallToolResult, Tool};
//! use mcp_sse_core::session::{OutputSchemaError, OutputSchemas};
//! use serde_json::json;
//!
//! let mut schemas = OutputSchemas::new();
//! let ok = CallToolResult::new(vec![]).with_structured(json!({"temperature": 21.5}));
//! assert!(schemas.needs_list("forecast", &ok));
//! let mut tool = Tool::new("forecast", json!({"type": "object"}));
//! tool.output_schema = Some(json!({"type": "object", "properties": {"temperature": {"type": "number"}}}));
//! schemas.record(&[tool]);
//! assert!(!schemas.needs_list("forecast", &ok));
//! assert_eq!(schemas.check("forecast", &ok), Ok(()));
//! let bad = CallToolResult::new(vec![]).with_structured(json!({"temperature": "warm"}));
//! assert!(matches!(schemas.check("forecast", &bad), Err(OutputSchemaError::Invalid { .. })));
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use jsonschema::Validator;

use crate::jsonrpc::ErrorObject;
use crate::mcp::{CallToolResult, Tool};
use crate::router::typed::violations;

/// Why a tool result was rejected by the client. The texts are the reference's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputSchemaError {
    /// The tool declares an `outputSchema` but its result has no `structuredContent`.
    #[error("Tool {tool} has an output schema but did not return structured content")]
    MissingStructuredContent {
        /// The tool's name.
        tool: String,
    },
    /// The `structuredContent` does not satisfy the tool's `outputSchema`.
    #[error("Invalid structured content returned by tool {tool}: {violations}")]
    Invalid {
        /// The tool's name.
        tool: String,
        /// What is wrong, field by field (values masked).
        violations: String,
    },
    /// The tool's `outputSchema` is not a valid JSON Schema, so nothing can be checked.
    #[error("Invalid schema for tool {tool}: {message}")]
    InvalidSchema {
        /// The tool's name.
        tool: String,
        /// Why the schema does not compile.
        message: String,
    },
}

impl From<OutputSchemaError> for ErrorObject {
    /// The rejection as the caller's error: `-32603` (the result arrived, but the client cannot
    /// accept it) with the reference's text.
    fn from(e: OutputSchemaError) -> Self {
        ErrorObject::internal_error(e.to_string())
    }
}

/// What the cache knows about one tool.
#[derive(Clone)]
enum Entry {
    /// Listed without an `outputSchema`: nothing to check.
    NoSchema,
    /// Listed with a schema, compiled.
    Schema(Arc<Validator>),
    /// Listed with a schema that does not compile.
    BadSchema(String),
}

/// The client's cache of the tools' output schemas (see the [module docs](self)).
#[derive(Clone, Default)]
pub struct OutputSchemas {
    tools: HashMap<String, Entry>,
}

impl std::fmt::Debug for OutputSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputSchemas")
            .field("tools", &self.tools.len())
            .finish()
    }
}

impl OutputSchemas {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the tools of one `tools/list` page (a tool listed again replaces its entry).
    pub fn record(&mut self, tools: &[Tool]) {
        for tool in tools {
            let entry = match &tool.output_schema {
                None => Entry::NoSchema,
                Some(schema) => match jsonschema::draft202012::new(schema) {
                    Ok(v) => Entry::Schema(Arc::new(v)),
                    Err(e) => Entry::BadSchema(e.to_string()),
                },
            };
            self.tools.insert(tool.name.clone(), entry);
        }
    }

    /// Records that the server did not list tool `name` (or could not be asked): its results
    /// pass unchecked, and no further listing is asked for it until a listing names it.
    pub fn mark_unlisted(&mut self, name: &str) {
        self.tools
            .entry(name.to_string())
            .or_insert(Entry::NoSchema);
    }

    /// Whether `result` of tool `name` needs a `tools/list` before [`OutputSchemas::check`]:
    /// the tool is not cached and the result is not an error.
    pub fn needs_list(&self, name: &str, result: &CallToolResult) -> bool {
        !is_error(result) && !self.tools.contains_key(name)
    }

    /// Checks `result` of tool `name` against its cached schema. An error result, a tool without
    /// a schema and a tool the server never listed pass unchecked.
    pub fn check(&self, name: &str, result: &CallToolResult) -> Result<(), OutputSchemaError> {
        if is_error(result) {
            return Ok(());
        }
        let validator = match self.tools.get(name) {
            None | Some(Entry::NoSchema) => return Ok(()),
            Some(Entry::BadSchema(message)) => {
                return Err(OutputSchemaError::InvalidSchema {
                    tool: name.to_string(),
                    message: message.clone(),
                })
            }
            Some(Entry::Schema(v)) => v,
        };
        let Some(structured) = &result.structured_content else {
            return Err(OutputSchemaError::MissingStructuredContent {
                tool: name.to_string(),
            });
        };
        match violations(validator, structured) {
            None => Ok(()),
            Some(violations) => Err(OutputSchemaError::Invalid {
                tool: name.to_string(),
                violations,
            }),
        }
    }
}

fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listed(schema: Option<serde_json::Value>) -> OutputSchemas {
        let mut tool = Tool::new("t", json!({"type": "object"}));
        tool.output_schema = schema;
        let mut s = OutputSchemas::new();
        s.record(&[tool]);
        s
    }

    fn structured(v: serde_json::Value) -> CallToolResult {
        CallToolResult::new(vec![]).with_structured(v)
    }

    #[test]
    fn an_uncached_tool_needs_a_listing_unless_its_result_is_an_error() {
        let s = OutputSchemas::new();
        let ok = structured(json!({}));
        assert!(s.needs_list("t", &ok));
        let mut err = CallToolResult::new(vec![]);
        err.is_error = Some(true);
        assert!(!s.needs_list("t", &err));
        // Never listed even after a listing: checked as a tool without a schema.
        assert_eq!(s.check("t", &ok), Ok(()));
        assert!(!listed(None).needs_list("t", &ok));
    }

    #[test]
    fn structured_content_is_checked_against_the_schema() {
        let s = listed(Some(json!({
            "type": "object",
            "properties": {"x": {"type": "integer"}},
            "required": ["x"]
        })));
        assert_eq!(s.check("t", &structured(json!({"x": 1}))), Ok(()));
        let e = s.check("t", &structured(json!({"x": "no"}))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid structured content returned by tool t: x: value is not of type \"integer\""
        );
        assert_eq!(
            s.check("t", &CallToolResult::new(vec![])),
            Err(OutputSchemaError::MissingStructuredContent { tool: "t".into() })
        );
        assert_eq!(
            OutputSchemaError::MissingStructuredContent { tool: "t".into() }.to_string(),
            "Tool t has an output schema but did not return structured content"
        );
        // isError skips the check, structured content or not.
        let mut err = structured(json!({"x": "no"}));
        err.is_error = Some(true);
        assert_eq!(s.check("t", &err), Ok(()));
        // A tool without a schema is not checked.
        assert_eq!(
            listed(None).check("t", &CallToolResult::new(vec![])),
            Ok(())
        );
    }

    #[test]
    fn a_schema_that_does_not_compile_is_a_typed_error_at_check_time() {
        let s = listed(Some(json!({"type": 12})));
        let e = s.check("t", &structured(json!({}))).unwrap_err();
        assert!(
            matches!(e, OutputSchemaError::InvalidSchema { ref tool, .. } if tool == "t"),
            "{e}"
        );
        let obj: ErrorObject = e.into();
        assert!(
            obj.message.starts_with("Invalid schema for tool t: "),
            "{obj:?}"
        );
    }

    #[test]
    fn a_later_listing_replaces_the_entry() {
        let mut s = listed(None);
        let mut tool = Tool::new("t", json!({"type": "object"}));
        tool.output_schema = Some(json!({"type": "object", "required": ["x"]}));
        s.record(&[tool]);
        assert!(s.check("t", &structured(json!({}))).is_err());
    }
}
