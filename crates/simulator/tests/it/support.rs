//! A webhook receiver that checks signatures over the raw bytes, and helpers to start a
//! simulator wired to it.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use serde_json::{Value, json};
use simulator::{Config, Simulator, StatusPlan};
use whatsapp::{GraphClient, SendRequest, send::OutgoingContent, send::Text};

pub const SECRET: &str = "app-secret";
pub const TOKEN: &str = "token-1";

/// One POST the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub raw: Vec<u8>,
    pub json: Value,
    pub signature_ok: bool,
    pub content_type: Option<String>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    fail_next: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct ReceiverState {
    hits: Arc<Mutex<Vec<Hit>>>,
    fail_next: Arc<AtomicUsize>,
}

async fn receive(State(state): State<ReceiverState>, headers: HeaderMap, raw: Bytes) -> StatusCode {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    let hit = Hit {
        raw: raw.to_vec(),
        json: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        signature_ok: whatsapp::signature::verify(SECRET.as_bytes(), &raw, signature).is_ok(),
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    state.hits.lock().unwrap().push(hit);
    let failing = state
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = ReceiverState {
            hits: Arc::default(),
            fail_next: Arc::default(),
        };
        let app = Router::new()
            .route("/webhook", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://{addr}/webhook"),
            hits: state.hits,
            fail_next: state.fail_next,
        }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Answers 500 to the next `n` posts.
    pub fn fail_next(&self, n: usize) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// Waits until at least `n` posts arrived (panics after 5 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let hits = self.hits();
            if hits.len() >= n {
                return hits;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {n} webhooks arrived",
                hits.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Every `statuses[]` item of every post, in arrival order.
    pub fn statuses(&self) -> Vec<Value> {
        self.items("statuses")
    }

    /// Every `messages[]` item of every post, in arrival order.
    pub fn messages(&self) -> Vec<Value> {
        self.items("messages")
    }

    fn items(&self, key: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for hit in self.hits() {
            for entry in hit.json["entry"].as_array().into_iter().flatten() {
                for change in entry["changes"].as_array().into_iter().flatten() {
                    out.extend(
                        change["value"][key]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .cloned(),
                    );
                }
            }
        }
        out
    }
}

pub fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A simulator posting to a fresh receiver, with this status plan.
pub async fn start(plan: StatusPlan) -> (Simulator, Receiver) {
    let receiver = Receiver::start().await;
    let mut config = Config::new(SECRET, TOKEN).with_webhook_url(&receiver.url);
    config.statuses = plan;
    config.seed = Some(42);
    let sim = Simulator::start(localhost(), config).await.unwrap();
    (sim, receiver)
}

pub fn graph(sim: &Simulator) -> GraphClient {
    GraphClient::new(&sim.base_url(), "v23.0", Duration::from_secs(5)).unwrap()
}

pub fn text_to(to: &str, body: &str) -> SendRequest {
    SendRequest::new(
        to,
        OutgoingContent::Text {
            text: Text {
                body: body.into(),
                preview_url: None,
            },
        },
    )
}

/// Posts `body` to the messages endpoint with `token`; returns status and JSON answer.
pub async fn post_messages(sim: &Simulator, token: &str, body: &Value) -> (u16, Value) {
    let url = format!(
        "{}/v23.0/{}/messages",
        sim.base_url(),
        sim.phone_number_id()
    );
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub fn text_body(to: &str) -> Value {
    json!({"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "Hi"}})
}

/// Every status webhook: (status, wamid).
pub fn kinds(statuses: &[Value]) -> Vec<String> {
    statuses
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect()
}
