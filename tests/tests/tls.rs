//! TLS (issue 16), end to end on 127.0.0.1 with certificates the tests make: our client on an
//! `https://` URL against our server behind TLS, on both executors; then each bad case gets
//! its typed error: an untrusted (self-signed) certificate, a name mismatch, an expired
//! certificate, a plain-HTTP server on an `https` URL and the reverse, and a TLS server that
//! closes mid-handshake.
//!
//! Requirement ids: none of `sse-2025-11-25.csv` (TLS is below the transport's wire rules); the
//! MCP exchange over TLS is the same as in the interaction suite.

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

use mcp_sse_core::transport::{ClientConfig, ClientError, TlsFailure};
use mcp_sse_glue::tls::{TlsClient, TlsServer};
use mcp_sse_glue::{ClientOptions, ConnectError, ServerOptions};
use mcp_sse_tests::pki::{self, Leaf};
use mcp_sse_tests::{assert_echo, load, on_thread, serve_loopback, serve_tls, Exec, Transport};

fn trusting(ca_pem: &str) -> ClientOptions {
    ClientOptions {
        tls: Some(TlsClient::with_only_roots_pem(ca_pem.as_bytes()).expect("CA PEM")),
        ..ClientOptions::default()
    }
}

fn tls_server(p: &pki::TestPki) -> TlsServer {
    TlsServer::from_pem(p.cert_pem.as_bytes(), p.key_pem.as_bytes()).expect("server PEM")
}

async fn connect(
    exec: Exec,
    url: &str,
    options: ClientOptions,
) -> Result<mcp_sse_glue::Client, ConnectError> {
    let config = ClientConfig {
        connect_timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    };
    match exec {
        Exec::Smol => mcp_sse_smol::connect_with(url, options, config).await,
        Exec::Tokio => mcp_sse_tokio::connect_with(url, options, config).await,
    }
}

fn tls_failure_of(r: Result<mcp_sse_glue::Client, ConnectError>) -> TlsFailure {
    match r {
        Err(ConnectError::Transport(ClientError::Tls { failure, .. })) => failure,
        Err(other) => panic!("expected a TLS failure, got {other}"),
        Ok(_) => panic!("expected a TLS failure, got a connection"),
    }
}

/// The echo server behind TLS with `p`'s certificate, and its `https://127.0.0.1:PORT/sse`.
async fn serve_pki(exec: Exec, p: &pki::TestPki) -> (mcp_sse_glue::Serving, String) {
    let s = serve_tls(
        exec,
        load::echo_server(),
        ServerOptions::default(),
        tls_server(p),
    )
    .await;
    let url = format!("https://127.0.0.1:{}/sse", s.local_addr().port());
    (s, url)
}

fn https_round_trip(exec: Exec) {
    mcp_sse_tests::run_for(
        exec,
        Transport::SseTcp,
        Duration::from_secs(60),
        |_h| async move {
            let p = pki::make(&["127.0.0.1", "localhost"], Leaf::Valid);
            let serving = serve_tls(
                exec,
                load::echo_server(),
                ServerOptions::default(),
                tls_server(&p),
            )
            .await;
            let port = serving.local_addr().port();
            for host in ["127.0.0.1", "localhost"] {
                let url = format!("https://{host}:{port}/sse");
                let client = connect(exec, &url, trusting(&p.ca_pem))
                    .await
                    .unwrap_or_else(|e| panic!("{url}: {e}"));
                assert_echo(&client, "over TLS").await;
                // A large message crosses many TLS records both ways.
                let big = "x".repeat(1 << 20);
                assert_echo(&client, &big).await;
                client.close().await;
            }
            serving.shutdown().await;
        },
    );
}

#[test]
fn https_round_trip_smol() {
    https_round_trip(Exec::Smol);
}

#[test]
fn https_round_trip_tokio() {
    https_round_trip(Exec::Tokio);
}

fn bad_certificates(exec: Exec) {
    mcp_sse_tests::run_for(
        exec,
        Transport::SseTcp,
        Duration::from_secs(60),
        |_h| async move {
            // Self-signed, and the client trusts only the webpki roots.
            let p = pki::make(&["127.0.0.1"], Leaf::SelfSigned);
            let (s, url) = serve_pki(exec, &p).await;
            let f = tls_failure_of(connect(exec, &url, ClientOptions::default()).await);
            assert!(matches!(f, TlsFailure::UntrustedCertificate(_)), "{f:?}");
            assert!(f.to_string().contains("--cacert"), "{f}");
            s.shutdown().await;

            // Valid, trusted, but for another name.
            let p = pki::make(&["other.example"], Leaf::Valid);
            let (s, url) = serve_pki(exec, &p).await;
            let f = tls_failure_of(connect(exec, &url, trusting(&p.ca_pem)).await);
            match &f {
                TlsFailure::NameMismatch { name, .. } => assert_eq!(name, "127.0.0.1"),
                other => panic!("expected NameMismatch, got {other:?}"),
            }
            s.shutdown().await;

            // Trusted and for the right name, but expired.
            let p = pki::make(&["127.0.0.1"], Leaf::Expired);
            let (s, url) = serve_pki(exec, &p).await;
            let f = tls_failure_of(connect(exec, &url, trusting(&p.ca_pem)).await);
            assert!(matches!(f, TlsFailure::Expired(_)), "{f:?}");
            s.shutdown().await;
        },
    );
}

#[test]
fn bad_certificates_smol() {
    bad_certificates(Exec::Smol);
}

#[test]
fn bad_certificates_tokio() {
    bad_certificates(Exec::Tokio);
}

fn wrong_scheme(exec: Exec) {
    mcp_sse_tests::run_for(
        exec,
        Transport::SseTcp,
        Duration::from_secs(60),
        |_h| async move {
            // A plain server on an https URL.
            let plain = serve_loopback(exec, load::echo_server(), ServerOptions::default()).await;
            let url = format!("https://127.0.0.1:{}/sse", plain.local_addr().port());
            let f = tls_failure_of(connect(exec, &url, ClientOptions::default()).await);
            assert_eq!(f, TlsFailure::NotTls);
            assert!(f.to_string().contains("use an http:// URL"), "{f}");
            plain.shutdown().await;

            // A TLS server on an http URL: it answers 400 in plain HTTP, which says what to do.
            let p = pki::make(&["127.0.0.1"], Leaf::Valid);
            let s = serve_tls(
                exec,
                load::echo_server(),
                ServerOptions::default(),
                tls_server(&p),
            )
            .await;
            let url = format!("http://127.0.0.1:{}/sse", s.local_addr().port());
            match connect(exec, &url, ClientOptions::default()).await {
                Err(ConnectError::Transport(e @ ClientError::HttpStatus { status: 400, .. })) => {
                    assert!(e.to_string().contains("use an https:// URL"), "{e}");
                }
                Err(other) => panic!("expected HTTP 400, got {other}"),
                Ok(_) => panic!("expected HTTP 400, got a connection"),
            }
            s.shutdown().await;
        },
    );
}

#[test]
fn wrong_scheme_smol() {
    wrong_scheme(Exec::Smol);
}

#[test]
fn wrong_scheme_tokio() {
    wrong_scheme(Exec::Tokio);
}

fn cut_handshake(exec: Exec) {
    mcp_sse_tests::run_for(
        exec,
        Transport::SseTcp,
        Duration::from_secs(60),
        |_h| async move {
            // Reads the ClientHello, then closes without a word.
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = listener.local_addr().expect("addr").port();
            let closer = on_thread(move || {
                let (mut conn, _) = listener.accept().expect("accept");
                conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
                let mut hello = [0u8; 512];
                let _ = conn.read(&mut hello);
            });
            let url = format!("https://127.0.0.1:{port}/sse");
            let (r, ()) =
                futures_lite::future::zip(connect(exec, &url, ClientOptions::default()), closer)
                    .await;
            let f = tls_failure_of(r);
            assert!(
                matches!(&f, TlsFailure::Handshake(m) if m.contains("during the TLS handshake")),
                "{f:?}"
            );
        },
    );
}

#[test]
fn cut_handshake_smol() {
    cut_handshake(Exec::Smol);
}

#[test]
fn cut_handshake_tokio() {
    cut_handshake(Exec::Tokio);
}
