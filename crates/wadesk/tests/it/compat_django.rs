//! The Django "WhatsApp Support" API (`/api/send-message/`, `/api/webhook/`): its answers and
//! error shapes, and that it rides on the real outbox and webhook journal.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use wadesk::domain::Timestamp;

use crate::{
    db::backend_tests,
    helpers::{CUSTOMER, TestApp},
};

const SEND: &str = "/api/send-message/";
const WEBHOOK: &str = "/api/webhook/";
const BUSINESS: &str = "+15550783881";
/// A customer who has not written before (only through the Django webhook).
const GATEWAY_CUSTOMER: &str = "+5511977776666";

fn customer() -> String {
    format!("+{CUSTOMER}")
}

/// POSTs `body` with `content_type` (none when `None`) and the agent's bearer token.
async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut req = app
        .http
        .post(app.url(path))
        .bearer_auth(&app.token)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    req.send().await.unwrap()
}

async fn answer(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let is_json = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    assert!(is_json, "every answer is JSON ({status})");
    (status, r.json().await.unwrap())
}

async fn post_json(app: &TestApp, path: &str, body: &Value) -> (StatusCode, Value) {
    answer(post_raw(app, path, Some("application/json"), body.to_string()).await).await
}

fn flat(sender: &str, receiver: &str, content: &str) -> Value {
    json!({"sender": sender, "receiver": receiver, "content": content})
}

fn assert_rfc3339(v: &Value) {
    let t = v.as_str().unwrap_or("");
    assert!(
        t.ends_with('Z') && Timestamp::parse_rfc3339(t).is_some(),
        "{v} is RFC 3339 UTC"
    );
}

/// Waits until the simulator accepted a send of `id`; returns its request body.
async fn sent_body(app: &TestApp, id: &str) -> Value {
    app.eventually("the simulator receives the send", || async {
        app.sim
            .accepted_sends()
            .into_iter()
            .find(|s| s.callback_data.as_deref() == Some(id))
            .map(|s| s.body)
    })
    .await
}

backend_tests! {
    async fn a_json_send_is_queued_through_the_outbox_and_goes_out(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("Hello?").await;
        let (s, v) = post_json(&app, SEND, &flat(BUSINESS, &customer(), "Hi Ana!")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["message"], "Message sent asynchronously");
        let data = &v["data"];
        assert_eq!(
            (&data["sender"], &data["receiver"], &data["content"]),
            (&json!(BUSINESS), &json!(customer()), &json!("Hi Ana!"))
        );
        assert_rfc3339(&data["timestamp"]);
        let id = data["id"].as_str().unwrap();
        let body = sent_body(&app, id).await;
        assert_eq!(body["to"], customer());
        assert_eq!(body["text"]["body"], "Hi Ana!");
        let m = app.wait_status(id, "read").await;
        assert_eq!(m["direction"], "outbound");
        assert_eq!(m["author"], "token:agent");
        assert_eq!(app.sim.sends().len(), 1, "sent once");
    }
}

backend_tests! {
    async fn a_form_encoded_send_is_decoded_and_goes_out(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("Hello?").await;
        let form = format!(
            "sender=%2B15550783881&receiver=%2B{CUSTOMER}&content=Ol%C3%A1+Ana%2C+tudo+bem%3F"
        );
        let r = post_raw(
            &app,
            SEND,
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            form,
        )
        .await;
        let (s, v) = answer(r).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["data"]["content"], "Olá Ana, tudo bem?");
        assert_eq!(v["data"]["sender"], BUSINESS);
        let body = sent_body(&app, v["data"]["id"].as_str().unwrap()).await;
        assert_eq!(body["text"]["body"], "Olá Ana, tudo bem?");
    }
}

backend_tests! {
    async fn a_send_outside_the_24_hour_window_is_refused_and_nothing_is_queued(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let (s, v) = post_json(&app, SEND, &flat(BUSINESS, &customer(), "Anyone there?")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["error"], "Invalid payload");
        let reason = v["details"]["receiver"][0].as_str().unwrap_or("");
        assert!(reason.contains("24 hours"), "{v}");
        let (_, log) = app.get("/api/v1/messages").await;
        assert_eq!(log["messages"], json!([]));
        assert!(app.sim.sends().is_empty());
    }
}

backend_tests! {
    async fn invalid_payloads_get_the_originals_400_with_a_reason_per_field(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("Hello?").await;
        let c = customer();
        let required = "This field is required.";
        let cases: Vec<(&str, String, Value)> = vec![
            (
                "missing",
                json!({"receiver": c}).to_string(),
                json!({"sender": [required], "content": [required]}),
            ),
            (
                "blank",
                flat(BUSINESS, &c, "   ").to_string(),
                json!({"content": ["This field may not be blank."]}),
            ),
            (
                "null",
                json!({"sender": null, "receiver": c, "content": "hi"}).to_string(),
                json!({"sender": ["This field may not be null."]}),
            ),
            (
                "non-string",
                json!({"sender": BUSINESS, "receiver": c, "content": 42}).to_string(),
                json!({"content": ["Not a valid string."]}),
            ),
            (
                "content too long",
                flat(BUSINESS, &c, &"a".repeat(4097)).to_string(),
                json!({"content": ["Ensure this field has no more than 4096 characters."]}),
            ),
            (
                "receiver too long",
                flat(BUSINESS, &"1".repeat(33), "hi").to_string(),
                json!({"receiver": ["Ensure this field has no more than 32 characters."]}),
            ),
            (
                "array body",
                json!([BUSINESS, c, "hi"]).to_string(),
                json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
            ),
        ];
        for path in [SEND, WEBHOOK] {
            for (case, body, details) in &cases {
                let r = post_raw(&app, path, Some("application/json"), body.clone()).await;
                let (s, v) = answer(r).await;
                assert_eq!(s, StatusCode::BAD_REQUEST, "{path} {case}: {v}");
                assert_eq!(v["error"], "Invalid payload", "{path} {case}");
                assert_eq!(&v["details"], details, "{path} {case}");
            }
            for (case, body, field) in [
                ("invalid receiver", flat(BUSINESS, "call me", "hi"), "receiver"),
                ("invalid sender", flat("12", &c, "hi"), "sender"),
            ] {
                let (s, v) = post_json(&app, path, &body).await;
                assert_eq!(s, StatusCode::BAD_REQUEST, "{path} {case}: {v}");
                let reason = v["details"][field][0].as_str().unwrap_or("");
                assert!(reason.contains("valid phone number"), "{path} {case}: {v}");
                assert_eq!(v["details"].as_object().map(|d| d.len()), Some(1), "{v}");
            }
            let r = post_raw(&app, path, Some("application/json"), "{\"sender\": ").await;
            let (s, v) = answer(r).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{path} invalid JSON: {v}");
            assert_eq!(v["error"], "Invalid payload");
            let reason = v["details"]["non_field_errors"][0].as_str().unwrap_or("");
            assert!(reason.starts_with("JSON parse error"), "{v}");
        }
        let (_, log) = app.get("/api/v1/messages").await;
        assert_eq!(log["messages"].as_array().map(Vec::len), Some(1), "only the customer's");
        assert!(app.sim.sends().is_empty());
    }
}

backend_tests! {
    async fn other_methods_are_405_and_other_content_types_415(db: Db) {
        let app = TestApp::spawn_on(db).await;
        for path in [SEND, WEBHOOK] {
            for method in [reqwest::Method::GET, reqwest::Method::PUT, reqwest::Method::DELETE] {
                let r = app
                    .http
                    .request(method.clone(), app.url(path))
                    .bearer_auth(&app.token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    r.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()),
                    Some("POST")
                );
                let (s, v) = answer(r).await;
                assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                assert_eq!(v["detail"], format!("Method \"{method}\" not allowed."));
            }
            let body = flat(BUSINESS, &customer(), "hi").to_string();
            for ct in [Some("text/plain"), Some("multipart/form-data; boundary=x"), None] {
                let (s, v) = answer(post_raw(&app, path, ct, body.clone()).await).await;
                assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path} {ct:?}: {v}");
                assert!(
                    v["detail"].as_str().unwrap_or("").starts_with("Unsupported media type"),
                    "{v}"
                );
            }
        }
    }
}

backend_tests! {
    async fn the_webhook_files_an_inbound_message_through_the_journal_keeping_the_receiver(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let text = "Olá, vim pelo gateway antigo";
        let (s, v) = post_json(&app, WEBHOOK, &flat(GATEWAY_CUSTOMER, BUSINESS, text)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["message"], "Webhook received asynchronously");
        let data = &v["data"];
        assert_eq!(
            (&data["sender"], &data["receiver"], &data["content"]),
            (&json!(GATEWAY_CUSTOMER), &json!(BUSINESS), &json!(text))
        );
        assert_rfc3339(&data["timestamp"]);
        let wamid = data["id"].as_str().unwrap().to_owned();
        assert!(wamid.starts_with("compat."), "{wamid}");

        let m = app
            .eventually("the inbound message is stored", || async {
                let (s, m) = app.get(&format!("/api/v1/messages/{wamid}")).await;
                (s == StatusCode::OK).then_some(m)
            })
            .await;
        assert_eq!(m["direction"], "inbound");
        assert_eq!(m["kind"], "text");
        assert_eq!(m["text"], text);
        assert_eq!(m["status"], "received");
        let (_, log) = app.get(&format!("/api/v1/messages?phone={GATEWAY_CUSTOMER}")).await;
        assert_eq!(log["messages"][0]["id"], m["id"]);
        let (_, list) = app.get("/api/v1/conversations").await;
        let conversation = &list["conversations"][0];
        assert_eq!(conversation["contact"]["wa_id"], "5511977776666");
        assert_eq!(conversation["unread_count"], 1);

        let journal = app.journal().await;
        let entry = journal
            .iter()
            .find(|e| e["source"] == "django")
            .expect("a journal entry from the Django API");
        assert_eq!(entry["signature"], "unchecked");
        assert_eq!(entry["state"], "done");
        let body: Value = serde_json::from_str(entry["body"].as_str().unwrap()).unwrap();
        let value = &body["entry"][0]["changes"][0]["value"];
        assert_eq!(value["metadata"]["display_phone_number"], "15550783881");
        assert_eq!(value["messages"][0]["compat"]["receiver"], BUSINESS);
        assert_eq!(value["messages"][0]["id"], wamid.as_str());

        // The customer wrote, so the 24-hour window is open for a reply.
        let (s, v) = post_json(&app, SEND, &flat(BUSINESS, GATEWAY_CUSTOMER, "Bem-vindo!")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        sent_body(&app, v["data"]["id"].as_str().unwrap()).await;
    }
}

backend_tests! {
    async fn without_a_business_number_both_routes_answer_400(db: Db) {
        let app = TestApp::spawn_with_on(db, |c| c.whatsapp.phone_number_id = None).await;
        for path in [SEND, WEBHOOK] {
            let (s, v) = post_json(&app, path, &flat(GATEWAY_CUSTOMER, BUSINESS, "hi")).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {v}");
            assert_eq!(v["error"], "WhatsApp is not configured", "{path}");
            let reason = v["details"]["non_field_errors"][0].as_str().unwrap_or("");
            assert!(reason.contains("WHATSAPP_PHONE_NUMBER_ID"), "{v}");
        }
        assert!(app.journal().await.is_empty());
    }
}

backend_tests! {
    async fn without_a_valid_bearer_token_both_routes_answer_401(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let body = flat(GATEWAY_CUSTOMER, BUSINESS, "hi").to_string();
        for path in [SEND, WEBHOOK] {
            let r = app
                .http
                .post(app.url(path))
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
            let r = app
                .http
                .post(app.url(path))
                .bearer_auth("not-a-token")
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        }
        assert!(app.journal().await.is_empty());
        let (_, log) = app.get("/api/v1/messages").await;
        assert_eq!(log["messages"], json!([]));
    }
}
