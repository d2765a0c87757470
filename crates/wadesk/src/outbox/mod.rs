//! Outbound pipeline: a send is validated and stored with its outbox row in one transaction
//! (`submit`), then a dispatcher per business number claims due rows, paces them and calls
//! Graph (`dispatcher`), and how sends ended is recorded in groups (`outcomes`). Nothing queued
//! is lost: a crash leaves leased rows that are retaken when the lease runs out.

mod dispatcher;
mod outcomes;
pub mod policy;
pub mod rate;
mod submit;

pub use dispatcher::Dispatcher;
pub use submit::{Outbox, SendError, SendMessage, Submitted};
