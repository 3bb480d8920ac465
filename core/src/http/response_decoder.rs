//! Client side: decodes the responses arriving on one connection, matched FIFO with the
//! requests sent on it.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::body::{BodyDecoder, BodyPoll};
use super::framing::{response_framing, BodyFraming};
use super::head::{parse_response_head, ResponseHead};
use super::head_reader::HeadReader;
use super::input::Input;
use super::limits::Limits;
use super::HttpError;

/// What the client expects of the response to one request it sent.
///
/// ```
/// use mcp_sse_core::http::ResponseExpectation;
///
/// // The GET /sse stream: unbounded.
/// let sse = ResponseExpectation { head_request: false, max_body_bytes: None };
/// // A POST answered by `202 Accepted`: a small bounded body.
/// let post = ResponseExpectation { head_request: false, max_body_bytes: Some(64 * 1024) };
/// # let _ = (sse, post);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseExpectation {
    /// The request was `HEAD`: the response has no body whatever its headers say.
    pub head_request: bool,
    /// Bound on the response body; `None` = unbounded (an SSE stream).
    pub max_body_bytes: Option<usize>,
}

/// What a [`ResponseDecoder`] yields, per response: one `Head`, any number of `Body` pieces, `End`.
///
/// ```
/// use mcp_sse_core::http::{Limits, ResponseDecoder, ResponseEvent, ResponseExpectation};
///
/// let mut decoder = ResponseDecoder::new(Limits::default());
/// decoder.expect(ResponseExpectation { head_request: false, max_body_bytes: Some(1024) });
/// decoder.handle_bytes(bytes::Bytes::from_static(b"HTTP/1.1 202 Accepted\r\ncontent-length: 8\r\n\r\nAccepted"));
/// assert!(matches!(decoder.poll_event(), Ok(Some(ResponseEvent::Head(h))) if h.status == 202));
/// assert_eq!(decoder.poll_event(), Ok(Some(ResponseEvent::Body(bytes::Bytes::from_static(b"Accepted")))));
/// assert_eq!(decoder.poll_event(), Ok(Some(ResponseEvent::End)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseEvent {
    /// A complete final (non-1xx) response head.
    Head(ResponseHead),
    /// Body bytes, in order (a zero-copy slice of the input where possible).
    Body(Bytes),
    /// This response is complete.
    End,
}

#[derive(Debug)]
enum State {
    Head,
    Body(BodyDecoder),
    /// A read-until-EOF body ended: nothing can follow.
    Closed,
    Failed(HttpError),
}

/// A sans-IO HTTP/1.1 response decoder for one client connection.
///
/// Call [`expect`](Self::expect) once per request sent, in order, before its response can
/// arrive; feed bytes with [`handle_bytes`](Self::handle_bytes) (and
/// [`handle_eof`](Self::handle_eof)); call [`poll_event`](Self::poll_event) until `Ok(None)`.
///
/// Framing: a `HEAD` request and 1xx/204/304 responses have no body; otherwise
/// `Transfer-Encoding: chunked`, then `Content-Length`, otherwise the body runs until the
/// connection closes. Interim 1xx responses (e.g. `100 Continue`) are skipped, except
/// `101 Switching Protocols`, which is [`HttpError::Malformed`] (no upgrade is ever requested).
/// The same header rules as [`RequestDecoder`](crate::http::RequestDecoder) apply (TE + CL →
/// [`HttpError::ConflictingFraming`], TE other than `chunked` → 501-class error). A response
/// with no expectation queued is [`HttpError::UnexpectedResponse`]; EOF while a request is still
/// unanswered or a response is incomplete is [`HttpError::UnexpectedEof`]. A declared length
/// over the expectation's bound yields the `Head`, then [`HttpError::BodyTooLarge`]; streamed
/// bodies fail as soon as they exceed it. Errors poison the decoder.
///
/// ```
/// use mcp_sse_core::http::{Limits, ResponseDecoder, ResponseEvent, ResponseExpectation};
///
/// let mut decoder = ResponseDecoder::new(Limits::default());
/// decoder.expect(ResponseExpectation { head_request: false, max_body_bytes: None });
/// decoder.handle_bytes(bytes::Bytes::from_static(
///     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nevent: endpoint\n\r\n",
/// ));
/// assert!(matches!(decoder.poll_event(), Ok(Some(ResponseEvent::Head(_)))));
/// assert_eq!(
///     decoder.poll_event(),
///     Ok(Some(ResponseEvent::Body(bytes::Bytes::from_static(b"event: endpoint\n"))))
/// );
/// assert_eq!(decoder.poll_event(), Ok(None));
/// ```
#[derive(Debug)]
pub struct ResponseDecoder {
    limits: Limits,
    input: Input,
    head: HeadReader,
    line: BytesMut,
    state: State,
    eof: bool,
    expectations: VecDeque<ResponseExpectation>,
}

impl ResponseDecoder {
    /// A decoder enforcing `limits` (`max_body_bytes` is not used: each expectation carries its
    /// own body bound).
    pub fn new(limits: Limits) -> Self {
        ResponseDecoder {
            limits,
            input: Input::default(),
            head: HeadReader::default(),
            line: BytesMut::new(),
            state: State::Head,
            eof: false,
            expectations: VecDeque::new(),
        }
    }

    /// Registers the next request sent on this connection (FIFO; one per request).
    pub fn expect(&mut self, expectation: ResponseExpectation) {
        self.expectations.push_back(expectation);
    }

    /// Hands over bytes read from the connection. Ignored after an error or after
    /// [`handle_eof`](Self::handle_eof).
    pub fn handle_bytes(&mut self, data: Bytes) {
        if !self.eof && !matches!(self.state, State::Failed(_)) {
            self.input.push(data);
        }
    }

    /// The server closed the connection: ends a read-until-EOF body; anything else unfinished
    /// (or a request still unanswered) becomes [`HttpError::UnexpectedEof`].
    pub fn handle_eof(&mut self) {
        self.eof = true;
    }

    /// The next event, `Ok(None)` when more input is needed (or the connection ended cleanly).
    pub fn poll_event(&mut self) -> Result<Option<ResponseEvent>, HttpError> {
        let result = self.poll_inner();
        if let Err(err) = &result {
            self.fail(err.clone());
        }
        result
    }

    fn fail(&mut self, err: HttpError) {
        self.state = State::Failed(err);
        self.input.clear();
        self.head.clear();
        self.line.clear();
    }

    fn unanswered_at_eof(&self) -> Result<Option<ResponseEvent>, HttpError> {
        if self.eof && (!self.head.is_empty() || !self.expectations.is_empty()) {
            Err(HttpError::UnexpectedEof)
        } else {
            Ok(None)
        }
    }

    fn poll_inner(&mut self) -> Result<Option<ResponseEvent>, HttpError> {
        loop {
            match &mut self.state {
                State::Failed(err) => return Err(err.clone()),
                State::Closed => return self.unanswered_at_eof(),
                State::Head => {
                    let Some(bytes) = self
                        .head
                        .read(&mut self.input, self.limits.max_head_bytes)?
                    else {
                        return self.unanswered_at_eof();
                    };
                    let head = parse_response_head(&bytes, &self.limits)?;
                    let Some(&expectation) = self.expectations.front() else {
                        return Err(HttpError::UnexpectedResponse);
                    };
                    if head.status == 101 {
                        return Err(HttpError::Malformed("unexpected 101 Switching Protocols"));
                    }
                    if (100..200).contains(&head.status) {
                        continue; // interim response: the final one follows
                    }
                    self.expectations.pop_front();
                    let framing =
                        response_framing(head.status, expectation.head_request, &head.headers)?;
                    let limit = expectation.max_body_bytes;
                    match (framing, limit) {
                        (BodyFraming::Length(n), Some(limit)) if n > limit as u64 => {
                            self.fail(HttpError::BodyTooLarge { limit });
                        }
                        _ => self.state = State::Body(BodyDecoder::new(framing, limit)),
                    }
                    return Ok(Some(ResponseEvent::Head(head)));
                }
                State::Body(body) => {
                    let until_eof = body.is_until_eof();
                    let mut step = body.poll(&mut self.input, &mut self.line, &self.limits)?;
                    if matches!(step, BodyPoll::Pending) && self.eof {
                        step = body.eof()?;
                    }
                    return match step {
                        BodyPoll::Data(data) => Ok(Some(ResponseEvent::Body(data))),
                        BodyPoll::End => {
                            self.state = if until_eof {
                                State::Closed
                            } else {
                                State::Head
                            };
                            Ok(Some(ResponseEvent::End))
                        }
                        BodyPoll::Pending => Ok(None),
                    };
                }
            }
        }
    }

    /// Bytes held: unpolled input plus a partial head or chunk-size/trailer line.
    pub fn buffered_bytes(&self) -> usize {
        self.input.len() + self.head.len() + self.line.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SSE_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ndate: Tue, 24 Nov 2026 00:26:47 GMT\r\nserver: uvicorn\r\ncache-control: no-store\r\nconnection: keep-alive\r\nx-accel-buffering: no\r\ncontent-type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n";
    const ACCEPTED: &[u8] = b"HTTP/1.1 202 Accepted\r\ndate: Tue, 24 Nov 2026 00:30:16 GMT\r\nserver: uvicorn\r\ncontent-length: 8\r\n\r\nAccepted";

    const STREAM: ResponseExpectation = ResponseExpectation {
        head_request: false,
        max_body_bytes: None,
    };
    const POST: ResponseExpectation = ResponseExpectation {
        head_request: false,
        max_body_bytes: Some(1024),
    };

    fn drain(decoder: &mut ResponseDecoder) -> (Vec<ResponseEvent>, Option<HttpError>) {
        let mut events: Vec<ResponseEvent> = Vec::new();
        loop {
            match decoder.poll_event() {
                Ok(None) => return (events, None),
                Err(e) => return (events, Some(e)),
                Ok(Some(ResponseEvent::Body(b))) => match events.last_mut() {
                    Some(ResponseEvent::Body(prev)) => {
                        *prev = Bytes::from([&prev[..], &b[..]].concat());
                    }
                    _ => events.push(ResponseEvent::Body(b)),
                },
                Ok(Some(ev)) => events.push(ev),
            }
        }
    }

    fn decode(
        expectations: &[ResponseExpectation],
        wire: &[u8],
        eof: bool,
    ) -> (Vec<ResponseEvent>, Option<HttpError>) {
        let mut decoder = ResponseDecoder::new(Limits::default());
        for e in expectations {
            decoder.expect(*e);
        }
        decoder.handle_bytes(Bytes::copy_from_slice(wire));
        if eof {
            decoder.handle_eof();
        }
        drain(&mut decoder)
    }

    fn status(ev: &ResponseEvent) -> u16 {
        match ev {
            ResponseEvent::Head(h) => h.status,
            other => panic!("expected a head, got {other:?}"),
        }
    }

    fn body(data: &[u8]) -> ResponseEvent {
        ResponseEvent::Body(Bytes::copy_from_slice(data))
    }

    #[test]
    fn reference_sse_stream() {
        let mut wire = SSE_HEAD.to_vec();
        wire.extend_from_slice(b"51\r\nevent: endpoint\r\ndata: /messages/?session_id=f9e48604c1c647c9910bfadd1fa0b835\r\n\r\n\r\n");
        wire.extend_from_slice(b"2d\r\n: ping - 2026-11-24 00:26:49.932501+00:00\r\n\r\n\r\n");
        let (events, err) = decode(&[STREAM], &wire, false);
        assert_eq!(err, None);
        assert_eq!(events.len(), 2);
        let ResponseEvent::Head(head) = &events[0] else {
            panic!()
        };
        assert_eq!(
            head.headers.get_str("content-type"),
            Some("text/event-stream; charset=utf-8")
        );
        assert!(head.keep_alive());
        let ResponseEvent::Body(data) = &events[1] else {
            panic!()
        };
        assert!(data.starts_with(b"event: endpoint\r\n"));
        assert!(data.ends_with(b": ping - 2026-11-24 00:26:49.932501+00:00\r\n\r\n"));
        // The reference server cuts the stream without the last chunk on shutdown.
        let (_, err) = decode(&[STREAM], &wire, true);
        assert_eq!(err, Some(HttpError::UnexpectedEof));
    }

    #[test]
    fn keep_alive_pipelined_responses() {
        let mut wire = ACCEPTED.to_vec();
        wire.extend_from_slice(b"HTTP/1.1 204 No Content\r\ncontent-length: 99\r\n\r\n");
        wire.extend_from_slice(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");
        wire.extend_from_slice(ACCEPTED);
        let head = ResponseExpectation {
            head_request: true,
            ..POST
        };
        let (events, err) = decode(&[POST, POST, head, POST], &wire, true);
        assert_eq!(err, None);
        let statuses: Vec<u16> = events
            .iter()
            .filter(|e| matches!(e, ResponseEvent::Head(_)))
            .map(status)
            .collect();
        assert_eq!(statuses, [202, 204, 200, 202]);
        assert_eq!(events.len(), 10, "{events:?}");
        assert_eq!(events[1], body(b"Accepted"));
        assert_eq!(events[4], ResponseEvent::End); // 204: no body
        assert_eq!(events[6], ResponseEvent::End); // HEAD: no body
        assert_eq!(events[8], body(b"Accepted"));
    }

    #[test]
    fn interim_responses_are_skipped() {
        let mut wire =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n".to_vec();
        wire.extend_from_slice(ACCEPTED);
        let (events, err) = decode(&[POST], &wire, true);
        assert_eq!(err, None);
        assert_eq!(events.len(), 3);
        assert_eq!(status(&events[0]), 202);
        let (_, err) = decode(&[POST], b"HTTP/1.1 101 Switching Protocols\r\n\r\n", false);
        assert!(matches!(err, Some(HttpError::Malformed(_))));
    }

    #[test]
    fn read_until_eof() {
        let wire = b"HTTP/1.0 200 OK\r\n\r\nsome data";
        let (events, err) = decode(&[STREAM], wire, false);
        assert_eq!(err, None);
        assert_eq!(events.len(), 2);
        let (events, err) = decode(&[STREAM], wire, true);
        assert_eq!(err, None);
        assert_eq!(events.len(), 3);
        assert_eq!(events[1], body(b"some data"));
        assert_eq!(events[2], ResponseEvent::End);
        // Bounded by the expectation.
        let small = ResponseExpectation {
            max_body_bytes: Some(4),
            ..STREAM
        };
        let (_, err) = decode(&[small], wire, true);
        assert_eq!(err, Some(HttpError::BodyTooLarge { limit: 4 }));
    }

    #[test]
    fn unexpected_responses_and_eof() {
        let (events, err) = decode(&[], ACCEPTED, false);
        assert!(events.is_empty());
        assert_eq!(err, Some(HttpError::UnexpectedResponse));
        let mut two = ACCEPTED.to_vec();
        two.extend_from_slice(ACCEPTED);
        let (events, err) = decode(&[POST], &two, false);
        assert_eq!(events.len(), 3);
        assert_eq!(err, Some(HttpError::UnexpectedResponse));
        // Closed before answering.
        assert_eq!(decode(&[POST], b"", true).1, Some(HttpError::UnexpectedEof));
        assert_eq!(
            decode(&[POST], b"HTTP/1.1 202 Acc", true).1,
            Some(HttpError::UnexpectedEof)
        );
        assert_eq!(
            decode(&[POST], &ACCEPTED[..ACCEPTED.len() - 1], true).1,
            Some(HttpError::UnexpectedEof)
        );
        // Nothing outstanding: a clean close.
        assert_eq!(decode(&[], b"", true), (vec![], None));
        assert_eq!(decode(&[POST], ACCEPTED, true).1, None);
    }

    #[test]
    fn declared_length_over_expectation() {
        let tiny = ResponseExpectation {
            max_body_bytes: Some(7),
            ..POST
        };
        let mut decoder = ResponseDecoder::new(Limits::default());
        decoder.expect(tiny);
        decoder.handle_bytes(Bytes::from_static(ACCEPTED));
        assert!(matches!(
            decoder.poll_event(),
            Ok(Some(ResponseEvent::Head(_)))
        ));
        assert_eq!(
            decoder.poll_event(),
            Err(HttpError::BodyTooLarge { limit: 7 })
        );
        assert_eq!(
            decoder.poll_event(),
            Err(HttpError::BodyTooLarge { limit: 7 })
        );
        assert_eq!(decoder.buffered_bytes(), 0);
    }

    #[test]
    fn framing_errors() {
        let (_, err) = decode(
            &[POST],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
            false,
        );
        assert_eq!(err, Some(HttpError::ConflictingFraming));
        let (_, err) = decode(
            &[POST],
            b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",
            false,
        );
        assert_eq!(err, Some(HttpError::InvalidContentLength));
        let (_, err) = decode(
            &[POST],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc",
            false,
        );
        assert_eq!(
            err,
            Some(HttpError::InvalidChunk("missing CRLF after chunk data"))
        );
        let (_, err) = decode(&[POST], b"HTTP/2 200 OK\r\n\r\n", false);
        assert!(err.is_some());
        let mut decoder = ResponseDecoder::new(Limits {
            max_head_bytes: 16,
            ..Limits::default()
        });
        decoder.expect(POST);
        decoder.handle_bytes(Bytes::from_static(ACCEPTED));
        assert_eq!(
            decoder.poll_event(),
            Err(HttpError::HeadTooLarge { limit: 16 })
        );
    }
}
