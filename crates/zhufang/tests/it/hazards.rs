//! Hazards (除隐患): registering (routed, scored with the factors that
//! fired), every path of the workflow (assign, return, sign for, extend,
//! rectify with photos, a failed recheck back, recheck, close) with the
//! responsible body alone signing for and rectifying, risk ordering that
//! follows the seasons and deadlines, editable types and factors,
//! campaigns with check tasks, figures, the map layer, export and pages.

use crate::harness::{Api, TestApp, code, page_session};
use crate::story::PNG;
use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

const S1: &str = "361202510000";
/// 城南区滨江街道办事处: a partner agency that rectifies hazards.
const JIEDAO1: &str = "361202001000";

async fn inside_s1(api: &Api) -> (f64, f64) {
    let (_, fc) = api.get(&format!("/api/v1/grids?station={S1}")).await;
    let ring = fc["features"][0]["geometry"]["coordinates"][0].as_array().unwrap().clone();
    let n = (ring.len() - 1) as f64;
    let (lon, lat) = ring[..ring.len() - 1]
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p[0].as_f64().unwrap() / n, y + p[1].as_f64().unwrap() / n));
    (lat, lon)
}

async fn register(api: &Api, body: Value) -> Value {
    let (s, h) = api.post("/api/v1/hazards", body).await;
    assert_eq!(s, StatusCode::CREATED, "{h}");
    h
}

fn fired(h: &Value) -> Vec<String> {
    h["risk"]["fired"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect()
}

fn today_plus(days: i64) -> String {
    (zhufang_domain::calendar::local_date(Utc::now()) + chrono::Duration::days(days)).to_string()
}

fn photo() -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("p.png").mime_str("image/png").unwrap()
}

#[tokio::test]
async fn a_hazard_runs_from_found_to_closed_and_a_failed_recheck_goes_back() {
    let app = TestApp::spawn().await;
    let officer = app.login("s1.officer").await;
    let leader = app.login("s1.leader").await;
    let jiedao = app.login("p.jiedao1").await;
    let sifa = app.login("p.sifa1").await;
    let (lat, lon) = inside_s1(&officer).await;

    // bad input: a clear error per field, nothing written
    let (s, v) = officer.post("/api/v1/hazards", json!({"type_code": "42", "description": " ", "likelihood": 9})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"type_code") && fields.contains(&"description") && fields.contains(&"likelihood"), "{v}");

    let h = register(
        &officer,
        json!({"type_code": "02", "description": "工地围挡倒塌，基坑无防护", "location": {"lat": lat, "lon": lon},
               "address": "滨江路工地", "people_affected": 12, "likelihood": 4}),
    )
    .await;
    let id = h["id"].as_i64().unwrap();
    assert!(h["number"].as_str().unwrap().starts_with("YH"));
    assert_eq!(h["state"], "found");
    assert!(h["grid_id"].is_i64(), "routed to its grid");
    // severity 3 (工地) × likelihood 4 × exposure 3 (12 people)
    assert_eq!((h["risk"]["severity"].as_i64(), h["risk"]["exposure"].as_i64()), (Some(3), Some(3)));
    assert_eq!(h["risk_score"], 36);
    let path = format!("/api/v1/hazards/{id}/transitions");

    // assign: needs a responsible body and a deadline; a past one or a bad body is refused
    let (s, v) = leader.post(&path, json!({"action": "assign"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) =
        leader.post(&path, json!({"action": "assign", "responsible": JIEDAO1, "deadline": today_plus(-1)})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("deadline")));
    let (s, v) =
        leader.post(&path, json!({"action": "assign", "responsible": "nope", "deadline": today_plus(5)})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("responsible")));
    // the agency sees nothing before it is theirs
    assert_eq!(jiedao.get(&format!("/api/v1/hazards/{id}")).await.0, StatusCode::NOT_FOUND);
    let (s, h) =
        leader.post(&path, json!({"action": "assign", "responsible": JIEDAO1, "deadline": today_plus(5)})).await;
    assert_eq!((s, h["state"].as_str()), (StatusCode::OK, Some("assigned")), "{h}");
    assert_eq!(h["responsible_org_code"], JIEDAO1);
    let (_, inbox) = jiedao.get("/api/v1/notifications").await;
    assert!(inbox.to_string().contains("请签收"), "{inbox}");
    let (_, list) = jiedao.get("/api/v1/hazards").await;
    assert_eq!(list["total"], 1, "the body sees what it answers for");

    // only the responsible body signs for it (another agency sees nothing; the station may not sign)
    assert_eq!(sifa.post(&path, json!({"action": "sign_for"})).await.0, StatusCode::NOT_FOUND);
    let (s, v) = officer.post(&path, json!({"action": "sign_for"})).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    let (s, h) = jiedao.post(&path, json!({"action": "sign_for"})).await;
    assert_eq!((s, h["state"].as_str()), (StatusCode::OK, Some("rectifying")), "{h}");

    // extend: leaders only, and only later
    let (s, _) = officer.post(&path, json!({"action": "extend", "deadline": today_plus(9), "note": "x"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = leader.post(&path, json!({"action": "extend", "deadline": today_plus(2), "note": "再给两天"})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("deadline")));
    let (s, h) = leader.post(&path, json!({"action": "extend", "deadline": today_plus(9), "note": "材料未到"})).await;
    assert_eq!((s, h["state"].as_str()), (StatusCode::OK, Some("rectifying")), "{h}");

    // rectified with a photo after; the officer rechecks: fails once, back to rectifying
    let form = reqwest::multipart::Form::new()
        .text("action", "rectify")
        .text("note", "已重新设置围挡并加盖基坑")
        .part("photo_after", photo());
    let (s, h) = jiedao.post_multipart(&format!("/api/v1/hazards/{id}/steps"), form).await;
    assert_eq!((s, h["state"].as_str()), (StatusCode::OK, Some("rectified")), "{h}");
    assert_eq!(h["photos"][0]["phase"], "after");
    assert!(h["rectified_at"].is_string());
    let (s, _) = jiedao.post(&path, json!({"action": "recheck_pass", "note": "自查合格"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the body does not recheck its own work");
    let (s, h) = officer.post(&path, json!({"action": "recheck_fail", "note": "东侧仍有缺口"})).await;
    assert_eq!((s, h["state"].as_str(), h["failed_rechecks"].as_i64()), (StatusCode::OK, Some("rectifying"), Some(1)));
    assert!(h["rectified_at"].is_null(), "not rectified any more");
    let (_, inbox) = jiedao.get("/api/v1/notifications").await;
    assert!(inbox.to_string().contains("复查不合格"), "{inbox}");
    let (_, h) = jiedao.post(&path, json!({"action": "rectify", "note": "东侧已补齐"})).await;
    assert_eq!(h["state"], "rectified");
    let (_, h) = officer.post(&path, json!({"action": "recheck_pass", "note": "复查合格"})).await;
    assert_eq!(h["state"], "rechecked");
    assert_eq!(officer.post(&path, json!({"action": "close"})).await.0, StatusCode::FORBIDDEN);
    // a stale version is a conflict
    let (s, v) = leader.post(&path, json!({"action": "close", "version": 1})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "conflict"));
    let (s, h) = leader.post(&path, json!({"action": "close"})).await;
    assert_eq!((s, h["state"].as_str()), (StatusCode::OK, Some("closed")));
    assert!(h["closed_at"].is_string());
    let (s, v) = leader.post(&path, json!({"action": "update", "note": "x"})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "invalid_transition"));
    let actions: Vec<&str> = h["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["register", "assign", "sign_for", "extend", "rectify", "recheck_fail", "rectify", "recheck_pass", "close"]
    );
    // the photo is served to those who see the hazard
    let fid = h["photos"][0]["id"].as_i64().unwrap();
    let (s, ct, bytes) = officer.get_bytes(&format!("/api/v1/hazard-files/{fid}")).await;
    assert_eq!((s, ct.as_str(), bytes.as_slice()), (StatusCode::OK, "image/png", PNG));
    assert_eq!(sifa.get_bytes(&format!("/api/v1/hazard-files/{fid}")).await.0, StatusCode::NOT_FOUND);
    // every step is in the audit chain
    let audited = crate::harness::db_scalar(
        &app.db_url,
        &format!("SELECT COUNT(*) FROM audit_log WHERE object_type = 'hazard' AND object_id = '{id}'"),
    )
    .await;
    assert_eq!(audited, 9);
    let (s, v) = leader.get("/api/v1/map/points?layers=hazards&zoom=16").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["points"].to_string().contains(&format!("/hazards/{id}")), "{v}");
    app.stop().await;
}

#[tokio::test]
async fn a_body_returns_a_hazard_that_is_not_theirs() {
    let app = TestApp::spawn().await;
    let officer = app.login("s1.officer").await;
    let jiedao = app.login("p.jiedao1").await;
    let (lat, lon) = inside_s1(&officer).await;
    let h = register(
        &officer,
        json!({"type_code": "05", "description": "路口信号灯损坏", "location": {"lat": lat, "lon": lon}}),
    )
    .await;
    let path = format!("/api/v1/hazards/{}/transitions", h["id"]);
    let (s, h) =
        officer.post(&path, json!({"action": "assign", "responsible": JIEDAO1, "deadline": today_plus(3)})).await;
    assert_eq!(s, StatusCode::OK, "{h}");
    let (s, v) = jiedao.post(&path, json!({"action": "return"})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("note")));
    // facts added on the way, with a photo as found (multipart)
    let form = reqwest::multipart::Form::new()
        .text("action", "update")
        .text("note", "夜间路口无照明，已有剐蹭")
        .part("photo", photo());
    let (s, h) = jiedao.post_multipart(&format!("/api/v1/hazards/{}/steps", h["id"]), form).await;
    assert_eq!(
        (s, h["state"].as_str(), h["photos"][0]["phase"].as_str()),
        (StatusCode::OK, Some("assigned"), Some("before")),
        "{h}"
    );
    let (s, v) = jiedao.post(&path, json!({"action": "update"})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("note")));
    let (s, h) = jiedao.post(&path, json!({"action": "return", "note": "信号灯归交警管理"})).await;
    assert_eq!((s, h["state"].as_str()), (StatusCode::OK, Some("found")), "{h}");
    assert!(h["responsible_org_id"].is_null() && h["deadline_at"].is_null(), "{h}");
    // the station's own people may answer for it too
    let (_, h) = officer.post(&path, json!({"action": "assign", "responsible": S1, "deadline": today_plus(3)})).await;
    let (s, h2) = officer.post(&path, json!({"action": "sign_for"})).await;
    assert_eq!((s, h2["state"].as_str()), (StatusCode::OK, Some("rectifying")), "{h} {h2}");
    app.stop().await;
}

#[tokio::test]
async fn the_register_sorts_by_risk_which_follows_seasons_deadlines_and_edits() {
    let app = TestApp::spawn().await;
    let officer = app.login("s1.officer").await;
    let leader = app.login("s1.leader").await;
    let admin = app.login("admin").await;
    let (lat, lon) = inside_s1(&officer).await;
    // a pond (severity 4, likelihood 2, nobody around) and a road (severity 3, likelihood 2, 5 people)
    let pond = register(
        &officer,
        json!({"type_code": "01", "description": "村口废弃鱼塘无护栏", "likelihood": 2,
        "location": {"lat": lat, "lon": lon}}),
    )
    .await;
    let road = register(
        &officer,
        json!({"type_code": "05", "description": "急弯无警示标志", "likelihood": 2,
        "people_affected": 5, "location": {"lat": lat, "lon": lon}}),
    )
    .await;
    let school = register(
        &officer,
        json!({"type_code": "06", "description": "学校旁加油站违规储存", "likelihood": 3,
        "near_school": true, "people_affected": 300, "location": {"lat": lat, "lon": lon}}),
    )
    .await;
    assert!(
        fired(&school).contains(&"near_school".to_string()) && fired(&school).contains(&"chemicals_near_school".into())
    );
    assert_eq!(school["risk_score"], 75, "5 × 3 × 5");
    let order =
        |v: &Value| -> Vec<i64> { v["items"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect() };
    let (pid, rid, sid) = (pond["id"].as_i64().unwrap(), road["id"].as_i64().unwrap(), school["id"].as_i64().unwrap());

    // in July the pond is in the drowning season: 4 × 4 × 1 = 16 > the road's 3 × 2 × 2 = 12
    let summer = Utc.with_ymd_and_hms(2027, 7, 1, 2, 0, 0).unwrap();
    zhufang_store::hazards::rescore(app.store.as_ref(), summer).await.unwrap();
    let (_, list) = leader.get("/api/v1/hazards").await;
    assert_eq!(order(&list), [sid, pid, rid], "{list}");
    let p = list["items"][1].clone();
    assert_eq!((p["risk_score"].as_i64(), fired(&p)), (Some(16), vec!["drowning_season".to_string()]));
    // in January it is not: 4 × 2 × 1 = 8 < 12
    let winter = Utc.with_ymd_and_hms(2027, 1, 10, 2, 0, 0).unwrap();
    assert_eq!(zhufang_store::hazards::rescore(app.store.as_ref(), winter).await.unwrap(), 1, "only the pond changed");
    let (_, list) = leader.get("/api/v1/hazards").await;
    assert_eq!(order(&list), [sid, rid, pid]);

    // past its deadline and not rectified, the road gains "overdue"
    let path = format!("/api/v1/hazards/{rid}/transitions");
    officer.post(&path, json!({"action": "assign", "responsible": S1, "deadline": today_plus(0)})).await;
    let later = Utc::now() + chrono::Duration::days(3);
    zhufang_store::hazards::rescore(app.store.as_ref(), later).await.unwrap();
    let (_, r) = leader.get(&format!("/api/v1/hazards/{rid}")).await;
    assert!(fired(&r).contains(&"overdue".to_string()), "{r}");
    assert_eq!(r["risk_score"], 18, "3 × 3 × 2");

    // an admin edits a type's base severity and the factors; everything open is rescored
    assert_eq!(
        leader.put("/api/v1/hazard-types/05", json!({"name": "道路交通", "base_severity": 5})).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = admin.put("/api/v1/hazard-types/05", json!({"name": "道路交通", "base_severity": 9})).await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("base_severity"))
    );
    let (s, _) = admin.put("/api/v1/hazard-types/05", json!({"name": "道路交通", "base_severity": 5})).await;
    assert_eq!(s, StatusCode::OK);
    let (_, r) = leader.get(&format!("/api/v1/hazards/{rid}")).await;
    assert_eq!(r["risk"]["severity"], 5);
    let (_, mut factors) = admin.get("/api/v1/hazard-factors").await;
    factors[0]["when"] = json!({"kind": "season", "from": "02-30", "to": "03-01"});
    let (s, v) = admin.put("/api/v1/hazard-factors", factors.clone()).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("factors")));
    // drop near_school: the school's exposure falls from 5+1 (capped 5) — still 5 with 300 people; severity loses nothing
    factors[0]["when"] = json!({"kind": "people_at_least", "n": 1});
    factors[0]["add"] = json!(2);
    let (s, v) = admin.put("/api/v1/hazard-factors", factors).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["rescored"].as_u64().unwrap() >= 1, "{v}");
    let (_, r) = leader.get(&format!("/api/v1/hazards/{rid}")).await;
    assert!(fired(&r).contains(&"near_school".to_string()), "now fires for 1+ people: {r}");
    let audit = crate::harness::db_scalar(
        &app.db_url,
        "SELECT COUNT(*) FROM audit_log WHERE object_type IN ('hazard_type', 'hazard_factors')",
    )
    .await;
    assert!(audit >= 3, "seed + type + factors");
    // the overdue filter
    let (_, od) = leader.get("/api/v1/hazards?overdue=true").await;
    assert_eq!(od["total"], 0, "not overdue yet by the real clock (deadline is tonight)");
    // past the deadline, the body and the leaders hear of it once; an extension arms it again
    assert_eq!(zhufang_store::hazards::scan_overdue(app.store.as_ref(), later).await.unwrap(), 1);
    assert_eq!(zhufang_store::hazards::scan_overdue(app.store.as_ref(), later).await.unwrap(), 0, "once");
    let (_, inbox) = leader.get("/api/v1/notifications").await;
    assert!(inbox.to_string().contains("已超过整改期限"), "{inbox}");
    officer.post(&path, json!({"action": "sign_for"})).await;
    let (s, _) = leader.post(&path, json!({"action": "extend", "deadline": today_plus(5), "note": "雨天顺延"})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(zhufang_store::hazards::scan_overdue(app.store.as_ref(), later).await.unwrap(), 0, "not late any more");
    let much_later = Utc::now() + chrono::Duration::days(7);
    assert_eq!(zhufang_store::hazards::scan_overdue(app.store.as_ref(), much_later).await.unwrap(), 1, "late again");
    app.stop().await;
}

#[tokio::test]
async fn a_campaign_sends_check_tasks_and_tracks_them_and_the_figures_count() {
    let app = TestApp::spawn().await;
    let officer = app.login("s1.officer").await;
    let leader = app.login("s1.leader").await;
    let (lat, lon) = inside_s1(&officer).await;
    for d in ["河湾深水区无警示牌", "水库泄洪口无护栏"] {
        register(&officer, json!({"type_code": "01", "description": d, "location": {"lat": lat, "lon": lon}})).await;
    }
    let other = register(
        &officer,
        json!({"type_code": "04", "description": "楼道堆放杂物", "location": {"lat": lat, "lon": lon}}),
    )
    .await;
    // bad input and who may start one
    let (s, v) = leader.post("/api/v1/hazard-campaigns", json!({"name": "", "type_codes": ["77"]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        officer.post("/api/v1/hazard-campaigns", json!({"name": "x", "type_codes": ["01"]})).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, r) = leader
        .post(
            "/api/v1/hazard-campaigns",
            json!({"name": "夏季防溺水专项行动", "type_codes": ["01"], "ends_on": today_plus(10)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let tasks: Vec<i64> = r["task_ids"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect();
    assert_eq!(tasks.len(), 2, "one per open drowning hazard: {r}");
    let cid = r["id"].as_i64().unwrap();
    let (_, c) = leader.get(&format!("/api/v1/hazard-campaigns/{cid}")).await;
    assert_eq!((c["checks_total"].as_u64(), c["checks_done"].as_u64()), (Some(2), Some(0)), "{c}");
    assert!(!c.to_string().contains(other["number"].as_str().unwrap()));
    // the grid's officer does one check on the task loop
    let (_, t) = officer.get(&format!("/api/v1/tasks/{}", tasks[0])).await;
    assert_eq!((t["state"].as_str(), t["catalogue_code"].as_str()), (Some("dispatched"), Some("ZF-YH-JC")), "{t}");
    officer.act(tasks[0], json!({"action": "accept"})).await;
    officer.act(tasks[0], json!({"action": "start"})).await;
    let form = reqwest::multipart::Form::new()
        .text("action", "submit_feedback")
        .text("note", "警示牌已设置")
        .part("photos", photo());
    let (s, v) = officer.act_multipart(tasks[0], form).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, c) = leader.get(&format!("/api/v1/hazard-campaigns/{cid}")).await;
    assert_eq!(c["checks_done"], 1, "{c}");
    let (_, all) = leader.get("/api/v1/hazard-campaigns").await;
    assert_eq!(all.as_array().unwrap().len(), 1);

    // figures: found 3, by type
    let id = other["id"].as_i64().unwrap();
    let path = format!("/api/v1/hazards/{id}/transitions");
    officer.post(&path, json!({"action": "assign", "responsible": S1, "deadline": today_plus(3)})).await;
    officer.post(&path, json!({"action": "sign_for"})).await;
    let (s, h) = officer.post(&path, json!({"action": "rectify", "note": "已清理"})).await;
    assert_eq!((s, h["state"].as_str()), (StatusCode::OK, Some("rectified")), "{h}");
    let (s, f) = leader.get("/api/v1/hazards/figures?by=type").await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!((f["total"]["found"].as_i64(), f["total"]["rectified"].as_i64()), (Some(3), Some(1)), "{f}");
    assert_eq!(f["total"]["rectified_on_time"], 1);
    let names: Vec<&str> = f["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["溺水水域", "消防"]);
    assert_eq!(leader.get("/api/v1/hazards/figures?by=colour").await.0, StatusCode::UNPROCESSABLE_ENTITY);

    // the pages and the export
    let (web, _) = page_session(&app, "s1.leader").await;
    for p in [
        "/hazards",
        &format!("/hazards/{id}"),
        "/hazards/figures?by=month",
        "/hazards/campaigns",
        &format!("/hazards/campaigns/{cid}"),
        "/hazards/new",
    ] {
        let r = web.get(app.url(p)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{p}");
        let html = r.text().await.unwrap();
        assert!(!html.contains("hazard."), "an untranslated key on {p}");
    }
    let r = web.get(app.url("/hazards")).send().await.unwrap().text().await.unwrap();
    assert_eq!(r.matches("data-testid=\"hazard-row\"").count(), 3);
    let (s, ct, bytes) = leader.get_bytes("/api/v1/hazards/export.xlsx?type=01").await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.contains("spreadsheetml") && bytes.starts_with(b"PK"), "{ct}");
    app.stop().await;
}

/// A task of `catalogue` at the point, dispatched to s1.officer and started.
async fn started_task(command: &Api, officer: &Api, catalogue: &str, lat: f64, lon: f64) -> i64 {
    let (s, t) = command
        .post(
            "/api/v1/tasks",
            json!({"title": "辖区巡查", "catalogue_code": catalogue, "org_unit": S1, "location": {"lat": lat, "lon": lon}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let id = t["id"].as_i64().unwrap();
    assert_eq!(command.act(id, json!({"action": "dispatch", "assignee": "s1.officer"})).await.0, StatusCode::OK);
    officer.act(id, json!({"action": "accept"})).await;
    officer.act(id, json!({"action": "start"})).await;
    id
}

#[tokio::test]
async fn a_patrols_problems_become_a_hazard_and_a_dispute_with_one_click() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let officer = app.login("s1.officer").await;
    let s2 = app.login("s2.officer").await;
    let (lat, lon) = inside_s1(&officer).await;

    // a patrol's feedback: places and problems (multipart, as the page sends it)
    let patrol = started_task(&command, &officer, "ZF-ZA-001", lat, lon).await;
    let form = reqwest::multipart::Form::new()
        .text("action", "submit_feedback")
        .text("note", "巡查完毕")
        .text("lat", lat.to_string())
        .text("lon", lon.to_string())
        .text("visited", "滨江路沿街商铺\n\n幸福小区出入口\n")
        .text("problems", "河边护栏缺损，无防溺水警示牌\n两户因停车位多次争吵")
        .part("photos", photo());
    let (s, t) = officer.act_multipart(patrol, form).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["report"]["visited"], json!(["滨江路沿街商铺", "幸福小区出入口"]), "{t}");
    let (_, detail) = officer.get(&format!("/api/v1/tasks/{patrol}")).await;
    assert_eq!(detail["problems"].as_array().unwrap().len(), 2, "{detail}");

    // one click each: a hazard (type chosen) and a dispute, at the feedback's place, linked to the task
    let (s, c) = officer.post(&format!("/api/v1/tasks/{patrol}/problems/0/hazard"), json!({"type_code": "01"})).await;
    assert_eq!((s, c["kind"].as_str()), (StatusCode::CREATED, Some("hazard")), "{c}");
    let (_, h) = officer.get(&format!("/api/v1/hazards/{}", c["id"])).await;
    assert_eq!((h["source_task_id"].as_i64(), h["type_code"].as_str()), (Some(patrol), Some("01")));
    assert_eq!(h["description"], "河边护栏缺损，无防溺水警示牌");
    assert!(h["grid_id"].is_i64(), "at the feedback's place: {h}");
    let (s, v) = officer.post(&format!("/api/v1/tasks/{patrol}/problems/0/dispute"), json!({})).await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("problem")),
        "once"
    );
    let (s, c) = officer.post(&format!("/api/v1/tasks/{patrol}/problems/1/dispute"), json!({})).await;
    assert_eq!((s, c["kind"].as_str()), (StatusCode::CREATED, Some("dispute")), "{c}");
    let (_, d) = officer.get(&format!("/api/v1/disputes/{}", c["id"])).await;
    assert_eq!((d["source"].as_str(), d["category_code"].as_str()), (Some("patrol"), Some("99")), "{d}");
    assert!(d["description"].as_str().unwrap().contains(detail["number"].as_str().unwrap()));
    // others' tasks and unknown problems are not found
    assert_eq!(s2.post(&format!("/api/v1/tasks/{patrol}/problems/1/hazard"), json!({})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        officer.post(&format!("/api/v1/tasks/{patrol}/problems/7/hazard"), json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, detail) = officer.get(&format!("/api/v1/tasks/{patrol}")).await;
    let kinds: Vec<&str> = detail["problems"].as_array().unwrap().iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["hazard", "dispute"]);

    // a visit's report (JSON) with households; a bad report is refused with its field, and kept out of other steps
    let visit = started_task(&command, &officer, "ZF-JC-003", lat, lon).await;
    let (s, v) = officer
        .act(visit, json!({"action": "submit_feedback", "note": "走访完毕", "report": {"households": -3}}))
        .await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("report.households"))
    );
    let (s, t) = officer
        .act(
            visit,
            json!({"action": "submit_feedback", "note": "走访完毕",
            "report": {"visited": ["幸福小区3栋2单元"], "households": 8, "problems": ["出租屋电动车室内充电", "楼道堆放杂物"]}}),
        )
        .await;
    assert_eq!((s, t["report"]["households"].as_i64()), (StatusCode::OK, Some(8)), "{t}");
    let (s, v) = app
        .login("s1.leader")
        .await
        .act(visit, json!({"action": "return", "note": "补充照片", "report": {"problems": ["x"]}}))
        .await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("report")),
        "{v}"
    );

    // the task page lists the problems with the buttons, and what they became
    let (web, csrf) = page_session(&app, "s1.officer").await;
    let html = web.get(app.url(&format!("/tasks/{patrol}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("data-testid=\"problem-became-hazard\"")
            && html.contains("data-testid=\"problem-became-dispute\"")
    );
    let html = web.get(app.url(&format!("/tasks/{visit}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"to-hazard-0\""), "{html}");
    let r = web
        .post(app.url(&format!("/tasks/{visit}/problems/0/hazard")))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&[("type_code", "07")])
        .send()
        .await
        .unwrap();
    let to = r.headers().get("hx-redirect").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(to.starts_with("/hazards/"), "{} {to}", r.status());
    let (_, h) = officer.get(&format!("/api/v1{to}")).await;
    assert_eq!((h["type_code"].as_str(), h["source_task_id"].as_i64()), (Some("07"), Some(visit)));
    // or with details: the register form starts from the problem, and registering links it
    let html =
        web.get(app.url(&format!("/hazards/new?task={visit}&problem=1"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("楼道堆放杂物") && html.contains("name=\"problem\" value=\"1\""), "{html}");
    let form = reqwest::multipart::Form::new()
        .text("type_code", "04")
        .text("description", "楼道堆放杂物，堵塞消防通道")
        .text("people_affected", "30")
        .text("source_task_id", visit.to_string())
        .text("problem", "1");
    let r = web
        .post(app.url("/hazards"))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let to = r.headers().get("hx-redirect").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(to.starts_with("/hazards/"), "{} {to}", r.status());
    let (_, detail) = officer.get(&format!("/api/v1/tasks/{visit}")).await;
    assert_eq!(detail["problems"][1]["kind"], "hazard", "{detail}");
    assert_eq!(format!("/hazards/{}", detail["problems"][1]["target_id"]), to);
    app.stop().await;
}
