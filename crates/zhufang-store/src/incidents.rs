//! Incidents (警情): intake (routing to grid and station, repeat calls, the
//! triage suggestion) and each step through the incident workflow, with
//! jurisdiction checks. Decisions come from `zhufang_domain::incident` and
//! the workflow engine; writes go through the store in one transaction.

use crate::model::*;
use crate::service::{FieldError, GridRouter, ServiceError, grid_scope, nonempty, refused};
use crate::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use zhufang_domain::incident::{self, Channel, HandlingResult, Severity};
use zhufang_domain::workflow::{ActorCtx, Subject, Workflow};
use zhufang_domain::{PhoneNumber, Role, Wgs84Point};

type SResult<T> = Result<T, ServiceError>;

/// Who sees which incidents: a partner agency what was diverted to it; anyone
/// else their station's (a district's officers see the whole station's).
pub async fn visibility(store: &dyn Store, user: &User) -> Result<IncidentFilter, StoreError> {
    if user.roles.iter().all(|r| *r == Role::PartnerAgency) {
        return Ok(IncidentFilter { agency_path: Some(user.org_path.clone()), ..Default::default() });
    }
    Ok(IncidentFilter { scope_path: Some(grid_scope(store, user).await?), ..Default::default() })
}

fn sees(f: &IncidentFilter, user: &User, i: &Incident) -> bool {
    let in_scope = f.scope_path.as_deref().is_some_and(|p| i.org_path.starts_with(p));
    let agency = f.agency_path.as_deref().is_some_and(|p| i.agency_path.as_deref().is_some_and(|a| a.starts_with(p)));
    in_scope || agency || i.assignee_id == Some(user.id) || i.creator_id == Some(user.id)
}

/// Loads an incident the user may see (else not found).
pub async fn load(store: &dyn Store, user: &User, id: i64) -> SResult<Incident> {
    let i = store.incident(id).await?.ok_or(ServiceError::NotFound)?;
    let f = visibility(store, user).await?;
    if !sees(&f, user, &i) {
        return Err(ServiceError::NotFound);
    }
    Ok(i)
}

/// Who takes incidents in: the command room, leaders, officers and auxiliaries
/// (patrol discoveries), admins.
pub fn may_receive(roles: &[Role]) -> bool {
    roles.iter().any(|r| {
        matches!(r, Role::CommandRoom | Role::StationLeader | Role::CommunityOfficer | Role::Auxiliary | Role::Admin)
    })
}

/// A new incident as parsed at the edge.
#[derive(Debug, Clone)]
pub struct CreateIncident {
    pub channel: String,
    pub description: String,
    pub location: Option<Wgs84Point>,
    pub address: Option<String>,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    pub type_code: Option<String>,
    pub severity: Option<i64>,
    /// Org code of the station, for an incident without a location.
    pub station: Option<String>,
    /// The sender's id, when an external system (12345) sends the incident in.
    pub external_id: Option<String>,
}

/// Who may send incidents in from outside: a partner agency (12345), with its id.
fn is_partner_only(user: &User) -> bool {
    user.roles.iter().all(|r| *r == Role::PartnerAgency)
}

/// Takes an incident in. For an external sender, a repeated delivery of
/// the same id returns the incident it created the first time (`false`).
pub async fn receive(
    store: &dyn Store,
    router: &GridRouter,
    user: &User,
    mut input: CreateIncident,
    now: DateTime<Utc>,
) -> SResult<(Incident, bool)> {
    if is_partner_only(user) {
        let Some(ext) = input.external_id.as_deref().map(str::trim).filter(|s| !s.is_empty() && s.len() <= 64) else {
            return Err(ServiceError::Validation(vec![FieldError::new(
                "external_id",
                "外部系统转来的警情须带发送方编号（不超过64字符）",
            )]));
        };
        let org = store.org_unit(user.org_unit_id).await?.ok_or(ServiceError::Forbidden)?;
        let key = format!("{}:{ext}", org.code);
        if let Some(existing) = store.incident_by_external(&key).await? {
            return Ok((existing, false));
        }
        input.external_id = Some(key);
        input.channel = Channel::Transfer12345.as_str().to_string();
        return Ok((create_checked(store, router, user, input, now).await?, true));
    }
    input.external_id = None;
    Ok((create(store, router, user, input, now).await?, true))
}

pub async fn create(
    store: &dyn Store,
    router: &GridRouter,
    user: &User,
    input: CreateIncident,
    now: DateTime<Utc>,
) -> SResult<Incident> {
    if !may_receive(&user.roles) {
        return Err(ServiceError::Forbidden);
    }
    create_checked(store, router, user, input, now).await
}

async fn create_checked(
    store: &dyn Store,
    router: &GridRouter,
    user: &User,
    input: CreateIncident,
    now: DateTime<Utc>,
) -> SResult<Incident> {
    let mut errs = vec![];
    let channel = Channel::parse(&input.channel);
    if channel.is_none() {
        errs.push(FieldError::new("channel", "来源渠道须为 110、12345、walk_in、patrol、app 或 other"));
    }
    let description = input.description.trim().to_string();
    if description.is_empty() || description.chars().count() > 2000 {
        errs.push(FieldError::new("description", "警情描述不能为空且不超过2000字"));
    }
    let phone = match input.caller_phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(p) => match PhoneNumber::parse(p) {
            Ok(p) => Some(p.as_str().to_string()),
            Err(e) => {
                errs.push(FieldError::new("caller_phone", e.message));
                None
            }
        },
    };
    let caller_name = input.caller_name.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if caller_name.as_deref().is_some_and(|n| n.chars().count() > 50) {
        errs.push(FieldError::new("caller_name", "报警人姓名不超过50字"));
    }
    let severity = input.severity.unwrap_or(1);
    if Severity::from_level(severity).is_none() {
        errs.push(FieldError::new("severity", "警情等级须为1（一般）、2（紧急）或3（危机）"));
    }
    let received_at = input.received_at.unwrap_or(now);
    if received_at > now + Duration::minutes(5) {
        errs.push(FieldError::new("received_at", "接警时间不能晚于当前时间"));
    }
    let types = store.incident_types().await?;
    let ty = match input.type_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(code) => match types.iter().find(|t| t.code == code) {
            Some(t) if t.active => Some(t.clone()),
            Some(_) => {
                errs.push(FieldError::new("type_code", "该警情类型已停用"));
                None
            }
            None => {
                errs.push(FieldError::new("type_code", "警情类型字典中没有该编码"));
                None
            }
        },
    };
    // where it belongs: the grid containing it, else the nearest station, else the station named or the user's
    let routed = input.location.and_then(|p| router.route(p));
    let station = match (routed, input.station.as_deref().map(str::trim).filter(|s| !s.is_empty())) {
        (Some((r, _)), _) => store.org_unit(r.station_id).await?,
        (None, Some(code)) => match store.org_unit_by_code(code).await? {
            Some(o) if o.kind == "station" => Some(o),
            _ => {
                errs.push(FieldError::new("station", "没有该派出所"));
                None
            }
        },
        (None, None) => {
            let scope = grid_scope(store, user).await?;
            let units = store.org_units().await?;
            match units.into_iter().find(|o| o.path == scope && o.kind == "station") {
                Some(o) => Some(o),
                None => {
                    errs.push(FieldError::new("location", "请提供位置或所属派出所"));
                    None
                }
            }
        }
    };
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let station = station.ok_or(ServiceError::NotFound)?;
    // repeat calls: the same phone within the window links to the earlier incident
    let window = store.intake_settings().await?.repeat_window(ty.as_ref().is_some_and(|t| t.dispute));
    let repeat_of = match &phone {
        Some(p) => store.recent_incident_by_phone(p, received_at - Duration::minutes(window)).await?.map(|(id, _)| id),
        None => None,
    };
    let triage = suggestion(&types, ty.as_ref(), &description);
    Ok(store
        .create_incident(&NewIncident {
            channel: channel.expect("checked").as_str().to_string(),
            received_at,
            caller_name,
            caller_phone: phone,
            lat: input.location.map(|p| p.lat()),
            lon: input.location.map(|p| p.lon()),
            address: input.address.unwrap_or_default().trim().to_string(),
            grid_id: routed.filter(|(_, inside)| *inside).map(|(r, _)| r.grid_id),
            station_id: station.id,
            org_path: station.path,
            description,
            type_code: ty.map(|t| t.code),
            severity,
            repeat_of,
            triage,
            external_id: input.external_id,
            creator_id: Some(user.id),
            creator_name: user.display_name.clone(),
            now,
        })
        .await?)
}

/// The top class (类别) of a type code in the dictionary.
fn class_of<'a>(types: &'a [IncidentType], code: &str) -> Option<&'a IncidentType> {
    let mut t = types.iter().find(|t| t.code == code)?;
    while let Some(parent) = t.parent_code.as_deref().and_then(|p| types.iter().find(|x| x.code == p)) {
        t = parent;
    }
    Some(t)
}

/// The suggestion shown at intake: the triage model's answer for the text
/// (police or not, the responsible department, confidences, the words that
/// drove it, a 12号文 rule when one decided). When the chosen type usually
/// goes the other way, that is said among the reasons.
fn suggestion(types: &[IncidentType], ty: Option<&IncidentType>, text: &str) -> serde_json::Value {
    let v = zhufang_triage::Triage::default_model().classify(text);
    let mut out = serde_json::to_value(&v).unwrap_or_default();
    out["source"] = "model".into();
    if let Some(t) = ty
        && t.police != v.police
    {
        let class = class_of(types, &t.code).unwrap_or(t);
        out["type_hint"] = serde_json::json!({
            "police": t.police,
            "reason": format!("所选类型「{}」（{}）通常{}", t.name, class.name, if t.police { "为警务类" } else { "为非警务类" }),
        });
    }
    out
}

/// One action on an incident (parsed at the edge).
#[derive(Debug, Clone, Default)]
pub struct IncidentAction {
    pub action: String,
    pub note: Option<String>,
    /// Username of the officer sent (dispatch, reassign).
    pub assignee: Option<String>,
    /// Org code of the partner agency (divert).
    pub agency: Option<String>,
    /// Triage decision.
    pub police: Option<bool>,
    /// The responsible department at triage (a class of the triage model);
    /// where it differs from the suggestion it is kept as a correction.
    pub department: Option<String>,
    pub type_code: Option<String>,
    pub severity: Option<i64>,
    /// Handling result (handle).
    pub result: Option<String>,
    /// 回访 rating 1–5 (close after an agency).
    pub rating: Option<i64>,
    pub version: Option<i64>,
}

/// What a step is decided with.
pub struct Rules<'a> {
    pub wf: &'a Workflow,
    /// For the agencies' time limits (working days).
    pub cal: &'a zhufang_domain::calendar::WorkCalendar,
    /// An external 12345 system is configured: each hand-over (交办 on divert,
    /// 归档 on the call-back close) is queued for it in the same transaction.
    pub outbox: bool,
}

pub async fn transition(
    store: &dyn Store,
    rules: &Rules<'_>,
    user: &User,
    id: i64,
    input: IncidentAction,
    now: DateTime<Utc>,
) -> SResult<Incident> {
    let (wf, outbox) = (rules.wf, rules.outbox);
    let i = load(store, user, id).await?;
    if let Some(v) = input.version
        && v != i.version
    {
        return Err(ServiceError::Conflict);
    }
    // an agency acts only on what was diverted to it
    let partner_only = user.roles.iter().all(|r| *r == Role::PartnerAgency);
    if partner_only && !i.agency_path.as_deref().is_some_and(|a| a.starts_with(&user.org_path)) {
        return Err(ServiceError::NotFound);
    }
    let has = |f: &str| match f {
        "note" => nonempty(&input.note),
        "assignee" => nonempty(&input.assignee),
        "agency" => nonempty(&input.agency),
        "police" => input.police.is_some(),
        "result" => nonempty(&input.result),
        "rating" => input.rating.is_some(),
        _ => false,
    };
    let subject = Subject { state: &i.state, assignee: i.assignee_id, dispatcher: None, creator: i.creator_id };
    let actor = ActorCtx { user_id: user.id, roles: &user.roles };
    let rule = wf.decide(&subject, &actor, &input.action, &has).map_err(|e| {
        refused(e, |f| match f {
            "note" => "请填写说明",
            "assignee" => "请选择出警民警",
            "agency" => "请选择联动单位",
            "police" => "请研判是否属于警务类警情",
            "result" => "请选择处置结果",
            "rating" => "请填写回访评价（1至5）",
            _ => "此项为必填项",
        })
    })?;
    let mut errs = vec![];
    let mut w = IncidentWrite {
        incident_id: i.id,
        expected_version: i.version,
        action: input.action.clone(),
        from_state: i.state.clone(),
        to_state: rule.to.clone(),
        actor_id: user.id,
        actor_name: user.display_name.clone(),
        now,
        note: input.note.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
        police: input.police,
        closes: wf.is_terminal(&rule.to),
        ..Default::default()
    };
    if w.note.as_deref().is_some_and(|n| n.chars().count() > 2000) {
        errs.push(FieldError::new("note", "说明不超过2000字"));
    }
    if let Some(code) = input.type_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        match store.incident_types().await?.into_iter().find(|t| t.code == code) {
            Some(t) if t.active => w.type_code = Some(t.code),
            _ => errs.push(FieldError::new("type_code", "警情类型字典中没有该编码")),
        }
    }
    if let Some(s) = input.severity {
        match Severity::from_level(s) {
            Some(_) => w.severity = Some(s),
            None => errs.push(FieldError::new("severity", "警情等级须为1、2或3")),
        }
    }
    if input.action == "triage" {
        let model = zhufang_triage::Triage::default_model();
        let suggested = i.triage.get("department").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let suggested_police = i.triage.get("police").and_then(|v| v.as_bool());
        let chosen = input.department.as_deref().map(str::trim).filter(|s| !s.is_empty());
        match chosen.map(|d| model.classes().iter().find(|c| c.name == d)) {
            Some(None) => errs.push(FieldError::new("department", "没有该责任部门")),
            Some(Some(c)) => {
                if input.police.is_some_and(|p| p != c.police) {
                    errs.push(FieldError::new("department", "所选部门与警务/非警务的研判不一致"));
                } else if c.name != suggested || Some(c.police) != suggested_police {
                    w.correction = Some((c.name.clone(), c.police, suggested, model.model_version().to_string()));
                }
            }
            None => {
                // only the police decision was changed: the type's class is the label, when the model knows it
                if let (Some(p), Some(sp)) = (input.police, suggested_police)
                    && p != sp
                {
                    let types = store.incident_types().await?;
                    let class = w.type_code.as_deref().or(i.type_code.as_deref()).and_then(|c| class_of(&types, c));
                    if let Some(c) =
                        class.and_then(|t| model.classes().iter().find(|c| c.name == t.name && c.police == p))
                    {
                        w.correction = Some((c.name.clone(), c.police, suggested, model.model_version().to_string()));
                    }
                }
            }
        }
    }
    if rule.effects.contains(&zhufang_domain::workflow::Effect::SetAssignee) {
        let name = input.assignee.as_deref().unwrap_or_default().trim().to_ascii_lowercase();
        match store.user_by_username(&name).await? {
            Some((u, _))
                if u.active
                    && i.org_path.starts_with(&grid_scope(store, &u).await?)
                    && u.roles.iter().any(|r| {
                        matches!(r, Role::CommunityOfficer | Role::Auxiliary | Role::CommandRoom | Role::StationLeader)
                    }) =>
            {
                w.assignee = Some(Some(u.id))
            }
            Some(_) => errs.push(FieldError::new("assignee", "该人员不能出警处置本所警情")),
            None => errs.push(FieldError::new("assignee", "没有该用户")),
        }
    }
    if input.action == "divert" {
        let code = input.agency.as_deref().unwrap_or_default().trim();
        let (hours, workdays) = incident::limits_for(
            &store.incident_limits().await?,
            w.type_code.as_deref().or(i.type_code.as_deref()),
            w.severity.unwrap_or(i.severity),
        );
        let workdays = u32::try_from(workdays).unwrap_or(5);
        w.due = Some((now + Duration::hours(hours), rules.cal.add_workdays(now, workdays)));
        match store.org_unit_by_code(code).await? {
            Some(o) if o.kind == "agency" => {
                w.agency_id = Some(o.id);
                // the agency's inbox
                for u in store.users_with_roles(&o.path, &[Role::PartnerAgency]).await? {
                    w.notifications.push(NewNotification {
                        user_id: u.id,
                        kind: "incident_handover".into(),
                        task_id: None,
                        message: format!("{} 移交警情 {}：{}，请签收", i.station_name, i.number, short(&i.description)),
                    });
                }
            }
            Some(_) => errs.push(FieldError::new("agency", "只能分流至联动单位")),
            None => errs.push(FieldError::new("agency", "没有该联动单位")),
        }
    }
    if rule.required.iter().any(|f| f == "result") {
        match input.result.as_deref().and_then(HandlingResult::parse) {
            Some(r) => w.result = Some(r.as_str().to_string()),
            None => errs.push(FieldError::new(
                "result",
                "处置结果须为 on_site、criminal_case、administrative_case、transferred 或 dispute_registered",
            )),
        }
    }
    if rule.required.iter().any(|f| f == "rating") {
        match input.rating {
            Some(r) if incident::rating_label(r).is_some() => w.rating = Some(r),
            _ => errs.push(FieldError::new("rating", "回访评价须为1（非常满意）至5（非常不满意）")),
        }
    }
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    if input.action == "return" {
        // the command room hears it came back, and why
        for u in store.users_with_roles(&i.org_path, &[Role::CommandRoom]).await? {
            if u.org_path == i.org_path {
                w.notifications.push(NewNotification {
                    user_id: u.id,
                    kind: "incident_returned".into(),
                    task_id: None,
                    message: format!(
                        "警情 {} 被{}退回：{}",
                        i.number,
                        i.agency_name.clone().unwrap_or_default(),
                        w.note.clone().unwrap_or_default()
                    ),
                });
            }
        }
    }
    w.data = serde_json::json!({
        "police": w.police, "type_code": w.type_code, "severity": w.severity, "result": w.result,
        "rating": w.rating, "agency": input.agency, "assignee": input.assignee,
    });
    if outbox {
        // 12345 node codes: 1 交办, 3 退回, 4 办结, 5 归档, 8 重办 (a hand-over after a return)
        let node = match input.action.as_str() {
            "divert" if i.returned_at.is_some() => Some(("8", "重办")),
            "divert" => Some(("1", "交办")),
            "return" => Some(("3", "退回")),
            "agency_done" => Some(("4", "办结")),
            "close" if i.agency_id.is_some() => Some(("5", "归档")),
            _ => None,
        };
        if let Some((code, name)) = node {
            let key = format!("incident:{}:v{}:{}", i.id, i.version + 1, input.action);
            w.outbox.push(NewOutboxMessage {
                topic: "work_order".into(),
                key: key.clone(),
                payload: work_order(&i, &key, code, name, &input, now),
            });
        }
    }
    Ok(store.apply_incident_transition(&w).await?)
}

/// The caller's full name and phone number, for those allowed (command room,
/// leaders, admins), written to the audit log.
pub async fn reveal_caller(
    store: &dyn Store,
    user: &User,
    id: i64,
    now: DateTime<Utc>,
) -> SResult<(Option<String>, Option<String>)> {
    let i = load(store, user, id).await?;
    if !user.roles.iter().any(|r| matches!(r, Role::CommandRoom | Role::StationLeader | Role::Admin)) {
        return Err(ServiceError::Forbidden);
    }
    let ev = zhufang_domain::audit::AuditEvent::new(
        Some(user.id),
        &user.display_name,
        "incident",
        i.id,
        "read_caller",
        None,
        None,
    );
    store.audit(&ev, now).await?;
    Ok((i.caller_name, i.caller_phone))
}

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: usize,
    pub imported: usize,
    /// Rows whose number was already there (an import can be run again).
    pub existing: usize,
    /// Every problem, by line; those rows were not imported.
    pub errors: Vec<zhufang_domain::incident_import::RowError>,
}

/// Imports historical incidents from CSV (admins; the command line passes no
/// user). Good rows are imported, bad rows reported by line with every
/// reason; numbers already present are skipped, so a corrected file can be
/// imported again. `progress` is told (done, total) after each row.
pub async fn import_csv(
    store: &dyn Store,
    router: &GridRouter,
    wf: &Workflow,
    actor: Option<&User>,
    text: &str,
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> SResult<ImportReport> {
    use zhufang_domain::incident_import::{RowError, parse};
    if let Some(u) = actor
        && !u.has(Role::Admin)
    {
        return Err(ServiceError::Forbidden);
    }
    let (rows, mut errors) = parse(text, now);
    let total = rows.len()
        + errors.iter().filter(|e| e.line > 0).map(|e| e.line).collect::<std::collections::HashSet<_>>().len();
    let types = store.incident_types().await?;
    let units = store.org_units().await?;
    let mut report = ImportReport { rows: total, ..Default::default() };
    for (k, row) in rows.into_iter().enumerate() {
        let mut errs = vec![];
        if wf.state(&row.state).is_none() {
            errs.push(RowError {
                line: row.line,
                field: "state".into(),
                message: format!("流程中没有状态 {}", row.state),
            });
        }
        let ty = match &row.type_code {
            None => None,
            Some(code) => match types.iter().find(|t| &t.code == code) {
                Some(t) => Some(t.code.clone()),
                None => {
                    errs.push(RowError {
                        line: row.line,
                        field: "type_code".into(),
                        message: format!("警情类型字典中没有 {code}"),
                    });
                    None
                }
            },
        };
        let routed = row.location.and_then(|p| router.route(p));
        let station = match (routed, &row.station) {
            (Some((r, _)), _) => units.iter().find(|o| o.id == r.station_id),
            (None, Some(code)) => units.iter().find(|o| &o.code == code && o.kind == "station"),
            (None, None) => None,
        };
        if station.is_none() {
            errs.push(RowError {
                line: row.line,
                field: "station".into(),
                message: "无法确定所属派出所：请提供位置或派出所编码".into(),
            });
        }
        if let (Some(s), Some(u)) = (station, actor)
            && !u.covers(&s.path)
        {
            errs.push(RowError {
                line: row.line,
                field: "station".into(),
                message: "该派出所不在您的管辖范围内".into(),
            });
        }
        if !errs.is_empty() {
            errors.extend(errs);
            progress(k + 1, total);
            continue;
        }
        let station = station.expect("checked");
        let imported = store
            .import_incident(&ImportedIncident {
                number: row.number.clone(),
                state: row.state.clone(),
                closes: wf.is_terminal(&row.state),
                police: row.police,
                result: row.result.map(|r| r.as_str().to_string()),
                triaged_at: row.triaged_at,
                dispatched_at: row.dispatched_at,
                arrived_at: row.arrived_at,
                handled_at: row.handled_at,
                closed_at: row.closed_at,
                agency_id: None,
                assignee_id: None,
                diverted_at: None,
                signed_for_at: None,
                agency_done_at: None,
                rating: None,
                sign_due_at: None,
                done_due_at: None,
                incident: NewIncident {
                    channel: row.channel.as_str().to_string(),
                    received_at: row.received_at,
                    caller_name: row.caller_name,
                    caller_phone: row.caller_phone.map(|p| p.as_str().to_string()),
                    lat: row.location.map(|p| p.lat()),
                    lon: row.location.map(|p| p.lon()),
                    address: row.address,
                    grid_id: routed.filter(|(_, inside)| *inside).map(|(r, _)| r.grid_id),
                    station_id: station.id,
                    org_path: station.path.clone(),
                    description: row.description,
                    type_code: ty,
                    severity: row.severity.level(),
                    repeat_of: None,
                    triage: serde_json::json!({}),
                    external_id: None,
                    creator_id: actor.map(|u| u.id),
                    creator_name: actor.map(|u| u.display_name.clone()).unwrap_or_else(|| "import".into()),
                    now,
                },
            })
            .await?;
        match imported {
            Some(_) => report.imported += 1,
            None => report.existing += 1,
        }
        progress(k + 1, total);
    }
    errors.sort_by(|a, b| a.line.cmp(&b.line).then(a.field.cmp(&b.field)));
    report.errors = errors;
    Ok(report)
}

/// A 12345 work order for a hand-over (node codes as in the 110↔12345
/// interface: 1 交办 … 5 归档; line 01 = 110).
fn work_order(
    i: &Incident,
    key: &str,
    node: &str,
    node_name: &str,
    a: &IncidentAction,
    now: DateTime<Utc>,
) -> serde_json::Value {
    serde_json::json!({
        "id": key, "type": "work_order", "line": "01", "node": node, "node_name": node_name, "at": now,
        "agency": a.agency.clone().or_else(|| i.agency_code.clone()),
        "note": a.note, "rating": a.rating,
        "incident": {
            "number": i.number, "channel": i.channel, "received_at": i.received_at, "description": i.description,
            "address": i.address, "lat": i.lat, "lon": i.lon, "type_code": i.type_code, "type_name": i.type_name,
            "severity": i.severity, "station": i.station_code,
        },
    })
}

/// Tells the command room (and the station's leaders) about hand-overs the
/// agency has not signed for, or not finished, within their limits; once per
/// hand-over. Returns how many were escalated.
pub async fn scan_hand_overs(store: &dyn Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let late = store.late_hand_overs(now, 500).await?;
    for i in &late {
        let what = if i.state == "diverted" { "未签收" } else { "未办结" };
        let people = store.users_with_roles(&i.org_path, &[Role::CommandRoom, Role::StationLeader]).await?;
        let notes: Vec<NewNotification> = people
            .iter()
            .filter(|u| u.org_path == i.org_path)
            .map(|u| NewNotification {
                user_id: u.id,
                kind: "incident_late".into(),
                task_id: None,
                message: format!(
                    "警情 {} 移交{}后{}，已超过时限",
                    i.number,
                    i.agency_name.clone().unwrap_or_default(),
                    what
                ),
            })
            .collect();
        store.escalate_incident(i.id, now, &notes).await?;
    }
    Ok(late.len())
}

/// A place offered for the address being typed at intake (地址联想).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Place {
    /// What goes into the address field.
    pub label: String,
    /// `grid` (a grid by name or village, at a point inside it) or `address`
    /// (an address given before, at its latest point).
    pub kind: &'static str,
    pub lat: f64,
    pub lon: f64,
    /// Incidents that gave this address (0 for a grid).
    pub uses: i64,
}

/// The places matching `q` within the user's station (or, above station
/// level, their whole subtree): grids whose name or village contains it
/// first, then addresses of the past year's incidents, most used first.
pub async fn places(
    store: &dyn Store,
    router: &GridRouter,
    user: &User,
    q: &str,
    limit: usize,
    now: DateTime<Utc>,
) -> SResult<Vec<Place>> {
    if !may_receive(&user.roles) {
        return Err(ServiceError::Forbidden);
    }
    let q = q.trim();
    if q.chars().count() > 50 {
        return Err(ServiceError::Validation(vec![FieldError::new("q", "地址关键词不超过50字")]));
    }
    if q.is_empty() {
        return Ok(vec![]);
    }
    let limit = limit.clamp(1, 50);
    let scope = grid_scope(store, user).await?;
    let mut grids: Vec<&GridRecord> = router
        .records()
        .filter(|g| g.station_path.starts_with(&scope))
        .filter(|g| g.name.contains(q) || g.village.as_deref().is_some_and(|v| v.contains(q)))
        .collect();
    grids.sort_by(|a, b| a.code.cmp(&b.code));
    let mut out: Vec<Place> = grids
        .into_iter()
        .filter_map(|g| {
            router.centre(g.id).map(|p| Place {
                label: format!("{}（{}）", g.name, g.station_name),
                kind: "grid",
                lat: p.lat(),
                lon: p.lon(),
                uses: 0,
            })
        })
        .take(limit.div_ceil(3))
        .collect();
    let rest = (limit - out.len()) as i64;
    let known = store.incident_addresses(&scope, q, now - Duration::days(365), rest).await?;
    out.extend(known.into_iter().map(|a| Place {
        label: a.address,
        kind: "address",
        lat: a.lat,
        lon: a.lon,
        uses: a.uses,
    }));
    Ok(out)
}

/// A possible duplicate of an incident: the same type, near in time and place.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Similar {
    pub id: i64,
    pub label: String,
    pub metres: i64,
    pub minutes: i64,
}

/// Near-duplicates of an incident the user can see: same type, within the
/// distance and time of the intake settings, nearest first.
pub async fn similar(store: &dyn Store, user: &User, i: &Incident) -> SResult<Vec<Similar>> {
    let (Some(lat), Some(lon), Some(code)) = (i.lat, i.lon, i.type_code.as_deref()) else { return Ok(vec![]) };
    let Ok(point) = Wgs84Point::new(lat, lon) else { return Ok(vec![]) };
    similar_to(store, user, point, code, i.received_at, Some(i.id)).await
}

/// Near-duplicates of a matter not yet registered (the intake form asks while
/// the place and type are filled in): incidents the user can see of type
/// `code` within the settings' distance of `at_point` and time of `at`
/// ([`zhufang_domain::incident::IntakeSettings`]), nearest first; `exclude`
/// leaves one incident out.
pub async fn similar_to(
    store: &dyn Store,
    user: &User,
    at_point: Wgs84Point,
    code: &str,
    at: DateTime<Utc>,
    exclude: Option<i64>,
) -> SResult<Vec<Similar>> {
    let (lat, lon) = (at_point.lat(), at_point.lon());
    let f = visibility(store, user).await?;
    let Some(scope) = f.scope_path else { return Ok(vec![]) };
    let settings = store.intake_settings().await?;
    let (radius, minutes) = (settings.similar_metres() as f64, settings.similar_minutes());
    let dlat = radius / 111_320.0;
    let dlon = dlat / lat.to_radians().cos().max(0.01);
    let e7 = |d: f64| (d * 1e7).round() as i64;
    let q = MapQuery {
        scope_path: Some(scope),
        kinds: vec!["incident".into()],
        bbox: Some([e7(lon - dlon), e7(lat - dlat), e7(lon + dlon), e7(lat + dlat)]),
        from: Some(at - Duration::minutes(minutes)),
        to: Some(at + Duration::minutes(minutes)),
        category: Some(code.to_string()),
        ..Default::default()
    };
    let mut out: Vec<Similar> = store
        .map_points(&q, 20)
        .await?
        .into_iter()
        .filter(|m| Some(m.item_id) != exclude)
        .filter_map(|m| {
            let (plat, plon) = (m.lat_e7 as f64 / 1e7, m.lon_e7 as f64 / 1e7);
            let dy = (plat - lat) * 111_320.0;
            let dx = (plon - lon) * 111_320.0 * lat.to_radians().cos();
            let metres = (dx * dx + dy * dy).sqrt();
            (metres <= radius).then(|| Similar {
                id: m.item_id,
                label: m.label,
                metres: metres.round() as i64,
                minutes: (m.occurred_at - at).num_minutes().abs(),
            })
        })
        .collect();
    out.sort_by_key(|s| (s.metres, s.minutes));
    Ok(out)
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(30).collect();
    if s.chars().count() > 30 {
        out.push('…');
    }
    out
}
