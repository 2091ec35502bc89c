//! The SQLite backend: one writer connection (SQLite allows one writer at a
//! time; queuing in the pool beats busy retries), a pool of readers in WAL mode.

use crate::{Result, StoreError};
use sqlx::Pool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

type Db = sqlx::Sqlite;
const BACKEND: &str = "sqlite";

pub struct SqliteStore {
    write: Pool<Db>,
    read: Pool<Db>,
}

type Backend = SqliteStore;

impl SqliteStore {
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Invalid(format!("cannot create {}: {e}", dir.display())))?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new().max_connections(1).connect_with(opts.clone()).await?;
        let read = SqlitePoolOptions::new().max_connections(4).connect_with(opts.read_only(false)).await?;
        Ok(Self { write, read })
    }

    fn w(&self) -> &Pool<Db> {
        &self.write
    }

    fn r(&self) -> &Pool<Db> {
        &self.read
    }

    async fn run_migrations(&self) -> Result<()> {
        sqlx::migrate!("./migrations/sqlite").run(&self.write).await?;
        Ok(())
    }

    async fn backup_to(&self, dest: &Path) -> Result<()> {
        let d = dest.to_string_lossy().to_string();
        sqlx::query("VACUUM INTO $1").bind(d).execute(&self.write).await?;
        Ok(())
    }
}

include!("common.rs");
include!("dispute_sql.rs");
include!("duty_sql.rs");
include!("hazard_sql.rs");
include!("volunteer_sql.rs");
