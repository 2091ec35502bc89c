//! The in-app inbox.

use crate::auth::{CurrentUser, PageUser};
use crate::controllers::ApiJson;
use crate::error::ApiResult;
use crate::pages::{PageError, PageResult, Shell, fmt_time, hx_redirect, page_window, render};
use crate::state::AppState;
use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhufang_store::model::{Notification, PageReq};

#[derive(Deserialize, IntoParams)]
pub struct InboxQuery {
    pub unread: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct InboxOut {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Notification>,
    pub total: i64,
    pub unread: i64,
}

#[utoipa::path(get, path = "/api/v1/notifications", params(InboxQuery), tag = "notifications", responses((status = 200, body = InboxOut)))]
pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<InboxQuery>,
) -> ApiResult<Json<InboxOut>> {
    let p = state.store.notifications(cu.user.id, q.unread.unwrap_or(false), PageReq::new(q.page, q.per_page)).await?;
    let unread = state.store.unread_count(cu.user.id).await?;
    Ok(Json(InboxOut { items: p.items, total: p.total, unread }))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct ReadBody {
    /// One notification; all when absent.
    pub id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ReadOut {
    pub marked: u64,
}

#[utoipa::path(post, path = "/api/v1/notifications/read", request_body = ReadBody, tag = "notifications", responses((status = 200, body = ReadOut)))]
pub async fn mark_read(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<ReadBody>,
) -> ApiResult<Json<ReadOut>> {
    let marked = state.store.mark_read(cu.user.id, b.id, Utc::now()).await?;
    Ok(Json(ReadOut { marked }))
}

pub struct NoteView {
    pub id: i64,
    pub kind: String,
    pub task_id: Option<i64>,
    pub message: String,
    pub at: String,
    pub read: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct InboxTpl {
    shell: Shell,
    items: Vec<NoteView>,
    total: i64,
    page: i64,
    window: Vec<i64>,
}

pub async fn page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<InboxQuery>,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "notifications", "notif.title").await.map_err(err)?;
    let p = state
        .store
        .notifications(cu.user.id, q.unread.unwrap_or(false), PageReq::new(q.page, Some(30)))
        .await
        .map_err(|e| err(e.into()))?;
    let window = page_window(p.page, p.pages());
    let items = p
        .items
        .into_iter()
        .map(|n| NoteView {
            id: n.id,
            kind: n.kind,
            task_id: n.task_id,
            message: n.message,
            at: fmt_time(&n.created_at),
            read: n.read,
        })
        .collect();
    render(InboxTpl { shell, items, total: p.total, page: p.page, window }, &headers)
}

#[derive(Deserialize)]
pub struct ReadForm {
    id: Option<i64>,
}

pub async fn mark_read_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    axum::Form(f): axum::Form<ReadForm>,
) -> PageResult {
    state.store.mark_read(cu.user.id, f.id, Utc::now()).await.map_err(|e| PageError::new(&headers, e))?;
    Ok(hx_redirect("/notifications"))
}
