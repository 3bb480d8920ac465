//! Session machines against scripted peers and against each other, with a fake clock.

use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::*;
use crate::jsonrpc::{codes, ErrorObject, Message, Notification, RequestId};

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Parses wire text (what the peer would send).
fn msg(text: &str) -> Message {
    Message::from_slice(text.as_bytes()).expect("valid test message")
}

fn text(m: &Message) -> String {
    String::from_utf8(m.to_vec()).expect("utf-8")
}

fn client_out(c: &mut ClientSession) -> Vec<String> {
    std::iter::from_fn(|| c.poll_transmit())
        .map(|m| text(&m))
        .collect()
}

fn server_out(s: &mut ServerSession) -> Vec<String> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|m| text(&m))
        .collect()
}

fn client_events(c: &mut ClientSession) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn server_events(s: &mut ServerSession) -> Vec<ServerEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// Moves every queued message across (through the byte encoding) until both sides are idle.
fn pump(c: &mut ClientSession, s: &mut ServerSession, now: Instant) {
    loop {
        let mut moved = false;
        while let Some(m) = c.poll_transmit() {
            s.handle_message(msg(&text(&m)), now);
            moved = true;
        }
        while let Some(m) = s.poll_transmit() {
            c.handle_message(msg(&text(&m)), now);
            moved = true;
        }
        if !moved {
            break;
        }
    }
}

fn mcp_client_config() -> ClientConfig {
    ClientConfig {
        client_info: json!({"name":"mcp","version":"0.1.0"}),
        ..ClientConfig::default()
    }
}

const INIT_OK: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"capabilities":{},"protocolVersion":"2025-11-25","serverInfo":{"name":"s","version":"1"}}}"#;

/// A client whose handshake with a scripted server is complete, with the outbound queue empty.
fn ready_client(config: ClientConfig, now: Instant) -> ClientSession {
    let mut c = ClientSession::new(config);
    c.initialize(now).unwrap();
    c.handle_message(msg(INIT_OK), now);
    client_out(&mut c);
    client_events(&mut c);
    c
}

/// A ready client that handles sampling, roots and elicitation, to which the server has just
/// sent `sampling/createMessage` with id 1 (its event not polled yet).
fn client_with_sampling_request(now: Instant) -> ClientSession {
    let config = ClientConfig {
        handles_sampling: true,
        handles_roots: true,
        handles_elicitation: true,
        ..mcp_client_config()
    };
    let mut c = ready_client(config, now);
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{"maxTokens":5}}"#),
        now,
    );
    c
}

fn all_features() -> ServerFeatures {
    ServerFeatures {
        tools: true,
        resources: true,
        resources_subscribe: true,
        prompts: true,
        completions: true,
        logging: true,
        ..ServerFeatures::default()
    }
}

fn init_request(id: i64, version: &str) -> Message {
    msg(&format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"initialize","params":{{"protocolVersion":"{version}","capabilities":{{}},"clientInfo":{{"name":"c","version":"1"}}}}}}"#
    ))
}

fn ready_server(features: ServerFeatures, now: Instant) -> ServerSession {
    let mut s = ServerSession::new(ServerConfig {
        features,
        ..ServerConfig::default()
    });
    s.handle_message(init_request(0, "2025-11-25"), now);
    server_out(&mut s);
    server_events(&mut s);
    s
}

// ================================ client ======================================================

#[test]
fn client_initialize_bytes_match_reference() {
    let now = Instant::now();
    let mut c = ClientSession::new(mcp_client_config());
    assert_eq!(c.initialize(now), Ok(RequestId::from(1)));
    assert_eq!(
        client_out(&mut c),
        [
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp","version":"0.1.0"}}}"#
        ]
    );
    assert_eq!(c.initialize(now), Err(SessionError::AlreadyInitialized));
}

#[test]
fn client_ids_run_1_2_3_and_initialized_goes_first() {
    let now = Instant::now();
    let mut c = ClientSession::new(mcp_client_config());
    c.initialize(now).unwrap();
    // Queued before the handshake completes: not transmitted yet.
    let early = c.send_request("ping", None, RequestOptions::default(), now);
    assert_eq!(early, Ok(RequestId::from(2)));
    c.send_notification("notifications/roots/list_changed", None)
        .unwrap();
    assert_eq!(client_out(&mut c).len(), 1);
    assert!(!c.is_ready());

    c.handle_message(msg(INIT_OK), now);
    assert_eq!(
        client_out(&mut c),
        [
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#,
        ]
    );
    let events = client_events(&mut c);
    assert_eq!(events.len(), 2);
    assert!(
        matches!(&events[0], ClientEvent::Response { id, result: Ok(_) } if *id == RequestId::from(1))
    );
    assert!(
        matches!(&events[1], ClientEvent::Initialized { protocol_version, .. } if protocol_version == "2025-11-25")
    );
    assert_eq!(c.protocol_version(), Some("2025-11-25"));

    let id = c
        .send_request("tools/list", None, RequestOptions::default(), now)
        .unwrap();
    assert_eq!(id, RequestId::from(3));
    let id = c
        .send_request(
            "tools/call",
            Some(obj(json!({"name":"echo"}))),
            RequestOptions::default(),
            now,
        )
        .unwrap();
    assert_eq!(id, RequestId::from(4));
    assert_eq!(
        client_out(&mut c),
        [
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo"}}"#,
        ]
    );
    // Exactly one initialized notification, ever.
    c.handle_message(msg(INIT_OK), now);
    assert!(client_out(&mut c).is_empty());
}

#[test]
fn client_rejects_unsupported_server_version() {
    let now = Instant::now();
    let mut c = ClientSession::new(mcp_client_config());
    c.initialize(now).unwrap();
    c.send_request("ping", None, RequestOptions::default(), now)
        .unwrap();
    client_out(&mut c);
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":1,"result":{"capabilities":{},"protocolVersion":"1999-01-01","serverInfo":{"name":"s","version":"1"}}}"#),
        now,
    );
    assert!(
        client_out(&mut c).is_empty(),
        "no notifications/initialized"
    );
    let events = client_events(&mut c);
    let ClientEvent::Response {
        result: Err(err), ..
    } = &events[0]
    else {
        panic!("{events:?}")
    };
    assert_eq!(
        err.to_error_object().message,
        "Unsupported protocol version from the server: 1999-01-01"
    );
    assert!(
        matches!(err, RequestError::Handshake { error: InitializeError::UnsupportedProtocolVersion(v), result: Some(_) } if v == "1999-01-01"),
        "{err:?}"
    );
    assert_eq!(
        events[1],
        ClientEvent::InitializeFailed(InitializeError::UnsupportedProtocolVersion(
            "1999-01-01".into()
        ))
    );
    assert_eq!(
        events[1].clone(),
        ClientEvent::InitializeFailed(InitializeError::UnsupportedProtocolVersion(
            "1999-01-01".into()
        ))
    );
    // The queued ping resolves with the same error.
    assert!(
        matches!(&events[2], ClientEvent::Response { id, result: Err(e) } if *id == RequestId::from(2) && e == err)
    );
    assert_eq!(events.len(), 3);
    assert_eq!(
        c.send_request("ping", None, RequestOptions::default(), now),
        Err(SessionError::InitializeFailed)
    );
}

#[test]
fn client_accepts_older_supported_version() {
    let now = Instant::now();
    for v in SUPPORTED_PROTOCOL_VERSIONS {
        let mut c = ClientSession::new(mcp_client_config());
        c.initialize(now).unwrap();
        c.handle_message(
            msg(&format!(
                r#"{{"jsonrpc":"2.0","id":1,"result":{{"capabilities":{{}},"protocolVersion":"{v}","serverInfo":{{"name":"s","version":"1"}}}}}}"#
            )),
            now,
        );
        assert_eq!(c.protocol_version(), Some(v));
    }
}

#[test]
fn client_initialize_error_and_bad_result() {
    let now = Instant::now();
    let mut c = ClientSession::new(mcp_client_config());
    c.initialize(now).unwrap();
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid request parameters","data":""}}"#),
        now,
    );
    let events = client_events(&mut c);
    assert_eq!(
        events[1],
        ClientEvent::InitializeFailed(InitializeError::Rejected(ErrorObject::invalid_params()))
    );

    let mut c = ClientSession::new(mcp_client_config());
    c.initialize(now).unwrap();
    c.handle_message(msg(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#), now);
    let events = client_events(&mut c);
    assert_eq!(
        events[1],
        ClientEvent::InitializeFailed(InitializeError::InvalidResult)
    );
}

#[test]
fn client_timeout_resolves_32001_and_sends_cancelled() {
    let t0 = Instant::now();
    let mut c = ready_client(mcp_client_config(), t0);
    let opts = RequestOptions {
        timeout: Some(Duration::from_millis(500)),
        progress: false,
    };
    let id = c
        .send_request("tools/call", Some(obj(json!({"name":"slow"}))), opts, t0)
        .unwrap();
    client_out(&mut c);
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_millis(500)));
    c.handle_timeout(t0 + Duration::from_millis(499));
    assert!(client_events(&mut c).is_empty());
    c.handle_timeout(t0 + Duration::from_millis(500));
    assert_eq!(
        client_events(&mut c),
        [ClientEvent::Response {
            id: id.clone(),
            result: Err(RequestError::Timeout {
                method: "tools/call".into(),
                timeout: Some(Duration::from_millis(500)),
            }),
        }]
    );
    assert_eq!(
        client_out(&mut c),
        [
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"timed out after 0.5s"}}"#
        ]
    );
    assert_eq!(c.poll_timeout(), None);
    // The late response is dropped; the session stays usable.
    c.handle_message(msg(r#"{"jsonrpc":"2.0","id":2,"result":{}}"#), t0);
    assert!(client_events(&mut c).is_empty());
    assert_eq!(
        c.send_request("ping", None, RequestOptions::default(), t0),
        Ok(RequestId::from(3))
    );
}

#[test]
fn client_default_timeout_applies_to_every_request() {
    let t0 = Instant::now();
    let config = ClientConfig {
        default_timeout: Some(Duration::from_secs(5)),
        ..mcp_client_config()
    };
    let mut c = ready_client(config, t0);
    c.send_request("ping", None, RequestOptions::default(), t0)
        .unwrap();
    client_out(&mut c);
    c.handle_timeout(t0 + Duration::from_secs(5));
    assert_eq!(
        client_out(&mut c),
        [
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"timed out after 5.0s"}}"#
        ]
    );
}

#[test]
fn client_initialize_timeout_sends_no_cancellation() {
    let t0 = Instant::now();
    let config = ClientConfig {
        default_timeout: Some(Duration::from_secs(1)),
        ..mcp_client_config()
    };
    let mut c = ClientSession::new(config);
    c.initialize(t0).unwrap();
    client_out(&mut c);
    c.handle_timeout(t0 + Duration::from_secs(2));
    assert!(client_out(&mut c).is_empty());
    let events = client_events(&mut c);
    assert_eq!(
        events,
        [
            ClientEvent::Response {
                id: 1.into(),
                result: Err(RequestError::Timeout {
                    method: "initialize".into(),
                    timeout: Some(Duration::from_secs(1)),
                }),
            },
            ClientEvent::InitializeFailed(InitializeError::TimedOut),
        ]
    );
}

#[test]
fn client_queued_request_times_out_without_being_sent() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(mcp_client_config());
    c.initialize(t0).unwrap();
    let opts = RequestOptions {
        timeout: Some(Duration::from_secs(1)),
        progress: false,
    };
    c.send_request("ping", None, opts, t0).unwrap();
    client_out(&mut c);
    c.handle_timeout(t0 + Duration::from_secs(1));
    assert!(client_out(&mut c).is_empty());
    assert_eq!(client_events(&mut c).len(), 1);
    c.handle_message(msg(INIT_OK), t0);
    assert_eq!(
        client_out(&mut c),
        [r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#]
    );
}

#[test]
fn client_caller_cancel_sends_notification_and_resolves_nothing() {
    let t0 = Instant::now();
    let mut c = ready_client(mcp_client_config(), t0);
    let id = c
        .send_request("tools/call", None, RequestOptions::default(), t0)
        .unwrap();
    client_out(&mut c);
    assert!(c.cancel(&id, "caller cancelled"));
    assert!(!c.cancel(&id, "caller cancelled"));
    assert!(!c.cancel(&RequestId::from(1), "caller cancelled"));
    assert_eq!(
        client_out(&mut c),
        [
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"caller cancelled"}}"#
        ]
    );
    c.handle_message(msg(r#"{"jsonrpc":"2.0","id":2,"result":{}}"#), t0);
    assert!(client_events(&mut c).is_empty());
}

#[test]
fn client_connection_lost_fails_everything_with_32000() {
    let t0 = Instant::now();
    let mut c = ready_client(mcp_client_config(), t0);
    let a = c
        .send_request("tools/list", None, RequestOptions::default(), t0)
        .unwrap();
    let b = c
        .send_request("prompts/list", None, RequestOptions::default(), t0)
        .unwrap();
    c.handle_connection_lost();
    assert_eq!(
        client_events(&mut c),
        [
            ClientEvent::Response {
                id: a,
                result: Err(RequestError::Closed)
            },
            ClientEvent::Response {
                id: b,
                result: Err(RequestError::Closed)
            },
        ]
    );
    assert!(client_out(&mut c).is_empty());
    let err = c
        .send_request("ping", None, RequestOptions::default(), t0)
        .unwrap_err();
    assert_eq!(err, SessionError::ConnectionClosed);
    assert_eq!(err.to_error_object().code, codes::CONNECTION_CLOSED);
    assert_eq!(
        c.send_notification("x", None),
        Err(SessionError::ConnectionClosed)
    );
    c.handle_message(msg(r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#), t0);
    assert!(client_out(&mut c).is_empty());
}

#[test]
fn client_connection_lost_cancels_server_requests_being_handled_and_withdraws_unseen_ones() {
    let t0 = Instant::now();
    let mut c = client_with_sampling_request(t0);
    assert_eq!(
        client_events(&mut c).len(),
        1,
        "the sampling request is being handled"
    );
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":"r","method":"roots/list"}"#),
        t0,
    );
    c.handle_connection_lost();
    // The callback running for request 1 is told; roots/list, never polled, is withdrawn (no
    // callback starts for an answer that cannot be delivered).
    assert_eq!(
        client_events(&mut c),
        [ClientEvent::ServerRequestCancelled { id: 1.into() }]
    );
    c.respond(1.into(), Ok(json!({})));
    assert!(client_out(&mut c).is_empty());
}

#[test]
fn client_connection_lost_during_handshake() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(mcp_client_config());
    c.initialize(t0).unwrap();
    c.send_request("ping", None, RequestOptions::default(), t0)
        .unwrap();
    c.handle_connection_lost();
    let events = client_events(&mut c);
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[2],
        ClientEvent::InitializeFailed(InitializeError::ConnectionClosed)
    );
}

#[test]
fn client_progress_token_rules() {
    let t0 = Instant::now();
    let mut c = ready_client(mcp_client_config(), t0);
    // No progress requested → no _meta at all.
    c.send_request(
        "tools/call",
        Some(obj(json!({"name":"a"}))),
        RequestOptions::default(),
        t0,
    )
    .unwrap();
    let with = RequestOptions {
        progress: true,
        ..RequestOptions::default()
    };
    // Merged into an existing _meta; created when params are absent.
    c.send_request(
        "tools/call",
        Some(obj(json!({"name":"b","_meta":{"k":1}}))),
        with.clone(),
        t0,
    )
    .unwrap();
    c.send_request("tools/list", None, with.clone(), t0)
        .unwrap();
    assert_eq!(
        client_out(&mut c),
        [
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a"}}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"b","_meta":{"k":1,"progressToken":3}}}"#,
            r#"{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"_meta":{"progressToken":4}}}"#,
        ]
    );
    assert_eq!(
        c.send_request("x", Some(obj(json!({"_meta":5}))), with, t0),
        Err(SessionError::MetaNotObject)
    );

    let progress = |token: &str, p: &str| {
        msg(&format!(
            r#"{{"jsonrpc":"2.0","method":"notifications/progress","params":{{"progressToken":{token},"progress":{p},"total":10,"message":"m"}}}}"#
        ))
    };
    c.handle_message(progress("3", "1"), t0);
    c.handle_message(progress("3", "0.5"), t0); // non-increasing: forwarded unchanged
    c.handle_message(progress("\"3\"", "2"), t0); // string token ≠ integer id
    c.handle_message(progress("2", "2"), t0); // request without progress
    c.handle_message(progress("99", "2"), t0); // unknown
    assert_eq!(
        client_events(&mut c),
        [
            ClientEvent::Progress {
                id: 3.into(),
                progress: 1.0,
                total: Some(10.0),
                message: Some("m".into())
            },
            ClientEvent::Progress {
                id: 3.into(),
                progress: 0.5,
                total: Some(10.0),
                message: Some("m".into())
            },
        ]
    );
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":4}}"#),
        t0,
    );
    assert!(matches!(
        client_events(&mut c)[..],
        [ClientEvent::InvalidMessage { .. }]
    ));
    // After the response, progress is dropped.
    c.handle_message(msg(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#), t0);
    c.handle_message(progress("3", "5"), t0);
    let events = client_events(&mut c);
    assert_eq!(events.len(), 1);
    assert!(matches!(events[0], ClientEvent::Response { .. }));
}

#[test]
fn client_string_and_number_ids_are_distinct_and_unknown_ids_dropped() {
    let t0 = Instant::now();
    let mut c = ready_client(mcp_client_config(), t0);
    c.send_request("ping", None, RequestOptions::default(), t0)
        .unwrap();
    c.handle_message(msg(r#"{"jsonrpc":"2.0","id":"2","result":{}}"#), t0);
    c.handle_message(msg(r#"{"jsonrpc":"2.0","id":77,"result":{}}"#), t0);
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"result":{}}"#),
        t0,
    );
    assert!(client_events(&mut c).is_empty());
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":2,"error":{"code":5,"message":"no","data":[1]}}"#),
        t0,
    );
    assert_eq!(
        client_events(&mut c),
        [ClientEvent::Response {
            id: 2.into(),
            result: Err(RequestError::Rpc(
                ErrorObject::new(5, "no").with_data(json!([1]))
            ))
        }]
    );
}

#[test]
fn client_answers_server_requests_without_handlers() {
    let t0 = Instant::now();
    let mut c = ready_client(mcp_client_config(), t0);
    for (i, m) in [
        "ping",
        "sampling/createMessage",
        "roots/list",
        "elicitation/create",
        "tools/list",
    ]
    .iter()
    .enumerate()
    {
        c.handle_message(
            msg(&format!(
                r#"{{"jsonrpc":"2.0","id":{},"method":"{m}"}}"#,
                i + 1
            )),
            t0,
        );
    }
    assert_eq!(
        client_out(&mut c),
        [
            r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32600,"message":"Sampling not supported"}}"#,
            r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"List roots not supported"}}"#,
            r#"{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"Elicitation not supported"}}"#,
            r#"{"jsonrpc":"2.0","id":5,"error":{"code":-32601,"message":"Method not found","data":"tools/list"}}"#,
        ]
    );
    assert!(client_events(&mut c).is_empty());
}

#[test]
fn client_server_requests_with_handlers_and_server_cancel() {
    let t0 = Instant::now();
    let mut c = client_with_sampling_request(t0);
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":"r","method":"roots/list"}"#),
        t0,
    );
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":3,"method":"elicitation/create","params":{"mode":"form"}}"#),
        t0,
    );
    let events = client_events(&mut c);
    assert_eq!(
        events[0],
        ClientEvent::ServerRequest {
            id: 1.into(),
            kind: ServerRequestKind::Sampling,
            params: Some(obj(json!({"maxTokens":5})))
        }
    );
    assert_eq!(events.len(), 3);
    c.respond("r".into(), Ok(json!({"roots":[]})));
    // The server cancels request 1: event, and the later respond is dropped.
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"x"}}"#),
        t0,
    );
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":42}}"#),
        t0,
    );
    assert_eq!(
        client_events(&mut c),
        [ClientEvent::ServerRequestCancelled { id: 1.into() }]
    );
    c.respond(1.into(), Ok(json!({})));
    c.respond(3.into(), Err(ErrorObject::new(-1, "declined")));
    c.respond(3.into(), Ok(json!({}))); // already answered
    assert_eq!(
        client_out(&mut c),
        [
            r#"{"jsonrpc":"2.0","id":"r","result":{"roots":[]}}"#,
            r#"{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"declined"}}"#,
        ]
    );
}

#[test]
fn client_routes_log_messages_and_forwards_other_notifications() {
    let t0 = Instant::now();
    let mut c = ready_client(mcp_client_config(), t0);
    let n = r#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hi é"}}"#;
    c.handle_message(msg(n), t0);
    c.handle_message(
        msg(r#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#),
        t0,
    );
    let events = client_events(&mut c);
    assert_eq!(events.len(), 2);
    let ClientEvent::LogMessage(first) = &events[0] else {
        panic!()
    };
    assert_eq!(text(&Message::Notification(first.clone())), n);
    let ClientEvent::Notification(second) = &events[1] else {
        panic!("{:?}", events[1])
    };
    assert_eq!(second.method, "notifications/tools/list_changed");
}

#[test]
fn client_tables_are_bounded() {
    let t0 = Instant::now();
    let config = ClientConfig {
        max_pending: 2,
        max_events: 1,
        max_server_requests: 1,
        handles_roots: true,
        ..mcp_client_config()
    };
    let mut c = ready_client(config, t0);
    c.send_request("a", None, RequestOptions::default(), t0)
        .unwrap();
    c.send_request("b", None, RequestOptions::default(), t0)
        .unwrap();
    assert_eq!(c.pending_requests(), 2);
    assert_eq!(
        c.send_request("c", None, RequestOptions::default(), t0),
        Err(SessionError::TooManyPending { limit: 2 })
    );
    client_out(&mut c);
    for _ in 0..3 {
        c.handle_message(msg(r#"{"jsonrpc":"2.0","method":"notifications/x"}"#), t0);
    }
    assert_eq!(client_events(&mut c).len(), 1);
    assert_eq!(c.dropped_events(), 2);
    c.handle_message(msg(r#"{"jsonrpc":"2.0","id":1,"method":"roots/list"}"#), t0);
    c.handle_message(msg(r#"{"jsonrpc":"2.0","id":2,"method":"roots/list"}"#), t0);
    assert_eq!(
        client_out(&mut c),
        [
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32603,"message":"Too many concurrent requests"}}"#
        ]
    );

    let config = ClientConfig {
        max_outbound: 1,
        ..mcp_client_config()
    };
    let mut c = ready_client(config, t0);
    c.send_notification("a", None).unwrap();
    assert_eq!(
        c.send_notification("b", None),
        Err(SessionError::OutboundFull { limit: 1 })
    );
}

// ================================ server ======================================================

fn capture() -> Option<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/spec/wire-capture.txt"
    );
    std::fs::read_to_string(path).ok()
}

/// The reference's own `initialize` exchange (wire-capture.txt), reproduced byte for byte.
#[test]
fn server_initialize_matches_wire_capture() {
    let Some(cap) = capture() else {
        panic!("../shared/spec/wire-capture.txt not found");
    };
    let request = cap
        .lines()
        .find(|l| l.starts_with(r#"{"jsonrpc":"2.0","id":1,"method":"initialize""#))
        .expect("initialize request in capture");
    let response = cap
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|l| l.trim_end_matches("\\r\\n"))
        .find(|l| l.starts_with(r#"{"jsonrpc":"2.0","id":1,"result":{"capabilities""#))
        .expect("initialize response in capture");
    let now = Instant::now();
    let mut s = ServerSession::new(ServerConfig {
        server_info: json!({"name":"py-sse-bench","version":"1.0.0"}),
        instructions: Some("Reference SSE peer for interop tests.".into()),
        features: ServerFeatures {
            tools: true,
            resources: true,
            prompts: true,
            ..ServerFeatures::default()
        },
        ..ServerConfig::default()
    });
    s.handle_message(msg(request), now);
    assert_eq!(server_out(&mut s), [response]);
    assert_eq!(
        server_events(&mut s),
        [ServerEvent::Initialized {
            protocol_version: "2024-11-05".into(),
            client_info: json!({"name":"raw-capture","version":"0.0.1"}),
            client_capabilities: json!({"sampling":{},"roots":{"listChanged":true}}),
        }]
    );
}

#[test]
fn server_version_negotiation() {
    let now = Instant::now();
    for (asked, answered) in [
        ("2025-03-26", "2025-03-26"),
        ("2024-11-05", "2024-11-05"),
        ("1999-01-01", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),
    ] {
        let mut s = ServerSession::new(ServerConfig::default());
        s.handle_message(init_request(1, asked), now);
        let out = server_out(&mut s);
        assert!(
            out[0].contains(&format!(r#""protocolVersion":"{answered}""#)),
            "{out:?}"
        );
        assert_eq!(s.protocol_version(), Some(answered));
    }
}

#[test]
fn server_capabilities_follow_features() {
    let now = Instant::now();
    let mut s = ServerSession::new(ServerConfig::default());
    s.handle_message(init_request(1, "2025-11-25"), now);
    let mcp_ver = env!("CARGO_PKG_VERSION");
    assert_eq!(
        server_out(&mut s),
        [format!(
            r#"{{"jsonrpc":"2.0","id":1,"result":{{"capabilities":{{}},"protocolVersion":"2025-11-25","serverInfo":{{"name":"mcp-sse","version":"{mcp_ver}"}}}}}}"#
        )]
    );
    let f = ServerFeatures {
        tools_list_changed: true,
        resources_list_changed: true,
        prompts_list_changed: true,
        ..all_features()
    };
    // DIVERGENCE 8: logging advertised when enabled.
    assert_eq!(
        f.capabilities(),
        json!({"completions":{},"logging":{},"prompts":{"listChanged":true},
               "resources":{"listChanged":true,"subscribe":true},"tools":{"listChanged":true}})
    );
}

#[test]
fn server_initialize_without_or_with_bad_params() {
    let now = Instant::now();
    let mut s = ServerSession::new(ServerConfig::default());
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":1,"method":"initialize"}"#),
        now,
    );
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}"#),
        now,
    );
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":[],"clientInfo":{"name":"c","version":"1"}}}"#),
        now,
    );
    let expected = |id: u8| {
        format!(
            r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-32602,"message":"Invalid request parameters","data":""}}}}"#
        )
    };
    assert_eq!(server_out(&mut s), [expected(1), expected(2), expected(3)]);
    assert!(server_events(&mut s).is_empty());
    assert_eq!(s.protocol_version(), None);
}

#[test]
fn server_init_gate_ping_and_method_not_found() {
    let now = Instant::now();
    let mut s = ServerSession::new(ServerConfig {
        features: all_features(),
        ..ServerConfig::default()
    });
    for (id, m) in [
        (1, "tools/list"),
        (2, "ping"),
        (3, "nope/nothing"),
        (4, "server/discover"),
        (5, "logging/setLevel"),
    ] {
        s.handle_message(
            msg(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{m}"}}"#)),
            now,
        );
    }
    assert_eq!(
        server_out(&mut s),
        [
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid request parameters","data":""}}"#,
            r#"{"jsonrpc":"2.0","id":2,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found","data":"nope/nothing"}}"#,
            r#"{"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"Method not found","data":"server/discover"}}"#,
            r#"{"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"Invalid request parameters","data":""}}"#,
        ]
    );
    assert!(server_events(&mut s).is_empty());
    // After initialize (no notifications/initialized needed), requests are served.
    s.handle_message(init_request(6, "2025-11-25"), now);
    server_out(&mut s);
    server_events(&mut s);
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#),
        now,
    );
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":8,"method":"server/discover"}"#),
        now,
    );
    assert_eq!(
        server_events(&mut s),
        [ServerEvent::Request {
            id: 7.into(),
            method: "tools/list".into(),
            params: None
        }]
    );
    assert_eq!(
        server_out(&mut s),
        [
            r#"{"jsonrpc":"2.0","id":8,"error":{"code":-32601,"message":"Method not found","data":"server/discover"}}"#
        ]
    );
}

#[test]
fn server_unregistered_features_are_method_not_found() {
    let now = Instant::now();
    let mut s = ready_server(
        ServerFeatures {
            resources: true,
            ..ServerFeatures::default()
        },
        now,
    );
    for (id, m) in [
        (1, "tools/call"),
        (2, "resources/subscribe"),
        (3, "logging/setLevel"),
        (4, "completion/complete"),
    ] {
        s.handle_message(
            msg(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{m}"}}"#)),
            now,
        );
    }
    let out = server_out(&mut s);
    assert_eq!(out.len(), 4);
    assert!(out.iter().all(|o| o.contains("-32601")));
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"x"}}"#),
        now,
    );
    assert_eq!(server_events(&mut s).len(), 1);
}

#[test]
fn server_set_level_validates_stores_and_filters() {
    let now = Instant::now();
    let mut s = ready_server(all_features(), now);
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"verbose"}}"#),
        now,
    );
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":2,"method":"logging/setLevel"}"#),
        now,
    );
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"warning"}}"#),
        now,
    );
    assert_eq!(
        server_out(&mut s),
        [
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid request parameters","data":""}}"#,
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"Invalid request parameters","data":""}}"#,
            r#"{"jsonrpc":"2.0","id":3,"result":{}}"#,
        ]
    );
    assert_eq!(
        server_events(&mut s),
        [ServerEvent::LogLevelChanged {
            level: LogLevel::Warning
        }]
    );
    assert_eq!(s.log_level(), Some(LogLevel::Warning));
    let mut sent = Vec::new();
    for level in LogLevel::ALL {
        let params = obj(json!({"level": level.as_str(), "data": "x"}));
        sent.push(s.notify("notifications/message", Some(params)).unwrap());
    }
    assert_eq!(sent, [false, false, false, true, true, true, true, true]);
    // Other notifications are never filtered.
    assert_eq!(s.notify("notifications/progress", None), Ok(true));
    assert_eq!(server_out(&mut s).len(), 6);
}

#[test]
fn server_all_eight_levels_accepted() {
    let now = Instant::now();
    let mut s = ready_server(all_features(), now);
    for (i, level) in LogLevel::ALL.iter().enumerate() {
        s.handle_message(
            msg(&format!(
                r#"{{"jsonrpc":"2.0","id":{i},"method":"logging/setLevel","params":{{"level":"{}"}}}}"#,
                level.as_str()
            )),
            now,
        );
        assert_eq!(s.log_level(), Some(*level));
    }
}

#[test]
fn server_cancellation_drops_the_response() {
    let now = Instant::now();
    let mut s = ready_server(all_features(), now);
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"slow"}}"#),
        now,
    );
    assert_eq!(server_events(&mut s).len(), 1, "the request was seen");
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"a","reason":"caller cancelled"}}"#),
        now,
    );
    // Unknown id: ignored.
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}}"#),
        now,
    );
    let events = server_events(&mut s);
    assert_eq!(events, [ServerEvent::RequestCancelled { id: "a".into() }]);
    assert!(!s.respond("a".into(), Ok(json!({}))));
    assert!(server_out(&mut s).is_empty());
    // The session serves the next request.
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":"b","method":"tools/list"}"#),
        now,
    );
    assert_eq!(server_events(&mut s).len(), 1);
    assert!(s.respond("b".into(), Ok(json!({"tools":[]}))));
    assert!(!s.respond("b".into(), Ok(json!({}))));
    assert_eq!(server_out(&mut s).len(), 1);
}

#[test]
fn a_cancel_before_the_request_was_polled_withdraws_it_and_the_queue_stays_bounded() {
    // A peer alternating a request and its cancellation, with nobody polling in between: each
    // cancel withdraws its unseen request, so the event queue does not grow (it used to gain
    // two events per pair, beyond `max_events`).
    let now = Instant::now();
    let mut s = ready_server(all_features(), now);
    for _ in 0..10_000 {
        s.handle_message(
            msg(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}"#),
            now,
        );
        s.handle_message(
            msg(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#),
            now,
        );
    }
    assert_eq!(server_events(&mut s), []);
    assert!(!s.respond(1.into(), Ok(json!({}))), "nothing is in flight");
    // Other requests stay queued; only the cancelled one goes.
    for id in [1, 2] {
        s.handle_message(
            msg(&format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#
            )),
            now,
        );
    }
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#),
        now,
    );
    let events = server_events(&mut s);
    assert_eq!(events.len(), 1);
    assert!(matches!(&events[0], ServerEvent::Request { id, .. } if *id == 2.into()));

    // The client side, for server→client requests.
    let t0 = Instant::now();
    let config = ClientConfig {
        handles_roots: true,
        ..mcp_client_config()
    };
    let mut c = ready_client(config, t0);
    for _ in 0..10_000 {
        c.handle_message(msg(r#"{"jsonrpc":"2.0","id":7,"method":"roots/list"}"#), t0);
        c.handle_message(
            msg(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#),
            t0,
        );
    }
    assert_eq!(client_events(&mut c), []);
    c.respond(7.into(), Ok(json!({"roots":[]})));
    assert!(
        client_out(&mut c).is_empty(),
        "a withdrawn request is not answered"
    );
}

#[test]
fn server_concurrent_handlers_answer_in_respond_order() {
    let now = Instant::now();
    let mut s = ready_server(all_features(), now);
    for id in 1..=3 {
        s.handle_message(
            msg(&format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"t{id}"}}}}"#
            )),
            now,
        );
    }
    assert_eq!(server_events(&mut s).len(), 3);
    s.notify(
        "notifications/progress",
        Some(obj(json!({"progressToken":"tok","progress":1}))),
    )
    .unwrap();
    assert!(s.respond(3.into(), Ok(json!({"n":3}))));
    assert!(s.respond(1.into(), Err(ErrorObject::internal_error("boom"))));
    assert!(s.respond(2.into(), Ok(json!({"n":2}))));
    assert_eq!(
        server_out(&mut s),
        [
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok","progress":1}}"#,
            r#"{"jsonrpc":"2.0","id":3,"result":{"n":3}}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"boom"}}"#,
            r#"{"jsonrpc":"2.0","id":2,"result":{"n":2}}"#,
        ]
    );
}

#[test]
fn server_duplicate_in_flight_id_and_bound() {
    let now = Instant::now();
    let mut s = ServerSession::new(ServerConfig {
        features: all_features(),
        max_in_flight: 1,
        ..ServerConfig::default()
    });
    s.handle_message(init_request(0, "2025-11-25"), now);
    server_out(&mut s);
    server_events(&mut s);
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
        now,
    );
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
        now,
    );
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#),
        now,
    );
    let events = server_events(&mut s);
    assert!(matches!(events[0], ServerEvent::Request { .. }));
    assert!(matches!(events[1], ServerEvent::InvalidMessage { .. }));
    assert_eq!(
        server_out(&mut s),
        [
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32603,"message":"Too many concurrent requests"}}"#
        ]
    );
}

#[test]
fn server_requests_ids_timeout_and_connection_loss() {
    let t0 = Instant::now();
    let mut s = ready_server(all_features(), t0);
    let a = s
        .send_request("roots/list", None, Some(Duration::from_millis(1500)), t0)
        .unwrap();
    let b = s
        .send_request(
            "sampling/createMessage",
            Some(obj(json!({"maxTokens":1}))),
            None,
            t0,
        )
        .unwrap();
    let c = s.send_request("ping", None, None, t0).unwrap();
    assert_eq!((a.clone(), b.clone(), c), (1.into(), 2.into(), 3.into()));
    assert_eq!(
        server_out(&mut s),
        [
            r#"{"jsonrpc":"2.0","id":1,"method":"roots/list"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"sampling/createMessage","params":{"maxTokens":1}}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
        ]
    );
    s.handle_message(msg(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#), t0);
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(1500)));
    s.handle_timeout(t0 + Duration::from_secs(2));
    assert_eq!(
        server_out(&mut s),
        [
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"timed out after 1.5s"}}"#
        ]
    );
    // Late answer to the timed-out request: dropped.
    s.handle_message(msg(r#"{"jsonrpc":"2.0","id":1,"result":{"roots":[]}}"#), t0);
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":"k","method":"tools/call"}"#),
        t0,
    );
    assert_eq!(
        server_events(&mut s),
        [
            ServerEvent::ClientResponse {
                id: 3.into(),
                result: Ok(json!({}))
            },
            ServerEvent::ClientResponse {
                id: a,
                result: Err(ErrorObject::request_timeout("roots/list"))
            },
            ServerEvent::Request {
                id: "k".into(),
                method: "tools/call".into(),
                params: None
            },
        ]
    );
    // A request nobody has polled yet when the connection goes is withdrawn (no handler starts
    // for an answer that cannot be delivered); the one being handled is cancelled.
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":"m","method":"tools/call"}"#),
        t0,
    );
    s.handle_connection_lost();
    assert_eq!(
        server_events(&mut s),
        [
            ServerEvent::RequestCancelled { id: "k".into() },
            ServerEvent::ClientResponse {
                id: b,
                result: Err(ErrorObject::connection_closed())
            },
        ]
    );
    assert_eq!(
        s.send_request("ping", None, None, t0),
        Err(SessionError::ConnectionClosed)
    );
    assert_eq!(s.notify("x", None), Err(SessionError::ConnectionClosed));
    assert!(!s.respond("k".into(), Ok(json!({}))));
    assert!(server_out(&mut s).is_empty());
}

#[test]
fn server_forwards_client_notifications() {
    let now = Instant::now();
    let mut s = ready_server(all_features(), now);
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
        now,
    );
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#),
        now,
    );
    let events = server_events(&mut s);
    assert_eq!(
        events,
        [
            ServerEvent::Notification(Notification {
                method: "notifications/initialized".into(),
                params: None
            }),
            ServerEvent::Notification(Notification {
                method: "notifications/roots/list_changed".into(),
                params: None
            }),
        ]
    );
}

// ================================ client ↔ server =============================================

#[test]
fn end_to_end_handshake_call_progress_sampling() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(ClientConfig {
        handles_sampling: true,
        capabilities: json!({"sampling":{}}),
        ..mcp_client_config()
    });
    let mut s = ServerSession::new(ServerConfig {
        features: all_features(),
        instructions: Some("hi".into()),
        ..ServerConfig::default()
    });
    c.initialize(t0).unwrap();
    let call = c
        .send_request(
            "tools/call",
            Some(obj(json!({"name":"sample","arguments":{"q":"é"}}))),
            RequestOptions {
                progress: true,
                ..RequestOptions::default()
            },
            t0,
        )
        .unwrap();
    pump(&mut c, &mut s, t0);

    let events = server_events(&mut s);
    assert!(
        matches!(&events[0], ServerEvent::Initialized { client_capabilities, .. } if *client_capabilities == json!({"sampling":{}}))
    );
    assert!(
        matches!(&events[1], ServerEvent::Notification(n) if n.method == "notifications/initialized")
    );
    let ServerEvent::Request { id, params, .. } = &events[2] else {
        panic!("{events:?}")
    };
    assert_eq!(*id, RequestId::from(2));
    let token = params.as_ref().unwrap()["_meta"]["progressToken"].clone();
    assert_eq!(token, json!(2));
    let call_id = id.clone();

    let client_events_now = client_events(&mut c);
    assert!(
        matches!(&client_events_now[1], ClientEvent::Initialized { result, .. } if result["instructions"] == "hi")
    );

    // The handler reports progress, asks the client to sample, then answers.
    s.notify(
        "notifications/progress",
        Some(obj(
            json!({"progressToken": token, "progress": 1, "total": 2}),
        )),
    )
    .unwrap();
    let sreq = s
        .send_request(
            "sampling/createMessage",
            Some(obj(json!({"messages":[],"maxTokens":3}))),
            None,
            t0,
        )
        .unwrap();
    assert_eq!(sreq, RequestId::from(1));
    pump(&mut c, &mut s, t0);
    let events = client_events(&mut c);
    assert_eq!(
        events[0],
        ClientEvent::Progress {
            id: call.clone(),
            progress: 1.0,
            total: Some(2.0),
            message: None
        }
    );
    let ClientEvent::ServerRequest { id: sid, kind, .. } = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(kind.method(), "sampling/createMessage");
    c.respond(
        sid.clone(),
        Ok(json!({"role":"assistant","content":{"type":"text","text":"ok"}})),
    );
    pump(&mut c, &mut s, t0);
    let events = server_events(&mut s);
    assert!(matches!(&events[0], ServerEvent::ClientResponse { id, result: Ok(_) } if *id == sreq));
    assert!(s.respond(call_id, Ok(json!({"content":[],"isError":false}))));
    pump(&mut c, &mut s, t0);
    assert_eq!(
        client_events(&mut c),
        [ClientEvent::Response {
            id: call,
            result: Ok(json!({"content":[],"isError":false}))
        }]
    );
}

#[test]
fn end_to_end_timeout_cancels_server_handler() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(mcp_client_config());
    let mut s = ServerSession::new(ServerConfig {
        features: all_features(),
        ..ServerConfig::default()
    });
    c.initialize(t0).unwrap();
    pump(&mut c, &mut s, t0);
    server_events(&mut s);
    client_events(&mut c);
    let id = c
        .send_request(
            "tools/call",
            None,
            RequestOptions {
                timeout: Some(Duration::from_secs(1)),
                ..RequestOptions::default()
            },
            t0,
        )
        .unwrap();
    pump(&mut c, &mut s, t0);
    assert_eq!(server_events(&mut s).len(), 1);
    let deadline = c.poll_timeout().unwrap();
    c.handle_timeout(deadline);
    pump(&mut c, &mut s, deadline);
    assert_eq!(
        server_events(&mut s),
        [ServerEvent::RequestCancelled { id: id.clone() }]
    );
    assert!(!s.respond(id.clone(), Ok(json!({}))));
    assert_eq!(
        client_events(&mut c),
        [ClientEvent::Response {
            id,
            result: Err(RequestError::Timeout {
                method: "tools/call".into(),
                timeout: Some(Duration::from_secs(1)),
            })
        }]
    );
    // Ping still works afterwards, even from a server with no handlers.
    c.send_request("ping", None, RequestOptions::default(), deadline)
        .unwrap();
    pump(&mut c, &mut s, deadline);
    assert!(matches!(
        &client_events(&mut c)[..],
        [ClientEvent::Response { result: Ok(_), .. }]
    ));
}

#[test]
fn end_to_end_unsupported_client_version_gets_latest() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(ClientConfig {
        protocol_version: "1999-01-01".into(),
        ..mcp_client_config()
    });
    let mut s = ServerSession::new(ServerConfig::default());
    c.initialize(t0).unwrap();
    pump(&mut c, &mut s, t0);
    assert_eq!(c.protocol_version(), Some(LATEST_PROTOCOL_VERSION));
    assert_eq!(s.protocol_version(), Some(LATEST_PROTOCOL_VERSION));
}

#[test]
fn server_string_and_number_ids_are_distinct() {
    // Requests with ids "7" and 7 are two different in-flight requests.
    let now = Instant::now();
    let mut s = ready_server(all_features(), now);
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#),
        now,
    );
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":"7","method":"tools/list"}"#),
        now,
    );
    assert_eq!(server_events(&mut s).len(), 2);
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"7"}}"#),
        now,
    );
    assert_eq!(
        server_events(&mut s),
        [ServerEvent::RequestCancelled { id: "7".into() }]
    );
    assert!(s.respond(7.into(), Ok(json!({}))));
    assert_eq!(
        server_out(&mut s),
        [r#"{"jsonrpc":"2.0","id":7,"result":{}}"#]
    );
}

#[test]
fn server_cancel_request_sends_cancelled_and_drops_the_late_answer() {
    let t0 = Instant::now();
    let mut s = ready_server(all_features(), t0);
    let id = s
        .send_request(
            "sampling/createMessage",
            None,
            Some(Duration::from_secs(5)),
            t0,
        )
        .unwrap();
    server_out(&mut s);
    assert!(s.cancel_request(&id, "caller cancelled"));
    assert!(!s.cancel_request(&id, "caller cancelled"), "only once");
    assert_eq!(
        server_out(&mut s),
        [
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"caller cancelled"}}"#
        ]
    );
    assert_eq!(s.pending_requests(), 0);
    assert_eq!(s.poll_timeout(), None, "its deadline is gone");
    s.handle_message(msg(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#), t0);
    assert!(!server_events(&mut s)
        .iter()
        .any(|e| matches!(e, ServerEvent::ClientResponse { .. })));
    assert!(!s.cancel_request(&RequestId::from(99), "x"), "unknown id");
    s.handle_connection_lost();
    let id = RequestId::from(2);
    assert!(!s.cancel_request(&id, "x"));
}

#[test]
fn server_connection_lost_cancels_handled_requests_in_the_same_order_every_run() {
    let t0 = Instant::now();
    let mut s = ready_server(all_features(), t0);
    for id in ["2", "10", r#""x""#, "7"] {
        s.handle_message(
            msg(&format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call"}}"#
            )),
            t0,
        );
    }
    assert_eq!(server_events(&mut s).len(), 4, "all four are being handled");
    s.handle_connection_lost();
    // Ordered by their JSON text, not by the hash seed of the table they were kept in.
    let cancelled: Vec<String> = server_events(&mut s)
        .into_iter()
        .map(|e| match e {
            ServerEvent::RequestCancelled { id } => id.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(cancelled, [r#""x""#, "10", "2", "7"]);
}

#[test]
fn server_shutdown_answers_in_flight_requests_and_withdraws_unseen_ones() {
    let now = Instant::now();
    let mut s = ready_server(all_features(), now);
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"a"}}"#),
        now,
    );
    // Request 7's event is polled (its handler runs); request 8's is not.
    assert!(matches!(
        server_events(&mut s).as_slice(),
        [ServerEvent::Request { .. }]
    ));
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":8,"method":"tools/list"}"#),
        now,
    );
    s.shutdown();
    let out = server_out(&mut s);
    let shutting = r#""error":{"code":-32603,"message":"Server shutting down"}}"#;
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out[0].starts_with(r#"{"jsonrpc":"2.0","id":7,"#) && out[0].ends_with(shutting));
    assert!(out[1].starts_with(r#"{"jsonrpc":"2.0","id":8,"#) && out[1].ends_with(shutting));
    assert_eq!(
        server_events(&mut s),
        vec![ServerEvent::RequestCancelled { id: 7.into() }],
        "the handler running for 7 is stopped; none starts for 8"
    );
    assert!(
        !s.respond(7.into(), Ok(json!({}))),
        "a late answer is dropped"
    );
    assert!(server_out(&mut s).is_empty());
    // Still open: what the application sends next is delivered.
    assert_eq!(
        s.send_notification(ServerNotification::ToolsListChanged),
        Ok(true)
    );
    assert_eq!(
        server_out(&mut s),
        [r#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#]
    );
}

#[test]
fn server_notifications_are_built_in_the_session() {
    let now = Instant::now();
    let mut s = ready_server(all_features(), now);
    let log = |level: &str| ServerNotification::Log {
        level: level.into(),
        logger: Some("l".into()),
        data: json!({"a": 1}),
    };
    assert_eq!(s.send_notification(log("info")), Ok(true));
    s.handle_message(
        msg(r#"{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"error"}}"#),
        now,
    );
    assert_eq!(
        s.send_notification(log("info")),
        Ok(false),
        "below the level"
    );
    let uri = ServerNotification::ResourceUpdated {
        uri: "a://b".into(),
    };
    assert_eq!(s.send_notification(uri), Ok(true));
    assert_eq!(
        server_out(&mut s),
        [
            r#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"l","data":{"a":1}}}"#,
            r#"{"jsonrpc":"2.0","id":2,"result":{}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"a://b"}}"#,
        ]
    );
    let odd = ServerNotification::Progress {
        token: json!(3),
        progress: 0.5,
        total: Some(f64::NAN),
        message: Some("m".into()),
    };
    assert_eq!(
        Value::Object(odd.into_params().unwrap()),
        json!({"progressToken": 3, "progress": 0.5, "total": null, "message": "m"})
    );
}
