//! Contacts and conversations: upserts from ingest and sends, counters, listing.

use sqlx::AssertSqlSafe;

use super::{Arg, Filter, Result, Store, StoreError, Tx, bind_all, with_pool, with_tx};
use crate::domain::{
    Contact, Conversation, ConversationStatus, Message, Timestamp, window_open_until,
};

/// How a contact is identified: WhatsApp id, or business-scoped user id when no number is known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ContactKey {
    WaId(String),
    Bsuid(String),
}

/// Filters for the conversation list.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub assignee: Option<String>,
    /// Words to find in the contact's name or number, or in the conversation's messages.
    pub query: Option<String>,
    /// Keyset position: strictly older activity than this `(last_message_at, id)`.
    pub before: Option<(i64, i64)>,
    pub limit: i64,
}

const CONVERSATION_COLUMNS: &str = "c.id, c.phone_number_id, c.status, c.assignee, c.labels, \
    c.unread_count, c.last_message_id, c.last_message_at, c.last_inbound_at, \
    k.id AS contact_id, k.wa_id, k.phone, k.profile_name, k.bsuid";

#[derive(sqlx::FromRow)]
struct ConversationRow {
    id: i64,
    phone_number_id: String,
    status: String,
    assignee: Option<String>,
    labels: String,
    unread_count: i64,
    last_message_id: Option<String>,
    last_message_at: i64,
    last_inbound_at: Option<i64>,
    contact_id: i64,
    wa_id: Option<String>,
    phone: Option<String>,
    profile_name: Option<String>,
    bsuid: Option<String>,
}

impl ConversationRow {
    fn into_domain(self, last: Option<Message>, now: Timestamp) -> Result<Conversation> {
        let status = ConversationStatus::parse(&self.status).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "conversation {}: status {:?}",
                self.id, self.status
            ))
        })?;
        let last_inbound_at = self.last_inbound_at.map(Timestamp);
        Ok(Conversation {
            id: self.id,
            phone_number_id: self.phone_number_id,
            contact: Contact {
                id: self.contact_id,
                wa_id: self.wa_id,
                phone: self.phone,
                name: self.profile_name,
                bsuid: self.bsuid,
            },
            status,
            assignee: self.assignee,
            labels: serde_json::from_str(&self.labels).unwrap_or_default(),
            unread_count: self.unread_count,
            last_message: last,
            last_message_at: Timestamp(self.last_message_at),
            last_inbound_at,
            window_open_until: window_open_until(last_inbound_at, now),
        })
    }
}

/// A contact as a webhook or a send names it.
#[derive(Debug, Clone)]
pub struct ContactSeen<'a> {
    pub key: &'a ContactKey,
    pub phone: Option<&'a str>,
    pub name: Option<&'a str>,
    pub at: Timestamp,
}

/// A new message to move a conversation's activity forward with.
#[derive(Debug, Clone)]
pub struct MessageNote<'a> {
    pub conversation_id: i64,
    pub message_id: &'a str,
    pub at: Timestamp,
    pub inbound: bool,
    pub unread: bool,
}

/// A conversation as `ensure_conversations` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationKey {
    pub id: i64,
    pub contact_id: i64,
    pub phone_number_id: String,
    /// When the customer last wrote.
    pub last_inbound_at: Option<Timestamp>,
}

impl Tx {
    /// Creates or refreshes a contact; a known profile name is never erased by a missing one.
    pub async fn upsert_contact(
        &mut self,
        key: &ContactKey,
        phone: Option<&str>,
        name: Option<&str>,
        now: Timestamp,
    ) -> Result<i64> {
        let seen = ContactSeen {
            key,
            phone,
            name,
            at: now,
        };
        self.upsert_contacts(&[seen])
            .await?
            .pop()
            .map(|(_, id)| id)
            .ok_or_else(|| StoreError::Corrupt("contact upsert returned no row".into()))
    }

    /// Creates or refreshes many contacts with a few statements, with the same outcome as
    /// `upsert_contact` for each in turn: the first known phone stays, the latest known name
    /// wins. Returns each distinct key with its contact id.
    pub async fn upsert_contacts(
        &mut self,
        seen: &[ContactSeen<'_>],
    ) -> Result<Vec<(ContactKey, i64)>> {
        let merged = super::merge_by(
            seen.iter().cloned(),
            |s| s.key,
            |kept, later| {
                kept.phone = kept.phone.or(later.phone);
                kept.name = later.name.or(kept.name);
                kept.at = kept.at.max(later.at);
            },
        );
        let mut ids = Vec::with_capacity(merged.len());
        for column in ["wa_id", "bsuid"] {
            let rows: Vec<(&str, &ContactSeen<'_>)> = merged
                .iter()
                .filter_map(|s| match (s.key, column) {
                    (ContactKey::WaId(v), "wa_id") | (ContactKey::Bsuid(v), "bsuid") => {
                        Some((v.as_str(), s))
                    }
                    _ => None,
                })
                .collect();
            let bytes = |(value, s): &(&str, &ContactSeen<'_>)| {
                let text = value.len() + s.phone.map_or(0, str::len) + s.name.map_or(0, str::len);
                super::row_bytes(5, text)
            };
            for chunk in super::runs(self.backend(), &rows, bytes) {
                let sql = format!(
                    "INSERT INTO contacts ({column}, phone, profile_name, created_at, updated_at) \
                     VALUES {} ON CONFLICT ({column}) DO UPDATE SET \
                     phone = COALESCE(contacts.phone, excluded.phone), \
                     profile_name = COALESCE(excluded.profile_name, contacts.profile_name), \
                     updated_at = excluded.updated_at RETURNING id, {column}",
                    super::value_rows(self.backend(), chunk.len(), 5)
                );
                let returned: Vec<(i64, String)> = with_tx!(self, |c| {
                    let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
                    for (value, s) in chunk {
                        q = q
                            .bind(*value)
                            .bind(s.phone)
                            .bind(s.name)
                            .bind(s.at.0)
                            .bind(s.at.0);
                    }
                    q.fetch_all(c).await
                })?;
                ids.extend(returned.into_iter().map(|(id, value)| {
                    let key = match column {
                        "wa_id" => ContactKey::WaId(value),
                        _ => ContactKey::Bsuid(value),
                    };
                    (key, id)
                }));
            }
        }
        Ok(ids)
    }

    /// Moves a contact to a new WhatsApp id (the customer changed number), unless another
    /// contact already has it.
    pub async fn change_wa_id(
        &mut self,
        contact_id: i64,
        wa_id: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let done = with_tx!(self, |c| sqlx::query(
            "UPDATE contacts SET wa_id = $2, phone = $3, updated_at = $4 WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.wa_id = $2)"
        )
        .bind(contact_id)
        .bind(wa_id)
        .bind(format!("+{wa_id}"))
        .bind(now.0)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// The conversation of a contact with a business number, created if needed. Returns its id
    /// and when the customer last wrote.
    pub async fn ensure_conversation(
        &mut self,
        contact_id: i64,
        phone_number_id: &str,
        now: Timestamp,
    ) -> Result<(i64, Option<Timestamp>)> {
        self.ensure_conversations(&[(contact_id, phone_number_id, now)])
            .await?
            .pop()
            .map(|c| (c.id, c.last_inbound_at))
            .ok_or_else(|| StoreError::Corrupt("conversation upsert returned no row".into()))
    }

    /// `ensure_conversation` for many `(contact id, business number, first activity)` with a
    /// few statements; returns each distinct conversation.
    pub async fn ensure_conversations(
        &mut self,
        wanted: &[(i64, &str, Timestamp)],
    ) -> Result<Vec<ConversationKey>> {
        let merged = super::merge_by(
            wanted.iter().copied(),
            |&(contact, pnid, _)| (contact, pnid),
            |kept, later| kept.2 = kept.2.min(later.2),
        );
        let mut out = Vec::with_capacity(merged.len());
        for chunk in merged.chunks(super::ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO conversations (contact_id, phone_number_id, last_message_at, \
                 created_at, updated_at) VALUES {} \
                 ON CONFLICT (contact_id, phone_number_id) DO UPDATE SET \
                 updated_at = conversations.updated_at \
                 RETURNING id, contact_id, phone_number_id, last_inbound_at",
                super::value_rows(self.backend(), chunk.len(), 5)
            );
            let rows: Vec<(i64, i64, String, Option<i64>)> = with_tx!(self, |c| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
                for (contact, pnid, at) in chunk {
                    q = q
                        .bind(*contact)
                        .bind(*pnid)
                        .bind(at.0)
                        .bind(at.0)
                        .bind(at.0);
                }
                q.fetch_all(c).await
            })?;
            out.extend(
                rows.into_iter()
                    .map(|(id, contact_id, phone_number_id, last)| ConversationKey {
                        id,
                        contact_id,
                        phone_number_id,
                        last_inbound_at: last.map(Timestamp),
                    }),
            );
        }
        Ok(out)
    }

    /// Moves a conversation's activity forward for a new message. Inbound messages open the
    /// service window, reopen a resolved conversation and (when `unread`) count as unread.
    pub async fn note_message(&mut self, note: &MessageNote<'_>) -> Result<()> {
        self.note_messages(std::slice::from_ref(note)).await
    }

    /// `note_message` for many messages with a few statements, with the same outcome as
    /// noting each in turn.
    pub async fn note_messages(&mut self, notes: &[MessageNote<'_>]) -> Result<()> {
        // Per conversation: the latest message (the later one on a tie, as in turn), the
        // latest inbound time, and how many count as unread.
        struct Merged<'a> {
            id: i64,
            message_id: &'a str,
            at: i64,
            inbound_at: Option<i64>,
            unread: i64,
        }
        let merged = super::merge_by(
            notes.iter().map(|n| Merged {
                id: n.conversation_id,
                message_id: n.message_id,
                at: n.at.0,
                inbound_at: n.inbound.then_some(n.at.0),
                unread: i64::from(n.unread),
            }),
            |m| m.id,
            |kept, later| {
                if later.at >= kept.at {
                    kept.message_id = later.message_id;
                    kept.at = later.at;
                }
                kept.inbound_at = kept.inbound_at.max(later.inbound_at);
                kept.unread += later.unread;
            },
        );
        for chunk in merged.chunks(super::ROWS_PER_STATEMENT) {
            // VALUES columns are column1… on both backends.
            let sql = format!(
                "UPDATE conversations SET \
                 last_message_id = CASE WHEN v.column3 >= conversations.last_message_at \
                     OR conversations.last_message_id IS NULL \
                     THEN v.column2 ELSE conversations.last_message_id END, \
                 last_message_at = CASE WHEN v.column3 > conversations.last_message_at \
                     THEN v.column3 ELSE conversations.last_message_at END, \
                 last_inbound_at = CASE WHEN v.column4 IS NOT NULL AND \
                     (conversations.last_inbound_at IS NULL \
                      OR v.column4 > conversations.last_inbound_at) \
                     THEN v.column4 ELSE conversations.last_inbound_at END, \
                 unread_count = conversations.unread_count + v.column5, \
                 status = CASE WHEN v.column4 IS NOT NULL AND conversations.status = 'resolved' \
                     THEN 'open' ELSE conversations.status END, \
                 updated_at = v.column3 \
                 FROM (VALUES {}) AS v WHERE conversations.id = v.column1",
                super::value_rows(self.backend(), chunk.len(), 5)
            );
            with_tx!(self, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
                for m in chunk {
                    q = q
                        .bind(m.id)
                        .bind(m.message_id)
                        .bind(m.at)
                        .bind(m.inbound_at)
                        .bind(m.unread);
                }
                q.execute(c).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    pub async fn clear_unread(&mut self, conversation_id: i64) -> Result<bool> {
        let done = with_tx!(self, |c| sqlx::query(
            "UPDATE conversations SET unread_count = 0 WHERE id = $1"
        )
        .bind(conversation_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}

impl Store {
    pub async fn conversation(&self, id: i64, now: Timestamp) -> Result<Option<Conversation>> {
        let mut filter = Filter::default();
        filter.and("c.id = ?", [Arg::Int(id)]);
        Ok(self.conversations_where(filter, 1, now).await?.pop())
    }

    /// The conversation of a customer (by WhatsApp id) with a business number, if any.
    pub async fn conversation_with(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        now: Timestamp,
    ) -> Result<Option<Conversation>> {
        let mut filter = Filter::default();
        filter.and(
            "c.phone_number_id = ? AND (k.wa_id = ? OR k.phone = ?)",
            [
                Arg::Text(phone_number_id.into()),
                Arg::Text(wa_id.into()),
                Arg::Text(format!("+{wa_id}")),
            ],
        );
        Ok(self.conversations_where(filter, 1, now).await?.pop())
    }

    /// Conversations, most recent activity first.
    pub async fn list_conversations(
        &self,
        f: &ConversationFilter,
        now: Timestamp,
    ) -> Result<Vec<Conversation>> {
        let mut filter = Filter::default();
        if let Some(s) = f.status {
            filter.and("c.status = ?", [Arg::Text(s.as_str().into())]);
        }
        if let Some(a) = &f.assignee {
            filter.and("c.assignee = ?", [Arg::Text(a.clone())]);
        }
        if let Some(q) = f.query.as_deref().filter(|q| !q.trim().is_empty()) {
            let mut ids: Vec<i64> = Vec::new();
            for m in self.search_messages(q, 500).await? {
                ids.push(m.conversation_id);
            }
            let contacts: Vec<i64> = self
                .search_contacts(q, 500)
                .await?
                .iter()
                .map(|c| c.id)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let list = |v: &[i64]| {
                if v.is_empty() {
                    "NULL".to_owned()
                } else {
                    v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                }
            };
            // Integers formatted by us, not user text.
            filter.and(
                &format!(
                    "(c.id IN ({}) OR c.contact_id IN ({}))",
                    list(&ids),
                    list(&contacts)
                ),
                [],
            );
        }
        if let Some((at, id)) = f.before {
            filter.and(
                "(c.last_message_at < ? OR (c.last_message_at = ? AND c.id < ?))",
                [Arg::Int(at), Arg::Int(at), Arg::Int(id)],
            );
        }
        self.conversations_where(filter, f.limit, now).await
    }

    async fn conversations_where(
        &self,
        filter: Filter,
        limit: i64,
        now: Timestamp,
    ) -> Result<Vec<Conversation>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
             JOIN contacts k ON k.id = c.contact_id {} \
             ORDER BY c.last_message_at DESC, c.id DESC LIMIT ${}",
            filter.sql(),
            filter.next()
        );
        let rows: Vec<ConversationRow> = with_pool!(&self.read, |p| bind_all!(
            sqlx::query_as(AssertSqlSafe(sql.as_str())),
            &filter.args
        )
        .bind(limit)
        .fetch_all(p)
        .await)?;
        let ids: Vec<String> = rows
            .iter()
            .filter_map(|r| r.last_message_id.clone())
            .collect();
        let mut last = self.messages_by_ids(&ids).await?;
        rows.into_iter()
            .map(|r| {
                let m = match &r.last_message_id {
                    Some(id) => last
                        .iter()
                        .position(|m| &m.id == id)
                        .map(|i| last.swap_remove(i)),
                    None => None,
                };
                r.into_domain(m, now)
            })
            .collect()
    }
}

/// Changes to a conversation; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ConversationChange {
    pub status: Option<ConversationStatus>,
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<String>>,
    pub labels: Option<Vec<String>>,
}

impl Tx {
    /// Applies `change`; `false` if there is no such conversation.
    pub async fn update_conversation(
        &mut self,
        id: i64,
        change: &ConversationChange,
        now: Timestamp,
    ) -> Result<bool> {
        let labels = change
            .labels
            .as_ref()
            .map(|l| serde_json::to_string(l).unwrap_or_else(|_| "[]".into()));
        let done = with_tx!(self, |c| sqlx::query(
            "UPDATE conversations SET status = COALESCE($2, status), \
             assignee = CASE WHEN $3 THEN $4 ELSE assignee END, \
             labels = COALESCE($5, labels), updated_at = $6 WHERE id = $1"
        )
        .bind(id)
        .bind(change.status.map(ConversationStatus::as_str))
        .bind(change.assignee.is_some())
        .bind(change.assignee.clone().flatten())
        .bind(labels)
        .bind(now.0)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
