//! A typed `add` tool served over SSE on TCP, and a client calling it.
//!
//! `cargo run -p mcp-sse-tokio --example typed_add` prints `Some(Object {"result": Number(42)})`.

use mcp_sse_tokio::mcp::CallToolRequestParams;
use mcp_sse_tokio::{Client, ClientConnect, ClientOptions, ServerBuilder, ToolDef};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    a: i64,
    b: i64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ServerBuilder::new("calc", "1.0.0")
        .typed_tool(
            ToolDef::new("add").description("Add two integers."),
            |_ctx, AddArgs { a, b }| async move { Ok(a + b) },
        )?
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/sse", listener.local_addr()?);
    let serving = mcp_sse_tokio::serve(listener, server, Default::default())?;

    let client = Client::connect(&url, ClientOptions::default()).await?;
    let add = CallToolRequestParams::new("add")
        .with_argument("a", 20)
        .with_argument("b", 22);
    let result = client.call_tool(&add).await?;
    println!("{:?}", result.structured_content);

    client.close().await;
    serving.shutdown().await;
    Ok(())
}
