//! 群防群治: the volunteer roster (masked, full contact only through an
//! audited read by those who keep it), posts and their shifts, sign-ups
//! (full, duplicate, past refused), attendance by the post's officer, the
//! counts per station, and purging a volunteer's data.

use crate::harness::{Api, TestApp, code, db_count, db_exec, db_scalar, page_session};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn field(v: &Value) -> &str {
    v["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

async fn mark(who: &Api, signup: &Value, status: &str) -> (StatusCode, Value) {
    who.post(&format!("/api/v1/signups/{}/attendance", signup["id"]), json!({"status": status})).await
}

fn station<'a>(counts: &'a Value, name: &str) -> &'a Value {
    counts["stations"].as_array().unwrap().iter().find(|s| s["station_name"] == name).expect("station in counts")
}

#[tokio::test]
async fn roster_is_masked_and_contact_reads_are_audited() {
    let app = TestApp::spawn().await;
    let leader = app.login("s1.leader").await;
    let (s, v) = leader
        .post("/api/v1/volunteers", json!({"name": "王小红", "phone": "138 1234 5678", "organisation": "红马甲"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!((v["name"].as_str(), v["phone"].as_str()), (Some("王**"), Some("138****5678")), "{v}");
    assert_eq!(v["station_name"], "滨江派出所");
    let id = v["id"].as_i64().unwrap();

    // parse, don't validate: a bad phone, a missing organisation, a foreign station
    for (body, f) in [
        (json!({"name": "李四", "phone": "12345", "organisation": "义警"}), "phone"),
        (json!({"name": "李四", "phone": "13812345678", "organisation": " "}), "organisation"),
        (json!({"name": "", "organisation": "义警"}), "name"),
        (json!({"name": "李四", "organisation": "义警", "station": "361202520000"}), "station"),
    ] {
        let (s, v) = leader.post("/api/v1/volunteers", body).await;
        assert_eq!((s, code(&v), field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", f), "{v}");
    }
    let (_, v) =
        leader.post("/api/v1/volunteers", json!({"name": "李四", "phone": "12345", "organisation": "义警"})).await;
    assert_eq!(v["error"]["fields"][0]["message"], "电话号码格式不正确（11位手机号或带区号的固定电话）");

    // everyone of the station sees the roster, masked
    let aux = app.login("s1.aux").await;
    let (s, list) = aux.get("/api/v1/volunteers").await;
    assert_eq!((s, list["total"].as_i64()), (StatusCode::OK, Some(1)), "{list}");
    let text = list.to_string();
    assert!(!text.contains("王小红") && !text.contains("13812345678"), "{text}");
    // a partner agency does not; another station sees nothing of it
    assert_eq!(code(&app.login("p.12345").await.get("/api/v1/volunteers").await.1), "forbidden");
    let other = app.login("s2.leader").await;
    assert_eq!(other.get("/api/v1/volunteers").await.1["total"].as_i64(), Some(0));
    assert_eq!(code(&other.get(&format!("/api/v1/volunteers/{id}/contact")).await.1), "not_found");

    // the full contact: not for an auxiliary; for an officer of the station, audited
    let reads = || db_count(&app.db_url, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "read_personal:contact");
    assert_eq!(code(&aux.get(&format!("/api/v1/volunteers/{id}/contact")).await.1), "forbidden");
    assert_eq!(reads().await, 0);
    let officer = app.login("s1.officer").await;
    let (s, c) = officer.get(&format!("/api/v1/volunteers/{id}/contact")).await;
    assert_eq!((s, c["name"].as_str(), c["phone"].as_str()), (StatusCode::OK, Some("王小红"), Some("13812345678")));
    assert_eq!(reads().await, 1);
    let who = db_scalar(
        &app.db_url,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE object_type = 'volunteer' AND action = 'read_personal:contact' \
             AND actor_id = {} AND object_id = '{id}'",
            officer.user["id"]
        ),
    )
    .await;
    assert_eq!(who, 1);
    // the audit record of the entry keeps no personal data
    assert_eq!(
        db_scalar(&app.db_url, "SELECT COUNT(*) FROM audit_log WHERE actor LIKE '%王小红%' OR object_id LIKE '%138%'")
            .await,
        0
    );

    // an admin at the bureau names the station
    let admin = app.login("admin").await;
    let (s, v) = admin.post("/api/v1/volunteers", json!({"name": "赵义", "organisation": "义警"})).await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "station"), "{v}");
    let (s, v) = admin
        .post("/api/v1/volunteers", json!({"name": "赵义", "organisation": "义警", "station": "361202520000"}))
        .await;
    assert_eq!((s, v["station_name"].as_str(), v["phone"].as_str()), (StatusCode::CREATED, Some("樟林派出所"), None));
    assert_eq!(admin.get("/api/v1/volunteers?q=义警").await.1["total"].as_i64(), Some(1));
    assert_eq!(admin.get("/api/v1/volunteers").await.1["total"].as_i64(), Some(2));
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

#[tokio::test]
async fn posts_shifts_signups_attendance_counts_and_purge() {
    let app = TestApp::spawn().await;
    let leader = app.login("s1.leader").await;
    let officer = app.login("s1.officer").await;
    let gate = json!({"name": "滨江小学护学岗", "place": "滨江小学南门", "officer": "s1.officer", "weekdays": "1,2,3,4,5",
        "slots": "16:30-17:30,07:20-08:00", "workdays_only": true, "capacity": 1});
    for (patch, f) in [
        (json!({"slots": "08:00-07:00"}), "slots"),
        (json!({"slots": "07:00-08:00,07:30-09:00"}), "slots"),
        (json!({"weekdays": "8"}), "weekdays"),
        (json!({"officer": "s2.officer"}), "officer"),
        (json!({"officer": "s1.aux"}), "officer"),
        (json!({"capacity": 0}), "capacity"),
    ] {
        let mut b = gate.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (s, v) = leader.post("/api/v1/volunteer-posts", b).await;
        assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, f), "{v}");
    }
    assert_eq!(code(&app.login("s1.aux").await.post("/api/v1/volunteer-posts", gate.clone()).await.1), "forbidden");
    let (s, post) = leader.post("/api/v1/volunteer-posts", gate.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{post}");
    assert_eq!(post["slots"], "07:20-08:00,16:30-17:30");
    let pid = post["id"].as_i64().unwrap();
    // edits are version-checked
    let mut edit = gate.clone();
    edit["version"] = post["version"].clone();
    edit["capacity"] = json!(2);
    assert_eq!(leader.put(&format!("/api/v1/volunteer-posts/{pid}"), edit.clone()).await.0, StatusCode::OK);
    assert_eq!(code(&leader.put(&format!("/api/v1/volunteer-posts/{pid}"), edit).await.1), "conflict");

    // a school week of 2030 (no calendar overrides): 5 days × 2 slots, in time order, made once
    let week = format!("/api/v1/volunteer-posts/{pid}/shifts?from=2030-03-04&to=2030-03-10");
    let (s, sh) = leader.get(&week).await;
    assert_eq!(s, StatusCode::OK, "{sh}");
    let shifts = sh["shifts"].as_array().unwrap().clone();
    assert_eq!(shifts.len(), 10);
    assert_eq!((shifts[0]["day"].as_str(), shifts[0]["start_time"].as_str()), (Some("2030-03-04"), Some("07:20")));
    assert_eq!(shifts[0]["starts_at"], "2030-03-03T23:20:00Z");
    assert_eq!((shifts[9]["day"].as_str(), shifts[9]["end_time"].as_str()), (Some("2030-03-08"), Some("17:30")));
    let (_, again) = leader.get(&week).await;
    assert_eq!(again["shifts"][3]["id"], shifts[3]["id"]);
    assert_eq!(db_scalar(&app.db_url, "SELECT COUNT(*) FROM volunteer_shifts").await, 10);
    let shift = |i: usize| shifts[i]["id"].as_i64().unwrap();

    let mut vols = vec![];
    for (name, phone) in [("王小红", "13812345678"), ("陈志强", "13900001111"), ("刘芳", "0791-8888123")] {
        let (s, v) =
            leader.post("/api/v1/volunteers", json!({"name": name, "phone": phone, "organisation": "红马甲"})).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        vols.push(v["id"].as_i64().unwrap());
    }
    let signup = |shift: i64, vol: i64| {
        let leader = &leader;
        async move { leader.post(&format!("/api/v1/shifts/{shift}/signups"), json!({"volunteer_id": vol})).await }
    };
    // capacity 2: two sign up, a third is refused, nobody twice
    let (s, a) = signup(shift(0), vols[0]).await;
    assert_eq!(
        (s, a["volunteer_name"].as_str(), a["attendance"].clone()),
        (StatusCode::CREATED, Some("王**"), Value::Null)
    );
    let (s, v) = signup(shift(0), vols[0]).await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "volunteer_id"), "duplicate: {v}");
    let (s, b) = signup(shift(0), vols[1]).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, v) = signup(shift(0), vols[2]).await;
    assert_eq!(
        (s, field(&v), v["error"]["fields"][0]["message"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "shift", Some("该班次已报满"))
    );
    let (_, c) = signup(shift(1), vols[2]).await;
    let (_, future) = signup(shift(5), vols[0]).await;
    assert!(future["id"].is_i64(), "{future}");
    let (_, listed) = leader.get(&week).await;
    assert_eq!((listed["shifts"][0]["signed"].as_i64(), listed["shifts"][0]["full"].as_bool()), (Some(2), Some(true)));
    assert_eq!(listed["shifts"][0]["signups"].as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains("王小红"));
    // a shift in the past is refused; an auxiliary may not sign anyone up
    let (_, past) = leader.get(&format!("/api/v1/volunteer-posts/{pid}/shifts?from=2020-01-06&to=2020-01-06")).await;
    let past_id = past["shifts"][0]["id"].as_i64().unwrap();
    assert_eq!(past["shifts"][0]["started"], true);
    let (s, v) = signup(past_id, vols[2]).await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "shift"), "{v}");
    let aux = app.login("s1.aux").await;
    let (s, _) = aux.post(&format!("/api/v1/shifts/{}/signups", shift(2)), json!({"volunteer_id": vols[2]})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // a volunteer of another station
    let (_, foreign) =
        app.login("s2.leader").await.post("/api/v1/volunteers", json!({"name": "外所", "organisation": "义警"})).await;
    let (s, v) = signup(shift(2), foreign["id"].as_i64().unwrap()).await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "volunteer_id"));

    // attendance: only once the shift has started; by the post's officer, not another officer
    let (s, v) = mark(&officer, &a, "present").await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "status"), "not started: {v}");
    db_exec(
        &app.db_url,
        &format!("UPDATE volunteer_shifts SET starts_at = 1000 WHERE id IN ({}, {})", shift(0), shift(1)),
    )
    .await;
    let officer2 = app.login("s1.officer2").await;
    assert_eq!(code(&mark(&officer2, &a, "present").await.1), "forbidden");
    assert_eq!(code(&mark(&aux, &a, "present").await.1), "forbidden");
    let (s, v) = mark(&officer, &a, "maybe").await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "status"));
    let (s, v) = mark(&officer, &a, "present").await;
    assert_eq!((s, v["attendance"].as_str()), (StatusCode::OK, Some("present")), "{v}");
    assert_eq!(mark(&officer, &b, "late").await.1["attendance"], "late");
    // a leader of the station may correct it
    assert_eq!(mark(&leader, &c, "present").await.0, StatusCode::OK);
    assert_eq!(mark(&leader, &c, "absent").await.1["attendance"], "absent");
    assert_eq!(
        db_scalar(
            &app.db_url,
            "SELECT COUNT(*) FROM audit_log WHERE object_type = 'volunteer_signup' AND action = 'attendance'"
        )
        .await,
        4
    );

    // counts per station for the week
    let counts_path = "/api/v1/volunteers/counts?from=2030-03-04&to=2030-03-10";
    let (s, counts) = leader.get(counts_path).await;
    assert_eq!(s, StatusCode::OK, "{counts}");
    let st = station(&counts, "滨江派出所");
    let got = |st: &Value, k: &str| st[k].as_i64().unwrap();
    assert_eq!(
        [
            "volunteers",
            "posts",
            "shifts",
            "covered",
            "uncovered",
            "full",
            "signups",
            "present",
            "late",
            "absent",
            "unmarked"
        ]
        .map(|k| got(st, k)),
        [3, 1, 10, 3, 7, 1, 4, 1, 1, 1, 1],
        "{counts}"
    );
    assert_eq!(st["attendance_rate"].as_f64(), Some(2.0 / 3.0));
    assert_eq!(counts["stations"].as_array().unwrap().len(), 1, "a leader sees their own station");
    let (_, all) = app.login("analyst").await.get(counts_path).await;
    assert_eq!(got(station(&all, "樟林派出所"), "volunteers"), 1, "{all}");
    assert_eq!((got(&all["total"], "volunteers"), got(&all["total"], "signups")), (4, 4));
    assert_eq!(
        code(&leader.get("/api/v1/volunteers/counts?from=2030-03-10&to=2030-03-01").await.1),
        "validation_failed"
    );

    // purge: name and phone gone for good, future sign-ups cancelled, past attendance kept anonymous
    let id = vols[0];
    assert_eq!(code(&aux.post(&format!("/api/v1/volunteers/{id}/purge"), json!({})).await.1), "forbidden");
    let (s, p) = officer.post(&format!("/api/v1/volunteers/{id}/purge"), json!({})).await;
    assert_eq!(
        (s, p["name"].as_str(), p["phone"].clone(), p["purged"].as_bool()),
        (StatusCode::OK, Some("已删除"), Value::Null, Some(true)),
        "{p}"
    );
    assert_eq!(
        db_scalar(&app.db_url, "SELECT COUNT(*) FROM volunteers WHERE name LIKE '%王小红%' OR phone LIKE '%12345678%'")
            .await,
        0
    );
    assert_eq!(
        db_scalar(&app.db_url, &format!("SELECT COUNT(*) FROM volunteers WHERE id = {id} AND phone IS NULL")).await,
        1
    );
    assert_eq!(
        db_scalar(&app.db_url, &format!("SELECT COUNT(*) FROM volunteer_signups WHERE volunteer_id = {id}")).await,
        1
    );
    assert_eq!(
        db_scalar(&app.db_url, &format!("SELECT signed FROM volunteer_shifts WHERE id = {}", shift(5))).await,
        0
    );
    let (s, v) = officer.post(&format!("/api/v1/volunteers/{id}/purge"), json!({})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "invalid_transition"), "second purge: {v}");
    assert_eq!(code(&officer.get(&format!("/api/v1/volunteers/{id}/contact")).await.1), "not_found");
    let (s, v) = signup(shift(6), id).await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "volunteer_id"));
    assert_eq!(db_count(&app.db_url, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "purge").await, 1);
    let (_, after) = leader.get(counts_path).await;
    let st = station(&after, "滨江派出所");
    assert_eq!(["volunteers", "signups", "present", "late", "absent"].map(|k| got(st, k)), [2, 3, 1, 1, 1], "{after}");
    let (_, list) = leader.get("/api/v1/volunteers").await;
    let purged: Vec<&Value> = list["items"].as_array().unwrap().iter().filter(|v| v["purged"] == true).collect();
    assert_eq!(purged.len(), 1);
    assert_eq!(purged[0]["name"], "已删除");

    // the pages: roster (masked), posts with counts, a post's shifts; sign-up and attendance through htmx forms
    let (jar, csrf) = page_session(&app, "s1.officer").await;
    let html = jar.get(app.url("/volunteers")).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("data-testid=\"volunteer-table\"") && html.contains("陈**") && !html.contains("陈志强"),
        "{html}"
    );
    assert!(html.contains("data-testid=\"volunteer-purge\"") && html.contains("hx-confirm"));
    let frag =
        jar.get(app.url(&format!("/volunteers/{}/contact", vols[1]))).send().await.unwrap().text().await.unwrap();
    assert!(frag.contains("陈志强") && frag.contains("13900001111"), "{frag}");
    let html = jar.get(app.url("/volunteers/posts")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("滨江小学护学岗") && html.contains("data-testid=\"volunteer-counts\""), "{html}");
    let r = jar.get(app.url(&format!("/volunteers/posts/{pid}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-testid=\"shift-card\""), "{html}");
    // the next school day's morning shift
    let next = html.split("data-testid=\"signup-form\"").count() - 1;
    assert!(next > 0, "sign-up forms on upcoming shifts");
    let form_shift: i64 = html
        .split("hx-post=\"/volunteers/shifts/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    let r = jar
        .post(app.url(&format!("/volunteers/shifts/{form_shift}/signups")))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&[("volunteer_id", vols[1].to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers().get("hx-redirect").and_then(|h| h.to_str().ok()),
        Some(format!("/volunteers/posts/{pid}").as_str())
    );
    let r = jar
        .post(app.url(&format!("/volunteers/shifts/{form_shift}/signups")))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&[("volunteer_id", vols[1].to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("data-field=\"volunteer_id\""));
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

#[tokio::test]
async fn concurrent_signups_never_overfill_and_the_api_is_documented() {
    let app = TestApp::spawn().await;
    let leader = app.login("s1.leader").await;
    let (s, post) = leader
        .post(
            "/api/v1/volunteer-posts",
            json!({"name": "望江社区义警岗", "officer": "s1.officer", "weekdays": "SA,SU", "slots": "19:00-21:00", "capacity": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{post}");
    // 2030-03-09 is a Saturday
    let (_, sh) =
        leader.get(&format!("/api/v1/volunteer-posts/{}/shifts?from=2030-03-09&to=2030-03-09", post["id"])).await;
    assert_eq!(sh["shifts"].as_array().unwrap().len(), 1, "{sh}");
    let shift = sh["shifts"][0]["id"].as_i64().unwrap();
    let mut vols = vec![];
    for i in 0..8 {
        let (_, v) =
            leader.post("/api/v1/volunteers", json!({"name": format!("志愿者{i}"), "organisation": "义警"})).await;
        vols.push(v["id"].as_i64().unwrap());
    }
    // eight at once for two places (and one of them twice)
    let url = app.url(&format!("/api/v1/shifts/{shift}/signups"));
    let mut set = tokio::task::JoinSet::new();
    for v in vols.iter().chain(std::iter::once(&vols[0])) {
        let (c, url, token, body) = (leader.c.clone(), url.clone(), leader.token.clone(), json!({"volunteer_id": v}));
        set.spawn(async move {
            crate::harness::body(c.post(url).bearer_auth(token).json(&body).send().await.unwrap()).await
        });
    }
    let results: Vec<(StatusCode, Value)> = set.join_all().await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    assert_eq!(ok, 2, "{results:?}");
    assert!(results.iter().all(|(s, _)| *s == StatusCode::CREATED || *s == StatusCode::UNPROCESSABLE_ENTITY));
    assert_eq!(
        db_scalar(&app.db_url, &format!("SELECT COUNT(*) FROM volunteer_signups WHERE shift_id = {shift}")).await,
        2
    );
    assert_eq!(db_scalar(&app.db_url, &format!("SELECT signed FROM volunteer_shifts WHERE id = {shift}")).await, 2);

    let spec: Value = reqwest::get(app.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    for p in [
        "/api/v1/volunteers",
        "/api/v1/volunteers/{id}/contact",
        "/api/v1/volunteers/{id}/purge",
        "/api/v1/volunteers/counts",
        "/api/v1/volunteer-posts",
        "/api/v1/volunteer-posts/{id}",
        "/api/v1/volunteer-posts/{id}/shifts",
        "/api/v1/shifts/{id}/signups",
        "/api/v1/signups/{id}/attendance",
    ] {
        assert!(spec["paths"].get(p).is_some(), "{p} documented");
    }
    // the pages in English too, and the sidebar entries
    let (jar, _) = page_session(&app, "s1.aux").await;
    for lang in ["zh", "en"] {
        jar.get(app.url(&format!("/lang/{lang}"))).send().await.unwrap();
        for p in ["/volunteers", "/volunteers/posts", &format!("/volunteers/posts/{}", post["id"])] {
            let r = jar.get(app.url(p)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{p}");
            let html = r.text().await.unwrap();
            assert!(html.contains("data-testid=\"nav-volunteers\"") && !html.contains(">?<"), "{p}: {html}");
            // an auxiliary views, but has no forms
            assert!(!html.contains("data-testid=\"signup-form\"") && !html.contains("data-testid=\"volunteer-form\""));
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_volunteer_is_corrected_stood_down_and_taken_off_a_shift() {
    let app = TestApp::spawn().await;
    let leader = app.login("s1.leader").await;
    let (_, v) = leader
        .post("/api/v1/volunteers", json!({"name": "赵六", "phone": "13700001111", "organisation": "红马甲"}))
        .await;
    let id = v["id"].as_i64().unwrap();
    // a correction keeps what is left out; a bad phone is refused and changes nothing
    let (s, v) = leader.put(&format!("/api/v1/volunteers/{id}"), json!({"phone": "13700002222"})).await;
    assert_eq!((s, v["phone"].as_str(), v["name"].as_str()), (StatusCode::OK, Some("137****2222"), Some("赵*")), "{v}");
    let (s, v) = leader.put(&format!("/api/v1/volunteers/{id}"), json!({"phone": "12"})).await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "phone"));
    let (_, c) = leader.get(&format!("/api/v1/volunteers/{id}/contact")).await;
    assert_eq!(c["phone"], "13700002222");
    assert_eq!(
        app.login("s1.aux").await.put(&format!("/api/v1/volunteers/{id}"), json!({"active": false})).await.0,
        StatusCode::FORBIDDEN
    );

    // a post and a shift next year; sign up, take off again (the count falls), sign up again
    let (_, post) = leader
        .post(
            "/api/v1/volunteer-posts",
            json!({"name": "樟树小学护学岗", "officer": "s1.officer", "slots": "07:20-08:00", "capacity": 1}),
        )
        .await;
    let (_, sh) =
        leader.get(&format!("/api/v1/volunteer-posts/{}/shifts?from=2030-03-04&to=2030-03-04", post["id"])).await;
    let shift = sh["shifts"][0]["id"].as_i64().unwrap();
    let (s, su) = leader.post(&format!("/api/v1/shifts/{shift}/signups"), json!({"volunteer_id": id})).await;
    assert_eq!(s, StatusCode::CREATED, "{su}");
    let (s, _) = leader.delete(&format!("/api/v1/signups/{}", su["id"])).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(db_scalar(&app.db_url, &format!("SELECT signed FROM volunteer_shifts WHERE id = {shift}")).await, 0);
    assert_eq!(leader.delete(&format!("/api/v1/signups/{}", su["id"])).await.0, StatusCode::NOT_FOUND);
    let (s, su) = leader.post(&format!("/api/v1/shifts/{shift}/signups"), json!({"volunteer_id": id})).await;
    assert_eq!(s, StatusCode::CREATED, "the place is free again: {su}");
    // once the shift has begun it stays
    db_exec(&app.db_url, &format!("UPDATE volunteer_shifts SET starts_at = 1000 WHERE id = {shift}")).await;
    let (s, v) = leader.delete(&format!("/api/v1/signups/{}", su["id"])).await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "signup"));

    // stood down: no new sign-ups; then purged: no more corrections
    let (_, v) = leader.put(&format!("/api/v1/volunteers/{id}"), json!({"active": false})).await;
    assert_eq!(v["active"], false);
    let (_, sh2) =
        leader.get(&format!("/api/v1/volunteer-posts/{}/shifts?from=2030-03-05&to=2030-03-05", post["id"])).await;
    let (s, v) =
        leader.post(&format!("/api/v1/shifts/{}/signups", sh2["shifts"][0]["id"]), json!({"volunteer_id": id})).await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "volunteer_id"));
    leader.post(&format!("/api/v1/volunteers/{id}/purge"), json!({})).await;
    let (s, v) = leader.put(&format!("/api/v1/volunteers/{id}"), json!({"active": true})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "invalid_transition"));
    let audited = db_scalar(
        &app.db_url,
        "SELECT COUNT(*) FROM audit_log WHERE object_type = 'volunteer_signup' AND action = 'cancel'",
    )
    .await;
    assert_eq!(audited, 1);
    app.stop().await;
}

#[tokio::test]
async fn located_posts_are_a_map_layer() {
    let app = TestApp::spawn().await;
    let leader = app.login("s1.leader").await;
    let (lat, lon, grid) = crate::incidents::inside_s1(&leader).await;
    let gate = json!({"name": "滨江小学护学岗", "place": "滨江小学南门", "officer": "s1.officer", "weekdays": "1,2,3,4,5",
        "slots": "07:20-08:00", "capacity": 2, "lat": lat, "lon": lon});
    let (s, post) = leader.post("/api/v1/volunteer-posts", gate.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{post}");
    let pid = post["id"].as_i64().unwrap();
    let (_, unplaced) = leader
        .post(
            "/api/v1/volunteer-posts",
            json!({"name": "无坐标岗位", "officer": "s1.officer",
        "slots": "07:20-08:00", "capacity": 1}),
        )
        .await;
    // on the map as its own layer, whatever the period (a post stands; it does not happen)
    let (_, layers) = leader.get("/api/v1/map/layers").await;
    assert!(layers["layers"].as_array().unwrap().iter().any(|l| l["id"] == "posts"), "{layers}");
    let bbox = format!("{},{},{},{}", lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01);
    let points = |q: String| {
        let (leader, url) = (&leader, format!("/api/v1/map/points?bbox={bbox}&zoom=16&layers=posts{q}"));
        async move { leader.get(&url).await.1 }
    };
    let p = points(String::new()).await;
    assert_eq!(p["total"], 1, "only the located post: {p}");
    assert_eq!(
        (p["points"][0]["id"].as_i64(), p["points"][0]["url"].as_str()),
        (Some(pid), Some(format!("/volunteers/posts/{pid}").as_str()))
    );
    let p = points("&from=2030-01-01&to=2030-01-31".into()).await;
    assert_eq!(p["total"], 1, "in any period: {p}");
    assert!(unplaced["id"].is_i64());
    // routed to the grid it stands in
    assert_eq!(
        db_count(
            &app.db_url,
            "SELECT COUNT(*) FROM volunteer_posts p JOIN grids g ON g.id = p.grid_id WHERE g.code = $1",
            &grid
        )
        .await,
        1
    );
    // a grid coloured by its active posts
    let (s, g) = leader.get("/api/v1/map/grids?figure=volunteer_post.open").await;
    assert_eq!(s, StatusCode::OK, "{g}");
    let value = |g: &Value| {
        g["features"].as_array().unwrap().iter().find(|f| f["properties"]["code"] == grid.as_str()).unwrap()["properties"]["value"]
            .as_i64()
    };
    assert_eq!(value(&g), Some(1));
    // stood down: no longer open; moved off the map (no place): gone
    let mut edit = gate.clone();
    edit["active"] = json!(false);
    assert_eq!(leader.put(&format!("/api/v1/volunteer-posts/{pid}"), edit.clone()).await.0, StatusCode::OK);
    assert_eq!(
        db_count(
            &app.db_url,
            "SELECT COUNT(*) FROM map_items WHERE kind = 'volunteer_post' AND is_open = FALSE AND label = $1",
            "滨江小学护学岗"
        )
        .await,
        1
    );
    edit.as_object_mut().unwrap().remove("lat");
    edit.as_object_mut().unwrap().remove("lon");
    assert_eq!(leader.put(&format!("/api/v1/volunteer-posts/{pid}"), edit).await.0, StatusCode::OK);
    assert_eq!(points(String::new()).await["total"], 0);
    assert_eq!(value(&leader.get("/api/v1/map/grids?figure=volunteer_post.open").await.1), Some(0));
    app.stop().await;
}
