//! The settlement state machine: one transition table (DESIGN.md decision 8).
//!
//! ```text
//! received ─► routed ─► submitted ─► sent ─► accepted ─► settled
//!    │           │          │         │         │
//!    ▼           └──────────┴─────────┴─────────┴──► rejected / returned / reversed / failed
//! unroutable
//! ```
//! An answer may overtake our own record of the send (an asynchronous pacs.002 can arrive
//! before the HTTP response is processed), so `submitted` may move straight to an answer state.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementState {
    Received,
    Routed,
    Submitted,
    Sent,
    Accepted,
    Settled,
    Rejected,
    Returned,
    Reversed,
    Failed,
    Unroutable,
}

use SettlementState::*;

/// Every legal move. Anything not listed is refused, journaled and surfaced.
const TRANSITIONS: &[(SettlementState, &[SettlementState])] = &[
    (Received, &[Routed, Unroutable, Failed]),
    (Routed, &[Submitted, Failed]),
    (
        Submitted,
        &[Sent, Accepted, Settled, Rejected, Reversed, Failed],
    ),
    (
        Sent,
        &[Accepted, Settled, Rejected, Returned, Reversed, Failed],
    ),
    (Accepted, &[Settled, Rejected, Returned, Failed]),
    (Settled, &[]),
    (Rejected, &[]),
    (Returned, &[]),
    (Reversed, &[]),
    (Failed, &[]),
    (Unroutable, &[]),
];

/// Corrections of a final outcome, outside the table above: not moves a counterparty's
/// answer may make, but what reconciliation establishes from evidence afterwards (a return
/// booked on the statement for a payment the bank had settled). The state stays final; the
/// ledger learns of it by a correction write-back of its own.
const CORRECTIONS: &[(SettlementState, SettlementState)] = &[(Settled, Returned)];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal transition {from} -> {to}")]
pub struct TransitionError {
    pub from: SettlementState,
    pub to: SettlementState,
}

impl SettlementState {
    pub const ALL: [SettlementState; 11] = [
        Received, Routed, Submitted, Sent, Accepted, Settled, Rejected, Returned, Reversed, Failed,
        Unroutable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Received => "received",
            Routed => "routed",
            Submitted => "submitted",
            Sent => "sent",
            Accepted => "accepted",
            Settled => "settled",
            Rejected => "rejected",
            Returned => "returned",
            Reversed => "reversed",
            Failed => "failed",
            Unroutable => "unroutable",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// A final state: written back to the ledger once, never left.
    pub fn is_final(self) -> bool {
        self.successors().is_empty()
    }

    fn successors(self) -> &'static [SettlementState] {
        TRANSITIONS
            .iter()
            .find(|(from, _)| *from == self)
            .map(|(_, to)| *to)
            .unwrap_or(&[])
    }

    /// Checks a correction of a final outcome against its own short table.
    pub fn check_correction(self, to: SettlementState) -> Result<(), TransitionError> {
        if CORRECTIONS.contains(&(self, to)) {
            Ok(())
        } else {
            Err(TransitionError { from: self, to })
        }
    }

    /// Checks a move against the table.
    pub fn check(self, to: SettlementState) -> Result<(), TransitionError> {
        if self.successors().contains(&to) {
            Ok(())
        } else {
            Err(TransitionError { from: self, to })
        }
    }
}

impl fmt::Display for SettlementState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_every_state_once() {
        for state in SettlementState::ALL {
            assert_eq!(
                TRANSITIONS.iter().filter(|(s, _)| *s == state).count(),
                1,
                "{state}"
            );
            assert_eq!(SettlementState::parse(state.as_str()), Some(state));
        }
    }

    #[test]
    fn happy_path_is_legal_and_finals_are_sinks() {
        let path = [Received, Routed, Submitted, Sent, Accepted, Settled];
        for pair in path.windows(2) {
            assert_eq!(pair[0].check(pair[1]), Ok(()));
        }
        let finals: Vec<_> = SettlementState::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(
            finals,
            vec![Settled, Rejected, Returned, Reversed, Failed, Unroutable]
        );
        for from in finals {
            for to in SettlementState::ALL {
                assert!(from.check(to).is_err(), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn only_a_settled_payment_is_corrected_and_only_to_returned() {
        for from in SettlementState::ALL {
            for to in SettlementState::ALL {
                let legal = from == Settled && to == Returned;
                assert_eq!(from.check_correction(to).is_ok(), legal, "{from} -> {to}");
            }
        }
        // A correction is not a move: the ordinary table still ends at settled.
        assert!(Settled.is_final() && Settled.check(Returned).is_err());
    }

    #[test]
    fn going_back_is_illegal() {
        assert_eq!(
            Sent.check(Submitted),
            Err(TransitionError {
                from: Sent,
                to: Submitted
            })
        );
        assert!(Accepted.check(Sent).is_err());
        assert!(Received.check(Sent).is_err());
    }
}
