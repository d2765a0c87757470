//! One integration-test binary: real HTTP on 127.0.0.1, port 0, per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod faults;
mod payloads;
mod sends;
mod support;
mod webhooks;
