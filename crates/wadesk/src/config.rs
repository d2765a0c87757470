//! Configuration: command-line flags, each with an environment variable (a `.env` file is
//! read first). The WhatsApp variable names are those of the plugin wadesk replaces, so
//! existing `.env` files keep working. Secrets are redacted in `Debug` and never logged.

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use clap::Args;
use sha2::{Digest, Sha256};

/// A secret string: usable, but printed as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short, non-reversible label of the secret, to notice when it changes.
    pub fn fingerprint(&self) -> String {
        hex::encode(&Sha256::digest(self.0.as_bytes())[..8])
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// The Cloud API connection.
#[derive(Debug, Clone, Args)]
pub struct WhatsAppConfig {
    /// Graph API bearer token. Without it, messages queue but are not sent.
    #[arg(long = "whatsapp-token", env = "WHATSAPP_TOKEN")]
    pub token: Option<Secret>,
    /// The business number's phone-number-id.
    #[arg(long = "phone-number-id", env = "WHATSAPP_PHONE_NUMBER_ID")]
    pub phone_number_id: Option<String>,
    /// Token Meta sends in the webhook subscription handshake.
    #[arg(long = "verify-token", env = "WHATSAPP_VERIFY_TOKEN")]
    pub verify_token: Option<Secret>,
    /// App secret: the HMAC key of X-Hub-Signature-256.
    #[arg(long = "app-secret", env = "WHATSAPP_APP_SECRET")]
    pub app_secret: Option<Secret>,
    /// Graph API version.
    #[arg(
        long = "api-version",
        env = "WHATSAPP_API_VERSION",
        default_value = "v23.0"
    )]
    pub api_version: String,
    /// Graph base URL (the simulator's in tests and the demo).
    #[arg(
        long = "api-base-url",
        env = "WHATSAPP_API_BASE_URL",
        default_value = "https://graph.facebook.com"
    )]
    pub api_base_url: String,
    /// WhatsApp Business Account id (for templates).
    #[arg(long = "business-account-id", env = "WHATSAPP_BUSINESS_ACCOUNT_ID")]
    pub business_account_id: Option<String>,
    /// Seconds to wait for a Graph answer before treating the call as ambiguous.
    #[arg(long, env = "WADESK_GRAPH_TIMEOUT_SECS", default_value_t = 20)]
    pub graph_timeout_secs: u64,
}

/// The outbox's pacing and retry policy.
#[derive(Debug, Clone, Args)]
pub struct OutboxConfig {
    /// Messages per second per business number (Meta's default throughput is 80); 0 = no limit.
    #[arg(long = "send-rate", env = "WADESK_SEND_RATE", default_value_t = 80)]
    pub rate_per_second: u32,
    /// First retry delay in milliseconds; doubles per attempt (131056 waits 4^n of it).
    #[arg(
        long = "retry-base-ms",
        env = "WADESK_RETRY_BASE_MS",
        default_value_t = 1000
    )]
    pub retry_base_ms: u64,
    /// Longest retry delay in seconds.
    #[arg(
        long = "retry-max-secs",
        env = "WADESK_RETRY_MAX_SECS",
        default_value_t = 300
    )]
    pub retry_max_secs: u64,
    /// Attempts before a retryable error fails the message.
    #[arg(
        long = "max-attempts",
        env = "WADESK_MAX_ATTEMPTS",
        default_value_t = 10
    )]
    pub max_attempts: u32,
    /// Seconds a claimed send stays leased; a crashed sender's sends are retaken after it.
    #[arg(
        long = "send-lease-secs",
        env = "WADESK_SEND_LEASE_SECS",
        default_value_t = 60
    )]
    pub lease_secs: u64,
    /// Seconds to wait for a status webhook before re-sending after an unanswered call.
    #[arg(
        long = "reconcile-secs",
        env = "WADESK_RECONCILE_SECS",
        default_value_t = 60
    )]
    pub reconcile_secs: u64,
    /// Graph calls in flight at once per business number; never fewer than half a second of
    /// sends at the send rate (Graph answers in a few hundred milliseconds: fewer calls in
    /// flight would cap the rate).
    #[arg(
        long = "send-concurrency",
        env = "WADESK_SEND_CONCURRENCY",
        default_value_t = 32
    )]
    pub concurrency: usize,
}

impl OutboxConfig {
    pub fn retry_base(&self) -> Duration {
        Duration::from_millis(self.retry_base_ms.max(1))
    }
    pub fn retry_max(&self) -> Duration {
        Duration::from_secs(self.retry_max_secs.max(1))
    }
    /// `concurrency`, raised to half a second of sends at the send rate.
    pub fn calls_in_flight(&self) -> usize {
        let half_second = usize::try_from(self.rate_per_second / 2).unwrap_or(usize::MAX);
        self.concurrency.max(half_second).max(1)
    }
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs.max(1))
    }
    pub fn reconcile_after(&self) -> Duration {
        Duration::from_secs(self.reconcile_secs)
    }
}

/// Everything `serve` (and the demo) needs.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub whatsapp: WhatsAppConfig,
    #[command(flatten)]
    pub outbox: OutboxConfig,
    /// `sqlite://path` or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://wadesk.db")]
    pub database_url: String,
    /// Largest number of database connections.
    #[arg(long, env = "WADESK_DB_POOL_SIZE", default_value_t = 8)]
    pub db_pool_size: u32,
    /// PostgreSQL: longest a statement may run, in seconds.
    #[arg(long, env = "WADESK_DB_STATEMENT_TIMEOUT_SECS", default_value_t = 10)]
    pub db_statement_timeout_secs: u64,
    /// Listen address.
    #[arg(long, env = "WADESK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The address users reach wadesk at (e.g. https://inbox.example.com); https makes
    /// session cookies `Secure`.
    #[arg(long, env = "WADESK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Directory for media files.
    #[arg(long, env = "WADESK_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Accept webhooks without checking X-Hub-Signature-256 (never in production).
    #[arg(long)]
    pub insecure_no_signature: bool,
    /// Attempts at applying a journaled webhook before it is marked failed.
    #[arg(long, env = "WADESK_INGEST_MAX_ATTEMPTS", default_value_t = 6)]
    pub ingest_max_attempts: u32,
}

impl Config {
    /// Refuses configurations that would accept forged webhooks.
    pub fn check(&self) -> Result<(), String> {
        if self.whatsapp.app_secret.is_none() && !self.insecure_no_signature {
            return Err(
                "WHATSAPP_APP_SECRET is not set: without it webhook signatures cannot be \
                        checked and anyone could post fake customer messages. Set it to the app \
                        secret (App Dashboard → Settings → Basic), or pass \
                        --insecure-no-signature for local testing only."
                    .into(),
            );
        }
        Ok(())
    }

    /// Whether sending is possible at all.
    pub fn sending_configured(&self) -> bool {
        self.whatsapp.token.is_some() && self.whatsapp.phone_number_id.is_some()
    }
}

impl Config {
    /// Defaults without reading the environment: for the demo and tests, which set what they
    /// need.
    pub fn local(database_url: impl Into<String>, bind: SocketAddr) -> Self {
        Self {
            whatsapp: WhatsAppConfig {
                token: None,
                phone_number_id: None,
                verify_token: None,
                app_secret: None,
                api_version: "v23.0".into(),
                api_base_url: "https://graph.facebook.com".into(),
                business_account_id: None,
                graph_timeout_secs: 20,
            },
            outbox: OutboxConfig {
                rate_per_second: 80,
                retry_base_ms: 1000,
                retry_max_secs: 300,
                max_attempts: 10,
                lease_secs: 60,
                reconcile_secs: 60,
                concurrency: 32,
            },
            database_url: database_url.into(),
            db_pool_size: 8,
            db_statement_timeout_secs: 10,
            bind,
            public_url: None,
            data_dir: PathBuf::from("./data"),
            insecure_no_signature: false,
            ingest_max_attempts: 6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_in_flight_cover_half_a_second_of_sends() {
        let mut outbox = Config::local("sqlite::memory:", ([127, 0, 0, 1], 0).into()).outbox;
        outbox.rate_per_second = 20;
        assert_eq!(outbox.calls_in_flight(), 32, "20/s: the configured 32");
        outbox.rate_per_second = 80;
        assert_eq!(outbox.calls_in_flight(), 40, "80/s: half a second of sends");
        outbox.rate_per_second = 1000;
        assert_eq!(
            outbox.calls_in_flight(),
            500,
            "1,000/s at 300 ms a call needs 300"
        );
        outbox.rate_per_second = 0;
        outbox.concurrency = 0;
        assert_eq!(outbox.calls_in_flight(), 1);
    }
}
