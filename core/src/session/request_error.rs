//! Why a client request failed, decided by the session machine: the one error a caller of the
//! client sees ([`RequestError`]), with the JSON-RPC form the reference gives each case a
//! click away ([`RequestError::to_error_object`]).
//!
//! ```
//! use std::time::Duration;
//! use mcp_sse_core::jsonrpc::{codes, ErrorObject};
//! use mcp_sse_core::session::RequestError;
//!
//! let e = RequestError::Timeout { method: "tools/call".into(), timeout: Some(Duration::from_secs(5)) };
//! assert_eq!(e.to_error_object(), ErrorObject::request_timeout("tools/call"));
//! assert!(e.to_string().contains("timed out after 5s"));
//!
//! let server_said = RequestError::Rpc(ErrorObject::invalid_params());
//! assert_eq!(server_said.rpc().map(|e| e.code), Some(codes::INVALID_PARAMS));
//! assert_eq!(RequestError::Closed.rpc(), None);
//! ```

use std::time::Duration;

use serde_json::Value;

use super::{InitializeError, OutputSchemaError, SessionError};
use crate::jsonrpc::ErrorObject;
use crate::transport::ClientError;

/// Why a request of the client failed. Every variant says what happened and what to do; each
/// maps back to the JSON-RPC error the reference's client raises for it
/// ([`RequestError::to_error_object`]).
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RequestError {
    /// The server answered with a JSON-RPC error (e.g. `-32602` for bad params, `-32601` for an
    /// unknown method): the request reached the server and was refused.
    #[error("the server refused the request: {0}")]
    Rpc(ErrorObject),
    /// The request's deadline expired before the answer; `notifications/cancelled` was sent.
    #[error("request '{method}' timed out after {}; raise the timeout (CallOptions::timeout or ClientOptions::read_timeout) or check that the server answers", show_timeout(.timeout))]
    Timeout {
        /// The request's method.
        method: String,
        /// The timeout it ran with.
        timeout: Option<Duration>,
    },
    /// The connection closed before the answer (the client was closed, or the server ended the
    /// stream and the client does not reconnect); connect again to go on.
    #[error(
        "connection closed before the answer; connect again (or set ClientOptions::reconnect)"
    )]
    Closed,
    /// The event stream dropped while the request was in flight; the client is reconnecting
    /// (a new session) and did not re-send it: retry it once the client is back.
    #[error(
        "session lost: {cause}; the client reconnects and did not re-send this request: retry it"
    )]
    SessionLost {
        /// Why the stream ended, as the transport said.
        cause: String,
    },
    /// The transport could not deliver the request (an HTTP error status, `401`, a redirect it
    /// would not follow, a TLS failure, …): see the [`ClientError`].
    #[error("the request could not be sent: {0}")]
    Transport(ClientError),
    /// The session refused to send it (too many requests pending, the outbound queue full, the
    /// handshake failed): wait for earlier requests, or connect again.
    #[error("the session refused the request: {0}")]
    Refused(SessionError),
    /// The `initialize` handshake failed (the server's protocol version is unsupported, or its
    /// result is not an `initialize` result); the session cannot be used.
    #[error("{error}; the server is not compatible with this client")]
    Handshake {
        /// What was wrong.
        error: InitializeError,
        /// The server's result, verbatim (boxed: it keeps the error small).
        result: Option<Box<Value>>,
    },
    /// The request's params could not be encoded as a JSON object.
    #[error("invalid params for '{method}': {message}")]
    Encode {
        /// The request's method.
        method: String,
        /// What serde said.
        message: String,
    },
    /// The result arrived but does not fit the typed result (the server sent something else
    /// than the specification's shape): the raw `Client::request` gives the
    /// JSON; or fix the server.
    #[error("invalid {method} result: {message}; the server's answer does not fit the typed result (the raw `request` gives the JSON)")]
    Decode {
        /// The request's method.
        method: String,
        /// What serde said.
        message: String,
    },
    /// A tool's result violates its declared `outputSchema` (or lacks the `structuredContent`
    /// the schema requires): the server's tool is broken.
    #[error("{0}; the tool's result does not match its declared outputSchema")]
    OutputSchema(OutputSchemaError),
}

fn show_timeout(t: &Option<Duration>) -> String {
    match t {
        Some(t) => format!("{}s", super::format_seconds(*t).trim_end_matches(".0")),
        None => "its deadline".to_string(),
    }
}

impl RequestError {
    /// The JSON-RPC error the reference's client raises for this failure: the server's own for
    /// [`RequestError::Rpc`], `-32001 Request '<method>' timed out`, `-32000 Connection closed`,
    /// [`ErrorObject::session_lost`], `-32000 Failed to send message: …`, and `-32603` with the
    /// error's text for the rest.
    pub fn to_error_object(&self) -> ErrorObject {
        match self {
            RequestError::Rpc(e) => e.clone(),
            RequestError::Timeout { method, .. } => ErrorObject::request_timeout(method),
            RequestError::Closed => ErrorObject::connection_closed(),
            RequestError::SessionLost { cause } => ErrorObject::session_lost(cause),
            RequestError::Transport(e) => e.to_error_object(),
            RequestError::Refused(e) => e.to_error_object(),
            RequestError::Handshake { error, result } => {
                let e = ErrorObject::internal_error(error.to_string());
                match result {
                    Some(v) => e.with_data(Value::clone(v)),
                    None => e,
                }
            }
            RequestError::Encode { method, message } => {
                ErrorObject::internal_error(format!("invalid params for '{method}': {message}"))
            }
            RequestError::Decode { method, message } => {
                ErrorObject::internal_error(format!("invalid {method} result: {message}"))
            }
            RequestError::OutputSchema(e) => e.clone().into(),
        }
    }

    /// The server's JSON-RPC error, if the server answered with one.
    pub fn rpc(&self) -> Option<&ErrorObject> {
        match self {
            RequestError::Rpc(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, RequestError::Timeout { .. })
    }

    /// Whether the connection or session is gone ([`RequestError::Closed`],
    /// [`RequestError::SessionLost`], or a refusal because the connection closed).
    pub fn is_closed(&self) -> bool {
        matches!(
            self,
            RequestError::Closed
                | RequestError::SessionLost { .. }
                | RequestError::Refused(SessionError::ConnectionClosed)
        )
    }
}

impl From<RequestError> for ErrorObject {
    fn from(e: RequestError) -> Self {
        e.to_error_object()
    }
}

impl From<ClientError> for RequestError {
    fn from(e: ClientError) -> Self {
        RequestError::Transport(e)
    }
}

impl From<OutputSchemaError> for RequestError {
    fn from(e: OutputSchemaError) -> Self {
        RequestError::OutputSchema(e)
    }
}

impl From<SessionError> for RequestError {
    /// [`SessionError::ConnectionClosed`] is [`RequestError::Closed`]; the rest are refusals.
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::ConnectionClosed => RequestError::Closed,
            other => RequestError::Refused(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rpc_forms_are_the_reference_ones() {
        assert_eq!(
            RequestError::Closed.to_error_object(),
            ErrorObject::connection_closed()
        );
        let lost = RequestError::SessionLost {
            cause: "cut".into(),
        };
        assert!(lost.to_error_object().is_session_lost());
        assert!(lost.is_closed());
        let t = ClientError::HttpStatus {
            status: 500,
            body: "x".into(),
        };
        assert_eq!(
            RequestError::from(t.clone()).to_error_object(),
            t.to_error_object()
        );
        assert_eq!(
            RequestError::from(SessionError::ConnectionClosed),
            RequestError::Closed
        );
        let d = RequestError::Decode {
            method: "ping".into(),
            message: "bad".into(),
        };
        assert_eq!(
            d.to_error_object(),
            ErrorObject::internal_error("invalid ping result: bad")
        );
        assert!(d.rpc().is_none() && !d.is_timeout() && !d.is_closed());
    }

    #[test]
    fn stays_small_enough_to_return_by_value() {
        // clippy's `result_large_err` bound: a request's `Result` must not carry a huge error.
        assert!(std::mem::size_of::<RequestError>() <= 128);
    }

    #[test]
    fn display_says_what_to_do() {
        let t = RequestError::Timeout {
            method: "ping".into(),
            timeout: Some(Duration::from_millis(500)),
        };
        assert!(t.to_string().contains("after 0.5s"), "{t}");
        assert!(t.to_string().contains("raise the timeout"), "{t}");
        assert!(RequestError::Closed.to_string().contains("connect again"));
    }
}
