//! TLS for `https://` URLs and TLS servers, written once for every runtime on rustls' sans-IO
//! connection: a [`Connection`] in, a [`Connection`] of plaintext out. The handshake runs as the
//! two halves are used (the first write sends the `ClientHello`, the reader answers the
//! server's flights), so wrapping never blocks an accept loop.
//!
//! ```
//! use mcp_sse_glue::tls::TlsClient;
//! let trust = TlsClient::webpki();               // the default: webpki-roots
//! assert!(TlsClient::with_extra_roots_pem(b"not a certificate").is_err());
//! # let _ = trust;
//! ```
//!
//! Failures are typed ([`TlsFailure`]) and travel inside the [`io::Error`]s of the wrapped
//! halves; [`tls_failure`] takes them out again.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use mcp_sse_core::transport::TlsFailure;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::io::{ByteRead, ByteWrite, Connection};
use crate::rt::BoxFuture;

/// Why TLS could not be set up (bad PEM, no certificate, a name rustls cannot use).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A PEM input held no usable item of the kind needed.
    #[error("{what}: {detail}")]
    Pem {
        /// What was being read (`CA certificates`, `certificate chain`, `private key`).
        what: &'static str,
        /// Why it failed.
        detail: String,
    },
    /// rustls refused the configuration (e.g. a key that does not match the certificate).
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    /// The host of the URL is not a valid TLS server name.
    #[error("{0:?} is not a valid TLS server name")]
    ServerName(String),
    /// The platform's certificate store could not be read.
    #[error("the platform certificate store: {0}")]
    NativeRoots(String),
}

/// Client-side TLS settings: which roots to trust. ALPN is `http/1.1`. Cheap to clone.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient").finish_non_exhaustive()
    }
}

impl Default for TlsClient {
    fn default() -> Self {
        TlsClient::webpki()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn webpki_store() -> rustls::RootCertStore {
    rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

impl TlsClient {
    /// Trusts the Mozilla roots shipped in `webpki-roots`.
    pub fn webpki() -> Self {
        Self::with_roots(webpki_store())
            .expect("ring supports rustls' default protocol versions, so this config builds")
    }

    /// Trusts the `webpki-roots` and every certificate in `pem` (e.g. a private CA).
    pub fn with_extra_roots_pem(pem: &[u8]) -> Result<Self, TlsSetupError> {
        let mut roots = webpki_store();
        add_pem_roots(&mut roots, pem)?;
        Self::with_roots(roots)
    }

    /// Trusts only the certificates in `pem` (tests, closed deployments).
    pub fn with_only_roots_pem(pem: &[u8]) -> Result<Self, TlsSetupError> {
        let mut roots = rustls::RootCertStore::empty();
        add_pem_roots(&mut roots, pem)?;
        Self::with_roots(roots)
    }

    /// Trusts the platform's certificate store as well as the `webpki-roots`.
    #[cfg(feature = "native-roots")]
    pub fn with_native_roots() -> Result<Self, TlsSetupError> {
        let mut roots = webpki_store();
        let found = rustls_native_certs::load_native_certs();
        if found.certs.is_empty() {
            if let Some(e) = found.errors.first() {
                return Err(TlsSetupError::NativeRoots(e.to_string()));
            }
        }
        let _ = roots.add_parsable_certificates(found.certs);
        Self::with_roots(roots)
    }

    /// Uses a rustls configuration as it is (client certificates, pinned roots, …).
    pub fn from_config(config: Arc<rustls::ClientConfig>) -> Self {
        TlsClient { config }
    }

    fn with_roots(roots: rustls::RootCertStore) -> Result<Self, TlsSetupError> {
        let mut config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsClient {
            config: Arc::new(config),
        })
    }

    /// Wraps `conn` (a fresh connection to the server) in TLS for `server_name` (SNI and
    /// certificate verification).
    pub fn wrap(&self, conn: Connection, server_name: &str) -> Result<Connection, TlsSetupError> {
        let name = ServerName::try_from(server_name.to_string())
            .map_err(|_| TlsSetupError::ServerName(server_name.to_string()))?;
        let tls = rustls::ClientConnection::new(self.config.clone(), name)?;
        Ok(wrap(
            conn,
            rustls::Connection::Client(tls),
            Some(server_name),
        ))
    }
}

fn add_pem_roots(roots: &mut rustls::RootCertStore, pem: &[u8]) -> Result<(), TlsSetupError> {
    let bad = |detail: String| TlsSetupError::Pem {
        what: "CA certificates",
        detail,
    };
    let mut n = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
        n += 1;
    }
    if n == 0 {
        return Err(bad("no CERTIFICATE block found".into()));
    }
    Ok(())
}

/// Server-side TLS settings: the certificate chain and key. ALPN offers `http/1.1`.
#[derive(Clone)]
pub struct TlsServer {
    config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer").finish_non_exhaustive()
    }
}

impl TlsServer {
    /// A server presenting the PEM certificate chain `cert_pem` (leaf first) with the PEM
    /// private key `key_pem` (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsSetupError> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| TlsSetupError::Pem {
                what: "certificate chain",
                detail: e.to_string(),
            })?;
        if chain.is_empty() {
            return Err(TlsSetupError::Pem {
                what: "certificate chain",
                detail: "no CERTIFICATE block found".into(),
            });
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsSetupError::Pem {
            what: "private key",
            detail: e.to_string(),
        })?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsServer {
            config: Arc::new(config),
        })
    }

    /// Uses a rustls configuration as it is (client authentication, several certificates, …).
    pub fn from_config(config: Arc<rustls::ServerConfig>) -> Self {
        TlsServer { config }
    }

    /// Wraps an accepted connection in TLS.
    pub fn wrap(&self, conn: Connection) -> Result<Connection, TlsSetupError> {
        let tls = rustls::ServerConnection::new(self.config.clone())?;
        Ok(wrap(conn, rustls::Connection::Server(tls), None))
    }
}

/// The [`TlsFailure`] carried by an error of a wrapped connection, if it is one.
pub fn tls_failure(e: &io::Error) -> Option<TlsFailure> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsFailure>())
        .cloned()
}

fn failure(f: TlsFailure) -> io::Error {
    io::Error::other(f)
}

/// How rustls' verdict reads to a user.
fn classify(e: &rustls::Error, server_name: Option<&str>) -> TlsFailure {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer | C::BadSignature | C::UnknownRevocationStatus => {
                TlsFailure::UntrustedCertificate(e.to_string())
            }
            C::Expired
            | C::NotValidYet
            | C::ExpiredContext { .. }
            | C::NotValidYetContext { .. } => TlsFailure::Expired(e.to_string()),
            C::NotValidForName | C::NotValidForNameContext { .. } => TlsFailure::NameMismatch {
                name: server_name.unwrap_or_default().to_string(),
                detail: e.to_string(),
            },
            _ => TlsFailure::UntrustedCertificate(e.to_string()),
        },
        other => TlsFailure::Handshake(other.to_string()),
    }
}

struct State {
    conn: rustls::Connection,
    /// The server name verified (client side), for error messages.
    server_name: Option<String>,
    /// The first failure; every later call reports it again.
    failed: Option<TlsFailure>,
    /// Bytes came from the peer (a plain-HTTP answer is recognized in the first ones).
    received: bool,
}

struct Shared {
    state: Mutex<State>,
    /// The raw writer. Taken before the records to write are, so the records of two writers
    /// (the reader answering a handshake flight, the writer sending data) keep their order.
    raw_writer: async_lock::Mutex<Box<dyn ByteWrite>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        crate::locked::relock(&self.state)
    }

    /// Writes every TLS record rustls has ready.
    async fn flush(&self) -> io::Result<()> {
        let mut raw = self.raw_writer.lock().await;
        loop {
            let out = {
                let mut st = self.lock();
                if !st.conn.wants_write() {
                    return Ok(());
                }
                let mut out = Vec::new();
                while st.conn.wants_write() {
                    st.conn.write_tls(&mut out)?;
                }
                out
            };
            raw.write(vec![Bytes::from(out)]).await?;
        }
    }
}

fn wrap(conn: Connection, tls: rustls::Connection, server_name: Option<&str>) -> Connection {
    let (raw_reader, raw_writer) = conn;
    let mut tls = tls;
    // What rustls holds is bounded by what the caller gives it, and the callers (the transport
    // machines) bound their output; a limit here would only stall a handshake.
    tls.set_buffer_limit(None);
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            conn: tls,
            server_name: server_name.map(str::to_string),
            failed: None,
            received: false,
        }),
        raw_writer: async_lock::Mutex::new(raw_writer),
    });
    (
        Box::new(TlsRead {
            shared: shared.clone(),
            raw: raw_reader,
            leftover: Bytes::new(),
        }),
        Box::new(TlsWrite { shared }),
    )
}

struct TlsRead {
    shared: Arc<Shared>,
    raw: Box<dyn ByteRead>,
    /// Received bytes rustls has not taken yet (it takes them as its plaintext buffer drains).
    leftover: Bytes,
}

/// What one step of reading found.
enum Step {
    Plaintext(Bytes),
    End,
    NeedBytes,
}

impl TlsRead {
    /// Hands rustls what is left over, then returns plaintext if any is ready.
    fn step(&mut self) -> io::Result<Step> {
        let mut st = self.shared.lock();
        if let Some(f) = &st.failed {
            return Err(failure(f.clone()));
        }
        loop {
            let io_state = match st.conn.process_new_packets() {
                Ok(s) => s,
                Err(e) => {
                    let f = classify(&e, st.server_name.as_deref());
                    st.failed = Some(f.clone());
                    return Err(failure(f));
                }
            };
            let pending = io_state.plaintext_bytes_to_read();
            if pending > 0 {
                let mut buf = vec![0u8; pending];
                let n = st.conn.reader().read(&mut buf)?;
                buf.truncate(n);
                return Ok(Step::Plaintext(Bytes::from(buf)));
            }
            if io_state.peer_has_closed() {
                return Ok(Step::End);
            }
            if self.leftover.is_empty() {
                return Ok(Step::NeedBytes);
            }
            let mut rd: &[u8] = &self.leftover;
            let taken = st.conn.read_tls(&mut rd)?;
            let rest = self.leftover.len() - taken;
            self.leftover = self.leftover.split_off(self.leftover.len() - rest);
        }
    }
}

impl ByteRead for TlsRead {
    fn read(&mut self) -> BoxFuture<'_, io::Result<Option<Bytes>>> {
        Box::pin(async move {
            loop {
                match self.step()? {
                    Step::Plaintext(b) => return Ok(Some(b)),
                    Step::End => return Ok(None),
                    Step::NeedBytes => {}
                }
                // Answer what the peer's flight asks for (handshake, key updates, alerts).
                self.shared.flush().await?;
                match self.raw.read().await? {
                    Some(bytes) => {
                        // What the first bytes say about the peer, decided under the lock.
                        let verdict = {
                            let mut st = self.shared.lock();
                            let first = !st.received && st.conn.is_handshaking();
                            st.received = true;
                            if first && st.server_name.is_some() && bytes.starts_with(b"HTTP/") {
                                st.failed = Some(TlsFailure::NotTls);
                                Some(false)
                            } else if first && st.server_name.is_none() && looks_like_http(&bytes) {
                                st.failed = Some(TlsFailure::NotTls);
                                Some(true)
                            } else {
                                None
                            }
                        };
                        match verdict {
                            None => self.leftover = bytes,
                            Some(answer) => {
                                if answer {
                                    // A plain-HTTP client on a TLS port: tell it so in its own
                                    // terms (as nginx does), then close.
                                    let mut raw = self.shared.raw_writer.lock().await;
                                    let answer = Bytes::from_static(PLAIN_HTTP_ANSWER);
                                    let _ = raw.write(vec![answer]).await;
                                    let _ = raw.close().await;
                                }
                                return Err(failure(TlsFailure::NotTls));
                            }
                        }
                    }
                    None => {
                        let st = self.shared.lock();
                        if st.conn.is_handshaking() {
                            return Err(failure(TlsFailure::Handshake(
                                "the peer closed the connection during the TLS handshake".into(),
                            )));
                        }
                        // An end without close_notify: the layers above judge a cut stream.
                        return Ok(None);
                    }
                }
            }
        })
    }
}

/// The answer a TLS server gives a plain-HTTP request before closing.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 59\r\nconnection: close\r\n\r\nThis server speaks HTTPS: use an https:// URL for this port";

/// Whether the first bytes from a client are a plain HTTP request line.
fn looks_like_http(first: &[u8]) -> bool {
    [
        "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ",
    ]
    .iter()
    .any(|m| first.starts_with(m.as_bytes()))
}

struct TlsWrite {
    shared: Arc<Shared>,
}

impl ByteWrite for TlsWrite {
    fn write(&mut self, bufs: Vec<Bytes>) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            {
                let mut st = self.shared.lock();
                if let Some(f) = &st.failed {
                    return Err(failure(f.clone()));
                }
                for b in &bufs {
                    st.conn.writer().write_all(b)?;
                }
            }
            self.shared.flush().await
        })
    }

    fn close(&mut self) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            self.shared.lock().conn.send_close_notify();
            let _ = self.shared.flush().await;
            self.shared.raw_writer.lock().await.close().await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_errors_are_typed() {
        assert!(matches!(
            TlsClient::with_extra_roots_pem(b"-----BEGIN NOTHING-----\n"),
            Err(TlsSetupError::Pem {
                what: "CA certificates",
                ..
            })
        ));
        assert!(matches!(
            TlsServer::from_pem(b"", b""),
            Err(TlsSetupError::Pem {
                what: "certificate chain",
                ..
            })
        ));
        let (a, _b) = crate::io::duplex();
        assert!(matches!(
            TlsClient::webpki().wrap(a, "not a name!"),
            Err(TlsSetupError::ServerName(_))
        ));
    }

    #[test]
    fn failures_travel_in_io_errors() {
        let e = failure(TlsFailure::NotTls);
        assert_eq!(tls_failure(&e), Some(TlsFailure::NotTls));
        assert_eq!(tls_failure(&io::Error::other("x")), None);
        let name = classify(
            &rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName),
            Some("h"),
        );
        assert!(matches!(name, TlsFailure::NameMismatch { .. }));
        assert!(looks_like_http(b"GET /sse HTTP/1.1\r\n") && !looks_like_http(&[0x16, 3, 1]));
    }
}
