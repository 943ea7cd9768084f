//! Crash points: named places where the process may be killed on purpose, so that a test can
//! prove that a crash at that very step loses and doubles nothing (issue 12).
//!
//! [`crash_point!`](crate::crash_point) marks a step. It is compiled only into builds with
//! `debug_assertions` (the dev profile, which `cargo test` uses to build the binary the tests
//! run): a release build has no crash points, no environment lookup and no cost. Debug
//! assertions were chosen over a cargo feature because a feature would be unified into every
//! build of the workspace that names it, while the profile is what actually separates a test
//! binary from a shipped one.
//!
//! A point is armed by the environment, read once at the first hit of any point:
//! - `CORRIDOR_CRASH_AT=name:N`: the process kills itself with SIGKILL at the Nth hit of the
//!   point `name` (N defaults to 1). Several, comma-separated (`recovery.after_entry:1,
//!   bank.before_send:2`), arm several points at once: whichever is reached first kills.
//! - `CORRIDOR_CRASH_RANDOM=seed:prob`: at each hit of any point, dies with probability `prob`
//!   (0 to 1), drawn from a generator seeded with `seed`.
//!
//! Just before dying the process writes one line to stderr, `corridor crash point: NAME (hit
//! N)` (or `(random)`), so that a harness knows where it stopped. SIGKILL, not `abort` or `exit`: nothing runs
//! after it (no destructor, no flush, no graceful shutdown), as with a power cut or the OOM
//! killer.
//!
//! Every point is listed in [`POINTS`], with where it sits.

/// The prefix of the line written to stderr when a crash point fires.
pub const FIRED_PREFIX: &str = "corridor crash point: ";

/// Every crash point: its name, and the step it sits after.
pub const POINTS: &[(&str, &str)] = &[
    (
        "intake.before_ack",
        "a ledger post's settlements are committed, the answer not yet sent",
    ),
    (
        "group.after_commit",
        "a group commit (on PostgreSQL: a caller's own commit) is durable, its callers not \
         yet told",
    ),
    (
        "bank.before_send",
        "the pacs.008 is stored and its send counted, not yet sent",
    ),
    (
        "bank.after_send",
        "the bank answered the pacs.008, the answer not yet journaled",
    ),
    (
        "bank.answer.after_journal",
        "the bank's answer is journaled, not yet applied",
    ),
    (
        "bank.callback.after_journal",
        "a bank's signed callback is journaled, not yet applied",
    ),
    (
        "wallet.before_send",
        "the 0200 is stored and its send counted, not yet sent",
    ),
    (
        "wallet.after_send",
        "the switch answered the 0200, the answer not yet journaled",
    ),
    (
        "wallet.answer.after_journal",
        "the switch's 0210 is journaled, not yet applied",
    ),
    (
        "wallet.reverse.before_send",
        "the 0420 is stored and its send counted, not yet sent",
    ),
    (
        "wallet.reverse.after_journal",
        "the switch's 0430 is journaled, not yet applied",
    ),
    (
        "writeback.after_send",
        "the ledger acknowledged a write-back, its completion not yet committed",
    ),
    (
        "recovery.after_entry",
        "recovery at start applied one journal entry, before the next",
    ),
];

/// Marks a step where a crash matters. Expands to nothing without `debug_assertions`.
#[macro_export]
macro_rules! crash_point {
    ($name:literal) => {
        #[cfg(debug_assertions)]
        $crate::crash::hit($name);
    };
}

#[cfg(debug_assertions)]
pub use armed::hit;

#[cfg(debug_assertions)]
mod armed {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    /// What the environment asked for, read once.
    struct Plan {
        /// `CORRIDOR_CRASH_AT`: each point, the hit to die at, and the hits so far.
        at: Vec<(String, u64, AtomicU64)>,
        /// `CORRIDOR_CRASH_RANDOM`: the generator's state and the chance to die, in 2^-32.
        random: Option<(AtomicU64, u64)>,
    }

    static PLAN: OnceLock<Plan> = OnceLock::new();

    fn plan() -> &'static Plan {
        PLAN.get_or_init(|| {
            let at = std::env::var("CORRIDOR_CRASH_AT")
                .map(|v| {
                    v.split(',')
                        .filter(|part| !part.trim().is_empty())
                        .filter_map(parse_at)
                        .collect()
                })
                .unwrap_or_default();
            let random = std::env::var("CORRIDOR_CRASH_RANDOM")
                .ok()
                .and_then(|v| parse_random(&v));
            Plan { at, random }
        })
    }

    /// `name[:N]`, N ≥ 1.
    fn parse_at(value: &str) -> Option<(String, u64, AtomicU64)> {
        let (name, n) = match value.rsplit_once(':') {
            Some((name, n)) => (name, n.trim().parse().ok().filter(|n| *n >= 1)?),
            None => (value, 1),
        };
        let name = name.trim();
        if !super::POINTS.iter().any(|(p, _)| *p == name) {
            eprintln!("CORRIDOR_CRASH_AT names no crash point: {name:?}; ignored");
            return None;
        }
        Some((name.to_string(), n, AtomicU64::new(0)))
    }

    /// `seed:prob`, prob in [0, 1].
    fn parse_random(value: &str) -> Option<(AtomicU64, u64)> {
        let (seed, prob) = value.split_once(':')?;
        let seed: u64 = seed.trim().parse().ok()?;
        let prob: f64 = prob.trim().parse().ok()?;
        if !(0.0..=1.0).contains(&prob) {
            return None;
        }
        // A zero state would stay zero in xorshift.
        Some((
            AtomicU64::new(seed | 1),
            (prob * f64::from(u32::MAX)) as u64,
        ))
    }

    /// One step of xorshift64: enough to spread hits, reproducible from the seed.
    fn next(state: &AtomicU64) -> u64 {
        let mut x = state.load(Ordering::Relaxed);
        loop {
            let mut y = x;
            y ^= y << 13;
            y ^= y >> 7;
            y ^= y << 17;
            match state.compare_exchange_weak(x, y, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return y,
                Err(seen) => x = seen,
            }
        }
    }

    /// A crash point was reached: dies here if the plan says so.
    pub fn hit(name: &'static str) {
        let plan = plan();
        for (point, n, hits) in &plan.at {
            if point == name {
                let hit = hits.fetch_add(1, Ordering::SeqCst) + 1;
                if hit == *n {
                    die(name, &format!("hit {hit}"));
                }
            }
        }
        if let Some((state, threshold)) = &plan.random {
            if (next(state) >> 32) < *threshold {
                die(name, "random");
            }
        }
    }

    fn die(name: &str, why: &str) -> ! {
        // stderr is unbuffered: the line is out before the signal.
        eprintln!("{}{name} ({why})", super::FIRED_PREFIX);
        // SAFETY: kill(2) on our own pid with a signal number; no memory is involved.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        // SIGKILL to oneself is delivered before kill returns; should it not be, no code
        // past a crash point may run.
        std::process::abort()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn arming_is_read_with_its_count() {
            let (name, n, _) = parse_at("bank.before_send:3").unwrap();
            assert_eq!((name.as_str(), n), ("bank.before_send", 3));
            let (name, n, _) = parse_at("bank.after_send").unwrap();
            assert_eq!((name.as_str(), n), ("bank.after_send", 1));
            assert!(parse_at("bank.before_send:0").is_none());
            assert!(parse_at("no.such.point:1").is_none());
            assert!(parse_random("7:0.5").is_some());
            assert!(parse_random("7:1.5").is_none());
            assert!(parse_random("x:0.5").is_none());
        }

        #[test]
        fn the_random_draws_repeat_from_a_seed() {
            let (a, _) = parse_random("42:0.1").unwrap();
            let (b, _) = parse_random("42:0.1").unwrap();
            let draws_a: Vec<u64> = (0..5).map(|_| next(&a)).collect();
            let draws_b: Vec<u64> = (0..5).map(|_| next(&b)).collect();
            assert_eq!(draws_a, draws_b);
            assert_eq!(
                draws_a
                    .iter()
                    .collect::<std::collections::HashSet<_>>()
                    .len(),
                5
            );
        }
    }
}
