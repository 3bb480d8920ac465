//! A client with every callback: sampling, roots, elicitation, logging and a message handler,
//! each typed (`mcp_sse_tokio::mcp`), against an in-process server whose `tour` tool asks the
//! client for each of them.
//!
//! `cargo run -p mcp-sse-tokio --example client` (in process), or
//! `cargo run -p mcp-sse-tokio --example client -- http://127.0.0.1:8000/sse` to list the tools
//! of any SSE server with the same callbacks.

use std::time::Duration;

use mcp_sse_tokio::mcp::{
    CallToolRequestParams, ContentBlock, CreateMessageResult, ElicitAction, ElicitRequestParams,
    ElicitResult, ListRootsResult, Role, Root, SamplingContentBlock,
};
use mcp_sse_tokio::{
    connect_over_sse, json, Client, ClientConnect, ClientOptions, Elicited, IncomingMessage,
    McpServer, ServerBuilder, ToolError,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// What the server's elicitation asks for.
#[derive(Deserialize, JsonSchema)]
struct Name {
    name: String,
}

/// A server whose `tour` tool logs, lists the roots, samples and elicits.
fn server() -> Result<McpServer, Box<dyn std::error::Error>> {
    Ok(ServerBuilder::new("tour", "1.0.0")
        .tool(
            json!({"name": "tour", "inputSchema": {"type": "object"}}),
            |ctx, _args| async move {
                ctx.log("info", Some("tour"), json!("starting the tour")).await;
                let roots = ctx.list_roots().await.map_err(ToolError::Protocol)?;
                let sampled = ctx
                    .sample(
                        json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 10})
                            .as_object()
                            .cloned()
                            .unwrap_or_default(),
                    )
                    .await
                    .map_err(ToolError::Protocol)?;
                let name = match ctx.elicit_form::<Name>("Your name?").await {
                    Ok(Elicited::Accept(Name { name })) => name,
                    Ok(_) => "nobody".to_string(),
                    Err(e) => return Err(ToolError::Protocol(e)),
                };
                let text = format!(
                    "roots {} / model said {} / hello {name}",
                    roots["roots"], sampled["content"]["text"]
                );
                Ok(json!({"content": [{"type": "text", "text": text}]}))
            },
        )
        .build())
}

/// The options: one typed callback per server request, plus logging and notifications.
fn options() -> ClientOptions {
    ClientOptions::default()
        .with_read_timeout(Duration::from_secs(30))
        .on_sampling(|params| async move {
            println!("sampling: {} message(s)", params.messages.len());
            Ok(CreateMessageResult::new(
                Role::Assistant,
                SamplingContentBlock::text("hello from the client's model"),
                "example-model",
            ))
        })
        .on_list_roots(|| async { Ok(ListRootsResult::new(vec![Root::new("file:///tmp")])) })
        .on_elicitation(|params| async move {
            if let ElicitRequestParams::Form(form) = &params {
                println!("elicitation: {}", form.message);
            }
            let mut answer = ElicitResult::new(ElicitAction::Accept);
            answer.content = json!({"name": "Ada"}).as_object().cloned();
            Ok(answer)
        })
        .on_log(|log| async move { println!("log [{:?}]: {}", log.level, log.data) })
        .on_message(|message| async move {
            if let IncomingMessage::TransportError(e) = message {
                eprintln!("transport: {e}");
            }
        })
}

async fn tour(client: &Client) -> Result<(), mcp_sse_tokio::Error> {
    let result = client
        .call_tool(&CallToolRequestParams::new("tour"))
        .await?;
    for block in &result.content {
        if let ContentBlock::Text(t) = block {
            println!("tour: {}", t.text);
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::args().nth(1) {
        Some(url) => {
            let client = Client::connect(&url, options()).await?;
            for tool in client.list_tools(None).await?.tools {
                println!("tool: {}", tool.name);
            }
            client.close().await;
        }
        None => {
            let client = connect_over_sse(server()?, options()).await?;
            tour(&client).await?;
            client.close().await;
        }
    }
    Ok(())
}
