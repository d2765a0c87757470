//! The webhook journal: raw bodies of accepted webhook POSTs, appended before the 200 and
//! claimed by processors inside the transaction that applies them.

use sqlx::{AssertSqlSafe, Sqlite, pool::PoolConnection};

use super::{Arg, Backend, Filter, Pool, Result, Store, Tx, bind_all, with_pool, with_tx};
use crate::domain::Timestamp;

/// A body to journal.
#[derive(Debug, Clone)]
pub struct NewJournalEntry {
    pub received_at: Timestamp,
    /// `meta` for Cloud API webhooks; other gateways name themselves.
    pub source: &'static str,
    /// `valid` when the signature was checked, `unchecked` when checking is off.
    pub signature: &'static str,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalState {
    Pending,
    Done,
    Failed,
}

impl JournalState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "done" => Some(Self::Done),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// What became of a claimed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalOutcome {
    Applied(i64),
    /// Not applied: retried at `retry_at`, or kept as failed when `None`.
    Failed {
        id: i64,
        error: String,
        retry_at: Option<Timestamp>,
    },
}

/// A journaled webhook as stored.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct JournalEntry {
    pub id: i64,
    pub received_at: i64,
    pub source: String,
    pub signature: String,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub processed_at: Option<i64>,
}

const JOURNAL_COLUMNS: &str =
    "id, received_at, source, signature, body, state, attempts, last_error, processed_at";

impl Store {
    /// Counts of (pending, failed) entries.
    pub async fn journal_counts(&self) -> Result<(i64, i64)> {
        let row: (i64, i64) = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) \
             FROM webhook_events WHERE state IN ('pending', 'failed')"
        )
        .fetch_one(p)
        .await)?;
        Ok(row)
    }

    /// Journal entries, newest first, optionally in one state.
    pub async fn journal_entries(
        &self,
        state: Option<JournalState>,
        limit: i64,
    ) -> Result<Vec<JournalEntry>> {
        let mut filter = Filter::default();
        if let Some(s) = state {
            filter.and("state = ?", [Arg::Text(s.as_str().into())]);
        }
        let sql = format!(
            "SELECT {JOURNAL_COLUMNS} FROM webhook_events {} ORDER BY id DESC LIMIT ${}",
            filter.sql(),
            filter.next()
        );
        Ok(with_pool!(&self.read, |p| bind_all!(
            sqlx::query_as(AssertSqlSafe(sql.as_str())),
            &filter.args
        )
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    /// Puts an entry back in the queue (after a fix, from the admin area).
    pub async fn reprocess_journal(&self, id: i64, now: Timestamp) -> Result<bool> {
        let done = with_pool!(&self.journal, |p| sqlx::query(
            "UPDATE webhook_events SET state = 'pending', next_attempt_at = $2 \
             WHERE id = $1 AND state <> 'pending'"
        )
        .bind(id)
        .bind(now.0)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// dialect: SQLite's journal lives in its own file (attached as `journal`); a database
    /// created before that has its journal in the main file, and a new one gets an empty one
    /// from the first migration. Its rows are copied over, then it is dropped — two
    /// transactions, as a commit across two WAL files is not atomic: a crash between them
    /// copies again (ids already there are kept) and drops at the next start.
    pub(super) async fn move_journal_out(&self) -> Result<()> {
        let Pool::Sqlite(p) = &self.write else {
            return Ok(());
        };
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'webhook_events'",
        )
        .fetch_one(p)
        .await?;
        if left == 0 {
            return Ok(());
        }
        let columns = format!("{JOURNAL_COLUMNS}, next_attempt_at");
        let copy = format!(
            "INSERT OR IGNORE INTO journal.webhook_events ({columns}) \
             SELECT {columns} FROM main.webhook_events"
        );
        sqlx::query(AssertSqlSafe(copy)).execute(p).await?;
        sqlx::query("DROP TABLE main.webhook_events")
            .execute(p)
            .await?;
        Ok(())
    }
}

/// Appending bodies: followed by as many rows of five values as there are bodies.
const APPEND: &str = "INSERT INTO webhook_events \
     (received_at, source, signature, body, next_attempt_at) VALUES ";

/// Recording `n` applied entries; binds the time, then their ids.
fn settle_applied(n: usize) -> String {
    format!(
        "UPDATE webhook_events SET state = 'done', processed_at = ?, attempts = attempts + 1, \
         last_error = NULL WHERE id IN ({})",
        vec!["?"; n].join(", ")
    )
}

/// Recording a failed attempt; binds the state, the error, the next attempt time and the id.
const SETTLE_FAILED: &str = "UPDATE webhook_events SET state = ?, attempts = attempts + 1, \
     last_error = ?, next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?";

/// Applied entries' ids recorded in one statement at most.
const SETTLE_CHUNK: usize = 500;

/// The journal writer's hold on the journal (`Store::begin_journal`).
pub enum JournalTx {
    /// The journal file's one connection. dialect: each statement sent to it apart waits for
    /// its thread to be scheduled — about 0.3 ms on a busy machine, more than inserting a few
    /// dozen bodies — so a whole group commit goes to it as one script.
    Sqlite(PoolConnection<Sqlite>),
    Postgres(Tx),
}

impl JournalTx {
    /// Appends `entries` and records `settles` (what became of claimed entries, where the
    /// journal is apart) in one transaction, and commits it.
    pub async fn write(
        self,
        entries: &[NewJournalEntry],
        settles: &[(Vec<JournalOutcome>, Timestamp)],
    ) -> Result<()> {
        let mut conn = match self {
            Self::Postgres(mut tx) => {
                tx.append_journal(entries).await?;
                for (outcomes, now) in settles {
                    tx.settle_journal(outcomes, *now).await?;
                }
                return tx.commit().await;
            }
            Self::Sqlite(conn) => conn,
        };
        let settles: Vec<_> = settles
            .iter()
            .map(|(outcomes, now)| (split_outcomes(outcomes), *now))
            .collect();
        // The script's text, then its arguments in the same order.
        let mut sql = String::from("BEGIN IMMEDIATE;\n");
        for chunk in entries.chunks(super::ROWS_PER_STATEMENT) {
            sql.push_str(APPEND);
            sql.push_str(&super::value_rows(Backend::Sqlite, chunk.len(), 5));
            sql.push_str(";\n");
        }
        for ((applied, failed), _) in &settles {
            for chunk in applied.chunks(SETTLE_CHUNK) {
                sql.push_str(&settle_applied(chunk.len()));
                sql.push_str(";\n");
            }
            for _ in failed {
                sql.push_str(SETTLE_FAILED);
                sql.push_str(";\n");
            }
        }
        sql.push_str("COMMIT;");
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for e in entries {
            q = q
                .bind(e.received_at.0)
                .bind(e.source)
                .bind(e.signature)
                .bind(e.body.as_slice())
                .bind(e.received_at.0);
        }
        for ((applied, failed), now) in &settles {
            for chunk in applied.chunks(SETTLE_CHUNK) {
                q = q.bind(now.0);
                for id in chunk {
                    q = q.bind(*id);
                }
            }
            for (id, error, retry_at) in failed {
                let (state, next) = failed_state(*retry_at);
                q = q.bind(state).bind(*error).bind(next).bind(*id);
            }
        }
        match q.execute(&mut *conn).await {
            Ok(_) => Ok(()),
            Err(e) => {
                // Whatever ran of the script is undone (a failed BEGIN leaves nothing to undo).
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e.into())
            }
        }
    }
}

/// A failed entry: its id, error and retry time.
type Failure<'a> = (i64, &'a str, Option<Timestamp>);

/// The ids of applied entries, and the failed ones.
fn split_outcomes(outcomes: &[JournalOutcome]) -> (Vec<i64>, Vec<Failure<'_>>) {
    let mut applied = Vec::new();
    let mut failed = Vec::new();
    for outcome in outcomes {
        match outcome {
            JournalOutcome::Applied(id) => applied.push(*id),
            JournalOutcome::Failed {
                id,
                error,
                retry_at,
            } => failed.push((*id, error.as_str(), *retry_at)),
        }
    }
    (applied, failed)
}

/// The state and next attempt time of a failed entry: retried at `retry_at`, or kept as
/// `failed` when `None`.
fn failed_state(retry_at: Option<Timestamp>) -> (&'static str, Option<i64>) {
    match retry_at {
        Some(t) => ("pending", Some(t.0)),
        None => ("failed", None),
    }
}

impl Tx {
    /// Appends bodies (a group commit: the caller commits them together), many rows per
    /// statement.
    pub async fn append_journal(&mut self, entries: &[NewJournalEntry]) -> Result<()> {
        for chunk in super::runs(self.backend(), entries, |e| {
            super::row_bytes(5, e.source.len() + e.signature.len() + e.body.len())
        }) {
            let sql = format!(
                "{APPEND}{}",
                super::value_rows(self.backend(), chunk.len(), 5)
            );
            with_tx!(self, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
                for e in chunk {
                    q = q
                        .bind(e.received_at.0)
                        .bind(e.source)
                        .bind(e.signature)
                        .bind(&e.body)
                        .bind(e.received_at.0);
                }
                q.execute(c).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Takes up to `limit` due entries, oldest first, for this transaction: what they ask for
    /// is applied in it, so a crash before the commit simply leaves them due. Their outcomes
    /// are recorded in it too, or, where the journal is apart (`Store::journal_apart`), right
    /// after it commits.
    pub async fn claim_journal(&mut self, now: Timestamp, limit: i64) -> Result<Vec<JournalEntry>> {
        // dialect: PostgreSQL skips rows another instance's transaction has taken. SQLite,
        // without statistics, takes `state = ?` for selective and reads every pending row
        // through the state index to sort them — with a backlog, every body in it, for each
        // batch: the due index is named.
        let (index, lock) = match self.backend() {
            Backend::Postgres => ("", "FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite => ("INDEXED BY webhook_events_due", ""),
        };
        let sql = format!(
            "SELECT {JOURNAL_COLUMNS} FROM webhook_events {index} WHERE state = 'pending' \
             AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2 {lock}"
        );
        Ok(with_tx!(self, |c| sqlx::query_as(AssertSqlSafe(
            sql.as_str()
        ))
        .bind(now.0)
        .bind(limit)
        .fetch_all(c)
        .await)?)
    }

    /// Records what became of claimed entries: those applied in one statement, failures one by
    /// one.
    pub async fn settle_journal(
        &mut self,
        outcomes: &[JournalOutcome],
        now: Timestamp,
    ) -> Result<()> {
        let (applied, failed) = split_outcomes(outcomes);
        for chunk in applied.chunks(SETTLE_CHUNK) {
            let sql = super::numbered(self.backend(), &settle_applied(chunk.len()));
            with_tx!(self, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.as_str())).bind(now.0);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(c).await.map(|_| ())
            })?;
        }
        for (id, error, retry_at) in failed {
            self.journal_failed(id, error, retry_at).await?;
        }
        Ok(())
    }

    /// Records a failed attempt: retried at `retry_at`, or kept as `failed` when `None`.
    async fn journal_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        let (state, next) = failed_state(retry_at);
        let sql = super::numbered(self.backend(), SETTLE_FAILED);
        with_tx!(self, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(state)
            .bind(error)
            .bind(next)
            .bind(id)
            .execute(c)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
