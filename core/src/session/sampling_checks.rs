//! The server's checks around `sampling/createMessage`, as the reference's `create_message`
//! makes them (and the 2025-11-25 specification asks): before the request is sent, tools need
//! the client's `sampling.tools` capability, and a last message holding `tool_result` blocks
//! must hold nothing else and answer exactly the `tool_use` blocks of the message before it;
//! after the answer, a request without tools must get a single content block, not an array.
//!
//! They work on the raw params (what `RequestContext::sample` takes) so that a request no typed
//! model would accept is still judged, never a panic.
//!
//! ```
//! use mcp_sse_core::session::sampling_checks::{check_request, SamplingCheckError};
//! use serde_json::json;
//!
//! let params = json!({"messages": [], "maxTokens": 10, "tools": [{"name": "w", "inputSchema": {"type": "object"}}]});
//! let params = params.as_object().unwrap();
//! assert_eq!(check_request(&json!({"sampling": {}}), params), Err(SamplingCheckError::ToolsNotSupported));
//! assert_eq!(check_request(&json!({"sampling": {"tools": {}}}), params), Ok(()));
//! ```

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::jsonrpc::ErrorObject;

/// Why a sampling request was not sent, or its answer not accepted. The texts are the
/// reference's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamplingCheckError {
    /// The request has `tools` or `toolChoice`, and the client did not declare `sampling.tools`.
    #[error("Client does not support sampling tools capability")]
    ToolsNotSupported,
    /// The last message mixes `tool_result` blocks with other content.
    #[error("The last message must contain only tool_result content if any is present")]
    MixedToolResult,
    /// The last message has `tool_result` blocks and there is no message before it.
    #[error("tool_result requires a previous message containing tool_use")]
    ToolResultWithoutPrevious,
    /// The last message has `tool_result` blocks and the one before has no `tool_use`.
    #[error("tool_result blocks do not match any tool_use in the previous message")]
    ToolResultWithoutToolUse,
    /// The `tool_result` ids are not exactly the previous message's `tool_use` ids.
    #[error("ids of tool_result blocks and tool_use blocks from previous message do not match")]
    IdsMismatch,
    /// The client answered a request without tools with an array of content blocks.
    #[error("Invalid sampling result: a request without tools must be answered with one content block, not an array")]
    ArrayContentWithoutTools,
}

impl From<SamplingCheckError> for ErrorObject {
    /// A request check as `-32602` (the request's params are what is wrong); a result check as
    /// `-32603` (the client's answer could not be used).
    fn from(e: SamplingCheckError) -> Self {
        match e {
            SamplingCheckError::ArrayContentWithoutTools => {
                ErrorObject::internal_error(e.to_string())
            }
            _ => ErrorObject::invalid_params_with(e.to_string(), None),
        }
    }
}

/// A message's content blocks: an array as is, a single block as one.
fn blocks(message: &Value) -> Vec<&Value> {
    match message.get("content") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

fn kind(block: &Value) -> Option<&str> {
    block.get("type").and_then(Value::as_str)
}

/// The checks before `sampling/createMessage` with `params` is sent to a client that declared
/// `client_capabilities`.
pub fn check_request(
    client_capabilities: &Value,
    params: &Map<String, Value>,
) -> Result<(), SamplingCheckError> {
    let wants_tools = [params.get("tools"), params.get("toolChoice")]
        .into_iter()
        .any(|v| v.is_some_and(|v| !v.is_null()));
    let has_tools = client_capabilities
        .get("sampling")
        .and_then(|s| s.get("tools"))
        .is_some_and(|t| !t.is_null());
    if wants_tools && !has_tools {
        return Err(SamplingCheckError::ToolsNotSupported);
    }
    let messages: &[Value] = params
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let Some(last) = messages.last() else {
        return Ok(());
    };
    let last = blocks(last);
    let previous = (messages.len() >= 2).then(|| blocks(&messages[messages.len() - 2]));
    let has_results = last.iter().any(|b| kind(b) == Some("tool_result"));
    let previous_uses = previous
        .as_ref()
        .is_some_and(|p| p.iter().any(|b| kind(b) == Some("tool_use")));
    if has_results {
        if last.iter().any(|b| kind(b) != Some("tool_result")) {
            return Err(SamplingCheckError::MixedToolResult);
        }
        if previous.is_none() {
            return Err(SamplingCheckError::ToolResultWithoutPrevious);
        }
        if !previous_uses {
            return Err(SamplingCheckError::ToolResultWithoutToolUse);
        }
    }
    if let (true, Some(previous)) = (previous_uses, previous) {
        let ids = |blocks: &[&Value], k: &str, key: &str| -> BTreeSet<String> {
            blocks
                .iter()
                .filter(|b| kind(b) == Some(k))
                .map(|b| b.get(key).map_or(String::new(), Value::to_string))
                .collect()
        };
        if ids(&previous, "tool_use", "id") != ids(&last, "tool_result", "toolUseId") {
            return Err(SamplingCheckError::IdsMismatch);
        }
    }
    Ok(())
}

/// The check of the client's `result` to `sampling/createMessage` with `params`.
pub fn check_result(params: &Map<String, Value>, result: &Value) -> Result<(), SamplingCheckError> {
    let with_tools = params.get("tools").is_some_and(|t| !t.is_null());
    if !with_tools && result.get("content").is_some_and(Value::is_array) {
        return Err(SamplingCheckError::ArrayContentWithoutTools);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn use_then_result(use_id: &str, result_id: &str) -> Map<String, Value> {
        params(json!({"maxTokens": 1, "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": use_id, "name": "w", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "toolUseId": result_id, "content": []}]}
        ]}))
    }

    #[test]
    fn tools_and_tool_choice_need_the_capability() {
        let caps = json!({"sampling": {}});
        let p = params(json!({"messages": [], "toolChoice": {"mode": "auto"}}));
        assert_eq!(
            check_request(&caps, &p),
            Err(SamplingCheckError::ToolsNotSupported)
        );
        assert_eq!(
            check_request(&Value::Null, &p),
            Err(SamplingCheckError::ToolsNotSupported)
        );
        assert_eq!(
            check_request(&json!({"sampling": {"tools": {}}}), &p),
            Ok(())
        );
        assert_eq!(
            check_request(&caps, &params(json!({"messages": []}))),
            Ok(())
        );
        let e: ErrorObject = SamplingCheckError::ToolsNotSupported.into();
        assert_eq!(
            (e.code, e.message.as_str()),
            (-32602, "Client does not support sampling tools capability")
        );
    }

    #[test]
    fn tool_results_must_be_alone_and_answer_the_previous_tool_uses() {
        let caps = json!({"sampling": {"tools": {}}});
        assert_eq!(check_request(&caps, &use_then_result("c1", "c1")), Ok(()));
        assert_eq!(
            check_request(&caps, &use_then_result("c1", "c2")),
            Err(SamplingCheckError::IdsMismatch)
        );
        let mixed = params(json!({"messages": [{"role": "user", "content": [
            {"type": "tool_result", "toolUseId": "c1", "content": []},
            {"type": "text", "text": "also"}
        ]}]}));
        assert_eq!(
            check_request(&caps, &mixed),
            Err(SamplingCheckError::MixedToolResult)
        );
        let alone = params(json!({"messages": [{"role": "user", "content":
            {"type": "tool_result", "toolUseId": "c1", "content": []}}]}));
        assert_eq!(
            check_request(&caps, &alone),
            Err(SamplingCheckError::ToolResultWithoutPrevious)
        );
        let no_use = params(json!({"messages": [
            {"role": "assistant", "content": {"type": "text", "text": "hi"}},
            {"role": "user", "content": [{"type": "tool_result", "toolUseId": "c1", "content": []}]}
        ]}));
        assert_eq!(
            check_request(&caps, &no_use),
            Err(SamplingCheckError::ToolResultWithoutToolUse)
        );
        // A tool_use answered by plain text is a mismatch too.
        let unanswered = params(json!({"messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "w", "input": {}}]},
            {"role": "user", "content": {"type": "text", "text": "no"}}
        ]}));
        assert_eq!(
            check_request(&caps, &unanswered),
            Err(SamplingCheckError::IdsMismatch)
        );
        // Garbage shapes are judged, never a panic.
        let odd = params(json!({"messages": [1, {"content": 2}, {"content": [3, {"type": 4}]}]}));
        assert_eq!(check_request(&caps, &odd), Ok(()));
    }

    #[test]
    fn array_content_answers_only_requests_with_tools() {
        let plain = params(json!({"messages": []}));
        let array =
            json!({"role": "assistant", "content": [{"type": "text", "text": "a"}], "model": "m"});
        let single =
            json!({"role": "assistant", "content": {"type": "text", "text": "a"}, "model": "m"});
        assert_eq!(
            check_result(&plain, &array),
            Err(SamplingCheckError::ArrayContentWithoutTools)
        );
        assert_eq!(check_result(&plain, &single), Ok(()));
        let tools = params(json!({"messages": [], "tools": []}));
        assert_eq!(check_result(&tools, &array), Ok(()));
        let e: ErrorObject = SamplingCheckError::ArrayContentWithoutTools.into();
        assert_eq!(e.code, -32603);
    }
}
