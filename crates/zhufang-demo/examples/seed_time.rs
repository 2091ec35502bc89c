//! Times the demo seeder on a fresh SQLite file.
//!
//! `cargo run -p zhufang-demo --example seed_time [--release] -- [TASKS] [DB_PATH]`
//! (default 2000 tasks in a temporary file that is removed afterwards).

use std::time::Instant;
use zhufang_demo::{SeedOptions, seed};
use zhufang_store::Store;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let tasks: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(2000);
    let keep = args.next().map(std::path::PathBuf::from);
    let path = keep.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("zhufang-seed-time-{}.db", std::process::id())));
    let store = zhufang_store::sqlite::SqliteStore::open(&path).await?;
    store.migrate().await?;
    store.ensure_defaults().await?;
    let started = Instant::now();
    let report = seed(&store, "not-a-real-hash", chrono::Utc::now(), &SeedOptions { tasks, ..Default::default() }).await?;
    let took = started.elapsed();
    println!("seeded {} tasks on SQLite in {:.2?} ({:.2} ms/task)", report.tasks, took, took.as_secs_f64() * 1000.0 / tasks.max(1) as f64);
    println!("{}", serde_json::to_string_pretty(&report)?);
    drop(store);
    if keep.is_none() {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
        }
    } else {
        println!("kept {}", path.display());
    }
    Ok(())
}
