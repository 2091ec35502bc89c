//! The home board: my tasks, due soon, overdue, to evaluate.

use super::tasks::RowView;
use crate::auth::PageUser;
use crate::pages::{PageError, PageResult, Shell, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use chrono::Utc;
use zhufang_domain::Role;
use zhufang_store::model::{PageReq, TaskCounts, TaskFilter};
use zhufang_store::service;

#[derive(Template)]
#[template(path = "board.html")]
struct BoardTpl {
    shell: Shell,
    counts: TaskCounts,
    mine: Vec<RowView>,
    due_soon: Vec<RowView>,
    overdue: Vec<RowView>,
    to_evaluate: Vec<RowView>,
    evaluator: bool,
    /// Located items outside every grid queued at this user's station (command room, leaders).
    unrouted: Option<i64>,
}

pub async fn page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    // a partner agency's work is its hand-over inbox
    if cu.user.roles.iter().all(|r| *r == Role::PartnerAgency) {
        return Ok(axum::response::Redirect::to("/incidents/inbox").into_response());
    }
    let err = |e: zhufang_store::StoreError| PageError::new(&headers, e);
    let shell =
        Shell::new(&state, &cu, &headers, "home", "board.title").await.map_err(|e| PageError::new(&headers, e))?;
    let now = Utc::now();
    let wf = state.workflow();
    let tr = shell.tr;
    let scope = service::visibility(&cu.user);
    let evaluator = cu.user.has(Role::StationLeader) || cu.user.has(Role::Admin);
    let counts = state.store.task_counts(&scope, now, evaluator).await.map_err(err)?;
    let few = PageReq::new(Some(1), Some(10));
    let rows = |p: zhufang_store::model::Page<zhufang_store::model::Task>| {
        p.items.iter().map(|t| RowView::new(t, &wf, tr)).collect::<Vec<_>>()
    };
    let mine = TaskFilter {
        assignee_id: Some(cu.user.id),
        states: vec!["dispatched".into(), "accepted".into(), "in_progress".into()],
        ..Default::default()
    };
    let mine = rows(state.store.list_tasks(&mine, few).await.map_err(err)?);
    let due_soon =
        rows(state.store.list_tasks(&TaskFilter { due_soon_at: Some(now), ..scope.clone() }, few).await.map_err(err)?);
    let overdue =
        rows(state.store.list_tasks(&TaskFilter { overdue_at: Some(now), ..scope.clone() }, few).await.map_err(err)?);
    let to_evaluate = if evaluator {
        rows(
            state
                .store
                .list_tasks(&TaskFilter { state: Some("feedback_submitted".into()), ..scope.clone() }, few)
                .await
                .map_err(err)?,
        )
    } else {
        vec![]
    };
    let unrouted = if cu.user.has(Role::CommandRoom) || cu.user.has(Role::StationLeader) {
        Some(state.store.unrouted_items(&cu.user.org_path, PageReq::new(Some(1), Some(1))).await.map_err(err)?.total)
    } else {
        None
    };
    render(BoardTpl { shell, counts, mine, due_soon, overdue, to_evaluate, evaluator, unrouted }, &headers)
}
