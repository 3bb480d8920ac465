//! rmcp 0.10 peer for `bench/compare.sh`: the same echo workload as `loadgen`.
//!
//! ```text
//! rmcp-peer serve 127.0.0.1:PORT MAX_SECS
//! rmcp-peer client URL echo|connect CALLS IN_FLIGHT SIZE WARMUP
//! ```
//! Prints one JSON line (same fields as loadgen).

use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParam, CallToolResult, Content, ListToolsResult, PaginatedRequestParam,
    ServerCapabilities, ServerInfo, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::sse_server::SseServer;
use rmcp::transport::SseClientTransport;
use rmcp::{ErrorData, ServerHandler, ServiceExt};
use serde_json::{json, Map, Value};

#[derive(Clone, Default)]
struct Echo;

impl ServerHandler for Echo {
    fn get_info(&self) -> ServerInfo {
        ServerInfo {
            capabilities: ServerCapabilities::builder().enable_tools().build(),
            ..ServerInfo::default()
        }
    }

    async fn list_tools(
        &self,
        _r: Option<PaginatedRequestParam>,
        _c: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema = json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]});
        let Value::Object(schema) = schema else {
            unreachable!()
        };
        Ok(ListToolsResult {
            tools: vec![Tool::new("echo", "Echo the given text back.", schema)],
            next_cursor: None,
        })
    }

    async fn call_tool(
        &self,
        r: CallToolRequestParam,
        _c: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        match r.arguments.and_then(|mut a| a.remove("text")) {
            Some(Value::String(t)) => Ok(CallToolResult::success(vec![Content::text(t)])),
            _ => Err(ErrorData::invalid_params("missing text", None)),
        }
    }
}

fn params(size: usize) -> CallToolRequestParam {
    let mut args = Map::new();
    args.insert("text".into(), Value::String("x".repeat(size)));
    CallToolRequestParam {
        name: "echo".into(),
        arguments: Some(args),
    }
}

type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

async fn connect(url: &str) -> Client {
    let t = SseClientTransport::start(url.to_string())
        .await
        .expect("sse connect");
    ().serve(t).await.expect("initialize")
}

async fn echo(client: &Client, calls: u64, in_flight: u64, size: usize) -> Vec<Duration> {
    let mut tasks = Vec::new();
    for w in 0..in_flight {
        let share = calls / in_flight + u64::from(w < calls % in_flight);
        let peer = client.peer().clone();
        let p = params(size);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(share as usize);
            for _ in 0..share {
                let t = Instant::now();
                let r = peer.call_tool(p.clone()).await.expect("call_tool");
                let n = r
                    .content
                    .first()
                    .and_then(|c| c.as_text())
                    .map(|t| t.text.len());
                assert_eq!(n, Some(size), "echo returned other text");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("worker"));
    }
    all
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // RMCP_CURRENT_THREAD=1: tokio's current-thread runtime (compared with `loadgen --exec
    // tokio-ct`); otherwise multi-thread with 2 workers (compared with `--exec tokio`).
    let rt = if std::env::var_os("RMCP_CURRENT_THREAD").is_some() {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio")
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio")
    };
    match args.get(1).map(String::as_str) {
        Some("serve") => rt.block_on(async {
            let addr: std::net::SocketAddr = args[2].parse().expect("addr");
            assert!(addr.ip().is_loopback(), "127.0.0.1 only");
            let secs: u64 = args[3].parse().expect("max secs");
            let server = SseServer::serve(addr).await.expect("bind");
            let ct = server.with_service(|| Echo);
            println!("{{\"listening\":\"http://{addr}/sse\"}}");
            tokio::time::sleep(Duration::from_secs(secs)).await;
            ct.cancel();
        }),
        Some("client") => rt.block_on(async {
            let url = &args[2];
            assert!(url.starts_with("http://127.0.0.1:"), "127.0.0.1 only");
            let mode = args[3].as_str();
            let calls: u64 = args[4].parse::<u64>().expect("calls").min(1_000_000);
            let in_flight: u64 = args[5].parse::<u64>().expect("in flight").max(1);
            let size: usize = args[6].parse().expect("size");
            let warmup: u64 = args[7].parse().expect("warmup");
            let (mut lat, secs) = if mode == "connect" {
                let mut lat = Vec::new();
                let t0 = Instant::now();
                for i in 0..(warmup.min(calls) + calls) {
                    let t = Instant::now();
                    let c = connect(url).await;
                    if i >= warmup.min(calls) {
                        lat.push(t.elapsed());
                    }
                    let _ = c.cancel().await;
                }
                (lat, t0.elapsed())
            } else {
                let c = connect(url).await;
                echo(&c, warmup, in_flight, size).await;
                let t = Instant::now();
                let lat = echo(&c, calls, in_flight, size).await;
                let secs = t.elapsed();
                let _ = c.cancel().await;
                (lat, secs)
            };
            lat.sort_unstable();
            let pick = |q: usize| lat[(lat.len() * q / 100).min(lat.len() - 1)].as_secs_f64() * 1e3;
            println!(
                "{{\"impl\":\"rmcp-0.10\",\"exec\":\"{}\",\"transport\":\"tcp\",\"mode\":\"{mode}\",\"in_flight\":{in_flight},\"size\":{size},\"calls\":{},\"secs\":{:.4},\"calls_per_s\":{:.1},\"p50_ms\":{:.4},\"p99_ms\":{:.4}}}",
                if std::env::var_os("RMCP_CURRENT_THREAD").is_some() { "tokio-ct" } else { "tokio" },
                lat.len(),
                secs.as_secs_f64(),
                lat.len() as f64 / secs.as_secs_f64(),
                pick(50),
                pick(99)
            );
        }),
        _ => {
            eprintln!("usage: rmcp-peer serve ADDR SECS | client URL MODE CALLS IN_FLIGHT SIZE WARMUP");
            std::process::exit(2);
        }
    }
}
