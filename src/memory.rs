//! Giving memory back once a burst has passed. glibc's allocator keeps the heap pages a burst
//! freed in its arenas, so after many clients held request bodies at once the process would
//! keep that peak for good. A task watches the request-body budget: when bodies were held
//! and then none has been for a quiet interval, it asks the allocator to return its free
//! pages to the system (`malloc_trim`). Elsewhere than Linux with glibc it does nothing. In the
//! `corridor` binary Rust's allocations and SQLite's go to mimalloc (src/main.rs), which gives
//! its free pages back by itself; what this trims there is the little that C code calling
//! `malloc` itself leaves on the system heap.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// How often the budget is looked at; a trim follows the first quiet look after a busy one.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// Trims the heap after each burst of request bodies (`budget` holds `total` permits when no
/// body is held).
pub async fn trim_after_bursts(budget: Arc<Semaphore>, total: usize, stop: CancellationToken) {
    let mut busy_since_trim = false;
    let mut tick = tokio::time::interval(LOOK_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let held = total.saturating_sub(budget.available_permits());
        if held > 0 {
            busy_since_trim = true;
        } else if busy_since_trim {
            busy_since_trim = false;
            if trim() {
                metrics::counter!("corridor_memory_trims_total").increment(1);
                tracing::debug!("request bodies gone: free heap pages returned to the system");
            }
        }
    }
}

/// Returns the allocator's free pages to the system; whether it could.
fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only walks glibc's own arenas and takes no pointer from us.
        unsafe { libc::malloc_trim(0) };
        true
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
