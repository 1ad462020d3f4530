//! Every request of simplejwt's recorded wire probe (../shared/reference/django/wire_probe.md),
//! replayed against authbridge with the probe's settings (rotation + blacklist on), comparing
//! status and exact body. Tokens are minted here with an independent HMAC so the server's own
//! encoder is not trusted to test its decoder.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::support::bodies::{BLACKLISTED, EXPIRED, INVALID, NO_ACCOUNT, WRONG_TYPE};
use crate::support::tokens::{claims_aged, decode_part, mint, now, sign};
use crate::support::{backends, status_body, TestApp, SECRET};

const PROBE_SETTINGS: &[(&str, &str)] = &[
    ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
    ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
    ("SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD", "0"),
    (
        "PASSWORD_HASHERS",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ),
];

/// Fresh claims as simplejwt's defaults issue them (access 5 minutes, refresh 1 day).
fn claims(token_type: &str, user_id: Value) -> Value {
    let lifetime = if token_type == "access" { 300 } else { 86400 };
    claims_aged(token_type, user_id, 0, lifetime)
}

async fn check(name: &str, res: reqwest::Response, status: u16, body: &str) {
    let (got_status, got_body) = status_body(res).await;
    assert_eq!(
        (got_status, got_body.as_str()),
        (status, body),
        "case {name}"
    );
}

#[tokio::test]
async fn obtain_cases() {
    for backend in backends() {
        let app = TestApp::spawn(backend, PROBE_SETTINGS).await;
        app.create_user("probe_active", "pass-1234", true).await;
        app.create_user("probe_inactive", "pass-1234", false).await;

        // obtain_ok: headers, key order, token shape.
        let res = app
            .post_json(
                "/api/token/",
                json!({"username": "probe_active", "password": "pass-1234"}),
            )
            .await;
        assert_eq!(res.status(), 200);
        let h = res.headers().clone();
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["vary"], "Accept");
        assert_eq!(h["allow"], "POST, OPTIONS");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin");
        let text = res.text().await.expect("body");
        assert!(
            text.starts_with(r#"{"refresh":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."#),
            "{text}"
        );
        let body: Value = serde_json::from_str(&text).expect("json");
        let keys: Vec<_> = body.as_object().expect("object").keys().cloned().collect();
        assert_eq!(keys, ["refresh", "access", "user_id"]);
        let refresh = body["refresh"].as_str().expect("refresh");
        let access = body["access"].as_str().expect("access");
        assert_eq!(decode_part(refresh, 0), r#"{"alg":"HS256","typ":"JWT"}"#);
        let rp: Value = serde_json::from_str(&decode_part(refresh, 1)).expect("payload");
        let rkeys: Vec<_> = rp.as_object().expect("object").keys().cloned().collect();
        assert_eq!(rkeys, ["token_type", "exp", "iat", "jti", "user_id"]);
        assert_eq!(rp["token_type"], "refresh");
        assert_eq!(rp["user_id"], body["user_id"].to_string().as_str());
        assert_eq!(
            rp["exp"].as_i64().expect("exp") - rp["iat"].as_i64().expect("iat"),
            86400
        );
        let ap: Value = serde_json::from_str(&decode_part(access, 1)).expect("payload");
        assert_eq!(ap["token_type"], "access");
        assert_eq!(
            ap["exp"].as_i64().expect("exp") - ap["iat"].as_i64().expect("iat"),
            300
        );

        let cases: Vec<(&str, Option<&str>, String, u16, &str)> = vec![
            (
                "wrong_password",
                Some("application/json"),
                r#"{"username": "probe_active", "password": "nope"}"#.into(),
                401,
                NO_ACCOUNT,
            ),
            (
                "unknown_user",
                Some("application/json"),
                r#"{"username": "probe_nobody", "password": "pass-1234"}"#.into(),
                401,
                NO_ACCOUNT,
            ),
            (
                "inactive_user_correct_password",
                Some("application/json"),
                r#"{"username": "probe_inactive", "password": "pass-1234"}"#.into(),
                401,
                NO_ACCOUNT,
            ),
            (
                "missing_both",
                Some("application/json"),
                "{}".into(),
                400,
                r#"{"username":["This field is required."],"password":["This field is required."]}"#,
            ),
            (
                "missing_password",
                Some("application/json"),
                r#"{"username": "probe_active"}"#.into(),
                400,
                r#"{"password":["This field is required."]}"#,
            ),
            (
                "blank_fields",
                Some("application/json"),
                r#"{"username": "", "password": ""}"#.into(),
                400,
                r#"{"username":["This field may not be blank."],"password":["This field may not be blank."]}"#,
            ),
            (
                "null_fields",
                Some("application/json"),
                r#"{"username": null, "password": null}"#.into(),
                400,
                r#"{"username":["This field may not be null."],"password":["This field may not be null."]}"#,
            ),
            (
                "numeric_username",
                Some("application/json"),
                r#"{"username": 123, "password": "pass-1234"}"#.into(),
                401,
                NO_ACCOUNT,
            ),
            (
                "list_password",
                Some("application/json"),
                r#"{"username": "probe_active", "password": ["pass-1234"]}"#.into(),
                400,
                r#"{"password":["Not a valid string."]}"#,
            ),
            (
                "malformed_json",
                Some("application/json"),
                "{not json".into(),
                400,
                r#"{"detail":"JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}"#,
            ),
            (
                "json_array_body",
                Some("application/json"),
                "[]".into(),
                400,
                r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}"#,
            ),
            (
                "text_plain",
                Some("text/plain"),
                "x".into(),
                415,
                r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#,
            ),
            (
                "no_content_type",
                None,
                r#"{"username": "probe_active", "password": "pass-1234"}"#.into(),
                415,
                r#"{"detail":"Unsupported media type \"\" in request."}"#,
            ),
        ];
        for (name, ct, body, status, expected) in cases {
            let res = app.post_raw("/api/token/", ct, &body).await;
            if status == 401 {
                assert_eq!(
                    res.headers()["www-authenticate"],
                    "Bearer realm=\"api\"",
                    "{name}"
                );
            }
            check(name, res, status, expected).await;
        }

        for (name, ct, body) in [
            (
                "surrounding_spaces",
                "application/json",
                r#"{"username": " probe_active ", "password": "  pass-1234 "}"#,
            ),
            (
                "extra_fields_ignored",
                "application/json",
                r#"{"username": "probe_active", "password": "pass-1234", "email": "x"}"#,
            ),
            (
                "form_urlencoded",
                "application/x-www-form-urlencoded",
                "username=probe_active&password=pass-1234",
            ),
        ] {
            let res = app.post_raw("/api/token/", Some(ct), body).await;
            assert_eq!(res.status(), 200, "{name}");
        }
        let form = reqwest::multipart::Form::new()
            .text("username", "probe_active")
            .text("password", "pass-1234");
        let res = app
            .client
            .post(app.url("/api/token/"))
            .multipart(form)
            .send()
            .await
            .expect("multipart");
        assert_eq!(res.status(), 200, "multipart");

        let res = app
            .client
            .get(app.url("/api/token/"))
            .send()
            .await
            .expect("get");
        assert_eq!(res.headers()["allow"], "POST, OPTIONS");
        check(
            "GET",
            res,
            405,
            r#"{"detail":"Method \"GET\" not allowed."}"#,
        )
        .await;

        let res = app
            .post_raw("/api/token", Some("application/json"), "{}")
            .await;
        assert_eq!(res.status(), 301);
        assert_eq!(res.headers()["location"], "/api/token/");

        let res = app
            .client
            .request(reqwest::Method::OPTIONS, app.url("/api/token/"))
            .send()
            .await
            .expect("options");
        check("OPTIONS", res, 200, r#"{"name":"Token Obtain Pair","description":"Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.","renders":["application/json","text/html"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"],"actions":{"POST":{"username":{"type":"string","required":true,"read_only":false,"label":"Username"},"password":{"type":"string","required":true,"read_only":false,"label":"Password"}}}}"#).await;
    }
}

#[tokio::test]
async fn verify_cases() {
    for backend in backends() {
        let app = TestApp::spawn(backend, PROBE_SETTINGS).await;
        let id = app.create_user("probe_active", "pass-1234", true).await;
        let (refresh, access) = app.login("probe_active", "pass-1234").await;
        let n = now();
        let uid = json!(id.to_string());
        let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
            let mut c = claims("access", uid.clone());
            f(c.as_object_mut().expect("object"));
            mint(c)
        };
        let bad_sig = {
            let t = with(&|_| {});
            format!("{}x", &t[..t.len() - 1])
        };
        let hs512 = {
            let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS512","typ":"JWT"}"#);
            let p = URL_SAFE_NO_PAD.encode(claims("access", uid.clone()).to_string());
            let mut mac = Hmac::<sha2::Sha512>::new_from_slice(SECRET.as_bytes()).expect("key");
            mac.update(format!("{h}.{p}").as_bytes());
            format!(
                "{h}.{p}.{}",
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
            )
        };
        let alg_none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims("access", uid.clone()).to_string())
        );
        let cases: Vec<(&str, Value, u16, &str)> = vec![
            ("access_ok", json!({"token": access}), 200, "{}"),
            ("refresh_ok", json!({"token": refresh}), 200, "{}"),
            (
                "missing",
                json!({}),
                400,
                r#"{"token":["This field is required."]}"#,
            ),
            (
                "blank",
                json!({"token": ""}),
                400,
                r#"{"token":["This field may not be blank."]}"#,
            ),
            ("garbage", json!({"token": "abc"}), 401, INVALID),
            ("bad_signature", json!({"token": bad_sig}), 401, INVALID),
            (
                "expired",
                json!({"token": with(&|c| { c.insert("exp".into(), json!(n - 3)); c.insert("iat".into(), json!(n - 303)); })}),
                401,
                EXPIRED,
            ),
            (
                "no_exp",
                json!({"token": with(&|c| { c.remove("exp"); })}),
                401,
                r#"{"detail":"Token has no 'exp' claim","code":"token_not_valid"}"#,
            ),
            (
                "no_jti",
                json!({"token": with(&|c| { c.remove("jti"); })}),
                401,
                r#"{"detail":"Token has no id","code":"token_not_valid"}"#,
            ),
            (
                "no_token_type",
                json!({"token": with(&|c| { c.remove("token_type"); })}),
                200,
                "{}",
            ),
            (
                "iat_in_future",
                json!({"token": with(&|c| { c.insert("iat".into(), json!(n + 3600)); c.insert("exp".into(), json!(n + 7200)); })}),
                401,
                INVALID,
            ),
            (
                "nbf_in_future",
                json!({"token": with(&|c| { c.insert("nbf".into(), json!(n + 3600)); })}),
                401,
                INVALID,
            ),
            ("hs512_same_key", json!({"token": hs512}), 401, INVALID),
            ("alg_none", json!({"token": alg_none}), 401, INVALID),
            (
                "aud_claim_without_setting",
                json!({"token": with(&|c| { c.insert("aud".into(), json!("someone")); })}),
                200,
                "{}",
            ),
            (
                "int_user_id",
                json!({"token": with(&|c| { c.insert("user_id".into(), json!(id)); })}),
                200,
                "{}",
            ),
            (
                "nonstring_jti",
                json!({"token": with(&|c| { c.insert("jti".into(), json!(12345)); })}),
                401,
                INVALID,
            ),
            (
                "nonstring_sub",
                json!({"token": with(&|c| { c.insert("sub".into(), json!(12345)); })}),
                401,
                INVALID,
            ),
            (
                "oversized_token",
                json!({"token": "a".repeat(1_000_000)}),
                401,
                INVALID,
            ),
            (
                "unicode_token",
                json!({"token": "ünïcødé.🔑.x"}),
                401,
                INVALID,
            ),
        ];
        for (name, body, status, expected) in cases {
            let res = app.post_json("/api/token/verify/", body).await;
            check(name, res, status, expected).await;
        }
    }
}

#[tokio::test]
async fn me_cases() {
    for backend in backends() {
        let app = TestApp::spawn(backend, PROBE_SETTINGS).await;
        let id = app.create_user("probe_active", "pass-1234", true).await;
        let (refresh, access) = app.login("probe_active", "pass-1234").await;
        let me = |auth: Option<String>| {
            let mut req = app.client.get(app.url("/api/me/"));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            req.send()
        };
        let ok = format!(
            r#"{{"id":{id},"username":"probe_active","email":"probe_active@example.com","is_staff":false}}"#
        );
        let not_provided = r#"{"detail":"Authentication credentials were not provided."}"#;
        let two_values = r#"{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}"#;
        let any_type = |m: &str| {
            format!(
                r#"{{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{{"token_class":"AccessToken","token_type":"access","message":"{m}"}}]}}"#
            )
        };
        let n = now();
        let expired = mint(
            json!({"token_type": "access", "exp": n - 3, "iat": n - 303, "jti": "f9c1518eed334ddab60007203a8c8bb0", "user_id": id.to_string()}),
        );
        let no_user = mint(
            json!({"token_type": "access", "exp": n + 300, "iat": n, "jti": "c363b4c92c314d86af30762c0537e3e5"}),
        );
        let int_user = mint(
            json!({"token_type": "access", "exp": n + 300, "iat": n, "jti": "faeaa447238d42fd966161ae1b0a3c1d", "user_id": id}),
        );
        let cases: Vec<(&str, Option<String>, u16, String)> = vec![
            ("ok", Some(format!("Bearer {access}")), 200, ok.clone()),
            ("no_header", None, 401, not_provided.into()),
            ("wrong_scheme", Some(format!("Token {access}")), 401, not_provided.into()),
            ("lowercase_bearer", Some(format!("bearer {access}")), 401, not_provided.into()),
            ("bearer_three_parts", Some(format!("Bearer {access} extra")), 401, two_values.into()),
            ("bearer_only", Some("Bearer".into()), 401, two_values.into()),
            ("refresh_token_as_bearer", Some(format!("Bearer {refresh}")), 401, any_type("Token has wrong type")),
            ("garbage", Some("Bearer abc.def.ghi".into()), 401, any_type("Token is invalid")),
            ("expired", Some(format!("Bearer {expired}")), 401, any_type("Token is expired")),
            ("no_user_id_claim", Some(format!("Bearer {no_user}")), 401, r#"{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}"#.into()),
            ("int_user_id_claim", Some(format!("Bearer {int_user}")), 200, ok.clone()),
        ];
        for (name, auth, status, expected) in cases {
            let res = me(auth).await.expect("request");
            if status == 401 {
                assert_eq!(
                    res.headers()["www-authenticate"],
                    "Bearer realm=\"api\"",
                    "{name}"
                );
            }
            assert_eq!(res.headers()["allow"], "GET, HEAD, OPTIONS", "{name}");
            check(name, res, status, &expected).await;
        }
        let res = app
            .client
            .post(app.url("/api/me/"))
            .header("authorization", format!("Bearer {access}"))
            .json(&json!({}))
            .send()
            .await
            .expect("post");
        check(
            "me_POST",
            res,
            405,
            r#"{"detail":"Method \"POST\" not allowed."}"#,
        )
        .await;
    }
}

#[tokio::test]
async fn user_state_cases() {
    for backend in backends() {
        let app = TestApp::spawn(backend, PROBE_SETTINGS).await;
        let deactivate = app
            .create_user("probe_to_deactivate", "pass-1234", true)
            .await;
        let delete = app.create_user("probe_to_delete", "pass-1234", true).await;
        let (r_inactive, a_inactive) = app.login("probe_to_deactivate", "pass-1234").await;
        let (r_deleted, a_deleted) = app.login("probe_to_delete", "pass-1234").await;
        let table = &app.settings.user_table;
        let pool_sql = |sql: String| sql;
        // Deactivate and delete as Django would (outside authbridge).
        app.exec(&pool_sql(format!(
            "UPDATE {table} SET is_active = {} WHERE id = {deactivate}",
            if backend == "sqlite" { "0" } else { "false" }
        )))
        .await;
        app.exec(&format!(
            "UPDATE token_blacklist_outstandingtoken SET user_id = NULL WHERE user_id = {delete}"
        ))
        .await;
        app.exec(&format!("DELETE FROM {table} WHERE id = {delete}"))
            .await;

        let me = |t: &str| {
            app.client
                .get(app.url("/api/me/"))
                .header("authorization", format!("Bearer {t}"))
                .send()
        };
        check(
            "me_inactive_user",
            me(&a_inactive).await.expect("req"),
            401,
            r#"{"detail":"User is inactive","code":"user_inactive"}"#,
        )
        .await;
        check(
            "me_deleted_user",
            me(&a_deleted).await.expect("req"),
            401,
            r#"{"detail":"User not found","code":"user_not_found"}"#,
        )
        .await;
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": r_inactive}))
            .await;
        check(
            "refresh_inactive_user",
            res,
            401,
            r#"{"detail":"No active account found for the given token."}"#,
        )
        .await;
        // simplejwt answers 500 here; authbridge answers in its 401 format (docs/compatibility.md).
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": r_deleted}))
            .await;
        check(
            "refresh_deleted_user",
            res,
            401,
            r#"{"detail":"No active account found for the given token."}"#,
        )
        .await;
        let res = app
            .post_json("/api/token/verify/", json!({"token": a_inactive}))
            .await;
        check("verify_inactive_user_token", res, 200, "{}").await;
        let res = app
            .post_json("/api/token/blacklist/", json!({"refresh": r_deleted}))
            .await;
        check("blacklist_deleted_user_token", res, 200, "{}").await;
    }
}

#[tokio::test]
async fn refresh_and_blacklist_cases() {
    for backend in backends() {
        let app = TestApp::spawn(backend, PROBE_SETTINGS).await;
        let id = app.create_user("probe_active", "pass-1234", true).await;
        let (refresh, access) = app.login("probe_active", "pass-1234").await;
        let n = now();

        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": refresh}))
            .await;
        assert_eq!(res.status(), 200, "refresh_ok");
        let body: Value = res.json().await.expect("json");
        let keys: Vec<_> = body.as_object().expect("object").keys().cloned().collect();
        assert_eq!(keys, ["access", "refresh"]);
        let new_refresh = body["refresh"].as_str().expect("refresh").to_string();

        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": refresh}))
            .await;
        check("refresh_reuse_rotated_token", res, 401, BLACKLISTED).await;
        let res = app
            .post_json("/api/token/verify/", json!({"token": refresh}))
            .await;
        check(
            "verify_rotated_refresh_token",
            res,
            400,
            r#"{"non_field_errors":["Token is blacklisted"]}"#,
        )
        .await;
        let res = app
            .client
            .get(app.url("/api/me/"))
            .header("authorization", format!("Bearer {access}"))
            .send()
            .await
            .expect("me");
        assert_eq!(res.status(), 200, "me_old_access_after_rotation");

        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": access}))
            .await;
        check("refresh_with_access_token", res, 401, WRONG_TYPE).await;
        let res = app.post_json("/api/token/refresh/", json!({})).await;
        check(
            "refresh_missing",
            res,
            400,
            r#"{"refresh":["This field is required."]}"#,
        )
        .await;
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": "abc"}))
            .await;
        check("refresh_garbage", res, 401, INVALID).await;
        let expired = mint(
            json!({"token_type": "refresh", "exp": n - 10, "iat": n - 90000, "jti": uuid::Uuid::new_v4().simple().to_string(), "user_id": id.to_string()}),
        );
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": expired}))
            .await;
        check("refresh_expired", res, 401, EXPIRED).await;
        let other_key = sign(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &claims("refresh", json!(id.to_string())).to_string(),
            "another-key",
        );
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": other_key}))
            .await;
        check("refresh_bad_signature", res, 401, INVALID).await;

        // Validly signed, never outstanding: accepted, extra claims copied to both new tokens.
        let mut forged = claims("refresh", json!(id.to_string()));
        forged["extra_claim"] = json!("kept");
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": mint(forged)}))
            .await;
        assert_eq!(res.status(), 200, "refresh_forged_not_outstanding");
        let body: Value = res.json().await.expect("json");
        for key in ["access", "refresh"] {
            let p: Value =
                serde_json::from_str(&decode_part(body[key].as_str().expect("token"), 1))
                    .expect("payload");
            assert_eq!(p["extra_claim"], "kept", "{key}");
        }
        let res = app
            .post_json(
                "/api/token/refresh/",
                json!({"refresh": mint(claims("refresh", json!(id)))}),
            )
            .await;
        assert_eq!(res.status(), 200, "refresh_int_user_id");
        let mut no_user = claims("refresh", json!(null));
        no_user.as_object_mut().expect("object").remove("user_id");
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": mint(no_user)}))
            .await;
        assert_eq!(res.status(), 200, "refresh_no_user_id_claim");
        let body: Value = res.json().await.expect("json");
        let p: Value =
            serde_json::from_str(&decode_part(body["access"].as_str().expect("access"), 1))
                .expect("payload");
        assert!(p.get("user_id").is_none());
        // simplejwt answers 500 (KeyError); authbridge answers in its 401 format.
        let mut no_jti = claims("refresh", json!(id.to_string()));
        no_jti.as_object_mut().expect("object").remove("jti");
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": mint(no_jti)}))
            .await;
        check(
            "refresh_no_jti",
            res,
            401,
            r#"{"detail":"Token has no id","code":"token_not_valid"}"#,
        )
        .await;

        // Logout.
        let res = app
            .post_json("/api/token/blacklist/", json!({"refresh": new_refresh}))
            .await;
        check("blacklist_ok", res, 200, "{}").await;
        let res = app
            .post_json("/api/token/blacklist/", json!({"refresh": new_refresh}))
            .await;
        check("blacklist_again", res, 401, BLACKLISTED).await;
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": new_refresh}))
            .await;
        check("refresh_after_blacklist", res, 401, BLACKLISTED).await;
        let res = app
            .post_json("/api/token/blacklist/", json!({"refresh": access}))
            .await;
        check("blacklist_access_token", res, 401, WRONG_TYPE).await;
        let res = app.post_json("/api/token/blacklist/", json!({})).await;
        check(
            "blacklist_missing",
            res,
            400,
            r#"{"refresh":["This field is required."]}"#,
        )
        .await;
        let res = app
            .post_json("/api/token/blacklist/", json!({"refresh": expired}))
            .await;
        check("blacklist_expired", res, 401, EXPIRED).await;
        let res = app
            .post_json("/api/token/blacklist/", json!({"refresh": "abc"}))
            .await;
        check("blacklist_garbage", res, 401, INVALID).await;
    }
}
