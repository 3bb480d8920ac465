//! Testing a server with `connect_over_sse`: the real HTTP+SSE bytes through in-memory pipes,
//! no port. `cargo test -p mcp-sse-tokio --example calc_test` runs the tests below (`cargo run`
//! runs them once as a program).

use mcp_sse_tokio::mcp::CallToolRequestParams;
use mcp_sse_tokio::{connect_over_sse, json, ClientOptions, McpServer, ServerBuilder, ToolDef};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct Add {
    a: i64,
    b: i64,
}

fn server() -> McpServer {
    ServerBuilder::new("calc", "1.0.0")
        .typed_tool(ToolDef::new("add"), |_ctx, Add { a, b }| async move {
            Ok(a + b)
        })
        .expect("a valid tool")
        .build()
}

async fn adds() -> Result<(), mcp_sse_tokio::Error> {
    let client = connect_over_sse(server(), ClientOptions::default()).await?;
    let add = CallToolRequestParams::new("add")
        .with_argument("a", 2)
        .with_argument("b", 3);
    let result = client.call_tool(&add).await?;
    assert_eq!(result.structured_content, Some(json!({"result": 5})));
    // Bad arguments are a tool error (`isError`), naming the field; the session goes on.
    let bad = CallToolRequestParams::new("add").with_argument("a", "two");
    let result = client.call_tool(&bad).await?;
    assert_eq!(result.is_error, Some(true));
    client.close().await;
    Ok(())
}

fn main() -> Result<(), mcp_sse_tokio::Error> {
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    rt.block_on(adds())?;
    println!("ok");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn add_over_sse() {
        super::adds().await.expect("adds");
    }
}
