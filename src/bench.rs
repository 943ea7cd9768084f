//! `corridor bench`: the whole flow under load, measured.
//!
//! The gateway runs as a child process (`corridor serve` of this same binary) on a fresh SQLite
//! store in a temporary directory, or on the PostgreSQL database named by `--database-url`, so
//! that the peak RSS and CPU time reported are the gateway's alone. This process plays every
//! party around it on loopback: ledger clients posting signed single events, the simulated
//! bank (HTTPS with mutual TLS, answering each pacs.008 at once), the simulated wallet switch
//! (ISO 8583, approving) and the ledger's write-back receiver.
//!
//! With `--rate` the load is an open loop: event i is due at start + i / rate, and every
//! latency is measured from that intended time, so a gateway that falls behind shows its
//! queueing instead of quietly slowing the clients down. Without it the clients post flat out,
//! each as soon as its previous answer came back.
//!
//! intake→ack is measured by the client; intake→sent (first send of the settlement's message)
//! and intake→final (its final state) are read from the store after the run. Everything runs
//! on one machine, so one clock. A settlement counts as done once the ledger has its outcome.
//!
//! After the run each simulator is driven alone, flat out, with messages of the run, so that a
//! simulator's limit is never passed off as the gateway's.

use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// How long to post events; the run then waits for their outcomes (`--drain-seconds`).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Offered load in events per second (open loop). Absent: flat out.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Concurrent ledger clients, each posting one event per request.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// A PostgreSQL database to run on (its existing rows are left alone; the run uses a
    /// ledger id of its own). Absent: SQLite in a fresh temporary directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Share of the events paying a mobile wallet (the ISO 8583 rail); the rest go to the bank.
    #[arg(long, default_value_t = 0.1)]
    pub wallet_share: f64,
    /// Dispatch workers of the gateway under test.
    #[arg(long, default_value_t = 8)]
    pub workers: usize,
    /// The gateway's log filter (its logs go to `gateway.log` in the run's directory).
    #[arg(long, default_value = "warn")]
    pub log_filter: String,
    /// Most seconds to wait, after posting stopped, for every accepted event's outcome.
    #[arg(long, default_value_t = 120)]
    pub drain_seconds: u64,
    /// Print the result as one JSON object on the last line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Keep the run's directory (store, certificates, configuration, gateway log), with
    /// `seconds.tsv`: the latencies of the events due in each second of the run.
    #[arg(long)]
    pub keep: bool,
    /// The `corridor` binary to run as the gateway (default: this one).
    #[arg(long)]
    pub gateway_bin: Option<PathBuf>,
    /// The simulated bank offers HTTP/2 besides HTTP/1.1, so the gateway speaks HTTP/2 to it.
    #[arg(long)]
    pub bank_http2: bool,
    /// Write back one outcome per POST, as to a ledger without a batch endpoint (by default
    /// the simulated ledger takes batches: `callback_batch_url`). Needed with a
    /// `--gateway-bin` older than batched write-backs, which does not know the setting.
    #[arg(long)]
    pub no_writeback_batches: bool,
}

/// The value at rank ⌈p·n⌉ of `sorted` (nearest rank); none when it is empty.
#[cfg(any(feature = "sim", test))]
fn nearest_rank(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// The run second by second (`seconds.tsv`): for each second of intended send time, the
/// events acknowledged and their intake→ack p50 and p99, the events that reached a final
/// state and their intake→final p50 and p99 (ms; `-` where none). Each latency comes with
/// its event's intended send time in seconds from the start. Whether a tail is a few bad
/// seconds (a checkpoint, a reconciliation run) or spread over the run shows here, not in
/// the run's percentiles.
#[cfg(any(feature = "sim", test))]
fn by_second(acks: &[(f64, f64)], finals: &[(f64, f64)]) -> String {
    let seconds = acks
        .iter()
        .chain(finals)
        .map(|(at, _)| at.max(0.0) as usize + 1)
        .max()
        .unwrap_or(0);
    let bucket = |pairs: &[(f64, f64)]| {
        let mut each = vec![Vec::new(); seconds];
        for (at, ms) in pairs {
            each[at.max(0.0) as usize].push(*ms);
        }
        for values in &mut each {
            values.sort_by(|a: &f64, b| a.total_cmp(b));
        }
        each
    };
    let (acks, finals) = (bucket(acks), bucket(finals));
    let cell = |values: &[f64], p: f64| {
        nearest_rank(values, p).map_or("-".to_string(), |v| format!("{v:.1}"))
    };
    let mut out =
        String::from("second\tacked\tack_p50_ms\tack_p99_ms\tfinal\tfinal_p50_ms\tfinal_p99_ms\n");
    for (second, (acked, fin)) in acks.iter().zip(&finals).enumerate() {
        out.push_str(&format!(
            "{second}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            acked.len(),
            cell(acked, 0.50),
            cell(acked, 0.99),
            fin.len(),
            cell(fin, 0.50),
            cell(fin, 0.99),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    /// Each latency lands in the second its event was due, and each second's percentiles
    /// are its own: a slow second stands out beside fast ones, an empty one shows `-`.
    #[test]
    fn the_run_second_by_second() {
        let mut acks: Vec<(f64, f64)> = (0..100).map(|i| (i as f64 / 100.0, 5.0)).collect();
        acks.push((0.5, 40.0));
        acks.extend((0..10).map(|i| (2.0 + i as f64 / 10.0, 10.0 * (i + 1) as f64)));
        let finals = [(0.2, 30.0), (2.9, 300.0), (2.0, 100.0)];
        let table = super::by_second(&acks, &finals);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines,
            [
                "second\tacked\tack_p50_ms\tack_p99_ms\tfinal\tfinal_p50_ms\tfinal_p99_ms",
                "0\t101\t5.0\t5.0\t1\t30.0\t30.0",
                "1\t0\t-\t-\t0\t-\t-",
                "2\t10\t50.0\t100.0\t2\t100.0\t300.0",
            ]
        );
        assert_eq!(
            super::by_second(&[], &[]).lines().count(),
            1,
            "a header alone"
        );
    }
}

#[cfg(feature = "sim")]
pub use run::{bench_config, clean_generator, reserve_port, run, GatewayProcess, LEDGER_SECRET};

#[cfg(feature = "sim")]
mod run {
    use super::BenchArgs;
    use crate::demo::{BANK_BIC, BANK_CALLBACK_SECRET, BANK_ID, SWITCH_ID, WRITEBACK_SECRET};
    use crate::store::Store;
    use anyhow::{bail, Context};
    use sim::ledger::{GeneratorConfig, LedgerPoster, LedgerSim, Mix, PosterConfig};
    use sqlx::Row;
    use std::collections::HashMap;
    use std::io::BufRead;
    use std::net::SocketAddr;
    use std::path::Path;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// The ledger secret of the bench configuration.
    pub const LEDGER_SECRET: &str = "bench-ledger-secret";
    /// Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ, fixed by the ABI).
    const CLOCK_TICKS_PER_SECOND: f64 = 100.0;
    /// Messages each simulator is driven with when measured alone.
    const ALONE_MESSAGES_MAX: usize = 4000;
    /// Requests in flight when a simulator is measured alone.
    const ALONE_IN_FLIGHT: usize = 64;

    /// A `corridor serve` child process.
    pub struct GatewayProcess {
        child: std::process::Child,
        pub addr: SocketAddr,
    }

    impl GatewayProcess {
        /// Starts `bin serve --config config_path`, its stderr (logs) appended to `log_path`,
        /// and waits until it listens.
        pub fn start(bin: &Path, config_path: &Path, log_path: &Path) -> anyhow::Result<Self> {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log_path)
                .with_context(|| format!("opening {}", log_path.display()))?;
            let mut child = std::process::Command::new(bin)
                .arg("serve")
                .arg("--config")
                .arg(config_path)
                .stdout(std::process::Stdio::piped())
                .stderr(log)
                .spawn()
                .with_context(|| format!("starting {}", bin.display()))?;
            let stdout = child.stdout.take().expect("piped stdout");
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                // Read every line, so that the child never blocks on a full pipe.
                for line in std::io::BufReader::new(stdout)
                    .lines()
                    .map_while(Result::ok)
                {
                    if let Some(addr) = line.strip_prefix("corridor listening on http://") {
                        let _ = tx.send(addr.trim().to_string());
                    }
                }
            });
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(addr) => Ok(GatewayProcess {
                    addr: addr.parse().context("the gateway's listen address")?,
                    child,
                }),
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let tail = std::fs::read_to_string(log_path).unwrap_or_default();
                    let tail: String = tail
                        .lines()
                        .rev()
                        .take(20)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect::<Vec<_>>()
                        .join("\n");
                    bail!("the gateway did not start listening; its log ends:\n{tail}")
                }
            }
        }

        pub fn pid(&self) -> u32 {
            self.child.id()
        }

        /// Peak resident set size in bytes (VmHWM).
        pub fn peak_rss_bytes(&self) -> Option<u64> {
            let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        }

        /// CPU seconds used so far, user and system, all threads.
        pub fn cpu_seconds(&self) -> Option<f64> {
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).ok()?;
            // Fields after the command name (which may hold spaces) start at field 3.
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / CLOCK_TICKS_PER_SECOND)
        }

        /// SIGKILL: the process dies where it stands.
        pub fn kill(mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }

        /// SIGTERM, then waits (SIGKILL after `grace`).
        pub fn stop(mut self, grace: Duration) {
            // SAFETY: kill(2) on our own child's pid; no memory is involved.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
            }
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    impl Drop for GatewayProcess {
        fn drop(&mut self) {
            if let Ok(None) = self.child.try_wait() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }

    /// The gateway's configuration for a run.
    // Long on purpose: one TOML document, written out as the gateway reads it.
    #[allow(clippy::too_many_arguments)]
    pub fn bench_config(
        dir: &Path,
        database_url: &str,
        ledger: &str,
        listen: SocketAddr,
        bank_endpoint: &str,
        ledger_callback: &str,
        ledger_batches: Option<&str>,
        switch_addr: SocketAddr,
        workers: usize,
        log_filter: &str,
    ) -> String {
        let pki = dir.join("pki");
        let batches = ledger_batches
            .map(|url| format!("callback_batch_url = \"{url}\"\n"))
            .unwrap_or_default();
        format!(
            r#"
[gateway]
bic = "CORRGB2LXXX"

[server]
listen = "{listen}"
connections_max = 2048

[store]
database_url = "{database_url}"
data_dir = "{data}"
connections_max = 16

[log]
filter = "{log_filter}"

[intake]
unauthenticated_failures_per_minute_max = 0

[dispatch]
workers = {workers}
batch_rows_max = 64
lease_ms = 30000
attempts_max = 8
backoff_base_ms = 200
backoff_max_ms = 2000
poll_interval_ms = 100

[[ledgers]]
id = "{ledger}"
secrets = ["{LEDGER_SECRET}"]
callback_url = "{ledger_callback}"
{batches}writeback_secret = "{WRITEBACK_SECRET}"

[[banks]]
id = "{BANK_ID}"
bic = "{BANK_BIC}"
endpoint = "{bank_endpoint}"
ca_file = "{ca}"
cert_file = "{cert}"
key_file = "{key}"
timeout_ms = 5000
callback_secrets = ["{BANK_CALLBACK_SECRET}"]
status_request_after_ms = 60000

[[switches]]
id = "{SWITCH_ID}"
addr = "{switch_addr}"
spec = "mobile-money"
timeout_ms = 5000

[[routes]]
currencies = ["PHP"]
account_kinds = ["msisdn"]
rail = "wallet"
counterparty = "{SWITCH_ID}"

[[routes]]
currencies = ["EUR", "GBP", "USD", "CHF", "JPY", "SEK"]
rail = "bank"
counterparty = "{BANK_ID}"
"#,
            data = dir.display(),
            ca = pki.join("ca.pem").display(),
            cert = pki.join("gateway.pem").display(),
            key = pki.join("gateway-key.pem").display(),
        )
    }

    /// Events that settle at once: no scripted trouble, no duplicates, nothing invalid.
    pub fn clean_generator(ledger: &str, seed: u64, wallet_share: f64) -> LedgerSim {
        let mut config = GeneratorConfig::new(ledger, seed);
        config.mix = Mix {
            reject_share: 0.0,
            late_share: 0.0,
            twice_share: 0.0,
            drop_first_share: 0.0,
            silent_share: 0.0,
            lose_share: 0.0,
            duplicate_share: 0.0,
            conflict_share: 0.0,
            invalid_share: 0.0,
            msisdn_share: wallet_share.clamp(0.0, 1.0),
            ..Mix::default()
        };
        LedgerSim::new(config)
    }

    pub use crate::demo::reserve_port;

    /// What the clients saw.
    #[derive(Default)]
    struct Posted {
        /// event id → intended send time (unix ms, fractional).
        intended_ms: HashMap<String, f64>,
        /// Each event answered 201: its intended send time (s from the start) and its
        /// intake→ack (ms).
        acks: Vec<(f64, f64)>,
        /// Answers other than 201, by status (0: no answer).
        refused: HashMap<u16, u64>,
        /// 503s with Retry-After (dispatch behind), each waited out and the event sent again.
        waited: u64,
    }

    /// What the clients share: the schedule, the events to post, and what they saw.
    struct Load {
        poster: LedgerPoster,
        generator: Mutex<LedgerSim>,
        posted: Mutex<Posted>,
        /// The index of the next event due (open loop).
        next: AtomicU64,
        /// Events answered 201 so far.
        acked: AtomicU64,
        started: Instant,
        started_unix_ms: f64,
        /// How long to post.
        window: Duration,
        /// Offered events/s (open loop); None: flat out.
        rate: Option<f64>,
    }

    impl Load {
        /// One client: posts one event at a time until the window is over.
        async fn client(self: Arc<Self>) {
            while let Some(intended) = self.next_due().await {
                self.post(intended).await;
            }
        }

        /// The intended send time (from the start) of the next event, once it is due: event i
        /// at i / rate in an open loop, now when flat out. None once the window is over.
        async fn next_due(&self) -> Option<Duration> {
            let Some(rate) = self.rate else {
                let now = self.started.elapsed();
                return (now < self.window).then_some(now);
            };
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let due = Duration::from_secs_f64(i as f64 / rate);
            if due >= self.window {
                return None;
            }
            tokio::time::sleep_until((self.started + due).into()).await;
            Some(due)
        }

        /// Posts the next event and records its answer, its latency measured from `intended`.
        async fn post(&self, intended: Duration) {
            let event = self.generator.lock().expect("generator").next_event().event;
            let outcome = self.poster.post_one(&event).await;
            let ack_ms = (self.started.elapsed().saturating_sub(intended)).as_secs_f64() * 1e3;
            let (status, waited) = outcome.map_or((0, 0), |o| (o.status, o.waited));
            let mut posted = self.posted.lock().expect("posted");
            posted.waited += u64::from(waited);
            if status == 201 {
                self.acked.fetch_add(1, Ordering::Relaxed);
                posted.acks.push((intended.as_secs_f64(), ack_ms));
                posted.intended_ms.insert(
                    event.event_id.clone(),
                    self.started_unix_ms + intended.as_secs_f64() * 1e3,
                );
            } else {
                *posted.refused.entry(status).or_default() += 1;
            }
        }
    }

    /// Prints progress once a second while the clients post and then while the outcomes come
    /// in, until every accepted event was written back or `drain_seconds` after posting
    /// stopped; returns when the last write-back was seen.
    async fn drain(
        load: &Load,
        ledger: &sim::ledger::WritebackHandle,
        clients: &[tokio::task::JoinHandle<()>],
        drain_seconds: u64,
    ) -> Instant {
        let started = load.started;
        let mut last_recorded = 0;
        let mut last_change = started;
        let mut next_progress = started + Duration::from_secs(1);
        let mut posting_done_at: Option<Instant> = None;
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let recorded = ledger.stats().recorded;
            if recorded != last_recorded {
                last_recorded = recorded;
                last_change = Instant::now();
            }
            let accepted = load.acked.load(Ordering::Relaxed);
            if posting_done_at.is_none() && clients.iter().all(|c| c.is_finished()) {
                posting_done_at = Some(Instant::now());
            }
            let finished = posting_done_at.is_some() && recorded >= accepted;
            if Instant::now() >= next_progress || finished {
                next_progress += Duration::from_secs(1);
                eprintln!(
                    "bench: {:>5.1} s  accepted {accepted:>7}  written back {recorded:>7}",
                    started.elapsed().as_secs_f64()
                );
            }
            if finished {
                return last_change;
            }
            if posting_done_at
                .is_some_and(|done| done.elapsed() > Duration::from_secs(drain_seconds))
            {
                eprintln!("bench: gave up waiting: {recorded} of {accepted} written back");
                return last_change;
            }
        }
    }

    fn unix_ms_f64() -> f64 {
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e6
    }

    // Long on purpose: the run in the order it happens (counterparties, gateway, load, drain,
    // measurements, each simulator alone, report), read top to bottom. The clients (`Load`)
    // and the wait for outcomes (`drain`) are their own; what is left is wiring, and the
    // report, whose one JSON object names every figure in one place.
    pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
        crate::telemetry::init_logs(crate::telemetry::LogFormat::Human, "error");
        let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        let dir = std::env::temp_dir().join(format!("corridor-bench-{run_id}"));
        std::fs::create_dir_all(&dir)?;
        let ledger_id = format!("bench-{run_id}");
        let database_url = args
            .database_url
            .clone()
            .unwrap_or_else(|| "sqlite://corridor.db".into());
        let database = if database_url.starts_with("sqlite:") {
            "sqlite"
        } else {
            "postgres"
        };

        let pki = sim::pki::DemoPki::generate()?;
        pki.write_to(&dir.join("pki"))?;
        let ledger =
            sim::ledger::start_writeback(sim::ledger::WritebackConfig::new(WRITEBACK_SECRET))
                .await?;
        let listen = reserve_port()?;
        let bank = start_bank(&pki, Some(listen), args.bank_http2).await?;
        let switch = start_switch().await?;
        let toml = bench_config(
            &dir,
            &database_url,
            &ledger_id,
            listen,
            &bank.mx_url(),
            &ledger.url(),
            (!args.no_writeback_batches)
                .then(|| ledger.batch_url())
                .as_deref(),
            switch.addr,
            args.workers,
            &args.log_filter,
        );
        let config_path = dir.join("corridor.toml");
        std::fs::write(&config_path, &toml)?;
        let config = crate::config::Config::from_toml(&toml, std::iter::empty())?;
        let bin = match &args.gateway_bin {
            Some(bin) => bin.clone(),
            None => std::env::current_exe()?,
        };
        let gateway = GatewayProcess::start(&bin, &config_path, &dir.join("gateway.log"))?;
        // The wallet link signs on in the background; posting before it is up would measure
        // retries.
        let up_by = Instant::now() + Duration::from_secs(10);
        while switch.counters().sign_ons == 0 && Instant::now() < up_by {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!(
            "bench: gateway pid {} on http://{} ({database}), {} clients, {}, {} s",
            gateway.pid(),
            gateway.addr,
            args.clients,
            args.rate
                .map_or("flat out".to_string(), |r| format!("{r} events/s offered")),
            args.seconds
        );

        let poster = LedgerPoster::new(PosterConfig {
            gateway_base: format!("http://{}", gateway.addr),
            ledger: ledger_id.clone(),
            secret: LEDGER_SECRET.as_bytes().to_vec(),
            tls: None,
            timeout_ms: 60_000,
        })?;
        let generator = Mutex::new(clean_generator(
            &ledger_id,
            0xC0FF_EE00 ^ u64::from_str_radix(&run_id, 16).unwrap_or(0),
            args.wallet_share,
        ));
        let load = Arc::new(Load {
            poster,
            generator,
            posted: Mutex::new(Posted::default()),
            next: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            started: Instant::now(),
            started_unix_ms: unix_ms_f64(),
            window: Duration::from_secs(args.seconds),
            rate: args.rate,
        });
        let started = load.started;
        let clients: Vec<_> = (0..args.clients.max(1))
            .map(|_| tokio::spawn(load.clone().client()))
            .collect();
        let last_change = drain(&load, &ledger, &clients, args.drain_seconds).await;
        for client in clients {
            client.await?;
        }
        let elapsed_s = (last_change - started).as_secs_f64().max(1e-3);
        let peak_rss = gateway.peak_rss_bytes();
        let cpu_s = gateway.cpu_seconds();
        gateway.stop(Duration::from_secs(20));

        let posted = std::mem::take(&mut *load.posted.lock().expect("posted"));
        let store = Store::connect(&config.database_url(), 2).await?;
        let (sent_ms, finals) = store_latencies(&store, &ledger_id, &posted.intended_ms).await?;
        let settled = ledger.stats().recorded;

        eprintln!("bench: measuring each simulator alone");
        let bank_stats = bank.stats();
        let bank_connections = (bank_stats.connections_http1, bank_stats.connections_http2);
        let ledger_stats = ledger.stats();
        let bank_alone = bank_alone(&store, &config, &pki, &ledger_id, args.bank_http2).await?;
        let switch_alone = switch_alone().await?;
        let ledger_alone = ledger_alone(&ledger).await?;
        store.close().await;
        switch.shutdown();
        bank.shutdown().await;
        ledger.shutdown().await;

        if args.keep {
            write_seconds(&dir, &posted.acks, &finals, load.started_unix_ms)?;
        }
        let ack = Percentiles::of(posted.acks.iter().map(|(_, ms)| *ms).collect());
        let sent = Percentiles::of(sent_ms);
        let fin = Percentiles::of(finals.iter().map(|(_, ms)| *ms).collect());
        let per_s = settled as f64 / elapsed_s;
        let report = serde_json::json!({
            "database": database,
            "mode": args.rate.map_or("flat_out".to_string(), |r| format!("open_loop_{r}")),
            "offered_per_second": args.rate,
            "clients": args.clients,
            "seconds": args.seconds,
            "events_accepted": posted.intended_ms.len(),
            "events_refused": posted.refused.values().sum::<u64>(),
            "intake_overloaded_answers": posted.waited,
            "settlements": settled,
            "settlements_per_second": round1(per_s),
            "p50_intake_to_ack_ms": ack.p50, "p99_intake_to_ack_ms": ack.p99, "p999_intake_to_ack_ms": ack.p999,
            "p50_intake_to_sent_ms": sent.p50, "p99_intake_to_sent_ms": sent.p99, "p999_intake_to_sent_ms": sent.p999,
            "p50_intake_to_final_ms": fin.p50, "p99_intake_to_final_ms": fin.p99, "p999_intake_to_final_ms": fin.p999,
            "gateway_peak_rss_mb": peak_rss.map(|b| round1(b as f64 / 1048576.0)),
            "gateway_cpu_seconds_per_1000": cpu_s.filter(|_| settled > 0).map(|c| (c * 1000.0 / settled as f64 * 100.0).round() / 100.0),
            "bank_alone_per_second": round1(bank_alone),
            "bank_connections_http1": bank_connections.0,
            "bank_connections_http2": bank_connections.1,
            "ledger_batches": ledger_stats.batches,
            "ledger_largest_batch": ledger_stats.largest_batch,
            "switch_alone_per_second": round1(switch_alone),
            "ledger_alone_per_second": round1(ledger_alone),
        });
        if args.json {
            println!("{report}");
        } else {
            print_table(&report);
        }
        if !posted.refused.is_empty() {
            eprintln!(
                "bench: answers other than 201 (0 = no answer): {:?}",
                posted.refused
            );
        }
        if args.keep {
            eprintln!("bench: kept {}", dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&dir);
        }
        if (settled as usize) < posted.intended_ms.len() {
            bail!(
                "{} accepted events were not written back within the drain time",
                posted.intended_ms.len() - settled as usize
            );
        }
        Ok(())
    }

    /// `seconds.tsv` in the run's directory (see [`super::by_second`]); `finals` carry
    /// their event's intended send time in unix ms, taken from the start here.
    fn write_seconds(
        dir: &Path,
        acks: &[(f64, f64)],
        finals: &[(f64, f64)],
        started_unix_ms: f64,
    ) -> anyhow::Result<()> {
        let finals: Vec<(f64, f64)> = finals
            .iter()
            .map(|(intended_ms, ms)| ((intended_ms - started_unix_ms) / 1e3, *ms))
            .collect();
        let path = dir.join("seconds.tsv");
        std::fs::write(&path, super::by_second(acks, &finals))
            .with_context(|| format!("writing {}", path.display()))
    }

    fn round1(x: f64) -> f64 {
        (x * 10.0).round() / 10.0
    }

    struct Percentiles {
        p50: Option<f64>,
        p99: Option<f64>,
        p999: Option<f64>,
    }

    impl Percentiles {
        fn of(mut values: Vec<f64>) -> Self {
            values.sort_by(|a, b| a.total_cmp(b));
            let at = |p: f64| super::nearest_rank(&values, p).map(round1);
            Percentiles {
                p50: at(0.50),
                p99: at(0.99),
                p999: at(0.999),
            }
        }
    }

    fn print_table(report: &serde_json::Value) {
        let text = |k: &str| match &report[k] {
            serde_json::Value::Null => "-".to_string(),
            v => v.to_string().trim_matches('"').to_string(),
        };
        println!(
            "Corridor bench: {} on {}, {} clients, {} s",
            text("mode"),
            text("database"),
            text("clients"),
            text("seconds")
        );
        println!(
            "  settlements          {:>10}   ({} accepted, {} refused; {} waits for dispatch)",
            text("settlements"),
            text("events_accepted"),
            text("events_refused"),
            text("intake_overloaded_answers")
        );
        println!(
            "  settlements/s        {:>10}",
            text("settlements_per_second")
        );
        println!(
            "  latency ms           {:>10} {:>10} {:>10}",
            "p50", "p99", "p99.9"
        );
        for (label, key) in [
            ("intake→ack", "intake_to_ack_ms"),
            ("intake→sent", "intake_to_sent_ms"),
            ("intake→final", "intake_to_final_ms"),
        ] {
            println!(
                "    {label:<18} {:>10} {:>10} {:>10}",
                text(&format!("p50_{key}")),
                text(&format!("p99_{key}")),
                text(&format!("p999_{key}"))
            );
        }
        println!("  gateway peak RSS MB  {:>10}", text("gateway_peak_rss_mb"));
        println!(
            "  gateway CPU s/1000   {:>10}",
            text("gateway_cpu_seconds_per_1000")
        );
        println!(
            "  alone, per second:   bank {}   switch {}   ledger {}",
            text("bank_alone_per_second"),
            text("switch_alone_per_second"),
            text("ledger_alone_per_second")
        );
        println!(
            "  bank connections:    HTTP/1.1 {}   HTTP/2 {}",
            text("bank_connections_http1"),
            text("bank_connections_http2")
        );
        println!(
            "  ledger batches:      {} (largest {} outcomes)",
            text("ledger_batches"),
            text("ledger_largest_batch")
        );
    }

    /// intake→sent and intake→final of each accepted event, from the store.
    async fn store_latencies(
        store: &Store,
        ledger: &str,
        intended_ms: &HashMap<String, f64>,
    ) -> anyhow::Result<(Vec<f64>, Vec<(f64, f64)>)> {
        let mut conn = store.pool().acquire().await?;
        let rows = sqlx::query(
            "SELECT s.event_id, s.final_at_ms, MIN(m.first_sent_at_ms) AS first_sent_at_ms \
             FROM settlements s LEFT JOIN outbound_messages m ON m.settlement_id = s.id \
             WHERE s.ledger = $1 GROUP BY s.id, s.event_id, s.final_at_ms",
        )
        .bind(ledger)
        .fetch_all(&mut *conn)
        .await?;
        let (mut sent, mut fin) = (Vec::new(), Vec::new());
        for row in rows {
            let event_id: String = row.try_get("event_id")?;
            let Some(intended) = intended_ms.get(&event_id) else {
                continue;
            };
            if let Some(at) = row.try_get::<Option<i64>, _>("first_sent_at_ms")? {
                sent.push((at as f64 - intended).max(0.0));
            }
            if let Some(at) = row.try_get::<Option<i64>, _>("final_at_ms")? {
                fin.push((*intended, (at as f64 - intended).max(0.0)));
            }
        }
        Ok((sent, fin))
    }

    async fn start_bank(
        pki: &sim::pki::DemoPki,
        callback_to: Option<SocketAddr>,
        http2: bool,
    ) -> anyhow::Result<sim::bank::BankHandle> {
        let mut bank_config = sim::bank::BankConfig::new(pki.bank_server_config()?);
        bank_config.bank_id = BANK_ID.into();
        bank_config.bic = BANK_BIC.into();
        bank_config.callback_base = callback_to.map(|a| format!("http://{a}"));
        bank_config.callback_secret = BANK_CALLBACK_SECRET.as_bytes().to_vec();
        bank_config.connections_max = 1024;
        bank_config.http2 = http2;
        Ok(sim::bank::BankSim::start(bank_config).await?)
    }

    async fn start_switch() -> anyhow::Result<sim::switch::SwitchHandle> {
        let config = sim::switch::SwitchConfig::local(iso8583::specs::builtin("mobile-money")?);
        Ok(sim::switch::start(config).await?)
    }

    /// Runs `requests` with at most [`ALONE_IN_FLIGHT`] at once; returns completed per second.
    async fn flat_out<F, Fut>(requests: usize, one: F) -> f64
    where
        F: Fn(usize) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        use futures::StreamExt;
        let started = Instant::now();
        let ok = futures::stream::iter(0..requests)
            .map(one)
            .buffer_unordered(ALONE_IN_FLIGHT)
            .filter(|ok| std::future::ready(*ok))
            .count()
            .await;
        ok as f64 / started.elapsed().as_secs_f64().max(1e-6)
    }

    /// A fresh bank (new books) taking the run's own pacs.008 messages over mutual TLS.
    async fn bank_alone(
        store: &Store,
        config: &crate::config::Config,
        pki: &sim::pki::DemoPki,
        ledger: &str,
        http2: bool,
    ) -> anyhow::Result<f64> {
        let mut conn = store.pool().acquire().await?;
        let rows = sqlx::query(
            "SELECT m.settlement_id FROM outbound_messages m JOIN settlements s \
             ON s.id = m.settlement_id WHERE s.ledger = $1 AND m.kind = $2 LIMIT $3",
        )
        .bind(ledger)
        .bind(crate::rails::bank::PACS008)
        .bind(ALONE_MESSAGES_MAX as i64)
        .fetch_all(&mut *conn)
        .await?;
        let mut messages = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("settlement_id")?;
            let sid = crate::domain::SettlementId::parse(&id)
                .with_context(|| format!("settlement id {id}"))?;
            messages.push(
                crate::store::messages::required(&mut conn, &sid, crate::rails::bank::PACS008)
                    .await?,
            );
        }
        drop(conn);
        if messages.is_empty() {
            return Ok(0.0);
        }
        let bank = start_bank(pki, None, http2).await?;
        let mut bank_config = config.bank(BANK_ID).context("bench bank")?.clone();
        bank_config.endpoint = bank.mx_url();
        let client = crate::rails::bank::BankClient::new(&bank_config)?;
        let rate = flat_out(messages.len(), |i| {
            let (client, message) = (&client, &messages[i]);
            async move {
                matches!(
                    client.send(message).await,
                    Ok(crate::rails::bank::BankReply::Answer { .. })
                )
            }
        })
        .await;
        bank.shutdown().await;
        Ok(rate)
    }

    /// A fresh switch taking wallet credits on one link, many in flight.
    async fn switch_alone() -> anyhow::Result<f64> {
        let switch = start_switch().await?;
        let spec = iso8583::specs::builtin("mobile-money")?;
        let mut link_config = iso8583::LinkConfig::new(switch.addr.to_string(), spec.clone());
        link_config.in_flight_max = ALONE_IN_FLIGHT * 4;
        link_config.request_timeout_ms = 10_000;
        let (sink, mut inbound) = tokio::sync::mpsc::channel(1024);
        let drain = tokio::spawn(async move { while inbound.recv().await.is_some() {} });
        let link = iso8583::Link::connect(link_config, sink);
        if !link
            .wait_for(iso8583::LinkState::Up, Duration::from_secs(10))
            .await
        {
            bail!("the switch link did not come up");
        }
        let rate = flat_out(ALONE_MESSAGES_MAX, |i| {
            let (link, spec) = (&link, &spec);
            async move {
                let Ok(credit) = alone_credit(spec, i as u32 + 1) else {
                    return false;
                };
                matches!(link.request(&credit).await, Ok(answer) if answer.get_str(39) == Some("00"))
            }
        })
        .await;
        link.close().await;
        drain.abort();
        switch.shutdown();
        Ok(rate)
    }

    fn alone_credit(
        spec: &Arc<iso8583::Spec>,
        stan: u32,
    ) -> Result<iso8583::Message, iso8583::CodecError> {
        let mut m = iso8583::Message::new(spec, "0200")?;
        m.set(2, format!("63917{:07}", stan % 1000))?;
        m.set(3, "260000")?;
        m.set(4, format!("{:012}", 100 + stan % 1000))?;
        m.set(7, "1205120000")?;
        m.set(11, format!("{stan:06}"))?;
        m.set(37, format!("B{stan:011}"))?;
        m.set(41, "CORRIDOR")?;
        m.set(49, "608")?;
        Ok(m)
    }

    /// A fresh write-back receiver taking the run's own outcomes, signed.
    async fn ledger_alone(run: &sim::ledger::WritebackHandle) -> anyhow::Result<f64> {
        let outcomes: Vec<_> = run
            .outcomes()
            .into_iter()
            .take(ALONE_MESSAGES_MAX)
            .collect();
        if outcomes.is_empty() {
            return Ok(0.0);
        }
        let receiver =
            sim::ledger::start_writeback(sim::ledger::WritebackConfig::new(WRITEBACK_SECRET))
                .await?;
        let http = reqwest::Client::new();
        let url = receiver.url();
        let rate = flat_out(outcomes.len(), |i| {
            let (http, url, outcome) = (&http, &url, &outcomes[i]);
            async move {
                let body = serde_json::to_vec(outcome).expect("write-back serialises");
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let signature = webhook::sign(WRITEBACK_SECRET.as_bytes(), now, &body);
                http.post(url)
                    .header("content-type", "application/json")
                    .header("idempotency-key", &outcome.settlement_id)
                    .header(webhook::SIGNATURE_HEADER, signature)
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .await;
        receiver.shutdown().await;
        Ok(rate)
    }
}
