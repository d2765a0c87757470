//! Where a benchmark runs: a scratch directory, the Cloud API simulator (in this process),
//! the port servers listen on, and fresh databases of the chosen backend — SQLite files in the
//! scratch directory, or PostgreSQL databases `wadesk_bench_<random>…` created on the given
//! server and dropped at the end.

use std::{
    net::{SocketAddr, TcpListener},
    path::PathBuf,
};

use simulator::{Simulator, StatusPlan};

use super::server::{Server, ServerSpec};
use crate::{
    cli::new_token,
    store::{self, Backend, Store, StoreOptions},
};

pub struct Site {
    pub exe: PathBuf,
    pub dir: PathBuf,
    pub addr: SocketAddr,
    pub sim: Simulator,
    pub backend: Backend,
    /// The PostgreSQL server URL given, when the backend is PostgreSQL.
    postgres: Option<String>,
    /// `wadesk_bench_<random>`: the prefix of this run's PostgreSQL databases.
    run_name: String,
    /// PostgreSQL databases created and not yet dropped.
    created: Vec<String>,
}

impl Site {
    /// `database` is `sqlite` (or any `sqlite:` URL) or a PostgreSQL server URL.
    pub async fn new(exe: PathBuf, database: &str) -> Result<Self, String> {
        let (backend, postgres) = if database == "sqlite" || database.starts_with("sqlite:") {
            (Backend::Sqlite, None)
        } else if database.starts_with("postgres:") || database.starts_with("postgresql:") {
            (Backend::Postgres, Some(database.to_owned()))
        } else {
            return Err(format!(
                "--database-url must be sqlite or postgres://…, not {database:?}"
            ));
        };
        let random = uuid::Uuid::now_v7().simple().to_string();
        let run_name = format!("wadesk_bench_{}", &random[random.len() - 12..]);
        let dir = std::env::temp_dir().join(run_name.replace('_', "-"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut config = simulator::Config::new(new_token(), new_token());
        // Status webhooks for sends would add ingest load to the outbox runs; they are
        // measured on their own.
        config.statuses = StatusPlan::disabled();
        config.webhook_url = Some(format!("http://{addr}/webhooks/whatsapp"));
        let sim = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), config)
            .await
            .map_err(|e| format!("simulator: {e}"))?;
        Ok(Self {
            exe,
            dir,
            addr,
            sim,
            backend,
            postgres,
            run_name,
            created: Vec::new(),
        })
    }

    /// A fresh, empty database (no schema yet) labelled `label`; returns its URL.
    pub async fn database(&mut self, label: &str) -> Result<String, String> {
        match &self.postgres {
            None => Ok(format!(
                "sqlite://{}",
                self.dir.join(format!("{label}.db")).display()
            )),
            Some(server) => {
                let name = format!("{}_{label}", self.run_name);
                let url = store::create_postgres_database(server, &name)
                    .await
                    .map_err(|e| format!("cannot create database {name}: {e}"))?;
                self.created.push(name);
                Ok(url)
            }
        }
    }

    /// Drops the database labelled `label` (SQLite: deletes its files).
    pub async fn drop_database(&mut self, label: &str) {
        match &self.postgres {
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(self.dir.join(format!("{label}.db{suffix}")));
                }
            }
            Some(server) => {
                let name = format!("{}_{label}", self.run_name);
                if let Err(e) = store::drop_postgres_database(server, &name).await {
                    eprintln!("bench: cannot drop database {name}: {e}");
                }
                self.created.retain(|n| *n != name);
            }
        }
    }

    /// The store of `url`, migrated (as `serve` would on start).
    pub async fn connect(&self, url: &str) -> Result<Store, String> {
        let options = StoreOptions {
            max_connections: 4,
            // Bulk loading runs long statements.
            statement_timeout: std::time::Duration::from_secs(600),
            ..StoreOptions::default()
        };
        Store::connect(url, &options)
            .await
            .map_err(|e| format!("cannot open the benchmark database: {e}"))
    }

    /// Starts `wadesk serve` on `database_url`; with `send_rate` it may send (0 = no limit),
    /// without it sends queue and wait.
    pub async fn serve(
        &self,
        database_url: &str,
        send_rate: Option<u32>,
        name: &str,
    ) -> Result<Server, String> {
        let spec = ServerSpec {
            exe: self.exe.clone(),
            dir: self.dir.clone(),
            addr: self.addr,
            database_url: database_url.to_owned(),
            api_base_url: self.sim.base_url(),
            phone_number_id: self.sim.phone_number_id(),
            app_secret: self.sim.app_secret(),
            access_token: send_rate.map(|_| self.sim.access_token()),
            send_rate: send_rate.unwrap_or(0),
        };
        Server::start(&spec, name).await
    }

    /// Drops every database still there and stops the simulator; removes the scratch
    /// directory unless `keep`, or `failed` (its server logs explain the failure).
    pub async fn cleanup(mut self, keep: bool, failed: bool) {
        if let Some(server) = self.postgres.clone() {
            for name in std::mem::take(&mut self.created) {
                if keep {
                    eprintln!("bench: database {name} kept");
                } else if let Err(e) = store::drop_postgres_database(&server, &name).await {
                    eprintln!("bench: cannot drop database {name}: {e}");
                }
            }
        }
        self.sim.shutdown();
        if keep || failed {
            eprintln!("bench: files kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
