//! The `chunked` transfer coding: encoding helpers and the incremental decoder.

use bytes::{BufMut, BytesMut};

use super::body::BodyPoll;
use super::headers::{is_field_value, is_token, trim_ows};
use super::input::{read_line, strip_eol, Input};
use super::limits::Limits;
use super::HttpError;

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes one chunk, `<lowercase hex length>\r\n<data>\r\n`. Empty `data` writes nothing (an
/// empty chunk would end the body; use [`encode_last_chunk`] for that).
///
/// ```
/// let mut out = bytes::BytesMut::new();
/// mcp_sse_core::http::encode_chunk(b": ping\r\n\r\n", &mut out);
/// mcp_sse_core::http::encode_last_chunk(&mut out);
/// assert_eq!(&out[..], b"a\r\n: ping\r\n\r\n\r\n0\r\n\r\n");
/// ```
pub fn encode_chunk(data: &[u8], out: &mut BytesMut) {
    if data.is_empty() {
        return;
    }
    out.reserve(data.len() + 2 * std::mem::size_of::<usize>() + 4);
    encode_chunk_header(data.len(), out);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

/// The framed size of a chunk of `len` payload bytes: its size line, the payload and the CRLF.
///
/// ```
/// assert_eq!(mcp_sse_core::http::chunk_len(333), b"14d\r\n".len() + 333 + 2);
/// ```
pub fn chunk_len(len: usize) -> usize {
    let digits = (usize::BITS - len.leading_zeros()).div_ceil(4).max(1) as usize;
    digits + 2 + len + 2
}

/// Writes a chunk-size line, `<lowercase hex len>\r\n`, so the caller can write the `len` payload
/// bytes and the closing `\r\n` itself. `len` 0 writes `0\r\n`, the start of the last chunk.
///
/// ```
/// let mut out = bytes::BytesMut::new();
/// mcp_sse_core::http::encode_chunk_header(333, &mut out);
/// assert_eq!(&out[..], b"14d\r\n");
/// ```
pub fn encode_chunk_header(len: usize, out: &mut BytesMut) {
    let mut digits = [0u8; 2 * std::mem::size_of::<usize>()];
    let mut i = digits.len();
    let mut n = len;
    loop {
        i -= 1;
        digits[i] = HEX_DIGITS[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[i..]);
    out.put_slice(b"\r\n");
}

/// Writes the last chunk with no trailers, `0\r\n\r\n`, which ends a chunked body.
pub fn encode_last_chunk(out: &mut BytesMut) {
    out.put_slice(b"0\r\n\r\n");
}

#[derive(Debug)]
enum ChunkState {
    /// Reading a chunk-size line.
    SizeLine,
    /// Inside chunk data.
    Data { remaining: u64 },
    /// Expecting the CRLF after chunk data; `seen_cr` once the CR has arrived.
    DataEnd { seen_cr: bool },
    /// Reading trailer lines after the last chunk, until the empty line.
    Trailers,
    /// The body is complete.
    Done,
}

/// Decodes one chunked body. Chunk extensions are ignored; trailer fields are checked and
/// dropped. Lines end with LF, optionally preceded by CR; chunk data must be followed by CRLF.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: ChunkState,
    /// Data bytes so far.
    total: u64,
    /// Trailer-section bytes so far (bounded by `max_head_bytes`).
    trailer_bytes: usize,
}

impl ChunkedDecoder {
    pub(crate) fn new() -> Self {
        ChunkedDecoder {
            state: ChunkState::SizeLine,
            total: 0,
            trailer_bytes: 0,
        }
    }

    /// Whether the last chunk and the trailer section have been read.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, ChunkState::Done)
    }

    /// Decodes from `input`, using `line` (empty between calls that return data) for partial
    /// lines. `body_limit`: `BodyTooLarge` as soon as a chunk size takes the total past it.
    pub(crate) fn poll(
        &mut self,
        input: &mut Input,
        line: &mut BytesMut,
        limits: &Limits,
        body_limit: Option<usize>,
    ) -> Result<BodyPoll, HttpError> {
        loop {
            match self.state {
                ChunkState::SizeLine => {
                    match read_line(input, line, limits.max_chunk_line_bytes) {
                        Ok(true) => {}
                        Ok(false) => return Ok(BodyPoll::Pending),
                        Err(_) => return Err(HttpError::InvalidChunk("chunk-size line too long")),
                    }
                    let size = parse_chunk_size(line)?;
                    line.clear();
                    if size == 0 {
                        self.state = ChunkState::Trailers;
                        continue;
                    }
                    let total = self.total.checked_add(size);
                    if let Some(limit) = body_limit {
                        if total.is_none_or(|t| t > limit as u64) {
                            return Err(HttpError::BodyTooLarge { limit });
                        }
                    }
                    self.total = total.ok_or(HttpError::InvalidChunk("body length overflows"))?;
                    self.state = ChunkState::Data { remaining: size };
                }
                ChunkState::Data { remaining } => {
                    let max = usize::try_from(remaining).unwrap_or(usize::MAX);
                    let Some(data) = input.take_front(max) else {
                        return Ok(BodyPoll::Pending);
                    };
                    let left = remaining - data.len() as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd { seen_cr: false }
                    } else {
                        ChunkState::Data { remaining: left }
                    };
                    return Ok(BodyPoll::Data(data));
                }
                ChunkState::DataEnd { seen_cr } => {
                    let Some(&byte) = input.front().and_then(|f| f.first()) else {
                        return Ok(BodyPoll::Pending);
                    };
                    match (seen_cr, byte) {
                        (false, b'\r') => self.state = ChunkState::DataEnd { seen_cr: true },
                        (true, b'\n') => self.state = ChunkState::SizeLine,
                        _ => return Err(HttpError::InvalidChunk("missing CRLF after chunk data")),
                    }
                    input.advance_front(1);
                }
                ChunkState::Trailers => {
                    let room = limits.max_head_bytes.saturating_sub(self.trailer_bytes);
                    match read_line(input, line, room) {
                        Ok(true) => {}
                        Ok(false) => return Ok(BodyPoll::Pending),
                        Err(_) => {
                            return Err(HttpError::HeadTooLarge {
                                limit: limits.max_head_bytes,
                            })
                        }
                    }
                    self.trailer_bytes += line.len();
                    let content = strip_eol(line);
                    if content.is_empty() {
                        line.clear();
                        self.state = ChunkState::Done;
                    } else {
                        check_trailer_line(content)?;
                        line.clear();
                    }
                }
                ChunkState::Done => return Ok(BodyPoll::End),
            }
        }
    }
}

/// Parses `1*HEXDIG [BWS] [";" extensions]` followed by the line ending. Strict: no sign, no
/// `0x`, no leading whitespace, overflow checked; extensions are ignored but may not hold
/// control characters.
fn parse_chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let content = strip_eol(line);
    let digits = content
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(content.len());
    if digits == 0 {
        return Err(HttpError::InvalidChunk("missing chunk size"));
    }
    let mut size: u64 = 0;
    for &b in content.get(..digits).unwrap_or_default() {
        let value = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b - b'A' + 10,
        };
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(u64::from(value)))
            .ok_or(HttpError::InvalidChunk("chunk size overflows"))?;
    }
    let rest = trim_ows(content.get(digits..).unwrap_or_default());
    if !(rest.is_empty() || rest.first() == Some(&b';')) {
        return Err(HttpError::InvalidChunk("invalid chunk-size line"));
    }
    if !is_field_value(rest) {
        return Err(HttpError::InvalidChunk("invalid chunk extension"));
    }
    Ok(size)
}

/// A trailer line must be `token ":" field-value` (no obs-fold).
fn check_trailer_line(content: &[u8]) -> Result<(), HttpError> {
    let colon =
        memchr::memchr(b':', content).ok_or(HttpError::InvalidChunk("invalid trailer line"))?;
    let name = content.get(..colon).unwrap_or_default();
    let value = content.get(colon + 1..).unwrap_or_default();
    if is_token(name) && is_field_value(value) {
        Ok(())
    } else {
        Err(HttpError::InvalidChunk("invalid trailer line"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_uvicorn() {
        let mut out = BytesMut::new();
        encode_chunk(&[b'x'; 0x51], &mut out);
        assert!(out.starts_with(b"51\r\n"));
        assert!(out.ends_with(b"x\r\n"));
        let mut out = BytesMut::new();
        encode_chunk(b"", &mut out);
        assert!(out.is_empty());
        encode_chunk_header(0, &mut out);
        encode_chunk_header(0xc61, &mut out);
        encode_chunk_header(usize::MAX, &mut out);
        let mut expected = b"0\r\nc61\r\n".to_vec();
        expected.extend_from_slice(format!("{:x}\r\n", usize::MAX).as_bytes());
        assert_eq!(&out[..], &expected[..]);
    }

    #[test]
    fn chunk_size_lines() {
        assert_eq!(parse_chunk_size(b"0\r\n"), Ok(0));
        assert_eq!(parse_chunk_size(b"14d\r\n"), Ok(0x14d));
        assert_eq!(parse_chunk_size(b"00FF\n"), Ok(255));
        assert_eq!(parse_chunk_size(b"a;name=value;x\r\n"), Ok(10));
        assert_eq!(parse_chunk_size(b"a \t; ext\r\n"), Ok(10));
        assert_eq!(parse_chunk_size(b"a  \r\n"), Ok(10));
        assert_eq!(parse_chunk_size(b"ffffffffffffffff\r\n"), Ok(u64::MAX));
        for bad in [
            &b"\r\n"[..],
            b" a\r\n",
            b"+a\r\n",
            b"0x10\r\n",
            b"g\r\n",
            b"a b\r\n",
            b"a;x\rb\r\n",
            b"a\r\r\n",
            b"10000000000000000\r\n",
        ] {
            assert!(
                matches!(parse_chunk_size(bad), Err(HttpError::InvalidChunk(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn trailer_lines() {
        assert!(check_trailer_line(b"Expires: never").is_ok());
        assert!(check_trailer_line(b"X:").is_ok());
        assert!(check_trailer_line(b"no colon").is_err());
        assert!(check_trailer_line(b" folded: x").is_err());
        assert!(check_trailer_line(b"X: a\x00").is_err());
    }
}
