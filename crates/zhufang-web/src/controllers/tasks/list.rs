use super::{ListQuery, RowView, TaskOut};
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiResult;
use crate::pages::{PageError, PageResult, Shell, page_window, render};
use crate::state::AppState;
use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;
use zhufang_store::model::{OrgUnit, PageReq, TaskFilter};

#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    pub items: Vec<TaskOut>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Lists tasks the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/tasks", params(ListQuery), tag = "tasks",
    responses((status = 200, body = TaskPage), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<TaskPage>> {
    let f = q.to_filter(&state, &cu.user).await?;
    let p = state.store.list_tasks(&f, PageReq::new(q.page, q.per_page)).await?;
    let wf = state.workflow();
    Ok(Json(TaskPage {
        items: p.items.into_iter().map(|t| TaskOut::new(t, &wf)).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

pub struct Opt {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "tasks/list.html")]
struct ListTpl {
    shell: Shell,
    q: ListQuery,
    qs: String,
    rows: Vec<RowView>,
    total: i64,
    page: i64,
    pages: i64,
    window: Vec<i64>,
    states: Vec<Opt>,
    orgs: Vec<Opt>,
    items: Vec<Opt>,
}

impl ListTpl {
    fn sel(&self, field: &Option<String>, v: &str) -> bool {
        field.as_deref() == Some(v)
    }
    fn val<'a>(&self, field: &'a Option<String>) -> &'a str {
        field.as_deref().unwrap_or("")
    }
}

/// Units the user may filter by or create tasks for (their subtree, no agencies), as options.
pub async fn org_options(
    state: &AppState,
    user: &zhufang_store::model::User,
) -> Result<Vec<Opt>, crate::error::AppError> {
    Ok(state
        .store
        .org_units()
        .await?
        .into_iter()
        .filter(|o: &OrgUnit| user.covers(&o.path) && o.kind != "agency")
        .map(|o| Opt { value: o.code, label: o.name })
        .collect())
}

pub async fn list_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "tasks", "nav.tasks").await.map_err(err)?;
    let f = q.to_filter(&state, &cu.user).await.map_err(err)?;
    let p =
        state.store.list_tasks(&f, PageReq::new(q.page, q.per_page.or(Some(20)))).await.map_err(|e| err(e.into()))?;
    let wf = state.workflow();
    let tr = shell.tr;
    let states = wf
        .states
        .iter()
        .map(|s| Opt { value: s.state.clone(), label: tr.pick(&s.label_zh, &s.label_en).to_string() })
        .collect();
    let orgs = org_options(&state, &cu.user).await.map_err(err)?;
    let items = state
        .store
        .catalogue(false)
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .map(|c| Opt { value: c.code, label: tr.pick(&c.name, &c.name_en).to_string() })
        .collect();
    let pages = p.pages();
    let tpl = ListTpl {
        qs: q.query_string(),
        rows: p.items.iter().map(|t| RowView::new(t, &wf, tr)).collect(),
        total: p.total,
        page: p.page,
        window: page_window(p.page, pages),
        pages,
        states,
        orgs,
        items,
        q,
        shell,
    };
    render(tpl, &headers)
}

#[derive(Template)]
#[template(path = "tasks/mine.html")]
struct MineTpl {
    shell: Shell,
    rows: Vec<RowView>,
    /// Incidents I was sent to and have not finished (出警), first.
    calls: Vec<crate::controllers::incidents::pages::CallCard>,
    results: Vec<Opt>,
}

/// The phone view: the incidents I was sent to (mark arrival and the result
/// with one tap each), then my open tasks as cards, most urgent first.
pub async fn mine_page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "mine", "nav.mine").await.map_err(err)?;
    let f = TaskFilter {
        assignee_id: Some(cu.user.id),
        states: vec!["dispatched".into(), "accepted".into(), "in_progress".into()],
        ..Default::default()
    };
    let p = state.store.list_tasks(&f, PageReq::new(Some(1), Some(100))).await.map_err(|e| err(e.into()))?;
    let wf = state.workflow();
    let mut rows: Vec<_> = p.items.iter().map(|t| (t.deadline_at, RowView::new(t, &wf, shell.tr))).collect();
    rows.sort_by_key(|(d, _)| d.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC));
    let (calls, results) = crate::controllers::incidents::pages::my_calls(&state, &cu, shell.tr).await.map_err(err)?;
    render(MineTpl { rows: rows.into_iter().map(|(_, r)| r).collect(), calls, results, shell }, &headers)
}
