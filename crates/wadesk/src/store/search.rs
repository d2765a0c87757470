//! Full-text search over message text (dialect: FTS5 on SQLite, tsvector on PostgreSQL) and
//! a plain match over contact names and numbers.

use sqlx::AssertSqlSafe;

use super::{
    Backend, Result, Store,
    rows::{MESSAGE_COLUMNS, MessageRow, messages},
    with_pool,
};
use crate::domain::{Contact, Message};

/// The words of a user's query, stripped of query syntax. The last word matches as a prefix,
/// so results follow typing.
fn words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

/// Joins the words with `sep`, each through `each` and the last through `last`.
fn join_words(
    words: &[String],
    each: impl Fn(&str) -> String,
    last: impl Fn(&str) -> String,
    sep: &str,
) -> String {
    let n = words.len();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| if i + 1 == n { last(w) } else { each(w) })
        .collect::<Vec<_>>()
        .join(sep)
}

/// FTS5: `"word1" "word2"*` (all words, the last as a prefix).
fn fts5_query(words: &[String]) -> String {
    join_words(words, |w| format!("\"{w}\""), |w| format!("\"{w}\"*"), " ")
}

/// tsquery: `word1 & word2:*`.
fn tsquery(words: &[String]) -> String {
    join_words(words, str::to_owned, |w| format!("{w}:*"), " & ")
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    id: i64,
    wa_id: Option<String>,
    phone: Option<String>,
    profile_name: Option<String>,
    bsuid: Option<String>,
}

impl ContactRow {
    fn into_domain(self) -> Contact {
        Contact {
            id: self.id,
            wa_id: self.wa_id,
            phone: self.phone,
            name: self.profile_name,
            bsuid: self.bsuid,
        }
    }
}

impl Store {
    /// Messages whose text contains every word of `q`, newest first.
    pub async fn search_messages(&self, q: &str, limit: i64) -> Result<Vec<Message>> {
        let words = words(q);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        // Newest first without ranking every match: FTS5 walks its rowids (insertion order)
        // backwards; PostgreSQL sorts the matches by time.
        let (sql, query) = match self.backend {
            Backend::Sqlite => (
                format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages_fts f JOIN messages m ON m.rowid = f.rowid \
                     WHERE messages_fts MATCH $1 ORDER BY f.rowid DESC LIMIT $2"
                ),
                fts5_query(&words),
            ),
            Backend::Postgres => (
                format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages m \
                     WHERE m.search @@ to_tsquery('simple', $1) \
                     ORDER BY m.created_at DESC, m.id DESC LIMIT $2"
                ),
                tsquery(&words),
            ),
        };
        let rows: Vec<MessageRow> =
            with_pool!(&self.read, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(&query)
                .bind(limit)
                .fetch_all(p)
                .await)?;
        messages(rows)
    }

    /// Contacts whose name contains `q`, or whose number contains its digits.
    pub async fn search_contacts(&self, q: &str, limit: i64) -> Result<Vec<Contact>> {
        let q = q.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let name = format!("%{}%", escaped.to_lowercase());
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        let number = if digits.len() >= 3 {
            format!("%{digits}%")
        } else {
            String::new()
        };
        let rows: Vec<ContactRow> = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT id, wa_id, phone, profile_name, bsuid FROM contacts \
                 WHERE LOWER(profile_name) LIKE $1 ESCAPE '\\' OR ($2 <> '' AND wa_id LIKE $2) \
                 ORDER BY updated_at DESC LIMIT $3"
        )
        .bind(&name)
        .bind(&number)
        .bind(limit)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(ContactRow::into_domain).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_lose_syntax_and_match_the_last_word_as_a_prefix() {
        let w = words("  Where's my \"order\" #4521? NEAR(");
        assert_eq!(w, ["where", "s", "my", "order", "4521", "near"]);
        assert_eq!(fts5_query(&words("order 45")), "\"order\" \"45\"*");
        assert_eq!(tsquery(&words("order 45")), "order & 45:*");
        assert!(words(" *:& ").is_empty());
    }
}
