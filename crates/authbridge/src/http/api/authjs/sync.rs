//! `POST /api/users/sync`: a server (the Auth.js backend) reports an OAuth/OIDC sign-in; the
//! Django user is found or created and linked, and gets a simplejwt pair (`crate::flows::accounts`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use crate::http::drf::body::{DrfData, Fields};
use crate::http::drf::json_response;
use crate::http::extract::{check_service_token, ClientIp};
use crate::http::{AppState, DrfError};
use crate::model::ExternalAccount;

pub async fn sync(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    data: DrfData,
) -> Result<Response, DrfError> {
    check_service_token(&state, &headers)?;

    let mut fields = Fields::new(&data);
    let provider = fields.char_field("provider");
    let provider_account_id = fields.char_field("provider_account_id");
    let email = fields
        .optional_char_field("email")
        .map(|e| e.to_lowercase());
    let email_verified = fields.boolean_field("email_verified");
    let name = fields.optional_char_field("name");
    let image = fields.optional_char_field("image");
    if let Some(e) = &email {
        if !e.contains('@') || e.len() > 254 {
            let mut f = Fields::new(&data);
            let _ = f.char_field("provider");
            return Err(DrfError::field("email", "Enter a valid email address."));
        }
    }
    fields.finish()?;

    let email_linking = state.settings.email_linking_providers.contains(&provider);
    let account = ExternalAccount {
        provider,
        provider_account_id,
        email,
        email_verified,
        name,
        image,
        email_linking,
    };
    let synced = state
        .flows()
        .sync_account(&account, &state.settings.username_field, client.0)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "user_id": synced.user.id,
            "access": synced.pair.access,
            "refresh": synced.pair.refresh,
            "created": synced.created,
        }),
    ))
}
