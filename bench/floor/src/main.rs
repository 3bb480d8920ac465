//! The floor under one legacy-SSE call on this machine: what the kernel and the wake-ups cost
//! with no protocol code at all.
//!
//! The client writes a 249-byte "POST" on connection A; the server answers a 52-byte "202" on A
//! and a 127-byte "event" on connection B (the sizes of a real `tools/call` echo); the client
//! reads both. Blocking sockets, one thread per side, one process, no parsing, no allocation in
//! the loop: any implementation of the transport pays at least this per sequential call.
//!
//! ```text
//! cd bench/floor && cargo run --release -- [CALLS]      # default 50000; 127.0.0.1 only
//! ```
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

const POST: usize = 249;
const ACCEPTED: usize = 52;
const EVENT: usize = 127;

fn read_exactly(s: &mut TcpStream, n: usize, buf: &mut [u8]) -> bool {
    let mut got = 0;
    while got < n {
        match s.read(&mut buf[..n - got]) {
            Ok(0) | Err(_) => return false,
            Ok(k) => got += k,
        }
    }
    true
}

fn main() {
    let calls: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000)
        .min(10_000_000);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local_addr");
    let server = std::thread::spawn(move || {
        let (mut sse, _) = listener.accept().expect("accept B");
        let (mut post, _) = listener.accept().expect("accept A");
        for s in [&sse, &post] {
            s.set_nodelay(true).expect("nodelay");
        }
        let (accepted, event) = (vec![b'a'; ACCEPTED], vec![b'e'; EVENT]);
        let mut buf = vec![0u8; 64 * 1024];
        while read_exactly(&mut post, POST, &mut buf) {
            post.write_all(&accepted).expect("write 202");
            sse.write_all(&event).expect("write event");
        }
    });
    let mut sse = TcpStream::connect(addr).expect("connect B");
    std::thread::sleep(Duration::from_millis(50)); // B is accepted first
    let mut post = TcpStream::connect(addr).expect("connect A");
    for s in [&sse, &post] {
        s.set_nodelay(true).expect("nodelay");
    }
    let request = vec![b'p'; POST];
    let mut buf = vec![0u8; 64 * 1024];
    let start = Instant::now();
    for _ in 0..calls {
        post.write_all(&request).expect("write POST");
        assert!(read_exactly(&mut post, ACCEPTED, &mut buf), "202 cut");
        assert!(read_exactly(&mut sse, EVENT, &mut buf), "event cut");
    }
    let secs = start.elapsed().as_secs_f64();
    drop(post);
    let _ = server.join();
    println!(
        "{{\"impl\":\"floor\",\"calls\":{calls},\"us_per_call\":{:.1},\"calls_per_s\":{:.0}}}",
        secs * 1e6 / calls as f64,
        calls as f64 / secs
    );
}
