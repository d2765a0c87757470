//! Every kind of inbound message gets a readable bubble (media as placeholder cards, a
//! reaction as a note on its message, "Customer opened the chat"), and scrolling up loads
//! older pages.

use reqwest::StatusCode;
use serde_json::Value;
use simulator::payload;
use wadesk::store::Role;

use super::Ui;
use crate::helpers::CUSTOMER;

const OLDER: usize = 60;

/// The text of the bubble of the first message of `kind`.
async fn bubble(ui: &Ui, kind: &str) -> String {
    ui.text(&format!(".chat .msg[data-kind={kind}]")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_message_has_a_bubble_and_older_pages_load_on_scroll() {
    let Some(ui) = Ui::start().await else { return };
    let password = ui.user("ana", Role::Agent).await;
    let app = &ui.app;

    let older: Vec<Value> = (0..OLDER)
        .map(|i| payload::text(CUSTOMER, &format!("older message {i}")))
        .collect();
    assert_eq!(app.webhook(&app.from_customer(older)).await, StatusCode::OK);
    let receipt = payload::text(CUSTOMER, "Here is my receipt");
    let receipt_wamid = receipt["id"].as_str().unwrap().to_owned();
    let kinds = vec![
        payload::request_welcome(CUSTOMER),
        receipt,
        payload::image(CUSTOMER, Some("The blue one")),
        payload::audio(CUSTOMER, true),
        payload::document(CUSTOMER, "invoice-0042.pdf", None),
        payload::location(
            CUSTOMER,
            38.7101,
            -9.1366,
            Some("Warehouse"),
            Some("Rua Augusta 10, Lisbon"),
        ),
        payload::contacts(CUSTOMER),
        payload::sticker(CUSTOMER, false),
        payload::reaction(CUSTOMER, &receipt_wamid, Some("👍")),
        payload::order(CUSTOMER),
        payload::unsupported(CUSTOMER, "poll_creation"),
        payload::forwarded(payload::text(CUSTOMER, "Look at this offer"), false),
    ];
    let total = OLDER + kinds.len();
    assert_eq!(app.webhook(&app.from_customer(kinds)).await, StatusCode::OK);
    app.eventually("everything is stored", || async {
        let (_, v) = app.get("/api/v1/messages?limit=200").await;
        (v["messages"].as_array().map_or(0, Vec::len) == total).then_some(())
    })
    .await;

    ui.login("ana", password).await;
    ui.click("a.conv[data-id]").await;
    ui.wait_css(".chat .msg[data-kind=order]").await;

    assert!(bubble(&ui, "image").await.contains("Photo"));
    assert!(bubble(&ui, "image").await.contains("The blue one"));
    assert!(bubble(&ui, "audio").await.contains("Voice message"));
    assert!(bubble(&ui, "document").await.contains("invoice-0042.pdf"));
    let location = bubble(&ui, "location").await;
    assert!(
        location.contains("Warehouse") && location.contains("Rua Augusta"),
        "{location}"
    );
    assert!(bubble(&ui, "contacts").await.contains("Maria Oliveira"));
    assert!(bubble(&ui, "sticker").await.contains("Sticker"));
    assert!(bubble(&ui, "order").await.contains("2 item(s)"));
    assert!(bubble(&ui, "unsupported").await.contains("not supported"));
    let reaction = bubble(&ui, "reaction").await;
    assert!(
        reaction.contains("reacted 👍") && reaction.contains("Here is my receipt"),
        "{reaction}"
    );
    assert_eq!(
        ui.text(".chat .msg.note .note-text").await,
        "Customer opened the chat"
    );
    assert_eq!(ui.text(".chat .forwarded").await, "↪ Forwarded");
    ui.screenshot("kinds").await;

    // The first page is the newest 50; scrolling to the top brings the rest, in order.
    let shown = "document.querySelectorAll('.chat .thread-list > .msg').length";
    assert_eq!(
        ui.browser
            .execute(&format!("return {shown}"), serde_json::json!([]))
            .await,
        50
    );
    ui.browser
        .execute(
            "document.querySelector('.thread').scrollTop = 0",
            serde_json::json!([]),
        )
        .await;
    ui.wait("older pages load", &format!("{shown} === {total}"))
        .await;
    let first = ui.text(".chat .thread-list > .msg .text").await;
    assert_eq!(first, "older message 0");
    ui.screenshot("older-loaded").await;

    // Resolving moves the chat out of the "Open" filter; reopening brings it back.
    ui.click(".chat-header .resolve-button").await;
    ui.wait("resolved", "document.querySelector('a.conv .tag-resolved')")
        .await;
    ui.click(".filters .chip[data-filter=open]").await;
    ui.wait(
        "not among open chats",
        "document.querySelector('.conv-empty:not([hidden])')",
    )
    .await;
    ui.click(".chat-header .resolve-button").await;
    ui.wait(
        "open again",
        "document.querySelector('a.conv[data-status=open]')",
    )
    .await;
    ui.click(".filters .chip[data-filter='']").await;
    ui.finish().await;
}
