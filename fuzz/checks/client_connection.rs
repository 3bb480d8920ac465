//! Fuzz check for the client transport machine: the input is a little program of driver actions
//! (connections opening or failing, arbitrary server bytes, templated server responses, EOFs,
//! sends, time passing, close) run against a [`Client`] with small limits. After every action the
//! driver drains the events and the output of every open connection.
//!
//! Checked: no panic; connections are announced (`Open`) once and closed once, never more than
//! one stream plus `max_in_flight_posts` at a time; the bytes written stay within the bodies sent
//! plus one head each (a head allowance plus the endpoint's length); unresolved sends stay within `max_queued_posts + max_in_flight_posts`;
//! every `SendToken` resolves at most once (`Sent` or `SendFailed`) and all of them have resolved
//! when `Closed` is reported; `Ready` comes at most once and messages only after it; after
//! `Closed` nothing else is reported and `send` fails with `ClientError::Closed`; after
//! `handle_timeout(now)` no timer is still due.
//!
//! Program format: a sequence of `op` bytes each followed by its operands; a missing operand
//! ends the program. `k` picks a connection in the order the client announced them (0 is the
//! stream, 255 an unknown id); `p` picks a connection waiting to be opened.
//!
//! | op % 10 | operands | action |
//! |---|---|---|
//! | 0 | p | the connection opens |
//! | 1 | p | the connection fails to open |
//! | 2 | k, len (u16 LE, ≤ 4096), bytes | raw server bytes on k |
//! | 3 | k | EOF on k |
//! | 4 | flags, len, bytes | `send_json(bytes)` (flags & 1: `send` of a valid message instead) |
//! | 5 | secs | time passes, `handle_timeout` |
//! | 6 | – | `close()` |
//! | 7 | what, len, bytes | on the stream: 0 an event-stream head, 1 the endpoint event, 2 a message event with the bytes, 3 the last chunk |
//! | 8 | k, flags, len, bytes | a POST response on k: status 202/200/404/500/400 by flags % 5, flags & 8 `Connection: close`, the bytes as body |
//! | 9 | tenths | time passes by tenths of a second, `handle_timeout` |

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_sse_core::http::Limits;
use mcp_sse_core::jsonrpc::{Message, Notification};
use mcp_sse_core::sse::DecoderLimits;
use mcp_sse_core::transport::{
    Client, ClientConfig, ClientConnectionId, ClientError, ClientEvent, SendToken,
};

const MAX_IN_FLIGHT: usize = 3;
const MAX_QUEUED: usize = 8;
const HEAD_ALLOWANCE: usize = 1024;

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

struct Driver {
    client: Client,
    now: Instant,
    /// Every connection the client announced, in order.
    known: Vec<ClientConnectionId>,
    pending: Vec<ClientConnectionId>,
    connected: HashSet<ClientConnectionId>,
    closed_conns: HashSet<ClientConnectionId>,
    /// Token → times it resolved.
    tokens: HashMap<SendToken, u32>,
    body_bytes: usize,
    /// Length of the resolved endpoint URL (from `Ready`).
    endpoint_len: usize,
    sends: usize,
    written: usize,
    ready: bool,
    closed: bool,
    token_requests: usize,
}

impl Driver {
    fn new(now: Instant) -> Self {
        let config = ClientConfig {
            headers: vec![("Authorization".into(), "Bearer x".into())],
            // A 401 asks for a token: the driver alternates between giving one and failing.
            bearer_token: Some("x".into()),
            refresh_token_on_401: true,
            // An http → https redirect is followed (the driver's connections are not TLS, but
            // the machine's side of it is what is checked).
            follow_https_upgrade: true,
            read_timeout: Duration::from_secs(30),
            endpoint_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_redirects: 2,
            max_in_flight_posts: MAX_IN_FLIGHT,
            max_queued_posts: MAX_QUEUED,
            http_limits: Limits {
                max_head_bytes: 1024,
                max_headers: 16,
                max_body_bytes: 4096,
                ..Limits::default()
            },
            sse_limits: DecoderLimits {
                max_line_bytes: 2048,
                max_event_bytes: 4096,
            },
            max_error_body_bytes: 256,
        };
        let client = match Client::new("http://127.0.0.1:8000/sse", config, now) {
            Ok(c) => c,
            Err(e) => panic!("valid URL refused: {e}"),
        };
        Driver {
            client,
            now,
            known: Vec::new(),
            pending: Vec::new(),
            connected: HashSet::new(),
            closed_conns: HashSet::new(),
            tokens: HashMap::new(),
            body_bytes: 0,
            endpoint_len: 0,
            sends: 0,
            written: 0,
            ready: false,
            closed: false,
            token_requests: 0,
        }
    }

    fn conn(&self, k: u8) -> ClientConnectionId {
        match self.known.len() {
            0 => Client::STREAM,
            _ if k == 255 => ClientConnectionId(9999),
            n => self.known[usize::from(k) % n],
        }
    }

    fn resolve(&mut self, token: SendToken) {
        let count = self
            .tokens
            .get_mut(&token)
            .unwrap_or_else(|| panic!("unknown token {token:?} resolved"));
        *count += 1;
        assert_eq!(*count, 1, "token {token:?} resolved twice");
    }

    fn settle(&mut self) {
        while let Some(ev) = self.client.poll_event() {
            assert!(!self.closed, "event after Closed: {ev:?}");
            match ev {
                ClientEvent::Open(id) => {
                    assert!(
                        !self.known.contains(&id),
                        "connection {id:?} announced twice"
                    );
                    self.known.push(id);
                    self.pending.push(id);
                }
                ClientEvent::Close(id) => {
                    assert!(self.known.contains(&id), "close of unannounced {id:?}");
                    assert!(
                        self.closed_conns.insert(id),
                        "connection {id:?} closed twice"
                    );
                    self.pending.retain(|p| *p != id);
                    self.connected.remove(&id);
                }
                ClientEvent::Transmit(id) => {
                    assert!(
                        self.connected.contains(&id),
                        "transmit on a connection not open: {id:?}"
                    );
                }
                ClientEvent::Ready { endpoint, .. } => {
                    self.endpoint_len = endpoint.len();
                    assert!(!self.ready, "Ready twice");
                    self.ready = true;
                }
                ClientEvent::Message(_) | ClientEvent::InvalidMessage(_) => {
                    assert!(self.ready, "message before Ready");
                }
                ClientEvent::Sent(t) | ClientEvent::SendFailed(t, _) => self.resolve(t),
                ClientEvent::TokenRequired { .. } => {
                    self.token_requests += 1;
                    if self.token_requests % 2 == 1 {
                        self.client
                            .handle_token(format!("t{}", self.token_requests));
                    } else {
                        self.client.handle_token_failed("fuzz");
                    }
                }
                ClientEvent::Closed(_) => {
                    self.closed = true;
                    for (t, n) in &self.tokens {
                        assert_eq!(*n, 1, "token {t:?} unresolved at Closed");
                    }
                    assert!(
                        self.pending.is_empty() && self.connected.is_empty(),
                        "connections left at Closed"
                    );
                }
            }
        }
        assert_eq!(
            self.client.is_closed(),
            self.closed,
            "is_closed disagrees with the events"
        );
        assert_eq!(self.client.is_ready(), self.ready && !self.closed);
        let live: Vec<ClientConnectionId> = self.connected.iter().copied().collect();
        for id in live {
            while let Some(b) = self.client.poll_transmit(id) {
                assert!(!b.is_empty(), "empty transmit");
                self.written += b.len();
            }
        }
        // Each POST head carries the endpoint's path and query, which a server may make long
        // (non-ASCII is percent-encoded, up to 3 bytes a byte).
        let allowance =
            self.body_bytes + HEAD_ALLOWANCE + (HEAD_ALLOWANCE + self.endpoint_len) * self.sends;
        assert!(
            self.written <= allowance,
            "wrote {} bytes, more than {allowance}",
            self.written
        );
        let live_conns = self.pending.len() + self.connected.len();
        assert!(live_conns <= 1 + MAX_IN_FLIGHT, "{live_conns} connections");
        let unresolved = self.tokens.values().filter(|n| **n == 0).count();
        assert!(
            unresolved <= MAX_QUEUED + MAX_IN_FLIGHT,
            "{unresolved} sends unresolved"
        );
        if self.closed {
            assert_eq!(self.client.poll_timeout(), None);
        }
    }

    fn send(&mut self, flags: u8, body: &[u8]) {
        let result = if flags & 1 != 0 {
            let mut params = serde_json::Map::new();
            params.insert(
                "x".into(),
                serde_json::Value::from(String::from_utf8_lossy(body).into_owned()),
            );
            let message = Message::Notification(Notification {
                method: "m".into(),
                params: Some(params),
            });
            self.body_bytes += message.to_vec().len();
            self.client.send(&message)
        } else {
            self.body_bytes += body.len();
            self.client.send_json(Bytes::copy_from_slice(body))
        };
        self.sends += 1;
        match result {
            Ok(token) => {
                assert!(!self.closed, "send accepted after Closed");
                assert!(
                    self.tokens.insert(token, 0).is_none(),
                    "token {token:?} reused"
                );
            }
            Err(ClientError::Closed) => {
                assert!(self.closed, "send refused as closed before Closed")
            }
            Err(ClientError::QueueFull(n)) => assert!(n >= MAX_QUEUED),
            Err(e) => panic!("unexpected send error {e}"),
        }
    }

    fn timeout(&mut self) {
        self.client.handle_timeout(self.now);
        if let Some(next) = self.client.poll_timeout() {
            assert!(next > self.now, "a timer is still due after handle_timeout");
        }
    }

    fn feed(&mut self, id: ClientConnectionId, data: &[u8]) {
        self.client
            .handle_bytes(id, Bytes::copy_from_slice(data), self.now);
    }

    fn stream_part(&mut self, what: u8, data: &[u8]) {
        let text = match what % 4 {
            0 => "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_string(),
            1 => chunk("event: endpoint\r\ndata: /messages/?session_id=0123456789abcdef0123456789abcdef\r\n\r\n"),
            2 => {
                let line: String =
                    String::from_utf8_lossy(data).chars().filter(|c| *c != '\r' && *c != '\n').collect();
                chunk(&format!("event: message\r\ndata: {line}\r\n\r\n"))
            }
            _ => "0\r\n\r\n".to_string(),
        };
        self.feed(Client::STREAM, text.as_bytes());
    }

    fn post_response(&mut self, k: u8, flags: u8, body: &[u8]) {
        let (status, reason) = [
            (202, "Accepted"),
            (200, "OK"),
            (404, "Not Found"),
            (500, "Internal Server Error"),
            (400, "Bad Request"),
        ][usize::from(flags % 5)];
        let close = if flags & 8 != 0 {
            "Connection: close\r\n"
        } else {
            ""
        };
        let mut out = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\n{close}\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        let id = self.conn(k);
        self.feed(id, &out);
    }

    fn step(&mut self, input: &mut Input<'_>) -> Option<()> {
        let op = input.byte()?;
        match op % 10 {
            0 | 1 => {
                let p = input.byte()?;
                if !self.pending.is_empty() {
                    let id = self.pending.remove(usize::from(p) % self.pending.len());
                    if op % 10 == 0 {
                        self.connected.insert(id);
                        self.client.handle_connected(id, self.now);
                    } else {
                        self.client.handle_connect_failed(id, "refused");
                        // The machine answers a failure with `Close` (or ends everything).
                    }
                }
            }
            2 => {
                let k = input.byte()?;
                let len = input.len()?;
                let data = input.bytes(len);
                let id = self.conn(k);
                self.feed(id, data);
            }
            3 => {
                let k = input.byte()?;
                let id = self.conn(k);
                self.client.handle_eof(id, self.now);
            }
            4 => {
                let flags = input.byte()?;
                let len = input.len()?;
                let body = input.bytes(len);
                self.send(flags, body);
            }
            5 => {
                let secs = input.byte()?;
                self.now += Duration::from_secs(u64::from(secs));
                self.timeout();
            }
            6 => self.client.close(),
            7 => {
                let what = input.byte()?;
                let len = input.len()?;
                let data = input.bytes(len);
                self.stream_part(what, data);
            }
            8 => {
                let k = input.byte()?;
                let flags = input.byte()?;
                let len = input.len()?;
                let body = input.bytes(len);
                self.post_response(k, flags, body);
            }
            _ => {
                let tenths = input.byte()?;
                self.now += Duration::from_millis(100 * u64::from(tenths));
                self.timeout();
            }
        }
        self.settle();
        Some(())
    }
}

fn chunk(text: &str) -> String {
    format!("{:x}\r\n{text}\r\n", text.len())
}

/// The fuzz entry point.
pub fn check(data: &[u8]) {
    let mut d = Driver::new(Instant::now());
    d.settle();
    let mut input = Input { data, pos: 0 };
    while d.step(&mut input).is_some() {}
    d.client.close();
    d.settle();
    assert!(d.closed, "no Closed after close()");
    for (t, n) in &d.tokens {
        assert_eq!(*n, 1, "token {t:?} resolved {n} times");
    }
    assert!(
        d.client.send_json(Bytes::from_static(b"{}")).is_err(),
        "send after close accepted"
    );
    assert!(d.client.poll_event().is_none(), "event after Closed");
}
