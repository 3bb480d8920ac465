//! Finding the end of a message head in the input without rescanning: bytes are examined once,
//! with `memchr`, however the input is split (byte-by-byte slow-loris input stays O(n)).

use bytes::{Bytes, BytesMut};

use super::input::Input;
use super::HttpError;

/// Accumulates one head (start line + header lines + blank line), copying only head bytes out of
/// the input. Empty lines before the start line are skipped (RFC 9112 §2.2). Lines end with LF,
/// optionally preceded by CR.
#[derive(Debug, Default)]
pub(crate) struct HeadReader {
    /// The head so far: at most `max` bytes.
    buf: BytesMut,
    /// Bytes of the current (unterminated) line already in `buf`.
    line_len: usize,
    /// The last byte of the current line (meaningful when `line_len > 0`).
    last: u8,
    /// Whether a non-empty line (the start line) has been seen.
    seen_line: bool,
    /// Whether the first byte of the start line has been checked.
    first_checked: bool,
}

/// Whether `b` may begin a start line: a `tchar` of RFC 9110 §5.6.2 (every method, and the `H`
/// of `HTTP/1.1`). A TLS `ClientHello` (0x16) or other binary input fails at its first byte,
/// so it is answered at once instead of when the head deadline passes.
fn may_start_line(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl HeadReader {
    /// Whether no part of a head has been received.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Bytes held.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.line_len = 0;
        self.last = 0;
        self.seen_line = false;
        self.first_checked = false;
    }

    /// Consumes input up to the end of the head. `Ok(Some(head))` once the blank line has been
    /// seen; `Ok(None)` when the input ran out first; `HeadTooLarge` as soon as the head is known
    /// to exceed `max` bytes.
    pub(crate) fn read(
        &mut self,
        input: &mut Input,
        max: usize,
    ) -> Result<Option<Bytes>, HttpError> {
        while let Some(front) = input.front() {
            let s: &[u8] = front;
            if !self.first_checked {
                if let Some(&b) = s.iter().find(|&&b| b != b'\r' && b != b'\n') {
                    self.first_checked = true;
                    if !may_start_line(b) {
                        return Err(HttpError::Malformed(
                            "the start line does not begin with a token (not HTTP/1.x?)",
                        ));
                    }
                }
            }
            let mut copy_from = 0;
            let mut i = 0;
            let mut end = None;
            while let Some(off) = memchr::memchr(b'\n', s.get(i..).unwrap_or_default()) {
                let nl = i + off;
                let prev = if nl > i {
                    s.get(nl - 1).copied().unwrap_or(0)
                } else {
                    self.last
                };
                let total = self.line_len + (nl - i);
                let blank = total == 0 || (total == 1 && prev == b'\r');
                self.line_len = 0;
                i = nl + 1;
                if blank && self.seen_line {
                    end = Some(i);
                    break;
                }
                if blank {
                    // An empty line before the start line: dropped.
                    self.buf.clear();
                    copy_from = i;
                } else {
                    self.seen_line = true;
                }
                if self.buf.len() + (i - copy_from) > max {
                    return Err(HttpError::HeadTooLarge { limit: max });
                }
            }
            let stop = match end {
                Some(e) => e,
                None => {
                    if s.len() > i {
                        self.line_len += s.len() - i;
                        self.last = s.last().copied().unwrap_or(0);
                    }
                    s.len()
                }
            };
            let piece = s.get(copy_from..stop).unwrap_or_default();
            if self.buf.len() + piece.len() > max {
                return Err(HttpError::HeadTooLarge { limit: max });
            }
            if end.is_some() && self.buf.is_empty() {
                // The whole head is inside one input chunk: hand it out without copying.
                let head = input
                    .take_front(stop)
                    .map(|chunk| chunk.slice(copy_from.min(chunk.len())..))
                    .unwrap_or_default();
                self.clear();
                return Ok(Some(head));
            }
            self.buf.extend_from_slice(piece);
            input.advance_front(stop);
            if end.is_some() {
                let head = self.buf.split().freeze();
                self.clear();
                return Ok(Some(head));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_input_fails_at_its_first_byte() {
        // A TLS ClientHello's record header, alone: no need to wait for a line end.
        let (r, _) = feed_all(&[b"\x16\x03\x01\x02\x00"], 1024);
        assert!(matches!(r, Err(HttpError::Malformed(_))), "{r:?}");
        // Blank lines first, then the token check; split anywhere.
        let (r, _) = feed_all(&[b"\r\n", b"\r", b"\n\x80"], 1024);
        assert!(matches!(r, Err(HttpError::Malformed(_))), "{r:?}");
        let (r, _) = feed_all(&[b"\r\n", b"G", b"ET / HTTP/1.1\r\n\r\n"], 1024);
        assert!(matches!(r, Ok(Some(_))), "{r:?}");
    }

    fn feed_all(pieces: &[&'static [u8]], max: usize) -> (Result<Option<Bytes>, HttpError>, Input) {
        let mut reader = HeadReader::default();
        let mut input = Input::default();
        let mut last = Ok(None);
        for p in pieces {
            input.push(Bytes::from_static(p));
            last = reader.read(&mut input, max);
            if !matches!(last, Ok(None)) {
                break;
            }
        }
        (last, input)
    }

    #[test]
    fn finds_end_in_one_piece_and_leaves_body() {
        let (head, input) = feed_all(&[b"GET / HTTP/1.1\r\nA: b\r\n\r\nBODY"], 1024);
        assert_eq!(
            &head.unwrap().unwrap()[..],
            b"GET / HTTP/1.1\r\nA: b\r\n\r\n"
        );
        assert_eq!(input.len(), 4);
    }

    #[test]
    fn finds_end_split_anywhere() {
        let wire: &[u8] = b"\r\n\nGET / HTTP/1.1\r\nA: b\r\n\r\n";
        for split in 0..=wire.len() {
            let mut reader = HeadReader::default();
            let mut input = Input::default();
            input.push(Bytes::copy_from_slice(&wire[..split]));
            let first = reader.read(&mut input, 1024).unwrap();
            input.push(Bytes::copy_from_slice(&wire[split..]));
            let head = first.or_else(|| reader.read(&mut input, 1024).unwrap());
            assert_eq!(
                &head.unwrap()[..],
                b"GET / HTTP/1.1\r\nA: b\r\n\r\n",
                "split {split}"
            );
        }
    }

    #[test]
    fn bare_lf_and_byte_by_byte() {
        let wire = b"GET / HTTP/1.1\nA: b\n\n";
        let mut reader = HeadReader::default();
        let mut input = Input::default();
        let mut got = None;
        for &b in wire.iter() {
            input.push(Bytes::copy_from_slice(&[b]));
            if let Some(h) = reader.read(&mut input, 1024).unwrap() {
                got = Some(h);
            }
        }
        assert_eq!(&got.unwrap()[..], &wire[..]);
    }

    #[test]
    fn cr_alone_is_not_a_line_end() {
        let (head, _) = feed_all(&[b"GET / HTTP/1.1\r\nA: b\r\r\n", b"\r\n"], 1024);
        assert_eq!(
            &head.unwrap().unwrap()[..],
            b"GET / HTTP/1.1\r\nA: b\r\r\n\r\n"
        );
    }

    #[test]
    fn limit_is_exact() {
        let wire: &'static [u8] = b"GET / HTTP/1.1\r\n\r\n";
        let (ok, _) = feed_all(&[wire], wire.len());
        assert!(ok.unwrap().is_some());
        let (err, _) = feed_all(&[wire], wire.len() - 1);
        assert_eq!(
            err,
            Err(HttpError::HeadTooLarge {
                limit: wire.len() - 1
            })
        );
        let (err, _) = feed_all(&[b"GET / HTTP/1.1\r\n", b"X: 1234"], 20);
        assert_eq!(err, Err(HttpError::HeadTooLarge { limit: 20 }));
        // Leading empty lines do not count.
        let (ok, _) = feed_all(&[b"\r\n\r\n\n", wire], wire.len());
        assert!(ok.unwrap().is_some());
    }
}
