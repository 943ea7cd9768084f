//! A ledger's post journaled and applied in one commit (issue 10: the acknowledgement waited
//! for two group commits, the journal entry's and then the intake's).
//!
//! The journal entry is inserted first and the events are applied after it, inside the same
//! transaction: nothing is applied that is not journaled raw with it (DESIGN.md decision 7),
//! and the two are durable together. When the joint write fails, nothing of it stands, and
//! [`super::accept_post`] journals the body alone, commits, and applies it as before: a body
//! the store could not apply is still kept, for recovery to apply.
//!
//! In a group the posts of every caller merge ([`Merge::write_all`]): their journal
//! entries are one multi-row insert ([`journal::insert_all`]), their events the merged intake
//! ([`super::merged::write_group`]), wallet settlements included (their trace numbers are
//! taken for the group at once). A post past the bounds runs alone ([`Merge::write_one`]).

use super::merged::{reserve_stans, write_group, IntakeWrite, MERGED_EVENTS_MAX};
use super::{apply_ready, EventResult};
use crate::store::group::Merge;
use crate::store::journal::{self, Insert};
use crate::store::StoreError;
use futures::future::BoxFuture;
use sqlx::AnyConnection;

/// A post's journal entry and its events, ready to write. `write.inbound_id` is unused: the
/// entry's id is known only once it is inserted.
pub(crate) struct LedgerPost {
    pub entry: Insert,
    pub write: IntakeWrite,
}

impl Merge for LedgerPost {
    /// The journal entry's id and each event's result.
    type Output = (i64, Vec<EventResult>);

    /// The ledger's HTTP request waits for it: its 201 is the acknowledgement.
    const ACKNOWLEDGED: bool = true;

    fn write_all<'c>(
        conn: &'c mut AnyConnection,
        items: &'c [Self],
    ) -> BoxFuture<'c, Result<Vec<Option<Self::Output>>, StoreError>> {
        Box::pin(write_all(conn, items))
    }

    fn before_group<'c>(
        conn: &'c mut AnyConnection,
        items: Vec<&'c mut Self>,
    ) -> BoxFuture<'c, ()> {
        let writes = items.into_iter().map(|post| &mut post.write).collect();
        Box::pin(reserve_stans(conn, writes))
    }

    fn write_one(
        self,
        conn: &mut AnyConnection,
    ) -> BoxFuture<'_, Result<Self::Output, StoreError>> {
        Box::pin(async move {
            let write = self.write;
            let id = self.entry.write_one(conn).await?;
            let results = apply_ready(conn, &write.config, &write.ledger, id, write.events).await?;
            Ok((id, results))
        })
    }
}

/// The posts that merge (decided without the store, within the bounds on events and bytes):
/// their entries in one insert, then their events in the merged intake.
async fn write_all(
    conn: &mut AnyConnection,
    items: &[LedgerPost],
) -> Result<Vec<Option<(i64, Vec<EventResult>)>>, StoreError> {
    let (mut events_room, mut bytes_room) = (MERGED_EVENTS_MAX, journal::MERGED_BYTES_MAX);
    let merging: Vec<bool> = items
        .iter()
        .map(|post| {
            let (events, bytes) = (post.write.events.len(), post.entry.kept_bytes());
            let fits = post.write.decided() && events <= events_room && bytes <= bytes_room;
            if fits {
                events_room -= events;
                bytes_room -= bytes;
            }
            fits
        })
        .collect();
    let merged = || {
        items
            .iter()
            .zip(&merging)
            .filter(|(_, m)| **m)
            .map(|(p, _)| p)
    };
    let entries: Vec<&Insert> = merged().map(|post| &post.entry).collect();
    if entries.is_empty() {
        return Ok(items.iter().map(|_| None).collect());
    }
    let ids = journal::insert_all(conn, &entries).await?;
    let writes: Vec<(&IntakeWrite, i64)> = merged().map(|post| &post.write).zip(ids).collect();
    let mut written = write_group(conn, &writes).await?.into_iter();
    let mut ids = writes.iter().map(|(_, id)| *id);
    let mut out = Vec::with_capacity(items.len());
    for merging in merging {
        if !merging {
            out.push(None);
            continue;
        }
        let (Some(id), Some(Some(results))) = (ids.next(), written.next()) else {
            // Its entry is written but its events are not: the whole merged write is
            // rolled back, and each post runs alone.
            return Err(StoreError::Corrupt(
                "the merged intake left out a post whose entry it was given".into(),
            ));
        };
        out.push(Some((id, results)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! What a post the store cannot apply leaves, on SQLite and (when `DATABASE_URL` names a
    //! server) on PostgreSQL. The merged and alone writes against the journal-then-intake
    //! path are compared in `super::super::merged`'s tests.
    use crate::intake::{accept_post, Intake, IntakeError};
    use crate::store::testing::{config, event};
    use sqlx::Row;

    /// Makes the store refuse the settlement of event `boom` (as a full disk or a broken
    /// constraint would refuse a write).
    async fn refuse_boom(store: &crate::store::Store, postgres: bool) {
        let statements: &[&str] = if postgres {
            &[
                "CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN \
                 IF NEW.event_id = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER refuse_boom BEFORE INSERT ON settlements FOR EACH ROW \
                 EXECUTE FUNCTION refuse_boom()",
            ]
        } else {
            &["CREATE TRIGGER refuse_boom BEFORE INSERT ON settlements \
               WHEN NEW.event_id = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END"]
        };
        for sql in statements {
            sqlx::query(sql).execute(store.pool()).await.unwrap();
        }
    }

    /// Every ledger post's journal entry: status and body.
    async fn entries(store: &crate::store::Store) -> Vec<(String, String)> {
        sqlx::query(
            "SELECT status, raw FROM inbound_journal WHERE channel = 'ledger-http' ORDER BY id",
        )
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let raw: Vec<u8> = row.get("raw");
            (row.get("status"), String::from_utf8(raw).unwrap())
        })
        .collect()
    }

    /// The joint write fails: the post is journaled alone, committed, and kept `received`
    /// (for recovery, or the ledger's retry, to apply) while the caller hears the store's
    /// error. A post the store can apply is journaled and applied in one write.
    #[tokio::test]
    async fn a_post_the_store_cannot_apply_is_still_journaled() {
        let config = config();
        for each in
            crate::store::testing::each("a_post_the_store_cannot_apply_is_still_journaled").await
        {
            let store = each.store.clone();
            let postgres = store.dialect() == crate::store::Dialect::Postgres;
            refuse_boom(&store, postgres).await;
            let boom = event("boom", "10.00").to_string();
            let fine = event("fine", "11.00").to_string();
            let refused = accept_post(&store, &config, "l", None, boom.as_bytes()).await;
            assert!(
                matches!(&refused, Err(IntakeError::Store(e)) if e.to_string().contains("boom refused")),
                "postgres {postgres}: {refused:?}"
            );
            let (inbound, batch, results) =
                accept_post(&store, &config, "l", None, fine.as_bytes())
                    .await
                    .unwrap();
            assert!(!batch);
            assert_eq!(results[0].outcome, Intake::Created);
            assert_eq!(
                entries(&store).await,
                vec![
                    ("received".to_string(), boom),
                    ("applied".to_string(), fine)
                ],
                "postgres {postgres}"
            );
            let id: i64 = sqlx::query("SELECT MAX(id) AS id FROM inbound_journal")
                .fetch_one(store.pool())
                .await
                .unwrap()
                .get("id");
            assert_eq!(inbound, id, "the answer names the post's entry");
            each.finish().await;
        }
    }
}
