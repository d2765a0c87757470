//! Inbound pipeline: webhook bodies are journaled (group commit) before the 200, then a
//! processor applies them — every entry, change, message and status — one transaction per
//! batch with a savepoint per body, so one bad body is kept with its error and retried without
//! holding up the rest.

mod apply;
mod inbound;
mod journal;
mod processor;

pub use apply::{ApplyError, ParsedBody, apply_bodies, parse_body};
pub use inbound::{InboundRecord, record_of};
pub use journal::{JournalError, JournalWriter};
pub use processor::{Processor, retry_delay};
