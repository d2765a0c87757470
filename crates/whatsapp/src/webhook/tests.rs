use serde_json::json;

use super::*;

fn message(v: Value) -> InboundMessage {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn parses_a_batched_envelope() {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [
            {"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1065"},
                "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5511988887777"}],
                "messages": [{"from": "5511988887777", "id": "wamid.A", "timestamp": "1767012345",
                              "type": "text", "text": {"body": "hi"}}],
                "statuses": [{"id": "wamid.B", "status": "read", "timestamp": 1767012346,
                              "recipient_id": "5511988887777"}]}},
            {"field": "message_template_status_update", "value": {"event": "APPROVED"}}
        ]}]
    });
    let n: Notification = serde_json::from_value(body).unwrap_or_else(|e| panic!("{e}"));
    let changes = &n.entry[0].changes;
    let v = changes[0]
        .messages()
        .unwrap_or_else(|| panic!("messages field"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.metadata.phone_number_id, "1065");
    assert_eq!(v.contacts[0].name(), Some("Ana"));
    assert_eq!(v.messages[0].timestamp, Some(1767012345));
    assert_eq!(
        v.messages[0].content(),
        MessageContent::Text { body: "hi".into() }
    );
    assert_eq!(v.statuses[0].status, StatusKind::Read);
    assert_eq!(v.statuses[0].timestamp, Some(1767012346));
    assert!(changes[1].messages().is_none());
}

#[test]
fn reads_every_inbound_type() {
    let cases = [
        (
            json!({"type": "image", "image": {"id": "1", "mime_type": "image/jpeg", "sha256": "x", "caption": "c"}}),
            "image",
        ),
        (
            json!({"type": "audio", "audio": {"id": "1", "mime_type": "audio/ogg; codecs=opus", "voice": true}}),
            "audio",
        ),
        (
            json!({"type": "location", "location": {"latitude": "-23.5", "longitude": -46.6, "name": "Office"}}),
            "location",
        ),
        (
            json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Bob"}}]}),
            "contacts",
        ),
        (
            json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "r1", "title": "T"}}}),
            "interactive",
        ),
        (
            json!({"type": "button", "button": {"payload": "P", "text": "Track"}}),
            "button",
        ),
        (
            json!({"type": "reaction", "reaction": {"message_id": "wamid.X"}}),
            "reaction",
        ),
        (
            json!({"type": "order", "order": {"catalog_id": "C", "product_items": []}}),
            "order",
        ),
        (
            json!({"type": "system", "system": {"body": "changed", "wa_id": "2", "type": "user_changed_number"}}),
            "system",
        ),
        (json!({"type": "request_welcome"}), "request_welcome"),
        (
            json!({"type": "unsupported", "unsupported": {"type": "poll_creation"}}),
            "unsupported",
        ),
        (json!({"type": "hologram", "hologram": {}}), "unsupported"),
    ];
    for (mut v, expect) in cases {
        v["id"] = json!("wamid.1");
        v["from"] = json!("1555");
        let content = message(v).content();
        let kind = match &content {
            MessageContent::Media { kind, .. } => kind.as_str(),
            MessageContent::Location(l) => {
                assert_eq!(l.latitude, -23.5);
                "location"
            }
            MessageContent::Contacts(_) => "contacts",
            MessageContent::Interactive(_) => "interactive",
            MessageContent::Button { .. } => "button",
            MessageContent::Reaction { emoji, .. } => {
                assert_eq!(emoji, &None, "a removed reaction has no emoji");
                "reaction"
            }
            MessageContent::Order(_) => "order",
            MessageContent::System(_) => "system",
            MessageContent::RequestWelcome => "request_welcome",
            MessageContent::Unsupported { .. } => "unsupported",
            MessageContent::Text { .. } => "text",
        };
        assert_eq!(kind, expect, "{content:?}");
    }
}

#[test]
fn unsupported_keeps_the_real_type_name() {
    let m = message(
        json!({"id": "w", "type": "unsupported", "unsupported": {"type": "edit"},
        "errors": [{"code": 131051, "title": "Message type unknown"}]}),
    );
    assert_eq!(
        m.content(),
        MessageContent::Unsupported {
            kind: "edit".into()
        }
    );
    assert_eq!(m.errors[0].code, 131051);
    let broken = message(json!({"id": "w", "type": "text", "text": {"oops": 1}}));
    assert_eq!(
        broken.content(),
        MessageContent::Unsupported {
            kind: "text".into()
        }
    );
}
