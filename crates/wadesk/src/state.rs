//! The application state: handles shared by every request and task, built once in `app`.

use std::sync::Arc;

use whatsapp::GraphClient;

use crate::{
    auth::Throttle, clock::Clock, config::Config, ingest::JournalWriter, outbox::Outbox,
    realtime::Bus, store::Store,
};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub bus: Bus,
    pub journal: JournalWriter,
    pub outbox: Outbox,
    pub graph: GraphClient,
    pub throttle: Arc<Throttle>,
    /// Whether this instance runs the outbox dispatcher now (one instance per number does).
    pub dispatching: Arc<std::sync::atomic::AtomicBool>,
}
