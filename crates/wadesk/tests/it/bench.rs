//! `wadesk bench` end to end in its smallest configuration, so the harness never rots: it
//! completes and produces every figure. The figures' values are not checked: this is a debug
//! build on a machine busy with other tests.

use wadesk::bench::{BenchOptions, Mode, run_bench};

/// Every figure a run on SQLite reports.
const FIGURES: &[&str] = &[
    "ingest.acked_per_sec",
    "ingest.baseline_rows_per_sec",
    "ingest.acked_vs_baseline_pct",
    "ingest.floor_per_sec",
    "ingest.acked_vs_floor_pct",
    "ingest.ack_p50_ms",
    "ingest.ack_p99_ms",
    "ingest.applied_per_sec",
    "ingest.server_cpu_us",
    "ingest.baseline_cpu_us",
    "sse.p50_ms",
    "sse.p99_ms",
    "outbox.queued_per_sec",
    "outbox.unlimited_sends_per_sec",
    "outbox.rate_80.mean_per_sec",
    "outbox.rate_80.max_per_1s",
    "outbox.rate_80.min_per_1s",
    "outbox.rate_80.deviation_pct",
    "outbox.rate_1000.mean_per_sec",
    "outbox.rate_1000.max_per_1s",
    "outbox.rate_1000.min_per_1s",
    "outbox.rate_1000.deviation_pct",
    "statuses.acked_per_sec",
    "statuses.applied_per_sec",
    "bulk.load_rows_per_sec",
    "reads.list_p50_ms",
    "reads.list_p99_ms",
    "reads.messages_p50_ms",
    "reads.messages_p99_ms",
    "reads.search_p50_ms",
    "reads.search_p99_ms",
    "startup_secs",
    "memory.idle_rss_mib",
    "memory.peak_rss_mib",
    "memory.bulk_idle_rss_mib",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_smoke_run_completes_with_every_figure() {
    let options = BenchOptions {
        mode: Mode::Smoke,
        database_url: "sqlite".into(),
        server_exe: env!("CARGO_BIN_EXE_wadesk").into(),
        keep: false,
    };
    let report = run_bench(&options).await.unwrap();
    for key in FIGURES {
        let figure = report
            .figure(key)
            .unwrap_or_else(|| panic!("no figure {key}"));
        assert!(figure.value.is_finite(), "{key} = {}", figure.value);
        // A deviation from the rate can truly be nil; nothing else can.
        let can_be_zero = key.ends_with("deviation_pct");
        assert!(
            figure.value > 0.0 || (can_be_zero && figure.value == 0.0),
            "{key} = {}",
            figure.value
        );
    }
    assert_eq!(
        report.figures.len(),
        FIGURES.len(),
        "a figure without a test"
    );
    let table = report.table();
    assert!(table.contains("ingest: webhooks acknowledged"), "{table}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench/latest.json");
    report.write_json(&path).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["environment"]["backend"], "sqlite");
    assert_eq!(
        json["figures"].as_array().map(Vec::len),
        Some(FIGURES.len())
    );
}
