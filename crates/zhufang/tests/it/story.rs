//! The task loop through the JSON API, on SQLite or PostgreSQL.

use crate::harness::{TestApp, body, code};
use reqwest::StatusCode;
use serde_json::json;

const S1: &str = "361202510000";
/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01, 0x7A, 0x5E, 0xAB, 0x3F, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

#[tokio::test]
async fn whole_loop_with_rework_photos_timeline_and_audit() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let officer = app.login("s1.officer").await;
    let leader = app.login("s1.leader").await;

    let id = command.create_task("滨江路菜市场消防检查", S1).await;
    assert_eq!(command.state(id).await, "draft");
    let (s, v) = command.act(id, json!({"action": "dispatch", "assignee": "s1.officer", "note": "请今日完成"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "dispatched");
    assert_eq!(v["assignee"], "s1.officer");
    assert!(v["deadline_at"].is_string(), "accept clock runs: {v}");

    // the officer is told
    let (_, inbox) = officer.get("/api/v1/notifications").await;
    assert!(inbox["unread"].as_i64().unwrap() >= 1, "{inbox}");
    assert_eq!(inbox["items"][0]["kind"], "assigned");

    assert_eq!(officer.act(id, json!({"action": "accept"})).await.1["state"], "accepted");
    assert_eq!(officer.act(id, json!({"action": "start"})).await.1["state"], "in_progress");

    // feedback with a photo (multipart) and a location
    let form = reqwest::multipart::Form::new()
        .text("action", "submit_feedback")
        .text("note", "已检查，灭火器过期2具，已督促更换")
        .text("lat", "28.0101")
        .text("lon", "116.3002")
        .part(
            "photos",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("现场.png").mime_str("image/png").unwrap(),
        );
    let (s, v) = officer.act_multipart(id, form).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "feedback_submitted");
    assert_eq!(v["feedback_lat"], 28.0101);

    // return once (rework), then feedback again, then evaluate
    let (s, v) = leader.act(id, json!({"action": "return"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a return needs a reason: {v}");
    assert_eq!(v["error"]["fields"][0]["field"], "note");
    let (s, v) = leader.act(id, json!({"action": "return", "note": "照片不清晰，请补拍"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "in_progress");
    assert_eq!(v["rework_count"], 1);
    let (_, inbox) = officer.get("/api/v1/notifications?unread=true").await;
    assert!(inbox["items"].as_array().unwrap().iter().any(|n| n["kind"] == "returned"), "{inbox}");
    assert_eq!(
        officer.act(id, json!({"action": "submit_feedback", "note": "已补拍并复查"})).await.1["state"],
        "feedback_submitted"
    );
    let (s, v) = leader.act(id, json!({"action": "evaluate", "score": 7})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(code(&v), "validation_failed");
    let (s, v) = leader.act(id, json!({"action": "evaluate", "score": 5, "note": "处置到位"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "evaluated");
    assert_eq!(v["score"], 5);
    assert!(v["closed_at"].is_string());

    // the timeline has every step, in order
    let (_, d) = leader.get(&format!("/api/v1/tasks/{id}")).await;
    let actions: Vec<&str> = d["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["create", "dispatch", "accept", "start", "submit_feedback", "return", "submit_feedback", "evaluate"]
    );
    assert!(d["actions"].as_array().unwrap().is_empty(), "closed: {d}");

    // the photo is served to the leader, not to another station
    let att = d["timeline"][4]["attachments"][0]["id"].as_i64().unwrap();
    let r =
        leader.c.get(app.url(&format!("/api/v1/attachments/{att}"))).bearer_auth(&leader.token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    let other = app.login("s2.officer").await;
    let r = other.c.get(app.url(&format!("/api/v1/attachments/{att}"))).bearer_auth(&other.token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // every change is in the chain, and the chain holds
    match app.store.verify_audit().await.unwrap() {
        zhufang_store::ChainStatus::Intact { records } => assert!(records >= 8),
        other => panic!("{other:?}"),
    }
    app.stop().await;
}

#[tokio::test]
async fn refusals_permissions_and_errors() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let officer = app.login("s1.officer").await;
    let aux = app.login("s1.aux").await;
    let other = app.login("s2.officer").await;
    let other_cmd = app.login("s2.command").await;

    let id = command.create_task("樟树村防溺水巡查", S1).await;
    // not visible to another station: 404, never a hint that it exists
    let (s, v) = other.get(&format!("/api/v1/tasks/{id}")).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, _) = other_cmd.act(id, json!({"action": "dispatch", "assignee": "s2.officer"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = other.get("/api/v1/tasks?q=樟树村防溺水巡查").await;
    assert_eq!(list["total"], 0);
    // another station cannot create in station 1
    let (s, v) =
        other_cmd.post("/api/v1/tasks", json!({"title": "x", "catalogue_code": "ZF-XF-001", "org_unit": S1})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "org_unit");
    // officers do not create tasks
    let (s, v) =
        officer.post("/api/v1/tasks", json!({"title": "x", "catalogue_code": "ZF-XF-001", "org_unit": S1})).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    // bad fields: all reported at once
    let (s, v) = command
        .post(
            "/api/v1/tasks",
            json!({"title": "", "catalogue_code": "NOPE", "org_unit": S1, "location": {"lat": 95.0, "lon": 10.0}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"location.lat"), "{v}");
    let (s, v) = command.post("/api/v1/tasks", json!({"title": "", "catalogue_code": "NOPE", "org_unit": S1})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"title") && fields.contains(&"catalogue_code"), "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "Chinese message"
    );
    // malformed JSON is a clear 400
    let r = command
        .c
        .post(app.url("/api/v1/tasks"))
        .bearer_auth(&command.token)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    let (s, v) = body(r).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"));
    assert!(v["error"]["message"].as_str().unwrap().starts_with("请求内容不是有效的JSON"), "{v}");
    // a field of the wrong type names the field, in Chinese
    let (s, v) = command.post("/api/v1/tasks", json!({"title": 5})).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"));
    assert!(v["error"]["message"].as_str().unwrap().contains("title"), "{v}");
    // so does a path or query parameter that does not parse, and a wrong method: our error, never axum's text
    let (s, v) = command.get("/api/v1/tasks/abc").await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"), "{v}");
    assert_eq!(v["error"]["message"], "地址中的参数有误：“abc”格式不对");
    let (s, v) = command.get("/api/v1/incidents?page=x").await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().starts_with("查询参数有误：page"), "{v}");
    let r = command.c.delete(app.url("/api/v1/tasks")).bearer_auth(&command.token).send().await.unwrap();
    let allow = r.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (s, v) = body(r).await;
    assert_eq!((s, code(&v)), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"), "{v}");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let (pc, _) = crate::harness::page_session(&app, "s1.command").await;
    let r = pc.get(app.url("/tasks/abc")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("地址中的参数有误"), "the error page");

    // 422 for a missing assignee, 422 for someone of another station
    let (s, v) = command.act(id, json!({"action": "dispatch"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["fields"][0]["field"], "assignee");
    let (s, v) = command.act(id, json!({"action": "dispatch", "assignee": "s2.officer"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // an action the state does not allow: 409 invalid_transition
    let (s, v) = command.act(id, json!({"action": "evaluate", "score": 5})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "invalid_transition"));
    let (s, v) = command.act(id, json!({"action": "fly"})).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));

    assert_eq!(command.act(id, json!({"action": "dispatch", "assignee": "s1.officer"})).await.0, StatusCode::OK);
    // the station leader sees it but is not the assignee: 403
    let leader = app.login("s1.leader").await;
    let (s, v) = leader.act(id, json!({"action": "accept"})).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    // a district auxiliary does not see a station-level task handed to someone else
    assert_eq!(aux.get(&format!("/api/v1/tasks/{id}")).await.0, StatusCode::NOT_FOUND);
    // refuse needs a reason, goes back to the dispatcher
    assert_eq!(officer.act(id, json!({"action": "refuse"})).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = officer.act(id, json!({"action": "refuse", "note": "本人本周轮休"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "refused");
    assert!(v["assignee_id"].is_null());
    let (_, inbox) = command.get("/api/v1/notifications").await;
    assert_eq!(inbox["items"][0]["kind"], "refused");
    // re-dispatch to the auxiliary, who accepts; reassign back; cancel
    assert_eq!(command.act(id, json!({"action": "dispatch", "assignee": "s1.aux"})).await.1["state"], "dispatched");
    assert_eq!(aux.act(id, json!({"action": "accept"})).await.1["state"], "accepted");
    let (s, v) =
        command.act(id, json!({"action": "reassign", "assignee": "s1.officer", "note": "改由社区民警办理"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["state"].as_str(), v["assignee"].as_str()), (Some("dispatched"), Some("s1.officer")));
    let (s, v) = command.act(id, json!({"action": "cancel", "note": "重复派单"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "cancelled");
    assert!(v["deadline_at"].is_null());
    let (s, v) = command.act(id, json!({"action": "dispatch", "assignee": "s1.officer"})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "invalid_transition"));
    app.stop().await;
}

#[tokio::test]
async fn concurrent_actions_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let leader = app.login("s1.leader").await;
    for round in 0..5 {
        let id = command.create_task(&format!("并发测试{round}"), S1).await;
        let (_, t) = command.get(&format!("/api/v1/tasks/{id}")).await;
        let v = t["version"].as_i64().unwrap();
        let a = command.act(id, json!({"action": "dispatch", "assignee": "s1.officer", "version": v}));
        let b = leader.act(id, json!({"action": "dispatch", "assignee": "s1.aux", "version": v}));
        let ((sa, va), (sb, vb)) = tokio::join!(a, b);
        let mut codes = [sa.as_u16(), sb.as_u16()];
        codes.sort();
        assert_eq!(codes, [200, 409], "{va} {vb}");
        let loser = if sa == StatusCode::CONFLICT { va } else { vb };
        assert_eq!(code(&loser), "conflict");
        // the timeline has exactly one dispatch
        let (_, d) = command.get(&format!("/api/v1/tasks/{id}")).await;
        assert_eq!(d["timeline"].as_array().unwrap().iter().filter(|e| e["action"] == "dispatch").count(), 1);
    }
    // a stale version is a conflict even when the action would be allowed
    let id = command.create_task("旧版本", S1).await;
    let (s, v) = command.act(id, json!({"action": "dispatch", "assignee": "s1.officer", "version": 99})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "conflict"));
    app.stop().await;
}

#[tokio::test]
async fn ledger_filters_paging_overdue_board_and_export() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let mut ids = vec![];
    for i in 0..7 {
        ids.push(command.create_task(&format!("台账任务{i}"), S1).await);
    }
    command.act(ids[0], json!({"action": "dispatch", "assignee": "s1.officer"})).await;
    command.act(ids[1], json!({"action": "dispatch", "assignee": "s1.aux"})).await;
    let (_, p) = command.get("/api/v1/tasks?per_page=3&page=2").await;
    assert_eq!(p["total"], 7);
    assert_eq!(p["items"].as_array().unwrap().len(), 3);
    assert_eq!(p["page"], 2);
    let (_, p) = command.get("/api/v1/tasks?state=dispatched").await;
    assert_eq!(p["total"], 2);
    let (_, p) = command.get("/api/v1/tasks?assignee=s1.aux").await;
    assert_eq!(p["total"], 1);
    let (_, p) = command.get("/api/v1/tasks?q=台账任务3").await;
    assert_eq!(p["total"], 1);
    let today = zhufang_domain::calendar::local_date(chrono::Utc::now());
    let (_, p) = command.get(&format!("/api/v1/tasks?from={today}&to={today}&catalogue_code=ZF-XF-001")).await;
    assert_eq!(p["total"], 7);
    let (s, v) = command.get("/api/v1/tasks?from=yesterday").await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("from")));

    // make one overdue: dispatch it through the service with a clock in the past
    let wf = app.store.workflow("task").await.unwrap();
    let cal = app.store.calendar().await.unwrap();
    let (cmd_user, _) = app.store.user_by_username("s1.command").await.unwrap().unwrap();
    let past = chrono::Utc::now() - chrono::Duration::days(3);
    let input = zhufang_store::service::TransitionInput {
        action: "dispatch".into(),
        assignee: Some("s1.officer".into()),
        ..Default::default()
    };
    zhufang_store::service::transition(app.store.as_ref(), &wf, &cal, &cmd_user, ids[2], input, past).await.unwrap();
    let (_, p) = command.get("/api/v1/tasks?overdue=1").await;
    assert_eq!(p["total"], 1);
    assert_eq!(p["items"][0]["id"], ids[2]);
    assert_eq!(p["items"][0]["due_status"], "overdue");
    // the scan notifies the assignee and the station leader, once
    let (soon, overdue) = zhufang_store::service::scan_deadlines(app.store.as_ref(), chrono::Utc::now()).await.unwrap();
    assert_eq!((soon, overdue), (0, 1));
    assert_eq!(zhufang_store::service::scan_deadlines(app.store.as_ref(), chrono::Utc::now()).await.unwrap(), (0, 0));
    let leader = app.login("s1.leader").await;
    let (_, inbox) = leader.get("/api/v1/notifications").await;
    assert!(
        inbox["items"].as_array().unwrap().iter().any(|n| n["kind"] == "overdue" && n["task_id"] == ids[2]),
        "{inbox}"
    );
    let officer = app.login("s1.officer").await;
    let (_, inbox) = officer.get("/api/v1/notifications").await;
    assert!(inbox["items"].as_array().unwrap().iter().any(|n| n["kind"] == "overdue"));
    let (s, v) = officer.post("/api/v1/notifications/read", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["marked"].as_u64().unwrap() >= 2);
    assert_eq!(officer.get("/api/v1/notifications").await.1["unread"], 0);

    // export: an xlsx (zip) of the filtered ledger
    let r = command
        .c
        .get(app.url("/api/v1/tasks/export.xlsx?state=dispatched"))
        .bearer_auth(&command.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "zip container");
    app.stop().await;
}

#[tokio::test]
async fn workflow_and_calendar_are_data() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let command = app.login("s1.command").await;
    let officer = app.login("s1.officer").await;
    let (s, wf) = admin.get("/api/v1/workflows/task").await;
    assert_eq!(s, StatusCode::OK);
    let rules = wf["rules"].as_array().unwrap().clone();
    assert!(rules.iter().any(|r| r["action"] == "refuse"));
    // remove refusals: the engine follows the table
    let kept: Vec<_> = rules.iter().filter(|r| r["action"] != "refuse").cloned().collect();
    let (s, v) = admin.put("/api/v1/workflows/task", json!({"states": wf["states"], "rules": kept})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = command.create_task("流程配置测试", S1).await;
    command.act(id, json!({"action": "dispatch", "assignee": "s1.officer"})).await;
    let (s, v) = officer.act(id, json!({"action": "refuse", "note": "x"})).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "no longer a known action");
    // an invalid table is refused and changes nothing
    let mut bad = rules.clone();
    bad[0]["to"] = json!("nowhere");
    let (s, _) = admin.put("/api/v1/workflows/task", json!({"states": wf["states"], "rules": bad})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // only admins edit
    let (s, _) = command.put("/api/v1/workflows/task", json!({"states": wf["states"], "rules": rules})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = admin.put("/api/v1/workflows/task", json!({"states": wf["states"], "rules": rules})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(officer.act(id, json!({"action": "refuse", "note": "x"})).await.0, StatusCode::OK);

    // the calendar: seeded official days, editable
    let (_, days) = admin.get("/api/v1/calendar").await;
    let days = days.as_array().unwrap();
    assert!(days.iter().any(|d| d["day"] == "2026-10-01" && d["kind"] == "holiday"));
    assert!(days.iter().any(|d| d["day"] == "2026-10-10" && d["kind"] == "workday"));
    assert!(days.iter().any(|d| d["day"].as_str().unwrap().starts_with("2027-")));
    let (s, _) = admin.put("/api/v1/calendar/2026-12-31", json!({"kind": "holiday", "name": "测试假日"})).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!app.store.calendar().await.unwrap().is_workday(chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()));
    let (s, v) = admin.put("/api/v1/calendar/2026-13-01", json!({"kind": "holiday"})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("day")));
    app.stop().await;
}

#[tokio::test]
async fn partner_agencies_see_only_what_was_handed_to_them_and_analysts_only_read() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let handed = command.create_task("占道经营移交12345处理", S1).await;
    let kept = command.create_task("辖区内部巡查", S1).await;
    let (s, v) = command.act(handed, json!({"action": "dispatch", "assignee": "p.12345"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let partner = app.login("p.12345").await;
    let (_, list) = partner.get("/api/v1/tasks").await;
    let ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![handed]);
    assert_eq!(partner.get(&format!("/api/v1/tasks/{kept}")).await.0, StatusCode::NOT_FOUND);
    // the agency signs for it (accepts), handles it and reports back
    assert_eq!(partner.act(handed, json!({"action": "accept"})).await.1["state"], "accepted");
    assert_eq!(partner.act(handed, json!({"action": "start"})).await.1["state"], "in_progress");
    let (s, v) = partner.act(handed, json!({"action": "submit_feedback", "note": "已交城管中队处理完毕"})).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("feedback_submitted")));
    assert_eq!(partner.get("/api/v1/org-units").await.1.as_array().unwrap().len(), 1, "its own unit only");

    // the bureau analyst reads every station but acts on nothing
    let analyst = app.login("analyst").await;
    let other = app.login("s2.command").await;
    let s2_task = other.create_task("樟林所任务", "361202520000").await;
    let (_, all) = analyst.get("/api/v1/tasks").await;
    assert_eq!(all["total"], 3);
    assert!(all["items"].as_array().unwrap().iter().any(|t| t["id"] == s2_task));
    let (s, v) = analyst.act(kept, json!({"action": "dispatch", "assignee": "s1.officer"})).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    let (s, _) =
        analyst.post("/api/v1/tasks", json!({"title": "x", "catalogue_code": "ZF-XF-001", "org_unit": S1})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // the sidebar offers each what is theirs: an agency its hand-overs, not the police's areas; figures to leaders and analysts
    let nav = |html: &str, id: &str| html.contains(&format!("data-testid=\"nav-{id}\""));
    for (user, shown, hidden) in [
        (
            "p.12345",
            vec!["tasks", "inbox", "notices", "hazards"],
            vec!["grids", "map", "duty", "volunteers", "incidents", "incident-figures"],
        ),
        (
            "s1.officer",
            vec!["tasks", "map", "duty", "volunteers", "incidents"],
            vec!["inbox", "incident-figures", "catalogue"],
        ),
        ("s1.leader", vec!["map", "inbox", "incident-figures", "dispute-figures", "hazard-figures"], vec!["catalogue"]),
        ("analyst", vec!["map", "incident-figures"], vec!["new-task"]),
    ] {
        let (c, _) = crate::harness::page_session(&app, user).await;
        let html = c.get(app.url("/tasks")).send().await.unwrap().text().await.unwrap();
        for id in shown {
            assert!(nav(&html, id), "{user} sees {id}");
        }
        for id in hidden {
            assert!(!nav(&html, id), "{user} does not see {id}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn nobody_evaluates_their_own_work() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let leader = app.login("s1.leader").await;
    let id = command.create_task("所领导带班检查", S1).await;
    command.act(id, json!({"action": "dispatch", "assignee": "s1.leader"})).await;
    leader.act(id, json!({"action": "accept"})).await;
    leader.act(id, json!({"action": "start"})).await;
    assert_eq!(
        leader.act(id, json!({"action": "submit_feedback", "note": "已检查"})).await.1["state"],
        "feedback_submitted"
    );
    let (s, v) = leader.act(id, json!({"action": "evaluate", "score": 5})).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    let (s, v) = leader.act(id, json!({"action": "return", "note": "自己退回"})).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    let (_, d) = leader.get(&format!("/api/v1/tasks/{id}")).await;
    assert!(d["actions"].as_array().unwrap().is_empty(), "{d}");
    // the branch leader above evaluates it
    let branch = app.login("b1.leader").await;
    let (s, v) = branch.act(id, json!({"action": "evaluate", "score": 4})).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("evaluated")), "{v}");
    app.stop().await;
}

#[tokio::test]
async fn due_soon_is_flagged_and_notified_once() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let id = command.create_task("即将到期测试", S1).await;
    // ZF-XF-001 gives 24 hours to accept: dispatched 21 hours ago is 87.5 % through
    let wf = app.store.workflow("task").await.unwrap();
    let cal = app.store.calendar().await.unwrap();
    let (cmd_user, _) = app.store.user_by_username("s1.command").await.unwrap().unwrap();
    let then = chrono::Utc::now() - chrono::Duration::hours(21);
    let input = zhufang_store::service::TransitionInput {
        action: "dispatch".into(),
        assignee: Some("s1.officer".into()),
        ..Default::default()
    };
    zhufang_store::service::transition(app.store.as_ref(), &wf, &cal, &cmd_user, id, input, then).await.unwrap();
    let (_, p) = command.get("/api/v1/tasks?due_soon=1").await;
    assert_eq!(p["total"], 1);
    assert_eq!(p["items"][0]["due_status"], "due_soon");
    assert_eq!(command.get("/api/v1/tasks?overdue=1").await.1["total"], 0);
    let now = chrono::Utc::now();
    assert_eq!(zhufang_store::service::scan_deadlines(app.store.as_ref(), now).await.unwrap(), (1, 0));
    assert_eq!(zhufang_store::service::scan_deadlines(app.store.as_ref(), now).await.unwrap(), (0, 0));
    let officer = app.login("s1.officer").await;
    let (_, inbox) = officer.get("/api/v1/notifications").await;
    assert_eq!(inbox["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "due_soon").count(), 1);
    // accepting starts a new clock, which may be reported again later
    assert_eq!(officer.act(id, json!({"action": "accept"})).await.1["state"], "accepted");
    assert_eq!(command.get("/api/v1/tasks?due_soon=1").await.1["total"], 0);
    app.stop().await;
}

#[tokio::test]
async fn oversized_photos_are_refused_and_leave_nothing() {
    let app = TestApp::spawn_with(|s| s.web.max_upload_bytes = 2_000).await;
    let command = app.login("s1.command").await;
    let officer = app.login("s1.officer").await;
    let id = command.create_task("大文件测试", S1).await;
    command.act(id, json!({"action": "dispatch", "assignee": "s1.officer"})).await;
    officer.act(id, json!({"action": "accept"})).await;
    officer.act(id, json!({"action": "start"})).await;
    let mut big = PNG.to_vec();
    big.resize(5_000, 0);
    let form = reqwest::multipart::Form::new()
        .text("action", "submit_feedback")
        .text("note", "大照片")
        .part("photos", reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("ok.png"))
        .part("photos", reqwest::multipart::Part::bytes(big).file_name("big.png"));
    let (s, v) = officer.act_multipart(id, form).await;
    assert_eq!((s, code(&v)), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    assert_eq!(officer.state(id).await, "in_progress");
    let files = crate::harness::files_under(&app.dir.join("uploads"));
    assert_eq!(files, 0, "the first, accepted photo was removed too");
    app.stop().await;
}
