//! The demo server of `mcp-sse serve`, mounted under `/mcp` in an axum application, beside a
//! route of the application's own and behind a middleware layer.
//!
//! ```text
//! cargo run --release -p mcp-sse-hyper --example axum -- --bind 127.0.0.1:8000
//! # SSE URL: http://127.0.0.1:8000/mcp/sse
//! ```

use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use clap::Parser;
use mcp_sse_core::transport::ServerConfig;

/// Serve the mcp-sse demo server inside an axum app, under /mcp.
#[derive(Parser)]
struct Args {
    /// Address to listen on (loopback keeps the Host/Origin checks on).
    #[arg(long, default_value = "127.0.0.1:8000")]
    bind: SocketAddr,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    let addr = listener.local_addr()?;
    let config = ServerConfig {
        // The Host/Origin checks follow the address actually bound, as `mcp-sse serve` does.
        local_addr: Some(addr),
        ..ServerConfig::default()
    };
    let server = mcp_sse_hyper::server_with(mcp_sse::demo::server(), config);
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .nest_service("/mcp", mcp_sse_hyper::service(server.clone()));
    println!("mcp-sse: serving the demo server on http://{addr}/mcp/sse");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            // Streams end cleanly (in-flight requests answered, the final frame written).
            server.shutdown().await;
        })
        .await
}
