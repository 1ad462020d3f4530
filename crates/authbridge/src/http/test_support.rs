//! Helpers the unit tests under `http/` share.

use axum::body::to_bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// A header map with every pair appended (a name may repeat, as `Cookie` does).
pub fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, v.parse().expect("test value"));
    }
    h
}

/// A response's status, headers and (small, UTF-8) body.
pub async fn response_parts(response: Response) -> (StatusCode, HeaderMap, String) {
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, 64 * 1024).await.expect("small body");
    (
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_vec()).expect("utf-8"),
    )
}
