//! Locking that survives a panicked holder, and running a session machine under its lock.

use std::sync::{Mutex, MutexGuard};

use mcp_sse_core::jsonrpc::Message;
use mcp_sse_core::session::SessionOutput;

/// Locks `m`, taking the data over if a holder panicked (every holder leaves it consistent:
/// a handler's panic never happens under these locks).
pub(crate) fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f` on the session machine, then takes everything it produced: messages to send and
/// events to dispatch (both after the lock is released).
pub(crate) fn with_session<M: SessionOutput, T>(
    machine: &Mutex<M>,
    f: impl FnOnce(&mut M) -> T,
) -> (T, Vec<Message>, Vec<M::Event>) {
    let mut m = relock(machine);
    let out = f(&mut m);
    let msgs = std::iter::from_fn(|| m.poll_transmit()).collect();
    let events = std::iter::from_fn(|| m.poll_event()).collect();
    (out, msgs, events)
}
