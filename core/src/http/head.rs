//! Request and response heads: the start line plus header fields, their encoding, and their
//! parsing (with `httparse`) once the whole head has been received.

use bytes::{BufMut, Bytes, BytesMut};

use super::headers::{put_sanitized, Headers};
use super::limits::Limits;
use super::HttpError;

/// The HTTP/1.x version of a message.
///
/// ```
/// use mcp_sse_core::http::Version;
///
/// assert_eq!(Version::Http11.as_str(), "HTTP/1.1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// `HTTP/1.0`.
    Http10,
    /// `HTTP/1.1`.
    Http11,
}

impl Version {
    /// The version as written on the wire, `HTTP/1.0` or `HTTP/1.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// A request line and its header fields.
///
/// ```
/// use mcp_sse_core::http::{RequestHead, Version};
///
/// let mut head = RequestHead::new("GET", "/sse");
/// head.headers.push("Host", "127.0.0.1:8766");
/// let mut out = bytes::BytesMut::new();
/// head.encode(&mut out);
/// assert_eq!(&out[..], b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8766\r\n\r\n");
///
/// let post = RequestHead::new("POST", "/messages/?session_id=abc#frag");
/// assert_eq!(post.path(), "/messages/");
/// assert_eq!(post.query(), Some("session_id=abc"));
/// assert!(post.keep_alive());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// The method token, e.g. `POST`.
    pub method: String,
    /// The request target as sent, e.g. `/messages/?session_id=…`.
    pub target: String,
    /// The protocol version.
    pub version: Version,
    /// The header fields, in order.
    pub headers: Headers,
}

impl RequestHead {
    /// An `HTTP/1.1` request head with no header fields.
    pub fn new(method: &str, target: &str) -> Self {
        RequestHead {
            method: method.to_owned(),
            target: target.to_owned(),
            version: Version::Http11,
            headers: Headers::new(),
        }
    }

    /// Writes `METHOD target HTTP/1.x\r\n`, the header fields in order and the blank line.
    /// CR, LF and NUL in the method, target or headers are written as spaces; the caller is
    /// responsible for a target without spaces.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.method.len() + self.target.len() + 12);
        put_sanitized(out, self.method.as_bytes());
        out.put_u8(b' ');
        put_sanitized(out, self.target.as_bytes());
        out.put_u8(b' ');
        out.put_slice(self.version.as_str().as_bytes());
        out.put_slice(b"\r\n");
        self.headers.encode(out);
        out.put_slice(b"\r\n");
    }

    /// Whether the connection stays open after this request: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive` (and no `close`).
    pub fn keep_alive(&self) -> bool {
        keep_alive(self.version, &self.headers)
    }

    /// The target without its query (and fragment).
    pub fn path(&self) -> &str {
        let end = self.target.find(['?', '#']).unwrap_or(self.target.len());
        self.target.get(..end).unwrap_or_default()
    }

    /// The raw (not percent-decoded) query after the first `?`, without any fragment.
    pub fn query(&self) -> Option<&str> {
        let path_end = self.target.find(['?', '#'])?;
        let rest = self.target.get(path_end..)?;
        let query = rest.strip_prefix('?')?;
        Some(query.split('#').next().unwrap_or_default())
    }
}

/// A status line and its header fields.
///
/// ```
/// use mcp_sse_core::http::ResponseHead;
///
/// let mut head = ResponseHead::new(202, "Accepted");
/// head.headers.push("content-length", "8");
/// let mut out = bytes::BytesMut::new();
/// head.encode(&mut out);
/// assert_eq!(&out[..], b"HTTP/1.1 202 Accepted\r\ncontent-length: 8\r\n\r\n");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// The protocol version.
    pub version: Version,
    /// The status code.
    pub status: u16,
    /// The reason phrase (may be empty).
    pub reason: String,
    /// The header fields, in order.
    pub headers: Headers,
}

impl ResponseHead {
    /// An `HTTP/1.1` response head with no header fields. See
    /// [`reason_phrase`](crate::http::reason_phrase) for the reference wording of `reason`.
    pub fn new(status: u16, reason: &str) -> Self {
        ResponseHead {
            version: Version::Http11,
            status,
            reason: reason.to_owned(),
            headers: Headers::new(),
        }
    }

    /// Writes `HTTP/1.x status reason\r\n`, the header fields in order and the blank line.
    /// The status is written in decimal as given (callers keep it within 100..=999); CR, LF and
    /// NUL in the reason or headers are written as spaces.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.reason.len() + 16);
        out.put_slice(self.version.as_str().as_bytes());
        out.put_u8(b' ');
        put_decimal(out, self.status);
        out.put_u8(b' ');
        put_sanitized(out, self.reason.as_bytes());
        out.put_slice(b"\r\n");
        self.headers.encode(out);
        out.put_slice(b"\r\n");
    }

    /// Whether the connection stays open after this response (same rule as
    /// [`RequestHead::keep_alive`]).
    pub fn keep_alive(&self) -> bool {
        keep_alive(self.version, &self.headers)
    }
}

fn keep_alive(version: Version, headers: &Headers) -> bool {
    if headers.contains_token("connection", "close") {
        return false;
    }
    match version {
        Version::Http11 => true,
        Version::Http10 => headers.contains_token("connection", "keep-alive"),
    }
}

fn put_decimal(out: &mut BytesMut, value: u16) {
    let mut digits = [0u8; crate::decimal::U64_DIGITS];
    out.put_slice(crate::decimal::format_u64(u64::from(value), &mut digits));
}

/// How many header slots live on the stack while parsing; more come from the heap.
const STACK_HEADER_SLOTS: usize = 64;

/// `sub` (a subslice of `whole` handed out by httparse) as a zero-copy `Bytes`; copies if it is
/// not actually inside `whole`, so this can never panic.
fn slice_of(whole: &Bytes, sub: &[u8]) -> Bytes {
    let start = (sub.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    match start.checked_add(sub.len()) {
        Some(end) if start <= whole.len() && end <= whole.len() => whole.slice(start..end),
        _ => Bytes::copy_from_slice(sub),
    }
}

fn map_httparse_error(
    err: httparse::Error,
    head: &[u8],
    limits: &Limits,
    request: bool,
) -> HttpError {
    match err {
        httparse::Error::TooManyHeaders => HttpError::TooManyHeaders {
            limit: limits.max_headers,
        },
        httparse::Error::Version => version_error(head, request),
        httparse::Error::HeaderName => HttpError::Malformed("invalid header name"),
        httparse::Error::HeaderValue => HttpError::Malformed("invalid header value"),
        httparse::Error::NewLine => HttpError::Malformed("invalid line ending"),
        httparse::Error::Status => HttpError::Malformed("invalid status code"),
        httparse::Error::Token => HttpError::Malformed("invalid token in start line"),
    }
}

/// `HTTP/<digit>.<digit>` that is not 1.0/1.1 → 505; anything else → 400.
fn version_error(head: &[u8], request: bool) -> HttpError {
    let line_end = memchr::memchr2(b'\r', b'\n', head).unwrap_or(head.len());
    let line = head.get(..line_end).unwrap_or_default();
    let token = if request {
        line.rsplit(|&b| b == b' ').next()
    } else {
        line.split(|&b| b == b' ').next()
    };
    match token {
        Some([b'H', b'T', b'T', b'P', b'/', major, b'.', minor])
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            HttpError::UnsupportedVersion
        }
        _ => HttpError::Malformed("invalid HTTP version"),
    }
}

fn version_of(version: Option<u8>) -> Result<Version, HttpError> {
    match version {
        Some(0) => Ok(Version::Http10),
        Some(1) => Ok(Version::Http11),
        _ => Err(HttpError::UnsupportedVersion),
    }
}

fn collect_headers(head: &Bytes, parsed: &[httparse::Header<'_>]) -> Headers {
    let mut headers = Headers::with_capacity(parsed.len());
    for h in parsed {
        headers.push_received(slice_of(head, h.name.as_bytes()), slice_of(head, h.value));
    }
    headers
}

/// Parses one complete request head (ending with its blank line). Header values are zero-copy
/// slices of `head`.
pub(crate) fn parse_request_head(head: &Bytes, limits: &Limits) -> Result<RequestHead, HttpError> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADER_SLOTS];
    let mut heap;
    let slots: &mut [httparse::Header<'_>] = if limits.max_headers <= STACK_HEADER_SLOTS {
        stack.get_mut(..limits.max_headers).unwrap_or_default()
    } else {
        heap = vec![httparse::EMPTY_HEADER; limits.max_headers];
        &mut heap
    };
    let mut req = httparse::Request::new(slots);
    match req.parse(head) {
        Ok(httparse::Status::Complete(n)) if n == head.len() => {}
        Ok(_) => return Err(HttpError::Malformed("incomplete request head")),
        Err(e) => return Err(map_httparse_error(e, head, limits, true)),
    }
    let (Some(method), Some(target)) = (req.method, req.path) else {
        return Err(HttpError::Malformed("incomplete request line"));
    };
    Ok(RequestHead {
        method: method.to_owned(),
        target: target.to_owned(),
        version: version_of(req.version)?,
        headers: collect_headers(head, req.headers),
    })
}

/// Parses one complete response head (ending with its blank line).
pub(crate) fn parse_response_head(
    head: &Bytes,
    limits: &Limits,
) -> Result<ResponseHead, HttpError> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADER_SLOTS];
    let mut heap;
    let slots: &mut [httparse::Header<'_>] = if limits.max_headers <= STACK_HEADER_SLOTS {
        stack.get_mut(..limits.max_headers).unwrap_or_default()
    } else {
        heap = vec![httparse::EMPTY_HEADER; limits.max_headers];
        &mut heap
    };
    let mut res = httparse::Response::new(slots);
    match res.parse(head) {
        Ok(httparse::Status::Complete(n)) if n == head.len() => {}
        Ok(_) => return Err(HttpError::Malformed("incomplete status line")),
        Err(e) => return Err(map_httparse_error(e, head, limits, false)),
    }
    let Some(status) = res.code else {
        return Err(HttpError::Malformed("incomplete status line"));
    };
    Ok(ResponseHead {
        version: version_of(res.version)?,
        status,
        reason: res.reason.unwrap_or_default().to_owned(),
        headers: collect_headers(head, res.headers),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(bytes: &'static [u8]) -> Result<RequestHead, HttpError> {
        parse_request_head(&Bytes::from_static(bytes), &Limits::default())
    }

    #[test]
    fn encodes_request_head() {
        let mut head = RequestHead::new("POST", "/messages/?session_id=x");
        head.version = Version::Http10;
        head.headers.push("Content-Length", "2");
        let mut out = BytesMut::new();
        head.encode(&mut out);
        assert_eq!(
            &out[..],
            b"POST /messages/?session_id=x HTTP/1.0\r\nContent-Length: 2\r\n\r\n"
        );
    }

    #[test]
    fn encodes_response_head() {
        for (status, reason, wire) in [
            (200, "OK", &b"HTTP/1.1 200 OK\r\n\r\n"[..]),
            (7, "", b"HTTP/1.1 7 \r\n\r\n"),
            (65535, "X\r\nY", b"HTTP/1.1 65535 X  Y\r\n\r\n"),
        ] {
            let mut out = BytesMut::new();
            ResponseHead::new(status, reason).encode(&mut out);
            assert_eq!(&out[..], wire);
        }
    }

    #[test]
    fn keep_alive_rules() {
        let mut h = RequestHead::new("GET", "/");
        assert!(h.keep_alive());
        h.headers.push("Connection", "Close");
        assert!(!h.keep_alive());
        let mut h10 = RequestHead::new("GET", "/");
        h10.version = Version::Http10;
        assert!(!h10.keep_alive());
        h10.headers.push("connection", "keep-alive");
        assert!(h10.keep_alive());
        let mut r = ResponseHead::new(200, "OK");
        r.headers.push("connection", "keep-alive");
        assert!(r.keep_alive());
    }

    #[test]
    fn path_and_query() {
        let cases = [
            ("/sse", "/sse", None),
            (
                "/messages/?session_id=ab",
                "/messages/",
                Some("session_id=ab"),
            ),
            ("/a?", "/a", Some("")),
            ("/a?x=1#f", "/a", Some("x=1")),
            ("/a#f?x", "/a", None),
            ("*", "*", None),
        ];
        for (target, path, query) in cases {
            let h = RequestHead::new("GET", target);
            assert_eq!(h.path(), path, "{target}");
            assert_eq!(h.query(), query, "{target}");
        }
    }

    #[test]
    fn parses_request_head_zero_copy() {
        let wire = Bytes::from_static(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8766\r\nAccept: text/event-stream\r\nX-Empty:\r\n\r\n");
        let head = parse_request_head(&wire, &Limits::default()).unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, "/sse");
        assert_eq!(head.version, Version::Http11);
        assert_eq!(head.headers.get_str("host"), Some("127.0.0.1:8766"));
        assert_eq!(head.headers.get("x-empty"), Some(&b""[..]));
        let accept = head.headers.get("accept").unwrap();
        let base = wire.as_ptr() as usize;
        assert!(
            (accept.as_ptr() as usize) >= base && (accept.as_ptr() as usize) < base + wire.len()
        );
    }

    #[test]
    fn request_head_errors() {
        assert_eq!(
            req(b"GET / HTTP/2.0\r\n\r\n"),
            Err(HttpError::UnsupportedVersion)
        );
        assert_eq!(
            req(b"GET / HTTP/1.2\r\n\r\n"),
            Err(HttpError::UnsupportedVersion)
        );
        assert!(matches!(
            req(b"GET / HTXP/1.1\r\n\r\n"),
            Err(HttpError::Malformed(_))
        ));
        assert!(matches!(
            req(b"G(T / HTTP/1.1\r\n\r\n"),
            Err(HttpError::Malformed(_))
        ));
        assert!(matches!(
            req(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"),
            Err(HttpError::Malformed(_))
        ));
        assert!(matches!(
            req(b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n"),
            Err(HttpError::Malformed(_))
        ));
        assert!(matches!(
            req(b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n"),
            Err(HttpError::Malformed(_))
        ));
        let limits = Limits {
            max_headers: 1,
            ..Limits::default()
        };
        let wire = Bytes::from_static(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n");
        assert_eq!(
            parse_request_head(&wire, &limits),
            Err(HttpError::TooManyHeaders { limit: 1 })
        );
        let many = Limits {
            max_headers: 100,
            ..Limits::default()
        };
        assert!(parse_request_head(&wire, &many).is_ok());
    }

    #[test]
    fn parses_response_head() {
        let wire = Bytes::from_static(
            b"HTTP/1.1 405 Method Not Allowed\r\nallow: POST\r\ncontent-length: 0\r\n\r\n",
        );
        let head = parse_response_head(&wire, &Limits::default()).unwrap();
        assert_eq!(head.status, 405);
        assert_eq!(head.reason, "Method Not Allowed");
        assert_eq!(head.headers.get_str("Allow"), Some("POST"));
        let bad = Bytes::from_static(b"HTTP/3.0 200 OK\r\n\r\n");
        assert_eq!(
            parse_response_head(&bad, &Limits::default()),
            Err(HttpError::UnsupportedVersion)
        );
        let bad = Bytes::from_static(b"HTTP/1.1 2x0 OK\r\n\r\n");
        assert!(matches!(
            parse_response_head(&bad, &Limits::default()),
            Err(HttpError::Malformed(_))
        ));
    }
}
