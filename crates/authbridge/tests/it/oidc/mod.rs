//! The OpenID Connect provider's back-channel endpoints, black-box: discovery and JWKS, the token
//! endpoint's grants and refusals, userinfo, revocation and introspection, on every backend.
//! Codes are inserted through the code repository (what the authorization endpoint does), so the
//! token endpoint is tested on its own.

mod api_refresh;
mod code;
mod discovery;
mod end_to_end;
mod in_process;
mod refusals;
mod resources;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::Response;

use crate::support::TestApp;

pub const ISSUER: &str = "https://auth.example.test";
pub const WEB_SECRET: &str = "Zr8vQ2kLmN4pX7tYb1cD5fG9hJ3wE6sA0uI-oKqR";
pub const OTHER_SECRET: &str = "pL0oK9iJ8uH7yG6tF5rD4eS3wA2qZ1xC-vBnMm_Q";
pub const WEB_REDIRECT: &str = "https://app.example.test/api/auth/callback/authbridge";
pub const SPA_REDIRECT: &str = "http://127.0.0.1:3000/cb";

/// `web` (confidential), `spa` (public) and `other` (confidential) clients, provider enabled.
pub fn clients() -> String {
    serde_json::json!([
        {"client_id": "web", "client_secret": WEB_SECRET, "redirect_uris": [WEB_REDIRECT]},
        {"client_id": "spa", "public": true, "redirect_uris": [SPA_REDIRECT]},
        {"client_id": "other", "client_secret": OTHER_SECRET,
         "redirect_uris": ["https://other.example.test/cb"]},
    ])
    .to_string()
}

/// The provider with those clients, rotating refresh tokens without a grace window (a replay is
/// reuse at once).
pub async fn provider(backend: &str) -> TestApp {
    provider_with(backend, &[]).await
}

/// [`provider`] with `extra` settings.
pub async fn provider_with(backend: &str, extra: &[(&str, &str)]) -> TestApp {
    let clients = clients();
    let mut settings = vec![
        ("AUTHBRIDGE_OIDC_ENABLED", "true"),
        ("AUTHBRIDGE_OIDC_ISSUER", ISSUER),
        ("AUTHBRIDGE_OIDC_clients", clients.as_str()),
        ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
        ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
        ("SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD", "0"),
    ];
    settings.extend_from_slice(extra);
    TestApp::spawn(backend, &settings).await
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

pub fn form(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// A form POST to `path` with extra headers.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    fields: &[(&str, &str)],
) -> Response {
    let mut req = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(fields));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

/// A token request by the `web` client (client_secret_basic).
pub async fn as_web(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Response {
    let auth = basic("web", WEB_SECRET);
    post_form(app, path, &[("authorization", &auth)], fields).await
}
