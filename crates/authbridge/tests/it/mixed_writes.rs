//! Mixed writes on one SQLite file (issue 8): refreshes with rotation, logins whose password hashes
//! get upgraded, user syncs and blacklists, all at once. Every write must queue behind the others
//! in one line; none may meet another in SQLite's busy handler and come back as a 5xx, a
//! "database is locked" or a timeout. (Also run on PostgreSQL when it is configured.)

use crate::support::{backends, TestApp};
use authbridge::storage::NewUser;
use serde_json::{json, Value};
use std::time::Duration;

const SERVICE_TOKEN: &str = "mixed-writes-service-token-0123456789abcdef";
const PASSWORD: &str = "correct horse battery staple";
/// Per kind of request; four kinds, so 4 × N requests in flight at once.
const N: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_writes_on_one_database_never_fail() {
    for backend in backends() {
        let app = TestApp::spawn(
            backend,
            &[
                // MD5 is preferred: a PBKDF2 hash verifies, then `must_update` upgrades it to MD5
                // (a cheap upgrade, so that the load is the database's, not the hasher's).
                ("PASSWORD_HASHERS", "md5,pbkdf2_sha256"),
                ("AUTHBRIDGE_SERVICE_TOKEN", SERVICE_TOKEN),
                ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
                ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
                // Login attempts counted in the database: more writes in the mix.
                ("AUTHBRIDGE_LOGIN_THROTTLE", "database"),
                ("AUTHBRIDGE_LOGIN_ADDRESS_FAILURES", "10000"),
                ("AUTHBRIDGE_PASSWORD_QUEUE", "10000"),
            ],
        )
        .await;
        // Users whose PBKDF2 hash (1,000 iterations) the next login upgrades.
        let pbkdf2 = django_hashers::Hashers::from_settings(&["pbkdf2_sha256"])
            .expect("hashers")
            .with_pbkdf2_iterations(1000);
        for i in 0..N {
            let encoded = pbkdf2
                .make_password_with_salt(PASSWORD, &format!("salt{i:08}"))
                .expect("hash");
            app.store
                .create_user(
                    &NewUser {
                        username: format!("upgrade{i}"),
                        password: encoded,
                        is_active: true,
                        ..NewUser::default()
                    },
                    chrono::Utc::now(),
                )
                .await
                .expect("user");
        }
        // Refresh tokens to rotate and to blacklist (MD5 users: their logins need no upgrade).
        app.create_user("rotor", PASSWORD, true).await;
        let mut to_refresh = Vec::new();
        let mut to_blacklist = Vec::new();
        for _ in 0..N {
            to_refresh.push(app.login("rotor", PASSWORD).await.0);
            to_blacklist.push(app.login("rotor", PASSWORD).await.0);
        }

        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        let mut tasks = Vec::new();
        for i in 0..N {
            let requests = [
                (
                    "/api/token/refresh/",
                    json!({"refresh": to_refresh[i]}),
                    None,
                ),
                (
                    "/api/token/",
                    json!({"username": format!("upgrade{i}"), "password": PASSWORD}),
                    None,
                ),
                (
                    "/api/users/sync",
                    json!({"provider": "github", "provider_account_id": format!("gh-{i}"),
                           "email": format!("sync{i}@example.com"), "email_verified": true,
                           "name": format!("Sync {i}")}),
                    Some(SERVICE_TOKEN),
                ),
                (
                    "/api/token/blacklist/",
                    json!({"refresh": to_blacklist[i]}),
                    None,
                ),
            ];
            for (path, body, bearer) in requests {
                let (client, url) = (client.clone(), app.url(path));
                tasks.push(tokio::spawn(async move {
                    let mut req = client.post(url).json(&body);
                    if let Some(token) = bearer {
                        req = req.bearer_auth(token);
                    }
                    match req.send().await {
                        Ok(res) => {
                            let status = res.status().as_u16();
                            let text = res.text().await.unwrap_or_default();
                            (path, status, text)
                        }
                        Err(e) => (path, 0, format!("request failed: {e}")),
                    }
                }));
            }
        }
        let mut failures = Vec::new();
        for task in tasks {
            let (path, status, text) = task.await.expect("task");
            if status != 200 || text.to_lowercase().contains("locked") {
                failures.push(format!("{path} -> {status} {text}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{backend}: {} of {} requests failed, e.g. {:?}",
            failures.len(),
            4 * N,
            &failures[..failures.len().min(5)]
        );
        // Every write landed: the hashes were upgraded, the tokens blacklisted.
        for i in 0..N {
            let user = app
                .store
                .user_by_username(&format!("upgrade{i}"))
                .await
                .expect("db")
                .expect("user");
            assert!(user.password.starts_with("md5$"), "{backend}: upgraded");
        }
        for token in to_blacklist.iter().chain(&to_refresh) {
            assert!(
                app.store.is_blacklisted(&jti_of(token)).await.expect("db"),
                "{backend}: blacklisted"
            );
        }
    }
}

fn jti_of(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    let claims: Value = serde_json::from_slice(&bytes).expect("json");
    claims["jti"].as_str().expect("jti").to_string()
}
