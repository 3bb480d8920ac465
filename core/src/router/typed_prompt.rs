//! Prompts whose arguments are a Rust type: the declared `arguments` come from the type's
//! JSON Schema (`schemars`: each property an argument, `required` from the schema, its doc
//! comment the description); `prompts/get` arguments (strings on the wire) are converted to the
//! property's type where it is a number, integer or boolean, validated against the schema (the
//! `jsonschema` crate), then deserialized as serde says, so optional fields and defaults behave
//! as serde says. Missing required arguments and invalid ones are `-32602` before the handler
//! runs (the specification's code; the reference answers code 0).
//!
//! ```
//! use mcp_sse_core::router::typed_prompt::TypedPrompt;
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//! use serde_json::json;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Review {
//!     /// The code to review.
//!     code: String,
//!     /// How many findings at most.
//!     #[serde(default)]
//!     limit: Option<u32>,
//! }
//!
//! let p = TypedPrompt::<Review>::new("review").unwrap();
//! assert_eq!(
//!     p.definition(),
//!     &json!({"name": "review", "arguments": [
//!         {"name": "code", "description": "The code to review.", "required": true},
//!         {"name": "limit", "description": "How many findings at most.", "required": false},
//!     ]})
//! );
//! let args = json!({"code": "fn main() {}", "limit": "3"});
//! let r = p.arguments(args.as_object().cloned()).unwrap();
//! assert_eq!((r.code.as_str(), r.limit), ("fn main() {}", Some(3)));
//! let e = p.arguments(None).err().unwrap();
//! assert_eq!((e.code, e.message.as_str()), (-32602, "Missing required arguments: code"));
//! ```

use std::marker::PhantomData;

use jsonschema::Validator;
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::jsonrpc::ErrorObject;
use crate::mcp::{GetPromptResult, Prompt, PromptArgument, PromptMessage};
use crate::router::typed::violations;

/// Why a prompt could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptRegistrationError {
    /// A prompt of this name is already registered (the reference warns and keeps the first).
    #[error("a prompt named {0:?} is already registered")]
    DuplicateName(String),
    /// The prompt's name is empty.
    #[error("a prompt needs a name")]
    EmptyName,
    /// The argument type's schema is not an object's (prompt arguments are named).
    #[error(
        "prompt {prompt}: the arguments must be a struct or map (its schema's type is {found})"
    )]
    NonObjectArguments {
        /// The prompt.
        prompt: String,
        /// The schema's `type`.
        found: String,
    },
    /// The argument type's schema does not compile.
    #[error("prompt {prompt}: invalid arguments schema: {message}")]
    InvalidSchema {
        /// The prompt.
        prompt: String,
        /// Why.
        message: String,
    },
    /// The `Prompt` definition could not be serialized.
    #[error("prompt {prompt}: the definition cannot be serialized: {message}")]
    Definition {
        /// The prompt.
        prompt: String,
        /// Why.
        message: String,
    },
}

/// A prompt's name, title and description, for registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptDef {
    name: String,
    title: Option<String>,
    description: Option<String>,
}

impl PromptDef {
    /// A prompt named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        PromptDef {
            name: name.into(),
            title: None,
            description: None,
        }
    }

    /// Sets the `title`.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the `description`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

impl From<&str> for PromptDef {
    fn from(name: &str) -> Self {
        PromptDef::new(name)
    }
}

impl From<String> for PromptDef {
    fn from(name: String) -> Self {
        PromptDef::new(name)
    }
}

/// What a typed prompt handler may return: a string (one user message), messages, or a whole
/// `GetPromptResult`.
pub trait PromptOutput {
    /// The `GetPromptResult`.
    fn into_result(self) -> GetPromptResult;
}

impl PromptOutput for GetPromptResult {
    fn into_result(self) -> GetPromptResult {
        self
    }
}

impl PromptOutput for String {
    fn into_result(self) -> GetPromptResult {
        GetPromptResult::new(vec![PromptMessage::user_text(self)])
    }
}

impl PromptOutput for &'static str {
    fn into_result(self) -> GetPromptResult {
        self.to_string().into_result()
    }
}

impl PromptOutput for Vec<PromptMessage> {
    fn into_result(self) -> GetPromptResult {
        GetPromptResult::new(self)
    }
}

impl PromptOutput for PromptMessage {
    fn into_result(self) -> GetPromptResult {
        GetPromptResult::new(vec![self])
    }
}

/// One typed prompt: its definition, its arguments' schema, and the decisions of `prompts/get`.
pub struct TypedPrompt<A> {
    name: String,
    definition: Value,
    required: Vec<String>,
    /// Each property's JSON type when it is one a string must be converted to.
    conversions: Vec<(String, &'static str)>,
    validator: Validator,
    types: PhantomData<fn() -> A>,
}

impl<A> std::fmt::Debug for TypedPrompt<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedPrompt")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The JSON type a string argument converts to for this property schema, if any: the first of
/// `integer`, `number`, `boolean` that its `type` (a string or a list) names.
fn conversion(property: &Value) -> Option<&'static str> {
    let types: Vec<&str> = match property.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    if types.contains(&"string") {
        return None;
    }
    ["integer", "number", "boolean"]
        .into_iter()
        .find(|t| types.contains(t))
}

/// `text` as a JSON value of type `kind`, or the text itself when it does not parse as one (the
/// schema check then names the field).
fn convert(text: &str, kind: &str) -> Value {
    let parsed = match kind {
        "boolean" => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        "integer" => text.trim().parse::<i64>().ok().map(Value::from),
        _ => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::from),
    };
    parsed.unwrap_or_else(|| Value::String(text.to_string()))
}

impl<A: DeserializeOwned + JsonSchema> TypedPrompt<A> {
    /// Builds prompt `def`: generates the arguments' schema and the declared `arguments`.
    pub fn new(def: impl Into<PromptDef>) -> Result<Self, PromptRegistrationError> {
        let def = def.into();
        let name = def.name;
        if name.is_empty() {
            return Err(PromptRegistrationError::EmptyName);
        }
        let schema = SchemaSettings::draft2020_12()
            .for_deserialize()
            .into_generator()
            .into_root_schema_for::<A>()
            .to_value();
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            let found = schema.get("type").map_or("none".into(), Value::to_string);
            return Err(PromptRegistrationError::NonObjectArguments {
                prompt: name,
                found,
            });
        }
        let validator = jsonschema::draft202012::new(&schema).map_err(|e| {
            PromptRegistrationError::InvalidSchema {
                prompt: name.clone(),
                message: e.to_string(),
            }
        })?;
        let required: Vec<String> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let empty = Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut arguments = Vec::new();
        let mut conversions = Vec::new();
        for (arg, property) in properties {
            arguments.push(PromptArgument {
                name: arg.clone(),
                description: property
                    .get("description")
                    .and_then(Value::as_str)
                    .map(String::from),
                required: Some(required.contains(arg)),
                ..PromptArgument::default()
            });
            if let Some(kind) = conversion(property) {
                conversions.push((arg.clone(), kind));
            }
        }
        let mut prompt = Prompt::new(name.clone());
        prompt.title = def.title;
        prompt.description = def.description;
        prompt.arguments = Some(arguments);
        let definition =
            serde_json::to_value(&prompt).map_err(|e| PromptRegistrationError::Definition {
                prompt: name.clone(),
                message: e.to_string(),
            })?;
        Ok(TypedPrompt {
            name,
            definition,
            required,
            conversions,
            validator,
            types: PhantomData,
        })
    }

    /// The prompt's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `Prompt` definition as listed by `prompts/list`.
    pub fn definition(&self) -> &Value {
        &self.definition
    }

    /// The `prompts/get` arguments as an `A`: missing required ones, then values that do not
    /// fit the schema, are `-32602` naming them.
    pub fn arguments(&self, arguments: Option<Map<String, Value>>) -> Result<A, ErrorObject> {
        let mut arguments = arguments.unwrap_or_default();
        let missing: Vec<&str> = self
            .required
            .iter()
            .filter(|r| !arguments.contains_key(r.as_str()))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(ErrorObject::invalid_params_with(
                format!("Missing required arguments: {}", missing.join(", ")),
                Some(json!({ "missing": missing })),
            ));
        }
        for (arg, kind) in &self.conversions {
            if let Some(Value::String(text)) = arguments.get(arg) {
                let converted = convert(text, kind);
                arguments.insert(arg.clone(), converted);
            }
        }
        let arguments = Value::Object(arguments);
        let invalid = |text: String| {
            ErrorObject::invalid_params_with(
                format!("Invalid arguments for prompt {}: {text}", self.name),
                None,
            )
        };
        if let Some(text) = violations(&self.validator, &arguments) {
            return Err(invalid(text));
        }
        serde_json::from_value(arguments).map_err(|e| invalid(e.to_string()))
    }

    /// The `prompts/get` answer from the handler's outcome.
    pub fn result<O: PromptOutput>(
        &self,
        outcome: Result<O, ErrorObject>,
    ) -> Result<Value, ErrorObject> {
        let result = outcome?.into_result();
        serde_json::to_value(result).map_err(|e| {
            ErrorObject::internal_error(format!("prompt result not serializable: {e}"))
        })
    }

    /// The `prompts/get` answer when the handler panicked: `-32603` naming the prompt, the
    /// panic's text kept on the server.
    pub fn panicked(&self) -> ErrorObject {
        ErrorObject::internal_error(format!("Error rendering prompt {}", self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::codes;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Args {
        topic: String,
        #[serde(default = "three")]
        count: i64,
        #[serde(default)]
        loud: bool,
        ratio: Option<f64>,
    }

    fn three() -> i64 {
        3
    }

    fn map(v: Value) -> Option<Map<String, Value>> {
        v.as_object().cloned()
    }

    #[test]
    fn declared_arguments_follow_the_type() {
        let p = TypedPrompt::<Args>::new(PromptDef::new("p").description("A prompt.")).unwrap();
        let d = p.definition();
        assert_eq!(d["description"], "A prompt.");
        let args: Vec<(String, bool)> = d["arguments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["name"].as_str().unwrap().into(), a["required"] == true))
            .collect();
        assert_eq!(
            args,
            [
                ("topic".into(), true),
                ("count".into(), false),
                ("loud".into(), false),
                ("ratio".into(), false)
            ]
        );
    }

    #[test]
    fn strings_are_converted_defaults_apply_and_bad_values_are_invalid_params() {
        let p = TypedPrompt::<Args>::new("p").unwrap();
        let a = p
            .arguments(map(json!({"topic": "x", "loud": "true", "ratio": "0.5"})))
            .unwrap();
        assert_eq!(
            (a.topic.as_str(), a.count, a.loud, a.ratio),
            ("x", 3, true, Some(0.5))
        );
        let a = p
            .arguments(map(json!({"topic": "7", "count": "12"})))
            .unwrap();
        assert_eq!((a.topic.as_str(), a.count), ("7", 12));
        let e = p
            .arguments(map(json!({"topic": "x", "count": "many"})))
            .unwrap_err();
        assert_eq!(e.code, codes::INVALID_PARAMS);
        assert!(
            e.message
                .starts_with("Invalid arguments for prompt p: count: "),
            "{e:?}"
        );
        let e = p.arguments(map(json!({"count": "1"}))).unwrap_err();
        assert_eq!(
            e,
            ErrorObject::invalid_params_with(
                "Missing required arguments: topic",
                Some(json!({"missing": ["topic"]}))
            )
        );
    }

    #[test]
    fn registration_errors_are_typed() {
        assert_eq!(
            TypedPrompt::<Args>::new("").unwrap_err(),
            PromptRegistrationError::EmptyName
        );
        assert!(matches!(
            TypedPrompt::<String>::new("s").unwrap_err(),
            PromptRegistrationError::NonObjectArguments { .. }
        ));
    }

    #[test]
    fn outputs_become_results() {
        let p = TypedPrompt::<Args>::new("p").unwrap();
        assert_eq!(
            p.result(Ok("hi".to_string())).unwrap(),
            json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}]})
        );
        let e = ErrorObject::invalid_params();
        assert_eq!(p.result::<String>(Err(e.clone())), Err(e));
        assert_eq!(p.panicked().message, "Error rendering prompt p");
    }
}
