//! Disputes (矛盾纠纷排查化解): how one was found, its parties, ABC class,
//! escalation level (小事不出村、大事不出镇、矛盾不上交), the default workflow,
//! and the colour warning computed by editable rules over its facts.

use crate::task::{st, tr};
use crate::workflow::{Actor, Workflow};
use serde::{Deserialize, Serialize};

/// The workflow name in `workflow_transitions`.
pub const WORKFLOW: &str = "dispute";

/// Follow-up visits after a successful mediation, in days (回访).
pub const FOLLOW_UP_DAYS: [i64; 2] = [7, 30];

/// The warning colour, lowest first: 蓝 latent, 黄 general, 橙 watch, 红 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Blue,
    Yellow,
    Orange,
    Red,
}

impl Colour {
    pub const ALL: [Colour; 4] = [Colour::Blue, Colour::Yellow, Colour::Orange, Colour::Red];
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Blue => "blue",
            Colour::Yellow => "yellow",
            Colour::Orange => "orange",
            Colour::Red => "red",
        }
    }
    pub fn parse(s: &str) -> Option<Colour> {
        Colour::ALL.into_iter().find(|c| c.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Colour::Blue => "蓝色（隐患）",
            Colour::Yellow => "黄色（一般）",
            Colour::Orange => "橙色（关注）",
            Colour::Red => "红色（重点）",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Colour::Blue => "Blue (latent)",
            Colour::Yellow => "Yellow (general)",
            Colour::Orange => "Orange (watch)",
            Colour::Red => "Red (key)",
        }
    }
}

/// How a dispute was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    HomeVisit,
    Patrol,
    PublicReport,
    SelfReport,
    Transferred,
    GridReport,
    Other,
}

impl Source {
    pub const ALL: [Source; 7] = [
        Source::HomeVisit,
        Source::Patrol,
        Source::PublicReport,
        Source::SelfReport,
        Source::Transferred,
        Source::GridReport,
        Source::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Source::HomeVisit => "home_visit",
            Source::Patrol => "patrol",
            Source::PublicReport => "public_report",
            Source::SelfReport => "self_report",
            Source::Transferred => "transferred",
            Source::GridReport => "grid_report",
            Source::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Source::HomeVisit => "入户调查",
            Source::Patrol => "巡逻发现",
            Source::PublicReport => "群众反映",
            Source::SelfReport => "当事人自述",
            Source::Transferred => "110/12345 转来",
            Source::GridReport => "网格员上报",
            Source::Other => "其他",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Source::HomeVisit => "Home visit",
            Source::Patrol => "Patrol",
            Source::PublicReport => "Reported by the public",
            Source::SelfReport => "Told by a party",
            Source::Transferred => "From 110/12345",
            Source::GridReport => "Grid worker",
            Source::Other => "Other",
        }
    }
}

/// A party's side: 申请人 or 被申请人.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Applicant,
    Respondent,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Applicant => "applicant",
            Side::Respondent => "respondent",
        }
    }
    pub fn parse(s: &str) -> Option<Side> {
        [Side::Applicant, Side::Respondent].into_iter().find(|x| x.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Side::Applicant => "申请人",
            Side::Respondent => "被申请人",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Side::Applicant => "Applicant",
            Side::Respondent => "Respondent",
        }
    }
}

/// A party's kind: 自然人, 法人 or 非法人组织.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    Natural,
    Legal,
    Organisation,
}

impl PartyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyKind::Natural => "natural",
            PartyKind::Legal => "legal",
            PartyKind::Organisation => "organisation",
        }
    }
    pub fn parse(s: &str) -> Option<PartyKind> {
        [PartyKind::Natural, PartyKind::Legal, PartyKind::Organisation].into_iter().find(|x| x.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            PartyKind::Natural => "自然人",
            PartyKind::Legal => "法人",
            PartyKind::Organisation => "非法人组织",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            PartyKind::Natural => "Natural person",
            PartyKind::Legal => "Legal person",
            PartyKind::Organisation => "Unincorporated organisation",
        }
    }
}

/// The escalation level and who answers for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Village = 1,
    Town = 2,
    County = 3,
}

impl Level {
    pub fn from_i64(n: i64) -> Option<Level> {
        match n {
            1 => Some(Level::Village),
            2 => Some(Level::Town),
            3 => Some(Level::County),
            _ => None,
        }
    }
    pub fn as_i64(self) -> i64 {
        self as i64
    }
    pub fn next(self) -> Option<Level> {
        Level::from_i64(self.as_i64() + 1)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Village => "村（社区）",
            Level::Town => "乡镇（街道）",
            Level::County => "县（区）",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Level::Village => "Village / community",
            Level::Town => "Town / street",
            Level::County => "County / district",
        }
    }
}

/// ABC class codes; their definitions are data (`dispute_classes`).
pub const CLASSES: [&str; 3] = ["A", "B", "C"];

/// The default class definitions a fresh database is seeded with: (code, label, definition).
pub const DEFAULT_CLASSES: [(&str, &str, &str); 3] = [
    ("A", "A类（简单）", "事实清楚、争议不大，由网格（村、社区）当场调处化解"),
    ("B", "B类（一般）", "需要多方参与调解，由乡镇（街道）组织派出所、司法所等联合化解"),
    ("C", "C类（复杂）", "案情复杂或风险较高，涉及多个部门，由县（区）级牵头跨部门化解"),
];

/// What the colour rules look at. Times are milliseconds since the epoch (UTC).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub category: String,
    pub people_involved: i64,
    /// Money at stake, yuan.
    pub amount: i64,
    /// When linked or nearby incidents happened (same place or same parties).
    pub incident_times: Vec<i64>,
    /// The description and every note, session outcome and agreement written since.
    pub notes: Vec<String>,
    /// When the dispute was registered.
    pub opened_at: i64,
    /// Mediations that failed (sessions so recorded, and terminations).
    pub failed_mediations: i64,
    pub now: i64,
}

const DAY_MS: i64 = 86_400_000;

/// A condition over the facts. Every condition is monotone: more people, more
/// money, more incidents, more notes, more time open or more failures never
/// turn a true condition false (there is no negation), so adding risk facts
/// never lowers the colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// The category is one of these codes.
    Category {
        codes: Vec<String>,
    },
    PeopleAtLeast {
        n: i64,
    },
    AmountAtLeast {
        yuan: i64,
    },
    /// At least `n` incidents within the last `days` days.
    IncidentsWithin {
        n: usize,
        days: i64,
    },
    /// A note contains one of these words.
    ThreatWords {
        words: Vec<String>,
    },
    OpenDaysAtLeast {
        days: i64,
    },
    FailedMediationsAtLeast {
        n: i64,
    },
    /// Every one of these holds.
    All {
        of: Vec<Condition>,
    },
}

impl Condition {
    pub fn holds(&self, f: &Facts) -> bool {
        match self {
            Condition::Category { codes } => codes.contains(&f.category),
            Condition::PeopleAtLeast { n } => f.people_involved >= *n,
            Condition::AmountAtLeast { yuan } => f.amount >= *yuan,
            Condition::IncidentsWithin { n, days } => {
                let since = f.now.saturating_sub(days.saturating_mul(DAY_MS));
                f.incident_times.iter().filter(|t| **t >= since && **t <= f.now).count() >= *n
            }
            Condition::ThreatWords { words } => {
                f.notes.iter().any(|note| words.iter().any(|w| !w.is_empty() && note.contains(w.as_str())))
            }
            Condition::OpenDaysAtLeast { days } => f.now.saturating_sub(f.opened_at) >= days.saturating_mul(DAY_MS),
            Condition::FailedMediationsAtLeast { n } => f.failed_mediations >= *n,
            Condition::All { of } => of.iter().all(|c| c.holds(f)),
        }
    }

    /// Problems with a rule as a deployment wrote it.
    fn check(&self) -> Result<(), String> {
        match self {
            Condition::Category { codes } if codes.is_empty() => Err("类别条件至少要有一个类别".into()),
            Condition::PeopleAtLeast { n } | Condition::FailedMediationsAtLeast { n } if *n < 1 => {
                Err("人数与次数须至少为1".into())
            }
            Condition::AmountAtLeast { yuan } if *yuan < 1 => Err("金额须至少为1元".into()),
            Condition::IncidentsWithin { n, days } if *n < 1 || *days < 1 => Err("警情次数与天数须至少为1".into()),
            Condition::ThreatWords { words } if words.iter().all(|w| w.trim().is_empty()) => {
                Err("风险词至少要有一个".into())
            }
            Condition::OpenDaysAtLeast { days } if *days < 1 => Err("天数须至少为1".into()),
            Condition::All { of } if of.is_empty() => Err("组合条件不能为空".into()),
            Condition::All { of } => of.iter().try_for_each(Condition::check),
            _ => Ok(()),
        }
    }
}

/// A colour rule: when its condition holds the dispute is at least `colour`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColourRule {
    pub id: String,
    pub name: String,
    pub colour: Colour,
    pub when: Condition,
}

/// A rule that fired, as shown with the dispute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fired {
    pub id: String,
    pub name: String,
    pub colour: Colour,
}

/// The colour of a dispute: the highest colour among the rules that fire
/// (蓝 when none does), and those rules, highest first.
pub fn colour_of(rules: &[ColourRule], f: &Facts) -> (Colour, Vec<Fired>) {
    let mut fired: Vec<Fired> = rules
        .iter()
        .filter(|r| r.when.holds(f))
        .map(|r| Fired { id: r.id.clone(), name: r.name.clone(), colour: r.colour })
        .collect();
    fired.sort_by_key(|r| std::cmp::Reverse(r.colour));
    (fired.first().map(|r| r.colour).unwrap_or(Colour::Blue), fired)
}

/// Checks a rule set as a deployment edits it: unique non-empty ids, names,
/// and sensible thresholds.
pub fn check_rules(rules: &[ColourRule]) -> Result<(), String> {
    let mut ids = std::collections::BTreeSet::new();
    for r in rules {
        if r.id.trim().is_empty() || r.id.len() > 40 {
            return Err("规则编号不能为空且不超过40个字符".into());
        }
        if !ids.insert(r.id.as_str()) {
            return Err(format!("规则编号 {} 重复", r.id));
        }
        if r.name.trim().is_empty() {
            return Err(format!("规则 {} 没有名称", r.id));
        }
        r.when.check().map_err(|e| format!("规则 {}：{e}", r.id))?;
    }
    Ok(())
}

/// The default rules a fresh database is seeded with (上饶/修水 practice).
pub fn default_rules() -> Vec<ColourRule> {
    use Colour::*;
    use Condition::*;
    let rule = |id: &str, name: &str, colour, when| ColourRule { id: id.into(), name: name.into(), colour, when };
    let codes = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        rule("family_neighbour", "婚姻家庭、邻里纠纷", Yellow, Category { codes: codes(&["01", "02", "03", "07"]) }),
        rule("people_5", "涉及5人以上", Orange, PeopleAtLeast { n: 5 }),
        rule("people_30", "涉及30人以上（群体性）", Red, PeopleAtLeast { n: 30 }),
        rule("amount_100k", "涉及金额10万元以上", Orange, AmountAtLeast { yuan: 100_000 }),
        rule("amount_1m", "涉及金额100万元以上", Red, AmountAtLeast { yuan: 1_000_000 }),
        rule("incidents_2_30d", "30日内同地点或同当事人警情2起以上", Orange, IncidentsWithin { n: 2, days: 30 }),
        rule("incidents_4_30d", "30日内同地点或同当事人警情4起以上", Red, IncidentsWithin { n: 4, days: 30 }),
        rule(
            "threat_words",
            "出现过激言行（扬言报复、自伤自杀、同归于尽等）",
            Red,
            ThreatWords {
                words: words(&[
                    "同归于尽",
                    "报复",
                    "杀了",
                    "弄死",
                    "不想活",
                    "跳楼",
                    "自杀",
                    "喝农药",
                    "汽油",
                    "炸药",
                    "拼命",
                ]),
            },
        ),
        rule(
            "petition_words",
            "扬言上访、聚集",
            Orange,
            ThreatWords { words: words(&["上访", "聚集", "拉横幅", "堵路", "围堵"]) },
        ),
        rule("failed_2", "调解失败2次以上", Orange, FailedMediationsAtLeast { n: 2 }),
        rule("open_30d", "登记30日未化解", Orange, OpenDaysAtLeast { days: 30 }),
        rule(
            "group_land_labour",
            "征地拆迁、劳动争议涉及10人以上",
            Red,
            All { of: vec![Category { codes: codes(&["08", "10"]) }, PeopleAtLeast { n: 10 }] },
        ),
    ]
}

/// The default dispute workflow; the rows in `workflow_transitions` are what
/// a deployment edits. `escalate` keeps the state and raises the level (the
/// service records who, why and to whom, and the receiver signs for it).
pub fn default_workflow() -> Workflow {
    use Actor::*;
    let officer = Role(crate::Role::CommunityOfficer);
    let aux = Role(crate::Role::Auxiliary);
    let leader = Role(crate::Role::StationLeader);
    let command = Role(crate::Role::CommandRoom);
    let admin = Role(crate::Role::Admin);
    let agency = Role(crate::Role::PartnerAgency);
    let desk = [officer.clone(), leader.clone(), command.clone(), admin.clone()];
    let mediators = [officer.clone(), aux.clone(), leader.clone(), agency.clone(), admin.clone()];
    let states = vec![
        st("pending_accept", "待受理", "To accept", false, true),
        st("pending_mediation", "待调解", "To mediate", false, false),
        st("mediating", "调解中", "Mediating", false, false),
        st("succeeded", "调解成功", "Settled", false, false),
        st("terminated", "调解终止", "Mediation ended", false, false),
        st("transferred", "已移交", "Transferred", false, false),
        st("judicial", "司法确认", "Judicially confirmed", false, false),
        st("regular", "常态管理", "Regular follow-up", false, false),
        st("archived", "已归档", "Archived", true, false),
    ];
    let open = ["pending_accept", "pending_mediation", "mediating"];
    let mut rules = vec![
        tr("pending_accept", "accept", "pending_mediation", &desk, &["class"], &[], "受理", "Accept"),
        tr("pending_mediation", "start", "mediating", &mediators, &[], &[], "开始调解", "Start mediating"),
        tr("mediating", "succeed", "succeeded", &mediators, &["note"], &[], "调解成功", "Settled"),
        tr("mediating", "terminate", "terminated", &mediators, &["note"], &[], "调解终止", "End mediation"),
        tr("pending_mediation", "transfer", "transferred", &desk, &["note"], &[], "移交", "Transfer"),
        tr("mediating", "transfer", "transferred", &desk, &["note"], &[], "移交", "Transfer"),
        tr("succeeded", "confirm", "judicial", &desk, &["note"], &[], "司法确认", "Judicial confirmation"),
        tr("succeeded", "follow", "regular", &desk, &[], &[], "转入常态管理", "Regular follow-up"),
        tr("judicial", "follow", "regular", &desk, &[], &[], "转入常态管理", "Regular follow-up"),
        tr("terminated", "retry", "pending_mediation", &desk, &["note"], &[], "重新调解", "Mediate again"),
        tr("terminated", "follow", "regular", &desk, &["note"], &[], "转入常态管理", "Regular follow-up"),
        tr("transferred", "follow", "regular", &desk, &["note"], &[], "转入常态管理", "Regular follow-up"),
        tr("regular", "archive", "archived", &[leader.clone(), admin.clone()], &[], &[], "归档", "Archive"),
        tr("regular", "relapse", "pending_mediation", &mediators, &["note"], &[], "复发重启", "Relapse"),
    ];
    for s in open {
        rules.push(tr(s, "escalate", s, &mediators, &["note", "level"], &[], "上报升级", "Escalate"));
        // the receiving body signs for an escalation (the service checks there is one open)
        rules.push(tr(
            s,
            "sign_for",
            s,
            &[agency.clone(), leader.clone(), admin.clone()],
            &[],
            &[],
            "签收",
            "Sign for",
        ));
    }
    rules.push(tr("mediating", "session", "mediating", &mediators, &["session"], &[], "记录调解", "Record a session"));
    // new facts at any time before archiving: a note, people, money, a linked incident
    let everyone: Vec<Actor> = desk.iter().chain(mediators.iter()).cloned().collect();
    for s in [
        "pending_accept",
        "pending_mediation",
        "mediating",
        "succeeded",
        "terminated",
        "transferred",
        "judicial",
        "regular",
    ] {
        rules.push(tr(s, "update", s, &everyone, &["note"], &[], "补充情况", "Add facts"));
    }
    Workflow::new(WORKFLOW, states, rules).expect("the default dispute workflow is valid")
}

/// Days to settle a dispute of each class by default (A on the spot, B at
/// the town, C at the county); the rows in `dispute_classes` are what a
/// deployment edits.
pub const DEFAULT_LIMIT_DAYS: [(&str, i64); 3] = [("A", 3), ("B", 15), ("C", 30)];

/// What the figures need of one dispute. Times in milliseconds (UTC).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stat {
    pub created_at: i64,
    pub accepted_at: Option<i64>,
    /// Set while settled (a relapse clears it until settled again).
    pub settled_at: Option<i64>,
    pub relapses: i64,
    /// 1 村, 2 乡镇, 3 县.
    pub level: i64,
    /// Working days allowed by its class (None before acceptance).
    pub limit_days: Option<i64>,
}

/// The ledger's figures; rates are shares in [0, 1] (None when nothing to divide by).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Registered (排查登记).
    pub screened: i64,
    pub accepted: i64,
    /// Settled now (调解成功, 司法确认, and those under follow-up or archived after it).
    pub resolved: i64,
    /// resolved / screened (化解率).
    pub resolution_rate: Option<f64>,
    /// Settled within their class's limit (working days from registration,
    /// on the working-day calendar), of those settled with a class.
    pub on_time_rate: Option<f64>,
    /// Relapsed at least once, of those ever settled (复发率).
    pub relapse_rate: Option<f64>,
    /// Of those settled: at village (小事不出村), town (大事不出镇) and county level.
    pub village_share: Option<f64>,
    pub town_share: Option<f64>,
    pub county_share: Option<f64>,
    /// Sent up to county level, of those registered (矛盾上交).
    pub sent_to_county: Option<f64>,
}

fn share(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

pub fn figures(items: &[Stat], cal: &crate::calendar::WorkCalendar) -> Figures {
    let resolved: Vec<&Stat> = items.iter().filter(|s| s.settled_at.is_some()).collect();
    let timed: Vec<&&Stat> = resolved.iter().filter(|s| s.limit_days.is_some()).collect();
    let on_time = timed
        .iter()
        .filter(|s| {
            let (Some(settled), Some(created)) = (
                chrono::DateTime::from_timestamp_millis(s.settled_at.unwrap_or(0)),
                chrono::DateTime::from_timestamp_millis(s.created_at),
            ) else {
                return false;
            };
            let days = u32::try_from(s.limit_days.unwrap_or(0).clamp(0, 3650)).unwrap_or(0);
            settled <= cal.add_workdays(created, days)
        })
        .count();
    let ever = items.iter().filter(|s| s.settled_at.is_some() || s.relapses > 0).count();
    let at = |l: i64| share(resolved.iter().filter(|s| s.level == l).count(), resolved.len());
    Figures {
        screened: items.len() as i64,
        accepted: items.iter().filter(|s| s.accepted_at.is_some()).count() as i64,
        resolved: resolved.len() as i64,
        resolution_rate: share(resolved.len(), items.len()),
        on_time_rate: share(on_time, timed.len()),
        relapse_rate: share(items.iter().filter(|s| s.relapses > 0).count(), ever),
        village_share: at(1),
        town_share: at(2),
        county_share: at(3),
        sent_to_county: share(items.iter().filter(|s| s.level >= 3).count(), items.len()),
    }
}

/// The states in which a dispute is still being worked on (not yet settled).
pub fn is_open(state: &str) -> bool {
    matches!(state, "pending_accept" | "pending_mediation" | "mediating")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::{ActorCtx, Subject};
    use proptest::prelude::*;

    fn facts() -> Facts {
        Facts { category: "02".into(), people_involved: 2, opened_at: 0, now: DAY_MS, ..Default::default() }
    }

    #[test]
    fn colours_rise_with_the_facts_and_say_why() {
        let rules = default_rules();
        let (c, fired) = colour_of(&rules, &facts());
        assert_eq!((c, fired.len()), (Colour::Yellow, 1), "a neighbours' quarrel is general");
        let mut f = facts();
        f.people_involved = 6;
        assert_eq!(colour_of(&rules, &f).0, Colour::Orange);
        f.notes.push("他扬言要和对方同归于尽".into());
        let (c, fired) = colour_of(&rules, &f);
        assert_eq!(c, Colour::Red);
        assert_eq!(fired[0].id, "threat_words", "highest first");
        let mut f = facts();
        f.category = "16".into();
        assert_eq!(colour_of(&rules, &f).0, Colour::Blue, "no rule: latent");
        f.incident_times = vec![0, DAY_MS / 2];
        assert_eq!(colour_of(&rules, &f).0, Colour::Orange);
        f.now = 40 * DAY_MS;
        let (c, fired) = colour_of(&rules, &f);
        assert_eq!(c, Colour::Orange, "old incidents no longer count, but 40 days open does");
        assert!(fired.iter().all(|r| r.id == "open_30d"), "{fired:?}");
    }

    #[test]
    fn the_ledgers_figures() {
        let s = |settled: Option<i64>, relapses, level, limit: Option<i64>| Stat {
            created_at: 0,
            accepted_at: Some(1),
            settled_at: settled.map(|d| d * DAY_MS),
            relapses,
            level,
            limit_days: limit,
        };
        // registered on Thursday 1 January 1970 (Beijing 08:00); limits are working days
        let cal = crate::calendar::WorkCalendar::default();
        let f = figures(
            &[
                s(Some(2), 0, 1, Some(3)),                    // village, on time
                s(Some(25), 0, 2, Some(15)),                  // town, late (15 working days end on the 22nd)
                s(Some(5), 1, 1, Some(3)), // relapsed, settled again on the 6th: on time over the weekend
                s(None, 1, 3, Some(30)),   // relapsed, open, at the county
                Stat { created_at: 0, ..Default::default() }, // registered only
            ],
            &cal,
        );
        assert_eq!((f.screened, f.accepted, f.resolved), (5, 4, 3));
        assert_eq!(f.resolution_rate, Some(0.6));
        assert_eq!(f.on_time_rate, Some(2.0 / 3.0));
        // a public holiday on the 5th pushes the limit of the third one to the 7th; it stays on time
        let holiday = crate::calendar::WorkCalendar::new([(
            chrono::NaiveDate::from_ymd_opt(1970, 1, 5).unwrap(),
            crate::calendar::DayKind::Holiday,
        )]);
        let late = s(Some(6), 0, 1, Some(3));
        assert_eq!(figures(std::slice::from_ref(&late), &cal).on_time_rate, Some(0.0));
        assert_eq!(figures(&[late], &holiday).on_time_rate, Some(1.0));
        assert_eq!(f.relapse_rate, Some(0.5), "2 relapsed of the 4 ever settled");
        assert_eq!((f.village_share, f.town_share, f.county_share), (Some(2.0 / 3.0), Some(1.0 / 3.0), Some(0.0)));
        assert_eq!(f.sent_to_county, Some(0.2));
        assert_eq!(figures(&[], &cal).resolution_rate, None);
    }

    #[test]
    fn rule_sets_are_checked() {
        assert!(check_rules(&default_rules()).is_ok());
        let mut r = default_rules();
        r[1].id = r[0].id.clone();
        assert!(check_rules(&r).unwrap_err().contains("重复"));
        let mut r = default_rules();
        r[1].when = Condition::PeopleAtLeast { n: 0 };
        assert!(check_rules(&r).is_err());
        let mut r = default_rules();
        r[0].when = Condition::All { of: vec![] };
        assert!(check_rules(&r).is_err());
        let json = serde_json::to_string(&default_rules()).unwrap();
        let back: Vec<ColourRule> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, default_rules(), "rules are data: they round-trip as JSON");
    }

    #[test]
    fn the_workflow_has_both_endings_and_escalation_keeps_the_state() {
        let wf = default_workflow();
        let officer = [crate::Role::CommunityOfficer];
        let actor = ActorCtx { user_id: 2, roles: &officer };
        let go = |s: &str, a: &str, fields: &[&str]| {
            let subject = Subject { state: s, assignee: None, dispatcher: None, creator: Some(1) };
            wf.decide(&subject, &actor, a, &|f| fields.contains(&f)).map(|r| r.to.clone())
        };
        assert_eq!(go("pending_accept", "accept", &["class"]).as_deref(), Ok("pending_mediation"));
        assert!(go("pending_accept", "accept", &[]).is_err(), "the class is required");
        assert_eq!(go("mediating", "escalate", &["note", "level"]).as_deref(), Ok("mediating"));
        assert_eq!(go("regular", "relapse", &["note"]).as_deref(), Ok("pending_mediation"));
        assert!(go("regular", "archive", &[]).is_err(), "leaders archive");
        assert!(go("archived", "relapse", &["note"]).is_err(), "archived is terminal");
    }

    fn arb_facts() -> impl Strategy<Value = Facts> {
        (
            prop::sample::select(vec!["01", "02", "08", "10", "16", "99"]),
            0i64..60,
            0i64..2_000_000,
            prop::collection::vec(0i64..60, 0..6),
            prop::collection::vec(prop::sample::select(vec!["吵架", "扬言报复", "想上访", "已和解", ""]), 0..3),
            0i64..5,
            0i64..60,
        )
            .prop_map(|(cat, people, amount, inc_days, notes, failed, open_days)| Facts {
                category: cat.to_string(),
                people_involved: people,
                amount,
                incident_times: inc_days.iter().map(|d| (60 - d) * DAY_MS).collect(),
                notes: notes.into_iter().map(String::from).collect(),
                opened_at: (60 - open_days) * DAY_MS,
                failed_mediations: failed,
                now: 60 * DAY_MS,
            })
    }

    proptest! {
        /// Adding risk facts (people, money, incidents, notes, failures, time) never lowers the colour.
        #[test]
        fn more_risk_never_lowers_the_colour(
            f in arb_facts(),
            more_people in 0i64..40,
            more_money in 0i64..2_000_000,
            more_incidents in prop::collection::vec(0i64..30, 0..4),
            more_note in prop::sample::select(vec!["", "要同归于尽", "去上访", "又吵起来了"]),
            more_failed in 0i64..3,
            older in 0i64..40,
        ) {
            let rules = default_rules();
            let before = colour_of(&rules, &f).0;
            let mut g = f.clone();
            g.people_involved += more_people;
            g.amount += more_money;
            g.incident_times.extend(more_incidents.iter().map(|d| g.now - d * DAY_MS));
            g.notes.push(more_note.to_string());
            g.failed_mediations += more_failed;
            g.opened_at -= older * DAY_MS;
            let after = colour_of(&rules, &g).0;
            prop_assert!(after >= before, "{before:?} -> {after:?}");
        }
    }
}
