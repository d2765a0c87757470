//! Outbox administration: lifting a pause.

use axum::{Json, Router, extract::State, routing::post};
use serde_json::{Value, json};

use crate::{
    http::{error::ApiResult, extract::Principal},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/outbox/resume", post(resume_outbox))
}

async fn resume_outbox(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    let resumed = state.outbox.resume().await?;
    Ok(Json(json!({ "resumed": resumed })))
}
