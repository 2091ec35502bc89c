//! Warning notices (重大矛盾纠纷预警提示函): issued for an orange or red
//! dispute from the editable template, as JSON, a printable page and a DOCX;
//! each recipient body signs for it (with an optional reply) from its list.
//! Also the 四个一 plan of a key dispute and the template's admin API.

use crate::auth::{CurrentUser, PageUser};
use crate::controllers::{ApiJson, parse_time};
use crate::error::{ApiResult, AppError};
use crate::pages::{PageError, PageResult, Shell, fmt_opt, fmt_time, hx_redirect, page_window, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::Utc;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use zhufang_domain::Role;
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::notice::{DISPUTE_WARNING, NoticeTemplate};
use zhufang_store::disputes::{self, NoticeInput, PlanInput};
use zhufang_store::model::{ChecklistItem, DisputePlan, Notice, NoticeFilter, Page, PageReq};

#[derive(Deserialize, ToSchema)]
pub struct NoticeBody {
    /// Org codes of the recipient bodies (e.g. the 司法所, the town).
    pub recipients: Vec<String>,
    /// What they are asked to do (工作建议).
    pub actions: String,
    /// Reply by (RFC 3339, Beijing local `YYYY-MM-DDTHH:MM`, or a date = end of it); default 3 days.
    pub deadline: Option<String>,
}

/// Issues a warning notice for an orange or red dispute to its recipients,
/// who are told to sign for it; numbered 〔year〕第N号.
#[utoipa::path(post, path = "/api/v1/disputes/{id}/notices", request_body = NoticeBody, tag = "disputes",
    responses((status = 201, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn issue(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<NoticeBody>,
) -> ApiResult<(StatusCode, Json<Notice>)> {
    let deadline = match b.deadline.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(parse_time("deadline", s)?),
        None => None,
    };
    let input = NoticeInput { recipients: b.recipients, actions: b.actions, deadline };
    let n = disputes::issue_notice(state.store.as_ref(), &cu.user, id, input, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(n)))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct NoticeQuery {
    /// true: only those a recipient has yet to sign for.
    pub unsigned: Option<String>,
    /// Part of the notice's number, or of its dispute's number or title.
    pub q: Option<String>,
    pub page: Option<i64>,
    /// 1–500, default 20.
    pub per_page: Option<i64>,
}

impl NoticeQuery {
    fn filter(&self, mut f: NoticeFilter) -> NoticeFilter {
        f.unsigned = matches!(self.unsigned.as_deref(), Some("true" | "1" | "on"));
        f.q = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_string);
        f
    }
    /// The query string of the filter (for the pager).
    fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if let Some(q) = self.q.as_deref().filter(|q| !q.trim().is_empty()) {
            s.append_pair("q", q.trim());
        }
        if matches!(self.unsigned.as_deref(), Some("true" | "1" | "on")) {
            s.append_pair("unsigned", "1");
        }
        s.finish()
    }
}

/// Notices the caller may see, newest first: a body's own, or those of the
/// caller's stations' disputes; a page at a time.
#[utoipa::path(get, path = "/api/v1/notices", params(NoticeQuery), tag = "disputes", responses((status = 200, body = Object)))]
pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<NoticeQuery>,
) -> ApiResult<Json<Page<Notice>>> {
    let f = q.filter(disputes::notice_visibility(state.store.as_ref(), &cu.user).await?);
    Ok(Json(state.store.list_notices(&f, PageReq::new(q.page, q.per_page)).await?))
}

#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "disputes", responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(State(state): State<AppState>, cu: CurrentUser, Path(id): Path<i64>) -> ApiResult<Json<Notice>> {
    Ok(Json(disputes::load_notice(state.store.as_ref(), &cu.user, id).await?))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct SignBody {
    /// The body's reply (落实情况), optional.
    pub reply: Option<String>,
}

/// A recipient body signs for the notice (once).
#[utoipa::path(post, path = "/api/v1/notices/{id}/sign", request_body = SignBody, tag = "disputes",
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody)))]
pub async fn sign(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SignBody>,
) -> ApiResult<Json<Notice>> {
    Ok(Json(disputes::sign_notice(state.store.as_ref(), &cu.user, id, b.reply, Utc::now()).await?))
}

fn docx_of(n: &Notice) -> Result<Vec<u8>, AppError> {
    let date = zhufang_domain::calendar::local_date(n.issued_at).format("%Y年%-m月%-d日").to_string();
    crate::docx::notice_docx(&crate::docx::NoticeDoc {
        issuer: &n.issuer,
        number: &n.number,
        title: &n.title,
        paragraphs: &n.paragraphs,
        signature: &n.issuer,
        date: &date,
    })
    .map_err(|e| AppError::Internal(format!("docx: {e}")))
}

/// The notice as an editable Word/WPS document.
#[utoipa::path(get, path = "/api/v1/notices/{id}/document.docx", tag = "disputes",
    responses((status = 200, description = "docx", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document")))]
pub async fn document(State(state): State<AppState>, cu: CurrentUser, Path(id): Path<i64>) -> ApiResult<Response> {
    let n = disputes::load_notice(state.store.as_ref(), &cu.user, id).await?;
    let bytes = docx_of(&n)?;
    let ascii: String = n.number.chars().filter(char::is_ascii_alphanumeric).collect();
    Ok((
        [
            ("content-type", "application/vnd.openxmlformats-officedocument.wordprocessingml.document".to_string()),
            ("content-disposition", format!("attachment; filename=\"notice-{ascii}.docx\"")),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct PlanBody {
    pub plan: String,
    pub responsible: String,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub checklist: Vec<ChecklistItem>,
}

/// Saves a dispute's 四个一: its plan, responsible people and checklist.
#[utoipa::path(put, path = "/api/v1/disputes/{id}/plan", request_body = PlanBody, tag = "disputes",
    responses((status = 200, body = Object), (status = 422, body = crate::error::ErrorBody)))]
pub async fn save_plan(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PlanBody>,
) -> ApiResult<Json<DisputePlan>> {
    let input = PlanInput { plan: b.plan, responsible: b.responsible, checklist: b.checklist };
    Ok(Json(disputes::save_plan(state.store.as_ref(), &cu.user, id, input, Utc::now()).await?))
}

/// The notice template (issuer, number prefix, title, body with placeholders).
#[utoipa::path(get, path = "/api/v1/notice-template", tag = "disputes", responses((status = 200, body = Object)))]
pub async fn template(State(state): State<AppState>, _cu: CurrentUser) -> ApiResult<Json<NoticeTemplate>> {
    Ok(Json(
        state.store.notice_template(DISPUTE_WARNING).await?.unwrap_or_else(zhufang_domain::notice::default_template),
    ))
}

/// Replaces the notice template (admin); unknown placeholders are refused.
#[utoipa::path(put, path = "/api/v1/notice-template", request_body = Object, tag = "disputes",
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn save_template(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(t): ApiJson<NoticeTemplate>,
) -> ApiResult<Json<NoticeTemplate>> {
    if !cu.user.has(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    zhufang_domain::notice::check_template(&t).map_err(|m| AppError::field("template", &m))?;
    let before = state.store.notice_template(DISPUTE_WARNING).await?;
    let ev = AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "notice_template",
        DISPUTE_WARNING,
        "update",
        before.as_ref().and_then(|b| serde_json::to_value(b).ok()).as_ref(),
        serde_json::to_value(&t).ok().as_ref(),
    );
    state.store.save_notice_template(DISPUTE_WARNING, &t, Utc::now(), &ev).await?;
    Ok(Json(t))
}

pub struct NoticeRow {
    pub id: i64,
    pub number: String,
    pub dispute_id: i64,
    pub dispute: String,
    pub issued: String,
    pub deadline: String,
    pub late: bool,
    pub recipients: String,
    pub unsigned: usize,
    /// This user's body has yet to sign.
    pub mine_to_sign: bool,
}

#[derive(Template)]
#[template(path = "notices/list.html")]
struct ListTpl {
    shell: Shell,
    rows: Vec<NoticeRow>,
    q: String,
    unsigned: bool,
    qs: String,
    total: i64,
    page: i64,
    pages: i64,
    window: Vec<i64>,
}

/// The notices page: a body's inbox of notices to sign for; the station's
/// issued ones; searched and paged.
pub async fn list_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "notices", "nav.notices").await.map_err(err)?;
    let f = q.filter(disputes::notice_visibility(state.store.as_ref(), &cu.user).await.map_err(|e| err(e.into()))?);
    let now = Utc::now();
    let page = state.store.list_notices(&f, PageReq::new(q.page, Some(20))).await.map_err(|e| err(e.into()))?;
    let pages = page.pages();
    let rows = page
        .items
        .iter()
        .map(|n| {
            let unsigned = n.recipients.iter().filter(|r| r.signed_at.is_none()).count();
            NoticeRow {
                id: n.id,
                number: n.number.clone(),
                dispute_id: n.dispute_id,
                dispute: format!("{} {}", n.dispute_number, n.dispute_title),
                issued: fmt_time(&n.issued_at),
                deadline: fmt_time(&n.deadline_at),
                late: unsigned > 0 && n.deadline_at < now,
                recipients: n.recipients.iter().map(|r| r.org_name.clone()).collect::<Vec<_>>().join("、"),
                unsigned,
                mine_to_sign: n.recipients.iter().any(|r| r.org_id == cu.user.org_unit_id && r.signed_at.is_none()),
            }
        })
        .collect();
    render(
        ListTpl {
            shell,
            rows,
            q: f.q.clone().unwrap_or_default(),
            unsigned: f.unsigned,
            qs: q.query_string(),
            total: page.total,
            page: page.page,
            pages,
            window: page_window(page.page, pages),
        },
        &headers,
    )
}

pub struct RecipientView {
    pub name: String,
    pub signed: String,
    pub reply: String,
}

#[derive(Template)]
#[template(path = "notices/show.html")]
struct ShowTpl {
    shell: Shell,
    n: Notice,
    date: String,
    recipients: Vec<RecipientView>,
    may_sign: bool,
}

/// The notice as a printable page (the same layout as the DOCX), with sign-for.
pub async fn show_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let n = disputes::load_notice(state.store.as_ref(), &cu.user, id).await.map_err(|e| err(e.into()))?;
    let mut shell = Shell::new(&state, &cu, &headers, "notices", "nav.notices").await.map_err(err)?;
    shell.title = format!("{} {}", n.title, n.number);
    let recipients = n
        .recipients
        .iter()
        .map(|r| RecipientView {
            name: r.org_name.clone(),
            signed: match (&r.signed_by_name, &r.signed_at) {
                (Some(who), Some(at)) => format!("{who} {}", fmt_time(at)),
                _ => shell.tr.t("dispute.unsigned").to_string(),
            },
            reply: r.reply.clone().unwrap_or_default(),
        })
        .collect();
    render(
        ShowTpl {
            may_sign: n.recipients.iter().any(|r| r.org_id == cu.user.org_unit_id && r.signed_at.is_none()),
            date: zhufang_domain::calendar::local_date(n.issued_at).format("%Y年%-m月%-d日").to_string(),
            recipients,
            n,
            shell,
        },
        &headers,
    )
}

#[derive(Deserialize)]
pub struct SignForm {
    #[serde(default)]
    reply: String,
}

pub async fn sign_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<SignForm>,
) -> PageResult {
    disputes::sign_notice(state.store.as_ref(), &cu.user, id, Some(f.reply), Utc::now())
        .await
        .map_err(|e| PageError::new(&headers, AppError::from(e)))?;
    Ok(hx_redirect(&format!("/notices/{id}")))
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    recipients: Vec<String>,
    #[serde(default)]
    actions: String,
    #[serde(default)]
    deadline: String,
}

/// Issues a notice from the dispute's page (recipients as repeated fields).
pub async fn issue_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    // repeated `recipients` fields: parse by hand (serde_urlencoded has no sequences)
    let mut f = IssueForm { recipients: vec![], actions: String::new(), deadline: String::new() };
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "recipients" => f.recipients.push(v.into_owned()),
            "actions" => f.actions = v.into_owned(),
            "deadline" => f.deadline = v.into_owned(),
            _ => {}
        }
    }
    let deadline = match f.deadline.trim() {
        "" => None,
        s => Some(parse_time("deadline", s).map_err(err)?),
    };
    let n = disputes::issue_notice(
        state.store.as_ref(),
        &cu.user,
        id,
        NoticeInput { recipients: f.recipients, actions: f.actions, deadline },
        Utc::now(),
    )
    .await
    .map_err(|e| err(e.into()))?;
    Ok(hx_redirect(&format!("/notices/{}", n.id)))
}

/// The plan form from the dispute's page: the checklist one item a line,
/// a leading "[x]" marking it done.
#[derive(Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    plan: String,
    #[serde(default)]
    responsible: String,
    #[serde(default)]
    checklist: String,
}

pub async fn plan_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<PlanForm>,
) -> PageResult {
    let checklist = f
        .checklist
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.strip_prefix("[x]").or_else(|| l.strip_prefix("[X]")) {
            Some(rest) => ChecklistItem { item: rest.trim().to_string(), done: true },
            None => ChecklistItem { item: l.trim_start_matches("[ ]").trim().to_string(), done: false },
        })
        .collect();
    disputes::save_plan(
        state.store.as_ref(),
        &cu.user,
        id,
        PlanInput { plan: f.plan, responsible: f.responsible, checklist },
        Utc::now(),
    )
    .await
    .map_err(|e| PageError::new(&headers, AppError::from(e)))?;
    Ok(hx_redirect(&format!("/disputes/{id}")))
}

/// The notices of one dispute, for its page.
pub(crate) async fn of_dispute(
    state: &AppState,
    dispute_id: i64,
) -> Result<Vec<(i64, String, String, String)>, AppError> {
    let f = NoticeFilter { dispute_id: Some(dispute_id), ..Default::default() };
    Ok(state
        .store
        .list_notices(&f, PageReq { page: 1, per_page: 500 })
        .await?
        .items
        .into_iter()
        .map(|n| {
            let signed = n.recipients.iter().filter(|r| r.signed_at.is_some()).count();
            (n.id, n.number, fmt_opt(&Some(n.issued_at)), format!("{signed}/{}", n.recipients.len()))
        })
        .collect())
}
