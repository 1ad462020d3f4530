//! Operations endpoints: `GET /metrics` in Prometheus' text format, served only on the operations
//! listener (`AUTHBRIDGE_OPS_BIND`), never on the public one: request counts and latencies by
//! route, connection gauges and the security-event counters (`crate::audit`) tell an attacker
//! which usernames fail, how often the lockout engages and how loaded the server is.
//!
//! The Prometheus recorder is process-wide (`metrics` has one global recorder): it is installed
//! once, on first use, and every server in the process (tests start many) shares it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

use super::AppState;

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets (seconds): from a token verification to a slow password hash.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Install the Prometheus recorder (once per process) and return its handle; `None` when some
/// other recorder was installed first (an embedding program's), then `/metrics` answers 503.
pub fn install_recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let builder = match builder.set_buckets_for_metric(
                Matcher::Full("authbridge_http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            ) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: latency buckets refused");
                    PrometheusBuilder::new()
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => Some(handle),
                Err(_) => {
                    tracing::warn!(
                        "metrics: another recorder is installed; /metrics is unavailable"
                    );
                    None
                }
            }
        })
        .as_ref()
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(render))
}

async fn render() -> Response {
    match install_recorder() {
        Some(handle) => {
            handle.run_upkeep();
            (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                )],
                handle.render(),
            )
                .into_response()
        }
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}
