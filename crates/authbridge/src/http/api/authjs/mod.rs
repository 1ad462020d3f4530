//! The Auth.js bridge: read Auth.js sessions (v5 and v4 cookies, chunked, or a Bearer JWE),
//! exchange them for simplejwt tokens, and sync OAuth sign-ins into Django's users.

mod session;
mod sync;

use axum::routing::{get, post};
use axum::Router;

use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/authjs/session", get(session::session))
        .route("/api/authjs/token", post(session::exchange))
        .route("/api/users/sync", post(sync::sync))
}
