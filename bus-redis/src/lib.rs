//! # mcp-sse-bus-redis
//!
//! A [`SessionBus`] on Redis: several `mcp-sse` server instances behind any load balancer
//! (round-robin, no stickiness) share one session space. The decisions (which POSTs are
//! forwarded, how they are answered, when leases are renewed, when to reconnect) are the
//! core's ([`mcp_sse_core::cluster`]); this crate only runs the Redis commands.
//!
//! Client: [`redis`] (redis-rs), with multiplexed async connections on tokio (feature
//! `tokio`, the default) or smol (feature `smol`).
//!
//! # Format (what another bus implementation must do to interoperate)
//!
//! With key prefix `P` (default [`DEFAULT_PREFIX`], `mcp-sse:`) and instance name `I`:
//!
//! - **Registry**: `P session:<32 hex>` (one key per live session, the id as the `endpoint`
//!   event announces it) holds the owner's instance name `I`, written with
//!   `SET key I PX <lease ms>` when the session opens and at every renewal (which also
//!   re-creates keys lost by a Redis restart), and deleted when the session ends if it still
//!   holds `I`. A crashed instance's keys expire after the lease.
//! - **Delivery**: each instance subscribes to the pub/sub channel `P instance:I`. A
//!   message for a session is published there as the core's
//!   [forward frame](mcp_sse_core::cluster::frame) (one JSON object:
//!   `{"v":1,"session":"…","message":{…}}`), by one Lua script that reads the registry key
//!   and publishes to its owner's channel atomically: it answers `-1` if the key is absent
//!   (POST answered `404`), else the number of subscribers that received it (`0`: the owner
//!   is not listening, `503`; `1`: `202`).
//!
//! Order: frames published to one channel are received in the order Redis ran the
//! `PUBLISH`es, so messages a client sends one after another (each after the previous
//! POST's answer) reach the session in order, whichever instance received them.
//!
//! # Redis settings
//!
//! Pub/sub is not persisted: an instance not subscribed at the moment of a publish does not
//! get it (the POST is answered `503`, never lost silently). Redis bounds what a slow
//! subscriber may queue with `client-output-buffer-limit pubsub` (default `32mb 8mb 60`);
//! past it Redis drops the subscription, the instance re-subscribes and re-registers.
//! Keys need no persistence (`save ""` is fine): they are re-written at every renewal.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use futures_lite::StreamExt;
use mcp_sse_core::transport::{ForeignOutcome, SessionId};
use mcp_sse_glue::{BoxFuture, BusError, SessionBus, Subscription};
use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;

/// Default key and channel prefix.
pub const DEFAULT_PREFIX: &str = "mcp-sse:";
/// Default bound on one Redis command's connect and response time
/// ([`RedisBusConfig::timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The Lua script of a forward: `KEYS[1]` the session key, `ARGV[1]` the channel prefix,
/// `ARGV[2]` the frame.
pub const FORWARD_SCRIPT: &str = r"
local owner = redis.call('GET', KEYS[1])
if not owner then return -1 end
return redis.call('PUBLISH', ARGV[1] .. owner, ARGV[2])
";

/// The Lua script of an unregistration: `KEYS[1]` the session key, `ARGV[1]` the instance.
pub const UNREGISTER_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Why a [`RedisBus`] could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RedisBusError {
    /// The URL is not a Redis URL.
    #[error("invalid Redis URL: {0}")]
    Url(String),
    /// The instance name is empty or holds characters other than `A-Z a-z 0-9 - _ .`.
    #[error("invalid instance name {0:?} (use A-Z, a-z, 0-9, '-', '_', '.')")]
    Instance(String),
}

/// Configuration of a [`RedisBus`].
#[derive(Debug, Clone)]
pub struct RedisBusConfig {
    /// `redis://host:port[/db]` (or `rediss://` where the client supports it).
    pub url: String,
    /// This instance's name, unique among the instances sharing the prefix.
    pub instance: String,
    /// Key and channel prefix, so several deployments can share one Redis.
    pub prefix: String,
    /// Bound on connecting and on each command's answer.
    pub timeout: Duration,
}

impl RedisBusConfig {
    /// `url` with instance name `instance`, the default prefix and timeout.
    pub fn new(url: impl Into<String>, instance: impl Into<String>) -> Self {
        RedisBusConfig {
            url: url.into(),
            instance: instance.into(),
            prefix: DEFAULT_PREFIX.into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The Redis [`SessionBus`] (see the [crate docs](crate) for the key and channel format).
pub struct RedisBus {
    client: redis::Client,
    config: RedisBusConfig,
    channel: String,
    conn: Mutex<Option<MultiplexedConnection>>,
    forward: redis::Script,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn err(e: redis::RedisError) -> BusError {
    BusError(e.to_string())
}

fn valid_instance(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl RedisBus {
    /// A bus for `config` (nothing is connected until the registry asks).
    pub fn new(config: RedisBusConfig) -> Result<Self, RedisBusError> {
        if !valid_instance(&config.instance) {
            return Err(RedisBusError::Instance(config.instance));
        }
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| RedisBusError::Url(e.to_string()))?;
        let channel = format!("{}instance:{}", config.prefix, config.instance);
        Ok(RedisBus {
            client,
            config,
            channel,
            conn: Mutex::new(None),
            forward: redis::Script::new(FORWARD_SCRIPT),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &RedisBusConfig {
        &self.config
    }

    /// The registry key of `session`.
    pub fn session_key(&self, session: SessionId) -> String {
        format!("{}session:{session}", self.config.prefix)
    }

    /// The channel this instance receives forwarded messages on.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    fn conn(&self) -> Result<MultiplexedConnection, BusError> {
        let guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .clone()
            .ok_or_else(|| BusError("not connected to Redis".into()))
    }

    /// A command failed: a broken connection is dropped (the registry reconnects it).
    fn failed(&self, e: redis::RedisError) -> BusError {
        if e.is_io_error()
            || e.is_connection_dropped()
            || e.is_timeout()
            || e.is_unrecoverable_error()
        {
            *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
        err(e)
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        f: impl AsyncFnOnce(&mut MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Result<T, BusError> {
        let mut conn = self.conn()?;
        f(&mut conn).await.map_err(|e| self.failed(e))
    }

    fn connection_config(&self) -> AsyncConnectionConfig {
        AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.config.timeout))
            .set_response_timeout(Some(self.config.timeout))
    }
}

struct RedisSubscription {
    stream: redis::aio::PubSubStream,
}

impl Subscription for RedisSubscription {
    fn next(&mut self) -> BoxFuture<'_, Result<Bytes, BusError>> {
        Box::pin(async move {
            match self.stream.next().await {
                Some(msg) => Ok(Bytes::copy_from_slice(msg.get_payload_bytes())),
                None => Err(BusError("the Redis subscription ended".into())),
            }
        })
    }
}

impl SessionBus for RedisBus {
    fn connect(&self) -> BoxFuture<'_, Result<(), BusError>> {
        Box::pin(async move {
            let mut conn = self
                .client
                .get_multiplexed_async_connection_with_config(&self.connection_config())
                .await
                .map_err(err)?;
            let _: () = redis::cmd("PING")
                .query_async(&mut conn)
                .await
                .map_err(err)?;
            *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn);
            Ok(())
        })
    }

    fn register(
        &self,
        sessions: Vec<SessionId>,
        lease: Duration,
    ) -> BoxFuture<'_, Result<(), BusError>> {
        Box::pin(async move {
            let ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1);
            let mut pipe = redis::pipe();
            for s in &sessions {
                pipe.cmd("SET")
                    .arg(self.session_key(*s))
                    .arg(&self.config.instance)
                    .arg("PX")
                    .arg(ms)
                    .ignore();
            }
            self.run(async |c: &mut MultiplexedConnection| pipe.query_async::<()>(c).await)
                .await
        })
    }

    fn unregister(&self, sessions: Vec<SessionId>) -> BoxFuture<'_, Result<(), BusError>> {
        Box::pin(async move {
            let mut pipe = redis::pipe();
            for s in &sessions {
                pipe.cmd("EVAL")
                    .arg(UNREGISTER_SCRIPT)
                    .arg(1)
                    .arg(self.session_key(*s))
                    .arg(&self.config.instance)
                    .ignore();
            }
            self.run(async |c: &mut MultiplexedConnection| pipe.query_async::<()>(c).await)
                .await
        })
    }

    fn forward(
        &self,
        session: SessionId,
        frame: Bytes,
    ) -> BoxFuture<'_, Result<ForeignOutcome, BusError>> {
        Box::pin(async move {
            let key = self.session_key(session);
            let prefix = format!("{}instance:", self.config.prefix);
            let receivers: i64 = self
                .run(async |c: &mut MultiplexedConnection| {
                    let mut inv = self.forward.key(&key);
                    inv.arg(&prefix).arg(&frame[..]);
                    inv.invoke_async(c).await
                })
                .await?;
            Ok(match receivers {
                r if r < 0 => ForeignOutcome::NotFound,
                0 => ForeignOutcome::Unavailable,
                _ => ForeignOutcome::Accepted,
            })
        })
    }

    fn lookup(&self, session: SessionId) -> BoxFuture<'_, Result<ForeignOutcome, BusError>> {
        Box::pin(async move {
            let key = self.session_key(session);
            let exists: bool = self
                .run(async |c: &mut MultiplexedConnection| {
                    redis::cmd("EXISTS").arg(&key).query_async(c).await
                })
                .await?;
            Ok(if exists {
                ForeignOutcome::Accepted
            } else {
                ForeignOutcome::NotFound
            })
        })
    }

    fn subscribe(&self) -> BoxFuture<'_, Result<Box<dyn Subscription>, BusError>> {
        Box::pin(async move {
            let mut pubsub = self.client.get_async_pubsub().await.map_err(err)?;
            pubsub.subscribe(&self.channel).await.map_err(err)?;
            Ok(Box::new(RedisSubscription {
                stream: pubsub.into_on_message(),
            }) as Box<dyn Subscription>)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys() {
        let bus = RedisBus::new(RedisBusConfig {
            prefix: "p:".into(),
            ..RedisBusConfig::new("redis://127.0.0.1:1", "a-1")
        })
        .unwrap();
        assert_eq!(bus.channel(), "p:instance:a-1");
        assert_eq!(
            bus.session_key(SessionId::from_u128(1)),
            "p:session:00000000000000000000000000000001"
        );
        assert!(matches!(
            RedisBus::new(RedisBusConfig::new("redis://127.0.0.1:1", "a b")),
            Err(RedisBusError::Instance(_))
        ));
        assert!(matches!(
            RedisBus::new(RedisBusConfig::new("http://x", "a")),
            Err(RedisBusError::Url(_))
        ));
    }
}
