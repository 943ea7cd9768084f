//! A wallet deliver job's outcome when the switch answered our 0200 with a 0210 that settles
//! or declines it: the job's completion and the answer applied, written as one typed write
//! that the group writer merges with the other answered credits of its group
//! ([`crate::store::group::Merge`]), as the bank rail's plain answers are
//! ([`super::answered`], whose statements it shares).
//!
//! An approval or a decline of a settlement still `submitted` whose lease holds is written
//! for the whole group: the jobs done, the moves to `settled` or `rejected` with their audit
//! rows, the write-back jobs and the journal entries. Anything else (an ambiguous code, which
//! starts a reversal; a settlement something else moved first; a lost lease) runs alone,
//! through [`super::wallet::apply_credit_answer`] as before. Either way the rows written are
//! the same; a test below compares them.

use super::answered::{Asked, FinalAnswer, Via};
use crate::config::SwitchConfig;
use crate::domain::{SettlementId, SettlementState};
use crate::rails::wallet::{self, Answer};
use crate::store::messages::Outbound;
use crate::store::outbox::Job;
use crate::store::StoreError;
use futures::future::BoxFuture;
use iso8583::Message;
use sqlx::AnyConnection;

/// An answered credit, waiting in the group writer's queue.
pub struct WalletAnswered {
    job: Job,
    owner: String,
    switch: SwitchConfig,
    credit: Outbound,
    /// The answer's journal entry (journaled, raw, before this write).
    inbound: i64,
    response: Message,
    /// The final state the answer moves the settlement to and the answer's code, when it
    /// settles or declines it.
    to: Option<(SettlementState, String)>,
}

impl WalletAnswered {
    /// The write for `response` (journal entry `inbound`) of `switch` to our `credit`, once
    /// the engine names the job and its lease's owner. Reads the answer's code now, on the
    /// caller's task.
    pub fn to(
        switch: SwitchConfig,
        credit: Outbound,
        inbound: i64,
        response: Message,
    ) -> impl FnOnce(Job, String) -> Self + Send + 'static {
        let to = match wallet::classify(&switch, response.get_str(39)) {
            Answer::Approved(code) => Some((SettlementState::Settled, code)),
            Answer::Declined(code) => Some((SettlementState::Rejected, code)),
            Answer::Ambiguous(_) => None,
        };
        move |job, owner| WalletAnswered {
            job,
            owner,
            switch,
            credit,
            inbound,
            response,
            to,
        }
    }

    fn sid(&self) -> &SettlementId {
        &self.credit.settlement_id
    }
}

impl FinalAnswer for WalletAnswered {
    const VIA: Via = Via::Direct;

    fn lease(&self) -> (&Job, &str) {
        (&self.job, &self.owner)
    }

    fn apply_one<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            let (switch, credit) = (&self.switch, &self.credit);
            super::wallet::apply_credit_answer(conn, switch, credit, self.inbound, &self.response)
                .await?;
            Ok(())
        })
    }

    fn asked(&self, i: usize) -> Option<Asked> {
        self.to
            .as_ref()
            .map(|_| Asked::new(i, &self.job, &self.owner, self.sid()))
    }

    /// As [`super::wallet::apply_credit_answer`] writes them one by one.
    fn row(&self) -> Option<serde_json::Value> {
        let (to, code) = self.to.as_ref()?;
        let to = *to;
        let cause = format!("{} {code}", self.response.mti());
        let rejected = to == SettlementState::Rejected;
        Some(serde_json::json!({
            "job": self.job.id,
            "sid": self.sid().as_str(),
            "from": SettlementState::Submitted.as_str(),
            "to": to.as_str(),
            "inbound": self.inbound,
            "cause": cause,
            "detail": null,
            "reason_code": rejected.then_some(code),
            "reason": rejected.then_some(super::wallet::DECLINED_REASON),
            "kind": self.response.mti(),
            "ref": self.credit.rrn,
            "journal_detail": cause,
        }))
    }
}

#[cfg(test)]
mod tests {
    //! The merged path against the one-caller path, for 0210s that settle or decline and for
    //! each kind of answer that must run alone.
    use super::*;
    use crate::confirm::answered::tests::all_left;
    use crate::store::journal::{self, AuthenticatedBy, Channel};
    use crate::store::testing::{
        config_with_wallet, each, each_alone, merged_then_rest, taken_in_and_claimed, wallet_event,
    };
    use crate::store::{messages, settlements, Store};

    /// The cases, in order: the first two merge, the rest run alone.
    const CASES: [&str; 5] = ["approve", "decline", "ambiguous", "overtaken", "lost"];

    /// One answered credit per case, its settlement created by intake and its deliver job
    /// claimed by worker `w`; event ids start with `prefix`.
    async fn answered(store: &Store, prefix: &str) -> Vec<WalletAnswered> {
        let config = config_with_wallet();
        let switch = config.switch("w").unwrap().clone();
        let spec = wallet::spec(&switch).unwrap();
        let events = (0..CASES.len())
            .map(|n| wallet_event(&format!("{prefix}-{n}"), "10.00", "+639171234567"))
            .collect();
        let taken = taken_in_and_claimed(store, &config, events).await;
        let mut items = Vec::new();
        for (case, (sid, job)) in CASES.iter().zip(taken) {
            let mut conn = store.pool().acquire().await.unwrap();
            let credit = messages::required(&mut conn, &sid, wallet::CREDIT)
                .await
                .unwrap();
            if *case == "overtaken" {
                // A late answer's reversal moved it on before this answer is applied.
                let change = settlements::Change {
                    cause: "dispatch",
                    ..Default::default()
                };
                settlements::transition(&mut conn, &sid, SettlementState::Sent, &change)
                    .await
                    .unwrap();
            }
            drop(conn);
            let mut response = Message::new(&spec, "0210").unwrap();
            let code = match *case {
                "decline" => "05",
                "ambiguous" => "68",
                _ => "00",
            };
            response.set(39, code.as_bytes()).unwrap();
            let raw = response.encode().unwrap();
            let inbound = journal::record(
                store,
                Channel::SwitchResponse,
                Some("w"),
                Some("application/iso8583"),
                &raw,
                AuthenticatedBy::SwitchLink,
            )
            .await
            .unwrap();
            let owner = if *case == "lost" { "another" } else { "w" };
            let make = WalletAnswered::to(switch.clone(), credit, inbound, response);
            items.push(make(job.clone(), owner.to_string()));
        }
        items
    }

    fn keys(items: &[WalletAnswered]) -> Vec<(SettlementId, i64)> {
        items.iter().map(|a| (a.sid().clone(), a.inbound)).collect()
    }

    /// Merged, the approvals and declines are written by `write_all` and the others left to
    /// run alone (as the group writer then runs them); the rows are those each answer
    /// writes alone, answer for answer.
    #[tokio::test]
    async fn merged_wallet_answers_write_what_each_answer_alone_writes() {
        for each in each("merged_wallet_answers_write_what_each_answer_alone_writes").await {
            let store = &each.store;
            let merged = answered(store, "m").await;
            let merged_keys = keys(&merged);
            let (which, merged_answers) = merged_then_rest(store, merged).await;
            assert_eq!(which, [true, true, false, false, false]);
            let merged_left = all_left(store, &merged_keys).await;

            let alone = answered(store, "a").await;
            let alone_keys = keys(&alone);
            let alone_answers = each_alone(store, alone).await;
            let alone_left = all_left(store, &alone_keys).await;

            assert_eq!(alone_answers, vec![true, true, true, true, false]);
            assert_eq!(merged_answers, alone_answers);
            for (case, (m, a)) in CASES.iter().zip(merged_left.iter().zip(&alone_left)) {
                assert_eq!(m, a, "{case}: merged against alone, {:?}", store.dialect());
            }
            // What the merged ones wrote, spelled out once.
            let expected: [&[&str]; 2] = [
                &[
                    "settled None None final:true",
                    "Some(\"submitted\") -> settled 0210 00 None answer",
                    "job deliver done 1 None",
                    "job writeback pending 0 None",
                    "journal applied Some(\"0210 00\") Some(true) Some(\"0210\") ref:true",
                ],
                &[
                    "rejected Some(\"05\") Some(\"declined by the switch\") final:true",
                    "Some(\"submitted\") -> rejected 0210 05 None answer",
                    "job deliver done 1 None",
                    "job writeback pending 0 None",
                    "journal applied Some(\"0210 05\") Some(true) Some(\"0210\") ref:true",
                ],
            ];
            for (got, want) in merged_left.iter().zip(expected) {
                assert_eq!(got, want);
            }
            each.finish().await;
        }
    }
}
