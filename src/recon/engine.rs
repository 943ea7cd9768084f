//! The decisions of one reconciliation run, as a pure function of what was read ([`plan`]):
//! no I/O here, so every rule is tested on plain values.
//!
//! Order matters and is fixed:
//! 1. Statement entries already seen by their AcctSvcrRef are duplicates.
//! 2. Exact keys join an entry to a settlement: UETR, EndToEndId, InstrId, then STAN + RRN
//!    within the date window (the wallet rail). A return on the statement found this way for
//!    a settled settlement is a status conflict. The keyed entries of one settlement are then
//!    judged together: one exact amount (1:1), a split that adds up (1:N), one within the
//!    tolerance or explained by its charges (1:1), or else an amount mismatch; an extra entry
//!    of the same amount is a duplicate; a charge booked separately joins the group.
//! 3. Tolerant rules for entries without keys: the reference names the settlement; the amount
//!    and date single out one settlement (never a guess between several); the entry pays a
//!    whole day's batch to one counterparty (N:1). What is left is unexpected.
//! 4. Expectations: a final answer within the counterparty's SLA, a statement entry by the
//!    value date + N business days; one whose time has passed becomes a break.
//! 5. Answers the journal marked duplicate or conflicting; statements that do not add up.
//!
//! Everything carries a natural key, and whatever key already exists is left alone: a re-run
//! changes nothing already decided.

use super::text::{Shared, Text};
use super::BreakKind;
use crate::config::ReconConfig;
use crate::domain::SettlementState;
use hashbrown::HashTable;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use time::Date;

/// A dispatched settlement with the keys of its payment message.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub id: Text,
    pub state: SettlementState,
    pub amount_minor: i64,
    pub currency: Shared,
    pub counterparty: Shared,
    pub message_id: i64,
    pub uetr: Option<Text>,
    pub end_to_end_id: Option<Text>,
    pub instr_id: Option<Text>,
    pub stan: Option<Text>,
    pub rrn: Option<Text>,
    pub first_sent_at_ms: i64,
    pub final_at_ms: Option<i64>,
    /// A statement entry was joined to it by an earlier run.
    pub statement_matched: bool,
    /// The journal entry that applied its final answer, if any.
    pub applied_answer: Option<i64>,
    /// What earlier runs recorded of its expectations.
    pub recorded: Recorded,
}

/// What earlier runs recorded of a candidate's two expectations (`recon_expectations`), read
/// with the candidate: a map of every stored expectation held millions of ids beside the
/// candidates that already hold them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// `None`: not recorded yet; else whether it is met.
    pub confirmation: Option<bool>,
    pub statement: Option<bool>,
    /// The due time recorded with the statement expectation.
    pub statement_due_ms: Option<i64>,
}

/// A booked statement entry that no run has decided on yet.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub id: i64,
    pub statement: i64,
    pub account: Shared,
    pub value_date: Option<Date>,
    pub amount_minor: i64,
    pub currency: Shared,
    pub reversal: bool,
    pub return_reason: Option<Text>,
    pub uetr: Option<Text>,
    pub end_to_end_id: Option<Text>,
    pub instr_id: Option<Text>,
    pub acct_svcr_ref: Option<Text>,
    pub stan: Option<Text>,
    pub rrn: Option<Text>,
    pub reference: Option<Text>,
    pub charges_minor: Option<i64>,
}

/// An answer the journal marked duplicate or conflicting.
#[derive(Clone, Debug)]
pub struct Answer {
    pub inbound_id: i64,
    pub settlement_id: String,
    pub conflict: bool,
    pub detail: Option<String>,
    pub counterparty: Option<String>,
    pub currency: Option<String>,
    pub amount_minor: i64,
}

/// A statement whose entries do not add up.
#[derive(Clone, Debug)]
pub struct Unbalanced {
    pub statement: i64,
    pub account: String,
    pub statement_ref: String,
    pub currency: String,
    pub gap_minor: i64,
}

crate::text_enum! {
    pub enum ExpectationKind {
        Confirmation => "confirmation",
        Statement => "statement",
    }
}

crate::text_enum! {
    pub enum Source {
        Message => "message",
        Answer => "answer",
        Statement => "statement",
    }
}

/// Everything one run reads.
#[derive(Debug, Default)]
pub struct Inputs {
    pub candidates: Vec<Candidate>,
    pub entries: Vec<Entry>,
    pub answers: Vec<Answer>,
    pub unbalanced: Vec<Unbalanced>,
    /// Natural keys of every break ever raised.
    pub existing_keys: HashSet<String>,
    /// AcctSvcrRefs of entries decided by earlier runs.
    pub seen_acct_svcr_refs: HashSet<String>,
}

/// The group a match belongs to; written as `st:<settlement>`, `conf:<settlement>`,
/// `return:<entry>` or `batch:<entry>`. Borrowed, like the settlement ids of matches and
/// expectations: a run over a million settlements plans millions of both, and a copy of each
/// id and key in each of them was a large share of the run's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupKey<'a> {
    /// The statement entries joined to one settlement.
    Settlement(&'a str),
    /// A settlement's payment message and its final answer.
    Confirmation(&'a str),
    /// A return booked on the statement.
    Return(i64),
    /// A statement entry paying a day's batch.
    Batch(i64),
}

impl std::fmt::Display for GroupKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupKey::Settlement(id) => write!(f, "st:{id}"),
            GroupKey::Confirmation(id) => write!(f, "conf:{id}"),
            GroupKey::Return(entry) => write!(f, "return:{entry}"),
            GroupKey::Batch(entry) => write!(f, "batch:{entry}"),
        }
    }
}

impl serde::Serialize for GroupKey<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Which group a match belongs to. Its key ([`GroupKey`]) is the match's own settlement or
/// entry, so a match carries the kind alone: a run plans millions of matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Settlement,
    Confirmation,
    Return,
    Batch,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedMatch<'a> {
    pub settlement_id: &'a str,
    pub source_id: i64,
    pub rule: &'static str,
    pub cardinality: &'static str,
    pub group: Group,
    pub source: Source,
}

impl<'a> PlannedMatch<'a> {
    pub fn group_key(&self) -> GroupKey<'a> {
        match self.group {
            Group::Settlement => GroupKey::Settlement(self.settlement_id),
            Group::Confirmation => GroupKey::Confirmation(self.settlement_id),
            Group::Return => GroupKey::Return(self.source_id),
            Group::Batch => GroupKey::Batch(self.source_id),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PlannedBreak {
    pub natural_key: String,
    pub kind: BreakKind,
    pub settlement_id: Option<String>,
    pub counterparty: Option<String>,
    pub currency: Option<String>,
    pub amount_at_risk_minor: i64,
    pub detail: String,
    pub inbound_id: Option<i64>,
    pub statement_id: Option<i64>,
    pub entry_ids: Vec<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PlannedExpectation<'a> {
    pub settlement_id: &'a str,
    pub kind: &'static str,
    pub due_at_ms: i64,
    pub met_at_ms: Option<i64>,
}

/// What a run decided.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    pub matches: Vec<PlannedMatch<'a>>,
    pub breaks: Vec<PlannedBreak>,
    pub expectations: Vec<PlannedExpectation<'a>>,
    /// Outcomes the statement establishes: a return for a settlement still waiting for its
    /// answer moves it to `returned` (and so to its one write-back).
    pub returns: Vec<PlannedReturn>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PlannedReturn {
    pub settlement_id: String,
    pub entry_id: i64,
    pub reason_code: Option<String>,
}

const DAY_MS: i64 = 86_400_000;

/// Decides one run as of `as_of_ms`.
pub fn plan<'a>(inputs: &'a Inputs, config: &ReconConfig, as_of_ms: i64) -> Plan<'a> {
    Staged::new(inputs, config, as_of_ms).finish()
}

/// [`plan`] in steps, so that a caller can write and drop the matches and expectations planned
/// so far before planning more: the expectations of a million candidates (two each, with a
/// match for each payment message) would otherwise be held at once, a fifth of a large
/// run's memory. The decisions and their order are those of [`plan`].
pub struct Staged<'a, 'c> {
    planner: Planner<'a, 'c>,
    as_of_ms: i64,
    /// The first candidate whose expectations are not planned yet.
    next: usize,
}

impl<'a, 'c> Staged<'a, 'c> {
    /// Plans every statement entry (their matches are waiting in [`Staged::take`]).
    pub fn new(inputs: &'a Inputs, config: &'c ReconConfig, as_of_ms: i64) -> Self {
        let mut planner = Planner {
            inputs,
            config,
            // Checked when the configuration was loaded; a calendar that does not read is
            // empty.
            holidays: config.holiday_calendar().unwrap_or_default(),
            plan: Plan::default(),
            raised: HashSet::new(),
            returned_now: HashSet::new(),
            statement_matched: inputs
                .candidates
                .iter()
                .map(|c| c.statement_matched)
                .collect(),
        };
        planner.statement_entries();
        Staged {
            planner,
            as_of_ms,
            next: 0,
        }
    }

    /// Plans the expectations of the next `n` candidates; false (and nothing planned) once
    /// every candidate's are.
    pub fn expectations_next(&mut self, n: usize) -> bool {
        let total = self.planner.inputs.candidates.len();
        if self.next >= total {
            return false;
        }
        let end = self.next.saturating_add(n).min(total);
        self.planner.expectations(self.next..end, self.as_of_ms);
        self.next = end;
        true
    }

    /// The matches and expectations planned since the last call, moved out.
    pub fn take(&mut self) -> (Vec<PlannedMatch<'a>>, Vec<PlannedExpectation<'a>>) {
        let plan = &mut self.planner.plan;
        (
            std::mem::take(&mut plan.matches),
            std::mem::take(&mut plan.expectations),
        )
    }

    /// The expectations left, the answers and the balances; the plan (with whatever matches
    /// and expectations were not taken).
    pub fn finish(mut self) -> Plan<'a> {
        while self.expectations_next(usize::MAX) {}
        self.planner.answers();
        self.planner.balances();
        self.planner.plan
    }
}

struct Planner<'a, 'c> {
    inputs: &'a Inputs,
    config: &'c ReconConfig,
    holidays: crate::config::HolidayCalendar,
    plan: Plan<'a>,
    /// Keys raised in this run (with `existing_keys`, what must not be raised again).
    raised: HashSet<String>,
    /// Candidates this run's statement returns (their answer is the return).
    returned_now: HashSet<usize>,
    /// Per candidate: joined to a statement entry (by an earlier run or this one).
    statement_matched: Vec<bool>,
}

impl<'a> Planner<'a, '_> {
    fn raise(&mut self, b: PlannedBreak) {
        if self.inputs.existing_keys.contains(&b.natural_key)
            || !self.raised.insert(b.natural_key.clone())
        {
            return;
        }
        self.plan.breaks.push(b);
    }

    fn join(&mut self, group: Group, c: usize, entry: i64, rule: &'static str, card: &'static str) {
        self.statement_matched[c] = true;
        let inputs: &'a Inputs = self.inputs;
        self.plan.matches.push(PlannedMatch {
            settlement_id: inputs.candidates[c].id.as_str(),
            source_id: entry,
            rule,
            cardinality: card,
            group,
            source: Source::Statement,
        });
    }

    fn entry_break(
        &mut self,
        kind: BreakKind,
        e: &Entry,
        c: Option<usize>,
        risk: i64,
        detail: String,
    ) {
        let cand = c.map(|i| &self.inputs.candidates[i]);
        let key = match kind {
            BreakKind::AmountMismatch => {
                format!("{}:{}", kind.as_str(), cand.map_or("-", |c| c.id.as_str()))
            }
            _ => format!("{}:{}", kind.as_str(), e.id),
        };
        self.raise(PlannedBreak {
            natural_key: key,
            kind,
            settlement_id: cand.map(|c| c.id.to_string()),
            counterparty: cand.map(|c| c.counterparty.to_string()),
            currency: Some(e.currency.to_string()),
            amount_at_risk_minor: risk,
            detail,
            inbound_id: None,
            statement_id: Some(e.statement),
            entry_ids: vec![e.id],
        });
    }

    fn tolerance(&self, amount: i64) -> i64 {
        let share = amount.saturating_mul(self.config.amount_tolerance_basis_points) / 10_000;
        self.config.amount_tolerance_minor.max(share)
    }

    fn statement_entries(&mut self) {
        let inputs: &'a Inputs = self.inputs;
        let index = KeyIndex::new(&inputs.candidates);
        let mut seen_refs: HashSet<&str> = inputs
            .seen_acct_svcr_refs
            .iter()
            .map(String::as_str)
            .collect();
        seen_refs.reserve(inputs.entries.len());
        // (candidate, entry) in entry order; sorted by candidate below, stably, so that each
        // candidate's entries stay in the order read.
        let mut keyed: Vec<(usize, &Entry)> = Vec::with_capacity(inputs.entries.len());
        let mut loose: Vec<&Entry> = Vec::new();
        for e in &inputs.entries {
            if !ours(self.config, e) {
                continue;
            }
            if let Some(r) = &e.acct_svcr_ref {
                if !seen_refs.insert(r.as_str()) {
                    let detail = format!(
                        "entry {} repeats the AcctSvcrRef {r} of an entry already booked",
                        e.id
                    );
                    self.entry_break(BreakKind::DuplicateEntry, e, None, e.amount_minor, detail);
                    continue;
                }
            }
            match index.find(e, &inputs.candidates, self.config.date_window_days) {
                Some((c, rule)) if is_return(e) => self.keyed_return(e, c, rule),
                Some((c, _)) => keyed.push((c, e)),
                None => loose.push(e),
            }
        }
        keyed.sort_by_key(|(c, _)| *c);
        let mut group: Vec<&Entry> = Vec::new();
        for (at, (c, e)) in keyed.iter().enumerate() {
            group.push(e);
            if keyed.get(at + 1).is_none_or(|(next, _)| next != c) {
                self.keyed_group(*c, &group);
                group.clear();
            }
        }
        self.loose(&loose, &index);
    }

    fn keyed_return(&mut self, e: &Entry, c: usize, rule: &'static str) {
        let cand = &self.inputs.candidates[c];
        self.join(Group::Return, c, e.id, rule, "1:1");
        if matches!(
            cand.state,
            SettlementState::Sent | SettlementState::Accepted
        ) {
            self.returned_now.insert(c);
            self.plan.returns.push(PlannedReturn {
                settlement_id: cand.id.to_string(),
                entry_id: e.id,
                reason_code: e.return_reason.as_ref().map(Text::to_string),
            });
        }
        // A settled settlement cannot move: its outcome is final and written back once, and
        // the ledger records one outcome per settlement. A person must correct the ledger.
        if cand.state == SettlementState::Settled {
            let detail = format!(
                "the statement returns {} (reason {}) for a settlement written back to the ledger as settled",
                super::format_minor(e.amount_minor, &e.currency),
                e.return_reason.as_deref().unwrap_or("none given")
            );
            self.raise(PlannedBreak {
                natural_key: format!("status_conflict:return:{}", e.id),
                kind: BreakKind::StatusConflict,
                settlement_id: Some(cand.id.to_string()),
                counterparty: Some(cand.counterparty.to_string()),
                currency: Some(e.currency.to_string()),
                amount_at_risk_minor: e.amount_minor,
                detail,
                inbound_id: None,
                statement_id: Some(e.statement),
                entry_ids: vec![e.id],
            });
        }
    }

    /// Joins the entries in another currency than settlement `c`'s, each with its break;
    /// returns the others, in order.
    fn other_currencies_apart<'e>(&mut self, c: usize, entries: &[&'e Entry]) -> Vec<&'e Entry> {
        let inputs: &'a Inputs = self.inputs;
        let cand = &inputs.candidates[c];
        let mut rest: Vec<&Entry> = Vec::new();
        for e in entries {
            if e.currency != cand.currency {
                self.join(Group::Settlement, c, e.id, "currency_mismatch", "1:1");
                let detail = format!(
                    "the statement moved {} for a settlement of {}",
                    super::format_minor(e.amount_minor, &e.currency),
                    super::format_minor(cand.amount_minor, &cand.currency)
                );
                self.entry_break(
                    BreakKind::CurrencyMismatch,
                    e,
                    Some(c),
                    cand.amount_minor,
                    detail,
                );
            } else {
                rest.push(e);
            }
        }
        rest
    }

    /// The entries joined to one settlement by exact keys, judged together.
    fn keyed_group(&mut self, c: usize, entries: &[&Entry]) {
        let inputs: &'a Inputs = self.inputs;
        let cand = &inputs.candidates[c];
        let group = Group::Settlement;
        let rest = self.other_currencies_apart(c, entries);
        if rest.is_empty() {
            return;
        }
        let tol = self.tolerance(cand.amount_minor);
        // Joined by an earlier run (a return joined in this one is not the payment).
        let already = cand.statement_matched;
        let exact: Vec<&Entry> = rest
            .iter()
            .copied()
            .filter(|e| e.amount_minor == cand.amount_minor)
            .collect();
        let sum: i64 = rest.iter().map(|e| e.amount_minor).sum();
        if !already && exact.is_empty() && rest.len() > 1 && sum == cand.amount_minor {
            for e in &rest {
                self.join(group, c, e.id, "split", "1:N");
            }
            return;
        }
        let mut principal_taken = already;
        for e in rest {
            let explained = e.amount_minor + e.charges_minor.unwrap_or(0) == cand.amount_minor;
            let within = (e.amount_minor - cand.amount_minor).abs() <= tol;
            if !principal_taken && e.amount_minor == cand.amount_minor {
                principal_taken = true;
                self.join(group, c, e.id, "exact_key", "1:1");
            } else if principal_taken && e.amount_minor == cand.amount_minor {
                let detail = format!(
                    "the payment of {} is booked again (entry {})",
                    super::format_minor(e.amount_minor, &e.currency),
                    e.id
                );
                self.join(group, c, e.id, "duplicate", "1:N");
                self.entry_break(
                    BreakKind::DuplicateEntry,
                    e,
                    Some(c),
                    e.amount_minor,
                    detail,
                );
            } else if principal_taken
                && e.amount_minor <= tol.max(e.charges_minor.unwrap_or(0))
                && e.amount_minor > 0
                && exact.len() == 1
            {
                self.join(group, c, e.id, "charge", "1:N");
            } else if !principal_taken && exact.is_empty() && (explained || within) {
                principal_taken = true;
                let rule = if explained { "charges" } else { "tolerance" };
                self.join(group, c, e.id, rule, "1:1");
            } else {
                principal_taken = true;
                self.join(group, c, e.id, "amount_mismatch", "1:1");
                let detail = format!(
                    "the statement moved {} for a settlement of {}",
                    super::format_minor(e.amount_minor, &e.currency),
                    super::format_minor(cand.amount_minor, &cand.currency)
                );
                let risk = (e.amount_minor - cand.amount_minor).abs();
                self.entry_break(BreakKind::AmountMismatch, e, Some(c), risk, detail);
            }
        }
    }

    /// The settled candidates no statement entry has joined yet, by (currency, amount) and by
    /// (counterparty, currency, day settled): what the tolerant rules look entries up in.
    #[allow(clippy::type_complexity)]
    fn unjoined_settled(
        &self,
    ) -> (
        HashMap<(&'a str, i64), Vec<usize>>,
        BTreeMap<(&'a str, &'a str, Date), Vec<usize>>,
    ) {
        let inputs: &'a Inputs = self.inputs;
        let mut by_amount: HashMap<(&str, i64), Vec<usize>> = HashMap::new();
        let mut batches: BTreeMap<(&str, &str, Date), Vec<usize>> = BTreeMap::new();
        for (i, c) in inputs.candidates.iter().enumerate() {
            if c.state == SettlementState::Settled && !self.statement_matched[i] {
                by_amount
                    .entry((c.currency.as_str(), c.amount_minor))
                    .or_default()
                    .push(i);
                batches
                    .entry((
                        c.counterparty.as_str(),
                        c.currency.as_str(),
                        settled_date(c),
                    ))
                    .or_default()
                    .push(i);
            }
        }
        (by_amount, batches)
    }

    /// Entries without keys: the tolerant rules, then unexpected.
    fn loose(&mut self, loose: &[&Entry], index: &KeyIndex<'_>) {
        let inputs: &'a Inputs = self.inputs;
        let cands = &inputs.candidates;
        let (by_amount, batches) = self.unjoined_settled();
        let window = self.config.date_window_days;
        let in_window = |e: &Entry, c: &Candidate| match e.value_date {
            Some(d) => (d - settled_date(c)).whole_days().abs() <= window,
            None => true,
        };
        for e in loose {
            if is_return(e) {
                let detail = format!(
                    "a return of {} that names no settlement we sent",
                    super::format_minor(e.amount_minor, &e.currency)
                );
                self.entry_break(BreakKind::UnexpectedEntry, e, None, e.amount_minor, detail);
                continue;
            }
            if self.config.match_reference {
                if let Some(c) = index.by_reference(e) {
                    let cand = &cands[c];
                    let diff = (e.amount_minor - cand.amount_minor).abs();
                    if !self.statement_matched[c]
                        && cand.currency == e.currency
                        && diff <= self.tolerance(cand.amount_minor)
                    {
                        self.join(Group::Settlement, c, e.id, "reference", "1:1");
                        continue;
                    }
                }
            }
            let single: Vec<usize> = by_amount
                .get(&(e.currency.as_str(), e.amount_minor))
                .map(|v| {
                    v.iter()
                        .copied()
                        .filter(|&i| !self.statement_matched[i] && in_window(e, &cands[i]))
                        .collect()
                })
                .unwrap_or_default();
            if single.len() == 1 {
                let c = single[0];
                self.join(Group::Settlement, c, e.id, "amount_date", "1:1");
                continue;
            }
            let batch = batches.iter().find(|((_, cur, day), members)| {
                *cur == e.currency.as_str()
                    && members.len() > 1
                    && e.value_date
                        .is_none_or(|d| (d - *day).whole_days().abs() <= window)
                    && members.iter().all(|&i| !self.statement_matched[i])
                    && members.iter().map(|&i| cands[i].amount_minor).sum::<i64>() == e.amount_minor
            });
            if let Some((_, members)) = batch {
                let members = members.clone();
                for c in members {
                    self.join(Group::Batch, c, e.id, "batch", "N:1");
                }
                continue;
            }
            let detail = format!(
                "{} on account {} matches nothing sent",
                super::format_minor(e.amount_minor, &e.currency),
                e.account
            );
            self.entry_break(BreakKind::UnexpectedEntry, e, None, e.amount_minor, detail);
        }
    }

    fn sla_ms(&self, counterparty: &str) -> i64 {
        self.config
            .sla
            .iter()
            .find(|s| s.counterparty == counterparty)
            .map_or(self.config.confirmation_sla_ms, |s| s.confirmation_sla_ms)
    }

    fn expectations(&mut self, candidates: std::ops::Range<usize>, as_of_ms: i64) {
        let inputs: &'a Inputs = self.inputs;
        for (i, c) in inputs
            .candidates
            .iter()
            .enumerate()
            .take(candidates.end)
            .skip(candidates.start)
        {
            let returned = self.returned_now.contains(&i).then_some(as_of_ms);
            self.confirmation(c, returned, as_of_ms);
            if c.state == SettlementState::Settled {
                self.statement(c, self.statement_matched[i], as_of_ms);
            }
        }
    }

    /// Joins settlement `c`'s confirmation: the message sent and the answer applied.
    fn confirmed(&mut self, c: &'a Candidate) {
        self.plan.matches.push(PlannedMatch {
            settlement_id: c.id.as_str(),
            source_id: c.message_id,
            rule: "outbound",
            cardinality: "1:1",
            group: Group::Confirmation,
            source: Source::Message,
        });
        if let Some(inbound) = c.applied_answer {
            self.plan.matches.push(PlannedMatch {
                settlement_id: c.id.as_str(),
                source_id: inbound,
                rule: "journal",
                cardinality: "1:1",
                group: Group::Confirmation,
                source: Source::Answer,
            });
        }
    }

    /// `returned`: this run found the outcome (a return) on the statement, at that time.
    fn confirmation(&mut self, c: &'a Candidate, returned: Option<i64>, as_of_ms: i64) {
        let due = c
            .first_sent_at_ms
            .saturating_add(self.sla_ms(&c.counterparty));
        let met = c.final_at_ms.filter(|_| c.state.is_final()).or(returned);
        let stored_met = c.recorded.confirmation;
        if stored_met == Some(true) {
            // Met and judged (on time or late) by an earlier run: decided.
            return;
        }
        if stored_met.is_none() || met.is_some() {
            self.plan.expectations.push(PlannedExpectation {
                settlement_id: c.id.as_str(),
                kind: ExpectationKind::Confirmation.as_str(),
                due_at_ms: due,
                met_at_ms: met,
            });
            if met.is_some() {
                self.confirmed(c);
            }
        }
        // Built only for the few settlements that raise a break.
        let missing_key = || format!("missing_confirmation:{}", c.id);
        let base = || PlannedBreak {
            natural_key: String::new(),
            kind: BreakKind::Late,
            settlement_id: Some(c.id.to_string()),
            counterparty: Some(c.counterparty.to_string()),
            currency: Some(c.currency.to_string()),
            amount_at_risk_minor: c.amount_minor,
            detail: String::new(),
            inbound_id: c.applied_answer,
            statement_id: None,
            entry_ids: Vec::new(),
        };
        match met {
            Some(at)
                if at > due
                    && returned.is_none()
                    && at <= as_of_ms
                    && !self.inputs.existing_keys.contains(&missing_key()) =>
            {
                self.raise(PlannedBreak {
                    natural_key: format!("late:{}", c.id),
                    detail: format!(
                        "the final answer came {} s after the SLA",
                        (at - due) / 1000
                    ),
                    ..base()
                });
            }
            None if as_of_ms > due => self.raise(PlannedBreak {
                natural_key: missing_key(),
                kind: BreakKind::MissingConfirmation,
                detail: format!(
                    "no final answer from {} since the first send, {} s past the SLA (state {})",
                    c.counterparty,
                    (as_of_ms - due) / 1000,
                    c.state
                ),
                ..base()
            }),
            _ => {}
        }
    }

    fn statement(&mut self, c: &'a Candidate, matched: bool, as_of_ms: i64) {
        let value_date = date_of(c.final_at_ms.unwrap_or(c.first_sent_at_ms));
        let due_day =
            add_business_days_open(value_date, self.config.statement_business_days, |d| {
                self.holidays.closed(&c.currency, &c.counterparty, d)
            });
        let due = end_of_day_ms(due_day);
        let stored_met = c.recorded.statement;
        // Recorded unmet with another due time: the calendar (business days, holidays)
        // changed since; recorded again with the due time it gives now.
        let due_moved = stored_met == Some(false) && c.recorded.statement_due_ms != Some(due);
        if stored_met != Some(true) && (stored_met.is_none() || matched || due_moved) {
            self.plan.expectations.push(PlannedExpectation {
                settlement_id: c.id.as_str(),
                kind: ExpectationKind::Statement.as_str(),
                due_at_ms: due,
                met_at_ms: matched.then_some(as_of_ms),
            });
        }
        if !matched && as_of_ms > due {
            self.raise(PlannedBreak {
                natural_key: format!("missing_on_statement:{}", c.id),
                kind: BreakKind::MissingOnStatement,
                settlement_id: Some(c.id.to_string()),
                counterparty: Some(c.counterparty.to_string()),
                currency: Some(c.currency.to_string()),
                amount_at_risk_minor: c.amount_minor,
                detail: format!(
                    "settled with value date {value_date}, but no statement entry by {due_day} ({} business days)",
                    self.config.statement_business_days
                ),
                inbound_id: None,
                statement_id: None,
                entry_ids: Vec::new(),
            });
        }
    }

    fn answers(&mut self) {
        for a in &self.inputs.answers {
            let kind = if a.conflict {
                BreakKind::StatusConflict
            } else {
                BreakKind::DuplicateConfirmation
            };
            let detail = match (a.conflict, &a.detail) {
                (true, Some(d)) => format!("an answer contradicts the settlement's state: {d}"),
                (true, None) => "an answer contradicts the settlement's state".to_string(),
                (false, _) => "the same answer arrived again".to_string(),
            };
            self.raise(PlannedBreak {
                natural_key: format!("{}:{}", kind.as_str(), a.inbound_id),
                kind,
                settlement_id: Some(a.settlement_id.clone()),
                counterparty: a.counterparty.clone(),
                currency: a.currency.clone(),
                amount_at_risk_minor: if a.conflict { a.amount_minor } else { 0 },
                detail,
                inbound_id: Some(a.inbound_id),
                statement_id: None,
                entry_ids: Vec::new(),
            });
        }
    }

    fn balances(&mut self) {
        for s in &self.inputs.unbalanced {
            self.raise(PlannedBreak {
                natural_key: format!("balance_mismatch:{}", s.statement),
                kind: BreakKind::BalanceMismatch,
                settlement_id: None,
                counterparty: None,
                currency: Some(s.currency.clone()),
                amount_at_risk_minor: s.gap_minor.abs(),
                detail: format!(
                    "statement {} of account {}: opening balance and entries differ from the closing balance by {}",
                    s.statement_ref,
                    s.account,
                    super::format_minor(s.gap_minor, &s.currency)
                ),
                inbound_id: None,
                statement_id: Some(s.statement),
                entry_ids: Vec::new(),
            });
        }
    }
}

/// Whether `e` is on one of our accounts (`recon.accounts`; empty: every account is ours).
/// A run reconciles no other entry.
pub fn ours(config: &ReconConfig, e: &Entry) -> bool {
    config.accounts.is_empty()
        || config
            .accounts
            .iter()
            .any(|a| a.as_str() == e.account.as_str())
}

fn is_return(e: &Entry) -> bool {
    e.reversal || e.return_reason.is_some()
}

/// Exact keys of the candidates' payment messages. Each table holds candidate positions (4
/// bytes a slot) and finds a key by comparing it with the candidate's own: a map from
/// borrowed keys would hold 24 bytes a slot, and a million candidates fill four tables.
struct KeyIndex<'a> {
    cands: &'a [Candidate],
    hasher: RandomState,
    /// Lower-cased on both sides.
    uetr: HashTable<u32>,
    end_to_end_id: HashTable<u32>,
    instr_id: HashTable<u32>,
    settlement: HashTable<u32>,
    trace: HashMap<(&'a str, &'a str), Vec<usize>>,
}

/// `text` in ASCII lower case, copied only when it has an upper-case letter.
fn lower(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// Which key of a candidate a table holds.
#[derive(Clone, Copy)]
enum Key {
    Uetr,
    EndToEndId,
    InstrId,
    Settlement,
}

impl Key {
    fn of(self, c: &Candidate) -> Option<&str> {
        match self {
            Key::Uetr => c.uetr.as_deref(),
            Key::EndToEndId => c.end_to_end_id.as_deref(),
            Key::InstrId => c.instr_id.as_deref(),
            Key::Settlement => Some(c.id.as_str()),
        }
    }

    /// Equal as this table compares (a UETR in any case).
    fn same(self, stored: &str, probe: &str) -> bool {
        match self {
            Key::Uetr => stored.eq_ignore_ascii_case(probe),
            _ => stored == probe,
        }
    }
}

impl<'a> KeyIndex<'a> {
    fn new(cands: &'a [Candidate]) -> Self {
        let n = cands.len();
        let mut k = KeyIndex {
            cands,
            hasher: RandomState::new(),
            uetr: HashTable::with_capacity(n),
            end_to_end_id: HashTable::with_capacity(n),
            instr_id: HashTable::with_capacity(n),
            settlement: HashTable::with_capacity(n),
            trace: HashMap::new(),
        };
        for (i, c) in cands.iter().enumerate() {
            // Positions are u32: a run reads far fewer than 4 billion candidates.
            let at = u32::try_from(i).expect("fewer than 2^32 candidates");
            for key in [Key::Uetr, Key::EndToEndId, Key::InstrId, Key::Settlement] {
                k.insert(key, at);
            }
            if let (Some(s), Some(r)) = (&c.stan, &c.rrn) {
                k.trace.entry((s.as_str(), r.as_str())).or_default().push(i);
            }
        }
        k
    }

    fn table(&self, key: Key) -> &HashTable<u32> {
        match key {
            Key::Uetr => &self.uetr,
            Key::EndToEndId => &self.end_to_end_id,
            Key::InstrId => &self.instr_id,
            Key::Settlement => &self.settlement,
        }
    }

    fn hash(&self, key: Key, text: &str) -> u64 {
        match key {
            Key::Uetr => self.hasher.hash_one(lower(text).as_ref()),
            _ => self.hasher.hash_one(text),
        }
    }

    /// Adds candidate `at` under its `key`; a key two candidates share finds the later one.
    fn insert(&mut self, key: Key, at: u32) {
        let cands = self.cands;
        let Some(text) = key.of(&cands[at as usize]) else {
            return;
        };
        let hash = self.hash(key, text);
        let hasher = self.hasher.clone();
        let table = match key {
            Key::Uetr => &mut self.uetr,
            Key::EndToEndId => &mut self.end_to_end_id,
            Key::InstrId => &mut self.instr_id,
            Key::Settlement => &mut self.settlement,
        };
        let same = |&i: &u32| {
            key.of(&cands[i as usize])
                .is_some_and(|s| key.same(s, text))
        };
        match table.find_mut(hash, same) {
            Some(slot) => *slot = at,
            None => {
                let rehash = |&i: &u32| match key.of(&cands[i as usize]) {
                    Some(s) if matches!(key, Key::Uetr) => hasher.hash_one(lower(s).as_ref()),
                    Some(s) => hasher.hash_one(s),
                    None => 0,
                };
                table.insert_unique(hash, at, rehash);
            }
        }
    }

    fn get(&self, key: Key, text: &str) -> Option<usize> {
        let hash = self.hash(key, text);
        self.table(key)
            .find(hash, |&i| {
                key.of(&self.cands[i as usize])
                    .is_some_and(|s| key.same(s, text))
            })
            .map(|&i| i as usize)
    }

    fn find(&self, e: &Entry, cands: &[Candidate], window: i64) -> Option<(usize, &'static str)> {
        if let Some(i) = e.uetr.as_ref().and_then(|u| self.get(Key::Uetr, u)) {
            return Some((i, "uetr"));
        }
        if let Some(i) = e
            .end_to_end_id
            .as_ref()
            .and_then(|x| self.get(Key::EndToEndId, x))
        {
            return Some((i, "end_to_end_id"));
        }
        if let Some(i) = e.instr_id.as_ref().and_then(|x| self.get(Key::InstrId, x)) {
            return Some((i, "instr_id"));
        }
        let (Some(s), Some(r)) = (&e.stan, &e.rrn) else {
            return None;
        };
        let on_day = |i: &&usize| match e.value_date {
            Some(d) => {
                (d - date_of(cands[**i].first_sent_at_ms))
                    .whole_days()
                    .abs()
                    <= window
            }
            None => true,
        };
        let hits: Vec<&usize> = self
            .trace
            .get(&(s.as_str(), r.as_str()))?
            .iter()
            .filter(on_day)
            .collect();
        (hits.len() == 1).then(|| (*hits[0], "stan_rrn_date"))
    }

    /// A candidate whose settlement id or EndToEndId is a word of the entry's reference.
    fn by_reference(&self, e: &Entry) -> Option<usize> {
        let reference = e.reference.as_deref()?;
        reference
            .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-'))
            .filter(|w| !w.is_empty())
            .find_map(|w| {
                self.get(Key::Settlement, w)
                    .or_else(|| self.get(Key::EndToEndId, w))
            })
    }
}

/// The day a settlement settled (its final state; its first send when it has none).
fn settled_date(c: &Candidate) -> Date {
    date_of(c.final_at_ms.unwrap_or(c.first_sent_at_ms))
}

/// The UTC day of a unix-milliseconds time.
pub fn date_of(ms: i64) -> Date {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.date())
        .unwrap_or(Date::MIN)
}

/// The first millisecond after `day` (UTC).
pub fn end_of_day_ms(day: Date) -> i64 {
    let start = day.midnight().assume_utc().unix_timestamp() * 1000;
    start + DAY_MS
}

/// `day` plus `n` business days (Saturdays and Sundays skipped; no holiday calendar).
pub fn add_business_days(day: Date, n: u32) -> Date {
    add_business_days_open(day, n, |d| {
        matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday)
    })
}

/// `day` plus `n` days on which `closed` is false (a holiday calendar). Bounded: a calendar
/// closed for more than a year in a row stops the count there rather than loop.
pub fn add_business_days_open(day: Date, n: u32, closed: impl Fn(Date) -> bool) -> Date {
    const CLOSED_DAYS_MAX: u32 = 366;
    let mut d = day;
    let mut left = n;
    let mut closed_in_a_row = 0;
    while left > 0 && closed_in_a_row < CLOSED_DAYS_MAX {
        d = d.next_day().unwrap_or(d);
        if closed(d) {
            closed_in_a_row += 1;
        } else {
            closed_in_a_row = 0;
            left -= 1;
        }
    }
    d
}

/// Reads `YYYY-MM-DD` (the first ten characters of an ISO date or date-time).
pub fn parse_date(text: &str) -> Option<Date> {
    let t = text.get(..10)?;
    let year: i32 = t.get(..4)?.parse().ok()?;
    let month: u8 = t.get(5..7)?.parse().ok()?;
    let day: u8 = t.get(8..10)?.parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(n: u8, amount: i64) -> Candidate {
        Candidate {
            id: format!("st-{n:032x}").into(),
            state: SettlementState::Settled,
            amount_minor: amount,
            currency: "EUR".into(),
            counterparty: "bank-a".into(),
            message_id: i64::from(n),
            uetr: Some(format!("uetr-{n}").into()),
            end_to_end_id: Some(format!("st-{n:032x}").into()),
            instr_id: None,
            stan: None,
            rrn: None,
            first_sent_at_ms: DAY_MS * 20_000,
            final_at_ms: Some(DAY_MS * 20_000 + 1000),
            statement_matched: false,
            applied_answer: Some(100 + i64::from(n)),
            recorded: Recorded::default(),
        }
    }

    /// The candidates as the next run reads them: with what `p` recorded of each.
    fn recorded_by(candidates: &[Candidate], p: &Plan) -> Vec<Candidate> {
        let mut out = candidates.to_vec();
        for e in &p.expectations {
            let c = out
                .iter_mut()
                .find(|c| c.id.as_str() == e.settlement_id)
                .unwrap();
            match ExpectationKind::parse(e.kind).unwrap() {
                ExpectationKind::Confirmation => {
                    c.recorded.confirmation = Some(e.met_at_ms.is_some())
                }
                ExpectationKind::Statement => {
                    c.recorded.statement = Some(e.met_at_ms.is_some());
                    c.recorded.statement_due_ms = Some(e.due_at_ms);
                }
            }
        }
        out
    }

    fn entry(id: i64, amount: i64) -> Entry {
        Entry {
            id,
            statement: 1,
            account: "ACC".into(),
            value_date: Some(date_of(DAY_MS * 20_000)),
            amount_minor: amount,
            currency: "EUR".into(),
            ..Default::default()
        }
    }

    fn kinds(p: &Plan) -> Vec<&'static str> {
        let mut k: Vec<_> = p.breaks.iter().map(|b| b.kind.as_str()).collect();
        k.sort();
        k
    }

    fn config() -> ReconConfig {
        ReconConfig {
            amount_tolerance_minor: 50,
            ..ReconConfig::default()
        }
    }

    #[test]
    fn exact_keys_tolerance_charges_and_duplicates() {
        let mut i = Inputs {
            candidates: vec![
                cand(1, 10_000),
                cand(2, 20_000),
                cand(3, 30_000),
                cand(4, 5_000),
            ],
            ..Default::default()
        };
        let by_uetr = |id, amount, n: u8| Entry {
            uetr: Some(format!("UETR-{n}").into()),
            ..entry(id, amount)
        };
        i.entries = vec![
            by_uetr(1, 10_000, 1), // exact
            by_uetr(2, 19_980, 2), // within 50 tolerance
            by_uetr(3, 29_000, 3), // mismatch
            by_uetr(4, 5_000, 4),  // exact
            by_uetr(5, 5_000, 4),  // booked again
        ];
        let p = plan(&i, &config(), DAY_MS * 20_001);
        assert_eq!(kinds(&p), vec!["amount_mismatch", "duplicate_entry"]);
        let rules: Vec<_> = p
            .matches
            .iter()
            .filter(|m| m.source == "statement")
            .map(|m| (m.source_id, m.rule))
            .collect();
        assert_eq!(
            rules,
            vec![
                (1, "exact_key"),
                (2, "tolerance"),
                (3, "amount_mismatch"),
                (4, "exact_key"),
                (5, "duplicate")
            ]
        );
        let mismatch = p
            .breaks
            .iter()
            .find(|b| b.kind == BreakKind::AmountMismatch)
            .unwrap();
        assert_eq!(mismatch.amount_at_risk_minor, 1000);
    }

    #[test]
    fn split_batch_reference_and_unexpected() {
        let mut i = Inputs {
            candidates: vec![
                cand(1, 10_000),
                cand(2, 3_000),
                cand(3, 4_000),
                cand(4, 7_777),
            ],
            ..Default::default()
        };
        i.candidates[1].counterparty = "switch".into();
        i.candidates[2].counterparty = "switch".into();
        i.entries = vec![
            Entry {
                end_to_end_id: i.candidates[0].end_to_end_id.clone(),
                ..entry(1, 6_000)
            },
            Entry {
                end_to_end_id: i.candidates[0].end_to_end_id.clone(),
                ..entry(2, 4_000)
            },
            entry(3, 7_000), // the switch's day: 3,000 + 4,000
            Entry {
                reference: Some(format!("pay {}", i.candidates[3].id).into()),
                ..entry(4, 7_777)
            },
            entry(5, 123),
        ];
        let p = plan(&i, &config(), DAY_MS * 20_001);
        assert_eq!(kinds(&p), vec!["unexpected_entry"]);
        let rules: Vec<_> = p
            .matches
            .iter()
            .filter(|m| m.source == "statement")
            .map(|m| (m.source_id, m.rule, m.cardinality))
            .collect();
        assert_eq!(
            rules,
            vec![
                (1, "split", "1:N"),
                (2, "split", "1:N"),
                (3, "batch", "N:1"),
                (3, "batch", "N:1"),
                (4, "reference", "1:1")
            ]
        );
    }

    #[test]
    fn expectations_and_rerun() {
        let mut late = cand(2, 1);
        late.final_at_ms = Some(late.first_sent_at_ms + 2 * 3_600_000);
        let mut pending = cand(3, 1);
        pending.state = SettlementState::Sent;
        pending.final_at_ms = None;
        let mut i = Inputs {
            candidates: vec![cand(1, 1), late, pending],
            ..Default::default()
        };
        let as_of = DAY_MS * 20_010;
        let p = plan(&i, &config(), as_of);
        assert_eq!(
            kinds(&p),
            vec![
                "late",
                "missing_confirmation",
                "missing_on_statement",
                "missing_on_statement"
            ]
        );
        // Nothing decided is decided again. (The plan borrows the inputs: what it records is
        // copied out before the inputs change.)
        let existing_keys = p.breaks.iter().map(|b| b.natural_key.clone()).collect();
        let candidates = recorded_by(&i.candidates, &p);
        i.existing_keys = existing_keys;
        i.candidates = candidates;
        let again = plan(&i, &config(), as_of);
        assert!(again.breaks.is_empty(), "{:?}", again.breaks);
        assert!(again.expectations.is_empty(), "{:?}", again.expectations);
    }

    #[test]
    fn a_pending_statement_expectation_follows_the_calendar() {
        let settled = cand(1, 1);
        let day = date_of(settled.final_at_ms.unwrap());
        let i = Inputs {
            candidates: vec![settled],
            ..Default::default()
        };
        let as_of = settled_as_of(&i);
        let first = plan(&i, &config(), as_of);
        let recorded = recorded_by(&i.candidates, &first);
        let due = recorded[0].recorded.statement_due_ms.unwrap();
        assert_eq!(due, end_of_day_ms(add_business_days(day, 2)));
        let again = Inputs {
            candidates: recorded,
            ..Default::default()
        };
        // Same calendar: nothing to record again.
        assert!(plan(&again, &config(), as_of).expectations.is_empty());
        // A holiday on the second business day moves the due day by one: recorded again.
        let closed = add_business_days(day, 2);
        let later = ReconConfig {
            holidays: vec![crate::config::ReconHolidays {
                currency: Some("EUR".into()),
                counterparty: None,
                dates: vec![closed.to_string()],
            }],
            ..config()
        };
        let moved = plan(&again, &later, as_of);
        assert_eq!(moved.expectations.len(), 1, "{:?}", moved.expectations);
        assert_eq!(moved.expectations[0].kind, "statement");
        assert_eq!(
            moved.expectations[0].due_at_ms,
            end_of_day_ms(add_business_days(day, 3))
        );
        assert_eq!(moved.expectations[0].met_at_ms, None);
        assert!(moved.breaks.is_empty());
    }

    /// Just after the candidates' final answers: no expectation is due yet.
    fn settled_as_of(i: &Inputs) -> i64 {
        i.candidates[0].final_at_ms.unwrap() + 1
    }

    #[test]
    fn returns_on_settled_are_conflicts() {
        let mut i = Inputs {
            candidates: vec![cand(1, 500)],
            ..Default::default()
        };
        i.entries = vec![Entry {
            uetr: Some("uetr-1".into()),
            return_reason: Some("AC04".into()),
            ..entry(9, 500)
        }];
        let p = plan(&i, &config(), DAY_MS * 20_000 + 5000);
        assert_eq!(kinds(&p), vec!["status_conflict"]);
        assert!(p.breaks[0].detail.contains("AC04"));
    }

    #[test]
    fn a_return_for_a_sent_settlement_is_its_outcome() {
        let mut sent = cand(1, 500);
        sent.state = SettlementState::Sent;
        sent.final_at_ms = None;
        let mut i = Inputs {
            candidates: vec![sent],
            ..Default::default()
        };
        i.entries = vec![Entry {
            uetr: Some("uetr-1".into()),
            return_reason: Some("AC01".into()),
            ..entry(9, 500)
        }];
        let p = plan(&i, &config(), DAY_MS * 20_010);
        assert!(
            p.breaks.is_empty(),
            "no missing confirmation: the return is the answer; {:?}",
            p.breaks
        );
        assert_eq!(
            p.returns,
            vec![PlannedReturn {
                settlement_id: i.candidates[0].id.to_string(),
                entry_id: 9,
                reason_code: Some("AC01".into())
            }]
        );
    }

    #[test]
    fn business_days_skip_weekends() {
        let fri = Date::from_calendar_date(2026, time::Month::December, 4).unwrap();
        assert_eq!(
            add_business_days(fri, 2),
            Date::from_calendar_date(2026, time::Month::December, 8).unwrap()
        );
        assert_eq!(parse_date("2026-12-04T10:00:00"), Some(fri));
        assert_eq!(parse_date("2026-13-04"), None);
    }

    #[test]
    fn business_days_skip_the_holidays_of_the_currency_and_of_the_counterparty() {
        let config = ReconConfig {
            holidays: vec![
                crate::config::ReconHolidays {
                    currency: Some("EUR".into()),
                    dates: vec!["2026-12-24".into(), "2026-12-25".into()],
                    ..Default::default()
                },
                crate::config::ReconHolidays {
                    counterparty: Some("sim-bank".into()),
                    dates: vec!["2026-12-28".into()],
                    ..Default::default()
                },
            ],
            ..ReconConfig::default()
        };
        let cal = config.holiday_calendar().unwrap();
        let day = |d| Date::from_calendar_date(2026, time::Month::December, d).unwrap();
        let due = |currency: &str, counterparty: &str| {
            add_business_days_open(day(23), 2, |d| cal.closed(currency, counterparty, d))
        };
        // Wed 23rd + 2: Thu 24 and Fri 25 closed for EUR, then the weekend: Mon 28, Tue 29.
        assert_eq!(due("EUR", "other-bank"), day(29));
        // The bank is closed on Monday 28th as well.
        assert_eq!(due("EUR", "sim-bank"), day(30));
        // Neither calendar applies: Thursday and Friday count.
        assert_eq!(due("USD", "other-bank"), day(25));
        assert_eq!(due("USD", "other-bank"), add_business_days(day(23), 2));
    }

    #[test]
    fn a_holiday_list_names_a_currency_or_a_counterparty_and_real_dates() {
        let with = |h: crate::config::ReconHolidays| {
            ReconConfig {
                holidays: vec![h],
                ..ReconConfig::default()
            }
            .holiday_calendar()
            .unwrap_err()
        };
        let err = with(crate::config::ReconHolidays {
            currency: Some("EUR".into()),
            counterparty: Some("sim-bank".into()),
            dates: vec![],
        });
        assert!(err.contains("either a currency or a counterparty"), "{err}");
        let err = with(crate::config::ReconHolidays {
            currency: Some("EUR".into()),
            dates: vec!["2026-02-30".into()],
            ..Default::default()
        });
        assert!(err.contains("\"2026-02-30\" is not a date"), "{err}");
        let err = with(crate::config::ReconHolidays {
            currency: Some("EURO".into()),
            dates: vec![],
            ..Default::default()
        });
        assert!(err.contains("currency \"EURO\""), "{err}");
    }
}
