//! How a message's body is delimited (RFC 9112 §6.3), decided from its head.

use super::headers::{trim_ows, Headers};
use super::HttpError;

/// The body framing of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyFraming {
    /// Exactly this many bytes (0 = no body).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the connection closes (responses only).
    UntilEof,
}

/// `Transfer-Encoding` must be exactly `chunked` (elements trimmed, empty elements ignored,
/// ASCII case-insensitive). `None` when there is no such header.
///
/// RFC 9112 would frame `gzip, chunked` as chunked, but no other coding is implemented and
/// handing up still-coded bytes as the body would be wrong, so every other list (including
/// `chunked, chunked`, `chunked, gzip` and an empty value) is `UnsupportedTransferEncoding`
/// (501).
fn transfer_encoding(headers: &Headers) -> Result<Option<BodyFraming>, HttpError> {
    let mut present = false;
    let mut codings = 0usize;
    let mut chunked_last = false;
    for value in headers.get_all("transfer-encoding") {
        present = true;
        for element in value.split(|&b| b == b',').map(trim_ows) {
            if element.is_empty() {
                continue;
            }
            codings += 1;
            chunked_last = element.eq_ignore_ascii_case(b"chunked");
        }
    }
    match (present, codings, chunked_last) {
        (false, _, _) => Ok(None),
        (true, 1, true) => Ok(Some(BodyFraming::Chunked)),
        _ => Err(HttpError::UnsupportedTransferEncoding),
    }
}

/// Every `Content-Length` value (comma-separated lists included) must be `1*DIGIT` and they must
/// all agree. `None` when there is no such header.
fn content_length(headers: &Headers) -> Result<Option<u64>, HttpError> {
    let mut length = None;
    for value in headers.get_all("content-length") {
        for element in value.split(|&b| b == b',').map(trim_ows) {
            if element.is_empty() || !element.iter().all(u8::is_ascii_digit) {
                return Err(HttpError::InvalidContentLength);
            }
            let mut n: u64 = 0;
            for &d in element {
                n = n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(d - b'0')))
                    .ok_or(HttpError::InvalidContentLength)?;
            }
            match length {
                Some(previous) if previous != n => return Err(HttpError::InvalidContentLength),
                _ => length = Some(n),
            }
        }
    }
    Ok(length)
}

/// Shared rule: TE + CL is rejected outright (smuggling), then TE, then CL.
fn declared(headers: &Headers) -> Result<Option<BodyFraming>, HttpError> {
    if headers.contains("transfer-encoding") && headers.contains("content-length") {
        return Err(HttpError::ConflictingFraming);
    }
    if let Some(te) = transfer_encoding(headers)? {
        return Ok(Some(te));
    }
    Ok(content_length(headers)?.map(BodyFraming::Length))
}

/// Request framing: chunked, `Content-Length`, or no body.
pub(crate) fn request_framing(headers: &Headers) -> Result<BodyFraming, HttpError> {
    Ok(declared(headers)?.unwrap_or(BodyFraming::Length(0)))
}

/// Response framing: no body for a HEAD request and for 1xx/204/304; otherwise chunked,
/// `Content-Length`, or until the connection closes.
pub(crate) fn response_framing(
    status: u16,
    head_request: bool,
    headers: &Headers,
) -> Result<BodyFraming, HttpError> {
    if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(BodyFraming::Length(0));
    }
    Ok(declared(headers)?.unwrap_or(BodyFraming::UntilEof))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[(&'static str, &'static str)]) -> Headers {
        let mut h = Headers::new();
        for (n, v) in fields {
            h.push(*n, *v);
        }
        h
    }

    #[test]
    fn request_rules() {
        use BodyFraming::*;
        let ok = [
            (vec![], Length(0)),
            (vec![("Content-Length", "202")], Length(202)),
            (
                vec![("content-length", "5"), ("Content-Length", "5")],
                Length(5),
            ),
            (vec![("content-length", "5, 5")], Length(5)),
            (vec![("Transfer-Encoding", "chunked")], Chunked),
            (vec![("transfer-encoding", " Chunked ")], Chunked),
            (vec![("transfer-encoding", ", chunked,")], Chunked),
        ];
        for (fields, framing) in ok {
            assert_eq!(
                request_framing(&headers(&fields)),
                Ok(framing),
                "{fields:?}"
            );
        }
        let bad = [
            (
                vec![("Transfer-Encoding", "chunked"), ("Content-Length", "5")],
                HttpError::ConflictingFraming,
            ),
            (
                vec![("Transfer-Encoding", "gzip")],
                HttpError::UnsupportedTransferEncoding,
            ),
            (
                vec![("Transfer-Encoding", "gzip, chunked")],
                HttpError::UnsupportedTransferEncoding,
            ),
            (
                vec![("Transfer-Encoding", "chunked, gzip")],
                HttpError::UnsupportedTransferEncoding,
            ),
            (
                vec![
                    ("Transfer-Encoding", "chunked"),
                    ("Transfer-Encoding", "chunked"),
                ],
                HttpError::UnsupportedTransferEncoding,
            ),
            (
                vec![("Transfer-Encoding", "")],
                HttpError::UnsupportedTransferEncoding,
            ),
            (
                vec![("Content-Length", "5"), ("Content-Length", "6")],
                HttpError::InvalidContentLength,
            ),
            (
                vec![("Content-Length", "5, 6")],
                HttpError::InvalidContentLength,
            ),
            (
                vec![("Content-Length", "-1")],
                HttpError::InvalidContentLength,
            ),
            (
                vec![("Content-Length", "+1")],
                HttpError::InvalidContentLength,
            ),
            (
                vec![("Content-Length", "1 2")],
                HttpError::InvalidContentLength,
            ),
            (
                vec![("Content-Length", "0x10")],
                HttpError::InvalidContentLength,
            ),
            (
                vec![("Content-Length", "")],
                HttpError::InvalidContentLength,
            ),
            (
                vec![("Content-Length", "99999999999999999999999")],
                HttpError::InvalidContentLength,
            ),
        ];
        for (fields, err) in bad {
            assert_eq!(
                request_framing(&headers(&fields)),
                Err(err.clone()),
                "{fields:?}"
            );
            assert_eq!(
                err.status(),
                if err == HttpError::UnsupportedTransferEncoding {
                    501
                } else {
                    400
                }
            );
        }
    }

    #[test]
    fn response_rules() {
        use BodyFraming::*;
        let cl = headers(&[("content-length", "8")]);
        let te = headers(&[("Transfer-Encoding", "chunked")]);
        let none = headers(&[]);
        assert_eq!(response_framing(202, false, &cl), Ok(Length(8)));
        assert_eq!(response_framing(200, false, &te), Ok(Chunked));
        assert_eq!(response_framing(200, false, &none), Ok(UntilEof));
        assert_eq!(response_framing(200, true, &te), Ok(Length(0)));
        for status in [100, 103, 204, 304] {
            assert_eq!(response_framing(status, false, &cl), Ok(Length(0)));
        }
    }
}
