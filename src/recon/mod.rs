//! Reconciliation (DESIGN.md decision 9, issue 9): the four sources (the ledger's settlements,
//! the messages sent, the answers in the inbound journal, the statement entries) matched, the
//! differences raised as typed breaks, and the breaks worked to a resolution.
//!
//! - [`engine`]: the decisions, as a pure function of what was read: exact keys first, then
//!   the tolerant rules of `[recon]`, then the expectations whose time has passed.
//! - [`run`]: reads the sources set-wise, asks the engine, writes its plan in one transaction
//!   (the expectations planned and written a slice of candidates at a time).
//!   A re-run changes nothing already decided (matches, expectations and breaks are keyed); a
//!   dry run plans without writing.
//! - [`breaks`]: the workflow (open → assigned → resolved, reopened) and its append-only audit.
//! - [`evidence`]: one break's sources side by side, readable.
//! - [`resolve`]: resolutions that move money (resend, refund) as outbox jobs, and a return on
//!   the statement for a settled settlement applied as a correction, once.
//! - [`statements`]: statements imported (camt.05x, MT940/950, wallet CSV) into the tables
//!   the engine reads.
//! - [`text`]: the compact ids and keys a run holds for each of a million rows.
//! - [`format_minor`]: amounts printed with their currency's exponent.

pub mod breaks;
pub mod cli;
pub mod engine;
pub mod evidence;
pub mod resolve;
pub mod run;
pub mod statements;
pub mod text;

use crate::store::StoreError;

crate::text_enum! {
    /// What kind of difference a break is.
    pub enum BreakKind {
        /// A dispatched settlement had no final answer within its counterparty's SLA.
        MissingConfirmation => "missing_confirmation",
        /// A settled settlement had no statement entry by its value date + N business days.
        MissingOnStatement => "missing_on_statement",
        /// A statement entry that matches nothing we sent.
        UnexpectedEntry => "unexpected_entry",
        /// The statement moved another amount than the settlement (beyond the tolerance).
        AmountMismatch => "amount_mismatch",
        /// The statement moved another currency than the settlement.
        CurrencyMismatch => "currency_mismatch",
        /// The same answer arrived more than once.
        DuplicateConfirmation => "duplicate_confirmation",
        /// The same payment was booked more than once.
        DuplicateEntry => "duplicate_entry",
        /// Sources disagree on the outcome: an answer contradicting the final state, an
        /// approval after a reversal, a return on the statement for a settled settlement.
        StatusConflict => "status_conflict",
        /// The final answer came, but after the SLA.
        Late => "late",
        /// A statement whose entries do not add up to its closing balance.
        BalanceMismatch => "balance_mismatch",
    }
}

impl BreakKind {
    /// How bad this kind is, before anyone looks at it.
    pub fn severity(self) -> Severity {
        use BreakKind::*;
        match self {
            CurrencyMismatch | StatusConflict => Severity::Critical,
            MissingConfirmation | MissingOnStatement | AmountMismatch | DuplicateEntry
            | BalanceMismatch => Severity::High,
            UnexpectedEntry => Severity::Medium,
            DuplicateConfirmation | Late => Severity::Low,
        }
    }

    /// A short phrase for people.
    pub fn label(self) -> &'static str {
        use BreakKind::*;
        match self {
            MissingConfirmation => "missing confirmation",
            MissingOnStatement => "missing on statement",
            UnexpectedEntry => "unexpected statement entry",
            AmountMismatch => "amount mismatch",
            CurrencyMismatch => "currency mismatch",
            DuplicateConfirmation => "duplicate confirmation",
            DuplicateEntry => "duplicate statement entry",
            StatusConflict => "status conflict",
            Late => "late confirmation",
            BalanceMismatch => "balance mismatch",
        }
    }
}

crate::text_enum! {
    pub enum Severity {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
}

impl Severity {
    /// For sorting: higher is worse.
    pub fn rank(self) -> u8 {
        match self {
            Severity::Low => 0,
            Severity::Medium => 1,
            Severity::High => 2,
            Severity::Critical => 3,
        }
    }
}

crate::text_enum! {
    /// Where a break stands in its workflow.
    pub enum BreakState {
        Open => "open",
        Assigned => "assigned",
        Resolved => "resolved",
    }
}

crate::text_enum! {
    /// How a break was resolved.
    pub enum Resolution {
        /// A person found the counterpart the rules did not.
        MatchedManually => "matched_manually",
        /// Accepted as a loss or a gain.
        WrittenOff => "written_off",
        /// A refund was asked of the ledger that owns the money (moves money: an operator's,
        /// through the outbox).
        RefundRequested => "refund_requested",
        /// The stored message was sent again, same identifiers (moves money: an operator's,
        /// through the outbox).
        Resent => "resent",
        /// The ledger was corrected by its owners.
        LedgerCorrected => "ledger_corrected",
    }
}

impl Resolution {
    /// A resolution that moves money: only an operator may choose it, and it goes through
    /// the outbox as a job of its own ([`resolve`]).
    pub fn moves_money(self) -> bool {
        matches!(self, Resolution::Resent | Resolution::RefundRequested)
    }
}

crate::text_enum! {
    /// One line of a break's audit trail.
    pub enum Action {
        Opened => "opened",
        Assigned => "assigned",
        Commented => "commented",
        Resolved => "resolved",
        Reopened => "reopened",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReconError {
    #[error("no break {0}")]
    NotFound(i64),
    #[error("break {id} is {state}: cannot {action}")]
    Illegal {
        id: i64,
        state: BreakState,
        action: &'static str,
    },
    /// The caller's role does not allow the change.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The change is well formed but the break or its settlement does not allow it.
    #[error("refused: {0}")]
    Refused(String),
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ReconError {
    fn from(e: sqlx::Error) -> Self {
        ReconError::Store(StoreError::Database(e))
    }
}

/// `minor` in `currency` as decimal text with the currency's ISO 4217 exponent (`12.34 USD`
/// for 1234 USD, `1234 JPY`); an unknown code prints the minor units as they are.
pub fn format_minor(minor: i64, currency: &str) -> String {
    let Ok(c) = crate::domain::Currency::parse(currency) else {
        return format!("{minor} (minor units) {currency}");
    };
    let exp = u32::from(c.exponent());
    if exp == 0 {
        return format!("{minor} {currency}");
    }
    let unit = 10i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let unit = unit as u64;
    format!(
        "{sign}{}.{:0width$} {currency}",
        abs / unit,
        abs % unit,
        width = exp as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_with_their_exponent() {
        assert_eq!(format_minor(1234, "USD"), "12.34 USD");
        assert_eq!(format_minor(-5, "EUR"), "-0.05 EUR");
        assert_eq!(format_minor(1234, "JPY"), "1234 JPY");
        assert_eq!(format_minor(1_000_001, "KWD"), "1000.001 KWD");
        assert_eq!(format_minor(7, "XXQ"), "7 (minor units) XXQ");
    }

    #[test]
    fn only_resend_and_refund_move_money() {
        let held: Vec<_> = Resolution::ALL.iter().filter(|r| r.moves_money()).collect();
        assert_eq!(
            held,
            vec![&Resolution::RefundRequested, &Resolution::Resent]
        );
    }
}
