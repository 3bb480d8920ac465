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
//! | [`ForeignOutcome::NotFound`] | either | `404 Could not find session` (row 8) |
//! | [`ForeignOutcome::Accepted`] | yes | `202 Accepted`: the bus took the message for the owner |
//! | [`ForeignOutcome::Accepted`] | no | `400 Could not parse message` (row 10: the session exists) |
//! | [`ForeignOutcome::Unavailable`] | either | `503`, body [`UNAVAILABLE_BODY`] |
//! | no answer within [`ForeignConfig::timeout`] | either | `503`, body [`TIMEOUT_BODY`], connection closed |
//!
//! Then the connection's pipelined requests resume, as after any answer.

use std::time::{Duration, Instant};

use crate::jsonrpc::Message;

use super::{
    finish_conn, write_reply, ConnState, ConnectionId, Reply, Server, ServerConfig,
    DEFAULT_HEAD_READ_TIMEOUT,
};

/// Default [`ForeignConfig::timeout`].
pub const DEFAULT_FOREIGN_TIMEOUT: Duration = DEFAULT_HEAD_READ_TIMEOUT;
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
}

impl Default for ForeignConfig {
    fn default() -> Self {
        ForeignConfig {
            timeout: DEFAULT_FOREIGN_TIMEOUT,
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

/// A parked foreign POST (the connection's state until it is resolved).
#[derive(Debug)]
pub(super) struct Awaiting {
    keep_alive: bool,
    extra_headers: Vec<(&'static str, String)>,
    parsed: bool,
    /// The peer half-closed meanwhile: answer, then close.
    pub(super) eof: bool,
    pub(super) deadline: Instant,
}

impl Awaiting {
    pub(super) fn new(
        keep_alive: bool,
        extra_headers: Vec<(&'static str, String)>,
        message: &Option<Message>,
        now: Instant,
        config: &ServerConfig,
    ) -> Self {
        let timeout = config
            .foreign
            .as_ref()
            .map_or(DEFAULT_FOREIGN_TIMEOUT, |f| f.timeout);
        Awaiting {
            keep_alive,
            extra_headers,
            parsed: message.is_some(),
            eof: false,
            deadline: now + timeout,
        }
    }
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
    /// Answers the foreign POST parked on `connection` (see [`ServerEvent::ForeignPost`]
    /// (super::ServerEvent::ForeignPost)) and resumes the connection's pipelined requests.
    /// `false` (nothing done) if the connection is gone or is not awaiting a resolution
    /// (it timed out meanwhile).
    pub fn resolve_foreign(
        &mut self,
        connection: ConnectionId,
        outcome: ForeignOutcome,
        now: Instant,
    ) -> bool {
        let shutting_down = self.shutting_down;
        let Some(conn) = self.connections.get_mut(&connection) else {
            return false;
        };
        let ConnState::Foreign(awaiting) = &mut conn.state else {
            return false;
        };
        let keep_alive = awaiting.keep_alive && !awaiting.eof && !shutting_down;
        let eof = awaiting.eof;
        let mut reply = answer(outcome, awaiting.parsed);
        reply.headers.append(&mut awaiting.extra_headers);
        write_reply(conn, connection, &reply, keep_alive, &mut self.events);
        conn.phase_started = now;
        if keep_alive {
            conn.state = ConnState::Requests { in_flight: None };
            self.process(connection, now);
        } else if eof && !conn.decoder.is_idle() {
            // Requests pipelined before the half-close are answered before closing.
            conn.state = ConnState::Requests { in_flight: None };
            conn.decoder.handle_eof();
            self.process_all(connection, now);
            self.begin_close(connection);
        } else {
            finish_conn(conn, connection, &mut self.events);
        }
        self.schedule(connection);
        true
    }

    /// Whether `connection` holds a foreign POST awaiting [`Server::resolve_foreign`].
    pub fn is_awaiting_foreign(&self, connection: ConnectionId) -> bool {
        self.connections
            .get(&connection)
            .is_some_and(|c| matches!(c.state, ConnState::Foreign(_)))
    }
}
