//! Typed client methods: one per MCP request, with the types of [`mcp_sse_core::mcp`].

use mcp_sse_core::jsonrpc::ErrorObject;
use mcp_sse_core::mcp::rpc::{self, NotificationMethod, RequestMethod};
use mcp_sse_core::mcp::{
    CallToolRequestParams, CallToolResult, CompleteRequestParams, CompleteResult, EmptyResult,
    GetPromptRequestParams, GetPromptResult, InitializeResult, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, LoggingLevel,
    ReadResourceResult, ResourceRequestParams, SetLevelRequestParams,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::client::{CallOptions, Client};

/// A typed value that could not be converted to or from JSON.
fn conversion_error(what: &str, e: serde_json::Error) -> ErrorObject {
    ErrorObject::internal_error(format!("{what}: {e}"))
}

fn to_params<T: Serialize>(params: &T) -> Result<Option<Map<String, Value>>, ErrorObject> {
    match serde_json::to_value(params).map_err(|e| conversion_error("invalid params", e))? {
        Value::Object(m) => Ok(Some(m)),
        Value::Null => Ok(None),
        _ => Err(ErrorObject::internal_error(
            "params must serialize to an object",
        )),
    }
}

fn cursor_params(cursor: Option<&str>) -> Option<Map<String, Value>> {
    cursor.map(|c| {
        let mut m = Map::new();
        m.insert("cursor".into(), Value::String(c.to_string()));
        m
    })
}

/// The most `tools/list` pages [`Client::call_tool`] reads looking for a tool's schema.
const MAX_IMPLICIT_LIST_PAGES: usize = 64;

impl Client {
    async fn typed<R: RequestMethod>(
        &self,
        params: Option<Map<String, Value>>,
        opts: CallOptions,
    ) -> Result<R::Result, ErrorObject> {
        let v = self.request(R::METHOD, params, opts).await?;
        serde_json::from_value(v)
            .map_err(|e| conversion_error(&format!("invalid {} result", R::METHOD), e))
    }

    /// The server's `initialize` result, typed.
    pub fn server_info(&self) -> Option<InitializeResult> {
        self.initialize_result()
            .and_then(|v| serde_json::from_value(v).ok())
    }

    /// `ping`.
    pub async fn ping(&self, opts: CallOptions) -> Result<EmptyResult, ErrorObject> {
        self.typed::<rpc::Ping>(None, opts).await
    }

    /// `tools/list` (one page; pass the previous `nextCursor` for the next). The tools' output
    /// schemas are cached for [`Client::call_tool`]'s check.
    pub async fn list_tools(
        &self,
        cursor: Option<&str>,
        opts: CallOptions,
    ) -> Result<ListToolsResult, ErrorObject> {
        let page = self
            .typed::<rpc::ListTools>(cursor_params(cursor), opts)
            .await?;
        self.output_schemas(|s| s.record(&page.tools));
        Ok(page)
    }

    /// `tools/call`. A tool failure is a result with `isError: true`, not an `Err`.
    ///
    /// A successful result is checked against the tool's `outputSchema`, as the reference
    /// client does ([`mcp_sse_core::session::OutputSchemas`]): the first call of a tool whose
    /// schema is not cached lists the tools once (following `nextCursor` until it is found);
    /// structured content that violates the schema, or is missing when a schema is declared,
    /// is an `Err` ([`mcp_sse_core::session::OutputSchemaError`] as `-32603`). A listing that
    /// fails leaves the result unchecked (the reference fails the call with the listing's error).
    pub async fn call_tool(
        &self,
        params: &CallToolRequestParams,
        opts: CallOptions,
    ) -> Result<CallToolResult, ErrorObject> {
        let list_opts = CallOptions {
            timeout: opts.timeout,
            progress: None,
        };
        let result = self
            .typed::<rpc::CallTool>(to_params(params)?, opts)
            .await?;
        let name = params.name.as_str();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        while self.output_schemas(|s| s.needs_list(name, &result)) {
            pages += 1;
            let page = match self.list_tools(cursor.as_deref(), list_opts.clone()).await {
                Ok(page) if pages < MAX_IMPLICIT_LIST_PAGES => page,
                _ => {
                    self.output_schemas(|s| s.mark_unlisted(name));
                    break;
                }
            };
            match page.next_cursor {
                Some(next) => cursor = Some(next.0),
                None => {
                    self.output_schemas(|s| s.mark_unlisted(name));
                    break;
                }
            }
        }
        self.output_schemas(|s| s.check(name, &result))?;
        Ok(result)
    }

    /// `resources/list`.
    pub async fn list_resources(
        &self,
        cursor: Option<&str>,
        opts: CallOptions,
    ) -> Result<ListResourcesResult, ErrorObject> {
        self.typed::<rpc::ListResources>(cursor_params(cursor), opts)
            .await
    }

    /// `resources/templates/list`.
    pub async fn list_resource_templates(
        &self,
        cursor: Option<&str>,
        opts: CallOptions,
    ) -> Result<ListResourceTemplatesResult, ErrorObject> {
        self.typed::<rpc::ListResourceTemplates>(cursor_params(cursor), opts)
            .await
    }

    /// `resources/read`.
    pub async fn read_resource(
        &self,
        uri: &str,
        opts: CallOptions,
    ) -> Result<ReadResourceResult, ErrorObject> {
        self.typed::<rpc::ReadResource>(to_params(&ResourceRequestParams::new(uri))?, opts)
            .await
    }

    /// `resources/subscribe`.
    pub async fn subscribe(
        &self,
        uri: &str,
        opts: CallOptions,
    ) -> Result<EmptyResult, ErrorObject> {
        self.typed::<rpc::Subscribe>(to_params(&ResourceRequestParams::new(uri))?, opts)
            .await
    }

    /// `resources/unsubscribe`.
    pub async fn unsubscribe(
        &self,
        uri: &str,
        opts: CallOptions,
    ) -> Result<EmptyResult, ErrorObject> {
        self.typed::<rpc::Unsubscribe>(to_params(&ResourceRequestParams::new(uri))?, opts)
            .await
    }

    /// `prompts/list`.
    pub async fn list_prompts(
        &self,
        cursor: Option<&str>,
        opts: CallOptions,
    ) -> Result<ListPromptsResult, ErrorObject> {
        self.typed::<rpc::ListPrompts>(cursor_params(cursor), opts)
            .await
    }

    /// `prompts/get`.
    pub async fn get_prompt(
        &self,
        params: &GetPromptRequestParams,
        opts: CallOptions,
    ) -> Result<GetPromptResult, ErrorObject> {
        self.typed::<rpc::GetPrompt>(to_params(params)?, opts).await
    }

    /// `completion/complete`.
    pub async fn complete(
        &self,
        params: &CompleteRequestParams,
        opts: CallOptions,
    ) -> Result<CompleteResult, ErrorObject> {
        self.typed::<rpc::Complete>(to_params(params)?, opts).await
    }

    /// `logging/setLevel`.
    pub async fn set_logging_level(
        &self,
        level: LoggingLevel,
        opts: CallOptions,
    ) -> Result<EmptyResult, ErrorObject> {
        self.typed::<rpc::SetLevel>(to_params(&SetLevelRequestParams::new(level))?, opts)
            .await
    }

    /// `notifications/roots/list_changed`.
    pub async fn roots_list_changed(&self) -> Result<(), ErrorObject> {
        self.notify(rpc::RootsListChanged::METHOD, None).await
    }
}
