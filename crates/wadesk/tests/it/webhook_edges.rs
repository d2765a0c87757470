//! The webhook endpoint's answers to what Meta (or an impostor) may send, and what the journal
//! keeps of each.

use reqwest::StatusCode;
use serde_json::Value;
use simulator::payload;

use crate::{
    db::backend_tests,
    helpers::{CUSTOMER, TestApp},
};

async fn error_code(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

backend_tests! {
    async fn handshake_echoes_the_bare_challenge_only_with_the_right_token(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let get = |q: &str| {
            app.http
                .get(app.url(&format!("/webhooks/whatsapp?{q}")))
                .send()
        };
        let ok = get("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444")
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(
            ok.text().await.unwrap(),
            "1158201444",
            "bare, not JSON-encoded"
        );
        for q in [
            "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
            "hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1",
            "hub.challenge=1",
        ] {
            assert_eq!(get(q).await.unwrap().status(), StatusCode::FORBIDDEN, "{q}");
        }
    }
}

backend_tests! {
    async fn bad_or_missing_signatures_are_refused_and_nothing_is_kept(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let body = simulator::to_meta_json(&app.from_customer(vec![payload::text(CUSTOMER, "forged")]))
            .unwrap();
        let wrong = whatsapp::signature::sign(b"not-the-app-secret", &body);
        assert_eq!(
            error_code(app.webhook_raw(body.clone(), Some(&wrong)).await).await,
            (StatusCode::UNAUTHORIZED, "invalid_signature".into())
        );
        assert_eq!(
            error_code(app.webhook_raw(body.clone(), None).await).await,
            (StatusCode::UNAUTHORIZED, "invalid_signature".into())
        );
        assert_eq!(
            error_code(app.webhook_raw(body.clone(), Some("sha256=abc")).await).await,
            (StatusCode::UNAUTHORIZED, "invalid_signature".into())
        );
        // A signature over re-serialised JSON (non-ASCII unescaped) does not match Meta's bytes.
        let reserialised =
            serde_json::to_vec(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
        let sig = whatsapp::signature::sign(app.sim.app_secret().as_bytes(), &reserialised);
        let text = payload::text(CUSTOMER, "Olá 👋");
        let meta_bytes = simulator::to_meta_json(&app.from_customer(vec![text])).unwrap();
        assert_ne!(
            meta_bytes,
            serde_json::to_vec(&serde_json::from_slice::<Value>(&meta_bytes).unwrap()).unwrap()
        );
        assert_eq!(
            app.webhook_raw(body, Some(&sig)).await.status(),
            StatusCode::OK,
            "ASCII-only body: same bytes"
        );
        let meta_sig = whatsapp::signature::sign(app.sim.app_secret().as_bytes(), &meta_bytes);
        assert_eq!(
            app.webhook_raw(meta_bytes, Some(&meta_sig)).await.status(),
            StatusCode::OK
        );
        let journal = app.journal().await;
        assert_eq!(
            journal.len(),
            2,
            "only the two correctly signed bodies are kept: {journal:?}"
        );
        assert!(journal.iter().all(|e| e["signature"] == "valid"));
    }
}

backend_tests! {
    async fn a_body_over_3_mb_gets_413_and_is_not_kept(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let big = vec![b' '; 4 * 1024 * 1024];
        let sig = whatsapp::signature::sign(app.sim.app_secret().as_bytes(), &big);
        let (status, code) = error_code(app.webhook_raw(big, Some(&sig)).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        );
        assert!(app.journal().await.is_empty());
    }
}

backend_tests! {
    async fn a_signed_body_that_is_not_json_is_kept_with_its_error_and_does_not_block_later_ones(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let junk = b"{\"object\": \"whatsapp_business_account\", \"entry\": [".to_vec();
        let sig = whatsapp::signature::sign(app.sim.app_secret().as_bytes(), &junk);
        assert_eq!(
            app.webhook_raw(junk.clone(), Some(&sig)).await.status(),
            StatusCode::OK,
            "acknowledged: Meta must not retry it for a week"
        );
        let wamid = app.customer_says("still there?").await;
        assert!(!wamid.is_empty());
        let journal = app.journal().await;
        assert_eq!(journal.len(), 2);
        let bad = journal
            .iter()
            .find(|e| e["body"].as_str() == Some(std::str::from_utf8(&junk).unwrap()))
            .unwrap();
        assert_eq!(bad["state"], "pending", "kept and retried: {bad}");
        assert!(bad["attempts"].as_i64().unwrap() >= 1);
        assert!(
            bad["last_error"].as_str().unwrap().contains("invalid JSON"),
            "{bad}"
        );
        let health = app.health().await;
        assert_eq!(health["webhooks"]["pending"], 1, "{health}");
    }
}

backend_tests! {
    async fn a_body_that_keeps_failing_ends_failed_and_can_be_reprocessed(db: Db) {
        let app = TestApp::spawn_with_on(db, |c| c.ingest_max_attempts = 1).await;
        let junk = b"[1, 2, 3]".to_vec();
        let sig = whatsapp::signature::sign(app.sim.app_secret().as_bytes(), &junk);
        assert_eq!(
            app.webhook_raw(junk, Some(&sig)).await.status(),
            StatusCode::OK
        );
        let failed = app
            .eventually("the body is marked failed", || async {
                let j = app.journal().await;
                j.into_iter().find(|e| e["state"] == "failed")
            })
            .await;
        let health = app.health().await;
        assert_eq!(health["webhooks"]["failed"], 1);
        assert_eq!(health["status"], "degraded");
        let id = failed["id"].as_i64().unwrap();
        let (s, _) = app
            .post_as(
                &format!("/api/v1/webhook-events/{id}/reprocess"),
                &Value::Null,
                &app.admin,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app
            .post(
                &format!("/api/v1/webhook-events/{id}/reprocess"),
                &Value::Null,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "agents cannot reprocess");
    }
}
