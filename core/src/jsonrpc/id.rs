//! JSON-RPC request ids: a JSON string or a JSON integer of any size.

use std::fmt;

use serde_json::Value;

use crate::decimal::{format_u64, U64_DIGITS};

/// Default bound on the number of digits of an integer id (the same bound Python puts on
/// `int` ↔ `str` conversions, `sys.get_int_max_str_digits()`), see
/// [`ParseLimits`](super::ParseLimits).
pub const MAX_INTEGER_ID_DIGITS: usize = 4300;

/// A JSON integer id kept exactly, whatever its size.
///
/// The value is stored as its canonical decimal text (`-?(0|[1-9][0-9]*)`, with `-0` folded into
/// `0`), so `123456789012345678901234567890` and `-5` round-trip byte for byte.
///
/// ```
/// use mcp_sse_core::jsonrpc::IntegerId;
///
/// let big = IntegerId::parse("123456789012345678901234567890").unwrap();
/// assert_eq!(big.as_str(), "123456789012345678901234567890");
/// assert_eq!(big.as_i64(), None);
/// assert_eq!(IntegerId::from(-5i64).as_i64(), Some(-5));
/// assert!(IntegerId::parse("1.5").is_none());
/// ```
#[derive(Clone)]
pub struct IntegerId(Text);

/// Longest text kept inline: every `i64` and `u64` (20 characters with the sign) fits, so the
/// ids peers actually use are copied, never allocated, when they are cloned (the session keeps
/// an id in several tables per request).
const INLINE_ID: usize = 22;

/// The canonical text: inline up to [`INLINE_ID`] bytes, shared on the heap beyond.
#[derive(Clone)]
enum Text {
    Inline { len: u8, bytes: [u8; INLINE_ID] },
    Shared(std::sync::Arc<str>),
}

impl IntegerId {
    /// Parses the JSON integer grammar `-?(0|[1-9][0-9]*)` exactly (no sign `+`, no leading
    /// zeros, no fraction or exponent, no surrounding whitespace). `-0` becomes `0`.
    pub fn parse(text: &str) -> Option<IntegerId> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let bytes = digits.as_bytes();
        let first = *bytes.first()?;
        if !bytes.iter().all(u8::is_ascii_digit) || (first == b'0' && bytes.len() > 1) {
            return None;
        }
        if digits == "0" {
            return Some(IntegerId::from_canonical("0"));
        }
        Some(IntegerId::from_canonical(text))
    }

    /// `text` is already canonical.
    fn from_canonical(text: &str) -> IntegerId {
        if text.len() <= INLINE_ID {
            IntegerId::from_ascii(b"", text.as_bytes())
        } else {
            IntegerId(Text::Shared(text.into()))
        }
    }

    /// `sign` then `digits`, already canonical, at most [`INLINE_ID`] bytes together.
    fn from_ascii(sign: &[u8], digits: &[u8]) -> IntegerId {
        let mut bytes = [0u8; INLINE_ID];
        let len = sign.len() + digits.len();
        bytes[..sign.len()].copy_from_slice(sign);
        bytes[sign.len()..len].copy_from_slice(digits);
        IntegerId(Text::Inline {
            len: len as u8,
            bytes,
        })
    }

    /// The canonical decimal text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only ASCII digits and `-` are ever stored, so this cannot fail.
            Text::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Text::Shared(s) => s,
        }
    }

    /// The number of decimal digits (the sign is not counted).
    pub fn digits(&self) -> usize {
        self.as_str().trim_start_matches('-').len()
    }

    /// The value as an `i64`, if it fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_str().parse().ok()
    }

    /// The value as a `u64`, if it fits.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_str().parse().ok()
    }
}

impl PartialEq for IntegerId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for IntegerId {}

impl std::hash::Hash for IntegerId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Debug for IntegerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IntegerId").field(&self.as_str()).finish()
    }
}

impl From<u64> for IntegerId {
    fn from(v: u64) -> Self {
        let mut digits = [0u8; U64_DIGITS];
        IntegerId::from_ascii(b"", format_u64(v, &mut digits))
    }
}

impl From<i64> for IntegerId {
    fn from(v: i64) -> Self {
        let mut digits = [0u8; U64_DIGITS];
        let sign: &[u8] = if v < 0 { b"-" } else { b"" };
        IntegerId::from_ascii(sign, format_u64(v.unsigned_abs(), &mut digits))
    }
}

impl From<i32> for IntegerId {
    fn from(v: i32) -> Self {
        IntegerId::from(i64::from(v))
    }
}

impl From<u32> for IntegerId {
    fn from(v: u32) -> Self {
        IntegerId::from(u64::from(v))
    }
}

impl fmt::Display for IntegerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JSON-RPC request id.
///
/// `"7"` (a string) and `7` (a number) are different ids: they compare unequal, hash differently
/// and are written back in their own JSON type. (The Python reference coerces them when matching
/// responses; we do not, see the session modules.)
///
/// [`Display`](fmt::Display) shows the JSON form: `7` for a number, `"7"` for a string.
///
/// ```
/// use mcp_sse_core::jsonrpc::RequestId;
///
/// assert_ne!(RequestId::from(7), RequestId::from("7"));
/// assert_eq!(RequestId::from(7).to_string(), "7");
/// assert_eq!(RequestId::from("7").to_string(), "\"7\"");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RequestId {
    /// A JSON integer.
    Number(IntegerId),
    /// A JSON string.
    String(String),
}

impl RequestId {
    /// The id as a JSON [`Value`], or `None` for an integer outside `i64`/`u64` (those cannot be
    /// held by a `Value` without serde_json's `arbitrary_precision`).
    pub fn to_value(&self) -> Option<Value> {
        match self {
            RequestId::String(s) => Some(Value::String(s.clone())),
            RequestId::Number(n) => match n.as_i64() {
                Some(v) => Some(Value::from(v)),
                None => n.as_u64().map(Value::from),
            },
        }
    }

    /// Reads an id out of a JSON [`Value`] (e.g. `requestId` or `progressToken` in params):
    /// a string, or an integer that fits `i64`/`u64`. Anything else is `None`.
    pub fn from_value(value: &Value) -> Option<RequestId> {
        match value {
            Value::String(s) => Some(RequestId::String(s.clone())),
            Value::Number(n) => {
                if let Some(v) = n.as_i64() {
                    Some(RequestId::from(v))
                } else {
                    n.as_u64().map(RequestId::from)
                }
            }
            _ => None,
        }
    }

    /// Appends the id's JSON text to `out`.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            RequestId::Number(n) => out.extend_from_slice(n.as_str().as_bytes()),
            RequestId::String(s) => super::json_out::write_json_string(out, s),
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => f.write_str(n.as_str()),
            RequestId::String(s) => {
                let mut out = Vec::with_capacity(s.len() + 2);
                super::json_out::write_json_string(&mut out, s);
                f.write_str(&String::from_utf8_lossy(&out))
            }
        }
    }
}

/// Written as its JSON form: an integer id of any size keeps its exact digits.
impl serde::Serialize for RequestId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::String(s) => serializer.serialize_str(s),
            RequestId::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(v), _) => serializer.serialize_i64(v),
                (None, Some(v)) => serializer.serialize_u64(v),
                (None, None) => serde_json::value::RawValue::from_string(n.as_str().to_owned())
                    .map_err(serde::ser::Error::custom)?
                    .serialize(serializer),
            },
        }
    }
}

/// Read from a JSON string or integer (what fits `i64`/`u64`: serde_json's values hold no
/// more; the JSON-RPC parser keeps larger ids exactly). Floats and other types are refused.
impl<'de> serde::Deserialize<'de> for RequestId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a request id (string or integer)")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RequestId, E> {
                Ok(RequestId::from(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RequestId, E> {
                Ok(RequestId::from(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RequestId, E> {
                Ok(RequestId::String(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<RequestId, E> {
                Ok(RequestId::String(v))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

impl From<IntegerId> for RequestId {
    fn from(v: IntegerId) -> Self {
        RequestId::Number(v)
    }
}

impl From<i64> for RequestId {
    fn from(v: i64) -> Self {
        RequestId::Number(v.into())
    }
}

impl From<u64> for RequestId {
    fn from(v: u64) -> Self {
        RequestId::Number(v.into())
    }
}

impl From<i32> for RequestId {
    fn from(v: i32) -> Self {
        RequestId::Number(v.into())
    }
}

impl From<u32> for RequestId {
    fn from(v: u32) -> Self {
        RequestId::Number(v.into())
    }
}

impl From<String> for RequestId {
    fn from(v: String) -> Self {
        RequestId::String(v)
    }
}

impl From<&str> for RequestId {
    fn from(v: &str) -> Self {
        RequestId::String(v.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_grammar() {
        for ok in ["0", "-1", "7", "123456789012345678901234567890", "-5"] {
            assert_eq!(
                IntegerId::parse(ok).map(|i| i.as_str().to_owned()),
                Some(ok.to_owned()),
                "{ok}"
            );
        }
        for bad in [
            "", "-", "01", "-01", "+1", "1.5", "1e3", "1E3", " 1", "1 ", "0x1", "--1", "1.0",
        ] {
            assert!(IntegerId::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(
            IntegerId::parse("-0").map(|i| i.as_str().to_owned()),
            Some("0".to_owned())
        );
    }

    #[test]
    fn inline_and_shared_texts_behave_alike() {
        use std::collections::HashSet;
        // Every i64/u64 is inline; longer ids are shared; both compare and hash by their text.
        for v in [0i64, 1, -1, 42, i64::MAX, i64::MIN] {
            let id = IntegerId::from(v);
            assert!(matches!(id.0, Text::Inline { .. }), "{v}");
            assert_eq!(id.as_str(), v.to_string());
            assert_eq!(IntegerId::parse(&v.to_string()), Some(id));
        }
        assert_eq!(IntegerId::from(u64::MAX).as_str(), u64::MAX.to_string());
        let long = "1".repeat(INLINE_ID + 1);
        let id = IntegerId::parse(&long).unwrap();
        assert!(matches!(id.0, Text::Shared(_)));
        assert_eq!(id.as_str(), long);
        assert_eq!(
            id,
            IntegerId::parse(&long).unwrap(),
            "equal to a fresh parse of its text"
        );
        let set: HashSet<IntegerId> = [IntegerId::from(5u32), IntegerId::parse("5").unwrap()]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 1);
        assert_eq!(format!("{:?}", IntegerId::from(5)), "IntegerId(\"5\")");
    }

    #[test]
    fn conversions() {
        assert_eq!(IntegerId::from(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(IntegerId::from(u64::MAX).as_i64(), None);
        assert_eq!(IntegerId::from(i64::MIN).as_i64(), Some(i64::MIN));
        assert_eq!(IntegerId::from(-12i64).digits(), 2);
        let big = RequestId::Number(IntegerId::parse("99999999999999999999999").unwrap());
        assert_eq!(big.to_value(), None);
        assert_eq!(RequestId::from(3).to_value(), Some(Value::from(3)));
        assert_eq!(
            RequestId::from_value(&Value::from(u64::MAX)),
            Some(RequestId::from(u64::MAX))
        );
        assert_eq!(RequestId::from_value(&serde_json::json!(1.5)), None);
        assert_eq!(RequestId::from_value(&Value::Null), None);
        assert_eq!(
            RequestId::from_value(&serde_json::json!("a")),
            Some("a".into())
        );
    }

    #[test]
    fn display_is_json() {
        assert_eq!(RequestId::from("a\"b").to_string(), r#""a\"b""#);
        assert_eq!(RequestId::from(-3).to_string(), "-3");
    }
}
