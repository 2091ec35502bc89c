//! Application operations: the domain rules applied to stored records.
//! HTTP handlers, the CLI and the demo seeder all go through here.

use crate::model::*;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use zhufang_domain::calendar::WorkCalendar;
use zhufang_domain::grid::{E7, GridCode, GridIndex};
use zhufang_domain::task::{self, PhaseLimits};
use zhufang_domain::workflow::{ActorCtx, Effect, Subject, TransitionError, Workflow};
use zhufang_domain::{Role, Wgs84Point};

/// A field-level validation message (Chinese).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("conflict")]
    Conflict,
    #[error("invalid transition: {action} from {state}")]
    InvalidTransition { state: String, action: String },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict => ServiceError::Conflict,
            other => ServiceError::Store(other),
        }
    }
}

impl ServiceError {
    pub fn field(field: &str, message: &str) -> Self {
        ServiceError::Validation(vec![FieldError::new(field, message)])
    }
}

pub type SResult<T> = Result<T, ServiceError>;

/// The ledger filter that limits a user to what they may see: their org
/// subtree, or (partner agencies) only what was handed to them.
pub fn visibility(user: &User) -> TaskFilter {
    if user.has(Role::PartnerAgency) && !user.roles.iter().any(|r| *r != Role::PartnerAgency) {
        TaskFilter { partner_user: Some(user.id), ..Default::default() }
    } else {
        TaskFilter { scope_path: Some(user.org_path.clone()), ..Default::default() }
    }
}

pub fn can_see(user: &User, t: &Task) -> bool {
    let f = visibility(user);
    match (f.partner_user, f.scope_path) {
        (Some(uid), _) => t.assignee_id == Some(uid),
        (None, Some(p)) => t.org_path.starts_with(&p) || t.assignee_id == Some(user.id),
        _ => false,
    }
}

/// Routes located items to grids: the R-tree index of the domain plus the
/// stored ids. Rebuilt whenever grids change.
pub struct GridRouter {
    index: GridIndex,
    ids: HashMap<GridCode, (i64, i64)>,
    records: HashMap<i64, GridRecord>,
    /// A point inside each grid, to stand for it (address suggestions).
    centres: HashMap<i64, Wgs84Point>,
}

/// Where a point was routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    pub grid_id: i64,
    pub station_id: i64,
}

impl GridRouter {
    pub fn empty() -> Self {
        Self { index: GridIndex::new(vec![]), ids: HashMap::new(), records: HashMap::new(), centres: HashMap::new() }
    }

    /// From stored grids; a grid whose stored geometry no longer parses is
    /// left out (and logged), never silently routed to.
    pub fn from_records(grids: &[GridRecord]) -> Self {
        let mut areas = vec![];
        let mut ids = HashMap::new();
        let mut records = HashMap::new();
        let mut centres = HashMap::new();
        for g in grids {
            let parsed = serde_json::from_str(&g.geometry)
                .map_err(|e| e.to_string())
                .and_then(|v| zhufang_domain::geojson::area_from_geometry(&v));
            match (GridCode::parse(&g.code), parsed) {
                (Ok(code), Ok(area)) => {
                    ids.insert(code.clone(), (g.id, g.station_id));
                    records.insert(g.id, g.clone());
                    if let Some(p) = area.inner_point().and_then(|p| Wgs84Point::new(p.lat(), p.lon()).ok()) {
                        centres.insert(g.id, p);
                    }
                    areas.push((code, area));
                }
                (c, a) => {
                    tracing::error!(grid = %g.code, code_ok = c.is_ok(), geometry = ?a.err(), "grid left out of routing")
                }
            }
        }
        Self { index: GridIndex::new(areas), ids, records, centres }
    }

    /// Every grid routed to.
    pub fn records(&self) -> impl Iterator<Item = &GridRecord> {
        self.records.values()
    }

    /// A point inside the grid (the centre of its box when that is inside).
    pub fn centre(&self, grid_id: i64) -> Option<Wgs84Point> {
        self.centres.get(&grid_id).copied()
    }

    /// The stored grid a routing answer refers to.
    pub fn record(&self, grid_id: i64) -> Option<&GridRecord> {
        self.records.get(&grid_id)
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The nearest grid (by bounding box) for a point outside every grid:
    /// its station's command room takes the unrouted item.
    pub fn nearest(&self, p: Wgs84Point) -> Option<Routed> {
        let code = self.index.nearest(E7::from(p))?;
        self.ids.get(code).map(|(grid_id, station_id)| Routed { grid_id: *grid_id, station_id: *station_id })
    }

    /// Where an item at `p` belongs: its grid (`true`), or outside every
    /// grid the nearest one (`false`), whose station's command room takes it.
    /// None only when there are no grids at all.
    pub fn route(&self, p: Wgs84Point) -> Option<(Routed, bool)> {
        self.locate(p).map(|r| (r, true)).or_else(|| self.nearest(p).map(|r| (r, false)))
    }

    pub fn locate(&self, p: Wgs84Point) -> Option<Routed> {
        let code = self.index.locate(E7::from(p))?;
        self.ids.get(code).map(|(grid_id, station_id)| Routed { grid_id: *grid_id, station_id: *station_id })
    }
}

/// Input for a new task (already parsed at the edge).
#[derive(Debug, Clone)]
pub struct CreateTask {
    pub title: String,
    pub catalogue_code: String,
    pub org_unit: String,
    pub description: Option<String>,
    pub location: Option<Wgs84Point>,
    pub due_at: Option<DateTime<Utc>>,
}

pub async fn create_task(
    store: &dyn Store,
    router: &GridRouter,
    user: &User,
    input: CreateTask,
    now: DateTime<Utc>,
) -> SResult<Task> {
    if !task::may_create(&user.roles) {
        return Err(ServiceError::Forbidden);
    }
    let mut errs: Vec<FieldError> = task::check_new_task(&input.title, input.description.as_deref())
        .into_iter()
        .map(|(f, m)| FieldError::new(f, m))
        .collect();
    match store.catalogue_item(&input.catalogue_code).await? {
        Some(c) if c.active => {}
        Some(_) => errs.push(FieldError::new("catalogue_code", "该任务清单事项已停用")),
        None => errs.push(FieldError::new("catalogue_code", "任务清单中没有该事项")),
    }
    let org = store.org_unit_by_code(&input.org_unit).await?;
    match &org {
        None => errs.push(FieldError::new("org_unit", "没有该单位")),
        Some(o) if !user.covers(&o.path) => errs.push(FieldError::new("org_unit", "该单位不在您的管辖范围内")),
        _ => {}
    }
    if let Some(d) = input.due_at
        && d <= now
    {
        errs.push(FieldError::new("due_at", "截止时间须晚于当前时间"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let org = org.expect("checked above");
    let routed = input.location.and_then(|p| router.route(p));
    Ok(store
        .create_task(&NewTask {
            title: input.title.trim().to_string(),
            description: input.description.unwrap_or_default().trim().to_string(),
            catalogue_code: input.catalogue_code,
            org_unit_id: org.id,
            org_path: org.path,
            lat: input.location.map(|p| p.lat()),
            lon: input.location.map(|p| p.lon()),
            grid_id: routed.filter(|(_, inside)| *inside).map(|(r, _)| r.grid_id),
            station_id: routed.map(|(r, _)| r.station_id),
            due_at: input.due_at,
            creator_id: user.id,
            creator_name: user.display_name.clone(),
            now,
        })
        .await?)
}

/// A task the system schedules on someone's behalf (e.g. a dispute's
/// follow-up visits): created and dispatched at once by `by`, whatever
/// `by`'s own rights, to `assignee`.
#[derive(Debug, Clone)]
pub struct ScheduledTask {
    pub title: String,
    pub description: String,
    pub catalogue_code: String,
    pub org_unit_id: i64,
    pub org_path: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub grid_id: Option<i64>,
    pub station_id: Option<i64>,
    pub due_at: DateTime<Utc>,
    pub assignee: User,
    pub by: User,
    /// Why, for the dispatch event (e.g. {"dispute": "JF…", "day": 7}).
    pub reason: serde_json::Value,
}

/// Creates and dispatches a scheduled task in the task workflow's own
/// dispatch step (its clocks and notice to the assignee). When a deployment's
/// workflow has no dispatch from the initial state, the task stays a draft.
pub async fn schedule_task(
    store: &dyn Store,
    wf: &Workflow,
    cal: &WorkCalendar,
    s: ScheduledTask,
    now: DateTime<Utc>,
) -> SResult<Task> {
    let t = store
        .create_task(&NewTask {
            title: s.title.clone(),
            description: s.description,
            catalogue_code: s.catalogue_code.clone(),
            org_unit_id: s.org_unit_id,
            org_path: s.org_path,
            lat: s.lat,
            lon: s.lon,
            grid_id: s.grid_id,
            station_id: s.station_id,
            due_at: Some(s.due_at),
            creator_id: s.by.id,
            creator_name: s.by.display_name.clone(),
            now,
        })
        .await?;
    let Some(rule) = wf.rules.iter().find(|r| r.from == t.state && r.action == "dispatch") else { return Ok(t) };
    let cat = store.catalogue_item(&t.catalogue_code).await?.ok_or(ServiceError::NotFound)?;
    let limits = PhaseLimits {
        accept_hours: u32::try_from(cat.accept_hours).unwrap_or(24),
        finish_workdays: u32::try_from(cat.finish_workdays).unwrap_or(3),
    };
    let write = TransitionWrite {
        task_id: t.id,
        expected_version: t.version,
        action: rule.action.clone(),
        from_state: t.state.clone(),
        to_state: rule.to.clone(),
        actor_id: s.by.id,
        actor_name: s.by.display_name.clone(),
        now,
        note: None,
        assignee: Some(Some(s.assignee.id)),
        set_dispatcher: true,
        clock: task::next_clock(&rule.effects, t.clock(), now, limits, t.due_at, cal),
        count_rework: false,
        score: None,
        feedback: None,
        report: None,
        attachments: vec![],
        closes: false,
        notifications: vec![NewNotification {
            user_id: s.assignee.id,
            kind: "assigned".into(),
            task_id: Some(t.id),
            message: format!("系统为您安排任务「{}」", s.title),
        }],
        data: serde_json::json!({
            "assignee": {"username": s.assignee.username, "name": s.assignee.display_name},
            "scheduled": s.reason,
        }),
    };
    Ok(store.apply_transition(&write).await?)
}

/// Withdraws a scheduled task that is no longer wanted (e.g. a dispute's
/// follow-up visit after a relapse) as a system step by `by`, with the
/// reason, telling its assignee. A task past the point where it can be
/// cancelled (fed back, evaluated, cancelled) is left as it is: `None`.
pub async fn withdraw_task(
    store: &dyn Store,
    wf: &Workflow,
    t: &Task,
    by: &User,
    reason: &str,
    now: DateTime<Utc>,
) -> SResult<Option<Task>> {
    let Some(rule) = wf.rules.iter().find(|r| r.from == t.state && r.action == "cancel") else { return Ok(None) };
    let notifications = t
        .assignee_id
        .filter(|a| *a != by.id)
        .map(|a| NewNotification {
            user_id: a,
            kind: "cancelled".into(),
            task_id: Some(t.id),
            message: format!("任务「{}」已撤销：{reason}", t.title),
        })
        .into_iter()
        .collect();
    let write = TransitionWrite {
        task_id: t.id,
        expected_version: t.version,
        action: rule.action.clone(),
        from_state: t.state.clone(),
        to_state: rule.to.clone(),
        actor_id: by.id,
        actor_name: by.display_name.clone(),
        now,
        note: Some(reason.to_string()),
        assignee: None,
        set_dispatcher: false,
        clock: None,
        count_rework: false,
        score: None,
        feedback: None,
        report: None,
        attachments: vec![],
        closes: wf.is_terminal(&rule.to),
        notifications,
        data: serde_json::json!({"withdrawn": reason}),
    };
    Ok(Some(store.apply_transition(&write).await?))
}

/// Who goes out to a place of a station: the grid's officer, else `creator`
/// if they work the grid (officer or auxiliary of the station), else the
/// station's first active officer.
pub async fn field_worker(
    store: &dyn Store,
    org_path: &str,
    grid_id: Option<i64>,
    creator_id: Option<i64>,
) -> Result<Option<User>, StoreError> {
    if let Some(gid) = grid_id {
        let grids = store.grids(Some(org_path)).await?;
        if let Some(name) = grids.into_iter().find(|g| g.id == gid).and_then(|g| g.officer)
            && let Some((u, _)) = store.user_by_username(&name).await?
            && u.active
        {
            return Ok(Some(u));
        }
    }
    if let Some(cid) = creator_id
        && let Some(u) = store.user(cid).await?
        && u.active
        && (u.has(Role::CommunityOfficer) || u.has(Role::Auxiliary))
        && u.org_path.starts_with(org_path)
    {
        return Ok(Some(u));
    }
    Ok(store
        .users_with_roles(org_path, &[Role::CommunityOfficer])
        .await?
        .into_iter()
        .find(|u| u.active && u.org_path == org_path))
}

/// Input for a transition (already parsed at the edge).
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    pub action: String,
    pub assignee: Option<String>,
    pub note: Option<String>,
    pub score: Option<i64>,
    /// The version the client saw; when given, a different current version is a conflict.
    pub version: Option<i64>,
    pub location: Option<Wgs84Point>,
    pub attachments: Vec<NewAttachment>,
    /// A patrol's or visit's places, households and problems (with feedback).
    pub report: Option<task::FieldReport>,
}

pub(crate) fn nonempty(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|x| !x.trim().is_empty())
}

/// Why the workflow refused an action, as the service's error; `message`
/// names each missing field for people.
pub(crate) fn refused(e: TransitionError, message: fn(&str) -> &'static str) -> ServiceError {
    match e {
        TransitionError::UnknownAction(a) => ServiceError::field("action", &format!("未知的操作：{a}")),
        TransitionError::InvalidTransition { state, action } => ServiceError::InvalidTransition { state, action },
        TransitionError::Forbidden { .. } | TransitionError::GuardFailed { .. } => ServiceError::Forbidden,
        TransitionError::MissingFields(fs) => ServiceError::Validation(
            fs.into_iter()
                .map(|f| {
                    let m = message(&f);
                    FieldError::new(f, m)
                })
                .collect(),
        ),
    }
}

/// Who may be given a task: someone in the task's branch of the tree
/// (above or below its unit), or a partner agency.
fn may_receive(assignee: &User, t: &Task) -> bool {
    let working = assignee.roles.iter().any(|r| {
        matches!(
            r,
            Role::CommunityOfficer | Role::Auxiliary | Role::StationLeader | Role::CommandRoom | Role::PartnerAgency
        )
    });
    let in_branch = t.org_path.starts_with(&assignee.org_path) || assignee.org_path.starts_with(&t.org_path);
    assignee.active && working && (in_branch || assignee.has(Role::PartnerAgency))
}

pub fn subject(t: &Task) -> Subject<'_> {
    Subject { state: &t.state, assignee: t.assignee_id, dispatcher: t.dispatcher_id, creator: t.creator_id }
}

/// Fires one action on a task: checks jurisdiction, asks the workflow,
/// computes the clock and notices, and writes it all in one transaction.
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    store: &dyn Store,
    wf: &Workflow,
    cal: &WorkCalendar,
    user: &User,
    task_id: i64,
    input: TransitionInput,
    now: DateTime<Utc>,
) -> SResult<Task> {
    let t = store.task(task_id).await?.ok_or(ServiceError::NotFound)?;
    if !can_see(user, &t) {
        return Err(ServiceError::NotFound);
    }
    let mut errs: Vec<FieldError> = task::check_transition_fields(input.note.as_deref(), input.score)
        .into_iter()
        .map(|(f, m)| FieldError::new(f, m))
        .collect();
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    // A client that names the version it saw learns first that it is stale.
    if let Some(v) = input.version
        && v != t.version
    {
        return Err(ServiceError::Conflict);
    }
    let actor = ActorCtx { user_id: user.id, roles: &user.roles };
    let has = |f: &str| match f {
        "assignee" => nonempty(&input.assignee),
        "note" => nonempty(&input.note),
        "score" => input.score.is_some(),
        "location" => input.location.is_some(),
        "photos" => !input.attachments.is_empty(),
        _ => false,
    };
    let rule = wf.decide(&subject(&t), &actor, &input.action, &has).map_err(|e| {
        refused(e, |f| match f {
            "assignee" => "请选择接收人",
            "note" => "请填写说明",
            "score" => "请给出1至5分的评分",
            "photos" => "请上传照片",
            "location" => "请提供位置",
            _ => "此项为必填项",
        })
    })?;

    let mut assignee = None;
    let mut new_assignee: Option<User> = None;
    if rule.effects.contains(&Effect::SetAssignee) {
        let name = input.assignee.as_deref().unwrap_or_default().trim().to_ascii_lowercase();
        match store.user_by_username(&name).await? {
            Some((u, _)) if may_receive(&u, &t) => {
                assignee = Some(Some(u.id));
                new_assignee = Some(u);
            }
            Some(_) => errs.push(FieldError::new("assignee", "该人员不能接收本单位的任务")),
            None => errs.push(FieldError::new("assignee", "没有该用户")),
        }
    } else if rule.effects.contains(&Effect::ClearAssignee) {
        assignee = Some(None);
    }
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let cat = store.catalogue_item(&t.catalogue_code).await?.ok_or(ServiceError::NotFound)?;
    let limits = PhaseLimits {
        accept_hours: u32::try_from(cat.accept_hours).unwrap_or(24),
        finish_workdays: u32::try_from(cat.finish_workdays).unwrap_or(3),
    };
    let clock = task::next_clock(&rule.effects, t.clock(), now, limits, t.due_at, cal);

    let mut notes = vec![];
    let who = &user.display_name;
    let mut notify = |uid: Option<i64>, kind: &str, message: String| {
        if let Some(uid) = uid
            && uid != user.id
        {
            notes.push(NewNotification { user_id: uid, kind: kind.into(), task_id: Some(t.id), message });
        }
    };
    match input.action.as_str() {
        "dispatch" | "reassign" => {
            notify(new_assignee.as_ref().map(|u| u.id), "assigned", format!("{who} 向您派发任务「{}」", t.title));
            if input.action == "reassign" && t.assignee_id != new_assignee.as_ref().map(|u| u.id) {
                notify(t.assignee_id, "reassigned", format!("任务「{}」已改派他人", t.title));
            }
        }
        "refuse" => notify(
            t.dispatcher_id,
            "refused",
            format!("{who} 退回了任务「{}」：{}", t.title, input.note.clone().unwrap_or_default()),
        ),
        "return" => notify(
            t.assignee_id,
            "returned",
            format!("任务「{}」被退回重办：{}", t.title, input.note.clone().unwrap_or_default()),
        ),
        "submit_feedback" => notify(t.dispatcher_id, "feedback", format!("{who} 已反馈任务「{}」，待评价", t.title)),
        "evaluate" => notify(
            t.assignee_id,
            "evaluated",
            format!("任务「{}」已评价：{}分", t.title, input.score.unwrap_or_default()),
        ),
        "cancel" => notify(t.assignee_id, "cancelled", format!("任务「{}」已撤销", t.title)),
        _ => {}
    }

    let report = match input.report.clone().map(task::FieldReport::parse) {
        None => None,
        Some(Err(es)) => {
            return Err(ServiceError::Validation(es.into_iter().map(|(f, m)| FieldError::new(f, m)).collect()));
        }
        Some(Ok(r)) if r.is_empty() => None,
        Some(Ok(r)) if rule.effects.contains(&Effect::RecordFeedback) => Some(r),
        Some(Ok(_)) => return Err(ServiceError::field("report", "只有反馈时可以填写走访巡查情况")),
    };
    let feedback = rule
        .effects
        .contains(&Effect::RecordFeedback)
        .then(|| (input.note.clone().unwrap_or_default(), input.location.map(|p| (p.lat(), p.lon()))));
    let mut data = serde_json::Map::new();
    if let Some(u) = &new_assignee {
        data.insert("assignee".into(), serde_json::json!({"username": u.username, "name": u.display_name}));
    }
    if let Some(s) = input.score {
        data.insert("score".into(), s.into());
    }
    if let Some(p) = input.location {
        data.insert("location".into(), serde_json::json!({"lat": p.lat(), "lon": p.lon()}));
    }
    let write = TransitionWrite {
        task_id: t.id,
        expected_version: t.version,
        action: input.action.clone(),
        from_state: t.state.clone(),
        to_state: rule.to.clone(),
        actor_id: user.id,
        actor_name: user.display_name.clone(),
        now,
        note: input.note.clone().filter(|n| !n.trim().is_empty()),
        assignee,
        set_dispatcher: rule.effects.contains(&Effect::SetAssignee),
        clock,
        count_rework: rule.effects.contains(&Effect::CountRework),
        score: if rule.effects.contains(&Effect::SetScore) { input.score } else { None },
        feedback,
        report,
        attachments: input.attachments,
        closes: wf.is_terminal(&rule.to),
        notifications: notes,
        data: serde_json::Value::Object(data),
    };
    Ok(store.apply_transition(&write).await?)
}

/// Station leaders whose jurisdiction covers a task.
fn leaders_of<'a>(leaders: &'a [User], t: &Task) -> impl Iterator<Item = &'a User> {
    leaders.iter().filter(move |l| l.covers(&t.org_path) && l.org_path.len() > 1)
}

/// Flags tasks that just became due soon or overdue and notifies the
/// assignee (and, when overdue, the leaders). Idempotent: each task is
/// reported once per clock. Returns (due soon, overdue) counts.
pub async fn scan_deadlines(store: &dyn Store, now: DateTime<Utc>) -> Result<(usize, usize), StoreError> {
    let leaders = store.users_with_roles("/", &[Role::StationLeader]).await?;
    let mut soon = 0;
    for t in store.newly_due_soon(now, 500).await? {
        let mut notes = vec![];
        if let Some(uid) = t.assignee_id {
            notes.push(NewNotification {
                user_id: uid,
                kind: "due_soon".into(),
                task_id: Some(t.id),
                message: format!("任务「{}」即将到期", t.title),
            });
        }
        store.mark_reported(t.id, false, now, &notes).await?;
        soon += 1;
    }
    let mut overdue = 0;
    for t in store.newly_overdue(now, 500).await? {
        let mut seen = HashSet::new();
        let mut notes = vec![];
        let mut push = |uid: i64, msg: String| {
            if seen.insert(uid) {
                notes.push(NewNotification { user_id: uid, kind: "overdue".into(), task_id: Some(t.id), message: msg });
            }
        };
        if let Some(uid) = t.assignee_id {
            push(uid, format!("任务「{}」已超期，请尽快处置", t.title));
        }
        for l in leaders_of(&leaders, &t) {
            push(l.id, format!("任务「{}」（{}）已超期", t.title, t.assignee_name.clone().unwrap_or_default()));
        }
        store.mark_reported(t.id, true, now, &notes).await?;
        overdue += 1;
    }
    Ok((soon, overdue))
}

#[derive(Debug, Clone, Serialize)]
pub struct StationGap {
    pub station: String,
    #[serde(flatten)]
    pub gap: zhufang_domain::grid::Gap,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct GridImportReport {
    pub features: usize,
    pub created: usize,
    pub updated: usize,
    /// Pairs of grids of the same station whose areas overlap (reported, not refused).
    pub overlaps: Vec<(String, String)>,
    /// Holes enclosed by a station's grids (reported, not refused), by station code.
    pub gaps: Vec<StationGap>,
    pub dry_run: bool,
    /// Dry run only: the grids as they would be stored (WGS-84), for a preview map.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<serde_json::Value>,
}

/// Imports a GeoJSON FeatureCollection of grids. Every problem — bad JSON,
/// bad codes, invalid rings, self-intersections, unknown stations or people,
/// stations outside the actor's jurisdiction — is reported with its feature
/// index as `features[i]`, and then nothing is written.
pub async fn import_grids(
    store: &dyn Store,
    text: &str,
    datum: zhufang_domain::geojson::Datum,
    actor: Option<&User>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> SResult<GridImportReport> {
    if let Some(u) = actor
        && !u.has(Role::Admin)
    {
        return Err(ServiceError::Forbidden);
    }
    import_checked(store, text, datum, actor, dry_run, now).await
}

/// Changes to one grid from its page or `PUT /api/v1/grids/{id}`.
#[derive(Debug, Clone, Default)]
pub struct GridEdit {
    pub name: String,
    pub kind: String,
    pub village: Option<String>,
    /// Username of the community officer (None = nobody).
    pub officer: Option<String>,
    pub auxiliaries: Vec<String>,
    /// A new GeoJSON geometry (Polygon or MultiPolygon, WGS-84); None keeps the shape.
    pub geometry: Option<serde_json::Value>,
    /// The version the editor saw: a different current version is a conflict.
    pub version: i64,
}

/// The part of the org tree whose grids a user sees: for someone inside a
/// station (a district's officer or auxiliary), the whole station's grids,
/// so the map shows where they are; otherwise their own subtree.
pub async fn grid_scope(store: &dyn Store, user: &User) -> Result<String, StoreError> {
    Ok(station_of(store, &user.org_path).await?.map(|o| o.path).unwrap_or_else(|| user.org_path.clone()))
}

/// The station an org path lies in (a 警务区's station, or the station itself).
pub async fn station_of(store: &dyn Store, path: &str) -> Result<Option<OrgUnit>, StoreError> {
    let units = store.org_units().await?;
    Ok(units.into_iter().filter(|o| o.kind == "station" && path.starts_with(&o.path)).max_by_key(|o| o.path.len()))
}

/// Who may edit a grid: an admin, or a leader of its station.
pub fn may_edit_grid(user: &User, g: &GridRecord) -> bool {
    user.has(Role::Admin) || (user.has(Role::StationLeader) && user.covers(&g.station_path))
}

/// Edits one grid. It goes through the same checks as an import (ring,
/// self-intersection, people), keeps the old version in the grid's history
/// and re-routes located items when the shape changed.
pub async fn edit_grid(
    store: &dyn Store,
    user: &User,
    grid_id: i64,
    edit: GridEdit,
    now: DateTime<Utc>,
) -> SResult<GridImportReport> {
    let g = store.grids(None).await?.into_iter().find(|g| g.id == grid_id).ok_or(ServiceError::NotFound)?;
    if !g.station_path.starts_with(&grid_scope(store, user).await?) {
        return Err(ServiceError::NotFound);
    }
    if !may_edit_grid(user, &g) {
        return Err(ServiceError::Forbidden);
    }
    if edit.version != g.version {
        return Err(ServiceError::Conflict);
    }
    let mut errs = vec![];
    if edit.name.trim().is_empty() || edit.name.chars().count() > 60 {
        errs.push(FieldError::new("name", "网格名称不能为空且不超过60字"));
    }
    if edit.kind.trim().is_empty() {
        errs.push(FieldError::new("kind", "请填写网格类型"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let geometry = match edit.geometry {
        Some(v) => v,
        None => serde_json::from_str(&g.geometry).map_err(|e| StoreError::Invalid(format!("stored geometry: {e}")))?,
    };
    let feature = serde_json::json!({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": geometry,
        "properties": {"code": g.code, "name": edit.name.trim(), "kind": edit.kind.trim(), "station": g.station_code,
            "officer": edit.officer.as_deref().map(str::trim).filter(|s| !s.is_empty()),
            "auxiliaries": edit.auxiliaries.iter().map(|a| a.trim()).filter(|a| !a.is_empty()).collect::<Vec<_>>(),
            "village": edit.village.as_deref().map(str::trim).filter(|s| !s.is_empty())}}]});
    let report =
        import_checked(store, &feature.to_string(), zhufang_domain::geojson::Datum::Wgs84, Some(user), false, now)
            .await
            .map_err(|e| match e {
                // one feature: name the form's field instead of features[0]
                ServiceError::Validation(fs) => ServiceError::Validation(
                    fs.into_iter()
                        .map(|f| {
                            FieldError::new(if f.field == "features[0]" { "geometry" } else { &f.field }, &f.message)
                        })
                        .collect(),
                ),
                e => e,
            })?;
    Ok(report)
}

async fn import_checked(
    store: &dyn Store,
    text: &str,
    datum: zhufang_domain::geojson::Datum,
    actor: Option<&User>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> SResult<GridImportReport> {
    use zhufang_domain::geojson::{self, FeatureError};
    let to_fields = |errs: Vec<FeatureError>| {
        ServiceError::Validation(
            errs.into_iter()
                .map(|e| {
                    FieldError::new(
                        e.index.map(|i| format!("features[{i}]")).unwrap_or_else(|| "file".into()),
                        e.reason,
                    )
                })
                .collect(),
        )
    };
    // Geometry checks are CPU work (a large file takes a while): off the async workers.
    let owned = text.to_string();
    let (features, mut errors) = tokio::task::spawn_blocking(move || geojson::parse_grids_all(&owned, datum))
        .await
        .map_err(|e| StoreError::Invalid(format!("grid import task: {e}")))?
        .map_err(|e| to_fields(vec![e]))?;
    let units: HashMap<String, OrgUnit> = store.org_units().await?.into_iter().map(|o| (o.code.clone(), o)).collect();
    let mut people: HashMap<String, Option<i64>> = HashMap::new();
    let mut grids = vec![];
    for f in &features {
        let mut problems = vec![];
        let station = match units.get(&f.station) {
            Some(o) if o.kind == "station" => match actor {
                Some(u) if !u.covers(&o.path) => {
                    problems.push(format!("派出所 {} 不在您的管辖范围内", f.station));
                    None
                }
                _ => Some(o),
            },
            Some(_) => {
                problems.push(format!("{} 不是派出所", f.station));
                None
            }
            None => {
                problems.push(format!("没有编码为 {} 的派出所", f.station));
                None
            }
        };
        let mut person = async |name: &str| -> Result<Option<i64>, StoreError> {
            if let Some(id) = people.get(name) {
                return Ok(*id);
            }
            let id = store.user_by_username(&name.to_ascii_lowercase()).await?.map(|(u, _)| u.id);
            people.insert(name.to_string(), id);
            Ok(id)
        };
        let officer_id = match &f.officer {
            Some(name) => match person(name).await? {
                Some(id) => Some(id),
                None => {
                    problems.push(format!("没有用户 {name}（责任民警）"));
                    None
                }
            },
            None => None,
        };
        let mut auxiliary_ids = vec![];
        for name in &f.auxiliaries {
            match person(name).await? {
                Some(id) => auxiliary_ids.push(id),
                None => problems.push(format!("没有用户 {name}（辅警）")),
            }
        }
        if !problems.is_empty() {
            errors.extend(problems.into_iter().map(|p| FeatureError { index: Some(f.index), reason: p }));
            continue;
        }
        grids.push(NewGrid {
            code: f.code.to_string(),
            name: f.name.clone(),
            kind: f.kind.clone(),
            station_id: station.expect("checked").id,
            officer_id,
            auxiliary_ids,
            village: f.village.clone(),
            geometry: geojson::geometry(&f.area).to_string(),
            bbox: f.area.bbox(),
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.index);
        return Err(to_fields(errors));
    }
    // Overlaps between siblings: the imported grids together with the stored
    // grids of the same stations that this file does not replace.
    let mut by_station: HashMap<i64, Vec<(GridCode, zhufang_domain::grid::Area)>> = HashMap::new();
    for (f, g) in features.iter().zip(&grids) {
        by_station.entry(g.station_id).or_default().push((f.code.clone(), f.area.clone()));
    }
    let replaced: HashSet<&str> = grids.iter().map(|g| g.code.as_str()).collect();
    let stored = store.grids(None).await?;
    for old in &stored {
        if replaced.contains(old.code.as_str()) {
            continue;
        }
        if let Some(list) = by_station.get_mut(&old.station_id)
            && let (Ok(code), Ok(area)) = (
                GridCode::parse(&old.code),
                serde_json::from_str(&old.geometry)
                    .map_err(|e| e.to_string())
                    .and_then(|v| geojson::area_from_geometry(&v)),
            )
        {
            list.push((code, area));
        }
    }
    let station_code: HashMap<i64, String> = units.values().map(|o| (o.id, o.code.clone())).collect();
    let (mut overlaps, mut gaps) = tokio::task::spawn_blocking(move || {
        let overlaps: Vec<(String, String)> = by_station
            .values()
            .flat_map(|list| {
                zhufang_domain::grid::overlapping_pairs(list)
                    .into_iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let gaps: Vec<StationGap> = by_station
            .iter()
            .flat_map(|(sid, list)| {
                let station = station_code.get(sid).cloned().unwrap_or_default();
                zhufang_domain::grid::gaps(list, 100)
                    .into_iter()
                    .map(move |gap| StationGap { station: station.clone(), gap })
            })
            .collect();
        (overlaps, gaps)
    })
    .await
    .map_err(|e| StoreError::Invalid(format!("grid import task: {e}")))?;
    overlaps.sort();
    gaps.sort_by(|a, b| a.station.cmp(&b.station).then(a.gap.lat.total_cmp(&b.gap.lat)));
    let existing: HashSet<&str> = stored.iter().map(|g| g.code.as_str()).collect();
    let (created, updated) = if dry_run {
        let updated = grids.iter().filter(|g| existing.contains(g.code.as_str())).count();
        (grids.len() - updated, updated)
    } else {
        let (id, name) = actor.map(|u| (Some(u.id), u.display_name.as_str())).unwrap_or((None, "cli"));
        let counts = store.import_grids(&grids, id, name, now).await?;
        // Located items follow the new shapes (see `run_reroute`).
        store.request_job(REROUTE, now).await?;
        counts
    };
    // a dry run hands back the shapes as they will be stored (converted to WGS-84) for the preview map
    let preview = dry_run.then(|| {
        let fs: Vec<serde_json::Value> = features
            .iter()
            .map(|f| {
                zhufang_domain::geojson::feature(
                    serde_json::json!({"index": f.index, "code": f.code.as_str(), "name": f.name}),
                    &f.area,
                )
            })
            .collect();
        serde_json::json!({"type": "FeatureCollection", "features": fs})
    });
    Ok(GridImportReport { features: features.len(), created, updated, overlaps, gaps, dry_run, preview })
}

/// The job that re-routes located items after grids change.
pub const REROUTE: &str = "reroute_items";

/// Runs (or resumes) the re-routing job: every located item gets the grid
/// its point now falls in, or, outside every grid, the nearest station.
/// Each batch saves its cursor with its changes, so a crash loses nothing
/// and a restart goes on from the last batch.
pub async fn run_reroute(
    store: &dyn Store,
    router: &GridRouter,
    progress: &mut (dyn FnMut(&Job) + Send),
) -> Result<Option<Job>, StoreError> {
    let Some(job) = store.job(REROUTE).await? else { return Ok(None) };
    if job.state == "done" {
        return Ok(Some(job));
    }
    let mut cursor = job.cursor_id;
    loop {
        let (rows, total) = store.located_items(cursor, 500).await?;
        let Some(last) = rows.last() else { break };
        let mut batch = RerouteBatch { cursor: last.id, seen: rows.len() as i64, total, moves: vec![] };
        for row in rows {
            let p = Wgs84Point::new(row.lat_e7 as f64 / 1e7, row.lon_e7 as f64 / 1e7).ok();
            let routed = p.and_then(|p| router.route(p));
            let grid_id = routed.filter(|(_, inside)| *inside).map(|(r, _)| r.grid_id);
            let station_id = routed.map(|(r, _)| r.station_id).or(row.station_id);
            if (grid_id, station_id) != (row.grid_id, row.station_id) {
                batch.moves.push(RerouteMove { id: row.id, grid_id, station_id });
            }
        }
        store.reroute_batch(REROUTE, &batch, Utc::now()).await?;
        cursor = batch.cursor;
        if let Some(j) = store.job(REROUTE).await? {
            progress(&j);
        }
    }
    store.finish_job(REROUTE, Utc::now()).await?;
    store.job(REROUTE).await
}
