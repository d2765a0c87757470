//! wadesk: a self-hosted WhatsApp Business support inbox.

pub mod app;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod group;
pub mod http;
pub mod inbox;
pub mod ingest;
pub mod outbox;
pub mod realtime;
pub mod state;
pub mod store;
pub mod ui;
