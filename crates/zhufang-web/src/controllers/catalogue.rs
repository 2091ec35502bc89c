//! The task catalogue (主防职责任务清单): read by all, edited by admins.

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
use serde::Deserialize;
use utoipa::ToSchema;
use zhufang_domain::Role;
use zhufang_domain::audit::AuditEvent;
use zhufang_store::model::CatalogueItem;
use zhufang_store::service::FieldError;

#[utoipa::path(get, path = "/api/v1/catalogue", tag = "catalogue", responses((status = 200, body = Vec<Object>)))]
pub async fn list(State(state): State<AppState>, _cu: CurrentUser) -> ApiResult<Json<Vec<CatalogueItem>>> {
    Ok(Json(state.store.catalogue(true).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ItemBody {
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub category: String,
    pub guideline: String,
    pub default_role: String,
    pub accept_hours: i64,
    pub finish_workdays: i64,
    #[serde(default = "yes")]
    pub active: bool,
    /// `patrol`, `visit` or empty: counts toward the duty map's coverage.
    #[serde(default)]
    pub activity: String,
}

fn yes() -> bool {
    true
}

fn check(code: &str, b: ItemBody) -> Result<CatalogueItem, AppError> {
    let mut errs = vec![];
    let code = code.trim();
    if code.is_empty() || code.len() > 32 || !code.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
        errs.push(FieldError::new("code", "编码须为1至32位字母、数字或 -"));
    }
    if b.name.trim().is_empty() || b.name.chars().count() > 100 {
        errs.push(FieldError::new("name", "事项名称不能为空且不超过100字"));
    }
    if b.category.trim().is_empty() {
        errs.push(FieldError::new("category", "请填写类别（防什么）"));
    }
    if b.guideline.trim().is_empty() {
        errs.push(FieldError::new("guideline", "请填写工作指引（怎么防）"));
    }
    if !["", "patrol", "visit"].contains(&b.activity.as_str()) {
        errs.push(FieldError::new("activity", "勤务类型须为巡查、走访或不计"));
    }
    if b.default_role.parse::<Role>().is_err() {
        errs.push(FieldError::new("default_role", "角色无效"));
    }
    if !(1..=720).contains(&b.accept_hours) {
        errs.push(FieldError::new("accept_hours", "接单时限须为1至720小时"));
    }
    if !(1..=120).contains(&b.finish_workdays) {
        errs.push(FieldError::new("finish_workdays", "办结时限须为1至120个工作日"));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(CatalogueItem {
        code: code.to_string(),
        name: b.name.trim().to_string(),
        name_en: b.name_en.trim().to_string(),
        category: b.category.trim().to_string(),
        guideline: b.guideline.trim().to_string(),
        default_role: b.default_role,
        accept_hours: b.accept_hours,
        finish_workdays: b.finish_workdays,
        active: b.active,
        activity: b.activity,
    })
}

async fn save(state: &AppState, cu: &CurrentUser, item: CatalogueItem) -> Result<(), AppError> {
    if !cu.user.has(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let before = state.store.catalogue_item(&item.code).await?;
    let ev = AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "catalogue_item",
        &item.code,
        if before.is_some() { "update" } else { "create" },
        before.as_ref().and_then(|b| serde_json::to_value(b).ok()).as_ref(),
        serde_json::to_value(&item).ok().as_ref(),
    );
    state.store.upsert_catalogue_item(&item, Utc::now(), &ev).await?;
    Ok(())
}

/// Creates or replaces a catalogue item (admin).
#[utoipa::path(put, path = "/api/v1/catalogue/{code}", request_body = ItemBody, tag = "catalogue",
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn upsert(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<ItemBody>,
) -> ApiResult<Json<CatalogueItem>> {
    let item = check(&code, b)?;
    save(&state, &cu, item.clone()).await?;
    Ok(Json(item))
}

#[derive(Template)]
#[template(path = "admin/catalogue.html")]
struct CatTpl {
    shell: Shell,
    items: Vec<CatalogueItem>,
    roles: Vec<(String, String)>,
}

pub async fn page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "catalogue", "cat.title").await.map_err(err)?;
    let items = state.store.catalogue(true).await.map_err(|e| err(e.into()))?;
    let roles = [Role::CommunityOfficer, Role::Auxiliary, Role::StationLeader, Role::CommandRoom, Role::PartnerAgency]
        .iter()
        .map(|r| (r.as_str().to_string(), shell.tr.pick(r.label_zh(), r.label_en()).to_string()))
        .collect();
    render(CatTpl { shell, items, roles }, &headers)
}

#[derive(Deserialize)]
pub struct ItemForm {
    code: String,
    name: String,
    #[serde(default)]
    name_en: String,
    category: String,
    guideline: String,
    default_role: String,
    accept_hours: String,
    finish_workdays: String,
    active: Option<String>,
    #[serde(default)]
    activity: String,
}

pub async fn upsert_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<ItemForm>,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    let mut errs = vec![];
    let accept_hours = f.accept_hours.trim().parse().unwrap_or_else(|_| {
        errs.push(FieldError::new("accept_hours", "须为整数"));
        0
    });
    let finish_workdays = f.finish_workdays.trim().parse().unwrap_or_else(|_| {
        errs.push(FieldError::new("finish_workdays", "须为整数"));
        0
    });
    if !errs.is_empty() {
        return Err(err(AppError::Validation(errs)));
    }
    let body = ItemBody {
        name: f.name,
        name_en: f.name_en,
        category: f.category,
        guideline: f.guideline,
        default_role: f.default_role,
        accept_hours,
        finish_workdays,
        active: f.active.is_some(),
        activity: f.activity,
    };
    let item = check(&f.code, body).map_err(err)?;
    save(&state, &cu, item).await.map_err(err)?;
    Ok(hx_redirect("/admin/catalogue"))
}
