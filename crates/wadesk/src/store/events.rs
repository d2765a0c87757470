//! The event log behind Server-Sent Events: appended in the transaction of each change, read
//! by id.

use super::{
    Arg, Backend, EVENTS_CHANNEL, Result, Store, Tx, bind_all, placeholders, with_pool, with_tx,
};
use crate::domain::Timestamp;

/// A logged event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: i64,
    pub kind: String,
    pub data: String,
    pub created_at: i64,
}

impl Tx {
    /// Appends `(kind, data)` events; they become visible when the transaction commits.
    pub async fn append_events(&mut self, events: &[(&str, String)], now: Timestamp) -> Result<()> {
        let bytes = |(kind, data): &(&str, String)| super::row_bytes(3, kind.len() + data.len());
        for chunk in super::runs(self.backend(), events, bytes) {
            let sql = format!(
                "INSERT INTO events (kind, data, created_at) VALUES {}",
                super::value_rows(self.backend(), chunk.len(), 3)
            );
            with_tx!(self, |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for (kind, data) in chunk {
                    q = q.bind(*kind).bind(data.as_str()).bind(now.0);
                }
                q.execute(c).await.map(|_| ())
            })?;
        }
        // dialect: wake the other instances when this commits (PostgreSQL folds repeats of the
        // same notification within a transaction into one).
        if self.backend() == Backend::Postgres && !events.is_empty() {
            with_tx!(self, |c| sqlx::query("SELECT pg_notify($1, '')")
                .bind(EVENTS_CHANNEL)
                .execute(c)
                .await
                .map(|_| ()))?;
        }
        Ok(())
    }
}

impl Store {
    /// Events with an id above `after`, plus any of `also` (ids seen missing earlier), in id
    /// order.
    pub async fn events_after(
        &self,
        after: i64,
        also: &[i64],
        limit: i64,
    ) -> Result<Vec<StoredEvent>> {
        let mut args = vec![Arg::Int(after)];
        let extra = if also.is_empty() {
            String::new()
        } else {
            args.extend(also.iter().map(|id| Arg::Int(*id)));
            format!(" OR id IN ({})", placeholders(2, also.len()))
        };
        let sql = format!(
            "SELECT id, kind, data, created_at FROM events WHERE id > $1{extra} ORDER BY id LIMIT ${}",
            args.len() + 1
        );
        Ok(with_pool!(&self.read, |p| bind_all!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())),
            &args
        )
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    /// The newest event id (0 when there is none).
    pub async fn last_event_id(&self) -> Result<i64> {
        let (id,): (Option<i64>,) =
            with_pool!(&self.read, |p| sqlx::query_as("SELECT MAX(id) FROM events")
                .fetch_one(p)
                .await)?;
        Ok(id.unwrap_or(0))
    }
}
