//! One click from a problem a patrol or visit found to a hazard or a dispute.

use crate::auth::{CurrentUser, PageUser};
use crate::controllers::ApiJson;
use crate::error::ApiResult;
use crate::pages::{PageError, PageResult, hx_redirect};
use crate::state::AppState;
use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zhufang_store::feedback;

#[derive(Deserialize, ToSchema, Default)]
pub struct ConvertBody {
    /// The hazard type (default 99 其他) or the dispute category (default 99 其他).
    #[serde(alias = "category_code")]
    pub type_code: Option<String>,
}

/// What a problem became.
#[derive(Serialize, ToSchema)]
pub struct Converted {
    /// hazard or dispute.
    pub kind: &'static str,
    pub id: i64,
    pub number: String,
    /// Its page.
    pub url: String,
}

async fn convert(
    state: &AppState,
    user: &zhufang_store::model::User,
    id: i64,
    idx: i64,
    kind: &str,
    code: Option<String>,
) -> Result<Converted, crate::error::AppError> {
    let router = state.router();
    let store = state.store.as_ref();
    Ok(if kind == "dispute" {
        let d = feedback::problem_to_dispute(store, &router, user, id, idx, code, Utc::now()).await?;
        Converted { kind: "dispute", id: d.id, number: d.number, url: format!("/disputes/{}", d.id) }
    } else {
        let h = feedback::problem_to_hazard(store, &router, user, id, idx, code, Utc::now()).await?;
        Converted { kind: "hazard", id: h.id, number: h.number, url: format!("/hazards/{}", h.id) }
    })
}

/// A problem of the task's feedback becomes a hazard at the feedback's place (once).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/problems/{idx}/hazard", request_body = ConvertBody, tag = "tasks",
    responses((status = 201, body = Converted), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn to_hazard(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path((id, idx)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<ConvertBody>,
) -> ApiResult<(StatusCode, Json<Converted>)> {
    Ok((StatusCode::CREATED, Json(convert(&state, &cu.user, id, idx, "hazard", b.type_code).await?)))
}

/// A problem of the task's feedback becomes a dispute found on patrol or a home visit (once).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/problems/{idx}/dispute", request_body = ConvertBody, tag = "tasks",
    responses((status = 201, body = Converted), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn to_dispute(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path((id, idx)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<ConvertBody>,
) -> ApiResult<(StatusCode, Json<Converted>)> {
    Ok((StatusCode::CREATED, Json(convert(&state, &cu.user, id, idx, "dispute", b.type_code).await?)))
}

#[derive(Deserialize, Default)]
pub struct ConvertForm {
    #[serde(default)]
    pub type_code: String,
}

/// The task page's buttons: to the new hazard or dispute.
pub async fn to_hazard_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path((id, idx)): Path<(i64, i64)>,
    Form(f): Form<ConvertForm>,
) -> PageResult {
    let c = convert(&state, &cu.user, id, idx, "hazard", Some(f.type_code))
        .await
        .map_err(|e| PageError::new(&headers, e))?;
    Ok(hx_redirect(&c.url))
}

pub async fn to_dispute_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path((id, idx)): Path<(i64, i64)>,
) -> PageResult {
    let c = convert(&state, &cu.user, id, idx, "dispute", None).await.map_err(|e| PageError::new(&headers, e))?;
    Ok(hx_redirect(&c.url))
}
