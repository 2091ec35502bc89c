//! Grids (警务区 / 网格) and routing located items to them.
//!
//! Coordinates are held as integers in 1e-7 degrees (about 1 cm), so the
//! geometric predicates are exact (cross products in `i128`): a point on a
//! shared edge is on the boundary of both grids, never "a little inside"
//! one of them by rounding. Routing prefers a grid that contains the point
//! strictly inside; among grids that only touch it (shared edges and
//! vertices) the smallest grid code wins, so the answer is deterministic.
//! An R-tree over bounding boxes narrows the candidates; exact containment
//! decides.

use crate::types::ValueError;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree, RTreeObject};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// A grid code after GB/T 30428: 15 digits = 6 administrative region +
/// 3 street (乡镇/街道) + 3 community (村/社区) + 3 grid sequence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct GridCode(String);

impl GridCode {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let s = raw.trim();
        let digits = s.len() == 15 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits {
            return Err(ValueError::new("code", "网格编码须为15位数字（6位行政区划+3位街道+3位社区+3位序号）"));
        }
        // Province codes run from 11 (北京) to 82 (澳门).
        let province: u32 = s[..2].parse().unwrap_or(0);
        if !(11..=82).contains(&province) {
            return Err(ValueError::new("code", "网格编码的前两位须为有效的省级行政区划代码"));
        }
        if &s[12..] == "000" {
            return Err(ValueError::new("code", "网格序号不能为000"));
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The 6-digit administrative region.
    pub fn region(&self) -> &str {
        &self.0[..6]
    }
    /// The 12-digit community (村/社区) the grid lies in.
    pub fn community(&self) -> &str {
        &self.0[..12]
    }
}

impl fmt::Display for GridCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for GridCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GridCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Degrees × 10⁷.
pub const SCALE: f64 = 1e7;

/// A point in 1e-7 degrees: `x` is longitude, `y` latitude.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct E7 {
    pub x: i64,
    pub y: i64,
}

impl E7 {
    pub fn from_deg(lon: f64, lat: f64) -> Self {
        Self { x: (lon * SCALE).round() as i64, y: (lat * SCALE).round() as i64 }
    }
    pub fn lon(&self) -> f64 {
        self.x as f64 / SCALE
    }
    pub fn lat(&self) -> f64 {
        self.y as f64 / SCALE
    }
}

impl From<crate::Wgs84Point> for E7 {
    fn from(p: crate::Wgs84Point) -> Self {
        E7::from_deg(p.lon(), p.lat())
    }
}

/// Twice the signed area of the triangle a, b, c: > 0 when c is left of a→b.
pub fn orient(a: E7, b: E7, c: E7) -> i128 {
    (b.x - a.x) as i128 * (c.y - a.y) as i128 - (b.y - a.y) as i128 * (c.x - a.x) as i128
}

fn on_segment(p: E7, a: E7, b: E7) -> bool {
    orient(a, b, p) == 0 && p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

/// Whether segments ab and cd share any point (touching counts).
fn segments_meet(a: E7, b: E7, c: E7, d: E7) -> bool {
    let (o1, o2, o3, o4) = (orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b));
    if o1.signum() * o2.signum() < 0 && o3.signum() * o4.signum() < 0 {
        return true;
    }
    on_segment(c, a, b) || on_segment(d, a, b) || on_segment(a, c, d) || on_segment(b, c, d)
}

/// Where a point lies relative to a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Containment {
    Outside,
    Boundary,
    Inside,
}

/// A closed ring: first point = last point, at least 4 points, simple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ring(Vec<E7>);

/// Why a geometry was rejected (Chinese, with the ring that failed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeometryError {
    #[error("第{ring}个环不闭合（首尾坐标须相同）")]
    NotClosed { ring: usize },
    #[error("第{ring}个环的点数少于4个")]
    TooFewPoints { ring: usize },
    #[error("第{ring}个环存在自相交（第{a}条边与第{b}条边相交）")]
    SelfIntersection { ring: usize, a: usize, b: usize },
    #[error("第{ring}个环面积为零")]
    ZeroArea { ring: usize },
    #[error("坐标超出范围：{0}")]
    OutOfRange(String),
    #[error("多边形为空")]
    Empty,
    #[error("第{ring}个环的点数超过{max}个，请简化边界后再导入")]
    TooManyPoints { ring: usize, max: usize },
    #[error("第{ring}个环（内环）不在其外环之内")]
    HoleOutside { ring: usize },
    #[error("第{a}个多边形与第{b}个多边形相互重叠")]
    PartsOverlap { a: usize, b: usize },
}

/// Most points in one ring: real boundaries have a few thousand; a cap keeps
/// the simplicity check (near-linear for real shapes, quadratic for a
/// crafted comb) within a second or two.
pub const MAX_RING_POINTS: usize = 20_000;

impl Ring {
    /// Checks closure, size, non-zero area and simplicity (no two
    /// non-adjacent edges meet; adjacent edges meet only at their shared point).
    /// A point repeated right after itself (common in GIS exports, or two
    /// points that round to the same 1e-7°) is dropped first.
    pub fn new(mut points: Vec<E7>, ring: usize) -> Result<Self, GeometryError> {
        if points.len() < 4 {
            return Err(GeometryError::TooFewPoints { ring });
        }
        if points.first() != points.last() {
            return Err(GeometryError::NotClosed { ring });
        }
        points.dedup();
        if points.len() < 4 {
            return Err(GeometryError::TooFewPoints { ring });
        }
        if points.len() > MAX_RING_POINTS + 1 {
            return Err(GeometryError::TooManyPoints { ring, max: MAX_RING_POINTS });
        }
        for p in &points {
            if !(-1_800_000_000..=1_800_000_000).contains(&p.x) || !(-900_000_000..=900_000_000).contains(&p.y) {
                return Err(GeometryError::OutOfRange(format!("{}, {}", p.lon(), p.lat())));
            }
        }
        let r = Ring(points);
        if let Some((a, b)) = r.crossing() {
            return Err(GeometryError::SelfIntersection { ring, a: a + 1, b: b + 1 });
        }
        if r.twice_area() == 0 {
            return Err(GeometryError::ZeroArea { ring });
        }
        Ok(r)
    }

    pub fn points(&self) -> &[E7] {
        &self.0
    }

    /// Whether edges `i < j` meet other than as neighbours at their shared vertex.
    fn edges_meet(&self, i: usize, j: usize) -> bool {
        let n = self.0.len() - 1; // edges
        let (a, b, c, d) = (self.0[i], self.0[i + 1], self.0[j], self.0[j + 1]);
        if j == i + 1 || (i == 0 && j == n - 1) {
            // Adjacent edges may only share their common vertex: no overlap back along each other.
            let shared = if j == i + 1 { b } else { a };
            let other_a = if j == i + 1 { a } else { b };
            let other_c = if j == i + 1 { d } else { c };
            orient(other_a, shared, other_c) == 0
                && (on_segment(other_c, other_a, shared) || on_segment(other_a, shared, other_c))
        } else {
            segments_meet(a, b, c, d)
        }
    }

    /// A pair of edges `(i, j)`, `i < j`, that meet, if any. Two edges can
    /// only meet if their x-ranges overlap, so only such pairs are checked,
    /// found by sorting the edges by their left end: near-linear for real
    /// boundaries instead of quadratic (a 32 000-vertex ring took seconds).
    /// Edges that all span the same x-range are still checked pairwise.
    /// Deterministic, but not necessarily the pair with the smallest `i`.
    fn crossing(&self) -> Option<(usize, usize)> {
        let n = self.0.len() - 1; // edges
        let span = |i: usize| (self.0[i].x.min(self.0[i + 1].x), self.0[i].x.max(self.0[i + 1].x));
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (span(i).0, i));
        for (k, &e) in order.iter().enumerate() {
            let right = span(e).1;
            for &f in &order[k + 1..] {
                if span(f).0 > right {
                    break;
                }
                let (i, j) = (e.min(f), e.max(f));
                if self.edges_meet(i, j) {
                    return Some((i, j));
                }
            }
        }
        None
    }

    /// Whether this ring (a hole) lies within `outer`: no vertex outside it,
    /// no edge crossing one of its edges, and not just its outline.
    fn within(&self, outer: &Ring) -> bool {
        let mut inside = false;
        for &p in &self.0 {
            match outer.contains(p) {
                Containment::Outside => return false,
                Containment::Inside => inside = true,
                Containment::Boundary => {}
            }
        }
        let crosses = self.0.windows(2).any(|h| {
            outer.0.windows(2).any(|e| {
                let (a, b, c, d) = (h[0], h[1], e[0], e[1]);
                if a.x.max(b.x) < c.x.min(d.x) || c.x.max(d.x) < a.x.min(b.x) {
                    return false;
                }
                let (o1, o2, o3, o4) = (orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b));
                o1.signum() * o2.signum() < 0 && o3.signum() * o4.signum() < 0
            })
        });
        // a hole whose every vertex is on the outline still has edge midpoints inside
        let mid_inside = || {
            self.0.windows(2).any(|w| {
                outer.contains(E7 { x: (w[0].x + w[1].x) / 2, y: (w[0].y + w[1].y) / 2 }) == Containment::Inside
            })
        };
        !crosses && (inside || mid_inside())
    }

    fn twice_area(&self) -> i128 {
        self.0.windows(2).map(|w| w[0].x as i128 * w[1].y as i128 - w[1].x as i128 * w[0].y as i128).sum()
    }

    /// Exact point-in-ring test (crossing number with a half-open rule).
    pub fn contains(&self, p: E7) -> Containment {
        let mut inside = false;
        for w in self.0.windows(2) {
            let (a, b) = (w[0], w[1]);
            if on_segment(p, a, b) {
                return Containment::Boundary;
            }
            let up = a.y <= p.y && b.y > p.y;
            let down = b.y <= p.y && a.y > p.y;
            if (up && orient(a, b, p) > 0) || (down && orient(a, b, p) < 0) {
                inside = !inside;
            }
        }
        if inside { Containment::Inside } else { Containment::Outside }
    }

    fn bbox(&self) -> ([i64; 2], [i64; 2]) {
        let mut lo = [i64::MAX; 2];
        let mut hi = [i64::MIN; 2];
        for p in &self.0 {
            lo = [lo[0].min(p.x), lo[1].min(p.y)];
            hi = [hi[0].max(p.x), hi[1].max(p.y)];
        }
        (lo, hi)
    }
}

/// A polygon: an exterior ring and holes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Polygon {
    pub exterior: Ring,
    pub holes: Vec<Ring>,
}

impl Polygon {
    pub fn contains(&self, p: E7) -> Containment {
        match self.exterior.contains(p) {
            Containment::Outside => Containment::Outside,
            Containment::Boundary => Containment::Boundary,
            Containment::Inside => {
                for h in &self.holes {
                    match h.contains(p) {
                        Containment::Inside => return Containment::Outside,
                        Containment::Boundary => return Containment::Boundary,
                        Containment::Outside => {}
                    }
                }
                Containment::Inside
            }
        }
    }
}

/// A grid's area: one or more polygons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area(pub Vec<Polygon>);

impl Area {
    /// From GeoJSON-style rings in degrees (`[lon, lat]`): a list of
    /// polygons, each a list of rings, the first the exterior.
    pub fn from_deg(polygons: &[Vec<Vec<[f64; 2]>>]) -> Result<Self, GeometryError> {
        if polygons.is_empty() {
            return Err(GeometryError::Empty);
        }
        let mut out = vec![];
        let mut ring_no = 0;
        for poly in polygons {
            let mut rings = vec![];
            for ring in poly {
                ring_no += 1;
                if ring.iter().any(|c| !c[0].is_finite() || !c[1].is_finite()) {
                    return Err(GeometryError::OutOfRange(format!("第{ring_no}个环含非数字坐标")));
                }
                rings.push(Ring::new(ring.iter().map(|c| E7::from_deg(c[0], c[1])).collect(), ring_no)?);
            }
            if rings.is_empty() {
                return Err(GeometryError::Empty);
            }
            let exterior = rings.remove(0);
            let first_hole = ring_no - rings.len() + 1;
            for (k, hole) in rings.iter().enumerate() {
                if !hole.within(&exterior) {
                    return Err(GeometryError::HoleOutside { ring: first_hole + k });
                }
            }
            out.push(Polygon { exterior, holes: rings });
        }
        // the parts of a MultiPolygon must not overlap each other
        for i in 0..out.len() {
            for j in i + 1..out.len() {
                let (a, b) = (Area(vec![out[i].clone()]), Area(vec![out[j].clone()]));
                if a.overlaps(&b) {
                    return Err(GeometryError::PartsOverlap { a: i + 1, b: j + 1 });
                }
            }
        }
        Ok(Area(out))
    }

    /// The best of its polygons' answers (a point inside any part is inside).
    pub fn contains(&self, p: E7) -> Containment {
        self.0.iter().map(|poly| poly.contains(p)).max().unwrap_or(Containment::Outside)
    }

    /// A point inside the area to stand for it (a marker, a jump target): the
    /// centre of its bounding box when that is inside, else the inside point
    /// of a 15 × 15 lattice over the box nearest that centre.
    pub fn inner_point(&self) -> Option<E7> {
        let (lo, hi) = self.bbox();
        if lo[0] > hi[0] {
            return None;
        }
        let centre = E7 { x: lo[0] + (hi[0] - lo[0]) / 2, y: lo[1] + (hi[1] - lo[1]) / 2 };
        if self.contains(centre) == Containment::Inside {
            return Some(centre);
        }
        const N: i64 = 15;
        (0..N)
            .flat_map(|i| (0..N).map(move |j| (i, j)))
            .map(|(i, j)| E7 {
                x: lo[0] + (hi[0] - lo[0]) * (2 * i + 1) / (2 * N),
                y: lo[1] + (hi[1] - lo[1]) * (2 * j + 1) / (2 * N),
            })
            .filter(|p| self.contains(*p) == Containment::Inside)
            .min_by_key(|p| {
                let (dx, dy) = (i128::from(p.x - centre.x), i128::from(p.y - centre.y));
                dx * dx + dy * dy
            })
    }

    pub fn bbox(&self) -> ([i64; 2], [i64; 2]) {
        let mut lo = [i64::MAX; 2];
        let mut hi = [i64::MIN; 2];
        for poly in &self.0 {
            let (l, h) = poly.exterior.bbox();
            lo = [lo[0].min(l[0]), lo[1].min(l[1])];
            hi = [hi[0].max(h[0]), hi[1].max(h[1])];
        }
        (lo, hi)
    }
}

impl Area {
    fn edges(&self) -> impl Iterator<Item = (E7, E7)> + '_ {
        self.0
            .iter()
            .flat_map(|p| std::iter::once(&p.exterior).chain(p.holes.iter()))
            .flat_map(|r| r.0.windows(2).map(|w| (w[0], w[1])))
    }

    /// Whether the interiors of two areas intersect (touching along edges
    /// or at vertices does not count). Used to report overlapping siblings.
    pub fn overlaps(&self, other: &Area) -> bool {
        let (alo, ahi) = self.bbox();
        let (blo, bhi) = other.bbox();
        if ahi[0] <= blo[0] || bhi[0] <= alo[0] || ahi[1] <= blo[1] || bhi[1] <= alo[1] {
            return false;
        }
        for (a, b) in self.edges() {
            for (c, d) in other.edges() {
                let (o1, o2, o3, o4) = (orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b));
                if o1.signum() * o2.signum() < 0 && o3.signum() * o4.signum() < 0 {
                    return true;
                }
            }
        }
        let inside = |x: &Area, y: &Area| {
            x.edges().any(|(a, b)| {
                y.contains(a) == Containment::Inside
                    || y.contains(E7 { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }) == Containment::Inside
            })
        };
        if inside(self, other) || inside(other, self) {
            return true;
        }
        // Congruent shapes: every vertex of each on the other's boundary.
        (alo, ahi) == (blo, bhi)
            && self.edges().all(|(a, _)| other.contains(a) == Containment::Boundary)
            && other.edges().all(|(a, _)| self.contains(a) == Containment::Boundary)
    }
}

/// Pairs of grids whose interiors overlap, found through the R-tree.
pub fn overlapping_pairs(grids: &[(GridCode, Area)]) -> Vec<(&GridCode, &GridCode)> {
    let boxes: Vec<_> = grids
        .iter()
        .enumerate()
        .map(|(i, (_, a))| {
            let (lo, hi) = a.bbox();
            GeomWithData::new(Rectangle::from_corners(lo, hi), i)
        })
        .collect();
    let tree = RTree::bulk_load(boxes.clone());
    let mut out = vec![];
    for b in &boxes {
        let i = b.data;
        for other in tree.locate_in_envelope_intersecting(&b.geom().envelope()) {
            let j = other.data;
            if j > i && grids[i].1.overlaps(&grids[j].1) {
                out.push((&grids[i].0, &grids[j].0));
            }
        }
    }
    out.sort();
    out
}

/// A hole between sibling grids: uncovered ground enclosed by them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// A point inside the gap (degrees).
    pub lat: f64,
    pub lon: f64,
    /// Rough size, from the sampling lattice (square metres).
    pub approx_area_m2: f64,
}

/// Finds gaps between sibling grids by sampling their common bounding box
/// on a `steps`×`steps` lattice: an uncovered sample counts when covered
/// samples lie on all four sides of it in its row and column (so the open
/// ground around the outside is not a gap). Neighbouring gap samples are
/// merged into one gap. A survey tool: gaps narrower than the lattice
/// spacing can go unseen.
pub fn gaps(grids: &[(GridCode, Area)], steps: usize) -> Vec<Gap> {
    if grids.len() < 2 || steps < 3 {
        return vec![];
    }
    let idx = GridIndex::new(grids.to_vec());
    let (mut lo, mut hi) = ([i64::MAX; 2], [i64::MIN; 2]);
    for (_, a) in grids {
        let (l, h) = a.bbox();
        lo = [lo[0].min(l[0]), lo[1].min(l[1])];
        hi = [hi[0].max(h[0]), hi[1].max(h[1])];
    }
    let n = steps;
    let at = |i: usize, j: usize| E7 {
        x: lo[0] + ((hi[0] - lo[0]) as i128 * (2 * i as i128 + 1) / (2 * n as i128)) as i64,
        y: lo[1] + ((hi[1] - lo[1]) as i128 * (2 * j as i128 + 1) / (2 * n as i128)) as i64,
    };
    let covered: Vec<Vec<bool>> = (0..n).map(|i| (0..n).map(|j| idx.locate(at(i, j)).is_some()).collect()).collect();
    let enclosed = |i: usize, j: usize| {
        !covered[i][j]
            && (0..i).any(|k| covered[k][j])
            && (i + 1..n).any(|k| covered[k][j])
            && (0..j).any(|k| covered[i][k])
            && (j + 1..n).any(|k| covered[i][k])
    };
    let mut seen = vec![vec![false; n]; n];
    let mut out = vec![];
    let cell_m2 = {
        let mid_lat = ((lo[1] + hi[1]) as f64 / 2.0 / SCALE).to_radians();
        let w = (hi[0] - lo[0]) as f64 / SCALE / n as f64 * 111_320.0 * mid_lat.cos();
        let h = (hi[1] - lo[1]) as f64 / SCALE / n as f64 * 111_000.0;
        w * h
    };
    for i in 0..n {
        for j in 0..n {
            if seen[i][j] || !enclosed(i, j) {
                continue;
            }
            // flood-fill the enclosed samples around (i, j)
            let mut stack = vec![(i, j)];
            seen[i][j] = true;
            let mut cells = vec![];
            while let Some((a, b)) = stack.pop() {
                cells.push((a, b));
                let next = [(a.wrapping_sub(1), b), (a + 1, b), (a, b.wrapping_sub(1)), (a, b + 1)];
                for (c, d) in next {
                    if c < n && d < n && !seen[c][d] && enclosed(c, d) {
                        seen[c][d] = true;
                        stack.push((c, d));
                    }
                }
            }
            let p = at(cells[0].0, cells[0].1);
            out.push(Gap { lat: p.lat(), lon: p.lon(), approx_area_m2: cells.len() as f64 * cell_m2 });
        }
    }
    out
}

/// Orders two candidate grids for a point: strictly inside beats boundary;
/// then the smaller code.
fn better(a: (Containment, &GridCode), b: (Containment, &GridCode)) -> Ordering {
    b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1))
}

/// The routing index: an R-tree over grid bounding boxes.
pub struct GridIndex {
    grids: Vec<(GridCode, Area)>,
    tree: RTree<GeomWithData<Rectangle<[i64; 2]>, usize>>,
}

impl GridIndex {
    pub fn new(grids: Vec<(GridCode, Area)>) -> Self {
        let boxes = grids
            .iter()
            .enumerate()
            .map(|(i, (_, area))| {
                let (lo, hi) = area.bbox();
                GeomWithData::new(Rectangle::from_corners(lo, hi), i)
            })
            .collect();
        Self { tree: RTree::bulk_load(boxes), grids }
    }

    pub fn len(&self) -> usize {
        self.grids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.grids.is_empty()
    }

    /// The grid a point belongs to, if any.
    pub fn locate(&self, p: E7) -> Option<&GridCode> {
        let env = AABB::from_point([p.x, p.y]);
        self.tree
            .locate_in_envelope_intersecting(&env)
            .filter_map(|g| {
                let (code, area) = &self.grids[g.data];
                match area.contains(p) {
                    Containment::Outside => None,
                    c => Some((c, code)),
                }
            })
            .min_by(|a, b| better(*a, *b))
            .map(|(_, code)| code)
    }

    /// The grid whose bounding box is nearest to a point outside every grid
    /// (ties: smaller code). Distances in `i128`, so nothing overflows.
    pub fn nearest(&self, p: E7) -> Option<&GridCode> {
        self.grids
            .iter()
            .map(|(code, area)| {
                let (lo, hi) = area.bbox();
                let dx = (lo[0] - p.x).max(0).max(p.x - hi[0]) as i128;
                let dy = (lo[1] - p.y).max(0).max(p.y - hi[1]) as i128;
                (dx * dx + dy * dy, code)
            })
            .min()
            .map(|(_, code)| code)
    }

    /// The same answer by checking every grid (for tests and tools).
    pub fn locate_brute_force(&self, p: E7) -> Option<&GridCode> {
        self.grids
            .iter()
            .filter_map(|(code, area)| match area.contains(p) {
                Containment::Outside => None,
                c => Some((c, code)),
            })
            .min_by(|a, b| better(*a, *b))
            .map(|(_, code)| code)
    }
}

/// GCJ-02 (高德/腾讯, "Mars" coordinates) to WGS-84, by the usual iteration of
/// the published forward transform; accurate to well under a metre in China.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..10 {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        wlon -= glon - lon;
        wlat -= glat - lat;
    }
    (wlon, wlat)
}

/// BD-09 (百度) to WGS-84 (via GCJ-02).
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let x_pi = std::f64::consts::PI * 3000.0 / 180.0;
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * x_pi).sin();
    let theta = y.atan2(x) - 0.000003 * (x * x_pi).cos();
    gcj02_to_wgs84(z * theta.cos(), z * theta.sin())
}

/// The published WGS-84 → GCJ-02 transform (Krasovsky ellipsoid).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    const A: f64 = 6378245.0;
    const EE: f64 = 0.006_693_421_622_965_943;
    let (x, y) = (lon - 105.0, lat - 35.0);
    let mut dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    dlat += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    dlon += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let radlat = lat / 180.0 * PI;
    let magic = 1.0 - EE * radlat.sin() * radlat.sin();
    let sqrtmagic = magic.sqrt();
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrtmagic) * PI);
    dlon = (dlon * 180.0) / (A / sqrtmagic * radlat.cos() * PI);
    (lon + dlon, lat + dlat)
}

fn out_of_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sq(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<Vec<[f64; 2]>> {
        vec![vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]
    }

    fn code(n: u32) -> GridCode {
        GridCode::parse(&format!("361202510{:03}{:03}", n / 1000, n % 1000 + 1)).unwrap()
    }

    #[test]
    fn grid_codes() {
        let c = GridCode::parse("361202510001001").unwrap();
        assert_eq!((c.region(), c.community()), ("361202", "361202510001"));
        assert!(GridCode::parse("36120251000100").is_err());
        assert!(GridCode::parse("36120251000100x").is_err());
        assert!(GridCode::parse("991202510001001").is_err());
        assert!(GridCode::parse("361202510001000").is_err());
    }

    #[test]
    fn an_inner_point_lies_inside_even_when_the_centre_does_not() {
        let square = Area::from_deg(&[sq(0.0, 0.0, 2.0, 2.0)]).unwrap();
        assert_eq!(square.inner_point(), Some(E7::from_deg(1.0, 1.0)));
        // a C shape: the centre of its box is in the notch
        let c = vec![vec![
            [0.0, 0.0],
            [3.0, 0.0],
            [3.0, 1.0],
            [1.0, 1.0],
            [1.0, 2.0],
            [3.0, 2.0],
            [3.0, 3.0],
            [0.0, 3.0],
            [0.0, 0.0],
        ]];
        let c = Area::from_deg(&[c]).unwrap();
        assert_eq!(c.contains(E7::from_deg(1.5, 1.5)), Containment::Outside);
        let p = c.inner_point().unwrap();
        assert_eq!(c.contains(p), Containment::Inside, "{p:?}");
        // a square with a hole where the centre is
        let mut holed = sq(0.0, 0.0, 4.0, 4.0);
        holed.extend(sq(1.0, 1.0, 3.0, 3.0));
        let holed = Area::from_deg(&[holed]).unwrap();
        assert_eq!(holed.contains(holed.inner_point().unwrap()), Containment::Inside);
    }

    #[test]
    fn exports_with_repeated_points_holes_and_parts() {
        // a repeated point (as GIS exports write them) is dropped, not a self-intersection
        let repeated = vec![vec![[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]];
        let a = Area::from_deg(&[repeated]).unwrap();
        assert_eq!(a.0[0].exterior.points().len(), 5);
        // a hole inside its exterior is fine; one outside, crossing it, or enclosing it is not
        let mut holed = sq(0.0, 0.0, 4.0, 4.0);
        holed.extend(sq(1.0, 1.0, 2.0, 2.0));
        assert_eq!(
            Area::from_deg(std::slice::from_ref(&holed)).unwrap().contains(E7::from_deg(1.5, 1.5)),
            Containment::Outside
        );
        for hole in [sq(5.0, 5.0, 6.0, 6.0), sq(3.0, 3.0, 5.0, 5.0), sq(-1.0, -1.0, 5.0, 5.0)] {
            let mut p = sq(0.0, 0.0, 4.0, 4.0);
            p.extend(hole);
            assert_eq!(Area::from_deg(&[p]), Err(GeometryError::HoleOutside { ring: 2 }));
        }
        // parts of a MultiPolygon may touch but not overlap
        assert!(Area::from_deg(&[sq(0.0, 0.0, 1.0, 1.0), sq(1.0, 0.0, 2.0, 1.0)]).is_ok());
        assert_eq!(
            Area::from_deg(&[sq(0.0, 0.0, 1.0, 1.0), sq(5.0, 5.0, 6.0, 6.0), sq(0.5, 0.5, 2.0, 2.0)]),
            Err(GeometryError::PartsOverlap { a: 1, b: 3 })
        );
        // a ring too large to check quickly is refused with the reason
        let n = MAX_RING_POINTS + 1;
        let big: Vec<[f64; 2]> = (0..=n)
            .map(|i| {
                let t = std::f64::consts::TAU * (i % n) as f64 / n as f64;
                [t.cos(), t.sin()]
            })
            .collect();
        assert_eq!(Area::from_deg(&[vec![big]]), Err(GeometryError::TooManyPoints { ring: 1, max: MAX_RING_POINTS }));
    }

    #[test]
    fn rings_are_checked() {
        assert!(matches!(
            Area::from_deg(&[vec![vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]]),
            Err(GeometryError::NotClosed { .. })
        ));
        assert!(matches!(
            Area::from_deg(&[vec![vec![[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]]]),
            Err(GeometryError::TooFewPoints { .. })
        ));
        // a bow tie
        let bow = vec![vec![[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]];
        assert!(matches!(Area::from_deg(&[bow]), Err(GeometryError::SelfIntersection { .. })));
        // a spike that doubles back along itself
        let spike = vec![vec![[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]];
        assert!(Area::from_deg(&[spike]).is_err());
        let flat = vec![vec![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 0.0]]];
        assert!(Area::from_deg(&[flat]).is_err());
        assert!(Area::from_deg(&[sq(116.0, 28.0, 116.1, 28.1)]).is_ok());
        assert!(matches!(Area::from_deg(&[]), Err(GeometryError::Empty)));
    }

    #[test]
    fn shared_edges_go_to_one_grid() {
        let a = Area::from_deg(&[sq(0.0, 0.0, 1.0, 1.0)]).unwrap();
        let b = Area::from_deg(&[sq(1.0, 0.0, 2.0, 1.0)]).unwrap();
        let idx = GridIndex::new(vec![(code(2), b), (code(1), a)]);
        assert_eq!(idx.locate(E7::from_deg(0.5, 0.5)), Some(&code(1)));
        assert_eq!(idx.locate(E7::from_deg(1.5, 0.5)), Some(&code(2)));
        // the shared edge and its vertices: the smaller code, every time
        assert_eq!(idx.locate(E7::from_deg(1.0, 0.5)), Some(&code(1)));
        assert_eq!(idx.locate(E7::from_deg(1.0, 1.0)), Some(&code(1)));
        // an outer edge belongs to the only grid that touches it
        assert_eq!(idx.locate(E7::from_deg(2.0, 0.5)), Some(&code(2)));
        assert_eq!(idx.locate(E7::from_deg(3.0, 0.5)), None);
        assert_eq!(idx.nearest(E7::from_deg(3.0, 0.5)), Some(&code(2)));
        assert_eq!(idx.nearest(E7::from_deg(-1.0, 0.5)), Some(&code(1)));
    }

    #[test]
    fn holes_and_multipolygons() {
        let ring_with_hole = vec![
            vec![[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]],
            vec![[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0], [1.0, 1.0]],
        ];
        let area = Area::from_deg(&[ring_with_hole, sq(10.0, 10.0, 11.0, 11.0)[..].to_vec()]).unwrap();
        assert_eq!(area.contains(E7::from_deg(0.5, 0.5)), Containment::Inside);
        assert_eq!(area.contains(E7::from_deg(2.0, 2.0)), Containment::Outside);
        assert_eq!(area.contains(E7::from_deg(1.0, 2.0)), Containment::Boundary);
        assert_eq!(area.contains(E7::from_deg(10.5, 10.5)), Containment::Inside);
        // a grid filling the hole takes its inside and wins its edge only by code
        let inner = Area::from_deg(&[sq(1.0, 1.0, 3.0, 3.0)]).unwrap();
        let idx = GridIndex::new(vec![(code(1), area), (code(2), inner)]);
        assert_eq!(idx.locate(E7::from_deg(2.0, 2.0)), Some(&code(2)));
        assert_eq!(idx.locate(E7::from_deg(1.0, 2.0)), Some(&code(1)));
    }

    #[test]
    fn overlaps_are_found_touching_is_not() {
        let a = Area::from_deg(&[sq(0.0, 0.0, 1.0, 1.0)]).unwrap();
        let touching = Area::from_deg(&[sq(1.0, 0.0, 2.0, 1.0)]).unwrap();
        let corner = Area::from_deg(&[sq(1.0, 1.0, 2.0, 2.0)]).unwrap();
        let crossing = Area::from_deg(&[sq(0.5, 0.5, 1.5, 1.5)]).unwrap();
        let inner = Area::from_deg(&[sq(0.2, 0.2, 0.4, 0.4)]).unwrap();
        let same = Area::from_deg(&[sq(0.0, 0.0, 1.0, 1.0)]).unwrap();
        assert!(!a.overlaps(&touching) && !a.overlaps(&corner));
        assert!(a.overlaps(&crossing) && crossing.overlaps(&a));
        assert!(a.overlaps(&inner) && inner.overlaps(&a));
        assert!(a.overlaps(&same));
        let grids = vec![(code(1), a), (code(2), touching), (code(3), crossing), (code(4), inner)];
        let pairs: Vec<(String, String)> =
            overlapping_pairs(&grids).into_iter().map(|(x, y)| (x.to_string(), y.to_string())).collect();
        let c = |n| code(n).to_string();
        assert_eq!(pairs, vec![(c(1), c(3)), (c(1), c(4)), (c(2), c(3))]);
    }

    #[test]
    fn gaps_between_siblings_are_found() {
        // a 3×3 block of squares with the middle one missing: one gap
        let mut grids = vec![];
        for i in 0..3 {
            for j in 0..3 {
                if (i, j) != (1, 1) {
                    let (x, y) = (116.0 + 0.01 * i as f64, 28.0 + 0.01 * j as f64);
                    grids.push((code(i * 3 + j), Area::from_deg(&[sq(x, y, x + 0.01, y + 0.01)]).unwrap()));
                }
            }
        }
        let found = gaps(&grids, 60);
        assert_eq!(found.len(), 1, "{found:?}");
        let g = &found[0];
        assert!((116.01..116.02).contains(&g.lon) && (28.01..28.02).contains(&g.lat), "{g:?}");
        // about one square of ~980 m × 1110 m
        assert!((0.7e6..1.4e6).contains(&g.approx_area_m2), "{}", g.approx_area_m2);
        // fill it: no gap; an L-shape's open corner is not a gap either
        grids.push((code(99), Area::from_deg(&[sq(116.01, 28.01, 116.02, 28.02)]).unwrap()));
        assert!(gaps(&grids, 60).is_empty());
        let l_shape = vec![
            (code(1), Area::from_deg(&[sq(0.0, 0.0, 1.0, 1.0)]).unwrap()),
            (code(2), Area::from_deg(&[sq(1.0, 0.0, 2.0, 1.0)]).unwrap()),
            (code(3), Area::from_deg(&[sq(0.0, 1.0, 1.0, 2.0)]).unwrap()),
        ];
        assert!(gaps(&l_shape, 40).is_empty());
    }

    #[test]
    fn mars_coordinates_round_trip() {
        // 南昌八一广场, WGS-84
        let (lon, lat) = (115.9060, 28.6760);
        let (glon, glat) = wgs84_to_gcj02(lon, lat);
        assert!((glon - lon).abs() > 1e-4, "GCJ-02 is offset");
        let (wlon, wlat) = gcj02_to_wgs84(glon, glat);
        assert!((wlon - lon).abs() < 1e-7 && (wlat - lat).abs() < 1e-7);
        // BD-09 forward, then back
        let x_pi = std::f64::consts::PI * 3000.0 / 180.0;
        let z = (glon * glon + glat * glat).sqrt() + 0.00002 * (glat * x_pi).sin();
        let theta = glat.atan2(glon) + 0.000003 * (glon * x_pi).cos();
        let (blon, blat) = (z * theta.cos() + 0.0065, z * theta.sin() + 0.006);
        let (wlon, wlat) = bd09_to_wgs84(blon, blat);
        assert!((wlon - lon).abs() < 1e-5 && (wlat - lat).abs() < 1e-5, "{wlon} {wlat}");
        assert_eq!(gcj02_to_wgs84(2.35, 48.85), (2.35, 48.85), "outside China unchanged");
    }

    #[test]
    fn large_rings_are_checked_quickly() {
        // A 20 000-vertex circle: checking every pair of edges took seconds.
        let n = 20_000;
        let ring: Vec<[f64; 2]> = (0..=n)
            .map(|i| {
                let t = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                [116.0 + 0.5 * t.cos(), 28.0 + 0.5 * t.sin()]
            })
            .collect();
        assert!(Area::from_deg(&[vec![ring.clone()]]).is_ok());
        // The same ring with one vertex pulled across the circle crosses itself.
        let mut bad = ring;
        bad[n / 3] = [116.0, 27.4];
        assert!(matches!(Area::from_deg(&[vec![bad]]), Err(GeometryError::SelfIntersection { .. })));
    }

    /// A star-shaped polygon around a centre: simple by construction.
    fn star(cx: i64, cy: i64, radii: &[i64]) -> Vec<E7> {
        let n = radii.len();
        let mut pts: Vec<E7> = radii
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let t = i as f64 / n as f64 * std::f64::consts::TAU;
                E7 { x: cx + (*r as f64 * t.cos()).round() as i64, y: cy + (*r as f64 * t.sin()).round() as i64 }
            })
            .collect();
        pts.dedup();
        pts.push(pts[0]);
        pts
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// The R-tree answer equals checking every grid, for random simple
        /// polygons on a small integer lattice (so points often fall exactly
        /// on edges and vertices), and for their own vertices and edge midpoints.
        #[test]
        fn index_matches_brute_force(
            shapes in proptest::collection::vec((0i64..40, 0i64..40, proptest::collection::vec(3i64..15, 3..9)), 1..12),
            probes in proptest::collection::vec((0i64..60, 0i64..60), 1..60),
        ) {
            let mut grids = vec![];
            for (i, (cx, cy, radii)) in shapes.iter().enumerate() {
                let pts = star(*cx, *cy, radii);
                if let Ok(ring) = Ring::new(pts, 1) {
                    grids.push((code(i as u32), Area(vec![Polygon { exterior: ring, holes: vec![] }])));
                }
            }
            prop_assume!(!grids.is_empty());
            let mut points: Vec<E7> = probes.iter().map(|(x, y)| E7 { x: *x, y: *y }).collect();
            for (_, area) in &grids {
                for w in area.0[0].exterior.points().windows(2) {
                    points.push(w[0]);
                    if (w[0].x + w[1].x) % 2 == 0 && (w[0].y + w[1].y) % 2 == 0 {
                        points.push(E7 { x: (w[0].x + w[1].x) / 2, y: (w[0].y + w[1].y) / 2 });
                    }
                }
            }
            let idx = GridIndex::new(grids);
            for p in points {
                prop_assert_eq!(idx.locate(p), idx.locate_brute_force(p), "at {:?}", p);
            }
        }

        /// On a convex polygon, the crossing test agrees with "left of every edge".
        #[test]
        fn containment_matches_half_planes(w in 1i64..50, h in 1i64..50, px in -5i64..60, py in -5i64..60) {
            let ring = Ring::new(vec![E7{x:0,y:0}, E7{x:w,y:0}, E7{x:w,y:h}, E7{x:0,y:h}, E7{x:0,y:0}], 1).unwrap();
            let p = E7 { x: px, y: py };
            let expected = if px > 0 && px < w && py > 0 && py < h {
                Containment::Inside
            } else if (0..=w).contains(&px) && (0..=h).contains(&py) {
                Containment::Boundary
            } else {
                Containment::Outside
            };
            prop_assert_eq!(ring.contains(p), expected);
        }

        /// The sweep finds a crossing exactly when checking every pair of
        /// edges does, on random rings of a tiny lattice (many collinear,
        /// touching and repeated points), and the pair it names does meet.
        #[test]
        fn sweep_finds_crossings_like_every_pair(pts in proptest::collection::vec((0i64..5, 0i64..5), 3..12)) {
            let mut pts: Vec<E7> = pts.iter().map(|(x, y)| E7 { x: *x, y: *y }).collect();
            pts.push(pts[0]);
            let ring = Ring(pts);
            let n = ring.0.len() - 1;
            let every_pair = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).find(|&(i, j)| ring.edges_meet(i, j));
            let found = ring.crossing();
            prop_assert_eq!(found.is_some(), every_pair.is_some(), "{:?} vs {:?}", found, every_pair);
            if let Some((i, j)) = found {
                prop_assert!(i < j && ring.edges_meet(i, j));
            }
        }

        #[test]
        fn grid_code_parse_never_panics(s in "\\PC{0,20}") {
            let _ = GridCode::parse(&s);
        }
    }
}
