//! Authentication end to end (issue 16): a server with an authentication hook on 127.0.0.1,
//! our client on both executors. Without the token the GET is refused with a typed error that
//! carries the challenge; with it the session works and handlers see the principal; when the
//! credentials stop being accepted mid-session, the next call fails at once with the typed
//! 401 cause and the session stays usable for the server's other clients. With a token
//! provider (`ClientOptions::bearer`) a 401 on the GET or mid-session refreshes the token once
//! and retries; a failing provider fails just that call, typed.
//!
//! Requirement ids: the POST table's row 9 (`../shared/spec/legacy-sse.md` a.3) is pinned at
//! the machine level in `core/tests/transport_server.rs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mcp_sse_core::http::RequestHead;
use mcp_sse_core::transport::{
    AuthConfig, AuthRejection, Authenticate, ClientConfig, ClientError, Principal,
};
use mcp_sse_glue::{CallOptions, ClientOptions, ConnectError, ServerBuilder, ServerOptions};
use mcp_sse_tests::{serve_loopback, Exec, Transport};
use serde_json::json;

/// Accepts `Bearer alice` while `open` is set.
struct Gate {
    open: Arc<AtomicBool>,
}

impl Authenticate for Gate {
    fn authenticate(&self, head: &RequestHead) -> Result<Principal, AuthRejection> {
        let ok = self.open.load(Ordering::SeqCst)
            && head.headers.get_str("authorization") == Some("Bearer alice");
        ok.then(|| Principal("alice".into()))
            .ok_or(AuthRejection::Unauthenticated)
    }
}

fn config(token: Option<&str>) -> ClientConfig {
    ClientConfig {
        headers: token
            .map(|t| vec![("Authorization".to_string(), format!("Bearer {t}"))])
            .unwrap_or_default(),
        ..ClientConfig::default()
    }
}

async fn connect(
    exec: Exec,
    url: &str,
    token: Option<&str>,
) -> Result<mcp_sse_glue::Client, ConnectError> {
    connect_on(exec, url, ClientOptions::default(), config(token)).await
}

async fn connect_on(
    exec: Exec,
    url: &str,
    options: ClientOptions,
    config: ClientConfig,
) -> Result<mcp_sse_glue::Client, ConnectError> {
    match exec {
        Exec::Smol => mcp_sse_smol::connect_with(url, options, config).await,
        Exec::Tokio => mcp_sse_tokio::connect_with(url, options, config).await,
    }
}

fn run(exec: Exec) {
    mcp_sse_tests::run_for(
        exec,
        Transport::SseTcp,
        Duration::from_secs(60),
        |_h| async move {
            let open = Arc::new(AtomicBool::new(true));
            let server = ServerBuilder::new("auth", "1")
                .tool(
                    json!({"name": "whoami", "inputSchema": {"type": "object"}}),
                    |ctx, _args| async move {
                        let who = ctx.principal().map(|p| p.0).unwrap_or_default();
                        Ok(json!({"content": [{"type": "text", "text": who}]}))
                    },
                )
                .build();
            let mut options = ServerOptions::default();
            options.transport.auth = Some(AuthConfig {
                resource_metadata: Some(
                    "https://auth.example/.well-known/oauth-protected-resource".into(),
                ),
                ..AuthConfig::new(Gate { open: open.clone() })
            });
            let serving = serve_loopback(exec, server, options).await;
            let url = format!("http://{}/sse", serving.local_addr());

            for token in [None, Some("mallory")] {
                match connect(exec, &url, token).await {
                    Err(ConnectError::Transport(ClientError::Unauthorized { challenge })) => {
                        let c = challenge.expect("a challenge");
                        assert!(c.starts_with("Bearer "), "{c}");
                        assert!(
                            c.contains("resource_metadata=\"https://auth.example/"),
                            "{c}"
                        );
                    }
                    Err(other) => panic!("expected Unauthorized, got {other}"),
                    Ok(_) => panic!("connected without the token"),
                }
            }

            let client = connect(exec, &url, Some("alice")).await.expect("connect");
            let params = json!({"name": "whoami"}).as_object().cloned();
            let r = client
                .request("tools/call", params.clone(), CallOptions::default())
                .await
                .expect("whoami");
            assert_eq!(r["content"][0]["text"], "alice");

            // The credentials stop being accepted: the next call fails at once, typed.
            open.store(false, Ordering::SeqCst);
            let e = client
                .request("tools/call", params.clone(), CallOptions::default())
                .await
                .expect_err("refused");
            assert!(matches!(e, mcp_sse_glue::Error::Transport(_)), "{e:?}");
            let e = e.to_error_object();
            assert_eq!(e.code, -32000, "{e:?}");
            assert!(e.message.contains("requires authentication"), "{e:?}");
            open.store(true, Ordering::SeqCst);
            let r = client
                .request("tools/call", params, CallOptions::default())
                .await
                .expect("accepted again");
            assert_eq!(r["content"][0]["text"], "alice");
            client.close().await;
            serving.shutdown().await;
        },
    );
}

#[test]
fn smol() {
    run(Exec::Smol);
}

#[test]
fn tokio() {
    run(Exec::Tokio);
}

/// Accepts the bearer tokens in `valid`, all of them the principal `alice`.
struct Rotating {
    valid: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Authenticate for Rotating {
    fn authenticate(&self, head: &RequestHead) -> Result<Principal, AuthRejection> {
        let token = head
            .headers
            .get_str("authorization")
            .and_then(|v| v.strip_prefix("Bearer "));
        let valid = self.valid.lock().map(|v| v.clone()).unwrap_or_default();
        match token {
            Some(t) if valid.iter().any(|v| v == t) => Ok(Principal("alice".into())),
            _ => Err(AuthRejection::Unauthenticated),
        }
    }
}

/// A token provider (issue 16): its first token goes on the GET; a 401 on the GET and one
/// mid-session each ask it once more and the request is retried with the new token; a
/// provider that fails fails just that call, with the typed cause.
fn run_refresh(exec: Exec) {
    mcp_sse_tests::run_for(
        exec,
        Transport::SseTcp,
        Duration::from_secs(60),
        |_h| async move {
            let valid = Arc::new(std::sync::Mutex::new(vec!["t1".to_string()]));
            let server = ServerBuilder::new("auth", "1")
                .tool(
                    json!({"name": "whoami", "inputSchema": {"type": "object"}}),
                    |ctx, _args| async move {
                        let who = ctx.principal().map(|p| p.0).unwrap_or_default();
                        Ok(json!({"content": [{"type": "text", "text": who}]}))
                    },
                )
                .build();
            let mut options = ServerOptions::default();
            options.transport.auth = Some(AuthConfig::new(Rotating {
                valid: valid.clone(),
            }));
            let serving = serve_loopback(exec, server, options).await;
            let url = format!("http://{}/sse", serving.local_addr());

            // What the provider hands out: first a stale token, then the current one.
            let current = Arc::new(std::sync::Mutex::new(Ok::<String, String>("t1".into())));
            let asked = Arc::new(std::sync::Mutex::new(Vec::<Option<String>>::new()));
            let (cur, log) = (current.clone(), asked.clone());
            let provider = mcp_sse_glue::TokenProvider::new(move |challenge| {
                let first = challenge.is_none();
                if let Ok(mut l) = log.lock() {
                    l.push(challenge);
                }
                let answer = if first {
                    Ok("stale".to_string())
                } else {
                    cur.lock()
                        .map(|c| c.clone())
                        .unwrap_or_else(|_| Err("poisoned".into()))
                };
                async move { answer }
            });
            let client_options = ClientOptions {
                bearer: Some(provider),
                ..ClientOptions::default()
            };
            let client = connect_on(exec, &url, client_options, ClientConfig::default())
                .await
                .expect("connects after one refresh");
            let params = json!({"name": "whoami"}).as_object().cloned();
            let whoami = || client.request("tools/call", params.clone(), CallOptions::default());
            assert_eq!(
                whoami().await.expect("whoami")["content"][0]["text"],
                "alice"
            );

            // The token is rotated on the server: the next call gets a 401, refreshes, succeeds.
            *valid.lock().expect("lock") = vec!["t2".into()];
            *current.lock().expect("lock") = Ok("t2".into());
            assert_eq!(
                whoami().await.expect("after a refresh")["content"][0]["text"],
                "alice"
            );

            // Rotated again, and the provider cannot give a token: that call fails, typed.
            *valid.lock().expect("lock") = vec!["t3".into()];
            *current.lock().expect("lock") = Err("the refresh token was revoked".into());
            let e = whoami().await.expect_err("no token");
            assert!(matches!(e, mcp_sse_glue::Error::Transport(_)), "{e:?}");
            let e = e.to_error_object();
            assert_eq!(e.code, -32000, "{e:?}");
            assert!(e.message.contains("token provider failed"), "{e:?}");
            assert!(e.message.contains("revoked"), "{e:?}");

            let asked = asked.lock().expect("lock").clone();
            assert_eq!(asked.len(), 4, "{asked:?}");
            assert_eq!(asked[0], None);
            assert!(
                asked[1..]
                    .iter()
                    .all(|c| c.as_deref().is_some_and(|c| c.starts_with("Bearer"))),
                "{asked:?}"
            );
            client.close().await;
            serving.shutdown().await;
        },
    );
}

#[test]
fn token_refresh_smol() {
    run_refresh(Exec::Smol);
}

#[test]
fn token_refresh_tokio() {
    run_refresh(Exec::Tokio);
}
