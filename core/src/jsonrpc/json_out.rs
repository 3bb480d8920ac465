//! Compact JSON output of strings and [`Value`]s, byte-identical to `serde_json::to_writer`.
//!
//! serde_json escapes a string one byte at a time through a 256-entry table; for the large text
//! contents MCP tools return (a 1 MiB `tools/call` echo writes its text twice per round trip) that
//! scan was over half of the round trip. Here the bytes that need no escape are found a word at a
//! time (SWAR: eight bytes per `u64`, four words per step) and copied in bulk.
//!
//! The escaping rules are serde_json's: `"` → `\"`, `\` → `\\`, U+0008 → `\b`, U+000C → `\f`,
//! LF → `\n`, CR → `\r`, TAB → `\t`, every other control character below U+0020 → `\u00xx`
//! (lowercase hex). Everything else, DEL and all non-ASCII included, is written raw.

use serde_json::{Map, Value};

/// `0x0101…01`: one in every byte of a word.
const ONES: u64 = u64::MAX / 255;
/// `0x8080…80`: the top bit of every byte of a word.
const HIGHS: u64 = ONES << 7;

/// A mask with the top bit set in (at least) the lowest byte of `w` that needs escaping (`"`,
/// `\` or below 0x20), zero if no byte does.
///
/// Mycroft's "has a byte less than n" test, `(w - n·ONES) & !w & HIGHS`, is exact for n ≤ 0x80
/// about whether such a byte exists; a borrow can only set bits *above* a true match, so in a
/// little-endian word the lowest set bit always marks the first match.
#[inline(always)]
fn escape_mask(w: u64) -> u64 {
    let ctrl = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let b = w ^ (ONES * u64::from(b'\\'));
    let backslash = b.wrapping_sub(ONES) & !b;
    (ctrl | quote | backslash) & HIGHS
}

#[inline(always)]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Reads eight bytes starting at the front of `chunk` as a little-endian word (`chunk` holds at
/// least eight bytes at every call site; a shorter one reads as a word needing no escape, which
/// the byte-wise tail then covers).
#[inline(always)]
fn word(chunk: &[u8]) -> u64 {
    chunk
        .first_chunk::<8>()
        .map_or(0, |b| u64::from_le_bytes(*b))
}

/// Index of the first byte of `bytes` that needs escaping.
fn find_escape(bytes: &[u8]) -> Option<usize> {
    let mut pos = 0;
    // 32 bytes per step: four words OR-ed together, one branch.
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        let (a, b, c, d) = (
            escape_mask(word(block)),
            escape_mask(word(block.get(8..).unwrap_or_default())),
            escape_mask(word(block.get(16..).unwrap_or_default())),
            escape_mask(word(block.get(24..).unwrap_or_default())),
        );
        if a | b | c | d != 0 {
            let off = if a != 0 {
                a.trailing_zeros()
            } else if b != 0 {
                64 + b.trailing_zeros()
            } else if c != 0 {
                128 + c.trailing_zeros()
            } else {
                192 + d.trailing_zeros()
            };
            return Some(pos + off as usize / 8);
        }
        pos += 32;
    }
    let rest = blocks.remainder();
    let mut words = rest.chunks_exact(8);
    for w in &mut words {
        let m = escape_mask(word(w));
        if m != 0 {
            return Some(pos + m.trailing_zeros() as usize / 8);
        }
        pos += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| needs_escape(b))
        .map(|i| pos + i)
}

/// Appends the escape sequence of `b` (a byte for which [`needs_escape`] holds).
#[inline]
fn write_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0C => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xF)],
            ]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

/// Appends `s` as a JSON string literal, exactly as `serde_json::to_writer(out, s)` would.
///
/// ```
/// use mcp_sse_core::jsonrpc::write_json_string;
///
/// let mut out = Vec::new();
/// write_json_string(&mut out, "a\"b\\c\nd\u{1}é");
/// assert_eq!(out, serde_json::to_vec("a\"b\\c\nd\u{1}é").unwrap());
/// assert_eq!(out, r#""a\"b\\c\nd\u0001é""#.as_bytes());
/// ```
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    let mut rest = s.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    while let Some(i) = find_escape(rest) {
        let (clean, tail) = rest.split_at(i);
        out.extend_from_slice(clean);
        let Some((&b, after)) = tail.split_first() else {
            break;
        };
        write_escape(out, b);
        rest = after;
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// Appends `map` as a compact JSON object (see [`write_json_value`]).
pub(crate) fn write_json_map(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(b'{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_string(out, k);
        out.push(b':');
        write_json_value(out, v);
    }
    out.push(b'}');
}

/// Appends `value` as compact JSON, exactly as `serde_json::to_writer(out, value)` would (keys in
/// the map's order, numbers in serde_json's formatting, strings as [`write_json_string`]).
///
/// Like serde_json's serializer this recurses once per nesting level; values parsed off the wire
/// are at most 128 levels deep (serde_json's recursion limit).
///
/// ```
/// use mcp_sse_core::jsonrpc::write_json_value;
/// use serde_json::json;
///
/// let v = json!({"z": [1, -2, 0.5, null, true], "a": {"s": "x\ty"}});
/// let mut out = Vec::new();
/// write_json_value(&mut out, &v);
/// assert_eq!(out, serde_json::to_vec(&v).unwrap());
/// ```
pub fn write_json_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            // A `Number` always serializes (it is finite); should it ever fail, `null` is
            // written instead of a partial number.
            let start = out.len();
            if serde_json::to_writer(&mut *out, n).is_err() {
                out.truncate(start);
                out.extend_from_slice(b"null");
            }
        }
        Value::String(s) => write_json_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_value(out, v);
            }
            out.push(b']');
        }
        Value::Object(map) => write_json_map(out, map),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write_json_string(&mut out, s);
        out
    }

    fn serde(v: &impl serde::Serialize) -> Vec<u8> {
        serde_json::to_vec(v).unwrap_or_default()
    }

    #[test]
    fn every_single_char_matches_serde_json() {
        for c in (0u32..0x300).chain([0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF]) {
            let Some(c) = char::from_u32(c) else { continue };
            let s = c.to_string();
            assert_eq!(ours(&s), serde(&s), "char {:?}", c);
        }
    }

    #[test]
    fn escape_at_every_position_of_every_block() {
        // A byte needing escape at each offset of a 70-byte string (crossing the 32- and 8-byte
        // steps and the tail), with all bytes around it clean or also needing escape.
        for special in [b'"', b'\\', 0u8, 0x1F, b'\n', 0x7F, 0x20, 0xC3] {
            for len in [0usize, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 70] {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    // 0xC3 alone is not UTF-8: write "é" (C3 A9) where there is room.
                    let s = match String::from_utf8(bytes.clone()) {
                        Ok(s) => s,
                        Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
                    };
                    assert_eq!(ours(&s), serde(&s), "byte {special:#x} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn borrow_does_not_hide_or_misplace_matches() {
        // Bytes just above the thresholds next to matches (0x20, 0x21, 0x23, 0x5B, 0x5D, 0x80).
        let s = "\u{1f}\u{20}\u{21}\"#[\\]\u{80}\u{0}\u{1}";
        for shift in 0..16 {
            let t = format!("{}{s}{}", "b".repeat(shift), "c".repeat(shift));
            assert_eq!(ours(&t), serde(&t));
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x7f]{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_string_matches_serde_json(s in any::<String>()) {
            prop_assert_eq!(ours(&s), serde(&s));
        }

        #[test]
        fn control_heavy_string_matches_serde_json(
            s in "[\\x00-\\x3f\\\\\"\\x7f\u{80}-\u{10ffff}a-z]{0,200}"
        ) {
            prop_assert_eq!(ours(&s), serde(&s));
        }

        #[test]
        fn any_value_matches_serde_json(v in arb_value()) {
            let mut out = Vec::new();
            write_json_value(&mut out, &v);
            prop_assert_eq!(out, serde(&v));
        }

        #[test]
        fn appends_after_existing_bytes(prefix in prop::collection::vec(any::<u8>(), 0..16), s in any::<String>()) {
            let mut out = prefix.clone();
            write_json_string(&mut out, &s);
            let mut expected = prefix;
            expected.extend_from_slice(&serde(&s));
            prop_assert_eq!(out, expected);
        }
    }
}
