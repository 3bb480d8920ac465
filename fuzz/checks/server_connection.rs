//! Fuzz check for the server transport machine: the input is a little program of driver actions
//! (open a connection, bytes / EOF / close on one, a templated GET or POST, messages sent to a
//! session, time passing, shutdown, a peer that stops reading) run against a [`Server`] with small
//! limits. After every action the driver drains the events and the output of every connection whose
//! peer reads, and closes the connections the server wants closed.
//!
//! Checked: no panic; a session's stream never queues more than `max_session_queue_bytes` plus one
//! message (plus its head and endpoint event); a request connection queues replies only in
//! proportion to the bytes fed since its peer last read; `session_count() <= max_sessions` and
//! matches the opened-minus-closed sessions; sessions open and close once each; every
//! `ServerEvent::Message` comes with exactly one `202 Accepted` on the wire; a connection closed
//! by the peer, or finished after EOF, reports `wants_close`; after `handle_timeout(now)` no timer
//! is still due.
//!
//! Program format: a sequence of `op` bytes each followed by its operands; a missing operand
//! ends the program. `k` picks a connection among the live ones (255 = an unknown id), `s` a
//! session among all sessions ever opened.
//!
//! | op % 12 | operands | action |
//! |---|---|---|
//! | 0 | – | open a connection (ignored while 24 are open) |
//! | 1 | k, len (u16 LE, ≤ 4096), bytes | raw bytes on k |
//! | 2 | k | EOF on k |
//! | 3 | k | k closed by the peer |
//! | 4 | s, size, count | `count % 8 + 1` messages of `16 * size` bytes to session s |
//! | 5 | secs | time passes, `handle_timeout` |
//! | 6 | – | shutdown |
//! | 7 | k, s, flags, len, bytes | a POST of session s on k (flags: 1 close, 2 valid message body, 4 split, 8 bad content type) |
//! | 8 | k, flags | a GET /sse on k (flags: 1 close, 2 HEAD, 4 split) |
//! | 9 | k | k's peer stops / resumes reading |
//! | 10 | – | time jumps to `poll_timeout`, `handle_timeout` |
//! | 11 | tenths | time passes by tenths of a second, `handle_timeout` |

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use mcp_sse_core::http::Limits;
use mcp_sse_core::jsonrpc::{Message, Notification};
use mcp_sse_core::transport::{
    ConnectionId, SendError, Server, ServerConfig, ServerEvent, SessionId,
};

const MAX_SESSIONS: usize = 8;
/// The driver keeps at most this many connections open (more are not accepted).
const MAX_CONNECTIONS: usize = 24;
const MAX_QUEUE: usize = 8 * 1024;
/// The largest message the program sends (JSON), and its SSE + chunk framing.
const MAX_MESSAGE: usize = 16 * 255 + 64;
const FRAMING: usize = 64;
/// Head and endpoint event of a stream, plus the final chunk.
const STREAM_PREFIX: usize = 512;
/// Bytes of reply one request may cause per byte of request (a 404 for a 16-byte request).
const REPLY_PER_BYTE: usize = 16;
const REPLY_SLACK: usize = 1024;

struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn len(&mut self) -> Option<usize> {
        let lo = usize::from(self.byte()?);
        let hi = usize::from(self.byte()?);
        Some((lo | (hi << 8)) % 4097)
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let end = self.data.len().min(self.pos + n);
        let out = self.data.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        out
    }
}

struct Conn {
    id: ConnectionId,
    stalled: bool,
    /// Bytes fed since the driver last took this connection's output.
    fed: usize,
    /// Whether it ever carried a stream.
    stream: bool,
}

struct Driver {
    server: Server,
    now: Instant,
    conns: Vec<Conn>,
    sessions_ever: Vec<SessionId>,
    live: HashSet<SessionId>,
    messages: usize,
    accepted: usize,
}

fn wall(now: Instant, start: Instant) -> SystemTime {
    SystemTime::UNIX_EPOCH
        + Duration::from_secs(1_800_000_000)
        + now.saturating_duration_since(start)
}

impl Driver {
    fn new(now: Instant) -> Self {
        let config = ServerConfig {
            http_limits: Limits {
                max_head_bytes: 1024,
                max_headers: 16,
                max_body_bytes: 4096,
                ..Limits::default()
            },
            max_session_queue_bytes: MAX_QUEUE,
            max_sessions: MAX_SESSIONS,
            ..ServerConfig::default()
        };
        let mut n = 0u8;
        let random = Box::new(move || {
            n = n.wrapping_add(1);
            [n; 16]
        });
        Driver {
            server: Server::new(config, random),
            now,
            conns: Vec::new(),
            sessions_ever: Vec::new(),
            live: HashSet::new(),
            messages: 0,
            accepted: 0,
        }
    }

    fn pick(&self, k: u8) -> Option<usize> {
        if self.conns.is_empty() {
            None
        } else {
            Some(usize::from(k) % self.conns.len())
        }
    }

    fn conn_id(&self, k: u8) -> ConnectionId {
        match self.pick(k) {
            Some(i) if k != 255 => self.conns[i].id,
            _ => ConnectionId(u64::MAX),
        }
    }

    fn feed(&mut self, k: u8, data: &[u8], split: bool) {
        let id = self.conn_id(k);
        if let Some(c) = self.conns.iter_mut().find(|c| c.id == id) {
            c.fed += data.len();
        }
        let data = Bytes::copy_from_slice(data);
        if split && data.len() > 1 {
            let mid = data.len() / 2;
            self.server.handle_bytes(id, data.slice(..mid), self.now);
            self.server.handle_bytes(id, data.slice(mid..), self.now);
        } else {
            self.server.handle_bytes(id, data, self.now);
        }
    }

    fn check_queue(&self, c: &Conn) {
        let queued = self.server.queued_bytes(c.id);
        let mut bound = REPLY_PER_BYTE * c.fed + REPLY_SLACK;
        if c.stream {
            bound += MAX_QUEUE + MAX_MESSAGE + FRAMING + STREAM_PREFIX;
        }
        assert!(
            queued <= bound,
            "connection {:?} queues {queued} bytes (bound {bound})",
            c.id
        );
    }

    fn send(&mut self, s: u8, size: u8, count: u8) {
        if self.sessions_ever.is_empty() {
            return;
        }
        let session = self.sessions_ever[usize::from(s) % self.sessions_ever.len()];
        let mut params = serde_json::Map::new();
        params.insert(
            "x".into(),
            serde_json::Value::from("x".repeat(16 * usize::from(size))),
        );
        let message = Message::Notification(Notification {
            method: "m".into(),
            params: Some(params),
        });
        for _ in 0..=(count % 8) {
            let result = self.server.send(session, &message);
            match &result {
                Ok(()) => assert!(
                    self.live.contains(&session),
                    "send to a dead session accepted"
                ),
                Err(SendError::UnknownSession) => {
                    assert!(!self.live.contains(&session), "live session unknown")
                }
                Err(SendError::QueueFull { queued, limit }) => {
                    assert!(self.live.contains(&session));
                    assert_eq!(*limit, MAX_QUEUE);
                    assert!(*queued > 0);
                }
            }
            for c in &self.conns {
                self.check_queue(c);
            }
        }
    }

    fn timeout(&mut self, start: Instant) {
        self.server.handle_timeout(self.now, wall(self.now, start));
        if let Some(next) = self.server.poll_timeout() {
            assert!(next > self.now, "a timer is still due after handle_timeout");
        }
    }

    /// Drains events and readable connections, closes finished ones, checks the invariants.
    fn settle(&mut self) {
        while let Some(ev) = self.server.poll_event() {
            match ev {
                ServerEvent::SessionOpened {
                    session,
                    connection,
                    ..
                } => {
                    let c = self.conns.iter_mut().find(|c| c.id == connection);
                    let c = c.unwrap_or_else(|| {
                        panic!("session opened on unknown connection {connection:?}")
                    });
                    c.stream = true;
                    assert!(
                        self.live.insert(session),
                        "session {session:?} opened twice"
                    );
                    self.sessions_ever.push(session);
                }
                ServerEvent::Rejected {
                    connection, status, ..
                } => {
                    assert!(status >= 400, "a rejection with status {status}");
                    assert!(
                        self.conns.iter().any(|c| c.id == connection),
                        "rejection on unknown connection {connection:?}"
                    );
                }
                ServerEvent::ForeignPost { .. } => {
                    panic!("a foreign POST without the scale-out setting")
                }
                ServerEvent::Message { session, .. } => {
                    assert!(
                        self.live.contains(&session),
                        "message for a session not open"
                    );
                    self.messages += 1;
                }
                ServerEvent::SessionClosed { session } => {
                    assert!(
                        self.live.remove(&session),
                        "session {session:?} closed but not open"
                    );
                }
                ServerEvent::Transmit { .. } | ServerEvent::Writable { .. } => {}
            }
        }
        assert!(
            self.server.session_count() <= MAX_SESSIONS,
            "too many sessions"
        );
        assert_eq!(
            self.server.session_count(),
            self.live.len(),
            "session count"
        );
        for i in 0..self.conns.len() {
            if !self.conns[i].stalled {
                self.drain(i);
            }
            self.check_queue(&self.conns[i]);
        }
        let mut i = 0;
        while i < self.conns.len() {
            let id = self.conns[i].id;
            if self.server.wants_close(id) {
                assert_eq!(
                    self.server.queued_bytes(id),
                    0,
                    "wants close with output queued"
                );
                self.close(i);
            } else {
                i += 1;
            }
        }
        assert!(
            self.messages >= self.accepted,
            "202 without a message event"
        );
        if self.conns.iter().all(|c| !c.stalled) {
            assert_eq!(self.messages, self.accepted, "message event without a 202");
        }
        assert_eq!(
            self.server.connection_count(),
            self.conns.len(),
            "connection count"
        );
    }

    fn drain(&mut self, i: usize) {
        let id = self.conns[i].id;
        while let Some(b) = self.server.poll_transmit(id, self.now) {
            assert!(!b.is_empty(), "empty transmit");
            if b.starts_with(b"HTTP/1.1 202 Accepted\r\n") {
                self.accepted += 1;
            }
        }
        self.conns[i].fed = 0;
        assert_eq!(self.server.queued_bytes(id), 0);
    }

    /// The peer is gone: what was queued is taken (and lost), then the server is told.
    fn close(&mut self, i: usize) {
        self.drain(i);
        let id = self.conns.remove(i).id;
        self.server.handle_close(id);
        assert!(
            self.server.wants_close(id),
            "closed connection does not want close"
        );
        assert_eq!(self.server.queued_bytes(id), 0);
    }

    fn post(&mut self, input: &mut Input<'_>) -> Option<()> {
        let k = input.byte()?;
        let s = input.byte()?;
        let flags = input.byte()?;
        let len = input.len()?;
        let raw = input.bytes(len);
        let session = match self.sessions_ever.len() {
            0 => SessionId::from_random_bytes([1; 16]),
            n => self.sessions_ever[usize::from(s) % n],
        };
        let body: Vec<u8> = if flags & 2 != 0 {
            let text: String = raw.iter().map(|b| char::from(b'a' + b % 26)).collect();
            format!(r#"{{"jsonrpc":"2.0","method":"m","params":{{"x":"{text}"}}}}"#).into_bytes()
        } else {
            raw.to_vec()
        };
        let mut req = format!(
            "POST /messages/?session_id={session} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            if flags & 8 != 0 { "text/plain" } else { "application/json" },
            body.len()
        )
        .into_bytes();
        if flags & 1 != 0 {
            req.extend_from_slice(b"Connection: close\r\n");
        }
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(&body);
        self.feed(k, &req, flags & 4 != 0);
        Some(())
    }

    fn get(&mut self, k: u8, flags: u8) {
        let method = if flags & 2 != 0 { "HEAD" } else { "GET" };
        let close = if flags & 1 != 0 {
            "Connection: close\r\n"
        } else {
            ""
        };
        let req = format!(
            "{method} /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAccept: text/event-stream\r\nCache-Control: no-store\r\n{close}\r\n"
        );
        self.feed(k, req.as_bytes(), flags & 4 != 0);
    }

    fn step(&mut self, input: &mut Input<'_>, start: Instant) -> Option<()> {
        let op = input.byte()?;
        match op % 12 {
            0 if self.conns.len() < MAX_CONNECTIONS => {
                let id = self.server.open_connection(self.now);
                self.conns.push(Conn {
                    id,
                    stalled: false,
                    fed: 0,
                    stream: false,
                });
            }
            1 => {
                let k = input.byte()?;
                let len = input.len()?;
                let data = input.bytes(len);
                self.feed(k, data, false);
            }
            2 => {
                let k = input.byte()?;
                let id = self.conn_id(k);
                self.server.handle_eof(id, self.now);
                self.settle();
                if self.server.queued_bytes(id) == 0 {
                    assert!(
                        self.server.wants_close(id),
                        "connection not finished after EOF"
                    );
                }
            }
            3 => {
                let k = input.byte()?;
                if let Some(i) = self.pick(k) {
                    self.close(i);
                }
            }
            4 => {
                let s = input.byte()?;
                let size = input.byte()?;
                let count = input.byte()?;
                self.send(s, size, count);
            }
            5 => {
                let secs = input.byte()?;
                self.now += Duration::from_secs(u64::from(secs));
                self.timeout(start);
            }
            0 => {}
            6 => self.server.shutdown(),
            7 => self.post(input)?,
            8 => {
                let k = input.byte()?;
                let flags = input.byte()?;
                self.get(k, flags);
            }
            9 => {
                let k = input.byte()?;
                if let Some(i) = self.pick(k) {
                    self.conns[i].stalled = !self.conns[i].stalled;
                }
            }
            10 => {
                if let Some(at) = self.server.poll_timeout() {
                    self.now = self.now.max(at);
                }
                self.timeout(start);
            }
            _ => {
                let tenths = input.byte()?;
                self.now += Duration::from_millis(100 * u64::from(tenths));
                self.timeout(start);
            }
        }
        self.settle();
        Some(())
    }
}

/// The fuzz entry point.
pub fn check(data: &[u8]) {
    let start = Instant::now();
    let mut d = Driver::new(start);
    let mut input = Input { data, pos: 0 };
    while d.step(&mut input, start).is_some() {}
    // The end: every peer reads what is left, then goes away.
    for c in &mut d.conns {
        c.stalled = false;
    }
    d.settle();
    assert_eq!(d.messages, d.accepted, "message events and 202s differ");
    while !d.conns.is_empty() {
        d.close(0);
    }
    d.settle();
    assert_eq!(
        d.server.session_count(),
        0,
        "sessions left after every connection closed"
    );
    assert_eq!(d.server.connection_count(), 0);
}
