//! `TestApp`: one wadesk with its simulator, and a helper per endpoint.

use std::{future::Future, net::SocketAddr, time::Duration};

use crate::db::{Db, TestDb};
use reqwest::StatusCode;
use serde_json::{Value, json};
use simulator::{Simulator, StatusPlan, payload};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use wadesk::{
    app::Application,
    cli::create_token,
    config::{Config, Secret},
    store::Role,
};

pub const CUSTOMER: &str = "5511988887777";
pub const CUSTOMER_NAME: &str = "Ana Souza";

pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    /// An agent token.
    pub token: String,
    /// An admin token.
    pub admin: String,
    pub sim: Simulator,
    pub dir: TempDir,
    pub db: TestDb,
    cancel: CancellationToken,
    handle: Option<JoinHandle<Result<(), String>>>,
}

/// Settings that make retries and leases quick enough for tests.
pub fn test_config(database_url: &str, sim: &Simulator) -> Config {
    let mut c = Config::local(database_url, SocketAddr::from(([127, 0, 0, 1], 0)));
    c.whatsapp.token = Some(Secret::new(sim.access_token()));
    c.whatsapp.phone_number_id = Some(sim.phone_number_id());
    c.whatsapp.app_secret = Some(Secret::new(sim.app_secret()));
    c.whatsapp.verify_token = Some(Secret::new("verify-me"));
    c.whatsapp.api_base_url = sim.base_url();
    c.whatsapp.graph_timeout_secs = 5;
    c.outbox.rate_per_second = 0;
    c.outbox.retry_base_ms = 20;
    c.outbox.retry_max_secs = 1;
    c.outbox.lease_secs = 3;
    c.outbox.reconcile_secs = 1;
    c
}

pub async fn start_simulator() -> Simulator {
    let config = simulator::Config::new("test-app-secret", "test-access-token");
    Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .expect("simulator starts")
}

impl TestApp {
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_with_on(Db::Sqlite, tweak).await
    }

    pub async fn spawn_on(db: Db) -> Self {
        Self::spawn_with_on(db, |_| {}).await
    }

    /// A fresh database of the given backend, the simulator, and wadesk configured by `tweak`.
    pub async fn spawn_with_on(db: Db, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = TestDb::create(db, dir.path()).await;
        let sim = start_simulator().await;
        let mut config = test_config(&db.url, &sim);
        tweak(&mut config);
        Self::start(config, sim, dir, db).await
    }

    /// Starts wadesk on `config` (its database may already hold data).
    pub async fn start(config: Config, sim: Simulator, dir: TempDir, db: TestDb) -> Self {
        if std::env::var_os("WADESK_TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("info,sqlx=warn")
                .with_test_writer()
                .try_init();
        }
        let app = Application::build(config).await.expect("app builds");
        let addr = app.local_addr();
        let store = app.state().store.clone();
        sim.set_webhook_url(format!("http://{addr}/webhooks/whatsapp"));
        let token = create_token(&store, "agent", Role::Agent).await.unwrap();
        let admin = create_token(&store, "admin", Role::Admin).await.unwrap();
        let cancel = CancellationToken::new();
        let handle = tokio::spawn(app.run_until_stopped(cancel.clone()));
        Self {
            addr,
            http: reqwest::Client::new(),
            token,
            admin,
            sim,
            dir,
            db,
            cancel,
            handle: Some(handle),
        }
    }

    /// Stops the server (gracefully) and gives back what a restart needs.
    pub async fn stop(mut self) -> (Simulator, TempDir, TestDb) {
        self.cancel.cancel();
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
        (self.sim.clone(), self.dir, self.db)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Posts a notification signed with the app secret, as Meta would.
    pub async fn webhook(&self, notification: &Value) -> StatusCode {
        let body = simulator::to_meta_json(notification).unwrap();
        let sig = whatsapp::signature::sign(self.sim.app_secret().as_bytes(), &body);
        self.webhook_raw(body, Some(&sig)).await.status()
    }

    pub async fn webhook_raw(&self, body: Vec<u8>, signature: Option<&str>) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url("/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(sig) = signature {
            req = req.header("x-hub-signature-256", sig);
        }
        req.send().await.unwrap()
    }

    /// A notification from `CUSTOMER` carrying `messages`.
    #[allow(clippy::wrong_self_convention)]
    pub fn from_customer(&self, messages: Vec<Value>) -> Value {
        self.envelope(&[(CUSTOMER, CUSTOMER_NAME)], messages, vec![])
    }

    pub fn envelope(
        &self,
        contacts: &[(&str, &str)],
        messages: Vec<Value>,
        statuses: Vec<Value>,
    ) -> Value {
        payload::envelope(
            &self.sim.phone_number_id(),
            &self.sim.display_phone_number(),
            &self.sim.waba_id(),
            contacts,
            messages,
            statuses,
        )
    }

    /// The customer writes a text; returns its wamid once the inbox shows it.
    pub async fn customer_says(&self, text: &str) -> String {
        let msg = payload::text(CUSTOMER, text);
        let wamid = msg["id"].as_str().unwrap().to_owned();
        assert_eq!(
            self.webhook(&self.from_customer(vec![msg])).await,
            StatusCode::OK
        );
        self.eventually("the customer's message is stored", || async {
            let (s, _) = self.get(&format!("/api/v1/messages/{wamid}")).await;
            (s == StatusCode::OK).then_some(())
        })
        .await;
        wamid
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.get_as(path, &self.token).await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post_as(path, body, &self.token, None).await
    }

    pub async fn post_as(
        &self,
        path: &str,
        body: &Value,
        token: &str,
        idempotency_key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.post(self.url(path)).bearer_auth(token).json(body);
        if let Some(k) = idempotency_key {
            req = req.header("idempotency-key", k);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn send_text(&self, to: &str, body: &str) -> (StatusCode, Value) {
        self.post(
            "/api/v1/messages",
            &json!({"to": to, "type": "text", "text": {"body": body}}),
        )
        .await
    }

    pub async fn message(&self, id: &str) -> Value {
        let (s, m) = self.get(&format!("/api/v1/messages/{id}")).await;
        assert_eq!(s, StatusCode::OK, "message {id}: {m}");
        m
    }

    /// Waits until the message reaches `status`; returns it.
    pub async fn wait_status(&self, id: &str, status: &str) -> Value {
        self.eventually(&format!("message {id} becomes {status}"), || async {
            let m = self.message(id).await;
            (m["status"] == status).then_some(m)
        })
        .await
    }

    pub async fn health(&self) -> Value {
        let r = self
            .http
            .get(self.url("/api/v1/health"))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    /// The webhook journal as an admin sees it.
    pub async fn journal(&self) -> Vec<Value> {
        let (s, v) = self
            .get_as("/api/v1/webhook-events?limit=500", &self.admin)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["events"].as_array().cloned().unwrap_or_default()
    }

    /// Polls `check` until it yields a value (10 s at most).
    pub async fn eventually<T, F, Fut>(&self, what: &str, check: F) -> T
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        eventually(what, Duration::from_secs(10), check).await
    }
}

pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting until {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Quiet status plan: no automatic statuses (tests post their own).
pub fn no_statuses() -> StatusPlan {
    StatusPlan::disabled()
}
