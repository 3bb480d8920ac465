//! Validation, classification, byte-exact encoding and round trips.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;

/// Parses with [`Message::from_slice`] and checks [`Message::from_json_str`] gives the same.
fn parse(body: &str) -> Result<Message, ParseError> {
    let r = Message::from_slice(body.as_bytes());
    assert_eq!(
        format!("{:?}", Message::from_json_str(body)),
        format!("{r:?}"),
        "from_json_str disagrees on {body:?}"
    );
    r
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn big(text: &str) -> RequestId {
    RequestId::Number(IntegerId::parse(text).expect("valid integer"))
}

// ---- rejections (legacy-sse.md a.3 #10 + DIVERGENCE 1) -------------------------------------

#[test]
fn rejects_invalid_json() {
    for body in [
        "{",
        "{\"jsonrpc\":\"2.0\",\"method\":\"x\"",
        "{'jsonrpc':'2.0'}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"x\"} x",
        "{\"jsonrpc\":\"2.0\",\"method\":\"x\",}",
    ] {
        assert!(matches!(parse(body), Err(ParseError::Json(_))), "{body}");
    }
    let invalid_utf8 = b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}";
    assert!(matches!(
        Message::from_slice(invalid_utf8),
        Err(ParseError::Json(_))
    ));
}

#[test]
fn rejects_bom() {
    let body = b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1}";
    assert!(matches!(Message::from_slice(body), Err(ParseError::Bom)));
}

#[test]
fn rejects_batches() {
    assert!(matches!(
        parse(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#),
        Err(ParseError::Batch)
    ));
    assert!(matches!(parse("  []"), Err(ParseError::Batch)));
}

#[test]
fn rejects_non_objects_and_empty() {
    for body in ["1", "\"x\"", "null", "true"] {
        assert!(
            matches!(parse(body), Err(ParseError::NotAnObject)),
            "{body}"
        );
    }
    for body in ["", "  \r\n\t"] {
        assert!(matches!(parse(body), Err(ParseError::Empty)), "{body:?}");
    }
}

#[test]
fn rejects_empty_object() {
    assert!(matches!(parse("{}"), Err(ParseError::MissingVersion)));
}

#[test]
fn rejects_missing_or_wrong_version() {
    assert!(matches!(
        parse(r#"{"id":1,"method":"ping"}"#),
        Err(ParseError::MissingVersion)
    ));
    for v in [r#""1.0""#, "2.0", "2", "null", r#""2.0 ""#, r#"["2.0"]"#] {
        let body = format!(r#"{{"jsonrpc":{v},"id":1,"method":"ping"}}"#);
        assert!(matches!(parse(&body), Err(ParseError::WrongVersion)), "{v}");
    }
    // An escaped spelling of "2.0" is still the string "2.0".
    assert!(parse(r#"{"jsonrpc":"2\u002e0","id":1,"method":"ping"}"#).is_ok());
}

#[test]
fn rejects_params_that_are_not_objects() {
    for p in ["[]", "[1]", "1", "\"x\"", "true"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{p}}}"#);
        assert!(
            matches!(parse(&body), Err(ParseError::ParamsNotObject)),
            "{p}"
        );
        let body = format!(r#"{{"jsonrpc":"2.0","method":"x","params":{p}}}"#);
        assert!(
            matches!(parse(&body), Err(ParseError::ParamsNotObject)),
            "{p}"
        );
    }
}

#[test]
fn params_null_reads_as_absent() {
    let msg = parse(r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":null}"#).unwrap();
    assert_eq!(
        msg,
        Message::Request(Request {
            id: 1.into(),
            method: "ping".into(),
            params: None
        })
    );
}

/// DIVERGENCE 1: the reference turns these into notifications and never answers; we reject.
#[test]
fn divergence_1_rejects_non_string_non_integer_request_ids() {
    for id in [
        "1.5", "true", "false", "null", "1e3", "1E3", "1.0", "-0.0", "[]", "{}", "-1e2",
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
        assert!(matches!(parse(&body), Err(ParseError::InvalidId)), "{id}");
    }
    for id in ["1.5", "true", "null", "1e3"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{}}}}"#);
        assert!(matches!(parse(&body), Err(ParseError::InvalidId)), "{id}");
    }
    for id in ["1.5", "true", "1e3"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":1,"message":"m"}}}}"#);
        assert!(matches!(parse(&body), Err(ParseError::InvalidId)), "{id}");
    }
}

#[test]
fn rejects_id_longer_than_limit() {
    let digits = "9".repeat(MAX_INTEGER_ID_DIGITS + 1);
    let body = format!(r#"{{"jsonrpc":"2.0","id":{digits},"method":"ping"}}"#);
    assert!(matches!(
        parse(&body),
        Err(ParseError::IdTooLong {
            digits: 4301,
            max: 4300
        })
    ));
    let digits = format!("-{}", "9".repeat(MAX_INTEGER_ID_DIGITS));
    let body = format!(r#"{{"jsonrpc":"2.0","id":{digits},"method":"ping"}}"#);
    assert!(parse(&body).is_ok());
}

#[test]
fn rejects_bad_method_result_error_shapes() {
    assert!(matches!(
        parse(r#"{"jsonrpc":"2.0","id":1,"method":5}"#),
        Err(ParseError::InvalidMethod)
    ));
    assert!(matches!(
        parse(r#"{"jsonrpc":"2.0","method":null}"#),
        Err(ParseError::InvalidMethod)
    ));
    for r in ["5", "[]", "\"ok\"", "null"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"result":{r}}}"#);
        assert!(
            matches!(parse(&body), Err(ParseError::ResultNotObject)),
            "{r}"
        );
    }
    assert!(matches!(
        parse(r#"{"jsonrpc":"2.0","result":{}}"#),
        Err(ParseError::MissingId)
    ));
    for e in [
        "5",
        "{}",
        r#"{"code":"1","message":"m"}"#,
        r#"{"code":1.5,"message":"m"}"#,
        r#"{"code":1}"#,
        r#"{"code":1,"message":2}"#,
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"error":{e}}}"#);
        assert!(
            matches!(parse(&body), Err(ParseError::InvalidErrorObject(_))),
            "{e}"
        );
    }
    assert!(matches!(
        parse(r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}"#),
        Err(ParseError::ResultAndError)
    ));
    assert!(matches!(
        parse(r#"{"jsonrpc":"2.0","id":1}"#),
        Err(ParseError::UnknownKind)
    ));
}

// ---- classification ---------------------------------------------------------------------------

#[test]
fn classifies_every_kind() {
    assert_eq!(
        parse(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"c"}}"#).unwrap(),
        Message::Request(Request {
            id: 1.into(),
            method: "tools/list".into(),
            params: Some(obj(json!({"cursor":"c"}))),
        })
    );
    assert_eq!(
        parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap(),
        Message::Notification(Notification {
            method: "notifications/initialized".into(),
            params: None,
        })
    );
    assert_eq!(
        parse(r#"{"jsonrpc":"2.0","id":"a","result":{"x":1}}"#).unwrap(),
        Message::Response(Response {
            id: "a".into(),
            result: json!({"x":1}),
        })
    );
    assert_eq!(
        parse(r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"Method not found","data":"x"}}"#)
            .unwrap(),
        Message::Error(ErrorResponse {
            id: Some(2.into()),
            error: ErrorObject::method_not_found("x"),
        })
    );
    for body in [
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
        r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":null}}"#,
    ] {
        assert_eq!(
            parse(body).unwrap(),
            Message::Error(ErrorResponse {
                id: None,
                error: ErrorObject::parse_error(),
            })
        );
    }
}

#[test]
fn method_decides_over_result_and_error() {
    let msg = parse(r#"{"jsonrpc":"2.0","id":1,"method":"ping","result":{},"error":5}"#).unwrap();
    assert!(matches!(msg, Message::Request(_)));
}

#[test]
fn string_and_number_ids_are_distinct() {
    let a = parse(r#"{"jsonrpc":"2.0","id":"7","method":"ping"}"#).unwrap();
    let b = parse(r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#).unwrap();
    assert_eq!(a.id(), Some(&RequestId::String("7".into())));
    assert_eq!(b.id(), Some(&RequestId::from(7)));
    assert_ne!(a.id(), b.id());
    assert_eq!(a.to_vec(), br#"{"jsonrpc":"2.0","id":"7","method":"ping"}"#);
    assert_eq!(b.to_vec(), br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#);
}

#[test]
fn unknown_top_level_keys_ignored_inner_keys_kept() {
    let body = r#"{"extra":{"deep":[1,2]},"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"echo","_meta":{"progressToken":1,"x-vendor":{"a":null}},"zeta":1,"alpha":2},
        "more":true}"#;
    let Message::Request(req) = parse(body).unwrap() else {
        panic!("not a request")
    };
    let params = req.params.unwrap();
    let keys: Vec<&str> = params.keys().map(String::as_str).collect();
    assert_eq!(keys, ["name", "_meta", "zeta", "alpha"]);
    assert_eq!(
        params["_meta"],
        json!({"progressToken":1,"x-vendor":{"a":null}})
    );

    let body = r#"{"jsonrpc":"2.0","id":1,"result":{"_meta":{"k":"v"},"unknown":[{}]}}"#;
    assert_eq!(parse(body).unwrap().to_vec(), body.as_bytes());
    let body =
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":7,"message":"m","data":{"b":1,"a":[true]}}}"#;
    assert_eq!(parse(body).unwrap().to_vec(), body.as_bytes());
}

#[test]
fn duplicate_keys_last_wins() {
    let msg = parse(r#"{"jsonrpc":"1.0","jsonrpc":"2.0","id":1,"id":"b","method":"a","method":"b","params":{"x":1,"x":2}}"#)
        .unwrap();
    assert_eq!(
        msg,
        Message::Request(Request {
            id: "b".into(),
            method: "b".into(),
            params: Some(obj(json!({"x":2}))),
        })
    );
}

#[test]
fn surrounding_whitespace_is_fine() {
    let msg =
        parse(" \r\n{ \"jsonrpc\" : \"2.0\" , \"id\" : 12 , \"method\" : \"ping\" }\n\r\n\t ")
            .unwrap();
    assert_eq!(msg.id(), Some(&RequestId::from(12)));
}

#[test]
fn escaped_string_ids_and_methods() {
    let msg = parse(r#"{"jsonrpc":"2.0","id":"a\"\u00e9\n","method":"p\u0069ng"}"#).unwrap();
    assert_eq!(msg.id(), Some(&RequestId::String("a\"é\n".into())));
    assert_eq!(msg.method(), Some("ping"));
    assert_eq!(
        msg.to_vec(),
        "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"é\\n\",\"method\":\"ping\"}".as_bytes()
    );
}

// ---- byte-exact encoding ----------------------------------------------------------------------

#[test]
fn byte_exact_key_order() {
    let init = Message::Request(Request {
        id: 1.into(),
        method: "initialize".into(),
        params: Some(obj(json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "mcp", "version": "0.1.0"}
        }))),
    });
    assert_eq!(
        String::from_utf8(init.to_vec()).unwrap(),
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp","version":"0.1.0"}}}"#
    );
    let resp = Message::Response(Response {
        id: 1.into(),
        result: json!({"role":"assistant","content":{"type":"text","text":"echo: hi"},"model":"test-model","stopReason":"endTurn"}),
    });
    assert_eq!(
        String::from_utf8(resp.to_vec()).unwrap(),
        r#"{"jsonrpc":"2.0","id":1,"result":{"role":"assistant","content":{"type":"text","text":"echo: hi"},"model":"test-model","stopReason":"endTurn"}}"#
    );
    let err = Message::Error(ErrorResponse {
        id: Some(3.into()),
        error: ErrorObject::invalid_params(),
    });
    assert_eq!(
        String::from_utf8(err.to_vec()).unwrap(),
        r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"Invalid request parameters","data":""}}"#
    );
    let note = Message::Notification(Notification {
        method: "notifications/cancelled".into(),
        params: Some(obj(
            json!({"requestId": 2, "reason": "timed out after 0.5s"}),
        )),
    });
    assert_eq!(
        String::from_utf8(note.to_vec()).unwrap(),
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"timed out after 0.5s"}}"#
    );
}

#[test]
fn params_none_is_omitted_never_null() {
    let req = Message::Request(Request {
        id: 5.into(),
        method: "tools/list".into(),
        params: None,
    });
    assert_eq!(
        req.to_vec(),
        br#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#
    );
    let req = Message::Request(Request {
        id: 5.into(),
        method: "tools/list".into(),
        params: Some(Map::new()),
    });
    assert_eq!(
        req.to_vec(),
        br#"{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{}}"#
    );
}

#[test]
fn non_ascii_written_raw_and_one_line() {
    let note = Message::Notification(Notification {
        method: "notifications/message".into(),
        params: Some(obj(
            json!({"level":"info","data":"hi é\n\"q\" \u{1F600} \u{7}"}),
        )),
    });
    let text = String::from_utf8(note.to_vec()).unwrap();
    assert_eq!(
        text,
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"hi é\\n\\\"q\\\" \u{1F600} \\u0007\"}}"
    );
    assert!(!text.contains('\n') && !text.contains('\r'));
}

#[test]
fn write_to_appends() {
    let mut out = b"prefix:".to_vec();
    Message::Response(Response {
        id: 1.into(),
        result: json!({}),
    })
    .write_to(&mut out);
    assert_eq!(out, br#"prefix:{"jsonrpc":"2.0","id":1,"result":{}}"#);
}

// ---- round trips ------------------------------------------------------------------------------

#[test]
fn round_trips_big_and_negative_ids() {
    for id in [
        "123456789012345678901234567890",
        "-123456789012345678901234567890",
        "-5",
        "0",
        "9223372036854775808",
        "18446744073709551616",
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
        let msg = parse(&body).unwrap();
        assert_eq!(msg.id(), Some(&big(id)));
        assert_eq!(String::from_utf8(msg.to_vec()).unwrap(), body);
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{}}}}"#);
        assert_eq!(
            String::from_utf8(parse(&body).unwrap().to_vec()).unwrap(),
            body
        );
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-1,"message":""}}}}"#);
        assert_eq!(
            String::from_utf8(parse(&body).unwrap().to_vec()).unwrap(),
            body
        );
    }
    // -0 is the integer 0.
    let msg = parse(r#"{"jsonrpc":"2.0","id":-0,"method":"ping"}"#).unwrap();
    assert_eq!(msg.to_vec(), br#"{"jsonrpc":"2.0","id":0,"method":"ping"}"#);
}

#[test]
fn round_trips_non_ascii() {
    let msg = Message::Request(Request {
        id: "ид-1".into(),
        method: "tools/call".into(),
        params: Some(obj(json!({"name":"échо","arguments":{"text":"日本語 😀"}}))),
    });
    let bytes = msg.to_vec();
    assert!(std::str::from_utf8(&bytes).unwrap().contains("日本語 😀"));
    assert_eq!(Message::from_slice(&bytes).unwrap(), msg);
}

fn arb_id() -> impl Strategy<Value = RequestId> {
    prop_oneof![
        any::<i64>().prop_map(RequestId::from),
        any::<u64>().prop_map(RequestId::from),
        "-?[1-9][0-9]{0,40}".prop_map(|s| big(&s)),
        any::<String>().prop_map(RequestId::String),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn arb_map() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((any::<String>(), arb_value()), 0..4)
        .prop_map(|kv| kv.into_iter().collect())
}

fn arb_message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (arb_id(), any::<String>(), prop::option::of(arb_map()))
            .prop_map(|(id, method, params)| { Message::Request(Request { id, method, params }) }),
        (any::<String>(), prop::option::of(arb_map()))
            .prop_map(|(method, params)| Message::Notification(Notification { method, params })),
        (arb_id(), arb_map()).prop_map(|(id, result)| Message::Response(Response {
            id,
            result: Value::Object(result)
        })),
        (
            prop::option::of(arb_id()),
            any::<i64>(),
            any::<String>(),
            prop::option::of(arb_value().prop_filter("null data reads as None", |v| !v.is_null()))
        )
            .prop_map(|(id, code, message, data)| Message::Error(ErrorResponse {
                id,
                error: ErrorObject {
                    code,
                    message,
                    data
                },
            })),
    ]
}

proptest! {
    #[test]
    fn write_then_parse_is_identity(msg in arb_message()) {
        let bytes = msg.to_vec();
        prop_assert!(!bytes.contains(&b'\n'));
        let back = Message::from_slice(&bytes).unwrap();
        prop_assert_eq!(&back, &msg);
        let text = std::str::from_utf8(&bytes).unwrap();
        prop_assert_eq!(&Message::from_json_str(text).unwrap(), &msg);
        prop_assert_eq!(back.to_vec(), bytes);
    }

    #[test]
    fn from_json_str_agrees_with_from_slice(text in "[ {}\\[\\]\":,a-z0-9.\\\\é\\x00-\\x1f-]{0,48}") {
        prop_assert_eq!(
            format!("{:?}", Message::from_json_str(&text)),
            format!("{:?}", Message::from_slice(text.as_bytes()))
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = Message::from_slice(&bytes);
    }
}
