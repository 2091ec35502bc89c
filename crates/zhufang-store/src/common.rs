// Shared body of both backends. Included by `sqlite.rs` and `postgres.rs`,
// each of which defines `Db`, `Backend`, `BACKEND`, `w()`, `r()`,
// `run_migrations()` and `backup_to()`. Every query uses `$N` placeholders.

use crate::model::*;
use crate::{ChainStatus, Store};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AssertSqlSafe, FromRow, Transaction};
use zhufang_domain::Role;
use zhufang_domain::audit::{AuditEvent, AuditRecord, Verifier, record_hash};
use zhufang_domain::calendar::{DayKind, WorkCalendar};
use zhufang_domain::workflow::{StateDef, TransitionRule, Workflow, parse_list};

#[derive(FromRow)]
struct OrgRow {
    id: i64,
    code: String,
    name: String,
    kind: String,
    parent_id: Option<i64>,
    path: String,
}

impl From<OrgRow> for OrgUnit {
    fn from(r: OrgRow) -> Self {
        OrgUnit { id: r.id, code: r.code, name: r.name, kind: r.kind, parent_id: r.parent_id, path: r.path }
    }
}

#[derive(FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    phone: Option<String>,
    org_unit_id: i64,
    org_code: String,
    org_name: String,
    org_path: String,
    active: bool,
    must_change_password: bool,
    password_hash: String,
}

impl UserRow {
    fn into_user(self, roles: Vec<Role>) -> (User, String) {
        (
            User {
                id: self.id,
                username: self.username,
                display_name: self.display_name,
                phone: self.phone,
                org_unit_id: self.org_unit_id,
                org_code: self.org_code,
                org_name: self.org_name,
                org_path: self.org_path,
                roles,
                active: self.active,
                must_change_password: self.must_change_password,
            },
            self.password_hash,
        )
    }
}

const USER_SELECT: &str = "SELECT u.id, u.username, u.display_name, u.phone, u.org_unit_id, o.code AS org_code, \
    o.name AS org_name, o.path AS org_path, u.active, u.must_change_password, u.password_hash \
    FROM users u JOIN org_units o ON o.id = u.org_unit_id";

#[derive(FromRow)]
struct CatRow {
    code: String,
    name: String,
    name_en: String,
    category: String,
    guideline: String,
    default_role: String,
    accept_hours: i64,
    finish_workdays: i64,
    active: bool,
    activity: String,
}

impl From<CatRow> for CatalogueItem {
    fn from(r: CatRow) -> Self {
        CatalogueItem {
            code: r.code,
            name: r.name,
            name_en: r.name_en,
            category: r.category,
            guideline: r.guideline,
            default_role: r.default_role,
            accept_hours: r.accept_hours,
            finish_workdays: r.finish_workdays,
            active: r.active,
            activity: r.activity,
        }
    }
}

#[derive(FromRow)]
struct TaskRow {
    id: i64,
    number: String,
    title: String,
    description: String,
    catalogue_code: String,
    catalogue_name: String,
    org_unit_id: i64,
    org_code: String,
    org_name: String,
    org_path: String,
    state: String,
    creator_id: Option<i64>,
    dispatcher_id: Option<i64>,
    assignee_id: Option<i64>,
    assignee: Option<String>,
    assignee_name: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    grid_id: Option<i64>,
    grid_code: Option<String>,
    grid_name: Option<String>,
    due_at: Option<i64>,
    clock_started_at: Option<i64>,
    due_soon_at: Option<i64>,
    deadline_at: Option<i64>,
    rework_count: i64,
    refuse_count: i64,
    score: Option<i64>,
    eval_comment: Option<String>,
    feedback_text: Option<String>,
    feedback_lat: Option<f64>,
    feedback_lon: Option<f64>,
    feedback_data: Option<String>,
    created_at: i64,
    updated_at: i64,
    dispatched_at: Option<i64>,
    accepted_at: Option<i64>,
    started_at: Option<i64>,
    feedback_at: Option<i64>,
    closed_at: Option<i64>,
    version: i64,
}

impl From<TaskRow> for Task {
    fn from(r: TaskRow) -> Self {
        Task {
            id: r.id,
            number: r.number,
            title: r.title,
            description: r.description,
            catalogue_code: r.catalogue_code,
            catalogue_name: r.catalogue_name,
            org_unit_id: r.org_unit_id,
            org_code: r.org_code,
            org_name: r.org_name,
            org_path: r.org_path,
            state: r.state,
            creator_id: r.creator_id,
            dispatcher_id: r.dispatcher_id,
            assignee_id: r.assignee_id,
            assignee: r.assignee,
            assignee_name: r.assignee_name,
            lat: r.lat,
            lon: r.lon,
            grid_id: r.grid_id,
            grid_code: r.grid_code,
            grid_name: r.grid_name,
            due_at: opt_from_ms(r.due_at),
            clock_started_at: opt_from_ms(r.clock_started_at),
            due_soon_at: opt_from_ms(r.due_soon_at),
            deadline_at: opt_from_ms(r.deadline_at),
            rework_count: r.rework_count,
            refuse_count: r.refuse_count,
            score: r.score,
            eval_comment: r.eval_comment,
            feedback_text: r.feedback_text,
            feedback_lat: r.feedback_lat,
            feedback_lon: r.feedback_lon,
            report: r.feedback_data.as_deref().and_then(|d| serde_json::from_str(d).ok()),
            created_at: from_ms(r.created_at),
            updated_at: from_ms(r.updated_at),
            dispatched_at: opt_from_ms(r.dispatched_at),
            accepted_at: opt_from_ms(r.accepted_at),
            started_at: opt_from_ms(r.started_at),
            feedback_at: opt_from_ms(r.feedback_at),
            closed_at: opt_from_ms(r.closed_at),
            version: r.version,
        }
    }
}

macro_rules! task_select {
    () => {
        "SELECT t.id, t.number, t.title, t.description, t.catalogue_code, c.name AS catalogue_name, t.org_unit_id, \
         o.code AS org_code, o.name AS org_name, t.org_path, t.state, t.creator_id, t.dispatcher_id, t.assignee_id, \
         u.username AS assignee, u.display_name AS assignee_name, t.lat, t.lon, t.grid_id, g.code AS grid_code, \
         g.name AS grid_name, t.due_at, t.clock_started_at, \
         t.due_soon_at, t.deadline_at, t.rework_count, t.refuse_count, t.score, t.eval_comment, t.feedback_text, \
         t.feedback_lat, t.feedback_lon, t.feedback_data, t.created_at, t.updated_at, t.dispatched_at, t.accepted_at, t.started_at, \
         t.feedback_at, t.closed_at, t.version \
         FROM tasks t JOIN catalogue_items c ON c.code = t.catalogue_code JOIN org_units o ON o.id = t.org_unit_id \
         LEFT JOIN users u ON u.id = t.assignee_id LEFT JOIN grids g ON g.id = t.grid_id"
    };
}

#[derive(FromRow)]
struct EventRow {
    id: i64,
    at: i64,
    actor_id: Option<i64>,
    actor_name: String,
    action: String,
    from_state: Option<String>,
    to_state: String,
    note: Option<String>,
    data: String,
}

#[derive(FromRow)]
struct AttachmentRow {
    id: i64,
    task_id: i64,
    event_id: Option<i64>,
    stored_name: String,
    original_name: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    created_at: i64,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Attachment {
            id: r.id,
            task_id: r.task_id,
            event_id: r.event_id,
            stored_name: r.stored_name,
            original_name: r.original_name,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            sha256: r.sha256,
            created_at: from_ms(r.created_at),
        }
    }
}

#[derive(FromRow)]
struct AuditRow {
    seq: i64,
    at_ms: i64,
    actor_id: Option<i64>,
    actor: String,
    object_type: String,
    object_id: String,
    action: String,
    before_digest: String,
    after_digest: String,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        AuditRecord {
            seq: r.seq,
            at_ms: r.at_ms,
            actor_id: r.actor_id,
            actor: r.actor,
            object_type: r.object_type,
            object_id: r.object_id,
            action: r.action,
            before_digest: r.before_digest,
            after_digest: r.after_digest,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(FromRow)]
struct GridRow {
    id: i64,
    code: String,
    name: String,
    kind: String,
    station_id: i64,
    station_code: String,
    station_name: String,
    station_path: String,
    officer: Option<String>,
    officer_name: Option<String>,
    village: Option<String>,
    geometry: String,
    version: i64,
}

/// A bind value of a dynamically built query.
enum Arg {
    I(i64),
    S(String),
}

/// Builds `WHERE` clauses with numbered placeholders.
#[derive(Default)]
struct Where {
    parts: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    fn push(&mut self, clause: &str, arg: Arg) {
        self.args.push(arg);
        self.parts.push(clause.replace("$?", &format!("${}", self.args.len())));
    }
    fn raw(&mut self, clause: &str) {
        self.parts.push(clause.to_string());
    }
    /// `column IN (…)` over the given values (nothing when there are none).
    fn any_of(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let mut marks = vec![];
        for v in values {
            self.args.push(Arg::S(v.clone()));
            marks.push(format!("${}", self.args.len()));
        }
        self.raw(&format!("{column} IN ({})", marks.join(", ")));
    }
    /// Rows in a station subtree (`own` column under `scope`), or handed to a
    /// receiving body (`receiver` column under `receiving`), or either.
    fn scope_or_receiver(&mut self, own: &str, scope: &Option<String>, receiver: &str, receiving: &Option<String>) {
        match (scope, receiving) {
            (Some(p), Some(a)) => {
                self.args.push(Arg::S(format!("{p}%")));
                let n1 = self.args.len();
                self.args.push(Arg::S(format!("{a}%")));
                let n2 = self.args.len();
                self.raw(&format!("({own} LIKE ${n1} OR {receiver} LIKE ${n2})"));
            }
            (Some(p), None) => self.push(&format!("{own} LIKE $?"), Arg::S(format!("{p}%"))),
            (None, Some(a)) => self.push(&format!("{receiver} LIKE $?"), Arg::S(format!("{a}%"))),
            (None, None) => {}
        }
    }
    fn sql(&self) -> String {
        if self.parts.is_empty() { String::new() } else { format!(" WHERE {}", self.parts.join(" AND ")) }
    }
    fn next(&self) -> usize {
        self.args.len() + 1
    }
}

macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I(v) => q.bind(*v),
                Arg::S(v) => q.bind(v.clone()),
            };
        }
        q
    }};
}

macro_rules! incident_select {
    () => {
        "SELECT i.id, i.number, i.channel, i.received_at, i.caller_name, i.caller_phone, i.lat, i.lon, i.address, \
         i.grid_id, g.code AS grid_code, g.name AS grid_name, i.station_id, s.code AS station_code, s.name AS station_name, \
         i.org_path, i.description, i.type_code, ty.name AS type_name, ty.name_en AS type_name_en, i.severity, i.police, i.state, i.assignee_id, \
         u.username AS assignee, u.display_name AS assignee_name, i.agency_id, a.code AS agency_code, a.name AS agency_name, \
         a.path AS agency_path, i.result, i.rating, i.repeat_of, i.triage, i.creator_id, i.triaged_at, i.dispatched_at, \
         i.arrived_at, i.handled_at, i.diverted_at, i.signed_for_at, i.agency_done_at, i.returned_at, i.closed_at, \
         i.sign_due_at, i.done_due_at, i.escalated_at, i.created_at, i.updated_at, i.version \
         FROM incidents i JOIN org_units s ON s.id = i.station_id LEFT JOIN grids g ON g.id = i.grid_id \
         LEFT JOIN incident_types ty ON ty.code = i.type_code LEFT JOIN users u ON u.id = i.assignee_id \
         LEFT JOIN org_units a ON a.id = i.agency_id"
    };
}

#[derive(FromRow)]
struct IncidentRow {
    id: i64,
    number: String,
    channel: String,
    received_at: i64,
    caller_name: Option<String>,
    caller_phone: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    address: String,
    grid_id: Option<i64>,
    grid_code: Option<String>,
    grid_name: Option<String>,
    station_id: i64,
    station_code: String,
    station_name: String,
    org_path: String,
    description: String,
    type_code: Option<String>,
    type_name: Option<String>,
    type_name_en: Option<String>,
    severity: i64,
    police: Option<bool>,
    state: String,
    assignee_id: Option<i64>,
    assignee: Option<String>,
    assignee_name: Option<String>,
    agency_id: Option<i64>,
    agency_code: Option<String>,
    agency_name: Option<String>,
    agency_path: Option<String>,
    result: Option<String>,
    rating: Option<i64>,
    repeat_of: Option<i64>,
    triage: String,
    creator_id: Option<i64>,
    triaged_at: Option<i64>,
    dispatched_at: Option<i64>,
    arrived_at: Option<i64>,
    handled_at: Option<i64>,
    diverted_at: Option<i64>,
    signed_for_at: Option<i64>,
    agency_done_at: Option<i64>,
    returned_at: Option<i64>,
    closed_at: Option<i64>,
    sign_due_at: Option<i64>,
    done_due_at: Option<i64>,
    escalated_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl From<IncidentRow> for Incident {
    fn from(r: IncidentRow) -> Self {
        Incident {
            id: r.id,
            number: r.number,
            channel: r.channel,
            received_at: from_ms(r.received_at),
            caller_name_masked: r.caller_name.as_deref().map(zhufang_domain::types::mask_name),
            caller_name: r.caller_name,
            caller_phone_masked: r.caller_phone.as_deref().map(zhufang_domain::types::mask_phone),
            caller_phone: r.caller_phone,
            lat: r.lat,
            lon: r.lon,
            address: r.address,
            grid_id: r.grid_id,
            grid_code: r.grid_code,
            grid_name: r.grid_name,
            station_id: r.station_id,
            station_code: r.station_code,
            station_name: r.station_name,
            org_path: r.org_path,
            description: r.description,
            type_code: r.type_code,
            type_name: r.type_name,
            type_name_en: r.type_name_en.filter(|n| !n.is_empty()),
            severity: r.severity,
            police: r.police,
            state: r.state,
            assignee_id: r.assignee_id,
            assignee: r.assignee,
            assignee_name: r.assignee_name,
            agency_id: r.agency_id,
            agency_code: r.agency_code,
            agency_name: r.agency_name,
            agency_path: r.agency_path,
            result: r.result,
            rating: r.rating,
            repeat_of: r.repeat_of,
            triage: serde_json::from_str(&r.triage).unwrap_or_default(),
            creator_id: r.creator_id,
            triaged_at: opt_from_ms(r.triaged_at),
            dispatched_at: opt_from_ms(r.dispatched_at),
            arrived_at: opt_from_ms(r.arrived_at),
            handled_at: opt_from_ms(r.handled_at),
            diverted_at: opt_from_ms(r.diverted_at),
            signed_for_at: opt_from_ms(r.signed_for_at),
            agency_done_at: opt_from_ms(r.agency_done_at),
            returned_at: opt_from_ms(r.returned_at),
            closed_at: opt_from_ms(r.closed_at),
            sign_due_at: opt_from_ms(r.sign_due_at),
            done_due_at: opt_from_ms(r.done_due_at),
            escalated_at: opt_from_ms(r.escalated_at),
            created_at: from_ms(r.created_at),
            updated_at: from_ms(r.updated_at),
            version: r.version,
        }
    }
}

/// A record as the audit log keeps it: its serialised form (an incident's
/// phone masked, a dispute's or a hazard's internal paths left out).
fn record_json<T: serde::Serialize>(r: &T) -> serde_json::Value {
    serde_json::to_value(r).unwrap_or_default()
}

fn incident_where(f: &IncidentFilter) -> Where {
    let mut w = Where::default();
    w.scope_or_receiver("i.org_path", &f.scope_path, "a.path", &f.agency_path);
    if let Some(s) = &f.state {
        w.push("i.state = $?", Arg::S(s.clone()));
    }
    if let Some(c) = &f.channel {
        w.push("i.channel = $?", Arg::S(c.clone()));
    }
    if let Some(a) = f.assignee_id {
        w.push("i.assignee_id = $?", Arg::I(a));
    }
    if let Some(t) = &f.type_prefix {
        w.push("i.type_code LIKE $?", Arg::S(format!("{t}%")));
    }
    if let Some(s) = f.severity {
        w.push("i.severity = $?", Arg::I(s));
    }
    if let Some(p) = &f.station_path {
        w.push("i.org_path LIKE $?", Arg::S(format!("{p}%")));
    }
    w.any_of("i.state", &f.states);
    if let Some(p) = f.police {
        w.raw(if p { "i.police = TRUE" } else { "i.police = FALSE" });
    }
    if let Some(t) = f.from {
        w.push("i.received_at >= $?", Arg::I(ms(t)));
    }
    if let Some(t) = f.to {
        w.push("i.received_at < $?", Arg::I(ms(t)));
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        w.args.push(Arg::S(format!("%{q}%")));
        let n = w.args.len();
        w.raw(&format!("(i.number LIKE ${n} OR i.description LIKE ${n} OR i.address LIKE ${n})"));
    }
    if f.handed_over {
        w.raw("i.agency_id IS NOT NULL");
    }
    if let Some(t) = f.overdue_at {
        w.args.push(Arg::I(ms(t)));
        let n = w.args.len();
        w.raw(&format!(
            "((i.state = 'diverted' AND i.sign_due_at < ${n}) OR (i.state = 'signed_for' AND i.done_due_at < ${n}))"
        ));
    }
    w
}

/// The list order: newest first, or (the inbox) the nearest open limit first.
fn incident_order(f: &IncidentFilter) -> &'static str {
    if f.sort_due {
        " ORDER BY CASE WHEN i.state = 'diverted' THEN i.sign_due_at WHEN i.state = 'signed_for' THEN i.done_due_at \
         ELSE NULL END IS NULL, \
         CASE WHEN i.state = 'diverted' THEN i.sign_due_at WHEN i.state = 'signed_for' THEN i.done_due_at END, \
         i.received_at DESC, i.id DESC"
    } else {
        " ORDER BY i.received_at DESC, i.id DESC"
    }
}

/// Inserts an incident row; `history` carries an imported incident's
/// decision, result and step times. None when the number exists already.
async fn insert_incident(
    tx: &mut Transaction<'static, Db>,
    n: &NewIncident,
    number: &str,
    state: &str,
    history: Option<&ImportedIncident>,
) -> Result<Option<i64>> {
    let at = |f: fn(&ImportedIncident) -> Option<DateTime<Utc>>| history.and_then(f).map(ms);
    let row: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO incidents (number, channel, received_at, caller_name, caller_phone, lat, lon, address, grid_id, \
         station_id, org_path, description, type_code, severity, state, repeat_of, triage, creator_id, created_at, updated_at, \
         external_id, police, result, triaged_at, dispatched_at, arrived_at, handled_at, closed_at, \
         agency_id, assignee_id, diverted_at, signed_for_at, agency_done_at, rating, sign_due_at, done_due_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, \
         $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35) ON CONFLICT (number) DO NOTHING RETURNING id",
    )
    .bind(number)
    .bind(&n.channel)
    .bind(ms(n.received_at))
    .bind(&n.caller_name)
    .bind(&n.caller_phone)
    .bind(n.lat)
    .bind(n.lon)
    .bind(&n.address)
    .bind(n.grid_id)
    .bind(n.station_id)
    .bind(&n.org_path)
    .bind(&n.description)
    .bind(&n.type_code)
    .bind(n.severity)
    .bind(state)
    .bind(n.repeat_of)
    .bind(n.triage.to_string())
    .bind(n.creator_id)
    .bind(ms(n.now))
    .bind(&n.external_id)
    .bind(history.and_then(|h| h.police))
    .bind(history.and_then(|h| h.result.clone()))
    .bind(at(|h| h.triaged_at))
    .bind(at(|h| h.dispatched_at))
    .bind(at(|h| h.arrived_at))
    .bind(at(|h| h.handled_at))
    .bind(at(|h| h.closed_at))
    .bind(history.and_then(|h| h.agency_id))
    .bind(history.and_then(|h| h.assignee_id))
    .bind(at(|h| h.diverted_at))
    .bind(at(|h| h.signed_for_at))
    .bind(at(|h| h.agency_done_at))
    .bind(history.and_then(|h| h.rating))
    .bind(at(|h| h.sign_due_at))
    .bind(at(|h| h.done_due_at))
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| crate::StoreError::from_insert(e, "incident"))?;
    Ok(row.map(|(id,)| id))
}

#[derive(FromRow)]
struct TimingRow {
    station_id: i64,
    grid_id: Option<i64>,
    received_at: i64,
    triaged_at: Option<i64>,
    dispatched_at: Option<i64>,
    arrived_at: Option<i64>,
    handled_at: Option<i64>,
    agency_id: Option<i64>,
    diverted_at: Option<i64>,
    signed_for_at: Option<i64>,
    police: Option<bool>,
    result: Option<String>,
    repeat_of: Option<i64>,
    agency_done_at: Option<i64>,
    done_due_at: Option<i64>,
    returned_at: Option<i64>,
    rating: Option<i64>,
}

/// Keeps an incident's map item in step with it (position, state, open, done).
async fn sync_incident_map_item(tx: &mut Transaction<'static, Db>, i: &Incident, closes: bool) -> Result<()> {
    let (Some(lat), Some(lon)) = (i.lat, i.lon) else { return Ok(()) };
    let label: String = format!("{} {}", i.number, i.description.chars().take(30).collect::<String>());
    let done = i.handled_at.or(i.agency_done_at).map(ms);
    sqlx::query(
        "INSERT INTO map_items (kind, item_id, label, category, activity, state, is_open, deadline_at, done_at, org_path, \
         lat_e7, lon_e7, grid_id, station_id, occurred_at) \
         VALUES ('incident', $1, $2, $3, '', $4, $5, NULL, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (kind, item_id) DO UPDATE SET label = excluded.label, category = excluded.category, \
         state = excluded.state, is_open = excluded.is_open, done_at = excluded.done_at",
    )
    .bind(i.id)
    .bind(label)
    .bind(i.type_code.clone().unwrap_or_default())
    .bind(&i.state)
    .bind(!closes)
    .bind(done)
    .bind(&i.org_path)
    .bind(e7(lat))
    .bind(e7(lon))
    .bind(i.grid_id)
    .bind(i.station_id)
    .bind(ms(i.received_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The table that owns each kind of located item (its `grid_id` follows re-routing).
fn located_table(kind: &str) -> Option<&'static str> {
    match kind {
        "task" => Some("tasks"),
        "incident" => Some("incidents"),
        "dispute" => Some("disputes"),
        "hazard" => Some("hazards"),
        "volunteer_post" => Some("volunteer_posts"),
        _ => None,
    }
}

fn e7(deg: f64) -> i64 {
    (deg * 1e7).round() as i64
}

const MAP_POINT_COLS: &str =
    "m.kind, m.item_id, m.label, m.category, m.state, m.lat_e7, m.lon_e7, m.grid_id, m.station_id, m.occurred_at";

#[derive(FromRow)]
struct MapPointRow {
    kind: String,
    item_id: i64,
    label: String,
    category: String,
    state: String,
    lat_e7: i64,
    lon_e7: i64,
    grid_id: Option<i64>,
    station_id: Option<i64>,
    occurred_at: i64,
}

impl From<MapPointRow> for MapPoint {
    fn from(r: MapPointRow) -> Self {
        MapPoint {
            kind: r.kind,
            item_id: r.item_id,
            label: r.label,
            category: r.category,
            state: r.state,
            lat_e7: r.lat_e7,
            lon_e7: r.lon_e7,
            grid_id: r.grid_id,
            station_id: r.station_id,
            occurred_at: from_ms(r.occurred_at),
        }
    }
}

/// `map_items m`; on SQLite, for a small bounding box (a street or a
/// village, under ~0.05° × 0.05°), pinned to the position index. SQLite's
/// planner has no value statistics and otherwise reads every item of the
/// period however small the box; for a whole-city box the index would cost
/// more than that read (random lookups), so there the planner decides.
/// PostgreSQL plans by its statistics (see `plan_cache_mode` in `postgres.rs`).
fn map_table(q: &MapQuery) -> &'static str {
    const SMALL_BOX_E14: i128 = 500_000 * 500_000; // (0.05°)² in (1e-7°)²
    let small = q.bbox.is_some_and(|[x0, y0, x1, y1]| i128::from(x1 - x0) * i128::from(y1 - y0) <= SMALL_BOX_E14);
    if BACKEND == "sqlite" && small { "map_items m INDEXED BY map_items_pos" } else { "map_items m" }
}

fn map_where(q: &MapQuery) -> Where {
    let mut w = Where::default();
    if q.kinds.is_empty() {
        w.raw("1 = 0");
    } else {
        w.any_of("m.kind", &q.kinds);
    }
    if let Some(p) = &q.scope_path {
        w.push("m.org_path LIKE $?", Arg::S(format!("{p}%")));
    }
    if let Some([x0, y0, x1, y1]) = q.bbox {
        w.push("m.lon_e7 >= $?", Arg::I(x0));
        w.push("m.lon_e7 <= $?", Arg::I(x1));
        w.push("m.lat_e7 >= $?", Arg::I(y0));
        w.push("m.lat_e7 <= $?", Arg::I(y1));
    }
    // standing items (volunteer posts) are on the map whatever the period
    if let Some(f) = q.from {
        w.push("(m.kind = 'volunteer_post' OR m.occurred_at >= $?)", Arg::I(ms(f)));
    }
    if let Some(t) = q.to {
        w.push("(m.kind = 'volunteer_post' OR m.occurred_at < $?)", Arg::I(ms(t)));
    }
    if q.open_only {
        w.raw("m.is_open");
    }
    if let Some(c) = &q.category {
        w.push("m.category = $?", Arg::S(c.clone()));
    }
    if let Some(g) = q.grid_id {
        w.push("m.grid_id = $?", Arg::I(g));
    }
    w
}

fn task_where(f: &TaskFilter) -> Where {
    let mut w = Where::default();
    if let Some(p) = &f.scope_path {
        w.push("t.org_path LIKE $?", Arg::S(format!("{p}%")));
    }
    if let Some(u) = f.partner_user {
        w.push("t.assignee_id = $?", Arg::I(u));
    }
    if let Some(s) = &f.state {
        w.push("t.state = $?", Arg::S(s.clone()));
    }
    w.any_of("t.state", &f.states);
    if let Some(p) = &f.org_path {
        w.push("t.org_path LIKE $?", Arg::S(format!("{p}%")));
    }
    if let Some(a) = f.assignee_id {
        w.push("t.assignee_id = $?", Arg::I(a));
    }
    if let Some(c) = &f.catalogue_code {
        w.push("t.catalogue_code = $?", Arg::S(c.clone()));
    }
    if let Some(now) = f.overdue_at {
        w.push("t.deadline_at < $?", Arg::I(ms(now)));
    }
    if let Some(now) = f.due_soon_at {
        w.push("t.due_soon_at <= $?", Arg::I(ms(now)));
        w.push("t.deadline_at >= $?", Arg::I(ms(now)));
    }
    if let Some(from) = f.created_from {
        w.push("t.created_at >= $?", Arg::I(ms(from)));
    }
    if let Some(to) = f.created_to {
        w.push("t.created_at < $?", Arg::I(ms(to)));
    }
    if let Some(text) = f.text.as_deref().filter(|s| !s.trim().is_empty()) {
        let like = format!("%{}%", text.trim().replace(['%', '_'], ""));
        w.args.push(Arg::S(like));
        let n = w.args.len();
        w.raw(&format!("(t.title LIKE ${n} OR t.number LIKE ${n} OR t.description LIKE ${n})"));
    }
    w
}

async fn append_audit(tx: &mut Transaction<'static, Db>, ev: &AuditEvent, at_ms: i64) -> Result<()> {
    let (seq, prev): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut **tx)
            .await?;
    let hash = record_hash(seq, at_ms, ev, &prev);
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&hash).execute(&mut **tx).await?;
    sqlx::query(
        "INSERT INTO audit_log (seq, at_ms, actor_id, actor, object_type, object_id, action, before_digest, \
         after_digest, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(seq)
    .bind(at_ms)
    .bind(ev.actor_id)
    .bind(&ev.actor)
    .bind(&ev.object_type)
    .bind(&ev.object_id)
    .bind(&ev.action)
    .bind(&ev.before_digest)
    .bind(&ev.after_digest)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One step of a subject's timeline: a row of `table` (`task_events`,
/// `incident_events`, `dispute_events`, `hazard_events`) keyed by `key`.
struct NewEvent<'a> {
    table: &'static str,
    key: &'static str,
    subject_id: i64,
    at: i64,
    actor_id: Option<i64>,
    actor_name: &'a str,
    action: &'a str,
    from_state: Option<&'a str>,
    to_state: &'a str,
    note: Option<&'a str>,
    data: String,
}

impl<'a> NewEvent<'a> {
    /// A step on an incident's timeline (no note, no data).
    fn incident(
        id: i64,
        at: i64,
        actor: (Option<i64>, &'a str),
        action: &'a str,
        from: Option<&'a str>,
        to: &'a str,
    ) -> Self {
        NewEvent {
            table: "incident_events",
            key: "incident_id",
            subject_id: id,
            at,
            actor_id: actor.0,
            actor_name: actor.1,
            action,
            from_state: from,
            to_state: to,
            note: None,
            data: "{}".to_string(),
        }
    }
}

/// Appends a step to a timeline, in the caller's transaction; returns its id.
async fn append_event(tx: &mut Transaction<'static, Db>, e: &NewEvent<'_>) -> Result<i64> {
    let sql = format!(
        "INSERT INTO {} ({}, at, actor_id, actor_name, action, from_state, to_state, note, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        e.table, e.key
    );
    let (id,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
        .bind(e.subject_id)
        .bind(e.at)
        .bind(e.actor_id)
        .bind(e.actor_name)
        .bind(e.action)
        .bind(e.from_state)
        .bind(e.to_state)
        .bind(e.note)
        .bind(&e.data)
        .fetch_one(&mut **tx)
        .await?;
    Ok(id)
}

async fn insert_notifications(tx: &mut Transaction<'static, Db>, notes: &[NewNotification], at: i64) -> Result<()> {
    for n in notes {
        sqlx::query(
            "INSERT INTO notifications (user_id, kind, task_id, message, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(n.user_id)
        .bind(&n.kind)
        .bind(n.task_id)
        .bind(&n.message)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn job_from(
    (name, state, cursor_id, total, done, changed, requested_at, finished_at): (
        String,
        String,
        i64,
        i64,
        i64,
        i64,
        i64,
        Option<i64>,
    ),
) -> Job {
    Job {
        name,
        state,
        cursor_id,
        total,
        done,
        changed,
        requested_at: from_ms(requested_at),
        finished_at: opt_from_ms(finished_at),
    }
}

fn role_list(roles: &[String]) -> Vec<Role> {
    let mut v: Vec<Role> = roles.iter().filter_map(|r| r.parse().ok()).collect();
    v.sort();
    v
}

fn task_json(t: &Task) -> serde_json::Value {
    serde_json::json!({
        "id": t.id, "state": t.state, "assignee_id": t.assignee_id, "version": t.version,
        "deadline_at": t.deadline_at.map(ms), "score": t.score, "rework_count": t.rework_count,
    })
}

impl Backend {
    /// The rows of an ordered table of JSON bodies (`dispute_rules`,
    /// `hazard_factors`: id, sort, body), in order. The name is ours, never input.
    async fn json_rows<T: serde::de::DeserializeOwned>(&self, table: &'static str) -> Result<Vec<T>> {
        let sql = format!("SELECT id, body FROM {table} ORDER BY sort, id");
        let rows: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(sql)).fetch_all(self.r()).await?;
        rows.into_iter()
            .map(|(id, body)| {
                serde_json::from_str(&body).map_err(|e| crate::StoreError::Invalid(format!("{table} {id}: {e}")))
            })
            .collect()
    }

    /// Replaces every row of such a table with `rows` (id, value) in their
    /// order, with the audit event, in one transaction.
    async fn replace_json_rows<T: serde::Serialize + Sync>(
        &self,
        table: &'static str,
        rows: &[(&str, &T)],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()> {
        let mut tx = self.w().begin().await?;
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut *tx).await?;
        for (i, (id, value)) in rows.iter().enumerate() {
            sqlx::query(AssertSqlSafe(format!("INSERT INTO {table} (id, sort, body) VALUES ($1, $2, $3)")))
                .bind(*id)
                .bind(i as i64)
                .bind(serde_json::to_string(value).unwrap_or_default())
                .execute(&mut *tx)
                .await?;
        }
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The timeline of a subject: its rows of `table` (an `*_events` table
    /// keyed by `key`), oldest first. Both names are ours, never input.
    async fn subject_events(&self, table: &'static str, key: &'static str, id: i64) -> Result<Vec<SubjectEvent>> {
        let sql = format!(
            "SELECT id, at, actor_name, action, from_state, to_state, note, data FROM {table} WHERE {key} = $1 ORDER BY id"
        );
        #[derive(FromRow)]
        struct Row {
            id: i64,
            at: i64,
            actor_name: String,
            action: String,
            from_state: Option<String>,
            to_state: String,
            note: Option<String>,
            data: String,
        }
        let rows: Vec<Row> = sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_all(self.r()).await?;
        Ok(rows
            .into_iter()
            .map(|r| SubjectEvent {
                id: r.id,
                at: from_ms(r.at),
                actor_name: r.actor_name,
                action: r.action,
                from_state: r.from_state,
                to_state: r.to_state,
                note: r.note,
                data: serde_json::from_str(&r.data).unwrap_or_default(),
            })
            .collect())
    }

    async fn roles_of(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let ph: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql =
            format!("SELECT user_id, role FROM user_roles WHERE user_id IN ({}) ORDER BY user_id, role", ph.join(","));
        let mut q = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(self.r()).await?)
    }

    async fn users_from_rows(&self, rows: Vec<UserRow>) -> Result<Vec<User>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let roles = self.roles_of(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let rs: Vec<String> = roles.iter().filter(|(u, _)| *u == r.id).map(|(_, x)| x.clone()).collect();
                r.into_user(role_list(&rs)).0
            })
            .collect())
    }

    async fn incident_in(&self, tx: &mut Transaction<'static, Db>, id: i64) -> Result<Incident> {
        let row: Option<IncidentRow> =
            sqlx::query_as(concat!(incident_select!(), " WHERE i.id = $1")).bind(id).fetch_optional(&mut **tx).await?;
        row.map(Incident::from).ok_or(crate::StoreError::NotFound)
    }

    async fn task_in(&self, tx: &mut Transaction<'static, Db>, id: i64) -> Result<Task> {
        let row: Option<TaskRow> =
            sqlx::query_as(concat!(task_select!(), " WHERE t.id = $1")).bind(id).fetch_optional(&mut **tx).await?;
        row.map(Task::from).ok_or(crate::StoreError::NotFound)
    }
}

#[async_trait]
impl Store for Backend {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn migrate(&self) -> Result<()> {
        self.run_migrations().await
    }

    async fn ensure_defaults(&self) -> Result<()> {
        for wf in [
            zhufang_domain::task::default_workflow(),
            zhufang_domain::incident::default_workflow(),
            zhufang_domain::dispute::default_workflow(),
            zhufang_domain::hazard::default_workflow(),
        ] {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM workflow_transitions WHERE workflow = $1")
                .bind(&wf.name)
                .fetch_one(self.w())
                .await?;
            if n == 0 {
                let ev = AuditEvent::new(
                    None,
                    "system",
                    "workflow",
                    &wf.name,
                    "seed",
                    None,
                    Some(&serde_json::to_value(&wf).unwrap_or_default()),
                );
                self.save_workflow(&wf, &ev).await?;
            }
        }
        self.ensure_dispute_rules().await?;
        self.ensure_notice_template().await?;
        self.ensure_hazard_factors().await?;
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(self.r()).await?;
        Ok(())
    }

    async fn backup(&self, dest: &std::path::Path) -> Result<()> {
        self.backup_to(dest).await
    }

    async fn create_org_unit(
        &self,
        code: &str,
        name: &str,
        kind: &str,
        parent: Option<i64>,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<OrgUnit> {
        let now = ms(at);
        let mut tx = self.w().begin().await?;
        let parent_path = match parent {
            Some(p) => {
                let (path,): (String,) = sqlx::query_as("SELECT path FROM org_units WHERE id = $1")
                    .bind(p)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(crate::StoreError::NotFound)?;
                path
            }
            None => "/".to_string(),
        };
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO org_units (code, name, kind, parent_id, path) VALUES ($1, $2, $3, $4, '') RETURNING id",
        )
        .bind(code)
        .bind(name)
        .bind(kind)
        .bind(parent)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| crate::StoreError::from_insert(e, "code"))?;
        let path = format!("{parent_path}{id}/");
        sqlx::query("UPDATE org_units SET path = $1 WHERE id = $2").bind(&path).bind(id).execute(&mut *tx).await?;
        let unit = OrgUnit { id, code: code.into(), name: name.into(), kind: kind.into(), parent_id: parent, path };
        let mut ev = audit.clone();
        ev.object_id = id.to_string();
        ev.after_digest = zhufang_domain::audit::digest_json(&serde_json::to_value(&unit).unwrap_or_default());
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        Ok(unit)
    }

    async fn org_units(&self) -> Result<Vec<OrgUnit>> {
        let rows: Vec<OrgRow> =
            sqlx::query_as("SELECT id, code, name, kind, parent_id, path FROM org_units ORDER BY path")
                .fetch_all(self.r())
                .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn org_unit(&self, id: i64) -> Result<Option<OrgUnit>> {
        let row: Option<OrgRow> =
            sqlx::query_as("SELECT id, code, name, kind, parent_id, path FROM org_units WHERE id = $1")
                .bind(id)
                .fetch_optional(self.r())
                .await?;
        Ok(row.map(Into::into))
    }

    async fn org_unit_by_code(&self, code: &str) -> Result<Option<OrgUnit>> {
        let row: Option<OrgRow> =
            sqlx::query_as("SELECT id, code, name, kind, parent_id, path FROM org_units WHERE code = $1")
                .bind(code)
                .fetch_optional(self.r())
                .await?;
        Ok(row.map(Into::into))
    }

    async fn create_user(&self, u: &NewUser, audit: &AuditEvent) -> Result<User> {
        let now = ms(u.created_at);
        let mut tx = self.w().begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO users (username, display_name, phone, org_unit_id, password_hash, active, must_change_password, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $7) RETURNING id",
        )
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(&u.phone)
        .bind(u.org_unit_id)
        .bind(&u.password_hash)
        .bind(u.must_change_password)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| crate::StoreError::from_insert(e, "username"))?;
        for r in &u.roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(r.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let mut ev = audit.clone();
        ev.object_id = id.to_string();
        ev.after_digest = zhufang_domain::audit::digest_json(
            &serde_json::json!({"username": u.username, "roles": u.roles, "org": u.org_unit_id}),
        );
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        self.user(id).await?.ok_or(crate::StoreError::NotFound)
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(format!("{USER_SELECT} WHERE u.id = $1")))
            .bind(id)
            .fetch_optional(self.r())
            .await?;
        match row {
            Some(r) => Ok(self.users_from_rows(vec![r]).await?.pop()),
            None => Ok(None),
        }
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<(User, String)>> {
        let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(format!("{USER_SELECT} WHERE u.username = $1")))
            .bind(username)
            .fetch_optional(self.r())
            .await?;
        match row {
            Some(r) => {
                let roles: Vec<String> = self.roles_of(&[r.id]).await?.into_iter().map(|(_, x)| x).collect();
                Ok(Some(r.into_user(role_list(&roles))))
            }
            None => Ok(None),
        }
    }

    async fn list_users(&self, scope_path: &str, text: Option<&str>, page: PageReq) -> Result<Page<User>> {
        let mut w = Where::default();
        w.push("o.path LIKE $?", Arg::S(format!("{scope_path}%")));
        if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
            let like = format!("%{}%", t.trim());
            w.args.push(Arg::S(like));
            let n = w.args.len();
            w.raw(&format!("(u.username LIKE ${n} OR u.display_name LIKE ${n})"));
        }
        let count_sql = format!("SELECT COUNT(*) FROM users u JOIN org_units o ON o.id = u.org_unit_id{}", w.sql());
        let (total,): (i64,) =
            bind_args!(sqlx::query_as(AssertSqlSafe(count_sql)), &w.args).fetch_one(self.r()).await?;
        let n = w.next();
        let sql = format!("{USER_SELECT}{} ORDER BY o.path, u.username LIMIT ${} OFFSET ${}", w.sql(), n, n + 1);
        let rows: Vec<UserRow> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args)
            .bind(page.per_page)
            .bind(page.offset())
            .fetch_all(self.r())
            .await?;
        Ok(Page { items: self.users_from_rows(rows).await?, total, page: page.page, per_page: page.per_page })
    }

    async fn users_with_roles(&self, scope_path: &str, roles: &[Role]) -> Result<Vec<User>> {
        let mut w = Where::default();
        w.push("o.path LIKE $?", Arg::S(format!("{scope_path}%")));
        w.raw("u.active = TRUE");
        let mut ors = vec![];
        for r in roles {
            w.args.push(Arg::S(r.as_str().to_string()));
            ors.push(format!("${}", w.args.len()));
        }
        if !ors.is_empty() {
            w.raw(&format!("u.id IN (SELECT user_id FROM user_roles WHERE role IN ({}))", ors.join(",")));
        }
        let sql = format!("{USER_SELECT}{} ORDER BY o.path, u.username", w.sql());
        let rows: Vec<UserRow> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args).fetch_all(self.r()).await?;
        self.users_from_rows(rows).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn update_user(
        &self,
        id: i64,
        display_name: &str,
        phone: Option<&str>,
        org_unit_id: i64,
        roles: &[Role],
        active: bool,
        audit: &AuditEvent,
    ) -> Result<User> {
        let now = ms(Utc::now());
        let mut tx = self.w().begin().await?;
        let r = sqlx::query("UPDATE users SET display_name = $1, phone = $2, org_unit_id = $3, active = $4, updated_at = $5 WHERE id = $6")
            .bind(display_name)
            .bind(phone)
            .bind(org_unit_id)
            .bind(active)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(crate::StoreError::NotFound);
        }
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        for role in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
        }
        if !active {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        self.user(id).await?.ok_or(crate::StoreError::NotFound)
    }

    async fn set_password(&self, user_id: i64, hash: &str, must_change: bool, audit: &AuditEvent) -> Result<()> {
        let now = ms(Utc::now());
        let mut tx = self.w().begin().await?;
        let r = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(hash)
        .bind(must_change)
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(crate::StoreError::NotFound);
        }
        append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_session(&self, ns: &NewSession, audit: &AuditEvent) -> Result<()> {
        let mut tx = self.w().begin().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, kind, created_at, expires_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $5)",
        )
        .bind(&ns.token_hash)
        .bind(ns.user_id)
        .bind(&ns.csrf_token)
        .bind(&ns.kind)
        .bind(ms(ns.now))
        .bind(ms(ns.expires_at))
        .execute(&mut *tx)
        .await?;
        // Expired sessions of anyone are swept on every sign-in.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(ms(ns.now)).execute(&mut *tx).await?;
        append_audit(&mut tx, audit, ms(ns.now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        let row: Option<(i64, String, String, i64, i64)> = sqlx::query_as(
            "SELECT s.user_id, s.csrf_token, s.kind, s.expires_at, s.last_seen_at FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = TRUE",
        )
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(self.r())
        .await?;
        Ok(row.map(|(user_id, csrf_token, kind, exp, seen)| Session {
            user_id,
            csrf_token,
            kind,
            expires_at: from_ms(exp),
            last_seen_at: from_ms(seen),
        }))
    }

    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1")
            .bind(ms(now))
            .bind(token_hash)
            .execute(self.w())
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(self.w()).await?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user_id: i64, except: Option<&str>) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(except.unwrap_or(""))
            .execute(self.w())
            .await?;
        Ok(())
    }

    async fn record_login_attempt(&self, username: &str, ip: &str, success: bool, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO login_attempts (username, ip, at, success) VALUES ($1, $2, $3, $4)")
            .bind(username)
            .bind(ip)
            .bind(ms(at))
            .bind(success)
            .execute(self.w())
            .await?;
        Ok(())
    }

    async fn login_failures(&self, username: &str, ip: &str, since: DateTime<Utc>) -> Result<(i64, i64)> {
        // Failures since the last success of that user count against it.
        let (by_user,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM login_attempts WHERE username = $1 AND success = FALSE AND at >= $2 \
             AND at > COALESCE((SELECT MAX(at) FROM login_attempts WHERE username = $1 AND success = TRUE), 0)",
        )
        .bind(username)
        .bind(ms(since))
        .fetch_one(self.r())
        .await?;
        let (by_ip,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM login_attempts WHERE ip = $1 AND success = FALSE AND at >= $2")
                .bind(ip)
                .bind(ms(since))
                .fetch_one(self.r())
                .await?;
        Ok((by_user, by_ip))
    }

    async fn catalogue(&self, include_inactive: bool) -> Result<Vec<CatalogueItem>> {
        let rows: Vec<CatRow> = sqlx::query_as(
            "SELECT code, name, name_en, category, guideline, default_role, accept_hours, finish_workdays, active, activity \
             FROM catalogue_items WHERE active = TRUE OR $1 ORDER BY code",
        )
        .bind(include_inactive)
        .fetch_all(self.r())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn catalogue_item(&self, code: &str) -> Result<Option<CatalogueItem>> {
        let row: Option<CatRow> = sqlx::query_as(
            "SELECT code, name, name_en, category, guideline, default_role, accept_hours, finish_workdays, active, activity \
             FROM catalogue_items WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(self.r())
        .await?;
        Ok(row.map(Into::into))
    }

    async fn upsert_catalogue_item(&self, item: &CatalogueItem, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()> {
        let mut tx = self.w().begin().await?;
        sqlx::query(
            "INSERT INTO catalogue_items (code, name, name_en, category, guideline, default_role, accept_hours, \
             finish_workdays, active, updated_at, activity) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, activity = excluded.activity, \
             category = excluded.category, guideline = excluded.guideline, default_role = excluded.default_role, \
             accept_hours = excluded.accept_hours, finish_workdays = excluded.finish_workdays, \
             active = excluded.active, updated_at = excluded.updated_at",
        )
        .bind(&item.code)
        .bind(&item.name)
        .bind(&item.name_en)
        .bind(&item.category)
        .bind(&item.guideline)
        .bind(&item.default_role)
        .bind(item.accept_hours)
        .bind(item.finish_workdays)
        .bind(item.active)
        .bind(ms(now))
        .bind(&item.activity)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn workflow(&self, name: &str) -> Result<Workflow> {
        let states: Vec<(String, String, String, bool, bool)> = sqlx::query_as(
            "SELECT state, label_zh, label_en, terminal, initial FROM workflow_states WHERE workflow = $1 ORDER BY sort",
        )
        .bind(name)
        .fetch_all(self.r())
        .await?;
        let rows: Vec<(String, String, String, String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT from_state, action, to_state, allowed, required_fields, effects, guards, label_zh, label_en \
             FROM workflow_transitions WHERE workflow = $1 ORDER BY sort",
        )
        .bind(name)
        .fetch_all(self.r())
        .await?;
        let bad =
            |e: zhufang_domain::workflow::WorkflowDefError| crate::StoreError::Invalid(format!("workflow {name}: {e}"));
        let states = states
            .into_iter()
            .map(|(state, label_zh, label_en, terminal, initial)| StateDef {
                state,
                label_zh,
                label_en,
                terminal,
                initial,
            })
            .collect();
        let mut rules = vec![];
        for (from, action, to, allowed, required, effects, guards, label_zh, label_en) in rows {
            rules.push(TransitionRule {
                from,
                action,
                to,
                allowed: parse_list(&allowed).map_err(bad)?,
                required: required.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
                effects: parse_list(&effects).map_err(bad)?,
                guards: parse_list(&guards).map_err(bad)?,
                label_zh,
                label_en,
            });
        }
        Workflow::new(name, states, rules).map_err(bad)
    }

    async fn save_workflow(&self, wf: &Workflow, audit: &AuditEvent) -> Result<()> {
        let now = ms(Utc::now());
        let mut tx = self.w().begin().await?;
        sqlx::query("DELETE FROM workflow_transitions WHERE workflow = $1").bind(&wf.name).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM workflow_states WHERE workflow = $1").bind(&wf.name).execute(&mut *tx).await?;
        for (i, s) in wf.states.iter().enumerate() {
            sqlx::query("INSERT INTO workflow_states (workflow, state, label_zh, label_en, terminal, initial, sort) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&wf.name)
                .bind(&s.state)
                .bind(&s.label_zh)
                .bind(&s.label_en)
                .bind(s.terminal)
                .bind(s.initial)
                .bind(i as i64)
                .execute(&mut *tx)
                .await?;
        }
        for (i, r) in wf.rules.iter().enumerate() {
            let allowed: Vec<String> = r.allowed.iter().map(|a| a.as_string()).collect();
            let effects: Vec<&str> = r.effects.iter().map(|e| e.as_str()).collect();
            sqlx::query(
                "INSERT INTO workflow_transitions (workflow, from_state, action, to_state, allowed, required_fields, \
                 effects, guards, label_zh, label_en, sort) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&wf.name)
            .bind(&r.from)
            .bind(&r.action)
            .bind(&r.to)
            .bind(allowed.join(","))
            .bind(r.required.join(","))
            .bind(effects.join(","))
            .bind(r.guards.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(","))
            .bind(&r.label_zh)
            .bind(&r.label_en)
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        }
        append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn calendar(&self) -> Result<WorkCalendar> {
        Ok(WorkCalendar::new(self.calendar_days().await?.into_iter().map(|(d, k, _)| (d, k))))
    }

    async fn calendar_days(&self) -> Result<Vec<(NaiveDate, DayKind, String)>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT day, kind, name FROM calendar_days ORDER BY day").fetch_all(self.r()).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(d, k, n)| Some((NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()?, DayKind::parse(&k)?, n)))
            .collect())
    }

    async fn set_calendar_day(
        &self,
        day: NaiveDate,
        kind: Option<DayKind>,
        name: &str,
        audit: &AuditEvent,
    ) -> Result<()> {
        let now = ms(Utc::now());
        let mut tx = self.w().begin().await?;
        let d = day.format("%Y-%m-%d").to_string();
        sqlx::query("DELETE FROM calendar_days WHERE day = $1").bind(&d).execute(&mut *tx).await?;
        if let Some(k) = kind {
            sqlx::query("INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3)")
                .bind(&d)
                .bind(k.as_str())
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_task(&self, t: &NewTask) -> Result<Task> {
        let now = ms(t.now);
        let mut tx = self.w().begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO tasks (number, title, description, catalogue_code, org_unit_id, org_path, state, creator_id, \
             lat, lon, due_at, created_at, updated_at, grid_id) \
             VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8, $9, $10, $11, $11, $12) RETURNING id",
        )
        .bind(format!("tmp-{}", rand::random::<u64>()))
        .bind(&t.title)
        .bind(&t.description)
        .bind(&t.catalogue_code)
        .bind(t.org_unit_id)
        .bind(&t.org_path)
        .bind(t.creator_id)
        .bind(t.lat)
        .bind(t.lon)
        .bind(t.due_at.map(ms))
        .bind(now)
        .bind(t.grid_id)
        .fetch_one(&mut *tx)
        .await?;
        let number = format!("RW{}{:06}", zhufang_domain::calendar::local_date(t.now).format("%Y%m%d"), id);
        sqlx::query("UPDATE tasks SET number = $1 WHERE id = $2").bind(&number).bind(id).execute(&mut *tx).await?;
        append_event(
            &mut tx,
            &NewEvent {
                table: "task_events",
                key: "task_id",
                subject_id: id,
                at: now,
                actor_id: t.creator_id.into(),
                actor_name: &t.creator_name,
                action: "create",
                from_state: None,
                to_state: "draft",
                note: None,
                data: "{}".to_string(),
            },
        )
        .await?;
        if let (Some(lat), Some(lon)) = (t.lat, t.lon) {
            sqlx::query(
                "INSERT INTO map_items (kind, item_id, label, category, activity, state, is_open, deadline_at, org_path, \
                 lat_e7, lon_e7, grid_id, station_id, occurred_at) \
                 SELECT 'task', t.id, t.number || ' ' || t.title, t.catalogue_code, c.activity, t.state, TRUE, t.deadline_at, \
                 t.org_path, $2, $3, t.grid_id, $4, t.created_at \
                 FROM tasks t JOIN catalogue_items c ON c.code = t.catalogue_code WHERE t.id = $1",
            )
            .bind(id)
            .bind(e7(lat))
            .bind(e7(lon))
            .bind(t.station_id)
            .execute(&mut *tx)
            .await?;
        }
        let task = self.task_in(&mut tx, id).await?;
        let ev =
            AuditEvent::new(Some(t.creator_id), &t.creator_name, "task", id, "create", None, Some(&task_json(&task)));
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        Ok(task)
    }

    async fn task(&self, id: i64) -> Result<Option<Task>> {
        let row: Option<TaskRow> =
            sqlx::query_as(concat!(task_select!(), " WHERE t.id = $1")).bind(id).fetch_optional(self.r()).await?;
        Ok(row.map(Into::into))
    }

    async fn list_tasks(&self, f: &TaskFilter, page: PageReq) -> Result<Page<Task>> {
        let w = task_where(f);
        let count_sql = format!("SELECT COUNT(*) FROM tasks t{}", w.sql());
        let (total,): (i64,) =
            bind_args!(sqlx::query_as(AssertSqlSafe(count_sql)), &w.args).fetch_one(self.r()).await?;
        let n = w.next();
        let sql = format!(
            "{}{} ORDER BY t.created_at DESC, t.id DESC LIMIT ${} OFFSET ${}",
            task_select!(),
            w.sql(),
            n,
            n + 1
        );
        let rows: Vec<TaskRow> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args)
            .bind(page.per_page)
            .bind(page.offset())
            .fetch_all(self.r())
            .await?;
        Ok(Page { items: rows.into_iter().map(Into::into).collect(), total, page: page.page, per_page: page.per_page })
    }

    async fn task_counts(&self, f: &TaskFilter, now: DateTime<Utc>, evaluator: bool) -> Result<TaskCounts> {
        let w = task_where(f);
        let n = w.next();
        let sql = format!(
            "SELECT COUNT(CASE WHEN t.state NOT IN ('evaluated','cancelled','draft') THEN 1 END), \
             COUNT(CASE WHEN t.due_soon_at <= ${n} AND t.deadline_at >= ${n} THEN 1 END), \
             COUNT(CASE WHEN t.deadline_at < ${n} THEN 1 END), \
             COUNT(CASE WHEN t.state = 'feedback_submitted' THEN 1 END) FROM tasks t{}",
            w.sql()
        );
        let (open, due_soon, overdue, to_eval): (i64, i64, i64, i64) =
            bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args).bind(ms(now)).fetch_one(self.r()).await?;
        Ok(TaskCounts { open, due_soon, overdue, to_evaluate: if evaluator { to_eval } else { 0 } })
    }

    async fn task_timeline(&self, id: i64) -> Result<Vec<TaskEvent>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, at, actor_id, actor_name, action, from_state, to_state, note, data FROM task_events \
             WHERE task_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.r())
        .await?;
        let atts: Vec<AttachmentRow> = sqlx::query_as(
            "SELECT id, task_id, event_id, stored_name, original_name, content_type, size_bytes, sha256, created_at \
             FROM attachments WHERE task_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.r())
        .await?;
        let atts: Vec<Attachment> = atts.into_iter().map(Into::into).collect();
        Ok(rows
            .into_iter()
            .map(|r| TaskEvent {
                id: r.id,
                at: from_ms(r.at),
                actor_id: r.actor_id,
                actor_name: r.actor_name,
                action: r.action,
                from_state: r.from_state,
                to_state: r.to_state,
                note: r.note,
                data: serde_json::from_str(&r.data).unwrap_or_default(),
                attachments: atts.iter().filter(|a| a.event_id == Some(r.id)).cloned().collect(),
            })
            .collect())
    }

    async fn apply_transition(&self, wr: &TransitionWrite) -> Result<Task> {
        let now = ms(wr.now);
        let mut tx = self.w().begin().await?;
        let before = self.task_in(&mut tx, wr.task_id).await?;
        if before.version != wr.expected_version || before.state != wr.from_state {
            return Err(crate::StoreError::Conflict);
        }
        let (assign, assignee) = match wr.assignee {
            Some(a) => (true, a),
            None => (false, None),
        };
        let (fb, fb_text, fb_lat, fb_lon) = match &wr.feedback {
            Some((text, loc)) => (true, Some(text.clone()), loc.map(|l| l.0), loc.map(|l| l.1)),
            None => (false, None, None, None),
        };
        let due_soon = wr.clock.map(|c| ms(zhufang_domain::task::due_soon_at(c)));
        let r = sqlx::query(
            "UPDATE tasks SET state = $1, \
             assignee_id = CASE WHEN $2 THEN $3 ELSE assignee_id END, \
             dispatcher_id = CASE WHEN $4 THEN $5 ELSE dispatcher_id END, \
             clock_started_at = $6, due_soon_at = $7, deadline_at = $8, \
             rework_count = rework_count + $9, refuse_count = refuse_count + $10, \
             score = COALESCE($11, score), eval_comment = CASE WHEN $11 IS NULL THEN eval_comment ELSE $12 END, \
             feedback_text = CASE WHEN $13 THEN $14 ELSE feedback_text END, \
             feedback_lat = CASE WHEN $13 THEN $15 ELSE feedback_lat END, \
             feedback_lon = CASE WHEN $13 THEN $16 ELSE feedback_lon END, \
             dispatched_at = CASE WHEN $17 = 'dispatched' THEN $18 ELSE dispatched_at END, \
             accepted_at = CASE WHEN $17 = 'accepted' THEN $18 ELSE accepted_at END, \
             started_at = CASE WHEN $17 = 'in_progress' AND started_at IS NULL THEN $18 ELSE started_at END, \
             feedback_at = CASE WHEN $13 THEN $18 ELSE feedback_at END, \
             closed_at = CASE WHEN $19 THEN $18 ELSE closed_at END, \
             overdue_notified_at = CASE WHEN $20 THEN NULL ELSE overdue_notified_at END, \
             due_soon_notified_at = CASE WHEN $20 THEN NULL ELSE due_soon_notified_at END, \
             updated_at = $18, version = version + 1 \
             WHERE id = $21 AND version = $22",
        )
        .bind(&wr.to_state)
        .bind(assign)
        .bind(assignee)
        .bind(wr.set_dispatcher)
        .bind(wr.actor_id)
        .bind(wr.clock.map(|c| ms(c.started_at)))
        .bind(due_soon)
        .bind(wr.clock.map(|c| ms(c.deadline_at)))
        .bind(i64::from(wr.count_rework))
        .bind(i64::from(wr.action == "refuse"))
        .bind(wr.score)
        .bind(wr.note.clone())
        .bind(fb)
        .bind(fb_text)
        .bind(fb_lat)
        .bind(fb_lon)
        .bind(&wr.to_state)
        .bind(now)
        .bind(wr.closes)
        .bind(wr.clock != before.clock())
        .bind(wr.task_id)
        .bind(wr.expected_version)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(crate::StoreError::Conflict);
        }
        sqlx::query(
            "UPDATE map_items SET state = $1, is_open = $2, deadline_at = $3, \
             done_at = CASE WHEN $4 THEN $5 ELSE done_at END WHERE kind = 'task' AND item_id = $6",
        )
        .bind(&wr.to_state)
        .bind(!wr.closes)
        .bind(wr.clock.map(|c| ms(c.deadline_at)))
        .bind(wr.feedback.is_some())
        .bind(now)
        .bind(wr.task_id)
        .execute(&mut *tx)
        .await?;
        let event_id = append_event(
            &mut tx,
            &NewEvent {
                table: "task_events",
                key: "task_id",
                subject_id: wr.task_id,
                at: now,
                actor_id: wr.actor_id.into(),
                actor_name: &wr.actor_name,
                action: &wr.action,
                from_state: Some(wr.from_state.as_str()),
                to_state: &wr.to_state,
                note: wr.note.as_deref(),
                data: wr.data.to_string(),
            },
        )
        .await?;
        if let (Some(report), Some(_)) = (&wr.report, &wr.feedback) {
            sqlx::query("UPDATE tasks SET feedback_data = $1 WHERE id = $2")
                .bind(serde_json::to_string(report).unwrap_or_default())
                .bind(wr.task_id)
                .execute(&mut *tx)
                .await?;
            // fed back again (after a return): the problems not yet converted are replaced
            sqlx::query("DELETE FROM task_problems WHERE task_id = $1 AND kind IS NULL")
                .bind(wr.task_id)
                .execute(&mut *tx)
                .await?;
            let (next,): (i64,) =
                sqlx::query_as("SELECT COALESCE(MAX(idx), -1) + 1 FROM task_problems WHERE task_id = $1")
                    .bind(wr.task_id)
                    .fetch_one(&mut *tx)
                    .await?;
            for (i, p) in report.problems.iter().enumerate() {
                sqlx::query("INSERT INTO task_problems (task_id, idx, text) VALUES ($1, $2, $3)")
                    .bind(wr.task_id)
                    .bind(next + i as i64)
                    .bind(p)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for a in &wr.attachments {
            sqlx::query(
                "INSERT INTO attachments (task_id, event_id, stored_name, original_name, content_type, size_bytes, \
                 sha256, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(wr.task_id)
            .bind(event_id)
            .bind(&a.stored_name)
            .bind(&a.original_name)
            .bind(&a.content_type)
            .bind(a.size_bytes)
            .bind(&a.sha256)
            .bind(wr.actor_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        insert_notifications(&mut tx, &wr.notifications, now).await?;
        let after = self.task_in(&mut tx, wr.task_id).await?;
        let ev = AuditEvent::new(
            Some(wr.actor_id),
            &wr.actor_name,
            "task",
            wr.task_id,
            &wr.action,
            Some(&task_json(&before)),
            Some(&task_json(&after)),
        );
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn attachment(&self, id: i64) -> Result<Option<Attachment>> {
        let row: Option<AttachmentRow> = sqlx::query_as(
            "SELECT id, task_id, event_id, stored_name, original_name, content_type, size_bytes, sha256, created_at \
             FROM attachments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.r())
        .await?;
        Ok(row.map(Into::into))
    }

    async fn newly_overdue(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Task>> {
        let rows: Vec<TaskRow> = sqlx::query_as(concat!(
            task_select!(),
            " WHERE t.deadline_at < $1 AND t.overdue_notified_at IS NULL ORDER BY t.deadline_at LIMIT $2"
        ))
        .bind(ms(now))
        .bind(limit)
        .fetch_all(self.r())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn newly_due_soon(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Task>> {
        let rows: Vec<TaskRow> = sqlx::query_as(concat!(
            task_select!(),
            " WHERE t.due_soon_at <= $1 AND t.deadline_at >= $1 AND t.due_soon_notified_at IS NULL ORDER BY t.deadline_at LIMIT $2"
        ))
        .bind(ms(now))
        .bind(limit)
        .fetch_all(self.r())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn mark_reported(
        &self,
        task_id: i64,
        overdue: bool,
        now: DateTime<Utc>,
        notes: &[NewNotification],
    ) -> Result<()> {
        let mut tx = self.w().begin().await?;
        let sql = if overdue {
            "UPDATE tasks SET overdue_notified_at = $1 WHERE id = $2 AND overdue_notified_at IS NULL"
        } else {
            "UPDATE tasks SET due_soon_notified_at = $1 WHERE id = $2 AND due_soon_notified_at IS NULL"
        };
        let r = sqlx::query(sql).bind(ms(now)).bind(task_id).execute(&mut *tx).await?;
        if r.rows_affected() == 1 {
            insert_notifications(&mut tx, notes, ms(now)).await?;
            let ev = AuditEvent::new(
                None,
                "system",
                "task",
                task_id,
                if overdue { "flag_overdue" } else { "flag_due_soon" },
                None,
                None,
            );
            append_audit(&mut tx, &ev, ms(now)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn request_job(&self, name: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO jobs (name, state, cursor_id, total, done, changed, requested_at, finished_at) \
             VALUES ($1, 'pending', 0, 0, 0, 0, $2, NULL) \
             ON CONFLICT (name) DO UPDATE SET state = 'pending', cursor_id = 0, total = 0, done = 0, changed = 0, \
             requested_at = excluded.requested_at, finished_at = NULL",
        )
        .bind(name)
        .bind(ms(now))
        .execute(self.w())
        .await?;
        Ok(())
    }

    async fn job(&self, name: &str) -> Result<Option<Job>> {
        let row: Option<(String, String, i64, i64, i64, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT name, state, cursor_id, total, done, changed, requested_at, finished_at FROM jobs WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.r())
        .await?;
        Ok(row.map(job_from))
    }

    async fn unfinished_jobs(&self) -> Result<Vec<Job>> {
        let rows: Vec<(String, String, i64, i64, i64, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT name, state, cursor_id, total, done, changed, requested_at, finished_at FROM jobs \
             WHERE state <> 'done' ORDER BY requested_at",
        )
        .fetch_all(self.r())
        .await?;
        Ok(rows.into_iter().map(job_from).collect())
    }

    async fn located_items(&self, after: i64, limit: i64) -> Result<(Vec<LocatedRow>, i64)> {
        let rows: Vec<(i64, String, i64, i64, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT id, kind, item_id, lat_e7, lon_e7, grid_id, station_id FROM map_items WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.r())
        .await?;
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM map_items").fetch_one(self.r()).await?;
        let rows = rows
            .into_iter()
            .map(|(id, kind, item_id, lat_e7, lon_e7, grid_id, station_id)| LocatedRow {
                id,
                kind,
                item_id,
                lat_e7,
                lon_e7,
                grid_id,
                station_id,
            })
            .collect();
        Ok((rows, total))
    }

    async fn reroute_batch(&self, job: &str, batch: &RerouteBatch, now: DateTime<Utc>) -> Result<()> {
        let (moves, cursor, seen, total) = (&batch.moves, batch.cursor, batch.seen, batch.total);
        let mut tx = self.w().begin().await?;
        let mut moved = vec![];
        for m in moves {
            let row: Option<(String, i64)> = sqlx::query_as(
                "UPDATE map_items SET grid_id = $1, station_id = $2 WHERE id = $3 RETURNING kind, item_id",
            )
            .bind(m.grid_id)
            .bind(m.station_id)
            .bind(m.id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((kind, item_id)) = row else { continue };
            // the owning table keeps its own grid for its ledger filters
            if let Some(table) = located_table(&kind) {
                let sql = format!("UPDATE {table} SET grid_id = $1 WHERE id = $2");
                sqlx::query(AssertSqlSafe(sql)).bind(m.grid_id).bind(item_id).execute(&mut *tx).await?;
            }
            moved.push(
                serde_json::json!({"kind": kind, "id": item_id, "grid_id": m.grid_id, "station_id": m.station_id}),
            );
        }
        sqlx::query(
            "UPDATE jobs SET state = 'running', cursor_id = $1, done = done + $2, changed = changed + $3, total = $4 WHERE name = $5",
        )
        .bind(cursor)
        .bind(seen)
        .bind(moves.len() as i64)
        .bind(total)
        .bind(job)
        .execute(&mut *tx)
        .await?;
        if !moved.is_empty() {
            let ev = AuditEvent::new(None, "system", "job", job, "reroute", None, Some(&serde_json::json!(moved)));
            append_audit(&mut tx, &ev, ms(now)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn incident_types(&self) -> Result<Vec<IncidentType>> {
        let rows: Vec<(String, Option<String>, i64, String, String, bool, bool, bool)> = sqlx::query_as(
            // codes are hierarchical (01 < 0101 < 010101 < 0102): their order is the tree's
            "SELECT code, parent_code, level, name, name_en, police, dispute, active FROM incident_types ORDER BY code",
        )
        .fetch_all(self.r())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(code, parent_code, level, name, name_en, police, dispute, active)| IncidentType {
                code,
                parent_code,
                level,
                name,
                name_en,
                police,
                dispute,
                active,
            })
            .collect())
    }

    async fn create_incident(&self, n: &NewIncident) -> Result<Incident> {
        let now = ms(n.now);
        let mut tx = self.w().begin().await?;
        let id = insert_incident(&mut tx, n, &format!("tmp-{}", rand::random::<u64>()), "received", None)
            .await?
            .ok_or_else(|| crate::StoreError::Invalid("a temporary incident number clashed".into()))?;
        let number = format!("JQ{}{:06}", zhufang_domain::calendar::local_date(n.received_at).format("%Y%m%d"), id);
        sqlx::query("UPDATE incidents SET number = $1 WHERE id = $2").bind(&number).bind(id).execute(&mut *tx).await?;
        append_event(
            &mut tx,
            &NewEvent {
                data: serde_json::json!({"channel": n.channel, "repeat_of": n.repeat_of}).to_string(),
                ..NewEvent::incident(id, now, (n.creator_id, &n.creator_name), "receive", None, "received")
            },
        )
        .await?;
        let inc = self.incident_in(&mut tx, id).await?;
        sync_incident_map_item(&mut tx, &inc, false).await?;
        let ev =
            AuditEvent::new(n.creator_id, &n.creator_name, "incident", id, "receive", None, Some(&record_json(&inc)));
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        Ok(inc)
    }

    async fn import_incident(&self, imp: &ImportedIncident) -> Result<Option<i64>> {
        let n = &imp.incident;
        let now = ms(n.now);
        let mut tx = self.w().begin().await?;
        let id = insert_incident(&mut tx, n, &imp.number, &imp.state, Some(imp)).await?;
        let Some(id) = id else { return Ok(None) };
        // the steps as they happened in the source system, in time order, then the import itself
        let mut steps: Vec<(DateTime<Utc>, &str, &str)> = [
            (Some(n.received_at), "receive", "received"),
            (imp.triaged_at, "triage", "triaged"),
            (imp.dispatched_at, "dispatch", "dispatched"),
            (imp.arrived_at, "arrive", "arrived"),
            (imp.handled_at, "handle", "handled"),
            (imp.diverted_at, "divert", "diverted"),
            (imp.signed_for_at, "sign_for", "signed_for"),
            (imp.agency_done_at, "agency_done", "agency_done"),
            (imp.closed_at, "close", imp.state.as_str()),
        ]
        .into_iter()
        .filter_map(|(at, action, to)| at.map(|at| (at, action, to)))
        .collect();
        steps.sort_by_key(|s| s.0);
        let mut from: Option<&str> = None;
        for (at, action, to) in steps {
            append_event(&mut tx, &NewEvent::incident(id, ms(at), (None, "原系统"), action, from, to)).await?;
            from = Some(to);
        }
        append_event(
            &mut tx,
            &NewEvent::incident(id, now, (n.creator_id, &n.creator_name), "import", from, &imp.state),
        )
        .await?;
        let inc = self.incident_in(&mut tx, id).await?;
        sync_incident_map_item(&mut tx, &inc, imp.closes).await?;
        let ev =
            AuditEvent::new(n.creator_id, &n.creator_name, "incident", id, "import", None, Some(&record_json(&inc)));
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn incident_by_external(&self, external_id: &str) -> Result<Option<Incident>> {
        let row: Option<IncidentRow> = sqlx::query_as(concat!(incident_select!(), " WHERE i.external_id = $1"))
            .bind(external_id)
            .fetch_optional(self.r())
            .await?;
        Ok(row.map(Into::into))
    }

    async fn incident(&self, id: i64) -> Result<Option<Incident>> {
        let row: Option<IncidentRow> =
            sqlx::query_as(concat!(incident_select!(), " WHERE i.id = $1")).bind(id).fetch_optional(self.r()).await?;
        Ok(row.map(Into::into))
    }

    async fn list_incidents(&self, f: &IncidentFilter, page: PageReq) -> Result<Page<Incident>> {
        let w = incident_where(f);
        let count_sql =
            format!("SELECT COUNT(*) FROM incidents i LEFT JOIN org_units a ON a.id = i.agency_id{}", w.sql());
        let (total,): (i64,) =
            bind_args!(sqlx::query_as(AssertSqlSafe(count_sql)), &w.args).fetch_one(self.r()).await?;
        let n = w.next();
        let sql = format!("{}{}{} LIMIT ${} OFFSET ${}", incident_select!(), w.sql(), incident_order(f), n, n + 1);
        let rows: Vec<IncidentRow> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args)
            .bind(page.per_page)
            .bind(page.offset())
            .fetch_all(self.r())
            .await?;
        Ok(Page { items: rows.into_iter().map(Into::into).collect(), total, page: page.page, per_page: page.per_page })
    }

    async fn incident_timeline(&self, id: i64) -> Result<Vec<IncidentEvent>> {
        self.subject_events("incident_events", "incident_id", id).await
    }

    async fn apply_incident_transition(&self, w: &IncidentWrite) -> Result<Incident> {
        let now = ms(w.now);
        let mut tx = self.w().begin().await?;
        let before = self.incident_in(&mut tx, w.incident_id).await?;
        if before.version != w.expected_version || before.state != w.from_state {
            return Err(crate::StoreError::Conflict);
        }
        let (assign, assignee) = match w.assignee {
            Some(a) => (true, a),
            None => (false, None),
        };
        let step = |s: &str| if w.to_state == s { Some(now) } else { None };
        let r = sqlx::query(
            "UPDATE incidents SET state = $1, \
             assignee_id = CASE WHEN $2 THEN $3 ELSE assignee_id END, \
             agency_id = COALESCE($4, agency_id), police = COALESCE($5, police), \
             type_code = COALESCE($6, type_code), severity = COALESCE($7, severity), \
             result = COALESCE($8, result), rating = COALESCE($9, rating), \
             triaged_at = COALESCE($10, triaged_at), dispatched_at = COALESCE($11, dispatched_at), \
             arrived_at = COALESCE($12, arrived_at), handled_at = COALESCE($13, handled_at), \
             diverted_at = COALESCE($14, diverted_at), signed_for_at = COALESCE($15, signed_for_at), \
             agency_done_at = COALESCE($16, agency_done_at), returned_at = COALESCE($17, returned_at), \
             closed_at = CASE WHEN $18 THEN $19 ELSE closed_at END, \
             sign_due_at = CASE WHEN $22 THEN $23 ELSE sign_due_at END, \
             done_due_at = CASE WHEN $22 THEN $24 ELSE done_due_at END, \
             escalated_at = CASE WHEN $22 THEN NULL ELSE escalated_at END, \
             updated_at = $19, version = version + 1 WHERE id = $20 AND version = $21",
        )
        .bind(&w.to_state)
        .bind(assign)
        .bind(assignee)
        .bind(w.agency_id)
        .bind(w.police)
        .bind(&w.type_code)
        .bind(w.severity)
        .bind(&w.result)
        .bind(w.rating)
        .bind(step("triaged"))
        .bind(step("dispatched"))
        .bind(step("arrived"))
        .bind(step("handled"))
        .bind(step("diverted"))
        .bind(step("signed_for"))
        .bind(step("agency_done"))
        .bind(step("returned"))
        .bind(w.closes)
        .bind(now)
        .bind(w.incident_id)
        .bind(w.expected_version)
        .bind(w.due.is_some())
        .bind(w.due.map(|d| ms(d.0)))
        .bind(w.due.map(|d| ms(d.1)))
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(crate::StoreError::Conflict);
        }
        append_event(
            &mut tx,
            &NewEvent {
                note: w.note.as_deref(),
                data: w.data.to_string(),
                ..NewEvent::incident(
                    w.incident_id,
                    now,
                    (w.actor_id.into(), &w.actor_name),
                    &w.action,
                    Some(w.from_state.as_str()),
                    &w.to_state,
                )
            },
        )
        .await?;
        if let Some((label, police, suggested, version)) = &w.correction {
            sqlx::query(
                "INSERT INTO triage_corrections (incident_id, text, label, police, suggested, model_version, user_id, created_at) \
                 SELECT id, description, $2, $3, $4, $5, $6, $7 FROM incidents WHERE id = $1",
            )
            .bind(w.incident_id)
            .bind(label)
            .bind(police)
            .bind(suggested)
            .bind(version)
            .bind(w.actor_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        insert_notifications(&mut tx, &w.notifications, now).await?;
        for m in &w.outbox {
            sqlx::query(
                "INSERT INTO outbox (topic, msg_key, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(&m.topic)
            .bind(&m.key)
            .bind(m.payload.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let after = self.incident_in(&mut tx, w.incident_id).await?;
        sync_incident_map_item(&mut tx, &after, w.closes).await?;
        let ev = AuditEvent::new(
            Some(w.actor_id),
            &w.actor_name,
            "incident",
            w.incident_id,
            &w.action,
            Some(&record_json(&before)),
            Some(&record_json(&after)),
        );
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn incident_timings(
        &self,
        f: &IncidentFilter,
    ) -> Result<Vec<(i64, Option<i64>, zhufang_domain::incident::Timing)>> {
        let w = incident_where(f);
        let sql = format!(
            "SELECT i.station_id, i.grid_id, i.received_at, i.triaged_at, i.dispatched_at, i.arrived_at, i.handled_at, \
             i.agency_id, i.diverted_at, i.signed_for_at, i.police, i.result, i.repeat_of, i.agency_done_at, i.done_due_at, \
             i.returned_at, i.rating \
             FROM incidents i LEFT JOIN org_units a ON a.id = i.agency_id{}",
            w.sql()
        );
        let rows: Vec<TimingRow> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args).fetch_all(self.r()).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.station_id,
                    r.grid_id,
                    zhufang_domain::incident::Timing {
                        received_at: r.received_at,
                        triaged_at: r.triaged_at,
                        dispatched_at: r.dispatched_at,
                        arrived_at: r.arrived_at,
                        handled_at: r.handled_at,
                        diverted: r.agency_id.is_some(),
                        signed_for_at: r.signed_for_at,
                        diverted_at: r.diverted_at,
                        police: r.police,
                        result: r.result,
                        repeat: r.repeat_of.is_some(),
                        agency_done_at: r.agency_done_at,
                        done_due_at: r.done_due_at,
                        returned: r.returned_at.is_some(),
                        // handed over again after the (last) return
                        rediverted: matches!((r.returned_at, r.diverted_at), (Some(ret), Some(div)) if div >= ret),
                        rating: r.rating,
                    },
                )
            })
            .collect())
    }

    async fn triage_corrections(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT text, label FROM triage_corrections ORDER BY id").fetch_all(self.r()).await?)
    }

    async fn upsert_incident_type(&self, t: &IncidentType, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()> {
        let mut tx = self.w().begin().await?;
        sqlx::query(
            "INSERT INTO incident_types (code, parent_code, level, name, police, dispute, active, name_en) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, police = excluded.police, \
             dispute = excluded.dispute, active = excluded.active, name_en = excluded.name_en",
        )
        .bind(&t.code)
        .bind(&t.parent_code)
        .bind(t.level)
        .bind(&t.name)
        .bind(t.police)
        .bind(t.dispute)
        .bind(t.active)
        .bind(&t.name_en)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn incident_limit_rows(&self) -> Result<Vec<IncidentLimit>> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT type_prefix, label, sign_for_hours, done_workdays FROM incident_limits ORDER BY type_prefix",
        )
        .fetch_all(self.r())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(type_prefix, label, sign_for_hours, done_workdays)| IncidentLimit {
                type_prefix,
                label,
                sign_for_hours,
                done_workdays,
            })
            .collect())
    }

    async fn upsert_incident_limit(&self, l: &IncidentLimit, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()> {
        let mut tx = self.w().begin().await?;
        sqlx::query(
            "INSERT INTO incident_limits (type_prefix, label, sign_for_hours, done_workdays) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (type_prefix) DO UPDATE SET label = excluded.label, \
             sign_for_hours = excluded.sign_for_hours, done_workdays = excluded.done_workdays",
        )
        .bind(&l.type_prefix)
        .bind(&l.label)
        .bind(l.sign_for_hours)
        .bind(l.done_workdays)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn intake_settings(&self) -> Result<zhufang_domain::incident::IntakeSettings> {
        let row: Option<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT repeat_minutes, repeat_dispute_minutes, similar_metres, similar_minutes FROM intake_settings WHERE id = 1",
        )
        .fetch_optional(self.r())
        .await?;
        Ok(row
            .and_then(|(a, b, c, d)| zhufang_domain::incident::IntakeSettings::new(a, b, c, d).ok())
            .unwrap_or_default())
    }

    async fn put_intake_settings(
        &self,
        s: &zhufang_domain::incident::IntakeSettings,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()> {
        let mut tx = self.w().begin().await?;
        sqlx::query(
            "INSERT INTO intake_settings (id, repeat_minutes, repeat_dispute_minutes, similar_metres, similar_minutes) \
             VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET repeat_minutes = excluded.repeat_minutes, \
             repeat_dispute_minutes = excluded.repeat_dispute_minutes, similar_metres = excluded.similar_metres, \
             similar_minutes = excluded.similar_minutes",
        )
        .bind(s.repeat_minutes())
        .bind(s.repeat_dispute_minutes())
        .bind(s.similar_metres())
        .bind(s.similar_minutes())
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn incident_limits(&self) -> Result<Vec<(String, i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT type_prefix, sign_for_hours, done_workdays FROM incident_limits ORDER BY type_prefix",
        )
        .fetch_all(self.r())
        .await?)
    }

    async fn late_hand_overs(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Incident>> {
        let rows: Vec<IncidentRow> = sqlx::query_as(concat!(
            incident_select!(),
            " WHERE i.escalated_at IS NULL AND ((i.state = 'diverted' AND i.sign_due_at < $1) \
              OR (i.state = 'signed_for' AND i.done_due_at < $1)) ORDER BY i.id LIMIT $2"
        ))
        .bind(ms(now))
        .bind(limit)
        .fetch_all(self.r())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn escalate_incident(&self, id: i64, now: DateTime<Utc>, notes: &[NewNotification]) -> Result<()> {
        let mut tx = self.w().begin().await?;
        let r = sqlx::query("UPDATE incidents SET escalated_at = $1 WHERE id = $2 AND escalated_at IS NULL")
            .bind(ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Ok(());
        }
        insert_notifications(&mut tx, notes, ms(now)).await?;
        // on the timeline too: which limit was missed, who was told
        let (state,): (String,) =
            sqlx::query_as("SELECT state FROM incidents WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let missed = if state == "diverted" { "签收" } else { "办结" };
        let note = format!("联动单位超过{missed}时限，已提醒指挥室和所领导（{}人）", notes.len());
        append_event(
            &mut tx,
            &NewEvent {
                note: Some(&note),
                ..NewEvent::incident(id, ms(now), (None, "系统"), "escalate", Some(&state), &state)
            },
        )
        .await?;
        let ev = AuditEvent::new(
            None,
            "system",
            "incident",
            id,
            "escalate",
            None,
            Some(&serde_json::json!({"notified": notes.len()})),
        );
        append_audit(&mut tx, &ev, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn incident_addresses(
        &self,
        scope_path: &str,
        q: &str,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<KnownAddress>> {
        Ok(sqlx::query_as(
            "SELECT address, lat, lon, uses FROM ( \
               SELECT i.address, i.lat, i.lon, COUNT(*) OVER (PARTITION BY i.address) AS uses, \
                      ROW_NUMBER() OVER (PARTITION BY i.address ORDER BY i.received_at DESC, i.id DESC) AS rn \
               FROM incidents i \
               WHERE i.org_path LIKE $1 AND i.address LIKE $2 AND i.address <> '' \
                 AND i.lat IS NOT NULL AND i.lon IS NOT NULL AND i.received_at >= $3 \
             ) x WHERE rn = 1 ORDER BY uses DESC, address LIMIT $4",
        )
        .bind(format!("{scope_path}%"))
        .bind(format!("%{q}%"))
        .bind(ms(since))
        .bind(limit)
        .fetch_all(self.r())
        .await?)
    }

    async fn recent_incident_by_phone(&self, phone: &str, since: DateTime<Utc>) -> Result<Option<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, number FROM incidents WHERE caller_phone = $1 AND received_at >= $2 ORDER BY received_at DESC, id DESC LIMIT 1",
        )
        .bind(phone)
        .bind(ms(since))
        .fetch_optional(self.r())
        .await?)
    }

    async fn due_outbox(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<OutboxMessage>> {
        let rows: Vec<(i64, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, topic, msg_key, payload, attempts, created_at FROM outbox \
             WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
        )
        .bind(ms(now))
        .bind(limit)
        .fetch_all(self.r())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, topic, key, payload, attempts, created_at)| OutboxMessage {
                id,
                topic,
                key,
                payload: serde_json::from_str(&payload).unwrap_or_default(),
                attempts,
                created_at: from_ms(created_at),
            })
            .collect())
    }

    async fn outbox_delivered(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
            .bind(ms(now))
            .bind(id)
            .execute(self.w())
            .await?;
        Ok(())
    }

    async fn outbox_failed(&self, id: i64, next_at: DateTime<Utc>, error: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3")
            .bind(ms(next_at))
            .bind(error.chars().take(500).collect::<String>())
            .bind(id)
            .execute(self.w())
            .await?;
        Ok(())
    }

    async fn outbox_counts(&self) -> Result<(i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT COUNT(CASE WHEN delivered_at IS NULL THEN 1 END), COUNT(CASE WHEN delivered_at IS NOT NULL THEN 1 END) FROM outbox",
        )
        .fetch_one(self.r())
        .await?)
    }

    async fn map_points(&self, q: &MapQuery, limit: i64) -> Result<Vec<MapPoint>> {
        let w = map_where(q);
        let sql = format!(
            "SELECT {MAP_POINT_COLS} FROM {}{} ORDER BY m.occurred_at DESC, m.id DESC LIMIT ${}",
            map_table(q),
            w.sql(),
            w.next()
        );
        let rows: Vec<MapPointRow> =
            bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args).bind(limit).fetch_all(self.r()).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn map_cells(&self, q: &MapQuery, cell_e7: i64) -> Result<Vec<MapCell>> {
        let w = map_where(q);
        let [x0, y0, _, _] = q.bbox.unwrap_or([-1_800_000_000, -900_000_000, 1_800_000_000, 900_000_000]);
        let n = w.next();
        // integer division of a non-negative offset: the same cell on both backends
        let sql = format!(
            "SELECT m.kind, (m.lon_e7 - ${n}) / ${c} AS cx, (m.lat_e7 - ${y}) / ${c} AS cy, COUNT(*) AS n, \
             CAST(ROUND(AVG(m.lat_e7)) AS BIGINT) AS lat, CAST(ROUND(AVG(m.lon_e7)) AS BIGINT) AS lon, \
             MIN(m.item_id) AS item, MIN(m.label) AS label, MIN(m.category) AS category \
             FROM {}{} GROUP BY m.kind, (m.lon_e7 - ${n}) / ${c}, (m.lat_e7 - ${y}) / ${c}",
            map_table(q),
            w.sql(),
            y = n + 1,
            c = n + 2,
        );
        #[derive(FromRow)]
        struct CellRow {
            kind: String,
            cx: i64,
            cy: i64,
            n: i64,
            lat: i64,
            lon: i64,
            item: i64,
            label: String,
            category: String,
        }
        let rows: Vec<CellRow> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args)
            .bind(x0)
            .bind(y0)
            .bind(cell_e7.max(1))
            .fetch_all(self.r())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| MapCell {
                kind: r.kind,
                cx: r.cx,
                cy: r.cy,
                count: r.n,
                lat_e7: r.lat,
                lon_e7: r.lon,
                item_id: r.item,
                label: r.label,
                category: r.category,
            })
            .collect())
    }

    async fn map_positions(&self, q: &MapQuery, limit: i64) -> Result<Vec<(i64, i64)>> {
        let w = map_where(q);
        let sql = format!("SELECT m.lat_e7, m.lon_e7 FROM {}{} LIMIT ${}", map_table(q), w.sql(), w.next());
        Ok(bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args).bind(limit).fetch_all(self.r()).await?)
    }

    async fn grid_figures(
        &self,
        q: &MapQuery,
        now: DateTime<Utc>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<GridFigures>> {
        let mut w = map_where(q);
        w.raw("m.grid_id IS NOT NULL");
        let n = w.next();
        let (now_p, from_p, to_p) = (n, n + 1, n + 2);
        let sql = format!(
            "SELECT m.grid_id, m.kind, \
             COUNT(CASE WHEN m.is_open THEN 1 END), \
             COUNT(CASE WHEN m.is_open AND m.deadline_at < ${now_p} THEN 1 END), \
             COUNT(CASE WHEN m.occurred_at >= ${from_p} AND m.occurred_at < ${to_p} THEN 1 END), \
             COUNT(CASE WHEN m.done_at >= ${from_p} AND m.done_at < ${to_p} THEN 1 END), \
             COUNT(CASE WHEN m.activity <> '' AND m.done_at >= ${from_p} AND m.done_at < ${to_p} THEN 1 END) \
             FROM map_items m{} GROUP BY m.grid_id, m.kind",
            w.sql()
        );
        let rows: Vec<(i64, String, i64, i64, i64, i64, i64)> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args)
            .bind(ms(now))
            .bind(ms(from))
            .bind(ms(to))
            .fetch_all(self.r())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(grid_id, kind, open, overdue, in_period, done_in_period, duty_done)| GridFigures {
                grid_id,
                kind,
                open,
                overdue,
                in_period,
                done_in_period,
                duty_done,
            })
            .collect())
    }

    async fn unrouted_items(&self, station_path: &str, page: PageReq) -> Result<Page<MapPoint>> {
        let from =
            "FROM map_items m JOIN org_units o ON o.id = m.station_id WHERE m.grid_id IS NULL AND o.path LIKE $1";
        let (total,): (i64,) = sqlx::query_as(AssertSqlSafe(format!("SELECT COUNT(*) {from}")))
            .bind(format!("{station_path}%"))
            .fetch_one(self.r())
            .await?;
        let rows: Vec<MapPointRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MAP_POINT_COLS} {from} ORDER BY m.occurred_at DESC, m.id DESC LIMIT $2 OFFSET $3"
        )))
        .bind(format!("{station_path}%"))
        .bind(page.per_page)
        .bind(page.offset())
        .fetch_all(self.r())
        .await?;
        Ok(Page { items: rows.into_iter().map(Into::into).collect(), total, page: page.page, per_page: page.per_page })
    }

    async fn finish_job(&self, name: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE jobs SET state = 'done', finished_at = $1 WHERE name = $2")
            .bind(ms(now))
            .bind(name)
            .execute(self.w())
            .await?;
        Ok(())
    }

    async fn grids(&self, station_path: Option<&str>) -> Result<Vec<GridRecord>> {
        let rows: Vec<GridRow> = sqlx::query_as(
            "SELECT g.id, g.code, g.name, g.kind, g.station_id, o.code AS station_code, o.name AS station_name, \
             o.path AS station_path, u.username AS officer, u.display_name AS officer_name, g.village, g.geometry, g.version \
             FROM grids g JOIN org_units o ON o.id = g.station_id LEFT JOIN users u ON u.id = g.officer_id \
             WHERE $1 IS NULL OR o.path LIKE $1 ORDER BY g.code",
        )
        .bind(station_path.map(|p| format!("{p}%")))
        .fetch_all(self.r())
        .await?;
        let aux: Vec<(i64, String)> = sqlx::query_as(
            "SELECT a.grid_id, u.username FROM grid_auxiliaries a JOIN users u ON u.id = a.user_id ORDER BY a.grid_id, u.username",
        )
        .fetch_all(self.r())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| GridRecord {
                auxiliaries: aux.iter().filter(|(g, _)| *g == r.id).map(|(_, u)| u.clone()).collect(),
                id: r.id,
                code: r.code,
                name: r.name,
                kind: r.kind,
                station_id: r.station_id,
                station_code: r.station_code,
                station_name: r.station_name,
                station_path: r.station_path,
                officer: r.officer,
                officer_name: r.officer_name,
                village: r.village,
                geometry: r.geometry,
                version: r.version,
            })
            .collect())
    }

    async fn import_grids(
        &self,
        grids: &[NewGrid],
        actor_id: Option<i64>,
        actor_name: &str,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize)> {
        let at = ms(now);
        let mut tx = self.w().begin().await?;
        let (mut created, mut updated) = (0, 0);
        for g in grids {
            let old: Option<(i64, String, i64, String)> =
                sqlx::query_as("SELECT id, name, station_id, geometry FROM grids WHERE code = $1")
                    .bind(&g.code)
                    .fetch_optional(&mut *tx)
                    .await?;
            let id = match &old {
                Some((id, old_name, old_station, old_geometry)) => {
                    sqlx::query(
                        "INSERT INTO grid_history (grid_id, changed_at, actor_id, actor_name, old_name, old_station_id, old_geometry) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(id)
                    .bind(at)
                    .bind(actor_id)
                    .bind(actor_name)
                    .bind(old_name)
                    .bind(old_station)
                    .bind(old_geometry)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "UPDATE grids SET name = $1, kind = $2, station_id = $3, officer_id = $4, village = $5, geometry = $6, \
                         min_x = $7, min_y = $8, max_x = $9, max_y = $10, version = version + 1, updated_at = $11 WHERE id = $12",
                    )
                    .bind(&g.name)
                    .bind(&g.kind)
                    .bind(g.station_id)
                    .bind(g.officer_id)
                    .bind(&g.village)
                    .bind(&g.geometry)
                    .bind(g.bbox.0[0])
                    .bind(g.bbox.0[1])
                    .bind(g.bbox.1[0])
                    .bind(g.bbox.1[1])
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM grid_auxiliaries WHERE grid_id = $1").bind(id).execute(&mut *tx).await?;
                    updated += 1;
                    *id
                }
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO grids (code, name, kind, station_id, officer_id, village, geometry, min_x, min_y, max_x, max_y, \
                         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                    )
                    .bind(&g.code)
                    .bind(&g.name)
                    .bind(&g.kind)
                    .bind(g.station_id)
                    .bind(g.officer_id)
                    .bind(&g.village)
                    .bind(&g.geometry)
                    .bind(g.bbox.0[0])
                    .bind(g.bbox.0[1])
                    .bind(g.bbox.1[0])
                    .bind(g.bbox.1[1])
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await?;
                    created += 1;
                    id
                }
            };
            for u in &g.auxiliary_ids {
                sqlx::query("INSERT INTO grid_auxiliaries (grid_id, user_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(u)
                    .execute(&mut *tx)
                    .await?;
            }
            let digest = |v: &str| serde_json::Value::String(v.to_string());
            let ev = AuditEvent::new(
                actor_id,
                actor_name,
                "grid",
                id,
                if old.is_some() { "update" } else { "create" },
                old.as_ref().map(|o| digest(&o.3)).as_ref(),
                Some(&digest(&g.geometry)),
            );
            append_audit(&mut tx, &ev, at).await?;
        }
        tx.commit().await?;
        Ok((created, updated))
    }

    async fn grid_history(&self, grid_id: i64) -> Result<Vec<(DateTime<Utc>, String, String, String)>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT changed_at, actor_name, old_name, old_geometry FROM grid_history WHERE grid_id = $1 ORDER BY id",
        )
        .bind(grid_id)
        .fetch_all(self.r())
        .await?;
        Ok(rows.into_iter().map(|(t, a, n, g)| (from_ms(t), a, n, g)).collect())
    }

    async fn workflow_states_in_use(&self, workflow: &str) -> Result<Vec<(String, i64)>> {
        let table = match workflow {
            "task" => "tasks",
            "incident" => "incidents",
            "dispute" => "disputes",
            "hazard" => "hazards",
            _ => return Ok(vec![]),
        };
        let sql = format!("SELECT state, COUNT(*) FROM {table} GROUP BY state ORDER BY state");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(self.r()).await?)
    }

    async fn state_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as("SELECT state, COUNT(*) FROM tasks GROUP BY state ORDER BY state")
            .fetch_all(self.r())
            .await?)
    }

    async fn notifications(&self, user_id: i64, unread_only: bool, page: PageReq) -> Result<Page<Notification>> {
        let (total,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND (read_at IS NULL OR NOT $2)")
                .bind(user_id)
                .bind(unread_only)
                .fetch_one(self.r())
                .await?;
        let rows: Vec<(i64, String, Option<i64>, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, kind, task_id, message, created_at, read_at FROM notifications \
             WHERE user_id = $1 AND (read_at IS NULL OR NOT $2) ORDER BY id DESC LIMIT $3 OFFSET $4",
        )
        .bind(user_id)
        .bind(unread_only)
        .bind(page.per_page)
        .bind(page.offset())
        .fetch_all(self.r())
        .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(|(id, kind, task_id, message, created_at, read_at)| Notification {
                    id,
                    kind,
                    task_id,
                    message,
                    created_at: from_ms(created_at),
                    read: read_at.is_some(),
                })
                .collect(),
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    async fn unread_count(&self, user_id: i64) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
            .bind(user_id)
            .fetch_one(self.r())
            .await?;
        Ok(n)
    }

    async fn mark_read(&self, user_id: i64, id: Option<i64>, now: DateTime<Utc>) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL AND ($3 IS NULL OR id = $3)",
        )
        .bind(ms(now))
        .bind(user_id)
        .bind(id)
        .execute(self.w())
        .await?;
        Ok(r.rows_affected())
    }

    async fn audit(&self, ev: &AuditEvent, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.w().begin().await?;
        append_audit(&mut tx, ev, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_page(&self, object_type: Option<&str>, page: PageReq) -> Result<Page<AuditRecord>> {
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE ($1 IS NULL OR object_type = $1)")
            .bind(object_type)
            .fetch_one(self.r())
            .await?;
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, at_ms, actor_id, actor, object_type, object_id, action, before_digest, after_digest, prev_hash, hash \
             FROM audit_log WHERE ($1 IS NULL OR object_type = $1) ORDER BY seq DESC LIMIT $2 OFFSET $3",
        )
        .bind(object_type)
        .bind(page.per_page)
        .bind(page.offset())
        .fetch_all(self.r())
        .await?;
        Ok(Page { items: rows.into_iter().map(Into::into).collect(), total, page: page.page, per_page: page.per_page })
    }

    async fn verify_audit(&self) -> Result<ChainStatus> {
        // The head first: records appended while the chain is walked (a live
        // system) lie beyond it and are left for the next check. A record and
        // the head move in one transaction, so every record up to the head
        // read here is committed.
        let (seq, hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(self.r()).await?;
        let mut v = Verifier::default();
        let mut after = 0i64;
        loop {
            let rows: Vec<AuditRow> = sqlx::query_as(
                "SELECT seq, at_ms, actor_id, actor, object_type, object_id, action, before_digest, after_digest, prev_hash, hash \
                 FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 5000",
            )
            .bind(after)
            .bind(seq)
            .fetch_all(self.r())
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in rows {
                let rec = AuditRecord::from(r);
                after = rec.seq;
                if let Err(e) = v.push(&rec) {
                    return Ok(ChainStatus::Broken(e));
                }
            }
        }
        Ok(match v.finish(seq, &hash) {
            Ok(records) => ChainStatus::Intact { records },
            Err(e) => ChainStatus::Broken(e),
        })
    }
}
