//! Pacing sends of one business number: sends are scheduled one interval apart (a generic
//! cell-rate schedule). A sender that wakes a little late is not penalised — the schedule, not
//! the wake-up, sets the next slot — but one that was idle does not bank a burst, so no
//! one-second window carries more than the configured rate.

use std::time::Duration;

/// How much slower than the configured rate the schedule runs: 6 ms a second.
const MARGIN: f64 = 0.006;

/// Lateness the schedule makes up. Sends delayed by at most this much cannot crowd a window
/// beyond the margin of the interval (4 ms are left for jitter between a send leaving and
/// reaching Meta).
const CATCH_UP_MS: f64 = 2.0;

/// The send schedule, driven by the caller's clock (milliseconds as f64 for sub-ms precision).
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Milliseconds between sends; `None` = unlimited.
    interval_ms: Option<f64>,
    /// When the next send may go.
    next_ms: f64,
}

impl Pacer {
    /// `per_second` = 0 disables pacing. The interval is stretched by the margin (6 ms a
    /// second): more than the lateness the schedule makes up plus the jitter between a send
    /// leaving and arriving, so Meta never sees a window over the limit.
    pub fn new(per_second: u32, now_ms: f64) -> Self {
        let interval_ms = (per_second > 0).then(|| 1000.0 / f64::from(per_second) * (1.0 + MARGIN));
        Self {
            interval_ms,
            next_ms: now_ms,
        }
    }

    /// Takes the next slot at `now_ms`, or says how long to wait for it.
    pub fn try_take(&mut self, now_ms: f64) -> Result<(), Duration> {
        let Some(interval) = self.interval_ms else {
            return Ok(());
        };
        if now_ms < self.next_ms {
            return Err(Duration::from_micros(
                ((self.next_ms - now_ms) * 1000.0).ceil() as u64,
            ));
        }
        // Short lateness (timer ticks, a claim query) is made up; of a longer one (the sender
        // was idle or stalled) only that much, so no catch-up burst follows.
        self.next_ms = self.next_ms.max(now_ms - CATCH_UP_MS);
        self.next_ms += interval;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Simulates a sender that takes slots as fast as allowed for `secs` seconds, whose
    /// timer wakes up to `late_ms` after the asked time (like a millisecond-tick timer), and
    /// returns the send times.
    fn run(rate: u32, secs: f64, late_ms: f64) -> Vec<f64> {
        let mut p = Pacer::new(rate, 0.0);
        let mut now = 0.0;
        let mut times = Vec::new();
        let mut k = 0u32;
        while now < secs * 1000.0 {
            match p.try_take(now) {
                Ok(()) => times.push(now),
                Err(wait) => {
                    // Deterministic lateness between 0 and late_ms.
                    k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    let jitter = f64::from(k % 1000) / 1000.0 * late_ms;
                    now += wait.as_secs_f64() * 1000.0 + jitter;
                }
            }
        }
        times
    }

    fn max_in_window(times: &[f64], window_ms: f64) -> usize {
        let mut best = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] >= window_ms {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }

    #[test]
    fn no_window_exceeds_the_rate_and_late_wake_ups_do_not_slow_it() {
        for rate in [1, 80, 1000] {
            for late_ms in [0.0, 1.0, 2.0] {
                let times = run(rate, 10.0, late_ms);
                let max = max_in_window(&times, 1000.0);
                assert!(
                    max <= rate as usize,
                    "rate {rate}, late {late_ms}: {max} in one second"
                );
                let avg = times.len() as f64 / 10.0;
                assert!(
                    avg >= f64::from(rate) * 0.993,
                    "rate {rate}, late {late_ms}: only {avg}/s"
                );
            }
        }
    }

    #[test]
    fn an_idle_sender_does_not_bank_a_burst() {
        let mut p = Pacer::new(10, 0.0);
        assert!(p.try_take(0.0).is_ok());
        assert!(p.try_take(5_000.0).is_ok(), "after five idle seconds");
        assert!(p.try_take(5_000.0).is_err(), "but only one at once");
    }

    #[test]
    fn a_long_stall_is_made_up_in_part() {
        let mut p = Pacer::new(80, 0.0);
        let interval = 1000.0 / 80.0 * (1.0 + MARGIN);
        assert!(p.try_take(0.0).is_ok());
        // 20 ms late for the second slot: 2 ms of it are made up.
        let late = interval + 20.0;
        assert!(p.try_take(late).is_ok());
        let next = late - CATCH_UP_MS + interval;
        assert!(p.try_take(next - 0.1).is_err());
        assert!(p.try_take(next).is_ok());
    }

    #[test]
    fn zero_means_unlimited() {
        let mut p = Pacer::new(0, 0.0);
        for _ in 0..10_000 {
            assert!(p.try_take(0.0).is_ok());
        }
    }
}
