//! The incident type dictionary (类别/类型/细类/子类) and the hand-over time
//! limits by type: read by all signed-in users, edited by admins (audited).

use crate::auth::{CurrentUser, PageUser};
use crate::controllers::ApiJson;
use crate::error::{ApiResult, AppError};
use crate::pages::{PageError, PageResult, Shell, hx_redirect, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Form, Json};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zhufang_domain::Role;
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::incident::{IntakeSettings, parse_type_code};
use zhufang_store::model::{IncidentLimit, IncidentType};
use zhufang_store::service::FieldError;

#[derive(Deserialize, ToSchema)]
pub struct TypeBody {
    pub name: String,
    /// The English name (optional; the Chinese one is shown in English when empty).
    #[serde(default)]
    pub name_en: String,
    /// The usual decision for this type: a police matter (default) or not.
    #[serde(default = "yes")]
    pub police: bool,
    /// A dispute: repeat calls link over 72 hours instead of 60 minutes.
    #[serde(default)]
    pub dispute: bool,
    /// Offered at intake and triage (default true); a type in use is retired, never deleted.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A new or changed type, checked against the dictionary: the code's parent
/// must exist (a new 类型 needs its 类别 first).
fn check_type(types: &[IncidentType], code: &str, b: TypeBody) -> Result<IncidentType, AppError> {
    let code = code.trim();
    let mut errs = vec![];
    let (level, parent) = match parse_type_code(code) {
        Ok(x) => x,
        Err(m) => return Err(AppError::field("code", m)),
    };
    if let Some(p) = parent
        && !types.iter().any(|t| t.code == p)
    {
        errs.push(FieldError::new("code", "上级类别不存在，请先添加上级"));
    }
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        errs.push(FieldError::new("name", "名称不能为空且不超过50字"));
    }
    if types.iter().any(|t| t.code != code && t.parent_code.as_deref() == parent && t.name == name) {
        errs.push(FieldError::new("name", "同一上级下已有同名类别"));
    }
    let name_en = b.name_en.trim();
    if name_en.chars().count() > 80 {
        errs.push(FieldError::new("name_en", "英文名称不超过80个字符"));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(IncidentType {
        code: code.to_string(),
        parent_code: parent.map(str::to_string),
        level,
        name: name.to_string(),
        name_en: name_en.to_string(),
        police: b.police,
        dispute: b.dispute,
        active: b.active,
    })
}

async fn save_type(state: &AppState, cu: &CurrentUser, code: &str, b: TypeBody) -> Result<IncidentType, AppError> {
    if !cu.user.has(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let types = state.store.incident_types().await?;
    let t = check_type(&types, code, b)?;
    let before = types.iter().find(|x| x.code == t.code);
    let ev = AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "incident_type",
        &t.code,
        if before.is_some() { "update" } else { "create" },
        before.and_then(|b| serde_json::to_value(b).ok()).as_ref(),
        serde_json::to_value(&t).ok().as_ref(),
    );
    state.store.upsert_incident_type(&t, Utc::now(), &ev).await?;
    Ok(t)
}

/// Adds a type (its parent must exist) or changes one's name, usual
/// decision, dispute flag and whether it is offered (admin).
#[utoipa::path(put, path = "/api/v1/incident-types/{code}", request_body = TypeBody, tag = "incidents",
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn upsert_type(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<TypeBody>,
) -> ApiResult<Json<IncidentType>> {
    Ok(Json(save_type(&state, &cu, &code, b).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct LimitBody {
    /// A type code (its subtree) or empty for the default row.
    #[serde(default)]
    pub type_prefix: String,
    pub label: String,
    /// Hours for the agency to sign for (1–168).
    pub sign_for_hours: i64,
    /// Working days to finish (1–60).
    pub done_workdays: i64,
}

fn check_limit(types: &[IncidentType], b: LimitBody) -> Result<IncidentLimit, AppError> {
    let mut errs = vec![];
    let prefix = b.type_prefix.trim();
    if !prefix.is_empty() && !types.iter().any(|t| t.code == prefix) {
        errs.push(FieldError::new("type_prefix", "须为字典中的类别编码，或留空表示默认"));
    }
    let label = b.label.trim();
    if label.is_empty() || label.chars().count() > 30 {
        errs.push(FieldError::new("label", "名称不能为空且不超过30字"));
    }
    if !(1..=168).contains(&b.sign_for_hours) {
        errs.push(FieldError::new("sign_for_hours", "签收时限须为1至168小时"));
    }
    if !(1..=60).contains(&b.done_workdays) {
        errs.push(FieldError::new("done_workdays", "办结时限须为1至60个工作日"));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(IncidentLimit {
        type_prefix: prefix.to_string(),
        label: label.to_string(),
        sign_for_hours: b.sign_for_hours,
        done_workdays: b.done_workdays,
    })
}

async fn save_limit(state: &AppState, cu: &CurrentUser, b: LimitBody) -> Result<IncidentLimit, AppError> {
    if !cu.user.has(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let l = check_limit(&state.store.incident_types().await?, b)?;
    let rows = state.store.incident_limit_rows().await?;
    let before = rows.iter().find(|x| x.type_prefix == l.type_prefix);
    let ev = AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "incident_limit",
        if l.type_prefix.is_empty() { "default" } else { &l.type_prefix },
        if before.is_some() { "update" } else { "create" },
        before.and_then(|b| serde_json::to_value(b).ok()).as_ref(),
        serde_json::to_value(&l).ok().as_ref(),
    );
    state.store.upsert_incident_limit(&l, Utc::now(), &ev).await?;
    Ok(l)
}

/// The hand-over time limits by type prefix (the longest matching prefix applies).
#[utoipa::path(get, path = "/api/v1/incident-limits", tag = "incidents", responses((status = 200, body = Vec<Object>)))]
pub async fn limits(State(state): State<AppState>, _cu: CurrentUser) -> ApiResult<Json<Vec<IncidentLimit>>> {
    Ok(Json(state.store.incident_limit_rows().await?))
}

/// Adds or changes the time limits of a type prefix (admin).
#[utoipa::path(put, path = "/api/v1/incident-limits", request_body = LimitBody, tag = "incidents",
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn upsert_limit(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<LimitBody>,
) -> ApiResult<Json<IncidentLimit>> {
    Ok(Json(save_limit(&state, &cu, b).await?))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct IntakeSettingsBody {
    /// Repeat calls: the same phone within this many minutes links to the earlier incident (1–43200).
    pub repeat_minutes: i64,
    /// The same for dispute types (not shorter than `repeat_minutes`).
    pub repeat_dispute_minutes: i64,
    /// Near-duplicates: same type within this many metres (10–5000)…
    pub similar_metres: i64,
    /// …and this many minutes (1–43200).
    pub similar_minutes: i64,
}

impl From<IntakeSettings> for IntakeSettingsBody {
    fn from(s: IntakeSettings) -> Self {
        IntakeSettingsBody {
            repeat_minutes: s.repeat_minutes(),
            repeat_dispute_minutes: s.repeat_dispute_minutes(),
            similar_metres: s.similar_metres(),
            similar_minutes: s.similar_minutes(),
        }
    }
}

async fn save_settings(state: &AppState, cu: &CurrentUser, b: IntakeSettingsBody) -> Result<IntakeSettings, AppError> {
    if !cu.user.has(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let s = IntakeSettings::new(b.repeat_minutes, b.repeat_dispute_minutes, b.similar_metres, b.similar_minutes)
        .map_err(|errs| AppError::Validation(errs.into_iter().map(|(f, m)| FieldError::new(f, m)).collect()))?;
    let before = state.store.intake_settings().await?;
    let ev = AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "intake_settings",
        1,
        "update",
        serde_json::to_value(before).ok().as_ref(),
        serde_json::to_value(s).ok().as_ref(),
    );
    state.store.put_intake_settings(&s, Utc::now(), &ev).await?;
    Ok(s)
}

/// The intake windows: repeat calls from the same phone, near-duplicates at intake.
#[utoipa::path(get, path = "/api/v1/incident-settings", tag = "incidents", responses((status = 200, body = IntakeSettingsBody)))]
pub async fn settings(State(state): State<AppState>, _cu: CurrentUser) -> ApiResult<Json<IntakeSettingsBody>> {
    Ok(Json(state.store.intake_settings().await?.into()))
}

/// Changes the intake windows (admin; audited).
#[utoipa::path(put, path = "/api/v1/incident-settings", request_body = IntakeSettingsBody, tag = "incidents",
    responses((status = 200, body = IntakeSettingsBody), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<IntakeSettingsBody>,
) -> ApiResult<Json<IntakeSettingsBody>> {
    Ok(Json(save_settings(&state, &cu, b).await?.into()))
}

struct TypeRow {
    t: IncidentType,
    indent: String,
    parent_name: String,
}

#[derive(Template)]
#[template(path = "admin/incident_types.html")]
struct PageTpl {
    shell: Shell,
    types: Vec<TypeRow>,
    limits: Vec<IncidentLimit>,
    settings: IntakeSettingsBody,
}

pub async fn page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    if !cu.user.has(Role::Admin) {
        return Err(err(AppError::Forbidden));
    }
    let shell = Shell::new(&state, &cu, &headers, "incident_types", "itype.title").await.map_err(err)?;
    let types = state.store.incident_types().await.map_err(|e| err(e.into()))?;
    let limits = state.store.incident_limit_rows().await.map_err(|e| err(e.into()))?;
    let settings = state.store.intake_settings().await.map_err(|e| err(e.into()))?.into();
    let rows = types
        .iter()
        .map(|t| TypeRow {
            indent: "　".repeat(usize::try_from(t.level - 1).unwrap_or(0)),
            parent_name: t
                .parent_code
                .as_deref()
                .and_then(|p| types.iter().find(|x| x.code == p))
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            t: t.clone(),
        })
        .collect();
    render(PageTpl { shell, types: rows, limits, settings }, &headers)
}

#[derive(Deserialize)]
pub struct TypeForm {
    code: String,
    name: String,
    #[serde(default)]
    name_en: String,
    police: Option<String>,
    dispute: Option<String>,
    active: Option<String>,
}

pub async fn type_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<TypeForm>,
) -> PageResult {
    let body = TypeBody {
        name: f.name,
        name_en: f.name_en,
        police: f.police.is_some(),
        dispute: f.dispute.is_some(),
        active: f.active.is_some(),
    };
    save_type(&state, &cu, &f.code, body).await.map_err(|e| PageError::new(&headers, e))?;
    Ok(hx_redirect("/admin/incident-types"))
}

#[derive(Deserialize)]
pub struct LimitForm {
    #[serde(default)]
    type_prefix: String,
    label: String,
    sign_for_hours: String,
    done_workdays: String,
}

pub async fn limit_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<LimitForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let mut errs = vec![];
    let mut int = |field: &'static str, v: &str| crate::controllers::form_int(field, v, &mut errs);
    let sign_for_hours = int("sign_for_hours", &f.sign_for_hours);
    let done_workdays = int("done_workdays", &f.done_workdays);
    if !errs.is_empty() {
        return Err(err(AppError::Validation(errs)));
    }
    let body = LimitBody { type_prefix: f.type_prefix, label: f.label, sign_for_hours, done_workdays };
    save_limit(&state, &cu, body).await.map_err(err)?;
    Ok(hx_redirect("/admin/incident-types"))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    repeat_minutes: String,
    repeat_dispute_minutes: String,
    similar_metres: String,
    similar_minutes: String,
}

pub async fn settings_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<SettingsForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let mut errs = vec![];
    let mut int = |field: &'static str, v: &str| crate::controllers::form_int(field, v, &mut errs);
    let body = IntakeSettingsBody {
        repeat_minutes: int("repeat_minutes", &f.repeat_minutes),
        repeat_dispute_minutes: int("repeat_dispute_minutes", &f.repeat_dispute_minutes),
        similar_metres: int("similar_metres", &f.similar_metres),
        similar_minutes: int("similar_minutes", &f.similar_minutes),
    };
    if !errs.is_empty() {
        return Err(err(AppError::Validation(errs)));
    }
    save_settings(&state, &cu, body).await.map_err(err)?;
    Ok(hx_redirect("/admin/incident-types"))
}
