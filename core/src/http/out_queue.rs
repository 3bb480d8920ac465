//! The output queue of one connection: what waits to be written, its size (for backpressure
//! bounds), and the "something to write" wake-up a driver is told of once per transition.

use std::collections::VecDeque;

use bytes::Bytes;

/// Bytes waiting to be written on one connection, in order.
///
/// [`take_wakeup`](Self::take_wakeup) is `true` once after the queue went from drained to
/// holding something (or after [`wake`](Self::wake)); it re-arms when [`pop`](Self::pop) finds
/// the queue empty. A driver that reports one "transmit" per `true` and then pops until `None`
/// never polls an idle connection and never misses output.
///
/// ```
/// use bytes::Bytes;
/// use mcp_sse_core::http::OutQueue;
///
/// let mut q = OutQueue::default();
/// q.push(Bytes::from_static(b"ab"));
/// q.push(Bytes::from_static(b"c"));
/// assert_eq!((q.queued_bytes(), q.take_wakeup(), q.take_wakeup()), (3, true, false));
/// assert_eq!(q.pop(), Some(Bytes::from_static(b"ab")));
/// assert_eq!(q.pop(), Some(Bytes::from_static(b"c")));
/// assert_eq!(q.pop(), None);
/// q.push(Bytes::from_static(b"d"));
/// assert!(q.take_wakeup(), "re-armed once drained");
/// ```
#[derive(Debug, Default)]
pub struct OutQueue {
    out: VecDeque<Bytes>,
    bytes: usize,
    reported: bool,
    due: bool,
}

impl OutQueue {
    /// Queues `bytes` (nothing for an empty buffer).
    pub fn push(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        self.bytes += bytes.len();
        self.out.push_back(bytes);
        self.wake();
    }

    /// The next buffer to write; `None` (and the wake-up re-armed) when drained.
    pub fn pop(&mut self) -> Option<Bytes> {
        match self.out.pop_front() {
            Some(b) => {
                self.bytes -= b.len();
                Some(b)
            }
            None => {
                self.reported = false;
                None
            }
        }
    }

    /// Re-arms the wake-up if nothing is queued (the driver has taken everything there is, as
    /// a `pop` returning `None` would tell).
    pub fn rearm(&mut self) {
        if self.out.is_empty() {
            self.reported = false;
        }
    }

    /// Asks for a wake-up without output (the connection finished, an answer is ready).
    pub fn wake(&mut self) {
        if !self.reported {
            self.reported = true;
            self.due = true;
        }
    }

    /// Whether the driver must be told (see the type's docs); cleared by this call.
    pub fn take_wakeup(&mut self) -> bool {
        std::mem::take(&mut self.due)
    }

    /// Bytes queued.
    pub fn queued_bytes(&self) -> usize {
        self.bytes
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }
}
