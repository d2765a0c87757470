//! Outbound pipeline: a send is validated and stored with its outbox row in one transaction
//! (`submit`), then a dispatcher per business number claims due rows, paces them, calls Graph
//! and records the outcome (`dispatcher`). Nothing queued is lost: a crash leaves leased rows
//! that are retaken when the lease runs out.

mod dispatcher;
pub mod policy;
pub mod rate;
mod submit;

pub use dispatcher::Dispatcher;
pub use submit::{Outbox, SendError, SendMessage, Submitted};
