//! DNS-rebinding protection: Host and Origin allow-lists (the reference's
//! `TransportSecuritySettings`).

/// Why a request was refused by [`SecuritySettings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecurityError {
    /// The `Host` header is missing or not in the allow-list (HTTP 421).
    #[error("Invalid Host header")]
    InvalidHost,
    /// The `Origin` header is present and not in the allow-list (HTTP 403).
    #[error("Invalid Origin header")]
    InvalidOrigin,
}

impl SecurityError {
    /// The HTTP status the reference answers with.
    pub fn status(self) -> u16 {
        match self {
            SecurityError::InvalidHost => 421,
            SecurityError::InvalidOrigin => 403,
        }
    }
}

/// Host/Origin allow-lists.
///
/// An entry is matched exactly, or, when it ends in `:*`, as a prefix `base:` followed by any
/// port. A `Host` without a port (`localhost`) does not match `localhost:*`.
///
/// ```
/// use mcp_sse_core::transport::{SecuritySettings, SecurityError};
/// let s = SecuritySettings::for_bind_host("127.0.0.1");
/// assert!(s.dns_rebinding_protection);
/// assert_eq!(s.check(Some("127.0.0.1:8000"), None), Ok(()));
/// assert_eq!(s.check(Some("evil.com"), None), Err(SecurityError::InvalidHost));
/// assert_eq!(s.check(Some("localhost:1"), Some("http://evil.com")), Err(SecurityError::InvalidOrigin));
/// assert!(SecuritySettings::disabled().check(None, Some("x")).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecuritySettings {
    /// Whether the Host/Origin checks run at all.
    pub dns_rebinding_protection: bool,
    /// Allowed `Host` header values (`name:port` or `name:*`).
    pub allowed_hosts: Vec<String>,
    /// Allowed `Origin` header values (`scheme://name:port` or `scheme://name:*`).
    pub allowed_origins: Vec<String>,
}

impl SecuritySettings {
    /// Protection off: every Host and Origin is accepted.
    pub fn disabled() -> Self {
        SecuritySettings::default()
    }

    /// The reference's default for `MCPServer.sse_app(host=...)`: on, with the loopback names,
    /// when the server binds `127.0.0.1`, `localhost` or `::1`; off otherwise.
    pub fn for_bind_host(host: &str) -> Self {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if matches!(host, "127.0.0.1" | "localhost" | "::1") {
            SecuritySettings {
                dns_rebinding_protection: true,
                allowed_hosts: vec!["127.0.0.1:*".into(), "localhost:*".into(), "[::1]:*".into()],
                allowed_origins: vec![
                    "http://127.0.0.1:*".into(),
                    "http://localhost:*".into(),
                    "http://[::1]:*".into(),
                ],
            }
        } else {
            SecuritySettings::disabled()
        }
    }

    /// Runs the Host check, then the Origin check, as the reference orders them.
    pub fn check(&self, host: Option<&str>, origin: Option<&str>) -> Result<(), SecurityError> {
        if !self.dns_rebinding_protection {
            return Ok(());
        }
        match host {
            Some(h) if matches_list(&self.allowed_hosts, h) => {}
            _ => return Err(SecurityError::InvalidHost),
        }
        match origin {
            None => Ok(()),
            Some(o) if matches_list(&self.allowed_origins, o) => Ok(()),
            Some(_) => Err(SecurityError::InvalidOrigin),
        }
    }
}

fn matches_list(list: &[String], value: &str) -> bool {
    list.iter().any(|entry| match entry.strip_suffix('*') {
        Some(base) if base.ends_with(':') => value.starts_with(base),
        _ => entry == value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_needs_a_port() {
        let s = SecuritySettings::for_bind_host("localhost");
        assert_eq!(
            s.check(Some("localhost"), None),
            Err(SecurityError::InvalidHost)
        );
        assert_eq!(s.check(None, None), Err(SecurityError::InvalidHost));
        assert_eq!(s.check(Some("[::1]:9"), Some("http://[::1]:9")), Ok(()));
        assert_eq!(
            s.check(Some("localhost:80"), Some("https://localhost:80")),
            Err(SecurityError::InvalidOrigin)
        );
    }

    #[test]
    fn exact_entries() {
        let s = SecuritySettings {
            dns_rebinding_protection: true,
            allowed_hosts: vec!["example.com".into()],
            allowed_origins: vec!["https://example.com".into()],
        };
        assert_eq!(
            s.check(Some("example.com"), Some("https://example.com")),
            Ok(())
        );
        assert_eq!(
            s.check(Some("example.com:1"), None),
            Err(SecurityError::InvalidHost)
        );
        assert!(!SecuritySettings::for_bind_host("0.0.0.0").dns_rebinding_protection);
    }
}
