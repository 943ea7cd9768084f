//! The `corridor sim bank` and `corridor sim ledger` subcommands: argument types the gateway
//! binary mounts, and the functions that run them.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::bank::{BankConfig, BankHandle, BankSim, Behaviour};
use crate::ledger::{
    start_writeback, GeneratedEvent, GeneratorConfig, LedgerPoster, LedgerSim, Mix, PosterConfig,
    WritebackConfig,
};
use crate::pki::{self, DemoPki};

/// Runs a simulated correspondent bank (HTTPS with mutual TLS, ISO 20022).
#[derive(Debug, Clone, clap::Args)]
pub struct BankArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub bind: SocketAddr,
    /// The bank's id in the gateway's callback path /v1/banks/{bank_id}/messages.
    #[arg(long, default_value = "sim-bank")]
    pub bank_id: String,
    /// The bank's BIC, sent as From in every business header.
    #[arg(long, default_value = "SIMBGB2LXXX")]
    pub bic: String,
    /// Behaviour for messages without a SIM: directive: accept, async:MS, pending:MS,
    /// reject:CODE, late:MS, twice, drop_first, drop, silent, lose.
    #[arg(long, default_value = "accept")]
    pub behaviour: Behaviour,
    /// The gateway's base URL for asynchronous answers (e.g. https://127.0.0.1:8080).
    #[arg(long)]
    pub callback_base: Option<String>,
    /// The secret that signs callbacks.
    #[arg(
        long,
        env = "CORRIDOR_SIM_BANK_CALLBACK_SECRET",
        default_value = "",
        hide_env_values = true,
        hide_default_value = true
    )]
    pub callback_secret: String,
    /// CA certificate (PEM) to trust for an HTTPS callback base; defaults to the demo CA
    /// when a demo PKI is generated.
    #[arg(long)]
    pub callback_ca: Option<PathBuf>,
    /// The bank's server certificate chain (PEM). Without it a demo PKI is generated.
    #[arg(long, requires_all = ["key", "client_ca"])]
    pub cert: Option<PathBuf>,
    /// The bank's private key (PEM).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// CA certificates (PEM) whose client certificates the bank accepts.
    #[arg(long, requires = "cert")]
    pub client_ca: Option<PathBuf>,
    /// Where to write a generated demo PKI (ca.pem, bank.pem, bank-key.pem, gateway.pem,
    /// gateway-key.pem) when --cert is not given.
    #[arg(long, default_value = "data/sim-pki")]
    pub pki_dir: PathBuf,
    /// Offer HTTP/2 besides HTTP/1.1 (ALPN); a client that picks it is served in HTTP/2.
    #[arg(long)]
    pub http2: bool,
}

/// Serves a simulated bank until Ctrl-C.
pub async fn run_bank(args: BankArgs) -> anyhow::Result<()> {
    let bank = start_bank(&args).await?;
    println!(
        "simulated bank {} ({}) on {}, default behaviour {}; Ctrl-C to stop",
        args.bank_id,
        args.bic,
        bank.mx_url(),
        args.behaviour
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    let stats = bank.stats();
    bank.shutdown().await;
    println!(
        "received {} messages, {} distinct UETRs, {} resends, {} answers, {} callbacks sent, {} failed",
        stats.messages_received,
        stats.distinct_uetrs,
        stats.resends,
        stats.answers_sent,
        stats.callbacks_sent,
        stats.callbacks_failed
    );
    Ok(())
}

/// Starts the bank the arguments describe: with the given PEM files, or with a demo PKI
/// generated into `--pki-dir`.
pub async fn start_bank(args: &BankArgs) -> anyhow::Result<BankHandle> {
    let (tls, demo_ca) = match (&args.cert, &args.key, &args.client_ca) {
        (Some(cert), Some(key), Some(client_ca)) => {
            let tls = pki::server_config_from_pem(
                &pki::read_pem_file(cert)?,
                &pki::read_pem_file(key)?,
                &pki::read_pem_file(client_ca)?,
            )?;
            (tls, None)
        }
        _ => {
            let demo = DemoPki::generate()?;
            demo.write_to(&args.pki_dir)?;
            println!(
                "demo PKI written to {} (give the gateway ca.pem, gateway.pem, gateway-key.pem)",
                args.pki_dir.display()
            );
            (demo.bank_server_config()?, Some(demo.ca_pem.clone()))
        }
    };
    let callback_ca = match &args.callback_ca {
        Some(path) => Some(pki::read_pem_file(path)?),
        None => demo_ca,
    };
    let callback_tls = callback_ca
        .map(|ca| pki::client_config_trust_only(&ca))
        .transpose()?;
    if args.callback_base.is_some() && args.callback_secret.is_empty() {
        tracing::warn!("callbacks will be signed with an empty secret");
    }
    let mut config = BankConfig::new(tls);
    config.bind = args.bind;
    config.bank_id = args.bank_id.clone();
    config.bic = args.bic.clone();
    config.default_behaviour = args.behaviour.clone();
    config.callback_base = args.callback_base.clone();
    config.callback_secret = args.callback_secret.clone().into_bytes();
    config.http2 = args.http2;
    config.callback_tls = callback_tls;
    Ok(BankSim::start(config).await?)
}

/// Runs a simulated ledger: generates settlement events, posts them to the gateway, and
/// (with --writeback-bind) receives the outcomes written back.
#[derive(Debug, Clone, clap::Args)]
pub struct LedgerArgs {
    /// The gateway's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub gateway: String,
    /// CA certificate (PEM) to trust when the gateway URL is HTTPS.
    #[arg(long)]
    pub gateway_ca: Option<PathBuf>,
    /// The ledger id (x-corridor-ledger header and the events' ledger field).
    #[arg(long, default_value = "demo-ledger")]
    pub ledger: String,
    /// The ledger's signing secret.
    #[arg(
        long,
        env = "CORRIDOR_SIM_LEDGER_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    pub secret: String,
    /// How many events to generate.
    #[arg(long, default_value_t = 100)]
    pub count: usize,
    /// Events per request (1 posts single objects, more posts JSON arrays).
    #[arg(long, default_value_t = 1)]
    pub batch_size: usize,
    /// Seed of the generator: the same seed gives the same events.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the events as JSON lines to this file instead of posting them.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run the write-back receiver on this address (POST /writeback).
    #[arg(long)]
    pub writeback_bind: Option<SocketAddr>,
    /// The secret the gateway signs write-backs with.
    #[arg(
        long,
        env = "CORRIDOR_SIM_WRITEBACK_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    pub writeback_secret: String,
    /// How long to wait for write-backs after posting, in seconds.
    #[arg(long, default_value_t = 60)]
    pub wait_s: u64,
    /// Per-request timeout towards the gateway, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    #[command(flatten)]
    pub mix: MixArgs,
}

/// The shares of special cases among generated events (see `sim::ledger::Mix`).
#[derive(Debug, Clone, clap::Args)]
pub struct MixArgs {
    #[arg(long, default_value_t = 0.08)]
    pub reject_share: f64,
    #[arg(long, default_value_t = 0.03)]
    pub late_share: f64,
    /// How late a late answer is, in milliseconds.
    #[arg(long, default_value_t = 1500)]
    pub late_ms: u64,
    #[arg(long, default_value_t = 0.03)]
    pub twice_share: f64,
    #[arg(long, default_value_t = 0.02)]
    pub drop_first_share: f64,
    #[arg(long, default_value_t = 0.02)]
    pub silent_share: f64,
    #[arg(long, default_value_t = 0.01)]
    pub lose_share: f64,
    #[arg(long, default_value_t = 0.05)]
    pub duplicate_share: f64,
    #[arg(long, default_value_t = 0.02)]
    pub conflict_share: f64,
    #[arg(long, default_value_t = 0.04)]
    pub invalid_share: f64,
    #[arg(long, default_value_t = 0.1)]
    pub token_amount_share: f64,
    #[arg(long, default_value_t = 0.0)]
    pub msisdn_share: f64,
    #[arg(long, default_value_t = 0.0)]
    pub other_account_share: f64,
}

impl From<&MixArgs> for Mix {
    fn from(args: &MixArgs) -> Self {
        Mix {
            reject_share: args.reject_share,
            late_share: args.late_share,
            late_ms: args.late_ms,
            twice_share: args.twice_share,
            drop_first_share: args.drop_first_share,
            silent_share: args.silent_share,
            lose_share: args.lose_share,
            duplicate_share: args.duplicate_share,
            conflict_share: args.conflict_share,
            invalid_share: args.invalid_share,
            token_amount_share: args.token_amount_share,
            msisdn_share: args.msisdn_share,
            other_account_share: args.other_account_share,
            ..Mix::default()
        }
    }
}

/// Writes the generated events to `path`, one JSON object a line.
fn write_events(path: &std::path::Path, generated: &[GeneratedEvent]) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    for item in generated {
        serde_json::to_writer(&mut file, &item.event)?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    println!("{} events written to {}", generated.len(), path.display());
    Ok(())
}

/// Posts the events in batches of `batch_size` (one alone as a single event); counts the
/// events by the HTTP status of their request.
async fn post_all(
    poster: &LedgerPoster,
    generated: &[GeneratedEvent],
    batch_size: usize,
) -> BTreeMap<String, u64> {
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for chunk in generated.chunks(batch_size.max(1)) {
        let events: Vec<_> = chunk.iter().map(|g| g.event.clone()).collect();
        let outcome = if events.len() == 1 {
            poster.post_one(&events[0]).await
        } else {
            poster.post_batch(&events).await
        };
        let key = match outcome {
            Ok(outcome) => outcome.status.to_string(),
            Err(error) => {
                tracing::warn!(%error, "posting failed");
                "transport error".to_string()
            }
        };
        *by_status.entry(key).or_insert(0) += events.len() as u64;
    }
    by_status
}

/// Generates and posts (or writes) events, then waits for write-backs if a receiver runs.
pub async fn run_ledger(args: LedgerArgs) -> anyhow::Result<()> {
    let mut generator_config = GeneratorConfig::new(args.ledger.clone(), args.seed);
    generator_config.mix = Mix::from(&args.mix);
    let generated = LedgerSim::new(generator_config).take(args.count);

    if let Some(path) = &args.out {
        return write_events(path, &generated);
    }

    let receiver = match args.writeback_bind {
        Some(bind) => {
            let mut config = WritebackConfig::new(args.writeback_secret.clone().into_bytes());
            config.bind = bind;
            let receiver = start_writeback(config).await?;
            println!(
                "write-back receiver on {} (batches: {})",
                receiver.url(),
                receiver.batch_url()
            );
            Some(receiver)
        }
        None => None,
    };

    let tls = args
        .gateway_ca
        .as_ref()
        .map(|path| -> anyhow::Result<_> {
            Ok(pki::client_config_trust_only(&pki::read_pem_file(path)?)?)
        })
        .transpose()?;
    let poster = LedgerPoster::new(PosterConfig {
        gateway_base: args.gateway.clone(),
        ledger: args.ledger.clone(),
        secret: args.secret.clone().into_bytes(),
        tls,
        timeout_ms: args.timeout_ms,
    })?;

    let by_status = post_all(&poster, &generated, args.batch_size).await;
    println!(
        "posted {} events; by HTTP status: {by_status:?}",
        generated.len()
    );

    if let Some(receiver) = receiver {
        let expected = generated
            .iter()
            .filter(|g| g.kind.is_new_settlement())
            .count() as u64;
        println!("waiting up to {} s for {expected} write-backs", args.wait_s);
        tokio::select! {
            _ = receiver.wait_for_recorded(expected, Duration::from_secs(args.wait_s)) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        let stats = receiver.stats();
        let counts: BTreeMap<_, _> = receiver.outcome_counts().into_iter().collect();
        println!(
            "write-backs: {} recorded of {expected} expected, {} duplicates, {} bad signatures; outcomes {counts:?}",
            stats.recorded, stats.duplicates, stats.bad_signatures
        );
        receiver.shutdown().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Debug, Parser)]
    enum Sim {
        Bank(BankArgs),
        Ledger(LedgerArgs),
    }

    #[test]
    fn the_arguments_are_consistent_and_parse() {
        Sim::command().debug_assert();
        let Sim::Bank(bank) = Sim::try_parse_from([
            "sim",
            "bank",
            "--behaviour",
            "reject:AM04",
            "--bind",
            "127.0.0.1:0",
        ])
        .unwrap() else {
            panic!("not bank")
        };
        assert_eq!(
            bank.behaviour,
            Behaviour::Reject {
                code: "AM04".into()
            }
        );
        assert!(Sim::try_parse_from(["sim", "bank", "--behaviour", "explode"]).is_err());
        // --cert without --key and --client-ca is refused.
        assert!(Sim::try_parse_from(["sim", "bank", "--cert", "bank.pem"]).is_err());
        let Sim::Ledger(ledger) =
            Sim::try_parse_from(["sim", "ledger", "--count", "5", "--reject-share", "0.5"])
                .unwrap()
        else {
            panic!("not ledger")
        };
        assert_eq!(Mix::from(&ledger.mix).reject_share, 0.5);
        // Without flags the command line gives exactly the library's default mix.
        let Sim::Ledger(ledger) = Sim::try_parse_from(["sim", "ledger"]).unwrap() else {
            panic!("not ledger")
        };
        assert_eq!(Mix::from(&ledger.mix), Mix::default());
    }

    fn bank_args(extra: &[&str]) -> BankArgs {
        let mut argv = vec!["sim", "bank", "--bind", "127.0.0.1:0"];
        argv.extend_from_slice(extra);
        let Sim::Bank(args) = Sim::try_parse_from(argv).unwrap() else {
            panic!("not bank")
        };
        args
    }

    async fn health(bank: &BankHandle, pki_dir: &std::path::Path) -> u16 {
        let read = |f: &str| pki::read_pem_file(&pki_dir.join(f)).unwrap();
        let tls = pki::client_config_from_pem(
            &read("ca.pem"),
            &read("gateway.pem"),
            &read("gateway-key.pem"),
        )
        .unwrap();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(rustls::ClientConfig::clone(&tls))
            .build()
            .unwrap();
        let url = format!("https://localhost:{}/healthz", bank.addr().port());
        client.get(url).send().await.unwrap().status().as_u16()
    }

    #[tokio::test]
    async fn the_bank_starts_with_a_generated_pki_or_with_given_files() {
        let dir = tempfile::tempdir().unwrap();
        let generated = dir.path().join("generated");
        let bank = start_bank(&bank_args(&["--pki-dir", generated.to_str().unwrap()]))
            .await
            .unwrap();
        assert_eq!(health(&bank, &generated).await, 200);
        bank.shutdown().await;

        // Files from elsewhere: the bank uses them rather than generating its own.
        let given = dir.path().join("given");
        DemoPki::generate().unwrap().write_to(&given).unwrap();
        let path = |f: &str| given.join(f).to_str().unwrap().to_string();
        let (cert, key, ca) = (path("bank.pem"), path("bank-key.pem"), path("ca.pem"));
        let unused = dir.path().join("unused");
        let bank = start_bank(&bank_args(&[
            "--cert",
            &cert,
            "--key",
            &key,
            "--client-ca",
            &ca,
            "--pki-dir",
            unused.to_str().unwrap(),
        ]))
        .await
        .unwrap();
        assert_eq!(health(&bank, &given).await, 200);
        assert!(!unused.exists());
        bank.shutdown().await;
    }

    #[tokio::test]
    async fn the_ledger_writes_its_events_as_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("events.jsonl");
        let Sim::Ledger(args) = Sim::try_parse_from([
            "sim",
            "ledger",
            "--count",
            "25",
            "--seed",
            "3",
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap() else {
            panic!("not ledger")
        };
        run_ledger(args).await.unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let events: Vec<crate::ledger::LedgerEvent> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(events.len(), 25);
        assert!(events
            .iter()
            .all(|e| e.ledger.as_deref() == Some("demo-ledger")));
    }
}
