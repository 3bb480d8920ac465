//! HTTP/1.1 message framing as sans-IO state machines: bytes in, events out.
//!
//! - [`RequestDecoder`] (server side) turns the bytes of one connection into
//!   [`RequestEvent`]s: a [`RequestHead`], the body in pieces, `End`, then the next request.
//! - [`ServerConnection`] (server side) is one connection's HTTP/1.1 semantics on top of it:
//!   keep-alive, pipelining one answer at a time, read backpressure, streamed (chunked)
//!   answers, the close rules and the head-read / keep-alive deadlines.
//! - [`ResponseDecoder`] (client side) does the same for responses, matched FIFO with the
//!   [`ResponseExpectation`] registered for each request sent.
//! - [`RequestHead::encode`], [`ResponseHead::encode`] and [`encode_chunk`] /
//!   [`encode_chunk_header`] / [`encode_last_chunk`] write messages.
//!
//! Heads are parsed with `httparse` once their blank line has been found (scanned with
//! `memchr`, each byte once, however the input is split). Body bytes are handed out as
//! zero-copy slices of the input. Every buffer is bounded by [`Limits`]; every violation is a
//! typed [`HttpError`] carrying the status a server answers it with.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use mcp_sse_core::http::{
//!     encode_chunk, reason_phrase, Limits, RequestDecoder, RequestEvent, ResponseHead,
//! };
//!
//! let mut decoder = RequestDecoder::new(Limits::default());
//! decoder.handle_bytes(Bytes::from_static(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8766\r\n\r\n"));
//! let Ok(Some(RequestEvent::Head(request))) = decoder.poll_event() else { panic!() };
//! assert_eq!(request.path(), "/sse");
//!
//! let mut head = ResponseHead::new(200, reason_phrase(200));
//! head.headers.push("content-type", "text/event-stream; charset=utf-8");
//! head.headers.push("Transfer-Encoding", "chunked");
//! let mut out = BytesMut::new();
//! head.encode(&mut out);
//! encode_chunk(b"event: endpoint\r\ndata: /messages/?session_id=0\r\n\r\n", &mut out);
//! assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"));
//! ```

mod body;
pub mod chunked;
pub mod error;
pub(crate) mod framing;
pub mod head;
mod head_reader;
pub mod headers;
mod input;
pub mod limits;
pub mod out_queue;
pub mod request_decoder;
pub mod response_decoder;
pub mod server_connection;

pub use chunked::{chunk_len, encode_chunk, encode_chunk_header, encode_last_chunk};
pub use error::{reason_phrase, HttpError};
pub use head::{RequestHead, ResponseHead, Version};
pub use headers::{HeaderName, Headers};
pub use limits::{
    Limits, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CHUNK_LINE_BYTES, DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_HEAD_BYTES,
};
pub use out_queue::OutQueue;
pub use request_decoder::{RequestDecoder, RequestEvent};
pub use response_decoder::{ResponseDecoder, ResponseEvent, ResponseExpectation};
pub use server_connection::{ConnectionConfig, ServerConnection};
