//! The one map (一张图): three views (command, analysis, duty) on one
//! engine, and the APIs they draw from — points by bounding box and zoom
//! (clustered when dense), H3 heat cells, grids coloured by a figure, the
//! card of one grid, and the unrouted queue.

use crate::auth::{CurrentUser, PageUser};
use crate::error::{ApiResult, AppError};
use crate::layers::{self, LAYERS, LayerDef};
use crate::pages::{PageError, PageResult, Shell, fmt_time, page_window, render};
use crate::state::AppState;
use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use zhufang_domain::Role;
use zhufang_store::model::{GridFigures, MapQuery, PageReq};

/// Below this many items in view, points come one by one; above, clustered.
pub const POINTS_MAX: i64 = 500;
/// Cluster cell size in screen pixels.
const CLUSTER_PX: f64 = 64.0;
/// Most positions read for one heat request.
const HEAT_MAX: i64 = 500_000;

/// Who may use the map: anyone with a jurisdiction (a partner agency sees
/// only the tasks handed to it, so not the map).
fn map_scope(cu: &CurrentUser) -> Result<String, AppError> {
    if cu.user.roles.iter().all(|r| *r == Role::PartnerAgency) {
        return Err(AppError::Forbidden);
    }
    Ok(cu.user.org_path.clone())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    Command,
    Analysis,
    Duty,
}

impl View {
    fn parse(s: &str) -> Option<View> {
        match s {
            "command" => Some(View::Command),
            "analysis" => Some(View::Analysis),
            "duty" => Some(View::Duty),
            _ => None,
        }
    }
    fn id(self) -> &'static str {
        match self {
            View::Command => "command",
            View::Analysis => "analysis",
            View::Duty => "duty",
        }
    }
    /// The view's default period: the last 24 hours (command), the last 30
    /// days (analysis), this week from Monday, Beijing time (duty).
    pub fn default_period(self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        match self {
            View::Command => (now - Duration::hours(24), now),
            View::Analysis => (now - Duration::days(30), now),
            View::Duty => (week_start(now), now),
        }
    }
}

/// Monday 00:00 Beijing of the week containing `now`.
pub fn week_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&Shanghai).date_naive();
    let monday = local - Duration::days(i64::from(local.weekday().num_days_from_monday()));
    Shanghai
        .from_local_datetime(&monday.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct MapParams {
    /// Comma-separated layer ids (default: every layer).
    pub layers: Option<String>,
    /// `west,south,east,north` in WGS-84 degrees.
    pub bbox: Option<String>,
    /// Map zoom level (0–22); sets the cluster cell and the heat resolution.
    pub zoom: Option<u8>,
    /// command, analysis or duty: sets the default period.
    pub view: Option<String>,
    /// Period start (date or date-time, Beijing); default by view.
    pub from: Option<String>,
    /// Period end (date = end of that day); default now.
    pub to: Option<String>,
    /// Only open items.
    pub open: Option<bool>,
    /// Only this category (for tasks: the catalogue code).
    pub category: Option<String>,
    /// Heat: H3 resolution 5–10 (default from zoom).
    pub res: Option<u8>,
    /// Grids: the figure to colour by (see `/api/v1/map/layers`).
    pub figure: Option<String>,
    /// Grids: only this station's (org code).
    pub station: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl MapParams {
    fn view(&self) -> Result<View, AppError> {
        match nonempty(&self.view) {
            None => Ok(View::Command),
            Some(v) => View::parse(v).ok_or_else(|| AppError::field("view", "视图须为 command、analysis 或 duty")),
        }
    }

    fn period(&self, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
        let (dfrom, dto) = self.view()?.default_period(now);
        let from = match nonempty(&self.from) {
            Some(s) if s.len() == 10 => super::parse_day_start("from", s)?,
            Some(s) => super::parse_time("from", s)?,
            None => dfrom,
        };
        let to = match nonempty(&self.to) {
            Some(s) => super::parse_time("to", s)?,
            None => dto,
        };
        if from >= to {
            return Err(AppError::field("to", "结束时间须晚于开始时间"));
        }
        Ok((from, to))
    }

    fn layers(&self) -> Result<Vec<&'static LayerDef>, AppError> {
        match nonempty(&self.layers) {
            None => Ok(LAYERS.iter().collect()),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|id| layers::by_id(id).ok_or_else(|| AppError::field("layers", &format!("没有图层 {id}"))))
                .collect(),
        }
    }

    /// (min lon, min lat, max lon, max lat) in 1e-7 degrees.
    fn bbox(&self) -> Result<Option<[i64; 4]>, AppError> {
        let Some(s) = nonempty(&self.bbox) else { return Ok(None) };
        let bad = || AppError::field("bbox", "范围须为 西,南,东,北 四个经纬度");
        let v: Vec<f64> = s.split(',').map(|x| x.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
        let [w, so, e, n] = <[f64; 4]>::try_from(v).map_err(|_| bad())?;
        if !(w.is_finite() && so.is_finite() && e.is_finite() && n.is_finite()) || w > e || so > n {
            return Err(bad());
        }
        let c = |x: f64, lim: f64| (x.clamp(-lim, lim) * 1e7).round() as i64;
        Ok(Some([c(w, 180.0), c(so, 90.0), c(e, 180.0), c(n, 90.0)]))
    }

    fn zoom(&self) -> Result<u8, AppError> {
        match self.zoom {
            None => Ok(13),
            Some(z) if z <= 22 => Ok(z),
            Some(_) => Err(AppError::field("zoom", "缩放级别须为0至22")),
        }
    }

    fn query(&self, scope: String, now: DateTime<Utc>, with_period: bool) -> Result<MapQuery, AppError> {
        let (from, to) = self.period(now)?;
        Ok(MapQuery {
            scope_path: Some(scope),
            kinds: self.layers()?.iter().map(|l| l.kind.to_string()).collect(),
            bbox: self.bbox()?,
            from: with_period.then_some(from),
            to: with_period.then_some(to),
            open_only: self.open.unwrap_or(false),
            category: nonempty(&self.category).map(str::to_string),
            grid_id: None,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct PointOut {
    pub layer: &'static str,
    pub id: i64,
    pub lat: f64,
    pub lon: f64,
    pub label: String,
    pub state: String,
    /// Its marker colour (a dispute's by its warning colour).
    pub color: &'static str,
    /// Its detail page.
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct ClusterOut {
    pub layer: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PointsOut {
    /// Items in view in all.
    pub total: i64,
    /// Whether dense parts came back as clusters.
    pub clustered: bool,
    pub points: Vec<PointOut>,
    pub clusters: Vec<ClusterOut>,
}

fn deg(e7: i64) -> f64 {
    e7 as f64 / 1e7
}

/// Cell edge in 1e-7 degrees for `CLUSTER_PX` pixels at `zoom` (web mercator tiles of 256 px).
pub fn cluster_cell_e7(zoom: u8) -> i64 {
    let deg_per_px = 360.0 / (256.0 * f64::from(1u32 << zoom.min(22)));
    ((CLUSTER_PX * deg_per_px) * 1e7).round().max(1.0) as i64
}

/// Located items in a bounding box: one by one when few, else clustered in
/// cells of about 64 px at the zoom; a cell of one item is a point.
#[utoipa::path(get, path = "/api/v1/map/points", params(MapParams), tag = "map", responses((status = 200, body = PointsOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn points(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(p): Query<MapParams>,
) -> ApiResult<Json<PointsOut>> {
    let q = p.query(map_scope(&cu)?, Utc::now(), true)?;
    Ok(Json(points_for(&state, &q, p.zoom()?).await?))
}

pub async fn points_for(state: &AppState, q: &MapQuery, zoom: u8) -> Result<PointsOut, AppError> {
    let store = state.store.as_ref();
    // one read decides: up to POINTS_MAX items come one by one; more are
    // clustered, and the total is the sum of the cells (one scan, one snapshot)
    let few = store.map_points(q, POINTS_MAX + 1).await?;
    if few.len() as i64 <= POINTS_MAX {
        let points: Vec<PointOut> = few
            .into_iter()
            .filter_map(|m| {
                let l = layers::by_kind(&m.kind)?;
                Some(PointOut {
                    layer: l.id,
                    id: m.item_id,
                    lat: deg(m.lat_e7),
                    lon: deg(m.lon_e7),
                    label: m.label,
                    state: m.state,
                    color: l.tone(&m.category),
                    url: l.url(m.item_id),
                })
            })
            .collect();
        return Ok(PointsOut { total: points.len() as i64, clustered: false, points, clusters: vec![] });
    }
    let mut out = PointsOut { total: 0, clustered: true, points: vec![], clusters: vec![] };
    for c in store.map_cells(q, cluster_cell_e7(zoom)).await? {
        let Some(l) = layers::by_kind(&c.kind) else { continue };
        out.total += c.count;
        if c.count == 1 {
            out.points.push(PointOut {
                layer: l.id,
                id: c.item_id,
                lat: deg(c.lat_e7),
                lon: deg(c.lon_e7),
                label: c.label,
                // a cell does not carry its item's state; the detail page does
                state: String::new(),
                color: l.tone(&c.category),
                url: l.url(c.item_id),
            });
        } else {
            out.clusters.push(ClusterOut { layer: l.id, lat: deg(c.lat_e7), lon: deg(c.lon_e7), count: c.count });
        }
    }
    Ok(out)
}

/// H3 resolution for a zoom level: cells of a few dozen pixels.
pub fn heat_resolution(zoom: u8) -> u8 {
    match zoom {
        0..=9 => 5,
        10..=11 => 6,
        12 => 7,
        13..=14 => 8,
        15 => 9,
        _ => 10,
    }
}

#[derive(Serialize, ToSchema)]
pub struct HeatCell {
    /// H3 cell index.
    pub h3: String,
    pub count: i64,
    /// Cell centre [lat, lon].
    pub center: [f64; 2],
    /// Boundary ring [[lat, lon], …].
    pub boundary: Vec<[f64; 2]>,
    /// The grid the centre lies in.
    #[schema(value_type = Object)]
    pub grid: Option<Value>,
}

#[derive(Serialize, ToSchema)]
pub struct HeatOut {
    pub resolution: u8,
    pub total: i64,
    pub max: i64,
    /// Busiest first.
    pub cells: Vec<HeatCell>,
}

/// Heat: items of the period counted per H3 cell on the server (h3o).
#[utoipa::path(get, path = "/api/v1/map/heat", params(MapParams), tag = "map", responses((status = 200, body = HeatOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn heat(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(p): Query<MapParams>,
) -> ApiResult<Json<HeatOut>> {
    let q = p.query(map_scope(&cu)?, Utc::now(), true)?;
    let res = match p.res {
        None => heat_resolution(p.zoom()?),
        Some(r) if (5..=10).contains(&r) => r,
        Some(_) => return Err(AppError::field("res", "H3 分辨率须为5至10")),
    };
    let resolution = h3o::Resolution::try_from(res).map_err(|_| AppError::field("res", "H3 分辨率无效"))?;
    let positions = state.store.map_positions(&q, HEAT_MAX).await?;
    let mut counts: HashMap<h3o::CellIndex, i64> = HashMap::new();
    for (lat, lon) in &positions {
        if let Ok(ll) = h3o::LatLng::new(deg(*lat), deg(*lon)) {
            *counts.entry(ll.to_cell(resolution)).or_default() += 1;
        }
    }
    let mut cells: Vec<(h3o::CellIndex, i64)> = counts.into_iter().collect();
    cells.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let router = state.router();
    let cells: Vec<HeatCell> = cells
        .into_iter()
        .map(|(cell, count)| {
            let c = h3o::LatLng::from(cell);
            let grid = zhufang_domain::Wgs84Point::new(c.lat(), c.lng())
                .ok()
                .and_then(|p| router.locate(p))
                .and_then(|r| router.record(r.grid_id))
                .map(|g| json!({"id": g.id, "code": g.code, "name": g.name}));
            HeatCell {
                h3: cell.to_string(),
                count,
                center: [c.lat(), c.lng()],
                boundary: cell.boundary().iter().map(|v| [v.lat(), v.lng()]).collect(),
                grid,
            }
        })
        .collect();
    let max = cells.first().map_or(0, |c| c.count);
    Ok(Json(HeatOut { resolution: res, total: positions.len() as i64, max, cells }))
}

fn figure_value(f: &[&GridFigures], figure: &str) -> i64 {
    if figure == "duty_done" {
        return f.iter().map(|x| x.duty_done).sum();
    }
    let Some((kind, what)) = figure.split_once('.') else { return 0 };
    f.iter()
        .filter(|x| x.kind == kind)
        .map(|x| match what {
            "open" => x.open,
            "overdue" => x.overdue,
            "in_period" => x.in_period,
            "done_in_period" => x.done_in_period,
            _ => 0,
        })
        .sum()
}

/// The caller's grids as GeoJSON, each with its figures for the period and
/// `value` = the chosen figure; `activity` = items done in the period (the
/// duty view highlights grids at zero).
#[utoipa::path(get, path = "/api/v1/map/grids", params(MapParams), tag = "map", responses((status = 200, description = "GeoJSON FeatureCollection"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn grids(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(p): Query<MapParams>,
) -> ApiResult<Json<Value>> {
    let scope = map_scope(&cu)?;
    let now = Utc::now();
    let (from, to) = p.period(now)?;
    let figure = nonempty(&p.figure).unwrap_or("task.open").to_string();
    if !layers::figures().iter().any(|f| f.id == figure) {
        return Err(AppError::field("figure", "没有该指标"));
    }
    let station_path = super::grids::station_scope(&state, &cu, nonempty(&p.station)).await?;
    let grids = state.store.grids(Some(&station_path)).await?;
    let q = MapQuery {
        scope_path: Some(scope),
        kinds: LAYERS.iter().map(|l| l.kind.to_string()).collect(),
        ..Default::default()
    };
    let figures = state.store.grid_figures(&q, now, from, to).await?;
    let mut by_grid: HashMap<i64, Vec<&GridFigures>> = HashMap::new();
    for f in &figures {
        by_grid.entry(f.grid_id).or_default().push(f);
    }
    let features: Vec<Value> = grids
        .iter()
        .map(|g| {
            let fs = by_grid.get(&g.id).map(Vec::as_slice).unwrap_or_default();
            let mut figs = serde_json::Map::new();
            for l in LAYERS {
                let mine: Vec<&GridFigures> = fs.iter().copied().filter(|x| x.kind == l.kind).collect();
                let sum = |f: fn(&GridFigures) -> i64| mine.iter().map(|x| f(x)).sum::<i64>();
                figs.insert(
                    l.kind.to_string(),
                    json!({"open": sum(|x| x.open), "overdue": sum(|x| x.overdue), "in_period": sum(|x| x.in_period),
                           "done_in_period": sum(|x| x.done_in_period)}),
                );
            }
            let activity: i64 = fs.iter().map(|x| x.done_in_period).sum();
            let geometry: Value = serde_json::from_str(&g.geometry).unwrap_or(Value::Null);
            json!({"type": "Feature", "geometry": geometry, "properties": {
                "id": g.id, "code": g.code, "name": g.name, "kind": g.kind, "village": g.village,
                "station": g.station_code, "station_name": g.station_name, "officer_name": g.officer_name,
                "figures": figs, "duty_done": figure_value(fs, "duty_done"), "activity": activity,
                "value": figure_value(fs, &figure),
            }})
        })
        .collect();
    Ok(Json(json!({
        "type": "FeatureCollection", "features": features, "figure": figure,
        "from": from.to_rfc3339(), "to": to.to_rfc3339(),
    })))
}

#[derive(Serialize, ToSchema)]
pub struct LayersOut {
    #[schema(value_type = Vec<Object>)]
    pub layers: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub figures: Vec<Value>,
}

/// The item layers and grid figures the map offers.
#[utoipa::path(get, path = "/api/v1/map/layers", tag = "map", responses((status = 200, body = LayersOut)))]
pub async fn layer_list(cu: CurrentUser, headers: HeaderMap) -> ApiResult<Json<LayersOut>> {
    map_scope(&cu)?;
    let tr = crate::i18n::Tr::new(crate::i18n::Lang::from_headers(&headers));
    Ok(Json(layers_out(tr)))
}

fn layers_out(tr: crate::i18n::Tr) -> LayersOut {
    LayersOut {
        layers: LAYERS
            .iter()
            .map(|l| json!({"id": l.id, "kind": l.kind, "label": tr.pick(l.label_zh, l.label_en), "color": l.color}))
            .collect(),
        figures: layers::figures()
            .iter()
            .map(|f| json!({"id": f.id, "label": tr.pick(&f.label_zh, &f.label_en)}))
            .collect(),
    }
}

// ------------------------------------------------------------------ pages

#[derive(Template)]
#[template(path = "map/map.html")]
struct MapTpl {
    shell: Shell,
    view: &'static str,
    config: String,
    layers: Vec<(String, String, String)>,
    figures: Vec<(String, String)>,
    default_figure: &'static str,
    from: String,
    to: String,
    categories: Vec<(String, String)>,
    unrouted: i64,
}

pub async fn index() -> Redirect {
    Redirect::to("/map/command")
}

pub async fn page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(view): Path<String>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    map_scope(&cu).map_err(err)?;
    let view = View::parse(&view).ok_or(AppError::NotFound).map_err(err)?;
    let key = match view {
        View::Command => "map.command",
        View::Analysis => "map.analysis",
        View::Duty => "map.duty",
    };
    let shell = Shell::new(&state, &cu, &headers, "map", key).await.map_err(err)?;
    let tr = shell.tr;
    let now = Utc::now();
    let (from, to) = view.default_period(now);
    let day = |t: DateTime<Utc>| t.with_timezone(&Shanghai).format("%Y-%m-%d").to_string();
    let unrouted = state
        .store
        .unrouted_items(&cu.user.org_path, PageReq::new(Some(1), Some(1)))
        .await
        .map_err(|e| err(e.into()))?
        .total;
    let out = layers_out(tr);
    let config = json!({
        "view": view.id(),
        "refresh_secs": if view == View::Command { 60 } else { 0 },
        "layers": out.layers,
        "labels": {
            "count": tr.t("map.count"), "no_grid": tr.t("map.no_grid"), "cells": tr.t("map.top_cells"),
        },
    });
    let categories = state
        .store
        .catalogue(false)
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .map(|c| (c.code.clone(), format!("{} {}", c.code, tr.pick(&c.name, &c.name_en))))
        .collect();
    render(
        MapTpl {
            shell,
            view: view.id(),
            config: config.to_string(),
            layers: LAYERS
                .iter()
                .map(|l| (l.id.to_string(), tr.pick(l.label_zh, l.label_en).to_string(), l.color.to_string()))
                .collect(),
            figures: layers::figures()
                .into_iter()
                .map(|f| (f.id, tr.pick(&f.label_zh, &f.label_en).to_string()))
                .collect(),
            default_figure: if view == View::Duty { "duty_done" } else { "task.open" },
            from: day(from),
            to: day(to),
            categories,
            unrouted,
        },
        &headers,
    )
}

pub struct FigureRow {
    pub layer: String,
    pub open: i64,
    pub overdue: i64,
    pub in_period: i64,
    pub done_in_period: i64,
}

#[derive(Template)]
#[template(path = "map/card.html")]
struct CardTpl {
    tr: crate::i18n::Tr,
    g: zhufang_store::model::GridRecord,
    auxiliaries: Vec<String>,
    rows: Vec<FigureRow>,
    duty_done: i64,
    from: String,
    to: String,
    figures_only: bool,
}

#[derive(Deserialize)]
pub struct CardParams {
    pub view: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `figures`: only the figures (the grid's own page shows the rest).
    pub part: Option<String>,
}

/// The card shown when a grid is clicked: its officer, auxiliaries and figures.
pub async fn card(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(c): Query<CardParams>,
) -> PageResult {
    let figures_only = c.part.as_deref() == Some("figures");
    let p = MapParams { view: c.view, from: c.from, to: c.to, ..Default::default() };
    let err = |e: AppError| PageError::new(&headers, e);
    let scope = map_scope(&cu).map_err(err)?;
    let g = super::grids::find(&state, &cu, id).await.map_err(err)?;
    let now = Utc::now();
    let (from, to) = p.period(now).map_err(err)?;
    let q = MapQuery {
        scope_path: Some(scope),
        kinds: LAYERS.iter().map(|l| l.kind.to_string()).collect(),
        grid_id: Some(id),
        ..Default::default()
    };
    let figures = state.store.grid_figures(&q, now, from, to).await.map_err(|e| err(e.into()))?;
    let tr = crate::i18n::Tr::new(crate::i18n::Lang::from_headers(&headers));
    let rows = LAYERS
        .iter()
        .map(|l| {
            let f = figures.iter().find(|f| f.kind == l.kind).cloned().unwrap_or_default();
            FigureRow {
                layer: tr.pick(l.label_zh, l.label_en).to_string(),
                open: f.open,
                overdue: f.overdue,
                in_period: f.in_period,
                done_in_period: f.done_in_period,
            }
        })
        .collect();
    let mut auxiliaries = vec![];
    for a in &g.auxiliaries {
        if let Some((u, _)) = state.store.user_by_username(a).await.map_err(|e| err(e.into()))? {
            auxiliaries.push(u.display_name);
        }
    }
    render(
        CardTpl {
            tr,
            duty_done: figures.iter().map(|f| f.duty_done).sum(),
            g,
            auxiliaries,
            rows,
            from: fmt_time(&from),
            to: fmt_time(&to),
            figures_only,
        },
        &headers,
    )
}

pub struct UnroutedRow {
    pub layer: String,
    pub label: String,
    pub url: String,
    pub lat: f64,
    pub lon: f64,
    pub station: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "map/unrouted.html")]
struct UnroutedTpl {
    shell: Shell,
    rows: Vec<UnroutedRow>,
    total: i64,
    page: i64,
    pages: i64,
    window: Vec<i64>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    pub page: Option<i64>,
}

/// The command room's queue of located items outside every grid, routed
/// to the nearest station.
pub async fn unrouted_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    map_scope(&cu).map_err(err)?;
    let shell = Shell::new(&state, &cu, &headers, "unrouted", "map.unrouted").await.map_err(err)?;
    let tr = shell.tr;
    let page = state
        .store
        .unrouted_items(&cu.user.org_path, PageReq::new(q.page, Some(20)))
        .await
        .map_err(|e| err(e.into()))?;
    let stations: HashMap<i64, String> =
        state.store.org_units().await.map_err(|e| err(e.into()))?.into_iter().map(|o| (o.id, o.name)).collect();
    let rows = page
        .items
        .iter()
        .filter_map(|m| {
            let l = layers::by_kind(&m.kind)?;
            Some(UnroutedRow {
                layer: tr.pick(l.label_zh, l.label_en).to_string(),
                label: m.label.clone(),
                url: l.url(m.item_id),
                lat: deg(m.lat_e7),
                lon: deg(m.lon_e7),
                station: m.station_id.and_then(|s| stations.get(&s).cloned()).unwrap_or_default(),
                at: fmt_time(&m.occurred_at),
            })
        })
        .collect();
    let pages = page.pages();
    render(
        UnroutedTpl { shell, rows, total: page.total, page: page.page, pages, window: page_window(page.page, pages) },
        &headers,
    )
}

/// The unrouted queue as JSON.
#[utoipa::path(get, path = "/api/v1/map/unrouted", tag = "map", responses((status = 200, body = Object)))]
pub async fn unrouted(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    map_scope(&cu)?;
    let page = state.store.unrouted_items(&cu.user.org_path, PageReq::new(q.page, Some(50))).await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|m| {
            let url = layers::by_kind(&m.kind).map(|l| l.url(m.item_id));
            json!({"kind": m.kind, "id": m.item_id, "label": m.label, "lat": deg(m.lat_e7), "lon": deg(m.lon_e7),
                   "station_id": m.station_id, "occurred_at": m.occurred_at, "url": url})
        })
        .collect();
    Ok(Json(json!({"items": items, "total": page.total, "page": page.page})).into_response())
}
