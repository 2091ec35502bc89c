// The dispute ledger's storage, shared by both backends: included by
// `sqlite.rs` and `postgres.rs` after `common.rs` (whose helpers it uses).

macro_rules! dispute_select {
    () => {
        "SELECT d.id, d.number, d.title, d.description, d.category_code, c.name AS category_name, d.source, \
         d.lat, d.lon, d.address, d.grid_id, g.name AS grid_name, d.station_id, s.code AS station_code, \
         s.name AS station_name, d.org_path, d.people_involved, d.amount, d.class, d.level, d.level_org_id, \
         lo.code AS level_org_code, lo.name AS level_org_name, lo.path AS level_org_path, d.colour, d.fired_rules, \
         d.state, d.assignee_id, u.display_name AS assignee_name, d.creator_id, d.incident_id, d.failed_mediations, \
         d.relapses, d.accepted_at, d.settled_at, d.closed_at, d.created_at, d.updated_at, d.version \
         FROM disputes d JOIN org_units s ON s.id = d.station_id JOIN dispute_categories c ON c.code = d.category_code \
         LEFT JOIN grids g ON g.id = d.grid_id LEFT JOIN org_units lo ON lo.id = d.level_org_id \
         LEFT JOIN users u ON u.id = d.assignee_id"
    };
}

#[derive(FromRow)]
struct DisputeRow {
    id: i64,
    number: String,
    title: String,
    description: String,
    category_code: String,
    category_name: String,
    source: String,
    lat: Option<f64>,
    lon: Option<f64>,
    address: String,
    grid_id: Option<i64>,
    grid_name: Option<String>,
    station_id: i64,
    station_code: String,
    station_name: String,
    org_path: String,
    people_involved: i64,
    amount: i64,
    class: Option<String>,
    level: i64,
    level_org_id: Option<i64>,
    level_org_code: Option<String>,
    level_org_name: Option<String>,
    level_org_path: Option<String>,
    colour: String,
    fired_rules: String,
    state: String,
    assignee_id: Option<i64>,
    assignee_name: Option<String>,
    creator_id: Option<i64>,
    incident_id: Option<i64>,
    failed_mediations: i64,
    relapses: i64,
    accepted_at: Option<i64>,
    settled_at: Option<i64>,
    closed_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl From<DisputeRow> for Dispute {
    fn from(r: DisputeRow) -> Self {
        Dispute {
            id: r.id,
            number: r.number,
            title: r.title,
            description: r.description,
            category_code: r.category_code,
            category_name: r.category_name,
            source: r.source,
            lat: r.lat,
            lon: r.lon,
            address: r.address,
            grid_id: r.grid_id,
            grid_name: r.grid_name,
            station_id: r.station_id,
            station_code: r.station_code,
            station_name: r.station_name,
            org_path: r.org_path,
            people_involved: r.people_involved,
            amount: r.amount,
            class: r.class,
            level: r.level,
            level_org_id: r.level_org_id,
            level_org_code: r.level_org_code,
            level_org_name: r.level_org_name,
            level_org_path: r.level_org_path,
            colour: r.colour,
            fired_rules: serde_json::from_str(&r.fired_rules).unwrap_or_default(),
            state: r.state,
            assignee_id: r.assignee_id,
            assignee_name: r.assignee_name,
            creator_id: r.creator_id,
            incident_id: r.incident_id,
            failed_mediations: r.failed_mediations,
            relapses: r.relapses,
            accepted_at: opt_from_ms(r.accepted_at),
            settled_at: opt_from_ms(r.settled_at),
            closed_at: opt_from_ms(r.closed_at),
            created_at: from_ms(r.created_at),
            updated_at: from_ms(r.updated_at),
            version: r.version,
        }
    }
}

fn dispute_where(f: &DisputeFilter) -> Where {
    let mut w = Where::default();
    w.scope_or_receiver("d.org_path", &f.scope_path, "lo.path", &f.level_org_path);
    if let Some(s) = &f.state {
        w.push("d.state = $?", Arg::S(s.clone()));
    }
    if let Some(c) = &f.colour {
        w.push("d.colour = $?", Arg::S(c.clone()));
    }
    if let Some(c) = &f.category {
        w.push("d.category_code = $?", Arg::S(c.clone()));
    }
    if let Some(c) = &f.class {
        w.push("d.class = $?", Arg::S(c.clone()));
    }
    if let Some(l) = f.level {
        w.push("d.level = $?", Arg::I(l));
    }
    if let Some(t) = f.from {
        w.push("d.created_at >= $?", Arg::I(ms(t)));
    }
    if let Some(t) = f.to {
        w.push("d.created_at < $?", Arg::I(ms(t)));
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        w.args.push(Arg::S(format!("%{q}%")));
        let n = w.args.len();
        w.raw(&format!("(d.number LIKE ${n} OR d.title LIKE ${n} OR d.description LIKE ${n} OR d.address LIKE ${n})"));
    }
    if f.board {
        w.raw("d.colour IN ('red', 'orange') AND d.state IN ('pending_accept', 'pending_mediation', 'mediating')");
    }
    w
}

/// Keeps a dispute's map item in step with it (layer `dispute`, category = its colour).
async fn sync_dispute_map_item(tx: &mut Transaction<'static, Db>, d: &Dispute) -> Result<()> {
    let (Some(lat), Some(lon)) = (d.lat, d.lon) else { return Ok(()) };
    let label = format!("{} {}", d.number, d.title.chars().take(30).collect::<String>());
    let open = zhufang_domain::dispute::is_open(&d.state);
    sqlx::query(
        "INSERT INTO map_items (kind, item_id, label, category, activity, state, is_open, deadline_at, done_at, org_path, \
         lat_e7, lon_e7, grid_id, station_id, occurred_at) \
         VALUES ('dispute', $1, $2, $3, '', $4, $5, NULL, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (kind, item_id) DO UPDATE SET label = excluded.label, category = excluded.category, \
         state = excluded.state, is_open = excluded.is_open, done_at = excluded.done_at",
    )
    .bind(d.id)
    .bind(label)
    .bind(&d.colour)
    .bind(&d.state)
    .bind(open)
    .bind(d.settled_at.map(ms))
    .bind(&d.org_path)
    .bind(e7(lat))
    .bind(e7(lon))
    .bind(d.grid_id)
    .bind(d.station_id)
    .bind(ms(d.created_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Backend {
    async fn dispute_in(&self, tx: &mut Transaction<'static, Db>, id: i64) -> Result<Dispute> {
        let row: Option<DisputeRow> =
            sqlx::query_as(concat!(dispute_select!(), " WHERE d.id = $1")).bind(id).fetch_optional(&mut **tx).await?;
        row.map(Dispute::from).ok_or(crate::StoreError::NotFound)
    }

    async fn notice_by_id(&self, id: i64) -> Result<Option<Notice>> {
        #[derive(FromRow)]
        struct Row {
            id: i64,
            dispute_id: i64,
            dispute_number: String,
            dispute_title: String,
            dispute_org_path: String,
            number: String,
            issuer: String,
            title: String,
            paragraphs: String,
            requested_actions: String,
            deadline_at: i64,
            issued_by_name: String,
            issued_at: i64,
            escalated_at: Option<i64>,
        }
        let row: Option<Row> = sqlx::query_as(
            "SELECT n.id, n.dispute_id, d.number AS dispute_number, d.title AS dispute_title, \
             d.org_path AS dispute_org_path, n.number, n.issuer, n.title, n.paragraphs, n.requested_actions, \
             n.deadline_at, n.issued_by_name, n.issued_at, n.escalated_at \
             FROM notices n JOIN disputes d ON d.id = n.dispute_id WHERE n.id = $1",
        )
        .bind(id)
        .fetch_optional(self.r())
        .await?;
        let Some(r) = row else { return Ok(None) };
        #[derive(FromRow)]
        struct Rec {
            org_id: i64,
            org_code: String,
            org_name: String,
            org_path: String,
            signed_at: Option<i64>,
            signed_by_name: Option<String>,
            reply: Option<String>,
        }
        let recs: Vec<Rec> = sqlx::query_as(
            "SELECT r.org_id, o.code AS org_code, o.name AS org_name, o.path AS org_path, r.signed_at, \
             r.signed_by_name, r.reply FROM notice_recipients r JOIN org_units o ON o.id = r.org_id \
             WHERE r.notice_id = $1 ORDER BY o.code",
        )
        .bind(id)
        .fetch_all(self.r())
        .await?;
        Ok(Some(Notice {
            id: r.id,
            dispute_id: r.dispute_id,
            dispute_number: r.dispute_number,
            dispute_title: r.dispute_title,
            dispute_org_path: r.dispute_org_path,
            number: r.number,
            issuer: r.issuer,
            title: r.title,
            paragraphs: serde_json::from_str(&r.paragraphs).unwrap_or_default(),
            requested_actions: r.requested_actions,
            deadline_at: from_ms(r.deadline_at),
            issued_by_name: r.issued_by_name,
            issued_at: from_ms(r.issued_at),
            escalated_at: opt_from_ms(r.escalated_at),
            recipients: recs
                .into_iter()
                .map(|x| NoticeRecipient {
                    org_id: x.org_id,
                    org_code: x.org_code,
                    org_name: x.org_name,
                    org_path: x.org_path,
                    signed_at: opt_from_ms(x.signed_at),
                    signed_by_name: x.signed_by_name,
                    reply: x.reply,
                })
                .collect(),
        }))
    }

    async fn notice_ids(&self, sql: &str, args: &[Arg]) -> Result<Vec<Notice>> {
        let ids: Vec<(i64,)> =
            bind_args!(sqlx::query_as(AssertSqlSafe(sql.to_string())), args).fetch_all(self.r()).await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.extend(self.notice_by_id(id).await?);
        }
        Ok(out)
    }

    /// Seeds the notice template from the domain's default when there is none.
    async fn ensure_notice_template(&self) -> Result<()> {
        use zhufang_domain::notice::{DISPUTE_WARNING, default_template};
        sqlx::query(
            "INSERT INTO notice_templates (name, body, updated_at) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING",
        )
        .bind(DISPUTE_WARNING)
        .bind(serde_json::to_string(&default_template()).unwrap_or_default())
        .execute(self.w())
        .await?;
        Ok(())
    }

    /// Seeds the colour rules from the domain's defaults when there are none.
    async fn ensure_dispute_rules(&self) -> Result<()> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM dispute_rules").fetch_one(self.w()).await?;
        if n == 0 {
            let rules = zhufang_domain::dispute::default_rules();
            let ev = AuditEvent::new(
                None,
                "system",
                "dispute_rules",
                "all",
                "seed",
                None,
                Some(&serde_json::to_value(&rules).unwrap_or_default()),
            );
            crate::DisputeStore::replace_dispute_rules(self, &rules, Utc::now(), &ev).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl crate::DisputeStore for Backend {
    async fn dispute_categories(&self) -> Result<Vec<DisputeCategory>> {
        let rows: Vec<(String, String, bool)> =
            sqlx::query_as("SELECT code, name, active FROM dispute_categories ORDER BY code")
                .fetch_all(self.r())
                .await?;
        Ok(rows.into_iter().map(|(code, name, active)| DisputeCategory { code, name, active }).collect())
    }

    async fn dispute_classes(&self) -> Result<Vec<DisputeClass>> {
        let rows: Vec<(String, String, String, i64)> =
            sqlx::query_as("SELECT code, label, definition, limit_days FROM dispute_classes ORDER BY code")
                .fetch_all(self.r())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(code, label, definition, limit_days)| DisputeClass { code, label, definition, limit_days })
            .collect())
    }

    async fn upsert_dispute_category(&self, c: &DisputeCategory, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()> {
        let mut tx = self.w().begin().await?;
        sqlx::query(
            "INSERT INTO dispute_categories (code, name, active) VALUES ($1, $2, $3) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, active = excluded.active",
        )
        .bind(&c.code)
        .bind(&c.name)
        .bind(c.active)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_dispute_class(&self, c: &DisputeClass, now: DateTime<Utc>, audit: &AuditEvent) -> Result<()> {
        let mut tx = self.w().begin().await?;
        let r = sqlx::query("UPDATE dispute_classes SET label = $1, definition = $2, limit_days = $3 WHERE code = $4")
            .bind(&c.label)
            .bind(&c.definition)
            .bind(c.limit_days)
            .bind(&c.code)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() != 1 {
            return Err(crate::StoreError::NotFound);
        }
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn dispute_rules(&self) -> Result<Vec<zhufang_domain::dispute::ColourRule>> {
        self.json_rows("dispute_rules").await
    }

    async fn replace_dispute_rules(
        &self,
        rules: &[zhufang_domain::dispute::ColourRule],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()> {
        let rows: Vec<(&str, &zhufang_domain::dispute::ColourRule)> =
            rules.iter().map(|r| (r.id.as_str(), r)).collect();
        self.replace_json_rows("dispute_rules", &rows, now, audit).await
    }

    async fn create_dispute(&self, n: &NewDispute) -> Result<Dispute> {
        let now = ms(n.now);
        let mut tx = self.w().begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO disputes (number, title, description, category_code, source, lat, lon, address, grid_id, \
             station_id, org_path, people_involved, amount, colour, fired_rules, state, creator_id, incident_id, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'pending_accept', $16, $17, $18, $18) \
             RETURNING id",
        )
        .bind(format!("tmp-{}", rand::random::<u64>()))
        .bind(&n.title)
        .bind(&n.description)
        .bind(&n.category_code)
        .bind(&n.source)
        .bind(n.lat)
        .bind(n.lon)
        .bind(&n.address)
        .bind(n.grid_id)
        .bind(n.station_id)
        .bind(&n.org_path)
        .bind(n.people_involved)
        .bind(n.amount)
        .bind(&n.colour)
        .bind(n.fired_rules.to_string())
        .bind(n.creator_id)
        .bind(n.incident_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| crate::StoreError::from_insert(e, "dispute"))?;
        let number = format!("JF{}{:06}", zhufang_domain::calendar::local_date(n.now).format("%Y%m%d"), id);
        sqlx::query("UPDATE disputes SET number = $1 WHERE id = $2").bind(&number).bind(id).execute(&mut *tx).await?;
        for p in &n.parties {
            sqlx::query(
                "INSERT INTO dispute_parties (dispute_id, side, kind, name, phone, id_number) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(&p.side)
            .bind(&p.kind)
            .bind(&p.name)
            .bind(&p.phone)
            .bind(&p.id_number)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(i) = n.incident_id {
            sqlx::query("INSERT INTO dispute_incidents (dispute_id, incident_id) VALUES ($1, $2)")
                .bind(id)
                .bind(i)
                .execute(&mut *tx)
                .await?;
        }
        append_event(
            &mut tx,
            &NewEvent {
                table: "dispute_events",
                key: "dispute_id",
                subject_id: id,
                at: now,
                actor_id: n.creator_id.into(),
                actor_name: &n.creator_name,
                action: "register",
                from_state: None,
                to_state: "pending_accept",
                note: None,
                data:
                    serde_json::json!({"colour": n.colour, "fired_rules": n.fired_rules, "incident_id": n.incident_id})
                        .to_string(),
            },
        )
        .await?;
        let d = self.dispute_in(&mut tx, id).await?;
        sync_dispute_map_item(&mut tx, &d).await?;
        let label = zhufang_domain::dispute::Colour::parse(&n.colour).map(|c| c.label_zh()).unwrap_or("");
        let notes: Vec<NewNotification> = n
            .notify_user_ids
            .iter()
            .map(|u| NewNotification {
                user_id: *u,
                kind: "dispute_colour".into(),
                task_id: None,
                message: format!("新登记矛盾纠纷 {}「{}」为{}预警", d.number, d.title, label),
            })
            .collect();
        insert_notifications(&mut tx, &notes, now).await?;
        let ev = AuditEvent::new(
            Some(n.creator_id),
            &n.creator_name,
            "dispute",
            id,
            "register",
            None,
            Some(&record_json(&d)),
        );
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        Ok(d)
    }

    async fn dispute(&self, id: i64) -> Result<Option<Dispute>> {
        let row: Option<DisputeRow> =
            sqlx::query_as(concat!(dispute_select!(), " WHERE d.id = $1")).bind(id).fetch_optional(self.r()).await?;
        Ok(row.map(Into::into))
    }

    async fn list_disputes(&self, f: &DisputeFilter, page: PageReq) -> Result<Page<Dispute>> {
        let w = dispute_where(f);
        let count_sql =
            format!("SELECT COUNT(*) FROM disputes d LEFT JOIN org_units lo ON lo.id = d.level_org_id{}", w.sql());
        let (total,): (i64,) =
            bind_args!(sqlx::query_as(AssertSqlSafe(count_sql)), &w.args).fetch_one(self.r()).await?;
        let n = w.next();
        let order = if f.board { " ORDER BY d.created_at, d.id" } else { " ORDER BY d.created_at DESC, d.id DESC" };
        let sql = format!("{}{}{} LIMIT ${} OFFSET ${}", dispute_select!(), w.sql(), order, n, n + 1);
        let rows: Vec<DisputeRow> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args)
            .bind(page.per_page)
            .bind(page.offset())
            .fetch_all(self.r())
            .await?;
        Ok(Page { items: rows.into_iter().map(Into::into).collect(), total, page: page.page, per_page: page.per_page })
    }

    async fn dispute_parties(&self, id: i64) -> Result<Vec<DisputeParty>> {
        let rows: Vec<(i64, String, String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, side, kind, name, phone, id_number FROM dispute_parties WHERE dispute_id = $1 ORDER BY side, id",
        )
        .bind(id)
        .fetch_all(self.r())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, side, kind, name, phone, id_number)| DisputeParty {
                id,
                name_masked: if kind == "natural" { zhufang_domain::types::mask_name(&name) } else { name.clone() },
                side,
                kind,
                name,
                phone_masked: phone.as_deref().map(zhufang_domain::types::mask_phone),
                phone,
                id_number_masked: id_number.as_deref().map(zhufang_domain::types::mask_id_number),
                id_number,
            })
            .collect())
    }

    async fn dispute_sessions(&self, id: i64) -> Result<Vec<DisputeSession>> {
        let rows: Vec<(i64, i64, String, String, String, String, String)> = sqlx::query_as(
            "SELECT id, held_at, mediators, place, outcome, agreement, created_by_name FROM dispute_sessions \
             WHERE dispute_id = $1 ORDER BY held_at, id",
        )
        .bind(id)
        .fetch_all(self.r())
        .await?;
        let files: Vec<(i64, Option<i64>, String)> =
            sqlx::query_as("SELECT id, session_id, original_name FROM dispute_files WHERE dispute_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(self.r())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, held_at, mediators, place, outcome, agreement, created_by_name)| DisputeSession {
                id,
                held_at: from_ms(held_at),
                mediators,
                place,
                outcome,
                agreement,
                created_by_name,
                files: files.iter().filter(|f| f.1 == Some(id)).map(|f| (f.0, f.2.clone())).collect(),
            })
            .collect())
    }

    async fn dispute_escalations(&self, id: i64) -> Result<Vec<DisputeEscalation>> {
        #[derive(FromRow)]
        struct Row {
            id: i64,
            from_level: i64,
            to_level: i64,
            to_org_id: Option<i64>,
            to_org_name: Option<String>,
            reason: String,
            by_name: String,
            at: i64,
            signed_by_name: Option<String>,
            signed_at: Option<i64>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT e.id, e.from_level, e.to_level, e.to_org_id, o.name AS to_org_name, e.reason, e.by_name, e.at, \
             e.signed_by_name, e.signed_at FROM dispute_escalations e LEFT JOIN org_units o ON o.id = e.to_org_id \
             WHERE e.dispute_id = $1 ORDER BY e.id",
        )
        .bind(id)
        .fetch_all(self.r())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DisputeEscalation {
                id: r.id,
                from_level: r.from_level,
                to_level: r.to_level,
                to_org_id: r.to_org_id,
                to_org_name: r.to_org_name,
                reason: r.reason,
                by_name: r.by_name,
                at: from_ms(r.at),
                signed_by_name: r.signed_by_name,
                signed_at: opt_from_ms(r.signed_at),
            })
            .collect())
    }

    async fn dispute_timeline(&self, id: i64) -> Result<Vec<DisputeEvent>> {
        self.subject_events("dispute_events", "dispute_id", id).await
    }

    async fn dispute_incident_ids(&self, id: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT incident_id FROM dispute_incidents WHERE dispute_id = $1 ORDER BY incident_id")
                .bind(id)
                .fetch_all(self.r())
                .await?;
        Ok(rows.into_iter().map(|(i,)| i).collect())
    }

    async fn dispute_incident_times(&self, q: &DisputeIncidentQuery) -> Result<Vec<i64>> {
        let mut rows: Vec<(i64, i64)> = Vec::new();
        if let Some(id) = q.dispute_id {
            rows.extend(
                sqlx::query_as::<_, (i64, i64)>(
                    "SELECT i.id, i.received_at FROM incidents i JOIN dispute_incidents di ON di.incident_id = i.id \
                     WHERE di.dispute_id = $1",
                )
                .bind(id)
                .fetch_all(self.r())
                .await?,
            );
        }
        for i in &q.incident_ids {
            rows.extend(
                sqlx::query_as::<_, (i64, i64)>("SELECT id, received_at FROM incidents WHERE id = $1")
                    .bind(i)
                    .fetch_optional(self.r())
                    .await?,
            );
        }
        for p in &q.phones {
            rows.extend(
                sqlx::query_as::<_, (i64, i64)>("SELECT id, received_at FROM incidents WHERE caller_phone = $1")
                    .bind(p)
                    .fetch_all(self.r())
                    .await?,
            );
        }
        if let Some((lat, lon, metres)) = q.near {
            let dlat = metres / 111_320.0;
            let dlon = dlat / lat.to_radians().cos().max(0.01);
            let near: Vec<(i64, i64, f64, f64)> = sqlx::query_as(
                "SELECT id, received_at, lat, lon FROM incidents WHERE type_code LIKE '04%' \
                 AND lat BETWEEN $1 AND $2 AND lon BETWEEN $3 AND $4",
            )
            .bind(lat - dlat)
            .bind(lat + dlat)
            .bind(lon - dlon)
            .bind(lon + dlon)
            .fetch_all(self.r())
            .await?;
            for (id, at, plat, plon) in near {
                let dy = (plat - lat) * 111_320.0;
                let dx = (plon - lon) * 111_320.0 * lat.to_radians().cos();
                if (dx * dx + dy * dy).sqrt() <= metres {
                    rows.push((id, at));
                }
            }
        }
        rows.sort_unstable();
        rows.dedup_by_key(|r| r.0);
        Ok(rows.into_iter().map(|(_, at)| at).collect())
    }

    async fn dispute_notes(&self, id: i64) -> Result<Vec<String>> {
        let mut out: Vec<(i64, String)> = sqlx::query_as(
            "SELECT at, note FROM dispute_events WHERE dispute_id = $1 AND note IS NOT NULL AND note <> ''",
        )
        .bind(id)
        .fetch_all(self.r())
        .await?;
        let sessions: Vec<(i64, String)> =
            sqlx::query_as("SELECT held_at, agreement FROM dispute_sessions WHERE dispute_id = $1 AND agreement <> ''")
                .bind(id)
                .fetch_all(self.r())
                .await?;
        out.extend(sessions);
        out.sort_by_key(|(at, _)| *at);
        Ok(out.into_iter().map(|(_, n)| n).collect())
    }

    async fn dispute_file(&self, id: i64) -> Result<Option<DisputeFile>> {
        let row: Option<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT id, dispute_id, stored_name, original_name, content_type FROM dispute_files WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.r())
        .await?;
        Ok(row.map(|(id, dispute_id, stored_name, original_name, content_type)| DisputeFile {
            id,
            dispute_id,
            stored_name,
            original_name,
            content_type,
        }))
    }

    async fn dispute_plan(&self, id: i64) -> Result<Option<DisputePlan>> {
        let row: Option<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT plan, responsible, checklist, updated_by_name, updated_at FROM dispute_plans WHERE dispute_id = $1",
        )
        .bind(id)
        .fetch_optional(self.r())
        .await?;
        Ok(row.map(|(plan, responsible, checklist, updated_by_name, updated_at)| DisputePlan {
            plan,
            responsible,
            checklist: serde_json::from_str(&checklist).unwrap_or_default(),
            updated_by_name,
            updated_at: from_ms(updated_at),
        }))
    }

    async fn save_dispute_plan(&self, id: i64, p: &DisputePlan, actor_id: i64, audit: &AuditEvent) -> Result<()> {
        let now = ms(p.updated_at);
        let mut tx = self.w().begin().await?;
        let state: Option<(String,)> =
            sqlx::query_as("SELECT state FROM disputes WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        let (state,) = state.ok_or(crate::StoreError::NotFound)?;
        sqlx::query(
            "INSERT INTO dispute_plans (dispute_id, plan, responsible, checklist, updated_by_name, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dispute_id) DO UPDATE SET plan = excluded.plan, \
             responsible = excluded.responsible, checklist = excluded.checklist, \
             updated_by_name = excluded.updated_by_name, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(&p.plan)
        .bind(&p.responsible)
        .bind(serde_json::to_string(&p.checklist).unwrap_or_default())
        .bind(&p.updated_by_name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let done = p.checklist.iter().filter(|c| c.done).count();
        append_event(
            &mut tx,
            &NewEvent {
                table: "dispute_events",
                key: "dispute_id",
                subject_id: id,
                at: now,
                actor_id: actor_id.into(),
                actor_name: &p.updated_by_name,
                action: "plan",
                from_state: Some(state.as_str()),
                to_state: &state,
                note: None,
                data: serde_json::json!({"checklist_done": done, "checklist_items": p.checklist.len()}).to_string(),
            },
        )
        .await?;
        append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn notice_template(&self, name: &str) -> Result<Option<zhufang_domain::notice::NoticeTemplate>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT body FROM notice_templates WHERE name = $1")
            .bind(name)
            .fetch_optional(self.r())
            .await?;
        row.map(|(b,)| {
            serde_json::from_str(&b).map_err(|e| crate::StoreError::Invalid(format!("notice template: {e}")))
        })
        .transpose()
    }

    async fn save_notice_template(
        &self,
        name: &str,
        t: &zhufang_domain::notice::NoticeTemplate,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()> {
        let mut tx = self.w().begin().await?;
        sqlx::query(
            "INSERT INTO notice_templates (name, body, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(serde_json::to_string(t).unwrap_or_default())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn issue_notice(&self, n: &NewNotice) -> Result<Notice> {
        let now = ms(n.now);
        let mut tx = self.w().begin().await?;
        let (seq,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) + 1 FROM notices WHERE year = $1")
            .bind(i64::from(n.year))
            .fetch_one(&mut *tx)
            .await?;
        let number = zhufang_domain::notice::number(&n.number_prefix, n.year, seq);
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO notices (dispute_id, year, seq, number, issuer, title, paragraphs, requested_actions, \
             deadline_at, issued_by, issued_by_name, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(n.dispute_id)
        .bind(i64::from(n.year))
        .bind(seq)
        .bind(&number)
        .bind(&n.issuer)
        .bind(&n.title)
        .bind(serde_json::to_string(&n.paragraphs).unwrap_or_default())
        .bind(&n.requested_actions)
        .bind(ms(n.deadline_at))
        .bind(n.issued_by)
        .bind(&n.issued_by_name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| crate::StoreError::from_insert(e, "notice"))?;
        for org in &n.recipient_org_ids {
            sqlx::query("INSERT INTO notice_recipients (notice_id, org_id) VALUES ($1, $2)")
                .bind(id)
                .bind(org)
                .execute(&mut *tx)
                .await?;
        }
        let (state, title): (String, String) = sqlx::query_as("SELECT state, title FROM disputes WHERE id = $1")
            .bind(n.dispute_id)
            .fetch_one(&mut *tx)
            .await?;
        append_event(
            &mut tx,
            &NewEvent {
                table: "dispute_events",
                key: "dispute_id",
                subject_id: n.dispute_id,
                at: now,
                actor_id: n.issued_by.into(),
                actor_name: &n.issued_by_name,
                action: "notice",
                from_state: Some(state.as_str()),
                to_state: &state,
                note: Some(&format!("发出{}（{}）", n.title, number)),
                data: serde_json::json!({"notice_id": id, "number": number}).to_string(),
            },
        )
        .await?;
        let notes: Vec<NewNotification> = n
            .notify_user_ids
            .iter()
            .map(|u| NewNotification {
                user_id: *u,
                kind: "notice".into(),
                task_id: None,
                message: format!("收到{}（{}）：矛盾纠纷「{}」，请签收并按期反馈", n.title, number, title),
            })
            .collect();
        insert_notifications(&mut tx, &notes, now).await?;
        let ev = AuditEvent::new(
            Some(n.issued_by),
            &n.issued_by_name,
            "notice",
            id,
            "issue",
            None,
            Some(&serde_json::json!({"number": number, "dispute_id": n.dispute_id, "recipients": n.recipient_org_ids})),
        );
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        self.notice_by_id(id).await?.ok_or(crate::StoreError::NotFound)
    }

    async fn notice(&self, id: i64) -> Result<Option<Notice>> {
        self.notice_by_id(id).await
    }

    async fn list_notices(&self, f: &NoticeFilter, page: PageReq) -> Result<Page<Notice>> {
        let mut w = Where::default();
        if let Some(p) = &f.scope_path {
            w.push("d.org_path LIKE $?", Arg::S(format!("{p}%")));
        }
        if let Some(p) = &f.recipient_path {
            w.args.push(Arg::S(format!("{p}%")));
            let k = w.args.len();
            w.raw(&format!(
                "n.id IN (SELECT r.notice_id FROM notice_recipients r JOIN org_units o ON o.id = r.org_id WHERE o.path LIKE ${k})"
            ));
        }
        if let Some(id) = f.dispute_id {
            w.push("n.dispute_id = $?", Arg::I(id));
        }
        if f.unsigned {
            w.raw("n.id IN (SELECT notice_id FROM notice_recipients WHERE signed_at IS NULL)");
        }
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            w.args.push(Arg::S(format!("%{q}%")));
            let k = w.args.len();
            w.raw(&format!("(n.number LIKE ${k} OR d.number LIKE ${k} OR d.title LIKE ${k})"));
        }
        let count_sql = format!("SELECT COUNT(*) FROM notices n JOIN disputes d ON d.id = n.dispute_id{}", w.sql());
        let (total,): (i64,) =
            bind_args!(sqlx::query_as(AssertSqlSafe(count_sql)), &w.args).fetch_one(self.r()).await?;
        let n = w.next();
        let sql = format!(
            "SELECT n.id FROM notices n JOIN disputes d ON d.id = n.dispute_id{} ORDER BY n.issued_at DESC, n.id DESC LIMIT ${n} OFFSET ${}",
            w.sql(),
            n + 1
        );
        w.args.push(Arg::I(page.per_page));
        w.args.push(Arg::I(page.offset()));
        let items = self.notice_ids(&sql, &w.args).await?;
        Ok(Page { items, total, page: page.page, per_page: page.per_page })
    }

    async fn sign_notice(
        &self,
        id: i64,
        org_id: i64,
        by_name: &str,
        reply: Option<&str>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<Notice> {
        let mut tx = self.w().begin().await?;
        let r = sqlx::query(
            "UPDATE notice_recipients SET signed_at = $1, signed_by_name = $2, reply = $3 \
             WHERE notice_id = $4 AND org_id = $5 AND signed_at IS NULL",
        )
        .bind(ms(now))
        .bind(by_name)
        .bind(reply)
        .bind(id)
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            return Err(crate::StoreError::Conflict);
        }
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        self.notice_by_id(id).await?.ok_or(crate::StoreError::NotFound)
    }

    async fn late_notices(&self, now: DateTime<Utc>) -> Result<Vec<Notice>> {
        self.notice_ids(
            "SELECT n.id FROM notices n WHERE n.escalated_at IS NULL AND n.deadline_at < $1 \
             AND n.id IN (SELECT notice_id FROM notice_recipients WHERE signed_at IS NULL) ORDER BY n.id LIMIT 500",
            &[Arg::I(ms(now))],
        )
        .await
    }

    async fn escalate_notice(&self, id: i64, now: DateTime<Utc>, notes: &[NewNotification]) -> Result<()> {
        let mut tx = self.w().begin().await?;
        let r = sqlx::query("UPDATE notices SET escalated_at = $1 WHERE id = $2 AND escalated_at IS NULL")
            .bind(ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 1 {
            insert_notifications(&mut tx, notes, ms(now)).await?;
            let ev = AuditEvent::new(None, "system", "notice", id, "escalate_late", None, None);
            append_audit(&mut tx, &ev, ms(now)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn dispute_stats(&self, f: &DisputeFilter) -> Result<Vec<DisputeStatRow>> {
        #[derive(FromRow)]
        struct Row {
            station_id: i64,
            station_name: String,
            grid_id: Option<i64>,
            grid_name: Option<String>,
            category_code: String,
            category_name: String,
            colour: String,
            class: Option<String>,
            created_at: i64,
            accepted_at: Option<i64>,
            settled_at: Option<i64>,
            relapses: i64,
            level: i64,
            limit_days: Option<i64>,
        }
        let w = dispute_where(f);
        let sql = format!(
            "SELECT d.station_id, s.name AS station_name, d.grid_id, g.name AS grid_name, d.category_code, \
             c.name AS category_name, d.colour, d.class, d.created_at, d.accepted_at, d.settled_at, d.relapses, d.level, \
             k.limit_days FROM disputes d JOIN org_units s ON s.id = d.station_id \
             JOIN dispute_categories c ON c.code = d.category_code LEFT JOIN grids g ON g.id = d.grid_id \
             LEFT JOIN dispute_classes k ON k.code = d.class LEFT JOIN org_units lo ON lo.id = d.level_org_id{}",
            w.sql()
        );
        let rows: Vec<Row> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args).fetch_all(self.r()).await?;
        Ok(rows
            .into_iter()
            .map(|r| DisputeStatRow {
                station_id: r.station_id,
                station_name: r.station_name,
                grid_id: r.grid_id,
                grid_name: r.grid_name,
                category_code: r.category_code,
                category_name: r.category_name,
                colour: r.colour,
                class: r.class,
                stat: zhufang_domain::dispute::Stat {
                    created_at: r.created_at,
                    accepted_at: r.accepted_at,
                    settled_at: r.settled_at,
                    relapses: r.relapses,
                    level: r.level,
                    limit_days: r.limit_days,
                },
            })
            .collect())
    }

    async fn link_dispute_follow_up(&self, dispute_id: i64, task_id: i64, day: i64) -> Result<()> {
        sqlx::query("INSERT INTO dispute_follow_ups (dispute_id, task_id, day) VALUES ($1, $2, $3)")
            .bind(dispute_id)
            .bind(task_id)
            .bind(day)
            .execute(self.w())
            .await?;
        Ok(())
    }

    async fn dispute_follow_ups(&self, dispute_id: i64) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as("SELECT day, task_id FROM dispute_follow_ups WHERE dispute_id = $1 ORDER BY task_id")
            .bind(dispute_id)
            .fetch_all(self.r())
            .await?)
    }

    async fn apply_dispute_transition(
        &self,
        w: &DisputeWrite,
        colour: &str,
        fired_rules: &serde_json::Value,
    ) -> Result<Dispute> {
        let now = ms(w.now);
        let mut tx = self.w().begin().await?;
        let before = self.dispute_in(&mut tx, w.dispute_id).await?;
        if before.version != w.expected_version || before.state != w.from_state {
            return Err(crate::StoreError::Conflict);
        }
        let (level, level_org) = match w.escalate_to {
            Some((l, o)) => (Some(l), o),
            None => (w.set_level, None),
        };
        let flag = |b: bool| if b { Some(now) } else { None };
        let r = sqlx::query(
            "UPDATE disputes SET state = $1, class = COALESCE($2, class), level = COALESCE($3, level), \
             level_org_id = CASE WHEN $4 THEN $5 ELSE level_org_id END, colour = $6, fired_rules = $7, \
             failed_mediations = failed_mediations + $8, relapses = relapses + $9, \
             accepted_at = COALESCE(accepted_at, $10), settled_at = CASE WHEN $16 THEN NULL ELSE COALESCE($11, settled_at) END, \
             closed_at = COALESCE($12, closed_at), people_involved = COALESCE($13, people_involved), \
             amount = COALESCE($14, amount), updated_at = $15, version = version + 1 \
             WHERE id = $17 AND version = $18",
        )
        .bind(&w.to_state)
        .bind(&w.class)
        .bind(level)
        .bind(w.escalate_to.is_some())
        .bind(level_org)
        .bind(colour)
        .bind(fired_rules.to_string())
        .bind(i64::from(w.failed))
        .bind(i64::from(w.relapse))
        .bind(flag(w.accepted))
        .bind(flag(w.settled))
        .bind(flag(w.closes))
        .bind(w.people_involved)
        .bind(w.amount)
        .bind(now)
        .bind(w.relapse)
        .bind(w.dispute_id)
        .bind(w.expected_version)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            return Err(crate::StoreError::Conflict);
        }
        if let Some((to_level, to_org)) = w.escalate_to {
            sqlx::query(
                "INSERT INTO dispute_escalations (dispute_id, from_level, to_level, to_org_id, reason, by_id, by_name, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(w.dispute_id)
            .bind(before.level)
            .bind(to_level)
            .bind(to_org)
            .bind(w.note.clone().unwrap_or_default())
            .bind(w.actor_id)
            .bind(&w.actor_name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if w.sign_escalation {
            sqlx::query(
                "UPDATE dispute_escalations SET signed_by_name = $1, signed_at = $2 WHERE id = \
                 (SELECT MAX(id) FROM dispute_escalations WHERE dispute_id = $3 AND signed_at IS NULL)",
            )
            .bind(&w.actor_name)
            .bind(now)
            .bind(w.dispute_id)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(s) = &w.session {
            let (session_id,): (i64,) = sqlx::query_as(
                "INSERT INTO dispute_sessions (dispute_id, held_at, mediators, place, outcome, agreement, created_by, \
                 created_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(w.dispute_id)
            .bind(ms(s.held_at))
            .bind(&s.mediators)
            .bind(&s.place)
            .bind(&s.outcome)
            .bind(&s.agreement)
            .bind(w.actor_id)
            .bind(&w.actor_name)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for f in &w.session_files {
                sqlx::query(
                    "INSERT INTO dispute_files (dispute_id, session_id, stored_name, original_name, content_type, \
                     size_bytes, sha256, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(w.dispute_id)
                .bind(session_id)
                .bind(&f.stored_name)
                .bind(&f.original_name)
                .bind(&f.content_type)
                .bind(f.size_bytes)
                .bind(&f.sha256)
                .bind(w.actor_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        if let Some(i) = w.link_incident {
            sqlx::query(
                "INSERT INTO dispute_incidents (dispute_id, incident_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(w.dispute_id)
            .bind(i)
            .execute(&mut *tx)
            .await?;
        }
        let data = serde_json::json!({
            "class": w.class, "escalate_to": w.escalate_to, "colour": colour, "colour_before": before.colour,
            "fired_rules": fired_rules, "session": w.session.as_ref().map(|s| serde_json::json!({
                "held_at": s.held_at, "mediators": s.mediators, "place": s.place, "outcome": s.outcome})),
            "link_incident": w.link_incident, "people_involved": w.people_involved, "amount": w.amount,
        });
        append_event(
            &mut tx,
            &NewEvent {
                table: "dispute_events",
                key: "dispute_id",
                subject_id: w.dispute_id,
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
        let after = self.dispute_in(&mut tx, w.dispute_id).await?;
        sync_dispute_map_item(&mut tx, &after).await?;
        let ev = AuditEvent::new(
            Some(w.actor_id),
            &w.actor_name,
            "dispute",
            w.dispute_id,
            &w.action,
            Some(&record_json(&before)),
            Some(&record_json(&after)),
        );
        append_audit(&mut tx, &ev, now).await?;
        tx.commit().await?;
        Ok(after)
    }
}
