//! PostgreSQL going away: while it is unreachable requests fail with 503 (so Meta retries its
//! webhooks), nothing acknowledged is lost, and wadesk recovers by itself when it returns. The
//! outage is made by cutting a TCP proxy between wadesk and the database server.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use reqwest::StatusCode;
use simulator::payload;
use tokio::{
    net::{TcpListener, TcpStream},
    sync::Mutex,
    task::JoinHandle,
};

use crate::{
    db::{Db, TestDb, postgres_available},
    helpers::{CUSTOMER, TestApp, eventually, start_simulator, test_config},
};

/// Forwards 127.0.0.1:<port> to the database server until cut.
struct Proxy {
    addr: SocketAddr,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            addr: listener.local_addr().unwrap(),
            target: target.to_owned(),
            tasks: Arc::default(),
        };
        proxy.serve(listener).await;
        proxy
    }

    async fn serve(&self, listener: TcpListener) {
        let (target, tasks) = (self.target.clone(), self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().await.push(conn);
            }
        });
        self.tasks.lock().await.push(accept);
    }

    /// The database "goes down": no new connections, and open ones are cut.
    async fn cut(&self) {
        for t in self.tasks.lock().await.drain(..) {
            t.abort();
        }
    }

    /// The database is back on the same address.
    async fn restore(&self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_loses_nothing_and_recovers_by_itself() {
    if !postgres_available().await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(Db::Postgres, dir.path()).await;
    let (server, name) = db.url.rsplit_once('/').unwrap();
    let server = server
        .rsplit_once('@')
        .map_or(server, |(_, host)| host)
        .to_owned();
    let proxy = Proxy::start(&server).await;
    let sim = start_simulator().await;
    let proxied = db.url.replace(&server, &proxy.addr.to_string());
    assert!(proxied.ends_with(name));
    let config = test_config(&proxied, &sim);
    let app = TestApp::start(config, sim, dir, db).await;

    let before = app.customer_says("before the outage").await;
    proxy.cut().await;
    // Meta's retry: a webhook during the outage gets a 503, never a 200 it could not keep.
    let during = payload::text(CUSTOMER, "during the outage");
    let during_wamid = during["id"].as_str().unwrap().to_owned();
    let body = app.from_customer(vec![during]);
    let status = app.webhook(&body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (s, e) = app.get("/api/v1/conversations").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"))
    );
    let h = app
        .http
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore().await;
    // Meta delivers again; wadesk takes it as if nothing happened.
    eventually(
        "webhooks are accepted again",
        Duration::from_secs(30),
        || async { (app.webhook(&body).await == StatusCode::OK).then_some(()) },
    )
    .await;
    for wamid in [&before, &during_wamid] {
        eventually("the message is there", Duration::from_secs(30), || async {
            (app.get(&format!("/api/v1/messages/{wamid}")).await.0 == StatusCode::OK).then_some(())
        })
        .await;
    }
    // Sending works again too.
    let (s, m) = app.send_text(&format!("+{CUSTOMER}"), "we are back").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{m}");
    crate::helpers::eventually(
        "the reply is delivered",
        Duration::from_secs(30),
        || async {
            (app.message(m["id"].as_str().unwrap()).await["status"] == "read").then_some(())
        },
    )
    .await;
    let health: serde_json::Value = app
        .http
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["database"], "ok");
}
