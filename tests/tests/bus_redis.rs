//! The Redis session bus's contract, on smol and on tokio, against a real `redis-server`
//! started here on 127.0.0.1 (a test-chosen port): registration, forwarding to the owner's
//! subscription, lookup, unregistration, lease expiry, and `Unavailable` without a listener.
//! Without `redis-server` the test says so loudly and passes, except under CI.
#![cfg(unix)]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_sse_bus_redis::{RedisBus, RedisBusConfig};
use mcp_sse_core::transport::{ForeignOutcome, SessionId};
use mcp_sse_glue::SessionBus;

struct Redis(Child, u16);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis() -> Option<Redis> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-server is not installed: .ci/run must install it"
        );
        eprintln!("\n\n!!!!! SKIPPED: redis-server is not installed (apt-get install -y redis-server) !!!!!\n\n");
        return None;
    };
    let redis = Redis(child, port);
    let end = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < end, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(redis)
}

fn bus(port: u16, instance: &str) -> RedisBus {
    RedisBus::new(RedisBusConfig {
        prefix: format!("bus-test-{}:", std::process::id()),
        ..RedisBusConfig::new(format!("redis://127.0.0.1:{port}"), instance)
    })
    .expect("a bus")
}

async fn contract(port: u16, sleep: impl Fn(Duration) -> mcp_sse_glue::BoxFuture<'static, ()>) {
    let (a, b) = (bus(port, "a"), bus(port, "b"));
    let s = SessionId::from_u128(0x5e55);
    let frame = Bytes::from_static(b"{\"v\":1}");
    a.connect().await.expect("a connects");
    b.connect().await.expect("b connects");
    // Registered but not listening: the owner cannot be reached.
    a.register(vec![s], Duration::from_secs(30))
        .await
        .expect("register");
    assert_eq!(
        b.forward(s, frame.clone()).await,
        Ok(ForeignOutcome::Unavailable)
    );
    let mut sub = a.subscribe().await.expect("a subscribes");
    assert_eq!(
        b.forward(s, frame.clone()).await,
        Ok(ForeignOutcome::Accepted)
    );
    assert_eq!(sub.next().await, Ok(frame.clone()));
    assert_eq!(b.lookup(s).await, Ok(ForeignOutcome::Accepted));
    // Only the owner's unregistration removes the key.
    b.unregister(vec![s]).await.expect("b unregisters");
    assert_eq!(b.lookup(s).await, Ok(ForeignOutcome::Accepted));
    a.unregister(vec![s]).await.expect("a unregisters");
    assert_eq!(b.lookup(s).await, Ok(ForeignOutcome::NotFound));
    assert_eq!(
        b.forward(s, frame.clone()).await,
        Ok(ForeignOutcome::NotFound)
    );
    // A lease that is not renewed expires.
    a.register(vec![s], Duration::from_millis(200))
        .await
        .expect("register");
    assert_eq!(b.lookup(s).await, Ok(ForeignOutcome::Accepted));
    sleep(Duration::from_millis(400)).await;
    assert_eq!(b.lookup(s).await, Ok(ForeignOutcome::NotFound));
}

#[test]
fn the_redis_bus_keeps_its_contract_on_smol_and_tokio() {
    let Some(redis) = start_redis() else { return };
    let port = redis.1;
    smol::block_on(contract(port, |d| {
        Box::pin(async move {
            smol::Timer::after(d).await;
        })
    }));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio")
        .block_on(contract(port, |d| Box::pin(tokio::time::sleep(d))));
}

#[test]
fn without_redis_every_operation_fails_fast() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let b = bus(port, "b");
    smol::block_on(async {
        let t = Instant::now();
        assert!(b.connect().await.is_err());
        assert!(b
            .forward(SessionId::from_u128(1), Bytes::new())
            .await
            .is_err());
        assert!(b.lookup(SessionId::from_u128(1)).await.is_err());
        assert!(b.subscribe().await.is_err());
        assert!(t.elapsed() < Duration::from_secs(5));
    });
}
