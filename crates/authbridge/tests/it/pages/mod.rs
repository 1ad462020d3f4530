//! The provider's browser side, black-box (issue 9, "Login page"): `/login`, `/consent`,
//! `/logout`, `/oauth2/authorize` and `/oauth2/logout`, driven in process by a small cookie-keeping
//! browser ([`Browser`]) on every backend. The real-browser counterpart (Chromium, axe-core) is
//! in interop/.

mod authorize;
mod login;
mod logout;

use http::{Method, Request};
use std::collections::BTreeMap;

use crate::support::headers::{header, set_cookies};
use crate::support::in_process::{InProcess, Reply};
use crate::support::FAST_HASHER;

pub const ISSUER: &str = "http://127.0.0.1:9000";
pub const THIRD_SECRET: &str = "Zq8vN3xR7tLw2pK9mB4cY6hJ1sD5fG0aE";
pub const PASSWORD: &str = "correct horse battery";

/// A third-party confidential client (consent screen) and a first-party public one.
pub fn clients() -> String {
    serde_json::json!([
        {
            "client_id": "third",
            "client_name": "Third App",
            "client_secret": THIRD_SECRET,
            "redirect_uris": ["https://app.test/cb", "http://127.0.0.1:3000/cb"],
            "post_logout_redirect_uris": ["https://app.test/bye"],
        },
        {
            "client_id": "first",
            "public": true,
            "first_party": true,
            "redirect_uris": ["https://first.test/cb"],
        },
    ])
    .to_string()
}

/// The provider on `backend` with the two clients, `extra` settings and an active `alice`.
pub async fn provider(backend: &str, extra: &[(&str, &str)]) -> InProcess {
    let clients = clients();
    let mut settings = vec![
        FAST_HASHER,
        ("AUTHBRIDGE_OIDC_ENABLED", "true"),
        ("AUTHBRIDGE_OIDC_ISSUER", ISSUER),
        ("AUTHBRIDGE_OIDC_clients", clients.as_str()),
    ];
    settings.extend_from_slice(extra);
    let app = InProcess::start(backend, &settings).await;
    app.create_user("alice", PASSWORD, true).await;
    app
}

/// A browser: keeps the cookies the server sets (by name, as sent back), follows nothing.
pub struct Browser<'a> {
    pub app: &'a InProcess,
    pub jar: BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a InProcess) -> Self {
        Self {
            app,
            jar: BTreeMap::new(),
        }
    }

    async fn send(&mut self, method: Method, path: &str, body: Option<String>) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if !self.jar.is_empty() {
            let cookie: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", cookie.join("; "));
        }
        if body.is_some() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let req = req
            .body(axum::body::Body::from(body.unwrap_or_default()))
            .expect("request");
        let reply = self.app.send_from(None, req).await;
        for line in set_cookies(&reply.headers) {
            let pair = line.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || line.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_string(), value.to_string());
            }
        }
        reply
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send(Method::POST, path, Some(body)).await
    }

    /// Sign in through the form; `next` as the form carries it. Returns the POST's reply.
    pub async fn login(&mut self, username: &str, password: &str, next: Option<&str>) -> Reply {
        let page = self.get("/login").await;
        let token = csrf_token(&page.body);
        let mut form = vec![
            ("csrf_token", token.as_str()),
            ("username", username),
            ("password", password),
        ];
        if let Some(next) = next {
            form.push(("next", next));
        }
        self.post("/login", &form).await
    }
}

/// The value of the form's `csrf_token` field.
pub fn csrf_token(html: &str) -> String {
    hidden_field(html, "csrf_token").expect("a csrf_token field")
}

pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&").replace("&#38;", "&"))
}

pub fn location(reply: &Reply) -> &str {
    header(&reply.headers, "location").unwrap_or_else(|| panic!("no Location: {reply:?}"))
}

/// A `Location`'s query parameters.
pub fn query_of(location: &str) -> BTreeMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Every page's headers: CSP without inline script or framing, no-store, no referrer, DENY.
pub fn assert_page_headers(reply: &Reply) {
    let csp = reply.header("content-security-policy").expect("CSP");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("style-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}
