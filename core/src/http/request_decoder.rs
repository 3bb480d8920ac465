//! Server side: decodes the requests arriving on one connection, one after another.

use bytes::{Bytes, BytesMut};

use super::body::{BodyDecoder, BodyPoll};
use super::framing::{request_framing, BodyFraming};
use super::head::{parse_request_head, RequestHead};
use super::head_reader::HeadReader;
use super::input::Input;
use super::limits::Limits;
use super::HttpError;

/// What a [`RequestDecoder`] yields, per request: one `Head`, any number of `Body` pieces, `End`.
///
/// ```
/// use mcp_sse_core::http::{Limits, RequestDecoder, RequestEvent};
///
/// let mut decoder = RequestDecoder::new(Limits::default());
/// decoder.handle_bytes(bytes::Bytes::from_static(b"GET /sse HTTP/1.1\r\nHost: x\r\n\r\n"));
/// assert!(matches!(decoder.poll_event(), Ok(Some(RequestEvent::Head(h))) if h.path() == "/sse"));
/// assert_eq!(decoder.poll_event(), Ok(Some(RequestEvent::End)));
/// assert_eq!(decoder.poll_event(), Ok(None));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestEvent {
    /// A complete request head.
    Head(RequestHead),
    /// Body bytes, in order (a zero-copy slice of the input where possible).
    Body(Bytes),
    /// This request's body is complete; the next event belongs to the next request.
    End,
}

#[derive(Debug)]
enum State {
    Head,
    Body(BodyDecoder),
    Failed(HttpError),
}

/// A sans-IO HTTP/1.1 request decoder for one server connection (keep-alive and pipelining:
/// requests follow each other on the same decoder).
///
/// Feed bytes with [`handle_bytes`](Self::handle_bytes) (and [`handle_eof`](Self::handle_eof)
/// when the peer closes), then call [`poll_event`](Self::poll_event) until it returns `Ok(None)`.
///
/// Body framing: `Transfer-Encoding: chunked` → chunked; any other `Transfer-Encoding` →
/// [`HttpError::UnsupportedTransferEncoding`] (501); `Transfer-Encoding` together with
/// `Content-Length` → [`HttpError::ConflictingFraming`] (400); a bad or disagreeing
/// `Content-Length` → [`HttpError::InvalidContentLength`] (400); neither header → empty body.
/// A declared `Content-Length` over `max_body_bytes` yields the `Head` first, then
/// [`HttpError::BodyTooLarge`] on the next poll (so a 405 can take precedence over the 413); a
/// chunked body fails with it as soon as a chunk size takes the total past the limit. Chunk
/// extensions are ignored; trailers are checked, bounded by `max_head_bytes`, and dropped.
///
/// After an error the decoder is poisoned: every later poll returns the same error and the
/// connection must be closed. Input is kept without copying until it is polled; only head and
/// chunk-size-line bytes are copied, so once `poll_event` has returned `Ok(None)` or an error,
/// [`buffered_bytes`](Self::buffered_bytes) ≤ [`Limits::max_buffered_bytes`].
///
/// ```
/// use mcp_sse_core::http::{Limits, RequestDecoder, RequestEvent};
///
/// let mut decoder = RequestDecoder::new(Limits::default());
/// decoder.handle_bytes(bytes::Bytes::from_static(
///     b"POST /messages/?session_id=ab HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
/// ));
/// let Ok(Some(RequestEvent::Head(head))) = decoder.poll_event() else { panic!() };
/// assert_eq!((head.method.as_str(), head.query()), ("POST", Some("session_id=ab")));
/// assert_eq!(decoder.poll_event(), Ok(Some(RequestEvent::Body(bytes::Bytes::from_static(b"{}")))));
/// assert_eq!(decoder.poll_event(), Ok(Some(RequestEvent::End)));
/// assert!(decoder.is_idle());
/// ```
#[derive(Debug)]
pub struct RequestDecoder {
    limits: Limits,
    input: Input,
    head: HeadReader,
    line: BytesMut,
    state: State,
    eof: bool,
}

impl RequestDecoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        RequestDecoder {
            limits,
            input: Input::default(),
            head: HeadReader::default(),
            line: BytesMut::new(),
            state: State::Head,
            eof: false,
        }
    }

    /// Hands over bytes read from the connection. Ignored after an error or after
    /// [`handle_eof`](Self::handle_eof).
    pub fn handle_bytes(&mut self, data: Bytes) {
        if !self.eof && !matches!(self.state, State::Failed(_)) {
            self.input.push(data);
        }
    }

    /// The peer closed its side. Between requests this is a clean end (`poll_event` returns
    /// `Ok(None)`); in the middle of a request, `poll_event` returns
    /// [`HttpError::UnexpectedEof`] once the buffered bytes are consumed.
    pub fn handle_eof(&mut self) {
        self.eof = true;
    }

    /// The next event, `Ok(None)` when more input is needed (or the connection ended cleanly).
    pub fn poll_event(&mut self) -> Result<Option<RequestEvent>, HttpError> {
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

    fn poll_inner(&mut self) -> Result<Option<RequestEvent>, HttpError> {
        match &mut self.state {
            State::Failed(err) => Err(err.clone()),
            State::Head => {
                let Some(bytes) = self
                    .head
                    .read(&mut self.input, self.limits.max_head_bytes)?
                else {
                    if self.eof && !self.head.is_empty() {
                        return Err(HttpError::UnexpectedEof);
                    }
                    return Ok(None);
                };
                let head = parse_request_head(&bytes, &self.limits)?;
                let framing = request_framing(&head.headers)?;
                let limit = self.limits.max_body_bytes;
                match framing {
                    BodyFraming::Length(n) if n > limit as u64 => {
                        // The head goes out first; the next poll reports the 413.
                        self.fail(HttpError::BodyTooLarge { limit });
                    }
                    _ => self.state = State::Body(BodyDecoder::new(framing, Some(limit))),
                }
                Ok(Some(RequestEvent::Head(head)))
            }
            State::Body(body) => {
                let mut step = body.poll(&mut self.input, &mut self.line, &self.limits)?;
                if matches!(step, BodyPoll::Pending) && self.eof {
                    step = body.eof()?;
                }
                match step {
                    BodyPoll::Data(data) => Ok(Some(RequestEvent::Body(data))),
                    BodyPoll::End => {
                        self.state = State::Head;
                        Ok(Some(RequestEvent::End))
                    }
                    BodyPoll::Pending => Ok(None),
                }
            }
        }
    }

    /// Whether the decoder is between requests with nothing buffered (for idle timers).
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Head) && self.head.is_empty() && self.input.is_empty()
    }

    /// Whether part of a request head has been received but not all of it (for the
    /// header-read deadline).
    pub fn is_reading_head(&self) -> bool {
        matches!(self.state, State::Head) && !(self.head.is_empty() && self.input.is_empty())
    }

    /// Bytes held: unpolled input plus a partial head or chunk-size/trailer line.
    pub fn buffered_bytes(&self) -> usize {
        self.input.len() + self.head.len() + self.line.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Version;

    /// Polls until `Ok(None)` or an error; Body pieces are merged.
    fn drain(decoder: &mut RequestDecoder) -> (Vec<RequestEvent>, Option<HttpError>) {
        let mut events: Vec<RequestEvent> = Vec::new();
        loop {
            match decoder.poll_event() {
                Ok(None) => return (events, None),
                Err(e) => return (events, Some(e)),
                Ok(Some(RequestEvent::Body(b))) => match events.last_mut() {
                    Some(RequestEvent::Body(prev)) => {
                        let mut joined = prev.to_vec();
                        joined.extend_from_slice(&b);
                        *prev = Bytes::from(joined);
                    }
                    _ => events.push(RequestEvent::Body(b)),
                },
                Ok(Some(ev)) => events.push(ev),
            }
        }
    }

    fn decode(wire: &'static [u8]) -> (Vec<RequestEvent>, Option<HttpError>) {
        decode_with(wire, Limits::default())
    }

    fn decode_with(wire: &'static [u8], limits: Limits) -> (Vec<RequestEvent>, Option<HttpError>) {
        let mut decoder = RequestDecoder::new(limits);
        decoder.handle_bytes(Bytes::from_static(wire));
        decoder.handle_eof();
        drain(&mut decoder)
    }

    fn error_of(wire: &'static [u8]) -> HttpError {
        decode(wire).1.expect("an error")
    }

    fn head(ev: &RequestEvent) -> &RequestHead {
        match ev {
            RequestEvent::Head(h) => h,
            other => panic!("expected a head, got {other:?}"),
        }
    }

    fn body(data: &'static [u8]) -> RequestEvent {
        RequestEvent::Body(Bytes::from_static(data))
    }

    const GET_SSE: &[u8] = b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8766\r\nAccept: text/event-stream\r\nCache-Control: no-store\r\n\r\n";
    const POST_INITIALIZED: &[u8] = b"POST /messages/?session_id=dc207bc254dc483c972d8ccd9e6ba9b2 HTTP/1.1\r\nHost: 127.0.0.1:8767\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nUser-Agent: python-httpx2/2.16.2\r\nContent-Length: 54\r\nContent-Type: application/json\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";

    #[test]
    fn reference_get_sse() {
        let (events, err) = decode(GET_SSE);
        assert_eq!(err, None);
        assert_eq!(events.len(), 2);
        let h = head(&events[0]);
        assert_eq!(
            (h.method.as_str(), h.target.as_str(), h.version),
            ("GET", "/sse", Version::Http11)
        );
        let names: Vec<&str> = h.headers.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["Host", "Accept", "Cache-Control"]);
        assert_eq!(h.headers.get_str("accept"), Some("text/event-stream"));
        assert!(h.keep_alive());
        assert_eq!(events[1], RequestEvent::End);
    }

    #[test]
    fn reference_post_from_the_python_client() {
        let (events, err) = decode(POST_INITIALIZED);
        assert_eq!(err, None);
        let h = head(&events[0]);
        assert_eq!(h.path(), "/messages/");
        assert_eq!(
            h.query(),
            Some("session_id=dc207bc254dc483c972d8ccd9e6ba9b2")
        );
        assert_eq!(h.headers.len(), 7);
        assert_eq!(
            events[1],
            body(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}")
        );
        assert_eq!(events[2], RequestEvent::End);
    }

    #[test]
    fn three_keep_alive_requests_in_one_buffer() {
        let wire: &[u8] = b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\nGET /c HTTP/1.1\r\nConnection: close\r\n\r\n";
        let (events, err) = decode(wire);
        assert_eq!(err, None);
        assert_eq!(events.len(), 8, "{events:?}");
        assert_eq!(head(&events[0]).target, "/a");
        assert_eq!(events[1], body(b"hello"));
        assert_eq!(events[2], RequestEvent::End);
        assert_eq!(head(&events[3]).target, "/b");
        assert_eq!(events[4], body(b"abcde"));
        assert_eq!(events[5], RequestEvent::End);
        assert_eq!(head(&events[6]).target, "/c");
        assert!(!head(&events[6]).keep_alive());
        assert_eq!(events[7], RequestEvent::End);
    }

    #[test]
    fn every_split_gives_the_same_events() {
        let wire: &[u8] = b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello\r\nPOST /b HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let (expected, err) = decode(wire);
        assert_eq!(err, None);
        for split in 0..=wire.len() {
            let mut decoder = RequestDecoder::new(Limits::default());
            decoder.handle_bytes(Bytes::copy_from_slice(&wire[..split]));
            let (mut events, err) = drain(&mut decoder);
            assert_eq!(err, None);
            decoder.handle_bytes(Bytes::copy_from_slice(&wire[split..]));
            decoder.handle_eof();
            let (more, err) = drain(&mut decoder);
            assert_eq!(err, None);
            // Merge a body split across the two drains.
            for ev in more {
                match (events.last_mut(), ev) {
                    (Some(RequestEvent::Body(prev)), RequestEvent::Body(b)) => {
                        *prev = Bytes::from([&prev[..], &b[..]].concat());
                    }
                    (_, ev) => events.push(ev),
                }
            }
            assert_eq!(events, expected, "split at {split}");
        }
    }

    #[test]
    fn body_is_zero_copy_and_streams() {
        let mut decoder = RequestDecoder::new(Limits::default());
        decoder.handle_bytes(Bytes::from_static(
            b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n",
        ));
        assert!(matches!(
            decoder.poll_event(),
            Ok(Some(RequestEvent::Head(_)))
        ));
        assert_eq!(decoder.poll_event(), Ok(None));
        let input = Bytes::from_static(b"0123456789GET");
        decoder.handle_bytes(input.clone());
        let Ok(Some(RequestEvent::Body(piece))) = decoder.poll_event() else {
            panic!()
        };
        assert_eq!(&piece[..], b"0123456789");
        assert_eq!(piece.as_ptr(), input.as_ptr());
        assert_eq!(decoder.poll_event(), Ok(Some(RequestEvent::End)));
        assert_eq!(decoder.poll_event(), Ok(None));
        assert!(decoder.is_reading_head());
        assert!(!decoder.is_idle());
        assert_eq!(decoder.buffered_bytes(), 3);
    }

    #[test]
    fn header_values_are_slices_of_the_input() {
        let input = Bytes::from_static(GET_SSE);
        let mut decoder = RequestDecoder::new(Limits::default());
        decoder.handle_bytes(input.clone());
        let Ok(Some(RequestEvent::Head(h))) = decoder.poll_event() else {
            panic!()
        };
        let host = h.headers.get("host").unwrap();
        let offset = host.as_ptr() as usize - input.as_ptr() as usize;
        assert_eq!(&input[offset..offset + host.len()], b"127.0.0.1:8766");
    }

    #[test]
    fn idle_and_reading_head() {
        let mut decoder = RequestDecoder::new(Limits::default());
        assert!(decoder.is_idle());
        assert!(!decoder.is_reading_head());
        decoder.handle_bytes(Bytes::from_static(b"GET / HT"));
        assert_eq!(decoder.poll_event(), Ok(None));
        assert!(decoder.is_reading_head());
        assert!(!decoder.is_idle());
        assert_eq!(decoder.buffered_bytes(), 8);
        decoder.handle_bytes(Bytes::from_static(b"TP/1.1\r\n\r\n"));
        assert!(matches!(
            decoder.poll_event(),
            Ok(Some(RequestEvent::Head(_)))
        ));
        assert!(!decoder.is_reading_head());
        assert_eq!(decoder.poll_event(), Ok(Some(RequestEvent::End)));
        assert!(decoder.is_idle());
        assert_eq!(decoder.buffered_bytes(), 0);
        // Clean close between requests.
        decoder.handle_eof();
        assert_eq!(decoder.poll_event(), Ok(None));
    }

    #[test]
    fn slow_loris_byte_by_byte_stays_bounded() {
        let limits = Limits {
            max_head_bytes: 64,
            ..Limits::default()
        };
        let mut decoder = RequestDecoder::new(limits);
        let mut wire = b"GET / HTTP/1.1\r\nX: ".to_vec();
        wire.extend_from_slice(&[b'a'; 100]);
        let mut failed = None;
        for &b in &wire {
            decoder.handle_bytes(Bytes::copy_from_slice(&[b]));
            match decoder.poll_event() {
                Ok(None) => assert!(decoder.buffered_bytes() <= limits.max_buffered_bytes()),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
                Ok(Some(ev)) => panic!("unexpected {ev:?}"),
            }
        }
        assert_eq!(failed, Some(HttpError::HeadTooLarge { limit: 64 }));
        assert_eq!(decoder.buffered_bytes(), 0);
    }

    #[test]
    fn http10_and_leading_empty_lines() {
        let (events, err) = decode(b"\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n\r\n");
        assert_eq!(err, None);
        let h = head(&events[0]);
        assert_eq!(h.version, Version::Http10);
        assert!(h.keep_alive());
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn framing_errors_have_their_status() {
        let cases: [(&[u8], HttpError, u16); 6] = [
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
                HttpError::ConflictingFraming,
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                HttpError::UnsupportedTransferEncoding,
                501,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                HttpError::InvalidContentLength,
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                HttpError::InvalidContentLength,
                400,
            ),
            (
                b"GET / HTTP/2.0\r\n\r\n",
                HttpError::UnsupportedVersion,
                505,
            ),
            (
                b"GET / HTTP/1.1\r\nNo Colon\r\n\r\n",
                HttpError::Malformed("invalid header name"),
                400,
            ),
        ];
        for (wire, expected, status) in cases {
            let wire: &'static [u8] = Box::leak(wire.to_vec().into_boxed_slice());
            let (events, err) = decode(wire);
            assert!(events.is_empty(), "{events:?}");
            assert_eq!(err.as_ref(), Some(&expected));
            assert_eq!(expected.status(), status);
        }
    }

    #[test]
    fn head_limits() {
        let limits = Limits {
            max_head_bytes: 32,
            max_headers: 2,
            ..Limits::default()
        };
        let (_, err) = decode_with(b"GET /a-very-long-target-indeed HTTP/1.1\r\n\r\n", limits);
        assert_eq!(err, Some(HttpError::HeadTooLarge { limit: 32 }));
        assert_eq!(err.map(|e| e.status()), Some(431));
        let (_, err) = decode_with(
            b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
            Limits {
                max_headers: 2,
                ..Limits::default()
            },
        );
        assert_eq!(err, Some(HttpError::TooManyHeaders { limit: 2 }));
        assert_eq!(err.map(|e| e.status()), Some(431));
    }

    #[test]
    fn declared_body_too_large_yields_head_first() {
        let limits = Limits {
            max_body_bytes: 4,
            ..Limits::default()
        };
        let mut decoder = RequestDecoder::new(limits);
        decoder.handle_bytes(Bytes::from_static(
            b"GET /messages/ HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        ));
        let Ok(Some(RequestEvent::Head(h))) = decoder.poll_event() else {
            panic!()
        };
        assert_eq!(h.method, "GET");
        assert_eq!(
            decoder.poll_event(),
            Err(HttpError::BodyTooLarge { limit: 4 })
        );
        assert_eq!(
            decoder.poll_event(),
            Err(HttpError::BodyTooLarge { limit: 4 })
        );
        assert_eq!(decoder.buffered_bytes(), 0);
        // Exactly at the limit is fine.
        let (events, err) =
            decode_with(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd", limits);
        assert_eq!((events.len(), err), (3, None));
        // The default limit is the reference's 4 MiB.
        let (events, err) = decode(b"POST / HTTP/1.1\r\nContent-Length: 4194305\r\n\r\n");
        assert_eq!(events.len(), 1);
        assert_eq!(err, Some(HttpError::BodyTooLarge { limit: 4194304 }));
        assert_eq!(err.map(|e| e.status()), Some(413));
    }

    #[test]
    fn chunked_body_too_large_as_soon_as_exceeded() {
        let limits = Limits {
            max_body_bytes: 5,
            ..Limits::default()
        };
        let (events, err) = decode_with(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\n",
            limits,
        );
        assert_eq!(events.len(), 2);
        assert_eq!(events[1], body(b"abc"));
        assert_eq!(err, Some(HttpError::BodyTooLarge { limit: 5 }));
        let (_, err) = decode_with(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
            limits,
        );
        assert_eq!(err, Some(HttpError::BodyTooLarge { limit: 5 }));
        let (events, err) = decode_with(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", limits);
        assert_eq!((events.len(), err), (3, None));
    }

    #[test]
    fn chunk_errors() {
        let chunked = |tail: &'static str| -> HttpError {
            let wire = format!("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{tail}");
            let wire: &'static [u8] = Box::leak(wire.into_bytes().into_boxed_slice());
            error_of(wire)
        };
        assert_eq!(
            chunked("z\r\n"),
            HttpError::InvalidChunk("missing chunk size")
        );
        assert_eq!(
            chunked("3\r\nabcX\r\n"),
            HttpError::InvalidChunk("missing CRLF after chunk data")
        );
        assert_eq!(
            chunked("3\r\nabc\rX"),
            HttpError::InvalidChunk("missing CRLF after chunk data")
        );
        assert_eq!(
            chunked("3\r\nabc\n"),
            HttpError::InvalidChunk("missing CRLF after chunk data")
        );
        assert_eq!(
            chunked("0\r\nbad trailer\r\n\r\n"),
            HttpError::InvalidChunk("invalid trailer line")
        );
        assert_eq!(
            chunked("3 4\r\n"),
            HttpError::InvalidChunk("invalid chunk-size line")
        );
        let long = format!("1;{}\r\n", "e".repeat(2000));
        assert_eq!(
            chunked(Box::leak(long.into_boxed_str())),
            HttpError::InvalidChunk("chunk-size line too long")
        );
        let trailers = format!("0\r\nX: {}\r\n\r\n", "t".repeat(20_000));
        assert_eq!(
            chunked(Box::leak(trailers.into_boxed_str())),
            HttpError::HeadTooLarge { limit: 16 * 1024 }
        );
        assert_eq!(HttpError::InvalidChunk("x").status(), 400);
    }

    #[test]
    fn unexpected_eof() {
        assert_eq!(
            error_of(b"GET / HTTP/1.1\r\nHost: x\r\n"),
            HttpError::UnexpectedEof
        );
        assert_eq!(
            error_of(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc"),
            HttpError::UnexpectedEof
        );
        assert_eq!(
            error_of(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"),
            HttpError::UnexpectedEof
        );
        // Nothing, or only empty lines: a clean close.
        assert_eq!(decode(b""), (vec![], None));
        assert_eq!(decode(b"\r\n"), (vec![], None));
    }

    #[test]
    fn poisoned_after_error() {
        let mut decoder = RequestDecoder::new(Limits::default());
        decoder.handle_bytes(Bytes::from_static(b"BAD\x01 / HTTP/1.1\r\n\r\n"));
        let err = decoder.poll_event().unwrap_err();
        assert!(matches!(err, HttpError::Malformed(_)));
        decoder.handle_bytes(Bytes::from_static(b"GET / HTTP/1.1\r\n\r\n"));
        assert_eq!(decoder.buffered_bytes(), 0);
        assert_eq!(decoder.poll_event(), Err(err.clone()));
        assert_eq!(decoder.poll_event(), Err(err));
        assert!(!decoder.is_idle());
    }
}
