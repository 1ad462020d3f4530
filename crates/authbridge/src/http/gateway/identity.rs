//! Who a proxied request (or a forward-auth check) is from, and how Django is told.
//!
//! Sources, in order; the first that proves a user wins:
//! 1. `Authorization: Bearer <simplejwt access token>` (simplejwt's `JWTAuthentication`, the
//!    API's own `JwtUser`: same header name, schemes and checks);
//! 2. an Auth.js session (`AuthJsSession`: a v5 or v4 cookie, chunked or not, or a Bearer JWE),
//!    when `AUTH_SECRET` is configured;
//! 3. authbridge's own login session cookie (the `/login` page's).
//!
//! A credential that was presented and refused is remembered (the first one), so a protected path
//! answers with simplejwt's exact error instead of "not provided".
//!
//! Before anything is added, every client-sent copy of the identity headers is removed: every
//! header Django would file under the same `request.META` key (any case, `_` for `-`), and the
//! `HTTP_`-prefixed one that Django's ASGI `RemoteUserMiddleware` reads in 5.2 and 6.0
//! (`Http-X-Remote-User` → `HTTP_HTTP_X_REMOTE_USER`); also `Remote-User` (the stock middleware's
//! header under ASGI). In `bearer` mode the same goes for `Authorization` (and simplejwt's
//! configured `AUTH_HEADER_NAME`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use std::sync::Arc;

use crate::config::gateway::{meta_key, GatewaySettings, IdentityMode};
use crate::http::extract::{AuthJsSession, JwtUser};
use crate::http::pages::context::PageContext;
use crate::http::pages::session;
use crate::http::{AppState, DrfError};
use crate::model::User;
use crate::tokens::TokenRules;

/// The identity half of the gateway, built once.
pub struct IdentityConfig {
    pub mode: IdentityMode,
    pub user_header: HeaderName,
    pub user_id_header: HeaderName,
    pub email_header: HeaderName,
    /// `request.META` keys no client may set (see the module documentation), all `HTTP_…`.
    stripped: Vec<String>,
    /// Those of them that name the user (`Authorization` excepted: it is a credential).
    identity_keys: Vec<String>,
    /// Where a minted token goes, and its scheme (`bearer` mode).
    token_header: HeaderName,
    token_scheme: String,
    /// simplejwt's rules with the gateway's short lifetime.
    token_rules: TokenRules,
    /// For the login session cookie's name.
    pages: Arc<PageContext>,
}

/// What authentication found.
pub enum Found {
    User(User),
    /// No credential, or only refused ones (the first refusal kept).
    Anonymous(Option<DrfError>),
}

impl IdentityConfig {
    pub fn new(state: &AppState, settings: &GatewaySettings) -> Self {
        let jwt = &state.settings.simple_jwt;
        let token_header =
            HeaderName::from_bytes(jwt_header_name(&jwt.auth_header_name).as_bytes())
                .unwrap_or(axum::http::header::AUTHORIZATION);
        let keys = |names: &[HeaderName]| {
            let mut out = Vec::new();
            for name in names {
                let key = meta_key(name);
                out.push(format!("HTTP_{key}"));
                out.push(key);
            }
            out.sort();
            out.dedup();
            out
        };
        let identity_keys = keys(&[
            settings.user_header.clone(),
            settings.user_id_header.clone(),
            settings.email_header.clone(),
            HeaderName::from_static("remote-user"),
        ]);
        let mut stripped = identity_keys.clone();
        if settings.identity == IdentityMode::Bearer {
            stripped.extend(keys(&[
                axum::http::header::AUTHORIZATION,
                token_header.clone(),
            ]));
            stripped.sort();
            stripped.dedup();
        }
        debug_assert!(stripped.iter().all(|k| k.starts_with("HTTP_")));
        let mut token_rules = state.tokens.rules.clone();
        token_rules.access_lifetime = settings.token_lifetime;
        Self {
            mode: settings.identity,
            user_header: settings.user_header.clone(),
            user_id_header: settings.user_id_header.clone(),
            email_header: settings.email_header.clone(),
            stripped,
            identity_keys,
            token_header,
            token_scheme: jwt
                .auth_header_types
                .first()
                .cloned()
                .unwrap_or_else(|| "Bearer".into()),
            token_rules,
            pages: Arc::new(PageContext::new(&state.settings, &*state.random)),
        }
    }

    /// Whether the client sent any spelling of an identity header (`Authorization` aside).
    pub fn carries_identity(&self, headers: &HeaderMap) -> bool {
        headers.keys().any(|name| {
            self.identity_keys
                .iter()
                .any(|key| is_meta_key(name.as_str(), key))
        })
    }

    /// Remove every client-sent identity header (see the module documentation).
    pub fn strip(&self, headers: &mut HeaderMap) {
        strip_meta_keys(headers, &self.stripped);
    }

    /// The headers that tell the upstream who `user` is: the identity headers, or a freshly
    /// minted access token.
    pub fn identity_headers(
        &self,
        state: &AppState,
        user: &User,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, DrfError> {
        match self.mode {
            IdentityMode::Headers => {
                let mut out = Vec::with_capacity(3);
                // A username Django accepted but HTTP cannot carry (a control character) is
                // not sent: no header is better than a wrong one.
                if let Ok(v) = HeaderValue::from_str(&user.username) {
                    out.push((self.user_header.clone(), v));
                }
                out.push((self.user_id_header.clone(), HeaderValue::from(user.id)));
                if let Some(v) = user
                    .email
                    .as_deref()
                    .filter(|e| !e.is_empty())
                    .and_then(|e| HeaderValue::from_str(e).ok())
                {
                    out.push((self.email_header.clone(), v));
                }
                Ok(out)
            }
            IdentityMode::Bearer => {
                let token = self.mint(state, user)?;
                let value = HeaderValue::from_str(&format!("{} {token}", self.token_scheme))
                    .map_err(DrfError::internal)?;
                Ok(vec![(self.token_header.clone(), value)])
            }
        }
    }

    /// simplejwt's `AccessToken.for_user(user)` with the gateway's lifetime: `token_type`, `exp`,
    /// `iat`, `jti`, `user_id`, the revoke claim when `CHECK_REVOKE_TOKEN`, then `aud`/`iss`.
    fn mint(&self, state: &AppState, user: &User) -> Result<String, DrfError> {
        let now = state.clock.now().timestamp();
        let mut rng = state.random.rng();
        let jwt = &state.settings.simple_jwt;
        let mut extra = Map::new();
        if jwt.check_revoke_token {
            extra.insert(
                jwt.revoke_token_claim.clone(),
                Value::from(user.password_hash_claim()),
            );
        }
        let carrier = self
            .token_rules
            .refresh_for_user_with(user.id, extra, now, &mut rng);
        let access = self
            .token_rules
            .access_from_refresh(&carrier, now, &mut rng);
        state.tokens.encode(&access).map_err(DrfError::internal)
    }

    /// Authenticate from the request's headers (see the module documentation).
    pub async fn authenticate(&self, state: &AppState, parts: &mut Parts) -> Found {
        let mut refused = None;
        match JwtUser::from_request_parts(parts, state).await {
            Ok(jwt) => return Found::User(jwt.user),
            Err(DrfError::NotAuthenticated) => {}
            Err(e) => refused = Some(e),
        }
        if state.authjs.is_some() {
            match AuthJsSession::from_request_parts(parts, state).await {
                Ok(session) if session.from_cookie => {
                    return match cookie_may_name_user(state, parts, &session.user) {
                        Ok(()) => Found::User(session.user),
                        Err(e) => Found::Anonymous(Some(e)),
                    }
                }
                Ok(session) => return Found::User(session.user),
                Err(DrfError::NotAuthenticated) => {}
                Err(e) => {
                    refused.get_or_insert(e);
                }
            }
        }
        match session::current(state, &self.pages, &parts.headers).await {
            Ok(Some(current)) => {
                return match cookie_may_name_user(state, parts, &current.user) {
                    Ok(()) => Found::User(current.user),
                    Err(e) => Found::Anonymous(Some(e)),
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "gateway: the login session could not be read");
            }
        }
        Found::Anonymous(refused)
    }
}

/// A cookie names its user only on a request another site cannot have made the browser send:
/// safe methods always (a link followed from elsewhere keeps the session, as `SameSite=Lax`
/// would), unsafe ones only when they pass authbridge's own CSRF check (Fetch Metadata and
/// `Origin` against the own origin, `AUTHBRIDGE_TRUSTED_ORIGINS` and CORS's credentialed
/// origins, as for the Auth.js and cookie-mode endpoints). Otherwise the request goes on
/// without an identity: a protected path answers the CSRF refusal, a public one reaches Django
/// anonymous. A Bearer token is never sent by a browser on its own and is not checked.
fn cookie_may_name_user(state: &AppState, parts: &Parts, user: &User) -> Result<(), DrfError> {
    if parts.method.is_safe() {
        return Ok(());
    }
    crate::http::browser::cookie_mode::origin_check(state, &parts.headers).inspect_err(|_| {
        crate::audit::record(
            crate::audit::Event::GatewayCrossSite,
            crate::audit::Subject {
                username: Some(&user.username),
                user_id: Some(user.id),
                reason: Some("cross_site_cookie"),
                ..Default::default()
            },
        );
    })
}

/// simplejwt's `AUTH_HEADER_NAME` (a META key, `HTTP_AUTHORIZATION`) as a header name.
fn jwt_header_name(meta: &str) -> String {
    meta.strip_prefix("HTTP_")
        .unwrap_or(meta)
        .replace('_', "-")
        .to_ascii_lowercase()
}

/// Remove every header whose Django `request.META` key is one of `keys` (without allocating
/// per header: this runs on every proxied request).
pub fn strip_meta_keys(headers: &mut HeaderMap, keys: &[String]) {
    let doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| keys.iter().any(|key| is_meta_key(name.as_str(), key)))
        .cloned()
        .collect();
    for name in doomed {
        headers.remove(&name);
    }
}

/// Whether Django files header `name` under `key` (`HTTP_` + upper case, `-` as `_`).
fn is_meta_key(name: &str, key: &str) -> bool {
    let Some(rest) = key.strip_prefix("HTTP_") else {
        return false;
    };
    rest.len() == name.len()
        && rest.bytes().zip(name.bytes()).all(|(k, n)| {
            let n = if n == b'-' {
                b'_'
            } else {
                n.to_ascii_uppercase()
            };
            k == n
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(names: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for n in names {
            let key = meta_key(&HeaderName::from_bytes(n.as_bytes()).expect("name"));
            out.push(format!("HTTP_{key}"));
            out.push(key);
        }
        out.sort();
        out
    }

    #[test]
    fn every_variant_django_files_under_the_same_key_is_stripped() {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("X-Remote-User", "a"),
            ("x-remote-user", "b"),
            ("X_Remote_User", "c"),
            ("x-remote_user", "d"),
            ("X-REMOTE-USER", "e"),
            ("Http-X-Remote-User", "f"),
            ("HTTP_X_REMOTE_USER", "g"),
            ("http-x_remote-user", "h"),
            ("X-Remote-User-Id", "1"),
            ("X-Remote-User-Email", "x@y"),
            ("Remote-User", "i"),
            ("Remote_User", "j"),
            ("X-Remote-Username", "kept"),
            ("X-Remote", "kept"),
            ("Authorization", "kept"),
        ] {
            h.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_static(value),
            );
        }
        strip_meta_keys(
            &mut h,
            &keys(&[
                "x-remote-user",
                "x-remote-user-id",
                "x-remote-user-email",
                "remote-user",
            ]),
        );
        let mut left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["authorization", "x-remote", "x-remote-username"]);
        let mut b = HeaderMap::new();
        b.insert("authorization", HeaderValue::from_static("Bearer x"));
        b.insert("http-authorization", HeaderValue::from_static("Bearer x"));
        strip_meta_keys(&mut b, &keys(&["authorization"]));
        assert!(b.is_empty());
    }

    #[test]
    fn simplejwt_header_names() {
        assert_eq!(jwt_header_name("HTTP_AUTHORIZATION"), "authorization");
        assert_eq!(jwt_header_name("HTTP_X_ACCESS_TOKEN"), "x-access-token");
    }
}
