//! Queries behind the seed-compatible routes (`http::compat`): messages with the customer and
//! business number they were exchanged between, message counts per conversation, and clearing
//! every message. Nothing here is specific to an HTTP shape.

use sqlx::AssertSqlSafe;

use super::{
    Arg, Filter, Result, Store, Tx, bind_all,
    rows::{MESSAGE_COLUMNS, MessageRow},
    with_pool, with_tx,
};
use crate::domain::{Contact, Message};

/// A message with the two parties of its conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageWithParties {
    pub message: Message,
    pub customer: Contact,
    /// The business number's phone-number-id.
    pub phone_number_id: String,
}

#[derive(sqlx::FromRow)]
struct PartiesRow {
    #[sqlx(flatten)]
    message: MessageRow,
    customer_id: i64,
    customer_wa_id: Option<String>,
    customer_phone: Option<String>,
    customer_name: Option<String>,
    customer_bsuid: Option<String>,
    business_phone_number_id: String,
}

impl TryFrom<PartiesRow> for MessageWithParties {
    type Error = super::StoreError;

    fn try_from(r: PartiesRow) -> Result<Self> {
        Ok(Self {
            message: Message::try_from(r.message)?,
            customer: Contact {
                id: r.customer_id,
                wa_id: r.customer_wa_id,
                phone: r.customer_phone,
                name: r.customer_name,
                bsuid: r.customer_bsuid,
            },
            phone_number_id: r.business_phone_number_id,
        })
    }
}

/// What clearing every message removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cleared {
    pub messages: u64,
    /// Conversations that lost their messages (kept, with no last message and nothing unread).
    pub conversations: Vec<i64>,
}

impl Store {
    /// Messages newest first, optionally only those with one customer (digits of a WhatsApp id
    /// or E.164 number, without `+`).
    pub async fn messages_with_parties(
        &self,
        customer_digits: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MessageWithParties>> {
        let mut w = Filter::default();
        if let Some(digits) = customer_digits {
            w.and(
                "(k.wa_id = ? OR k.phone = ?)",
                [
                    Arg::Text(digits.to_owned()),
                    Arg::Text(format!("+{digits}")),
                ],
            );
        }
        let sql = format!(
            "{} {} ORDER BY m.created_at DESC, m.id DESC LIMIT ${}",
            select_with_parties(),
            w.sql(),
            w.next()
        );
        let rows: Vec<PartiesRow> = with_pool!(&self.read, |p| bind_all!(
            sqlx::query_as(AssertSqlSafe(sql.as_str())),
            &w.args
        )
        .bind(limit)
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(MessageWithParties::try_from).collect()
    }

    /// One message, by our id or by wamid.
    pub async fn message_with_parties(&self, id: &str) -> Result<Option<MessageWithParties>> {
        let sql = format!(
            "{} WHERE m.id = $1 OR m.wamid = $1 LIMIT 1",
            select_with_parties()
        );
        let row: Option<PartiesRow> =
            with_pool!(&self.read, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(p)
                .await)?;
        row.map(MessageWithParties::try_from).transpose()
    }

    /// `(conversation id, number of messages)` for those of `ids` that have any.
    pub async fn message_counts(&self, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT conversation_id, COUNT(*) FROM messages WHERE conversation_id IN ({}) \
             GROUP BY conversation_id",
            super::placeholders(1, ids.len())
        );
        let args: Vec<Arg> = ids.iter().copied().map(Arg::Int).collect();
        Ok(with_pool!(&self.read, |p| bind_all!(
            sqlx::query_as(AssertSqlSafe(sql.as_str())),
            &args
        )
        .fetch_all(p)
        .await)?)
    }
}

fn select_with_parties() -> String {
    format!(
        "SELECT {MESSAGE_COLUMNS}, k.id AS customer_id, k.wa_id AS customer_wa_id, \
         k.phone AS customer_phone, k.profile_name AS customer_name, k.bsuid AS customer_bsuid, \
         c.phone_number_id AS business_phone_number_id \
         FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         JOIN contacts k ON k.id = c.contact_id"
    )
}

impl Tx {
    /// Deletes every message and what hangs off messages: outbox rows, idempotency keys and
    /// status events. Conversations and contacts stay (with their 24-hour window, which is
    /// Meta's fact, not ours), with no last message and nothing unread. The webhook journal is
    /// kept as received.
    pub async fn clear_messages(&mut self) -> Result<Cleared> {
        for sql in [
            "DELETE FROM outbox",
            "DELETE FROM idempotency_keys",
            "DELETE FROM status_events",
        ] {
            with_tx!(self, |c| sqlx::query(sql)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        let conversations: Vec<(i64,)> = with_tx!(self, |c| sqlx::query_as(
            "UPDATE conversations SET last_message_id = NULL, unread_count = 0 \
             WHERE last_message_id IS NOT NULL OR unread_count <> 0 RETURNING id"
        )
        .fetch_all(c)
        .await)?;
        let messages = with_tx!(self, |c| sqlx::query("DELETE FROM messages")
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        let mut conversations: Vec<i64> = conversations.into_iter().map(|(id,)| id).collect();
        conversations.sort_unstable();
        Ok(Cleared {
            messages,
            conversations,
        })
    }
}
