//! Session identifiers: 128 random bits, written as 32 lowercase hex digits on the wire.

use std::fmt;

/// A legacy-transport session id.
///
/// On the wire it is `uuid4().hex` in the reference: 32 lowercase hex digits. Parsing is as
/// lenient as Python's `UUID(hex=...)`, so dashed, braced, `urn:uuid:` and upper-case forms name
/// the same session.
///
/// ```
/// use mcp_sse_core::transport::SessionId;
/// let id = SessionId::from_random_bytes([0xab; 16]);
/// assert_eq!(id.to_string(), "abababababab4bababababababababab");
/// assert_eq!(SessionId::parse_lenient("{ABABABAB-ABAB-4BAB-ABAB-ABABABABABAB}"), Some(id));
/// assert_eq!(SessionId::parse_lenient("not-a-uuid"), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(u128);

impl SessionId {
    /// Builds a version-4 UUID from 16 random bytes (the version and variant bits are set, as
    /// `uuid4()` does).
    pub fn from_random_bytes(mut bytes: [u8; 16]) -> Self {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        SessionId(u128::from_be_bytes(bytes))
    }

    /// The id as a 128-bit integer.
    pub fn as_u128(self) -> u128 {
        self.0
    }

    /// Builds an id from its 128-bit value, unchanged.
    pub fn from_u128(value: u128) -> Self {
        SessionId(value)
    }

    /// Parses like Python's `uuid.UUID(hex=s)`: strips `urn:` and `uuid:` prefixes, surrounding
    /// braces and every `-`, then requires exactly 32 hex digits (either case).
    pub fn parse_lenient(s: &str) -> Option<Self> {
        let mut s = s;
        if let Some(rest) = s.strip_prefix("urn:") {
            s = rest;
        }
        if let Some(rest) = s.strip_prefix("uuid:") {
            s = rest;
        }
        let s = s.trim_matches(|c| c == '{' || c == '}');
        let mut value: u128 = 0;
        let mut digits = 0usize;
        for c in s.chars() {
            if c == '-' {
                continue;
            }
            let d = c.to_digit(16)?;
            digits += 1;
            if digits > 32 {
                return None;
            }
            value = (value << 4) | u128::from(d);
        }
        (digits == 32).then_some(SessionId(value))
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_forms_name_the_same_session() {
        let id = SessionId::parse_lenient("f9e48604c1c647c9910bfadd1fa0b835").unwrap();
        for form in [
            "F9E48604C1C647C9910BFADD1FA0B835",
            "f9e48604-c1c6-47c9-910b-fadd1fa0b835",
            "{f9e48604-c1c6-47c9-910b-fadd1fa0b835}",
            "urn:uuid:f9e48604-c1c6-47c9-910b-fadd1fa0b835",
        ] {
            assert_eq!(SessionId::parse_lenient(form), Some(id), "{form}");
        }
        assert_eq!(id.to_string(), "f9e48604c1c647c9910bfadd1fa0b835");
    }

    #[test]
    fn rejects_bad_forms() {
        for bad in [
            "",
            "not-a-uuid",
            "0000",
            "g0000000000000000000000000000000",
            "000000000000000000000000000000000",
        ] {
            assert_eq!(SessionId::parse_lenient(bad), None, "{bad:?}");
        }
        assert!(SessionId::parse_lenient("00000000-0000-0000-0000-000000000000").is_some());
    }

    #[test]
    fn random_bytes_become_a_v4_uuid() {
        let id = SessionId::from_random_bytes([0; 16]).to_string();
        assert_eq!(&id[12..13], "4");
        assert_eq!(&id[16..17], "8");
    }
}
