//! The admin area (and that agents cannot use it), the paused-sending banner with Resume, and
//! signing out.

use serde_json::json;
use simulator::Fault;
use wadesk::store::Role;

use super::Ui;
use crate::helpers::CUSTOMER;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_has_no_admin_link_and_admin_routes_say_admins_only() {
    let Some(ui) = Ui::start().await else { return };
    let password = ui.user("bruno", Role::Agent).await;
    ui.login("bruno", password).await;
    assert!(ui.browser.find(".admin-link").await.is_none());
    ui.open("/#/admin/users").await;
    let denied = ui.text(".admin-denied h1").await;
    assert_eq!(denied, "Admins only");
    assert!(ui.browser.find(".admin-nav").await.is_none());
    assert!(ui.browser.find(".users-list").await.is_none());
    ui.screenshot("agent-admin").await;
    ui.click(".admin-denied a").await;
    ui.wait_css(".sidebar").await;
    ui.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_returns_to_the_sign_in_screen_for_good() {
    let Some(ui) = Ui::start().await else { return };
    let password = ui.user("ana", Role::Agent).await;
    ui.login("ana", password).await;
    ui.click(".logout-button").await;
    ui.wait_css("#login-username").await;
    ui.screenshot("logout").await;
    // The cookie is gone: a reload stays on the sign-in screen and the API says 401.
    ui.open("/").await;
    ui.wait_css("#login-username").await;
    let status = ui
        .wait(
            "the API answers",
            "window.__me || (fetch('/api/v1/auth/me').then(r => window.__me = r.status), 0)",
        )
        .await;
    assert_eq!(status, 401);
    ui.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_pages_show_the_log_outbox_journal_users_tokens_and_configuration() {
    let Some(ui) = Ui::start().await else { return };
    let password = ui.user("ana", Role::Admin).await;
    ui.app.customer_says("Do you have this in blue?").await;
    ui.app.sim.inject(Fault::code(131047));
    let (_, m) = ui.app.send_text(&format!("+{CUSTOMER}"), "Yes we do").await;
    ui.app
        .wait_status(m["id"].as_str().unwrap(), "failed")
        .await;
    ui.login("ana", password).await;

    ui.click(".admin-link").await;
    ui.wait(
        "the configuration",
        "document.querySelector('[data-fact=configured]')?.textContent === 'Yes'",
    )
    .await;
    ui.screenshot("admin-config").await;

    ui.open("/#/admin/log").await;
    ui.wait(
        "both messages in the log",
        "document.querySelectorAll('.log-row').length === 2",
    )
    .await;
    ui.wait(
        "contact names",
        "document.querySelector('.contact-link')?.textContent === 'Ana Souza'",
    )
    .await;
    ui.screenshot("admin-log").await;

    ui.open("/#/admin/send").await;
    ui.type_into(".send-form input[type=tel]", &format!("+{CUSTOMER}"))
        .await;
    ui.type_into(".send-form textarea", "A test from the admin area")
        .await;
    ui.click(".send-form button[type=submit]").await;
    ui.wait(
        "the test message is read",
        "document.querySelector('.send-result .tick')?.dataset.status === 'read'",
    )
    .await;

    ui.open("/#/admin/outbox/failed").await;
    let reason = ui.text(".outbox-list .error-text").await;
    assert!(reason.contains("Re-engagement message"), "{reason}");
    ui.screenshot("admin-outbox").await;

    ui.open("/#/admin/webhooks/done").await;
    ui.wait(
        "journal rows",
        "document.querySelectorAll('.journal-list tbody tr').length >= 1",
    )
    .await;
    ui.screenshot("admin-webhooks").await;

    ui.open("/#/admin/users").await;
    ui.wait_css(".users-list table").await;
    ui.type_into(".add-user-form input:not([type=password])", "carla")
        .await;
    ui.type_into(".add-user-form input[type=password]", "carla-password")
        .await;
    ui.click(".add-user-form button[type=submit]").await;
    ui.wait(
        "the new user",
        "[...document.querySelectorAll('.users-list strong')].some(e => e.textContent === 'carla')",
    )
    .await;
    ui.screenshot("admin-users").await;

    ui.open("/#/admin/tokens").await;
    ui.wait_css(".tokens-list table").await;
    ui.type_into(".create-token-form input", "crm").await;
    ui.click(".create-token-form button[type=submit]").await;
    let token = ui
        .wait(
            "the token, once",
            "document.querySelector('dialog[open] .secret-value')?.value",
        )
        .await;
    let token = token.as_str().unwrap().to_owned();
    ui.screenshot("admin-tokens").await;
    let (status, _) = ui.app.get_as("/api/v1/conversations", &token).await;
    assert_eq!(status, 200, "the shown token works");
    ui.browser
        .execute("document.querySelector('dialog[open]').close()", json!([]))
        .await;
    ui.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_sending_shows_a_banner_and_resume_lifts_it() {
    let Some(ui) = Ui::start().await else { return };
    let password = ui.user("ana", Role::Admin).await;
    ui.app.customer_says("hello").await;
    ui.login("ana", password).await;
    ui.wait_css("a.conv[data-id]").await;

    // Meta rejects the token: the outbox pauses, and the open page hears of it live.
    let good = ui.app.sim.access_token();
    ui.app.sim.set_access_token("rotated-by-meta");
    let (status, _) = ui.app.send_text(&format!("+{CUSTOMER}"), "held").await;
    assert_eq!(status, 202);
    let banner = ui
        .wait(
            "the paused banner",
            "document.querySelector('[data-banner=paused]')?.textContent",
        )
        .await;
    assert!(
        banner.as_str().unwrap().contains("Sending is paused"),
        "{banner}"
    );
    ui.screenshot("inbox-paused").await;

    ui.app.sim.set_access_token(good);
    ui.click(".admin-link").await;
    ui.wait(
        "the pause on the configuration page",
        "document.querySelector('[data-fact=paused]')?.textContent === 'Paused'",
    )
    .await;
    ui.screenshot("admin-config-paused").await;
    ui.click(".resume-button").await;
    ui.wait(
        "sending runs",
        "document.querySelector('[data-fact=paused]')?.textContent === 'Running'",
    )
    .await;
    ui.open("/#/").await;
    ui.wait_css(".sidebar").await;
    ui.wait("no banner", "!document.querySelector('[data-banner]')")
        .await;
    let h = ui.app.health().await;
    assert_eq!(h["whatsapp"]["paused"], false, "{h}");
    ui.finish().await;
}
