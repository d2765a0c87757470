//! The outbox: one row per outbound message until Graph accepts it or it fails for good,
//! claimed per business number with a lease; pauses; idempotency keys.

use sqlx::AssertSqlSafe;

use super::{Backend, Result, Store, Tx, with_pool, with_tx};
use crate::domain::{Message, Timestamp};

/// A send claimed by a dispatcher.
#[derive(Debug, Clone)]
pub struct ClaimedSend {
    pub outbox_id: i64,
    pub recipient: String,
    pub attempts: i64,
    pub pair_limited: i64,
    pub message: Message,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    pub queued: i64,
    pub retrying: i64,
    pub failed: i64,
}

/// Sending is paused for a business number (e.g. its token expired).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pause {
    pub phone_number_id: String,
    pub code: Option<i64>,
    pub reason: String,
    pub token_fingerprint: Option<String>,
    pub paused_at: i64,
}

impl Tx {
    pub async fn enqueue_send(
        &mut self,
        message_id: &str,
        phone_number_id: &str,
        recipient: &str,
        now: Timestamp,
    ) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query(
            "INSERT INTO outbox (message_id, phone_number_id, recipient, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $4)"
        )
        .bind(message_id)
        .bind(phone_number_id)
        .bind(recipient)
        .bind(now.0)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Removes a message's outbox row (accepted, failed for good, or reconciled by a status).
    pub async fn finish_send(&mut self, message_id: &str) -> Result<bool> {
        Ok(self.finish_sends(&[message_id]).await? == 1)
    }

    /// `finish_send` for many messages; returns how many rows went.
    pub async fn finish_sends(&mut self, message_ids: &[&str]) -> Result<u64> {
        let mut done = 0;
        for chunk in message_ids.chunks(super::ROWS_PER_STATEMENT) {
            let sql = format!(
                "DELETE FROM outbox WHERE message_id IN ({})",
                super::placeholders(1, chunk.len())
            );
            done += with_tx!(self, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(done)
    }

    /// The (request hash, message id) an idempotency key was first used with, if any.
    pub async fn idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
    ) -> Result<Option<(String, String)>> {
        Ok(with_tx!(self, |c| sqlx::query_as(
            "SELECT request_hash, message_id FROM idempotency_keys WHERE scope = $1 AND key = $2"
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(c)
        .await)?)
    }

    /// Records the key for a new message; `false` if a concurrent request recorded it first.
    pub async fn record_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        request_hash: &str,
        message_id: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let done = with_tx!(self, |c| sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, request_hash, message_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, key) DO NOTHING"
        )
        .bind(scope)
        .bind(key)
        .bind(request_hash)
        .bind(message_id)
        .bind(now.0)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}

impl Store {
    /// Leases due sends of one business number, at most one per recipient (the oldest), so each
    /// customer receives messages in the order they were written.
    pub async fn claim_sends(
        &self,
        phone_number_id: &str,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<ClaimedSend>> {
        // dialect: PostgreSQL skips rows another instance is claiming at the same moment.
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET lease_owner = $1, lease_until = $2 WHERE id IN \
             (SELECT o.id FROM outbox o WHERE o.phone_number_id = $3 AND o.next_attempt_at <= $4 \
              AND (o.lease_until IS NULL OR o.lease_until < $4) \
              AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.phone_number_id = o.phone_number_id \
                              AND p.recipient = o.recipient AND p.id < o.id) \
              ORDER BY o.next_attempt_at, o.id LIMIT $5 {lock}) \
             RETURNING id, message_id, recipient, attempts, pair_limited"
        );
        let mut rows: Vec<(i64, String, String, i64, i64)> =
            with_pool!(&self.write, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(owner)
                .bind(lease_until.0)
                .bind(phone_number_id)
                .bind(now.0)
                .bind(limit)
                .fetch_all(p)
                .await)?;
        rows.sort_by_key(|r| r.0);
        let ids: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
        let mut messages = self.messages_by_ids(&ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(
                |(outbox_id, message_id, recipient, attempts, pair_limited)| {
                    let i = messages.iter().position(|m| m.id == message_id)?;
                    Some(ClaimedSend {
                        outbox_id,
                        recipient,
                        attempts,
                        pair_limited,
                        message: messages.swap_remove(i),
                    })
                },
            )
            .collect())
    }

    /// Puts a claimed send back to wait until `next_attempt_at`.
    pub async fn reschedule_send(
        &self,
        outbox_id: i64,
        next_attempt_at: Timestamp,
        error: Option<&str>,
        counts_as_attempt: bool,
        pair_limited: bool,
    ) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "UPDATE outbox SET next_attempt_at = $2, last_error = COALESCE($3, last_error), \
             attempts = attempts + $4, pair_limited = pair_limited + $5, \
             lease_owner = NULL, lease_until = NULL WHERE id = $1"
        )
        .bind(outbox_id)
        .bind(next_attempt_at.0)
        .bind(error)
        .bind(i64::from(counts_as_attempt))
        .bind(i64::from(pair_limited))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// When the earliest send of a number becomes due, if any is waiting.
    pub async fn next_send_due(&self, phone_number_id: &str) -> Result<Option<Timestamp>> {
        let row: (Option<i64>,) = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at \
             THEN lease_until ELSE next_attempt_at END) FROM outbox WHERE phone_number_id = $1"
        )
        .bind(phone_number_id)
        .fetch_one(p)
        .await)?;
        Ok(row.0.map(Timestamp))
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let (queued, retrying): (i64, i64) = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN attempts = 0 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) FROM outbox"
        )
        .fetch_one(p)
        .await)?;
        let (failed,): (i64,) = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND status = 'failed'"
        )
        .fetch_one(p)
        .await)?;
        Ok(OutboxCounts {
            queued,
            retrying,
            failed,
        })
    }

    pub async fn pause_sending(&self, pause: &Pause) -> Result<()> {
        with_pool!(&self.write, |p| {
            sqlx::query(
            "INSERT INTO outbox_pauses (phone_number_id, code, reason, token_fingerprint, paused_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (phone_number_id) DO UPDATE SET \
             code = excluded.code, reason = excluded.reason, \
             token_fingerprint = excluded.token_fingerprint, paused_at = excluded.paused_at"
        )
        .bind(&pause.phone_number_id)
        .bind(pause.code)
        .bind(&pause.reason)
        .bind(&pause.token_fingerprint)
        .bind(pause.paused_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Lifts a pause; `false` if there was none.
    pub async fn resume_sending(&self, phone_number_id: &str) -> Result<bool> {
        let done = with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM outbox_pauses WHERE phone_number_id = $1"
        )
        .bind(phone_number_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn pause_of(&self, phone_number_id: &str) -> Result<Option<Pause>> {
        Ok(with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT phone_number_id, code, reason, token_fingerprint, paused_at \
             FROM outbox_pauses WHERE phone_number_id = $1"
        )
        .bind(phone_number_id)
        .fetch_optional(p)
        .await)?)
    }
}

/// A message waiting in the outbox, as admins see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxEntry {
    pub message: Message,
    pub recipient: String,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub in_flight: bool,
}

#[derive(sqlx::FromRow)]
struct WaitingRow {
    message_id: String,
    recipient: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    lease_until: Option<i64>,
}

impl Store {
    /// Waiting sends, oldest first: never tried (`retrying` false) or tried before.
    pub async fn outbox_entries(
        &self,
        retrying: bool,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>> {
        let rows: Vec<WaitingRow> = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT message_id, recipient, attempts, next_attempt_at, last_error, lease_until \
             FROM outbox WHERE (attempts > 0) = $1 ORDER BY id LIMIT $2"
        )
        .bind(retrying)
        .bind(limit)
        .fetch_all(p)
        .await)?;
        let ids: Vec<String> = rows.iter().map(|r| r.message_id.clone()).collect();
        let mut messages = self.messages_by_ids(&ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let i = messages.iter().position(|m| m.id == r.message_id)?;
                Some(OutboxEntry {
                    message: messages.swap_remove(i),
                    recipient: r.recipient,
                    attempts: r.attempts,
                    next_attempt_at: Timestamp(r.next_attempt_at),
                    last_error: r.last_error,
                    in_flight: r.lease_until.is_some_and(|t| t > now.0),
                })
            })
            .collect())
    }
}

impl Tx {
    /// Takes a waiting send out of the outbox unless a sender holds it right now. Returns
    /// whether it was taken out.
    pub async fn withdraw_send(&mut self, message_id: &str, now: Timestamp) -> Result<bool> {
        let done = with_tx!(self, |c| {
            sqlx::query(
            "DELETE FROM outbox WHERE message_id = $1 AND (lease_until IS NULL OR lease_until <= $2)"
        )
        .bind(message_id)
        .bind(now.0)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Puts a failed outbound message back in the queue (to its conversation's customer).
    /// Returns whether it was one.
    pub async fn requeue_failed(&mut self, message_id: &str, now: Timestamp) -> Result<bool> {
        let target: Option<(String, Option<String>)> = with_tx!(self, |c| {
            sqlx::query_as(
            "SELECT c.phone_number_id, k.phone FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id \
             WHERE m.id = $1 AND m.direction = 'outbound' AND m.status = 'failed' AND m.wamid IS NULL"
        )
        .bind(message_id)
        .fetch_optional(c)
        .await
        })?;
        let Some((pnid, Some(phone))) = target else {
            return Ok(false);
        };
        with_tx!(self, |c| sqlx::query(
            "UPDATE messages SET status = 'queued', status_updated_at = $2, failed_at = NULL, \
             error_code = NULL, error_title = NULL, error_detail = NULL WHERE id = $1"
        )
        .bind(message_id)
        .bind(now.0)
        .execute(c)
        .await
        .map(|_| ()))?;
        self.enqueue_send(message_id, &pnid, &phone, now).await?;
        Ok(true)
    }
}
