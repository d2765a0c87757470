//! Integration tests: the real server over real HTTP, a fresh SQLite file per test, and the
//! Cloud API simulator standing in for Meta.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod db;
mod helpers;
mod process;

mod accounts;
mod api;
mod bench;
mod cli;
mod cluster;
mod compat_django;
mod compat_plugin;
mod crash;
mod e2e;
mod inbound;
mod journal_file;
mod outbound;
mod outbox_admin;
mod pg_outage;
mod realtime;
mod search;
mod webhook_edges;
