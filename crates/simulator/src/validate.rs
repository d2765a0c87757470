//! Checks a send body the way the Cloud API does before accepting it: code 131008 for a missing
//! required parameter, 100 for an invalid one. Only the limits documented in
//! whatsapp-cloud-api.md §7 are enforced; anything else passes.

use serde_json::Value;

/// Message types the send endpoint accepts.
pub(crate) const SEND_TYPES: [&str; 11] = [
    "text",
    "template",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "reaction",
];

/// A send body that passed the checks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValidSend {
    /// `to` as given.
    pub to: String,
    /// The message type (`text` when omitted, as the Cloud API defaults it).
    pub kind: String,
}

/// Why a body was refused: a Meta code and the `error_data.details` text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invalid {
    pub code: i64,
    pub details: String,
}

fn missing(what: impl Into<String>) -> Invalid {
    Invalid {
        code: 131008,
        details: format!("The parameter {} is required.", what.into()),
    }
}

fn invalid(details: impl Into<String>) -> Invalid {
    Invalid {
        code: 100,
        details: details.into(),
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn check_len(value: Option<&str>, max: usize, name: &str) -> Result<(), Invalid> {
    match value {
        Some(s) if s.chars().count() > max => Err(invalid(format!(
            "Param {name} must be at most {max} characters long."
        ))),
        _ => Ok(()),
    }
}

/// Validates a send body (not a read receipt).
pub(crate) fn check_send(body: &Value) -> Result<ValidSend, Invalid> {
    if !body.is_object() {
        return Err(invalid("The request body must be a JSON object."));
    }
    match body.get("messaging_product") {
        None => return Err(missing("messaging_product")),
        Some(v) if v.as_str() != Some("whatsapp") => {
            return Err(invalid("Param messaging_product must be 'whatsapp'."));
        }
        Some(_) => {}
    }
    if let Some(kind) = body.get("recipient_type")
        && !matches!(kind.as_str(), Some("individual" | "group"))
    {
        return Err(invalid(
            "Param recipient_type must be 'individual' or 'group'.",
        ));
    }
    let to = match body.get("to") {
        None | Some(Value::Null) => return Err(missing("to")),
        Some(Value::String(to)) if to.chars().any(|c| c.is_ascii_digit()) => to.clone(),
        Some(_) => return Err(invalid("Param to must be a valid phone number.")),
    };
    let kind = match body.get("type") {
        None => "text",
        Some(Value::String(kind)) if SEND_TYPES.contains(&kind.as_str()) => kind.as_str(),
        Some(_) => {
            return Err(invalid(format!(
                "Param type must be one of {{{}}}.",
                SEND_TYPES.join(", ")
            )));
        }
    };
    let payload = body.get(kind).ok_or_else(|| missing(kind))?;
    check_payload(kind, payload)?;
    if let Some(context) = body.get("context")
        && str_at(context, "message_id").is_none()
    {
        return Err(missing("context['message_id']"));
    }
    check_len(
        str_at(body, "biz_opaque_callback_data"),
        512,
        "biz_opaque_callback_data",
    )?;
    Ok(ValidSend {
        to,
        kind: kind.to_owned(),
    })
}

fn check_payload(kind: &str, p: &Value) -> Result<(), Invalid> {
    match kind {
        "text" => {
            let body = str_at(p, "body").ok_or_else(|| missing("text['body']"))?;
            if body.is_empty() {
                return Err(invalid(
                    "Param text['body'] must be at least 1 character long.",
                ));
            }
            check_len(Some(body), 4096, "text['body']")
        }
        "template" => {
            if str_at(p, "name").is_none_or(str::is_empty) {
                return Err(missing("template['name']"));
            }
            let code = p.get("language").and_then(|l| str_at(l, "code"));
            if code.is_none_or(str::is_empty) {
                return Err(missing("template['language']['code']"));
            }
            Ok(())
        }
        "image" | "audio" | "video" | "document" | "sticker" => {
            if str_at(p, "id").is_none() && str_at(p, "link").is_none() {
                return Err(missing(format!("{kind}['id'] or {kind}['link']")));
            }
            check_len(str_at(p, "caption"), 1024, &format!("{kind}['caption']"))
        }
        "location" => {
            for key in ["latitude", "longitude"] {
                if !p.get(key).is_some_and(|v| v.is_number() || v.is_string()) {
                    return Err(missing(format!("location['{key}']")));
                }
            }
            Ok(())
        }
        "contacts" => {
            let cards = p.as_array().filter(|c| !c.is_empty());
            let cards = cards.ok_or_else(|| missing("contacts"))?;
            if cards.iter().any(|c| {
                c.get("name")
                    .and_then(|n| str_at(n, "formatted_name"))
                    .is_none()
            }) {
                return Err(missing("contacts['name']['formatted_name']"));
            }
            Ok(())
        }
        "interactive" => check_interactive(p),
        "reaction" => {
            str_at(p, "message_id").ok_or_else(|| missing("reaction['message_id']"))?;
            match p.get("emoji") {
                None | Some(Value::String(_)) => Ok(()),
                Some(_) => Err(invalid("Param reaction['emoji'] must be a string.")),
            }
        }
        _ => Ok(()),
    }
}

fn check_interactive(p: &Value) -> Result<(), Invalid> {
    let kind = str_at(p, "type").ok_or_else(|| missing("interactive['type']"))?;
    let body_text = p.get("body").and_then(|b| str_at(b, "text"));
    let action = p.get("action");
    match kind {
        "button" => {
            check_len(body_text, 1024, "interactive['body']['text']")?;
            let buttons = action
                .and_then(|a| a.get("buttons"))
                .and_then(Value::as_array);
            let buttons = buttons.ok_or_else(|| missing("interactive['action']['buttons']"))?;
            if buttons.is_empty() || buttons.len() > 3 {
                return Err(invalid(
                    "Param interactive['action']['buttons'] must have 1 to 3 buttons.",
                ));
            }
            for b in buttons {
                let title = b.get("reply").and_then(|r| str_at(r, "title"));
                check_len(
                    title,
                    20,
                    "interactive['action']['buttons'][]['reply']['title']",
                )?;
            }
            Ok(())
        }
        "list" => {
            check_len(body_text, 4096, "interactive['body']['text']")?;
            let sections = action
                .and_then(|a| a.get("sections"))
                .and_then(Value::as_array);
            let sections = sections.ok_or_else(|| missing("interactive['action']['sections']"))?;
            let rows: usize = sections
                .iter()
                .map(|s| s.get("rows").and_then(Value::as_array).map_or(0, Vec::len))
                .sum();
            if sections.is_empty() || sections.len() > 10 || rows == 0 || rows > 10 {
                return Err(invalid(
                    "Param interactive['action']['sections'] must have 1 to 10 sections and 1 to 10 rows in total.",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn code(v: Value) -> Option<i64> {
        check_send(&v).err().map(|e| e.code)
    }

    #[test]
    fn accepts_documented_bodies() {
        let text = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
            "to": "+5511988887777", "type": "text", "text": {"body": "Hi"}});
        assert_eq!(check_send(&text).map(|v| v.kind), Ok("text".to_owned()));
        let untyped = json!({"messaging_product": "whatsapp", "to": "1555", "text": {"body": "x"}});
        assert_eq!(code(untyped), None);
        let template = json!({"messaging_product": "whatsapp", "to": "1555", "type": "template",
            "template": {"name": "order_shipped", "language": {"code": "pt_BR"}}});
        assert_eq!(code(template), None);
        let reaction = json!({"messaging_product": "whatsapp", "to": "1555", "type": "reaction",
            "reaction": {"message_id": "wamid.X", "emoji": ""}});
        assert_eq!(code(reaction), None);
    }

    #[test]
    fn refuses_like_meta() {
        let base = |extra: Value| {
            let mut v = json!({"messaging_product": "whatsapp", "to": "1555", "type": "text"});
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            v
        };
        assert_eq!(
            code(json!({"to": "1", "text": {"body": "x"}})),
            Some(131008)
        );
        assert_eq!(
            code(base(
                json!({"messaging_product": "sms", "text": {"body": "x"}})
            )),
            Some(100)
        );
        assert_eq!(
            code(base(json!({"to": null, "text": {"body": "x"}}))),
            Some(131008)
        );
        assert_eq!(code(base(json!({"type": "fax", "fax": {}}))), Some(100));
        assert_eq!(code(base(json!({}))), Some(131008));
        assert_eq!(code(base(json!({"text": {"body": ""}}))), Some(100));
        assert_eq!(
            code(base(json!({"text": {"body": "é".repeat(4096)}}))),
            None
        );
        assert_eq!(
            code(base(json!({"text": {"body": "é".repeat(4097)}}))),
            Some(100)
        );
        let nameless = json!({"type": "template", "template": {"language": {"code": "en"}}});
        assert_eq!(code(base(nameless)), Some(131008));
        let no_lang = json!({"type": "template", "template": {"name": "t", "language": {}}});
        assert_eq!(code(base(no_lang)), Some(131008));
        assert_eq!(
            code(base(json!({"type": "image", "image": {"caption": "c"}}))),
            Some(131008)
        );
        let four = json!({"type": "interactive", "interactive": {"type": "button",
            "body": {"text": "?"}, "action": {"buttons": [{}, {}, {}, {}]}}});
        assert_eq!(code(base(four)), Some(100));
    }
}
