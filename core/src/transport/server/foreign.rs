//! Scale-out: a POST for a session this server does not hold ("foreign").
//!
//! With [`ServerConfig::foreign`](super::ServerConfig::foreign) set, such a POST is not
//! answered `404` at once. Once its body has arrived it is reported as
//! [`ServerEvent::ForeignPost`](super::ServerEvent::ForeignPost) and its connection is parked:
//! nothing more is read from it ([`Server::wants_read`] is `false`, so a client pipelining
//! POSTs is held back), until the driver, having asked its session bus, calls
//! [`Server::resolve_foreign`]. The answer, in the reference's POST table order:
//!
//! | outcome | body parsed | answer |
//! |---|---|---|
//! | [`ForeignOutcome::NotFound`] | either | after one more look ([`ForeignConfig::second_look`]): `404 Could not find session` (row 8) |
//! | [`ForeignOutcome::Accepted`] | yes | `202 Accepted`: the bus took the message for the owner |
//! | [`ForeignOutcome::Accepted`] | no | `400 Could not parse message` (row 10: the session exists) |
//! | [`ForeignOutcome::Unavailable`] | either | `503`, body [`UNAVAILABLE_BODY`] |
//! | no answer within [`ForeignConfig::timeout`] | either | `503`, body [`TIMEOUT_BODY`], connection closed |
//!
//! Then the connection's pipelined requests resume, as after any answer.

use std::time::{Duration, Instant};

use std::collections::VecDeque;

use crate::jsonrpc::Message;

use super::{
    note, Connection, ConnectionId, Principal, Reply, Route, Server, ServerConfig, ServerEvent,
    SessionId, DEFAULT_HEAD_READ_TIMEOUT,
};

/// Default [`ForeignConfig::timeout`].
pub const DEFAULT_FOREIGN_TIMEOUT: Duration = DEFAULT_HEAD_READ_TIMEOUT;
/// Default [`ForeignConfig::second_look`].
pub const DEFAULT_SECOND_LOOK: Duration = Duration::from_millis(100);
/// Body of the `503` answered when the session bus cannot be used (e.g. Redis is down, or the
/// owning instance is not listening).
pub const UNAVAILABLE_BODY: &str =
    "Session bus unavailable: the instance holding this session cannot be reached";
/// Body of the `503` answered when the session bus did not answer in time.
pub const TIMEOUT_BODY: &str = "Session bus timed out";

/// Scale-out settings of the transport ([`ServerConfig::foreign`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignConfig {
    /// How long a foreign POST may wait for [`Server::resolve_foreign`] before it is answered
    /// `503` ([`TIMEOUT_BODY`]) and its connection closed. Bounds the parked connections'
    /// lifetime whatever the bus does.
    pub timeout: Duration,
    /// A session the bus does not know is looked up once more after this delay before the
    /// POST is answered `404` (`None`: answered at once). A new session's registration
    /// reaches the bus a round trip after its `endpoint` event was sent, and behind a
    /// round-robin balancer the client's first POST usually lands on another instance: the
    /// second look keeps that race from failing the session (the reference registers a
    /// session before its endpoint event for the same reason).
    pub second_look: Option<Duration>,
}

impl Default for ForeignConfig {
    fn default() -> Self {
        ForeignConfig {
            timeout: DEFAULT_FOREIGN_TIMEOUT,
            second_look: Some(DEFAULT_SECOND_LOOK),
        }
    }
}

/// What the session bus said about a foreign POST ([`Server::resolve_foreign`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForeignOutcome {
    /// The session exists on another instance, and (for a parsed body) the bus accepted the
    /// message for it.
    Accepted,
    /// No instance holds the session (or its lease expired).
    NotFound,
    /// The bus could not be asked, or the owner cannot be reached.
    Unavailable,
}

/// A parked foreign POST (the connection's route until it is resolved; its HTTP connection
/// awaits the answer, and decides keep-alive and the close after the peer's end of input).
#[derive(Debug)]
pub(super) struct Awaiting {
    extra_headers: Vec<(&'static str, String)>,
    parsed: bool,
    deadline: Instant,
    /// What the second look asks again (kept while it is still to come).
    again: Option<Again>,
    /// When the second look is due.
    look_at: Option<Instant>,
}

#[derive(Debug)]
struct Again {
    delay: Duration,
    session: SessionId,
    message: Option<Message>,
    principal: Option<Principal>,
}

impl Awaiting {
    pub(super) fn new(
        extra_headers: Vec<(&'static str, String)>,
        session: SessionId,
        message: &Option<Message>,
        principal: &Option<Principal>,
        now: Instant,
        config: &ServerConfig,
    ) -> Self {
        let defaults = ForeignConfig::default();
        let foreign = config.foreign.as_ref().unwrap_or(&defaults);
        Awaiting {
            extra_headers,
            parsed: message.is_some(),
            deadline: now + foreign.timeout,
            again: foreign.second_look.map(|delay| Again {
                delay,
                session,
                message: message.clone(),
                principal: principal.clone(),
            }),
            look_at: None,
        }
    }

    /// The connection's next deadline: the second look, or the timeout.
    pub(super) fn next_deadline(&self) -> Instant {
        self.look_at
            .map_or(self.deadline, |at| at.min(self.deadline))
    }
}

/// A parked foreign POST's deadline passed: the second look is asked, or the POST is
/// answered `503` ([`TIMEOUT_BODY`]) and the connection closed.
pub(super) fn on_timeout(
    conn: &mut Connection,
    id: ConnectionId,
    now: Instant,
    events: &mut VecDeque<ServerEvent>,
) {
    let Route::Foreign(awaiting) = &mut conn.route else {
        return;
    };
    if now < awaiting.deadline {
        if awaiting.look_at.is_some_and(|at| now >= at) {
            awaiting.look_at = None;
            if let Some(again) = awaiting.again.take() {
                events.push_back(ServerEvent::ForeignPost {
                    connection: id,
                    session: again.session,
                    message: again.message,
                    principal: again.principal,
                });
            }
        }
        return;
    }
    let reply = timed_out();
    conn.http.close_after_response();
    conn.http.respond(now, &reply);
    conn.http.close();
    conn.route = Route::Done;
    note(conn, id, events);
    events.push_back(ServerEvent::Rejected {
        connection: id,
        status: reply.status,
        reason: reply.body,
    });
}

/// The answer of a foreign POST that the bus did not resolve in time.
pub(super) fn timed_out() -> Reply {
    Reply::plain(503, TIMEOUT_BODY)
}

fn answer(outcome: ForeignOutcome, parsed: bool) -> Reply {
    match (outcome, parsed) {
        (ForeignOutcome::NotFound, _) => Reply::plain(404, "Could not find session"),
        (ForeignOutcome::Accepted, true) => Reply::plain(202, "Accepted"),
        (ForeignOutcome::Accepted, false) => Reply::plain(400, "Could not parse message"),
        (ForeignOutcome::Unavailable, _) => Reply::plain(503, UNAVAILABLE_BODY),
    }
}

impl Server {
    /// Answers the foreign POST parked on `connection` (see
    /// [`ServerEvent::ForeignPost`](super::ServerEvent::ForeignPost)) and resumes the
    /// connection's pipelined requests.
    /// `false` (nothing done) if the connection is gone or is not awaiting a resolution
    /// (it timed out meanwhile).
    pub fn resolve_foreign(
        &mut self,
        connection: ConnectionId,
        outcome: ForeignOutcome,
        now: Instant,
    ) -> bool {
        let Some(conn) = self.connections.get_mut(&connection) else {
            return false;
        };
        let Route::Foreign(awaiting) = &mut conn.route else {
            return false;
        };
        if awaiting.look_at.is_some() {
            // The second look is pending: not a resolution of the current question.
            return false;
        }
        if outcome == ForeignOutcome::NotFound {
            if let Some(again) = &awaiting.again {
                awaiting.look_at = Some(now + again.delay);
                self.schedule(connection);
                return true;
            }
        }
        let mut reply = answer(outcome, awaiting.parsed);
        reply.headers.append(&mut awaiting.extra_headers);
        // The connection decides keep-alive (and, after the peer's end of input, answers what
        // it pipelined before closing).
        conn.http.respond(now, &reply);
        conn.route = if conn.http.is_closing() {
            Route::Done
        } else {
            Route::Requests { in_flight: None }
        };
        note(conn, connection, &mut self.events);
        if reply.status >= 400 {
            self.events.push_back(ServerEvent::Rejected {
                connection,
                status: reply.status,
                reason: reply.body,
            });
        }
        self.process(connection, now);
        self.schedule(connection);
        true
    }

    /// Whether `connection` holds a foreign POST awaiting [`Server::resolve_foreign`].
    pub fn is_awaiting_foreign(&self, connection: ConnectionId) -> bool {
        self.connections
            .get(&connection)
            .is_some_and(|c| matches!(c.route, Route::Foreign(_)))
    }
}
