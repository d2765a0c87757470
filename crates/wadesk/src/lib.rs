//! wadesk: a self-hosted WhatsApp Business support inbox.

pub mod clock;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod ingest;
pub mod realtime;
pub mod store;
