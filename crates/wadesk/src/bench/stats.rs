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

/// Events in sliding one-second windows of the steady phase.
///
/// Whole counts change by one wherever a window's edge passes an event, so at 80/s even a
/// perfectly paced sender shows windows of 79 and 81 (±1.25 %) once its sends jitter by a
/// microsecond. The rate in a window is therefore also measured continuously: the cumulative
/// count is interpolated linearly between events, and a window's rate is its increase over
/// the window — exactly the rate for evenly spaced events, wherever the edges fall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Windows {
    /// The most events in any window `[s, s + 1 s)`.
    pub max: usize,
    /// The fewest.
    pub min: usize,
    /// The highest continuous rate in any window.
    pub rate_max: f64,
    /// The lowest.
    pub rate_min: f64,
    /// Events per second over the steady phase.
    pub mean_rate: f64,
    /// The larger of `rate_max − rate` and `rate − rate_min`, in % of `rate`.
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
                rate_max: 0.0,
                rate_min: 0.0,
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
    // The cumulative count at `x`: k at the k-th event, linear in between.
    let cumulative = |x: f64| {
        let i = t.partition_point(|v| *v <= x);
        match i {
            0 => 0.0,
            i if i == t.len() => (t.len() - 1) as f64,
            i => {
                let (a, b) = (t[i - 1], t[i]);
                let within = if b > a { (x - a) / (b - a) } else { 0.0 };
                (i - 1) as f64 + within
            }
        }
    };
    let (mut max, mut min) = (0, usize::MAX);
    let (mut rate_max, mut rate_min) = (f64::MIN, f64::MAX);
    let steps = ((to - 1.0 - from).max(0.0) * 10_000.0).round() as usize;
    for k in 0..=steps {
        let s = from + k as f64 / 10_000.0;
        let n = count(s, s + 1.0);
        max = max.max(n);
        min = min.min(n);
        let r = cumulative(s + 1.0) - cumulative(s);
        rate_max = rate_max.max(r);
        rate_min = rate_min.min(r);
    }
    let mean_rate = count(from, to) as f64 / (to - from);
    let deviation_pct = if rate > 0.0 {
        (rate_max - rate).max(rate - rate_min).max(0.0) / rate * 100.0
    } else {
        0.0
    };
    Windows {
        max,
        min,
        rate_max,
        rate_min,
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
    fn jitter_moves_whole_counts_by_one_but_the_continuous_rate_barely() {
        // 80/s for 10 s, each send up to 1 ms late.
        let jittered: Vec<f64> = (0..800)
            .map(|k| k as f64 / 80.0 + f64::from((k * 37 % 11) as u32) / 11_000.0)
            .collect();
        let w = windows(&jittered, 80.0);
        assert!(w.max == 81 || w.min == 79, "{w:?}");
        assert!(w.deviation_pct < 0.5, "{w:?}");
        // 1 % slower shows as 1 %.
        let slow: Vec<f64> = (0..800).map(|k| k as f64 / 79.2).collect();
        let w = windows(&slow, 80.0);
        assert!((w.deviation_pct - 1.0).abs() < 0.05, "{w:?}");
    }

    #[test]
    fn an_even_rate_fills_every_window_and_a_gap_shows() {
        // 100/s for 10 s, evenly, off the 0.1 ms grid the windows start on.
        let even: Vec<f64> = std::iter::once(0.0)
            .chain((1..1000).map(|k| k as f64 / 100.0 + 0.000_03))
            .collect();
        let w = windows(&even, 100.0);
        assert_eq!((w.max, w.min), (100, 100));
        assert!(w.deviation_pct.abs() < 1e-6, "{w:?}");
        assert!((w.steady_secs - 7.99).abs() < 0.01);
        // A stall of half a second in the middle.
        let gappy: Vec<f64> = even
            .iter()
            .copied()
            .filter(|t| !(5.0..5.5).contains(t))
            .collect();
        let w = windows(&gappy, 100.0);
        assert_eq!(w.min, 50);
        assert!((w.deviation_pct - 50.0).abs() < 1.0, "{w:?}");
        // A burst at the very start is left out with the first second.
        let mut burst = even.clone();
        burst.extend([0.001; 20]);
        assert_eq!(windows(&burst, 100.0).max, 100);
    }
}
