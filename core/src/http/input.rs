//! The input queue shared by the decoders: the caller's `Bytes`, held without copying until
//! they are consumed, plus a bounded line reader on top of it.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

/// Bytes handed in by `handle_bytes` and not consumed yet. Never holds an empty chunk.
#[derive(Debug, Default)]
pub(crate) struct Input {
    chunks: VecDeque<Bytes>,
    len: usize,
}

impl Input {
    pub(crate) fn push(&mut self, data: Bytes) {
        if !data.is_empty() {
            self.len += data.len();
            self.chunks.push_back(data);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }

    pub(crate) fn front(&self) -> Option<&Bytes> {
        self.chunks.front()
    }

    /// Removes and returns up to `max` (> 0) bytes from the front chunk, zero-copy.
    pub(crate) fn take_front(&mut self, max: usize) -> Option<Bytes> {
        let front = self.chunks.front_mut()?;
        let taken = if front.len() <= max {
            self.chunks.pop_front()?
        } else {
            front.split_to(max)
        };
        self.len -= taken.len();
        Some(taken)
    }

    /// Drops the first `n` bytes of the front chunk (`n` ≤ its length).
    pub(crate) fn advance_front(&mut self, n: usize) {
        if let Some(front) = self.chunks.front_mut() {
            let n = n.min(front.len());
            front.advance(n);
            self.len -= n;
            if front.is_empty() {
                self.chunks.pop_front();
            }
        }
    }
}

/// The line did not end within the allowed number of bytes.
#[derive(Debug)]
pub(crate) struct LineTooLong;

/// Moves bytes from `input` into `line` up to and including the next LF. `Ok(true)`: `line` holds
/// a complete line; `Ok(false)`: input ran out first. Fails as soon as it is certain the line
/// (LF included) is longer than `max` bytes, so `line` never exceeds `max`.
pub(crate) fn read_line(
    input: &mut Input,
    line: &mut BytesMut,
    max: usize,
) -> Result<bool, LineTooLong> {
    while let Some(front) = input.front() {
        let room = max.saturating_sub(line.len());
        let window = front.get(..front.len().min(room)).unwrap_or_default();
        if let Some(i) = memchr::memchr(b'\n', window) {
            line.extend_from_slice(window.get(..=i).unwrap_or_default());
            input.advance_front(i + 1);
            return Ok(true);
        }
        if front.len() > room {
            return Err(LineTooLong);
        }
        let n = window.len();
        line.extend_from_slice(window);
        input.advance_front(n);
    }
    Ok(false)
}

/// A complete line without its LF and an optional CR before it.
pub(crate) fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_is_zero_copy() {
        let mut input = Input::default();
        let data = Bytes::from_static(b"hello world");
        input.push(data.clone());
        input.push(Bytes::new());
        assert_eq!(input.len(), 11);
        let a = input.take_front(5).unwrap();
        assert_eq!(a.as_ptr(), data.as_ptr());
        input.advance_front(1);
        assert_eq!(&input.take_front(100).unwrap()[..], b"world");
        assert!(input.is_empty());
        assert!(input.take_front(1).is_none());
    }

    #[test]
    fn lines_across_chunks() {
        let mut input = Input::default();
        let mut line = BytesMut::new();
        input.push(Bytes::from_static(b"ab"));
        assert!(!read_line(&mut input, &mut line, 8).unwrap());
        input.push(Bytes::from_static(b"c\r\nrest"));
        assert!(read_line(&mut input, &mut line, 8).unwrap());
        assert_eq!(strip_eol(&line), b"abc");
        assert_eq!(input.len(), 4);
    }

    #[test]
    fn long_lines_fail_early() {
        let mut input = Input::default();
        let mut line = BytesMut::new();
        input.push(Bytes::from_static(b"1234"));
        assert!(!read_line(&mut input, &mut line, 4).unwrap());
        input.push(Bytes::from_static(b"\n"));
        assert!(read_line(&mut input, &mut line, 4).is_err());
        assert_eq!(line.len(), 4);
        line.clear();
        input.clear();
        input.push(Bytes::from_static(b"12\n"));
        assert!(read_line(&mut input, &mut line, 3).unwrap());
    }
}
