//! dj-rest-auth's account API under `/api/auth/` (`AUTHBRIDGE_ACCOUNTS`), black-box:
//! - `wire_probe`: every deterministic request of the recorded probe of the real dj-rest-auth
//!   7.2.0 + allauth 65.21.1 (`fixtures/accounts_wire_probe.json`), replayed in order;
//! - `attacks`: hostile bodies and headers at this surface;
//! - `cookie_mode`: dj-rest-auth's JWT cookies;
//! - `edges`: corners the probe does not cover, answered as the real stack answered them.

mod attacks;
mod cookie_mode;
mod edges;
mod wire_probe;

use authbridge::app::Application;
use reqwest::{Method, Response};
use serde_json::Value;

use crate::support::{settings, TestApp, TestDb, FAST_HASHER};

/// The probe's server M: mandatory verification, login by username or email, link templates;
/// rotation with blacklisting (its refresh answers show both). The rate limits are off so the
/// probe's many sign-ups from one client and one address get the anchor's answers.
pub const SERVER_M: &[(&str, &str)] = &[
    ("AUTHBRIDGE_ACCOUNTS", "true"),
    ("ACCOUNT_EMAIL_VERIFICATION", "mandatory"),
    ("ACCOUNT_LOGIN_METHODS", "username,email"),
    (
        "ACCOUNT_EMAIL_CONFIRMATION_URL",
        "http://localhost:3000/verify-email/{key}",
    ),
    (
        "PASSWORD_RESET_CONFIRM_URL",
        "http://localhost:3000/password-reset/confirm/{uid}/{token}",
    ),
    ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
    ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
    ("SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD", "0"),
    ("AUTHBRIDGE_SIGNUP_ADDRESS_RATE", "off"),
    ("AUTHBRIDGE_SIGNUP_CLIENT_RATE", "off"),
    ("AUTHBRIDGE_RESEND_ADDRESS_RATE", "off"),
    ("AUTHBRIDGE_RESEND_CLIENT_RATE", "off"),
    ("AUTHBRIDGE_PASSWORD_RESET_ADDRESS_RATE", "off"),
    ("AUTHBRIDGE_PASSWORD_RESET_CLIENT_RATE", "off"),
    ("AUTHBRIDGE_LOGIN_FAILURES", "0"),
    FAST_HASHER,
];

/// The probe's server O: optional verification, no link templates, no cooldown.
pub const SERVER_O: &[(&str, &str)] = &[
    ("AUTHBRIDGE_ACCOUNTS", "true"),
    ("ACCOUNT_EMAIL_VERIFICATION", "optional"),
    ("ACCOUNT_LOGIN_METHODS", "username,email"),
    ("ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN", "0"),
    ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
    ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
    ("SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD", "0"),
    ("AUTHBRIDGE_SIGNUP_ADDRESS_RATE", "off"),
    ("AUTHBRIDGE_SIGNUP_CLIENT_RATE", "off"),
    ("AUTHBRIDGE_RESEND_ADDRESS_RATE", "off"),
    ("AUTHBRIDGE_RESEND_CLIENT_RATE", "off"),
    ("AUTHBRIDGE_PASSWORD_RESET_ADDRESS_RATE", "off"),
    ("AUTHBRIDGE_PASSWORD_RESET_CLIENT_RATE", "off"),
    ("AUTHBRIDGE_LOGIN_FAILURES", "0"),
    FAST_HASHER,
];

/// A second server on `app`'s database with other settings (the probe ran its two servers on
/// one database); its base URL.
pub async fn spawn_beside(app: &TestApp, overrides: &[(&str, &str)]) -> String {
    let built = Application::build(settings(&app.db.url, overrides))
        .await
        .expect("second server starts");
    let addr = built.local_addr().expect("bound");
    tokio::spawn(built.run_until_stopped(std::future::pending()));
    format!("http://{addr}")
}

/// One request as the probe sent it: method, path, headers, raw body.
pub async fn send(
    app: &TestApp,
    base: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> Response {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app.client.request(method, format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    if let Some(body) = body {
        req = req.body(body.to_string());
    }
    req.send().await.expect("request")
}

/// `status`, the body as text, and the headers the probe kept.
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

pub async fn answer(res: Response) -> Answer {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.text().await.expect("body");
    Answer {
        status,
        body,
        headers,
    }
}

/// The keys of a JSON object body, in order.
pub fn keys(body: &str) -> Vec<String> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default()
}

/// Rows of `(integer, text)` from the test database, read behind the server's back (cast the
/// integer to BIGINT).
pub async fn query_pairs(db: &TestDb, sql: &str) -> Vec<(i64, String)> {
    use sqlx::{Connection, Row};
    if let Some(path) = db.url.strip_prefix("sqlite:///") {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
            .await
            .expect("sqlite");
        let rows = sqlx::query(sql).fetch_all(&mut c).await.expect(sql);
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.expect("pg");
        let rows = sqlx::query(sql).fetch_all(&mut c).await.expect(sql);
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    }
}
