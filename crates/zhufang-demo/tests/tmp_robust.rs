use chrono::{Duration, TimeZone, Utc};
use zhufang_demo::{SeedOptions, seed};
use zhufang_store::Store;
use zhufang_store::model::{PageReq, TaskFilter};

#[tokio::test]
async fn robust() {
    let base = Utc.with_ymd_and_hms(2026, 11, 28, 16, 52, 0).unwrap();
    for k in 0..14i64 {
        let now = base + Duration::hours(k * 17 + 3) + Duration::days(k * 3);
        let dir = std::env::temp_dir().join(format!("zf-robust-{k}-{}", std::process::id()));
        let store = zhufang_store::sqlite::SqliteStore::open(&dir.join("d.db")).await.unwrap();
        store.migrate().await.unwrap();
        store.ensure_defaults().await.unwrap();
        let r = seed(&store, "x", now, &SeedOptions { tasks: 300, ..Default::default() }).await.unwrap();
        let od = store.list_tasks(&TaskFilter { overdue_at: Some(now), ..Default::default() }, PageReq::new(None, None)).await.unwrap().total;
        let ds = store.list_tasks(&TaskFilter { due_soon_at: Some(now), ..Default::default() }, PageReq::new(None, None)).await.unwrap().total;
        println!("{now} overdue={od} due_soon={ds} {:?}", r.by_state);
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }
}
