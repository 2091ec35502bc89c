//! The zhufang binary's library half: configuration, opening the store,
//! starting the server. `main.rs` is only the command line; integration
//! tests start the real app through [`start`].

use anyhow::{Context, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::watch;
use zhufang_store::Store;
use zhufang_web::{AppState, WebConfig};

/// `zhufang.toml`. Every key is optional; command-line flags win.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    /// `postgres://…`, or a SQLite file as `sqlite://PATH` or a plain path; default `sqlite://DATA_DIR/zhufang.db`.
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub secure_cookies: Option<bool>,
    pub trust_forwarded_for: Option<bool>,
    pub session_hours: Option<i64>,
    /// Minutes without a request after which a session is signed out
    /// (default 60; 0 turns it off).
    pub session_idle_minutes: Option<i64>,
    pub max_upload_mb: Option<usize>,
    pub login_max_failures: Option<i64>,
    pub login_window_minutes: Option<i64>,
    /// Seconds between deadline scans (due soon / overdue notices).
    pub scan_interval_secs: Option<u64>,
    /// The map's base layer: a tile URL template with {z}/{x}/{y} on the
    /// intranet (PGIS, 天地图). Unset: grids on a plain background, offline.
    pub map_tile_url: Option<String>,
    pub map_attribution: Option<String>,
    /// An external 12345 system's webhook: each hand-over is POSTed there as
    /// JSON signed with `webhook_secret` (HMAC-SHA256), retried until acknowledged.
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    /// A PEM file of the CA that signed an https:// receiver's certificate
    /// (an intranet CA not among the system's trusted roots).
    pub webhook_ca_file: Option<PathBuf>,
    /// Keep dispute parties' ID numbers (default false: the field is refused).
    pub dispute_id_numbers: Option<bool>,
    /// Days ahead the duty scheduler fills with tasks, once a day (default 14; 0 turns it off).
    pub duty_window_days: Option<i64>,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub bind: String,
    pub web: WebConfig,
    pub scan_interval: std::time::Duration,
}

impl Settings {
    pub fn resolve(
        file: FileConfig,
        data_dir: Option<PathBuf>,
        db: Option<String>,
        bind: Option<String>,
    ) -> Result<Self> {
        let data_dir = data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("./zhufang-data"));
        let database_url =
            db.or(file.database_url).unwrap_or_else(|| format!("sqlite://{}", data_dir.join("zhufang.db").display()));
        let mut web = WebConfig::new(data_dir.clone());
        if let Some(v) = file.secure_cookies {
            web.secure_cookies = v;
        }
        if let Some(v) = file.trust_forwarded_for {
            web.trust_forwarded_for = v;
        }
        if let Some(v) = file.session_hours {
            web.session_hours = v.clamp(1, 24 * 30);
        }
        if let Some(v) = file.session_idle_minutes {
            web.session_idle_minutes = v.clamp(0, 24 * 60);
        }
        if let Some(v) = file.max_upload_mb {
            web.max_upload_bytes = v.clamp(1, 100) * 1024 * 1024;
        }
        if let Some(v) = file.login_max_failures {
            web.login_max_failures = v.max(1);
        }
        if let Some(v) = file.login_window_minutes {
            web.login_window_minutes = v.max(1);
        }
        if let Some(url) = file.map_tile_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()) {
            if !(url.contains("{z}") && url.contains("{x}") && url.contains("{y}")) {
                anyhow::bail!("map_tile_url must contain {{z}}, {{x}} and {{y}}: {url}");
            }
            web.map_tiles = Some(url);
        }
        web.map_attribution = file.map_attribution.unwrap_or_default();
        web.party_id_numbers = file.dispute_id_numbers.unwrap_or(false);
        web.duty_window_days = file.duty_window_days.unwrap_or(zhufang_store::duty::DEFAULT_WINDOW_DAYS).clamp(0, 60);
        if let Some(url) = file.webhook_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()) {
            let secret = file.webhook_secret.filter(|s| s.len() >= 16).ok_or_else(|| {
                anyhow::anyhow!("webhook_secret (at least 16 characters) is required with webhook_url")
            })?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                anyhow::bail!("webhook_url must be an http:// or https:// URL: {url}");
            }
            let extra_root_pem = match file.webhook_ca_file {
                Some(path) => {
                    let pem = std::fs::read(&path)
                        .with_context(|| format!("webhook_ca_file {} cannot be read", path.display()))?;
                    zhufang_web::outbox::check_ca_pem(&pem)
                        .map_err(|e| anyhow::anyhow!("webhook_ca_file {}: {e}", path.display()))?;
                    Some(pem)
                }
                None => None,
            };
            let hook = zhufang_web::state::Webhook { url, secret, extra_root_pem };
            zhufang_web::outbox::client(&hook).map_err(|e| anyhow::anyhow!("webhook: {e}"))?;
            web.webhook = Some(hook);
        }
        Ok(Self {
            data_dir,
            database_url,
            bind: bind.or(file.bind).unwrap_or_else(|| "127.0.0.1:8080".into()),
            web,
            scan_interval: std::time::Duration::from_secs(file.scan_interval_secs.unwrap_or(60).max(1)),
        })
    }
}

/// Opens and migrates the database, seeding the rows every database needs.
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>> {
    let store = zhufang_store::open(url).await.with_context(|| format!("opening {}", redact(url)))?;
    store.migrate().await.context("running migrations")?;
    store.ensure_defaults().await.context("seeding defaults")?;
    Ok(store)
}

/// Hides a password in a database URL for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<Result<()>>,
}

impl Running {
    /// Stops accepting, finishes in-flight requests, stops background jobs.
    pub async fn stop(self) -> Result<()> {
        let _ = self.shutdown.send(true);
        self.handle.await.context("server task")?
    }

    /// Waits until the server ends (after a signal).
    pub async fn wait(self) -> Result<()> {
        self.handle.await.context("server task")?
    }

    pub fn shutdown_sender(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Starts the HTTP server and the deadline scanner on `bind` (port 0 picks one).
pub async fn start(store: Arc<dyn Store>, settings: &Settings) -> Result<Running> {
    // every station has its eight duties of 八个一 (stations created since get theirs now)
    let seeded = zhufang_store::duty::ensure_station_templates(store.as_ref(), chrono::Utc::now())
        .await
        .context("seeding the duty templates")?;
    if seeded > 0 {
        tracing::info!(seeded, "duty templates (八个一)");
    }
    let state = AppState::new(store, settings.web.clone()).await.context("loading definitions")?;
    let listener =
        tokio::net::TcpListener::bind(&settings.bind).await.with_context(|| format!("binding {}", settings.bind))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = watch::channel(false);
    let app = zhufang_web::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(zhufang_web::run_background(state.clone(), settings.scan_interval, rx.clone()));
    let mut rx2 = rx;
    let handle = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                while !*rx2.borrow() {
                    if rx2.changed().await.is_err() {
                        break;
                    }
                }
            })
            .await
            .context("serving")
    });
    Ok(Running { addr, state, shutdown: tx, handle })
}

/// Whether an address is loopback-only (the demo refuses others unless told).
pub fn is_loopback(bind: &str) -> bool {
    match bind.parse::<SocketAddr>() {
        Ok(a) => a.ip().is_loopback(),
        Err(_) => bind.starts_with("localhost:"),
    }
}

/// The demo: seeds `data_dir` if it has no organisation yet.
pub async fn prepare_demo(store: &dyn Store, tasks: usize) -> Result<Option<zhufang_demo::SeedReport>> {
    prepare_demo_with(store, zhufang_demo::SeedOptions { tasks, ..Default::default() }).await
}

/// [`prepare_demo`] with every seeding option.
pub async fn prepare_demo_with(
    store: &dyn Store,
    opts: zhufang_demo::SeedOptions,
) -> Result<Option<zhufang_demo::SeedReport>> {
    if !store.org_units().await?.is_empty() {
        return Ok(None);
    }
    let hash = zhufang_web::auth::password::hash("demo".into()).await.map_err(anyhow::Error::msg)?;
    let report = zhufang_demo::seed(store, &hash, chrono::Utc::now(), &opts).await?;
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_tiles(url: &str) -> Result<Settings> {
        let file = FileConfig { map_tile_url: Some(url.into()), ..Default::default() };
        Settings::resolve(file, Some(PathBuf::from("/tmp/x")), None, None)
    }

    #[test]
    fn tile_url_needs_its_placeholders() {
        let s = with_tiles(" http://pgis.local/{z}/{x}/{y}.png ").unwrap();
        assert_eq!(s.web.map_tiles.as_deref(), Some("http://pgis.local/{z}/{x}/{y}.png"));
        assert!(with_tiles("http://pgis.local/tiles.png").is_err());
        assert_eq!(with_tiles("  ").unwrap().web.map_tiles, None, "blank = offline background");
    }

    fn with_hook(url: &str, ca: Option<&str>) -> Result<Settings> {
        let ca_file = ca.map(|pem| {
            let p = std::env::temp_dir().join(format!("zf-ca-{}-{}.pem", std::process::id(), pem.len()));
            std::fs::write(&p, pem).unwrap();
            p
        });
        let file = FileConfig {
            webhook_url: Some(url.into()),
            webhook_secret: Some("a-secret-of-16-or-more".into()),
            webhook_ca_file: ca_file,
            ..Default::default()
        };
        Settings::resolve(file, Some(PathBuf::from("/tmp/x")), None, None)
    }

    #[test]
    fn webhooks_are_http_or_https_with_a_readable_ca() {
        assert!(with_hook("http://12345.local/orders", None).is_ok());
        let s = with_hook("https://12345.local/orders", None).unwrap();
        assert_eq!(s.web.webhook.map(|h| h.url), Some("https://12345.local/orders".to_string()));
        assert!(with_hook("ftp://12345.local/orders", None).is_err());
        let err = with_hook("https://12345.local/orders", Some("not a certificate")).unwrap_err().to_string();
        assert!(err.contains("webhook_ca_file"), "{err}");
        let pem = rcgen::generate_simple_self_signed(vec!["12345.local".to_string()]).unwrap().cert.pem();
        let s = with_hook("https://12345.local/orders", Some(&pem)).unwrap();
        assert_eq!(s.web.webhook.and_then(|h| h.extra_root_pem), Some(pem.into_bytes()));
        let missing = FileConfig {
            webhook_url: Some("https://12345.local/orders".into()),
            webhook_secret: Some("a-secret-of-16-or-more".into()),
            webhook_ca_file: Some(PathBuf::from("/nonexistent/ca.pem")),
            ..Default::default()
        };
        assert!(Settings::resolve(missing, Some(PathBuf::from("/tmp/x")), None, None).is_err());
    }
}
