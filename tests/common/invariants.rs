//! The invariants of a run (issue 12), checked once its settlements are final: whatever
//! crashed, dropped or repeated on the way, these must hold.
//!
//! Each check returns what it found wrong, one line per violation (empty: it holds), so that
//! a run reports every broken invariant at once; [`assert_hold`] fails the test with them.
//! The simulators' own books are the counterparties' word: the gateway's store is compared
//! with them, never with itself.

use corridor::domain::{Account, Rail, SettlementState};
use corridor::store::settlements::{self, Record};
use corridor::store::{messages, outbox, Store};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Most settlements one run may hold: [`settlements::list`] reads at most this many.
pub const RUN_SETTLEMENTS_MAX: i64 = 1000;

/// Fails with every violation found, under `label` (the store and the run).
pub fn assert_hold(label: &str, violations: &[String]) {
    assert!(
        violations.is_empty(),
        "{label}: {} invariant violation(s):\n  {}",
        violations.len(),
        violations.join("\n  ")
    );
}

/// Every settlement of the store, read back (the store holds at most
/// [`RUN_SETTLEMENTS_MAX`]).
pub async fn all_settlements(store: &Store) -> Vec<Record> {
    let mut conn = store.pool().acquire().await.unwrap();
    let counts = settlements::count_by_state(&mut conn).await.unwrap();
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    assert!(
        total <= RUN_SETTLEMENTS_MAX,
        "{total} settlements: a run must hold at most {RUN_SETTLEMENTS_MAX}"
    );
    let records = settlements::list(&mut conn, None, RUN_SETTLEMENTS_MAX)
        .await
        .unwrap();
    assert_eq!(records.len() as i64, total, "every settlement read back");
    records
}

/// Each ledger event has exactly one final outcome and one write-back: every settlement is
/// final and marked written back, the ledger recorded it once with the same outcome, every
/// `acknowledged` event id names exactly one settlement, and nothing else was recorded.
pub fn one_outcome_each(
    records: &[Record],
    ledger: &sim::ledger::WritebackHandle,
    ledger_id: &str,
    acknowledged: &HashSet<String>,
) -> Vec<String> {
    let mut found = Vec::new();
    for r in records {
        let sid = r.settlement.id.as_str();
        if !r.state.is_final() {
            found.push(format!("settlement {sid} ended {} (not final)", r.state));
        }
        if r.written_back_at_ms.is_none() {
            found.push(format!("settlement {sid}: no write-back acknowledged"));
        }
        match ledger.by_settlement(sid) {
            None => found.push(format!("settlement {sid}: the ledger has no write-back")),
            Some(w) if w.outcome != r.state.as_str() => found.push(format!(
                "settlement {sid}: the ledger recorded {} but the gateway holds {}",
                w.outcome, r.state
            )),
            Some(_) => {}
        }
    }
    for event in acknowledged {
        let written = ledger.settlements_for_event(ledger_id, event);
        if written.len() != 1 {
            found.push(format!(
                "acknowledged event {event}: write-backs for settlements {written:?}"
            ));
        }
    }
    let stored_events: HashSet<&str> = records
        .iter()
        .map(|r| r.settlement.event_id.as_str())
        .collect();
    for event in acknowledged {
        if !stored_events.contains(event.as_str()) {
            found.push(format!("acknowledged event {event} has no settlement"));
        }
    }
    let stats = ledger.stats();
    if stats.recorded != records.len() as u64 {
        found.push(format!(
            "the ledger recorded {} write-backs for {} settlements",
            stats.recorded,
            records.len()
        ));
    }
    if stats.conflicting_duplicates != 0 {
        found.push(format!(
            "{} write-backs repeated with other content",
            stats.conflicting_duplicates
        ));
    }
    found
}

/// The outbox holds no work and no dead row.
pub async fn outbox_finished(store: &Store) -> Vec<String> {
    let mut conn = store.pool().acquire().await.unwrap();
    let mut found = Vec::new();
    if !outbox::is_idle(&mut conn).await.unwrap() {
        found.push("the outbox still holds pending or leased rows".to_string());
    }
    let dead = outbox::list(&mut conn, Some(outbox::Status::Dead), 1000)
        .await
        .unwrap();
    for row in dead {
        found.push(format!("dead outbox row: {row:?}"));
    }
    found
}

/// Every journaled message was dealt with: once a gateway has started (and recovered) after
/// the last crash, no entry is left `received` (issue 12, item 6: an answer journaled before
/// a crash is applied at start, a ledger post marked for what it is).
pub async fn journal_dealt_with(store: &Store) -> Vec<String> {
    let mut conn = store.pool().acquire().await.unwrap();
    let rows = sqlx::query(
        "SELECT id, channel FROM inbound_journal WHERE status = 'received' ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id").unwrap();
            let channel: String = row.try_get("channel").unwrap();
            format!("journal entry {id} ({channel}) still received, never applied")
        })
        .collect()
}

/// The bank applied each success once: one UETR per bank settlement that reached it, each
/// booked under one MsgId however often it was sent; a settled payment is booked ACSC, a
/// rejected one RJCT, and the bank booked nothing the gateway does not know.
pub async fn bank_applied_once(
    store: &Store,
    records: &[Record],
    bank: &sim::bank::BankStats,
) -> Vec<String> {
    let mut found = Vec::new();
    let mut conn = store.pool().acquire().await.unwrap();
    let mut ours = HashSet::new();
    for r in records.iter().filter(|r| r.rail == Some(Rail::Bank)) {
        let sid = &r.settlement.id;
        let Some(uetr) = messages::uetr(&mut conn, sid).await.unwrap() else {
            if r.state != SettlementState::Failed {
                found.push(format!("bank settlement {sid} ({}) has no UETR", r.state));
            }
            continue;
        };
        let booked = bank.status_per_uetr.get(&uetr).map(String::as_str);
        let expected = match r.state {
            SettlementState::Settled => Some("ACSC"),
            SettlementState::Rejected => Some("RJCT"),
            _ => None,
        };
        if expected.is_some() && booked != expected {
            found.push(format!(
                "bank settlement {sid} is {} but the bank booked UETR {uetr} as {booked:?}",
                r.state
            ));
        }
        if let Some(msg_ids) = bank.msg_ids_per_uetr.get(&uetr) {
            let distinct: HashSet<&String> = msg_ids.iter().collect();
            if distinct.len() != 1 {
                found.push(format!("UETR {uetr} arrived under MsgIds {msg_ids:?}"));
            }
        }
        if !ours.insert(uetr.clone()) {
            found.push(format!("UETR {uetr} belongs to two settlements"));
        }
    }
    for uetr in bank.status_per_uetr.keys() {
        if !ours.contains(uetr) {
            found.push(format!(
                "the bank booked UETR {uetr}, unknown to the gateway"
            ));
        }
    }
    found
}

/// Sum of amounts per currency, in minor units.
type Books = BTreeMap<String, i64>;

/// The gateway's books equal the bank's: per currency, what the gateway holds as settled on
/// the bank rail is what the bank booked as settled (ACSC).
pub fn bank_books_agree(records: &[Record], bank: &sim::bank::BankStats) -> Vec<String> {
    let mut ours = Books::new();
    for r in records
        .iter()
        .filter(|r| r.rail == Some(Rail::Bank) && r.state == SettlementState::Settled)
    {
        let amount = &r.settlement.amount;
        *ours
            .entry(amount.currency().code().to_string())
            .or_default() += amount.minor();
    }
    let mut theirs = Books::new();
    for (uetr, status) in &bank.status_per_uetr {
        if status == "ACSC" {
            let (minor, currency) = &bank.amount_per_uetr[uetr];
            *theirs.entry(currency.clone()).or_default() += minor;
        }
    }
    if ours == theirs {
        Vec::new()
    } else {
        vec![format!(
            "settled on the bank rail: gateway {ours:?}, bank {theirs:?}"
        )]
    }
}

/// The gateway's books equal the switch's, wallet by wallet: each wallet holds exactly the
/// sum of the credits the gateway settled to it, so every credit the switch applied belongs
/// to a settled settlement or was reversed.
pub fn switch_books_agree(records: &[Record], switch: &sim::switch::SwitchHandle) -> Vec<String> {
    let mut ours: BTreeMap<String, i64> = BTreeMap::new();
    for r in records.iter().filter(|r| r.rail == Some(Rail::Wallet)) {
        let Account::Msisdn(msisdn) = &r.settlement.creditor.account else {
            continue;
        };
        let held = ours.entry(msisdn.digits().to_string()).or_default();
        if r.state == SettlementState::Settled {
            *held += r.settlement.amount.minor();
        }
    }
    let theirs: BTreeMap<String, i64> = switch
        .balances()
        .into_iter()
        .filter(|(_, balance)| *balance != 0)
        .collect();
    let mut found = Vec::new();
    for (wallet, balance) in &theirs {
        let expected = ours.get(wallet).copied().unwrap_or(0);
        if *balance != expected {
            found.push(format!(
                "wallet …{}: the switch holds {balance}, the gateway settled {expected}",
                &wallet[wallet.len().saturating_sub(4)..]
            ));
        }
    }
    for (wallet, expected) in &ours {
        if *expected != 0 && !theirs.contains_key(wallet) {
            found.push(format!(
                "wallet …{}: the gateway settled {expected}, the switch holds nothing",
                &wallet[wallet.len().saturating_sub(4)..]
            ));
        }
    }
    found
}

/// States moved only along the transition table: every audited move is legal, each starts
/// where the one before it ended (the first from nothing to `received`), and the last ends
/// in the settlement's state.
pub async fn legal_transitions(store: &Store, records: &[Record]) -> Vec<String> {
    let mut conn = store.pool().acquire().await.unwrap();
    let rows = sqlx::query(
        "SELECT settlement_id, from_state, to_state FROM settlement_transitions \
         ORDER BY settlement_id, id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut moves: HashMap<String, Vec<(Option<String>, String)>> = HashMap::new();
    for row in &rows {
        moves
            .entry(row.try_get("settlement_id").unwrap())
            .or_default()
            .push((
                row.try_get("from_state").unwrap(),
                row.try_get("to_state").unwrap(),
            ));
    }
    let mut found = Vec::new();
    for r in records {
        let sid = r.settlement.id.as_str();
        let Some(path) = moves.remove(sid) else {
            found.push(format!("settlement {sid}: no transition audited"));
            continue;
        };
        let mut at: Option<SettlementState> = None;
        for (from, to) in &path {
            let from = from.as_deref().map(|f| SettlementState::parse(f).unwrap());
            let to = SettlementState::parse(to).unwrap();
            if from != at {
                found.push(format!(
                    "settlement {sid}: a move from {from:?} while it was {at:?}"
                ));
            }
            let legal = match from {
                None => to == SettlementState::Received,
                Some(from) => from.check(to).is_ok(),
            };
            if !legal {
                found.push(format!("settlement {sid}: illegal move {from:?} -> {to}"));
            }
            at = Some(to);
        }
        if at != Some(r.state) {
            found.push(format!(
                "settlement {sid}: the audit ends at {at:?}, the settlement is {}",
                r.state
            ));
        }
    }
    for sid in moves.keys() {
        found.push(format!("transitions audited for unknown settlement {sid}"));
    }
    found
}
