//! Login flooding and guessing (issue 7, finding 3 and the lockout): attempts are counted
//! atomically before any hashing on every backend (process memory, SQLite, PostgreSQL when
//! `TEST_DATABASE_URL` is set, Redis when `TEST_REDIS_URL` is set: set but unreachable fails),
//! the lock expires on the injected clock, a full password queue answers 503 at once, and an
//! oversized login body is refused before it is counted or hashed.
//!
//! The server here is the real router driven in process (`support::in_process`) with a
//! `MockClock`; each request plays the TCP peer it names, so that one test can play several
//! addresses, and the edge derives `ClientIp` from it as from a real connection.

use authbridge::clock::Clock;
use authbridge::limits::{self, Scope};
use authbridge::storage::AttemptRule;
use reqwest::Client;
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::binary::{spawn_binary, stop_and_read_stderr};
use crate::support::bodies::NO_ACCOUNT;
use crate::support::in_process::{InProcess, Reply};
use crate::support::{self, seed_user, TestDb, FAST_HASHER};

/// The in-process server and two client addresses of its own (Redis outlives the test).
struct Server {
    app: InProcess,
    a: IpAddr,
    b: IpAddr,
}

fn fresh_addr() -> IpAddr {
    let n = uuid::Uuid::new_v4().as_u128();
    IpAddr::V6(std::net::Ipv6Addr::from(
        (0x2001_0db8_u128 << 96) | (n >> 32),
    ))
}

impl Server {
    async fn start(backend: &str, overrides: &[(&str, &str)]) -> Self {
        Self {
            app: InProcess::start(backend, overrides).await,
            a: fresh_addr(),
            b: fresh_addr(),
        }
    }

    async fn create_user(&self, username: &str, password: &str) {
        self.app.create_user(username, password, true).await;
    }

    async fn login_from(&self, client: IpAddr, username: &str, password: &str) -> Reply {
        self.app.login_from(Some(client), username, password).await
    }

    /// The count the next attempt of `scope` would get, minus one: how many were counted.
    async fn counted(&self, scope: Scope, username: &str, client: IpAddr) -> i64 {
        let backend = self.app.state.limiter.backend().expect("throttling is on");
        let key = limits::key(scope, username, Some(client));
        let rule = AttemptRule {
            limit: i64::MAX,
            period: chrono::Duration::hours(1),
        };
        let next = backend
            .count_attempt(&key, rule, self.app.clock.now())
            .await
            .expect("count");
        backend.uncount_attempt(&key).await.expect("uncount");
        next.attempts - 1
    }
}

fn status_body_retry(res: Reply) -> (u16, String, Option<String>) {
    let retry = res.header("retry-after").map(String::from);
    (res.status, res.body, retry)
}

fn throttled(wait: i64) -> String {
    let unit = if wait == 1 { "second" } else { "seconds" };
    format!(r#"{{"detail":"Request was throttled. Expected available in {wait} {unit}."}}"#)
}

/// Every throttling backend available here: (database, AUTHBRIDGE_LOGIN_THROTTLE, REDIS_URL).
fn throttle_backends() -> Vec<(&'static str, &'static str, Option<String>)> {
    let mut v = vec![("sqlite", "memory", None), ("sqlite", "database", None)];
    if support::backends().contains(&"postgres") {
        v.push(("postgres", "database", None));
        v.push(("postgres", "memory", None));
    }
    if let Ok(url) = std::env::var("TEST_REDIS_URL") {
        if !url.is_empty() {
            v.push(("sqlite", "redis", Some(url)));
        }
    }
    v
}

/// A username no earlier run can have counted (Redis outlives the test).
fn fresh(name: &str) -> String {
    format!("{name}_{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_wrong_passwords_lock_at_exactly_n() {
    for (db, throttle, redis) in throttle_backends() {
        let mut overrides = vec![
            FAST_HASHER,
            ("AUTHBRIDGE_LOGIN_THROTTLE", throttle),
            ("AUTHBRIDGE_LOGIN_FAILURES", "5"),
            ("AUTHBRIDGE_LOGIN_LOCKOUT", "900"),
            ("AUTHBRIDGE_LOGIN_ADDRESS_FAILURES", "1000"),
        ];
        if let Some(url) = redis.as_deref() {
            overrides.push(("REDIS_URL", url));
        }
        let server = Server::start(db, &overrides).await;
        assert_eq!(server.app.state.limiter.backend_name(), throttle);
        let user = fresh("alice");
        server.create_user(&user, "right-password").await;

        let server = Arc::new(server);
        let attempts = (0..50).map(|i| {
            let (server, user) = (server.clone(), user.clone());
            tokio::spawn(async move {
                status_body_retry(
                    server
                        .login_from(server.a, &user, &format!("wrong-{i}"))
                        .await,
                )
            })
        });
        let mut refused = 0;
        let mut locked = 0;
        for attempt in futures_util::future::join_all(attempts).await {
            let (status, body, retry) = attempt.expect("task");
            match status {
                401 => {
                    assert_eq!(body, NO_ACCOUNT);
                    refused += 1;
                }
                429 => {
                    assert_eq!(body, throttled(900), "{db}/{throttle}");
                    assert_eq!(retry.as_deref(), Some("900"));
                    locked += 1;
                }
                other => panic!("{db}/{throttle}: unexpected {other} {body}"),
            }
        }
        assert_eq!((refused, locked), (5, 45), "{db}/{throttle}");
        assert_eq!(
            server
                .counted(Scope::UsernameAddress, &user, server.a)
                .await,
            50,
            "{db}/{throttle}"
        );
        assert_eq!(
            server.counted(Scope::Address, &user, server.a).await,
            50,
            "{db}/{throttle}"
        );

        // The right password is refused too while locked (without hashing), from that address...
        let (status, body, _) =
            status_body_retry(server.login_from(server.a, &user, "right-password").await);
        assert_eq!((status, body), (429, throttled(900)), "{db}/{throttle}");
        // ...but the owner, from an address that has not failed, still signs in.
        let res = server.login_from(server.b, &user, "right-password").await;
        assert_eq!(res.status, 200, "{db}/{throttle}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_expires_on_the_clock() {
    for (db, throttle, redis) in throttle_backends() {
        let mut overrides = vec![
            FAST_HASHER,
            ("AUTHBRIDGE_LOGIN_THROTTLE", throttle),
            ("AUTHBRIDGE_LOGIN_FAILURES", "3"),
            ("AUTHBRIDGE_LOGIN_LOCKOUT", "60"),
        ];
        if let Some(url) = redis.as_deref() {
            overrides.push(("REDIS_URL", url));
        }
        let server = Server::start(db, &overrides).await;
        let user = fresh("bob");
        server.create_user(&user, "right-password").await;
        for _ in 0..3 {
            let res = server.login_from(server.a, &user, "wrong").await;
            assert_eq!(res.status, 401, "{db}/{throttle}");
        }
        let (status, body, retry) =
            status_body_retry(server.login_from(server.a, &user, "right-password").await);
        assert_eq!((status, body.as_str()), (429, throttled(60).as_str()));
        assert_eq!(retry.as_deref(), Some("60"));

        server
            .app
            .clock
            .advance(chrono::Duration::milliseconds(59_500));
        let (status, body, retry) =
            status_body_retry(server.login_from(server.a, &user, "right-password").await);
        assert_eq!((status, body.as_str()), (429, throttled(1).as_str()));
        assert_eq!(retry.as_deref(), Some("1"));

        server
            .app
            .clock
            .advance(chrono::Duration::milliseconds(500));
        let res = server.login_from(server.a, &user, "right-password").await;
        assert_eq!(res.status, 200, "{db}/{throttle}: unlocked after 60 s");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_login_resets_the_account_counter_but_not_the_address_one() {
    for (db, throttle, redis) in throttle_backends() {
        let mut overrides = vec![
            FAST_HASHER,
            ("AUTHBRIDGE_LOGIN_THROTTLE", throttle),
            ("AUTHBRIDGE_LOGIN_FAILURES", "3"),
            ("AUTHBRIDGE_LOGIN_ADDRESS_FAILURES", "5"),
        ];
        if let Some(url) = redis.as_deref() {
            overrides.push(("REDIS_URL", url));
        }
        let server = Server::start(db, &overrides).await;
        let user = fresh("carol");
        server.create_user(&user, "right-password").await;
        for round in 0..2 {
            for _ in 0..2 {
                let res = server.login_from(server.a, &user, "wrong").await;
                assert_eq!(res.status, 401, "{db}/{throttle} round {round}");
            }
            let res = server.login_from(server.a, &user, "right-password").await;
            assert_eq!(res.status, 200, "{db}/{throttle} round {round}");
            assert_eq!(
                server
                    .counted(Scope::UsernameAddress, &user, server.a)
                    .await,
                0
            );
        }
        // The address kept its 4 failures (an attacker's own account cannot wash them away):
        // one more is judged, the next is throttled, whoever it names.
        assert_eq!(server.counted(Scope::Address, &user, server.a).await, 4);
        let res = server.login_from(server.a, &fresh("nobody"), "x").await;
        assert_eq!(res.status, 401);
        let (status, body, _) =
            status_body_retry(server.login_from(server.a, &fresh("nobody"), "x").await);
        assert_eq!((status, body), (429, throttled(900)), "{db}/{throttle}");
        // Another address is not affected.
        let res = server.login_from(server.b, &user, "right-password").await;
        assert_eq!(res.status, 200, "{db}/{throttle}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_optional_username_limit_locks_the_username_from_every_address() {
    let server = Server::start(
        "sqlite",
        &[
            FAST_HASHER,
            ("AUTHBRIDGE_LOGIN_THROTTLE", "database"),
            ("AUTHBRIDGE_LOGIN_USERNAME_FAILURES", "2"),
        ],
    )
    .await;
    server.create_user("dave", "right-password").await;
    assert_eq!(
        server.login_from(server.a, "dave", "wrong").await.status,
        401
    );
    assert_eq!(
        server.login_from(server.b, "dave", "wrong").await.status,
        401
    );
    let res = server
        .login_from("203.0.113.5".parse().expect("ip"), "dave", "right-password")
        .await;
    assert_eq!(res.status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_client_address_are_counted_per_username() {
    let server = Server::start("sqlite", &[FAST_HASHER, ("AUTHBRIDGE_LOGIN_FAILURES", "2")]).await;
    server.create_user("erin", "right-password").await;
    let login = |password: &'static str| server.app.login_from(None, "erin", password);
    assert_eq!(login("wrong").await.status, 401);
    assert_eq!(login("wrong").await.status, 401);
    assert_eq!(login("right-password").await.status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_can_be_turned_off() {
    let server = Server::start(
        "sqlite",
        &[
            FAST_HASHER,
            ("AUTHBRIDGE_LOGIN_THROTTLE", "off"),
            ("AUTHBRIDGE_LOGIN_FAILURES", "1"),
        ],
    )
    .await;
    server.create_user("frank", "right-password").await;
    for _ in 0..5 {
        assert_eq!(
            server.login_from(server.a, "frank", "wrong").await.status,
            401
        );
    }
    assert!(server.app.state.limiter.backend().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_password_queue_answers_503_at_once_without_hashing() {
    // Django's default PBKDF2 (1,000,000 iterations): each hash takes a while, one at a time,
    // with one waiting place.
    let server = Server::start(
        "sqlite",
        &[
            (
                "PASSWORD_HASHERS",
                "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            ),
            ("AUTHBRIDGE_PASSWORD_WORKERS", "1"),
            ("AUTHBRIDGE_PASSWORD_QUEUE", "1"),
            ("AUTHBRIDGE_LOGIN_FAILURES", "1000"),
            ("AUTHBRIDGE_LOGIN_ADDRESS_FAILURES", "1000"),
        ],
    )
    .await;
    let server = Arc::new(server);
    let attempts = (0..20).map(|i| {
        let server = server.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let res = server
                .login_from(server.a, &format!("ghost{i}"), "wrong")
                .await;
            let answer = status_body_retry(res);
            (answer, started.elapsed())
        })
    });
    let mut unavailable = 0;
    let mut judged = 0;
    let mut slowest_judged = Duration::ZERO;
    let mut slowest_refusal = Duration::ZERO;
    for attempt in futures_util::future::join_all(attempts).await {
        let ((status, body, retry), took) = attempt.expect("task");
        match status {
            503 => {
                assert_eq!(
                    body,
                    r#"{"detail":"Too many logins in progress, try again later."}"#
                );
                assert_eq!(retry.as_deref(), Some("1"));
                unavailable += 1;
                slowest_refusal = slowest_refusal.max(took);
            }
            401 => {
                judged += 1;
                slowest_judged = slowest_judged.max(took);
            }
            other => panic!("unexpected {other} {body}"),
        }
    }
    assert_eq!(unavailable + judged, 20);
    assert!(unavailable >= 10, "{unavailable} refused, {judged} judged");
    assert!(
        slowest_refusal < slowest_judged,
        "a refusal waits for no hash: {slowest_refusal:?} vs {slowest_judged:?}"
    );
    // The refused attempts were taken back: they count against nobody.
    let counted = server.counted(Scope::Address, "", server.a).await;
    assert_eq!(counted, judged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_login_body_is_refused_before_it_is_counted_or_hashed() {
    let server = Server::start(
        "sqlite",
        &[
            FAST_HASHER,
            ("AUTHBRIDGE_LOGIN_FAILURES", "1"),
            ("AUTHBRIDGE_LOGIN_MAX_BODY_BYTES", "65536"),
        ],
    )
    .await;
    server.create_user("gina", "right-password").await;
    let body = |len: usize| json!({"username": "gina", "password": "x".repeat(len)}).to_string();
    let post = |path: &'static str, body: String| server.app.post_from(Some(server.a), path, body);
    for len in [65_536, 2_400_000] {
        let res = post("/api/token/", body(len)).await;
        let (status, text, _) = status_body_retry(res);
        assert_eq!(
            (status, text.as_str()),
            (413, r#"{"detail":"Request body too large."}"#)
        );
    }
    // Not counted (with a limit of 1, a counted failure would lock gina out), so not hashed.
    assert_eq!(
        server
            .counted(Scope::UsernameAddress, "gina", server.a)
            .await,
        0
    );
    // Just under the cap is a normal login attempt; other endpoints keep Django's 2.5 MB.
    let res = post("/api/token/", body(65_000)).await;
    assert_eq!(res.status, 401);
    let res = post(
        "/api/token/verify/",
        json!({"token": "x".repeat(100_000)}).to_string(),
    )
    .await;
    assert_eq!(res.status, 401);
}

/// The defaults do not get in the way of ordinary use: a dozen wrong passwords for different
/// users from one address, then the right ones, all answered as simplejwt would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_let_ordinary_mistakes_through() {
    let server = Server::start("sqlite", &[FAST_HASHER]).await;
    assert_eq!(server.app.state.limiter.backend_name(), "memory");
    for i in 0..12 {
        let name = format!("user{i}");
        server.create_user(&name, "right-password").await;
        assert_eq!(server.login_from(server.a, &name, "typo").await.status, 401);
        assert_eq!(
            server
                .login_from(server.a, &name, "right-password")
                .await
                .status,
            200
        );
    }
}

/// One audit line per login outcome, with username and client address, never the password. The
/// real binary, so what is checked is what an operator's log shows at the default level.
#[tokio::test]
async fn every_login_outcome_is_an_audit_event_without_the_password() {
    let db = TestDb::new("sqlite").await;
    seed_user(&db, &[FAST_HASHER], "hank", "Right-Secret-1").await;
    let (child, addr) = spawn_binary(&[
        ("DATABASE_URL", &db.url),
        ("DJANGO_SECRET_KEY", support::SECRET),
        (FAST_HASHER.0, FAST_HASHER.1),
        ("AUTHBRIDGE_LOGIN_FAILURES", "2"),
        ("AUTHBRIDGE_LOGIN_ADDRESS_FAILURES", "4"),
    ]);
    let client = Client::new();
    let mut statuses = Vec::new();
    for (username, password) in [
        ("hank", "Right-Secret-1"),
        ("hank", "Wrong-Secret-2"),
        ("nobody", "Wrong-Secret-3"),
        ("hank", "Wrong-Secret-4"),
        ("hank", "Right-Secret-1"),
        ("other", "Wrong-Secret-5"),
    ] {
        let res = client
            .post(format!("http://{addr}/api/token/"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login");
        statuses.push(res.status().as_u16());
    }
    let text = stop_and_read_stderr(child);
    assert_eq!(statuses, [200, 401, 401, 401, 429, 429], "{text}");
    let audit: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("authbridge::audit") && l.contains("event=\"login_"))
        .collect();
    let expect = [
        ("login_ok", "hank"),
        ("login_failed", "hank"),
        ("login_failed", "nobody"),
        ("login_failed", "hank"),
        ("login_locked", "hank"),
        ("login_throttled", "other"),
    ];
    assert_eq!(audit.len(), expect.len(), "{text}");
    for (line, (event, username)) in audit.iter().zip(expect) {
        assert!(line.contains(&format!("event=\"{event}\"")), "{line}");
        assert!(line.contains(&format!("username=\"{username}\"")), "{line}");
        assert!(line.contains("client=127.0.0.1"), "{line}");
    }
    assert!(audit[1].contains("reason=\"bad_password\""), "{}", audit[1]);
    assert!(audit[2].contains("reason=\"unknown_user\""), "{}", audit[2]);
    assert!(!text.contains("Secret-"), "a password was logged:\n{text}");
}
