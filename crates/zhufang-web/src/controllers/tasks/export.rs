use super::ListQuery;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::pages::{fmt_opt, fmt_time};
use crate::state::AppState;
use crate::xlsx::{Cell, Ledger};
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Utc;
use zhufang_domain::task::{DueStatus, due_status};
use zhufang_store::model::PageReq;

/// Most rows one export carries.
const MAX_ROWS: i64 = 20_000;

/// The filtered ledger as an Excel workbook (same filters as the list).
#[utoipa::path(get, path = "/api/v1/tasks/export.xlsx", params(ListQuery), tag = "tasks",
    responses((status = 200, description = "xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn export(State(state): State<AppState>, cu: CurrentUser, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let f = q.to_filter(&state, &cu.user).await?;
    let wf = state.workflow();
    let cols = [
        ("任务编号", 20.0),
        ("任务标题", 36.0),
        ("任务事项", 18.0),
        ("责任单位", 18.0),
        ("状态", 10.0),
        ("接收人", 10.0),
        ("制定时间", 17.0),
        ("派单时间", 17.0),
        ("接单时间", 17.0),
        ("反馈时间", 17.0),
        ("办结时间", 17.0),
        ("当前时限", 17.0),
        ("是否超期", 9.0),
        ("退回重办", 9.0),
        ("评分", 6.0),
        ("反馈内容", 40.0),
    ];
    let mut x = Ledger::new("主防任务台账", &cols)?;
    let now = Utc::now();
    let mut page = 1;
    loop {
        let p = state.store.list_tasks(&f, PageReq { page, per_page: 500 }).await?;
        for t in &p.items {
            let label = wf.state(&t.state).map(|s| s.label_zh.clone()).unwrap_or_else(|| t.state.clone());
            let overdue = if due_status(t.clock(), now) == DueStatus::Overdue { "是" } else { "否" };
            let mut cells: Vec<Cell> = [
                t.number.clone(),
                t.title.clone(),
                t.catalogue_name.clone(),
                t.org_name.clone(),
                label,
                t.assignee_name.clone().unwrap_or_default(),
                fmt_time(&t.created_at),
                fmt_opt(&t.dispatched_at),
                fmt_opt(&t.accepted_at),
                fmt_opt(&t.feedback_at),
                fmt_opt(&t.closed_at),
                fmt_opt(&t.deadline_at),
                overdue.to_string(),
            ]
            .into_iter()
            .map(Cell::from)
            .collect();
            cells.push(Cell::Number(t.rework_count as f64));
            cells.push(t.score.map_or(Cell::Empty, |s| Cell::Number(s as f64)));
            cells.push(Cell::Text(t.feedback_text.clone().unwrap_or_default()));
            x.push(cells)?;
        }
        if p.items.len() < 500 || i64::from(x.rows()) > MAX_ROWS {
            break;
        }
        page += 1;
    }
    x.finish("tasks")
}
