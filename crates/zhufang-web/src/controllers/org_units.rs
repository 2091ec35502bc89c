//! The organisation tree (read).

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use zhufang_store::model::OrgUnit;

/// Units in the caller's subtree.
#[utoipa::path(get, path = "/api/v1/org-units", tag = "organisation", responses((status = 200, body = Vec<Object>)))]
pub async fn list(State(state): State<AppState>, cu: CurrentUser) -> ApiResult<Json<Vec<OrgUnit>>> {
    let all = state.store.org_units().await?;
    Ok(Json(all.into_iter().filter(|o| cu.user.covers(&o.path)).collect()))
}
