//! Replies in the chat: the bubble shows queued, ✓, ✓✓ and blue ✓✓ as the simulator reports
//! each status, with the quoted message; a send Meta refuses shows ✗ and Meta's reason.

use std::time::Duration;

use serde_json::json;
use simulator::{Fault, StatusPlan};
use wadesk::store::Role;

use super::{Ui, webdriver::keys};

/// The last outbound bubble the server knows (not the optimistic copy shown before the 202).
const OUT: &str = ".chat .msg.out[data-id]:not([data-pending])";

async fn open_chat_with_customer(ui: &Ui, says: &str) {
    let password = ui.user("ana", Role::Admin).await;
    ui.app.customer_says(says).await;
    ui.login("ana", password).await;
    ui.click("a.conv[data-id]").await;
    ui.wait_css(".chat .msg.in").await;
}

/// Waits until the last reply shows one of `statuses` (space-separated); describes its tick.
async fn status_of_last_reply(ui: &Ui, statuses: &str) -> serde_json::Value {
    ui.wait(
        &format!("the reply becomes {statuses}"),
        &format!(
            "(() => {{ const all = document.querySelectorAll('{OUT}');
                      const t = all[all.length - 1]?.querySelector('.tick');
                      return t && '{statuses}'.split(' ').includes(t.dataset.status) &&
                        {{ class: t.getAttribute('class'), marks: t.querySelectorAll('path').length,
                          color: getComputedStyle(t).color, label: t.getAttribute('aria-label') }}; }})()"
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_shows_queued_then_sent_delivered_and_read_ticks() {
    let Some(ui) = Ui::start().await else { return };
    // Slow enough to see every stage: Graph answers after 1 s, then statuses 0.8 s apart.
    ui.app.sim.set_status_plan(StatusPlan {
        delays: [
            Duration::from_millis(800),
            Duration::from_millis(1600),
            Duration::from_millis(2400),
        ],
        ..StatusPlan::default()
    });
    ui.app.sim.inject(Fault::slow(Duration::from_millis(1000)));
    open_chat_with_customer(&ui, "Where is my order?").await;

    // Reply to the customer's bubble, on two lines.
    let bubble = ui.wait_css(".chat .msg.in .bubble").await;
    ui.browser.hover(&bubble).await;
    ui.click(".chat .msg.in .msg-action[aria-label=Reply]")
        .await;
    ui.wait(
        "the reply bar",
        "document.querySelector('.reply-bar:not([hidden])')",
    )
    .await;
    let input = ui.wait_css("textarea.composer-input").await;
    ui.browser.send_keys(&input, "On its way!").await;
    ui.browser
        .send_keys(&input, &format!("{}{}", keys::SHIFT, keys::ENTER))
        .await;
    ui.browser.send_keys(&input, "Tracking: AB123").await;
    ui.browser.send_keys(&input, keys::ENTER).await;

    let queued = status_of_last_reply(&ui, "queued").await;
    assert_eq!(queued["label"], "Waiting to send", "{queued}");
    let text = ui.text(&format!("{OUT} .text")).await;
    assert_eq!(text, "On its way!\nTracking: AB123");
    let quote = ui.text(&format!("{OUT} .quote .quote-text")).await;
    assert_eq!(quote, "Where is my order?");
    assert_eq!(
        ui.browser
            .execute(
                "return document.querySelector('textarea.composer-input').value",
                json!([])
            )
            .await,
        ""
    );
    ui.screenshot("ticks-queued").await;

    // Accepted by Graph, then `sent`: both are one grey tick (a slow machine may show only one).
    let sent = status_of_last_reply(&ui, "accepted sent").await;
    assert_eq!(sent["marks"], 1, "{sent}");
    ui.screenshot("ticks-sent").await;

    let delivered = status_of_last_reply(&ui, "delivered").await;
    assert_eq!(delivered["marks"], 2, "{delivered}");
    assert_ne!(
        delivered["color"], "rgb(83, 189, 235)",
        "grey, not blue yet"
    );
    ui.screenshot("ticks-delivered").await;

    let read = status_of_last_reply(&ui, "read").await;
    assert_eq!(read["marks"], 2, "{read}");
    assert_eq!(read["color"], "rgb(83, 189, 235)", "read is blue: {read}");
    ui.screenshot("ticks-read").await;

    // The list preview carries the same ticks.
    let preview = ui
        .wait(
            "the list shows the reply read",
            "document.querySelector('a.conv .conv-preview .tick')?.dataset.status === 'read'",
        )
        .await;
    assert_eq!(preview, true);
    // One message went out, quoting the customer's.
    let accepted = ui.app.sim.accepted_sends();
    assert_eq!(accepted.len(), 1);
    assert!(accepted[0].body["context"]["message_id"].is_string());
    ui.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_meta_refuses_shows_a_cross_and_metas_reason() {
    let Some(ui) = Ui::start().await else { return };
    open_chat_with_customer(&ui, "hi").await;
    ui.app.sim.inject(Fault::code(131047));
    ui.type_into("textarea.composer-input", "Are you still there?")
        .await;
    ui.type_into("textarea.composer-input", keys::ENTER).await;

    let failed = status_of_last_reply(&ui, "failed").await;
    assert!(
        failed["label"]
            .as_str()
            .unwrap()
            .contains("Re-engagement message"),
        "{failed}"
    );
    let title = ui
        .wait(
            "the reason on hover",
            &format!("document.querySelector('{OUT} .tick-failed').title"),
        )
        .await;
    assert!(title.as_str().unwrap().contains("131047"), "{title}");

    ui.click(&format!("{OUT} .tick-failed")).await;
    let shown = ui
        .wait(
            "the reason on click",
            &format!("document.querySelector('{OUT} + .msg-error:not([hidden]), {OUT} .msg-error:not([hidden])')?.textContent"),
        )
        .await;
    assert!(
        shown.as_str().unwrap().contains("Re-engagement message"),
        "{shown}"
    );
    ui.screenshot("send-failed").await;
    ui.finish().await;
}
