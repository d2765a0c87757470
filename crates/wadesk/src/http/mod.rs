//! HTTP: routers by trust zone — the signed webhook, and the token-authenticated API —
//! plus JSON errors for anything unmatched.

pub mod api;
pub mod compat;
pub mod error;
pub mod extract;
pub mod webhooks;

use axum::{Router, http::StatusCode};

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(webhooks::router())
        .merge(crate::ui::router())
        .nest("/api/v1", api::router())
        .merge(compat::router())
        .fallback(|| async {
            error::ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
        })
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .with_state(state)
}
