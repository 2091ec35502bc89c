//! 群防群治: volunteers (红马甲, 义警, …) staff posts such as a school gate
//! (护学岗) on the post's weekdays and time slots. This module holds the pure
//! parts: weekday sets and slots as people write them, the shifts a post has
//! over a window of days, attendance values and the figures per station.

use crate::calendar::{WorkCalendar, local_instant};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

/// The longest window of shifts generated or counted at once (days).
pub const MAX_WINDOW_DAYS: i64 = 400;
/// The most slots a post may have in one day.
pub const MAX_SLOTS: usize = 6;
/// What a purged volunteer's name becomes.
pub const PURGED_NAME: &str = "已删除";

/// A set of ISO weekdays (Monday = 1 … Sunday = 7), written `1,2,3,4,5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Weekdays(u8);

impl Weekdays {
    pub const SCHOOL: Weekdays = Weekdays(0b0011111);
    pub const ALL: Weekdays = Weekdays(0b1111111);

    /// `1,2,3,4,5` or `MO,TU,…` (any order, spaces allowed); at least one day.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        const CODES: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
        let mut bits = 0u8;
        for part in s.split([',', '，', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
            let n = match part.parse::<u8>() {
                Ok(n @ 1..=7) => n,
                Ok(_) => return Err("星期须为1（周一）至7（周日）"),
                Err(_) => match CODES.iter().position(|c| c.eq_ignore_ascii_case(part)) {
                    Some(i) => i as u8 + 1,
                    None => return Err("星期须为1至7或 MO、TU…SU，用逗号分隔"),
                },
            };
            bits |= 1 << (n - 1);
        }
        if bits == 0 { Err("请至少选择一天") } else { Ok(Self(bits)) }
    }

    pub fn from_days(days: impl IntoIterator<Item = u8>) -> Self {
        Self(days.into_iter().filter(|d| (1..=7).contains(d)).fold(0, |b, d| b | 1 << (d - 1)))
    }

    pub fn contains(self, d: NaiveDate) -> bool {
        self.0 & (1 << d.weekday().num_days_from_monday()) != 0
    }

    /// The ISO day numbers in order.
    pub fn days(self) -> Vec<u8> {
        (1..=7).filter(|d| self.0 & (1 << (d - 1)) != 0).collect()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// `1,2,3,4,5`.
    pub fn text(self) -> String {
        self.days().iter().map(u8::to_string).collect::<Vec<_>>().join(",")
    }

    /// `周一至周五`, `周一、周三`, `每天`.
    pub fn label_zh(self) -> String {
        const NAMES: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
        let days = self.days();
        if days.len() == 7 {
            return "每天".into();
        }
        let contiguous = days.windows(2).all(|w| w[1] == w[0] + 1);
        match (days.first(), days.last()) {
            (Some(a), Some(b)) if contiguous && days.len() >= 3 => {
                format!("{}至{}", NAMES[usize::from(*a) - 1], NAMES[usize::from(*b) - 1])
            }
            _ => days.iter().map(|d| NAMES[usize::from(*d) - 1]).collect::<Vec<_>>().join("、"),
        }
    }
}

/// A time slot of a day, Beijing time: `07:20-08:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Slot {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Slot {
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<Self, &'static str> {
        if end <= start { Err("时段的结束时间须晚于开始时间") } else { Ok(Self { start, end }) }
    }

    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let (a, b) = s.trim().split_once(['-', '–', '~']).ok_or("时段须写作 HH:MM-HH:MM")?;
        let t = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|_| "时段须写作 HH:MM-HH:MM");
        Self::new(t(a)?, t(b)?)
    }

    pub fn start_text(&self) -> String {
        self.start.format("%H:%M").to_string()
    }

    pub fn end_text(&self) -> String {
        self.end.format("%H:%M").to_string()
    }

    pub fn text(&self) -> String {
        format!("{}-{}", self.start_text(), self.end_text())
    }

    pub fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }
}

/// A day's slots: `07:20-08:00,16:30-17:30` — 1 to [`MAX_SLOTS`], not
/// overlapping; returned in time order.
pub fn parse_slots(s: &str) -> Result<Vec<Slot>, &'static str> {
    let mut slots = s
        .split([',', '，', ';', ' '])
        .filter(|p| !p.trim().is_empty())
        .map(Slot::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if slots.is_empty() {
        return Err("请至少填写一个时段");
    }
    if slots.len() > MAX_SLOTS {
        return Err("每天最多6个时段");
    }
    slots.sort();
    if slots.windows(2).any(|w| w[1].start < w[0].end) {
        return Err("时段不能重叠");
    }
    Ok(slots)
}

pub fn slots_text(slots: &[Slot]) -> String {
    slots.iter().map(Slot::text).collect::<Vec<_>>().join(",")
}

/// When a post is staffed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub weekdays: Weekdays,
    pub slots: Vec<Slot>,
    /// Only on working days of the calendar (a school gate is closed on
    /// holidays and open on make-up workdays, whatever the weekday set says
    /// for those).
    pub workdays_only: bool,
}

/// One shift of a post: a day and a slot, with its instants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftSlot {
    pub day: NaiveDate,
    pub slot: Slot,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Schedule {
    /// Whether the post is staffed on `day`.
    pub fn on(&self, day: NaiveDate, cal: &WorkCalendar) -> bool {
        if self.workdays_only {
            // a make-up workday (调休) on a Saturday is a school day too
            cal.is_workday(day) && (self.weekdays.contains(day) || day.weekday().num_days_from_monday() >= 5)
        } else {
            self.weekdays.contains(day)
        }
    }

    /// The shifts from `from` to `to` (local days, inclusive), by day then
    /// slot; nothing when the window is reversed or longer than [`MAX_WINDOW_DAYS`].
    pub fn shifts(&self, from: NaiveDate, to: NaiveDate, cal: &WorkCalendar) -> Vec<ShiftSlot> {
        if to < from || (to - from).num_days() > MAX_WINDOW_DAYS {
            return vec![];
        }
        let mut out = vec![];
        let mut d = from;
        while d <= to {
            if self.on(d, cal) {
                for s in &self.slots {
                    out.push(ShiftSlot {
                        day: d,
                        slot: *s,
                        starts_at: local_instant(d, s.start),
                        ends_at: local_instant(d, s.end),
                    });
                }
            }
            d += Duration::days(1);
        }
        out
    }
}

/// Attendance as the post's officer marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    Present,
    Late,
    Absent,
}

impl Attendance {
    pub const ALL: [Attendance; 3] = [Self::Present, Self::Late, Self::Absent];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Present => "present",
            Self::Late => "late",
            Self::Absent => "absent",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s.trim())
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Present => "到岗",
            Self::Late => "迟到",
            Self::Absent => "缺勤",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Present => "Present",
            Self::Late => "Late",
            Self::Absent => "Absent",
        }
    }
}

/// One shift as the figures need it: how many may sign up, how many did,
/// and the attendance marked (a purged volunteer's sign-ups still count).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShiftStat {
    pub capacity: i64,
    pub signups: i64,
    pub present: i64,
    pub late: i64,
    pub absent: i64,
}

/// The figures of a station (or a total) over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub shifts: i64,
    /// Shifts with at least one sign-up.
    pub covered: i64,
    pub uncovered: i64,
    /// Shifts signed up to capacity.
    pub full: i64,
    pub signups: i64,
    pub present: i64,
    pub late: i64,
    pub absent: i64,
    /// Sign-ups not marked yet.
    pub unmarked: i64,
    /// (present + late) / marked; None before anything is marked.
    pub attendance_rate: Option<f64>,
    /// covered / shifts; None without shifts.
    pub coverage_rate: Option<f64>,
}

/// Adds up shifts into figures.
pub fn figures<'a>(shifts: impl IntoIterator<Item = &'a ShiftStat>) -> Figures {
    let mut f = Figures::default();
    for s in shifts {
        f.shifts += 1;
        if s.signups > 0 {
            f.covered += 1;
        } else {
            f.uncovered += 1;
        }
        if s.capacity > 0 && s.signups >= s.capacity {
            f.full += 1;
        }
        f.signups += s.signups;
        f.present += s.present;
        f.late += s.late;
        f.absent += s.absent;
        f.unmarked += (s.signups - s.present - s.late - s.absent).max(0);
    }
    let marked = f.present + f.late + f.absent;
    f.attendance_rate = (marked > 0).then(|| (f.present + f.late) as f64 / marked as f64);
    f.coverage_rate = (f.shifts > 0).then(|| f.covered as f64 / f.shifts as f64);
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::DayKind;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn gate() -> Schedule {
        Schedule {
            weekdays: Weekdays::SCHOOL,
            slots: parse_slots("16:30-17:30, 07:20-08:00").unwrap(),
            workdays_only: true,
        }
    }

    #[test]
    fn weekdays_parse_and_label() {
        assert_eq!(Weekdays::parse("1,2,3,4,5").unwrap(), Weekdays::SCHOOL);
        assert_eq!(Weekdays::parse("MO, tu,WE,TH，FR").unwrap(), Weekdays::SCHOOL);
        assert_eq!(Weekdays::parse("5,6,7").unwrap().label_zh(), "周五至周日");
        assert_eq!(Weekdays::parse("1,3").unwrap().label_zh(), "周一、周三");
        assert_eq!(Weekdays::ALL.label_zh(), "每天");
        assert_eq!(Weekdays::parse("3,1").unwrap().text(), "1,3");
        assert!(Weekdays::parse("").is_err());
        assert!(Weekdays::parse("8").is_err());
        assert!(Weekdays::parse("XX").is_err());
    }

    #[test]
    fn slots_parse_sorted_and_refuse_overlaps() {
        let s = parse_slots("16:30-17:30,07:20-08:00").unwrap();
        assert_eq!(slots_text(&s), "07:20-08:00,16:30-17:30");
        assert_eq!(s[0].minutes(), 40);
        assert!(parse_slots("08:00-07:00").is_err());
        assert!(parse_slots("07:00-08:00,07:30-09:00").is_err());
        assert!(parse_slots("").is_err());
        assert!(parse_slots("7点到8点").is_err());
        assert!(parse_slots("25:00-26:00").is_err());
    }

    #[test]
    fn a_school_gate_over_a_holiday_and_a_make_up_day() {
        // 2028: 国庆 Mon 2 – Fri 6 Oct off, Sat 7 Oct a make-up workday
        let mut days: Vec<(NaiveDate, DayKind)> =
            (2..=6).map(|n| (d(&format!("2028-10-0{n}")), DayKind::Holiday)).collect();
        days.push((d("2028-10-07"), DayKind::Workday));
        let cal = WorkCalendar::new(days);
        let shifts = gate().shifts(d("2028-09-29"), d("2028-10-09"), &cal);
        let got: Vec<String> = shifts.iter().map(|s| format!("{} {}", s.day, s.slot.start_text())).collect();
        assert_eq!(
            got,
            [
                "2028-09-29 07:20",
                "2028-09-29 16:30",
                "2028-10-07 07:20",
                "2028-10-07 16:30",
                "2028-10-09 07:20",
                "2028-10-09 16:30"
            ]
        );
        // Beijing 07:20 is 23:20 UTC the day before
        assert_eq!(shifts[0].starts_at.to_rfc3339(), "2028-09-28T23:20:00+00:00");
        // without the calendar rule the weekday set alone decides
        let plain = Schedule { workdays_only: false, ..gate() };
        assert_eq!(plain.shifts(d("2028-10-02"), d("2028-10-08"), &cal).len(), 10);
        assert!(gate().shifts(d("2028-10-09"), d("2028-10-01"), &cal).is_empty());
    }

    #[test]
    fn figures_count_cover_and_attendance() {
        let rows = [
            ShiftStat { capacity: 2, signups: 2, present: 1, late: 1, absent: 0 },
            ShiftStat { capacity: 2, signups: 1, present: 0, late: 0, absent: 1 },
            ShiftStat { capacity: 2, signups: 0, ..Default::default() },
            ShiftStat { capacity: 3, signups: 1, ..Default::default() },
        ];
        let f = figures(&rows);
        assert_eq!((f.shifts, f.covered, f.uncovered, f.full, f.signups), (4, 3, 1, 1, 4));
        assert_eq!((f.present, f.late, f.absent, f.unmarked), (1, 1, 1, 1));
        assert_eq!(f.attendance_rate, Some(2.0 / 3.0));
        assert_eq!(f.coverage_rate, Some(0.75));
        assert_eq!(figures(&[]).attendance_rate, None);
        assert_eq!(Attendance::parse("late"), Some(Attendance::Late));
        assert_eq!(Attendance::parse("maybe"), None);
    }

    proptest! {
        #[test]
        fn shifts_follow_the_weekdays_and_slots(
            days in proptest::collection::btree_set(1u8..=7, 1..=7),
            starts in proptest::collection::btree_set(0u32..(23 * 4), 1..=4),
            from_off in 0i64..3000,
            len in 0i64..60,
        ) {
            let weekdays = Weekdays::from_days(days.iter().copied());
            prop_assert_eq!(Weekdays::parse(&weekdays.text()).unwrap(), weekdays);
            // quarter-hour starts, each slot 15 minutes: never overlapping
            let slots: Vec<Slot> = starts.iter().map(|q| {
                let s = NaiveTime::from_hms_opt(q / 4, (q % 4) * 15, 0).unwrap();
                Slot::new(s, s + Duration::minutes(15)).unwrap()
            }).collect();
            let text = slots_text(&slots);
            prop_assert_eq!(parse_slots(&text).unwrap(), slots.clone());
            let from = d("2026-01-01") + Duration::days(from_off);
            let to = from + Duration::days(len);
            let s = Schedule { weekdays, slots: slots.clone(), workdays_only: false };
            let shifts = s.shifts(from, to, &WorkCalendar::default());
            let matching = (0..=len).filter(|i| weekdays.contains(from + Duration::days(*i))).count();
            prop_assert_eq!(shifts.len(), matching * slots.len());
            for w in shifts.windows(2) {
                prop_assert!((w[0].day, w[0].slot) < (w[1].day, w[1].slot));
            }
            for x in &shifts {
                prop_assert!(x.day >= from && x.day <= to && weekdays.contains(x.day));
                prop_assert_eq!(x.ends_at - x.starts_at, Duration::minutes(15));
                prop_assert_eq!(crate::calendar::local_date(x.starts_at), x.day);
            }
        }
    }
}
