//! A bounded multi-producer, single-consumer queue whose memory follows what it holds.
//!
//! `async_channel::bounded(n)` allocates its `n` slots (and a cache-padded header of ~770
//! bytes) when it is created, so every idle session and in-memory pipe paid for queues it never
//! filled. This queue has the same bound and the same backpressure — [`Sender::send`] waits while
//! `capacity` items are queued, [`Sender::try_send`] answers
//! [`Full`](async_channel::TrySendError::Full), nothing is ever dropped — but its storage is a
//! `VecDeque` that grows on demand (up to the bound) and is released as soon as the queue drains.
//! An idle queue costs one small header and no slots.
//!
//! Semantics follow `async_channel` (whose error types it reuses): the queue closes when
//! [`Sender::close`]/[`Receiver::close`] is called, when the last sender is dropped, or when the
//! receiver is dropped; a closed queue refuses new items, and the receiver still gets every item
//! queued before the close. There is one receiver (`recv` takes `&mut self`), so its waker is kept
//! inline instead of in an allocated listener list; senders waiting for room (rare) wait on an
//! [`Event`], allocated only the first time one has to wait.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use async_channel::{RecvError, SendError, TrySendError};
use event_listener::Event;

struct Shared<T> {
    /// The bound, in items.
    capacity: usize,
    state: Mutex<State<T>>,
    /// Notified when an item leaves the queue or the queue closes (senders waiting for room).
    room: Event,
}

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
    /// Live [`Sender`]s: the last one to go closes the queue.
    senders: usize,
    /// The receiver's waker while it waits for an item.
    receiver: Option<Waker>,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        crate::locked::relock(&self.state)
    }

    /// Closes the queue; `true` if this call closed it.
    fn close(&self) -> bool {
        let waker = {
            let mut st = self.lock();
            if st.closed {
                return false;
            }
            st.closed = true;
            st.receiver.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        self.room.notify(usize::MAX);
        true
    }
}

/// A queue with no bound of its own, for producers that must never wait (what limits it is
/// elsewhere, e.g. a session's `max_pending`). [`Sender::try_send`] fails only once the queue is
/// closed. Like [`bounded`], it holds no storage while empty (an unbounded `async_channel` keeps
/// a block of 31 slots: ~4.6 KB for messages).
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    bounded(usize::MAX)
}

/// A queue holding at most `capacity` items (at least 1). Nothing is allocated for items until one
/// is sent.
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        capacity: capacity.max(1),
        state: Mutex::new(State {
            items: VecDeque::new(),
            closed: false,
            senders: 1,
            receiver: None,
        }),
        room: Event::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// The sending side of a [`bounded`] queue. Cloning adds a sender.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving side of a [`bounded`] queue (there is exactly one).
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("queue::Sender").finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("queue::Receiver").finish_non_exhaustive()
    }
}

impl<T> Sender<T> {
    /// Queues `item` if there is room; hands it back when the queue is full or closed.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut st = self.shared.lock();
            if st.closed {
                return Err(TrySendError::Closed(item));
            }
            if st.items.len() >= self.shared.capacity {
                return Err(TrySendError::Full(item));
            }
            st.items.push_back(item);
            st.receiver.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Queues `item`, waiting while the queue is full (backpressure). Hands it back if the queue
    /// is closed.
    pub async fn send(&self, item: T) -> Result<(), SendError<T>> {
        let mut item = item;
        loop {
            match self.try_send(item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(v)) => return Err(SendError(v)),
                Err(TrySendError::Full(v)) => item = v,
            }
            // Listen, then look again: room made between the two is not missed.
            event_listener::listener!(self.shared.room => listener);
            match self.try_send(item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(v)) => return Err(SendError(v)),
                Err(TrySendError::Full(v)) => item = v,
            }
            listener.await;
        }
    }

    /// Closes the queue; `true` if this call closed it.
    pub fn close(&self) -> bool {
        self.shared.close()
    }

    /// Whether the queue is closed.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut st = self.shared.lock();
            st.senders -= 1;
            st.senders == 0
        };
        if last {
            self.shared.close();
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the next item, or registers the task's waker. `Err` once the queue is closed and
    /// empty.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let item = {
            let mut st = self.shared.lock();
            match st.items.pop_front() {
                Some(item) => {
                    if st.items.is_empty() && st.items.capacity() > 0 {
                        // Drained: give the slots back, an idle queue holds no storage.
                        st.items = VecDeque::new();
                    }
                    item
                }
                None if st.closed => return Poll::Ready(Err(RecvError)),
                None => {
                    match &st.receiver {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => st.receiver = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
            }
        };
        // One slot freed: let one waiting sender in (if that one was cancelled, event_listener
        // passes the notification on).
        self.shared.room.notify_additional(1);
        Poll::Ready(Ok(item))
    }

    /// Waits for the next item. `Err` once the queue is closed and empty.
    pub fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + Send + '_
    where
        T: Send,
    {
        poll_fn(move |cx| self.poll_recv(cx))
    }

    /// Closes the queue; `true` if this call closed it. Items already queued can still be
    /// received.
    pub fn close(&self) -> bool {
        self.shared.close()
    }

    /// Items queued now.
    pub fn len(&self) -> usize {
        self.shared.lock().items.len()
    }

    /// Whether no item is queued now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future::{block_on, poll_once};

    #[test]
    fn bound_is_enforced_and_nothing_is_dropped() {
        let (tx, mut rx) = bounded::<u32>(3);
        for i in 0..3 {
            tx.try_send(i).unwrap();
        }
        assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
        // A blocked send waits until the receiver makes room.
        let mut blocked = Box::pin(tx.send(3));
        assert!(block_on(poll_once(blocked.as_mut())).is_none());
        assert_eq!(block_on(rx.recv()), Ok(0));
        assert_eq!(block_on(blocked), Ok(()));
        let got: Vec<u32> = (0..3).map(|_| block_on(rx.recv()).unwrap()).collect();
        assert_eq!(got, vec![1, 2, 3]);
    }

    #[test]
    fn storage_is_allocated_on_demand_and_released_when_drained() {
        let (tx, mut rx) = bounded::<u64>(16);
        assert_eq!(tx.shared.lock().items.capacity(), 0);
        for i in 0..16 {
            tx.try_send(i).unwrap();
        }
        assert!(tx.shared.lock().items.capacity() >= 16);
        for i in 0..16 {
            assert_eq!(block_on(rx.recv()), Ok(i));
        }
        assert_eq!(tx.shared.lock().items.capacity(), 0);
    }

    #[test]
    fn close_keeps_queued_items_for_the_receiver() {
        let (tx, mut rx) = bounded::<u8>(4);
        tx.try_send(1).unwrap();
        assert!(tx.close());
        assert!(!rx.close());
        assert!(matches!(tx.try_send(2), Err(TrySendError::Closed(2))));
        assert_eq!(block_on(tx.send(3)), Err(SendError(3)));
        assert_eq!(block_on(rx.recv()), Ok(1));
        assert_eq!(block_on(rx.recv()), Err(RecvError));
    }

    #[test]
    fn last_sender_dropped_closes_and_wakes_the_receiver() {
        let (tx, mut rx) = bounded::<u8>(4);
        let tx2 = tx.clone();
        let mut pending = Box::pin(async move { rx.recv().await });
        assert!(block_on(poll_once(pending.as_mut())).is_none());
        drop(tx);
        assert!(block_on(poll_once(pending.as_mut())).is_none());
        drop(tx2);
        assert_eq!(block_on(pending), Err(RecvError));
    }

    #[test]
    fn receiver_dropped_fails_blocked_senders() {
        let (tx, rx) = bounded::<u8>(1);
        tx.try_send(0).unwrap();
        let mut blocked = Box::pin(tx.send(1));
        assert!(block_on(poll_once(blocked.as_mut())).is_none());
        drop(rx);
        assert_eq!(block_on(blocked), Err(SendError(1)));
        assert!(tx.is_closed());
    }

    #[test]
    fn many_senders_across_threads_deliver_everything_in_per_sender_order() {
        let (tx, mut rx) = bounded::<(u8, u32)>(2);
        let threads: Vec<_> = (0..4u8)
            .map(|s| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..500u32 {
                        block_on(tx.send((s, i))).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut next = [0u32; 4];
        let mut total = 0;
        while let Ok((s, i)) = block_on(rx.recv()) {
            assert_eq!(next[s as usize], i);
            next[s as usize] += 1;
            total += 1;
            assert!(rx.len() <= 2);
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(total, 2000);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use futures_lite::future::{block_on, poll_once};
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[derive(Debug, Clone)]
    enum Op {
        TrySend(u16),
        Recv,
        CloseTx,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => any::<u16>().prop_map(Op::TrySend),
            3 => Just(Op::Recv),
            1 => Just(Op::CloseTx),
        ]
    }

    proptest! {
        /// Any sequence of sends, receives and a close behaves like a bounded FIFO that is never
        /// over its bound and never loses an item, and holds no storage when empty.
        #[test]
        fn behaves_like_a_bounded_fifo(cap in 1usize..8, ops in proptest::collection::vec(op(), 0..200)) {
            let (tx, mut rx) = bounded::<u16>(cap);
            let mut model: VecDeque<u16> = VecDeque::new();
            let mut closed = false;
            for o in ops {
                match o {
                    Op::TrySend(v) => match tx.try_send(v) {
                        Ok(()) => { prop_assert!(!closed && model.len() < cap); model.push_back(v); }
                        Err(TrySendError::Full(x)) => { prop_assert!(!closed && model.len() == cap); prop_assert_eq!(x, v); }
                        Err(TrySendError::Closed(x)) => { prop_assert!(closed); prop_assert_eq!(x, v); }
                    },
                    Op::Recv => {
                        let got = block_on(poll_once(rx.recv()));
                        match (model.pop_front(), closed) {
                            (Some(v), _) => prop_assert_eq!(got, Some(Ok(v))),
                            (None, true) => prop_assert_eq!(got, Some(Err(RecvError))),
                            (None, false) => prop_assert_eq!(got, None),
                        }
                    }
                    Op::CloseTx => { prop_assert_eq!(tx.close(), !closed); closed = true; }
                }
                prop_assert_eq!(rx.len(), model.len());
                if model.is_empty() {
                    prop_assert_eq!(tx.shared.lock().items.capacity(), 0);
                }
            }
        }
    }
}
