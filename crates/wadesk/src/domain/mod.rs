//! Pure types and rules of the inbox: messages and their delivery status, conversations,
//! contacts, phone numbers, the customer service window. No I/O, no async, nothing of the
//! project's other layers; everything here is testable with plain values.

mod conversation;
mod message;
mod phone;
mod time;

pub use conversation::{
    Contact, Conversation, ConversationStatus, SERVICE_WINDOW_MS, window_open_until,
};
pub use message::{
    DeliveryState, DeliveryStatus, Direction, Message, MessageError, MessageKind, StatusUpdate,
};
pub use phone::{PhoneError, PhoneNumber};
pub use time::Timestamp;
