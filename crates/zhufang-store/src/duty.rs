//! The duty rhythm's service: who edits templates, seeding 八个一 for every
//! station, and the scheduler that turns a window of occurrences into tasks
//! on the task loop — idempotent (an occurrence is claimed before its task
//! is made, and a claim without a task is finished on the next run).

use crate::model::*;
use crate::service::{FieldError, ScheduledTask, ServiceError, schedule_task};
use crate::{Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use zhufang_domain::Role;
use zhufang_domain::calendar::{WorkCalendar, local_date};
use zhufang_domain::duty::{EIGHT_ONES, HolidayPolicy, Recurrence, month_start, working_days};
use zhufang_domain::workflow::Workflow;

type SResult<T> = Result<T, ServiceError>;

/// The default window the scheduler keeps filled (days ahead).
pub const DEFAULT_WINDOW_DAYS: i64 = 14;

/// Gives every station its eight duties of 八个一 where it lacks them.
/// Returns how many templates were created.
pub async fn ensure_station_templates(store: &dyn Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let have = store.duty_templates(None).await?;
    let mut made = 0;
    for st in store.org_units().await?.into_iter().filter(|o| o.kind == "station") {
        for (name, code, role, rule, holiday, hour) in EIGHT_ONES {
            if have.iter().any(|t| t.seeded && t.org_id == st.id && t.catalogue_code == code) {
                continue;
            }
            if store.catalogue_item(code).await?.is_none() {
                continue;
            }
            let w = DutyTemplateWrite {
                id: None,
                expected_version: None,
                name: name.into(),
                catalogue_code: code.into(),
                role: Some(role.as_str().into()),
                assignee_id: None,
                org_id: st.id,
                rrule: rule.into(),
                start_day: month_start(local_date(now)),
                at_time: format!("{hour:02}:00"),
                holiday: holiday.as_str().into(),
                active: true,
                seeded: true,
                now,
            };
            let ev = zhufang_domain::audit::AuditEvent::new(None, "system", "duty_template", st.id, "seed", None, None);
            store.save_duty_template(&w, &ev).await?;
            made += 1;
        }
    }
    Ok(made)
}

/// A template as given at the edge.
#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    pub name: String,
    pub catalogue_code: String,
    /// A role (everyone with it in each station of the scope), or…
    pub role: Option<String>,
    /// …a named person (username).
    pub assignee: Option<String>,
    /// Org code of the scope (a station, branch or the bureau).
    pub org: String,
    pub rrule: String,
    /// Default: the first of this month.
    pub start_day: Option<NaiveDate>,
    /// `HH:MM`, default 09:00.
    pub at_time: Option<String>,
    /// keep, skip, next or previous (default next).
    pub holiday: Option<String>,
    pub active: Option<bool>,
    pub version: Option<i64>,
}

/// Who edits templates: admins anywhere, station leaders and the command
/// room within their own unit.
pub fn may_edit(user: &User) -> bool {
    user.roles.iter().any(|r| matches!(r, Role::Admin | Role::StationLeader | Role::CommandRoom))
}

/// Creates (`id` None) or changes a template; every field checked.
pub async fn save_template(
    store: &dyn Store,
    user: &User,
    id: Option<i64>,
    input: TemplateInput,
    now: DateTime<Utc>,
) -> SResult<DutyTemplate> {
    if !may_edit(user) {
        return Err(ServiceError::Forbidden);
    }
    let before = match id {
        Some(id) => {
            let t = store.duty_template(id).await?.ok_or(ServiceError::NotFound)?;
            if !user.covers(&t.org_path) {
                return Err(ServiceError::NotFound);
            }
            Some(t)
        }
        None => None,
    };
    let mut errs = vec![];
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 50 {
        errs.push(FieldError::new("name", "名称不能为空且不超过50字"));
    }
    match store.catalogue_item(input.catalogue_code.trim()).await? {
        Some(c) if c.active => {}
        _ => errs.push(FieldError::new("catalogue_code", "任务清单中没有该事项，或已停用")),
    }
    let org = store.org_unit_by_code(input.org.trim()).await?;
    match &org {
        None => errs.push(FieldError::new("org", "没有该单位")),
        Some(o) if !user.covers(&o.path) => errs.push(FieldError::new("org", "该单位不在您的管辖范围内")),
        _ => {}
    }
    let role = input.role.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let person = input.assignee.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let mut assignee_id = None;
    match (role, person) {
        (Some(_), Some(_)) | (None, None) => errs.push(FieldError::new("role", "请选择角色或指定一名人员（二选一）")),
        (Some(r), None) => {
            if r.parse::<Role>().is_err() {
                errs.push(FieldError::new("role", "角色无效"));
            }
        }
        (None, Some(u)) => match store.user_by_username(&u.to_ascii_lowercase()).await? {
            Some((u, _)) if u.active && org.as_ref().is_some_and(|o| u.org_path.starts_with(&o.path)) => {
                assignee_id = Some(u.id)
            }
            _ => errs.push(FieldError::new("assignee", "该人员不在所选单位")),
        },
    }
    let start_day = input.start_day.unwrap_or_else(|| month_start(local_date(now)));
    let at_time = input.at_time.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("09:00").to_string();
    let at = NaiveTime::parse_from_str(&at_time, "%H:%M");
    if at.is_err() {
        errs.push(FieldError::new("at_time", "时间须为 HH:MM"));
    }
    let holiday = input.holiday.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("next");
    if HolidayPolicy::parse(holiday).is_none() {
        errs.push(FieldError::new("holiday", "节假日规则须为 keep、skip、next 或 previous"));
    }
    let rrule = match Recurrence::parse(&input.rrule, start_day, at.unwrap_or(NaiveTime::MIN)) {
        Ok(r) => r.rule().to_string(),
        Err(m) => {
            errs.push(FieldError::new("rrule", m));
            String::new()
        }
    };
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let org = org.expect("checked");
    let w = DutyTemplateWrite {
        id,
        expected_version: input.version,
        name,
        catalogue_code: input.catalogue_code.trim().into(),
        role: role.map(String::from),
        assignee_id,
        org_id: org.id,
        rrule,
        start_day,
        at_time,
        holiday: holiday.into(),
        active: input.active.unwrap_or(true),
        seeded: before.as_ref().is_some_and(|b| b.seeded),
        now,
    };
    let ev = zhufang_domain::audit::AuditEvent::new(
        Some(user.id),
        &user.display_name,
        "duty_template",
        id.map(|i| i.to_string()).unwrap_or_else(|| "new".into()),
        if before.is_some() { "update" } else { "create" },
        before.as_ref().and_then(|b| serde_json::to_value(b).ok()).as_ref(),
        Some(
            &serde_json::json!({"name": w.name, "rrule": w.rrule, "org": org.code, "holiday": w.holiday, "active": w.active}),
        ),
    );
    Ok(store.save_duty_template(&w, &ev).await?)
}

/// What a scheduler run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct GenerateReport {
    /// Tasks made now.
    pub created: Vec<i64>,
    /// Occurrences whose task already existed.
    pub existing: usize,
    /// Templates that could not be read (their id and why); the others ran.
    pub errors: Vec<(i64, String)>,
}

/// Turns every active template's occurrences from `from` to `to` (local
/// days, inclusive) into tasks, one per person, dispatched in the task
/// workflow's own step. Running it again, or after a crash, makes nothing
/// twice; two runs at once (the daily job and a leader's button) split the
/// work between them.
pub async fn generate(
    store: &dyn Store,
    task_wf: &Workflow,
    cal: &WorkCalendar,
    scope_path: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> SResult<GenerateReport> {
    if to < from || (to - from).num_days() > zhufang_domain::duty::MAX_WINDOW_DAYS {
        return Err(ServiceError::field("to", "时间窗须在1至400天之内"));
    }
    let mut report = GenerateReport::default();
    for t in store.duty_templates(scope_path).await?.into_iter().filter(|t| t.active) {
        let at = NaiveTime::parse_from_str(&t.at_time, "%H:%M").unwrap_or(NaiveTime::MIN);
        let policy = HolidayPolicy::parse(&t.holiday).unwrap_or(HolidayPolicy::Next);
        let days = match Recurrence::parse(&t.rrule, t.start_day, at).and_then(|r| r.days(from, to)) {
            Ok(d) => d,
            Err(e) => {
                report.errors.push((t.id, e));
                continue;
            }
        };
        let people: Vec<User> = match (t.assignee_id, t.role.as_deref().and_then(|r| r.parse::<Role>().ok())) {
            (Some(id), _) => store.user(id).await?.into_iter().filter(|u| u.active).collect(),
            (None, Some(role)) => {
                store.users_with_roles(&t.org_path, &[role]).await?.into_iter().filter(|u| u.active).collect()
            }
            (None, None) => vec![],
        };
        if people.is_empty() {
            continue;
        }
        // who dispatches routine duties: a leader of the unit, else the person themself
        let leader = store
            .users_with_roles(&t.org_path, &[Role::StationLeader])
            .await?
            .into_iter()
            .find(|u| u.active && t.org_path.starts_with(&u.org_path));
        for (day, due_day) in working_days(&days, policy, cal) {
            let due_at =
                zhufang_domain::calendar::local_instant(day, NaiveTime::from_hms_opt(23, 59, 0).expect("valid"));
            for p in &people {
                match store.claim_duty_occurrence(t.id, due_day, p.id, day, now).await? {
                    DutyClaim::Mine => {}
                    DutyClaim::Done(_) | DutyClaim::Busy => {
                        report.existing += 1;
                        continue;
                    }
                }
                let title = format!("{}（{}）", t.name, day.format("%-m月%-d日"));
                let task = schedule_task(
                    store,
                    task_wf,
                    cal,
                    ScheduledTask {
                        title,
                        description: format!("例行勤务「{}」，{} {}。", t.name, day.format("%Y-%m-%d"), t.at_time),
                        catalogue_code: t.catalogue_code.clone(),
                        // the person's own unit (a 警务区 under the station), so it is in their ledger too
                        org_unit_id: if p.org_path.starts_with(&t.org_path) { p.org_unit_id } else { t.org_id },
                        org_path: if p.org_path.starts_with(&t.org_path) {
                            p.org_path.clone()
                        } else {
                            t.org_path.clone()
                        },
                        lat: None,
                        lon: None,
                        grid_id: None,
                        station_id: None,
                        due_at: due_at.max(now + Duration::minutes(1)),
                        assignee: p.clone(),
                        by: leader.clone().unwrap_or_else(|| p.clone()),
                        reason: serde_json::json!({"duty_template": t.id, "day": day, "due_day": due_day}),
                    },
                    now,
                )
                .await?;
                store.set_duty_occurrence_task(t.id, day, p.id, task.id).await?;
                report.created.push(task.id);
            }
        }
    }
    Ok(report)
}

/// One group of the completion figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CompletionGroup {
    pub key: String,
    pub name: String,
    pub figures: zhufang_domain::duty::Completion,
}

/// Completion of scheduled duties (on time, late, missed, pending) from
/// `from` to `to`, in total and by station, person or template.
pub async fn completion(
    store: &dyn Store,
    scope_path: &str,
    by: &str,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> SResult<(zhufang_domain::duty::Completion, Vec<CompletionGroup>)> {
    use zhufang_domain::duty::{completion as figures, outcome};
    if !["station", "person", "template"].contains(&by) {
        return Err(ServiceError::field("by", "须为 station、person 或 template"));
    }
    let rows = store.duty_stats(scope_path, from, to).await?;
    let now = now.timestamp_millis();
    let total = figures(rows.iter().map(|r| outcome(r.due_at, r.done_at, now)));
    let mut groups: std::collections::BTreeMap<String, (String, Vec<zhufang_domain::duty::Outcome>)> =
        Default::default();
    for r in &rows {
        let (key, name) = match by {
            "person" => (format!("{:012}", r.user_id), r.user_name.clone()),
            "template" => (format!("{:012}", r.template_id), format!("{} · {}", r.template_name, r.station_name)),
            _ => (format!("{:012}", r.station_id), r.station_name.clone()),
        };
        groups.entry(key).or_insert_with(|| (name, vec![])).1.push(outcome(r.due_at, r.done_at, now));
    }
    let out = groups.into_iter().map(|(key, (name, o))| CompletionGroup { key, name, figures: figures(o) }).collect();
    Ok((total, out))
}
