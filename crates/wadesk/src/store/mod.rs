//! All SQL lives here. One `Store` over SQLite (embedded default) or PostgreSQL, with the same
//! queries on both (`$N` placeholders, `RETURNING`, unix-ms integers); the few dialect
//! differences are marked `dialect:` where they occur. Returns domain types.
//!
//! SQLite has one writer per file: writes go through a one-connection pool (so writers queue
//! in-process instead of failing with SQLITE_BUSY) and reads through a separate pool. The
//! webhook journal has a file of its own beside the database (`<file>.webhooks`, attached to
//! every connection as `journal`, written through its own one-connection pool), so a webhook's
//! acknowledgement never waits for the main file's writer. On PostgreSQL all three are the
//! same pool.

mod bulk;
mod cluster;
pub mod compat;
mod conversations;
mod events;
mod journal;
mod messages;
mod outbox;
mod rows;
mod search;
mod statuses;
mod tokens;
mod users;

use std::{
    collections::{HashMap, hash_map::Entry},
    hash::Hash,
    str::FromStr,
    time::Duration,
};

use sqlx::{
    PgPool, Postgres, Sqlite, SqlitePool, Transaction,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub use bulk::{
    BulkSpec, BulkSummary, create_postgres_database, drop_postgres_database, postgres_database_url,
};
pub use cluster::{EVENTS_CHANNEL, LEADERSHIP_APPLICATION, Leadership};
pub use conversations::{
    ContactKey, ContactSeen, ConversationChange, ConversationFilter, ConversationKey, MessageNote,
};
pub use events::StoredEvent;
pub use journal::{JournalEntry, JournalOutcome, JournalState, JournalTx, NewJournalEntry};
pub use messages::{MessageFilter, NewMessage};
pub use outbox::{ClaimedSend, OutboxCounts, OutboxEntry, Pause};
pub use statuses::{NewStatusEvent, StoredStatus};
pub use tokens::{Role, TokenInfo, TokenRecord};
pub use users::{User, UserChange};

/// Storage failures. Callers map them to 503/500; the message is for logs, not for clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unexpected data in the database: {0}")]
    Corrupt(String),
    #[error("unsupported DATABASE_URL (use sqlite://path or postgres://…): {0}")]
    BadUrl(String),
}

impl StoreError {
    /// True for a deadlock, serialization failure or lock timeout: another transaction got in
    /// the way, and the work can simply be tried again.
    pub fn is_conflict(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("40P01" | "40001" | "55P03"))
            }
            _ => false,
        }
    }

    /// True when the database cannot be reached (as opposed to a query that failed).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
            )
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$c` bound to the concrete pool of either backend.
macro_rules! with_pool {
    ($pool:expr, |$c:ident| $body:expr) => {
        match $pool {
            $crate::store::Pool::Sqlite($c) => $body,
            $crate::store::Pool::Postgres($c) => $body,
        }
    };
}
/// Runs `$body` with `$c` bound to the transaction's connection of either backend.
macro_rules! with_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match &mut $tx.0 {
            $crate::store::TxInner::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::TxInner::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use {with_pool, with_tx};

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A write transaction. Dropped without `commit` it rolls back.
pub struct Tx(TxInner);

impl Tx {
    pub fn backend(&self) -> Backend {
        match self.0 {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self.0 {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Starts a savepoint so one failing item can be undone without losing the batch.
    pub async fn savepoint(&mut self) -> Result<()> {
        self.exec("SAVEPOINT item").await
    }

    pub async fn release_savepoint(&mut self) -> Result<()> {
        self.exec("RELEASE SAVEPOINT item").await
    }

    pub async fn rollback_to_savepoint(&mut self) -> Result<()> {
        self.exec("ROLLBACK TO SAVEPOINT item").await?;
        self.exec("RELEASE SAVEPOINT item").await
    }

    async fn exec(&mut self, sql: &'static str) -> Result<()> {
        with_tx!(self, |c| sqlx::query(sql)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout`.
    pub statement_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
        }
    }
}

/// The database handle shared by every service.
#[derive(Clone, Debug)]
pub struct Store {
    read: Pool,
    write: Pool,
    /// Where the webhook journal is written.
    journal: Pool,
    backend: Backend,
}

impl Store {
    /// Connects, creating the SQLite file if needed, and applies pending migrations.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self> {
        let store = if url.starts_with("sqlite:") {
            Self::connect_sqlite(url, options).await?
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::connect_postgres(url, options).await?
        } else {
            return Err(StoreError::BadUrl(
                url.split(':').next().unwrap_or("").to_owned(),
            ));
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn connect_sqlite(url: &str, options: &StoreOptions) -> Result<Self> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::BadUrl(
                "an in-memory SQLite database keeps nothing across a restart".into(),
            ));
        }
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A 200 means committed: FULL makes the commit durable across power loss too.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-32000");
        // A writer waits in-process for its file's one connection.
        let writer_wait = options.acquire_timeout.max(Duration::from_secs(30));
        let mut journal_file = connect.get_filename().as_os_str().to_owned();
        journal_file.push(".webhooks");
        let journal_file = journal_file
            .into_string()
            .map_err(|f| StoreError::BadUrl(format!("not a UTF-8 path: {f:?}")))?;
        let journal = sqlite_pool()
            .max_connections(1)
            .acquire_timeout(writer_wait)
            .connect_with(connect.clone().filename(&journal_file))
            .await?;
        sqlx::migrate!("./migrations/sqlite_journal")
            .run(&journal)
            .await?;
        let attach = move |pool: SqlitePoolOptions| {
            let file = journal_file.clone();
            pool.after_connect(move |conn, _| {
                let file = file.clone();
                Box::pin(async move {
                    sqlx::query("ATTACH DATABASE ? AS journal")
                        .bind(file)
                        .execute(conn)
                        .await
                        .map(|_| ())
                })
            })
        };
        let write = attach(sqlite_pool())
            .max_connections(1)
            .acquire_timeout(writer_wait)
            .connect_with(connect.clone())
            .await?;
        let read = attach(sqlite_pool())
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.read_only(true))
            .await?;
        Ok(Self {
            read: Pool::Sqlite(read),
            write: Pool::Sqlite(write),
            journal: Pool::Sqlite(journal),
            backend: Backend::Sqlite,
        })
    }

    async fn connect_postgres(url: &str, options: &StoreOptions) -> Result<Self> {
        let timeout_ms = options.statement_timeout.as_millis().to_string();
        let connect = sqlx::postgres::PgConnectOptions::from_str(url)?
            .options([("statement_timeout", timeout_ms.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        Ok(Self {
            read: Pool::Postgres(pool.clone()),
            write: Pool::Postgres(pool.clone()),
            journal: Pool::Postgres(pool),
            backend: Backend::Postgres,
        })
    }

    async fn migrate(&self) -> Result<()> {
        match &self.write {
            Pool::Sqlite(p) => {
                sqlx::migrate!("./migrations/sqlite").run(p).await?;
                self.move_journal_out().await?;
            }
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<Tx> {
        Self::begin_on(&self.write).await
    }

    /// Takes the webhook journal's writer (its connection; on PostgreSQL a transaction), which
    /// writes the journal only: on SQLite it does not wait for the main file's writer.
    pub async fn begin_journal(&self) -> Result<JournalTx> {
        Ok(match &self.journal {
            Pool::Sqlite(p) => JournalTx::Sqlite(p.acquire().await?),
            Pool::Postgres(_) => JournalTx::Postgres(Self::begin_on(&self.journal).await?),
        })
    }

    /// True when the journal is written apart from everything else (SQLite's journal file):
    /// a transaction from `begin` can read the journal but not write it.
    pub fn journal_apart(&self) -> bool {
        self.backend == Backend::Sqlite
    }

    async fn begin_on(pool: &Pool) -> Result<Tx> {
        Ok(Tx(match pool {
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin().await?),
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
        }))
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(&self.read, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        for pool in [&self.read, &self.write, &self.journal] {
            with_pool!(pool, |p| p.close().await);
        }
    }
}

/// A SQLite pool that does not ping a connection before handing it out: a file does not go
/// away as a server does, and the ping is a round trip to the connection's thread before every
/// statement or transaction.
fn sqlite_pool() -> SqlitePoolOptions {
    SqlitePoolOptions::new().test_before_acquire(false)
}

/// `sql` with its `?` placeholders as `backend` writes them: `$1`, `$2`, … in order on
/// PostgreSQL, left anonymous on SQLite (its driver finds those fastest). `sql` may hold no
/// other `?`.
fn numbered(backend: Backend, sql: &str) -> String {
    match backend {
        Backend::Sqlite => sql.to_owned(),
        Backend::Postgres => numbered_from(sql, 1),
    }
}

/// `sql` with its `?`s numbered `$first`, `$first + 1`, … in order.
fn numbered_from(sql: &str, first: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = first;
    for c in sql.chars() {
        if c == '?' {
            out.push('$');
            out.push_str(&n.to_string());
            n += 1;
        } else {
            out.push(c);
        }
    }
    out
}

/// `$start, $start+1, …` for `n` values, for `IN (…)` lists.
fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows per multi-row statement: far below both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 100;

/// What a multi-row statement may carry on PostgreSQL, in bytes of parameters. dialect: sqlx
/// does not set TCP_NODELAY, and over TLS a statement longer than one TLS record (16 KB)
/// leaves in several writes, the last of which waits for the server's delayed ACK — 40 ms on
/// loopback. SQLite has no wire.
const POSTGRES_STATEMENT_BYTES: usize = 12 * 1024;

/// A bound parameter's bytes on the wire besides its value (length, format).
const PARAM_BYTES: usize = 6;

/// Splits `rows` into runs of at most `ROWS_PER_STATEMENT`, and on PostgreSQL of at most
/// `POSTGRES_STATEMENT_BYTES` as `bytes` estimates each row (a larger row runs alone).
fn runs<T>(backend: Backend, rows: &[T], bytes: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let budget = match backend {
        Backend::Sqlite => usize::MAX,
        Backend::Postgres => POSTGRES_STATEMENT_BYTES,
    };
    let mut out = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, row) in rows.iter().enumerate() {
        let size = bytes(row);
        if i > start && (i - start == ROWS_PER_STATEMENT || used + size > budget) {
            out.push(&rows[start..i]);
            (start, used) = (i, 0);
        }
        used += size;
    }
    if start < rows.len() {
        out.push(&rows[start..]);
    }
    out
}

/// Folds rows that share a key into the first of them (`fold(kept, later)`), in first-seen
/// order: a multi-row upsert may not touch a row twice, so one row must say what the rows
/// would have done one by one.
fn merge_by<T, K: Hash + Eq>(
    rows: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
    fold: impl Fn(&mut T, T),
) -> Vec<T> {
    let mut index = HashMap::new();
    let mut merged: Vec<T> = Vec::new();
    for row in rows {
        match index.entry(key(&row)) {
            Entry::Occupied(at) => fold(&mut merged[*at.get()], row),
            Entry::Vacant(at) => {
                at.insert(merged.len());
                merged.push(row);
            }
        }
    }
    merged
}

/// Estimated wire bytes of a row of `params` parameters whose text and blobs total `data`.
fn row_bytes(params: usize, data: usize) -> usize {
    params * (PARAM_BYTES + 8) + data
}

/// The placeholders of a multi-row `VALUES` with `rows` rows of `columns` parameters, bound
/// row by row in order. dialect: SQLite gets anonymous `?`s: sqlx looks up each numbered
/// parameter's name, which SQLite finds by walking a list, so binding `$N`s costs time
/// quadratic in their number.
fn value_rows(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * columns + column + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Opaque keyset cursor `<millis>.<id>` (id may be any text without dots at the start).
pub fn encode_cursor(at: i64, id: &str) -> String {
    format!("{at}.{id}")
}

pub fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    let (at, id) = cursor.split_once('.')?;
    Some((at.parse().ok()?, id.to_owned()))
}

/// A bind value for queries assembled at run time.
#[derive(Debug, Clone)]
enum Arg {
    Int(i64),
    Text(String),
}

/// `WHERE` clauses with numbered placeholders, built at run time for filtered lists.
#[derive(Debug, Default)]
struct Filter {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Filter {
    /// Adds a clause; each `?` in `clause` becomes the next `$N`, bound to the next of `args`.
    fn and(&mut self, clause: &str, args: impl IntoIterator<Item = Arg>) -> &mut Self {
        let first = self.args.len() + 1;
        let wanted = clause.matches('?').count();
        self.args.extend(args.into_iter().take(wanted));
        self.clauses.push(numbered_from(clause, first));
        self
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The placeholder number the next argument would take.
    fn next(&self) -> usize {
        self.args.len() + 1
    }
}

/// Binds a `Filter`'s arguments (and then any extra) onto a query of either backend.
macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                $crate::store::Arg::Int(v) => q.bind(*v),
                $crate::store::Arg::Text(s) => q.bind(s.clone()),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_keep_to_the_row_count_and_on_postgres_to_the_byte_budget() {
        let rows = vec![1_000usize; 250];
        let lens = |b| {
            runs(b, &rows, |r| *r)
                .iter()
                .map(|r| r.len())
                .collect::<Vec<_>>()
        };
        assert_eq!(lens(Backend::Sqlite), vec![100, 100, 50]);
        let pg = lens(Backend::Postgres);
        assert!(
            pg.iter().all(|n| *n * 1_000 <= POSTGRES_STATEMENT_BYTES),
            "{pg:?}"
        );
        assert_eq!(pg.iter().sum::<usize>(), 250);
        let huge = vec![1_000_000usize; 3];
        assert_eq!(runs(Backend::Postgres, &huge, |r| *r).len(), 3, "one each");
        assert!(runs(Backend::Postgres, &Vec::<usize>::new(), |r| *r).is_empty());
    }

    #[test]
    fn merging_keeps_first_seen_order_and_folds_later_rows_in() {
        let rows = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)];
        let merged = merge_by(rows, |r| r.0, |kept, later| kept.1 += later.1);
        assert_eq!(merged, vec![("a", 4), ("b", 7), ("c", 4)]);
    }

    #[test]
    fn numbered_writes_postgres_placeholders_in_order_and_keeps_sqlites() {
        let sql = "UPDATE t SET a = ?, b = ? WHERE id IN (?, ?)";
        assert_eq!(
            numbered(Backend::Postgres, sql),
            "UPDATE t SET a = $1, b = $2 WHERE id IN ($3, $4)"
        );
        assert_eq!(numbered(Backend::Sqlite, sql), sql);
    }

    #[test]
    fn value_rows_number_postgres_parameters_in_order() {
        assert_eq!(value_rows(Backend::Postgres, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(value_rows(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
    }
}
