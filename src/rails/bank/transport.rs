//! The bank rail's transport: HTTPS with mutual TLS to each bank, one warm client per bank.

use super::mapping::ANSWER_BYTES_MAX;
use crate::config::BankConfig;
use crate::store::messages::Outbound;
use std::sync::Arc;
use std::time::Duration;

/// The outcome of one HTTP exchange in which the bank did answer.
#[derive(Debug)]
pub enum BankReply {
    /// 200 with a body: normally a pacs.002 envelope.
    Answer {
        body: Vec<u8>,
        content_type: Option<String>,
    },
    /// 202 (or 200/204 without a body): received, the answer comes later.
    Accepted,
    /// A 4xx: the bank refused the message itself. Not retried.
    Refused { status: u16, body: Vec<u8> },
}

/// The bank did not answer usefully; the same message is sent again later.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("no answer within {0} ms")]
    Timeout(u64),
    #[error("transport: {0}")]
    Transport(String),
    #[error("bank answered HTTP {status}: {text}")]
    Server { status: u16, text: String },
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
}

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {why}")]
    Pem { path: String, why: String },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("HTTP client: {0}")]
    Client(String),
}

/// Idle connections kept open to one bank. As many as jobs may be in flight (workers ×
/// `batch_rows_max`, and more): fewer, and every burst ends with connections closed and
/// opened again, each a new mutual-TLS handshake, which costs more than the message itself.
const IDLE_CONNECTIONS_MAX: usize = 512;

/// An HTTPS client for one bank, presenting our client certificate.
#[derive(Clone)]
pub struct BankClient {
    http: reqwest::Client,
    endpoint: String,
    timeout_ms: u64,
}

fn read_pem(path: &std::path::Path) -> Result<Vec<u8>, TlsSetupError> {
    std::fs::read(path).map_err(|source| TlsSetupError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// The CA certificates in a PEM file, as rustls trust roots (at least one).
pub fn trust_roots(ca_file: &std::path::Path) -> Result<rustls::RootCertStore, TlsSetupError> {
    let pem_err = |why: String| TlsSetupError::Pem {
        path: ca_file.display().to_string(),
        why,
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut read_pem(ca_file)?.as_slice()) {
        roots.add(cert.map_err(|e| pem_err(e.to_string()))?)?;
    }
    if roots.is_empty() {
        return Err(pem_err("no certificate found".into()));
    }
    Ok(roots)
}

/// A rustls client configuration trusting `ca_file` and presenting `cert_file`/`key_file`.
pub fn client_tls(
    ca_file: &std::path::Path,
    cert_file: &std::path::Path,
    key_file: &std::path::Path,
) -> Result<rustls::ClientConfig, TlsSetupError> {
    let pem_err = |path: &std::path::Path, why: String| TlsSetupError::Pem {
        path: path.display().to_string(),
        why,
    };
    let roots = trust_roots(ca_file)?;
    let chain: Vec<_> = rustls_pemfile::certs(&mut read_pem(cert_file)?.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| pem_err(cert_file, e.to_string()))?;
    if chain.is_empty() {
        return Err(pem_err(cert_file, "no certificate found".into()));
    }
    let key = rustls_pemfile::private_key(&mut read_pem(key_file)?.as_slice())
        .map_err(|e| pem_err(key_file, e.to_string()))?
        .ok_or_else(|| pem_err(key_file, "no private key found".into()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)?)
}

impl BankClient {
    pub fn new(bank: &BankConfig) -> Result<Self, TlsSetupError> {
        let mut tls = client_tls(&bank.ca_file, &bank.cert_file, &bank.key_file)?;
        // HTTP/2 where the bank offers it (one connection carries every message in flight,
        // each its own stream), else HTTP/1.1 with keep-alive: the bank picks in the handshake.
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(Duration::from_millis(bank.timeout_ms))
            .pool_max_idle_per_host(IDLE_CONNECTIONS_MAX)
            .build()
            .map_err(|e| TlsSetupError::Client(e.to_string()))?;
        Ok(BankClient {
            http,
            endpoint: bank.endpoint.clone(),
            timeout_ms: bank.timeout_ms,
        })
    }

    /// Sends one stored message. The UETR doubles as an idempotency key for banks that
    /// honour one.
    pub async fn send(&self, message: &Outbound) -> Result<BankReply, SendError> {
        let request = self
            .http
            .post(&self.endpoint)
            .header("content-type", "application/xml")
            .header(
                "idempotency-key",
                message.uetr.as_deref().unwrap_or(&message.msg_id),
            )
            .timeout(Duration::from_millis(self.timeout_ms))
            .body(message.body.clone());
        let timeout_ms = self.timeout_ms;
        let map_err = move |e: reqwest::Error| {
            if e.is_timeout() {
                SendError::Timeout(timeout_ms)
            } else {
                SendError::Transport(error_chain(&e))
            }
        };
        let mut response = request.send().await.map_err(map_err)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map_err)? {
            if body.len() + chunk.len() > ANSWER_BYTES_MAX {
                return Err(SendError::TooLarge(ANSWER_BYTES_MAX));
            }
            body.extend_from_slice(&chunk);
        }
        match status {
            200 if !body.is_empty() => Ok(BankReply::Answer { body, content_type }),
            200..=299 => Ok(BankReply::Accepted),
            408 | 429 => Err(SendError::Server {
                status,
                text: snippet(&body),
            }),
            400..=499 => Ok(BankReply::Refused { status, body }),
            _ => Err(SendError::Server {
                status,
                text: snippet(&body),
            }),
        }
    }
}

/// The start of a body, for an error message.
pub(crate) fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
