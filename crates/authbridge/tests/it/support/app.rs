//! The real server on 127.0.0.1:0 against a fresh database, with a `reqwest` client.

use authbridge::app::{open_store, Application};
use authbridge::config::Settings;
use authbridge::storage::{DynStore, NewUser};
use reqwest::{Client, Method, Response};
use serde_json::Value;
use std::net::SocketAddr;

use super::db::TestDb;

/// Strong enough for the startup check (Django's W009: 50+ characters; PyJWT: 32+ bytes for HS256).
pub const SECRET: &str = "test-django-secret-key-0123456789abcdefghijklmnopqrstuvwxyz";

/// Unsalted MD5, so that tests which log in often do not spend their time hashing.
pub const FAST_HASHER: (&str, &str) = (
    "PASSWORD_HASHERS",
    "django.contrib.auth.hashers.MD5PasswordHasher",
);

/// Settings for tests: cheap PBKDF2 so logins are fast, the given env-style overrides.
pub fn settings(db_url: &str, overrides: &[(&str, &str)]) -> Settings {
    let mut env: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), db_url.into()),
        ("DJANGO_SECRET_KEY".into(), SECRET.into()),
        ("AUTHBRIDGE_BIND".into(), "127.0.0.1:0".into()),
    ];
    env.extend(
        overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    Settings::load(None, env).expect("test settings")
}

/// Create an active or inactive user with a real Django hash (the settings' first hasher),
/// named `username`, with `username@example.com`; returns its id.
pub async fn create_user_in(
    store: &DynStore,
    settings: &Settings,
    username: &str,
    password: &str,
    active: bool,
) -> i64 {
    let passwords = authbridge::app::password_service(settings).expect("hashers");
    let encoded = passwords
        .make(zeroize::Zeroizing::new(password.to_string()))
        .await
        .expect("hash");
    let user = NewUser {
        username: username.into(),
        password: encoded,
        email: format!("{username}@example.com"),
        is_active: active,
        ..NewUser::default()
    };
    store
        .create_user(&user, chrono::Utc::now())
        .await
        .expect("create user")
        .id
}

/// Open the store of `db` with `overrides` and create an active user in it (for tests that
/// start the binary on a database prepared beforehand).
pub async fn seed_user(db: &TestDb, overrides: &[(&str, &str)], username: &str, password: &str) {
    let s = settings(&db.url, overrides);
    let store = open_store(&s).await.expect("store");
    create_user_in(&store, &s, username, password, true).await;
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub store: DynStore,
    pub settings: Settings,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn(backend: &str, overrides: &[(&str, &str)]) -> Self {
        let db = TestDb::new(backend).await;
        let settings = settings(&db.url, overrides);
        let app = Application::build(settings.clone())
            .await
            .expect("server starts");
        let addr = app.local_addr().expect("bound");
        let store = app.state().store.clone();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            addr,
            client,
            store,
            settings,
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Create a user with a real Django hash (at the configured hasher and cost).
    pub async fn create_user(&self, username: &str, password: &str, active: bool) -> i64 {
        create_user_in(&self.store, &self.settings, username, password, active).await
    }

    /// Run raw SQL on the test database behind the server's back.
    pub async fn exec(&self, sql: &str) {
        self.db.exec(sql).await;
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: &str) -> Response {
        let mut req = self.client.post(self.url(path)).body(body.to_string());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send().await.expect("request")
    }

    /// Any method, extra headers, an optional JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request")
    }

    pub async fn login(&self, username: &str, password: &str) -> (String, String) {
        let res = self
            .post_json(
                "/api/token/",
                serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(res.status(), 200, "login of {username}");
        let body: Value = res.json().await.expect("json");
        (
            body["refresh"].as_str().expect("refresh").into(),
            body["access"].as_str().expect("access").into(),
        )
    }
}

/// Status and exact body text.
pub async fn status_body(res: Response) -> (u16, String) {
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

/// Status and body as JSON (a body that is not JSON becomes a JSON string).
pub async fn json_of(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}
