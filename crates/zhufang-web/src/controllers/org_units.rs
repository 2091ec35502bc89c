//! The organisation tree: read by everyone in scope, extended by admins.

use crate::auth::CurrentUser;
use crate::controllers::ApiJson;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::{OrgCode, Role};
use zhufang_store::model::OrgUnit;
use zhufang_store::service::FieldError;

/// Kinds of unit: 市局, 分局/县局, 派出所, 警务区, partner agency.
pub const KINDS: [&str; 5] = ["bureau", "branch", "station", "district", "agency"];

/// Units in the caller's subtree.
#[utoipa::path(get, path = "/api/v1/org-units", tag = "organisation", responses((status = 200, body = Vec<Object>)))]
pub async fn list(State(state): State<AppState>, cu: CurrentUser) -> ApiResult<Json<Vec<OrgUnit>>> {
    let all = state.store.org_units().await?;
    Ok(Json(all.into_iter().filter(|o| cu.user.covers(&o.path)).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct NewOrgBody {
    pub code: String,
    pub name: String,
    /// bureau, branch, station, district or agency.
    pub kind: String,
    /// Code of the parent unit (inside the admin's subtree).
    pub parent: String,
}

/// Adds a unit under an existing one (admin).
#[utoipa::path(post, path = "/api/v1/org-units", request_body = NewOrgBody, tag = "organisation",
    responses((status = 201, body = Object), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<NewOrgBody>,
) -> ApiResult<(StatusCode, Json<OrgUnit>)> {
    if !cu.user.has(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let mut errs = vec![];
    let code = OrgCode::parse(&b.code).map_err(|e| errs.push(FieldError::new("code", e.message))).ok();
    if b.name.trim().is_empty() || b.name.chars().count() > 100 {
        errs.push(FieldError::new("name", "单位名称不能为空且不超过100字"));
    }
    if !KINDS.contains(&b.kind.as_str()) {
        errs.push(FieldError::new("kind", "类型须为 bureau、branch、station、district 或 agency"));
    }
    let parent = state.store.org_unit_by_code(b.parent.trim()).await?;
    match &parent {
        Some(p) if cu.user.covers(&p.path) => {}
        _ => errs.push(FieldError::new("parent", "上级单位不存在或不在您的管辖范围内")),
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let ev = AuditEvent::new(Some(cu.user.id), &cu.user.display_name, "org_unit", 0, "create", None, None);
    let unit = state
        .store
        .create_org_unit(
            code.expect("checked").as_str(),
            b.name.trim(),
            &b.kind,
            parent.map(|p| p.id),
            chrono::Utc::now(),
            &ev,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(unit)))
}
