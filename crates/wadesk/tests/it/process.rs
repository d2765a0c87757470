//! Running the real `wadesk` binary as separate processes (crash and cluster tests): a site
//! with its directory, database and simulator, and servers started and killed on it.

use std::{
    net::{SocketAddr, TcpListener},
    os::unix::process::ExitStatusExt,
    path::PathBuf,
    process::Stdio,
    time::Duration,
};

use reqwest::StatusCode;
use simulator::Simulator;
use tempfile::TempDir;
use tokio::{
    process::{Child, Command},
    time::Instant,
};

use crate::helpers::start_simulator;

/// Up to this long for a (re)started server to answer, on a slow shared machine.
const BOOT: Duration = Duration::from_secs(60);

/// Where one `wadesk serve` runs: its directory (cwd, database, logs), port and simulator.
pub struct Site {
    pub dir: TempDir,
    pub port: u16,
    pub sim: Simulator,
    /// `sqlite://…` in the site's directory unless given.
    pub database_url: String,
    /// Extra environment for `serve`.
    env: Vec<(&'static str, String)>,
}

impl Site {
    pub async fn new(env: &[(&'static str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let sim = start_simulator().await;
        sim.set_webhook_url(format!("http://127.0.0.1:{port}/webhooks/whatsapp"));
        let env = env.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        let database_url = format!("sqlite://{}", dir.path().join("wadesk.db").display());
        Self {
            dir,
            port,
            sim,
            database_url,
            env,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `wadesk` with a clean environment, run in the site's directory (so no stray `.env`).
    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wadesk"));
        cmd.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("DATABASE_URL", &self.database_url)
            .kill_on_drop(true);
        cmd
    }

    /// `wadesk token create --name t --admin`; the token is the last line of stdout.
    pub async fn admin_token(&self) -> String {
        let out = self
            .command()
            .args(["token", "create", "--name", "t", "--admin"])
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "token create failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = stdout.lines().last().unwrap_or_default().trim().to_owned();
        assert!(
            token.starts_with("wdk_"),
            "a token on the last line: {stdout}"
        );
        token
    }

    /// Starts `wadesk serve` (the `n`th time) and waits until its health endpoint answers.
    pub async fn serve(&self, n: u32) -> Server {
        self.serve_at(self.port, n).await
    }

    /// Starts `wadesk serve` on `port` (another instance on the same database).
    pub async fn serve_at(&self, port: u16, n: u32) -> Server {
        let log_path = self.dir.path().join(format!("serve-{n}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut cmd = self.command();
        cmd.arg("serve")
            .env("WADESK_BIND", addr.to_string())
            .env("WADESK_DATA_DIR", self.dir.path().join("data"))
            .env("WHATSAPP_TOKEN", self.sim.access_token())
            .env("WHATSAPP_PHONE_NUMBER_ID", self.sim.phone_number_id())
            .env("WHATSAPP_APP_SECRET", self.sim.app_secret())
            .env("WHATSAPP_VERIFY_TOKEN", "verify-me")
            .env("WHATSAPP_API_BASE_URL", self.sim.base_url())
            .env("WADESK_GRAPH_TIMEOUT_SECS", "5")
            .env("WADESK_RETRY_BASE_MS", "20")
            .env("WADESK_RETRY_MAX_SECS", "1")
            .env("WADESK_SEND_LEASE_SECS", "2")
            .env("WADESK_RECONCILE_SECS", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let mut server = Server {
            child: cmd.spawn().unwrap(),
            log: log_path,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + BOOT;
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("wadesk serve exited with {status}:\n{}", server.log_text());
            }
            let health = http
                .get(format!("http://{addr}/api/v1/health"))
                .send()
                .await;
            if health.is_ok_and(|r| r.status() == StatusCode::OK) {
                return server;
            }
            assert!(Instant::now() < deadline, "wadesk serve did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A running `wadesk serve`; its log is printed if the test fails while it lives.
pub struct Server {
    pub child: Child,
    log: PathBuf,
}

impl Server {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown code runs.
    pub async fn kill(mut self) {
        self.child.start_kill().unwrap();
        let status = self.child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "killed, not exited");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- {} ---\n{}", self.log.display(), self.log_text());
        }
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A reqwest client that does not reuse connections of an earlier server process.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}
