//! The audit log (admins).

use crate::auth::CurrentUser;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhufang_domain::Role;
use zhufang_domain::audit::AuditRecord;
use zhufang_store::model::PageReq;

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    pub object_type: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<AuditRecord>,
    pub total: i64,
}

#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), tag = "audit", responses((status = 200, body = AuditPage)))]
pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    if !cu.user.has(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let p = state.store.audit_page(q.object_type.as_deref(), PageReq::new(q.page, q.per_page)).await?;
    Ok(Json(AuditPage { items: p.items, total: p.total }))
}
