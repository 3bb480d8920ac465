//! One server-side HTTP/1.1 connection as a sans-IO machine, in the manner of h11's
//! `Connection(our_role=SERVER)`: bytes in, request events out, responses in, bytes out.
//!
//! It owns what HTTP/1.1 itself decides and nothing about what a request means:
//! - keep-alive and pipelining: requests are handed out one at a time, and the next one only
//!   after the current one has been answered ([`ServerConnection::respond_with`]);
//! - read backpressure: while more than [`ConnectionConfig::max_queued_reply_bytes`] of answers
//!   wait to be written, no further request is handed out and [`ServerConnection::wants_read`]
//!   says no; a peer that keeps sending past one more request's worth is cut off;
//! - framing of answers: a whole response, or a streamed response whose body goes out as chunks
//!   ([`ServerConnection::start_stream`], [`ServerConnection::send_chunk_with`],
//!   [`ServerConnection::finish_stream`]);
//! - the close rules: `Connection: close` asked by the client or forced by the server
//!   ([`ServerConnection::close_after_response`]), the close after an error, after the peer's
//!   end of input, and after a timeout;
//! - the deadlines: the head (and body) read timeout, against slow-loris peers, and the
//!   keep-alive timeout of an idle connection ([`ServerConnection::deadline`]); the `408` a
//!   slow request gets.
//!
//! The order of calls: hand input to [`handle_bytes`](ServerConnection::handle_bytes) /
//! [`handle_eof`](ServerConnection::handle_eof), then call
//! [`poll_request`](ServerConnection::poll_request) until it returns `Ok(None)`, answering each
//! request once its `End` (or earlier) came out; write what
//! [`poll_transmit`](ServerConnection::poll_transmit) returns; close the socket when
//! [`wants_close`](ServerConnection::wants_close) says so. Time is passed in.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bytes::Bytes;
//! use mcp_sse_core::http::{ConnectionConfig, RequestEvent, ServerConnection};
//!
//! let now = Instant::now();
//! let mut conn = ServerConnection::new(ConnectionConfig::default(), now);
//! conn.handle_bytes(Bytes::from_static(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"), now);
//! let mut answered = Vec::new();
//! while let Ok(Some(event)) = conn.poll_request(now) {
//!     match event {
//!         RequestEvent::Head(head) => answered.push(head.path().to_string()),
//!         RequestEvent::Body(_) => {}
//!         RequestEvent::End => conn.respond_with(now, |keep_alive| {
//!             assert!(keep_alive);
//!             Bytes::from_static(b"HTTP/1.1 204 No Content\r\n\r\n")
//!         }),
//!     }
//! }
//! assert_eq!(answered, ["/a", "/b"]);
//! assert_eq!(conn.queued_bytes(), 2 * 27);
//! assert_eq!(conn.deadline(), Some(now + Duration::from_secs(60)));
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::RequestEvent;
use super::{encode_chunk_header, encode_last_chunk, HttpError, Limits, OutQueue, RequestDecoder};

/// Default time allowed to receive a complete request head (and its body) once its first byte
/// arrived (slow-loris protection).
pub const DEFAULT_HEAD_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time an idle keep-alive connection (between requests) is kept open.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default bound on the answers queued on a request connection before reading pauses.
pub const DEFAULT_MAX_QUEUED_REPLY_BYTES: usize = 8 * 1024 * 1024;

/// The limits and timeouts of one [`ServerConnection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Framing limits (head size, header count, body size).
    pub limits: Limits,
    /// Time allowed for a request head, and then its body, to arrive completely once started.
    pub head_read_timeout: Duration,
    /// Time an idle keep-alive connection is kept.
    pub keep_alive_timeout: Duration,
    /// Answers queued and not yet taken past which no further pipelined request is handed out
    /// (read backpressure). Bytes handed in anyway are kept up to one request's worth (head and
    /// body limits), then the connection is closed.
    pub max_queued_reply_bytes: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            limits: Limits::default(),
            head_read_timeout: DEFAULT_HEAD_READ_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            max_queued_reply_bytes: DEFAULT_MAX_QUEUED_REPLY_BYTES,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between requests, or reading one. `in_flight` once a head was handed out: `keep_alive`
    /// is what the request asked for, `answered` once its response went out before its body
    /// ended (the rest of the body is then discarded here).
    Requests { in_flight: Option<InFlight> },
    /// The request's `End` was handed out and it has not been answered yet: nothing more is
    /// read until it is.
    AwaitingResponse { keep_alive: bool },
    /// A streamed response is under way; input is ignored.
    Streaming,
    /// Finished: flush what is queued, then close.
    Closing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct InFlight {
    keep_alive: bool,
    answered: bool,
}

/// One server-side HTTP/1.1 connection (see the [module docs](self)).
#[derive(Debug)]
pub struct ServerConnection {
    /// Shared by every connection of a server (a copy each would cost ~80 bytes per idle
    /// connection).
    config: Arc<ConnectionConfig>,
    decoder: RequestDecoder,
    state: State,
    out: OutQueue,
    /// When the current head started arriving, or when the connection went idle.
    phase_started: Instant,
    /// The peer ended its input: answer what is buffered, then close.
    eof: bool,
    /// The server wants this connection closed after the response in flight.
    close_after_response: bool,
}

impl ServerConnection {
    /// A connection accepted at `now` (`config`: a [`ConnectionConfig`], or an `Arc` of one
    /// shared by all of a server's connections).
    pub fn new(config: impl Into<Arc<ConnectionConfig>>, now: Instant) -> Self {
        let config = config.into();
        ServerConnection {
            decoder: RequestDecoder::new(config.limits),
            config,
            state: State::Requests { in_flight: None },
            out: OutQueue::default(),
            phase_started: now,
            eof: false,
            close_after_response: false,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    /// Hands over bytes read from the connection. Ignored while streaming or closing. A peer
    /// that sends more than one request's worth while its answers are backed up (see
    /// [`wants_read`](Self::wants_read)) is cut off: the connection closes.
    /// The head-read deadline of a request starts with its first byte (`now`).
    pub fn handle_bytes(&mut self, data: Bytes, now: Instant) {
        if !self.reads_requests() {
            return;
        }
        if matches!(self.state, State::Requests { in_flight: None }) && self.decoder.is_idle() {
            self.phase_started = now;
        }
        self.decoder.handle_bytes(data);
        let unread_bound = {
            let l = &self.config.limits;
            l.max_head_bytes.saturating_add(l.max_body_bytes)
        };
        if self.is_backed_up() && self.decoder.buffered_bytes() > unread_bound {
            self.close();
        }
    }

    /// The peer finished sending. Between requests the connection closes at once; otherwise
    /// what is buffered is still handed out and answered (past the backpressure bound: there is
    /// no later resume), then the connection closes. While streaming nothing changes here: the
    /// owner of the stream decides (a gone reader usually ends it).
    pub fn handle_eof(&mut self) {
        match self.state {
            State::Requests { in_flight: None } if self.decoder.is_idle() => self.close(),
            State::Requests { .. } | State::AwaitingResponse { .. } => {
                self.eof = true;
                self.decoder.handle_eof();
            }
            State::Streaming | State::Closing => {}
        }
    }

    /// The next request event, `Ok(None)` when more input is needed, the current request awaits
    /// its answer, the answers are backed up, or the connection is streaming or closing.
    ///
    /// An `Err` ends the connection's requests: answer it with
    /// [`fail_with`](Self::fail_with) (or let it close silently with [`close`](Self::close)).
    /// A head is followed by its body pieces and `End`; a request answered before its end has
    /// the rest of its body discarded here.
    pub fn poll_request(&mut self, now: Instant) -> Result<Option<RequestEvent>, HttpError> {
        loop {
            let State::Requests { in_flight } = &mut self.state else {
                return Ok(None);
            };
            if !self.eof && self.out.queued_bytes() > self.config.max_queued_reply_bytes {
                return Ok(None);
            }
            match self.decoder.poll_event()? {
                None => {
                    if self.eof && in_flight.is_none() {
                        // Everything the peer sent has been answered.
                        self.close();
                    }
                    return Ok(None);
                }
                Some(RequestEvent::Head(head)) => {
                    self.phase_started = now;
                    *in_flight = Some(InFlight {
                        keep_alive: head.keep_alive(),
                        answered: false,
                    });
                    return Ok(Some(RequestEvent::Head(head)));
                }
                Some(RequestEvent::Body(data)) => match in_flight {
                    Some(InFlight {
                        answered: false, ..
                    }) => return Ok(Some(RequestEvent::Body(data))),
                    _ => continue,
                },
                Some(RequestEvent::End) => {
                    self.phase_started = now;
                    match in_flight.take() {
                        Some(InFlight {
                            keep_alive,
                            answered: false,
                        }) => {
                            self.state = State::AwaitingResponse { keep_alive };
                            return Ok(Some(RequestEvent::End));
                        }
                        _ => continue,
                    }
                }
            }
        }
    }

    /// Answers the request in flight with a whole response. `encode` gets whether the
    /// connection stays open (the request asked for keep-alive and the server did not ask to
    /// close) and returns the encoded response: without keep-alive it must announce
    /// `Connection: close`. Ignored when no request is in flight.
    pub fn respond_with(&mut self, now: Instant, encode: impl FnOnce(bool) -> Bytes) {
        let keep_alive = match self.state {
            State::AwaitingResponse { keep_alive } => keep_alive,
            State::Requests {
                in_flight: Some(InFlight { keep_alive, .. }),
            } => keep_alive,
            _ => return,
        };
        let keep_alive = keep_alive && !self.close_after_response;
        let bytes = encode(keep_alive);
        self.push(bytes);
        self.state = match self.state {
            _ if !keep_alive => State::Closing,
            State::Requests {
                in_flight: Some(inf),
            } => State::Requests {
                in_flight: Some(InFlight {
                    answered: true,
                    ..inf
                }),
            },
            _ => {
                self.phase_started = now;
                State::Requests { in_flight: None }
            }
        };
        if keep_alive && self.eof && matches!(self.state, State::Requests { in_flight: None }) {
            // The last answer of a connection whose peer is done sending: the rest of the
            // input (if any) is polled next; once nothing is left it closes.
            if self.decoder.is_idle() {
                self.close();
            }
        }
    }

    /// Answers the request in flight with a streamed response: `head` (announcing
    /// `Transfer-Encoding: chunked`) goes out now, the body follows with
    /// [`send_chunk_with`](Self::send_chunk_with), and input is ignored from here on. Ignored
    /// when no request is in flight.
    pub fn start_stream(&mut self, head: Bytes) {
        if !matches!(
            self.state,
            State::AwaitingResponse { .. } | State::Requests { in_flight: Some(_) }
        ) {
            return;
        }
        self.push(head);
        self.state = State::Streaming;
    }

    /// Queues one body chunk of a streamed response: the chunk-size line for `len` payload
    /// bytes, the payload `write` puts into the buffer (exactly `len` bytes), and the closing
    /// CRLF, as one buffer. If `write` fails nothing is queued. Ignored (`Ok`) unless a stream
    /// is under way.
    pub fn send_chunk_with<E>(
        &mut self,
        len: usize,
        write: impl FnOnce(&mut BytesMut) -> Result<(), E>,
    ) -> Result<(), E> {
        if len == 0 || self.state != State::Streaming {
            return Ok(());
        }
        let mut out = BytesMut::with_capacity(len + 16);
        encode_chunk_header(len, &mut out);
        write(&mut out)?;
        out.extend_from_slice(b"\r\n");
        self.push(out.freeze());
        Ok(())
    }

    /// [`start_stream`](Self::start_stream) and a first [`send_chunk_with`](Self::send_chunk_with)
    /// in one buffer (`head` is the encoded response head), so they go out as one write. If
    /// `write` fails, the head goes out alone.
    pub fn start_stream_with_chunk<E>(
        &mut self,
        mut head: BytesMut,
        len: usize,
        write: impl FnOnce(&mut BytesMut) -> Result<(), E>,
    ) -> Result<(), E> {
        if !matches!(
            self.state,
            State::AwaitingResponse { .. } | State::Requests { in_flight: Some(_) }
        ) {
            return Ok(());
        }
        let head_len = head.len();
        head.reserve(len + 16);
        encode_chunk_header(len, &mut head);
        let written = write(&mut head);
        if written.is_err() {
            head.truncate(head_len);
        } else {
            head.extend_from_slice(b"\r\n");
        }
        self.push(head.freeze());
        self.state = State::Streaming;
        written
    }

    /// Ends a streamed response with the last chunk (`0\r\n\r\n`) and closes the connection
    /// once it is written.
    pub fn finish_stream(&mut self) {
        if self.state == State::Streaming {
            let mut last = BytesMut::new();
            encode_last_chunk(&mut last);
            self.push(last.freeze());
        }
        self.close();
    }

    /// Answers the error that [`poll_request`](Self::poll_request) returned and closes.
    /// `encode` gets whether the answer may omit `Connection: close` (it announces the close
    /// only when the client asked for it, or when no head was read, as uvicorn does). A
    /// connection that ended in the middle of a request ([`HttpError::UnexpectedEof`]) gets no
    /// answer.
    pub fn fail_with(&mut self, err: &HttpError, encode: impl FnOnce(bool) -> Bytes) {
        if self.reads_requests() && !matches!(err, HttpError::UnexpectedEof) {
            let keep_alive_announced = match self.state {
                State::Requests {
                    in_flight: Some(InFlight { keep_alive, .. }),
                } => keep_alive,
                State::AwaitingResponse { keep_alive } => keep_alive,
                _ => false,
            };
            let bytes = encode(keep_alive_announced);
            self.push(bytes);
        }
        self.close();
    }

    /// Asks for the connection to close after the response in flight (at once when idle).
    /// Used for a server shutdown.
    pub fn close_after_response(&mut self) {
        self.close_after_response = true;
        match self.state {
            State::Requests { in_flight: None } => self.close(),
            State::Requests { in_flight: Some(_) }
            | State::AwaitingResponse { .. }
            | State::Streaming
            | State::Closing => {}
        }
    }

    /// Closes once what is queued has been written; nothing more is read or answered.
    pub fn close(&mut self) {
        if self.state != State::Closing {
            self.state = State::Closing;
            self.wake();
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called: the head (or body) read
    /// deadline while a request is arriving, the keep-alive deadline while idle; `None` while
    /// a response is awaited, streaming or closing.
    pub fn deadline(&self) -> Option<Instant> {
        match self.state {
            State::Requests { in_flight } => {
                if self.decoder.is_reading_head() || in_flight.is_some() {
                    Some(self.phase_started + self.config.head_read_timeout)
                } else {
                    Some(self.phase_started + self.config.keep_alive_timeout)
                }
            }
            State::AwaitingResponse { .. } | State::Streaming | State::Closing => None,
        }
    }

    /// The deadline passed: a request that did not arrive in time gets `408` (`encode` writes it,
    /// announcing the close), an idle connection just closes.
    pub fn handle_timeout(&mut self, now: Instant, encode_408: impl FnOnce() -> Bytes) {
        if self.deadline().is_none_or(|at| at > now) {
            return;
        }
        if let State::Requests { in_flight } = self.state {
            if self.decoder.is_reading_head() || in_flight.is_some() {
                self.push(encode_408());
            }
        }
        self.close();
    }

    /// Takes the next bytes to write. After taking answers that were backed up, call
    /// [`poll_request`](Self::poll_request) again: the pipelined requests resume.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.out.pop()
    }

    /// Whether something new to write (or the close) has appeared since the driver was last
    /// told; cleared by this call, and re-armed once `poll_transmit` has found the queue
    /// empty. A driver reports one "transmit" per `true`, so it never polls idle connections.
    pub fn take_wakeup(&mut self) -> bool {
        self.out.take_wakeup()
    }

    /// Queues already framed bytes (a ping comment chunk of a stream, for instance).
    pub fn send_raw(&mut self, bytes: Bytes) {
        if self.state == State::Streaming {
            self.push(bytes);
        }
    }

    /// Input held and not yet handed out (bounded by the caller while it holds a request, see
    /// [`handle_bytes`](Self::handle_bytes)).
    pub fn buffered_bytes(&self) -> usize {
        self.decoder.buffered_bytes()
    }

    /// Bytes queued and not yet taken.
    pub fn queued_bytes(&self) -> usize {
        self.out.queued_bytes()
    }

    /// Whether answers are backed up past [`ConnectionConfig::max_queued_reply_bytes`].
    pub fn is_backed_up(&self) -> bool {
        self.out.queued_bytes() > self.config.max_queued_reply_bytes
    }

    /// Whether the driver should read more: `false` while a request connection's answers are
    /// backed up (a peer that pipelines without reading). A stream's input is read (and
    /// ignored) so that a gone reader is noticed.
    pub fn wants_read(&self) -> bool {
        !self.reads_requests() || !self.is_backed_up()
    }

    /// Whether the driver should close the socket now: finished, and everything written.
    pub fn wants_close(&self) -> bool {
        self.state == State::Closing && self.out.is_empty()
    }

    /// Whether the connection is finished (closing once its queue is written).
    pub fn is_closing(&self) -> bool {
        self.state == State::Closing
    }

    /// Whether a streamed response is under way.
    pub fn is_streaming(&self) -> bool {
        self.state == State::Streaming
    }

    /// Whether a request has been handed out and not answered.
    pub fn has_request_in_flight(&self) -> bool {
        matches!(
            self.state,
            State::AwaitingResponse { .. }
                | State::Requests {
                    in_flight: Some(InFlight {
                        answered: false,
                        ..
                    })
                }
        )
    }

    fn reads_requests(&self) -> bool {
        matches!(
            self.state,
            State::Requests { .. } | State::AwaitingResponse { .. }
        )
    }

    fn push(&mut self, bytes: Bytes) {
        self.out.push(bytes);
    }

    fn wake(&mut self) {
        self.out.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(keep_alive: bool) -> Bytes {
        if keep_alive {
            Bytes::from_static(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        } else {
            Bytes::from_static(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nConnection: close\r\n\r\n")
        }
    }

    fn drain_out(c: &mut ServerConnection) -> Vec<u8> {
        let mut v = Vec::new();
        while let Some(b) = c.poll_transmit() {
            v.extend_from_slice(&b);
        }
        v
    }

    /// Answers every complete request with `ok`, returning the heads' paths.
    fn serve(c: &mut ServerConnection, now: Instant) -> Result<Vec<String>, HttpError> {
        let mut paths = Vec::new();
        while let Some(ev) = c.poll_request(now)? {
            match ev {
                RequestEvent::Head(h) => paths.push(h.path().to_string()),
                RequestEvent::Body(_) => {}
                RequestEvent::End => c.respond_with(now, ok),
            }
        }
        Ok(paths)
    }

    #[test]
    fn pipelined_requests_come_out_one_answer_at_a_time() {
        let now = Instant::now();
        let mut c = ServerConnection::new(ConnectionConfig::default(), now);
        c.handle_bytes(
            Bytes::from_static(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
            now,
        );
        assert!(matches!(
            c.poll_request(now),
            Ok(Some(RequestEvent::Head(_)))
        ));
        assert_eq!(c.poll_request(now), Ok(Some(RequestEvent::End)));
        // Unanswered: the second request waits.
        assert_eq!(c.poll_request(now), Ok(None));
        assert!(c.has_request_in_flight());
        c.respond_with(now, ok);
        assert_eq!(serve(&mut c, now), Ok(vec!["/b".to_string()]));
        assert!(c.take_wakeup());
        assert!(!c.take_wakeup(), "one wakeup until the queue was drained");
        assert_eq!(drain_out(&mut c).len(), 2 * ok(true).len());
        assert!(!c.wants_close());
    }

    #[test]
    fn connection_close_is_honoured_and_announced() {
        let now = Instant::now();
        let mut c = ServerConnection::new(ConnectionConfig::default(), now);
        c.handle_bytes(
            Bytes::from_static(
                b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
            ),
            now,
        );
        assert_eq!(serve(&mut c, now), Ok(vec!["/a".to_string()]));
        assert_eq!(drain_out(&mut c), ok(false).to_vec());
        assert!(c.wants_close());
    }

    #[test]
    fn eof_answers_what_was_sent_then_closes() {
        let now = Instant::now();
        let mut c = ServerConnection::new(ConnectionConfig::default(), now);
        c.handle_bytes(
            Bytes::from_static(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
            now,
        );
        c.handle_eof();
        assert_eq!(serve(&mut c, now), Ok(vec!["/a".into(), "/b".into()]));
        assert_eq!(drain_out(&mut c), [ok(true), ok(true)].concat());
        assert!(c.wants_close());
        // Idle at EOF: closes at once.
        let mut idle = ServerConnection::new(ConnectionConfig::default(), now);
        idle.handle_eof();
        assert!(idle.wants_close());
    }

    #[test]
    fn backed_up_answers_pause_requests_and_a_flooding_peer_is_cut_off() {
        let now = Instant::now();
        let config = ConnectionConfig {
            max_queued_reply_bytes: 10,
            ..ConnectionConfig::default()
        };
        let mut c = ServerConnection::new(config, now);
        c.handle_bytes(
            Bytes::from_static(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
            now,
        );
        assert_eq!(serve(&mut c, now), Ok(vec!["/a".to_string()]));
        assert!(!c.wants_read());
        // The answers are taken: the second request resumes.
        drain_out(&mut c);
        assert!(c.wants_read());
        assert_eq!(serve(&mut c, now), Ok(vec!["/b".to_string()]));
        // Still backed up, and the peer sends past one request's worth: cut off.
        let flood = vec![b'x'; config.limits.max_head_bytes + config.limits.max_body_bytes + 1];
        c.handle_bytes(Bytes::from(flood), now);
        assert!(c.is_closing());
    }

    #[test]
    fn slow_heads_get_408_and_idle_connections_just_close() {
        let now = Instant::now();
        let config = ConnectionConfig::default();
        let mut c = ServerConnection::new(config, now);
        assert_eq!(c.deadline(), Some(now + config.keep_alive_timeout));
        let later = now + Duration::from_secs(1);
        c.handle_bytes(Bytes::from_static(b"GET /a HT"), later);
        assert_eq!(c.poll_request(later), Ok(None));
        assert_eq!(c.deadline(), Some(later + config.head_read_timeout));
        let late = later + config.head_read_timeout;
        c.handle_timeout(late, || Bytes::from_static(b"408"));
        assert_eq!(drain_out(&mut c), b"408");
        assert!(c.wants_close());

        let mut idle = ServerConnection::new(config, now);
        idle.handle_timeout(now + config.keep_alive_timeout, || {
            Bytes::from_static(b"408")
        });
        assert!(drain_out(&mut idle).is_empty());
        assert!(idle.wants_close());
    }

    #[test]
    fn an_early_answer_discards_the_rest_of_the_body() {
        let now = Instant::now();
        let mut c = ServerConnection::new(ConnectionConfig::default(), now);
        c.handle_bytes(
            Bytes::from_static(
                b"HEAD /a HTTP/1.1\r\ncontent-length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n\r\n",
            ),
            now,
        );
        assert!(matches!(
            c.poll_request(now),
            Ok(Some(RequestEvent::Head(_)))
        ));
        c.respond_with(now, ok);
        assert_eq!(serve(&mut c, now), Ok(vec!["/b".to_string()]));
    }

    #[test]
    fn a_stream_frames_chunks_ignores_input_and_ends_with_the_last_chunk() {
        let now = Instant::now();
        let mut c = ServerConnection::new(ConnectionConfig::default(), now);
        c.handle_bytes(Bytes::from_static(b"GET /sse HTTP/1.1\r\n\r\n"), now);
        assert!(matches!(
            c.poll_request(now),
            Ok(Some(RequestEvent::Head(_)))
        ));
        c.start_stream(Bytes::from_static(b"HEAD\r\n\r\n"));
        c.handle_bytes(Bytes::from_static(b"ignored"), now);
        assert_eq!(c.poll_request(now), Ok(None));
        let sent: Result<(), ()> = c.send_chunk_with(5, |b| {
            b.extend_from_slice(b"hello");
            Ok(())
        });
        assert_eq!(sent, Ok(()));
        assert_eq!(
            c.send_chunk_with(3, |b| {
                b.extend_from_slice(b"x");
                Err("bad")
            }),
            Err("bad"),
            "a failed write queues nothing"
        );
        assert_eq!(c.deadline(), None);
        c.finish_stream();
        assert_eq!(drain_out(&mut c), b"HEAD\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        assert!(c.wants_close());
    }

    #[test]
    fn errors_are_answered_once_and_close() {
        let now = Instant::now();
        let mut c = ServerConnection::new(ConnectionConfig::default(), now);
        c.handle_bytes(Bytes::from_static(b"\x16\x03garbage\r\n\r\n"), now);
        let err = c.poll_request(now).expect_err("not HTTP");
        c.fail_with(&err, |keep_alive| {
            assert!(!keep_alive, "no head was read: the close is announced");
            Bytes::from_static(b"400")
        });
        assert_eq!(drain_out(&mut c), b"400");
        assert!(c.wants_close());
    }

    #[test]
    fn shutdown_closes_idle_connections_at_once_and_busy_ones_after_their_answer() {
        let now = Instant::now();
        let mut idle = ServerConnection::new(ConnectionConfig::default(), now);
        idle.close_after_response();
        assert!(idle.wants_close());

        let mut busy = ServerConnection::new(ConnectionConfig::default(), now);
        busy.handle_bytes(Bytes::from_static(b"GET /a HTTP/1.1\r\n\r\n"), now);
        assert!(matches!(
            busy.poll_request(now),
            Ok(Some(RequestEvent::Head(_)))
        ));
        busy.close_after_response();
        assert_eq!(busy.poll_request(now), Ok(Some(RequestEvent::End)));
        busy.respond_with(now, ok);
        assert_eq!(drain_out(&mut busy), ok(false).to_vec());
        assert!(busy.wants_close());
    }
}
