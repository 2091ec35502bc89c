//! Incident pages: the list (search form above a paged table), the intake
//! form built for the keyboard, the detail page with the triage suggestion,
//! the actions open to the user and the timeline; and their htmx forms.

use crate::auth::PageUser;
use crate::controllers::tasks::list::Opt;
use crate::controllers::{opt_f64, parse_location};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{PageError, PageResult, Shell, fmt_opt, fmt_time, hx_redirect, page_window, render};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use chrono::Utc;
use serde::Deserialize;
use zhufang_domain::Role;
use zhufang_domain::incident::{Channel, HandlingResult, Severity};
use zhufang_domain::workflow::{ActorCtx, Subject, Workflow};
use zhufang_store::incidents::{self, CreateIncident, IncidentAction};
use zhufang_store::model::{Incident, IncidentType, PageReq};
use zhufang_store::service::FieldError;

fn channel_label(tr: Tr, c: &str) -> String {
    Channel::parse(c).map(|c| tr.pick(c.label_zh(), c.label_en()).to_string()).unwrap_or_else(|| c.to_string())
}

pub(crate) fn state_label(wf: &Workflow, tr: Tr, s: &str) -> String {
    wf.state(s).map(|d| tr.pick(&d.label_zh, &d.label_en).to_string()).unwrap_or_else(|| s.to_string())
}

/// The dictionary as select options, indented by level.
fn type_options(tr: Tr, types: &[IncidentType]) -> Vec<Opt> {
    types
        .iter()
        .filter(|t| t.active)
        .map(|t| Opt {
            value: t.code.clone(),
            label: format!("{}{} {}", "　".repeat((t.level - 1) as usize), t.code, tr.pick(&t.name, &t.name_en)),
        })
        .collect()
}

/// An incident's type in the page's language (the Chinese name when there is no English one).
pub(crate) fn type_label(tr: Tr, i: &Incident) -> String {
    tr.pick(i.type_name.as_deref().unwrap_or_default(), i.type_name_en.as_deref().unwrap_or_default()).to_string()
}

/// The handling results (处置结果) as select options.
fn result_options(tr: Tr) -> Vec<Opt> {
    HandlingResult::ALL
        .iter()
        .map(|r| Opt { value: r.as_str().into(), label: tr.pick(r.label_zh(), r.label_en()).into() })
        .collect()
}

fn channel_options(tr: Tr) -> Vec<Opt> {
    Channel::ALL
        .iter()
        .map(|c| Opt { value: c.as_str().into(), label: tr.pick(c.label_zh(), c.label_en()).into() })
        .collect()
}

pub struct Row {
    pub id: i64,
    pub number: String,
    pub received: String,
    pub channel: String,
    pub kind: String,
    pub severity: i64,
    pub severity_label: String,
    pub state: String,
    pub state_label: String,
    pub place: String,
    pub police: String,
    pub repeat: bool,
    pub description: String,
}

#[derive(Deserialize, Default)]
pub struct ListForm {
    pub q: Option<String>,
    pub state: Option<String>,
    pub channel: Option<String>,
    pub police: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub type_code: Option<String>,
    pub severity: Option<String>,
    pub station: Option<String>,
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
            ("channel", &self.channel),
            ("police", &self.police),
            ("from", &self.from),
            ("to", &self.to),
            ("type_code", &self.type_code),
            ("severity", &self.severity),
            ("station", &self.station),
        ])
    }

    /// The same filters as the API's.
    fn to_query(&self) -> super::ListQuery {
        super::ListQuery {
            state: self.state.clone(),
            channel: self.channel.clone(),
            police: self.police.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            q: self.q.clone(),
            handed_over: None,
            overdue: None,
            sort: None,
            type_code: self.type_code.clone(),
            severity: self.severity.clone(),
            station: self.station.clone(),
            page: self.page,
            per_page: None,
        }
    }
}

#[derive(Template)]
#[template(path = "incidents/list.html")]
struct ListTpl {
    shell: Shell,
    rows: Vec<Row>,
    f: ListForm,
    states: Vec<Opt>,
    channels: Vec<Opt>,
    /// The dictionary's classes and types (two levels).
    types: Vec<Opt>,
    severities: Vec<Opt>,
    /// The stations the user sees, when more than one.
    stations: Vec<Opt>,
    qs: String,
    total: i64,
    page: i64,
    pages: i64,
    window: Vec<i64>,
    may_receive: bool,
    may_import: bool,
}

impl ListTpl {
    fn sel(&self, v: &Option<String>, o: &str) -> bool {
        v.as_deref() == Some(o)
    }
}

pub async fn list_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(f): Query<ListForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "incidents", "nav.incidents").await.map_err(err)?;
    let tr = shell.tr;
    let wf = state.store.workflow(zhufang_domain::incident::WORKFLOW).await.map_err(|e| err(e.into()))?;
    let filter = f.to_query().to_filter(&state, &cu).await.map_err(err)?;
    let all_types = state.store.incident_types().await.map_err(|e| err(e.into()))?;
    let types = all_types
        .iter()
        .filter(|t| t.level <= 2)
        .map(|t| Opt {
            value: t.code.clone(),
            label: format!("{}{}", "　".repeat((t.level - 1) as usize), tr.pick(&t.name, &t.name_en)),
        })
        .collect();
    let severities = Severity::ALL
        .iter()
        .map(|s| Opt { value: s.level().to_string(), label: tr.pick(s.label_zh(), s.label_en()).into() })
        .collect();
    let stations: Vec<Opt> = match &filter.scope_path {
        Some(scope) => state
            .store
            .org_units()
            .await
            .map_err(|e| err(e.into()))?
            .into_iter()
            .filter(|o| o.kind == "station" && o.path.starts_with(scope.as_str()))
            .map(|o| Opt { value: o.code, label: o.name })
            .collect(),
        None => vec![],
    };
    let stations = if stations.len() > 1 { stations } else { vec![] };
    let page = state.store.list_incidents(&filter, PageReq::new(f.page, Some(20))).await.map_err(|e| err(e.into()))?;
    let rows = page
        .items
        .iter()
        .map(|i| Row {
            id: i.id,
            number: i.number.clone(),
            received: fmt_time(&i.received_at),
            channel: channel_label(tr, &i.channel),
            kind: type_label(tr, i),
            severity: i.severity,
            severity_label: severity_label(tr, i.severity),
            state: i.state.clone(),
            state_label: state_label(&wf, tr, &i.state),
            place: match &i.grid_name {
                Some(g) => format!("{} · {}", i.station_name, g),
                None => i.station_name.clone(),
            },
            police: match i.police {
                Some(true) => tr.t("incident.police").to_string(),
                Some(false) => tr.t("incident.non_police").to_string(),
                None => String::new(),
            },
            repeat: i.repeat_of.is_some(),
            description: i.description.chars().take(40).collect(),
        })
        .collect();
    let states = wf
        .states
        .iter()
        .map(|s| Opt { value: s.state.clone(), label: tr.pick(&s.label_zh, &s.label_en).into() })
        .collect();
    let pages = page.pages();
    let qs = f.query_string();
    render(
        ListTpl {
            may_receive: incidents::may_receive(&cu.user.roles),
            may_import: cu.user.has(Role::Admin),
            shell,
            rows,
            states,
            channels: channel_options(tr),
            types,
            severities,
            stations,
            qs,
            total: page.total,
            page: page.page,
            pages,
            window: page_window(page.page, pages),
            f,
        },
        &headers,
    )
}

#[derive(Template)]
#[template(path = "incidents/new.html")]
struct NewTpl {
    shell: Shell,
    channels: Vec<Opt>,
    severities: Vec<Opt>,
    types: Vec<Opt>,
}

/// An incident the officer was sent to, on the phone view.
pub struct CallCard {
    pub id: i64,
    pub number: String,
    pub state: String,
    pub state_label: String,
    pub severity: i64,
    pub severity_label: String,
    pub what: String,
    pub description: String,
    pub address: String,
    pub dispatched: String,
    pub version: i64,
    /// The one step from here (到场, or 处置完毕 with a result) and its label.
    pub action: String,
    pub action_label: String,
}

/// The incidents the user was sent to and has not finished, most urgent
/// then oldest first, with the result options for 处置完毕.
pub(crate) async fn my_calls(
    state: &AppState,
    cu: &crate::auth::CurrentUser,
    tr: Tr,
) -> Result<(Vec<CallCard>, Vec<Opt>), AppError> {
    let f = zhufang_store::model::IncidentFilter {
        assignee_id: Some(cu.user.id),
        states: vec!["dispatched".into(), "arrived".into()],
        ..Default::default()
    };
    let page = state.store.list_incidents(&f, PageReq::new(Some(1), Some(50))).await?;
    if page.items.is_empty() {
        return Ok((vec![], vec![]));
    }
    let wf = state.store.workflow(zhufang_domain::incident::WORKFLOW).await?;
    let mut items = page.items;
    items.sort_by_key(|i| (-i.severity, i.received_at));
    let cards = items
        .into_iter()
        .map(|i| {
            let action = if i.state == "dispatched" { "arrive" } else { "handle" };
            let action_label = wf
                .rules
                .iter()
                .find(|r| r.from == i.state && r.action == action)
                .map(|r| tr.pick(&r.label_zh, &r.label_en).to_string())
                .unwrap_or_else(|| action.to_string());
            CallCard {
                state_label: state_label(&wf, tr, &i.state),
                severity_label: severity_label(tr, i.severity),
                what: type_label(tr, &i),
                dispatched: fmt_opt(&i.dispatched_at),
                action: action.into(),
                action_label,
                id: i.id,
                number: i.number,
                state: i.state,
                severity: i.severity,
                description: i.description,
                address: i.address,
                version: i.version,
            }
        })
        .collect();
    Ok((cards, result_options(tr)))
}

/// 一般/紧急/危机 (or Normal/Urgent/Critical) of a severity level.
fn severity_label(tr: Tr, level: i64) -> String {
    Severity::from_level(level).map(|s| tr.pick(s.label_zh(), s.label_en())).unwrap_or_default().to_string()
}

#[derive(Template)]
#[template(path = "incidents/import.html")]
struct ImportTpl {
    shell: Shell,
    /// Rows sent per request (the progress bar moves after each).
    batch: usize,
}

/// 导入历史警情 (admins): a CSV file sent in batches of rows to
/// `POST /api/v1/incidents/import`, with a progress bar and every bad row
/// by its line in the file.
pub async fn import_page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    if !cu.user.has(Role::Admin) {
        return Err(err(AppError::Forbidden));
    }
    let shell = Shell::new(&state, &cu, &headers, "incidents", "incident.import").await.map_err(err)?;
    render(ImportTpl { shell, batch: 500 }, &headers)
}

pub async fn new_page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    if !incidents::may_receive(&cu.user.roles) {
        return Err(err(AppError::Forbidden));
    }
    let shell = Shell::new(&state, &cu, &headers, "incident_new", "incident.new").await.map_err(err)?;
    let types = state.store.incident_types().await.map_err(|e| err(e.into()))?;
    let severities = Severity::ALL
        .iter()
        .map(|s| Opt {
            value: s.level().to_string(),
            label: format!("{} {}", s.level(), severity_label(shell.tr, s.level())),
        })
        .collect();
    render(
        NewTpl { channels: channel_options(shell.tr), severities, types: type_options(shell.tr, &types), shell },
        &headers,
    )
}

#[derive(Deserialize)]
pub struct NewForm {
    channel: String,
    description: String,
    #[serde(default)]
    caller_name: String,
    #[serde(default)]
    caller_phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    type_code: String,
    #[serde(default)]
    severity: String,
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

pub async fn create_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<NewForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let mut errs = vec![];
    let lat = opt_f64("location.lat", &opt(&f.lat), &mut errs);
    let lon = opt_f64("location.lon", &opt(&f.lon), &mut errs);
    let location = if errs.is_empty() { parse_location(lat, lon, &mut errs) } else { None };
    let severity = match opt(&f.severity) {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errs.push(FieldError::new("severity", "警情等级须为1、2或3"));
                None
            }
        },
    };
    if !errs.is_empty() {
        return Err(err(AppError::Validation(errs)));
    }
    let input = CreateIncident {
        channel: f.channel,
        description: f.description,
        location,
        address: opt(&f.address),
        caller_name: opt(&f.caller_name),
        caller_phone: opt(&f.caller_phone),
        received_at: None,
        type_code: opt(&f.type_code),
        severity,
        station: None,
        external_id: None,
    };
    let router = state.router();
    let i = incidents::create(state.store.as_ref(), &router, &cu.user, input, Utc::now())
        .await
        .map_err(|e| err(e.into()))?;
    Ok(hx_redirect(&format!("/incidents/{}", i.id)))
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
#[template(path = "incidents/show.html")]
struct ShowTpl {
    shell: Shell,
    i: Incident,
    type_label: String,
    state_label: String,
    channel: String,
    severity_label: String,
    result_label: String,
    rating_label: String,
    received: String,
    steps: Vec<(String, String)>,
    actions: Vec<ActionView>,
    events: Vec<EventView>,
    people: Vec<Opt>,
    agencies: Vec<Opt>,
    types: Vec<Opt>,
    results: Vec<Opt>,
    ratings: Vec<Opt>,
    may_reveal: bool,
    /// The dispute ledger's hook: register a dispute from this incident.
    may_register_dispute: bool,
    suggestion_police: Option<bool>,
    suggestion_department: String,
    suggestion_reasons: String,
    similar: Vec<incidents::Similar>,
    departments: Vec<Opt>,
    type_hint: String,
}

pub async fn show_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let i = incidents::load(state.store.as_ref(), &cu.user, id).await.map_err(|e| err(e.into()))?;
    let mut shell = Shell::new(&state, &cu, &headers, "incidents", "nav.incidents").await.map_err(err)?;
    shell.title = format!("{} {}", shell.tr.t("nav.incidents"), i.number);
    let tr = shell.tr;
    let wf = state.store.workflow(zhufang_domain::incident::WORKFLOW).await.map_err(|e| err(e.into()))?;
    let subject = Subject { state: &i.state, assignee: i.assignee_id, dispatcher: None, creator: i.creator_id };
    let actor = ActorCtx { user_id: cu.user.id, roles: &cu.user.roles };
    let actions: Vec<ActionView> = wf
        .available(&subject, &actor)
        .into_iter()
        .map(|r| ActionView {
            action: r.action.clone(),
            label: tr.pick(&r.label_zh, &r.label_en).to_string(),
            needs: r.required.clone(),
            danger: matches!(r.action.as_str(), "return" | "invalidate"),
        })
        .collect();
    let events = state
        .store
        .incident_timeline(id)
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .map(|e| EventView {
            at: fmt_time(&e.at),
            actor: e.actor_name,
            action: match e.action.as_str() {
                "import" => tr.t("incident.ev_import").to_string(),
                "escalate" => tr.t("incident.ev_escalate").to_string(),
                a => wf
                    .rules
                    .iter()
                    .find(|r| r.action == a)
                    .map(|r| tr.pick(&r.label_zh, &r.label_en).to_string())
                    .unwrap_or_else(|| tr.t("incident.received").to_string()),
            },
            to_label: state_label(&wf, tr, &e.to_state),
            note: e.note.unwrap_or_default(),
        })
        .collect();
    let needs = |f: &str| actions.iter().any(|a| a.needs(f));
    let people = if needs("assignee") {
        state
            .store
            .users_with_roles(
                &i.org_path,
                &[Role::CommunityOfficer, Role::Auxiliary, Role::CommandRoom, Role::StationLeader],
            )
            .await
            .map_err(|e| err(e.into()))?
            .into_iter()
            .map(|u| Opt { label: format!("{}（{}）{}", u.display_name, u.username, u.org_name), value: u.username })
            .collect()
    } else {
        vec![]
    };
    let agencies = if needs("agency") {
        state
            .store
            .org_units()
            .await
            .map_err(|e| err(e.into()))?
            .into_iter()
            .filter(|o| o.kind == "agency")
            .map(|o| Opt { value: o.code, label: o.name })
            .collect()
    } else {
        vec![]
    };
    let types = if needs("police") {
        type_options(tr, &state.store.incident_types().await.map_err(|e| err(e.into()))?)
    } else {
        vec![]
    };
    let results = result_options(tr);
    let ratings = (1..=5)
        .map(|r| Opt {
            value: r.to_string(),
            label: format!(
                "{r} {}",
                tr.pick(
                    zhufang_domain::incident::rating_label(r).unwrap_or_default(),
                    zhufang_domain::incident::rating_label_en(r).unwrap_or_default()
                )
            ),
        })
        .collect();
    let steps = [
        ("incident.triaged_at", &i.triaged_at),
        ("incident.dispatched_at", &i.dispatched_at),
        ("incident.arrived_at", &i.arrived_at),
        ("incident.handled_at", &i.handled_at),
        ("incident.diverted_at", &i.diverted_at),
        ("incident.signed_for_at", &i.signed_for_at),
        ("incident.agency_done_at", &i.agency_done_at),
        ("incident.returned_at", &i.returned_at),
        ("incident.closed_at", &i.closed_at),
        ("incident.sign_due_at", &i.sign_due_at),
        ("incident.done_due_at", &i.done_due_at),
        ("incident.escalated_at", &i.escalated_at),
    ]
    .into_iter()
    .filter(|(_, t)| t.is_some())
    .map(|(k, t)| (tr.t(k).to_string(), fmt_opt(t)))
    .collect();
    let similar = incidents::similar(state.store.as_ref(), &cu.user, &i).await.map_err(|e| err(e.into()))?;
    let suggestion_police = i.triage.get("police").and_then(|v| v.as_bool());
    let suggestion_department = i.triage.get("department").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let suggestion_reasons = i
        .triage
        .get("reasons")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("、"))
        .unwrap_or_default();
    render(
        ShowTpl {
            type_label: type_label(tr, &i),
            state_label: state_label(&wf, tr, &i.state),
            channel: channel_label(tr, &i.channel),
            severity_label: severity_label(tr, i.severity),
            result_label: i
                .result
                .as_deref()
                .and_then(HandlingResult::parse)
                .map(|r| tr.pick(r.label_zh(), r.label_en()))
                .unwrap_or_default()
                .to_string(),
            rating_label: i
                .rating
                .and_then(|r| {
                    Some(tr.pick(
                        zhufang_domain::incident::rating_label(r)?,
                        zhufang_domain::incident::rating_label_en(r)?,
                    ))
                })
                .unwrap_or_default()
                .to_string(),
            ratings,
            received: fmt_time(&i.received_at),
            may_register_dispute: zhufang_store::disputes::may_register(&cu.user.roles),
            may_reveal: (i.caller_phone.is_some() || i.caller_name.is_some())
                && cu.user.roles.iter().any(|r| matches!(r, Role::CommandRoom | Role::StationLeader | Role::Admin)),
            steps,
            actions,
            events,
            people,
            agencies,
            types,
            results,
            suggestion_police,
            suggestion_department,
            suggestion_reasons,
            similar,
            type_hint: i.triage.pointer("/type_hint/reason").and_then(|v| v.as_str()).unwrap_or_default().to_string(),
            departments: zhufang_triage::Triage::default_model()
                .classes()
                .iter()
                .map(|c| Opt { value: c.name.clone(), label: c.name.clone() })
                .collect(),
            i,
            shell,
        },
        &headers,
    )
}

#[derive(Deserialize)]
pub struct ActionForm {
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    police: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    type_code: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    rating: String,
    version: Option<i64>,
    /// Where to go after the step (the inbox); default the incident's page.
    #[serde(default)]
    back: String,
}

pub async fn transition_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let wf = state.store.workflow(zhufang_domain::incident::WORKFLOW).await.map_err(|e| err(e.into()))?;
    let input = IncidentAction {
        action: f.action.trim().to_string(),
        note: opt(&f.note),
        assignee: opt(&f.assignee),
        agency: opt(&f.agency),
        police: match f.police.as_str() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        },
        department: opt(&f.department),
        type_code: opt(&f.type_code),
        severity: opt(&f.severity).and_then(|s| s.parse().ok()),
        result: opt(&f.result),
        rating: opt(&f.rating).and_then(|s| s.parse().ok()),
        version: f.version,
    };
    incidents::transition(
        state.store.as_ref(),
        &incidents::Rules { wf: &wf, cal: &state.calendar(), outbox: state.cfg.webhook.is_some() },
        &cu.user,
        id,
        input,
        Utc::now(),
    )
    .await
    .map_err(|e| err(e.into()))?;
    crate::outbox::kick(&state);
    // only back to a page of ours (no open redirect)
    if f.back == "/m" || (f.back.starts_with("/incidents/inbox") && !f.back.contains("//")) {
        return Ok(hx_redirect(&f.back));
    }
    Ok(hx_redirect(&format!("/incidents/{id}")))
}

/// Near-duplicates while the intake form is filled in (place and type): a
/// fragment listing them with links, or nothing.
pub async fn similar_fragment(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<super::SimilarQuery>,
) -> PageResult {
    let tr = Tr::new(crate::i18n::Lang::from_headers(&headers));
    let list = match super::near(&state, &cu, &q).await {
        Ok(l) => l,
        // a half-typed coordinate is not an error worth showing here
        Err(AppError::Validation(_)) => vec![],
        Err(e) => return Err(PageError::new(&headers, e)),
    };
    let list: Vec<incidents::Similar> = list.into_iter().take(5).collect();
    render(NearDupsTpl { tr, list }, &headers)
}

#[derive(Template)]
#[template(path = "fragments/near_dups.html")]
struct NearDupsTpl {
    tr: Tr,
    list: Vec<incidents::Similar>,
}

/// The caller's full name and phone as a fragment (audited).
pub async fn caller_fragment(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let (name, phone) =
        incidents::reveal_caller(state.store.as_ref(), &cu.user, id, Utc::now()).await.map_err(|e| err(e.into()))?;
    render(CallerTpl { name: name.unwrap_or_default(), phone: phone.unwrap_or_default() }, &headers)
}

#[derive(Template)]
#[template(path = "incidents/caller.html")]
struct CallerTpl {
    name: String,
    phone: String,
}

pub struct FigureRowView {
    pub code: String,
    pub name: String,
    pub incidents: i64,
    pub sign_for: Vec<i64>,
    pub turn_out: Vec<i64>,
    pub feedback: Vec<i64>,
    pub arrival_avg: String,
    pub arrival_median: String,
    pub within_5: String,
    pub self_handled: String,
    pub diversion: String,
    pub repeat: String,
    pub agency_sign_for: String,
    pub agency_on_time: String,
    pub agency_return: String,
    pub agency_redo: String,
    pub agency_done: String,
    pub callback: String,
    pub satisfaction: String,
}

fn mins(v: Option<f64>) -> String {
    v.map(|s| format!("{:.1}", s / 60.0)).unwrap_or_else(|| "—".into())
}

fn row_view(code: String, name: String, f: &zhufang_domain::incident::Figures) -> FigureRowView {
    FigureRowView {
        code,
        name,
        incidents: f.incidents,
        sign_for: f.sign_for_buckets.clone(),
        turn_out: f.turn_out_buckets.clone(),
        feedback: f.feedback_buckets.clone(),
        arrival_avg: mins(f.arrival_avg_s),
        arrival_median: mins(f.arrival_median_s),
        within_5: crate::pages::percent(f.arrived_within_5min),
        self_handled: crate::pages::percent(f.self_handled_rate),
        diversion: crate::pages::percent(f.diversion_rate),
        repeat: crate::pages::percent(f.repeat_rate),
        agency_sign_for: crate::pages::percent(f.agency_sign_for_rate),
        agency_on_time: crate::pages::percent(f.agency_on_time_rate),
        agency_return: crate::pages::percent(f.agency_return_rate),
        agency_redo: crate::pages::percent(f.agency_redo_rate),
        agency_done: crate::pages::percent(f.agency_done_rate),
        callback: crate::pages::percent(f.callback_rate),
        satisfaction: crate::pages::percent(f.satisfaction_rate),
    }
}

#[derive(Template)]
#[template(path = "incidents/figures.html")]
struct FiguresTpl {
    shell: Shell,
    from: String,
    to: String,
    by: String,
    total: FigureRowView,
    rows: Vec<FigureRowView>,
    chart: String,
}

#[derive(Deserialize)]
pub struct FiguresForm {
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
}

pub async fn figures_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<FiguresForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "incident_figures", "incident.figures").await.map_err(err)?;
    let query = super::FiguresQuery { from: q.from, to: q.to, by: q.by };
    let out = super::figures_for(&state, &cu, &query).await.map_err(err)?;
    let day = |t: chrono::DateTime<Utc>| t.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string();
    let tr = shell.tr;
    let chart = crate::pages::share_chart(
        out.rows.iter().map(|r| r.name.clone()).collect(),
        vec![
            (tr.t("incident.within_5").to_string(), out.rows.iter().map(|r| r.figures.arrived_within_5min).collect()),
            (tr.t("incident.self_handled").to_string(), out.rows.iter().map(|r| r.figures.self_handled_rate).collect()),
            (
                tr.t("incident.agency_on_time").to_string(),
                out.rows.iter().map(|r| r.figures.agency_on_time_rate).collect(),
            ),
        ],
    );
    render(
        FiguresTpl {
            chart,
            from: day(out.from),
            to: day(out.to),
            total: row_view(String::new(), shell.tr.t("common.total").to_string(), &out.total),
            rows: out.rows.iter().map(|r| row_view(r.code.clone(), r.name.clone(), &r.figures)).collect(),
            by: out.by,
            shell,
        },
        &headers,
    )
}
