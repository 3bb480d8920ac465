//! Size limits of the HTTP/1.1 decoders: every buffer the decoders keep is bounded by these.

/// Default bound on one message head: request line or status line plus all header lines and the
/// blank line that ends the head (16 KiB). Exceeding it gives [`HttpError::HeadTooLarge`] (431).
///
/// [`HttpError::HeadTooLarge`]: crate::http::HttpError::HeadTooLarge
pub const DEFAULT_MAX_HEAD_BYTES: usize = 16 * 1024;

/// Default bound on the number of header fields in one head. Exceeding it gives
/// [`HttpError::TooManyHeaders`] (431).
///
/// [`HttpError::TooManyHeaders`]: crate::http::HttpError::TooManyHeaders
pub const DEFAULT_MAX_HEADERS: usize = 64;

/// Default bound on one request body: 4 MiB = 4194304 bytes, the reference server's limit.
/// Exceeding it gives [`HttpError::BodyTooLarge`] (413).
///
/// [`HttpError::BodyTooLarge`]: crate::http::HttpError::BodyTooLarge
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Default bound on one chunk-size line of a chunked body, extensions and line ending included.
/// Exceeding it gives [`HttpError::InvalidChunk`] (400).
///
/// [`HttpError::InvalidChunk`]: crate::http::HttpError::InvalidChunk
pub const DEFAULT_MAX_CHUNK_LINE_BYTES: usize = 1024;

/// The limits one decoder enforces.
///
/// `max_body_bytes` applies to request bodies ([`RequestDecoder`]); a [`ResponseDecoder`] takes
/// its body bound per response from [`ResponseExpectation::max_body_bytes`] instead.
///
/// ```
/// use mcp_sse_core::http::{Limits, DEFAULT_MAX_BODY_BYTES};
///
/// let limits = Limits { max_body_bytes: 64 * 1024, ..Limits::default() };
/// assert!(limits.max_body_bytes < DEFAULT_MAX_BODY_BYTES);
/// assert_eq!(limits.max_buffered_bytes(), 16 * 1024);
/// ```
///
/// [`RequestDecoder`]: crate::http::RequestDecoder
/// [`ResponseDecoder`]: crate::http::ResponseDecoder
/// [`ResponseExpectation::max_body_bytes`]: crate::http::ResponseExpectation::max_body_bytes
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bound on one head (start line + header lines + blank line), and on the trailer section of
    /// a chunked body. Default [`DEFAULT_MAX_HEAD_BYTES`].
    pub max_head_bytes: usize,
    /// Bound on the number of header fields in one head. Default [`DEFAULT_MAX_HEADERS`].
    pub max_headers: usize,
    /// Bound on one request body (declared or streamed). Default [`DEFAULT_MAX_BODY_BYTES`].
    pub max_body_bytes: usize,
    /// Bound on one chunk-size line. Default [`DEFAULT_MAX_CHUNK_LINE_BYTES`].
    pub max_chunk_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_chunk_line_bytes: DEFAULT_MAX_CHUNK_LINE_BYTES,
        }
    }
}

impl Limits {
    /// The most bytes a decoder ever copies and keeps across `handle_bytes` calls: a partial head
    /// or trailer line (at most `max_head_bytes`) or a partial chunk-size line (at most
    /// `max_chunk_line_bytes`), never both at once. Once `poll_event` has returned `Ok(None)` or
    /// an error, the decoder's `buffered_bytes()` is at most this.
    pub fn max_buffered_bytes(&self) -> usize {
        self.max_head_bytes.max(self.max_chunk_line_bytes)
    }
}
