//! `GET /.well-known/openid-configuration`: `oidc::discovery`'s document for the issuer.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::drf::json_response;
use crate::http::error::OAuthError;
use crate::http::AppState;
use crate::oidc::discovery::document;

pub async fn discovery(State(state): State<AppState>) -> Result<Response, OAuthError> {
    let runtime = super::runtime(&state)?;
    let oidc = runtime.settings();
    // The default algorithm first: relying parties that read only the first entry pick it.
    let mut algs = vec![oidc.id_token_signing_alg];
    algs.extend(
        oidc.signing_algorithms
            .iter()
            .copied()
            .filter(|a| *a != oidc.id_token_signing_alg),
    );
    let mut res = json_response(StatusCode::OK, &document(runtime.issuer(), &algs)).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}
