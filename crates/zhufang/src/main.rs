//! `zhufang`: the command line.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;
use zhufang::{FileConfig, Settings, open_store};
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::{PhoneNumber, Role, Username};
use zhufang_store::ChainStatus;
use zhufang_store::model::NewUser;

#[derive(Parser)]
#[command(name = "zhufang", version, about = "派出所主防平台 zhufang: police-station primary prevention")]
struct Cli {
    /// Log as JSON lines (for log shippers) instead of text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone)]
struct DbOpts {
    /// A zhufang.toml configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (SQLite database and uploads).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database: postgres://…, or a SQLite file as sqlite://PATH or a plain path (default: DATA_DIR/zhufang.db).
    #[arg(long, env = "ZHUFANG_DB")]
    db: Option<String>,
}

impl DbOpts {
    fn settings(&self, bind: Option<String>) -> Result<Settings> {
        let file = match &self.config {
            Some(p) => FileConfig::load(p)?,
            None => FileConfig::default(),
        };
        Settings::resolve(file, self.data_dir.clone(), self.db.clone(), bind)
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the web application.
    Serve {
        #[command(flatten)]
        db: DbOpts,
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long)]
        bind: Option<String>,
    },
    /// Create and seed a fictional city in DIR if it is empty, then serve it.
    Demo {
        #[arg(long, default_value = "./demo-data")]
        data_dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Allow a non-loopback address (the demo accounts all use the password `demo`).
        #[arg(long)]
        allow_remote: bool,
        /// Number of tasks in the seeded history.
        #[arg(long, default_value_t = 2000)]
        tasks: usize,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbOpts,
    },
    /// Organisation tree administration.
    Org {
        #[command(subcommand)]
        cmd: OrgCmd,
    },
    /// User administration.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Write a consistent copy of the database to FILE.
    Backup {
        #[command(flatten)]
        db: DbOpts,
        /// Destination file (SQLite: a database file; PostgreSQL: a pg_dump SQL file).
        #[arg(long)]
        out: PathBuf,
    },
    /// Import data files.
    Import {
        #[command(subcommand)]
        cmd: ImportCmd,
    },
    /// Export data files.
    Export {
        #[command(subcommand)]
        cmd: ExportCmd,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// Triage (智能分流): police or not, and the responsible department.
    Triage {
        #[command(subcommand)]
        cmd: TriageCmd,
    },
}

#[derive(Subcommand)]
enum TriageCmd {
    /// Train a model and write it (default: the built-in corpus).
    Train {
        /// Training TSV (header; `text` or `title`+`detail`, and `label`). Default: the built-in corpus.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Officers' corrections, a TSV of the same form, added after the data.
        #[arg(long)]
        corrections: Option<PathBuf>,
        /// Where to write the model.
        #[arg(long, default_value = "triage-model.zftm")]
        out: PathBuf,
        /// ensemble (default: complement naive Bayes + logistic regression), complement, multinomial, logistic.
        #[arg(long, default_value = "ensemble")]
        kind: String,
        /// Additive smoothing (default 0.05).
        #[arg(long)]
        alpha: Option<f32>,
    },
    /// Evaluate a model on a labelled TSV: per-class precision/recall, confusion matrix, accuracy.
    Eval {
        #[arg(long)]
        data: PathBuf,
        /// A model file (default: the shipped model).
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Write the built-in training corpus as TSV (text, label).
    Corpus {
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the officers' corrections kept at triage as TSV (text, label),
    /// for `train --corrections`.
    Corrections {
        #[command(flatten)]
        db: DbOpts,
        #[arg(long)]
        out: PathBuf,
    },
    /// Classify one text and print the verdict as JSON.
    Classify {
        text: String,
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

/// A model file, or None for the shipped model.
fn triage_model(path: Option<&PathBuf>) -> Result<Option<zhufang_triage::Triage>> {
    let Some(p) = path else { return Ok(None) };
    let b = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
    Ok(Some(zhufang_triage::Triage::from_bytes(&b).with_context(|| p.display().to_string())?))
}

fn read_tsv(p: &PathBuf) -> Result<Vec<zhufang_triage::Example>> {
    let s = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    zhufang_triage::tsv::read_examples(&s).with_context(|| p.display().to_string())
}

fn triage(cmd: TriageCmd) -> Result<()> {
    match cmd {
        TriageCmd::Train { data, corrections, out, kind, alpha } => {
            let defaults = zhufang_triage::TrainConfig::default();
            let cfg = zhufang_triage::TrainConfig {
                kind: match kind.as_str() {
                    "ensemble" => zhufang_triage::Kind::Ensemble,
                    "complement" => zhufang_triage::Kind::Complement,
                    "multinomial" => zhufang_triage::Kind::Multinomial,
                    "logistic" => zhufang_triage::Kind::Logistic,
                    k => bail!("unknown --kind {k}: ensemble, complement, multinomial or logistic"),
                },
                alpha: alpha.unwrap_or(defaults.alpha),
                ..defaults
            };
            let mut ex = match &data {
                Some(p) => read_tsv(p)?,
                None => zhufang_triage::corpus::examples(),
            };
            if let Some(p) = &corrections {
                ex.extend(read_tsv(p)?);
            }
            let t = std::time::Instant::now();
            let model = zhufang_triage::train_with(&ex, &cfg);
            let bytes = model.to_bytes();
            std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "trained {} on {} examples in {:.2} s: {} classes, {} weights, {} bytes -> {}",
                model.version,
                ex.len(),
                t.elapsed().as_secs_f64(),
                model.classes.len(),
                model.entries.len(),
                bytes.len(),
                out.display()
            );
            Ok(())
        }
        TriageCmd::Eval { data, model } => {
            let loaded = triage_model(model.as_ref())?;
            let tri = loaded.as_ref().unwrap_or_else(|| zhufang_triage::Triage::default_model());
            let ex = read_tsv(&data)?;
            let t = std::time::Instant::now();
            let predicted: Vec<String> = ex.iter().map(|e| tri.classify(&e.text).department).collect();
            let secs = t.elapsed().as_secs_f64();
            eprintln!(
                "model {}: classified {} texts in {:.4} s ({:.0} texts/s, one thread)",
                tri.model_version(),
                ex.len(),
                secs,
                ex.len() as f64 / secs.max(1e-9)
            );
            let gold: Vec<&str> = ex.iter().map(|e| e.label.as_str()).collect();
            print!("{}", zhufang_triage::eval::Report::new(&gold, &predicted).render());
            Ok(())
        }
        TriageCmd::Corpus { out } => {
            let ex = zhufang_triage::corpus::examples();
            std::fs::write(&out, zhufang_triage::tsv::write_examples(&ex))
                .with_context(|| format!("writing {}", out.display()))?;
            println!("{} examples -> {}", ex.len(), out.display());
            Ok(())
        }
        TriageCmd::Corrections { .. } => unreachable!("needs the database: handled in main"),
        TriageCmd::Classify { text, model } => {
            let loaded = triage_model(model.as_ref())?;
            let tri = loaded.as_ref().unwrap_or_else(|| zhufang_triage::Triage::default_model());
            println!("{}", serde_json::to_string_pretty(&tri.classify(&text))?);
            Ok(())
        }
    }
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user. The password is read from ZHUFANG_PASSWORD or asked for on stdin.
    Add {
        #[command(flatten)]
        db: DbOpts,
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// Org unit code.
        #[arg(long)]
        org: String,
        /// Comma-separated roles: admin, bureau_analyst, station_leader, command_room, community_officer, auxiliary, partner_agency.
        #[arg(long)]
        roles: String,
        #[arg(long)]
        phone: Option<String>,
        /// Let the user keep this password (default: must change at first login).
        #[arg(long)]
        no_change_required: bool,
    },
}

#[derive(Subcommand)]
enum OrgCmd {
    /// Add an org unit: the root (市局) without --parent, others under a parent code.
    Add {
        #[command(flatten)]
        db: DbOpts,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// bureau, branch, station, district or agency.
        #[arg(long)]
        kind: String,
        /// Parent unit code.
        #[arg(long)]
        parent: Option<String>,
    },
    /// List the tree.
    List {
        #[command(flatten)]
        db: DbOpts,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Grids from a GeoJSON FeatureCollection (properties: code, name, station,
    /// kind, officer, auxiliaries, village). All or nothing.
    Grids {
        #[command(flatten)]
        db: DbOpts,
        file: PathBuf,
        /// Datum of the coordinates: wgs84 (also cgcs2000), gcj02 (高德) or bd09 (百度).
        #[arg(long, default_value = "wgs84")]
        datum: String,
        /// Check and report, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Historical incidents from CSV (header: number, channel, received_at,
    /// description, and optional caller, position, type and step columns; see
    /// `zhufang_domain::incident_import`). Bad rows are reported by line;
    /// numbers already present are skipped, so a file can be imported again.
    Incidents {
        #[command(flatten)]
        db: DbOpts,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExportCmd {
    /// Grids as a GeoJSON FeatureCollection (WGS-84).
    Grids {
        #[command(flatten)]
        db: DbOpts,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the hash chain; exits non-zero naming the first broken record.
    Verify {
        #[command(flatten)]
        db: DbOpts,
    },
}

fn init_logs(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    if json {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn serve(settings: Settings, store: std::sync::Arc<dyn zhufang_store::Store>) -> Result<()> {
    let running = zhufang::start(store, &settings).await?;
    // The first line of output names the address (tests and scripts read it).
    println!("zhufang listening on http://{}", running.addr);
    tracing::info!(addr = %running.addr, data_dir = %settings.data_dir.display(), "serving");
    let tx = running.shutdown_sender();
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = tx.send(true);
    });
    running.wait().await
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    init_logs(cli.log_json);
    match cli.cmd {
        Cmd::Triage { cmd: TriageCmd::Corrections { db, out } } => {
            let settings = db.settings(None)?;
            let store = open_store(&settings.database_url).await?;
            let rows = store.triage_corrections().await?;
            let ex: Vec<zhufang_triage::Example> =
                rows.into_iter().map(|(text, label)| zhufang_triage::Example { text, label }).collect();
            std::fs::write(&out, zhufang_triage::tsv::write_examples(&ex))
                .with_context(|| format!("writing {}", out.display()))?;
            println!("{} corrections -> {}", ex.len(), out.display());
            Ok(())
        }
        Cmd::Triage { cmd } => triage(cmd),
        Cmd::Import { cmd: ImportCmd::Incidents { db, file } } => {
            let settings = db.settings(None)?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let store = open_store(&settings.database_url).await?;
            let router = zhufang_store::service::GridRouter::from_records(&store.grids(None).await?);
            let wf = store.workflow(zhufang_domain::incident::WORKFLOW).await?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} rows").expect("template"));
            let b = bar.clone();
            let report = zhufang_store::incidents::import_csv(
                store.as_ref(),
                &router,
                &wf,
                None,
                &text,
                chrono::Utc::now(),
                &mut move |done, total| {
                    b.set_length(total as u64);
                    b.set_position(done as u64);
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            bar.finish_and_clear();
            println!(
                "{} rows: {} imported, {} already there, {} with problems",
                report.rows,
                report.imported,
                report.existing,
                report.errors.iter().map(|e| e.line).collect::<std::collections::BTreeSet<_>>().len()
            );
            for e in &report.errors {
                eprintln!("line {}: {}: {}", e.line, e.field, e.message);
            }
            if report.errors.is_empty() { Ok(()) } else { anyhow::bail!("some rows were not imported (see above)") }
        }
        Cmd::Serve { db, bind } => {
            let settings = db.settings(bind)?;
            let store = open_store(&settings.database_url).await?;
            serve(settings, store).await
        }
        Cmd::Demo { data_dir, bind, allow_remote, tasks } => {
            if !allow_remote && !zhufang::is_loopback(&bind) {
                bail!(
                    "the demo binds only to loopback addresses (all demo accounts use the password `demo`); pass --allow-remote to bind {bind}"
                );
            }
            let settings = Settings::resolve(FileConfig::default(), Some(data_dir), None, Some(bind))?;
            let store = open_store(&settings.database_url).await?;
            let started = std::time::Instant::now();
            if let Some(report) = zhufang::prepare_demo(store.as_ref(), tasks).await? {
                tracing::info!(?report, secs = started.elapsed().as_secs_f64(), "demo city seeded");
                eprintln!(
                    "demo city seeded: {} units, {} users, {} catalogue items, {} grids, {} tasks, {} incidents, {} disputes, {} hazards. Sign in as admin / s1.leader / s1.command / s1.officer … with password `demo`.",
                    report.org_units,
                    report.users,
                    report.catalogue_items,
                    report.grids,
                    report.tasks,
                    report.incidents,
                    report.disputes,
                    report.hazards
                );
            }
            serve(settings, store).await
        }
        Cmd::Migrate { db } => {
            let settings = db.settings(None)?;
            open_store(&settings.database_url).await?;
            println!("migrations applied to {}", zhufang::redact(&settings.database_url));
            Ok(())
        }
        Cmd::Org { cmd: OrgCmd::Add { db, code, name, kind, parent } } => {
            let settings = db.settings(None)?;
            let store = open_store(&settings.database_url).await?;
            let code = zhufang_domain::OrgCode::parse(&code).map_err(|e| anyhow::anyhow!("{}", e.message))?;
            if !zhufang_web::controllers::org_units::KINDS.contains(&kind.as_str()) {
                bail!("kind must be one of {:?}", zhufang_web::controllers::org_units::KINDS);
            }
            let parent_id = match parent {
                Some(p) => {
                    Some(store.org_unit_by_code(&p).await?.with_context(|| format!("no org unit with code {p}"))?.id)
                }
                None => {
                    if !store.org_units().await?.is_empty() {
                        bail!("the tree has a root already; give --parent");
                    }
                    None
                }
            };
            let ev = AuditEvent::new(None, "cli", "org_unit", 0, "create", None, None);
            let u = store.create_org_unit(code.as_str(), &name, &kind, parent_id, chrono::Utc::now(), &ev).await?;
            println!("created {} {} ({})", u.code, u.name, u.kind);
            Ok(())
        }
        Cmd::Org { cmd: OrgCmd::List { db } } => {
            let settings = db.settings(None)?;
            let store = open_store(&settings.database_url).await?;
            for u in store.org_units().await? {
                let depth = u.path.matches('/').count().saturating_sub(2);
                println!("{}{} {} ({})", "  ".repeat(depth), u.code, u.name, u.kind);
            }
            Ok(())
        }
        Cmd::User { cmd: UserCmd::Add { db, username, name, org, roles, phone, no_change_required } } => {
            let settings = db.settings(None)?;
            let store = open_store(&settings.database_url).await?;
            let username = Username::parse(&username).map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let roles: Vec<Role> = zhufang_domain::workflow::parse_list(&roles).map_err(|e| anyhow::anyhow!("{e}"))?;
            if roles.is_empty() {
                bail!("give at least one role");
            }
            let phone =
                phone.map(|p| PhoneNumber::parse(&p)).transpose().map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let org = store.org_unit_by_code(&org).await?.with_context(|| format!("no org unit with code {org}"))?;
            let password = match std::env::var("ZHUFANG_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprint!("password for {username}: ");
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let pw =
                zhufang_domain::types::NewPassword::parse(&password).map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let hash = zhufang_web::auth::password::hash(pw.expose().to_string()).await.map_err(anyhow::Error::msg)?;
            let ev = AuditEvent::new(None, "cli", "user", 0, "create", None, None);
            let u = store
                .create_user(
                    &NewUser {
                        username: username.as_str().into(),
                        display_name: name,
                        phone: phone.map(|p| p.as_str().to_string()),
                        org_unit_id: org.id,
                        password_hash: hash,
                        roles,
                        must_change_password: !no_change_required,
                        created_at: chrono::Utc::now(),
                    },
                    &ev,
                )
                .await?;
            println!("created user {} (id {})", u.username, u.id);
            Ok(())
        }
        Cmd::Import { cmd: ImportCmd::Grids { db, file, datum, dry_run } } => {
            let settings = db.settings(None)?;
            let datum =
                zhufang_domain::geojson::Datum::parse(&datum).context("--datum must be wgs84, gcj02 or bd09")?;
            let bar = indicatif::ProgressBar::new(3);
            bar.set_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").expect("template"));
            bar.set_message("reading");
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            bar.inc(1);
            bar.set_message("checking");
            let store = open_store(&settings.database_url).await?;
            bar.inc(1);
            bar.set_message(if dry_run { "dry run" } else { "writing" });
            let result =
                zhufang_store::service::import_grids(store.as_ref(), &text, datum, None, dry_run, chrono::Utc::now())
                    .await;
            bar.inc(1);
            bar.finish_and_clear();
            match result {
                Ok(r) if !r.dry_run => {
                    println!("{} features: {} created, {} updated", r.features, r.created, r.updated);
                    for (a, b) in &r.overlaps {
                        println!("overlap: {a} and {b}");
                    }
                    for g in &r.gaps {
                        println!(
                            "gap in {}: near {:.6}, {:.6} (about {:.0} m²)",
                            g.station, g.gap.lat, g.gap.lon, g.gap.approx_area_m2
                        );
                    }
                    // Re-route located tasks now, with a progress bar (a server would do it in the background).
                    let records = store.grids(None).await?;
                    let router = zhufang_store::service::GridRouter::from_records(&records);
                    let bar = indicatif::ProgressBar::new(0);
                    bar.set_style(
                        indicatif::ProgressStyle::with_template("re-routing tasks {bar:30} {pos}/{len}")
                            .expect("template"),
                    );
                    let mut show = |j: &zhufang_store::model::Job| {
                        bar.set_length(j.total as u64);
                        bar.set_position(j.done as u64);
                    };
                    let job = zhufang_store::service::run_reroute(store.as_ref(), &router, &mut show).await?;
                    bar.finish_and_clear();
                    if let Some(j) = job {
                        println!("re-routed {} located tasks, {} moved to another grid", j.done, j.changed);
                    }
                    Ok(())
                }
                Ok(r) => {
                    println!(
                        "{} features: {} created, {} updated{}",
                        r.features,
                        r.created,
                        r.updated,
                        if r.dry_run { " (dry run, nothing written)" } else { "" }
                    );
                    for (a, b) in &r.overlaps {
                        println!("overlap: {a} and {b}");
                    }
                    for g in &r.gaps {
                        println!(
                            "gap in {}: near {:.6}, {:.6} (about {:.0} m²)",
                            g.station, g.gap.lat, g.gap.lon, g.gap.approx_area_m2
                        );
                    }
                    Ok(())
                }
                Err(zhufang_store::service::ServiceError::Validation(errs)) => {
                    for e in &errs {
                        eprintln!("{}: {}", e.field, e.message);
                    }
                    bail!("{} problems; nothing was imported", errs.len());
                }
                Err(e) => Err(anyhow::anyhow!("{e}")),
            }
        }
        Cmd::Export { cmd: ExportCmd::Grids { db, out } } => {
            let settings = db.settings(None)?;
            let store = open_store(&settings.database_url).await?;
            let grids = store.grids(None).await?;
            let fc = zhufang_web::controllers::grids::feature_collection(&grids);
            std::fs::write(&out, serde_json::to_string_pretty(&fc)?)
                .with_context(|| format!("writing {}", out.display()))?;
            println!("{} grids written to {}", grids.len(), out.display());
            Ok(())
        }
        Cmd::Backup { db, out } => {
            let settings = db.settings(None)?;
            let store = open_store(&settings.database_url).await?;
            if out.exists() {
                bail!("{} exists; choose a new file", out.display());
            }
            store.backup(&out).await?;
            println!("backup written to {}", out.display());
            Ok(())
        }
        Cmd::Audit { cmd: AuditCmd::Verify { db } } => {
            let settings = db.settings(None)?;
            let store = zhufang_store::open(&settings.database_url).await?;
            match store.verify_audit().await? {
                ChainStatus::Intact { records } => {
                    println!("audit chain intact: {records} records");
                    Ok(())
                }
                ChainStatus::Broken(e) => {
                    eprintln!("audit chain BROKEN: {e}");
                    std::process::exit(2);
                }
            }
        }
    }
}
