//! The dispute ledger's service (矛盾纠纷排查化解): who sees what, registering
//! (from the field or from an incident), the steps of the workflow with
//! escalation and sign-for, mediation sessions, the colour recomputed from the
//! facts on every change (a rise tells the station's leaders), and audited
//! reads of the parties' names and phones.

use crate::model::*;
use crate::service::{FieldError, GridRouter, ServiceError, grid_scope, nonempty, refused};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use zhufang_domain::calendar::WorkCalendar;
use zhufang_domain::dispute::{self, Colour, ColourRule, Facts, Level, PartyKind, Side, Source};
use zhufang_domain::workflow::{ActorCtx, Subject, Workflow};
use zhufang_domain::{PhoneNumber, Role, Wgs84Point};

type SResult<T> = Result<T, ServiceError>;

/// Dispute-type incidents within this many metres of a dispute count toward its colour.
pub const NEARBY_METRES: f64 = 200.0;

/// A partner agency sees the disputes escalated to it; everyone else the
/// disputes of their stations (the city bureau: all).
pub async fn visibility(store: &dyn Store, user: &User) -> Result<DisputeFilter, StoreError> {
    if user.roles.iter().all(|r| *r == Role::PartnerAgency) {
        return Ok(DisputeFilter { level_org_path: Some(user.org_path.clone()), ..Default::default() });
    }
    Ok(DisputeFilter { scope_path: Some(grid_scope(store, user).await?), ..Default::default() })
}

fn sees(f: &DisputeFilter, user: &User, d: &Dispute) -> bool {
    let in_scope = f.scope_path.as_deref().is_some_and(|p| d.org_path.starts_with(p));
    let receiving =
        f.level_org_path.as_deref().is_some_and(|p| d.level_org_path.as_deref().is_some_and(|a| a.starts_with(p)));
    in_scope || receiving || d.creator_id == Some(user.id)
}

/// Loads a dispute the user may see (else not found).
pub async fn load(store: &dyn Store, user: &User, id: i64) -> SResult<Dispute> {
    let d = store.dispute(id).await?.ok_or(ServiceError::NotFound)?;
    let f = visibility(store, user).await?;
    if !sees(&f, user, &d) {
        return Err(ServiceError::NotFound);
    }
    Ok(d)
}

/// Who registers disputes: officers, auxiliaries (grid workers), leaders, the command room, admins.
pub fn may_register(roles: &[Role]) -> bool {
    roles.iter().any(|r| {
        matches!(r, Role::CommunityOfficer | Role::Auxiliary | Role::StationLeader | Role::CommandRoom | Role::Admin)
    })
}

/// A party as given at the edge.
#[derive(Debug, Clone, Default)]
pub struct PartyInput {
    pub side: String,
    pub kind: String,
    pub name: String,
    pub phone: Option<String>,
    /// Refused unless the deployment keeps ID numbers.
    pub id_number: Option<String>,
}

/// A new dispute as parsed at the edge.
#[derive(Debug, Clone, Default)]
pub struct CreateDispute {
    pub title: String,
    pub description: String,
    pub category_code: String,
    pub source: String,
    pub location: Option<Wgs84Point>,
    pub address: Option<String>,
    pub parties: Vec<PartyInput>,
    pub people_involved: Option<i64>,
    pub amount: Option<i64>,
    /// The incident it comes from (its place is used when none is given).
    pub incident_id: Option<i64>,
    /// The deployment keeps parties' ID numbers (`dispute_id_numbers`); off by default.
    pub id_numbers_on: bool,
}

fn parties(input: &[PartyInput], id_numbers_on: bool, errs: &mut Vec<FieldError>) -> Vec<NewParty> {
    if input.len() > 50 {
        errs.push(FieldError::new("parties", "当事人不超过50个"));
        return vec![];
    }
    let mut out = Vec::with_capacity(input.len());
    for (i, p) in input.iter().enumerate() {
        let field = |f: &str| format!("parties[{i}].{f}");
        let side = Side::parse(p.side.trim());
        if side.is_none() {
            errs.push(FieldError::new(field("side"), "须为 applicant（申请人）或 respondent（被申请人）"));
        }
        let kind = PartyKind::parse(p.kind.trim());
        if kind.is_none() {
            errs.push(FieldError::new(
                field("kind"),
                "须为 natural（自然人）、legal（法人）或 organisation（非法人组织）",
            ));
        }
        let name = p.name.trim();
        if name.is_empty() || name.chars().count() > 50 {
            errs.push(FieldError::new(field("name"), "姓名或名称不能为空且不超过50字"));
        }
        let phone = match p.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match PhoneNumber::parse(s) {
                Ok(ph) => Some(ph.as_str().to_string()),
                Err(e) => {
                    errs.push(FieldError::new(field("phone"), e.message));
                    None
                }
            },
        };
        let id_number = match p.id_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(_) if !id_numbers_on => {
                errs.push(FieldError::new(field("id_number"), "本系统未启用身份证号字段，请勿填写"));
                None
            }
            Some(_) if kind != Some(PartyKind::Natural) => {
                errs.push(FieldError::new(field("id_number"), "只有自然人填写身份证号"));
                None
            }
            Some(s) => match zhufang_domain::IdNumber::parse(s) {
                Ok(id) => Some(id.as_str().to_string()),
                Err(e) => {
                    errs.push(FieldError::new(field("id_number"), e.message));
                    None
                }
            },
        };
        if let (Some(side), Some(kind)) = (side, kind) {
            out.push(NewParty {
                side: side.as_str().into(),
                kind: kind.as_str().into(),
                name: name.to_string(),
                phone,
                id_number,
            });
        }
    }
    out
}

fn check_counts(people: Option<i64>, amount: Option<i64>, errs: &mut Vec<FieldError>) {
    if people.is_some_and(|n| !(0..=100_000).contains(&n)) {
        errs.push(FieldError::new("people_involved", "涉及人数须为0至100000"));
    }
    if amount.is_some_and(|n| !(0..=1_000_000_000_000).contains(&n)) {
        errs.push(FieldError::new("amount", "涉及金额须为0至1万亿元"));
    }
}

/// The colour of a dispute from its facts, by the deployment's rules.
fn colour(rules: &[ColourRule], facts: &Facts) -> (Colour, serde_json::Value) {
    let (c, fired) = dispute::colour_of(rules, facts);
    (c, serde_json::to_value(fired).unwrap_or_default())
}

/// Registers a dispute: parsed, routed to grid and station, coloured, with its parties.
pub async fn create(
    store: &dyn Store,
    router: &GridRouter,
    user: &User,
    input: CreateDispute,
    now: DateTime<Utc>,
) -> SResult<Dispute> {
    if !may_register(&user.roles) {
        return Err(ServiceError::Forbidden);
    }
    let mut errs = vec![];
    let title = input.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 100 {
        errs.push(FieldError::new("title", "标题不能为空且不超过100字"));
    }
    let description = input.description.trim().to_string();
    if description.is_empty() || description.chars().count() > 4000 {
        errs.push(FieldError::new("description", "纠纷情况不能为空且不超过4000字"));
    }
    let categories = store.dispute_categories().await?;
    let category = input.category_code.trim();
    match categories.iter().find(|c| c.code == category) {
        Some(c) if c.active => {}
        Some(_) => errs.push(FieldError::new("category_code", "该纠纷类别已停用")),
        None => errs.push(FieldError::new("category_code", "没有该纠纷类别")),
    }
    let source = Source::parse(input.source.trim());
    if source.is_none() {
        errs.push(FieldError::new(
            "source",
            "来源须为 home_visit、patrol、public_report、self_report、transferred、grid_report 或 other",
        ));
    }
    let parties = parties(&input.parties, input.id_numbers_on, &mut errs);
    check_counts(input.people_involved, input.amount, &mut errs);
    let incident = match input.incident_id {
        None => None,
        Some(id) => match crate::incidents::load(store, user, id).await {
            Ok(i) => Some(i),
            Err(ServiceError::NotFound) => {
                errs.push(FieldError::new("incident_id", "没有该警情，或无权查看"));
                None
            }
            Err(e) => return Err(e),
        },
    };
    let location = input.location.or_else(|| {
        incident.as_ref().and_then(|i| match (i.lat, i.lon) {
            (Some(lat), Some(lon)) => Wgs84Point::new(lat, lon).ok(),
            _ => None,
        })
    });
    let routed = location.and_then(|p| router.route(p));
    let station = match (routed, &incident) {
        (Some((r, _)), _) => store.org_unit(r.station_id).await?,
        (None, Some(i)) => store.org_unit(i.station_id).await?,
        (None, None) => {
            let scope = grid_scope(store, user).await?;
            let found = store.org_units().await?.into_iter().find(|o| o.path == scope && o.kind == "station");
            if found.is_none() {
                errs.push(FieldError::new("location", "请提供位置（或关联警情）以确定所属派出所"));
            }
            found
        }
    };
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let station = station.ok_or(ServiceError::NotFound)?;
    let people_involved = input.people_involved.unwrap_or(parties.len() as i64);
    let amount = input.amount.unwrap_or(0);
    let times = store
        .dispute_incident_times(&DisputeIncidentQuery {
            dispute_id: None,
            incident_ids: incident.iter().map(|i| i.id).collect(),
            phones: parties.iter().filter_map(|p| p.phone.clone()).collect(),
            near: location.map(|p| (p.lat(), p.lon(), NEARBY_METRES)),
        })
        .await?;
    let facts = Facts {
        category: category.to_string(),
        people_involved,
        amount,
        incident_times: times,
        notes: vec![title.clone(), description.clone()],
        opened_at: now.timestamp_millis(),
        failed_mediations: 0,
        now: now.timestamp_millis(),
    };
    let rules = store.dispute_rules().await?;
    let (c, fired) = colour(&rules, &facts);
    let notify_user_ids = if c >= Colour::Orange {
        store
            .users_with_roles(&station.path, &[Role::StationLeader])
            .await?
            .into_iter()
            .filter(|u| u.org_path == station.path)
            .map(|u| u.id)
            .collect()
    } else {
        vec![]
    };
    let d = store
        .create_dispute(&NewDispute {
            title,
            description,
            category_code: category.to_string(),
            source: source.expect("checked").as_str().to_string(),
            lat: location.map(|p| p.lat()),
            lon: location.map(|p| p.lon()),
            address: input
                .address
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .or_else(|| incident.as_ref().map(|i| i.address.clone()))
                .unwrap_or_default(),
            grid_id: routed.filter(|(_, inside)| *inside).map(|(r, _)| r.grid_id),
            station_id: station.id,
            org_path: station.path.clone(),
            people_involved,
            amount,
            parties,
            incident_id: incident.map(|i| i.id),
            colour: c.as_str().to_string(),
            fired_rules: fired,
            notify_user_ids,
            creator_id: user.id,
            creator_name: user.display_name.clone(),
            now,
        })
        .await?;
    Ok(d)
}

/// One action on a dispute (parsed at the edge).
#[derive(Debug, Clone, Default)]
pub struct DisputeAction {
    pub action: String,
    pub note: Option<String>,
    /// A, B or C (accept).
    pub class: Option<String>,
    /// The level to escalate to (2 乡镇, 3 县); default the next one.
    pub level: Option<i64>,
    /// The receiving body's org code (escalate).
    pub to_org: Option<String>,
    /// A mediation session (session).
    pub session: Option<NewMediation>,
    /// Its agreement's files, already checked and written (session).
    pub session_files: Vec<NewAttachment>,
    /// An incident to link (update).
    pub incident_id: Option<i64>,
    pub people_involved: Option<i64>,
    pub amount: Option<i64>,
    pub version: Option<i64>,
}

/// Session outcomes: settled, partial, failed, adjourned.
pub const OUTCOMES: [(&str, &str); 4] =
    [("settled", "达成协议"), ("partial", "部分达成"), ("failed", "调解未成"), ("adjourned", "择期再调")];

/// The workflows and calendar a dispute step needs: its own, and the task
/// loop's for the follow-up visits a settlement schedules.
pub struct Flows<'a> {
    pub dispute: &'a Workflow,
    pub task: &'a Workflow,
    pub cal: &'a WorkCalendar,
}

/// Carries out one action: the workflow decides; the facts change; the
/// colour is recomputed with the rules that fired; a rise tells the leaders;
/// a settlement schedules the follow-up visits (day 7 and 30) as tasks.
pub async fn transition(
    store: &dyn Store,
    flows: &Flows<'_>,
    user: &User,
    id: i64,
    input: DisputeAction,
    now: DateTime<Utc>,
) -> SResult<Dispute> {
    let wf = flows.dispute;
    let d = load(store, user, id).await?;
    let subject = Subject { state: &d.state, assignee: d.assignee_id, dispatcher: None, creator: d.creator_id };
    let actor = ActorCtx { user_id: user.id, roles: &user.roles };
    let has = |f: &str| match f {
        "note" => nonempty(&input.note),
        "class" => nonempty(&input.class),
        "level" => input.level.is_some() || nonempty(&input.to_org),
        "session" => input.session.is_some(),
        _ => false,
    };
    let rule = wf.decide(&subject, &actor, &input.action, &has).map_err(|e| {
        refused(e, |f| match f {
            "note" => "请填写说明",
            "class" => "请选择ABC分类",
            "level" => "请选择上报层级或接收单位",
            "session" => "请填写调解记录",
            _ => "必填",
        })
    })?;
    let mut errs = vec![];
    let mut w = DisputeWrite {
        dispute_id: d.id,
        expected_version: input.version.unwrap_or(d.version),
        action: rule.action.clone(),
        from_state: d.state.clone(),
        to_state: rule.to.clone(),
        actor_id: user.id,
        actor_name: user.display_name.clone(),
        now,
        note: input.note.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
        ..Default::default()
    };
    if w.note.as_deref().is_some_and(|n| n.chars().count() > 4000) {
        errs.push(FieldError::new("note", "说明不超过4000字"));
    }
    w.closes = wf.state(&rule.to).is_some_and(|x| x.terminal);
    match rule.action.as_str() {
        "accept" => {
            let class = input.class.as_deref().map(str::trim).unwrap_or("");
            let classes = store.dispute_classes().await?;
            if !classes.iter().any(|c| c.code == class) {
                errs.push(FieldError::new("class", "须为A、B或C"));
            }
            w.class = Some(class.to_string());
            w.accepted = true;
            // C is county business from the start, B the town's; never lower than it is
            let by_class = match class {
                "C" => Level::County,
                "B" => Level::Town,
                _ => Level::Village,
            };
            if by_class.as_i64() > d.level {
                w.set_level = Some(by_class.as_i64());
            }
        }
        "escalate" => {
            let current = Level::from_i64(d.level).unwrap_or(Level::Village);
            let to = match input.level {
                Some(l) => Level::from_i64(l),
                None => current.next(),
            };
            match to {
                Some(to) if to > current => {
                    let org = match input.to_org.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                        None => None,
                        Some(code) => match store.org_unit_by_code(code).await? {
                            Some(o) => Some(o),
                            None => {
                                errs.push(FieldError::new("to_org", "没有该接收单位"));
                                None
                            }
                        },
                    };
                    w.escalate_to = Some((to.as_i64(), org.map(|o| o.id)));
                }
                _ => errs.push(FieldError::new("level", "只能向上一级或更高层级上报（县级为最高）")),
            }
        }
        "sign_for" => {
            let open = store.dispute_escalations(d.id).await?.into_iter().rev().find(|e| e.signed_at.is_none());
            match open {
                None => errs.push(FieldError::new("action", "没有待签收的上报")),
                Some(e) => {
                    // the receiving body's people, or the station's leaders when none was named
                    let receiver = match e.to_org_id {
                        Some(org) => user.org_unit_id == org || user.has(Role::Admin),
                        None => user.has(Role::StationLeader) || user.has(Role::Admin),
                    };
                    if !receiver {
                        return Err(ServiceError::Forbidden);
                    }
                    w.sign_escalation = true;
                }
            }
        }
        "session" => {
            let s = input.session.clone().expect("required");
            if s.mediators.trim().is_empty() || s.mediators.chars().count() > 200 {
                errs.push(FieldError::new("session.mediators", "请填写调解员（不超过200字）"));
            }
            if !OUTCOMES.iter().any(|(o, _)| *o == s.outcome) {
                errs.push(FieldError::new("session.outcome", "结果须为 settled、partial、failed 或 adjourned"));
            }
            if s.held_at > now + chrono::Duration::minutes(5) {
                errs.push(FieldError::new("session.held_at", "调解时间不能晚于当前时间"));
            }
            if s.agreement.chars().count() > 8000 || s.place.chars().count() > 200 {
                errs.push(FieldError::new("session.agreement", "协议内容不超过8000字，地点不超过200字"));
            }
            if input.session_files.len() > 5 {
                errs.push(FieldError::new("agreement_file", "每次调解最多附5个文件"));
            }
            w.failed = s.outcome == "failed";
            w.session = Some(s);
            w.session_files = input.session_files.clone();
        }
        "terminate" => w.failed = true,
        "succeed" => w.settled = true,
        "relapse" => w.relapse = true,
        _ if !input.session_files.is_empty() => {
            errs.push(FieldError::new("agreement_file", "只有记录调解时可以附协议文件"))
        }
        "update" => {
            check_counts(input.people_involved, input.amount, &mut errs);
            w.people_involved = input.people_involved;
            w.amount = input.amount;
            if let Some(iid) = input.incident_id {
                match crate::incidents::load(store, user, iid).await {
                    Ok(i) => w.link_incident = Some(i.id),
                    Err(ServiceError::NotFound) => errs.push(FieldError::new("incident_id", "没有该警情，或无权查看")),
                    Err(e) => return Err(e),
                }
            }
        }
        _ => {}
    }
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    // the facts after this step, and the colour they give
    let parties = store.dispute_parties(d.id).await?;
    let mut notes = vec![d.title.clone(), d.description.clone()];
    notes.extend(store.dispute_notes(d.id).await?);
    notes.extend(w.note.clone());
    notes.extend(w.session.as_ref().map(|s| s.agreement.clone()).filter(|a| !a.is_empty()));
    let times = store
        .dispute_incident_times(&DisputeIncidentQuery {
            dispute_id: Some(d.id),
            incident_ids: w.link_incident.into_iter().collect(),
            phones: parties.iter().filter_map(|p| p.phone.clone()).collect(),
            near: d.lat.zip(d.lon).map(|(lat, lon)| (lat, lon, NEARBY_METRES)),
        })
        .await?;
    let facts = Facts {
        category: d.category_code.clone(),
        people_involved: w.people_involved.unwrap_or(d.people_involved),
        amount: w.amount.unwrap_or(d.amount),
        incident_times: times,
        notes,
        opened_at: d.created_at.timestamp_millis(),
        failed_mediations: d.failed_mediations + i64::from(w.failed),
        now: now.timestamp_millis(),
    };
    let rules = store.dispute_rules().await?;
    let (c, fired) = colour(&rules, &facts);
    let before = Colour::parse(&d.colour).unwrap_or(Colour::Blue);
    // who hears about it: the receiving body on an escalation; the leaders on a rise
    if let Some((level, org)) = w.escalate_to
        && rule.action == "escalate"
    {
        let lv = Level::from_i64(level).map(|l| l.label_zh()).unwrap_or("");
        let mut people = match org {
            Some(o) => {
                let unit = store.org_unit(o).await?.ok_or(ServiceError::NotFound)?;
                store
                    .users_with_roles(&unit.path, &Role::ALL)
                    .await?
                    .into_iter()
                    .filter(|u| u.org_unit_id == o)
                    .collect()
            }
            None => vec![],
        };
        people.extend(
            store
                .users_with_roles(&d.org_path, &[Role::StationLeader])
                .await?
                .into_iter()
                .filter(|u| u.org_path == d.org_path),
        );
        w.notifications.extend(people.iter().map(|u| NewNotification {
            user_id: u.id,
            kind: "dispute_escalated".into(),
            task_id: None,
            message: format!(
                "矛盾纠纷 {}「{}」已上报至{}，请签收：{}",
                d.number,
                d.title,
                lv,
                w.note.clone().unwrap_or_default()
            ),
        }));
    }
    if c > before {
        w.notifications.extend(leader_notes(store, &d, c).await?);
    }
    let after = store.apply_dispute_transition(&w, c.as_str(), &fired).await?;
    if w.settled {
        schedule_follow_ups(store, flows, user, &after, now).await?;
    }
    if w.relapse {
        // the visits after the settlement that relapsed are moot; a new settlement schedules its own
        let reason = format!("矛盾纠纷 {} 复发，重新调处，原回访取消", after.number);
        for (_, task_id) in store.dispute_follow_ups(after.id).await? {
            if let Some(t) = store.task(task_id).await? {
                crate::service::withdraw_task(store, flows.task, &t, user, &reason, now).await?;
            }
        }
    }
    Ok(after)
}

/// The catalogue item follow-up visits are scheduled as (seeded by migration 0013).
pub const FOLLOW_UP_ITEM: &str = "ZF-MD-HF";

/// Who visits: the grid's officer, else whoever registered it if they work
/// the grid, else the station's first officer.
async fn visitor(store: &dyn Store, d: &Dispute) -> SResult<Option<User>> {
    Ok(crate::service::field_worker(store, &d.org_path, d.grid_id, d.creator_id).await?)
}

async fn schedule_follow_ups(
    store: &dyn Store,
    flows: &Flows<'_>,
    by: &User,
    d: &Dispute,
    now: DateTime<Utc>,
) -> SResult<()> {
    if store.catalogue_item(FOLLOW_UP_ITEM).await?.is_none_or(|c| !c.active) {
        return Ok(());
    }
    let Some(assignee) = visitor(store, d).await? else { return Ok(()) };
    for day in dispute::FOLLOW_UP_DAYS {
        let t = crate::service::schedule_task(
            store,
            flows.task,
            flows.cal,
            crate::service::ScheduledTask {
                title: format!("纠纷回访（第{day}天）：{} {}", d.number, d.title),
                description: format!(
                    "矛盾纠纷 {}「{}」已调解成功。请在调解后第{day}天上门或电话回访，了解协议履行情况和当事人情绪变化；\
                     如有反复，在纠纷台账（/disputes/{}）中点“复发重启”。",
                    d.number, d.title, d.id
                ),
                catalogue_code: FOLLOW_UP_ITEM.into(),
                org_unit_id: d.station_id,
                org_path: d.org_path.clone(),
                lat: d.lat,
                lon: d.lon,
                grid_id: d.grid_id,
                station_id: Some(d.station_id),
                due_at: now + chrono::Duration::days(day),
                assignee: assignee.clone(),
                by: by.clone(),
                reason: serde_json::json!({"dispute": d.number, "day": day}),
            },
            now,
        )
        .await?;
        store.link_dispute_follow_up(d.id, t.id, day).await?;
    }
    Ok(())
}

async fn leader_notes(store: &dyn Store, d: &Dispute, c: Colour) -> SResult<Vec<NewNotification>> {
    let leaders = store.users_with_roles(&d.org_path, &[Role::StationLeader]).await?;
    Ok(leaders
        .iter()
        .filter(|u| u.org_path == d.org_path)
        .map(|u| NewNotification {
            user_id: u.id,
            kind: "dispute_colour".into(),
            task_id: None,
            message: format!("矛盾纠纷 {}「{}」预警升为{}", d.number, d.title, c.label_zh()),
        })
        .collect())
}

/// A party's full name and phone, for those who may see them (leaders,
/// the command room, officers of the station, admins); every read is audited.
pub async fn reveal_party(
    store: &dyn Store,
    user: &User,
    id: i64,
    party_id: i64,
    now: DateTime<Utc>,
) -> SResult<DisputeParty> {
    let d = load(store, user, id).await?;
    if !user.roles.iter().any(|r| {
        matches!(
            r,
            Role::CommandRoom | Role::StationLeader | Role::CommunityOfficer | Role::Admin | Role::PartnerAgency
        )
    }) {
        return Err(ServiceError::Forbidden);
    }
    let p = store.dispute_parties(d.id).await?.into_iter().find(|p| p.id == party_id).ok_or(ServiceError::NotFound)?;
    let ev = zhufang_domain::audit::AuditEvent::new(
        Some(user.id),
        &user.display_name,
        "dispute",
        d.id,
        &format!("read_personal:party:{party_id}"),
        None,
        None,
    );
    store.audit(&ev, now).await?;
    Ok(p)
}

/// How the figures are grouped.
pub const FIGURE_GROUPS: [&str; 5] = ["station", "grid", "category", "colour", "class"];

/// One group of the figures: its key, name and figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FigureGroup {
    pub key: String,
    pub name: String,
    pub figures: dispute::Figures,
}

/// The figures over `rows`, in total and by `by` (one of [`FIGURE_GROUPS`]),
/// groups in key order.
pub fn grouped_figures(
    rows: &[DisputeStatRow],
    by: &str,
    cal: &zhufang_domain::calendar::WorkCalendar,
) -> (dispute::Figures, Vec<FigureGroup>) {
    let total = dispute::figures(&rows.iter().map(|r| r.stat.clone()).collect::<Vec<_>>(), cal);
    let key = |r: &DisputeStatRow| -> (String, String) {
        match by {
            "grid" => match r.grid_id {
                Some(g) => (format!("{g:012}"), r.grid_name.clone().unwrap_or_default()),
                None => ("~".into(), "未落格".into()),
            },
            "category" => (r.category_code.clone(), r.category_name.clone()),
            "colour" => {
                let c = Colour::parse(&r.colour).unwrap_or(Colour::Blue);
                (format!("{}", 3 - c as i64), c.label_zh().to_string())
            }
            "class" => match &r.class {
                Some(c) => (c.clone(), format!("{c}类")),
                None => ("~".into(), "未分类".into()),
            },
            _ => (format!("{:012}", r.station_id), r.station_name.clone()),
        }
    };
    let mut groups: std::collections::BTreeMap<String, (String, Vec<dispute::Stat>)> = Default::default();
    for r in rows {
        let (k, name) = key(r);
        groups.entry(k).or_insert_with(|| (name, vec![])).1.push(r.stat.clone());
    }
    let out = groups
        .into_iter()
        .map(|(key, (name, stats))| FigureGroup { key, name, figures: dispute::figures(&stats, cal) })
        .collect();
    (total, out)
}

/// 四个一 as given at the edge.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    pub plan: String,
    pub responsible: String,
    pub checklist: Vec<ChecklistItem>,
}

/// Saves a dispute's plan, responsible people and checklist (officers,
/// leaders, the command room, admins; the receiving body too).
pub async fn save_plan(
    store: &dyn Store,
    user: &User,
    id: i64,
    input: PlanInput,
    now: DateTime<Utc>,
) -> SResult<DisputePlan> {
    let d = load(store, user, id).await?;
    if !user.roles.iter().any(|r| {
        matches!(
            r,
            Role::CommunityOfficer | Role::StationLeader | Role::CommandRoom | Role::Admin | Role::PartnerAgency
        )
    }) {
        return Err(ServiceError::Forbidden);
    }
    let mut errs = vec![];
    if input.plan.trim().is_empty() || input.plan.chars().count() > 4000 {
        errs.push(FieldError::new("plan", "化解方案不能为空且不超过4000字"));
    }
    if input.responsible.trim().is_empty() || input.responsible.chars().count() > 500 {
        errs.push(FieldError::new("responsible", "请填写责任人（不超过500字）"));
    }
    if input.checklist.len() > 50 {
        errs.push(FieldError::new("checklist", "清单不超过50项"));
    }
    for (i, c) in input.checklist.iter().enumerate() {
        if c.item.trim().is_empty() || c.item.chars().count() > 200 {
            errs.push(FieldError::new(format!("checklist[{i}].item"), "每项不能为空且不超过200字"));
        }
    }
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let before = store.dispute_plan(d.id).await?;
    let plan = DisputePlan {
        plan: input.plan.trim().to_string(),
        responsible: input.responsible.trim().to_string(),
        checklist: input
            .checklist
            .into_iter()
            .map(|c| ChecklistItem { item: c.item.trim().to_string(), done: c.done })
            .collect(),
        updated_by_name: user.display_name.clone(),
        updated_at: now,
    };
    let ev = zhufang_domain::audit::AuditEvent::new(
        Some(user.id),
        &user.display_name,
        "dispute_plan",
        d.id,
        if before.is_some() { "update" } else { "create" },
        before.as_ref().and_then(|b| serde_json::to_value(b).ok()).as_ref(),
        serde_json::to_value(&plan).ok().as_ref(),
    );
    store.save_dispute_plan(d.id, &plan, user.id, &ev).await?;
    Ok(plan)
}

/// A notice as asked for at the edge.
#[derive(Debug, Clone, Default)]
pub struct NoticeInput {
    /// Org codes of the recipient bodies (partner agencies, the town, …).
    pub recipients: Vec<String>,
    /// What they are asked to do (工作建议).
    pub actions: String,
    /// Reply by; default 3 days from now.
    pub deadline: Option<DateTime<Utc>>,
}

fn may_issue(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::StationLeader | Role::CommandRoom | Role::Admin))
}

/// Issues a warning notice for an orange or red dispute, from the template,
/// to its recipient bodies, whose people are told to sign for it.
pub async fn issue_notice(
    store: &dyn Store,
    user: &User,
    id: i64,
    input: NoticeInput,
    now: DateTime<Utc>,
) -> SResult<Notice> {
    let d = load(store, user, id).await?;
    if !may_issue(&user.roles) {
        return Err(ServiceError::Forbidden);
    }
    let mut errs = vec![];
    let colour = Colour::parse(&d.colour).unwrap_or(Colour::Blue);
    if colour < Colour::Orange {
        errs.push(FieldError::new("colour", "预警提示函只对红色、橙色预警纠纷发出"));
    }
    let mut orgs = vec![];
    for code in input.recipients.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        match store.org_unit_by_code(code).await? {
            Some(o) if !orgs.iter().any(|x: &OrgUnit| x.id == o.id) => orgs.push(o),
            Some(_) => {}
            None => errs.push(FieldError::new("recipients", format!("没有该单位：{code}"))),
        }
    }
    if orgs.is_empty() && !errs.iter().any(|e| e.field == "recipients") {
        errs.push(FieldError::new("recipients", "请选择至少一个主送单位"));
    }
    if orgs.len() > 20 {
        errs.push(FieldError::new("recipients", "主送单位不超过20个"));
    }
    let actions = input.actions.trim().to_string();
    if actions.is_empty() || actions.chars().count() > 2000 {
        errs.push(FieldError::new("actions", "请填写工作建议（不超过2000字）"));
    }
    let deadline = input.deadline.unwrap_or(now + chrono::Duration::days(3));
    if deadline <= now || deadline > now + chrono::Duration::days(60) {
        errs.push(FieldError::new("deadline", "反馈期限须在今后60天内"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let t = store
        .notice_template(zhufang_domain::notice::DISPUTE_WARNING)
        .await?
        .unwrap_or_else(zhufang_domain::notice::default_template);
    let date = |t: DateTime<Utc>| zhufang_domain::calendar::local_date(t).format("%Y年%-m月%-d日").to_string();
    let fired: Vec<dispute::Fired> = serde_json::from_value(d.fired_rules.clone()).unwrap_or_default();
    let mut facts = d.description.clone();
    if !facts.ends_with(['。', '！', '？']) {
        facts.push('。');
    }
    facts.push_str(&format!("涉及{}人", d.people_involved));
    if d.amount > 0 {
        facts.push_str(&format!("，涉及金额{}元", d.amount));
    }
    facts.push_str(&format!(
        "；目前处于{}阶段，已调解未果{}次。",
        match d.state.as_str() {
            "pending_accept" => "待受理",
            "pending_mediation" => "待调解",
            "mediating" => "调解中",
            _ => "跟踪",
        },
        d.failed_mediations
    ));
    let vars: Vec<(&str, String)> = vec![
        ("recipients", orgs.iter().map(|o| o.name.clone()).collect::<Vec<_>>().join("、")),
        ("station", d.station_name.clone()),
        ("dispute_number", d.number.clone()),
        ("title", d.title.clone()),
        ("registered", date(d.created_at)),
        ("colour", colour.label_zh().to_string()),
        ("facts", facts),
        (
            "rules",
            if fired.is_empty() {
                "经综合研判。".into()
            } else {
                format!("{}。", fired.iter().map(|f| f.name.clone()).collect::<Vec<_>>().join("；"))
            },
        ),
        ("actions", actions.clone()),
        ("deadline", date(deadline)),
        ("date", date(now)),
    ];
    let year = zhufang_domain::calendar::local_date(now).format("%Y").to_string().parse().unwrap_or(2026);
    let filled = zhufang_domain::notice::render(&t, &vars, year, 0);
    let mut notify = vec![];
    for o in &orgs {
        notify.extend(
            store
                .users_with_roles(&o.path, &Role::ALL)
                .await?
                .into_iter()
                .filter(|u| u.org_unit_id == o.id)
                .map(|u| u.id),
        );
    }
    Ok(store
        .issue_notice(&NewNotice {
            dispute_id: d.id,
            year,
            number_prefix: zhufang_domain::notice::fill(&t.number_prefix, &vars),
            issuer: filled.issuer,
            title: filled.title,
            paragraphs: filled.paragraphs,
            requested_actions: actions,
            deadline_at: deadline,
            recipient_org_ids: orgs.iter().map(|o| o.id).collect(),
            issued_by: user.id,
            issued_by_name: user.display_name.clone(),
            now,
            notify_user_ids: notify,
        })
        .await?)
}

/// Which notices a user sees: a body its own (sent to it), everyone else
/// those of their stations' disputes.
pub async fn notice_visibility(store: &dyn Store, user: &User) -> Result<NoticeFilter, StoreError> {
    if user.roles.iter().all(|r| *r == Role::PartnerAgency) {
        return Ok(NoticeFilter { recipient_path: Some(user.org_path.clone()), ..Default::default() });
    }
    Ok(NoticeFilter { scope_path: Some(grid_scope(store, user).await?), ..Default::default() })
}

/// Loads a notice the user may see (else not found).
pub async fn load_notice(store: &dyn Store, user: &User, id: i64) -> SResult<Notice> {
    let n = store.notice(id).await?.ok_or(ServiceError::NotFound)?;
    let f = notice_visibility(store, user).await?;
    let in_scope = f.scope_path.as_deref().is_some_and(|p| n.dispute_org_path.starts_with(p));
    let recipient = n.recipients.iter().any(|r| r.org_path.starts_with(&user.org_path) || r.org_id == user.org_unit_id);
    if !(in_scope || (f.recipient_path.is_some() && recipient)) {
        return Err(ServiceError::NotFound);
    }
    Ok(n)
}

/// A recipient body signs for a notice (its own people only; once).
pub async fn sign_notice(
    store: &dyn Store,
    user: &User,
    id: i64,
    reply: Option<String>,
    now: DateTime<Utc>,
) -> SResult<Notice> {
    let n = load_notice(store, user, id).await?;
    let Some(r) = n.recipients.iter().find(|r| r.org_id == user.org_unit_id) else {
        return Err(ServiceError::Forbidden);
    };
    if r.signed_at.is_some() {
        return Err(ServiceError::field("action", "本单位已签收"));
    }
    let reply = reply.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if reply.as_deref().is_some_and(|s| s.chars().count() > 2000) {
        return Err(ServiceError::field("reply", "反馈不超过2000字"));
    }
    let ev = zhufang_domain::audit::AuditEvent::new(
        Some(user.id),
        &user.display_name,
        "notice",
        n.id,
        "sign_for",
        None,
        Some(&serde_json::json!({"org": r.org_code, "reply": reply})),
    );
    Ok(store.sign_notice(n.id, r.org_id, &user.display_name, reply.as_deref(), now, &ev).await?)
}

/// Notices past their reply deadline that a body has not signed for: the
/// station's leaders and the command room are told, once. Returns how many.
pub async fn scan_notices(store: &dyn Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let late = store.late_notices(now).await?;
    for n in &late {
        let missing: Vec<String> =
            n.recipients.iter().filter(|r| r.signed_at.is_none()).map(|r| r.org_name.clone()).collect();
        let people = store.users_with_roles(&n.dispute_org_path, &[Role::StationLeader, Role::CommandRoom]).await?;
        let notes: Vec<NewNotification> = people
            .iter()
            .filter(|u| u.org_path == n.dispute_org_path)
            .map(|u| NewNotification {
                user_id: u.id,
                kind: "notice_late".into(),
                task_id: None,
                message: format!("{}（{}）已过反馈期限，仍未签收：{}", n.title, n.number, missing.join("、")),
            })
            .collect();
        store.escalate_notice(n.id, now, &notes).await?;
    }
    Ok(late.len())
}
