//! Incidents (警情): intake, list, detail with timeline, actions through the
//! incident workflow, the audited read of a caller's phone, and the type
//! dictionary (API here; the pages in `pages.rs`, the xlsx in `export.rs`).

pub mod export;
pub mod inbox;
pub mod pages;

use crate::auth::CurrentUser;
use crate::controllers::{ApiJson, parse_location, parse_time};
use crate::error::{ApiResult, AppError};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhufang_store::incidents::{self, CreateIncident, IncidentAction};
use zhufang_store::model::{Incident, IncidentEvent, IncidentType, PageReq};

#[derive(Deserialize, ToSchema)]
pub struct LocationBody {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateIncidentBody {
    /// 110, 12345, walk_in, patrol, app or other.
    pub channel: String,
    pub description: String,
    pub location: Option<LocationBody>,
    pub address: Option<String>,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    /// RFC 3339, or Beijing local `YYYY-MM-DDTHH:MM`; default now.
    pub received_at: Option<String>,
    /// A code of the incident type dictionary (`GET /api/v1/incident-types`).
    pub type_code: Option<String>,
    /// 1 一般, 2 紧急, 3 危机 (default 1).
    pub severity: Option<i64>,
    /// Org code of the station, for an incident without a location.
    pub station: Option<String>,
    /// For an external system (a partner agency's token, e.g. 12345): its own
    /// id of the matter. Sending the same id again returns the incident
    /// created the first time (200 instead of 201).
    pub external_id: Option<String>,
}

/// An incident with what the caller may do next.
#[derive(Serialize, ToSchema)]
pub struct IncidentOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub incident: Incident,
    /// Actions the caller may take now.
    pub actions: Vec<ActionOut>,
    #[schema(value_type = Vec<Object>)]
    pub timeline: Vec<IncidentEvent>,
    /// Possible duplicates: the same type within 500 m and 2 hours.
    #[schema(value_type = Vec<Object>)]
    pub similar: Vec<incidents::Similar>,
}

#[derive(Serialize, ToSchema)]
pub struct ActionOut {
    pub action: String,
    pub label: String,
    pub to: String,
    pub required: Vec<String>,
}

async fn out(state: &AppState, cu: &CurrentUser, i: Incident) -> Result<IncidentOut, AppError> {
    let wf = state.store.workflow(zhufang_domain::incident::WORKFLOW).await?;
    let subject = zhufang_domain::workflow::Subject {
        state: &i.state,
        assignee: i.assignee_id,
        dispatcher: None,
        creator: i.creator_id,
    };
    let actor = zhufang_domain::workflow::ActorCtx { user_id: cu.user.id, roles: &cu.user.roles };
    let actions = wf
        .available(&subject, &actor)
        .into_iter()
        .map(|r| ActionOut {
            action: r.action.clone(),
            label: r.label_zh.clone(),
            to: r.to.clone(),
            required: r.required.clone(),
        })
        .collect();
    let timeline = state.store.incident_timeline(i.id).await?;
    let similar = incidents::similar(state.store.as_ref(), &cu.user, &i).await?;
    Ok(IncidentOut { incident: i, actions, timeline, similar })
}

/// Takes an incident in: routed to its grid and station, linked to an
/// earlier call from the same phone, with the triage suggestion. A partner
/// agency (12345) sends urgent matters in with its `external_id`; the call is
/// idempotent on it.
#[utoipa::path(post, path = "/api/v1/incidents", request_body = CreateIncidentBody, tag = "incidents",
    responses((status = 201, body = IncidentOut), (status = 200, description = "already received (same external_id)", body = IncidentOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<CreateIncidentBody>,
) -> ApiResult<(StatusCode, Json<IncidentOut>)> {
    let mut errs = vec![];
    let location = b.location.and_then(|l| parse_location(Some(l.lat), Some(l.lon), &mut errs));
    let received_at = match b.received_at.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => match parse_time("received_at", s) {
            Ok(t) => Some(t),
            Err(AppError::Validation(mut f)) => {
                errs.append(&mut f);
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let input = CreateIncident {
        channel: b.channel,
        description: b.description,
        location,
        address: b.address,
        caller_name: b.caller_name,
        caller_phone: b.caller_phone,
        received_at,
        type_code: b.type_code,
        severity: b.severity,
        station: b.station,
        external_id: b.external_id,
    };
    let router = state.router();
    let (i, created) = incidents::receive(state.store.as_ref(), &router, &cu.user, input, Utc::now()).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(out(&state, &cu, i).await?)))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    pub state: Option<String>,
    pub channel: Option<String>,
    /// true (or 1): police matters; false (or 0): non-police.
    pub police: Option<String>,
    /// Received from (date, Beijing).
    pub from: Option<String>,
    /// Received up to (date = end of that day).
    pub to: Option<String>,
    /// Number, description or address contains.
    pub q: Option<String>,
    /// true: only matters handed over to an agency (the hand-over inbox).
    pub handed_over: Option<String>,
    /// true: only hand-overs past their sign-for or finish limit now.
    pub overdue: Option<String>,
    /// `due`: nearest open limit first; default newest first.
    pub sort: Option<String>,
    /// A type dictionary code: that type and everything under it (`02` all 治安类).
    pub type_code: Option<String>,
    /// 1 一般, 2 紧急, 3 危机.
    pub severity: Option<String>,
    /// A station's org code (within the caller's jurisdiction).
    pub station: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A yes/no query parameter: true/1, false/0 or absent.
fn flag(field: &str, v: &Option<String>) -> Result<bool, AppError> {
    match v.as_deref().map(str::trim).unwrap_or("") {
        "" | "false" | "0" => Ok(false),
        "true" | "1" => Ok(true),
        _ => Err(AppError::field(field, "须为 true 或 false")),
    }
}

impl ListQuery {
    /// The caller's visibility narrowed by the query's filters.
    pub async fn to_filter(
        &self,
        state: &AppState,
        cu: &CurrentUser,
    ) -> Result<zhufang_store::model::IncidentFilter, AppError> {
        let mut f = incidents::visibility(state.store.as_ref(), &cu.user).await?;
        let some = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        f.state = some(&self.state);
        f.channel = some(&self.channel);
        f.police = match some(&self.police).as_deref() {
            None => None,
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            Some(_) => return Err(AppError::field("police", "须为 true 或 false")),
        };
        f.q = some(&self.q);
        if let Some(s) = some(&self.from) {
            f.from = Some(super::parse_day_start("from", &s)?);
        }
        if let Some(s) = some(&self.to) {
            f.to = Some(parse_time("to", &s)?);
        }
        f.handed_over = flag("handed_over", &self.handed_over)?;
        if flag("overdue", &self.overdue)? {
            f.overdue_at = Some(chrono::Utc::now());
        }
        f.sort_due = match some(&self.sort).as_deref() {
            None | Some("received") => false,
            Some("due") => true,
            Some(_) => return Err(AppError::field("sort", "须为 due 或 received")),
        };
        if let Some(t) = some(&self.type_code) {
            if t.len() > 8 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AppError::field("type_code", "警情类型编码须为不超过8位的数字"));
            }
            f.type_prefix = Some(t);
        }
        if let Some(s) = some(&self.severity) {
            match s.parse::<i64>().ok().filter(|l| zhufang_domain::incident::Severity::from_level(*l).is_some()) {
                Some(l) => f.severity = Some(l),
                None => return Err(AppError::field("severity", "警情等级须为1（一般）、2（紧急）或3（危机）")),
            }
        }
        if let Some(code) = some(&self.station) {
            let unit = state.store.org_unit_by_code(&code).await?.filter(|o| o.kind == "station");
            // within what the caller sees: their subtree, or (above station level) a station under it
            match unit
                .filter(|o| f.scope_path.as_deref().is_some_and(|p| o.path.starts_with(p) || p.starts_with(&o.path)))
            {
                Some(o) => f.station_path = Some(o.path),
                None => return Err(AppError::field("station", "没有该派出所或不在您的管辖范围内")),
            }
        }
        Ok(f)
    }
}

#[derive(Serialize, ToSchema)]
pub struct IncidentPage {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Incident>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Incidents the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", params(ListQuery), tag = "incidents", responses((status = 200, body = IncidentPage)))]
pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<IncidentPage>> {
    let f = q.to_filter(&state, &cu).await?;
    let page = state.store.list_incidents(&f, PageReq::new(q.page, q.per_page)).await?;
    Ok(Json(IncidentPage { items: page.items, total: page.total, page: page.page, per_page: page.per_page }))
}

/// One incident with its timeline and the actions open to the caller.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", responses((status = 200, body = IncidentOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(State(state): State<AppState>, cu: CurrentUser, Path(id): Path<i64>) -> ApiResult<Json<IncidentOut>> {
    let i = incidents::load(state.store.as_ref(), &cu.user, id).await?;
    Ok(Json(out(&state, &cu, i).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ActionBody {
    /// triage, dispatch, reassign, arrive, handle, divert, sign_for, return, agency_done, close, invalidate.
    pub action: String,
    pub note: Option<String>,
    /// Username of the officer sent (dispatch, reassign).
    pub assignee: Option<String>,
    /// Org code of the partner agency (divert).
    pub agency: Option<String>,
    /// Triage decision: a police matter or not.
    pub police: Option<bool>,
    /// Triage: the responsible department (a class of the triage model); a
    /// choice other than the suggestion is kept as a correction for training.
    pub department: Option<String>,
    pub type_code: Option<String>,
    pub severity: Option<i64>,
    /// on_site, criminal_case, administrative_case, transferred, dispute_registered.
    pub result: Option<String>,
    /// 回访 rating 1 非常满意 … 5 非常不满意.
    pub rating: Option<i64>,
    /// The version you read (409 `conflict` if it changed since).
    pub version: Option<i64>,
}

/// Fires one action of the incident workflow.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/transitions", request_body = ActionBody, tag = "incidents",
    responses((status = 200, body = IncidentOut), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn transition(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ActionBody>,
) -> ApiResult<Json<IncidentOut>> {
    let wf = state.store.workflow(zhufang_domain::incident::WORKFLOW).await?;
    let input = IncidentAction {
        action: b.action.trim().to_string(),
        note: b.note,
        assignee: b.assignee,
        agency: b.agency,
        police: b.police,
        department: b.department,
        type_code: b.type_code,
        severity: b.severity,
        result: b.result,
        rating: b.rating,
        version: b.version,
    };
    let i = incidents::transition(
        state.store.as_ref(),
        &incidents::Rules { wf: &wf, cal: &state.calendar(), outbox: state.cfg.webhook.is_some() },
        &cu.user,
        id,
        input,
        Utc::now(),
    )
    .await?;
    crate::outbox::kick(&state);
    Ok(Json(out(&state, &cu, i).await?))
}

#[derive(Serialize, ToSchema)]
pub struct CallerOut {
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
}

/// The caller's full name and phone number (command room, leaders, admins);
/// every read is audited (`read_caller`).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/caller", tag = "incidents", responses((status = 200, body = CallerOut), (status = 403, body = crate::error::ErrorBody)))]
pub async fn caller(State(state): State<AppState>, cu: CurrentUser, Path(id): Path<i64>) -> ApiResult<Json<CallerOut>> {
    let (caller_name, caller_phone) = incidents::reveal_caller(state.store.as_ref(), &cu.user, id, Utc::now()).await?;
    Ok(Json(CallerOut { caller_name, caller_phone }))
}

/// The incident type dictionary (类别/类型/细类/子类), in order.
#[utoipa::path(get, path = "/api/v1/incident-types", tag = "incidents", responses((status = 200, body = Vec<Object>)))]
pub async fn types(State(state): State<AppState>, _cu: CurrentUser) -> ApiResult<Json<Vec<IncidentType>>> {
    Ok(Json(state.store.incident_types().await?))
}

#[derive(Deserialize, IntoParams)]
pub struct FiguresQuery {
    /// Received from (date, Beijing); default 30 days ago.
    pub from: Option<String>,
    /// Received up to (date = end of that day); default now.
    pub to: Option<String>,
    /// station (default), grid, or a period: day, week (from Monday) or month
    /// (by the day received, Beijing time; every period of the range, in order).
    pub by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FiguresRow {
    /// Station or grid code ("" for incidents outside every grid); for a
    /// period, its first day (`2026-11-23`).
    pub code: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub figures: zhufang_domain::incident::Figures,
}

#[derive(Serialize, ToSchema)]
pub struct FiguresOut {
    pub from: chrono::DateTime<Utc>,
    pub to: chrono::DateTime<Utc>,
    pub by: String,
    #[schema(value_type = Object)]
    pub total: zhufang_domain::incident::Figures,
    pub rows: Vec<FiguresRow>,
    /// Bucket edges: sign-for (s), turn-out (min), feedback (min).
    pub edges: [Vec<i64>; 3],
}

pub async fn figures_for(state: &AppState, cu: &CurrentUser, q: &FiguresQuery) -> Result<FiguresOut, AppError> {
    use zhufang_domain::incident::{FEEDBACK_EDGES_MIN, SIGN_FOR_EDGES_S, TURN_OUT_EDGES_MIN, figures};
    use zhufang_domain::period::{MAX_PERIODS, Period};
    let now = Utc::now();
    let some = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let from = match some(&q.from) {
        Some(s) => super::parse_day_start("from", &s)?,
        None => now - chrono::Duration::days(30),
    };
    let to = match some(&q.to) {
        Some(s) => parse_time("to", &s)?,
        None => now,
    };
    if from >= to {
        return Err(AppError::field("to", "结束时间须晚于开始时间"));
    }
    let by = some(&q.by).unwrap_or_else(|| "station".into());
    let period = Period::parse(&by);
    if by != "station" && by != "grid" && period.is_none() {
        return Err(AppError::field("by", "分组须为 station、grid、day、week 或 month"));
    }
    let local = |t: chrono::DateTime<Utc>| zhufang_domain::calendar::local_date(t);
    let periods = match period {
        Some(p) => Some(p.starts(local(from), local(to)).ok_or_else(|| {
            AppError::field("by", &format!("时段过多：一次最多统计{MAX_PERIODS}个时段，请缩短日期范围或改用按周、按月"))
        })?),
        None => None,
    };
    let mut f = incidents::visibility(state.store.as_ref(), &cu.user).await?;
    f.from = Some(from);
    f.to = Some(to);
    let rows = state.store.incident_timings(&f).await?;
    let total = figures(&rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>());
    let rows = match (period, periods) {
        (Some(p), Some(starts)) => by_period(p, starts, rows),
        _ => by_place(state, &by, rows).await?,
    };
    Ok(FiguresOut {
        from,
        to,
        by,
        total,
        rows,
        edges: [SIGN_FOR_EDGES_S.to_vec(), TURN_OUT_EDGES_MIN.to_vec(), FEEDBACK_EDGES_MIN.to_vec()],
    })
}

type TimingRow = (i64, Option<i64>, zhufang_domain::incident::Timing);

/// Every period of the range, in time order, empty ones too.
fn by_period(
    p: zhufang_domain::period::Period,
    starts: Vec<chrono::NaiveDate>,
    rows: Vec<TimingRow>,
) -> Vec<FiguresRow> {
    let mut groups: std::collections::BTreeMap<chrono::NaiveDate, Vec<zhufang_domain::incident::Timing>> =
        starts.into_iter().map(|s| (s, vec![])).collect();
    for (_, _, t) in rows {
        let day = chrono::DateTime::from_timestamp_millis(t.received_at).map(zhufang_domain::calendar::local_date);
        if let Some(g) = day.and_then(|d| groups.get_mut(&p.start(d))) {
            g.push(t);
        }
    }
    groups
        .into_iter()
        .map(|(start, items)| FiguresRow {
            code: start.to_string(),
            name: p.label(start),
            figures: zhufang_domain::incident::figures(&items),
        })
        .collect()
}

/// By station or grid, the busiest first.
async fn by_place(state: &AppState, by: &str, rows: Vec<TimingRow>) -> Result<Vec<FiguresRow>, AppError> {
    use zhufang_domain::incident::figures;
    let mut groups: std::collections::BTreeMap<i64, Vec<zhufang_domain::incident::Timing>> = Default::default();
    for (station, grid, t) in rows {
        let key = if by == "grid" { grid.unwrap_or(0) } else { station };
        groups.entry(key).or_default().push(t);
    }
    let units: std::collections::HashMap<i64, (String, String)> =
        state.store.org_units().await?.into_iter().map(|o| (o.id, (o.code, o.name))).collect();
    let grids: std::collections::HashMap<i64, (String, String)> =
        state.store.grids(None).await?.into_iter().map(|g| (g.id, (g.code, g.name))).collect();
    let mut out: Vec<FiguresRow> = groups
        .into_iter()
        .map(|(key, items)| {
            let (code, name) = if by == "grid" {
                grids.get(&key).cloned().unwrap_or_else(|| (String::new(), "不在网格内".into()))
            } else {
                units.get(&key).cloned().unwrap_or_default()
            };
            FiguresRow { code, name, figures: figures(&items) }
        })
        .collect();
    out.sort_by(|a, b| b.figures.incidents.cmp(&a.figures.incidents).then(a.code.cmp(&b.code)));
    Ok(out)
}

/// Response figures: sign-for, turn-out and feedback times in the 110 report
/// buckets, arrival average/median and share within 5 minutes, 自处率,
/// diversion, repeat-call and agency sign-for rates — by station, grid, or
/// day / week / month.
#[utoipa::path(get, path = "/api/v1/incidents/figures", params(FiguresQuery), tag = "incidents", responses((status = 200, body = FiguresOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn figures(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<FiguresQuery>,
) -> ApiResult<Json<FiguresOut>> {
    Ok(Json(figures_for(&state, &cu, &q).await?))
}

/// Imports historical incidents from CSV (admins; body `text/csv`, UTF-8).
/// Good rows are imported, bad rows listed by line; numbers already present
/// are skipped, so the same file can be sent again. A file without the
/// required columns is a 422.
#[utoipa::path(post, path = "/api/v1/incidents/import", request_body(content = String, content_type = "text/csv"), tag = "incidents",
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    cu: CurrentUser,
    body: String,
) -> ApiResult<Json<incidents::ImportReport>> {
    let wf = state.store.workflow(zhufang_domain::incident::WORKFLOW).await?;
    let router = state.router();
    let report =
        incidents::import_csv(state.store.as_ref(), &router, &wf, Some(&cu.user), &body, Utc::now(), &mut |_, _| {})
            .await?;
    if let Some(e) = report.errors.iter().find(|e| e.line == 0) {
        return Err(AppError::field("file", &e.message));
    }
    Ok(Json(report))
}

#[derive(Deserialize, IntoParams)]
pub struct SimilarQuery {
    pub lat: Option<String>,
    pub lon: Option<String>,
    /// The type chosen at intake (a code of the dictionary).
    pub type_code: Option<String>,
    /// When it happened (default now).
    pub at: Option<String>,
}

impl SimilarQuery {
    /// The place, type and time asked about; None while the form lacks the place or type.
    fn parse(&self) -> Result<Option<(zhufang_domain::Wgs84Point, String, chrono::DateTime<Utc>)>, AppError> {
        let some = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let Some(code) = some(&self.type_code) else { return Ok(None) };
        let mut errs = Vec::new();
        let lat = super::opt_f64("lat", &self.lat, &mut errs);
        let lon = super::opt_f64("lon", &self.lon, &mut errs);
        let point = match (lat, lon) {
            (Some(_), Some(_)) => parse_location(lat, lon, &mut errs),
            _ => None,
        };
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let at = match some(&self.at) {
            Some(s) => parse_time("at", &s)?,
            None => Utc::now(),
        };
        Ok(point.map(|p| (p, code, at)))
    }
}

/// Near-duplicates of a matter about to be registered: incidents the caller
/// can see of the same type within 500 m and 2 hours, nearest first (empty
/// until place and type are given).
#[utoipa::path(get, path = "/api/v1/incidents/similar", params(SimilarQuery), tag = "incidents", responses((status = 200, body = Vec<Object>)))]
pub async fn similar(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<SimilarQuery>,
) -> ApiResult<Json<Vec<incidents::Similar>>> {
    Ok(Json(near(&state, &cu, &q).await?))
}

pub(crate) async fn near(
    state: &AppState,
    cu: &CurrentUser,
    q: &SimilarQuery,
) -> Result<Vec<incidents::Similar>, AppError> {
    let Some((point, code, at)) = q.parse()? else { return Ok(vec![]) };
    Ok(incidents::similar_to(state.store.as_ref(), &cu.user, point, &code, at, None).await?)
}

#[derive(Deserialize, IntoParams)]
pub struct PlacesQuery {
    /// What has been typed of the address (≤ 50 characters).
    pub q: Option<String>,
    /// At most this many (1–50, default 10).
    pub limit: Option<usize>,
}

/// Address suggestions for intake (地址联想): the grids of the caller's
/// station whose name or village contains `q` (at a point inside the grid),
/// then addresses of the past year's incidents that contain it (at their
/// latest point), most used first. Works offline: no geocoder is called.
#[utoipa::path(get, path = "/api/v1/incidents/places", params(PlacesQuery), tag = "incidents", responses((status = 200, body = Vec<Object>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn places(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<PlacesQuery>,
) -> ApiResult<Json<Vec<incidents::Place>>> {
    let q_text = q.q.as_deref().unwrap_or_default();
    let limit = q.limit.unwrap_or(10);
    Ok(Json(incidents::places(state.store.as_ref(), &state.router(), &cu.user, q_text, limit, Utc::now()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct TriageBody {
    pub text: String,
}

/// The triage model's answer for a text (as the intake form types it):
/// police or not, the department, confidences, the words that drove it and
/// a 12号文 rule when one decided. Nothing is stored.
#[utoipa::path(post, path = "/api/v1/triage", request_body = TriageBody, tag = "incidents", responses((status = 200, body = Object)))]
pub async fn triage(cu: CurrentUser, ApiJson(b): ApiJson<TriageBody>) -> ApiResult<Json<zhufang_triage::Verdict>> {
    if !incidents::may_receive(&cu.user.roles) {
        return Err(AppError::Forbidden);
    }
    let text: String = b.text.chars().take(4000).collect();
    if text.trim().is_empty() {
        return Err(AppError::field("text", "请输入警情描述"));
    }
    Ok(Json(zhufang_triage::Triage::default_model().classify(&text)))
}
