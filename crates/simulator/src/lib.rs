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
mod sim;
mod statuses;
mod validate;

pub use catalogue::{graph_error, status_error};
pub use config::{Config, StatusPlan};
pub use delivery::{Delivery, DeliveryError};
pub use escape::{escape_non_ascii, to_meta_json};
pub use fault::Fault;
pub use media::MediaFile;
pub use sim::{RecordedSend, Simulator, Stats, max_in_window};
