//! Pacing sends of one business number: a token bucket with a small burst, so no one-second
//! window carries more than the configured rate.

use std::time::Duration;

/// A token bucket driven by the caller's clock (milliseconds as f64 for sub-ms precision).
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Milliseconds between tokens; `None` = unlimited.
    interval_ms: Option<f64>,
    capacity: f64,
    tokens: f64,
    last_ms: f64,
}

impl Pacer {
    /// `per_second` = 0 disables pacing. A burst of `capacity` plus the steady rate must fit
    /// in any one-second window, so the interval leaves room for the burst; it is stretched by
    /// 0.2 % more so timer jitter cannot push a window over the limit. A burst of two at high
    /// rates lets a sender that overslept catch up.
    pub fn new(per_second: u32, now_ms: f64) -> Self {
        let capacity = if per_second >= 200 { 2.0 } else { 1.0 };
        let interval_ms =
            (per_second > 0).then(|| 1000.0 / (f64::from(per_second) - (capacity - 1.0)) * 1.002);
        Self {
            interval_ms,
            capacity,
            tokens: capacity,
            last_ms: now_ms,
        }
    }

    /// Takes a token at `now_ms`, or says how long to wait for one.
    pub fn try_take(&mut self, now_ms: f64) -> Result<(), Duration> {
        let Some(interval) = self.interval_ms else {
            return Ok(());
        };
        let elapsed = (now_ms - self.last_ms).max(0.0);
        self.tokens = (self.tokens + elapsed / interval).min(self.capacity);
        self.last_ms = now_ms;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait_ms = (1.0 - self.tokens) * interval;
            Err(Duration::from_micros((wait_ms * 1000.0).ceil() as u64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Simulates a sender that takes tokens as fast as allowed for `secs` seconds and returns
    /// the send times.
    fn run(rate: u32, secs: f64) -> Vec<f64> {
        let mut p = Pacer::new(rate, 0.0);
        let mut now = 0.0;
        let mut times = Vec::new();
        while now < secs * 1000.0 {
            match p.try_take(now) {
                Ok(()) => times.push(now),
                Err(wait) => now += wait.as_secs_f64() * 1000.0,
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
    fn no_window_exceeds_the_rate_and_the_rate_is_reached() {
        for rate in [1, 80, 1000] {
            let times = run(rate, 5.0);
            let max = max_in_window(&times, 1000.0);
            assert!(max <= rate as usize, "rate {rate}: {max} in one second");
            let avg = times.len() as f64 / 5.0;
            assert!(avg >= f64::from(rate) * 0.99, "rate {rate}: only {avg}/s");
        }
    }

    #[test]
    fn zero_means_unlimited() {
        let mut p = Pacer::new(0, 0.0);
        for _ in 0..10_000 {
            assert!(p.try_take(0.0).is_ok());
        }
    }
}
