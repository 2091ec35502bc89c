//! Workflow definitions are data: admins read and replace the transition table.

use crate::auth::CurrentUser;
use crate::controllers::ApiJson;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::ToSchema;
use zhufang_domain::Role;
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::workflow::{StateDef, TransitionRule, Workflow};

#[utoipa::path(get, path = "/api/v1/workflows/{name}", tag = "workflows", responses((status = 200, body = Object)))]
pub async fn show(
    State(state): State<AppState>,
    _cu: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<Json<Workflow>> {
    if name != zhufang_domain::task::WORKFLOW {
        return Err(AppError::NotFound);
    }
    Ok(Json((*state.workflow()).clone()))
}

#[derive(Deserialize, ToSchema)]
pub struct WorkflowBody {
    #[schema(value_type = Vec<Object>)]
    pub states: Vec<StateDef>,
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<TransitionRule>,
}

/// Replaces the states and transition table (admin). The definition is
/// checked first: unknown states, duplicate rules, rules leaving a terminal
/// state or naming nobody are rejected.
#[utoipa::path(put, path = "/api/v1/workflows/{name}", request_body = WorkflowBody, tag = "workflows",
    responses((status = 200, body = Object), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(name): Path<String>,
    ApiJson(b): ApiJson<WorkflowBody>,
) -> ApiResult<Json<Workflow>> {
    if !cu.user.has(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    if name != zhufang_domain::task::WORKFLOW {
        return Err(AppError::NotFound);
    }
    let before = state.workflow();
    let wf =
        Workflow::new(name, b.states, b.rules).map_err(|e| AppError::field("rules", &format!("流程定义无效：{e}")))?;
    // States in use must survive an edit.
    let counts = state.store.state_counts().await?;
    if let Some((s, _)) = counts.iter().find(|(s, n)| *n > 0 && wf.state(s).is_none()) {
        return Err(AppError::field("states", &format!("状态 {s} 仍有任务使用，不能删除")));
    }
    let ev = AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "workflow",
        &wf.name,
        "replace",
        serde_json::to_value(&*before).ok().as_ref(),
        serde_json::to_value(&wf).ok().as_ref(),
    );
    state.store.save_workflow(&wf, &ev).await?;
    state.reload_definitions().await?;
    Ok(Json(wf))
}
