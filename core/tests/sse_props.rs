//! Property tests for the SSE codec.
//!
//! * encode → decode is the identity for any valid event sequence and any line ending. `data`
//!   may contain LF. A CR or CRLF in `data` is a line break too, so it decodes as LF: the
//!   generators produce LF-only data for the identity property, and a separate property checks
//!   that CR and CRLF normalise to LF.
//! * Any chunking of any byte string gives the same items and errors as feeding it whole (with
//!   default and with small limits).

use bytes::{Bytes, BytesMut};
use mcp_sse_core::sse::{
    DecodeError, Decoder, DecoderLimits, Encoder, Item, LineEnding, OutgoingEvent,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Ev {
    id: Option<String>,
    event: Option<String>,
    data: String,
    retry: Option<u64>,
}

/// Text without CR, LF or NUL (valid for `id` and `event`).
fn field_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[^\r\n\u{0}]{0,12}").expect("regex")
}

/// Data text: anything but CR (LF allowed).
fn data_text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex("[^\r]{0,40}").expect("regex"),
        proptest::string::string_regex("[a\n\u{e9}\u{feff}:]{0,12}").expect("regex"),
    ]
}

fn event() -> impl Strategy<Value = Ev> {
    (
        proptest::option::of(field_text()),
        proptest::option::of(field_text()),
        data_text(),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(id, event, data, retry)| Ev {
            id,
            event,
            data,
            retry,
        })
}

fn line_ending() -> impl Strategy<Value = LineEnding> {
    prop_oneof![
        Just(LineEnding::CrLf),
        Just(LineEnding::Lf),
        Just(LineEnding::Cr)
    ]
}

type Got = Vec<Result<Item, DecodeError>>;

/// Feeds `input` cut at `cuts` (positions, any order, clamped) and returns every item and error.
fn decode(limits: DecoderLimits, input: &Bytes, cuts: &[usize]) -> (Got, String, Option<u64>) {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(input.len());
    let mut d = Decoder::with_limits(limits);
    let mut out = Vec::new();
    let mut drain = |d: &mut Decoder| loop {
        match d.poll_item() {
            Ok(Some(item)) => out.push(Ok(item)),
            Ok(None) => break,
            Err(e) => out.push(Err(e)),
        }
    };
    let mut start = 0;
    for cut in cuts {
        d.handle_bytes(input.slice(start..cut));
        drain(&mut d);
        start = cut;
    }
    d.handle_eof();
    drain(&mut d);
    (out, d.last_event_id().to_owned(), d.retry())
}

/// Inputs biased towards SSE syntax, with ill-formed UTF-8 and BOMs mixed in.
fn sse_ish_bytes() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(&b"data"[..]),
        Just(&b"event"[..]),
        Just(&b"id"[..]),
        Just(&b"retry"[..]),
        Just(&b":"[..]),
        Just(&b" "[..]),
        Just(&b"\r"[..]),
        Just(&b"\n"[..]),
        Just(&b"\r\n"[..]),
        Just(&b"a"[..]),
        Just(&b"12"[..]),
        Just(&b"\0"[..]),
        Just(&b"\xEF\xBB\xBF"[..]),
        Just(&b"\xEF\xBB"[..]),
        Just(&b"\xC3"[..]),
        Just(&b"\xA9"[..]),
        Just(&b"\xFF"[..]),
        Just(&b"\xF0\x9F\x98"[..]),
        Just(&b"\x80"[..]),
        Just(&b"xxxxxxxxxxxxxxxx"[..]),
    ];
    prop_oneof![
        proptest::collection::vec(token, 0..80).prop_map(|ts| ts.concat()),
        proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_decode_is_identity(
        events in proptest::collection::vec(event(), 0..6),
        le in line_ending(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let enc = Encoder::with_line_ending(le);
        let mut wire = BytesMut::new();
        for e in &events {
            let out = OutgoingEvent { id: e.id.as_deref(), event: e.event.as_deref(), data: &e.data, retry: e.retry };
            let before = wire.len();
            enc.encode_event(&out, &mut wire).expect("valid event");
            prop_assert_eq!(wire.len() - before, enc.encoded_len(&out));
            enc.encode_comment("ping", &mut wire).expect("valid comment");
        }
        let (items, last_id, retry) = decode(DecoderLimits::default(), &wire.freeze(), &cuts);
        let got: Vec<_> = items
            .into_iter()
            .filter_map(|i| match i {
                Ok(Item::Event(e)) => Some(e),
                Ok(Item::Comment(c)) => { assert_eq!(&c[..], b"ping"); None }
                Err(e) => panic!("{e}"),
            })
            .collect();
        prop_assert_eq!(got.len(), events.len());
        let mut id = String::new();
        for (g, e) in got.iter().zip(&events) {
            if let Some(i) = &e.id { id.clone_from(i); }
            let want_type = e.event.as_deref().filter(|t| !t.is_empty()).unwrap_or("message");
            prop_assert_eq!(g.event_type(), want_type);
            prop_assert_eq!(g.data(), e.data.as_str());
            prop_assert_eq!(g.last_event_id(), id.as_str());
            prop_assert_eq!(g.retry(), e.retry);
        }
        prop_assert_eq!(last_id, id);
        prop_assert_eq!(retry, events.iter().rev().find_map(|e| e.retry));
    }

    #[test]
    fn cr_and_crlf_in_data_decode_as_lf(
        data in proptest::string::string_regex("[ab\r\n]{0,16}").expect("regex"),
        le in line_ending(),
    ) {
        let mut wire = BytesMut::new();
        let ev = OutgoingEvent { data: &data, ..OutgoingEvent::default() };
        Encoder::with_line_ending(le).encode_event(&ev, &mut wire).expect("valid");
        let (items, _, _) = decode(DecoderLimits::default(), &wire.freeze(), &[]);
        let want = data.replace("\r\n", "\n").replace('\r', "\n");
        match items.as_slice() {
            [Ok(Item::Event(e))] => prop_assert_eq!(e.data(), want.as_str()),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn any_chunking_gives_the_same_items(
        input in sse_ish_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let input = Bytes::from(input);
        for limits in [
            DecoderLimits::default(),
            DecoderLimits { max_line_bytes: 16, max_event_bytes: 24 },
            // An event bound below the line bound: a single `data:` line kept in place in its
            // chunk (the fast path) can hit the event bound on its own.
            DecoderLimits { max_line_bytes: 24, max_event_bytes: 8 },
        ] {
            let whole = decode(limits, &input, &[]);
            let chunked = decode(limits, &input, &cuts);
            prop_assert_eq!(&whole, &chunked);
            let bytewise: Vec<usize> = (1..input.len()).collect();
            prop_assert_eq!(&whole, &decode(limits, &input, &bytewise));
        }
    }
}
