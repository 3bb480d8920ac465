//! Scale-out on the endpoint: foreign POSTs out to the session bus, forwarded messages in.

use std::time::Instant;

use bytes::Bytes;

use super::{EndpointEvent, ServerEndpoint};
use crate::cluster::{decode_forward, encode_forward, FrameError};
use crate::http::Headers;
use crate::jsonrpc::Message;
use crate::transport::{ConnectionId, ForeignOutcome, Principal, SessionId};

/// Why [`ServerEndpoint::handle_forwarded`] dropped a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    /// Not a valid forward frame.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// No such session here (it ended, or its lease outlived it).
    #[error("no such session {0}")]
    UnknownSession(SessionId),
    /// The frame's principal is not the one that opened the session (the reference's POST
    /// table row 9).
    #[error("session {0} belongs to another principal")]
    NotOwner(SessionId),
}

impl ServerEndpoint {
    pub(super) fn on_foreign_post(
        &mut self,
        connection: ConnectionId,
        session: SessionId,
        message: Option<Message>,
        principal: Option<Principal>,
    ) {
        let frame = message
            .as_ref()
            .map(|m| Bytes::from(encode_forward(session, principal.as_ref(), m)));
        self.events.push_back(EndpointEvent::ForeignPost {
            connection,
            session,
            frame,
        });
    }

    /// Answers the foreign POST parked on `connection` with what the session bus said
    /// ([`EndpointEvent::ForeignPost`]): `202`, `404`, `400` or `503` (see
    /// [`crate::cluster`]); its pipelined requests then resume. `false` if the connection is
    /// gone or no longer waiting (it timed out).
    pub fn resolve_foreign(
        &mut self,
        connection: ConnectionId,
        outcome: ForeignOutcome,
        now: Instant,
    ) -> bool {
        self.saw(now);
        let done = self.transport.resolve_foreign(connection, outcome, now);
        self.pump(Some(connection), now);
        done
    }

    /// A [forward frame](crate::cluster::frame) arrived from the bus for a session this
    /// instance holds: its message enters exactly the path of a local POST's (parked while
    /// the session is held back, in arrival order), with no POST headers. Returns the session
    /// (check [`ServerEndpoint::is_held_back`] before feeding more for it).
    pub fn handle_forwarded(
        &mut self,
        frame: &[u8],
        now: Instant,
    ) -> Result<SessionId, ForwardError> {
        self.saw(now);
        let frame = decode_forward(frame)?;
        let session = frame.session;
        match self.sessions.get(&session) {
            Some(slot) if slot.direct.is_none() => {}
            _ => return Err(ForwardError::UnknownSession(session)),
        }
        if self.transport.principal(session) != frame.principal.as_ref() {
            return Err(ForwardError::NotOwner(session));
        }
        self.on_message(session, frame.message, Headers::default(), None, now);
        self.pump(None, now);
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::endpoint::EndpointConfig;
    use crate::transport::{ForeignConfig, ServerConfig};

    fn endpoint(foreign: bool, seed: u8) -> ServerEndpoint {
        let config = EndpointConfig {
            transport: ServerConfig {
                foreign: foreign.then(|| ForeignConfig {
                    timeout: Duration::from_secs(2),
                    second_look: None,
                }),
                ..ServerConfig::default()
            },
            ..EndpointConfig::default()
        };
        ServerEndpoint::new(config, Box::new(move || [seed; 16]))
    }

    fn post(session: &str, body: &str) -> Bytes {
        Bytes::from(format!(
            "POST /messages/?session_id={session} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
    }

    fn drain(ep: &mut ServerEndpoint, conn: ConnectionId, now: Instant) -> String {
        let mut out = Vec::new();
        while let Some(b) = ep.poll_transmit(conn, now) {
            out.extend_from_slice(&b);
        }
        String::from_utf8(out).unwrap()
    }

    fn foreign_events(ep: &mut ServerEndpoint) -> Vec<(ConnectionId, SessionId, Option<Bytes>)> {
        std::iter::from_fn(|| ep.poll_event())
            .filter_map(|e| match e {
                EndpointEvent::ForeignPost {
                    connection,
                    session,
                    frame,
                } => Some((connection, session, frame)),
                _ => None,
            })
            .collect()
    }

    const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    const OTHER: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn without_scale_out_an_unknown_session_is_404_at_once() {
        let mut ep = endpoint(false, 1);
        let now = Instant::now();
        let c = ep.open_connection(now);
        ep.handle_bytes(c, post(OTHER, PING), now);
        assert!(foreign_events(&mut ep).is_empty());
        assert!(drain(&mut ep, c, now).starts_with("HTTP/1.1 404 Not Found\r\n"));
    }

    #[test]
    fn a_foreign_post_is_parked_until_resolved_and_answered_per_outcome() {
        let now = Instant::now();
        for (outcome, body, status) in [
            (ForeignOutcome::Accepted, PING, "202 Accepted"),
            (ForeignOutcome::NotFound, PING, "404 Not Found"),
            (ForeignOutcome::Unavailable, PING, "503 Service Unavailable"),
            (ForeignOutcome::Accepted, "{nope", "400 Bad Request"),
            (ForeignOutcome::NotFound, "{nope", "404 Not Found"),
        ] {
            let mut ep = endpoint(true, 1);
            let c = ep.open_connection(now);
            // Two pipelined POSTs: the second waits for the first's resolution.
            let mut input = post(OTHER, body).to_vec();
            input.extend_from_slice(&post(OTHER, PING));
            ep.handle_bytes(c, Bytes::from(input), now);
            let events = foreign_events(&mut ep);
            assert_eq!(events.len(), 1, "{events:?}");
            let (conn, session, frame) = &events[0];
            assert_eq!((*conn, session.to_string()), (c, OTHER.to_string()));
            assert_eq!(
                frame.is_some(),
                body == PING,
                "a frame only for a parsed body"
            );
            if let Some(f) = frame {
                let f = crate::cluster::decode_forward(f).unwrap();
                assert_eq!(f.message, Message::from_slice(PING.as_bytes()).unwrap());
            }
            assert!(!ep.wants_read(c), "a parked POST's connection is not read");
            assert_eq!(drain(&mut ep, c, now), "", "nothing answered yet");
            assert!(ep.resolve_foreign(c, outcome, now));
            let text = drain(&mut ep, c, now);
            assert!(
                text.starts_with(&format!("HTTP/1.1 {status}\r\n")),
                "{outcome:?}: {text}"
            );
            if outcome == ForeignOutcome::Unavailable {
                assert!(text.ends_with(crate::transport::UNAVAILABLE_BODY), "{text}");
            }
        }
    }

    #[test]
    fn the_next_pipelined_post_is_routed_after_the_resolution() {
        let now = Instant::now();
        let mut ep = endpoint(true, 1);
        let c = ep.open_connection(now);
        let mut input = post(OTHER, PING).to_vec();
        input.extend_from_slice(&post(OTHER, PING));
        ep.handle_bytes(c, Bytes::from(input), now);
        assert_eq!(foreign_events(&mut ep).len(), 1);
        ep.resolve_foreign(c, ForeignOutcome::Accepted, now);
        assert_eq!(
            foreign_events(&mut ep).len(),
            1,
            "the second POST is routed now"
        );
        ep.resolve_foreign(c, ForeignOutcome::Accepted, now);
        let text = drain(&mut ep, c, now);
        assert_eq!(text.matches("HTTP/1.1 202 Accepted").count(), 2, "{text}");
        assert!(ep.wants_read(c));
    }

    #[test]
    fn an_unknown_session_gets_a_second_look_before_404() {
        let now = Instant::now();
        let mut ep = endpoint(true, 1);
        let mut config = ep.transport.config().clone();
        config.foreign = Some(ForeignConfig::default());
        ep.transport = crate::transport::Server::new(config, Box::new(|| [1; 16]));
        let c = ep.open_connection(now);
        ep.handle_bytes(c, post(OTHER, PING), now);
        assert_eq!(foreign_events(&mut ep).len(), 1);
        assert!(ep.resolve_foreign(c, ForeignOutcome::NotFound, now));
        assert_eq!(drain(&mut ep, c, now), "", "not answered yet");
        assert!(
            !ep.resolve_foreign(c, ForeignOutcome::Accepted, now),
            "nothing is asked meanwhile"
        );
        let at = ep.poll_timeout().unwrap();
        assert_eq!(at, now + crate::transport::DEFAULT_SECOND_LOOK);
        ep.handle_timeout(at, SystemTime::UNIX_EPOCH);
        let again = foreign_events(&mut ep);
        assert_eq!(again.len(), 1, "asked again");
        assert!(again[0].2.is_some(), "with the frame again");
        // The registration arrived meanwhile: 202.
        assert!(ep.resolve_foreign(c, ForeignOutcome::Accepted, at));
        assert!(drain(&mut ep, c, at).starts_with("HTTP/1.1 202 Accepted\r\n"));
        // A second NotFound is final.
        ep.handle_bytes(c, post(OTHER, PING), at);
        assert_eq!(foreign_events(&mut ep).len(), 1);
        ep.resolve_foreign(c, ForeignOutcome::NotFound, at);
        let later = at + crate::transport::DEFAULT_SECOND_LOOK;
        ep.handle_timeout(later, SystemTime::UNIX_EPOCH);
        assert_eq!(foreign_events(&mut ep).len(), 1);
        ep.resolve_foreign(c, ForeignOutcome::NotFound, later);
        assert!(drain(&mut ep, c, later).starts_with("HTTP/1.1 404 Not Found\r\n"));
    }

    #[test]
    fn a_foreign_post_the_bus_does_not_resolve_times_out_with_503() {
        let now = Instant::now();
        let mut ep = endpoint(true, 1);
        let c = ep.open_connection(now);
        ep.handle_bytes(c, post(OTHER, PING), now);
        assert_eq!(foreign_events(&mut ep).len(), 1);
        let at = ep.poll_timeout().unwrap();
        assert_eq!(at, now + Duration::from_secs(2));
        ep.handle_timeout(at, SystemTime::UNIX_EPOCH);
        let text = drain(&mut ep, c, at);
        assert!(
            text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{text}"
        );
        assert!(text.ends_with(crate::transport::TIMEOUT_BODY));
        assert!(ep.wants_close(c));
        assert!(
            !ep.resolve_foreign(c, ForeignOutcome::Accepted, at),
            "too late"
        );
    }

    #[test]
    fn a_local_session_is_not_foreign_and_a_forwarded_message_reaches_its_stream() {
        let now = Instant::now();
        // The owner.
        let mut owner = endpoint(true, 3);
        let get = owner.open_connection(now);
        owner.handle_bytes(
            get,
            Bytes::from_static(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"),
            now,
        );
        let Some(EndpointEvent::SessionOpened { session, .. }) = owner.poll_event() else {
            panic!("no session")
        };
        drain(&mut owner, get, now);
        // A local POST is not foreign.
        let c = owner.open_connection(now);
        owner.handle_bytes(c, post(&session.to_string(), PING), now);
        assert!(foreign_events(&mut owner).is_empty());
        assert!(drain(&mut owner, c, now).starts_with("HTTP/1.1 202"));
        drain(&mut owner, get, now);
        // Another instance gets a POST for it and produces the frame.
        let mut other = endpoint(true, 4);
        let p = other.open_connection(now);
        let body = r#"{"jsonrpc":"2.0","id":"x","method":"ping"}"#;
        other.handle_bytes(p, post(&session.to_string(), body), now);
        let events = foreign_events(&mut other);
        let frame = events[0].2.clone().unwrap();
        // The owner delivers it exactly as a local POST: the answer is on its stream.
        assert_eq!(owner.handle_forwarded(&frame, now), Ok(session));
        while owner.poll_io().is_some() {}
        let stream = drain(&mut owner, get, now);
        assert!(
            stream.contains(r#"data: {"jsonrpc":"2.0","id":"x","result":{}}"#),
            "{stream}"
        );
        // Frames for sessions it does not hold, or with another principal, are refused.
        let gone = encode_forward(
            SessionId::from_u128(9),
            None,
            &Message::from_slice(PING.as_bytes()).unwrap(),
        );
        assert_eq!(
            owner.handle_forwarded(&gone, now),
            Err(ForwardError::UnknownSession(SessionId::from_u128(9)))
        );
        let stolen = encode_forward(
            session,
            Some(&Principal("mallory".into())),
            &Message::from_slice(PING.as_bytes()).unwrap(),
        );
        assert_eq!(
            owner.handle_forwarded(&stolen, now),
            Err(ForwardError::NotOwner(session))
        );
        assert!(matches!(
            owner.handle_forwarded(b"{}", now),
            Err(ForwardError::Frame(_))
        ));
    }
}
