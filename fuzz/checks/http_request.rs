//! Fuzz check for `http::RequestDecoder`: arbitrary bytes, fed whole and in pieces derived from
//! the data, must never panic, must keep `buffered_bytes()` within `Limits::max_buffered_bytes()`
//! (plus the piece just handed in, while it is being polled), must poison after an error, and
//! must give the same events and final error however the input is split.

use bytes::Bytes;
use mcp_sse_core::http::{HttpError, Limits, RequestDecoder, RequestEvent};

/// Small limits, so the fuzzer reaches every bound quickly.
const LIMITS: Limits = Limits {
    max_head_bytes: 256,
    max_headers: 8,
    max_body_bytes: 512,
    max_chunk_line_bytes: 24,
};

/// Entry point shared by the fuzz target and the corpus-replay test.
pub fn check(data: &[u8]) {
    let whole = run(data, &[data.len().max(1)]);
    let split = run(data, &split_sizes(data));
    assert_eq!(whole, split, "whole vs split input");
    let bytewise = run(data, &[1]);
    assert_eq!(whole, bytewise, "whole vs byte-by-byte input");
}

/// Piece sizes 1..=17 from an FNV-1a hash of the data (xorshift).
fn split_sizes(data: &[u8]) -> Vec<usize> {
    let mut state = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) | 1;
    (0..16)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 17) as usize + 1
        })
        .collect()
}

type Outcome = (Vec<RequestEvent>, Option<HttpError>);

/// Events with each message's Body pieces merged into one (`body` collects the pieces; merging
/// by re-concatenating would be quadratic on byte-by-byte input).
#[derive(Default)]
struct Collected {
    events: Vec<RequestEvent>,
    body: Vec<u8>,
}

impl Collected {
    fn push(&mut self, ev: RequestEvent) {
        match ev {
            RequestEvent::Body(b) => {
                assert!(!b.is_empty(), "empty Body event");
                self.body.extend_from_slice(&b);
            }
            ev => {
                self.flush();
                self.events.push(ev);
            }
        }
    }

    fn flush(&mut self) {
        if !self.body.is_empty() {
            let body = std::mem::take(&mut self.body);
            self.events.push(RequestEvent::Body(Bytes::from(body)));
        }
    }

    fn finish(mut self, err: Option<HttpError>) -> Outcome {
        self.flush();
        (self.events, err)
    }
}

/// Polls until `Ok(None)` (returns `None`) or an error (returns it, after checking poisoning).
fn drain(decoder: &mut RequestDecoder, events: &mut Collected, piece: usize) -> Option<HttpError> {
    let bound = LIMITS.max_buffered_bytes();
    loop {
        match decoder.poll_event() {
            Ok(Some(ev)) => {
                events.push(ev);
                assert!(decoder.buffered_bytes() <= bound + piece);
            }
            Ok(None) => {
                assert!(decoder.buffered_bytes() <= bound);
                return None;
            }
            Err(err) => {
                assert_eq!(decoder.buffered_bytes(), 0);
                decoder.handle_bytes(Bytes::from_static(b"GET / HTTP/1.1\r\n\r\n"));
                assert_eq!(decoder.poll_event(), Err(err.clone()), "not poisoned");
                assert!(!decoder.is_idle());
                return Some(err);
            }
        }
    }
}

fn run(data: &[u8], sizes: &[usize]) -> Outcome {
    let mut decoder = RequestDecoder::new(LIMITS);
    let mut events = Collected::default();
    let mut rest = data;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let n = sizes.next().copied().unwrap_or(1).clamp(1, rest.len());
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        decoder.handle_bytes(Bytes::copy_from_slice(piece));
        if let Some(err) = drain(&mut decoder, &mut events, n) {
            return events.finish(Some(err));
        }
        if decoder.is_idle() {
            assert!(!decoder.is_reading_head());
        }
    }
    decoder.handle_eof();
    let err = drain(&mut decoder, &mut events, 0);
    events.finish(err)
}
