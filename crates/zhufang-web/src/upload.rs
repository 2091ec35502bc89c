//! Photo uploads: type checked by content (JPEG, PNG, WebP), size capped,
//! stored under `DATA_DIR/uploads/YYYY/MM/` with a random name.

use crate::error::AppError;
use crate::state::AppState;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zhufang_store::model::NewAttachment;

pub const MAX_PHOTOS: usize = 9;

/// The image type by magic bytes, never by the file name or the client's word.
pub fn sniff_image(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(("image/png", "png"))
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(("image/webp", "webp"))
    } else {
        None
    }
}

/// A document: a PDF, or a scan as an image.
pub fn sniff_document(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"%PDF-") { Some(("application/pdf", "pdf")) } else { sniff_image(bytes) }
}

/// Checks and writes one photo; returns what to record.
pub async fn save_photo(state: &AppState, original_name: &str, bytes: &[u8]) -> Result<NewAttachment, AppError> {
    let kind = sniff_image(bytes);
    save(state, "photos", original_name, bytes, kind, "只能上传 JPEG、PNG 或 WebP 格式的照片").await
}

/// Checks and writes one document (a signed agreement: PDF or a scan).
pub async fn save_document(
    state: &AppState,
    field: &str,
    original_name: &str,
    bytes: &[u8],
) -> Result<NewAttachment, AppError> {
    let kind = sniff_document(bytes);
    save(state, field, original_name, bytes, kind, "只能上传 PDF，或 JPEG、PNG、WebP 格式的扫描件").await
}

async fn save(
    state: &AppState,
    field: &str,
    original_name: &str,
    bytes: &[u8],
    kind: Option<(&'static str, &'static str)>,
    refused: &str,
) -> Result<NewAttachment, AppError> {
    if bytes.is_empty() {
        return Err(AppError::field(field, "上传的文件为空"));
    }
    if bytes.len() > state.cfg.max_upload_bytes {
        return Err(AppError::PayloadTooLarge);
    }
    let (content_type, ext) = kind.ok_or_else(|| AppError::UnsupportedMediaType(refused.into()))?;
    let sha = hex::encode(Sha256::digest(bytes));
    let mut rnd = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut rnd);
    let now = chrono::Utc::now();
    let rel = format!("{}/{}.{ext}", now.format("%Y/%m"), hex::encode(rnd));
    let path = state.cfg.uploads().join(&rel);
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(|e| AppError::Internal(format!("mkdir: {e}")))?;
    }
    tokio::fs::write(&path, bytes).await.map_err(|e| AppError::Internal(format!("write upload: {e}")))?;
    let name: String = original_name.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(120).collect();
    Ok(NewAttachment {
        stored_name: rel,
        original_name: if name.is_empty() { format!("{field}.{ext}") } else { name },
        content_type: content_type.into(),
        size_bytes: bytes.len() as i64,
        sha256: sha,
    })
}

/// Removes files written for a request that then failed.
pub async fn discard(state: &AppState, files: &[NewAttachment]) {
    for f in files {
        let _ = tokio::fs::remove_file(state.cfg.uploads().join(&f.stored_name)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::sniff_image;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).unwrap().0, "image/jpeg");
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n....").unwrap().0, "image/png");
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 ").unwrap().0, "image/webp");
        assert!(sniff_image(b"GIF89a").is_none());
        assert!(sniff_image(b"<svg xmlns=").is_none());
        assert!(sniff_image(b"").is_none());
    }
}
