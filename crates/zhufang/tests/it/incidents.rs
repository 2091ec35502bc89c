//! Incidents: intake routed to grid and station, repeat calls, the police
//! path to closed, diversion to an agency with sign-for, return and 回访,
//! visibility, masked phones with audited reads, and bad input.

use crate::harness::{TestApp, code, db_count, page_session};
use reqwest::StatusCode;
use serde_json::{Value, json};

const S1: &str = "361202510000";
const HOTLINE: &str = "361200012345";

/// A point inside one of station 1's grids (the mean of a convex cell's corners).
pub(crate) async fn inside_s1(api: &crate::harness::Api) -> (f64, f64, String) {
    let (_, fc) = api.get(&format!("/api/v1/grids?station={S1}")).await;
    let f = &fc["features"][0];
    let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
    let n = (ring.len() - 1) as f64;
    let (lon, lat) = ring[..ring.len() - 1]
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p[0].as_f64().unwrap() / n, y + p[1].as_f64().unwrap() / n));
    (lat, lon, f["properties"]["code"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn police_path_repeat_calls_and_the_callers_phone() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let officer = app.login("s1.officer").await;
    let (lat, lon, grid) = inside_s1(&command).await;
    let (s, i) = command
        .post(
            "/api/v1/incidents",
            json!({"channel": "110", "description": "滨江路菜市场门口两人发生争执并有推搡", "location": {"lat": lat, "lon": lon},
                   "address": "滨江路88号", "caller_name": "王先生", "caller_phone": "13800138000", "type_code": "0201", "severity": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{i}");
    assert_eq!(
        (i["state"].as_str(), i["grid_code"].as_str(), i["station_code"].as_str()),
        (Some("received"), Some(grid.as_str()), Some(S1))
    );
    assert!(i["number"].as_str().unwrap().starts_with("JQ"));
    assert_eq!(i["caller_phone_masked"], "138****8000");
    assert!(!i.to_string().contains("13800138000"), "the full phone never leaves unasked: {i}");
    assert_eq!(i["caller_name_masked"], "王**");
    assert!(!i.to_string().contains("王先生"), "nor the full name: {i}");
    // the triage model reads the text: a police matter, with its confidence and the words that drove it
    let t = &i["triage"];
    assert_eq!((t["police"].as_bool(), t["source"].as_str()), (Some(true), Some("model")), "{t}");
    assert!(["纠纷", "行政（治安）类警情"].contains(&t["department"].as_str().unwrap()), "{t}");
    assert!((0.0..=1.0).contains(&t["confidence"].as_f64().unwrap()) && !t["reasons"].as_array().unwrap().is_empty());
    assert!(t["model_version"].as_str().unwrap().starts_with("triage-"));
    assert!(i["actions"].as_array().unwrap().iter().any(|a| a["action"] == "triage"));
    let id = i["id"].as_i64().unwrap();

    // the police path, every step timed
    let path = format!("/api/v1/incidents/{id}/transitions");
    async fn act(api: &crate::harness::Api, path: &str, body: Value) -> (StatusCode, Value) {
        api.post(path, body).await
    }
    // triage: an unknown department, or one that contradicts the decision, is refused
    let (s, v) = act(&command, &path, json!({"action": "triage", "police": true, "department": "火星部"})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("department")));
    let (s, _) = act(&command, &path, json!({"action": "triage", "police": true, "department": "城乡建设"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // the officer's department differs from the suggestion: kept as a correction for training
    let (_, v) = act(&command, &path, json!({"action": "triage", "police": true, "department": "刑事类警情"})).await;
    assert_eq!(v["state"], "triaged");
    assert_eq!(
        app.store.triage_corrections().await.unwrap(),
        vec![(i["description"].as_str().unwrap().to_string(), "刑事类警情".to_string())]
    );
    let out = app.dir.join("corrections.tsv");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_zhufang"))
        .args(["triage", "corrections", "--db", &app.db_url, "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let tsv = std::fs::read_to_string(&out).unwrap();
    assert!(tsv.contains("刑事类警情") && tsv.contains("推搡"), "{tsv}");
    let (s, v) = act(&command, &path, json!({"action": "dispatch", "assignee": "s2.officer"})).await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("assignee")),
        "another station's officer"
    );
    assert_eq!(
        act(&command, &path, json!({"action": "dispatch", "assignee": "s1.officer"})).await.1["state"],
        "dispatched"
    );
    // the officer's phone view has the call on top, with its one step; nobody else's has it
    let (oc, ocsrf) = page_session(&app, "s1.officer").await;
    let card = format!("data-testid=\"my-call\" data-incident-id=\"{id}\" data-state=\"dispatched\"");
    let phone = oc.get(app.url("/m")).send().await.unwrap().text().await.unwrap();
    assert!(phone.contains(&card) && phone.contains("data-testid=\"call-arrive\""), "{phone}");
    let (other, _) = page_session(&app, "s1.aux").await;
    let theirs = other.get(app.url("/m")).send().await.unwrap().text().await.unwrap();
    assert!(!theirs.contains("data-testid=\"my-call\""), "{theirs}");
    // a step from the phone view comes back to it (and nowhere else)
    let r = oc
        .post(app.url(&format!("/incidents/{id}/transitions")))
        .header("x-csrf-token", &ocsrf)
        .header("hx-request", "true")
        .form(&[("action", "arrive"), ("back", "/m")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("hx-redirect").and_then(|v| v.to_str().ok()), Some("/m"));
    let (_, v) = command.get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(v["state"], "arrived");
    let phone = oc.get(app.url("/m")).send().await.unwrap().text().await.unwrap();
    assert!(phone.contains("data-state=\"arrived\"") && phone.contains("data-testid=\"call-result\""), "{phone}");
    assert_eq!(code(&act(&officer, &path, json!({"action": "arrive"})).await.1), "invalid_transition", "once");
    let (s, v) = act(&officer, &path, json!({"action": "handle"})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("result")));
    let (s, v) = act(&officer, &path, json!({"action": "handle", "result": "nothing"})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("result")));
    assert_eq!(
        act(&officer, &path, json!({"action": "handle", "result": "on_site", "note": "双方已调解"})).await.1["state"],
        "handled"
    );
    assert_eq!(code(&act(&officer, &path, json!({"action": "close"})).await.1), "forbidden");
    let (_, done) = act(&command, &path, json!({"action": "close"})).await;
    assert_eq!((done["state"].as_str(), done["result"].as_str()), (Some("closed"), Some("on_site")));
    for t in ["triaged_at", "dispatched_at", "arrived_at", "handled_at", "closed_at"] {
        assert!(done[t].is_string(), "{t} kept");
    }
    assert_eq!(done["timeline"].as_array().unwrap().len(), 6);
    assert_eq!(code(&act(&command, &path, json!({"action": "triage", "police": true})).await.1), "invalid_transition");
    assert_eq!(
        db_count(&app.db_url, "SELECT COUNT(*) FROM map_items WHERE kind = $1 AND is_open = FALSE", "incident").await,
        1
    );

    // the same phone within the hour: linked and flagged
    let (_, again) = command
        .post(
            "/api/v1/incidents",
            json!({"channel": "110", "description": "刚才报过警，对方又来了", "caller_phone": "13800138000"}),
        )
        .await;
    assert_eq!(again["repeat_of"], id, "{again}");
    assert_eq!(again["station_code"], S1, "no location: the user's station");
    assert!(again["grid_id"].is_null());
    let (_, other) = command
        .post(
            "/api/v1/incidents",
            json!({"channel": "walk_in", "description": "来所咨询户籍", "caller_phone": "13900139000"}),
        )
        .await;
    assert!(other["repeat_of"].is_null());

    // the model reads "菜市场" as a market matter; the officer says police: kept with the type's class as the label
    let (_, m) = command
        .post(
            "/api/v1/incidents",
            json!({"channel": "110", "description": "两人在菜市场门口推搡", "type_code": "0201"}),
        )
        .await;
    if m["triage"]["police"] == false {
        assert!(m["triage"]["type_hint"]["reason"].as_str().unwrap().contains("警务类"), "{}", m["triage"]);
        let p = format!("/api/v1/incidents/{}/transitions", m["id"]);
        assert_eq!(command.post(&p, json!({"action": "triage", "police": true})).await.1["state"], "triaged");
        let c = app.store.triage_corrections().await.unwrap();
        assert_eq!(c.last().unwrap().1, "行政（治安）类警情");
    }
    // the same type close by and soon after: suggested as a possible duplicate; far away: not
    let (_, near) = command
        .post("/api/v1/incidents", json!({"channel": "110", "description": "菜市场又有人推搡", "location": {"lat": lat + 0.0005, "lon": lon}, "type_code": "0201"}))
        .await;
    assert_eq!(near["similar"][0]["id"], id, "{near}");
    assert!((50..=60).contains(&near["similar"][0]["metres"].as_i64().unwrap()));
    let (_, far) = command
        .post("/api/v1/incidents", json!({"channel": "110", "description": "另一处推搡", "location": {"lat": lat + 0.01, "lon": lon}, "type_code": "0201"}))
        .await;
    assert!(far["similar"].as_array().unwrap().iter().all(|x| x["id"] != id), "{far}");

    // the full name and number: command room yes (audited), officer no
    let before = db_count(&app.db_url, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "read_caller").await;
    let (s, p) = command.get(&format!("/api/v1/incidents/{id}/caller")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((p["caller_name"].as_str(), p["caller_phone"].as_str()), (Some("王先生"), Some("13800138000")));
    assert_eq!(
        db_count(&app.db_url, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "read_caller").await,
        before + 1
    );
    assert_eq!(code(&officer.get(&format!("/api/v1/incidents/{id}/caller")).await.1), "forbidden");

    // the pages: intake by form (htmx), the detail page with its masked phone and reveal button
    let (c, csrf) = page_session(&app, "s1.command").await;
    let r = c
        .post(app.url("/incidents"))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&[
            ("channel", "patrol"),
            ("description", "巡逻发现河边有人游泳"),
            ("severity", "2"),
            ("caller_phone", ""),
            ("lat", ""),
            ("lon", ""),
        ])
        .send()
        .await
        .unwrap();
    let to = r.headers().get("hx-redirect").and_then(|h| h.to_str().ok()).unwrap_or_default().to_string();
    assert!(to.starts_with("/incidents/"), "{to}");
    let html = c.get(app.url(&format!("/incidents/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("138****8000") && !html.contains("13800138000") && html.contains("data-testid=\"reveal-caller\"")
    );
    assert!(html.contains("王**") && !html.contains("王先生"), "the caller's name is masked too");
    let x = c.get(app.url("/api/v1/incidents/export.xlsx?police=1&q=推搡")).send().await.unwrap();
    assert_eq!(x.status(), StatusCode::OK);
    let bytes = x.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK") && bytes.len() > 3000, "an xlsx (zip) workbook");
    let list = c.get(app.url("/incidents?q=游泳")).send().await.unwrap().text().await.unwrap();
    assert_eq!(list.matches("data-testid=\"incident-row\"").count(), 1);
    let fragment = c.get(app.url(&format!("/incidents/{id}/caller"))).send().await.unwrap().text().await.unwrap();
    assert!(fragment.contains("13800138000") && fragment.contains("王先生"), "{fragment}");
    // in English: the severity, the handling result and the intake form's choices
    c.get(app.url("/lang/en")).send().await.unwrap();
    let html = c.get(app.url(&format!("/incidents/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Closed on site") && html.contains("Urgent") && !html.contains("现场自处"), "{html}");
    let html = c.get(app.url("/incidents/new")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("3 Critical") && !html.contains("危机"), "{html}");
    c.get(app.url("/lang/zh")).send().await.unwrap();

    // another station sees none of it
    let s2 = app.login("s2.command").await;
    assert_eq!(code(&s2.get(&format!("/api/v1/incidents/{id}")).await.1), "not_found");
    assert_eq!(s2.get("/api/v1/incidents").await.1["total"], 0);
    let (_, mine) = command.get("/api/v1/incidents?police=true").await;
    assert_eq!(mine["total"], if m["triage"]["police"] == false { 2 } else { 1 }, "the triaged police matters");
    assert_eq!(command.get("/api/v1/incidents?q=户籍").await.1["total"], 1);
    assert_eq!(command.get("/api/v1/incidents").await.1["total"], 7);

    // response figures, by station and by grid
    let (s, f) = command.get("/api/v1/incidents/figures").await;
    assert_eq!(s, StatusCode::OK, "{f}");
    let t = &f["total"];
    assert_eq!((t["incidents"].as_i64(), t["self_handled_rate"].as_f64()), (Some(7), Some(1.0)));
    assert!((t["repeat_rate"].as_f64().unwrap() - 1.0 / 7.0).abs() < 1e-9);
    let triaged = if m["triage"]["police"] == false { 2 } else { 1 };
    assert_eq!(t["sign_for_buckets"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).sum::<i64>(), triaged);
    assert_eq!(t["arrived_within_5min"], 1.0, "dispatched and arrived within the test");
    assert_eq!((f["rows"][0]["code"].as_str(), f["rows"][0]["figures"]["incidents"].as_i64()), (Some(S1), Some(7)));
    let (_, g) = command.get("/api/v1/incidents/figures?by=grid").await;
    let codes: Vec<&str> = g["rows"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&grid.as_str()) && codes.contains(&""), "{codes:?}");
    assert_eq!(code(&command.get("/api/v1/incidents/figures?by=quarter").await.1), "validation_failed");
    let page = c.get(app.url("/incidents/figures?by=grid")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-testid=\"figures-total\""));
    // the chart's data: one category per group, the shares as percentages
    let chart = page.split("data-chart=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().replace("&#34;", "\"");
    let chart: Value = serde_json::from_str(&chart).unwrap_or_else(|e| panic!("{e}: {chart}"));
    assert_eq!(chart["categories"].as_array().unwrap().len(), g["rows"].as_array().unwrap().len(), "{chart}");
    assert_eq!(chart["unit"], "%");
    assert!(
        chart["series"][0]["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v.is_null() || (0.0..=100.0).contains(&v.as_f64().unwrap()))
    );
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

#[tokio::test]
async fn diversion_sign_for_return_and_callback() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let hotline = app.login("p.12345").await;
    let (lat, lon, _) = inside_s1(&command).await;
    let (_, i) = command
        .post("/api/v1/incidents", json!({"channel": "110", "description": "小区门口路灯坏了好几天", "location": {"lat": lat, "lon": lon}, "type_code": "0801"}))
        .await;
    assert_eq!(
        (i["triage"]["police"].as_bool(), i["triage"]["department"].as_str()),
        (Some(false), Some("城乡建设")),
        "{}",
        i["triage"]
    );
    let id = i["id"].as_i64().unwrap();
    let path = format!("/api/v1/incidents/{id}/transitions");
    // the agency sees nothing before the hand-over
    assert_eq!(code(&hotline.get(&format!("/api/v1/incidents/{id}")).await.1), "not_found");
    assert_eq!(
        command.post(&path, json!({"action": "triage", "police": false, "department": "城乡建设"})).await.1["state"],
        "triaged"
    );
    assert!(app.store.triage_corrections().await.unwrap().is_empty(), "agreeing with the suggestion is no correction");
    let (s, v) = command.post(&path, json!({"action": "divert", "agency": S1})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("agency")));
    let (_, v) = command.post(&path, json!({"action": "divert", "agency": HOTLINE, "note": "转12345"})).await;
    assert_eq!((v["state"].as_str(), v["agency_code"].as_str()), (Some("diverted"), Some(HOTLINE)));
    // time limits by type (08 社会联动: sign for within 2 hours, finish within 5 working days)
    let parse = |k: &str| chrono::DateTime::parse_from_rfc3339(v[k].as_str().unwrap()).unwrap();
    let hours = (parse("sign_due_at") - parse("diverted_at")).num_minutes();
    assert_eq!(hours, 120, "{v}");
    assert!((parse("done_due_at") - parse("diverted_at")).num_days() >= 5, "5 working days");
    // late: the command room is told, once
    let now = chrono::Utc::now();
    assert_eq!(zhufang_store::incidents::scan_hand_overs(app.store.as_ref(), now).await.unwrap(), 0);
    crate::harness::db_exec(&app.db_url, &format!("UPDATE incidents SET sign_due_at = 1 WHERE id = {id}")).await;
    assert_eq!(zhufang_store::incidents::scan_hand_overs(app.store.as_ref(), now).await.unwrap(), 1);
    assert_eq!(zhufang_store::incidents::scan_hand_overs(app.store.as_ref(), now).await.unwrap(), 0, "once");
    let (_, inbox) = command.get("/api/v1/notifications").await;
    assert!(inbox.to_string().contains("未签收，已超过时限"), "{inbox}");
    let (_, d) = command.get(&path.replace("/transitions", "")).await;
    let last = d["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["to_state"].as_str()), (Some("escalate"), Some("diverted")), "{d}");
    assert!(last["note"].as_str().unwrap().contains("超过签收时限"), "{last}");

    // the agency: told in its inbox, sees it, signs, returns it with a reason
    let (_, inbox) = hotline.get("/api/v1/notifications").await;
    assert!(inbox.to_string().contains("请签收"), "{inbox}");
    assert_eq!(hotline.get("/api/v1/incidents").await.1["total"], 1);
    assert_eq!(code(&command.post(&path, json!({"action": "sign_for"})).await.1), "forbidden");
    let other = app.login("p.sifa1").await;
    assert_eq!(code(&other.post(&path, json!({"action": "sign_for"})).await.1), "not_found");
    assert_eq!(hotline.post(&path, json!({"action": "sign_for"})).await.1["state"], "signed_for");
    let (s, v) = hotline.post(&path, json!({"action": "return"})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("note")));
    assert_eq!(
        hotline.post(&path, json!({"action": "return", "note": "属物业职责，请核实"})).await.1["state"],
        "returned"
    );
    assert!(
        command.get("/api/v1/notifications").await.1.to_string().contains("属物业职责"),
        "the command room hears why"
    );
    // the command room triages again and diverts again; the agency finishes it
    assert_eq!(command.post(&path, json!({"action": "triage", "police": false})).await.1["state"], "triaged");
    command.post(&path, json!({"action": "divert", "agency": HOTLINE})).await;
    hotline.post(&path, json!({"action": "sign_for"})).await;
    let (_, v) = hotline.post(&path, json!({"action": "agency_done", "note": "已通知供电部门修复"})).await;
    assert_eq!(v["state"], "agency_done");
    assert!(v["agency_done_at"].is_string() && v["returned_at"].is_string());
    // 回访 closes it with a rating
    let (s, v) = command.post(&path, json!({"action": "close", "rating": 9})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("rating")));
    let version = command.get(&format!("/api/v1/incidents/{id}")).await.1["version"].as_i64().unwrap();
    assert_eq!(
        code(&command.post(&path, json!({"action": "close", "rating": 2, "version": version - 1})).await.1),
        "conflict"
    );
    let (_, v) = command.post(&path, json!({"action": "close", "rating": 2, "version": version})).await;
    assert_eq!((v["state"].as_str(), v["rating"].as_i64()), (Some("closed"), Some(2)));
    let (_, f) = command.get("/api/v1/incidents/figures").await;
    assert_eq!(
        (f["total"]["diversion_rate"].as_f64(), f["total"]["agency_sign_for_rate"].as_f64()),
        (Some(1.0), Some(1.0)),
        "{f}"
    );
    assert_eq!(
        (f["total"]["agency_return_rate"].as_f64(), f["total"]["satisfaction_rate"].as_f64()),
        (Some(1.0), Some(1.0)),
        "returned once; rated 2 (满意): {f}"
    );
    assert_eq!(
        (
            f["total"]["agency_redo_rate"].as_f64(),
            f["total"]["agency_done_rate"].as_f64(),
            f["total"]["callback_rate"].as_f64()
        ),
        (Some(1.0), Some(1.0), Some(1.0)),
        "handed over again after the return, finished, called back: {f}"
    );
    let actions: Vec<&str> = v["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "receive",
            "triage",
            "divert",
            "escalate",
            "sign_for",
            "return",
            "triage",
            "divert",
            "sign_for",
            "agency_done",
            "close"
        ]
    );
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

#[tokio::test]
async fn bad_intake_is_refused_field_by_field() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let (s, v) = command
        .post(
            "/api/v1/incidents",
            json!({"channel": "fax", "description": "  ", "caller_phone": "12345", "severity": 5, "type_code": "9999",
                   "received_at": "2099-01-01T10:00", "location": {"lat": 95.0, "lon": 116.0}}),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{v}");
    let mut fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["location.lat"], "a bad position is named first");
    let (_, v) = command
        .post(
            "/api/v1/incidents",
            json!({"channel": "fax", "description": "  ", "caller_phone": "12345", "severity": 5, "type_code": "9999", "received_at": "2099-01-01T10:00"}),
        )
        .await;
    let mut fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["caller_phone", "channel", "description", "received_at", "severity", "type_code"], "{v}");
    assert_eq!(command.get("/api/v1/incidents").await.1["total"], 0, "nothing written");
    // the live suggestion while typing
    let (s, v) = command.post("/api/v1/triage", json!({"text": "小区路灯坏了好几天，晚上很黑"})).await;
    assert_eq!(
        (s, v["police"].as_bool(), v["department"].as_str()),
        (StatusCode::OK, Some(false), Some("城乡建设")),
        "{v}"
    );
    let (s, v) = command.post("/api/v1/triage", json!({"text": "河边有人溺水了快来"})).await;
    assert_eq!((s, v["police"].as_bool()), (StatusCode::OK, Some(true)), "a 12号文 rule: {v}");
    assert!(v["rule"].is_string());
    assert_eq!(command.post("/api/v1/triage", json!({"text": "  "})).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    // a partner agency sends incidents in only with its own id, and only once
    let hotline = app.login("p.12345").await;
    let (s, v) = hotline.post("/api/v1/incidents", json!({"channel": "110", "description": "x", "station": S1})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("external_id")));
    let urgent = json!({"channel": "110", "description": "市民来电：河边有小孩落水", "station": S1, "external_id": "GD-2026-0001", "severity": 3, "type_code": "0502"});
    let (s, first) = hotline.post("/api/v1/incidents", urgent.clone()).await;
    assert_eq!(
        (s, first["channel"].as_str(), first["station_code"].as_str()),
        (StatusCode::CREATED, Some("12345"), Some(S1)),
        "{first}"
    );
    let (s, again) = hotline.post("/api/v1/incidents", urgent).await;
    assert_eq!((s, again["id"].as_i64()), (StatusCode::OK, first["id"].as_i64()), "the same id: the same incident");
    assert_eq!(command.get("/api/v1/incidents").await.1["total"], 1, "the station's command room has it");
    assert_eq!(
        hotline.get(&format!("/api/v1/incidents/{}", first["id"])).await.0,
        StatusCode::OK,
        "the sender can follow it"
    );
    assert_eq!(code(&hotline.post("/api/v1/triage", json!({"text": "x"})).await.1), "forbidden");
    let sifa = app.login("p.sifa1").await;
    let (s, other) = sifa
        .post(
            "/api/v1/incidents",
            json!({"channel": "110", "description": "另一方的同号", "station": S1, "external_id": "GD-2026-0001"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "ids are per sender: {other}");
    let (_, types) = command.get("/api/v1/incident-types").await;
    let types = types.as_array().unwrap();
    assert!(types.iter().any(|t| t["level"] == 4 && t["name"] == "冒充公检法"));
    assert!(types.iter().all(|t| t["level"] == 1 || t["parent_code"].is_string()));
    app.stop().await;
}

#[tokio::test]
async fn csv_import_reports_rows_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let command = app.login("s1.command").await;
    let (lat, lon, grid) = inside_s1(&command).await;
    let csv = format!(
        "number,channel,received_at,description,lat,lon,station,type_code,police,result,triaged_at,dispatched_at,arrived_at,handled_at,closed_at,state\n\
         H-001,110,2026-10-01 08:00:00,菜市场门口争执,{lat},{lon},,0201,1,on_site,2026-10-01 08:00:40,2026-10-01 08:01:00,2026-10-01 08:05:00,2026-10-01 08:30:00,2026-10-01 09:00:00,closed\n\
         H-002,12345,2026-10-02 10:00,路灯不亮,,,{S1},0801,0,,,,,,,closed\n\
         H-003,fax,2026-10-03 10:00,渠道错误,,,{S1},,,,,,,,,closed\n\
         H-004,110,2026-10-04 10:00,类型错误,,,{S1},7777,,,,,,,,closed\n\
         H-005,110,2026-10-05 10:00,状态错误,,,{S1},,,,,,,,,finished\n"
    );
    let post = |api: &crate::harness::Api, body: String| {
        let req = api
            .c
            .post(format!("{}/api/v1/incidents/import", api.base))
            .bearer_auth(&api.token)
            .header("content-type", "text/csv")
            .body(body);
        async move { crate::harness::body(req.send().await.unwrap()).await }
    };
    assert_eq!(code(&post(&command, csv.clone()).await.1), "forbidden", "admins import");
    let (s, r) = post(&admin, csv.clone()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["rows"].as_u64(), r["imported"].as_u64(), r["existing"].as_u64()),
        (Some(5), Some(2), Some(0)),
        "{r}"
    );
    let errs: Vec<(u64, &str)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(errs, [(4, "channel"), (5, "type_code"), (6, "state")]);
    // again: nothing new, nothing lost
    let (_, r) = post(&admin, csv).await;
    assert_eq!((r["imported"].as_u64(), r["existing"].as_u64()), (Some(0), Some(2)));
    let (_, list) = command.get("/api/v1/incidents?q=争执").await;
    let i = &list["items"][0];
    assert_eq!(
        (i["number"].as_str(), i["state"].as_str(), i["grid_code"].as_str()),
        (Some("H-001"), Some("closed"), Some(grid.as_str()))
    );
    // its timeline: the steps as they happened in the source system, then the import
    let (_, d) = command.get(&format!("/api/v1/incidents/{}", i["id"])).await;
    let steps: Vec<(&str, &str, &str)> = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["to_state"].as_str().unwrap(), e["actor_name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("receive", "received", "原系统"),
            ("triage", "triaged", "原系统"),
            ("dispatch", "dispatched", "原系统"),
            ("arrive", "arrived", "原系统"),
            ("handle", "handled", "原系统"),
            ("close", "closed", "原系统"),
            ("import", "closed", admin.user["display_name"].as_str().unwrap()),
        ],
        "{d}"
    );
    assert_eq!(d["timeline"][3]["at"], "2026-10-01T00:05:00Z", "08:05 in Shanghai");
    let (c, _) = page_session(&app, "s1.command").await;
    let html = c.get(app.url(&format!("/incidents/{}", i["id"]))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("历史导入") && html.contains("原系统"), "the page names the import");
    // the history counts in the figures
    let (_, f) = command.get("/api/v1/incidents/figures?from=2026-09-30&to=2026-10-31").await;
    assert_eq!(
        (f["total"]["incidents"].as_i64(), f["total"]["arrival_median_s"].as_f64()),
        (Some(2), Some(240.0)),
        "{f}"
    );
    assert_eq!(f["total"]["sign_for_buckets"][1], 1, "40 s: the 30–60 s bucket");
    // by period (Beijing days): every month / week of the range in order, empty ones too
    let (_, f) = command.get("/api/v1/incidents/figures?from=2026-09-30&to=2026-10-31&by=month").await;
    let months: Vec<(&str, &str, i64)> = f["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["code"].as_str().unwrap(), r["name"].as_str().unwrap(), r["figures"]["incidents"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(months, [("2026-09-01", "2026-09", 0), ("2026-10-01", "2026-10", 2)], "{f}");
    let (_, f) = command.get("/api/v1/incidents/figures?from=2026-09-30&to=2026-10-31&by=week").await;
    let weeks = f["rows"].as_array().unwrap();
    assert_eq!(weeks.len(), 5, "the weeks from Monday 09-28 to the one holding 10-31: {f}");
    assert_eq!(
        (weeks[0]["name"].as_str(), weeks[0]["figures"]["incidents"].as_i64()),
        (Some("2026-09-28～10-04"), Some(2))
    );
    assert_eq!(weeks[0]["figures"]["arrival_median_s"].as_f64(), Some(240.0));
    let (s, v) = command.get("/api/v1/incidents/figures?from=2025-01-01&to=2026-10-31&by=day").await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("by")));
    assert!(v["error"]["fields"][0]["message"].as_str().unwrap().contains("时段过多"), "{v}");
    let html = c
        .get(app.url("/incidents/figures?from=2026-09-30&to=2026-10-31&by=week"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(html.matches("data-testid=\"figures-row\"").count(), 5);
    assert!(html.contains("2026-09-28～10-04") && html.contains("<option value=\"week\" selected>"), "{html}");
    // the command line: same report, with a non-zero exit for the bad rows
    let file = app.dir.join("history.csv");
    std::fs::write(&file, format!("number,channel,received_at,description,station\nH-101,110,2026-10-06 10:00,命令行导入,{S1}\nH-102,fax,2026-10-06 11:00,坏行,{S1}\n")).unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_zhufang"))
        .args(["import", "incidents", "--db", &app.db_url, file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stdout).contains("1 imported"), "{}", String::from_utf8_lossy(&run.stdout));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("line 3: channel"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // a file without the required columns
    let (s, v) = post(&admin, "number,channel\nX,110\n".into()).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("file")));
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

/// A 12345 system's webhook receiver: records each delivery whose signature checks.
#[derive(Clone, Default)]
struct Receiver {
    got: std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
}

async fn receive(
    axum::extract::State(r): axum::extract::State<Receiver>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let ts: i64 = h("x-zhufang-timestamp").parse().unwrap_or_default();
    if h("x-zhufang-signature") != zhufang_web::outbox::signature(SECRET, ts, &body) {
        return StatusCode::UNAUTHORIZED;
    }
    r.got.lock().unwrap().push((h("x-zhufang-id"), serde_json::from_slice(&body).unwrap()));
    StatusCode::OK
}

const SECRET: &str = "a-shared-secret-of-some-length";

#[tokio::test]
async fn hand_overs_reach_a_receiver_that_was_down_exactly_once() {
    // a port with nobody listening yet
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::spawn_with(|s| {
        s.web.webhook = Some(zhufang_web::state::Webhook {
            url: format!("http://127.0.0.1:{port}/orders"),
            secret: SECRET.into(),
            extra_root_pem: None,
        });
    })
    .await;
    let command = app.login("s1.command").await;
    let hotline = app.login("p.12345").await;
    let mut ids = vec![];
    for n in 0..3 {
        let (_, i) = command
            .post(
                "/api/v1/incidents",
                json!({"channel": "110", "description": format!("挪车请求{n}"), "type_code": "0304"}),
            )
            .await;
        let id = i["id"].as_i64().unwrap();
        let path = format!("/api/v1/incidents/{id}/transitions");
        command.post(&path, json!({"action": "triage", "police": false})).await;
        let (s, v) = command.post(&path, json!({"action": "divert", "agency": HOTLINE})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        ids.push(id);
    }
    // the receiver is down: every order waits in the outbox, with the attempt counted
    let state = &app.running.as_ref().unwrap().state;
    let (ok, failed) = zhufang_web::outbox::deliver_due(state, chrono::Utc::now()).await.unwrap();
    assert_eq!(ok, 0);
    assert!(failed <= 3);
    assert_eq!(app.store.outbox_counts().await.unwrap(), (3, 0));
    // it comes up; the next round (after the backoff) delivers each once
    let rx = Receiver::default();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let server = tokio::spawn(
        axum::serve(
            listener,
            axum::Router::new().route("/orders", axum::routing::post(receive)).with_state(rx.clone()),
        )
        .into_future(),
    );
    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    let (ok, failed) = zhufang_web::outbox::deliver_due(state, later).await.unwrap();
    assert_eq!((ok, failed), (3, 0));
    assert_eq!(zhufang_web::outbox::deliver_due(state, later).await.unwrap(), (0, 0), "nothing twice");
    assert_eq!(app.store.outbox_counts().await.unwrap(), (0, 3));
    {
        let got = rx.got.lock().unwrap();
        assert_eq!(got.len(), 3);
        let keys: std::collections::HashSet<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys.len(), 3, "distinct idempotency keys");
        for (_, order) in got.iter() {
            assert_eq!(
                (order["node"].as_str(), order["node_name"].as_str(), order["agency"].as_str()),
                (Some("1"), Some("交办"), Some(HOTLINE))
            );
            assert!(order["incident"]["number"].as_str().unwrap().starts_with("JQ"));
        }
    }
    // the call-back close of an agency's order is reported too (归档), delivered as it happens
    let path = format!("/api/v1/incidents/{}/transitions", ids[0]);
    hotline.post(&path, json!({"action": "sign_for"})).await;
    hotline.post(&path, json!({"action": "agency_done", "note": "已联系车主挪车"})).await;
    command.post(&path, json!({"action": "close", "rating": 1})).await;
    for _ in 0..100 {
        if rx.got.lock().unwrap().len() == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    let got = rx.got.lock().unwrap().clone();
    let nodes: Vec<&str> = got.iter().map(|(_, o)| o["node_name"].as_str().unwrap()).collect();
    assert_eq!(nodes, ["交办", "交办", "交办", "办结", "归档"], "each node as it happens");
    assert_eq!(got[4].1["rating"], 1);
    server.abort();
    app.stop().await;
}

#[tokio::test]
async fn agency_inbox_by_stage_and_near_duplicates_at_intake() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let hotline = app.login("p.12345").await;
    let (lat, lon, _) = inside_s1(&command).await;
    // near-duplicates before registration: nothing yet, then every same-type matter close by
    let near = format!("/api/v1/incidents/similar?lat={lat}&lon={lon}&type_code=0801");
    assert_eq!(command.get(&near).await.1, json!([]));
    let mut ids = vec![];
    for (text, agency) in [("路灯不亮", HOTLINE), ("井盖松动", HOTLINE), ("楼道堆物", "361202001100")] {
        let (_, i) = command
            .post("/api/v1/incidents", json!({"channel": "110", "description": text, "location": {"lat": lat, "lon": lon}, "type_code": "0801"}))
            .await;
        let id = i["id"].as_i64().unwrap();
        let path = format!("/api/v1/incidents/{id}/transitions");
        command.post(&path, json!({"action": "triage", "police": false})).await;
        assert_eq!(command.post(&path, json!({"action": "divert", "agency": agency})).await.1["state"], "diverted");
        ids.push(id);
    }
    let (_, v) = command.get(&near).await;
    let found: Vec<i64> = v.as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(found.len(), 3, "{v}");
    assert!(ids.iter().all(|i| found.contains(i)), "{v}");
    assert_eq!(
        command.get(&format!("/api/v1/incidents/similar?lat={lat}&lon={lon}&type_code=0101")).await.1,
        json!([])
    );
    assert_eq!(
        command.get(&format!("/api/v1/incidents/similar?lat={lat}&lon={lon}")).await.1,
        json!([]),
        "no type yet"
    );
    let (s, v) = command.get(&format!("/api/v1/incidents/similar?lat=abc&lon={lon}&type_code=0801")).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("lat")));
    assert_eq!(hotline.get(&near).await.1, json!([]), "an agency sees no station's incidents this way");

    // the API filters of the inbox: handed over, late, most urgent first
    assert_eq!(command.get("/api/v1/incidents?handed_over=true").await.1["total"], 3);
    let (_, mine) = hotline.get("/api/v1/incidents?handed_over=1&state=diverted&sort=due").await;
    assert_eq!(mine["total"], 2, "the 12345 centre sees its two orders only");
    crate::harness::db_exec(&app.db_url, &format!("UPDATE incidents SET sign_due_at = 1000 WHERE id = {}", ids[1]))
        .await;
    let (_, mine) = hotline.get("/api/v1/incidents?handed_over=1&sort=due").await;
    assert_eq!(mine["items"][0]["id"].as_i64(), Some(ids[1]), "the late one first");
    let (_, late) = hotline.get("/api/v1/incidents?overdue=true").await;
    assert_eq!((late["total"].as_i64(), late["items"][0]["id"].as_i64()), (Some(1), Some(ids[1])));
    let (s, v) = hotline.get("/api/v1/incidents?overdue=maybe").await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("overdue")));
    assert_eq!(code(&hotline.get("/api/v1/incidents?sort=sideways").await.1), "validation_failed");

    // the page: a partner agency lands on it; tabs count by stage; sign for inline and stay
    let (c, csrf) = page_session(&app, "p.12345").await;
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.url().path(), "/incidents/inbox", "an agency's home is its inbox");
    let html = r.text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"inbox-row\"").count(), 2, "{html}");
    assert!(html.contains("data-testid=\"inbox-count-to_sign\">2<"), "{html}");
    assert!(html.contains("data-testid=\"inbox-count-overdue\">1<"));
    assert!(html.contains("data-testid=\"due-danger\""), "the late one is marked");
    assert!(!html.contains("楼道堆物"), "another agency's order is not here");
    let late_html = c.get(app.url("/incidents/inbox?tab=overdue")).send().await.unwrap().text().await.unwrap();
    assert_eq!(late_html.matches("data-testid=\"inbox-row\"").count(), 1);
    let r = c.get(app.url("/incidents/inbox?tab=bogus")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let version = hotline.get(&format!("/api/v1/incidents/{}", ids[0])).await.1["version"].as_i64().unwrap();
    let sign = |back: &'static str| {
        let c = &c;
        let csrf = &csrf;
        let url = app.url(&format!("/incidents/{}/transitions", ids[0]));
        async move {
            c.post(url)
                .header("x-csrf-token", csrf)
                .header("hx-request", "true")
                .form(&[("action", "sign_for"), ("version", &version.to_string()), ("back", back)])
                .send()
                .await
                .unwrap()
        }
    };
    let r = sign("/incidents/inbox?tab=to_sign").await;
    assert_eq!(r.headers()["hx-redirect"], "/incidents/inbox?tab=to_sign");
    let html = c.get(app.url("/incidents/inbox?tab=in_hand")).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"inbox-row\"").count(), 1);
    assert!(
        html.contains("data-testid=\"inbox-open-agency_done\"") && html.contains("data-testid=\"inbox-open-return\"")
    );
    // a step posted with a foreign "back" goes to the incident's own page
    let r = c
        .post(app.url(&format!("/incidents/{}/transitions", ids[0])))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&[("action", "agency_done"), ("note", "已修复"), ("back", "//evil.example/incidents/inbox")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["hx-redirect"], format!("/incidents/{}", ids[0]).as_str());
    assert_eq!(hotline.get(&format!("/api/v1/incidents/{}", ids[0])).await.1["state"], "agency_done");

    // the command room's view of its hand-overs, and the intake fragment
    let (c, _) = page_session(&app, "s1.command").await;
    let html = c.get(app.url("/incidents/inbox?tab=to_sign")).send().await.unwrap().text().await.unwrap();
    assert_eq!(
        html.matches("data-testid=\"inbox-row\"").count(),
        2,
        "both still to sign: one at 12345, one at the 司法所"
    );
    assert!(!html.contains("data-testid=\"inbox-sign_for\""), "the command room does not sign for the agency");
    let frag = c
        .get(app.url(&format!("/incidents/similar?lat={lat}&lon={lon}&type_code=0801")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(frag.matches("data-testid=\"near-duplicate\"").count(), 3, "{frag}");
    let frag =
        c.get(app.url("/incidents/similar?lat=2&lon=&type_code=0801")).send().await.unwrap().text().await.unwrap();
    assert!(frag.trim().is_empty(), "half-typed place: nothing to say");
    app.stop().await;
}

#[tokio::test]
async fn the_type_dictionary_and_hand_over_limits_are_edited_by_admins() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let command = app.login("s1.command").await;
    // a new 细类 under 0801, not a police matter by default
    let (s, t) = admin.put("/api/v1/incident-types/080199", json!({"name": "其他设施报修", "police": false})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!((t["level"].as_i64(), t["parent_code"].as_str()), (Some(3), Some("0801")));
    // bad codes, a missing parent, an empty name, a sibling's name; and not for non-admins
    for (code, body, field) in [
        ("08a", json!({"name": "x"}), "code"),
        ("0800", json!({"name": "x"}), "code"),
        ("7701", json!({"name": "x"}), "code"),
        ("080198", json!({"name": " "}), "name"),
        ("080198", json!({"name": "其他设施报修"}), "name"),
    ] {
        let (s, v) = admin.put(&format!("/api/v1/incident-types/{code}"), body).await;
        assert_eq!(
            (s, v["error"]["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{code}: {v}"
        );
    }
    assert_eq!(code(&command.put("/api/v1/incident-types/080197", json!({"name": "x"})).await.1), "forbidden");
    let long = "x".repeat(81);
    let (s, v) = admin.put("/api/v1/incident-types/080199", json!({"name": "其他设施报修", "name_en": long})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name_en")));
    // English names: seeded for the dictionary, edited with the Chinese one, shown on English pages
    let (s, t) = admin
        .put(
            "/api/v1/incident-types/080199",
            json!({"name": "其他设施报修", "name_en": "Other facility repairs", "police": false}),
        )
        .await;
    assert_eq!((s, t["name_en"].as_str()), (StatusCode::OK, Some("Other facility repairs")), "{t}");
    let (_, types) = command.get("/api/v1/incident-types").await;
    let en = |c: &str| types.as_array().unwrap().iter().find(|t| t["code"] == c).unwrap()["name_en"].clone();
    assert_eq!((en("0201"), en("080199")), (json!("Assault"), json!("Other facility repairs")));
    let unnamed: Vec<&Value> = types.as_array().unwrap().iter().filter(|t| t["name_en"] == "").collect();
    assert!(unnamed.is_empty(), "every seeded type has an English name: {unnamed:?}");
    let body = json!({"channel": "110", "description": "路灯报修", "station": S1, "type_code": "080199"});
    let (_, i) = command.post("/api/v1/incidents", body).await;
    assert_eq!(
        (i["type_name"].as_str(), i["type_name_en"].as_str()),
        (Some("其他设施报修"), Some("Other facility repairs"))
    );
    let (c, _) = page_session(&app, "s1.command").await;
    let zh = c.get(app.url(&format!("/incidents/{}", i["id"]))).send().await.unwrap().text().await.unwrap();
    assert!(zh.contains("其他设施报修") && !zh.contains("Other facility repairs"));
    c.get(app.url("/lang/en")).send().await.unwrap();
    let en_page = c.get(app.url(&format!("/incidents/{}", i["id"]))).send().await.unwrap().text().await.unwrap();
    assert!(en_page.contains("Other facility repairs"), "the English page names the type in English");
    let en_list = c.get(app.url("/incidents?type_code=08")).send().await.unwrap().text().await.unwrap();
    assert!(en_list.contains("Other facility repairs") && en_list.contains("Agency coordination"), "{en_list}");
    let (_, types) = command.get("/api/v1/incident-types").await;
    let pos = |c: &str| types.as_array().unwrap().iter().position(|t| t["code"] == c).unwrap();
    assert!(
        pos("0801") < pos("080199") && pos("080199") < pos("0802").max(pos("080199") + 1),
        "listed under its parent"
    );

    // its own hand-over limits: a longer prefix wins over 08's
    let limit = json!({"type_prefix": "0801", "label": "设施报修", "sign_for_hours": 4, "done_workdays": 2});
    assert_eq!(admin.put("/api/v1/incident-limits", limit).await.0, StatusCode::OK);
    for (body, field) in [
        (json!({"type_prefix": "7777", "label": "x", "sign_for_hours": 1, "done_workdays": 1}), "type_prefix"),
        (json!({"type_prefix": "08", "label": "x", "sign_for_hours": 0, "done_workdays": 1}), "sign_for_hours"),
        (json!({"type_prefix": "08", "label": "x", "sign_for_hours": 1, "done_workdays": 61}), "done_workdays"),
    ] {
        let (s, v) = admin.put("/api/v1/incident-limits", body).await;
        assert_eq!(
            (s, v["error"]["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{v}"
        );
    }
    let (_, rows) = command.get("/api/v1/incident-limits").await;
    assert!(rows.as_array().unwrap().iter().any(|r| r["type_prefix"] == "0801" && r["sign_for_hours"] == 4));
    let (lat, lon, _) = inside_s1(&command).await;
    let (s, i) = command
        .post("/api/v1/incidents", json!({"channel": "110", "description": "小区健身器材损坏", "location": {"lat": lat, "lon": lon}, "type_code": "080199"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{i}");
    let path = format!("/api/v1/incidents/{}/transitions", i["id"]);
    command.post(&path, json!({"action": "triage", "police": false})).await;
    let (_, v) = command.post(&path, json!({"action": "divert", "agency": HOTLINE})).await;
    let at = |k: &str| chrono::DateTime::parse_from_rfc3339(v[k].as_str().unwrap()).unwrap();
    assert_eq!((at("sign_due_at") - at("diverted_at")).num_minutes(), 240, "{v}");

    // retired: no longer accepted at intake
    admin.put("/api/v1/incident-types/080199", json!({"name": "其他设施报修", "police": false, "active": false})).await;
    let (s, v) = command
        .post("/api/v1/incidents", json!({"channel": "110", "description": "又一处器材损坏", "type_code": "080199"}))
        .await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("type_code")));

    // the page and its forms; every change is in the audit log
    let (c, csrf) = page_session(&app, "admin").await;
    let html = c.get(app.url("/admin/incident-types")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-code=\"080199\"") && html.contains("data-prefix=\"0801\""), "{html}");
    let r = c
        .post(app.url("/admin/incident-types"))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&[("code", "080198"), ("name", "路名牌缺失"), ("active", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["hx-redirect"], "/admin/incident-types");
    let r = c
        .post(app.url("/admin/incident-limits"))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&[("type_prefix", ""), ("label", "一般事项"), ("sign_for_hours", "三"), ("done_workdays", "5")])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("须为整数"));
    let (oc, _) = page_session(&app, "s1.command").await;
    assert_eq!(oc.get(app.url("/admin/incident-types")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let (_, audit) = admin.get("/api/v1/audit?object_type=incident_type").await;
    assert_eq!(audit["total"], 4, "two creations, the English name, the page's edit: {audit}");
    let (_, audit) = admin.get("/api/v1/audit?object_type=incident_limit").await;
    assert_eq!(audit["total"], 1);
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

#[tokio::test]
async fn repeat_call_and_near_duplicate_windows_are_settings() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let command = app.login("s1.command").await;
    let (_, s) = command.get("/api/v1/incident-settings").await;
    assert_eq!(
        s,
        json!({"repeat_minutes": 60, "repeat_dispute_minutes": 4320, "similar_metres": 500, "similar_minutes": 120})
    );
    let intake = |phone: &str, at: &str, type_code: &str| json!({"channel": "110", "description": "又打来了", "caller_phone": phone, "received_at": at, "type_code": type_code});
    // by default a call 90 minutes later is a new matter; a dispute call 90 minutes later is a repeat
    let (_, a) = command.post("/api/v1/incidents", intake("13800001111", "2026-11-20T09:00", "0201")).await;
    let (_, b) = command.post("/api/v1/incidents", intake("13800001111", "2026-11-20T10:30", "0201")).await;
    assert!(b["repeat_of"].is_null(), "{b}");
    let (_, d1) = command.post("/api/v1/incidents", intake("13800002222", "2026-11-20T09:00", "0401")).await;
    let (_, d2) = command.post("/api/v1/incidents", intake("13800002222", "2026-11-20T10:30", "0401")).await;
    assert_eq!(d2["repeat_of"], d1["id"], "{d2}");

    // bad values are refused field by field and change nothing; only admins change them
    let (st, v) = admin
        .put(
            "/api/v1/incident-settings",
            json!({"repeat_minutes": 0, "repeat_dispute_minutes": 50000, "similar_metres": 5, "similar_minutes": 60}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["repeat_minutes", "repeat_dispute_minutes", "similar_metres"]);
    assert!(v["error"]["fields"][0]["message"].as_str().unwrap().contains("分钟"));
    let (st, v) = admin
        .put(
            "/api/v1/incident-settings",
            json!({"repeat_minutes": 120, "repeat_dispute_minutes": 60, "similar_metres": 500, "similar_minutes": 60}),
        )
        .await;
    assert_eq!(
        (st, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("repeat_dispute_minutes"))
    );
    let wide =
        json!({"repeat_minutes": 180, "repeat_dispute_minutes": 180, "similar_metres": 2000, "similar_minutes": 600});
    assert_eq!(code(&command.put("/api/v1/incident-settings", wide.clone()).await.1), "forbidden");
    assert_eq!(command.get("/api/v1/incident-settings").await.1["repeat_minutes"], 60);

    // three hours for every call: now a call 2 hours later is linked, a dispute call 4 hours later is not
    let (st, v) = admin.put("/api/v1/incident-settings", wide.clone()).await;
    assert_eq!((st, &v), (StatusCode::OK, &wide));
    let (_, c) = command.post("/api/v1/incidents", intake("13800001111", "2026-11-20T12:30", "0201")).await;
    assert_eq!(c["repeat_of"], b["id"], "the latest earlier call: {c}");
    let (_, d3) = command.post("/api/v1/incidents", intake("13800002222", "2026-11-20T14:31", "0401")).await;
    assert!(d3["repeat_of"].is_null(), "{d3}");
    let _ = a;

    // near-duplicates follow the distance setting: 1.1 km away is suggested within 2 km, not within 500 m
    let (lat, lon, _) = inside_s1(&command).await;
    let (_, first) = command
        .post("/api/v1/incidents", json!({"channel": "110", "description": "路边有人推搡", "location": {"lat": lat, "lon": lon}, "type_code": "0201"}))
        .await;
    let near = format!("/api/v1/incidents/similar?lat={}&lon={lon}&type_code=0201", lat + 0.01);
    let (st, v) = command.get(&near).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v.as_array().unwrap().iter().any(|x| x["id"] == first["id"]), "within 2 km: {v}");
    let narrow =
        json!({"repeat_minutes": 60, "repeat_dispute_minutes": 4320, "similar_metres": 500, "similar_minutes": 120});
    assert_eq!(admin.put("/api/v1/incident-settings", narrow).await.0, StatusCode::OK);
    let (_, v) = command.get(&near).await;
    assert!(v.as_array().unwrap().iter().all(|x| x["id"] != first["id"]), "not within 500 m: {v}");

    // the admin page shows and saves them; every change is audited
    let (c, csrf) = page_session(&app, "admin").await;
    let html = c.get(app.url("/admin/incident-types")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"intake-form\"") && html.contains("value=\"4320\""), "{html}");
    let post = |form: Vec<(&'static str, &'static str)>| {
        c.post(app.url("/admin/incident-settings"))
            .header("x-csrf-token", &csrf)
            .header("hx-request", "true")
            .form(&form)
            .send()
    };
    let r = post(vec![
        ("repeat_minutes", "一小时"),
        ("repeat_dispute_minutes", "4320"),
        ("similar_metres", "500"),
        ("similar_minutes", "120"),
    ])
    .await
    .unwrap();
    assert!(r.text().await.unwrap().contains("须为整数"));
    let r = post(vec![
        ("repeat_minutes", "30"),
        ("repeat_dispute_minutes", "4320"),
        ("similar_metres", "500"),
        ("similar_minutes", "120"),
    ])
    .await
    .unwrap();
    assert_eq!(r.headers()["hx-redirect"], "/admin/incident-types");
    assert_eq!(command.get("/api/v1/incident-settings").await.1["repeat_minutes"], 30);
    let (_, audit) = admin.get("/api/v1/audit?object_type=intake_settings").await;
    assert_eq!(audit["total"], 3, "{audit}");
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

#[tokio::test]
async fn the_incident_workflow_is_data_admins_edit() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let command = app.login("s1.command").await;
    for name in ["task", "incident", "dispute", "hazard"] {
        let (s, wf) = command.get(&format!("/api/v1/workflows/{name}")).await;
        assert_eq!((s, wf["name"].as_str()), (StatusCode::OK, Some(name)), "{wf}");
    }
    assert_eq!(code(&command.get("/api/v1/workflows/payroll").await.1), "not_found");
    let (_, wf) = admin.get("/api/v1/workflows/incident").await;
    let rules = wf["rules"].as_array().unwrap().clone();
    assert!(rules.iter().any(|r| r["action"] == "divert"));

    // without its hand-over rule a triaged non-police matter cannot be diverted
    let (_, i) = command.post("/api/v1/incidents", json!({"channel": "12345", "description": "小区路灯不亮"})).await;
    let path = format!("/api/v1/incidents/{}/transitions", i["id"]);
    let (s, v) = command.post(&path, json!({"action": "triage", "police": false})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let kept: Vec<_> = rules.iter().filter(|r| r["action"] != "divert").cloned().collect();
    assert_eq!(
        code(&command.put("/api/v1/workflows/incident", json!({"states": wf["states"], "rules": kept})).await.1),
        "forbidden"
    );
    let (s, v) = admin.put("/api/v1/workflows/incident", json!({"states": wf["states"], "rules": kept})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = command.post(&path, json!({"action": "divert", "agency": HOTLINE})).await;
    assert!(["validation_failed", "invalid_transition"].contains(&code(&v)), "{s} {v}");

    // a state incidents are still in cannot be dropped; nothing changes
    let states: Vec<_> = wf["states"].as_array().unwrap().iter().filter(|s| s["state"] != "triaged").cloned().collect();
    let rules_wo: Vec<_> = kept.iter().filter(|r| r["from"] != "triaged" && r["to"] != "triaged").cloned().collect();
    let (s, v) = admin.put("/api/v1/workflows/incident", json!({"states": states, "rules": rules_wo})).await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("states")),
        "{v}"
    );
    assert!(v["error"]["fields"][0]["message"].as_str().unwrap().contains("triaged"));

    // the admin page shows each workflow and saves an edit made as JSON
    let (c, csrf) = page_session(&app, "admin").await;
    let html = c.get(app.url("/admin/workflow?name=incident")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"wf-tab-incident\"") && html.contains("wf-definition"), "{html}");
    assert!(!html.contains("<code>divert</code>"), "the table as saved");
    let post = |definition: String| {
        c.post(app.url("/admin/workflow/incident"))
            .header("x-csrf-token", &csrf)
            .header("hx-request", "true")
            .form(&[("definition", definition)])
            .send()
    };
    let r = post("{\"states\": [".into()).await.unwrap();
    assert!(r.text().await.unwrap().contains("不是有效的JSON"));
    let r = post(json!({"states": wf["states"], "rules": rules}).to_string()).await.unwrap();
    assert_eq!(r.headers()["hx-redirect"], "/admin/workflow?name=incident");
    let (s, v) = command.post(&path, json!({"action": "divert", "agency": HOTLINE})).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("diverted")), "{v}");
    let (_, audit) = admin.get("/api/v1/audit?object_type=workflow").await;
    let edits = audit["items"].as_array().unwrap().iter().filter(|a| a["action"] == "replace").count();
    assert_eq!(edits, 2, "the two edits are audited: {audit}");
    app.stop().await;
}

/// An HTTPS listener for `axum::serve`: each connection's TLS handshake is
/// finished before it is handed over; a failed handshake is dropped.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    tls: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else { continue };
            if let Ok(tls) = self.tls.accept(tcp).await {
                return (tls, addr);
            }
        }
    }
    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// An intranet CA (its certificate as PEM) and a receiver's TLS settings
/// with a certificate it signed for 127.0.0.1.
fn intranet_ca_and_receiver() -> (String, tokio_rustls::rustls::ServerConfig) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "某市公安局内网根证书");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let cfg = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    (ca_cert.pem(), cfg)
}

#[tokio::test]
async fn hand_overs_reach_an_https_receiver_signed_by_an_intranet_ca() {
    let (ca_pem, tls) = intranet_ca_and_receiver();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let rx = Receiver::default();
    let listener = TlsListener { tcp, tls: tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(tls)) };
    let server = tokio::spawn(
        axum::serve(
            listener,
            axum::Router::new().route("/orders", axum::routing::post(receive)).with_state(rx.clone()),
        )
        .into_future(),
    );
    let url = format!("https://127.0.0.1:{port}/orders");
    // without the intranet CA the receiver's certificate is not trusted: nothing is sent in the clear instead
    let untrusted = zhufang_web::state::Webhook { url: url.clone(), secret: SECRET.into(), extra_root_pem: None };
    let err = zhufang_web::outbox::client(&untrusted).unwrap().post(&url).body("{}").send().await.unwrap_err();
    assert!(err.is_connect() || err.is_request(), "{err:?}");
    assert!(zhufang_web::outbox::check_ca_pem(b"not a certificate").is_err());

    let pem = ca_pem.clone().into_bytes();
    let app = TestApp::spawn_with(move |s| {
        s.web.webhook =
            Some(zhufang_web::state::Webhook { url: url.clone(), secret: SECRET.into(), extra_root_pem: Some(pem) });
    })
    .await;
    let command = app.login("s1.command").await;
    let (_, i) = command
        .post(
            "/api/v1/incidents",
            json!({"channel": "110", "description": "挪车请求（加密通道）", "type_code": "0304"}),
        )
        .await;
    let path = format!("/api/v1/incidents/{}/transitions", i["id"]);
    command.post(&path, json!({"action": "triage", "police": false})).await;
    let (s, v) = command.post(&path, json!({"action": "divert", "agency": HOTLINE})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let state = &app.running.as_ref().unwrap().state;
    for _ in 0..100 {
        if app.store.outbox_counts().await.unwrap() == (0, 1) {
            break;
        }
        zhufang_web::outbox::deliver_due(state, chrono::Utc::now()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "delivered once over TLS, signature checked");
    assert_eq!(got[0].1["node_name"], "交办");
    assert_eq!(app.store.outbox_counts().await.unwrap(), (0, 1));
    server.abort();
    app.stop().await;
}

#[tokio::test]
async fn address_suggestions_at_intake_come_from_grids_and_earlier_addresses() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let (lat, lon, grid) = inside_s1(&command).await;
    let (_, g) = command.get(&format!("/api/v1/grids?station={S1}")).await;
    let grid_name = g["features"][0]["properties"]["name"].as_str().unwrap().to_string();
    for (k, address) in ["滨江路88号", "滨江路88号", "滨江路9号", "文峰路1号"].iter().enumerate() {
        let body = json!({"channel": "110", "description": format!("第{k}起"), "address": address,
                          "location": {"lat": lat + k as f64 * 1e-4, "lon": lon}});
        assert_eq!(command.post("/api/v1/incidents", body).await.0, StatusCode::CREATED);
    }
    // an address given twice comes first, at its latest point
    let (s, v) = command.get("/api/v1/incidents/places?q=滨江路").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let got: Vec<(&str, &str, i64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["label"].as_str().unwrap(), p["kind"].as_str().unwrap(), p["uses"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, [("滨江路88号", "address", 2), ("滨江路9号", "address", 1)], "{v}");
    assert!((v[0]["lat"].as_f64().unwrap() - (lat + 1e-4)).abs() < 1e-9, "the latest point: {v}");
    // a grid by its name, at a point inside it (it locates to that grid)
    let stem: String = grid_name.chars().take(2).collect();
    let (_, v) = command.get(&format!("/api/v1/incidents/places?q={stem}")).await;
    let hit = v.as_array().unwrap().iter().find(|p| p["kind"] == "grid").unwrap_or_else(|| panic!("{stem}: {v}"));
    assert!(hit["label"].as_str().unwrap().starts_with(&grid_name), "{hit}");
    let at = format!("/api/v1/grids/locate?lat={}&lon={}", hit["lat"], hit["lon"]);
    assert_eq!(command.get(&at).await.1["grid"]["code"], grid.as_str());
    // limits, bounds, jurisdiction, roles
    assert_eq!(command.get("/api/v1/incidents/places?q=滨江路&limit=1").await.1.as_array().unwrap().len(), 1);
    assert_eq!(command.get("/api/v1/incidents/places?q=").await.1, json!([]));
    let long = "路".repeat(51);
    let (s, v) = command.get(&format!("/api/v1/incidents/places?q={long}")).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("q")));
    let (s, v) = command.get("/api/v1/incidents/places?q=x&limit=many").await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"), "{v}");
    let other = app.login("s2.command").await;
    let (_, v) = other.get("/api/v1/incidents/places?q=滨江路").await;
    assert!(
        v.as_array().unwrap().iter().all(|p| p["kind"] != "address"),
        "another station's addresses stay there: {v}"
    );
    let hotline = app.login("p.12345").await;
    assert_eq!(code(&hotline.get("/api/v1/incidents/places?q=滨江").await.1), "forbidden");
    app.stop().await;
}

#[tokio::test]
async fn the_list_filters_by_type_class_severity_and_station() {
    const S2: &str = "361202520000";
    let app = TestApp::spawn().await;
    let s1 = app.login("s1.command").await;
    let s2 = app.login("s2.command").await;
    let analyst = app.login("analyst").await;
    for (api, station, type_code, severity) in
        [(&s1, S1, "0201", 1), (&s1, S1, "0207", 2), (&s1, S1, "0801", 2), (&s2, S2, "0201", 3)]
    {
        let body = json!({"channel": "110", "description": format!("{type_code} 筛选"), "station": station,
                          "type_code": type_code, "severity": severity});
        assert_eq!(api.post("/api/v1/incidents", body).await.0, StatusCode::CREATED);
    }
    let total = |v: Value| v["total"].as_i64().unwrap();
    // a class takes all its types; a type only itself
    assert_eq!(total(s1.get("/api/v1/incidents?type_code=02").await.1), 2);
    assert_eq!(total(s1.get("/api/v1/incidents?type_code=0207").await.1), 1);
    assert_eq!(total(s1.get("/api/v1/incidents?severity=2").await.1), 2);
    assert_eq!(total(s1.get("/api/v1/incidents?type_code=02&severity=2").await.1), 1);
    // the city sees both stations, and narrows to one
    assert_eq!(total(analyst.get("/api/v1/incidents?type_code=0201").await.1), 2);
    let (_, v) = analyst.get(&format!("/api/v1/incidents?type_code=0201&station={S2}")).await;
    assert_eq!((v["total"].as_i64(), v["items"][0]["station_code"].as_str()), (Some(1), Some(S2)));
    // a station outside the caller's jurisdiction, and bad values, are refused by field
    for (q, field) in [
        (format!("station={S2}"), "station"),
        ("station=nope".to_string(), "station"),
        ("severity=4".to_string(), "severity"),
        ("type_code=0x".to_string(), "type_code"),
    ] {
        let (s, v) = s1.get(&format!("/api/v1/incidents?{q}")).await;
        assert_eq!(
            (s, v["error"]["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{q}"
        );
    }
    // the page has the same filters, the station one only for who sees several
    let (c, _) = page_session(&app, "analyst").await;
    let html =
        c.get(app.url(&format!("/incidents?type_code=02&station={S1}"))).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"incident-row\"").count(), 2, "{html}");
    assert!(html.contains("data-testid=\"incident-station-filter\""));
    let export = html.split("export.xlsx?").nth(1).and_then(|s| s.split('"').next()).unwrap();
    assert!(
        export.contains("type_code=02") && export.contains(&format!("station={S1}")),
        "the export keeps the filters: {export}"
    );
    let (c, _) = page_session(&app, "s1.command").await;
    let html = c.get(app.url("/incidents?severity=2")).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"incident-row\"").count(), 2);
    assert!(!html.contains("data-testid=\"incident-station-filter\""), "one station: no station filter");
    let r = c.get(app.url("/incidents?severity=9")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}
