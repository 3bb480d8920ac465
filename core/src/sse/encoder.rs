//! `text/event-stream` encoder, byte-compatible with sse-starlette.
//!
//! sse-starlette's `ServerSentEvent.encode` writes, in this order: `id`, `event`, one `data` line
//! per line of the data (split on CRLF, CR or LF; empty data gives one `data: ` line), `retry`, and
//! a blank line. Every field is `name: value` (one space). The default line ending is CRLF.
//!
//! Where sse-starlette would silently rewrite its input (newlines in `id` are removed, a newline
//! in `event` would corrupt the stream, newlines in comments become several comment lines), this
//! encoder refuses with an [`EncodeError`] instead, so what is decoded is what was encoded.
//! A CR or CRLF inside `data` is a line break and decodes as LF.

use bytes::{BufMut, BytesMut};

use crate::decimal::{format_u64, U64_DIGITS};

/// The line terminator the encoder writes.
///
/// ```
/// use mcp_sse_core::sse::LineEnding;
///
/// assert_eq!(LineEnding::default(), LineEnding::CrLf);
/// assert_eq!(LineEnding::Lf.as_bytes(), b"\n");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LineEnding {
    /// `\r\n`, sse-starlette's default (what the Python SDK's server sends).
    #[default]
    CrLf,
    /// `\n` (what the TypeScript SDK's server sends).
    Lf,
    /// `\r`.
    Cr,
}

impl LineEnding {
    /// The terminator's bytes.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            LineEnding::CrLf => b"\r\n",
            LineEnding::Lf => b"\n",
            LineEnding::Cr => b"\r",
        }
    }
}

/// An event to encode. `data` may contain line breaks (CRLF, CR or LF); each becomes a new
/// `data:` line.
///
/// ```
/// use mcp_sse_core::sse::OutgoingEvent;
///
/// let ev = OutgoingEvent { id: None, event: Some("endpoint"), data: "/messages/?session_id=ab", retry: None };
/// assert_eq!(ev.event, Some("endpoint"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutgoingEvent<'a> {
    /// `id` field; must not contain CR, LF or U+0000.
    pub id: Option<&'a str>,
    /// `event` field (the event type); must not contain CR or LF.
    pub event: Option<&'a str>,
    /// The data, written as one `data` line per line.
    pub data: &'a str,
    /// `retry` field (reconnection time in milliseconds).
    pub retry: Option<u64>,
}

/// Why an event or comment cannot be encoded.
///
/// ```
/// use bytes::BytesMut;
/// use mcp_sse_core::sse::{EncodeError, Encoder, OutgoingEvent};
///
/// let ev = OutgoingEvent { event: Some("a\nb"), ..OutgoingEvent::default() };
/// let mut out = BytesMut::new();
/// assert_eq!(Encoder::new().encode_event(&ev, &mut out), Err(EncodeError::NewlineInEvent));
/// assert!(out.is_empty());
/// ```
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// The event type contains CR or LF.
    #[error("SSE event type contains a line break")]
    NewlineInEvent,
    /// The id contains CR or LF.
    #[error("SSE id contains a line break")]
    NewlineInId,
    /// The id contains U+0000 (decoders ignore such ids).
    #[error("SSE id contains U+0000")]
    NulInId,
    /// The comment contains CR or LF.
    #[error("SSE comment contains a line break")]
    NewlineInComment,
}

/// Writes events and comments in sse-starlette's format. Stateless and cheap to copy.
///
/// ```
/// use bytes::BytesMut;
/// use mcp_sse_core::sse::{Encoder, OutgoingEvent};
///
/// let enc = Encoder::new();
/// let mut out = BytesMut::new();
/// let ev = OutgoingEvent { id: None, event: Some("endpoint"), data: "/messages/?session_id=ab", retry: None };
/// enc.encode_event(&ev, &mut out).unwrap();
/// assert_eq!(enc.encoded_len(&ev), out.len());
/// enc.encode_comment("ping - 2026-11-24 00:26:49.932501+00:00", &mut out).unwrap();
/// assert_eq!(
///     &out[..],
///     &b"event: endpoint\r\ndata: /messages/?session_id=ab\r\n\r\n: ping - 2026-11-24 00:26:49.932501+00:00\r\n\r\n"[..]
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Encoder {
    eol: LineEnding,
}

impl Encoder {
    /// An encoder writing CRLF line endings, like sse-starlette.
    pub fn new() -> Self {
        Self::with_line_ending(LineEnding::CrLf)
    }

    /// An encoder writing the given line ending.
    pub fn with_line_ending(le: LineEnding) -> Self {
        Self { eol: le }
    }

    /// The line ending this encoder writes.
    pub fn line_ending(&self) -> LineEnding {
        self.eol
    }

    /// Appends one event to `out`. On error nothing is written.
    pub fn encode_event(
        &self,
        ev: &OutgoingEvent<'_>,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        validate(ev)?;
        let eol = self.eol.as_bytes();
        // Exact for single-line data (every JSON-RPC message) without a second scan of the data
        // for line breaks; more lines grow `out` as they are written.
        out.reserve(self.fields_len(ev) + 6 + ev.data.len() + eol.len());
        if let Some(id) = ev.id {
            out.put_slice(b"id: ");
            out.put_slice(id.as_bytes());
            out.put_slice(eol);
        }
        if let Some(event) = ev.event {
            out.put_slice(b"event: ");
            out.put_slice(event.as_bytes());
            out.put_slice(eol);
        }
        for line in DataLines::new(ev.data.as_bytes()) {
            out.put_slice(b"data: ");
            out.put_slice(line);
            out.put_slice(eol);
        }
        if let Some(retry) = ev.retry {
            let mut digits = [0u8; U64_DIGITS];
            out.put_slice(b"retry: ");
            out.put_slice(format_u64(retry, &mut digits));
            out.put_slice(eol);
        }
        out.put_slice(eol);
        Ok(())
    }

    /// Appends a comment block `: <text><EOL><EOL>` to `out` (sse-starlette's ping is
    /// `: ping - <UTC datetime>`). On error nothing is written.
    pub fn encode_comment(&self, text: &str, out: &mut BytesMut) -> Result<(), EncodeError> {
        if has_newline(text.as_bytes()) {
            return Err(EncodeError::NewlineInComment);
        }
        let eol = self.eol.as_bytes();
        out.reserve(2 + text.len() + 2 * eol.len());
        out.put_slice(b": ");
        out.put_slice(text.as_bytes());
        out.put_slice(eol);
        out.put_slice(eol);
        Ok(())
    }

    /// The exact number of bytes [`Encoder::encode_event`] writes for `ev` (meaningful only for
    /// events it accepts), so a caller can size one HTTP chunk before encoding into it.
    pub fn encoded_len(&self, ev: &OutgoingEvent<'_>) -> usize {
        let eol = self.eol.as_bytes().len();
        let mut n = self.fields_len(ev);
        for line in DataLines::new(ev.data.as_bytes()) {
            n += 6 + line.len() + eol;
        }
        n
    }

    /// The bytes of everything but the `data` lines: `id`, `event`, `retry` and the blank line.
    fn fields_len(&self, ev: &OutgoingEvent<'_>) -> usize {
        let eol = self.eol.as_bytes().len();
        let mut n = eol;
        if let Some(id) = ev.id {
            n += 4 + id.len() + eol;
        }
        if let Some(event) = ev.event {
            n += 7 + event.len() + eol;
        }
        if let Some(retry) = ev.retry {
            let mut digits = [0u8; U64_DIGITS];
            n += 7 + format_u64(retry, &mut digits).len() + eol;
        }
        n
    }
}

fn validate(ev: &OutgoingEvent<'_>) -> Result<(), EncodeError> {
    if let Some(id) = ev.id {
        if has_newline(id.as_bytes()) {
            return Err(EncodeError::NewlineInId);
        }
        if memchr::memchr(0, id.as_bytes()).is_some() {
            return Err(EncodeError::NulInId);
        }
    }
    if ev.event.is_some_and(|e| has_newline(e.as_bytes())) {
        return Err(EncodeError::NewlineInEvent);
    }
    Ok(())
}

fn has_newline(s: &[u8]) -> bool {
    memchr::memchr2(b'\r', b'\n', s).is_some()
}

/// The lines of `data`, split on CRLF, CR or LF, like Python's `re.split(r"\r\n|\r|\n")`:
/// `""` gives one empty line and a trailing break gives a trailing empty line.
struct DataLines<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> DataLines<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { rest: Some(data) }
    }
}

impl<'a> Iterator for DataLines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match memchr::memchr2(b'\r', b'\n', rest) {
            None => {
                self.rest = None;
                Some(rest)
            }
            Some(i) => {
                let skip = if rest.get(i..i + 2) == Some(b"\r\n") {
                    2
                } else {
                    1
                };
                self.rest = Some(rest.get(i + skip..).unwrap_or_default());
                Some(rest.get(..i).unwrap_or_default())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(le: LineEnding, ev: &OutgoingEvent<'_>) -> Vec<u8> {
        let e = Encoder::with_line_ending(le);
        let mut out = BytesMut::new();
        e.encode_event(ev, &mut out).unwrap();
        assert_eq!(out.len(), e.encoded_len(ev));
        out.to_vec()
    }

    #[test]
    fn matches_sse_starlette() {
        let ev = OutgoingEvent {
            id: None,
            event: Some("endpoint"),
            data: "/messages/?session_id=0123456789abcdef0123456789abcdef",
            retry: None,
        };
        assert_eq!(
            enc(LineEnding::CrLf, &ev),
            b"event: endpoint\r\ndata: /messages/?session_id=0123456789abcdef0123456789abcdef\r\n\r\n"
        );
        let ev = OutgoingEvent {
            id: Some("7"),
            event: Some("message"),
            data: "a\r\nb\rc\nd\n",
            retry: Some(3000),
        };
        assert_eq!(
            enc(LineEnding::CrLf, &ev),
            &b"id: 7\r\nevent: message\r\ndata: a\r\ndata: b\r\ndata: c\r\ndata: d\r\ndata: \r\nretry: 3000\r\n\r\n"[..]
        );
        assert_eq!(
            enc(LineEnding::Lf, &OutgoingEvent::default()),
            b"data: \n\n"
        );
        assert_eq!(
            enc(
                LineEnding::Cr,
                &OutgoingEvent {
                    id: Some(""),
                    retry: Some(u64::MAX),
                    ..OutgoingEvent::default()
                }
            ),
            &b"id: \rdata: \rretry: 18446744073709551615\r\r"[..]
        );
    }

    #[test]
    fn ping_comment() {
        let mut out = BytesMut::new();
        Encoder::new()
            .encode_comment("ping - 2026-11-24 00:26:49.932501+00:00", &mut out)
            .unwrap();
        assert_eq!(
            &out[..],
            b": ping - 2026-11-24 00:26:49.932501+00:00\r\n\r\n"
        );
    }

    #[test]
    fn rejects_what_would_corrupt_the_stream() {
        let e = Encoder::new();
        let mut out = BytesMut::new();
        let bad = |id, event| OutgoingEvent {
            id,
            event,
            data: "x",
            retry: None,
        };
        assert_eq!(
            e.encode_event(&bad(Some("a\rb"), None), &mut out),
            Err(EncodeError::NewlineInId)
        );
        assert_eq!(
            e.encode_event(&bad(Some("a\0b"), None), &mut out),
            Err(EncodeError::NulInId)
        );
        assert_eq!(
            e.encode_event(&bad(None, Some("a\n")), &mut out),
            Err(EncodeError::NewlineInEvent)
        );
        assert_eq!(
            e.encode_comment("a\r\nb", &mut out),
            Err(EncodeError::NewlineInComment)
        );
        assert!(out.is_empty());
    }
}
