//! Inbound pipeline: every message type, batches, duplicates, statuses and their order.

use reqwest::StatusCode;
use serde_json::{Value, json};
use simulator::payload;

use crate::{
    db::backend_tests,
    helpers::{CUSTOMER, CUSTOMER_NAME, TestApp, no_statuses},
};

async fn stored(app: &TestApp, wamid: &str) -> Value {
    app.eventually(&format!("{wamid} is stored"), || async {
        let (s, m) = app.get(&format!("/api/v1/messages/{wamid}")).await;
        (s == StatusCode::OK).then_some(m)
    })
    .await
}

backend_tests! {
    async fn every_inbound_type_is_stored_with_its_kind_and_content(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let quoted = app.customer_says("first").await;
        let cases: Vec<(Value, &str, Option<&str>)> = vec![
            (
                payload::text(CUSTOMER, "Olá, where is my order? 📦"),
                "text",
                Some("Olá, where is my order? 📦"),
            ),
            (
                payload::image(CUSTOMER, Some("Broken seal")),
                "image",
                Some("Broken seal"),
            ),
            (
                payload::video(CUSTOMER, Some("unboxing")),
                "video",
                Some("unboxing"),
            ),
            (payload::audio(CUSTOMER, true), "audio", None),
            (
                payload::document(CUSTOMER, "invoice.pdf", Some("my invoice")),
                "document",
                Some("my invoice"),
            ),
            (payload::sticker(CUSTOMER, false), "sticker", None),
            (
                payload::location(
                    CUSTOMER,
                    -23.56,
                    -46.65,
                    Some("Office"),
                    Some("Av. Paulista"),
                ),
                "location",
                Some("Office"),
            ),
            (payload::contacts(CUSTOMER), "contacts", None),
            (
                payload::interactive_button_reply(CUSTOMER, &quoted, "yes", "Yes please"),
                "interactive",
                Some("Yes please"),
            ),
            (
                payload::interactive_list_reply(CUSTOMER, &quoted, "r1", "Express", None),
                "interactive",
                Some("Express"),
            ),
            (
                payload::interactive_nfm_reply(CUSTOMER, &quoted, r#"{"a":1}"#),
                "interactive",
                None,
            ),
            (
                payload::button(CUSTOMER, &quoted, "TRACK", "Track order"),
                "button",
                Some("Track order"),
            ),
            (
                payload::reaction(CUSTOMER, &quoted, Some("👍")),
                "reaction",
                Some("👍"),
            ),
            (payload::reaction(CUSTOMER, &quoted, None), "reaction", None),
            (payload::order(CUSTOMER), "order", None),
            (
                payload::system_changed_number(CUSTOMER, "5511977776666"),
                "system",
                None,
            ),
            (payload::request_welcome(CUSTOMER), "system", None),
            (
                payload::unsupported(CUSTOMER, "poll_creation"),
                "unsupported",
                None,
            ),
        ];
        for (msg, kind, text) in cases {
            let wamid = msg["id"].as_str().unwrap().to_owned();
            let status = app.webhook(&app.from_customer(vec![msg.clone()])).await;
            assert_eq!(status, StatusCode::OK);
            let m = stored(&app, &wamid).await;
            assert_eq!(m["kind"], kind, "{msg} stored as {m}");
            assert_eq!(m["direction"], "inbound");
            assert_eq!(m["status"], "received");
            if let Some(text) = text {
                assert_eq!(m["text"], text, "{m}");
            }
            assert!(m["content"].is_object(), "structured content kept: {m}");
        }
        // Spot checks of structure.
        let all = app.get("/api/v1/messages?limit=100").await.1["messages"]
            .as_array()
            .unwrap()
            .clone();
        let by_kind = |k: &str| {
            all.iter()
                .filter(|m| m["kind"] == k)
                .cloned()
                .collect::<Vec<_>>()
        };
        let reaction = &by_kind("reaction")[1];
        assert_eq!(
            reaction["reply_to"], quoted,
            "a reaction points at its message"
        );
        let loc = &by_kind("location")[0];
        assert_eq!(loc["content"]["latitude"], -23.56);
        let unsupported = &by_kind("unsupported")[0];
        assert_eq!(unsupported["content"]["type"], "poll_creation");
        assert_eq!(unsupported["content"]["errors"][0]["code"], 131051);
        let image = &by_kind("image")[0];
        assert!(
            image["content"]["mime_type"]
                .as_str()
                .unwrap()
                .starts_with("image/")
        );
        assert!(
            image["content"]["id"].is_string(),
            "media id kept for download"
        );
        let reply = by_kind("interactive")
            .into_iter()
            .find(|m| m["text"] == "Yes please")
            .unwrap();
        assert_eq!(reply["reply_to"], quoted, "context.id becomes reply_to");
    }
}

backend_tests! {
    async fn a_batch_of_entries_changes_messages_and_statuses_is_applied_whole(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.sim.set_status_plan(no_statuses());
        app.customer_says("hello").await;
        let (s, sent) = app.send_text(&format!("+{CUSTOMER}"), "we are on it").await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let sent = app
            .wait_status(sent["id"].as_str().unwrap(), "accepted")
            .await;
        let wamid = sent["wamid"].as_str().unwrap();

        let pnid = app.sim.phone_number_id();
        let display = app.sim.display_phone_number();
        let customers = ["15550001001", "15550001002", "15550001003", "15550001004"];
        let mut wamids = Vec::new();
        let mut entries = Vec::new();
        for e in 0..2 {
            let mut changes = Vec::new();
            for c in 0..2 {
                let from = customers[e * 2 + c];
                let msgs: Vec<Value> = (0..3)
                    .map(|i| payload::text(from, &format!("m{e}{c}{i}")))
                    .collect();
                wamids.extend(msgs.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
                let statuses = if e == 1 && c == 1 {
                    vec![payload::status(wamid, "delivered", CUSTOMER, None, vec![])]
                } else {
                    vec![]
                };
                changes.push(payload::change(payload::value(
                    &pnid,
                    &display,
                    &[(from, "Batch Customer")],
                    msgs,
                    statuses,
                )));
            }
            entries.push(payload::entry(&app.sim.waba_id(), changes));
        }
        assert_eq!(
            app.webhook(&payload::notification(entries)).await,
            StatusCode::OK
        );
        for w in &wamids {
            stored(&app, w).await;
        }
        assert_eq!(wamids.len(), 12);
        app.wait_status(sent["id"].as_str().unwrap(), "delivered")
            .await;
        for from in customers {
            let (_, list) = app.get(&format!("/api/v1/messages?phone={from}")).await;
            assert_eq!(list["messages"].as_array().unwrap().len(), 3, "{from}");
        }
    }
}

backend_tests! {
    async fn messages_applied_together_count_as_if_applied_one_by_one(db: Db) {
        let app = TestApp::spawn_on(db).await;
        // Late deliveries keep Meta's second, so these times order the messages.
        let base = time::OffsetDateTime::now_utc().unix_timestamp() - 3_600;
        let at = |m: Value, secs: i64| {
            let mut m = m;
            m["timestamp"] = json!((base + secs).to_string());
            m
        };
        let before = at(payload::text(CUSTOMER, "before"), 0);
        let wamid = before["id"].as_str().unwrap().to_owned();
        assert_eq!(app.webhook(&app.from_customer(vec![before])).await, StatusCode::OK);
        stored(&app, &wamid).await;
        let (_, list) = app.get("/api/v1/conversations").await;
        let id = list["conversations"][0]["id"].as_i64().unwrap();
        let r = app.http.patch(app.url(&format!("/api/v1/conversations/{id}"))).bearer_auth(&app.token)
            .json(&json!({"status": "resolved"})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        app.post(&format!("/api/v1/conversations/{id}/read"), &Value::Null).await;

        let other = "15550002002";
        let a1 = at(payload::text(CUSTOMER, "a1"), 10);
        let first = app.sim.phone_number_id();
        let display = app.sim.display_phone_number();
        let value = |contacts: &[(&str, &str)], msgs| {
            payload::change(payload::value(&first, &display, contacts, msgs, vec![]))
        };
        let changes = vec![
            value(
                &[(CUSTOMER, "Old Name")],
                vec![a1.clone(), at(payload::text(CUSTOMER, "a3"), 30), at(payload::text(CUSTOMER, "a2"), 20)],
            ),
            value(&[(other, "Bea")], vec![at(payload::text(other, "b1"), 5), at(payload::text(other, "b2"), 6)]),
            // A redelivery of a1 and a later name, in the same body.
            value(&[(CUSTOMER, "New Name")], vec![a1, at(payload::text(CUSTOMER, "a0"), 1)]),
        ];
        let body = payload::notification(vec![payload::entry(&app.sim.waba_id(), changes)]);
        assert_eq!(app.webhook(&body).await, StatusCode::OK);
        let convs = app.eventually("both conversations are updated", || async {
            let (_, list) = app.get("/api/v1/conversations").await;
            let convs = list["conversations"].as_array().cloned().unwrap_or_default();
            (convs.len() == 2 && convs.iter().all(|c| c["unread_count"].as_i64() > Some(0)))
                .then_some(convs)
        })
        .await;
        let of = |wa_id: &str| {
            convs.iter().find(|c| c["contact"]["wa_id"] == wa_id).cloned().unwrap()
        };
        let (a, b) = (of(CUSTOMER), of(other));
        assert_eq!(a["unread_count"], 4, "a0..a3, the redelivery not counted: {a}");
        assert_eq!(a["last_message"]["text"], "a3", "the latest, not the last in the body");
        assert_eq!(a["status"], "open", "reopened");
        assert_eq!(a["contact"]["name"], "New Name");
        assert_eq!(b["unread_count"], 2);
        assert_eq!(b["last_message"]["text"], "b2");
        let (_, list) = app.get(&format!("/api/v1/messages?phone={CUSTOMER}")).await;
        assert_eq!(list["messages"].as_array().unwrap().len(), 5, "before, a0..a3");
    }
}

backend_tests! {
    async fn the_same_webhook_three_times_stores_one_message(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let msg = payload::text(CUSTOMER, "are you there?");
        let wamid = msg["id"].as_str().unwrap().to_owned();
        let body = app.from_customer(vec![msg]);
        for _ in 0..3 {
            assert_eq!(app.webhook(&body).await, StatusCode::OK);
        }
        app.eventually("all three deliveries are processed", || async {
            let j = app.journal().await;
            (j.len() == 3 && j.iter().all(|e| e["state"] == "done")).then_some(())
        })
        .await;
        let (_, list) = app.get(&format!("/api/v1/messages?phone={CUSTOMER}")).await;
        let list = list["messages"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0]["wamid"], wamid.as_str());
        let (_, convs) = app.get("/api/v1/conversations").await;
        assert_eq!(convs["conversations"][0]["unread_count"], 1, "counted once");
        assert_eq!(convs["conversations"][0]["contact"]["name"], CUSTOMER_NAME);
    }
}

/// A server the customer has written to, whose sends get no statuses but the test's.
async fn written_to(db: crate::db::Db) -> TestApp {
    let app = TestApp::spawn_on(db).await;
    app.sim.set_status_plan(no_statuses());
    app.customer_says("hi").await;
    app
}

/// Sends a text and waits until Graph accepted it; statuses are posted by the test itself.
async fn accepted_send(app: &TestApp) -> (String, String) {
    let (s, m) = app
        .send_text(&format!("+{CUSTOMER}"), "your order shipped")
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{m}");
    let id = m["id"].as_str().unwrap().to_owned();
    let m = app.wait_status(&id, "accepted").await;
    (id, m["wamid"].as_str().unwrap().to_owned())
}

fn statuses(app: &TestApp, wamid: &str, kinds: &[&str]) -> Value {
    let s = kinds
        .iter()
        .map(|k| payload::status(wamid, k, CUSTOMER, None, vec![]))
        .collect();
    app.envelope(&[], vec![], s)
}

/// A text send whose Graph answer comes `ms` late: its id, and the wamid Graph gave it (known
/// to the simulator, not yet to wadesk).
async fn late_send(app: &TestApp, ms: u64) -> (String, String) {
    app.sim.inject(simulator::Fault::late_answer(
        std::time::Duration::from_millis(ms),
    ));
    let taken = app.sim.sends().len();
    let (_, m) = app.send_text(&format!("+{CUSTOMER}"), "late answer").await;
    let id = m["id"].as_str().unwrap().to_owned();
    let wamid = app
        .eventually("Graph has taken the send", || async {
            let sends = app.sim.sends();
            sends.get(taken).and_then(|s| s.wamid().map(str::to_owned))
        })
        .await;
    (id, wamid)
}

/// Another instance's hold on the app's database.
async fn another_instance(app: &TestApp) -> wadesk::store::Store {
    let options = wadesk::store::StoreOptions::default();
    wadesk::store::Store::connect(&app.db.url, &options)
        .await
        .unwrap()
}

/// A status webhook for `wamid`, parsed as the processor parses it.
fn status_body(app: &TestApp, wamid: &str, kind: &str) -> wadesk::ingest::ParsedBody {
    let note = serde_json::to_vec(&statuses(app, wamid, &[kind])).unwrap();
    wadesk::ingest::parse_body(&note, wadesk::domain::Timestamp(0)).unwrap()
}

backend_tests! {
    async fn statuses_out_of_order_and_duplicated_end_at_the_highest(db: Db) {
        let app = written_to(db).await;
        let (id, wamid) = accepted_send(&app).await;
        for kind in ["read", "sent", "delivered", "read", "sent"] {
            assert_eq!(
                app.webhook(&statuses(&app, &wamid, &[kind])).await,
                StatusCode::OK
            );
        }
        app.eventually("all statuses processed", || async {
            let j = app.journal().await;
            (j.iter().filter(|e| e["state"] == "done").count() == 6).then_some(())
        })
        .await;
        let m = app.message(&id).await;
        assert_eq!(m["status"], "read", "{m}");
    }
}

backend_tests! {
    async fn read_without_delivered_and_failed_with_meta_error(db: Db) {
        let app = written_to(db).await;
        let (id, wamid) = accepted_send(&app).await;
        app.webhook(&statuses(&app, &wamid, &["read"])).await;
        app.wait_status(&id, "read").await;

        let (id2, wamid2) = accepted_send(&app).await;
        let error = json!({"code": 131026, "title": "Message undeliverable",
            "message": "Message undeliverable", "error_data": {"details": "Receiver is incapable of receiving this message"}});
        let failed = payload::status(&wamid2, "failed", CUSTOMER, None, vec![error]);
        app.webhook(&app.envelope(&[], vec![], vec![failed])).await;
        let m = app.wait_status(&id2, "failed").await;
        assert_eq!(m["error"]["code"], 131026);
        assert_eq!(m["error"]["title"], "Message undeliverable");
        assert_eq!(
            m["error"]["detail"],
            "Receiver is incapable of receiving this message"
        );
    }
}

backend_tests! {
    async fn a_status_before_the_send_response_is_kept_and_applied_when_the_wamid_appears(db: Db) {
        let app = written_to(db).await;
        // Graph holds its answer for a second; meanwhile a status for the new wamid comes in.
        let (id, wamid) = late_send(&app, 1500).await;
        assert_eq!(
            app.webhook(&statuses(&app, &wamid, &["delivered"])).await,
            StatusCode::OK
        );
        app.eventually("the early status is journaled and processed", || async {
            let j = app.journal().await;
            j.iter().all(|e| e["state"] == "done").then_some(())
        })
        .await;
        let before = app.message(&id).await;
        assert_eq!(
            before["status"], "queued",
            "not yet known: the status waits: {before}"
        );
        let after = app.wait_status(&id, "delivered").await;
        assert_eq!(after["wamid"], wamid.as_str());
    }
}

backend_tests! {
    async fn a_status_carrying_our_id_reconciles_a_send_whose_answer_is_late(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("hi").await;
        // Graph accepts and its statuses (with biz_opaque_callback_data) arrive before its answer.
        app.sim.inject(simulator::Fault::late_answer(
            std::time::Duration::from_millis(1500),
        ));
        let (_, m) = app.send_text(&format!("+{CUSTOMER}"), "late answer").await;
        let id = m["id"].as_str().unwrap().to_owned();
        let m = app.wait_status(&id, "read").await;
        assert!(m["wamid"].is_string());
        tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
        assert_eq!(app.sim.accepted_sends().len(), 1, "sent once");
        assert_eq!(app.message(&id).await["status"], "read");
    }
}

backend_tests! {
    async fn many_statuses_in_one_body_end_as_if_applied_one_by_one(db: Db) {
        let app = written_to(db).await;
        let (a, wamid_a) = accepted_send(&app).await;
        let (b, wamid_b) = accepted_send(&app).await;
        // A third send whose answer is late: its statuses, carrying our id, come first.
        let (c, wamid_c) = late_send(&app, 3000).await;

        let error = json!({"code": 131026, "title": "Message undeliverable"});
        let items = vec![
            payload::status(&wamid_a, "sent", CUSTOMER, None, vec![]),
            payload::status(&wamid_a, "read", CUSTOMER, None, vec![]),
            payload::status(&wamid_a, "delivered", CUSTOMER, None, vec![]),
            payload::status(&wamid_b, "sent", CUSTOMER, None, vec![]),
            payload::status(&wamid_c, "delivered", CUSTOMER, Some(&c), vec![]),
            payload::status(&wamid_b, "failed", CUSTOMER, None, vec![error]),
            payload::status(&wamid_c, "read", CUSTOMER, None, vec![]),
            payload::status(&wamid_a, "read", CUSTOMER, None, vec![]),
        ];
        assert_eq!(
            app.webhook(&app.envelope(&[], vec![], items)).await,
            StatusCode::OK
        );
        assert_eq!(app.wait_status(&a, "read").await["wamid"], wamid_a.as_str());
        let m = app.wait_status(&b, "failed").await;
        assert_eq!(m["error"]["code"], 131026, "{m}");
        // Applied in the same transaction as A's and B's, long before Graph's late answer.
        let m = app.message(&c).await;
        assert_eq!(m["status"], "read", "found by the id it carried: {m}");
        assert_eq!(m["wamid"], wamid_c.as_str(), "{m}");
        let journal = app.journal().await;
        assert_eq!(journal[0]["state"], "done", "{journal:?}");

        // The late answer changes nothing, and nothing was sent twice.
        tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
        assert_eq!(app.message(&c).await["status"], "read");
        assert_eq!(app.sim.sends().len(), 3);
    }
}

backend_tests! {
    async fn a_status_applied_beside_another_instance_does_not_undo_its_read(db: Db) {
        use wadesk::{domain::Timestamp, ingest::apply_bodies};
        let app = written_to(db).await;
        let (id, wamid) = accepted_send(&app).await;
        // Two instances, each applying one status of the message in its own transaction.
        let (one, two) = (another_instance(&app).await, another_instance(&app).await);
        let read = status_body(&app, &wamid, "read");
        let delivered = status_body(&app, &wamid, "delivered");
        let now = Timestamp(1);

        let mut first = one.begin().await.unwrap();
        apply_bodies(&mut first, &[&read], now).await.unwrap();
        let second = tokio::spawn(async move {
            let mut tx = two.begin().await.unwrap();
            apply_bodies(&mut tx, &[&delivered], now).await.unwrap();
            tx.commit().await.unwrap();
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        first.commit().await.unwrap();
        second.await.unwrap();

        let m = app.message(&id).await;
        assert_eq!(m["status"], "read", "the later commit folded into what the first saved: {m}");
    }
}

backend_tests! {
    async fn a_status_applied_while_its_wamid_is_attached_is_not_left_waiting(db: Db) {
        use wadesk::{
            delivery,
            domain::{DeliveryStatus, Direction, MessageKind, Timestamp},
            ingest::apply_bodies,
            store::NewMessage,
        };
        let app = TestApp::spawn_on(db).await;
        app.sim.set_status_plan(no_statuses());
        let hi = stored(&app, &app.customer_says("hi").await).await;
        let (recorder, ingest) = (another_instance(&app).await, another_instance(&app).await);
        // A send Graph has accepted, not yet recorded: no wamid on the message.
        let id = "01a23300-0000-7000-8000-000000000001";
        let mut tx = recorder.begin().await.unwrap();
        tx.insert_messages(&[NewMessage {
            id: id.into(),
            wamid: None,
            conversation_id: hi["conversation_id"].as_i64().unwrap(),
            direction: Direction::Outbound,
            kind: MessageKind::Text,
            text: Some("on its way".into()),
            content: json!({"body": "on its way"}),
            reply_to: None,
            status: DeliveryStatus::Queued,
            error: None,
            author: None,
            created_at: Timestamp(1),
        }])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let wamid = "wamid.ATTACHED-WHILE-A-STATUS-ARRIVES";

        // The recorder attaches the wamid and settles, uncommitted…
        let mut attaching = recorder.begin().await.unwrap();
        attaching.attach_wamid(id, wamid).await.unwrap();
        let mut messages = attaching.messages(&[id]).await.unwrap();
        delivery::settle(&mut attaching, &mut messages, Timestamp(2)).await.unwrap();
        // …while the processor applies the message's `delivered`.
        let body = status_body(&app, wamid, "delivered");
        let applying = tokio::spawn(async move {
            let mut tx = ingest.begin().await.unwrap();
            apply_bodies(&mut tx, &[&body], Timestamp(3)).await.unwrap();
            tx.commit().await.unwrap();
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        attaching.commit().await.unwrap();
        applying.await.unwrap();

        let m = app.message(id).await;
        assert_eq!(m["status"], "delivered", "one of the two saw the other: {m}");
    }
}
