//! The duty rhythm (八个一): duty templates recur by an iCalendar RRULE in
//! Asia/Shanghai; an occurrence on a holiday is kept, skipped or moved to a
//! working day as the template says (the working-day calendar decides,
//! make-up workdays included). The scheduler turns occurrences into tasks.

use crate::Role;
use crate::calendar::WorkCalendar;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};

/// What happens to an occurrence that falls on a day off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayPolicy {
    /// It happens anyway (a patrol does not stop for the holiday).
    Keep,
    /// It is dropped.
    Skip,
    /// It moves to the next working day.
    Next,
    /// It moves to the working day before (e.g. "the last workday of the month").
    Previous,
}

impl HolidayPolicy {
    pub const ALL: [HolidayPolicy; 4] = [Self::Keep, Self::Skip, Self::Next, Self::Previous];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Skip => "skip",
            Self::Next => "next",
            Self::Previous => "previous",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Keep => "节假日照常",
            Self::Skip => "节假日跳过",
            Self::Next => "顺延到下一个工作日",
            Self::Previous => "提前到上一个工作日",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Keep => "Keep on holidays",
            Self::Skip => "Skip holidays",
            Self::Next => "Move to the next working day",
            Self::Previous => "Move to the previous working day",
        }
    }
}

/// A recurrence as a deployment writes it: an RRULE (without DTSTART), the
/// local time of day and the first day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    rule: String,
    start: NaiveDate,
    at: NaiveTime,
}

/// The longest window the scheduler looks at once (days).
pub const MAX_WINDOW_DAYS: i64 = 400;

impl Recurrence {
    /// Parses `FREQ=…;…` (no DTSTART: `start` and `at` give it). Only daily or
    /// slower rules: a duty does not recur by the hour.
    pub fn parse(rule: &str, start: NaiveDate, at: NaiveTime) -> Result<Self, String> {
        let rule = rule.trim().trim_start_matches("RRULE:").trim().to_string();
        if rule.is_empty() || rule.contains('\n') || rule.to_ascii_uppercase().contains("DTSTART") {
            return Err("重复规则须为一行 RRULE（如 FREQ=WEEKLY;BYDAY=MO），不含 DTSTART".into());
        }
        let upper = rule.to_ascii_uppercase();
        if !["FREQ=DAILY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY"].iter().any(|f| upper.contains(f)) {
            return Err("频率须为 DAILY、WEEKLY、MONTHLY 或 YEARLY".into());
        }
        let r = Self { rule, start, at };
        r.set().map(|_| r)
    }

    pub fn rule(&self) -> &str {
        &self.rule
    }

    fn set(&self) -> Result<rrule::RRuleSet, String> {
        format!(
            "DTSTART;TZID=Asia/Shanghai:{}T{}\nRRULE:{}",
            self.start.format("%Y%m%d"),
            self.at.format("%H%M%S"),
            self.rule
        )
        .parse::<rrule::RRuleSet>()
        .map_err(|e| format!("重复规则有误：{e}"))
    }

    /// The days it falls on (local), from `from` to `to` inclusive, before
    /// any holiday policy.
    pub fn days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>, String> {
        if to < from || (to - from).num_days() > MAX_WINDOW_DAYS {
            return Err(format!("时间窗须在1至{MAX_WINDOW_DAYS}天之内"));
        }
        let tz = rrule::Tz::Tz(chrono_tz::Asia::Shanghai);
        let at = |d: NaiveDate| tz.from_local_datetime(&d.and_time(NaiveTime::MIN)).single();
        let (Some(a), Some(b)) = (at(from), at(to + Duration::days(1))) else {
            return Err("时间窗有误".into());
        };
        // `after`/`before` are inclusive; the end is the next midnight, excluded below
        let r = self.set()?.after(a).before(b).all(u16::MAX);
        Ok(r.dates.into_iter().map(|d| d.date_naive()).filter(|d| *d >= from && *d <= to).collect())
    }
}

/// Applies a holiday policy to the days of a recurrence: each day a duty
/// happens on (sorted, each once), with the day it was due by the rule.
/// Moved days may fall outside `from..=to` by a few days; the caller keys
/// each by its rule day, so a window never creates one twice.
pub fn working_days(days: &[NaiveDate], policy: HolidayPolicy, cal: &WorkCalendar) -> Vec<(NaiveDate, NaiveDate)> {
    let step = |d: NaiveDate, forward: bool| {
        let mut x = d;
        for _ in 0..60 {
            x = if forward { x + Duration::days(1) } else { x - Duration::days(1) };
            if cal.is_workday(x) {
                return Some(x);
            }
        }
        None
    };
    let mut out: Vec<(NaiveDate, NaiveDate)> = days
        .iter()
        .filter_map(|d| {
            if cal.is_workday(*d) {
                return Some((*d, *d));
            }
            match policy {
                HolidayPolicy::Keep => Some((*d, *d)),
                HolidayPolicy::Skip => None,
                HolidayPolicy::Next => step(*d, true).map(|x| (x, *d)),
                HolidayPolicy::Previous => step(*d, false).map(|x| (x, *d)),
            }
        })
        .collect();
    out.sort();
    // two rule days moved onto one working day: the duty happens once
    out.dedup_by_key(|(day, _)| *day);
    out
}

/// A duty template as seeded: (name, catalogue code, role, RRULE, holiday policy, hour).
pub type SeedDuty = (&'static str, &'static str, Role, &'static str, HolidayPolicy, u32);

/// 八个一 (南昌): the eight recurring duties every station is seeded with.
pub const EIGHT_ONES: [SeedDuty; 8] = [
    ("每日一调度", "ZF-BG-01", Role::CommandRoom, "FREQ=DAILY", HolidayPolicy::Skip, 8),
    ("每日一巡查", "ZF-BG-02", Role::Auxiliary, "FREQ=DAILY", HolidayPolicy::Keep, 9),
    ("每周一研判", "ZF-BG-03", Role::StationLeader, "FREQ=WEEKLY;BYDAY=MO", HolidayPolicy::Next, 9),
    ("每周一走访", "ZF-BG-04", Role::CommunityOfficer, "FREQ=WEEKLY;BYDAY=WE", HolidayPolicy::Next, 9),
    ("每月一检查", "ZF-BG-05", Role::StationLeader, "FREQ=MONTHLY;BYMONTHDAY=5", HolidayPolicy::Next, 9),
    ("每月一练兵", "ZF-BG-06", Role::StationLeader, "FREQ=MONTHLY;BYDAY=2TH", HolidayPolicy::Next, 14),
    ("每月一谈心", "ZF-BG-07", Role::StationLeader, "FREQ=MONTHLY;BYMONTHDAY=15", HolidayPolicy::Next, 15),
    // the last calendar day, moved back onto a working day: the last workday of the month
    ("每月一小结", "ZF-BG-08", Role::StationLeader, "FREQ=MONTHLY;BYMONTHDAY=-1", HolidayPolicy::Previous, 16),
];

/// How one scheduled duty stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    OnTime,
    Late,
    Missed,
    Pending,
}

/// A duty's outcome from its due time and when its feedback came (if it
/// did), at `now`. Times in milliseconds.
pub fn outcome(due_at: i64, done_at: Option<i64>, now: i64) -> Outcome {
    match done_at {
        Some(d) if d <= due_at => Outcome::OnTime,
        Some(_) => Outcome::Late,
        None if due_at < now => Outcome::Missed,
        None => Outcome::Pending,
    }
}

/// Completion figures over duties: counts, and the share done on time of
/// those due by now (None when none is).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Completion {
    pub scheduled: i64,
    pub on_time: i64,
    pub late: i64,
    pub missed: i64,
    pub pending: i64,
    pub on_time_rate: Option<f64>,
}

pub fn completion(outcomes: impl IntoIterator<Item = Outcome>) -> Completion {
    let mut c = Completion::default();
    for o in outcomes {
        c.scheduled += 1;
        match o {
            Outcome::OnTime => c.on_time += 1,
            Outcome::Late => c.late += 1,
            Outcome::Missed => c.missed += 1,
            Outcome::Pending => c.pending += 1,
        }
    }
    let due = c.on_time + c.late + c.missed;
    c.on_time_rate = (due > 0).then(|| c.on_time as f64 / due as f64);
    c
}

/// The first day of the month of `d` (a template's default start).
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::DayKind;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn nine() -> NaiveTime {
        NaiveTime::from_hms_opt(9, 0, 0).unwrap()
    }
    /// 2026 National Day (Oct 1–7 off) with make-up Saturdays Sep 26 and Oct 10.
    fn cal() -> WorkCalendar {
        let mut days: Vec<(NaiveDate, DayKind)> = (1..=7).map(|x| (d(2026, 10, x), DayKind::Holiday)).collect();
        days.push((d(2026, 9, 26), DayKind::Workday));
        days.push((d(2026, 10, 10), DayKind::Workday));
        WorkCalendar::new(days)
    }

    #[test]
    fn month_ends_and_the_last_workday() {
        let r = Recurrence::parse("FREQ=MONTHLY;BYMONTHDAY=-1", d(2026, 1, 1), nine()).unwrap();
        let days = r.days(d(2026, 1, 1), d(2026, 12, 31)).unwrap();
        assert_eq!(days.len(), 12);
        assert_eq!(days[1], d(2026, 2, 28), "February's end");
        // moved back onto a working day: the last workday of each month
        let w = working_days(&days, HolidayPolicy::Previous, &cal());
        let last: Vec<NaiveDate> = w.iter().map(|x| x.0).collect();
        assert_eq!(last[1], d(2026, 2, 27), "Sat 28 Feb → Fri 27");
        assert_eq!(last[4], d(2026, 5, 29), "Sun 31 May → Fri 29");
        assert_eq!(last[9], d(2026, 10, 30), "Sat 31 Oct → Fri 30");
        // BYMONTHDAY=31 skips short months, as RFC 5545 says
        let r = Recurrence::parse("FREQ=MONTHLY;BYMONTHDAY=31", d(2026, 1, 1), nine()).unwrap();
        assert_eq!(r.days(d(2026, 1, 1), d(2026, 12, 31)).unwrap().len(), 7);
    }

    #[test]
    fn holidays_and_make_up_days() {
        let r = Recurrence::parse("FREQ=WEEKLY;BYDAY=MO,SA", d(2026, 9, 1), nine()).unwrap();
        let days = r.days(d(2026, 9, 21), d(2026, 10, 12)).unwrap();
        // Mon 21, Sat 26 (make-up workday), Mon 28, Sat 3 Oct, Mon 5 Oct, Sat 10 (make-up), Mon 12
        assert_eq!(days.len(), 7);
        let cal = cal();
        let skip: Vec<NaiveDate> = working_days(&days, HolidayPolicy::Skip, &cal).iter().map(|x| x.0).collect();
        assert_eq!(skip, [d(2026, 9, 21), d(2026, 9, 26), d(2026, 9, 28), d(2026, 10, 10), d(2026, 10, 12)]);
        let next = working_days(&days, HolidayPolicy::Next, &cal);
        // Sat 3 Oct and Mon 5 Oct both move to Thu 8 Oct: once
        assert!(next.contains(&(d(2026, 10, 8), d(2026, 10, 3))), "{next:?}");
        assert_eq!(next.iter().filter(|x| x.0 == d(2026, 10, 8)).count(), 1);
        let keep = working_days(&days, HolidayPolicy::Keep, &cal);
        assert_eq!(keep.len(), 7);
    }

    #[test]
    fn outcomes_and_completion() {
        assert_eq!(outcome(100, Some(90), 200), Outcome::OnTime);
        assert_eq!(outcome(100, Some(101), 200), Outcome::Late);
        assert_eq!(outcome(100, None, 200), Outcome::Missed);
        assert_eq!(outcome(300, None, 200), Outcome::Pending);
        let c = completion([Outcome::OnTime, Outcome::OnTime, Outcome::Late, Outcome::Missed, Outcome::Pending]);
        assert_eq!((c.scheduled, c.on_time, c.late, c.missed, c.pending), (5, 2, 1, 1, 1));
        assert_eq!(c.on_time_rate, Some(0.5), "2 of the 4 due");
        assert_eq!(completion([Outcome::Pending]).on_time_rate, None);
    }

    #[test]
    fn bad_rules_are_refused() {
        for bad in
            ["", "FREQ=HOURLY", "FREQ=WEEKLY;BYDAY=XX", "DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY", "FREQ=MINUTELY"]
        {
            assert!(Recurrence::parse(bad, d(2026, 1, 1), nine()).is_err(), "{bad}");
        }
        let r = Recurrence::parse("RRULE:FREQ=DAILY", d(2026, 1, 1), nine()).unwrap();
        assert_eq!(r.rule(), "FREQ=DAILY");
        assert!(r.days(d(2026, 2, 1), d(2026, 1, 1)).is_err());
        assert_eq!(r.days(d(2026, 1, 1), d(2026, 1, 14)).unwrap().len(), 14);
        assert!(r.days(d(2025, 1, 1), d(2025, 12, 31)).unwrap().is_empty(), "nothing before the start");
    }

    proptest::proptest! {
        /// Whatever the rule, window and policy: every day is a working day
        /// (unless kept), each day once, never more days than the rule gave.
        #[test]
        fn policies_land_on_working_days(
            rule in proptest::sample::select(vec!["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=SA,SU", "FREQ=MONTHLY;BYMONTHDAY=-1", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "FREQ=MONTHLY;BYDAY=-1FR"]),
            policy in proptest::sample::select(HolidayPolicy::ALL.to_vec()),
            start in 0i64..60,
            len in 1i64..120,
        ) {
            let from = d(2026, 9, 1) + Duration::days(start);
            let to = from + Duration::days(len);
            let r = Recurrence::parse(rule, d(2026, 9, 1), nine()).unwrap();
            let days = r.days(from, to).unwrap();
            let cal = cal();
            let w = working_days(&days, policy, &cal);
            proptest::prop_assert!(w.len() <= days.len());
            proptest::prop_assert!(w.windows(2).all(|p| p[0].0 < p[1].0), "sorted, once each");
            if policy != HolidayPolicy::Keep {
                proptest::prop_assert!(w.iter().all(|(day, _)| cal.is_workday(*day)));
            }
            proptest::prop_assert!(w.iter().all(|(_, due)| days.contains(due)));
        }
    }

    #[test]
    fn the_eight_ones_parse() {
        for (name, _, _, rule, _, h) in EIGHT_ONES {
            let at = NaiveTime::from_hms_opt(h, 0, 0).unwrap();
            let r = Recurrence::parse(rule, d(2026, 11, 1), at).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!r.days(d(2026, 11, 1), d(2026, 12, 31)).unwrap().is_empty(), "{name}");
        }
    }
}
