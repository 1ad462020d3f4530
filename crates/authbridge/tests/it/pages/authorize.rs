//! `/oauth2/authorize` and `/consent`: error page versus redirect, the login round trip, consent
//! for third-party clients only, `prompt=none` and `prompt=login`, the code as stored.

use authbridge::clock::Clock;
use authbridge::model::CodeHash;

use super::{assert_page_headers, csrf_token, hidden_field, location, provider, query_of};
use super::{Browser, ISSUER, PASSWORD};
use crate::support::backends;

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn authorize_url(pairs: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/oauth2/authorize?{query}")
}

/// `base` with `changes` applied: a new value replaces the old one, `""` removes the parameter.
fn with<'a>(mut pairs: Vec<(&'a str, &'a str)>, changes: &[(&'a str, &'a str)]) -> String {
    for (k, v) in changes {
        pairs.retain(|(name, _)| name != k);
        if !v.is_empty() {
            pairs.push((k, v));
        }
    }
    authorize_url(&pairs)
}

fn third<'a>(changes: &[(&'a str, &'a str)]) -> String {
    let pairs = vec![
        ("client_id", "third"),
        ("redirect_uri", "https://app.test/cb"),
        ("response_type", "code"),
        ("scope", "openid email"),
        ("state", "st-1"),
        ("nonce", "n-1"),
    ];
    with(pairs, changes)
}

fn first<'a>(changes: &[(&'a str, &'a str)]) -> String {
    let pairs = vec![
        ("client_id", "first"),
        ("redirect_uri", "https://first.test/cb"),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "st-2"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    with(pairs, changes)
}

#[tokio::test]
async fn requests_that_cannot_be_trusted_get_a_page_never_a_redirect() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let mut browser = Browser::new(&app);
        let base = |client: &str, uri: &str| {
            authorize_url(&[
                ("client_id", client),
                ("redirect_uri", uri),
                ("response_type", "code"),
                ("scope", "openid"),
            ])
        };
        for url in [
            base("nobody", "https://app.test/cb"),
            base("third", "https://app.test/cb/"),
            base("third", "https://app.test/cb?x=1"),
            base("third", "https://app.test/cb#"),
            base("third", "https://app.test:444/cb"),
            base("third", "http://127.0.0.1:3001/cb"),
            base("third", "https://evil.test/cb"),
            authorize_url(&[("client_id", "third"), ("response_type", "code")]),
            "/oauth2/authorize".to_string(),
        ] {
            let reply = browser.get(&url).await;
            assert_eq!(reply.status, 400, "{backend} {url}");
            assert!(reply.header("location").is_none(), "{url}");
            assert_page_headers(&reply);
            assert!(
                reply.body.contains("<h1>Invalid sign-in request</h1>"),
                "{url}"
            );
        }
    }
}

#[tokio::test]
async fn later_errors_go_back_to_the_client_with_state_and_iss() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let mut browser = Browser::new(&app);
        let cases = [
            (
                third(&[("response_type", "token")]),
                "https://app.test/cb",
                "unsupported_response_type",
            ),
            (
                first(&[("code_challenge", ""), ("code_challenge_method", "")]),
                "https://first.test/cb",
                "invalid_request",
            ),
            (
                first(&[("code_challenge_method", "plain")]),
                "https://first.test/cb",
                "invalid_request",
            ),
            (
                third(&[("scope", "email")]),
                "https://app.test/cb",
                "invalid_scope",
            ),
            (
                third(&[("prompt", "none")]),
                "https://app.test/cb",
                "login_required",
            ),
        ];
        for (url, target, error) in cases {
            let reply = browser.get(&url).await;
            assert_eq!(reply.status, 303, "{backend} {url}: {reply:?}");
            let to = location(&reply);
            assert!(to.starts_with(&format!("{target}?")), "{to}");
            let q = query_of(to);
            assert_eq!(
                q.get("error").map(String::as_str),
                Some(error),
                "{url}: {to}"
            );
            assert_eq!(q["iss"], ISSUER);
            assert!(q.contains_key("state"), "{to}");
            assert!(!q.contains_key("code"));
        }
    }
}

#[tokio::test]
async fn authorize_login_and_back_with_a_code() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let mut browser = Browser::new(&app);
        let start = first(&[("nonce", "n-2")]);
        let to_login = browser.get(&start).await;
        assert_eq!(to_login.status, 303, "{backend}");
        let login_url = location(&to_login).to_string();
        assert!(
            login_url.starts_with("/login?next=%2Foauth2%2Fauthorize%3F"),
            "{login_url}"
        );
        let next = query_of(&login_url)["next"].clone();
        assert!(next.contains("authbridge_requested_at="), "{next}");

        let page = browser.get(&login_url).await;
        assert_eq!(
            hidden_field(&page.body, "next").as_deref(),
            Some(next.as_str())
        );
        let token = csrf_token(&page.body);
        let posted = browser
            .post(
                "/login",
                &[
                    ("csrf_token", &token),
                    ("username", "alice"),
                    ("password", PASSWORD),
                    ("next", &next),
                ],
            )
            .await;
        assert_eq!(posted.status, 303);
        assert_eq!(location(&posted), next);

        // First party: no consent screen.
        let done = browser.get(&next).await;
        assert_eq!(done.status, 303, "{done:?}");
        let to = location(&done);
        assert!(to.starts_with("https://first.test/cb?code="), "{to}");
        let q = query_of(to);
        assert_eq!(q["state"], "st-2");
        assert_eq!(q["iss"], ISSUER);

        let stored = app
            .state
            .store
            .redeem_code(CodeHash::of(&q["code"]), app.clock.now())
            .await
            .expect("redeem")
            .expect("the code is stored by its hash");
        assert_eq!(stored.record.client_id, "first");
        assert_eq!(stored.record.redirect_uri, "https://first.test/cb");
        assert_eq!(stored.record.nonce.as_deref(), Some("n-2"));
        assert_eq!(stored.record.scope.as_string(), "openid profile");
        assert!(stored.record.code_challenge.is_some());
        assert!(!stored.already_used());

        // Signed in: the next request gets its code at once; prompt=none too.
        for url in [first(&[]), first(&[("prompt", "none")])] {
            let again = browser.get(&url).await;
            assert!(
                location(&again).starts_with("https://first.test/cb?code="),
                "{url}"
            );
        }
        // prompt=login asks for the password again, even when the request itself comes back
        // without one, then issues.
        app.clock.advance(chrono::Duration::milliseconds(1));
        let forced = browser.get(&first(&[("prompt", "login")])).await;
        let login_url = location(&forced).to_string();
        assert!(login_url.starts_with("/login?"), "{login_url}");
        let next = query_of(&login_url)["next"].clone();
        let skipped = browser.get(&next).await;
        assert!(location(&skipped).starts_with("/login?"), "{skipped:?}");
        app.clock.advance(chrono::Duration::seconds(1));
        let posted = browser.login("alice", PASSWORD, Some(&next)).await;
        let back = browser.get(location(&posted)).await;
        assert!(
            location(&back).starts_with("https://first.test/cb?code="),
            "{back:?}"
        );
    }
}

#[tokio::test]
async fn a_third_party_client_asks_for_consent_once() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let mut browser = Browser::new(&app);
        browser.login("alice", PASSWORD, None).await;
        let url = third(&[]);
        let to_consent = browser.get(&url).await;
        let consent_url = location(&to_consent).to_string();
        assert!(
            consent_url.starts_with("/consent?"),
            "{backend}: {consent_url}"
        );

        let page = browser.get(&consent_url).await;
        assert_eq!(page.status, 200);
        assert_page_headers(&page);
        assert!(page
            .body
            .contains("<h1>Allow Third App to sign you in?</h1>"));
        assert!(page.body.contains("See your email address"));
        assert!(page.body.contains("Signed in as alice"));
        assert!(
            page.body.contains("id=\"consent-allow\"") && page.body.contains("id=\"consent-deny\"")
        );
        let token = csrf_token(&page.body);
        let request = hidden_field(&page.body, "request").expect("request field");

        let denied = browser
            .post(
                "/consent",
                &[
                    ("csrf_token", &token),
                    ("request", &request),
                    ("decision", "deny"),
                ],
            )
            .await;
        let q = query_of(location(&denied));
        assert_eq!(q["error"], "access_denied");
        assert_eq!(q["state"], "st-1");
        assert_eq!(q["iss"], ISSUER);

        // prompt=none before consent: consent_required.
        let silent = browser.get(&third(&[("prompt", "none")])).await;
        assert_eq!(query_of(location(&silent))["error"], "consent_required");

        let allowed = browser
            .post(
                "/consent",
                &[
                    ("csrf_token", &token),
                    ("request", &request),
                    ("decision", "allow"),
                ],
            )
            .await;
        let to = location(&allowed);
        assert!(to.starts_with("https://app.test/cb?code="), "{to}");
        assert_eq!(query_of(to)["state"], "st-1");

        // Remembered: no screen the second time.
        let again = browser.get(&url).await;
        assert!(location(&again).starts_with("https://app.test/cb?code="));
        // A wider scope asks again.
        let wider = browser
            .get(&third(&[("scope", "openid email profile")]))
            .await;
        assert!(location(&wider).starts_with("/consent?"));
    }
}

#[tokio::test]
async fn max_age_and_a_forged_stamp_ask_for_the_password_again() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let mut browser = Browser::new(&app);
        browser.login("alice", PASSWORD, None).await;
        app.clock.advance(chrono::Duration::seconds(120));
        let fresh_enough = browser.get(&first(&[("max_age", "300")])).await;
        assert!(
            location(&fresh_enough).starts_with("https://first.test/cb?code="),
            "{backend}"
        );
        let too_old = browser.get(&first(&[("max_age", "60")])).await;
        let login_url = location(&too_old).to_string();
        assert!(login_url.starts_with("/login?"), "{login_url}");

        // A stamp we did not sign (claiming the request is older than the login) is ignored.
        let forged = first(&[("max_age", "60"), ("authbridge_requested_at", "1000.00ff")]);
        assert!(location(&browser.get(&forged).await).starts_with("/login?"));

        // After the password, the same request (with our stamp) issues at once.
        let next = query_of(&login_url)["next"].clone();
        app.clock.advance(chrono::Duration::seconds(5));
        let posted = browser.login("alice", PASSWORD, Some(&next)).await;
        let back = browser.get(location(&posted)).await;
        assert!(
            location(&back).starts_with("https://first.test/cb?code="),
            "{back:?}"
        );
    }
}

#[tokio::test]
async fn the_form_post_variant_and_escaping() {
    let app = provider("sqlite", &[]).await;
    let mut browser = Browser::new(&app);
    browser.login("alice", PASSWORD, None).await;
    let reply = browser
        .post(
            "/oauth2/authorize",
            &[
                ("client_id", "first"),
                ("redirect_uri", "https://first.test/cb"),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "<b>&\""),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    assert_eq!(reply.status, 303);
    let to = location(&reply);
    assert!(to.starts_with("https://first.test/cb?code="), "{to}");
    assert_eq!(query_of(to)["state"], "<b>&\"");

    let mut stranger = Browser::new(&app);
    let page = stranger.login("<script>alert(1)</script>", "x", None).await;
    assert!(!page.body.contains("<script>"));
    assert!(page
        .body
        .contains("value=\"&#60;script&#62;alert(1)&#60;/script&#62;\""));
}
