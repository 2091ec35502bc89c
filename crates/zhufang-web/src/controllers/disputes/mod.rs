//! The dispute ledger's JSON API (矛盾纠纷): register (from the field or from
//! an incident), list, show, the workflow's steps (accept with ABC class,
//! mediate, record sessions, escalate and sign for, settle, follow up,
//! relapse, archive), audited reads of the parties, and the editable
//! categories, classes and colour rules.

pub mod export;
pub mod pages;

use crate::auth::CurrentUser;
use crate::controllers::incidents::LocationBody;
use crate::controllers::{ApiJson, parse_day_start, parse_location, parse_time};
use crate::error::{ApiResult, AppError};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhufang_domain::Role;
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::dispute::ColourRule;
use zhufang_store::disputes::{self, CreateDispute, DisputeAction, PartyInput};
use zhufang_store::model::{
    Dispute, DisputeCategory, DisputeClass, DisputeEscalation, DisputeEvent, DisputeParty, DisputeSession,
    NewMediation, PageReq,
};

#[derive(Deserialize, ToSchema)]
pub struct PartyBody {
    /// applicant (申请人) or respondent (被申请人).
    pub side: String,
    /// natural (自然人), legal (法人) or organisation (非法人组织).
    pub kind: String,
    pub name: String,
    pub phone: Option<String>,
    /// Only where the deployment keeps ID numbers (`dispute_id_numbers`); refused otherwise.
    pub id_number: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateDisputeBody {
    pub title: String,
    pub description: String,
    /// A code of `GET /api/v1/dispute-categories` (01 婚姻家庭 … 17 互联网, 99 其他).
    pub category_code: String,
    /// home_visit, patrol, public_report, self_report, transferred, grid_report or other.
    pub source: String,
    pub location: Option<LocationBody>,
    pub address: Option<String>,
    #[serde(default)]
    pub parties: Vec<PartyBody>,
    /// Default: the number of parties.
    pub people_involved: Option<i64>,
    /// Money at stake, yuan.
    pub amount: Option<i64>,
    /// The incident it comes from (its place is used when no location is given).
    pub incident_id: Option<i64>,
}

/// A dispute with its parties (masked), sessions, escalations, timeline and
/// the actions open to the caller. `colour` and `fired_rules` are in it.
#[derive(Serialize, ToSchema)]
pub struct DisputeOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub dispute: Dispute,
    #[schema(value_type = Vec<Object>)]
    pub parties: Vec<DisputeParty>,
    #[schema(value_type = Vec<Object>)]
    pub sessions: Vec<DisputeSession>,
    #[schema(value_type = Vec<Object>)]
    pub escalations: Vec<DisputeEscalation>,
    #[schema(value_type = Vec<Object>)]
    pub timeline: Vec<DisputeEvent>,
    pub incident_ids: Vec<i64>,
    /// Follow-up visits scheduled on the task loop after a settlement.
    pub follow_ups: Vec<FollowUpOut>,
    pub actions: Vec<crate::controllers::incidents::ActionOut>,
}

#[derive(Serialize, ToSchema)]
pub struct FollowUpOut {
    pub day: i64,
    pub task_id: i64,
    pub number: String,
    pub state: String,
    pub assignee_name: Option<String>,
    pub due_at: Option<chrono::DateTime<Utc>>,
}

pub(crate) async fn follow_ups(state: &AppState, dispute_id: i64) -> Result<Vec<FollowUpOut>, AppError> {
    let mut out = vec![];
    for (day, task_id) in state.store.dispute_follow_ups(dispute_id).await? {
        if let Some(t) = state.store.task(task_id).await? {
            out.push(FollowUpOut {
                day,
                task_id,
                number: t.number,
                state: t.state,
                assignee_name: t.assignee_name,
                due_at: t.due_at,
            });
        }
    }
    Ok(out)
}

pub(crate) async fn out(state: &AppState, cu: &CurrentUser, d: Dispute) -> Result<DisputeOut, AppError> {
    let wf = state.store.workflow(zhufang_domain::dispute::WORKFLOW).await?;
    let subject = zhufang_domain::workflow::Subject {
        state: &d.state,
        assignee: d.assignee_id,
        dispatcher: None,
        creator: d.creator_id,
    };
    let actor = zhufang_domain::workflow::ActorCtx { user_id: cu.user.id, roles: &cu.user.roles };
    let escalations = state.store.dispute_escalations(d.id).await?;
    let unsigned = escalations.iter().any(|e| e.signed_at.is_none());
    let actions = wf
        .available(&subject, &actor)
        .into_iter()
        .filter(|r| r.action != "sign_for" || unsigned)
        .map(|r| crate::controllers::incidents::ActionOut {
            action: r.action.clone(),
            label: r.label_zh.clone(),
            to: r.to.clone(),
            required: r.required.clone(),
        })
        .collect();
    Ok(DisputeOut {
        parties: state.store.dispute_parties(d.id).await?,
        sessions: state.store.dispute_sessions(d.id).await?,
        escalations,
        timeline: state.store.dispute_timeline(d.id).await?,
        incident_ids: state.store.dispute_incident_ids(d.id).await?,
        follow_ups: follow_ups(state, d.id).await?,
        actions,
        dispute: d,
    })
}

pub(crate) fn create_input(b: CreateDisputeBody, id_numbers_on: bool) -> Result<CreateDispute, AppError> {
    let mut errs = vec![];
    let location = b.location.and_then(|l| parse_location(Some(l.lat), Some(l.lon), &mut errs));
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(CreateDispute {
        title: b.title,
        description: b.description,
        category_code: b.category_code,
        source: b.source,
        location,
        address: b.address,
        parties: b
            .parties
            .into_iter()
            .map(|p| PartyInput { side: p.side, kind: p.kind, name: p.name, phone: p.phone, id_number: p.id_number })
            .collect(),
        people_involved: b.people_involved,
        amount: b.amount,
        incident_id: b.incident_id,
        id_numbers_on,
    })
}

/// Registers a dispute: routed to grid and station, coloured by the rules
/// (with the rules that fired), its parties stored with phones masked.
#[utoipa::path(post, path = "/api/v1/disputes", request_body = CreateDisputeBody, tag = "disputes",
    responses((status = 201, body = DisputeOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<CreateDisputeBody>,
) -> ApiResult<(StatusCode, Json<DisputeOut>)> {
    let input = create_input(b, state.cfg.party_id_numbers)?;
    let router = state.router();
    let d = disputes::create(state.store.as_ref(), &router, &cu.user, input, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(out(&state, &cu, d).await?)))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    pub state: Option<String>,
    /// blue, yellow, orange or red.
    pub colour: Option<String>,
    pub category: Option<String>,
    /// A, B or C.
    pub class: Option<String>,
    /// 1 村(社区), 2 乡镇(街道), 3 县(区).
    pub level: Option<String>,
    /// Registered from (date, Beijing).
    pub from: Option<String>,
    /// Registered up to (date = end of that day).
    pub to: Option<String>,
    /// Number, title, description or address contains.
    pub q: Option<String>,
    /// true: the warning board (red and orange, open, oldest first).
    pub board: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl ListQuery {
    pub async fn to_filter(
        &self,
        state: &AppState,
        cu: &CurrentUser,
    ) -> Result<zhufang_store::model::DisputeFilter, AppError> {
        let mut f = disputes::visibility(state.store.as_ref(), &cu.user).await?;
        let some = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        f.state = some(&self.state);
        f.colour = match some(&self.colour) {
            Some(c) if zhufang_domain::dispute::Colour::parse(&c).is_none() => {
                return Err(AppError::field("colour", "须为 blue、yellow、orange 或 red"));
            }
            c => c,
        };
        f.category = some(&self.category);
        f.class = some(&self.class);
        f.level = match some(&self.level) {
            None => None,
            Some(l) => Some(
                l.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=3).contains(n))
                    .ok_or_else(|| AppError::field("level", "须为1、2或3"))?,
            ),
        };
        f.q = some(&self.q);
        if let Some(s) = some(&self.from) {
            f.from = Some(parse_day_start("from", &s)?);
        }
        if let Some(s) = some(&self.to) {
            f.to = Some(parse_time("to", &s)?);
        }
        f.board = matches!(some(&self.board).as_deref(), Some("true" | "1"));
        Ok(f)
    }
}

#[derive(Serialize, ToSchema)]
pub struct DisputePage {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Dispute>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// The ledger: disputes the caller may see, newest first (or the warning board).
#[utoipa::path(get, path = "/api/v1/disputes", params(ListQuery), tag = "disputes", responses((status = 200, body = DisputePage)))]
pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<DisputePage>> {
    let f = q.to_filter(&state, &cu).await?;
    let page = state.store.list_disputes(&f, PageReq::new(q.page, q.per_page)).await?;
    Ok(Json(DisputePage { items: page.items, total: page.total, page: page.page, per_page: page.per_page }))
}

/// One dispute with its parties (masked), sessions, escalations and timeline.
#[utoipa::path(get, path = "/api/v1/disputes/{id}", tag = "disputes", responses((status = 200, body = DisputeOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(State(state): State<AppState>, cu: CurrentUser, Path(id): Path<i64>) -> ApiResult<Json<DisputeOut>> {
    let d = disputes::load(state.store.as_ref(), &cu.user, id).await?;
    Ok(Json(out(&state, &cu, d).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct SessionBody {
    /// When it was held (RFC 3339 or Beijing local `YYYY-MM-DDTHH:MM`); default now.
    pub held_at: Option<String>,
    pub mediators: String,
    #[serde(default)]
    pub place: String,
    /// settled, partial, failed or adjourned.
    pub outcome: String,
    /// The agreement's text (调解协议).
    #[serde(default)]
    pub agreement: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ActionBody {
    /// accept, start, session, succeed, terminate, transfer, confirm, follow,
    /// retry, escalate, sign_for, update, relapse, archive.
    pub action: String,
    pub note: Option<String>,
    /// A, B or C (accept).
    pub class: Option<String>,
    /// 2 乡镇(街道) or 3 县(区) (escalate; default the next level).
    pub level: Option<i64>,
    /// The receiving body's org code (escalate), e.g. a 司法所.
    pub to_org: Option<String>,
    pub session: Option<SessionBody>,
    /// An incident to link (update).
    pub incident_id: Option<i64>,
    pub people_involved: Option<i64>,
    pub amount: Option<i64>,
    /// The version you read (409 `conflict` if it changed since).
    pub version: Option<i64>,
}

pub(crate) fn session_input(s: SessionBody) -> Result<NewMediation, AppError> {
    let held_at = match s.held_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(t) => parse_time("session.held_at", t)?,
        None => Utc::now(),
    };
    Ok(NewMediation {
        held_at,
        mediators: s.mediators.trim().to_string(),
        place: s.place.trim().to_string(),
        outcome: s.outcome.trim().to_string(),
        agreement: s.agreement.trim().to_string(),
    })
}

/// One step of the dispute's workflow; the colour is recomputed (a rise tells the leaders).
#[utoipa::path(post, path = "/api/v1/disputes/{id}/transitions", request_body = ActionBody, tag = "disputes",
    responses((status = 200, body = DisputeOut), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn transition(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ActionBody>,
) -> ApiResult<Json<DisputeOut>> {
    let input = DisputeAction {
        action: b.action.trim().to_string(),
        note: b.note,
        class: b.class,
        level: b.level,
        to_org: b.to_org,
        session: b.session.map(session_input).transpose()?,
        session_files: vec![],
        incident_id: b.incident_id,
        people_involved: b.people_involved,
        amount: b.amount,
        version: b.version,
    };
    let d = step(&state, &cu.user, id, input).await?;
    Ok(Json(out(&state, &cu, d).await?))
}

/// One step of a dispute by `user`, with the workflows and calendar it needs.
pub(crate) async fn step(
    state: &AppState,
    user: &zhufang_store::model::User,
    id: i64,
    input: DisputeAction,
) -> Result<Dispute, AppError> {
    let wf = state.store.workflow(zhufang_domain::dispute::WORKFLOW).await?;
    let flows = disputes::Flows { dispute: &wf, task: &state.workflow(), cal: &state.calendar() };
    Ok(disputes::transition(state.store.as_ref(), &flows, user, id, input, Utc::now()).await?)
}

/// A session from a multipart form as one step; its files are removed
/// again when the step is refused.
pub(crate) async fn session_step(
    state: &AppState,
    user: &zhufang_store::model::User,
    id: i64,
    mp: axum::extract::Multipart,
) -> Result<Dispute, AppError> {
    let (input, files) = session_from_multipart(state, mp).await?;
    let r = step(state, user, id, input).await;
    if r.is_err() {
        crate::upload::discard(state, &files).await;
    }
    r
}

#[derive(Serialize, ToSchema)]
pub struct PartyOut {
    pub id: i64,
    pub side: String,
    pub kind: String,
    pub name: String,
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

/// A party's full name and phone (leaders, the command room, officers,
/// receiving agencies, admins); every read is written to the audit log.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/parties/{party_id}", tag = "disputes", responses((status = 200, body = PartyOut), (status = 403, body = crate::error::ErrorBody)))]
pub async fn party(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path((id, party_id)): Path<(i64, i64)>,
) -> ApiResult<Json<PartyOut>> {
    let p = disputes::reveal_party(state.store.as_ref(), &cu.user, id, party_id, Utc::now()).await?;
    Ok(Json(PartyOut { id: p.id, side: p.side, kind: p.kind, name: p.name, phone: p.phone, id_number: p.id_number }))
}

/// The dispute categories (17 named + 其他).
#[utoipa::path(get, path = "/api/v1/dispute-categories", tag = "disputes", responses((status = 200, body = Vec<Object>)))]
pub async fn categories(State(state): State<AppState>, _cu: CurrentUser) -> ApiResult<Json<Vec<DisputeCategory>>> {
    Ok(Json(state.store.dispute_categories().await?))
}

/// The ABC classes and their definitions.
#[utoipa::path(get, path = "/api/v1/dispute-classes", tag = "disputes", responses((status = 200, body = Vec<Object>)))]
pub async fn classes(State(state): State<AppState>, _cu: CurrentUser) -> ApiResult<Json<Vec<DisputeClass>>> {
    Ok(Json(state.store.dispute_classes().await?))
}

/// The colour rules, in order (each: id, name, colour, when {kind, …}).
#[utoipa::path(get, path = "/api/v1/dispute-rules", tag = "disputes", responses((status = 200, body = Vec<Object>)))]
pub async fn rules(State(state): State<AppState>, _cu: CurrentUser) -> ApiResult<Json<Vec<ColourRule>>> {
    Ok(Json(state.store.dispute_rules().await?))
}

/// Replaces the colour rules (admin); checked, audited. Disputes take the new
/// rules at their next change.
#[utoipa::path(put, path = "/api/v1/dispute-rules", request_body = Vec<Object>, tag = "disputes",
    responses((status = 200, body = Vec<Object>), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace_rules(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(rules): ApiJson<Vec<ColourRule>>,
) -> ApiResult<Json<Vec<ColourRule>>> {
    if !cu.user.has(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    zhufang_domain::dispute::check_rules(&rules).map_err(|m| AppError::field("rules", &m))?;
    let before = state.store.dispute_rules().await?;
    let ev = AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "dispute_rules",
        "all",
        "update",
        serde_json::to_value(&before).ok().as_ref(),
        serde_json::to_value(&rules).ok().as_ref(),
    );
    state.store.replace_dispute_rules(&rules, Utc::now(), &ev).await?;
    Ok(Json(rules))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct FiguresQuery {
    /// station (default), grid, category, colour or class.
    pub by: Option<String>,
    /// Registered from (date, Beijing).
    pub from: Option<String>,
    /// Registered up to (date = end of that day).
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FiguresOut {
    pub by: String,
    #[schema(value_type = Object)]
    pub total: zhufang_domain::dispute::Figures,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<disputes::FigureGroup>,
}

pub(crate) async fn figures_for(state: &AppState, cu: &CurrentUser, q: &FiguresQuery) -> Result<FiguresOut, AppError> {
    let by = q.by.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("station");
    if !disputes::FIGURE_GROUPS.contains(&by) {
        return Err(AppError::field("by", "须为 station、grid、category、colour 或 class"));
    }
    let lq = ListQuery { from: q.from.clone(), to: q.to.clone(), ..Default::default() };
    let f = lq.to_filter(state, cu).await?;
    let rows = state.store.dispute_stats(&f).await?;
    let (total, rows) = disputes::grouped_figures(&rows, by, &state.calendar());
    Ok(FiguresOut { by: by.to_string(), total, rows })
}

/// The ledger's figures: screened, accepted, resolved, resolution, on-time
/// and relapse rates, and the shares settled at village, town and county
/// level — in total and by station, grid, category, colour or class.
#[utoipa::path(get, path = "/api/v1/disputes/figures", params(FiguresQuery), tag = "disputes", responses((status = 200, body = FiguresOut)))]
pub async fn figures(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<FiguresQuery>,
) -> ApiResult<Json<FiguresOut>> {
    Ok(Json(figures_for(&state, &cu, &q).await?))
}

/// A session as a multipart form: its text fields, and `agreement_file`
/// files (the signed agreement: PDF or scans), checked by content and stored.
pub(crate) async fn session_from_multipart(
    state: &AppState,
    mut mp: axum::extract::Multipart,
) -> Result<(DisputeAction, Vec<zhufang_store::model::NewAttachment>), AppError> {
    let mut b = SessionBody {
        held_at: None,
        mediators: String::new(),
        place: String::new(),
        outcome: String::new(),
        agreement: String::new(),
    };
    let (mut note, mut version) = (None, None);
    let mut files = vec![];
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest("表单数据不完整".into())
        }
    };
    let read: Result<(), AppError> = async {
        while let Some(field) = mp.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_string();
            if name == "agreement_file" {
                let fname = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(bad)?;
                if bytes.is_empty() && fname.is_empty() {
                    continue;
                }
                if files.len() >= 5 {
                    return Err(AppError::field("agreement_file", "每次调解最多附5个文件"));
                }
                files.push(crate::upload::save_document(state, "agreement_file", &fname, &bytes).await?);
                continue;
            }
            let text = field.text().await.map_err(bad)?;
            match name.as_str() {
                "held_at" => b.held_at = Some(text).filter(|t| !t.trim().is_empty()),
                "mediators" => b.mediators = text,
                "place" => b.place = text,
                "outcome" => b.outcome = text,
                "agreement" => b.agreement = text,
                "note" => note = Some(text).filter(|t| !t.trim().is_empty()),
                "version" => version = text.trim().parse().ok(),
                _ => {}
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = read {
        crate::upload::discard(state, &files).await;
        return Err(e);
    }
    let session = match session_input(b) {
        Ok(s) => s,
        Err(e) => {
            crate::upload::discard(state, &files).await;
            return Err(e);
        }
    };
    let input = DisputeAction {
        action: "session".into(),
        note,
        session: Some(session),
        session_files: files.clone(),
        version,
        ..Default::default()
    };
    Ok((input, files))
}

/// Records a mediation session with its signed agreement attached
/// (multipart: held_at, mediators, place, outcome, agreement, version, and
/// up to 5 `agreement_file` files — PDF, JPEG, PNG or WebP, checked by content).
#[utoipa::path(post, path = "/api/v1/disputes/{id}/sessions", tag = "disputes",
    responses((status = 200, body = DisputeOut), (status = 415, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn session_upload(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    mp: axum::extract::Multipart,
) -> ApiResult<Json<DisputeOut>> {
    let d = session_step(&state, &cu.user, id, mp).await?;
    Ok(Json(out(&state, &cu, d).await?))
}

/// A dispute's file (a signed agreement), for those who may see the dispute.
#[utoipa::path(get, path = "/api/v1/dispute-files/{id}", tag = "disputes", responses((status = 200, description = "the file"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn file(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<axum::response::Response> {
    let f = state.store.dispute_file(id).await?.ok_or(AppError::NotFound)?;
    disputes::load(state.store.as_ref(), &cu.user, f.dispute_id).await?;
    crate::controllers::files::serve(&state, &f.stored_name, &f.content_type, &format!("agreement-{}", f.id)).await
}
