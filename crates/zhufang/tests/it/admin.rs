//! Users, catalogue, personal data, health, metrics, OpenAPI.

use crate::harness::{TestApp, code};
use reqwest::{Client, StatusCode};
use serde_json::json;

#[tokio::test]
async fn users_phones_are_masked_and_reveals_audited() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let (s, v) = admin
        .post("/api/v1/users", json!({"username": "s1.newbie", "display_name": "新民警", "phone": "13912345678", "org_unit": "361202510000", "roles": ["community_officer"], "password": "Start2026a"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["phone"], "139****5678");
    let uid = v["id"].as_i64().unwrap();
    let (s, v) = admin.post("/api/v1/users", json!({"username": "s1.newbie", "display_name": "x", "org_unit": "361202510000", "roles": ["auxiliary"], "password": "Start2026a"})).await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("username")),
        "duplicate"
    );
    let (s, v) = admin.post("/api/v1/users", json!({"username": "x y", "display_name": "", "phone": "123", "org_unit": "NOPE", "roles": ["wizard"], "password": "x"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"]["fields"].as_array().unwrap().len() >= 5, "{v}");
    let (_, list) = admin.get("/api/v1/users?q=s1.newbie").await;
    assert_eq!(list["items"][0]["phone"], "139****5678");

    // a station leader sees masked phones in scope and can reveal one (audited)
    let leader = app.login("s1.leader").await;
    let (s, v) = leader.get(&format!("/api/v1/users/{uid}/phone")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["phone"], "13912345678");
    let (_, audit) = admin.get("/api/v1/audit?object_type=user").await;
    let reads: Vec<_> =
        audit["items"].as_array().unwrap().iter().filter(|r| r["action"] == "read_personal:phone").collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0]["object_id"], uid.to_string());
    // out of scope, or not allowed
    let other_leader = app.login("s2.leader").await;
    assert_eq!(other_leader.get(&format!("/api/v1/users/{uid}/phone")).await.0, StatusCode::NOT_FOUND);
    let officer = app.login("s1.officer").await;
    assert_eq!(officer.get(&format!("/api/v1/users/{uid}/phone")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(officer.get("/api/v1/users").await.0, StatusCode::FORBIDDEN);
    assert_eq!(officer.get("/api/v1/audit").await.0, StatusCode::FORBIDDEN);

    // deactivate: the user can no longer sign in
    let (s, v) = admin.put(&format!("/api/v1/users/{uid}"), json!({"display_name": "新民警", "org_unit": "361202510000", "roles": ["community_officer"], "active": false})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["phone"], serde_json::Value::Null);
    assert!(app.login_pw("s1.newbie", "Start2026a").await.is_err());
    app.stop().await;
}

#[tokio::test]
async fn catalogue_is_seeded_and_admin_edited() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let (_, items) = admin.get("/api/v1/catalogue").await;
    let items = items.as_array().unwrap();
    assert!(items.len() >= 40, "{} items", items.len());
    for needle in ["走访", "巡", "隐患", "纠纷", "宣传", "护学", "溺水", "诈骗"] {
        assert!(
            items
                .iter()
                .any(|i| i["name"].as_str().unwrap().contains(needle)
                    || i["category"].as_str().unwrap().contains(needle)),
            "{needle}"
        );
    }
    let item = json!({"name": "汛期堤坝巡查", "category": "溺水防范", "guideline": "汛期每日巡查堤坝和危险水域，发现险情立即报告。", "default_role": "auxiliary", "accept_hours": 2, "finish_workdays": 1});
    let (s, v) = admin.put("/api/v1/catalogue/ZF-NS-099", item.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = admin.put("/api/v1/catalogue/ZF-NS-099", json!({"name": "", "category": "x", "guideline": "", "default_role": "boss", "accept_hours": 0, "finish_workdays": 500})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    for f in ["name", "guideline", "default_role", "accept_hours", "finish_workdays"] {
        assert!(fields.contains(&f), "{f} in {v}");
    }
    let leader = app.login("s1.leader").await;
    let (s, v) = leader.put("/api/v1/catalogue/ZF-NS-099", item).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    // the new item's limits drive the clocks
    let command = app.login("s1.command").await;
    let (s, t) = command
        .post("/api/v1/tasks", json!({"title": "堤坝巡查", "catalogue_code": "ZF-NS-099", "org_unit": "361202510000"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = t["id"].as_i64().unwrap();
    let (_, t) = command.act(id, json!({"action": "dispatch", "assignee": "s1.aux"})).await;
    let started = chrono::DateTime::parse_from_rfc3339(t["clock_started_at"].as_str().unwrap()).unwrap();
    let deadline = chrono::DateTime::parse_from_rfc3339(t["deadline_at"].as_str().unwrap()).unwrap();
    assert_eq!((deadline - started).num_hours(), 2);
    app.stop().await;
}

#[tokio::test]
async fn health_metrics_openapi_and_pages() {
    let app = TestApp::spawn().await;
    let c = Client::new();
    let r = c.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["status"], "ok");
    let api = app.login("s1.leader").await;
    api.get("/api/v1/tasks").await;
    let m = c.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(m.contains("zhufang_up 1"), "{m}");
    assert!(m.contains("zhufang_http_requests_total{method=\"GET\",route=\"/api/v1/tasks\",status=\"200\"}"), "{m}");
    let spec: serde_json::Value = c.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    for p in [
        "/api/v1/tasks",
        "/api/v1/tasks/{id}/transitions",
        "/api/v1/session",
        "/api/v1/catalogue/{code}",
        "/api/v1/grids/{id}",
        "/api/v1/map/points",
        "/api/v1/map/heat",
    ] {
        assert!(spec["paths"].get(p).is_some(), "{p} documented");
    }
    let docs = c.get(app.url("/api/docs")).send().await.unwrap().text().await.unwrap();
    assert!(docs.contains("/assets/swagger-ui-bundle.js"));
    let js = c.get(app.url("/assets/htmx.min.js")).send().await.unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.text().await.unwrap().len() > 10_000, "htmx embedded");
    // the pages render for a signed-in user, in both languages
    let jar = Client::builder().cookie_store(true).build().unwrap();
    jar.post(app.url("/login")).form(&[("username", "admin"), ("password", "demo")]).send().await.unwrap();
    for p in [
        "/",
        "/tasks",
        "/tasks/new",
        "/m",
        "/notifications",
        "/admin/catalogue",
        "/admin/users",
        "/account/password",
        "/admin/workflow",
        "/admin/audit",
        "/map/command",
        "/map/analysis",
        "/map/duty",
        "/map/unrouted",
        "/grids",
        "/grids/import",
        "/incidents",
        "/incidents/new",
    ] {
        let r = jar.get(app.url(p)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{p}");
        let html = r.text().await.unwrap();
        assert!(html.contains("派出所主防平台"), "{p}");
    }
    let v = jar.get(app.url("/admin/audit/verify")).send().await.unwrap().text().await.unwrap();
    assert!(v.contains("chain-intact"), "{v}");
    // an officer gets no admin pages
    let (off, _) = crate::harness::page_session(&app, "s1.officer").await;
    assert_eq!(off.get(app.url("/admin/audit")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(off.get(app.url("/admin/workflow")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    jar.get(app.url("/lang/en")).send().await.unwrap();
    let html = jar.get(app.url("/tasks")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Task ledger"), "English switch");
    let r = jar.get(app.url("/tasks/999999")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn page_forms_create_dispatch_act_and_edit_users() {
    let app = TestApp::spawn().await;
    let (cmd, csrf) = crate::harness::page_session(&app, "s1.command").await;
    // without the CSRF header the form is refused
    let form = [
        ("title", "表单任务"),
        ("catalogue_code", "ZF-XF-001"),
        ("org_unit", "361202510000"),
        ("assignee", "s1.officer"),
    ];
    let r = cmd.post(app.url("/tasks")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = cmd
        .post(app.url("/tasks"))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let to = r.headers()["hx-redirect"].to_str().unwrap().to_string();
    let id: i64 = to.trim_start_matches("/tasks/").parse().unwrap();
    let api = app.login("s1.officer").await;
    assert_eq!(api.state(id).await, "dispatched", "created and dispatched in one form");
    // a form error comes back as a fragment for htmx, with the field named
    let bad = [("title", ""), ("catalogue_code", "ZF-XF-001"), ("org_unit", "361202510000")];
    let r = cmd
        .post(app.url("/tasks"))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-testid=\"form-error\"") && html.contains("data-field=\"title\""), "{html}");

    // the officer's action form (multipart) with a photo that is not an image
    let (off, ocsrf) = crate::harness::page_session(&app, "s1.officer").await;
    let mp = reqwest::multipart::Form::new().text("action", "accept");
    let r = off
        .post(app.url(&format!("/tasks/{id}/transitions")))
        .header("x-csrf-token", &ocsrf)
        .multipart(mp)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["hx-redirect"], format!("/tasks/{id}").as_str());
    off.post(app.url(&format!("/tasks/{id}/transitions")))
        .header("x-csrf-token", &ocsrf)
        .multipart(reqwest::multipart::Form::new().text("action", "start"))
        .send()
        .await
        .unwrap();
    let mp = reqwest::multipart::Form::new().text("action", "submit_feedback").text("note", "见附件").part(
        "photos",
        reqwest::multipart::Part::bytes(b"<svg onload=alert(1)>".to_vec())
            .file_name("x.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = off
        .post(app.url(&format!("/tasks/{id}/transitions")))
        .header("x-csrf-token", &ocsrf)
        .multipart(mp)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(api.state(id).await, "in_progress", "nothing changed");
    let uploads: usize = crate::harness::files_under(&app.dir.join("uploads"));
    assert_eq!(uploads, 0, "a refused upload leaves no file");

    // admin edits a user in the page: an empty phone keeps the stored one
    let admin = app.login("admin").await;
    let (_, users) = admin.get("/api/v1/users?q=s1.aux").await;
    let u = &users["items"][0];
    let uid = u["id"].as_i64().unwrap();
    let phone_before = app.store.user(uid).await.unwrap().unwrap().phone;
    let (ad, acsrf) = crate::harness::page_session(&app, "admin").await;
    let body = format!(
        "display_name=%E6%94%B9%E5%90%8D&phone=&org_unit={}&roles=auxiliary&roles=community_officer&active=1",
        u["org_unit"].as_str().unwrap()
    );
    let r = ad
        .post(app.url(&format!("/admin/users/{uid}")))
        .header("x-csrf-token", &acsrf)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let after = app.store.user(uid).await.unwrap().unwrap();
    assert_eq!(after.display_name, "改名");
    assert_eq!(after.phone, phone_before);
    assert_eq!(after.roles.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn calendar_days_set_from_the_admin_page() {
    let app = TestApp::spawn().await;
    let (ad, csrf) = crate::harness::page_session(&app, "admin").await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 26).unwrap(); // a Saturday
    assert!(!app.store.calendar().await.unwrap().is_workday(day));
    let post = |kind: &'static str| {
        ad.post(app.url("/admin/calendar"))
            .header("x-csrf-token", &csrf)
            .form(&[("day", "2026-12-26"), ("kind", kind), ("name", "演练调休")])
            .send()
    };
    assert_eq!(post("workday").await.unwrap().status(), StatusCode::OK);
    assert!(app.store.calendar().await.unwrap().is_workday(day));
    let html = ad.get(app.url("/admin/workflow")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("演练调休"));
    assert_eq!(post("").await.unwrap().status(), StatusCode::OK);
    assert!(!app.store.calendar().await.unwrap().is_workday(day), "back to an ordinary Saturday");
    assert_eq!(post("party").await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}
