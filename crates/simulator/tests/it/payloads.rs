//! Payload builders against the `whatsapp` crate's parser, media endpoints, demo customers.

use std::time::Duration;

use serde_json::Value;
use simulator::{
    StatusPlan,
    customers::{Pace, spawn_crowd_paced},
    payload,
};
use tokio_util::sync::CancellationToken;
use whatsapp::{
    InboundMessage, MessageContent,
    webhook::{InteractiveReply, MediaKind},
};

use crate::support::{TOKEN, graph, start, text_to};

fn parse(v: &Value) -> InboundMessage {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"))
}

#[test]
fn every_builder_parses_into_its_content_variant() {
    let from = "5511988887777";
    let ctx = "wamid.OUT";
    let media = |v: Value, want: MediaKind| match parse(&v).content() {
        MessageContent::Media { kind, media } => {
            assert_eq!(kind, want);
            assert!(media.sha256.is_some() && media.mime_type.is_some());
            media
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        parse(&payload::text(from, "Hi")).content(),
        MessageContent::Text { body: "Hi".into() }
    );
    assert_eq!(
        media(payload::image(from, Some("Broken seal")), MediaKind::Image)
            .caption
            .as_deref(),
        Some("Broken seal")
    );
    assert_eq!(
        media(payload::image(from, None), MediaKind::Image).caption,
        None
    );
    media(payload::video(from, Some("unboxing")), MediaKind::Video);
    assert_eq!(
        media(payload::audio(from, true), MediaKind::Audio).voice,
        Some(true)
    );
    let doc = media(
        payload::document(from, "invoice.pdf", None),
        MediaKind::Document,
    );
    assert_eq!(doc.filename.as_deref(), Some("invoice.pdf"));
    assert_eq!(
        media(payload::sticker(from, true), MediaKind::Sticker).animated,
        Some(true)
    );

    match parse(&payload::location(
        from,
        -23.56,
        -46.65,
        Some("Office"),
        None,
    ))
    .content()
    {
        MessageContent::Location(l) => assert_eq!(
            (l.latitude, l.name.as_deref(), l.address),
            (-23.56, Some("Office"), None)
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(parse(&payload::contacts(from)).content(), MessageContent::Contacts(c) if c.len() == 1)
    );

    let button = parse(&payload::interactive_button_reply(from, ctx, "yes", "Yes"));
    assert_eq!(
        button.context.as_ref().and_then(|c| c.id.as_deref()),
        Some(ctx)
    );
    assert_eq!(
        button.content(),
        MessageContent::Interactive(InteractiveReply::ButtonReply {
            id: "yes".into(),
            title: "Yes".into()
        })
    );
    let list = parse(&payload::interactive_list_reply(
        from,
        ctx,
        "r1",
        "Express",
        Some("1 day"),
    ));
    assert!(matches!(
        list.content(),
        MessageContent::Interactive(InteractiveReply::ListReply {
            description: Some(_),
            ..
        })
    ));
    let flow = parse(&payload::interactive_nfm_reply(
        from,
        ctx,
        r#"{"rating":"5"}"#,
    ));
    assert!(
        matches!(flow.content(), MessageContent::Interactive(InteractiveReply::NfmReply { response_json: Some(j), .. }) if j.contains("rating"))
    );
    let tap = parse(&payload::button(from, ctx, "TRACK_4521", "Track order"));
    assert_eq!(
        tap.content(),
        MessageContent::Button {
            payload: Some("TRACK_4521".into()),
            text: Some("Track order".into())
        }
    );
    assert!(tap.context.is_some());

    assert_eq!(
        parse(&payload::reaction(from, ctx, Some("👍"))).content(),
        MessageContent::Reaction {
            message_id: ctx.into(),
            emoji: Some("👍".into())
        }
    );
    let removed = payload::reaction(from, ctx, None);
    assert!(
        removed["reaction"].get("emoji").is_none(),
        "emoji is omitted, not null"
    );
    assert_eq!(
        parse(&removed).content(),
        MessageContent::Reaction {
            message_id: ctx.into(),
            emoji: None
        }
    );

    assert!(
        matches!(parse(&payload::order(from)).content(), MessageContent::Order(o) if o.product_items.len() == 2)
    );
    match parse(&payload::system_changed_number(from, "5511977776666")).content() {
        MessageContent::System(s) => assert_eq!(
            (s.kind.as_str(), s.wa_id.as_deref()),
            ("user_changed_number", Some("5511977776666"))
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(parse(&payload::system_identity_changed(from)).content(), MessageContent::System(s) if s.kind == "customer_identity_changed")
    );
    assert_eq!(
        parse(&payload::request_welcome(from)).content(),
        MessageContent::RequestWelcome
    );
    let odd = parse(&payload::unsupported(from, "poll_creation"));
    assert_eq!(
        odd.content(),
        MessageContent::Unsupported {
            kind: "poll_creation".into()
        }
    );
    assert_eq!(odd.errors[0].code, 131051);

    let reply = parse(&payload::with_context(payload::text(from, "yes"), ctx));
    let context = reply.context.unwrap();
    assert_eq!(
        (context.from.as_deref(), context.id.as_deref()),
        (Some("15550783881"), Some(ctx))
    );
    assert!(
        parse(&payload::forwarded(payload::text(from, "fwd"), true))
            .context
            .unwrap()
            .frequently_forwarded
    );
}

#[test]
fn builders_stamp_fresh_ids_and_string_timestamps() {
    let a = payload::text("447700900123", "a");
    let b = payload::text("447700900123", "a");
    assert_ne!(a["id"], b["id"]);
    assert!(a["id"].as_str().unwrap().starts_with("wamid."));
    let ts: u64 = a["timestamp"].as_str().unwrap().parse().unwrap();
    assert!(ts > 1_700_000_000);
}

#[tokio::test]
async fn inbound_media_can_be_looked_up_and_downloaded() {
    let (sim, receiver) = start(StatusPlan::disabled()).await;
    sim.customer_writes(payload::image("5511988887777", Some("Broken seal")), "Ana")
        .await
        .unwrap();
    let image = receiver.messages()[0]["image"].clone();
    let id = image["id"].as_str().unwrap();
    let url = image["url"].as_str().unwrap();
    assert!(url.starts_with(&sim.base_url()), "{url}");

    let http = reqwest::Client::new();
    let meta: Value = http
        .get(format!("{}/v23.0/{id}", sim.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["id"], id);
    assert_eq!(meta["mime_type"], "image/png");
    assert_eq!(meta["sha256"], image["sha256"]);
    assert_eq!(meta["messaging_product"], "whatsapp");
    let download = http
        .get(meta["url"].as_str().unwrap())
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(download.headers()["content-type"], "image/png");
    let bytes = download.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG"));
    assert_eq!(meta["file_size"], bytes.len().to_string());

    let unauthorised = http
        .get(meta["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401);
    let missing = http
        .get(format!("{}/v23.0/1234", sim.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let error: Value = missing.json().await.unwrap();
    assert_eq!(error["error"]["code"], 100);

    let own = sim.add_media(b"hello".to_vec(), "text/plain");
    let own_meta: Value = http
        .get(format!("{}/v23.0/{}", sim.base_url(), own.id))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own_meta["file_size"], "5");
}

#[tokio::test]
async fn crowd_writes_in_and_answers_the_business() {
    let (sim, receiver) = start(StatusPlan::disabled()).await;
    let cancel = CancellationToken::new();
    let fast = Pace {
        between: (Duration::from_millis(20), Duration::from_millis(40)),
        reply_after: (Duration::from_millis(10), Duration::from_millis(20)),
    };
    let crowd = spawn_crowd_paced(sim.clone(), 3, fast, cancel.clone());
    receiver.wait_for(3).await;
    for hit in receiver.hits() {
        assert!(hit.signature_ok);
        let from = hit.json["entry"][0]["changes"][0]["value"]["messages"][0]["from"].clone();
        assert!(
            ["5511988887777", "447700900123", "919876543210"].contains(&from.as_str().unwrap()),
            "{from}"
        );
    }
    cancel.cancel();
    crowd.await.unwrap();

    // Quiet crowd: the only message is the answer to our send.
    let (sim, receiver) = start(StatusPlan::disabled()).await;
    let quiet = Pace {
        between: (Duration::from_secs(3600), Duration::from_secs(3601)),
        ..fast
    };
    let cancel = CancellationToken::new();
    let crowd = spawn_crowd_paced(sim.clone(), 2, quiet, cancel.clone());
    let sent = graph(&sim)
        .send_message(
            TOKEN,
            &sim.phone_number_id(),
            &text_to("+44 7700 900123", "Your parcel left today"),
        )
        .await
        .unwrap();
    receiver.wait_for(1).await;
    let answer = &receiver.messages()[0];
    assert_eq!(answer["from"], "447700900123");
    let wamid = sent.wamid().unwrap();
    let refers = answer["context"]["id"] == wamid || answer["reaction"]["message_id"] == wamid;
    assert!(refers || answer["type"] == "text", "{answer}");
    cancel.cancel();
    crowd.await.unwrap();
}
