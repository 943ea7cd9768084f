//! A local anvil node for tests and demos: found, started on a free loopback port, waited
//! for, and killed when dropped.
//!
//! The binary comes from `ANVIL_BIN` (named but missing counts as missing, never a fallback
//! to another anvil), else the npm package `@foundry-rs/anvil` installed by `npm ci` in this
//! crate's directory (looked for beside this crate's sources and under the working
//! directory), else `anvil` on `PATH`.

use crate::rpc::{self, Provider, RpcConfig};
use alloy::providers::Provider as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// What to tell a user who has no anvil.
pub const MISSING: &str = "anvil not found: run `cd adapters/ledger-evm && npm ci` (or `npm i -g @foundry-rs/anvil`), or set ANVIL_BIN";

/// Where an anvil binary is, if anywhere.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ANVIL_BIN") {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let package = format!("node_modules/@foundry-rs/anvil-{os}-{arch}/bin/anvil");
    let candidates = [
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(&package)),
        std::env::current_dir()
            .ok()
            .map(|dir| dir.join("adapters/ledger-evm").join(&package)),
    ];
    if let Some(found) = candidates.into_iter().flatten().find(|p| p.is_file()) {
        return Some(found);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("anvil"))
            .find(|p| p.is_file())
    })
}

/// A running anvil, killed when dropped.
pub struct Anvil {
    child: Child,
    /// The loopback port it listens on.
    pub port: u16,
    /// Its JSON-RPC endpoint, `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Anvil {
    /// Starts anvil on a free loopback port with `args` (three tries, in case another process
    /// takes the port first); `Err(MISSING)` without a binary.
    pub async fn start(args: &[&str]) -> Result<Anvil, String> {
        let binary = binary().ok_or_else(|| MISSING.to_string())?;
        for _attempt in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free port: {e}"))?
                .port();
            let child = Command::new(&binary)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
            let anvil = Anvil {
                child,
                port,
                url: format!("http://127.0.0.1:{port}"),
            };
            if anvil.ready().await {
                return Ok(anvil);
            }
        }
        Err("anvil did not start on a free port in three attempts".into())
    }

    async fn ready(&self) -> bool {
        let provider = self.provider();
        for _ in 0..400 {
            if provider.get_chain_id().await.is_ok() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }

    /// A provider for the node, with a 5 s request timeout.
    pub fn provider(&self) -> Provider {
        let mut config = RpcConfig::new(&self.url);
        config.request_timeout_ms = 5_000;
        rpc::connect(&config).expect("a loopback http URL is valid")
    }

    /// Stops the node now (as a crash would).
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}
