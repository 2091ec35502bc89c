//! A minimal iCalendar (RFC 5545) writer for the duty calendar subscription:
//! VEVENTs with UTC times or whole days, text escaped, lines folded at 75 octets.

use chrono::{DateTime, NaiveDate, Utc};

/// When an event starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    At(DateTime<Utc>, chrono::Duration),
    Day(NaiveDate),
}

#[derive(Debug, Clone)]
pub struct Event {
    pub uid: String,
    pub when: When,
    pub summary: String,
    pub description: String,
    pub url: Option<String>,
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (never inside a UTF-8 character).
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The whole calendar.
pub fn calendar(name: &str, events: &[Event], now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let mut line = |s: String| fold(&s, &mut out);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//zhufang//duty calendar//ZH".into());
    line("CALSCALE:GREGORIAN".into());
    line(format!("X-WR-CALNAME:{}", escape(name)));
    line("X-WR-TIMEZONE:Asia/Shanghai".into());
    for e in events {
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}", escape(&e.uid)));
        line(format!("DTSTAMP:{}", utc(now)));
        match &e.when {
            When::At(t, d) => {
                line(format!("DTSTART:{}", utc(*t)));
                line(format!("DTEND:{}", utc(*t + *d)));
            }
            When::Day(d) => {
                line(format!("DTSTART;VALUE=DATE:{}", d.format("%Y%m%d")));
                line(format!("DTEND;VALUE=DATE:{}", (*d + chrono::Duration::days(1)).format("%Y%m%d")));
            }
        }
        line(format!("SUMMARY:{}", escape(&e.summary)));
        if !e.description.is_empty() {
            line(format!("DESCRIPTION:{}", escape(&e.description)));
        }
        if let Some(u) = &e.url {
            line(format!("URL:{}", escape(u)));
        }
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_folds() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z").unwrap().with_timezone(&Utc);
        let e = Event {
            uid: "task-1@zhufang".into(),
            when: When::Day(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
            summary: "每周一走访;社区,一".into(),
            description: "长".repeat(60),
            url: None,
        };
        let s = calendar("张三的勤务", &[e], now);
        assert!(s.contains("SUMMARY:每周一走访\\;社区\\,一"), "{s}");
        assert!(s.contains("DTSTART;VALUE=DATE:20261201\r\nDTEND;VALUE=DATE:20261202"));
        assert!(s.lines().all(|l| l.len() <= 75), "folded");
        assert!(s.ends_with("END:VCALENDAR\r\n"));
    }
}
