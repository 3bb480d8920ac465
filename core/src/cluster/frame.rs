//! The forward frame: one client message on its way to the instance that holds its session.
//!
//! One JSON object, UTF-8, no trailing newline:
//!
//! ```text
//! {"v":1,"session":"<32 lowercase hex>","principal":"<id>","message":<JSON-RPC message>}
//! ```
//!
//! - `v`: the frame version, [`FRAME_VERSION`]; a receiver drops frames of another version.
//! - `session`: the session id as the `endpoint` event announced it (`uuid.hex`).
//! - `principal`: present only when the POST was authenticated: the credential identity
//!   that sent it (the owner delivers the message only if it is the session's owner, the
//!   reference's POST table row 9).
//! - `message`: exactly one JSON-RPC message, already validated by the forwarding instance
//!   (compact JSON as our encoder writes it).
//!
//! Any bus implementation (Redis pub/sub here, NATS subjects, …) that carries these bytes
//! unchanged to the owner interoperates.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::jsonrpc::Message;
use crate::transport::{Principal, SessionId};

/// The version written in `v`.
pub const FRAME_VERSION: u32 = 1;

/// A decoded forward frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardFrame {
    /// The session the message is for.
    pub session: SessionId,
    /// The principal that sent it (authenticated POSTs only).
    pub principal: Option<Principal>,
    /// The client message.
    pub message: Message,
}

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not a JSON object of the documented shape.
    #[error("malformed forward frame: {0}")]
    Malformed(String),
    /// Another frame version.
    #[error("unsupported forward frame version {0}")]
    Version(u32),
    /// `session` is not a session id.
    #[error("invalid session id in forward frame")]
    Session,
    /// `message` is not one valid JSON-RPC message.
    #[error("invalid message in forward frame")]
    Message,
}

/// Encodes the frame for `message` to `session`.
///
/// ```
/// use mcp_sse_core::cluster::{decode_forward, encode_forward};
/// use mcp_sse_core::jsonrpc::Message;
/// use mcp_sse_core::transport::SessionId;
///
/// let session = SessionId::from_u128(0xabc);
/// let message = Message::from_slice(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
/// let frame = encode_forward(session, None, &message);
/// assert_eq!(
///     std::str::from_utf8(&frame).unwrap(),
///     r#"{"v":1,"session":"00000000000000000000000000000abc","message":{"jsonrpc":"2.0","id":1,"method":"ping"}}"#
/// );
/// let back = decode_forward(&frame).unwrap();
/// assert_eq!((back.session, back.message), (session, message));
/// ```
pub fn encode_forward(
    session: SessionId,
    principal: Option<&Principal>,
    message: &Message,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(format!("{{\"v\":{FRAME_VERSION},\"session\":\"{session}\"").as_bytes());
    if let Some(p) = principal {
        out.extend_from_slice(b",\"principal\":");
        // A string always serializes.
        out.extend_from_slice(serde_json::to_string(&p.0).unwrap_or_default().as_bytes());
    }
    out.extend_from_slice(b",\"message\":");
    message.write_to(&mut out);
    out.push(b'}');
    out
}

#[derive(Deserialize)]
struct Raw<'a> {
    v: u32,
    session: String,
    #[serde(default)]
    principal: Option<String>,
    #[serde(borrow)]
    message: &'a RawValue,
}

/// Decodes a frame (see the [module docs](self) for the format).
pub fn decode_forward(bytes: &[u8]) -> Result<ForwardFrame, FrameError> {
    let raw: Raw<'_> =
        serde_json::from_slice(bytes).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if raw.v != FRAME_VERSION {
        return Err(FrameError::Version(raw.v));
    }
    let session = SessionId::parse_lenient(&raw.session).ok_or(FrameError::Session)?;
    let message = Message::from_json_str(raw.message.get()).map_err(|_| FrameError::Message)?;
    Ok(ForwardFrame {
        session,
        principal: raw.principal.map(Principal),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_round_trips_and_bad_frames_are_refused() {
        let session = SessionId::from_u128(7);
        let m = Message::from_slice(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .unwrap();
        let p = Principal("alice \"x\"".into());
        let f = decode_forward(&encode_forward(session, Some(&p), &m)).unwrap();
        assert_eq!(f.principal, Some(p));
        assert_eq!(f.message, m);
        assert!(matches!(
            decode_forward(b"nope"),
            Err(FrameError::Malformed(_))
        ));
        assert_eq!(
            decode_forward(br#"{"v":2,"session":"00","message":{}}"#),
            Err(FrameError::Version(2))
        );
        assert_eq!(
            decode_forward(br#"{"v":1,"session":"zz","message":{}}"#),
            Err(FrameError::Session)
        );
        assert_eq!(
            decode_forward(
                br#"{"v":1,"session":"00000000000000000000000000000007","message":[1]}"#
            ),
            Err(FrameError::Message)
        );
    }
}
