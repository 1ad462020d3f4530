//! Auth.js sessions, account linking and revocation (issue 7: findings 4, 5, 9, 15 and the
//! revocation controls), black-box against the real server on every backend.

use crate::support::tokens::claims_of;
use crate::support::{backends, json_of, TestApp};
use authbridge::storage::NewUser;
use serde_json::{json, Map, Value};

const AUTH_SECRET: &str = "sessions-test-auth-secret-0123456789abcdef";
const SERVICE_TOKEN: &str = "sessions-test-service-token-0123456789abcdef";
const V5_COOKIE: &str = "authjs.session-token";
const PASSWORD: &str = "correct horse battery staple";

const BASE: &[(&str, &str)] = &[
    ("AUTH_SECRET", AUTH_SECRET),
    ("AUTHBRIDGE_SERVICE_TOKEN", SERVICE_TOKEN),
    ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
    ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
];

async fn spawn(backend: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut overrides = BASE.to_vec();
    overrides.extend_from_slice(extra);
    TestApp::spawn(backend, &overrides).await
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// A v5 session token as Auth.js writes it (`iat`, `exp`, `jti` stamped), under `secret`.
fn v5_token_with(secret: &str, claims: Value) -> String {
    let mut claims = object(claims);
    let now = chrono::Utc::now().timestamp();
    authjs_jwe::stamp_claims(
        &mut claims,
        now,
        30 * 24 * 3600,
        &uuid::Uuid::new_v4().to_string(),
    );
    let decoder = authjs_jwe::SessionDecoder::new(&[secret.as_bytes()]);
    decoder
        .encode_v5(&claims, V5_COOKIE, uuid::Uuid::new_v4().as_bytes())
        .expect("encode v5")
}

fn v5_cookie(claims: Value) -> String {
    format!("{V5_COOKIE}={}", v5_token_with(AUTH_SECRET, claims))
}

/// A next-auth v4 cookie: without an adapter, v4 puts the OAuth provider's own user id in `sub`.
fn v4_cookie(claims: Value) -> String {
    let decoder = authjs_jwe::SessionDecoder::new(&[AUTH_SECRET.as_bytes()]);
    let iv: [u8; 12] = uuid::Uuid::new_v4().as_bytes()[..12]
        .try_into()
        .expect("12 bytes");
    let token = decoder.encode_v4(&object(claims), &iv).expect("encode v4");
    format!("next-auth.session-token={token}")
}

async fn session(app: &TestApp, cookie: &str) -> (u16, Value) {
    json_of(
        app.client
            .get(app.url("/api/authjs/session"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("request"),
    )
    .await
}

async fn exchange(app: &TestApp, cookie: &str) -> (u16, Value) {
    json_of(
        app.client
            .post(app.url("/api/authjs/token"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("request"),
    )
    .await
}

async fn refresh(app: &TestApp, token: &str) -> (u16, Value) {
    json_of(
        app.post_json("/api/token/refresh/", json!({"refresh": token}))
            .await,
    )
    .await
}

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

fn blacklisted() -> Value {
    json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
}

/// A superuser (the first user, as `createsuperuser` makes it) and alice.
async fn superuser_and_alice(app: &TestApp) -> (i64, i64) {
    let admin = app
        .store
        .create_user(
            &NewUser {
                username: "admin".into(),
                password: "!unusable".into(),
                email: "admin@example.com".into(),
                is_active: true,
                is_staff: true,
                is_superuser: true,
                ..NewUser::default()
            },
            chrono::Utc::now(),
        )
        .await
        .expect("superuser")
        .id;
    let alice = app.create_user("alice", PASSWORD, true).await;
    (admin, alice)
}

// ---------------------------------------------------------------------------------------------
// Finding 4: a session names a user only through an authbridge refresh token

#[tokio::test]
async fn a_bare_sub_or_user_id_never_names_a_django_user() {
    for backend in backends() {
        let app = spawn(backend, &[]).await;
        let (admin, _) = superuser_and_alice(&app).await;
        let claims = [
            // next-auth v4 without an adapter: a GitLab account whose own id is "1".
            v4_cookie(json!({"sub": admin.to_string(), "name": "GitLab user"})),
            v5_cookie(json!({"sub": admin.to_string()})),
            v5_cookie(json!({"sub": "x", "user_id": admin})),
            v5_cookie(json!({"user_id": admin.to_string()})),
        ];
        for cookie in &claims {
            let (status, body) = session(&app, cookie).await;
            assert_eq!((status, code(&body)), (401, "user_not_linked"), "{body}");
            let (status, body) = exchange(&app, cookie).await;
            assert_eq!((status, code(&body)), (401, "user_not_linked"), "{body}");
            assert!(body.get("access").is_none());
        }
    }
}

#[tokio::test]
async fn the_user_is_the_one_of_the_sessions_authbridge_refresh_token() {
    for backend in backends() {
        let app = spawn(backend, &[]).await;
        let (admin, alice) = superuser_and_alice(&app).await;
        let (refresh_token, access_token) = app.login("alice", PASSWORD).await;
        // `sub` says admin: only the token counts.
        let cookie = v5_cookie(json!({"sub": admin.to_string(), "refreshToken": refresh_token}));
        let (status, body) = session(&app, &cookie).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user"]["id"], alice);
        assert_eq!(body["user"]["username"], "alice");
        let (status, body) = exchange(&app, &cookie).await;
        assert_eq!((status, body["user_id"].as_i64()), (200, Some(alice)));

        // `refresh_token` is the other default name.
        let cookie = v5_cookie(json!({"refresh_token": refresh_token}));
        assert_eq!(session(&app, &cookie).await.0, 200);

        // Not ours, or not a refresh token: refused.
        let forged = {
            let mut parts: Vec<String> = refresh_token.split('.').map(String::from).collect();
            parts[2] = "AAAA".repeat(10) + "AAA";
            parts.join(".")
        };
        for bad in [forged.as_str(), access_token.as_str(), "not-a-jwt"] {
            let (status, body) = session(&app, &v5_cookie(json!({"refreshToken": bad}))).await;
            assert_eq!((status, code(&body)), (401, "session_not_valid"), "{body}");
        }
    }
}

#[tokio::test]
async fn the_refresh_claim_names_are_a_setting() {
    let app = spawn(
        "sqlite",
        &[("AUTHBRIDGE_AUTHJS_REFRESH_CLAIMS", "tokens.refresh")],
    )
    .await;
    let alice = app.create_user("alice", PASSWORD, true).await;
    let (refresh_token, _) = app.login("alice", PASSWORD).await;
    let nested = v5_cookie(json!({"tokens": {"refresh": refresh_token}}));
    let (status, body) = session(&app, &nested).await;
    assert_eq!((status, body["user"]["id"].as_i64()), (200, Some(alice)));
    // The default name no longer counts.
    let (status, body) = session(&app, &v5_cookie(json!({"refreshToken": refresh_token}))).await;
    assert_eq!((status, code(&body)), (401, "user_not_linked"));
}

// ---------------------------------------------------------------------------------------------
// Finding 9: an allow-list of claims

#[tokio::test]
async fn the_session_answer_is_an_allow_list_of_claims() {
    let app = spawn("sqlite", &[]).await;
    app.create_user("alice", PASSWORD, true).await;
    let (refresh_token, access_token) = app.login("alice", PASSWORD).await;
    let cookie = v5_cookie(json!({
        "sub": "1", "name": "Alice", "email": "alice@example.com", "picture": "https://p/a.png",
        "accessToken": access_token, "refreshToken": refresh_token,
        "tokens": {"refresh": "nested-refresh-secret"}, "rt": "rt-secret",
        "account": {"access_token": "provider-secret"}, "user_id": 1
    }));
    let (status, body) = session(&app, &cookie).await;
    assert_eq!(status, 200, "{body}");
    let mut names: Vec<&str> = body["session"]
        .as_object()
        .expect("session object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "accessToken",
            "email",
            "exp",
            "iat",
            "jti",
            "name",
            "picture",
            "sub"
        ]
    );
    let text = body.to_string();
    for secret in [
        refresh_token.as_str(),
        "nested-refresh-secret",
        "rt-secret",
        "provider-secret",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Finding 15: signing out ends the session at authbridge

#[tokio::test]
async fn signing_out_ends_the_session_and_what_it_exchanged() {
    for backend in backends() {
        let app = spawn(backend, &[]).await;
        app.create_user("alice", PASSWORD, true).await;
        let (refresh_token, _) = app.login("alice", PASSWORD).await;
        let copied = v5_cookie(json!({"sub": "1", "refreshToken": refresh_token}));
        assert_eq!(session(&app, &copied).await.0, 200);
        let (status, exchanged) = exchange(&app, &copied).await;
        assert_eq!(status, 200, "{exchanged}");
        let exchanged_refresh = exchanged["refresh"].as_str().expect("refresh").to_string();

        // events.signOut of the example.
        let (status, body) = json_of(
            app.post_json("/api/token/logout/", json!({"refresh": refresh_token}))
                .await,
        )
        .await;
        assert_eq!((status, &body), (200, &json!({})));

        for (status, body) in [session(&app, &copied).await, exchange(&app, &copied).await] {
            assert_eq!(
                (status, &body),
                (
                    401,
                    &json!({"detail": "Auth.js session has been signed out", "code": "session_revoked"})
                )
            );
        }
        assert_eq!(
            refresh(&app, &exchanged_refresh).await,
            (401, blacklisted())
        );
        assert_eq!(refresh(&app, &refresh_token).await, (401, blacklisted()));
        // Signing out twice is fine.
        let again = app
            .post_json("/api/token/logout/", json!({"refresh": refresh_token}))
            .await;
        assert_eq!(again.status(), 200);
    }
}

#[tokio::test]
async fn signing_out_with_a_stale_cookie_ends_the_rotated_login() {
    for backend in backends() {
        let app = spawn(backend, &[]).await;
        app.create_user("alice", PASSWORD, true).await;
        let (first, _) = app.login("alice", PASSWORD).await;
        let (status, rotated) = refresh(&app, &first).await;
        assert_eq!(status, 200, "{rotated}");
        let second = rotated["refresh"].as_str().expect("rotated").to_string();
        let current = v5_cookie(json!({"refreshToken": second}));
        let stale = v5_cookie(json!({"refreshToken": first}));
        // The stale cookie (rotated, so blacklisted) still belongs to a live login.
        assert_eq!(session(&app, &stale).await.0, 200);
        assert_eq!(session(&app, &current).await.0, 200);

        let res = app
            .post_json("/api/token/logout/", json!({"refresh": first}))
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(session(&app, &current).await.0, 401);
        assert_eq!(session(&app, &stale).await.0, 401);
        assert_eq!(refresh(&app, &second).await, (401, blacklisted()));
    }
}

#[tokio::test]
async fn simplejwts_blacklist_of_the_newest_token_ends_the_session_too() {
    let app = spawn("sqlite", &[]).await;
    app.create_user("alice", PASSWORD, true).await;
    let (refresh_token, _) = app.login("alice", PASSWORD).await;
    let cookie = v5_cookie(json!({"refreshToken": refresh_token}));
    let res = app
        .post_json("/api/token/blacklist/", json!({"refresh": refresh_token}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(code(&session(&app, &cookie).await.1), "session_revoked");
}

#[tokio::test]
async fn logout_refuses_what_is_not_a_refresh_token() {
    let app = spawn("sqlite", &[]).await;
    app.create_user("alice", PASSWORD, true).await;
    let (_, access) = app.login("alice", PASSWORD).await;
    let (status, body) = json_of(
        app.post_json("/api/token/logout/", json!({"refresh": access}))
            .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"detail": "Token has wrong type", "code": "token_not_valid"})
        )
    );
    let (status, body) = json_of(app.post_json("/api/token/logout/", json!({})).await).await;
    assert_eq!(
        (status, body),
        (400, json!({"refresh": ["This field is required."]}))
    );
}

// ---------------------------------------------------------------------------------------------
// Revocation: log out everywhere, password change, deactivation

#[tokio::test]
async fn logout_all_revokes_every_login_of_the_user_only() {
    for backend in backends() {
        let app = spawn(backend, &[]).await;
        app.create_user("alice", PASSWORD, true).await;
        app.create_user("bob", PASSWORD, true).await;
        let (phone, _) = app.login("alice", PASSWORD).await;
        let (laptop, access) = app.login("alice", PASSWORD).await;
        let (bobs, _) = app.login("bob", PASSWORD).await;
        let session_cookie = v5_cookie(json!({"refreshToken": phone}));

        let unauthenticated = app.post_json("/api/token/logout-all/", json!({})).await;
        assert_eq!(
            json_of(unauthenticated).await,
            (
                401,
                json!({"detail": "Authentication credentials were not provided."})
            )
        );
        let res = app
            .client
            .post(app.url("/api/token/logout-all/"))
            .bearer_auth(&access)
            .send()
            .await
            .expect("request");
        assert_eq!(json_of(res).await, (200, json!({})));

        assert_eq!(refresh(&app, &phone).await, (401, blacklisted()));
        assert_eq!(refresh(&app, &laptop).await, (401, blacklisted()));
        assert_eq!(
            code(&session(&app, &session_cookie).await.1),
            "session_revoked"
        );
        assert_eq!(refresh(&app, &bobs).await.0, 200, "bob stays signed in");
        // Signing in again works.
        let (fresh, _) = app.login("alice", PASSWORD).await;
        assert_eq!(refresh(&app, &fresh).await.0, 200);
    }
}

#[tokio::test]
async fn logout_user_command_revokes_every_login() {
    for backend in backends() {
        let app = spawn(backend, &[]).await;
        app.create_user("alice", PASSWORD, true).await;
        let (refresh_token, _) = app.login("alice", PASSWORD).await;
        authbridge::cli::logout_user(app.settings.clone(), "alice".into())
            .await
            .expect("logout-user");
        assert_eq!(refresh(&app, &refresh_token).await, (401, blacklisted()));
        let unknown = authbridge::cli::logout_user(app.settings.clone(), "nobody".into()).await;
        assert!(unknown.is_err());
    }
}

#[tokio::test]
async fn a_password_changed_in_django_revokes_the_users_refresh_tokens() {
    for backend in backends() {
        let app = spawn(backend, &[]).await;
        let alice = app.create_user("alice", PASSWORD, true).await;
        let (refresh_token, _) = app.login("alice", PASSWORD).await;
        let (other, _) = app.login("alice", PASSWORD).await;
        let cookie = v5_cookie(json!({"refreshToken": other}));
        assert_eq!(session(&app, &cookie).await.0, 200);

        // Django's `user.set_password(...); user.save()`: an UPDATE of auth_user.password.
        let passwords = authbridge::app::password_service(&app.settings).expect("hashers");
        let encoded = passwords
            .make(zeroize::Zeroizing::new("a new password".into()))
            .await
            .expect("hash");
        app.store
            .set_password(alice, &encoded)
            .await
            .expect("set password");

        assert_eq!(refresh(&app, &refresh_token).await, (401, blacklisted()));
        assert_eq!(code(&session(&app, &cookie).await.1), "session_revoked");
        // In Django's own tables too: simplejwt behind Django refuses them as well.
        assert!(app.store.is_blacklisted(&jti_of(&other)).await.expect("db"));
        let (fresh, _) = app.login("alice", "a new password").await;
        assert_eq!(refresh(&app, &fresh).await.0, 200);
    }
}

#[tokio::test]
async fn a_password_hash_upgrade_on_login_keeps_other_sessions() {
    for backend in backends() {
        let app = spawn(backend, &[]).await;
        // A hash Django made before an iteration bump: the next login upgrades it.
        let old = django_hashers::Hashers::django_default()
            .with_pbkdf2_iterations(1000)
            .make_password_with_salt(PASSWORD, "oldsalt123")
            .expect("hash");
        let id = app
            .store
            .create_user(
                &NewUser {
                    username: "alice".into(),
                    password: old.clone(),
                    is_active: true,
                    ..NewUser::default()
                },
                chrono::Utc::now(),
            )
            .await
            .expect("user")
            .id;
        let (first, _) = app.login("alice", PASSWORD).await;
        let upgraded = app.store.user_by_id(id).await.expect("db").expect("user");
        assert_ne!(upgraded.password, old, "the login upgraded the hash");
        let (second, _) = app.login("alice", PASSWORD).await;
        assert_eq!(refresh(&app, &first).await.0, 200, "first login survives");
        assert_eq!(refresh(&app, &second).await.0, 200);
    }
}

#[tokio::test]
async fn deactivation_revokes_refresh_tokens_for_good() {
    for backend in backends() {
        let app = spawn(backend, &[]).await;
        let alice = app.create_user("alice", PASSWORD, true).await;
        let (refresh_token, _) = app.login("alice", PASSWORD).await;
        let (other, _) = app.login("alice", PASSWORD).await;
        let active = |on: bool| {
            format!(
                "UPDATE auth_user SET is_active = {} WHERE id = {alice}",
                if on { "TRUE" } else { "FALSE" }
            )
        };
        app.exec(&active(false)).await;
        assert_eq!(
            refresh(&app, &refresh_token).await,
            (
                401,
                json!({"detail": "No active account found for the given token."})
            )
        );
        app.exec(&active(true)).await;
        assert_eq!(refresh(&app, &refresh_token).await, (401, blacklisted()));
        assert_eq!(refresh(&app, &other).await, (401, blacklisted()));
        // A deleted user's token: refused (the id is never reused).
        let (last, _) = app.login("alice", PASSWORD).await;
        app.exec(
            // Django's `on_delete=SET_NULL` on OutstandingToken.user.
            &format!(
                "UPDATE token_blacklist_outstandingtoken SET user_id = NULL WHERE user_id = {alice}"
            ),
        )
        .await;
        app.exec(&format!("DELETE FROM auth_user WHERE id = {alice}"))
            .await;
        assert_eq!(refresh(&app, &last).await.0, 401);
    }
}

fn jti_of(token: &str) -> String {
    claims_of(token)["jti"].as_str().expect("jti").to_string()
}

// ---------------------------------------------------------------------------------------------
// Finding 5: linking by email is a per-provider opt-in, never to staff or superusers

async fn sync(app: &TestApp, body: Value) -> (u16, Value) {
    json_of(
        app.client
            .post(app.url("/api/users/sync"))
            .bearer_auth(SERVICE_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("request"),
    )
    .await
}

fn sync_body(provider: &str, id: &str, email: &str) -> Value {
    json!({"provider": provider, "provider_account_id": id, "email": email, "email_verified": true})
}

#[tokio::test]
async fn sync_links_by_email_only_when_the_provider_opted_in() {
    for backend in backends() {
        let app = spawn(backend, &[("AUTHBRIDGE_EMAIL_LINKING_PROVIDERS", "oidc")]).await;
        let (admin, alice) = superuser_and_alice(&app).await;
        let not_linked = |(status, body): (u16, Value)| {
            assert_eq!(status, 409, "{body}");
            assert_eq!(code(&body), "OAuthAccountNotLinked");
        };

        // A provider that did not opt in, with the superuser's verified email (any case).
        not_linked(sync(&app, sync_body("gitlab", "2", "ADMIN@example.com")).await);
        // Opted in: never the superuser.
        not_linked(sync(&app, sync_body("oidc", "idp-1", "admin@example.com")).await);
        // Opted in, not verified.
        let mut unverified = sync_body("oidc", "idp-2", "alice@example.com");
        unverified["email_verified"] = json!(false);
        not_linked(sync(&app, unverified).await);
        for (provider, id) in [("gitlab", "2"), ("oidc", "idp-1"), ("oidc", "idp-2")] {
            assert_eq!(
                app.store.linked_user(provider, id).await.expect("db"),
                None,
                "{provider}/{id} must not be linked"
            );
        }
        // Opted in, verified, an ordinary user: linked.
        let (status, body) = sync(&app, sync_body("oidc", "idp-3", "Alice@Example.com")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["user_id"].as_i64(), body["created"].as_bool()),
            (Some(alice), Some(false))
        );
        assert_ne!(body["user_id"].as_i64(), Some(admin));
    }
}

#[tokio::test]
async fn sync_refused_for_an_inactive_user_writes_nothing() {
    for backend in backends() {
        let app = spawn(backend, &[("AUTHBRIDGE_EMAIL_LINKING_PROVIDERS", "oidc")]).await;
        app.create_user("carol", PASSWORD, false).await;
        let (status, body) = sync(&app, sync_body("oidc", "idp-c", "carol@example.com")).await;
        assert_eq!(
            (status, body),
            (
                401,
                json!({"detail": "User is inactive", "code": "user_inactive"})
            )
        );
        assert_eq!(
            app.store.linked_user("oidc", "idp-c").await.expect("db"),
            None
        );
    }
}
