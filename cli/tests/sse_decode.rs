//! Runs `mcp-sse sse-decode` on a small stream and checks stdout exactly.

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn sse_decode_prints_one_json_line_per_event() {
    let input = b"\xEF\xBB\xBFevent: endpoint\r\ndata: /messages/?session_id=ab\r\n\r\n\
: ping - 2026-11-24 00:26:49.932501+00:00\r\n\r\n\
retry: 3000\nid: 7\ndata: a\ndata: \"b\"\n\n\
data: \xFF\rid: 8\ndata: unterminated";
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-sse"))
        .arg("sse-decode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mcp-sse");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{:?}", out);
    assert_eq!(
        String::from_utf8(out.stdout).expect("UTF-8"),
        concat!(
            r#"{"type":"endpoint","data":"/messages/?session_id=ab","id":"","retry":null}"#,
            "\n",
            r#"{"type":"message","data":"a\n\"b\"","id":"7","retry":3000}"#,
            "\n",
        )
    );
    assert!(out.stderr.is_empty());
}
