//! The binary: audit verify finds tampering; backup writes a copy.

use crate::harness::TestApp;
use serde_json::json;
use std::process::Command;

fn zhufang(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zhufang")).args(args).env("RUST_LOG", "warn").output().unwrap()
}

#[tokio::test]
async fn audit_verify_names_the_first_broken_record() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    let id = command.create_task("审计测试", "361202510000").await;
    command.act(id, json!({"action": "dispatch", "assignee": "s1.officer"})).await;
    let url = app.db_url.clone();
    let out = zhufang(&["audit", "verify", "--db", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));

    // back up before tampering (SQLite: a database file; PostgreSQL: pg_dump)
    let backup = app.dir.join("backup.db");
    let out = zhufang(&["backup", "--db", &url, "--out", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::metadata(&backup).unwrap().len() > 0);

    // edit a record in the middle
    crate::harness::db_exec(&url, "UPDATE audit_log SET action = 'tampered' WHERE seq = 5").await;
    let out = zhufang(&["audit", "verify", "--db", &url]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("record 5"), "{err}");
    crate::harness::db_exec(
        &url,
        "UPDATE audit_log SET action = (SELECT action FROM audit_log WHERE seq = 4) WHERE seq = 5",
    )
    .await;

    // the backup verifies (SQLite only: it is itself a database)
    if !url.starts_with("postgres") {
        // a plain file path names a SQLite database as well as sqlite://PATH does
        let out = zhufang(&["audit", "verify", "--db", &backup.display().to_string()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    app.stop().await;
}

#[tokio::test]
async fn audit_verify_detects_deletions() {
    let app = TestApp::spawn().await;
    let command = app.login("s1.command").await;
    command.create_task("删除测试", "361202510000").await;
    let url = app.db_url.clone();
    crate::harness::db_exec(&url, "DELETE FROM audit_log WHERE seq = 3").await;
    let out = zhufang(&["audit", "verify", "--db", &url]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("record 3"), "{}", String::from_utf8_lossy(&out.stderr));
    app.stop().await;
}

#[tokio::test]
async fn a_live_chain_verifies_while_records_are_appended() {
    let app = TestApp::spawn().await;
    let store = app.store.clone();
    // a steady stream of appends (as a busy system makes) while the chain is checked
    let writer = tokio::spawn(async move {
        for i in 0..300 {
            let ev = zhufang_domain::audit::AuditEvent::new(None, "system", "test", i, "append", None, None);
            store.audit(&ev, chrono::Utc::now()).await.unwrap();
        }
    });
    let mut checks = 0;
    while !writer.is_finished() {
        let status = app.store.verify_audit().await.unwrap();
        assert!(matches!(status, zhufang_store::ChainStatus::Intact { .. }), "check {checks}: {status:?}");
        checks += 1;
    }
    writer.await.unwrap();
    assert!(checks > 0);
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Intact { .. }));
    // deleting the last record is still caught (the head says more)
    crate::harness::db_exec(&app.db_url, "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)").await;
    assert!(matches!(app.store.verify_audit().await.unwrap(), zhufang_store::ChainStatus::Broken(_)));
    app.stop().await;
}

#[tokio::test]
async fn user_add_and_demo_refuses_remote_bind() {
    let app = TestApp::spawn().await;
    let url = app.db_url.clone();
    let out = Command::new(env!("CARGO_BIN_EXE_zhufang"))
        .args([
            "user",
            "add",
            "--db",
            &url,
            "--username",
            "cli.user",
            "--name",
            "命令行用户",
            "--org",
            "361202510000",
            "--roles",
            "command_room",
            "--no-change-required",
        ])
        .env("ZHUFANG_PASSWORD", "Cli2026pass")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let api = app.login_pw("cli.user", "Cli2026pass").await.unwrap();
    assert_eq!(api.user["roles"][0], "command_room");
    let out = zhufang(&["demo", "--data-dir", app.dir.join("d").to_str().unwrap(), "--bind", "0.0.0.0:0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));
    app.stop().await;
}

#[tokio::test]
async fn org_units_from_cli_and_api() {
    let app = TestApp::spawn().await;
    let url = app.db_url.clone();
    let out = zhufang(&[
        "org",
        "add",
        "--db",
        &url,
        "--code",
        "361202510099",
        "--name",
        "新建警务区",
        "--kind",
        "district",
        "--parent",
        "361202510000",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = zhufang(&["org", "add", "--db", &url, "--code", "999", "--name", "第二个根", "--kind", "bureau"]);
    assert!(!out.status.success(), "one root only");
    let out = zhufang(&["org", "list", "--db", &url]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("新建警务区"));
    let admin = app.login("admin").await;
    let (s, v) = admin
        .post(
            "/api/v1/org-units",
            json!({"code": "361202510098", "name": "API警务区", "kind": "district", "parent": "361202510000"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{v}");
    assert!(v["path"].as_str().unwrap().ends_with(&format!("/{}/", v["id"])));
    let (s, v) = admin
        .post(
            "/api/v1/org-units",
            json!({"code": "361202510098", "name": "重复", "kind": "district", "parent": "361202510000"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "duplicate code: {v}");
    let (s, v) =
        admin.post("/api/v1/org-units", json!({"code": "x", "name": "", "kind": "planet", "parent": "nope"})).await;
    assert_eq!(v["error"]["fields"].as_array().unwrap().len(), 4, "{s} {v}");
    let leader = app.login("s1.leader").await;
    let (s, _) = leader
        .post(
            "/api/v1/org-units",
            json!({"code": "361202510097", "name": "x", "kind": "district", "parent": "361202510000"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::FORBIDDEN);
    let (_, units) = leader.get("/api/v1/org-units").await;
    assert!(
        units
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["path"].as_str().unwrap().starts_with(units[0]["path"].as_str().unwrap()))
    );
    app.stop().await;
}
