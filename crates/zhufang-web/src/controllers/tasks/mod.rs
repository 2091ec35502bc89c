//! Prevention tasks: the ledger, creation, detail, transitions and export.

pub mod create;
pub mod export;
pub mod list;
pub mod problems;
pub mod show;
pub mod transition;

pub use create::{create, create_form, new_page};
pub use export::export;
pub use list::{list, list_page, mine_page};
pub use show::{show, show_page};
pub use transition::{transition, transition_form};

use crate::error::AppError;
use crate::i18n::Tr;
use crate::state::AppState;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhufang_domain::task::{DueStatus, due_status};
use zhufang_domain::workflow::Workflow;
use zhufang_store::model::{Task, TaskFilter};
use zhufang_store::service;

/// A task as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct TaskOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub task: Task,
    /// Chinese label of the state.
    pub state_label: String,
    /// none, on_time, due_soon or overdue.
    pub due_status: &'static str,
}

impl TaskOut {
    pub fn new(task: Task, wf: &Workflow) -> Self {
        let state_label = wf.state(&task.state).map(|s| s.label_zh.clone()).unwrap_or_else(|| task.state.clone());
        let due_status = due_status(task.clock(), Utc::now()).as_str();
        Self { task, state_label, due_status }
    }
}

/// Filters of the ledger, shared by the API, the page and the export.
#[derive(Debug, Default, Deserialize, IntoParams, Clone)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// State, e.g. `dispatched`.
    pub state: Option<String>,
    /// Org unit code: the unit and its subtree.
    pub org_unit: Option<String>,
    /// Assignee username.
    pub assignee: Option<String>,
    pub catalogue_code: Option<String>,
    /// Only tasks whose running clock has run out.
    pub overdue: Option<String>,
    /// Only tasks past 80 % of their window.
    pub due_soon: Option<String>,
    /// Created on or after this day (YYYY-MM-DD, Beijing).
    pub from: Option<String>,
    /// Created on or before this day (YYYY-MM-DD, Beijing).
    pub to: Option<String>,
    /// Text in title, number or description.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn some(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn truthy(s: &Option<String>) -> bool {
    matches!(some(s), Some("1" | "true" | "on" | "yes"))
}

impl ListQuery {
    /// The store filter: the user's visibility plus the requested filters.
    pub async fn to_filter(&self, state: &AppState, user: &zhufang_store::model::User) -> Result<TaskFilter, AppError> {
        let mut f = service::visibility(user);
        let now = Utc::now();
        f.state = some(&self.state).map(String::from);
        if let Some(code) = some(&self.org_unit) {
            let org =
                state.store.org_unit_by_code(code).await?.ok_or_else(|| AppError::field("org_unit", "没有该单位"))?;
            f.org_path = Some(org.path);
        }
        if let Some(u) = some(&self.assignee) {
            let (au, _) = state
                .store
                .user_by_username(&u.to_ascii_lowercase())
                .await?
                .ok_or_else(|| AppError::field("assignee", "没有该用户"))?;
            f.assignee_id = Some(au.id);
        }
        f.catalogue_code = some(&self.catalogue_code).map(String::from);
        if truthy(&self.overdue) {
            f.overdue_at = Some(now);
        }
        if truthy(&self.due_soon) {
            f.due_soon_at = Some(now);
        }
        if let Some(d) = some(&self.from) {
            f.created_from = Some(super::parse_day_start("from", d)?);
        }
        if let Some(d) = some(&self.to) {
            f.created_to = Some(super::parse_day_start("to", d)? + chrono::Duration::days(1));
        }
        f.text = some(&self.q).map(String::from);
        Ok(f)
    }

    /// The query string of the filters (for paging links and export).
    pub fn query_string(&self) -> String {
        crate::pages::filter_query(&[
            ("state", &self.state),
            ("org_unit", &self.org_unit),
            ("assignee", &self.assignee),
            ("catalogue_code", &self.catalogue_code),
            ("overdue", &self.overdue),
            ("due_soon", &self.due_soon),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
        ])
    }
}

/// A ledger row formatted for pages.
pub struct RowView {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub catalogue: String,
    pub org: String,
    pub state: String,
    pub state_label: String,
    pub assignee: String,
    pub created: String,
    pub deadline: String,
    pub due: &'static str,
    pub rework: i64,
    pub score: String,
}

impl RowView {
    pub fn new(t: &Task, wf: &Workflow, tr: Tr) -> Self {
        let label = wf
            .state(&t.state)
            .map(|s| tr.pick(&s.label_zh, &s.label_en).to_string())
            .unwrap_or_else(|| t.state.clone());
        let due = due_status(t.clock(), Utc::now());
        Self {
            id: t.id,
            number: t.number.clone(),
            title: t.title.clone(),
            catalogue: t.catalogue_name.clone(),
            org: t.org_name.clone(),
            state: t.state.clone(),
            state_label: label,
            assignee: t.assignee_name.clone().unwrap_or_default(),
            created: crate::pages::fmt_time(&t.created_at),
            deadline: crate::pages::fmt_opt(&t.deadline_at),
            due: match due {
                DueStatus::Overdue => "overdue",
                DueStatus::DueSoon => "due_soon",
                _ => "",
            },
            rework: t.rework_count,
            score: t.score.map(|s| s.to_string()).unwrap_or_default(),
        }
    }
}
