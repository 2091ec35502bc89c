//! The PostgreSQL backend: one pool for reads and writes.

use crate::{Result, StoreError};
use sqlx::Pool;
use sqlx::postgres::PgPoolOptions;
use std::path::Path;
use std::time::Duration;

type Db = sqlx::Postgres;
const BACKEND: &str = "postgres";

pub struct PgStore {
    pool: Pool<Db>,
    url: String,
}

type Backend = PgStore;

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self> {
        // Prepared statements are kept per connection; after five runs PostgreSQL
        // may switch to a generic plan that ignores the bound values (for the
        // map's bbox queries it walked an index over every row and spilled its
        // GROUP BY to disk: ~40 % slower). Plan each execution for its values.
        let opts = url.parse::<sqlx::postgres::PgConnectOptions>()?.options([("plan_cache_mode", "force_custom_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Self { pool, url: url.to_string() })
    }

    fn w(&self) -> &Pool<Db> {
        &self.pool
    }

    fn r(&self) -> &Pool<Db> {
        &self.pool
    }

    async fn run_migrations(&self) -> Result<()> {
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await?;
        Ok(())
    }

    /// Writes a plain-SQL dump with `pg_dump` (the PostgreSQL client tools).
    async fn backup_to(&self, dest: &Path) -> Result<()> {
        let out = tokio::process::Command::new("pg_dump")
            .arg("--no-owner")
            .arg("--file")
            .arg(dest)
            .arg(&self.url)
            .output()
            .await
            .map_err(|e| StoreError::Invalid(format!("cannot run pg_dump: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!("pg_dump failed: {}", String::from_utf8_lossy(&out.stderr))))
        }
    }
}

include!("common.rs");
include!("dispute_sql.rs");
include!("duty_sql.rs");
include!("hazard_sql.rs");
include!("volunteer_sql.rs");
