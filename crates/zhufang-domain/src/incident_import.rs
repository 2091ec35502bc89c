//! Historical incidents from CSV: parsing and checking each row. A row with
//! problems is reported by line with every reason and skipped; the others
//! are importable. Import is idempotent on the incident number (the caller
//! skips numbers it already has).
//!
//! Columns (header row, any order; * required): `number`*, `channel`*
//! (110, 12345, walk_in, patrol, app, other), `received_at`*, `description`*,
//! `caller_name`, `caller_phone`, `lat`, `lon`, `address`, `type_code`,
//! `severity` (1–3), `police` (1/0, 是/否, true/false), `state` (a state of the
//! incident workflow, default `closed`), `result`, `station` (org code, for
//! rows without a position), and the step times `triaged_at`,
//! `dispatched_at`, `arrived_at`, `handled_at`, `closed_at`. Times are RFC 3339
//! or Beijing local `YYYY-MM-DD HH:MM[:SS]` (also with `T` or `/`).

use crate::incident::{Channel, HandlingResult, Severity};
use crate::{PhoneNumber, Wgs84Point};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde::Serialize;

/// Most rows in one file.
pub const MAX_ROWS: usize = 200_000;

#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    pub number: String,
    pub channel: Channel,
    pub received_at: DateTime<Utc>,
    pub description: String,
    pub caller_name: Option<String>,
    pub caller_phone: Option<PhoneNumber>,
    pub location: Option<Wgs84Point>,
    pub address: String,
    pub type_code: Option<String>,
    pub severity: Severity,
    pub police: Option<bool>,
    pub state: String,
    pub result: Option<HandlingResult>,
    pub station: Option<String>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub handled_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A problem with one row (`line` 0 = the file itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl RowError {
    fn new(line: usize, field: &str, message: impl Into<String>) -> Self {
        Self { line, field: field.to_string(), message: message.into() }
    }
}

/// A time as RFC 3339, or a Beijing local date-time.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let norm = s.replace('/', "-").replace('T', " ");
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&norm, f).ok())
        .and_then(|n| Shanghai.from_local_datetime(&n).single())
        .map(|t| t.with_timezone(&Utc))
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "1" | "true" | "TRUE" | "是" | "警务" | "police" => Some(true),
        "0" | "false" | "FALSE" | "否" | "非警务" | "non_police" => Some(false),
        _ => None,
    }
}

const REQUIRED: [&str; 4] = ["number", "channel", "received_at", "description"];
const KNOWN: [&str; 20] = [
    "number",
    "channel",
    "received_at",
    "description",
    "caller_name",
    "caller_phone",
    "lat",
    "lon",
    "address",
    "type_code",
    "severity",
    "police",
    "state",
    "result",
    "station",
    "triaged_at",
    "dispatched_at",
    "arrived_at",
    "handled_at",
    "closed_at",
];

/// Parses a CSV file: the good rows, and every problem by line. A file
/// without the required columns, or too long, is one error at line 0.
pub fn parse(text: &str, now: DateTime<Utc>) -> (Vec<ImportRow>, Vec<RowError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        Err(e) => return (vec![], vec![RowError::new(0, "file", format!("无法读取表头：{e}"))]),
    };
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| !header.iter().any(|h| h == c)).collect();
    if !missing.is_empty() {
        return (vec![], vec![RowError::new(0, "file", format!("缺少必填列：{}", missing.join("、")))]);
    }
    let unknown: Vec<&String> = header.iter().filter(|h| !KNOWN.contains(&h.as_str())).collect();
    if !unknown.is_empty() {
        let list: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        return (vec![], vec![RowError::new(0, "file", format!("未知的列：{}", list.join("、")))]);
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let (mut rows, mut errors) = (vec![], vec![]);
    let mut seen = std::collections::HashSet::new();
    for (k, rec) in reader.records().enumerate() {
        // the line the record starts on (a quoted field may span lines)
        let line = rec.as_ref().ok().and_then(|r| r.position()).map_or(k + 2, |p| p.line() as usize);
        if k >= MAX_ROWS {
            errors.push(RowError::new(0, "file", format!("文件超过{MAX_ROWS}行，请分批导入")));
            break;
        }
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError::new(line, "row", format!("无法读取该行：{e}")));
                continue;
            }
        };
        let get = |name: &str| col(name).and_then(|i| rec.get(i)).map(str::trim).unwrap_or("");
        let opt = |name: &str| Some(get(name)).filter(|s| !s.is_empty()).map(str::to_string);
        let mut errs = vec![];
        let number = get("number").to_string();
        if number.is_empty() || number.chars().count() > 40 {
            errs.push(RowError::new(line, "number", "警情编号不能为空且不超过40字"));
        } else if !seen.insert(number.clone()) {
            errs.push(RowError::new(line, "number", format!("编号 {number} 在文件中重复")));
        }
        let channel = Channel::parse(get("channel"));
        if channel.is_none() {
            errs.push(RowError::new(line, "channel", "来源渠道须为 110、12345、walk_in、patrol、app 或 other"));
        }
        let mut time = |name: &str, required: bool| -> Option<DateTime<Utc>> {
            let s = get(name);
            if s.is_empty() {
                if required {
                    errs.push(RowError::new(line, name, "此项为必填项"));
                }
                return None;
            }
            match parse_time(s) {
                Some(t) if t <= now + chrono::Duration::minutes(5) => Some(t),
                Some(_) => {
                    errs.push(RowError::new(line, name, "时间晚于当前时间"));
                    None
                }
                None => {
                    errs.push(RowError::new(line, name, format!("时间格式不正确：{s}")));
                    None
                }
            }
        };
        let received_at = time("received_at", true);
        let steps = [
            ("triaged_at", time("triaged_at", false)),
            ("dispatched_at", time("dispatched_at", false)),
            ("arrived_at", time("arrived_at", false)),
            ("handled_at", time("handled_at", false)),
            ("closed_at", time("closed_at", false)),
        ];
        // every step after the one before it that is given
        let mut last = received_at;
        for (name, t) in steps {
            if let (Some(prev), Some(t)) = (last, t) {
                if t < prev {
                    errs.push(RowError::new(line, name, "该时间早于前一环节"));
                }
                last = Some(t);
            }
        }
        let description = get("description").to_string();
        if description.is_empty() || description.chars().count() > 2000 {
            errs.push(RowError::new(line, "description", "警情描述不能为空且不超过2000字"));
        }
        let caller_phone = match get("caller_phone") {
            "" => None,
            p => match PhoneNumber::parse(p) {
                Ok(p) => Some(p),
                Err(e) => {
                    errs.push(RowError::new(line, "caller_phone", e.message));
                    None
                }
            },
        };
        let location = match (get("lat"), get("lon")) {
            ("", "") => None,
            (a, b) => match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(lat), Ok(lon)) => match Wgs84Point::new(lat, lon) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        errs.push(RowError::new(line, e.field, e.message));
                        None
                    }
                },
                _ => {
                    errs.push(RowError::new(line, "lat", "经纬度须同时填写且为数字"));
                    None
                }
            },
        };
        let severity = match get("severity") {
            "" => Some(Severity::Normal),
            s => s.parse().ok().and_then(Severity::from_level),
        };
        if severity.is_none() {
            errs.push(RowError::new(line, "severity", "警情等级须为1、2或3"));
        }
        let police = match get("police") {
            "" => Some(None),
            s => parse_bool(s).map(Some),
        };
        if police.is_none() {
            errs.push(RowError::new(line, "police", "是否警务须为1/0或是/否"));
        }
        let result = match get("result") {
            "" => Some(None),
            s => HandlingResult::parse(s).map(Some),
        };
        if result.is_none() {
            errs.push(RowError::new(line, "result", "处置结果不在可选范围内"));
        }
        let caller_name = opt("caller_name");
        if caller_name.as_deref().is_some_and(|n| n.chars().count() > 50) {
            errs.push(RowError::new(line, "caller_name", "报警人姓名不超过50字"));
        }
        if !errs.is_empty() {
            errors.extend(errs);
            continue;
        }
        let [triaged_at, dispatched_at, arrived_at, handled_at, closed_at] = steps.map(|(_, t)| t);
        rows.push(ImportRow {
            line,
            number,
            channel: channel.expect("checked"),
            received_at: received_at.expect("checked"),
            description,
            caller_name,
            caller_phone,
            location,
            address: get("address").to_string(),
            type_code: opt("type_code"),
            severity: severity.expect("checked"),
            police: police.expect("checked"),
            state: opt("state").unwrap_or_else(|| "closed".into()),
            result: result.expect("checked"),
            station: opt("station"),
            triaged_at,
            dispatched_at,
            arrived_at,
            handled_at,
            closed_at,
        });
    }
    (rows, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
    }

    #[test]
    fn good_and_bad_rows() {
        let text = "\u{feff}number,channel,received_at,description,caller_phone,lat,lon,severity,police,result,arrived_at,dispatched_at\n\
            JQ1,110,2026-11-01 08:00,两人争执,13800138000,28.0,116.3,2,1,on_site,2026-11-01 08:09,2026-11-01 08:03\n\
            JQ2,fax,2026-11-01 08:00,,123,95,116,5,maybe,nope,2026-11-01 07:00,\n\
            JQ1,110,2026-11-01T09:00:00+08:00,重复编号,,,,,,,,\n\
            JQ3,12345,2026/11/02 10:00:00,路灯坏了,,,,,否,,,\n";
        let (rows, errs) = parse(text, now());
        assert_eq!(rows.len(), 2, "{errs:?}");
        assert_eq!((rows[0].number.as_str(), rows[0].severity, rows[0].police), ("JQ1", Severity::Urgent, Some(true)));
        assert_eq!(rows[0].received_at, Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(), "Beijing time");
        assert_eq!((rows[1].line, rows[1].police, rows[1].state.as_str()), (5, Some(false), "closed"));
        let fields: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        for f in ["channel", "description", "caller_phone", "location.lat", "severity", "police", "result"] {
            assert!(fields.contains(&(3, f)), "{f}: {fields:?}");
        }
        assert!(fields.contains(&(3, "arrived_at")), "arrived before received");
        assert!(fields.contains(&(4, "number")), "duplicate number in the file");
    }

    #[test]
    fn file_problems() {
        let (_, e) = parse("number,channel\nJQ1,110\n", now());
        assert_eq!((e[0].line, e[0].field.as_str()), (0, "file"));
        assert!(e[0].message.contains("received_at"));
        let (_, e) = parse("number,channel,received_at,description,colour\n", now());
        assert!(e[0].message.contains("colour"));
        let (rows, e) = parse("number,channel,received_at,description\nJQ9,110,2099-01-01 00:00,未来\n", now());
        assert!(rows.is_empty() && e[0].field == "received_at");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn never_panics_and_rows_keep_their_order(body in "[ -~\\n\\r,\"一-龥]{0,400}") {
            let text = format!("number,channel,received_at,description,lat,lon\n{body}");
            let (rows, errs) = parse(&text, now());
            prop_assert!(rows.windows(2).all(|w| w[0].line < w[1].line));
            prop_assert!(rows.iter().all(|r| r.line >= 2));
            let numbers: std::collections::HashSet<&str> = rows.iter().map(|r| r.number.as_str()).collect();
            prop_assert_eq!(numbers.len(), rows.len());
            prop_assert!(errs.iter().all(|e| !e.message.is_empty()));
        }
    }
}
