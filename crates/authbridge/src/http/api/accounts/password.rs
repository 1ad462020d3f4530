//! Passwords: `password/change/` (`PasswordChangeView`, `IsAuthenticated`), `password/reset/`
//! (`PasswordResetView`) and `password/reset/confirm/` (`PasswordResetConfirmView`). The new
//! password goes through Django's `SetPasswordForm` for the user: mismatch, else every
//! validator, under `new_password2`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::serializers::{self, set_password_form};
use super::{client_of, detail, flows, mail_link, vary_cookie, MaybeUser};
use crate::http::drf::body::DrfData;
use crate::http::extract::{ClientIp, JwtUser};
use crate::http::{AppState, DrfError};

/// 200 `{"detail":"New password has been saved."}`; the user's earlier refresh tokens are
/// refused from then on (beyond the anchor: simplejwt keeps them valid).
pub async fn change(
    State(state): State<AppState>,
    client: ClientIp,
    auth: JwtUser,
    data: DrfData,
) -> Result<Response, DrfError> {
    let flows = flows(&state)?;
    let new = serializers::password_change(&data.0)?;
    set_password_form(&new, &auth.user, &state.settings.password_validators)?;
    flows
        .change_password(&auth.user, new.password1, client_of(client))
        .await?;
    Ok(vary_cookie(detail(
        StatusCode::OK,
        "New password has been saved.",
    )))
}

/// 200 `{"detail":"Password reset e-mail has been sent."}` for known, unknown and inactive
/// addresses alike; only active users get an email, off the request path.
pub async fn reset(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    _auth: MaybeUser,
    data: DrfData,
) -> Result<Response, DrfError> {
    let done = "Password reset e-mail has been sent.";
    mail_link(
        &state,
        client,
        &headers,
        &data,
        done,
        |flows, email, origin, client| async move {
            flows.request_password_reset(&email, &origin, client).await
        },
    )
    .await
}

/// The fields, then `{"uid":["Invalid value"]}`, then `{"token":["Invalid value"]}`, then the
/// form; 200 `{"detail":"Password has been reset with the new password."}`.
pub async fn reset_confirm(
    State(state): State<AppState>,
    client: ClientIp,
    _auth: MaybeUser,
    data: DrfData,
) -> Result<Response, DrfError> {
    let flows = flows(&state)?;
    let fields = serializers::reset_confirm(&data.0)?;
    let user = flows.check_reset(&fields.uid, &fields.token).await?;
    set_password_form(&fields.new, &user, &state.settings.password_validators)?;
    flows
        .reset_password(
            &fields.uid,
            &fields.token,
            fields.new.password1,
            client_of(client),
        )
        .await?;
    Ok(detail(
        StatusCode::OK,
        "Password has been reset with the new password.",
    ))
}
