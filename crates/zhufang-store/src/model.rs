//! Records as the store returns them. Times are UTC.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use zhufang_domain::Role;
use zhufang_domain::task::Clock;

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

pub fn opt_from_ms(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.map(from_ms)
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OrgUnit {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// bureau, branch, station, district, agency
    pub kind: String,
    pub parent_id: Option<i64>,
    /// `/1/2/5/`: ids from the root, used for subtree checks.
    pub path: String,
}

impl OrgUnit {
    /// Whether `other_path` lies in this unit's subtree (itself included).
    pub fn contains_path(&self, other_path: &str) -> bool {
        other_path.starts_with(&self.path)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// Never serialised: callers show [`User::phone_masked`] unless allowed.
    #[serde(skip)]
    pub phone: Option<String>,
    pub org_unit_id: i64,
    pub org_code: String,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub roles: Vec<Role>,
    pub active: bool,
    pub must_change_password: bool,
}

impl User {
    pub fn has(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }
    pub fn phone_masked(&self) -> Option<String> {
        self.phone.as_deref().map(zhufang_domain::types::mask_phone)
    }
    /// Whether this user may see things recorded under `path`.
    pub fn covers(&self, path: &str) -> bool {
        path.starts_with(&self.org_path)
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub org_unit_id: i64,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
}

/// A session to create; the token itself is never stored, only its hash.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    /// `cookie` (login page) or `api` (POST /api/v1/session).
    pub kind: String,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub csrf_token: String,
    pub kind: String,
    pub expires_at: DateTime<Utc>,
    /// The last request seen with it (written at most once a minute).
    pub last_seen_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CatalogueItem {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub category: String,
    pub guideline: String,
    pub default_role: String,
    pub accept_hours: i64,
    pub finish_workdays: i64,
    pub active: bool,
    /// Which duty the item is, for the duty map's coverage: `patrol`, `visit` or empty.
    pub activity: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub description: String,
    pub catalogue_code: String,
    pub catalogue_name: String,
    pub org_unit_id: i64,
    pub org_code: String,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub state: String,
    pub creator_id: Option<i64>,
    pub dispatcher_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub assignee: Option<String>,
    pub assignee_name: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// The grid the location fell in at write time (None: no location, or outside every grid).
    pub grid_id: Option<i64>,
    pub grid_code: Option<String>,
    pub grid_name: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub clock_started_at: Option<DateTime<Utc>>,
    pub due_soon_at: Option<DateTime<Utc>>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub rework_count: i64,
    pub refuse_count: i64,
    pub score: Option<i64>,
    pub eval_comment: Option<String>,
    pub feedback_text: Option<String>,
    pub feedback_lat: Option<f64>,
    pub feedback_lon: Option<f64>,
    /// What a patrol or visit found: places or households visited, problems.
    pub report: Option<zhufang_domain::task::FieldReport>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub feedback_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl Task {
    pub fn clock(&self) -> Option<Clock> {
        match (self.clock_started_at, self.deadline_at) {
            (Some(started_at), Some(deadline_at)) => Some(Clock { started_at, deadline_at }),
            _ => None,
        }
    }
}

/// A grid as stored. `geometry` is GeoJSON (WGS-84).
#[derive(Debug, Clone, Serialize)]
pub struct GridRecord {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub station_id: i64,
    pub station_code: String,
    pub station_name: String,
    #[serde(skip)]
    pub station_path: String,
    pub officer: Option<String>,
    pub officer_name: Option<String>,
    pub auxiliaries: Vec<String>,
    pub village: Option<String>,
    #[serde(skip)]
    pub geometry: String,
    pub version: i64,
}

/// A resumable background job and its progress.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub name: String,
    /// pending, running or done
    pub state: String,
    #[serde(skip)]
    pub cursor_id: i64,
    pub total: i64,
    pub done: i64,
    /// Items whose result changed (e.g. tasks moved to another grid).
    pub changed: i64,
    pub requested_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One batch of a re-routing job.
#[derive(Debug, Clone, Default)]
pub struct RerouteBatch {
    /// The located items whose grid or station changed.
    pub moves: Vec<RerouteMove>,
    /// The last map item id looked at.
    pub cursor: i64,
    /// How many items the batch looked at.
    pub seen: i64,
    pub total: i64,
}

/// A located item's new routing: `grid_id` None = outside every grid, and
/// then `station_id` is the nearest station's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RerouteMove {
    pub id: i64,
    pub grid_id: Option<i64>,
    pub station_id: Option<i64>,
}

/// A located item as the re-routing job reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedRow {
    pub id: i64,
    pub kind: String,
    pub item_id: i64,
    pub lat_e7: i64,
    pub lon_e7: i64,
    pub grid_id: Option<i64>,
    pub station_id: Option<i64>,
}

/// Which located items a map request covers. Coordinates in 1e-7 degrees.
#[derive(Debug, Clone, Default)]
pub struct MapQuery {
    /// Org subtree the caller may see (None = everything).
    pub scope_path: Option<String>,
    /// Item kinds (`task`, later `incident`, …); empty = none.
    pub kinds: Vec<String>,
    /// (min lon, min lat, max lon, max lat)
    pub bbox: Option<[i64; 4]>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub open_only: bool,
    pub category: Option<String>,
    pub grid_id: Option<i64>,
}

/// One located item on the map.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MapPoint {
    pub kind: String,
    pub item_id: i64,
    pub label: String,
    pub category: String,
    pub state: String,
    pub lat_e7: i64,
    pub lon_e7: i64,
    pub grid_id: Option<i64>,
    pub station_id: Option<i64>,
    pub occurred_at: DateTime<Utc>,
}

/// Items of one kind falling in one square cell of a cluster grid.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MapCell {
    pub kind: String,
    pub cx: i64,
    pub cy: i64,
    pub count: i64,
    /// Mean position of the items in the cell.
    pub lat_e7: i64,
    pub lon_e7: i64,
    /// For a cell of one item: that item.
    pub item_id: i64,
    pub label: String,
    pub category: String,
}

/// Figures of one kind of item in one grid.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct GridFigures {
    pub grid_id: i64,
    pub kind: String,
    pub open: i64,
    pub overdue: i64,
    /// Items that occurred in the period.
    pub in_period: i64,
    /// Items done (handled, fed back) in the period.
    pub done_in_period: i64,
    /// Patrols and visits done in the period.
    pub duty_done: i64,
}

/// A grid to create or replace (by code) in an import.
#[derive(Debug, Clone)]
pub struct NewGrid {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub station_id: i64,
    pub officer_id: Option<i64>,
    pub auxiliary_ids: Vec<i64>,
    pub village: Option<String>,
    pub geometry: String,
    /// Bounding box in 1e-7 degrees: (min x, min y), (max x, max y).
    pub bbox: ([i64; 2], [i64; 2]),
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: Option<String>,
    pub data: serde_json::Value,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub task_id: i64,
    pub event_id: Option<i64>,
    #[serde(skip)]
    pub stored_name: String,
    pub original_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

/// A file already written under the data directory, to be linked to a task event.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub stored_name: String,
    pub original_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub task_id: Option<i64>,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: i64,
    pub kind: String,
    pub task_id: Option<i64>,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct NewTask {
    pub title: String,
    pub description: String,
    pub catalogue_code: String,
    pub org_unit_id: i64,
    pub org_path: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub grid_id: Option<i64>,
    /// The routed station: the grid's, or the nearest one's when outside every grid.
    pub station_id: Option<i64>,
    pub due_at: Option<DateTime<Utc>>,
    pub creator_id: i64,
    pub creator_name: String,
    pub now: DateTime<Utc>,
}

/// Filters of the task ledger. `scope_path` limits to an org subtree;
/// `partner_user` (for partner agencies) limits to tasks handed to that user.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub scope_path: Option<String>,
    pub partner_user: Option<i64>,
    pub state: Option<String>,
    pub states: Vec<String>,
    pub org_path: Option<String>,
    pub assignee_id: Option<i64>,
    pub catalogue_code: Option<String>,
    pub overdue_at: Option<DateTime<Utc>>,
    pub due_soon_at: Option<DateTime<Utc>>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct PageReq {
    pub page: i64,
    pub per_page: i64,
}

impl PageReq {
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Self {
        Self { page: page.unwrap_or(1).max(1), per_page: per_page.unwrap_or(20).clamp(1, 500) }
    }
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// A decided transition, ready to apply atomically.
#[derive(Debug, Clone)]
pub struct TransitionWrite {
    pub task_id: i64,
    pub expected_version: i64,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub actor_id: i64,
    pub actor_name: String,
    pub now: DateTime<Utc>,
    pub note: Option<String>,
    /// `Some(x)` sets the assignee to x (None inside clears it); `None` leaves it.
    pub assignee: Option<Option<i64>>,
    pub set_dispatcher: bool,
    pub clock: Option<Clock>,
    pub count_rework: bool,
    pub score: Option<i64>,
    pub feedback: Option<(String, Option<(f64, f64)>)>,
    /// The structured part of a patrol's or visit's feedback.
    pub report: Option<zhufang_domain::task::FieldReport>,
    pub attachments: Vec<NewAttachment>,
    pub closes: bool,
    pub notifications: Vec<NewNotification>,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskCounts {
    pub open: i64,
    pub due_soon: i64,
    pub overdue: i64,
    pub to_evaluate: i64,
}

/// One entry of the incident type dictionary (类别/类型/细类/子类).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IncidentType {
    pub code: String,
    pub parent_code: Option<String>,
    pub level: i64,
    pub name: String,
    /// The English name ("" when none: the Chinese one is shown).
    #[serde(default)]
    pub name_en: String,
    /// The usual decision: a police matter or not.
    pub police: bool,
    /// A dispute: repeat calls link over the longer window.
    pub dispute: bool,
    pub active: bool,
}

/// Time limits of a hand-over for the types under a code prefix (the
/// longest matching prefix applies; `""` is the default row).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IncidentLimit {
    pub type_prefix: String,
    pub label: String,
    pub sign_for_hours: i64,
    pub done_workdays: i64,
}

/// An incident (警情). The caller's name and phone are never serialised
/// whole: `caller_name_masked` and `caller_phone_masked` are; the full values
/// are read through an audited call.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub id: i64,
    pub number: String,
    pub channel: String,
    pub received_at: DateTime<Utc>,
    #[serde(skip)]
    pub caller_name: Option<String>,
    pub caller_name_masked: Option<String>,
    #[serde(skip)]
    pub caller_phone: Option<String>,
    pub caller_phone_masked: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: String,
    pub grid_id: Option<i64>,
    pub grid_code: Option<String>,
    pub grid_name: Option<String>,
    pub station_id: i64,
    pub station_code: String,
    pub station_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub description: String,
    pub type_code: Option<String>,
    pub type_name: Option<String>,
    /// The type's English name, when it has one.
    pub type_name_en: Option<String>,
    pub severity: i64,
    /// None until triaged.
    pub police: Option<bool>,
    pub state: String,
    pub assignee_id: Option<i64>,
    pub assignee: Option<String>,
    pub assignee_name: Option<String>,
    pub agency_id: Option<i64>,
    pub agency_code: Option<String>,
    pub agency_name: Option<String>,
    #[serde(skip)]
    pub agency_path: Option<String>,
    pub result: Option<String>,
    pub rating: Option<i64>,
    pub repeat_of: Option<i64>,
    /// The triage suggestion at intake (police or not, department, confidence, reasons).
    pub triage: serde_json::Value,
    pub creator_id: Option<i64>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub handled_at: Option<DateTime<Utc>>,
    pub diverted_at: Option<DateTime<Utc>>,
    pub signed_for_at: Option<DateTime<Utc>>,
    pub agency_done_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// A diverted matter: the agency signs for it by this time…
    pub sign_due_at: Option<DateTime<Utc>>,
    /// …and finishes it by this one (working days).
    pub done_due_at: Option<DateTime<Utc>>,
    /// When the command room was told the agency is late.
    pub escalated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A new incident, parsed and routed.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub channel: String,
    pub received_at: DateTime<Utc>,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: String,
    pub grid_id: Option<i64>,
    pub station_id: i64,
    pub org_path: String,
    pub description: String,
    pub type_code: Option<String>,
    pub severity: i64,
    pub repeat_of: Option<i64>,
    pub triage: serde_json::Value,
    /// The sender's id for an incident sent in by an external system (org code + ":" + its id).
    pub external_id: Option<String>,
    /// None for an import from the command line.
    pub creator_id: Option<i64>,
    pub creator_name: String,
    pub now: DateTime<Utc>,
}

/// One step of an incident, decided by the service, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct IncidentWrite {
    pub incident_id: i64,
    pub expected_version: i64,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub actor_id: i64,
    pub actor_name: String,
    pub now: DateTime<Utc>,
    pub note: Option<String>,
    /// `Some(x)` sets the assignee to x; `None` leaves it.
    pub assignee: Option<Option<i64>>,
    pub agency_id: Option<i64>,
    pub police: Option<bool>,
    pub type_code: Option<String>,
    pub severity: Option<i64>,
    pub result: Option<String>,
    pub rating: Option<i64>,
    /// The new state is terminal.
    pub closes: bool,
    pub data: serde_json::Value,
    /// Messages to external systems, written with the change.
    pub outbox: Vec<NewOutboxMessage>,
    /// New time limits for the agency (sign for by, finish by); clears an earlier escalation.
    pub due: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Inbox entries to write with the change (the agency on a hand-over, the command room on a return).
    pub notifications: Vec<NewNotification>,
    /// The officer's answer where it differs from the triage model's: (label, police, suggested, model version).
    pub correction: Option<(String, bool, String, String)>,
}

/// Filters of the incident list. `scope_path` limits to a station subtree;
/// `agency_path` (for partner agencies) to what was diverted to them.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub scope_path: Option<String>,
    pub agency_path: Option<String>,
    pub state: Option<String>,
    pub channel: Option<String>,
    pub police: Option<bool>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub q: Option<String>,
    /// Only matters handed over to an agency (the hand-over inbox).
    pub handed_over: bool,
    /// Only hand-overs late at this time: not signed for by the sign-for
    /// limit, or signed for and not done by the finish limit.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Most urgent limit first (the inbox) instead of newest first.
    pub sort_due: bool,
    /// Only those the officer was sent to.
    pub assignee_id: Option<i64>,
    /// Only these states (with `state`, both apply).
    pub states: Vec<String>,
    /// Only types under this dictionary code (a class takes all its types).
    pub type_prefix: Option<String>,
    pub severity: Option<i64>,
    /// Only this station's subtree (within the visibility above).
    pub station_path: Option<String>,
}

/// One step in the timeline of an incident, a dispute or a hazard (each
/// kind has its own `*_events` table of this shape).
#[derive(Debug, Clone, Serialize)]
pub struct SubjectEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_name: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: Option<String>,
    pub data: serde_json::Value,
}

/// One step in an incident's timeline.
pub type IncidentEvent = SubjectEvent;

/// An address used at intake before, with its latest point (地址联想).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KnownAddress {
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    /// How many incidents gave this address.
    pub uses: i64,
}

/// A historical incident from an import: a new incident with its number,
/// its final state and its step times as they happened.
#[derive(Debug, Clone)]
pub struct ImportedIncident {
    pub number: String,
    pub incident: NewIncident,
    pub state: String,
    /// The state is terminal (closed or invalid).
    pub closes: bool,
    pub police: Option<bool>,
    pub result: Option<String>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub handled_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// A diverted matter: the agency and its steps, and the 回访 rating.
    pub agency_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub diverted_at: Option<DateTime<Utc>>,
    pub signed_for_at: Option<DateTime<Utc>>,
    pub agency_done_at: Option<DateTime<Utc>>,
    pub rating: Option<i64>,
    /// The hand-over's limits (sign for by, finish by).
    pub sign_due_at: Option<DateTime<Utc>>,
    pub done_due_at: Option<DateTime<Utc>>,
}

/// A message waiting to be delivered to an external system.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub topic: String,
    /// The receiver's idempotency key.
    pub key: String,
    pub payload: serde_json::Value,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// A message to write in the same transaction as a change.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxMessage {
    pub topic: String,
    pub key: String,
    pub payload: serde_json::Value,
}

/// A dispute (矛盾纠纷) in the ledger. Parties come separately
/// ([`DisputeParty`]); phones never serialise whole.
#[derive(Debug, Clone, Serialize)]
pub struct Dispute {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub description: String,
    pub category_code: String,
    pub category_name: String,
    /// How it was found (`zhufang_domain::dispute::Source`).
    pub source: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: String,
    pub grid_id: Option<i64>,
    pub grid_name: Option<String>,
    pub station_id: i64,
    pub station_code: String,
    pub station_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub people_involved: i64,
    /// Money at stake, yuan.
    pub amount: i64,
    /// A, B or C once accepted.
    pub class: Option<String>,
    /// 1 村(社区), 2 乡镇(街道), 3 县(区).
    pub level: i64,
    /// The body answering for it at that level (None: the station's own).
    pub level_org_id: Option<i64>,
    pub level_org_code: Option<String>,
    pub level_org_name: Option<String>,
    #[serde(skip)]
    pub level_org_path: Option<String>,
    /// blue, yellow, orange or red.
    pub colour: String,
    /// The colour rules that fired, highest first.
    pub fired_rules: serde_json::Value,
    pub state: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub creator_id: Option<i64>,
    /// The incident it came from, if any.
    pub incident_id: Option<i64>,
    pub failed_mediations: i64,
    pub relapses: i64,
    pub accepted_at: Option<DateTime<Utc>>,
    pub settled_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A party: 申请人 or 被申请人; a natural person, legal person or other organisation.
#[derive(Debug, Clone, Serialize)]
pub struct DisputeParty {
    pub id: i64,
    pub side: String,
    pub kind: String,
    #[serde(skip)]
    pub name: String,
    /// A natural person's name masked (张*三); an organisation's as it is.
    pub name_masked: String,
    #[serde(skip)]
    pub phone: Option<String>,
    pub phone_masked: Option<String>,
    /// Only where the deployment keeps ID numbers.
    #[serde(skip)]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number_masked: Option<String>,
}

/// A party as parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewParty {
    pub side: String,
    pub kind: String,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// A new dispute, parsed, routed and coloured.
#[derive(Debug, Clone)]
pub struct NewDispute {
    pub title: String,
    pub description: String,
    pub category_code: String,
    pub source: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: String,
    pub grid_id: Option<i64>,
    pub station_id: i64,
    pub org_path: String,
    pub people_involved: i64,
    pub amount: i64,
    pub parties: Vec<NewParty>,
    pub incident_id: Option<i64>,
    pub colour: String,
    pub fired_rules: serde_json::Value,
    /// Told at once (the station's leaders, for an orange or red one).
    pub notify_user_ids: Vec<i64>,
    pub creator_id: i64,
    pub creator_name: String,
    pub now: DateTime<Utc>,
}

/// A mediation session (调解记录).
#[derive(Debug, Clone, Serialize)]
pub struct DisputeSession {
    pub id: i64,
    pub held_at: DateTime<Utc>,
    pub mediators: String,
    pub place: String,
    /// settled, partial, failed or adjourned.
    pub outcome: String,
    pub agreement: String,
    pub created_by_name: String,
    /// The agreement's files (scan or PDF): (id, original name).
    pub files: Vec<(i64, String)>,
}

/// A session as parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewMediation {
    pub held_at: DateTime<Utc>,
    pub mediators: String,
    pub place: String,
    pub outcome: String,
    pub agreement: String,
}

/// An escalation to the next level, and its sign-for by the receiving body.
#[derive(Debug, Clone, Serialize)]
pub struct DisputeEscalation {
    pub id: i64,
    pub from_level: i64,
    pub to_level: i64,
    pub to_org_id: Option<i64>,
    pub to_org_name: Option<String>,
    pub reason: String,
    pub by_name: String,
    pub at: DateTime<Utc>,
    pub signed_by_name: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
}

/// One step of a dispute, decided by the service, written in one transaction
/// with its event, audit record, map item and notifications.
#[derive(Debug, Clone, Default)]
pub struct DisputeWrite {
    pub dispute_id: i64,
    pub expected_version: i64,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub actor_id: i64,
    pub actor_name: String,
    pub now: DateTime<Utc>,
    pub note: Option<String>,
    pub class: Option<String>,
    /// Escalation: (new level, receiving body); recorded for sign-for.
    pub escalate_to: Option<(i64, Option<i64>)>,
    /// The level set by the class at acceptance (no hand-over to sign for).
    pub set_level: Option<i64>,
    /// A session recorded with the step.
    pub session: Option<NewMediation>,
    /// Its agreement's files, already written under uploads.
    pub session_files: Vec<NewAttachment>,
    pub failed: bool,
    pub relapse: bool,
    pub accepted: bool,
    pub settled: bool,
    pub closes: bool,
    /// Signs for the open escalation (the receiving body).
    pub sign_escalation: bool,
    /// An incident to link.
    pub link_incident: Option<i64>,
    /// Facts that changed (people involved, amount).
    pub people_involved: Option<i64>,
    pub amount: Option<i64>,
    pub notifications: Vec<NewNotification>,
}

/// Filters of the dispute ledger. `scope_path` limits to a station subtree;
/// `level_org_path` (for partner agencies) to what was escalated to them.
#[derive(Debug, Clone, Default)]
pub struct DisputeFilter {
    pub scope_path: Option<String>,
    pub level_org_path: Option<String>,
    pub state: Option<String>,
    pub colour: Option<String>,
    pub category: Option<String>,
    pub class: Option<String>,
    pub level: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub q: Option<String>,
    /// The warning board: red and orange, open, oldest first.
    pub board: bool,
}

/// One step in a dispute's timeline.
pub type DisputeEvent = SubjectEvent;

/// A dispute category (17 named + 其他, editable).
#[derive(Debug, Clone, Serialize)]
pub struct DisputeCategory {
    pub code: String,
    pub name: String,
    pub active: bool,
}

/// An ABC class and its definition (editable).
#[derive(Debug, Clone, Serialize)]
pub struct DisputeClass {
    pub code: String,
    pub label: String,
    pub definition: String,
    /// Days to settle (for the on-time rate).
    pub limit_days: i64,
}

/// One dispute as the figures group it.
#[derive(Debug, Clone)]
pub struct DisputeStatRow {
    pub station_id: i64,
    pub station_name: String,
    pub grid_id: Option<i64>,
    pub grid_name: Option<String>,
    pub category_code: String,
    pub category_name: String,
    pub colour: String,
    pub class: Option<String>,
    pub stat: zhufang_domain::dispute::Stat,
}

/// What to look for when counting the incidents that bear on a dispute.
#[derive(Debug, Clone, Default)]
pub struct DisputeIncidentQuery {
    /// Incidents linked to this dispute (once registered).
    pub dispute_id: Option<i64>,
    /// More incidents to count (being linked now).
    pub incident_ids: Vec<i64>,
    /// The parties' phones.
    pub phones: Vec<String>,
    /// Its place and the radius for dispute-type incidents.
    pub near: Option<(f64, f64, f64)>,
}

/// One item of a key dispute's checklist (一张清单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ChecklistItem {
    pub item: String,
    #[serde(default)]
    pub done: bool,
}

/// 四个一 of a key dispute: its plan, responsible people and checklist (the
/// notice is the fourth).
#[derive(Debug, Clone, Serialize)]
pub struct DisputePlan {
    pub plan: String,
    pub responsible: String,
    pub checklist: Vec<ChecklistItem>,
    pub updated_by_name: String,
    pub updated_at: DateTime<Utc>,
}

/// A recipient body of a notice and its sign-for.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeRecipient {
    pub org_id: i64,
    pub org_code: String,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub signed_at: Option<DateTime<Utc>>,
    pub signed_by_name: Option<String>,
    pub reply: Option<String>,
}

/// A warning notice (重大矛盾纠纷预警提示函) as issued.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub id: i64,
    pub dispute_id: i64,
    pub dispute_number: String,
    pub dispute_title: String,
    #[serde(skip)]
    pub dispute_org_path: String,
    pub number: String,
    pub issuer: String,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub requested_actions: String,
    pub deadline_at: DateTime<Utc>,
    pub issued_by_name: String,
    pub issued_at: DateTime<Utc>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub recipients: Vec<NoticeRecipient>,
}

/// A notice to issue: filled in from the template (the store numbers it).
#[derive(Debug, Clone)]
pub struct NewNotice {
    pub dispute_id: i64,
    pub year: i32,
    pub number_prefix: String,
    pub issuer: String,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub requested_actions: String,
    pub deadline_at: DateTime<Utc>,
    pub recipient_org_ids: Vec<i64>,
    pub issued_by: i64,
    pub issued_by_name: String,
    pub now: DateTime<Utc>,
    /// The recipients' people, told to sign for it.
    pub notify_user_ids: Vec<i64>,
}

/// Which notices: those of a station subtree's disputes, or those sent to a body.
#[derive(Debug, Clone, Default)]
pub struct NoticeFilter {
    pub scope_path: Option<String>,
    pub recipient_path: Option<String>,
    pub dispute_id: Option<i64>,
    /// Only those with a recipient yet to sign.
    pub unsigned: bool,
    /// Part of the notice's number, or of its dispute's number or title.
    pub q: Option<String>,
}

/// A stored file of a dispute (for download).
#[derive(Debug, Clone)]
pub struct DisputeFile {
    pub id: i64,
    pub dispute_id: i64,
    pub stored_name: String,
    pub original_name: String,
    pub content_type: String,
}

/// A duty template (八个一 and others): what recurs, for whom, by which rule.
#[derive(Debug, Clone, Serialize)]
pub struct DutyTemplate {
    pub id: i64,
    pub name: String,
    pub catalogue_code: String,
    pub catalogue_name: String,
    /// Everyone with this role in each station of the scope (when no person is named).
    pub role: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub org_id: i64,
    pub org_code: String,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    /// An RRULE without DTSTART (e.g. `FREQ=WEEKLY;BYDAY=MO`).
    pub rrule: String,
    pub start_day: chrono::NaiveDate,
    /// Local time of day, `HH:MM`.
    pub at_time: String,
    /// keep, skip, next or previous.
    pub holiday: String,
    pub active: bool,
    pub seeded: bool,
    pub version: i64,
}

/// A template to create or change (checked by the service).
#[derive(Debug, Clone)]
pub struct DutyTemplateWrite {
    /// None: a new one.
    pub id: Option<i64>,
    pub expected_version: Option<i64>,
    pub name: String,
    pub catalogue_code: String,
    pub role: Option<String>,
    pub assignee_id: Option<i64>,
    pub org_id: i64,
    pub rrule: String,
    pub start_day: chrono::NaiveDate,
    pub at_time: String,
    pub holiday: String,
    pub active: bool,
    pub seeded: bool,
    pub now: DateTime<Utc>,
}

/// One entry of a person's duty calendar (.ics and the calendar page).
#[derive(Debug, Clone, Serialize)]
pub struct CalendarEntry {
    pub task_id: i64,
    pub number: String,
    pub title: String,
    pub state: String,
    pub assignee_name: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    /// For a duty: the day it happens and its local time (`HH:MM`).
    pub duty_day: Option<chrono::NaiveDate>,
    pub at_time: Option<String>,
}

/// Whose calendar: one person's tasks, or every task in an org subtree.
#[derive(Debug, Clone)]
pub enum CalendarScope {
    Person(i64),
    Unit(String),
}

/// One scheduled duty as the completion figures group it.
#[derive(Debug, Clone)]
pub struct DutyStat {
    pub template_id: i64,
    pub template_name: String,
    pub station_id: i64,
    pub station_name: String,
    pub user_id: i64,
    pub user_name: String,
    pub due_at: i64,
    pub done_at: Option<i64>,
}

/// The outcome of claiming a duty occurrence for the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DutyClaim {
    /// This run makes its task (newly claimed, or a claim abandoned by a crashed run).
    Mine,
    /// Its task exists.
    Done(i64),
    /// Another run is making it right now.
    Busy,
}

/// A hazard type (溺水水域, 建筑工地, …; editable) with its base severity.
#[derive(Debug, Clone, Serialize)]
pub struct HazardType {
    pub code: String,
    pub name: String,
    /// 1–5, where the score's severity starts.
    pub base_severity: i64,
    pub active: bool,
}

/// A hazard in the register (除隐患).
#[derive(Debug, Clone, Serialize)]
pub struct Hazard {
    pub id: i64,
    pub number: String,
    pub type_code: String,
    pub type_name: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: String,
    pub grid_id: Option<i64>,
    pub grid_name: Option<String>,
    pub station_id: i64,
    pub station_code: String,
    pub station_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub near_school: bool,
    pub people_affected: i64,
    /// The finder's judgement of how likely harm is (1–5).
    pub likelihood: i64,
    /// severity × likelihood × exposure (1–125).
    pub risk_score: i64,
    /// The score's parts and the factors that made it.
    pub risk: serde_json::Value,
    pub state: String,
    /// The body that rectifies it (a station or a partner agency).
    pub responsible_org_id: Option<i64>,
    pub responsible_org_code: Option<String>,
    pub responsible_org_name: Option<String>,
    #[serde(skip)]
    pub responsible_org_path: Option<String>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub found_by_id: Option<i64>,
    pub found_by_name: String,
    /// The patrol or visit it was found on.
    pub source_task_id: Option<i64>,
    pub failed_rechecks: i64,
    pub assigned_at: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub rectified_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A hazard to register (parsed, routed and scored by the service).
#[derive(Debug, Clone)]
pub struct NewHazard {
    pub type_code: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: String,
    pub grid_id: Option<i64>,
    pub station_id: i64,
    pub org_path: String,
    pub near_school: bool,
    pub people_affected: i64,
    pub likelihood: i64,
    pub risk_score: i64,
    pub risk: serde_json::Value,
    pub source_task_id: Option<i64>,
    /// Photos as found, already written under uploads.
    pub photos: Vec<NewAttachment>,
    pub found_by_id: i64,
    pub found_by_name: String,
    /// The station's leaders, told of a major hazard.
    pub notifications: Vec<NewNotification>,
    pub now: DateTime<Utc>,
}

/// One step of a hazard, decided by the service.
#[derive(Debug, Clone, Default)]
pub struct HazardWrite {
    pub hazard_id: i64,
    pub expected_version: i64,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub actor_id: i64,
    pub actor_name: String,
    pub now: DateTime<Utc>,
    pub note: Option<String>,
    /// Assign: the responsible body.
    pub responsible_org_id: Option<i64>,
    /// Assign or extend: the rectification deadline.
    pub deadline_at: Option<DateTime<Utc>>,
    /// Photos with the step: (before | after, file).
    pub photos: Vec<(String, NewAttachment)>,
    pub failed_recheck: bool,
    pub risk_score: i64,
    pub risk: serde_json::Value,
    pub notifications: Vec<NewNotification>,
}

/// Filters of the register; `scope_path` limits to a station subtree,
/// `responsible_path` (for partner agencies) to what they answer for.
#[derive(Debug, Clone, Default)]
pub struct HazardFilter {
    pub scope_path: Option<String>,
    pub responsible_path: Option<String>,
    pub state: Option<String>,
    pub type_code: Option<String>,
    pub station_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub q: Option<String>,
    /// Not yet rectified and past the deadline at this time.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Not closed.
    pub open_only: bool,
    /// Only these types (campaigns).
    pub type_codes: Vec<String>,
}

/// One step in a hazard's timeline.
pub type HazardEvent = SubjectEvent;

/// A photo of a hazard, before or after rectification.
#[derive(Debug, Clone, Serialize)]
pub struct HazardFile {
    pub id: i64,
    pub hazard_id: i64,
    /// before | after.
    pub phase: String,
    #[serde(skip)]
    pub stored_name: String,
    pub original_name: String,
    pub content_type: String,
    pub created_at: DateTime<Utc>,
}

/// One hazard as the figures group it.
#[derive(Debug, Clone)]
pub struct HazardStatRow {
    pub station_id: i64,
    pub station_name: String,
    pub grid_id: Option<i64>,
    pub grid_name: Option<String>,
    pub type_code: String,
    pub type_name: String,
    pub stat: zhufang_domain::hazard::Stat,
}

/// A seasonal campaign (专项行动): check tasks for every hazard of its types in scope.
#[derive(Debug, Clone, Serialize)]
pub struct HazardCampaign {
    pub id: i64,
    pub name: String,
    pub type_codes: Vec<String>,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub starts_on: chrono::NaiveDate,
    pub ends_on: chrono::NaiveDate,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
}

/// A campaign to record with its checks (hazard id, task id).
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub type_codes: Vec<String>,
    pub org_id: i64,
    pub org_path: String,
    pub starts_on: chrono::NaiveDate,
    pub ends_on: chrono::NaiveDate,
    pub by_id: i64,
    pub by_name: String,
    pub now: DateTime<Utc>,
}

/// One check of a campaign: the hazard and its task's state.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignCheck {
    pub hazard_id: i64,
    pub hazard_number: String,
    pub hazard_state: String,
    pub task_id: i64,
    pub task_number: String,
    pub task_state: String,
    pub assignee_name: Option<String>,
    pub feedback_at: Option<DateTime<Utc>>,
}

/// A problem found on a patrol or visit, and what it became.
#[derive(Debug, Clone, Serialize)]
pub struct TaskProblem {
    pub idx: i64,
    pub text: String,
    /// hazard | dispute, once converted.
    pub kind: Option<String>,
    pub target_id: Option<i64>,
}
