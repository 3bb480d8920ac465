//! A typed MCP server over HTTP+SSE on TCP: `add` (a number out) and `forecast` (a struct out,
//! with its `outputSchema`).
//!
//! `cargo run -p mcp-sse-tokio --example server -- 127.0.0.1:8000`, then e.g.
//! `cargo run -p mcp-sse -- call http://127.0.0.1:8000/sse add '{"a":2,"b":3}'`. Ctrl-C stops it.

use mcp_sse_tokio::{serve, McpServer, ServerBuilder, ServerOptions, ToolDef, ToolError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
struct Add {
    a: i64,
    b: i64,
}

#[derive(Deserialize, JsonSchema)]
struct City {
    /// The city's name.
    city: String,
}

#[derive(Serialize, JsonSchema)]
struct Forecast {
    city: String,
    temperature_c: f64,
}

/// The server: two typed tools.
fn server() -> Result<McpServer, Box<dyn std::error::Error>> {
    Ok(ServerBuilder::new("calc", "1.0.0")
        .typed_tool(
            ToolDef::new("add").description("Add two integers."),
            |_ctx, Add { a, b }| async move { Ok(a + b) },
        )?
        .typed_tool(
            ToolDef::new("forecast").description("Tomorrow's temperature."),
            |_ctx, City { city }| async move {
                if city.is_empty() {
                    return Err(ToolError::from("name a city"));
                }
                Ok(Forecast {
                    city,
                    temperature_c: 21.5,
                })
            },
        )?
        .build())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8000".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("serving on http://{}/sse", listener.local_addr()?);
    let serving = serve(listener, server()?, ServerOptions::default())?;
    tokio::signal::ctrl_c().await?;
    serving.shutdown().await;
    Ok(())
}
