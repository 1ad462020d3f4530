//! The gateway (issue 11) against an in-test upstream on 127.0.0.1:0 (`upstream.rs`): what the
//! upstream sees, each way of being signed in, the path policies, bearer mode, streaming both
//! ways, WebSocket upgrades, the upstream down or slow, and `GET /auth/check`.

mod auth;
mod cli;
mod csrf;
mod failures;
mod forward_auth;
mod headers;
mod streaming;
mod timeouts;
mod upstream;

use serde_json::Value;

use crate::support::TestApp;
pub use upstream::Upstream;

pub const PASSWORD: &str = "correct horse battery staple";

/// authbridge on SQLite with `AUTHBRIDGE_UPSTREAM` pointing at `upstream`, plus `extra` settings.
pub async fn spawn(upstream: &Upstream, extra: &[(&str, &str)]) -> TestApp {
    spawn_on("sqlite", upstream, extra).await
}

/// [`spawn`] on `backend`.
pub async fn spawn_on(backend: &str, upstream: &Upstream, extra: &[(&str, &str)]) -> TestApp {
    let url = format!("http://{}", upstream.addr);
    let mut overrides = vec![
        ("AUTHBRIDGE_UPSTREAM", url.as_str()),
        crate::support::FAST_HASHER,
    ];
    overrides.extend_from_slice(extra);
    TestApp::spawn(backend, &overrides).await
}

/// What `/echo` reports: every header the upstream received, in order, as `(name, value)`.
pub fn seen_headers(echo: &Value) -> Vec<(String, String)> {
    echo["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().expect("name").to_string(),
                pair[1].as_str().expect("value").to_string(),
            )
        })
        .collect()
}

/// The values the upstream saw for `name` (lower case).
pub fn seen(echo: &Value, name: &str) -> Vec<String> {
    seen_headers(echo)
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v)
        .collect()
}
