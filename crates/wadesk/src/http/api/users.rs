//! Accounts and API tokens, for admins.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, patch},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    auth::{self, AuthError, MIN_PASSWORD_LEN},
    cli::create_token,
    http::{
        error::{ApiError, ApiResult},
        extract::{ApiJson, ApiPath, Principal},
    },
    state::AppState,
    store::{Role, UserChange},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", patch(update_user))
        .route("/tokens", get(list_tokens).post(create_api_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
}

fn role(s: Option<&str>) -> ApiResult<Role> {
    match s.unwrap_or("agent") {
        "admin" => Ok(Role::Admin),
        "agent" => Ok(Role::Agent),
        _ => Err(ApiError::unprocessable(
            "invalid_request",
            "role must be admin or agent",
        )),
    }
}

async fn list_users(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    Ok(Json(json!({ "users": state.store.users().await? })))
}

#[derive(Debug, Deserialize)]
struct NewUser {
    username: String,
    password: String,
    role: Option<String>,
}

async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require_admin()?;
    let role = role(body.role.as_deref())?;
    let now = state.clock.now();
    let id = auth::create_user(
        &state.store,
        body.username.trim(),
        &body.password,
        role,
        now,
    )
    .await?;
    let user = state.store.user(id).await?.ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(json!({ "user": user }))))
}

#[derive(Debug, Deserialize)]
struct UserPatch {
    role: Option<String>,
    disabled: Option<bool>,
    password: Option<String>,
}

async fn update_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UserPatch>,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    let password_hash = match body.password {
        Some(p) if p.chars().count() < MIN_PASSWORD_LEN => {
            return Err(AuthError::WeakPassword.into());
        }
        Some(p) => Some(auth::hash_password(p).await?),
        None => None,
    };
    let change = UserChange {
        role: body.role.as_deref().map(|r| role(Some(r))).transpose()?,
        disabled: body.disabled,
        password_hash,
    };
    if !state
        .store
        .update_user(id, &change, state.clock.now())
        .await?
    {
        return Err(ApiError::not_found("user"));
    }
    let user = state
        .store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(Json(json!({ "user": user })))
}

async fn list_tokens(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    Ok(Json(json!({ "tokens": state.store.tokens().await? })))
}

#[derive(Debug, Deserialize)]
struct NewToken {
    name: String,
    role: Option<String>,
}

async fn create_api_token(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require_admin()?;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::unprocessable(
            "invalid_request",
            "name must be 1 to 100 characters",
        ));
    }
    let token = create_token(&state.store, name, role(body.role.as_deref())?).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "name": name, "token": token })),
    ))
}

async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    principal.require_admin()?;
    if state.store.revoke_token(id, state.clock.now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("live token"))
    }
}
