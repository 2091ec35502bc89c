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
    /// Send as a file download (`grids.geojson`).
    pub download: Option<String>,
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
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let scope = station_scope(&state, &cu, q.station.as_deref()).await?;
    let body = Json(feature_collection(&state.store.grids(Some(&scope)).await?));
    if q.download.is_some() {
        let cd = "attachment; filename=\"grids.geojson\"";
        return Ok(([("content-disposition", cd)], body).into_response());
    }
    Ok(body.into_response())
}

/// The org path whose grids to show: the caller's grid scope, or one
/// station inside it (by org code).
pub async fn station_scope(state: &AppState, cu: &CurrentUser, station: Option<&str>) -> Result<String, AppError> {
    let scope = service::grid_scope(state.store.as_ref(), &cu.user).await?;
    match station.map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => {
            let o =
                state.store.org_unit_by_code(code).await?.ok_or_else(|| AppError::field("station", "没有该单位"))?;
            if !o.path.starts_with(&scope) {
                return Err(AppError::field("station", "该单位不在您的管辖范围内"));
            }
            Ok(o.path)
        }
        None => Ok(scope),
    }
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

#[derive(Deserialize, ToSchema)]
pub struct GridBody {
    pub name: String,
    #[serde(default = "default_kind")]
    pub kind: String,
    pub village: Option<String>,
    /// Username of the community officer.
    pub officer: Option<String>,
    /// Usernames of the auxiliaries.
    #[serde(default)]
    pub auxiliaries: Vec<String>,
    /// New GeoJSON geometry (Polygon or MultiPolygon, WGS-84); omitted keeps the shape.
    #[schema(value_type = Object)]
    pub geometry: Option<Value>,
    /// The version you read (409 `conflict` if it changed since).
    pub version: i64,
}

fn default_kind() -> String {
    "警务区".into()
}

impl From<GridBody> for service::GridEdit {
    fn from(b: GridBody) -> Self {
        service::GridEdit {
            name: b.name,
            kind: b.kind,
            village: b.village,
            officer: b.officer,
            auxiliaries: b.auxiliaries,
            geometry: b.geometry,
            version: b.version,
        }
    }
}

async fn after_grid_change(state: &AppState) -> Result<(), AppError> {
    state.reload_grids().await?;
    let s = state.clone();
    tokio::spawn(async move {
        if let Err(e) = s.run_jobs().await {
            tracing::error!(error = %e, "re-routing after a grid change failed");
        }
    });
    Ok(())
}

/// Edits one grid (admin, or a leader of its station); the old version goes
/// to the grid's history and located items are re-routed.
#[utoipa::path(put, path = "/api/v1/grids/{id}", request_body = GridBody, tag = "grids",
    responses((status = 200, body = Object), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    cu: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
    super::ApiJson(body): super::ApiJson<GridBody>,
) -> ApiResult<Json<GridImportReport>> {
    let report = service::edit_grid(state.store.as_ref(), &cu.user, id, body.into(), Utc::now()).await?;
    after_grid_change(&state).await?;
    Ok(Json(report))
}

/// One grid with its earlier versions (who, when, old name and geometry).
#[utoipa::path(get, path = "/api/v1/grids/{id}", tag = "grids", responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    cu: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> ApiResult<Json<Value>> {
    let g = find(&state, &cu, id).await?;
    let history: Vec<Value> = state
        .store
        .grid_history(id)
        .await?
        .into_iter()
        .map(|(at, who, name, geometry)| {
            json!({"changed_at": at, "actor": who, "old_name": name,
                   "old_geometry": serde_json::from_str::<Value>(&geometry).unwrap_or(Value::Null)})
        })
        .collect();
    let geometry: Value = serde_json::from_str(&g.geometry).unwrap_or(Value::Null);
    Ok(Json(json!({"type": "Feature", "properties": props(&g), "geometry": geometry, "history": history})))
}

pub async fn find(state: &AppState, cu: &CurrentUser, id: i64) -> Result<GridRecord, AppError> {
    let g = state.store.grids(None).await?.into_iter().find(|g| g.id == id).ok_or(AppError::NotFound)?;
    if !g.station_path.starts_with(&service::grid_scope(state.store.as_ref(), &cu.user).await?) {
        return Err(AppError::NotFound);
    }
    Ok(g)
}

// ------------------------------------------------------------------ pages

use crate::auth::PageUser;
use crate::pages::{PageError, PageResult, Shell, fmt_time, hx_redirect, page_window, render};
use askama::Template;
use axum::http::HeaderMap;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub q: Option<String>,
    pub station: Option<String>,
    pub page: Option<i64>,
}

pub struct GridRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub station: String,
    pub officer: String,
    pub auxiliaries: String,
    pub village: String,
    pub version: i64,
}

#[derive(Template)]
#[template(path = "grids/list.html")]
struct ListTpl {
    shell: Shell,
    rows: Vec<GridRow>,
    stations: Vec<(String, String)>,
    q: String,
    station: String,
    qs: String,
    total: i64,
    page: i64,
    pages: i64,
    window: Vec<i64>,
}

pub async fn list_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(f): Query<ListQuery>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "grids", "nav.grids").await.map_err(err)?;
    let scope = service::grid_scope(state.store.as_ref(), &cu.user).await.map_err(|e| err(e.into()))?;
    let grids = state.store.grids(Some(&scope)).await.map_err(|e| err(e.into()))?;
    let text = f.q.as_deref().unwrap_or("").trim().to_string();
    let station = f.station.as_deref().unwrap_or("").trim().to_string();
    let mut stations: Vec<(String, String)> =
        grids.iter().map(|g| (g.station_code.clone(), g.station_name.clone())).collect();
    stations.dedup();
    stations.sort();
    stations.dedup();
    let matched: Vec<&GridRecord> = grids
        .iter()
        .filter(|g| station.is_empty() || g.station_code == station)
        .filter(|g| {
            text.is_empty()
                || g.code.contains(&text)
                || g.name.contains(&text)
                || g.village.as_deref().is_some_and(|v| v.contains(&text))
                || g.officer_name.as_deref().is_some_and(|v| v.contains(&text))
        })
        .collect();
    let per = 20_i64;
    let total = matched.len() as i64;
    let pages = ((total + per - 1) / per).max(1);
    let page = f.page.unwrap_or(1).clamp(1, pages);
    let rows = matched
        .iter()
        .skip(((page - 1) * per) as usize)
        .take(per as usize)
        .map(|g| GridRow {
            id: g.id,
            code: g.code.clone(),
            name: g.name.clone(),
            kind: g.kind.clone(),
            station: g.station_name.clone(),
            officer: g.officer_name.clone().unwrap_or_default(),
            auxiliaries: g.auxiliaries.join("、"),
            village: g.village.clone().unwrap_or_default(),
            version: g.version,
        })
        .collect();
    let qs = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", &text)
        .append_pair("station", &station)
        .finish();
    render(
        ListTpl { shell, rows, stations, q: text, station, qs, total, page, pages, window: page_window(page, pages) },
        &headers,
    )
}

#[derive(Template)]
#[template(path = "grids/show.html")]
struct ShowTpl {
    shell: Shell,
    g: GridRecord,
    geometry_json: String,
    auxiliary_names: String,
    history: Vec<(String, String, String, String)>,
    may_edit: bool,
    figures_link: String,
}

pub async fn show_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let g = find(&state, &cu, id).await.map_err(err)?;
    let mut shell = Shell::new(&state, &cu, &headers, "grids", "nav.grids").await.map_err(err)?;
    shell.title = format!("{} {}", g.name, g.code);
    let history = state
        .store
        .grid_history(id)
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .rev()
        .map(|(at, who, name, geometry)| (fmt_time(&at), who, name, geometry))
        .collect();
    let mut auxiliaries = vec![];
    for a in &g.auxiliaries {
        let name = state.store.user_by_username(a).await.map_err(|e| err(e.into()))?.map(|(u, _)| u.display_name);
        auxiliaries.push(name.unwrap_or_else(|| a.clone()));
    }
    let pretty = serde_json::from_str::<Value>(&g.geometry)
        .ok()
        .and_then(|v| serde_json::to_string(&v).ok())
        .unwrap_or_else(|| g.geometry.clone());
    render(
        ShowTpl {
            may_edit: service::may_edit_grid(&cu.user, &g),
            figures_link: format!("/map/grids/{}/card?view=duty&part=figures", g.id),
            geometry_json: pretty,
            auxiliary_names: auxiliaries.join("、"),
            history,
            g,
            shell,
        },
        &headers,
    )
}

#[derive(Deserialize)]
pub struct EditForm {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub village: String,
    #[serde(default)]
    pub officer: String,
    #[serde(default)]
    pub auxiliaries: String,
    #[serde(default)]
    pub geometry: String,
    pub version: i64,
}

pub async fn edit_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
    axum::Form(f): axum::Form<EditForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let geometry = match f.geometry.trim() {
        "" => None,
        text => Some(
            serde_json::from_str::<Value>(text)
                .map_err(|e| err(AppError::field("geometry", &format!("边界不是有效的GeoJSON：{e}"))))?,
        ),
    };
    // a pasted Feature or FeatureCollection of one: take its geometry
    let geometry = geometry.map(|v| match v.get("type").and_then(Value::as_str) {
        Some("Feature") => v.get("geometry").cloned().unwrap_or(Value::Null),
        Some("FeatureCollection") => v.pointer("/features/0/geometry").cloned().unwrap_or(Value::Null),
        _ => v,
    });
    let edit = service::GridEdit {
        name: f.name,
        kind: f.kind,
        village: Some(f.village),
        officer: Some(f.officer),
        auxiliaries: f.auxiliaries.split([',', '，', '、', ' ']).map(str::to_string).collect(),
        geometry,
        version: f.version,
    };
    service::edit_grid(state.store.as_ref(), &cu.user, id, edit, Utc::now()).await.map_err(|e| err(e.into()))?;
    after_grid_change(&state).await.map_err(err)?;
    Ok(hx_redirect(&format!("/grids/{id}")))
}

#[derive(Template)]
#[template(path = "grids/import.html")]
struct ImportTpl {
    shell: Shell,
}

pub async fn import_page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    if !cu.user.has(zhufang_domain::Role::Admin) {
        return Err(err(AppError::Forbidden));
    }
    let shell = Shell::new(&state, &cu, &headers, "grids", "grid.import").await.map_err(err)?;
    render(ImportTpl { shell }, &headers)
}
