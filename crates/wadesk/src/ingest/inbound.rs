//! Mapping an inbound Cloud API message to what the inbox stores: its kind, a text for
//! previews and search, and its structured content.

use serde_json::{Value, json};
use whatsapp::{InboundMessage, MessageContent, webhook::InteractiveReply};

use crate::domain::{MessageKind, Timestamp};

/// What ingest stores for one inbound message.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundRecord {
    pub kind: MessageKind,
    pub text: Option<String>,
    pub content: Value,
    pub reply_to: Option<String>,
    pub created_at: Timestamp,
    /// Whether it counts as unread (a "customer opened the chat" event does not).
    pub unread: bool,
    /// For `user_changed_number`: the customer's new WhatsApp id.
    pub new_wa_id: Option<String>,
}

fn some_nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn insert(content: &mut Value, key: &str, value: Value) {
    if let Some(map) = content.as_object_mut() {
        map.insert(key.to_owned(), value);
    }
}

/// Meta's timestamps are whole seconds. A message delivered live (within a few seconds) takes
/// the time we received it, kept inside its second, which orders it among our own
/// (millisecond) messages; a late delivery keeps Meta's second.
fn within_second(secs: i64, received_at: Timestamp) -> Timestamp {
    let start = Timestamp::from_unix_seconds(secs);
    if (start.0..start.0 + 5000).contains(&received_at.0) {
        Timestamp(received_at.0.min(start.0 + 999))
    } else {
        start
    }
}

/// Interprets `m`; `received_at` is used when Meta's timestamp is missing.
pub fn record_of(m: &InboundMessage, received_at: Timestamp) -> InboundRecord {
    let mut unread = true;
    let mut new_wa_id = None;
    let mut reply_to = m.context.as_ref().and_then(|c| c.id.clone());
    let (kind, text, mut content) = match m.content() {
        MessageContent::Text { body } => (
            MessageKind::Text,
            Some(body.clone()),
            json!({ "body": body }),
        ),
        MessageContent::Media { kind, media } => {
            let k = match kind.as_str() {
                "image" => MessageKind::Image,
                "video" => MessageKind::Video,
                "audio" => MessageKind::Audio,
                "document" => MessageKind::Document,
                _ => MessageKind::Sticker,
            };
            let text = some_nonempty(media.caption.as_deref());
            let mut content = serde_json::to_value(&media).unwrap_or(Value::Null);
            insert(&mut content, "attachment", json!("pending"));
            (k, text, content)
        }
        MessageContent::Location(l) => {
            let text = some_nonempty(l.name.as_deref())
                .or_else(|| some_nonempty(l.address.as_deref()))
                .unwrap_or_else(|| format!("{}, {}", l.latitude, l.longitude));
            (
                MessageKind::Location,
                Some(text),
                serde_json::to_value(&l).unwrap_or(Value::Null),
            )
        }
        MessageContent::Contacts(cards) => {
            let names: Vec<&str> = cards
                .iter()
                .filter_map(|c| c.pointer("/name/formatted_name").and_then(Value::as_str))
                .collect();
            (
                MessageKind::Contacts,
                some_nonempty(Some(&names.join(", "))),
                json!({ "contacts": cards }),
            )
        }
        MessageContent::Interactive(reply) => {
            let text = match &reply {
                InteractiveReply::ButtonReply { title, .. }
                | InteractiveReply::ListReply { title, .. } => Some(title.clone()),
                InteractiveReply::NfmReply { body, .. } => body.clone(),
            };
            (
                MessageKind::Interactive,
                text,
                serde_json::to_value(&reply).unwrap_or(Value::Null),
            )
        }
        MessageContent::Button { payload, text } => (
            MessageKind::Button,
            text.clone(),
            json!({ "payload": payload, "text": text }),
        ),
        MessageContent::Reaction { message_id, emoji } => {
            reply_to = Some(message_id.clone());
            (
                MessageKind::Reaction,
                emoji.clone(),
                json!({ "message_id": message_id, "emoji": emoji }),
            )
        }
        MessageContent::Order(order) => {
            let text = some_nonempty(order.text.as_deref())
                .or_else(|| Some(format!("Order of {} item(s)", order.product_items.len())));
            (
                MessageKind::Order,
                text,
                serde_json::to_value(&order).unwrap_or(Value::Null),
            )
        }
        MessageContent::System(event) => {
            if event.kind == "user_changed_number" {
                new_wa_id = event.wa_id.clone();
            }
            (
                MessageKind::System,
                event.body.clone(),
                serde_json::to_value(&event).unwrap_or(Value::Null),
            )
        }
        MessageContent::RequestWelcome => {
            unread = false;
            (
                MessageKind::System,
                None,
                json!({ "type": "request_welcome" }),
            )
        }
        MessageContent::Unsupported { kind } => (
            MessageKind::Unsupported,
            None,
            json!({ "type": kind, "payload": m.payloads, "errors": m.errors }),
        ),
    };
    if let Some(ctx) = &m.context
        && (ctx.forwarded || ctx.frequently_forwarded || ctx.referred_product.is_some())
    {
        insert(
            &mut content,
            "context",
            serde_json::to_value(ctx).unwrap_or(Value::Null),
        );
    }
    if let Some(referral) = &m.referral {
        insert(&mut content, "referral", referral.clone());
    }
    InboundRecord {
        kind,
        text,
        content,
        reply_to,
        created_at: m
            .timestamp
            .map_or(received_at, |secs| within_second(secs, received_at)),
        unread,
        new_wa_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_messages_keep_their_arrival_order_within_metas_second() {
        let sec = 1_767_012_345;
        let start = Timestamp::from_unix_seconds(sec).0;
        assert_eq!(
            within_second(sec, Timestamp(start + 420)),
            Timestamp(start + 420)
        );
        assert_eq!(
            within_second(sec, Timestamp(start + 1800)),
            Timestamp(start + 999)
        );
        assert_eq!(
            within_second(sec, Timestamp(start + 60_000)),
            Timestamp(start),
            "late delivery"
        );
        assert_eq!(
            within_second(sec, Timestamp(start - 5)),
            Timestamp(start),
            "our clock behind"
        );
    }
}
