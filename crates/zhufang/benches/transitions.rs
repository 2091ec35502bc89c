//! Task transitions per second through HTTP, on SQLite and PostgreSQL.
//!
//! The real app is started in this process on 127.0.0.1:0 against a fresh
//! database (the demo organisation, no tasks); a reqwest client then drives
//! whole task loops through the JSON API with C concurrent workers:
//!
//!   dispatch → accept → start → submit_feedback → return → submit_feedback → evaluate
//!
//! (7 transitions a task; `--no-rework` drops the return + second feedback: 5).
//! Only the transitions are timed. Tasks are created first (timed
//! separately); the three logins (Argon2) happen before either phase.
//! Any unexpected status aborts the run. At the end every task must be
//! `evaluated` and the audit hash chain must verify.
//!
//! Options (arguments win over environment variables; unknown arguments
//! such as cargo's `--bench` are ignored):
//!
//!   --db sqlite|postgres|both        ZF_BENCH_DB           (both)
//!   --tasks N                        ZF_BENCH_TASKS        (400)
//!   --concurrency C[,C2,...]         ZF_BENCH_CONCURRENCY  (8)
//!   --no-rework                      ZF_BENCH_REWORK=0
//!   --pg URL (admin connection)      ZF_BENCH_PG           (postgres://postgres@127.0.0.1:5432/test)
//!
//! `cargo bench -p zhufang --bench transitions -- --db sqlite --tasks 200 --concurrency 1,8`

mod common;
use anyhow::{Context, Result, anyhow, bail};
use common::{Cleanup, cpu_model, fresh_db, git_rev, loadavg, mem_total, parse_dbs, parse_list, rate};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use zhufang_store::{ChainStatus, Store};

const ORG: &str = "361202510000";
const CATALOGUE: &str = "ZF-XF-001";
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

// ---------------------------------------------------------------- options

#[derive(Debug, Clone)]
struct Opts {
    dbs: Vec<&'static str>,
    tasks: usize,
    concurrency: Vec<usize>,
    rework: bool,
    pg_admin: String,
}

fn parse_opts() -> Result<Opts> {
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.trim().is_empty());
    let mut o = Opts {
        dbs: parse_dbs(&env("ZF_BENCH_DB").unwrap_or_else(|| "both".into()))?,
        tasks: parse_list(&env("ZF_BENCH_TASKS").unwrap_or_else(|| "400".into()), "--tasks")?[0],
        concurrency: parse_list(&env("ZF_BENCH_CONCURRENCY").unwrap_or_else(|| "8".into()), "--concurrency")?,
        rework: env("ZF_BENCH_REWORK").map(|v| !matches!(v.as_str(), "0" | "false" | "no")).unwrap_or(true),
        pg_admin: env("ZF_BENCH_PG").unwrap_or_else(|| DEFAULT_PG.into()),
    };
    for (key, value) in common::args(&["--db", "--tasks", "--concurrency", "-c", "--pg"])? {
        match key.as_str() {
            "--db" => o.dbs = parse_dbs(value.as_deref().unwrap())?,
            "--tasks" => o.tasks = parse_list(value.as_deref().unwrap(), "--tasks")?[0],
            "--concurrency" | "-c" => o.concurrency = parse_list(value.as_deref().unwrap(), "--concurrency")?,
            "--pg" => o.pg_admin = value.unwrap(),
            "--no-rework" => o.rework = false,
            "--rework" => o.rework = true,
            "--help" | "-h" => {
                println!("{}", HELP);
                std::process::exit(0);
            }
            _ => {} // cargo passes `--bench`; ignore anything else
        }
    }
    Ok(o)
}

const HELP: &str = "transitions bench: task transitions/s through HTTP
  --db sqlite|postgres|both   (ZF_BENCH_DB, default both)
  --tasks N                   (ZF_BENCH_TASKS, default 400)
  --concurrency C[,C2,...]    (ZF_BENCH_CONCURRENCY, default 8)
  --no-rework                 (ZF_BENCH_REWORK=0; 5 transitions a task instead of 7)
  --pg URL                    (ZF_BENCH_PG, default postgres://postgres@127.0.0.1:5432/test)";

// ---------------------------------------------------------------- machine facts

/// CPU seconds used by this process (client + server + SQLite), from /proc/self/stat.
fn process_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // fields after the command: state(3) ... utime(14) stime(15) → indices 11, 12 here
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

/// (busy, total) jiffies of the whole machine, from /proc/stat.
fn machine_cpu() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let line = s.lines().next()?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

#[derive(Clone, Copy, Default)]
struct CpuMark {
    proc: Option<f64>,
    machine: Option<(u64, u64)>,
}

impl CpuMark {
    fn now() -> Self {
        CpuMark { proc: process_cpu(), machine: machine_cpu() }
    }
    /// (this process's CPU as cores used, whole machine busy fraction) since `self`.
    fn since(&self, wall: Duration) -> (Option<f64>, Option<f64>) {
        let now = CpuMark::now();
        let proc = match (self.proc, now.proc) {
            (Some(a), Some(b)) if wall.as_secs_f64() > 0.0 => Some((b - a) / wall.as_secs_f64()),
            _ => None,
        };
        let machine = match (self.machine, now.machine) {
            (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => Some((b1 - b0) as f64 / (t1 - t0) as f64),
            _ => None,
        };
        (proc, machine)
    }
}

// ---------------------------------------------------------------- the app

struct App {
    base: String,
    running: zhufang::Running,
    store: Arc<dyn Store>,
    backend_info: String,
}

/// A fresh database, migrated and seeded with the demo organisation (no
/// tasks), and the app listening on 127.0.0.1:0.
async fn start_app(db: &str, opts: &Opts, cleanup: &mut Option<Cleanup>) -> Result<App> {
    let (dir, url, backend_info) = fresh_db(db, &opts.pg_admin, &["synchronous_commit", "fsync"], cleanup).await?;
    let store = zhufang::open_store(&url).await?;
    zhufang::prepare_demo(store.as_ref(), 0).await.context("seeding the demo organisation")?;
    let mut settings =
        zhufang::Settings::resolve(zhufang::FileConfig::default(), Some(dir), Some(url), Some("127.0.0.1:0".into()))?;
    settings.scan_interval = Duration::from_secs(3600); // keep the deadline scanner out of the way
    // no duty generation in the background: it would compete with the timed phase
    settings.web.duty_window_days = 0;
    let running = zhufang::start(store.clone(), &settings).await?;
    Ok(App { base: format!("http://{}", running.addr), running, store, backend_info })
}

// ---------------------------------------------------------------- the client

struct Api {
    c: Client,
    base: String,
    /// command, officer, leader
    tokens: [String; 3],
}

const COMMAND: usize = 0;
const OFFICER: usize = 1;
const LEADER: usize = 2;

async fn send(c: &Client, url: &str, token: Option<&str>, body: &Value, expect: StatusCode) -> Result<Value> {
    let mut req = c.post(url).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.with_context(|| format!("POST {url}"))?;
    let status = r.status();
    let text = r.text().await.with_context(|| format!("reading the answer to POST {url}"))?;
    if status != expect {
        bail!("POST {url} {body} → {status} (expected {expect}): {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("POST {url}: not JSON: {text}"))
}

async fn login(c: &Client, base: &str, username: &str) -> Result<String> {
    let v = send(
        c,
        &format!("{base}/api/v1/session"),
        None,
        &json!({"username": username, "password": "demo"}),
        StatusCode::OK,
    )
    .await?;
    v["token"].as_str().map(str::to_string).ok_or_else(|| anyhow!("login {username}: no token in {v}"))
}

struct Step {
    label: &'static str,
    role: usize,
    body: Value,
    expect_state: &'static str,
}

fn steps(rework: bool) -> Vec<Step> {
    let s = |label, role, body, expect_state| Step { label, role, body, expect_state };
    let mut v = vec![
        s(
            "dispatch",
            COMMAND,
            json!({"action": "dispatch", "assignee": "s1.officer", "note": "请今日完成"}),
            "dispatched",
        ),
        s("accept", OFFICER, json!({"action": "accept"}), "accepted"),
        s("start", OFFICER, json!({"action": "start"}), "in_progress"),
        s(
            "submit_feedback",
            OFFICER,
            json!({"action": "submit_feedback", "note": "已检查，灭火器过期2具，已督促更换"}),
            "feedback_submitted",
        ),
    ];
    if rework {
        v.push(s("return", LEADER, json!({"action": "return", "note": "请补充整改照片"}), "in_progress"));
        v.push(s(
            "submit_feedback#2",
            OFFICER,
            json!({"action": "submit_feedback", "note": "已补充并复查"}),
            "feedback_submitted",
        ));
    }
    v.push(s("evaluate", LEADER, json!({"action": "evaluate", "score": 5, "note": "处置到位"}), "evaluated"));
    v
}

/// One worker: takes tasks from the shared queue and runs each task's loop.
/// Returns (step index, latency µs) per successful transition, and the
/// error that stopped it, if any (it then tells the others to stop too).
async fn worker(
    api: Arc<Api>,
    tasks: Arc<Vec<(i64, i64)>>,
    next: Arc<AtomicUsize>,
    abort: Arc<AtomicBool>,
    steps: Arc<Vec<Step>>,
) -> (Vec<(u8, u32)>, Option<anyhow::Error>) {
    let mut lat = Vec::with_capacity(tasks.len() * steps.len() / 2);
    let r = run_loops(&api, &tasks, &next, &abort, &steps, &mut lat).await;
    if r.is_err() {
        abort.store(true, Ordering::Relaxed);
    }
    (lat, r.err())
}

async fn run_loops(
    api: &Api,
    tasks: &[(i64, i64)],
    next: &AtomicUsize,
    abort: &AtomicBool,
    steps: &[Step],
    lat: &mut Vec<(u8, u32)>,
) -> Result<()> {
    loop {
        if abort.load(Ordering::Relaxed) {
            return Ok(());
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(&(id, mut version)) = tasks.get(i) else { return Ok(()) };
        let url = format!("{}/api/v1/tasks/{id}/transitions", api.base);
        for (k, st) in steps.iter().enumerate() {
            let mut body = st.body.clone();
            body["version"] = json!(version);
            let t0 = Instant::now();
            let r = send(&api.c, &url, Some(&api.tokens[st.role]), &body, StatusCode::OK).await;
            let us = t0.elapsed().as_micros().min(u32::MAX as u128) as u32;
            let v = r.with_context(|| format!("task {id}, step {}", st.label))?;
            if v["state"] != st.expect_state {
                bail!("task {id}, step {}: state {} (expected {})", st.label, v["state"], st.expect_state);
            }
            version = v["version"].as_i64().ok_or_else(|| anyhow!("task {id}: no version in {v}"))?;
            lat.push((k as u8, us));
        }
    }
}

// ---------------------------------------------------------------- one run

struct Stats {
    n: usize,
    mean: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

/// Milliseconds; nearest-rank percentiles.
fn stats(mut us: Vec<u32>) -> Stats {
    us.sort_unstable();
    let n = us.len();
    let pct = |p: f64| if n == 0 { 0.0 } else { us[((p * n as f64).ceil() as usize).clamp(1, n) - 1] as f64 / 1000.0 };
    Stats {
        n,
        mean: if n == 0 { 0.0 } else { us.iter().map(|&x| x as f64).sum::<f64>() / n as f64 / 1000.0 },
        p50: pct(0.50),
        p95: pct(0.95),
        p99: pct(0.99),
        max: us.last().map(|&x| x as f64 / 1000.0).unwrap_or(0.0),
    }
}

struct RunResult {
    db: &'static str,
    backend_info: String,
    concurrency: usize,
    tasks: usize,
    login_ms: Vec<f64>,
    create_wall: Duration,
    create_stats: Stats,
    transitions: usize,
    wall: Duration,
    all: Stats,
    per_step: Vec<(&'static str, Stats)>,
    errors: usize,
    proc_cores: Option<f64>,
    machine_busy: Option<f64>,
    load_before: String,
    states: Vec<(String, i64)>,
    audit_records: u64,
    audit_records_before: u64,
    verify_ms: f64,
}

async fn audit_records(store: &dyn Store) -> Result<u64> {
    match store.verify_audit().await? {
        ChainStatus::Intact { records } => Ok(records),
        ChainStatus::Broken(e) => bail!("audit chain BROKEN: {e:?}"),
    }
}

async fn run_one(db: &'static str, concurrency: usize, opts: &Opts) -> Result<RunResult> {
    let mut cleanup = None;
    let r = async {
        let app = start_app(db, opts, &mut cleanup).await?;
        let r = drive(&app, db, concurrency, opts).await;
        if let Err(e) = app.running.stop().await {
            eprintln!("warning: stopping the server: {e:#}");
        }
        drop(app.store);
        r
    }
    .await;
    if let Some(c) = cleanup {
        c.run().await;
    }
    r
}

async fn drive(app: &App, db: &'static str, concurrency: usize, opts: &Opts) -> Result<RunResult> {
    let load_before = loadavg();
    let audit_records_before = audit_records(app.store.as_ref()).await?;
    let c = Client::builder().no_proxy().tcp_nodelay(true).pool_max_idle_per_host(64).build()?;

    // logins (Argon2), not timed with the transitions
    let mut login_ms = vec![];
    let mut tokens = vec![];
    for u in ["s1.command", "s1.officer", "s1.leader"] {
        let t0 = Instant::now();
        tokens.push(login(&c, &app.base, u).await?);
        login_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let api =
        Arc::new(Api { c, base: app.base.clone(), tokens: [tokens[0].clone(), tokens[1].clone(), tokens[2].clone()] });

    // phase 1: create the tasks (timed separately), same concurrency
    let next = Arc::new(AtomicUsize::new(0));
    let abort = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let mut hs = vec![];
    for _ in 0..concurrency {
        let (api, next, abort, n) = (api.clone(), next.clone(), abort.clone(), opts.tasks);
        hs.push(tokio::spawn(async move {
            let mut out: Vec<(i64, i64, u32)> = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || abort.load(Ordering::Relaxed) {
                    return Ok::<_, anyhow::Error>(out);
                }
                let body = json!({"title": format!("压测任务 {i}"), "catalogue_code": CATALOGUE, "org_unit": ORG, "description": "transitions bench"});
                let t = Instant::now();
                let v = match send(&api.c, &format!("{}/api/v1/tasks", api.base), Some(&api.tokens[COMMAND]), &body, StatusCode::CREATED).await {
                    Ok(v) => v,
                    Err(e) => {
                        abort.store(true, Ordering::Relaxed);
                        return Err(e.context(format!("creating task {i}")));
                    }
                };
                let us = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
                let id = v["id"].as_i64().ok_or_else(|| anyhow!("no id in {v}"))?;
                let version = v["version"].as_i64().ok_or_else(|| anyhow!("no version in {v}"))?;
                out.push((id, version, us));
            }
        }));
    }
    let mut created = vec![];
    let mut create_lat = vec![];
    for h in hs {
        for (id, v, us) in h.await.context("create worker panicked")?? {
            created.push((id, v));
            create_lat.push(us);
        }
    }
    let create_wall = t0.elapsed();
    created.sort_unstable();
    if created.len() != opts.tasks {
        bail!("created {} tasks, expected {}", created.len(), opts.tasks);
    }

    // phase 2: the transitions, timed
    let steps = Arc::new(steps(opts.rework));
    let tasks = Arc::new(created);
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = CpuMark::now();
    let t0 = Instant::now();
    let hs: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(worker(api.clone(), tasks.clone(), next.clone(), abort.clone(), steps.clone())))
        .collect();
    let mut lat: Vec<(u8, u32)> = vec![];
    let mut errors: Vec<anyhow::Error> = vec![];
    for h in hs {
        match h.await {
            Ok((v, e)) => {
                lat.extend(v);
                errors.extend(e);
            }
            Err(e) => errors.push(anyhow!("worker panicked: {e}")),
        }
    }
    let wall = t0.elapsed();
    let (proc_cores, machine_busy) = cpu.since(wall);
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("ERROR [{db}, c={concurrency}]: {e:#}");
        }
        bail!(
            "{} error(s); aborted after {} successful transitions in {:.2} s",
            errors.len(),
            lat.len(),
            wall.as_secs_f64()
        );
    }
    drop(api); // closes the client's idle connections before the server stops

    // verification (not timed)
    let states = app.store.state_counts().await?;
    let evaluated = states.iter().find(|(s, _)| s == "evaluated").map(|(_, n)| *n).unwrap_or(0);
    let total: i64 = states.iter().map(|(_, n)| n).sum();
    if evaluated as usize != opts.tasks || total as usize != opts.tasks {
        bail!("expected all {} tasks evaluated, found {states:?}", opts.tasks);
    }
    let tv = Instant::now();
    let audit = audit_records(app.store.as_ref()).await?;
    let verify_ms = tv.elapsed().as_secs_f64() * 1000.0;

    let per_step = steps
        .iter()
        .enumerate()
        .map(|(k, st)| (st.label, stats(lat.iter().filter(|(s, _)| *s as usize == k).map(|(_, us)| *us).collect())))
        .collect();
    let transitions = lat.len();
    let expected = opts.tasks * steps.len();
    if transitions != expected {
        bail!("{transitions} transitions recorded, expected {expected}");
    }
    Ok(RunResult {
        db,
        backend_info: app.backend_info.clone(),
        concurrency,
        tasks: opts.tasks,
        login_ms,
        create_wall,
        create_stats: stats(create_lat),
        transitions,
        wall,
        all: stats(lat.into_iter().map(|(_, us)| us).collect()),
        per_step,
        errors: 0,
        proc_cores,
        machine_busy,
        load_before,
        states,
        audit_records: audit,
        audit_records_before,
        verify_ms,
    })
}

// ---------------------------------------------------------------- report

fn opt_pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.0} %", x * 100.0)).unwrap_or_else(|| "?".into())
}

fn print_run(r: &RunResult) {
    println!();
    println!("== {} · concurrency {} · {} tasks ==", r.db, r.concurrency, r.tasks);
    println!("backend:       {}", r.backend_info);
    println!("load avg before: {}", r.load_before);
    println!(
        "logins:        {} (ms each, Argon2; not in the timed phase)",
        r.login_ms.iter().map(|m| format!("{m:.0}")).collect::<Vec<_>>().join(", ")
    );
    println!(
        "create:        {} tasks in {:.2} s = {:.1} tasks/s (p50 {:.1} ms, p95 {:.1} ms)",
        r.create_stats.n,
        r.create_wall.as_secs_f64(),
        rate(r.create_stats.n, r.create_wall),
        r.create_stats.p50,
        r.create_stats.p95
    );
    println!(
        "transitions:   {} in {:.2} s = {:.1} transitions/s ({:.1} task loops/s)",
        r.transitions,
        r.wall.as_secs_f64(),
        rate(r.transitions, r.wall),
        rate(r.tasks, r.wall)
    );
    println!(
        "latency ms:    mean {:.2}  p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}",
        r.all.mean, r.all.p50, r.all.p95, r.all.p99, r.all.max
    );
    println!(
        "cpu:           this process (client + server{}) {:.2} cores; whole machine busy {} (includes anything else running)",
        if r.db == "sqlite" { " + SQLite" } else { "; PostgreSQL is outside" },
        r.proc_cores.unwrap_or(f64::NAN),
        opt_pct(r.machine_busy)
    );
    println!("errors:        {}", r.errors);
    println!("states:        {:?}", r.states);
    println!(
        "audit chain:   Intact, {} records ({} before the run; verified in {:.0} ms)",
        r.audit_records, r.audit_records_before, r.verify_ms
    );
    println!("per step (ms):  step                 n     p50     p95     p99");
    for (label, s) in &r.per_step {
        println!("                {label:<18} {:>5} {:>7.2} {:>7.2} {:>7.2}", s.n, s.p50, s.p95, s.p99);
    }
}

fn print_table(rs: &[RunResult]) {
    println!();
    println!(
        "| DB | conc. | tasks | transitions | wall (s) | transitions/s | p50 ms | p95 ms | p99 ms | errors | all evaluated | audit chain | creates/s | login ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|");
    for r in rs {
        let login = r.login_ms.iter().sum::<f64>() / r.login_ms.len().max(1) as f64;
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.1} | {:.2} | {:.2} | {:.2} | {} | yes | Intact ({} records) | {:.1} | {:.0} |",
            r.db,
            r.concurrency,
            r.tasks,
            r.transitions,
            r.wall.as_secs_f64(),
            rate(r.transitions, r.wall),
            r.all.p50,
            r.all.p95,
            r.all.p99,
            r.errors,
            r.audit_records,
            rate(r.create_stats.n, r.create_wall),
            login
        );
    }
}

fn main() {
    let opts = match parse_opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e:#}\n\n{HELP}");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("# zhufang transitions bench");
    println!("date:      {}", chrono::Local::now().format("%Y-%m-%d %H:%M:%S %z"));
    println!("git:       {}", git_rev());
    println!("machine:   nproc {cores}, CPU {}, RAM {}", cpu_model(), mem_total());
    println!("load avg:  {}", loadavg());
    println!(
        "note:      client, server (and the database) share this machine; the figures include the client's own CPU."
    );
    println!(
        "config:    db {:?}, tasks {}, concurrency {:?}, {} transitions a task ({})",
        opts.dbs,
        opts.tasks,
        opts.concurrency,
        steps(opts.rework).len(),
        steps(opts.rework).iter().map(|s| s.label).collect::<Vec<_>>().join(" → ")
    );
    let profile = if cfg!(debug_assertions) { "debug (numbers are not representative)" } else { "optimised" };
    println!("build:     {profile}");

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let mut results = vec![];
    let mut failed = false;
    rt.block_on(async {
        for &db in &opts.dbs {
            for &c in &opts.concurrency {
                match run_one(db, c, &opts).await {
                    Ok(r) => {
                        print_run(&r);
                        results.push(r);
                    }
                    Err(e) => {
                        eprintln!("\nFAILED [{db}, concurrency {c}]: {e:#}");
                        failed = true;
                        return;
                    }
                }
            }
        }
    });
    if !results.is_empty() {
        print_table(&results);
    }
    if failed {
        std::process::exit(1);
    }
}
