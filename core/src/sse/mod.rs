//! Server-sent events (`text/event-stream`): an incremental WHATWG-exact [`Decoder`] and an
//! [`Encoder`] that writes the same bytes as sse-starlette (the Python SDK's SSE library).
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use mcp_sse_core::sse::{Decoder, Encoder, Item, OutgoingEvent};
//!
//! let mut wire = BytesMut::new();
//! let ev = OutgoingEvent { id: None, event: Some("message"), data: r#"{"jsonrpc":"2.0"}"#, retry: None };
//! Encoder::new().encode_event(&ev, &mut wire).unwrap();
//! assert_eq!(&wire[..], b"event: message\r\ndata: {\"jsonrpc\":\"2.0\"}\r\n\r\n");
//!
//! let mut decoder = Decoder::new();
//! decoder.handle_bytes(wire.freeze());
//! let Some(Item::Event(e)) = decoder.poll_item().unwrap() else { panic!() };
//! assert_eq!((e.event_type(), e.data()), ("message", r#"{"jsonrpc":"2.0"}"#));
//! ```

pub mod decoder;
pub mod encoder;

pub use decoder::{
    DecodeError, Decoder, DecoderLimits, Event, Item, DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_LINE_BYTES,
};
pub use encoder::{EncodeError, Encoder, LineEnding, OutgoingEvent};
