//! Pagination of list results with opaque cursors.

use serde_json::{Map, Value};

use crate::jsonrpc::ErrorObject;

/// The cursor that starts the page after the first `n` items.
fn cursor_for(n: usize) -> String {
    format!("page-{n}")
}

/// Where the page that `cursor` names starts, if `cursor` is one of ours within `len` items.
fn start_of(cursor: &str, len: usize) -> Option<usize> {
    cursor
        .strip_prefix("page-")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n <= len)
}

/// One page of `items` under `key`, starting at `params.cursor` (the first page without one),
/// with at most `size` items and a `nextCursor` when more follow. A cursor this server did not
/// hand out is `-32602 Invalid cursor` with the cursor as `data`.
pub(super) fn page(
    items: &[Value],
    key: &str,
    params: Option<&Map<String, Value>>,
    size: Option<usize>,
) -> Result<Value, ErrorObject> {
    let cursor = params.and_then(|p| p.get("cursor")).and_then(Value::as_str);
    let start = match cursor {
        None => 0,
        Some(c) => start_of(c, items.len())
            .ok_or_else(|| ErrorObject::invalid_params_with("Invalid cursor", Some(c.into())))?,
    };
    let end = start
        .saturating_add(size.unwrap_or(usize::MAX))
        .min(items.len());
    let mut out = Map::new();
    out.insert(key.into(), Value::Array(items[start..end].to_vec()));
    if end < items.len() {
        out.insert("nextCursor".into(), Value::String(cursor_for(end)));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_follow_their_cursors_and_foreign_cursors_are_refused() {
        let items: Vec<Value> = (0..5).map(Value::from).collect();
        let first = page(&items, "tools", None, Some(2)).unwrap();
        assert_eq!(first, json!({"tools": [0, 1], "nextCursor": "page-2"}));
        let p = json!({"cursor": "page-4"});
        let last = page(&items, "tools", p.as_object(), Some(2)).unwrap();
        assert_eq!(last, json!({"tools": [4]}));
        for bad in ["page-6", "x", "page--1"] {
            let p = json!({ "cursor": bad });
            let e = page(&items, "tools", p.as_object(), Some(2)).unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (-32602, "Invalid cursor"));
            assert_eq!(e.data, Some(Value::from(bad)));
        }
        assert_eq!(
            page(&items, "k", None, None).unwrap()["k"],
            json!([0, 1, 2, 3, 4])
        );
    }
}
