//! Direct sessions (no HTTP stream): the same machine, bounds and events as a stream's.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;

use super::*;
use crate::session::ServerFeatures;

fn endpoint(max_outbound: usize) -> ServerEndpoint {
    let config = EndpointConfig {
        session: session::ServerConfig {
            features: ServerFeatures {
                tools: true,
                ..ServerFeatures::default()
            },
            max_outbound,
            ..session::ServerConfig::default()
        },
        ..EndpointConfig::default()
    };
    ServerEndpoint::new(config, Box::new(|| [7u8; 16]))
}

fn msg(text: &str) -> Message {
    Message::from_slice(text.as_bytes()).expect("test message")
}

fn text(m: &Message) -> String {
    String::from_utf8_lossy(&m.to_vec()).into_owned()
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;

/// Drains the I/O instructions; the direct sessions they name.
fn direct_io(ep: &mut ServerEndpoint) -> Vec<SessionId> {
    let mut v = Vec::new();
    while let Some(io) = ep.poll_io() {
        match io {
            IoEvent::Direct(s) => v.push(s),
            other => panic!("no connection is open: {other:?}"),
        }
    }
    v
}

fn drain_direct(ep: &mut ServerEndpoint, s: SessionId) -> Vec<String> {
    std::iter::from_fn(|| ep.poll_direct(s))
        .map(|m| text(&m))
        .collect()
}

fn events(ep: &mut ServerEndpoint) -> Vec<EndpointEvent> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

fn initialized(ep: &mut ServerEndpoint, now: Instant) -> SessionId {
    let s = ep.open_direct_session(now);
    ep.handle_direct_message(s, msg(INIT), now).expect("live");
    assert_eq!(direct_io(ep), vec![s]);
    let out = drain_direct(ep, s);
    assert_eq!(out.len(), 1);
    assert!(out[0].contains(r#""id":0,"result""#), "{out:?}");
    assert!(events(ep)
        .iter()
        .any(|e| matches!(e, EndpointEvent::Initialized { session, .. } if *session == s)));
    s
}

#[test]
fn a_direct_session_answers_through_poll_direct() {
    let mut ep = endpoint(session::DEFAULT_MAX_OUTBOUND);
    let now = Instant::now();
    let s = initialized(&mut ep, now);
    assert!(ep.has_session(s));
    assert_eq!(ep.connection_count(), 0, "no connection carries it");
    let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo"}}"#;
    ep.handle_direct_message(s, msg(call), now).expect("live");
    let evs = events(&mut ep);
    let [EndpointEvent::Request {
        session,
        id,
        headers,
        ..
    }] = evs.as_slice()
    else {
        panic!("one request: {evs:?}");
    };
    assert_eq!(*session, s);
    assert!(headers.is_empty(), "no POST carried it");
    ep.respond(s, id.clone(), Ok(json!({"content": []})))
        .expect("in flight");
    assert_eq!(direct_io(&mut ep), vec![s]);
    assert_eq!(
        drain_direct(&mut ep, s),
        vec![r#"{"jsonrpc":"2.0","id":2,"result":{"content":[]}}"#.to_string()]
    );
    assert!(ep.poll_direct(s).is_none());
}

#[test]
fn closing_a_direct_session_resolves_everything_once() {
    let mut ep = endpoint(session::DEFAULT_MAX_OUTBOUND);
    let now = Instant::now();
    let s = initialized(&mut ep, now);
    let call = r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"slow"}}"#;
    ep.handle_direct_message(s, msg(call), now).expect("live");
    assert!(matches!(
        events(&mut ep).as_slice(),
        [EndpointEvent::Request { .. }]
    ));
    let ping = ep.send_request(s, "ping", None, None, now).expect("sent");
    assert!(ep.close_direct_session(s));
    let evs = events(&mut ep);
    assert!(
        matches!(
            evs.as_slice(),
            [
                EndpointEvent::RequestCancelled { reason: CancelReason::ConnectionLost, .. },
                EndpointEvent::Response { id, result: Err(e), .. },
                EndpointEvent::SessionClosed { session },
            ] if *id == ping && e.code == -32000 && *session == s
        ),
        "{evs:?}"
    );
    assert!(!ep.has_session(s));
    assert!(!ep.close_direct_session(s), "closed once");
    assert_eq!(
        ep.handle_direct_message(s, msg(INIT), now),
        Err(EndpointError::UnknownSession(s))
    );
    assert!(ep.poll_direct(s).is_none());
}

#[test]
fn a_direct_session_that_is_not_read_is_held_back_and_loses_nothing() {
    let mut ep = endpoint(session::DEFAULT_MAX_OUTBOUND);
    let now = Instant::now();
    let s = initialized(&mut ep, now);
    let n = DIRECT_QUEUE_MESSAGES * 3;
    for i in 0..n {
        assert_eq!(ep.is_held_back(s), i >= DIRECT_QUEUE_MESSAGES, "ping {i}");
        let ping = format!(r#"{{"jsonrpc":"2.0","id":{},"method":"ping"}}"#, i + 10);
        ep.handle_direct_message(s, msg(&ping), now).expect("live");
    }
    assert!(ep.is_held_back(s));
    direct_io(&mut ep);
    let out = drain_direct(&mut ep, s);
    let want: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"jsonrpc":"2.0","id":{},"result":{{}}}}"#, i + 10))
        .collect();
    assert_eq!(out, want, "every answer, in order");
    assert!(!ep.is_held_back(s));
    assert_eq!(ep.session(s).map(|m| m.dropped_outbound()), Some(0));
}

#[test]
fn a_refused_notify_is_followed_by_writable_once_there_is_room() {
    let mut ep = endpoint(4);
    let now = Instant::now();
    let s = initialized(&mut ep, now);
    let mut sent = 0;
    let refusal = loop {
        match ep.notify(s, "notifications/tools/list_changed", None) {
            Ok(true) => sent += 1,
            Ok(false) => panic!("not filtered"),
            Err(e) => break e,
        }
        assert!(sent < 1000, "the session's bound never applied");
    };
    assert!(refusal.is_outbound_full(), "{refusal:?}");
    assert_eq!(
        sent,
        DIRECT_QUEUE_MESSAGES + 4,
        "the queue, then the machine's bound"
    );
    assert!(events(&mut ep).is_empty(), "no room yet");
    direct_io(&mut ep);
    assert!(ep.poll_direct(s).is_some());
    let evs = events(&mut ep);
    assert_eq!(evs, vec![EndpointEvent::Writable { session: s }]);
    assert_eq!(
        ep.notify(s, "notifications/tools/list_changed", None),
        Ok(true)
    );
    assert_eq!(drain_direct(&mut ep, s).len(), sent);
    assert!(events(&mut ep).is_empty(), "one Writable per refusal");
}

#[test]
fn a_direct_request_times_out_on_the_endpoint_timer() {
    let mut ep = endpoint(session::DEFAULT_MAX_OUTBOUND);
    let now = Instant::now();
    let s = initialized(&mut ep, now);
    let id = ep
        .send_request(s, "roots/list", None, Some(Duration::from_secs(2)), now)
        .expect("sent");
    assert_eq!(ep.poll_timeout(), Some(now + Duration::from_secs(2)));
    let at = now + Duration::from_secs(2);
    ep.handle_timeout(at, SystemTime::UNIX_EPOCH);
    let evs = events(&mut ep);
    assert!(
        matches!(evs.as_slice(), [EndpointEvent::Response { id: got, result: Err(e), .. }]
            if *got == id && e.code == -32001),
        "{evs:?}"
    );
    let out = drain_direct(&mut ep, s);
    assert_eq!(out.len(), 2, "the request, then its cancellation: {out:?}");
    assert!(out[1].contains("notifications/cancelled"));
}

#[test]
fn direct_ids_are_not_uuids_the_transport_makes() {
    let mut ep = endpoint(session::DEFAULT_MAX_OUTBOUND);
    let now = Instant::now();
    let a = ep.open_direct_session(now);
    let b = ep.open_direct_session(now);
    assert_ne!(a, b);
    let v4 = SessionId::from_random_bytes([7u8; 16]);
    for s in [a, b] {
        assert_ne!(s, v4);
        assert_eq!(s.as_u128() >> 64, 0, "below 2^64: no version-4 bits");
    }
    assert_eq!(ep.session_count(), 2);
    assert_eq!(ep.transport().session_count(), 0);
}
