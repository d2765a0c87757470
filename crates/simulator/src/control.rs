//! `/_sim/…`: driving a simulator over HTTP, so one running as `wadesk simulator` can be steered
//! by another process (benchmarks, the demo). Unauthenticated: it is a local test tool.

use std::time::Instant;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{config::StatusPlan, delivery::DeliveryError, fault::Fault, sim::Simulator};

pub(crate) fn router() -> Router<Simulator> {
    Router::new()
        .route(
            "/_sim/faults",
            get(list_faults).post(inject_fault).delete(clear_faults),
        )
        .route("/_sim/sends", get(list_sends))
        .route("/_sim/read-receipts", get(list_read_receipts))
        .route("/_sim/deliveries", get(list_deliveries))
        .route("/_sim/token", post(set_token))
        .route("/_sim/rate-limit", post(set_rate_limit))
        .route("/_sim/statuses", get(get_status_plan).post(set_status_plan))
        .route("/_sim/webhook-url", post(set_webhook_url))
        .route("/_sim/inbound", post(post_inbound))
        .route("/_sim/stats", get(get_stats))
        .route("/_sim/reset", post(reset))
}

/// A recorded send as JSON: times in ms since the simulator's first send.
#[derive(Serialize)]
struct SendDto {
    at_ms: u64,
    to: String,
    body: Value,
    callback_data: Option<String>,
    wamid: Option<String>,
    error_code: Option<i64>,
}

fn ms_since(origin: Option<Instant>, at: Instant) -> u64 {
    origin.map_or(0, |o| at.saturating_duration_since(o).as_millis() as u64)
}

async fn list_faults(State(sim): State<Simulator>) -> Json<Vec<Fault>> {
    Json(sim.faults())
}

async fn inject_fault(State(sim): State<Simulator>, Json(fault): Json<Fault>) -> StatusCode {
    sim.inject(fault);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(sim): State<Simulator>) -> StatusCode {
    sim.clear_faults();
    StatusCode::NO_CONTENT
}

async fn list_sends(State(sim): State<Simulator>) -> Json<Vec<SendDto>> {
    let sends = sim.sends();
    let origin = sends.first().map(|s| s.at);
    Json(
        sends
            .into_iter()
            .map(|s| SendDto {
                at_ms: ms_since(origin, s.at),
                to: s.to,
                body: s.body,
                callback_data: s.callback_data,
                wamid: s.outcome.as_ref().ok().cloned(),
                error_code: s.outcome.err(),
            })
            .collect(),
    )
}

async fn list_read_receipts(State(sim): State<Simulator>) -> Json<Vec<String>> {
    Json(sim.read_receipts())
}

async fn list_deliveries(State(sim): State<Simulator>) -> Json<Vec<Value>> {
    let deliveries = sim.deliveries();
    let origin = deliveries.first().map(|d| d.at);
    Json(
        deliveries
            .into_iter()
            .map(|d| {
                json!({
                    "at_ms": ms_since(origin, d.at),
                    "latency_ms": d.latency.as_millis() as u64,
                    "status": d.status.as_ref().ok(),
                    "error": d.status.as_ref().err(),
                    "bytes": d.bytes,
                    "attempt": d.attempt,
                })
            })
            .collect(),
    )
}

#[derive(Deserialize)]
struct TokenDto {
    token: String,
}

async fn set_token(State(sim): State<Simulator>, Json(dto): Json<TokenDto>) -> StatusCode {
    sim.set_access_token(dto.token);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct RateLimitDto {
    per_second: Option<u32>,
}

async fn set_rate_limit(State(sim): State<Simulator>, Json(dto): Json<RateLimitDto>) -> StatusCode {
    sim.set_rate_limit(dto.per_second);
    StatusCode::NO_CONTENT
}

async fn get_status_plan(State(sim): State<Simulator>) -> Json<StatusPlan> {
    Json(sim.config().statuses)
}

async fn set_status_plan(State(sim): State<Simulator>, Json(plan): Json<StatusPlan>) -> StatusCode {
    sim.set_status_plan(plan);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct WebhookUrlDto {
    url: String,
}

async fn set_webhook_url(
    State(sim): State<Simulator>,
    Json(dto): Json<WebhookUrlDto>,
) -> StatusCode {
    sim.set_webhook_url(dto.url);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct InboundDto {
    message: Value,
    #[serde(default)]
    name: String,
}

/// Delivers one customer message (with retries) and reports the receiver's last status.
async fn post_inbound(State(sim): State<Simulator>, Json(dto): Json<InboundDto>) -> Response {
    match sim.customer_writes(dto.message, &dto.name).await {
        Ok(status) => Json(json!({"status": status})).into_response(),
        Err(e @ DeliveryError::InvalidMessage(_)) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn get_stats(State(sim): State<Simulator>) -> Response {
    Json(sim.stats()).into_response()
}

async fn reset(State(sim): State<Simulator>) -> StatusCode {
    sim.reset();
    StatusCode::NO_CONTENT
}
