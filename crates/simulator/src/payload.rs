//! Builders for webhook payloads as Meta sends them (whatsapp-cloud-api.md §4–§6): one
//! `messages[]` item per inbound type, each with a fresh wamid and the current unix-seconds
//! timestamp string; `statuses[]` items; and envelopes, including batched ones with several
//! entries and changes.
//!
//! Media builders register a small sample file in the process-wide media store, so
//! `GET /{version}/{media-id}` on any simulator of the process serves it. Replies carry
//! `context.from` = the default business number; use [`with_context_from`] for another.

use serde_json::{Map, Value, json};

use crate::{
    config::DEFAULT_DISPLAY_PHONE_NUMBER,
    ids::{Direction, digits, unix_now, wamid},
    media::{Sample, add_sample},
};

/// The fields every inbound message has: `from`, `id`, `timestamp`, `type`.
fn message(from: &str, kind: &str) -> Value {
    let id = wamid(&mut rand::rng(), &digits(from), Direction::Inbound);
    json!({"from": from, "id": id, "timestamp": unix_now().to_string(), "type": kind})
}

fn typed(from: &str, kind: &str, payload: Value) -> Value {
    let mut m = message(from, kind);
    m[kind] = payload;
    m
}

fn media(sample: Sample, extra: Value) -> Value {
    let file = add_sample(sample);
    let mut v = json!({"id": file.id, "mime_type": file.mime_type, "sha256": file.sha256});
    if let (Some(v), Value::Object(extra)) = (v.as_object_mut(), extra) {
        v.extend(extra.into_iter().filter(|(_, x)| !x.is_null()));
    }
    v
}

/// A text message.
pub fn text(from: &str, body: &str) -> Value {
    typed(from, "text", json!({"body": body}))
}

/// A photo (a 1×1 PNG), with an optional caption.
pub fn image(from: &str, caption: Option<&str>) -> Value {
    typed(
        from,
        "image",
        media(Sample::Image, json!({"caption": caption})),
    )
}

/// A video, with an optional caption.
pub fn video(from: &str, caption: Option<&str>) -> Value {
    typed(
        from,
        "video",
        media(Sample::Video, json!({"caption": caption})),
    )
}

/// An audio file; `voice` marks a recorded voice note (`audio/ogg; codecs=opus`).
pub fn audio(from: &str, voice: bool) -> Value {
    let sample = if voice { Sample::Voice } else { Sample::Audio };
    typed(from, "audio", media(sample, json!({"voice": voice})))
}

/// A PDF document with a file name and an optional caption.
pub fn document(from: &str, filename: &str, caption: Option<&str>) -> Value {
    let extra = json!({"filename": filename, "caption": caption});
    typed(from, "document", media(Sample::Pdf, extra))
}

/// A WebP sticker.
pub fn sticker(from: &str, animated: bool) -> Value {
    typed(
        from,
        "sticker",
        media(Sample::Sticker, json!({"animated": animated})),
    )
}

/// A shared location.
pub fn location(
    from: &str,
    latitude: f64,
    longitude: f64,
    name: Option<&str>,
    address: Option<&str>,
) -> Value {
    let mut payload = json!({"latitude": latitude, "longitude": longitude});
    if let Some(name) = name {
        payload["name"] = json!(name);
    }
    if let Some(address) = address {
        payload["address"] = json!(address);
    }
    typed(from, "location", payload)
}

/// A shared contact card.
pub fn contacts(from: &str) -> Value {
    let card = json!({
        "name": {"formatted_name": "Maria Oliveira", "first_name": "Maria", "last_name": "Oliveira"},
        "phones": [{"phone": "+55 11 97777-6666", "wa_id": "5511977776666", "type": "CELL"}],
        "emails": [{"email": "maria.oliveira@example.com", "type": "WORK"}],
        "org": {"company": "Oliveira Importados", "title": "Buyer"},
        "urls": [{"url": "https://example.com", "type": "WORK"}],
    });
    typed(from, "contacts", json!([card]))
}

fn interactive(from: &str, context_wamid: &str, kind: &str, reply: Value) -> Value {
    let msg = typed(from, "interactive", json!({"type": kind, kind: reply}));
    with_context(msg, context_wamid)
}

/// A tap on a reply button of our interactive message `context_wamid`.
pub fn interactive_button_reply(from: &str, context_wamid: &str, id: &str, title: &str) -> Value {
    interactive(
        from,
        context_wamid,
        "button_reply",
        json!({"id": id, "title": title}),
    )
}

/// A choice from a list of our interactive message `context_wamid`.
pub fn interactive_list_reply(
    from: &str,
    context_wamid: &str,
    id: &str,
    title: &str,
    description: Option<&str>,
) -> Value {
    let mut reply = json!({"id": id, "title": title});
    if let Some(description) = description {
        reply["description"] = json!(description);
    }
    interactive(from, context_wamid, "list_reply", reply)
}

/// A completed WhatsApp Flow; `response_json` is the Flow's answer as a JSON string.
pub fn interactive_nfm_reply(from: &str, context_wamid: &str, response_json: &str) -> Value {
    let reply = json!({"name": "flow", "body": "Sent", "response_json": response_json});
    interactive(from, context_wamid, "nfm_reply", reply)
}

/// A tap on a quick-reply button of our template message `context_wamid`.
pub fn button(from: &str, context_wamid: &str, payload: &str, text: &str) -> Value {
    let msg = typed(from, "button", json!({"payload": payload, "text": text}));
    with_context(msg, context_wamid)
}

/// A reaction to `message_wamid`; `None` removes it (Meta then omits `emoji`).
pub fn reaction(from: &str, message_wamid: &str, emoji: Option<&str>) -> Value {
    let mut payload = json!({"message_id": message_wamid});
    if let Some(emoji) = emoji {
        payload["emoji"] = json!(emoji);
    }
    typed(from, "reaction", payload)
}

/// An order from the catalogue with two items.
pub fn order(from: &str) -> Value {
    typed(
        from,
        "order",
        json!({
            "catalog_id": "1147523566084219",
            "text": "Please deliver before Friday",
            "product_items": [
                {"product_retailer_id": "SKU-4521", "quantity": 2, "item_price": 19.9, "currency": "USD"},
                {"product_retailer_id": "SKU-0087", "quantity": 1, "item_price": 5.5, "currency": "USD"},
            ],
        }),
    )
}

/// The customer changed number: `from` is the old number, `new_wa_id` the new one.
pub fn system_changed_number(from: &str, new_wa_id: &str) -> Value {
    let body = format!("User {from} changed from {from} to {new_wa_id}");
    typed(
        from,
        "system",
        json!({"body": body, "wa_id": new_wa_id, "type": "user_changed_number"}),
    )
}

/// The customer's security code changed (identity check).
pub fn system_identity_changed(from: &str) -> Value {
    let body = format!("{from}'s security code changed");
    typed(
        from,
        "system",
        json!({"body": body, "customer": from, "type": "customer_identity_changed"}),
    )
}

/// The customer opened the chat for the first time.
pub fn request_welcome(from: &str) -> Value {
    message(from, "request_welcome")
}

/// A message type Meta does not deliver, e.g. `edit`, `poll_creation`, `gif`.
pub fn unsupported(from: &str, kind: &str) -> Value {
    let mut m = typed(from, "unsupported", json!({"type": kind}));
    m["errors"] = json!([{
        "code": 131051,
        "title": "Message type unknown",
        "message": "Message type unknown",
        "error_data": {"details": "Message type is currently not supported."},
    }]);
    m
}

/// Marks `msg` as a reply quoting our message `wamid` (`context.from` = business number).
pub fn with_context(msg: Value, wamid: &str) -> Value {
    with_context_from(msg, DEFAULT_DISPLAY_PHONE_NUMBER, wamid)
}

/// Marks `msg` as a reply quoting message `wamid` sent by `from`.
pub fn with_context_from(mut msg: Value, from: &str, wamid: &str) -> Value {
    msg["context"] = json!({"from": from, "id": wamid});
    msg
}

/// Marks `msg` as forwarded (more than five times when `frequently`).
pub fn forwarded(mut msg: Value, frequently: bool) -> Value {
    let key = if frequently {
        "frequently_forwarded"
    } else {
        "forwarded"
    };
    msg["context"] = json!({key: true});
    msg
}

/// A `statuses[]` item; `errors` are `errors[]` objects (see [`crate::status_error`]).
pub fn status(
    wamid: &str,
    status: &str,
    recipient: &str,
    callback_data: Option<&str>,
    errors: Vec<Value>,
) -> Value {
    let mut s = json!({
        "id": wamid,
        "status": status,
        "timestamp": unix_now().to_string(),
        "recipient_id": digits(recipient),
    });
    if let Some(data) = callback_data {
        s["biz_opaque_callback_data"] = json!(data);
    }
    if !errors.is_empty() {
        s["errors"] = Value::Array(errors);
    }
    s
}

/// The `value` of one `messages` change; empty lists are left out, as Meta does.
pub fn value(
    pnid: &str,
    display: &str,
    contacts: &[(&str, &str)],
    messages: Vec<Value>,
    statuses: Vec<Value>,
) -> Value {
    let mut v = Map::new();
    v.insert("messaging_product".into(), json!("whatsapp"));
    v.insert(
        "metadata".into(),
        json!({"display_phone_number": display, "phone_number_id": pnid}),
    );
    if !contacts.is_empty() {
        let contacts = contacts
            .iter()
            .map(|(wa_id, name)| json!({"profile": {"name": name}, "wa_id": wa_id}))
            .collect();
        v.insert("contacts".into(), Value::Array(contacts));
    }
    if !messages.is_empty() {
        v.insert("messages".into(), Value::Array(messages));
    }
    if !statuses.is_empty() {
        v.insert("statuses".into(), Value::Array(statuses));
    }
    Value::Object(v)
}

/// A change of the `messages` field.
pub fn change(value: Value) -> Value {
    json!({"field": "messages", "value": value})
}

/// One WABA's entry with its changes.
pub fn entry(waba: &str, changes: Vec<Value>) -> Value {
    json!({"id": waba, "changes": changes})
}

/// A notification of several entries.
pub fn notification(entries: Vec<Value>) -> Value {
    json!({"object": "whatsapp_business_account", "entry": entries})
}

/// A notification of one entry with one `messages` change.
pub fn envelope(
    pnid: &str,
    display: &str,
    waba: &str,
    contacts: &[(&str, &str)],
    messages: Vec<Value>,
    statuses: Vec<Value>,
) -> Value {
    let value = value(pnid, display, contacts, messages, statuses);
    notification(vec![entry(waba, vec![change(value)])])
}
