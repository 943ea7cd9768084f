//! One JSON-RPC endpoint over HTTP(S), with a deadline on every request.
//!
//! alloy's default HTTP client has no request timeout, so an endpoint that stops answering
//! would stall a follower or a writer forever. TLS uses rustls with ring, as the rest of
//! Corridor does, and the platform's trust store.

use std::sync::Arc;
use std::time::Duration;

use alloy::providers::RootProvider;
use alloy::rpc::client::RpcClient;
use alloy_reqwest::Url;

/// The provider every part of this crate talks through.
pub type Provider = RootProvider;

/// Where the chain's node is and how long to wait for it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcConfig {
    /// The node's JSON-RPC URL, `http://` or `https://`.
    pub url: String,
    /// Deadline for one request, connection included; past it the call fails as transient.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
}

fn default_request_timeout_ms() -> u64 {
    10_000
}

impl RpcConfig {
    /// A configuration for `url` with the default deadline.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            request_timeout_ms: default_request_timeout_ms(),
        }
    }
}

/// Why a connection could not be set up (nothing is sent until the first request).
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The URL does not parse, or is not HTTP(S).
    #[error("RPC URL {url:?} is not an http:// or https:// URL: {reason}")]
    Url {
        /// The URL as configured.
        url: String,
        /// The parser's reason.
        reason: String,
    },
    /// The TLS client or the HTTP client could not be built.
    #[error("cannot build the HTTP client for the RPC endpoint: {reason}")]
    Client {
        /// What failed.
        reason: String,
    },
}

/// Builds a provider for `config`. No request is sent yet.
pub fn connect(config: &RpcConfig) -> Result<Provider, RpcError> {
    Ok(RootProvider::new(client(config)?))
}

/// Builds the JSON-RPC client under [`connect`]'s provider, for batches and raw calls.
pub fn client(config: &RpcConfig) -> Result<RpcClient, RpcError> {
    let url_error = |reason: String| RpcError::Url {
        url: config.url.clone(),
        reason,
    };
    let url = Url::parse(&config.url).map_err(|e| url_error(e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(url_error(format!("scheme {:?}", url.scheme())));
    }
    let client = http_client(Duration::from_millis(config.request_timeout_ms))?;
    Ok(RpcClient::new_http_with_client(client, url))
}

fn http_client(timeout: Duration) -> Result<alloy_reqwest::Client, RpcError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let client_error = |reason: String| RpcError::Client { reason };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| client_error(e.to_string()))?
        .with_platform_verifier()
        .map_err(|e| client_error(e.to_string()))?
        .with_no_client_auth();
    alloy_reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| client_error(e.to_string()))
}
