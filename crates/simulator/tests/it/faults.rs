//! Injected faults, slowness and the throughput limit.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use simulator::{Fault, StatusPlan};
use tokio::task::JoinSet;
use whatsapp::{ErrorClass, webhook::Notification};

use crate::support::{TOKEN, graph, kinds, post_messages, start, text_body, text_to};

#[tokio::test]
async fn counted_fault_fails_n_calls_then_succeeds() {
    let (sim, _receiver) = start(StatusPlan::disabled()).await;
    sim.inject(Fault::code(130429).times(3));
    let client = graph(&sim);
    let request = text_to("+447700900123", "Hi");
    for _ in 0..3 {
        let err = client
            .send_message(TOKEN, &sim.phone_number_id(), &request)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(130429));
        assert_eq!(err.class(), ErrorClass::Throttled);
    }
    assert!(
        client
            .send_message(TOKEN, &sim.phone_number_id(), &request)
            .await
            .is_ok()
    );
    let outcomes: Vec<_> = sim
        .sends()
        .iter()
        .map(|s| s.outcome.clone().err())
        .collect();
    assert_eq!(outcomes, [Some(130429), Some(130429), Some(130429), None]);
    assert!(sim.faults().is_empty());
}

#[tokio::test]
async fn graph_error_bodies_match_the_documented_shape() {
    let (sim, _receiver) = start(StatusPlan::disabled()).await;
    sim.inject(Fault::code(131056));
    let (status, answer) = post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    assert_eq!(status, 400);
    let error = &answer["error"];
    assert_eq!(
        error["message"],
        "(#131056) (Business Account, Consumer Account) pair rate limit hit"
    );
    assert_eq!(error["type"], "OAuthException");
    assert_eq!(error["code"], 131056);
    assert_eq!(error["error_data"]["messaging_product"], "whatsapp");
    assert!(
        error["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("same phone number")
    );
    assert!(error["fbtrace_id"].as_str().unwrap().len() > 10);

    sim.inject(Fault::code(190));
    let (status, answer) = post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    assert_eq!((status, answer["error"]["code"].clone()), (401, json!(190)));
}

#[tokio::test]
async fn fraction_fails_about_that_share_until_cleared() {
    let (sim, _receiver) = start(StatusPlan::disabled()).await;
    sim.inject(Fault::code(131000).fraction(0.3));
    let mut failed = 0;
    for _ in 0..100 {
        let (status, _) = post_messages(&sim, TOKEN, &text_body("447700900123")).await;
        failed += usize::from(status != 200);
    }
    assert!((15..=45).contains(&failed), "{failed} of 100 failed");
    assert_eq!(
        sim.faults().len(),
        1,
        "fractional faults stay until cleared"
    );
    sim.clear_faults();
    let (status, _) = post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn recipient_fault_spares_other_recipients() {
    let (sim, _receiver) = start(StatusPlan::disabled()).await;
    sim.inject(Fault::code(131026).to("+5511988887777").always());
    for _ in 0..2 {
        let (status, answer) = post_messages(&sim, TOKEN, &text_body("5511988887777")).await;
        assert_eq!(
            (status, answer["error"]["code"].clone()),
            (400, json!(131026))
        );
        let (status, _) = post_messages(&sim, TOKEN, &text_body("+447700900123")).await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn asynchronous_fault_accepts_then_posts_a_failed_status() {
    let (sim, receiver) = start(StatusPlan::default()).await;
    sim.inject(Fault::code(131047).asynchronous());
    let mut request = text_to("+5511988887777", "Are you still there?");
    request.biz_opaque_callback_data = Some("outbox:7".into());
    let response = graph(&sim)
        .send_message(TOKEN, &sim.phone_number_id(), &request)
        .await
        .unwrap();
    let wamid = response.wamid().unwrap();
    let hits = receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        kinds(&receiver.statuses()),
        ["failed"],
        "no sent/delivered/read"
    );
    assert!(hits[0].signature_ok);
    let n: Notification = serde_json::from_slice(&hits[0].raw).unwrap();
    let value = n.entry[0].changes[0].messages().unwrap().unwrap();
    let status = &value.statuses[0];
    assert_eq!(status.id, wamid);
    assert_eq!(status.biz_opaque_callback_data.as_deref(), Some("outbox:7"));
    assert_eq!(status.errors[0].code, 131047);
    assert_eq!(
        status.errors[0].title.as_deref(),
        Some("Re-engagement message")
    );
    assert!(status.errors[0].details().unwrap().contains("24 hours"));
    assert!(status.errors[0].href.is_some());
}

#[tokio::test]
async fn slow_fault_delays_a_successful_answer() {
    let (sim, _receiver) = start(StatusPlan::disabled()).await;
    sim.inject(Fault::slow(Duration::from_millis(300)));
    let started = Instant::now();
    let (status, _) = post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "only the next call is slow"
    );
}

#[tokio::test]
async fn rate_limit_caps_accepted_sends_per_second() {
    let (sim, _receiver) = start(StatusPlan::disabled()).await;
    sim.set_rate_limit(Some(5));
    let started = Instant::now();
    let mut calls = JoinSet::new();
    for _ in 0..20 {
        let sim = sim.clone();
        calls.spawn(async move { post_messages(&sim, TOKEN, &text_body("447700900123")).await });
    }
    let mut codes = Vec::new();
    while let Some(done) = calls.join_next().await {
        let (status, answer) = done.unwrap();
        codes.push(if status == 200 {
            0
        } else {
            answer["error"]["code"].as_i64().unwrap()
        });
    }
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "the burst must fit in one window"
    );
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 5);
    assert_eq!(codes.iter().filter(|c| **c == 130429).count(), 15);
    assert_eq!(sim.max_accepted_in_window(Duration::from_secs(1)), 5);
    assert_eq!(sim.max_accepted_in_window(Duration::from_nanos(1)), 1);

    // After the window has passed, sends are accepted again.
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let (status, _) = post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    assert_eq!(status, 200);
    assert_eq!(sim.max_accepted_in_window(Duration::from_secs(1)), 5);
    assert_eq!(sim.max_accepted_in_window(Duration::from_secs(10)), 6);
    let stats: Value = reqwest::get(format!("{}/_sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats,
        json!({"sends": 21, "accepted": 6, "max_accepted_per_second": 5})
    );
}

#[tokio::test]
async fn faults_rate_limit_and_token_are_controllable_over_http() {
    let (sim, _receiver) = start(StatusPlan::disabled()).await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}/_sim/{path}", sim.base_url());
    let fault = json!({"code": 131056, "times": 2, "to": "447700900123", "delay_ms": 10});
    let status = http
        .post(url("faults"))
        .json(&fault)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 204);
    let listed: Value = http
        .get(url("faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["times"], 2);
    assert_eq!(listed[0]["delay_ms"], 10);
    let (status, _) = post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    assert_eq!(status, 400);
    http.delete(url("faults")).send().await.unwrap();
    assert!(sim.faults().is_empty());

    http.post(url("rate-limit"))
        .json(&json!({"per_second": 1}))
        .send()
        .await
        .unwrap();
    post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    let (_, answer) = post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    assert_eq!(answer["error"]["message"], "(#130429) Rate limit hit");
    http.post(url("rate-limit"))
        .json(&json!({"per_second": null}))
        .send()
        .await
        .unwrap();

    http.post(url("token"))
        .json(&json!({"token": "rotated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        post_messages(&sim, TOKEN, &text_body("447700900123"))
            .await
            .0,
        401
    );
    assert_eq!(
        post_messages(&sim, "rotated", &text_body("447700900123"))
            .await
            .0,
        200
    );

    let sends: Value = http
        .get(url("sends"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let codes: Vec<_> = sends
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["error_code"].clone())
        .collect();
    assert_eq!(
        codes,
        [
            json!(131056),
            Value::Null,
            json!(130429),
            json!(190),
            Value::Null
        ]
    );
    assert!(sends[0]["at_ms"].is_u64() && sends[1]["wamid"].is_string());
}
