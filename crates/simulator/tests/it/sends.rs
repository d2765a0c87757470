//! The send endpoint: acceptance, validation, auth, read receipts and the status webhooks.

use std::time::Duration;

use serde_json::json;
use simulator::StatusPlan;
use whatsapp::{CallError, ErrorClass, webhook::Notification};

use crate::support::{TOKEN, graph, kinds, post_messages, start, text_body, text_to};

#[tokio::test]
async fn accepted_send_gets_a_wamid_and_signed_statuses() {
    let (sim, receiver) = start(StatusPlan::default()).await;
    let mut request = text_to("+55 11 98888-7777", "Olá! Seu pedido saiu 🚚");
    request.biz_opaque_callback_data = Some("outbox:01JH9Z3W".into());
    let response = graph(&sim)
        .send_message(TOKEN, &sim.phone_number_id(), &request)
        .await
        .unwrap();
    let wamid = response.wamid().unwrap().to_owned();
    assert!(wamid.starts_with("wamid.HBgN"), "{wamid}");
    assert_eq!(response.wa_id(), Some("5511988887777"));
    assert_eq!(response.contacts[0].input, "+55 11 98888-7777");
    assert_eq!(response.messages[0].message_status, None);

    let hits = receiver.wait_for(3).await;
    for hit in &hits {
        assert!(
            hit.signature_ok,
            "bad signature on {}",
            String::from_utf8_lossy(&hit.raw)
        );
        assert_eq!(hit.content_type.as_deref(), Some("application/json"));
        let n: Notification = serde_json::from_slice(&hit.raw).unwrap();
        assert_eq!(n.object, "whatsapp_business_account");
        assert_eq!(n.entry[0].id, sim.waba_id());
        let value = n.entry[0].changes[0].messages().unwrap().unwrap();
        assert_eq!(value.metadata.phone_number_id, sim.phone_number_id());
        assert!(value.messages.is_empty() && value.contacts.is_empty());
        let status = &value.statuses[0];
        assert_eq!(status.id, wamid);
        assert_eq!(status.recipient_id.as_deref(), Some("5511988887777"));
        assert_eq!(
            status.biz_opaque_callback_data.as_deref(),
            Some("outbox:01JH9Z3W")
        );
        assert!(status.timestamp.is_some());
        assert!(
            hit.json["entry"][0]["changes"][0]["value"]["statuses"][0]["timestamp"].is_string()
        );
    }
    let statuses = receiver.statuses();
    assert_eq!(kinds(&statuses), ["sent", "delivered", "read"]);
    assert_eq!(statuses[0]["pricing"]["pricing_model"], "PMP");

    let sends = sim.sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].wamid(), Some(wamid.as_str()));
    assert_eq!(sends[0].callback_data.as_deref(), Some("outbox:01JH9Z3W"));
    assert_eq!(sends[0].body["text"]["body"], "Olá! Seu pedido saiu 🚚");
}

#[tokio::test]
async fn duplicate_reorder_and_batch_show_in_what_arrives() {
    let (sim, receiver) = start(StatusPlan {
        duplicate: true,
        ..StatusPlan::default()
    })
    .await;
    let (status, _) = post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    assert_eq!(status, 200);
    receiver.wait_for(6).await;
    assert_eq!(
        kinds(&receiver.statuses()),
        ["sent", "sent", "delivered", "delivered", "read", "read"]
    );
    let raw: Vec<_> = receiver.hits().into_iter().map(|h| h.raw).collect();
    assert_eq!(raw[0], raw[1], "a duplicate is the same body");

    let (sim, receiver) = start(StatusPlan {
        reorder: true,
        ..StatusPlan::default()
    })
    .await;
    post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    receiver.wait_for(3).await;
    let statuses = receiver.statuses();
    assert_eq!(kinds(&statuses), ["read", "sent", "delivered"]);
    let ts = |i: usize| {
        statuses[i]["timestamp"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(
        ts(1) <= ts(2) && ts(2) <= ts(0),
        "timestamps stay in logical order"
    );

    let (sim, receiver) = start(StatusPlan {
        batch: true,
        read: false,
        ..StatusPlan::default()
    })
    .await;
    post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    let hits = receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(receiver.hits().len(), 1, "one body for all statuses");
    assert_eq!(kinds(&receiver.statuses()), ["sent", "delivered"]);
    assert!(hits[0].signature_ok);
}

#[tokio::test]
async fn statuses_can_be_switched_off() {
    let (sim, receiver) = start(StatusPlan::disabled()).await;
    post_messages(&sim, TOKEN, &text_body("447700900123")).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(receiver.hits().is_empty());
    assert_eq!(sim.stats().accepted, 1);
}

#[tokio::test]
async fn wrong_token_gets_401_with_code_190_until_rotated() {
    let (sim, _receiver) = start(StatusPlan::disabled()).await;
    let client = graph(&sim);
    let request = text_to("+447700900123", "Hi");
    let err = client
        .send_message("stale", &sim.phone_number_id(), &request)
        .await
        .unwrap_err();
    match &err {
        CallError::Graph { status, error } => {
            assert_eq!((*status, error.code), (401, 190));
            assert_eq!(error.kind.as_deref(), Some("OAuthException"));
            assert!(
                error.message.contains("Session has expired"),
                "{}",
                error.message
            );
            assert!(error.fbtrace_id.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Auth);

    sim.set_access_token("token-2");
    let old = client
        .send_message(TOKEN, &sim.phone_number_id(), &request)
        .await;
    assert_eq!(old.unwrap_err().code(), Some(190));
    assert!(
        client
            .send_message("token-2", &sim.phone_number_id(), &request)
            .await
            .is_ok()
    );
    let outcomes: Vec<_> = sim
        .sends()
        .iter()
        .map(|s| s.outcome.clone().err())
        .collect();
    assert_eq!(outcomes, [Some(190), Some(190), None]);
}

#[tokio::test]
async fn unknown_phone_number_id_and_invalid_bodies_are_refused_like_graph() {
    let (sim, _receiver) = start(StatusPlan::disabled()).await;
    let err = graph(&sim)
        .send_message(TOKEN, "999", &text_to("+447700900123", "Hi"))
        .await
        .unwrap_err();
    let CallError::Graph { status: 400, error } = err else {
        panic!("{err:?}")
    };
    assert_eq!(error.code, 100);
    assert!(
        error
            .message
            .starts_with("Unsupported post request. Object with ID '999'")
    );

    let cases = [
        (
            json!({"to": "1555", "type": "text", "text": {"body": "x"}}),
            131008,
            "(#131008) Required parameter is missing",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "1555", "type": "fax"}),
            100,
            "(#100) Invalid parameter",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "1555", "type": "text", "text": {"body": "x".repeat(4097)}}),
            100,
            "(#100) Invalid parameter",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "1555", "type": "template", "template": {"name": "t"}}),
            131008,
            "(#131008) Required parameter is missing",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "+1 555-078-3881", "type": "text", "text": {"body": "me"}}),
            131021,
            "(#131021) Recipient cannot be sender",
        ),
    ];
    for (body, code, message) in cases {
        let (status, answer) = post_messages(&sim, TOKEN, &body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["code"], code, "{answer}");
        assert_eq!(answer["error"]["message"], message);
        assert_eq!(answer["error"]["type"], "OAuthException");
        assert!(answer["error"]["error_data"]["details"].is_string());
    }
    assert_eq!(sim.stats().accepted, 0);
}

#[tokio::test]
async fn templates_are_accepted_and_read_receipts_recorded() {
    let (sim, _receiver) = start(StatusPlan::disabled()).await;
    let template = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
        "to": "+5511988887777", "type": "template", "template": {"name": "order_shipped",
        "language": {"code": "pt_BR"}, "components": [{"type": "body", "parameters": [
        {"type": "text", "text": "Ana"}]}]}});
    let (status, answer) = post_messages(&sim, TOKEN, &template).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["messages"][0]["message_status"], "accepted");
    assert_eq!(answer["contacts"][0]["input"], "+5511988887777");

    graph(&sim)
        .mark_read(TOKEN, &sim.phone_number_id(), "wamid.IN1")
        .await
        .unwrap();
    let typing = json!({"messaging_product": "whatsapp", "status": "read",
        "message_id": "wamid.IN2", "typing_indicator": {"type": "text"}});
    let (status, answer) = post_messages(&sim, TOKEN, &typing).await;
    assert_eq!((status, answer), (200, json!({"success": true})));
    assert_eq!(sim.read_receipts(), ["wamid.IN1", "wamid.IN2"]);
    assert_eq!(sim.sends().len(), 1, "read receipts are not sends");
}
