//! 群防群治: the volunteer roster, posts (护学岗 and others), shifts,
//! sign-ups and attendance — who may do what, every field checked, personal
//! data masked by default (full name and phone only through an audited
//! read), purging a volunteer's data on request, and the figures per station.
//!
//! Volunteers have no accounts: station staff keep the roster and sign
//! volunteers up; the post's officer marks attendance.

use crate::model::{Page, PageReq, User};
use crate::service::{FieldError, ServiceError, grid_scope};
use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use zhufang_domain::Role;
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::calendar::WorkCalendar;
use zhufang_domain::types::{mask_name, mask_phone};
use zhufang_domain::volunteer::{
    self as vol, Attendance, PURGED_NAME, Schedule, ShiftStat, Weekdays, parse_slots, slots_text,
};

type SResult<T> = Result<T, ServiceError>;

// ---------------------------------------------------------------- records

/// A roster entry as stored. Not serialisable: the edge shows [`VolunteerOut`].
#[derive(Debug, Clone)]
pub struct Volunteer {
    pub id: i64,
    pub station_id: i64,
    pub station_name: String,
    pub org_path: String,
    pub name: String,
    pub phone: Option<String>,
    pub organisation: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub purged_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewVolunteer {
    pub station_id: i64,
    pub org_path: String,
    pub name: String,
    pub phone: Option<String>,
    pub organisation: String,
    pub created_by: Option<i64>,
    pub now: DateTime<Utc>,
}

/// A roster entry's new name, phone, organisation and standing.
#[derive(Debug, Clone)]
pub struct VolunteerChange {
    pub name: String,
    pub phone: Option<String>,
    pub organisation: String,
    pub active: bool,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct VolunteerFilter {
    pub scope_path: String,
    /// Matches the name or the organisation.
    pub text: Option<String>,
    pub organisation: Option<String>,
    /// Leave out purged and inactive entries.
    pub active_only: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct VolunteerPost {
    pub id: i64,
    pub station_id: i64,
    pub station_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub name: String,
    pub place: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub officer_id: i64,
    pub officer_name: String,
    pub officer_username: String,
    /// ISO weekdays, `1,2,3,4,5`.
    pub weekdays: String,
    /// `07:20-08:00,16:30-17:30` (Beijing time).
    pub slots: String,
    pub workdays_only: bool,
    pub capacity: i64,
    pub active: bool,
    pub version: i64,
}

impl VolunteerPost {
    pub fn schedule(&self) -> Schedule {
        Schedule {
            weekdays: Weekdays::parse(&self.weekdays).unwrap_or_default(),
            slots: parse_slots(&self.slots).unwrap_or_default(),
            workdays_only: self.workdays_only,
        }
    }
    pub fn weekdays_label(&self) -> String {
        Weekdays::parse(&self.weekdays).map(|w| w.label_zh()).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct PostWrite {
    pub id: Option<i64>,
    pub expected_version: Option<i64>,
    pub station_id: i64,
    pub org_path: String,
    pub name: String,
    pub place: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Where the point routes: the grid it falls in (None outside every
    /// grid) and that grid's station, or the nearest station's.
    pub grid_id: Option<i64>,
    pub routed_station_id: Option<i64>,
    pub officer_id: i64,
    pub weekdays: String,
    pub slots: String,
    pub workdays_only: bool,
    pub capacity: i64,
    pub active: bool,
    pub now: DateTime<Utc>,
}

/// A shift of a post: a local day and a slot.
#[derive(Debug, Clone, Serialize)]
pub struct Shift {
    pub id: i64,
    pub post_id: i64,
    pub day: NaiveDate,
    pub start_time: String,
    pub end_time: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Sign-ups so far.
    pub signed: i64,
}

#[derive(Debug, Clone)]
pub struct NewShift {
    pub day: NaiveDate,
    pub start_time: String,
    pub end_time: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// A sign-up as stored (the volunteer's full name inside; shown masked).
#[derive(Debug, Clone)]
pub struct Signup {
    pub id: i64,
    pub shift_id: i64,
    pub post_id: i64,
    pub volunteer_id: i64,
    pub volunteer_name: String,
    pub volunteer_phone: Option<String>,
    pub organisation: String,
    pub purged: bool,
    pub signed_at: DateTime<Utc>,
    pub attendance: Option<String>,
    pub marked_by_name: Option<String>,
    pub marked_at: Option<DateTime<Utc>>,
    pub starts_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewSignup {
    pub shift_id: i64,
    pub volunteer_id: i64,
    pub signed_by: i64,
    pub now: DateTime<Utc>,
}

/// What a sign-up attempt did in the store.
#[derive(Debug, Clone)]
pub enum SignupOutcome {
    Done(Signup),
    /// The shift was full.
    Full,
    /// This volunteer was already signed up.
    Duplicate,
}

/// One shift's figures as stored: its post and station, the sign-ups and attendance.
#[derive(Debug, Clone)]
pub struct ShiftStatRow {
    pub station_id: i64,
    pub post_id: i64,
    pub day: NaiveDate,
    pub start_time: String,
    pub signed: i64,
    pub present: i64,
    pub late: i64,
    pub absent: i64,
}

// ---------------------------------------------------------------- views

/// A roster entry as shown: name and phone masked.
#[derive(Debug, Clone, Serialize)]
pub struct VolunteerOut {
    pub id: i64,
    pub station_id: i64,
    pub station_name: String,
    /// `张*` (or `已删除` once purged).
    pub name: String,
    /// `138****5678`.
    pub phone: Option<String>,
    pub organisation: String,
    pub active: bool,
    pub purged: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&Volunteer> for VolunteerOut {
    fn from(v: &Volunteer) -> Self {
        let purged = v.purged_at.is_some();
        VolunteerOut {
            id: v.id,
            station_id: v.station_id,
            station_name: v.station_name.clone(),
            name: if purged { PURGED_NAME.into() } else { mask_name(&v.name) },
            phone: v.phone.as_deref().map(mask_phone),
            organisation: v.organisation.clone(),
            active: v.active,
            purged,
            created_at: v.created_at,
        }
    }
}

/// The full name and phone (an audited read).
#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub id: i64,
    pub name: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignupOut {
    pub id: i64,
    pub shift_id: i64,
    pub volunteer_id: i64,
    /// Masked.
    pub volunteer_name: String,
    pub organisation: String,
    pub purged: bool,
    pub signed_at: DateTime<Utc>,
    /// present, late, absent, or null until marked.
    pub attendance: Option<String>,
    pub marked_by: Option<String>,
    pub marked_at: Option<DateTime<Utc>>,
}

impl From<&Signup> for SignupOut {
    fn from(s: &Signup) -> Self {
        SignupOut {
            id: s.id,
            shift_id: s.shift_id,
            volunteer_id: s.volunteer_id,
            volunteer_name: if s.purged { PURGED_NAME.into() } else { mask_name(&s.volunteer_name) },
            organisation: s.organisation.clone(),
            purged: s.purged,
            signed_at: s.signed_at,
            attendance: s.attendance.clone(),
            marked_by: s.marked_by_name.clone(),
            marked_at: s.marked_at,
        }
    }
}

/// A shift with its sign-ups.
#[derive(Debug, Clone, Serialize)]
pub struct ShiftOut {
    #[serde(flatten)]
    pub shift: Shift,
    pub capacity: i64,
    pub full: bool,
    /// Started already: no more sign-ups; attendance can be marked.
    pub started: bool,
    pub signups: Vec<SignupOut>,
}

// ---------------------------------------------------------------- who may

/// Everyone of the police side sees the roster and posts of their station
/// (partner agencies do not).
pub fn may_view(user: &User) -> bool {
    user.roles.iter().any(|r| *r != Role::PartnerAgency)
}

/// Station leaders, community officers and admins keep the roster and the
/// posts, sign volunteers up and read their contact details.
pub fn may_manage(user: &User) -> bool {
    user.roles.iter().any(|r| matches!(r, Role::Admin | Role::StationLeader | Role::CommunityOfficer))
}

/// The post's own officer marks attendance, or a leader of its station, or an admin.
pub fn may_mark(user: &User, post: &VolunteerPost) -> bool {
    post.officer_id == user.id
        || user.has(Role::Admin)
        || (user.has(Role::StationLeader) && post.org_path.starts_with(&user.org_path))
}

async fn scope(store: &dyn Store, user: &User) -> SResult<String> {
    if !may_view(user) {
        return Err(ServiceError::Forbidden);
    }
    Ok(grid_scope(store, user).await?)
}

/// The station a new entry belongs to: the one named by org code, or the
/// caller's own; it must lie in the caller's scope.
async fn station_of(
    store: &dyn Store,
    user: &User,
    code: Option<&str>,
    errs: &mut Vec<FieldError>,
) -> SResult<Option<crate::model::OrgUnit>> {
    let scope = grid_scope(store, user).await?;
    let unit = match code.map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => store.org_unit_by_code(c).await?,
        None => store.org_units().await?.into_iter().find(|o| o.path == scope),
    };
    match unit {
        Some(u) if u.kind == "station" && u.path.starts_with(&scope) => Ok(Some(u)),
        Some(u) if u.kind == "station" => {
            errs.push(FieldError::new("station", "该派出所不在您的管辖范围内"));
            Ok(None)
        }
        _ => {
            errs.push(FieldError::new("station", "请选择派出所（单位编码）"));
            Ok(None)
        }
    }
}

fn audit(user: &User, object: &str, id: impl ToString, action: &str, after: Option<serde_json::Value>) -> AuditEvent {
    AuditEvent::new(Some(user.id), &user.display_name, object, id, action, None, after.as_ref())
}

// ---------------------------------------------------------------- the roster

/// A roster entry as given at the edge.
#[derive(Debug, Clone, Default)]
pub struct VolunteerInput {
    pub name: String,
    pub phone: Option<String>,
    pub organisation: String,
    /// Org code of the station; default the caller's.
    pub station: Option<String>,
}

/// A name (1–30 characters), a phone (parsed) and an organisation (1–30).
fn person_fields(
    input: &VolunteerInput,
    errs: &mut Vec<FieldError>,
) -> (String, Option<zhufang_domain::PhoneNumber>, String) {
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 30 {
        errs.push(FieldError::new("name", "姓名不能为空且不超过30字"));
    }
    let phone = match input.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(p) => match zhufang_domain::PhoneNumber::parse(p) {
            Ok(p) => Some(p),
            Err(e) => {
                errs.push(FieldError::new("phone", e.message));
                None
            }
        },
    };
    let organisation = input.organisation.trim().to_string();
    if organisation.is_empty() || organisation.chars().count() > 30 {
        errs.push(FieldError::new("organisation", "所属组织不能为空且不超过30字（如 红马甲、义警）"));
    }
    (name, phone, organisation)
}

/// Adds a volunteer to a station's roster.
pub async fn create_volunteer(
    store: &dyn Store,
    user: &User,
    input: VolunteerInput,
    now: DateTime<Utc>,
) -> SResult<VolunteerOut> {
    if !may_manage(user) {
        return Err(ServiceError::Forbidden);
    }
    let mut errs = vec![];
    let (name, phone, organisation) = person_fields(&input, &mut errs);
    let station = station_of(store, user, input.station.as_deref(), &mut errs).await?;
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let station = station.expect("checked");
    let ev = audit(
        user,
        "volunteer",
        "new",
        "create",
        // the audit record keeps digests only, and of masked values at that
        Some(serde_json::json!({"name": mask_name(&name), "phone": phone.as_ref().map(|p| p.masked()),
            "organisation": organisation, "station": station.code})),
    );
    let v = store
        .create_volunteer(
            &NewVolunteer {
                station_id: station.id,
                org_path: station.path.clone(),
                name,
                phone: phone.map(|p| p.as_str().to_string()),
                organisation,
                created_by: Some(user.id),
                now,
            },
            &ev,
        )
        .await?;
    Ok((&v).into())
}

/// The roster of the caller's station(s), masked.
pub async fn list_volunteers(
    store: &dyn Store,
    user: &User,
    text: Option<String>,
    organisation: Option<String>,
    active_only: bool,
    page: PageReq,
) -> SResult<Page<VolunteerOut>> {
    let scope_path = scope(store, user).await?;
    let f = VolunteerFilter { scope_path, text, organisation, active_only };
    let p = store.list_volunteers(&f, page).await?;
    Ok(Page { items: p.items.iter().map(Into::into).collect(), total: p.total, page: p.page, per_page: p.per_page })
}

async fn load_volunteer(store: &dyn Store, user: &User, id: i64) -> SResult<Volunteer> {
    let scope = scope(store, user).await?;
    let v = store.volunteer(id).await?.ok_or(ServiceError::NotFound)?;
    if !v.org_path.starts_with(&scope) {
        return Err(ServiceError::NotFound);
    }
    Ok(v)
}

/// The full name and phone, for those who keep the roster; the read is audited.
pub async fn reveal_contact(store: &dyn Store, user: &User, id: i64, now: DateTime<Utc>) -> SResult<Contact> {
    let v = load_volunteer(store, user, id).await?;
    if !may_manage(user) {
        return Err(ServiceError::Forbidden);
    }
    if v.purged_at.is_some() {
        return Err(ServiceError::NotFound);
    }
    store.audit(&audit(user, "volunteer", v.id, "read_personal:contact", None), now).await?;
    Ok(Contact { id: v.id, name: v.name, phone: v.phone })
}

/// What to change in a roster entry: what is None stays (an empty phone clears it).
#[derive(Debug, Clone, Default)]
pub struct VolunteerPatch {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub organisation: Option<String>,
    pub active: Option<bool>,
}

/// Corrects a roster entry (name, phone, organisation) or stands a volunteer
/// down or up again (`active`); a purged entry stays purged (409
/// `invalid_transition`). Audited with masked values.
pub async fn update_volunteer(
    store: &dyn Store,
    user: &User,
    id: i64,
    patch: VolunteerPatch,
    now: DateTime<Utc>,
) -> SResult<VolunteerOut> {
    let v = load_volunteer(store, user, id).await?;
    if !may_manage(user) {
        return Err(ServiceError::Forbidden);
    }
    if v.purged_at.is_some() {
        return Err(ServiceError::InvalidTransition { state: "purged".into(), action: "update".into() });
    }
    let input = VolunteerInput {
        name: patch.name.unwrap_or_else(|| v.name.clone()),
        phone: match patch.phone {
            Some(p) => Some(p),
            None => v.phone.clone(),
        },
        organisation: patch.organisation.unwrap_or_else(|| v.organisation.clone()),
        station: None,
    };
    let active = patch.active.unwrap_or(v.active);
    let mut errs = vec![];
    let (name, phone, organisation) = person_fields(&input, &mut errs);
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let masked = |name: &str, phone: Option<String>, org: &str, active: bool| serde_json::json!({"name": mask_name(name), "phone": phone, "organisation": org, "active": active});
    let before = masked(&v.name, v.phone.as_deref().map(zhufang_domain::types::mask_phone), &v.organisation, v.active);
    let after = masked(&name, phone.as_ref().map(|p| p.masked()), &organisation, active);
    let ev =
        AuditEvent::new(Some(user.id), &user.display_name, "volunteer", v.id, "update", Some(&before), Some(&after));
    let change = VolunteerChange { name, phone: phone.map(|p| p.as_str().to_string()), organisation, active, now };
    let v = store
        .update_volunteer(v.id, &change, &ev)
        .await?
        .ok_or(ServiceError::InvalidTransition { state: "purged".into(), action: "update".into() })?;
    Ok((&v).into())
}

/// Removes a volunteer's personal data for good: the name becomes
/// 已删除, the phone is cleared, sign-ups for shifts not yet started are
/// cancelled; past sign-ups and attendance stay, anonymous. Audited; a
/// second purge is refused (409 `invalid_transition`).
pub async fn purge(store: &dyn Store, user: &User, id: i64, now: DateTime<Utc>) -> SResult<VolunteerOut> {
    let v = load_volunteer(store, user, id).await?;
    if !may_manage(user) {
        return Err(ServiceError::Forbidden);
    }
    let refused = || ServiceError::InvalidTransition { state: "purged".into(), action: "purge".into() };
    if v.purged_at.is_some() {
        return Err(refused());
    }
    if !store.purge_volunteer(v.id, user.id, now, &audit(user, "volunteer", v.id, "purge", None)).await? {
        return Err(refused());
    }
    let v = store.volunteer(id).await?.ok_or(ServiceError::NotFound)?;
    Ok((&v).into())
}

// ---------------------------------------------------------------- posts

/// A post as given at the edge.
#[derive(Debug, Clone, Default)]
pub struct PostInput {
    pub name: String,
    pub place: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// The officer who marks attendance (username).
    pub officer: String,
    /// `1,2,3,4,5`; default Monday to Friday.
    pub weekdays: Option<String>,
    /// `07:20-08:00,16:30-17:30`.
    pub slots: String,
    pub workdays_only: Option<bool>,
    /// Volunteers wanted per shift (1–50).
    pub capacity: i64,
    /// Org code of the station; default the caller's.
    pub station: Option<String>,
    pub active: Option<bool>,
    pub version: Option<i64>,
}

/// Creates (`id` None) or changes a post; every field checked. A located
/// post is routed to its grid and shown on the map (layer `posts`).
pub async fn save_post(
    store: &dyn Store,
    router: &crate::service::GridRouter,
    user: &User,
    id: Option<i64>,
    input: PostInput,
    now: DateTime<Utc>,
) -> SResult<VolunteerPost> {
    if !may_manage(user) {
        return Err(ServiceError::Forbidden);
    }
    let before = match id {
        Some(id) => Some(load_post(store, user, id).await?),
        None => None,
    };
    let mut errs = vec![];
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 50 {
        errs.push(FieldError::new("name", "岗位名称不能为空且不超过50字"));
    }
    let place = input.place.as_deref().unwrap_or("").trim().to_string();
    if place.chars().count() > 100 {
        errs.push(FieldError::new("place", "地点不超过100字"));
    }
    match (input.lat, input.lon) {
        (Some(lat), Some(lon)) => {
            if let Err(e) = zhufang_domain::Wgs84Point::new(lat, lon) {
                errs.push(FieldError::new(e.field, e.message));
            }
        }
        (None, None) => {}
        _ => errs.push(FieldError::new("location", "经纬度须同时填写")),
    }
    let weekdays = match Weekdays::parse(input.weekdays.as_deref().unwrap_or("1,2,3,4,5")) {
        Ok(w) => w.text(),
        Err(m) => {
            errs.push(FieldError::new("weekdays", m));
            String::new()
        }
    };
    let slots = match parse_slots(&input.slots) {
        Ok(s) => slots_text(&s),
        Err(m) => {
            errs.push(FieldError::new("slots", m));
            String::new()
        }
    };
    if !(1..=50).contains(&input.capacity) {
        errs.push(FieldError::new("capacity", "每班人数须为1至50"));
    }
    let station_code = match (&input.station, &before) {
        (Some(s), _) if !s.trim().is_empty() => Some(s.clone()),
        (_, Some(b)) => store.org_unit(b.station_id).await?.map(|o| o.code),
        _ => None,
    };
    let station = station_of(store, user, station_code.as_deref(), &mut errs).await?;
    let officer = match store.user_by_username(&input.officer.trim().to_ascii_lowercase()).await? {
        Some((u, _))
            if u.active
                && station.as_ref().is_some_and(|s| u.org_path.starts_with(&s.path))
                && (u.has(Role::CommunityOfficer) || u.has(Role::StationLeader)) =>
        {
            Some(u)
        }
        _ => {
            errs.push(FieldError::new("officer", "负责民警须为本派出所在岗的社区民警或所领导（用户名）"));
            None
        }
    };
    if !errs.is_empty() {
        return Err(ServiceError::Validation(errs));
    }
    let (station, officer) = (station.expect("checked"), officer.expect("checked"));
    let routed = match (input.lat, input.lon) {
        (Some(lat), Some(lon)) => zhufang_domain::Wgs84Point::new(lat, lon).ok().and_then(|p| router.route(p)),
        _ => None,
    };
    let w = PostWrite {
        grid_id: routed.filter(|(_, inside)| *inside).map(|(r, _)| r.grid_id),
        routed_station_id: routed.map(|(r, _)| r.station_id),
        id,
        expected_version: input.version,
        station_id: station.id,
        org_path: station.path.clone(),
        name,
        place,
        lat: input.lat,
        lon: input.lon,
        officer_id: officer.id,
        weekdays,
        slots,
        workdays_only: input.workdays_only.unwrap_or(false),
        capacity: input.capacity,
        active: input.active.unwrap_or(true),
        now,
    };
    let ev = AuditEvent::new(
        Some(user.id),
        &user.display_name,
        "volunteer_post",
        id.map(|i| i.to_string()).unwrap_or_else(|| "new".into()),
        if before.is_some() { "update" } else { "create" },
        before.as_ref().and_then(|b| serde_json::to_value(b).ok()).as_ref(),
        Some(&serde_json::json!({"name": w.name, "officer": officer.username, "weekdays": w.weekdays,
            "slots": w.slots, "capacity": w.capacity, "active": w.active, "station": station.code})),
    );
    Ok(store.save_volunteer_post(&w, &ev).await?)
}

async fn load_post(store: &dyn Store, user: &User, id: i64) -> SResult<VolunteerPost> {
    let scope = scope(store, user).await?;
    let p = store.volunteer_post(id).await?.ok_or(ServiceError::NotFound)?;
    if !p.org_path.starts_with(&scope) {
        return Err(ServiceError::NotFound);
    }
    Ok(p)
}

pub async fn post(store: &dyn Store, user: &User, id: i64) -> SResult<VolunteerPost> {
    load_post(store, user, id).await
}

pub async fn list_posts(store: &dyn Store, user: &User) -> SResult<Vec<VolunteerPost>> {
    let scope = scope(store, user).await?;
    Ok(store.volunteer_posts(&scope).await?)
}

/// A window of days given at the edge: at most [`vol::MAX_WINDOW_DAYS`].
pub fn check_window(from: NaiveDate, to: NaiveDate) -> SResult<()> {
    if to < from || (to - from).num_days() > vol::MAX_WINDOW_DAYS {
        return Err(ServiceError::field("to", "时间段须在1至400天之内，且结束不早于开始"));
    }
    Ok(())
}

/// The post's shifts from `from` to `to` (local days): its schedule's
/// slots (made as rows when first asked for) and earlier shifts that still
/// have sign-ups, each with its sign-ups (masked).
pub async fn shifts(
    store: &dyn Store,
    cal: &WorkCalendar,
    user: &User,
    post_id: i64,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> SResult<(VolunteerPost, Vec<ShiftOut>)> {
    check_window(from, to)?;
    let post = load_post(store, user, post_id).await?;
    let expected = if post.active { post.schedule().shifts(from, to, cal) } else { vec![] };
    let new: Vec<NewShift> = expected
        .iter()
        .map(|s| NewShift {
            day: s.day,
            start_time: s.slot.start_text(),
            end_time: s.slot.end_text(),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
        })
        .collect();
    store.ensure_volunteer_shifts(post.id, &new, now).await?;
    let signups = store.shift_signups(post.id, from, to).await?;
    let out = store
        .volunteer_shifts(post.id, from, to)
        .await?
        .into_iter()
        .filter(|s| s.signed > 0 || new.iter().any(|n| n.day == s.day && n.start_time == s.start_time))
        .map(|s| ShiftOut {
            capacity: post.capacity,
            full: s.signed >= post.capacity,
            started: s.starts_at <= now,
            signups: signups.iter().filter(|x| x.shift_id == s.id).map(Into::into).collect(),
            shift: s,
        })
        .collect();
    Ok((post, out))
}

/// Signs a volunteer up for a shift. Refused: a full shift, one already
/// started, the same volunteer twice, an inactive or purged volunteer, or
/// one of another station.
pub async fn sign_up(
    store: &dyn Store,
    user: &User,
    shift_id: i64,
    volunteer_id: i64,
    now: DateTime<Utc>,
) -> SResult<SignupOut> {
    let shift = store.volunteer_shift(shift_id).await?.ok_or(ServiceError::NotFound)?;
    let post = load_post(store, user, shift.post_id).await?;
    if !may_manage(user) {
        return Err(ServiceError::Forbidden);
    }
    let vol = store.volunteer(volunteer_id).await?;
    let vol = match vol {
        Some(v) if v.station_id == post.station_id => v,
        _ => return Err(ServiceError::field("volunteer_id", "本派出所的志愿者名册中没有该志愿者")),
    };
    if !vol.active || vol.purged_at.is_some() {
        return Err(ServiceError::field("volunteer_id", "该志愿者已停用或其信息已删除，不能报名"));
    }
    if shift.starts_at <= now {
        return Err(ServiceError::field("shift", "该班次已开始或已结束，不能报名"));
    }
    if !post.active {
        return Err(ServiceError::field("shift", "该岗位已停用"));
    }
    let duplicate = || ServiceError::field("volunteer_id", "该志愿者已报名此班次");
    let ev = audit(
        user,
        "volunteer_signup",
        format!("{shift_id}:{volunteer_id}"),
        "sign_up",
        Some(serde_json::json!({"shift": shift_id, "volunteer": volunteer_id})),
    );
    let new = NewSignup { shift_id, volunteer_id, signed_by: user.id, now };
    match store.sign_up_volunteer(&new, post.capacity, &ev).await {
        Ok(SignupOutcome::Done(s)) => Ok((&s).into()),
        Ok(SignupOutcome::Full) => Err(ServiceError::field("shift", "该班次已报满")),
        Ok(SignupOutcome::Duplicate) | Err(StoreError::Duplicate(_)) => Err(duplicate()),
        Err(e) => Err(e.into()),
    }
}

/// Takes a volunteer off a shift that has not started (and has no attendance yet). Audited.
pub async fn cancel_signup(store: &dyn Store, user: &User, signup_id: i64, now: DateTime<Utc>) -> SResult<()> {
    let s = store.volunteer_signup(signup_id).await?.ok_or(ServiceError::NotFound)?;
    load_post(store, user, s.post_id).await?;
    if !may_manage(user) {
        return Err(ServiceError::Forbidden);
    }
    if s.starts_at <= now || s.attendance.is_some() {
        return Err(ServiceError::field("signup", "班次已开始或已登记到岗情况，不能取消报名"));
    }
    let ev = AuditEvent::new(
        Some(user.id),
        &user.display_name,
        "volunteer_signup",
        s.id,
        "cancel",
        Some(&serde_json::json!({"shift": s.shift_id, "volunteer": s.volunteer_id})),
        None,
    );
    if !store.cancel_volunteer_signup(s.id, now, &ev).await? {
        return Err(ServiceError::field("signup", "班次已开始或已登记到岗情况，不能取消报名"));
    }
    Ok(())
}

/// Marks attendance (present, late, absent) once the shift has started; a
/// later mark corrects an earlier one. The post's officer, a leader of its
/// station or an admin.
pub async fn mark_attendance(
    store: &dyn Store,
    user: &User,
    signup_id: i64,
    status: &str,
    now: DateTime<Utc>,
) -> SResult<SignupOut> {
    let s = store.volunteer_signup(signup_id).await?.ok_or(ServiceError::NotFound)?;
    let post = load_post(store, user, s.post_id).await?;
    if !may_mark(user, &post) {
        return Err(ServiceError::Forbidden);
    }
    let Some(a) = Attendance::parse(status) else {
        return Err(ServiceError::field("status", "须为 present（到岗）、late（迟到）或 absent（缺勤）"));
    };
    if s.starts_at > now {
        return Err(ServiceError::field("status", "班次尚未开始，不能登记到岗情况"));
    }
    let ev = AuditEvent::new(
        Some(user.id),
        &user.display_name,
        "volunteer_signup",
        s.id,
        "attendance",
        Some(&serde_json::json!({"attendance": s.attendance})),
        Some(&serde_json::json!({"attendance": a.as_str()})),
    );
    let s = store.mark_volunteer_attendance(s.id, a.as_str(), user.id, now, &ev).await?;
    Ok((&s).into())
}

// ---------------------------------------------------------------- figures

/// One station's figures over a period.
#[derive(Debug, Clone, Serialize)]
pub struct StationCounts {
    pub station_id: i64,
    pub station_name: String,
    /// Active volunteers on the roster now.
    pub volunteers: i64,
    /// Active posts now.
    pub posts: i64,
    #[serde(flatten)]
    pub figures: vol::Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: StationCounts,
    pub stations: Vec<StationCounts>,
}

/// Volunteers, posts, shifts covered and not, sign-ups and attendance per
/// station from `from` to `to` (local days). A shift counts when the post's
/// schedule has it (whether or not anyone opened it) or when it has sign-ups;
/// a purged volunteer's past attendance still counts.
pub async fn counts(
    store: &dyn Store,
    cal: &WorkCalendar,
    user: &User,
    from: NaiveDate,
    to: NaiveDate,
) -> SResult<Counts> {
    check_window(from, to)?;
    let scope = scope(store, user).await?;
    let posts = store.volunteer_posts(&scope).await?;
    let rows = store.volunteer_shift_stats(&scope, from, to).await?;
    let active = store.active_volunteer_counts(&scope).await?;
    let stations: Vec<crate::model::OrgUnit> =
        store.org_units().await?.into_iter().filter(|o| o.kind == "station" && o.path.starts_with(&scope)).collect();
    type Key = (i64, NaiveDate, String);
    let mut shifts: std::collections::BTreeMap<Key, (i64, ShiftStat)> = Default::default();
    for p in posts.iter().filter(|p| p.active) {
        for s in p.schedule().shifts(from, to, cal) {
            let stat = ShiftStat { capacity: p.capacity, ..Default::default() };
            shifts.insert((p.id, s.day, s.slot.start_text()), (p.station_id, stat));
        }
    }
    for r in rows {
        let expected = shifts.contains_key(&(r.post_id, r.day, r.start_time.clone()));
        if !expected && r.signed == 0 && r.present + r.late + r.absent == 0 {
            continue;
        }
        let capacity = posts.iter().find(|p| p.id == r.post_id).map(|p| p.capacity).unwrap_or(0);
        let e = shifts
            .entry((r.post_id, r.day, r.start_time))
            .or_insert((r.station_id, ShiftStat { capacity, ..Default::default() }));
        e.1.signups = r.signed.max(r.present + r.late + r.absent);
        e.1.present = r.present;
        e.1.late = r.late;
        e.1.absent = r.absent;
    }
    let mut out = vec![];
    for st in &stations {
        let mine: Vec<&ShiftStat> = shifts.values().filter(|(sid, _)| *sid == st.id).map(|(_, s)| s).collect();
        out.push(StationCounts {
            station_id: st.id,
            station_name: st.name.clone(),
            volunteers: active.iter().find(|(id, _)| *id == st.id).map(|(_, n)| *n).unwrap_or(0),
            posts: posts.iter().filter(|p| p.active && p.station_id == st.id).count() as i64,
            figures: vol::figures(mine),
        });
    }
    let total = StationCounts {
        station_id: 0,
        station_name: "合计".into(),
        volunteers: out.iter().map(|s| s.volunteers).sum(),
        posts: out.iter().map(|s| s.posts).sum(),
        figures: vol::figures(shifts.values().map(|(_, s)| s)),
    };
    Ok(Counts { from, to, total, stations: out })
}
