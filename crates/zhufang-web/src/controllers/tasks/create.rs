use super::TaskOut;
use super::list::{Opt, org_options};
use crate::auth::{CurrentUser, PageUser};
use crate::controllers::{ApiJson, opt_f64, parse_location, parse_time};
use crate::error::{ApiResult, AppError};
use crate::pages::{PageError, PageResult, Shell, hx_redirect, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Form, Json};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use zhufang_domain::Role;
use zhufang_store::service::{self, CreateTask, TransitionInput};

#[derive(Deserialize, ToSchema)]
pub struct LocationBody {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateTaskBody {
    pub title: String,
    /// Code of a catalogue item, e.g. `ZF-XF-001`.
    pub catalogue_code: String,
    /// Code of the responsible org unit.
    pub org_unit: String,
    pub description: Option<String>,
    pub location: Option<LocationBody>,
    /// RFC 3339, or Beijing local `YYYY-MM-DDTHH:MM`.
    pub due_at: Option<String>,
}

fn parse_body(b: CreateTaskBody) -> Result<CreateTask, AppError> {
    let mut errs = vec![];
    let location = b.location.and_then(|l| parse_location(Some(l.lat), Some(l.lon), &mut errs));
    let due_at = match b.due_at.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => match parse_time("due_at", s) {
            Ok(t) => Some(t),
            Err(AppError::Validation(mut f)) => {
                errs.append(&mut f);
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(CreateTask {
        title: b.title,
        catalogue_code: b.catalogue_code.trim().to_string(),
        org_unit: b.org_unit.trim().to_string(),
        description: b.description,
        location,
        due_at,
    })
}

/// Creates a task in state `draft` (制定).
#[utoipa::path(post, path = "/api/v1/tasks", request_body = CreateTaskBody, tag = "tasks",
    responses((status = 201, body = TaskOut), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(body): ApiJson<CreateTaskBody>,
) -> ApiResult<(StatusCode, Json<TaskOut>)> {
    let input = parse_body(body)?;
    let t = service::create_task(state.store.as_ref(), &state.router(), &cu.user, input, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(TaskOut::new(t, &state.workflow()))))
}

pub struct CatOpt {
    pub code: String,
    pub label: String,
    pub category: String,
    pub guideline: String,
}

#[derive(Template)]
#[template(path = "tasks/new.html")]
struct NewTpl {
    shell: Shell,
    items: Vec<CatOpt>,
    orgs: Vec<Opt>,
    people: Vec<Opt>,
}

pub async fn new_page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    if !zhufang_domain::task::may_create(&cu.user.roles) {
        return Err(err(AppError::Forbidden));
    }
    let shell = Shell::new(&state, &cu, &headers, "new", "task.new").await.map_err(err)?;
    let tr = shell.tr;
    let items = state
        .store
        .catalogue(false)
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .map(|c| CatOpt {
            label: format!("{} {}", c.code, tr.pick(&c.name, &c.name_en)),
            code: c.code,
            category: c.category,
            guideline: c.guideline,
        })
        .collect();
    let orgs = org_options(&state, &cu.user).await.map_err(err)?;
    let people = assignable(&state, &cu.user).await.map_err(err)?;
    render(NewTpl { shell, items, orgs, people }, &headers)
}

/// People a dispatcher may pick: working roles in their subtree, and partner agencies.
pub async fn assignable(state: &AppState, user: &zhufang_store::model::User) -> Result<Vec<Opt>, AppError> {
    let mut people = state
        .store
        .users_with_roles(
            &user.org_path,
            &[Role::CommunityOfficer, Role::Auxiliary, Role::StationLeader, Role::CommandRoom],
        )
        .await?;
    people.extend(state.store.users_with_roles("/", &[Role::PartnerAgency]).await?);
    Ok(people
        .into_iter()
        .map(|u| Opt { label: format!("{}（{}）{}", u.display_name, u.username, u.org_name), value: u.username })
        .collect())
}

#[derive(Deserialize)]
pub struct CreateForm {
    title: String,
    catalogue_code: String,
    org_unit: String,
    description: Option<String>,
    due_at: Option<String>,
    lat: Option<String>,
    lon: Option<String>,
    assignee: Option<String>,
}

/// The create form: creates, and dispatches at once when an assignee is chosen.
pub async fn create_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<CreateForm>,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    let mut errs = vec![];
    let lat = opt_f64("location.lat", &f.lat, &mut errs);
    let lon = opt_f64("location.lon", &f.lon, &mut errs);
    if !errs.is_empty() {
        return Err(err(AppError::Validation(errs)));
    }
    let body = CreateTaskBody {
        title: f.title,
        catalogue_code: f.catalogue_code,
        org_unit: f.org_unit,
        description: f.description,
        location: match (lat, lon) {
            (None, None) => None,
            (lat, lon) => {
                Some(super::create::LocationBody { lat: lat.unwrap_or(f64::NAN), lon: lon.unwrap_or(f64::NAN) })
            }
        },
        due_at: f.due_at,
    };
    let input = parse_body(body).map_err(err)?;
    let now = Utc::now();
    let t = service::create_task(state.store.as_ref(), &state.router(), &cu.user, input, now)
        .await
        .map_err(|e| err(e.into()))?;
    if let Some(a) = f.assignee.filter(|a| !a.trim().is_empty()) {
        let input = TransitionInput { action: "dispatch".into(), assignee: Some(a), ..Default::default() };
        service::transition(state.store.as_ref(), &state.workflow(), &state.calendar(), &cu.user, t.id, input, now)
            .await
            .map_err(|e| err(e.into()))?;
    }
    Ok(hx_redirect(&format!("/tasks/{}", t.id)))
}
