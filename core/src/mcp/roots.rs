//! Roots: `roots/list` (server → client; params: [`RequestParams`](super::RequestParams)).

use serde::{Deserialize, Serialize};

use super::common::{Extra, Meta};

/// A root directory or file the server may operate on.
///
/// ```
/// use mcp_sse_core::mcp::Root;
/// let r = Root::new("file:///tmp/root").with_name("root");
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"uri":"file:///tmp/root","name":"root"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Root {
    /// URI of the root (`file://…`).
    pub uri: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Root {
    /// A root at `uri`.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            ..Self::default()
        }
    }

    /// Set the display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Result of `roots/list`. An empty list is valid.
///
/// ```
/// use mcp_sse_core::mcp::{ListRootsResult, Root};
/// let r = ListRootsResult::new(vec![]);
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"roots":[]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRootsResult {
    /// The roots.
    pub roots: Vec<Root>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ListRootsResult {
    /// A result with these roots.
    pub fn new(roots: Vec<Root>) -> Self {
        Self {
            roots,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn observed_client_response() {
        let raw = r#"{"roots":[{"uri":"file:///tmp/root","name":"root"}]}"#;
        let r: ListRootsResult = serde_json::from_str(raw).unwrap();
        assert_eq!(r.roots[0].name.as_deref(), Some("root"));
        assert_eq!(serde_json::to_string(&r).unwrap(), raw);
    }

    #[test]
    fn unknowns_and_meta_kept_invalid_rejected() {
        let v =
            json!({"roots": [{"uri": "file:///a", "_meta": {"k": 1}, "x": 2}], "_meta": {"r": 0}});
        let r: ListRootsResult = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
        assert!(
            serde_json::from_value::<ListRootsResult>(json!({"roots": [{"name": "x"}]})).is_err()
        );
        assert!(serde_json::from_value::<ListRootsResult>(json!({"roots": null})).is_err());
    }
}
