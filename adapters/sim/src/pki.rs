//! A throw-away PKI for the demo and the tests: one CA, a server certificate for the simulated
//! bank and a client certificate for the gateway, so that the bank link runs with mutual TLS
//! exactly as it would against a real correspondent.
//!
//! Nothing is checked in: every run generates fresh keys (ECDSA P-256) with rcgen. The TLS
//! configurations name the `ring` provider explicitly instead of relying on a process-wide
//! default, so that two crates in one binary can never disagree about which provider is live.

use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use time::{Duration, OffsetDateTime};

/// The DNS name the bank's certificate is issued for (it also carries 127.0.0.1).
pub const BANK_SERVER_NAME: &str = "localhost";

/// The common name of the gateway's client certificate.
pub const GATEWAY_CLIENT_NAME: &str = "corridor-gateway";

/// How long the generated certificates are valid. A demo PKI is regenerated at every start,
/// so a short life is enough and limits the harm of a leaked demo key.
const VALIDITY_DAYS: i64 = 30;

/// Why a PKI could not be generated, read or turned into a TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("generating a certificate failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("building the TLS configuration failed: {0}")]
    Tls(#[from] rustls::Error),
    #[error("building the client-certificate verifier failed: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("PEM input is not usable: {0}")]
    Pem(String),
    #[error("reading or writing {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The generated CA and the two leaf certificates, as PEM strings.
#[derive(Clone)]
pub struct DemoPki {
    /// The CA certificate: trusted by the gateway (for the bank) and by the bank (for clients).
    pub ca_pem: String,
    /// The bank's server certificate, for `localhost` and 127.0.0.1.
    pub bank_cert_pem: String,
    /// The bank's private key (PKCS#8).
    pub bank_key_pem: String,
    /// The gateway's client certificate.
    pub gateway_cert_pem: String,
    /// The gateway's private key (PKCS#8).
    pub gateway_key_pem: String,
}

impl std::fmt::Debug for DemoPki {
    // Keys stay out of logs, even demo ones: a habit is only a habit if it has no exceptions.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoPki").finish_non_exhaustive()
    }
}

impl DemoPki {
    /// Generates a fresh CA, bank server certificate and gateway client certificate.
    pub fn generate() -> Result<Self, PkiError> {
        let now = OffsetDateTime::now_utc();
        let not_before = now - Duration::days(1);
        let not_after = now + Duration::days(VALIDITY_DAYS);

        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.distinguished_name = name("Corridor demo CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params.not_before = not_before;
        ca_params.not_after = not_after;
        let ca_cert = ca_params.self_signed(&ca_key)?;

        let bank_key = KeyPair::generate()?;
        // rcgen turns "127.0.0.1" into an IP-address SAN, not a DNS name.
        let mut bank_params =
            CertificateParams::new(vec![BANK_SERVER_NAME.to_string(), "127.0.0.1".to_string()])?;
        bank_params.distinguished_name = name("Corridor simulated bank");
        bank_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        bank_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        bank_params.not_before = not_before;
        bank_params.not_after = not_after;
        let bank_cert = bank_params.signed_by(&bank_key, &ca_cert, &ca_key)?;

        let gateway_key = KeyPair::generate()?;
        let mut gateway_params = CertificateParams::new(vec![GATEWAY_CLIENT_NAME.to_string()])?;
        gateway_params.distinguished_name = name(GATEWAY_CLIENT_NAME);
        gateway_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        gateway_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        gateway_params.not_before = not_before;
        gateway_params.not_after = not_after;
        let gateway_cert = gateway_params.signed_by(&gateway_key, &ca_cert, &ca_key)?;

        Ok(Self {
            ca_pem: ca_cert.pem(),
            bank_cert_pem: bank_cert.pem(),
            bank_key_pem: bank_key.serialize_pem(),
            gateway_cert_pem: gateway_cert.pem(),
            gateway_key_pem: gateway_key.serialize_pem(),
        })
    }

    /// Writes `ca.pem`, `bank.pem`, `bank-key.pem`, `gateway.pem` and `gateway-key.pem` into
    /// `dir` (created if missing). Key files are made readable by the owner only.
    pub fn write_to(&self, dir: &Path) -> Result<(), PkiError> {
        std::fs::create_dir_all(dir).map_err(|source| io_error(dir, source))?;
        let files = [
            ("ca.pem", &self.ca_pem, false),
            ("bank.pem", &self.bank_cert_pem, false),
            ("bank-key.pem", &self.bank_key_pem, true),
            ("gateway.pem", &self.gateway_cert_pem, false),
            ("gateway-key.pem", &self.gateway_key_pem, true),
        ];
        for (file, content, secret) in files {
            let path = dir.join(file);
            std::fs::write(&path, content).map_err(|source| io_error(&path, source))?;
            if secret {
                restrict_to_owner(&path)?;
            }
        }
        Ok(())
    }

    /// The bank's TLS configuration: presents the bank certificate and requires a client
    /// certificate issued by the demo CA.
    pub fn bank_server_config(&self) -> Result<Arc<ServerConfig>, PkiError> {
        server_config_from_pem(&self.bank_cert_pem, &self.bank_key_pem, &self.ca_pem)
    }

    /// The gateway's TLS configuration towards the bank: trusts the demo CA and presents the
    /// gateway's client certificate.
    pub fn gateway_client_config(&self) -> Result<Arc<ClientConfig>, PkiError> {
        client_config_from_pem(&self.ca_pem, &self.gateway_cert_pem, &self.gateway_key_pem)
    }
}

/// A server configuration presenting `cert_pem` (leaf first, then any intermediates) with
/// `key_pem`, which refuses any client that does not present a certificate issued by one of
/// the CAs in `client_ca_pem`.
pub fn server_config_from_pem(
    cert_pem: &str,
    key_pem: &str,
    client_ca_pem: &str,
) -> Result<Arc<ServerConfig>, PkiError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = root_store(client_ca_pem)?;
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build()?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(cert_pem)?, private_key(key_pem)?)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration trusting the CAs in `ca_pem` and presenting `cert_pem` / `key_pem`.
pub fn client_config_from_pem(
    ca_pem: &str,
    cert_pem: &str,
    key_pem: &str,
) -> Result<Arc<ClientConfig>, PkiError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(root_store(ca_pem)?)
        .with_client_auth_cert(certs(cert_pem)?, private_key(key_pem)?)?;
    Ok(Arc::new(config))
}

/// A client configuration trusting the CAs in `ca_pem` that presents no certificate: for
/// HTTPS peers that do not ask for one, and for tests proving that the bank refuses it.
pub fn client_config_trust_only(ca_pem: &str) -> Result<Arc<ClientConfig>, PkiError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(root_store(ca_pem)?)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Reads a PEM file into a string, naming the file in the error.
pub fn read_pem_file(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|source| io_error(path, source))
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Corridor demo");
    dn.push(DnType::CommonName, common_name);
    dn
}

fn certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let certs = rustls_pemfile::certs(&mut pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PkiError::Pem(format!("reading certificates: {e}")))?;
    if certs.is_empty() {
        return Err(PkiError::Pem("no CERTIFICATE block found".to_string()));
    }
    Ok(certs)
}

fn private_key(pem: &str) -> Result<PrivateKeyDer<'static>, PkiError> {
    rustls_pemfile::private_key(&mut pem.as_bytes())
        .map_err(|e| PkiError::Pem(format!("reading the private key: {e}")))?
        .ok_or_else(|| PkiError::Pem("no PRIVATE KEY block found".to_string()))
}

fn root_store(ca_pem: &str) -> Result<RootCertStore, PkiError> {
    let mut roots = RootCertStore::empty();
    for cert in certs(ca_pem)? {
        roots.add(cert)?;
    }
    Ok(roots)
}

fn io_error(path: &Path, source: std::io::Error) -> PkiError {
    PkiError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> Result<(), PkiError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|source| io_error(path, source))
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> Result<(), PkiError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pki_builds_both_tls_configs_and_writes_five_files() {
        let pki = DemoPki::generate().unwrap();
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.bank_key_pem.contains("PRIVATE KEY"));
        pki.bank_server_config().unwrap();
        pki.gateway_client_config().unwrap();
        let dir = tempfile::tempdir().unwrap();
        pki.write_to(dir.path()).unwrap();
        for file in [
            "ca.pem",
            "bank.pem",
            "bank-key.pem",
            "gateway.pem",
            "gateway-key.pem",
        ] {
            let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
            assert!(text.starts_with("-----BEGIN"), "{file}");
        }
        // The files read back into the same configuration.
        let read = |f: &str| read_pem_file(&dir.path().join(f)).unwrap();
        server_config_from_pem(&read("bank.pem"), &read("bank-key.pem"), &read("ca.pem")).unwrap();
    }

    #[test]
    fn a_key_is_not_a_certificate() {
        let pki = DemoPki::generate().unwrap();
        let err = server_config_from_pem(&pki.bank_key_pem, &pki.bank_key_pem, &pki.ca_pem);
        assert!(matches!(err, Err(PkiError::Pem(_))));
    }
}
