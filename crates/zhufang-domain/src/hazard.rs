//! The hazard register (除隐患): types, the risk score and its factors, the
//! workflow found → assigned → rectifying → rectified → rechecked → closed
//! (a failed recheck sends it back), and the register's figures.
//!
//! The risk score is severity × likelihood × exposure, each 1–5: severity
//! starts from the hazard type, likelihood from the finder's judgement,
//! exposure from the people affected; editable factors (near a school, the
//! drowning season, many people, overdue, …) add to a dimension and are
//! shown with the score. Factors only add, so more risk facts never lower it.

const DAY_MS: i64 = 86_400_000;
use crate::task::{st, tr};
use crate::workflow::{Actor, Workflow};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

pub const WORKFLOW: &str = "hazard";

/// The hazard types a fresh database has: (code, name, base severity 1–5).
pub const DEFAULT_TYPES: [(&str, &str, i64); 8] = [
    ("01", "溺水水域", 4),
    ("02", "建筑工地", 3),
    ("03", "校园周边", 3),
    ("04", "消防", 4),
    ("05", "道路交通", 3),
    ("06", "危化品", 5),
    ("07", "出租屋", 2),
    ("99", "其他", 2),
];

/// One of the three dimensions of the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Severity,
    Likelihood,
    Exposure,
}

impl Dimension {
    pub const ALL: [Dimension; 3] = [Dimension::Severity, Dimension::Likelihood, Dimension::Exposure];
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Severity => "severity",
            Dimension::Likelihood => "likelihood",
            Dimension::Exposure => "exposure",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Dimension::Severity => "严重程度",
            Dimension::Likelihood => "发生可能性",
            Dimension::Exposure => "暴露程度",
        }
    }
}

/// A condition of a factor over a hazard's facts. None is a negation, so
/// adding facts (near a school, more people, overdue) never turns one false.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// The hazard type is one of these codes.
    Types {
        codes: Vec<String>,
    },
    /// Within 200 m of a school, or on its way (marked by the finder).
    NearSchool,
    /// The day (Beijing) falls in this month-day window, e.g. 06-01..09-15;
    /// a window may run over the new year (11-01..03-31).
    Season {
        from: String,
        to: String,
    },
    PeopleAtLeast {
        n: i64,
    },
    /// Past its rectification deadline and not yet rectified.
    Overdue,
    /// Every one of these holds.
    All {
        of: Vec<Condition>,
    },
}

/// Parses `MM-DD` into (month, day).
pub fn month_day(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.trim().split_once('-')?;
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    // a leap year has every month-day
    NaiveDate::from_ymd_opt(2024, m, d).map(|_| (m, d))
}

impl Condition {
    pub fn holds(&self, f: &RiskFacts) -> bool {
        match self {
            Condition::Types { codes } => codes.contains(&f.type_code),
            Condition::NearSchool => f.near_school,
            Condition::Season { from, to } => match (month_day(from), month_day(to)) {
                (Some(a), Some(b)) => {
                    let x = (f.day.month(), f.day.day());
                    if a <= b { a <= x && x <= b } else { x >= a || x <= b }
                }
                _ => false,
            },
            Condition::PeopleAtLeast { n } => f.people_affected >= *n,
            Condition::Overdue => f.overdue,
            Condition::All { of } => of.iter().all(|c| c.holds(f)),
        }
    }

    fn check(&self) -> Result<(), String> {
        match self {
            Condition::Types { codes } if codes.is_empty() => Err("类型条件至少要有一个类型".into()),
            Condition::Season { from, to } => {
                if month_day(from).is_none() || month_day(to).is_none() {
                    Err(format!("季节条件的起止须为 MM-DD（{from}、{to}）"))
                } else {
                    Ok(())
                }
            }
            Condition::PeopleAtLeast { n } if *n < 0 => Err("人数不能为负".into()),
            Condition::All { of } if of.is_empty() => Err("“同时满足”至少要有一个条件".into()),
            Condition::All { of } => of.iter().try_for_each(Condition::check),
            _ => Ok(()),
        }
    }
}

/// An editable factor: when its condition holds it adds to one dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskFactor {
    pub id: String,
    pub label: String,
    pub dimension: Dimension,
    /// 1–4 points added to the dimension (which stays within 1–5).
    pub add: i64,
    pub when: Condition,
}

/// What the score is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskFacts {
    pub type_code: String,
    /// The type's base severity (1–5).
    pub base_severity: i64,
    /// The finder's judgement of how likely harm is (1–5).
    pub likelihood: i64,
    pub near_school: bool,
    pub people_affected: i64,
    pub overdue: bool,
    /// Today (Beijing), for seasonal factors.
    pub day: NaiveDate,
}

/// A factor that applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fired {
    pub id: String,
    pub label: String,
    pub dimension: Dimension,
    pub add: i64,
}

/// The score with its parts and the factors that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    pub severity: i64,
    pub likelihood: i64,
    pub exposure: i64,
    /// severity × likelihood × exposure, 1–125.
    pub score: i64,
    pub fired: Vec<Fired>,
}

impl Risk {
    /// 重大 (≥ 60), 较大 (≥ 27), 一般 (≥ 8), 低.
    pub fn level(score: i64) -> (&'static str, &'static str) {
        match score {
            60.. => ("major", "重大"),
            27..=59 => ("high", "较大"),
            8..=26 => ("medium", "一般"),
            _ => ("low", "低"),
        }
    }
}

/// Exposure before factors, from the people affected: none or a few → 1,
/// up to 9 → 2, up to 49 → 3, up to 199 → 4, more → 5.
pub fn base_exposure(people: i64) -> i64 {
    match people {
        ..=2 => 1,
        3..=9 => 2,
        10..=49 => 3,
        50..=199 => 4,
        _ => 5,
    }
}

pub fn risk_of(factors: &[RiskFactor], f: &RiskFacts) -> Risk {
    let fired: Vec<Fired> = factors
        .iter()
        .filter(|x| x.when.holds(f))
        .map(|x| Fired { id: x.id.clone(), label: x.label.clone(), dimension: x.dimension, add: x.add.max(0) })
        .collect();
    let add = |d: Dimension| fired.iter().filter(|x| x.dimension == d).map(|x| x.add).sum::<i64>();
    let clamp = |v: i64| v.clamp(1, 5);
    let severity = clamp(clamp(f.base_severity) + add(Dimension::Severity));
    let likelihood = clamp(clamp(f.likelihood) + add(Dimension::Likelihood));
    let exposure = clamp(base_exposure(f.people_affected) + add(Dimension::Exposure));
    Risk { severity, likelihood, exposure, score: severity * likelihood * exposure, fired }
}

/// Problems with a factor set as a deployment wrote it.
pub fn check_factors(factors: &[RiskFactor]) -> Result<(), String> {
    let mut ids = std::collections::BTreeSet::new();
    for f in factors {
        if f.id.trim().is_empty() || f.id.len() > 40 || !f.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("因素编号“{}”须为字母、数字或下划线（不超过40个）", f.id));
        }
        if !ids.insert(f.id.clone()) {
            return Err(format!("因素编号“{}”重复", f.id));
        }
        if f.label.trim().is_empty() || f.label.chars().count() > 60 {
            return Err(format!("因素“{}”须有名称（不超过60字）", f.id));
        }
        if !(1..=4).contains(&f.add) {
            return Err(format!("因素“{}”的加分须为1至4", f.id));
        }
        f.when.check().map_err(|e| format!("因素“{}”：{e}", f.id))?;
    }
    Ok(())
}

/// The factors a fresh database has; the rows in `hazard_factors` are what a deployment edits.
pub fn default_factors() -> Vec<RiskFactor> {
    let types = |c: &[&str]| Condition::Types { codes: c.iter().map(|s| s.to_string()).collect() };
    let season = |a: &str, b: &str| Condition::Season { from: a.into(), to: b.into() };
    vec![
        RiskFactor {
            id: "near_school".into(),
            label: "临近学校（200米内或上下学路线）".into(),
            dimension: Dimension::Exposure,
            add: 1,
            when: Condition::NearSchool,
        },
        RiskFactor {
            id: "drowning_season".into(),
            label: "防溺水重点时段（6月1日至9月15日）".into(),
            dimension: Dimension::Likelihood,
            add: 2,
            when: Condition::All { of: vec![types(&["01"]), season("06-01", "09-15")] },
        },
        RiskFactor {
            id: "fire_season".into(),
            label: "冬春火灾高发期（11月1日至次年3月31日）".into(),
            dimension: Dimension::Likelihood,
            add: 1,
            when: Condition::All { of: vec![types(&["04", "07"]), season("11-01", "03-31")] },
        },
        RiskFactor {
            id: "many_people".into(),
            label: "影响人数在50人以上".into(),
            dimension: Dimension::Exposure,
            add: 1,
            when: Condition::PeopleAtLeast { n: 50 },
        },
        RiskFactor {
            id: "chemicals_near_school".into(),
            label: "危化品临近学校".into(),
            dimension: Dimension::Severity,
            add: 1,
            when: Condition::All { of: vec![types(&["06"]), Condition::NearSchool] },
        },
        RiskFactor {
            id: "overdue".into(),
            label: "逾期未整改".into(),
            dimension: Dimension::Likelihood,
            add: 1,
            when: Condition::Overdue,
        },
    ]
}

/// The default hazard workflow; the rows in `workflow_transitions` are what a
/// deployment edits. The service checks that whoever signs for, returns or
/// rectifies a hazard belongs to its responsible body.
pub fn default_workflow() -> Workflow {
    use Actor::*;
    let officer = Role(crate::Role::CommunityOfficer);
    let aux = Role(crate::Role::Auxiliary);
    let leader = Role(crate::Role::StationLeader);
    let command = Role(crate::Role::CommandRoom);
    let admin = Role(crate::Role::Admin);
    let agency = Role(crate::Role::PartnerAgency);
    let desk = [officer.clone(), leader.clone(), command.clone(), admin.clone()];
    let responsible = [agency.clone(), officer.clone(), aux.clone(), leader.clone(), admin.clone()];
    let checkers = [officer.clone(), leader.clone(), admin.clone()];
    let states = vec![
        st("found", "待交办", "Found", false, true),
        st("assigned", "待签收", "Assigned", false, false),
        st("rectifying", "整改中", "Rectifying", false, false),
        st("rectified", "待复查", "Rectified", false, false),
        st("rechecked", "复查合格", "Rechecked", false, false),
        st("closed", "已销号", "Closed", true, false),
    ];
    let mut rules = vec![
        tr("found", "assign", "assigned", &desk, &["responsible", "deadline"], &[], "交办", "Assign"),
        tr("assigned", "sign_for", "rectifying", &responsible, &[], &[], "签收", "Sign for"),
        tr("assigned", "return", "found", &responsible, &["note"], &[], "退回", "Return"),
        tr("rectifying", "rectify", "rectified", &responsible, &["note"], &[], "整改完成", "Rectified"),
        tr(
            "rectifying",
            "extend",
            "rectifying",
            &[leader.clone(), admin.clone()],
            &["deadline", "note"],
            &[],
            "延期",
            "Extend",
        ),
        tr("rectified", "recheck_pass", "rechecked", &checkers, &["note"], &[], "复查合格", "Recheck passed"),
        tr("rectified", "recheck_fail", "rectifying", &checkers, &["note"], &[], "复查不合格", "Recheck failed"),
        tr("rechecked", "close", "closed", &[leader.clone(), admin.clone()], &[], &[], "销号", "Close"),
    ];
    let everyone: Vec<Actor> = responsible.iter().chain(desk.iter()).cloned().collect();
    for s in ["found", "assigned", "rectifying", "rectified", "rechecked"] {
        rules.push(tr(s, "update", s, &everyone, &["note"], &[], "补充情况", "Add facts"));
    }
    Workflow::new(WORKFLOW, states, rules).expect("the default hazard workflow is valid")
}

/// The states in which a hazard is not yet rectified.
pub fn is_unrectified(state: &str) -> bool {
    matches!(state, "found" | "assigned" | "rectifying")
}

/// What the figures need of one hazard. Times in milliseconds (UTC).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stat {
    pub found_at: i64,
    pub deadline_at: Option<i64>,
    /// When it was (last) reported rectified and stays so; None while not rectified.
    pub rectified_at: Option<i64>,
}

/// The register's figures; rates in [0, 1] (None when nothing to divide by).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub found: i64,
    pub rectified: i64,
    /// Rectified by its deadline (or without one).
    pub rectified_on_time: i64,
    /// Not rectified and past the deadline now, or rectified after it.
    pub overdue: i64,
    pub rectification_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub avg_days_to_rectify: Option<f64>,
}

pub fn figures(items: &[Stat], now: i64) -> Figures {
    let rectified: Vec<&Stat> = items.iter().filter(|s| s.rectified_at.is_some()).collect();
    let on_time =
        rectified.iter().filter(|s| s.deadline_at.is_none_or(|d| s.rectified_at.unwrap_or(0) <= d)).count() as i64;
    let overdue = items
        .iter()
        .filter(|s| match (s.deadline_at, s.rectified_at) {
            (Some(d), Some(r)) => r > d,
            (Some(d), None) => now > d,
            (None, _) => false,
        })
        .count() as i64;
    let days: Vec<f64> =
        rectified.iter().map(|s| (s.rectified_at.unwrap_or(0) - s.found_at).max(0) as f64 / DAY_MS as f64).collect();
    let n = rectified.len() as i64;
    Figures {
        found: items.len() as i64,
        rectified: n,
        rectified_on_time: on_time,
        overdue,
        rectification_rate: (!items.is_empty()).then(|| n as f64 / items.len() as f64),
        on_time_rate: (n > 0).then(|| on_time as f64 / n as f64),
        avg_days_to_rectify: (!days.is_empty()).then(|| days.iter().sum::<f64>() / days.len() as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::{ActorCtx, Subject};
    use proptest::prelude::*;

    fn facts(type_code: &str, day: (i32, u32, u32)) -> RiskFacts {
        RiskFacts {
            type_code: type_code.into(),
            base_severity: 4,
            likelihood: 2,
            near_school: false,
            people_affected: 0,
            overdue: false,
            day: NaiveDate::from_ymd_opt(day.0, day.1, day.2).unwrap(),
        }
    }

    #[test]
    fn the_score_says_which_factors_made_it() {
        let fs = default_factors();
        let winter = risk_of(&fs, &facts("01", (2026, 1, 10)));
        assert_eq!((winter.severity, winter.likelihood, winter.exposure, winter.score), (4, 2, 1, 8));
        assert!(winter.fired.is_empty());
        let mut f = facts("01", (2026, 7, 1));
        f.near_school = true;
        f.people_affected = 60;
        let summer = risk_of(&fs, &f);
        let ids: Vec<&str> = summer.fired.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["near_school", "drowning_season", "many_people"]);
        // exposure: 60 people → 4, +1 near school, +1 many people → capped at 5
        assert_eq!((summer.severity, summer.likelihood, summer.exposure, summer.score), (4, 4, 5, 80));
        assert_eq!(Risk::level(summer.score).1, "重大");
        // the fire season runs over the new year
        assert!(risk_of(&fs, &facts("04", (2026, 12, 20))).fired.iter().any(|x| x.id == "fire_season"));
        assert!(risk_of(&fs, &facts("04", (2027, 3, 31))).fired.iter().any(|x| x.id == "fire_season"));
        assert!(risk_of(&fs, &facts("04", (2027, 4, 1))).fired.is_empty());
    }

    #[test]
    fn factor_sets_are_checked() {
        assert!(check_factors(&default_factors()).is_ok());
        let mut fs = default_factors();
        fs[1].when = Condition::Season { from: "02-30".into(), to: "09-15".into() };
        assert!(check_factors(&fs).unwrap_err().contains("MM-DD"));
        let mut fs = default_factors();
        fs[0].add = 0;
        assert!(check_factors(&fs).is_err());
        let mut fs = default_factors();
        fs[2].id = fs[0].id.clone();
        assert!(check_factors(&fs).unwrap_err().contains("重复"));
    }

    #[test]
    fn the_figures() {
        let d = DAY_MS;
        let s = |found: i64, deadline: Option<i64>, rect: Option<i64>| Stat {
            found_at: found,
            deadline_at: deadline,
            rectified_at: rect,
        };
        let items = [
            s(0, Some(5 * d), Some(2 * d)), // on time, 2 days
            s(0, Some(5 * d), Some(7 * d)), // late, 7 days
            s(0, Some(5 * d), None),        // open, overdue at day 10
            s(9 * d, Some(20 * d), None),   // open, not yet due
            s(0, None, Some(3 * d)),        // no deadline: on time
        ];
        let f = figures(&items, 10 * d);
        assert_eq!((f.found, f.rectified, f.rectified_on_time, f.overdue), (5, 3, 2, 2));
        assert_eq!(f.avg_days_to_rectify, Some(4.0));
        assert_eq!(f.rectification_rate, Some(0.6));
        assert_eq!(figures(&[], 0).on_time_rate, None);
    }

    #[test]
    fn the_workflow_runs_to_closed_and_a_failed_recheck_goes_back() {
        let wf = default_workflow();
        let leader = [crate::Role::StationLeader];
        let agency = [crate::Role::PartnerAgency];
        let officer = [crate::Role::CommunityOfficer];
        let step = |state: &str, roles: &[crate::Role], action: &str| {
            let s = Subject { state, assignee: None, dispatcher: None, creator: None };
            let a = ActorCtx { user_id: 1, roles };
            wf.decide(&s, &a, action, &|_| true).map(|r| r.to.clone())
        };
        assert_eq!(step("found", &leader, "assign").unwrap(), "assigned");
        assert_eq!(step("assigned", &agency, "sign_for").unwrap(), "rectifying");
        assert_eq!(step("rectifying", &agency, "rectify").unwrap(), "rectified");
        assert!(step("rectified", &agency, "recheck_pass").is_err(), "the body does not recheck its own work");
        assert_eq!(step("rectified", &officer, "recheck_fail").unwrap(), "rectifying");
        assert_eq!(step("rectified", &officer, "recheck_pass").unwrap(), "rechecked");
        assert!(step("rechecked", &officer, "close").is_err());
        assert_eq!(step("rechecked", &leader, "close").unwrap(), "closed");
        assert!(wf.is_terminal("closed"));
    }

    fn arb_facts() -> impl Strategy<Value = RiskFacts> {
        (
            prop::sample::select(DEFAULT_TYPES.iter().map(|t| t.0.to_string()).collect::<Vec<_>>()),
            1i64..=5,
            1i64..=5,
            any::<bool>(),
            0i64..500,
            any::<bool>(),
            0u32..365,
        )
            .prop_map(|(t, sev, lik, school, people, overdue, d)| RiskFacts {
                type_code: t,
                base_severity: sev,
                likelihood: lik,
                near_school: school,
                people_affected: people,
                overdue,
                day: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(u64::from(d)),
            })
    }

    proptest! {
        /// Near a school, more people, overdue, a higher judgement: the score never falls, and stays in 1–125.
        #[test]
        fn more_risk_never_lowers_the_score(f in arb_facts(), more_people in 0i64..300, sev in 0i64..3, lik in 0i64..3) {
            let fs = default_factors();
            let before = risk_of(&fs, &f);
            let mut g = f.clone();
            g.near_school = true;
            g.overdue = true;
            g.people_affected += more_people;
            g.base_severity += sev;
            g.likelihood += lik;
            let after = risk_of(&fs, &g);
            prop_assert!(after.score >= before.score, "{before:?} -> {after:?}");
            prop_assert!((1..=125).contains(&after.score));
            prop_assert_eq!(after.score, after.severity * after.likelihood * after.exposure);
        }

        #[test]
        fn month_days_parse_only_real_days(m in 0u32..14, d in 0u32..33) {
            let s = format!("{m:02}-{d:02}");
            prop_assert_eq!(month_day(&s).is_some(), NaiveDate::from_ymd_opt(2024, m, d).is_some());
        }
    }
}
