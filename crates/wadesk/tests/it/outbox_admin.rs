//! Outbox administration: what is queued, retrying or failed; retry and cancel.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use simulator::Fault;

use crate::{
    db::backend_tests,
    helpers::{CUSTOMER, TestApp},
};

backend_tests! {
    async fn failed_sends_are_listed_and_can_be_retried(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("hi").await;
        app.sim.inject(Fault::code(131000).always());
        let app_cfg_max = 10;
        let (_, m) = app.send_text(&format!("+{CUSTOMER}"), "will fail").await;
        let id = m["id"].as_str().unwrap().to_owned();
        crate::helpers::eventually("the retries run out", Duration::from_secs(30), || async {
            (app.message(&id).await["status"] == "failed").then_some(())
        }).await;
        assert_eq!(app.sim.sends().len(), app_cfg_max, "max attempts");
        let (s, list) = app.get_as("/api/v1/outbox?state=failed", &app.admin).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["entries"][0]["message"]["id"], id.as_str());
        assert_eq!(app.get("/api/v1/outbox?state=failed").await.0, StatusCode::FORBIDDEN);
        app.sim.clear_faults();
        let (s, m) = app.post_as(&format!("/api/v1/outbox/{id}/retry"), &Value::Null, &app.admin, None).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{m}");
        assert_eq!(m["status"], "queued");
        assert_eq!(m["error"], Value::Null);
        app.wait_status(&id, "read").await;
        let (s, e) = app.post_as(&format!("/api/v1/outbox/{id}/retry"), &Value::Null, &app.admin, None).await;
        assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_retryable")));
    }

    async fn a_waiting_send_can_be_cancelled(db: Db) {
        let app = TestApp::spawn_with_on(db, |c| c.outbox.retry_base_ms = 60_000).await;
        app.customer_says("hi").await;
        app.sim.inject(Fault::code(130429));
        let (_, m) = app.send_text(&format!("+{CUSTOMER}"), "cancel me").await;
        let id = m["id"].as_str().unwrap().to_owned();
        let entry = app.eventually("the send waits for a retry", || async {
            let (_, l) = app.get_as("/api/v1/outbox?state=retrying", &app.admin).await;
            l["entries"].as_array().and_then(|e| e.first().cloned())
        }).await;
        assert_eq!(entry["message"]["id"], id.as_str());
        assert_eq!(entry["attempts"], 1);
        assert!(entry["last_error"].as_str().unwrap().contains("130429"));
        let r = app.http.delete(app.url(&format!("/api/v1/outbox/{id}"))).bearer_auth(&app.admin).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let m = app.message(&id).await;
        assert_eq!((m["status"].as_str(), m["error"]["title"].as_str()), (Some("failed"), Some("Cancelled")));
        let r = app.http.delete(app.url(&format!("/api/v1/outbox/{id}"))).bearer_auth(&app.admin).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let (_, l) = app.get_as("/api/v1/outbox?state=queued", &app.admin).await;
        assert!(l["entries"].as_array().unwrap().is_empty());
    }

    async fn retrying_or_cancelling_a_message_that_does_not_exist_is_404(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let (s, e) = app.post_as("/api/v1/outbox/no-such-message/retry", &Value::Null, &app.admin, None).await;
        assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
        let r = app.http.delete(app.url("/api/v1/outbox/no-such-message")).bearer_auth(&app.admin).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["message"], "message not found");
    }
}
