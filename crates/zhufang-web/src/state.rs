//! Shared application state.

use crate::metrics::Metrics;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use zhufang_domain::calendar::WorkCalendar;
use zhufang_domain::workflow::Workflow;
use zhufang_store::service::GridRouter;
use zhufang_store::{Store, StoreError};

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where uploads live (`DIR/uploads`).
    pub data_dir: PathBuf,
    /// Mark cookies `Secure` (set when TLS terminates in front of zhufang).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
    pub session_hours: i64,
    /// A session unused for this many minutes is signed out (0: never).
    pub session_idle_minutes: i64,
    pub max_upload_bytes: usize,
    pub login_max_failures: i64,
    pub login_window_minutes: i64,
    /// The map's base layer: a tile URL template on the intranet (a PGIS or
    /// 天地图 server, e.g. `http://pgis.local/tiles/{z}/{x}/{y}.png`). None:
    /// grids and labels on a plain background, fully offline.
    pub map_tiles: Option<String>,
    /// Credit shown for the tiles.
    pub map_attribution: String,
    /// An external 12345 system that receives each hand-over as signed JSON.
    pub webhook: Option<Webhook>,
    /// Keep dispute parties' ID numbers (off: the field is refused and not shown).
    pub party_id_numbers: bool,
    /// The duty scheduler keeps this many days ahead filled with tasks, once a
    /// day (0: it does not run; `POST /api/v1/duty-templates/generate` still works).
    pub duty_window_days: i64,
}

/// Where hand-overs go, and the shared secret that signs them (HMAC-SHA256).
#[derive(Debug, Clone)]
pub struct Webhook {
    /// `http://` or `https://`; over TLS the receiver's certificate is checked
    /// against the system's trusted roots and `extra_root_pem`.
    pub url: String,
    pub secret: String,
    /// A further trusted root (PEM), for a receiver with an intranet CA's certificate.
    pub extra_root_pem: Option<Vec<u8>>,
}

impl WebConfig {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            secure_cookies: false,
            trust_forwarded_for: false,
            session_hours: 12,
            session_idle_minutes: 60,
            max_upload_bytes: 10 * 1024 * 1024,
            login_max_failures: 5,
            login_window_minutes: 15,
            map_tiles: None,
            map_attribution: String::new(),
            webhook: None,
            party_id_numbers: false,
            duty_window_days: 0,
        }
    }
    pub fn uploads(&self) -> PathBuf {
        self.data_dir.join("uploads")
    }
}

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub cfg: WebConfig,
    workflow: RwLock<Arc<Workflow>>,
    calendar: RwLock<Arc<WorkCalendar>>,
    router: RwLock<Arc<GridRouter>>,
    /// One job runner at a time.
    jobs: tokio::sync::Mutex<()>,
    /// One outbox delivery round at a time (so nothing is sent twice at once).
    pub outbox_lock: tokio::sync::Mutex<()>,
    /// The webhook's HTTP client, built on first delivery (its TLS roots
    /// are read once, not on every round).
    pub webhook_client: std::sync::OnceLock<Result<reqwest::Client, String>>,
    pub metrics: Metrics,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub async fn new(store: Arc<dyn Store>, cfg: WebConfig) -> Result<Self, StoreError> {
        let wf = store.workflow(zhufang_domain::task::WORKFLOW).await?;
        let cal = store.calendar().await?;
        let router = GridRouter::from_records(&store.grids(None).await?);
        std::fs::create_dir_all(cfg.uploads()).map_err(|e| StoreError::Invalid(format!("uploads dir: {e}")))?;
        Ok(Self(Arc::new(Inner {
            store,
            cfg,
            workflow: RwLock::new(Arc::new(wf)),
            calendar: RwLock::new(Arc::new(cal)),
            router: RwLock::new(Arc::new(router)),
            jobs: tokio::sync::Mutex::new(()),
            outbox_lock: tokio::sync::Mutex::new(()),
            webhook_client: std::sync::OnceLock::new(),
            metrics: Metrics::default(),
        })))
    }

    /// The task workflow as last loaded from the database.
    pub fn workflow(&self) -> Arc<Workflow> {
        self.workflow.read().expect("workflow lock").clone()
    }

    pub fn calendar(&self) -> Arc<WorkCalendar> {
        self.calendar.read().expect("calendar lock").clone()
    }

    /// The grid router as last built from the database.
    pub fn router(&self) -> Arc<GridRouter> {
        self.router.read().expect("router lock").clone()
    }

    /// Rebuilds the grid router after grids change.
    pub async fn reload_grids(&self) -> Result<(), StoreError> {
        let router = GridRouter::from_records(&self.store.grids(None).await?);
        *self.router.write().expect("router lock") = Arc::new(router);
        Ok(())
    }

    /// Runs requested or interrupted jobs (re-routing after grid changes).
    pub async fn run_jobs(&self) -> Result<(), StoreError> {
        let _one = self.jobs.lock().await;
        let router = self.router();
        let mut log = |j: &zhufang_store::model::Job| tracing::info!(job = %j.name, done = j.done, total = j.total, changed = j.changed, "job progress");
        if let Some(j) = zhufang_store::service::run_reroute(self.store.as_ref(), &router, &mut log).await?
            && j.finished_at.is_some()
        {
            tracing::debug!(job = %j.name, changed = j.changed, "job done");
        }
        Ok(())
    }

    /// Reloads the workflow and calendar after an edit.
    pub async fn reload_definitions(&self) -> Result<(), StoreError> {
        let wf = self.store.workflow(zhufang_domain::task::WORKFLOW).await?;
        let cal = self.store.calendar().await?;
        *self.workflow.write().expect("workflow lock") = Arc::new(wf);
        *self.calendar.write().expect("calendar lock") = Arc::new(cal);
        Ok(())
    }
}
