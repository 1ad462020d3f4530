//! Settings no other test touches, each shown to change what a client sees (with the setting
//! ignored, the test fails): simplejwt's header, activity and revocation settings, HS384,
//! `--config`, `AUTHBRIDGE_PASSWORD_WORKERS`, `AUTHBRIDGE_SECRET_FILE`; and error paths: `/healthz`
//! when the database is gone, the 413 body, `Accept: text/html`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::binary::{command, run, text, Served};
use crate::support::tokens::{claims_aged, claims_of, header_of};
use crate::support::{backends, json_of, status_body, TestApp, FAST_HASHER, SECRET};

async fn me(app: &TestApp, headers: &[(&str, &str)]) -> (u16, Value) {
    json_of(app.request(Method::GET, "/api/me/", headers, None).await).await
}

#[tokio::test]
async fn auth_header_types_and_name_choose_where_the_access_token_is_read() {
    for backend in backends() {
        let app = TestApp::spawn(
            backend,
            &[
                FAST_HASHER,
                ("SIMPLE_JWT_AUTH_HEADER_TYPES", "JWT,Token"),
                ("SIMPLE_JWT_AUTH_HEADER_NAME", "HTTP_X_ACCESS_TOKEN"),
            ],
        )
        .await;
        app.create_user("ann", "pw-1", true).await;
        let (_, access) = app.login("ann", "pw-1").await;
        for kind in ["JWT", "Token"] {
            let value = format!("{kind} {access}");
            let (status, body) = me(&app, &[("X-Access-Token", &value)]).await;
            assert_eq!(
                (status, &body["username"]),
                (200, &json!("ann")),
                "{backend} {kind}: {body}"
            );
        }
        // Not a configured type, or not the configured header: no credentials at all.
        let bearer = format!("Bearer {access}");
        let jwt = format!("JWT {access}");
        for headers in [
            [("X-Access-Token", bearer.as_str())],
            [("Authorization", jwt.as_str())],
        ] {
            let res = app.request(Method::GET, "/api/me/", &headers, None).await;
            // simplejwt's realm names the first configured type.
            let challenge = res.headers().get("www-authenticate").cloned();
            let (status, body) = json_of(res).await;
            assert_eq!(status, 401, "{backend} {headers:?}: {body}");
            assert_eq!(
                body,
                json!({"detail": "Authentication credentials were not provided."}),
                "{backend}"
            );
            assert_eq!(challenge.unwrap(), r#"JWT realm="api""#, "{backend}");
        }
    }
}

#[tokio::test]
async fn check_user_is_active_off_lets_a_deactivated_users_access_token_through() {
    for backend in backends() {
        for (check, expected) in [("true", 401), ("false", 200)] {
            let app = TestApp::spawn(
                backend,
                &[FAST_HASHER, ("SIMPLE_JWT_CHECK_USER_IS_ACTIVE", check)],
            )
            .await;
            let id = app.create_user("ann", "pw-1", true).await;
            let (_, access) = app.login("ann", "pw-1").await;
            app.exec(&format!(
                r#"UPDATE "auth_user" SET "is_active" = false WHERE "id" = {id}"#
            ))
            .await;
            let bearer = format!("Bearer {access}");
            let (status, body) = me(&app, &[("Authorization", &bearer)]).await;
            assert_eq!(
                status, expected,
                "{backend} CHECK_USER_IS_ACTIVE={check}: {body}"
            );
            if expected == 401 {
                assert_eq!(body["detail"], "User is inactive", "{backend}");
            }
        }
    }
}

#[tokio::test]
async fn revoke_token_claim_names_the_password_hash_claim() {
    for backend in backends() {
        let app = TestApp::spawn(
            backend,
            &[
                FAST_HASHER,
                ("SIMPLE_JWT_CHECK_REVOKE_TOKEN", "true"),
                ("SIMPLE_JWT_REVOKE_TOKEN_CLAIM", "pwd"),
            ],
        )
        .await;
        app.create_user("ann", "pw-1", true).await;
        let (refresh, access) = app.login("ann", "pw-1").await;
        for token in [&refresh, &access] {
            let claims = claims_of(token);
            assert!(claims["pwd"].is_string(), "{backend}: {claims}");
            assert!(claims.get("hash_password").is_none(), "{backend}: {claims}");
        }
        // The claim is checked under its configured name: a changed password revokes the token.
        app.exec(r#"UPDATE "auth_user" SET "password" = 'md5$other$0' WHERE "username" = 'ann'"#)
            .await;
        let bearer = format!("Bearer {access}");
        let (status, body) = me(&app, &[("Authorization", &bearer)]).await;
        assert_eq!(status, 401, "{backend}: {body}");
    }
}

fn hs384(payload: &Value, key: &str) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS384","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let mut mac = Hmac::<sha2::Sha384>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    format!(
        "{message}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn hs384_signs_and_verifies() {
    let app = TestApp::spawn("sqlite", &[FAST_HASHER, ("SIMPLE_JWT_ALGORITHM", "HS384")]).await;
    let id = app.create_user("ann", "pw-1", true).await;
    let (_, access) = app.login("ann", "pw-1").await;
    assert_eq!(header_of(&access)["alg"], "HS384");
    // A token signed here with HMAC-SHA384 is accepted; the same claims under HS256 are not.
    let claims = claims_aged("access", json!(id.to_string()), 0, 300);
    let verify = |token: String| app.post_json("/api/token/verify/", json!({ "token": token }));
    assert_eq!(
        status_body(verify(hs384(&claims, SECRET)).await).await,
        (200, "{}".into())
    );
    let (status, _) = status_body(verify(crate::support::tokens::mint(claims)).await).await;
    assert_eq!(status, 401);
}

/// `serve --bind 127.0.0.1:0` with extra global arguments before the subcommand; its address.
fn serve_with(
    dir: &std::path::Path,
    env: &[(&str, &str)],
    global: &[&str],
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut args = global.to_vec();
    args.extend(["serve", "--bind", "127.0.0.1:0"]);
    let mut child = command(dir, env, &args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("listening on"))
        .expect("listening line");
    let url = line.rsplit("http://").next().unwrap().trim().to_string();
    (child, format!("http://{url}"))
}

#[tokio::test]
async fn a_config_file_given_with_dash_dash_config_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:///{}", dir.path().join("db.sqlite3").display());
    let config = dir.path().join("authbridge.toml");
    std::fs::write(
        &config,
        format!(
            "DATABASE_URL = \"{db}\"\nDJANGO_SECRET_KEY = \"{SECRET}\"\n\
             PASSWORD_HASHERS = [\"django.contrib.auth.hashers.MD5PasswordHasher\"]\n\n\
             [simple_jwt]\nACCESS_TOKEN_LIFETIME = \"0:01:17\"\n"
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let out = run(
        dir.path(),
        &[],
        &["--config", &config, "createuser", "ann", "--password-stdin"],
        "pw-1-long-enough-Zq\n",
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let (mut child, url) = serve_with(dir.path(), &[], &["--config", &config]);
    let res = reqwest::Client::new()
        .post(format!("{url}/api/token/"))
        .json(&json!({"username": "ann", "password": "pw-1-long-enough-Zq"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{body}");
    let claims = claims_of(body["access"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        77
    );
}

#[test]
fn the_secret_file_setting_names_where_the_generated_key_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:///{}", dir.path().join("db.sqlite3").display());
    let path = dir.path().join("keys").join("mine.secret");
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let file = path.display().to_string();
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("AUTHBRIDGE_SECRET_FILE", file.as_str()),
    ];
    let mut served = Served::start(dir.path(), &env)
        .map_err(|(_, e)| e)
        .expect("starts");
    served.stop_and_read_stderr();
    let key = std::fs::read_to_string(&path).expect("the key is in AUTHBRIDGE_SECRET_FILE");
    assert_eq!(key.len(), 50, "{key:?}");
    assert!(
        !dir.path().join("authbridge.secret").exists(),
        "not at the default place"
    );
    // Kept: a second start reads the same key instead of making another.
    let mut served = Served::start(dir.path(), &env)
        .map_err(|(_, e)| e)
        .expect("starts");
    served.stop_and_read_stderr();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_workers_is_the_number_of_hashes_at_once() {
    // Logins arriving together while each hash (Django's PBKDF2, 1,000,000 iterations) takes a
    // while: WORKERS are hashed, QUEUE wait, the rest get 503 at once. WORKERS is set above the
    // default (CPUs - 1), so with the setting ignored fewer would be judged.
    let default =
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1));
    let workers = default + 2;
    let workers_text = workers.to_string();
    let app = TestApp::spawn(
        "sqlite",
        &[
            (
                "PASSWORD_HASHERS",
                "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            ),
            ("AUTHBRIDGE_PASSWORD_WORKERS", &workers_text),
            ("AUTHBRIDGE_PASSWORD_QUEUE", "1"),
            ("AUTHBRIDGE_LOGIN_FAILURES", "1000"),
            ("AUTHBRIDGE_LOGIN_ADDRESS_FAILURES", "1000"),
        ],
    )
    .await;
    let attempts = (0..workers + 5).map(|i| {
        app.post_json(
            "/api/token/",
            json!({"username": format!("ghost{i}"), "password": "wrong"}),
        )
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    let judged = statuses.iter().filter(|s| **s == 401).count();
    assert!(
        judged > workers,
        "{workers} workers + 1 waiting: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 503),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn healthz_is_503_when_the_database_is_gone() {
    // PostgreSQL only: a SQLite file stays readable through the connections already open on it.
    if !backends().contains(&"postgres") {
        eprintln!("SKIPPED: needs TEST_DATABASE_URL");
        return;
    }
    let app = TestApp::spawn("postgres", &[]).await;
    let name = app.db.url.rsplit('/').next().unwrap().to_string();
    assert_eq!(
        status_body(app.request(Method::GET, "/healthz", &[], None).await)
            .await
            .0,
        200
    );
    let admin = std::env::var("TEST_DATABASE_URL").unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (status, body) = status_body(app.request(Method::GET, "/healthz", &[], None).await).await;
    assert_eq!(
        (status, body.as_str()),
        (503, r#"{"status":"database unavailable"}"#)
    );
}

#[tokio::test]
async fn errors_are_json_whatever_the_client_accepts() {
    let app = TestApp::spawn("sqlite", &[FAST_HASHER]).await;
    // Over Django's 2.5 MB on an endpoint without the login limit: 413, simplejwt-style JSON.
    let big = format!(r#"{{"token":"{}"}}"#, "a".repeat(2_621_441));
    let res = app
        .post_raw("/api/token/verify/", Some("application/json"), &big)
        .await;
    let ctype = res.headers().get("content-type").cloned();
    assert_eq!(
        status_body(res).await,
        (413, r#"{"detail":"Request body too large."}"#.into())
    );
    assert_eq!(ctype.unwrap(), "application/json");
    // A browser's Accept: no browsable API page, the same JSON error.
    let res = app
        .request(
            Method::POST,
            "/api/token/",
            &[("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
            Some(json!({"username": "nobody", "password": "x"})),
        )
        .await;
    let ctype = res.headers().get("content-type").cloned();
    assert_eq!(
        status_body(res).await,
        (
            401,
            r#"{"detail":"No active account found with the given credentials"}"#.into()
        )
    );
    assert_eq!(ctype.unwrap(), "application/json");
}
