//! Pacing sends of one business number. Sends are scheduled one interval apart (a generic
//! cell-rate schedule) a little slower than the configured rate: a sender that wakes late is
//! not penalised — the schedule, not the wake-up, sets the next slot, and a few milliseconds of
//! lateness are made up — but one that was idle does not bank a burst. A window over the last
//! `rate` calls then makes sure Meta never receives more than the rate in one second, whatever
//! happens between a call starting and arriving (a new connection, a late task).

use std::{collections::VecDeque, time::Duration};

/// How much slower than the configured rate the schedule runs: 3 ms a second.
const MARGIN: f64 = 0.003;

/// Lateness the schedule makes up: a busy machine delays the sender by a few milliseconds now
/// and then, and each delay not made up is lost from its second. A send made up early cannot
/// crowd a second at Meta: the window holds it back.
const CATCH_UP_MS: f64 = 8.0;

/// The send schedule, driven by the caller's clock (milliseconds as f64 for sub-ms precision).
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Milliseconds between sends; `None` = unlimited.
    interval_ms: Option<f64>,
    /// When the next send may go.
    next_ms: f64,
}

impl Pacer {
    /// `per_second` = 0 disables pacing. The interval is stretched by the margin (3 ms a
    /// second), so the window rarely has to hold a send back.
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

    /// The sender waited for work to send until `now_ms`: that is not lateness to make up.
    /// Made up, it would send a burst (8 sends at 1,000/s when a campaign begins) whose calls
    /// end together, and a second later the window would hold their successors back — a
    /// stall that comes back every second.
    pub fn resume(&mut self, now_ms: f64) {
        self.next_ms = self.next_ms.max(now_ms);
    }
}

/// What the one-second window says about starting the next send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Start {
    Now,
    /// At this time (ms, the caller's clock).
    At(f64),
    /// When the send `per_second` sends back has ended (Meta may not have received it yet),
    /// or at this time at the latest.
    AfterAnEnd(f64),
}

/// A call still unanswered this long after it started is taken to have reached Meta by then,
/// so one hung connection cannot stop sending for its whole timeout.
const LONGEST_TRANSIT_MS: f64 = 2000.0;

/// Which send a ticket is for, to record its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

/// A guarantee on what Meta sees, whatever happens between a send leaving and arriving (a new
/// connection, a slow network, a late task). Meta receives each send while its call is under
/// way; the shortest call seen so far is latency every call has, part before Meta receives it
/// and the rest after. So a send that starts at least a second after the send `per_second`
/// before it ended, less the shortest call, cannot make `per_second + 1` arrivals in one
/// second. What this costs is the calls' jitter, not their latency; as the schedule is a little
/// slower than the rate, it only holds a send back after an unusually slow call.
#[derive(Debug, Clone)]
pub struct Window {
    per_second: usize,
    /// Start and end times of the last `per_second` sends, oldest first (no end while in
    /// flight).
    calls: VecDeque<(f64, Option<f64>)>,
    /// The ticket of `calls[0]`.
    first: u64,
    /// The shortest call that ended (0 until one did).
    shortest_ms: Option<f64>,
}

impl Window {
    /// `per_second` = 0: no window.
    pub fn new(per_second: u32) -> Self {
        let per_second = usize::try_from(per_second).unwrap_or(usize::MAX);
        Self {
            per_second,
            calls: VecDeque::with_capacity(per_second.min(4096)),
            first: 0,
            shortest_ms: None,
        }
    }

    /// Whether a send may start at `now_ms`.
    pub fn start(&self, now_ms: f64) -> Start {
        if self.per_second == 0 || self.calls.len() < self.per_second {
            return Start::Now;
        }
        let Some(&(started, ended)) = self.calls.front() else {
            return Start::Now;
        };
        let latest = started + LONGEST_TRANSIT_MS + 1000.0;
        let after_end = |end: f64| end - self.shortest_ms.unwrap_or(0.0) + 1000.0;
        match ended {
            _ if now_ms >= latest => Start::Now,
            None => Start::AfterAnEnd(latest),
            Some(end) if now_ms >= after_end(end) => Start::Now,
            Some(end) => Start::At(after_end(end)),
        }
    }

    /// Records that a send started at `now_ms` (after `start` said `Now`).
    pub fn begin(&mut self, now_ms: f64) -> Ticket {
        let ticket = Ticket(self.first + self.calls.len() as u64);
        if self.per_second == 0 {
            return ticket;
        }
        if self.calls.len() == self.per_second {
            self.calls.pop_front();
            self.first += 1;
        }
        self.calls.push_back((now_ms, None));
        ticket
    }

    /// Records that the call of `ticket` ended at `now_ms`.
    pub fn end(&mut self, ticket: Ticket, now_ms: f64) {
        let Some(i) = ticket.0.checked_sub(self.first) else {
            return;
        };
        if let Some((started, end)) = usize::try_from(i).ok().and_then(|i| self.calls.get_mut(i)) {
            *end = Some(now_ms);
            let took = (now_ms - *started).max(0.0);
            self.shortest_ms = Some(self.shortest_ms.map_or(took, |s| s.min(took)));
        }
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
    fn a_sender_that_waited_for_work_sends_no_burst() {
        // The first send is ready 10 ms after the pacer started (a claim): it goes at once,
        // the next a whole interval later.
        let mut p = Pacer::new(1000, 0.0);
        p.resume(10.0);
        assert!(p.try_take(10.0).is_ok());
        assert!(p.try_take(10.0).is_err(), "no second send at once");
        assert!(p.try_take(10.0 + (1.0 + MARGIN)).is_ok());
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

    #[test]
    fn a_send_waits_a_second_after_the_end_of_the_send_a_rate_before() {
        let mut w = Window::new(3);
        let t: Vec<Ticket> = [0.0, 10.0, 20.0].iter().map(|&at| w.begin(at)).collect();
        let latest = LONGEST_TRANSIT_MS + 1000.0;
        assert_eq!(
            w.start(21.0),
            Start::AfterAnEnd(latest),
            "the first is in flight"
        );
        w.end(t[1], 40.0);
        w.end(t[2], 25.0);
        assert_eq!(
            w.start(50.0),
            Start::AfterAnEnd(latest),
            "the oldest counts"
        );
        // The first took 130 ms (a new connection), the shortest 5 ms: the fourth waits until
        // a second after the first ended, less the 5 ms every call takes.
        w.end(t[0], 130.0);
        assert_eq!(w.start(50.0), Start::At(1125.0));
        assert_eq!(w.start(1125.0), Start::Now);
        w.begin(1125.0);
        // Then the second counts: it ended at 40.
        assert_eq!(w.start(1030.0), Start::At(1035.0));
        assert_eq!(w.start(1125.0), Start::Now);
    }

    #[test]
    fn a_hung_call_holds_sending_back_only_so_long() {
        let mut w = Window::new(2);
        w.begin(0.0);
        let second = w.begin(5.0);
        w.end(second, 6.0);
        let latest = LONGEST_TRANSIT_MS + 1000.0;
        assert_eq!(w.start(1500.0), Start::AfterAnEnd(latest));
        assert_eq!(w.start(latest), Start::Now);
    }

    #[test]
    fn the_window_stays_out_of_the_way_of_calls_that_end_quickly() {
        // Sends paced at the schedule with 1 ms calls never wait for the window.
        let mut p = Pacer::new(80, 0.0);
        let mut w = Window::new(80);
        let mut now = 0.0;
        for _ in 0..1000 {
            while let Err(wait) = p.try_take(now) {
                now += wait.as_secs_f64() * 1000.0;
            }
            assert_eq!(w.start(now), Start::Now, "at {now}");
            let t = w.begin(now);
            w.end(t, now + 1.0);
        }
    }

    #[test]
    fn no_window_no_waiting() {
        let mut w = Window::new(0);
        for _ in 0..10 {
            assert_eq!(w.start(0.0), Start::Now);
            w.begin(0.0);
        }
    }

    /// A sender whose wake-ups are up to `late_ms` late and whose calls take `base_ms` plus up
    /// to `jitter_ms`; Meta receives each call half its base latency after it started plus a
    /// random part of its jitter. Returns receipt times.
    fn paced_and_windowed(rate: u32, late_ms: f64, base_ms: f64, jitter_ms: f64) -> Vec<f64> {
        let mut p = Pacer::new(rate, 0.0);
        let mut w = Window::new(rate);
        let mut rng = 7u64;
        let mut random = move || {
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (rng >> 33) as f64 / f64::from(1u32 << 31)
        };
        let (mut now, mut receipts) = (0.0, Vec::new());
        let mut calls: Vec<(Ticket, f64)> = Vec::new();
        while now < 10_000.0 {
            // Calls that ended by now are known to the window.
            calls.retain(|&(t, end)| {
                if end <= now {
                    w.end(t, end);
                }
                end > now
            });
            let next_end = calls.iter().map(|c| c.1).fold(f64::INFINITY, f64::min);
            match w.start(now) {
                Start::At(at) => now = at + random() * late_ms,
                Start::AfterAnEnd(latest) => now = next_end.min(latest),
                Start::Now => match p.try_take(now) {
                    Err(wait) => now += wait.as_secs_f64() * 1000.0 + random() * late_ms,
                    Ok(()) => {
                        let jitter = random() * jitter_ms;
                        receipts.push(now + base_ms / 2.0 + random() * jitter);
                        calls.push((w.begin(now), now + base_ms + jitter));
                    }
                },
            }
        }
        receipts.sort_by(f64::total_cmp);
        receipts
    }

    #[test]
    fn late_wake_ups_and_slow_calls_never_crowd_a_second_at_meta() {
        // (rate, wake-up lateness, base latency, jitter, the least share of the rate kept):
        // the window costs about the calls' jitter, not their latency.
        let cases = [
            (80, 1.0, 1.0, 1.0, 0.99),
            (80, 6.0, 250.0, 4.0, 0.99),
            (80, 12.0, 300.0, 30.0, 0.95),
            (1000, 1.0, 1.0, 1.0, 0.99),
            (1000, 2.0, 250.0, 4.0, 0.99),
            (1000, 3.0, 300.0, 30.0, 0.95),
        ];
        for (rate, late, base, jitter, kept) in cases {
            let times = paced_and_windowed(rate, late, base, jitter);
            let case = format!("rate {rate}, late {late}, latency {base} + {jitter}");
            let max = max_in_window(&times, 1000.0);
            assert!(max <= rate as usize, "{case}: {max} in one second");
            let avg = times.len() as f64 / 10.0;
            assert!(avg >= f64::from(rate) * kept, "{case}: only {avg}/s");
        }
    }
}
