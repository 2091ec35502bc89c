//! Disputes: registering (from the field and from an incident), the colour
//! rising with the facts and the rules that fired, the workflow from
//! acceptance to archive with escalation and sign-for, sessions, relapse,
//! masked parties with audited reads, editable rules, visibility, the map
//! layer and the pages.

use crate::harness::{TestApp, code, page_session};
use reqwest::StatusCode;
use serde_json::{Value, json};

const S1: &str = "361202510000";
const SIFA1: &str = "361202001100";

/// A point inside one of station 1's grids (the mean of a convex cell's corners).
async fn inside_s1(api: &crate::harness::Api) -> (f64, f64) {
    let (_, fc) = api.get(&format!("/api/v1/grids?station={S1}")).await;
    let ring = fc["features"][0]["geometry"]["coordinates"][0].as_array().unwrap().clone();
    let n = (ring.len() - 1) as f64;
    let (lon, lat) = ring[..ring.len() - 1]
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p[0].as_f64().unwrap() / n, y + p[1].as_f64().unwrap() / n));
    (lat, lon)
}

fn fired(d: &Value) -> Vec<String> {
    d["fired_rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_dispute_from_registration_to_archive() {
    let app = TestApp::spawn().await;
    let officer = app.login("s1.officer").await;
    let leader = app.login("s1.leader").await;
    let sifa = app.login("p.sifa1").await;
    let (lat, lon) = inside_s1(&officer).await;
    let (s, d) = officer
        .post(
            "/api/v1/disputes",
            json!({
                "title": "楼上漏水邻里纠纷", "description": "楼上卫生间漏水，两家多次争吵", "category_code": "02",
                "source": "patrol", "location": {"lat": lat, "lon": lon}, "address": "幸福路12号",
                "parties": [
                    {"side": "applicant", "kind": "natural", "name": "张三丰", "phone": "13800001111"},
                    {"side": "respondent", "kind": "natural", "name": "李四", "phone": "13900002222"}
                ]
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let id = d["id"].as_i64().unwrap();
    let path = format!("/api/v1/disputes/{id}/transitions");
    assert_eq!((d["state"].as_str(), d["colour"].as_str()), (Some("pending_accept"), Some("yellow")));
    assert_eq!(fired(&d), ["family_neighbour"]);
    assert!(d["number"].as_str().unwrap().starts_with("JF"));
    assert!(d["grid_id"].is_i64(), "routed to its grid");
    assert_eq!(d["people_involved"], 2, "default: the parties");
    // parties masked; nothing whole in the JSON
    assert_eq!(d["parties"][0]["name_masked"], "张**");
    assert_eq!(d["parties"][0]["phone_masked"], "138****1111");
    assert!(!d.to_string().contains("13800001111") && !d.to_string().contains("张三丰"));

    // facts raise the colour, with the rules that fired; a rise tells the leaders
    let (_, d) =
        officer.post(&path, json!({"action": "update", "note": "双方亲属也加入争吵", "people_involved": 6})).await;
    assert_eq!(d["colour"], "orange", "{d}");
    assert!(fired(&d).contains(&"people_5".to_string()));
    let (_, inbox) = leader.get("/api/v1/notifications").await;
    assert!(inbox.to_string().contains("预警升为橙色"), "{inbox}");
    let (_, d) = officer.post(&path, json!({"action": "update", "note": "李四扬言要报复张家"})).await;
    assert_eq!((d["colour"].as_str(), fired(&d)[0].as_str()), (Some("red"), "threat_words"));
    // the board: open red and orange ones, oldest first
    let (_, board) = leader.get("/api/v1/disputes?board=true").await;
    assert_eq!((board["total"].as_i64(), board["items"][0]["id"].as_i64()), (Some(1), Some(id)));

    // accept with a class (B: the town's business from the start)
    let (s, v) = officer.post(&path, json!({"action": "accept"})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("class")));
    let (s, v) = officer.post(&path, json!({"action": "accept", "class": "D"})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("class")));
    let (_, d) = officer.post(&path, json!({"action": "accept", "class": "B"})).await;
    assert_eq!(
        (d["state"].as_str(), d["class"].as_str(), d["level"].as_i64()),
        (Some("pending_mediation"), Some("B"), Some(2))
    );
    assert_eq!(code(&officer.post(&path, json!({"action": "succeed", "note": "x"})).await.1), "invalid_transition");
    let (_, d) = officer.post(&path, json!({"action": "start"})).await;
    assert_eq!(d["state"], "mediating");
    // a session: checked, recorded; a failure counts
    let (s, v) =
        officer.post(&path, json!({"action": "session", "session": {"mediators": "", "outcome": "failed"}})).await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("session.mediators"))
    );
    let (_, d) = officer
        .post(&path, json!({"action": "session", "session": {"mediators": "王警官、社区主任", "place": "社区调解室", "outcome": "failed"}}))
        .await;
    assert_eq!((d["failed_mediations"].as_i64(), d["sessions"].as_array().map(Vec::len)), (Some(1), Some(1)));

    // escalation to the county with the 司法所 receiving it, which signs for it
    assert_eq!(code(&sifa.get(&format!("/api/v1/disputes/{id}")).await.1), "not_found");
    let (s, v) = officer.post(&path, json!({"action": "escalate", "note": "镇级调解未果", "level": 1})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("level")));
    let (_, d) = officer
        .post(&path, json!({"action": "escalate", "note": "镇级调解未果，需县级牵头", "level": 3, "to_org": SIFA1}))
        .await;
    assert_eq!((d["level"].as_i64(), d["level_org_code"].as_str()), (Some(3), Some(SIFA1)), "{d}");
    assert!(d["escalations"][0]["signed_at"].is_null());
    assert!(sifa.get("/api/v1/notifications").await.1.to_string().contains("请签收"));
    assert_eq!(sifa.get("/api/v1/disputes").await.1["total"], 1, "the receiving body sees it");
    let other = app.login("p.sifa2").await;
    assert_eq!(code(&other.post(&path, json!({"action": "sign_for"})).await.1), "not_found");
    let (_, d) = sifa.post(&path, json!({"action": "sign_for"})).await;
    assert!(d["escalations"][0]["signed_at"].is_string(), "{d}");
    assert_eq!(
        code(&sifa.post(&path, json!({"action": "sign_for"})).await.1),
        "validation_failed",
        "nothing left to sign"
    );

    // settled by the 司法所's mediation, then regular follow-up; a relapse reopens it
    // the settling session with its signed agreement (a PDF), checked by content
    let text_file = reqwest::multipart::Part::bytes(b"not a pdf".to_vec()).file_name("协议.pdf");
    let form = reqwest::multipart::Form::new()
        .text("mediators", "司法所调解员")
        .text("outcome", "settled")
        .part("agreement_file", text_file);
    let (s, v) = sifa.post_multipart(&format!("/api/v1/disputes/{id}/sessions"), form).await;
    assert_eq!((s, code(&v)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let form = reqwest::multipart::Form::new()
        .text("mediators", "司法所调解员")
        .text("outcome", "settled")
        .text("agreement", "楼上负责修复防水，赔偿3000元")
        .part("agreement_file", reqwest::multipart::Part::bytes(pdf.clone()).file_name("调解协议书.pdf"));
    let (s, d) = sifa.post_multipart(&format!("/api/v1/disputes/{id}/sessions"), form).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["sessions"].as_array().map(Vec::len), Some(2));
    let fid = d["sessions"][1]["files"][0][0].as_i64().unwrap();
    assert_eq!(d["sessions"][1]["files"][0][1], "调解协议书.pdf");
    let (s, ct, bytes) = officer.get_bytes(&format!("/api/v1/dispute-files/{fid}")).await;
    assert_eq!((s, ct.as_str(), bytes), (StatusCode::OK, "application/pdf", pdf));
    assert_eq!(
        app.login("s2.officer").await.get_bytes(&format!("/api/v1/dispute-files/{fid}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, d) = sifa.post(&path, json!({"action": "succeed", "note": "签订调解协议"})).await;
    assert_eq!(d["state"], "succeeded");
    assert!(d["settled_at"].is_string());
    // follow-up visits on day 7 and 30, dispatched on the task loop to the grid's officer
    let days: Vec<i64> = d["follow_ups"].as_array().unwrap().iter().map(|f| f["day"].as_i64().unwrap()).collect();
    assert_eq!(days, [7, 30], "{d}");
    let task_id = d["follow_ups"][0]["task_id"].as_i64().unwrap();
    let (_, t) = officer.get(&format!("/api/v1/tasks/{task_id}")).await;
    assert_eq!((t["state"].as_str(), t["catalogue_code"].as_str()), (Some("dispatched"), Some("ZF-MD-HF")), "{t}");
    assert_eq!(t["assignee_id"], officer.get("/api/v1/me").await.1["id"], "the grid's officer visits");
    let due = chrono::DateTime::parse_from_rfc3339(t["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        (due.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days(),
        6,
        "a week from now (minus the seconds gone)"
    );
    assert!(officer.get("/api/v1/notifications").await.1.to_string().contains("纠纷回访（第7天）"));
    assert_eq!(
        officer.post(&format!("/api/v1/tasks/{task_id}/transitions"), json!({"action": "accept"})).await.0,
        StatusCode::OK
    );
    let (_, d) = officer.post(&path, json!({"action": "follow"})).await;
    assert_eq!(d["state"], "regular");
    let (_, d) = officer.post(&path, json!({"action": "relapse", "note": "漏水复发，双方再起争执"})).await;
    assert_eq!((d["state"].as_str(), d["relapses"].as_i64()), (Some("pending_mediation"), Some(1)));
    assert!(d["settled_at"].is_null(), "no longer counted as resolved");
    // its follow-up visits are withdrawn (the accepted one too), with the reason
    let states: Vec<&str> = d["follow_ups"].as_array().unwrap().iter().map(|f| f["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["cancelled", "cancelled"], "{d}");
    let (_, t) = officer.get(&format!("/api/v1/tasks/{task_id}")).await;
    let last = t["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "cancel");
    assert!(last["note"].as_str().unwrap().contains("复发，重新调处，原回访取消"), "{last}");
    for (a, body) in [("start", json!({})), ("succeed", json!({"note": "再次调解成功"})), ("follow", json!({}))] {
        let mut b = body;
        b["action"] = json!(a);
        assert_eq!(officer.post(&path, b).await.0, StatusCode::OK, "{a}");
    }
    let (_, d) = officer.get(&format!("/api/v1/disputes/{id}")).await;
    let states: Vec<&str> = d["follow_ups"].as_array().unwrap().iter().map(|f| f["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["cancelled", "cancelled", "dispatched", "dispatched"], "settled again: new visits");
    assert_eq!(code(&officer.post(&path, json!({"action": "archive"})).await.1), "forbidden", "leaders archive");
    let version = leader.get(&format!("/api/v1/disputes/{id}")).await.1["version"].as_i64().unwrap();
    assert_eq!(code(&leader.post(&path, json!({"action": "archive", "version": version - 1})).await.1), "conflict");
    let (_, d) = leader.post(&path, json!({"action": "archive", "version": version})).await;
    assert_eq!((d["state"].as_str(), d["actions"].as_array().map(Vec::len)), (Some("archived"), Some(0)));
    let actions: Vec<&str> = d["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "register", "update", "update", "accept", "start", "session", "escalate", "sign_for", "session", "succeed",
            "follow", "relapse", "start", "succeed", "follow", "archive"
        ]
    );

    // the parties in full: for those who may, and every read is audited
    let pid = d["parties"][0]["id"].as_i64().unwrap();
    let (s, p) = leader.get(&format!("/api/v1/disputes/{id}/parties/{pid}")).await;
    assert_eq!((s, p["name"].as_str(), p["phone"].as_str()), (StatusCode::OK, Some("张三丰"), Some("13800001111")));
    // the ledger's figures and its workbook (no party in it)
    let (_, f) = leader.get("/api/v1/disputes/figures?by=class").await;
    assert_eq!((f["total"]["screened"].as_i64(), f["total"]["resolved"].as_i64()), (Some(1), Some(1)), "{f}");
    assert_eq!(f["total"]["relapse_rate"].as_f64(), Some(1.0));
    assert_eq!((f["rows"][0]["key"].as_str(), f["total"]["county_share"].as_f64()), (Some("B"), Some(1.0)));
    assert_eq!(code(&leader.get("/api/v1/disputes/figures?by=weather").await.1), "validation_failed");
    let (c, _) = page_session(&app, "s1.leader").await;
    let x = c.get(app.url("/api/v1/disputes/export.xlsx?q=漏水")).send().await.unwrap();
    assert_eq!(x.status(), StatusCode::OK);
    let strings = crate::harness::office_part(&x.bytes().await.unwrap(), "xl/sharedStrings.xml");
    assert!(strings.contains(d["number"].as_str().unwrap()) && strings.contains("纠纷编号"));
    assert!(strings.contains("过激言行") && !strings.contains("张三丰") && !strings.contains("13800001111"));
    let html = c.get(app.url("/disputes/figures?by=category")).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"dispute-figure-row\"").count(), 1);
    let aux = app.login("s1.aux").await;
    assert_eq!(code(&aux.get(&format!("/api/v1/disputes/{id}/parties/{pid}")).await.1), "forbidden");
    let (_, audit) = app.login("admin").await.get("/api/v1/audit?object_type=dispute").await;
    assert!(audit.to_string().contains(&format!("read_personal:party:{pid}")), "{audit}");
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

#[tokio::test]
async fn from_an_incident_with_repeat_calls_bad_input_and_scope() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let officer = app.login("s1.officer").await;
    let (lat, lon) = inside_s1(&command).await;
    // two calls from the same phone about the same quarrel
    let mut ids = vec![];
    for text in ["邻居因停车位争吵", "邻居又因停车位吵起来了"] {
        let (_, i) = command
            .post("/api/v1/incidents", json!({"channel": "110", "description": text, "location": {"lat": lat, "lon": lon}, "caller_phone": "13700003333", "type_code": "0401"}))
            .await;
        ids.push(i["id"].as_i64().unwrap());
    }
    // registered from the second: its place, and both calls count (same phone)
    let (s, d) = officer
        .post(
            "/api/v1/disputes",
            json!({"title": "停车位纠纷", "description": "两户因停车位多次报警", "category_code": "99", "source": "transferred",
                   "incident_id": ids[1], "parties": [{"side": "applicant", "kind": "natural", "name": "赵六", "phone": "13700003333"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!((d["lat"].as_f64(), d["incident_ids"][0].as_i64()), (Some(lat), Some(ids[1])));
    assert_eq!(d["colour"], "orange", "{d}");
    assert!(fired(&d).contains(&"incidents_2_30d".to_string()), "{d}");

    // bad input: every problem by field, nothing stored
    let (s, v) = officer
        .post(
            "/api/v1/disputes",
            json!({"title": " ", "description": "x", "category_code": "77", "source": "rumour",
                   "parties": [{"side": "plaintiff", "kind": "natural", "name": "某", "phone": "123"}], "amount": -5}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    for f in ["title", "category_code", "source", "parties[0].side", "parties[0].phone", "amount"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    assert_eq!(officer.get("/api/v1/disputes").await.1["total"], 1);
    assert_eq!(code(&officer.get("/api/v1/disputes?colour=purple").await.1), "validation_failed");
    // another station sees nothing of it; an auxiliary may register; a partner agency may not
    let s2 = app.login("s2.officer").await;
    assert_eq!(code(&s2.get(&format!("/api/v1/disputes/{}", d["id"])).await.1), "not_found");
    assert_eq!(s2.get("/api/v1/disputes").await.1["total"], 0);
    let agency = app.login("p.12345").await;
    let (s, _) = agency
        .post("/api/v1/disputes", json!({"title": "t", "description": "d", "category_code": "01", "source": "other"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // on the map as its own layer, coloured
    let (_, p) = command.get("/api/v1/map/points?bbox=116.0,27.8,116.6,28.3&zoom=14&layers=disputes").await;
    assert_eq!(p["total"], 1, "{p}");
    assert_eq!(p["points"][0]["layer"], "disputes");
    let (_, now) = command.get(&format!("/api/v1/disputes/{}", d["id"])).await;
    let tone = match now["colour"].as_str().unwrap() {
        "red" => "#cf1322",
        "orange" => "#fa8c16",
        "yellow" => "#d4b106",
        _ => "#2f54eb",
    };
    assert_eq!(p["points"][0]["color"], tone, "its marker in its warning colour");
    app.stop().await;
}

#[tokio::test]
async fn colour_rules_are_data_admins_edit() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let officer = app.login("s1.officer").await;
    let (_, rules) = officer.get("/api/v1/dispute-rules").await;
    assert!(rules.as_array().unwrap().len() >= 10);
    let mine = json!([{"id": "any_two", "name": "两人以上即为红色", "colour": "red", "when": {"kind": "people_at_least", "n": 2}}]);
    assert_eq!(code(&officer.put("/api/v1/dispute-rules", mine.clone()).await.1), "forbidden");
    for bad in [
        json!([{"id": "a", "name": "x", "colour": "red", "when": {"kind": "people_at_least", "n": 0}}]),
        json!([{"id": "a", "name": "x", "colour": "red", "when": {"kind": "all", "of": []}}]),
        json!([{"id": "a", "name": "x", "colour": "red", "when": {"kind": "amount_at_least", "yuan": 5}}, {"id": "a", "name": "y", "colour": "blue", "when": {"kind": "open_days_at_least", "days": 3}}]),
    ] {
        assert_eq!(code(&admin.put("/api/v1/dispute-rules", bad).await.1), "validation_failed");
    }
    let (s, v) = admin.put("/api/v1/dispute-rules", json!([{"id": "x", "colour": "pink"}])).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"));
    assert_eq!(admin.put("/api/v1/dispute-rules", mine).await.0, StatusCode::OK);
    let (lat, lon) = inside_s1(&officer).await;
    let body = json!({"title": "合同纠纷", "description": "货款争议", "category_code": "04", "source": "self_report",
        "location": {"lat": lat, "lon": lon},
        "parties": [{"side": "applicant", "kind": "legal", "name": "某某公司"}, {"side": "respondent", "kind": "natural", "name": "钱七"}]});
    let (_, d) = officer.post("/api/v1/disputes", body).await;
    assert_eq!((d["colour"].as_str(), fired(&d)), (Some("red"), vec!["any_two".to_string()]), "{d}");
    assert_eq!(d["parties"][0]["name_masked"], "某某公司", "an organisation's name is not a person's");
    assert_eq!(admin.get("/api/v1/audit?object_type=dispute_rules").await.1["total"], 2, "seeded, then edited");

    // categories, classes and the notice template are admins' too
    let (s, c) = admin.put("/api/v1/dispute-categories/18", json!({"name": "民间借贷"})).await;
    assert_eq!((s, c["active"].as_bool()), (StatusCode::OK, Some(true)));
    assert!(officer.get("/api/v1/dispute-categories").await.1.to_string().contains("民间借贷"));
    assert_eq!(code(&officer.put("/api/v1/dispute-categories/19", json!({"name": "x"})).await.1), "forbidden");
    assert_eq!(code(&admin.put("/api/v1/dispute-categories/1a", json!({"name": "x"})).await.1), "validation_failed");
    assert_eq!(
        admin.put("/api/v1/dispute-categories/18", json!({"name": "民间借贷", "active": false})).await.0,
        StatusCode::OK
    );
    let (s, v) = officer
        .post("/api/v1/disputes", json!({"title": "借款", "description": "d", "category_code": "18", "source": "other", "location": {"lat": lat, "lon": lon}}))
        .await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("category_code")),
        "retired"
    );
    let class = json!({"label": "B类（一般）", "definition": "乡镇（街道）组织联合调解", "limit_days": 10});
    assert_eq!(admin.put("/api/v1/dispute-classes/B", class).await.1["limit_days"], 10);
    let (s, _) =
        admin.put("/api/v1/dispute-classes/D", json!({"label": "x", "definition": "y", "limit_days": 3})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        code(
            &admin.put("/api/v1/dispute-classes/A", json!({"label": "x", "definition": "y", "limit_days": 0})).await.1
        ),
        "validation_failed"
    );
    let (_, mut t) = officer.get("/api/v1/notice-template").await;
    t["body"] = json!("{recipients}：\n{facts}\n{bogus}");
    assert_eq!(code(&admin.put("/api/v1/notice-template", t.clone()).await.1), "validation_failed");
    t["body"] = json!("{recipients}：\n{facts}");
    t["title"] = json!("矛盾纠纷风险提示函");
    assert_eq!(code(&officer.put("/api/v1/notice-template", t.clone()).await.1), "forbidden");
    assert_eq!(admin.put("/api/v1/notice-template", t).await.0, StatusCode::OK);
    assert_eq!(officer.get("/api/v1/notice-template").await.1["title"], "矛盾纠纷风险提示函");
    let (ac, acsrf) = page_session(&app, "admin").await;
    let html = ac.get(app.url("/admin/disputes")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-code=\"18\"") && html.contains("any_two"), "the settings page lists them");
    let r = ac
        .post(app.url("/admin/dispute-rules"))
        .header("x-csrf-token", &acsrf)
        .header("hx-request", "true")
        .form(&[("json", "[{\"id\": \"x\"")])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("规则JSON有误"), "bad JSON is refused with its reason");
    assert_eq!(officer.get("/api/v1/dispute-rules").await.1[0]["id"], "any_two", "and nothing changed");

    // the pages: the register form, the ledger with its badges, the board, the detail
    let (c, csrf) = page_session(&app, "s1.officer").await;
    let r = c
        .post(app.url("/disputes"))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&[
            ("title", "宅基地边界纠纷"),
            ("description", "两户因院墙位置争执"),
            ("category_code", "03"),
            ("source", "home_visit"),
            ("lat", &lat.to_string()),
            ("lon", &lon.to_string()),
            ("p1_side", "applicant"),
            ("p1_kind", "natural"),
            ("p1_name", "孙八"),
            ("p1_phone", ""),
            ("p2_side", "respondent"),
            ("p2_kind", "natural"),
            ("p2_name", ""),
            ("p2_phone", ""),
        ])
        .send()
        .await
        .unwrap();
    let to = r.headers()["hx-redirect"].to_str().unwrap().to_string();
    assert!(to.starts_with("/disputes/"), "{to}");
    let html = c.get(app.url(&to)).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("data-testid=\"dispute-colour\"") && html.contains("data-colour=\"blue\""),
        "no rule fired: blue"
    );
    assert_eq!(html.matches("data-testid=\"party-row\"").count(), 1, "the blank party row is skipped");
    assert!(html.contains("孙*") && !html.contains("孙八"));
    let ledger = c.get(app.url("/disputes")).send().await.unwrap().text().await.unwrap();
    assert_eq!(ledger.matches("data-testid=\"dispute-row\"").count(), 2);
    let board = c.get(app.url("/disputes/board")).send().await.unwrap().text().await.unwrap();
    assert_eq!(board.matches("data-testid=\"dispute-row\"").count(), 1, "only the red one");
    let r = c
        .post(app.url("/disputes"))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&[
            ("title", "x"),
            ("description", "y"),
            ("category_code", "03"),
            ("source", "home_visit"),
            ("amount", "很多"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("须为整数"));
    app.stop().await;
}

#[tokio::test]
async fn the_other_endings_terminate_retry_transfer_and_judicial_confirmation() {
    let app = TestApp::spawn().await;
    let officer = app.login("s1.officer").await;
    let (lat, lon) = inside_s1(&officer).await;
    let register = |title: &'static str| {
        let officer = &officer;
        async move {
            let body = json!({"title": title, "description": "d", "category_code": "04", "source": "public_report",
                "location": {"lat": lat, "lon": lon}});
            let (_, d) = officer.post("/api/v1/disputes", body).await;
            let id = d["id"].as_i64().unwrap();
            let path = format!("/api/v1/disputes/{id}/transitions");
            officer.post(&path, json!({"action": "accept", "class": "A"})).await;
            officer.post(&path, json!({"action": "start"})).await;
            path
        }
    };
    let step = |path: String, body: Value| {
        let officer = &officer;
        async move {
            let (s, d) = officer.post(&path, body.clone()).await;
            assert_eq!(s, StatusCode::OK, "{body}: {d}");
            d
        }
    };
    // terminated, mediated again, settled and confirmed by a court, then followed up
    let p = register("合同货款纠纷").await;
    let d = step(p.clone(), json!({"action": "terminate", "note": "被申请人拒不到场"})).await;
    assert_eq!((d["state"].as_str(), d["failed_mediations"].as_i64()), (Some("terminated"), Some(1)));
    assert_eq!(step(p.clone(), json!({"action": "retry", "note": "再次邀请"})).await["state"], "pending_mediation");
    step(p.clone(), json!({"action": "start"})).await;
    step(p.clone(), json!({"action": "succeed", "note": "达成协议"})).await;
    let d = step(p.clone(), json!({"action": "confirm", "note": "法院司法确认"})).await;
    assert_eq!(d["state"], "judicial");
    assert_eq!(step(p.clone(), json!({"action": "follow"})).await["state"], "regular");
    // transferred to another body, then followed up; a terminated one too
    let p = register("劳务费纠纷").await;
    assert_eq!(step(p.clone(), json!({"action": "transfer", "note": "移交劳动仲裁"})).await["state"], "transferred");
    assert_eq!(step(p.clone(), json!({"action": "follow", "note": "仲裁受理"})).await["state"], "regular");
    let p = register("借款纠纷").await;
    step(p.clone(), json!({"action": "terminate", "note": "双方分歧过大"})).await;
    let d = step(p.clone(), json!({"action": "follow", "note": "引导诉讼"})).await;
    assert_eq!(d["state"], "regular");
    // a second failure turns it orange (调解失败2次以上)
    let p = register("租金纠纷").await;
    step(p.clone(), json!({"action": "session", "session": {"mediators": "甲", "outcome": "failed"}})).await;
    let d = step(p.clone(), json!({"action": "terminate", "note": "再次失败"})).await;
    assert_eq!((d["failed_mediations"].as_i64(), d["colour"].as_str()), (Some(2), Some("orange")), "{d}");
    app.stop().await;
}

#[tokio::test]
async fn warning_notices_docx_sign_for_and_late_escalation() {
    let app = TestApp::spawn().await;
    let officer = app.login("s1.officer").await;
    let leader = app.login("s1.leader").await;
    let sifa = app.login("p.sifa1").await;
    let hotline = app.login("p.12345").await;
    let (lat, lon) = inside_s1(&officer).await;
    let body = |title: &str, people: i64| {
        json!({"title": title, "description": "两村因山林边界争执", "category_code": "07", "source": "grid_report",
            "location": {"lat": lat, "lon": lon}, "people_involved": people,
            "parties": [{"side": "applicant", "kind": "organisation", "name": "东村村民小组"}, {"side": "respondent", "kind": "natural", "name": "郑九", "phone": "13500005555"}]})
    };
    let (_, red) = officer.post("/api/v1/disputes", body("山林边界纠纷", 40)).await;
    assert_eq!(red["colour"], "red", "{red}");
    let (_, calm) = officer.post("/api/v1/disputes", body("山林小纠纷", 2)).await;
    assert_eq!(calm["colour"], "yellow");
    let notices = |id: &Value| format!("/api/v1/disputes/{id}/notices");
    let ask = json!({"recipients": ["361202001100", "361200012345"], "actions": "请镇司法所牵头组织联合调解，12345做好群众诉求登记。"});

    // who may, for which disputes, with what
    assert_eq!(code(&officer.post(&notices(&red["id"]), ask.clone()).await.1), "forbidden");
    let (s, v) = leader.post(&notices(&calm["id"]), ask.clone()).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("colour")));
    for (bad, field) in [
        (json!({"recipients": [], "actions": "x"}), "recipients"),
        (json!({"recipients": ["000000000000"], "actions": "x"}), "recipients"),
        (json!({"recipients": ["361202001100"], "actions": " "}), "actions"),
        (json!({"recipients": ["361202001100"], "actions": "x", "deadline": "2001-01-01"}), "deadline"),
    ] {
        let (s, v) = leader.post(&notices(&red["id"]), bad).await;
        assert_eq!(
            (s, v["error"]["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{v}"
        );
    }
    let (s, n) = leader.post(&notices(&red["id"]), ask.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    let year =
        chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).format("%Y").to_string();
    assert_eq!(n["number"].as_str().unwrap(), format!("纠预〔{year}〕第1号"));
    let text = n["paragraphs"].to_string();
    assert!(text.contains("城南区滨江街道司法所") && text.contains("涉及30人以上"), "{text}");
    assert!(!text.contains("郑九") && !text.contains("13500005555"), "no personal data in a notice");
    let (_, n2) = leader.post(&notices(&red["id"]), ask.clone()).await;
    assert_eq!(n2["number"].as_str().unwrap(), format!("纠预〔{year}〕第2号"), "numbered within the year");

    // the DOCX opens: a zip whose word/document.xml parses, in the official layout
    let (c, _) = page_session(&app, "p.sifa1").await;
    let r = c.get(app.url(&format!("/api/v1/notices/{}/document.docx", n["id"]))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("wordprocessingml"));
    let bytes = r.bytes().await.unwrap();
    let xml = crate::harness::office_part(&bytes, "word/document.xml");
    let doc = roxmltree::Document::parse(&xml).expect("document.xml is well-formed XML");
    let w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name((w, "t")))
        .filter_map(|n| n.text())
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(texts[1], n["number"].as_str().unwrap(), "header, then the number: {texts:?}");
    assert_eq!(texts[2], "重大矛盾纠纷预警提示函");
    assert!(texts[3].starts_with("城南区滨江街道司法所、"), "the salutation names the recipients: {}", texts[3]);
    let red_runs =
        doc.descendants().filter(|n| n.has_tag_name((w, "color")) && n.attribute((w, "val")) == Some("E60012")).count();
    assert!(red_runs >= 1, "a red header");
    assert!(doc.descendants().any(|n| n.has_tag_name((w, "pgSz")) && n.attribute((w, "w")) == Some("11906")), "A4");
    for part in ["[Content_Types].xml", "_rels/.rels"] {
        roxmltree::Document::parse(&crate::harness::office_part(&bytes, part)).expect(part);
    }

    // each recipient signs for it from its own list; others cannot
    let (_, mine) = sifa.get("/api/v1/notices?unsigned=true").await;
    assert_eq!((mine["items"].as_array().map(Vec::len), mine["total"].as_i64()), (Some(2), Some(2)), "{mine}");
    // a page at a time, newest first; searched by the notice's or the dispute's number
    let (_, first) = sifa.get("/api/v1/notices?per_page=1").await;
    assert_eq!((first["items"].as_array().map(Vec::len), first["total"].as_i64()), (Some(1), Some(2)), "{first}");
    assert_eq!(first["items"][0]["id"], n2["id"], "the newest first");
    let (_, second) = sifa.get("/api/v1/notices?per_page=1&page=2").await;
    assert_eq!(second["items"][0]["id"], n["id"]);
    let number = n["number"].as_str().unwrap();
    let (_, found) = sifa.get(&format!("/api/v1/notices?q={number}")).await;
    assert_eq!((found["total"].as_i64(), &found["items"][0]["id"]), (Some(1), &n["id"]), "{found}");
    assert!(sifa.get("/api/v1/notifications").await.1.to_string().contains("请签收并按期反馈"));
    let sign = |id: &Value| format!("/api/v1/notices/{id}/sign");
    assert_eq!(code(&officer.post(&sign(&n["id"]), json!({})).await.1), "forbidden", "not a recipient");
    let other = app.login("p.sifa2").await;
    assert_eq!(code(&other.post(&sign(&n["id"]), json!({})).await.1), "not_found");
    let (_, after) = sifa.post(&sign(&n["id"]), json!({"reply": "已安排调解员，本周内组织联合调解"})).await;
    let signed: Vec<bool> =
        after["recipients"].as_array().unwrap().iter().map(|r| r["signed_at"].is_string()).collect();
    assert_eq!(signed.iter().filter(|s| **s).count(), 1, "{after}");
    assert_eq!(code(&sifa.post(&sign(&n["id"]), json!({})).await.1), "validation_failed", "once");

    // past the deadline with 12345 unsigned: the station hears, once
    crate::harness::db_exec(&app.db_url, &format!("UPDATE notices SET deadline_at = 1000 WHERE id = {}", n["id"]))
        .await;
    let now = chrono::Utc::now();
    assert_eq!(zhufang_store::disputes::scan_notices(app.store.as_ref(), now).await.unwrap(), 1);
    assert_eq!(zhufang_store::disputes::scan_notices(app.store.as_ref(), now).await.unwrap(), 0, "once");
    let (_, inbox) = leader.get("/api/v1/notifications").await;
    assert!(
        inbox.to_string().contains("已过反馈期限，仍未签收：江城市12345政务服务便民热线")
            || inbox.to_string().contains("已过反馈期限"),
        "{inbox}"
    );
    assert_eq!(hotline.post(&sign(&n["id"]), json!({})).await.0, StatusCode::OK, "late, but still signs");

    // 四个一: the plan, people and checklist
    let plan = format!("/api/v1/disputes/{}/plan", red["id"]);
    let (s, v) = officer.put(&plan, json!({"plan": " ", "responsible": "", "checklist": [{"item": ""}]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["fields"].as_array().map(Vec::len), Some(3), "{v}");
    let (s, p) = officer
        .put(&plan, json!({"plan": "镇村两级联合调处，先稳控后化解", "responsible": "张所长、李书记", "checklist": [{"item": "现场勘界", "done": true}, {"item": "召开协调会"}]}))
        .await;
    assert_eq!((s, p["checklist"][0]["done"].as_bool()), (StatusCode::OK, Some(true)), "{p}");
    let (_, d) = officer.get(&format!("/api/v1/disputes/{}", red["id"])).await;
    let actions: Vec<&str> = d["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["register", "notice", "notice", "plan"]);

    // the pages: the printable notice and the list
    let html = c.get(app.url(&format!("/notices/{}", n2["id"]))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"notice-doc\"") && html.contains("data-testid=\"notice-sign\""));
    let list = c.get(app.url("/notices")).send().await.unwrap().text().await.unwrap();
    assert_eq!(list.matches("data-testid=\"notice-row\"").count(), 2);
    assert!(list.contains("data-testid=\"notice-search\"") && list.contains("data-testid=\"notice-total\">2<"));
    let list = c.get(app.url(&format!("/notices?q={number}"))).send().await.unwrap().text().await.unwrap();
    assert_eq!(list.matches("data-testid=\"notice-row\"").count(), 1);
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

#[tokio::test]
async fn id_numbers_only_where_the_deployment_keeps_them() {
    let body = |lat: f64, lon: f64, id: &str| {
        json!({"title": "借款纠纷", "description": "d", "category_code": "99", "source": "self_report",
            "location": {"lat": lat, "lon": lon},
            "parties": [{"side": "applicant", "kind": "natural", "name": "冯十", "phone": "13400006666", "id_number": id}]})
    };
    // off by default: the field is refused, nothing is stored
    let app = TestApp::spawn().await;
    let officer = app.login("s1.officer").await;
    let (lat, lon) = inside_s1(&officer).await;
    let (s, v) = officer.post("/api/v1/disputes", body(lat, lon, "11010519491231002X")).await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("parties[0].id_number"))
    );
    assert_eq!(officer.get("/api/v1/disputes").await.1["total"], 0);
    app.stop().await;

    // on: parsed (check character), masked, whole only on an audited read
    let app = TestApp::spawn_with(|s| s.web.party_id_numbers = true).await;
    let officer = app.login("s1.officer").await;
    let (s, v) = officer.post("/api/v1/disputes", body(lat, lon, "110105194912310021")).await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("parties[0].id_number"))
    );
    let (s, d) = officer.post("/api/v1/disputes", body(lat, lon, "11010519491231002x")).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["parties"][0]["id_number_masked"], "1101**********002X");
    assert!(!d.to_string().contains("110105194912310"));
    let pid = d["parties"][0]["id"].as_i64().unwrap();
    let (_, p) = app.login("s1.leader").await.get(&format!("/api/v1/disputes/{}/parties/{pid}", d["id"])).await;
    assert_eq!(p["id_number"], "11010519491231002X");
    let (_, audit) = app.login("admin").await.get("/api/v1/audit?object_type=dispute").await;
    assert!(audit.to_string().contains(&format!("read_personal:party:{pid}")));
    app.stop().await;
}
