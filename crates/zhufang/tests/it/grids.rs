//! Grids: import (all or nothing), GeoJSON out, locating, routing tasks.

use crate::harness::{TestApp, body, code};
use reqwest::StatusCode;
use serde_json::{Value, json};

const S1: &str = "361202510000";
const S2: &str = "361202520000";

fn square(code: &str, station: &str, x: f64, y: f64, size: f64) -> Value {
    json!({"type": "Feature",
        "properties": {"code": code, "name": format!("网格{code}"), "station": station, "officer": "s1.officer", "auxiliaries": ["s1.aux"], "village": "滨江社区"},
        "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]}})
}

fn fc(features: Vec<Value>) -> String {
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

async fn import(api: &crate::harness::Api, query: &str, text: String) -> (StatusCode, Value) {
    let url = format!("{}/api/v1/grids/import{query}", api.base);
    body(
        api.c
            .post(url)
            .bearer_auth(&api.token)
            .header("content-type", "application/geo+json")
            .body(text)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn import_locate_route_and_history() {
    let app = TestApp::spawn_without_grids().await;
    let admin = app.login("admin").await;

    // a file with problems changes nothing and names each feature
    let bad = fc(vec![
        square("361202510001001", S1, 116.30, 28.00, 0.01),
        json!({"type": "Feature", "properties": {"code": "361202510001002", "name": "自相交", "station": S1},
            "geometry": {"type": "Polygon", "coordinates": [[[116.0, 28.0], [116.1, 28.1], [116.1, 28.0], [116.0, 28.1], [116.0, 28.0]]]}}),
        square("361202510001003", "999999999999", 116.32, 28.00, 0.01),
        square("12345", S1, 116.33, 28.00, 0.01),
        {
            let mut f = square("361202510001005", S1, 116.34, 28.00, 0.01);
            f["properties"]["officer"] = json!("nobody");
            f
        },
    ]);
    let (s, v) = import(&admin, "", bad).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{v}");
    let fields: Vec<(String, String)> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap().to_string(), f["message"].as_str().unwrap().to_string()))
        .collect();
    let at = |i: usize| {
        fields
            .iter()
            .filter(|(f, _)| *f == format!("features[{i}]"))
            .map(|(_, m)| m.clone())
            .collect::<Vec<_>>()
            .join("；")
    };
    assert!(at(0).is_empty(), "{fields:?}");
    assert!(at(1).contains("自相交"), "{fields:?}");
    assert!(at(2).contains("派出所"), "{fields:?}");
    assert!(at(3).contains("15位"), "{fields:?}");
    assert!(at(4).contains("nobody"), "{fields:?}");
    let (_, g) = admin.get("/api/v1/grids").await;
    assert_eq!(g["features"].as_array().unwrap().len(), 0, "nothing imported");

    // only admins import; a dry run writes nothing
    let good = fc(vec![
        square("361202510001001", S1, 116.30, 28.00, 0.01),
        square("361202510001002", S1, 116.31, 28.00, 0.01),
        square("361202510001009", S1, 116.305, 28.005, 0.002),
        square("361202520001001", S2, 116.40, 28.00, 0.01),
    ]);
    let leader = app.login("s1.leader").await;
    assert_eq!(import(&leader, "", good.clone()).await.0, StatusCode::FORBIDDEN);
    let (s, r) = import(&admin, "?dry_run=true", good.clone()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!((r["created"].as_u64(), r["dry_run"].as_bool()), (Some(4), Some(true)));
    assert_eq!(r["preview"]["features"].as_array().unwrap().len(), 4, "a dry run returns the shapes to preview");
    assert_eq!(admin.get("/api/v1/grids").await.1["features"].as_array().unwrap().len(), 0);
    // Amap coordinates are previewed as they will be stored: converted to WGS-84
    let (gx, gy) = zhufang_domain::grid::wgs84_to_gcj02(116.30, 28.00);
    let (_, r) =
        import(&admin, "?dry_run=true&datum=gcj02", fc(vec![square("361202510001009", S1, gx, gy, 0.01)])).await;
    let corner = &r["preview"]["features"][0]["geometry"]["coordinates"][0][0];
    assert!(
        (corner[0].as_f64().unwrap() - 116.30).abs() < 1e-6 && (corner[1].as_f64().unwrap() - 28.00).abs() < 1e-6,
        "{corner}"
    );
    let (s, r) = import(&admin, "", good).await;
    assert!(r.get("preview").is_none(), "only a dry run carries the preview");
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["created"], 4);
    assert_eq!(r["overlaps"], json!([["361202510001001", "361202510001009"]]), "the small square overlaps its sibling");
    assert_eq!(r["gaps"], json!([]), "side by side: no gap");
    // a ring of squares around an empty middle is reported as a gap (and still imported)
    let mut ring = vec![];
    for (k, (i, j)) in [(0, 0), (1, 0), (2, 0), (0, 1), (2, 1), (0, 2), (1, 2), (2, 2)].iter().enumerate() {
        ring.push(square(
            &format!("3612025200020{:02}", k + 1),
            S2,
            116.50 + 0.01 * *i as f64,
            28.00 + 0.01 * *j as f64,
            0.01,
        ));
    }
    let (s, r) = import(&admin, "?dry_run=true", fc(ring)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["gaps"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["gaps"][0]["station"], S2);

    // GeoJSON out, scoped to the caller and filterable by station
    let (_, all) = admin.get("/api/v1/grids").await;
    assert_eq!(all["type"], "FeatureCollection");
    assert_eq!(all["features"].as_array().unwrap().len(), 4);
    let f0 = &all["features"][0];
    assert_eq!(
        (f0["properties"]["officer"].as_str(), f0["properties"]["auxiliaries"][0].as_str()),
        (Some("s1.officer"), Some("s1.aux"))
    );
    assert_eq!(f0["geometry"]["type"], "Polygon");
    assert_eq!(leader.get("/api/v1/grids").await.1["features"].as_array().unwrap().len(), 3, "station 1 only");
    assert_eq!(admin.get(&format!("/api/v1/grids?station={S2}")).await.1["features"].as_array().unwrap().len(), 1);
    let (s, _) = leader.get(&format!("/api/v1/grids?station={S2}")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // locate: inside, on the shared edge (smaller code wins), outside (nearest station)
    let (_, l) = leader.get("/api/v1/grids/locate?lat=28.002&lon=116.315").await;
    assert_eq!(
        (l["grid"]["code"].as_str(), l["station"]["code"].as_str(), l["routed"].as_bool()),
        (Some("361202510001002"), Some(S1), Some(true))
    );
    let (_, l) = leader.get("/api/v1/grids/locate?lat=28.002&lon=116.31").await;
    assert_eq!(l["grid"]["code"], "361202510001001");
    let (_, l) = leader.get("/api/v1/grids/locate?lat=28.0&lon=116.45").await;
    assert_eq!(
        (l["grid"].is_null(), l["station"]["code"].as_str(), l["routed"].as_bool()),
        (true, Some(S2), Some(false))
    );
    let (s, _) = leader.get("/api/v1/grids/locate?lat=95&lon=116").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // tasks are routed at write time
    let command = app.login("s1.command").await;
    let (s, t) = command
        .post("/api/v1/tasks", json!({"title": "网格内任务", "catalogue_code": "ZF-XF-001", "org_unit": S1, "location": {"lat": 28.002, "lon": 116.315}}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(t["grid_code"], "361202510001002");
    let (_, t) = command
        .post("/api/v1/tasks", json!({"title": "网格外任务", "catalogue_code": "ZF-XF-001", "org_unit": S1, "location": {"lat": 29.5, "lon": 117.0}}))
        .await;
    assert!(t["grid_id"].is_null(), "outside every grid: kept, unrouted");

    // re-importing a grid replaces it and keeps the old version
    let (s, r) = import(&admin, "", fc(vec![square("361202510001002", S1, 116.31, 28.00, 0.02)])).await;
    assert_eq!((s, r["updated"].as_u64()), (StatusCode::OK, Some(1)), "{r}");
    let id = all["features"].as_array().unwrap().iter().find(|f| f["properties"]["code"] == "361202510001002").unwrap()
        ["properties"]["id"]
        .as_i64()
        .unwrap();
    let history = app.store.grid_history(id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert!(history[0].3.contains("116.32"), "old geometry kept: {}", history[0].3);
    let (_, l) = leader.get("/api/v1/grids/locate?lat=28.015&lon=116.325").await;
    assert_eq!(l["grid"]["code"], "361202510001002", "the router sees the new shape");
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

#[tokio::test]
async fn cli_imports_amap_coordinates_and_exports() {
    let app = TestApp::spawn_without_grids().await;
    let (glon, glat) = zhufang_domain::grid::wgs84_to_gcj02(116.30, 28.00);
    let file = app.dir.join("grids.geojson");
    std::fs::write(&file, fc(vec![square("361202510001001", S1, glon, glat, 0.01)])).unwrap();
    let bin = env!("CARGO_BIN_EXE_zhufang");
    let out = std::process::Command::new(bin)
        .args(["import", "grids", "--db", &app.db_url, "--datum", "gcj02", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 created"));
    let grids = app.store.grids(None).await.unwrap();
    let g: Value = serde_json::from_str(&grids[0].geometry).unwrap();
    let first = &g["coordinates"][0][0];
    assert!(
        (first[0].as_f64().unwrap() - 116.30).abs() < 1e-6 && (first[1].as_f64().unwrap() - 28.00).abs() < 1e-6,
        "converted: {first}"
    );
    // a broken file: non-zero exit, the reason per feature, nothing written
    std::fs::write(&file, fc(vec![square("361202510001002", "nope", 116.3, 28.0, 0.01)])).unwrap();
    let out = std::process::Command::new(bin)
        .args(["import", "grids", "--db", &app.db_url, file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("features[0]"));
    assert_eq!(app.store.grids(None).await.unwrap().len(), 1);
    let dest = app.dir.join("out.geojson");
    let out = std::process::Command::new(bin)
        .args(["export", "grids", "--db", &app.db_url, "--out", dest.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&dest).unwrap();
    let back = zhufang_domain::geojson::parse_grids(&text, zhufang_domain::geojson::Datum::Wgs84).unwrap();
    assert_eq!(back[0].code.as_str(), "361202510001001");
    app.stop().await;
}

#[tokio::test]
async fn new_grids_reroute_located_tasks_and_the_job_resumes() {
    let app = TestApp::spawn_without_grids().await;
    let admin = app.login("admin").await;
    let command = app.login("s1.command").await;
    let mut ids = vec![];
    for i in 0..3 {
        let (s, t) = command
            .post(
                "/api/v1/tasks",
                json!({"title": format!("先于网格的任务{i}"), "catalogue_code": "ZF-XF-001", "org_unit": S1,
                    "location": {"lat": 28.001 + 0.001 * i as f64, "lon": 116.301}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        assert!(t["grid_id"].is_null());
        ids.push(t["id"].as_i64().unwrap());
    }
    // importing a grid over them re-routes them in the background, with progress
    let (s, _) = import(&admin, "", fc(vec![square("361202510001001", S1, 116.30, 28.00, 0.01)])).await;
    assert_eq!(s, StatusCode::OK);
    let mut job = json!(null);
    for _ in 0..100 {
        job = admin.get("/api/v1/jobs/reroute_items").await.1;
        if job["state"] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        (job["state"].as_str(), job["done"].as_i64(), job["changed"].as_i64()),
        (Some("done"), Some(3), Some(3)),
        "{job}"
    );
    for id in &ids {
        assert_eq!(command.get(&format!("/api/v1/tasks/{id}")).await.1["grid_code"], "361202510001001");
    }

    // a crash after the first batch: the next run continues from the saved cursor
    let store = app.store.as_ref();
    let now = chrono::Utc::now();
    store.request_job(zhufang_store::service::REROUTE, now).await.unwrap();
    let (located, _) = store.located_items(0, 10).await.unwrap();
    assert_eq!((located[0].kind.as_str(), located[0].item_id), ("task", ids[0]));
    let moved =
        zhufang_store::model::RerouteMove { id: located[0].id, grid_id: None, station_id: located[0].station_id };
    let batch = zhufang_store::model::RerouteBatch { moves: vec![moved], cursor: located[0].id, seen: 1, total: 3 };
    store.reroute_batch(zhufang_store::service::REROUTE, &batch, now).await.unwrap();
    let router = zhufang_store::service::GridRouter::from_records(&store.grids(None).await.unwrap());
    let mut seen = vec![];
    let job = zhufang_store::service::run_reroute(store, &router, &mut |j| seen.push(j.done)).await.unwrap().unwrap();
    assert_eq!((job.state.as_str(), job.done), ("done", 3), "1 before the crash + 2 after");
    assert_eq!(seen, vec![3]);
    assert_eq!(store.task(ids[0]).await.unwrap().unwrap().grid_code, None, "the batch before the crash stands");
    assert_eq!(store.task(ids[1]).await.unwrap().unwrap().grid_code.as_deref(), Some("361202510001001"));
    // a finished job does nothing more
    let again =
        zhufang_store::service::run_reroute(store, &router, &mut |_| panic!("no batches")).await.unwrap().unwrap();
    assert_eq!(again.done, 3);
    app.stop().await;
}
