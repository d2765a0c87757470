//! A `wadesk serve` child process as a user would run it: configured through the environment
//! only (cleared first), run in the scratch directory so no stray `.env` is read, logging at
//! `warn` to a file, stopped with Ctrl-C's signal. Its resident memory is read from `/proc`.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

/// Longest wait for a server to answer its health check (a big database on a slow disk).
const BOOT: Duration = Duration::from_secs(120);
/// Longest wait for a stopped server to exit before it is killed.
const STOP: Duration = Duration::from_secs(20);

/// How to start one server.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// The `wadesk` binary.
    pub exe: PathBuf,
    /// Working directory; the log goes here too.
    pub dir: PathBuf,
    pub addr: SocketAddr,
    pub database_url: String,
    /// The simulator's Graph base URL, business number and webhook key.
    pub api_base_url: String,
    pub phone_number_id: String,
    pub app_secret: String,
    /// The Graph token; without it sends queue and wait.
    pub access_token: Option<String>,
    /// `WADESK_SEND_RATE` (0 = no limit).
    pub send_rate: u32,
}

/// A running `wadesk serve`; killed if dropped while running.
pub struct Server {
    child: Child,
    pid: u32,
    log: PathBuf,
    /// From spawning to the first 200 of `/api/v1/health`.
    pub started_in: Duration,
}

impl Server {
    /// Spawns `wadesk serve` and waits until `GET /api/v1/health` answers 200.
    pub async fn start(spec: &ServerSpec, name: &str) -> Result<Self, String> {
        let log = spec.dir.join(format!("serve-{name}.log"));
        let file = std::fs::File::create(&log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err_file = file
            .try_clone()
            .map_err(|e| format!("cannot share {}: {e}", log.display()))?;
        let mut cmd = Command::new(&spec.exe);
        cmd.arg("serve")
            .current_dir(&spec.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("DATABASE_URL", &spec.database_url)
            .env("WADESK_BIND", spec.addr.to_string())
            .env("WADESK_DATA_DIR", spec.dir.join("media"))
            .env("WADESK_SEND_RATE", spec.send_rate.to_string())
            .env("WHATSAPP_PHONE_NUMBER_ID", &spec.phone_number_id)
            .env("WHATSAPP_APP_SECRET", &spec.app_secret)
            .env("WHATSAPP_VERIFY_TOKEN", "bench-verify")
            .env("WHATSAPP_API_BASE_URL", &spec.api_base_url)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err_file)
            .kill_on_drop(true);
        if let Some(token) = &spec.access_token {
            cmd.env("WHATSAPP_TOKEN", token);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        let health = format!("http://{}/api/v1/health", spec.addr);
        let spawned = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", spec.exe.display()))?;
        let pid = child.id().unwrap_or_default();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "wadesk serve ({name}) exited with {status}:\n{}",
                    tail(&log)
                ));
            }
            if let Ok(r) = http.get(&health).send().await
                && r.status() == reqwest::StatusCode::OK
            {
                return Ok(Self {
                    child,
                    pid,
                    log,
                    started_in: spawned.elapsed(),
                });
            }
            if spawned.elapsed() > BOOT {
                return Err(format!(
                    "wadesk serve ({name}) did not answer in {BOOT:?}:\n{}",
                    tail(&log)
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The process id (for sampling its memory).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Resident memory now, in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid)
    }

    /// CPU time used so far, in seconds.
    pub fn cpu_secs(&self) -> Option<f64> {
        cpu_secs(self.pid)
    }

    /// The end of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }

    /// Stops the server as Ctrl-C would (SIGINT: graceful shutdown), killing it if it has not
    /// exited in time.
    pub async fn stop(mut self) -> Result<(), String> {
        let signalled = Command::new("kill")
            .args(["-INT", &self.pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success());
        if signalled && let Ok(Ok(status)) = tokio::time::timeout(STOP, self.child.wait()).await {
            return if status.success() {
                Ok(())
            } else {
                Err(format!(
                    "wadesk serve exited with {status}:\n{}",
                    self.log_tail()
                ))
            };
        }
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        Err(format!(
            "wadesk serve did not stop on SIGINT within {STOP:?}:\n{}",
            self.log_tail()
        ))
    }
}

/// `VmRSS` of process `pid` in KiB, from `/proc/<pid>/status` (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The CPU seconds `pid` spent since `before` (its `cpu_secs` then); 0 where either is unknown.
pub fn cpu_since(pid: u32, before: Option<f64>) -> f64 {
    match (before, cpu_secs(pid)) {
        (Some(before), Some(after)) => after - before,
        _ => 0.0,
    }
}

/// CPU time process `pid` has used so far, all its threads (user and system), from
/// `/proc/<pid>/stat` (Linux; counted in USER_HZ ticks, 1/100 s).
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: state is
    // field 3, utime 14 and stime 15.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// The last 40 lines of a log file.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
