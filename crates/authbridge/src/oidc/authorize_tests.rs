#![allow(clippy::unwrap_used)]

use chrono::TimeZone;

use super::*;
use crate::oidc::client::{ClientAuth, RedirectUri, SecretHash};

const REDIRECT: &str = "https://app.test/api/auth/callback/authbridge";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn client(public: bool) -> Client {
    Client {
        client_id: "app".into(),
        name: "App".into(),
        auth: if public {
            ClientAuth::Public
        } else {
            ClientAuth::Secret(SecretHash::of("s"))
        },
        redirect_uris: vec![
            RedirectUri::parse(REDIRECT).unwrap(),
            RedirectUri::parse("https://app.test/cb?tenant=a").unwrap(),
        ],
        post_logout_redirect_uris: vec![],
        first_party: false,
        id_token_alg: None,
    }
}

/// Auth.js v5's request with `checks: ["pkce", "state", "nonce"]`, plus or minus parameters.
fn params(changes: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
    let mut base: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", "app"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile email"),
        ("state", "st"),
        ("nonce", "no"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in changes {
        base.retain(|(name, _)| name != k);
        if let Some(v) = v {
            base.push((k.to_string(), v.to_string()));
        }
    }
    base
}

fn redirect_error(p: &[(String, String)], c: &Client) -> (ErrorCode, Option<String>) {
    match validate(p, Some(c)) {
        Err(AuthorizeError::Redirect(e)) => {
            assert_eq!(e.redirect_uri, REDIRECT);
            (e.error, e.state)
        }
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

#[test]
fn auth_js_requests_are_valid() {
    let r = validate(&params(&[]), Some(&client(true))).unwrap();
    assert_eq!(r.client_id, "app");
    assert_eq!(r.redirect_uri, REDIRECT);
    assert_eq!(r.scope.as_string(), "openid profile email");
    assert_eq!(
        (r.state.as_deref(), r.nonce.as_deref()),
        (Some("st"), Some("no"))
    );
    assert_eq!(r.code_challenge.unwrap().as_str(), CHALLENGE);
    assert_eq!((r.prompt, r.max_age), (Prompt::default(), None));

    // The default checks (PKCE only): no state, no nonce.
    let r = validate(
        &params(&[("state", None), ("nonce", None)]),
        Some(&client(true)),
    )
    .unwrap();
    assert_eq!((r.state, r.nonce), (None, None));
    // A confidential client may skip PKCE (mozilla-django-oidc does).
    let p = params(&[("code_challenge", None), ("code_challenge_method", None)]);
    assert!(validate(&p, Some(&client(false)))
        .unwrap()
        .code_challenge
        .is_none());
}

#[test]
fn errors_before_the_redirect_uri_is_trusted_are_pages() {
    let c = client(true);
    let page = |p: Vec<(String, String)>, c: Option<&Client>| match validate(&p, c) {
        Err(AuthorizeError::Page(e)) => e,
        other => panic!("expected a page, got {other:?}"),
    };
    assert_eq!(
        page(params(&[("client_id", None)]), Some(&c)),
        PageError::MissingClientId
    );
    assert_eq!(page(params(&[]), None), PageError::UnknownClient);
    assert_eq!(
        page(params(&[("client_id", Some("other"))]), Some(&c)),
        PageError::UnknownClient
    );
    assert_eq!(
        page(params(&[("redirect_uri", None)]), Some(&c)),
        PageError::MissingRedirectUri
    );
    for near in [
        "https://app.test/api/auth/callback/authbridge/",
        "https://app.test/api/auth/callback/authbridge?x=1",
        "https://app.test/api/auth/callback/authbridge#f",
        "https://app.test:444/api/auth/callback/authbridge",
        "https://evil.test/",
        "https://app.test/cb",
    ] {
        assert_eq!(
            page(params(&[("redirect_uri", Some(near))]), Some(&c)),
            PageError::UnregisteredRedirectUri,
            "{near}"
        );
    }
    let mut p = params(&[]);
    p.push(("redirect_uri".into(), REDIRECT.into()));
    assert_eq!(page(p, Some(&c)), PageError::Repeated("redirect_uri"));
    let mut p = params(&[]);
    p.push(("client_id".into(), "app".into()));
    assert_eq!(page(p, Some(&c)), PageError::Repeated("client_id"));
    // Even a bad response_type is a page when the redirect_uri is unregistered.
    let p = params(&[
        ("response_type", Some("token")),
        ("redirect_uri", Some("https://evil.test/")),
    ]);
    assert_eq!(page(p, Some(&c)), PageError::UnregisteredRedirectUri);
    // And the client_id helper agrees.
    assert_eq!(client_id(&params(&[])), Ok("app"));
    assert_eq!(
        client_id(&params(&[("client_id", Some(""))])),
        Err(PageError::MissingClientId)
    );
}

#[test]
fn errors_after_it_go_back_to_the_client_with_state() {
    let public = client(true);
    type Change<'a> = (&'a str, Option<&'a str>);
    let cases: Vec<(Vec<Change>, ErrorCode)> = vec![
        (
            vec![("response_type", Some("token"))],
            ErrorCode::UnsupportedResponseType,
        ),
        (
            vec![("response_type", Some("id_token"))],
            ErrorCode::UnsupportedResponseType,
        ),
        (
            vec![("response_type", Some("code id_token"))],
            ErrorCode::UnsupportedResponseType,
        ),
        (vec![("response_type", None)], ErrorCode::InvalidRequest),
        (
            vec![("scope", Some("profile email"))],
            ErrorCode::InvalidScope,
        ),
        (vec![("scope", None)], ErrorCode::InvalidScope),
        (
            vec![("code_challenge", None), ("code_challenge_method", None)],
            ErrorCode::InvalidRequest,
        ),
        (
            vec![("code_challenge_method", Some("plain"))],
            ErrorCode::InvalidRequest,
        ),
        (
            vec![("code_challenge_method", None)],
            ErrorCode::InvalidRequest,
        ),
        (
            vec![("code_challenge", Some("short"))],
            ErrorCode::InvalidRequest,
        ),
        (
            vec![("request", Some("eyJ..."))],
            ErrorCode::RequestNotSupported,
        ),
        (
            vec![("request_uri", Some("urn:x"))],
            ErrorCode::RequestUriNotSupported,
        ),
        (
            vec![("registration", Some("{}"))],
            ErrorCode::RegistrationNotSupported,
        ),
        (
            vec![("response_mode", Some("fragment"))],
            ErrorCode::InvalidRequest,
        ),
        (
            vec![("prompt", Some("none login"))],
            ErrorCode::InvalidRequest,
        ),
        (vec![("prompt", Some("bogus"))], ErrorCode::InvalidRequest),
        (vec![("max_age", Some("-1"))], ErrorCode::InvalidRequest),
        (vec![("max_age", Some("soon"))], ErrorCode::InvalidRequest),
    ];
    for (changes, want) in cases {
        let (error, state) = redirect_error(&params(&changes), &public);
        assert_eq!(error, want, "{changes:?}");
        assert_eq!(state.as_deref(), Some("st"), "{changes:?}");
    }
    let mut p = params(&[]);
    p.push(("scope".into(), "openid".into()));
    assert_eq!(redirect_error(&p, &public).0, ErrorCode::InvalidRequest);
    // An oversized state is not echoed, and the request is refused.
    let long = "s".repeat(MAX_STATE_LEN + 1);
    assert_eq!(
        redirect_error(&params(&[("state", Some(&long))]), &public),
        (ErrorCode::InvalidRequest, None)
    );
    let long = "n".repeat(MAX_NONCE_LEN + 1);
    assert_eq!(
        redirect_error(&params(&[("nonce", Some(&long))]), &public).0,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn prompt_and_max_age_are_parsed() {
    let c = client(true);
    let r = validate(
        &params(&[("prompt", Some("login consent")), ("max_age", Some("0"))]),
        Some(&c),
    )
    .unwrap();
    assert!(r.prompt.login && r.prompt.consent && !r.prompt.none);
    assert_eq!(r.max_age, Some(0));
    let r = validate(&params(&[("prompt", Some("select_account"))]), Some(&c)).unwrap();
    assert_eq!(r.prompt, Prompt::default());
    // Unknown scopes are dropped, not refused.
    let r = validate(&params(&[("scope", Some("openid calendar"))]), Some(&c)).unwrap();
    assert_eq!(r.scope.as_string(), "openid");
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

#[test]
fn next_step_follows_session_prompt_max_age_and_consent() {
    let c = client(true);
    let req = |changes: &[(&str, Option<&str>)]| validate(&params(changes), Some(&c)).unwrap();
    let session = Session {
        user_id: 7,
        auth_time: at(0),
    };
    let now = at(100);

    assert_eq!(
        next_step(&req(&[]), None, at(90), true, false, now),
        Next::Login
    );
    assert_eq!(
        next_step(&req(&[]), Some(session), at(90), true, false, now),
        Next::Issue(session)
    );
    assert_eq!(
        next_step(&req(&[]), Some(session), at(90), false, false, now),
        Next::Consent
    );
    assert_eq!(
        next_step(&req(&[]), Some(session), at(90), false, true, now),
        Next::Issue(session),
        "first-party clients skip consent"
    );
    let consent = req(&[("prompt", Some("consent"))]);
    assert_eq!(
        next_step(&consent, Some(session), at(90), true, false, now),
        Next::Consent
    );

    // prompt=login: a password entered before this request does not count; one after does.
    let login = req(&[("prompt", Some("login"))]);
    assert_eq!(
        next_step(&login, Some(session), at(90), true, false, now),
        Next::Login
    );
    let after = Session {
        user_id: 7,
        auth_time: at(95),
    };
    assert_eq!(
        next_step(&login, Some(after), at(90), true, false, now),
        Next::Issue(after)
    );

    // max_age: older than allowed means log in again.
    let max_age = req(&[("max_age", Some("60"))]);
    assert_eq!(
        next_step(&max_age, Some(session), at(90), true, false, now),
        Next::Login
    );
    assert_eq!(
        next_step(&max_age, Some(session), at(90), true, false, at(60)),
        Next::Issue(session)
    );

    // A login during this request satisfies max_age, even max_age=0 a few seconds later.
    let zero = req(&[("max_age", Some("0"))]);
    assert_eq!(
        next_step(&zero, Some(session), at(90), true, false, now),
        Next::Login
    );
    assert_eq!(
        next_step(&zero, Some(after), at(90), true, false, now),
        Next::Issue(after)
    );
    assert_eq!(
        next_step(&max_age, Some(after), at(90), true, false, at(1000)),
        Next::Issue(after)
    );

    // prompt=none never shows a page.
    let none = req(&[("prompt", Some("none"))]);
    let code = |n: Next| match n {
        Next::Error(e) => (e.error, e.state),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        code(next_step(&none, None, at(90), true, false, now)),
        (ErrorCode::LoginRequired, Some("st".into()))
    );
    assert_eq!(
        code(next_step(&none, Some(session), at(90), false, false, now)).0,
        ErrorCode::ConsentRequired
    );
    assert_eq!(
        next_step(&none, Some(session), at(90), true, false, now),
        Next::Issue(session)
    );
}

#[test]
fn locations_carry_code_state_and_iss() {
    let c = client(true);
    let r = validate(&params(&[("state", Some("a b&c"))]), Some(&c)).unwrap();
    assert_eq!(
        success_location(&r, "the-code", "https://auth.test"),
        "https://app.test/api/auth/callback/authbridge?code=the-code&state=a+b%26c&iss=https%3A%2F%2Fauth.test"
    );
    let r = validate(
        &params(&[
            ("state", None),
            ("redirect_uri", Some("https://app.test/cb?tenant=a")),
        ]),
        Some(&c),
    )
    .unwrap();
    assert_eq!(
        success_location(&r, "x", "https://auth.test"),
        "https://app.test/cb?tenant=a&code=x&iss=https%3A%2F%2Fauth.test"
    );
    let Err(AuthorizeError::Redirect(e)) =
        validate(&params(&[("response_type", Some("token"))]), Some(&c))
    else {
        panic!()
    };
    assert_eq!(
        e.location("https://auth.test"),
        "https://app.test/api/auth/callback/authbridge?error=unsupported_response_type\
         &error_description=only+response_type%3Dcode+is+supported&state=st&iss=https%3A%2F%2Fauth.test"
    );
}
