//! JSON-RPC 2.0 messages: strict parsing ([`Message::from_slice`]) and byte-exact compact
//! encoding ([`Message::write_to`]).
//!
//! Ids keep their JSON type and, for integers, their exact value of any size ([`RequestId`],
//! [`IntegerId`]). Params, results and error data are [`serde_json::Value`]s kept verbatim
//! (including `_meta` and unknown keys, in their original order).
//!
//! ```
//! use mcp_sse_core::jsonrpc::Message;
//!
//! let body = br#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}"#;
//! let msg = Message::from_slice(body).unwrap();
//! assert_eq!(msg.to_vec(), body.to_vec());
//! ```

mod error;
mod id;
mod json_out;
mod parse;
mod write;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

pub use error::{codes, ErrorObject};
pub use id::{IntegerId, RequestId, MAX_INTEGER_ID_DIGITS};
pub use json_out::{write_json_string, write_json_value};
pub use parse::{ParseError, ParseLimits};

/// A request: expects exactly one [`Response`] or [`ErrorResponse`] with the same id.
///
/// ```
/// use mcp_sse_core::jsonrpc::{Message, Request};
///
/// let req = Request { id: 1.into(), method: "ping".into(), params: None };
/// assert_eq!(Message::Request(req).to_vec(), br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The request id.
    pub id: RequestId,
    /// The method name.
    pub method: String,
    /// The parameters (always an object in MCP); `None` omits the `params` key.
    pub params: Option<Map<String, Value>>,
}

/// A notification: never answered.
///
/// ```
/// use mcp_sse_core::jsonrpc::Notification;
///
/// let n = Notification { method: "notifications/initialized".into(), params: None };
/// assert!(n.params.is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// The method name.
    pub method: String,
    /// The parameters; `None` omits the `params` key.
    pub params: Option<Map<String, Value>>,
}

/// A successful response.
///
/// ```
/// use mcp_sse_core::jsonrpc::{Message, Response};
///
/// let r = Response { id: "x".into(), result: serde_json::json!({}) };
/// assert_eq!(Message::Response(r).to_vec(), br#"{"jsonrpc":"2.0","id":"x","result":{}}"#);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The id of the request this answers.
    pub id: RequestId,
    /// The result (an object when parsed off the wire).
    pub result: Value,
}

/// An error response.
///
/// ```
/// use mcp_sse_core::jsonrpc::{ErrorObject, ErrorResponse, Message};
///
/// let e = ErrorResponse { id: None, error: ErrorObject::parse_error() };
/// assert_eq!(
///     Message::Error(e).to_vec(),
///     br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorResponse {
    /// The id of the request this answers; `None` (written as `null`) when it is unknown.
    pub id: Option<RequestId>,
    /// The error.
    pub error: ErrorObject,
}

/// One JSON-RPC 2.0 message.
///
/// ```
/// use mcp_sse_core::jsonrpc::Message;
///
/// let msg = Message::from_slice(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
/// assert_eq!(msg.method(), Some("notifications/initialized"));
/// assert!(msg.id().is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A successful response.
    Response(Response),
    /// An error response.
    Error(ErrorResponse),
}

impl Message {
    /// The method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request(r) => Some(&r.method),
            Message::Notification(n) => Some(&n.method),
            Message::Response(_) | Message::Error(_) => None,
        }
    }

    /// The id of a request, response or error response (if it has one).
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            Message::Request(r) => Some(&r.id),
            Message::Response(r) => Some(&r.id),
            Message::Error(e) => e.id.as_ref(),
            Message::Notification(_) => None,
        }
    }
}

impl From<Request> for Message {
    fn from(v: Request) -> Self {
        Message::Request(v)
    }
}

impl From<Notification> for Message {
    fn from(v: Notification) -> Self {
        Message::Notification(v)
    }
}

impl From<Response> for Message {
    fn from(v: Response) -> Self {
        Message::Response(v)
    }
}

impl From<ErrorResponse> for Message {
    fn from(v: ErrorResponse) -> Self {
        Message::Error(v)
    }
}
