//! Typed client methods: one per MCP request, with the types of [`mcp_sse_core::mcp`].
//!
//! Each returns a [`Call`]: `.await` it as it is (the client's [`ClientOptions::read_timeout`]
//! applies), or set this call's options first (`.timeout(..)`, `.progress(..)`,
//! `.options(..)`).
//!
//! [`ClientOptions::read_timeout`]: crate::ClientOptions::read_timeout

use std::future::{Future, IntoFuture};
use std::time::Duration;

use mcp_sse_core::mcp::rpc::{self, NotificationMethod, RequestMethod};
use mcp_sse_core::mcp::{
    CallToolRequestParams, CallToolResult, CompleteRequestParams, CompleteResult, EmptyResult,
    GetPromptRequestParams, GetPromptResult, InitializeResult, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, LoggingLevel,
    ReadResourceResult, ResourceRequestParams, SetLevelRequestParams,
};
use mcp_sse_core::session::RequestError as Error;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::client::{CallOptions, Client};
use crate::rt::BoxFuture;

fn to_params<T: Serialize>(method: &str, params: &T) -> Result<Option<Map<String, Value>>, Error> {
    let encode = |message: String| Error::Encode {
        method: method.to_string(),
        message,
    };
    match serde_json::to_value(params).map_err(|e| encode(e.to_string()))? {
        Value::Object(m) => Ok(Some(m)),
        Value::Null => Ok(None),
        _ => Err(encode("params must serialize to an object".into())),
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

type Run<'a, T> = Box<dyn FnOnce(CallOptions) -> BoxFuture<'a, Result<T, Error>> + Send + 'a>;

/// One typed request, not sent yet: `.await` it (with the client's defaults), or set this call's
/// options first. Dropping the running future cancels the request.
///
/// ```no_run
/// # async fn f(client: mcp_sse_glue::Client) -> Result<(), mcp_sse_glue::Error> {
/// use std::time::Duration;
/// use mcp_sse_glue::core::mcp::CallToolRequestParams;
///
/// let params = CallToolRequestParams::new("add").with_argument("a", 1).with_argument("b", 2);
/// let quick = client.call_tool(&params).await?;
/// let slow = client
///     .call_tool(&params)
///     .timeout(Duration::from_secs(60))
///     .progress(|done, total, _message| eprintln!("{done}/{total:?}"))
///     .await?;
/// # let _ = (quick, slow); Ok(()) }
/// ```
#[must_use = "a Call does nothing until it is awaited"]
pub struct Call<'a, T> {
    opts: CallOptions,
    run: Run<'a, T>,
}

impl<T> std::fmt::Debug for Call<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl<'a, T: 'a> Call<'a, T> {
    fn new<F>(run: impl FnOnce(CallOptions) -> F + Send + 'a) -> Self
    where
        F: Future<Output = Result<T, Error>> + Send + 'a,
    {
        Call {
            opts: CallOptions::default(),
            run: Box::new(move |opts| Box::pin(run(opts))),
        }
    }

    /// This call's timeout, instead of [`ClientOptions::read_timeout`](crate::ClientOptions::read_timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.timeout = Some(timeout);
        self
    }

    /// Receives this call's progress notifications as `(progress, total, message)` (and asks
    /// for them: a `progressToken` goes out).
    pub fn progress(
        mut self,
        callback: impl Fn(f64, Option<f64>, Option<String>) + Send + Sync + 'static,
    ) -> Self {
        self.opts.progress = Some(std::sync::Arc::new(callback));
        self
    }

    /// All of this call's options at once (replacing any set before).
    pub fn options(mut self, opts: CallOptions) -> Self {
        self.opts = opts;
        self
    }
}

impl<'a, T: 'a> IntoFuture for Call<'a, T> {
    type Output = Result<T, Error>;
    type IntoFuture = BoxFuture<'a, Result<T, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        (self.run)(self.opts)
    }
}

impl Client {
    async fn typed<R: RequestMethod>(
        &self,
        params: Option<Map<String, Value>>,
        opts: CallOptions,
    ) -> Result<R::Result, Error> {
        let v = self.request(R::METHOD, params, opts).await?;
        serde_json::from_value(v).map_err(|e| Error::Decode {
            method: R::METHOD.to_string(),
            message: e.to_string(),
        })
    }

    fn call<'a, R: RequestMethod + 'a>(
        &'a self,
        params: impl FnOnce() -> Result<Option<Map<String, Value>>, Error> + Send + 'a,
    ) -> Call<'a, R::Result>
    where
        R::Result: Send,
    {
        Call::new(move |opts| async move { self.typed::<R>(params()?, opts).await })
    }

    /// The server's `initialize` result, typed.
    pub fn server_info(&self) -> Option<InitializeResult> {
        self.initialize_result()
            .and_then(|v| serde_json::from_value(v).ok())
    }

    /// `ping`.
    pub fn ping(&self) -> Call<'_, EmptyResult> {
        self.call::<rpc::Ping>(|| Ok(None))
    }

    /// `tools/list` (one page; pass the previous `nextCursor` for the next). The tools' output
    /// schemas are cached for [`Client::call_tool`]'s check.
    pub fn list_tools<'a>(&'a self, cursor: Option<&'a str>) -> Call<'a, ListToolsResult> {
        Call::new(move |opts| self.list_tools_now(cursor, opts))
    }

    async fn list_tools_now(
        &self,
        cursor: Option<&str>,
        opts: CallOptions,
    ) -> Result<ListToolsResult, Error> {
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
    /// is [`Error::OutputSchema`]. A listing that fails leaves the result unchecked (the
    /// reference fails the call with the listing's error).
    pub fn call_tool<'a>(&'a self, params: &'a CallToolRequestParams) -> Call<'a, CallToolResult> {
        Call::new(move |opts| self.call_tool_now(params, opts))
    }

    async fn call_tool_now(
        &self,
        params: &CallToolRequestParams,
        opts: CallOptions,
    ) -> Result<CallToolResult, Error> {
        let list_opts = CallOptions {
            timeout: opts.timeout,
            progress: None,
        };
        let result = self
            .typed::<rpc::CallTool>(to_params(rpc::CallTool::METHOD, params)?, opts)
            .await?;
        let name = params.name.as_str();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        while self.output_schemas(|s| s.needs_list(name, &result)) {
            pages += 1;
            let page = match self
                .list_tools_now(cursor.as_deref(), list_opts.clone())
                .await
            {
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
    pub fn list_resources<'a>(&'a self, cursor: Option<&'a str>) -> Call<'a, ListResourcesResult> {
        self.call::<rpc::ListResources>(move || Ok(cursor_params(cursor)))
    }

    /// `resources/templates/list`.
    pub fn list_resource_templates<'a>(
        &'a self,
        cursor: Option<&'a str>,
    ) -> Call<'a, ListResourceTemplatesResult> {
        self.call::<rpc::ListResourceTemplates>(move || Ok(cursor_params(cursor)))
    }

    /// `resources/read`.
    pub fn read_resource<'a>(&'a self, uri: &'a str) -> Call<'a, ReadResourceResult> {
        self.call::<rpc::ReadResource>(move || {
            to_params(rpc::ReadResource::METHOD, &ResourceRequestParams::new(uri))
        })
    }

    /// `resources/subscribe`.
    pub fn subscribe<'a>(&'a self, uri: &'a str) -> Call<'a, EmptyResult> {
        self.call::<rpc::Subscribe>(move || {
            to_params(rpc::Subscribe::METHOD, &ResourceRequestParams::new(uri))
        })
    }

    /// `resources/unsubscribe`.
    pub fn unsubscribe<'a>(&'a self, uri: &'a str) -> Call<'a, EmptyResult> {
        self.call::<rpc::Unsubscribe>(move || {
            to_params(rpc::Unsubscribe::METHOD, &ResourceRequestParams::new(uri))
        })
    }

    /// `prompts/list`.
    pub fn list_prompts<'a>(&'a self, cursor: Option<&'a str>) -> Call<'a, ListPromptsResult> {
        self.call::<rpc::ListPrompts>(move || Ok(cursor_params(cursor)))
    }

    /// `prompts/get`.
    pub fn get_prompt<'a>(
        &'a self,
        params: &'a GetPromptRequestParams,
    ) -> Call<'a, GetPromptResult> {
        self.call::<rpc::GetPrompt>(move || to_params(rpc::GetPrompt::METHOD, params))
    }

    /// `completion/complete`.
    pub fn complete<'a>(&'a self, params: &'a CompleteRequestParams) -> Call<'a, CompleteResult> {
        self.call::<rpc::Complete>(move || to_params(rpc::Complete::METHOD, params))
    }

    /// `logging/setLevel`.
    pub fn set_logging_level(&self, level: LoggingLevel) -> Call<'_, EmptyResult> {
        self.call::<rpc::SetLevel>(move || {
            to_params(rpc::SetLevel::METHOD, &SetLevelRequestParams::new(level))
        })
    }

    /// `notifications/roots/list_changed`.
    pub async fn roots_list_changed(&self) -> Result<(), Error> {
        self.notify(rpc::RootsListChanged::METHOD, None).await
    }
}
