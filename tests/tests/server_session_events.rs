//! Every event of the server session machine reaches the application or is documented as
//! internal (issue 14): a request reusing an in-flight id reaches `Handler::handle_invalid_message`,
//! and the level set by `logging/setLevel` is visible to handlers through
//! `RequestContext::log_level`. Driven through `serve_in_memory` (a direct session of the server
//! endpoint) with its queues, on both executors.
//!
//! Requirement ids: none of `sse-2025-11-25.csv` (these pin our API, not the wire).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_sse_core::jsonrpc::{ErrorObject, Message};
use mcp_sse_glue::{queue, serve_in_memory, BoxFuture, Handler, McpServer, Params, RequestContext};
use mcp_sse_tests::{driver_rt, Exec};
use serde_json::Value;

#[derive(Default)]
struct Recording {
    invalid: Mutex<Vec<(&'static str, String)>>,
}

struct Blocking(Arc<Recording>);

impl Handler for Blocking {
    fn handle_request(
        &self,
        ctx: RequestContext,
        method: String,
        _params: Params,
    ) -> BoxFuture<'static, Result<Value, ErrorObject>> {
        Box::pin(async move {
            if method == "prompts/list" {
                // Answers with the level the client set.
                let level = ctx.log_level().map(|l| format!("{l:?}"));
                return Ok(serde_json::json!({ "level": level }));
            }
            futures_lite::future::pending::<()>().await;
            Ok(Value::Null)
        })
    }

    fn handle_invalid_message(&self, reason: &'static str, message: Message) {
        let text = String::from_utf8_lossy(&message.to_vec()).into_owned();
        self.0.invalid.lock().unwrap().push((reason, text));
    }
}

fn msg(text: &str) -> Message {
    Message::from_slice(text.as_bytes()).expect("test message")
}

async fn next_text(out: &mut queue::Receiver<Message>) -> String {
    let m = out.recv().await.expect("the session ended");
    String::from_utf8_lossy(&m.to_vec()).into_owned()
}

fn run(exec: Exec) {
    let body = async move {
        let rec = Arc::new(Recording::default());
        let config = mcp_sse_core::session::ServerConfig {
            features: mcp_sse_core::session::ServerFeatures {
                tools: true,
                prompts: true,
                logging: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let server = McpServer::new(config, Arc::new(Blocking(rec.clone())));
        let (in_tx, in_rx) = queue::bounded(16);
        let (out_tx, mut out_rx) = queue::bounded(16);
        let rt = driver_rt(exec);
        let session = serve_in_memory(rt.clone(), server, in_rx, out_tx);
        let script = async move {
            let send = |t: &str| in_tx.try_send(msg(t)).expect("room");
            send(
                r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
            );
            assert!(next_text(&mut out_rx).await.contains(r#""id":0,"result""#));
            send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
            send(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"x"}}"#);
            send(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"again"}}"#);
            send(
                r#"{"jsonrpc":"2.0","id":6,"method":"logging/setLevel","params":{"level":"warning"}}"#,
            );
            assert_eq!(
                next_text(&mut out_rx).await,
                r#"{"jsonrpc":"2.0","id":6,"result":{}}"#
            );
            send(r#"{"jsonrpc":"2.0","id":7,"method":"prompts/list"}"#);
            assert_eq!(
                next_text(&mut out_rx).await,
                r#"{"jsonrpc":"2.0","id":7,"result":{"level":"Warning"}}"#
            );
            let invalid = rec.invalid.lock().unwrap().clone();
            assert_eq!(
                invalid,
                vec![(
                    "request id already in flight",
                    r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"again"}}"#
                        .to_string()
                )]
            );
            drop(in_tx); // the client is gone: the session cancels the blocked call and ends
        };
        futures_lite::future::zip(session, script).await;
    };
    let bounded = async move {
        let finished = futures_lite::future::or(
            async move {
                body.await;
                true
            },
            async {
                smol::Timer::after(Duration::from_secs(20)).await;
                false
            },
        )
        .await;
        assert!(finished, "the test took longer than 20 s");
    };
    match exec {
        Exec::Smol => smol::block_on(bounded),
        Exec::Tokio => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(bounded),
    }
}

#[test]
fn smol() {
    run(Exec::Smol);
}

#[test]
fn tokio() {
    run(Exec::Tokio);
}
