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
}
