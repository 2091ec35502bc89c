//! The dispute ledger's settings, edited by admins and audited: categories
//! (17 named + 其他, more may be added, none deleted), the ABC class
//! definitions and limits, the colour rules (JSON) and the notice template.

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
use zhufang_domain::dispute::ColourRule;
use zhufang_domain::notice::{DISPUTE_WARNING, NoticeTemplate};
use zhufang_store::model::{DisputeCategory, DisputeClass};

fn admin(cu: &CurrentUser) -> Result<(), AppError> {
    if cu.user.has(Role::Admin) { Ok(()) } else { Err(AppError::Forbidden) }
}

fn audit(
    cu: &CurrentUser,
    what: &str,
    id: &str,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
) -> AuditEvent {
    AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        what,
        id,
        if before.is_some() { "update" } else { "create" },
        before.as_ref(),
        Some(&after),
    )
}

#[derive(Deserialize, ToSchema)]
pub struct CategoryBody {
    pub name: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

async fn save_category(
    state: &AppState,
    cu: &CurrentUser,
    code: &str,
    b: CategoryBody,
) -> Result<DisputeCategory, AppError> {
    admin(cu)?;
    let code = code.trim();
    let mut errs = vec![];
    if code.len() != 2 || !code.bytes().all(|c| c.is_ascii_digit()) || code == "00" {
        errs.push(zhufang_store::service::FieldError::new("code", "类别编码须为两位数字（01–99）"));
    }
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 30 {
        errs.push(zhufang_store::service::FieldError::new("name", "名称不能为空且不超过30字"));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let before = state.store.dispute_categories().await?.into_iter().find(|c| c.code == code);
    let c = DisputeCategory { code: code.into(), name: name.into(), active: b.active };
    let ev = audit(
        cu,
        "dispute_category",
        code,
        before.and_then(|b| serde_json::to_value(b).ok()),
        serde_json::to_value(&c).unwrap_or_default(),
    );
    state.store.upsert_dispute_category(&c, Utc::now(), &ev).await?;
    Ok(c)
}

/// Adds a dispute category or renames / retires one (admin).
#[utoipa::path(put, path = "/api/v1/dispute-categories/{code}", request_body = CategoryBody, tag = "disputes",
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_category(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<CategoryBody>,
) -> ApiResult<Json<DisputeCategory>> {
    Ok(Json(save_category(&state, &cu, &code, b).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ClassBody {
    pub label: String,
    pub definition: String,
    /// Days to settle (1–365).
    pub limit_days: i64,
}

async fn save_class(state: &AppState, cu: &CurrentUser, code: &str, b: ClassBody) -> Result<DisputeClass, AppError> {
    admin(cu)?;
    let before = state.store.dispute_classes().await?.into_iter().find(|c| c.code == code).ok_or(AppError::NotFound)?;
    let mut errs = vec![];
    if b.label.trim().is_empty() || b.label.chars().count() > 30 {
        errs.push(zhufang_store::service::FieldError::new("label", "名称不能为空且不超过30字"));
    }
    if b.definition.trim().is_empty() || b.definition.chars().count() > 500 {
        errs.push(zhufang_store::service::FieldError::new("definition", "定义不能为空且不超过500字"));
    }
    if !(1..=365).contains(&b.limit_days) {
        errs.push(zhufang_store::service::FieldError::new("limit_days", "化解时限须为1至365个工作日"));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let c = DisputeClass {
        code: before.code.clone(),
        label: b.label.trim().into(),
        definition: b.definition.trim().into(),
        limit_days: b.limit_days,
    };
    let ev = audit(
        cu,
        "dispute_class",
        code,
        serde_json::to_value(&before).ok(),
        serde_json::to_value(&c).unwrap_or_default(),
    );
    state.store.update_dispute_class(&c, Utc::now(), &ev).await?;
    Ok(c)
}

/// Changes an ABC class's label, definition and limit (admin).
#[utoipa::path(put, path = "/api/v1/dispute-classes/{code}", request_body = ClassBody, tag = "disputes",
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_class(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<ClassBody>,
) -> ApiResult<Json<DisputeClass>> {
    Ok(Json(save_class(&state, &cu, &code, b).await?))
}

#[derive(Template)]
#[template(path = "admin/disputes.html")]
struct PageTpl {
    shell: Shell,
    categories: Vec<DisputeCategory>,
    classes: Vec<DisputeClass>,
    rules_json: String,
    template_json: String,
    placeholders: String,
}

pub async fn page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    admin(&cu).map_err(err)?;
    let shell = Shell::new(&state, &cu, &headers, "dispute_settings", "nav.dispute_settings").await.map_err(err)?;
    let rules = state.store.dispute_rules().await.map_err(|e| err(e.into()))?;
    let template = state
        .store
        .notice_template(DISPUTE_WARNING)
        .await
        .map_err(|e| err(e.into()))?
        .unwrap_or_else(zhufang_domain::notice::default_template);
    render(
        PageTpl {
            categories: state.store.dispute_categories().await.map_err(|e| err(e.into()))?,
            classes: state.store.dispute_classes().await.map_err(|e| err(e.into()))?,
            rules_json: serde_json::to_string_pretty(&rules).unwrap_or_default(),
            template_json: serde_json::to_string_pretty(&template).unwrap_or_default(),
            placeholders: zhufang_domain::notice::PLACEHOLDERS
                .iter()
                .map(|(k, v)| format!("{{{k}}} {v}"))
                .collect::<Vec<_>>()
                .join("、"),
            shell,
        },
        &headers,
    )
}

#[derive(Deserialize)]
pub struct CategoryForm {
    code: String,
    name: String,
    active: Option<String>,
}

pub async fn category_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<CategoryForm>,
) -> PageResult {
    save_category(&state, &cu, &f.code, CategoryBody { name: f.name, active: f.active.is_some() })
        .await
        .map_err(|e| PageError::new(&headers, e))?;
    Ok(hx_redirect("/admin/disputes"))
}

#[derive(Deserialize)]
pub struct ClassForm {
    code: String,
    label: String,
    definition: String,
    limit_days: String,
}

pub async fn class_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<ClassForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let limit_days = f.limit_days.trim().parse().map_err(|_| err(AppError::field("limit_days", "须为整数")))?;
    save_class(&state, &cu, &f.code, ClassBody { label: f.label, definition: f.definition, limit_days })
        .await
        .map_err(err)?;
    Ok(hx_redirect("/admin/disputes"))
}

#[derive(Deserialize)]
pub struct JsonForm {
    json: String,
}

/// The colour rules as edited in the page's JSON box (checked like the API).
pub async fn rules_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<JsonForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    admin(&cu).map_err(err)?;
    let rules: Vec<ColourRule> =
        serde_json::from_str(&f.json).map_err(|e| err(AppError::field("json", &format!("规则JSON有误：{e}"))))?;
    zhufang_domain::dispute::check_rules(&rules).map_err(|m| err(AppError::field("json", &m)))?;
    let before = state.store.dispute_rules().await.map_err(|e| err(e.into()))?;
    let ev = audit(
        &cu,
        "dispute_rules",
        "all",
        serde_json::to_value(&before).ok(),
        serde_json::to_value(&rules).unwrap_or_default(),
    );
    state.store.replace_dispute_rules(&rules, Utc::now(), &ev).await.map_err(|e| err(e.into()))?;
    Ok(hx_redirect("/admin/disputes"))
}

/// The notice template as edited in the page's JSON box.
pub async fn template_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<JsonForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    admin(&cu).map_err(err)?;
    let t: NoticeTemplate =
        serde_json::from_str(&f.json).map_err(|e| err(AppError::field("json", &format!("模板JSON有误：{e}"))))?;
    zhufang_domain::notice::check_template(&t).map_err(|m| err(AppError::field("json", &m)))?;
    let before = state.store.notice_template(DISPUTE_WARNING).await.map_err(|e| err(e.into()))?;
    let ev = audit(
        &cu,
        "notice_template",
        DISPUTE_WARNING,
        before.and_then(|b| serde_json::to_value(b).ok()),
        serde_json::to_value(&t).unwrap_or_default(),
    );
    state.store.save_notice_template(DISPUTE_WARNING, &t, Utc::now(), &ev).await.map_err(|e| err(e.into()))?;
    Ok(hx_redirect("/admin/disputes"))
}
