// The duty rhythm's storage, shared by both backends: included by
// `sqlite.rs` and `postgres.rs` after `common.rs` (whose helpers it uses).

macro_rules! duty_select {
    () => {
        "SELECT t.id, t.name, t.catalogue_code, c.name AS catalogue_name, t.role, t.assignee_id, \
         u.display_name AS assignee_name, t.org_id, o.code AS org_code, o.name AS org_name, o.path AS org_path, \
         t.rrule, t.start_day, t.at_time, t.holiday, t.active, t.seeded, t.version \
         FROM duty_templates t JOIN org_units o ON o.id = t.org_id JOIN catalogue_items c ON c.code = t.catalogue_code \
         LEFT JOIN users u ON u.id = t.assignee_id"
    };
}

#[derive(FromRow)]
struct DutyRow {
    id: i64,
    name: String,
    catalogue_code: String,
    catalogue_name: String,
    role: Option<String>,
    assignee_id: Option<i64>,
    assignee_name: Option<String>,
    org_id: i64,
    org_code: String,
    org_name: String,
    org_path: String,
    rrule: String,
    start_day: String,
    at_time: String,
    holiday: String,
    active: bool,
    seeded: bool,
    version: i64,
}

impl From<DutyRow> for DutyTemplate {
    fn from(r: DutyRow) -> Self {
        DutyTemplate {
            id: r.id,
            name: r.name,
            catalogue_code: r.catalogue_code,
            catalogue_name: r.catalogue_name,
            role: r.role,
            assignee_id: r.assignee_id,
            assignee_name: r.assignee_name,
            org_id: r.org_id,
            org_code: r.org_code,
            org_name: r.org_name,
            org_path: r.org_path,
            rrule: r.rrule,
            start_day: chrono::NaiveDate::parse_from_str(&r.start_day, "%Y-%m-%d").unwrap_or_default(),
            at_time: r.at_time,
            holiday: r.holiday,
            active: r.active,
            seeded: r.seeded,
            version: r.version,
        }
    }
}

fn day_text(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[async_trait]
impl crate::DutyStore for Backend {
    async fn duty_templates(&self, scope_path: Option<&str>) -> Result<Vec<DutyTemplate>> {
        let rows: Vec<DutyRow> = sqlx::query_as(concat!(duty_select!(), " WHERE o.path LIKE $1 ORDER BY o.path, t.id"))
            .bind(format!("{}%", scope_path.unwrap_or("")))
            .fetch_all(self.r())
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn duty_template(&self, id: i64) -> Result<Option<DutyTemplate>> {
        let row: Option<DutyRow> =
            sqlx::query_as(concat!(duty_select!(), " WHERE t.id = $1")).bind(id).fetch_optional(self.r()).await?;
        Ok(row.map(Into::into))
    }

    async fn save_duty_template(&self, t: &DutyTemplateWrite, audit: &AuditEvent) -> Result<DutyTemplate> {
        let now = ms(t.now);
        let mut tx = self.w().begin().await?;
        let id = match t.id {
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO duty_templates (name, catalogue_code, role, assignee_id, org_id, rrule, start_day, at_time, \
                     holiday, active, seeded, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
                )
                .bind(&t.name)
                .bind(&t.catalogue_code)
                .bind(&t.role)
                .bind(t.assignee_id)
                .bind(t.org_id)
                .bind(&t.rrule)
                .bind(day_text(t.start_day))
                .bind(&t.at_time)
                .bind(&t.holiday)
                .bind(t.active)
                .bind(t.seeded)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                id
            }
            Some(id) => {
                let r = sqlx::query(
                    "UPDATE duty_templates SET name = $1, catalogue_code = $2, role = $3, assignee_id = $4, org_id = $5, \
                     rrule = $6, start_day = $7, at_time = $8, holiday = $9, active = $10, updated_at = $11, \
                     version = version + 1 WHERE id = $12 AND ($13 OR version = $14)",
                )
                .bind(&t.name)
                .bind(&t.catalogue_code)
                .bind(&t.role)
                .bind(t.assignee_id)
                .bind(t.org_id)
                .bind(&t.rrule)
                .bind(day_text(t.start_day))
                .bind(&t.at_time)
                .bind(&t.holiday)
                .bind(t.active)
                .bind(now)
                .bind(id)
                .bind(t.expected_version.is_none())
                .bind(t.expected_version.unwrap_or(0))
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() != 1 {
                    return Err(crate::StoreError::Conflict);
                }
                id
            }
        };
        append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        self.duty_template(id).await?.ok_or(crate::StoreError::NotFound)
    }

    async fn claim_duty_occurrence(
        &self,
        template_id: i64,
        due_day: chrono::NaiveDate,
        user_id: i64,
        day: chrono::NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<DutyClaim> {
        let inserted = sqlx::query(
            "INSERT INTO duty_occurrences (template_id, due_day, user_id, day, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (template_id, day, user_id) DO NOTHING",
        )
        .bind(template_id)
        .bind(day_text(due_day))
        .bind(user_id)
        .bind(day_text(day))
        .bind(ms(now))
        .execute(self.w())
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(DutyClaim::Mine);
        }
        let (task, claimed_at): (Option<i64>, i64) = sqlx::query_as(
            "SELECT task_id, created_at FROM duty_occurrences WHERE template_id = $1 AND day = $2 AND user_id = $3",
        )
        .bind(template_id)
        .bind(day_text(day))
        .bind(user_id)
        .fetch_one(self.w())
        .await?;
        if let Some(t) = task {
            return Ok(DutyClaim::Done(t));
        }
        if claimed_at > ms(now) - 10 * 60_000 {
            return Ok(DutyClaim::Busy);
        }
        // abandoned by a crashed run: take it over (compare-and-set, so only one run does)
        let took = sqlx::query(
            "UPDATE duty_occurrences SET created_at = $1 WHERE template_id = $2 AND day = $3 AND user_id = $4 \
             AND task_id IS NULL AND created_at = $5",
        )
        .bind(ms(now))
        .bind(template_id)
        .bind(day_text(day))
        .bind(user_id)
        .bind(claimed_at)
        .execute(self.w())
        .await?
        .rows_affected();
        Ok(if took == 1 { DutyClaim::Mine } else { DutyClaim::Busy })
    }

    async fn duty_stats(
        &self,
        scope_path: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<DutyStat>> {
        #[derive(FromRow)]
        struct Row {
            template_id: i64,
            template_name: String,
            station_id: i64,
            station_name: String,
            user_id: i64,
            user_name: String,
            due_at: Option<i64>,
            done_at: Option<i64>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT o.template_id, dt.name AS template_name, dt.org_id AS station_id, org.name AS station_name, \
             o.user_id, u.display_name AS user_name, t.due_at, t.feedback_at AS done_at \
             FROM duty_occurrences o JOIN duty_templates dt ON dt.id = o.template_id \
             JOIN org_units org ON org.id = dt.org_id JOIN users u ON u.id = o.user_id JOIN tasks t ON t.id = o.task_id \
             WHERE org.path LIKE $1 AND o.day >= $2 AND o.day <= $3 AND t.state <> 'cancelled'",
        )
        .bind(format!("{scope_path}%"))
        .bind(day_text(from))
        .bind(day_text(to))
        .fetch_all(self.r())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(DutyStat {
                    template_id: r.template_id,
                    template_name: r.template_name,
                    station_id: r.station_id,
                    station_name: r.station_name,
                    user_id: r.user_id,
                    user_name: r.user_name,
                    due_at: r.due_at?,
                    done_at: r.done_at,
                })
            })
            .collect())
    }

    async fn set_calendar_token(
        &self,
        user_id: i64,
        token_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()> {
        let mut tx = self.w().begin().await?;
        sqlx::query(
            "INSERT INTO calendar_tokens (user_id, token_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
        )
        .bind(user_id)
        .bind(token_hash)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_calendar_token(&self, user_id: i64, now: DateTime<Utc>, audit: &AuditEvent) -> Result<bool> {
        let mut tx = self.w().begin().await?;
        let r = sqlx::query("DELETE FROM calendar_tokens WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        append_audit(&mut tx, audit, ms(now)).await?;
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
    }

    async fn user_by_calendar_token(&self, token_hash: &str) -> Result<Option<User>> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT user_id FROM calendar_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(self.r())
            .await?;
        let Some((id,)) = row else { return Ok(None) };
        Ok(crate::Store::user(self, id).await?.filter(|u| u.active))
    }

    async fn calendar_entries(
        &self,
        who: &CalendarScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CalendarEntry>> {
        #[derive(FromRow)]
        struct Row {
            id: i64,
            number: String,
            title: String,
            state: String,
            assignee_name: Option<String>,
            due_at: Option<i64>,
            day: Option<String>,
            at_time: Option<String>,
        }
        let (cond, arg) = match who {
            CalendarScope::Person(id) => ("t.assignee_id = $1", Arg::I(*id)),
            CalendarScope::Unit(path) => ("t.org_path LIKE $1", Arg::S(format!("{path}%"))),
        };
        let sql = format!(
            "SELECT t.id, t.number, t.title, t.state, u.display_name AS assignee_name, t.due_at, o.day, dt.at_time \
             FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id \
             LEFT JOIN duty_occurrences o ON o.task_id = t.id LEFT JOIN duty_templates dt ON dt.id = o.template_id \
             WHERE {cond} AND t.due_at >= $2 AND t.due_at < $3 ORDER BY t.due_at, t.id LIMIT 2000"
        );
        let rows: Vec<Row> = bind_args!(sqlx::query_as(AssertSqlSafe(sql)), std::slice::from_ref(&arg))
            .bind(ms(from))
            .bind(ms(to))
            .fetch_all(self.r())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| CalendarEntry {
                task_id: r.id,
                number: r.number,
                title: r.title,
                state: r.state,
                assignee_name: r.assignee_name,
                due_at: opt_from_ms(r.due_at),
                duty_day: r.day.and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
                at_time: r.at_time,
            })
            .collect())
    }

    async fn set_duty_occurrence_task(
        &self,
        template_id: i64,
        day: chrono::NaiveDate,
        user_id: i64,
        task_id: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE duty_occurrences SET task_id = $1 WHERE template_id = $2 AND day = $3 AND user_id = $4")
            .bind(task_id)
            .bind(template_id)
            .bind(day_text(day))
            .bind(user_id)
            .execute(self.w())
            .await?;
        Ok(())
    }
}
