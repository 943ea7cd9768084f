//! Configuration: one TOML file, then `CORRIDOR__SECTION__FIELD` environment overrides.
//!
//! Every field is documented here and in the README. Units are the last word of a name
//! (`timeout_ms`, `attempts_max`, `body_bytes_max`); secrets are [`Secret`]s that never print.

use crate::domain::{AccountKind, Bic, CountryCode, Currency, Rail};
use crate::telemetry::LogFormat;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config is not valid TOML or does not fit the schema: {0}")]
    Parse(String),
    #[error("environment override {var}: {why}")]
    Env { var: String, why: String },
    #[error("config is inconsistent: {0}")]
    Invalid(String),
}

/// A secret value: deserialised from a string, printed and serialised as `***`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Our own institution: the instructing agent on every message we send.
    pub gateway: GatewayConfig,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub intake: IntakeConfig,
    #[serde(default)]
    pub journal: JournalConfig,
    #[serde(default)]
    pub dispatch: DispatchConfig,
    #[serde(default)]
    pub writeback: WritebackConfig,
    #[serde(default)]
    pub log: LogConfig,
    /// Ledgers allowed to post events, each with its own secrets and callback.
    #[serde(default)]
    pub ledgers: Vec<LedgerConfig>,
    /// Correspondent banks reachable over the ISO 20022 rail.
    #[serde(default)]
    pub banks: Vec<BankConfig>,
    /// Mobile-money switches reachable over the ISO 8583 rail.
    #[serde(default)]
    pub switches: Vec<SwitchConfig>,
    /// Routing rules, tried in order; the first that matches wins.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// Statement import: upload size, raw files, the drop folder, the wallet CSV's columns.
    #[serde(default)]
    pub statements: StatementsConfig,
    /// Reconciliation: matching rules, expectations and the periodic run (issue 9).
    #[serde(default)]
    pub recon: ReconConfig,
}

/// `[statements]`: how statements arrive and where their raw files are kept.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatementsConfig {
    /// Largest statement accepted by `POST /v1/statements`, in bytes (the body is streamed to
    /// a file, never held in memory). Default 512 MiB.
    pub upload_bytes_max: u64,
    /// Largest single entry of a camt file, in bytes. Default 1 MiB.
    pub entry_bytes_max: usize,
    /// Where raw statement files are kept, each as `<sha256>`. Default `<data_dir>/statements`.
    pub raw_dir: Option<PathBuf>,
    /// A folder to watch: each complete file that lands is imported and moved to
    /// `imported/` (or `refused/`, with a `.error.txt` beside it). Unset: no folder watched.
    pub drop_dir: Option<PathBuf>,
    /// How often the drop folder is looked at.
    pub poll_interval_ms: u64,
    /// A file modified more recently than this is still being written: left for the next look.
    pub settle_ms: u64,
    /// The wallet operator's settlement CSV: which column holds what.
    pub wallet_csv: crate::recon::statements::wallet_csv::WalletCsvConfig,
}

impl Default for StatementsConfig {
    fn default() -> Self {
        StatementsConfig {
            upload_bytes_max: 512 * 1024 * 1024,
            entry_bytes_max: 1024 * 1024,
            raw_dir: None,
            drop_dir: None,
            poll_interval_ms: 2_000,
            settle_ms: 1_000,
            wallet_csv: Default::default(),
        }
    }
}

impl StatementsConfig {
    /// Where raw statement files are kept.
    pub fn raw_dir(&self, store: &StoreConfig) -> PathBuf {
        self.raw_dir
            .clone()
            .unwrap_or_else(|| store.data_dir.join("statements"))
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// Our BIC, sent as InstgAgt and as the business header's From.
    pub bic: Bic,
    /// Identifies this instance in outbox leases and logs (default: host name + pid).
    #[serde(default)]
    pub instance_id: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// Bearer tokens for the operator API (`/v1/settlements`, `/v1/outbox`). Empty: those
    /// endpoints refuse every request.
    #[serde(default)]
    pub api_tokens: Vec<ApiToken>,
    /// Open connections at most; past it new ones wait in the listen backlog.
    #[serde(default = "default_connections_max")]
    pub connections_max: usize,
    /// A request's headers must arrive within this long, or the connection is closed.
    #[serde(default = "default_header_read_timeout_ms")]
    pub header_read_timeout_ms: u64,
    /// A request's body must arrive within this long, or it is refused with 408.
    #[serde(default = "default_body_read_timeout_ms")]
    pub body_read_timeout_ms: u64,
    /// A connection that moves no byte for this long is closed.
    #[serde(default = "default_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
    /// Request body bytes held at once across all requests; past it a request gets 503.
    #[serde(default = "default_body_bytes_in_flight_max")]
    pub body_bytes_in_flight_max: usize,
}

fn default_connections_max() -> usize {
    512
}
fn default_header_read_timeout_ms() -> u64 {
    10_000
}
fn default_body_read_timeout_ms() -> u64 {
    30_000
}
fn default_idle_timeout_ms() -> u64 {
    60_000
}
fn default_body_bytes_in_flight_max() -> usize {
    64 * 1024 * 1024
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".parse().expect("literal address"),
            api_tokens: Vec::new(),
            connections_max: default_connections_max(),
            header_read_timeout_ms: default_header_read_timeout_ms(),
            body_read_timeout_ms: default_body_read_timeout_ms(),
            idle_timeout_ms: default_idle_timeout_ms(),
            body_bytes_in_flight_max: default_body_bytes_in_flight_max(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    pub token: Secret,
    /// Who holds the token: the actor named in the breaks' audit trail (default: the role
    /// and the token's place in the list, `reviewer#2`).
    #[serde(default)]
    pub name: Option<String>,
    /// operator (may replay), reviewer or viewer (read only).
    pub role: Role,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    Reviewer,
    Viewer,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://PATH` (the embedded default) or `postgres://…`. A relative SQLite path is
    /// taken under `data_dir`.
    pub database_url: String,
    /// Directory for the SQLite file and generated files.
    pub data_dir: PathBuf,
    /// Pool size for PostgreSQL. SQLite always uses one writer connection.
    pub connections_max: u32,
    /// SQLite: keep the group writer's thread and its connection's thread on one CPU (see
    /// `Store::connect_with`); false leaves both to the scheduler.
    pub sqlite_writer_pinned: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            database_url: "sqlite://corridor.db".into(),
            data_dir: PathBuf::from("data"),
            connections_max: 8,
            sqlite_writer_pinned: true,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeConfig {
    /// Largest request body accepted on any inbound endpoint; larger is 413 (and journaled,
    /// truncated to `journal.refused_prefix_bytes`).
    pub body_bytes_max: usize,
    /// Most events in one batch request.
    pub batch_events_max: usize,
    /// Allowed clock skew for signed requests.
    pub signature_window_seconds: u64,
    /// Requests from one address that may fail authentication (unknown ledger or bank, bad
    /// signature, oversized body) in a minute; past it the address gets 429 and nothing of
    /// its requests is journaled until the minute is over. 0: no limit.
    pub unauthenticated_failures_per_minute_max: u32,
    /// How far behind dispatch may fall (the wait of the oldest due job no worker has taken)
    /// before new ledger events are refused with 503 and `Retry-After`, and the chain
    /// followers pause ([`crate::intake::admission`]). 0: never refuse.
    pub dispatch_lag_ms_max: u64,
    /// How often that lag is read from the store.
    pub dispatch_lag_check_ms: u64,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            body_bytes_max: 1024 * 1024,
            batch_events_max: 1000,
            signature_window_seconds: webhook::WINDOW_SECONDS_DEFAULT,
            unauthenticated_failures_per_minute_max: 60,
            dispatch_lag_ms_max: 2_000,
            dispatch_lag_check_ms: 250,
        }
    }
}

/// What is kept of requests refused before their sender was authenticated (DESIGN.md
/// decision 7). Authenticated entries are always kept whole and never expire.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalConfig {
    /// Bytes of a refused request's body kept (with its headers, size and SHA-256).
    pub refused_prefix_bytes: usize,
    /// Refused requests are deleted this long after they arrived.
    pub refused_retention_hours: u64,
    /// Most bytes kept of refused requests in all; the oldest go first past it.
    pub refused_bytes_max: i64,
    /// How often expired refused entries are deleted.
    pub expire_interval_ms: u64,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            refused_prefix_bytes: 4096,
            refused_retention_hours: 7 * 24,
            refused_bytes_max: 256 * 1024 * 1024,
            expire_interval_ms: 60_000,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DispatchConfig {
    /// Concurrent outbox workers in this instance.
    pub workers: usize,
    /// Most rows one worker claims at a time.
    pub batch_rows_max: i64,
    /// How long a worker sleeps when it found nothing to do (it is also woken on new work).
    pub poll_interval_ms: u64,
    /// How long a claimed row stays ours; past it another worker may take it over.
    pub lease_ms: i64,
    /// Attempts per row before it goes to the dead letter state.
    pub attempts_max: i64,
    /// First retry delay; doubled each attempt up to `backoff_max_ms`.
    pub backoff_base_ms: i64,
    pub backoff_max_ms: i64,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            workers: 8,
            batch_rows_max: 16,
            poll_interval_ms: 250,
            lease_ms: 60_000,
            attempts_max: 8,
            backoff_base_ms: 500,
            backoff_max_ms: 60_000,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WritebackConfig {
    /// Deadline for one write-back POST to a ledger.
    pub timeout_ms: u64,
    /// Most outcomes in one POST to a ledger's `callback_batch_url`.
    pub batch_max: usize,
    /// Most batch POSTs in flight to one ledger at once; outcomes that come meanwhile wait
    /// and go together in the next one.
    pub batches_in_flight_max: usize,
}

impl Default for WritebackConfig {
    fn default() -> Self {
        WritebackConfig {
            timeout_ms: 10_000,
            batch_max: 100,
            batches_in_flight_max: 2,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `human` (default) or `json`.
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter such as `info` or `corridor=debug`; `RUST_LOG` overrides it.
    #[serde(default)]
    pub filter: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// The ledger's name, sent by it in the `x-corridor-ledger` header.
    pub id: String,
    /// `http` (the default: it posts signed events, takes write-backs by HTTP) or `evm` (a
    /// `Settlement` contract on an EVM chain: followed, and outcomes recorded on chain).
    #[serde(default)]
    pub kind: LedgerKind,
    /// Secrets its event signatures may use (two while rotating). `http` only.
    #[serde(default)]
    pub secrets: Vec<Secret>,
    /// Where final outcomes are posted. None: outcomes are only kept here. `http` only.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Where final outcomes are posted in batches, for a ledger that takes them (see
    /// schemas/ledger/writeback-batch.schema.json); corrections and refund requests still go
    /// one by one to `callback_url`. None: every outcome is a POST of its own. `http` only.
    #[serde(default)]
    pub callback_batch_url: Option<String>,
    /// Secret that signs our write-backs to it. `http` only.
    #[serde(default)]
    pub writeback_secret: Option<Secret>,
    /// `evm` only: the node's JSON-RPC URL (`http://` or `https://`).
    #[serde(default)]
    pub rpc_url: Option<String>,
    /// `evm` only: the chain id the node must report (EIP-155); a different one is refused.
    #[serde(default)]
    pub chain_id: Option<u64>,
    /// `evm` only: the `Settlement` contract's address (0x + 40 hex).
    #[serde(default)]
    pub contract: Option<String>,
    /// `evm` only: confirmations before an event is acted on (the including block counts as
    /// one). Give this or `finality`; default 12.
    #[serde(default)]
    pub confirmations: Option<u64>,
    /// `evm` only: `"finalized"` to act on events once the node's finalized block covers them.
    #[serde(default)]
    pub finality: Option<String>,
    /// `evm` only: the first block to read when no cursor is stored (the deployment block).
    #[serde(default)]
    pub start_block: Option<u64>,
    /// `evm` only: a keystore (JSON V3) file holding the gateway key ...
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// ... and the environment variable holding its password.
    #[serde(default)]
    pub key_password_env: Option<String>,
    /// `evm` only, instead of `key_file`: an environment variable holding the key as hex.
    #[serde(default)]
    pub key_env: Option<String>,
    /// `evm` only: pause between two polls of the chain.
    #[serde(default)]
    pub poll_interval_ms: Option<u64>,
    /// `evm` only: blocks per `eth_getLogs` call, and calls per poll.
    #[serde(default)]
    pub range_blocks_max: Option<u64>,
    #[serde(default)]
    pub ranges_per_poll_max: Option<u32>,
    /// `evm` only: deadline of one RPC request.
    #[serde(default)]
    pub rpc_timeout_ms: Option<u64>,
    /// `evm` only: confirmations before a recorded outcome counts (default 1).
    #[serde(default)]
    pub outcome_confirmations: Option<u64>,
    /// `evm` only: gas limit above which an outcome transaction is refused (default 500,000).
    #[serde(default)]
    pub gas_limit_max: Option<u64>,
    /// `evm` only: highest `maxFeePerGas` ever signed, wei (default 500 gwei).
    #[serde(default)]
    pub max_fee_per_gas_max_wei: Option<u128>,
    /// `evm` only: an outcome transaction not mined this long after signing is signed again
    /// with a higher fee (default 60,000).
    #[serde(default)]
    pub resubmit_after_ms: Option<u64>,
    /// `evm` only: fee raise per replacement, percent (default 20, at least 10).
    #[serde(default)]
    pub fee_bump_percent: Option<u64>,
    /// `evm` only: who the account references on chain are. The contract carries only an
    /// IBAN or MSISDN per party; a payment to a bank also needs a name and a structured
    /// address, which this directory gives by account. A party not listed is named by its
    /// account reference and has no address (enough for a wallet payment).
    #[serde(default)]
    pub parties: Vec<PartyEntry>,
}

crate::text_enum! {
    /// What kind of ledger a `[[ledgers]]` entry is.
    #[derive(Default)]
    pub enum LedgerKind {
        /// Signed HTTP events in, HTTP write-backs out.
        #[default]
        Http => "http",
        /// A `Settlement` contract on an EVM chain.
        Evm => "evm",
    }
}

/// A party behind an account reference on an EVM ledger (see `LedgerConfig::parties`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartyEntry {
    /// The IBAN or MSISDN exactly as the contract's events carry it.
    pub account: String,
    /// The party's name.
    pub name: String,
    /// Its bank's BIC, if known.
    #[serde(default)]
    pub bic: Option<String>,
    /// Its country (ISO 3166 alpha-2), if known.
    #[serde(default)]
    pub country: Option<String>,
    /// Its structured address: the ledger event's address fields (`town_name`, `country`,
    /// `street_name`, ...).
    #[serde(default)]
    pub address: Option<std::collections::BTreeMap<String, String>>,
}

/// When an EVM ledger's event is acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvmFinality {
    /// After this many confirmations.
    Confirmations(u64),
    /// Once the node's finalized block covers it.
    Finalized,
}

/// Where the gateway key of an EVM ledger comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvmKeySource {
    /// A keystore file and the environment variable with its password.
    Keystore { path: PathBuf, password_env: String },
    /// An environment variable holding the key as hex.
    Env(String),
}

/// An `evm` ledger's settings, checked.
#[derive(Clone, Debug)]
pub struct EvmLedger {
    pub rpc_url: String,
    pub chain_id: u64,
    pub contract: String,
    pub finality: EvmFinality,
    pub start_block: u64,
    pub key: EvmKeySource,
    pub poll_interval_ms: u64,
    pub range_blocks_max: u64,
    pub ranges_per_poll_max: u32,
    pub rpc_timeout_ms: u64,
    pub outcome_confirmations: u64,
    pub gas_limit_max: u64,
    pub max_fee_per_gas_max_wei: u128,
    pub resubmit_after_ms: u64,
    pub fee_bump_percent: u64,
}

impl LedgerConfig {
    /// The `evm` settings, checked; `Err` names the field. `None` for an `http` ledger.
    pub fn evm(&self) -> Result<Option<EvmLedger>, String> {
        if self.kind != LedgerKind::Evm {
            return Ok(None);
        }
        let id = &self.id;
        let need = |field: &str| format!("ledger {id:?} (kind = \"evm\"): {field} is required");
        let rpc_url = self.rpc_url.clone().ok_or_else(|| need("rpc_url"))?;
        if !(rpc_url.starts_with("http://") || rpc_url.starts_with("https://")) {
            return Err(format!(
                "ledger {id:?}: rpc_url {rpc_url:?} must start with http:// or https://"
            ));
        }
        let contract = self.contract.clone().ok_or_else(|| need("contract"))?;
        let hex_ok = contract.len() == 42
            && contract.starts_with("0x")
            && contract[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if !hex_ok {
            return Err(format!(
                "ledger {id:?}: contract {contract:?} is not an address (0x and 40 hex digits)"
            ));
        }
        let finality = self.evm_finality()?;
        let key = self.evm_key()?;
        if !self.secrets.is_empty()
            || self.callback_url.is_some()
            || self.callback_batch_url.is_some()
            || self.writeback_secret.is_some()
        {
            return Err(format!(
                "ledger {id:?}: secrets, callback_url, callback_batch_url and writeback_secret are for kind = \"http\""
            ));
        }
        let fee_bump_percent = self.fee_bump_percent.unwrap_or(20);
        if fee_bump_percent < 10 {
            return Err(format!(
                "ledger {id:?}: fee_bump_percent must be at least 10 (nodes refuse smaller replacements)"
            ));
        }
        let positive = |value: Option<u64>, field: &str, default: u64| match value {
            Some(0) => Err(format!("ledger {id:?}: {field} must be at least 1")),
            Some(v) => Ok(v),
            None => Ok(default),
        };
        Ok(Some(EvmLedger {
            rpc_url,
            chain_id: self.chain_id.ok_or_else(|| need("chain_id"))?,
            contract,
            finality,
            start_block: self.start_block.unwrap_or(0),
            key,
            poll_interval_ms: positive(self.poll_interval_ms, "poll_interval_ms", 2_000)?,
            range_blocks_max: positive(self.range_blocks_max, "range_blocks_max", 2_000)?,
            ranges_per_poll_max: positive(
                self.ranges_per_poll_max.map(u64::from),
                "ranges_per_poll_max",
                10,
            )? as u32,
            rpc_timeout_ms: positive(self.rpc_timeout_ms, "rpc_timeout_ms", 10_000)?,
            outcome_confirmations: positive(
                self.outcome_confirmations,
                "outcome_confirmations",
                1,
            )?,
            gas_limit_max: positive(self.gas_limit_max, "gas_limit_max", 500_000)?,
            max_fee_per_gas_max_wei: self.max_fee_per_gas_max_wei.unwrap_or(500_000_000_000),
            resubmit_after_ms: positive(self.resubmit_after_ms, "resubmit_after_ms", 60_000)?,
            fee_bump_percent,
        }))
    }

    fn evm_finality(&self) -> Result<EvmFinality, String> {
        let id = &self.id;
        Ok(match (self.confirmations, self.finality.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "ledger {id:?}: give confirmations or finality, not both"
                ))
            }
            (Some(0), None) => {
                return Err(format!(
                    "ledger {id:?}: confirmations must be at least 1 (the including block)"
                ))
            }
            (Some(n), None) => EvmFinality::Confirmations(n),
            (None, Some("finalized")) => EvmFinality::Finalized,
            (None, Some(other)) => {
                return Err(format!(
                    "ledger {id:?}: finality {other:?} is unknown; the one value is \"finalized\""
                ))
            }
            (None, None) => EvmFinality::Confirmations(12),
        })
    }

    fn evm_key(&self) -> Result<EvmKeySource, String> {
        let id = &self.id;
        let need = |field: &str| format!("ledger {id:?} (kind = \"evm\"): {field} is required");
        Ok(match (&self.key_file, &self.key_password_env, &self.key_env) {
            (Some(path), Some(password_env), None) => EvmKeySource::Keystore {
                path: path.clone(),
                password_env: password_env.clone(),
            },
            (Some(_), None, None) => {
                return Err(format!(
                    "ledger {id:?}: key_file needs key_password_env (the variable holding its password)"
                ))
            }
            (None, None, Some(var)) => EvmKeySource::Env(var.clone()),
            (None, None, None) => return Err(need("key_file (with key_password_env) or key_env")),
            _ => {
                return Err(format!(
                    "ledger {id:?}: give key_file (with key_password_env) or key_env, not both"
                ))
            }
        })
    }

    /// The directory entry for an account reference on an EVM ledger.
    pub fn party(&self, account: &str) -> Option<&PartyEntry> {
        self.parties.iter().find(|p| p.account == account)
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BankConfig {
    /// Our name for the bank, used in routes and in `/v1/banks/{id}/messages`.
    pub id: String,
    /// The bank's BIC: InstdAgt and the business header's To.
    pub bic: Bic,
    /// The bank's HTTPS endpoint for ISO 20022 messages.
    pub endpoint: String,
    /// PEM file of the CA that signed the bank's server certificate.
    pub ca_file: PathBuf,
    /// PEM files of our client certificate and key (mutual TLS).
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// Deadline for one send, connect to answer.
    #[serde(default = "default_bank_timeout_ms")]
    pub timeout_ms: u64,
    /// Secrets the bank signs its asynchronous messages with.
    #[serde(default)]
    pub callback_secrets: Vec<Secret>,
    /// SttlmMtd in pacs.008: INDA, INGA or COVE (CBPR+ allows no other).
    #[serde(default = "default_settlement_method")]
    pub settlement_method: SettlementMethod,
    /// ChrgBr in pacs.008: DEBT, CRED or SHAR.
    #[serde(default = "default_charge_bearer")]
    pub charge_bearer: ChargeBearer,
    /// BizSvc in the business header of what we send (pacs.008, pacs.028): the current CBPR+
    /// service, `swift.cbprplus.03`; the gateway's own CBPR+ check refuses any other.
    #[serde(default = "default_business_service")]
    pub business_service: String,
    /// When the bank has taken a payment (202, or a non-final status such as ACSP or PDNG) but
    /// not given its final answer: how long to wait before asking with a pacs.028 status
    /// request, and between requests.
    #[serde(default = "default_status_request_after_ms")]
    pub status_request_after_ms: i64,
    /// Status requests per payment before the gateway stops asking and leaves it to an
    /// operator (the outbox row goes dead, replayable).
    #[serde(default = "default_status_requests_max")]
    pub status_requests_max: i64,
}

fn default_bank_timeout_ms() -> u64 {
    10_000
}
fn default_settlement_method() -> SettlementMethod {
    SettlementMethod::Inda
}
fn default_charge_bearer() -> ChargeBearer {
    ChargeBearer::Shar
}

crate::text_enum! {
    /// How a correspondent bank settles our payments (pacs.008 SttlmMtd), as CBPR+ allows.
    pub enum SettlementMethod {
        /// The instructed agent debits our account with it.
        Inda => "INDA",
        /// We (the instructing agent) credit the instructed agent's account with us.
        Inga => "INGA",
        /// Through a cover payment (pacs.009 COV) between correspondents.
        Cove => "COVE",
    }
}

crate::text_enum! {
    /// Who bears the charges (pacs.008 ChrgBr), as CBPR+ allows.
    pub enum ChargeBearer {
        Debt => "DEBT",
        Cred => "CRED",
        Shar => "SHAR",
    }
}
fn default_business_service() -> String {
    "swift.cbprplus.03".into()
}
fn default_status_request_after_ms() -> i64 {
    60_000
}
fn default_status_requests_max() -> i64 {
    10
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchConfig {
    /// Our name for the switch, used in routes.
    pub id: String,
    /// `host:port` of its ISO 8583 listener (one persistent link per switch).
    pub addr: String,
    /// An embedded spec name (`mobile-money`, `iso87ascii`, `iso87binary`, `iso93ascii`) or a
    /// path to a spec TOML file.
    #[serde(default = "default_switch_spec")]
    pub spec: String,
    /// PEM CA file: when set, the link runs TLS and checks the switch against it.
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// Name checked against the switch's certificate (default: the host part of `addr`).
    #[serde(default)]
    pub tls_server_name: Option<String>,
    /// Deadline of one request (0200, 0420/0421).
    #[serde(default = "default_switch_timeout_ms")]
    pub timeout_ms: u64,
    /// DE3 of a wallet credit.
    #[serde(default = "default_processing_code")]
    pub processing_code: String,
    /// DE32, acquiring institution id.
    #[serde(default = "default_acquirer_id")]
    pub acquirer_id: String,
    /// DE41, card acceptor terminal id (8 characters).
    #[serde(default = "default_terminal_id")]
    pub terminal_id: String,
    /// DE39 codes meaning approved.
    #[serde(default = "default_approved_codes")]
    pub approved_codes: Vec<String>,
    /// DE39 codes whose outcome is unknown: answered by a reversal, like a timeout. Every
    /// other code is a final decline.
    #[serde(default = "default_ambiguous_codes")]
    pub ambiguous_codes: Vec<String>,
    /// Send an echo (0800/301) after this long without traffic; 0 disables.
    #[serde(default = "default_echo_idle_ms")]
    pub echo_idle_ms: u64,
    /// An echo not answered within this means the connection is half-open: it is dropped
    /// and the link reconnects (and signs on again).
    #[serde(default = "default_echo_timeout_ms")]
    pub echo_timeout_ms: u64,
}

fn default_switch_spec() -> String {
    "mobile-money".into()
}
fn default_switch_timeout_ms() -> u64 {
    5_000
}
fn default_processing_code() -> String {
    "260000".into()
}
fn default_acquirer_id() -> String {
    "000001".into()
}
fn default_terminal_id() -> String {
    "CORRIDOR".into()
}
fn default_approved_codes() -> Vec<String> {
    vec!["00".into()]
}
fn default_ambiguous_codes() -> Vec<String> {
    // 68 response received too late, 91 issuer or switch inoperative, 94 duplicate
    // transmission (the first may stand), 96 system malfunction.
    vec!["68".into(), "91".into(), "94".into(), "96".into()]
}
fn default_echo_idle_ms() -> u64 {
    30_000
}
fn default_echo_timeout_ms() -> u64 {
    10_000
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Settlement currencies this rule takes (ISO 4217); empty: any.
    #[serde(default)]
    pub currencies: Vec<Currency>,
    /// Creditor countries (ISO 3166; given, else from IBAN or agent BIC); empty: any.
    #[serde(default)]
    pub countries: Vec<CountryCode>,
    /// Creditor account kinds: iban, msisdn, other; empty: any.
    #[serde(default)]
    pub account_kinds: Vec<AccountKind>,
    /// `bank` (a bank in `banks`) or `wallet` (a switch in `switches`); the older names
    /// `iso20022` and `iso8583` are read as these.
    pub rail: Rail,
    /// The bank or switch id.
    pub counterparty: String,
}

impl Config {
    /// Reads a file, applies environment overrides from `env`, and checks consistency.
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, env)
    }

    pub fn from_toml(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut value: toml::Value =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        for (var, raw) in env {
            let Some(path) = var.strip_prefix("CORRIDOR__") else {
                continue;
            };
            apply_override(&mut value, path, &raw).map_err(|why| ConfigError::Env {
                var: var.clone(),
                why,
            })?;
        }
        let config: Config = value
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// A flat list of independent checks, each with its own message, read top to bottom;
    /// the ledgers' and the switches' are apart ([`Config::check_ledgers`],
    /// [`Config::check_switches`]).
    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        self.check_ledgers()?;
        if self.writeback.batch_max == 0 || self.writeback.batches_in_flight_max == 0 {
            return invalid(format!(
                "writeback.batch_max ({}) and writeback.batches_in_flight_max ({}) must be at least 1",
                self.writeback.batch_max, self.writeback.batches_in_flight_max
            ));
        }
        let mut bank_ids = HashSet::new();
        for bank in &self.banks {
            if !bank_ids.insert(&bank.id) {
                return invalid(format!("bank id {:?} appears twice", bank.id));
            }
            if !iso20022::cbpr::PACS008_BUSINESS_SERVICES.contains(&bank.business_service.as_str())
            {
                return invalid(format!(
                    "bank {:?}: business_service {:?} is not a current CBPR+ service for pacs.008 ({})",
                    bank.id,
                    bank.business_service,
                    iso20022::cbpr::PACS008_BUSINESS_SERVICES.join(", ")
                ));
            }
        }
        for (i, route) in self.routes.iter().enumerate() {
            match route.rail {
                Rail::Bank if !bank_ids.contains(&route.counterparty) => {
                    return invalid(format!(
                        "routes[{i}]: counterparty {:?} is not a configured bank",
                        route.counterparty
                    ));
                }
                Rail::Wallet if self.switch(&route.counterparty).is_none() => {
                    return invalid(format!(
                        "routes[{i}]: counterparty {:?} is not a configured switch",
                        route.counterparty
                    ));
                }
                _ => {}
            }
        }
        // A lease must outlive the slowest send it covers, or a second worker would resend
        // while the first still waits (harmless to a bank that dedupes by UETR, but wasteful).
        for bank in &self.banks {
            if self.dispatch.lease_ms <= bank.timeout_ms as i64 {
                return invalid(format!(
                    "dispatch.lease_ms ({}) must be longer than banks[{:?}].timeout_ms ({})",
                    self.dispatch.lease_ms, bank.id, bank.timeout_ms
                ));
            }
            if bank.status_request_after_ms <= 0 || bank.status_requests_max <= 0 {
                return invalid(format!(
                    "banks[{:?}]: status_request_after_ms ({}) and status_requests_max ({}) must be positive",
                    bank.id, bank.status_request_after_ms, bank.status_requests_max
                ));
            }
        }
        self.check_switches()?;
        if self.dispatch.workers == 0 || self.dispatch.attempts_max < 1 {
            return invalid("dispatch.workers and dispatch.attempts_max must be at least 1".into());
        }
        self.recon.check().map_err(ConfigError::Invalid)?;
        Ok(())
    }

    /// What is wrong with `ledgers`, if anything: ids, secrets, and the fields of each kind.
    fn check_ledgers(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        let mut ids = HashSet::new();
        for ledger in &self.ledgers {
            if !ids.insert(&ledger.id) {
                return invalid(format!("ledger id {:?} appears twice", ledger.id));
            }
            if ledger.kind == LedgerKind::Evm {
                ledger.evm().map_err(ConfigError::Invalid)?;
                continue;
            }
            if ledger.secrets.is_empty() {
                return invalid(format!("ledger {:?} has no secrets", ledger.id));
            }
            if ledger.rpc_url.is_some() || ledger.contract.is_some() || !ledger.parties.is_empty() {
                return invalid(format!(
                    "ledger {:?}: rpc_url, contract and parties are for kind = \"evm\"",
                    ledger.id
                ));
            }
            if ledger.callback_url.is_some() && ledger.writeback_secret.is_none() {
                return invalid(format!(
                    "ledger {:?} has a callback_url but no writeback_secret",
                    ledger.id
                ));
            }
            if ledger.callback_batch_url.is_some() && ledger.callback_url.is_none() {
                return invalid(format!(
                    "ledger {:?} has a callback_batch_url but no callback_url (corrections and refund requests go there)",
                    ledger.id
                ));
            }
        }
        Ok(())
    }

    /// What is wrong with `switches`, if anything: ids, terminal and processing codes, and a
    /// lease that outlives each switch's timeout.
    fn check_switches(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        let mut switch_ids = HashSet::new();
        for switch in &self.switches {
            if !switch_ids.insert(&switch.id) {
                return invalid(format!("switch id {:?} appears twice", switch.id));
            }
            if switch.terminal_id.len() != 8 {
                return invalid(format!(
                    "switch {:?}: terminal_id must be 8 characters",
                    switch.id
                ));
            }
            if switch.processing_code.len() != 6
                || !switch.processing_code.bytes().all(|b| b.is_ascii_digit())
            {
                return invalid(format!(
                    "switch {:?}: processing_code must be 6 digits",
                    switch.id
                ));
            }
            if self.dispatch.lease_ms <= switch.timeout_ms as i64 {
                return invalid(format!(
                    "dispatch.lease_ms ({}) must be longer than switches[{:?}].timeout_ms ({})",
                    self.dispatch.lease_ms, switch.id, switch.timeout_ms
                ));
            }
        }
        Ok(())
    }

    pub fn ledger(&self, id: &str) -> Option<&LedgerConfig> {
        self.ledgers.iter().find(|l| l.id == id)
    }

    pub fn bank(&self, id: &str) -> Option<&BankConfig> {
        self.banks.iter().find(|b| b.id == id)
    }

    pub fn switch(&self, id: &str) -> Option<&SwitchConfig> {
        self.switches.iter().find(|s| s.id == id)
    }

    /// The database URL with a relative SQLite path resolved under the data directory.
    pub fn database_url(&self) -> String {
        let url = &self.store.database_url;
        match url.strip_prefix("sqlite://") {
            Some(path) if !path.starts_with('/') && !path.starts_with(":memory:") => {
                format!("sqlite://{}", self.store.data_dir.join(path).display())
            }
            _ => url.clone(),
        }
    }
}

/// Sets `a__b__c` (lower-cased) in a TOML tree. The value is read as a TOML literal when it
/// is one (numbers, booleans, arrays), else taken as a string. An index into an array of
/// tables is a number: `CORRIDOR__BANKS__0__ENDPOINT`.
fn apply_override(root: &mut toml::Value, path: &str, raw: &str) -> Result<(), String> {
    let keys: Vec<String> = path.split("__").map(|k| k.to_ascii_lowercase()).collect();
    let parsed = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let mut node = root;
    for (depth, key) in keys.iter().enumerate() {
        let last = depth + 1 == keys.len();
        node = match node {
            toml::Value::Table(table) => {
                if last {
                    table.insert(key.clone(), parsed);
                    return Ok(());
                }
                table
                    .entry(key.clone())
                    .or_insert_with(|| toml::Value::Table(Default::default()))
            }
            toml::Value::Array(items) => {
                let index: usize = key
                    .parse()
                    .map_err(|_| format!("{key:?} indexes a list; use a number"))?;
                let len = items.len();
                let item = items
                    .get_mut(index)
                    .ok_or_else(|| format!("index {index} is past the list's {len} items"))?;
                if last {
                    *item = parsed;
                    return Ok(());
                }
                item
            }
            _ => return Err(format!("{key:?} is below a plain value")),
        };
    }
    Err("empty path".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [gateway]
        bic = "CORRGB2LXXX"
        [[ledgers]]
        id = "l1"
        secrets = ["s"]
        [[banks]]
        id = "b1"
        bic = "DEUTDEFFXXX"
        endpoint = "https://127.0.0.1:1/mx"
        ca_file = "ca.pem"
        cert_file = "c.pem"
        key_file = "k.pem"
        [[routes]]
        currencies = ["EUR"]
        rail = "iso20022"
        counterparty = "b1"
    "#;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_overrides() {
        let config = Config::from_toml(
            MINIMAL,
            env(&[
                ("CORRIDOR__STORE__DATABASE_URL", "postgres://x/y"),
                ("CORRIDOR__DISPATCH__WORKERS", "9"),
                ("CORRIDOR__BANKS__0__TIMEOUT_MS", "1500"),
                ("UNRELATED", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(config.store.database_url, "postgres://x/y");
        assert_eq!(config.dispatch.workers, 9);
        assert_eq!(config.banks[0].timeout_ms, 1500);
        assert_eq!(config.banks[0].charge_bearer, ChargeBearer::Shar);
        assert_eq!(config.intake.signature_window_seconds, 300);
        assert_eq!(format!("{:?}", config.ledgers[0].secrets), "[***]");
    }

    #[test]
    fn typed_values_are_parsed_once_and_named_when_wrong() {
        let cases = [
            ("currencies = [\"EUR\"]", "currencies = [\"XYZ\"]", "XYZ"),
            (
                "[[routes]]",
                "[[routes]]\ncountries = [\"ZZ\"]",
                "routes.countries",
            ),
            (
                "endpoint =",
                "settlement_method = \"CLRG\"\nendpoint =",
                "CLRG",
            ),
            ("endpoint =", "charge_bearer = \"OUR\"\nendpoint =", "OUR"),
            (
                "endpoint =",
                "business_service = \"swift.cbprplus.02\"\nendpoint =",
                "swift.cbprplus.02",
            ),
        ];
        for (from, to, named) in cases {
            assert!(MINIMAL.contains(from), "{from}");
            let text = MINIMAL.replacen(from, to, 1);
            let err = Config::from_toml(&text, env(&[])).unwrap_err().to_string();
            assert!(err.contains(named), "{named}: {err}");
        }
        let config = Config::from_toml(MINIMAL, env(&[])).unwrap();
        assert_eq!(config.banks[0].settlement_method, SettlementMethod::Inda);
        assert_eq!(config.routes[0].currencies[0].code(), "EUR");
    }

    #[test]
    fn mistakes_are_named() {
        let typo = MINIMAL.replace("endpoint =", "endpont =");
        let err = Config::from_toml(&typo, env(&[])).unwrap_err().to_string();
        assert!(err.contains("endpont"), "{err}");
        let bad_route = MINIMAL.replace("counterparty = \"b1\"", "counterparty = \"nope\"");
        let err = Config::from_toml(&bad_route, env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
        let err = Config::from_toml(MINIMAL, env(&[("CORRIDOR__DISPATCH__LEASE_MS", "10000")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("lease_ms"), "{err}");
        let err = Config::from_toml(MINIMAL, env(&[("CORRIDOR__BANKS__7__ID", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("past the list"), "{err}");
        for busy in ["0", "101"] {
            let over = env(&[("CORRIDOR__RECON__PERIODIC_BUSY_PERCENT", busy)]);
            let err = Config::from_toml(MINIMAL, over).unwrap_err().to_string();
            assert!(err.contains("periodic_busy_percent"), "{busy}: {err}");
        }
    }

    #[test]
    fn the_shipped_example_config_is_valid() {
        let config = Config::from_toml(include_str!("../config/corridor.toml"), env(&[])).unwrap();
        assert_eq!(config.banks[0].id, "sim-bank");
        assert_eq!(config.database_url(), "sqlite://data/corridor.db");
        assert_eq!(config.server.api_tokens.len(), 2);
    }

    #[test]
    fn relative_sqlite_path_goes_under_data_dir() {
        let mut config = Config::from_toml(MINIMAL, env(&[])).unwrap();
        config.store.data_dir = PathBuf::from("/var/lib/corridor");
        assert_eq!(
            config.database_url(),
            "sqlite:///var/lib/corridor/corridor.db"
        );
        config.store.database_url = "sqlite:///abs.db".into();
        assert_eq!(config.database_url(), "sqlite:///abs.db");
    }

    const EVM: &str = r#"
        [[ledgers]]
        id = "chain"
        kind = "evm"
        rpc_url = "http://127.0.0.1:8545"
        chain_id = 31337
        contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
        start_block = 7
        key_env = "GATEWAY_KEY"
        [[ledgers.parties]]
        account = "FR1420041010050500013M02606"
        name = "Jane Roe"
        address = { town_name = "Paris", country = "FR" }
    "#;

    #[test]
    fn an_evm_ledger_is_read_and_checked() {
        let config = Config::from_toml(&format!("{MINIMAL}{EVM}"), env(&[])).unwrap();
        assert_eq!(
            config.ledgers[0].kind,
            LedgerKind::Http,
            "old configs stay http"
        );
        let chain = config.ledger("chain").unwrap();
        let evm = chain.evm().unwrap().unwrap();
        assert_eq!(evm.finality, EvmFinality::Confirmations(12));
        assert_eq!(evm.start_block, 7);
        assert_eq!(evm.key, EvmKeySource::Env("GATEWAY_KEY".into()));
        assert_eq!(
            chain.party("FR1420041010050500013M02606").unwrap().name,
            "Jane Roe"
        );
        let finalized = EVM.replace("start_block = 7", "finality = \"finalized\"");
        let config = Config::from_toml(&format!("{MINIMAL}{finalized}"), env(&[])).unwrap();
        let evm = config.ledger("chain").unwrap().evm().unwrap().unwrap();
        assert_eq!(evm.finality, EvmFinality::Finalized);

        // Each mistake is refused with the field named.
        let cases = [
            (
                "rpc_url = \"http://127.0.0.1:8545\"",
                "",
                "rpc_url is required",
            ),
            (
                "http://127.0.0.1:8545",
                "ws://127.0.0.1:8545",
                "http:// or https://",
            ),
            ("chain_id = 31337", "", "chain_id is required"),
            (
                "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                "0x5FbD",
                "not an address",
            ),
            ("start_block = 7", "confirmations = 0", "at least 1"),
            (
                "start_block = 7",
                "confirmations = 3\nfinality = \"finalized\"",
                "not both",
            ),
            (
                "start_block = 7",
                "finality = \"safe\"",
                "finality \"safe\" is unknown",
            ),
            (
                "key_env = \"GATEWAY_KEY\"",
                "",
                "key_file (with key_password_env) or key_env",
            ),
            (
                "key_env = \"GATEWAY_KEY\"",
                "key_file = \"k.json\"",
                "key_password_env",
            ),
            (
                "start_block = 7",
                "secrets = [\"s\"]",
                "for kind = \"http\"",
            ),
            (
                "start_block = 7",
                "fee_bump_percent = 5",
                "fee_bump_percent",
            ),
            ("kind = \"evm\"", "kind = \"evm2\"", "evm2"),
            ("start_block = 7", "start_blok = 7", "start_blok"),
        ];
        for (from, to, expected) in cases {
            assert!(EVM.contains(from), "{from}");
            let text = format!("{MINIMAL}{}", EVM.replacen(from, to, 1));
            let err = Config::from_toml(&text, env(&[])).unwrap_err().to_string();
            assert!(err.contains(expected), "{from} -> {to}: {err}");
        }
        // An http ledger does not take the chain's fields.
        let text = MINIMAL.replacen(
            "secrets = [\"s\"]",
            "secrets = [\"s\"]\nrpc_url = \"http://x\"",
            1,
        );
        let err = Config::from_toml(&text, env(&[])).unwrap_err().to_string();
        assert!(err.contains("kind = \"evm\""), "{err}");
    }
}

/// `[recon]`: how reconciliation matches and what it expects (issue 9).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReconConfig {
    /// How often the gateway runs reconciliation on its own; 0: only on demand.
    pub interval_ms: u64,
    /// The most of its time a periodic run spends working, in percent (1-100): between
    /// slices it pauses as long as that takes, leaving the database and the cores to live
    /// traffic. 100: no pause. Runs asked for (CLI, API) never pause.
    pub periodic_busy_percent: u32,
    /// A dispatched settlement expects its final answer within this long of its first send,
    /// unless its counterparty has its own entry in `sla`.
    pub confirmation_sla_ms: i64,
    /// Per bank or switch (by id): its own confirmation SLA.
    pub sla: Vec<ReconSla>,
    /// A settled settlement expects its statement entry by its value date plus this many
    /// business days (Saturdays and Sundays are not business days).
    pub statement_business_days: u32,
    /// Tolerant rule: an entry may differ from the settlement by this much (charges taken
    /// on the way), in the settlement currency's minor units.
    pub amount_tolerance_minor: i64,
    /// Tolerant rule: or by this share of the amount, in basis points (100 = 1 %).
    pub amount_tolerance_basis_points: i64,
    /// Tolerant and batch rules: an entry's value date may be this many days from the
    /// settlement's.
    pub date_window_days: i64,
    /// Statement accounts that are ours; an entry on another account is not reconciled.
    /// Empty: every account.
    pub accounts: Vec<String>,
    /// Tolerant rule: an entry whose reference contains a settlement's id or EndToEndId
    /// matches it (within the amount tolerance).
    pub match_reference: bool,
    /// Days that are not business days (besides Saturdays and Sundays), per currency (its
    /// settlement system's closing days: TARGET2 for EUR) or per counterparty (a bank's own
    /// holidays). A settlement's statement expectation skips both its currency's and its
    /// counterparty's.
    pub holidays: Vec<ReconHolidays>,
}

/// One holiday list of `[recon]`: for a currency or for a counterparty (exactly one).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReconHolidays {
    /// An ISO 4217 code.
    pub currency: Option<String>,
    /// A bank or switch id.
    pub counterparty: Option<String>,
    /// `YYYY-MM-DD`.
    pub dates: Vec<String>,
}

/// The closing days of `[recon] holidays`, read once: per currency and per counterparty.
#[derive(Clone, Debug, Default)]
pub struct HolidayCalendar {
    by_currency: std::collections::HashMap<String, HashSet<time::Date>>,
    by_counterparty: std::collections::HashMap<String, HashSet<time::Date>>,
}

impl HolidayCalendar {
    /// Whether `day` is no business day for a payment in `currency` through `counterparty`.
    pub fn closed(&self, currency: &str, counterparty: &str, day: time::Date) -> bool {
        if matches!(
            day.weekday(),
            time::Weekday::Saturday | time::Weekday::Sunday
        ) {
            return true;
        }
        self.by_currency
            .get(currency)
            .is_some_and(|d| d.contains(&day))
            || self
                .by_counterparty
                .get(counterparty)
                .is_some_and(|d| d.contains(&day))
    }
}

impl ReconConfig {
    /// What is wrong with `[recon]`, if anything.
    fn check(&self) -> Result<(), String> {
        if !(1..=100).contains(&self.periodic_busy_percent) {
            return Err(format!(
                "recon.periodic_busy_percent ({}) must be between 1 and 100",
                self.periodic_busy_percent
            ));
        }
        self.holiday_calendar().map(|_| ())
    }

    /// The holiday lists read into a calendar, or what is wrong with them.
    pub fn holiday_calendar(&self) -> Result<HolidayCalendar, String> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let mut calendar = HolidayCalendar::default();
        for (i, h) in self.holidays.iter().enumerate() {
            let days = match (&h.currency, &h.counterparty) {
                (Some(c), None) => {
                    Currency::parse(c)
                        .map_err(|e| format!("recon.holidays[{i}]: currency {c:?}: {e}"))?;
                    calendar.by_currency.entry(c.clone()).or_default()
                }
                (None, Some(p)) => calendar.by_counterparty.entry(p.clone()).or_default(),
                _ => {
                    return Err(format!(
                        "recon.holidays[{i}]: name either a currency or a counterparty"
                    ))
                }
            };
            for d in &h.dates {
                let day = time::Date::parse(d, &format).map_err(|_| {
                    format!("recon.holidays[{i}]: {d:?} is not a date (YYYY-MM-DD)")
                })?;
                days.insert(day);
            }
        }
        Ok(calendar)
    }
}

impl Default for ReconConfig {
    fn default() -> Self {
        ReconConfig {
            interval_ms: 60_000,
            periodic_busy_percent: 25,
            confirmation_sla_ms: 3_600_000,
            sla: Vec::new(),
            statement_business_days: 2,
            amount_tolerance_minor: 0,
            amount_tolerance_basis_points: 0,
            date_window_days: 3,
            accounts: Vec::new(),
            match_reference: true,
            holidays: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReconSla {
    /// A bank or switch id.
    pub counterparty: String,
    pub confirmation_sla_ms: i64,
}
