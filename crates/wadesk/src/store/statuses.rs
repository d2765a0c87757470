//! Status events: every status webhook as received, deduplicated by (wamid, status), waiting
//! here until the message they belong to is known.

use super::{Result, Tx, with_tx};
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
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredStatus {
    pub status: String,
    pub occurred_at: i64,
    pub errors: Option<String>,
}

impl Tx {
    /// Records a status; `false` when the same (wamid, status) was recorded before.
    pub async fn insert_status_event(&mut self, e: &NewStatusEvent) -> Result<bool> {
        let done = with_tx!(self, |c| {
            sqlx::query(
            "INSERT INTO status_events (wamid, status, occurred_at, recipient_id, callback_data, \
             errors, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (wamid, status) DO NOTHING"
        )
        .bind(&e.wamid)
        .bind(&e.status)
        .bind(e.occurred_at.0)
        .bind(&e.recipient_id)
        .bind(&e.callback_data)
        .bind(&e.errors)
        .bind(e.received_at.0)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Statuses of `wamid` not yet applied, oldest first.
    pub async fn unapplied_statuses(&mut self, wamid: &str) -> Result<Vec<StoredStatus>> {
        Ok(with_tx!(self, |c| sqlx::query_as(
            "SELECT status, occurred_at, errors FROM status_events \
             WHERE wamid = $1 AND applied_at IS NULL ORDER BY occurred_at, id"
        )
        .bind(wamid)
        .fetch_all(c)
        .await)?)
    }

    pub async fn mark_statuses_applied(&mut self, wamid: &str, now: Timestamp) -> Result<()> {
        with_tx!(self, |c| sqlx::query(
            "UPDATE status_events SET applied_at = $2 WHERE wamid = $1 AND applied_at IS NULL"
        )
        .bind(wamid)
        .bind(now.0)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
