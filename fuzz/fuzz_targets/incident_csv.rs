//! Arbitrary bytes (lossy UTF-8) after a valid header into the historical
//! incident CSV parser: it never panics, good rows keep their order and
//! distinct numbers, every step time follows the one before it, and every
//! problem names a line and a reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zhufang_domain::incident_import::parse;

const HEADER: &str = "number,channel,received_at,description,caller_phone,lat,lon,severity,police,result,triaged_at,dispatched_at,arrived_at,handled_at,closed_at,state,station\n";

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("a valid time");
    for text in [format!("{HEADER}{body}"), body.to_string()] {
        let (rows, errors) = parse(&text, now);
        assert!(rows.windows(2).all(|w| w[0].line < w[1].line));
        let numbers: std::collections::HashSet<&str> = rows.iter().map(|r| r.number.as_str()).collect();
        assert_eq!(numbers.len(), rows.len());
        for r in &rows {
            let steps = [r.triaged_at, r.dispatched_at, r.arrived_at, r.handled_at, r.closed_at];
            let mut last = r.received_at;
            for t in steps.into_iter().flatten() {
                assert!(t >= last, "line {}: steps out of order", r.line);
                last = t;
            }
            assert!(r.received_at <= now + chrono::Duration::minutes(5));
        }
        assert!(errors.iter().all(|e| !e.message.is_empty() && !e.field.is_empty()));
    }
});
