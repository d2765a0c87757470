//! Identifiers shaped like Meta's: wamids, media ids, `fbtrace_id`s; plus unix-seconds strings
//! and phone-number digits.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use rand::Rng;

/// Makes every id unique within the process even when two simulators share a seed.
static COUNTER: AtomicU64 = AtomicU64::new(1);

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (the alphabet of wamids and of media `sha256` fields).
pub(crate) fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Which way a message went; Meta's wamids encode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Sent by the business.
    Outbound,
    /// Sent by the customer.
    Inbound,
}

/// A fresh wamid laid out like Meta's: `wamid.` + base64 of a small record holding the
/// customer's number, the direction and a random hex key (`wamid.HBgNNTUxMTk4…`).
pub(crate) fn wamid(rng: &mut impl Rng, customer_digits: &str, direction: Direction) -> String {
    let key = format!(
        "{:08X}{:012X}",
        COUNTER.fetch_add(1, Ordering::Relaxed) as u32,
        rng.random::<u64>() & 0xFFFF_FFFF_FFFF
    );
    let phone = &customer_digits.as_bytes()[..customer_digits.len().min(32)];
    let mut raw = vec![0x1c, 0x18, phone.len() as u8];
    raw.extend_from_slice(phone);
    raw.extend_from_slice(&[0x15, 0x02, 0x00]);
    raw.push(match direction {
        Direction::Outbound => 0x11,
        Direction::Inbound => 0x12,
    });
    raw.extend_from_slice(&[0x18, key.len() as u8]);
    raw.extend_from_slice(key.as_bytes());
    raw.push(0x00);
    format!("wamid.{}", base64(&raw))
}

/// A numeric media id like `1003383421387256`.
pub(crate) fn media_id(rng: &mut impl Rng) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) % 10_000;
    format!("10{:010}{:04}", rng.random_range(0..10_000_000_000u64), n)
}

/// A Graph `fbtrace_id` like `AZ-HzGEkqc5Vf3E0gy-eAcV`.
pub(crate) fn fbtrace_id(rng: &mut impl Rng) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..23)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// Unix seconds now.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Only the digits of a phone number as given (`+55 (11) 98888-7777` → `5511988887777`).
pub(crate) fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn wamids_look_like_metas_and_are_unique() {
        let mut rng = rand::rng();
        let a = wamid(&mut rng, "5511988887777", Direction::Inbound);
        let b = wamid(&mut rng, "5511988887777", Direction::Inbound);
        assert!(a.starts_with("wamid.HBgNNTUxMTk4ODg4Nzc3NxUCABIY"), "{a}");
        assert_ne!(a, b);
        let out = wamid(&mut rng, "15550783881", Direction::Outbound);
        assert!(out.starts_with("wamid.HBgLMTU1NTA3ODM4ODEVAgARGB"), "{out}");
    }

    #[test]
    fn digits_drop_formatting() {
        assert_eq!(digits("+55 (11) 98888-7777"), "5511988887777");
        assert_eq!(media_id(&mut rand::rng()).len(), 16);
    }
}
