//! How much each run does: `--smoke` (the harness works), `--quick` (CI, under two minutes),
//! `--full` (the figures the README quotes).

use serde::Serialize;

/// The size of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Smoke,
    Quick,
    Full,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Smoke => "smoke",
            Self::Quick => "quick",
            Self::Full => "full",
        }
    }
}

/// One outbox run: `sends` templates at `rate` per second (0 = no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutboxRun {
    pub rate: u32,
    pub sends: usize,
}

/// Every count a run uses.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// Unique webhooks in the ingest load (and rows in its baseline).
    pub webhooks: usize,
    /// Concurrent keep-alive connections (and baseline producers).
    pub connections: usize,
    /// Customers the webhooks come from.
    pub customers: usize,
    /// Webhooks timed one at a time for the SSE latency.
    pub sse_webhooks: usize,
    /// Outbox runs: unlimited, 80/s, 1,000/s.
    pub outbox: [OutboxRun; 3],
    /// Bulk-loaded data for the read latencies and the start-up time.
    pub bulk_messages: i64,
    pub bulk_conversations: i64,
    /// Requests per read endpoint.
    pub reads: usize,
}

impl Params {
    pub fn of(mode: Mode) -> Self {
        let outbox = |unlimited, slow, fast| {
            [
                OutboxRun {
                    rate: 0,
                    sends: unlimited,
                },
                OutboxRun {
                    rate: 80,
                    sends: slow,
                },
                OutboxRun {
                    rate: 1000,
                    sends: fast,
                },
            ]
        };
        match mode {
            Mode::Smoke => Self {
                webhooks: 400,
                connections: 16,
                customers: 20,
                sse_webhooks: 10,
                outbox: outbox(100, 120, 300),
                bulk_messages: 3_000,
                bulk_conversations: 60,
                reads: 10,
            },
            Mode::Quick => Self {
                webhooks: 20_000,
                connections: 64,
                customers: 1_000,
                sse_webhooks: 200,
                outbox: outbox(2_000, 400, 3_000),
                bulk_messages: 100_000,
                bulk_conversations: 1_000,
                reads: 200,
            },
            Mode::Full => Self {
                webhooks: 100_000,
                connections: 64,
                customers: 5_000,
                sse_webhooks: 200,
                outbox: outbox(10_000, 1_600, 10_000),
                bulk_messages: 1_000_000,
                bulk_conversations: 10_000,
                reads: 200,
            },
        }
    }
}
