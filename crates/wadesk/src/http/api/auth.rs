//! Signing in and out with a session cookie (`HttpOnly`, `SameSite=Lax`, `Secure` over https).

use std::net::SocketAddr;

use axum::{
    Json, Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    auth::{self, AuthError, SESSION_COOKIE, SESSION_TTL, token_hash},
    http::{
        error::{ApiError, ApiResult},
        extract::{ApiJson, Caller, Principal, cookie, same_origin},
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
}

#[derive(Debug, Deserialize)]
struct Login {
    username: String,
    password: String,
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let message = e.to_string();
        match e {
            AuthError::BadCredentials => Self::unauthorized(message),
            AuthError::Throttled(wait) => ApiError {
                retry_after: Some(wait.as_secs().max(1)),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message)
            },
            AuthError::WeakPassword => Self::unprocessable("weak_password", message),
            AuthError::BadUsername => Self::unprocessable("invalid_username", message),
            AuthError::UsernameTaken => Self::new(StatusCode::CONFLICT, "username_taken", message),
            AuthError::Store(e) => e.into(),
            AuthError::Hash(e) => {
                tracing::error!(error = %e, "password hashing failed");
                Self::internal()
            }
        }
    }
}

/// Whether cookies must be `Secure`: the public URL is https, or a proxy says so.
fn over_https(state: &AppState, headers: &HeaderMap) -> bool {
    let proxied = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    proxied
        || state
            .config
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
}

fn session_cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult<Response> {
    // A browser posting from another site must not sign anyone in (login CSRF).
    if headers.contains_key(header::ORIGIN) && !same_origin(&headers) {
        return Err(ApiError::forbidden("cross-site request refused"));
    }
    let username = body.username.trim();
    let now = state.clock.now();
    let result = auth::login(
        &state.store,
        &state.throttle,
        username,
        &body.password,
        Some(peer.ip()),
        now,
    )
    .await;
    let (user, token) = result.inspect_err(|e| {
        if matches!(e, AuthError::Throttled(_)) {
            tracing::warn!(%username, from = %peer.ip(), "login throttled");
        }
    })?;
    let mut r = Json(json!({ "user": user })).into_response();
    let cookie = session_cookie(&token, SESSION_TTL.as_secs(), over_https(&state, &headers));
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(r)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(session) = cookie(&headers, SESSION_COOKIE) {
        if !same_origin(&headers) {
            return Err(ApiError::forbidden("cross-site request refused"));
        }
        state.store.delete_session(&token_hash(session)).await?;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, over_https(&state, &headers)),
    );
    Ok(r)
}

async fn me(principal: Principal) -> Json<serde_json::Value> {
    Json(match principal.caller {
        Caller::User(u) => json!({ "user": u }),
        Caller::Token(t) => json!({ "token": t }),
    })
}
