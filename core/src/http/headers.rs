//! An ordered header-field list with ASCII case-insensitive lookup.

use bytes::{BufMut, Bytes, BytesMut};

/// Header fields in the order they were received or pushed, with their names spelled as given.
///
/// Lookup is ASCII case-insensitive. Names are expected to be valid HTTP tokens and values to be
/// free of CR, LF and NUL (use [`Headers::try_push`] to have that checked); whatever they
/// contain, [`Headers::encode`] never emits a CR, LF or NUL from a name or a value: it writes
/// those bytes as a space, so a bad value can never inject a header line.
///
/// ```
/// use mcp_sse_core::http::Headers;
///
/// let mut headers = Headers::new();
/// headers.push("Content-Type", "application/json");
/// headers.push("content-length", "2");
/// assert_eq!(headers.get("CONTENT-TYPE"), Some(&b"application/json"[..]));
/// assert_eq!(headers.get_str("Content-Length"), Some("2"));
///
/// let mut out = bytes::BytesMut::new();
/// headers.encode(&mut out);
/// assert_eq!(&out[..], b"Content-Type: application/json\r\ncontent-length: 2\r\n");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(HeaderName, Bytes)>,
}

/// A header field name, spelled as given: a `&'static str` or a received name is kept without a
/// copy, a `String` without another allocation.
///
/// ```
/// use mcp_sse_core::http::HeaderName;
/// assert_eq!(HeaderName::from("Content-Type").as_str(), "Content-Type");
/// assert_eq!(HeaderName::from(String::from("x-a")).as_str(), "x-a");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderName(Bytes);

impl HeaderName {
    /// A received name kept as a slice of the input: the bytes of the `&str` httparse handed
    /// out (an HTTP token, so ASCII).
    pub(crate) fn received(name: Bytes) -> HeaderName {
        HeaderName(name)
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        // Every constructor keeps valid UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn is(&self, name: &str) -> bool {
        self.0.eq_ignore_ascii_case(name.as_bytes())
    }
}

impl From<&'static str> for HeaderName {
    fn from(name: &'static str) -> Self {
        HeaderName(Bytes::from_static(name.as_bytes()))
    }
}

impl From<String> for HeaderName {
    fn from(name: String) -> Self {
        HeaderName(Bytes::from(name))
    }
}

impl std::fmt::Debug for HeaderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Headers::default()
    }

    /// An empty list with room for `capacity` fields.
    pub fn with_capacity(capacity: usize) -> Self {
        Headers {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// Appends a field. The caller is responsible for passing a valid token as the name and a
    /// value without CR/LF/NUL; see the type docs for what [`Headers::encode`] does otherwise.
    pub fn push(&mut self, name: impl Into<HeaderName>, value: impl Into<Bytes>) {
        self.entries.push((name.into(), value.into()));
    }

    /// Appends a received field (name and value slices of the input).
    pub(crate) fn push_received(&mut self, name: Bytes, value: Bytes) {
        self.entries.push((HeaderName::received(name), value));
    }

    /// Appends a field after checking that the name is a non-empty HTTP token and the value has
    /// no control characters other than horizontal tab (obs-text bytes ≥ 0x80 are allowed).
    pub fn try_push(
        &mut self,
        name: impl Into<HeaderName>,
        value: impl Into<Bytes>,
    ) -> Result<(), crate::http::HttpError> {
        let name = name.into();
        let value = value.into();
        if !is_token(name.as_bytes()) {
            return Err(crate::http::HttpError::Malformed("invalid header name"));
        }
        if !is_field_value(&value) {
            return Err(crate::http::HttpError::Malformed("invalid header value"));
        }
        self.entries.push((name, value));
        Ok(())
    }

    /// The value of the first field called `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(n, _)| n.is(name))
            .map(|(_, v)| &v[..])
    }

    /// The value of the first field called `name`, if it is valid UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The values of every field called `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n.is(name))
            .map(|(_, v)| &v[..])
    }

    /// Whether a field called `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether any field called `name` holds `token` as one of its comma-separated elements
    /// (ASCII case-insensitive, surrounding whitespace ignored), e.g.
    /// `contains_token("connection", "close")`.
    pub fn contains_token(&self, name: &str, token: &str) -> bool {
        self.entries
            .iter()
            .filter(|(n, _)| n.is(name))
            .any(|(_, value)| {
                value
                    .split(|&b| b == b',')
                    .any(|element| trim_ows(element).eq_ignore_ascii_case(token.as_bytes()))
            })
    }

    /// Every field as `(name, value)`, in order, names as given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.entries.iter().map(|(n, v)| (n.as_str(), &v[..]))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes every field as `Name: value\r\n`, in order, names as given. CR, LF and NUL bytes in
    /// names and values are written as spaces.
    pub fn encode(&self, out: &mut BytesMut) {
        for (name, value) in &self.entries {
            out.reserve(name.as_bytes().len() + value.len() + 4);
            put_sanitized(out, name.as_bytes());
            out.put_slice(b": ");
            put_sanitized(out, value);
            out.put_slice(b"\r\n");
        }
    }
}

/// Appends `bytes` to `out`, writing CR, LF and NUL as a space.
pub(crate) fn put_sanitized(out: &mut BytesMut, bytes: &[u8]) {
    if memchr::memchr3(b'\r', b'\n', 0, bytes).is_none() {
        out.put_slice(bytes);
    } else {
        out.extend(bytes.iter().map(|&b| {
            if matches!(b, b'\r' | b'\n' | 0) {
                b' '
            } else {
                b
            }
        }));
    }
}

/// `bytes` without leading and trailing spaces and tabs.
pub(crate) fn trim_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// Whether `b` is an RFC 9110 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `bytes` is a non-empty RFC 9110 token.
pub(crate) fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| is_tchar(b))
}

/// Whether `bytes` is a valid field value: no controls other than HTAB, no DEL.
pub(crate) fn is_field_value(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_ordered() {
        let mut h = Headers::new();
        assert!(h.is_empty());
        h.push("Accept", "text/event-stream");
        h.push("X-Many", "1");
        h.push("x-many", "2");
        h.push("Bin", vec![0xff, 0xfe]);
        assert_eq!(h.len(), 4);
        assert_eq!(h.get("accept"), Some(&b"text/event-stream"[..]));
        assert_eq!(h.get("missing"), None);
        assert_eq!(
            h.get_all("X-MANY").collect::<Vec<_>>(),
            vec![&b"1"[..], b"2"]
        );
        assert_eq!(h.get_str("bin"), None);
        assert_eq!(h.get("bin"), Some(&[0xff, 0xfe][..]));
        let names: Vec<&str> = h.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["Accept", "X-Many", "x-many", "Bin"]);
        assert!(h.contains("ACCEPT"));
    }

    #[test]
    fn tokens() {
        let mut h = Headers::new();
        h.push("Connection", "Keep-Alive, Upgrade");
        h.push("connection", " close ");
        assert!(h.contains_token("connection", "keep-alive"));
        assert!(h.contains_token("CONNECTION", "upgrade"));
        assert!(h.contains_token("connection", "close"));
        assert!(!h.contains_token("connection", "clos"));
    }

    #[test]
    fn encode_never_emits_line_breaks_from_values() {
        let mut h = Headers::new();
        h.push("X-Evil\r\n", "a\r\nInjected: yes\0");
        let mut out = BytesMut::new();
        h.encode(&mut out);
        assert_eq!(&out[..], b"X-Evil  : a  Injected: yes \r\n");
    }

    #[test]
    fn try_push_validates() {
        let mut h = Headers::new();
        assert!(h.try_push("Good-Name", &b"v\tok \x80"[..]).is_ok());
        assert!(h.try_push("Bad Name", "v").is_err());
        assert!(h.try_push("", "v").is_err());
        assert!(h.try_push("X", "a\r\nb").is_err());
        assert!(h.try_push("X", "a\0").is_err());
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn trims_ows() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        assert_eq!(trim_ows(b""), b"");
    }
}
