//! Incidents (警情): channels, severity, handling results, repeat-call
//! windows and the default incident workflow — police matters
//! 接警→研判→派警→到场→处置→结束, non-police matters
//! 接警→研判→分流→签收→办结→回访结束, with 退回 back to the command room.

use crate::task::{st, tr};
use crate::workflow::{Actor, Effect, Workflow};
use serde::Serialize;

pub const WORKFLOW: &str = "incident";

/// Where an incident came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 110 报警
    Call110,
    /// 12345 转来
    Transfer12345,
    /// 来所报案
    WalkIn,
    /// 巡逻发现
    Patrol,
    /// 群众 App / 小程序
    PublicApp,
    Other,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::Call110,
        Channel::Transfer12345,
        Channel::WalkIn,
        Channel::Patrol,
        Channel::PublicApp,
        Channel::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Call110 => "110",
            Channel::Transfer12345 => "12345",
            Channel::WalkIn => "walk_in",
            Channel::Patrol => "patrol",
            Channel::PublicApp => "app",
            Channel::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Channel::Call110 => "110报警",
            Channel::Transfer12345 => "12345转来",
            Channel::WalkIn => "来所报案",
            Channel::Patrol => "巡逻发现",
            Channel::PublicApp => "群众App",
            Channel::Other => "其他",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Channel::Call110 => "110 call",
            Channel::Transfer12345 => "From 12345",
            Channel::WalkIn => "Walk-in",
            Channel::Patrol => "Patrol",
            Channel::PublicApp => "Public app",
            Channel::Other => "Other",
        }
    }
}

/// 警情等级: 1 一般 · 2 紧急 · 3 危机.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    Normal = 1,
    Urgent = 2,
    Critical = 3,
}

impl Severity {
    pub fn from_level(n: i64) -> Option<Severity> {
        match n {
            1 => Some(Severity::Normal),
            2 => Some(Severity::Urgent),
            3 => Some(Severity::Critical),
            _ => None,
        }
    }
    pub fn level(self) -> i64 {
        self as i64
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Severity::Normal => "一般",
            Severity::Urgent => "紧急",
            Severity::Critical => "危机",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Severity::Normal => "Normal",
            Severity::Urgent => "Urgent",
            Severity::Critical => "Critical",
        }
    }
    pub const ALL: [Severity; 3] = [Severity::Normal, Severity::Urgent, Severity::Critical];
}

/// How a police matter ended (处置结果).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlingResult {
    /// 现场自处 (closed on site)
    OnSite,
    /// 刑事立案
    CriminalCase,
    /// 行政立案
    AdministrativeCase,
    /// 移交其他单位
    Transferred,
    /// 登记为矛盾纠纷 (to the dispute ledger)
    DisputeRegistered,
}

impl HandlingResult {
    pub const ALL: [HandlingResult; 5] = [
        HandlingResult::OnSite,
        HandlingResult::CriminalCase,
        HandlingResult::AdministrativeCase,
        HandlingResult::Transferred,
        HandlingResult::DisputeRegistered,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            HandlingResult::OnSite => "on_site",
            HandlingResult::CriminalCase => "criminal_case",
            HandlingResult::AdministrativeCase => "administrative_case",
            HandlingResult::Transferred => "transferred",
            HandlingResult::DisputeRegistered => "dispute_registered",
        }
    }
    pub fn parse(s: &str) -> Option<HandlingResult> {
        HandlingResult::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            HandlingResult::OnSite => "现场自处",
            HandlingResult::CriminalCase => "刑事立案",
            HandlingResult::AdministrativeCase => "行政立案",
            HandlingResult::Transferred => "移交",
            HandlingResult::DisputeRegistered => "登记矛盾纠纷",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            HandlingResult::OnSite => "Closed on site",
            HandlingResult::CriminalCase => "Criminal case opened",
            HandlingResult::AdministrativeCase => "Administrative case opened",
            HandlingResult::Transferred => "Transferred",
            HandlingResult::DisputeRegistered => "Dispute registered",
        }
    }
}

/// Repeat calls: by default the same phone within this many minutes links to
/// the earlier incident ([`IntakeSettings`] holds what a deployment set).
pub const REPEAT_WINDOW_MINUTES: i64 = 60;
/// For disputes (types flagged as such) the window is longer.
pub const REPEAT_WINDOW_DISPUTE_MINUTES: i64 = 72 * 60;

/// The intake windows a deployment edits (警情类别字典 page, `PUT
/// /api/v1/incident-settings`): repeat calls from the same phone, and
/// near-duplicates (same type, close in place and time) suggested at intake.
/// Constructed through [`IntakeSettings::new`], so the values are in range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IntakeSettings {
    repeat_minutes: i64,
    repeat_dispute_minutes: i64,
    similar_metres: i64,
    similar_minutes: i64,
}

impl Default for IntakeSettings {
    fn default() -> Self {
        IntakeSettings {
            repeat_minutes: REPEAT_WINDOW_MINUTES,
            repeat_dispute_minutes: REPEAT_WINDOW_DISPUTE_MINUTES,
            similar_metres: 500,
            similar_minutes: 120,
        }
    }
}

/// The longest window: 30 days.
pub const MAX_WINDOW_MINUTES: i64 = 30 * 24 * 60;

impl IntakeSettings {
    /// Checks every value and reports each one out of range as
    /// (field, message in Chinese).
    pub fn new(
        repeat_minutes: i64,
        repeat_dispute_minutes: i64,
        similar_metres: i64,
        similar_minutes: i64,
    ) -> Result<IntakeSettings, Vec<(&'static str, &'static str)>> {
        let mut errs = vec![];
        if !(1..=MAX_WINDOW_MINUTES).contains(&repeat_minutes) {
            errs.push(("repeat_minutes", "重复来电关联时间须为1至43200分钟"));
        }
        if !(1..=MAX_WINDOW_MINUTES).contains(&repeat_dispute_minutes) {
            errs.push(("repeat_dispute_minutes", "纠纷类重复来电关联时间须为1至43200分钟"));
        } else if repeat_dispute_minutes < repeat_minutes {
            errs.push(("repeat_dispute_minutes", "纠纷类关联时间不应短于一般关联时间"));
        }
        if !(10..=5000).contains(&similar_metres) {
            errs.push(("similar_metres", "相似警情距离须为10至5000米"));
        }
        if !(1..=MAX_WINDOW_MINUTES).contains(&similar_minutes) {
            errs.push(("similar_minutes", "相似警情时间须为1至43200分钟"));
        }
        if errs.is_empty() {
            Ok(IntakeSettings { repeat_minutes, repeat_dispute_minutes, similar_metres, similar_minutes })
        } else {
            Err(errs)
        }
    }
    pub fn repeat_minutes(&self) -> i64 {
        self.repeat_minutes
    }
    pub fn repeat_dispute_minutes(&self) -> i64 {
        self.repeat_dispute_minutes
    }
    /// The repeat-call window for a matter of a dispute type or not.
    pub fn repeat_window(&self, dispute: bool) -> i64 {
        if dispute { self.repeat_dispute_minutes } else { self.repeat_minutes }
    }
    pub fn similar_metres(&self) -> i64 {
        self.similar_metres
    }
    pub fn similar_minutes(&self) -> i64 {
        self.similar_minutes
    }
}

/// The default incident workflow a fresh database is seeded with; the rows
/// in `workflow_transitions` are what a deployment edits.
pub fn default_workflow() -> Workflow {
    use Actor::*;
    use Effect::*;
    let command = Role(crate::Role::CommandRoom);
    let leader = Role(crate::Role::StationLeader);
    let admin = Role(crate::Role::Admin);
    let officer = Role(crate::Role::CommunityOfficer);
    let agency = Role(crate::Role::PartnerAgency);
    let desk = [command.clone(), leader.clone(), admin.clone()];
    let states = vec![
        st("received", "已接警", "Received", false, true),
        st("triaged", "已研判", "Triaged", false, false),
        st("dispatched", "已派警", "Dispatched", false, false),
        st("arrived", "已到场", "Arrived", false, false),
        st("handled", "已处置", "Handled", false, false),
        st("diverted", "已分流", "Diverted", false, false),
        st("signed_for", "已签收", "Signed for", false, false),
        st("agency_done", "联动单位已办结", "Done by agency", false, false),
        st("returned", "被退回", "Returned", false, false),
        st("closed", "已结束", "Closed", true, false),
        st("invalid", "无效警情", "Invalid", true, false),
    ];
    let rules = vec![
        tr("received", "triage", "triaged", &desk, &["police"], &[], "研判", "Triage"),
        tr("received", "invalidate", "invalid", &desk, &["note"], &[], "无效警情", "Mark invalid"),
        tr("triaged", "triage", "triaged", &desk, &["police"], &[], "重新研判", "Re-triage"),
        tr("triaged", "dispatch", "dispatched", &desk, &["assignee"], &[SetAssignee], "派警", "Dispatch"),
        tr("triaged", "divert", "diverted", &desk, &["agency"], &[], "分流移交", "Divert"),
        tr("triaged", "invalidate", "invalid", &desk, &["note"], &[], "无效警情", "Mark invalid"),
        tr("dispatched", "arrive", "arrived", &[Assignee, command.clone()], &[], &[], "到场", "Arrive"),
        tr("dispatched", "reassign", "dispatched", &desk, &["assignee"], &[SetAssignee], "改派", "Reassign"),
        tr(
            "arrived",
            "handle",
            "handled",
            &[Assignee, command.clone(), officer],
            &["result"],
            &[],
            "处置完毕",
            "Handled",
        ),
        tr("handled", "close", "closed", &desk, &[], &[], "结束", "Close"),
        tr("diverted", "sign_for", "signed_for", std::slice::from_ref(&agency), &[], &[], "签收", "Sign for"),
        tr("diverted", "return", "returned", std::slice::from_ref(&agency), &["note"], &[], "退回", "Return"),
        tr("signed_for", "return", "returned", std::slice::from_ref(&agency), &["note"], &[], "退回", "Return"),
        tr("signed_for", "agency_done", "agency_done", &[agency], &["note"], &[], "办结", "Done"),
        tr("agency_done", "close", "closed", &desk, &["rating"], &[], "回访结束", "Close with call-back"),
        tr("returned", "triage", "triaged", &desk, &["police"], &[], "重新研判", "Re-triage"),
    ];
    Workflow::new(WORKFLOW, states, rules).expect("the default incident workflow is valid")
}

/// 回访 rating: 1 非常满意 … 5 非常不满意 (12345 practice).
pub fn rating_label(r: i64) -> Option<&'static str> {
    ["非常满意", "满意", "基本满意", "不满意", "非常不满意"].get(usize::try_from(r).ok()?.checked_sub(1)?).copied()
}

/// The same rating in English.
pub fn rating_label_en(r: i64) -> Option<&'static str> {
    ["Very satisfied", "Satisfied", "Fairly satisfied", "Dissatisfied", "Very dissatisfied"]
        .get(usize::try_from(r).ok()?.checked_sub(1)?)
        .copied()
}

/// A code of the 4-level type dictionary (类别/类型/细类/子类): 2, 4, 6 or 8
/// digits, each level adding two to its parent's. Returns its level and its
/// parent's code (None for a 类别).
pub fn parse_type_code(s: &str) -> Result<(i64, Option<&str>), &'static str> {
    let n = s.len();
    if !s.bytes().all(|b| b.is_ascii_digit()) || !matches!(n, 2 | 4 | 6 | 8) {
        return Err("类别编码须为2、4、6或8位数字（每级两位）");
    }
    if s.as_bytes().chunks(2).any(|c| c == b"00") {
        return Err("每级编码不能为00");
    }
    let level = (n / 2) as i64;
    Ok((level, (level > 1).then(|| &s[..n - 2])))
}

/// A diverted matter's time limits: the row whose type prefix is the
/// longest match of the type code ('' matches all), at most 1 hour and 1
/// working day when urgent. Returns (hours to sign for, working days to finish).
pub fn limits_for(limits: &[(String, i64, i64)], type_code: Option<&str>, severity: i64) -> (i64, i64) {
    let code = type_code.unwrap_or("");
    let (h, d) = limits
        .iter()
        .filter(|(p, _, _)| code.starts_with(p.as_str()))
        .max_by_key(|(p, _, _)| p.len())
        .map(|(_, h, d)| (*h, *d))
        .unwrap_or((2, 5));
    if severity >= Severity::Urgent.level() { (h.min(1), d.min(1)) } else { (h, d) }
}

/// The timestamps and facts of one incident that the response figures need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timing {
    pub received_at: i64,
    pub triaged_at: Option<i64>,
    pub dispatched_at: Option<i64>,
    pub arrived_at: Option<i64>,
    pub handled_at: Option<i64>,
    pub diverted: bool,
    pub signed_for_at: Option<i64>,
    pub diverted_at: Option<i64>,
    pub police: Option<bool>,
    pub result: Option<String>,
    pub repeat: bool,
    pub agency_done_at: Option<i64>,
    pub done_due_at: Option<i64>,
    /// An agency sent it back at least once.
    pub returned: bool,
    /// After a return it was handed over again (重办).
    pub rediverted: bool,
    /// 回访 rating 1 (非常满意) … 5 (非常不满意).
    pub rating: Option<i64>,
}

/// Bucket edges of the 110 weekly report (DOMAIN.md): sign-for in seconds,
/// turn-out in minutes, feedback in minutes.
pub const SIGN_FOR_EDGES_S: [i64; 4] = [30, 60, 120, 180];
pub const TURN_OUT_EDGES_MIN: [i64; 4] = [5, 10, 15, 30];
pub const FEEDBACK_EDGES_MIN: [i64; 4] = [30, 60, 120, 240];

/// Counts per bucket: `edges.len() + 1` buckets, the last open-ended.
pub fn buckets(values: &[i64], edges: &[i64]) -> Vec<i64> {
    let mut out = vec![0; edges.len() + 1];
    for v in values {
        let k = edges.iter().position(|e| v < e).unwrap_or(edges.len());
        out[k] += 1;
    }
    out
}

/// Response figures over a set of incidents. Times in milliseconds in, in
/// seconds or minutes out as named; rates are shares in [0, 1] (None when
/// there is nothing to divide by).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub incidents: i64,
    /// received → triaged (签收), seconds, in the report's buckets.
    pub sign_for_buckets: Vec<i64>,
    /// dispatched → arrived (出警到场), minutes, in the report's buckets.
    pub turn_out_buckets: Vec<i64>,
    /// arrived → handled (处置反馈), minutes, in the report's buckets.
    pub feedback_buckets: Vec<i64>,
    /// dispatched → arrived, seconds.
    pub arrival_avg_s: Option<f64>,
    pub arrival_median_s: Option<f64>,
    pub arrived_within_5min: Option<f64>,
    /// Share of handled police matters that were not cases (no 刑事/行政 立案)
    /// and were closed on site by the patrol (自处率).
    pub self_handled_rate: Option<f64>,
    /// Share of triaged incidents diverted to an agency.
    pub diversion_rate: Option<f64>,
    /// Share of incidents that repeat an earlier call.
    pub repeat_rate: Option<f64>,
    /// Share of diverted incidents the agency has signed for.
    pub agency_sign_for_rate: Option<f64>,
    /// diverted → signed for, hours (average).
    pub agency_sign_for_avg_h: Option<f64>,
    /// Share of the agencies' finished matters finished within their limit.
    pub agency_on_time_rate: Option<f64>,
    /// 12345 KPIs: share of diverted matters an agency sent back (回退率)…
    pub agency_return_rate: Option<f64>,
    /// …share of diverted matters handed over again after a return (重办率)…
    pub agency_redo_rate: Option<f64>,
    /// …share of diverted matters the agency has finished (办结率)…
    pub agency_done_rate: Option<f64>,
    /// …share of finished matters the command room called back and rated (回访率)…
    pub callback_rate: Option<f64>,
    /// …and share of rated call-backs 满意 or 非常满意 (满意率).
    pub satisfaction_rate: Option<f64>,
}

fn share(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn median(v: &mut [i64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] as f64 } else { (v[m - 1] + v[m]) as f64 / 2.0 })
}

pub fn figures(items: &[Timing]) -> Figures {
    let span = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(a), Some(b)) if b >= a => Some(b - a),
        _ => None,
    };
    let sign_for: Vec<i64> =
        items.iter().filter_map(|t| span(Some(t.received_at), t.triaged_at)).map(|ms| ms / 1000).collect();
    let mut arrival: Vec<i64> =
        items.iter().filter_map(|t| span(t.dispatched_at, t.arrived_at)).map(|ms| ms / 1000).collect();
    let turn_out: Vec<i64> = arrival.iter().map(|s| s / 60).collect();
    let feedback: Vec<i64> =
        items.iter().filter_map(|t| span(t.arrived_at, t.handled_at)).map(|ms| ms / 60_000).collect();
    let non_case: Vec<&Timing> = items
        .iter()
        .filter(|t| t.handled_at.is_some())
        .filter(|t| !matches!(t.result.as_deref(), Some("criminal_case" | "administrative_case")))
        .collect();
    let on_site = non_case.iter().filter(|t| t.result.as_deref() == Some("on_site")).count();
    let triaged = items.iter().filter(|t| t.triaged_at.is_some()).count();
    let diverted: Vec<&Timing> = items.iter().filter(|t| t.diverted).collect();
    let signed: Vec<i64> = diverted.iter().filter_map(|t| span(t.diverted_at, t.signed_for_at)).collect();
    Figures {
        incidents: items.len() as i64,
        sign_for_buckets: buckets(&sign_for, &SIGN_FOR_EDGES_S),
        turn_out_buckets: buckets(&turn_out, &TURN_OUT_EDGES_MIN),
        feedback_buckets: buckets(&feedback, &FEEDBACK_EDGES_MIN),
        arrival_avg_s: (!arrival.is_empty()).then(|| arrival.iter().sum::<i64>() as f64 / arrival.len() as f64),
        arrived_within_5min: share(arrival.iter().filter(|s| **s <= 300).count(), arrival.len()),
        arrival_median_s: median(&mut arrival),
        self_handled_rate: share(on_site, non_case.len()),
        diversion_rate: share(diverted.len(), triaged),
        repeat_rate: share(items.iter().filter(|t| t.repeat).count(), items.len()),
        agency_sign_for_rate: share(diverted.iter().filter(|t| t.signed_for_at.is_some()).count(), diverted.len()),
        agency_sign_for_avg_h: (!signed.is_empty())
            .then(|| signed.iter().sum::<i64>() as f64 / signed.len() as f64 / 3_600_000.0),
        agency_return_rate: share(diverted.iter().filter(|t| t.returned).count(), diverted.len()),
        agency_redo_rate: share(diverted.iter().filter(|t| t.rediverted).count(), diverted.len()),
        agency_done_rate: share(diverted.iter().filter(|t| t.agency_done_at.is_some()).count(), diverted.len()),
        callback_rate: {
            let done: Vec<&&Timing> = diverted.iter().filter(|t| t.agency_done_at.is_some()).collect();
            share(done.iter().filter(|t| t.rating.is_some()).count(), done.len())
        },
        satisfaction_rate: {
            let rated: Vec<i64> = items.iter().filter_map(|t| t.rating).collect();
            share(rated.iter().filter(|r| **r <= 2).count(), rated.len())
        },
        agency_on_time_rate: {
            let done: Vec<&&Timing> =
                diverted.iter().filter(|t| t.agency_done_at.is_some() && t.done_due_at.is_some()).collect();
            share(done.iter().filter(|t| t.agency_done_at <= t.done_due_at).count(), done.len())
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::{ActorCtx, Subject, TransitionError};

    fn fire<'w>(
        wf: &'w Workflow,
        state: &str,
        roles: &[crate::Role],
        action: &str,
        fields: &[&str],
    ) -> Result<&'w str, TransitionError> {
        let subject = Subject { state, assignee: Some(7), dispatcher: Some(1), creator: Some(1) };
        let actor = ActorCtx { user_id: 99, roles };
        wf.decide(&subject, &actor, action, &|f| fields.contains(&f)).map(|r| r.to.as_str())
    }

    #[test]
    fn intake_settings_are_checked() {
        let d = IntakeSettings::default();
        assert_eq!((d.repeat_window(false), d.repeat_window(true)), (60, 4320));
        assert_eq!(IntakeSettings::new(60, 4320, 500, 120), Ok(d));
        let s = IntakeSettings::new(15, 600, 200, 30).unwrap();
        assert_eq!(
            (s.repeat_window(false), s.repeat_window(true), s.similar_metres(), s.similar_minutes()),
            (15, 600, 200, 30)
        );
        let fields = |r: Result<IntakeSettings, Vec<(&'static str, &'static str)>>| {
            r.unwrap_err().into_iter().map(|(f, _)| f).collect::<Vec<_>>()
        };
        assert_eq!(
            fields(IntakeSettings::new(0, MAX_WINDOW_MINUTES + 1, 5, 0)),
            ["repeat_minutes", "repeat_dispute_minutes", "similar_metres", "similar_minutes"]
        );
        // the dispute window is never the shorter one
        assert_eq!(fields(IntakeSettings::new(120, 60, 500, 120)), ["repeat_dispute_minutes"]);
    }

    #[test]
    fn the_12345_rates_of_hand_overs() {
        let h = |returned, rediverted, done: Option<i64>, rating| Timing {
            diverted: true,
            diverted_at: Some(0),
            returned,
            rediverted,
            agency_done_at: done,
            rating,
            ..Default::default()
        };
        let f = figures(&[
            h(true, true, Some(5), Some(1)), // returned, handed over again, done, called back
            h(true, false, None, None),      // returned, not yet handed over again
            h(false, false, Some(5), None),  // done, not yet called back
            h(false, false, None, None),     // in hand
            Timing { received_at: 0, ..Default::default() }, // not a hand-over
        ]);
        assert_eq!((f.agency_return_rate, f.agency_redo_rate), (Some(0.5), Some(0.25)));
        assert_eq!((f.agency_done_rate, f.callback_rate, f.satisfaction_rate), (Some(0.5), Some(0.5), Some(1.0)));
    }

    #[test]
    fn type_codes_are_two_digits_a_level() {
        assert_eq!(parse_type_code("01"), Ok((1, None)));
        assert_eq!(parse_type_code("0801"), Ok((2, Some("08"))));
        assert_eq!(parse_type_code("01020104"), Ok((4, Some("010201"))));
        for bad in ["", "1", "010", "0102010401", "01a1", "0100", "00", "０１", "00000001"] {
            assert!(parse_type_code(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Whatever the input, a code is accepted only when its parent chain is made of codes too.
        #[test]
        fn a_type_codes_parent_is_a_type_code(s in "[0-9]{0,9}|\\PC{0,10}") {
            if let Ok((level, parent)) = parse_type_code(&s) {
                proptest::prop_assert_eq!(s.len() as i64, level * 2);
                match parent {
                    None => proptest::prop_assert_eq!(level, 1),
                    Some(p) => proptest::prop_assert_eq!(parse_type_code(p).map(|x| x.0), Ok(level - 1)),
                }
            }
        }
    }

    #[test]
    fn both_paths_reach_closed() {
        use crate::Role::*;
        let wf = default_workflow();
        let cmd = [CommandRoom];
        let agency = [PartnerAgency];
        // police: received → triaged → dispatched → arrived → handled → closed
        let mut s = "received";
        for (roles, action, fields) in [
            (&cmd[..], "triage", &["police"][..]),
            (&cmd, "dispatch", &["assignee"]),
            (&cmd, "arrive", &[]),
            (&cmd, "handle", &["result"]),
            (&cmd, "close", &[]),
        ] {
            s = fire(&wf, s, roles, action, fields).unwrap();
        }
        assert_eq!(s, "closed");
        // non-police: … → diverted → signed_for → agency_done → closed (回访)
        let mut s = "triaged";
        for (roles, action, fields) in [
            (&cmd[..], "divert", &["agency"][..]),
            (&agency, "sign_for", &[]),
            (&agency, "agency_done", &["note"]),
            (&cmd, "close", &["rating"]),
        ] {
            s = fire(&wf, s, roles, action, fields).unwrap();
        }
        assert_eq!(s, "closed");
        // an agency returns it with a reason; the command room triages again
        assert_eq!(
            fire(&wf, "diverted", &agency, "return", &[]),
            Err(TransitionError::MissingFields(vec!["note".into()]))
        );
        assert_eq!(fire(&wf, "signed_for", &agency, "return", &["note"]), Ok("returned"));
        assert_eq!(fire(&wf, "returned", &cmd, "triage", &["police"]), Ok("triaged"));
        // the agency cannot dispatch police; the command room cannot sign for the agency
        assert!(matches!(
            fire(&wf, "triaged", &agency, "dispatch", &["assignee"]),
            Err(TransitionError::Forbidden { .. })
        ));
        assert!(matches!(fire(&wf, "diverted", &cmd, "sign_for", &[]), Err(TransitionError::Forbidden { .. })));
        assert!(wf.is_terminal("closed") && wf.is_terminal("invalid"));
    }

    #[test]
    fn response_figures() {
        let min = 60_000;
        let t = |recv: i64, tri: i64, disp: i64, arr: i64, hand: i64, result: &str| Timing {
            received_at: recv,
            triaged_at: Some(tri),
            dispatched_at: Some(disp),
            arrived_at: Some(arr),
            handled_at: Some(hand),
            police: Some(true),
            result: Some(result.into()),
            ..Default::default()
        };
        let items = vec![
            // signed for in 20 s, arrived in 4 min, handled 25 min later, on site
            t(0, 20_000, 30_000, 30_000 + 4 * min, 30_000 + 29 * min, "on_site"),
            // 90 s, 12 min, 50 min, a criminal case (not counted for 自处率)
            t(0, 90_000, 100_000, 100_000 + 12 * min, 100_000 + 62 * min, "criminal_case"),
            // 200 s, 3 min, 5 h, transferred
            t(0, 200_000, 210_000, 210_000 + 3 * min, 210_000 + 303 * min, "transferred"),
            // a diverted one, signed for 2 h later, a repeat call
            Timing {
                received_at: 0,
                triaged_at: Some(10_000),
                diverted: true,
                diverted_at: Some(10_000),
                signed_for_at: Some(10_000 + 120 * min),
                police: Some(false),
                repeat: true,
                agency_done_at: Some(10_000 + 200 * min),
                done_due_at: Some(10_000 + 300 * min),
                returned: true,
                rating: Some(2),
                ..Default::default()
            },
        ];
        let f = figures(&items);
        assert_eq!(f.incidents, 4);
        assert_eq!(f.sign_for_buckets, vec![2, 0, 1, 0, 1]);
        assert_eq!(f.turn_out_buckets, vec![2, 0, 1, 0, 0]);
        assert_eq!(f.feedback_buckets, vec![1, 1, 0, 0, 1]);
        assert_eq!(f.arrival_median_s, Some(240.0));
        assert_eq!(f.arrival_avg_s, Some((240.0 + 720.0 + 180.0) / 3.0));
        assert_eq!(f.arrived_within_5min, Some(2.0 / 3.0));
        assert_eq!(f.self_handled_rate, Some(0.5), "on site 1 of the 2 non-case matters");
        assert_eq!((f.diversion_rate, f.repeat_rate, f.agency_sign_for_rate), (Some(0.25), Some(0.25), Some(1.0)));
        assert_eq!(f.agency_sign_for_avg_h, Some(2.0));
        assert_eq!(f.agency_on_time_rate, Some(1.0));
        assert_eq!((f.agency_return_rate, f.satisfaction_rate), (Some(1.0), Some(1.0)));
        let none = figures(&[]);
        assert_eq!((none.incidents, none.arrival_avg_s, none.self_handled_rate), (0, None, None));
        assert_eq!((none.agency_redo_rate, none.agency_done_rate, none.callback_rate), (None, None, None));
        assert_eq!(none.sign_for_buckets, vec![0; 5]);
    }

    #[test]
    fn limits_by_longest_prefix_and_urgency() {
        let l = vec![
            ("".to_string(), 2, 5),
            ("05".to_string(), 1, 3),
            ("0506".to_string(), 4, 2),
            ("11".to_string(), 2, 15),
        ];
        assert_eq!(limits_for(&l, Some("0506"), 1), (4, 2));
        assert_eq!(limits_for(&l, Some("0501"), 1), (1, 3));
        assert_eq!(limits_for(&l, Some("1101"), 1), (2, 15));
        assert_eq!(limits_for(&l, None, 1), (2, 5));
        assert_eq!(limits_for(&l, Some("1101"), 2), (1, 1), "urgent");
        assert_eq!(limits_for(&[], Some("0801"), 1), (2, 5), "built-in default");
    }

    #[test]
    fn codes_parse() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(Channel::parse("fax"), None);
        for r in HandlingResult::ALL {
            assert_eq!(HandlingResult::parse(r.as_str()), Some(r));
        }
        assert_eq!(Severity::from_level(2), Some(Severity::Urgent));
        assert_eq!(Severity::from_level(4), None);
        assert_eq!(
            (rating_label(1), rating_label(5), rating_label(0), rating_label(6)),
            (Some("非常满意"), Some("非常不满意"), None, None)
        );
    }
}
