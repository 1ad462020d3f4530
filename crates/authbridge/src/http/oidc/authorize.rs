//! `GET /oauth2/authorize` (and its form-post variant): `oidc::authorize::validate`, then
//! `oidc::authorize::next_step` with the browser's login session. An unknown client or an
//! unregistered redirect_uri is an error page, never a redirect; every later error goes back to
//! the client with `error`, `state` and `iss`.
//!
//! The login and consent pages come back here with the request as it arrived plus one parameter
//! of ours, `authbridge_requested_at` (when the request first arrived, signed with a server key):
//! a password entered after it satisfies `prompt=login` and `max_age` (see `next_step`). Unsigned,
//! tampered or older than [`STAMP_MAX_AGE_SECS`], it is ignored and the request counts as new.

use axum::body::Bytes;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use std::sync::Arc;

use crate::http::error::PageError;
use crate::http::pages::context::PageContext;
use crate::http::pages::session::{self, Current};
use crate::http::pages::{client, consent, login};
use crate::http::AppState;
use crate::model::CodeRecord;
use crate::oidc::authorize::{self as rules, AuthorizationRequest, AuthorizeError, Next, Session};
use crate::oidc::code::{self, NewCode};
use crate::oidc::paths;

/// Our parameter, added to the request on its way through the login and consent pages.
pub const REQUESTED_AT: &str = "authbridge_requested_at";
/// How long a login round trip may take before the request counts as a new one.
pub const STAMP_MAX_AGE_SECS: i64 = 3600;

pub type Params = Vec<(String, String)>;

pub fn parse_params(text: &str) -> Params {
    form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

/// The request with our stamp (replacing any it had), as a query string.
pub fn stamped_query(ctx: &PageContext, params: &Params, requested_at: DateTime<Utc>) -> String {
    // Milliseconds: a login earlier in the same second must not count as fresh.
    let millis = requested_at.timestamp_millis().to_string();
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.iter().filter(|(k, _)| k != REQUESTED_AT) {
        query.append_pair(k, v);
    }
    query.append_pair(REQUESTED_AT, &format!("{millis}.{}", ctx.stamp(&millis)));
    query.finish()
}

/// When the request first arrived: our stamp if genuine and recent, else `now`.
pub fn requested_at(ctx: &PageContext, params: &Params, now: DateTime<Utc>) -> DateTime<Utc> {
    params
        .iter()
        .find(|(k, _)| k == REQUESTED_AT)
        .and_then(|(_, v)| v.split_once('.'))
        .filter(|(millis, mac)| ctx.stamp_valid(millis, mac))
        .and_then(|(millis, _)| millis.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_millis)
        .filter(|t| *t <= now && (now - *t).num_seconds() <= STAMP_MAX_AGE_SECS)
        .unwrap_or(now)
}

/// The request's client and its validation; the client's pages-facing failures as pages.
pub async fn validated(
    state: &AppState,
    ctx: &PageContext,
    params: &Params,
) -> Result<Result<(AuthorizationRequest, crate::model::Client), Response>, PageError> {
    let client_id = rules::client_id(params).map_err(page_error)?;
    let found = client(state, client_id).await?;
    match rules::validate(params, found.as_ref()) {
        Ok(request) => match found {
            Some(client) => Ok(Ok((request, client))),
            None => Err(page_error(rules::PageError::UnknownClient)),
        },
        Err(AuthorizeError::Page(e)) => Err(page_error(e)),
        Err(AuthorizeError::Redirect(e)) => {
            Ok(Err(Redirect::to(&e.location(&ctx.issuer)).into_response()))
        }
    }
}

pub fn page_error(e: rules::PageError) -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        "Invalid sign-in request",
        e.to_string(),
    )
}

pub async fn authorize_get(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<PageContext>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = parse_params(query.as_deref().unwrap_or(""));
    authorize(&state, &ctx, &headers, params).await
}

/// The form-post variant (OpenID Connect Core §3.1.2.1 allows POST): the same parameters in the
/// body.
pub async fn authorize_post(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<PageContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let params = parse_params(&String::from_utf8_lossy(&body));
    authorize(&state, &ctx, &headers, params).await
}

async fn authorize(
    state: &AppState,
    ctx: &PageContext,
    headers: &HeaderMap,
    params: Params,
) -> Result<Response, PageError> {
    let (request, client) = match validated(state, ctx, &params).await? {
        Ok(valid) => valid,
        Err(redirect) => return Ok(redirect),
    };
    let now = state.clock.now();
    let requested_at = requested_at(ctx, &params, now);
    let current = session::current(state, ctx, headers).await?;
    let consented = match &current {
        Some(c) => consented(state, c.user.id, &request).await?,
        None => false,
    };
    let session = current.as_ref().map(as_session);
    match rules::next_step(
        &request,
        session,
        requested_at,
        consented,
        client.first_party,
        now,
    ) {
        Next::Login => {
            let next = format!(
                "{}?{}",
                paths::AUTHORIZE,
                stamped_query(ctx, &params, requested_at)
            );
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("next", &next)
                .finish();
            Ok(Redirect::to(&format!("{}?{query}", login::PATH)).into_response())
        }
        Next::Consent => Ok(Redirect::to(&format!(
            "{}?{}",
            consent::PATH,
            stamped_query(ctx, &params, requested_at)
        ))
        .into_response()),
        Next::Issue(session) => issue(state, ctx, &request, session).await,
        Next::Error(e) => Ok(Redirect::to(&e.location(&ctx.issuer)).into_response()),
    }
}

pub fn as_session(current: &Current) -> Session {
    Session {
        user_id: current.user.id,
        auth_time: current.session.auth_time,
    }
}

/// Whether the user already granted this client every scope the request asks for.
pub async fn consented(
    state: &AppState,
    user_id: i64,
    request: &AuthorizationRequest,
) -> Result<bool, PageError> {
    let consent = state
        .store
        .consent(user_id, &request.client_id)
        .await
        .map_err(PageError::internal)?;
    Ok(consent.is_some_and(|c| request.scope.is_subset_of(&c.scope)))
}

/// A code for `session`'s user, stored hashed, and the redirect that delivers it.
pub async fn issue(
    state: &AppState,
    ctx: &PageContext,
    request: &AuthorizationRequest,
    session: Session,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let (code, hash) = code::generate(&mut state.random.rng());
    let record = CodeRecord::new(
        hash,
        NewCode {
            client_id: request.client_id.clone(),
            user_id: session.user_id,
            redirect_uri: request.redirect_uri.clone(),
            scope: request.scope.clone(),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            auth_time: session.auth_time,
        },
        now,
        state.settings.oidc.code_lifetime,
    );
    state
        .store
        .insert_code(&record)
        .await
        .map_err(PageError::internal)?;
    Ok(Redirect::to(&rules::success_location(request, &code, &ctx.issuer)).into_response())
}
