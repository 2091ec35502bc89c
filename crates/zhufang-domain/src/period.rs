//! Reporting periods (day, ISO week from Monday, calendar month) for figures
//! by period: which period a local date falls in, every period a date range
//! touches, and the period's label.

use chrono::{Datelike, Days, Months, NaiveDate};

/// How figures are grouped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    /// Monday to Sunday.
    Week,
    Month,
}

/// At most this many periods in one report (a year of days).
pub const MAX_PERIODS: usize = 366;

impl Period {
    /// `day`, `week` or `month`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "day" => Some(Self::Day),
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// The first day of the period `d` falls in.
    pub fn start(self, d: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => d,
            Self::Week => d - Days::new(u64::from(d.weekday().num_days_from_monday())),
            Self::Month => d.with_day(1).expect("every month has a first day"),
        }
    }

    /// The first day of the next period (`start` is a period's first day).
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => start + Days::new(1),
            Self::Week => start + Days::new(7),
            Self::Month => start + Months::new(1),
        }
    }

    /// The first days of every period from the one holding `from` to the one
    /// holding `to`; `None` when that is more than [`MAX_PERIODS`].
    pub fn starts(self, from: NaiveDate, to: NaiveDate) -> Option<Vec<NaiveDate>> {
        let mut out = vec![];
        let mut s = self.start(from);
        while s <= to {
            if out.len() == MAX_PERIODS {
                return None;
            }
            out.push(s);
            s = self.next(s);
        }
        Some(out)
    }

    /// `2026-11-28`; `2026-11-23～11-29` for a week; `2026-11` for a month.
    pub fn label(self, start: NaiveDate) -> String {
        match self {
            Self::Day => start.format("%Y-%m-%d").to_string(),
            Self::Week => format!("{}～{}", start.format("%Y-%m-%d"), (start + Days::new(6)).format("%m-%d")),
            Self::Month => start.format("%Y-%m").to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_and_labels() {
        assert_eq!(Period::Week.start(d("2026-11-29")), d("2026-11-23"), "a Sunday belongs to the week from Monday");
        assert_eq!(Period::Week.start(d("2026-11-23")), d("2026-11-23"));
        assert_eq!(Period::Month.next(d("2026-12-01")), d("2027-01-01"));
        assert_eq!(Period::Week.label(d("2026-12-28")), "2026-12-28～01-03");
        assert_eq!(Period::Month.label(d("2026-02-01")), "2026-02");
        assert_eq!(
            Period::Month.starts(d("2026-10-30"), d("2026-12-01")).unwrap(),
            [d("2026-10-01"), d("2026-11-01"), d("2026-12-01")]
        );
        assert_eq!(Period::Day.starts(d("2026-01-01"), d("2026-12-31")).unwrap().len(), 365);
        assert!(Period::Day.starts(d("2025-01-01"), d("2026-12-31")).is_none(), "two years of days is too many");
        assert!(Period::Week.starts(d("2026-11-29"), d("2026-11-01")).unwrap().is_empty());
        assert_eq!(Period::parse("fortnight"), None);
        for p in [Period::Day, Period::Week, Period::Month] {
            assert_eq!(Period::parse(p.as_str()), Some(p));
        }
    }

    proptest! {
        /// Every date lies in exactly the period that starts at `start(d)`,
        /// and the periods of a range cover it without gaps or overlaps.
        #[test]
        fn every_day_is_in_its_period(days in 0u64..4000, span in 0u64..400, k in 0usize..3) {
            let p = [Period::Day, Period::Week, Period::Month][k];
            let from = d("2020-01-01") + Days::new(days);
            let s = p.start(from);
            prop_assert!(s <= from && from < p.next(s));
            prop_assert_eq!(p.start(s), s);
            let to = from + Days::new(span);
            if let Some(starts) = p.starts(from, to) {
                prop_assert_eq!(starts.first().copied(), Some(s));
                prop_assert!(starts.windows(2).all(|w| p.next(w[0]) == w[1]));
                let last = *starts.last().unwrap();
                prop_assert!(last <= to && to < p.next(last));
            }
        }
    }
}
