//! CORS for browser clients: which origins may read the server's answers, and the preflight
//! of the SSE and message paths. Nothing is added to any answer when it is not configured,
//! which keeps the bytes equal to the reference's.
//!
//! ```
//! use mcp_sse_core::transport::CorsConfig;
//! let cors = CorsConfig::new(["https://app.example"]);
//! assert!(cors.allows("https://app.example"));
//! assert!(!cors.allows("https://evil.example"));
//! assert!(CorsConfig::new(["*"]).allows("https://anything.example"));
//! ```

use std::time::Duration;

/// Default `Access-Control-Max-Age` of a preflight answer.
pub const DEFAULT_CORS_MAX_AGE: Duration = Duration::from_secs(600);

/// CORS settings of a server ([`ServerConfig::cors`](super::ServerConfig::cors)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsConfig {
    /// Origins allowed to read the answers (`scheme://host[:port]`, matched exactly), or `*`.
    pub allowed_origins: Vec<String>,
    /// Request headers a browser may send (`Access-Control-Allow-Headers`).
    pub allowed_headers: Vec<String>,
    /// How long a browser may cache a preflight answer.
    pub max_age: Duration,
}

impl CorsConfig {
    /// `origins` allowed, with the headers MCP clients send (`Content-Type`, `Authorization`,
    /// `Accept`, `Cache-Control`, `Last-Event-ID`, `MCP-Protocol-Version`).
    pub fn new<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CorsConfig {
            allowed_origins: origins.into_iter().map(Into::into).collect(),
            allowed_headers: [
                "Content-Type",
                "Authorization",
                "Accept",
                "Cache-Control",
                "Last-Event-ID",
                "MCP-Protocol-Version",
            ]
            .iter()
            .map(|h| h.to_string())
            .collect(),
            max_age: DEFAULT_CORS_MAX_AGE,
        }
    }

    /// Whether `origin` may read the answers.
    pub fn allows(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    }

    /// The headers every answer to an allowed `origin` carries.
    pub(super) fn answer_headers(&self, origin: &str) -> Vec<(&'static str, String)> {
        vec![
            ("access-control-allow-origin", origin.to_string()),
            ("vary", "Origin".to_string()),
        ]
    }

    /// The headers of a preflight answer for an allowed `origin` on a path that takes
    /// `methods`.
    pub(super) fn preflight_headers(
        &self,
        origin: &str,
        methods: &'static str,
    ) -> Vec<(&'static str, String)> {
        let mut h = self.answer_headers(origin);
        h.push(("access-control-allow-methods", methods.to_string()));
        h.push((
            "access-control-allow-headers",
            self.allowed_headers.join(", "),
        ));
        h.push(("access-control-max-age", self.max_age.as_secs().to_string()));
        h
    }
}
