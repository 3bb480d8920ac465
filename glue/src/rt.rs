//! What a driver provides: spawning, timers and TCP connections.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use crate::io::Connection;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The executor services the glue needs. The smol and tokio drivers each implement it once.
pub trait Runtime: Send + Sync + 'static {
    /// Runs `fut` to completion in the background (detached).
    fn spawn(&self, fut: BoxFuture<'static, ()>);
    /// Completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;
    /// Opens a TCP connection.
    fn connect_tcp(&self, host: String, port: u16) -> BoxFuture<'static, io::Result<Connection>>;
}

/// A shared runtime handle.
pub type Rt = Arc<dyn Runtime>;

/// Outcome of [`recv_until`].
#[derive(Debug)]
pub enum Recv<T> {
    /// A value arrived.
    Value(T),
    /// The channel closed.
    Closed,
    /// The deadline passed first.
    Deadline,
}

/// Receives from `rx`, giving up at `deadline` (if any).
pub async fn recv_until<T>(
    rt: &Rt,
    rx: &async_channel::Receiver<T>,
    deadline: Option<Instant>,
) -> Recv<T> {
    let recv = async {
        match rx.recv().await {
            Ok(v) => Recv::Value(v),
            Err(_) => Recv::Closed,
        }
    };
    match deadline {
        None => recv.await,
        Some(d) => {
            let sleep = rt.sleep_until(d);
            futures_lite::future::or(recv, async move {
                sleep.await;
                Recv::Deadline
            })
            .await
        }
    }
}

/// Polls `fut` once right here and spawns it only if it is not finished: a handler or a batch of
/// events that completes without waiting costs no task switch. Polling first with a no-op waker
/// is sound: the spawned task polls again with its own waker before it sleeps.
pub fn run_or_spawn(rt: &Rt, mut fut: BoxFuture<'static, ()>) {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    if fut.as_mut().poll(&mut cx).is_pending() {
        rt.spawn(fut);
    }
}
