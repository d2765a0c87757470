//! SQL for the benchmark harness (`wadesk bench`) and nothing else: scratch PostgreSQL
//! databases, the table a bare group-commit insert goes into (the ingest baseline), and a
//! generator that fills contacts, conversations and messages inside the database with recursive
//! CTEs, through the real tables so the FTS5 triggers (SQLite) and the generated tsvector
//! (PostgreSQL) index every message as it goes in. `serve` never calls any of it.

use std::{fmt::Write, str::FromStr};

use sqlx::{
    AssertSqlSafe, ConnectOptions, Connection, Executor, PgConnection, postgres::PgConnectOptions,
};

use super::{Arg, Backend, Result, Store, StoreError, Tx, bind_all, with_pool, with_tx};
use crate::domain::Timestamp;

/// The URL of database `name` on the server of `server_url` (its database path replaced).
pub fn postgres_database_url(server_url: &str, name: &str) -> Result<String> {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let rest = base
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| StoreError::BadUrl(server_url.to_owned()))?;
    let server = match rest.split_once('/') {
        Some((host, _)) => &base[..base.len() - rest.len() + host.len()],
        None => base,
    };
    Ok(match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    })
}

/// Runs `sql` on the server of `server_url`, for database `name`: names are formatted into
/// SQL, so only lowercase letters, digits and `_` are allowed.
async fn admin(server_url: &str, name: &str, sql: impl Fn(&str) -> String) -> Result<()> {
    let plain = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
    if name.is_empty() || name.len() > 62 || !name.bytes().all(plain) {
        return Err(StoreError::BadUrl(format!("database name {name:?}")));
    }
    // Dropping a database takes seconds, and is expected to.
    let options = PgConnectOptions::from_str(server_url)?.disable_statement_logging();
    let mut conn = PgConnection::connect_with(&options).await?;
    conn.execute(AssertSqlSafe(sql(name))).await?;
    Ok(conn.close().await?)
}

/// Creates an empty database `name` on the PostgreSQL server of `server_url`; returns its URL.
pub async fn create_postgres_database(server_url: &str, name: &str) -> Result<String> {
    admin(server_url, name, |n| format!("CREATE DATABASE {n}")).await?;
    postgres_database_url(server_url, name)
}

/// Drops database `name` (closing its sessions), if it exists.
pub async fn drop_postgres_database(server_url: &str, name: &str) -> Result<()> {
    let sql = |n: &str| format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)");
    admin(server_url, name, sql).await
}

/// What [`Store::bulk_load`] generates.
#[derive(Debug, Clone)]
pub struct BulkSpec {
    /// Conversations, one per contact.
    pub conversations: i64,
    /// Messages over all conversations (at least one per conversation).
    pub messages: i64,
    /// The business number every conversation is with.
    pub phone_number_id: String,
    /// The newest message's time; the others go back in even steps over `span_ms`.
    pub end: Timestamp,
    pub span_ms: i64,
    /// Messages newer than this are unread (inbound) or not yet read (outbound).
    pub unread_after: Timestamp,
    /// Message vocabulary, most frequent first: word `k` is picked with a probability falling
    /// roughly like `ln(n / k) / n`, so the first few words occur in many messages.
    pub words: Vec<String>,
    pub first_names: Vec<String>,
    pub last_names: Vec<String>,
    /// WhatsApp id of the first contact; the others follow it.
    pub first_wa_id: i64,
    /// Messages per INSERT statement and statements per transaction.
    pub rows_per_statement: i64,
    pub statements_per_transaction: i64,
}

/// What [`Store::bulk_load`] made: conversation ids are `first_conversation_id ..` (dense).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkSummary {
    pub first_conversation_id: i64,
    pub conversations: i64,
    pub messages: i64,
}

/// Scratch vocabulary: words at `0..`, first names at `FIRST_NAMES..`, last names at
/// `LAST_NAMES..`. Dropped at the end of the load.
const FIRST_NAMES: i64 = 100_000;
const LAST_NAMES: i64 = 200_000;
/// Words in a message: 2 to 2 + `MAX_EXTRA_WORDS`.
const MAX_EXTRA_WORDS: i64 = 12;

/// A 32-bit multiplicative hash of the integer expression `x` (kept far from i64 overflow for
/// `x` below 10^9: PostgreSQL raises on overflow where SQLite would turn to floats).
fn hash(x: &str, k: u64) -> String {
    format!("((({x}) % 1000003) * {k} % 4294967296)")
}

/// The text of message `i` with `len` words: word `j` is `a * b / n` for two uniform picks
/// `a`, `b` of `0..n`, and one message in nine carries an order number.
fn text_expression(words: usize) -> String {
    let n = words.max(1);
    let mut sql = String::new();
    for j in 0..2 + MAX_EXTRA_WORDS {
        let x = hash(&format!("i * 131 + {}", j * 7919), 2_654_435_761);
        let word = format!(
            "(SELECT w.word FROM bench_words w WHERE w.n = ({x} % {n}) * (({x} / {n}) % {n}) / {n})"
        );
        if j == 0 {
            sql.push_str(&word);
        } else {
            let _ = write!(
                sql,
                " || CASE WHEN len > {j} THEN ' ' || {word} ELSE '' END"
            );
        }
    }
    sql.push_str(" || CASE WHEN h % 9 = 0 THEN ' #' || CAST(1000 + h % 9000 AS TEXT) ELSE '' END");
    sql
}

/// Our message ids are UUIDv7 text (unix-ms prefix); generated ones keep that shape, with the
/// message number in the random bits so they are unique.
fn id_expression(backend: Backend) -> &'static str {
    // dialect: hex formatting.
    match backend {
        Backend::Sqlite => {
            "printf('%08x-%04x-7%03x-%04x-%012x', at / 65536, at % 65536, i % 4096, \
             32768 + (i / 4096) % 16384, i)"
        }
        Backend::Postgres => {
            "lpad(to_hex(at / 65536), 8, '0') || '-' || lpad(to_hex(at % 65536), 4, '0') || '-7' \
             || lpad(to_hex(i % 4096), 3, '0') || '-' || to_hex(32768 + (i / 4096) % 16384) || '-' \
             || lpad(to_hex(i), 12, '0')"
        }
    }
}

impl Tx {
    /// Runs one statement of this file with `args` bound to `$1…`.
    async fn run(&mut self, sql: &str, args: &[Arg]) -> Result<()> {
        with_tx!(self, |c| bind_all!(sqlx::query(AssertSqlSafe(sql)), args)
            .execute(c)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

impl Store {
    /// Fills an empty database with `spec.conversations` contacts and conversations and
    /// `spec.messages` text messages in both directions, generated inside the database, in
    /// large transactions; conversations' last message, last inbound time and unread count
    /// match their messages.
    pub async fn bulk_load(&self, spec: &BulkSpec) -> Result<BulkSummary> {
        let sql = "SELECT (SELECT COUNT(*) FROM contacts) + (SELECT COUNT(*) FROM messages)";
        let existing = self.scalar(sql, &[]).await?;
        if existing > 0 || spec.conversations < 1 || spec.words.is_empty() {
            return Err(StoreError::Corrupt(
                "bulk loading needs an empty database, conversations and words".into(),
            ));
        }
        self.load_vocabulary(spec).await?;
        let first = self.load_conversations(spec).await?;
        self.load_messages(spec, first).await?;
        self.finish_conversations(spec, first).await?;
        let mut tx = self.begin().await?;
        tx.run("DROP TABLE bench_words", &[]).await?;
        tx.commit().await?;
        if self.backend == Backend::Postgres {
            // dialect: autovacuum would vacuum and analyse the new rows soon after; do it now,
            // so reads measure a settled database rather than one autovacuum is busy with.
            with_pool!(&self.write, |p| sqlx::query("VACUUM ANALYZE")
                .execute(p)
                .await
                .map(|_| ()))?;
        }
        Ok(BulkSummary {
            first_conversation_id: first,
            conversations: spec.conversations,
            messages: spec.messages.max(spec.conversations),
        })
    }

    async fn load_vocabulary(&self, spec: &BulkSpec) -> Result<()> {
        let mut tx = self.begin().await?;
        let sql = "CREATE TABLE bench_words (n INTEGER PRIMARY KEY, word TEXT NOT NULL)";
        tx.run(sql, &[]).await?;
        let mut rows: Vec<[Arg; 2]> = Vec::new();
        let lists = [
            (0, &spec.words),
            (FIRST_NAMES, &spec.first_names),
            (LAST_NAMES, &spec.last_names),
        ];
        for (offset, words) in lists {
            let numbered = words.iter().enumerate();
            rows.extend(numbered.map(|(k, w)| [Arg::Int(offset + k as i64), Arg::Text(w.clone())]));
        }
        for chunk in rows.chunks(200) {
            let values: Vec<String> = (0..chunk.len())
                .map(|k| format!("(${}, ${})", 2 * k + 1, 2 * k + 2))
                .collect();
            let sql = format!(
                "INSERT INTO bench_words (n, word) VALUES {}",
                values.join(", ")
            );
            tx.run(&sql, chunk.concat().as_slice()).await?;
        }
        tx.commit().await
    }

    /// Contacts and their conversations; returns the first conversation id.
    async fn load_conversations(&self, spec: &BulkSpec) -> Result<i64> {
        let first_names = spec.first_names.len().max(1) as i64;
        let last_names = spec.last_names.len().max(1) as i64;
        let contacts = format!(
            "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $1) \
             INSERT INTO contacts (wa_id, phone, profile_name, created_at, updated_at) \
             SELECT CAST($2 + i AS TEXT), '+' || CAST($2 + i AS TEXT), \
             (SELECT w.word FROM bench_words w WHERE w.n = {FIRST_NAMES} + {} % {first_names}) || ' ' || \
             (SELECT w.word FROM bench_words w WHERE w.n = {LAST_NAMES} + {} % {last_names}), $3, $3 \
             FROM seq",
            hash("i", 2_246_822_519),
            hash("i + 17", 3_266_489_917),
        );
        let mut tx = self.begin().await?;
        let start = spec.end.0 - spec.span_ms;
        let args = [spec.conversations, spec.first_wa_id, start].map(Arg::Int);
        tx.run(&contacts, &args).await?;
        let conversations = "INSERT INTO conversations (contact_id, phone_number_id, assignee, \
            last_message_at, created_at, updated_at) \
            SELECT k.id, $1, CASE k.id % 4 WHEN 1 THEN 'ana' WHEN 2 THEN 'ben' ELSE NULL END, \
            k.created_at, k.created_at, k.created_at FROM contacts k ORDER BY k.id";
        let pnid = Arg::Text(spec.phone_number_id.clone());
        tx.run(conversations, &[pnid]).await?;
        let (first, last, count): (i64, i64, i64) = with_tx!(tx, |c| sqlx::query_as(
            "SELECT MIN(id), MAX(id), COUNT(*) FROM conversations"
        )
        .fetch_one(c)
        .await)?;
        if last - first + 1 != count || count != spec.conversations {
            return Err(StoreError::Corrupt(format!(
                "bulk conversations are not dense: {first}..={last}, {count}"
            )));
        }
        tx.commit().await?;
        Ok(first)
    }

    async fn load_messages(&self, spec: &BulkSpec, first_conversation: i64) -> Result<()> {
        let total = spec.messages.max(spec.conversations);
        let conversations = spec.conversations;
        // Message `i` goes to conversation `i` while `i < conversations` (each starts with the
        // customer writing), then half uniformly and half skewed towards busy conversations.
        let (u, v, w) = (
            hash("i", 2_654_435_761),
            hash("i + 7", 2_246_822_519),
            hash("i + 11", 3_266_489_917),
        );
        let sql = format!(
            "WITH RECURSIVE seq(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $2), \
             g AS (SELECT i, {u} AS h, \
               CASE WHEN i < {conversations} THEN i \
                 WHEN {u} % 2 = 0 THEN {v} % {conversations} \
                 ELSE ({v} % {conversations}) * ({w} % {conversations}) / {conversations} END AS c, \
               $3 + i * $4 / {total} AS at, \
               (i < {conversations} OR {u} % 100 < 55) AS inbound \
               FROM seq), \
             l AS (SELECT g.*, 2 + (h / 7) % {extra} AS len FROM g), \
             t AS MATERIALIZED (SELECT l.*, {text} AS body FROM l) \
             INSERT INTO messages (id, wamid, conversation_id, direction, kind, text, content, \
               status, author, created_at, status_updated_at, sent_at, delivered_at, read_at) \
             SELECT {id}, 'wamid.BULK' || CAST(i AS TEXT), $5 + c, \
               CASE WHEN inbound THEN 'inbound' ELSE 'outbound' END, 'text', body, \
               '{{\"body\":\"' || body || '\"}}', \
               CASE WHEN inbound AND at >= $6 THEN 'received' WHEN at >= $6 THEN 'delivered' \
                 ELSE 'read' END, \
               CASE WHEN inbound THEN NULL WHEN h % 3 = 0 THEN 'ben' ELSE 'ana' END, \
               at, CASE WHEN inbound AND at >= $6 THEN at WHEN at >= $6 THEN at + 2000 \
                 ELSE at + 60000 END, \
               CASE WHEN inbound THEN NULL ELSE at + 1000 END, \
               CASE WHEN inbound THEN NULL ELSE at + 2000 END, \
               CASE WHEN at >= $6 THEN NULL ELSE at + 60000 END \
             FROM t",
            extra = MAX_EXTRA_WORDS + 1,
            text = text_expression(spec.words.len()),
            id = id_expression(self.backend),
        );
        let step = spec.rows_per_statement.max(1);
        let (start, unread) = (spec.end.0 - spec.span_ms, spec.unread_after.0);
        let statements: Vec<i64> = (0..total).step_by(step as usize).collect();
        for group in statements.chunks(spec.statements_per_transaction.max(1) as usize) {
            let mut tx = self.begin().await?;
            for &lo in group {
                let hi = (lo + step).min(total);
                let args = [lo, hi, start, spec.span_ms, first_conversation, unread];
                tx.run(&sql, &args.map(Arg::Int)).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Derives each conversation's activity from its messages, in slices of 200 (a statement
    /// each, well under a second).
    async fn finish_conversations(&self, spec: &BulkSpec, first: i64) -> Result<()> {
        const SLICE: i64 = 200;
        const ACTIVITY: &str = "UPDATE conversations SET \
            last_message_at = (SELECT MAX(m.created_at) FROM messages m \
              WHERE m.conversation_id = conversations.id), \
            last_message_id = (SELECT m.id FROM messages m \
              WHERE m.conversation_id = conversations.id \
              ORDER BY m.created_at DESC, m.id DESC LIMIT 1), \
            last_inbound_at = (SELECT MAX(m.created_at) FROM messages m \
              WHERE m.conversation_id = conversations.id AND m.direction = 'inbound'), \
            unread_count = (SELECT COUNT(*) FROM messages m \
              WHERE m.conversation_id = conversations.id AND m.direction = 'inbound' \
              AND m.status = 'received'), \
            created_at = (SELECT MIN(m.created_at) FROM messages m \
              WHERE m.conversation_id = conversations.id) \
            WHERE id >= $1 AND id < $2";
        const STATUS: &str = "UPDATE conversations SET updated_at = last_message_at, \
            status = CASE WHEN unread_count > 0 THEN 'open' WHEN id % 10 < 6 THEN 'resolved' \
            WHEN id % 10 < 7 THEN 'pending' ELSE 'open' END WHERE id >= $1 AND id < $2";
        const CONTACTS: &str = "UPDATE contacts SET created_at = c.created_at, \
            updated_at = c.last_message_at FROM conversations c \
            WHERE c.contact_id = contacts.id AND c.id >= $1 AND c.id < $2";
        let mut tx = self.begin().await?;
        for lo in (first..first + spec.conversations).step_by(SLICE as usize) {
            let range = [lo, lo + SLICE].map(Arg::Int);
            for sql in [ACTIVITY, STATUS, CONTACTS] {
                tx.run(sql, &range).await?;
            }
        }
        tx.commit().await
    }

    /// One integer from a query of this file.
    async fn scalar(&self, sql: &str, args: &[Arg]) -> Result<i64> {
        let (n,): (i64,) = with_pool!(&self.read, |p| bind_all!(
            sqlx::query_as(AssertSqlSafe(sql)),
            args
        )
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    /// Every message, counted.
    pub async fn count_messages(&self) -> Result<i64> {
        self.scalar("SELECT COUNT(*) FROM messages", &[]).await
    }

    /// Messages the search API finds for the single word `word` (matched as a prefix).
    pub async fn count_text_matches(&self, word: &str) -> Result<i64> {
        let word: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
        // dialect: full-text match.
        let (sql, query) = match self.backend {
            Backend::Sqlite => (
                "SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH $1",
                format!("\"{word}\"*"),
            ),
            Backend::Postgres => (
                "SELECT COUNT(*) FROM messages WHERE search @@ to_tsquery('simple', $1)",
                format!("{word}:*"),
            ),
        };
        self.scalar(sql, &[Arg::Text(query)]).await
    }

    /// The database engine's version.
    pub async fn database_version(&self) -> Result<String> {
        // dialect: version functions.
        let sql = match self.backend {
            Backend::Sqlite => "SELECT 'SQLite ' || sqlite_version()",
            Backend::Postgres => "SELECT 'PostgreSQL ' || current_setting('server_version')",
        };
        let (v,): (String,) = with_pool!(&self.read, |p| sqlx::query_as(sql).fetch_one(p).await)?;
        Ok(v)
    }

    /// The ingest baseline's table: what the journal stores, minus everything else.
    pub async fn create_baseline_table(&self) -> Result<()> {
        // dialect: auto-increment key and byte type.
        let sql = match self.backend {
            Backend::Sqlite => {
                "CREATE TABLE bench_baseline (id INTEGER PRIMARY KEY, \
                 received_at INTEGER NOT NULL, body BLOB NOT NULL)"
            }
            Backend::Postgres => {
                "CREATE TABLE bench_baseline (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
                 received_at BIGINT NOT NULL, body BYTEA NOT NULL)"
            }
        };
        let mut tx = self.begin().await?;
        tx.run(sql, &[]).await?;
        tx.commit().await
    }

    /// Inserts bodies in one transaction, as many rows per statement as the journal writer.
    pub async fn append_baseline(&self, rows: &[(i64, Vec<u8>)]) -> Result<()> {
        let mut tx = self.begin().await?;
        for chunk in super::runs(self.backend, rows, |(_, body)| {
            super::row_bytes(2, body.len())
        }) {
            let sql = format!(
                "INSERT INTO bench_baseline (received_at, body) VALUES {}",
                super::value_rows(self.backend, chunk.len(), 2)
            );
            with_tx!(tx, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
                for (received_at, body) in chunk {
                    q = q.bind(received_at).bind(body);
                }
                q.execute(c).await.map(|_| ())
            })?;
        }
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_swap_the_database_and_keep_options() {
        let url = |s, n| postgres_database_url(s, n).unwrap_or_default();
        assert_eq!(
            url("postgres://postgres@127.0.0.1:5432/postgres", "x_1"),
            "postgres://postgres@127.0.0.1:5432/x_1"
        );
        assert_eq!(
            url("postgresql://u:p@db/main?sslmode=disable", "b"),
            "postgresql://u:p@db/b?sslmode=disable"
        );
        assert_eq!(url("postgres://db:5432", "b"), "postgres://db:5432/b");
    }
}
