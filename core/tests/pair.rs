//! Interaction behaviours of the composed server ([`ServerEndpoint`]) against the client
//! machines, on the deterministic [`pair::Pair`]: no executor, no threads, a virtual clock.
//!
//! Each test names the requirement ids it pins from `shared/requirements/sse-2025-11-25.csv`
//! (the Python suite's `tests/interaction/` test of the same id is its reference).

#[path = "pair/mod.rs"]
mod pair;

use std::time::Duration;

use mcp_sse_core::endpoint::{
    CancelReason, EndpointConfig, EndpointError, EndpointEvent, IoEvent, ServerEndpoint,
};
use mcp_sse_core::jsonrpc::{codes, ErrorObject, RequestId};
use mcp_sse_core::session::{self, ClientEvent, RequestOptions, ServerRequestKind};
use mcp_sse_core::transport::{self, Client, ClientError};
use pair::{pair, server_config, text_result, Dir, Pair};
use serde_json::{json, Value};

fn count<T>(items: impl IntoIterator<Item = T>, pred: impl Fn(&T) -> bool) -> usize {
    items.into_iter().filter(|x| pred(x)).count()
}

/// The handshake and a first tool call, byte for byte: the endpoint event names the message
/// endpoint with the fresh session id, and the POSTs to it reach that session.
#[test]
fn initialize_then_a_tool_call_answered_by_the_application() {
    pair::pins![
        "lifecycle:initialize:basic",
        "lifecycle:initialize:server-info",
        "lifecycle:initialize:instructions",
        "lifecycle:initialize:client-info",
        "lifecycle:initialized-notification",
        "transport:sse",
        "transport:sse:endpoint-event",
        "transport:sse:post:session-routing",
        "tools:call:content:text",
        "ping:client-to-server",
        "meta:request-to-handler",
    ];
    let mut p = pair();
    let session = p.connect();
    let stream = String::from_utf8_lossy(&p.stream_bytes).into_owned();
    assert!(
        stream.contains(&format!(
            "event: endpoint\r\ndata: /messages/?session_id={session}\r\n\r\n"
        )),
        "{stream}"
    );
    p.session.initialize(p.now).unwrap();
    p.run();
    let init = p
        .client_events
        .iter()
        .find_map(|e| match e {
            ClientEvent::Initialized {
                protocol_version,
                result,
            } => Some((protocol_version.clone(), result.clone())),
            _ => None,
        })
        .expect("the handshake completed");
    assert_eq!(init.0, "2025-11-25");
    assert_eq!(init.1["serverInfo"]["name"], "pair-server");
    assert_eq!(init.1["instructions"], "Pair instructions.");
    assert_eq!(
        init.1["capabilities"]["tools"],
        json!({"listChanged": false})
    );
    // The server saw the handshake and exactly one notifications/initialized.
    let client_info = p.server_events.iter().find_map(|e| match e {
        EndpointEvent::Initialized { client_info, .. } => Some(client_info.clone()),
        _ => None,
    });
    assert_eq!(client_info.unwrap()["name"], "mcp-sse");
    assert_eq!(
        count(&p.server_events, |e| matches!(e,
            EndpointEvent::Notification { notification, .. }
                if notification.method == "notifications/initialized")),
        1
    );
    p.server_events.clear();
    p.client_events.clear();

    let ping = p.request("ping", Value::Null, RequestOptions::default());
    assert_eq!(p.take_responses(&ping), vec![Ok(json!({}))]);
    assert!(
        p.take_request().is_none(),
        "ping is answered by the session"
    );

    let call = p.request(
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "hi é"}, "_meta": {"k": 1}}),
        RequestOptions::default(),
    );
    let (s, id, method, params) = p.take_request().expect("the application gets the call");
    assert_eq!((s, method.as_str()), (session, "tools/call"));
    assert_eq!(params["arguments"]["text"], "hi é");
    assert_eq!(params["_meta"], json!({"k": 1}));
    assert!(p.take_responses(&call).is_empty(), "not answered yet");
    p.server
        .respond(s, id.clone(), Ok(text_result("hi é")))
        .unwrap();
    p.run();
    assert_eq!(p.take_responses(&call), vec![Ok(text_result("hi é"))]);
    // A second answer is refused, and nothing more reaches the client.
    assert_eq!(
        p.server.respond(s, id.clone(), Ok(json!({}))),
        Err(EndpointError::NotInFlight(id))
    );
    p.run();
    assert!(p.client_events.is_empty(), "{:?}", p.client_events);
    let stream = String::from_utf8_lossy(&p.stream_bytes).into_owned();
    assert!(stream.contains(
        "event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hi é\"}]}}\r\n\r\n"
    ));
}

/// The POST's own headers reach the handler.
#[test]
fn the_request_event_carries_the_headers_of_its_post() {
    pair::pins!["transport:sse:post:session-routing"];
    let mut p = Pair::new(
        server_config(),
        session::ClientConfig::default(),
        transport::ClientConfig {
            headers: vec![("Authorization".into(), "Bearer t0ken".into())],
            ..transport::ClientConfig::default()
        },
    );
    let session = p.connect();
    let opened = p.server_events.iter().find_map(|e| match e {
        EndpointEvent::SessionOpened {
            request,
            connection,
            ..
        } => {
            assert_eq!(Some(*connection), p.server_conn(Client::STREAM));
            Some(request.clone())
        }
        _ => None,
    });
    assert_eq!(
        opened.unwrap().headers.get_str("authorization"),
        Some("Bearer t0ken")
    );
    p.session.initialize(p.now).unwrap();
    p.run();
    p.server_events.clear();
    p.request("tools/list", json!({}), RequestOptions::default());
    let headers = p.server_events.iter().find_map(|e| match e {
        EndpointEvent::Request {
            session: s,
            headers,
            ..
        } if *s == session => Some(headers.clone()),
        _ => None,
    });
    assert_eq!(
        headers.unwrap().get_str("authorization"),
        Some("Bearer t0ken")
    );
}

/// protocol:timeout:basic, protocol:timeout:sends-cancellation, protocol:timeout:session-survives,
/// protocol:cancel:handler-abort-propagates
#[test]
fn a_client_request_times_out_and_the_handler_is_cancelled() {
    let mut p = pair();
    let session = p.connect_and_initialize();
    let slow = p.request(
        "tools/call",
        json!({"name": "slow"}),
        RequestOptions {
            timeout: Some(Duration::from_millis(500)),
            ..RequestOptions::default()
        },
    );
    let (_, sid, _, _) = p.take_request().unwrap();
    let start = p.now;
    // The next deadline is the client's request timeout (no server-side deadline is earlier
    // than the 15 s ping).
    let at = p.advance_to_next_deadline().unwrap();
    assert_eq!(at - start, Duration::from_millis(500));
    let got = p.take_responses(&slow);
    assert_eq!(got.len(), 1);
    let err = got[0].clone().unwrap_err();
    assert_eq!(err.code, codes::REQUEST_TIMEOUT);
    assert_eq!(err.message, "Request 'tools/call' timed out");
    // The courtesy cancellation reached the application as a cancellation of its handler.
    assert!(p.server_events.iter().any(|e| matches!(e,
        EndpointEvent::RequestCancelled { session: s, id, reason: CancelReason::Client }
            if *s == session && *id == sid)));
    assert_eq!(
        p.server.respond(session, sid.clone(), Ok(json!({}))),
        Err(EndpointError::NotInFlight(sid))
    );
    // The session still serves requests.
    let again = p.request(
        "tools/call",
        json!({"name": "echo"}),
        RequestOptions::default(),
    );
    let (_, id, _, _) = p.take_request().unwrap();
    p.server
        .respond(session, id, Ok(text_result("ok")))
        .unwrap();
    p.run();
    assert_eq!(p.take_responses(&again), vec![Ok(text_result("ok"))]);
}

/// protocol:timeout:basic, protocol:timeout:sends-cancellation (server→client),
/// protocol:cancel:server-to-client, ping:server-to-client, roots:list:basic
#[test]
fn a_server_request_times_out_on_the_endpoint_timer_and_the_client_callback_is_cancelled() {
    let mut p = Pair::new(
        server_config(),
        session::ClientConfig {
            handles_roots: true,
            capabilities: session::ClientConfig::capabilities_for(false, false, true),
            ..session::ClientConfig::default()
        },
        transport::ClientConfig::default(),
    );
    let session = p.connect_and_initialize();
    // A server ping is answered by the client session itself.
    let ping = p
        .server
        .send_request(session, "ping", None, None, p.now)
        .unwrap();
    assert_eq!(ping, RequestId::from(1));
    p.run();
    assert!(p.server_events.iter().any(|e| matches!(e,
        EndpointEvent::Response { id, result: Ok(r), .. } if *id == ping && *r == json!({}))));
    p.server_events.clear();

    let start = p.now;
    let roots = p
        .server
        .send_request(
            session,
            "roots/list",
            None,
            Some(Duration::from_secs(2)),
            p.now,
        )
        .unwrap();
    p.run();
    let asked = p.client_events.iter().find_map(|e| match e {
        ClientEvent::ServerRequest { id, kind, .. } => Some((id.clone(), *kind)),
        _ => None,
    });
    let (client_side_id, kind) = asked.expect("the client got roots/list");
    assert_eq!(kind, ServerRequestKind::ListRoots);
    // The one server deadline is the endpoint's session timer (2 s), before the 15 s ping.
    assert_eq!(
        p.server.poll_timeout(),
        Some(start + Duration::from_secs(2))
    );
    let at = p.advance_to_next_deadline().unwrap();
    assert_eq!(at - start, Duration::from_secs(2));
    let resolved: Vec<_> = p
        .server_events
        .iter()
        .filter_map(|e| match e {
            EndpointEvent::Response { id, result, .. } if *id == roots => Some(result.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(resolved.len(), 1, "{:?}", p.server_events);
    assert_eq!(resolved[0], Err(ErrorObject::request_timeout("roots/list")));
    assert!(p.client_events.iter().any(|e| matches!(e,
        ClientEvent::ServerRequestCancelled { id } if *id == client_side_id)));
    let stream = String::from_utf8_lossy(&p.stream_bytes).into_owned();
    assert!(stream.contains(
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"timed out after 2.0s"}}"#
    ), "{stream}");
    // A late answer from the client is dropped: no second resolution.
    p.session.respond(client_side_id, Ok(json!({"roots": []})));
    p.run();
    assert_eq!(
        count(
            &p.server_events,
            |e| matches!(e, EndpointEvent::Response { id, .. } if *id == roots)
        ),
        1
    );
}

/// protocol:cancel:in-flight, protocol:cancel:server-survives, protocol:cancel:abort-scoped,
/// protocol:cancel:unknown-id-ignored
#[test]
fn the_client_cancels_one_of_two_calls_and_the_other_is_still_answered() {
    let mut p = pair();
    let session = p.connect_and_initialize();
    let a = p.request(
        "tools/call",
        json!({"name": "a"}),
        RequestOptions::default(),
    );
    let b = p.request(
        "tools/call",
        json!({"name": "b"}),
        RequestOptions::default(),
    );
    let (_, sa, _, pa) = p.take_request().unwrap();
    let (_, sb, _, _) = p.take_request().unwrap();
    assert_eq!(pa["name"], "a");
    assert!(p.session.cancel(&a, "caller cancelled"));
    // And a cancel for an id the server never saw: ignored.
    p.session
        .send_notification(
            "notifications/cancelled",
            json!({"requestId": 999}).as_object().cloned(),
        )
        .unwrap();
    p.run();
    let cancelled: Vec<_> = p
        .server_events
        .iter()
        .filter_map(|e| match e {
            EndpointEvent::RequestCancelled { id, reason, .. } => Some((id.clone(), *reason)),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, vec![(sa.clone(), CancelReason::Client)]);
    assert_eq!(
        p.server.respond(session, sa.clone(), Ok(json!({}))),
        Err(EndpointError::NotInFlight(sa))
    );
    p.server.respond(session, sb, Ok(text_result("b"))).unwrap();
    p.run();
    assert!(
        p.take_responses(&a).is_empty(),
        "a cancelled call never resolves"
    );
    assert_eq!(p.take_responses(&b), vec![Ok(text_result("b"))]);
}

/// protocol:cancel:server-to-client, protocol:cancel:abort-signal, sampling:create:basic
#[test]
fn the_server_abandons_its_request_and_the_client_callback_is_cancelled() {
    let mut p = Pair::new(
        server_config(),
        session::ClientConfig {
            handles_sampling: true,
            capabilities: session::ClientConfig::capabilities_for(true, false, false),
            ..session::ClientConfig::default()
        },
        transport::ClientConfig::default(),
    );
    let session = p.connect_and_initialize();
    let req = p
        .server
        .send_request(
            session,
            "sampling/createMessage",
            json!({"messages": [], "maxTokens": 5}).as_object().cloned(),
            None,
            p.now,
        )
        .unwrap();
    p.run();
    let client_id = p
        .client_events
        .iter()
        .find_map(|e| match e {
            ClientEvent::ServerRequest { id, kind, .. } if *kind == ServerRequestKind::Sampling => {
                Some(id.clone())
            }
            _ => None,
        })
        .expect("the client got the sampling request");
    assert_eq!(
        p.server.cancel_request(session, &req, "caller cancelled"),
        Ok(true)
    );
    assert_eq!(
        p.server.cancel_request(session, &req, "caller cancelled"),
        Ok(false)
    );
    p.run();
    assert!(p.client_events.iter().any(|e| matches!(e,
        ClientEvent::ServerRequestCancelled { id } if *id == client_id)));
    // The abandoned request resolves nothing on the server, even if the client answers.
    p.session
        .respond(client_id, Ok(json!({"role": "assistant"})));
    p.run();
    assert!(!p
        .server_events
        .iter()
        .any(|e| matches!(e, EndpointEvent::Response { .. })));
}

/// protocol:error:connection-closed, transport:sse (the GET owns the session)
#[test]
fn a_cut_stream_resolves_everything_in_flight_exactly_once_on_both_sides() {
    let mut p = Pair::new(
        server_config(),
        session::ClientConfig {
            handles_roots: true,
            ..session::ClientConfig::default()
        },
        transport::ClientConfig::default(),
    );
    let session = p.connect_and_initialize();
    let calls: Vec<RequestId> = (0..3)
        .map(|i| {
            p.request(
                "tools/call",
                json!({"name": format!("t{i}")}),
                RequestOptions::default(),
            )
        })
        .collect();
    let mut handled = Vec::new();
    while let Some((_, id, _, _)) = p.take_request() {
        handled.push(id);
    }
    assert_eq!(handled.len(), 3);
    // One answered before the cut.
    p.server
        .respond(session, handled[0].clone(), Ok(text_result("done")))
        .unwrap();
    let pending = p
        .server
        .send_request(session, "roots/list", None, None, p.now)
        .unwrap();
    p.run();
    p.server_events.clear();

    p.cut(Client::STREAM);
    // Client: the answered call resolved once with its result; the others once with -32000.
    assert_eq!(p.take_responses(&calls[0]), vec![Ok(text_result("done"))]);
    for id in &calls[1..] {
        let got = p.take_responses(id);
        assert_eq!(got, vec![Err(ErrorObject::connection_closed())], "{id}");
    }
    assert!(matches!(
        p.transport_log.last(),
        Some(transport::ClientEvent::Closed(Some(ClientError::StreamCut)))
    ));
    // Server: each unanswered handler cancelled once, the server→client request resolved once,
    // then the session closed, last.
    let mut cancelled: Vec<RequestId> = p
        .server_events
        .iter()
        .filter_map(|e| match e {
            EndpointEvent::RequestCancelled {
                id,
                reason: CancelReason::ConnectionLost,
                ..
            } => Some(id.clone()),
            _ => None,
        })
        .collect();
    cancelled.sort_by_key(|id| id.to_string());
    assert_eq!(cancelled, handled[1..].to_vec());
    assert_eq!(
        count(&p.server_events, |e| matches!(e,
            EndpointEvent::Response { id, result: Err(err), .. }
                if *id == pending && err.code == codes::CONNECTION_CLOSED)),
        1
    );
    assert!(matches!(
        p.server_events.back(),
        Some(EndpointEvent::SessionClosed { session: s }) if *s == session
    ));
    assert!(!p.server.has_session(session));
    assert_eq!(p.server.session_count(), 0);
    // The application's late answer and later calls are refused with typed errors.
    assert_eq!(
        p.server.respond(session, handled[1].clone(), Ok(json!({}))),
        Err(EndpointError::UnknownSession(session))
    );
    assert_eq!(
        p.server.notify(session, "notifications/message", None),
        Err(EndpointError::UnknownSession(session))
    );
    // Later client requests fail at once.
    assert!(p
        .session
        .send_request("ping", None, RequestOptions::default(), p.now)
        .is_err());
}

/// tools:call:concurrent (POSTs in parallel complete in any order; each message reaches the
/// session once)
#[test]
fn post_completions_in_reverse_order_deliver_every_message_once() {
    let mut p = pair();
    let session = p.connect_and_initialize();
    // Keep the server from reading anything until three POST connections carry a request.
    let ids: Vec<RequestId> = (0..3)
        .map(|i| {
            p.session
                .send_request(
                    "tools/call",
                    json!({"name": format!("t{i}")}).as_object().cloned(),
                    RequestOptions::default(),
                    p.now,
                )
                .unwrap()
        })
        .collect();
    // Deliver the POSTs but hold every 202: the client sees no completion yet.
    p.hold_new_connections = Some(Dir::ToClient);
    p.run();
    p.hold_new_connections = None;
    let posts = p.post_connections();
    assert!(posts.len() >= 3, "{posts:?}");
    let mut seen = Vec::new();
    while let Some((_, id, _, params)) = p.take_request() {
        seen.push((id, params["name"].clone()));
    }
    assert_eq!(seen.len(), 3, "every POST reached the application");
    // Release the 202s last-first; then answer in reverse order too.
    for c in posts.iter().rev() {
        p.release(*c, Dir::ToClient);
    }
    for (id, name) in seen.iter().rev() {
        let text = name.as_str().unwrap_or_default().to_string();
        p.server
            .respond(session, id.clone(), Ok(text_result(&text)))
            .unwrap();
    }
    p.run();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            p.take_responses(id),
            vec![Ok(text_result(&format!("t{i}")))],
            "request {i}"
        );
    }
    assert!(
        p.transport_log
            .iter()
            .all(|e| !matches!(e, transport::ClientEvent::SendFailed(..))),
        "{:?}",
        p.transport_log
    );
}

/// (backpressure; DIVERGENCE 6's "nothing lost") tools:call:logging-mid-execution,
/// logging:message:fields
#[test]
fn a_slow_reader_holds_back_its_session_and_nothing_is_lost() {
    let mut config = server_config();
    config.transport.max_session_queue_bytes = 2048;
    config.session.max_outbound = 64;
    let mut p = Pair::new(
        config,
        session::ClientConfig::default(),
        transport::ClientConfig::default(),
    );
    let session = p.connect_and_initialize();
    let call = p.request(
        "tools/call",
        json!({"name": "log"}),
        RequestOptions::default(),
    );
    let (_, id, _, _) = p.take_request().unwrap();
    // The client stops reading its stream.
    p.hold(Client::STREAM, Dir::ToClient);
    let mut sent = 0;
    loop {
        let params =
            json!({"level": "info", "data": format!("line {sent:04} {}", "x".repeat(100))});
        match p.server.notify(
            session,
            "notifications/message",
            params.as_object().cloned(),
        ) {
            Ok(true) => sent += 1,
            Ok(false) => panic!("not filtered"),
            Err(EndpointError::Session(session::SessionError::OutboundFull { limit })) => {
                assert_eq!(limit, 64);
                break;
            }
            Err(e) => panic!("{e}"),
        }
        assert!(sent < 10_000, "the session machine bounds what waits");
    }
    p.run();
    assert!(p.server.is_held_back(session));
    let sse = p.server_conn(Client::STREAM).unwrap();
    let queued = p.server.transport().queued_bytes(sse);
    assert!(
        queued <= 2048 + 512,
        "the transport queue stays near its bound: {queued}"
    );
    // The answer waits behind the logs, in order.
    p.server
        .respond(session, id, Ok(text_result("logged")))
        .unwrap();
    // A client ping while held back is parked (not answered out of order, not dropped), and
    // the POST connection it came on is not read until it is delivered.
    let ping = p.request("ping", Value::Null, RequestOptions::default());
    assert!(p.take_responses(&ping).is_empty());
    let unread: Vec<_> = p
        .post_connections()
        .into_iter()
        .filter_map(|c| p.server_conn(c))
        .filter(|s| !p.server.wants_read(*s))
        .collect();
    assert_eq!(unread.len(), 1, "the ping's connection is held back");
    // The reader catches up.
    p.release(Client::STREAM, Dir::ToClient);
    assert!(!p.server.is_held_back(session));
    let logs: Vec<String> = p
        .client_events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::LogMessage(n) => n
                .params
                .as_ref()
                .and_then(|m| m.get("data"))
                .and_then(Value::as_str)
                .map(|s| s[..9].to_string()),
            _ => None,
        })
        .collect();
    let expected: Vec<String> = (0..sent).map(|i| format!("line {i:04}")).collect();
    assert_eq!(logs, expected, "every log line, once, in order");
    assert_eq!(p.take_responses(&call), vec![Ok(text_result("logged"))]);
    assert_eq!(p.take_responses(&ping), vec![Ok(json!({}))]);
    // The logs came before the answer on the wire.
    let stream = String::from_utf8_lossy(&p.stream_bytes).into_owned();
    let last_log = stream.rfind(&format!("line {:04}", sent - 1)).unwrap();
    let answer = stream.find("logged").unwrap();
    assert!(last_log < answer);
    assert_eq!(p.server.session(session).unwrap().dropped_outbound(), 0);
}

/// (backpressure) ping:client-to-server: at the parking bound the oldest parked message goes
/// to the session machine; every ping is still answered exactly once, none dropped.
#[test]
fn parked_messages_beyond_their_bound_keep_their_order_and_are_all_answered() {
    let mut config = server_config();
    config.transport.max_session_queue_bytes = 512;
    config.max_parked_messages = 2;
    let mut p = Pair::new(
        config,
        session::ClientConfig::default(),
        transport::ClientConfig::default(),
    );
    let session = p.connect_and_initialize();
    p.hold(Client::STREAM, Dir::ToClient);
    for i in 0..12 {
        let params = json!({"level": "info", "data": format!("{i:03}{}", "p".repeat(60))});
        p.server
            .notify(
                session,
                "notifications/message",
                params.as_object().cloned(),
            )
            .unwrap();
    }
    assert!(p.server.is_held_back(session));
    let pings: Vec<RequestId> = (0..6)
        .map(|_| {
            p.session
                .send_request("ping", None, RequestOptions::default(), p.now)
                .unwrap()
        })
        .collect();
    p.run();
    for id in &pings {
        assert!(p.take_responses(id).is_empty(), "held back behind the logs");
    }
    p.release(Client::STREAM, Dir::ToClient);
    for id in &pings {
        assert_eq!(p.take_responses(id), vec![Ok(json!({}))], "ping {id}");
    }
    assert_eq!(
        count(&p.client_events, |e| matches!(
            e,
            ClientEvent::LogMessage(_)
        )),
        12
    );
    assert_eq!(p.server.session(session).unwrap().dropped_outbound(), 0);
}

/// (DIVERGENCE 6) protocol:error:internal-error shape for shutdown
#[test]
fn shutdown_answers_in_flight_requests_flushes_and_ends_the_stream_with_the_final_chunk() {
    let mut p = pair();
    let session = p.connect_and_initialize();
    let call = p.request(
        "tools/call",
        json!({"name": "slow"}),
        RequestOptions::default(),
    );
    let (_, sid, _, _) = p.take_request().unwrap();
    p.server
        .notify(
            session,
            "notifications/message",
            json!({"level": "info", "data": "before shutdown"})
                .as_object()
                .cloned(),
        )
        .unwrap();
    p.server.shutdown(p.now);
    p.run();
    assert!(p.server_events.iter().any(|e| matches!(e,
        EndpointEvent::RequestCancelled { id, reason: CancelReason::Shutdown, .. } if *id == sid)));
    assert_eq!(
        p.take_responses(&call),
        vec![Err(ErrorObject::new(
            codes::INTERNAL_ERROR,
            "Server shutting down"
        ))]
    );
    assert!(p
        .client_events
        .iter()
        .any(|e| matches!(e, ClientEvent::LogMessage(_))));
    assert!(
        p.stream_bytes.ends_with(b"\r\n0\r\n\r\n"),
        "{:?}",
        String::from_utf8_lossy(&p.stream_bytes)
    );
    assert!(matches!(
        p.transport_log.last(),
        Some(transport::ClientEvent::Closed(None))
    ));
    assert!(matches!(
        p.server_events.back(),
        Some(EndpointEvent::SessionClosed { .. })
    ));
    assert_eq!(p.server.session_count(), 0);
    assert_eq!(p.server.connection_count(), 0, "every connection closed");
    assert_eq!(
        p.server.send_request(session, "ping", None, None, p.now),
        Err(EndpointError::ShuttingDown)
    );
}

/// (DIVERGENCE 6 with a slow reader) shutdown waits for a held-back stream, then its grace
#[test]
fn shutdown_with_a_stalled_reader_flushes_when_it_reads_or_ends_at_the_grace() {
    for reads in [true, false] {
        let mut config = server_config();
        config.transport.max_session_queue_bytes = 1024;
        config.shutdown_grace = Duration::from_secs(3);
        let mut p = Pair::new(
            config,
            session::ClientConfig::default(),
            transport::ClientConfig::default(),
        );
        let session = p.connect_and_initialize();
        p.hold(Client::STREAM, Dir::ToClient);
        for i in 0..40 {
            let params = json!({"level": "info", "data": format!("{i:03}{}", "y".repeat(80))});
            p.server
                .notify(
                    session,
                    "notifications/message",
                    params.as_object().cloned(),
                )
                .unwrap();
        }
        assert!(p.server.is_held_back(session));
        let start = p.now;
        p.server.shutdown(p.now);
        p.run();
        assert!(
            p.server.has_session(session),
            "the stream is not ended under its queue"
        );
        assert_eq!(
            p.server.poll_timeout(),
            Some(start + Duration::from_secs(3))
        );
        if reads {
            // A request arriving while the server drains is answered by the endpoint itself.
            let late = p.request(
                "tools/call",
                json!({"name": "late"}),
                RequestOptions::default(),
            );
            p.release(Client::STREAM, Dir::ToClient);
            let logs = count(&p.client_events, |e| {
                matches!(e, ClientEvent::LogMessage(_))
            });
            assert_eq!(logs, 40, "everything queued was flushed");
            assert_eq!(
                p.take_responses(&late),
                vec![Err(ErrorObject::new(
                    codes::INTERNAL_ERROR,
                    "Server shutting down"
                ))]
            );
            assert!(
                p.take_request().is_none(),
                "no new work is announced while shutting down"
            );
        } else {
            p.advance_to_next_deadline();
            assert!(!p.server.has_session(session), "the grace ended it");
            p.release(Client::STREAM, Dir::ToClient);
        }
        assert!(p.stream_bytes.ends_with(b"0\r\n\r\n"));
        assert!(matches!(
            p.transport_log.last(),
            Some(transport::ClientEvent::Closed(None))
        ));
        assert_eq!(p.server.connection_count(), 0);
    }
}

/// A shutdown that waits for a stalled reader is complete as soon as that reader's stream is
/// gone: no grace timer is left behind, and a GET arriving afterwards opens no session (found
/// by the `endpoint_pair` fuzz target, `fuzz/corpus/endpoint_pair/crash-shutdown-grace-outlives-sessions`).
#[test]
fn a_shutdown_waiting_for_a_stalled_reader_completes_when_its_stream_is_cut() {
    let mut config = server_config();
    config.transport.max_session_queue_bytes = 1024;
    config.shutdown_grace = Duration::from_secs(3);
    let mut p = Pair::new(
        config,
        session::ClientConfig::default(),
        transport::ClientConfig::default(),
    );
    let session = p.connect_and_initialize();
    p.hold(Client::STREAM, Dir::ToClient);
    for i in 0..40 {
        let params = json!({"level": "info", "data": format!("{i:03}{}", "y".repeat(80))});
        p.server
            .notify(
                session,
                "notifications/message",
                params.as_object().cloned(),
            )
            .unwrap();
    }
    assert!(p.server.is_held_back(session));
    p.server.shutdown(p.now);
    p.run();
    assert!(p.server.has_session(session), "the grace is running");
    p.cut(Client::STREAM);
    assert_eq!(p.server.session_count(), 0);
    assert_eq!(p.server.connection_count(), 0);
    assert_eq!(
        p.server.poll_timeout(),
        None,
        "nothing is left to wait for: the shutdown is complete"
    );
    // A client arriving now finds a server that has shut down.
    let late = p.server.open_connection(p.now);
    p.server.handle_bytes(
        late,
        bytes::Bytes::from_static(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"),
        p.now,
    );
    assert_eq!(
        p.server.session_count(),
        0,
        "no session opens after shutdown"
    );
}

/// Bytes lost on the wire: a lost answer never arrives and its request resolves exactly once
/// when the connection ends; a lost POST fails exactly its own request (DIVERGENCE 4).
/// protocol:error:connection-closed
#[test]
fn bytes_lost_on_the_wire_resolve_each_request_exactly_once() {
    let mut p = pair();
    let session = p.connect_and_initialize();
    // A POST whose bytes are lost: the server never sees it; cutting its connection fails
    // that request alone, and the session goes on.
    p.hold_new_connections = Some(Dir::ToServer);
    for c in p.post_connections() {
        p.hold(c, Dir::ToServer);
    }
    let lost_post = p
        .session
        .send_request(
            "tools/call",
            json!({"name": "gone"}).as_object().cloned(),
            RequestOptions::default(),
            p.now,
        )
        .unwrap();
    p.run();
    p.hold_new_connections = None;
    let held: Vec<_> = p.post_connections();
    let mut dropped = 0;
    for c in &held {
        dropped += p.drop_in_flight(*c, Dir::ToServer);
    }
    assert!(dropped > 0);
    assert!(p.take_request().is_none(), "the server saw nothing");
    for c in held {
        p.cut(c);
    }
    let got = p.take_responses(&lost_post);
    assert_eq!(got.len(), 1, "{:?}", p.client_events);
    assert_eq!(got[0].clone().unwrap_err().code, codes::CONNECTION_CLOSED);
    assert!(
        p.client.is_ready(),
        "one failed POST does not end the transport"
    );

    // An answer lost on the stream.
    let call = p.request(
        "tools/call",
        json!({"name": "x"}),
        RequestOptions::default(),
    );
    let (_, sid, _, _) = p.take_request().unwrap();
    p.hold(Client::STREAM, Dir::ToClient);
    p.server
        .respond(session, sid, Ok(text_result("lost")))
        .unwrap();
    p.run();
    assert!(p.drop_in_flight(Client::STREAM, Dir::ToClient) > 0);
    p.server
        .notify(
            session,
            "notifications/message",
            json!({"level": "info", "data": "z"}).as_object().cloned(),
        )
        .unwrap();
    p.release(Client::STREAM, Dir::ToClient);
    // Whole chunks were lost, so the stream goes on: the later notification arrives, the
    // answer never does.
    assert!(p
        .client_events
        .iter()
        .any(|e| matches!(e, ClientEvent::LogMessage(_))));
    assert!(p.take_responses(&call).is_empty());
    p.cut(Client::STREAM);
    assert_eq!(
        p.take_responses(&call),
        vec![Err(ErrorObject::connection_closed())]
    );
    p.run();
    assert!(p.take_responses(&call).is_empty(), "exactly once");
}

/// The endpoint's single deadline is the earliest of the transport's and every session's,
/// through many sessions whose deadlines change (the heap matches a scan).
#[test]
fn one_poll_timeout_for_the_transport_and_every_session() {
    let mut config = server_config();
    config.transport.ping_interval = None;
    config.transport.keep_alive_timeout = Duration::from_secs(3600);
    let mut server = ServerEndpoint::new(config, {
        let mut n = 0u128;
        Box::new(move || {
            n += 1;
            n.to_le_bytes()
        })
    });
    let mut now = std::time::Instant::now();
    let mut sessions = Vec::new();
    for _ in 0..50 {
        let c = server.open_connection(now);
        server.handle_bytes(
            c,
            bytes::Bytes::from_static(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"),
            now,
        );
        while let Some(ev) = server.poll_event() {
            if let EndpointEvent::SessionOpened { session, .. } = ev {
                sessions.push(session);
            }
        }
    }
    assert_eq!(sessions.len(), 50);
    let mut expected: Vec<(
        std::time::Instant,
        mcp_sse_core::transport::SessionId,
        RequestId,
    )> = Vec::new();
    let mut seed = 7u64;
    for step in 0..400u64 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let s = sessions[(seed >> 33) as usize % sessions.len()];
        match step % 4 {
            0..=2 => {
                let t = Duration::from_millis(100 + (seed >> 40) % 5000);
                let id = server.send_request(s, "ping", None, Some(t), now).unwrap();
                expected.push((now + t, s, id));
            }
            _ => {
                if let Some(pos) = expected.iter().position(|(_, es, _)| *es == s) {
                    let (_, _, id) = expected.remove(pos);
                    assert_eq!(server.cancel_request(s, &id, "x"), Ok(true));
                }
            }
        }
        let transport_deadline = {
            // Keep-alive of the GET connections never changes here: an hour away.
            now + Duration::from_secs(3600)
        };
        let earliest = expected.iter().map(|(at, _, _)| *at).min();
        let got = server.poll_timeout().unwrap();
        match earliest {
            Some(e) => assert_eq!(got, e, "step {step}"),
            None => assert!(got <= transport_deadline),
        }
        if step % 25 == 24 {
            now = got.min(now + Duration::from_secs(2));
            server.handle_timeout(now, std::time::SystemTime::UNIX_EPOCH);
            let mut resolved = 0;
            while let Some(ev) = server.poll_event() {
                if let EndpointEvent::Response { result: Err(e), .. } = ev {
                    assert_eq!(e.code, codes::REQUEST_TIMEOUT);
                    resolved += 1;
                }
            }
            let due = expected.iter().filter(|(at, _, _)| *at <= now).count();
            assert_eq!(resolved, due, "step {step}");
            expected.retain(|(at, _, _)| *at > now);
        }
        while let Some(io) = server.poll_io() {
            if let IoEvent::Transmit(c) = io {
                while server.poll_transmit(c, now).is_some() {}
            }
        }
    }
}

/// The endpoint bounds its event queue by not reading while the application lags, and says
/// when reading may resume.
#[test]
fn a_lagging_application_stops_the_reading_of_connections() {
    let mut config: EndpointConfig = server_config();
    config.max_queued_events = 4;
    let mut server = ServerEndpoint::new(config, {
        let mut n = 0u8;
        Box::new(move || {
            n = n.wrapping_add(1);
            [n; 16]
        })
    });
    let now = std::time::Instant::now();
    let get = bytes::Bytes::from_static(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n");
    let conns: Vec<_> = (0..6).map(|_| server.open_connection(now)).collect();
    for c in &conns[..4] {
        assert!(server.wants_read(*c));
        server.handle_bytes(*c, get.clone(), now);
    }
    // Four SessionOpened events wait: at the bound, no connection is read.
    assert!(conns.iter().all(|c| !server.wants_read(*c)));
    // A driver that read anyway: its input is handled, and it is told when to resume.
    server.handle_bytes(conns[4], get.clone(), now);
    assert_eq!(server.session_count(), 5);
    while server.poll_io().is_some() {}
    let mut opened = 0;
    while let Some(ev) = server.poll_event() {
        assert!(matches!(ev, EndpointEvent::SessionOpened { .. }));
        opened += 1;
    }
    assert_eq!(opened, 5);
    let mut readable = Vec::new();
    while let Some(io) = server.poll_io() {
        if let IoEvent::Readable(c) = io {
            readable.push(c);
        }
    }
    assert_eq!(readable, vec![conns[4]]);
    assert!(server.wants_read(conns[5]));
}

/// Random interleavings (fixed seeds): holds and releases of any direction, cut POST
/// connections, cancellations both ways, timeouts both ways, a slow reader, then the end of
/// the stream (cut, or shutdown). Invariants: every client request resolves exactly once
/// unless the client cancelled it; every request the application was given ends exactly once
/// (answered, or cancelled) and an answer to a request the application still holds is never
/// refused; every server→client request resolves exactly once unless the server cancelled
/// it; at the end no session is left.
/// protocol:error:connection-closed, protocol:timeout:basic, protocol:cancel:in-flight,
/// protocol:cancel:server-to-client
#[test]
fn random_interleavings_resolve_every_request_exactly_once() {
    use std::collections::{BTreeMap, BTreeSet};
    for seed in 1..=48u64 {
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let mut config = server_config();
        config.transport.max_session_queue_bytes = 1024;
        config.transport.ping_interval = Some(Duration::from_secs(1));
        config.max_parked_messages = 3;
        config.session.max_outbound = 32;
        let mut p = Pair::new(
            config,
            session::ClientConfig {
                handles_roots: true,
                ..session::ClientConfig::default()
            },
            transport::ClientConfig::default(),
        );
        let session = p.connect_and_initialize();
        // Client side: resolutions per request; requests the client cancelled.
        let mut client_sent: BTreeMap<String, usize> = BTreeMap::new();
        let mut client_cancelled: BTreeSet<String> = BTreeSet::new();
        // Server side: requests the application holds; server→client resolutions.
        let mut open: BTreeSet<String> = BTreeSet::new();
        let mut ended: BTreeSet<String> = BTreeSet::new();
        let mut server_sent: BTreeMap<String, usize> = BTreeMap::new();
        let mut server_cancelled: BTreeSet<String> = BTreeSet::new();
        let mut client_asked: Vec<RequestId> = Vec::new();
        let mut ids: BTreeMap<String, RequestId> = BTreeMap::new();

        let settle = |p: &mut Pair,
                      open: &mut BTreeSet<String>,
                      ended: &mut BTreeSet<String>,
                      client_sent: &mut BTreeMap<String, usize>,
                      server_sent: &mut BTreeMap<String, usize>,
                      client_asked: &mut Vec<RequestId>,
                      ids: &mut BTreeMap<String, RequestId>| {
            while let Some(ev) = p.server_events.pop_front() {
                match ev {
                    EndpointEvent::Request { id, .. } => {
                        let k = id.to_string();
                        assert!(!ended.contains(&k), "seed {seed}: {k} announced twice");
                        assert!(open.insert(k.clone()), "seed {seed}: {k} announced twice");
                        ids.insert(k, id);
                    }
                    EndpointEvent::RequestCancelled { id, .. } => {
                        let k = id.to_string();
                        assert!(open.remove(&k), "seed {seed}: cancel of {k} not held");
                        ended.insert(k);
                    }
                    EndpointEvent::Response { id, .. } => {
                        *server_sent.entry(id.to_string()).or_insert(0) += 1;
                    }
                    _ => {}
                }
            }
            while let Some(ev) = p.client_events.pop_front() {
                match ev {
                    ClientEvent::Response { id, .. } => {
                        *client_sent.entry(id.to_string()).or_insert(0) += 1;
                    }
                    ClientEvent::ServerRequest { id, .. } => client_asked.push(id),
                    ClientEvent::ServerRequestCancelled { id } => client_asked.retain(|x| *x != id),
                    _ => {}
                }
            }
        };
        let mut client_ids: Vec<RequestId> = Vec::new();
        for _step in 0..250 {
            match next(16) {
                0..=2 => {
                    let timeout = (next(3) == 0).then(|| Duration::from_millis(300 + next(3000)));
                    let method = if next(4) == 0 { "ping" } else { "tools/call" };
                    if let Ok(id) = p.session.send_request(
                        method,
                        json!({"name": "t"}).as_object().cloned(),
                        RequestOptions {
                            timeout,
                            ..RequestOptions::default()
                        },
                        p.now,
                    ) {
                        client_sent.entry(id.to_string()).or_insert(0);
                        client_ids.push(id);
                    }
                }
                3 => {
                    if !client_ids.is_empty() {
                        let id = client_ids[next(client_ids.len() as u64) as usize].clone();
                        if p.session.cancel(&id, "caller cancelled") {
                            client_cancelled.insert(id.to_string());
                        }
                    }
                }
                4..=5 => {
                    if let Some(k) = open.iter().nth(next(open.len().max(1) as u64) as usize) {
                        let k = k.clone();
                        let id = ids[&k].clone();
                        assert_eq!(
                            p.server.respond(session, id, Ok(text_result("r"))),
                            Ok(()),
                            "seed {seed}: an answer to a held request is accepted"
                        );
                        open.remove(&k);
                        ended.insert(k);
                    }
                }
                6 => {
                    let params = json!({"level": "info", "data": "x".repeat(40)});
                    let _ = p.server.notify(
                        session,
                        "notifications/message",
                        params.as_object().cloned(),
                    );
                }
                7 => {
                    let timeout = (next(2) == 0).then(|| Duration::from_millis(200 + next(2000)));
                    if let Ok(id) =
                        p.server
                            .send_request(session, "roots/list", None, timeout, p.now)
                    {
                        server_sent.entry(id.to_string()).or_insert(0);
                        if next(4) == 0
                            && p.server.cancel_request(session, &id, "caller cancelled") == Ok(true)
                        {
                            server_cancelled.insert(id.to_string());
                        }
                    }
                }
                8 => {
                    if !client_asked.is_empty() {
                        let id = client_asked.remove(next(client_asked.len() as u64) as usize);
                        p.session.respond(id, Ok(json!({"roots": []})));
                    }
                }
                9 => {
                    if next(2) == 0 {
                        p.hold(Client::STREAM, Dir::ToClient);
                    } else {
                        p.release(Client::STREAM, Dir::ToClient);
                    }
                }
                10 => {
                    let posts = p.post_connections();
                    if !posts.is_empty() {
                        let c = posts[next(posts.len() as u64) as usize];
                        match next(3) {
                            0 => p.hold(c, Dir::ToClient),
                            1 => p.hold(c, Dir::ToServer),
                            _ => {
                                p.release(c, Dir::ToClient);
                                p.release(c, Dir::ToServer);
                            }
                        }
                    }
                }
                11 => {
                    let posts = p.post_connections();
                    if next(3) == 0 && !posts.is_empty() {
                        p.cut(posts[next(posts.len() as u64) as usize]);
                    }
                }
                12 => {
                    p.advance_to_next_deadline();
                }
                _ => p.advance(Duration::from_millis(next(400))),
            }
            p.run();
            settle(
                &mut p,
                &mut open,
                &mut ended,
                &mut client_sent,
                &mut server_sent,
                &mut client_asked,
                &mut ids,
            );
        }
        // The end: every hold released, then the stream cut or the server shut down.
        for c in p.post_connections() {
            p.release(c, Dir::ToServer);
            p.release(c, Dir::ToClient);
        }
        p.release(Client::STREAM, Dir::ToClient);
        if seed % 2 == 0 {
            p.cut(Client::STREAM);
        } else {
            p.server.shutdown(p.now);
            p.run();
        }
        for _ in 0..20 {
            settle(
                &mut p,
                &mut open,
                &mut ended,
                &mut client_sent,
                &mut server_sent,
                &mut client_asked,
                &mut ids,
            );
            if p.advance_to_next_deadline().is_none() {
                break;
            }
        }
        settle(
            &mut p,
            &mut open,
            &mut ended,
            &mut client_sent,
            &mut server_sent,
            &mut client_asked,
            &mut ids,
        );
        assert!(open.is_empty(), "seed {seed}: requests left held: {open:?}");
        assert_eq!(p.server.session_count(), 0, "seed {seed}");
        for (k, n) in &client_sent {
            let want = usize::from(!client_cancelled.contains(k));
            assert_eq!(
                *n, want,
                "seed {seed}: client request {k} resolved {n} times"
            );
        }
        for (k, n) in &server_sent {
            let want = usize::from(!server_cancelled.contains(k));
            assert_eq!(
                *n, want,
                "seed {seed}: server request {k} resolved {n} times"
            );
        }
        assert!(
            !client_sent.is_empty() && !ended.is_empty(),
            "seed {seed}: the run did something"
        );
    }
}
