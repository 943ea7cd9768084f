//! A running gateway instance: the HTTP API and the dispatch workers over one store.

use crate::api::{self, AppState};
use crate::config::Config;
use crate::dispatch::Dispatcher;
use crate::rails::bank::BankClient;
use crate::store::Store;
use crate::writeback::Writer;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("bank {bank}: {source}")]
    BankTls {
        bank: String,
        source: crate::rails::bank::TlsSetupError,
    },
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
    tasks: Vec<JoinHandle<()>>,
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

/// Builds the dispatcher (bank clients, writer) without starting anything.
pub fn dispatcher(config: Arc<Config>, store: Store) -> Result<Arc<Dispatcher>, StartError> {
    let mut banks = HashMap::new();
    for bank in &config.banks {
        let client = BankClient::new(bank).map_err(|source| StartError::BankTls {
            bank: bank.id.clone(),
            source,
        })?;
        banks.insert(bank.id.clone(), client);
    }
    Ok(Arc::new(Dispatcher {
        store,
        owner: instance_id(&config),
        writer: Writer::new(config.clone()),
        config,
        banks,
        wake: Arc::new(Notify::new()),
    }))
}

/// Starts the API on `config.server.listen` (port 0 picks one) and `dispatch.workers`
/// workers (none when `workers` is false, for tests that step the outbox by hand).
pub async fn start(
    config: Arc<Config>,
    store: Store,
    workers: bool,
) -> Result<Running, StartError> {
    let dispatcher = dispatcher(config.clone(), store.clone())?;
    let addr = config.server.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Listen { addr, source })?;
    let stop = CancellationToken::new();
    let state = AppState {
        store,
        config: config.clone(),
        wake: dispatcher.wake.clone(),
    };
    let app = api::router(state);
    let server_stop = stop.clone();
    let mut tasks = vec![tokio::spawn(async move {
        let serve = axum::serve(listener, app)
            .with_graceful_shutdown(async move { server_stop.cancelled().await });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    })];
    if workers {
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
    })
}

impl Running {
    /// Stops accepting, lets workers finish the batch in hand, and waits.
    pub async fn shutdown(self) {
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// Stops at once, like a killed process: in-flight work is abandoned where it stands,
    /// leases stay held until they expire. For crash tests and the demo's restart.
    pub async fn kill(self) {
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
