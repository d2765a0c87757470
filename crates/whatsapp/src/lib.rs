//! The WhatsApp Cloud API as Meta defines it: webhook payloads, the `X-Hub-Signature-256`
//! check, the subscription handshake, send-message bodies, Graph error codes and a small Graph
//! client. This crate knows the wire format only; it knows nothing of how messages are stored.

pub mod client;
pub mod error;
pub mod handshake;
pub mod send;
pub mod signature;
pub mod webhook;

pub use client::{CallError, GraphClient};
pub use error::{ApiError, ErrorClass, GraphError};
pub use send::{Language, OutgoingContent, SendRequest, SendResponse, Template, Text};
pub use webhook::{
    InboundMessage, MessageContent, MessagesValue, Notification, Status, StatusKind,
};
