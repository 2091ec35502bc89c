//! Times the demo seeder on a fresh database.
//!
//! `cargo run -p zhufang-demo --example seed_time [--release] -- [TASKS] [DB_URL]`
//!
//! Default: 2,000 tasks into a temporary SQLite file that is removed
//! afterwards. `DB_URL` is `sqlite://PATH` (kept) or `postgres://…` (an
//! existing, empty database).

use std::time::Instant;
use zhufang_demo::{SeedOptions, seed};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let tasks: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(2000);
    let given = args.next();
    let temp = std::env::temp_dir().join(format!("zhufang-seed-time-{}.db", std::process::id()));
    let url = given.clone().unwrap_or_else(|| format!("sqlite://{}", temp.display()));
    let store = zhufang_store::open(&url).await?;
    store.migrate().await?;
    store.ensure_defaults().await?;
    let started = Instant::now();
    let report =
        seed(store.as_ref(), "not-a-real-hash", chrono::Utc::now(), &SeedOptions { tasks, ..Default::default() })
            .await?;
    let took = started.elapsed();
    println!(
        "seeded {} tasks on {} in {:.2?} ({:.2} ms/task)",
        report.tasks,
        store.backend(),
        took,
        took.as_secs_f64() * 1000.0 / tasks.max(1) as f64
    );
    println!("{}", serde_json::to_string(&report)?);
    drop(store);
    if given.is_none() {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", temp.display()));
        }
    }
    Ok(())
}
