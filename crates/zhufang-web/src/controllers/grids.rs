//! Grids: GeoJSON out, import in, and locating a point.

use crate::auth::CurrentUser;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use zhufang_domain::Wgs84Point;
use zhufang_domain::geojson::Datum;
use zhufang_store::model::GridRecord;
use zhufang_store::service::{self, GridImportReport};

#[derive(Deserialize, IntoParams)]
pub struct GridsQuery {
    /// Station org code: only its grids.
    pub station: Option<String>,
}

fn props(g: &GridRecord) -> Value {
    json!({
        "id": g.id, "code": g.code, "name": g.name, "kind": g.kind,
        "station": g.station_code, "station_name": g.station_name,
        "officer": g.officer, "officer_name": g.officer_name,
        "auxiliaries": g.auxiliaries, "village": g.village, "version": g.version,
    })
}

/// The grids in the caller's jurisdiction as a GeoJSON FeatureCollection (WGS-84).
#[utoipa::path(get, path = "/api/v1/grids", params(GridsQuery), tag = "grids", responses((status = 200, description = "GeoJSON FeatureCollection")))]
pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<GridsQuery>,
) -> ApiResult<Json<Value>> {
    let scope = match q.station.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => {
            let o =
                state.store.org_unit_by_code(code).await?.ok_or_else(|| AppError::field("station", "没有该单位"))?;
            if !cu.user.covers(&o.path) {
                return Err(AppError::field("station", "该单位不在您的管辖范围内"));
            }
            o.path
        }
        None => cu.user.org_path.clone(),
    };
    Ok(Json(feature_collection(&state.store.grids(Some(&scope)).await?)))
}

/// Stored grids as a GeoJSON FeatureCollection (also what the CLI exports).
pub fn feature_collection(grids: &[GridRecord]) -> Value {
    let features: Vec<Value> = grids
        .iter()
        .map(|g| {
            let geometry: Value = serde_json::from_str(&g.geometry).unwrap_or(Value::Null);
            json!({"type": "Feature", "properties": props(g), "geometry": geometry})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

#[derive(Deserialize, IntoParams)]
pub struct LocateQuery {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Serialize, ToSchema)]
pub struct LocateOut {
    /// The grid containing the point, or null.
    #[schema(value_type = Object)]
    pub grid: Option<Value>,
    /// The grid's station; for a point outside every grid, the nearest grid's station.
    #[schema(value_type = Object)]
    pub station: Option<Value>,
    /// Whether the point lies in a grid.
    pub routed: bool,
}

/// Which grid and station a point belongs to.
#[utoipa::path(get, path = "/api/v1/grids/locate", params(LocateQuery), tag = "grids", responses((status = 200, body = LocateOut)))]
pub async fn locate(
    State(state): State<AppState>,
    _cu: CurrentUser,
    Query(q): Query<LocateQuery>,
) -> ApiResult<Json<LocateOut>> {
    let p = Wgs84Point::new(q.lat, q.lon).map_err(|e| AppError::field(e.field, e.message))?;
    let router = state.router();
    let (hit, routed) = match router.locate(p) {
        Some(r) => (Some(r), true),
        None => (router.nearest(p), false),
    };
    let Some(hit) = hit else { return Ok(Json(LocateOut { grid: None, station: None, routed: false })) };
    let g = router.record(hit.grid_id).ok_or(AppError::NotFound)?;
    let station = json!({"id": g.station_id, "code": g.station_code, "name": g.station_name});
    Ok(Json(LocateOut { grid: routed.then(|| props(g)), station: Some(station), routed }))
}

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// wgs84 (default, also cgcs2000), gcj02 (高德) or bd09 (百度).
    pub datum: Option<String>,
    /// Check and report without writing.
    pub dry_run: Option<bool>,
}

/// Imports grids from a GeoJSON FeatureCollection (admin). All or nothing:
/// any problem is a 422 listing `features[i]` with its reason.
#[utoipa::path(post, path = "/api/v1/grids/import", params(ImportQuery), request_body(content = String, content_type = "application/geo+json"), tag = "grids",
    responses((status = 200, body = Object), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ImportQuery>,
    body: String,
) -> ApiResult<Json<GridImportReport>> {
    let datum = match q.datum.as_deref() {
        None | Some("") => Datum::Wgs84,
        Some(d) => Datum::parse(d).ok_or_else(|| AppError::field("datum", "坐标系须为 wgs84、gcj02 或 bd09"))?,
    };
    let dry_run = q.dry_run.unwrap_or(false);
    let report = service::import_grids(state.store.as_ref(), &body, datum, Some(&cu.user), dry_run, Utc::now()).await?;
    if !dry_run {
        state.reload_grids().await?;
        let s = state.clone();
        tokio::spawn(async move {
            if let Err(e) = s.run_jobs().await {
                tracing::error!(error = %e, "re-routing after import failed");
            }
        });
    }
    Ok(Json(report))
}

/// Progress of a background job, e.g. `reroute_items` after a grid import.
#[utoipa::path(get, path = "/api/v1/jobs/{name}", tag = "grids", responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn job(
    State(state): State<AppState>,
    _cu: CurrentUser,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> ApiResult<Json<zhufang_store::model::Job>> {
    Ok(Json(state.store.job(&name).await?.ok_or(AppError::NotFound)?))
}
