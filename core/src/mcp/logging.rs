//! Logging: `logging/setLevel` and `notifications/message`.
//!
//! The level type itself is [`LoggingLevel`](super::LoggingLevel) in `common`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{Extra, LoggingLevel, Meta};

/// Params of `logging/setLevel` (result: [`EmptyResult`](super::EmptyResult)).
///
/// ```
/// use mcp_sse_core::mcp::{LoggingLevel, SetLevelRequestParams};
/// let p = SetLevelRequestParams::new(LoggingLevel::Warning);
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"level":"warning"}"#);
/// assert!(serde_json::from_str::<SetLevelRequestParams>(r#"{"level":"loud"}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetLevelRequestParams {
    /// Minimum level the client wants to receive.
    pub level: LoggingLevel,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SetLevelRequestParams {
    /// Params setting `level`.
    pub fn new(level: LoggingLevel) -> Self {
        Self {
            level,
            meta: None,
            extra: Extra::new(),
        }
    }
}

/// Params of `notifications/message`: one log entry. `data` is any JSON value (required; may be
/// `null`).
///
/// ```
/// use mcp_sse_core::mcp::{LoggingLevel, LoggingMessageNotificationParams};
/// let p = LoggingMessageNotificationParams::new(LoggingLevel::Info, "step 1/2".into());
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"level":"info","data":"step 1/2"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingMessageNotificationParams {
    /// Severity.
    pub level: LoggingLevel,
    /// Name of the logger.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub logger: Option<String>,
    /// The payload: a string, an object, anything JSON.
    pub data: Value,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl LoggingMessageNotificationParams {
    /// A log entry at `level`.
    pub fn new(level: LoggingLevel, data: Value) -> Self {
        Self {
            level,
            logger: None,
            data,
            meta: None,
            extra: Extra::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn message_from_capture() {
        let raw = r#"{"level":"info","data":"step 1/2"}"#;
        let p: LoggingMessageNotificationParams = serde_json::from_str(raw).unwrap();
        assert_eq!(p.level, LoggingLevel::Info);
        assert_eq!(serde_json::to_string(&p).unwrap(), raw);
    }

    #[test]
    fn every_level_with_structured_data() {
        for level in LoggingLevel::ALL {
            let v = json!({"level": level.as_str(), "logger": "db", "data": {"rows": [1, 2]},
                           "_meta": {"m": 1}, "x": "y"});
            let p: LoggingMessageNotificationParams = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(p.level, level);
            assert_eq!(serde_json::to_value(&p).unwrap(), v);
        }
    }

    #[test]
    fn null_data_is_kept_but_missing_data_is_an_error() {
        let v = json!({"level": "debug", "data": null});
        let p: LoggingMessageNotificationParams = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), v);
        assert!(serde_json::from_value::<LoggingMessageNotificationParams>(
            json!({"level": "debug"})
        )
        .is_err());
        assert!(serde_json::from_value::<LoggingMessageNotificationParams>(
            json!({"level": "trace", "data": 1})
        )
        .is_err());
    }

    #[test]
    fn set_level_round_trip() {
        let v = json!({"level": "emergency", "_meta": {"a": 1}});
        let p: SetLevelRequestParams = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(p.level, LoggingLevel::Emergency);
        assert_eq!(serde_json::to_value(&p).unwrap(), v);
        assert!(serde_json::from_value::<SetLevelRequestParams>(json!({"level": 3})).is_err());
        assert!(serde_json::from_value::<SetLevelRequestParams>(json!({"level": "INFO"})).is_err());
    }
}
