//! Admin pages: the four workflows (states and transition table, shown and
//! edited as JSON) and the working-day calendar (`/admin/workflow`), and the
//! audit log with chain verification (`/admin/audit`). The same edits go
//! through `PUT /api/v1/workflows/{name}`; calendar days are set here or via the API.

use crate::auth::PageUser;
use crate::error::AppError;
use crate::pages::{PageError, PageResult, Shell, fmt_time, hx_redirect, page_window, render};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use zhufang_domain::Role;
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::calendar::DayKind;
use zhufang_domain::workflow::Workflow;
use zhufang_store::ChainStatus;
use zhufang_store::model::{PageReq, from_ms};

fn admin_only(cu: &crate::auth::CurrentUser) -> Result<(), AppError> {
    if cu.user.has(Role::Admin) { Ok(()) } else { Err(AppError::Forbidden) }
}

pub struct RuleView {
    pub from: String,
    pub action: String,
    pub label: String,
    pub to: String,
    pub who: String,
    pub required: String,
    pub effects: String,
    pub guards: String,
}

#[derive(Template)]
#[template(path = "admin/workflow.html")]
struct WorkflowTpl {
    shell: Shell,
    wf: Workflow,
    /// (name, label, current) of the four workflows.
    tabs: Vec<(String, String, bool)>,
    /// The states and rules as pretty JSON, for the editor.
    definition: String,
    rows: Vec<RuleView>,
    days: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
pub struct WorkflowQuery {
    name: Option<String>,
}

pub async fn workflow_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<WorkflowQuery>,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    admin_only(&cu).map_err(err)?;
    let shell = Shell::new(&state, &cu, &headers, "workflow", "nav.workflow").await.map_err(err)?;
    let tr = shell.tr;
    let name = q.name.unwrap_or_else(|| zhufang_domain::task::WORKFLOW.to_string());
    let wf = super::workflows::load(&state, &name).await.map_err(err)?;
    let tabs = super::workflows::KNOWN
        .iter()
        .map(|(n, zh, en)| (n.to_string(), tr.pick(zh, en).to_string(), *n == name))
        .collect();
    let definition = serde_json::to_string_pretty(&serde_json::json!({"states": wf.states, "rules": wf.rules}))
        .map_err(|e| err(AppError::Internal(e.to_string())))?;
    let label =
        |s: &str| wf.state(s).map(|d| tr.pick(&d.label_zh, &d.label_en).to_string()).unwrap_or_else(|| s.to_string());
    let rows = wf
        .rules
        .iter()
        .map(|r| RuleView {
            from: label(&r.from),
            action: r.action.clone(),
            label: tr.pick(&r.label_zh, &r.label_en).to_string(),
            to: label(&r.to),
            who: r
                .allowed
                .iter()
                .map(|a| match a {
                    zhufang_domain::workflow::Actor::Role(role) => {
                        tr.pick(role.label_zh(), role.label_en()).to_string()
                    }
                    zhufang_domain::workflow::Actor::Assignee => tr.t("wf.assignee").to_string(),
                    zhufang_domain::workflow::Actor::Dispatcher => tr.t("wf.dispatcher").to_string(),
                    zhufang_domain::workflow::Actor::Creator => tr.t("wf.creator").to_string(),
                })
                .collect::<Vec<_>>()
                .join(tr.pick("、", ", ")),
            required: r.required.join(", "),
            effects: r.effects.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", "),
            guards: r.guards.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", "),
        })
        .collect();
    let days = state
        .store
        .calendar_days()
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .rev()
        .map(|(d, k, n)| (d.to_string(), k.as_str().to_string(), n))
        .collect();
    render(WorkflowTpl { shell, wf, tabs, definition, rows, days }, &headers)
}

#[derive(Deserialize)]
pub struct DefinitionForm {
    definition: String,
}

/// Saves a workflow edited as JSON on the page (the same checks as the API).
pub async fn workflow_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<DefinitionForm>,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    admin_only(&cu).map_err(err)?;
    let body: super::workflows::WorkflowBody = serde_json::from_str(&f.definition).map_err(|e| {
        err(AppError::field(
            "definition",
            &format!("流程定义不是有效的JSON（第{}行第{}列）：{}", e.line(), e.column(), json_reason(&e)),
        ))
    })?;
    super::workflows::save(&state, &cu, &name, body).await.map_err(err)?;
    Ok(hx_redirect(&format!("/admin/workflow?name={name}")))
}

/// A serde_json error's kind in Chinese.
fn json_reason(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "格式不对",
        serde_json::error::Category::Data => "缺少字段或字段的值不对",
        serde_json::error::Category::Io => "读取失败",
    }
}

#[derive(Deserialize)]
pub struct DayForm {
    day: String,
    kind: String,
    #[serde(default)]
    name: String,
}

pub async fn calendar_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<DayForm>,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    admin_only(&cu).map_err(err)?;
    let day = NaiveDate::parse_from_str(f.day.trim(), "%Y-%m-%d")
        .map_err(|_| err(AppError::field("day", "日期格式须为 YYYY-MM-DD")))?;
    let kind = match f.kind.as_str() {
        "" => None,
        k => Some(DayKind::parse(k).ok_or_else(|| err(AppError::field("kind", "类型须为 holiday 或 workday")))?),
    };
    let ev = AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "calendar_day",
        day,
        "set",
        None,
        Some(&serde_json::json!({"kind": f.kind, "name": f.name})),
    );
    state.store.set_calendar_day(day, kind, f.name.trim(), &ev).await.map_err(|e| err(e.into()))?;
    state.reload_definitions().await.map_err(|e| err(e.into()))?;
    Ok(hx_redirect("/admin/workflow"))
}

pub struct AuditView {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub object: String,
    pub action: String,
    pub hash: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditTpl {
    shell: Shell,
    rows: Vec<AuditView>,
    total: i64,
    page: i64,
    window: Vec<i64>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    page: Option<i64>,
}

pub async fn audit_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    admin_only(&cu).map_err(err)?;
    let shell = Shell::new(&state, &cu, &headers, "audit", "nav.audit").await.map_err(err)?;
    let p = state.store.audit_page(None, PageReq::new(q.page, Some(50))).await.map_err(|e| err(e.into()))?;
    let window = page_window(p.page, p.pages());
    let rows = p
        .items
        .iter()
        .map(|r| AuditView {
            seq: r.seq,
            at: fmt_time(&from_ms(r.at_ms)),
            actor: r.actor.clone(),
            object: format!("{} #{}", r.object_type, r.object_id),
            action: r.action.clone(),
            hash: r.hash.chars().take(16).collect(),
        })
        .collect();
    render(AuditTpl { shell, rows, total: p.total, page: p.page, window }, &headers)
}

/// Walks the whole chain (as `zhufang audit verify` does) and answers a fragment.
pub async fn audit_verify(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    admin_only(&cu).map_err(err)?;
    let tr = crate::i18n::Tr::new(crate::i18n::Lang::from_headers(&headers));
    let html = match state.store.verify_audit().await.map_err(|e| err(e.into()))? {
        ChainStatus::Intact { records } => {
            format!("<span class=\"ok\" data-testid=\"chain-intact\">{} ({records})</span>", tr.t("audit.intact"))
        }
        ChainStatus::Broken(e) => {
            format!("<span class=\"tag danger\" data-testid=\"chain-broken\">{}: {}</span>", tr.t("audit.broken"), e)
        }
    };
    Ok(Html(html).into_response())
}
