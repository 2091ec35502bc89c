//! The filtered dispute ledger as an Excel workbook (the usual 矛盾纠纷台账
//! columns; parties are not in it — only their number).

use super::ListQuery;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::pages::{fmt_opt, fmt_time};
use crate::state::AppState;
use crate::xlsx::{Cell, Ledger};
use axum::extract::{Query, State};
use axum::response::Response;
use zhufang_domain::dispute::{Colour, Level, Source};
use zhufang_store::model::PageReq;

/// Most rows one export carries.
const MAX_ROWS: i64 = 50_000;

/// The filtered disputes as an Excel workbook (same filters as the ledger).
#[utoipa::path(get, path = "/api/v1/disputes/export.xlsx", params(ListQuery), tag = "disputes",
    responses((status = 200, description = "xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn export(State(state): State<AppState>, cu: CurrentUser, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let f = q.to_filter(&state, &cu).await?;
    let wf = state.store.workflow(zhufang_domain::dispute::WORKFLOW).await?;
    let cols = [
        ("纠纷编号", 20.0),
        ("登记时间", 17.0),
        ("标题", 24.0),
        ("纠纷类别", 12.0),
        ("发现方式", 12.0),
        ("预警等级", 12.0),
        ("触发规则", 30.0),
        ("ABC分类", 8.0),
        ("化解层级", 12.0),
        ("承办单位", 18.0),
        ("涉及人数", 8.0),
        ("涉及金额（元）", 12.0),
        ("纠纷情况", 40.0),
        ("地址", 24.0),
        ("所属派出所", 14.0),
        ("网格", 14.0),
        ("状态", 10.0),
        ("受理时间", 17.0),
        ("化解时间", 17.0),
        ("归档时间", 17.0),
        ("调解失败次数", 10.0),
        ("复发次数", 8.0),
    ];
    let mut x = Ledger::new("矛盾纠纷台账", &cols)?;
    let mut page = 1;
    loop {
        let p = state.store.list_disputes(&f, PageReq { page, per_page: 500 }).await?;
        for d in &p.items {
            let fired: Vec<String> =
                serde_json::from_value::<Vec<zhufang_domain::dispute::Fired>>(d.fired_rules.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| f.name)
                    .collect();
            let cells = [
                d.number.clone(),
                fmt_time(&d.created_at),
                d.title.clone(),
                d.category_name.clone(),
                Source::parse(&d.source).map(|s| s.label_zh().to_string()).unwrap_or_else(|| d.source.clone()),
                Colour::parse(&d.colour).map(|c| c.label_zh().to_string()).unwrap_or_else(|| d.colour.clone()),
                fired.join("；"),
                d.class.clone().unwrap_or_default(),
                Level::from_i64(d.level).map(|l| l.label_zh()).unwrap_or_default().to_string(),
                d.level_org_name.clone().unwrap_or_default(),
                d.people_involved.to_string(),
                d.amount.to_string(),
                d.description.clone(),
                d.address.clone(),
                d.station_name.clone(),
                d.grid_name.clone().unwrap_or_default(),
                wf.state(&d.state).map(|s| s.label_zh.clone()).unwrap_or_else(|| d.state.clone()),
                fmt_opt(&d.accepted_at),
                fmt_opt(&d.settled_at),
                fmt_opt(&d.closed_at),
                d.failed_mediations.to_string(),
                d.relapses.to_string(),
            ];
            x.push(cells.into_iter().map(Cell::from))?;
        }
        if p.items.len() < 500 || i64::from(x.rows()) > MAX_ROWS {
            break;
        }
        page += 1;
    }
    x.finish("disputes")
}
