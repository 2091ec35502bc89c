//! Hazard pages: the register (by risk, search form, paged, xlsx), the
//! register form (also from a patrol's problem), the detail page with the
//! score and its factors, photos before and after, the actions open and the
//! timeline; the figures; campaigns; types and factors (admin).

use super::{CampaignBody, CreateHazardBody, ListQuery};
use crate::auth::PageUser;
use crate::controllers::incidents::LocationBody;
use crate::controllers::incidents::pages::state_label;
use crate::controllers::tasks::list::Opt;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{PageError, PageResult, Shell, fmt_opt, fmt_time, hx_redirect, page_window, percent, render};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use chrono::Utc;
use serde::Deserialize;
use zhufang_domain::hazard::{Dimension, Risk};
use zhufang_domain::workflow::{ActorCtx, Subject, Workflow};
use zhufang_store::hazards;
use zhufang_store::model::{Hazard, HazardType, PageReq};

/// One row of the register.
pub struct Row {
    pub id: i64,
    pub number: String,
    pub type_name: String,
    pub description: String,
    pub score: i64,
    pub level: String,
    pub level_label: String,
    pub place: String,
    pub responsible: String,
    pub deadline: String,
    pub overdue: bool,
    pub state: String,
    pub state_label: String,
    pub found: String,
}

fn row(wf: &Workflow, tr: Tr, h: &Hazard) -> Row {
    let (level, label) = Risk::level(h.risk_score);
    Row {
        id: h.id,
        number: h.number.clone(),
        type_name: h.type_name.clone(),
        description: h.description.chars().take(40).collect(),
        score: h.risk_score,
        level: level.into(),
        level_label: label.into(),
        place: match &h.grid_name {
            Some(g) => format!("{} · {}", h.station_name, g),
            None => h.station_name.clone(),
        },
        responsible: h.responsible_org_name.clone().unwrap_or_default(),
        deadline: h.deadline_at.map(|d| fmt_time(&d)).unwrap_or_default(),
        overdue: zhufang_domain::hazard::is_unrectified(&h.state) && h.deadline_at.is_some_and(|d| Utc::now() > d),
        state: h.state.clone(),
        state_label: state_label(wf, tr, &h.state),
        found: fmt_time(&h.created_at),
    }
}

fn type_opts(types: &[HazardType], active_only: bool) -> Vec<Opt> {
    types
        .iter()
        .filter(|t| t.active || !active_only)
        .map(|t| Opt { value: t.code.clone(), label: format!("{} {}", t.code, t.name) })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct ListForm {
    pub q: Option<String>,
    pub state: Option<String>,
    #[serde(rename = "type")]
    pub type_code: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub overdue: Option<String>,
    pub page: Option<i64>,
}

impl ListForm {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn query_string(&self) -> String {
        crate::pages::filter_query(&[
            ("q", &self.q),
            ("state", &self.state),
            ("type", &self.type_code),
            ("from", &self.from),
            ("to", &self.to),
            ("overdue", &self.overdue),
        ])
    }
}

#[derive(Template)]
#[template(path = "hazards/list.html")]
struct ListTpl {
    shell: Shell,
    f: ListForm,
    rows: Vec<Row>,
    states: Vec<Opt>,
    types: Vec<Opt>,
    qs: String,
    total: i64,
    page: i64,
    pages: i64,
    window: Vec<i64>,
    may_register: bool,
}

impl ListTpl {
    fn sel(&self, v: &Option<String>, x: &str) -> bool {
        v.as_deref() == Some(x)
    }
}

pub async fn list_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(f): Query<ListForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "hazards", "nav.hazards").await.map_err(err)?;
    let tr = shell.tr;
    let wf = state.store.workflow(zhufang_domain::hazard::WORKFLOW).await.map_err(|e| err(e.into()))?;
    let q = ListQuery {
        state: f.state.clone(),
        type_code: f.type_code.clone(),
        from: f.from.clone(),
        to: f.to.clone(),
        q: f.q.clone(),
        overdue: f.overdue.clone(),
        ..Default::default()
    };
    let filter = q.to_filter(&state, &cu).await.map_err(err)?;
    let page = state.store.list_hazards(&filter, PageReq::new(f.page, Some(20))).await.map_err(|e| err(e.into()))?;
    let types = state.store.hazard_types().await.map_err(|e| err(e.into()))?;
    let pages = page.pages();
    render(
        ListTpl {
            rows: page.items.iter().map(|h| row(&wf, tr, h)).collect(),
            states: wf
                .states
                .iter()
                .map(|s| Opt { value: s.state.clone(), label: tr.pick(&s.label_zh, &s.label_en).into() })
                .collect(),
            types: type_opts(&types, false),
            may_register: hazards::may_register(&cu.user.roles),
            qs: f.query_string(),
            total: page.total,
            page: page.page,
            pages,
            window: page_window(page.page, pages),
            f,
            shell,
        },
        &headers,
    )
}

#[derive(Template)]
#[template(path = "hazards/new.html")]
struct NewTpl {
    shell: Shell,
    types: Vec<Opt>,
    task_id: String,
    task_label: String,
    /// The problem of that task it records (linked when registered).
    problem: String,
    description: String,
    type_code: String,
}

#[derive(Deserialize)]
pub struct NewQuery {
    /// The patrol or visit it was found on.
    pub task: Option<i64>,
    /// Which of that task's problems.
    pub problem: Option<i64>,
    #[serde(rename = "type")]
    pub type_code: Option<String>,
}

/// The register form; `?task=ID&problem=N` starts from a problem a patrol or visit found.
pub async fn new_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    if !hazards::may_register(&cu.user.roles) {
        return Err(err(AppError::Forbidden));
    }
    let shell = Shell::new(&state, &cu, &headers, "hazard_new", "hazard.new").await.map_err(err)?;
    let task = match q.task {
        Some(id) => match state.store.task(id).await.map_err(|e| err(e.into()))? {
            Some(t) if zhufang_store::service::can_see(&cu.user, &t) => Some(t),
            _ => return Err(err(AppError::NotFound)),
        },
        None => None,
    };
    let mut description = String::new();
    if let (Some(t), Some(idx)) = (&task, q.problem) {
        let problems = state.store.task_problems(t.id).await.map_err(|e| err(e.into()))?;
        description = problems.into_iter().find(|p| p.idx == idx).map(|p| p.text).unwrap_or_default();
    }
    let types = state.store.hazard_types().await.map_err(|e| err(e.into()))?;
    render(
        NewTpl {
            types: type_opts(&types, true),
            task_id: task.as_ref().map(|t| t.id.to_string()).unwrap_or_default(),
            task_label: task.as_ref().map(|t| format!("{} {}", t.number, t.title)).unwrap_or_default(),
            problem: if description.is_empty() {
                String::new()
            } else {
                q.problem.map(|p| p.to_string()).unwrap_or_default()
            },
            description,
            type_code: q.type_code.unwrap_or_default(),
            shell,
        },
        &headers,
    )
}

/// The register form as posted (multipart, with `photo` files as found).
pub async fn create_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    mp: Multipart,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let form = super::read_form(&state, mp).await.map_err(err)?;
    let files = form.files();
    let result = async {
        let mut errs = vec![];
        let num = |field: &str, errs: &mut Vec<_>| crate::controllers::opt_f64(field, &form.get(field), errs);
        let lat = num("lat", &mut errs);
        let lon = num("lon", &mut errs);
        let int = |field: &str, errs: &mut Vec<zhufang_store::service::FieldError>| match form.get(field) {
            None => None,
            Some(s) => {
                s.parse::<i64>().map_err(|_| errs.push(zhufang_store::service::FieldError::new(field, "须为整数"))).ok()
            }
        };
        let people_affected = int("people_affected", &mut errs);
        let likelihood = int("likelihood", &mut errs);
        let source_task_id = int("source_task_id", &mut errs);
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let body = CreateHazardBody {
            type_code: form.get("type_code").unwrap_or_default(),
            description: form.get("description").unwrap_or_default(),
            location: lat.zip(lon).map(|(lat, lon)| LocationBody { lat, lon }),
            address: form.get("address"),
            near_school: form.get("near_school").is_some(),
            people_affected,
            likelihood,
            source_task_id,
        };
        if lat.is_some() != lon.is_some() {
            return Err(AppError::field("lat", "经纬度须同时填写"));
        }
        let input = super::create_input(body, form.files())?;
        let h = hazards::create(state.store.as_ref(), &state.router(), &cu.user, input, Utc::now()).await?;
        // a problem of a patrol becomes this hazard
        if let (Some(t), Some(idx)) = (source_task_id, form.get("problem").and_then(|p| p.parse::<i64>().ok()))
            && state.store.claim_task_problem(t, idx, "hazard").await?
        {
            state.store.finish_task_problem(t, idx, Some(h.id)).await?;
        }
        Ok(h)
    }
    .await;
    match result {
        Ok(h) => Ok(hx_redirect(&format!("/hazards/{}", h.id))),
        Err(e) => {
            crate::upload::discard(&state, &files).await;
            Err(err(e))
        }
    }
}

pub struct ActionView {
    pub action: String,
    pub label: String,
    pub needs: Vec<String>,
    pub danger: bool,
}

impl ActionView {
    pub fn needs(&self, f: &str) -> bool {
        self.needs.iter().any(|n| n == f)
    }
}

pub struct EventView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub to_label: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "hazards/show.html")]
struct ShowTpl {
    shell: Shell,
    h: Hazard,
    state_label: String,
    level: String,
    level_label: String,
    risk: Option<Risk>,
    factors: Vec<(String, String, i64)>,
    before: Vec<i64>,
    after: Vec<i64>,
    actions: Vec<ActionView>,
    events: Vec<EventView>,
    bodies: Vec<Opt>,
    deadline: String,
    overdue: bool,
    steps: Vec<(String, String)>,
}

impl ShowTpl {
    fn when(&self, t: &Option<chrono::DateTime<Utc>>) -> String {
        fmt_opt(t)
    }
    fn time(&self, t: &chrono::DateTime<Utc>) -> String {
        fmt_time(t)
    }
}

pub async fn show_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let h = hazards::load(state.store.as_ref(), &cu.user, id).await.map_err(|e| err(e.into()))?;
    let shell = Shell::new(&state, &cu, &headers, "hazards", "nav.hazards").await.map_err(err)?;
    let tr = shell.tr;
    let wf = state.store.workflow(zhufang_domain::hazard::WORKFLOW).await.map_err(|e| err(e.into()))?;
    let subject = Subject { state: &h.state, assignee: None, dispatcher: None, creator: h.found_by_id };
    let actor = ActorCtx { user_id: cu.user.id, roles: &cu.user.roles };
    let actions = wf
        .available(&subject, &actor)
        .into_iter()
        .map(|r| ActionView {
            action: r.action.clone(),
            label: tr.pick(&r.label_zh, &r.label_en).into(),
            needs: r.required.clone(),
            danger: matches!(r.action.as_str(), "recheck_fail" | "return"),
        })
        .collect();
    let files = state.store.hazard_files(h.id).await.map_err(|e| err(e.into()))?;
    let events = state
        .store
        .hazard_timeline(h.id)
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .map(|e| EventView {
            at: fmt_time(&e.at),
            actor: e.actor_name,
            action: wf
                .rules
                .iter()
                .find(|r| r.action == e.action)
                .map(|r| tr.pick(&r.label_zh, &r.label_en).to_string())
                .unwrap_or_else(|| tr.t("hazard.registered").to_string()),
            to_label: state_label(&wf, tr, &e.to_state),
            note: e.note.unwrap_or_default(),
        })
        .collect();
    // responsible bodies: the stations of the caller's jurisdiction (and the hazard's), and the partner agencies
    let scope = zhufang_store::service::grid_scope(state.store.as_ref(), &cu.user).await.map_err(|e| err(e.into()))?;
    let bodies = state
        .store
        .org_units()
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .filter(|o| o.kind == "agency" || (o.kind == "station" && (o.path.starts_with(&scope) || o.id == h.station_id)))
        .map(|o| Opt { value: o.code, label: o.name })
        .collect();
    let risk: Option<Risk> = serde_json::from_value(h.risk.clone()).ok();
    let factors = risk
        .as_ref()
        .map(|r| r.fired.iter().map(|f| (f.label.clone(), dimension_label(tr, f.dimension), f.add)).collect())
        .unwrap_or_default();
    let (level, level_label) = Risk::level(h.risk_score);
    let steps = [
        ("hazard.assigned_at", &h.assigned_at),
        ("hazard.signed_at", &h.signed_at),
        ("hazard.rectified_at", &h.rectified_at),
        ("hazard.closed_at", &h.closed_at),
    ]
    .into_iter()
    .filter(|(_, t)| t.is_some())
    .map(|(k, t)| (tr.t(k).to_string(), fmt_opt(t)))
    .collect();
    render(
        ShowTpl {
            state_label: state_label(&wf, tr, &h.state),
            level: level.into(),
            level_label: level_label.into(),
            risk,
            factors,
            before: files.iter().filter(|f| f.phase == "before").map(|f| f.id).collect(),
            after: files.iter().filter(|f| f.phase == "after").map(|f| f.id).collect(),
            actions,
            events,
            bodies,
            deadline: (zhufang_domain::calendar::local_date(Utc::now()) + chrono::Days::new(7)).to_string(),
            overdue: zhufang_domain::hazard::is_unrectified(&h.state) && h.deadline_at.is_some_and(|d| Utc::now() > d),
            steps,
            h,
            shell,
        },
        &headers,
    )
}

fn dimension_label(tr: Tr, d: Dimension) -> String {
    match d {
        Dimension::Severity => tr.t("hazard.severity"),
        Dimension::Likelihood => tr.t("hazard.likelihood"),
        Dimension::Exposure => tr.t("hazard.exposure"),
    }
    .to_string()
}

/// A step from the page (multipart, with photos).
pub async fn step_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    mp: Multipart,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let form = super::read_form(&state, mp).await.map_err(err)?;
    super::form_step(&state, &cu.user, id, form).await.map_err(err)?;
    Ok(hx_redirect(&format!("/hazards/{id}")))
}

pub struct FigureRow {
    pub name: String,
    pub found: i64,
    pub rectified: i64,
    pub on_time: i64,
    pub overdue: i64,
    pub rate: String,
    pub on_time_rate: String,
    pub avg_days: String,
}

fn figure_row(name: String, f: &zhufang_domain::hazard::Figures) -> FigureRow {
    FigureRow {
        name,
        found: f.found,
        rectified: f.rectified,
        on_time: f.rectified_on_time,
        overdue: f.overdue,
        rate: percent(f.rectification_rate),
        on_time_rate: percent(f.on_time_rate),
        avg_days: f.avg_days_to_rectify.map(|d| format!("{d:.1}")).unwrap_or_else(|| "—".into()),
    }
}

#[derive(Template)]
#[template(path = "hazards/figures.html")]
struct FiguresTpl {
    shell: Shell,
    by: String,
    from: String,
    to: String,
    total: FigureRow,
    rows: Vec<FigureRow>,
    chart: String,
}

pub async fn figures_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<super::FiguresQuery>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "hazard_figures", "hazard.figures").await.map_err(err)?;
    let out = super::figures_for(&state, &cu, &q).await.map_err(err)?;
    let total = figure_row(shell.tr.t("common.total").to_string(), &out.total);
    let tr = shell.tr;
    let chart = crate::pages::share_chart(
        out.rows.iter().map(|g| g.name.clone()).collect(),
        vec![
            (
                tr.t("hazard.rectification_rate").to_string(),
                out.rows.iter().map(|g| g.figures.rectification_rate).collect(),
            ),
            (tr.t("hazard.on_time_rate_long").to_string(), out.rows.iter().map(|g| g.figures.on_time_rate).collect()),
        ],
    );
    render(
        FiguresTpl {
            chart,
            by: out.by,
            from: q.from.unwrap_or_default(),
            to: q.to.unwrap_or_default(),
            total,
            rows: out.rows.iter().map(|g| figure_row(g.name.clone(), &g.figures)).collect(),
            shell,
        },
        &headers,
    )
}

pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub types: String,
    pub org: String,
    pub period: String,
    pub total: usize,
    pub done: usize,
    pub late: usize,
    pub rate: String,
}

#[derive(Template)]
#[template(path = "hazards/campaigns.html")]
struct CampaignsTpl {
    shell: Shell,
    rows: Vec<CampaignRow>,
    types: Vec<Opt>,
    may_manage: bool,
    today: String,
    month_end: String,
}

fn type_names(types: &[HazardType], codes: &[String]) -> String {
    codes
        .iter()
        .map(|c| types.iter().find(|t| &t.code == c).map_or(c.clone(), |t| t.name.clone()))
        .collect::<Vec<_>>()
        .join("、")
}

pub async fn campaigns_page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "hazard_campaigns", "hazard.campaigns").await.map_err(err)?;
    let types = state.store.hazard_types().await.map_err(|e| err(e.into()))?;
    let mut rows = vec![];
    for c in super::visible_campaigns(&state, &cu).await.map_err(err)? {
        let o = super::campaign_out(&state, c).await.map_err(err)?;
        rows.push(CampaignRow {
            id: o.campaign.id,
            name: o.campaign.name.clone(),
            types: type_names(&types, &o.campaign.type_codes),
            org: o.campaign.org_name.clone(),
            period: format!("{} — {}", o.campaign.starts_on, o.campaign.ends_on),
            total: o.checks_total,
            done: o.checks_done,
            late: o.checks_late,
            rate: percent((o.checks_total > 0).then(|| o.checks_done as f64 / o.checks_total as f64)),
        });
    }
    let today = zhufang_domain::calendar::local_date(Utc::now());
    render(
        CampaignsTpl {
            rows,
            types: type_opts(&types, true),
            may_manage: hazards::may_manage(&cu.user),
            today: today.to_string(),
            month_end: (today + chrono::Days::new(30)).to_string(),
            shell,
        },
        &headers,
    )
}

/// Starts a campaign from the page (type codes as repeated fields).
pub async fn campaign_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let mut b = CampaignBody::default();
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "type_codes" => b.type_codes.push(v.into_owned()),
            "name" => b.name = v.into_owned(),
            "starts_on" => b.starts_on = Some(v.into_owned()),
            "ends_on" => b.ends_on = Some(v.into_owned()),
            _ => {}
        }
    }
    let input = super::campaign_input(b).map_err(err)?;
    let r = hazards::start_campaign(
        state.store.as_ref(),
        &state.workflow(),
        &state.calendar(),
        &cu.user,
        input,
        Utc::now(),
    )
    .await
    .map_err(|e| err(e.into()))?;
    Ok(hx_redirect(&format!("/hazards/campaigns/{}", r.id)))
}

#[derive(Template)]
#[template(path = "hazards/campaign.html")]
struct CampaignTpl {
    shell: Shell,
    c: super::CampaignOut,
    types: String,
    rate: String,
    task_wf: std::sync::Arc<Workflow>,
    hazard_wf: Workflow,
}

impl CampaignTpl {
    fn task_state(&self, s: &str) -> String {
        state_label(&self.task_wf, self.shell.tr, s)
    }
    fn hazard_state(&self, s: &str) -> String {
        state_label(&self.hazard_wf, self.shell.tr, s)
    }
    fn when(&self, t: &Option<chrono::DateTime<Utc>>) -> String {
        fmt_opt(t)
    }
}

pub async fn campaign_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "hazard_campaigns", "hazard.campaigns").await.map_err(err)?;
    let c = super::visible_campaigns(&state, &cu)
        .await
        .map_err(err)?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| err(AppError::NotFound))?;
    let c = super::campaign_out(&state, c).await.map_err(err)?;
    let types = state.store.hazard_types().await.map_err(|e| err(e.into()))?;
    render(
        CampaignTpl {
            types: type_names(&types, &c.campaign.type_codes),
            rate: percent((c.checks_total > 0).then(|| c.checks_done as f64 / c.checks_total as f64)),
            task_wf: state.workflow(),
            hazard_wf: state.store.workflow(zhufang_domain::hazard::WORKFLOW).await.map_err(|e| err(e.into()))?,
            c,
            shell,
        },
        &headers,
    )
}

#[derive(Template)]
#[template(path = "hazards/settings.html")]
struct SettingsTpl {
    shell: Shell,
    types: Vec<HazardType>,
    factors_json: String,
    saved: bool,
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    pub saved: Option<String>,
}

/// Types and risk factors (admin).
pub async fn settings_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<SettingsQuery>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    if !cu.user.has(zhufang_domain::Role::Admin) {
        return Err(err(AppError::Forbidden));
    }
    let shell = Shell::new(&state, &cu, &headers, "hazard_settings", "hazard.settings").await.map_err(err)?;
    let factors = state.store.hazard_factors().await.map_err(|e| err(e.into()))?;
    render(
        SettingsTpl {
            types: state.store.hazard_types().await.map_err(|e| err(e.into()))?,
            factors_json: serde_json::to_string_pretty(&factors).unwrap_or_default(),
            saved: q.saved.is_some(),
            shell,
        },
        &headers,
    )
}

#[derive(Deserialize)]
pub struct TypeForm {
    pub code: String,
    pub name: String,
    pub base_severity: String,
    #[serde(default)]
    pub active: Option<String>,
}

pub async fn type_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<TypeForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let base_severity =
        f.base_severity.trim().parse().map_err(|_| err(AppError::field("base_severity", "基础严重程度须为1至5")))?;
    let t = HazardType { code: f.code.trim().into(), name: f.name, base_severity, active: f.active.is_some() };
    hazards::save_type(state.store.as_ref(), &cu.user, t, Utc::now()).await.map_err(|e| err(e.into()))?;
    Ok(hx_redirect("/hazards/settings?saved=1"))
}

#[derive(Deserialize)]
pub struct FactorsForm {
    pub factors: String,
}

pub async fn factors_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<FactorsForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let factors = serde_json::from_str(&f.factors)
        .map_err(|e| err(AppError::field("factors", &format!("风险因素须为有效的JSON：{e}"))))?;
    hazards::replace_factors(state.store.as_ref(), &cu.user, factors, Utc::now()).await.map_err(|e| err(e.into()))?;
    Ok(hx_redirect("/hazards/settings?saved=1"))
}
