//! The demo town's grids: the town's bounding box cut into Voronoi cells
//! around every 警务区 centre and every station's own centre, so the cells
//! tile the town without gaps. Each cell is convex (a box clipped by
//! half-planes), hence a valid ring; it is imported through the same
//! all-or-nothing GeoJSON import as a real deployment's file.

use serde_json::{Value, json};

/// One seed of the diagram and the grid it becomes.
pub struct Seed {
    /// (lat, lon) in degrees.
    pub at: (f64, f64),
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub station: String,
    pub officer: String,
    pub auxiliaries: Vec<String>,
    pub village: String,
}

/// Local plane in km around (lat0, lon0).
struct Plane {
    lat0: f64,
    lon0: f64,
    kx: f64,
}

impl Plane {
    fn new(lat0: f64, lon0: f64) -> Self {
        Self { lat0, lon0, kx: 111.32 * lat0.to_radians().cos() }
    }
    fn to_km(&self, (lat, lon): (f64, f64)) -> (f64, f64) {
        ((lon - self.lon0) * self.kx, (lat - self.lat0) * 111.0)
    }
    fn to_deg(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (self.lat0 + y / 111.0, self.lon0 + x / self.kx)
    }
}

/// Keeps the part of a convex polygon on the side of `p` nearer to `a`
/// than to `b` (Sutherland–Hodgman against the perpendicular bisector).
fn clip(poly: &[(f64, f64)], a: (f64, f64), b: (f64, f64)) -> Vec<(f64, f64)> {
    let (nx, ny) = (b.0 - a.0, b.1 - a.1);
    let m = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let side = |p: (f64, f64)| (p.0 - m.0) * nx + (p.1 - m.1) * ny; // <= 0: nearer a
    let mut out = vec![];
    for i in 0..poly.len() {
        let (p, q) = (poly[i], poly[(i + 1) % poly.len()]);
        let (sp, sq) = (side(p), side(q));
        if sp <= 0.0 {
            out.push(p);
        }
        if (sp < 0.0 && sq > 0.0) || (sp > 0.0 && sq < 0.0) {
            let t = sp / (sp - sq);
            out.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
        }
    }
    out
}

/// The Voronoi cell of every seed inside the seeds' box grown by `margin_km`,
/// as rings of (lat, lon); a cell is empty only for duplicate seeds.
pub fn cells(seeds: &[(f64, f64)], margin_km: f64) -> Vec<Vec<(f64, f64)>> {
    let lat0 = seeds.iter().map(|s| s.0).sum::<f64>() / seeds.len() as f64;
    let lon0 = seeds.iter().map(|s| s.1).sum::<f64>() / seeds.len() as f64;
    let plane = Plane::new(lat0, lon0);
    let pts: Vec<(f64, f64)> = seeds.iter().map(|s| plane.to_km(*s)).collect();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &pts {
        (x0, y0, x1, y1) = (x0.min(p.0), y0.min(p.1), x1.max(p.0), y1.max(p.1));
    }
    let frame = vec![
        (x0 - margin_km, y0 - margin_km),
        (x1 + margin_km, y0 - margin_km),
        (x1 + margin_km, y1 + margin_km),
        (x0 - margin_km, y1 + margin_km),
    ];
    pts.iter()
        .enumerate()
        .map(|(i, a)| {
            let mut cell = frame.clone();
            for (j, b) in pts.iter().enumerate() {
                if i != j && !cell.is_empty() {
                    cell = clip(&cell, *a, *b);
                }
            }
            cell.into_iter().map(|p| plane.to_deg(p)).collect()
        })
        .collect()
}

/// The grids as a GeoJSON FeatureCollection ready for import (6 decimals,
/// about 10 cm, so shared edges stay shared after rounding).
pub fn feature_collection(seeds: &[Seed], margin_km: f64) -> Value {
    let rings = cells(&seeds.iter().map(|s| s.at).collect::<Vec<_>>(), margin_km);
    let r6 = |v: f64| (v * 1e6).round() / 1e6;
    let features: Vec<Value> = seeds
        .iter()
        .zip(rings)
        .filter(|(_, ring)| ring.len() >= 3)
        .map(|(s, ring)| {
            let mut coords: Vec<Value> = ring.iter().map(|(lat, lon)| json!([r6(*lon), r6(*lat)])).collect();
            coords.dedup();
            coords.push(coords[0].clone());
            json!({"type": "Feature",
                "properties": {"code": s.code, "name": s.name, "kind": s.kind, "station": s.station,
                    "officer": s.officer, "auxiliaries": s.auxiliaries, "village": s.village},
                "geometry": {"type": "Polygon", "coordinates": [coords]}})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_tile_the_box_and_hold_their_seed() {
        let seeds = vec![(28.0, 116.3), (28.01, 116.31), (27.99, 116.32), (28.02, 116.28), (28.005, 116.295)];
        let cells = cells(&seeds, 1.0);
        let e7 = |(lat, lon): (f64, f64)| zhufang_domain::grid::E7::from_deg(lon, lat);
        let areas: Vec<zhufang_domain::grid::Area> = cells
            .iter()
            .map(|c| {
                let mut ring: Vec<[f64; 2]> = c.iter().map(|(lat, lon)| [*lon, *lat]).collect();
                ring.push(ring[0]);
                zhufang_domain::grid::Area::from_deg(&[vec![ring]]).expect("convex cells are valid rings")
            })
            .collect();
        for (i, s) in seeds.iter().enumerate() {
            assert_eq!(areas[i].contains(e7(*s)), zhufang_domain::grid::Containment::Inside);
        }
        // a sample of points in the box: each lies in (or on the edge of) at least one cell
        for k in 0..400 {
            let p = (27.985 + 0.0001 * (k % 20) as f64 * 2.5, 116.275 + 0.0001 * (k / 20) as f64 * 2.5);
            assert!(areas.iter().any(|a| a.contains(e7(p)) != zhufang_domain::grid::Containment::Outside), "{p:?}");
        }
    }
}
