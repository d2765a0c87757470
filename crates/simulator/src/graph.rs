//! The Graph endpoints wadesk calls: sends and read receipts on
//! `POST /{version}/{phone-number-id}/messages`, media lookup on `GET /{version}/{media-id}` and
//! the media download. Order of checks on a send: token, phone-number id, body, faults, rate
//! limit; then success and the status webhooks.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::{
    catalogue::{graph_error, http_status, unknown_object},
    ids::{Direction, digits, fbtrace_id, wamid},
    media,
    sim::Simulator,
    statuses,
    validate::check_send,
};

pub(crate) fn router() -> Router<Simulator> {
    Router::new()
        .route("/{version}/{phone_number_id}/messages", post(post_messages))
        .route("/{version}/{media_id}", get(get_media))
        .route("/_sim/media/{media_id}/download", get(download_media))
}

/// A Graph error response for `code`.
pub(crate) fn failure(sim: &Simulator, code: i64, details: Option<&str>) -> Response {
    let trace = sim.with_rng(fbtrace_id);
    let status = StatusCode::from_u16(http_status(code)).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(graph_error(code, details, &trace))).into_response()
}

fn authorized(sim: &Simulator, headers: &HeaderMap) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(token)
        });
    given.is_some_and(|token| token.trim() == sim.access_token())
}

fn is_read_receipt(body: &Value) -> bool {
    body.get("status").and_then(Value::as_str) == Some("read") && body.get("message_id").is_some()
}

async fn post_messages(
    State(sim): State<Simulator>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let to = body
        .get("to")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let receipt = is_read_receipt(&body);
    if !authorized(&sim, &headers) {
        if !receipt {
            sim.record_refused(to, body, 190);
        }
        return failure(&sim, 190, None);
    }
    if phone_number_id != sim.phone_number_id() {
        if !receipt {
            sim.record_refused(to, body, 100);
        }
        let trace = sim.with_rng(fbtrace_id);
        let error = unknown_object("post", &phone_number_id, &trace);
        return (StatusCode::BAD_REQUEST, Json(error)).into_response();
    }
    if receipt {
        return mark_read(&sim, &body);
    }
    send(sim, to, body).await
}

fn mark_read(sim: &Simulator, body: &Value) -> Response {
    if body.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return failure(
            sim,
            100,
            Some("Param messaging_product must be 'whatsapp'."),
        );
    }
    let Some(wamid) = body.get("message_id").and_then(Value::as_str) else {
        return failure(
            sim,
            100,
            Some("Param message_id must be a valid message id."),
        );
    };
    sim.record_read(wamid.to_owned());
    Json(json!({"success": true})).into_response()
}

async fn send(sim: Simulator, to: String, body: Value) -> Response {
    let valid = match check_send(&body) {
        Ok(valid) => valid,
        Err(e) => {
            sim.record_refused(to, body, e.code);
            return failure(&sim, e.code, Some(&e.details));
        }
    };
    let wa_id = digits(&valid.to);
    if wa_id == digits(&sim.display_phone_number()) {
        sim.record_refused(valid.to, body, 131021);
        return failure(&sim, 131021, None);
    }
    let fault = sim.take_fault(&wa_id);
    // An asynchronous fault's delay is for its `failed` status, not for the answer.
    let answer_delay = fault
        .as_ref()
        .filter(|f| !f.asynchronous && !f.after_accept)
        .and_then(|f| f.delay);
    let late_answer = fault
        .as_ref()
        .filter(|f| f.slow_only && f.after_accept)
        .and_then(|f| f.delay);
    if let Some(delay) = answer_delay
        && !sim.sleep(delay).await
    {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let asynchronous = match fault {
        Some(f) if !f.slow_only && !f.asynchronous => {
            sim.record_refused(valid.to, body, f.code);
            return failure(&sim, f.code, None);
        }
        Some(f) if f.asynchronous => Some(f),
        _ => None,
    };
    let id = sim.with_rng(|rng| wamid(rng, &wa_id, Direction::Outbound));
    let recorded = sim.admit(valid.to.clone(), body, id);
    let Ok(id) = recorded.outcome.clone() else {
        return failure(&sim, 130429, None);
    };
    let mut message = json!({"id": id});
    if valid.kind == "template" {
        message["message_status"] = json!("accepted");
    }
    match asynchronous {
        Some(fault) => statuses::spawn_failure(&sim, &recorded, &fault),
        None => statuses::spawn_plan(&sim, &recorded, valid.kind == "template"),
    }
    if let Some(delay) = late_answer
        && !sim.sleep(delay).await
    {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": valid.to, "wa_id": wa_id}],
        "messages": [message],
    }))
    .into_response()
}

async fn get_media(
    State(sim): State<Simulator>,
    Path((_version, media_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&sim, &headers) {
        return failure(&sim, 190, None);
    }
    let Some(file) = media::get(&media_id) else {
        let trace = sim.with_rng(fbtrace_id);
        let error = unknown_object("get", &media_id, &trace);
        return (StatusCode::NOT_FOUND, Json(error)).into_response();
    };
    Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("{}/_sim/media/{}/download", sim.base_url(), file.id),
        "mime_type": file.mime_type,
        "sha256": file.sha256,
        "file_size": file.bytes.len().to_string(),
        "id": file.id,
    }))
    .into_response()
}

async fn download_media(
    State(sim): State<Simulator>,
    Path(media_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&sim, &headers) {
        return failure(&sim, 190, None);
    }
    let Some(file) = media::get(&media_id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = HeaderValue::from_str(&file.mime_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    ([(header::CONTENT_TYPE, mime)], file.bytes.to_vec()).into_response()
}
