//! `/login`: the form, one message for every refusal, throttling, the session cookie, `next`
//! without open redirects, CSRF.

use super::{assert_page_headers, csrf_token, location, provider, Browser, PASSWORD};
use crate::support::backends;

const REFUSED: &str = "Your username or password is incorrect.";

/// The alert's text (what a screen reader announces).
fn alert(html: &str) -> Option<&str> {
    let start = html.find("role=\"alert\"")?;
    let text = &html[start..];
    let open = text.find('>')? + 1;
    let close = text.find("</div>")?;
    Some(&text[open..close])
}

#[tokio::test]
async fn the_form_has_its_csrf_field_labels_and_headers() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let mut browser = Browser::new(&app);
        let page = browser
            .get("/login?next=/oauth2/authorize%3Fclient_id%3Dthird")
            .await;
        assert_eq!(page.status, 200, "{backend}");
        assert_page_headers(&page);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let html = &page.body;
        assert!(html.contains("<html lang=\"en\">"));
        assert_eq!(csrf_token(html).len(), 64);
        assert!(html.contains("<label for=\"username\">Username</label>"));
        assert!(html.contains("<input id=\"username\" name=\"username\""));
        assert!(html.contains("<label for=\"password\">Password</label>"));
        assert!(html.contains("id=\"password\" name=\"password\" type=\"password\""));
        assert!(html.contains("autocomplete=\"current-password\""));
        assert!(
            html.contains("to continue to Third App"),
            "the client is named"
        );
        assert!(!html.contains("<script") && !html.contains("style="));
        assert!(alert(html).is_none(), "no error before a try");
        let cookie = page.header("set-cookie").expect("the CSRF cookie");
        assert!(cookie.starts_with("authbridge_csrf="), "{cookie}");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert!(
            cookie.contains("Path=/") && !cookie.contains("Secure"),
            "{cookie}"
        );

        // The same browser keeps its secret: no new cookie, a token for the same secret.
        let again = browser.get("/login").await;
        assert!(again.header("set-cookie").is_none());
        assert_eq!(csrf_token(&again.body), csrf_token(html));

        let css = browser.get("/static/authbridge.css").await;
        assert_eq!(css.status, 200);
        assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
        assert!(css.body.starts_with(":root{--brand:#2f5bd3;"));
        assert!(css.body.contains("prefers-color-scheme: dark"));
    }
}

#[tokio::test]
async fn wrong_password_unknown_and_inactive_users_read_the_same() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        app.create_user("bob", PASSWORD, false).await;
        let mut browser = Browser::new(&app);
        for (user, password) in [("alice", "wrong"), ("nobody", PASSWORD), ("bob", PASSWORD)] {
            let reply = browser.login(user, password, None).await;
            assert_eq!(reply.status, 200, "{backend} {user}");
            assert_page_headers(&reply);
            assert_eq!(alert(&reply.body), Some(REFUSED), "{user}");
            assert!(reply.body.contains("id=\"login-error\""));
            assert_eq!(reply.body.matches("aria-invalid=\"true\"").count(), 2);
            assert_eq!(
                reply
                    .body
                    .matches("aria-describedby=\"login-error\"")
                    .count(),
                2
            );
            assert!(reply.body.contains(&format!("value=\"{user}\"")), "kept");
            assert!(
                !reply.body.contains("value=\"wrong\""),
                "the password is not echoed"
            );
            assert!(!browser.jar.contains_key("authbridge_session"));
        }
    }
}

#[tokio::test]
async fn failures_are_throttled_like_the_token_api() {
    for backend in backends() {
        let app = provider(backend, &[("AUTHBRIDGE_LOGIN_FAILURES", "2")]).await;
        let mut browser = Browser::new(&app);
        for _ in 0..2 {
            assert_eq!(browser.login("alice", "wrong", None).await.status, 200);
        }
        let locked = browser.login("alice", PASSWORD, None).await;
        assert_eq!(locked.status, 429, "{backend}");
        assert_page_headers(&locked);
        let message = alert(&locked.body).expect("announced");
        assert!(
            message.starts_with("Too many failed attempts. Try again in "),
            "{message}"
        );
        assert!(locked.header("retry-after").is_some());
        assert!(!browser.jar.contains_key("authbridge_session"));
    }
}

#[tokio::test]
async fn success_sets_the_session_cookie_and_follows_a_local_next_only() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let mut browser = Browser::new(&app);
        let next = "/oauth2/authorize?client_id=first&x=1";
        let reply = browser.login("alice", PASSWORD, Some(next)).await;
        assert_eq!(reply.status, 303, "{backend}: {reply:?}");
        assert_eq!(location(&reply), next);
        let cookie = crate::support::headers::set_cookie_for(&reply.headers, "authbridge_session")
            .expect("session cookie")
            .0;
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1209600"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(
            !cookie.contains("Secure") && !cookie.contains("Domain"),
            "{cookie}"
        );
        let id = &browser.jar["authbridge_session"];
        assert!(id.len() >= 43, "256 bits");

        for evil in [
            "https://evil.test",
            "//evil.test",
            "/\\evil.test",
            "javascript:alert(1)",
        ] {
            let mut other = Browser::new(&app);
            let reply = other.login("alice", PASSWORD, Some(evil)).await;
            assert_eq!(reply.status, 200, "{evil}");
            assert!(reply.header("location").is_none(), "{evil}");
            assert!(reply.body.contains("You are signed in"));
            assert!(other.jar.contains_key("authbridge_session"));
        }
    }
}

#[tokio::test]
async fn on_https_cookies_are_host_prefixed_and_secure() {
    let app = provider(
        "sqlite",
        &[("AUTHBRIDGE_OIDC_ISSUER", "https://auth.example.test")],
    )
    .await;
    let mut browser = Browser::new(&app);
    let reply = browser.login("alice", PASSWORD, Some("/consent")).await;
    assert_eq!(reply.status, 303, "{reply:?}");
    let (cookie, _) =
        crate::support::headers::set_cookie_for(&reply.headers, "__Host-authbridge_session")
            .expect("__Host- session cookie");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(browser.jar.contains_key("__Host-authbridge_csrf"));
}

#[tokio::test]
async fn forms_without_the_right_token_are_refused() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let mut browser = Browser::new(&app);
        let mut other = Browser::new(&app);
        browser.get("/login").await;
        let foreign = csrf_token(&other.get("/login").await.body);
        for token in [None, Some(""), Some("00"), Some(foreign.as_str())] {
            let mut form = vec![("username", "alice"), ("password", PASSWORD)];
            if let Some(t) = token {
                form.push(("csrf_token", t));
            }
            let reply = browser.post("/login", &form).await;
            assert_eq!(reply.status, 403, "{backend} {token:?}");
            assert_page_headers(&reply);
            assert!(reply.body.contains("This form has expired"));
            assert!(
                reply.body.contains("/static/authbridge.css"),
                "branded error page"
            );
            assert!(!browser.jar.contains_key("authbridge_session"));
        }
        for path in ["/logout", "/consent", "/oauth2/logout"] {
            let reply = browser
                .post(path, &[("csrf_token", &foreign), ("confirm", "yes")])
                .await;
            assert_eq!(reply.status, 403, "{path}");
        }
    }
}

/// The login page takes bodies no larger than the token API's login (64 KiB by default): a
/// login flood cannot make the server hold megabytes per request through the page either.
#[tokio::test]
async fn the_login_form_has_the_login_body_cap() {
    let app = provider("sqlite", &[]).await;
    let mut browser = Browser::new(&app);
    let token = csrf_token(&browser.get("/login").await.body);
    let huge = "x".repeat(100 * 1024);
    let reply = browser
        .post(
            "/login",
            &[
                ("csrf_token", &token),
                ("username", "alice"),
                ("password", &huge),
            ],
        )
        .await;
    assert_eq!(reply.status, 413);
    assert!(!browser.jar.contains_key("authbridge_session"));
}

#[tokio::test]
async fn the_pages_are_not_served_when_the_provider_is_off() {
    let app = crate::support::in_process::InProcess::start("sqlite", &[]).await;
    let mut browser = Browser::new(&app);
    for path in [
        "/login",
        "/consent",
        "/logout",
        "/oauth2/authorize",
        "/static/authbridge.css",
    ] {
        assert_eq!(browser.get(path).await.status, 404, "{path}");
    }
}

#[tokio::test]
async fn branding_names_the_product_shows_the_logo_and_colours_the_sheet() {
    let app = provider(
        "sqlite",
        &[
            ("AUTHBRIDGE_BRANDING_PRODUCT_NAME", "Acme <Accounts>"),
            (
                "AUTHBRIDGE_BRANDING_LOGO_URL",
                "https://cdn.acme.test/logo.svg",
            ),
            ("AUTHBRIDGE_BRANDING_PRIMARY_COLOR", "#FFD700"),
        ],
    )
    .await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/login").await;
    assert!(page
        .body
        .contains("<title>Sign in · Acme &#60;Accounts&#62;</title>"));
    assert!(page
        .body
        .contains("<img src=\"https://cdn.acme.test/logo.svg\" alt=\"Acme"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("img-src 'self' https://cdn.acme.test;"),
        "{csp}"
    );
    let sheet = page
        .body
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .unwrap();
    let sheet = &sheet[..sheet.find('"').unwrap()];
    assert!(sheet.starts_with("/static/authbridge.css?v="), "{sheet}");
    let css = browser.get(&sheet.replace("&#38;", "&")).await;
    assert!(css
        .body
        .starts_with(":root{--brand:#ffd700;--on-brand:#111111;}"));
}
