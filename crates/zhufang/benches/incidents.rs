//! Incidents taken in per second through HTTP, on SQLite and PostgreSQL.
//!
//! The real app is started in this process on 127.0.0.1:0 against a fresh
//! database (the demo organisation and its grids, no history). C workers
//! then POST /api/v1/incidents as the station's command room: each incident
//! has a position in or near the town (routed to its grid, or the nearest
//! station), a phone (one in ten repeats an earlier caller, so the
//! repeat-call lookup works), a type, and a description — everything intake
//! does, including the triage suggestion, the map item and the audit record,
//! in one transaction per incident. Only the POSTs are timed. Any answer
//! other than 201 aborts the run; at the end the count must match and the
//! audit chain must verify.
//!
//!   --db sqlite|postgres|both     ZF_BENCH_DB           (both)
//!   --incidents N                 ZF_BENCH_INCIDENTS    (1000)
//!   --concurrency C[,C2,...]      ZF_BENCH_CONCURRENCY  (8)
//!   --pg URL (admin connection)   ZF_BENCH_PG           (postgres://postgres@127.0.0.1:5432/test)
//!
//! `cargo bench -p zhufang --bench incidents -- --db sqlite --incidents 500 --concurrency 1,8`

mod common;
use anyhow::{Context, Result, anyhow, bail};
use common::{Cleanup, cpu_model, fresh_db, git_rev, loadavg, mem_total, parse_dbs, parse_list, rate};
use rand::{Rng, SeedableRng};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use zhufang_store::{ChainStatus, Store};

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Roads of the demo town, for the addresses given (and then suggested at intake).
const ROADS: [&str; 6] = ["滨江路", "文峰路", "望江路", "新华里街", "人民路", "胜利路"];
const TYPES: [&str; 8] = ["0201", "0202", "0301", "0304", "0403", "0506", "0801", "010201"];
const TEXTS: [&str; 8] = [
    "两人在菜市场门口发生争执并有推搡",
    "小区门口有人聚集吵闹，影响休息",
    "路口两车追尾，无人员受伤",
    "车辆堵住小区出口，请求挪车",
    "夫妻吵架，女方称被推倒",
    "老人钥匙锁在屋内，请求帮助开门",
    "路灯坏了好几天，晚上很黑",
    "接到自称公安局的电话，要求转账到安全账户",
];

struct Opts {
    dbs: Vec<&'static str>,
    incidents: usize,
    concurrency: Vec<usize>,
    pg_admin: String,
}

fn parse_opts() -> Result<Opts> {
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.trim().is_empty());
    let mut o = Opts {
        dbs: parse_dbs(&env("ZF_BENCH_DB").unwrap_or_else(|| "both".into()))?,
        incidents: parse_list(&env("ZF_BENCH_INCIDENTS").unwrap_or_else(|| "1000".into()), "--incidents")?[0],
        concurrency: parse_list(&env("ZF_BENCH_CONCURRENCY").unwrap_or_else(|| "8".into()), "--concurrency")?,
        pg_admin: env("ZF_BENCH_PG").unwrap_or_else(|| DEFAULT_PG.into()),
    };
    for (key, value) in common::args(&["--db", "--incidents", "--concurrency", "-c", "--pg"])? {
        match key.as_str() {
            "--db" => o.dbs = parse_dbs(&value.unwrap_or_default())?,
            "--incidents" => o.incidents = parse_list(&value.unwrap_or_default(), "--incidents")?[0],
            "--concurrency" | "-c" => o.concurrency = parse_list(&value.unwrap_or_default(), "--concurrency")?,
            "--pg" => o.pg_admin = value.unwrap_or_default(),
            _ => {} // cargo's own arguments (`--bench`)
        }
    }
    Ok(o)
}

fn stats_ms(mut us: Vec<u32>) -> (f64, f64, f64) {
    us.sort_unstable();
    let pick = |p: f64| {
        let k = ((p * us.len() as f64).ceil() as usize).clamp(1, us.len()) - 1;
        f64::from(us[k]) / 1000.0
    };
    if us.is_empty() { (0.0, 0.0, 0.0) } else { (pick(0.5), pick(0.95), pick(1.0)) }
}

async fn run(db: &'static str, concurrency: usize, o: &Opts) -> Result<String> {
    let mut cleanup: Option<Cleanup> = None;
    let out = run_in(db, concurrency, o, &mut cleanup).await;
    if let Some(c) = cleanup {
        c.run().await;
    }
    out
}

async fn run_in(db: &'static str, concurrency: usize, o: &Opts, cleanup: &mut Option<Cleanup>) -> Result<String> {
    let (dir, url, backend) = fresh_db(db, &o.pg_admin, &["synchronous_commit", "fsync"], cleanup).await?;
    let store: Arc<dyn Store> = zhufang::open_store(&url).await?;
    zhufang::prepare_demo(store.as_ref(), 0).await.context("seeding the demo organisation")?;
    let mut settings =
        zhufang::Settings::resolve(zhufang::FileConfig::default(), Some(dir), Some(url), Some("127.0.0.1:0".into()))?;
    settings.scan_interval = Duration::from_secs(3600);
    // no duty generation in the background: it would compete with the timed phase
    settings.web.duty_window_days = 0;
    let running = zhufang::start(store.clone(), &settings).await?;
    let base = format!("http://{}", running.addr);
    let client = Client::builder().pool_max_idle_per_host(concurrency * 2).build()?;
    let login = client
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": "s1.command", "password": "demo"}))
        .send()
        .await?
        .json::<Value>()
        .await?;
    let token = login["token"].as_str().ok_or_else(|| anyhow!("no token: {login}"))?.to_string();
    // positions: the demo grids' extent, a little beyond it (some fall outside every grid)
    let grids = store.grids(None).await?;
    let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
    for g in &grids {
        let v: Value = serde_json::from_str(&g.geometry)?;
        for ring in v["coordinates"].as_array().into_iter().flatten() {
            for p in ring.as_array().into_iter().flatten() {
                let (x, y) = (p[0].as_f64().unwrap_or_default(), p[1].as_f64().unwrap_or_default());
                lo = [lo[0].min(x), lo[1].min(y)];
                hi = [hi[0].max(x), hi[1].max(y)];
            }
        }
    }
    let audit_before = match store.verify_audit().await? {
        ChainStatus::Intact { records } => records,
        ChainStatus::Broken(e) => bail!("audit chain broken before the run: {e}"),
    };
    let next = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut workers = vec![];
    for w in 0..concurrency {
        let (client, base, token, next) = (client.clone(), base.clone(), token.clone(), next.clone());
        let n = o.incidents;
        workers.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(20240601 + w as u64);
            let mut lat_us = vec![];
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= n {
                    break;
                }
                let pad = 0.01;
                let lon = rng.gen_range(lo[0] - pad..hi[0] + pad);
                let lat = rng.gen_range(lo[1] - pad..hi[1] + pad);
                // one caller in ten has called before
                let phone = if k % 10 == 9 { format!("1380000{:04}", k - 1) } else { format!("1380000{k:04}") };
                let address = format!("{}{}号", ROADS[k % ROADS.len()], (k / ROADS.len()) % 400 + 1);
                let body = json!({
                    "channel": "110", "description": TEXTS[k % TEXTS.len()], "type_code": TYPES[k % TYPES.len()],
                    "location": {"lat": lat, "lon": lon}, "caller_phone": phone, "severity": 1 + (k % 3) as i64,
                    "address": address,
                });
                let t = Instant::now();
                let r = client.post(format!("{base}/api/v1/incidents")).bearer_auth(&token).json(&body).send().await?;
                let status = r.status();
                let text = r.text().await?;
                lat_us.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                if status != StatusCode::CREATED {
                    bail!("POST /api/v1/incidents → {status}: {text}");
                }
            }
            Ok::<_, anyhow::Error>(lat_us)
        }));
    }
    let mut lat = vec![];
    for w in workers {
        lat.extend(w.await??);
    }
    let wall = t0.elapsed();
    let page = store
        .list_incidents(
            &zhufang_store::model::IncidentFilter::default(),
            zhufang_store::model::PageReq::new(Some(1), Some(1)),
        )
        .await?;
    if page.total as usize != o.incidents {
        bail!("{} incidents stored, expected {}", page.total, o.incidents);
    }
    let chain = match store.verify_audit().await? {
        ChainStatus::Intact { records } => records,
        ChainStatus::Broken(e) => bail!("audit chain broken: {e}"),
    };
    // address suggestions at intake over what was just taken in: one at a time, as typed
    let mut places_us = vec![];
    // as typed: a road's first two characters, then an address it offered, all but its last two characters
    let mut offered: Vec<String> = vec![];
    for k in 0..200 {
        let road = ROADS[k % ROADS.len()];
        let q: String = match offered.get(k % offered.len().max(1)) {
            Some(label) if k % 2 == 1 => label.chars().take(label.chars().count().saturating_sub(2).max(2)).collect(),
            _ => road.chars().take(2).collect(),
        };
        let t = Instant::now();
        let r = client
            .get(format!("{base}/api/v1/incidents/places"))
            .query(&[("q", q.as_str())])
            .bearer_auth(&token)
            .send()
            .await?;
        let status = r.status();
        let found: Value = r.json().await?;
        places_us.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
        let labels: Vec<String> =
            found.as_array().into_iter().flatten().filter_map(|p| p["label"].as_str().map(str::to_string)).collect();
        if status != StatusCode::OK || labels.is_empty() {
            bail!("GET /api/v1/incidents/places?q={q} → {status}: {found}");
        }
        offered.extend(labels.into_iter().filter(|l| l.ends_with('号')).take(2));
    }
    running.stop().await?;
    let (p50, p95, max) = stats_ms(lat);
    let (pp50, pp95, _) = stats_ms(places_us);
    Ok(format!(
        "| {db} | {concurrency} | {} | {:.2} | {:.0} | {p50:.1} | {p95:.1} | {max:.1} | {} | {pp50:.1} / {pp95:.1} |\n  backend: {backend}",
        o.incidents,
        wall.as_secs_f64(),
        rate(o.incidents, wall),
        chain - audit_before,
    ))
}

fn main() {
    let o = match parse_opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    };
    println!(
        "incidents bench · git {} · {} · {} cores · RAM {} · load {}",
        git_rev(),
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        mem_total(),
        loadavg()
    );
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let mut rows = vec![];
    for db in &o.dbs {
        for &c in &o.concurrency {
            match rt.block_on(run(db, c, &o)) {
                Ok(r) => {
                    println!("{r}");
                    rows.push(r);
                }
                Err(e) => {
                    eprintln!("error ({db}, concurrency {c}): {e:#}");
                    std::process::exit(1);
                }
            }
        }
    }
    println!(
        "\n| DB | concurrency | incidents | seconds | incidents/s | p50 ms | p95 ms | max ms | audit records | address suggestions p50 / p95 ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!("{}", r.lines().next().unwrap_or_default());
    }
}
