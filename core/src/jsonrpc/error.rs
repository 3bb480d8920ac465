//! The JSON-RPC error object and the error codes MCP uses.

use serde_json::Value;

/// JSON-RPC and MCP error codes.
pub mod codes {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON sent is not a valid request object (MCP also uses it for "not supported").
    pub const INVALID_REQUEST: i64 = -32600;
    /// The method does not exist or is not available.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters (also the MCP "not initialized" gate).
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal JSON-RPC error.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// MCP: the connection closed before a response arrived.
    pub const CONNECTION_CLOSED: i64 = -32000;
    /// MCP: the request's deadline expired.
    pub const REQUEST_TIMEOUT: i64 = -32001;
    /// MCP: URL-mode elicitation is required before the request can complete.
    pub const URL_ELICITATION_REQUIRED: i64 = -32042;
}

/// A JSON-RPC error object: `{"code":…,"message":…,"data":…}` (`data` omitted when `None`).
///
/// ```
/// use mcp_sse_core::jsonrpc::{codes, ErrorObject};
///
/// let e = ErrorObject::method_not_found("tools/list");
/// assert_eq!(e.code, codes::METHOD_NOT_FOUND);
/// assert_eq!(e.message, "Method not found");
/// assert_eq!(e.data, Some(serde_json::json!("tools/list")));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorObject {
    /// The error code (see [`codes`]).
    pub code: i64,
    /// A short description.
    pub message: String,
    /// Optional extra information, kept verbatim.
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with the given code and message and no data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// The same error with `data` set.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// `-32700 Parse error`.
    pub fn parse_error() -> Self {
        Self::new(codes::PARSE_ERROR, "Parse error")
    }

    /// `-32600` with the given message (e.g. `Sampling not supported`).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(codes::INVALID_REQUEST, message)
    }

    /// `-32601 Method not found` with `data` = the method name (the reference's shape).
    pub fn method_not_found(method: &str) -> Self {
        Self::new(codes::METHOD_NOT_FOUND, "Method not found").with_data(Value::from(method))
    }

    /// `-32602 Invalid request parameters` with `data` = `""` (the reference's shape).
    pub fn invalid_params() -> Self {
        Self::new(codes::INVALID_PARAMS, "Invalid request parameters").with_data(Value::from(""))
    }

    /// `-32602` with the given message and optional `data` (e.g. `Invalid cursor` with the
    /// cursor, `Unknown prompt: x` without).
    pub fn invalid_params_with(message: impl Into<String>, data: Option<Value>) -> Self {
        let e = Self::new(codes::INVALID_PARAMS, message);
        match data {
            Some(d) => e.with_data(d),
            None => e,
        }
    }

    /// `-32603 Server shutting down`: what a request still in flight when the server shuts down
    /// is answered (DIVERGENCE 6).
    pub fn server_shutting_down() -> Self {
        Self::internal_error("Server shutting down")
    }

    /// `-32603` for a handler that panicked, with the panic's message when it had one
    /// (DIVERGENCE 7: the reference answers code 0).
    pub fn handler_panicked(message: Option<String>) -> Self {
        Self::internal_error(message.unwrap_or_else(|| "handler panicked".to_string()))
    }

    /// `-32603` with the given message.
    pub fn internal_error(message: impl Into<String>) -> Self {
        Self::new(codes::INTERNAL_ERROR, message)
    }

    /// `-32000 Session lost: …`: the request was in flight when the event stream dropped; the
    /// client is reconnecting (a new session), and the request was not re-sent. `data` is
    /// `{"sessionLost": true}`, so callers can tell it from a plain `Connection closed`.
    pub fn session_lost(cause: &str) -> Self {
        Self::new(
            codes::CONNECTION_CLOSED,
            format!("Session lost: {cause}; the client reconnects, this request was not re-sent"),
        )
        .with_data(serde_json::json!({"sessionLost": true}))
    }

    /// Whether this is a [`ErrorObject::session_lost`] error.
    pub fn is_session_lost(&self) -> bool {
        self.code == codes::CONNECTION_CLOSED
            && self
                .data
                .as_ref()
                .and_then(|d| d.get("sessionLost"))
                .and_then(Value::as_bool)
                == Some(true)
    }

    /// `-32000 Connection closed`.
    pub fn connection_closed() -> Self {
        Self::new(codes::CONNECTION_CLOSED, "Connection closed")
    }

    /// `-32001 Request '<method>' timed out`.
    pub fn request_timeout(method: &str) -> Self {
        Self::new(
            codes::REQUEST_TIMEOUT,
            format!("Request '{method}' timed out"),
        )
    }
}

/// `code: message`, followed by `data` when it is a non-empty string (so `-32601 Method not
/// found` names the method), a short JSON value otherwise.
///
/// ```
/// use mcp_sse_core::jsonrpc::ErrorObject;
/// assert_eq!(
///     ErrorObject::method_not_found("tools/frobnicate").to_string(),
///     "-32601: Method not found: tools/frobnicate"
/// );
/// assert_eq!(ErrorObject::invalid_params().to_string(), "-32602: Invalid request parameters");
/// ```
impl std::fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        match &self.data {
            Some(Value::String(s)) if !s.is_empty() => write!(f, ": {s}"),
            Some(Value::String(_)) | Some(Value::Null) | None => Ok(()),
            Some(other) => {
                let text = other.to_string();
                if text.len() <= 200 {
                    write!(f, " ({text})")
                } else {
                    Ok(())
                }
            }
        }
    }
}

impl std::error::Error for ErrorObject {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors() {
        assert_eq!(ErrorObject::parse_error().code, -32700);
        assert_eq!(ErrorObject::invalid_request("x").code, -32600);
        let p = ErrorObject::invalid_params();
        assert_eq!(
            (p.code, p.message.as_str()),
            (-32602, "Invalid request parameters")
        );
        assert_eq!(p.data, Some(Value::from("")));
        assert_eq!(ErrorObject::internal_error("boom").code, -32603);
        let c = ErrorObject::connection_closed();
        assert_eq!((c.code, c.message.as_str()), (-32000, "Connection closed"));
        let t = ErrorObject::request_timeout("tools/call");
        assert_eq!(t.code, -32001);
        assert_eq!(t.message, "Request 'tools/call' timed out");
        assert_eq!(codes::URL_ELICITATION_REQUIRED, -32042);
        assert_eq!(t.to_string(), "-32001: Request 'tools/call' timed out");
    }
}
