//! Authentication end to end (issue 16): a server with an authentication hook on 127.0.0.1,
//! our client on both executors. Without the token the GET is refused with a typed error that
//! carries the challenge; with it the session works and handlers see the principal; when the
//! credentials stop being accepted mid-session, the next call fails at once with the typed
//! 401 cause and the session stays usable for the server's other clients.
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
    match exec {
        Exec::Smol => {
            mcp_sse_smol::connect_with(url, ClientOptions::default(), config(token)).await
        }
        Exec::Tokio => {
            mcp_sse_tokio::connect_with(url, ClientOptions::default(), config(token)).await
        }
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
