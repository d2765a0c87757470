//! Extractors whose rejections use the API's error shape: JSON bodies, query strings, path
//! ids, and the authenticated caller.

use axum::{
    extract::{FromRequest, FromRequestParts, Path, Query, Request, rejection::JsonRejection},
    http::{HeaderMap, Method, StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::{
    auth::{SESSION_COOKIE, token_hash},
    domain::Timestamp,
    state::AppState,
    store::{Role, Store, TokenRecord, User},
};

/// A JSON body; malformed JSON is 400 `invalid_json`, a wrong shape 422 `invalid_request`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(match rejection {
                JsonRejection::JsonDataError(e) => {
                    ApiError::unprocessable("invalid_request", e.body_text())
                }
                JsonRejection::JsonSyntaxError(e) => {
                    ApiError::bad_request("invalid_json", e.body_text())
                }
                JsonRejection::MissingJsonContentType(_) => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send JSON with Content-Type: application/json",
                ),
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "request body too large",
                ),
                other => ApiError::bad_request("invalid_request", other.body_text()),
            }),
        }
    }
}

/// Query parameters; a bad one is 400 `invalid_query`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

/// A path parameter; a malformed one is 404 (no such resource).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|_| ApiError::not_found("resource"))
    }
}

/// Who is calling: an API token, or an agent signed in with a session cookie.
#[derive(Debug, Clone)]
pub enum Caller {
    Token(TokenRecord),
    User(User),
}

/// The authenticated caller of an `/api/v1` route.
#[derive(Debug, Clone)]
pub struct Principal {
    pub caller: Caller,
    /// The hash of the secret (API token or session) the caller authenticated with.
    pub credential: String,
}

impl Principal {
    pub fn role(&self) -> Role {
        match &self.caller {
            Caller::Token(t) => t.role,
            Caller::User(u) => u.role,
        }
    }

    /// Shown as the author of messages this caller sends.
    pub fn label(&self) -> String {
        match &self.caller {
            Caller::Token(t) => format!("token:{}", t.name),
            Caller::User(u) => format!("user:{}", u.username),
        }
    }

    /// Namespace for idempotency keys, so two clients cannot collide.
    pub fn scope(&self) -> String {
        match &self.caller {
            Caller::Token(t) => format!("token:{}", t.id),
            Caller::User(u) => format!("user:{}", u.id),
        }
    }

    /// Whether the credential still admits the caller (not revoked, ended or disabled).
    pub async fn still_valid(&self, store: &Store, now: Timestamp) -> bool {
        let alive = match &self.caller {
            Caller::Token(_) => store
                .token_by_hash(&self.credential)
                .await
                .map(|t| t.is_some()),
            Caller::User(_) => store
                .session_user(&self.credential, now)
                .await
                .map(|u| u.is_some()),
        };
        // A database hiccup does not end the stream; a definite "no" does.
        alive.unwrap_or(true)
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.role() {
            Role::Admin => Ok(()),
            Role::Agent => Err(ApiError::forbidden("this action needs an admin")),
        }
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether a browser request comes from our own pages: `Sec-Fetch-Site`, else `Origin`, else
/// `Referer` must name this host. Cross-site form and JSON posts are refused with this.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    let Some(host) = get("x-forwarded-host").or_else(|| get("host")) else {
        return false;
    };
    let matches = |url: &str| {
        ["http://", "https://"].iter().any(|scheme| {
            url.strip_prefix(scheme)
                .is_some_and(|rest| rest == host || rest.starts_with(&format!("{host}/")))
        })
    };
    match (get("origin"), get("referer")) {
        (Some(origin), _) => matches(origin),
        (None, Some(referer)) => matches(referer),
        (None, None) => false,
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(header) = parts.headers.get(header::AUTHORIZATION) {
            let token = header
                .to_str()
                .ok()
                .and_then(|h| {
                    h.strip_prefix("Bearer ")
                        .or_else(|| h.strip_prefix("bearer "))
                })
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
            let credential = token_hash(token);
            let record = state
                .store
                .token_by_hash(&credential)
                .await?
                .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
            return Ok(Self {
                caller: Caller::Token(record),
                credential,
            });
        }
        let Some(session) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(ApiError::unauthorized(
                "sign in, or send Authorization: Bearer <token>",
            ));
        };
        let credential = token_hash(session);
        let user = state
            .store
            .session_user(&credential, state.clock.now())
            .await?
            .ok_or_else(|| ApiError::unauthorized("your session has ended; sign in again"))?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe && !same_origin(&parts.headers) {
            return Err(ApiError::forbidden("cross-site request refused"));
        }
        Ok(Self {
            caller: Caller::User(user),
            credential,
        })
    }
}
