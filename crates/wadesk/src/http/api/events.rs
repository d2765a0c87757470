//! `GET /api/v1/events`: Server-Sent Events. A client that reconnects with `Last-Event-ID`
//! (browsers do this by themselves) receives every event it missed.

use std::time::Duration;

use axum::{
    Router,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Sse, sse::KeepAlive},
    routing::get,
};
use serde::Deserialize;

use crate::{
    http::{
        error::ApiResult,
        extract::{ApiQuery, Principal},
    },
    realtime,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(subscribe_events))
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    /// For clients that cannot set headers: same as `Last-Event-ID`.
    last_event_id: Option<String>,
}

async fn subscribe_events(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<impl IntoResponse> {
    let given = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(q.last_event_id)
        .and_then(|v| v.trim().parse::<i64>().ok());
    // Subscribe before reading the position, so nothing committed in between is missed.
    let commits = state.bus.subscribe();
    let after = match given {
        Some(id) => id,
        None => state.store.last_event_id().await?,
    };
    let (store, clock) = (state.store.clone(), state.clock.clone());
    let allowed = move || {
        let (principal, store, clock) = (principal.clone(), store.clone(), clock.clone());
        async move { principal.still_valid(&store, clock.now()).await }
    };
    let stream = realtime::stream(state.store.clone(), commits, after, allowed);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
