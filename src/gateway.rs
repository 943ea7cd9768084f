//! A running gateway instance: the HTTP API and the dispatch workers over one store.

use crate::api::{self, AppState};
use crate::config::Config;
use crate::dispatch::{Dispatcher, Registry};
use crate::store::outbox::Kind;
use crate::store::Store;
use crate::writeback::Writer;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Rail(#[from] crate::rails::SetupError),
    #[error("recovering the inbound journal: {0}")]
    Recover(#[from] crate::store::StoreError),

    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A started instance. Dropping it does not stop it; call [`Running::shutdown`].
pub struct Running {
    pub addr: SocketAddr,
    pub dispatcher: Arc<Dispatcher>,
    stop: CancellationToken,
    /// The HTTP server and the dispatch workers.
    tasks: Vec<JoinHandle<()>>,
    /// The rails' background tasks (one per switch link: journals what the switch sends
    /// unasked), and the links they read from.
    journalers: Vec<JoinHandle<()>>,
    links: Vec<iso8583::Link>,
    /// The sink of each evm ledger, shared by the write-back jobs and the followers (a test
    /// that steps a follower by hand takes its ledger's from here).
    pub evm_sinks: crate::ledger::evm::sink::Sinks,
}

/// A name for this instance in leases and logs.
pub fn instance_id(config: &Config) -> String {
    config.gateway.instance_id.clone().unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "corridor".into());
        format!(
            "{host}-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        )
    })
}

/// Builds the engine with every rail's handlers and the ledger write-back registered; the
/// rails' links connect in the background.
pub fn dispatcher(
    config: Arc<Config>,
    store: Store,
    evm_sinks: crate::ledger::evm::sink::Sinks,
    customize: impl FnOnce(&mut Registry),
) -> Result<(Arc<Dispatcher>, crate::rails::Registered), StartError> {
    let mut registry = Registry::default();
    let rails = crate::rails::register(&mut registry, &config, &store)?;
    let writer = Arc::new(Writer::new(config.clone(), evm_sinks));
    registry.every_rail(Kind::Writeback, writer.clone());
    // Reconciliation's notices to the ledger: a corrected outcome, a refund request.
    registry.every_rail(Kind::Correction, writer.clone());
    registry.every_rail(Kind::Refund, writer);
    customize(&mut registry);
    let owner = instance_id(&config);
    Ok((
        Arc::new(Dispatcher::new(store, config, owner, registry)),
        rails,
    ))
}

/// Starts the API on `config.server.listen` (port 0 picks one), `dispatch.workers` workers
/// and a follower per evm ledger (none of either when `workers` is false, for tests that
/// step the outbox and the followers by hand).
pub async fn start(
    config: Arc<Config>,
    store: Store,
    workers: bool,
) -> Result<Running, StartError> {
    start_with(config, store, workers, |_| {}).await
}

/// [`start`], with `customize` given the engine's handler registry after every rail and the
/// write-back registered (to add or replace a handler: a rail under test, say).
pub async fn start_with(
    config: Arc<Config>,
    store: Store,
    workers: bool,
    customize: impl FnOnce(&mut Registry),
) -> Result<Running, StartError> {
    start_inner(config, store, workers, customize, None).await
}

/// [`start`] on a listener the caller bound already (its address given to others before the
/// gateway starts, as tests give it to the simulated bank for callbacks): no window in which
/// another process could take the port.
pub async fn start_on(
    listener: std::net::TcpListener,
    config: Arc<Config>,
    store: Store,
    workers: bool,
) -> Result<Running, StartError> {
    start_inner(config, store, workers, |_| {}, Some(listener)).await
}

/// Long on purpose: the start-up sequence read top to bottom (journal recovery first, then the
/// engine, the listener and the API, the statement drop folder and housekeeping tasks, the
/// chain followers, periodic reconciliation and the workers); each step is a call or a spawn,
/// and the length is their wiring.
async fn start_inner(
    config: Arc<Config>,
    store: Store,
    workers: bool,
    customize: impl FnOnce(&mut Registry),
    bound: Option<std::net::TcpListener>,
) -> Result<Running, StartError> {
    crate::confirm::recover_journal(&store, &config).await?;
    let evm_sinks = crate::ledger::evm::sink::sinks(&config);
    let (dispatcher, rails) =
        dispatcher(config.clone(), store.clone(), evm_sinks.clone(), customize)?;
    let addr = config.server.listen;
    let listener = match bound {
        Some(bound) => bound
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpListener::from_std(bound)),
        None => tokio::net::TcpListener::bind(addr).await,
    }
    .map_err(|source| StartError::Listen { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Listen { addr, source })?;
    let stop = CancellationToken::new();
    let body_budget = Arc::new(tokio::sync::Semaphore::new(
        config.server.body_bytes_in_flight_max,
    ));
    let admission = crate::intake::admission::Admission::new(config.intake.dispatch_lag_ms_max);
    let state = AppState {
        store: store.clone(),
        config: config.clone(),
        wake: dispatcher.wake.clone(),
        throttle: Arc::new(api::Throttle::new(
            config.intake.unauthenticated_failures_per_minute_max,
        )),
        body_budget: body_budget.clone(),
        admission: admission.clone(),
    };
    let app = api::router(state);
    let limits = api::server::Limits {
        connections_max: config.server.connections_max,
        header_read_timeout: std::time::Duration::from_millis(config.server.header_read_timeout_ms),
        idle_timeout: std::time::Duration::from_millis(config.server.idle_timeout_ms),
    };
    let mut tasks = vec![tokio::spawn(api::server::serve(
        listener,
        app,
        limits,
        stop.clone(),
    ))];
    if config.statements.drop_dir.is_some() {
        tasks.push(tokio::spawn(crate::recon::statements::drop_folder::run(
            store.clone(),
            config.clone(),
            stop.clone(),
        )));
    }
    tasks.push(tokio::spawn(crate::memory::trim_after_bursts(
        body_budget,
        config.server.body_bytes_in_flight_max,
        stop.clone(),
    )));
    tasks.push(tokio::spawn(expire_refused(
        store.clone(),
        config.clone(),
        stop.clone(),
    )));
    // One follower task per evm ledger (the chain's node may be down: it retries). Like the
    // workers, none when `workers` is false: such a test steps the follower itself.
    let followed = if workers {
        crate::ledger::evm::ledgers(&config).unwrap_or_default()
    } else {
        Vec::new()
    };
    for ledger in followed {
        let ledger_id = ledger.id.clone();
        let following = crate::ledger::evm::follow::Following::new(
            ledger,
            store.clone(),
            config.clone(),
            dispatcher.wake.clone(),
            evm_sinks[&ledger_id].clone(),
            admission.clone(),
        );
        tasks.push(tokio::spawn(following.run(stop.clone())));
    }
    if workers && config.recon.interval_ms > 0 {
        tasks.push(tokio::spawn(crate::recon::run::periodic(
            store.clone(),
            config.clone(),
            stop.clone(),
        )));
    }
    if workers {
        // The lag is only watched where this instance dispatches: a test that steps the
        // dispatcher itself would otherwise find its events refused between steps.
        tasks.push(tokio::spawn(admission.watch(
            store.clone(),
            std::time::Duration::from_millis(config.intake.dispatch_lag_check_ms.max(10)),
            stop.clone(),
        )));
        for i in 0..config.dispatch.workers {
            tasks.push(tokio::spawn(dispatcher.clone().run_worker(i, stop.clone())));
        }
    }
    tracing::info!(%addr, workers = if workers { config.dispatch.workers } else { 0 }, instance = %dispatcher.owner, "gateway started");
    Ok(Running {
        addr,
        dispatcher,
        stop,
        tasks,
        journalers: rails.tasks,
        links: rails.links,
        evm_sinks,
    })
}

impl Running {
    /// Stops accepting, lets workers finish the batch in hand, drains the switch links, and
    /// waits.
    pub async fn shutdown(self) {
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
        close_links(&self.links, self.journalers).await;
    }

    /// Stops at once, like a killed process: in-flight work is abandoned where it stands,
    /// leases stay held until they expire, connections drop. For crash tests and the demo.
    pub async fn kill(self) {
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks {
            let _ = task.await;
        }
        close_links(&self.links, self.journalers).await;
    }
}

/// Closes every switch link, then ends the journaling tasks, whose senders the links hold.
async fn close_links(links: &[iso8583::Link], journalers: Vec<JoinHandle<()>>) {
    for link in links {
        link.close().await;
    }
    for task in journalers {
        // The link's sink may outlive `close`; give queued messages a moment to be written.
        if tokio::time::timeout(std::time::Duration::from_secs(2), task)
            .await
            .is_err()
        {
            tracing::warn!("a switch journaling task did not finish in time");
        }
    }
}

/// Deletes, every `journal.expire_interval_ms`, what was kept of refused unauthenticated
/// requests past their retention (age and total bytes), and reports what is kept.
async fn expire_refused(store: Store, config: Arc<Config>, stop: CancellationToken) {
    let journal = &config.journal;
    let every = std::time::Duration::from_millis(journal.expire_interval_ms.max(1000));
    let retention_ms = i64::try_from(journal.refused_retention_hours)
        .unwrap_or(i64::MAX / 3_600_000)
        .saturating_mul(3_600_000);
    loop {
        let run = async {
            let mut conn = store.pool().acquire().await?;
            let before = crate::store::now_ms().saturating_sub(retention_ms);
            crate::store::journal::expire_refused(&mut conn, before, journal.refused_bytes_max)
                .await
        };
        match run.await {
            Ok(expired) => {
                metrics::gauge!("corridor_journal_refused_bytes").set(expired.bytes_kept as f64);
                metrics::counter!("corridor_journal_refused_expired_total")
                    .increment(expired.deleted);
                if expired.deleted > 0 {
                    tracing::info!(
                        deleted = expired.deleted,
                        bytes_kept = expired.bytes_kept,
                        "refused unauthenticated requests expired from the journal"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "expiring refused journal entries failed"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
