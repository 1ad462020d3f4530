//! `/logout` and `/oauth2/logout` (end_session): a confirm page unless a valid hint names the
//! signed-in user, the session ended, post-logout redirects only to registered URIs.

use authbridge::clock::Clock;
use authbridge::oidc::keys::SigningAlg;
use serde_json::json;

use super::PASSWORD;
use super::{assert_page_headers, csrf_token, hidden_field, location, provider, Browser, ISSUER};
use crate::support::backends;
use crate::support::in_process::InProcess;

/// An ID token for `sub` and the `third` client, signed with the provider's RS256 key.
fn id_token(app: &InProcess, sub: i64) -> String {
    let now = app.clock.now();
    let keys = app.state.oidc.as_ref().expect("provider on").keys();
    let claims = json!({
        "iss": ISSUER, "sub": sub.to_string(), "aud": "third",
        "iat": now.timestamp(), "exp": now.timestamp() + 300,
    });
    keys.signer(SigningAlg::RS256, now)
        .expect("an RS256 key")
        .sign(claims.as_object().expect("object"))
        .expect("signed")
}

async fn signed_in(app: &InProcess) -> Browser<'_> {
    let mut browser = Browser::new(app);
    let reply = browser.login("alice", PASSWORD, None).await;
    assert_eq!(reply.status, 200);
    assert!(browser.jar.contains_key("authbridge_session"));
    browser
}

/// Whether the browser's session still signs it in (a first-party authorize issues a code).
async fn still_signed_in(browser: &mut Browser<'_>) -> bool {
    let url = "/oauth2/authorize?client_id=third&redirect_uri=https%3A%2F%2Fapp.test%2Fcb&response_type=code&scope=openid&prompt=none";
    let reply = browser.get(url).await;
    !location(&reply).contains("error=login_required")
}

#[tokio::test]
async fn logout_asks_then_ends_the_session() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let mut browser = signed_in(&app).await;
        let saved = browser.jar.clone();
        let page = browser.get("/logout").await;
        assert_eq!(page.status, 200, "{backend}");
        assert_page_headers(&page);
        assert!(page.body.contains("<h1>Sign out?</h1>"));
        assert!(page.body.contains("action=\"/logout\""));
        assert!(page.body.contains("id=\"logout-confirm\""));
        assert!(
            still_signed_in(&mut browser).await,
            "a GET signs nobody out"
        );

        let token = csrf_token(&page.body);
        let done = browser.post("/logout", &[("csrf_token", &token)]).await;
        assert_eq!(done.status, 200);
        assert!(done.body.contains("You are signed out"));
        let cleared = crate::support::headers::set_cookie_for(&done.headers, "authbridge_session")
            .expect("cleared")
            .0;
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        assert!(!still_signed_in(&mut browser).await);
        // The old cookie is dead on the server too.
        browser.jar = saved;
        assert!(!still_signed_in(&mut browser).await);
    }
}

#[tokio::test]
async fn end_session_with_a_valid_hint_redirects_to_a_registered_uri_only() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let alice = app
            .state
            .store
            .user_by_username("alice")
            .await
            .unwrap()
            .unwrap()
            .id;
        let mut browser = signed_in(&app).await;
        let hint = id_token(&app, alice);
        let url = |uri: &str| {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("id_token_hint", &hint)
                .append_pair("post_logout_redirect_uri", uri)
                .append_pair("state", "s 1")
                .finish();
            format!("/oauth2/logout?{q}")
        };
        for unregistered in [
            "https://app.test/bye/",
            "https://evil.test/bye",
            "//evil.test",
        ] {
            let reply = browser.get(&url(unregistered)).await;
            assert_eq!(reply.status, 400, "{backend} {unregistered}");
            assert!(reply.header("location").is_none());
            assert_page_headers(&reply);
            assert!(still_signed_in(&mut browser).await);
        }
        let reply = browser.get(&url("https://app.test/bye")).await;
        assert_eq!(reply.status, 303, "{reply:?}");
        assert_eq!(location(&reply), "https://app.test/bye?state=s+1");
        assert!(!still_signed_in(&mut browser).await);

        // A hint we did not sign is refused.
        let forged = format!("{}x", &hint[..hint.len() - 1]);
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("id_token_hint", &forged)
            .finish();
        assert_eq!(
            browser.get(&format!("/oauth2/logout?{q}")).await.status,
            400
        );
    }
}

#[tokio::test]
async fn end_session_without_a_hint_asks_first() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let mut browser = signed_in(&app).await;
        let url = "/oauth2/logout?client_id=third&post_logout_redirect_uri=https%3A%2F%2Fapp.test%2Fbye&state=xyz";
        let page = browser.get(url).await;
        assert_eq!(page.status, 200, "{backend}");
        assert!(page.body.contains("<h1>Sign out?</h1>"));
        assert!(page.body.contains("action=\"/oauth2/logout\""));
        assert!(page.body.contains("leaving Third App"));
        assert!(still_signed_in(&mut browser).await);
        let token = csrf_token(&page.body);
        let mut form = vec![("csrf_token", token.clone())];
        for name in ["client_id", "post_logout_redirect_uri", "state", "confirm"] {
            form.push((name, hidden_field(&page.body, name).expect(name)));
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let done = browser.post("/oauth2/logout", &form).await;
        assert_eq!(done.status, 303, "{done:?}");
        assert_eq!(location(&done), "https://app.test/bye?state=xyz");
        assert!(!still_signed_in(&mut browser).await);

        // Nobody signed in: nothing to confirm; an unregistered URI is still refused.
        let mut anonymous = Browser::new(&app);
        let bye = anonymous.get(url).await;
        assert_eq!(location(&bye), "https://app.test/bye?state=xyz");
        let evil = anonymous
            .get("/oauth2/logout?client_id=third&post_logout_redirect_uri=https%3A%2F%2Fevil.test")
            .await;
        assert_eq!(evil.status, 400);
        assert!(evil.header("location").is_none());
        let plain = anonymous.get("/oauth2/logout").await;
        assert_eq!(plain.status, 200);
        assert!(plain.body.contains("You are signed out"));
    }
}

#[tokio::test]
async fn logout_everywhere_and_a_password_change_end_the_session() {
    for backend in backends() {
        let app = provider(backend, &[]).await;
        let alice = app
            .state
            .store
            .user_by_username("alice")
            .await
            .unwrap()
            .unwrap();
        let mut browser = signed_in(&app).await;
        assert!(still_signed_in(&mut browser).await, "{backend}");
        app.clock.advance(chrono::Duration::seconds(2));
        app.state
            .flows()
            .logout_all(&alice, "192.0.2.1".parse().unwrap())
            .await
            .unwrap();
        assert!(
            !still_signed_in(&mut browser).await,
            "{backend}: logout-everywhere"
        );

        app.clock.advance(chrono::Duration::seconds(2));
        let mut browser = signed_in(&app).await;
        assert!(still_signed_in(&mut browser).await);
        // Django changes the password behind our back.
        app.state
            .store
            .set_password(alice.id, "md5$salt$0123456789abcdef0123456789abcdef")
            .await
            .unwrap();
        assert!(
            !still_signed_in(&mut browser).await,
            "{backend}: password changed"
        );
    }
}
