//! Prevention tasks (主防任务): the default closed-loop workflow
//! 制定→派单→接单→处置→反馈→评价, phase clocks and due flags.

use crate::Role;
use crate::calendar::WorkCalendar;
use crate::workflow::{Actor, Effect, StateDef, TransitionRule, Workflow};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub const WORKFLOW: &str = "task";

/// Share of a phase's window after which a task is "due soon".
pub const DUE_SOON_SHARE: f64 = 0.8;

pub(crate) fn st(state: &str, zh: &str, en: &str, terminal: bool, initial: bool) -> StateDef {
    StateDef { state: state.into(), label_zh: zh.into(), label_en: en.into(), terminal, initial }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn tr(
    from: &str,
    action: &str,
    to: &str,
    allowed: &[Actor],
    required: &[&str],
    effects: &[Effect],
    zh: &str,
    en: &str,
) -> TransitionRule {
    TransitionRule {
        from: from.into(),
        action: action.into(),
        to: to.into(),
        allowed: allowed.to_vec(),
        required: required.iter().map(|s| s.to_string()).collect(),
        effects: effects.to_vec(),
        guards: vec![],
        label_zh: zh.into(),
        label_en: en.into(),
    }
}

/// The default task workflow that a fresh database is seeded with. A
/// deployment edits the rows in `workflow_transitions`, not this code.
pub fn default_workflow() -> Workflow {
    use Actor::*;
    use Effect::*;
    let leader = Role(crate::Role::StationLeader);
    let command = Role(crate::Role::CommandRoom);
    let admin = Role(crate::Role::Admin);
    let states = vec![
        st("draft", "制定", "Draft", false, true),
        st("dispatched", "已派单", "Dispatched", false, false),
        st("refused", "已退单", "Refused", false, false),
        st("accepted", "已接单", "Accepted", false, false),
        st("in_progress", "处置中", "In progress", false, false),
        st("feedback_submitted", "已反馈", "Feedback submitted", false, false),
        st("evaluated", "已评价", "Evaluated", true, false),
        st("cancelled", "已撤销", "Cancelled", true, false),
    ];
    let dispatchers = [leader.clone(), command.clone(), admin.clone()];
    let rules = vec![
        tr(
            "draft",
            "dispatch",
            "dispatched",
            &dispatchers,
            &["assignee"],
            &[SetAssignee, StartAcceptClock],
            "派单",
            "Dispatch",
        ),
        tr(
            "draft",
            "cancel",
            "cancelled",
            &[leader.clone(), command.clone(), Creator],
            &[],
            &[StopClock],
            "撤销",
            "Cancel",
        ),
        tr("dispatched", "accept", "accepted", &[Assignee], &[], &[StartFinishClock], "接单", "Accept"),
        tr("dispatched", "refuse", "refused", &[Assignee], &["note"], &[ClearAssignee, StopClock], "退单", "Refuse"),
        tr(
            "dispatched",
            "reassign",
            "dispatched",
            &dispatchers,
            &["assignee"],
            &[SetAssignee, StartAcceptClock],
            "改派",
            "Reassign",
        ),
        tr(
            "dispatched",
            "cancel",
            "cancelled",
            &[leader.clone(), command.clone(), Dispatcher],
            &["note"],
            &[StopClock],
            "撤销",
            "Cancel",
        ),
        tr(
            "refused",
            "dispatch",
            "dispatched",
            &dispatchers,
            &["assignee"],
            &[SetAssignee, StartAcceptClock],
            "重新派单",
            "Dispatch again",
        ),
        tr(
            "refused",
            "cancel",
            "cancelled",
            &[leader.clone(), command.clone(), Dispatcher],
            &["note"],
            &[StopClock],
            "撤销",
            "Cancel",
        ),
        tr("accepted", "start", "in_progress", &[Assignee], &[], &[], "开始处置", "Start"),
        tr(
            "accepted",
            "reassign",
            "dispatched",
            &dispatchers,
            &["assignee", "note"],
            &[SetAssignee, StartAcceptClock],
            "改派",
            "Reassign",
        ),
        tr(
            "accepted",
            "cancel",
            "cancelled",
            &[leader.clone(), command.clone()],
            &["note"],
            &[StopClock],
            "撤销",
            "Cancel",
        ),
        tr(
            "in_progress",
            "submit_feedback",
            "feedback_submitted",
            &[Assignee],
            &["note"],
            &[RecordFeedback, StopClock],
            "提交反馈",
            "Submit feedback",
        ),
        tr(
            "in_progress",
            "reassign",
            "dispatched",
            &dispatchers,
            &["assignee", "note"],
            &[SetAssignee, StartAcceptClock],
            "改派",
            "Reassign",
        ),
        tr(
            "in_progress",
            "cancel",
            "cancelled",
            &[leader.clone(), command.clone()],
            &["note"],
            &[StopClock],
            "撤销",
            "Cancel",
        ),
        tr(
            "feedback_submitted",
            "evaluate",
            "evaluated",
            &[leader.clone(), admin.clone()],
            &["score"],
            &[SetScore],
            "评价",
            "Evaluate",
        ),
        tr(
            "feedback_submitted",
            "return",
            "in_progress",
            &[leader.clone(), admin],
            &["note"],
            &[CountRework, StartFinishClock],
            "退回重办",
            "Return for rework",
        ),
    ];
    // Nobody evaluates or returns their own work.
    let mut rules = rules;
    for r in rules.iter_mut().filter(|r| matches!(r.action.as_str(), "evaluate" | "return")) {
        r.guards.push(crate::workflow::Guard::NotAssignee);
    }
    Workflow::new(WORKFLOW, states, rules).expect("the default task workflow is valid")
}

/// Time limits of a catalogue item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PhaseLimits {
    /// Accept (接单) within this many hours of dispatch.
    pub accept_hours: u32,
    /// Finish (反馈) within this many working days of acceptance.
    pub finish_workdays: u32,
}

/// A running phase clock: when it started and when it runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Clock {
    pub started_at: DateTime<Utc>,
    pub deadline_at: DateTime<Utc>,
}

/// The clock after a transition with these effects. `due_at` (a deadline the
/// dispatcher set on the task) caps the finish clock. `current` is kept when
/// no clock effect applies.
pub fn next_clock(
    effects: &[Effect],
    current: Option<Clock>,
    now: DateTime<Utc>,
    limits: PhaseLimits,
    due_at: Option<DateTime<Utc>>,
    calendar: &WorkCalendar,
) -> Option<Clock> {
    let mut clock = current;
    for e in effects {
        match e {
            Effect::StartAcceptClock => {
                clock =
                    Some(Clock { started_at: now, deadline_at: now + Duration::hours(i64::from(limits.accept_hours)) })
            }
            Effect::StartFinishClock => {
                let by_limit = calendar.add_workdays(now, limits.finish_workdays);
                let deadline = match due_at {
                    Some(d) if d < by_limit => d,
                    _ => by_limit,
                };
                clock = Some(Clock { started_at: now, deadline_at: deadline.max(now) })
            }
            Effect::StopClock => clock = None,
            _ => {}
        }
    }
    clock
}

/// Where a task stands against its running clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueStatus {
    None,
    OnTime,
    DueSoon,
    Overdue,
}

impl DueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DueStatus::None => "none",
            DueStatus::OnTime => "on_time",
            DueStatus::DueSoon => "due_soon",
            DueStatus::Overdue => "overdue",
        }
    }
}

pub fn due_status(clock: Option<Clock>, now: DateTime<Utc>) -> DueStatus {
    let Some(c) = clock else { return DueStatus::None };
    if now > c.deadline_at {
        return DueStatus::Overdue;
    }
    if now >= due_soon_at(c) { DueStatus::DueSoon } else { DueStatus::OnTime }
}

/// The moment a clock passes [`DUE_SOON_SHARE`] of its window.
pub fn due_soon_at(c: Clock) -> DateTime<Utc> {
    let window = (c.deadline_at - c.started_at).num_seconds().max(0) as f64;
    c.started_at + Duration::seconds((window * DUE_SOON_SHARE) as i64)
}

/// What a patrol (巡查) or visit (走访) found, fed back with it: the places or
/// households visited and the problems found (each can become a hazard or a
/// dispute with one click).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldReport {
    #[serde(default)]
    pub visited: Vec<String>,
    /// Households visited (走访户数).
    pub households: Option<i64>,
    #[serde(default)]
    pub problems: Vec<String>,
}

/// At most this many places visited and problems in one report.
pub const MAX_VISITED: usize = 50;
pub const MAX_PROBLEMS: usize = 20;

impl FieldReport {
    /// From form text: one place or problem a line.
    pub fn from_lines(visited: &str, households: Option<i64>, problems: &str) -> FieldReport {
        let lines = |s: &str| s.lines().map(str::to_string).collect();
        FieldReport { visited: lines(visited), households, problems: lines(problems) }
    }

    /// Trimmed, blank items dropped, then checked: at most 50 places and 20
    /// problems of 200 characters each, 0–10 000 households.
    pub fn parse(self) -> Result<FieldReport, Vec<(&'static str, &'static str)>> {
        let clean = |v: Vec<String>| -> Vec<String> {
            v.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
        };
        let r =
            FieldReport { visited: clean(self.visited), households: self.households, problems: clean(self.problems) };
        let mut errs = vec![];
        if r.visited.len() > MAX_VISITED || r.visited.iter().any(|s| s.chars().count() > 200) {
            errs.push(("report.visited", "走访巡查地点最多50处，每处不超过200字"));
        }
        if r.problems.len() > MAX_PROBLEMS || r.problems.iter().any(|s| s.chars().count() > 200) {
            errs.push(("report.problems", "发现问题最多20条，每条不超过200字"));
        }
        if r.households.is_some_and(|h| !(0..=10_000).contains(&h)) {
            errs.push(("report.households", "走访户数须为0至10000"));
        }
        if errs.is_empty() { Ok(r) } else { Err(errs) }
    }

    pub fn is_empty(&self) -> bool {
        self.visited.is_empty() && self.households.is_none() && self.problems.is_empty()
    }
}

/// Checks the free-form fields of a transition. Returns per-field Chinese messages.
pub fn check_transition_fields(note: Option<&str>, score: Option<i64>) -> Vec<(&'static str, &'static str)> {
    let mut errs = vec![];
    if let Some(n) = note
        && n.chars().count() > 4000
    {
        errs.push(("note", "说明不能超过4000字"));
    }
    if let Some(s) = score
        && !(1..=5).contains(&s)
    {
        errs.push(("score", "评分须为1至5的整数"));
    }
    errs
}

/// Checks the fields of a new task. Returns per-field Chinese messages.
pub fn check_new_task(title: &str, description: Option<&str>) -> Vec<(&'static str, &'static str)> {
    let mut errs = vec![];
    let n = title.trim().chars().count();
    if n == 0 {
        errs.push(("title", "任务标题不能为空"));
    } else if n > 200 {
        errs.push(("title", "任务标题不能超过200字"));
    }
    if description.is_some_and(|d| d.chars().count() > 4000) {
        errs.push(("description", "任务说明不能超过4000字"));
    }
    errs
}

/// Roles that may create tasks.
pub fn may_create(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Admin | Role::StationLeader | Role::CommandRoom))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::{ActorCtx, Subject, TransitionError};
    use chrono::TimeZone;
    use proptest::prelude::*;

    const ACTIONS: [&str; 10] = [
        "dispatch",
        "accept",
        "refuse",
        "start",
        "submit_feedback",
        "return",
        "evaluate",
        "reassign",
        "cancel",
        "bogus",
    ];

    #[test]
    fn happy_path() {
        let wf = default_workflow();
        let leader = [Role::StationLeader];
        let officer = [Role::CommunityOfficer];
        let mut s = Subject { state: "draft", assignee: None, dispatcher: None, creator: Some(1) };
        let have = |_: &str| true;
        let r = wf.decide(&s, &ActorCtx { user_id: 1, roles: &leader }, "dispatch", &have).unwrap();
        assert_eq!(r.to, "dispatched");
        s = Subject { state: "dispatched", assignee: Some(2), dispatcher: Some(1), creator: Some(1) };
        // the leader is not the assignee
        assert!(matches!(
            wf.decide(&s, &ActorCtx { user_id: 1, roles: &leader }, "accept", &have),
            Err(TransitionError::Forbidden { .. })
        ));
        assert_eq!(wf.decide(&s, &ActorCtx { user_id: 2, roles: &officer }, "accept", &have).unwrap().to, "accepted");
        assert!(matches!(
            wf.decide(&s, &ActorCtx { user_id: 2, roles: &officer }, "evaluate", &have),
            Err(TransitionError::InvalidTransition { .. })
        ));
        assert!(matches!(
            wf.decide(&s, &ActorCtx { user_id: 2, roles: &officer }, "refuse", &|_| false),
            Err(TransitionError::MissingFields(f)) if f == vec!["note".to_string()]
        ));
    }

    #[test]
    fn nobody_evaluates_their_own_work() {
        let wf = default_workflow();
        let leader = [Role::StationLeader];
        let s = Subject { state: "feedback_submitted", assignee: Some(1), dispatcher: Some(9), creator: Some(9) };
        let have = |_: &str| true;
        assert!(matches!(
            wf.decide(&s, &ActorCtx { user_id: 1, roles: &leader }, "evaluate", &have),
            Err(TransitionError::GuardFailed { .. })
        ));
        assert!(wf.available(&s, &ActorCtx { user_id: 1, roles: &leader }).is_empty());
        assert!(wf.decide(&s, &ActorCtx { user_id: 2, roles: &leader }, "evaluate", &have).is_ok());
    }

    #[test]
    fn clocks() {
        let cal = WorkCalendar::default();
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 2, 0, 0).unwrap(); // Fri 10:00 Beijing
        let lim = PhaseLimits { accept_hours: 4, finish_workdays: 2 };
        let c = next_clock(&[Effect::StartAcceptClock], None, now, lim, None, &cal).unwrap();
        assert_eq!(c.deadline_at, now + Duration::hours(4));
        let c2 = next_clock(&[Effect::StartFinishClock], Some(c), now, lim, None, &cal).unwrap();
        assert_eq!(c2.deadline_at, Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap()); // Tue
        let cap = now + Duration::hours(30);
        let c3 = next_clock(&[Effect::StartFinishClock], None, now, lim, Some(cap), &cal).unwrap();
        assert_eq!(c3.deadline_at, cap);
        assert_eq!(next_clock(&[Effect::StopClock], Some(c), now, lim, None, &cal), None);
        assert_eq!(next_clock(&[Effect::CountRework], Some(c), now, lim, None, &cal), Some(c));
        assert_eq!(due_status(Some(c), now), DueStatus::OnTime);
        assert_eq!(due_status(Some(c), now + Duration::minutes(193)), DueStatus::DueSoon);
        assert_eq!(due_status(Some(c), now + Duration::minutes(241)), DueStatus::Overdue);
        assert_eq!(due_status(None, now), DueStatus::None);
    }

    #[test]
    fn field_reports_are_cleaned_and_checked() {
        let r = FieldReport::from_lines("幸福路12号\n\n  幸福路14号 ", Some(6), "楼道堆放杂物\n");
        let r = r.parse().unwrap();
        assert_eq!(r.visited, ["幸福路12号", "幸福路14号"]);
        assert_eq!(r.problems, ["楼道堆放杂物"]);
        let long = FieldReport { problems: vec!["问".repeat(201)], households: Some(-1), ..Default::default() };
        let fields: Vec<&str> = long.parse().unwrap_err().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["report.problems", "report.households"]);
        assert!(FieldReport::from_lines(" \n", None, "").parse().unwrap().is_empty());
    }

    proptest! {
        /// Parsing a report never panics; what it accepts has no blank or
        /// over-long item and parses again to itself.
        #[test]
        fn field_report_parsing_is_clean_and_idempotent(visited in ".{0,300}", problems in "(.{0,30}\n){0,25}", households in proptest::option::of(-5i64..20_000)) {
            if let Ok(r) = FieldReport::from_lines(&visited, households, &problems).parse() {
                prop_assert!(r.visited.iter().chain(&r.problems).all(|s| !s.is_empty() && s.trim() == s && s.chars().count() <= 200));
                prop_assert!(r.problems.len() <= MAX_PROBLEMS);
                prop_assert_eq!(r.clone().parse().unwrap(), r);
            }
        }

        /// Random action sequences by random actors never reach a state the
        /// transition table does not allow, and every change follows a rule.
        #[test]
        fn random_sequences_stay_in_the_table(steps in proptest::collection::vec((0usize..10, 0i64..4, 0usize..7, any::<bool>()), 0..60)) {
            let wf = default_workflow();
            let mut state = "draft".to_string();
            let mut assignee: Option<i64> = None;
            let mut dispatcher: Option<i64> = None;
            for (a, uid, role_ix, fields) in steps {
                let roles = [Role::ALL[role_ix]];
                let subject = Subject { state: &state, assignee, dispatcher, creator: Some(0) };
                let actor = ActorCtx { user_id: uid, roles: &roles };
                let before = state.clone();
                match wf.decide(&subject, &actor, ACTIONS[a], &|_| fields) {
                    Ok(rule) => {
                        prop_assert_eq!(&rule.from, &before);
                        prop_assert!(!wf.is_terminal(&before));
                        if rule.effects.contains(&Effect::SetAssignee) {
                            assignee = Some((uid + 1) % 4);
                            dispatcher = Some(uid);
                        }
                        if rule.effects.contains(&Effect::ClearAssignee) {
                            assignee = None;
                        }
                        state = rule.to.clone();
                    }
                    Err(_) => prop_assert_eq!(&state, &before),
                }
                prop_assert!(wf.state(&state).is_some());
            }
        }
    }
}
