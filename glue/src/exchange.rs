//! Serving requests that a host HTTP server (hyper, axum, any server that parses HTTP itself)
//! hands over, one exchange per request: the endpoint routes and answers them exactly as on
//! its own connections (see [`mcp_sse_core::transport::HostResponse`]); this module only moves
//! the body in and the answer and the stream's frames out.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use event_listener::{Event, EventListener};
use futures_lite::{Stream, StreamExt};
use mcp_sse_core::http::RequestHead;
use mcp_sse_core::transport::{ConnectionId, HostBody, HostResponse};

use crate::sse_server::{ConnSignal, SseServer};

/// Why an exchange got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// The request body could not be read (the host reported an error); nothing was delivered.
    #[error("the request body could not be read: {0}")]
    Body(String),
    /// The server is gone or dropped the exchange without an answer.
    #[error("the exchange ended without an answer")]
    Unanswered,
}

/// The answer to one exchange: the response to send and, for an SSE stream, its frames.
#[derive(Debug)]
pub struct Exchange {
    /// Status and headers, and the whole body unless it is a stream.
    pub response: HostResponse,
    /// The stream's frames (one complete SSE event each) when `response.body` is
    /// [`HostBody::Stream`]; dropping it ends the stream and its session, as a client that
    /// went away.
    pub frames: Option<ExchangeFrames>,
}

/// The frames of a streamed answer, as they are produced. Ends (`None`) when the stream ends
/// (server shutdown). Dropping it tells the endpoint the client is gone.
pub struct ExchangeFrames {
    server: Arc<SseServer>,
    id: ConnectionId,
    signal: Arc<ConnSignal>,
    listener: Option<EventListener>,
    ready: VecDeque<Bytes>,
    ended: bool,
}

impl std::fmt::Debug for ExchangeFrames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeFrames")
            .field("id", &self.id)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Drop for ExchangeFrames {
    fn drop(&mut self) {
        self.server.close_conn(self.id);
    }
}

impl Stream for ExchangeFrames {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = &mut *self;
        loop {
            if let Some(b) = this.ready.pop_front() {
                return Poll::Ready(Some(b));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            if let Some(listener) = this.listener.as_mut() {
                match Pin::new(listener).poll(cx) {
                    Poll::Ready(()) => this.listener = None,
                    Poll::Pending => return Poll::Pending,
                }
            }
            // Listen before looking, so a frame queued in between still wakes us.
            this.listener = Some(this.signal.wake.listen());
            let (work, close) = {
                let mut st = this.server.lock();
                let gone = !st.conns.contains_key(&this.id);
                let now = Instant::now();
                while let Some(b) = st.endpoint.poll_transmit(this.id, now) {
                    this.ready.push_back(b);
                }
                let close = gone || st.endpoint.wants_close(this.id);
                (this.server.pump(&mut st), close)
            };
            this.server.run(work);
            if close {
                this.ended = true;
            }
            if !this.ready.is_empty() || close {
                this.listener = None;
            }
        }
    }
}

impl SseServer {
    /// Serves one request parsed by a host HTTP server: `head` as received (its target
    /// including the mount prefix), `root_path` the prefix it was mounted under (`None`: the
    /// transport configuration's), `body` the request body's data frames.
    ///
    /// A POST is answered once its message was taken by the endpoint, so a session that is
    /// held back (its client not reading its stream) holds its POSTing client back too.
    ///
    /// `data` is attached to the handlers' [`RequestContext`](crate::RequestContext) of the
    /// messages this request carries ([`RequestContext::request_data`](crate::RequestContext::request_data)).
    pub async fn serve_exchange<B, E>(
        self: &Arc<Self>,
        head: RequestHead,
        root_path: Option<&str>,
        mut body: B,
        data: Option<crate::RequestData>,
    ) -> Result<Exchange, ExchangeError>
    where
        B: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.ensure_timer();
        let signal = Arc::new(ConnSignal {
            wake: Event::new(),
            readable: Event::new(),
        });
        let (id, work) = {
            let mut st = self.lock();
            let id = st.endpoint.open_exchange(head, root_path, Instant::now());
            st.conns.insert(id, signal.clone());
            if let Some(data) = data {
                st.request_data.insert(id, data);
            }
            (id, self.pump(&mut st))
        };
        self.run(work);
        // Ends the exchange on every early return (and when this future is dropped).
        let mut guard = CloseOnDrop {
            server: self.clone(),
            id: Some(id),
        };
        let mut response = self.lock().endpoint.poll_response(id);
        if response.is_none() {
            while let Some(frame) = body.next().await {
                let data = frame.map_err(|e| ExchangeError::Body(e.to_string()));
                let work = {
                    let mut st = self.lock();
                    match &data {
                        Ok(data) => {
                            st.endpoint
                                .handle_exchange_body(id, data.clone(), Instant::now())
                        }
                        Err(_) => st.endpoint.handle_exchange_error(id, Instant::now()),
                    }
                    response = st.endpoint.poll_response(id);
                    self.pump(&mut st)
                };
                self.run(work);
                data?;
                if response.is_some() {
                    // Answered before its end (too large): the rest is not read.
                    break;
                }
            }
        }
        if response.is_none() {
            let work = {
                let mut st = self.lock();
                st.endpoint.handle_exchange_end(id, Instant::now());
                response = st.endpoint.poll_response(id);
                self.pump(&mut st)
            };
            self.run(work);
        }
        // An answer the endpoint decides later (a POST for another instance's session waits
        // for the session bus) comes with a transmit wake-up.
        while response.is_none() {
            event_listener::listener!(signal.wake => listener);
            {
                let mut st = self.lock();
                if !st.conns.contains_key(&id) {
                    break;
                }
                response = st.endpoint.poll_response(id);
                if response.is_some() || st.endpoint.wants_close(id) {
                    break;
                }
            }
            listener.await;
        }
        // Backpressure: the answer waits while the message it carried is parked.
        loop {
            event_listener::listener!(signal.readable => listener);
            let (readable, open) = {
                let st = self.lock();
                (st.endpoint.wants_read(id), st.conns.contains_key(&id))
            };
            if readable || !open {
                break;
            }
            listener.await;
        }
        let response = response.ok_or(ExchangeError::Unanswered)?;
        let frames = match response.body {
            HostBody::Stream => {
                guard.id = None;
                Some(ExchangeFrames {
                    server: self.clone(),
                    id,
                    signal,
                    listener: None,
                    ready: VecDeque::new(),
                    ended: false,
                })
            }
            HostBody::Full(_) => None,
        };
        Ok(Exchange { response, frames })
    }
}

struct CloseOnDrop {
    server: Arc<SseServer>,
    id: Option<ConnectionId>,
}

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.server.close_conn(id);
        }
    }
}
