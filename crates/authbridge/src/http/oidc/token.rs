//! `POST /oauth2/token` (RFC 6749 §3.2): client authentication, then the grant
//! (`flows::oidc::token`). `password` and any grant we do not serve are
//! `unsupported_grant_type`. Every answer is `no-store`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::client::authenticate;
use super::form::OAuthForm;
use crate::flows::oidc::{CodeGrant, Issued, Provider};
use crate::http::error::OAuthError;
use crate::http::extract::ClientIp;
use crate::http::AppState;
use crate::oidc::grant::GrantType;
use crate::oidc::ErrorCode;

pub async fn token(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    form: OAuthForm,
) -> Response {
    // The grant type first: a request for a grant we never serve is refused as such whoever
    // sends it (RFC 6749 §5.2 lists unsupported_grant_type without client authentication).
    let grant = match GrantType::parse(form.get("grant_type")) {
        Ok(grant) => grant,
        Err(code) => {
            let description = match code {
                ErrorCode::UnsupportedGrantType => {
                    "supported grants: authorization_code, refresh_token, client_credentials"
                }
                _ => "grant_type is required",
            };
            return super::refused(code, description).into_response();
        }
    };
    let client = match authenticate(&state, &headers, &form, true).await {
        Ok(client) => client,
        Err(refused) => return refused.into_response(),
    };
    match run(&state, grant, &client, &form, ip).await {
        Ok(issued) => super::no_store(&body(&issued)),
        Err(e) => e.into_response(),
    }
}

async fn run(
    state: &AppState,
    grant: GrantType,
    client: &crate::oidc::client::Client,
    form: &OAuthForm,
    ip: ClientIp,
) -> Result<Issued, OAuthError> {
    grant
        .allowed_for(client)
        .map_err(|code| super::refused(code, "this client may not use this grant"))?;
    let runtime = super::runtime(state)?;
    let base = state.flows();
    let flows = base.with_tokens(runtime.client_tokens());
    let required = |name: &'static str| {
        form.get(name).ok_or_else(|| {
            super::refused(ErrorCode::InvalidRequest, &format!("{name} is required"))
        })
    };
    Ok(match grant {
        GrantType::AuthorizationCode => {
            let keys = runtime.keys();
            let provider = Provider {
                issuer: runtime.issuer(),
                settings: runtime.settings(),
                keys: &keys,
            };
            let code = CodeGrant {
                code: required("code")?,
                redirect_uri: form.get("redirect_uri"),
                code_verifier: form.get("code_verifier"),
            };
            flows
                .authorization_code(provider, client, code, ip.0)
                .await?
        }
        GrantType::RefreshToken => {
            flows
                .refresh_token_grant(client, required("refresh_token")?, form.get("scope"), ip.0)
                .await?
        }
        GrantType::ClientCredentials => flows.client_credentials(client)?,
    })
}

/// RFC 6749 §5.1 and OpenID Connect Core §3.1.3.3.
fn body(issued: &Issued) -> Value {
    let mut body = Map::new();
    body.insert("access_token".into(), issued.access_token.clone().into());
    body.insert("token_type".into(), "Bearer".into());
    body.insert("expires_in".into(), issued.expires_in.into());
    if let Some(refresh) = &issued.refresh_token {
        body.insert("refresh_token".into(), refresh.clone().into());
    }
    if let Some(id_token) = &issued.id_token {
        body.insert("id_token".into(), id_token.clone().into());
    }
    body.insert("scope".into(), issued.scope.clone().into());
    json!(body)
}
