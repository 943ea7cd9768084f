//! Admission: new ledger events wait at the door while dispatch is behind.
//!
//! Intake can take events faster than dispatch can deliver them: a burst from a ledger that
//! was down, or more clients than the rails can serve. Every event taken is durable and will
//! be worked, but past some point each new one only lengthens the queue in front of it, and
//! the time from intake to a final state grows without bound (5–8 s at the p99 with 256
//! clients flat out on two cores, before this existed). So intake measures how far behind
//! dispatch is, the wait of the oldest outbox job that is due and not yet claimed, and while
//! that passes `intake.dispatch_lag_ms_max` it answers new events with `503 overloaded` and
//! `Retry-After`, and the chain followers stop reading further blocks. Nothing refused that
//! way was acknowledged, and nothing of it is stored: the ledger sends it again, as it does
//! after any 5xx.
//!
//! Answers from banks and switches, statements and operators' requests are never refused:
//! they drive work to its end rather than add to it.
//!
//! The lag is read from the store, so it is the same for every instance on a shared
//! database and it sees a dispatcher that is stuck (every worker waiting on a slow bank)
//! as well as one that is busy.

use crate::store::{now_ms, outbox, Store};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a refused sender is asked to wait before sending again (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// The dispatch lag last read, and the bound past which intake refuses new events.
#[derive(Debug)]
pub struct Admission {
    /// Milliseconds the oldest due, unclaimed job has waited; 0 when none.
    lag_ms: AtomicI64,
    /// `intake.dispatch_lag_ms_max`; 0: never refuse.
    bound_ms: i64,
}

/// Why an event was refused at the door.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Behind {
    pub lag_ms: i64,
    pub bound_ms: i64,
}

impl std::fmt::Display for Behind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "dispatch is {} ms behind (the bound is {} ms); send again in {RETRY_AFTER_SECONDS} s",
            self.lag_ms, self.bound_ms
        )
    }
}

impl Admission {
    pub fn new(bound_ms: u64) -> Arc<Self> {
        Arc::new(Admission {
            lag_ms: AtomicI64::new(0),
            bound_ms: i64::try_from(bound_ms).unwrap_or(i64::MAX),
        })
    }

    /// Some when new events are to be refused now.
    pub fn refusal(&self) -> Option<Behind> {
        let lag_ms = self.lag_ms.load(Ordering::Relaxed);
        (self.bound_ms > 0 && lag_ms > self.bound_ms).then_some(Behind {
            lag_ms,
            bound_ms: self.bound_ms,
        })
    }

    /// Records a lag read (what [`Admission::watch`] does after each read; a test may set it
    /// directly); returns whether that changed the door from open to shut or back.
    pub fn record(&self, lag_ms: i64) -> bool {
        let was = self.refusal().is_some();
        self.lag_ms.store(lag_ms, Ordering::Relaxed);
        metrics::gauge!("corridor_dispatch_lag_seconds").set(lag_ms as f64 / 1000.0);
        was != self.refusal().is_some()
    }

    /// Reads the dispatch lag every `every` until `stop`. A failed read keeps the last value
    /// (the store being down shows on every other path; it is not a reason to open the door
    /// or to shut it).
    pub async fn watch(self: Arc<Self>, store: Store, every: Duration, stop: CancellationToken) {
        loop {
            let read = async {
                let mut conn = store.reader().acquire().await?;
                let now = now_ms();
                let oldest = outbox::oldest_due_ms(&mut conn, now).await?;
                Ok::<_, crate::store::StoreError>(oldest.map_or(0, |due| (now - due).max(0)))
            };
            match read.await {
                Ok(lag_ms) if self.record(lag_ms) => match self.refusal() {
                    Some(behind) => tracing::warn!(
                        lag_ms = behind.lag_ms,
                        bound_ms = behind.bound_ms,
                        "dispatch is behind: new ledger events are refused until it catches up"
                    ),
                    None => tracing::info!(
                        lag_ms,
                        "dispatch caught up: new ledger events are taken again"
                    ),
                },
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reading the dispatch lag failed"),
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_only_past_the_bound_and_never_when_the_bound_is_zero() {
        let door = Admission::new(500);
        assert_eq!(door.refusal(), None);
        assert!(!door.record(500), "at the bound the door stays open");
        assert_eq!(door.refusal(), None);
        assert!(door.record(501), "past it the door shuts");
        assert_eq!(
            door.refusal(),
            Some(Behind {
                lag_ms: 501,
                bound_ms: 500
            })
        );
        assert!(!door.record(9_000), "still shut");
        assert!(door.record(0), "caught up: open again");
        assert_eq!(door.refusal(), None);

        let never = Admission::new(0);
        never.record(i64::MAX);
        assert_eq!(never.refusal(), None);
    }
}
