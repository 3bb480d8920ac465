//! The table of requests this side sent and still awaits, with their deadlines.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use foldhash::HashMap;
use serde_json::{Map, Value};

use super::format_seconds;
use crate::jsonrpc::{Message, Notification, RequestId};

/// One request awaiting its response.
#[derive(Debug)]
pub(crate) struct PendingRequest {
    /// The method (for the timeout message).
    pub method: String,
    /// When it times out, if ever.
    pub deadline: Option<Instant>,
    /// The timeout it was sent with (for the cancellation reason).
    pub timeout: Option<Duration>,
    /// Whether the caller asked for progress notifications.
    pub progress: bool,
}

/// Outgoing requests keyed by their integer id (ids run 1, 2, 3, …), bounded by `limit`.
#[derive(Debug)]
pub(crate) struct OutgoingRequests {
    next_id: u64,
    pending: HashMap<u64, PendingRequest>,
    deadlines: BTreeSet<(Instant, u64)>,
    limit: usize,
}

impl OutgoingRequests {
    pub fn new(limit: usize) -> Self {
        OutgoingRequests {
            next_id: 1,
            pending: HashMap::default(),
            deadlines: BTreeSet::new(),
            limit,
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn is_full(&self) -> bool {
        self.pending.len() >= self.limit
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Registers a request and returns its fresh id. The caller checks `is_full` first.
    pub fn insert(
        &mut self,
        method: &str,
        timeout: Option<Duration>,
        progress: bool,
        now: Instant,
    ) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        let deadline = timeout.and_then(|t| now.checked_add(t));
        if let Some(d) = deadline {
            self.deadlines.insert((d, id));
        }
        self.pending.insert(
            id,
            PendingRequest {
                method: method.to_owned(),
                deadline,
                timeout,
                progress,
            },
        );
        id
    }

    /// The table key of `id`, if it names a pending request (strings never do: our ids are
    /// integers, and `"7"` is not `7`).
    pub fn key_of(&self, id: &RequestId) -> Option<u64> {
        match id {
            RequestId::Number(n) => n.as_u64().filter(|k| self.pending.contains_key(k)),
            RequestId::String(_) => None,
        }
    }

    pub fn get(&self, key: u64) -> Option<&PendingRequest> {
        self.pending.get(&key)
    }

    pub fn remove(&mut self, key: u64) -> Option<PendingRequest> {
        let p = self.pending.remove(&key)?;
        if let Some(d) = p.deadline {
            self.deadlines.remove(&(d, key));
        }
        Some(p)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(d, _)| *d)
    }

    /// Removes and returns one request whose deadline is at or before `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<(u64, PendingRequest)> {
        let &(deadline, key) = self.deadlines.first()?;
        if deadline > now {
            return None;
        }
        self.deadlines.remove(&(deadline, key));
        let p = self.pending.remove(&key)?;
        Some((key, p))
    }

    /// Removes every pending request, in id order.
    pub fn drain(&mut self) -> Vec<(u64, PendingRequest)> {
        self.deadlines.clear();
        let mut all: Vec<_> = self.pending.drain().collect();
        all.sort_by_key(|(k, _)| *k);
        all
    }
}

/// `notifications/cancelled` for one of our requests.
pub(crate) fn cancelled_notification(key: u64, reason: &str) -> Message {
    let mut params = Map::new();
    params.insert("requestId".into(), Value::from(key));
    params.insert("reason".into(), Value::from(reason));
    Message::Notification(Notification {
        method: "notifications/cancelled".into(),
        params: Some(params),
    })
}

/// The reason the reference gives when a request times out: `timed out after <t>s`.
pub(crate) fn timeout_reason(timeout: Option<Duration>) -> String {
    format!(
        "timed out after {}s",
        format_seconds(timeout.unwrap_or_default())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_deadlines_and_drain() {
        let t0 = Instant::now();
        let mut t = OutgoingRequests::new(3);
        assert_eq!(t.insert("a", Some(Duration::from_secs(5)), false, t0), 1);
        assert_eq!(t.insert("b", Some(Duration::from_secs(1)), true, t0), 2);
        assert_eq!(t.insert("c", None, false, t0), 3);
        assert!(t.is_full());
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(1)));
        assert!(t.pop_expired(t0).is_none());
        let (k, p) = t.pop_expired(t0 + Duration::from_secs(1)).unwrap();
        assert_eq!((k, p.method.as_str()), (2, "b"));
        assert_eq!(t.key_of(&RequestId::from(1)), Some(1));
        assert_eq!(t.key_of(&RequestId::from("1")), None);
        assert_eq!(t.key_of(&RequestId::from(2)), None);
        assert!(t.remove(1).is_some());
        assert_eq!(t.next_deadline(), None);
        let rest = t.drain();
        assert_eq!(rest.len(), 1);
        assert_eq!(t.len(), 0);
    }
}
