//! Reads `shared/spec/wire-capture.txt`: blocks of exact bytes per connection.

#![allow(dead_code)]

use std::path::PathBuf;

/// One `-----` block: direction, tag and exact bytes.
#[derive(Debug, Clone)]
pub struct Block {
    pub client_to_server: bool,
    pub tag: String,
    pub bytes: Vec<u8>,
    pub eof: bool,
}

pub fn capture_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/spec/wire-capture.txt"
    ))
}

pub fn read_capture() -> String {
    let p = capture_path();
    std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!(
            "cannot read {} (shared/ must sit beside the project root): {e}",
            p.display()
        )
    })
}

/// The text of one `PART X` section.
pub fn part(text: &str, name: &str) -> String {
    let start = text
        .find(&format!("################ PART {name} ################"))
        .expect("part present");
    let rest = &text[start..];
    let body_start = rest.find('\n').map_or(rest.len(), |i| i + 1);
    let rest = &rest[body_start..];
    let end = rest.find("################ PART ").unwrap_or(rest.len());
    rest[..end].to_string()
}

/// Decodes one physical line of the capture notation: a trailing `\n` escape is LF, a `\r`
/// right before it is CR; everything else is literal.
fn decode_line(line: &str, out: &mut Vec<u8>) {
    if let Some(body) = line.strip_suffix("\\n") {
        if let Some(body) = body.strip_suffix("\\r") {
            out.extend_from_slice(body.as_bytes());
            out.extend_from_slice(b"\r\n");
        } else {
            out.extend_from_slice(body.as_bytes());
            out.push(b'\n');
        }
    } else {
        out.extend_from_slice(line.as_bytes());
    }
}

/// Parses the blocks of a section (parts A–C notation), checking each block's byte count.
pub fn blocks(section: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut current: Option<(Block, usize)> = None;
    let finish = |cur: Option<(Block, usize)>, out: &mut Vec<Block>| {
        if let Some((b, n)) = cur {
            assert_eq!(
                b.bytes.len(),
                n,
                "capture block {:?} decodes to {} bytes, header says {n}",
                b.tag,
                b.bytes.len()
            );
            out.push(b);
        }
    };
    for line in section.lines() {
        if let Some(rest) = line.strip_prefix("----- ") {
            finish(current.take(), &mut out);
            let c2s = rest.starts_with("C->S");
            let tag_start = rest.find(['[', '#']).expect("tag");
            let close = if rest[tag_start..].starts_with('[') {
                ']'
            } else {
                ' '
            };
            let tag_end = rest[tag_start + 1..]
                .find(close)
                .map_or(rest.len(), |i| tag_start + 1 + i);
            let tag = rest[tag_start + 1..tag_end].to_string();
            let n: usize = rest
                .rsplit_once('(')
                .and_then(|(_, r)| r.split_whitespace().next())
                .and_then(|x| x.parse().ok())
                .expect("byte count");
            let eof = rest.contains(" EOF ");
            current = Some((
                Block {
                    client_to_server: c2s,
                    tag,
                    bytes: Vec::new(),
                    eof,
                },
                n,
            ));
        } else if line.starts_with("=====") || line.starts_with('#') || line.starts_with('$') {
            finish(current.take(), &mut out);
        } else if let Some((b, _)) = current.as_mut() {
            decode_line(line, &mut b.bytes);
        }
    }
    finish(current.take(), &mut out);
    out
}

/// Removes `date:` and `server:` header lines from an HTTP response head.
pub fn strip_date_server(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let Some(head_end) = text.find("\r\n\r\n") else {
        return bytes.to_vec();
    };
    let (head, body) = text.split_at(head_end);
    let kept: Vec<&str> = head
        .split("\r\n")
        .filter(|l| {
            !l.to_ascii_lowercase().starts_with("date:")
                && !l.to_ascii_lowercase().starts_with("server:")
        })
        .collect();
    let mut s = kept.join("\r\n");
    s.push_str(body);
    s.into_bytes()
}

/// Part D's curl transcripts: each `$ curl …` line and the response bytes that follow (lines
/// ending in `\r` are CRLF-terminated; the last line is the body, unterminated).
pub fn curl_cases(section: &str) -> Vec<(String, Vec<u8>)> {
    let mut cases = Vec::new();
    let mut cur: Option<(String, Vec<String>)> = None;
    for line in section.lines() {
        if let Some(cmd) = line.strip_prefix("$ ") {
            if let Some(c) = cur.take() {
                cases.push(c);
            }
            cur = Some((cmd.to_string(), Vec::new()));
        } else if let Some((_, lines)) = cur.as_mut() {
            lines.push(line.to_string());
        }
    }
    if let Some(c) = cur.take() {
        cases.push(c);
    }
    cases
        .into_iter()
        .map(|(cmd, lines)| {
            let mut bytes = Vec::new();
            for l in &lines {
                if let Some(h) = l.strip_suffix("\\r") {
                    bytes.extend_from_slice(h.as_bytes());
                    bytes.extend_from_slice(b"\r\n");
                } else if !l.is_empty() {
                    bytes.extend_from_slice(l.as_bytes());
                }
            }
            (cmd, bytes)
        })
        .collect()
}
