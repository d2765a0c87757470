//! Messages and the delivery-status state machine.
//!
//! Outbound: `queued → accepted → sent → delivered → read → played`, or `failed`. The rank only
//! rises, so a late `sent` never overwrites `read`, and duplicates change nothing. `failed` sits
//! between `sent` and `delivered`: it overrides `sent`, but a `delivered` from another device of
//! the customer (seen in the field after `failed`) wins. Inbound: `received`, then `read`.

use serde::Serialize;
use serde_json::Value;

use super::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "inbound" => Some(Self::Inbound),
            "outbound" => Some(Self::Outbound),
            _ => None,
        }
    }
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// What a message is. Inbound types Meta adds later are kept as `Unsupported`.
    MessageKind {
        Text = "text", Image = "image", Audio = "audio", Video = "video",
        Document = "document", Sticker = "sticker", Location = "location",
        Contacts = "contacts", Interactive = "interactive", Button = "button",
        Reaction = "reaction", Order = "order", Template = "template",
        System = "system", Unsupported = "unsupported",
    }
}

string_enum! {
    /// Where a message stands. See the module docs for the order.
    DeliveryStatus {
        Received = "received", Queued = "queued", Accepted = "accepted", Sent = "sent",
        Failed = "failed", Delivered = "delivered", Read = "read", Played = "played",
    }
}

impl DeliveryStatus {
    /// Position in the one-way order; a status only ever moves to a higher rank.
    pub fn rank(self) -> u8 {
        match self {
            Self::Received | Self::Queued => 0,
            Self::Accepted => 1,
            Self::Sent => 2,
            Self::Failed => 3,
            Self::Delivered => 4,
            Self::Read => 5,
            Self::Played => 6,
        }
    }
}

/// Meta's error on a failed message (or ours, for failures before Meta saw it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageError {
    pub code: i64,
    pub title: String,
    pub detail: Option<String>,
}

/// One status report for a message: from a status webhook, or from our own send attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub status: DeliveryStatus,
    pub at: Timestamp,
    pub error: Option<MessageError>,
}

/// The derived delivery state of a message: its status and when each stage was reached.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeliveryState {
    pub status: Option<DeliveryStatus>,
    pub status_updated_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
    pub played_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
    pub error: Option<MessageError>,
}

impl DeliveryState {
    /// Folds one update in; returns whether anything changed. Each stage keeps the earliest
    /// time any report shows it reached; the status itself only rises. `read` and `played`
    /// imply `delivered` and `sent`, which may never be reported when the customer reads at once.
    pub fn apply(&mut self, update: &StatusUpdate) -> bool {
        let before = self.clone();
        let at = update.at;
        let stamp = |slot: &mut Option<Timestamp>| {
            *slot = Some(slot.map_or(at, |t| t.min(at)));
        };
        match update.status {
            DeliveryStatus::Sent => stamp(&mut self.sent_at),
            DeliveryStatus::Delivered => stamp(&mut self.delivered_at),
            DeliveryStatus::Read => stamp(&mut self.read_at),
            DeliveryStatus::Played => stamp(&mut self.played_at),
            DeliveryStatus::Failed => stamp(&mut self.failed_at),
            _ => {}
        }
        let rank = update.status.rank();
        if rank >= DeliveryStatus::Delivered.rank() {
            stamp(&mut self.sent_at);
            stamp(&mut self.delivered_at);
        }
        if rank >= DeliveryStatus::Read.rank() && update.status != DeliveryStatus::Read {
            stamp(&mut self.read_at);
        }
        let current = self.status.map_or(0, DeliveryStatus::rank);
        if self.status.is_none() || rank > current {
            self.status = Some(update.status);
            self.status_updated_at = Some(at);
            self.error = if update.status == DeliveryStatus::Failed {
                update.error.clone()
            } else {
                None
            };
        }
        *self != before
    }
}

/// A message in a conversation, either direction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Ours: a UUIDv7, so ids sort by creation time.
    pub id: String,
    /// Meta's id; `None` for an outbound message Graph has not accepted yet.
    pub wamid: Option<String>,
    pub conversation_id: i64,
    pub direction: Direction,
    pub kind: MessageKind,
    /// Text, caption or a short rendering of the content, for previews and search.
    pub text: Option<String>,
    /// Kind-specific structure, as received or as sent.
    pub content: Value,
    pub status: DeliveryStatus,
    pub error: Option<MessageError>,
    /// The wamid this message replies to or reacts to.
    pub reply_to: Option<String>,
    /// Who wrote an outbound message (`token:<name>` or `user:<name>`).
    pub author: Option<String>,
    pub created_at: Timestamp,
    pub status_updated_at: Timestamp,
    #[serde(skip)]
    pub delivery: DeliveryState,
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus::*;

    fn update(status: DeliveryStatus, secs: i64) -> StatusUpdate {
        StatusUpdate {
            status,
            at: Timestamp::from_unix_seconds(secs),
            error: (status == Failed).then(|| MessageError {
                code: 131047,
                title: "Re-engagement message".into(),
                detail: None,
            }),
        }
    }

    fn fold(start: DeliveryStatus, updates: &[(DeliveryStatus, i64)]) -> DeliveryState {
        let mut state = DeliveryState {
            status: Some(start),
            ..DeliveryState::default()
        };
        for (s, t) in updates {
            state.apply(&update(*s, *t));
        }
        state
    }

    #[test]
    fn status_only_rises_whatever_the_arrival_order() {
        let s = fold(Accepted, &[(Read, 3), (Sent, 1), (Delivered, 2)]);
        assert_eq!(s.status, Some(Read));
        assert_eq!(s.status_updated_at, Some(Timestamp::from_unix_seconds(3)));
        assert_eq!(s.sent_at, Some(Timestamp::from_unix_seconds(1)));
        assert_eq!(
            s.delivered_at,
            Some(Timestamp::from_unix_seconds(2)),
            "the delivered report beats the time implied by read"
        );
    }

    #[test]
    fn read_implies_delivered_and_duplicates_change_nothing() {
        let mut s = fold(Accepted, &[(Sent, 1), (Read, 5)]);
        assert_eq!(s.delivered_at, Some(Timestamp::from_unix_seconds(5)));
        assert!(!s.apply(&update(Read, 5)));
        assert!(!s.apply(&update(Sent, 1)));
    }

    #[test]
    fn failed_overrides_sent_but_not_delivered() {
        let s = fold(Accepted, &[(Sent, 1), (Failed, 2)]);
        assert_eq!(s.status, Some(Failed));
        assert_eq!(s.error.as_ref().map(|e| e.code), Some(131047));
        let s = fold(Accepted, &[(Delivered, 1), (Failed, 2)]);
        assert_eq!(s.status, Some(Delivered));
        assert_eq!(s.error, None);
        let s = fold(Accepted, &[(Failed, 1), (Delivered, 2)]);
        assert_eq!(
            s.status,
            Some(Delivered),
            "another device delivered it after all"
        );
        assert_eq!(s.error, None);
    }

    #[test]
    fn kinds_and_statuses_round_trip_their_names() {
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.as_str()), Some(*k));
        }
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(s.as_str()), Some(*s));
        }
    }
}
