//! Resources: `resources/list`, `resources/templates/list`, `resources/read`,
//! `resources/subscribe` and `resources/unsubscribe`.
//!
//! (`notifications/resources/updated` and `…/list_changed` live in
//! [`notifications`](super::notifications).)

use serde::{Deserialize, Serialize};

use super::common::{Annotations, Cursor, Extra, Icon, Meta};
use super::content::ResourceContents;

/// A resource the server can read (also the body of a `resource_link` content block).
///
/// ```
/// use mcp_sse_core::mcp::Resource;
/// let r = Resource::new("file:///a.txt", "a");
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"uri":"file:///a.txt","name":"a"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// URI of the resource.
    pub uri: String,
    /// Programmatic name.
    pub name: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// MIME type, if known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mime_type: Option<String>,
    /// Size of the raw content in bytes, if known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size: Option<u64>,
    /// Optional annotations.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<Annotations>,
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

impl Resource {
    /// A resource with only `uri` and `name`.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            name: name.into(),
            ..Self::default()
        }
    }
}

/// An RFC 6570 URI template describing a family of resources.
///
/// ```
/// use mcp_sse_core::mcp::ResourceTemplate;
/// let t = ResourceTemplate::new("file:///{path}", "files");
/// assert_eq!(t.uri_template, "file:///{path}");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTemplate {
    /// The URI template.
    pub uri_template: String,
    /// Programmatic name.
    pub name: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// MIME type shared by all matching resources.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mime_type: Option<String>,
    /// Optional annotations.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<Annotations>,
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

impl ResourceTemplate {
    /// A template with only `uriTemplate` and `name`.
    pub fn new(uri_template: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            uri_template: uri_template.into(),
            name: name.into(),
            ..Self::default()
        }
    }
}

/// Result of `resources/list` (params: [`PaginatedRequestParams`](super::PaginatedRequestParams)).
///
/// ```
/// use mcp_sse_core::mcp::ListResourcesResult;
/// let r: ListResourcesResult =
///     serde_json::from_str(r#"{"resources":[{"uri":"file:///a","name":"a"}],"nextCursor":"2"}"#).unwrap();
/// assert_eq!(r.next_cursor.unwrap().as_str(), "2");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResourcesResult {
    /// The resources on this page.
    pub resources: Vec<Resource>,
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

/// Result of `resources/templates/list` (params:
/// [`PaginatedRequestParams`](super::PaginatedRequestParams)).
///
/// ```
/// use mcp_sse_core::mcp::ListResourceTemplatesResult;
/// let r: ListResourceTemplatesResult = serde_json::from_str(
///     r#"{"resourceTemplates":[{"uriTemplate":"file:///{p}","name":"f"}]}"#).unwrap();
/// assert_eq!(r.resource_templates.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResourceTemplatesResult {
    /// The templates on this page.
    pub resource_templates: Vec<ResourceTemplate>,
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

/// Params naming one resource by URI: `resources/read`, `resources/subscribe`,
/// `resources/unsubscribe`.
///
/// ```
/// use mcp_sse_core::mcp::ResourceRequestParams;
/// let p = ResourceRequestParams::new("file:///a");
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"uri":"file:///a"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRequestParams {
    /// URI of the resource.
    pub uri: String,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResourceRequestParams {
    /// Params for `uri`.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            ..Self::default()
        }
    }
}

/// Params of `resources/read`.
pub type ReadResourceRequestParams = ResourceRequestParams;
/// Params of `resources/subscribe` (result: [`EmptyResult`](super::EmptyResult)).
pub type SubscribeRequestParams = ResourceRequestParams;
/// Params of `resources/unsubscribe` (result: [`EmptyResult`](super::EmptyResult)).
pub type UnsubscribeRequestParams = ResourceRequestParams;

/// Result of `resources/read`.
///
/// ```
/// use mcp_sse_core::mcp::{ReadResourceResult, TextResourceContents};
/// let r = ReadResourceResult::new(vec![TextResourceContents::new("file:///a", "hi").into()]);
/// assert_eq!(
///     serde_json::to_string(&r).unwrap(),
///     r#"{"contents":[{"uri":"file:///a","text":"hi"}]}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadResourceResult {
    /// The contents (a resource may have several parts).
    pub contents: Vec<ResourceContents>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadResourceResult {
    /// A result with these contents.
    pub fn new(contents: Vec<ResourceContents>) -> Self {
        Self {
            contents,
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
    fn list_with_optional_fields_and_annotations() {
        let r: ListResourcesResult = round_trip(json!({
            "resources": [
                {"uri": "file:///a.txt", "name": "a", "title": "A", "description": "first",
                 "mimeType": "text/plain", "size": 1024,
                 "annotations": {"audience": ["user"], "priority": 0.25, "lastModified": "2025-01-12T15:00:58Z"},
                 "icons": [{"src": "https://x.test/a.png"}], "_meta": {"k": 1}, "x-new": true},
                {"uri": "mem://b", "name": "b"}
            ],
            "nextCursor": "opaque/≠",
            "_meta": {"page": 1}
        }));
        assert_eq!(r.resources[0].extra["x-new"], json!(true));
        assert_eq!(r.next_cursor.unwrap().as_str(), "opaque/≠");
    }

    #[test]
    fn templates_round_trip() {
        let r: ListResourceTemplatesResult = round_trip(json!({
            "resourceTemplates": [{"uriTemplate": "users://{id}/profile", "name": "profile",
                                    "mimeType": "application/json", "annotations": {"priority": 1}}]
        }));
        assert_eq!(r.resource_templates[0].name, "profile");
    }

    #[test]
    fn read_text_and_blob() {
        let r: ReadResourceResult = round_trip(json!({
            "contents": [{"uri": "file:///a", "mimeType": "text/plain", "text": "hello"},
                         {"uri": "file:///b", "mimeType": "image/png", "blob": "iVBORw0KGgo="}]
        }));
        assert!(matches!(r.contents[0], ResourceContents::Text(_)));
        assert!(matches!(r.contents[1], ResourceContents::Blob(_)));
        assert!(
            serde_json::from_value::<ReadResourceResult>(json!({"contents": [{"uri": "x"}]}))
                .is_err()
        );
        assert!(serde_json::from_value::<ReadResourceResult>(json!({})).is_err());
    }

    #[test]
    fn uri_params() {
        let p: SubscribeRequestParams =
            round_trip(json!({"uri": "file:///a", "_meta": {"x": 1}, "y": 2}));
        assert_eq!(p.uri, "file:///a");
        assert!(serde_json::from_value::<ReadResourceRequestParams>(json!({"uri": 1})).is_err());
        assert!(serde_json::from_value::<UnsubscribeRequestParams>(json!({})).is_err());
        assert!(
            serde_json::from_value::<Resource>(json!({"uri": "a", "name": "b", "size": -1}))
                .is_err()
        );
    }
}
