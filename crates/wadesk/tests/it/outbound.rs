//! Outbound pipeline: validation, the 24-hour window, idempotency, retries, failures, pauses,
//! pacing and reconciliation, against the simulated Graph API.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use simulator::{Fault, payload};

use crate::{
    db::backend_tests,
    helpers::{CUSTOMER, CUSTOMER_NAME, TestApp, no_statuses, test_config},
};

fn to() -> String {
    format!("+{CUSTOMER}")
}

fn template(to: &str) -> Value {
    json!({"to": to, "type": "template", "template": {"name": "order_shipped", "language": {"code": "en_US"}}})
}

fn accepted_for(app: &TestApp, id: &str) -> usize {
    app.sim
        .accepted_sends()
        .iter()
        .filter(|s| s.callback_data.as_deref() == Some(id))
        .count()
}

backend_tests! {
    async fn a_reply_is_queued_then_accepted_with_graphs_wamid_and_ticks_follow(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let quoted = app.customer_says("Where is my order?").await;
        let (s, m) = app
            .post("/api/v1/messages", &json!({"to": to(), "type": "text", "text": {"body": "On its way!"}, "reply_to": quoted}))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{m}");
        assert_eq!(m["status"], "queued");
        assert_eq!(m["direction"], "outbound");
        assert_eq!(m["author"], "token:agent");
        assert_eq!(m["reply_to"], quoted.as_str());
        let id = m["id"].as_str().unwrap().to_owned();
        let read = app.wait_status(&id, "read").await;
        let sends = app.sim.sends();
        assert_eq!(sends.len(), 1);
        let sent = &sends[0];
        assert_eq!(read["wamid"].as_str(), sent.wamid());
        assert_eq!(sent.body["to"], to());
        assert_eq!(sent.body["text"]["body"], "On its way!");
        assert_eq!(sent.body["context"]["message_id"], quoted.as_str());
        assert_eq!(
            sent.callback_data.as_deref(),
            Some(id.as_str()),
            "biz_opaque_callback_data carries our id"
        );
        let (_, conv) = app.get("/api/v1/conversations").await;
        assert_eq!(conv["conversations"][0]["last_message"]["id"], id.as_str());
    }
}

backend_tests! {
    async fn throttling_three_times_then_success_sends_once(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("hi").await;
        app.sim.inject(Fault::code(130429).times(3));
        let (_, m) = app.send_text(&to(), "retry me").await;
        let id = m["id"].as_str().unwrap();
        app.wait_status(id, "read").await;
        let sends = app.sim.sends();
        assert_eq!(sends.iter().filter(|s| s.outcome == Err(130429)).count(), 3);
        assert_eq!(accepted_for(&app, id), 1, "sent exactly once");
    }
}

backend_tests! {
    async fn a_permanent_error_fails_the_message_with_metas_code_and_text(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("hi").await;
        app.sim.inject(Fault::code(131047));
        let (_, m) = app.send_text(&to(), "too late").await;
        let m = app.wait_status(m["id"].as_str().unwrap(), "failed").await;
        assert_eq!(m["error"]["code"], 131047);
        assert_eq!(m["error"]["title"], "Re-engagement message");
        assert!(
            m["error"]["detail"]
                .as_str()
                .unwrap_or("")
                .contains("24 hours"),
            "{m}"
        );
        assert_eq!(app.sim.sends().len(), 1, "never retried");
        assert_eq!(app.health().await["outbox"]["failed"], 1);
    }
}

backend_tests! {
    async fn an_asynchronous_failure_arrives_as_a_status_and_fails_the_message(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("hi").await;
        app.sim.inject(Fault::code(131026).asynchronous());
        let (_, m) = app.send_text(&to(), "to a dead number").await;
        let m = app.wait_status(m["id"].as_str().unwrap(), "failed").await;
        assert_eq!(m["error"]["code"], 131026);
        assert!(m["wamid"].is_string(), "Graph accepted it first");
    }
}

async fn queue_three(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..3 {
        let (s, m) = app.send_text(&to(), &format!("held {i}")).await;
        assert_eq!(s, StatusCode::ACCEPTED);
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn wait_paused(app: &TestApp) -> Value {
    app.eventually("health reports the pause", || async {
        let h = app.health().await;
        (h["whatsapp"]["paused"] == true).then_some(h)
    })
    .await
}

backend_tests! {
    async fn an_expired_token_pauses_sending_until_resumed_and_loses_nothing(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("hi").await;
        let good = app.sim.access_token();
        app.sim.set_access_token("rotated-by-meta");
        let ids = queue_three(&app).await;
        let h = wait_paused(&app).await;
        assert_eq!(h["status"], "degraded");
        assert_eq!(h["whatsapp"]["code"], 190);
        assert!(
            h["whatsapp"]["reason"]
                .as_str()
                .unwrap()
                .contains("access token"),
            "{h}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        for id in &ids {
            assert_eq!(
                app.message(id).await["status"],
                "queued",
                "held, not failed"
            );
        }
        assert_eq!(
            app.health().await["outbox"]["queued"],
            3,
            "a pause costs no attempt"
        );
        let refused = app.sim.sends().len();
        assert!(
            refused <= 3,
            "stops calling Graph once paused ({refused} calls)"
        );

        let (s, _) = app.post("/api/v1/outbox/resume", &Value::Null).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "agents cannot resume");
        app.sim.set_access_token(good);
        let (s, v) = app
            .post_as("/api/v1/outbox/resume", &Value::Null, &app.admin, None)
            .await;
        assert_eq!((s, &v["resumed"]), (StatusCode::OK, &json!(true)));
        for id in &ids {
            app.wait_status(id, "read").await;
            assert_eq!(accepted_for(&app, id), 1);
        }
        assert_eq!(app.health().await["whatsapp"]["paused"], false);
        // Held messages go out in the order they were written.
        let order: Vec<String> = app
            .sim
            .accepted_sends()
            .into_iter()
            .filter_map(|s| s.callback_data)
            .collect();
        assert_eq!(order, ids);
    }
}

backend_tests! {
    async fn a_restart_with_a_new_token_lifts_the_pause(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("hi").await;
        app.sim.set_access_token("new-token-from-admin");
        let ids = queue_three(&app).await;
        wait_paused(&app).await;
        let (sim, dir, db) = app.stop().await;
        let mut config = test_config(&db.url, &sim);
        config.whatsapp.token = Some(wadesk::config::Secret::new("new-token-from-admin"));
        let app = TestApp::start(config, sim, dir, db).await;
        for id in &ids {
            app.wait_status(id, "read").await;
            assert_eq!(accepted_for(&app, id), 1);
        }
    }
}

backend_tests! {
    async fn the_same_idempotency_key_twice_queues_one_message(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("hi").await;
        let body = json!({"to": to(), "type": "text", "text": {"body": "once"}});
        let (s1, m1) = app
            .post_as(
                "/api/v1/messages",
                &body,
                &app.token,
                Some("order-4521-reply"),
            )
            .await;
        let (s2, m2) = app
            .post_as(
                "/api/v1/messages",
                &body,
                &app.token,
                Some("order-4521-reply"),
            )
            .await;
        assert_eq!((s1, s2), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
        assert_eq!(m1["id"], m2["id"]);
        let other = json!({"to": to(), "type": "text", "text": {"body": "something else"}});
        let (s3, e) = app
            .post_as(
                "/api/v1/messages",
                &other,
                &app.token,
                Some("order-4521-reply"),
            )
            .await;
        assert_eq!(
            (s3, e["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("idempotency_key_reused"))
        );
        let (s4, m4) = app
            .post_as(
                "/api/v1/messages",
                &body,
                &app.admin,
                Some("order-4521-reply"),
            )
            .await;
        assert_eq!(s4, StatusCode::ACCEPTED);
        assert_ne!(m4["id"], m1["id"], "keys are per client");
        app.wait_status(m1["id"].as_str().unwrap(), "read").await;
        app.wait_status(m4["id"].as_str().unwrap(), "read").await;
        let (_, list) = app
            .get(&format!(
                "/api/v1/messages?phone={CUSTOMER}&direction=outbound"
            ))
            .await;
        assert_eq!(list["messages"].as_array().unwrap().len(), 2);
        assert_eq!(accepted_for(&app, m1["id"].as_str().unwrap()), 1);
    }
}

backend_tests! {
    async fn outside_the_24_hour_window_only_templates_go(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let (s, e) = app.send_text("+15550009999", "hello stranger").await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("window_closed"))
        );
        let (s, m) = app
            .post("/api/v1/messages", &template("+15550009999"))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{m}");
        assert_eq!(m["kind"], "template");
        let m = app.wait_status(m["id"].as_str().unwrap(), "read").await;
        assert_eq!(app.sim.sends()[0].body["template"]["name"], "order_shipped");
        let (_, c) = app
            .get(&format!("/api/v1/conversations/{}", m["conversation_id"]))
            .await;
        assert_eq!(c["window_open_until"], Value::Null);
    }
}

backend_tests! {
    async fn invalid_sends_get_clear_errors_and_queue_nothing(db: Db) {
        let app = TestApp::spawn_on(db).await;
        app.customer_says("hi").await;
        let cases = [
            (
                json!({"to": "not-a-number", "type": "text", "text": {"body": "x"}}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_phone",
            ),
            (
                json!({"to": "+123", "type": "text", "text": {"body": "x"}}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_phone",
            ),
            (
                json!({"to": to(), "type": "text", "text": {"body": "x".repeat(4097)}}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "text_too_long",
            ),
            (
                json!({"to": to(), "type": "text", "text": {"body": "   "}}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({"to": to(), "type": "hologram"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({"to": to(), "type": "text"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({"to": to(), "type": "text", "text": {"body": "x"}, "reply_to": "wamid.unknown"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "reply_to_not_found",
            ),
            (
                json!([1, 2]),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
        ];
        for (body, status, code) in cases {
            let (s, e) = app.post("/api/v1/messages", &body).await;
            assert_eq!(
                (s, e["error"]["code"].as_str()),
                (status, Some(code)),
                "{body}"
            );
        }
        let r = app
            .http
            .post(app.url("/api/v1/messages"))
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .body("{\"to\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let r = app
            .http
            .post(app.url("/api/v1/messages"))
            .bearer_auth(&app.token)
            .body("to=1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let x4096 = "é".repeat(4096);
        let (s, _) = app.send_text(&to(), &x4096).await;
        assert_eq!(
            s,
            StatusCode::ACCEPTED,
            "4096 characters (not bytes) is allowed"
        );
        let (_, list) = app.get("/api/v1/messages?direction=outbound").await;
        assert_eq!(list["messages"].as_array().unwrap().len(), 1);
    }
}

backend_tests! {
    async fn a_pair_rate_limit_delays_only_that_recipient_and_keeps_its_order(db: Db) {
        let app = TestApp::spawn_with_on(db, |c| c.outbox.retry_base_ms = 300).await;
        let other = "15550002222";
        app.customer_says("hi").await;
        let m = payload::text(other, "me too");
        assert_eq!(
            app.webhook(&app.envelope(&[(other, "Bo")], vec![m], vec![]))
                .await,
            StatusCode::OK
        );
        app.eventually("both customers are known", || async {
            let (_, c) = app.get("/api/v1/conversations").await;
            (c["conversations"].as_array().unwrap().len() == 2).then_some(())
        })
        .await;
        app.sim.inject(Fault::code(131056).to(CUSTOMER).times(2));
        let (_, a1) = app.send_text(&to(), "first to Ana").await;
        let (_, a2) = app.send_text(&to(), "second to Ana").await;
        let (_, b1) = app.send_text(&format!("+{other}"), "to Bo").await;
        for m in [&a1, &a2, &b1] {
            app.wait_status(m["id"].as_str().unwrap(), "read").await;
        }
        let accepted: Vec<String> = app
            .sim
            .accepted_sends()
            .into_iter()
            .filter_map(|s| s.callback_data)
            .collect();
        assert_eq!(
            accepted[0],
            b1["id"].as_str().unwrap(),
            "Bo did not wait for Ana's limit"
        );
        let pos = |m: &Value| {
            accepted
                .iter()
                .position(|id| id == m["id"].as_str().unwrap())
                .unwrap()
        };
        assert!(pos(&a1) < pos(&a2), "Ana's messages keep their order");
        assert_eq!(
            app.sim
                .sends()
                .iter()
                .filter(|s| s.outcome == Err(131056))
                .count(),
            2
        );
        let _ = CUSTOMER_NAME;
    }
}

backend_tests! {
    async fn an_unanswered_send_is_reconciled_by_its_status_and_not_sent_twice(db: Db) {
        let app = TestApp::spawn_with_on(db, |c| c.whatsapp.graph_timeout_secs = 1).await;
        app.customer_says("hi").await;
        app.sim
            .inject(Fault::late_answer(Duration::from_millis(2500)));
        let (_, m) = app.send_text(&to(), "did it go?").await;
        let id = m["id"].as_str().unwrap();
        let m = app.wait_status(id, "read").await;
        assert!(m["wamid"].is_string());
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(
            accepted_for(&app, id),
            1,
            "the timeout did not cause a second send"
        );
    }
}

backend_tests! {
    async fn an_unanswered_send_without_any_status_is_sent_again_after_the_wait(db: Db) {
        let app = TestApp::spawn_with_on(db, |c| c.whatsapp.graph_timeout_secs = 1).await;
        app.customer_says("hi").await;
        app.sim.set_status_plan(no_statuses());
        app.sim
            .inject(Fault::late_answer(Duration::from_millis(2500)));
        let (_, m) = app.send_text(&to(), "lost answer").await;
        let id = m["id"].as_str().unwrap();
        let m = app.wait_status(id, "accepted").await;
        assert_eq!(
            accepted_for(&app, id),
            2,
            "no status came back, so it was sent again"
        );
        assert!(m["wamid"].is_string());
    }
}

/// Queues `n` templates to numbers `prefix` + 4 digits; their message ids, in order.
async fn queue_templates(app: &TestApp, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let (s, m) = app
            .post("/api/v1/messages", &template(&format!("{prefix}{i:04}")))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    ids
}

backend_tests! {
    async fn sends_are_paced_to_the_configured_rate(db: Db) {
        let app = TestApp::spawn_with_on(db, |c| c.outbox.rate_per_second = 20).await;
        app.sim.set_status_plan(no_statuses());
        let ids = queue_templates(&app, "+1555010", 50).await;
        for id in &ids {
            app.wait_status(id, "accepted").await;
        }
        let max = app.sim.max_accepted_in_window(Duration::from_secs(1));
        eprintln!("rate 20/s: at most {max} sends in any one-second window");
        assert!(max <= 20, "{max} sends in one second");
        assert!(max >= 18, "the rate is used ({max})");
    }
}

backend_tests! {
    async fn sends_resumed_after_a_pause_go_at_the_pace_not_in_a_burst(db: Db) {
        let app = TestApp::spawn_with_on(db, |c| c.outbox.rate_per_second = 50).await;
        app.sim.set_status_plan(no_statuses());
        let good = app.sim.access_token();
        app.sim.set_access_token("rotated-by-meta");
        let ids = queue_templates(&app, "+1555020", 5).await;
        wait_paused(&app).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.sim.set_access_token(good);
        let (s, _) = app
            .post_as("/api/v1/outbox/resume", &Value::Null, &app.admin, None)
            .await;
        assert_eq!(s, StatusCode::OK);
        for id in &ids {
            app.wait_status(id, "accepted").await;
        }
        let times: Vec<_> = app.sim.accepted_sends().iter().map(|s| s.at).collect();
        assert_eq!(times.len(), 5);
        // Four intervals of 20 ms; the time spent paused, made up, would take 8 ms off them.
        let span = times[4].duration_since(times[0]);
        assert!(span >= Duration::from_millis(76), "5 sends at 50/s within {span:?}");
    }
}
