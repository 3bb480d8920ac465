//! The message endpoint path and request-path decoding.

/// Why a message endpoint path was refused (the reference raises `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The path holds `://`, starts with `//`, or holds `?` or `#`: it must be a plain
    /// server-relative path.
    #[error("message endpoint must be a relative path, got {0:?}")]
    NotRelative(String),
}

/// A validated message endpoint path such as `/messages/`.
///
/// Rules (the reference's `SseServerTransport` constructor): refused if it contains `://`,
/// starts with `//`, or contains `?` or `#`; a missing leading `/` is added.
///
/// ```
/// use mcp_sse_core::transport::MessagePath;
/// assert_eq!(MessagePath::new("messages/").unwrap().as_str(), "/messages/");
/// assert_eq!(MessagePath::new("/").unwrap().as_str(), "/");
/// assert!(MessagePath::new("http://x/messages/").is_err());
/// assert!(MessagePath::new("//x/messages/").is_err());
/// assert!(MessagePath::new("/m?x=1").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePath(String);

impl MessagePath {
    /// Validates and normalises `path`.
    pub fn new(path: &str) -> Result<Self, EndpointError> {
        if path.contains("://")
            || path.starts_with("//")
            || path.contains('?')
            || path.contains('#')
        {
            return Err(EndpointError::NotRelative(path.to_string()));
        }
        if path.starts_with('/') {
            Ok(MessagePath(path.to_string()))
        } else {
            Ok(MessagePath(format!("/{path}")))
        }
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for MessagePath {
    fn default() -> Self {
        MessagePath("/messages/".into())
    }
}

/// Percent-decodes a request path (no `+` rule: that is for queries only), as ASGI servers
/// present `scope["path"]`. Invalid escapes stay as written; invalid UTF-8 is replaced. A path
/// with nothing to decode is borrowed.
///
/// ```
/// use mcp_sse_core::transport::percent_decode_path;
/// assert_eq!(percent_decode_path("/api%20v1/sse"), "/api v1/sse");
/// assert_eq!(percent_decode_path("/a+b%2"), "/a+b%2");
/// ```
pub fn percent_decode_path(path: &str) -> std::borrow::Cow<'_, str> {
    super::query::percent_decode(path, false)
}
