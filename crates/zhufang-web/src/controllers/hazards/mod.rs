//! The hazard register's JSON API (除隐患): register (in the field or from a
//! problem a patrol found), list by risk, show, the workflow's steps
//! (assign to a responsible body, sign for, rectify, recheck, close), photos
//! before and after, the editable types and risk factors, campaigns and figures.

pub mod export;
pub mod pages;

use crate::auth::CurrentUser;
use crate::controllers::incidents::{ActionOut, LocationBody};
use crate::controllers::{ApiJson, parse_day_start, parse_location, parse_time};
use crate::error::{ApiResult, AppError};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhufang_domain::hazard::RiskFactor;
use zhufang_store::hazards::{self, CampaignInput, CreateHazard, HazardAction};
use zhufang_store::model::{
    CampaignCheck, Hazard, HazardCampaign, HazardEvent, HazardFile, HazardFilter, HazardType, NewAttachment, PageReq,
};

#[derive(Deserialize, ToSchema, Default)]
pub struct CreateHazardBody {
    /// A code of `GET /api/v1/hazard-types` (01 溺水水域 … 99 其他).
    pub type_code: String,
    pub description: String,
    pub location: Option<LocationBody>,
    pub address: Option<String>,
    /// Within 200 m of a school or on its way.
    #[serde(default)]
    pub near_school: bool,
    pub people_affected: Option<i64>,
    /// How likely harm is, 1–5 (default 3).
    pub likelihood: Option<i64>,
    /// The patrol or visit task it was found on (its place is used when no location is given).
    pub source_task_id: Option<i64>,
}

/// A hazard with its photos, timeline and the actions open to the caller.
/// `risk_score` and `risk` (severity, likelihood, exposure, fired factors) are in it.
#[derive(Serialize, ToSchema)]
pub struct HazardOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub hazard: Hazard,
    #[schema(value_type = Vec<Object>)]
    pub photos: Vec<HazardFile>,
    #[schema(value_type = Vec<Object>)]
    pub timeline: Vec<HazardEvent>,
    pub actions: Vec<ActionOut>,
}

pub(crate) async fn out(state: &AppState, cu: &CurrentUser, h: Hazard) -> Result<HazardOut, AppError> {
    let wf = state.store.workflow(zhufang_domain::hazard::WORKFLOW).await?;
    let subject =
        zhufang_domain::workflow::Subject { state: &h.state, assignee: None, dispatcher: None, creator: h.found_by_id };
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
    Ok(HazardOut {
        photos: state.store.hazard_files(h.id).await?,
        timeline: state.store.hazard_timeline(h.id).await?,
        hazard: h,
        actions,
    })
}

pub(crate) fn create_input(b: CreateHazardBody, photos: Vec<NewAttachment>) -> Result<CreateHazard, AppError> {
    let mut errs = vec![];
    let location = b.location.and_then(|l| parse_location(Some(l.lat), Some(l.lon), &mut errs));
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(CreateHazard {
        type_code: b.type_code,
        description: b.description,
        location,
        address: b.address,
        near_school: b.near_school,
        people_affected: b.people_affected,
        likelihood: b.likelihood,
        source_task_id: b.source_task_id,
        photos,
    })
}

/// Registers a hazard: routed to grid and station, scored (with the factors
/// that fired); a major one (score ≥ 60) tells the station's leaders.
#[utoipa::path(post, path = "/api/v1/hazards", request_body = CreateHazardBody, tag = "hazards",
    responses((status = 201, body = HazardOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<CreateHazardBody>,
) -> ApiResult<(StatusCode, Json<HazardOut>)> {
    let input = create_input(b, vec![])?;
    let h = hazards::create(state.store.as_ref(), &state.router(), &cu.user, input, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(out(&state, &cu, h).await?)))
}

#[derive(Deserialize, IntoParams, Default, Clone)]
pub struct ListQuery {
    pub state: Option<String>,
    #[serde(rename = "type")]
    pub type_code: Option<String>,
    /// A station's org code.
    pub station: Option<String>,
    pub grid_id: Option<i64>,
    /// Found from (date, Beijing).
    pub from: Option<String>,
    /// Found up to (date = end of that day).
    pub to: Option<String>,
    /// Number, description or address contains.
    pub q: Option<String>,
    /// true: not rectified and past the deadline.
    pub overdue: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn some(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

impl ListQuery {
    pub async fn to_filter(&self, state: &AppState, cu: &CurrentUser) -> Result<HazardFilter, AppError> {
        let mut f = hazards::visibility(state.store.as_ref(), &cu.user).await?;
        f.state = some(&self.state);
        f.type_code = some(&self.type_code);
        if let Some(code) = some(&self.station) {
            let o =
                state.store.org_unit_by_code(&code).await?.ok_or_else(|| AppError::field("station", "没有该单位"))?;
            f.station_id = Some(o.id);
        }
        f.grid_id = self.grid_id;
        f.q = some(&self.q);
        if let Some(s) = some(&self.from) {
            f.from = Some(parse_day_start("from", &s)?);
        }
        if let Some(s) = some(&self.to) {
            f.to = Some(parse_time("to", &s)?);
        }
        if matches!(some(&self.overdue).as_deref(), Some("true" | "1")) {
            f.overdue_at = Some(Utc::now());
        }
        Ok(f)
    }
}

#[derive(Serialize, ToSchema)]
pub struct HazardPage {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Hazard>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// The register: hazards the caller may see, open ones first, highest risk first.
#[utoipa::path(get, path = "/api/v1/hazards", params(ListQuery), tag = "hazards", responses((status = 200, body = HazardPage)))]
pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<HazardPage>> {
    let f = q.to_filter(&state, &cu).await?;
    let p = state.store.list_hazards(&f, PageReq::new(q.page, q.per_page)).await?;
    Ok(Json(HazardPage { items: p.items, total: p.total, page: p.page, per_page: p.per_page }))
}

/// One hazard with its photos, timeline and the caller's actions.
#[utoipa::path(get, path = "/api/v1/hazards/{id}", tag = "hazards", responses((status = 200, body = HazardOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(State(state): State<AppState>, cu: CurrentUser, Path(id): Path<i64>) -> ApiResult<Json<HazardOut>> {
    let h = hazards::load(state.store.as_ref(), &cu.user, id).await?;
    Ok(Json(out(&state, &cu, h).await?))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct ActionBody {
    /// assign, sign_for, return, rectify, extend, recheck_pass, recheck_fail, close, update.
    pub action: String,
    pub note: Option<String>,
    /// The responsible body's org code (assign): a station or a partner agency.
    pub responsible: Option<String>,
    /// The rectification deadline, `YYYY-MM-DD` (assign, extend).
    pub deadline: Option<String>,
    /// The version you read (409 `conflict` if it changed since).
    pub version: Option<i64>,
}

pub(crate) fn parse_deadline(s: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    match some(s) {
        None => Ok(None),
        Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::field("deadline", "整改期限须为日期（YYYY-MM-DD）")),
    }
}

fn action_input(b: ActionBody, photos: Vec<(String, NewAttachment)>) -> Result<HazardAction, AppError> {
    Ok(HazardAction {
        deadline: parse_deadline(&b.deadline)?,
        action: b.action.trim().to_string(),
        note: b.note,
        responsible: b.responsible,
        photos,
        version: b.version,
    })
}

/// One step by `user`.
pub(crate) async fn step(
    state: &AppState,
    user: &zhufang_store::model::User,
    id: i64,
    input: HazardAction,
) -> Result<Hazard, AppError> {
    let wf = state.store.workflow(zhufang_domain::hazard::WORKFLOW).await?;
    Ok(hazards::transition(state.store.as_ref(), &wf, user, id, input, Utc::now()).await?)
}

/// One step of the hazard's workflow; the score is recomputed.
#[utoipa::path(post, path = "/api/v1/hazards/{id}/transitions", request_body = ActionBody, tag = "hazards",
    responses((status = 200, body = HazardOut), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn transition(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ActionBody>,
) -> ApiResult<Json<HazardOut>> {
    let h = step(&state, &cu.user, id, action_input(b, vec![])?).await?;
    Ok(Json(out(&state, &cu, h).await?))
}

/// A multipart form's text fields and its photos (`photo` or `photo_after`;
/// checked by content and stored). Files are removed again on any error.
pub(crate) struct Form {
    pub fields: std::collections::HashMap<String, String>,
    pub photos: Vec<(String, NewAttachment)>,
}

impl Form {
    pub fn get(&self, k: &str) -> Option<String> {
        self.fields.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    }
    pub fn files(&self) -> Vec<NewAttachment> {
        self.photos.iter().map(|(_, a)| a.clone()).collect()
    }
}

pub(crate) async fn read_form(state: &AppState, mut mp: Multipart) -> Result<Form, AppError> {
    let mut form = Form { fields: Default::default(), photos: vec![] };
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest("表单数据不完整".into())
        }
    };
    let read: Result<(), AppError> = async {
        while let Some(field) = mp.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_string();
            if name == "photo" || name == "photo_after" {
                let fname = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(bad)?;
                if bytes.is_empty() && fname.is_empty() {
                    continue;
                }
                if form.photos.len() >= hazards::MAX_PHOTOS {
                    return Err(AppError::field("photo", "照片最多9张"));
                }
                let phase = if name == "photo" { "before" } else { "after" };
                form.photos.push((phase.into(), crate::upload::save_photo(state, &fname, &bytes).await?));
                continue;
            }
            let text = field.text().await.map_err(bad)?;
            form.fields.insert(name, text);
        }
        Ok(())
    }
    .await;
    if let Err(e) = read {
        crate::upload::discard(state, &form.files()).await;
        return Err(e);
    }
    Ok(form)
}

/// A multipart step: action, note, responsible, deadline, version and
/// `photo_after` photos (rectify) or `photo` photos (as found, update).
pub(crate) async fn form_step(
    state: &AppState,
    user: &zhufang_store::model::User,
    id: i64,
    form: Form,
) -> Result<Hazard, AppError> {
    let files = form.files();
    let b = ActionBody {
        action: form.get("action").unwrap_or_default(),
        note: form.get("note"),
        responsible: form.get("responsible"),
        deadline: form.get("deadline"),
        version: form.get("version").and_then(|v| v.parse().ok()),
    };
    let r = match action_input(b, form.photos) {
        Ok(input) => step(state, user, id, input).await,
        Err(e) => Err(e),
    };
    if r.is_err() {
        crate::upload::discard(state, &files).await;
    }
    r
}

/// A step with photos (multipart: action, note, responsible, deadline,
/// version; `photo_after` files when reporting it rectified, `photo` files
/// with an update) — JPEG, PNG or WebP, checked by content.
#[utoipa::path(post, path = "/api/v1/hazards/{id}/steps", tag = "hazards",
    responses((status = 200, body = HazardOut), (status = 415, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn step_upload(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    mp: Multipart,
) -> ApiResult<Json<HazardOut>> {
    let form = read_form(&state, mp).await?;
    let h = form_step(&state, &cu.user, id, form).await?;
    Ok(Json(out(&state, &cu, h).await?))
}

/// A hazard's photo, for those who may see the hazard.
#[utoipa::path(get, path = "/api/v1/hazard-files/{id}", tag = "hazards", responses((status = 200, description = "the image"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn file(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<axum::response::Response> {
    let f = state.store.hazard_file(id).await?.ok_or(AppError::NotFound)?;
    hazards::load(state.store.as_ref(), &cu.user, f.hazard_id).await?;
    crate::controllers::files::serve(&state, &f.stored_name, &f.content_type, &format!("hazard-{}-{}", f.phase, f.id))
        .await
}

/// The hazard types with their base severity.
#[utoipa::path(get, path = "/api/v1/hazard-types", tag = "hazards", responses((status = 200, body = Vec<Object>)))]
pub async fn types(State(state): State<AppState>, _cu: CurrentUser) -> ApiResult<Json<Vec<HazardType>>> {
    Ok(Json(state.store.hazard_types().await?))
}

#[derive(Deserialize, ToSchema)]
pub struct TypeBody {
    pub name: String,
    /// 1–5.
    pub base_severity: i64,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Adds or changes a hazard type (admin); audited; every open hazard is rescored.
#[utoipa::path(put, path = "/api/v1/hazard-types/{code}", request_body = TypeBody, tag = "hazards",
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_type(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<TypeBody>,
) -> ApiResult<Json<HazardType>> {
    let t =
        HazardType { code: code.trim().to_string(), name: b.name, base_severity: b.base_severity, active: b.active };
    Ok(Json(hazards::save_type(state.store.as_ref(), &cu.user, t, Utc::now()).await?))
}

/// The risk factors, in order (each: id, label, dimension, add, when {kind, …}).
#[utoipa::path(get, path = "/api/v1/hazard-factors", tag = "hazards", responses((status = 200, body = Vec<Object>)))]
pub async fn factors(State(state): State<AppState>, _cu: CurrentUser) -> ApiResult<Json<Vec<RiskFactor>>> {
    Ok(Json(state.store.hazard_factors().await?))
}

#[derive(Serialize, ToSchema)]
pub struct FactorsOut {
    #[schema(value_type = Vec<Object>)]
    pub factors: Vec<RiskFactor>,
    /// Open hazards whose score changed.
    pub rescored: usize,
}

/// Replaces the risk factors (admin); checked, audited; every open hazard is rescored.
#[utoipa::path(put, path = "/api/v1/hazard-factors", request_body = Vec<Object>, tag = "hazards",
    responses((status = 200, body = FactorsOut), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace_factors(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(fs): ApiJson<Vec<RiskFactor>>,
) -> ApiResult<Json<FactorsOut>> {
    let rescored = hazards::replace_factors(state.store.as_ref(), &cu.user, fs.clone(), Utc::now()).await?;
    Ok(Json(FactorsOut { factors: fs, rescored }))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct FiguresQuery {
    /// station (default), grid, type or month.
    pub by: Option<String>,
    /// Found from (date, Beijing).
    pub from: Option<String>,
    /// Found up to (date = end of that day).
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FiguresOut {
    pub by: String,
    #[schema(value_type = Object)]
    pub total: zhufang_domain::hazard::Figures,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<hazards::FigureGroup>,
}

pub(crate) async fn figures_for(state: &AppState, cu: &CurrentUser, q: &FiguresQuery) -> Result<FiguresOut, AppError> {
    let by = some(&q.by).unwrap_or_else(|| "station".into());
    if !["station", "grid", "type", "month"].contains(&by.as_str()) {
        return Err(AppError::field("by", "须为 station、grid、type 或 month"));
    }
    let lq = ListQuery { from: q.from.clone(), to: q.to.clone(), ..Default::default() };
    let f = lq.to_filter(state, cu).await?;
    let rows = state.store.hazard_stats(&f).await?;
    let (total, rows) = hazards::grouped_figures(&rows, &by, Utc::now());
    Ok(FiguresOut { by, total, rows })
}

/// The register's figures: found, rectified, rectified on time, overdue and
/// average days to rectify — in total and by station, grid, type or month.
#[utoipa::path(get, path = "/api/v1/hazards/figures", params(FiguresQuery), tag = "hazards", responses((status = 200, body = FiguresOut)))]
pub async fn figures(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<FiguresQuery>,
) -> ApiResult<Json<FiguresOut>> {
    Ok(Json(figures_for(&state, &cu, &q).await?))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct CampaignBody {
    pub name: String,
    /// Hazard type codes whose hazards are checked.
    pub type_codes: Vec<String>,
    /// The org unit in scope (default: the caller's station, or the city for the bureau).
    pub org_code: Option<String>,
    /// `YYYY-MM-DD` (default today).
    pub starts_on: Option<String>,
    /// `YYYY-MM-DD` (default 30 days on); the check tasks are due that day.
    pub ends_on: Option<String>,
}

pub(crate) fn campaign_input(b: CampaignBody) -> Result<CampaignInput, AppError> {
    let day = |field: &str, s: &Option<String>| match some(s) {
        None => Ok(None),
        Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::field(field, "须为日期（YYYY-MM-DD）")),
    };
    Ok(CampaignInput {
        starts_on: day("starts_on", &b.starts_on)?,
        ends_on: day("ends_on", &b.ends_on)?,
        name: b.name,
        type_codes: b.type_codes,
        org_code: b.org_code,
    })
}

/// Starts a campaign (leaders, admins): one check task for every hazard of
/// its types in scope that is not closed, on the task loop; returns the task ids.
#[utoipa::path(post, path = "/api/v1/hazard-campaigns", request_body = CampaignBody, tag = "hazards",
    responses((status = 201, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_campaign(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<CampaignBody>,
) -> ApiResult<(StatusCode, Json<hazards::CampaignReport>)> {
    let r = hazards::start_campaign(
        state.store.as_ref(),
        &state.workflow(),
        &state.calendar(),
        &cu.user,
        campaign_input(b)?,
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[derive(Serialize, ToSchema)]
pub struct CampaignOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub campaign: HazardCampaign,
    pub checks_total: usize,
    pub checks_done: usize,
    /// Not done by the end date (after it has passed).
    pub checks_late: usize,
    #[schema(value_type = Vec<Object>)]
    pub checks: Vec<CampaignCheck>,
}

pub(crate) async fn campaign_out(state: &AppState, c: HazardCampaign) -> Result<CampaignOut, AppError> {
    let checks = state.store.campaign_checks(c.id).await?;
    let (checks_total, checks_done, checks_late) = hazards::campaign_progress(&checks, c.ends_on, Utc::now());
    Ok(CampaignOut { campaign: c, checks_total, checks_done, checks_late, checks })
}

pub(crate) async fn visible_campaigns(state: &AppState, cu: &CurrentUser) -> Result<Vec<HazardCampaign>, AppError> {
    let scope = zhufang_store::service::grid_scope(state.store.as_ref(), &cu.user).await?;
    Ok(state.store.campaigns(Some(&scope)).await?)
}

/// Campaigns of the caller's jurisdiction (and the bureau's), with their completion.
#[utoipa::path(get, path = "/api/v1/hazard-campaigns", tag = "hazards", responses((status = 200, body = Vec<CampaignOut>)))]
pub async fn campaigns(State(state): State<AppState>, cu: CurrentUser) -> ApiResult<Json<Vec<CampaignOut>>> {
    let mut out = vec![];
    for c in visible_campaigns(&state, &cu).await? {
        out.push(campaign_out(&state, c).await?);
    }
    Ok(Json(out))
}

/// One campaign with its checks (hazard, task, state).
#[utoipa::path(get, path = "/api/v1/hazard-campaigns/{id}", tag = "hazards", responses((status = 200, body = CampaignOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn campaign(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<CampaignOut>> {
    let c = visible_campaigns(&state, &cu).await?.into_iter().find(|c| c.id == id).ok_or(AppError::NotFound)?;
    Ok(Json(campaign_out(&state, c).await?))
}
