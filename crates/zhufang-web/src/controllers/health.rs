//! Liveness and Prometheus metrics.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::fmt::Write;

pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            [("content-type", "application/json")],
            format!("{{\"status\":\"ok\",\"db\":\"{}\"}}", state.store.backend()),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, [("content-type", "application/json")], "{\"status\":\"unavailable\"}")
                .into_response()
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    out.push_str("# HELP zhufang_up Whether the database answers.\n# TYPE zhufang_up gauge\n");
    let up = state.store.ping().await.is_ok();
    let _ = writeln!(out, "zhufang_up {}", u8::from(up));
    if let Ok(counts) = state.store.state_counts().await {
        out.push_str("# HELP zhufang_tasks Tasks by state.\n# TYPE zhufang_tasks gauge\n");
        for (s, n) in counts {
            let _ = writeln!(out, "zhufang_tasks{{state=\"{s}\"}} {n}");
        }
    }
    state.metrics.render(&mut out);
    ([("content-type", "text/plain; version=0.0.4")], out).into_response()
}
