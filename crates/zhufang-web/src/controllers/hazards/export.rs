//! The filtered hazard register as an Excel workbook (隐患台账), highest risk first.

use super::ListQuery;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::pages::{fmt_opt, fmt_time};
use crate::state::AppState;
use crate::xlsx::{Cell, Ledger};
use axum::extract::{Query, State};
use axum::response::Response;
use zhufang_domain::hazard::Risk;
use zhufang_store::model::PageReq;

/// Most rows one export carries.
const MAX_ROWS: i64 = 50_000;

/// The filtered hazards as an Excel workbook (same filters as the register).
#[utoipa::path(get, path = "/api/v1/hazards/export.xlsx", params(ListQuery), tag = "hazards",
    responses((status = 200, description = "xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn export(State(state): State<AppState>, cu: CurrentUser, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let f = q.to_filter(&state, &cu).await?;
    let wf = state.store.workflow(zhufang_domain::hazard::WORKFLOW).await?;
    let cols = [
        ("隐患编号", 20.0),
        ("发现时间", 17.0),
        ("隐患类型", 12.0),
        ("风险值", 8.0),
        ("风险等级", 8.0),
        ("风险因素", 30.0),
        ("隐患情况", 40.0),
        ("地址", 24.0),
        ("所属派出所", 14.0),
        ("网格", 14.0),
        ("临近学校", 8.0),
        ("影响人数", 8.0),
        ("发现人", 10.0),
        ("整改责任单位", 18.0),
        ("整改期限", 17.0),
        ("状态", 10.0),
        ("整改完成时间", 17.0),
        ("销号时间", 17.0),
        ("复查不合格次数", 10.0),
    ];
    let mut x = Ledger::new("安全隐患台账", &cols)?;
    let mut page = 1;
    loop {
        let p = state.store.list_hazards(&f, PageReq { page, per_page: 500 }).await?;
        for h in &p.items {
            let fired: Vec<String> = serde_json::from_value::<Risk>(h.risk.clone())
                .map(|r| r.fired.into_iter().map(|f| f.label).collect())
                .unwrap_or_default();
            let cells = [
                h.number.clone(),
                fmt_time(&h.created_at),
                h.type_name.clone(),
                h.risk_score.to_string(),
                Risk::level(h.risk_score).1.to_string(),
                fired.join("；"),
                h.description.clone(),
                h.address.clone(),
                h.station_name.clone(),
                h.grid_name.clone().unwrap_or_default(),
                if h.near_school { "是" } else { "否" }.to_string(),
                h.people_affected.to_string(),
                h.found_by_name.clone(),
                h.responsible_org_name.clone().unwrap_or_default(),
                fmt_opt(&h.deadline_at),
                wf.state(&h.state).map(|s| s.label_zh.clone()).unwrap_or_else(|| h.state.clone()),
                fmt_opt(&h.rectified_at),
                fmt_opt(&h.closed_at),
                h.failed_rechecks.to_string(),
            ];
            x.push(cells.into_iter().map(Cell::from))?;
        }
        if p.items.len() < 500 || i64::from(x.rows()) > MAX_ROWS {
            break;
        }
        page += 1;
    }
    x.finish("hazards")
}
