//! `POST /api/token/verify/` (simplejwt `TokenVerifyView`, `UntypedToken`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use crate::http::drf::body::{DrfData, Fields};
use crate::http::drf::json_response;
use crate::http::{AppState, DrfError};

pub fn metadata(_: &AppState) -> Value {
    super::view_metadata(
        "Token Verify",
        "Takes a token and indicates if it is valid.  This view provides no\ninformation about a token's fitness for a particular use.",
        &["token"],
        &[],
    )
}

pub async fn verify(State(state): State<AppState>, data: DrfData) -> Result<Response, DrfError> {
    let mut fields = Fields::new(&data);
    let raw = fields.char_field("token");
    fields.finish()?;

    let now = state.clock.now().timestamp();
    let token = state.tokens.decode(&raw, now)?;
    state.tokens.rules.verify(&token, None, now)?;
    if state.settings.simple_jwt.blacklist_after_rotation {
        if let Some(jti) = token.jti(&state.tokens.rules) {
            if state.store.is_blacklisted(jti).await? {
                return Err(DrfError::NonField("Token is blacklisted".into()));
            }
        }
    }
    Ok(json_response(StatusCode::OK, &json!({})))
}
