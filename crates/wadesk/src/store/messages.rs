//! Messages: insert, look up, update delivery state, list with keyset pagination.

use sqlx::AssertSqlSafe;

use super::{
    Arg, Backend, Filter, Result, Store, Tx, bind_all,
    rows::{MESSAGE_COLUMNS, MessageRow, messages},
    with_pool, with_tx,
};
use crate::domain::{
    DeliveryState, DeliveryStatus, Direction, Message, MessageError, MessageKind, Timestamp,
};

/// A message to insert.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub wamid: Option<String>,
    pub conversation_id: i64,
    pub direction: Direction,
    pub kind: MessageKind,
    pub text: Option<String>,
    pub content: serde_json::Value,
    pub reply_to: Option<String>,
    pub status: DeliveryStatus,
    pub error: Option<MessageError>,
    pub author: Option<String>,
    pub created_at: Timestamp,
}

/// Filters for the message log. Every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    /// wa_id or E.164 phone of the customer (digits with or without `+`).
    pub phone_digits: Option<String>,
    pub conversation_id: Option<i64>,
    pub status: Option<DeliveryStatus>,
    pub direction: Option<Direction>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Keyset position: strictly older than this `(created_at, id)`.
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

impl Tx {
    /// Inserts the message; `false` if one with the same wamid exists (a duplicate delivery).
    pub async fn insert_message(&mut self, m: &NewMessage) -> Result<bool> {
        Ok(!self
            .insert_messages(std::slice::from_ref(m))
            .await?
            .is_empty())
    }

    /// Inserts messages with a few statements; returns the ids of those inserted (a message
    /// whose wamid is already stored, or earlier in `messages`, is a duplicate and skipped).
    pub async fn insert_messages(&mut self, messages: &[NewMessage]) -> Result<Vec<String>> {
        let mut inserted = Vec::with_capacity(messages.len());
        let rows: Vec<(&NewMessage, String)> = messages
            .iter()
            .map(|m| (m, m.content.to_string()))
            .collect();
        // The id, wamid, kind, status and times take about 160 bytes.
        let bytes = |(m, content): &(&NewMessage, String)| {
            super::row_bytes(
                16,
                160 + m.text.as_deref().map_or(0, str::len) + content.len(),
            )
        };
        for chunk in super::runs(self.backend(), &rows, bytes) {
            let sql = format!(
                "INSERT INTO messages (id, wamid, conversation_id, direction, kind, text, content, \
                 reply_to, status, error_code, error_title, error_detail, author, created_at, \
                 status_updated_at, failed_at) VALUES {} ON CONFLICT (wamid) DO NOTHING RETURNING id",
                super::value_rows(self.backend(), chunk.len(), 16)
            );
            let ids: Vec<(String,)> = with_tx!(self, |c| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
                for (m, content) in chunk {
                    let error = m.error.as_ref();
                    let failed_at = (m.status == DeliveryStatus::Failed).then_some(m.created_at.0);
                    q = q
                        .bind(&m.id)
                        .bind(&m.wamid)
                        .bind(m.conversation_id)
                        .bind(m.direction.as_str())
                        .bind(m.kind.as_str())
                        .bind(&m.text)
                        .bind(content.as_str())
                        .bind(&m.reply_to)
                        .bind(m.status.as_str())
                        .bind(error.map(|e| e.code))
                        .bind(error.map(|e| e.title.as_str()))
                        .bind(error.and_then(|e| e.detail.as_deref()))
                        .bind(&m.author)
                        .bind(m.created_at.0)
                        .bind(m.created_at.0)
                        .bind(failed_at);
                }
                q.fetch_all(c).await
            })?;
            inserted.extend(ids.into_iter().map(|(id,)| id));
        }
        Ok(inserted)
    }

    pub async fn message(&mut self, id: &str) -> Result<Option<Message>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1");
        let row: Option<MessageRow> =
            with_tx!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(c)
                .await)?;
        row.map(Message::try_from).transpose()
    }

    pub async fn message_by_wamid(&mut self, wamid: &str) -> Result<Option<Message>> {
        Ok(self.messages_by_wamids(&[wamid]).await?.pop())
    }

    /// Messages by id, in no particular order (unknown ids are left out).
    pub async fn messages(&mut self, ids: &[&str]) -> Result<Vec<Message>> {
        self.messages_where("id", ids).await
    }

    /// Messages by wamid, in no particular order (unknown wamids are left out).
    pub async fn messages_by_wamids(&mut self, wamids: &[&str]) -> Result<Vec<Message>> {
        self.messages_where("wamid", wamids).await
    }

    /// Messages whose `column` (a unique one) is one of `keys`.
    async fn messages_where(&mut self, column: &str, keys: &[&str]) -> Result<Vec<Message>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(super::ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.{column} IN ({})",
                super::placeholders(1, chunk.len())
            );
            let rows: Vec<MessageRow> = with_tx!(self, |c| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
                for key in chunk {
                    q = q.bind(*key);
                }
                q.fetch_all(c).await
            })?;
            found.extend(messages(rows)?);
        }
        Ok(found)
    }

    /// Records the wamid Graph gave an outbound message. `false` if it already had one.
    pub async fn attach_wamid(&mut self, id: &str, wamid: &str) -> Result<bool> {
        Ok(!self.attach_wamids(&[(id, wamid)]).await?.is_empty())
    }

    /// `attach_wamid` for many `(message id, wamid)`; returns the ids that took their wamid.
    pub async fn attach_wamids(&mut self, pairs: &[(&str, &str)]) -> Result<Vec<String>> {
        let wamids: Vec<&str> = pairs.iter().map(|(_, wamid)| *wamid).collect();
        self.lock_wamids(&wamids).await?;
        let mut attached = Vec::with_capacity(pairs.len());
        // dialect: SQLite would find the rows through the wamid index (every queued send's
        // wamid is NULL) and scan the VALUES for each, thousands of rows a statement; a unary
        // `+` keeps that term off the index, so the rows are found by id.
        let wamid = match self.backend() {
            Backend::Sqlite => "+messages.wamid",
            Backend::Postgres => "messages.wamid",
        };
        let bytes = |(id, wamid): &(&str, &str)| super::row_bytes(2, id.len() + wamid.len());
        for chunk in super::runs(self.backend(), pairs, bytes) {
            // VALUES columns are column1… on both backends.
            let sql = format!(
                "UPDATE messages SET wamid = v.column2 FROM (VALUES {}) AS v \
                 WHERE messages.id = v.column1 AND {wamid} IS NULL RETURNING messages.id",
                super::value_rows(self.backend(), chunk.len(), 2)
            );
            let ids: Vec<(String,)> = with_tx!(self, |c| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
                for (id, wamid) in chunk {
                    q = q.bind(*id).bind(*wamid);
                }
                q.fetch_all(c).await
            })?;
            attached.extend(ids.into_iter().map(|(id,)| id));
        }
        Ok(attached)
    }

    /// Writes the derived delivery states of many messages.
    pub async fn set_deliveries(&mut self, states: &[(&str, &DeliveryState)]) -> Result<()> {
        let ms = |t: Option<Timestamp>| t.map(|t| t.0);
        let bytes = |(_, d): &(&str, &DeliveryState)| {
            let error = d.error.as_ref().map_or(0, |e| {
                e.title.len() + e.detail.as_deref().map_or(0, str::len)
            });
            super::row_bytes(11, 48 + error)
        };
        for chunk in super::runs(self.backend(), states, bytes) {
            let sql = format!(
                "UPDATE messages SET status = COALESCE(v.column2, messages.status), \
                 status_updated_at = COALESCE(v.column3, messages.status_updated_at), \
                 sent_at = v.column4, delivered_at = v.column5, read_at = v.column6, \
                 played_at = v.column7, failed_at = v.column8, error_code = v.column9, \
                 error_title = v.column10, error_detail = v.column11 \
                 FROM (VALUES {}) AS v WHERE messages.id = v.column1",
                super::value_rows(self.backend(), chunk.len(), 11)
            );
            with_tx!(self, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
                for (id, d) in chunk {
                    let (code, title, detail) = match &d.error {
                        Some(e) => (Some(e.code), Some(e.title.as_str()), e.detail.as_deref()),
                        None => (None, None, None),
                    };
                    q = q
                        .bind(*id)
                        .bind(d.status.map(DeliveryStatus::as_str))
                        .bind(ms(d.status_updated_at))
                        .bind(ms(d.sent_at))
                        .bind(ms(d.delivered_at))
                        .bind(ms(d.read_at))
                        .bind(ms(d.played_at))
                        .bind(ms(d.failed_at))
                        .bind(code)
                        .bind(title)
                        .bind(detail);
                }
                q.execute(c).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Marks every unread inbound message of a conversation read; returns the wamid of the
    /// newest of them.
    pub async fn mark_inbound_read(
        &mut self,
        conversation_id: i64,
        now: Timestamp,
    ) -> Result<Option<String>> {
        let rows: Vec<(Option<String>, i64, String)> = with_tx!(self, |c| sqlx::query_as(
            "UPDATE messages SET status = 'read', read_at = $2, status_updated_at = $2 \
             WHERE conversation_id = $1 AND direction = 'inbound' AND status = 'received' \
             RETURNING wamid, created_at, id"
        )
        .bind(conversation_id)
        .bind(now.0)
        .fetch_all(c)
        .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|(w, at, id)| Some((w?, at, id)))
            .max_by(|a, b| (a.1, &a.2).cmp(&(b.1, &b.2)))
            .map(|(w, _, _)| w))
    }
}

impl Store {
    pub async fn message(&self, id: &str) -> Result<Option<Message>> {
        let sql =
            format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1 OR m.wamid = $1");
        let row: Option<MessageRow> =
            with_pool!(&self.read, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(p)
                .await)?;
        row.map(Message::try_from).transpose()
    }

    pub async fn messages_by_ids(&self, ids: &[String]) -> Result<Vec<Message>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id IN ({})",
            super::placeholders(1, ids.len())
        );
        let args: Vec<Arg> = ids.iter().cloned().map(Arg::Text).collect();
        let rows: Vec<MessageRow> = with_pool!(&self.read, |p| bind_all!(
            sqlx::query_as(AssertSqlSafe(sql.as_str())),
            &args
        )
        .fetch_all(p)
        .await)?;
        messages(rows)
    }

    /// Messages newest first, narrowed by `filter`.
    pub async fn list_messages(&self, filter: &MessageFilter) -> Result<Vec<Message>> {
        let mut w = Filter::default();
        if let Some(digits) = &filter.phone_digits {
            w.and(
                "m.conversation_id IN (SELECT c.id FROM conversations c JOIN contacts k \
                 ON k.id = c.contact_id WHERE k.wa_id = ? OR k.phone = ?)",
                [Arg::Text(digits.clone()), Arg::Text(format!("+{digits}"))],
            );
        }
        if let Some(id) = filter.conversation_id {
            w.and("m.conversation_id = ?", [Arg::Int(id)]);
        }
        if let Some(s) = filter.status {
            w.and("m.status = ?", [Arg::Text(s.as_str().into())]);
        }
        if let Some(d) = filter.direction {
            w.and("m.direction = ?", [Arg::Text(d.as_str().into())]);
        }
        if let Some(t) = filter.since {
            w.and("m.created_at >= ?", [Arg::Int(t.0)]);
        }
        if let Some(t) = filter.until {
            w.and("m.created_at < ?", [Arg::Int(t.0)]);
        }
        if let Some((at, id)) = &filter.before {
            w.and(
                "(m.created_at < ? OR (m.created_at = ? AND m.id < ?))",
                [Arg::Int(*at), Arg::Int(*at), Arg::Text(id.clone())],
            );
        }
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m {} \
             ORDER BY m.created_at DESC, m.id DESC LIMIT ${}",
            w.sql(),
            w.next()
        );
        let rows: Vec<MessageRow> = with_pool!(&self.read, |p| bind_all!(
            sqlx::query_as(AssertSqlSafe(sql.as_str())),
            &w.args
        )
        .bind(filter.limit)
        .fetch_all(p)
        .await)?;
        messages(rows)
    }
}
