//! Dispute pages: the ledger (台账) with colour badges, the warning board
//! (red and orange, oldest first), registering (also from an incident), and
//! the detail page with parties (masked, audited reveal), sessions,
//! escalations, the rules that fired, the actions open and the timeline.

use super::session_input;
use crate::auth::PageUser;
use crate::controllers::incidents::pages::state_label;
use crate::controllers::tasks::list::Opt;
use crate::controllers::{opt_f64, parse_day_start, parse_location, parse_time};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{PageError, PageResult, Shell, fmt_opt, fmt_time, hx_redirect, page_window, render};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse};
use chrono::Utc;
use serde::Deserialize;
use zhufang_domain::dispute::{Colour, Level, PartyKind, Side, Source};
use zhufang_domain::workflow::{ActorCtx, Subject, Workflow};
use zhufang_store::disputes::{self, CreateDispute, DisputeAction, OUTCOMES, PartyInput};
use zhufang_store::model::{Dispute, DisputeFilter, PageReq};
use zhufang_store::service::FieldError;

fn colour_label(tr: Tr, c: &str) -> String {
    Colour::parse(c).map(|c| tr.pick(c.label_zh(), c.label_en()).to_string()).unwrap_or_else(|| c.to_string())
}

fn level_label(tr: Tr, l: i64) -> String {
    Level::from_i64(l).map(|l| tr.pick(l.label_zh(), l.label_en()).to_string()).unwrap_or_default()
}

fn source_label(tr: Tr, s: &str) -> String {
    Source::parse(s).map(|s| tr.pick(s.label_zh(), s.label_en()).to_string()).unwrap_or_else(|| s.to_string())
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// One row of the ledger and the board.
pub struct Row {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub category: String,
    pub colour: String,
    pub colour_label: String,
    pub class: String,
    pub level: String,
    pub place: String,
    pub state: String,
    pub state_label: String,
    pub created: String,
    pub people: i64,
}

fn row(wf: &Workflow, tr: Tr, d: &Dispute) -> Row {
    Row {
        id: d.id,
        number: d.number.clone(),
        title: d.title.clone(),
        category: d.category_name.clone(),
        colour: d.colour.clone(),
        colour_label: colour_label(tr, &d.colour),
        class: d.class.clone().unwrap_or_default(),
        level: level_label(tr, d.level),
        place: match &d.grid_name {
            Some(g) => format!("{} · {}", d.station_name, g),
            None => d.station_name.clone(),
        },
        state: d.state.clone(),
        state_label: state_label(wf, tr, &d.state),
        created: fmt_time(&d.created_at),
        people: d.people_involved,
    }
}

#[derive(Deserialize, Default)]
pub struct ListForm {
    pub q: Option<String>,
    pub state: Option<String>,
    pub colour: Option<String>,
    pub category: Option<String>,
    pub class: Option<String>,
    pub level: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
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
            ("colour", &self.colour),
            ("category", &self.category),
            ("class", &self.class),
            ("level", &self.level),
            ("from", &self.from),
            ("to", &self.to),
        ])
    }
}

#[derive(Template)]
#[template(path = "disputes/list.html")]
struct ListTpl {
    shell: Shell,
    f: ListForm,
    rows: Vec<Row>,
    states: Vec<Opt>,
    colours: Vec<Opt>,
    categories: Vec<Opt>,
    qs: String,
    total: i64,
    page: i64,
    pages: i64,
    window: Vec<i64>,
    may_register: bool,
    board: bool,
}

impl ListTpl {
    fn sel(&self, v: &Option<String>, x: &str) -> bool {
        v.as_deref() == Some(x)
    }
}

async fn ledger(
    state: AppState,
    cu: crate::auth::CurrentUser,
    headers: HeaderMap,
    f: ListForm,
    board: bool,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let (nav, title) = if board { ("dispute_board", "dispute.board") } else { ("disputes", "nav.disputes") };
    let shell = Shell::new(&state, &cu, &headers, nav, title).await.map_err(err)?;
    let tr = shell.tr;
    let wf = state.store.workflow(zhufang_domain::dispute::WORKFLOW).await.map_err(|e| err(e.into()))?;
    let mut filter: DisputeFilter =
        disputes::visibility(state.store.as_ref(), &cu.user).await.map_err(|e| err(e.into()))?;
    let some = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    filter.q = some(&f.q);
    filter.state = some(&f.state);
    filter.colour = some(&f.colour).filter(|c| Colour::parse(c).is_some());
    filter.category = some(&f.category);
    filter.class = some(&f.class);
    filter.level = some(&f.level).and_then(|l| l.parse().ok());
    filter.board = board;
    if let Some(s) = some(&f.from) {
        filter.from = Some(parse_day_start("from", &s).map_err(err)?);
    }
    if let Some(s) = some(&f.to) {
        filter.to = Some(parse_time("to", &s).map_err(err)?);
    }
    let page = state.store.list_disputes(&filter, PageReq::new(f.page, Some(20))).await.map_err(|e| err(e.into()))?;
    let rows = page.items.iter().map(|d| row(&wf, tr, d)).collect();
    let categories = state
        .store
        .dispute_categories()
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .map(|c| Opt { value: c.code, label: c.name })
        .collect();
    let pages = page.pages();
    render(
        ListTpl {
            may_register: disputes::may_register(&cu.user.roles),
            states: wf
                .states
                .iter()
                .map(|s| Opt { value: s.state.clone(), label: tr.pick(&s.label_zh, &s.label_en).into() })
                .collect(),
            colours: Colour::ALL
                .iter()
                .rev()
                .map(|c| Opt { value: c.as_str().into(), label: tr.pick(c.label_zh(), c.label_en()).into() })
                .collect(),
            categories,
            shell,
            rows,
            qs: f.query_string(),
            total: page.total,
            page: page.page,
            pages,
            window: page_window(page.page, pages),
            f,
            board,
        },
        &headers,
    )
}

pub async fn list_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(f): Query<ListForm>,
) -> PageResult {
    ledger(state, cu, headers, f, false).await
}

/// The warning board: every open red and orange dispute in scope, oldest first.
pub async fn board_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(f): Query<ListForm>,
) -> PageResult {
    ledger(state, cu, headers, f, true).await
}

#[derive(Template)]
#[template(path = "disputes/new.html")]
struct NewTpl {
    shell: Shell,
    categories: Vec<Opt>,
    sources: Vec<Opt>,
    incident_id: String,
    incident_label: String,
    title: String,
    description: String,
    address: String,
    source: String,
    id_numbers: bool,
}

#[derive(Deserialize)]
pub struct NewQuery {
    pub incident: Option<i64>,
}

/// The register form; `?incident=ID` starts from an incident (its text, place and source).
pub async fn new_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    if !disputes::may_register(&cu.user.roles) {
        return Err(err(AppError::Forbidden));
    }
    let shell = Shell::new(&state, &cu, &headers, "dispute_new", "dispute.new").await.map_err(err)?;
    let tr = shell.tr;
    let incident = match q.incident {
        Some(id) => {
            Some(zhufang_store::incidents::load(state.store.as_ref(), &cu.user, id).await.map_err(|e| err(e.into()))?)
        }
        None => None,
    };
    let categories = state
        .store
        .dispute_categories()
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .filter(|c| c.active)
        .map(|c| Opt { value: c.code.clone(), label: format!("{} {}", c.code, c.name) })
        .collect();
    let sources = Source::ALL
        .iter()
        .map(|s| Opt { value: s.as_str().into(), label: tr.pick(s.label_zh(), s.label_en()).into() })
        .collect();
    render(
        NewTpl {
            categories,
            sources,
            incident_id: incident.as_ref().map(|i| i.id.to_string()).unwrap_or_default(),
            incident_label: incident.as_ref().map(|i| i.number.clone()).unwrap_or_default(),
            title: incident.as_ref().map(|i| i.description.chars().take(30).collect()).unwrap_or_default(),
            description: incident.as_ref().map(|i| i.description.clone()).unwrap_or_default(),
            address: incident.as_ref().map(|i| i.address.clone()).unwrap_or_default(),
            source: if incident.is_some() { "transferred".into() } else { String::new() },
            id_numbers: state.cfg.party_id_numbers,
            shell,
        },
        &headers,
    )
}

/// The register form as posted: up to four parties (blank rows are skipped).
#[derive(Deserialize)]
pub struct NewForm {
    title: String,
    description: String,
    category_code: String,
    source: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    people_involved: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    incident_id: String,
    #[serde(default)]
    p1_side: String,
    #[serde(default)]
    p1_kind: String,
    #[serde(default)]
    p1_name: String,
    #[serde(default)]
    p1_phone: String,
    #[serde(default)]
    p1_id: String,
    #[serde(default)]
    p2_side: String,
    #[serde(default)]
    p2_kind: String,
    #[serde(default)]
    p2_name: String,
    #[serde(default)]
    p2_phone: String,
    #[serde(default)]
    p2_id: String,
    #[serde(default)]
    p3_side: String,
    #[serde(default)]
    p3_kind: String,
    #[serde(default)]
    p3_name: String,
    #[serde(default)]
    p3_phone: String,
    #[serde(default)]
    p3_id: String,
    #[serde(default)]
    p4_side: String,
    #[serde(default)]
    p4_kind: String,
    #[serde(default)]
    p4_name: String,
    #[serde(default)]
    p4_phone: String,
    #[serde(default)]
    p4_id: String,
}

fn int(field: &str, s: &str, errs: &mut Vec<FieldError>) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match s.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(FieldError::new(field, "须为整数"));
            None
        }
    }
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
    let people_involved = int("people_involved", &f.people_involved, &mut errs);
    let amount = int("amount", &f.amount, &mut errs);
    let incident_id = int("incident_id", &f.incident_id, &mut errs);
    if !errs.is_empty() {
        return Err(err(AppError::Validation(errs)));
    }
    let parties = [
        (&f.p1_side, &f.p1_kind, &f.p1_name, &f.p1_phone),
        (&f.p2_side, &f.p2_kind, &f.p2_name, &f.p2_phone),
        (&f.p3_side, &f.p3_kind, &f.p3_name, &f.p3_phone),
        (&f.p4_side, &f.p4_kind, &f.p4_name, &f.p4_phone),
    ]
    .into_iter()
    .filter(|(_, _, name, phone)| !name.trim().is_empty() || !phone.trim().is_empty())
    .zip([&f.p1_id, &f.p2_id, &f.p3_id, &f.p4_id])
    .map(|((side, kind, name, phone), id)| PartyInput {
        side: side.clone(),
        kind: kind.clone(),
        name: name.clone(),
        phone: opt(phone),
        id_number: opt(id),
    })
    .collect();
    let input = CreateDispute {
        title: f.title,
        description: f.description,
        category_code: f.category_code,
        source: f.source,
        location,
        address: opt(&f.address),
        parties,
        people_involved,
        amount,
        incident_id,
        id_numbers_on: state.cfg.party_id_numbers,
    };
    let router = state.router();
    let d = disputes::create(state.store.as_ref(), &router, &cu.user, input, Utc::now())
        .await
        .map_err(|e| err(e.into()))?;
    Ok(hx_redirect(&format!("/disputes/{}", d.id)))
}

pub struct PartyView {
    pub id: i64,
    pub side: String,
    pub kind: String,
    pub name: String,
    pub phone: String,
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
    pub colour: String,
}

/// A session as shown: when, mediators, place, outcome, agreement, its files (id, name).
type SessionRow = (String, String, String, String, String, Vec<(i64, String)>);

#[derive(Template)]
#[template(path = "disputes/show.html")]
struct ShowTpl {
    shell: Shell,
    d: Dispute,
    state_label: String,
    colour_label: String,
    level_label: String,
    source_label: String,
    fired: Vec<(String, String)>,
    parties: Vec<PartyView>,
    may_reveal: bool,
    sessions: Vec<SessionRow>,
    escalations: Vec<(String, String, String, String, String)>,
    incidents: Vec<i64>,
    actions: Vec<ActionView>,
    events: Vec<EventView>,
    classes: Vec<Opt>,
    outcomes: Vec<Opt>,
    levels: Vec<Opt>,
    agencies: Vec<Opt>,
    steps: Vec<(String, String)>,
    registered: String,
    follow_ups: Vec<super::FollowUpOut>,
    task_wf: std::sync::Arc<Workflow>,
    plan: Option<zhufang_store::model::DisputePlan>,
    /// The checklist as edited: one item a line, "[x] " for done.
    checklist_text: String,
    notices: Vec<(i64, String, String, String)>,
    may_issue: bool,
    may_plan: bool,
}

impl ShowTpl {
    fn task_state(&self, s: &str) -> String {
        state_label(&self.task_wf, self.shell.tr, s)
    }
    fn due(&self, t: &Option<chrono::DateTime<Utc>>) -> String {
        fmt_opt(t)
    }
}

pub async fn show_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let d = disputes::load(state.store.as_ref(), &cu.user, id).await.map_err(|e| err(e.into()))?;
    let mut shell = Shell::new(&state, &cu, &headers, "disputes", "nav.disputes").await.map_err(err)?;
    shell.title = format!("{} {}", shell.tr.t("nav.disputes"), d.number);
    let tr = shell.tr;
    let wf = state.store.workflow(zhufang_domain::dispute::WORKFLOW).await.map_err(|e| err(e.into()))?;
    let escalations = state.store.dispute_escalations(d.id).await.map_err(|e| err(e.into()))?;
    let unsigned = escalations.iter().any(|e| e.signed_at.is_none());
    let subject = Subject { state: &d.state, assignee: d.assignee_id, dispatcher: None, creator: d.creator_id };
    let actor = ActorCtx { user_id: cu.user.id, roles: &cu.user.roles };
    let actions = wf
        .available(&subject, &actor)
        .into_iter()
        .filter(|r| r.action != "sign_for" || unsigned)
        .filter(|r| r.action != "escalate" || d.level < 3)
        .map(|r| ActionView {
            action: r.action.clone(),
            label: tr.pick(&r.label_zh, &r.label_en).to_string(),
            needs: r.required.clone(),
            danger: matches!(r.action.as_str(), "terminate" | "relapse" | "transfer"),
        })
        .collect();
    let fired = serde_json::from_value::<Vec<zhufang_domain::dispute::Fired>>(d.fired_rules.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|f| (f.colour.as_str().to_string(), f.name))
        .collect();
    let parties = state
        .store
        .dispute_parties(d.id)
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .map(|p| PartyView {
            id: p.id,
            side: Side::parse(&p.side).map(|s| tr.pick(s.label_zh(), s.label_en())).unwrap_or_default().to_string(),
            kind: PartyKind::parse(&p.kind)
                .map(|k| tr.pick(k.label_zh(), k.label_en()))
                .unwrap_or_default()
                .to_string(),
            name: p.name_masked,
            phone: match p.id_number_masked {
                Some(id) => format!("{} · {id}", p.phone_masked.unwrap_or_default()),
                None => p.phone_masked.unwrap_or_default(),
            },
        })
        .collect();
    let outcome_label = |o: &str| OUTCOMES.iter().find(|(k, _)| *k == o).map(|(_, l)| *l).unwrap_or(o).to_string();
    let sessions = state
        .store
        .dispute_sessions(d.id)
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .map(|s| (fmt_time(&s.held_at), s.mediators, s.place, outcome_label(&s.outcome), s.agreement, s.files))
        .collect();
    let escalation_rows = escalations
        .iter()
        .map(|e| {
            (
                fmt_time(&e.at),
                format!("{} → {}", level_label(tr, e.from_level), level_label(tr, e.to_level)),
                e.to_org_name.clone().unwrap_or_default(),
                format!("{}：{}", e.by_name, e.reason),
                match (&e.signed_by_name, &e.signed_at) {
                    (Some(n), Some(t)) => format!("{n} {}", fmt_time(t)),
                    _ => tr.t("dispute.unsigned").to_string(),
                },
            )
        })
        .collect();
    let events = state
        .store
        .dispute_timeline(d.id)
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
                .unwrap_or_else(|| tr.t("dispute.registered").to_string()),
            to_label: state_label(&wf, tr, &e.to_state),
            note: e.note.unwrap_or_default(),
            colour: e.data.get("colour").and_then(|c| c.as_str()).unwrap_or("").to_string(),
        })
        .collect();
    let classes = state
        .store
        .dispute_classes()
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .map(|c| Opt { value: c.code, label: format!("{}：{}", c.label, c.definition) })
        .collect();
    let agencies = state
        .store
        .org_units()
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .filter(|o| o.kind == "agency")
        .map(|o| Opt { value: o.code, label: o.name })
        .collect();
    let levels = [Level::Town, Level::County]
        .into_iter()
        .filter(|l| l.as_i64() > d.level)
        .map(|l| Opt { value: l.as_i64().to_string(), label: tr.pick(l.label_zh(), l.label_en()).into() })
        .collect();
    let plan = state.store.dispute_plan(d.id).await.map_err(|e| err(e.into()))?;
    let steps = [
        (tr.t("dispute.accepted_at"), fmt_opt(&d.accepted_at)),
        (tr.t("dispute.settled_at"), fmt_opt(&d.settled_at)),
        (tr.t("dispute.closed_at"), fmt_opt(&d.closed_at)),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    render(
        ShowTpl {
            may_reveal: cu.user.roles.iter().any(|r| {
                matches!(
                    r,
                    zhufang_domain::Role::CommandRoom
                        | zhufang_domain::Role::StationLeader
                        | zhufang_domain::Role::CommunityOfficer
                        | zhufang_domain::Role::Admin
                        | zhufang_domain::Role::PartnerAgency
                )
            }),
            state_label: state_label(&wf, tr, &d.state),
            colour_label: colour_label(tr, &d.colour),
            level_label: level_label(tr, d.level),
            source_label: source_label(tr, &d.source),
            fired,
            parties,
            sessions,
            escalations: escalation_rows,
            incidents: state.store.dispute_incident_ids(d.id).await.map_err(|e| err(e.into()))?,
            actions,
            events,
            classes,
            outcomes: OUTCOMES.iter().map(|(v, l)| Opt { value: (*v).into(), label: (*l).into() }).collect(),
            levels,
            agencies,
            steps,
            registered: fmt_time(&d.created_at),
            follow_ups: super::follow_ups(&state, d.id).await.map_err(err)?,
            task_wf: state.workflow(),
            checklist_text: plan
                .as_ref()
                .map(|p| {
                    p.checklist
                        .iter()
                        .map(|c| format!("{}{}", if c.done { "[x] " } else { "" }, c.item))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default(),
            plan,
            notices: crate::controllers::notices::of_dispute(&state, d.id).await.map_err(err)?,
            may_issue: d.colour == "red" || d.colour == "orange",
            may_plan: !d.state.eq("archived"),
            d,
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
    class: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    to_org: String,
    #[serde(default)]
    held_at: String,
    #[serde(default)]
    mediators: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    agreement: String,
    #[serde(default)]
    people_involved: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    incident_id: String,
    version: Option<i64>,
}

pub async fn transition_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let mut errs = vec![];
    let level = int("level", &f.level, &mut errs);
    let people_involved = int("people_involved", &f.people_involved, &mut errs);
    let amount = int("amount", &f.amount, &mut errs);
    let incident_id = int("incident_id", &f.incident_id, &mut errs);
    if !errs.is_empty() {
        return Err(err(AppError::Validation(errs)));
    }
    let session = if f.action.trim() == "session" {
        Some(
            session_input(super::SessionBody {
                held_at: opt(&f.held_at),
                mediators: f.mediators,
                place: f.place,
                outcome: f.outcome,
                agreement: f.agreement,
            })
            .map_err(err)?,
        )
    } else {
        None
    };
    let input = DisputeAction {
        action: f.action.trim().to_string(),
        note: opt(&f.note),
        class: opt(&f.class),
        level,
        to_org: opt(&f.to_org),
        session,
        session_files: vec![],
        incident_id,
        people_involved,
        amount,
        version: f.version,
    };
    super::step(&state, &cu.user, id, input).await.map_err(err)?;
    Ok(hx_redirect(&format!("/disputes/{id}")))
}

/// A party's full name and phone as a fragment (audited).
pub async fn party_fragment(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path((id, party_id)): Path<(i64, i64)>,
) -> PageResult {
    let err = |e: AppError| PageError::new(&headers, e);
    let p = disputes::reveal_party(state.store.as_ref(), &cu.user, id, party_id, Utc::now())
        .await
        .map_err(|e| err(e.into()))?;
    #[derive(Template)]
    #[template(source = "<span data-testid=\"party-full\">{{ name }} {{ phone }}</span>", ext = "html")]
    struct Full {
        name: String,
        phone: String,
    }
    let phone = match p.id_number {
        Some(id) => format!("{} · {id}", p.phone.unwrap_or_default()),
        None => p.phone.unwrap_or_default(),
    };
    let html = Full { name: p.name, phone }.render().map_err(|e| err(e.into()))?;
    Ok(Html(html).into_response())
}

pub struct FigureRow {
    pub name: String,
    pub screened: i64,
    pub accepted: i64,
    pub resolved: i64,
    pub resolution: String,
    pub on_time: String,
    pub relapse: String,
    pub village: String,
    pub town: String,
    pub county: String,
    pub sent_to_county: String,
}

fn figure_row(name: String, f: &zhufang_domain::dispute::Figures) -> FigureRow {
    FigureRow {
        name,
        screened: f.screened,
        accepted: f.accepted,
        resolved: f.resolved,
        resolution: crate::pages::percent(f.resolution_rate),
        on_time: crate::pages::percent(f.on_time_rate),
        relapse: crate::pages::percent(f.relapse_rate),
        village: crate::pages::percent(f.village_share),
        town: crate::pages::percent(f.town_share),
        county: crate::pages::percent(f.county_share),
        sent_to_county: crate::pages::percent(f.sent_to_county),
    }
}

#[derive(Template)]
#[template(path = "disputes/figures.html")]
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
    let shell = Shell::new(&state, &cu, &headers, "dispute_figures", "dispute.figures").await.map_err(err)?;
    let out = super::figures_for(&state, &cu, &q).await.map_err(err)?;
    let total = figure_row(shell.tr.t("common.total").to_string(), &out.total);
    let tr = shell.tr;
    let chart = crate::pages::share_chart(
        out.rows.iter().map(|g| g.name.clone()).collect(),
        vec![
            (tr.t("dispute.resolution_rate").to_string(), out.rows.iter().map(|g| g.figures.resolution_rate).collect()),
            (tr.t("dispute.on_time_rate").to_string(), out.rows.iter().map(|g| g.figures.on_time_rate).collect()),
            (tr.t("dispute.relapse_rate").to_string(), out.rows.iter().map(|g| g.figures.relapse_rate).collect()),
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

/// Records a session from the page (multipart, with the agreement's files).
pub async fn session_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    mp: axum::extract::Multipart,
) -> PageResult {
    super::session_step(&state, &cu.user, id, mp).await.map_err(|e| PageError::new(&headers, e))?;
    Ok(hx_redirect(&format!("/disputes/{id}")))
}
