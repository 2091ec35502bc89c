//! zhufang storage.
//!
//! [`Store`] is the one interface the rest of the system uses. It has two
//! implementations, [`sqlite::SqliteStore`] and [`postgres::PgStore`], built
//! from the same source (`common.rs`, included into each module with its own
//! `Db` type) so every query is written once with `$N` placeholders and
//! runs on both. Each backend has its own `migrations/` folder.
//!
//! Every state change appends to the hash-chained audit log inside the same
//! transaction. [`service`] holds the application operations (task
//! transitions, login) that combine the domain rules with the store.

pub mod disputes;
pub mod duty;
pub mod feedback;
pub mod hazards;
pub mod incidents;
pub mod model;
pub mod postgres;
pub mod service;
pub mod sqlite;
pub mod volunteers;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use model::*;
use std::sync::Arc;
use zhufang_domain::audit::{AuditEvent, AuditRecord, ChainError};
use zhufang_domain::calendar::{DayKind, WorkCalendar};
use zhufang_domain::workflow::Workflow;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The row changed since it was read (optimistic concurrency).
    #[error("conflict: the record was changed by someone else")]
    Conflict,
    #[error("duplicate value for {0}")]
    Duplicate(&'static str),
    #[error("invalid data: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    fn from_insert(e: sqlx::Error, what: &'static str) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(what),
            _ => StoreError::Db(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Outcome of `audit verify`.
#[derive(Debug)]
pub enum ChainStatus {
    Intact { records: u64 },
    Broken(ChainError),
}

/// The dispute ledger's storage (issue 5), a supertrait of [`Store`] so that
/// `dyn Store` offers it; implemented in `dispute_sql.rs` for both backends.
#[async_trait]
pub trait DisputeStore: Send + Sync + 'static {
    async fn dispute_categories(&self) -> Result<Vec<DisputeCategory>>;
    async fn dispute_classes(&self) -> Result<Vec<DisputeClass>>;
    /// Adds or changes a category (name, offered or not), with its audit event.
    async fn upsert_dispute_category(&self, c: &DisputeCategory, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()>;
    /// Changes a class's label, definition and limit, with its audit event.
    async fn update_dispute_class(&self, c: &DisputeClass, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()>;
    /// The colour rules, in order.
    async fn dispute_rules(&self) -> Result<Vec<zhufang_domain::dispute::ColourRule>>;
    /// Replaces the colour rules (checked by the caller), with its audit event.
    async fn replace_dispute_rules(
        &self,
        rules: &[zhufang_domain::dispute::ColourRule],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()>;
    /// Registers a dispute with its parties, incident link, first event, map
    /// item and audit record, in one transaction; the number is assigned here.
    async fn create_dispute(&self, n: &NewDispute) -> Result<Dispute>;
    async fn dispute(&self, id: i64) -> Result<Option<Dispute>>;
    async fn list_disputes(&self, f: &DisputeFilter, page: PageReq) -> Result<Page<Dispute>>;
    async fn dispute_parties(&self, id: i64) -> Result<Vec<DisputeParty>>;
    async fn dispute_sessions(&self, id: i64) -> Result<Vec<DisputeSession>>;
    async fn dispute_escalations(&self, id: i64) -> Result<Vec<DisputeEscalation>>;
    async fn dispute_timeline(&self, id: i64) -> Result<Vec<DisputeEvent>>;
    /// Incidents linked to it.
    async fn dispute_incident_ids(&self, id: i64) -> Result<Vec<i64>>;
    /// When incidents happened that bear on a dispute: linked ones, ones
    /// called in from a party's phone, and dispute-type (04) incidents near its place.
    async fn dispute_incident_times(&self, q: &DisputeIncidentQuery) -> Result<Vec<i64>>;
    /// Every note written on it (events and sessions), oldest first.
    async fn dispute_notes(&self, id: i64) -> Result<Vec<String>>;
    async fn dispute_file(&self, id: i64) -> Result<Option<DisputeFile>>;
    /// A key dispute's plan, responsible people and checklist (四个一).
    async fn dispute_plan(&self, id: i64) -> Result<Option<DisputePlan>>;
    /// Saves the plan with an event on the dispute's timeline and an audit record.
    async fn save_dispute_plan(&self, id: i64, plan: &DisputePlan, actor_id: i64, audit: &AuditEvent) -> Result<()>;
    async fn notice_template(&self, name: &str) -> Result<Option<zhufang_domain::notice::NoticeTemplate>>;
    async fn save_notice_template(
        &self,
        name: &str,
        t: &zhufang_domain::notice::NoticeTemplate,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()>;
    /// Issues a notice: numbered per year, its recipients, an event on the
    /// dispute, notifications and an audit record, in one transaction.
    async fn issue_notice(&self, n: &NewNotice) -> Result<Notice>;
    async fn notice(&self, id: i64) -> Result<Option<Notice>>;
    /// Notices by a filter, newest first, a page at a time.
    async fn list_notices(&self, f: &NoticeFilter, page: PageReq) -> Result<Page<Notice>>;
    /// A recipient body signs for a notice (once), with an optional reply.
    async fn sign_notice(
        &self,
        id: i64,
        org_id: i64,
        by_name: &str,
        reply: Option<&str>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<Notice>;
    /// Notices past their deadline with a recipient yet to sign, not yet escalated.
    async fn late_notices(&self, now: DateTime<Utc>) -> Result<Vec<Notice>>;
    /// Marks a late notice escalated (once) and tells `notes`' people.
    async fn escalate_notice(&self, id: i64, now: DateTime<Utc>, notes: &[NewNotification]) -> Result<()>;
    /// The disputes of a filter as the figures need them.
    async fn dispute_stats(&self, f: &DisputeFilter) -> Result<Vec<DisputeStatRow>>;
    /// Records a scheduled follow-up visit (a task) of a dispute.
    async fn link_dispute_follow_up(&self, dispute_id: i64, task_id: i64, day: i64) -> Result<()>;
    /// Its follow-up visits: (day, task id).
    async fn dispute_follow_ups(&self, dispute_id: i64) -> Result<Vec<(i64, i64)>>;
    /// Applies one step (version-checked) with the colour it leads to.
    async fn apply_dispute_transition(
        &self,
        w: &DisputeWrite,
        colour: &str,
        fired_rules: &serde_json::Value,
    ) -> Result<Dispute>;
}

/// The duty rhythm's storage (issue 6), a supertrait of [`Store`];
/// implemented in `duty_sql.rs` for both backends.
#[async_trait]
pub trait DutyStore: Send + Sync + 'static {
    /// Templates of org units under `scope_path` (all when None), by org and name.
    async fn duty_templates(&self, scope_path: Option<&str>) -> Result<Vec<DutyTemplate>>;
    async fn duty_template(&self, id: i64) -> Result<Option<DutyTemplate>>;
    /// Creates or changes a template (version-checked), with its audit event.
    async fn save_duty_template(&self, t: &DutyTemplateWrite, audit: &AuditEvent) -> Result<DutyTemplate>;
    /// Claims an occurrence (template, the day it happens, person; the rule's
    /// own day is kept beside it) for this run: a claim left without a task
    /// for ten minutes (a crashed run) is taken over, once.
    async fn claim_duty_occurrence(
        &self,
        template_id: i64,
        due_day: chrono::NaiveDate,
        user_id: i64,
        day: chrono::NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<DutyClaim>;
    /// Scheduled duties of templates under `scope_path` whose day is from `from` to `to` (local days).
    async fn duty_stats(
        &self,
        scope_path: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<DutyStat>>;
    /// Replaces the person's calendar token (its hash), with its audit event.
    async fn set_calendar_token(
        &self,
        user_id: i64,
        token_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()>;
    /// Revokes it (true when there was one), with its audit event.
    async fn revoke_calendar_token(&self, user_id: i64, now: DateTime<Utc>, audit: &AuditEvent) -> Result<bool>;
    /// Whose token this is (active people only).
    async fn user_by_calendar_token(&self, token_hash: &str) -> Result<Option<User>>;
    /// Tasks assigned to a person or in an org subtree, due from `from` to `to`, with their duty day and time when they are duties.
    async fn calendar_entries(
        &self,
        who: &CalendarScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CalendarEntry>>;
    async fn set_duty_occurrence_task(
        &self,
        template_id: i64,
        day: chrono::NaiveDate,
        user_id: i64,
        task_id: i64,
    ) -> Result<()>;
}

/// The hazard register's storage (issue 6), a supertrait of [`Store`];
/// implemented in `hazard_sql.rs` for both backends.
#[async_trait]
pub trait HazardStore: Send + Sync + 'static {
    async fn hazard_types(&self) -> Result<Vec<HazardType>>;
    /// Adds or changes a type (name, base severity, offered or not), with its audit event.
    async fn upsert_hazard_type(&self, t: &HazardType, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()>;
    /// The risk factors, in order.
    async fn hazard_factors(&self) -> Result<Vec<zhufang_domain::hazard::RiskFactor>>;
    /// Replaces the risk factors (checked by the caller), with its audit event.
    async fn replace_hazard_factors(
        &self,
        factors: &[zhufang_domain::hazard::RiskFactor],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()>;
    /// Registers a hazard with its photos, first event, map item, notices and
    /// audit record, in one transaction; the number is assigned here.
    async fn create_hazard(&self, n: &NewHazard) -> Result<Hazard>;
    async fn hazard(&self, id: i64) -> Result<Option<Hazard>>;
    /// The register: open ones first, then by risk score (highest first), newest first.
    async fn list_hazards(&self, f: &HazardFilter, page: PageReq) -> Result<Page<Hazard>>;
    async fn hazard_timeline(&self, id: i64) -> Result<Vec<HazardEvent>>;
    async fn hazard_files(&self, hazard_id: i64) -> Result<Vec<HazardFile>>;
    async fn hazard_file(&self, id: i64) -> Result<Option<HazardFile>>;
    /// Applies one step (version-checked) with its photos, event, map item and audit record.
    async fn apply_hazard_transition(&self, w: &HazardWrite) -> Result<Hazard>;
    /// Hazards not rectified and past their deadline that were not yet raised.
    async fn late_hazards(&self, now: DateTime<Utc>) -> Result<Vec<Hazard>>;
    /// Marks a late hazard raised (once per deadline) and writes the notices, in one transaction.
    async fn mark_hazard_overdue(&self, id: i64, now: DateTime<Utc>, notes: &[NewNotification]) -> Result<()>;
    /// Stores recomputed scores (id, score, risk) — derived data, no audit record.
    async fn set_hazard_risks(&self, rows: &[(i64, i64, serde_json::Value)]) -> Result<()>;
    /// The hazards of a filter as the figures need them.
    async fn hazard_stats(&self, f: &HazardFilter) -> Result<Vec<HazardStatRow>>;
    /// Records a campaign with its audit event (whose object id is set here); returns its id.
    async fn create_campaign(&self, c: &NewCampaign, audit: &AuditEvent) -> Result<i64>;
    async fn link_campaign_check(&self, campaign_id: i64, hazard_id: i64, task_id: i64) -> Result<()>;
    /// Campaigns of a station subtree and those above it (all when None), newest first.
    async fn campaigns(&self, scope_path: Option<&str>) -> Result<Vec<HazardCampaign>>;
    async fn campaign(&self, id: i64) -> Result<Option<HazardCampaign>>;
    async fn campaign_checks(&self, id: i64) -> Result<Vec<CampaignCheck>>;
    /// The problems a patrol or visit found, with what each became.
    async fn task_problems(&self, task_id: i64) -> Result<Vec<TaskProblem>>;
    /// Claims a problem for conversion (false when it was already converted or claimed).
    async fn claim_task_problem(&self, task_id: i64, idx: i64, kind: &str) -> Result<bool>;
    /// Records what a claimed problem became, or releases the claim (None).
    async fn finish_task_problem(&self, task_id: i64, idx: i64, target_id: Option<i64>) -> Result<()>;
}

/// 群防群治's storage (issue 6, section 3): the volunteer roster, posts,
/// shifts, sign-ups and attendance, a supertrait of [`Store`]; implemented
/// in `volunteer_sql.rs` for both backends.
#[async_trait]
pub trait VolunteerStore: Send + Sync + 'static {
    /// Adds a roster entry, with its audit event.
    async fn create_volunteer(&self, v: &volunteers::NewVolunteer, audit: &AuditEvent)
    -> Result<volunteers::Volunteer>;
    async fn volunteer(&self, id: i64) -> Result<Option<volunteers::Volunteer>>;
    async fn list_volunteers(
        &self,
        f: &volunteers::VolunteerFilter,
        page: PageReq,
    ) -> Result<Page<volunteers::Volunteer>>;
    /// Overwrites the name, clears the phone, deactivates, and cancels the
    /// sign-ups for shifts not yet started, with its audit event; false when
    /// it was purged already.
    async fn purge_volunteer(&self, id: i64, by: i64, now: DateTime<Utc>, audit: &AuditEvent) -> Result<bool>;
    /// Creates or changes a post (version-checked), with its audit event.
    async fn save_volunteer_post(
        &self,
        p: &volunteers::PostWrite,
        audit: &AuditEvent,
    ) -> Result<volunteers::VolunteerPost>;
    async fn volunteer_post(&self, id: i64) -> Result<Option<volunteers::VolunteerPost>>;
    /// Posts of stations under `scope_path`, by station and name.
    async fn volunteer_posts(&self, scope_path: &str) -> Result<Vec<volunteers::VolunteerPost>>;
    /// Makes the shift rows that do not exist yet (post, day, start).
    async fn ensure_volunteer_shifts(
        &self,
        post_id: i64,
        shifts: &[volunteers::NewShift],
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// A post's shift rows from `from` to `to` (local days), in time order.
    async fn volunteer_shifts(&self, post_id: i64, from: NaiveDate, to: NaiveDate) -> Result<Vec<volunteers::Shift>>;
    async fn volunteer_shift(&self, id: i64) -> Result<Option<volunteers::Shift>>;
    /// Sign-ups of a post's shifts from `from` to `to`.
    async fn shift_signups(&self, post_id: i64, from: NaiveDate, to: NaiveDate) -> Result<Vec<volunteers::Signup>>;
    async fn volunteer_signup(&self, id: i64) -> Result<Option<volunteers::Signup>>;
    /// Signs up (the shift's count raised under its row lock, never past
    /// `capacity`), with its audit event, in one transaction.
    async fn sign_up_volunteer(
        &self,
        s: &volunteers::NewSignup,
        capacity: i64,
        audit: &AuditEvent,
    ) -> Result<volunteers::SignupOutcome>;
    async fn mark_volunteer_attendance(
        &self,
        signup_id: i64,
        attendance: &str,
        by: i64,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<volunteers::Signup>;
    /// Shift rows of posts under `scope_path` from `from` to `to`, with sign-ups and attendance.
    async fn volunteer_shift_stats(
        &self,
        scope_path: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<volunteers::ShiftStatRow>>;
    /// Changes a roster entry (name, phone, organisation, active) unless it
    /// was purged, with its audit event; None when purged or missing.
    async fn update_volunteer(
        &self,
        id: i64,
        v: &volunteers::VolunteerChange,
        audit: &AuditEvent,
    ) -> Result<Option<volunteers::Volunteer>>;
    /// Cancels a sign-up with no attendance yet (the shift's count falls),
    /// with its audit event; false when there was none to cancel.
    async fn cancel_volunteer_signup(&self, signup_id: i64, now: DateTime<Utc>, audit: &AuditEvent) -> Result<bool>;
    /// (station id, active volunteers) under `scope_path`.
    async fn active_volunteer_counts(&self, scope_path: &str) -> Result<Vec<(i64, i64)>>;
}

#[async_trait]
pub trait Store: DisputeStore + DutyStore + HazardStore + VolunteerStore + Send + Sync + 'static {
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> Result<()>;
    /// Seeds rows a fresh database needs (the default task workflow).
    async fn ensure_defaults(&self) -> Result<()>;
    async fn ping(&self) -> Result<()>;
    async fn backup(&self, dest: &std::path::Path) -> Result<()>;

    // organisation
    async fn create_org_unit(
        &self,
        code: &str,
        name: &str,
        kind: &str,
        parent: Option<i64>,
        now: DateTime<Utc>,
        actor: &AuditEvent,
    ) -> Result<OrgUnit>;
    async fn org_units(&self) -> Result<Vec<OrgUnit>>;
    async fn org_unit(&self, id: i64) -> Result<Option<OrgUnit>>;
    async fn org_unit_by_code(&self, code: &str) -> Result<Option<OrgUnit>>;

    // users
    async fn create_user(&self, u: &NewUser, actor: &AuditEvent) -> Result<User>;
    async fn user(&self, id: i64) -> Result<Option<User>>;
    async fn user_by_username(&self, username: &str) -> Result<Option<(User, String)>>;
    async fn list_users(&self, scope_path: &str, text: Option<&str>, page: PageReq) -> Result<Page<User>>;
    /// Active users under `scope_path` holding any of `roles` (assignee pickers).
    async fn users_with_roles(&self, scope_path: &str, roles: &[zhufang_domain::Role]) -> Result<Vec<User>>;
    #[allow(clippy::too_many_arguments)]
    async fn update_user(
        &self,
        id: i64,
        display_name: &str,
        phone: Option<&str>,
        org_unit_id: i64,
        roles: &[zhufang_domain::Role],
        active: bool,
        audit: &AuditEvent,
    ) -> Result<User>;
    async fn set_password(&self, user_id: i64, hash: &str, must_change: bool, audit: &AuditEvent) -> Result<()>;

    // sessions and login throttling
    /// Creates a session and audits the sign-in, in one transaction.
    async fn create_session(&self, s: &NewSession, audit: &AuditEvent) -> Result<()>;
    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>>;
    /// Records that a session was used now.
    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn delete_user_sessions(&self, user_id: i64, except: Option<&str>) -> Result<()>;
    async fn record_login_attempt(&self, username: &str, ip: &str, success: bool, at: DateTime<Utc>) -> Result<()>;
    /// Failures for this username, and from this address, since `since`.
    async fn login_failures(&self, username: &str, ip: &str, since: DateTime<Utc>) -> Result<(i64, i64)>;

    // catalogue
    async fn catalogue(&self, include_inactive: bool) -> Result<Vec<CatalogueItem>>;
    async fn catalogue_item(&self, code: &str) -> Result<Option<CatalogueItem>>;
    async fn upsert_catalogue_item(&self, item: &CatalogueItem, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()>;

    // workflow definitions and calendar (data a deployment edits)
    async fn workflow(&self, name: &str) -> Result<Workflow>;
    async fn save_workflow(&self, wf: &Workflow, audit: &AuditEvent) -> Result<()>;
    async fn calendar(&self) -> Result<WorkCalendar>;
    async fn calendar_days(&self) -> Result<Vec<(NaiveDate, DayKind, String)>>;
    async fn set_calendar_day(
        &self,
        day: NaiveDate,
        kind: Option<DayKind>,
        name: &str,
        audit: &AuditEvent,
    ) -> Result<()>;

    // tasks
    async fn create_task(&self, t: &NewTask) -> Result<Task>;
    async fn task(&self, id: i64) -> Result<Option<Task>>;
    async fn list_tasks(&self, f: &TaskFilter, page: PageReq) -> Result<Page<Task>>;
    async fn task_counts(&self, f: &TaskFilter, now: DateTime<Utc>, evaluator: bool) -> Result<TaskCounts>;
    async fn task_timeline(&self, id: i64) -> Result<Vec<TaskEvent>>;
    async fn apply_transition(&self, w: &TransitionWrite) -> Result<Task>;
    async fn attachment(&self, id: i64) -> Result<Option<Attachment>>;
    /// Tasks whose clock ran out and that were not yet reported overdue.
    async fn newly_overdue(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Task>>;
    /// Tasks past 80 % of their window not yet reported as due soon.
    async fn newly_due_soon(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Task>>;
    /// Marks a task reported (overdue or due soon) and sends the notices, in one transaction.
    async fn mark_reported(
        &self,
        task_id: i64,
        overdue: bool,
        now: DateTime<Utc>,
        notes: &[NewNotification],
    ) -> Result<()>;
    async fn state_counts(&self) -> Result<Vec<(String, i64)>>;
    /// (state, number of records in it) of the records a workflow drives
    /// (`task`, `incident`, `dispute`, `hazard`); empty for another name.
    async fn workflow_states_in_use(&self, workflow: &str) -> Result<Vec<(String, i64)>>;

    // resumable jobs
    /// Asks for a job to run (again) from the start.
    async fn request_job(&self, name: &str, now: DateTime<Utc>) -> Result<()>;
    async fn job(&self, name: &str) -> Result<Option<Job>>;
    /// Jobs requested or interrupted, oldest first.
    async fn unfinished_jobs(&self) -> Result<Vec<Job>>;
    /// Located items after `cursor` in id order; and how many there are in all.
    async fn located_items(&self, after: i64, limit: i64) -> Result<(Vec<LocatedRow>, i64)>;
    /// Applies one batch of new grid assignments and saves the job's cursor, in one transaction.
    async fn reroute_batch(&self, job: &str, batch: &RerouteBatch, now: DateTime<Utc>) -> Result<()>;
    async fn finish_job(&self, name: &str, now: DateTime<Utc>) -> Result<()>;

    // incidents (警情)
    async fn incident_types(&self) -> Result<Vec<IncidentType>>;
    /// Adds a type or changes its name, usual decision, dispute flag and
    /// whether it is offered (code, parent and level never change), with its audit event.
    async fn upsert_incident_type(&self, t: &IncidentType, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()>;
    /// The hand-over time limit rows, by prefix.
    async fn incident_limit_rows(&self) -> Result<Vec<IncidentLimit>>;
    /// Adds or changes a time limit row, with its audit event.
    async fn upsert_incident_limit(&self, l: &IncidentLimit, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()>;
    /// The repeat-call and near-duplicate windows.
    async fn intake_settings(&self) -> Result<zhufang_domain::incident::IntakeSettings>;
    /// Changes them, with the audit event.
    async fn put_intake_settings(
        &self,
        s: &zhufang_domain::incident::IntakeSettings,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()>;
    /// Writes the incident, its first timeline event, its map item (when
    /// located) and the audit record in one transaction.
    async fn create_incident(&self, i: &NewIncident) -> Result<Incident>;
    async fn incident(&self, id: i64) -> Result<Option<Incident>>;
    /// The incident an external system already sent with this id.
    async fn incident_by_external(&self, external_id: &str) -> Result<Option<Incident>>;
    /// Writes a historical incident unless one with its number exists
    /// (then `None`): incident, timeline entry, map item and audit record in one transaction.
    async fn import_incident(&self, i: &ImportedIncident) -> Result<Option<i64>>;
    async fn list_incidents(&self, f: &IncidentFilter, page: PageReq) -> Result<Page<Incident>>;
    async fn incident_timeline(&self, id: i64) -> Result<Vec<IncidentEvent>>;
    async fn apply_incident_transition(&self, w: &IncidentWrite) -> Result<Incident>;
    /// The timings of the incidents a filter covers, with (station id, grid id), for the response figures.
    async fn incident_timings(
        &self,
        f: &IncidentFilter,
    ) -> Result<Vec<(i64, Option<i64>, zhufang_domain::incident::Timing)>>;
    /// Officers' corrections at triage as (text, label), oldest first.
    async fn triage_corrections(&self) -> Result<Vec<(String, String)>>;
    /// (type prefix, hours to sign for, working days to finish) of diverted matters.
    async fn incident_limits(&self) -> Result<Vec<(String, i64, i64)>>;
    /// Diverted matters past their sign-for or finish limit, not yet escalated.
    async fn late_hand_overs(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Incident>>;
    /// Marks a late hand-over escalated and writes the notices, in one transaction.
    async fn escalate_incident(&self, id: i64, now: DateTime<Utc>, notes: &[NewNotification]) -> Result<()>;
    /// The address book of intake (地址联想): addresses of located incidents
    /// under `scope_path`, received at or after `since`, that contain `q`; each
    /// with its latest point and how often it was used, most used first.
    async fn incident_addresses(
        &self,
        scope_path: &str,
        q: &str,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<KnownAddress>>;
    /// The latest incident from this phone received at or after `since` (a repeat call).
    async fn recent_incident_by_phone(&self, phone: &str, since: DateTime<Utc>) -> Result<Option<(i64, String)>>;

    // the outbox: messages to external systems
    /// Undelivered messages due at `now`, oldest first.
    async fn due_outbox(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<OutboxMessage>>;
    async fn outbox_delivered(&self, id: i64, now: DateTime<Utc>) -> Result<()>;
    /// Records a failed attempt and when to try again.
    async fn outbox_failed(&self, id: i64, next_at: DateTime<Utc>, error: &str) -> Result<()>;
    /// (undelivered, delivered) counts.
    async fn outbox_counts(&self) -> Result<(i64, i64)>;

    // the map: everything with a place
    /// Located items, newest first, at most `limit`.
    async fn map_points(&self, q: &MapQuery, limit: i64) -> Result<Vec<MapPoint>>;
    /// Items counted per kind and square cell of `cell_e7` (1e-7 degrees)
    /// from the query's bbox corner.
    async fn map_cells(&self, q: &MapQuery, cell_e7: i64) -> Result<Vec<MapCell>>;
    /// Positions only (lat_e7, lon_e7), at most `limit`: for heat cells.
    async fn map_positions(&self, q: &MapQuery, limit: i64) -> Result<Vec<(i64, i64)>>;
    /// Figures per grid and kind: open and overdue now, occurred and done in [from, to).
    async fn grid_figures(
        &self,
        q: &MapQuery,
        now: DateTime<Utc>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<GridFigures>>;
    /// Located items outside every grid whose nearest station is under
    /// `station_path`: the command room's unrouted queue, newest first.
    async fn unrouted_items(&self, station_path: &str, page: PageReq) -> Result<Page<MapPoint>>;

    // grids
    /// Grids of the stations under `station_path` (all when None), by code.
    async fn grids(&self, station_path: Option<&str>) -> Result<Vec<GridRecord>>;
    /// Creates or replaces grids by code in one transaction, keeping the old
    /// version of each replaced grid in its history. Returns (created, updated).
    async fn import_grids(
        &self,
        grids: &[NewGrid],
        actor_id: Option<i64>,
        actor_name: &str,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize)>;
    /// (when, who, old name, old geometry) of a grid's earlier versions.
    async fn grid_history(&self, grid_id: i64) -> Result<Vec<(DateTime<Utc>, String, String, String)>>;

    // notifications
    async fn notifications(&self, user_id: i64, unread_only: bool, page: PageReq) -> Result<Page<Notification>>;
    async fn unread_count(&self, user_id: i64) -> Result<i64>;
    async fn mark_read(&self, user_id: i64, id: Option<i64>, now: DateTime<Utc>) -> Result<u64>;

    // audit
    /// Appends a record on its own (reads of personal data).
    async fn audit(&self, ev: &AuditEvent, now: DateTime<Utc>) -> Result<()>;
    async fn audit_page(&self, object_type: Option<&str>, page: PageReq) -> Result<Page<AuditRecord>>;
    async fn verify_audit(&self) -> Result<ChainStatus>;
}

/// Opens a store from a URL: `postgres://…`, or a SQLite file given as
/// `sqlite://PATH`, `sqlite:PATH` or just its path (created if missing).
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else if let Some(path) = sqlite_path(url) {
        Ok(Arc::new(sqlite::SqliteStore::open(std::path::Path::new(path)).await?))
    } else {
        Err(StoreError::Invalid(format!(
            "unsupported database url `{url}` (use a file path, sqlite://PATH or postgres://…)"
        )))
    }
}

/// The SQLite file a database setting names, if it names one.
fn sqlite_path(url: &str) -> Option<&str> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    (!path.trim().is_empty() && !path.contains("://")).then_some(path)
}

#[cfg(test)]
mod open_tests {
    #[test]
    fn a_sqlite_file_is_named_by_url_or_by_path() {
        assert_eq!(super::sqlite_path("sqlite:///var/zf/a.db"), Some("/var/zf/a.db"));
        assert_eq!(super::sqlite_path("sqlite:data/a.db"), Some("data/a.db"));
        assert_eq!(super::sqlite_path("/var/zf/a.db"), Some("/var/zf/a.db"));
        assert_eq!(super::sqlite_path("zhufang.db"), Some("zhufang.db"));
        assert_eq!(super::sqlite_path("mysql://x/y"), None);
        assert_eq!(super::sqlite_path(" "), None);
    }
}
