//! A fake WhatsApp Cloud API over real HTTP, standing in for Meta in wadesk's tests, benchmarks
//! and demo.
//!
//! It serves the Graph endpoints an inbox calls (`POST /{version}/{phone-number-id}/messages` for
//! sends and read receipts, `GET /{version}/{media-id}` and the media download), answers them the
//! way the Cloud API documentation says (wamids, Graph error bodies, rate limits), and posts
//! signed webhooks back: `sent`/`delivered`/`read`/`failed` statuses for accepted sends and inbound
//! messages of every type built with [`payload`]. Faults, slowness and throughput limits can be
//! injected from Rust or over HTTP under `/_sim/…`.
//!
//! It owns no persistence and knows nothing of wadesk; the wire types come from the `whatsapp`
//! crate so both sides agree on the protocol.

mod catalogue;
mod config;
mod control;
pub mod customers;
mod delivery;
mod escape;
mod fault;
mod graph;
mod ids;
mod media;
pub mod payload;
mod record;
mod sim;
mod statuses;
mod validate;

pub use catalogue::{ERROR_HREF, graph_error, status_error};
pub use config::{
    Config, DEFAULT_DISPLAY_PHONE_NUMBER, DEFAULT_PHONE_NUMBER_ID, DEFAULT_WABA_ID, StatusPlan,
};
pub use delivery::{Delivery, DeliveryError, RETRY_ATTEMPTS, RETRY_FIRST_DELAY};
pub use escape::{escape_non_ascii, to_meta_json};
pub use fault::Fault;
pub use media::MediaFile;
pub use record::{RecordedSend, Stats, max_in_window};
pub use sim::Simulator;
