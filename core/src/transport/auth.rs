//! Authentication of the server's requests: a hook from the request head (its
//! `Authorization` header) to a [`Principal`] or a rejection, and the session-owner rule of
//! the POST table's row 9 (a session belongs to the credential that opened it).
//!
//! ```
//! use mcp_sse_core::http::RequestHead;
//! use mcp_sse_core::transport::{Authenticate, BearerToken};
//! let check = BearerToken::new("s3cret");
//! let mut head = RequestHead::new("GET", "/sse");
//! assert!(check.authenticate(&head).is_err());
//! head.headers.push("Authorization", "Bearer s3cret");
//! assert_eq!(check.authenticate(&head).unwrap().0, "bearer");
//! ```

use std::sync::Arc;

use crate::http::RequestHead;

/// Who made a request, as an [`Authenticate`] hook decided: an opaque identity (a user id, a
/// token's subject). A session may be used only by the principal that opened it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal(pub String);

/// Why a request was refused (answered `401` with a `WWW-Authenticate: Bearer` challenge, as
/// the reference's `RequireAuthMiddleware` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthRejection {
    /// No credentials, or credentials the hook does not accept.
    #[error("Authentication required")]
    Unauthenticated,
}

/// The server's authentication hook. It is synchronous and pure, as the core is: a check that
/// needs I/O (token introspection) runs in front of the server, or from a cache the
/// application keeps up to date.
pub trait Authenticate: Send + Sync {
    /// The principal making the request `head`, or why it is refused.
    fn authenticate(&self, head: &RequestHead) -> Result<Principal, AuthRejection>;
}

/// The simplest hook: one static bearer token; every request that carries it is the principal
/// `bearer`.
#[derive(Clone)]
pub struct BearerToken {
    expected: String,
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerToken").finish_non_exhaustive()
    }
}

impl BearerToken {
    /// Accepts `Authorization: Bearer <token>` (the scheme case-insensitively).
    pub fn new(token: impl Into<String>) -> Self {
        BearerToken {
            expected: token.into(),
        }
    }
}

/// Compares without stopping at the first difference, so the time taken says nothing about
/// how much of a guess was right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Authenticate for BearerToken {
    fn authenticate(&self, head: &RequestHead) -> Result<Principal, AuthRejection> {
        let value = head
            .headers
            .get_str("authorization")
            .ok_or(AuthRejection::Unauthenticated)?;
        let (scheme, token) = value
            .split_once(' ')
            .ok_or(AuthRejection::Unauthenticated)?;
        if scheme.eq_ignore_ascii_case("bearer")
            && same_secret(token.trim().as_bytes(), self.expected.as_bytes())
        {
            Ok(Principal("bearer".into()))
        } else {
            Err(AuthRejection::Unauthenticated)
        }
    }
}

/// Authentication of a server ([`ServerConfig::auth`](super::ServerConfig::auth)).
#[derive(Clone)]
pub struct AuthConfig {
    /// The hook every GET and POST goes through.
    pub authenticator: Arc<dyn Authenticate>,
    /// The protected-resource metadata URL announced in the challenge (`resource_metadata=`,
    /// MCP 2025-11-25 authorization, RFC 9728), if any.
    pub resource_metadata: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("resource_metadata", &self.resource_metadata)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// `authenticator`, with no resource metadata.
    pub fn new(authenticator: impl Authenticate + 'static) -> Self {
        AuthConfig {
            authenticator: Arc::new(authenticator),
            resource_metadata: None,
        }
    }

    /// The `WWW-Authenticate` value of a `401`, as the reference builds it.
    pub(super) fn challenge(&self, rejection: AuthRejection) -> String {
        let mut v = format!(r#"Bearer error="invalid_token", error_description="{rejection}""#);
        if let Some(url) = &self.resource_metadata {
            v.push_str(&format!(r#", resource_metadata="{url}""#));
        }
        v
    }
}

/// The body of a `401` (Python's `json.dumps` of the reference's dict, spaces included).
pub(super) const UNAUTHENTICATED_BODY: &str =
    r#"{"error": "invalid_token", "error_description": "Authentication required"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_matched_exactly() {
        let check = BearerToken::new("t0k");
        let with = |v: &str| {
            let mut h = RequestHead::new("POST", "/messages/");
            h.headers.push("authorization", v.to_string());
            check.authenticate(&h)
        };
        assert!(with("Bearer t0k").is_ok());
        assert!(with("bearer t0k").is_ok());
        for bad in ["Bearer t0", "Bearer t0kk", "Basic t0k", "t0k", "Bearer "] {
            assert_eq!(with(bad), Err(AuthRejection::Unauthenticated), "{bad}");
        }
        let config = AuthConfig {
            resource_metadata: Some("https://a/.well-known/oauth-protected-resource".into()),
            ..AuthConfig::new(check.clone())
        };
        assert_eq!(
            config.challenge(AuthRejection::Unauthenticated),
            r#"Bearer error="invalid_token", error_description="Authentication required", resource_metadata="https://a/.well-known/oauth-protected-resource""#
        );
    }
}
