//! Test databases: a fresh SQLite file, or a fresh PostgreSQL database (created per test and
//! dropped after it). PostgreSQL runs by default where a server answers on
//! `WADESK_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`); with
//! `WADESK_REQUIRE_POSTGRES=1` (set by CI) an unreachable server fails the test instead of
//! skipping it.

use std::{path::Path, sync::OnceLock, time::Duration};

use sqlx::{Connection, Executor, PgConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

fn admin_url() -> String {
    std::env::var("WADESK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn required() -> bool {
    std::env::var("WADESK_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

async fn admin() -> Result<PgConnection, sqlx::Error> {
    tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&admin_url()))
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
}

/// Whether PostgreSQL tests run here; panics when they are required but impossible.
pub async fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    if let Some(a) = AVAILABLE.get() {
        return *a;
    }
    let available = match admin().await {
        Ok(_) => true,
        Err(e) if required() => panic!(
            "PostgreSQL is required (WADESK_REQUIRE_POSTGRES=1) but {} is unreachable: {e}",
            admin_url()
        ),
        Err(e) => {
            eprintln!(
                "PostgreSQL tests skipped: {} unreachable ({e})",
                admin_url()
            );
            false
        }
    };
    *AVAILABLE.get_or_init(|| available)
}

/// One test's database; a PostgreSQL one is dropped with it.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    postgres_name: Option<String>,
}

impl TestDb {
    pub async fn create(db: Db, dir: &Path) -> Self {
        match db {
            Db::Sqlite => Self {
                url: format!("sqlite://{}", dir.join("wadesk.db").display()),
                postgres_name: None,
            },
            Db::Postgres => {
                let name = format!("wadesk_test_{}", uuid::Uuid::now_v7().simple());
                let mut conn = admin().await.expect("PostgreSQL admin connection");
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("create test database");
                let base = admin_url();
                let url = match base.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{name}"),
                    None => panic!("WADESK_TEST_POSTGRES must end with /<database>"),
                };
                Self {
                    url,
                    postgres_name: Some(name),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs outside async context: use a private runtime on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut conn) = admin().await {
                    let _ = conn
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                }
            });
        })
        .join();
    }
}

/// Declares each test twice: `<name>::sqlite` and `<name>::postgres`, sharing one body that
/// receives the backend.
macro_rules! backend_tests {
    ($($(#[$meta:meta])* async fn $name:ident($db:ident: Db) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                $(#[$meta])*
                async fn run($db: $crate::db::Db) $body

                #[tokio::test]
                async fn sqlite() {
                    run($crate::db::Db::Sqlite).await
                }

                #[tokio::test]
                async fn postgres() {
                    if $crate::db::postgres_available().await {
                        run($crate::db::Db::Postgres).await
                    }
                }
            }
        )*
    };
}
pub(crate) use backend_tests;
