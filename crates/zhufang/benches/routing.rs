//! Point-to-grid routing: `GridIndex::locate` against PostgreSQL + PostGIS.
//!
//! Data (deterministic, `StdRng::seed_from_u64(seed)`): an NX×NY lattice of
//! quadrilateral grid cells (default 100×50 = 5,000) tiling a box whose
//! south-west corner is 116.3°E 28.0°N, cells 10,000 × 9,000 in 1e-7 degrees
//! (≈ 98 m × 100 m). Interior lattice vertices are jittered by up to ±2,000
//! in steps of 100 (every quad stays convex) and are SHARED by the four
//! cells meeting there, so neighbouring edges coincide exactly. Grid codes
//! are `3612025100` + 5 digits, shuffled over the cells (so "smallest code"
//! is not simply "south-west-most"), the 3-digit sequence never `000`.
//! Points (default 1,000,000): ~97 % uniform in the box, ~1 % exactly on a
//! lattice vertex, ~1 % exactly on a cell edge (an integer point strictly
//! between its ends: all coordinates are multiples of 100, so every edge
//! has 99+ of them), ~1 % outside the box.
//!
//! Ours: `Ring::new` + `GridIndex::new` (timed), then every point routed
//! single-threaded with `index.locate` (timed; `--repeat` runs, median).
//!
//! PostGIS: a fresh database `zf_routing_<random>`, `CREATE EXTENSION
//! postgis`, the same polygons and points with the SAME integer coordinates
//! as doubles (SRID 0; doubles hold them exactly, so GEOS's predicates are
//! exact too), a GiST index on the grids, ANALYZE; loading is not timed.
//! Timed: the rule query (inside beats boundary, then smallest code)
//!
//!   SELECT DISTINCT ON (p.id) p.id, g.code FROM pts p
//!     JOIN grids g ON ST_Intersects(g.geom, p.geom)
//!     ORDER BY p.id, ST_Contains(g.geom, p.geom) DESC, g.code
//!
//! and, for reference, the plain `ST_Contains` join; both fetch every row
//! into this process. The rule query's answers are compared with ours
//! point by point (points absent from the join = outside every grid =
//! `None`). The database is dropped at the end.
//!
//! Options (unknown arguments such as cargo's `--bench` are ignored):
//!
//!   --points N         (1000000)
//!   --grids-x N        (100)
//!   --grids-y N        (50)
//!   --seed S           (20240601)
//!   --repeat R         (3; routing runs of ours, the median is reported)
//!   --skip-postgis     (ours only)
//!   --pg URL           (ZF_BENCH_PG, postgres://postgres@127.0.0.1:5432/test; admin connection)
//!
//! `cargo bench -p zhufang --bench routing -- --points 200000 --skip-postgis`

mod common;
use anyhow::{Context, Result, bail};
use common::{cpu_model, loadavg, rate};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sqlx::Connection;
use std::hint::black_box;
use std::time::{Duration, Instant};
use zhufang_domain::grid::{Area, E7, GridCode, GridIndex, Polygon, Ring};

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
/// South-west corner of the lattice: 116.3°E 28.0°N.
const X0: i64 = 1_163_000_000;
const Y0: i64 = 280_000_000;
/// Cell size in 1e-7 degrees (≈ 98 m east-west at 28°N, ≈ 100 m north-south).
const DX: i64 = 10_000;
const DY: i64 = 9_000;
/// Interior vertices move by JITTER_STEP × [-JITTER_STEPS, JITTER_STEPS] on each axis.
const JITTER_STEP: i64 = 100;
const JITTER_STEPS: i64 = 20;
const CODE_PREFIX: &str = "3612025100";

const RULE_SQL: &str = "SELECT DISTINCT ON (p.id) p.id, g.code FROM pts p JOIN grids g ON ST_Intersects(g.geom, p.geom) \
                        ORDER BY p.id, ST_Contains(g.geom, p.geom) DESC, g.code";
const CONTAINS_SQL: &str = "SELECT p.id, g.code FROM pts p JOIN grids g ON ST_Contains(g.geom, p.geom)";

const HELP: &str = "options: --points N (1000000)  --grids-x N (100)  --grids-y N (50)  --seed S  --repeat R (3)  \
                    --skip-postgis  --pg URL (ZF_BENCH_PG)";

// ---------------------------------------------------------------- options

struct Opts {
    points: usize,
    nx: usize,
    ny: usize,
    seed: u64,
    repeat: usize,
    skip_postgis: bool,
    pg_admin: String,
}

fn parse_opts() -> Result<Opts> {
    let mut o = Opts {
        points: 1_000_000,
        nx: 100,
        ny: 50,
        seed: 20_240_601,
        repeat: 3,
        skip_postgis: false,
        pg_admin: std::env::var("ZF_BENCH_PG").ok().filter(|s| !s.trim().is_empty()).unwrap_or(DEFAULT_PG.into()),
    };
    for (key, value) in common::args(&["--points", "--grids-x", "--grids-y", "--seed", "--repeat", "--pg"])? {
        let num = |v: &Option<String>| -> Result<u64> {
            let v = v.as_deref().unwrap_or("").replace('_', "");
            v.parse::<u64>().with_context(|| format!("{key} must be a non-negative integer, not {v:?}"))
        };
        match key.as_str() {
            "--points" => o.points = num(&value)? as usize,
            "--grids-x" => o.nx = num(&value)? as usize,
            "--grids-y" => o.ny = num(&value)? as usize,
            "--seed" => o.seed = num(&value)?,
            "--repeat" => o.repeat = num(&value)? as usize,
            "--pg" => o.pg_admin = value.unwrap_or_default(),
            "--skip-postgis" => o.skip_postgis = true,
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            _ => {} // cargo's --bench and anything else
        }
    }
    if o.points == 0 || o.nx == 0 || o.ny == 0 || o.repeat == 0 {
        bail!("--points, --grids-x, --grids-y and --repeat must be positive");
    }
    if o.points > i32::MAX as usize {
        bail!("--points must fit an int4 id");
    }
    if o.nx * o.ny > 99_899 {
        bail!("at most 99,899 grids (5-digit code suffix without a 000 sequence)");
    }
    Ok(o)
}

// ---------------------------------------------------------------- data

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Uniform,
    Vertex,
    Edge,
    Outside,
}

struct Data {
    codes: Vec<GridCode>,
    /// Closed rings, counter-clockwise: (i,j) (i+1,j) (i+1,j+1) (i,j+1) (i,j).
    rings: Vec<[E7; 5]>,
    points: Vec<E7>,
    kinds: Vec<Kind>,
    hi: E7,
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    (a, b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn generate(o: &Opts) -> Data {
    let mut rng = StdRng::seed_from_u64(o.seed);
    let (nx, ny) = (o.nx as i64, o.ny as i64);
    let mut verts = Vec::with_capacity(((nx + 1) * (ny + 1)) as usize);
    for j in 0..=ny {
        for i in 0..=nx {
            // Border vertices only slide along the border, so the box stays a rectangle.
            let mut jitter = |fixed: bool| {
                if fixed { 0 } else { JITTER_STEP * rng.gen_range(-JITTER_STEPS..=JITTER_STEPS) }
            };
            let jx = jitter(i == 0 || i == nx);
            let jy = jitter(j == 0 || j == ny);
            verts.push(E7 { x: X0 + i * DX + jx, y: Y0 + j * DY + jy });
        }
    }
    let v = |i: i64, j: i64| verts[(j * (nx + 1) + i) as usize];
    let mut rings = Vec::with_capacity((nx * ny) as usize);
    for j in 0..ny {
        for i in 0..nx {
            rings.push([v(i, j), v(i + 1, j), v(i + 1, j + 1), v(i, j + 1), v(i, j)]);
        }
    }
    let mut numbers: Vec<u32> = (1..100_000u32).filter(|n| !n.is_multiple_of(1000)).take(rings.len()).collect();
    numbers.shuffle(&mut rng);
    let codes = numbers
        .iter()
        .map(|n| GridCode::parse(&format!("{CODE_PREFIX}{n:05}")).expect("valid generated grid code"))
        .collect();

    let hi = E7 { x: X0 + nx * DX, y: Y0 + ny * DY };
    let margin = 20 * DX;
    let mut points = Vec::with_capacity(o.points);
    let mut kinds = Vec::with_capacity(o.points);
    for _ in 0..o.points {
        let (kind, p) = match rng.gen_range(0..100) {
            0 => (Kind::Vertex, verts[rng.gen_range(0..verts.len())]),
            1 => {
                let ring = &rings[rng.gen_range(0..rings.len())];
                let side = rng.gen_range(0..4);
                let (a, b) = (ring[side], ring[side + 1]);
                let g = gcd(b.x - a.x, b.y - a.y);
                assert!(g >= 2, "every edge has interior integer points");
                let k = rng.gen_range(1..g);
                let p = E7 { x: a.x + k * (b.x - a.x) / g, y: a.y + k * (b.y - a.y) / g };
                assert_eq!(zhufang_domain::grid::orient(a, b, p), 0, "edge point lies exactly on its edge");
                (Kind::Edge, p)
            }
            2 => loop {
                let p =
                    E7 { x: rng.gen_range(X0 - margin..=hi.x + margin), y: rng.gen_range(Y0 - margin..=hi.y + margin) };
                if p.x < X0 || p.x > hi.x || p.y < Y0 || p.y > hi.y {
                    break (Kind::Outside, p);
                }
            },
            _ => (Kind::Uniform, E7 { x: rng.gen_range(X0..=hi.x), y: rng.gen_range(Y0..=hi.y) }),
        };
        points.push(p);
        kinds.push(kind);
    }
    Data { codes, rings, points, kinds, hi }
}

// ---------------------------------------------------------------- formatting

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------- PostGIS

struct PgReport {
    facts: String,
    load: Duration,
    plan: Vec<String>,
    rule: Duration,
    rule_rows: Vec<(i32, String)>,
    contains: Duration,
    contains_rows: Vec<(i32, String)>,
}

/// The admin URL with its database replaced.
fn with_db(admin: &str, db: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[start..].find('/').map(|i| start + i).unwrap_or(base.len());
    format!("{}/{db}{query}", &base[..host_end])
}

async fn exec(c: &mut sqlx::PgConnection, sql: &str) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut *c).await.with_context(|| sql.to_string())?;
    Ok(())
}

async fn postgis(o: &Opts, d: &Data) -> Result<PgReport> {
    let name = format!("zf_routing_{:08x}", rand::random::<u32>());
    let mut admin =
        sqlx::PgConnection::connect(&o.pg_admin).await.with_context(|| format!("connecting to {}", o.pg_admin))?;
    exec(&mut admin, &format!("CREATE DATABASE {name}")).await?;
    println!("postgis:   database {name} created");
    let result = postgis_in(&with_db(&o.pg_admin, &name), d).await;
    if let Err(e) = exec(&mut admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await {
        eprintln!("warning: could not drop database {name}: {e:#}");
    } else {
        println!("postgis:   database {name} dropped");
    }
    let _ = admin.close().await;
    result
}

async fn postgis_in(url: &str, d: &Data) -> Result<PgReport> {
    let mut c = sqlx::PgConnection::connect(url).await.with_context(|| format!("connecting to {url}"))?;
    exec(&mut c, "CREATE EXTENSION postgis").await?;
    let facts: (String, String, String, String) = sqlx::query_as(
        "SELECT current_setting('server_version'), postgis_lib_version(), postgis_geos_version(), \
         current_setting('max_parallel_workers_per_gather')",
    )
    .fetch_one(&mut c)
    .await?;
    let facts = format!(
        "PostgreSQL {}, PostGIS {}, GEOS {}, max_parallel_workers_per_gather={}",
        facts.0.split_whitespace().next().unwrap_or(""),
        facts.1,
        facts.2,
        facts.3
    );

    let t = Instant::now();
    exec(&mut c, "CREATE TABLE grids (code text NOT NULL, geom geometry(Polygon) NOT NULL)").await?;
    exec(&mut c, "CREATE TABLE pts (id int NOT NULL, geom geometry(Point) NOT NULL)").await?;
    for (codes, rings) in d.codes.chunks(1000).zip(d.rings.chunks(1000)) {
        let codes: Vec<String> = codes.iter().map(|c| c.as_str().to_string()).collect();
        let wkts: Vec<String> = rings
            .iter()
            .map(|r| {
                let coords: Vec<String> = r.iter().map(|p| format!("{} {}", p.x, p.y)).collect();
                format!("POLYGON(({}))", coords.join(","))
            })
            .collect();
        sqlx::query("INSERT INTO grids (code, geom) SELECT c, ST_GeomFromText(w) FROM unnest($1::text[], $2::text[]) AS t(c, w)")
            .bind(codes)
            .bind(wkts)
            .execute(&mut c)
            .await
            .context("loading grids")?;
    }
    const CHUNK: usize = 100_000;
    for (k, chunk) in d.points.chunks(CHUNK).enumerate() {
        let ids: Vec<i32> = (0..chunk.len()).map(|i| (k * CHUNK + i) as i32).collect();
        let xs: Vec<f64> = chunk.iter().map(|p| p.x as f64).collect();
        let ys: Vec<f64> = chunk.iter().map(|p| p.y as f64).collect();
        sqlx::query(
            "INSERT INTO pts (id, geom) SELECT i, ST_MakePoint(x, y) FROM unnest($1::int4[], $2::float8[], $3::float8[]) AS t(i, x, y)",
        )
        .bind(ids)
        .bind(xs)
        .bind(ys)
        .execute(&mut c)
        .await
        .context("loading points")?;
    }
    exec(&mut c, "CREATE INDEX grids_geom_gist ON grids USING gist (geom)").await?;
    exec(&mut c, "VACUUM ANALYZE grids").await?;
    exec(&mut c, "VACUUM ANALYZE pts").await?;
    let load = t.elapsed();
    // Sanity: the integers survived the trip as doubles.
    let (n_grids, n_pts, bad): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM grids), (SELECT count(*) FROM pts), \
         (SELECT count(*) FROM pts WHERE ST_X(geom) <> round(ST_X(geom)) OR ST_Y(geom) <> round(ST_Y(geom)))",
    )
    .fetch_one(&mut c)
    .await?;
    if n_grids as usize != d.codes.len() || n_pts as usize != d.points.len() || bad != 0 {
        bail!(
            "loaded {n_grids} grids / {n_pts} points ({bad} non-integer), expected {} / {}",
            d.codes.len(),
            d.points.len()
        );
    }
    println!(
        "postgis:   loaded {n_grids} grids + {n_pts} points, GiST index, VACUUM ANALYZE in {:.1} s",
        load.as_secs_f64()
    );

    let plan: Vec<(String,)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN {RULE_SQL}"))).fetch_all(&mut c).await?;
    let plan = plan.into_iter().map(|(l,)| l).collect();

    let t = Instant::now();
    let rule_rows: Vec<(i32, String)> = sqlx::query_as(RULE_SQL).fetch_all(&mut c).await.context("rule query")?;
    let rule = t.elapsed();
    println!("postgis:   rule query {:.2} s, {} rows", rule.as_secs_f64(), rule_rows.len());

    let t = Instant::now();
    let contains_rows: Vec<(i32, String)> =
        sqlx::query_as(CONTAINS_SQL).fetch_all(&mut c).await.context("ST_Contains query")?;
    let contains = t.elapsed();
    println!("postgis:   ST_Contains join {:.2} s, {} rows", contains.as_secs_f64(), contains_rows.len());
    let _ = c.close().await;
    Ok(PgReport { facts, load, plan, rule, rule_rows, contains, contains_rows })
}

// ---------------------------------------------------------------- main

fn main() {
    let o = match parse_opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e:#}\n{HELP}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&o) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(o: &Opts) -> Result<()> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("# zhufang routing bench");
    println!("date:      {}", chrono::Local::now().format("%Y-%m-%d %H:%M:%S %z"));
    println!("machine:   nproc {cores}, CPU {}", cpu_model());
    println!("load avg:  {}", loadavg());
    let profile = if cfg!(debug_assertions) { "debug (numbers are not representative)" } else { "optimised" };
    println!("build:     {profile}");

    let t = Instant::now();
    let d = generate(o);
    let count = |k: Kind| d.kinds.iter().filter(|&&x| x == k).count();
    println!(
        "data:      {}×{} = {} grids over [{}, {}]–[{}, {}] (E7), seed {}; {} points: {} uniform, {} on vertices, {} on edges, {} outside ({:.2} s)",
        o.nx,
        o.ny,
        thousands(d.codes.len() as u64),
        X0,
        Y0,
        d.hi.x,
        d.hi.y,
        o.seed,
        thousands(d.points.len() as u64),
        thousands(count(Kind::Uniform) as u64),
        thousands(count(Kind::Vertex) as u64),
        thousands(count(Kind::Edge) as u64),
        thousands(count(Kind::Outside) as u64),
        t.elapsed().as_secs_f64()
    );

    // ---- ours
    let t = Instant::now();
    let grids: Vec<(GridCode, Area)> = d
        .codes
        .iter()
        .zip(&d.rings)
        .enumerate()
        .map(|(k, (code, ring))| {
            let exterior = Ring::new(ring.to_vec(), k + 1).with_context(|| format!("grid {code}"))?;
            Ok((code.clone(), Area(vec![Polygon { exterior, holes: vec![] }])))
        })
        .collect::<Result<_>>()?;
    let validate = t.elapsed();
    let t = Instant::now();
    let index = GridIndex::new(grids);
    let build = t.elapsed();
    println!(
        "ours:      Ring::new (validation) {:.1} ms, GridIndex::new {:.1} ms for {} grids",
        validate.as_secs_f64() * 1e3,
        build.as_secs_f64() * 1e3,
        index.len()
    );

    let mut answers: Vec<Option<&GridCode>> = vec![];
    let mut times = vec![];
    for run in 0..o.repeat {
        let mut out: Vec<Option<&GridCode>> = Vec::with_capacity(d.points.len());
        let t = Instant::now();
        for p in &d.points {
            out.push(index.locate(black_box(*p)));
        }
        let el = t.elapsed();
        black_box(&out);
        println!("ours:      run {}: {:.3} s, {:.0} points/s", run + 1, el.as_secs_f64(), rate(d.points.len(), el));
        if run == 0 {
            answers = out;
        } else if out != answers {
            bail!("routing run {} gave different answers from run 1", run + 1);
        }
        times.push(el);
    }
    times.sort();
    let ours = times[times.len() / 2];
    let none = answers.iter().filter(|a| a.is_none()).count();
    println!(
        "ours:      median {:.3} s; {} points outside every grid (None)",
        ours.as_secs_f64(),
        thousands(none as u64)
    );

    // ---- PostGIS
    let pg = if o.skip_postgis {
        println!("postgis:   skipped (--skip-postgis)");
        None
    } else {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("tokio runtime")?;
        Some(rt.block_on(postgis(o, &d))?)
    };

    // ---- compare
    let mut mismatches = 0usize;
    let mut contains_disagree = 0usize;
    if let Some(pg) = &pg {
        let mut theirs: Vec<Option<&str>> = vec![None; d.points.len()];
        let mut dup = 0usize;
        for (id, code) in &pg.rule_rows {
            let slot = &mut theirs[*id as usize];
            if slot.is_some() {
                dup += 1;
            }
            *slot = Some(code.as_str());
        }
        if dup > 0 {
            bail!("rule query returned {dup} duplicate point ids");
        }
        let mut shown = 0;
        for (i, (ours, theirs)) in answers.iter().zip(&theirs).enumerate() {
            if ours.map(|c| c.as_str()) != *theirs {
                mismatches += 1;
                if shown < 10 {
                    shown += 1;
                    let p = d.points[i];
                    println!(
                        "MISMATCH  point {i} ({} {}, {:?}): ours {:?}, PostGIS {:?}",
                        p.x,
                        p.y,
                        d.kinds[i],
                        ours.map(|c| c.as_str()),
                        theirs
                    );
                }
            }
        }
        // A point strictly inside a grid (ST_Contains) must be routed to that grid.
        for (id, code) in &pg.contains_rows {
            if answers[*id as usize].map(|c| c.as_str()) != Some(code.as_str()) {
                contains_disagree += 1;
            }
        }
        println!("postgis:   {}", pg.facts);
        println!("postgis:   plan of the rule query:");
        for l in &pg.plan {
            println!("             {l}");
        }
    }

    // ---- table
    let n = d.points.len();
    println!();
    println!("| engine | points | time (s) | points/s | ours is × faster |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| zhufang `GridIndex::locate`, 1 thread (median of {}) | {} | {:.3} | {} | 1× |",
        o.repeat,
        thousands(n as u64),
        ours.as_secs_f64(),
        thousands(rate(n, ours) as u64)
    );
    if let Some(pg) = &pg {
        for (label, t) in [
            ("PostGIS rule query (`ST_Intersects` + `ST_Contains`, `DISTINCT ON`)", pg.rule),
            ("PostGIS plain `ST_Contains` join (reference)", pg.contains),
        ] {
            println!(
                "| {label} | {} | {:.3} | {} | {:.1}× |",
                thousands(n as u64),
                t.as_secs_f64(),
                thousands(rate(n, t) as u64),
                t.as_secs_f64() / ours.as_secs_f64()
            );
        }
    }
    println!();
    println!(
        "index build: GridIndex::new {:.1} ms (+ Ring::new validation {:.1} ms) for {} grids",
        build.as_secs_f64() * 1e3,
        validate.as_secs_f64() * 1e3,
        index.len()
    );
    if let Some(pg) = &pg {
        println!(
            "PostGIS load (not timed above): {:.1} s; rule query rows {}, ST_Contains rows {}",
            pg.load.as_secs_f64(),
            thousands(pg.rule_rows.len() as u64),
            thousands(pg.contains_rows.len() as u64)
        );
        println!("mismatches (ours vs PostGIS rule query): {mismatches} of {}", thousands(n as u64));
        println!("ST_Contains rows not routed to that grid by ours: {contains_disagree}");
        let speedup = pg.rule.as_secs_f64() / ours.as_secs_f64();
        println!(
            "target ≥ 10× PostGIS (rule query): {:.1}× → {}",
            speedup,
            if speedup >= 10.0 { "met" } else { "NOT met" }
        );
    } else {
        println!("mismatches: not checked (--skip-postgis)");
    }
    println!("machine: nproc {cores}, CPU {}", cpu_model());
    if mismatches > 0 || contains_disagree > 0 {
        bail!("{mismatches} mismatches, {contains_disagree} ST_Contains disagreements");
    }
    Ok(())
}
