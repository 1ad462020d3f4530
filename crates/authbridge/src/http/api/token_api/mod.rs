//! simplejwt's four views (obtain, refresh, verify, blacklist) plus the JWKS for asymmetric keys.
//! One file per endpoint; shared steps (issuing a pair, reading a refresh token) live here.

mod blacklist;
mod jwks;
pub mod logout;
mod obtain;
mod refresh;
mod verify;

use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::http::drf::drf_view;
use crate::http::{AppState, DrfError};
use crate::storage::{OutstandingToken, User};
use crate::tokens::{epoch_to_datetime, Token, TokenError, TokenType};

/// The login endpoint (the only one that hashes a password) takes bodies of at most
/// `AUTHBRIDGE_LOGIN_MAX_BODY_BYTES` (64 KiB by default, where Django allows 2.5 MB): a login
/// flood cannot make the server hold megabytes per request. The limit is a route layer, inside
/// the global one, so it wins; an oversized body gets the usual 413 before any parsing.
pub fn routes(settings: &crate::config::Settings) -> Router<AppState> {
    Router::new()
        .route(
            "/api/token/",
            drf_view(post(obtain::obtain), "POST, OPTIONS", obtain::metadata).layer(
                axum::extract::DefaultBodyLimit::max(settings.login.max_body_bytes),
            ),
        )
        .route(
            "/api/token/refresh/",
            drf_view(post(refresh::refresh), "POST, OPTIONS", refresh::metadata),
        )
        .route(
            "/api/token/verify/",
            drf_view(post(verify::verify), "POST, OPTIONS", verify::metadata),
        )
        .route(
            "/api/token/blacklist/",
            drf_view(
                post(blacklist::blacklist),
                "POST, OPTIONS",
                blacklist::metadata,
            ),
        )
        .route(
            "/api/token/logout/",
            drf_view(
                post(logout::logout),
                "POST, OPTIONS",
                logout::logout_metadata,
            ),
        )
        .route(
            "/api/token/logout-all/",
            drf_view(
                post(logout::logout_all),
                "POST, OPTIONS",
                logout::logout_all_metadata,
            ),
        )
        .route("/api/token/jwks/", get(jwks::jwks))
}

/// DRF's OPTIONS metadata for a token view: its writable fields, then its read-only ones.
fn view_metadata(name: &str, description: &str, fields: &[&str], read_only: &[&str]) -> Value {
    let mut post = serde_json::Map::new();
    for field in fields {
        post.insert(
            (*field).into(),
            json!({"type": "string", "required": true, "read_only": false, "label": crate::http::drf::field_label(field)}),
        );
    }
    for field in read_only {
        post.insert(
            (*field).into(),
            json!({"type": "string", "required": false, "read_only": true, "label": crate::http::drf::field_label(field)}),
        );
    }
    json!({
        "name": name,
        "description": description,
        "renders": ["application/json", "text/html"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
        "actions": {"POST": post},
    })
}

/// A freshly issued pair for a user (login, token exchange, user sync): `for_user`, outstand, and
/// the derived access token, as `TokenObtainPairSerializer` does.
pub struct IssuedPair {
    pub refresh: String,
    pub access: String,
}

pub async fn issue_pair(state: &AppState, user: &User) -> Result<IssuedPair, DrfError> {
    issue_pair_in(state, user, None).await
}

/// `issue_pair`, the refresh token joining an existing login (`family`) instead of starting one:
/// logging that login out then ends this pair too.
pub async fn issue_pair_in(
    state: &AppState,
    user: &User,
    family: Option<&str>,
) -> Result<IssuedPair, DrfError> {
    let now = state.clock.now();
    // Before the new token exists: a password changed since last seen revokes only older ones.
    logout::note_password(state, user, now).await?;
    let rules = &state.tokens.rules;
    let (refresh, access) = {
        let mut rng = rand::rng();
        let mut extra = serde_json::Map::new();
        if state.settings.simple_jwt.check_revoke_token {
            extra.insert(
                state.settings.simple_jwt.revoke_token_claim.clone(),
                Value::from(crate::http::extract::password_hash_claim(&user.password)),
            );
        }
        let refresh = rules.refresh_for_user_with(user.id, extra, now.timestamp(), &mut rng);
        let access = rules.access_from_refresh(&refresh, now.timestamp(), &mut rng);
        (refresh, access)
    };
    let refresh_raw = state.tokens.encode(&refresh).map_err(DrfError::internal)?;
    let access_raw = state.tokens.encode(&access).map_err(DrfError::internal)?;
    state
        .store
        .outstand(
            &outstanding(state, &refresh, &refresh_raw, Some(user.id), now),
            family,
        )
        .await?;
    if state.settings.simple_jwt.update_last_login {
        state.store.set_last_login(user.id, now).await?;
    }
    Ok(IssuedPair {
        refresh: refresh_raw,
        access: access_raw,
    })
}

/// The outstanding-token row simplejwt writes for a refresh token.
fn outstanding(
    state: &AppState,
    token: &Token,
    raw: &str,
    user_id: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> OutstandingToken {
    OutstandingToken {
        user_id,
        jti: token
            .jti(&state.tokens.rules)
            .unwrap_or_default()
            .to_string(),
        token: raw.to_string(),
        created_at: Some(now),
        expires_at: epoch_to_datetime(token.exp().unwrap_or_default()),
    }
}

/// `RefreshToken(raw)`: decode, then `check_blacklist()` before the other checks (simplejwt's
/// order). A token without jti is "Token has no id" here, where simplejwt answers 500.
/// A blacklisted token is an error when `blacklist_is_final`; otherwise (a rotation that may be
/// replayed within the grace window) the token is returned with `true` and the rotation decides.
async fn read_refresh(
    state: &AppState,
    raw: &str,
    now: i64,
    blacklist_is_final: bool,
) -> Result<(Token, bool), DrfError> {
    let token = state.tokens.decode(raw, now)?;
    let jti = token.jti(&state.tokens.rules).ok_or(TokenError::NoId)?;
    let blacklisted = state.store.is_blacklisted(jti).await?;
    if blacklisted && blacklist_is_final {
        return Err(TokenError::Blacklisted.into());
    }
    state
        .tokens
        .rules
        .verify(&token, Some(TokenType::Refresh), now)?;
    Ok((token, blacklisted))
}
