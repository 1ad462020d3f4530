//! The recorded probe of the real dj-rest-auth 7.2.0 + django-allauth 65.21.1
//! (`fixtures/accounts_wire_probe.json`, copied from the reference probe), replayed in its order
//! on one database: server M's requests, then server O's on the same database (so ids match).
//!
//! Compared byte for byte: status, body (key order included), `Content-Type`, `Allow`, `Vary`,
//! `Location`, and whether `WWW-Authenticate` is sent. What varies is normalised, narrowly:
//! the values of `access` and `refresh` (JWTs; `""` stays `""`) and of `access_expiration` /
//! `refresh_expiration` (checked against DRF's format first). The probe's tokens, confirmation
//! keys and reset tokens in later requests are replaced by ours: tokens from our answers to the
//! same requests; keys and reset tokens minted for the same rows at the moment the anchor mailed
//! them (with `account_tokens`, whose output matches Django's own in its vectors).
//!
//! Two answers differ on purpose (docs/compatibility.md): a refresh token issued before a
//! password change or reset is refused here, where simplejwt 5.5.1 still accepts it.

use authbridge::account_tokens::{
    base36, confirmation_key, ResetTokenUser, ResetTokens, SecretKeys,
};
use authbridge::storage::NewUser;
use regex::Regex;
use secrecy::SecretString;
use serde_json::Value;
use std::collections::HashMap;

use super::{answer, query_pairs, send, spawn_beside, Answer, SERVER_M, SERVER_O};
use crate::support::{backends, TestApp, SECRET};

/// Refresh tokens issued before a password change or reset: simplejwt keeps them valid.
const REFUSED_HERE: &[&str] = &["refresh_after_password_change", "refresh_after_reset"];

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/accounts_wire_probe.json")).unwrap()
}

#[tokio::test]
async fn replays_the_recorded_probe() {
    let fixture = fixture();
    let cases = fixture["results"].as_array().unwrap();
    assert_eq!(cases.len(), 129);
    for backend in backends() {
        let app = TestApp::spawn(backend, SERVER_M).await;
        let mut replay = Replay::new(&app);
        for case in cases {
            replay.case(case).await;
        }
        assert!(replay.compared >= 120, "compared {}", replay.compared);
    }
}

struct Replay<'a> {
    app: &'a TestApp,
    base_m: String,
    base_o: Option<String>,
    /// The probe's tokens, keys and reset tokens → ours.
    ours: HashMap<String, String>,
    /// The access token of the latest login or refresh, for `Authorization` headers the probe
    /// recorded shortened.
    access: Option<String>,
    compared: usize,
}

impl<'a> Replay<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            base_m: format!("http://{}", app.addr),
            base_o: None,
            ours: HashMap::new(),
            access: None,
            compared: 0,
        }
    }

    async fn case(&mut self, case: &Value) {
        let name = case["name"].as_str().unwrap();
        self.users_made_by_the_orm(name).await;
        if name == "password_reset_then_login" {
            // The reset token covers `last_login` to the second. The anchor's logins were
            // seconds apart; here they can fall in one second, which would leave the token
            // valid after the next login. Move the last one back, as if it had been earlier.
            self.app
                .exec("UPDATE auth_user SET last_login = '2026-01-01 00:00:00' WHERE username = 'alice'")
                .await;
        }
        let base = if case["server"] == "O" {
            if self.base_o.is_none() {
                self.base_o = Some(spawn_beside(self.app, SERVER_O).await);
            }
            self.base_o.clone().unwrap()
        } else {
            self.base_m.clone()
        };
        let mut headers = Vec::new();
        for (k, v) in case["request_headers"].as_object().unwrap() {
            let v = v.as_str().unwrap();
            let v = if k == "Authorization" && v.ends_with("...") {
                format!("Bearer {}", self.access.as_deref().expect("a login before"))
            } else {
                v.to_string()
            };
            headers.push((k.clone(), v));
        }
        let body = case["request_body"].as_str().map(|b| self.substitute(b));
        let res = send(
            self.app,
            &base,
            case["method"].as_str().unwrap(),
            case["path"].as_str().unwrap(),
            &headers,
            body.as_deref(),
        )
        .await;
        let ours = answer(res).await;
        self.learn_tokens(case, &ours);
        if REFUSED_HERE.contains(&name) {
            assert_eq!(ours.status, 401, "{name}: {}", ours.body);
            assert!(
                ours.body.contains("\"code\":\"token_not_valid\""),
                "{name}: {}",
                ours.body
            );
        } else {
            compare(name, case, &ours);
            self.compared += 1;
        }
        self.learn_mailed_keys(case).await;
    }

    /// The probe made these users with Django's ORM (no `account_emailaddress` row).
    async fn users_made_by_the_orm(&self, name: &str) {
        let (username, email, active) = match name {
            "login_inactive_user" => ("ivan_off", "ivan@example.com", false),
            "reset_for_user_without_emailaddress_row" => ("hank", "hank@example.com", true),
            _ => return,
        };
        let passwords = authbridge::app::password_service(&self.app.settings).unwrap();
        let password = passwords
            .make(zeroize::Zeroizing::new("Tr1cky-Passw0rd!".to_string()))
            .await
            .unwrap();
        let user = NewUser {
            username: username.into(),
            password,
            email: email.into(),
            is_active: active,
            ..NewUser::default()
        };
        self.app
            .store
            .create_user(&user, chrono::Utc::now())
            .await
            .unwrap();
    }

    fn substitute(&self, body: &str) -> String {
        let mut body = body.to_string();
        for (theirs, ours) in &self.ours {
            body = body.replace(theirs.as_str(), ours);
        }
        body
    }

    /// Tokens in the anchor's answer are ours in our answer to the same request.
    fn learn_tokens(&mut self, case: &Value, ours: &Answer) {
        let (Ok(theirs), Ok(mine)) = (
            serde_json::from_str::<Value>(case["response_body"].as_str().unwrap_or("")),
            serde_json::from_str::<Value>(&ours.body),
        ) else {
            return;
        };
        for key in ["access", "refresh"] {
            if let (Some(t), Some(o)) = (theirs[key].as_str(), mine[key].as_str()) {
                if !t.is_empty() && !o.is_empty() {
                    self.ours.insert(t.to_string(), o.to_string());
                }
            }
        }
        if let Some(access) = mine["access"].as_str() {
            if case["server"] == "M" {
                self.access = Some(access.to_string());
            }
        }
    }

    /// The anchor's emails hold keys and reset tokens later requests use: ours for the same
    /// rows, minted now (when the anchor minted its own).
    async fn learn_mailed_keys(&mut self, case: &Value) {
        let confirm = Regex::new(r"(?:verify-email|account-confirm-email)/([^/\s]+)/?\n").unwrap();
        let confirm_user = Regex::new(r"because user (\S+) has given").unwrap();
        let reset = Regex::new(r"/confirm/([0-9a-z]+)/([0-9a-z]+-[0-9a-f]+)/?\n").unwrap();
        let reset_user = Regex::new(r"your username is (\S+)\.").unwrap();
        let keys = SecretKeys::new(SecretString::from(SECRET.to_string()), Vec::new());
        let now = chrono::Utc::now();
        for email in case["emails_sent"].as_array().unwrap() {
            let text = email["body"].as_str().unwrap();
            if let (Some(k), Some(u)) = (confirm.captures(text), confirm_user.captures(text)) {
                let (user, rows) = self.user_and_rows(&u[1]).await;
                let to = email["to"].as_str().unwrap();
                let row = rows.iter().find(|(_, e)| e == to).map(|(id, _)| *id);
                let row =
                    row.unwrap_or_else(|| panic!("no address row for {} {to}", user.username));
                self.ours.insert(
                    k[1].to_string(),
                    confirmation_key(row, &keys, now.timestamp()),
                );
            }
            if let (Some(r), Some(u)) = (reset.captures(text), reset_user.captures(text)) {
                let (user, rows) = self.user_and_rows(&u[1]).await;
                let addresses: Vec<String> = rows.into_iter().map(|(_, e)| e).collect();
                let token = ResetTokens {
                    keys: &keys,
                    timeout: 259_200,
                }
                .make(
                    &ResetTokenUser {
                        id: user.id,
                        password: &user.password,
                        last_login: user.last_login,
                        email: user.email.as_deref().unwrap_or(""),
                        addresses: &addresses,
                    },
                    now,
                );
                self.ours.insert(r[2].to_string(), token);
                let uid = base36::encode(u128::try_from(user.id).unwrap());
                assert_eq!(&r[1], uid, "the probe's uid is base36 of the same pk");
            }
        }
    }

    async fn user_and_rows(
        &self,
        username: &str,
    ) -> (authbridge::storage::User, Vec<(i64, String)>) {
        let user = self
            .app
            .store
            .user_by_username(username)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{username} exists"));
        let rows = query_pairs(
            &self.app.db,
            &format!(
                "SELECT CAST(id AS BIGINT), email FROM account_emailaddress \
                 WHERE user_id = {} ORDER BY id",
                user.id
            ),
        )
        .await;
        (user, rows)
    }
}

fn compare(name: &str, case: &Value, ours: &Answer) {
    let status = case["status"].as_u64().unwrap() as u16;
    let theirs_body = case["response_body"].as_str().unwrap();
    assert_eq!(
        (ours.status, normalise(name, &ours.body)),
        (status, normalise(name, theirs_body)),
        "case {name}: ours {}",
        ours.body
    );
    let theirs = case["response_headers"].as_object().unwrap();
    let ours_header = |k: &str| ours.headers.get(k).and_then(|v| v.to_str().ok());
    for key in ["content-type", "allow", "vary", "location"] {
        if let Some(v) = theirs.get(key) {
            assert_eq!(ours_header(key), v.as_str(), "case {name}: {key}");
        }
    }
    assert_eq!(
        ours_header("www-authenticate"),
        theirs.get("www-authenticate").and_then(Value::as_str),
        "case {name}: www-authenticate"
    );
}

/// The body with its varying values replaced (compact JSON, key order kept); a body that is not
/// JSON as it is.
fn normalise(name: &str, body: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(body) else {
        return body.to_string();
    };
    let jwt = Regex::new(r"^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$").unwrap();
    let datetime = Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$").unwrap();
    if let Some(map) = v.as_object_mut() {
        for key in ["access", "refresh"] {
            if let Some(Value::String(s)) = map.get_mut(key) {
                if !s.is_empty() {
                    assert!(jwt.is_match(s), "{name}: {key} is a JWT: {s}");
                    *s = format!("<{key}>");
                }
            }
        }
        for key in ["access_expiration", "refresh_expiration"] {
            if let Some(Value::String(s)) = map.get_mut(key) {
                assert!(datetime.is_match(s), "{name}: {key} as DRF renders it: {s}");
                *s = "<datetime>".into();
            }
        }
    }
    v.to_string()
}
