//! Arbitrary bytes, read as (lossy) UTF-8, into the GeoJSON grid importer
//! with every datum; whatever imports is routed, overlap- and gap-checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    zhufang_fuzz::exercise(&text);
});
