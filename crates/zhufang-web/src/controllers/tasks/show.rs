use super::TaskOut;
use super::create::assignable;
use super::list::Opt;
use crate::auth::{CurrentUser, PageUser};
use crate::error::{ApiResult, AppError};
use crate::pages::{PageError, PageResult, Shell, fmt_opt, fmt_time, render};
use crate::state::AppState;
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;
use zhufang_domain::workflow::ActorCtx;
use zhufang_store::model::{Task, TaskEvent, User};
use zhufang_store::service;

#[derive(Serialize, ToSchema)]
pub struct ActionOut {
    pub action: String,
    pub label: String,
    pub to: String,
    pub required: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: TaskOut,
    #[schema(value_type = Vec<Object>)]
    pub timeline: Vec<TaskEvent>,
    /// Actions the caller may take now.
    pub actions: Vec<ActionOut>,
    /// Problems its feedback listed, and what each became (hazard or dispute).
    #[schema(value_type = Vec<Object>)]
    pub problems: Vec<zhufang_store::model::TaskProblem>,
}

async fn load(state: &AppState, user: &User, id: i64) -> Result<Task, AppError> {
    let t = state.store.task(id).await?.ok_or(AppError::NotFound)?;
    if !service::can_see(user, &t) {
        return Err(AppError::NotFound);
    }
    Ok(t)
}

fn actions(state: &AppState, user: &User, t: &Task) -> Vec<ActionOut> {
    let wf = state.workflow();
    let actor = ActorCtx { user_id: user.id, roles: &user.roles };
    wf.available(&service::subject(t), &actor)
        .into_iter()
        .map(|r| ActionOut {
            action: r.action.clone(),
            label: r.label_zh.clone(),
            to: r.to.clone(),
            required: r.required.clone(),
        })
        .collect()
}

/// One task with its timeline and the caller's available actions.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks",
    responses((status = 200, body = TaskDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(State(state): State<AppState>, cu: CurrentUser, Path(id): Path<i64>) -> ApiResult<Json<TaskDetail>> {
    let t = load(&state, &cu.user, id).await?;
    let timeline = state.store.task_timeline(id).await?;
    let actions = actions(&state, &cu.user, &t);
    let problems = state.store.task_problems(id).await?;
    Ok(Json(TaskDetail { task: TaskOut::new(t, &state.workflow()), timeline, actions, problems }))
}

pub struct EventView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub to_label: String,
    pub note: String,
    pub extra: String,
    pub photos: Vec<(i64, String)>,
}

pub struct ActionView {
    pub action: String,
    pub label: String,
    pub needs_assignee: bool,
    pub needs_note: bool,
    pub note_required: bool,
    pub is_feedback: bool,
    pub is_evaluate: bool,
}

/// A problem a patrol or visit found, as the task page shows it.
pub struct ProblemView {
    pub idx: i64,
    pub text: String,
    /// The hazard or dispute it became: (kind, link, label).
    pub became: Option<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "tasks/show.html")]
struct ShowTpl {
    shell: Shell,
    t: Task,
    state_label: String,
    due: &'static str,
    created: String,
    deadline: String,
    due_at: String,
    guideline: String,
    events: Vec<EventView>,
    photos: Vec<(i64, String)>,
    actions: Vec<ActionView>,
    people: Vec<Opt>,
    /// patrol or visit: its feedback has places, households and problems.
    activity: String,
    problems: Vec<ProblemView>,
    hazard_types: Vec<Opt>,
    may_convert: bool,
}

impl ShowTpl {
    fn opt_str<'a>(&self, s: &'a Option<String>) -> &'a str {
        s.as_deref().unwrap_or("")
    }
}

pub async fn show_page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    let shell = Shell::new(&state, &cu, &headers, "tasks", "nav.tasks").await.map_err(err)?;
    let t = load(&state, &cu.user, id).await.map_err(err)?;
    let tr = shell.tr;
    let wf = state.workflow();
    let label =
        |s: &str| wf.state(s).map(|d| tr.pick(&d.label_zh, &d.label_en).to_string()).unwrap_or_else(|| s.to_string());
    let action_label = |a: &str| {
        wf.rules
            .iter()
            .find(|r| r.action == a)
            .map(|r| tr.pick(&r.label_zh, &r.label_en).to_string())
            .unwrap_or_else(|| if a == "create" { tr.pick("制定", "Create").to_string() } else { a.to_string() })
    };
    let timeline = state.store.task_timeline(id).await.map_err(|e| err(e.into()))?;
    let photos: Vec<(i64, String)> =
        timeline.iter().flat_map(|e| e.attachments.iter().map(|a| (a.id, a.original_name.clone()))).collect();
    let events = timeline
        .iter()
        .map(|e| {
            let mut extra = vec![];
            if let Some(a) = e.data.get("assignee") {
                extra.push(format!("→ {}", a.get("name").and_then(|v| v.as_str()).unwrap_or_default()));
            }
            if let Some(s) = e.data.get("score") {
                extra.push(format!("{}：{s}", tr.t("task.score")));
            }
            if let Some(l) = e.data.get("location") {
                extra.push(format!("{}：{}, {}", tr.t("task.location"), l["lat"], l["lon"]));
            }
            EventView {
                at: fmt_time(&e.at),
                actor: e.actor_name.clone(),
                action: action_label(&e.action),
                to_label: label(&e.to_state),
                note: e.note.clone().unwrap_or_default(),
                extra: extra.join("；"),
                photos: e.attachments.iter().map(|a| (a.id, a.original_name.clone())).collect(),
            }
        })
        .collect();
    let acts: Vec<ActionView> = actions(&state, &cu.user, &t)
        .into_iter()
        .map(|a| {
            let rule = wf.rules.iter().find(|r| r.from == t.state && r.action == a.action);
            let effects = rule.map(|r| r.effects.clone()).unwrap_or_default();
            use zhufang_domain::workflow::Effect;
            ActionView {
                label: rule.map(|r| tr.pick(&r.label_zh, &r.label_en).to_string()).unwrap_or(a.label),
                needs_assignee: effects.contains(&Effect::SetAssignee),
                note_required: a.required.iter().any(|f| f == "note"),
                needs_note: a.required.iter().any(|f| f == "note")
                    || matches!(a.action.as_str(), "evaluate" | "accept" | "start"),
                is_feedback: effects.contains(&Effect::RecordFeedback),
                is_evaluate: effects.contains(&Effect::SetScore),
                action: a.action,
            }
        })
        .collect();
    let people =
        if acts.iter().any(|a| a.needs_assignee) { assignable(&state, &cu.user).await.map_err(err)? } else { vec![] };
    let item = state.store.catalogue_item(&t.catalogue_code).await.map_err(|e| err(e.into()))?;
    let guideline = item.as_ref().map(|c| c.guideline.clone()).unwrap_or_default();
    let activity = item.map(|c| c.activity).unwrap_or_default();
    let mut problems = vec![];
    for p in state.store.task_problems(id).await.map_err(|e| err(e.into()))? {
        let became = match (p.kind.as_deref(), p.target_id) {
            (Some("hazard"), Some(h)) => {
                let n = state.store.hazard(h).await.map_err(|e| err(e.into()))?.map(|h| h.number).unwrap_or_default();
                Some(("hazard".to_string(), format!("/hazards/{h}"), format!("{} {n}", tr.t("task.became_hazard"))))
            }
            (Some("dispute"), Some(d)) => {
                let n = state.store.dispute(d).await.map_err(|e| err(e.into()))?.map(|d| d.number).unwrap_or_default();
                Some(("dispute".to_string(), format!("/disputes/{d}"), format!("{} {n}", tr.t("task.became_dispute"))))
            }
            _ => None,
        };
        problems.push(ProblemView { idx: p.idx, text: p.text, became });
    }
    let hazard_types = state
        .store
        .hazard_types()
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .filter(|h| h.active)
        .map(|h| Opt { value: h.code, label: h.name })
        .collect();
    let out = TaskOut::new(t.clone(), &wf);
    let tpl = ShowTpl {
        state_label: label(&t.state),
        due: out.due_status,
        created: fmt_time(&t.created_at),
        deadline: fmt_opt(&t.deadline_at),
        due_at: fmt_opt(&t.due_at),
        guideline,
        events,
        photos,
        actions: acts,
        people,
        activity,
        problems,
        hazard_types,
        may_convert: zhufang_store::hazards::may_register(&cu.user.roles),
        t,
        shell,
    };
    render(tpl, &headers)
}
