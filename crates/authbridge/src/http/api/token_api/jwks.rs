//! `GET /api/token/jwks/`: the public key for asymmetric algorithms, for simplejwt's `JWK_URL`.
//! With an HMAC algorithm there is nothing public to publish: 404.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::drf::json_response;
use crate::http::{AppState, DrfError};

pub async fn jwks(State(state): State<AppState>) -> Result<Response, DrfError> {
    let doc = state.tokens.keys.jwks().ok_or(DrfError::NotFound)?;
    let mut res = json_response(StatusCode::OK, &doc).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}
