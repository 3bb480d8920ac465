//! Fuzz check for `http::ResponseDecoder`: arbitrary bytes, fed whole and in pieces derived from
//! the data, with expectations derived from the data, must never panic, must keep
//! `buffered_bytes()` within `Limits::max_buffered_bytes()` (plus the piece being polled), must
//! poison after an error, and must give the same events however the input is split.

use bytes::Bytes;
use mcp_sse_core::http::{HttpError, Limits, ResponseDecoder, ResponseEvent, ResponseExpectation};

/// Small limits, so the fuzzer reaches every bound quickly.
const LIMITS: Limits = Limits {
    max_head_bytes: 256,
    max_headers: 8,
    max_body_bytes: 512,
    max_chunk_line_bytes: 24,
};

/// Entry point shared by the fuzz target and the corpus-replay test.
pub fn check(data: &[u8]) {
    let hash = fnv(data);
    // Config A: plain requests, unbounded bodies. Config B: flags from the hash.
    let plain = [ResponseExpectation {
        head_request: false,
        max_body_bytes: None,
    }; 4];
    let mut derived = plain;
    for (i, e) in derived.iter_mut().enumerate() {
        e.head_request = (hash >> i) & 1 == 1 && (hash >> 8) & 3 == 0;
        e.max_body_bytes = ((hash >> (i + 4)) & 1 == 1).then_some(300);
    }
    for expectations in [&plain, &derived] {
        let whole = run(data, &[data.len().max(1)], expectations);
        let split = run(data, &split_sizes(hash), expectations);
        assert_eq!(whole, split, "whole vs split input");
        let bytewise = run(data, &[1], expectations);
        assert_eq!(whole, bytewise, "whole vs byte-by-byte input");
    }
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Piece sizes 1..=17 from the hash (xorshift).
fn split_sizes(hash: u64) -> Vec<usize> {
    let mut state = hash | 1;
    (0..16)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 17) as usize + 1
        })
        .collect()
}

type Outcome = (Vec<ResponseEvent>, Option<HttpError>);

/// Events with each message's Body pieces merged into one (`body` collects the pieces; merging
/// by re-concatenating would be quadratic on byte-by-byte input).
#[derive(Default)]
struct Collected {
    events: Vec<ResponseEvent>,
    body: Vec<u8>,
}

impl Collected {
    fn push(&mut self, ev: ResponseEvent) {
        match ev {
            ResponseEvent::Body(b) => {
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
            self.events.push(ResponseEvent::Body(Bytes::from(body)));
        }
    }

    fn finish(mut self, err: Option<HttpError>) -> Outcome {
        self.flush();
        (self.events, err)
    }
}

fn drain(decoder: &mut ResponseDecoder, events: &mut Collected, piece: usize) -> Option<HttpError> {
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
                decoder.handle_bytes(Bytes::from_static(b"HTTP/1.1 200 OK\r\n\r\n"));
                assert_eq!(decoder.poll_event(), Err(err.clone()), "not poisoned");
                return Some(err);
            }
        }
    }
}

fn run(data: &[u8], sizes: &[usize], expectations: &[ResponseExpectation]) -> Outcome {
    let mut decoder = ResponseDecoder::new(LIMITS);
    for e in expectations {
        decoder.expect(*e);
    }
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
    }
    decoder.handle_eof();
    let err = drain(&mut decoder, &mut events, 0);
    events.finish(err)
}
