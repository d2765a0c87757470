//! What the simulator remembers about sends, and the sliding-window count benchmarks use to
//! check that a sender kept under a throughput limit.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

/// One call of the send endpoint that was a send (not a read receipt), accepted or refused.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedSend {
    /// When it was decided (arrival, or later when a slow fault held it).
    pub at: Instant,
    /// The recipient as given in the body (`to`).
    pub to: String,
    /// The request body as received (`Null` when it was not JSON).
    pub body: Value,
    /// `biz_opaque_callback_data`, if given.
    pub callback_data: Option<String>,
    /// The wamid handed out, or the Meta error code answered.
    pub outcome: Result<String, i64>,
}

impl RecordedSend {
    /// Whether the send was accepted (a wamid was returned).
    pub fn accepted(&self) -> bool {
        self.outcome.is_ok()
    }

    /// The wamid, when accepted.
    pub fn wamid(&self) -> Option<&str> {
        self.outcome.as_deref().ok()
    }

    /// The recipient's digits (the `wa_id` the simulator answered with).
    pub fn wa_id(&self) -> String {
        crate::ids::digits(&self.to)
    }
}

/// Counters for benchmarks (`GET /_sim/stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Every recorded send.
    pub sends: usize,
    /// Sends that got a wamid.
    pub accepted: usize,
    /// The most accepted sends within any one-second window.
    pub max_accepted_per_second: usize,
}

/// The largest number of `times` within any window `[t, t + window)`; exact, sliding.
pub fn max_in_window(times: &[Instant], window: Duration) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    let mut best = 0;
    let mut start = 0;
    for end in 0..sorted.len() {
        while sorted[end].duration_since(sorted[start]) >= window {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_are_exact_and_half_open() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let times = [
            at(0),
            at(100),
            at(999),
            at(1000),
            at(1500),
            at(1600),
            at(1700),
            at(2500),
        ];
        assert_eq!(max_in_window(&times, Duration::from_secs(1)), 5);
        assert_eq!(max_in_window(&times, Duration::from_millis(1)), 1);
        assert_eq!(max_in_window(&times, Duration::from_secs(3)), 8);
        assert_eq!(max_in_window(&[], Duration::from_secs(1)), 0);
        let mut shuffled = times;
        shuffled.reverse();
        assert_eq!(max_in_window(&shuffled, Duration::from_millis(1000)), 5);
    }
}
