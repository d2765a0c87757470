//! Conversations, contacts and the 24-hour customer service window.

use serde::Serialize;

use super::{Message, Timestamp, message::string_enum};

/// The customer service window: free-form messages are allowed for 24 hours after the
/// customer's last message; outside it only templates.
pub const SERVICE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// End of the window opened by the customer's last message, or `None` if it is closed at `now`.
pub fn window_open_until(last_inbound_at: Option<Timestamp>, now: Timestamp) -> Option<Timestamp> {
    let until = last_inbound_at?.plus_millis(SERVICE_WINDOW_MS);
    (until > now).then_some(until)
}

string_enum! {
    ConversationStatus { Open = "open", Pending = "pending", Resolved = "resolved" }
}

/// A customer, known by WhatsApp id and/or business-scoped user id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: i64,
    pub wa_id: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bsuid: Option<String>,
}

/// One customer's thread with one business number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversation {
    pub id: i64,
    pub phone_number_id: String,
    pub contact: Contact,
    pub status: ConversationStatus,
    pub assignee: Option<String>,
    pub labels: Vec<String>,
    pub unread_count: i64,
    pub last_message: Option<Message>,
    pub last_message_at: Timestamp,
    pub last_inbound_at: Option<Timestamp>,
    pub window_open_until: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_open_for_24_hours_after_the_last_inbound_message() {
        let last = Timestamp(1_000_000);
        let just_inside = last.plus_millis(SERVICE_WINDOW_MS - 1);
        assert_eq!(
            window_open_until(Some(last), just_inside),
            Some(last.plus_millis(SERVICE_WINDOW_MS))
        );
        assert_eq!(
            window_open_until(Some(last), last.plus_millis(SERVICE_WINDOW_MS)),
            None
        );
        assert_eq!(window_open_until(None, last), None);
    }
}
