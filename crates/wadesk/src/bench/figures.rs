//! Turning measurements into figures, with the targets of issue 6 beside them. Targets are
//! reported, never enforced: a missed one is a finding, not a failed run.

use std::time::Duration;

use super::{
    baseline::Baseline,
    corpus::SEARCH_WORD,
    ingest::{IngestResult, Posted},
    outbox::OutboxResult,
    params::Params,
    reads::{BulkResult, ReadResult},
    report::{Figure, Reference, number},
    stats::{ms, percentile},
    statuses::StatusResult,
};
use crate::store::Backend;

/// Everything one run measured.
#[derive(Debug, Default)]
pub struct Results {
    pub baseline: Baseline,
    /// The same requests answered by a bare handler.
    pub floor: Option<Posted>,
    pub ingest: Option<IngestResult>,
    pub idle_rss_kib: u64,
    pub sse: Vec<Duration>,
    pub outbox: Vec<OutboxResult>,
    pub statuses: Option<StatusResult>,
    pub bulk: Option<BulkResult>,
    pub startup: Duration,
    pub bulk_idle_rss_kib: u64,
    pub reads: ReadResult,
}

/// The figures of one run, in table order.
struct Figures(Vec<Figure>);

impl Figures {
    fn add(&mut self, key: &'static str, label: impl Into<String>, value: f64, unit: &'static str) {
        self.0.push(Figure::new(key, label, value, unit));
    }

    fn against(&mut self, reference: Reference) {
        if let Some(last) = self.0.pop() {
            self.0.push(last.against(reference));
        }
    }

    /// `p50` and `p99` of `samples` (the p99 with the whole distribution in the JSON), the p99
    /// held to `target` ms.
    fn latency(&mut self, keys: [&'static str; 2], label: &str, samples: &[Duration], target: f64) {
        let at = |q| ms(percentile(samples, q));
        self.add(keys[0], format!("{label}: p50"), at(50.0), "ms");
        let p99 = Figure::new(keys[1], format!("{label}: p99"), at(99.0), "ms");
        self.0
            .push(p99.spread(samples).against(Reference::AtMost(target)));
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn count(n: usize) -> String {
    number(n as f64, "")
}

/// The figures of `r`, in table order.
pub fn figures(r: &Results, backend: Backend, params: &Params) -> Vec<Figure> {
    use Reference::{AtLeast, AtMost};
    let mut f = Figures(Vec::new());
    if let Some(i) = &r.ingest {
        let c = params.connections;
        let target = match backend {
            Backend::Sqlite => 10_000.0,
            Backend::Postgres => 15_000.0,
        };
        let acked = i.posted.ok_per_sec();
        let label = format!("ingest: webhooks acknowledged ({c} connections)");
        f.add("ingest.acked_per_sec", label, acked, "/s");
        f.against(AtLeast(target));
        let label = format!("ingest baseline: group-commit insert ({c} producers)");
        f.add(
            "ingest.baseline_rows_per_sec",
            label,
            r.baseline.rows_per_sec,
            "/s",
        );
        let ratio = acked / r.baseline.rows_per_sec * 100.0;
        f.add(
            "ingest.acked_vs_baseline_pct",
            "ingest: acknowledged ÷ baseline",
            ratio,
            "%",
        );
        f.against(AtLeast(75.0));
        if let Some(floor) = &r.floor {
            let answered = floor.ok_per_sec();
            let label = "ingest floor: bare axum handler, reads the body, answers 200";
            f.add("ingest.floor_per_sec", label, answered, "/s");
            let label = "ingest: acknowledged ÷ floor";
            f.add(
                "ingest.acked_vs_floor_pct",
                label,
                acked / answered * 100.0,
                "%",
            );
        }
        let keys = ["ingest.ack_p50_ms", "ingest.ack_p99_ms"];
        f.latency(keys, "ingest: ack latency", &i.posted.latencies, 25.0);
        let label = "ingest: applied end to end (visible in the API)";
        f.add("ingest.applied_per_sec", label, i.applied_per_sec(), "/s");
        f.against(AtLeast(5_000.0));
        let label = "ingest: server CPU per webhook (acknowledged and applied)";
        let per_webhook = i.server_cpu_secs * 1e6 / i.posted.latencies.len().max(1) as f64;
        f.add("ingest.server_cpu_us", label, per_webhook, "µs");
        if backend == Backend::Sqlite {
            let label = "ingest baseline: CPU per row (SQLite's included)";
            f.add(
                "ingest.baseline_cpu_us",
                label,
                r.baseline.cpu_us_per_row,
                "µs",
            );
        }
    }
    f.latency(
        ["sse.p50_ms", "sse.p99_ms"],
        "webhook → SSE event",
        &r.sse,
        50.0,
    );
    for o in &r.outbox {
        outbox(&mut f, o);
    }
    if let Some(st) = &r.statuses {
        let label = format!(
            "statuses: {} webhooks acknowledged",
            count(st.posted.latencies.len())
        );
        f.add(
            "statuses.acked_per_sec",
            label,
            st.posted.ok_per_sec(),
            "/s",
        );
        let label = "statuses: applied end to end";
        f.add(
            "statuses.applied_per_sec",
            label,
            st.applied_per_sec(),
            "/s",
        );
    }
    if let Some(b) = &r.bulk {
        let m = count(b.summary.messages as usize);
        let label = format!(
            "bulk load: {m} messages, {} conversations",
            count(b.summary.conversations as usize)
        );
        let rate = b.summary.messages as f64 / b.load_time.as_secs_f64();
        f.add("bulk.load_rows_per_sec", label, rate, "/s");
        let reads = &r.reads;
        let keys = ["reads.list_p50_ms", "reads.list_p99_ms"];
        let label = format!("conversation list, first 50 ({m} msgs)");
        f.latency(keys, &label, &reads.list, 5.0);
        let keys = ["reads.messages_p50_ms", "reads.messages_p99_ms"];
        f.latency(keys, "one conversation's latest 50", &reads.messages, 5.0);
        let keys = ["reads.search_p50_ms", "reads.search_p99_ms"];
        let matches = count(b.matches as usize);
        let label = format!("search \"{SEARCH_WORD}\" ({matches} matches), first 50");
        f.latency(keys, &label, &reads.search, 20.0);
        let label = format!("start-up on {m} messages (spawn → health 200)");
        f.add("startup_secs", label, r.startup.as_secs_f64(), "s");
        f.against(AtMost(1.0));
    }
    let label = "memory: idle RSS (fresh database)";
    f.add("memory.idle_rss_mib", label, mib(r.idle_rss_kib), "MiB");
    f.against(AtMost(40.0));
    if let Some(i) = &r.ingest {
        let label = "memory: peak RSS under the ingest load";
        f.add("memory.peak_rss_mib", label, mib(i.peak_rss_kib), "MiB");
    }
    if r.bulk.is_some() {
        let label = "memory: RSS after start-up on the big database";
        f.add(
            "memory.bulk_idle_rss_mib",
            label,
            mib(r.bulk_idle_rss_kib),
            "MiB",
        );
    }
    f.0
}

/// One outbox run: throughput without a limit, or how evenly a limit was kept.
fn outbox(f: &mut Figures, o: &OutboxResult) {
    use Reference::{AtLeast, AtMost, Baseline};
    let n = count(o.run.sends);
    if o.run.rate == 0 {
        let label = format!("outbox: {n} sends queued through the API (16 clients)");
        f.add("outbox.queued_per_sec", label, o.queued_per_sec, "/s");
        let label = format!("outbox: {n} sends, no rate limit");
        f.add(
            "outbox.unlimited_sends_per_sec",
            label,
            o.sends_per_sec,
            "/s",
        );
        f.against(AtLeast(5_000.0));
        return;
    }
    let keys = match o.run.rate {
        80 => [
            "outbox.rate_80.mean_per_sec",
            "outbox.rate_80.max_per_1s",
            "outbox.rate_80.min_per_1s",
            "outbox.rate_80.deviation_pct",
        ],
        _ => [
            "outbox.rate_1000.mean_per_sec",
            "outbox.rate_1000.max_per_1s",
            "outbox.rate_1000.min_per_1s",
            "outbox.rate_1000.deviation_pct",
        ],
    };
    let (w, rate) = (&o.windows, f64::from(o.run.rate));
    let at = format!("outbox at {}/s", count(o.run.rate as usize));
    let label = format!("{at}: mean rate, steady {:.1} s", w.steady_secs);
    f.add(keys[0], label, w.mean_rate, "/s");
    f.against(Baseline(rate));
    f.add(
        keys[1],
        format!("{at}: busiest 1-s window"),
        w.max as f64,
        "",
    );
    f.against(Baseline(rate));
    f.add(
        keys[2],
        format!("{at}: quietest 1-s window"),
        w.min as f64,
        "",
    );
    f.against(Baseline(rate));
    f.add(
        keys[3],
        format!("{at}: largest deviation of a window's rate"),
        w.deviation_pct,
        "%",
    );
    f.against(AtMost(1.0));
}
