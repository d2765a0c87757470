//! A small Graph API client for the calls an inbox makes: send a message, mark one read.

use std::time::Duration;

use serde::{Serialize, de::DeserializeOwned};

use crate::{
    error::{ErrorClass, GraphError, GraphErrorBody},
    send::{MarkRead, SendRequest, SendResponse},
};

/// Why a Graph call did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// Graph answered with its error object.
    #[error("Graph error {} (HTTP {status}): {}", .error.code, .error.message)]
    Graph { status: u16, error: GraphError },
    /// A non-Graph HTTP failure (a proxy, an outage page).
    #[error("HTTP {status} from Graph: {body}")]
    Http { status: u16, body: String },
    /// The request never reached Graph (connection refused, DNS): safe to retry.
    #[error("could not reach Graph: {0}")]
    Unreachable(String),
    /// No answer in time, or the answer broke off: Graph may have acted on the request.
    #[error("no complete answer from Graph: {0}")]
    Ambiguous(String),
}

impl CallError {
    /// How a sender should react (see [`ErrorClass`]).
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Graph { error, .. } => ErrorClass::of_code(error.code),
            Self::Http { status, .. } if *status >= 500 || *status == 429 => ErrorClass::Transient,
            Self::Http { status: 401, .. } => ErrorClass::Auth,
            Self::Http { .. } => ErrorClass::Permanent,
            Self::Unreachable(_) | Self::Ambiguous(_) => ErrorClass::Transient,
        }
    }

    /// Meta's error code, when Graph gave one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Graph { error, .. } => Some(error.code),
            _ => None,
        }
    }
}

/// Talks to `{base_url}/{version}/…` with a bearer token.
#[derive(Debug, Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: String,
    version: String,
}

impl GraphClient {
    pub fn new(base_url: &str, version: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(256)
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            version: version.to_owned(),
        })
    }

    fn messages_url(&self, phone_number_id: &str) -> String {
        format!(
            "{}/{}/{}/messages",
            self.base_url, self.version, phone_number_id
        )
    }

    /// Sends a message. `Ok` means accepted by Meta, not delivered.
    pub async fn send_message(
        &self,
        token: &str,
        phone_number_id: &str,
        request: &SendRequest,
    ) -> Result<SendResponse, CallError> {
        self.post(token, &self.messages_url(phone_number_id), request)
            .await
    }

    /// Sends a read receipt for an inbound message (blue ticks on the customer's phone).
    pub async fn mark_read(
        &self,
        token: &str,
        phone_number_id: &str,
        wamid: &str,
    ) -> Result<(), CallError> {
        let _: serde_json::Value = self
            .post(
                token,
                &self.messages_url(phone_number_id),
                &MarkRead::new(wamid),
            )
            .await?;
        Ok(())
    }

    async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        token: &str,
        url: &str,
        body: &B,
    ) -> Result<R, CallError> {
        let response = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_connect() {
                    CallError::Unreachable(e.to_string())
                } else {
                    CallError::Ambiguous(e.to_string())
                }
            })?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| CallError::Ambiguous(e.to_string()))?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes)
                .map_err(|e| CallError::Ambiguous(format!("unreadable success body: {e}")));
        }
        match serde_json::from_slice::<GraphErrorBody>(&bytes) {
            Ok(body) => Err(CallError::Graph {
                status,
                error: body.error,
            }),
            Err(_) => Err(CallError::Http {
                status,
                body: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            }),
        }
    }
}
