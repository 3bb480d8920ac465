//! DNS-rebinding protection: Host and Origin allow-lists (the reference's
//! `TransportSecuritySettings`), and the [`Security`] policy a server derives them from.

use std::net::{IpAddr, SocketAddr};

/// Where a server's DNS-rebinding protection comes from.
///
/// The default derives it from the address the server listens on, so a server is never
/// unprotected unless its caller says so:
///
/// ```
/// use std::net::SocketAddr;
/// use mcp_sse_core::transport::{Security, SecuritySettings};
/// let loopback: SocketAddr = "127.0.0.1:8000".parse().unwrap();
/// let wildcard: SocketAddr = "0.0.0.0:8000".parse().unwrap();
/// assert!(Security::default().resolve(Some(loopback)).dns_rebinding_protection);
/// assert!(!Security::default().resolve(Some(wildcard)).dns_rebinding_protection);
/// // Not bound to any address (in process, or an embedding that did not say): on.
/// assert!(Security::default().resolve(None).dns_rebinding_protection);
/// // Off only when asked for.
/// assert_eq!(Security::disabled().resolve(Some(loopback)), SecuritySettings::disabled());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Security {
    /// Derived from the listening address with [`SecuritySettings::for_bind_addr`]: on, with the
    /// loopback names, for a loopback address; off for a wildcard or other address, as the
    /// reference's `sse_app(host=…)` does. A server with no listening address (in process, or a
    /// sans-IO embedding that did not give one) is treated as loopback: on.
    #[default]
    FromBindAddress,
    /// Exactly these settings, whatever the address ([`Security::disabled`] turns the checks
    /// off).
    Explicit(SecuritySettings),
}

impl Security {
    /// Protection off, explicitly: every Host and Origin is accepted.
    pub fn disabled() -> Self {
        Security::Explicit(SecuritySettings::disabled())
    }

    /// The settings in force for a server listening on `bind` (`None`: no listening address).
    pub fn resolve(&self, bind: Option<SocketAddr>) -> SecuritySettings {
        match self {
            Security::Explicit(settings) => settings.clone(),
            Security::FromBindAddress => match bind {
                Some(addr) => SecuritySettings::for_bind_addr(addr.ip()),
                None => SecuritySettings::for_bind_host("127.0.0.1"),
            },
        }
    }
}

impl From<SecuritySettings> for Security {
    fn from(settings: SecuritySettings) -> Self {
        Security::Explicit(settings)
    }
}

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

    /// [`for_bind_host`](Self::for_bind_host) for an address: on for every loopback address
    /// (`127.0.0.0/8`, `::1`), with that address allowed beside the loopback names; off for a
    /// wildcard (`0.0.0.0`, `::`) or any other address.
    ///
    /// ```
    /// use mcp_sse_core::transport::SecuritySettings;
    /// let s = SecuritySettings::for_bind_addr("127.0.0.2".parse().unwrap());
    /// assert!(s.check(Some("127.0.0.2:9000"), None).is_ok());
    /// assert!(s.check(Some("localhost:9000"), None).is_ok());
    /// assert!(s.check(Some("evil.example:80"), None).is_err());
    /// assert!(!SecuritySettings::for_bind_addr("::".parse().unwrap()).dns_rebinding_protection);
    /// ```
    pub fn for_bind_addr(ip: IpAddr) -> Self {
        if !ip.is_loopback() {
            return SecuritySettings::disabled();
        }
        let mut s = SecuritySettings::for_bind_host("127.0.0.1");
        let name = match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        let host = format!("{name}:*");
        if !s.allowed_hosts.contains(&host) {
            s.allowed_origins.push(format!("http://{host}"));
            s.allowed_hosts.push(host);
        }
        s
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
