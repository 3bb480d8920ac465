//! How the server transport's answers reach the wire: over its own HTTP/1.1 connection machine
//! ([`ServerConnection`]), or handed to a host HTTP server (hyper, mounted in an axum app) that
//! parses requests and frames responses itself ([`HostResponse`]).
//!
//! The answers themselves (statuses, bodies, headers and their order, the SSE events) are the
//! transport's and identical on both; only the HTTP/1.1 framing differs. With a host:
//! - a whole answer becomes a [`HostResponse`] with [`HostBody::Full`]; the host writes
//!   `content-length` and the connection headers itself;
//! - a stream becomes a [`HostResponse`] with [`HostBody::Stream`], whose body frames (each one
//!   complete SSE event, not chunk-framed) are taken with
//!   [`Server::poll_transmit`](super::Server::poll_transmit) as for a connection;
//! - keep-alive, pipelining, the head and keep-alive timeouts are the host's.

use std::time::Instant;

use bytes::{Bytes, BytesMut};

use crate::http::{self, HttpError, OutQueue, ResponseHead, ServerConnection};
use crate::sse::{Encoder, OutgoingEvent};

/// A reply computed from a request head, sent once the body has been read.
#[derive(Debug, Clone)]
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: &'static str,
}

impl Reply {
    pub(super) fn plain(status: u16, body: &'static str) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// This reply for a host server: the same status, headers and body, less its framing.
    fn for_host(&self) -> HostResponse {
        let mut headers = self.headers.clone();
        headers.retain(|(k, _)| !is_hop_by_hop(k));
        HostResponse {
            status: self.status,
            headers,
            body: HostBody::Full(Bytes::from_static(self.body.as_bytes())),
        }
    }
}

/// The SSE stream's response headers, in the reference's order (the last two are HTTP/1.1
/// framing, which a host writes itself).
const SSE_HEADERS: [(&str, &str); 5] = [
    ("cache-control", "no-store"),
    ("connection", "keep-alive"),
    ("x-accel-buffering", "no"),
    ("content-type", "text/event-stream; charset=utf-8"),
    ("Transfer-Encoding", "chunked"),
];

/// Whether an SSE header is about HTTP/1.1 framing (left to a host server).
fn is_hop_by_hop(name: &str) -> bool {
    name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("transfer-encoding")
}

/// A response for a host HTTP server to send: the status and headers the transport decided, in
/// its order, and either a whole body or a stream of SSE events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostResponse {
    /// The status code.
    pub status: u16,
    /// The headers, in the reference's order, without `content-length`, `connection` and
    /// `transfer-encoding` (the host's framing).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: HostBody,
}

/// The body of a [`HostResponse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostBody {
    /// The whole body (possibly empty).
    Full(Bytes),
    /// An SSE stream: take its frames with [`Server::poll_transmit`](super::Server::poll_transmit)
    /// until [`Server::wants_close`](super::Server::wants_close) says it ended.
    Stream,
}

/// One request of a host server, from its head to the end of its answer.
#[derive(Debug)]
pub(super) struct HostExchange {
    response: Option<HostResponse>,
    state: ExchangeState,
    body_bytes: usize,
    /// A stream's frames.
    out: OutQueue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExchangeState {
    /// The request (its body) is arriving or awaits its answer.
    Request,
    /// The answer is an SSE stream under way.
    Streaming,
    /// Answered (or the stream ended): finished once the response and the frames are taken.
    Done,
}

impl HostExchange {
    pub(super) fn new() -> Self {
        HostExchange {
            response: None,
            state: ExchangeState::Request,
            body_bytes: 0,
            out: OutQueue::default(),
        }
    }

    /// Counts body bytes against `limit`; `Err` once past it.
    pub(super) fn count_body(&mut self, len: usize, limit: usize) -> Result<(), HttpError> {
        self.body_bytes = self.body_bytes.saturating_add(len);
        if self.body_bytes > limit {
            return Err(HttpError::BodyTooLarge { limit });
        }
        Ok(())
    }

    pub(super) fn take_response(&mut self) -> Option<HostResponse> {
        let r = self.response.take();
        if r.is_some() {
            // The next frame (or the end) is told again.
            self.out.rearm();
        }
        r
    }

    fn answer(&mut self, response: HostResponse) {
        if self.state == ExchangeState::Request {
            self.response = Some(response);
            self.out.wake();
        }
    }

    fn push(&mut self, bytes: Bytes) {
        self.out.push(bytes);
    }

    fn wake(&mut self) {
        self.out.wake();
    }
}

/// A connection's framing: ours, or a host server's.
// The whole connection is boxed in the server's table, and the big variant is the common one:
// boxing it again would cost an allocation per connection for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(super) enum Framing {
    /// Our HTTP/1.1 machine over a byte stream.
    Http1(ServerConnection),
    /// A host server's single request.
    Host(HostExchange),
}

impl Framing {
    /// Answers the request in flight with `reply` (a whole response).
    pub(super) fn respond(&mut self, now: Instant, reply: &Reply) {
        match self {
            Framing::Http1(c) => c.respond_with(now, |keep_alive| {
                if keep_alive && reply.status == 202 && reply.headers.is_empty() {
                    Bytes::from_static(ACCEPTED_KEEP_ALIVE)
                } else {
                    encode_reply(reply, keep_alive)
                }
            }),
            Framing::Host(x) => {
                x.answer(reply.for_host());
                x.state = ExchangeState::Done;
            }
        }
    }

    /// Answers an error the request produced (the reply chosen for it) and ends the requests.
    pub(super) fn fail(&mut self, err: &HttpError, reply: &Reply) {
        match self {
            Framing::Http1(c) => c.fail_with(err, |keep_alive| encode_reply(reply, keep_alive)),
            Framing::Host(x) => {
                if !matches!(err, HttpError::UnexpectedEof) {
                    x.answer(reply.for_host());
                }
                x.state = ExchangeState::Done;
                x.wake();
            }
        }
    }

    /// Answers a `HEAD` of the SSE path: the stream's head alone.
    pub(super) fn respond_stream_head(
        &mut self,
        now: Instant,
        extra_headers: Vec<(&'static str, String)>,
    ) {
        match self {
            Framing::Http1(c) => {
                let out = encode_sse_head(extra_headers);
                c.respond_with(now, |_| out.freeze());
            }
            Framing::Host(x) => {
                x.answer(host_sse_response(
                    extra_headers,
                    HostBody::Full(Bytes::new()),
                ));
                x.state = ExchangeState::Done;
            }
        }
    }

    /// Starts the SSE stream with its head and the first event.
    pub(super) fn start_stream(
        &mut self,
        extra_headers: Vec<(&'static str, String)>,
        encoder: &Encoder,
        first: &OutgoingEvent<'_>,
    ) {
        match self {
            Framing::Http1(c) => {
                let head = encode_sse_head(extra_headers);
                // A fixed event name and a quoted path: encoding cannot fail (if it did, the
                // head would go out alone and the client would report a missing endpoint).
                let _ = c.start_stream_with_chunk(head, encoder.encoded_len(first), |buf| {
                    encoder.encode_event(first, buf)
                });
            }
            Framing::Host(x) => {
                x.answer(host_sse_response(extra_headers, HostBody::Stream));
                x.state = ExchangeState::Streaming;
                send_host_event(x, encoder, first);
            }
        }
    }

    /// Queues one SSE event on the stream. An event that cannot be encoded (never: a fixed name
    /// and data of any lines) is dropped whole.
    pub(super) fn send_event(&mut self, encoder: &Encoder, ev: &OutgoingEvent<'_>) {
        match self {
            Framing::Http1(c) => {
                let _ =
                    c.send_chunk_with(encoder.encoded_len(ev), |out| encoder.encode_event(ev, out));
            }
            Framing::Host(x) => {
                if x.state == ExchangeState::Streaming {
                    send_host_event(x, encoder, ev);
                }
            }
        }
    }

    /// Queues an encoded comment (a keep-alive ping) on the stream.
    pub(super) fn send_comment(&mut self, comment: Bytes) {
        match self {
            Framing::Http1(c) => {
                let _: Result<(), ()> = c.send_chunk_with(comment.len(), |out| {
                    out.extend_from_slice(&comment);
                    Ok(())
                });
            }
            Framing::Host(x) => {
                if x.state == ExchangeState::Streaming {
                    x.push(comment);
                }
            }
        }
    }

    /// The bytes `comment` takes in the queue once framed.
    pub(super) fn framed_len(&self, len: usize) -> usize {
        match self {
            Framing::Http1(_) => http::chunk_len(len),
            Framing::Host(_) => len,
        }
    }

    /// Ends the stream (the last chunk on HTTP/1.1; the end of the body for a host).
    pub(super) fn finish_stream(&mut self) {
        match self {
            Framing::Http1(c) => c.finish_stream(),
            Framing::Host(x) => {
                x.state = ExchangeState::Done;
                x.wake();
            }
        }
    }

    /// Closes after the answer in flight (a server shutdown).
    pub(super) fn close_after_response(&mut self) {
        match self {
            Framing::Http1(c) => c.close_after_response(),
            // One request per exchange: its answer ends it anyway.
            Framing::Host(_) => {}
        }
    }

    /// Closes now, answering nothing more.
    pub(super) fn close(&mut self) {
        match self {
            Framing::Http1(c) => c.close(),
            Framing::Host(x) => {
                x.state = ExchangeState::Done;
                x.wake();
            }
        }
    }

    pub(super) fn poll_transmit(&mut self) -> Option<Bytes> {
        match self {
            Framing::Http1(c) => c.poll_transmit(),
            Framing::Host(x) => {
                if x.response.is_some() && x.out.is_empty() {
                    // The answer itself is still to be taken: keep the wake-up it caused.
                    return None;
                }
                x.out.pop()
            }
        }
    }

    pub(super) fn queued_bytes(&self) -> usize {
        match self {
            Framing::Http1(c) => c.queued_bytes(),
            Framing::Host(x) => x.out.queued_bytes(),
        }
    }

    pub(super) fn is_backed_up(&self) -> bool {
        match self {
            Framing::Http1(c) => c.is_backed_up(),
            Framing::Host(_) => false,
        }
    }

    pub(super) fn wants_read(&self) -> bool {
        match self {
            Framing::Http1(c) => c.wants_read(),
            Framing::Host(_) => true,
        }
    }

    pub(super) fn wants_close(&self) -> bool {
        match self {
            Framing::Http1(c) => c.wants_close(),
            Framing::Host(x) => {
                x.state == ExchangeState::Done && x.response.is_none() && x.out.is_empty()
            }
        }
    }

    pub(super) fn is_closing(&self) -> bool {
        match self {
            Framing::Http1(c) => c.is_closing(),
            Framing::Host(x) => x.state == ExchangeState::Done,
        }
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        match self {
            Framing::Http1(c) => c.deadline(),
            // The host's timeouts apply.
            Framing::Host(_) => None,
        }
    }

    pub(super) fn handle_timeout(&mut self, now: Instant) {
        if let Framing::Http1(c) = self {
            c.handle_timeout(now, || {
                encode_reply(&Reply::plain(408, "Request Timeout"), false)
            });
        }
    }

    pub(super) fn take_wakeup(&mut self) -> bool {
        match self {
            Framing::Http1(c) => c.take_wakeup(),
            Framing::Host(x) => x.out.take_wakeup(),
        }
    }
}

fn send_host_event(x: &mut HostExchange, encoder: &Encoder, ev: &OutgoingEvent<'_>) {
    let mut out = BytesMut::with_capacity(encoder.encoded_len(ev));
    if encoder.encode_event(ev, &mut out).is_ok() {
        x.push(out.freeze());
    }
}

fn host_sse_response(extra_headers: Vec<(&'static str, String)>, body: HostBody) -> HostResponse {
    let mut headers: Vec<(&'static str, String)> = SSE_HEADERS
        .iter()
        .filter(|(k, _)| !is_hop_by_hop(k))
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    headers.extend(extra_headers);
    HostResponse {
        status: 200,
        headers,
        body,
    }
}

fn encode_sse_head(extra_headers: Vec<(&'static str, String)>) -> BytesMut {
    let mut out = BytesMut::with_capacity(512);
    let mut rh = ResponseHead::new(200, "OK");
    for (k, v) in SSE_HEADERS {
        rh.headers.push(k, Bytes::from_static(v.as_bytes()));
    }
    for (k, v) in extra_headers {
        rh.headers.push(k, v);
    }
    rh.encode(&mut out);
    out
}

/// The `202` a delivered message gets on a kept-alive connection, as [`encode_reply`] writes it
/// (a test checks they agree): sent once per client message, so it is not re-encoded each time.
const ACCEPTED_KEEP_ALIVE: &[u8] = b"HTTP/1.1 202 Accepted\r\ncontent-length: 8\r\n\r\nAccepted";

/// `reply` as HTTP/1.1 bytes, headers in Starlette's order.
pub(super) fn encode_reply(reply: &Reply, keep_alive: bool) -> Bytes {
    let mut head = ResponseHead::new(reply.status, http::reason_phrase(reply.status));
    let mut pushed_length = false;
    for (k, v) in &reply.headers {
        // Starlette writes content-length before content-type; `allow` and `location` around it
        // as in the captures.
        if (*k == "content-type" || *k == "location") && !pushed_length {
            head.headers
                .push("content-length", reply.body.len().to_string());
            pushed_length = true;
        }
        head.headers.push(*k, v.clone());
    }
    if !pushed_length {
        head.headers
            .push("content-length", reply.body.len().to_string());
    }
    if !keep_alive {
        head.headers.push("Connection", "close");
    }
    let mut out = BytesMut::with_capacity(128 + reply.body.len());
    head.encode(&mut out);
    out.extend_from_slice(reply.body.as_bytes());
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_202_is_what_the_reply_encoder_writes() {
        let accepted = Reply::plain(202, "Accepted");
        assert_eq!(&encode_reply(&accepted, true)[..], ACCEPTED_KEEP_ALIVE);
    }

    #[test]
    fn a_host_gets_the_same_answer_without_the_http1_framing() {
        let mut f = Framing::Host(HostExchange::new());
        let mut r = Reply::plain(405, "Method Not Allowed");
        r.headers.push(("allow", "HEAD, GET".into()));
        r.headers
            .push(("content-type", "text/plain; charset=utf-8".into()));
        f.respond(Instant::now(), &r);
        assert!(f.take_wakeup());
        let Framing::Host(x) = &mut f else {
            unreachable!()
        };
        let resp = x.take_response().expect("answered");
        assert_eq!(resp.status, 405);
        assert_eq!(
            resp.headers,
            vec![
                ("allow", "HEAD, GET".to_string()),
                ("content-type", "text/plain; charset=utf-8".to_string())
            ]
        );
        assert_eq!(
            resp.body,
            HostBody::Full(Bytes::from_static(b"Method Not Allowed"))
        );
        assert!(f.wants_close());
    }

    #[test]
    fn a_host_stream_carries_whole_events_unframed() {
        let mut f = Framing::Host(HostExchange::new());
        let enc = Encoder::new();
        let ev = |data| OutgoingEvent {
            id: None,
            event: Some("message"),
            data,
            retry: None,
        };
        f.start_stream(Vec::new(), &enc, &ev("{}"));
        f.send_event(&enc, &ev("[1]"));
        let Framing::Host(x) = &mut f else {
            unreachable!()
        };
        let resp = x.take_response().expect("answered");
        assert_eq!(resp.body, HostBody::Stream);
        assert_eq!(resp.headers[0], ("cache-control", "no-store".to_string()));
        assert!(!resp.headers.iter().any(|(k, _)| is_hop_by_hop(k)));
        assert_eq!(
            f.poll_transmit(),
            Some(Bytes::from_static(b"event: message\r\ndata: {}\r\n\r\n"))
        );
        assert_eq!(
            f.poll_transmit(),
            Some(Bytes::from_static(b"event: message\r\ndata: [1]\r\n\r\n"))
        );
        assert!(!f.wants_close());
        f.finish_stream();
        assert!(f.wants_close());
    }
}
