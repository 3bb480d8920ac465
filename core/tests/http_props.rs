//! Property tests of the HTTP/1.1 framing: any chunking of a valid stream gives the same
//! events, and encoding a head then decoding it gives the same head.

use bytes::{Bytes, BytesMut};
use mcp_sse_core::http::{
    encode_chunk, encode_last_chunk, HttpError, Limits, RequestDecoder, RequestEvent, RequestHead,
    ResponseDecoder, ResponseEvent, ResponseExpectation, ResponseHead, Version,
};
use proptest::prelude::*;

/// A header field that is neither `Content-Length` nor `Transfer-Encoding`, with a value that
/// has no leading/trailing whitespace (the parser trims it).
fn header() -> impl Strategy<Value = (String, String)> {
    (
        prop_oneof![
            Just("Host".to_owned()),
            Just("accept".to_owned()),
            Just("Connection".to_owned()),
            "X-[A-Za-z0-9-]{1,10}",
        ],
        prop_oneof![Just(String::new()), "[!-~]([ -~]{0,20}[!-~])?"],
    )
}

fn version() -> impl Strategy<Value = Version> {
    prop_oneof![Just(Version::Http11), Just(Version::Http10)]
}

#[derive(Clone, Debug)]
enum Framing {
    Length,
    /// Chunk sizes to cut the body into, and whether to add an extension and a trailer.
    Chunked(Vec<usize>, bool),
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        Just(Framing::Length),
        (proptest::collection::vec(1usize..40, 0..6), any::<bool>())
            .prop_map(|(sizes, extras)| Framing::Chunked(sizes, extras)),
    ]
}

/// Writes `body` with `framing`, having added the framing header to `headers`.
fn encode_body(body: &[u8], framing: &Framing, out: &mut BytesMut) {
    match framing {
        Framing::Length => out.extend_from_slice(body),
        Framing::Chunked(sizes, extras) => {
            let mut rest = body;
            let mut sizes = sizes.iter().cycle();
            while !rest.is_empty() {
                let n = sizes.next().copied().unwrap_or(rest.len()).min(rest.len());
                let (chunk, tail) = rest.split_at(n);
                if *extras {
                    out.extend_from_slice(format!("{n:X};name=\"v\"\r\n").as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                } else {
                    encode_chunk(chunk, out);
                }
                rest = tail;
            }
            if *extras {
                out.extend_from_slice(b"0;last\r\nX-Trailer: yes\r\n\r\n");
            } else {
                encode_last_chunk(out);
            }
        }
    }
}

fn framing_header(body: &[u8], framing: &Framing) -> (&'static str, String) {
    match framing {
        Framing::Length => ("Content-Length", body.len().to_string()),
        Framing::Chunked(..) => ("Transfer-Encoding", "chunked".to_owned()),
    }
}

#[derive(Clone, Debug)]
struct Request {
    head: RequestHead,
    body: Vec<u8>,
    framing: Framing,
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop_oneof![Just("GET"), Just("POST"), Just("DELETE")],
        "/[a-z/]{0,10}(\\?[a-z0-9=&]{0,12})?",
        version(),
        proptest::collection::vec(header(), 0..5),
        proptest::collection::vec(any::<u8>(), 0..120),
        framing(),
    )
        .prop_map(|(method, target, version, headers, body, framing)| {
            let mut head = RequestHead::new(method, &target);
            head.version = version;
            for (n, v) in headers {
                head.headers.push(n, v);
            }
            let (n, v) = framing_header(&body, &framing);
            head.headers.push(n, v);
            Request {
                head,
                body,
                framing,
            }
        })
}

/// Cuts `wire` into pieces of the given sizes (cycled).
fn pieces(wire: &[u8], sizes: &[usize]) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut rest = wire;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let n = sizes
            .next()
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        let (a, b) = rest.split_at(n);
        out.push(Bytes::copy_from_slice(a));
        rest = b;
    }
    out
}

/// Request events with each request's Body pieces concatenated into one (absent if empty).
fn merge_requests(events: Vec<RequestEvent>) -> Vec<RequestEvent> {
    let mut out: Vec<RequestEvent> = Vec::new();
    for ev in events {
        match (out.last_mut(), ev) {
            (Some(RequestEvent::Body(prev)), RequestEvent::Body(b)) => {
                *prev = Bytes::from([&prev[..], &b[..]].concat());
            }
            (_, RequestEvent::Body(b)) if b.is_empty() => {}
            (_, ev) => out.push(ev),
        }
    }
    out
}

fn merge_responses(events: Vec<ResponseEvent>) -> Vec<ResponseEvent> {
    let mut out: Vec<ResponseEvent> = Vec::new();
    for ev in events {
        match (out.last_mut(), ev) {
            (Some(ResponseEvent::Body(prev)), ResponseEvent::Body(b)) => {
                *prev = Bytes::from([&prev[..], &b[..]].concat());
            }
            (_, ResponseEvent::Body(b)) if b.is_empty() => {}
            (_, ev) => out.push(ev),
        }
    }
    out
}

fn decode_requests(input: &[Bytes], limits: Limits) -> (Vec<RequestEvent>, Option<HttpError>) {
    let mut decoder = RequestDecoder::new(limits);
    let mut events = Vec::new();
    for piece in input {
        decoder.handle_bytes(piece.clone());
        loop {
            match decoder.poll_event() {
                Ok(Some(ev)) => events.push(ev),
                Ok(None) => break,
                Err(e) => return (merge_requests(events), Some(e)),
            }
        }
        assert!(decoder.buffered_bytes() <= limits.max_buffered_bytes());
    }
    decoder.handle_eof();
    loop {
        match decoder.poll_event() {
            Ok(Some(ev)) => events.push(ev),
            Ok(None) => return (merge_requests(events), None),
            Err(e) => return (merge_requests(events), Some(e)),
        }
    }
}

fn decode_responses(
    expectations: &[ResponseExpectation],
    input: &[Bytes],
    eof: bool,
) -> (Vec<ResponseEvent>, Option<HttpError>) {
    let limits = Limits::default();
    let mut decoder = ResponseDecoder::new(limits);
    for e in expectations {
        decoder.expect(*e);
    }
    let mut events = Vec::new();
    for piece in input {
        decoder.handle_bytes(piece.clone());
        loop {
            match decoder.poll_event() {
                Ok(Some(ev)) => events.push(ev),
                Ok(None) => break,
                Err(e) => return (merge_responses(events), Some(e)),
            }
        }
        assert!(decoder.buffered_bytes() <= limits.max_buffered_bytes());
    }
    if eof {
        decoder.handle_eof();
    }
    loop {
        match decoder.poll_event() {
            Ok(Some(ev)) => events.push(ev),
            Ok(None) => return (merge_responses(events), None),
            Err(e) => return (merge_responses(events), Some(e)),
        }
    }
}

#[derive(Clone, Debug)]
struct Response {
    expectation: ResponseExpectation,
    interim: bool,
    head: ResponseHead,
    body: Vec<u8>,
    framing: Framing,
}

fn response() -> impl Strategy<Value = Response> {
    (
        prop_oneof![
            Just(200u16),
            Just(202),
            Just(204),
            Just(304),
            Just(400),
            Just(404)
        ],
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(header(), 0..4),
        proptest::collection::vec(any::<u8>(), 0..120),
        framing(),
    )
        .prop_map(|(status, head_request, interim, headers, body, framing)| {
            let mut head = ResponseHead::new(status, mcp_sse_core::http::reason_phrase(status));
            for (n, v) in headers {
                head.headers.push(n, v);
            }
            let (n, v) = framing_header(&body, &framing);
            head.headers.push(n, v);
            let bodyless = head_request || status == 204 || status == 304;
            Response {
                expectation: ResponseExpectation {
                    head_request,
                    max_body_bytes: None,
                },
                interim,
                head,
                body: if bodyless { Vec::new() } else { body },
                framing: if bodyless { Framing::Length } else { framing },
            }
        })
}

proptest! {
    #[test]
    fn any_chunking_of_requests_gives_the_same_events(
        requests in proptest::collection::vec(request(), 1..4),
        sizes in proptest::collection::vec(1usize..64, 1..8),
    ) {
        let mut wire = BytesMut::new();
        let mut expected = Vec::new();
        for r in &requests {
            r.head.encode(&mut wire);
            encode_body(&r.body, &r.framing, &mut wire);
            expected.push(RequestEvent::Head(r.head.clone()));
            if !r.body.is_empty() {
                expected.push(RequestEvent::Body(Bytes::from(r.body.clone())));
            }
            expected.push(RequestEvent::End);
        }
        let whole = decode_requests(&[wire.clone().freeze()], Limits::default());
        prop_assert_eq!(&whole, &(expected.clone(), None));
        let chunked = decode_requests(&pieces(&wire, &sizes), Limits::default());
        prop_assert_eq!(&chunked, &(expected, None));
    }

    #[test]
    fn any_chunking_of_responses_gives_the_same_events(
        responses in proptest::collection::vec(response(), 1..4),
        until_eof in proptest::collection::vec(any::<u8>(), 0..50),
        sizes in proptest::collection::vec(1usize..64, 1..8),
    ) {
        let mut wire = BytesMut::new();
        let mut expected = Vec::new();
        let mut expectations = Vec::new();
        for r in &responses {
            if r.interim {
                wire.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
            r.head.encode(&mut wire);
            encode_body(&r.body, &r.framing, &mut wire);
            expectations.push(r.expectation);
            expected.push(ResponseEvent::Head(r.head.clone()));
            if !r.body.is_empty() {
                expected.push(ResponseEvent::Body(Bytes::from(r.body.clone())));
            }
            expected.push(ResponseEvent::End);
        }
        // A last response without framing headers runs until EOF.
        let last = ResponseHead::new(200, "OK");
        last.encode(&mut wire);
        wire.extend_from_slice(&until_eof);
        expectations.push(ResponseExpectation { head_request: false, max_body_bytes: None });
        expected.push(ResponseEvent::Head(last));
        if !until_eof.is_empty() {
            expected.push(ResponseEvent::Body(Bytes::from(until_eof.clone())));
        }
        expected.push(ResponseEvent::End);

        let whole = decode_responses(&expectations, &[wire.clone().freeze()], true);
        prop_assert_eq!(&whole, &(expected.clone(), None));
        let chunked = decode_responses(&expectations, &pieces(&wire, &sizes), true);
        prop_assert_eq!(&chunked, &(expected, None));
    }

    #[test]
    fn request_head_round_trips(r in request()) {
        let mut wire = BytesMut::new();
        r.head.encode(&mut wire);
        let mut decoder = RequestDecoder::new(Limits::default());
        decoder.handle_bytes(wire.freeze());
        prop_assert_eq!(decoder.poll_event(), Ok(Some(RequestEvent::Head(r.head))));
    }

    #[test]
    fn response_head_round_trips(
        status in 200u16..600,
        reason in "[ -~]{0,20}",
        headers in proptest::collection::vec(header(), 0..6),
        version in version(),
    ) {
        let mut head = ResponseHead::new(status, &reason);
        head.version = version;
        for (n, v) in headers {
            head.headers.push(n, v);
        }
        let mut wire = BytesMut::new();
        head.encode(&mut wire);
        let mut decoder = ResponseDecoder::new(Limits::default());
        decoder.expect(ResponseExpectation { head_request: true, max_body_bytes: None });
        decoder.handle_bytes(wire.freeze());
        prop_assert_eq!(decoder.poll_event(), Ok(Some(ResponseEvent::Head(head))));
        prop_assert_eq!(decoder.poll_event(), Ok(Some(ResponseEvent::End)));
    }
}
