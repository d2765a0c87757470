//! Bodies of `POST /{version}/{phone-number-id}/messages`: sends and read receipts.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What to send, tagged by `type` exactly as the Cloud API expects:
/// `{"type": "text", "text": {"body": "…"}}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutgoingContent {
    Text { text: Text },
    Template { template: Template },
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Text {
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Template {
    pub name: String,
    pub language: Language,
    /// Header, body and button parameters, passed through as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Language {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// `context` on a send: quote the message with this wamid.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ReplyContext {
    pub message_id: String,
}

/// A complete send request body.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SendRequest {
    pub messaging_product: String,
    pub recipient_type: String,
    /// E.164 with the leading `+`.
    pub to: String,
    #[serde(flatten)]
    pub content: OutgoingContent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ReplyContext>,
    /// Echoed on every status webhook of this message (≤ 512 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
}

impl SendRequest {
    pub fn new(to: impl Into<String>, content: OutgoingContent) -> Self {
        Self {
            messaging_product: "whatsapp".into(),
            recipient_type: "individual".into(),
            to: to.into(),
            content,
            context: None,
            biz_opaque_callback_data: None,
        }
    }
}

/// The send API's answer: accepted, not delivered.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SendResponse {
    #[serde(default)]
    pub messaging_product: Option<String>,
    #[serde(default)]
    pub contacts: Vec<SentContact>,
    #[serde(default)]
    pub messages: Vec<SentMessage>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SentContact {
    #[serde(default)]
    pub input: String,
    /// The canonical WhatsApp id, which may differ from the number sent to.
    pub wa_id: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SentMessage {
    pub id: String,
    /// Only for paced templates: `accepted`, `held_for_quality_assessment` or `paused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_status: Option<String>,
}

impl SendResponse {
    pub fn wamid(&self) -> Option<&str> {
        self.messages.first().map(|m| m.id.as_str())
    }

    pub fn wa_id(&self) -> Option<&str> {
        self.contacts.first().map(|c| c.wa_id.as_str())
    }
}

/// A read receipt for an inbound message (same endpoint as sends).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct MarkRead {
    pub messaging_product: String,
    pub status: String,
    pub message_id: String,
}

impl MarkRead {
    pub fn new(wamid: impl Into<String>) -> Self {
        Self {
            messaging_product: "whatsapp".into(),
            status: "read".into(),
            message_id: wamid.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn serialises_in_the_cloud_api_shape() {
        let mut req = SendRequest::new(
            "+5511988887777",
            OutgoingContent::Text {
                text: Text {
                    body: "Hi".into(),
                    preview_url: None,
                },
            },
        );
        req.biz_opaque_callback_data = Some("01J".into());
        req.context = Some(ReplyContext {
            message_id: "wamid.X".into(),
        });
        let v = serde_json::to_value(&req).unwrap_or_default();
        assert_eq!(
            v,
            json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                "to": "+5511988887777", "type": "text", "text": {"body": "Hi"},
                "context": {"message_id": "wamid.X"}, "biz_opaque_callback_data": "01J"})
        );
        let back: SendRequest = serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, req);
    }

    #[test]
    fn template_round_trips() {
        let v = json!({"type": "template", "template": {"name": "order_shipped",
            "language": {"code": "pt_BR"}, "components": [{"type": "body", "parameters": []}]}});
        let c: OutgoingContent =
            serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(&c, OutgoingContent::Template { template } if template.name == "order_shipped")
        );
        assert_eq!(serde_json::to_value(&c).unwrap_or_default(), v);
    }
}
