//! The hand-over inbox (转办工单): what was diverted to an agency, by stage —
//! to sign for, in hand, done (awaiting the call-back), returned, closed, late —
//! most urgent limit first. Partner agencies see their own orders and act on
//! them here (sign for, return with a reason, report the result); the command
//! room and leaders see the hand-overs of their stations.

use super::pages::{ActionView, state_label};
use crate::auth::PageUser;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{PageError, PageResult, Shell, fmt_time, page_window, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use zhufang_domain::workflow::{ActorCtx, Subject};
use zhufang_store::incidents;
use zhufang_store::model::{IncidentFilter, PageReq};

/// The inbox's tabs: (id, label key, state filter, late only).
const TABS: [(&str, &str, Option<&str>, bool); 6] = [
    ("to_sign", "inbox.to_sign", Some("diverted"), false),
    ("in_hand", "inbox.in_hand", Some("signed_for"), false),
    ("overdue", "inbox.overdue", None, true),
    ("done", "inbox.done", Some("agency_done"), false),
    ("returned", "inbox.returned", Some("returned"), false),
    ("closed", "inbox.closed", Some("closed"), false),
];

#[derive(Deserialize)]
pub struct InboxForm {
    pub tab: Option<String>,
    pub q: Option<String>,
    pub page: Option<i64>,
}

struct Tab {
    id: &'static str,
    label: String,
    count: i64,
    active: bool,
}

struct Row {
    id: i64,
    version: i64,
    number: String,
    received: String,
    kind: String,
    description: String,
    from: String,
    agency: String,
    state: String,
    state_label: String,
    /// The open limit (sign for by / finish by) and how it stands.
    due: String,
    due_note: String,
    due_class: &'static str,
    actions: Vec<ActionView>,
}

#[derive(Template)]
#[template(path = "incidents/inbox.html")]
struct InboxTpl {
    shell: Shell,
    tabs: Vec<Tab>,
    tab: &'static str,
    q: String,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
    window: Vec<i64>,
    qs: String,
}

/// "3 小时后到期" / "已逾期 2 小时": the distance to a limit in hours or days.
fn due_note(tr: Tr, due: DateTime<Utc>, now: DateTime<Utc>) -> (String, &'static str) {
    let mins = (due - now).num_minutes();
    let span = |m: i64| {
        let m = m.abs();
        if m < 60 {
            format!("{m} {}", tr.t("unit.minutes"))
        } else if m < 48 * 60 {
            format!("{} {}", m / 60, tr.t("unit.hours"))
        } else {
            format!("{} {}", m / (24 * 60), tr.t("unit.days"))
        }
    };
    if mins < 0 {
        (format!("{} {}", tr.t("inbox.late_by"), span(mins)), "danger")
    } else if mins < 4 * 60 {
        (format!("{} {}", span(mins), tr.t("inbox.left")), "warn")
    } else {
        (format!("{} {}", span(mins), tr.t("inbox.left")), "")
    }
}

pub async fn inbox_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(f): Query<InboxForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "inbox", "nav.agency_inbox").await.map_err(err)?;
    let tr = shell.tr;
    let now = Utc::now();
    let tab = match f.tab.as_deref().filter(|t| !t.is_empty()) {
        None => TABS[0],
        Some(t) => *TABS
            .iter()
            .find(|x| x.0 == t)
            .ok_or_else(|| err(AppError::field("tab", "须为 to_sign、in_hand、overdue、done、returned 或 closed")))?,
    };
    let q = f.q.as_deref().map(str::trim).unwrap_or("").to_string();
    let base = incidents::visibility(state.store.as_ref(), &cu.user).await.map_err(|e| err(e.into()))?;
    let filter_for = |t: &(&str, &str, Option<&str>, bool)| IncidentFilter {
        handed_over: true,
        state: t.2.map(str::to_string),
        overdue_at: t.3.then_some(now),
        q: Some(q.clone()).filter(|q| !q.is_empty()),
        sort_due: true,
        ..base.clone()
    };
    let mut tabs = Vec::with_capacity(TABS.len());
    for t in &TABS {
        let count = state
            .store
            .list_incidents(&filter_for(t), PageReq::new(Some(1), Some(1)))
            .await
            .map_err(|e| err(e.into()))?;
        tabs.push(Tab { id: t.0, label: tr.t(t.1).to_string(), count: count.total, active: t.0 == tab.0 });
    }
    let page = state
        .store
        .list_incidents(&filter_for(&tab), PageReq::new(f.page, Some(20)))
        .await
        .map_err(|e| err(e.into()))?;
    let wf = state.store.workflow(zhufang_domain::incident::WORKFLOW).await.map_err(|e| err(e.into()))?;
    let actor = ActorCtx { user_id: cu.user.id, roles: &cu.user.roles };
    let rows = page
        .items
        .iter()
        .map(|i| {
            let open_due = match i.state.as_str() {
                "diverted" => i.sign_due_at.map(|d| (d, tr.t("inbox.sign_by"))),
                "signed_for" => i.done_due_at.map(|d| (d, tr.t("inbox.finish_by"))),
                _ => None,
            };
            let (due, (due_note, due_class)) = match open_due {
                Some((d, what)) => (format!("{what} {}", fmt_time(&d)), due_note(tr, d, now)),
                None => (String::new(), (String::new(), "")),
            };
            let subject = Subject { state: &i.state, assignee: i.assignee_id, dispatcher: None, creator: i.creator_id };
            let actions = wf
                .available(&subject, &actor)
                .into_iter()
                .filter(|r| matches!(r.action.as_str(), "sign_for" | "return" | "agency_done"))
                .map(|r| ActionView {
                    action: r.action.clone(),
                    label: tr.pick(&r.label_zh, &r.label_en).to_string(),
                    needs: r.required.clone(),
                    danger: r.action == "return",
                })
                .collect();
            Row {
                id: i.id,
                version: i.version,
                number: i.number.clone(),
                received: fmt_time(&i.received_at),
                kind: super::pages::type_label(tr, i),
                description: i.description.chars().take(60).collect(),
                from: match &i.grid_name {
                    Some(g) => format!("{} · {}", i.station_name, g),
                    None => i.station_name.clone(),
                },
                agency: i.agency_name.clone().unwrap_or_default(),
                state: i.state.clone(),
                state_label: state_label(&wf, tr, &i.state),
                due,
                due_note,
                due_class,
                actions,
            }
        })
        .collect();
    let pages = page.pages();
    let mut qs = url::form_urlencoded::Serializer::new(String::new());
    qs.append_pair("tab", tab.0);
    if !q.is_empty() {
        qs.append_pair("q", &q);
    }
    render(
        InboxTpl {
            shell,
            tabs,
            tab: tab.0,
            q,
            rows,
            total: page.total,
            page: page.page,
            pages,
            window: page_window(page.page, pages),
            qs: qs.finish(),
        },
        &headers,
    )
}
