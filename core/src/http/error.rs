//! The HTTP layer's error type and the status-code reason phrases.

/// Everything that can go wrong while decoding HTTP/1.1 framing.
///
/// Every error is final: the decoder that returned it is poisoned and the connection must be
/// closed (after answering with [`HttpError::status`] on the server side, where that makes sense).
///
/// ```
/// use mcp_sse_core::http::HttpError;
///
/// let err = HttpError::BodyTooLarge { limit: 4194304 };
/// assert_eq!(err.status(), 413);
/// assert_eq!(err.reason(), "Request Entity Too Large");
/// ```
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The head (start line + headers) is longer than `limit` bytes. Status 431.
    #[error("message head exceeds {limit} bytes")]
    HeadTooLarge {
        /// The configured `max_head_bytes`.
        limit: usize,
    },
    /// The head has more than `limit` header fields. Status 431.
    #[error("message head has more than {limit} header fields")]
    TooManyHeaders {
        /// The configured `max_headers`.
        limit: usize,
    },
    /// The body (declared by `Content-Length` or streamed) exceeds `limit` bytes. Status 413.
    #[error("message body exceeds {limit} bytes")]
    BodyTooLarge {
        /// The body limit in force.
        limit: usize,
    },
    /// Bad request line, status line or header line. Status 400.
    #[error("malformed message head: {0}")]
    Malformed(&'static str),
    /// A `Content-Length` that is not a decimal number, or several that differ. Status 400.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// Both `Transfer-Encoding` and `Content-Length` present (a request-smuggling vector). Status 400.
    #[error("both Transfer-Encoding and Content-Length present")]
    ConflictingFraming,
    /// A `Transfer-Encoding` other than exactly `chunked`. Status 501.
    #[error("unsupported Transfer-Encoding")]
    UnsupportedTransferEncoding,
    /// Bad chunk-size line, missing CRLF after chunk data, or bad trailer line. Status 400.
    #[error("invalid chunked body: {0}")]
    InvalidChunk(&'static str),
    /// An `HTTP/x.y` version other than 1.0 and 1.1. Status 505.
    #[error("unsupported HTTP version")]
    UnsupportedVersion,
    /// The peer closed the connection in the middle of a message (or, client side, before
    /// answering a request). Status 400 (nominal: nobody is left to answer).
    #[error("connection closed in the middle of a message")]
    UnexpectedEof,
    /// Client side: a response arrived while no request was outstanding. Status 502 (nominal).
    #[error("response received with no request outstanding")]
    UnexpectedResponse,
}

impl HttpError {
    /// The status code a server answers this error with.
    pub fn status(&self) -> u16 {
        match self {
            HttpError::HeadTooLarge { .. } | HttpError::TooManyHeaders { .. } => 431,
            HttpError::BodyTooLarge { .. } => 413,
            HttpError::Malformed(_)
            | HttpError::InvalidContentLength
            | HttpError::ConflictingFraming
            | HttpError::InvalidChunk(_)
            | HttpError::UnexpectedEof => 400,
            HttpError::UnsupportedTransferEncoding => 501,
            HttpError::UnsupportedVersion => 505,
            HttpError::UnexpectedResponse => 502,
        }
    }

    /// The reason phrase of [`HttpError::status`], in the reference server's wording.
    pub fn reason(&self) -> &'static str {
        reason_phrase(self.status())
    }
}

/// The reason phrase for `status` as the reference server (uvicorn/h11, Python `http.HTTPStatus`)
/// writes it, e.g. `413` → `"Request Entity Too Large"`. Unknown codes give `""`.
///
/// ```
/// use mcp_sse_core::http::reason_phrase;
///
/// assert_eq!(reason_phrase(202), "Accepted");
/// assert_eq!(reason_phrase(421), "Misdirected Request");
/// assert_eq!(reason_phrase(799), "");
/// ```
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_status() {
        let cases = [
            (
                HttpError::HeadTooLarge { limit: 1 },
                431,
                "Request Header Fields Too Large",
            ),
            (
                HttpError::TooManyHeaders { limit: 1 },
                431,
                "Request Header Fields Too Large",
            ),
            (
                HttpError::BodyTooLarge { limit: 1 },
                413,
                "Request Entity Too Large",
            ),
            (HttpError::Malformed("x"), 400, "Bad Request"),
            (HttpError::InvalidContentLength, 400, "Bad Request"),
            (HttpError::ConflictingFraming, 400, "Bad Request"),
            (
                HttpError::UnsupportedTransferEncoding,
                501,
                "Not Implemented",
            ),
            (HttpError::InvalidChunk("x"), 400, "Bad Request"),
            (
                HttpError::UnsupportedVersion,
                505,
                "HTTP Version Not Supported",
            ),
            (HttpError::UnexpectedEof, 400, "Bad Request"),
            (HttpError::UnexpectedResponse, 502, "Bad Gateway"),
        ];
        for (err, status, reason) in cases {
            assert_eq!(err.status(), status, "{err:?}");
            assert_eq!(err.reason(), reason, "{err:?}");
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn reference_wording() {
        // Status lines observed in wire-capture.txt.
        for (code, phrase) in [
            (200, "OK"),
            (202, "Accepted"),
            (307, "Temporary Redirect"),
            (400, "Bad Request"),
            (403, "Forbidden"),
            (404, "Not Found"),
            (405, "Method Not Allowed"),
            (413, "Request Entity Too Large"),
            (421, "Misdirected Request"),
            (503, "Service Unavailable"),
        ] {
            assert_eq!(reason_phrase(code), phrase);
        }
        assert_eq!(reason_phrase(0), "");
    }
}
