//! A FeatureCollection built from structured random input, so the fuzzer
//! spends its time in the geometry code (ring checks, routing, overlaps,
//! gaps) rather than in JSON syntax errors: rectangles and star-shaped
//! rings on a small lattice (shared edges and vertices are common), random
//! lattice rings (mostly self-intersecting), raw floats, wrong types.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const MAX_FEATURES: usize = 12;
const MAX_RINGS: usize = 4;
const MAX_POINTS: usize = 64;

#[derive(Arbitrary, Debug)]
struct Input {
    /// 0 and 1: a broken top level; anything else: a FeatureCollection.
    top: u8,
    features: Vec<Feature>,
}

#[derive(Arbitrary, Debug)]
struct Feature {
    code: Code,
    name: Text,
    station: Text,
    kind: Option<Leaf>,
    officer: Option<Leaf>,
    village: Option<Leaf>,
    auxiliaries: Auxiliaries,
    geometry: Geometry,
    /// `properties` is not an object at all.
    properties_broken: bool,
}

#[derive(Arbitrary, Debug)]
enum Code {
    /// A valid code; a small sequence space so duplicates happen.
    Valid(u8),
    Raw(String),
    Leaf(Leaf),
    Missing,
}

#[derive(Arbitrary, Debug)]
enum Text {
    Good,
    Blank,
    Missing,
    Leaf(Leaf),
}

#[derive(Arbitrary, Debug)]
enum Leaf {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    EmptyArray,
    EmptyObject,
}

#[derive(Arbitrary, Debug)]
enum Auxiliaries {
    Missing,
    List(Vec<Leaf>),
    Joined(String),
}

#[derive(Arbitrary, Debug)]
enum Geometry {
    Polygon(Place, Vec<Ring>),
    MultiPolygon(Place, Vec<Vec<Ring>>),
    Null,
    Missing,
    NoCoordinates,
    /// Another `type` ("Point", "", …) or coordinates of the wrong shape.
    Odd(String, Leaf),
    PolygonOfLeaf(Leaf),
    MultiPolygonOf(Vec<Leaf>),
}

/// Where the lattice sits and how fine it is.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Place {
    anchor: Anchor,
    step: Step,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Anchor {
    /// Inside China: GCJ-02 and BD-09 input is really converted.
    Nanchang,
    Origin,
    /// At the edges of the valid range, so conversions can leave it.
    East,
    West,
    North,
    South,
    /// On the edge of the "out of China" box.
    ChinaCorner,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Step {
    E7,
    E5,
    Centi,
    Degree,
}

#[derive(Arbitrary, Debug)]
enum Ring {
    Rect {
        x: i8,
        y: i8,
        w: u8,
        h: u8,
    },
    Star {
        x: i8,
        y: i8,
        radii: Vec<u8>,
    },
    Lattice(Vec<(i8, i8)>),
    Raw(Vec<(f64, f64)>),
    Points(Vec<Leaf>),
    Leaf(Leaf),
    /// A ring given twice as a rect but left open / with a repeated vertex.
    Open {
        x: i8,
        y: i8,
        w: u8,
        h: u8,
    },
    Doubled {
        x: i8,
        y: i8,
        w: u8,
        h: u8,
    },
}

impl Leaf {
    fn json(&self) -> Value {
        match self {
            Leaf::Null => Value::Null,
            Leaf::Bool(b) => json!(b),
            Leaf::Int(i) => json!(i),
            Leaf::Float(f) => json!(f), // NaN and infinities become null
            Leaf::Str(s) => json!(s),
            Leaf::EmptyArray => json!([]),
            Leaf::EmptyObject => json!({}),
        }
    }
}

impl Text {
    fn json(&self, good: &str) -> Option<Value> {
        match self {
            Text::Good => Some(json!(good)),
            Text::Blank => Some(json!("  ")),
            Text::Missing => None,
            Text::Leaf(l) => Some(l.json()),
        }
    }
}

impl Place {
    fn deg(&self, x: i64, y: i64) -> Value {
        let (ax, ay) = match self.anchor {
            Anchor::Nanchang => (115.9, 28.6),
            Anchor::Origin => (0.0, 0.0),
            Anchor::East => (179.999, 10.0),
            Anchor::West => (-179.999, -10.0),
            Anchor::North => (100.0, 89.999),
            Anchor::South => (-100.0, -89.999),
            Anchor::ChinaCorner => (72.004, 0.8293),
        };
        let step = match self.step {
            Step::E7 => 1e-7,
            Step::E5 => 1e-5,
            Step::Centi => 0.01,
            Step::Degree => 1.0,
        };
        json!([ax + x as f64 * step, ay + y as f64 * step])
    }
}

impl Ring {
    fn json(&self, place: Place) -> Value {
        let pts = |p: &[(i64, i64)]| Value::from(p.iter().map(|(x, y)| place.deg(*x, *y)).collect::<Vec<_>>());
        let rect = |x: i8, y: i8, w: u8, h: u8| {
            let (x, y, w, h) = (x as i64 % 16, y as i64 % 16, 1 + w as i64 % 6, 1 + h as i64 % 6);
            vec![(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]
        };
        match self {
            Ring::Rect { x, y, w, h } => pts(&rect(*x, *y, *w, *h)),
            Ring::Open { x, y, w, h } => {
                let mut r = rect(*x, *y, *w, *h);
                r.pop();
                pts(&r)
            }
            Ring::Doubled { x, y, w, h } => {
                let mut r = rect(*x, *y, *w, *h);
                r.insert(2, r[1]);
                pts(&r)
            }
            Ring::Star { x, y, radii } => {
                let n = radii.len().clamp(3, MAX_POINTS);
                let (cx, cy) = (*x as i64 % 32, *y as i64 % 32);
                let mut p: Vec<(i64, i64)> = (0..n)
                    .map(|i| {
                        let r = 2.0 + radii.get(i).copied().unwrap_or(4) as f64 % 24.0;
                        let t = i as f64 / n as f64 * std::f64::consts::TAU;
                        (cx + (r * t.cos()).round() as i64, cy + (r * t.sin()).round() as i64)
                    })
                    .collect();
                p.dedup();
                p.push(p[0]);
                pts(&p)
            }
            Ring::Lattice(l) => {
                let mut p: Vec<(i64, i64)> =
                    l.iter().take(MAX_POINTS).map(|(x, y)| (*x as i64 % 8, *y as i64 % 8)).collect();
                if let Some(first) = p.first().copied() {
                    p.push(first);
                }
                pts(&p)
            }
            Ring::Raw(r) => {
                let mut p: Vec<Value> = r.iter().take(MAX_POINTS).map(|(x, y)| json!([x, y])).collect();
                if let Some(first) = p.first().cloned() {
                    p.push(first);
                }
                Value::from(p)
            }
            Ring::Points(l) => Value::from(l.iter().take(MAX_POINTS).map(Leaf::json).collect::<Vec<_>>()),
            Ring::Leaf(l) => l.json(),
        }
    }
}

fn polygon(place: Place, rings: &[Ring]) -> Value {
    Value::from(rings.iter().take(MAX_RINGS).map(|r| r.json(place)).collect::<Vec<_>>())
}

impl Geometry {
    fn json(&self) -> Option<Value> {
        Some(match self {
            Geometry::Polygon(place, rings) => json!({"type": "Polygon", "coordinates": polygon(*place, rings)}),
            Geometry::MultiPolygon(place, polys) => json!({"type": "MultiPolygon",
                "coordinates": polys.iter().take(MAX_RINGS).map(|p| polygon(*place, p)).collect::<Vec<_>>()}),
            Geometry::Null => Value::Null,
            Geometry::Missing => return None,
            Geometry::NoCoordinates => json!({"type": "Polygon"}),
            Geometry::Odd(kind, coords) => json!({"type": kind, "coordinates": coords.json()}),
            Geometry::PolygonOfLeaf(l) => json!({"type": "Polygon", "coordinates": [l.json()]}),
            Geometry::MultiPolygonOf(l) => {
                json!({"type": "MultiPolygon", "coordinates": l.iter().map(Leaf::json).collect::<Vec<_>>()})
            }
        })
    }
}

impl Feature {
    fn json(&self) -> Value {
        let mut props = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                props.insert(k.to_string(), v);
            }
        };
        put(
            "code",
            match &self.code {
                Code::Valid(n) => Some(json!(format!("361202510001{:03}", 1 + *n as u32 % 16))),
                Code::Raw(s) => Some(json!(s)),
                Code::Leaf(l) => Some(l.json()),
                Code::Missing => None,
            },
        );
        put("name", self.name.json("滨江警务区"));
        put("station", self.station.json("361202510000"));
        put("kind", self.kind.as_ref().map(Leaf::json));
        put("officer", self.officer.as_ref().map(Leaf::json));
        put("village", self.village.as_ref().map(Leaf::json));
        put(
            "auxiliaries",
            match &self.auxiliaries {
                Auxiliaries::Missing => None,
                Auxiliaries::List(l) => Some(Value::from(l.iter().map(Leaf::json).collect::<Vec<_>>())),
                Auxiliaries::Joined(s) => Some(json!(s)),
            },
        );
        let mut f = Map::new();
        f.insert("type".into(), json!("Feature"));
        f.insert("properties".into(), if self.properties_broken { json!([props]) } else { Value::Object(props) });
        if let Some(g) = self.geometry.json() {
            f.insert("geometry".into(), g);
        }
        Value::Object(f)
    }
}

fuzz_target!(|input: Input| {
    let features: Vec<Value> = input.features.iter().take(MAX_FEATURES).map(Feature::json).collect();
    let doc = match input.top {
        0 => json!({"type": "Feature", "features": features}),
        1 => json!({"type": "FeatureCollection", "features": {"0": features}}),
        _ => json!({"type": "FeatureCollection", "features": features}),
    };
    zhufang_fuzz::exercise(&doc.to_string());
});
