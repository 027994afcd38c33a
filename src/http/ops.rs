//! Operational endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.

use std::sync::OnceLock;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use super::HttpState;

/// The OpenAPI 3 document of the whole API, kept in the repository.
pub const OPENAPI_DOCUMENT: &str = include_str!("../../openapi.json");

static METRICS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide metrics recorder once (several servers in one test process
/// share it).
pub fn install_metrics_recorder() {
    METRICS.get_or_init(|| PrometheusBuilder::new().install_recorder().ok());
}

pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

pub async fn readyz(State(state): State<HttpState>) -> Response {
    let readiness = state.app.readiness();
    let body = json!({
        "status": if readiness.is_ready() { "ready" } else { "catching_up" },
        "store_seq": readiness.store_seq,
        "index_seq": readiness.index_seq,
        "indexed_experts": readiness.indexed_experts,
        "indexed_cases": readiness.indexed_cases,
        "learning": if state.app.learning_settled() { "settled" } else { "learning" },
    });
    if readiness.is_ready() {
        Json(body).into_response()
    } else {
        let reason = readiness
            .problem
            .unwrap_or_else(|| "the index is catching up with the store".to_string());
        let error = json!({"error": {"code": "not_ready", "message": reason}, "readiness": body});
        (StatusCode::SERVICE_UNAVAILABLE, Json(error)).into_response()
    }
}

pub async fn metrics(State(state): State<HttpState>) -> Response {
    let readiness = state.app.readiness();
    metrics::gauge!("citypeers_indexed_experts").set(readiness.indexed_experts as f64);
    metrics::gauge!("citypeers_indexed_cases").set(readiness.indexed_cases as f64);
    metrics::gauge!("citypeers_store_sequence").set(readiness.store_seq as f64);
    metrics::gauge!("citypeers_index_sequence").set(readiness.index_seq as f64);
    metrics::gauge!("citypeers_uptime_seconds").set(readiness.uptime_seconds as f64);
    let (expert_segments, case_segments) = state.app.engine().segment_counts();
    metrics::gauge!("citypeers_index_segments", "index" => "experts").set(expert_segments as f64);
    metrics::gauge!("citypeers_index_segments", "index" => "cases").set(case_segments as f64);
    let text = METRICS
        .get()
        .and_then(|handle| handle.as_ref())
        .map(PrometheusHandle::render)
        .unwrap_or_default();
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

pub async fn openapi() -> Response {
    let mut response = OPENAPI_DOCUMENT.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}
