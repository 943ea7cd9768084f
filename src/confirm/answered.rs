//! A deliver job's outcome when the bank answered our pacs.008 in its HTTP response: the job's
//! completion, `submitted → sent`, and the answer applied, written as one typed write that the
//! group writer merges with the other answered deliveries of its group
//! ([`crate::store::group::Merge`]).
//!
//! Most answers are plain: one transaction status, naming by UETR the message this job sent,
//! that settles or rejects the payment. For those the writer's work for the whole group is one
//! query (which leases still hold and which settlements are still `submitted`) and then the
//! rows: one more request to SQLite, seven statements on PostgreSQL, instead of six requests
//! per settlement. Anything else (an answer
//! that cannot be read, several reports, another message named, an answer that leaves the
//! payment in progress, a settlement an asynchronous answer already moved, a lost lease) runs
//! alone, through the same functions as any other answer ([`super::bank`]). Either way the
//! rows written are the same; a test below compares them.

use super::bank::{self, target_state};
use crate::config::Config;
use crate::domain::{SettlementId, SettlementState};
use crate::rails::bank::{parse_reports, Reported, StatusReport};
use crate::store::merged::Forms;
use crate::store::messages::Outbound;
use crate::store::outbox::{self, Job};
use crate::store::{now_ms, StoreError};
use futures::future::BoxFuture;
use sqlx::{AnyConnection, Row};
use std::sync::Arc;

/// An answered delivery, waiting in the group writer's queue.
pub struct Answered {
    pub job: Job,
    pub owner: String,
    pub config: Arc<Config>,
    pub sid: SettlementId,
    pub bank_id: String,
    /// The answer's journal entry (journaled, raw, before this write).
    pub inbound: i64,
    pub body: Vec<u8>,
    /// The answer read before the write, when it is plain (see the module's text).
    plain: Option<Plain>,
}

/// A plain answer: its message kind, its one report and the final state it moves to.
struct Plain {
    kind: String,
    report: StatusReport,
    to: SettlementState,
}

impl Answered {
    /// The write for the answer `body` (journal entry `inbound`) of the bank to `message`,
    /// once the engine names the job and its lease's owner. Reads the answer now, on the
    /// caller's task, so that the writer does not.
    pub fn to(
        config: Arc<Config>,
        message: &Outbound,
        inbound: i64,
        body: Vec<u8>,
    ) -> impl FnOnce(Job, String) -> Self + Send + 'static {
        let plain = plain(&body, message);
        let (sid, bank_id) = (message.settlement_id.clone(), message.counterparty.clone());
        move |job, owner| Answered {
            job,
            owner,
            config,
            sid,
            bank_id,
            inbound,
            body,
            plain,
        }
    }
}

/// `body` read as a plain answer to `message`, or `None`.
fn plain(body: &[u8], message: &Outbound) -> Option<Plain> {
    let (kind, mut reports) = parse_reports(body).ok()?;
    if reports.len() != 1 {
        return None;
    }
    let report = reports.pop()?;
    // UETRs are unique among the messages we sent: this one names ours, as
    // `messages::find_by_reference` would find it.
    if report.orgnl_uetr.is_none() || report.orgnl_uetr != message.uetr {
        return None;
    }
    let Reported::Status(status) = &report.status else {
        return None;
    };
    let to = target_state(status)?;
    matches!(to, SettlementState::Settled | SettlementState::Rejected).then_some(Plain {
        kind,
        report,
        to,
    })
}

/// The answer applied with the job's completion, one settlement at a time: what a deliver
/// job's answer has always written (see [`super::bank`]).
pub async fn apply_alone(
    conn: &mut AnyConnection,
    config: &Config,
    sid: &SettlementId,
    bank_id: &str,
    inbound: i64,
    body: &[u8],
) -> Result<(), StoreError> {
    bank::mark_sent(conn, sid, SENT_DETAIL, Some(inbound)).await?;
    let final_now = bank::apply_answer(conn, config, sid, bank_id, inbound, body).await?;
    if final_now {
        // Nothing left to ask the bank: no need to read the state again.
        return Ok(());
    }
    bank::arm_status_if_open(conn, config, sid, bank_id).await
}

/// The audit detail of `submitted → sent` when the bank answered in its HTTP response.
const SENT_DETAIL: &str = "HTTP 200 with answer";

impl FinalAnswer for Answered {
    const VIA: Via = Via::Sent;

    fn lease(&self) -> (&Job, &str) {
        (&self.job, &self.owner)
    }

    fn apply_one<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(apply_alone(
            conn,
            &self.config,
            &self.sid,
            &self.bank_id,
            self.inbound,
            &self.body,
        ))
    }

    fn asked(&self, i: usize) -> Option<Asked> {
        self.plain
            .as_ref()
            .map(|_| Asked::new(i, &self.job, &self.owner, &self.sid))
    }

    fn row(&self) -> Option<serde_json::Value> {
        self.plain.as_ref().map(|p| row(self, p))
    }
}

/// An answer to a deliver job that may be written merged with the group's others
/// ([`write_answers`]): one that moves its settlement to a final state.
/// Every rail's final answer merges the same way: [`write_answers`] for the group, and
/// [`write_answer_alone`] for one.
impl<A: FinalAnswer + Send + Sync + 'static> crate::store::group::Merge for A {
    type Output = bool;

    fn write_all<'c>(
        conn: &'c mut AnyConnection,
        items: &'c [Self],
    ) -> BoxFuture<'c, Result<Vec<Option<bool>>, StoreError>> {
        Box::pin(write_answers(conn, items))
    }

    fn write_one(self, conn: &mut AnyConnection) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move { write_answer_alone(&self, conn).await })
    }
}

pub(super) trait FinalAnswer {
    /// How its settlement reaches the final state.
    const VIA: Via;
    /// Its job, lease owner and settlement (`i`: its index in the group), when its answer
    /// could be written merged; `None` runs it alone.
    fn asked(&self, i: usize) -> Option<Asked>;
    /// Its values for [`final_sql`], when it could be written merged.
    fn row(&self) -> Option<serde_json::Value>;
    /// Its job and the lease's owner.
    fn lease(&self) -> (&Job, &str);
    /// The answer applied alone, as its rail applies any answer (the job's completion aside).
    fn apply_one<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>>;
}

/// [`crate::store::group::Merge::write_one`] of a final answer: the job completed if its
/// lease still holds (first: when it is lost nothing has been written), then the answer
/// applied alone. Whether the lease held.
pub(super) async fn write_answer_alone<A: FinalAnswer>(
    answer: &A,
    conn: &mut AnyConnection,
) -> Result<bool, StoreError> {
    let (job, owner) = answer.lease();
    if !outbox::complete(conn, job, owner).await? {
        return Ok(false);
    }
    answer.apply_one(conn).await?;
    Ok(true)
}

/// [`crate::store::group::Merge::write_all`] of final answers: those whose lease holds and
/// whose settlement is still `submitted` ([`ready_to_write`]) written together
/// ([`write_final`]), the others left to run alone.
pub(super) async fn write_answers<A: FinalAnswer>(
    conn: &mut AnyConnection,
    items: &[A],
) -> Result<Vec<Option<bool>>, StoreError> {
    let asked = items.iter().enumerate().filter_map(|(i, a)| a.asked(i));
    let ready = ready_to_write(&mut *conn, asked).await?;
    let rows = items
        .iter()
        .enumerate()
        .filter(|(i, _)| ready.contains(i))
        .filter_map(|(_, a)| a.row());
    write_final(&mut *conn, rows.collect(), A::VIA).await?;
    Ok((0..items.len())
        .map(|i| ready.contains(&i).then_some(true))
        .collect())
}

/// An answered delivery whose answer could be written merged: its index in the group, its
/// job, the lease's owner and its settlement.
pub(super) struct Asked(serde_json::Value);

impl Asked {
    pub(super) fn new(i: usize, job: &Job, owner: &str, sid: &SettlementId) -> Asked {
        Asked(serde_json::json!([i, job.id, owner, sid.as_str()]))
    }
}

/// The items (by index) of `asked` whose lease their owner still holds and whose settlement
/// is still `submitted`, in one query. On SQLite the writer is the only one writing, so
/// what it reads here stands until it writes; on PostgreSQL another transaction may move a
/// row in between, and [`write_final`] then fails on its counts.
async fn ready_to_write(
    conn: &mut AnyConnection,
    asked: impl Iterator<Item = Asked>,
) -> Result<std::collections::HashSet<usize>, StoreError> {
    let asked: Vec<serde_json::Value> = asked.map(|a| a.0).collect();
    if asked.is_empty() {
        return Ok(Default::default());
    }
    let f = Forms::of(conn);
    let rows = sqlx::query(&format!(
        // The list first, each row then found by its key (SQLite would otherwise scan every
        // leased job or submitted settlement once per entry of the list).
        "SELECT {i} AS i FROM {rows} \
         {join} outbox o ON o.id = {job} AND {status} = '{leased}' \
         AND o.lease_owner = v.value->>2 \
         {join} settlements s ON s.id = v.value->>3 AND {state} = '{submitted}'",
        join = f.join_in_order(),
        status = f.unindexed("o.status"),
        state = f.unindexed("s.state"),
        i = f.int("v.value->>0"),
        rows = f.each(1, "v"),
        job = f.int("v.value->>1"),
        leased = outbox::LEASED,
        submitted = SettlementState::Submitted.as_str(),
    ))
    .bind(serde_json::Value::Array(asked).to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let i: i64 = row.try_get("i")?;
            Ok(i as usize)
        })
        .collect()
}

/// How a merged answer reaches its final state from `submitted`: through `sent` (the bank
/// answered in its HTTP response: that move is written too), or directly (the switch's
/// 0210, as [`crate::store::settlements::transition`] moves it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Via {
    Sent,
    Direct,
}

/// Writes final answers (`rows`, one per item [`ready_to_write`] found ready, see
/// [`final_sql`] for their fields): the jobs done, the audit rows (`submitted → sent` first
/// with [`Via::Sent`]), the settlements moved, their write-back jobs queued and any waiting
/// status request retired, and the journal entries marked applied, as the answers written
/// one by one write them. One request on SQLite; on PostgreSQL one statement after the
/// other. Each statement but the write-back jobs' and the status requests' must change one
/// row per item: anything else (a row another transaction moved since [`ready_to_write`]
/// read it) is an error, and the group writer then rolls the merged write back and runs
/// each item alone.
// `fetch_many` over several statements is deprecated because only SQLite runs them; it is
// used on SQLite only, where one request for the group is the point.
#[allow(deprecated)]
async fn write_final(
    conn: &mut AnyConnection,
    rows: Vec<serde_json::Value>,
    via: Via,
) -> Result<(), StoreError> {
    use futures::TryStreamExt;
    if rows.is_empty() {
        return Ok(());
    }
    let count = rows.len() as u64;
    let (rows, now) = (serde_json::Value::Array(rows).to_string(), now_ms());
    let f = Forms::of(conn);
    let statements = final_sql(f, via);
    let mut changed = Vec::with_capacity(statements.len());
    if f.sqlite() {
        let sql = statements.join("; ");
        let mut results = sqlx::query(&sql)
            .bind(rows)
            .bind(now)
            .fetch_many(&mut *conn);
        while let Some(item) = results.try_next().await? {
            if let sqlx::Either::Left(done) = item {
                changed.push(done.rows_affected());
            }
        }
    } else {
        for sql in statements {
            let done = sqlx::query(sql)
                .bind(&rows)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            changed.push(done.rows_affected());
        }
    }
    // The jobs, the audit rows and the settlements each changed one row per item; the
    // journal entries too (the last statement).
    let moves = if via == Via::Sent { 4 } else { 3 };
    let one_each = changed
        .get(..moves)
        .is_some_and(|c| c.iter().all(|n| *n == count));
    if !one_each || changed.last() != Some(&count) {
        return Err(StoreError::Corrupt(format!(
            "merged answers: {count} items changed {changed:?} rows"
        )));
    }
    Ok(())
}

/// One item's values for [`final_sql`].
fn row(a: &Answered, p: &Plain) -> serde_json::Value {
    let sid = a.sid.as_str();
    // The audit values and the journal's detail as the one-by-one path makes them.
    let cause = p.report.status.to_string();
    let detail = bank::reason_detail(&p.report);
    let change = bank::change_for(&p.report, p.to, &cause, detail.as_deref(), a.inbound);
    let journal_detail: String = bank::describe(&bank::Applied::Moved {
        settlement_id: sid.to_string(),
        from: SettlementState::Sent,
        to: p.to,
    })
    .chars()
    .take(crate::store::journal::DETAIL_CHARS_MAX)
    .collect();
    serde_json::json!({
        "job": a.job.id,
        "sid": sid,
        "from": SettlementState::Sent.as_str(),
        "to": p.to.as_str(),
        "inbound": a.inbound,
        "cause": change.cause,
        "detail": change.detail,
        "reason_code": change.reason_code,
        "reason": change.reason,
        "kind": p.kind,
        "ref": p.report.orgnl_uetr,
        "journal_detail": journal_detail,
    })
}

/// The statements of [`write_final`], cached by database and [`Via`]; `$1` is the items as
/// a JSON array, `$2` the time. Each item's fields: `job`, `sid`, `from` (the state the
/// final move starts from), `to`, `inbound`, `cause`, `detail`, `reason_code`, `reason`, and
/// the journal entry's `kind`, `ref` and `journal_detail`. The status and state are compared
/// unindexed ([`Forms::unindexed`]), so that each row is found by its key from the list
/// rather than by scanning every leased job or submitted settlement.
fn final_sql(f: Forms, via: Via) -> &'static [String] {
    use std::sync::OnceLock;
    static CACHED: [OnceLock<Vec<String>>; 4] = [const { OnceLock::new() }; 4];
    let at = usize::from(f.sqlite()) * 2 + usize::from(via == Via::Sent);
    CACHED[at].get_or_init(|| {
        let mut statements = final_statements(f);
        if via == Via::Direct {
            statements.remove(1);
        }
        statements
    })
}

/// [`final_sql`] through `sent`.
fn final_statements(f: Forms) -> Vec<String> {
    let (leased, done) = (outbox::LEASED, outbox::DONE);
    let (submitted, sent) = (
        SettlementState::Submitted.as_str(),
        SettlementState::Sent.as_str(),
    );
    let applied = crate::store::journal::Status::Applied.as_str();
    let (rows, each) = (f.each(1, "j"), f.each(1, "v"));
    let inbound = f.int("value->>'inbound'");
    vec![
        format!(
            "UPDATE outbox SET status = '{done}', lease_owner = NULL, lease_until_ms = NULL, \
             last_error = NULL, updated_at_ms = $2 WHERE {status} = '{leased}' \
             AND id IN (SELECT {job} FROM {rows})",
            status = f.unindexed("status"),
            job = f.int("value->>'job'"),
        ),
        format!(
            "INSERT INTO settlement_transitions (settlement_id, from_state, to_state, cause, \
             detail, inbound_id, at_ms) SELECT value->>'sid', '{submitted}', '{sent}', \
             'dispatch', '{SENT_DETAIL}', {inbound}, $2 FROM {rows} ORDER BY key"
        ),
        format!(
            "INSERT INTO settlement_transitions (settlement_id, from_state, to_state, cause, \
             detail, inbound_id, at_ms) SELECT value->>'sid', value->>'from', value->>'to', \
             value->>'cause', value->>'detail', {inbound}, $2 FROM {rows} ORDER BY key"
        ),
        format!(
            "UPDATE settlements SET state = v.value->>'to', updated_at_ms = $2, \
             final_at_ms = $2, \
             reason_code = COALESCE(v.value->>'reason_code', settlements.reason_code), \
             reason = COALESCE(v.value->>'reason', settlements.reason) \
             FROM {each} WHERE settlements.id = v.value->>'sid' AND {state} = '{submitted}'",
            state = f.unindexed("settlements.state"),
        ),
        format!(
            "INSERT INTO outbox (kind, settlement_id, status, attempts, due_at_ms, \
             created_at_ms, updated_at_ms) SELECT 'writeback', value->>'sid', 'pending', 0, \
             $2, $2, $2 FROM {rows} WHERE true ON CONFLICT (kind, settlement_id) DO NOTHING"
        ),
        format!(
            "UPDATE outbox SET status = '{done}', updated_at_ms = $2 WHERE kind = 'status' \
             AND status IN ('pending', 'dead') \
             AND settlement_id IN (SELECT value->>'sid' FROM {rows})"
        ),
        format!(
            "UPDATE inbound_journal SET status = '{applied}', \
             detail = v.value->>'journal_detail', settlement_id = v.value->>'sid', \
             message_kind = v.value->>'kind', message_ref = v.value->>'ref', \
             updated_at_ms = $2 FROM {each} WHERE inbound_journal.id = {id}",
            id = f.int("v.value->>'inbound'"),
        ),
    ]
}

#[cfg(test)]
pub(super) mod tests {
    //! The merged path against the one-caller path, for plain answers and for each kind of
    //! answer that must run alone.
    use super::*;
    use crate::store::journal::{self, AuthenticatedBy, Channel};
    use crate::store::testing::{config, each_alone, event, job_lines, merged_then_rest};
    use crate::store::{messages, settlements, Store};

    /// A pacs.002 answering the payment with `uetr`, as a bank writes it.
    fn pacs002(uetr: &str, status: &str, reason: Option<&str>) -> Vec<u8> {
        let reason = reason
            .map(|code| format!("<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf>"))
            .unwrap_or_default();
        format!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt>
<GrpHdr><MsgId>ANSWER-1</MsgId><CreDtTm>2026-12-05T10:00:00+00:00</CreDtTm></GrpHdr>
<TxInfAndSts><OrgnlUETR>{uetr}</OrgnlUETR><TxSts>{status}</TxSts>{reason}</TxInfAndSts>
</FIToFIPmtStsRpt></Document>"#
        )
        .into_bytes()
    }

    /// The cases, in order: the first three are plain, the rest run alone.
    const CASES: [&str; 7] = [
        "settle",
        "reject",
        "narr",
        "progress",
        "elsewhere",
        "overtaken",
        "lost",
    ];

    /// One answered delivery per case, its settlement created by intake and its deliver job
    /// claimed by worker `w`; event ids start with `prefix`.
    async fn answered(store: &Store, prefix: &str) -> Vec<Answered> {
        let config = config();
        let events = CASES
            .iter()
            .map(|c| event(&format!("{prefix}-{c}"), "10.00"))
            .collect();
        let taken = crate::store::testing::taken_in_and_claimed(store, &config, events).await;
        let mut items = Vec::new();
        for (case, (sid, job)) in CASES.iter().zip(taken) {
            let mut conn = store.pool().acquire().await.unwrap();
            let message = messages::for_settlement(&mut conn, &sid, "pacs.008.001.08")
                .await
                .unwrap()
                .unwrap();
            let uetr = message.uetr.clone().unwrap();
            let body = match *case {
                "reject" => pacs002(&uetr, "RJCT", Some("AC04")),
                "narr" => pacs002(&uetr, "RJCT", None),
                "progress" => pacs002(&uetr, "ACSP", None),
                // A UETR we never sent (the same one in both runs, so their rows compare).
                "elsewhere" => pacs002("0b1f6c2e-5d7a-4e8b-9c3d-2a1b0c9d8e7f", "ACSC", None),
                _ => pacs002(&uetr, "ACSC", None),
            };
            if *case == "overtaken" {
                // An asynchronous answer moved it on before the HTTP answer is applied.
                for to in [SettlementState::Sent, SettlementState::Accepted] {
                    let change = settlements::Change {
                        cause: "callback",
                        ..Default::default()
                    };
                    settlements::transition(&mut conn, &sid, to, &change)
                        .await
                        .unwrap();
                }
            }
            drop(conn);
            let inbound = journal::record(
                store,
                Channel::BankResponse,
                Some("b"),
                None,
                &body,
                AuthenticatedBy::MutualTls,
            )
            .await
            .unwrap();
            let owner = if *case == "lost" { "another" } else { "w" };
            let make = Answered::to(config.clone(), &message, inbound, body);
            items.push(make(job, owner.to_string()));
        }
        items
    }

    /// What an answered delivery left: the settlement, its audit rows, its jobs and the
    /// answer's journal entry (`inbound`), with the settlement id written as ST.
    async fn left(store: &Store, sid: &SettlementId, inbound: i64) -> Vec<String> {
        let mut conn = store.pool().acquire().await.unwrap();
        let r = settlements::get(&mut conn, sid).await.unwrap().unwrap();
        let mut out = vec![format!(
            "{} {:?} {:?} final:{}",
            r.state,
            r.reason_code,
            r.reason,
            r.final_at_ms.is_some()
        )];
        for t in settlements::transitions(&mut conn, sid).await.unwrap() {
            let by = match t.inbound_id {
                Some(id) if id == inbound => "answer",
                Some(_) => "other",
                None => "none",
            };
            // Intake's rows name the random message id: only the moves from `submitted` on.
            if t.from
                .as_deref()
                .is_some_and(|f| f != "received" && f != "routed")
            {
                out.push(format!(
                    "{:?} -> {} {} {:?} {by}",
                    t.from, t.to, t.cause, t.detail
                ));
            }
        }
        out.extend(job_lines(&mut conn, sid).await);
        let e = journal::get(&mut conn, inbound).await.unwrap().unwrap();
        out.push(format!(
            "journal {} {:?} {:?} {:?} ref:{}",
            e.status,
            e.detail,
            e.settlement_id.as_deref().map(|s| s == sid.as_str()),
            e.message_kind,
            e.message_ref.is_some()
        ));
        out.into_iter()
            .map(|line| line.replace(sid.as_str(), "ST"))
            .collect()
    }

    /// What a list of answered deliveries (or credits) left, each.
    pub(in crate::confirm) async fn all_left(
        store: &Store,
        keys: &[(SettlementId, i64)],
    ) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for (sid, inbound) in keys {
            out.push(left(store, sid, *inbound).await);
        }
        out
    }

    fn keys(items: &[Answered]) -> Vec<(SettlementId, i64)> {
        items.iter().map(|a| (a.sid.clone(), a.inbound)).collect()
    }

    /// Merged, the plain answers are written by `write_all` and the others left to run
    /// alone (as the group writer then runs them); the rows are those each answer writes
    /// alone, answer for answer.
    #[tokio::test]
    async fn merged_answers_write_what_each_answer_alone_writes() {
        let test = "merged_answers_write_what_each_answer_alone_writes";
        for each in crate::store::testing::each(test).await {
            merged_against_alone(&each.store).await;
            each.finish().await;
        }
    }

    async fn merged_against_alone(store: &Store) {
        let merged = answered(store, "m").await;
        let merged_keys = keys(&merged);
        let (which, merged_answers) = merged_then_rest(store, merged).await;
        assert_eq!(
            which,
            [true, true, true, false, false, false, false],
            "the plain answers merge, the rest run alone"
        );
        let merged_left = all_left(store, &merged_keys).await;

        let alone = answered(store, "a").await;
        let alone_keys = keys(&alone);
        let alone_answers = each_alone(store, alone).await;
        let alone_left = all_left(store, &alone_keys).await;

        assert_eq!(
            alone_answers,
            vec![true, true, true, true, true, true, false]
        );
        assert_eq!(merged_answers, alone_answers);
        for (case, (m, a)) in CASES.iter().zip(merged_left.iter().zip(&alone_left)) {
            assert_eq!(m, a, "{case}: merged against alone");
        }
        // What the plain ones wrote, spelled out once.
        let expected: [&[&str]; 3] = [
            &[
                "settled None None final:true",
                "Some(\"submitted\") -> sent dispatch Some(\"HTTP 200 with answer\") answer",
                "Some(\"sent\") -> settled pacs.002 ACSC None answer",
                "job deliver done 1 None",
                "job writeback pending 0 None",
                "journal applied Some(\"ST: sent -> settled\") Some(true) Some(\"pacs.002.001.10\") ref:true",
            ],
            &[
                "rejected Some(\"AC04\") None final:true",
                "Some(\"submitted\") -> sent dispatch Some(\"HTTP 200 with answer\") answer",
                "Some(\"sent\") -> rejected pacs.002 RJCT Some(\"AC04\") answer",
                "job deliver done 1 None",
                "job writeback pending 0 None",
                "journal applied Some(\"ST: sent -> rejected\") Some(true) Some(\"pacs.002.001.10\") ref:true",
            ],
            &[
                "rejected Some(\"NARR\") None final:true",
                "Some(\"submitted\") -> sent dispatch Some(\"HTTP 200 with answer\") answer",
                "Some(\"sent\") -> rejected pacs.002 RJCT None answer",
                "job deliver done 1 None",
                "job writeback pending 0 None",
                "journal applied Some(\"ST: sent -> rejected\") Some(true) Some(\"pacs.002.001.10\") ref:true",
            ],
        ];
        for (got, want) in merged_left.iter().zip(expected) {
            assert_eq!(got, want);
        }
    }
}
