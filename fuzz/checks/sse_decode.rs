//! Fuzz check for the SSE decoder: decoding `data` whole and in chunks (split points derived from
//! the data itself) must give identical items, errors, last event ID and retry, with default and
//! with small limits, and the decoder must stay within its limits.

use bytes::Bytes;
use mcp_sse_core::sse::{DecodeError, Decoder, DecoderLimits, Item};

type Outcome = (Vec<Result<Item, DecodeError>>, String, Option<u64>);

fn decode(limits: DecoderLimits, input: &Bytes, cuts: &[usize]) -> Outcome {
    let mut d = Decoder::with_limits(limits);
    let mut out = Vec::new();
    let bound = limits.max_line_bytes + limits.max_event_bytes + 3;
    let mut drain = |d: &mut Decoder| loop {
        match d.poll_item() {
            Ok(Some(item)) => {
                if let Item::Comment(c) = &item {
                    assert!(std::str::from_utf8(c).is_ok(), "comment is UTF-8");
                }
                out.push(Ok(item));
            }
            Ok(None) => break,
            Err(e) => out.push(Err(e)),
        }
    };
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        d.handle_bytes(input.slice(start..cut));
        drain(&mut d);
        assert!(d.buffered_bytes() <= bound, "decoder exceeded its limits");
        start = cut;
    }
    d.handle_eof();
    drain(&mut d);
    assert_eq!(d.buffered_bytes(), 0, "nothing held after end of input");
    (out, d.last_event_id().to_owned(), d.retry())
}

/// Split points derived from the input: after every byte whose value is below 0x20 or a
/// multiple of 7, plus a cut every `1 + first byte % 5` bytes.
fn cuts_for(data: &[u8]) -> [Vec<usize>; 2] {
    let by_value: Vec<usize> = (1..data.len())
        .filter(|&i| data.get(i - 1).is_some_and(|b| *b < 0x20 || *b % 7 == 0))
        .collect();
    let step = 1 + usize::from(data.first().copied().unwrap_or(0) % 5);
    let regular: Vec<usize> = (1..data.len()).step_by(step).collect();
    [by_value, regular]
}

/// The fuzz entry point.
pub fn check(data: &[u8]) {
    let input = Bytes::copy_from_slice(data);
    for limits in [
        DecoderLimits::default(),
        DecoderLimits {
            max_line_bytes: 32,
            max_event_bytes: 48,
        },
    ] {
        let whole = decode(limits, &input, &[]);
        for cuts in cuts_for(data) {
            assert_eq!(whole, decode(limits, &input, &cuts), "cuts {cuts:?}");
        }
    }
}
