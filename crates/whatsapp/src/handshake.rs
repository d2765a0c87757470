//! The subscription handshake: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.

use subtle::ConstantTimeEq;

/// The query parameters Meta sends on the handshake.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Subscription {
    #[serde(rename = "hub.mode")]
    pub mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    pub verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    pub challenge: Option<String>,
}

impl Subscription {
    /// The challenge to echo back (as the bare body of a 200) when the mode is `subscribe` and
    /// the token matches `expected`; `None` means the handshake must be refused with 403.
    pub fn accept(&self, expected: Option<&str>) -> Option<&str> {
        let expected = expected.filter(|t| !t.is_empty())?;
        let given = self.verify_token.as_deref()?;
        if self.mode.as_deref() != Some("subscribe") {
            return None;
        }
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return None;
        }
        self.challenge.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(mode: &str, token: &str, challenge: &str) -> Subscription {
        Subscription {
            mode: Some(mode.into()),
            verify_token: Some(token.into()),
            challenge: Some(challenge.into()),
        }
    }

    #[test]
    fn accepts_only_subscribe_with_the_right_token() {
        assert_eq!(sub("subscribe", "t", "123").accept(Some("t")), Some("123"));
        assert_eq!(sub("subscribe", "x", "123").accept(Some("t")), None);
        assert_eq!(sub("unsubscribe", "t", "123").accept(Some("t")), None);
        assert_eq!(sub("subscribe", "t", "123").accept(None), None);
        assert_eq!(sub("subscribe", "", "123").accept(Some("")), None);
        assert_eq!(Subscription::default().accept(Some("t")), None);
    }
}
