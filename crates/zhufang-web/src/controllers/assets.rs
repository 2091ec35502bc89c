//! Embedded static assets: our CSS/JS and the npm-pinned libraries.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

static FILES: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../assets/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/app.js")),
    ("swagger-init.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/swagger-init.js")),
    ("map.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/map.js")),
    ("charts.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/charts.js")),
    ("incident-import.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/incident-import.js")),
    (
        "echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!(concat!(env!("OUT_DIR"), "/vendor/echarts.min.js")),
    ),
    ("leaflet.js", "text/javascript; charset=utf-8", include_bytes!(concat!(env!("OUT_DIR"), "/vendor/leaflet.js"))),
    ("leaflet.css", "text/css; charset=utf-8", include_bytes!(concat!(env!("OUT_DIR"), "/vendor/leaflet.css"))),
    ("htmx.min.js", "text/javascript; charset=utf-8", include_bytes!(concat!(env!("OUT_DIR"), "/vendor/htmx.min.js"))),
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!(concat!(env!("OUT_DIR"), "/vendor/swagger-ui-bundle.js")),
    ),
    ("swagger-ui.css", "text/css; charset=utf-8", include_bytes!(concat!(env!("OUT_DIR"), "/vendor/swagger-ui.css"))),
];

pub async fn serve(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, ct, body)) => {
            ([("content-type", *ct), ("cache-control", "public, max-age=3600")], *body).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
