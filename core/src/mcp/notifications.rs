//! Notification params: progress, cancellation, resource updates, elicitation completion and
//! the `list_changed` family (which carry only `_meta`).
//!
//! (`notifications/message` lives in [`logging`](super::logging).)

use serde::{Deserialize, Serialize};

use super::common::{
    serialize_f64, serialize_opt_f64, Extra, Meta, NotificationParams, ProgressToken, RequestId,
};

/// Params of `notifications/progress`.
///
/// `progress` and `total` are `f64`; integral values are written as JSON integers
/// (`"progress":1`), as the reference does.
///
/// ```
/// use mcp_sse_core::mcp::ProgressNotificationParams;
/// let p = ProgressNotificationParams::new("tok-4", 1.0).with_total(2.0).with_message("step 1");
/// assert_eq!(
///     serde_json::to_string(&p).unwrap(),
///     r#"{"progressToken":"tok-4","progress":1,"total":2,"message":"step 1"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressNotificationParams {
    /// The token from the request's `_meta.progressToken`, with its JSON type.
    pub progress_token: ProgressToken,
    /// Progress so far.
    #[serde(serialize_with = "serialize_f64")]
    pub progress: f64,
    /// Total, if known.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        serialize_with = "serialize_opt_f64"
    )]
    pub total: Option<f64>,
    /// Human-readable message.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message: Option<String>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ProgressNotificationParams {
    /// Progress `progress` for `token`.
    pub fn new(token: impl Into<ProgressToken>, progress: f64) -> Self {
        Self {
            progress_token: token.into(),
            progress,
            total: None,
            message: None,
            meta: None,
            extra: Extra::new(),
        }
    }

    /// Set `total`.
    pub fn with_total(mut self, total: f64) -> Self {
        self.total = Some(total);
        self
    }

    /// Set `message`.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// Params of `notifications/cancelled`.
///
/// ```
/// use mcp_sse_core::mcp::{CancelledNotificationParams, RequestId};
/// let p = CancelledNotificationParams::new(RequestId::from(3), "timed out after 0.5s");
/// assert_eq!(
///     serde_json::to_string(&p).unwrap(),
///     r#"{"requestId":3,"reason":"timed out after 0.5s"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelledNotificationParams {
    /// Id of the request being cancelled (same direction).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<RequestId>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CancelledNotificationParams {
    /// Cancel `request_id` for `reason`.
    pub fn new(request_id: RequestId, reason: impl Into<String>) -> Self {
        Self {
            request_id: Some(request_id),
            reason: Some(reason.into()),
            ..Self::default()
        }
    }
}

/// Params of `notifications/resources/updated`.
///
/// ```
/// use mcp_sse_core::mcp::ResourceUpdatedNotificationParams;
/// let p = ResourceUpdatedNotificationParams::new("file:///a");
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"uri":"file:///a"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceUpdatedNotificationParams {
    /// URI of the updated resource.
    pub uri: String,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResourceUpdatedNotificationParams {
    /// Announce an update of `uri`.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            ..Self::default()
        }
    }
}

/// Params of `notifications/elicitation/complete`.
///
/// ```
/// use mcp_sse_core::mcp::ElicitationCompleteNotificationParams;
/// let p = ElicitationCompleteNotificationParams::new("el-1");
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"elicitationId":"el-1"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCompleteNotificationParams {
    /// The completed elicitation's id.
    pub elicitation_id: String,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ElicitationCompleteNotificationParams {
    /// Completion of `elicitation_id`.
    pub fn new(elicitation_id: impl Into<String>) -> Self {
        Self {
            elicitation_id: elicitation_id.into(),
            ..Self::default()
        }
    }
}

/// Params of `notifications/tools/list_changed`, `notifications/resources/list_changed`,
/// `notifications/prompts/list_changed` and `notifications/roots/list_changed` (only `_meta`).
pub type ListChangedNotificationParams = NotificationParams;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn round_trip<T: Serialize + serde::de::DeserializeOwned>(v: Value) -> T {
        let t: T = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&t).unwrap(), v);
        t
    }

    #[test]
    fn captured_progress_is_byte_identical() {
        for raw in [
            r#"{"progressToken":"tok-4","progress":1,"total":2,"message":"step 1"}"#,
            r#"{"progressToken":"tok-4","progress":2,"total":2,"message":"step 2"}"#,
        ] {
            let p: ProgressNotificationParams = serde_json::from_str(raw).unwrap();
            assert_eq!(serde_json::to_string(&p).unwrap(), raw);
        }
    }

    #[test]
    fn progress_keeps_token_type_and_fractions() {
        let p: ProgressNotificationParams =
            round_trip(json!({"progressToken": 7, "progress": 0.25}));
        assert_eq!(p.progress_token, ProgressToken::Integer(7));
        let p: ProgressNotificationParams = round_trip(
            json!({"progressToken": "7", "progress": 3, "total": 10.5, "_meta": {"a": 1}, "x": 1}),
        );
        assert_eq!(p.progress_token, ProgressToken::String("7".into()));
        assert!(serde_json::from_value::<ProgressNotificationParams>(
            json!({"progressToken": 1.5, "progress": 1})
        )
        .is_err());
        assert!(
            serde_json::from_value::<ProgressNotificationParams>(json!({"progressToken": 1}))
                .is_err()
        );
        assert!(serde_json::from_value::<ProgressNotificationParams>(
            json!({"progressToken": 1, "progress": "1"})
        )
        .is_err());
    }

    #[test]
    fn cancelled() {
        let p: CancelledNotificationParams =
            round_trip(json!({"requestId": 3, "reason": "caller cancelled"}));
        assert_eq!(p.request_id, Some(RequestId::from(3)));
        let p: CancelledNotificationParams = round_trip(json!({"requestId": "abc"}));
        assert_eq!(p.request_id, Some(RequestId::from("abc")));
        let _: CancelledNotificationParams = round_trip(json!({}));
        assert!(
            serde_json::from_value::<CancelledNotificationParams>(json!({"requestId": true}))
                .is_err()
        );
    }

    #[test]
    fn resource_updated_and_elicitation_complete() {
        let p: ResourceUpdatedNotificationParams =
            round_trip(json!({"uri": "file:///a", "_meta": {"k": 1}}));
        assert_eq!(p.uri, "file:///a");
        let p: ElicitationCompleteNotificationParams =
            round_trip(json!({"elicitationId": "unknown-id", "y": 2}));
        assert_eq!(p.elicitation_id, "unknown-id");
        assert!(serde_json::from_value::<ResourceUpdatedNotificationParams>(json!({})).is_err());
        assert!(
            serde_json::from_value::<ElicitationCompleteNotificationParams>(
                json!({"elicitationId": 1})
            )
            .is_err()
        );
    }

    #[test]
    fn list_changed_keeps_meta() {
        let p: ListChangedNotificationParams = round_trip(json!({"_meta": {"why": "added"}}));
        assert!(p.meta.is_some());
    }
}
