//! `mcp-sse sse-decode`: decodes a `text/event-stream` body from stdin and writes one JSON object
//! per dispatched event to stdout: `{"type":…,"data":…,"id":…,"retry":null|int}` (the meanings of
//! the conformance vectors' `events`). Comments are not printed. Decode errors (limits exceeded)
//! are reported on stderr and decoding continues.

use std::io::{Read, Write};

use bytes::Bytes;
use mcp_sse_core::sse::{Decoder, Item};

/// Size of each read from stdin.
const READ_BYTES: usize = 8 * 1024;

/// Runs the subcommand until stdin reaches end of file.
pub fn run() -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    decode(stdin.lock(), stdout.lock())
}

/// Decodes `input` to EOF, writing one JSON line per event to `output`.
pub fn decode(mut input: impl Read, output: impl Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(output);
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; READ_BYTES];
    loop {
        let n = match input.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            decoder.handle_eof();
        } else {
            decoder.handle_bytes(Bytes::copy_from_slice(buf.get(..n).unwrap_or_default()));
        }
        drain(&mut decoder, &mut out)?;
        out.flush()?;
        if n == 0 {
            return Ok(());
        }
    }
}

/// One output line: a struct, so the fields keep this order whatever serde_json's map order.
#[derive(serde::Serialize)]
struct EventLine<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    data: &'a str,
    id: &'a str,
    retry: Option<u64>,
}

fn drain(decoder: &mut Decoder, out: &mut impl Write) -> std::io::Result<()> {
    loop {
        match decoder.poll_item() {
            Ok(Some(Item::Event(e))) => {
                let line = EventLine {
                    kind: e.event_type(),
                    data: e.data(),
                    id: e.last_event_id(),
                    retry: e.retry(),
                };
                serde_json::to_writer(&mut *out, &line)?;
                out.write_all(b"\n")?;
            }
            Ok(Some(Item::Comment(_))) => {}
            Ok(None) => return Ok(()),
            Err(e) => eprintln!("sse-decode: {e}"),
        }
    }
}
