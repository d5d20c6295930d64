//! The mock's CDN: result files at signed URLs that expire.
//!
//! A URL carries its expiry (`exp`, the mock clock in Unix ms) and an HMAC of path and
//! expiry under a key drawn at start, so URLs need no server-side memory and cannot be
//! extended by editing `exp`. Every answer that carries a result signs fresh URLs that
//! live the configured TTL from that moment, so a re-query always yields a working URL
//! while a URL kept around stops working (403) once its TTL has passed.
//!
//! The files are small but valid: a one-second 64x36 H.264 MP4 and a 16x16 PNG, each
//! with the asset id embedded (an MP4 `free` box, a PNG `tEXt` chunk) so every result
//! has its own bytes and a saved file can be matched to the download it came from.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use kling_api::codes::ErrorCode;
use sha2::Sha256;

use crate::envelope::ApiError;
use crate::faults::{RouteInfo, RouteKind};
use crate::journal::{CdnSummary, EntryKind, fingerprint, hex};
use crate::observe::{self, RequestCtx};
use crate::state::MockState;

/// A one-second 64x36 H.264 (baseline) MP4, made with
/// `ffmpeg -f lavfi -i color=c=0x1f4e79:s=64x36:r=1:d=1 -c:v libx264 -profile:v baseline
/// -crf 40 -pix_fmt yuv420p -movflags +faststart -fflags +bitexact`.
const SAMPLE_MP4: &[u8] = include_bytes!("../assets/sample.mp4");
/// A 16x16 PNG of the same colour.
const SAMPLE_PNG: &[u8] = include_bytes!("../assets/sample.png");

/// The path template of CDN URLs (for fault patterns).
pub(crate) const TEMPLATE: &str = "/cdn/{task_id}/{file}";

/// Signs and checks result URLs.
pub(crate) struct UrlSigner {
    /// The HMAC already keyed: cloning it skips the key schedule on every URL.
    keyed: Hmac<Sha256>,
}

impl UrlSigner {
    pub(crate) fn random() -> Self {
        let key: [u8; 32] = rand::random();
        UrlSigner { keyed: Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length") }
    }

    fn mac(&self, path: &str, expires_ms: i64) -> Hmac<Sha256> {
        let mut mac = self.keyed.clone();
        mac.update(path.as_bytes());
        mac.update(b"|");
        mac.update(expires_ms.to_string().as_bytes());
        mac
    }

    /// `{base}/cdn/{task_id}/{asset}.{ext}?exp=...&sig=...`
    pub(crate) fn url(&self, base: &str, task_id: &str, asset: &str, ext: &str, expires_ms: i64) -> String {
        let mut url = String::with_capacity(base.len() + task_id.len() + asset.len() + 80);
        url.push_str(base);
        let path_start = url.len();
        for part in ["/cdn/", task_id, "/", asset, ".", ext] {
            url.push_str(part);
        }
        let sig = hex(&self.mac(&url[path_start..], expires_ms).finalize().into_bytes()[..16]);
        url.push_str("?exp=");
        url.push_str(&expires_ms.to_string());
        url.push_str("&sig=");
        url.push_str(&sig);
        url
    }

    fn verify(&self, path: &str, expires_ms: i64, sig: &str) -> bool {
        let Some(bytes) = unhex(sig) else {
            return false;
        };
        bytes.len() == 16 && self.mac(path, expires_ms).verify_truncated_left(&bytes).is_ok()
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

/// The bytes of a video asset: the sample MP4 plus a `free` box naming the asset.
pub(crate) fn video_bytes(task_id: &str, asset: &str) -> Vec<u8> {
    let payload = format!("kling-mock task {task_id} video {asset}");
    let mut out = Vec::with_capacity(SAMPLE_MP4.len() + 8 + payload.len());
    out.extend_from_slice(SAMPLE_MP4);
    out.extend_from_slice(&u32::try_from(8 + payload.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(b"free");
    out.extend_from_slice(payload.as_bytes());
    out
}

/// The bytes of an image asset: the sample PNG with a `tEXt` chunk naming the asset,
/// inserted before `IEND` (the last 12 bytes).
pub(crate) fn image_bytes(task_id: &str, asset: &str) -> Vec<u8> {
    let mut data = b"Comment\0".to_vec();
    data.extend_from_slice(format!("kling-mock task {task_id} image {asset}").as_bytes());
    let mut chunk = Vec::with_capacity(data.len() + 12);
    chunk.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    chunk.extend_from_slice(b"tEXt");
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(&crc32(&chunk[4..]).to_be_bytes());
    let split = SAMPLE_PNG.len() - 12;
    let mut out = Vec::with_capacity(SAMPLE_PNG.len() + chunk.len());
    out.extend_from_slice(&SAMPLE_PNG[..split]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&SAMPLE_PNG[split..]);
    out
}

/// CRC-32 (IEEE), as PNG chunks need; bitwise, as it runs on a few dozen bytes.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// `GET /cdn/{task_id}/{file}?exp=&sig=`
pub(crate) async fn download(
    State(state): State<MockState>,
    ctx: RequestCtx,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    let shared = &state.shared;
    let Ok(Path((task_id, file))) = path else {
        ctx.update(|d| d.kind = EntryKind::Cdn);
        return ApiError::new(ErrorCode::NOT_FOUND, "the URL path is not valid UTF-8; use result URLs as returned")
            .into_response();
    };
    ctx.update(|d| {
        d.kind = EntryKind::Cdn;
        d.route = "download";
        d.task_id = Some(task_id.clone());
    });
    let path = format!("/cdn/{task_id}/{file}");
    let info = RouteInfo { kind: RouteKind::Download, method: "GET", path: &path, template: TEMPLATE };
    let plan = match observe::before(shared, &ctx, &info).await {
        Ok(plan) => plan,
        Err(e) => return e.into_response(),
    };
    let result = serve(&state, &ctx, &task_id, &file, &path, query.as_deref(), plan.expired_url);
    observe::after(result.unwrap_or_else(IntoResponse::into_response), plan.sabotage)
}

fn serve(
    state: &MockState,
    ctx: &RequestCtx,
    task_id: &str,
    file: &str,
    path: &str,
    query: Option<&str>,
    force_expired: bool,
) -> Result<Response, ApiError> {
    let shared = &state.shared;
    let not_found = || {
        ApiError::new(
            ErrorCode::NOT_FOUND,
            format!("no result file {path}; use a URL from a succeeded task's task_result"),
        )
    };
    let (asset, ext) = file.rsplit_once('.').ok_or_else(not_found)?;
    let params = crate::api::query_params(query.unwrap_or(""));
    let param = |k: &str| params.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let forbidden = |why: &str| ApiError::new(ErrorCode::NO_ACCESS, why.to_owned());
    let expires_ms: i64 = param("exp").and_then(|v| v.parse().ok()).ok_or_else(|| {
        forbidden("the URL has no valid exp parameter; use the URL exactly as the task query returned it")
    })?;
    let sig = param("sig").unwrap_or("");
    if !shared.signer.verify(path, expires_ms, sig) {
        return Err(forbidden("the URL's signature does not match; use the URL exactly as the task query returned it"));
    }
    {
        let core = shared.core();
        let task = core.tasks.find_asset(asset).filter(|t| t.id == task_id).ok_or_else(not_found)?;
        if task.status != kling_api::types::TaskStatus::Succeed {
            return Err(not_found());
        }
    }
    let now = shared.clock.now_ms();
    let expired = force_expired || now > expires_ms;
    let mut summary = CdnSummary { asset: asset.to_owned(), expires_ms, expired, bytes: 0, sha256: None };
    if expired {
        ctx.update(|d| d.cdn = Some(summary));
        return Err(forbidden(&format!(
            "this result URL expired at {expires_ms} (mock clock {now}); result URLs are temporary: \
             download results as soon as the task succeeds, and query the task again for a fresh URL"
        )));
    }
    let (bytes, content_type) = match ext {
        "mp4" => (video_bytes(task_id, asset), "video/mp4"),
        "png" => (image_bytes(task_id, asset), "image/png"),
        _ => return Err(not_found()),
    };
    summary.bytes = bytes.len();
    summary.sha256 = Some(fingerprint(&bytes));
    ctx.update(|d| d.cdn = Some(summary));
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        bytes,
    )
        .into_response();
    response.extensions_mut().insert(crate::envelope::BusinessCode(0));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_urls_verify_only_unchanged() {
        let s = UrlSigner::random();
        let url = s.url("http://h", "t1", "a1", "mp4", 5000);
        let (_, query) = url.split_once('?').unwrap();
        let sig = query.split("sig=").nth(1).unwrap();
        assert!(s.verify("/cdn/t1/a1.mp4", 5000, sig));
        assert!(!s.verify("/cdn/t1/a1.mp4", 5001, sig));
        assert!(!s.verify("/cdn/t2/a1.mp4", 5000, sig));
        assert!(!s.verify("/cdn/t1/a1.mp4", 5000, "zz"));
        assert!(!s.verify("/cdn/t1/a1.mp4", 5000, &sig[..8]));
    }

    #[test]
    fn assets_are_valid_containers_with_their_own_bytes() {
        let v = video_bytes("t", "a");
        assert_eq!(&v[4..8], b"ftyp");
        assert_ne!(v, video_bytes("t", "b"));
        let i = image_bytes("t", "a");
        assert_eq!(&i[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&i[i.len() - 8..i.len() - 4], b"IEND");
        // The PNG's own IHDR CRC checks out with this CRC implementation.
        assert_eq!(crc32(&SAMPLE_PNG[12..29]).to_be_bytes(), SAMPLE_PNG[29..33]);
    }
}
