//! Types shared by every MCP message: `_meta`, implementation info and icons, annotations, roles,
//! pagination cursors, progress tokens, request ids, logging levels and the generic
//! params/result shells.
//!
//! Every object type keeps the fields it does not know in an `extra` map (flattened), so unknown
//! fields survive a parse/serialize round trip unchanged.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The `_meta` object carried by params, results and many objects: free-form JSON.
///
/// ```
/// use mcp_sse_core::mcp::Meta;
/// let mut meta = Meta::new();
/// meta.insert("progressToken".into(), 7.into());
/// assert_eq!(meta["progressToken"], 7);
/// ```
pub type Meta = Map<String, Value>;

/// Fields of an object that this crate does not model; they are written back verbatim.
///
/// ```
/// use mcp_sse_core::mcp::Extra;
/// let extra: Extra = serde_json::from_str(r#"{"x-vendor":1}"#).unwrap();
/// assert_eq!(extra.len(), 1);
/// ```
pub type Extra = Map<String, Value>;

/// Key of the progress token inside a request's `_meta`.
pub const PROGRESS_TOKEN_META_KEY: &str = "progressToken";

/// Serialize an `f64` as a JSON integer when it is integral and exactly representable (|v| < 2^53),
/// as the reference does (`"progress":1`, not `1.0`); otherwise as a float.
pub(crate) fn serialize_f64<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    /// 2^53: above this, not every integer is representable as an `f64`.
    const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
    if value.fract() == 0.0 && value.abs() < MAX_EXACT {
        // Exact: the value is integral and within the i64 range.
        #[allow(clippy::cast_possible_truncation)]
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

/// [`serialize_f64`] for optional fields (only called when `Some`, via `skip_serializing_if`).
pub(crate) fn serialize_opt_f64<S: Serializer>(
    value: &Option<f64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serialize_f64(v, serializer),
        None => serializer.serialize_none(),
    }
}

/// Deserialize a JSON object into `T` after taking out the discriminator field `key`, which the
/// caller has already inspected. Used by the hand-written union deserializers.
pub(crate) fn from_object<T: serde::de::DeserializeOwned, E: de::Error>(
    map: Map<String, Value>,
) -> Result<T, E> {
    serde_json::from_value(Value::Object(map)).map_err(E::custom)
}

macro_rules! string_or_integer {
    ($(#[$doc:meta])* $name:ident, $expecting:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            /// A JSON string, kept byte for byte.
            String(String),
            /// A JSON integer (must fit in an `i64`; fractional numbers are rejected).
            Integer(i64),
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    Self::String(s) => serializer.serialize_str(s),
                    Self::Integer(i) => serializer.serialize_i64(*i),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::String(v.to_owned()))
                    }
                    fn visit_string<E: de::Error>(self, v: String) -> Result<$name, E> {
                        Ok($name::String(v))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        Ok($name::Integer(v))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        i64::try_from(v)
                            .map($name::Integer)
                            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
                    }
                }
                deserializer.deserialize_any(V)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::String(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self::String(s)
            }
        }

        impl From<i64> for $name {
            fn from(i: i64) -> Self {
                Self::Integer(i)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    Self::String(s) => f.write_str(s),
                    Self::Integer(i) => write!(f, "{i}"),
                }
            }
        }
    };
}

string_or_integer!(
    /// A progress token (`string | integer`), echoed with the JSON type it was given in
    /// (`"tok-4"` stays a string, `4` stays an integer).
    ///
    /// ```
    /// use mcp_sse_core::mcp::ProgressToken;
    /// let t: ProgressToken = serde_json::from_str("\"tok-4\"").unwrap();
    /// assert_eq!(t, ProgressToken::from("tok-4"));
    /// assert_eq!(serde_json::to_string(&ProgressToken::from(4)).unwrap(), "4");
    /// assert!(serde_json::from_str::<ProgressToken>("1.5").is_err());
    /// ```
    ProgressToken,
    "a progress token (string or integer)"
);

/// A JSON-RPC request id as it appears inside MCP params (`notifications/cancelled`): the same
/// type as the JSON-RPC layer's, so an id names the same request in both (a string or an integer
/// of any size, kept with its JSON type).
///
/// ```
/// use mcp_sse_core::mcp::RequestId;
/// let id: RequestId = serde_json::from_str("\"7\"").unwrap();
/// assert_eq!(id, RequestId::from("7"));
/// assert_ne!(id, RequestId::from(7));
/// let big: RequestId = serde_json::from_str("18446744073709551615").unwrap();
/// assert_eq!(serde_json::to_string(&big).unwrap(), "18446744073709551615");
/// ```
pub use crate::jsonrpc::RequestId;

/// Read the progress token from a request's `_meta`, if there is a well-formed one.
///
/// ```
/// use mcp_sse_core::mcp::{progress_token, Meta, ProgressToken};
/// let meta: Meta = serde_json::from_str(r#"{"progressToken":"tok-4"}"#).unwrap();
/// assert_eq!(progress_token(&meta), Some(ProgressToken::from("tok-4")));
/// ```
pub fn progress_token(meta: &Meta) -> Option<ProgressToken> {
    meta.get(PROGRESS_TOKEN_META_KEY)
        .and_then(|v| ProgressToken::deserialize(v).ok())
}

/// An opaque pagination cursor, passed back to the server byte for byte.
///
/// ```
/// use mcp_sse_core::mcp::Cursor;
/// let c: Cursor = serde_json::from_str(r#""page=2&x=%20""#).unwrap();
/// assert_eq!(c.as_str(), "page=2&x=%20");
/// assert_eq!(serde_json::to_string(&c).unwrap(), r#""page=2&x=%20""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub String);

impl Cursor {
    /// The cursor's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Cursor {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for Cursor {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// The sender or recipient of messages and data in a conversation.
///
/// ```
/// use mcp_sse_core::mcp::Role;
/// assert_eq!(serde_json::to_string(&Role::Assistant).unwrap(), "\"assistant\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// `"user"`.
    User,
    /// `"assistant"`.
    Assistant,
}

/// Severity of a log message: the eight RFC 5424 syslog levels. Ordered from least
/// (`Debug`) to most severe (`Emergency`), so `level >= threshold` filters messages.
///
/// ```
/// use mcp_sse_core::mcp::LoggingLevel;
/// assert!(LoggingLevel::Error > LoggingLevel::Warning);
/// let l: LoggingLevel = serde_json::from_str("\"critical\"").unwrap();
/// assert_eq!(l, LoggingLevel::Critical);
/// assert!(serde_json::from_str::<LoggingLevel>("\"verbose\"").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoggingLevel {
    /// `"debug"`: detailed debugging information.
    Debug,
    /// `"info"`: general informational messages.
    Info,
    /// `"notice"`: normal but significant events.
    Notice,
    /// `"warning"`: warning conditions.
    Warning,
    /// `"error"`: error conditions.
    Error,
    /// `"critical"`: critical conditions.
    Critical,
    /// `"alert"`: action must be taken immediately.
    Alert,
    /// `"emergency"`: system is unusable.
    Emergency,
}

impl LoggingLevel {
    /// All eight levels, least severe first.
    pub const ALL: [LoggingLevel; 8] = [
        Self::Debug,
        Self::Info,
        Self::Notice,
        Self::Warning,
        Self::Error,
        Self::Critical,
        Self::Alert,
        Self::Emergency,
    ];

    /// The wire name (`"debug"`, …, `"emergency"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Notice => "notice",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
            Self::Alert => "alert",
            Self::Emergency => "emergency",
        }
    }

    /// Parses a wire name (exact, lower case).
    ///
    /// ```
    /// use mcp_sse_core::mcp::LoggingLevel;
    /// assert!(LoggingLevel::parse("warning").unwrap() > LoggingLevel::Info);
    /// assert_eq!(LoggingLevel::parse("verbose"), None);
    /// ```
    pub fn parse(name: &str) -> Option<LoggingLevel> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }
}

/// An optionally sized icon a client can display.
///
/// ```
/// use mcp_sse_core::mcp::Icon;
/// let icon: Icon = serde_json::from_str(
///     r#"{"src":"https://x.test/i.png","mimeType":"image/png","sizes":["48x48"],"theme":"dark"}"#,
/// ).unwrap();
/// assert_eq!(icon.theme.as_deref(), Some("dark"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Icon {
    /// URI of the icon (HTTP(S) URL or `data:` URI).
    pub src: String,
    /// MIME type override.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mime_type: Option<String>,
    /// Sizes such as `"48x48"` or `"any"`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sizes: Option<Vec<String>>,
    /// `"light"` or `"dark"`; kept as a string so a future theme does not break parsing.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub theme: Option<String>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Icon {
    /// An icon with only its `src`.
    pub fn new(src: impl Into<String>) -> Self {
        Self {
            src: src.into(),
            ..Self::default()
        }
    }
}

/// Name, version and presentation metadata of an MCP client or server (`clientInfo`/`serverInfo`).
///
/// ```
/// use mcp_sse_core::mcp::Implementation;
/// let info = Implementation::new("mcp", "0.1.0");
/// assert_eq!(serde_json::to_string(&info).unwrap(), r#"{"name":"mcp","version":"0.1.0"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Implementation {
    /// Programmatic name.
    pub name: String,
    /// Human-readable display name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// Version string.
    pub version: String,
    /// Human-readable description.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// Website URL.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub website_url: Option<String>,
    /// Icons.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub icons: Option<Vec<Icon>>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Implementation {
    /// An implementation with just `name` and `version`.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            ..Self::default()
        }
    }
}

/// Client hints about how an object is used or displayed.
///
/// ```
/// use mcp_sse_core::mcp::{Annotations, Role};
/// let a: Annotations = serde_json::from_str(r#"{"audience":["user"],"priority":1}"#).unwrap();
/// assert_eq!(a.audience, Some(vec![Role::User]));
/// assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"audience":["user"],"priority":1}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    /// Intended audience(s).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub audience: Option<Vec<Role>>,
    /// Importance from 0 (optional) to 1 (required).
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        serialize_with = "serialize_opt_f64"
    )]
    pub priority: Option<f64>,
    /// ISO 8601 last-modified timestamp.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_modified: Option<String>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Params of a request that has no params of its own (`ping`, `roots/list`): just `_meta`.
///
/// ```
/// use mcp_sse_core::mcp::RequestParams;
/// let p: RequestParams = serde_json::from_str(r#"{"_meta":{"progressToken":1}}"#).unwrap();
/// assert!(p.meta.is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RequestParams {
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Params of a notification that has no params of its own (`notifications/initialized`, the
/// `list_changed` family): just `_meta`.
///
/// ```
/// use mcp_sse_core::mcp::NotificationParams;
/// let p: NotificationParams = serde_json::from_str("{}").unwrap();
/// assert_eq!(p, NotificationParams::default());
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NotificationParams {
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A result that carries no data (`ping`, `resources/subscribe`, `logging/setLevel`): `{}`.
///
/// ```
/// use mcp_sse_core::mcp::EmptyResult;
/// assert_eq!(serde_json::to_string(&EmptyResult::default()).unwrap(), "{}");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EmptyResult {
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Params of a paginated list request (`tools/list`, `resources/list`,
/// `resources/templates/list`, `prompts/list`).
///
/// ```
/// use mcp_sse_core::mcp::PaginatedRequestParams;
/// let p = PaginatedRequestParams::with_cursor("abc");
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"cursor":"abc"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginatedRequestParams {
    /// Where to continue from (a previous result's `nextCursor`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cursor: Option<Cursor>,
    /// `_meta`.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Meta>,
    /// Unknown fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl PaginatedRequestParams {
    /// Params asking for the page after `cursor`.
    pub fn with_cursor(cursor: impl Into<Cursor>) -> Self {
        Self {
            cursor: Some(cursor.into()),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integral_floats_serialize_as_integers() {
        #[derive(Serialize)]
        struct W(#[serde(serialize_with = "serialize_f64")] f64);
        assert_eq!(serde_json::to_string(&W(1.0)).unwrap(), "1");
        assert_eq!(serde_json::to_string(&W(-3.0)).unwrap(), "-3");
        assert_eq!(serde_json::to_string(&W(0.5)).unwrap(), "0.5");
        assert_eq!(serde_json::to_string(&W(1e300)).unwrap(), "1e+300");
    }

    #[test]
    fn tokens_keep_their_json_type() {
        for raw in ["\"tok-4\"", "4", "-1", "\"4\""] {
            let t: ProgressToken = serde_json::from_str(raw).unwrap();
            assert_eq!(serde_json::to_string(&t).unwrap(), raw);
        }
        for bad in ["1.5", "true", "null", "{}", "[]", "18446744073709551615"] {
            assert!(serde_json::from_str::<ProgressToken>(bad).is_err(), "{bad}");
        }
        // Request ids are the JSON-RPC layer's: u64 ids too, and a big one is written exactly.
        for raw in ["\"7\"", "7", "-1", "18446744073709551615"] {
            let id: RequestId = serde_json::from_str(raw).unwrap();
            assert_eq!(serde_json::to_string(&id).unwrap(), raw);
            assert_eq!(
                RequestId::from_value(&serde_json::from_str(raw).unwrap()),
                Some(id)
            );
        }
        for bad in ["1.5", "true", "null", "{}", "[]"] {
            assert!(serde_json::from_str::<RequestId>(bad).is_err(), "{bad}");
        }
        let big = RequestId::from(
            crate::jsonrpc::IntegerId::parse("123456789012345678901234567890").unwrap(),
        );
        assert_eq!(
            serde_json::to_string(&big).unwrap(),
            "123456789012345678901234567890"
        );
    }

    #[test]
    fn progress_token_from_meta() {
        let meta: Meta = serde_json::from_value(json!({"progressToken": 3})).unwrap();
        assert_eq!(progress_token(&meta), Some(ProgressToken::Integer(3)));
        let meta: Meta = serde_json::from_value(json!({"progressToken": 1.5})).unwrap();
        assert_eq!(progress_token(&meta), None);
        assert_eq!(progress_token(&Meta::new()), None);
    }

    #[test]
    fn logging_levels_are_ordered_and_named() {
        let mut sorted = LoggingLevel::ALL;
        sorted.sort();
        assert_eq!(sorted, LoggingLevel::ALL);
        for level in LoggingLevel::ALL {
            let json = serde_json::to_value(level).unwrap();
            assert_eq!(json, Value::String(level.as_str().into()));
            assert_eq!(serde_json::from_value::<LoggingLevel>(json).unwrap(), level);
        }
    }

    #[test]
    fn implementation_round_trips_every_field_and_unknowns() {
        let v = json!({
            "name": "srv", "title": "Server", "version": "1.0.0", "description": "d",
            "websiteUrl": "https://x.test",
            "icons": [{"src": "data:image/png;base64,AA==", "mimeType": "image/png",
                       "sizes": ["any"], "theme": "light", "x-icon": true}],
            "x-future": {"a": 1}
        });
        let info: Implementation = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(info.website_url.as_deref(), Some("https://x.test"));
        assert_eq!(info.extra["x-future"], json!({"a": 1}));
        assert_eq!(serde_json::to_value(&info).unwrap(), v);
    }

    #[test]
    fn implementation_rejects_missing_version() {
        assert!(serde_json::from_value::<Implementation>(json!({"name": "x"})).is_err());
        assert!(
            serde_json::from_value::<Implementation>(json!({"name": 1, "version": "1"})).is_err()
        );
    }

    #[test]
    fn empty_result_keeps_meta_and_unknowns() {
        let v = json!({"_meta": {"k": [1, 2]}, "other": null});
        let r: EmptyResult = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.meta.as_ref().unwrap()["k"], json!([1, 2]));
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }

    #[test]
    fn cursor_is_opaque() {
        let p: PaginatedRequestParams =
            serde_json::from_value(json!({"cursor": "é\u{0}\"/?", "_meta": {}})).unwrap();
        assert_eq!(p.cursor.as_ref().unwrap().as_str(), "é\u{0}\"/?");
        assert!(serde_json::from_value::<PaginatedRequestParams>(json!({"cursor": 5})).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_finite_f64_survives_compact_serialization(x in proptest::num::f64::NORMAL | proptest::num::f64::ZERO | proptest::num::f64::SUBNORMAL) {
            #[derive(Serialize)]
            struct W(#[serde(serialize_with = "serialize_f64")] f64);
            let text = serde_json::to_string(&W(x)).unwrap();
            if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
                // Integral: written as an integer that denotes exactly the same value.
                #[allow(clippy::cast_possible_truncation)]
                let expected = (x as i64).to_string();
                proptest::prop_assert_eq!(&text, &expected);
                proptest::prop_assert_eq!(text.parse::<f64>().unwrap(), x);
            } else {
                // Otherwise exactly what serde_json writes for a plain f64.
                proptest::prop_assert_eq!(text, serde_json::to_string(&x).unwrap());
            }
        }

        #[test]
        fn any_token_round_trips_with_its_type(s in ".*", i in proptest::num::i64::ANY) {
            for token in [ProgressToken::String(s.clone()), ProgressToken::Integer(i)] {
                let text = serde_json::to_string(&token).unwrap();
                proptest::prop_assert_eq!(serde_json::from_str::<ProgressToken>(&text).unwrap(), token);
            }
        }
    }
}
