//! The hazard register's service (除隐患): who sees what, registering (in the
//! field, or from a problem a patrol or visit found), the workflow's steps
//! with the responsible body's sign-for and the recheck, the risk score
//! recomputed on every step and daily (seasons, deadlines), seasonal
//! campaigns that put check tasks on the task loop, and the figures.

use crate::model::*;
use crate::service::{FieldError, GridRouter, ServiceError, grid_scope, nonempty, refused};
use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use zhufang_domain::calendar::{WorkCalendar, local_date, local_instant};
use zhufang_domain::hazard::{self, Risk, RiskFactor, RiskFacts};
use zhufang_domain::workflow::{ActorCtx, Subject, Workflow};
use zhufang_domain::{Role, Wgs84Point};

type SResult<T> = Result<T, ServiceError>;

/// Photos with one step at most.
pub const MAX_PHOTOS: usize = 9;

/// A partner agency sees the hazards it answers for; everyone else the
/// hazards of their stations (the city bureau: all).
pub async fn visibility(store: &dyn Store, user: &User) -> Result<HazardFilter, StoreError> {
    if user.roles.iter().all(|r| *r == Role::PartnerAgency) {
        return Ok(HazardFilter { responsible_path: Some(user.org_path.clone()), ..Default::default() });
    }
    Ok(HazardFilter { scope_path: Some(grid_scope(store, user).await?), ..Default::default() })
}

fn sees(f: &HazardFilter, user: &User, h: &Hazard) -> bool {
    let in_scope = f.scope_path.as_deref().is_some_and(|p| h.org_path.starts_with(p));
    let answers = f
        .responsible_path
        .as_deref()
        .is_some_and(|p| h.responsible_org_path.as_deref().is_some_and(|a| a.starts_with(p)));
    in_scope || answers || h.found_by_id == Some(user.id)
}

/// Loads a hazard the user may see (else not found).
pub async fn load(store: &dyn Store, user: &User, id: i64) -> SResult<Hazard> {
    let h = store.hazard(id).await?.ok_or(ServiceError::NotFound)?;
    let f = visibility(store, user).await?;
    if !sees(&f, user, &h) {
        return Err(ServiceError::NotFound);
    }
    Ok(h)
}

/// Who registers hazards: officers, auxiliaries, leaders, the command room, admins.
pub fn may_register(roles: &[Role]) -> bool {
    crate::disputes::may_register(roles)
}

/// Who edits types, factors and campaigns: leaders and admins.
pub fn may_manage(user: &User) -> bool {
    user.has(Role::StationLeader) || user.has(Role::Admin)
}

/// A hazard as given at the edge.
#[derive(Debug, Clone, Default)]
pub struct CreateHazard {
    pub type_code: String,
    pub description: String,
    pub location: Option<Wgs84Point>,
    pub address: Option<String>,
    pub near_school: bool,
    pub people_affected: Option<i64>,
    /// 1–5; default 3.
    pub likelihood: Option<i64>,
    /// The patrol or visit it was found on.
    pub source_task_id: Option<i64>,
    /// Photos as found, already checked and written.
    pub photos: Vec<NewAttachment>,
}

/// The facts a hazard's score is computed from, as of `now`.
fn facts(h: &Hazard, types: &[HazardType], now: DateTime<Utc>) -> RiskFacts {
    RiskFacts {
        type_code: h.type_code.clone(),
        base_severity: types.iter().find(|t| t.code == h.type_code).map_or(3, |t| t.base_severity),
        likelihood: h.likelihood,
        near_school: h.near_school,
        people_affected: h.people_affected,
        overdue: hazard::is_unrectified(&h.state) && h.deadline_at.is_some_and(|d| now > d),
        day: local_date(now),
    }
}

fn risk_json(r: &Risk) -> serde_json::Value {
    serde_json::to_value(r).unwrap_or_default()
}

async fn station_leaders(store: &dyn Store, org_path: &str) -> SResult<Vec<User>> {
    Ok(store
        .users_with_roles(org_path, &[Role::StationLeader])
        .await?
        .into_iter()
        .filter(|u| u.org_path == org_path)
        .collect())
}

/// The people of one org unit (a responsible body).
async fn org_people(store: &dyn Store, org_id: i64) -> SResult<Vec<User>> {
    let unit = store.org_unit(org_id).await?.ok_or(ServiceError::NotFound)?;
    Ok(store.users_with_roles(&unit.path, &Role::ALL).await?.into_iter().filter(|u| u.org_unit_id == org_id).collect())
}

fn notes(people: &[User], except: i64, kind: &str, message: &str) -> Vec<NewNotification> {
    people
        .iter()
        .filter(|u| u.id != except)
        .map(|u| NewNotification { user_id: u.id, kind: kind.into(), task_id: None, message: message.into() })
        .collect()
}

/// Registers a hazard: parsed, routed to grid and station, scored with the
/// factors that fired; a major one tells the station's leaders.
pub async fn create(
    store: &dyn Store,
    router: &GridRouter,
    user: &User,
    input: CreateHazard,
    now: DateTime<Utc>,
) -> SResult<Hazard> {
    if !may_register(&user.roles) {
        return Err(ServiceError::Forbidden);
    }
    let mut errs = vec![];
    let types = store.hazard_types().await?;
    let code = input.type_code.trim();
    match types.iter().find(|t| t.code == code) {
        Some(t) if t.active => {}
        Some(_) => errs.push(FieldError::new("type_code", "该隐患类型已停用")),
        None => errs.push(FieldError::new("type_code", "没有该隐患类型")),
    }
    let description = input.description.trim().to_string();
    if description.is_empty() || description.chars().count() > 4000 {
        errs.push(FieldError::new("description", "隐患情况不能为空且不超过4000字"));
    }
    let people = input.people_affected.unwrap_or(0);
    if !(0..=10_000_000).contains(&people) {
        errs.push(FieldError::new("people_affected", "影响人数须为0至1000万"));
    }
    let likelihood = input.likelihood.unwrap_or(3);
    if !(1..=5).contains(&likelihood) {
        errs.push(FieldError::new("likelihood", "发生可能性须为1至5"));
    }
    if input.photos.len() > MAX_PHOTOS {
        errs.push(FieldError::new("photos", "照片最多9张"));
    }
    let task = match input.source_task_id {
        None => None,
        Some(tid) => match store.task(tid).await? {
            Some(t) if crate::service::can_see(user, &t) => Some(t),
            _ => {
                errs.push(FieldError::new("source_task_id", "没有该任务，或无权查看"));
                None
            }
        },
    };
    let location = input.location.or_else(|| {
        task.as_ref().and_then(|t| match (t.feedback_lat.or(t.lat), t.feedback_lon.or(t.lon)) {
            (Some(lat), Some(lon)) => Wgs84Point::new(lat, lon).ok(),
            _ => None,
        })
    });
    let routed = location.and_then(|p| router.route(p));
    let station = match (routed, &task) {
        (Some((r, _)), _) => store.org_unit(r.station_id).await?,
        (None, Some(t)) => crate::service::station_of(store, &t.org_path).await?,
        (None, None) => {
            let scope = grid_scope(store, user).await?;
            let found = store.org_units().await?.into_iter().find(|o| o.path == scope && o.kind == "station");
            if found.is_none() {
                errs.push(FieldError::new("location", "请提供位置以确定所属网格和派出所"));
            }
            found
        }
    };
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let station = station.ok_or(ServiceError::NotFound)?;
    let factors = store.hazard_factors().await?;
    let facts = RiskFacts {
        type_code: code.to_string(),
        base_severity: types.iter().find(|t| t.code == code).map_or(3, |t| t.base_severity),
        likelihood,
        near_school: input.near_school,
        people_affected: people,
        overdue: false,
        day: local_date(now),
    };
    let risk = hazard::risk_of(&factors, &facts);
    let notifications = if risk.score >= 60 {
        let message =
            format!("发现重大隐患（风险值{}）：{}", risk.score, description.chars().take(40).collect::<String>());
        notes(&station_leaders(store, &station.path).await?, user.id, "hazard_major", &message)
    } else {
        vec![]
    };
    let h = store
        .create_hazard(&NewHazard {
            type_code: code.to_string(),
            description,
            lat: location.map(|p| p.lat()),
            lon: location.map(|p| p.lon()),
            address: input
                .address
                .map(|a| a.trim().chars().take(200).collect::<String>())
                .filter(|a| !a.is_empty())
                .unwrap_or_default(),
            grid_id: routed.filter(|(_, inside)| *inside).map(|(r, _)| r.grid_id),
            station_id: station.id,
            org_path: station.path.clone(),
            near_school: input.near_school,
            people_affected: people,
            likelihood,
            risk_score: risk.score,
            risk: risk_json(&risk),
            source_task_id: task.map(|t| t.id),
            photos: input.photos,
            found_by_id: user.id,
            found_by_name: user.display_name.clone(),
            notifications,
            now,
        })
        .await?;
    Ok(h)
}

/// One action on a hazard (parsed at the edge).
#[derive(Debug, Clone, Default)]
pub struct HazardAction {
    pub action: String,
    pub note: Option<String>,
    /// The responsible body's org code (assign): a station or a partner agency.
    pub responsible: Option<String>,
    /// The rectification deadline (assign, extend): a Beijing date, end of day.
    pub deadline: Option<NaiveDate>,
    /// Photos with the step: (before | after, file), already written.
    pub photos: Vec<(String, NewAttachment)>,
    pub version: Option<i64>,
}

/// Whether `user` answers for the hazard: a member of its responsible body (or an admin).
fn answers_for(user: &User, h: &Hazard) -> bool {
    user.has(Role::Admin) || h.responsible_org_path.as_deref().is_some_and(|p| user.org_path.starts_with(p))
}

/// Carries out one action: the workflow decides; the responsible body alone
/// signs for, returns or reports it rectified; the score is recomputed; the
/// people concerned are told.
pub async fn transition(
    store: &dyn Store,
    wf: &Workflow,
    user: &User,
    id: i64,
    input: HazardAction,
    now: DateTime<Utc>,
) -> SResult<Hazard> {
    let h = load(store, user, id).await?;
    if let Some(v) = input.version
        && v != h.version
    {
        return Err(ServiceError::Conflict);
    }
    let subject = Subject { state: &h.state, assignee: None, dispatcher: None, creator: h.found_by_id };
    let actor = ActorCtx { user_id: user.id, roles: &user.roles };
    let has = |f: &str| match f {
        "note" => nonempty(&input.note),
        "responsible" => nonempty(&input.responsible),
        "deadline" => input.deadline.is_some(),
        _ => false,
    };
    let rule = wf.decide(&subject, &actor, &input.action, &has).map_err(|e| {
        refused(e, |f| match f {
            "note" => "请填写说明",
            "responsible" => "请选择整改责任单位",
            "deadline" => "请填写整改期限",
            _ => "必填",
        })
    })?;
    let mut errs = vec![];
    let note = input.note.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if note.as_deref().is_some_and(|n| n.chars().count() > 4000) {
        errs.push(FieldError::new("note", "说明不超过4000字"));
    }
    if input.photos.len() > MAX_PHOTOS {
        errs.push(FieldError::new("photos", "照片最多9张"));
    }
    let mut w = HazardWrite {
        hazard_id: h.id,
        expected_version: h.version,
        action: rule.action.clone(),
        from_state: h.state.clone(),
        to_state: rule.to.clone(),
        actor_id: user.id,
        actor_name: user.display_name.clone(),
        now,
        note,
        photos: input.photos.clone(),
        ..Default::default()
    };
    let deadline_at = |d: NaiveDate, errs: &mut Vec<FieldError>| {
        if d < local_date(now) {
            errs.push(FieldError::new("deadline", "整改期限不能早于今天"));
        }
        d.succ_opt().map(|next| local_instant(next, chrono::NaiveTime::MIN) - chrono::Duration::milliseconds(1))
    };
    let mut people: Vec<User> = vec![];
    let mut message = String::new();
    let what = format!("隐患 {}（{}）", h.number, h.type_name);
    match rule.action.as_str() {
        "assign" => {
            let code = input.responsible.as_deref().unwrap_or_default().trim();
            match store.org_unit_by_code(code).await? {
                Some(o) if o.kind == "station" || o.kind == "agency" => {
                    w.responsible_org_id = Some(o.id);
                    people = org_people(store, o.id).await?;
                    if o.kind == "station" {
                        people.retain(|u| u.has(Role::StationLeader) || u.has(Role::CommunityOfficer));
                    }
                }
                Some(_) => errs.push(FieldError::new("responsible", "责任单位须为派出所或协作部门")),
                None => errs.push(FieldError::new("responsible", "没有该单位")),
            }
            w.deadline_at = input.deadline.and_then(|d| deadline_at(d, &mut errs));
            message = format!("{what}已交办贵单位整改，请签收：{}", h.description.chars().take(40).collect::<String>());
        }
        "extend" => {
            let new = input.deadline.and_then(|d| deadline_at(d, &mut errs));
            if let (Some(new), Some(old)) = (new, h.deadline_at)
                && new <= old
            {
                errs.push(FieldError::new("deadline", "延期后的期限须晚于原期限"));
            }
            w.deadline_at = new;
            if let Some(o) = h.responsible_org_id {
                people = org_people(store, o).await?;
            }
            message = format!("{what}整改期限已延至{}", input.deadline.map(|d| d.to_string()).unwrap_or_default());
        }
        "sign_for" | "return" | "rectify" => {
            if !answers_for(user, &h) {
                return Err(ServiceError::Forbidden);
            }
            if rule.action == "rectify" && w.photos.iter().any(|(p, _)| p != "after") {
                errs.push(FieldError::new("photos", "整改完成时上传的是整改后照片"));
            }
            people = station_leaders(store, &h.org_path).await?;
            if let Some(f) = h.found_by_id
                && let Some(u) = store.user(f).await?
            {
                people.push(u);
            }
            message = match rule.action.as_str() {
                "sign_for" => format!("{what}已由{}签收整改", h.responsible_org_name.clone().unwrap_or_default()),
                "return" => format!("{what}被责任单位退回：{}", w.note.clone().unwrap_or_default()),
                _ => format!("{what}已整改完成，请复查"),
            };
        }
        "recheck_fail" => {
            w.failed_recheck = true;
            if let Some(o) = h.responsible_org_id {
                people = org_people(store, o).await?;
            }
            message = format!("{what}复查不合格，请继续整改：{}", w.note.clone().unwrap_or_default());
        }
        _ => {}
    }
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    people.sort_by_key(|u| u.id);
    people.dedup_by_key(|u| u.id);
    if !message.is_empty() {
        w.notifications = notes(&people, user.id, "hazard", &message);
    }
    // the score after this step (a new deadline, rectified or not)
    let mut next = h.clone();
    next.state = w.to_state.clone();
    if w.deadline_at.is_some() {
        next.deadline_at = w.deadline_at;
    }
    if rule.action == "return" {
        next.deadline_at = None;
    }
    let types = store.hazard_types().await?;
    let risk = hazard::risk_of(&store.hazard_factors().await?, &facts(&next, &types, now));
    w.risk_score = risk.score;
    w.risk = risk_json(&risk);
    Ok(store.apply_hazard_transition(&w).await?)
}

/// Raises every hazard that just went past its rectification deadline
/// unrectified with the responsible body and the station's leaders — once
/// per deadline (an extension clears it). Returns how many were raised.
pub async fn scan_overdue(store: &dyn Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let late = store.late_hazards(now).await?;
    for h in &late {
        let mut people = store
            .users_with_roles(&h.org_path, &[Role::StationLeader])
            .await?
            .into_iter()
            .filter(|u| u.org_path == h.org_path)
            .collect::<Vec<_>>();
        if let Some(o) = h.responsible_org_id
            && let Some(unit) = store.org_unit(o).await?
        {
            people.extend(
                store.users_with_roles(&unit.path, &Role::ALL).await?.into_iter().filter(|u| u.org_unit_id == o),
            );
        }
        people.sort_by_key(|u| u.id);
        people.dedup_by_key(|u| u.id);
        let deadline = h.deadline_at.map(|d| local_date(d).to_string()).unwrap_or_default();
        let message = format!(
            "隐患 {}（{}）已超过整改期限（{deadline}）仍未整改完毕：{}",
            h.number,
            h.type_name,
            h.description.chars().take(40).collect::<String>()
        );
        let notes: Vec<NewNotification> = people
            .iter()
            .map(|u| NewNotification {
                user_id: u.id,
                kind: "hazard_overdue".into(),
                task_id: None,
                message: message.clone(),
            })
            .collect();
        store.mark_hazard_overdue(h.id, now, &notes).await?;
    }
    Ok(late.len())
}

/// Recomputes the score of every hazard not closed (a season began or ended,
/// a deadline passed, a factor or type was edited); returns how many changed.
pub async fn rescore(store: &dyn Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let types = store.hazard_types().await?;
    let factors = store.hazard_factors().await?;
    let f = HazardFilter { open_only: true, ..Default::default() };
    let mut changed = vec![];
    let mut page = 1;
    loop {
        let p = store.list_hazards(&f, PageReq::new(Some(page), Some(200))).await?;
        for h in &p.items {
            let r = hazard::risk_of(&factors, &facts(h, &types, now));
            let v = risk_json(&r);
            if r.score != h.risk_score || v != h.risk {
                changed.push((h.id, r.score, v));
            }
        }
        if p.items.len() < 200 {
            break;
        }
        page += 1;
    }
    store.set_hazard_risks(&changed).await?;
    Ok(changed.len())
}

/// The current factors checked and stored; every hazard is rescored.
pub async fn replace_factors(
    store: &dyn Store,
    user: &User,
    factors: Vec<RiskFactor>,
    now: DateTime<Utc>,
) -> SResult<usize> {
    if !user.has(Role::Admin) {
        return Err(ServiceError::Forbidden);
    }
    hazard::check_factors(&factors).map_err(|m| ServiceError::field("factors", &m))?;
    let before = store.hazard_factors().await?;
    let ev = zhufang_domain::audit::AuditEvent::new(
        Some(user.id),
        &user.display_name,
        "hazard_factors",
        "all",
        "replace",
        Some(&serde_json::to_value(&before).unwrap_or_default()),
        Some(&serde_json::to_value(&factors).unwrap_or_default()),
    );
    store.replace_hazard_factors(&factors, now, &ev).await?;
    Ok(rescore(store, now).await?)
}

/// Adds or changes a type; every hazard is rescored (its base severity may have changed).
pub async fn save_type(store: &dyn Store, user: &User, t: HazardType, now: DateTime<Utc>) -> SResult<HazardType> {
    if !user.has(Role::Admin) {
        return Err(ServiceError::Forbidden);
    }
    let mut errs = vec![];
    if t.code.len() != 2 || !t.code.chars().all(|c| c.is_ascii_digit()) {
        errs.push(FieldError::new("code", "类型代码须为两位数字"));
    }
    if t.name.trim().is_empty() || t.name.chars().count() > 30 {
        errs.push(FieldError::new("name", "类型名称不能为空且不超过30字"));
    }
    if !(1..=5).contains(&t.base_severity) {
        errs.push(FieldError::new("base_severity", "基础严重程度须为1至5"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let t = HazardType { name: t.name.trim().to_string(), ..t };
    let before = store.hazard_types().await?.into_iter().find(|x| x.code == t.code);
    let ev = zhufang_domain::audit::AuditEvent::new(
        Some(user.id),
        &user.display_name,
        "hazard_type",
        &t.code,
        if before.is_some() { "update" } else { "create" },
        before.map(|b| serde_json::to_value(b).unwrap_or_default()).as_ref(),
        Some(&serde_json::to_value(&t).unwrap_or_default()),
    );
    store.upsert_hazard_type(&t, now, &ev).await?;
    rescore(store, now).await?;
    Ok(t)
}

/// Figures of a group (a station, grid, type or month).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FigureGroup {
    pub key: String,
    pub name: String,
    pub figures: hazard::Figures,
}

/// The figures in all and per group: `by` is station, grid, type or month.
pub fn grouped_figures(rows: &[HazardStatRow], by: &str, now: DateTime<Utc>) -> (hazard::Figures, Vec<FigureGroup>) {
    let now_ms = now.timestamp_millis();
    let all: Vec<hazard::Stat> = rows.iter().map(|r| r.stat.clone()).collect();
    let mut groups: std::collections::BTreeMap<String, (String, Vec<hazard::Stat>)> = Default::default();
    for r in rows {
        let (key, name) = match by {
            "grid" => match (r.grid_id, &r.grid_name) {
                (Some(id), Some(n)) => (format!("{id:08}"), n.clone()),
                _ => ("~".into(), "网格外".into()),
            },
            "type" => (r.type_code.clone(), r.type_name.clone()),
            "month" => {
                let d = local_date(crate::model::from_ms(r.stat.found_at));
                let m = d.format("%Y-%m").to_string();
                (m.clone(), m)
            }
            _ => (format!("{:08}", r.station_id), r.station_name.clone()),
        };
        groups.entry(key).or_insert_with(|| (name, vec![])).1.push(r.stat.clone());
    }
    (
        hazard::figures(&all, now_ms),
        groups
            .into_iter()
            .map(|(key, (name, v))| FigureGroup { key, name, figures: hazard::figures(&v, now_ms) })
            .collect(),
    )
}

/// A campaign as given at the edge.
#[derive(Debug, Clone, Default)]
pub struct CampaignInput {
    pub name: String,
    pub type_codes: Vec<String>,
    /// The org unit whose hazards are checked (default: the caller's station, or the whole city for the bureau).
    pub org_code: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

/// The catalogue item campaign checks are scheduled as (seeded by migration 0019).
pub const CHECK_ITEM: &str = "ZF-YH-JC";

/// What a campaign made: its id and the check tasks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CampaignReport {
    pub id: i64,
    pub task_ids: Vec<i64>,
    /// Hazards in scope without anyone to send (no grid officer, no station officer).
    pub unassigned: Vec<String>,
}

/// Starts a campaign: one check task (due the campaign's last day) for every
/// hazard of the chosen types in scope that is not closed, sent to the
/// grid's officer on the task loop.
pub async fn start_campaign(
    store: &dyn Store,
    task_wf: &Workflow,
    cal: &WorkCalendar,
    user: &User,
    input: CampaignInput,
    now: DateTime<Utc>,
) -> SResult<CampaignReport> {
    if !may_manage(user) {
        return Err(ServiceError::Forbidden);
    }
    let mut errs = vec![];
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 60 {
        errs.push(FieldError::new("name", "专项行动名称不能为空且不超过60字"));
    }
    let types = store.hazard_types().await?;
    let mut codes: Vec<String> = input.type_codes.iter().map(|c| c.trim().to_string()).collect();
    codes.sort();
    codes.dedup();
    if codes.is_empty() {
        errs.push(FieldError::new("type_codes", "请至少选择一种隐患类型"));
    } else if let Some(bad) = codes.iter().find(|c| !types.iter().any(|t| &t.code == *c)) {
        errs.push(FieldError::new("type_codes", format!("没有隐患类型“{bad}”")));
    }
    let today = local_date(now);
    let starts_on = input.starts_on.unwrap_or(today);
    let ends_on = input.ends_on.unwrap_or(starts_on + chrono::Days::new(30));
    if ends_on < starts_on || ends_on < today {
        errs.push(FieldError::new("ends_on", "结束日期不能早于开始日期或今天"));
    }
    let own = grid_scope(store, user).await?;
    let org = match input.org_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => match store.org_unit_by_code(code).await? {
            Some(o) if o.path.starts_with(&own) => Some(o),
            Some(_) => {
                errs.push(FieldError::new("org_code", "只能在本单位辖区内开展专项行动"));
                None
            }
            None => {
                errs.push(FieldError::new("org_code", "没有该单位"));
                None
            }
        },
        None => store.org_units().await?.into_iter().find(|o| o.path == own),
    };
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let org = org.ok_or(ServiceError::NotFound)?;
    if store.catalogue_item(CHECK_ITEM).await?.is_none_or(|c| !c.active) {
        return Err(ServiceError::field("type_codes", "“隐患专项检查”事项已停用，无法生成检查任务"));
    }
    let ev = zhufang_domain::audit::AuditEvent::new(
        Some(user.id),
        &user.display_name,
        "hazard_campaign",
        0,
        "create",
        None,
        Some(&serde_json::json!({"name": name, "types": codes, "org": org.code, "from": starts_on, "to": ends_on})),
    );
    let id = store
        .create_campaign(
            &NewCampaign {
                name: name.clone(),
                type_codes: codes.clone(),
                org_id: org.id,
                org_path: org.path.clone(),
                starts_on,
                ends_on,
                by_id: user.id,
                by_name: user.display_name.clone(),
                now,
            },
            &ev,
        )
        .await?;
    let f =
        HazardFilter { scope_path: Some(org.path.clone()), open_only: true, type_codes: codes, ..Default::default() };
    let mut report = CampaignReport { id, task_ids: vec![], unassigned: vec![] };
    let mut page = 1;
    let mut hazards = vec![];
    loop {
        let p = store.list_hazards(&f, PageReq::new(Some(page), Some(200))).await?;
        let n = p.items.len();
        hazards.extend(p.items);
        if n < 200 {
            break;
        }
        page += 1;
    }
    let due = local_instant(ends_on, chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default());
    for h in hazards {
        let Some(assignee) = crate::service::field_worker(store, &h.org_path, h.grid_id, h.found_by_id).await? else {
            report.unassigned.push(h.number.clone());
            continue;
        };
        let t = crate::service::schedule_task(
            store,
            task_wf,
            cal,
            crate::service::ScheduledTask {
                title: format!("{name}：检查{} {}", h.type_name, h.number),
                description: format!(
                    "专项行动“{name}”（{starts_on}至{ends_on}）。请到隐患点位实地检查：{}（{}）。\
                     核对警示标志、防护设施和整改情况，拍照反馈；隐患详情见 /hazards/{}。",
                    h.description.chars().take(80).collect::<String>(),
                    if h.address.is_empty() { "见地图" } else { &h.address },
                    h.id
                ),
                catalogue_code: CHECK_ITEM.into(),
                org_unit_id: h.station_id,
                org_path: h.org_path.clone(),
                lat: h.lat,
                lon: h.lon,
                grid_id: h.grid_id,
                station_id: Some(h.station_id),
                due_at: due.max(now + chrono::Duration::hours(1)),
                assignee,
                by: user.clone(),
                reason: serde_json::json!({"campaign": id, "hazard": h.number}),
            },
            now,
        )
        .await?;
        store.link_campaign_check(id, h.id, t.id).await?;
        report.task_ids.push(t.id);
    }
    Ok(report)
}

/// A campaign's checks with its completion: (checks, done, overdue).
pub fn campaign_progress(checks: &[CampaignCheck], ends_on: NaiveDate, now: DateTime<Utc>) -> (usize, usize, usize) {
    let done = checks.iter().filter(|c| c.feedback_at.is_some()).count();
    let late = if local_date(now) > ends_on { checks.len() - done } else { 0 };
    (checks.len(), done, late)
}
