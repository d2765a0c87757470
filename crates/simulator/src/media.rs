//! The in-memory media store behind `GET /{version}/{media-id}` and the download URL.
//!
//! The store is process-wide so that the free builder functions in [`crate::payload`] can
//! register an attachment without holding a simulator; every simulator in the process serves
//! every registered id. Sample files are tiny and shared, so the store stays small.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex, PoisonError},
};

use sha2::{Digest, Sha256};

use crate::ids::{base64, media_id};

/// One stored attachment.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaFile {
    /// The Graph media id.
    pub id: String,
    /// The MIME type served as `Content-Type`.
    pub mime_type: String,
    /// Base64 SHA-256 of the bytes, as in webhooks.
    pub sha256: String,
    /// The content.
    pub bytes: Arc<[u8]>,
}

static STORE: LazyLock<Mutex<HashMap<String, MediaFile>>> = LazyLock::new(Default::default);

/// Stores `bytes` under a fresh media id.
pub(crate) fn add(bytes: Arc<[u8]>, mime_type: &str) -> MediaFile {
    let file = MediaFile {
        id: media_id(&mut rand::rng()),
        mime_type: mime_type.to_owned(),
        sha256: base64(&Sha256::digest(&bytes)),
        bytes,
    };
    STORE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(file.id.clone(), file.clone());
    file
}

/// The attachment with this id, if one was registered.
pub(crate) fn get(id: &str) -> Option<MediaFile> {
    STORE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(id)
        .cloned()
}

/// What kind of sample file to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sample {
    Image,
    Video,
    Voice,
    Audio,
    Pdf,
    Sticker,
}

/// A valid 1×1 RGBA PNG (one WhatsApp-green pixel).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x50, 0xbd, 0x9c, 0xf6,
    0x1f, 0x00, 0x04, 0xdd, 0x02, 0x5e, 0xe4, 0x55, 0x5c, 0x73, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Just enough of each format for content sniffing; only the PNG is a complete file.
fn sample_bytes(sample: Sample) -> (&'static [u8], &'static str) {
    match sample {
        Sample::Image => (PNG, "image/png"),
        Sample::Video => (
            b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x08free",
            "video/mp4",
        ),
        Sample::Voice => (b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00OpusHead", "audio/ogg; codecs=opus"),
        Sample::Audio => (b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00", "audio/mpeg"),
        Sample::Pdf => (
            b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
            "application/pdf",
        ),
        Sample::Sticker => (b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00", "image/webp"),
    }
}

/// Registers a fresh copy of a sample file and returns it.
pub(crate) fn add_sample(sample: Sample) -> MediaFile {
    let (bytes, mime) = sample_bytes(sample);
    add(Arc::from(bytes), mime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_samples_are_found_with_their_hash() {
        let file = add_sample(Sample::Image);
        assert_eq!(get(&file.id), Some(file.clone()));
        assert_eq!(file.mime_type, "image/png");
        assert_eq!(file.sha256.len(), 44);
        assert!(get("404").is_none());
    }
}
