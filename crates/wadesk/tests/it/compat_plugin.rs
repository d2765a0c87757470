//! The SuperDashboard WhatsApp plugin API under `/plugins/whatsapp`, including the original
//! plugin's own test scenarios, against the real pipelines.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use simulator::payload;

use crate::{
    db::backend_tests,
    helpers::{CUSTOMER, CUSTOMER_NAME, TestApp, no_statuses},
};

const P: &str = "/plugins/whatsapp";
const OTHER: &str = "5511977776666";
const PNID: &str = "106540352242922";

fn path(rest: &str) -> String {
    format!("{P}{rest}")
}

/// Posts a notification to the plugin's webhook, signed as Meta would.
async fn plugin_webhook(app: &TestApp, notification: &Value) -> (StatusCode, Value) {
    let body = simulator::to_meta_json(notification).unwrap();
    let sig = whatsapp::signature::sign(app.sim.app_secret().as_bytes(), &body);
    let r = app
        .http
        .post(app.url(&path("/webhook")))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// POSTs a JSON body to the plugin's send route with the agent's token.
async fn send(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    app.post(&path("/messages/send"), body).await
}

async fn messages(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = app.get(&path(&format!("/messages{query}"))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().cloned().unwrap_or_default()
}

async fn conversations(app: &TestApp) -> Vec<Value> {
    let (s, v) = app.get(&path("/conversations")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().cloned().unwrap_or_default()
}

/// `OTHER` writes a text; waits until it is stored.
async fn other_says(app: &TestApp, text: &str) {
    let msg = payload::text(OTHER, text);
    let wamid = msg["id"].as_str().unwrap().to_owned();
    let notification = app.envelope(&[(OTHER, "Bruno Lima")], vec![msg], vec![]);
    assert_eq!(app.webhook(&notification).await, StatusCode::OK);
    app.eventually("the second customer's message is stored", || async {
        let (s, _) = app.get(&format!("/api/v1/messages/{wamid}")).await;
        (s == StatusCode::OK).then_some(())
    })
    .await;
}

backend_tests! {
    async fn health_needs_no_token_and_reports_configuration(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let r = app.http.get(app.url(&path("/health"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v, json!({"status": "healthy", "provider": "Meta", "configured": true}));
    }
}

backend_tests! {
    async fn health_and_provider_info_report_a_missing_token_as_not_configured(db: Db) {
        let app = TestApp::spawn_with_on(db, |c| c.whatsapp.token = None).await;
        let r = app.http.get(app.url(&path("/health"))).send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "healthy");
        assert_eq!(v["configured"], false);
        let (s, v) = app.get(&path("/provider/info")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["configured"], false);
    }
}

backend_tests! {
    async fn provider_info_needs_a_token(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let r = app.http.get(app.url(&path("/provider/info"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let (s, v) = app.get(&path("/provider/info")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["provider"], "Meta");
        assert_eq!(v["configured"], true);
        assert!(v["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
}

backend_tests! {
    async fn the_webhook_handshake_echoes_the_challenge_only_with_the_right_token(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let get = |q: &str| app.http.get(app.url(&path(&format!("/webhook?{q}")))).send();
        let ok = get("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=8675309")
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.text().await.unwrap(), "8675309");
        for q in [
            "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
            "hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1",
        ] {
            assert_eq!(get(q).await.unwrap().status(), StatusCode::FORBIDDEN, "{q}");
        }
    }
}

backend_tests! {
    async fn the_webhook_receives_a_signed_text_message(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let msg = payload::text(CUSTOMER, "Hello from WhatsApp");
        let wamid = msg["id"].as_str().unwrap().to_owned();
        let (s, v) = plugin_webhook(&app, &app.from_customer(vec![msg])).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v, json!({"status": "ok", "messages_received": 1}));
        let m = app
            .eventually("the message is listed", || async {
                messages(&app, "").await.into_iter().next()
            })
            .await;
        assert_eq!(m["from_number"], CUSTOMER);
        assert_eq!(m["to_number"], PNID);
        assert_eq!(m["message"], "Hello from WhatsApp");
        assert_eq!(m["message_type"], "text");
        assert_eq!(m["status"], "received");
        assert_eq!(m["wamid"], wamid.as_str());
        assert!(m["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));

        // The same guarantees as /webhooks/whatsapp: a redelivery is not doubled, an unsigned
        // body is refused, a batch is counted across entries, a body that is not a
        // notification is still kept.
        let again = payload::text(CUSTOMER, "Hello from WhatsApp");
        let mut duplicate = app.from_customer(vec![again]);
        duplicate["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = json!(wamid);
        assert_eq!(plugin_webhook(&app, &duplicate).await.0, StatusCode::OK);
        let r = app
            .http
            .post(app.url(&path("/webhook")))
            .header(header::CONTENT_TYPE, "application/json")
            .body(app.from_customer(vec![payload::text(CUSTOMER, "forged")]).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let first = payload::value(PNID, "15550783881", &[(CUSTOMER, CUSTOMER_NAME)],
            vec![payload::text(CUSTOMER, "one"), payload::text(CUSTOMER, "two")], vec![]);
        let second = payload::value(PNID, "15550783881", &[(OTHER, "Bruno Lima")],
            vec![payload::text(OTHER, "three")], vec![]);
        let batch = payload::notification(vec![
            payload::entry("102290129340398", vec![payload::change(first)]),
            payload::entry("102290129340398", vec![payload::change(second)]),
        ]);
        assert_eq!(plugin_webhook(&app, &batch).await.1["messages_received"], 3);
        let (s, v) = plugin_webhook(&app, &json!(["not", "a", "notification"])).await;
        assert_eq!((s, &v["messages_received"]), (StatusCode::OK, &json!(0)));
        app.eventually("the batch is applied", || async {
            (messages(&app, "").await.len() == 4).then_some(())
        })
        .await;
        let journal = app.journal().await;
        assert_eq!(journal.len(), 4, "every accepted body is journaled");
        app.eventually("the odd body is kept with its error", || async {
            let journal = app.journal().await;
            journal.iter().any(|e| e["state"] != "done" && e["last_error"].is_string()).then_some(())
        })
        .await;
    }
}

backend_tests! {
    async fn a_delivered_status_updates_a_sent_message(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.sim.set_status_plan(no_statuses());
        app.customer_says("Is my order on its way?").await;
        let (s, v) = send(&app, &json!({"to": format!("+{CUSTOMER}"), "message": "Yes!"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let id = v["message_id"].as_str().unwrap().to_owned();
        let accepted = app.wait_status(&id, "accepted").await;
        let wamid = accepted["wamid"].as_str().unwrap();
        let status = payload::status(wamid, "delivered", CUSTOMER, Some(&id), vec![]);
        let notification = app.envelope(&[], vec![], vec![status]);
        let (s, v) = plugin_webhook(&app, &notification).await;
        assert_eq!((s, &v["messages_received"]), (StatusCode::OK, &json!(0)));
        let m = app
            .eventually("the message shows delivered", || async {
                let (_, m) = app.get(&path(&format!("/messages/{id}"))).await;
                (m["status"] == "delivered").then_some(m)
            })
            .await;
        assert_eq!(m["from_number"], PNID);
        assert_eq!(m["to_number"], CUSTOMER);
    }
}

backend_tests! {
    async fn a_send_is_queued_through_the_outbox_and_goes_out(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("Hi").await;
        let body = json!({"to": format!("+{CUSTOMER}"), "message": "Hello Ana", "message_type": "text"});
        let (s, v) = send(&app, &body).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["success"], true);
        assert_eq!(v["status"], "queued");
        let id = v["message_id"].as_str().unwrap().to_owned();
        let m = app.wait_status(&id, "read").await;
        assert_eq!(m["direction"], "outbound");
        let sends = app.sim.sends();
        assert_eq!(sends.len(), 1);
        assert_eq!(sends[0].body["text"]["body"], "Hello Ana");
        assert_eq!(sends[0].callback_data.as_deref(), Some(id.as_str()));
        let r = app
            .http
            .post(app.url(&path("/messages/send")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
}

backend_tests! {
    async fn a_send_without_whatsapp_configured_is_400(db: Db) {
        let app = TestApp::spawn_with_on(db, |c| c.whatsapp.token = None).await;
        let (s, v) = send(&app, &json!({"to": format!("+{CUSTOMER}"), "message": "Hello"})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert!(v["detail"].as_str().unwrap_or("").contains("not configured"), "{v}");
        let (_, log) = app.get("/api/v1/messages").await;
        assert_eq!(log["messages"], json!([]));
    }
}

/// The `(type, loc)` of each 422 item.
fn problems(v: &Value) -> Vec<(String, Value)> {
    v["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["type"].as_str().unwrap().to_owned(), i["loc"].clone()))
        .collect()
}

backend_tests! {
    async fn invalid_sends_are_422_in_fastapis_shape(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let to = format!("+{CUSTOMER}");
        let loc = |f: &str| json!(["body", f]);
        let cases = [
            (json!({"message": "hi"}), vec![("missing", loc("to"))]),
            (json!({"to": to}), vec![("missing", loc("message"))]),
            (json!({"to": to, "message": 5}), vec![("string_type", loc("message"))]),
            (json!({"to": to, "message": "hi", "message_type": "image"}),
                vec![("literal_error", loc("message_type"))]),
            (json!({"to": "call me", "message": "  "}),
                vec![("value_error", loc("to")), ("value_error", loc("message"))]),
            (json!({"to": to, "message": "a".repeat(4097)}), vec![("string_too_long", loc("message"))]),
            (json!([to, "hi"]), vec![("model_attributes_type", json!(["body"]))]),
            // Valid, but the customer has never written: the 24-hour window is closed.
            (json!({"to": to, "message": "hi"}), vec![("window_closed", loc("to"))]),
        ];
        for (body, expected) in cases {
            let (s, v) = send(&app, &body).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
            let expected: Vec<(String, Value)> =
                expected.into_iter().map(|(t, l)| (t.to_owned(), l)).collect();
            assert_eq!(problems(&v), expected, "{body}");
            assert!(v["detail"][0]["msg"].is_string());
        }
        let r = app
            .http
            .post(app.url(&path("/messages/send")))
            .bearer_auth(&app.token)
            .header(header::CONTENT_TYPE, "application/json")
            .body("{\"to\" \"x\"}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let v: Value = r.json().await.unwrap();
        // The offset of the offending character, as Python's json module reports it.
        assert_eq!(problems(&v), vec![("json_invalid".to_owned(), json!(["body", 6]))]);
        assert!(app.sim.sends().is_empty());
        let (_, log) = app.get("/api/v1/messages").await;
        assert_eq!(log["messages"], json!([]));
    }
}

backend_tests! {
    async fn messages_are_listed_oldest_first_and_filtered_by_phone(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("first from Ana").await;
        other_says(&app, "first from Bruno").await;
        let (_, v) = send(&app, &json!({"to": format!("+{CUSTOMER}"), "message": "reply to Ana"})).await;
        let reply = v["message_id"].as_str().unwrap().to_owned();
        app.customer_says("second from Ana").await;

        let all = messages(&app, "").await;
        let texts: Vec<&str> = all.iter().map(|m| m["message"].as_str().unwrap()).collect();
        assert_eq!(texts, ["first from Ana", "first from Bruno", "reply to Ana", "second from Ana"]);

        for phone in [format!("%2B{CUSTOMER}"), CUSTOMER.to_owned()] {
            let ana = messages(&app, &format!("?phone_number={phone}")).await;
            let texts: Vec<&str> = ana.iter().map(|m| m["message"].as_str().unwrap()).collect();
            assert_eq!(texts, ["first from Ana", "reply to Ana", "second from Ana"]);
            let out = &ana[1];
            assert_eq!(out["id"], reply.as_str());
            assert_eq!((&out["from_number"], &out["to_number"]), (&json!(PNID), &json!(CUSTOMER)));
            let inbound = &ana[0];
            assert_eq!((&inbound["from_number"], &inbound["to_number"]), (&json!(CUSTOMER), &json!(PNID)));
        }
        let newest = messages(&app, "?limit=2").await;
        let texts: Vec<&str> = newest.iter().map(|m| m["message"].as_str().unwrap()).collect();
        assert_eq!(texts, ["reply to Ana", "second from Ana"], "the newest N, oldest first");
        assert_eq!(messages(&app, "?limit=5000").await.len(), 4, "capped, not refused");
        for (q, kind) in [
            ("?limit=abc", "int_parsing"),
            ("?limit=0", "greater_than_equal"),
            ("?phone_number=abc", "value_error"),
        ] {
            let (s, v) = app.get(&path(&format!("/messages{q}"))).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {v}");
            assert_eq!(v["detail"][0]["type"], kind, "{q}");
        }
    }
}

backend_tests! {
    async fn conversations_are_one_per_customer_with_unread_counts_that_drop_when_read(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("one").await;
        app.customer_says("two").await;
        let (s, _) = send(&app, &json!({"to": format!("+{CUSTOMER}"), "message": "hello Ana"})).await;
        assert_eq!(s, StatusCode::OK);
        other_says(&app, "hi from Bruno").await;

        let list = conversations(&app).await;
        assert_eq!(list.len(), 2, "one per customer, not the business number: {list:?}");
        let bruno = &list[0];
        assert_eq!(bruno["phone_number"], OTHER, "newest first");
        assert_eq!(bruno["last_message"], "hi from Bruno");
        assert_eq!((&bruno["unread_count"], &bruno["message_count"]), (&json!(1), &json!(1)));
        assert!(bruno["last_message_time"].as_str().is_some_and(|t| t.ends_with('Z')));
        let ana = &list[1];
        assert_eq!(ana["phone_number"], CUSTOMER);
        assert_eq!(ana["last_message"], "hello Ana");
        assert_eq!((&ana["unread_count"], &ana["message_count"]), (&json!(2), &json!(3)));

        let (_, v) = app.get("/api/v1/conversations").await;
        let id = v["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["contact"]["wa_id"] == CUSTOMER)
            .map(|c| c["id"].clone())
            .unwrap();
        let (s, _) = app.post(&format!("/api/v1/conversations/{id}/read"), &Value::Null).await;
        assert_eq!(s, StatusCode::OK);
        let list = conversations(&app).await;
        let ana = list.iter().find(|c| c["phone_number"] == CUSTOMER).unwrap();
        assert_eq!(ana["unread_count"], 0);
        assert_eq!(ana["message_count"], 3);
    }
}

backend_tests! {
    async fn clearing_messages_is_for_admins_and_empties_the_log(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.sim.set_status_plan(no_statuses());
        app.customer_says("please forget me").await;
        let (_, v) = send(&app, &json!({"to": format!("+{CUSTOMER}"), "message": "ok"})).await;
        let id = v["message_id"].as_str().unwrap().to_owned();
        app.wait_status(&id, "accepted").await;
        let url = app.url(&path("/messages"));
        let r = app.http.delete(&url).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "agents may not");
        assert_eq!(messages(&app, "").await.len(), 2);
        let r = app.http.delete(&url).bearer_auth(&app.admin).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v, json!({"message": "All messages cleared"}));
        assert!(messages(&app, "").await.is_empty());
        assert!(conversations(&app).await.is_empty());
        let (_, v) = app.get("/api/v1/conversations").await;
        let kept = &v["conversations"][0];
        assert_eq!(kept["last_message"], Value::Null, "the conversation stays, emptied");
        assert_eq!(kept["unread_count"], 0);
        assert!(kept["window_open_until"].is_string(), "the 24-hour window is Meta's fact");
        let (s, _) = app.get(&format!("/api/v1/messages/{id}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(app.health().await["outbox"]["queued"], 0);

        // The inbox carries on.
        app.customer_says("hello again").await;
        let list = conversations(&app).await;
        assert_eq!(list.len(), 1);
        assert_eq!((&list[0]["message_count"], &list[0]["unread_count"]), (&json!(1), &json!(1)));
        assert_eq!(list[0]["last_message"], "hello again");
    }
}

backend_tests! {
    async fn one_message_by_id_or_wamid_and_404_when_unknown(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let wamid = app.customer_says("find me").await;
        let listed = messages(&app, "").await;
        let id = listed[0]["id"].as_str().unwrap();
        let (s, by_id) = app.get(&path(&format!("/messages/{id}"))).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(by_id, listed[0]);
        let (s, by_wamid) = app.get(&path(&format!("/messages/{wamid}"))).await;
        assert_eq!((s, &by_wamid), (StatusCode::OK, &listed[0]));
        let (s, v) = app.get(&path("/messages/no-such-message")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(v, json!({"detail": "Message not found"}));
        let r = app.http.get(app.url(&path(&format!("/messages/{id}")))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
}

backend_tests! {
    async fn unknown_plugin_routes_and_methods_answer_in_fastapis_shape(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let (s, v) = app.get(&path("/nothing-here")).await;
        assert_eq!((s, v), (StatusCode::NOT_FOUND, json!({"detail": "Not Found"})));
        let r = app
            .http
            .put(app.url(&path("/messages")))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v, json!({"detail": "Method Not Allowed"}));
    }
}
