//! `GET /api/me/`: who the Bearer access token belongs to, with simplejwt `JWTAuthentication`'s
//! exact errors (the probe's protected Django view, served by authbridge itself). `is_staff` is
//! in the body so a frontend can show staff-only controls without another call.

use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::http::drf::{drf_view_authenticated, json_response};
use crate::http::extract::JwtUser;
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    fn metadata(_: &AppState) -> serde_json::Value {
        json!({
        "name": "Me",
        "description": "",
        "renders": ["application/json", "text/html"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
        })
    }
    Router::new().route(
        "/api/me/",
        drf_view_authenticated(get(me), "GET, HEAD, OPTIONS", metadata),
    )
}

async fn me(auth: JwtUser) -> Response {
    let user = auth.user;
    json_response(
        StatusCode::OK,
        &json!({
            "id": user.id,
            "username": user.username,
            "email": user.email.unwrap_or_default(),
            "is_staff": user.is_staff,
        }),
    )
}
