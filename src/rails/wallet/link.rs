//! Persistent links to ISO 8583 switches, one per configured switch, and the journaling of
//! everything a switch sends that is not the answer to a waiting request (late answers,
//! unmatched answers, unsolicited requests, undecodable frames): nothing is dropped.

use crate::config::SwitchConfig;
use crate::store::journal::{self, Channel, Status};
use crate::store::{Store, StoreError};
use iso8583::{Inbound, Link, LinkConfig, Spec, StanSource, TlsClient};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Most inbound messages queued from one link before the link waits for the journal.
const INBOUND_QUEUE_MAX: usize = 1024;

/// A live link with what is needed to speak on it.
#[derive(Clone)]
pub struct SwitchLink {
    pub link: Link,
    pub config: SwitchConfig,
    pub spec: Arc<Spec>,
}

#[derive(Debug, thiserror::Error)]
pub enum LinkSetupError {
    #[error("switch {0}: {1}")]
    Spec(String, String),
    #[error("switch {switch}: TLS CA {path}: {why}")]
    Tls {
        switch: String,
        path: String,
        why: String,
    },
}

fn tls(switch: &SwitchConfig) -> Result<Option<TlsClient>, LinkSetupError> {
    let Some(path) = &switch.tls_ca_file else {
        return Ok(None);
    };
    let err = |why: String| LinkSetupError::Tls {
        switch: switch.id.clone(),
        path: path.display().to_string(),
        why,
    };
    let roots = crate::rails::bank::trust_roots(path).map_err(|e| err(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let host = switch
        .addr
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(&switch.addr);
    Ok(Some(TlsClient {
        config: Arc::new(config),
        server_name: switch
            .tls_server_name
            .clone()
            .unwrap_or_else(|| host.to_string()),
    }))
}

/// The open links by switch id, and their journaling tasks.
pub type OpenLinks = (HashMap<String, SwitchLink>, Vec<JoinHandle<()>>);

/// Opens a link to every switch (they connect and sign on in the background, reconnecting
/// for ever) and starts one journaling task per link.
pub fn open_all(switches: &[SwitchConfig], store: &Store) -> Result<OpenLinks, LinkSetupError> {
    let mut links = HashMap::new();
    let mut tasks = Vec::new();
    for switch in switches {
        let spec = super::spec(switch)
            .map_err(|e| LinkSetupError::Spec(switch.id.clone(), e.to_string()))?;
        let mut cfg = LinkConfig::new(switch.addr.clone(), spec.clone());
        cfg.name = switch.id.clone();
        cfg.tls = tls(switch)?;
        cfg.request_timeout_ms = switch.timeout_ms;
        cfg.echo_idle_ms = switch.echo_idle_ms;
        cfg.echo_timeout_ms = switch.echo_timeout_ms;
        // Sign-on and echo take their STAN from the store's sequence for this switch, the one
        // every 0200 and 0420 takes from: DE11 never repeats on the link between them.
        cfg.stan_source = Some(Arc::new(StoreStans {
            store: store.clone(),
            switch: switch.id.clone(),
        }));
        let (sink, inbound) = mpsc::channel(INBOUND_QUEUE_MAX);
        let link = Link::connect(cfg, sink);
        tasks.push(tokio::spawn(journal_inbound(
            store.clone(),
            switch.clone(),
            inbound,
        )));
        links.insert(
            switch.id.clone(),
            SwitchLink {
                link,
                config: switch.clone(),
                spec,
            },
        );
    }
    Ok((links, tasks))
}

/// The store's persistent STAN sequence of one switch, for the link's own requests.
struct StoreStans {
    store: Store,
    switch: String,
}

impl StanSource for StoreStans {
    fn next_stan(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send + '_>>
    {
        Box::pin(async move {
            let take = async {
                let mut tx = self.store.begin().await?;
                let stan = crate::store::messages::next_stan(&mut tx, &self.switch).await?;
                tx.commit().await?;
                Ok::<_, StoreError>(stan)
            };
            take.await.map_err(|e| e.to_string())
        })
    }
}

async fn journal_inbound(store: Store, switch: SwitchConfig, mut inbound: mpsc::Receiver<Inbound>) {
    while let Some(message) = inbound.recv().await {
        if let Err(e) = journal_one(&store, &switch, message).await {
            tracing::error!(switch = %switch.id, error = %e, "could not journal a message from the switch");
        }
    }
}

async fn journal_one(
    store: &Store,
    switch: &SwitchConfig,
    inbound: Inbound,
) -> Result<(), StoreError> {
    let source = Some(switch.id.as_str());
    // Journal first: whatever the classification below finds (or fails to), the bytes stay.
    let raw = match &inbound {
        Inbound::Undecodable { raw, .. }
        | Inbound::Request { raw, .. }
        | Inbound::Unmatched { raw, .. } => raw.clone(),
    };
    let id = journal::record(
        store,
        Channel::SwitchMessage,
        source,
        Some("application/iso8583"),
        &raw,
        journal::AuthenticatedBy::SwitchLink,
    )
    .await?;
    let (status, detail, settlement, kind) = match inbound {
        Inbound::Undecodable { error, .. } => (
            Status::Rejected,
            format!("undecodable frame: {error}"),
            None,
            None,
        ),
        Inbound::Request { message, .. } => (
            Status::Unmatched,
            format!("unsolicited request {}", message.mti()),
            None,
            Some(message.mti().to_string()),
        ),
        Inbound::Unmatched { message, late, .. } => {
            let mut conn = store.pool().acquire().await?;
            let (status, detail, settlement) =
                crate::confirm::wallet::classify_unmatched(&mut conn, switch, &message, late)
                    .await?;
            (status, detail, settlement, Some(message.mti().to_string()))
        }
    };
    let mut conn = store.pool().acquire().await?;
    if status == Status::Conflict {
        tracing::warn!(switch = %switch.id, journal = id, %detail, "switch answer contradicts the settlement: kept as a break");
    }
    journal::mark(
        &mut conn,
        id,
        status,
        &journal::Outcome {
            detail: Some(&detail),
            settlement_id: settlement.as_deref(),
            message_kind: kind.as_deref(),
            message_ref: None,
        },
    )
    .await
}
