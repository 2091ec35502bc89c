//! The filtered incident list as an Excel workbook (the usual 警情台账
//! columns; the caller's phone masked).

use super::ListQuery;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, AppError};
use crate::pages::{fmt_opt, fmt_time};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rust_xlsxwriter::{Format, Workbook};
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
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let xe = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    ws.set_name("警情台账").map_err(xe)?;
    let head = Format::new().set_bold().set_background_color(rust_xlsxwriter::Color::RGB(0xDCE6F2));
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
    for (i, (name, width)) in cols.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *name, &head).map_err(xe)?;
        ws.set_column_width(i as u16, *width).map_err(xe)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xe)?;
    let mut row = 1u32;
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
            for (c, v) in cells.iter().enumerate() {
                ws.write_string(row, c as u16, v).map_err(xe)?;
            }
            row += 1;
        }
        if p.items.len() < 500 || i64::from(row) > MAX_ROWS {
            break;
        }
        page += 1;
    }
    ws.autofilter(0, 0, row.saturating_sub(1).max(1), (cols.len() - 1) as u16).map_err(xe)?;
    let buf = wb.save_to_buffer().map_err(xe)?;
    let name = format!("zhufang-incidents-{}.xlsx", zhufang_domain::calendar::local_date(Utc::now()).format("%Y%m%d"));
    Ok((
        [
            ("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            ("content-disposition", format!("attachment; filename=\"{name}\"")),
        ],
        buf,
    )
        .into_response())
}
