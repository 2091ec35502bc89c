//! The working-day calendar: Monday–Friday work, Saturday and Sunday rest,
//! except for the days a deployment lists as holidays (法定节假日) or as
//! make-up working days (调休上班). The list is data, seeded for 2026–2027.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How a listed day differs from the ordinary week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    Holiday,
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    overrides: HashMap<NaiveDate, DayKind>,
}

impl WorkCalendar {
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        Self { overrides: days.into_iter().collect() }
    }

    pub fn is_workday(&self, d: NaiveDate) -> bool {
        match self.overrides.get(&d) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The moment `n` working days after `start`, at the same Beijing clock
    /// time: a task received on Friday 10:00 with 1 working day is due on
    /// the next working day at 10:00. Days before the first working day do
    /// not count.
    pub fn add_workdays(&self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        if n == 0 {
            return start;
        }
        let local = start.with_timezone(&Shanghai);
        let mut d = local.date_naive();
        let mut left = n;
        // Bounded: even a calendar of all holidays stops after ten years.
        let mut guard = 0;
        while left > 0 && guard < 3660 {
            d = d.succ_opt().expect("date in range");
            if self.is_workday(d) {
                left -= 1;
            }
            guard += 1;
        }
        let naive = d.and_time(local.time());
        Shanghai
            .from_local_datetime(&naive)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(start + Duration::days(i64::from(n)))
    }

    /// Working days strictly after `from`'s day up to and including `to`'s day.
    pub fn workdays_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let mut d = from;
        let mut n = 0;
        while d < to {
            d = d.succ_opt().expect("date in range");
            if self.is_workday(d) {
                n += 1;
            }
        }
        n
    }
}

/// Beijing local date of an instant.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Shanghai).date_naive()
}

/// The instant of a Beijing local date and time (China keeps no daylight saving).
pub fn local_instant(d: NaiveDate, t: chrono::NaiveTime) -> DateTime<Utc> {
    Shanghai
        .from_local_datetime(&d.and_time(t))
        .earliest()
        .map(|x| x.with_timezone(&Utc))
        .unwrap_or_else(|| d.and_time(t).and_utc() - chrono::Duration::hours(8))
}

/// Formats an instant for people: `2026-05-06 10:00` in Beijing time.
pub fn fmt_local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Shanghai).format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at(y: i32, m: u32, day: u32, h: u32) -> DateTime<Utc> {
        Shanghai.with_ymd_and_hms(y, m, day, h, 0, 0).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekends_and_overrides() {
        let cal = WorkCalendar::new([
            (d(2026, 10, 1), DayKind::Holiday),
            (d(2026, 10, 2), DayKind::Holiday),
            (d(2026, 10, 10), DayKind::Workday),
        ]);
        assert!(!cal.is_workday(d(2026, 10, 1)));
        assert!(cal.is_workday(d(2026, 10, 10))); // a Saturday make-up day
        assert!(!cal.is_workday(d(2026, 10, 11))); // Sunday
        assert!(cal.is_workday(d(2026, 10, 12)));
    }

    #[test]
    fn add_workdays_skips_rest_days() {
        let cal = WorkCalendar::new([(d(2026, 10, 1), DayKind::Holiday), (d(2026, 10, 2), DayKind::Holiday)]);
        // Wed 30 Sep 2026 10:00 + 1 workday: Thu/Fri holiday, weekend → Mon 5 Oct.
        assert_eq!(cal.add_workdays(at(2026, 9, 30, 10), 1), at(2026, 10, 5, 10));
        // Friday + 1 → Monday, same clock time.
        assert_eq!(cal.add_workdays(at(2026, 11, 27, 16), 1), at(2026, 11, 30, 16));
        assert_eq!(cal.add_workdays(at(2026, 11, 27, 16), 0), at(2026, 11, 27, 16));
        // A make-up Saturday counts.
        let cal = WorkCalendar::new([(d(2026, 11, 28), DayKind::Workday)]);
        assert_eq!(cal.add_workdays(at(2026, 11, 27, 9), 1), at(2026, 11, 28, 9));
        assert_eq!(cal.workdays_between(d(2026, 11, 27), d(2026, 11, 30)), 2);
    }
}
