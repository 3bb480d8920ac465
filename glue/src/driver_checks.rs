//! Checks a driver runs from its own `#[test]`s against its TCP connections, written once.

use std::time::{Duration, Instant};

use crate::io::{ByteRead, ByteWrite};
use crate::rt::Rt;

/// Longest one read or write may take in these checks: a read that loses a readiness event
/// hangs, and fails here instead.
pub const READ_DEADLINE: Duration = Duration::from_secs(10);

/// The read path keeps every byte whatever the write sizes: writes of 1 and 17 bytes, one less
/// than `read_chunk`, exactly `read_chunk` (a read that fills the buffer must not be taken for a
/// drained socket), one more, and three times it; then bytes that arrive while no read is
/// pending; then the end of the stream once `writer` closes. `reader` and `writer` are the two
/// ends of one connection; panics on a lost byte, a hang or an early end.
pub async fn read_path(
    rt: &Rt,
    reader: &mut dyn ByteRead,
    writer: &mut dyn ByteWrite,
    read_chunk: usize,
) {
    assert!(read_chunk > 1, "read_chunk {read_chunk}");
    let sizes = [
        1,
        17,
        read_chunk - 1,
        read_chunk,
        read_chunk + 1,
        3 * read_chunk,
    ];
    for size in sizes {
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        // Written while it is read: a write larger than the socket buffers cannot complete
        // before a read drains them.
        let (written, got) = futures_lite::future::zip(
            bounded(rt, writer.write(vec![data.clone().into()])),
            read_exactly(rt, reader, size),
        )
        .await;
        written.expect("write");
        assert_eq!(got, data, "size {size}");
    }
    writer.write(vec![b"late"[..].into()]).await.expect("write");
    rt.sleep_until(Instant::now() + Duration::from_millis(20))
        .await;
    assert_eq!(read_exactly(rt, reader, 4).await, b"late");
    writer.close().await.expect("close");
    let end = bounded(rt, reader.read()).await;
    assert!(end.expect("read").is_none(), "the end of the stream");
}

async fn read_exactly(rt: &Rt, reader: &mut dyn ByteRead, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < want {
        let chunk = bounded(rt, reader.read()).await;
        got.extend_from_slice(&chunk.expect("read").expect("early end of the stream"));
    }
    got
}

async fn bounded<T>(rt: &Rt, fut: impl std::future::Future<Output = T>) -> T {
    let timeout = rt.sleep_until(Instant::now() + READ_DEADLINE);
    futures_lite::future::or(async { Some(fut.await) }, async {
        timeout.await;
        None
    })
    .await
    .expect("a read or write hung (a read: readiness was lost)")
}
