// 群防群治's storage (volunteers, posts, shifts, sign-ups), shared by both
// backends: included by `sqlite.rs` and `postgres.rs` after `common.rs`
// (whose helpers it uses).

use crate::volunteers::{
    NewShift, NewSignup, NewVolunteer, PostWrite, Shift, ShiftStatRow, Signup, SignupOutcome, Volunteer,
    VolunteerChange, VolunteerFilter, VolunteerPost,
};

const VOLUNTEER_SELECT: &str = "SELECT v.id, v.station_id, o.name AS station_name, v.org_path, v.name, v.phone, \
    v.organisation, v.active, v.created_at, v.purged_at FROM volunteers v JOIN org_units o ON o.id = v.station_id";

const POST_SELECT: &str = "SELECT p.id, p.station_id, o.name AS station_name, p.org_path, p.name, p.place, p.lat, \
    p.lon, p.officer_id, u.display_name AS officer_name, u.username AS officer_username, p.weekdays, p.slots, \
    p.workdays_only, p.capacity, p.active, p.version \
    FROM volunteer_posts p JOIN org_units o ON o.id = p.station_id JOIN users u ON u.id = p.officer_id";

const SHIFT_SELECT: &str =
    "SELECT id, post_id, day, start_time, end_time, starts_at, ends_at, signed FROM volunteer_shifts";

const SIGNUP_SELECT: &str = "SELECT s.id, s.shift_id, sh.post_id, s.volunteer_id, v.name AS volunteer_name, \
    v.phone AS volunteer_phone, v.organisation, v.purged_at, s.signed_at, s.attendance, \
    u.display_name AS marked_by_name, s.marked_at, sh.starts_at \
    FROM volunteer_signups s JOIN volunteer_shifts sh ON sh.id = s.shift_id \
    JOIN volunteers v ON v.id = s.volunteer_id LEFT JOIN users u ON u.id = s.marked_by";

#[derive(FromRow)]
struct VolunteerRow {
    id: i64,
    station_id: i64,
    station_name: String,
    org_path: String,
    name: String,
    phone: Option<String>,
    organisation: String,
    active: bool,
    created_at: i64,
    purged_at: Option<i64>,
}

impl From<VolunteerRow> for Volunteer {
    fn from(r: VolunteerRow) -> Self {
        Volunteer {
            id: r.id,
            station_id: r.station_id,
            station_name: r.station_name,
            org_path: r.org_path,
            name: r.name,
            phone: r.phone,
            organisation: r.organisation,
            active: r.active,
            created_at: from_ms(r.created_at),
            purged_at: opt_from_ms(r.purged_at),
        }
    }
}

#[derive(FromRow)]
struct PostRow {
    id: i64,
    station_id: i64,
    station_name: String,
    org_path: String,
    name: String,
    place: String,
    lat: Option<f64>,
    lon: Option<f64>,
    officer_id: i64,
    officer_name: String,
    officer_username: String,
    weekdays: String,
    slots: String,
    workdays_only: bool,
    capacity: i64,
    active: bool,
    version: i64,
}

impl From<PostRow> for VolunteerPost {
    fn from(r: PostRow) -> Self {
        VolunteerPost {
            id: r.id,
            station_id: r.station_id,
            station_name: r.station_name,
            org_path: r.org_path,
            name: r.name,
            place: r.place,
            lat: r.lat,
            lon: r.lon,
            officer_id: r.officer_id,
            officer_name: r.officer_name,
            officer_username: r.officer_username,
            weekdays: r.weekdays,
            slots: r.slots,
            workdays_only: r.workdays_only,
            capacity: r.capacity,
            active: r.active,
            version: r.version,
        }
    }
}

#[derive(FromRow)]
struct ShiftRow {
    id: i64,
    post_id: i64,
    day: String,
    start_time: String,
    end_time: String,
    starts_at: i64,
    ends_at: i64,
    signed: i64,
}

fn vol_day(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn vol_parse_day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

impl From<ShiftRow> for Shift {
    fn from(r: ShiftRow) -> Self {
        Shift {
            id: r.id,
            post_id: r.post_id,
            day: vol_parse_day(&r.day),
            start_time: r.start_time,
            end_time: r.end_time,
            starts_at: from_ms(r.starts_at),
            ends_at: from_ms(r.ends_at),
            signed: r.signed,
        }
    }
}

#[derive(FromRow)]
struct SignupRow {
    id: i64,
    shift_id: i64,
    post_id: i64,
    volunteer_id: i64,
    volunteer_name: String,
    volunteer_phone: Option<String>,
    organisation: String,
    purged_at: Option<i64>,
    signed_at: i64,
    attendance: Option<String>,
    marked_by_name: Option<String>,
    marked_at: Option<i64>,
    starts_at: i64,
}

impl From<SignupRow> for Signup {
    fn from(r: SignupRow) -> Self {
        Signup {
            id: r.id,
            shift_id: r.shift_id,
            post_id: r.post_id,
            volunteer_id: r.volunteer_id,
            volunteer_name: r.volunteer_name,
            volunteer_phone: r.volunteer_phone,
            organisation: r.organisation,
            purged: r.purged_at.is_some(),
            signed_at: from_ms(r.signed_at),
            attendance: r.attendance,
            marked_by_name: r.marked_by_name,
            marked_at: opt_from_ms(r.marked_at),
            starts_at: from_ms(r.starts_at),
        }
    }
}

#[async_trait]
impl crate::VolunteerStore for Backend {
    async fn create_volunteer(&self, v: &NewVolunteer, audit: &AuditEvent) -> Result<Volunteer> {
        let now = ms(v.now);
        let mut tx = self.w().begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO volunteers (station_id, org_path, name, phone, organisation, active, created_by, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $7) RETURNING id",
        )
        .bind(v.station_id)
        .bind(&v.org_path)
        .bind(&v.name)
        .bind(&v.phone)
        .bind(&v.organisation)
        .bind(v.created_by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let mut ev = audit.clone();
        ev.object_id = id.to_string();
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        crate::VolunteerStore::volunteer(self, id).await?.ok_or(crate::StoreError::NotFound)
    }

    async fn volunteer(&self, id: i64) -> Result<Option<Volunteer>> {
        let row: Option<VolunteerRow> = sqlx::query_as(AssertSqlSafe(format!("{VOLUNTEER_SELECT} WHERE v.id = $1")))
            .bind(id)
            .fetch_optional(self.r())
            .await?;
        Ok(row.map(Into::into))
    }

    async fn list_volunteers(&self, f: &VolunteerFilter, page: PageReq) -> Result<Page<Volunteer>> {
        let mut w = Where::default();
        w.push("v.org_path LIKE $?", Arg::S(format!("{}%", f.scope_path)));
        if f.active_only {
            w.raw("v.active = TRUE AND v.purged_at IS NULL");
        }
        if let Some(o) = f.organisation.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            w.push("v.organisation = $?", Arg::S(o.to_string()));
        }
        if let Some(t) = f.text.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            w.args.push(Arg::S(format!("%{}%", t.replace(['%', '_'], ""))));
            let n = w.args.len();
            w.raw(&format!("(v.name LIKE ${n} OR v.organisation LIKE ${n})"));
        }
        let count_sql = format!("SELECT COUNT(*) FROM volunteers v{}", w.sql());
        let (total,): (i64,) =
            bind_args!(sqlx::query_as(AssertSqlSafe(count_sql)), &w.args).fetch_one(self.r()).await?;
        let n = w.next();
        let sql = format!(
            "{VOLUNTEER_SELECT}{} ORDER BY (v.purged_at IS NOT NULL), v.active DESC, v.id DESC LIMIT ${} OFFSET ${}",
            w.sql(),
            n,
            n + 1
        );
        let rows: Vec<VolunteerRow> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args)
            .bind(page.per_page)
            .bind(page.offset())
            .fetch_all(self.r())
            .await?;
        Ok(Page { items: rows.into_iter().map(Into::into).collect(), total, page: page.page, per_page: page.per_page })
    }

    async fn purge_volunteer(&self, id: i64, by: i64, now: DateTime<Utc>, audit: &AuditEvent) -> Result<bool> {
        let now = ms(now);
        let mut tx = self.w().begin().await?;
        let r = sqlx::query(
            "UPDATE volunteers SET name = $1, phone = NULL, active = FALSE, purged_at = $2, purged_by = $3, \
             updated_at = $2 WHERE id = $4 AND purged_at IS NULL",
        )
        .bind(zhufang_domain::volunteer::PURGED_NAME)
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        // sign-ups for shifts yet to come are cancelled; the past stays, anonymous
        sqlx::query(
            "UPDATE volunteer_shifts SET signed = signed - 1 WHERE starts_at > $2 AND id IN \
             (SELECT shift_id FROM volunteer_signups WHERE volunteer_id = $1 AND attendance IS NULL)",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM volunteer_signups WHERE volunteer_id = $1 AND attendance IS NULL AND shift_id IN \
             (SELECT id FROM volunteer_shifts WHERE starts_at > $2)",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn save_volunteer_post(&self, p: &PostWrite, audit: &AuditEvent) -> Result<VolunteerPost> {
        let now = ms(p.now);
        let mut tx = self.w().begin().await?;
        let id = match p.id {
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO volunteer_posts (station_id, org_path, name, place, lat, lon, officer_id, weekdays, \
                     slots, workdays_only, capacity, active, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
                )
                .bind(p.station_id)
                .bind(&p.org_path)
                .bind(&p.name)
                .bind(&p.place)
                .bind(p.lat)
                .bind(p.lon)
                .bind(p.officer_id)
                .bind(&p.weekdays)
                .bind(&p.slots)
                .bind(p.workdays_only)
                .bind(p.capacity)
                .bind(p.active)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                id
            }
            Some(id) => {
                let r = sqlx::query(
                    "UPDATE volunteer_posts SET station_id = $1, org_path = $2, name = $3, place = $4, lat = $5, \
                     lon = $6, officer_id = $7, weekdays = $8, slots = $9, workdays_only = $10, capacity = $11, \
                     active = $12, updated_at = $13, version = version + 1 WHERE id = $14 AND ($15 OR version = $16)",
                )
                .bind(p.station_id)
                .bind(&p.org_path)
                .bind(&p.name)
                .bind(&p.place)
                .bind(p.lat)
                .bind(p.lon)
                .bind(p.officer_id)
                .bind(&p.weekdays)
                .bind(&p.slots)
                .bind(p.workdays_only)
                .bind(p.capacity)
                .bind(p.active)
                .bind(now)
                .bind(id)
                .bind(p.expected_version.is_none())
                .bind(p.expected_version.unwrap_or(0))
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() != 1 {
                    return Err(crate::StoreError::Conflict);
                }
                id
            }
        };
        sqlx::query("UPDATE volunteer_posts SET grid_id = $1 WHERE id = $2")
            .bind(p.grid_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // its map item: where it stands, open while the post is active
        match (p.lat, p.lon) {
            (Some(lat), Some(lon)) => {
                sqlx::query(
                    "INSERT INTO map_items (kind, item_id, label, category, activity, state, is_open, deadline_at, \
                     done_at, org_path, lat_e7, lon_e7, grid_id, station_id, occurred_at) \
                     VALUES ('volunteer_post', $1, $2, 'post', '', $3, $4, NULL, NULL, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (kind, item_id) DO UPDATE SET label = excluded.label, state = excluded.state, \
                     is_open = excluded.is_open, org_path = excluded.org_path, lat_e7 = excluded.lat_e7, \
                     lon_e7 = excluded.lon_e7, grid_id = excluded.grid_id, station_id = excluded.station_id",
                )
                .bind(id)
                .bind(&p.name)
                .bind(if p.active { "active" } else { "inactive" })
                .bind(p.active)
                .bind(&p.org_path)
                .bind(e7(lat))
                .bind(e7(lon))
                .bind(p.grid_id)
                .bind(p.routed_station_id.unwrap_or(p.station_id))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            _ => {
                sqlx::query("DELETE FROM map_items WHERE kind = 'volunteer_post' AND item_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let mut ev = audit.clone();
        ev.object_id = id.to_string();
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        crate::VolunteerStore::volunteer_post(self, id).await?.ok_or(crate::StoreError::NotFound)
    }

    async fn volunteer_post(&self, id: i64) -> Result<Option<VolunteerPost>> {
        let row: Option<PostRow> = sqlx::query_as(AssertSqlSafe(format!("{POST_SELECT} WHERE p.id = $1")))
            .bind(id)
            .fetch_optional(self.r())
            .await?;
        Ok(row.map(Into::into))
    }

    async fn volunteer_posts(&self, scope_path: &str) -> Result<Vec<VolunteerPost>> {
        let rows: Vec<PostRow> = sqlx::query_as(AssertSqlSafe(format!(
            "{POST_SELECT} WHERE p.org_path LIKE $1 ORDER BY p.org_path, p.active DESC, p.name, p.id"
        )))
        .bind(format!("{scope_path}%"))
        .fetch_all(self.r())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn ensure_volunteer_shifts(&self, post_id: i64, shifts: &[NewShift], now: DateTime<Utc>) -> Result<()> {
        if shifts.is_empty() {
            return Ok(());
        }
        let mut tx = self.w().begin().await?;
        for s in shifts {
            sqlx::query(
                "INSERT INTO volunteer_shifts (post_id, day, start_time, end_time, starts_at, ends_at, signed, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 0, $7) ON CONFLICT (post_id, day, start_time) DO NOTHING",
            )
            .bind(post_id)
            .bind(vol_day(s.day))
            .bind(&s.start_time)
            .bind(&s.end_time)
            .bind(ms(s.starts_at))
            .bind(ms(s.ends_at))
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn volunteer_shifts(
        &self,
        post_id: i64,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<Shift>> {
        let rows: Vec<ShiftRow> = sqlx::query_as(AssertSqlSafe(format!(
            "{SHIFT_SELECT} WHERE post_id = $1 AND day >= $2 AND day <= $3 ORDER BY day, start_time, id"
        )))
        .bind(post_id)
        .bind(vol_day(from))
        .bind(vol_day(to))
        .fetch_all(self.r())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn volunteer_shift(&self, id: i64) -> Result<Option<Shift>> {
        let row: Option<ShiftRow> = sqlx::query_as(AssertSqlSafe(format!("{SHIFT_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.r())
            .await?;
        Ok(row.map(Into::into))
    }

    async fn shift_signups(&self, post_id: i64, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<Vec<Signup>> {
        let rows: Vec<SignupRow> = sqlx::query_as(AssertSqlSafe(format!(
            "{SIGNUP_SELECT} WHERE sh.post_id = $1 AND sh.day >= $2 AND sh.day <= $3 ORDER BY s.shift_id, s.id"
        )))
        .bind(post_id)
        .bind(vol_day(from))
        .bind(vol_day(to))
        .fetch_all(self.r())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn volunteer_signup(&self, id: i64) -> Result<Option<Signup>> {
        let row: Option<SignupRow> = sqlx::query_as(AssertSqlSafe(format!("{SIGNUP_SELECT} WHERE s.id = $1")))
            .bind(id)
            .fetch_optional(self.r())
            .await?;
        Ok(row.map(Into::into))
    }

    async fn sign_up_volunteer(&self, s: &NewSignup, capacity: i64, audit: &AuditEvent) -> Result<SignupOutcome> {
        let now = ms(s.now);
        let mut tx = self.w().begin().await?;
        let (dup,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM volunteer_signups WHERE shift_id = $1 AND volunteer_id = $2")
                .bind(s.shift_id)
                .bind(s.volunteer_id)
                .fetch_one(&mut *tx)
                .await?;
        if dup > 0 {
            return Ok(SignupOutcome::Duplicate);
        }
        // the row lock on the shift serialises sign-ups (PostgreSQL re-checks
        // `signed < capacity` after a concurrent one commits; SQLite has one writer)
        let r = sqlx::query("UPDATE volunteer_shifts SET signed = signed + 1 WHERE id = $1 AND signed < $2")
            .bind(s.shift_id)
            .bind(capacity)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() != 1 {
            return Ok(SignupOutcome::Full);
        }
        let id: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO volunteer_signups (shift_id, volunteer_id, signed_at, signed_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (shift_id, volunteer_id) DO NOTHING RETURNING id",
        )
        .bind(s.shift_id)
        .bind(s.volunteer_id)
        .bind(now)
        .bind(s.signed_by)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id,)) = id else { return Ok(SignupOutcome::Duplicate) };
        append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        let row = crate::VolunteerStore::volunteer_signup(self, id).await?.ok_or(crate::StoreError::NotFound)?;
        Ok(SignupOutcome::Done(row))
    }

    async fn mark_volunteer_attendance(
        &self,
        signup_id: i64,
        attendance: &str,
        by: i64,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<Signup> {
        let now = ms(now);
        let mut tx = self.w().begin().await?;
        let r =
            sqlx::query("UPDATE volunteer_signups SET attendance = $1, marked_by = $2, marked_at = $3 WHERE id = $4")
                .bind(attendance)
                .bind(by)
                .bind(now)
                .bind(signup_id)
                .execute(&mut *tx)
                .await?;
        if r.rows_affected() != 1 {
            return Err(crate::StoreError::NotFound);
        }
        append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        crate::VolunteerStore::volunteer_signup(self, signup_id).await?.ok_or(crate::StoreError::NotFound)
    }

    async fn volunteer_shift_stats(
        &self,
        scope_path: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<ShiftStatRow>> {
        #[derive(FromRow)]
        struct Row {
            station_id: i64,
            post_id: i64,
            day: String,
            start_time: String,
            signed: i64,
            present: i64,
            late: i64,
            absent: i64,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT p.station_id, sh.post_id, sh.day, sh.start_time, COUNT(s.id) AS signed, \
             COALESCE(SUM(CASE WHEN s.attendance = 'present' THEN 1 ELSE 0 END), 0) AS present, \
             COALESCE(SUM(CASE WHEN s.attendance = 'late' THEN 1 ELSE 0 END), 0) AS late, \
             COALESCE(SUM(CASE WHEN s.attendance = 'absent' THEN 1 ELSE 0 END), 0) AS absent \
             FROM volunteer_shifts sh JOIN volunteer_posts p ON p.id = sh.post_id \
             LEFT JOIN volunteer_signups s ON s.shift_id = sh.id \
             WHERE p.org_path LIKE $1 AND sh.day >= $2 AND sh.day <= $3 \
             GROUP BY p.station_id, sh.post_id, sh.day, sh.start_time",
        )
        .bind(format!("{scope_path}%"))
        .bind(vol_day(from))
        .bind(vol_day(to))
        .fetch_all(self.r())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ShiftStatRow {
                station_id: r.station_id,
                post_id: r.post_id,
                day: vol_parse_day(&r.day),
                start_time: r.start_time,
                signed: r.signed,
                present: r.present,
                late: r.late,
                absent: r.absent,
            })
            .collect())
    }

    async fn active_volunteer_counts(&self, scope_path: &str) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT station_id, COUNT(*) FROM volunteers WHERE org_path LIKE $1 AND active = TRUE \
             AND purged_at IS NULL GROUP BY station_id",
        )
        .bind(format!("{scope_path}%"))
        .fetch_all(self.r())
        .await?)
    }

    async fn update_volunteer(&self, id: i64, v: &VolunteerChange, audit: &AuditEvent) -> Result<Option<Volunteer>> {
        let now = ms(v.now);
        let mut tx = self.w().begin().await?;
        let r = sqlx::query(
            "UPDATE volunteers SET name = $1, phone = $2, organisation = $3, active = $4, updated_at = $5 \
             WHERE id = $6 AND purged_at IS NULL",
        )
        .bind(&v.name)
        .bind(&v.phone)
        .bind(&v.organisation)
        .bind(v.active)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            return Ok(None);
        }
        append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        crate::VolunteerStore::volunteer(self, id).await
    }

    async fn cancel_volunteer_signup(&self, signup_id: i64, now: DateTime<Utc>, audit: &AuditEvent) -> Result<bool> {
        let mut tx = self.w().begin().await?;
        let shift: Option<(i64,)> =
            sqlx::query_as("DELETE FROM volunteer_signups WHERE id = $1 AND attendance IS NULL RETURNING shift_id")
                .bind(signup_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((shift_id,)) = shift else { return Ok(false) };
        sqlx::query("UPDATE volunteer_shifts SET signed = signed - 1 WHERE id = $1 AND signed > 0")
            .bind(shift_id)
            .execute(&mut *tx)
            .await?;
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(true)
    }
}
