//! The typed client methods against the demo server, over every transport and executor.

use mcp_sse_core::mcp::{
    CallToolRequestParams, CompleteRequestParams, CompletionArgument, CompletionReference,
    ContentBlock, GetPromptRequestParams, LoggingLevel, PromptReference, ResourceContents,
};
use mcp_sse_tests::interaction_test;
use serde_json::json;

interaction_test!(typed_methods_round_trip, pins = [], |h| async move {
    let c = h
        .connect(mcp_sse::demo::server(), mcp_sse::demo::client_options())
        .await;
    let client = &c.client;
    let info = client.server_info().expect("typed initialize result");
    assert_eq!(info.server_info.name, "mcp-sse-demo");
    assert_eq!(info.protocol_version, "2025-11-25");
    client.ping().await.unwrap();
    let tools = client.list_tools(None).await.unwrap();
    assert_eq!(tools.tools.len(), 9);
    let r = client
        .call_tool(
            &CallToolRequestParams::new("add")
                .with_argument("a", json!(2))
                .with_argument("b", json!(3)),
        )
        .await
        .unwrap();
    assert_eq!(r.structured_content, Some(json!({"result": 5})));
    assert!(matches!(&r.content[0], ContentBlock::Text(t) if t.text == "5"));
    let r = client
        .call_tool(&CallToolRequestParams::new("fail"))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    let res = client.list_resources(None).await.unwrap();
    assert_eq!(res.resources[0].uri, "demo://readme");
    let t = client.list_resource_templates(None).await.unwrap();
    assert_eq!(
        t.resource_templates[0].uri_template,
        "demo://greeting/{name}"
    );
    let read = client.read_resource("demo://greeting/ann").await.unwrap();
    assert!(matches!(&read.contents[0], ResourceContents::Text(t) if t.text == "Hello, ann!"));
    let p = client.list_prompts(None).await.unwrap();
    assert_eq!(p.prompts[0].name, "greet");
    let g = client
        .get_prompt(&GetPromptRequestParams::new("greet").with_argument("name", "zoe"))
        .await
        .unwrap();
    assert_eq!(g.messages.len(), 1);
    let done = client
        .complete(&CompleteRequestParams {
            reference: CompletionReference::Prompt(PromptReference::new("greet")),
            argument: CompletionArgument {
                name: "name".into(),
                value: "a".into(),
                extra: Default::default(),
            },
            context: None,
            meta: None,
            extra: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(done.completion.values, vec!["alice".to_string()]);
    client
        .set_logging_level(LoggingLevel::Warning)
        .await
        .unwrap();
    client.roots_list_changed().await.unwrap();
    c.close().await;
});
