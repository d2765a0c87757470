//! Integration tests: the real server over real HTTP, a fresh SQLite file per test, and the
//! Cloud API simulator standing in for Meta.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod db;
mod helpers;

mod api;
mod cli;
mod crash;
mod inbound;
mod outbound;
mod search;
mod webhook_edges;
