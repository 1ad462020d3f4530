//! ID-token and userinfo claims from a Django user.
//!
//! The scope claims go into the ID token as well as userinfo: Auth.js builds an `oidc` provider's
//! profile from the ID token alone (FACTS.md §9), mozilla-django-oidc from userinfo alone.
//! `email_verified` is configuration (`[oidc] EMAIL_VERIFIED`), not a per-user fact: Django's
//! `auth_user` has no such column, and claiming `true` for unverified addresses lets relying
//! parties that link accounts by verified email hand accounts over.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::Scope;
use crate::storage::User;

/// What an ID token is built from.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenInput<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub user: &'a User,
    pub scope: &'a Scope,
    /// The authorization request's nonce; the claim is absent when none was sent (oauth4webapi
    /// refuses a nonce it did not send).
    pub nonce: Option<&'a str>,
    pub auth_time: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub lifetime_secs: i64,
    pub email_verified: bool,
}

/// `iss, sub, aud, exp, iat, auth_time, [nonce]`, then the scope claims. `aud` is the client_id
/// alone, so `azp` is not needed (OpenID Connect Core §2: required only with several audiences).
pub fn id_token_claims(input: IdTokenInput<'_>) -> Map<String, Value> {
    let iat = input.now.timestamp();
    let mut claims = Map::new();
    claims.insert("iss".into(), input.issuer.into());
    claims.insert("sub".into(), subject(input.user).into());
    claims.insert("aud".into(), input.client_id.into());
    claims.insert("exp".into(), (iat + input.lifetime_secs.max(1)).into());
    claims.insert("iat".into(), iat.into());
    claims.insert("auth_time".into(), input.auth_time.timestamp().into());
    if let Some(nonce) = input.nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    scope_claims(&mut claims, input.user, input.scope, input.email_verified);
    claims
}

/// The userinfo response: `sub` and the scope claims.
pub fn userinfo_claims(user: &User, scope: &Scope, email_verified: bool) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), subject(user).into());
    scope_claims(&mut claims, user, scope, email_verified);
    claims
}

/// `sub`: the Django user id as a string (stable, never reassigned, unlike the username).
pub fn subject(user: &User) -> String {
    user.id.to_string()
}

fn present(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Claims with no value in Django (empty names, blank email) are left out rather than sent empty.
fn scope_claims(claims: &mut Map<String, Value>, user: &User, scope: &Scope, email_verified: bool) {
    if scope.contains("profile") {
        let given = present(&user.first_name);
        let family = present(&user.last_name);
        let name = [given, family]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !name.is_empty() {
            claims.insert("name".into(), name.into());
        }
        if let Some(given) = given {
            claims.insert("given_name".into(), given.into());
        }
        if let Some(family) = family {
            claims.insert("family_name".into(), family.into());
        }
        claims.insert("preferred_username".into(), user.username.clone().into());
    }
    if scope.contains("email") {
        if let Some(email) = present(&user.email) {
            claims.insert("email".into(), email.into());
            claims.insert("email_verified".into(), email_verified.into());
        }
    }
}

/// Whether verified ID-token claims are ours, for `client_id`, and current at `now` (with
/// `leeway` seconds for clocks that disagree): what a relying party checks, for tests and
/// introspection.
pub fn check_id_token(
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
    now: DateTime<Utc>,
    leeway: i64,
) -> bool {
    let now = now.timestamp();
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    let audience = match claims.get("aud") {
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(list)) => {
            list.iter().any(|a| a.as_str() == Some(client_id))
                && claims.get("azp").and_then(Value::as_str) == Some(client_id)
        }
        _ => false,
    };
    claims.get("iss").and_then(Value::as_str) == Some(issuer)
        && claims.get("sub").is_some_and(Value::is_string)
        && audience
        && number("exp").is_some_and(|exp| exp > now - leeway)
        && number("iat").is_some_and(|iat| iat <= now + leeway)
}

/// An `id_token_hint` at end_session, signature already checked: ours, and for whom. Expiry is
/// not checked (OpenID Connect RP-Initiated Logout §2: an expired hint is still a valid hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenHint {
    pub sub: String,
    pub client_id: String,
}

pub fn id_token_hint(claims: &Map<String, Value>, issuer: &str) -> Option<IdTokenHint> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return None;
    }
    let sub = claims.get("sub").and_then(Value::as_str)?.to_string();
    let client_id = claims.get("aud").and_then(Value::as_str)?.to_string();
    Some(IdTokenHint { sub, client_id })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn user() -> User {
        User {
            id: 42,
            username: "ada".into(),
            password: "!".into(),
            email: Some("ada@example.test".into()),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            is_active: true,
            is_staff: false,
            is_superuser: false,
            last_login: None,
            date_joined: None,
        }
    }

    fn input<'a>(user: &'a User, scope: &'a Scope, nonce: Option<&'a str>) -> IdTokenInput<'a> {
        IdTokenInput {
            issuer: "https://auth.test",
            client_id: "client-1",
            user,
            scope,
            nonce,
            auth_time: Utc.timestamp_opt(1_799_999_000, 0).unwrap(),
            now: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
            lifetime_secs: 3600,
            email_verified: false,
        }
    }

    #[test]
    fn id_token_with_every_scope() {
        let (u, s) = (user(), Scope::parse("openid profile email"));
        let claims = id_token_claims(input(&u, &s, Some("n-1")));
        assert_eq!(
            Value::Object(claims),
            serde_json::json!({
                "iss": "https://auth.test", "sub": "42", "aud": "client-1",
                "exp": 1_800_003_600, "iat": 1_800_000_000, "auth_time": 1_799_999_000,
                "nonce": "n-1", "name": "Ada Lovelace", "given_name": "Ada",
                "family_name": "Lovelace", "preferred_username": "ada",
                "email": "ada@example.test", "email_verified": false
            })
        );
    }

    #[test]
    fn no_nonce_no_claim_and_scopes_limit_claims() {
        let (u, s) = (user(), Scope::parse("openid"));
        let claims = id_token_claims(input(&u, &s, None));
        let keys: Vec<&str> = claims.keys().map(String::as_str).collect();
        assert_eq!(keys, ["iss", "sub", "aud", "exp", "iat", "auth_time"]);
        assert!(claims["sub"].is_string());
    }

    #[test]
    fn userinfo_and_blank_django_fields() {
        let mut u = user();
        u.first_name = Some(String::new());
        u.last_name = None;
        u.email = Some("  ".into());
        let s = Scope::parse("openid profile email");
        let claims = userinfo_claims(&u, &s, true);
        assert_eq!(
            Value::Object(claims),
            serde_json::json!({"sub": "42", "preferred_username": "ada"})
        );
        let claims = userinfo_claims(&user(), &Scope::parse("openid email"), true);
        assert_eq!(claims["email"], "ada@example.test");
        assert_eq!(claims["email_verified"], true);
        assert!(claims.get("name").is_none());
    }

    #[test]
    fn signed_id_tokens_check_out_until_they_expire() {
        let (u, s) = (user(), Scope::parse("openid email"));
        let key =
            crate::oidc::keys::SigningKey::generate(crate::oidc::keys::SigningAlg::RS256).unwrap();
        let token = key
            .sign(&id_token_claims(input(&u, &s, Some("n"))))
            .unwrap();
        let claims = key.verify(&token).unwrap();
        let at = |secs: i64| Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap();
        assert!(check_id_token(
            &claims,
            "https://auth.test",
            "client-1",
            at(0),
            0
        ));
        assert!(check_id_token(
            &claims,
            "https://auth.test",
            "client-1",
            at(3599),
            0
        ));
        assert!(!check_id_token(
            &claims,
            "https://auth.test",
            "client-1",
            at(3600),
            0
        ));
        assert!(check_id_token(
            &claims,
            "https://auth.test",
            "client-1",
            at(3600),
            5
        ));
        assert!(
            !check_id_token(&claims, "https://auth.test", "client-1", at(-10), 0),
            "iat ahead"
        );
        assert!(!check_id_token(
            &claims,
            "https://auth.test",
            "client-2",
            at(0),
            0
        ));
        assert!(!check_id_token(
            &claims,
            "https://auth.test/",
            "client-1",
            at(0),
            0
        ));
        let mut multi = claims.clone();
        multi.insert("aud".into(), serde_json::json!(["client-1", "api"]));
        assert!(
            !check_id_token(&multi, "https://auth.test", "client-1", at(0), 0),
            "no azp"
        );
        multi.insert("azp".into(), "client-1".into());
        assert!(check_id_token(
            &multi,
            "https://auth.test",
            "client-1",
            at(0),
            0
        ));
    }

    #[test]
    fn hints_are_ours_only() {
        let (u, s) = (user(), Scope::parse("openid"));
        let claims = id_token_claims(input(&u, &s, None));
        assert_eq!(
            id_token_hint(&claims, "https://auth.test"),
            Some(IdTokenHint {
                sub: "42".into(),
                client_id: "client-1".into()
            })
        );
        assert_eq!(id_token_hint(&claims, "https://auth.test/"), None);
    }
}
