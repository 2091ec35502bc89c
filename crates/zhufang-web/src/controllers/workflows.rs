//! Workflow definitions are data: admins read and replace the states and
//! transition table of each of the four workflows (tasks, incidents,
//! disputes, hazards).

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

/// The workflows a deployment edits, with their names in Chinese and English.
pub const KNOWN: [(&str, &str, &str); 4] = [
    (zhufang_domain::task::WORKFLOW, "防范任务", "Tasks"),
    (zhufang_domain::incident::WORKFLOW, "警情", "Incidents"),
    (zhufang_domain::dispute::WORKFLOW, "矛盾纠纷", "Disputes"),
    (zhufang_domain::hazard::WORKFLOW, "安全隐患", "Hazards"),
];

fn known(name: &str) -> Result<(), AppError> {
    if KNOWN.iter().any(|(n, _, _)| *n == name) { Ok(()) } else { Err(AppError::NotFound) }
}

/// The workflow as stored (the task workflow as last loaded).
pub async fn load(state: &AppState, name: &str) -> Result<Workflow, AppError> {
    known(name)?;
    if name == zhufang_domain::task::WORKFLOW {
        return Ok((*state.workflow()).clone());
    }
    Ok(state.store.workflow(name).await?)
}

#[utoipa::path(get, path = "/api/v1/workflows/{name}", tag = "workflows",
    params(("name" = String, Path, description = "task, incident, dispute or hazard")),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    _cu: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<Json<Workflow>> {
    Ok(Json(load(&state, &name).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct WorkflowBody {
    #[schema(value_type = Vec<Object>)]
    pub states: Vec<StateDef>,
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<TransitionRule>,
}

/// Checks a new definition and saves it with its audit record: unknown
/// states, duplicate rules, rules leaving a terminal state or naming nobody
/// are refused, and so is dropping a state records are still in.
pub async fn save(state: &AppState, cu: &CurrentUser, name: &str, b: WorkflowBody) -> Result<Workflow, AppError> {
    if !cu.user.has(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let before = load(state, name).await?;
    let wf =
        Workflow::new(name, b.states, b.rules).map_err(|e| AppError::field("rules", &format!("流程定义无效：{e}")))?;
    let counts = state.store.workflow_states_in_use(name).await?;
    if let Some((s, n)) = counts.iter().find(|(s, n)| *n > 0 && wf.state(s).is_none()) {
        return Err(AppError::field("states", &format!("状态 {s} 仍有 {n} 条记录使用，不能删除")));
    }
    let ev = AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "workflow",
        &wf.name,
        "replace",
        serde_json::to_value(&before).ok().as_ref(),
        serde_json::to_value(&wf).ok().as_ref(),
    );
    state.store.save_workflow(&wf, &ev).await?;
    state.reload_definitions().await?;
    Ok(wf)
}

/// Replaces the states and transition table of a workflow (admin). The
/// definition is checked first: unknown states, duplicate rules, rules
/// leaving a terminal state or naming nobody are rejected, and so is
/// removing a state records are still in.
#[utoipa::path(put, path = "/api/v1/workflows/{name}", request_body = WorkflowBody, tag = "workflows",
    params(("name" = String, Path, description = "task, incident, dispute or hazard")),
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(name): Path<String>,
    ApiJson(b): ApiJson<WorkflowBody>,
) -> ApiResult<Json<Workflow>> {
    Ok(Json(save(&state, &cu, &name, b).await?))
}
