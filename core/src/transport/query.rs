//! `application/x-www-form-urlencoded` query strings and URL path quoting, as Starlette and
//! Python's `urllib.parse` do them.

use std::borrow::Cow;

/// Returns the decoded value of the **last** `name=` parameter in a raw query string (`+` and
/// `%xx` are decoded first, as Starlette does), or `None` if the parameter is absent.
///
/// ```
/// use mcp_sse_core::transport::query_param;
/// assert_eq!(query_param("a=1&session_id=x%20y&session_id=z+w", "session_id").as_deref(), Some("z w"));
/// assert_eq!(query_param("session_id=", "session_id").as_deref(), Some(""));
/// assert_eq!(query_param("other=1", "session_id"), None);
/// ```
pub fn query_param(query: &str, name: &str) -> Option<String> {
    let mut found = None;
    for pair in query.split('&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if form_decode(k) == name {
            found = Some(v);
        }
    }
    found.map(|v| form_decode(v).into_owned())
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `+` as space and `%xx` escapes; invalid escapes stay as written, invalid UTF-8 is
/// replaced (like Python's `unquote_plus`). Text with nothing to decode is borrowed.
pub fn form_decode(s: &str) -> Cow<'_, str> {
    percent_decode(s, true)
}

/// Decodes `%xx` escapes (and `+` as space when `plus_is_space`); invalid escapes stay as
/// written, invalid UTF-8 is replaced. Text with nothing to decode is borrowed.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    if !bytes
        .iter()
        .any(|&b| b == b'%' || (plus_is_space && b == b'+'))
    {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Percent-quotes a URL path like Python's `urllib.parse.quote(path)` (safe set `/` plus the
/// unreserved characters `A-Z a-z 0-9 _ . - ~`).
///
/// ```
/// use mcp_sse_core::transport::quote_path;
/// assert_eq!(quote_path("/api v1/messages/"), "/api%20v1/messages/");
/// assert_eq!(quote_path("/é"), "/%C3%A9");
/// ```
pub fn quote_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'.' | b'-' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(form_decode("a%2Bb+c"), "a+b c");
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert_eq!(form_decode("%"), "%");
        assert_eq!(form_decode("%41"), "A");
        assert_eq!(form_decode("%ff"), "\u{fffd}");
    }

    #[test]
    fn last_wins_and_missing() {
        assert_eq!(
            query_param("session_id=a&session_id=b", "session_id").as_deref(),
            Some("b")
        );
        assert_eq!(query_param("session_id", "session_id").as_deref(), Some(""));
        assert_eq!(query_param("", "session_id"), None);
        assert_eq!(
            query_param("session%5Fid=q", "session_id").as_deref(),
            Some("q")
        );
    }
}
