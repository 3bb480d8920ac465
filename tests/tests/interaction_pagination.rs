//! Interaction suite, "Pagination" (legacy-sse.md d.2), over every transport × executor.

mod common_inter2;

use common_inter2::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_glue::{CallOptions, Client, ClientOptions, ServerBuilder};
use mcp_sse_tests::interaction_test;
use mcp_sse_tests::RpcForm;
use serde_json::{json, Value};

/// Lists `method` following `nextCursor` until it is absent; returns every page.
async fn walk(client: &Client, method: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut cursor: Option<Value> = None;
    loop {
        let params = cursor.take().map(|c| map(json!({"cursor": c})));
        let page = client
            .request(method, params, CallOptions::default())
            .await
            .expect("list");
        cursor = page.get("nextCursor").cloned();
        pages.push(page);
        if cursor.is_none() || pages.len() > 10 {
            return pages;
        }
    }
}

/// A low-level `tools/list` whose pages are `pages` (cursor → (items, nextCursor)); records
/// every cursor it receives (`null` for none).
fn paged_server(
    pages: Vec<(
        Option<&'static str>,
        Vec<&'static str>,
        Option<&'static str>,
    )>,
    seen: Rec<Value>,
) -> mcp_sse_glue::McpServer {
    low_level(tools_only(), move |_ctx, method, params| {
        let cursor = params.as_ref().and_then(|p| p.get("cursor")).cloned();
        seen.push(json!({"method": method, "cursor": cursor}));
        let found = pages
            .iter()
            .find(|(c, _, _)| {
                cursor.as_ref().and_then(Value::as_str) == *c && c.is_some() == cursor.is_some()
            })
            .cloned();
        async move {
            let (_, names, next) =
                found.ok_or_else(|| ErrorObject::new(codes::INVALID_PARAMS, "Invalid cursor"))?;
            let tools: Vec<Value> = names
                .iter()
                .map(|n| json!({"name": n, "inputSchema": {"type": "object"}}))
                .collect();
            let mut r = json!({"tools": tools});
            if let Some(n) = next {
                r["nextCursor"] = json!(n);
            }
            Ok(r)
        }
    })
}

interaction_test!(
    next_cursor_reaches_client_and_cursor_reaches_handler_verbatim,
    pins = ["tools:list:pagination"],
    |h| async move {
        let seen = Rec::new();
        let server = paged_server(
            vec![
                (None, vec!["a"], Some("c/1?x=é")),
                (Some("c/1?x=é"), vec!["b"], None),
            ],
            seen.clone(),
        );
        let c = h.connect(server, ClientOptions::default()).await;
        let first = c
            .client
            .request("tools/list", None, CallOptions::default())
            .await;
        assert_eq!(
            first,
            Ok(
                json!({"tools": [{"name": "a", "inputSchema": {"type": "object"}}], "nextCursor": "c/1?x=é"})
            )
        );
        let second = c
            .client
            .request(
                "tools/list",
                obj(json!({"cursor": "c/1?x=é"})),
                CallOptions::default(),
            )
            .await;
        assert_eq!(
            second,
            Ok(json!({"tools": [{"name": "b", "inputSchema": {"type": "object"}}]}))
        );
        assert_eq!(
            seen.get(),
            vec![
                json!({"method": "tools/list", "cursor": null}),
                json!({"method": "tools/list", "cursor": "c/1?x=é"})
            ]
        );
        c.close().await;
    }
);

interaction_test!(
    following_cursors_visits_every_page_once_in_order,
    pins = ["pagination:exhaustion", "tools:list:pagination"],
    |h| async move {
        let mut b = ServerBuilder::new("p", "1").page_size(2);
        for i in 0..5 {
            b = b.tool(
                json!({"name": format!("t{i}"), "inputSchema": {"type": "object"}}),
                |_ctx, _args| async move { Ok(text("x")) },
            );
        }
        let c = h.connect(b.build(), ClientOptions::default()).await;
        let t = |i: usize| json!({"name": format!("t{i}"), "inputSchema": {"type": "object"}});
        assert_eq!(
            walk(&c.client, "tools/list").await,
            vec![
                json!({"tools": [t(0), t(1)], "nextCursor": "page-2"}),
                json!({"tools": [t(2), t(3)], "nextCursor": "page-4"}),
                json!({"tools": [t(4)]}),
            ]
        );
        c.close().await;
    }
);

interaction_test!(
    opaque_cursors_with_varying_page_sizes_pass_back_byte_for_byte,
    pins = ["pagination:client:cursor-handling"],
    |h| async move {
        const C1: &str = "  {\"offset\": 3, \"k\": [1,2]}  ";
        const C2: &str = "eyJwIjoyfQ==\n\t\u{1F600}\\u0000";
        let seen = Rec::new();
        let server = paged_server(
            vec![
                (None, vec!["a", "b", "c"], Some(C1)),
                (Some(C1), vec!["d"], Some(C2)),
                (Some(C2), vec!["e", "f"], None),
            ],
            seen.clone(),
        );
        let c = h.connect(server, ClientOptions::default()).await;
        let pages = walk(&c.client, "tools/list").await;
        let names: Vec<Vec<Value>> = pages
            .iter()
            .map(|p| {
                p["tools"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["name"].clone())
                    .collect()
            })
            .collect();
        assert_eq!(
            names,
            vec![
                vec![json!("a"), json!("b"), json!("c")],
                vec![json!("d")],
                vec![json!("e"), json!("f")]
            ]
        );
        assert_eq!(pages[0]["nextCursor"], json!(C1));
        assert_eq!(pages[1]["nextCursor"], json!(C2));
        let cursors: Vec<Value> = seen
            .get()
            .into_iter()
            .map(|v| v["cursor"].clone())
            .collect();
        assert_eq!(cursors, vec![Value::Null, json!(C1), json!(C2)]);
        c.close().await;
    }
);

interaction_test!(
    unknown_cursor_is_invalid_params,
    pins = ["pagination:invalid-cursor"],
    |h| async move {
        let server = ServerBuilder::new("p", "1")
            .page_size(1)
            .tool(
                json!({"name": "a", "inputSchema": {"type": "object"}}),
                |_ctx, _args| async move { Ok(text("x")) },
            )
            .build();
        let c = h.connect(server, ClientOptions::default()).await;
        for bad in ["bogus", "page-99", "page--1", ""] {
            let r = c
                .client
                .request(
                    "tools/list",
                    obj(json!({"cursor": bad})),
                    CallOptions::default(),
                )
                .await;
            assert_eq!(
                r.rpc_form(),
                Err(ErrorObject::new(codes::INVALID_PARAMS, "Invalid cursor").with_data(json!(bad))),
                "cursor {bad:?}"
            );
        }
        // The low-level handler's own rejection reaches the client unchanged too.
        let seen = Rec::new();
        let c2 = h
            .connect(
                paged_server(vec![(None, vec!["a"], None)], seen.clone()),
                ClientOptions::default(),
            )
            .await;
        let r = c2
            .client
            .request(
                "tools/list",
                obj(json!({"cursor": "nope"})),
                CallOptions::default(),
            )
            .await;
        assert_eq!(
            r.rpc_form(),
            Err(ErrorObject::new(codes::INVALID_PARAMS, "Invalid cursor"))
        );
        assert_eq!(
            seen.get(),
            vec![json!({"method": "tools/list", "cursor": "nope"})]
        );
        c2.close().await;
        c.close().await;
    }
);

interaction_test!(
    resources_templates_and_prompts_paginate_the_same_way,
    pins = [
        "resources:list:pagination",
        "resources:templates:pagination",
        "prompts:list:pagination"
    ],
    |h| async move {
        let mut b = ServerBuilder::new("p", "1").page_size(2);
        for i in 0..3 {
            b = b
                .resource(
                    json!({"uri": format!("mem:///r{i}"), "name": format!("r{i}")}),
                    |_ctx, _uri| async move { Ok(json!([])) },
                )
                .resource_template(
                    json!({"uriTemplate": format!("tpl{i}://{{x}}"), "name": format!("tpl{i}")}),
                    |_ctx, _uri, _vars| async move { Ok(json!([])) },
                )
                .prompt(json!({"name": format!("p{i}")}), |_ctx, _args| async move {
                    Ok(json!({"messages": []}))
                });
        }
        let c = h.connect(b.build(), ClientOptions::default()).await;
        let r = |i: usize| json!({"uri": format!("mem:///r{i}"), "name": format!("r{i}")});
        let t =
            |i: usize| json!({"uriTemplate": format!("tpl{i}://{{x}}"), "name": format!("tpl{i}")});
        let p = |i: usize| json!({"name": format!("p{i}")});
        assert_eq!(
            walk(&c.client, "resources/list").await,
            vec![
                json!({"resources": [r(0), r(1)], "nextCursor": "page-2"}),
                json!({"resources": [r(2)]})
            ]
        );
        assert_eq!(
            walk(&c.client, "resources/templates/list").await,
            vec![
                json!({"resourceTemplates": [t(0), t(1)], "nextCursor": "page-2"}),
                json!({"resourceTemplates": [t(2)]})
            ]
        );
        assert_eq!(
            walk(&c.client, "prompts/list").await,
            vec![
                json!({"prompts": [p(0), p(1)], "nextCursor": "page-2"}),
                json!({"prompts": [p(2)]})
            ]
        );
        c.close().await;
    }
);
