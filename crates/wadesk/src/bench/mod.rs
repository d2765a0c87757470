//! `wadesk bench`: the benchmark harness. It starts `wadesk serve` from this very binary as a
//! child process on fresh databases, puts the Cloud API simulator in place of Meta (in this
//! process), drives the server over real HTTP from the same machine, prints a table of figures
//! with their baselines and targets, and writes them as JSON.
//!
//! Phases, in order: the ingest baseline (a bare group-commit insert in a database of its
//! own); the HTTP floor (the same requests answered by a bare handler); webhook ingest under
//! load; webhook → SSE latency; the outbox unlimited, at 80/s and at 1,000/s; the statuses
//! of the unlimited run's sends; a bulk-loaded database for start-up time and read
//! latencies. It owns no server code and changes no server behaviour: what it finds, it
//! reports.

mod baseline;
mod corpus;
mod figures;
mod floor;
mod ingest;
mod outbox;
mod params;
mod reads;
mod report;
mod server;
mod site;
mod sse;
mod stats;
mod statuses;
mod wire;

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Args;

use self::{figures::Results, report::Environment, site::Site};
pub use self::{
    params::{Mode, Params},
    report::{Figure, Reference, Report},
};
use crate::{cli::create_token, store::Role};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The shorter run CI does (under two minutes): 20,000 webhooks, 100,000 messages.
    #[arg(long, conflicts_with_all = ["full", "smoke"])]
    pub quick: bool,
    /// The complete run (the default): 100,000 webhooks, 1,000,000 messages.
    #[arg(long, conflicts_with = "smoke")]
    pub full: bool,
    /// The smallest run, to check the harness works; its figures mean little.
    #[arg(long)]
    pub smoke: bool,
    /// `sqlite` (fresh files in a new temporary directory; set TMPDIR to pick the disk) or a
    /// PostgreSQL server URL such as postgres://postgres@127.0.0.1:5432/postgres, on which
    /// fresh databases `wadesk_bench_<random>_…` are created for the run and dropped after it.
    #[arg(long, default_value = "sqlite")]
    pub database_url: String,
    /// Where to write the JSON report.
    #[arg(long, default_value = "target/bench/latest.json")]
    pub output: PathBuf,
    /// Keep the scratch directory (SQLite files, server logs) and PostgreSQL databases.
    #[arg(long)]
    pub keep: bool,
    /// Benchmark another `wadesk` binary as the server (default: this one), e.g. an earlier
    /// build to compare against.
    #[arg(long)]
    pub server: Option<PathBuf>,
}

/// A benchmark run, for the command line and for tests.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub mode: Mode,
    /// `sqlite` or a PostgreSQL server URL (see `--database-url`).
    pub database_url: String,
    /// The `wadesk` binary to run as the server.
    pub server_exe: PathBuf,
    /// Keep the scratch directory and databases for inspection.
    pub keep: bool,
}

/// Runs `wadesk bench`; returns the exit code.
pub async fn run(args: BenchArgs) -> i32 {
    let mode = if args.smoke {
        Mode::Smoke
    } else if args.quick {
        Mode::Quick
    } else {
        Mode::Full
    };
    let server_exe = match args.server.map_or_else(std::env::current_exe, Ok) {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("wadesk bench: cannot find this binary: {e}");
            return 1;
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("bench: this is a debug build; figures come from `cargo run --release -- bench`");
    }
    let options = BenchOptions {
        mode,
        database_url: args.database_url,
        server_exe,
        keep: args.keep,
    };
    match run_bench(&options).await {
        Ok(report) => {
            println!("{}", report.table());
            match report.write_json(&args.output) {
                Ok(()) => {
                    println!("JSON: {}", args.output.display());
                    0
                }
                Err(e) => {
                    eprintln!("wadesk bench: {e}");
                    1
                }
            }
        }
        Err(e) => {
            eprintln!("wadesk bench: {e}");
            1
        }
    }
}

/// Runs every phase and returns the report. Databases it created are dropped and servers it
/// started are stopped whatever happens; on failure the scratch directory with the servers'
/// logs is kept.
pub async fn run_bench(options: &BenchOptions) -> Result<Report, String> {
    let started = Instant::now();
    let mut site = Site::new(options.server_exe.clone(), &options.database_url).await?;
    let params = Params::of(options.mode);
    let mut results = Results::default();
    let outcome = tokio::select! {
        r = phases(&mut site, &params, &mut results) => r,
        _ = tokio::signal::ctrl_c() => Err("interrupted".to_owned()),
    };
    let backend = site.backend;
    site.cleanup(options.keep, outcome.is_err()).await;
    let database_version = outcome?;
    let backend_name = match backend {
        crate::store::Backend::Sqlite => "sqlite",
        crate::store::Backend::Postgres => "postgres",
    };
    let mut environment = Environment::detect(backend_name, database_version, options.mode);
    environment.duration_secs = started.elapsed().as_secs_f64();
    Ok(Report {
        figures: figures::figures(&results, backend, &params),
        environment,
        params,
    })
}

fn step(what: &str) {
    eprintln!("bench: {what}");
}

/// The phases; returns the database version.
async fn phases(site: &mut Site, p: &Params, r: &mut Results) -> Result<String, String> {
    step("preparing signed webhooks");
    let hooks = ingest::prepare(&site.sim, site.addr, 0, p.webhooks, p.customers);
    let timed = p.sse_webhooks + sse::WARM_UP;
    let sse_hooks = ingest::prepare(&site.sim, site.addr, p.webhooks, timed, p.customers);

    step(&format!(
        "baseline: group-commit insert of {} bodies, 3 times",
        p.webhooks
    ));
    let url = site.database("baseline").await?;
    let store = site.connect(&url).await?;
    let version = store.database_version().await.map_err(|e| e.to_string())?;
    let bodies = Arc::new(hooks.bodies);
    r.baseline = baseline::run(&store, bodies, p.connections).await?;
    store.close().await;
    site.drop_database("baseline").await;

    step(&format!(
        "HTTP floor: {} webhooks to a bare handler over {} connections",
        p.webhooks, p.connections
    ));
    let requests = Arc::new(hooks.requests);
    r.floor = Some(floor::run(requests.clone(), p.connections).await?);

    let (url, token) = inbound(site, p, r, requests, sse_hooks.requests).await?;
    let mut sent = Vec::new();
    for (index, run) in p.outbox.iter().enumerate() {
        let limit = match run.rate {
            0 => "no rate limit".to_owned(),
            rate => format!("{rate}/s"),
        };
        step(&format!("outbox: {} sends at {limit}", run.sends));
        let queueing = site.serve(&url, None, &format!("queue-{index}")).await?;
        let result = outbox::measure(site, &url, queueing, &token, *run, index).await?;
        r.outbox.push(result);
        if run.rate == 0 {
            sent = site.sim.accepted_sends();
        }
    }
    step(&format!(
        "statuses: delivered and read for {} sends, one webhook each",
        sent.len()
    ));
    let requests = statuses::prepare(&site.sim, site.addr, &sent);
    let check: Vec<String> = [sent.first(), sent.last()]
        .into_iter()
        .flatten()
        .filter_map(|s| s.callback_data.clone())
        .collect();
    r.statuses = Some(statuses::run(site, &url, &token, requests, p.connections, &check).await?);
    big_inbox(site, p, r).await?;
    Ok(version)
}

/// On a fresh database: idle memory, ingest under load, and webhook → SSE latency. Returns
/// the database's URL and an admin token for it.
async fn inbound(
    site: &mut Site,
    p: &Params,
    r: &mut Results,
    requests: Arc<Vec<Vec<u8>>>,
    sse_requests: Vec<Vec<u8>>,
) -> Result<(String, String), String> {
    let url = site.database("main").await?;
    let store = site.connect(&url).await?;
    let token = create_token(&store, "bench", Role::Admin)
        .await
        .map_err(|e| e.to_string())?;
    let server = site.serve(&url, Some(0), "ingest").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    r.idle_rss_kib = server.rss_kib().unwrap_or_default();
    step(&format!(
        "ingest: {} webhooks over {} connections",
        p.webhooks, p.connections
    ));
    let expected = requests.len() as i64;
    let addr = site.addr;
    r.ingest = Some(ingest::run(&server, addr, requests, p.connections, &store, expected).await?);
    step(&format!("SSE: {} webhooks one at a time", p.sse_webhooks));
    r.sse = sse::run(addr, &token, &sse_requests).await?;
    server.stop().await?;
    store.close().await;
    Ok((url, token))
}

/// A bulk-loaded database: start-up time, memory, read latencies.
async fn big_inbox(site: &mut Site, p: &Params, r: &mut Results) -> Result<(), String> {
    let (messages, conversations) = (p.bulk_messages, p.bulk_conversations);
    step(&format!(
        "bulk load: {messages} messages in {conversations} conversations"
    ));
    let url = site.database("bulk").await?;
    let store = site.connect(&url).await?;
    let bulk = reads::load(&store, p, &site.sim.phone_number_id()).await?;
    let token = create_token(&store, "bench", Role::Admin)
        .await
        .map_err(|e| e.to_string())?;
    store.close().await;
    step("start-up and reads on the bulk-loaded database");
    let server = site.serve(&url, Some(0), "bulk").await?;
    r.startup = server.started_in;
    tokio::time::sleep(Duration::from_secs(1)).await;
    r.bulk_idle_rss_kib = server.rss_kib().unwrap_or_default();
    r.reads = reads::run(site.addr, &token, &bulk.summary, p.reads).await?;
    r.bulk = Some(bulk);
    server.stop().await
}
