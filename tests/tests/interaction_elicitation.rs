//! Interaction suite, Elicitation group (legacy-sse.md d.2).

mod common_inter1;

use async_channel::{Receiver, Sender};
use common_inter1::*;
use mcp_sse_core::jsonrpc::{codes, ErrorObject};
use mcp_sse_glue::{
    Client, ClientOptions, IncomingMessage, McpServer, RequestContext, ServerBuilder, ToolError,
};
use serde_json::{json, Value};

/// `ask` sends `elicitation/create` with `arguments.params` and reports the outcome on `seen`
/// (and as its structured result); `notify_complete` sends `notifications/elicitation/complete`
/// for `arguments.elicitationId`; `needs_url` fails with -32042.
fn server(seen: Sender<Value>) -> McpServer {
    ServerBuilder::new("elicit", "1")
        .tool(
            json!({"name": "ask", "inputSchema": {"type": "object"}}),
            move |ctx: RequestContext, args| {
                let seen = seen.clone();
                async move {
                    let params = obj(args.get("params").cloned().unwrap_or_else(|| json!({})));
                    let v = match ctx.elicit(params).await {
                        Ok(r) => json!({"ok": r}),
                        Err(e) => json!({"err": error_json(&e)}),
                    };
                    let _ = seen.send(v.clone()).await;
                    Ok(structured(v))
                }
            },
        )
        .tool(
            json!({"name": "notify_complete", "inputSchema": {"type": "object"}}),
            |ctx: RequestContext, args| async move {
                let id = args.get("elicitationId").cloned().unwrap_or(Value::Null);
                ctx.notify(
                    "notifications/elicitation/complete",
                    Some(obj(json!({"elicitationId": id}))),
                )
                .await;
                Ok(text("announced"))
            },
        )
        .tool(
            json!({"name": "needs_url", "inputSchema": {"type": "object"}}),
            |_ctx, _args| async move { Err(ToolError::Protocol(url_required())) },
        )
        .build()
}

fn url_required() -> ErrorObject {
    ErrorObject::new(codes::URL_ELICITATION_REQUIRED, "This request requires more information.").with_data(json!({
        "elicitations": [
            {"mode": "url", "elicitationId": "auth-1", "url": "https://example.com/connect?id=auth-1",
             "message": "Authorize access to your files."},
            {"mode": "url", "elicitationId": "pay-2", "url": "https://example.com/pay?id=pay-2",
             "message": "Confirm the payment."}
        ]
    }))
}

struct Setup {
    c: mcp_sse_tests::Connected,
    p: Probes,
}

struct Probes {
    client: Client,
    /// What the tool saw.
    seen: Receiver<Value>,
    /// What the client callback received.
    asked: Receiver<Value>,
}

async fn setup(h: &mcp_sse_tests::Harness, answer: Option<Result<Value, ErrorObject>>) -> Setup {
    let (seen_tx, seen) = async_channel::unbounded();
    let (asked_tx, asked) = async_channel::unbounded();
    let opts = ClientOptions {
        elicitation_callback: answer.map(|a| answering(asked_tx, a)),
        ..ClientOptions::default()
    };
    let c = h.connect(server(seen_tx), opts).await;
    let client = c.client.clone();
    Setup {
        c,
        p: Probes {
            client,
            seen,
            asked,
        },
    }
}

/// Calls `ask` with `params`; asserts the callback got them unchanged and that the tool and the
/// client both see `expected`.
async fn ask_roundtrip(s: &Probes, params: Value, expected: Value) {
    let r = call(&s.client, "ask", json!({"params": params}))
        .await
        .expect("ask");
    assert_eq!(
        r,
        json!({"content": [], "structuredContent": expected, "isError": false})
    );
    assert_eq!(next(&s.seen).await, expected);
    assert_eq!(next(&s.asked).await, params);
}

fn form(message: &str) -> Value {
    json!({"mode": "form", "message": message,
           "requestedSchema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}})
}

fn url_params(id: &str) -> Value {
    json!({"mode": "url", "message": "Please sign in to continue.", "url": format!("https://example.com/login?e={id}"),
           "elicitationId": id})
}

mcp_sse_tests::interaction_test!(
    accepted_form_returns_content_to_tool,
    pins = [
        "elicitation:form:basic",
        "elicitation:form:action:accept",
        "tools:call:elicitation-roundtrip"
    ],
    |h| async move {
        let answer = json!({"action": "accept", "content": {"answer": "42"}});
        let s = setup(&h, Some(Ok(answer.clone()))).await;
        ask_roundtrip(&s.p, form("What is the answer?"), json!({"ok": answer})).await;
        s.c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    declined_form_has_no_content,
    pins = ["elicitation:form:action:decline"],
    |h| async move {
        let s = setup(&h, Some(Ok(json!({"action": "decline"})))).await;
        ask_roundtrip(
            &s.p,
            form("Share your email?"),
            json!({"ok": {"action": "decline"}}),
        )
        .await;
        s.c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    cancelled_form_has_no_content,
    pins = ["elicitation:form:action:cancel"],
    |h| async move {
        let s = setup(&h, Some(Ok(json!({"action": "cancel"})))).await;
        ask_roundtrip(
            &s.p,
            form("Share your email?"),
            json!({"ok": {"action": "cancel"}}),
        )
        .await;
        s.c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    no_elicitation_callback_error_visible_to_handler,
    pins = [
        "elicitation:form:not-supported",
        "elicitation:capability:server-respects-mode"
    ],
    |h| async move {
        let s = setup(&h, None).await;
        // The specification's -32602 (the reference answers -32600; compatibility note 17).
        let expected =
            json!({"err": {"code": codes::INVALID_PARAMS, "message": "Elicitation not supported"}});
        let r = call(&s.p.client, "ask", json!({"params": form("Anyone there?")}))
            .await
            .expect("ask");
        assert_eq!(
            r,
            json!({"content": [], "structuredContent": expected, "isError": false})
        );
        assert_eq!(next(&s.p.seen).await, expected);
        s.c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    url_elicitation_accept_has_no_content,
    pins = [
        "elicitation:url:basic",
        "elicitation:url:action:accept-no-content"
    ],
    |h| async move {
        let s = setup(&h, Some(Ok(json!({"action": "accept"})))).await;
        ask_roundtrip(
            &s.p,
            url_params("e-accept"),
            json!({"ok": {"action": "accept"}}),
        )
        .await;
        s.c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    url_elicitation_decline,
    pins = ["elicitation:url:decline"],
    |h| async move {
        let s = setup(&h, Some(Ok(json!({"action": "decline"})))).await;
        ask_roundtrip(
            &s.p,
            url_params("e-decline"),
            json!({"ok": {"action": "decline"}}),
        )
        .await;
        s.c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    url_elicitation_cancel,
    pins = ["elicitation:url:cancel"],
    |h| async move {
        let s = setup(&h, Some(Ok(json!({"action": "cancel"})))).await;
        ask_roundtrip(
            &s.p,
            url_params("e-cancel"),
            json!({"ok": {"action": "cancel"}}),
        )
        .await;
        s.c.close().await;
    }
);

/// Connects with a message handler; returns the connection and the handler's receiver.
async fn with_messages(
    h: &mcp_sse_tests::Harness,
) -> (mcp_sse_tests::Connected, Receiver<IncomingMessage>) {
    let (tx, rx) = async_channel::unbounded();
    let (seen, _) = async_channel::unbounded();
    let opts = ClientOptions {
        message_handler: Some(messages_to(tx)),
        ..ClientOptions::default()
    };
    (h.connect(server(seen), opts).await, rx)
}

async fn announce(client: &Client, id: &str) {
    let r = call(client, "notify_complete", json!({"elicitationId": id})).await;
    assert_eq!(
        r,
        Ok(json!({"content": [{"type": "text", "text": "announced"}], "isError": false}))
    );
}

mcp_sse_tests::interaction_test!(
    elicitation_complete_carries_id_to_client,
    pins = ["elicitation:url:complete-notification"],
    |h| async move {
        let (c, rx) = with_messages(&h).await;
        announce(&c.client, "auth-1").await;
        // Delivered before the call's response was processed.
        let m = rx
            .try_recv()
            .expect("notification delivered before the call returned");
        assert_eq!(
            incoming_json(&m),
            json!({"method": "notifications/elicitation/complete", "params": {"elicitationId": "auth-1"}})
        );
        assert!(rx.try_recv().is_err());
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    elicitation_complete_for_unknown_id_is_delivered,
    pins = ["elicitation:url:complete-unknown-ignored"],
    |h| async move {
        let (c, rx) = with_messages(&h).await;
        announce(&c.client, "never-requested").await;
        let m = next(&rx).await;
        assert_eq!(
            incoming_json(&m),
            json!({"method": "notifications/elicitation/complete", "params": {"elicitationId": "never-requested"}})
        );
        // No error: the session keeps working.
        assert_eq!(
            c.client.request("ping", None, Default::default()).await,
            Ok(json!({}))
        );
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    tool_fails_with_url_elicitation_required,
    pins = ["elicitation:url:required-error"],
    |h| async move {
        let (seen, _) = async_channel::unbounded();
        let c = h.connect(server(seen), ClientOptions::default()).await;
        let err = call(&c.client, "needs_url", json!({}))
            .await
            .expect_err("-32042");
        assert_eq!(err.code, codes::URL_ELICITATION_REQUIRED);
        assert_eq!(err, url_required());
        c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    form_schema_with_every_primitive_and_enum_arrives_unchanged,
    pins = [
        "elicitation:form:schema:primitives",
        "elicitation:form:schema:enum-variants"
    ],
    |h| async move {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "title": "Name", "description": "Your name", "minLength": 1, "maxLength": 50, "default": "Ada"},
                "email": {"type": "string", "format": "email"},
                "site": {"type": "string", "format": "uri"},
                "born": {"type": "string", "format": "date"},
                "seen": {"type": "string", "format": "date-time"},
                "age": {"type": "integer", "minimum": 0, "maximum": 150, "default": 30},
                "score": {"type": "number", "minimum": 0.5, "maximum": 9.5},
                "subscribe": {"type": "boolean", "default": false},
                "color": {"type": "string", "enum": ["red", "green"], "enumNames": ["Red", "Green"]},
                "size": {"type": "string", "oneOf": [{"const": "s", "title": "Small"}, {"const": "l", "title": "Large"}]},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}, "minItems": 1, "maxItems": 2},
                "flavours": {"type": "array", "items": {"anyOf": [{"const": "x", "title": "X"}, {"const": "y", "title": "Y"}]}}
            },
            "required": ["name", "email", "age"]
        });
        let params =
            json!({"mode": "form", "message": "Tell us everything.", "requestedSchema": schema});
        let answer = json!({"action": "accept", "content": {"name": "Ada", "email": "ada@example.com", "age": 36,
                        "score": 1.5, "subscribe": true, "color": "red", "size": "s", "tags": ["a"]}});
        let s = setup(&h, Some(Ok(answer.clone()))).await;
        ask_roundtrip(&s.p, params, json!({"ok": answer})).await;
        s.c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    nested_and_array_of_object_schemas_pass_through,
    pins = ["elicitation:form:schema:restricted-subset"],
    |h| async move {
        let schema = json!({
            "type": "object",
            "properties": {
                "address": {"type": "object", "properties": {
                    "street": {"type": "string"}, "geo": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}}
                }, "required": ["street"]},
                "contacts": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "phones": {"type": "array", "items": {"type": "string"}}
                }, "additionalProperties": false}}
            },
            "$defs": {"unused": {"type": "null"}}
        });
        let params = json!({"mode": "form", "message": "Nested", "requestedSchema": schema, "_meta": {"trace": "n-1"}});
        let answer = json!({"action": "accept", "content": {"address": {"street": "Main St", "geo": {"lat": 1.25, "lon": -2.5}},
                        "contacts": [{"name": "Bo", "phones": ["1", "2"]}, {"name": "Cy", "phones": []}]}});
        let s = setup(&h, Some(Ok(answer.clone()))).await;
        ask_roundtrip(&s.p, params, json!({"ok": answer})).await;
        s.c.close().await;
    }
);

// Nobody validates the accepted content against the requested schema: it reaches the tool as
// the client sent it.
mcp_sse_tests::interaction_test!(
    accepted_content_violating_schema_reaches_handler_unchanged,
    pins = ["elicitation:form:response-validation"],
    |h| async move {
        let params = json!({"mode": "form", "message": "Age?",
                        "requestedSchema": {"type": "object", "properties": {"age": {"type": "integer", "minimum": 0}}, "required": ["age"]}});
        let answer = json!({"action": "accept", "content": {"age": "minus three", "extra": [1, {"x": null}]}});
        let s = setup(&h, Some(Ok(answer.clone()))).await;
        ask_roundtrip(&s.p, params, json!({"ok": answer})).await;
        s.c.close().await;
    }
);

// A callback that answers with a JSON-RPC error: the tool sees exactly that error.
mcp_sse_tests::interaction_test!(
    callback_error_surfaces_to_the_tool,
    pins = [],
    |h| async move {
        let e = ErrorObject::new(-32050, "User unavailable").with_data(json!({"retryAfter": 5}));
        let s = setup(&h, Some(Err(e.clone()))).await;
        ask_roundtrip(&s.p, form("Hello?"), json!({"err": error_json(&e)})).await;
        s.c.close().await;
    }
);

mcp_sse_tests::interaction_test!(
    a_mode_less_request_reaches_the_callback_as_form_mode,
    pins = ["elicitation:form:mode-omitted-default"],
    |h| async move {
        let answer = json!({"action": "accept", "content": {}});
        let s = setup(&h, Some(Ok(answer.clone()))).await;
        let mut params = form("No mode given.");
        params.as_object_mut().expect("an object").remove("mode");
        let r = call(&s.p.client, "ask", json!({"params": params}))
            .await
            .expect("ask");
        assert_eq!(r["structuredContent"], json!({"ok": answer}));
        // The callback sees the request as form mode (the session adds the default).
        assert_eq!(next(&s.p.asked).await, form("No mode given."));
        s.c.close().await;
    }
);

// The form of the typed `book_flight` elicitation (a plain comment: a doc comment would become
// the schema's `description`).
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct TravelPreferences {
    destination: String,
    window_seat: bool,
}

/// `book_flight` asks for `TravelPreferences` through `RequestContext::elicit_form`;
/// `sign_in` asks for a URL visit through `elicit_url`. Each answers with what it got.
fn typed_server() -> McpServer {
    fn describe<T>(
        r: Result<mcp_sse_glue::Elicited<T>, ErrorObject>,
        f: impl Fn(T) -> String,
    ) -> Value {
        match r {
            Ok(mcp_sse_glue::Elicited::Accept(t)) => text(&format!("accept: {}", f(t))),
            Ok(mcp_sse_glue::Elicited::Decline) => text("decline"),
            Ok(mcp_sse_glue::Elicited::Cancel) => text("cancel"),
            Err(e) => text(&format!("{}: {}", e.code, e.message)),
        }
    }
    ServerBuilder::new("elicit", "1")
        .tool(
            json!({"name": "book_flight", "inputSchema": {"type": "object"}}),
            |ctx: RequestContext, _args| async move {
                let r = ctx.elicit_form::<TravelPreferences>("Where to?").await;
                Ok(describe(r, |p| {
                    format!("{} window={}", p.destination, p.window_seat)
                }))
            },
        )
        .tool(
            json!({"name": "sign_in", "inputSchema": {"type": "object"}}),
            |ctx: RequestContext, _args| async move {
                let r = ctx
                    .elicit_url("Please sign in.", "https://example.com/login", "e-1")
                    .await;
                Ok(describe(r, |()| "visited".to_string()))
            },
        )
        .build()
}

async fn typed_call(
    h: &mcp_sse_tests::Harness,
    answer: Option<Value>,
    tool: &str,
) -> (Value, Vec<Value>) {
    let (asked_tx, asked) = async_channel::unbounded();
    let opts = ClientOptions {
        elicitation_callback: answer.map(|a| answering(asked_tx, Ok(a))),
        ..ClientOptions::default()
    };
    let c = h.connect(typed_server(), opts).await;
    let r = call(&c.client, tool, json!({})).await.expect("call");
    c.close().await;
    (
        r["content"][0]["text"].clone(),
        std::iter::from_fn(|| asked.try_recv().ok()).collect(),
    )
}

mcp_sse_tests::interaction_test!(
    typed_form_elicitation_sends_the_types_schema_and_returns_a_typed_answer,
    pins = [
        "mcpserver:context:elicit",
        "elicitation:form:response-validation"
    ],
    |h| async move {
        let accept =
            json!({"action": "accept", "content": {"destination": "Lisbon", "window_seat": true}});
        let (r, asked) = typed_call(&h, Some(accept), "book_flight").await;
        assert_eq!(r, json!("accept: Lisbon window=true"));
        assert_eq!(
            asked,
            vec![
                json!({"mode": "form", "message": "Where to?", "requestedSchema": {
                    "title": "TravelPreferences",
                    "type": "object",
                    "properties": {
                        "destination": {"type": "string"},
                        "window_seat": {"type": "boolean"}
                    },
                    "required": ["destination", "window_seat"]
                }})
            ]
        );
        for action in ["decline", "cancel"] {
            let (r, _) = typed_call(&h, Some(json!({"action": action})), "book_flight").await;
            assert_eq!(r, json!(action));
        }
        // Accepted content that does not fit the type is -32602 for the tool.
        let wrong =
            json!({"action": "accept", "content": {"destination": "Lisbon", "window_seat": "yes"}});
        let (r, _) = typed_call(&h, Some(wrong), "book_flight").await;
        assert_eq!(
            r,
            json!("-32602: Elicitation response does not match the requested schema: window_seat: value is not of type \"boolean\"")
        );
        // A client without elicitation is never asked.
        let (r, asked) = typed_call(&h, None, "book_flight").await;
        assert_eq!(r, json!("-32602: Client does not support form elicitation"));
        assert!(asked.is_empty());
        // URL mode.
        let (r, asked) = typed_call(&h, Some(json!({"action": "accept"})), "sign_in").await;
        assert_eq!(r, json!("accept: visited"));
        assert_eq!(
            asked,
            vec![
                json!({"mode": "url", "message": "Please sign in.", "url": "https://example.com/login", "elicitationId": "e-1"})
            ]
        );
    }
);
