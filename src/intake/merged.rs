//! Intake merged across the callers of a group commit (the group writer, see
//! [`crate::store::group::Merge`]): the new settlements of every request in the group are one
//! multi-row INSERT, their audit rows, messages, jobs and the journal entries' statuses one
//! more request, instead of five or six requests per event.
//!
//! A request merges when every event was decided without the store but for its key (an
//! invalid event, one without a route, one whose message the rail built offline, one the
//! bank rail's address rule refused) and, on the wallet rail, its trace number: the group's
//! new wallet settlements take their STANs at once, a block per switch, and their messages
//! are built then ([`numbered`]). Every request runs alone if a merged statement fails, and
//! so does one past the bounds. The rows, audit trail and answers are those
//! [`super::apply_ready`] writes and gives for the same events in order.

use super::{
    apply_ready, created, intake_steps, journal_marked, journal_outcome, known_or_conflict,
    landing, refusal, submitted_detail, EventResult, Landed, Ready, ReadyEvent,
};
use crate::config::Config;
use crate::rails;
use crate::store::group::Merge;
use crate::store::merged::{self, NewSettlement, Rows};
use crate::store::messages::{self, Outbound};
use crate::store::settlements::Landing;
use crate::store::{now_ms, outbox, StoreError};
use futures::future::BoxFuture;
use sqlx::AnyConnection;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One request's events, ready to write, and the journal entry they came in.
pub(crate) struct IntakeWrite {
    pub config: Arc<Config>,
    pub ledger: String,
    pub inbound_id: i64,
    pub events: Vec<Ready>,
    /// The STANs taken for its new wallet settlements before the group's transaction began,
    /// by settlement id (PostgreSQL, see [`reserve_stans`]); empty until then, and on SQLite.
    pub reserved: HashMap<String, String>,
}

impl IntakeWrite {
    /// True when every event was decided without the store.
    pub(super) fn decided(&self) -> bool {
        self.events.iter().all(Ready::decided)
    }
}

impl Merge for IntakeWrite {
    type Output = Vec<EventResult>;

    fn write_all<'c>(
        conn: &'c mut AnyConnection,
        items: &'c [Self],
    ) -> BoxFuture<'c, Result<Vec<Option<Self::Output>>, StoreError>> {
        Box::pin(async move {
            let writes: Vec<(&IntakeWrite, i64)> =
                items.iter().map(|item| (item, item.inbound_id)).collect();
            write_group(conn, &writes).await
        })
    }

    fn write_one(
        self,
        conn: &mut AnyConnection,
    ) -> BoxFuture<'_, Result<Self::Output, StoreError>> {
        Box::pin(async move {
            apply_ready(
                conn,
                &self.config,
                &self.ledger,
                self.inbound_id,
                self.events,
            )
            .await
        })
    }

    fn before_group<'c>(
        conn: &'c mut AnyConnection,
        items: Vec<&'c mut Self>,
    ) -> BoxFuture<'c, ()> {
        Box::pin(reserve_stans(conn, items))
    }
}

/// On PostgreSQL, takes the STANs of the group's wallet settlements before its transaction
/// begins (see [`messages::reserve_stans`]), into each request's `reserved`, in the group's
/// order, one per event key: taken in the transaction, each switch's counter row stayed
/// locked until the group's commit, and the other group writer, reaching its own wallet
/// settlements meanwhile, waited for that commit (about 2 ms each time, flat out). A number
/// taken here for an event that turns out known (a ledger posting an event again) is not
/// used: a gap in the switch's numbers, as it allows. What cannot be taken here is taken in
/// the transaction, as on SQLite, whose one writer waits on nobody.
pub(super) async fn reserve_stans(conn: &mut AnyConnection, writes: Vec<&mut IntakeWrite>) {
    if crate::store::dialect_of(conn) != crate::store::Dialect::Postgres {
        return;
    }
    let mut keys = std::collections::HashSet::new();
    let mut by_counterparty: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for (i, write) in writes.iter().enumerate().filter(|(_, w)| w.decided()) {
        for ready in &write.events {
            let Ready::Event(event) = ready else { continue };
            let (Some(route), Some(Ok(()))) = (&event.route, &event.numbered) else {
                continue;
            };
            let key = (write.ledger.as_str(), event.settlement.event_id.as_str());
            if event.refused.is_none() && keys.insert(key) {
                by_counterparty
                    .entry(route.counterparty.clone())
                    .or_default()
                    .push((i, event.settlement.id.to_string()));
            }
        }
    }
    let mut writes = writes;
    for (counterparty, news) in by_counterparty {
        match messages::reserve_stans(&mut *conn, &counterparty, news.len()).await {
            Ok(numbers) => {
                for ((i, id), number) in news.into_iter().zip(numbers) {
                    writes[i].reserved.insert(id, number);
                }
            }
            Err(e) => tracing::warn!(
                error = %e,
                counterparty,
                "could not take trace numbers before the group; taking them in it"
            ),
        }
    }
}

/// Most events whose rows one merged write holds (a group holds up to
/// [`crate::store::group::GROUP_WRITES_MAX`] requests, each up to the intake's batch limit).
pub(super) const MERGED_EVENTS_MAX: usize = 2048;

/// A new settlement of the group: its event, and what its row and audit rows say.
struct New<'a> {
    event: &'a ReadyEvent,
    /// The configuration of the request it came in (its rail renders with it).
    config: &'a Config,
    inbound_id: i64,
    /// Why it lands refused, if it does.
    refusal: Option<String>,
    /// Its STAN, if one was taken before the transaction ([`reserve_stans`]).
    reserved: Option<&'a str>,
}

/// The merged writes of `items`, each with the id of the journal entry it came in: one answer
/// per request that merged, `None` for one that runs alone.
pub(super) async fn write_group(
    conn: &mut AnyConnection,
    items: &[(&IntakeWrite, i64)],
) -> Result<Vec<Option<Vec<EventResult>>>, StoreError> {
    let now = now_ms();
    // Which requests merge: those decided without the store, up to a bound on the events
    // (and so on the size of the statements' JSON); the rest run alone.
    let mut room = MERGED_EVENTS_MAX;
    let merging: Vec<bool> = items
        .iter()
        .map(|(item, _)| {
            let fits = item.decided() && item.events.len() <= room;
            room -= if fits { item.events.len() } else { 0 };
            fits
        })
        .collect();
    let events = || {
        let merged = items.iter().zip(&merging).filter(|(_, m)| **m);
        merged.flat_map(|((item, inbound_id), _)| {
            item.events.iter().filter_map(move |ready| match ready {
                Ready::Event(event) => Some((*item, *inbound_id, &**event)),
                Ready::Invalid(_) => None,
            })
        })
    };
    let news: Vec<New<'_>> = events()
        .filter(|(_, _, event)| event.refused.is_none())
        .map(|(item, inbound_id, event)| New::of(event, item, inbound_id))
        .collect();
    let landings: Vec<Landing<'_>> = news.iter().map(new_landing).collect();
    let rows: Vec<NewSettlement<'_>> = news
        .iter()
        .zip(&landings)
        .map(|(new, landing)| NewSettlement {
            settlement: &new.event.settlement,
            content_hash: &new.event.hash,
            landing,
        })
        .collect();
    let created = merged::insert_settlements(conn, &rows, now).await?;
    // Every other event answers from the settlement holding its key (maybe one just created
    // by an earlier event of the group, as it would be one after the other).
    let keys: Vec<(&str, &str)> = events()
        .filter(|(_, _, e)| e.refused.is_some() || !created.contains(e.settlement.id.as_str()))
        .map(|(item, _, e)| (item.ledger.as_str(), e.settlement.event_id.as_str()))
        .collect();
    let found = Found {
        created,
        holders: merged::find_keys(conn, &keys).await?,
    };
    let numbered = numbered(conn, &news, &found).await?;
    let mut rows = Rows::default();
    for new in news.iter().filter(|n| found.created(n.event)) {
        let id = new.event.settlement.id.as_str();
        write_new(&mut rows, new, numbered.get(id), now)?;
    }
    let mut out = Vec::with_capacity(items.len());
    for (&(item, inbound_id), merging) in items.iter().zip(merging) {
        if !merging {
            out.push(None);
            continue;
        }
        let results = item
            .events
            .iter()
            .map(|ready| found.answer(&item.ledger, ready))
            .collect::<Result<Vec<_>, _>>()?;
        let (status, detail) = journal_outcome(&results);
        let marked = journal_marked(&results, &detail);
        rows.mark(inbound_id, status, &marked, now);
        out.push(Some(results));
    }
    rows.write(conn).await?;
    Ok(out)
}

impl<'a> New<'a> {
    fn of(event: &'a ReadyEvent, write: &'a IntakeWrite, inbound_id: i64) -> Self {
        let s = &event.settlement;
        New {
            event,
            config: &write.config,
            inbound_id,
            refusal: refusal(s, event.route.as_ref(), event.render_error()),
            reserved: write.reserved.get(s.id.as_str()).map(String::as_str),
        }
    }
}

/// The messages of the group's new settlements whose message carries a number from the
/// store (the wallet rail's STAN), by settlement id: each counterparty's numbers taken at
/// once, in the group's order, and each message built with its own. Taken only for the
/// settlements the group created, as written alone: a duplicate takes none.
async fn numbered<'a>(
    conn: &mut AnyConnection,
    news: &[New<'a>],
    found: &Found,
) -> Result<HashMap<&'a str, Outbound>, StoreError> {
    let mut by_counterparty: BTreeMap<&str, Vec<&New<'a>>> = BTreeMap::new();
    for new in news.iter().filter(|n| found.created(n.event)) {
        if let (Some(Ok(())), Some(route)) = (&new.event.numbered, &new.event.route) {
            by_counterparty
                .entry(route.counterparty.as_str())
                .or_default()
                .push(new);
        }
    }
    let mut messages = HashMap::new();
    for (counterparty, news) in by_counterparty {
        // Taken before the transaction on PostgreSQL, each in the group's order; otherwise
        // (or if any is missing, the ones taken then left unused) taken now.
        let reserved: Option<Vec<String>> = news
            .iter()
            .map(|n| n.reserved.map(str::to_string))
            .collect();
        let numbers = match reserved {
            Some(numbers) => numbers,
            None => messages::take_stans(&mut *conn, counterparty, news.len()).await?,
        };
        for (new, number) in news.into_iter().zip(numbers) {
            let (event, route) = (new.event, new.event.route.as_ref());
            let route = route.expect("a numbered settlement has a route");
            // Built with a stand-in number already, so this fails only on a bug: the whole
            // merged write then fails, and each request runs alone.
            let outbound = rails::render_numbered(new.config, route, &event.settlement, &number)
                .map_err(|e| {
                    StoreError::Corrupt(format!(
                        "settlement {}: its message was built with a stand-in number, \
                         not with {number}: {e}",
                        event.settlement.id
                    ))
                })?;
            messages.insert(event.settlement.id.as_str(), outbound);
        }
    }
    Ok(messages)
}

/// What the group's settlement insert found: the ids it created, and the settlements
/// holding the keys of the other events.
struct Found {
    created: std::collections::HashSet<String>,
    holders: std::collections::HashMap<(String, String), merged::Holder>,
}

impl Found {
    fn created(&self, event: &ReadyEvent) -> bool {
        event.refused.is_none() && self.created.contains(event.settlement.id.as_str())
    }

    /// The answer for one event of a request from `ledger`.
    fn answer(&self, ledger: &str, ready: &Ready) -> Result<EventResult, StoreError> {
        let event = match ready {
            Ready::Invalid(result) => return Ok(result.clone()),
            Ready::Event(event) => event,
        };
        let s = &event.settlement;
        if self.created(event) {
            let state = new_landing_state(event);
            return Ok(created(ledger, event.event_id.clone(), s, state));
        }
        let holder = self.holders.get(&(ledger.to_string(), s.event_id.clone()));
        match (holder, &event.refused) {
            (None, Some(error)) => Ok(EventResult::invalid(event.event_id.clone(), error.clone())),
            (None, None) => Err(StoreError::Corrupt(format!(
                "event {} of ledger {ledger} was neither inserted nor found",
                s.event_id
            ))),
            (Some((id, state, hash)), _) => Ok(known_or_conflict(
                event.event_id.clone(),
                s,
                (id.clone(), *state),
                *hash == event.hash,
            )),
        }
    }
}

/// A new settlement's row, where intake leaves it.
fn new_landing<'a>(new: &'a New<'a>) -> Landing<'a> {
    let rendered = new.event.rendered();
    landing(new.event.route.as_ref(), rendered, new.refusal.as_deref())
}

/// The state a decided new settlement lands in.
fn new_landing_state(event: &ReadyEvent) -> crate::domain::SettlementState {
    landing(event.route.as_ref(), event.rendered(), None).state
}

/// The rows of a new settlement created in the group: its audit rows, and its message and
/// delivery job, or (refused) its write-back job. `numbered`: its message, when that was
/// built once its number was taken ([`numbered`]).
fn write_new(
    rows: &mut Rows,
    new: &New<'_>,
    numbered: Option<&Outbound>,
    now: i64,
) -> Result<(), StoreError> {
    let id = &new.event.settlement.id;
    let outbound = match (&new.event.offline, numbered) {
        (Some(Ok(outbound)), _) | (None, Some(outbound)) => Some(outbound),
        _ => None,
    };
    let detail = outbound.map(submitted_detail);
    let landed = match (outbound, &detail, &new.refusal) {
        (Some(outbound), Some(detail), _) => {
            rows.message(outbound, now);
            Landed::Submitted(detail)
        }
        (None, _, Some(why)) if new.event.rendered() == Some(false) => Landed::Failed(why),
        (None, _, why) if new.event.route.is_none() => Landed::Unroutable(why.as_deref()),
        _ => {
            return Err(StoreError::Corrupt(format!(
                "settlement {id}: merged intake of an event not decided without the store, \
                 its message neither built nor refused"
            )))
        }
    };
    rows.transitions(id, &intake_steps(new.inbound_id, &landed), now)?;
    if let Landed::Submitted(_) = landed {
        rows.job(outbox::Kind::Deliver, id, now, now);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The merged path against the one-caller path, and a group in which one caller fails,
    //! on SQLite and (when `DATABASE_URL` names a server) on PostgreSQL.
    use super::*;
    use crate::domain::SettlementState;
    use crate::intake::{prepare, Intake};
    use crate::store::journal::{self, AuthenticatedBy, Channel};
    use crate::store::Store;
    use sqlx::Row;

    use crate::store::testing::{config, event, journaled};

    /// An event no route takes (USD) and one the bank rail's address rule refuses (no
    /// creditor address), each new.
    fn unroutable(id: &str) -> serde_json::Value {
        let mut e = event(id, "5.00");
        e["currency"] = "USD".into();
        e
    }
    fn refused_by_bank(id: &str) -> serde_json::Value {
        let mut e = event(id, "5.00");
        e["creditor"].as_object_mut().unwrap().remove("address");
        e
    }

    async fn request(
        store: &Store,
        config: &Arc<Config>,
        events: Vec<serde_json::Value>,
    ) -> IntakeWrite {
        IntakeWrite {
            config: config.clone(),
            ledger: "l".into(),
            inbound_id: journaled(store).await,
            reserved: HashMap::new(),
            events: events
                .into_iter()
                .map(|v| prepare(config, "l", v))
                .collect(),
        }
    }

    /// What a settlement's intake wrote, with its random identifiers left out: its row, its
    /// audit rows (the message id in a detail written as MSG), its jobs, its message.
    async fn written(store: &Store, event_id: &str) -> Vec<String> {
        let mut conn = store.pool().acquire().await.unwrap();
        let Some(record) = crate::store::settlements::find_by_event(&mut conn, "l", event_id)
            .await
            .unwrap()
        else {
            return vec!["none".into()];
        };
        let id = record.settlement.id.clone();
        let mut message = None;
        for kind in ["pacs.008.001.08", crate::rails::wallet::CREDIT] {
            message = message.or(crate::store::messages::for_settlement(&mut conn, &id, kind)
                .await
                .unwrap());
        }
        let msg_id = message
            .as_ref()
            .map(|m| m.msg_id.clone())
            .unwrap_or_default();
        let mut out = vec![format!(
            "{} {:?} {:?} {:?} {:?} final:{} back:{}",
            record.state,
            record.rail,
            record.counterparty,
            record.reason_code,
            record.reason,
            record.final_at_ms.is_some(),
            record.written_back_at_ms.is_some()
        )];
        for t in crate::store::settlements::transitions(&mut conn, &id)
            .await
            .unwrap()
        {
            let detail = t.detail.map(|d| {
                if msg_id.is_empty() {
                    d
                } else {
                    d.replace(&msg_id, "MSG")
                }
            });
            out.push(format!(
                "{:?} -> {} {} {:?} inbound:{}",
                t.from,
                t.to,
                t.cause,
                detail,
                t.inbound_id.is_some()
            ));
        }
        let jobs = sqlx::query(
            "SELECT kind, status, attempts FROM outbox WHERE settlement_id = $1 ORDER BY kind",
        )
        .bind(id.as_str())
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        for job in jobs {
            out.push(format!(
                "job {} {} {}",
                job.get::<String, _>("kind"),
                job.get::<String, _>("status"),
                job.get::<i64, _>("attempts")
            ));
        }
        if let Some(m) = message {
            out.push(format!(
                "message {} {} {} sent:{} body:{}",
                m.kind,
                m.rail,
                m.counterparty,
                m.send_count,
                m.body.len()
            ));
        }
        out
    }

    /// `text` with each settlement id (`st-` and 32 hex digits) written as `ST`.
    fn mask_ids(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("st-") {
            let hex = rest[at + 3..]
                .bytes()
                .take_while(u8::is_ascii_hexdigit)
                .count();
            let end = at + 3 + if hex == 32 { 32 } else { 0 };
            out.push_str(&rest[..at]);
            out.push_str(if hex == 32 { "ST" } else { "st-" });
            rest = &rest[end..];
        }
        out + rest
    }

    async fn journal_entry(
        store: &Store,
        id: i64,
    ) -> (journal::Status, Option<String>, Option<String>) {
        let mut conn = store.pool().acquire().await.unwrap();
        let e = journal::get(&mut conn, id).await.unwrap().unwrap();
        (e.status, e.settlement_id, e.detail)
    }

    /// The requests of [`merged_intake_writes_what_each_caller_alone_writes`], their event ids
    /// starting with `prefix`.
    async fn requests(store: &Store, config: &Arc<Config>, prefix: &str) -> Vec<IntakeWrite> {
        let id = |s: &str| format!("{prefix}-{s}");
        let bad = serde_json::json!({"event_id": id("bad")});
        let mut items = Vec::new();
        for events in [
            vec![event(&id("new"), "10.00")],
            vec![unroutable(&id("usd")), refused_by_bank(&id("noaddr"))],
            vec![event(&id("seed"), "1.00"), event(&id("seed"), "2.00")],
            vec![bad, event(&id("twice"), "3.00")],
            vec![event(&id("twice"), "3.00")],
        ] {
            items.push(request(store, config, events).await);
        }
        items
    }

    /// What a group of requests left: each event's outcome and state, each journal entry's
    /// status, whether it names a settlement and its detail, and what each event wrote.
    type Left = (
        Vec<Vec<(Intake, Option<SettlementState>)>>,
        Vec<(journal::Status, bool, Option<String>)>,
        Vec<Vec<String>>,
    );

    async fn left(
        store: &Store,
        prefix: &str,
        inbound: &[i64],
        results: &[Vec<EventResult>],
    ) -> Left {
        let outcomes = results
            .iter()
            .map(|r| r.iter().map(|e| (e.outcome, e.state)).collect())
            .collect();
        let mut journal = Vec::new();
        for id in inbound {
            let (status, sid, detail) = journal_entry(store, *id).await;
            let detail = detail.map(|d| mask_ids(&d.replace(&format!("{prefix}-"), "")));
            journal.push((status, sid.is_some(), detail));
        }
        let mut rows = Vec::new();
        for e in ["new", "usd", "noaddr", "seed", "twice"] {
            rows.push(written(store, &format!("{prefix}-{e}")).await);
        }
        (outcomes, journal, rows)
    }

    /// Writes `items` merged in one transaction (`merged`), or each alone in a transaction of
    /// its own; each request's answers.
    async fn write_requests(
        store: &Store,
        items: Vec<IntakeWrite>,
        merged: bool,
    ) -> Vec<Vec<EventResult>> {
        use crate::store::testing::{each_alone, merged_then_rest};
        if !merged {
            return each_alone(store, items).await;
        }
        let (which, results) = merged_then_rest(store, items).await;
        assert!(which.iter().all(|m| *m), "every request merged");
        results
    }

    /// The merged writes of a group give the answers, rows and audit trail the one-caller
    /// path gives for the same events: new (submitted, unroutable, refused by the bank rule),
    /// known, conflicting, invalid, and a key taken twice in one group.
    #[tokio::test]
    async fn merged_intake_writes_what_each_caller_alone_writes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let store = Store::connect(&url, 4).await.unwrap();
        let config = config();
        let mut answers = Vec::new();
        for prefix in ["m", "a"] {
            let seed = vec![event(&format!("{prefix}-seed"), "1.00")];
            let seed = request(&store, &config, seed).await;
            assert!(store.group().write_merging(vec![seed]).await[0].is_ok());
            let items = requests(&store, &config, prefix).await;
            let inbound: Vec<i64> = items.iter().map(|i| i.inbound_id).collect();
            let results = write_requests(&store, items, prefix == "m").await;
            answers.push(left(&store, prefix, &inbound, &results).await);
        }
        let (merged, alone) = (&answers[0], &answers[1]);
        use Intake::*;
        use SettlementState::*;
        assert_eq!(
            merged.0,
            vec![
                vec![(Created, Some(Submitted))],
                vec![(Created, Some(Unroutable)), (Invalid, None)],
                vec![(Known, Some(Submitted)), (Conflict, Some(Submitted))],
                vec![(Invalid, None), (Created, Some(Submitted))],
                vec![(Known, Some(Submitted))],
            ]
        );
        assert_eq!(merged, alone);
        let refused = &merged.2[2];
        assert_eq!(
            refused,
            &vec!["none".to_string()],
            "refused by the bank rule: not written"
        );
        dir.close().unwrap();
    }

    /// The trace numbers of the wallet messages of ledger `l`'s events `ids`, in that order
    /// (none for an event without one).
    async fn stans(store: &Store, ids: &[String]) -> Vec<Option<String>> {
        let mut out = Vec::new();
        for id in ids {
            let stan = sqlx::query(
                "SELECT m.stan FROM outbound_messages m JOIN settlements s \
                 ON s.id = m.settlement_id WHERE s.ledger = 'l' AND s.event_id = $1",
            )
            .bind(id)
            .fetch_optional(store.pool())
            .await
            .unwrap()
            .map(|row| row.get::<Option<String>, _>(0));
            out.push(stan.flatten());
        }
        out
    }

    /// Wallet settlements merge too. A group's new ones take their trace numbers at once:
    /// consecutive, in the group's order, none for a duplicate or for a message that cannot
    /// be built (an amount past DE4's twelve digits). The answers, rows and audit trail are
    /// those each request written alone leaves, next to a bank settlement of the group.
    #[tokio::test]
    async fn merged_wallet_intake_numbers_a_group_at_once_as_alone_would() {
        use crate::store::testing::{config_with_wallet, each, wallet_event};
        let names = ["w1", "w2", "b1", "big", "w3"];
        for each in each("merged_wallet_intake_numbers_a_group_at_once_as_alone_would").await {
            let store = each.store.clone();
            let config = config_with_wallet();
            let mut left = Vec::new();
            let mut numbers = Vec::new();
            for prefix in ["m", "a"] {
                let id = |s: &str| format!("{prefix}-{s}");
                let mut items = Vec::new();
                for events in [
                    vec![
                        wallet_event(&id("w1"), "10.00", "+639171234567"),
                        wallet_event(&id("w2"), "20.00", "+639171234568"),
                    ],
                    vec![
                        wallet_event(&id("w1"), "10.00", "+639171234567"),
                        event(&id("b1"), "5.00"),
                    ],
                    vec![
                        wallet_event(&id("big"), "20000000000.00", "+639171234569"),
                        wallet_event(&id("w3"), "30.00", "+639171234560"),
                    ],
                ] {
                    items.push(request(&store, &config, events).await);
                }
                assert!(
                    items.iter().all(IntakeWrite::decided),
                    "every request merges"
                );
                let results = write_requests(&store, items, prefix == "m").await;
                let outcomes: Vec<Vec<(Intake, Option<SettlementState>)>> = results
                    .iter()
                    .map(|r| r.iter().map(|e| (e.outcome, e.state)).collect())
                    .collect();
                let mut rows = Vec::new();
                for name in names {
                    rows.push(written(&store, &id(name)).await);
                }
                left.push((outcomes, rows));
                numbers.push(stans(&store, &names.map(id)).await);
            }
            use Intake::*;
            use SettlementState::*;
            assert_eq!(
                left[0].0,
                vec![
                    vec![(Created, Some(Submitted)), (Created, Some(Submitted))],
                    vec![(Known, Some(Submitted)), (Created, Some(Submitted))],
                    vec![(Created, Some(Failed)), (Created, Some(Submitted))],
                ],
                "{:?}",
                store.dialect()
            );
            assert_eq!(left[0], left[1], "{:?}", store.dialect());
            let n = |s: &str| Some(s.to_string());
            // Merged on a new store: 1, 2 and then 3 for w3 (none for the duplicate, the bank
            // settlement or the message that could not be built).
            assert_eq!(
                numbers[0],
                vec![n("000001"), n("000002"), None, None, n("000003")]
            );
            // Alone afterwards, one at a time from there; the message that could not be built
            // took one (built after its number was taken, in its transaction).
            assert_eq!(
                numbers[1],
                vec![n("000004"), n("000005"), None, None, n("000007")]
            );
            each.finish().await;
        }
    }

    /// On PostgreSQL a group's wallet settlements take their STANs before its transaction
    /// ([`reserve_stans`]): while the transaction is still open, another transaction takes
    /// the switch's next number at once instead of waiting for its commit, and the group's
    /// numbers are the first ones. On SQLite (one writer) they are taken in the transaction.
    #[tokio::test]
    async fn a_merged_wallet_intake_leaves_the_trace_counter_unlocked_on_postgres() {
        use crate::store::testing::{config_with_wallet, postgres_only, wallet_event};
        let name = "a_merged_wallet_intake_leaves_the_trace_counter_unlocked_on_postgres";
        let Some(each) = postgres_only(name).await else {
            return;
        };
        let store = each.store.clone();
        let config = config_with_wallet();
        let events = vec![
            wallet_event("w1", "10.00", "+639171234567"),
            wallet_event("w2", "20.00", "+639171234568"),
        ];
        let mut items = vec![request(&store, &config, events).await];
        let counterparty = match &items[0].events[0] {
            Ready::Event(event) => event.route.as_ref().unwrap().counterparty.clone(),
            Ready::Invalid(_) => panic!("a valid wallet event"),
        };
        // As a group writer: before the transaction, then the merged write in it.
        let mut writer = store.pool().acquire().await.unwrap();
        IntakeWrite::before_group(&mut writer, items.iter_mut().collect()).await;
        let begin = crate::store::group::begin_merged(store.dialect());
        sqlx::Executor::execute(&mut *writer, begin).await.unwrap();
        let written = IntakeWrite::write_all(&mut writer, &items).await.unwrap();
        assert!(written.iter().all(Option::is_some), "the request merged");
        // Meanwhile, another transaction: it would wait on the counter's row until the
        // group's commit, and give up after the lock timeout.
        let mut other = store.pool().begin().await.unwrap();
        sqlx::Executor::execute(&mut *other, "SET LOCAL lock_timeout = '2s'")
            .await
            .unwrap();
        let next = messages::take_stans(&mut other, &counterparty, 1).await;
        other.commit().await.unwrap();
        sqlx::Executor::execute(&mut *writer, "COMMIT")
            .await
            .unwrap();
        drop(writer);
        assert_eq!(next.unwrap(), vec!["000003".to_string()]);
        let ids = ["w1".to_string(), "w2".to_string()];
        let n = |s: &str| Some(s.to_string());
        assert_eq!(stans(&store, &ids).await, vec![n("000001"), n("000002")]);
        each.finish().await;
    }

    /// A ledger's post journaled and applied in one write ([`super::super::post::LedgerPost`]),
    /// merged in a group or alone, leaves the answers, rows, audit trail and journal statuses
    /// that journaling it first and applying it afterwards leaves; its entry keeps the body.
    #[tokio::test]
    async fn a_post_journaled_with_its_events_writes_what_journal_then_intake_writes() {
        use crate::intake::post::LedgerPost;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let store = Store::connect(&url, 4).await.unwrap();
        let config = config();
        let mut answers = Vec::new();
        for prefix in ["merged", "alone", "apart"] {
            let seed = vec![event(&format!("{prefix}-seed"), "1.00")];
            let seed = request(&store, &config, seed).await;
            assert!(store.group().write_merging(vec![seed]).await[0].is_ok());
            let items = requests(&store, &config, prefix).await;
            let (mut inbound, mut results) = (Vec::new(), Vec::new());
            if prefix == "apart" {
                // Journaled first (by `requests`), then applied: the path before posts.
                for item in items {
                    inbound.push(item.inbound_id);
                    let mut tx = store.begin().await.unwrap();
                    results.push(item.write_one(&mut tx).await.unwrap());
                    tx.commit().await.unwrap();
                }
            } else {
                let bodies: Vec<String> = (0..items.len())
                    .map(|n| format!("{prefix} body {n}"))
                    .collect();
                let posts: Vec<LedgerPost> = items
                    .into_iter()
                    .zip(&bodies)
                    .map(|(write, body)| LedgerPost {
                        entry: journal::received(
                            Channel::LedgerHttp,
                            Some("l"),
                            Some("application/json"),
                            body.as_bytes(),
                            AuthenticatedBy::Signature,
                        ),
                        write,
                    })
                    .collect();
                let mut tx = store.begin().await.unwrap();
                let written = if prefix == "merged" {
                    let all = LedgerPost::write_all(&mut tx, &posts).await.unwrap();
                    all.into_iter()
                        .map(|w| w.expect("every post merged"))
                        .collect()
                } else {
                    let mut one = Vec::new();
                    for post in posts {
                        one.push(post.write_one(&mut tx).await.unwrap());
                    }
                    one
                };
                tx.commit().await.unwrap();
                let mut conn = store.pool().acquire().await.unwrap();
                for ((id, answer), body) in written.into_iter().zip(&bodies) {
                    let entry = journal::get(&mut conn, id).await.unwrap().unwrap();
                    assert_eq!(entry.raw, body.as_bytes(), "{prefix}: the body, raw");
                    assert_eq!(entry.authenticated_by, Some(AuthenticatedBy::Signature));
                    inbound.push(id);
                    results.push(answer);
                }
            }
            answers.push(left(&store, prefix, &inbound, &results).await);
        }
        assert_eq!(
            answers[0].0[0],
            vec![(Intake::Created, Some(SettlementState::Submitted))]
        );
        assert_eq!(answers[0], answers[2], "merged against journal-then-intake");
        assert_eq!(answers[1], answers[2], "alone against journal-then-intake");
        dir.close().unwrap();
    }

    /// One caller's failure in a merged group (its message id is taken by another caller's)
    /// fails that caller alone: the others' writes commit and each hears its own answer.
    #[tokio::test]
    async fn a_failing_caller_fails_alone_in_a_merged_group() {
        let config = config();
        for each in
            crate::store::testing::each("a_failing_caller_fails_alone_in_a_merged_group").await
        {
            let store = each.store.clone();
            let first = request(&store, &config, vec![event("first", "10.00")]).await;
            let mut clash = request(&store, &config, vec![event("clash", "11.00")]).await;
            let last = request(
                &store,
                &config,
                vec![event("last", "12.00"), event("first", "10.00")],
            )
            .await;
            let taken = match &first.events[0] {
                Ready::Event(e) => e.offline.as_ref().unwrap().as_ref().unwrap().msg_id.clone(),
                Ready::Invalid(_) => unreachable!(),
            };
            match &mut clash.events[0] {
                Ready::Event(e) => e.offline.as_mut().unwrap().as_mut().unwrap().msg_id = taken,
                Ready::Invalid(_) => unreachable!(),
            }
            let inbound = [first.inbound_id, clash.inbound_id, last.inbound_id];
            let (answers, failed) = store.group().write_together(vec![first, clash, last]).await;
            assert_eq!(
                failed.len(),
                1,
                "the merged write fails on the clash: {failed:?}"
            );
            let outcomes: Vec<_> = answers
                .iter()
                .map(|a| {
                    a.as_ref()
                        .map(|r| r.iter().map(|e| e.outcome).collect::<Vec<_>>())
                        .ok()
                })
                .collect();
            assert_eq!(
                outcomes,
                vec![
                    Some(vec![Intake::Created]),
                    None,
                    Some(vec![Intake::Created, Intake::Known])
                ],
                "{:?}",
                answers
                    .iter()
                    .map(|a| a.as_ref().err().map(ToString::to_string))
                    .collect::<Vec<_>>()
            );
            for e in ["first", "last"] {
                assert_eq!(
                    written(&store, e).await[0].split(' ').next(),
                    Some("submitted"),
                    "{e}"
                );
                assert_eq!(
                    written(&store, e).await.len(),
                    6,
                    "{e}: row, 3 audit rows, job, message"
                );
            }
            assert_eq!(written(&store, "clash").await, vec!["none".to_string()]);
            let statuses: Vec<_> = futures::future::join_all(inbound.map(|id| {
                let store = store.clone();
                async move { journal_entry(&store, id).await.0 }
            }))
            .await;
            assert_eq!(
                statuses,
                vec![
                    journal::Status::Applied,
                    journal::Status::Received,
                    journal::Status::Applied
                ]
            );
            each.finish().await;
        }
    }
}
