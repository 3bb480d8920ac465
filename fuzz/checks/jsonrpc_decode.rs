//! Fuzz check for the JSON-RPC codec: `Message::from_slice` never panics on any bytes, and a
//! message that parses survives `write_to` → `from_slice` unchanged, with the second encoding
//! byte-identical to the first.

use mcp_sse_core::jsonrpc::Message;

/// The fuzz entry point.
pub fn check(data: &[u8]) {
    let Ok(message) = Message::from_slice(data) else {
        return;
    };
    let mut first = Vec::new();
    message.write_to(&mut first);
    let reparsed = match Message::from_slice(&first) {
        Ok(m) => m,
        Err(e) => panic!(
            "own encoding does not parse: {e}\n{}",
            String::from_utf8_lossy(&first)
        ),
    };
    assert_eq!(message, reparsed, "round trip changed the message");
    let mut second = Vec::new();
    reparsed.write_to(&mut second);
    assert_eq!(first, second, "second encoding differs");
    assert!(
        !first.contains(&b'\n') && !first.contains(&b'\r'),
        "encoding holds a raw line break"
    );
    assert_eq!(
        message.method().is_some(),
        matches!(message, Message::Request(_) | Message::Notification(_))
    );
}
