// The hazard register's storage, shared by both backends: included by
// `sqlite.rs` and `postgres.rs` after `common.rs` (whose helpers it uses).

macro_rules! hazard_select {
    () => {
        "SELECT h.id, h.number, h.type_code, ht.name AS type_name, h.description, h.lat, h.lon, h.address, \
         h.grid_id, g.name AS grid_name, h.station_id, s.code AS station_code, s.name AS station_name, h.org_path, \
         h.near_school, h.people_affected, h.likelihood, h.risk_score, h.risk, h.state, h.responsible_org_id, \
         ro.code AS responsible_org_code, ro.name AS responsible_org_name, ro.path AS responsible_org_path, \
         h.deadline_at, h.found_by_id, h.found_by_name, h.source_task_id, h.failed_rechecks, h.assigned_at, \
         h.signed_at, h.rectified_at, h.closed_at, h.created_at, h.updated_at, h.version \
         FROM hazards h JOIN org_units s ON s.id = h.station_id JOIN hazard_types ht ON ht.code = h.type_code \
         LEFT JOIN grids g ON g.id = h.grid_id LEFT JOIN org_units ro ON ro.id = h.responsible_org_id"
    };
}

#[derive(FromRow)]
struct HazardRow {
    id: i64,
    number: String,
    type_code: String,
    type_name: String,
    description: String,
    lat: Option<f64>,
    lon: Option<f64>,
    address: String,
    grid_id: Option<i64>,
    grid_name: Option<String>,
    station_id: i64,
    station_code: String,
    station_name: String,
    org_path: String,
    near_school: bool,
    people_affected: i64,
    likelihood: i64,
    risk_score: i64,
    risk: String,
    state: String,
    responsible_org_id: Option<i64>,
    responsible_org_code: Option<String>,
    responsible_org_name: Option<String>,
    responsible_org_path: Option<String>,
    deadline_at: Option<i64>,
    found_by_id: Option<i64>,
    found_by_name: String,
    source_task_id: Option<i64>,
    failed_rechecks: i64,
    assigned_at: Option<i64>,
    signed_at: Option<i64>,
    rectified_at: Option<i64>,
    closed_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl From<HazardRow> for Hazard {
    fn from(r: HazardRow) -> Self {
        Hazard {
            id: r.id,
            number: r.number,
            type_code: r.type_code,
            type_name: r.type_name,
            description: r.description,
            lat: r.lat,
            lon: r.lon,
            address: r.address,
            grid_id: r.grid_id,
            grid_name: r.grid_name,
            station_id: r.station_id,
            station_code: r.station_code,
            station_name: r.station_name,
            org_path: r.org_path,
            near_school: r.near_school,
            people_affected: r.people_affected,
            likelihood: r.likelihood,
            risk_score: r.risk_score,
            risk: serde_json::from_str(&r.risk).unwrap_or_default(),
            state: r.state,
            responsible_org_id: r.responsible_org_id,
            responsible_org_code: r.responsible_org_code,
            responsible_org_name: r.responsible_org_name,
            responsible_org_path: r.responsible_org_path,
            deadline_at: opt_from_ms(r.deadline_at),
            found_by_id: r.found_by_id,
            found_by_name: r.found_by_name,
            source_task_id: r.source_task_id,
            failed_rechecks: r.failed_rechecks,
            assigned_at: opt_from_ms(r.assigned_at),
            signed_at: opt_from_ms(r.signed_at),
            rectified_at: opt_from_ms(r.rectified_at),
            closed_at: opt_from_ms(r.closed_at),
            created_at: from_ms(r.created_at),
            updated_at: from_ms(r.updated_at),
            version: r.version,
        }
    }
}

fn hazard_where(f: &HazardFilter) -> Where {
    let mut w = Where::default();
    w.scope_or_receiver("h.org_path", &f.scope_path, "ro.path", &f.responsible_path);
    if let Some(s) = &f.state {
        w.push("h.state = $?", Arg::S(s.clone()));
    }
    if let Some(t) = &f.type_code {
        w.push("h.type_code = $?", Arg::S(t.clone()));
    }
    w.any_of("h.type_code", &f.type_codes);
    if let Some(s) = f.station_id {
        w.push("h.station_id = $?", Arg::I(s));
    }
    if let Some(g) = f.grid_id {
        w.push("h.grid_id = $?", Arg::I(g));
    }
    if let Some(t) = f.from {
        w.push("h.created_at >= $?", Arg::I(ms(t)));
    }
    if let Some(t) = f.to {
        w.push("h.created_at < $?", Arg::I(ms(t)));
    }
    if let Some(t) = f.overdue_at {
        w.push("h.deadline_at < $?", Arg::I(ms(t)));
        w.raw("h.state IN ('found', 'assigned', 'rectifying')");
    }
    if f.open_only {
        w.raw("h.state <> 'closed'");
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        w.args.push(Arg::S(format!("%{q}%")));
        let n = w.args.len();
        w.raw(&format!("(h.number LIKE ${n} OR h.description LIKE ${n} OR h.address LIKE ${n})"));
    }
    w
}

/// Keeps a hazard's map item in step with it (layer `hazard`, category = its type).
async fn sync_hazard_map_item(tx: &mut Transaction<'static, Db>, h: &Hazard) -> Result<()> {
    let (Some(lat), Some(lon)) = (h.lat, h.lon) else { return Ok(()) };
    let label = format!("{} {}", h.number, h.description.chars().take(30).collect::<String>());
    sqlx::query(
        "INSERT INTO map_items (kind, item_id, label, category, activity, state, is_open, deadline_at, done_at, org_path, \
         lat_e7, lon_e7, grid_id, station_id, occurred_at) \
         VALUES ('hazard', $1, $2, $3, '', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (kind, item_id) DO UPDATE SET label = excluded.label, category = excluded.category, \
         state = excluded.state, is_open = excluded.is_open, deadline_at = excluded.deadline_at, done_at = excluded.done_at",
    )
    .bind(h.id)
    .bind(label)
    .bind(&h.type_code)
    .bind(&h.state)
    .bind(h.state != "closed")
    .bind(h.deadline_at.map(ms))
    .bind(h.rectified_at.map(ms))
    .bind(&h.org_path)
    .bind(e7(lat))
    .bind(e7(lon))
    .bind(h.grid_id)
    .bind(h.station_id)
    .bind(ms(h.created_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_hazard_file(
    tx: &mut Transaction<'static, Db>,
    hazard_id: i64,
    phase: &str,
    f: &NewAttachment,
    by: i64,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO hazard_files (hazard_id, phase, stored_name, original_name, content_type, size_bytes, sha256, \
         uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(hazard_id)
    .bind(phase)
    .bind(&f.stored_name)
    .bind(&f.original_name)
    .bind(&f.content_type)
    .bind(f.size_bytes)
    .bind(&f.sha256)
    .bind(by)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct HazardFileRow {
    id: i64,
    hazard_id: i64,
    phase: String,
    stored_name: String,
    original_name: String,
    content_type: String,
    created_at: i64,
}

impl From<HazardFileRow> for HazardFile {
    fn from(r: HazardFileRow) -> Self {
        HazardFile {
            id: r.id,
            hazard_id: r.hazard_id,
            phase: r.phase,
            stored_name: r.stored_name,
            original_name: r.original_name,
            content_type: r.content_type,
            created_at: from_ms(r.created_at),
        }
    }
}

#[derive(FromRow)]
struct CampaignRow {
    id: i64,
    name: String,
    type_codes: String,
    org_id: i64,
    org_name: String,
    org_path: String,
    starts_on: String,
    ends_on: String,
    created_by_name: String,
    created_at: i64,
}

impl From<CampaignRow> for HazardCampaign {
    fn from(r: CampaignRow) -> Self {
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        HazardCampaign {
            id: r.id,
            name: r.name,
            type_codes: serde_json::from_str(&r.type_codes).unwrap_or_default(),
            org_id: r.org_id,
            org_name: r.org_name,
            org_path: r.org_path,
            starts_on: day(&r.starts_on),
            ends_on: day(&r.ends_on),
            created_by_name: r.created_by_name,
            created_at: from_ms(r.created_at),
        }
    }
}

const CAMPAIGN_SELECT: &str = "SELECT c.id, c.name, c.type_codes, c.org_id, o.name AS org_name, c.org_path, \
     c.starts_on, c.ends_on, c.created_by_name, c.created_at FROM hazard_campaigns c JOIN org_units o ON o.id = c.org_id";

impl Backend {
    async fn hazard_in(&self, tx: &mut Transaction<'static, Db>, id: i64) -> Result<Hazard> {
        let row: Option<HazardRow> =
            sqlx::query_as(concat!(hazard_select!(), " WHERE h.id = $1")).bind(id).fetch_optional(&mut **tx).await?;
        row.map(Hazard::from).ok_or(crate::StoreError::NotFound)
    }

    /// Seeds the risk factors from the domain's defaults when there are none.
    async fn ensure_hazard_factors(&self) -> Result<()> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM hazard_factors").fetch_one(self.w()).await?;
        if n == 0 {
            let fs = zhufang_domain::hazard::default_factors();
            let ev = AuditEvent::new(
                None,
                "system",
                "hazard_factors",
                "all",
                "seed",
                None,
                Some(&serde_json::to_value(&fs).unwrap_or_default()),
            );
            crate::HazardStore::replace_hazard_factors(self, &fs, Utc::now(), &ev).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl crate::HazardStore for Backend {
    async fn hazard_types(&self) -> Result<Vec<HazardType>> {
        let rows: Vec<(String, String, i64, bool)> =
            sqlx::query_as("SELECT code, name, base_severity, active FROM hazard_types ORDER BY code")
                .fetch_all(self.r())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(code, name, base_severity, active)| HazardType { code, name, base_severity, active })
            .collect())
    }

    async fn upsert_hazard_type(&self, t: &HazardType, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()> {
        let mut tx = self.w().begin().await?;
        sqlx::query(
            "INSERT INTO hazard_types (code, name, base_severity, active) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, base_severity = excluded.base_severity, \
             active = excluded.active",
        )
        .bind(&t.code)
        .bind(&t.name)
        .bind(t.base_severity)
        .bind(t.active)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn hazard_factors(&self) -> Result<Vec<zhufang_domain::hazard::RiskFactor>> {
        self.json_rows("hazard_factors").await
    }

    async fn replace_hazard_factors(
        &self,
        factors: &[zhufang_domain::hazard::RiskFactor],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()> {
        let rows: Vec<(&str, &zhufang_domain::hazard::RiskFactor)> =
            factors.iter().map(|f| (f.id.as_str(), f)).collect();
        self.replace_json_rows("hazard_factors", &rows, now, audit).await
    }

    async fn create_hazard(&self, n: &NewHazard) -> Result<Hazard> {
        let now = ms(n.now);
        let mut tx = self.w().begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO hazards (number, type_code, description, lat, lon, address, grid_id, station_id, org_path, \
             near_school, people_affected, likelihood, risk_score, risk, state, found_by_id, found_by_name, \
             source_task_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'found', $15, $16, $17, $18, $18) \
             RETURNING id",
        )
        .bind(format!("tmp-{}", rand::random::<u64>()))
        .bind(&n.type_code)
        .bind(&n.description)
        .bind(n.lat)
        .bind(n.lon)
        .bind(&n.address)
        .bind(n.grid_id)
        .bind(n.station_id)
        .bind(&n.org_path)
        .bind(n.near_school)
        .bind(n.people_affected)
        .bind(n.likelihood)
        .bind(n.risk_score)
        .bind(n.risk.to_string())
        .bind(n.found_by_id)
        .bind(&n.found_by_name)
        .bind(n.source_task_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| crate::StoreError::from_insert(e, "hazard"))?;
        let number = format!("YH{}{:06}", zhufang_domain::calendar::local_date(n.now).format("%Y%m%d"), id);
        sqlx::query("UPDATE hazards SET number = $1 WHERE id = $2").bind(&number).bind(id).execute(&mut *tx).await?;
        for p in &n.photos {
            insert_hazard_file(&mut tx, id, "before", p, n.found_by_id, now).await?;
        }
        append_event(
            &mut tx,
            &NewEvent {
                table: "hazard_events",
                key: "hazard_id",
                subject_id: id,
                at: now,
                actor_id: n.found_by_id.into(),
                actor_name: &n.found_by_name,
                action: "register",
                from_state: None,
                to_state: "found",
                note: None,
                data: serde_json::json!({"risk": n.risk, "source_task_id": n.source_task_id, "photos": n.photos.len()})
                    .to_string(),
            },
        )
        .await?;
        let h = self.hazard_in(&mut tx, id).await?;
        sync_hazard_map_item(&mut tx, &h).await?;
        insert_notifications(&mut tx, &n.notifications, now).await?;
        let ev = AuditEvent::new(
            Some(n.found_by_id),
            &n.found_by_name,
            "hazard",
            id,
            "register",
            None,
            Some(&record_json(&h)),
        );
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        Ok(h)
    }

    async fn hazard(&self, id: i64) -> Result<Option<Hazard>> {
        let row: Option<HazardRow> =
            sqlx::query_as(concat!(hazard_select!(), " WHERE h.id = $1")).bind(id).fetch_optional(self.r()).await?;
        Ok(row.map(Into::into))
    }

    async fn list_hazards(&self, f: &HazardFilter, page: PageReq) -> Result<Page<Hazard>> {
        let w = hazard_where(f);
        let count_sql =
            format!("SELECT COUNT(*) FROM hazards h LEFT JOIN org_units ro ON ro.id = h.responsible_org_id{}", w.sql());
        let (total,): (i64,) =
            bind_args!(sqlx::query_as(AssertSqlSafe(count_sql)), &w.args).fetch_one(self.r()).await?;
        let n = w.next();
        let sql = format!(
            "{}{} ORDER BY CASE WHEN h.state = 'closed' THEN 1 ELSE 0 END, h.risk_score DESC, h.created_at DESC, h.id DESC \
             LIMIT ${} OFFSET ${}",
            hazard_select!(),
            w.sql(),
            n,
            n + 1
        );
        let rows: Vec<HazardRow> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args)
            .bind(page.per_page)
            .bind(page.offset())
            .fetch_all(self.r())
            .await?;
        Ok(Page { items: rows.into_iter().map(Into::into).collect(), total, page: page.page, per_page: page.per_page })
    }

    async fn hazard_timeline(&self, id: i64) -> Result<Vec<HazardEvent>> {
        self.subject_events("hazard_events", "hazard_id", id).await
    }

    async fn hazard_files(&self, hazard_id: i64) -> Result<Vec<HazardFile>> {
        let rows: Vec<HazardFileRow> = sqlx::query_as(
            "SELECT id, hazard_id, phase, stored_name, original_name, content_type, created_at FROM hazard_files \
             WHERE hazard_id = $1 ORDER BY id",
        )
        .bind(hazard_id)
        .fetch_all(self.r())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn hazard_file(&self, id: i64) -> Result<Option<HazardFile>> {
        let row: Option<HazardFileRow> = sqlx::query_as(
            "SELECT id, hazard_id, phase, stored_name, original_name, content_type, created_at FROM hazard_files \
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.r())
        .await?;
        Ok(row.map(Into::into))
    }

    async fn apply_hazard_transition(&self, w: &HazardWrite) -> Result<Hazard> {
        let now = ms(w.now);
        let mut tx = self.w().begin().await?;
        let before = self.hazard_in(&mut tx, w.hazard_id).await?;
        if before.version != w.expected_version || before.state != w.from_state {
            return Err(crate::StoreError::Conflict);
        }
        let at = |b: bool| if b { Some(now) } else { None };
        let r = sqlx::query(
            "UPDATE hazards SET state = $1, responsible_org_id = COALESCE($2, responsible_org_id), \
             deadline_at = COALESCE($3, deadline_at), failed_rechecks = failed_rechecks + $4, \
             overdue_notified_at = CASE WHEN $3 IS NULL THEN overdue_notified_at ELSE NULL END, \
             assigned_at = CASE WHEN $5 THEN $6 ELSE assigned_at END, \
             signed_at = CASE WHEN $7 THEN $6 ELSE signed_at END, \
             rectified_at = CASE WHEN $8 THEN $6 WHEN $4 > 0 THEN NULL ELSE rectified_at END, \
             closed_at = COALESCE($9, closed_at), risk_score = $10, risk = $11, updated_at = $6, version = version + 1 \
             WHERE id = $12 AND version = $13",
        )
        .bind(&w.to_state)
        .bind(w.responsible_org_id)
        .bind(w.deadline_at.map(ms))
        .bind(i64::from(w.failed_recheck))
        .bind(w.action == "assign")
        .bind(now)
        .bind(w.action == "sign_for")
        .bind(w.action == "rectify")
        .bind(at(w.to_state == "closed"))
        .bind(w.risk_score)
        .bind(w.risk.to_string())
        .bind(w.hazard_id)
        .bind(w.expected_version)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            return Err(crate::StoreError::Conflict);
        }
        if w.action == "return" {
            sqlx::query("UPDATE hazards SET responsible_org_id = NULL, deadline_at = NULL WHERE id = $1")
                .bind(w.hazard_id)
                .execute(&mut *tx)
                .await?;
        }
        for (phase, f) in &w.photos {
            insert_hazard_file(&mut tx, w.hazard_id, phase, f, w.actor_id, now).await?;
        }
        let data = serde_json::json!({
            "responsible_org_id": w.responsible_org_id, "deadline_at": w.deadline_at,
            "photos": w.photos.len(), "risk_score": w.risk_score, "risk_score_before": before.risk_score,
        });
        append_event(
            &mut tx,
            &NewEvent {
                table: "hazard_events",
                key: "hazard_id",
                subject_id: w.hazard_id,
                at: now,
                actor_id: w.actor_id.into(),
                actor_name: &w.actor_name,
                action: &w.action,
                from_state: Some(w.from_state.as_str()),
                to_state: &w.to_state,
                note: w.note.as_deref(),
                data: data.to_string(),
            },
        )
        .await?;
        insert_notifications(&mut tx, &w.notifications, now).await?;
        let after = self.hazard_in(&mut tx, w.hazard_id).await?;
        sync_hazard_map_item(&mut tx, &after).await?;
        let ev = AuditEvent::new(
            Some(w.actor_id),
            &w.actor_name,
            "hazard",
            w.hazard_id,
            &w.action,
            Some(&record_json(&before)),
            Some(&record_json(&after)),
        );
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn late_hazards(&self, now: DateTime<Utc>) -> Result<Vec<Hazard>> {
        let rows: Vec<HazardRow> = sqlx::query_as(concat!(
            hazard_select!(),
            " WHERE h.state IN ('found', 'assigned', 'rectifying') AND h.deadline_at < $1 \
             AND h.overdue_notified_at IS NULL ORDER BY h.deadline_at, h.id LIMIT 500"
        ))
        .bind(ms(now))
        .fetch_all(self.r())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn mark_hazard_overdue(&self, id: i64, now: DateTime<Utc>, notes: &[NewNotification]) -> Result<()> {
        let mut tx = self.w().begin().await?;
        let r =
            sqlx::query("UPDATE hazards SET overdue_notified_at = $1 WHERE id = $2 AND overdue_notified_at IS NULL")
                .bind(ms(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if r.rows_affected() == 1 {
            insert_notifications(&mut tx, notes, ms(now)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_hazard_risks(&self, rows: &[(i64, i64, serde_json::Value)]) -> Result<()> {
        let mut tx = self.w().begin().await?;
        for (id, score, risk) in rows {
            sqlx::query("UPDATE hazards SET risk_score = $1, risk = $2 WHERE id = $3")
                .bind(score)
                .bind(risk.to_string())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn hazard_stats(&self, f: &HazardFilter) -> Result<Vec<HazardStatRow>> {
        #[derive(FromRow)]
        struct Row {
            station_id: i64,
            station_name: String,
            grid_id: Option<i64>,
            grid_name: Option<String>,
            type_code: String,
            type_name: String,
            created_at: i64,
            deadline_at: Option<i64>,
            rectified_at: Option<i64>,
        }
        let w = hazard_where(f);
        let sql = format!(
            "SELECT h.station_id, s.name AS station_name, h.grid_id, g.name AS grid_name, h.type_code, \
             ht.name AS type_name, h.created_at, h.deadline_at, h.rectified_at FROM hazards h \
             JOIN org_units s ON s.id = h.station_id JOIN hazard_types ht ON ht.code = h.type_code \
             LEFT JOIN grids g ON g.id = h.grid_id LEFT JOIN org_units ro ON ro.id = h.responsible_org_id{}",
            w.sql()
        );
        let rows: Vec<Row> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args).fetch_all(self.r()).await?;
        Ok(rows
            .into_iter()
            .map(|r| HazardStatRow {
                station_id: r.station_id,
                station_name: r.station_name,
                grid_id: r.grid_id,
                grid_name: r.grid_name,
                type_code: r.type_code,
                type_name: r.type_name,
                stat: zhufang_domain::hazard::Stat {
                    found_at: r.created_at,
                    deadline_at: r.deadline_at,
                    rectified_at: r.rectified_at,
                },
            })
            .collect())
    }

    async fn create_campaign(&self, c: &NewCampaign, audit: &AuditEvent) -> Result<i64> {
        let mut tx = self.w().begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO hazard_campaigns (name, type_codes, org_id, org_path, starts_on, ends_on, created_by_id, \
             created_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&c.name)
        .bind(serde_json::to_string(&c.type_codes).unwrap_or_default())
        .bind(c.org_id)
        .bind(&c.org_path)
        .bind(c.starts_on.format("%Y-%m-%d").to_string())
        .bind(c.ends_on.format("%Y-%m-%d").to_string())
        .bind(c.by_id)
        .bind(&c.by_name)
        .bind(ms(c.now))
        .fetch_one(&mut *tx)
        .await?;
        let mut ev = audit.clone();
        ev.object_id = id.to_string();
        append_audit(&mut tx, &ev, ms(c.now)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn link_campaign_check(&self, campaign_id: i64, hazard_id: i64, task_id: i64) -> Result<()> {
        sqlx::query("INSERT INTO hazard_campaign_checks (campaign_id, hazard_id, task_id) VALUES ($1, $2, $3)")
            .bind(campaign_id)
            .bind(hazard_id)
            .bind(task_id)
            .execute(self.w())
            .await
            .map_err(|e| crate::StoreError::from_insert(e, "campaign check"))?;
        Ok(())
    }

    async fn campaigns(&self, scope_path: Option<&str>) -> Result<Vec<HazardCampaign>> {
        let rows: Vec<CampaignRow> = match scope_path {
            Some(p) => {
                // campaigns of the scope, and the bureau's campaigns above it
                sqlx::query_as(AssertSqlSafe(format!(
                    "{CAMPAIGN_SELECT} WHERE c.org_path LIKE $1 OR $2 LIKE c.org_path || '%' ORDER BY c.starts_on DESC, c.id DESC"
                )))
                .bind(format!("{p}%"))
                .bind(p)
                .fetch_all(self.r())
                .await?
            }
            None => {
                sqlx::query_as(AssertSqlSafe(format!("{CAMPAIGN_SELECT} ORDER BY c.starts_on DESC, c.id DESC")))
                    .fetch_all(self.r())
                    .await?
            }
        };
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn campaign(&self, id: i64) -> Result<Option<HazardCampaign>> {
        let row: Option<CampaignRow> = sqlx::query_as(AssertSqlSafe(format!("{CAMPAIGN_SELECT} WHERE c.id = $1")))
            .bind(id)
            .fetch_optional(self.r())
            .await?;
        Ok(row.map(Into::into))
    }

    async fn campaign_checks(&self, id: i64) -> Result<Vec<CampaignCheck>> {
        #[derive(FromRow)]
        struct Row {
            hazard_id: i64,
            hazard_number: String,
            hazard_state: String,
            task_id: i64,
            task_number: String,
            task_state: String,
            assignee_name: Option<String>,
            feedback_at: Option<i64>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT k.hazard_id, h.number AS hazard_number, h.state AS hazard_state, k.task_id, t.number AS task_number, \
             t.state AS task_state, u.display_name AS assignee_name, t.feedback_at FROM hazard_campaign_checks k \
             JOIN hazards h ON h.id = k.hazard_id JOIN tasks t ON t.id = k.task_id \
             LEFT JOIN users u ON u.id = t.assignee_id WHERE k.campaign_id = $1 ORDER BY h.risk_score DESC, h.id",
        )
        .bind(id)
        .fetch_all(self.r())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CampaignCheck {
                hazard_id: r.hazard_id,
                hazard_number: r.hazard_number,
                hazard_state: r.hazard_state,
                task_id: r.task_id,
                task_number: r.task_number,
                task_state: r.task_state,
                assignee_name: r.assignee_name,
                feedback_at: opt_from_ms(r.feedback_at),
            })
            .collect())
    }

    async fn task_problems(&self, task_id: i64) -> Result<Vec<TaskProblem>> {
        let rows: Vec<(i64, String, Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT idx, text, kind, target_id FROM task_problems WHERE task_id = $1 ORDER BY idx")
                .bind(task_id)
                .fetch_all(self.r())
                .await?;
        Ok(rows.into_iter().map(|(idx, text, kind, target_id)| TaskProblem { idx, text, kind, target_id }).collect())
    }

    async fn claim_task_problem(&self, task_id: i64, idx: i64, kind: &str) -> Result<bool> {
        let r = sqlx::query("UPDATE task_problems SET kind = $1 WHERE task_id = $2 AND idx = $3 AND kind IS NULL")
            .bind(kind)
            .bind(task_id)
            .bind(idx)
            .execute(self.w())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn finish_task_problem(&self, task_id: i64, idx: i64, target_id: Option<i64>) -> Result<()> {
        let sql = if target_id.is_some() {
            "UPDATE task_problems SET target_id = $1 WHERE task_id = $2 AND idx = $3"
        } else {
            "UPDATE task_problems SET kind = NULL, target_id = $1 WHERE task_id = $2 AND idx = $3"
        };
        sqlx::query(sql).bind(target_id).bind(task_id).bind(idx).execute(self.w()).await?;
        Ok(())
    }
}
