//! Hostile load and memory (issue 8), end to end on 127.0.0.1, smol then tokio (one test, so
//! that the process's memory figures belong to one run at a time):
//! - a 100 MiB body, declared and streamed, is refused with 413 without being buffered;
//! - thousands of sessions opened and dropped leave nothing behind: the session and connection
//!   tables return to the live client's alone, and resident memory does not grow from round to
//!   round.
//!
//! A live client is served between every step.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use mcp_sse_glue::{ClientOptions, ServerOptions};
use mcp_sse_tests::{assert_echo, close_and_drain, on_thread, serve_loopback, Exec, Transport};

/// Sessions opened (and then dropped) per round.
const SESSIONS_PER_ROUND: usize = 1_000;
/// Rounds of [`SESSIONS_PER_ROUND`].
const ROUNDS: usize = 4;
/// Allowed growth of resident memory from the end of round 1 to the end of the last round. A
/// leaked idle TCP session costs ~15 KB, so leaking every session would add ~45 MB here.
const MAX_RSS_GROWTH: u64 = 8 << 20;
/// Allowed growth of peak resident memory while a 100 MiB body is refused.
const MAX_PEAK_GROWTH_FOR_BIG_BODY: u64 = 48 << 20;
const BIG_BODY: usize = 100 << 20;

/// `(resident, peak resident)` bytes of this process, from `/proc/self/status` (Linux only).
fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Sends a POST head (plus `body_prefix`) and then streams `BIG_BODY` bytes of `b' '` from one
/// thread while another reads the answer; returns the status line and body of the answer.
fn send_big(addr: SocketAddr, head: String, chunked: bool) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut w = s.try_clone().expect("clone");
    let writer = std::thread::spawn(move || {
        let piece = vec![b' '; 64 * 1024];
        let _ = w.write_all(head.as_bytes());
        let mut sent = 0;
        while sent < BIG_BODY {
            let r = if chunked {
                w.write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                    .and_then(|_| w.write_all(&piece))
                    .and_then(|_| w.write_all(b"\r\n"))
            } else {
                w.write_all(&piece)
            };
            if r.is_err() {
                // The server answered and closed.
                break;
            }
            sent += piece.len();
        }
        sent
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    // Whether the writer got through depends on the kernel (after `shutdown` Linux acknowledges
    // and discards what still arrives); what matters is the answer and the server's memory.
    let _sent = writer.join().expect("writer");
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text.lines().next().unwrap_or_default().to_string();
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    format!("{status} | {body}")
}

/// Opens `n` raw `GET /sse` sessions, waits for each endpoint, then drops them all.
fn open_and_drop_sessions(addr: SocketAddr, n: usize) {
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.write_all(format!("GET /sse HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
            .expect("write");
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&got).contains("session_id=") {
            let k = s.read(&mut buf).expect("read endpoint");
            assert!(k > 0, "closed before the endpoint");
            got.extend_from_slice(&buf[..k]);
        }
        streams.push(s);
    }
    drop(streams);
}

fn run(exec: Exec) {
    mcp_sse_tests::run_for(exec, Transport::SseTcp, Duration::from_secs(300), |h| {
        async move {
            let serving = serve_loopback(
                exec,
                mcp_sse_tests::load::echo_server(),
                ServerOptions::default(),
            )
            .await;
            let addr = serving.local_addr();
            let sse = serving.sse().clone();
            let live = mcp_sse_glue::connect_url(
                h.rt(),
                &format!("http://{addr}/sse"),
                ClientOptions::default(),
                Default::default(),
            )
            .await
            .expect("live client");
            assert_echo(&live, "start").await;
            // The live client's GET and its pooled keep-alive POST connections.
            let baseline = sse.connection_count();

            // A 100 MiB body, declared, then streamed with chunked encoding.
            let before = memory();
            let head = format!(
                "POST /messages/?session_id=0123456789abcdef0123456789abcdef HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {BIG_BODY}\r\n\r\n"
            );
            let got = on_thread(move || send_big(addr, head, false)).await;
            assert_eq!(
                got,
                "HTTP/1.1 413 Request Entity Too Large | Request body too large"
            );
            assert_echo(&live, "after declared").await;
            let head = format!(
                "POST /messages/?session_id=0123456789abcdef0123456789abcdef HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            );
            let got = on_thread(move || send_big(addr, head, true)).await;
            assert_eq!(
                got,
                "HTTP/1.1 413 Request Entity Too Large | Request body too large"
            );
            assert_echo(&live, "after streamed").await;
            if let (Some((_, peak0)), Some((_, peak1))) = (before, memory()) {
                eprintln!("{exec:?}: peak RSS {peak0} -> {peak1} while refusing 100 MiB bodies");
                assert!(
                    peak1.saturating_sub(peak0) < MAX_PEAK_GROWTH_FOR_BIG_BODY,
                    "peak RSS grew by {} bytes refusing a 100 MiB body",
                    peak1 - peak0
                );
            }

            // Thousands of sessions opened and dropped, in rounds.
            let mut after_round = Vec::new();
            for round in 0..ROUNDS {
                let t = std::time::Instant::now();
                on_thread(move || open_and_drop_sessions(addr, SESSIONS_PER_ROUND)).await;
                let mut told = false;
                while sse.session_count() > 1 || sse.connection_count() > baseline {
                    if !told && t.elapsed() > Duration::from_secs(5) {
                        told = true;
                        eprintln!(
                            "{exec:?}: stuck: {} sessions, {} connections",
                            sse.session_count(),
                            sse.connection_count()
                        );
                    }
                    h.sleep(Duration::from_millis(5)).await;
                }
                eprintln!("{exec:?}: round {round} in {:?}", t.elapsed());
                assert_echo(&live, &format!("after round {round}")).await;
                after_round.push(memory().map(|m| m.0));
            }
            eprintln!(
                "{exec:?}: RSS after each round of {SESSIONS_PER_ROUND} sessions: {after_round:?}"
            );
            if let (Some(Some(first)), Some(Some(last))) = (after_round.first(), after_round.last())
            {
                assert!(
                    last.saturating_sub(*first) < MAX_RSS_GROWTH,
                    "RSS grew by {} bytes over {} rounds of {SESSIONS_PER_ROUND} dropped sessions",
                    last - first,
                    ROUNDS - 1
                );
            }
            assert_eq!(sse.session_count(), 1, "only the live session is left");
            close_and_drain(live, serving).await;
        }
    });
}

#[test]
fn big_bodies_and_dropped_sessions_leave_nothing_behind() {
    run(Exec::Smol);
    run(Exec::Tokio);
}
