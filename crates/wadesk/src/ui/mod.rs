//! The web inbox: static files compiled into the binary (no separate front-end build), served
//! with a strict Content-Security-Policy: the page loads nothing from other origins.

use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::state::AppState;

const INDEX: &str = include_str!("assets/index.html");
const APP_CSS: &str = include_str!("assets/app.css");
const ADMIN_CSS: &str = include_str!("assets/admin.css");
const ICON: &str = include_str!("assets/icon.svg");

/// The page's JavaScript modules (`app.js` imports the others), served under `/assets/`.
const SCRIPTS: &[(&str, &str)] = &[
    ("app.js", include_str!("assets/app.js")),
    ("api.js", include_str!("assets/api.js")),
    ("dom.js", include_str!("assets/dom.js")),
    ("format.js", include_str!("assets/format.js")),
    ("live.js", include_str!("assets/live.js")),
    ("dialogs.js", include_str!("assets/dialogs.js")),
    ("login.js", include_str!("assets/login.js")),
    ("inbox.js", include_str!("assets/inbox.js")),
    ("chat.js", include_str!("assets/chat.js")),
    ("thread.js", include_str!("assets/thread.js")),
    ("messages.js", include_str!("assets/messages.js")),
    ("composer.js", include_str!("assets/composer.js")),
    ("newchat.js", include_str!("assets/newchat.js")),
    ("admin.js", include_str!("assets/admin.js")),
    ("admin-ui.js", include_str!("assets/admin-ui.js")),
    ("admin-log.js", include_str!("assets/admin-log.js")),
    ("admin-queue.js", include_str!("assets/admin-queue.js")),
    ("admin-people.js", include_str!("assets/admin-people.js")),
];

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route(
            "/",
            get(|| async { asset(INDEX, "text/html; charset=utf-8", false) }),
        )
        .route(
            "/assets/app.css",
            get(|| async { asset(APP_CSS, "text/css; charset=utf-8", true) }),
        )
        .route(
            "/assets/admin.css",
            get(|| async { asset(ADMIN_CSS, "text/css; charset=utf-8", true) }),
        )
        .route(
            "/assets/icon.svg",
            get(|| async { asset(ICON, "image/svg+xml", true) }),
        );
    // Modules import each other by fixed names: revalidate them, so that a browser never runs
    // a cached module of the previous version beside a fresh one.
    SCRIPTS.iter().fold(router, |router, &(name, body)| {
        router.route(
            &format!("/assets/{name}"),
            get(move || async move { asset(body, "text/javascript; charset=utf-8", false) }),
        )
    })
}

fn asset(body: &'static str, content_type: &'static str, cacheable: bool) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Assets change with the binary; revalidate cheaply rather than cache across upgrades.
    let cache = if cacheable {
        "public, max-age=300"
    } else {
        "no-cache"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}
