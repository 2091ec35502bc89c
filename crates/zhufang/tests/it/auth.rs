//! Login, sessions, CSRF, throttling, password change.

use crate::harness::{TestApp, body, code};
use reqwest::{Client, StatusCode};
use serde_json::json;

#[tokio::test]
async fn login_bearer_cookie_csrf_logout() {
    let app = TestApp::spawn().await;
    let (s, v) = app.login_pw("s1.officer", "wrong").await.err().unwrap();
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "bad_credentials"));
    let (s, v) = app.login_pw("nobody", "demo").await.err().unwrap();
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "bad_credentials"), "unknown users look the same");

    let api = app.login("s1.officer").await;
    assert_eq!(api.user["username"], "s1.officer");
    assert!(api.user["phone"].as_str().unwrap_or("****").contains("****"), "masked: {}", api.user);
    let (s, me) = api.get("/api/v1/me").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["roles"][0], "community_officer");
    // no or a wrong token
    let (s, v) = body(Client::new().get(app.url("/api/v1/me")).send().await.unwrap()).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (s, _) = body(Client::new().get(app.url("/api/v1/me")).bearer_auth("forged").send().await.unwrap()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // cookie session: reads work, writes need the CSRF token
    let jar = Client::builder().cookie_store(true).build().unwrap();
    let r = jar
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "s1.command", "password": "demo"}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in tests");
    let csrf = r.json::<serde_json::Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(jar.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::OK);
    let task = json!({"title": "CSRF测试", "catalogue_code": "ZF-XF-001", "org_unit": "361202510000"});
    let (s, v) = body(jar.post(app.url("/api/v1/tasks")).json(&task).send().await.unwrap()).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "csrf_failed"));
    let (s, v) =
        body(jar.post(app.url("/api/v1/tasks")).header("x-csrf-token", "nope").json(&task).send().await.unwrap()).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "csrf_failed"));
    let (s, _) =
        body(jar.post(app.url("/api/v1/tasks")).header("x-csrf-token", &csrf).json(&task).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::CREATED);
    // a cross-site login form post is refused
    let r = Client::new()
        .post(app.url("/login"))
        .header("origin", "http://evil.example")
        .form(&[("username", "s1.command"), ("password", "demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // logout ends the session
    let r = jar.delete(app.url("/api/v1/session")).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(jar.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let r = api.c.delete(app.url("/api/v1/session")).bearer_auth(&api.token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(api.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);

    // pages: anonymous → login; the login form sets the cookie
    let nr = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = nr.get(app.url("/tasks")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Ftasks");
    let r = nr
        .post(app.url("/login"))
        .form(&[("username", "s1.command"), ("password", "demo"), ("next", "/tasks")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/tasks");
    assert!(r.headers()["set-cookie"].to_str().unwrap().starts_with("zf_session="));
    let r = nr
        .post(app.url("/login"))
        .form(&[("username", "s1.command"), ("password", "demo"), ("next", "//evil.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/", "no open redirect");
    app.stop().await;
}

#[tokio::test]
async fn throttles_repeated_failures() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        let (s, _) = app.login_pw("s2.officer", "bad").await.err().unwrap();
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // now even the right password waits
    let (s, v) = app.login_pw("s2.officer", "demo").await.err().unwrap();
    assert_eq!((s, code(&v)), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
    assert!(v["error"]["message"].as_str().unwrap().contains("分钟"));
    // other users are not locked out
    assert!(app.login_pw("s2.aux", "demo").await.is_ok());
    app.stop().await;
}

#[tokio::test]
async fn reset_forces_a_password_change() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let (_, users) = admin.get("/api/v1/users?q=s1.aux").await;
    let uid = users["items"][0]["id"].as_i64().unwrap();
    let officer = app.login("s1.aux").await;
    let (s, v) = admin.post(&format!("/api/v1/users/{uid}/password-reset"), json!({"password": "short"})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password")));
    let (s, _) = admin.post(&format!("/api/v1/users/{uid}/password-reset"), json!({"password": "Temp12345"})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(officer.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED, "sessions end on reset");
    let fresh = app.login_pw("s1.aux", "Temp12345").await.unwrap();
    assert_eq!(fresh.user["must_change_password"], true);
    let (s, v) = fresh.get("/api/v1/tasks").await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "password_change_required"));
    let (s, v) =
        fresh.post("/api/v1/me/password", json!({"current_password": "wrong", "new_password": "Better2026"})).await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("current_password"))
    );
    let (s, _) =
        fresh.post("/api/v1/me/password", json!({"current_password": "Temp12345", "new_password": "Better2026"})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(fresh.get("/api/v1/tasks").await.0, StatusCode::OK);
    assert!(app.login_pw("s1.aux", "Better2026").await.is_ok());
    // only admins reset
    let (s, _) = fresh.post(&format!("/api/v1/users/{uid}/password-reset"), json!({"password": "Temp12345"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn tokens_are_stored_hashed_and_cookies_secure_behind_tls() {
    let app = TestApp::spawn().await;
    let api = app.login("s1.officer").await;
    // the raw token is nowhere in the sessions table; its SHA-256 is
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(api.token.as_bytes()))
    };
    let q = "SELECT COUNT(*) FROM sessions WHERE token_hash = $1";
    let raw_found = crate::harness::db_count(&app.db_url, q, &api.token).await;
    let hash_found = crate::harness::db_count(&app.db_url, q, &hash).await;
    assert_eq!((raw_found, hash_found), (0, 1));
    // behind a TLS-terminating proxy the cookie is Secure
    let r = Client::new()
        .post(app.url("/api/v1/session"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"username": "s1.officer", "password": "demo"}))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("; Secure"));
    // sign-ins are audited
    let (_, audit) = app.login("admin").await.get("/api/v1/audit?object_type=user").await;
    assert!(audit["items"].as_array().unwrap().iter().any(|r| r["action"] == "login" && r["actor"] != "system"));
    app.stop().await;
}

#[tokio::test]
async fn an_idle_session_is_signed_out() {
    let app = TestApp::spawn().await;
    let idle = app.login("s1.officer").await;
    let busy = app.login("s1.leader").await;
    let now = chrono::Utc::now().timestamp_millis();
    let hour = 3_600_000;
    // both signed in eleven hours ago (within the 12-hour limit); one was last seen two hours ago
    crate::harness::db_exec(
        &app.db_url,
        &format!(
            "UPDATE sessions SET created_at = {}, last_seen_at = {} WHERE user_id = (SELECT id FROM users WHERE username = 's1.officer')",
            now - 11 * hour,
            now - 2 * hour
        ),
    )
    .await;
    crate::harness::db_exec(
        &app.db_url,
        &format!(
            "UPDATE sessions SET created_at = {}, last_seen_at = {} WHERE user_id = (SELECT id FROM users WHERE username = 's1.leader')",
            now - 11 * hour,
            now - 5 * 60_000
        ),
    )
    .await;
    let (s, v) = idle.get("/api/v1/me").await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"), "idle for two hours: signed out");
    assert_eq!(
        crate::harness::db_count(
            &app.db_url,
            "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = $1",
            "s1.officer"
        )
        .await,
        0,
        "and the session is gone"
    );
    // in use five minutes ago: still signed in, and the use is recorded
    assert_eq!(busy.get("/api/v1/me").await.0, StatusCode::OK);
    let fresh = crate::harness::db_count(
        &app.db_url,
        "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = $1 AND s.last_seen_at > s.created_at + 39600000",
        "s1.leader",
    )
    .await;
    assert_eq!(fresh, 1, "last seen now");
    app.stop().await;
}
