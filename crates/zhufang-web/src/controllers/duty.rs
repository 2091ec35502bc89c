//! Duty templates (八个一 and others) and the scheduler's generate call.

use crate::auth::CurrentUser;
use crate::controllers::ApiJson;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use zhufang_store::duty::{self, GenerateReport, TemplateInput};
use zhufang_store::model::DutyTemplate;

/// Duty templates of the caller's units.
#[utoipa::path(get, path = "/api/v1/duty-templates", tag = "duty", responses((status = 200, body = Vec<Object>)))]
pub async fn list(State(state): State<AppState>, cu: CurrentUser) -> ApiResult<Json<Vec<DutyTemplate>>> {
    let scope = zhufang_store::service::grid_scope(state.store.as_ref(), &cu.user).await?;
    Ok(Json(state.store.duty_templates(Some(&scope)).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct TemplateBody {
    pub name: String,
    pub catalogue_code: String,
    /// A role (everyone with it in each station of the scope)…
    pub role: Option<String>,
    /// …or one person (username).
    pub assignee: Option<String>,
    /// Org code of the scope.
    pub org: String,
    /// An RRULE without DTSTART, e.g. `FREQ=WEEKLY;BYDAY=MO`.
    pub rrule: String,
    /// `YYYY-MM-DD`; default the first of this month.
    pub start_day: Option<String>,
    /// `HH:MM`; default 09:00.
    pub at_time: Option<String>,
    /// keep, skip, next (default) or previous: what a holiday occurrence does.
    pub holiday: Option<String>,
    pub active: Option<bool>,
    pub version: Option<i64>,
}

/// A local day given as `YYYY-MM-DD`, or none when blank.
fn day(field: &str, s: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::field(field, "日期须为 YYYY-MM-DD")),
        None => Ok(None),
    }
}

fn input(b: TemplateBody) -> Result<TemplateInput, AppError> {
    let start_day = day("start_day", &b.start_day)?;
    Ok(TemplateInput {
        name: b.name,
        catalogue_code: b.catalogue_code,
        role: b.role,
        assignee: b.assignee,
        org: b.org,
        rrule: b.rrule,
        start_day,
        at_time: b.at_time,
        holiday: b.holiday,
        active: b.active,
        version: b.version,
    })
}

/// Creates a duty template (admins, leaders and the command room, in their units).
#[utoipa::path(post, path = "/api/v1/duty-templates", request_body = TemplateBody, tag = "duty",
    responses((status = 201, body = Object), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<TemplateBody>,
) -> ApiResult<(StatusCode, Json<DutyTemplate>)> {
    let t = duty::save_template(state.store.as_ref(), &cu.user, None, input(b)?, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Changes a duty template (409 `conflict` on a stale version).
#[utoipa::path(put, path = "/api/v1/duty-templates/{id}", request_body = TemplateBody, tag = "duty",
    responses((status = 200, body = Object), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<TemplateBody>,
) -> ApiResult<Json<DutyTemplate>> {
    Ok(Json(duty::save_template(state.store.as_ref(), &cu.user, Some(id), input(b)?, Utc::now()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct GenerateBody {
    /// `YYYY-MM-DD` (local); default today.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (local, inclusive); default 14 days after `from`.
    pub to: Option<String>,
}

/// Turns the caller's units' templates into tasks for a window; idempotent
/// (the same window again creates nothing). Returns the created task ids.
#[utoipa::path(post, path = "/api/v1/duty-templates/generate", request_body = GenerateBody, tag = "duty",
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn generate(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<GenerateBody>,
) -> ApiResult<Json<GenerateReport>> {
    if !duty::may_edit(&cu.user) {
        return Err(AppError::Forbidden);
    }
    let now = Utc::now();
    let from = day("from", &b.from)?.unwrap_or_else(|| zhufang_domain::calendar::local_date(now));
    let to = day("to", &b.to)?.unwrap_or(from + chrono::Duration::days(duty::DEFAULT_WINDOW_DAYS));
    let scope = zhufang_store::service::grid_scope(state.store.as_ref(), &cu.user).await?;
    let report =
        duty::generate(state.store.as_ref(), &state.workflow(), &state.calendar(), Some(&scope), from, to, now).await?;
    Ok(Json(report))
}

#[derive(serde::Serialize, ToSchema)]
pub struct CalendarToken {
    /// Shown once: keep it; a new one revokes this.
    pub token: String,
    /// The subscription URL (path), e.g. for a phone's calendar app.
    pub url: String,
}

fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Makes (or replaces) the caller's calendar subscription token.
#[utoipa::path(post, path = "/api/v1/me/calendar-token", tag = "duty", responses((status = 201, body = CalendarToken)))]
pub async fn new_token(State(state): State<AppState>, cu: CurrentUser) -> ApiResult<(StatusCode, Json<CalendarToken>)> {
    use rand::RngCore;
    let mut raw = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let ev = zhufang_domain::audit::AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "calendar_token",
        cu.user.id,
        "issue",
        None,
        None,
    );
    state.store.set_calendar_token(cu.user.id, &token_hash(&token), Utc::now(), &ev).await?;
    let url = format!("/api/v1/calendar.ics?token={token}");
    Ok((StatusCode::CREATED, Json(CalendarToken { token, url })))
}

/// Revokes the caller's calendar subscription token.
#[utoipa::path(delete, path = "/api/v1/me/calendar-token", tag = "duty", responses((status = 204)))]
pub async fn revoke_token(State(state): State<AppState>, cu: CurrentUser) -> ApiResult<StatusCode> {
    let ev = zhufang_domain::audit::AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "calendar_token",
        cu.user.id,
        "revoke",
        None,
        None,
    );
    state.store.revoke_calendar_token(cu.user.id, Utc::now(), &ev).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct IcsQuery {
    pub token: String,
}

/// The person's tasks as a calendar subscription (duties at their time of
/// day, other tasks on their due day), from 30 days back to 60 ahead. The
/// token is the only credential; a revoked or replaced one answers 404.
#[utoipa::path(get, path = "/api/v1/calendar.ics", params(IcsQuery), tag = "duty",
    responses((status = 200, description = "text/calendar"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn ics(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<IcsQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    use zhufang_domain::ics::{Event, When, calendar};
    let token = q.token.trim();
    if token.len() != 48 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let user = state.store.user_by_calendar_token(&token_hash(token)).await?.ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let entries = state
        .store
        .calendar_entries(
            &zhufang_store::model::CalendarScope::Person(user.id),
            now - chrono::Duration::days(30),
            now + chrono::Duration::days(60),
        )
        .await?;
    let events: Vec<Event> = entries
        .into_iter()
        .filter_map(|e| {
            let when = match (
                e.duty_day,
                e.at_time.as_deref().and_then(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M").ok()),
            ) {
                (Some(d), Some(t)) => {
                    When::At(zhufang_domain::calendar::local_instant(d, t), chrono::Duration::hours(1))
                }
                _ => When::Day(zhufang_domain::calendar::local_date(e.due_at?)),
            };
            Some(Event {
                uid: format!("task-{}@zhufang", e.task_id),
                when,
                summary: e.title,
                description: format!("任务编号 {}", e.number),
                url: Some(format!("/tasks/{}", e.task_id)),
            })
        })
        .collect();
    let body = calendar(&format!("{}的勤务", user.display_name), &events, now);
    Ok(([("content-type", "text/calendar; charset=utf-8"), ("cache-control", "private, max-age=300")], body)
        .into_response())
}

// ---------------------------------------------------------------- pages

use crate::auth::PageUser;
use crate::pages::{PageError, PageResult, Shell, render};
use askama::Template;
use axum::extract::Query;
use axum::http::HeaderMap;
use chrono::{Datelike, Duration};

#[derive(Deserialize, Default)]
pub struct CalendarForm {
    /// month or week.
    pub view: Option<String>,
    /// Any day of the period, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// me, or unit (the caller's unit).
    pub who: Option<String>,
}

pub struct DayCell {
    pub date: String,
    pub label: String,
    pub today: bool,
    pub off: bool,
    pub in_period: bool,
    pub entries: Vec<EntryView>,
}

pub struct EntryView {
    pub task_id: i64,
    pub time: String,
    pub title: String,
    pub state: String,
    pub who: String,
}

#[derive(Template)]
#[template(path = "duty/calendar.html")]
struct CalendarTpl {
    shell: Shell,
    view: &'static str,
    who: &'static str,
    heading: String,
    prev: String,
    next: String,
    today: String,
    weeks: Vec<Vec<DayCell>>,
    count: usize,
}

/// The duty calendar: a month or a week, the caller's own tasks or their unit's.
pub async fn calendar_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(f): Query<CalendarForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "duty", "nav.duty").await.map_err(err)?;
    let tr = shell.tr;
    let now = Utc::now();
    let today = zhufang_domain::calendar::local_date(now);
    let date = day("date", &f.date).map_err(err)?.unwrap_or(today);
    let view = if f.view.as_deref() == Some("week") { "week" } else { "month" };
    let who = if f.who.as_deref() == Some("unit") { "unit" } else { "me" };
    let monday = |d: NaiveDate| d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
    let (first, last, period) = if view == "week" {
        let m = monday(date);
        (m, m + Duration::days(6), (m, m + Duration::days(6)))
    } else {
        let start = date.with_day(1).unwrap_or(date);
        let next_month = if start.month() == 12 {
            NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
        }
        .unwrap_or(start);
        let end = next_month - Duration::days(1);
        (monday(start), monday(end) + Duration::days(6), (start, end))
    };
    let at = |d: NaiveDate| zhufang_domain::calendar::local_instant(d, chrono::NaiveTime::MIN);
    let (from, to) = (at(first), at(last + Duration::days(1)));
    let scope = if who == "unit" {
        zhufang_store::model::CalendarScope::Unit(
            zhufang_store::service::grid_scope(state.store.as_ref(), &cu.user).await.map_err(|e| err(e.into()))?,
        )
    } else {
        zhufang_store::model::CalendarScope::Person(cu.user.id)
    };
    let entries = state.store.calendar_entries(&scope, from, to).await.map_err(|e| err(e.into()))?;
    let count = entries.len();
    let task_wf = state.workflow();
    let cal = state.calendar();
    let mut by_day: std::collections::BTreeMap<NaiveDate, Vec<EntryView>> = Default::default();
    for e in entries {
        let Some(day) = e.duty_day.or(e.due_at.map(zhufang_domain::calendar::local_date)) else { continue };
        by_day.entry(day).or_default().push(EntryView {
            task_id: e.task_id,
            time: e.at_time.clone().unwrap_or_default(),
            title: e.title,
            state: task_wf.state(&e.state).map(|s| tr.pick(&s.label_zh, &s.label_en).to_string()).unwrap_or(e.state),
            who: if who == "unit" { e.assignee_name.unwrap_or_default() } else { String::new() },
        });
    }
    let mut weeks = vec![];
    let mut d = first;
    while d <= last {
        let mut week = vec![];
        for _ in 0..7 {
            week.push(DayCell {
                date: d.format("%Y-%m-%d").to_string(),
                label: if d.day() == 1 || d == first {
                    d.format(tr.pick("%-m月%-d日", "%b %-d")).to_string()
                } else {
                    d.format("%-d").to_string()
                },
                today: d == today,
                off: !cal.is_workday(d),
                in_period: d >= period.0 && d <= period.1,
                entries: by_day.remove(&d).unwrap_or_default(),
            });
            d += Duration::days(1);
        }
        weeks.push(week);
    }
    let (prev, next) = if view == "week" {
        (date - Duration::days(7), date + Duration::days(7))
    } else {
        (period.0 - Duration::days(1), period.1 + Duration::days(1))
    };
    let heading = if view == "week" {
        format!(
            "{} – {}",
            first.format(tr.pick("%Y年%-m月%-d日", "%b %-d, %Y")),
            last.format(tr.pick("%-m月%-d日", "%b %-d"))
        )
    } else {
        period.0.format(tr.pick("%Y年%-m月", "%B %Y")).to_string()
    };
    render(
        CalendarTpl {
            shell,
            view,
            who,
            heading,
            prev: prev.format("%Y-%m-%d").to_string(),
            next: next.format("%Y-%m-%d").to_string(),
            today: today.format("%Y-%m-%d").to_string(),
            weeks,
            count,
        },
        &headers,
    )
}

#[derive(Template)]
#[template(
    source = "<div class=\"alert\" data-testid=\"ics-url\">{{ label }}<br><code>{{ url }}</code></div>",
    ext = "html"
)]
struct TokenFragment {
    label: String,
    url: String,
}

/// Makes a new subscription URL from the calendar page (replacing any old one).
pub async fn token_form(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let (_, Json(t)) = new_token(State(state), cu.clone()).await.map_err(err)?;
    let tr = crate::i18n::Tr::new(crate::i18n::Lang::from_headers(&headers));
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("");
    render(TokenFragment { label: tr.t("duty.ics_hint").to_string(), url: format!("http://{host}{}", t.url) }, &headers)
}

pub struct TemplateRow {
    pub t: DutyTemplate,
    pub who: String,
    pub holiday_label: String,
}

#[derive(Template)]
#[template(path = "duty/templates.html")]
struct TemplatesTpl {
    shell: Shell,
    rows: Vec<TemplateRow>,
    items: Vec<(String, String)>,
    roles: Vec<(String, String)>,
    policies: Vec<(String, String)>,
    may_edit: bool,
    /// Completion of the last 30 days, by template.
    completion: Vec<duty::CompletionGroup>,
}

impl TemplatesTpl {
    fn pct(&self, v: &Option<f64>) -> String {
        crate::pages::percent(*v)
    }
}

/// The duty templates of the caller's units, with the editor and the generate button.
pub async fn templates_page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "duty_templates", "nav.duty_templates").await.map_err(err)?;
    let tr = shell.tr;
    let scope = zhufang_store::service::grid_scope(state.store.as_ref(), &cu.user).await.map_err(|e| err(e.into()))?;
    let rows = state
        .store
        .duty_templates(Some(&scope))
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .map(|t| TemplateRow {
            who: match (&t.assignee_name, t.role.as_deref().and_then(|r| r.parse::<zhufang_domain::Role>().ok())) {
                (Some(n), _) => n.clone(),
                (None, Some(r)) => tr.pick(r.label_zh(), r.label_en()).to_string(),
                _ => String::new(),
            },
            holiday_label: zhufang_domain::duty::HolidayPolicy::parse(&t.holiday)
                .map(|p| tr.pick(p.label_zh(), p.label_en()).to_string())
                .unwrap_or_default(),
            t,
        })
        .collect();
    let items = state
        .store
        .catalogue(false)
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .map(|c| (c.code.clone(), format!("{} {}", c.code, c.name)))
        .collect();
    use zhufang_domain::Role;
    let roles = [Role::CommunityOfficer, Role::Auxiliary, Role::StationLeader, Role::CommandRoom]
        .iter()
        .map(|r| (r.as_str().to_string(), tr.pick(r.label_zh(), r.label_en()).to_string()))
        .collect();
    let policies = zhufang_domain::duty::HolidayPolicy::ALL
        .iter()
        .map(|p| (p.as_str().to_string(), tr.pick(p.label_zh(), p.label_en()).to_string()))
        .collect();
    let now = Utc::now();
    let today = zhufang_domain::calendar::local_date(now);
    let (_, completion) =
        duty::completion(state.store.as_ref(), &scope, "template", today - chrono::Duration::days(30), today, now)
            .await
            .map_err(|e| err(e.into()))?;
    render(
        TemplatesTpl { may_edit: duty::may_edit(&cu.user), shell, rows, items, roles, policies, completion },
        &headers,
    )
}

#[derive(Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    version: String,
    name: String,
    catalogue_code: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    assignee: String,
    org: String,
    rrule: String,
    #[serde(default)]
    start_day: String,
    #[serde(default)]
    at_time: String,
    #[serde(default)]
    holiday: String,
    active: Option<String>,
}

pub async fn template_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    axum::Form(f): axum::Form<TemplateForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let body = TemplateBody {
        name: f.name,
        catalogue_code: f.catalogue_code,
        role: opt(&f.role),
        assignee: opt(&f.assignee),
        org: f.org,
        rrule: f.rrule,
        start_day: opt(&f.start_day),
        at_time: opt(&f.at_time),
        holiday: opt(&f.holiday),
        active: Some(f.active.is_some()),
        version: f.version.trim().parse().ok(),
    };
    let id = f.id.trim().parse::<i64>().ok();
    duty::save_template(state.store.as_ref(), &cu.user, id, input(body).map_err(err)?, Utc::now())
        .await
        .map_err(|e| err(e.into()))?;
    Ok(crate::pages::hx_redirect("/duty/templates"))
}

#[derive(Template)]
#[template(source = "<div class=\"alert\" data-testid=\"generate-result\">{{ message }}</div>", ext = "html")]
struct GenerateFragment {
    message: String,
}

/// Fills the next 14 days now (the scheduler does it daily on its own).
pub async fn generate_form(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let Json(r) = generate(State(state), cu, ApiJson(GenerateBody { from: None, to: None })).await.map_err(err)?;
    let tr = crate::i18n::Tr::new(crate::i18n::Lang::from_headers(&headers));
    let message = format!("{} {}，{} {}", tr.t("duty.created"), r.created.len(), tr.t("duty.existing"), r.existing);
    render(GenerateFragment { message }, &headers)
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
pub struct CompletionQuery {
    /// station (default), person or template.
    pub by: Option<String>,
    /// `YYYY-MM-DD`; default 30 days ago.
    pub from: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub to: Option<String>,
}

#[derive(serde::Serialize, ToSchema)]
pub struct CompletionOut {
    #[schema(value_type = Object)]
    pub total: zhufang_domain::duty::Completion,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<duty::CompletionGroup>,
}

/// Completion of scheduled duties: on time, late, missed, pending, and the on-time rate.
#[utoipa::path(get, path = "/api/v1/duty-templates/completion", params(CompletionQuery), tag = "duty", responses((status = 200, body = CompletionOut)))]
pub async fn completion(
    State(state): State<AppState>,
    cu: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<CompletionQuery>,
) -> ApiResult<Json<CompletionOut>> {
    let now = Utc::now();
    let today = zhufang_domain::calendar::local_date(now);
    let from = day("from", &q.from)?.unwrap_or(today - chrono::Duration::days(30));
    let to = day("to", &q.to)?.unwrap_or(today);
    let scope = zhufang_store::service::grid_scope(state.store.as_ref(), &cu.user).await?;
    let by = q.by.as_deref().unwrap_or("station");
    let (total, rows) = duty::completion(state.store.as_ref(), &scope, by, from, to, now).await?;
    Ok(Json(CompletionOut { total, rows }))
}
