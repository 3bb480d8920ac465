//! Runs the shared SSE conformance vectors (`../shared/conformance/sse-vectors.json`) through
//! [`mcp_sse_core::sse::Decoder`]: whole, one byte at a time, split at every position (inputs under
//! 200 bytes) and in seeded random partitions (empty chunks included).

use base64::Engine as _;
use bytes::Bytes;
use mcp_sse_core::sse::{DecodeError, Decoder, DecoderLimits, Item};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/conformance/sse-vectors.json"
);

#[derive(serde::Deserialize)]
struct Vector {
    name: String,
    input_b64: String,
    events: Vec<Expected>,
    final_last_event_id: String,
    final_retry: Option<u64>,
    #[serde(default)]
    generator: Option<Generator>,
}

#[derive(serde::Deserialize, Clone, Debug, PartialEq)]
struct Expected {
    r#type: String,
    data: String,
    id: String,
    retry: Option<u64>,
}

#[derive(serde::Deserialize)]
struct Generator {
    input: Vec<Part>,
    event_data: Vec<Option<Vec<Part>>>,
}

#[derive(serde::Deserialize)]
struct Part {
    b64: String,
    repeat: usize,
}

/// What the decoder reported for one run.
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Expected>,
    final_last_event_id: String,
    final_retry: Option<u64>,
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_else(|e| panic!("bad base64 {s:?}: {e}"))
}

fn parts(list: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in list {
        let bytes = b64(&p.b64);
        for _ in 0..p.repeat {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

fn load() -> Vec<(String, Bytes, Outcome)> {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| {
        panic!(
            "cannot read the SSE conformance vectors at {VECTORS}: {e}. They live beside the \
             project root in ../shared/conformance/ and must not be copied into the project."
        )
    });
    let vectors: Vec<Vector> = serde_json::from_str(&text).expect("sse-vectors.json parses");
    assert!(!vectors.is_empty(), "sse-vectors.json holds no vectors");
    vectors
        .into_iter()
        .map(|v| {
            let mut events = v.events;
            let input = match &v.generator {
                None => b64(&v.input_b64),
                Some(g) => {
                    assert_eq!(g.event_data.len(), events.len(), "{}: event_data", v.name);
                    for (ev, data) in events.iter_mut().zip(&g.event_data) {
                        if let Some(list) = data {
                            ev.data = String::from_utf8(parts(list)).expect("event_data is UTF-8");
                        }
                    }
                    parts(&g.input)
                }
            };
            let expected = Outcome {
                events,
                final_last_event_id: v.final_last_event_id,
                final_retry: v.final_retry,
            };
            (v.name, Bytes::from(input), expected)
        })
        .collect()
}

/// Feeds `input` split at the (sorted) `cuts` and collects the outcome.
fn run(input: &Bytes, cuts: impl IntoIterator<Item = usize>) -> Outcome {
    let mut d = Decoder::new();
    let mut events = Vec::new();
    let mut drain = |d: &mut Decoder| loop {
        match d.poll_item() {
            Ok(Some(Item::Event(e))) => events.push(Expected {
                r#type: e.event_type().to_owned(),
                data: e.data().to_owned(),
                id: e.last_event_id().to_owned(),
                retry: e.retry(),
            }),
            Ok(Some(Item::Comment(c))) => {
                assert!(std::str::from_utf8(&c).is_ok(), "comments are UTF-8");
            }
            Ok(None) => break,
            Err(e) => panic!("unexpected decode error with default limits: {e}"),
        }
    };
    let mut start = 0;
    for cut in cuts {
        d.handle_bytes(input.slice(start..cut));
        drain(&mut d);
        start = cut;
    }
    d.handle_bytes(input.slice(start..));
    drain(&mut d);
    d.handle_eof();
    drain(&mut d);
    assert_eq!(d.buffered_bytes(), 0, "nothing held after end of input");
    Outcome {
        events,
        final_last_event_id: d.last_event_id().to_owned(),
        final_retry: d.retry(),
    }
}

/// xorshift64*: a tiny seeded generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_cuts(rng: &mut Rng, len: usize) -> Vec<usize> {
    let count = rng.below(len.min(64) + 2);
    let mut cuts: Vec<usize> = (0..count).map(|_| rng.below(len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

fn check(failures: &mut Vec<String>, name: &str, how: &str, got: Outcome, want: &Outcome) {
    if &got != want {
        let mut msg = format!("{name} ({how}):\n  want {want:?}\n  got  {got:?}");
        msg.truncate(2000);
        failures.push(msg);
    }
}

#[test]
fn every_vector_every_chunking() {
    let vectors = load();
    let mut failures = Vec::new();
    let mut rng = Rng(0x05EE_D0F5_5E00);
    let mut runs = 0usize;
    for (name, input, want) in &vectors {
        check(&mut failures, name, "whole", run(input, []), want);
        check(
            &mut failures,
            name,
            "byte by byte",
            run(input, 1..input.len()),
            want,
        );
        runs += 2;
        if input.len() < 200 {
            for cut in 0..=input.len() {
                check(
                    &mut failures,
                    name,
                    &format!("split at {cut}"),
                    run(input, [cut]),
                    want,
                );
                runs += 1;
            }
        }
        let partitions = if input.len() > 100_000 { 4 } else { 32 };
        for _ in 0..partitions {
            let cuts = random_cuts(&mut rng, input.len());
            let how = format!("random cuts {cuts:?}");
            check(&mut failures, name, &how, run(input, cuts), want);
            runs += 1;
        }
        if failures.len() > 20 {
            break;
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing runs (of {runs}):\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{} vectors, {runs} runs", vectors.len());
}

/// With small limits, the big vectors hit typed errors, the decoder never holds more than the
/// limits allow, and it keeps going afterwards.
#[test]
fn small_limits_give_typed_errors_and_bounded_memory() {
    let limits = DecoderLimits {
        max_line_bytes: 4096,
        max_event_bytes: 16 * 1024,
    };
    let mut saw_line = false;
    let mut saw_event = false;
    for (name, input, _) in load() {
        let mut d = Decoder::with_limits(limits);
        let mut start = 0;
        while start < input.len() {
            let end = (start + 8192).min(input.len());
            d.handle_bytes(input.slice(start..end));
            start = end;
            loop {
                match d.poll_item() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(DecodeError::LineTooLong { limit }) => {
                        assert_eq!(limit, 4096);
                        saw_line = true;
                    }
                    Err(DecodeError::EventTooLarge { limit }) => {
                        assert_eq!(limit, 16 * 1024);
                        saw_event = true;
                    }
                }
            }
            let bound = limits.max_line_bytes + limits.max_event_bytes + 3;
            assert!(
                d.buffered_bytes() <= bound,
                "{name}: {}",
                d.buffered_bytes()
            );
        }
        d.handle_eof();
        while let Ok(Some(_)) | Err(_) = d.poll_item() {}
        assert_eq!(d.buffered_bytes(), 0);
    }
    assert!(
        saw_line && saw_event,
        "the long vectors exercise both limits"
    );
}
