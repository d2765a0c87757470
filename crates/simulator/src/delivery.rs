//! Posting webhooks the way Meta does: the exact bytes signed with the app secret in
//! `X-Hub-Signature-256`, `Content-Type: application/json`, and retries with backoff on anything
//! but `200`. Every attempt is recorded as a [`Delivery`].

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{escape::to_meta_json, media, payload, sim::Simulator};

/// How many times a webhook is tried before giving up.
pub const RETRY_ATTEMPTS: u32 = 5;
/// The pause before the first retry; it doubles each time.
pub const RETRY_FIRST_DELAY: Duration = Duration::from_millis(50);

/// One webhook POST the simulator made.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// When the POST started.
    pub at: Instant,
    /// How long the receiver took to answer.
    pub latency: Duration,
    /// The HTTP status, or why there was none.
    pub status: Result<u16, String>,
    /// Size of the body in bytes.
    pub bytes: usize,
    /// 1 for the first try, 2 for the first retry, …
    pub attempt: u32,
}

/// Why a webhook could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// No webhook URL is configured.
    #[error("no webhook URL is set")]
    NoWebhookUrl,
    /// The receiver could not be reached or did not answer.
    #[error("webhook receiver unreachable: {0}")]
    Unreachable(String),
    /// The message to wrap is not a usable `messages[]` item.
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// The simulator was shut down.
    #[error("the simulator is shut down")]
    ShutDown,
}

impl Simulator {
    /// Serialises `notification` as Meta does (non-ASCII escaped), signs it and posts it once.
    /// Returns the receiver's HTTP status.
    pub async fn deliver(&self, notification: Value) -> Result<u16, DeliveryError> {
        let body = to_meta_json(&notification)
            .map_err(|e| DeliveryError::InvalidMessage(e.to_string()))?;
        self.deliver_raw(body).await
    }

    /// Signs exactly these bytes and posts them once.
    pub async fn deliver_raw(&self, body: Vec<u8>) -> Result<u16, DeliveryError> {
        self.post_once(body, 1).await
    }

    /// Signs and posts `body`, retrying on anything but `200` with doubling pauses
    /// ([`RETRY_ATTEMPTS`] tries from [`RETRY_FIRST_DELAY`]). Returns the last status.
    pub async fn deliver_with_retries(&self, body: Vec<u8>) -> Result<u16, DeliveryError> {
        self.retry_from(body, 1).await
    }

    /// A customer writes: wraps one `messages[]` item (see [`crate::payload`]) in a full
    /// notification with `contacts[]` (`profile_name`, `wa_id` = `from`) and the business
    /// number's metadata, and delivers it with retries. Registered media get their `url`.
    pub async fn customer_writes(
        &self,
        message: Value,
        profile_name: &str,
    ) -> Result<u16, DeliveryError> {
        let notification = self.inbound_notification(message, profile_name)?;
        let body = to_meta_json(&notification)
            .map_err(|e| DeliveryError::InvalidMessage(e.to_string()))?;
        self.deliver_with_retries(body).await
    }

    /// The notification [`Simulator::customer_writes`] posts.
    pub fn inbound_notification(
        &self,
        mut message: Value,
        profile_name: &str,
    ) -> Result<Value, DeliveryError> {
        let from = message
            .get("from")
            .and_then(Value::as_str)
            .ok_or_else(|| DeliveryError::InvalidMessage("no `from`".to_owned()))?
            .to_owned();
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(media) = message.get_mut(&kind).filter(|m| m.is_object()) {
            let registered = media.get("id").and_then(Value::as_str).and_then(media::get);
            if let (Some(file), None) = (registered, media.get("url")) {
                media["url"] = json!(format!(
                    "{}/_sim/media/{}/download",
                    self.base_url(),
                    file.id
                ));
            }
        }
        // System messages come without contacts[].
        let contacts: Vec<(&str, &str)> = if kind == "system" {
            Vec::new()
        } else {
            vec![(from.as_str(), profile_name)]
        };
        let config = self.config();
        Ok(payload::envelope(
            &config.phone_number_id,
            &config.display_phone_number,
            &config.waba_id,
            &contacts,
            vec![message],
            Vec::new(),
        ))
    }

    /// Tries once now; on failure keeps retrying in the background.
    pub(crate) async fn post_in_background(&self, body: Vec<u8>) {
        match self.post_once(body.clone(), 1).await {
            Ok(200) | Err(DeliveryError::NoWebhookUrl | DeliveryError::ShutDown) => {}
            Ok(_) | Err(_) => {
                let sim = self.clone();
                self.spawn(async move {
                    let _ = sim.retry_from(body, 2).await;
                });
            }
        }
    }

    async fn retry_from(&self, body: Vec<u8>, first_attempt: u32) -> Result<u16, DeliveryError> {
        let mut attempt = first_attempt;
        loop {
            if attempt > 1 {
                let pause = RETRY_FIRST_DELAY * 2u32.saturating_pow(attempt - 2);
                if !self.sleep(pause).await {
                    return Err(DeliveryError::ShutDown);
                }
            }
            let outcome = self.post_once(body.clone(), attempt).await;
            let done = matches!(
                outcome,
                Ok(200) | Err(DeliveryError::NoWebhookUrl | DeliveryError::ShutDown)
            );
            if done || attempt >= RETRY_ATTEMPTS {
                return outcome;
            }
            attempt += 1;
        }
    }

    async fn post_once(&self, body: Vec<u8>, attempt: u32) -> Result<u16, DeliveryError> {
        if self.is_shut_down() {
            return Err(DeliveryError::ShutDown);
        }
        let url = self.webhook_url().ok_or(DeliveryError::NoWebhookUrl)?;
        let signature = whatsapp::signature::sign(self.app_secret().as_bytes(), &body);
        let bytes = body.len();
        let at = Instant::now();
        let sent = self
            .http()
            .post(&url)
            .header("content-type", "application/json")
            .header(whatsapp::signature::HEADER, signature)
            .body(body)
            .send();
        let outcome = tokio::select! {
            () = self.cancel_token().cancelled() => return Err(DeliveryError::ShutDown),
            outcome = sent => outcome,
        };
        let status = outcome
            .map(|response| response.status().as_u16())
            .map_err(|e| e.to_string());
        self.record_delivery(Delivery {
            at,
            latency: at.elapsed(),
            status: status.clone(),
            bytes,
            attempt,
        });
        status.map_err(DeliveryError::Unreachable)
    }
}
