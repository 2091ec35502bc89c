//! The one map: points by bbox and zoom (clustered when dense), H3 heat,
//! grids coloured by figures, the grid card, the unrouted queue, and
//! editing a grid (history, conflicts, permissions, re-routing).

use crate::harness::{Api, TestApp, body, code, db_exec, page_session};
use crate::story::PNG;
use reqwest::StatusCode;
use serde_json::{Value, json};

const S1: &str = "361202510000";
const S2: &str = "361202520000";
const A: &str = "361202510001001";
const B: &str = "361202510001002";

fn square(code: &str, station: &str, x: f64, y: f64, size: f64) -> Value {
    json!({"type": "Feature",
        "properties": {"code": code, "name": format!("网格{code}"), "station": station, "officer": "s1.officer", "auxiliaries": ["s1.aux"], "village": "滨江社区"},
        "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]}})
}

async fn import(api: &Api, features: Vec<Value>) {
    let text = json!({"type": "FeatureCollection", "features": features}).to_string();
    let r = api
        .c
        .post(format!("{}/api/v1/grids/import", api.base))
        .bearer_auth(&api.token)
        .header("content-type", "application/geo+json")
        .body(text)
        .send()
        .await
        .unwrap();
    let (s, v) = body(r).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn task_at(api: &Api, title: &str, catalogue: &str, lat: f64, lon: f64) -> Value {
    let (s, t) = api
        .post(
            "/api/v1/tasks",
            json!({"title": title, "catalogue_code": catalogue, "org_unit": S1, "location": {"lat": lat, "lon": lon}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    t
}

async fn wait_job(api: &Api) -> Value {
    let mut job = json!(null);
    for _ in 0..200 {
        job = api.get("/api/v1/jobs/reroute_items").await.1;
        if job["state"] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    job
}

fn grid<'a>(fc: &'a Value, code: &str) -> &'a Value {
    fc["features"].as_array().unwrap().iter().find(|f| f["properties"]["code"] == code).unwrap()
}

const BBOX: &str = "116.29,27.99,116.33,28.02";

#[tokio::test]
async fn points_clusters_heat_figures_card_and_unrouted() {
    let app = TestApp::spawn_without_grids().await;
    let admin = app.login("admin").await;
    import(
        &admin,
        vec![
            square(A, S1, 116.30, 28.00, 0.01),
            square(B, S1, 116.31, 28.00, 0.01),
            square("361202520001001", S2, 116.40, 28.00, 0.01),
        ],
    )
    .await;
    let command = app.login("s1.command").await;
    let officer = app.login("s1.officer").await;
    let mut in_a = vec![];
    for i in 0..3 {
        in_a.push(task_at(&command, &format!("A内任务{i}"), "ZF-XF-001", 28.002 + 0.001 * i as f64, 116.302).await);
    }
    task_at(&command, "B内任务", "ZF-XF-001", 28.005, 116.315).await;
    // a patrol in B, fed back: B has had activity, A has not
    let patrol = task_at(&command, "B内巡查", "ZF-ZA-001", 28.006, 116.316).await;
    let pid = patrol["id"].as_i64().unwrap();
    assert_eq!(command.act(pid, json!({"action": "dispatch", "assignee": "s1.officer"})).await.0, StatusCode::OK);
    officer.act(pid, json!({"action": "accept"})).await;
    officer.act(pid, json!({"action": "start"})).await;
    let form =
        reqwest::multipart::Form::new().text("action", "submit_feedback").text("note", "巡查完毕，未发现问题").part(
            "photos",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("p.png").mime_str("image/png").unwrap(),
        );
    let (s, v) = officer.act_multipart(pid, form).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // outside every grid: kept, unrouted, queued at the nearest station (S1)
    let outside = task_at(&command, "网格外任务", "ZF-XF-001", 28.05, 116.305).await;
    assert!(outside["grid_id"].is_null());

    // few points: one by one, each with its detail page
    let (s, p) = command.get(&format!("/api/v1/map/points?bbox={BBOX}&zoom=14")).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!((p["total"].as_i64(), p["clustered"].as_bool()), (Some(5), Some(false)), "{p}");
    let urls: Vec<&str> = p["points"].as_array().unwrap().iter().map(|x| x["url"].as_str().unwrap()).collect();
    assert!(urls.contains(&format!("/tasks/{pid}").as_str()), "{urls:?}");
    assert_eq!(p["points"][0]["layer"], "tasks");
    // another station sees none of them
    let s2 = app.login("s2.leader").await;
    assert_eq!(s2.get(&format!("/api/v1/map/points?bbox={BBOX}&zoom=14")).await.1["total"], 0);

    // many points: clustered into cells, nothing lost
    let now_ms = chrono::Utc::now().timestamp_millis();
    let path_sql = "(SELECT org_path FROM map_items WHERE kind = 'task' LIMIT 1)";
    db_exec(
        &app.db_url,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700) \
             INSERT INTO map_items (kind, item_id, label, category, state, is_open, org_path, lat_e7, lon_e7, occurred_at) \
             SELECT 'task', 1000000 + i, 'bulk', 'ZF-XF-001', 'dispatched', TRUE, {path_sql}, \
             280030000 + (i % 25) * 2000, 1163030000 + (i / 25) * 2000, {now_ms} FROM n"
        ),
    )
    .await;
    let (_, p) = command.get(&format!("/api/v1/map/points?bbox={BBOX}&zoom=13")).await;
    assert_eq!((p["total"].as_i64(), p["clustered"].as_bool()), (Some(705), Some(true)), "{}", p["total"]);
    let clustered: i64 = p["clusters"].as_array().unwrap().iter().map(|c| c["count"].as_i64().unwrap()).sum::<i64>()
        + p["points"].as_array().unwrap().len() as i64;
    assert_eq!(clustered, 705, "every item is in a cluster or a point");
    assert!(p["clusters"].as_array().unwrap().len() < 50, "dense items come back as few clusters");
    let (_, fine) = command.get(&format!("/api/v1/map/points?bbox={BBOX}&zoom=18")).await;
    assert!(
        fine["points"].as_array().unwrap().iter().all(|p| p["layer"] != "tasks" || p["color"] == "#1677ff"),
        "a single item of a cell has its layer's colour"
    );
    assert!(
        fine["clusters"].as_array().unwrap().len() > p["clusters"].as_array().unwrap().len(),
        "zooming in splits clusters"
    );

    // heat: H3 cells counted on the server; the busiest lies in grid A
    let (s, h) = command.get("/api/v1/map/heat?res=9").await;
    assert_eq!(s, StatusCode::OK, "{h}");
    let sum: i64 = h["cells"].as_array().unwrap().iter().map(|c| c["count"].as_i64().unwrap()).sum();
    assert_eq!((sum, h["total"].as_i64(), h["resolution"].as_u64()), (706, Some(706), Some(9)));
    assert_eq!(h["cells"][0]["grid"]["code"], A);
    assert!(h["cells"][0]["count"].as_i64() >= h["cells"][1]["count"].as_i64());
    assert_eq!(h["cells"][0]["boundary"].as_array().unwrap().len(), 6);
    let (_, h) = command.get("/api/v1/map/heat?res=9&category=ZF-ZA-001").await;
    assert_eq!(h["total"], 1, "filtered by type");
    let (_, h) = command.get("/api/v1/map/heat?res=9&view=analysis&from=2020-01-01&to=2020-12-31").await;
    assert_eq!(h["total"], 0, "filtered by period");

    // grids coloured by a figure, with the duty view's activity
    let (s, g) = command.get("/api/v1/map/grids?figure=task.open").await;
    assert_eq!(s, StatusCode::OK, "{g}");
    assert_eq!(g["features"].as_array().unwrap().len(), 2, "station 1's grids");
    assert_eq!(
        (grid(&g, A)["properties"]["value"].as_i64(), grid(&g, B)["properties"]["value"].as_i64()),
        (Some(3), Some(2))
    );
    db_exec(
        &app.db_url,
        &format!("UPDATE map_items SET deadline_at = 1 WHERE kind = 'task' AND item_id = {}", in_a[0]["id"]),
    )
    .await;
    let (_, g) = command.get("/api/v1/map/grids?view=duty&figure=task.overdue").await;
    assert_eq!(grid(&g, A)["properties"]["value"], 1);
    let (_, g) = command.get("/api/v1/map/grids?view=duty&figure=duty_done").await;
    assert_eq!(
        (grid(&g, A)["properties"]["activity"].as_i64(), grid(&g, B)["properties"]["activity"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(grid(&g, B)["properties"]["value"], 1, "the patrol counts toward coverage");
    assert_eq!(grid(&g, A)["properties"]["officer_name"], "孙建国");
    let (_, layers) = command.get("/api/v1/map/layers").await;
    let ids: Vec<&str> = layers["layers"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["incidents", "disputes", "hazards", "posts", "tasks"]);
    assert!(layers["figures"].as_array().unwrap().iter().any(|f| f["id"] == "task.in_period"));

    // bad input: a stable code and the field
    for (q, field) in [
        ("bbox=1,2,3", "bbox"),
        ("bbox=116.4,28,116.3,28.1", "bbox"),
        ("layers=nope", "layers"),
        ("zoom=40", "zoom"),
        ("view=weekly", "view"),
        ("view=analysis&from=2026-02-01&to=2026-01-01", "to"),
        ("from=yesterday", "from"),
    ] {
        let (s, v) = command.get(&format!("/api/v1/map/points?{q}")).await;
        assert_eq!(
            (s, code(&v), v["error"]["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", Some(field)),
            "{q}: {v}"
        );
    }
    assert_eq!(command.get("/api/v1/map/grids?figure=nope").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(command.get("/api/v1/map/heat?res=15").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let partner = app.login("p.12345").await;
    assert_eq!(code(&partner.get("/api/v1/map/points").await.1), "forbidden");

    // the unrouted queue: S1's command room has it, S2 does not
    let (_, q) = command.get("/api/v1/map/unrouted").await;
    assert_eq!(q["total"], 1, "{q}");
    assert_eq!(q["items"][0]["id"], outside["id"]);
    assert_eq!(s2.get("/api/v1/map/unrouted").await.1["total"], 0);

    // pages: the map views, the card, the queue
    let (c, _) = page_session(&app, "s1.command").await;
    for view in ["command", "analysis", "duty"] {
        let r = c.get(app.url(&format!("/map/{view}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(html.contains("data-testid=\"map\"") && html.contains("/assets/leaflet.js"), "{view}");
    }
    assert_eq!(c.get(app.url("/map/weekly")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let a_id = grid(&g, A)["properties"]["id"].as_i64().unwrap();
    let card =
        c.get(app.url(&format!("/map/grids/{a_id}/card?view=command"))).send().await.unwrap().text().await.unwrap();
    assert!(card.contains("孙建国") && card.contains("data-testid=\"grid-card\""), "{card}");
    let board = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(
        board.contains("data-testid=\"stat-unrouted\"><span class=\"n\">1</span>"),
        "the command room's board counts it"
    );
    let queue = c.get(app.url("/map/unrouted")).send().await.unwrap().text().await.unwrap();
    assert!(queue.contains("网格外任务"));
    let (c2, _) = page_session(&app, "s2.leader").await;
    assert_eq!(
        c2.get(app.url(&format!("/map/grids/{a_id}/card"))).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // a district officer sees the station's grids and their cards
    let (c3, _) = page_session(&app, "s1.officer").await;
    let r = c3.get(app.url(&format!("/map/grids/{a_id}/card"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let officer_grids = app.login("s1.officer").await.get("/api/v1/map/grids").await.1;
    assert_eq!(officer_grids["features"].as_array().unwrap().len(), 2);
    let leaflet = c.get(app.url("/assets/leaflet.js")).send().await.unwrap();
    assert_eq!(leaflet.status(), StatusCode::OK);
    assert!(leaflet.text().await.unwrap().contains("Leaflet"));
    app.stop().await;
}

#[tokio::test]
async fn editing_a_grid_keeps_history_checks_and_reroutes() {
    let app = TestApp::spawn_without_grids().await;
    let admin = app.login("admin").await;
    import(&admin, vec![square(A, S1, 116.30, 28.00, 0.01)]).await;
    let command = app.login("s1.command").await;
    let outside = task_at(&command, "网格东侧任务", "ZF-XF-001", 28.005, 116.315).await;
    assert!(outside["grid_id"].is_null());
    assert_eq!(command.get("/api/v1/map/unrouted").await.1["total"], 1);
    let (_, all) = admin.get("/api/v1/grids").await;
    let id = all["features"][0]["properties"]["id"].as_i64().unwrap();
    let wider = json!({"type": "Polygon", "coordinates": [[[116.30, 28.00], [116.32, 28.00], [116.32, 28.01], [116.30, 28.01], [116.30, 28.00]]]});
    let edit = |version: i64, geometry: Value| {
        json!({"name": "滨江东扩网格", "kind": "社区", "village": "滨江社区", "officer": "s1.officer2",
               "auxiliaries": ["s1.aux", "s1.aux2"], "geometry": geometry, "version": version})
    };

    // who may edit: not an officer, not another station
    let officer = app.login("s1.officer").await;
    assert_eq!(code(&officer.put(&format!("/api/v1/grids/{id}"), edit(1, wider.clone())).await.1), "forbidden");
    let s2 = app.login("s2.leader").await;
    assert_eq!(code(&s2.put(&format!("/api/v1/grids/{id}"), edit(1, wider.clone())).await.1), "not_found");
    // bad shapes and people are refused, nothing changes
    let bow = json!({"type": "Polygon", "coordinates": [[[116.30, 28.00], [116.32, 28.01], [116.32, 28.00], [116.30, 28.01], [116.30, 28.00]]]});
    let leader = app.login("s1.leader").await;
    let (s, v) = leader.put(&format!("/api/v1/grids/{id}"), edit(1, bow)).await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("geometry")),
        "{v}"
    );
    assert!(v["error"]["fields"][0]["message"].as_str().unwrap().contains("自相交"), "{v}");
    let mut nobody = edit(1, wider.clone());
    nobody["officer"] = json!("nobody");
    assert_eq!(leader.put(&format!("/api/v1/grids/{id}"), nobody).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(leader.get(&format!("/api/v1/grids/{id}")).await.1["properties"]["version"], 1);

    // the station's leader widens it: old version kept, items re-routed
    let (s, v) = leader.put(&format!("/api/v1/grids/{id}"), edit(1, wider.clone())).await;
    assert_eq!((s, v["updated"].as_u64()), (StatusCode::OK, Some(1)), "{v}");
    let job = wait_job(&admin).await;
    assert_eq!(job["state"], "done", "{job}");
    let (_, g) = leader.get(&format!("/api/v1/grids/{id}")).await;
    assert_eq!(
        (g["properties"]["version"].as_i64(), g["properties"]["name"].as_str(), g["properties"]["officer"].as_str()),
        (Some(2), Some("滨江东扩网格"), Some("s1.officer2"))
    );
    assert_eq!(g["properties"]["auxiliaries"].as_array().unwrap().len(), 2);
    let history = g["history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    let me = leader.get("/api/v1/me").await.1;
    assert_eq!(history[0]["old_name"], format!("网格{A}"));
    assert_eq!(history[0]["actor"], me["display_name"], "{me}");
    assert_eq!(history[0]["old_geometry"]["coordinates"][0][1][0], 116.31);
    assert_eq!(
        command.get(&format!("/api/v1/tasks/{}", outside["id"])).await.1["grid_code"],
        A,
        "re-routed into the wider grid"
    );
    assert_eq!(command.get("/api/v1/map/unrouted").await.1["total"], 0);
    // a stale version is a conflict
    assert_eq!(code(&leader.put(&format!("/api/v1/grids/{id}"), edit(1, wider.clone())).await.1), "conflict");

    // the page form: name only, the shape kept; then the history page lists both edits
    let (c, csrf) = page_session(&app, "s1.leader").await;
    let r = c
        .post(app.url(&format!("/grids/{id}")))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&[
            ("name", "滨江网格"),
            ("kind", "社区"),
            ("village", "滨江社区"),
            ("officer", "s1.officer"),
            ("auxiliaries", "s1.aux"),
            ("geometry", ""),
            ("version", "2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("hx-redirect").and_then(|h| h.to_str().ok()), Some(format!("/grids/{id}").as_str()));
    let html = c.get(app.url(&format!("/grids/{id}"))).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"grid-history-row\"").count(), 2);
    assert!(html.contains("滨江东扩网格"), "the earlier name is in the history");
    let list = c.get(app.url("/grids?q=滨江")).send().await.unwrap().text().await.unwrap();
    assert_eq!(list.matches("data-testid=\"grid-row\"").count(), 1);
    let (_, g) = leader.get(&format!("/api/v1/grids/{id}")).await;
    assert_eq!(g["geometry"], wider, "an empty geometry keeps the shape");
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

#[tokio::test]
async fn a_configured_tile_server_is_allowed_and_handed_to_the_map() {
    let app = TestApp::spawn_with(|s| {
        s.web.map_tiles = Some("http://{s}.pgis.police.local:8080/tiles/{z}/{x}/{y}.png".into());
        s.web.map_attribution = "江城市公安局PGIS".into();
    })
    .await;
    let (c, _) = page_session(&app, "s1.leader").await;
    let r = c.get(app.url("/map/command")).send().await.unwrap();
    let csp = r.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(csp.contains("img-src 'self' data: blob: http://*.pgis.police.local:8080;"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("pgis.police.local:8080/tiles/{z}/{x}/{y}.png") && html.contains("江城市公安局PGIS"),
        "tile settings reach map.js"
    );
    // without one: only this server
    let plain = TestApp::spawn().await;
    let (c, _) = page_session(&plain, "s1.leader").await;
    let r = c.get(plain.url("/map/command")).send().await.unwrap();
    let csp = r.headers().get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("img-src 'self' data: blob:;"), "{csp}");
    plain.stop().await;
    app.stop().await;
}
