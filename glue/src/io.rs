//! Byte streams: the two halves of a connection, and an in-memory pipe for in-process use.

use std::io;

use bytes::Bytes;

use crate::queue;
use crate::rt::BoxFuture;

/// The read half of a connection: yields chunks of bytes, `None` at EOF.
pub trait ByteRead: Send + 'static {
    /// Reads the next chunk. `Ok(None)` is EOF.
    fn read(&mut self) -> BoxFuture<'_, io::Result<Option<Bytes>>>;
}

/// The write half of a connection.
pub trait ByteWrite: Send + 'static {
    /// Writes every buffer, in order.
    fn write(&mut self, bufs: Vec<Bytes>) -> BoxFuture<'_, io::Result<()>>;
    /// Closes the write side (EOF for the peer).
    fn close(&mut self) -> BoxFuture<'_, io::Result<()>>;
}

/// Buffers of one [`ByteWrite::write`] call totalling at most this many bytes are joined into one
/// socket write (fewer system calls and packets); larger ones are written one by one, uncopied.
pub const COALESCE_WRITES_UP_TO: usize = 64 * 1024;

/// The buffers a socket writer should write for `bufs`: one joined buffer when there are several
/// and together they are at most [`COALESCE_WRITES_UP_TO`] bytes, else `bufs` as they are.
///
/// ```
/// use bytes::Bytes;
/// use mcp_sse_glue::io::coalesce;
///
/// let out = coalesce(vec![Bytes::from_static(b"ab"), Bytes::from_static(b"cd")]);
/// assert_eq!(out, vec![Bytes::from_static(b"abcd")]);
/// ```
pub fn coalesce(bufs: Vec<Bytes>) -> Vec<Bytes> {
    let total: usize = bufs.iter().map(Bytes::len).sum();
    if bufs.len() < 2 || total > COALESCE_WRITES_UP_TO {
        return bufs;
    }
    let mut joined = bytes::BytesMut::with_capacity(total);
    for b in &bufs {
        joined.extend_from_slice(b);
    }
    vec![joined.freeze()]
}

/// A connection: its read half and its write half.
pub type Connection = (Box<dyn ByteRead>, Box<dyn ByteWrite>);

/// Bound, in chunks, of one direction of an in-memory pipe (backpressure, never unbounded). The
/// pipe's storage grows with what it holds, up to this bound, and is released when it drains.
pub const PIPE_CAPACITY_CHUNKS: usize = 16;

/// The read end of an in-memory pipe.
#[derive(Debug)]
pub struct PipeReader {
    rx: queue::Receiver<Bytes>,
}

/// The write end of an in-memory pipe.
#[derive(Debug)]
pub struct PipeWriter {
    tx: queue::Sender<Bytes>,
}

impl ByteRead for PipeReader {
    fn read(&mut self) -> BoxFuture<'_, io::Result<Option<Bytes>>> {
        Box::pin(async move { Ok(self.rx.recv().await.ok()) })
    }
}

impl ByteWrite for PipeWriter {
    fn write(&mut self, bufs: Vec<Bytes>) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            for b in bufs {
                if b.is_empty() {
                    continue;
                }
                self.tx.send(b).await.map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "in-memory pipe closed by the reader",
                    )
                })?;
            }
            Ok(())
        })
    }

    fn close(&mut self) -> BoxFuture<'_, io::Result<()>> {
        self.tx.close();
        Box::pin(async { Ok(()) })
    }
}

/// A one-way in-memory byte pipe. Chunks pass by reference count: no copies.
pub fn pipe() -> (PipeWriter, PipeReader) {
    let (tx, rx) = queue::bounded(PIPE_CAPACITY_CHUNKS);
    (PipeWriter { tx }, PipeReader { rx })
}

/// Two connected in-memory connections (like a socket pair): what one writes the other reads.
pub fn duplex() -> (Connection, Connection) {
    let (a_w, b_r) = pipe();
    let (b_w, a_r) = pipe();
    (
        (Box::new(a_r), Box::new(a_w)),
        (Box::new(b_r), Box::new(b_w)),
    )
}

/// Observes bytes crossing a connection: `(direction, bytes)`, direction `"C->S"` or `"S->C"`.
pub type TraceFn = std::sync::Arc<dyn Fn(&str, &Bytes) + Send + Sync>;

struct TracedRead {
    inner: Box<dyn ByteRead>,
    trace: TraceFn,
    label: &'static str,
}

struct TracedWrite {
    inner: Box<dyn ByteWrite>,
    trace: TraceFn,
    label: &'static str,
}

impl ByteRead for TracedRead {
    fn read(&mut self) -> BoxFuture<'_, io::Result<Option<Bytes>>> {
        Box::pin(async move {
            let r = self.inner.read().await;
            if let Ok(Some(b)) = &r {
                (self.trace)(self.label, b);
            }
            r
        })
    }
}

impl ByteWrite for TracedWrite {
    fn write(&mut self, bufs: Vec<Bytes>) -> BoxFuture<'_, io::Result<()>> {
        for b in &bufs {
            (self.trace)(self.label, b);
        }
        self.inner.write(bufs)
    }

    fn close(&mut self) -> BoxFuture<'_, io::Result<()>> {
        self.inner.close()
    }
}

/// Wraps a client-side connection so that `trace` sees what it writes (`C->S`) and reads
/// (`S->C`).
pub fn traced(conn: Connection, trace: TraceFn) -> Connection {
    let (r, w) = conn;
    (
        Box::new(TracedRead {
            inner: r,
            trace: trace.clone(),
            label: "S->C",
        }),
        Box::new(TracedWrite {
            inner: w,
            trace,
            label: "C->S",
        }),
    )
}
