use super::ListQuery;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, AppError};
use crate::pages::{fmt_opt, fmt_time};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rust_xlsxwriter::{Format, Workbook};
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
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let xe = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    ws.set_name("主防任务台账").map_err(xe)?;
    let head = Format::new().set_bold().set_background_color(rust_xlsxwriter::Color::RGB(0xDCE6F2));
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
    for (i, (name, width)) in cols.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *name, &head).map_err(xe)?;
        ws.set_column_width(i as u16, *width).map_err(xe)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xe)?;
    let now = Utc::now();
    let mut row = 1u32;
    let mut page = 1;
    loop {
        let p = state.store.list_tasks(&f, PageReq { page, per_page: 500 }).await?;
        for t in &p.items {
            let label = wf.state(&t.state).map(|s| s.label_zh.clone()).unwrap_or_else(|| t.state.clone());
            let overdue = if due_status(t.clock(), now) == DueStatus::Overdue { "是" } else { "否" };
            let cells = [
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
            ];
            for (c, v) in cells.iter().enumerate() {
                ws.write_string(row, c as u16, v).map_err(xe)?;
            }
            ws.write_number(row, 13, t.rework_count as f64).map_err(xe)?;
            if let Some(s) = t.score {
                ws.write_number(row, 14, s as f64).map_err(xe)?;
            }
            ws.write_string(row, 15, t.feedback_text.clone().unwrap_or_default()).map_err(xe)?;
            row += 1;
        }
        if p.items.len() < 500 || i64::from(row) > MAX_ROWS {
            break;
        }
        page += 1;
    }
    ws.autofilter(0, 0, row.saturating_sub(1).max(1), (cols.len() - 1) as u16).map_err(xe)?;
    let buf = wb.save_to_buffer().map_err(xe)?;
    let name = format!("zhufang-tasks-{}.xlsx", zhufang_domain::calendar::local_date(now).format("%Y%m%d"));
    Ok((
        [
            ("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            ("content-disposition", format!("attachment; filename=\"{name}\"")),
        ],
        buf,
    )
        .into_response())
}
