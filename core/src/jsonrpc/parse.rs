//! Strict parsing and validation of one JSON-RPC 2.0 message.
//!
//! This is the check behind the server's `400 Could not parse message` (legacy-sse.md a.3 row
//! #10), with DIVERGENCE 1: a request id that is not a string or an integer is rejected instead of
//! turning the request into a notification.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::id::MAX_INTEGER_ID_DIGITS;
use super::{
    ErrorObject, ErrorResponse, IntegerId, Message, Notification, Request, RequestId, Response,
};

/// Limits applied while parsing a message. The body size itself is bounded by the transport;
/// nesting depth is bounded by serde_json's recursion limit (128).
///
/// ```
/// use mcp_sse_core::jsonrpc::{Message, ParseError, ParseLimits};
///
/// let limits = ParseLimits { max_integer_id_digits: 3 };
/// let body = br#"{"jsonrpc":"2.0","id":12345,"method":"ping"}"#;
/// assert!(matches!(
///     Message::from_slice_with(body, &limits),
///     Err(ParseError::IdTooLong { digits: 5, max: 3 })
/// ));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLimits {
    /// Maximum number of digits of an integer id (default [`MAX_INTEGER_ID_DIGITS`]).
    pub max_integer_id_digits: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_integer_id_digits: MAX_INTEGER_ID_DIGITS,
        }
    }
}

/// Why a body is not one valid JSON-RPC 2.0 message.
#[derive(thiserror::Error, Debug)]
pub enum ParseError {
    /// The body is empty or only whitespace.
    #[error("empty body")]
    Empty,
    /// The body starts with a UTF-8 byte order mark.
    #[error("body starts with a UTF-8 byte order mark")]
    Bom,
    /// The body is a JSON array (a batch); batches are not supported.
    #[error("JSON-RPC batches are not supported")]
    Batch,
    /// The body is valid or invalid JSON, but not an object.
    #[error("message is not a JSON object")]
    NotAnObject,
    /// The body is not valid JSON (or not valid UTF-8), or has trailing garbage.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The `jsonrpc` member is missing.
    #[error("missing \"jsonrpc\" member")]
    MissingVersion,
    /// The `jsonrpc` member is not the string `"2.0"`.
    #[error("\"jsonrpc\" must be \"2.0\"")]
    WrongVersion,
    /// The `id` is not a JSON string or integer (e.g. `1.5`, `1e3`, `true`, `null` on a request).
    #[error("\"id\" must be a string or an integer")]
    InvalidId,
    /// An integer `id` has more digits than [`ParseLimits::max_integer_id_digits`].
    #[error("integer id has {digits} digits, more than the limit of {max}")]
    IdTooLong {
        /// Digits in the id.
        digits: usize,
        /// The configured limit.
        max: usize,
    },
    /// `method` is not a string.
    #[error("\"method\" must be a string")]
    InvalidMethod,
    /// `params` is present and neither an object nor `null`.
    #[error("\"params\" must be an object")]
    ParamsNotObject,
    /// `result` is not an object (MCP results are always objects).
    #[error("\"result\" must be an object")]
    ResultNotObject,
    /// A response (`result`) without an `id`.
    #[error("response without \"id\"")]
    MissingId,
    /// The `error` member is not a valid error object.
    #[error("invalid error object: {0}")]
    InvalidErrorObject(&'static str),
    /// Both `result` and `error` are present.
    #[error("message has both \"result\" and \"error\"")]
    ResultAndError,
    /// None of `method`, `result`, `error` is present.
    #[error("message is neither a request, a notification nor a response")]
    UnknownKind,
}

/// The members we look at, each kept as its last occurrence (duplicate keys: last wins).
#[derive(Default)]
struct Envelope<'a> {
    jsonrpc: Option<Value>,
    id: Option<&'a RawValue>,
    method: Option<Value>,
    params: Option<Value>,
    result: Option<Value>,
    error: Option<Value>,
}

enum Key {
    Jsonrpc,
    Id,
    Method,
    Params,
    Result,
    Error,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "jsonrpc" => Key::Jsonrpc,
                    "id" => Key::Id,
                    "method" => Key::Method,
                    "params" => Key::Params,
                    "result" => Key::Result,
                    "error" => Key::Error,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Envelope<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EnvelopeVisitor;
        impl<'de> Visitor<'de> for EnvelopeVisitor {
            type Value = Envelope<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC message object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
                let mut env = Envelope::default();
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Jsonrpc => env.jsonrpc = Some(map.next_value()?),
                        Key::Id => env.id = Some(map.next_value()?),
                        Key::Method => env.method = Some(map.next_value()?),
                        Key::Params => env.params = Some(map.next_value()?),
                        Key::Result => env.result = Some(map.next_value()?),
                        Key::Error => env.error = Some(map.next_value()?),
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(env)
            }
        }
        d.deserialize_map(EnvelopeVisitor)
    }
}

fn is_json_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn trim_ws(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_ascii() && is_json_ws(c as u8))
}

/// Rejects, before any JSON parsing, a BOM, an empty body, a batch and a non-object.
fn check_start(body: &[u8]) -> Result<(), ParseError> {
    if body.starts_with(b"\xEF\xBB\xBF") {
        return Err(ParseError::Bom);
    }
    match body.iter().copied().find(|b| !is_json_ws(*b)) {
        None => Err(ParseError::Empty),
        Some(b'[') => Err(ParseError::Batch),
        Some(b'{') => Ok(()),
        Some(_) => Err(ParseError::NotAnObject),
    }
}

/// Parses a raw `id`: a JSON string, or the JSON integer grammar (not `1.5`, `1e3`, `true`, `null`).
fn parse_id(raw: &RawValue, limits: &ParseLimits) -> Result<RequestId, ParseError> {
    let text = trim_ws(raw.get());
    if text.starts_with('"') {
        let s: String = serde_json::from_str(text)?;
        return Ok(RequestId::String(s));
    }
    let int = IntegerId::parse(text).ok_or(ParseError::InvalidId)?;
    if int.digits() > limits.max_integer_id_digits {
        return Err(ParseError::IdTooLong {
            digits: int.digits(),
            max: limits.max_integer_id_digits,
        });
    }
    Ok(RequestId::Number(int))
}

fn parse_params(params: Option<Value>) -> Result<Option<Map<String, Value>>, ParseError> {
    match params {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(ParseError::ParamsNotObject),
    }
}

fn parse_error_object(value: Value) -> Result<ErrorObject, ParseError> {
    let Value::Object(mut map) = value else {
        return Err(ParseError::InvalidErrorObject("not an object"));
    };
    let code = map
        .get("code")
        .and_then(Value::as_i64)
        .ok_or(ParseError::InvalidErrorObject(
            "\"code\" must be an integer",
        ))?;
    let message = match map.remove("message") {
        Some(Value::String(s)) => s,
        _ => {
            return Err(ParseError::InvalidErrorObject(
                "\"message\" must be a string",
            ))
        }
    };
    let data = match map.remove("data") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    };
    Ok(ErrorObject {
        code,
        message,
        data,
    })
}

impl Message {
    /// Parses and validates one JSON-RPC 2.0 message with the default [`ParseLimits`].
    ///
    /// Rules: the body is one JSON object (no BOM, no batch) with `"jsonrpc":"2.0"`. `method` +
    /// `id` → [`Request`], `method` alone → [`Notification`] (`method` decides, whatever else the
    /// object carries); otherwise `error` (with an id, `null` or no id) → [`ErrorResponse`], `id` +
    /// `result` (an object) → [`Response`]. Ids are strings or integers of any size. `params` must
    /// be an object; `"params":null` is read as absent (as the reference does). Unknown top-level
    /// members are ignored, everything inside `params`/`result`/`error.data` is kept verbatim.
    /// Duplicate keys: the last one wins. Whitespace around the object is fine.
    ///
    /// ```
    /// use mcp_sse_core::jsonrpc::{Message, ParseError, RequestId};
    ///
    /// let msg = Message::from_slice(br#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#).unwrap();
    /// let Message::Request(req) = msg else { panic!() };
    /// assert_eq!(req.id, RequestId::from("a"));
    /// assert!(matches!(
    ///     Message::from_slice(br#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#),
    ///     Err(ParseError::InvalidId)
    /// ));
    /// ```
    pub fn from_slice(body: &[u8]) -> Result<Message, ParseError> {
        Self::from_slice_with(body, &ParseLimits::default())
    }

    /// [`Message::from_slice`] with explicit limits.
    pub fn from_slice_with(body: &[u8], limits: &ParseLimits) -> Result<Message, ParseError> {
        check_start(body)?;
        Self::from_envelope(serde_json::from_slice(body)?, limits)
    }

    /// [`Message::from_slice`] for text that is already known to be UTF-8 (an SSE event's data):
    /// same rules and results, but serde_json skips re-validating the UTF-8 of every string.
    ///
    /// ```
    /// use mcp_sse_core::jsonrpc::Message;
    ///
    /// let text = r#"{"jsonrpc":"2.0","id":1,"result":{"text":"é"}}"#;
    /// assert_eq!(
    ///     Message::from_json_str(text).unwrap(),
    ///     Message::from_slice(text.as_bytes()).unwrap()
    /// );
    /// ```
    pub fn from_json_str(text: &str) -> Result<Message, ParseError> {
        Self::from_json_str_with(text, &ParseLimits::default())
    }

    /// [`Message::from_json_str`] with explicit limits.
    pub fn from_json_str_with(text: &str, limits: &ParseLimits) -> Result<Message, ParseError> {
        check_start(text.as_bytes())?;
        Self::from_envelope(serde_json::from_str(text)?, limits)
    }

    fn from_envelope(env: Envelope<'_>, limits: &ParseLimits) -> Result<Message, ParseError> {
        match env.jsonrpc {
            None => return Err(ParseError::MissingVersion),
            Some(Value::String(v)) if v == "2.0" => {}
            Some(_) => return Err(ParseError::WrongVersion),
        }
        let id = match env.id {
            None => None,
            Some(raw) if trim_ws(raw.get()) == "null" => Some(None),
            Some(raw) => Some(Some(parse_id(raw, limits)?)),
        };
        if let Some(method) = env.method {
            let Value::String(method) = method else {
                return Err(ParseError::InvalidMethod);
            };
            let params = parse_params(env.params)?;
            return match id {
                None => Ok(Message::Notification(Notification { method, params })),
                Some(Some(id)) => Ok(Message::Request(Request { id, method, params })),
                Some(None) => Err(ParseError::InvalidId),
            };
        }
        match (env.result, env.error) {
            (Some(_), Some(_)) => Err(ParseError::ResultAndError),
            (None, Some(error)) => Ok(Message::Error(ErrorResponse {
                id: id.flatten(),
                error: parse_error_object(error)?,
            })),
            (Some(result), None) => {
                let id = match id {
                    None => return Err(ParseError::MissingId),
                    Some(None) => return Err(ParseError::InvalidId),
                    Some(Some(id)) => id,
                };
                if !result.is_object() {
                    return Err(ParseError::ResultNotObject);
                }
                Ok(Message::Response(Response { id, result }))
            }
            (None, None) => Err(ParseError::UnknownKind),
        }
    }
}
