//! Graph API errors and their classification by Meta error code.

use serde::{Deserialize, Serialize};

/// An error object as it appears in webhooks (`statuses[].errors`, `messages[].errors`,
/// `value.errors`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ApiError {
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct ErrorData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl ApiError {
    pub fn details(&self) -> Option<&str> {
        self.error_data.as_ref()?.details.as_deref()
    }
}

/// The `error` object of a synchronous Graph response.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct GraphError {
    #[serde(default)]
    pub message: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_subcode: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
}

/// The body of a failed Graph call: `{"error": {…}}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct GraphErrorBody {
    pub error: GraphError,
}

impl GraphError {
    pub fn details(&self) -> Option<&str> {
        self.error_data.as_ref()?.details.as_deref()
    }

    /// The title without Meta's `(#code) ` prefix.
    pub fn title(&self) -> &str {
        let m = self.message.trim();
        match m.strip_prefix("(#").and_then(|rest| rest.split_once(") ")) {
            Some((_, title)) => title,
            None => m,
        }
    }
}

/// What a sender should do about an error code (whatsapp-cloud-api.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The token is expired or invalid (0, 190): stop sending until it is fixed.
    Auth,
    /// Throughput or Graph call limits (130429, 4, 80007): back off and retry.
    Throttled,
    /// Too many messages to one recipient (131056): delay that recipient only, 4^n seconds.
    PairRateLimited,
    /// Account in maintenance (131057): retry after about a minute.
    Maintenance,
    /// Temporary server trouble (1, 2, 131000, 131016, 133004, HTTP 5xx): retry with backoff.
    Transient,
    /// Anything else: retrying cannot help (bad parameters, policy, recipient, template, …).
    Permanent,
}

impl ErrorClass {
    pub fn of_code(code: i64) -> Self {
        match code {
            0 | 190 => Self::Auth,
            4 | 80007 | 130429 => Self::Throttled,
            131056 => Self::PairRateLimited,
            131057 => Self::Maintenance,
            1 | 2 | 131000 | 131016 | 133004 => Self::Transient,
            _ => Self::Permanent,
        }
    }

    pub fn is_retryable(self) -> bool {
        !matches!(self, Self::Permanent | Self::Auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_codes_as_documented() {
        for code in [0, 190] {
            assert_eq!(ErrorClass::of_code(code), ErrorClass::Auth);
        }
        for code in [4, 80007, 130429] {
            assert_eq!(ErrorClass::of_code(code), ErrorClass::Throttled);
        }
        for code in [1, 2, 131000, 131016, 133004] {
            assert_eq!(ErrorClass::of_code(code), ErrorClass::Transient);
        }
        assert_eq!(ErrorClass::of_code(131056), ErrorClass::PairRateLimited);
        assert_eq!(ErrorClass::of_code(131057), ErrorClass::Maintenance);
        for code in [100, 131026, 131047, 131050, 132000, 132001, 368, 131048] {
            assert_eq!(ErrorClass::of_code(code), ErrorClass::Permanent, "{code}");
            assert!(!ErrorClass::of_code(code).is_retryable());
        }
    }

    #[test]
    fn title_drops_the_code_prefix() {
        let body: GraphErrorBody = serde_json::from_str(
            r#"{"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit",
            "type":"OAuthException","code":131056,"error_data":{"messaging_product":"whatsapp",
            "details":"Too many messages"},"error_subcode":2494055,"fbtrace_id":"AZ"}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body.error.code, 131056);
        assert_eq!(
            body.error.title(),
            "(Business Account, Consumer Account) pair rate limit hit"
        );
        assert_eq!(body.error.details(), Some("Too many messages"));
    }
}
