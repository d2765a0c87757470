//! Row shapes shared by several queries, and their conversion to domain types.

use crate::domain::{
    DeliveryState, DeliveryStatus, Direction, Message, MessageError, MessageKind, Timestamp,
};

use super::{Result, StoreError};

/// Columns of `messages` in the order `MessageRow` expects (table alias `m`).
pub(super) const MESSAGE_COLUMNS: &str = "m.id, m.wamid, m.conversation_id, m.direction, m.kind, \
    m.text, m.content, m.reply_to, m.status, m.error_code, m.error_title, m.error_detail, \
    m.author, m.created_at, m.status_updated_at, m.sent_at, m.delivered_at, m.read_at, \
    m.played_at, m.failed_at";

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    id: String,
    wamid: Option<String>,
    conversation_id: i64,
    direction: String,
    kind: String,
    text: Option<String>,
    content: String,
    reply_to: Option<String>,
    status: String,
    error_code: Option<i64>,
    error_title: Option<String>,
    error_detail: Option<String>,
    author: Option<String>,
    created_at: i64,
    status_updated_at: i64,
    sent_at: Option<i64>,
    delivered_at: Option<i64>,
    read_at: Option<i64>,
    played_at: Option<i64>,
    failed_at: Option<i64>,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;

    fn try_from(r: MessageRow) -> Result<Self> {
        let corrupt =
            |what: &str, v: &str| StoreError::Corrupt(format!("message {}: {what} {v:?}", r.id));
        let direction =
            Direction::parse(&r.direction).ok_or_else(|| corrupt("direction", &r.direction))?;
        let kind = MessageKind::parse(&r.kind).ok_or_else(|| corrupt("kind", &r.kind))?;
        let status =
            DeliveryStatus::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?;
        let content =
            serde_json::from_str(&r.content).map_err(|_| corrupt("content", &r.content))?;
        let error = r.error_code.map(|code| MessageError {
            code,
            title: r.error_title.clone().unwrap_or_default(),
            detail: r.error_detail.clone(),
        });
        let ts = |v: Option<i64>| v.map(Timestamp);
        let delivery = DeliveryState {
            status: Some(status),
            status_updated_at: Some(Timestamp(r.status_updated_at)),
            sent_at: ts(r.sent_at),
            delivered_at: ts(r.delivered_at),
            read_at: ts(r.read_at),
            played_at: ts(r.played_at),
            failed_at: ts(r.failed_at),
            error: error.clone(),
        };
        Ok(Message {
            id: r.id,
            wamid: r.wamid,
            conversation_id: r.conversation_id,
            direction,
            kind,
            text: r.text,
            content,
            status,
            error,
            reply_to: r.reply_to,
            author: r.author,
            created_at: Timestamp(r.created_at),
            status_updated_at: Timestamp(r.status_updated_at),
            delivery,
        })
    }
}

pub(super) fn messages(rows: Vec<MessageRow>) -> Result<Vec<Message>> {
    rows.into_iter().map(Message::try_from).collect()
}
