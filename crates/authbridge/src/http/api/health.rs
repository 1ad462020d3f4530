//! `GET /healthz`: 200 once the server serves and its database answers (kept as it always was);
//! `GET /readyz`: the readiness probe, 200 when the database answers, 503 otherwise. Both are
//! served on the public listener (exempt from the host check: probes come by IP address) and on
//! the operations listener when there is one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::http::drf::json_response;
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(database_check))
        .route("/readyz", get(database_check))
}

async fn database_check(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => json_response(StatusCode::OK, &json!({"status": "ok"})),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"status": "database unavailable"}),
            )
        }
    }
}
