//! The filtered incident list as an Excel workbook (the usual 警情台账
//! columns; the caller's phone masked).

use super::ListQuery;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::pages::{fmt_opt, fmt_time};
use crate::state::AppState;
use crate::xlsx::{Cell, Ledger};
use axum::extract::{Query, State};
use axum::response::Response;
use zhufang_domain::incident::{Channel, HandlingResult, Severity};
use zhufang_store::model::PageReq;

/// Most rows one export carries.
const MAX_ROWS: i64 = 50_000;

/// The filtered incidents as an Excel workbook (same filters as the list).
#[utoipa::path(get, path = "/api/v1/incidents/export.xlsx", params(ListQuery), tag = "incidents",
    responses((status = 200, description = "xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn export(State(state): State<AppState>, cu: CurrentUser, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let f = q.to_filter(&state, &cu).await?;
    let wf = state.store.workflow(zhufang_domain::incident::WORKFLOW).await?;
    let cols = [
        ("警情编号", 22.0),
        ("接警时间", 17.0),
        ("来源渠道", 10.0),
        ("警情类型", 14.0),
        ("等级", 6.0),
        ("警情描述", 40.0),
        ("地址", 24.0),
        ("所属派出所", 14.0),
        ("网格", 14.0),
        ("报警人电话", 14.0),
        ("警务/非警务", 10.0),
        ("状态", 10.0),
        ("出警民警", 10.0),
        ("联动单位", 18.0),
        ("派警时间", 17.0),
        ("到场时间", 17.0),
        ("处置完毕", 17.0),
        ("处置结果", 10.0),
        ("分流时间", 17.0),
        ("签收时间", 17.0),
        ("办结时间", 17.0),
        ("结束时间", 17.0),
        ("回访评价", 10.0),
        ("重复报警", 8.0),
    ];
    let mut x = Ledger::new("警情台账", &cols)?;
    let mut page = 1;
    loop {
        let p = state.store.list_incidents(&f, PageReq { page, per_page: 500 }).await?;
        for i in &p.items {
            let cells = [
                i.number.clone(),
                fmt_time(&i.received_at),
                Channel::parse(&i.channel).map(|c| c.label_zh().to_string()).unwrap_or_else(|| i.channel.clone()),
                i.type_name.clone().unwrap_or_default(),
                Severity::from_level(i.severity).map(|s| s.label_zh()).unwrap_or_default().to_string(),
                i.description.clone(),
                i.address.clone(),
                i.station_name.clone(),
                i.grid_name.clone().unwrap_or_default(),
                i.caller_phone_masked.clone().unwrap_or_default(),
                match i.police {
                    Some(true) => "警务".into(),
                    Some(false) => "非警务".into(),
                    None => String::new(),
                },
                wf.state(&i.state).map(|s| s.label_zh.clone()).unwrap_or_else(|| i.state.clone()),
                i.assignee_name.clone().unwrap_or_default(),
                i.agency_name.clone().unwrap_or_default(),
                fmt_opt(&i.dispatched_at),
                fmt_opt(&i.arrived_at),
                fmt_opt(&i.handled_at),
                i.result
                    .as_deref()
                    .and_then(HandlingResult::parse)
                    .map(|r| r.label_zh())
                    .unwrap_or_default()
                    .to_string(),
                fmt_opt(&i.diverted_at),
                fmt_opt(&i.signed_for_at),
                fmt_opt(&i.agency_done_at),
                fmt_opt(&i.closed_at),
                i.rating.and_then(zhufang_domain::incident::rating_label).unwrap_or_default().to_string(),
                if i.repeat_of.is_some() { "是".into() } else { String::new() },
            ];
            x.push(cells.into_iter().map(Cell::from))?;
        }
        if p.items.len() < 500 || i64::from(x.rows()) > MAX_ROWS {
            break;
        }
        page += 1;
    }
    x.finish("incidents")
}
