//! Inbound webhooks: Meta's byte format, signatures, batching, retries, shutdown.

use std::time::Duration;

use serde_json::{Value, json};
use simulator::{DeliveryError, StatusPlan, payload};
use whatsapp::{MessageContent, webhook::Notification};

use crate::support::{TOKEN, post_messages, start, text_body};

#[tokio::test]
async fn non_ascii_is_posted_escaped_and_the_signature_holds() {
    let (sim, receiver) = start(StatusPlan::disabled()).await;
    let message = payload::text("5511988887777", "Olá, ação 👋");
    let status = sim.customer_writes(message, "Ana Souza 🌸").await.unwrap();
    assert_eq!(status, 200);
    let hit = &receiver.wait_for(1).await[0];
    assert!(hit.signature_ok);
    assert!(hit.raw.is_ascii(), "Meta's bodies are pure ASCII");
    let raw = String::from_utf8(hit.raw.clone()).unwrap();
    assert!(
        raw.contains(r"Ol\u00e1, a\u00e7\u00e3o \ud83d\udc4b"),
        "{raw}"
    );
    assert!(raw.contains(r"Ana Souza \ud83c\udf38"), "{raw}");

    // Re-serialising the parsed body changes the bytes, so a check over it would fail.
    let reserialised = serde_json::to_vec(&hit.json).unwrap();
    let signature = whatsapp::signature::sign(sim.app_secret().as_bytes(), &hit.raw);
    assert!(whatsapp::signature::verify(b"app-secret", &reserialised, Some(&signature)).is_err());

    let n: Notification = serde_json::from_slice(&hit.raw).unwrap();
    let value = n.entry[0].changes[0].messages().unwrap().unwrap();
    assert_eq!(value.contacts[0].name(), Some("Ana Souza 🌸"));
    assert_eq!(value.contacts[0].wa_id.as_deref(), Some("5511988887777"));
    assert_eq!(
        value.messages[0].content(),
        MessageContent::Text {
            body: "Olá, ação 👋".into()
        }
    );
}

#[tokio::test]
async fn batched_notification_with_several_entries_and_changes() {
    let (sim, receiver) = start(StatusPlan::disabled()).await;
    let (pnid, display, waba) = (
        sim.phone_number_id(),
        sim.display_phone_number(),
        sim.waba_id(),
    );
    let entries = (0..2)
        .map(|e| {
            let changes = (0..2)
                .map(|c| {
                    let from = format!("4477009001{e}{c}");
                    let messages = (0..3)
                        .map(|i| payload::text(&from, &format!("m{e}{c}{i}")))
                        .collect();
                    let statuses = vec![payload::status(
                        "wamid.OUT",
                        "delivered",
                        "447700900123",
                        None,
                        vec![],
                    )];
                    payload::change(payload::value(
                        &pnid,
                        &display,
                        &[(&from, "Liam")],
                        messages,
                        statuses,
                    ))
                })
                .collect();
            payload::entry(&waba, changes)
        })
        .collect();
    let status = sim.deliver(payload::notification(entries)).await.unwrap();
    assert_eq!(status, 200);
    assert!(receiver.wait_for(1).await[0].signature_ok);
    assert_eq!(receiver.messages().len(), 12);
    assert_eq!(receiver.statuses().len(), 4);
    let n: Notification = serde_json::from_value(receiver.hits()[0].json.clone()).unwrap();
    let bodies: Vec<String> = n
        .entry
        .iter()
        .flat_map(|e| &e.changes)
        .flat_map(|c| c.messages().unwrap().unwrap().messages)
        .map(|m| match m.content() {
            MessageContent::Text { body } => body,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(bodies.first().map(String::as_str), Some("m000"));
    assert_eq!(bodies.last().map(String::as_str), Some("m112"));
}

#[tokio::test]
async fn deliver_raw_signs_exactly_the_given_bytes() {
    let (sim, receiver) = start(StatusPlan::disabled()).await;
    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#.to_vec();
    assert_eq!(sim.deliver_raw(body.clone()).await.unwrap(), 200);
    let hit = &receiver.wait_for(1).await[0];
    assert_eq!(hit.raw, body);
    assert!(hit.signature_ok);
}

#[tokio::test]
async fn customer_messages_are_retried_with_backoff() {
    let (sim, receiver) = start(StatusPlan::disabled()).await;
    receiver.fail_next(2);
    let status = sim
        .customer_writes(payload::text("447700900123", "hello?"), "Liam")
        .await
        .unwrap();
    assert_eq!(status, 200);
    let hits = receiver.hits();
    assert_eq!(hits.len(), 3);
    assert!(
        hits.iter().all(|h| h.raw == hits[0].raw),
        "retries repeat the same bytes"
    );
    let deliveries = sim.deliveries();
    let attempts: Vec<_> = deliveries
        .iter()
        .map(|d| (d.attempt, d.status.clone()))
        .collect();
    assert_eq!(attempts, [(1, Ok(500)), (2, Ok(500)), (3, Ok(200))]);
    assert!(deliveries[2].at.duration_since(deliveries[0].at) >= Duration::from_millis(150));
    assert!(deliveries.iter().all(|d| d.bytes == hits[0].raw.len()));

    // A single delivery does not retry.
    receiver.fail_next(1);
    assert_eq!(sim.deliver(json!({"object": "x"})).await.unwrap(), 500);
    assert_eq!(receiver.hits().len(), 4);
}

#[tokio::test]
async fn failed_status_posts_are_retried() {
    let (sim, receiver) = start(StatusPlan {
        read: false,
        ..StatusPlan::default()
    })
    .await;
    receiver.fail_next(1);
    post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    receiver.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let kinds: Vec<_> = receiver
        .statuses()
        .iter()
        .map(|s| s["status"].clone())
        .collect();
    assert_eq!(kinds.len(), 3);
    assert_eq!(
        kinds.iter().filter(|k| **k == "sent").count(),
        2,
        "sent was retried"
    );
}

#[tokio::test]
async fn no_webhook_url_and_unreachable_receiver_are_errors() {
    let mut config = simulator::Config::new("s", "t");
    config.statuses = StatusPlan::disabled();
    let sim = simulator::Simulator::start(crate::support::localhost(), config)
        .await
        .unwrap();
    let err = sim.deliver(json!({})).await.unwrap_err();
    assert_eq!(err, DeliveryError::NoWebhookUrl);
    sim.set_webhook_url("http://127.0.0.1:9/webhook");
    let err = sim.deliver(json!({})).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Unreachable(_)), "{err:?}");
    assert!(sim.deliveries()[0].status.is_err());
    let invalid = sim
        .customer_writes(json!({"type": "text"}), "x")
        .await
        .unwrap_err();
    assert!(matches!(invalid, DeliveryError::InvalidMessage(_)));
}

#[tokio::test]
async fn inbound_over_http_and_shutdown_stops_everything() {
    let (sim, receiver) = start(StatusPlan {
        delays: [Duration::from_millis(200); 3],
        ..StatusPlan::default()
    })
    .await;
    let http = reqwest::Client::new();
    let answer: Value = http
        .post(format!("{}/_sim/inbound", sim.base_url()))
        .json(&json!({"message": payload::text("447700900123", "hi"), "name": "Liam"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({"status": 200}));
    assert_eq!(receiver.messages().len(), 1);

    post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    sim.shutdown();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.hits().len(),
        1,
        "pending statuses are dropped on shutdown"
    );
    assert!(sim.is_shut_down());
    let after = http
        .get(format!("{}/_sim/stats", sim.base_url()))
        .send()
        .await;
    assert!(after.is_err(), "the server stopped listening");
}
