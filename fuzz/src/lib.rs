//! What every fuzz target does with a GeoJSON text: import it with each
//! datum and, for whatever features came through, run the grid code the
//! import feeds (routing index, overlap and gap checks). Besides "never
//! panics, never hangs", it asserts a few invariants the importer promises.

use serde_json::Value;
use zhufang_domain::geojson::{Datum, area_from_geometry, geometry, parse_grids, parse_grids_all};
use zhufang_domain::grid::{Area, E7, GridCode, GridIndex, gaps, overlapping_pairs};

/// At most this many grids go into the pairwise checks, and at most this
/// many probe points per grid, so one input stays well under a second.
const MAX_GRIDS: usize = 32;
const MAX_PROBES_PER_GRID: usize = 48;
/// Lattice size for `gaps` (steps × steps samples).
const GAP_STEPS: usize = 8;

pub const DATUMS: [Datum; 3] = [Datum::Wgs84, Datum::Gcj02, Datum::Bd09];

/// Imports `text` with every datum and exercises the grid code.
pub fn exercise(text: &str) {
    // How many features the file has, as far as the importer can see them.
    let features = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|doc| doc.get("features").and_then(Value::as_array).map(Vec::len));
    for datum in DATUMS {
        exercise_datum(text, datum, features);
    }
}

fn exercise_datum(text: &str, datum: Datum, features: Option<usize>) {
    let (grids, errors) = match parse_grids_all(text, datum) {
        Ok(v) => v,
        Err(e) => {
            assert_eq!(e.index, None, "a file-level error names no feature: {e:?}");
            assert!(parse_grids(text, datum).is_err());
            return;
        }
    };
    let n = features.expect("a parsed FeatureCollection has a features array");
    for e in &errors {
        let i = e.index.expect("feature errors name their feature");
        assert!(i < n, "error index {i} out of range (features: {n})");
        assert!(!e.reason.is_empty());
    }
    for w in grids.windows(2) {
        assert!(w[0].index < w[1].index, "grids come in file order");
    }
    for g in &grids {
        assert!(g.index < n, "grid index {} out of range (features: {n})", g.index);
        assert!(errors.iter().all(|e| e.index != Some(g.index)), "feature {} both good and bad", g.index);
        // Writing the area back and reading it again is exact.
        let back = area_from_geometry(&geometry(&g.area)).expect("a stored area reads back");
        assert_eq!(back, g.area, "round trip of feature {}", g.index);
    }
    assert_eq!(parse_grids(text, datum).is_ok(), errors.is_empty());

    let pairs: Vec<(GridCode, Area)> = grids.iter().take(MAX_GRIDS).map(|g| (g.code.clone(), g.area.clone())).collect();
    exercise_grids(&pairs, text.len() as u64);
}

/// Routing, overlaps and gaps over already valid grids.
pub fn exercise_grids(grids: &[(GridCode, Area)], seed: u64) {
    if grids.is_empty() {
        return;
    }
    let idx = GridIndex::new(grids.to_vec());
    assert_eq!(idx.len(), grids.len());
    let mut rng = seed ^ 0x9E37_79B9_7F4A_7C15;
    for (code, area) in grids {
        let (lo, hi) = area.bbox();
        let mut probes = vec![];
        for poly in &area.0 {
            for (r, ring) in std::iter::once(&poly.exterior).chain(&poly.holes).enumerate() {
                for w in ring.points().windows(2) {
                    // A vertex of an exterior ring is at least on the grid's
                    // boundary. (Not so for holes: a hole is not checked to
                    // lie inside its exterior.)
                    if r == 0 {
                        let found = idx.locate(w[0]);
                        assert!(found.is_some(), "vertex {:?} of {code} is routed nowhere", w[0]);
                    }
                    probes.push(E7 { x: (w[0].x + w[1].x) / 2, y: (w[0].y + w[1].y) / 2 });
                    if probes.len() >= MAX_PROBES_PER_GRID {
                        break;
                    }
                }
            }
        }
        probes.extend([
            E7 { x: lo[0], y: lo[1] },
            E7 { x: hi[0], y: hi[1] },
            E7 { x: lo[0] + (hi[0] - lo[0]) / 2, y: lo[1] + (hi[1] - lo[1]) / 2 },
            E7 { x: lo[0] - 1, y: hi[1] + 1 },
        ]);
        for _ in 0..4 {
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let fx = (rng >> 33) as i128 % 1001;
            let fy = (rng >> 13) as i128 % 1001;
            probes.push(E7 {
                x: lo[0] + ((hi[0] - lo[0]) as i128 * fx / 1000) as i64,
                y: lo[1] + ((hi[1] - lo[1]) as i128 * fy / 1000) as i64,
            });
        }
        for p in probes {
            assert_eq!(idx.locate(p), idx.locate_brute_force(p), "index and brute force differ at {p:?}");
            let _ = idx.nearest(p);
        }
    }
    // Overlap is symmetric, and the R-tree finds exactly the overlapping pairs.
    let found = overlapping_pairs(grids);
    let mut brute = vec![];
    for (i, (ci, ai)) in grids.iter().enumerate() {
        for (cj, aj) in &grids[i + 1..] {
            let o = ai.overlaps(aj);
            assert_eq!(o, aj.overlaps(ai), "overlaps({ci}, {cj}) is not symmetric");
            if o {
                brute.push(if ci < cj { (ci, cj) } else { (cj, ci) });
            }
        }
    }
    brute.sort();
    let mut found_sorted: Vec<_> = found.iter().map(|(a, b)| if a < b { (*a, *b) } else { (*b, *a) }).collect();
    found_sorted.sort();
    assert_eq!(found_sorted, brute, "overlapping_pairs differs from checking every pair");
    for g in gaps(grids, GAP_STEPS) {
        assert!(g.lat.is_finite() && g.lon.is_finite() && g.approx_area_m2.is_finite());
        assert!(g.approx_area_m2 >= 0.0);
    }
}
