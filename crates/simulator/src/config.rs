//! What a simulator is: the business number it pretends to host, the secrets it checks and signs
//! with, and how it plays the delivery statuses of accepted sends.

use std::{fmt, time::Duration};

use serde::{Deserialize, Serialize};

/// The phone-number id `Config::new` uses (also the default in wadesk's examples).
pub const DEFAULT_PHONE_NUMBER_ID: &str = "106540352242922";
/// The display number `Config::new` uses: digits, no `+`.
pub const DEFAULT_DISPLAY_PHONE_NUMBER: &str = "15550783881";
/// The WhatsApp Business Account id `Config::new` uses (`entry[].id` in webhooks).
pub const DEFAULT_WABA_ID: &str = "102290129340398";

/// Settings of one simulated business number.
#[derive(Clone)]
pub struct Config {
    /// HMAC key for the `X-Hub-Signature-256` header on the webhooks it posts.
    pub app_secret: String,
    /// The bearer token Graph calls must carry.
    pub access_token: String,
    /// The business number's id: the path segment of sends, `metadata.phone_number_id`.
    pub phone_number_id: String,
    /// The business number as digits, e.g. `15550783881`.
    pub display_phone_number: String,
    /// The WhatsApp Business Account id.
    pub waba_id: String,
    /// Where webhooks are posted; nothing is posted while it is `None`.
    pub webhook_url: Option<String>,
    /// What happens after a successful send.
    pub statuses: StatusPlan,
    /// Seed for the simulator's own randomness (fault fractions, ids); `None` seeds from the OS.
    pub seed: Option<u64>,
}

impl Config {
    /// A config for the default business number (`106540352242922`, display `15550783881`,
    /// WABA `102290129340398`), no webhook URL yet, and the default status plan.
    pub fn new(app_secret: impl Into<String>, access_token: impl Into<String>) -> Self {
        Self {
            app_secret: app_secret.into(),
            access_token: access_token.into(),
            phone_number_id: DEFAULT_PHONE_NUMBER_ID.to_owned(),
            display_phone_number: DEFAULT_DISPLAY_PHONE_NUMBER.to_owned(),
            waba_id: DEFAULT_WABA_ID.to_owned(),
            webhook_url: None,
            statuses: StatusPlan::default(),
            seed: None,
        }
    }

    /// The same config posting webhooks to `url`.
    pub fn with_webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_url = Some(url.into());
        self
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("app_secret", &"<redacted>")
            .field("access_token", &"<redacted>")
            .field("phone_number_id", &self.phone_number_id)
            .field("display_phone_number", &self.display_phone_number)
            .field("waba_id", &self.waba_id)
            .field("webhook_url", &self.webhook_url)
            .field("statuses", &self.statuses)
            .field("seed", &self.seed)
            .finish()
    }
}

/// The status webhooks played after a successful send. Over HTTP (`POST /_sim/statuses`) the
/// delays are given as `delays_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatusPlan {
    /// Post statuses at all.
    pub enabled: bool,
    /// Offsets from acceptance of the first, second and third post (normally `sent`,
    /// `delivered`, `read`).
    #[serde(with = "delays_ms", rename = "delays_ms")]
    pub delays: [Duration; 3],
    /// Post the `read` status (customers with read receipts on).
    pub read: bool,
    /// Post every status webhook twice, as Meta does when several apps subscribe.
    pub duplicate: bool,
    /// Post `read`, then `sent`, then `delivered`.
    pub reorder: bool,
    /// Put all statuses of a message in one webhook body (`statuses: [...]`), posted at the
    /// last delay, instead of one post per status.
    pub batch: bool,
}

impl Default for StatusPlan {
    fn default() -> Self {
        Self {
            enabled: true,
            delays: [
                Duration::from_millis(20),
                Duration::from_millis(40),
                Duration::from_millis(60),
            ],
            read: true,
            duplicate: false,
            reorder: false,
            batch: false,
        }
    }
}

impl StatusPlan {
    /// No status webhooks at all.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }
}

mod delays_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, ser::SerializeSeq};

    pub fn serialize<S: Serializer>(delays: &[Duration; 3], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(3))?;
        for d in delays {
            seq.serialize_element(&(d.as_millis() as u64))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[Duration; 3], D::Error> {
        let ms = <[u64; 3]>::deserialize(d)?;
        Ok(ms.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let shown = format!("{:?}", Config::new("s3cret", "t0ken"));
        assert!(
            !shown.contains("s3cret") && !shown.contains("t0ken"),
            "{shown}"
        );
    }

    #[test]
    fn plan_reads_delays_in_ms_and_defaults_the_rest() {
        let plan: StatusPlan =
            serde_json::from_str(r#"{"delays_ms":[1,2,3],"batch":true}"#).unwrap_or_default();
        assert_eq!(plan.delays[2], Duration::from_millis(3));
        assert!(plan.batch && plan.enabled && plan.read);
    }
}
