//! Elicitation from a Rust type, the server's side: the form's `requestedSchema` comes from
//! `T`'s JSON Schema (`schemars`) and must stay inside the specification's restricted subset (a
//! flat object of string, number, integer, boolean and enum properties); the client must have
//! declared the mode; an accepted answer is validated against the schema (the `jsonschema`
//! crate) and deserialized into `T`.
//!
//! ```
//! use mcp_sse_core::session::typed_elicit::{form_request, form_result, Elicited};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//! use serde_json::json;
//!
//! #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
//! struct TravelPreferences {
//!     destination: String,
//!     window_seat: bool,
//! }
//!
//! let request = form_request::<TravelPreferences>(&json!({"elicitation": {}}), "Where to?").unwrap();
//! assert_eq!(request.params["requestedSchema"]["required"], json!(["destination", "window_seat"]));
//! let answer = json!({"action": "accept", "content": {"destination": "Lisbon", "window_seat": true}});
//! let got = form_result::<TravelPreferences>(&request, answer).unwrap();
//! assert_eq!(got, Elicited::Accept(TravelPreferences { destination: "Lisbon".into(), window_seat: true }));
//! ```

use jsonschema::Validator;
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::jsonrpc::ErrorObject;
use crate::mcp::{ElicitAction, ElicitResult};
use crate::router::typed::violations;

/// What the user did with a typed elicitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elicited<T> {
    /// Submitted (form: the content, as a `T`; URL mode: `()`).
    Accept(T),
    /// Explicitly declined.
    Decline,
    /// Dismissed without a choice.
    Cancel,
}

/// Why a typed elicitation was not sent, or its answer not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElicitError {
    /// The client did not declare this elicitation mode.
    #[error("Client does not support {0} elicitation")]
    ModeNotSupported(&'static str),
    /// `T`'s schema is outside the restricted subset (a server bug, reported at once).
    #[error("the elicitation schema is outside the restricted subset: {0}")]
    UnsupportedSchema(String),
    /// The client's answer is not an `ElicitResult`, or accepted content that does not fit.
    #[error("Elicitation response does not match the requested schema: {0}")]
    InvalidResponse(String),
}

impl From<ElicitError> for ErrorObject {
    /// A mode the client lacks or an answer that does not fit is `-32602`; a schema outside the
    /// subset is the server's own mistake, `-32603`.
    fn from(e: ElicitError) -> Self {
        match e {
            ElicitError::UnsupportedSchema(_) => ErrorObject::internal_error(e.to_string()),
            _ => ErrorObject::invalid_params_with(e.to_string(), None),
        }
    }
}

/// A checked form request: its `elicitation/create` params and the validator of its answers.
pub struct FormRequest {
    /// The `elicitation/create` params (`mode: "form"`, `message`, `requestedSchema`).
    pub params: Map<String, Value>,
    validator: Validator,
}

impl std::fmt::Debug for FormRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormRequest")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Whether `client_capabilities` declare elicitation `mode` (`{}` alone means form, as the
/// specification keeps for clients of 2025-06-18).
fn supports(client_capabilities: &Value, mode: &'static str) -> Result<(), ElicitError> {
    let Some(e) = client_capabilities
        .get("elicitation")
        .and_then(Value::as_object)
    else {
        return Err(ElicitError::ModeNotSupported(mode));
    };
    let declared = e.contains_key(mode) || (mode == "form" && !e.contains_key("url"));
    if declared {
        Ok(())
    } else {
        Err(ElicitError::ModeNotSupported(mode))
    }
}

/// Why `property` (named `name`) is outside the restricted subset, if it is.
fn property_problem(name: &str, property: &Value) -> Option<String> {
    let types: Vec<&str> = match property.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ if property.get("enum").is_some() || property.get("oneOf").is_some() => vec!["string"],
        _ => return Some(format!("{name}: no primitive type")),
    };
    let primitive = ["string", "number", "integer", "boolean"];
    if types.iter().all(|t| primitive.contains(t) || *t == "null") && !types.is_empty() {
        return None;
    }
    if types == ["array"] {
        // A multi-select: an array of enum strings.
        let items = property.get("items");
        let enumerated = items.is_some_and(|i| i.get("enum").is_some() || i.get("anyOf").is_some());
        return (!enumerated).then(|| format!("{name}: arrays must be of enum strings"));
    }
    Some(format!("{name}: type {types:?} is not a primitive"))
}

/// The schema of form `T`, checked against the restricted subset.
fn form_schema<T: JsonSchema>() -> Result<Value, ElicitError> {
    let mut schema = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Some(o) = schema.as_object_mut() {
        o.remove("$schema");
        if o.contains_key("$defs") {
            return Err(ElicitError::UnsupportedSchema(
                "nested types ($defs) are not allowed".into(),
            ));
        }
    }
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err(ElicitError::UnsupportedSchema(
            "the form must be an object".into(),
        ));
    }
    let empty = Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    if let Some(problem) = properties.iter().find_map(|(n, p)| property_problem(n, p)) {
        return Err(ElicitError::UnsupportedSchema(problem));
    }
    Ok(schema)
}

/// The `elicitation/create` params asking for a `T` with `message`, after checking the schema
/// and that `client_capabilities` declare form mode.
pub fn form_request<T: JsonSchema>(
    client_capabilities: &Value,
    message: &str,
) -> Result<FormRequest, ElicitError> {
    let schema = form_schema::<T>()?;
    supports(client_capabilities, "form")?;
    let validator = jsonschema::draft202012::new(&schema)
        .map_err(|e| ElicitError::UnsupportedSchema(e.to_string()))?;
    let params = json!({"mode": "form", "message": message, "requestedSchema": schema});
    let Value::Object(params) = params else {
        return Err(ElicitError::UnsupportedSchema("params".into()));
    };
    Ok(FormRequest { params, validator })
}

fn parse(result: Value) -> Result<ElicitResult, ElicitError> {
    serde_json::from_value(result).map_err(|e| ElicitError::InvalidResponse(e.to_string()))
}

/// The user's answer to `request`: accepted content validated and deserialized into `T`.
pub fn form_result<T: DeserializeOwned>(
    request: &FormRequest,
    result: Value,
) -> Result<Elicited<T>, ElicitError> {
    let r = parse(result)?;
    match r.action {
        ElicitAction::Decline => Ok(Elicited::Decline),
        ElicitAction::Cancel => Ok(Elicited::Cancel),
        ElicitAction::Accept => {
            let content = Value::Object(r.content.unwrap_or_default());
            if let Some(text) = violations(&request.validator, &content) {
                return Err(ElicitError::InvalidResponse(text));
            }
            serde_json::from_value(content)
                .map(Elicited::Accept)
                .map_err(|e| ElicitError::InvalidResponse(e.to_string()))
        }
    }
}

/// The `elicitation/create` params of a URL-mode request, after checking that
/// `client_capabilities` declare URL mode.
pub fn url_request(
    client_capabilities: &Value,
    message: &str,
    url: &str,
    elicitation_id: &str,
) -> Result<Map<String, Value>, ElicitError> {
    supports(client_capabilities, "url")?;
    let params =
        json!({"mode": "url", "message": message, "url": url, "elicitationId": elicitation_id});
    Ok(params.as_object().cloned().unwrap_or_default())
}

/// The user's answer to a URL-mode request.
pub fn url_result(result: Value) -> Result<Elicited<()>, ElicitError> {
    Ok(match parse(result)?.action {
        ElicitAction::Accept => Elicited::Accept(()),
        ElicitAction::Decline => Elicited::Decline,
        ElicitAction::Cancel => Elicited::Cancel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
    struct Flat {
        name: String,
        age: Option<u8>,
        #[serde(default)]
        vip: bool,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        x: i64,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Nested {
        inner: Inner,
    }

    #[test]
    fn modes_follow_the_client_capabilities() {
        let form_only = json!({"elicitation": {}});
        assert!(form_request::<Flat>(&form_only, "m").is_ok());
        assert_eq!(
            url_request(&form_only, "m", "https://x", "e").unwrap_err(),
            ElicitError::ModeNotSupported("url")
        );
        let url_only = json!({"elicitation": {"url": {}}});
        assert_eq!(
            form_request::<Flat>(&url_only, "m").unwrap_err(),
            ElicitError::ModeNotSupported("form")
        );
        assert!(url_request(&url_only, "m", "https://x", "e").is_ok());
        assert_eq!(
            form_request::<Flat>(&json!({}), "m").unwrap_err(),
            ElicitError::ModeNotSupported("form")
        );
    }

    #[test]
    fn schemas_outside_the_subset_are_rejected() {
        let both = json!({"elicitation": {"form": {}, "url": {}}});
        let e = form_request::<Nested>(&both, "m").unwrap_err();
        assert!(matches!(e, ElicitError::UnsupportedSchema(_)), "{e}");
        let e = form_request::<Vec<String>>(&both, "m").unwrap_err();
        assert!(matches!(e, ElicitError::UnsupportedSchema(_)), "{e}");
        let r = form_request::<Flat>(&both, "Who?").unwrap();
        assert_eq!(r.params["mode"], "form");
        assert!(r.params["requestedSchema"].get("$schema").is_none());
    }

    #[test]
    fn answers_are_validated_and_typed() {
        let r = form_request::<Flat>(&json!({"elicitation": {}}), "Who?").unwrap();
        let ok = form_result::<Flat>(&r, json!({"action": "accept", "content": {"name": "Ada"}}));
        assert_eq!(
            ok,
            Ok(Elicited::Accept(Flat {
                name: "Ada".into(),
                age: None,
                vip: false
            }))
        );
        let bad = form_result::<Flat>(&r, json!({"action": "accept", "content": {"name": 1}}));
        assert_eq!(
            bad,
            Err(ElicitError::InvalidResponse(
                "name: value is not of type \"string\"".into()
            ))
        );
        assert_eq!(
            form_result::<Flat>(&r, json!({"action": "decline"})),
            Ok(Elicited::Decline)
        );
        assert_eq!(
            form_result::<Flat>(&r, json!({"action": "cancel"})),
            Ok(Elicited::Cancel)
        );
        assert!(matches!(
            form_result::<Flat>(&r, json!({"action": "shrug"})),
            Err(ElicitError::InvalidResponse(_))
        ));
        assert_eq!(
            url_result(json!({"action": "accept"})),
            Ok(Elicited::Accept(()))
        );
    }
}
