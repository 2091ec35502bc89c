//! Reading and writing grid GeoJSON. Every problem is reported with the
//! feature's index (0-based, as in the file) and a Chinese reason; the
//! importer commits nothing unless the whole file is clean.

use crate::grid::{Area, E7, GridCode, bd09_to_wgs84, gcj02_to_wgs84};
use serde_json::{Map, Value, json};

/// The datum of the input coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datum {
    /// WGS-84 / CGCS2000 (the two differ by centimetres; stored as is).
    Wgs84,
    /// GCJ-02 (高德, 腾讯).
    Gcj02,
    /// BD-09 (百度).
    Bd09,
}

impl Datum {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "wgs84" | "cgcs2000" => Some(Datum::Wgs84),
            "gcj02" | "amap" => Some(Datum::Gcj02),
            "bd09" | "baidu" => Some(Datum::Bd09),
            _ => None,
        }
    }
    fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Datum::Wgs84 => (lon, lat),
            Datum::Gcj02 => gcj02_to_wgs84(lon, lat),
            Datum::Bd09 => bd09_to_wgs84(lon, lat),
        }
    }
}

/// One grid as read from a feature.
#[derive(Debug, Clone)]
pub struct GridFeature {
    pub index: usize,
    pub code: GridCode,
    pub name: String,
    /// 警务区, 网格, 村, 社区 …
    pub kind: String,
    /// Org code of the station the grid belongs to.
    pub station: String,
    /// Username of the responsible community officer.
    pub officer: Option<String>,
    /// Usernames of the auxiliaries (一村一辅警).
    pub auxiliaries: Vec<String>,
    /// The village or community it covers.
    pub village: Option<String>,
    pub area: Area,
}

/// A problem with one feature (or with the file, `index` = None).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeatureError {
    pub index: Option<usize>,
    pub reason: String,
}

fn err(index: Option<usize>, reason: impl Into<String>) -> FeatureError {
    FeatureError { index, reason: reason.into() }
}

fn text(props: &Map<String, Value>, key: &str) -> Option<String> {
    match props.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Coordinates of a Polygon (`[[[lon, lat], …], …]`) converted to WGS-84.
fn rings(v: &Value, datum: Datum) -> Result<Vec<Vec<[f64; 2]>>, String> {
    let rings = v.as_array().ok_or("多边形坐标须为环的数组")?;
    rings
        .iter()
        .map(|ring| {
            ring.as_array()
                .ok_or_else(|| "环须为坐标的数组".to_string())?
                .iter()
                .map(|c| {
                    let c = c.as_array().filter(|c| c.len() >= 2).ok_or("坐标须为 [经度, 纬度]")?;
                    let (lon, lat) = (c[0].as_f64().ok_or("经度须为数字")?, c[1].as_f64().ok_or("纬度须为数字")?);
                    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                        return Err(format!("坐标超出范围：{lon}, {lat}"));
                    }
                    let (x, y) = datum.to_wgs84(lon, lat);
                    Ok([x, y])
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .collect()
}

/// A stored GeoJSON geometry (WGS-84) back into an [`Area`].
pub fn area_from_geometry(geometry: &Value) -> Result<Area, String> {
    area_of(geometry, Datum::Wgs84)
}

fn area_of(geometry: &Value, datum: Datum) -> Result<Area, String> {
    let kind = geometry.get("type").and_then(Value::as_str).unwrap_or("");
    let coords = geometry.get("coordinates").ok_or("缺少 coordinates")?;
    let polygons = match kind {
        "Polygon" => vec![rings(coords, datum)?],
        "MultiPolygon" => coords
            .as_array()
            .ok_or("MultiPolygon 坐标须为多边形的数组")?
            .iter()
            .map(|p| rings(p, datum))
            .collect::<Result<Vec<_>, String>>()?,
        other => return Err(format!("几何类型须为 Polygon 或 MultiPolygon，而不是 {other}")),
    };
    Area::from_deg(&polygons).map_err(|e| e.to_string())
}

/// Parses a FeatureCollection. Returns every grid, or every problem found
/// (bad JSON, bad codes, missing names or stations, invalid rings,
/// self-intersections, duplicate codes) — never a partial result.
pub fn parse_grids(text_in: &str, datum: Datum) -> Result<Vec<GridFeature>, Vec<FeatureError>> {
    let (grids, errors) = parse_grids_all(text_in, datum).map_err(|e| vec![e])?;
    if errors.is_empty() { Ok(grids) } else { Err(errors) }
}

/// Like [`parse_grids`], but returns the good features together with the
/// problems of the others, so a caller can check the good ones further and
/// report everything at once. Only a file-level problem is an `Err`.
pub fn parse_grids_all(text_in: &str, datum: Datum) -> Result<(Vec<GridFeature>, Vec<FeatureError>), FeatureError> {
    let doc: Value = serde_json::from_str(text_in).map_err(|e| err(None, format!("不是有效的JSON：{e}")))?;
    if doc.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(err(None, "文件须为 GeoJSON FeatureCollection"));
    }
    let features = doc.get("features").and_then(Value::as_array).ok_or_else(|| err(None, "缺少 features 数组"))?;
    let mut out = vec![];
    let mut errors = vec![];
    let mut seen = std::collections::HashMap::new();
    for (i, f) in features.iter().enumerate() {
        let empty = Map::new();
        let props = f.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let mut problems = vec![];
        let code = match text(props, "code").map(|c| GridCode::parse(&c)) {
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                problems.push(e.message.to_string());
                None
            }
            None => {
                problems.push("缺少网格编码 code".into());
                None
            }
        };
        let name = text(props, "name");
        if name.is_none() {
            problems.push("缺少网格名称 name".into());
        }
        let station = text(props, "station");
        if station.is_none() {
            problems.push("缺少所属派出所编码 station".into());
        }
        let area = match f.get("geometry") {
            Some(g) if !g.is_null() => match area_of(g, datum) {
                Ok(a) => Some(a),
                Err(e) => {
                    problems.push(e);
                    None
                }
            },
            _ => {
                problems.push("缺少几何图形 geometry".into());
                None
            }
        };
        if let Some(c) = &code
            && let Some(first) = seen.insert(c.clone(), i)
        {
            problems.push(format!("网格编码 {c} 与第{first}个要素重复"));
        }
        if !problems.is_empty() {
            errors.extend(problems.into_iter().map(|p| err(Some(i), p)));
            continue;
        }
        let auxiliaries = match props.get("auxiliaries") {
            Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(|s| s.trim().to_string())).collect(),
            Some(Value::String(s)) => {
                s.split([',', '，', '、']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
            }
            _ => vec![],
        };
        out.push(GridFeature {
            index: i,
            code: code.expect("checked"),
            name: name.expect("checked"),
            kind: text(props, "kind").unwrap_or_else(|| "警务区".into()),
            station: station.expect("checked"),
            officer: text(props, "officer"),
            auxiliaries,
            village: text(props, "village"),
            area: area.expect("checked"),
        });
    }
    Ok((out, errors))
}

/// A grid as a GeoJSON Feature (WGS-84, `[lon, lat]`).
pub fn feature(props: Value, area: &Area) -> Value {
    json!({"type": "Feature", "properties": props, "geometry": geometry(area)})
}

/// The GeoJSON geometry of an area: a Polygon, or a MultiPolygon.
pub fn geometry(area: &Area) -> Value {
    let polys: Vec<Value> = area
        .0
        .iter()
        .map(|p| {
            let ring = |r: &crate::grid::Ring| {
                Value::from(r.points().iter().map(|e: &E7| json!([e.lon(), e.lat()])).collect::<Vec<_>>())
            };
            let mut rings = vec![ring(&p.exterior)];
            rings.extend(p.holes.iter().map(ring));
            Value::from(rings)
        })
        .collect();
    if polys.len() == 1 {
        json!({"type": "Polygon", "coordinates": polys[0]})
    } else {
        json!({"type": "MultiPolygon", "coordinates": polys})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fc(features: Vec<Value>) -> String {
        json!({"type": "FeatureCollection", "features": features}).to_string()
    }

    fn square(code: &str, x: f64) -> Value {
        json!({"type": "Feature",
            "properties": {"code": code, "name": "滨江警务区", "station": "361202510000", "officer": "s1.officer", "auxiliaries": "s1.aux、s1.aux2", "village": "滨江社区"},
            "geometry": {"type": "Polygon", "coordinates": [[[x, 28.0], [x + 0.01, 28.0], [x + 0.01, 28.01], [x, 28.01], [x, 28.0]]]}})
    }

    #[test]
    fn reads_a_clean_file_and_writes_it_back() {
        let grids =
            parse_grids(&fc(vec![square("361202510001001", 116.3), square("361202510001002", 116.31)]), Datum::Wgs84)
                .unwrap();
        assert_eq!(grids.len(), 2);
        assert_eq!(grids[0].auxiliaries, vec!["s1.aux", "s1.aux2"]);
        assert_eq!(grids[0].kind, "警务区");
        let back = feature(json!({"code": grids[0].code}), &grids[0].area);
        let again = parse_grids(
            &fc(vec![{
                let mut f = back.clone();
                f["properties"] = square("361202510001001", 0.0)["properties"].clone();
                f
            }]),
            Datum::Wgs84,
        )
        .unwrap();
        assert_eq!(again[0].area, grids[0].area, "round trip is exact at 1e-7 degrees");
    }

    #[test]
    fn reports_every_problem_with_its_feature_index() {
        let bow = json!({"type": "Feature", "properties": {"code": "361202510001003", "name": "x", "station": "s"},
            "geometry": {"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]}});
        let open = json!({"type": "Feature", "properties": {"code": "361202510001004", "name": "x", "station": "s"},
            "geometry": {"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]}});
        let bad_code = square("12345", 116.3);
        let dup = square("361202510001001", 116.4);
        let point = json!({"type": "Feature", "properties": {"code": "361202510001005", "name": "x", "station": "s"},
            "geometry": {"type": "Point", "coordinates": [1.0, 1.0]}});
        let errs =
            parse_grids(&fc(vec![square("361202510001001", 116.3), bow, open, bad_code, dup, point]), Datum::Wgs84)
                .unwrap_err();
        let at = |i: usize| {
            errs.iter().filter(|e| e.index == Some(i)).map(|e| e.reason.clone()).collect::<Vec<_>>().join("；")
        };
        assert!(at(0).is_empty());
        assert!(at(1).contains("自相交"), "{}", at(1));
        assert!(at(2).contains("不闭合"), "{}", at(2));
        assert!(at(3).contains("15位"), "{}", at(3));
        assert!(at(4).contains("重复"), "{}", at(4));
        assert!(at(5).contains("Point"), "{}", at(5));
        assert!(parse_grids("{", Datum::Wgs84).unwrap_err()[0].reason.contains("JSON"));
        assert!(parse_grids("{\"type\":\"Feature\"}", Datum::Wgs84).is_err());
    }

    #[test]
    fn converts_amap_and_baidu_input() {
        let (glon, glat) = crate::grid::wgs84_to_gcj02(116.3, 28.0);
        let f = json!({"type": "Feature", "properties": {"code": "361202510001001", "name": "x", "station": "s"},
            "geometry": {"type": "Polygon", "coordinates": [[[glon, glat], [glon + 0.01, glat], [glon + 0.01, glat + 0.01], [glon, glat]]]}});
        let g = parse_grids(&fc(vec![f]), Datum::Gcj02).unwrap();
        let first = g[0].area.0[0].exterior.points()[0];
        assert!((first.lon() - 116.3).abs() < 1e-6 && (first.lat() - 28.0).abs() < 1e-6, "{first:?}");
        assert_eq!(Datum::parse("BD09"), Some(Datum::Bd09));
        assert_eq!(Datum::parse("mercator"), None);
    }

    /// The importer's promises for any input: no panic, a file-level error
    /// names no feature, every feature error and every grid names a feature
    /// that exists, and no feature is both good and bad.
    fn check_import(text: &str, features: Option<usize>) -> Result<(), TestCaseError> {
        for datum in [Datum::Wgs84, Datum::Gcj02, Datum::Bd09] {
            match parse_grids_all(text, datum) {
                Err(e) => prop_assert_eq!(e.index, None, "{:?}", e),
                Ok((grids, errors)) => {
                    let n = features.unwrap_or(usize::MAX);
                    for e in &errors {
                        prop_assert!(e.index.is_some_and(|i| i < n), "{:?} (features: {})", e, n);
                    }
                    for g in &grids {
                        prop_assert!(g.index < n, "grid {} (features: {})", g.index, n);
                        prop_assert!(errors.iter().all(|e| e.index != Some(g.index)));
                    }
                    prop_assert_eq!(parse_grids(text, datum).is_ok(), errors.is_empty());
                }
            }
        }
        Ok(())
    }

    /// A JSON number token, including ones JSON allows but f64 does not
    /// hold (1e400 overflows, 1e-400 underflows, huge integers).
    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()).prop_map(|f| format!("{f:e}")),
            (-200.0..200.0f64).prop_map(|f| f.to_string()),
            prop::sample::select(vec![
                "0",
                "-0",
                "-0.0",
                "1e400",
                "-1e400",
                "1e-400",
                "1.7976931348623157e308",
                "5e-324",
                "123456789012345678901234567890",
                "180",
                "-180.0000001",
                "90.0",
                "1E+2",
                "0.1e1",
            ])
            .prop_map(String::from),
        ]
    }

    fn string_token() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "FeatureCollection",
                "Feature",
                "Polygon",
                "MultiPolygon",
                "Point",
                "",
                "  ",
                "361202510001001",
                "361202510001002",
                "991202510001001",
                "361202510000",
            ])
            .prop_map(String::from),
            "\\PC{0,12}",
        ]
        .prop_map(|s| Value::from(s).to_string())
    }

    /// Arbitrary JSON text, with the keys the importer looks for.
    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![Just("null".to_string()), Just("true".to_string()), number(), string_token()];
        leaf.prop_recursive(5, 64, 6, |inner| {
            let key = prop_oneof![
                prop::sample::select(vec![
                    "type",
                    "features",
                    "properties",
                    "geometry",
                    "coordinates",
                    "code",
                    "name",
                    "station",
                    "officer",
                    "auxiliaries",
                    "village",
                    "kind",
                ])
                .prop_map(String::from),
                "[a-z]{0,4}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((key, inner), 0..6).prop_map(|kv| {
                    let kv: Vec<String> = kv.iter().map(|(k, v)| format!("{}:{v}", Value::from(k.as_str()))).collect();
                    format!("{{{}}}", kv.join(","))
                }),
            ]
        })
    }

    /// A ring on a small lattice near a random place (often valid, often
    /// self-intersecting or open), or any JSON at all.
    fn ring_text() -> impl Strategy<Value = String> {
        let lattice = (
            prop::sample::select(vec![(116.3, 28.0), (0.0, 0.0), (179.9999, 89.9999), (-180.0, -90.0)]),
            prop::sample::select(vec![1e-7, 1e-4, 0.01, 1.0]),
            prop::collection::vec((-3i32..4, -3i32..4), 0..8),
            any::<bool>(),
        )
            .prop_map(|((x0, y0), step, pts, close)| {
                let mut pts: Vec<String> =
                    pts.iter().map(|(x, y)| format!("[{},{}]", x0 + *x as f64 * step, y0 + *y as f64 * step)).collect();
                if close && let Some(first) = pts.first().cloned() {
                    pts.push(first);
                }
                format!("[{}]", pts.join(","))
            });
        let rect = (-5i32..5, -5i32..5, 1i32..3, 1i32..3).prop_map(|(x, y, w, h)| {
            let p = |x: i32, y: i32| format!("[{},{}]", 116.0 + x as f64 * 0.01, 28.0 + y as f64 * 0.01);
            format!("[{},{},{},{},{}]", p(x, y), p(x + w, y), p(x + w, y + h), p(x, y + h), p(x, y))
        });
        let odd = prop::collection::vec(prop_oneof![number(), json_text()], 0..5)
            .prop_map(|v| format!("[[{}]]", v.join(",")));
        prop_oneof![3 => rect, 3 => lattice, 1 => odd, 1 => json_text()]
    }

    fn geometry_text() -> impl Strategy<Value = String> {
        let polygon = || prop::collection::vec(ring_text(), 0..3).prop_map(|r| format!("[{}]", r.join(",")));
        prop_oneof![
            4 => polygon().prop_map(|c| format!(r#"{{"type":"Polygon","coordinates":{c}}}"#)),
            2 => prop::collection::vec(polygon(), 0..3)
                .prop_map(|p| format!(r#"{{"type":"MultiPolygon","coordinates":[{}]}}"#, p.join(","))),
            1 => (string_token(), json_text()).prop_map(|(t, c)| format!(r#"{{"type":{t},"coordinates":{c}}}"#)),
            1 => json_text(),
        ]
    }

    fn feature_text() -> impl Strategy<Value = String> {
        let value = |good: &'static str| prop_oneof![3 => Just(Value::from(good).to_string()), 1 => string_token(), 1 => json_text()];
        let code = prop_oneof![
            4 => (1u32..6).prop_map(|n| Value::from(format!("361202510001{n:03}")).to_string()),
            1 => string_token(),
            1 => json_text(),
        ];
        let props = (code, value("滨江警务区"), value("361202510000"), value("a、b，c"))
            .prop_map(|(c, n, s, a)| format!(r#"{{"code":{c},"name":{n},"station":{s},"auxiliaries":{a}}}"#));
        prop_oneof![
            6 => (props, geometry_text())
                .prop_map(|(p, g)| format!(r#"{{"type":"Feature","properties":{p},"geometry":{g}}}"#)),
            1 => json_text(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn any_string_imports_without_panic(s in "\\PC{0,200}") {
            check_import(&s, None)?;
        }

        #[test]
        fn any_json_imports_without_panic(s in json_text()) {
            let features = serde_json::from_str::<Value>(&s)
                .ok()
                .and_then(|d| d.get("features").and_then(Value::as_array).map(Vec::len));
            check_import(&s, features)?;
            let wrapped = format!(r#"{{"type":"FeatureCollection","features":{s}}}"#);
            let features = serde_json::from_str::<Value>(&wrapped)
                .ok()
                .and_then(|d| d.get("features").and_then(Value::as_array).map(Vec::len));
            check_import(&wrapped, features)?;
        }

        #[test]
        fn feature_collections_import_without_panic(features in prop::collection::vec(feature_text(), 0..6)) {
            let text = format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","));
            let parsed = serde_json::from_str::<Value>(&text).ok();
            // Number tokens such as 1e400 make the whole file invalid JSON.
            let n = parsed.as_ref().map(|_| features.len());
            check_import(&text, n)?;
        }
    }
}
