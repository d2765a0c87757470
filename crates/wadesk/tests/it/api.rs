//! The read API over real HTTP: authentication and roles, health, the conversation list and
//! its pages, a conversation's messages, the message log and its filters, marking read, list
//! limits, and unknown routes.

use std::{
    collections::HashSet,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use simulator::{Fault, payload};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    db::backend_tests,
    helpers::{CUSTOMER, CUSTOMER_NAME, TestApp, no_statuses},
};

const ALICE: (&str, &str) = ("5511911110001", "Alice Lima");
const BRUNO: (&str, &str) = ("5511922220002", "Bruno Reis");
const CARLA: (&str, &str) = ("5511933330003", "Carla Dias");

fn unix_now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

/// Unix milliseconds of an RFC 3339 time in a response.
fn millis(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    let t = OffsetDateTime::parse(s, &Rfc3339).unwrap_or_else(|e| panic!("{s}: {e}"));
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap()
}

/// A text from `from` whose Meta timestamp is `at` (unix seconds).
fn text_at(from: &str, body: &str, at: i64) -> Value {
    let mut m = payload::text(from, body);
    m["timestamp"] = json!(at.to_string());
    m
}

/// `from` (with profile name `name`) sends `message`; waits until the inbox stores it.
async fn customer_sends(app: &TestApp, (from, name): (&str, &str), message: Value) -> String {
    let wamid = message["id"].as_str().unwrap().to_owned();
    let notification = app.envelope(&[(from, name)], vec![message], vec![]);
    assert_eq!(app.webhook(&notification).await, StatusCode::OK);
    app.eventually(&format!("{wamid} is stored"), || async {
        let (s, _) = app.get(&format!("/api/v1/messages/{wamid}")).await;
        (s == StatusCode::OK).then_some(())
    })
    .await;
    wamid
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Asserts a `{"error": {"code", "message"}}` answer with this status and code.
fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (s, body) = answer;
    assert_eq!(*s, status, "{body}");
    assert_eq!(error_code(body), code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "a message for people: {body}"
    );
}

fn list<'a>(body: &'a Value, key: &str) -> &'a Vec<Value> {
    body[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {body}"))
}

/// The conversation of the only customer of `app` (as listed).
async fn only_conversation(app: &TestApp) -> Value {
    let (s, body) = app.get("/api/v1/conversations").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let all = list(&body, "conversations");
    assert_eq!(all.len(), 1, "{body}");
    all[0].clone()
}

backend_tests! {
    async fn requests_without_a_known_token_get_401_with_the_json_error_shape(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let bare = app
            .http
            .get(app.url("/api/v1/conversations"))
            .send()
            .await
            .unwrap();
        let status = bare.status();
        let body: Value = bare.json().await.unwrap();
        assert_error(&(status, body), StatusCode::UNAUTHORIZED, "unauthorized");

        for path in [
            "/api/v1/conversations",
            "/api/v1/messages",
            "/api/v1/messages/x",
        ] {
            let answer = app.get_as(path, "wdk_not-a-token-we-made").await;
            assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthorized");
        }
        let basic = app
            .http
            .get(app.url("/api/v1/messages"))
            .header("authorization", format!("Basic {}", app.token))
            .send()
            .await
            .unwrap();
        assert_eq!(
            basic.status(),
            StatusCode::UNAUTHORIZED,
            "only the Bearer scheme"
        );
        let send = app
            .http
            .post(app.url("/api/v1/messages"))
            .json(&json!({"to": "+15550001111", "type": "text", "text": {"body": "hi"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            send.status(),
            StatusCode::UNAUTHORIZED,
            "nor can anyone send"
        );
        assert_eq!(app.get("/api/v1/conversations").await.0, StatusCode::OK);
    }
}

backend_tests! {
    async fn admin_routes_refuse_agent_tokens_with_403(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let resume = app
            .post_as("/api/v1/outbox/resume", &json!({}), &app.token, None)
            .await;
        assert_error(&resume, StatusCode::FORBIDDEN, "forbidden");
        let events = app.get_as("/api/v1/webhook-events", &app.token).await;
        assert_error(&events, StatusCode::FORBIDDEN, "forbidden");
        let reprocess = app
            .post_as(
                "/api/v1/webhook-events/1/reprocess",
                &json!({}),
                &app.token,
                None,
            )
            .await;
        assert_error(&reprocess, StatusCode::FORBIDDEN, "forbidden");

        let (s, body) = app
            .post_as("/api/v1/outbox/resume", &json!({}), &app.admin, None)
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["resumed"], false, "nothing was paused: {body}");
        let (s, body) = app.get_as("/api/v1/webhook-events", &app.admin).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body["events"].is_array(), "{body}");
    }
}

backend_tests! {
    async fn health_needs_no_token_and_reports_configuration_and_queue_depths(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let r = app
            .http
            .get(app.url("/api/v1/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let h: Value = r.json().await.unwrap();
        assert_eq!(h["status"], "ok", "{h}");
        assert_eq!(h["database"], "ok", "{h}");
        assert!(h["version"].as_str().is_some_and(|v| !v.is_empty()), "{h}");
        assert_eq!(h["whatsapp"]["configured"], true, "{h}");
        assert_eq!(h["whatsapp"]["paused"], false, "{h}");
        assert!(h["whatsapp"]["reason"].is_null(), "{h}");
        for key in ["queued", "retrying", "failed"] {
            assert_eq!(h["outbox"][key], 0, "outbox.{key} of an empty outbox: {h}");
        }
        for key in ["pending", "failed"] {
            assert_eq!(
                h["webhooks"][key], 0,
                "webhooks.{key} of an empty journal: {h}"
            );
        }
    }
}

backend_tests! {
    async fn health_counts_sends_in_the_outbox_and_webhooks_that_failed(db: Db) {
        let app = TestApp::spawn_with_on(db, |c| c.ingest_max_attempts = 1).await;
        app.sim.set_status_plan(no_statuses());
        app.sim.inject(Fault::slow(Duration::from_millis(1500)));
        let (s, sent) = app
            .post(
                "/api/v1/messages",
                &json!({"to": "+15550007777", "type": "template",
                        "template": {"name": "hello", "language": {"code": "en_US"}}}),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{sent}");
        let h = app.health().await;
        assert_eq!(
            h["outbox"]["queued"], 1,
            "a send on its way is still queued: {h}"
        );
        app.wait_status(sent["id"].as_str().unwrap(), "accepted")
            .await;
        assert_eq!(app.health().await["outbox"]["queued"], 0);

        // Signed, so journaled; but not a WhatsApp notification, so it cannot be applied.
        let stranger = json!({"object": "page", "entry": []});
        assert_eq!(app.webhook(&stranger).await, StatusCode::OK);
        let h = app
            .eventually("the body is marked failed", || async {
                let h = app.health().await;
                (h["webhooks"]["failed"] == 1).then_some(h)
            })
            .await;
        assert_eq!(h["webhooks"]["pending"], 0, "{h}");
        assert_eq!(
            h["status"], "degraded",
            "a failed webhook needs attention: {h}"
        );
        assert_eq!(h["whatsapp"]["paused"], false, "{h}");
    }
}

backend_tests! {
    async fn conversations_are_listed_newest_activity_first_with_contact_preview_and_unread(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let t = unix_now();
        customer_sends(&app, ALICE, text_at(ALICE.0, "first from Alice", t - 400)).await;
        customer_sends(&app, BRUNO, text_at(BRUNO.0, "hello from Bruno", t - 300)).await;
        customer_sends(&app, CARLA, text_at(CARLA.0, "hi from Carla", t - 200)).await;
        customer_sends(&app, ALICE, text_at(ALICE.0, "Alice again", t - 100)).await;

        let (s, body) = app.get("/api/v1/conversations").await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body["next_cursor"].is_null(), "one page: {body}");
        let all = list(&body, "conversations");
        let order: Vec<&str> = all
            .iter()
            .map(|c| c["contact"]["wa_id"].as_str().unwrap())
            .collect();
        assert_eq!(order, [ALICE.0, CARLA.0, BRUNO.0], "newest activity first");
        let expected = [
            (ALICE, "Alice again", 2, t - 100),
            (CARLA, "hi from Carla", 1, t - 200),
            (BRUNO, "hello from Bruno", 1, t - 300),
        ];
        let mut ids = HashSet::new();
        for (c, ((wa_id, name), preview, unread, at)) in all.iter().zip(expected) {
            assert!(
                ids.insert(c["id"].as_i64().unwrap()),
                "distinct ids: {body}"
            );
            assert_eq!(c["contact"]["name"], name, "{c}");
            assert_eq!(c["contact"]["phone"], format!("+{wa_id}"), "{c}");
            assert!(c["contact"]["id"].is_i64(), "{c}");
            assert_eq!(c["status"], "open", "{c}");
            assert!(c["assignee"].is_null(), "{c}");
            assert_eq!(c["labels"], json!([]), "{c}");
            assert_eq!(c["unread_count"], unread, "{c}");
            assert_eq!(c["last_message"]["text"], preview, "{c}");
            assert_eq!(c["last_message"]["direction"], "inbound", "{c}");
            assert_eq!(c["last_message"]["conversation_id"], c["id"], "{c}");
            assert_eq!(millis(&c["last_message_at"]), at * 1000, "{c}");
            assert_eq!(millis(&c["last_inbound_at"]), at * 1000, "{c}");
            assert_eq!(c["phone_number_id"], app.sim.phone_number_id(), "{c}");
            let (s, one) = app.get(&format!("/api/v1/conversations/{}", c["id"])).await;
            assert_eq!(s, StatusCode::OK, "{one}");
            assert_eq!(one["contact"], c["contact"], "{one}");
            assert_eq!(one["unread_count"], c["unread_count"], "{one}");
        }
    }
}

backend_tests! {
    async fn conversation_list_pages_with_next_cursor_until_null(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let t = unix_now();
        for (i, customer) in [ALICE, BRUNO, CARLA].into_iter().enumerate() {
            let at = t - 300 + 100 * i64::try_from(i).unwrap();
            customer_sends(&app, customer, text_at(customer.0, "hello", at)).await;
        }
        let (s, first) = app.get("/api/v1/conversations?limit=2").await;
        assert_eq!(s, StatusCode::OK, "{first}");
        let page = list(&first, "conversations");
        let wa_ids = |page: &Vec<Value>| -> Vec<String> {
            page.iter()
                .map(|c| c["contact"]["wa_id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(wa_ids(page), [CARLA.0, BRUNO.0], "{first}");
        let cursor = first["next_cursor"]
            .as_str()
            .unwrap_or_else(|| panic!("a second page: {first}"));

        let (s, second) = app
            .get(&format!("/api/v1/conversations?limit=2&cursor={cursor}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{second}");
        assert_eq!(
            wa_ids(list(&second, "conversations")),
            [ALICE.0],
            "{second}"
        );
        assert!(second["next_cursor"].is_null(), "last page: {second}");

        let (_, exact) = app.get("/api/v1/conversations?limit=3").await;
        assert_eq!(list(&exact, "conversations").len(), 3);
        assert!(exact["next_cursor"].is_null(), "a full last page: {exact}");
    }
}

backend_tests! {
    async fn conversation_list_rejects_bad_filters_and_cursors_and_unknown_ids_are_404(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("hello").await;
        let answer = app.get("/api/v1/conversations?status=closed").await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query");
        for cursor in ["garbage", "123.not-a-number", "abc.1"] {
            let answer = app
                .get(&format!("/api/v1/conversations?cursor={cursor}"))
                .await;
            assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_cursor");
        }
        for status in ["open", "pending", "resolved"] {
            let (s, body) = app
                .get(&format!("/api/v1/conversations?status={status}"))
                .await;
            assert_eq!(s, StatusCode::OK, "{body}");
            let expected = usize::from(status == "open");
            assert_eq!(list(&body, "conversations").len(), expected, "{body}");
        }
        for path in [
            "/api/v1/conversations/999999",
            "/api/v1/conversations/not-a-number",
            "/api/v1/conversations/999999/messages",
        ] {
            assert_error(&app.get(path).await, StatusCode::NOT_FOUND, "not_found");
        }
    }
}

backend_tests! {
    async fn window_open_until_is_24_hours_after_the_last_inbound_message(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.sim.set_status_plan(no_statuses());
        let t = unix_now();
        let last = t - 600;
        customer_sends(
            &app,
            (CUSTOMER, CUSTOMER_NAME),
            text_at(CUSTOMER, "earlier", t - 3600),
        )
        .await;
        customer_sends(
            &app,
            (CUSTOMER, CUSTOMER_NAME),
            text_at(CUSTOMER, "later", last),
        )
        .await;
        // Our reply moves the activity forward but not the window.
        let (s, reply) = app.send_text(&format!("+{CUSTOMER}"), "on it").await;
        assert_eq!(s, StatusCode::ACCEPTED, "{reply}");

        let c = only_conversation(&app).await;
        assert_eq!(millis(&c["last_inbound_at"]), last * 1000, "{c}");
        let day_ms = 24 * 60 * 60 * 1000;
        assert_eq!(millis(&c["window_open_until"]), last * 1000 + day_ms, "{c}");
        assert!(
            millis(&c["last_message_at"]) > last * 1000,
            "our reply is the latest activity: {c}"
        );
        assert_eq!(c["last_message"]["id"], reply["id"], "{c}");

        // A conversation we started with a template has no open window.
        let (s, sent) = app
            .post(
                "/api/v1/messages",
                &json!({"to": "+15550009999", "type": "template",
                        "template": {"name": "hello", "language": {"code": "en_US"}}}),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{sent}");
        let (s, ours) = app
            .get(&format!(
                "/api/v1/conversations/{}",
                sent["conversation_id"]
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{ours}");
        assert!(ours["window_open_until"].is_null(), "{ours}");
        assert!(ours["last_inbound_at"].is_null(), "{ours}");
    }
}

backend_tests! {
    async fn conversation_messages_are_newest_first_and_keyset_pages_visit_each_once(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let mut wamids = Vec::new();
        for i in 1..=5 {
            wamids.push(app.customer_says(&format!("message {i}")).await);
        }
        wamids.reverse();
        let id = only_conversation(&app).await["id"].as_i64().unwrap();
        let path = format!("/api/v1/conversations/{id}/messages");

        let (s, all) = app.get(&path).await;
        assert_eq!(s, StatusCode::OK, "{all}");
        assert!(all["next_cursor"].is_null(), "{all}");
        let texts: Vec<&str> = list(&all, "messages")
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            texts,
            [
                "message 5",
                "message 4",
                "message 3",
                "message 2",
                "message 1"
            ],
            "newest first"
        );

        for param in ["cursor", "before"] {
            let mut seen = Vec::new();
            let mut sizes = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let url = match &cursor {
                    Some(c) => format!("{path}?limit=2&{param}={c}"),
                    None => format!("{path}?limit=2"),
                };
                let (s, page) = app.get(&url).await;
                assert_eq!(s, StatusCode::OK, "{page}");
                let messages = list(&page, "messages");
                sizes.push(messages.len());
                for m in messages {
                    assert_eq!(m["conversation_id"], id, "{m}");
                    seen.push(m["wamid"].as_str().unwrap().to_owned());
                }
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => break,
                }
                assert!(sizes.len() < 10, "paging does not end: {sizes:?}");
            }
            assert_eq!(sizes, [2, 2, 1], "paging with {param}");
            assert_eq!(
                seen, wamids,
                "each message once, newest first, with {param}"
            );
        }
        let bad = app.get(&format!("{path}?before=yesterday")).await;
        assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_cursor");
    }
}

backend_tests! {
    async fn message_log_filters_by_phone_direction_and_status_and_finds_by_id_or_wamid(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.sim.set_status_plan(no_statuses());
        let t = unix_now();
        let a1 = customer_sends(&app, ALICE, text_at(ALICE.0, "a1", t - 30)).await;
        let a2 = customer_sends(&app, ALICE, text_at(ALICE.0, "a2", t - 20)).await;
        let b1 = customer_sends(&app, BRUNO, text_at(BRUNO.0, "b1", t - 10)).await;
        let (s, reply) = app.send_text(&format!("+{}", ALICE.0), "hello Alice").await;
        assert_eq!(s, StatusCode::ACCEPTED, "{reply}");
        let template = json!({"to": "+15550004444", "type": "template",
                              "template": {"name": "hello", "language": {"code": "en_US"}}});
        let (s, cold) = app.post("/api/v1/messages", &template).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{cold}");
        let reply_id = reply["id"].as_str().unwrap().to_owned();
        let cold_id = cold["id"].as_str().unwrap().to_owned();
        let reply = app.wait_status(&reply_id, "accepted").await;
        app.wait_status(&cold_id, "accepted").await;

        let ids = |body: &Value| -> Vec<String> {
            list(body, "messages")
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let wamids_of = |body: &Value| -> HashSet<String> {
            list(body, "messages")
                .iter()
                .filter_map(|m| m["wamid"].as_str().map(str::to_owned))
                .collect()
        };
        let query = |q: String| {
            let app = &app;
            async move {
                let (s, body) = app.get(&format!("/api/v1/messages?{q}")).await;
                assert_eq!(s, StatusCode::OK, "{q}: {body}");
                body
            }
        };

        let everything = query(String::new()).await;
        assert_eq!(ids(&everything).len(), 5, "{everything}");
        let alice = query(format!("phone=%2B{}", ALICE.0)).await;
        let alice_bare = query(format!("phone={}", ALICE.0)).await;
        assert_eq!(ids(&alice), ids(&alice_bare), "with or without +");
        assert_eq!(ids(&alice).len(), 3, "{alice}");
        assert_eq!(ids(&alice)[0], reply_id, "newest first: {alice}");
        let reply_wamid = reply["wamid"].as_str().unwrap().to_owned();
        let expected: HashSet<String> = [a1.clone(), a2.clone(), reply_wamid.clone()].into();
        assert_eq!(wamids_of(&alice), expected, "{alice}");
        let bruno = query(format!("phone=%2B{}", BRUNO.0)).await;
        assert_eq!(wamids_of(&bruno), [b1.clone()].into(), "{bruno}");
        let nobody = query("phone=15559998888".into()).await;
        assert!(ids(&nobody).is_empty(), "{nobody}");

        let inbound = query("direction=inbound".into()).await;
        assert_eq!(wamids_of(&inbound), [a1, a2, b1].into(), "{inbound}");
        let outbound = query("direction=outbound".into()).await;
        let mut out_ids = ids(&outbound);
        out_ids.sort();
        let mut expected_out = vec![reply_id.clone(), cold_id.clone()];
        expected_out.sort();
        assert_eq!(out_ids, expected_out, "{outbound}");
        let accepted = query("status=accepted".into()).await;
        assert_eq!(ids(&accepted).len(), 2, "{accepted}");
        let received = query("status=received&direction=inbound".into()).await;
        assert_eq!(ids(&received).len(), 3, "{received}");
        assert!(ids(&query("status=queued".into()).await).is_empty());
        let alice_out = query(format!("phone={}&direction=outbound", ALICE.0)).await;
        assert_eq!(ids(&alice_out), vec![reply_id.clone()], "filters combine");
        let future = query("since=2999-01-01T00:00:00Z".into()).await;
        assert!(ids(&future).is_empty(), "{future}");
        let past = query("until=2000-01-01T00:00:00Z".into()).await;
        assert!(ids(&past).is_empty(), "{past}");

        for q in [
            "phone=abc",
            "phone=123",
            "direction=sideways",
            "status=lost",
            "since=yesterday",
        ] {
            let answer = app.get(&format!("/api/v1/messages?{q}")).await;
            assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query");
        }
        let bad_cursor = app.get("/api/v1/messages?cursor=nope").await;
        assert_error(&bad_cursor, StatusCode::BAD_REQUEST, "invalid_cursor");

        let by_id = app.message(&reply_id).await;
        let by_wamid = app.message(&reply_wamid).await;
        assert_eq!(by_id, by_wamid);
        assert_eq!(by_id["id"], reply_id.as_str());
        assert_eq!(by_id["direction"], "outbound");
        assert_eq!(by_id["kind"], "text");
        assert_eq!(by_id["text"], "hello Alice");
        assert_eq!(by_id["author"], "token:agent");
        assert!(by_id["error"].is_null(), "{by_id}");
        for key in ["created_at", "status_updated_at"] {
            millis(&by_id[key]);
        }
        let unknown = app.get("/api/v1/messages/wamid.nothing-like-this").await;
        assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
    }
}

backend_tests! {
    async fn marking_read_clears_unread_and_sends_a_receipt_for_the_newest_message(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let first = app.customer_says("are you there?").await;
        let newest = app.customer_says("hello??").await;
        let c = only_conversation(&app).await;
        assert_eq!(c["unread_count"], 2, "{c}");
        for wamid in [&first, &newest] {
            assert_eq!(app.message(wamid).await["status"], "received");
        }
        assert!(app.sim.read_receipts().is_empty());

        let (s, read) = app
            .post(
                &format!("/api/v1/conversations/{}/read", c["id"]),
                &json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{read}");
        assert_eq!(read["id"], c["id"], "{read}");
        assert_eq!(read["unread_count"], 0, "{read}");
        assert_eq!(only_conversation(&app).await["unread_count"], 0);
        for wamid in [&first, &newest] {
            let m = app.message(wamid).await;
            assert_eq!(m["status"], "read", "{m}");
        }
        let receipts = app
            .eventually("a read receipt reaches Graph", || async {
                let r = app.sim.read_receipts();
                (!r.is_empty()).then_some(r)
            })
            .await;
        assert!(
            receipts.contains(&newest),
            "the receipt names the newest inbound message {newest}: {receipts:?}"
        );

        // Reading again changes nothing and is still fine.
        let (s, again) = app
            .post(
                &format!("/api/v1/conversations/{}/read", c["id"]),
                &json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{again}");
        assert_eq!(again["unread_count"], 0, "{again}");
        // New messages count again.
        app.customer_says("one more").await;
        assert_eq!(only_conversation(&app).await["unread_count"], 1);
    }
}

backend_tests! {
    async fn reading_an_unknown_conversation_is_404(db: Db) {
        let app = TestApp::spawn_on(db).await;
        for path in [
            "/api/v1/conversations/424242/read",
            "/api/v1/conversations/nope/read",
        ] {
            let answer = app.post(path, &json!({})).await;
            assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
        }
        assert!(app.sim.read_receipts().is_empty());
    }
}

backend_tests! {
    async fn list_limits_must_be_positive_numbers_and_are_clamped_to_200(db: Db) {
        let app = TestApp::spawn_on(db).await;
        // 205 messages in one webhook body.
        let t = unix_now();
        let messages: Vec<Value> = (0..205)
            .map(|i| text_at(CUSTOMER, &format!("m{i}"), t - 205 + i))
            .collect();
        let last = messages[204]["id"].as_str().unwrap().to_owned();
        assert_eq!(
            app.webhook(&app.from_customer(messages)).await,
            StatusCode::OK
        );
        app.eventually("the batch is stored", || async {
            let (s, _) = app.get(&format!("/api/v1/messages/{last}")).await;
            (s == StatusCode::OK).then_some(())
        })
        .await;
        let id = only_conversation(&app).await["id"].as_i64().unwrap();

        let lists = [
            "/api/v1/messages".to_owned(),
            format!("/api/v1/conversations/{id}/messages"),
            "/api/v1/conversations".to_owned(),
        ];
        for path in &lists {
            for bad in ["abc", "0", "-1", "1.5"] {
                let answer = app.get(&format!("{path}?limit={bad}")).await;
                assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query");
            }
        }
        for path in &lists[..2] {
            let (s, body) = app.get(&format!("{path}?limit=1000")).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert_eq!(list(&body, "messages").len(), 200, "clamped on {path}");
            assert!(body["next_cursor"].is_string(), "more to come on {path}");
            let (_, default) = app.get(path).await;
            assert_eq!(list(&default, "messages").len(), 50, "default on {path}");
            let (_, one) = app.get(&format!("{path}?limit=1")).await;
            assert_eq!(list(&one, "messages")[0]["wamid"], last.as_str());
        }
        let (s, body) = app.get("/api/v1/conversations?limit=1000").await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(list(&body, "conversations").len(), 1);
    }
}

backend_tests! {
    async fn unknown_routes_answer_404_in_the_json_error_shape(db: Db) {
        let app = TestApp::spawn_on(db).await;
        for path in ["/api/v1/nothing-here", "/api/v2/conversations", "/nope"] {
            assert_error(&app.get(path).await, StatusCode::NOT_FOUND, "not_found");
            let bare = app.http.get(app.url(path)).send().await.unwrap();
            assert_eq!(
                bare.status(),
                StatusCode::NOT_FOUND,
                "{path} without a token"
            );
            let body: Value = bare.json().await.unwrap();
            assert_eq!(error_code(&body), "not_found", "{body}");
        }
    }
}

backend_tests! {
    async fn a_reply_within_the_same_second_as_our_message_is_the_newest(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.sim.set_status_plan(no_statuses());
        app.customer_says("hi").await;
        let (s, ours) = app
            .send_text(&format!("+{CUSTOMER}"), "Can you confirm your address?")
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{ours}");
        // Meta stamps messages in whole seconds; this reply arrives within the second we wrote.
        let second = millis(&ours["created_at"]) / 1000;
        let reply = text_at(CUSTOMER, "Yes, confirmed", second);
        let wamid = customer_sends(&app, (CUSTOMER, CUSTOMER_NAME), reply).await;

        let c = only_conversation(&app).await;
        assert_eq!(
            c["last_message"]["wamid"],
            wamid.as_str(),
            "the reply is the latest activity: {c}"
        );
        let (_, page) = app
            .get(&format!("/api/v1/conversations/{}/messages", c["id"]))
            .await;
        let texts: Vec<&str> = list(&page, "messages")
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            texts,
            ["Yes, confirmed", "Can you confirm your address?", "hi"],
            "newest first"
        );
    }
}
