//! Summaries of measured samples: latency percentiles, and how evenly timed events keep to a
//! rate in sliding one-second windows.

use std::time::Duration;

/// The `p`-th percentile (0–100) by nearest rank; 0 for no samples.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds, fractional.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Counts of events in sliding one-second windows of the steady phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Windows {
    /// The most events in any window `[s, s + 1 s)`.
    pub max: usize,
    /// The fewest.
    pub min: usize,
    /// Events per second over the steady phase.
    pub mean_rate: f64,
    /// The larger of `max − rate` and `rate − min`, in % of `rate`.
    pub deviation_pct: f64,
    /// Seconds of the steady phase the windows slide over.
    pub steady_secs: f64,
}

/// Slides a one-second window in 0.1 ms steps over the events at `times` (seconds, any order),
/// leaving out the first and the last second (start-up and draining). When the run is shorter
/// than three seconds the whole run is used instead.
pub fn windows(times: &[f64], rate: f64) -> Windows {
    let mut t = times.to_vec();
    t.sort_unstable_by(f64::total_cmp);
    let (first, last) = match (t.first(), t.last()) {
        (Some(f), Some(l)) => (*f, *l),
        _ => {
            return Windows {
                max: 0,
                min: 0,
                mean_rate: 0.0,
                deviation_pct: 100.0,
                steady_secs: 0.0,
            };
        }
    };
    let (from, to) = if last - first >= 3.0 {
        (first + 1.0, last - 1.0)
    } else {
        (first, last.max(first + 1.0))
    };
    let count = |a: f64, b: f64| t.partition_point(|x| *x < b) - t.partition_point(|x| *x < a);
    let (mut max, mut min) = (0, usize::MAX);
    let steps = ((to - 1.0 - from).max(0.0) * 10_000.0).round() as usize;
    for k in 0..=steps {
        let s = from + k as f64 / 10_000.0;
        let n = count(s, s + 1.0);
        max = max.max(n);
        min = min.min(n);
    }
    let mean_rate = count(from, to) as f64 / (to - from);
    let deviation_pct = if rate > 0.0 {
        (max as f64 - rate).max(rate - min as f64).max(0.0) / rate * 100.0
    } else {
        0.0
    };
    Windows {
        max,
        min,
        mean_rate,
        deviation_pct,
        steady_secs: to - from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let s: Vec<Duration> = (1..=200).map(Duration::from_millis).collect();
        assert_eq!(percentile(&s, 50.0), Duration::from_millis(100));
        assert_eq!(percentile(&s, 99.0), Duration::from_millis(198));
        assert_eq!(percentile(&s, 100.0), Duration::from_millis(200));
        assert_eq!(percentile(&[], 99.0), Duration::ZERO);
    }

    #[test]
    fn an_even_rate_fills_every_window_and_a_gap_shows() {
        // 100/s for 10 s, evenly, off the 0.1 ms grid the windows start on.
        let even: Vec<f64> = std::iter::once(0.0)
            .chain((1..1000).map(|k| k as f64 / 100.0 + 0.000_03))
            .collect();
        let w = windows(&even, 100.0);
        assert_eq!((w.max, w.min), (100, 100));
        assert!(w.deviation_pct.abs() < 1e-9);
        assert!((w.steady_secs - 7.99).abs() < 0.01);
        // A stall of half a second in the middle.
        let gappy: Vec<f64> = even
            .iter()
            .copied()
            .filter(|t| !(5.0..5.5).contains(t))
            .collect();
        let w = windows(&gappy, 100.0);
        assert_eq!(w.min, 50);
        assert!((w.deviation_pct - 50.0).abs() < 1e-9);
        // A burst at the very start is left out with the first second.
        let mut burst = even.clone();
        burst.extend([0.001; 20]);
        assert_eq!(windows(&burst, 100.0).max, 100);
    }
}
