//! Compact JSON encoding of [`Message`]s with a fixed key order.
//!
//! Output matches the reference's `model_dump_json(by_alias=True, exclude_unset=True)`: no
//! whitespace, non-ASCII written raw as UTF-8, only `"`, `\` and control characters escaped, so the
//! text never contains a raw newline (one SSE `data:` line). Key order:
//! `jsonrpc, id, method, params` / `jsonrpc, method, params` / `jsonrpc, id, result` /
//! `jsonrpc, id, error{code, message, data}`. `params` and `data` are omitted when `None`
//! (never `null`); an error response without an id writes `"id":null`.

use super::json_out::{write_json_map, write_json_string, write_json_value};
use super::{ErrorObject, Message};

fn write_error_object(out: &mut Vec<u8>, error: &ErrorObject) {
    out.extend_from_slice(b"{\"code\":");
    crate::decimal::write_i64(out, error.code);
    out.extend_from_slice(b",\"message\":");
    write_json_string(out, &error.message);
    if let Some(data) = &error.data {
        out.extend_from_slice(b",\"data\":");
        write_json_value(out, data);
    }
    out.push(b'}');
}

impl Message {
    /// Appends the message's compact JSON encoding to `out` (see the module docs for the exact
    /// shape).
    ///
    /// ```
    /// use mcp_sse_core::jsonrpc::{Message, Notification};
    ///
    /// let msg = Message::Notification(Notification {
    ///     method: "notifications/initialized".into(),
    ///     params: None,
    /// });
    /// let mut out = Vec::new();
    /// msg.write_to(&mut out);
    /// assert_eq!(out, br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    /// ```
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",");
        match self {
            Message::Request(r) => {
                out.extend_from_slice(b"\"id\":");
                r.id.write_json(out);
                out.extend_from_slice(b",\"method\":");
                write_json_string(out, &r.method);
                if let Some(params) = &r.params {
                    out.extend_from_slice(b",\"params\":");
                    write_json_map(out, params);
                }
            }
            Message::Notification(n) => {
                out.extend_from_slice(b"\"method\":");
                write_json_string(out, &n.method);
                if let Some(params) = &n.params {
                    out.extend_from_slice(b",\"params\":");
                    write_json_map(out, params);
                }
            }
            Message::Response(r) => {
                out.extend_from_slice(b"\"id\":");
                r.id.write_json(out);
                out.extend_from_slice(b",\"result\":");
                write_json_value(out, &r.result);
            }
            Message::Error(e) => {
                out.extend_from_slice(b"\"id\":");
                match &e.id {
                    Some(id) => id.write_json(out),
                    None => out.extend_from_slice(b"null"),
                }
                out.extend_from_slice(b",\"error\":");
                write_error_object(out, &e.error);
            }
        }
        out.push(b'}');
    }

    /// The message's compact JSON encoding as a new buffer (see [`Message::write_to`]).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.write_to(&mut out);
        out
    }
}
