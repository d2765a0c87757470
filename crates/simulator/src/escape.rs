//! Webhook bodies byte-for-byte as Meta writes them: compact JSON with every non-ASCII
//! character escaped as `\uXXXX` (lowercase hex, UTF-16 surrogate pairs beyond the BMP).
//!
//! serde_json leaves non-ASCII characters raw; since they can only occur inside JSON strings,
//! escaping every one of them in the serialised text yields valid, equivalent JSON.

use serde::Serialize;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Rewrites serialised JSON so that it is pure ASCII, as Meta's webhook bodies are.
pub fn escape_non_ascii(json: &str) -> String {
    let extra = json.bytes().filter(|b| !b.is_ascii()).count() * 4;
    let mut out = String::with_capacity(json.len() + extra);
    let mut units = [0u16; 2];
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        for unit in c.encode_utf16(&mut units) {
            out.push_str("\\u");
            for shift in [12, 8, 4, 0] {
                out.push(char::from(HEX[usize::from((*unit >> shift) & 0xf)]));
            }
        }
    }
    out
}

/// Serialises `value` the way Meta posts it: compact, non-ASCII escaped.
pub fn to_meta_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let text = serde_json::to_string(value)?;
    Ok(escape_non_ascii(&text).into_bytes())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn escapes_latin_and_emoji_like_meta() {
        let body = to_meta_json(&json!({"text": {"body": "Olá 👋 – ü"}})).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&body),
            r#"{"text":{"body":"Ol\u00e1 \ud83d\udc4b \u2013 \u00fc"}}"#
        );
        let back: Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(back["text"]["body"], "Olá 👋 – ü");
    }

    #[test]
    fn leaves_ascii_and_existing_escapes_alone() {
        let text = r#"{"a":"line\nbreak \"quoted\" \\ \u0001","b":[1,2.5,true,null]}"#;
        assert_eq!(escape_non_ascii(text), text);
    }
}
