use super::TaskOut;
use super::show::TaskDetail;
use crate::auth::{CurrentUser, PageUser};
use crate::error::{ApiResult, AppError};
use crate::pages::{PageError, PageResult, hx_redirect};
use crate::state::AppState;
use crate::upload;
use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::HeaderMap;
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use zhufang_domain::Wgs84Point;
use zhufang_store::service::{self, FieldError, TransitionInput};

#[derive(Deserialize, ToSchema, Default)]
pub struct TransitionBody {
    /// dispatch, accept, refuse, start, submit_feedback, return, evaluate, reassign or cancel.
    pub action: String,
    /// Username of the new assignee (dispatch, reassign).
    pub assignee: Option<String>,
    /// Reason or feedback text.
    pub note: Option<String>,
    /// 1–5 (evaluate).
    pub score: Option<i64>,
    /// The version you read; a newer one on the server is a 409 conflict.
    pub version: Option<i64>,
    pub location: Option<super::create::LocationBody>,
    /// With the feedback of a patrol (巡查) or visit (走访): `visited` (places or
    /// households), `households` (how many), `problems` (each can become a
    /// hazard or a dispute: `POST /api/v1/tasks/{id}/problems/{idx}/hazard|dispute`).
    #[schema(value_type = Option<Object>)]
    pub report: Option<zhufang_domain::task::FieldReport>,
}

fn to_input(b: TransitionBody) -> Result<TransitionInput, AppError> {
    let location = match b.location {
        Some(l) => Some(Wgs84Point::new(l.lat, l.lon).map_err(|e| AppError::field(e.field, e.message))?),
        None => None,
    };
    Ok(TransitionInput {
        action: b.action.trim().to_string(),
        assignee: b.assignee,
        note: b.note,
        score: b.score,
        version: b.version,
        location,
        attachments: vec![],
        report: b.report,
    })
}

/// Reads a multipart transition: text fields plus `photos` files (checked and stored).
async fn from_multipart(state: &AppState, mut mp: Multipart) -> Result<TransitionInput, AppError> {
    let mut b = TransitionBody::default();
    let (mut lat, mut lon) = (None, None);
    let (mut visited, mut problems, mut households) = (String::new(), String::new(), None);
    let mut files = vec![];
    let mut errs: Vec<FieldError> = vec![];
    let bad = |_| AppError::BadRequest("表单数据不完整".into());
    let result: Result<(), AppError> = async {
        while let Some(field) = mp.next_field().await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE { AppError::PayloadTooLarge } else { bad(e) }
        })? {
            let name = field.name().unwrap_or_default().to_string();
            if name == "photos" {
                let fname = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        AppError::PayloadTooLarge
                    } else {
                        bad(e)
                    }
                })?;
                if bytes.is_empty() && fname.is_empty() {
                    continue; // an empty file input
                }
                if files.len() >= upload::MAX_PHOTOS {
                    return Err(AppError::field("photos", "最多上传9张照片"));
                }
                files.push(upload::save_photo(state, &fname, &bytes).await?);
                continue;
            }
            let text = field.text().await.map_err(bad)?;
            let t = text.trim();
            match name.as_str() {
                "action" => b.action = t.to_string(),
                "assignee" => b.assignee = Some(t.to_string()).filter(|s| !s.is_empty()),
                "note" => b.note = Some(text.clone()).filter(|s| !s.trim().is_empty()),
                "score" if !t.is_empty() => match t.parse() {
                    Ok(v) => b.score = Some(v),
                    Err(_) => errs.push(FieldError::new("score", "评分须为1至5的整数")),
                },
                "version" if !t.is_empty() => b.version = t.parse().ok(),
                "visited" => visited = text.clone(),
                "problems" => problems = text.clone(),
                "households" if !t.is_empty() => match t.parse() {
                    Ok(v) => households = Some(v),
                    Err(_) => errs.push(FieldError::new("report.households", "走访户数须为整数")),
                },
                "lat" if !t.is_empty() => lat = t.parse::<f64>().ok().or(Some(f64::NAN)),
                "lon" if !t.is_empty() => lon = t.parse::<f64>().ok().or(Some(f64::NAN)),
                _ => {}
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        upload::discard(state, &files).await;
        return Err(e);
    }
    if !errs.is_empty() {
        upload::discard(state, &files).await;
        return Err(AppError::Validation(errs));
    }
    if !visited.trim().is_empty() || !problems.trim().is_empty() || households.is_some() {
        b.report = Some(zhufang_domain::task::FieldReport::from_lines(&visited, households, &problems));
    }
    match (lat, lon) {
        (Some(lat), Some(lon)) => b.location = Some(super::create::LocationBody { lat, lon }),
        (None, None) => {}
        _ => {
            upload::discard(state, &files).await;
            return Err(AppError::field("location", "经纬度须同时填写"));
        }
    }
    match to_input(b) {
        Ok(mut input) => {
            input.attachments = files;
            Ok(input)
        }
        Err(e) => {
            upload::discard(state, &files).await;
            Err(e)
        }
    }
}

async fn apply(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    input: TransitionInput,
) -> Result<zhufang_store::model::Task, AppError> {
    let files = input.attachments.clone();
    let r = service::transition(
        state.store.as_ref(),
        &state.workflow(),
        &state.calendar(),
        &cu.user,
        id,
        input,
        Utc::now(),
    )
    .await;
    if r.is_err() {
        upload::discard(state, &files).await;
    }
    Ok(r?)
}

async fn read_input(state: &AppState, req: Request) -> Result<TransitionInput, AppError> {
    let ct = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if ct.starts_with("multipart/form-data") {
        let mp = Multipart::from_request(req, state).await.map_err(|e| AppError::BadRequest(e.body_text()))?;
        from_multipart(state, mp).await
    } else {
        let crate::controllers::ApiJson(b) =
            crate::controllers::ApiJson::<TransitionBody>::from_request(req, state).await?;
        to_input(b)
    }
}

/// Fires an action on a task. JSON, or multipart/form-data with `photos`
/// files for feedback. 409 `invalid_transition` when the state does not
/// allow it, 409 `conflict` when someone else changed the task first, 403
/// `forbidden` when this user may not, 422 with per-field messages.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/transitions", request_body = TransitionBody, tag = "tasks",
    responses((status = 200, body = TaskDetail), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn transition(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    req: Request,
) -> ApiResult<Json<TaskOut>> {
    let input = read_input(&state, req).await?;
    let t = apply(&state, &cu, id, input).await?;
    Ok(Json(TaskOut::new(t, &state.workflow())))
}

/// The action forms of the task page (htmx, multipart).
pub async fn transition_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    req: Request,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    let input = read_input(&state, req).await.map_err(err)?;
    apply(&state, &cu, id, input).await.map_err(err)?;
    Ok(hx_redirect(&format!("/tasks/{id}")))
}
