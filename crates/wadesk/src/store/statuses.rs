//! Status events: every status webhook as received, deduplicated by (wamid, status), waiting
//! here until the message they belong to is known.

use std::collections::HashSet;

use sqlx::AssertSqlSafe;

use super::{Result, Tx, TxInner, cluster::lock_key, with_tx};
use crate::domain::Timestamp;

/// A status webhook item to record.
#[derive(Debug, Clone)]
pub struct NewStatusEvent {
    pub wamid: String,
    pub status: String,
    pub occurred_at: Timestamp,
    pub recipient_id: Option<String>,
    pub callback_data: Option<String>,
    /// Meta's `errors` array as JSON, when present.
    pub errors: Option<String>,
    pub received_at: Timestamp,
}

/// A recorded status not yet folded into its message.
#[derive(Debug, Clone)]
pub struct StoredStatus {
    pub status: String,
    pub occurred_at: i64,
    pub errors: Option<String>,
}

impl Tx {
    /// Records statuses, many to a statement; returns those whose (wamid, status) was new. A
    /// pair recorded before is left out; one twice in `events` is recorded once.
    pub async fn insert_status_events<'e>(
        &mut self,
        events: &[&'e NewStatusEvent],
    ) -> Result<Vec<&'e NewStatusEvent>> {
        let wamids: Vec<&str> = events.iter().map(|e| e.wamid.as_str()).collect();
        self.lock_wamids(&wamids).await?;
        let backend = self.backend();
        let mut inserted: Vec<(String, String)> = Vec::with_capacity(events.len());
        let bytes = |e: &&NewStatusEvent| {
            let text = [&e.recipient_id, &e.callback_data, &e.errors]
                .iter()
                .map(|t| t.as_deref().map_or(0, str::len))
                .sum::<usize>();
            super::row_bytes(7, e.wamid.len() + e.status.len() + text)
        };
        for chunk in super::runs(backend, events, bytes) {
            let sql = format!(
                "INSERT INTO status_events (wamid, status, occurred_at, recipient_id, \
                 callback_data, errors, received_at) VALUES {} \
                 ON CONFLICT (wamid, status) DO NOTHING RETURNING wamid, status",
                super::value_rows(backend, chunk.len(), 7)
            );
            let rows: Vec<(String, String)> = with_tx!(self, |c| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
                for e in chunk {
                    q = q
                        .bind(&e.wamid)
                        .bind(&e.status)
                        .bind(e.occurred_at.0)
                        .bind(&e.recipient_id)
                        .bind(&e.callback_data)
                        .bind(&e.errors)
                        .bind(e.received_at.0);
                }
                q.fetch_all(c).await
            })?;
            inserted.extend(rows);
        }
        let new: HashSet<(&str, &str)> = inserted
            .iter()
            .map(|(wamid, status)| (wamid.as_str(), status.as_str()))
            .collect();
        Ok(events
            .iter()
            .copied()
            .filter(|e| new.contains(&(e.wamid.as_str(), e.status.as_str())))
            .collect())
    }

    /// dialect: on PostgreSQL, takes a lock for each of `wamids` until this transaction ends
    /// (advisory, keyed `wamid:<wamid>`, in one order). Whoever records statuses of a wamid
    /// and whoever attaches a wamid to its message take it first, so they take turns, and each
    /// reads what the one before committed. Otherwise two transactions folding statuses into
    /// one message would each save their fold over the other's (a `read` falling back to
    /// `delivered`), and a status recorded while its wamid is being attached would be missed
    /// by both (the status finds no message, the attach no status) and wait unapplied. The
    /// keys, not the wamids, go over the wire: 8 bytes each keeps the statement inside one TLS
    /// record (see `POSTGRES_STATEMENT_BYTES`). SQLite's one writer already takes turns.
    pub(super) async fn lock_wamids(&mut self, wamids: &[&str]) -> Result<()> {
        let TxInner::Postgres(t) = &mut self.0 else {
            return Ok(());
        };
        let mut keys: Vec<i64> = wamids
            .iter()
            .map(|w| lock_key(&format!("wamid:{w}")))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for chunk in keys.chunks(super::POSTGRES_STATEMENT_BYTES / 16) {
            sqlx::query("SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) AS k")
                .bind(chunk)
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// Statuses of `wamids` not yet applied, oldest first, each with its wamid.
    pub async fn unapplied_statuses(
        &mut self,
        wamids: &[&str],
    ) -> Result<Vec<(String, StoredStatus)>> {
        let mut found = Vec::new();
        for chunk in wamids.chunks(super::ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT wamid, status, occurred_at, errors FROM status_events \
                 WHERE wamid IN ({}) AND applied_at IS NULL ORDER BY occurred_at, id",
                super::placeholders(1, chunk.len())
            );
            let rows: Vec<(String, String, i64, Option<String>)> = with_tx!(self, |c| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
                for wamid in chunk {
                    q = q.bind(*wamid);
                }
                q.fetch_all(c).await
            })?;
            found.extend(
                rows.into_iter()
                    .map(|(wamid, status, occurred_at, errors)| {
                        (
                            wamid,
                            StoredStatus {
                                status,
                                occurred_at,
                                errors,
                            },
                        )
                    }),
            );
        }
        Ok(found)
    }

    pub async fn mark_statuses_applied(&mut self, wamids: &[&str], now: Timestamp) -> Result<()> {
        for chunk in wamids.chunks(super::ROWS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE status_events SET applied_at = $1 WHERE wamid IN ({}) \
                 AND applied_at IS NULL",
                super::placeholders(2, chunk.len())
            );
            with_tx!(self, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.as_str())).bind(now.0);
                for wamid in chunk {
                    q = q.bind(*wamid);
                }
                q.execute(c).await.map(|_| ())
            })?;
        }
        Ok(())
    }
}
