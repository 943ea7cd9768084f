//! A simulated mobile-money switch: a real TCP (optionally TLS) ISO 8583 server that credits
//! wallets (by MSISDN) in memory, for the demo, the link tests and the benchmarks.
//!
//! - 0200 credits the wallet in DE2 (or DE103) with DE4, once per key (DE41, DE37, DE11): a
//!   repeated 0200 gets the first answer again and never credits twice.
//! - 0420 / 0421 reverse a credit once (the original is found by DE90's STAN, DE37, DE41); a
//!   reversal that arrives before its credit is remembered, so the credit is then refused.
//! - 0800 is answered with 0810 (sign-on 001, echo 301, sign-off 002 are counted).
//! - Each 0200 can be scripted ([`Rule`], [`Action`]): approve, decline with a code, no
//!   answer, slow, disconnect mid-request, duplicate response, late approval after reversal.
//! - [`SwitchHandle`] exposes balances and counters for tests.
//!
//! From Rust (port 0 on loopback, mobile-money spec, 2-byte length headers):
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use sim::switch::{start, Action, Match, Rule, SwitchConfig};
//! let mut cfg = SwitchConfig::local(iso8583::specs::builtin("mobile-money")?);
//! cfg.rules.push(Rule { when: Match::Msisdn("639170000051".into()), action: Action::Decline("51".into()), times: None });
//! let switch = start(cfg).await?;
//! // connect an iso8583::Link to switch.addr; later: switch.balance("639171234567"), switch.counters()
//! # Ok(()) }
//! ```
//!
//! From the command line (`corridor sim switch`, arguments in [`SwitchArgs`]):
//! `--bind 127.0.0.1:8583 --spec mobile-money --length-header binary2 --behaviour approve
//! --rule msisdn:639170000051=decline:51 --rule amount:999=no-answer*1 [--tls-cert C --tls-key K]`.

mod state;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use iso8583::framing::BytesMut;
use iso8583::{Framing, LengthHeader, Message, Spec};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Semaphore};

pub use state::{Counters, Effect, State};

/// Bound on connections served at once.
const CONNECTIONS_MAX_DEFAULT: usize = 64;
/// Bound on frames queued to one connection's writer.
const WRITE_QUEUE_MAX: usize = 4096;

/// What the switch does with a new 0200.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Credit and answer 00.
    Approve,
    /// Refuse with this DE39 (no credit).
    Decline(String),
    /// Credit, but never answer (the answer is "lost").
    NoAnswer,
    /// Credit, answer after this many milliseconds.
    Slow(u64),
    /// Credit, then drop the connection without answering.
    Disconnect,
    /// Credit once, answer twice.
    Duplicate,
    /// Hold the answer; when the reversal comes, answer it, then send the held approval.
    LateApprovalAfterReversal,
}

impl FromStr for Action {
    type Err = String;
    /// `approve`, `decline:CODE`, `no-answer`, `slow:MS`, `disconnect`, `duplicate`,
    /// `late-approval`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        Ok(match (name, arg) {
            ("approve", None) => Action::Approve,
            ("decline", Some(code)) if code.len() == 2 && code.bytes().all(|c| c.is_ascii_alphanumeric()) => {
                Action::Decline(code.to_string())
            }
            ("no-answer", None) => Action::NoAnswer,
            ("slow", Some(ms)) => Action::Slow(ms.parse().map_err(|_| format!("slow:MS needs a number, got {ms:?}"))?),
            ("disconnect", None) => Action::Disconnect,
            ("duplicate", None) => Action::Duplicate,
            ("late-approval", None) => Action::LateApprovalAfterReversal,
            _ => {
                return Err(format!(
                    "unknown action {s:?} (approve, decline:CODE, no-answer, slow:MS, disconnect, duplicate, late-approval)"
                ))
            }
        })
    }
}

/// Which 0200s a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    Any,
    Msisdn(String),
    Stan(String),
    Rrn(String),
    /// DE4 as an integer amount in minor units.
    AmountMinor(i64),
}

/// A scripted behaviour: the first rule that matches (and has uses left) decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub when: Match,
    pub action: Action,
    /// How many 0200s it applies to; None: every one.
    pub times: Option<u32>,
}

impl FromStr for Rule {
    type Err = String;
    /// `WHEN=ACTION[*TIMES]`, WHEN one of `any`, `msisdn:N`, `stan:N`, `rrn:X`, `amount:N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (when, rest) = s
            .split_once('=')
            .ok_or_else(|| format!("rule {s:?} is WHEN=ACTION"))?;
        let (action, times) = match rest.split_once('*') {
            Some((a, t)) => (
                a,
                Some(
                    t.parse()
                        .map_err(|_| format!("times {t:?} is not a number"))?,
                ),
            ),
            None => (rest, None),
        };
        let when = match when.split_once(':') {
            None if when == "any" => Match::Any,
            Some(("msisdn", v)) => Match::Msisdn(v.to_string()),
            Some(("stan", v)) => Match::Stan(v.to_string()),
            Some(("rrn", v)) => Match::Rrn(v.to_string()),
            Some(("amount", v)) => Match::AmountMinor(
                v.parse()
                    .map_err(|_| format!("amount {v:?} is not a number"))?,
            ),
            _ => {
                return Err(format!(
                    "unknown condition {when:?} (any, msisdn:N, stan:N, rrn:X, amount:N)"
                ))
            }
        };
        Ok(Rule {
            when,
            action: action.parse()?,
            times,
        })
    }
}

/// How to run a switch from Rust.
#[derive(Clone)]
pub struct SwitchConfig {
    pub bind: SocketAddr,
    pub spec: Arc<Spec>,
    pub framing: Framing,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub default_action: Action,
    pub rules: Vec<Rule>,
    pub connections_max: usize,
}

impl SwitchConfig {
    /// Port 0 on loopback, the mobile-money spec, 2-byte binary length headers, approve all.
    pub fn local(spec: Arc<Spec>) -> SwitchConfig {
        SwitchConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            spec,
            framing: Framing::default(),
            tls: None,
            default_action: Action::Approve,
            rules: Vec::new(),
            connections_max: CONNECTIONS_MAX_DEFAULT,
        }
    }
}

struct Shared {
    spec: Arc<Spec>,
    framing: Framing,
    state: std::sync::Mutex<State>,
    /// Bumped to make every connection drop (tests of reconnection).
    kill: watch::Sender<u64>,
}

/// A running switch. Dropping it does not stop it; call [`SwitchHandle::shutdown`].
#[derive(Clone)]
pub struct SwitchHandle {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

impl SwitchHandle {
    /// Balance of a wallet in minor units (0 when unknown).
    pub fn balance(&self, msisdn: &str) -> i64 {
        self.lock().balance(msisdn)
    }

    pub fn balances(&self) -> std::collections::BTreeMap<String, i64> {
        self.lock().balances()
    }

    pub fn counters(&self) -> Counters {
        self.lock().counters.clone()
    }

    /// The daily settlement CSV of what the switch credited (and reversed), with `script`'s
    /// discrepancies planted (entries are named by RRN).
    pub fn settlement_csv(
        &self,
        currency: &str,
        date: &str,
        script: &crate::statements::Script,
    ) -> String {
        let lines = self.lock().settlement_lines(currency, date);
        crate::statements::wallet_csv(&script.apply(lines).0)
    }

    /// Add a rule after those already there.
    pub fn script(&self, rule: Rule) {
        self.lock().rules.push(rule);
    }

    pub fn set_default(&self, action: Action) {
        self.lock().default_action = action;
    }

    /// Drop every open connection now (clients are expected to reconnect).
    pub fn disconnect_all(&self) {
        self.shared.kill.send_modify(|g| *g += 1);
    }

    /// Stop accepting and drop every connection.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
        self.disconnect_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Bind and serve in the background.
pub async fn start(cfg: SwitchConfig) -> std::io::Result<SwitchHandle> {
    let listener = TcpListener::bind(cfg.bind).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        spec: cfg.spec.clone(),
        framing: cfg.framing.clone(),
        state: std::sync::Mutex::new(State::new(cfg.default_action.clone(), cfg.rules.clone())),
        kill: watch::channel(0).0,
    });
    let (stop, stop_rx) = watch::channel(false);
    let limit = Arc::new(Semaphore::new(cfg.connections_max.max(1)));
    let acceptor = cfg.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(accept_loop(
        listener,
        shared.clone(),
        acceptor,
        limit,
        stop_rx,
    ));
    tracing::info!(%addr, spec = %cfg.spec.name, "wallet switch listening");
    Ok(SwitchHandle { addr, shared, stop })
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    limit: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = stop.changed() => return,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Accept errors (e.g. out of descriptors) pass; back off a little.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _permit = permit;
            shared
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .counters
                .connections += 1;
            let r = match acceptor {
                None => serve(shared, tcp).await,
                Some(a) => match a.accept(tcp).await {
                    Ok(tls) => serve(shared, tls).await,
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "switch connection ended");
            }
        });
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    shared: Arc<Shared>,
    stream: S,
) -> std::io::Result<()> {
    let (mut r, mut w) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<Option<Vec<u8>>>(WRITE_QUEUE_MAX);
    let framing = shared.framing.clone();
    let writer = tokio::spawn(async move {
        let mut buf = Vec::with_capacity(4096);
        let mut closing = false;
        while let Some(item) = rx.recv().await {
            let Some(msg) = item else { break };
            buf.clear();
            // Oversized answers cannot be framed; the client's deadline covers them.
            let _ = framing.encode(&msg, &mut buf);
            // Write everything queued in one go; `None` (close) ends the connection after it.
            while let Ok(more) = rx.try_recv() {
                match more {
                    Some(m) => {
                        let _ = framing.encode(&m, &mut buf);
                    }
                    None => {
                        closing = true;
                        break;
                    }
                }
            }
            if w.write_all(&buf).await.is_err() || closing {
                break;
            }
        }
        let _ = w.shutdown().await;
    });
    let mut kill = shared.kill.subscribe();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let result = loop {
        loop {
            match shared.framing.decode(&mut buf) {
                Ok(Some((_h, frame))) => {
                    if !handle(&shared, &frame, &tx).await {
                        let _ = tx.send(None).await;
                        let _ = writer.await;
                        return Ok(());
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(None).await;
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e));
                }
            }
        }
        tokio::select! {
            n = r.read_buf(&mut buf) => match n {
                Ok(0) => break Ok(()),
                Ok(_) => {}
                Err(e) => break Err(e),
            },
            _ = kill.changed() => break Ok(()),
        }
    };
    writer.abort();
    result
}

/// Handle one frame; false means "drop the connection now".
async fn handle(shared: &Arc<Shared>, frame: &[u8], tx: &mpsc::Sender<Option<Vec<u8>>>) -> bool {
    let msg = match Message::decode(&shared.spec, frame) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "switch: undecodable message ignored");
            shared
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .counters
                .undecodable += 1;
            return true;
        }
    };
    let effects = shared
        .state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .apply(&msg);
    for effect in effects {
        match effect {
            Effect::Reply(m) => {
                if let Ok(bytes) = m.encode() {
                    let _ = tx.send(Some(bytes)).await;
                }
            }
            Effect::ReplyAfter(ms, m) => {
                let tx = tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    if let Ok(bytes) = m.encode() {
                        let _ = tx.send(Some(bytes)).await;
                    }
                });
            }
            Effect::Disconnect => return false,
        }
    }
    true
}

/// Runs a simulated mobile-money wallet switch (ISO 8583 over TCP or TLS) until Ctrl-C.
#[derive(Debug, Clone, clap::Args)]
pub struct SwitchArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8583")]
    pub bind: SocketAddr,
    /// ISO 8583 spec: an embedded name (mobile-money, iso87ascii, iso87binary, iso93ascii) or
    /// a path to a TOML spec.
    #[arg(long, default_value = "mobile-money")]
    pub spec: String,
    /// Length header: binary2, binary4, ascii4, bcd2.
    #[arg(long, default_value = "binary2")]
    pub length_header: String,
    /// Static header (e.g. a TPDU) in hex, written before every message.
    #[arg(long, default_value = "")]
    pub static_header_hex: String,
    /// Largest message accepted, in bytes.
    #[arg(long, default_value_t = 16 * 1024)]
    pub frame_bytes_max: usize,
    /// What to do with 0200s no rule matches: approve, decline:CODE, no-answer, slow:MS,
    /// disconnect, duplicate, late-approval.
    #[arg(long, default_value = "approve")]
    pub behaviour: String,
    /// Scripted rules, first match wins: WHEN=ACTION[*TIMES] with WHEN any, msisdn:N, stan:N,
    /// rrn:X or amount:N (e.g. --rule msisdn:639170000002=decline:51).
    #[arg(long = "rule")]
    pub rules: Vec<String>,
    /// TLS certificate chain (PEM); with --tls-key the switch speaks TLS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Connections served at once.
    #[arg(long, default_value_t = CONNECTIONS_MAX_DEFAULT)]
    pub connections_max: usize,
}

impl SwitchArgs {
    /// Turn the arguments into a configuration (loads the spec and TLS material).
    pub fn config(&self) -> anyhow::Result<SwitchConfig> {
        let spec = iso8583::specs::load(&self.spec)
            .with_context(|| format!("loading spec {}", self.spec))?;
        let length = LengthHeader::parse(&self.length_header).with_context(|| {
            format!(
                "unknown length header {:?} (binary2, binary4, ascii4, bcd2)",
                self.length_header
            )
        })?;
        let static_header = iso8583::cli::parse_hex(&self.static_header_hex)
            .context("--static-header-hex is not hex")?;
        let framing = Framing {
            length,
            static_header,
            frame_bytes_max: self.frame_bytes_max,
        };
        let default_action: Action = self.behaviour.parse().map_err(anyhow::Error::msg)?;
        let rules = self
            .rules
            .iter()
            .map(|r| r.parse::<Rule>().map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(c), Some(k)) => Some(server_tls(c, k)?),
            _ => None,
        };
        Ok(SwitchConfig {
            bind: self.bind,
            spec,
            framing,
            tls,
            default_action,
            rules,
            connections_max: self.connections_max,
        })
    }
}

fn server_tls(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", cert.display()))?;
    let key =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(cfg))
}

/// Serve a switch until Ctrl-C (the `corridor sim switch` command).
pub async fn run(args: SwitchArgs) -> anyhow::Result<()> {
    let cfg = args.config()?;
    let tls = cfg.tls.is_some();
    let handle = start(cfg)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    println!(
        "wallet switch on {} ({}, spec {}, length header {}); Ctrl-C to stop",
        handle.addr,
        if tls { "TLS" } else { "TCP" },
        args.spec,
        args.length_header
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    handle.shutdown();
    let c = handle.counters();
    println!("{c:?}");
    Ok(())
}

/// Connect a plain TCP stream (helper for tests that speak raw bytes).
pub async fn connect_raw(addr: SocketAddr) -> std::io::Result<TcpStream> {
    TcpStream::connect(addr).await
}

/// Read one framed message from a stream (helper for raw-byte tests); `None` on EOF.
pub async fn read_frame<S: AsyncRead + Unpin>(
    s: &mut S,
    framing: &Framing,
    buf: &mut BytesMut,
) -> std::io::Result<Option<Vec<u8>>> {
    loop {
        if let Some((_h, m)) = framing
            .decode(buf)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?
        {
            return Ok(Some(m.to_vec()));
        }
        if s.read_buf(buf).await? == 0 {
            return Ok(None);
        }
    }
}
