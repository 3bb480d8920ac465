//! Test certificates, made by the tests that use them (no private key is ever committed): a CA
//! and a leaf it signed, or a self-signed leaf.

/// PEM texts of one test PKI.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CA certificate to trust (the leaf itself when self-signed).
    pub ca_pem: String,
    /// The server's certificate chain (leaf first).
    pub cert_pem: String,
    /// The server's private key.
    pub key_pem: String,
}

/// How the leaf is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// Signed by the CA, valid now.
    Valid,
    /// Signed by the CA, valid only during 2020.
    Expired,
    /// Self-signed (no CA).
    SelfSigned,
}

/// A PKI whose leaf is valid for `names` (DNS names or IP addresses).
pub fn make(names: &[&str], leaf: Leaf) -> TestPki {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let key = rcgen::KeyPair::generate().expect("leaf key");
    let mut params = rcgen::CertificateParams::new(names).expect("leaf params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mcp-sse test server");
    if leaf == Leaf::Expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 12, 31);
    }
    if leaf == Leaf::SelfSigned {
        let cert = params.self_signed(&key).expect("self-signed leaf");
        return TestPki {
            ca_pem: cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        };
    }
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "mcp-sse test CA");
    let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let cert = params.signed_by(&key, &issuer).expect("leaf cert");
    TestPki {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}
