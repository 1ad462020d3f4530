//! Black-box test support: start the real server on 127.0.0.1:0 against a fresh database, on SQLite
//! always and on PostgreSQL when `TEST_DATABASE_URL` is set (unreachable = failure, never a skip).

use authbridge::app::{build_state, open_store, Application};
use authbridge::config::Settings;
use authbridge::storage::{DynStore, NewUser};
use reqwest::{Client, Response};
use serde_json::Value;
use std::net::SocketAddr;

/// Strong enough for the startup check (Django's W009: 50+ characters; PyJWT: 32+ bytes for HS256).
pub const SECRET: &str = "test-django-secret-key-0123456789abcdefghijklmnopqrstuvwxyz";

/// The database backends every black-box test runs on.
pub fn backends() -> Vec<&'static str> {
    let mut v = vec!["sqlite"];
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        v.push("postgres");
    }
    v
}

/// A fresh, empty database: a temp SQLite file, or a new PostgreSQL database dropped on drop.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: &str) -> Self {
        if backend == "sqlite" {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite:///{}", dir.path().join("db.sqlite3").display());
            return Self {
                url,
                _dir: Some(dir),
                pg: None,
            };
        }
        let server = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
        let name = format!("authbridge_it_{}", uuid::Uuid::new_v4().simple());
        let mut conn = connect_pg(&server).await;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("create database");
        let mut url = url::Url::parse(&server).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        Self {
            url: url.to_string(),
            _dir: None,
            pg: Some((server, name)),
        }
    }
}

async fn connect_pg(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, name)) = self.pg.take() {
            // Best effort, on its own runtime: the test's runtime may be shutting down.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        let mut conn = connect_pg(&server).await;
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut conn)
                        .await;
                    });
                }
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub store: DynStore,
    pub settings: Settings,
    pub db: TestDb,
}

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

    /// Create a user with a real Django hash (pbkdf2_sha256 at the configured cost).
    pub async fn create_user(&self, username: &str, password: &str, active: bool) -> i64 {
        let passwords = authbridge::app::password_service(&self.settings).expect("hashers");
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
        self.store
            .create_user(&user, chrono::Utc::now())
            .await
            .expect("create user")
            .id
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

/// Build a state without a listener (for in-process checks).
#[allow(dead_code)]
pub async fn state_for(db_url: &str, overrides: &[(&str, &str)]) -> authbridge::http::AppState {
    let settings = settings(db_url, overrides);
    let store = open_store(&settings).await.expect("store");
    build_state(
        settings,
        store,
        std::sync::Arc::new(authbridge::clock::SystemClock),
    )
    .await
    .expect("state")
}
