//! Content blocks: text, image, audio, resource links and embedded resources, plus the resource
//! contents (`TextResourceContents` / `BlobResourceContents`) they embed.
//!
//! **Unknown content types.** [`ContentBlock`] has a hand-written `Deserialize`: an object whose
//! `type` is one of the five known discriminators must match that variant's shape exactly (a
//! `"text"` block without `text` is an error), but an object with any *other* string `type` is kept
//! as [`ContentBlock::Unknown`] holding the whole object, and is written back unchanged. A future
//! content type therefore does not make a whole `tools/call` result or prompt fail to parse. A
//! block that is not an object, or has no string `type`, is rejected.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{from_object, Annotations, Extra, Meta};
use super::resources::Resource;

/// Text provided to or from an LLM (`"type":"text"`).
///
/// ```
/// use mcp_sse_core::mcp::TextContent;
/// let t = TextContent::new("hi");
/// assert_eq!(t.text, "hi");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextContent {
    /// The text.
    pub text: String,
    /// Optional annotations.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<Annotations>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TextContent {
    /// Text content without annotations.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// Base64 image data (`"type":"image"`).
///
/// ```
/// use mcp_sse_core::mcp::ImageContent;
/// let i = ImageContent::new("iVBORw0KGgo=", "image/png");
/// assert_eq!(i.mime_type, "image/png");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageContent {
    /// Base64-encoded image bytes.
    pub data: String,
    /// MIME type of the image.
    pub mime_type: String,
    /// Optional annotations.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<Annotations>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ImageContent {
    /// Image content from base64 `data` and its MIME type.
    pub fn new(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self {
            data: data.into(),
            mime_type: mime_type.into(),
            ..Self::default()
        }
    }
}

/// Base64 audio data (`"type":"audio"`).
///
/// ```
/// use mcp_sse_core::mcp::AudioContent;
/// let a = AudioContent::new("UklGRg==", "audio/wav");
/// assert_eq!(a.data, "UklGRg==");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioContent {
    /// Base64-encoded audio bytes.
    pub data: String,
    /// MIME type of the audio.
    pub mime_type: String,
    /// Optional annotations.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<Annotations>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl AudioContent {
    /// Audio content from base64 `data` and its MIME type.
    pub fn new(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self {
            data: data.into(),
            mime_type: mime_type.into(),
            ..Self::default()
        }
    }
}

/// Text contents of a resource (`resources/read`, embedded resources).
///
/// ```
/// use mcp_sse_core::mcp::TextResourceContents;
/// let c = TextResourceContents::new("file:///a.txt", "hello");
/// assert_eq!(c.uri, "file:///a.txt");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextResourceContents {
    /// URI of the resource.
    pub uri: String,
    /// MIME type, if known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mime_type: Option<String>,
    /// The text.
    pub text: String,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TextResourceContents {
    /// Text contents of `uri`.
    pub fn new(uri: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            text: text.into(),
            ..Self::default()
        }
    }
}

/// Binary contents of a resource, base64-encoded in `blob`.
///
/// ```
/// use mcp_sse_core::mcp::BlobResourceContents;
/// let c = BlobResourceContents::new("file:///a.bin", "AAEC");
/// assert_eq!(c.blob, "AAEC");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobResourceContents {
    /// URI of the resource.
    pub uri: String,
    /// MIME type, if known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mime_type: Option<String>,
    /// Base64-encoded bytes.
    pub blob: String,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl BlobResourceContents {
    /// Binary contents of `uri` (already base64-encoded).
    pub fn new(uri: impl Into<String>, blob: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            blob: blob.into(),
            ..Self::default()
        }
    }
}

/// The contents of a resource: text or blob. There is no discriminator on the wire: an object
/// with a `text` field is text, otherwise one with a `blob` field is a blob, otherwise an error.
///
/// ```
/// use mcp_sse_core::mcp::ResourceContents;
/// let c: ResourceContents = serde_json::from_str(r#"{"uri":"file:///a","blob":"AA=="}"#).unwrap();
/// assert!(matches!(c, ResourceContents::Blob(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ResourceContents {
    /// Text contents.
    Text(TextResourceContents),
    /// Binary contents.
    Blob(BlobResourceContents),
}

impl ResourceContents {
    /// The resource URI.
    pub fn uri(&self) -> &str {
        match self {
            Self::Text(t) => &t.uri,
            Self::Blob(b) => &b.uri,
        }
    }
}

impl<'de> Deserialize<'de> for ResourceContents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        if map.contains_key("text") {
            from_object(map).map(Self::Text)
        } else if map.contains_key("blob") {
            from_object(map).map(Self::Blob)
        } else {
            Err(de::Error::custom(
                "resource contents need a `text` or a `blob` field",
            ))
        }
    }
}

impl From<TextResourceContents> for ResourceContents {
    fn from(c: TextResourceContents) -> Self {
        Self::Text(c)
    }
}

impl From<BlobResourceContents> for ResourceContents {
    fn from(c: BlobResourceContents) -> Self {
        Self::Blob(c)
    }
}

/// A resource's contents embedded in a prompt or tool result (`"type":"resource"`).
///
/// ```
/// use mcp_sse_core::mcp::{EmbeddedResource, TextResourceContents};
/// let e = EmbeddedResource::new(TextResourceContents::new("file:///a", "x"));
/// assert_eq!(e.resource.uri(), "file:///a");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedResource {
    /// The contents.
    pub resource: ResourceContents,
    /// Optional annotations.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<Annotations>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl EmbeddedResource {
    /// Embed `resource` without annotations.
    pub fn new(resource: impl Into<ResourceContents>) -> Self {
        Self {
            resource: resource.into(),
            annotations: None,
            meta: None,
            extra: Extra::new(),
        }
    }
}

/// One block of content in a tool result or prompt message, tagged by `type`.
///
/// Unknown `type`s are kept as [`ContentBlock::Unknown`] (see the module docs).
///
/// ```
/// use mcp_sse_core::mcp::ContentBlock;
/// let b = ContentBlock::text("hi");
/// assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"type":"text","text":"hi"}"#);
/// let u: ContentBlock = serde_json::from_str(r#"{"type":"video","url":"x"}"#).unwrap();
/// assert!(matches!(u, ContentBlock::Unknown(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum ContentBlock {
    /// `"text"`.
    #[serde(rename = "text")]
    Text(TextContent),
    /// `"image"`.
    #[serde(rename = "image")]
    Image(ImageContent),
    /// `"audio"`.
    #[serde(rename = "audio")]
    Audio(AudioContent),
    /// `"resource_link"`: a [`Resource`] the client may read.
    #[serde(rename = "resource_link")]
    ResourceLink(Resource),
    /// `"resource"`: embedded resource contents.
    #[serde(rename = "resource")]
    Resource(EmbeddedResource),
    /// A block whose `type` this crate does not know: the whole object, `type` included.
    #[serde(untagged)]
    Unknown(Value),
}

impl ContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextContent::new(text))
    }

    /// An image block from base64 data.
    pub fn image(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self::Image(ImageContent::new(data, mime_type))
    }

    /// An audio block from base64 data.
    pub fn audio(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self::Audio(AudioContent::new(data, mime_type))
    }

    /// A `resource_link` block.
    pub fn resource_link(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Self::ResourceLink(Resource::new(uri, name))
    }

    /// An embedded resource block.
    pub fn resource(resource: impl Into<ResourceContents>) -> Self {
        Self::Resource(EmbeddedResource::new(resource))
    }

    /// The text of a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(&t.text),
            _ => None,
        }
    }

    /// The `type` discriminator of this block.
    pub fn type_name(&self) -> &str {
        match self {
            Self::Text(_) => "text",
            Self::Image(_) => "image",
            Self::Audio(_) => "audio",
            Self::ResourceLink(_) => "resource_link",
            Self::Resource(_) => "resource",
            Self::Unknown(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// Split a tagged JSON object into its `type` string and the remaining fields.
pub(crate) fn take_type<E: de::Error>(
    mut map: Map<String, Value>,
) -> Result<(String, Map<String, Value>), E> {
    match map.remove("type") {
        Some(Value::String(t)) => Ok((t, map)),
        Some(_) => Err(E::custom("content `type` must be a string")),
        None => Err(E::missing_field("type")),
    }
}

/// Rebuild the original object of an unknown-typed block (its `type` put back).
pub(crate) fn unknown_block(type_name: String, mut map: Map<String, Value>) -> Value {
    map.insert("type".to_owned(), Value::String(type_name));
    Value::Object(map)
}

impl<'de> Deserialize<'de> for ContentBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        let (ty, map) = take_type::<D::Error>(map)?;
        match ty.as_str() {
            "text" => from_object(map).map(Self::Text),
            "image" => from_object(map).map(Self::Image),
            "audio" => from_object(map).map(Self::Audio),
            "resource_link" => from_object(map).map(Self::ResourceLink),
            "resource" => from_object(map).map(Self::Resource),
            _ => Ok(Self::Unknown(unknown_block(ty, map))),
        }
    }
}

impl From<TextContent> for ContentBlock {
    fn from(c: TextContent) -> Self {
        Self::Text(c)
    }
}

impl From<ImageContent> for ContentBlock {
    fn from(c: ImageContent) -> Self {
        Self::Image(c)
    }
}

impl From<AudioContent> for ContentBlock {
    fn from(c: AudioContent) -> Self {
        Self::Audio(c)
    }
}

impl From<EmbeddedResource> for ContentBlock {
    fn from(c: EmbeddedResource) -> Self {
        Self::Resource(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(v: Value) -> ContentBlock {
        let block: ContentBlock = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&block).unwrap(), v);
        block
    }

    #[test]
    fn every_known_block_round_trips() {
        let ann = json!({"audience": ["user", "assistant"], "priority": 0.5,
                         "lastModified": "2025-01-12T15:00:58Z"});
        let b = round_trip(
            json!({"type": "text", "text": "hi é\n\"q\"", "annotations": ann,
                                  "_meta": {"m": 1}}),
        );
        assert_eq!(b.as_text(), Some("hi é\n\"q\""));
        let b =
            round_trip(json!({"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"}));
        assert_eq!(b.type_name(), "image");
        round_trip(
            json!({"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav",
                          "annotations": {"priority": 1}}),
        );
        let b = round_trip(
            json!({"type": "resource_link", "uri": "file:///r.txt", "name": "r",
                                  "title": "R", "description": "d", "mimeType": "text/plain",
                                  "size": 12, "icons": [{"src": "https://x.test/i.png"}]}),
        );
        assert!(matches!(b, ContentBlock::ResourceLink(ref r) if r.size == Some(12)));
        let b = round_trip(json!({"type": "resource",
                                  "resource": {"uri": "file:///a", "mimeType": "text/plain", "text": "x"},
                                  "_meta": {"k": "v"}}));
        assert!(
            matches!(b, ContentBlock::Resource(ref e) if matches!(e.resource, ResourceContents::Text(_)))
        );
        let b = round_trip(json!({"type": "resource",
                                  "resource": {"uri": "file:///b", "blob": "AAEC", "_meta": {}}}));
        assert!(
            matches!(b, ContentBlock::Resource(ref e) if matches!(e.resource, ResourceContents::Blob(_)))
        );
    }

    #[test]
    fn unknown_fields_are_preserved() {
        let b = round_trip(json!({"type": "text", "text": "x", "x-vendor": {"deep": [1]}}));
        match b {
            ContentBlock::Text(t) => assert_eq!(t.extra["x-vendor"], json!({"deep": [1]})),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_type_is_kept_whole() {
        let b = round_trip(json!({"type": "hologram", "frames": 3, "_meta": {"a": 1}}));
        assert_eq!(b.type_name(), "hologram");
        assert!(matches!(b, ContentBlock::Unknown(_)));
    }

    #[test]
    fn invalid_blocks_are_rejected() {
        for bad in [
            json!({"type": "text"}),
            json!({"type": "text", "text": 5}),
            json!({"type": "image", "data": "x"}),
            json!({"type": "resource", "resource": {"uri": "file:///a"}}),
            json!({"type": "resource_link", "uri": "file:///a"}),
            json!({"text": "no type"}),
            json!({"type": 1, "text": "x"}),
            json!("text"),
            json!([]),
        ] {
            assert!(
                serde_json::from_value::<ContentBlock>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn constructors_serialize_minimally() {
        assert_eq!(
            serde_json::to_value(ContentBlock::image("AA==", "image/png")).unwrap(),
            json!({"type": "image", "data": "AA==", "mimeType": "image/png"})
        );
        assert_eq!(
            serde_json::to_value(ContentBlock::audio("AA==", "audio/wav")).unwrap(),
            json!({"type": "audio", "data": "AA==", "mimeType": "audio/wav"})
        );
        assert_eq!(
            serde_json::to_value(ContentBlock::resource_link("file:///a", "a")).unwrap(),
            json!({"type": "resource_link", "uri": "file:///a", "name": "a"})
        );
        assert_eq!(
            serde_json::to_value(ContentBlock::resource(BlobResourceContents::new(
                "file:///b",
                "AA"
            )))
            .unwrap(),
            json!({"type": "resource", "resource": {"uri": "file:///b", "blob": "AA"}})
        );
    }
}
