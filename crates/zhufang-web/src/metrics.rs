//! Prometheus text metrics: request counts and latency by route and status,
//! plus task counts by state read at scrape time.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

/// (method, route, status)
type Key = (String, String, u16);

#[derive(Default)]
pub struct Metrics {
    /// count and total seconds per key
    requests: Mutex<BTreeMap<Key, (u64, f64)>>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut m = self.requests.lock().expect("metrics lock");
        let e = m.entry((method.to_string(), route.to_string(), status)).or_default();
        e.0 += 1;
        e.1 += secs;
    }

    pub fn render(&self, out: &mut String) {
        let m = self.requests.lock().expect("metrics lock");
        out.push_str("# HELP zhufang_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE zhufang_http_requests_total counter\n");
        for ((method, route, status), (n, _)) in m.iter() {
            let _ = writeln!(
                out,
                "zhufang_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP zhufang_http_request_seconds_sum Total time spent serving requests.\n");
        out.push_str("# TYPE zhufang_http_request_seconds_sum counter\n");
        for ((method, route, status), (_, s)) in m.iter() {
            let _ = writeln!(
                out,
                "zhufang_http_request_seconds_sum{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {s:.6}"
            );
        }
    }
}

pub async fn track(State(state): State<crate::AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    state.metrics.record(&method, &route, resp.status().as_u16(), start.elapsed().as_secs_f64());
    resp
}
