//! `GET /consent` (the consent screen for a third-party client: its name and what it asks for)
//! and `POST /consent` (allow: remembered, then the code is issued; deny: `access_denied` to the
//! client). The screen carries the authorization request as it arrived (`request`), validated
//! again on each step; a first-party client never gets here (and is sent back if it does).

use axum::body::Bytes;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

use super::context::PageContext;
use super::csrf::{self, Csrf};
use super::view::{self, describe_scope, Brand, ConsentPage};
use super::{parse_form, session, with_cookies};
use crate::http::error::PageError;
use crate::http::oidc::authorize::{
    as_session, issue, parse_params, requested_at, stamped_query, validated,
};
use crate::http::AppState;
use crate::model::Consent;
use crate::oidc::authorize::{next_step, ErrorRedirect, Next};
use crate::oidc::{paths, ErrorCode, Scope};

pub const PATH: &str = "/consent";

#[derive(Deserialize)]
struct ConsentForm {
    csrf_token: Option<String>,
    #[serde(default)]
    request: String,
    #[serde(default)]
    decision: String,
}

/// Back to the authorization endpoint, which decides what is next (login, an error, a code).
fn back_to_authorize(query: &str) -> Response {
    Redirect::to(&format!("{}?{query}", paths::AUTHORIZE)).into_response()
}

pub async fn show(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<PageContext>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = query.unwrap_or_default();
    let params = parse_params(&query);
    let (request, client) = match validated(&state, &ctx, &params).await? {
        Ok(valid) => valid,
        Err(redirect) => return Ok(redirect),
    };
    let Some(current) = session::current(&state, &ctx, &headers).await? else {
        return Ok(back_to_authorize(&query));
    };
    if client.first_party {
        return Ok(back_to_authorize(&query));
    }
    let csrf = Csrf::for_form(&ctx, &headers, &*state.random);
    let requested_at = requested_at(&ctx, &params, state.clock.now());
    let scopes = request
        .scope
        .as_string()
        .split(' ')
        .filter_map(describe_scope)
        .collect();
    let response = view::render(
        StatusCode::OK,
        &ConsentPage {
            title: "Allow access",
            brand: Brand::from(&*ctx),
            client_name: &client.name,
            username: &current.user.username,
            scopes,
            csrf_token: &csrf.token(&ctx),
            request: &stamped_query(&ctx, &params, requested_at),
        },
    )?;
    Ok(with_cookies(response, csrf.set_cookie.iter()))
}

pub async fn submit(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<PageContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: ConsentForm = parse_form(&body)?;
    csrf::check(&ctx, &headers, form.csrf_token.as_deref())?;
    let params = parse_params(&form.request);
    let (mut request, client) = match validated(&state, &ctx, &params).await? {
        Ok(valid) => valid,
        Err(redirect) => return Ok(redirect),
    };
    let Some(current) = session::current(&state, &ctx, &headers).await? else {
        return Ok(back_to_authorize(&form.request));
    };
    match form.decision.as_str() {
        "allow" => {}
        "deny" => {
            let denied = ErrorRedirect {
                redirect_uri: request.redirect_uri.clone(),
                error: ErrorCode::AccessDenied,
                description: "the user denied access",
                state: request.state.clone(),
            };
            return Ok(Redirect::to(&denied.location(&ctx.issuer)).into_response());
        }
        _ => {
            return Err(PageError::new(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "Choose Allow or Deny.",
            ))
        }
    }
    let now = state.clock.now();
    let previous = state
        .store
        .consent(current.user.id, &client.client_id)
        .await
        .map_err(PageError::internal)?;
    let granted = match previous {
        Some(p) => Scope::parse(&format!(
            "{} {}",
            p.scope.as_string(),
            request.scope.as_string()
        )),
        None => request.scope.clone(),
    };
    state
        .store
        .upsert_consent(&Consent {
            user_id: current.user.id,
            client_id: client.client_id.clone(),
            scope: granted,
            created_at: now,
        })
        .await
        .map_err(PageError::internal)?;
    // The consent just given answers `prompt=consent`; login freshness is judged as at the
    // authorization endpoint.
    request.prompt.consent = false;
    let requested_at = requested_at(&ctx, &params, now);
    match next_step(
        &request,
        Some(as_session(&current)),
        requested_at,
        true,
        client.first_party,
        now,
    ) {
        Next::Issue(session) => issue(&state, &ctx, &request, session).await,
        _ => Ok(back_to_authorize(&form.request)),
    }
}
