//! A correspondent bank on a real socket: HTTPS with mutual TLS, ISO 20022 in and out.
//!
//! It receives a pacs.008 (with its head.001 business header) on `POST /mx`, books it by UETR
//! and answers with a pacs.002, in the HTTP response or later through the gateway's callback
//! (`POST {callback_base}/v1/banks/{bank_id}/messages`, signed like every Corridor webhook).
//! How it answers is scripted per message or by a default (see [`Behaviour`]), so that the
//! demo and the end-to-end tests can provoke each case the gateway must handle: rejects,
//! late answers, answers that come twice, and answers that never come.
//!
//! Like a real bank it books a UETR once: a resend is answered with the status booked the
//! first time and is counted, which is how the tests prove the gateway resends the same
//! identifiers instead of paying twice.

mod behaviour;
mod callback;
mod mx;
mod server;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};

pub use behaviour::{from_remittance, Behaviour, BehaviourError, DIRECTIVE_PREFIX};
pub use state::{BankStats, TxStatus};

/// The path the bank receives messages on.
pub const MX_PATH: &str = "/mx";

/// Where the bank serves its statements: `GET /statements/eod?date=YYYY-MM-DD&format=camt053`
/// (`camt053`, `camt054` or `mt940`; `version=02` for camt `.001.02`, default `08`).
pub const STATEMENTS_PATH: &str = "/statements/eod";

/// Settings of a simulated bank. [`BankConfig::new`] gives sensible defaults.
#[derive(Clone)]
pub struct BankConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// The bank's id in the gateway's callback path (`/v1/banks/{bank_id}/messages`).
    pub bank_id: String,
    /// The bank's BIC: the `From` of every business header it sends.
    pub bic: String,
    /// TLS: the bank's certificate and the CAs whose client certificates it accepts.
    pub tls: Arc<rustls::ServerConfig>,
    /// The behaviour for messages without a `SIM:` directive.
    pub default_behaviour: Behaviour,
    /// The gateway's base URL for asynchronous answers, e.g. `https://127.0.0.1:8080`.
    pub callback_base: Option<String>,
    /// The secret that signs callbacks.
    pub callback_secret: Vec<u8>,
    /// TLS settings for an HTTPS callback base.
    pub callback_tls: Option<Arc<rustls::ClientConfig>>,
    /// Attempts per callback before giving up.
    pub callback_attempts_max: u32,
    /// Per-attempt timeout of a callback.
    pub callback_timeout_ms: u64,
    /// Wait before the first retry of a callback; doubled for each next one.
    pub callback_backoff_ms: u64,
    /// How long after the synchronous answer `twice` sends its second copy.
    pub twice_delay_ms: u64,
    /// How long `drop` holds a connection before closing it.
    pub hang_ms_max: u64,
    /// The largest request body accepted (413 beyond).
    pub message_bytes_max: usize,
    /// Connections served at once; further ones wait in the listen queue.
    pub connections_max: usize,
    /// Time allowed for a TLS handshake.
    pub handshake_timeout_ms: u64,
    /// Distinct UETRs the bank books; a new one beyond this is answered 503, so that a
    /// runaway benchmark cannot exhaust memory.
    pub uetrs_max: usize,
    /// Callbacks being delivered at once; the others wait their turn.
    pub callbacks_in_flight_max: usize,
    /// The gateway's account at this bank (the IBAN its statements are about).
    pub statement_account: String,
    /// Offer HTTP/2 as well as HTTP/1.1 in the TLS handshake (ALPN) and serve each connection
    /// in the version the client picked. Off: HTTP/1.1 only.
    pub http2: bool,
}

impl BankConfig {
    /// A bank on a free loopback port with the given TLS settings and default scripts.
    pub fn new(tls: Arc<rustls::ServerConfig>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            bank_id: "sim-bank".to_string(),
            bic: "SIMBGB2LXXX".to_string(),
            tls,
            default_behaviour: Behaviour::Accept,
            callback_base: None,
            callback_secret: Vec::new(),
            callback_tls: None,
            callback_attempts_max: 5,
            callback_timeout_ms: 5_000,
            callback_backoff_ms: 100,
            twice_delay_ms: 100,
            hang_ms_max: 60_000,
            message_bytes_max: 1024 * 1024,
            connections_max: 256,
            handshake_timeout_ms: 5_000,
            uetrs_max: 1_000_000,
            callbacks_in_flight_max: 64,
            statement_account: "GB33BUKB20201555555555".to_string(),
            http2: false,
        }
    }
}

impl std::fmt::Debug for BankConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankConfig")
            .field("bind", &self.bind)
            .field("bank_id", &self.bank_id)
            .field("bic", &self.bic)
            .field("default_behaviour", &self.default_behaviour)
            .field("callback_base", &self.callback_base)
            .field("callback_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Why the bank could not start.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the bank's BIC {bic:?} is not a BIC: {reason}")]
    InvalidBic { bic: String, reason: String },
    #[error("building the callback HTTP client: {0}")]
    CallbackClient(#[source] reqwest::Error),
}

/// State shared by the accept loop, the connections and the callback tasks.
pub(crate) struct Shared {
    pub config: BankConfig,
    /// `config.bic`, checked at start.
    pub bic: iso20022::types::Bic,
    pub default_behaviour: Mutex<Behaviour>,
    pub books: Mutex<state::Books>,
    pub callback_client: reqwest::Client,
    pub shutdown: watch::Receiver<bool>,
    /// Woken whenever a callback finishes (delivered or given up).
    pub callback_finished: Notify,
    /// Bounds the callbacks in flight.
    pub callback_permits: Arc<tokio::sync::Semaphore>,
}

impl Shared {
    pub fn books(&self) -> std::sync::MutexGuard<'_, state::Books> {
        self.books.lock().expect("bank books lock")
    }

    /// Resolves when the bank is shutting down.
    pub async fn stopping(&self) {
        let mut shutdown = self.shutdown.clone();
        let _ = shutdown.wait_for(|stop| *stop).await;
    }
}

/// The simulated bank.
pub struct BankSim;

impl BankSim {
    /// Binds and starts serving; returns once the socket is bound.
    pub async fn start(config: BankConfig) -> Result<BankHandle, BankError> {
        let bic = iso20022::types::Bic::new(config.bic.as_str()).map_err(|error| {
            BankError::InvalidBic {
                bic: config.bic.clone(),
                reason: error.to_string(),
            }
        })?;
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| BankError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| BankError::Bind {
            addr: config.bind,
            source,
        })?;
        let mut client =
            reqwest::Client::builder().timeout(Duration::from_millis(config.callback_timeout_ms));
        if let Some(tls) = &config.callback_tls {
            client = client.use_preconfigured_tls(rustls::ClientConfig::clone(tls));
        }
        let callback_client = client.build().map_err(BankError::CallbackClient)?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let config_callbacks_in_flight_max = config.callbacks_in_flight_max;
        let shared = Arc::new(Shared {
            bic,
            default_behaviour: Mutex::new(config.default_behaviour.clone()),
            config,
            books: Mutex::new(state::Books::default()),
            callback_client,
            shutdown: shutdown_rx,
            callback_finished: Notify::new(),
            callback_permits: Arc::new(tokio::sync::Semaphore::new(
                config_callbacks_in_flight_max.max(1),
            )),
        });
        let task = tokio::spawn(server::accept_loop(listener, shared.clone()));
        tracing::info!(%addr, bic = %shared.config.bic, "simulated bank listening");
        Ok(BankHandle {
            addr,
            shared,
            shutdown_tx,
            task,
        })
    }
}

/// A running simulated bank.
pub struct BankHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown_tx: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl BankHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to send pacs.008 to, e.g. `https://127.0.0.1:40123/mx`. The certificate of the
    /// demo PKI is valid for both 127.0.0.1 and `localhost`.
    pub fn mx_url(&self) -> String {
        format!("https://{}{MX_PATH}", self.addr)
    }

    /// The bank's BIC.
    pub fn bic(&self) -> &str {
        &self.shared.config.bic
    }

    pub fn stats(&self) -> BankStats {
        self.shared.books().snapshot()
    }

    /// Changes the behaviour for messages without a directive, from the next message on.
    pub fn set_default(&self, behaviour: Behaviour) {
        *self
            .shared
            .default_behaviour
            .lock()
            .expect("default behaviour lock") = behaviour;
    }

    /// Forgets what the bank booked for `uetr`, as a bank that lost its records would: a status
    /// request about it gets 404 and a resend is booked as new. True if it was booked.
    pub fn forget(&self, uetr: &str) -> bool {
        self.shared.books().bookings.remove(uetr).is_some()
    }

    /// Plants discrepancies in the statements the bank writes from now on.
    pub fn script_statements(&self, script: crate::statements::Script) {
        self.shared.books().statement_script = script;
    }

    /// A statement of what the bank settled (ACSC), as `GET /statements/eod` serves it.
    pub fn statement(&self, request: &StatementRequest) -> String {
        statement(&self.shared, request)
    }

    /// One statement per currency account the bank booked on (in order of first booking),
    /// each with its own balances: `(currency, statement)`. The scripted discrepancies land
    /// in the statement of their line's currency; a planted balance gap in the first.
    pub fn statements(&self, request: &StatementRequest) -> Vec<(String, String)> {
        let script = self.shared.books().statement_script.clone();
        let (lines, _) = script.apply(booked_lines(&self.shared, request.date.as_deref()));
        let mut currencies: Vec<String> = Vec::new();
        for line in lines {
            if !currencies.contains(&line.currency) {
                currencies.push(line.currency);
            }
        }
        currencies
            .into_iter()
            .map(|c| {
                let one = StatementRequest {
                    currency: Some(c.clone()),
                    ..request.clone()
                };
                (c, statement(&self.shared, &one))
            })
            .collect()
    }

    pub fn default_behaviour(&self) -> Behaviour {
        self.shared
            .default_behaviour
            .lock()
            .expect("default behaviour lock")
            .clone()
    }

    /// Waits until at least `count` callbacks have finished (delivered or given up); false
    /// on timeout.
    pub async fn wait_for_callbacks(&self, count: u64, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.callback_finished.notified();
            let done = {
                let books = self.shared.books();
                books.callbacks_sent + books.callbacks_failed
            };
            if done >= count {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }

    /// Stops accepting, ends open connections and pending callbacks, and waits for the
    /// accept loop to finish.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        let _ = (&mut self.task).await;
    }
}

impl Drop for BankHandle {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
    }
}

/// Which statement to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRequest {
    /// Only payments booked on this day (`YYYY-MM-DD`); all when `None`.
    pub date: Option<String>,
    /// `camt053` (end of day), `camt054` (notifications) or `mt940`.
    pub format: String,
    pub version: crate::statements::CamtVersion,
    /// The statement's sequence number (`ElctrncSeqNb`, `:28C:`).
    pub sequence: u64,
    /// The opening balance, in minor units.
    pub opening_minor: i64,
    /// The currency account the statement is about; `None`: the first currency booked. A
    /// bank keeps one account (and one statement, one balance) per currency: see
    /// [`BankHandle::statements`] for all of them.
    pub currency: Option<String>,
}

impl Default for StatementRequest {
    fn default() -> Self {
        StatementRequest {
            date: None,
            format: "camt053".into(),
            version: crate::statements::CamtVersion::V08,
            sequence: 1,
            opening_minor: 0,
            currency: None,
        }
    }
}

impl StatementRequest {
    /// From `date=...&format=...&version=02|08&sequence=N&opening_minor=N&currency=EUR`.
    pub fn from_query(query: &str) -> Result<Self, String> {
        let mut r = StatementRequest::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "date" => r.date = Some(v.to_string()),
                "format" if ["camt053", "camt054", "mt940"].contains(&v) => r.format = v.into(),
                "version" if v == "02" => r.version = crate::statements::CamtVersion::V02,
                "version" if v == "08" => r.version = crate::statements::CamtVersion::V08,
                "sequence" => r.sequence = v.parse().map_err(|_| format!("bad sequence {v:?}"))?,
                "opening_minor" => {
                    r.opening_minor = v.parse().map_err(|_| format!("bad opening_minor {v:?}"))?
                }
                "currency" if v.len() == 3 && v.bytes().all(|b| b.is_ascii_uppercase()) => {
                    r.currency = Some(v.into())
                }
                _ => return Err(format!("unknown or bad query parameter {pair:?}")),
            }
        }
        Ok(r)
    }
}

/// The settled bookings (of `date`, when given), in booking order.
fn booked_lines(shared: &Shared, date: Option<&str>) -> Vec<crate::statements::StatementLine> {
    let books = shared.books();
    let mut settled: Vec<_> = books
        .bookings
        .values()
        .filter(|b| b.status == state::TxStatus::Acsc)
        .filter(|b| date.is_none_or(|d| d == b.line.date))
        .map(|b| (b.seq, b.line.clone()))
        .collect();
    settled.sort_by_key(|(seq, _)| *seq);
    settled.into_iter().map(|(_, l)| l).collect()
}

/// Writes the statement of the settled bookings in one currency account, with the scripted
/// discrepancies planted.
pub(crate) fn statement(shared: &Shared, request: &StatementRequest) -> String {
    use crate::statements::{self as st, StatementSpec};
    let all = booked_lines(shared, request.date.as_deref());
    let first = all.first().map(|l| l.currency.clone());
    let currency = request
        .currency
        .clone()
        .or_else(|| first.clone())
        .unwrap_or_else(|| "EUR".into());
    let script = shared.books().statement_script.clone();
    let (planted, off) = script.apply(all);
    let lines: Vec<_> = planted
        .into_iter()
        .filter(|l| l.currency == currency)
        .collect();
    // A planted balance gap belongs to one statement: the first currency's.
    let off = if first.as_ref().is_none_or(|f| *f == currency) {
        off
    } else {
        0
    };
    let date = request
        .date
        .clone()
        .or_else(|| lines.first().map(|l| l.date.clone()))
        .unwrap_or_else(|| "2026-01-01".into());
    // The first currency keeps the statement id it always had; the others name theirs.
    let statement_id = if first.as_ref().is_none_or(|f| *f == currency) {
        format!("{}-{}-{}", shared.config.bank_id, date, request.sequence)
    } else {
        format!(
            "{}-{}-{}-{}",
            shared.config.bank_id, currency, date, request.sequence
        )
    };
    let spec = StatementSpec {
        account: shared.config.statement_account.clone(),
        currency,
        statement_id,
        sequence: request.sequence,
        date,
        opening_minor: request.opening_minor,
        closing_off_minor: off,
    };
    match request.format.as_str() {
        "camt054" => st::camt054(&spec, request.version, &lines),
        "mt940" => st::mt940(&spec, &shared.config.bic, &lines),
        _ => st::camt053(&spec, request.version, &lines),
    }
}
