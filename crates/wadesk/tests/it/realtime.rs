//! Server-Sent Events: live delivery, and resuming after a disconnect without missing events.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    db::backend_tests,
    helpers::{CUSTOMER, TestApp},
};

/// One parsed SSE event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: i64,
    pub kind: String,
    pub data: Value,
}

/// An open event stream.
pub struct Sse {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl Sse {
    pub async fn open(app: &TestApp, last_event_id: Option<i64>) -> Self {
        let mut req = app
            .http
            .get(app.url("/api/v1/events"))
            .bearer_auth(&app.token);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Self {
            body: Box::pin(r.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event, or `None` after `wait` without one.
    pub async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    id: 0,
                    kind: String::new(),
                    data: Value::Null,
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        event.id = v.trim().parse().unwrap_or(0);
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event.kind = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data = serde_json::from_str(v.trim()).unwrap_or(Value::Null);
                    }
                }
                if event.kind.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some(event);
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??
                .ok()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Events until one matches `pred` (returned last), 10 s at most.
    pub async fn until(&mut self, pred: impl Fn(&SseEvent) -> bool) -> Vec<SseEvent> {
        let mut seen = Vec::new();
        while let Some(e) = self.next(Duration::from_secs(10)).await {
            let done = pred(&e);
            seen.push(e);
            if done {
                return seen;
            }
        }
        panic!("no matching event; saw {seen:?}");
    }
}

backend_tests! {
    async fn a_customer_message_and_its_reply_ticks_arrive_as_events(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let mut sse = Sse::open(&app, None).await;
        app.customer_says("is anyone there?").await;
        let seen = sse.until(|e| e.kind == "message.created").await;
        let created = seen.last().unwrap();
        let conversation_id = created.data["conversation_id"].as_i64().unwrap();
        assert!(created.id > 0);
        let (_, sent) = app.send_text(&format!("+{CUSTOMER}"), "yes!").await;
        let id = sent["id"].as_str().unwrap().to_owned();
        let seen = sse.until(|e| e.kind == "message.updated" && e.data["id"] == id.as_str()).await;
        assert!(seen.iter().any(|e| e.kind == "message.created" && e.data["id"] == id.as_str()));
        assert!(seen.iter().all(|e| e.kind != "conversation.updated" || e.data["id"] == conversation_id));
        let ids: Vec<i64> = seen.iter().map(|e| e.id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids rise: {ids:?}");
    }

    async fn a_reconnect_with_last_event_id_misses_nothing(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let mut sse = Sse::open(&app, None).await;
        app.customer_says("first").await;
        let last = sse.until(|e| e.kind == "message.created").await.last().unwrap().id;
        drop(sse);
        // While disconnected: three more customer messages.
        let mut wamids = Vec::new();
        for i in 0..3 {
            wamids.push(app.customer_says(&format!("while away {i}")).await);
        }
        let mut sse = Sse::open(&app, Some(last)).await;
        let mut created = Vec::new();
        while created.len() < 3 {
            let e = sse.next(Duration::from_secs(10)).await.expect("missed events are replayed");
            assert!(e.id > last);
            if e.kind == "message.created" {
                created.push(e.data["id"].as_str().unwrap().to_owned());
            }
        }
        for (id, wamid) in created.iter().zip(&wamids) {
            let m = app.message(id).await;
            assert_eq!(m["wamid"], wamid.as_str(), "in order");
        }
        // A fresh subscriber without Last-Event-ID starts from now.
        let mut fresh = Sse::open(&app, None).await;
        assert!(fresh.next(Duration::from_millis(300)).await.is_none());
    }

    async fn agent_actions_are_events_too(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("hello").await;
        let (_, list) = app.get("/api/v1/conversations").await;
        let id = list["conversations"][0]["id"].as_i64().unwrap();
        let mut sse = Sse::open(&app, None).await;
        let r = app.http.patch(app.url(&format!("/api/v1/conversations/{id}"))).bearer_auth(&app.token)
            .json(&json!({"status": "resolved", "assignee": "ana", "labels": ["vip", " "]})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let c: Value = r.json().await.unwrap();
        assert_eq!((c["status"].as_str(), c["assignee"].as_str()), (Some("resolved"), Some("ana")));
        assert_eq!(c["labels"], json!(["vip"]));
        let e = sse.until(|e| e.kind == "conversation.updated").await;
        assert_eq!(e.last().unwrap().data["id"], id);
        app.post(&format!("/api/v1/conversations/{id}/read"), &Value::Null).await;
        sse.until(|e| e.kind == "conversation.updated").await;
        let r = app.http.patch(app.url(&format!("/api/v1/conversations/{id}"))).bearer_auth(&app.token)
            .json(&json!({"assignee": null})).send().await.unwrap();
        let c: Value = r.json().await.unwrap();
        assert_eq!(c["assignee"], Value::Null);
        assert_eq!(c["status"], "resolved", "left alone");
        // A new customer message reopens a resolved conversation.
        app.customer_says("one more thing").await;
        let (_, c) = app.get(&format!("/api/v1/conversations/{id}")).await;
        assert_eq!(c["status"], "open");
    }
}

backend_tests! {
    async fn a_stream_ends_when_its_token_is_revoked(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let (_, v) = app.post_as("/api/v1/tokens", &json!({"name": "listener"}), &app.admin, None).await;
        let token = v["token"].as_str().unwrap().to_owned();
        let r = app.http.get(app.url("/api/v1/events")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let mut body = r.bytes_stream();
        let (_, list) = app.get_as("/api/v1/tokens", &app.admin).await;
        let id = list["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "listener").unwrap()["id"].as_i64().unwrap();
        app.http.delete(app.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&app.admin).send().await.unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(Ok(_)) = body.next().await {}
        })
        .await;
        assert!(ended.is_ok(), "the stream of a revoked token is closed");
    }
}
