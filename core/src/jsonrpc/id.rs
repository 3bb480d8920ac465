//! JSON-RPC request ids: a JSON string or a JSON integer of any size.

use std::fmt;

use serde_json::Value;

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
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IntegerId(String);

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
            return Some(IntegerId("0".to_owned()));
        }
        Some(IntegerId(text.to_owned()))
    }

    /// The canonical decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number of decimal digits (the sign is not counted).
    pub fn digits(&self) -> usize {
        self.0.trim_start_matches('-').len()
    }

    /// The value as an `i64`, if it fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// The value as a `u64`, if it fits.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }
}

impl From<i64> for IntegerId {
    fn from(v: i64) -> Self {
        IntegerId(v.to_string())
    }
}

impl From<u64> for IntegerId {
    fn from(v: u64) -> Self {
        IntegerId(v.to_string())
    }
}

impl From<i32> for IntegerId {
    fn from(v: i32) -> Self {
        IntegerId(v.to_string())
    }
}

impl From<u32> for IntegerId {
    fn from(v: u32) -> Self {
        IntegerId(v.to_string())
    }
}

impl fmt::Display for IntegerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
                IntegerId::parse(ok).map(|i| i.0),
                Some(ok.to_owned()),
                "{ok}"
            );
        }
        for bad in [
            "", "-", "01", "-01", "+1", "1.5", "1e3", "1E3", " 1", "1 ", "0x1", "--1", "1.0",
        ] {
            assert!(IntegerId::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(IntegerId::parse("-0").map(|i| i.0), Some("0".to_owned()));
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
