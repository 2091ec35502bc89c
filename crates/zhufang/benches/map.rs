//! The map points endpoint: N located items in a bounding box, clustered,
//! on SQLite and PostgreSQL. Target: "The map endpoint returns 100k points
//! in a bbox, clustered, in under 300 ms server time".
//!
//! Per database: a fresh database (SQLite: a file in a new temp dir;
//! PostgreSQL: a new `zf_bench_<pid>_<random>` database, dropped at the end),
//! the demo organisation seeded without tasks but with its grids, and the
//! real app started in this process on 127.0.0.1:0. Then N rows (default
//! 100,000) go straight into `map_items` with sqlx (one transaction of
//! 1,000-row INSERTs; timed and printed, not the figure): kind `task`,
//! state `dispatched`, open, in station 361202510000's org path, occurred
//! in the last 7 days, positions from a seeded RNG in a 0.2° × 0.2° box
//! centred on the demo grids — 8 Gaussian clumps (a town's busy spots)
//! plus 15 % spread evenly. PostgreSQL then gets `VACUUM ANALYZE map_items`
//! (what autovacuum does shortly after such a load); SQLite gets nothing
//! (the app never runs ANALYZE).
//!
//! Measured, per zoom level (default 12, 13, 14, 16), as `s1.leader`:
//!
//! * **HTTP**: `GET /api/v1/map/points?bbox=<the box>&zoom=Z&view=analysis
//!   &from=<30 days ago>&layers=tasks` with a bearer token, timed in the
//!   client from sending the request to having parsed the JSON — an upper
//!   bound on server time (it adds loopback HTTP, the client's reading and
//!   parsing, and the bearer-session lookup);
//! * **in-process**: `zhufang_web::controllers::map::points_for` called
//!   directly with the same query (what the handler does after auth and
//!   parameter parsing, without encoding the JSON), and, to see where the
//!   time goes, `Store::map_points` (the first 501) and `Store::map_cells` alone and the
//!   JSON encoding of the answer alone.
//!
//! One round is one of each, in that order (interleaved, so all of them see
//! the same machine); 2 warm-up rounds, then R timed rounds (default 30).
//! Everything runs on a tokio worker thread, as the server's handlers do.
//! Every answer must be 200 and clustered, with total = N and the clusters'
//! counts plus the single points = N (`--points` must exceed the endpoint's
//! 500); anything else aborts the run. The verdict per database is the
//! worst zoom's HTTP p95 against 300 ms.
//!
//! Options (arguments win over environment variables; unknown arguments
//! such as cargo's `--bench` are ignored):
//!
//!   --db sqlite|postgres|both        ZF_BENCH_DB       (both)
//!   --points N                       ZF_BENCH_POINTS   (100000)
//!   --zooms Z[,Z2,...]               ZF_BENCH_ZOOMS    (12,13,14,16)
//!   --reps R                         ZF_BENCH_REPS     (30)
//!   --seed S                         ZF_BENCH_SEED     (20240601)
//!   --pg URL (admin connection)      ZF_BENCH_PG       (postgres://postgres@127.0.0.1:5432/test)
//!
//! Exit status: 0 when every database met the target, 3 when one missed
//! it, 1 when a run failed (wrong answer, error), 2 on bad options.
//!
//! `cargo bench -p zhufang --bench map -- --db sqlite --points 100000`

mod common;
use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use common::{Cleanup, cpu_model, fresh_db, git_rev, loadavg, mem_total, parse_dbs, parse_list, rate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zhufang_store::Store;
use zhufang_store::model::MapQuery;
use zhufang_web::controllers::map::{POINTS_MAX, cluster_cell_e7, points_for};

const ORG: &str = "361202510000";
const USER: &str = "s1.leader";
const CATALOGUE: &str = "ZF-XF-001";
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The target: server time for the clustered answer.
const TARGET_MS: f64 = 300.0;
/// Half the side of the points' box: 0.1° in 1e-7 degrees.
const HALF_BOX_E7: i64 = 1_000_000;
/// Item ids of the bench rows start here (no clash with real tasks).
const ITEM_BASE: i64 = 10_000_000;
/// Rows per INSERT statement (5 bound values a row + the org path).
const CHUNK: usize = 1000;
const CLUMPS: usize = 8;
const BACKGROUND: f64 = 0.15;
const WARMUP: usize = 2;

// ---------------------------------------------------------------- options

#[derive(Debug, Clone)]
struct Opts {
    dbs: Vec<&'static str>,
    points: usize,
    zooms: Vec<u8>,
    reps: usize,
    seed: u64,
    pg_admin: String,
}

fn parse_zooms(v: &str) -> Result<Vec<u8>> {
    let list: Vec<u8> = v
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| match s.trim().parse::<u8>() {
            Ok(z) if z <= 22 => Ok(z),
            _ => Err(anyhow!("--zooms must be zoom levels 0–22, not {s:?}")),
        })
        .collect::<Result<_>>()?;
    if list.is_empty() {
        bail!("--zooms needs at least one zoom level");
    }
    Ok(list)
}

fn parse_seed(v: &str) -> Result<u64> {
    v.trim().parse::<u64>().map_err(|_| anyhow!("--seed must be an unsigned integer, not {v:?}"))
}

fn parse_opts() -> Result<Opts> {
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.trim().is_empty());
    let mut o = Opts {
        dbs: parse_dbs(&env("ZF_BENCH_DB").unwrap_or_else(|| "both".into()))?,
        points: parse_list(&env("ZF_BENCH_POINTS").unwrap_or_else(|| "100000".into()), "--points")?[0],
        zooms: parse_zooms(&env("ZF_BENCH_ZOOMS").unwrap_or_else(|| "12,13,14,16".into()))?,
        reps: parse_list(&env("ZF_BENCH_REPS").unwrap_or_else(|| "30".into()), "--reps")?[0],
        seed: parse_seed(&env("ZF_BENCH_SEED").unwrap_or_else(|| "20240601".into()))?,
        pg_admin: env("ZF_BENCH_PG").unwrap_or_else(|| DEFAULT_PG.into()),
    };
    for (key, value) in common::args(&["--db", "--points", "--zooms", "--reps", "--seed", "--pg"])? {
        match key.as_str() {
            "--db" => o.dbs = parse_dbs(value.as_deref().unwrap())?,
            "--points" => o.points = parse_list(value.as_deref().unwrap(), "--points")?[0],
            "--zooms" => o.zooms = parse_zooms(value.as_deref().unwrap())?,
            "--reps" => o.reps = parse_list(value.as_deref().unwrap(), "--reps")?[0],
            "--seed" => o.seed = parse_seed(value.as_deref().unwrap())?,
            "--pg" => o.pg_admin = value.unwrap(),
            "--help" | "-h" => {
                println!("{}", HELP);
                std::process::exit(0);
            }
            _ => {} // cargo passes `--bench`; ignore anything else
        }
    }
    if o.points as i64 <= POINTS_MAX {
        bail!("--points must be more than {POINTS_MAX}: up to that many the endpoint does not cluster");
    }
    Ok(o)
}

const HELP: &str = "map bench: GET /api/v1/map/points over N items, clustered (target: p95 < 300 ms)
  --db sqlite|postgres|both   (ZF_BENCH_DB, default both)
  --points N                  (ZF_BENCH_POINTS, default 100000)
  --zooms Z[,Z2,...]          (ZF_BENCH_ZOOMS, default 12,13,14,16)
  --reps R                    (ZF_BENCH_REPS, default 30; after 2 warm-up requests)
  --seed S                    (ZF_BENCH_SEED, default 20240601)
  --pg URL                    (ZF_BENCH_PG, default postgres://postgres@127.0.0.1:5432/test)";

// ---------------------------------------------------------------- machine facts

// ---------------------------------------------------------------- the app

struct App {
    base: String,
    running: zhufang::Running,
    store: Arc<dyn Store>,
    /// The app's database URL, for the bulk insert.
    url: String,
    backend_info: String,
    seed_wall: Duration,
}

/// A fresh database, migrated and seeded with the demo organisation (its
/// grids, no tasks), and the app listening on 127.0.0.1:0.
async fn start_app(db: &str, opts: &Opts, cleanup: &mut Option<Cleanup>) -> Result<App> {
    let (dir, url, backend_info) =
        fresh_db(db, &opts.pg_admin, &["shared_buffers", "work_mem", "jit"], cleanup).await?;
    let t0 = Instant::now();
    let store = zhufang::open_store(&url).await?;
    zhufang::prepare_demo_with(
        store.as_ref(),
        zhufang_demo::SeedOptions { tasks: 0, grids: true, ..Default::default() },
    )
    .await
    .context("seeding the demo organisation")?;
    let seed_wall = t0.elapsed();
    let mut settings = zhufang::Settings::resolve(
        zhufang::FileConfig::default(),
        Some(dir),
        Some(url.clone()),
        Some("127.0.0.1:0".into()),
    )?;
    settings.scan_interval = Duration::from_secs(3600); // keep the deadline scanner out of the way
    // no duty generation in the background: it would compete with the timed phase
    settings.web.duty_window_days = 0;
    let running = zhufang::start(store.clone(), &settings).await?;
    // the background loop runs the pending jobs once at start; let that
    // finish (it holds the jobs lock) before the bench rows go in
    running.state.run_jobs().await.context("running the start-up jobs")?;
    Ok(App { base: format!("http://{}", running.addr), running, store, url, backend_info, seed_wall })
}

// ---------------------------------------------------------------- the data

/// A direct connection to the app's database, for the bulk insert.
enum Raw {
    Pg(sqlx::PgConnection),
    Lite(sqlx::SqliteConnection),
}

/// Runs `$body` with `$c` bound to the connection, whichever backend it is.
macro_rules! on_raw {
    ($raw:expr, |$c:ident| $body:expr) => {
        match $raw {
            Raw::Pg($c) => $body,
            Raw::Lite($c) => $body,
        }
    };
}

impl Raw {
    async fn connect(url: &str) -> Result<Raw> {
        use sqlx::Connection;
        if url.starts_with("sqlite:") {
            use sqlx::ConnectOptions;
            use std::str::FromStr;
            let o = sqlx::sqlite::SqliteConnectOptions::from_str(url)?.busy_timeout(Duration::from_secs(10));
            Ok(Raw::Lite(o.connect().await?))
        } else {
            Ok(Raw::Pg(sqlx::PgConnection::connect(url).await?))
        }
    }

    async fn close(self) {
        use sqlx::Connection;
        let _ = on_raw!(self, |c| c.close().await);
    }
}

/// One bench row: position and time.
#[derive(Clone, Copy)]
struct Pt {
    lat_e7: i64,
    lon_e7: i64,
    at_ms: i64,
}

/// [west, south, east, north] in 1e-7 degrees.
type BoxE7 = [i64; 4];

/// N points in `bx`: CLUMPS Gaussian clumps centred inside `grids`, plus
/// BACKGROUND spread evenly; times in the 7 days before `now`.
fn gen_points(n: usize, bx: BoxE7, grids: BoxE7, now: DateTime<Utc>, seed: u64) -> Vec<Pt> {
    let mut rng = StdRng::seed_from_u64(seed);
    let [x0, y0, x1, y1] = bx;
    let (gx0, gy0) = (grids[0].max(x0), grids[1].max(y0));
    let (gx1, gy1) = (grids[2].min(x1).max(gx0), grids[3].min(y1).max(gy0));
    // (lon, lat, sigma) in 1e-7 degrees, and the cumulative weights
    let clumps: Vec<(f64, f64, f64)> = (0..CLUMPS)
        .map(|_| {
            (
                rng.gen_range(gx0..=gx1) as f64,
                rng.gen_range(gy0..=gy1) as f64,
                rng.gen_range(30_000.0..200_000.0), // 0.003°–0.02° ≈ 330 m–2.2 km
            )
        })
        .collect();
    let mut cum = vec![];
    let mut acc = 0.0;
    for _ in 0..CLUMPS {
        acc += rng.gen_range(1.0..4.0);
        cum.push(acc);
    }
    let now_ms = now.timestamp_millis();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let (lon, lat) = if rng.gen_bool(BACKGROUND) {
            (rng.gen_range(x0..=x1), rng.gen_range(y0..=y1))
        } else {
            let pick = rng.gen_range(0.0..acc);
            let (cx, cy, s) = clumps[cum.iter().position(|&w| pick < w).unwrap_or(CLUMPS - 1)];
            // Box–Muller
            let u1: f64 = 1.0 - rng.r#gen::<f64>();
            let u2: f64 = rng.r#gen::<f64>();
            let r = (-2.0 * u1.ln()).sqrt() * s;
            let t = std::f64::consts::TAU * u2;
            ((cx + r * t.cos()).round() as i64, (cy + r * t.sin()).round() as i64)
        };
        if !(x0..=x1).contains(&lon) || !(y0..=y1).contains(&lat) {
            continue;
        }
        let at_ms = now_ms - rng.gen_range(60_000..7 * 86_400_000);
        out.push(Pt { lat_e7: lat, lon_e7: lon, at_ms });
    }
    out
}

fn insert_sql(rows: usize) -> String {
    let mut s = String::with_capacity(80 * rows + 200);
    s.push_str(
        "INSERT INTO map_items (kind, item_id, label, category, state, is_open, org_path, lat_e7, lon_e7, occurred_at) VALUES ",
    );
    for k in 0..rows {
        let b = 2 + 5 * k;
        if k > 0 {
            s.push_str(", ");
        }
        s.push_str(&format!(
            "('task', ${b}, ${}, '{CATALOGUE}', 'dispatched', TRUE, $1, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4
        ));
    }
    s
}

struct Seeded {
    org_path: String,
    grids: i64,
    grids_box: BoxE7,
    bx: BoxE7,
    insert_wall: Duration,
    /// PostgreSQL's VACUUM ANALYZE after the load.
    analyze_wall: Option<Duration>,
}

/// Reads the station's org path and the grids' extent, then inserts the rows.
async fn seed_points(app: &App, opts: &Opts) -> Result<Seeded> {
    use sqlx::Connection;
    let mut raw = Raw::connect(&app.url).await.context("connecting for the bulk insert")?;
    let org_path: Option<String> =
        on_raw!(&mut raw, |c| sqlx::query_scalar("SELECT path FROM org_units WHERE code = $1")
            .bind(ORG)
            .fetch_optional(&mut *c)
            .await?);
    let org_path = org_path.ok_or_else(|| anyhow!("no org unit {ORG} in the demo organisation"))?;
    type Extent = (Option<i64>, Option<i64>, Option<i64>, Option<i64>, i64);
    let (gx0, gy0, gx1, gy1, grids): Extent = on_raw!(&mut raw, |c| sqlx::query_as(
        "SELECT MIN(min_x), MIN(min_y), MAX(max_x), MAX(max_y), COUNT(*) FROM grids"
    )
    .fetch_one(&mut *c)
    .await?);
    let (Some(gx0), Some(gy0), Some(gx1), Some(gy1)) = (gx0, gy0, gx1, gy1) else {
        bail!("the demo organisation has no grids");
    };
    let (cx, cy) = ((gx0 + gx1) / 2, (gy0 + gy1) / 2);
    let bx = [cx - HALF_BOX_E7, cy - HALF_BOX_E7, cx + HALF_BOX_E7, cy + HALF_BOX_E7];
    let pts = gen_points(opts.points, bx, [gx0, gy0, gx1, gy1], Utc::now(), opts.seed);

    let t0 = Instant::now();
    on_raw!(&mut raw, |c| {
        let mut tx = c.begin().await?;
        for (k, chunk) in pts.chunks(CHUNK).enumerate() {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(insert_sql(chunk.len()))).bind(org_path.clone());
            for (j, p) in chunk.iter().enumerate() {
                let i = k * CHUNK + j;
                q = q
                    .bind(ITEM_BASE + i as i64)
                    .bind(format!("RW{i:07} bench"))
                    .bind(p.lat_e7)
                    .bind(p.lon_e7)
                    .bind(p.at_ms);
            }
            q.execute(&mut *tx).await.with_context(|| format!("inserting rows {}..", k * CHUNK))?;
        }
        tx.commit().await?;
    });
    let insert_wall = t0.elapsed();
    let analyze_wall = match &mut raw {
        Raw::Pg(c) => {
            let t = Instant::now();
            sqlx::query("VACUUM ANALYZE map_items").execute(&mut *c).await?;
            Some(t.elapsed())
        }
        Raw::Lite(_) => None,
    };
    raw.close().await;
    Ok(Seeded { org_path, grids, grids_box: [gx0, gy0, gx1, gy1], bx, insert_wall, analyze_wall })
}

// ---------------------------------------------------------------- measuring

struct Stats {
    p50: f64,
    p95: f64,
    max: f64,
}

/// Milliseconds; nearest-rank percentiles.
fn stats(mut us: Vec<u32>) -> Stats {
    us.sort_unstable();
    let n = us.len();
    let pct = |p: f64| if n == 0 { 0.0 } else { us[((p * n as f64).ceil() as usize).clamp(1, n) - 1] as f64 / 1000.0 };
    Stats { p50: pct(0.50), p95: pct(0.95), max: us.last().map(|&x| x as f64 / 1000.0).unwrap_or(0.0) }
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u32::MAX as u128) as u32
}

/// What an answer held: (clusters, single points, sum of cluster counts, total).
type Shape = (usize, usize, i64, i64);

fn check(what: &str, clustered: bool, shape: Shape, n: usize) -> Result<()> {
    let (_, points, sum, total) = shape;
    if !clustered {
        bail!("{what}: not clustered (total {total})");
    }
    if total != n as i64 || sum + points as i64 != n as i64 {
        bail!(
            "{what}: total {total}, cluster counts {sum} + single points {points} = {} (expected {n})",
            sum + points as i64
        );
    }
    Ok(())
}

fn json_shape(v: &Value) -> Result<(bool, Shape)> {
    let clusters = v["clusters"].as_array().ok_or_else(|| anyhow!("no clusters array"))?;
    let points = v["points"].as_array().ok_or_else(|| anyhow!("no points array"))?;
    let sum = clusters
        .iter()
        .map(|c| c["count"].as_i64().ok_or_else(|| anyhow!("cluster without count")))
        .sum::<Result<i64>>()?;
    let total = v["total"].as_i64().ok_or_else(|| anyhow!("no total"))?;
    Ok((v["clustered"] == json!(true), (clusters.len(), points.len(), sum, total)))
}

struct ZoomResult {
    zoom: u8,
    cell_e7: i64,
    clusters: usize,
    points: usize,
    bytes: usize,
    /// request sent → JSON parsed
    http: Stats,
    /// request sent → last byte read
    http_bytes: Stats,
    /// `points_for`
    inproc: Stats,
    count: Stats,
    cells: Stats,
    encode: Stats,
}

struct RunResult {
    db: &'static str,
    backend_info: String,
    load_before: String,
    seed_wall: Duration,
    seeded: Seeded,
    login_ms: f64,
    from_day: String,
    zooms: Vec<ZoomResult>,
}

impl RunResult {
    fn worst_http_p95(&self) -> f64 {
        self.zooms.iter().map(|z| z.http.p95).fold(0.0, f64::max)
    }
    fn worst_inproc_p95(&self) -> f64 {
        self.zooms.iter().map(|z| z.inproc.p95).fold(0.0, f64::max)
    }
}

async fn login(c: &Client, base: &str, username: &str) -> Result<String> {
    let url = format!("{base}/api/v1/session");
    let r = c.post(&url).json(&json!({"username": username, "password": "demo"})).send().await?;
    let status = r.status();
    let text = r.text().await?;
    if status != StatusCode::OK {
        bail!("POST {url} as {username} → {status}: {text}");
    }
    let v: Value = serde_json::from_str(&text).with_context(|| format!("POST {url}: not JSON: {text}"))?;
    v["token"].as_str().map(str::to_string).ok_or_else(|| anyhow!("login {username}: no token in {v}"))
}

fn deg(e7: i64) -> String {
    format!("{:.7}", e7 as f64 / 1e7)
}

async fn run_one(db: &'static str, opts: &Opts) -> Result<RunResult> {
    let mut cleanup = None;
    let r = async {
        let app = start_app(db, opts, &mut cleanup).await?;
        let r = drive(&app, db, opts).await;
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

async fn drive(app: &App, db: &'static str, opts: &Opts) -> Result<RunResult> {
    let load_before = loadavg();
    let seeded = seed_points(app, opts).await?;
    let n = opts.points;

    let c = Client::builder().no_proxy().tcp_nodelay(true).build()?;
    let t0 = Instant::now();
    let token = login(&c, &app.base, USER).await?;
    let login_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let (user, _) = app.store.user_by_username(USER).await?.ok_or_else(|| anyhow!("no user {USER}"))?;

    // the same period the HTTP request asks for: from the Beijing day 30 days ago, to now
    let from_day = (Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).date_naive()
        - chrono::Duration::days(30))
    .format("%Y-%m-%d")
    .to_string();
    let from = zhufang_web::controllers::parse_day_start("from", &from_day).map_err(|e| anyhow!("{e:?}"))?;
    let [x0, y0, x1, y1] = seeded.bx;
    let query = |zoom: u8| {
        format!(
            "{}/api/v1/map/points?bbox={},{},{},{}&zoom={zoom}&view=analysis&from={from_day}&layers=tasks",
            app.base,
            deg(x0),
            deg(y0),
            deg(x1),
            deg(y1)
        )
    };
    let map_query = || MapQuery {
        scope_path: Some(user.org_path.clone()),
        kinds: vec!["task".into()],
        bbox: Some(seeded.bx),
        from: Some(from),
        to: Some(Utc::now()),
        ..Default::default()
    };

    let mut zooms = vec![];
    let state = &app.running.state;
    let store = app.store.as_ref();
    for &zoom in &opts.zooms {
        let url = query(zoom);
        let cell_e7 = cluster_cell_e7(zoom);
        let (mut http, mut http_bytes, mut inproc, mut encode, mut count, mut cells) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut bytes = 0;
        let mut shape = (0, 0, 0, 0);
        // one round = the HTTP request, then points_for, then its two queries
        // alone: interleaved, so all of them see the same machine
        for k in 0..WARMUP + opts.reps {
            let keep = k >= WARMUP;

            // HTTP
            let t = Instant::now();
            let r = c.get(&url).bearer_auth(&token).send().await.with_context(|| format!("GET {url}"))?;
            let status = r.status();
            let body = r.bytes().await.with_context(|| format!("reading the answer to GET {url}"))?;
            let t_bytes = t.elapsed();
            if status != StatusCode::OK {
                bail!("GET {url} → {status}: {}", String::from_utf8_lossy(&body));
            }
            let v: Value = serde_json::from_slice(&body).with_context(|| format!("GET {url}: not JSON"))?;
            let t_parsed = t.elapsed();
            let (clustered, s) = json_shape(&v).with_context(|| format!("GET {url}"))?;
            check(&format!("GET zoom {zoom}"), clustered, s, n)?;
            drop(v);
            bytes = body.len();
            shape = s;

            // in-process: the handler's work after auth and parameter parsing
            let q = map_query();
            let t = Instant::now();
            let out = points_for(state, &q, zoom).await.map_err(|e| anyhow!("points_for: {e:?}"))?;
            let d = t.elapsed();
            let t = Instant::now();
            let encoded = serde_json::to_vec(&out)?;
            let e = t.elapsed();
            let s = (out.clusters.len(), out.points.len(), out.clusters.iter().map(|c| c.count).sum(), out.total);
            check(&format!("points_for zoom {zoom}"), out.clustered, s, n)?;
            if s.0 != shape.0 || s.1 != shape.1 {
                bail!("points_for zoom {zoom}: {s:?}, but HTTP gave {shape:?}");
            }
            std::hint::black_box(encoded);

            // its two queries alone: the first items (more than POINTS_MAX means cluster), then the cells
            let t = Instant::now();
            let first = store.map_points(&q, zhufang_web::controllers::map::POINTS_MAX + 1).await?;
            let d1 = t.elapsed();
            let t = Instant::now();
            let got = store.map_cells(&q, cell_e7).await?;
            let d2 = t.elapsed();
            if first.len() as i64 != zhufang_web::controllers::map::POINTS_MAX + 1
                || got.iter().map(|c| c.count).sum::<i64>() != n as i64
            {
                bail!("map_points/map_cells zoom {zoom}: {} / {} (expected {n})", first.len(), got.len());
            }

            if keep {
                http.push(micros(t_parsed));
                http_bytes.push(micros(t_bytes));
                inproc.push(micros(d));
                encode.push(micros(e));
                count.push(micros(d1));
                cells.push(micros(d2));
            }
        }
        let z = ZoomResult {
            zoom,
            cell_e7,
            clusters: shape.0,
            points: shape.1,
            bytes,
            http: stats(http),
            http_bytes: stats(http_bytes),
            inproc: stats(inproc),
            count: stats(count),
            cells: stats(cells),
            encode: stats(encode),
        };
        eprintln!("  [{db}] zoom {zoom}: HTTP p95 {:.1} ms, in-process p95 {:.1} ms", z.http.p95, z.inproc.p95);
        zooms.push(z);
    }
    Ok(RunResult {
        db,
        backend_info: app.backend_info.clone(),
        load_before,
        seed_wall: app.seed_wall,
        seeded,
        login_ms,
        from_day,
        zooms,
    })
}

// ---------------------------------------------------------------- report

/// Cell edge in metres (north–south; east–west is × cos(latitude)).
fn metres(e7: i64) -> f64 {
    e7 as f64 / 1e7 * 111_320.0
}

fn print_run(r: &RunResult, opts: &Opts) {
    let s = &r.seeded;
    let [x0, y0, x1, y1] = s.bx;
    let [gx0, gy0, gx1, gy1] = s.grids_box;
    println!();
    println!("== {} · {} points · {} reps a figure (after {WARMUP} warm-up) ==", r.db, opts.points, opts.reps);
    println!("backend:       {}", r.backend_info);
    println!("load avg before: {}", r.load_before);
    println!(
        "demo seed:     {:.2} s (organisation, users, catalogue, {} grids; no tasks)",
        r.seed_wall.as_secs_f64(),
        s.grids
    );
    println!("grids extent:  {},{} – {},{}", deg(gx0), deg(gy0), deg(gx1), deg(gy1));
    println!(
        "points box:    {},{},{},{} ({:.1}° × {:.1}°), {CLUMPS} Gaussian clumps + {:.0} % even; seed {}",
        deg(x0),
        deg(y0),
        deg(x1),
        deg(y1),
        (x1 - x0) as f64 / 1e7,
        (y1 - y0) as f64 / 1e7,
        BACKGROUND * 100.0,
        opts.seed
    );
    println!("org path:      {} (station {ORG}); scope of {USER}", s.org_path);
    println!(
        "insert:        {} rows in {:.2} s = {:.0} rows/s (one transaction, {CHUNK}-row INSERTs; not the measured figure)",
        opts.points,
        s.insert_wall.as_secs_f64(),
        rate(opts.points, s.insert_wall)
    );
    match s.analyze_wall {
        Some(d) => println!("after load:    VACUUM ANALYZE map_items in {:.0} ms", d.as_secs_f64() * 1000.0),
        None => println!("after load:    nothing (the app never runs ANALYZE on SQLite)"),
    }
    println!("login:         {:.0} ms ({USER}, Argon2)", r.login_ms);
    println!("request:       GET /api/v1/map/points?bbox=<box>&zoom=Z&view=analysis&from={}&layers=tasks", r.from_day);
    println!("note:          HTTP = request sent → JSON parsed, in this process over loopback: an upper bound on");
    println!("               server time (adds the client's reading/parsing and the bearer-session lookup).");
    println!("               in-process = points_for() alone (no auth, no JSON encoding; encode shown apart).");
    println!();
    println!(
        "zoom  cell m  clusters  points      bytes |  HTTP p50    p95    max  (last byte p50) | in-proc p50    p95    max | first p50  cells p50  encode p50"
    );
    for z in &r.zooms {
        println!(
            "{:>4} {:>7.0} {:>9} {:>7} {:>10} | {:>9.1} {:>6.1} {:>6.1} {:>16.1} | {:>11.1} {:>6.1} {:>6.1} | {:>9.1} {:>10.1} {:>11.1}",
            z.zoom,
            metres(z.cell_e7),
            z.clusters,
            z.points,
            z.bytes,
            z.http.p50,
            z.http.p95,
            z.http.max,
            z.http_bytes.p50,
            z.inproc.p50,
            z.inproc.p95,
            z.inproc.max,
            z.count.p50,
            z.cells.p50,
            z.encode.p50
        );
    }
}

fn print_table(rs: &[RunResult], opts: &Opts) {
    println!();
    println!(
        "| DB | zoom | cell (m) | clusters | single points | bytes | HTTP p50 ms | HTTP p95 ms | HTTP max ms | in-process p50 ms | in-process p95 ms | map_points(501) p50 | map_cells p50 | encode p50 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rs {
        for z in &r.zooms {
            println!(
                "| {} | {} | {:.0} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
                r.db,
                z.zoom,
                metres(z.cell_e7),
                z.clusters,
                z.points,
                z.bytes,
                z.http.p50,
                z.http.p95,
                z.http.max,
                z.inproc.p50,
                z.inproc.p95,
                z.count.p50,
                z.cells.p50,
                z.encode.p50
            );
        }
    }
    println!();
    for r in rs {
        let worst = r.worst_http_p95();
        println!(
            "{} {}: worst HTTP p95 {:.1} ms (in-process p95 {:.1} ms) for {} points, target < {TARGET_MS:.0} ms",
            if worst < TARGET_MS { "PASS" } else { "FAIL" },
            r.db,
            worst,
            r.worst_inproc_p95(),
            opts.points
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
    println!("# zhufang map bench");
    println!("date:      {}", chrono::Local::now().format("%Y-%m-%d %H:%M:%S %z"));
    println!("git:       {}", git_rev());
    println!("machine:   nproc {cores}, CPU {}, RAM {}", cpu_model(), mem_total());
    println!("load avg:  {}", loadavg());
    println!("note:      client, server (and the database) share this machine.");
    println!(
        "config:    db {:?}, points {}, zooms {:?}, reps {} (+{WARMUP} warm-up), seed {}, target HTTP p95 < {TARGET_MS:.0} ms",
        opts.dbs, opts.points, opts.zooms, opts.reps, opts.seed
    );
    let profile = if cfg!(debug_assertions) { "debug (numbers are not representative)" } else { "optimised" };
    println!("build:     {profile}");

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let mut results = vec![];
    let mut failed = false;
    rt.block_on(async {
        for &db in &opts.dbs {
            // on a worker thread, like the server's handlers (not the main thread)
            let o = opts.clone();
            let r = tokio::spawn(async move { run_one(db, &o).await }).await.unwrap_or_else(|e| Err(anyhow!("{e}")));
            match r {
                Ok(r) => {
                    print_run(&r, &opts);
                    results.push(r);
                }
                Err(e) => {
                    eprintln!("\nFAILED [{db}]: {e:#}");
                    failed = true;
                    return;
                }
            }
        }
    });
    if !results.is_empty() {
        print_table(&results, &opts);
    }
    if failed {
        std::process::exit(1);
    }
    if results.iter().any(|r| r.worst_http_p95() >= TARGET_MS) {
        std::process::exit(3);
    }
}
