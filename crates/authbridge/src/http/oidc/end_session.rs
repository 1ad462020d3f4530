//! `GET/POST /oauth2/logout` (end_session, OpenID Connect RP-Initiated Logout 1.0):
//! `oidc::logout::plan` decides. The `id_token_hint` is verified with the provider's keys; the
//! browser is sent back only to a `post_logout_redirect_uri` registered byte for byte for the
//! client, with `state`; without a valid hint for the signed-in user the user confirms first (the
//! confirm form posts back here with a CSRF token and `confirm=yes`).

use axum::body::Bytes;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

use super::authorize::{parse_params, Params};
use crate::http::error::PageError;
use crate::http::pages::context::PageContext;
use crate::http::pages::{client, csrf, logout, session, with_cookies};
use crate::http::AppState;
use crate::oidc::claims;
use crate::oidc::logout::{plan, Hint, LogoutPlan};
use crate::oidc::paths;

/// The parameters the confirm form carries back.
const CARRIED: [&str; 4] = [
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
];

fn single<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    let mut values = params.iter().filter(|(k, _)| k == name);
    match (values.next(), values.next()) {
        (Some((_, v)), None) if !v.is_empty() => Some(v.as_str()),
        _ => None,
    }
}

pub async fn end_session_get(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<PageContext>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = parse_params(query.as_deref().unwrap_or(""));
    end_session(&state, &ctx, &headers, params, false).await
}

/// A relying party may post the same parameters as a form; our confirm form adds its CSRF token
/// and `confirm=yes`.
pub async fn end_session_post(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<PageContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let params = parse_params(&String::from_utf8_lossy(&body));
    let confirmed = single(&params, "confirm") == Some("yes");
    if confirmed {
        csrf::check(&ctx, &headers, single(&params, csrf::FIELD))?;
    }
    end_session(&state, &ctx, &headers, params, confirmed).await
}

async fn end_session(
    state: &AppState,
    ctx: &PageContext,
    headers: &HeaderMap,
    params: Params,
    confirmed: bool,
) -> Result<Response, PageError> {
    let hint = match single(&params, "id_token_hint") {
        None => Hint::Absent,
        Some(token) => {
            let claims = state
                .oidc
                .as_ref()
                .and_then(|oidc| oidc.keys().verify(token, state.clock.now()));
            match claims.and_then(|c| claims::id_token_hint(&c, &ctx.issuer)) {
                Some(valid) => Hint::Valid(valid),
                None => Hint::Invalid,
            }
        }
    };
    let client_id = single(&params, "client_id");
    let found = match hint.client_id(client_id) {
        Some(id) => client(state, id).await?,
        None => None,
    };
    let current = session::current(state, ctx, headers).await?;
    let decided = plan(
        &hint,
        client_id,
        found.as_ref(),
        single(&params, "post_logout_redirect_uri"),
        single(&params, "state"),
        current.as_ref().map(|c| c.user.id),
    )
    .map_err(|e| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            "Invalid sign-out request",
            e.to_string(),
        )
    })?;
    let redirect = match decided {
        LogoutPlan::Confirm { .. } if !confirmed => {
            let mut hidden: Vec<(&str, &str)> = CARRIED
                .iter()
                .filter_map(|name| single(&params, name).map(|v| (*name, v)))
                .collect();
            hidden.push(("confirm", "yes"));
            return logout::page(
                state,
                ctx,
                headers,
                current.as_ref().map(|c| c.user.username.as_str()),
                found.as_ref().map(|c| c.name.as_str()),
                paths::END_SESSION,
                hidden,
            );
        }
        LogoutPlan::Confirm { redirect } | LogoutPlan::Now { redirect } => redirect,
    };
    let cleared = session::end(state, ctx, headers).await?;
    let response = match redirect {
        Some(location) => Redirect::to(&location).into_response(),
        None => logout::page(
            state,
            ctx,
            headers,
            None,
            None,
            paths::END_SESSION,
            Vec::new(),
        )?,
    };
    Ok(with_cookies(response, [cleared].iter()))
}
