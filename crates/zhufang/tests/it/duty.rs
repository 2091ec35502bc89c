//! The duty rhythm: 八个一 seeded for every station, templates edited by
//! leaders, the scheduler idempotent over a window, holidays and make-up
//! workdays respected, month ends.

use crate::harness::{TestApp, code};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn ids(v: &Value) -> Vec<i64> {
    v["created"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect()
}

#[tokio::test]
async fn templates_generate_once_and_respect_the_calendar() {
    let app = TestApp::spawn().await;
    let leader = app.login("s1.leader").await;
    let admin = app.login("admin").await;
    // 八个一, seeded for each station at start
    let (_, all) = leader.get("/api/v1/duty-templates").await;
    let names: Vec<&str> = all.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 8, "{names:?}");
    assert!(names.contains(&"每日一巡查") && names.contains(&"每月一小结"));
    // take them out of the way for a precise count: deactivate all but none
    for t in all.as_array().unwrap() {
        let mut b = t.clone();
        b["org"] = t["org_code"].clone();
        b["active"] = json!(false);
        assert_eq!(leader.put(&format!("/api/v1/duty-templates/{}", t["id"]), b).await.0, StatusCode::OK);
    }
    // a weekly visit on Saturdays for one officer, moved to the next workday when it falls on a
    // day off; 2028 (not seeded): 国庆 Mon 2–Fri 6 Oct off, Sat 7 Oct a make-up workday
    for day in 2..=6 {
        let (s, v) =
            admin.put(&format!("/api/v1/calendar/2028-10-0{day}"), json!({"kind": "holiday", "name": "国庆"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    admin.put("/api/v1/calendar/2028-10-07", json!({"kind": "workday", "name": "国庆调休"})).await;
    let body = json!({"name": "周六走访", "catalogue_code": "ZF-BG-04", "assignee": "s1.officer", "org": "361202510000",
        "rrule": "FREQ=WEEKLY;BYDAY=SA", "start_day": "2028-09-01", "at_time": "09:30", "holiday": "next"});
    let (s, t) = leader.post("/api/v1/duty-templates", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let window = json!({"from": "2028-09-23", "to": "2028-10-14"});
    let (s, r) = leader.post("/api/v1/duty-templates/generate", window.clone()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let titles = |r: &Value| {
        let leader = &leader;
        let ids = ids(r);
        async move {
            let mut out = vec![];
            for id in ids {
                let (_, task) = leader.get(&format!("/api/v1/tasks/{id}")).await;
                assert_eq!(task["state"], "dispatched", "{task}");
                out.push(task["title"].as_str().unwrap().to_string());
            }
            out.sort();
            out
        }
    };
    // Sat 23 Sep → Mon 25; Sat 30 Sep → the make-up Sat 7 Oct, itself a duty day: once; Sat 14 → Mon 16
    assert_eq!(titles(&r).await, ["周六走访（10月16日）", "周六走访（10月7日）", "周六走访（9月25日）"]);
    // the same window again, and an overlapping one: nothing twice
    let (_, again) = leader.post("/api/v1/duty-templates/generate", window).await;
    assert_eq!((ids(&again).len(), again["existing"].as_i64()), (0, Some(3)), "{again}");
    let (_, more) =
        leader.post("/api/v1/duty-templates/generate", json!({"from": "2028-10-08", "to": "2028-10-28"})).await;
    assert_eq!(titles(&more).await, ["周六走访（10月23日）", "周六走访（10月30日）"], "{more}");
    assert_eq!(more["existing"].as_i64(), Some(1));
    let officer = app.login("s1.officer").await;
    let (_, mine) = officer.get("/api/v1/tasks?state=dispatched").await;
    assert!(mine["total"].as_i64().unwrap() >= 5);
    // completion: one done on time, one late, one missed, two still ahead
    let saturday: Vec<i64> = ids(&r).into_iter().chain(ids(&more)).collect();
    for q in [
        format!("UPDATE tasks SET feedback_at = due_at - 1000 WHERE id = {}", saturday[0]),
        format!("UPDATE tasks SET feedback_at = due_at + 1000 WHERE id = {}", saturday[1]),
        format!("UPDATE tasks SET due_at = 1000 WHERE id = {}", saturday[2]),
    ] {
        crate::harness::db_exec(&app.db_url, &q).await;
    }
    let (s, c) = leader.get("/api/v1/duty-templates/completion?by=template&from=2028-09-01&to=2028-10-31").await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let tot = &c["total"];
    assert_eq!(
        (
            tot["scheduled"].as_i64(),
            tot["on_time"].as_i64(),
            tot["late"].as_i64(),
            tot["missed"].as_i64(),
            tot["pending"].as_i64()
        ),
        (Some(5), Some(1), Some(1), Some(1), Some(2)),
        "{c}"
    );
    assert_eq!(tot["on_time_rate"].as_f64(), Some(1.0 / 3.0));
    assert_eq!(c["rows"][0]["name"], "周六走访 · 滨江派出所");
    assert_eq!(code(&leader.get("/api/v1/duty-templates/completion?by=weather").await.1), "validation_failed");

    // the last workday of each month (BYMONTHDAY=-1, moved back over days off)
    let mut last = body.clone();
    last["name"] = json!("月末小结");
    last["rrule"] = json!("FREQ=MONTHLY;BYMONTHDAY=-1");
    last["holiday"] = json!("previous");
    let (s, t2) = leader.post("/api/v1/duty-templates", last).await;
    assert_eq!(s, StatusCode::CREATED, "{t2}");
    // only this template: the Saturday one is retired first
    let mut off = body.clone();
    off["active"] = json!(false);
    off["version"] = t["version"].clone();
    assert_eq!(leader.put(&format!("/api/v1/duty-templates/{}", t["id"]), off.clone()).await.0, StatusCode::OK);
    assert_eq!(
        code(&leader.put(&format!("/api/v1/duty-templates/{}", t["id"]), off).await.1),
        "conflict",
        "stale version"
    );
    let (_, r) =
        leader.post("/api/v1/duty-templates/generate", json!({"from": "2028-10-25", "to": "2029-01-31"})).await;
    // Tue 31 Oct, Thu 30 Nov, Sun 31 Dec → Fri 29 Dec, Wed 31 Jan
    assert_eq!(
        titles(&r).await,
        ["月末小结（10月31日）", "月末小结（11月30日）", "月末小结（12月29日）", "月末小结（1月31日）"]
    );

    // bad templates, and who may
    for (patch, field) in [
        (json!({"rrule": "FREQ=HOURLY"}), "rrule"),
        (json!({"rrule": "FREQ=WEEKLY;BYDAY=XX"}), "rrule"),
        (json!({"holiday": "sometimes"}), "holiday"),
        (json!({"org": "361202520000"}), "org"),
        (json!({"at_time": "25:00"}), "at_time"),
        (json!({"catalogue_code": "NOPE"}), "catalogue_code"),
    ] {
        let mut b = body.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (s, v) = leader.post("/api/v1/duty-templates", b).await;
        assert_eq!(
            (s, v["error"]["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{v}"
        );
    }
    assert_eq!(code(&officer.post("/api/v1/duty-templates/generate", json!({})).await.1), "forbidden");
    assert_eq!(code(&officer.post("/api/v1/duty-templates", body).await.1), "forbidden");
    let (s, v) =
        leader.post("/api/v1/duty-templates/generate", json!({"from": "2027-10-10", "to": "2027-01-01"})).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    app.stop().await;
}

#[tokio::test]
async fn the_duty_calendar_as_a_revocable_ics_subscription() {
    let app = TestApp::spawn().await;
    let leader = app.login("s1.leader").await;
    let officer = app.login("s1.officer").await;
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).date_naive();
    let body = json!({"name": "每日走访", "catalogue_code": "ZF-BG-04", "assignee": "s1.officer", "org": "361202510000",
        "rrule": "FREQ=DAILY", "start_day": today.to_string(), "at_time": "09:30", "holiday": "keep"});
    assert_eq!(leader.post("/api/v1/duty-templates", body).await.0, StatusCode::CREATED);
    let to = today + chrono::Duration::days(6);
    let (_, r) =
        leader.post("/api/v1/duty-templates/generate", json!({"from": today.to_string(), "to": to.to_string()})).await;
    // the officer's own template plus the seeded weekly visit of 八个一 may add one or two
    assert!(ids(&r).len() >= 7, "{r}");

    let (s, t) = officer.post("/api/v1/me/calendar-token", json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let url = t["url"].as_str().unwrap().to_string();
    let anon = reqwest::Client::new();
    let r = anon.get(app.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let text = r.text().await.unwrap();
    // a standard iCalendar parser reads it
    let mut cals = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let cal = cals.next().expect("a calendar").expect("it parses");
    let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
        e.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_default()
    };
    let mine: Vec<_> = cal.events.iter().filter(|e| prop(e, "SUMMARY").starts_with("每日走访")).collect();
    assert_eq!(mine.len(), 7, "{text}");
    let first = mine.iter().map(|e| prop(e, "DTSTART")).min().unwrap();
    assert_eq!(first, format!("{}T013000Z", today.format("%Y%m%d")), "09:30 in Beijing is 01:30 UTC");
    assert!(mine.iter().all(|e| prop(e, "UID").starts_with("task-")));

    // a new token replaces the old; a revoked one is gone; nothing to guess
    let (_, t2) = officer.post("/api/v1/me/calendar-token", json!({})).await;
    assert_eq!(anon.get(app.url(&url)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let url2 = t2["url"].as_str().unwrap().to_string();
    assert_eq!(anon.get(app.url(&url2)).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(officer.delete("/api/v1/me/calendar-token").await.0, StatusCode::NO_CONTENT);
    assert_eq!(anon.get(app.url(&url2)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(
        anon.get(app.url("/api/v1/calendar.ics?token=abc")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let (_, audit) = app.login("admin").await.get("/api/v1/audit?object_type=calendar_token").await;
    assert_eq!(audit["total"], 3, "issued twice, revoked once");

    // the calendar page: this month and this week, mine and my unit's
    let (c, csrf) = crate::harness::page_session(&app, "s1.officer").await;
    let page = |q: &'static str| {
        let c = &c;
        let url = app.url(&format!("/duty{q}"));
        async move { c.get(url).send().await.unwrap() }
    };
    let html = page("").await.text().await.unwrap();
    assert!(html.contains("data-testid=\"duty-calendar\""));
    assert!(html.matches("每日走访（").count() >= 1, "this month shows the duties");
    let week = page("?view=week").await.text().await.unwrap();
    assert_eq!(week.matches("data-testid=\"duty-day\"").count(), 7);
    assert!(week.contains("09:30"));
    let (lc, _) = crate::harness::page_session(&app, "s1.leader").await;
    let unit = lc.get(app.url("/duty?view=week&who=unit")).send().await.unwrap().text().await.unwrap();
    assert!(unit.contains("每日走访（") && unit.contains(" · "), "the unit's view names who");
    assert_eq!(page("?date=tomorrow").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // in English: dates and states in English
    c.get(app.url("/lang/en")).send().await.unwrap();
    let en = page("?view=week").await.text().await.unwrap();
    assert!(!en.contains("年") && en.contains("Dispatched"), "the heading and states: {en}");
    lc.get(app.url("/lang/en")).send().await.unwrap();
    let en = lc.get(app.url("/duty/templates")).send().await.unwrap().text().await.unwrap();
    lc.get(app.url("/lang/zh")).send().await.unwrap();
    assert!(en.contains("Keep on holidays") || en.contains("Move to the next working day"), "{en}");
    c.get(app.url("/lang/zh")).send().await.unwrap();
    let frag = c
        .post(app.url("/duty/calendar-token"))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(frag.contains("/api/v1/calendar.ics?token="), "{frag}");

    // the templates page: the editor and generate for leaders, a list for officers
    let (lc, lcsrf) = crate::harness::page_session(&app, "s1.leader").await;
    let html = lc.get(app.url("/duty/templates")).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"duty-template-row\"").count(), 9, "八个一 and the daily visit");
    assert!(html.contains("data-testid=\"duty-generate\""));
    let r = lc
        .post(app.url("/duty/templates"))
        .header("x-csrf-token", &lcsrf)
        .header("hx-request", "true")
        .form(&[
            ("name", "周五夜巡"),
            ("catalogue_code", "ZF-BG-02"),
            ("role", "auxiliary"),
            ("org", "361202510000"),
            ("rrule", "FREQ=WEEKLY;BYDAY=FR"),
            ("at_time", "21:00"),
            ("holiday", "keep"),
            ("active", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["hx-redirect"], "/duty/templates");
    let frag = lc
        .post(app.url("/duty/generate"))
        .header("x-csrf-token", &lcsrf)
        .header("hx-request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(frag.contains("data-testid=\"generate-result\""), "{frag}");
    let html = c.get(app.url("/duty/templates")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("周五夜巡") && !html.contains("data-testid=\"duty-generate\""), "officers read only");
    app.stop().await;
}

#[tokio::test]
async fn two_runs_at_once_and_a_crashed_run_make_each_duty_once() {
    let app = TestApp::spawn().await;
    let leader = app.login("s1.leader").await;
    let command = app.login("s1.command").await;
    let body = json!({"name": "每日巡查（测试）", "catalogue_code": "ZF-BG-02", "role": "auxiliary", "org": "361202510000",
        "rrule": "FREQ=DAILY", "start_day": "2028-03-01", "holiday": "keep"});
    let (s, t) = leader.post("/api/v1/duty-templates", body).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let window = json!({"from": "2028-03-01", "to": "2028-03-10"});
    // the daily job and a leader's button at the same moment
    let (a, b) = tokio::join!(
        leader.post("/api/v1/duty-templates/generate", window.clone()),
        command.post("/api/v1/duty-templates/generate", window.clone())
    );
    let made = ids(&a.1).len() + ids(&b.1).len();
    let url = app.db_url.clone();
    let count = |sql: String| {
        let url = url.clone();
        async move { crate::harness::db_scalar(&url, &sql).await }
    };
    // (the station's 八个一 are generated too)
    let all = count("SELECT COUNT(*) FROM duty_occurrences WHERE task_id IS NOT NULL".into()).await;
    assert_eq!(made as i64, all, "the two runs split the work: {a:?} {b:?}");
    let tasks =
        count(format!("SELECT COUNT(*) FROM duty_occurrences WHERE template_id = {} AND task_id IS NOT NULL", t["id"]))
            .await;
    let titles = count("SELECT COUNT(*) FROM tasks WHERE title LIKE '每日巡查（测试）%'".into()).await;
    assert_eq!(titles, tasks, "no duplicates");
    assert!(tasks >= 10, "ten days for each auxiliary of the station");

    // a run that crashed after its claim: taken over once it is stale, not while it is fresh
    let id = t["id"].as_i64().unwrap();
    let aux = app.login("s1.aux").await.get("/api/v1/me").await.1["id"].as_i64().unwrap();
    for (day, age_ms) in [("2028-03-11", 3_600_000i64), ("2028-03-12", 1_000)] {
        let at = chrono::Utc::now().timestamp_millis() - age_ms;
        crate::harness::db_exec(
            &app.db_url,
            &format!(
                "INSERT INTO duty_occurrences (template_id, due_day, user_id, day, created_at) VALUES ({id}, '{day}', {aux}, '{day}', {at})"
            ),
        )
        .await;
    }
    let (_, r) =
        leader.post("/api/v1/duty-templates/generate", json!({"from": "2028-03-11", "to": "2028-03-12"})).await;
    let stale = count(format!("SELECT COUNT(*) FROM duty_occurrences WHERE template_id = {id} AND day = '2028-03-11' AND user_id = {aux} AND task_id IS NOT NULL")).await;
    let fresh = count(format!("SELECT COUNT(*) FROM duty_occurrences WHERE template_id = {id} AND day = '2028-03-12' AND user_id = {aux} AND task_id IS NOT NULL")).await;
    assert_eq!((stale, fresh), (1, 0), "{r}");
    app.stop().await;
}
