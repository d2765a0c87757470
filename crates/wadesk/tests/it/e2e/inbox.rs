//! Signing in, live conversations and unread badges, the closed 24-hour window, the phone
//! layout, and how long a customer's message takes from webhook to bubble.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use simulator::payload;
use wadesk::store::Role;

use super::{Ui, js_str, webdriver::keys};
use crate::helpers::{CUSTOMER, CUSTOMER_NAME};

const CONV: &str = "a.conv[data-id]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rejects_a_bad_password_and_then_shows_the_inbox() {
    let Some(ui) = Ui::start().await else { return };
    let password = ui.user("ana", Role::Admin).await;
    ui.app.customer_says("Hi! Do you ship to Lisbon?").await;

    ui.open("/").await;
    ui.fill_login("ana", "not the password").await;
    let error = ui
        .wait(
            "the error shows",
            "document.querySelector('.login-error:not([hidden])')?.textContent",
        )
        .await;
    assert!(
        error
            .as_str()
            .unwrap()
            .contains("Wrong username or password"),
        "{error}"
    );
    assert!(ui.browser.find(".sidebar").await.is_none());
    ui.screenshot("login-error").await;

    ui.fill_login("ana", password).await;
    ui.wait_css(".sidebar").await;
    let name = ui.text(&format!("{CONV} .conv-name")).await;
    assert_eq!(name, CUSTOMER_NAME);
    ui.wait("the welcome pane", "document.querySelector('.chat-empty')")
        .await;
    ui.screenshot("login").await;
    ui.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_message_appears_live_with_a_badge_that_opening_the_chat_clears() {
    let Some(ui) = Ui::start().await else { return };
    let password = ui.user("ana", Role::Agent).await;
    ui.login("ana", password).await;
    ui.wait(
        "the empty list note",
        "document.querySelector('.conv-empty:not([hidden])')",
    )
    .await;

    // No reload from here on: everything arrives over the event stream.
    ui.app.customer_says("Hello, is anyone there?").await;
    ui.app.customer_says("My order #1234 has not arrived").await;
    ui.wait(
        "the unread badge",
        "document.querySelector('a.conv .badge')?.textContent === '2'",
    )
    .await;
    let preview = ui.text(&format!("{CONV} .conv-preview-text")).await;
    assert_eq!(preview, "My order #1234 has not arrived");
    ui.screenshot("inbox-unread").await;

    ui.click(CONV).await;
    ui.wait(
        "both bubbles",
        "document.querySelectorAll('.chat .msg.in').length === 2",
    )
    .await;
    ui.wait(
        "the badge is gone",
        "!document.querySelector('a.conv .badge')",
    )
    .await;
    let app = &ui.app;
    app.eventually("the server counts nothing unread", || async {
        let (_, v) = app.get("/api/v1/conversations").await;
        (v["conversations"][0]["unread_count"] == 0).then_some(())
    })
    .await;

    // With the chat open, a new message lands in it and is read at once.
    ui.app.customer_says("Hello??").await;
    ui.wait(
        "the third bubble",
        "[...document.querySelectorAll('.chat .msg.in .text')].some(e => e.textContent === 'Hello??')",
    )
    .await;
    app.eventually("it is marked read", || async {
        let (_, v) = app.get("/api/v1/conversations").await;
        (v["conversations"][0]["unread_count"] == 0).then_some(())
    })
    .await;
    assert!(ui.browser.find("a.conv .badge").await.is_none());
    let window = ui.text(".chat-header .window-state").await;
    assert!(window.starts_with("Window open"), "{window}");
    ui.screenshot("chat-read").await;

    // `/` goes to the search box (from anywhere but a text field); typing there filters.
    ui.browser
        .execute("document.activeElement.blur();", serde_json::json!([]))
        .await;
    ui.browser.press("/").await;
    ui.wait(
        "search has the focus",
        "document.activeElement?.classList.contains('search-input')",
    )
    .await;
    ui.browser.press("nothing like this").await;
    ui.wait(
        "no chat matches",
        "document.querySelector('.conv-empty:not([hidden])')",
    )
    .await;
    ui.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_number_starts_with_a_template_and_the_closed_window_blocks_free_text() {
    let Some(ui) = Ui::start().await else { return };
    let password = ui.user("ana", Role::Agent).await;
    ui.login("ana", password).await;

    ui.click(".new-chat-button").await;
    ui.type_into("#new-chat-phone", "+1 555 000 9999").await;
    ui.type_into("#new-chat-phone", keys::ENTER).await;
    ui.wait(
        "the template step",
        "document.querySelector('.new-chat-template-form:not([hidden])')",
    )
    .await;
    ui.type_into("#new-chat-template", "hello_world").await;
    ui.screenshot("new-chat-template").await;
    ui.type_into("#new-chat-template", keys::ENTER).await;

    ui.wait(
        "the new conversation opens",
        "document.querySelector('.chat[data-conversation-id] .window-closed:not([hidden])')",
    )
    .await;
    ui.wait(
        "the template bubble",
        "document.querySelector('.msg.out[data-kind=template]:not([data-pending])')",
    )
    .await;
    let blocked = ui
        .browser
        .execute(
            "const t = document.querySelector('textarea.composer-input');
             return [t.disabled, document.querySelector('.send-button').disabled,
                     document.querySelector('.window-state').dataset.window];",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(blocked, serde_json::json!([true, true, "closed"]));
    let note = ui.text(".window-closed-text").await;
    assert!(note.contains("24-hour"), "{note}");
    ui.screenshot("window-closed").await;

    // "New chat" with a number that has a conversation opens that one.
    let id = ui
        .wait(
            "the chat id",
            "document.querySelector('.chat').dataset.conversationId",
        )
        .await;
    ui.open("/#/").await;
    ui.wait_css(".chat-empty").await;
    ui.click(".new-chat-button").await;
    ui.type_into("#new-chat-phone", "+15550009999").await;
    ui.type_into("#new-chat-phone", keys::ENTER).await;
    ui.wait(
        "the same conversation opens",
        &format!("document.querySelector('.chat').dataset.conversationId === {id}"),
    )
    .await;
    assert!(ui.browser.find("dialog[open]").await.is_none());

    // The template went out; nothing else did.
    let app = &ui.app;
    app.eventually("the template reaches the simulator", || async {
        (app.sim.sends().len() == 1).then_some(())
    })
    .await;
    let sent = &app.sim.sends()[0];
    assert_eq!(sent.body["type"], "template");
    assert_eq!(sent.body["to"], "+15550009999");
    ui.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_list_and_the_chat_are_separate_panes() {
    let Some(ui) = Ui::start_sized(390, 844, |_| {}).await else {
        return;
    };
    let password = ui.user("ana", Role::Agent).await;
    ui.app.customer_says("Hi from my phone 📱").await;
    ui.login("ana", password).await;
    ui.wait_css(CONV).await;
    let chat_shown = "getComputedStyle(document.querySelector('.chat')).display !== 'none'";
    let list_shown = "getComputedStyle(document.querySelector('.sidebar')).display !== 'none'";
    ui.wait("only the list", &format!("{list_shown} && !({chat_shown})"))
        .await;
    ui.screenshot("mobile-list").await;

    ui.click(CONV).await;
    ui.wait("only the chat", &format!("{chat_shown} && !({list_shown})"))
        .await;
    ui.wait_css(".chat .msg.in").await;
    ui.screenshot("mobile-chat").await;

    // Escape (or the back button) returns to the list.
    ui.browser.press(keys::ESCAPE).await;
    ui.wait(
        "the list again",
        &format!("{list_shown} && location.hash === '#/'"),
    )
    .await;
    ui.finish().await;
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
        * 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_to_bubble_delay_is_measured() {
    let Some(ui) = Ui::start().await else { return };
    let password = ui.user("ana", Role::Agent).await;
    ui.app.customer_says("first").await;
    ui.login("ana", password).await;
    ui.click(CONV).await;
    ui.wait_css(".chat .msg.in").await;
    // The page notes when each bubble appears, on the browser's clock (the same machine's).
    ui.browser
        .execute(
            "window.__seen = {};
             new MutationObserver(() => {
               const now = performance.timeOrigin + performance.now();
               for (const el of document.querySelectorAll('.msg[data-wamid]')) {
                 if (!(el.dataset.wamid in window.__seen)) window.__seen[el.dataset.wamid] = now;
               }
             }).observe(document.body, { childList: true, subtree: true });",
            serde_json::json!([]),
        )
        .await;

    let mut delays = Vec::new();
    for i in 0..12 {
        let msg = payload::text(CUSTOMER, &format!("message number {i}"));
        let wamid = msg["id"].as_str().unwrap().to_owned();
        let sent_at = epoch_ms();
        let status = ui.app.webhook(&ui.app.from_customer(vec![msg])).await;
        assert_eq!(status, StatusCode::OK);
        let seen = ui
            .wait_for(
                "the bubble appears",
                &format!("window.__seen[{}]", js_str(&wamid)),
                Duration::from_secs(10),
            )
            .await;
        delays.push(seen.as_f64().unwrap() - sent_at);
    }
    delays.sort_by(f64::total_cmp);
    let p50 = delays[delays.len() / 2];
    let p99 = delays[(delays.len() * 99).div_ceil(100) - 1];
    eprintln!(
        "webhook POST → bubble in the browser over {} messages: p50 {p50:.0} ms, p99 {p99:.0} ms \
         (min {:.0} ms)",
        delays.len(),
        delays[0]
    );
    ui.screenshot("latency").await;
    assert!(
        p50 < 2000.0,
        "a customer's message should show within a second or two: {delays:?}"
    );
    ui.finish().await;
}
