//! `user/` (dj-rest-auth's `UserDetailsView`, `IsAuthenticated`): GET the user; PUT (username
//! required) and PATCH change `username`, `first_name`, `last_name`. `pk` and `email` are
//! read-only and ignored.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::serializers::UserUpdateCheck;
use super::{flows, user_body};
use crate::flows::account::UserChange;
use crate::http::drf::body::DrfData;
use crate::http::drf::json_response;
use crate::http::extract::JwtUser;
use crate::http::{AppState, DrfError};

pub async fn get_user(auth: JwtUser) -> Response {
    json_response(StatusCode::OK, &user_body(&auth.user))
}

pub async fn put_user(
    State(state): State<AppState>,
    auth: JwtUser,
    data: DrfData,
) -> Result<Response, DrfError> {
    update(&state, auth, data, false).await
}

pub async fn patch_user(
    State(state): State<AppState>,
    auth: JwtUser,
    data: DrfData,
) -> Result<Response, DrfError> {
    update(&state, auth, data, true).await
}

async fn update(
    state: &AppState,
    auth: JwtUser,
    data: DrfData,
    partial: bool,
) -> Result<Response, DrfError> {
    let flows = flows(state)?;
    let mut check = UserUpdateCheck::new(&data.0, partial);
    if let Some((username, field_failed)) = check.username() {
        let taken = if field_failed {
            // DRF's `UniqueValidator`: another user with exactly this name.
            state
                .store
                .user_by_username(username)
                .await?
                .is_some_and(|other| other.id != auth.user.id)
        } else {
            // allauth's `clean_username`: anyone in any case, the user included.
            flows.username_taken(username).await?
        };
        if taken {
            check.username_taken();
        }
    }
    let update = check.finish()?;
    let change = UserChange {
        username: update.username,
        first_name: update.first_name,
        last_name: update.last_name,
    };
    let user = flows.update_user(&auth.user, change).await?;
    Ok(json_response(StatusCode::OK, &user_body(&user)))
}
