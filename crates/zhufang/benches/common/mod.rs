//! Machine facts, options, fresh databases and clean-up shared by the
//! benchmarks (each uses a part of it).
#![allow(dead_code)]

use anyhow::{Context, Result, anyhow, bail};
use std::path::PathBuf;

use std::time::Duration;

/// Items per second.
pub fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// The CPU model from /proc/cpuinfo.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The 1, 5 and 15 minute load averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

pub fn parse_dbs(v: &str) -> Result<Vec<&'static str>> {
    Ok(match v.trim().to_ascii_lowercase().as_str() {
        "sqlite" => vec!["sqlite"],
        "postgres" | "postgresql" | "pg" => vec!["postgres"],
        "both" | "all" => vec!["sqlite", "postgres"],
        other => bail!("--db must be sqlite, postgres or both, not {other:?}"),
    })
}

pub fn parse_list(v: &str, what: &str) -> Result<Vec<usize>> {
    let list: Vec<usize> = v
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<usize>().map_err(|_| anyhow!("{what} must be a positive integer, not {s:?}")))
        .collect::<Result<_>>()?;
    if list.is_empty() || list.contains(&0) {
        bail!("{what} must be positive: {v:?}");
    }
    Ok(list)
}

pub fn mem_total() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("MemTotal")).map(|l| l.trim_start_matches("MemTotal:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

pub fn git_rev() -> String {
    let out = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match out(&["rev-parse", "--short", "HEAD"]) {
        Some(rev) => {
            let dirty = out(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()).unwrap_or(false);
            if dirty { format!("{rev} (+ uncommitted changes)") } else { rev }
        }
        None => "unknown".into(),
    }
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), rand::random::<u32>())
}

pub async fn pg_exec(admin: &str, sql: String) -> Result<()> {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(admin)
        .await
        .with_context(|| format!("connecting to {}", zhufang::redact(admin)))?;
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await?;
    let _ = c.close().await;
    Ok(())
}

/// What to remove when a run ends: the temp dir, the PostgreSQL database.
pub struct Cleanup {
    pub dir: PathBuf,
    pub pg_drop: Option<(String, String)>,
}

impl Cleanup {
    pub async fn run(mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin, name)) = self.pg_drop.take()
            && let Err(e) = pg_exec(&admin, format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await
        {
            eprintln!("warning: could not drop database {name}: {e:#}");
        }
    }
}

/// PostgreSQL's version and the given settings, e.g. `PostgreSQL 15.20, work_mem=4MB`.
pub async fn pg_facts(admin: &str, settings: &[&str]) -> String {
    use sqlx::Connection;
    let Ok(mut c) = sqlx::PgConnection::connect(admin).await else { return "PostgreSQL (version unknown)".into() };
    let mut parts = vec![];
    if let Ok(v) = sqlx::query_scalar::<_, String>("SHOW server_version").fetch_one(&mut c).await {
        parts.push(format!("PostgreSQL {}", v.split_whitespace().next().unwrap_or("")));
    }
    for name in settings {
        if let Ok(v) =
            sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!("SHOW {name}"))).fetch_one(&mut c).await
        {
            parts.push(format!("{name}={}", v.split_whitespace().next().unwrap_or("")));
        }
    }
    let _ = c.close().await;
    parts.join(", ")
}

/// A fresh, empty database for one run: a SQLite file in a new temp dir, or
/// a new PostgreSQL database on the admin URL. Returns (temp dir, database
/// URL, a line describing the backend); `cleanup` is set before anything is
/// created, so a failed run still removes what it made.
pub async fn fresh_db(
    db: &str,
    pg_admin: &str,
    pg_settings: &[&str],
    cleanup: &mut Option<Cleanup>,
) -> Result<(PathBuf, String, String)> {
    let dir = std::env::temp_dir().join(unique("zhufang-bench"));
    std::fs::create_dir_all(&dir)?;
    *cleanup = Some(Cleanup { dir: dir.clone(), pg_drop: None });
    if db == "postgres" {
        let name = unique("zf_bench");
        pg_exec(pg_admin, format!("CREATE DATABASE {name}"))
            .await
            .context("creating the bench database (is PostgreSQL running?)")?;
        cleanup.as_mut().expect("set above").pg_drop = Some((pg_admin.to_string(), name.clone()));
        let (head, _) = pg_admin.rsplit_once('/').ok_or_else(|| anyhow!("--pg URL needs a database name"))?;
        let info = format!("{} (app pool: 16 connections)", pg_facts(pg_admin, pg_settings).await);
        Ok((dir, format!("{head}/{name}"), info))
    } else {
        let url = format!("sqlite://{}", dir.join("zhufang.db").display());
        Ok((dir, url, "SQLite (WAL, synchronous=NORMAL; app pools: 1 writer + 4 readers)".to_string()))
    }
}

/// The command line as (key, value) pairs: `--key value` and `--key=value`
/// both work for the keys in `with_value`; anything else (cargo's own
/// `--bench`) comes back without a value.
pub fn args(with_value: &[&str]) -> Result<Vec<(String, Option<String>)>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = vec![];
    let mut i = 0;
    while i < args.len() {
        let (key, inline) = match args[i].split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (args[i].clone(), None),
        };
        let value = if with_value.contains(&key.as_str()) {
            match inline {
                Some(v) => Some(v),
                None => {
                    i += 1;
                    Some(args.get(i).cloned().ok_or_else(|| anyhow!("{key} needs a value"))?)
                }
            }
        } else {
            None
        };
        out.push((key, value));
        i += 1;
    }
    Ok(out)
}
