//! User administration. Phones are masked in every list; revealing one is
//! allowed to admins and station leaders in scope, and is audited.

use crate::auth::{CurrentUser, PageUser, password};
use crate::controllers::ApiJson;
use crate::error::{ApiResult, AppError};
use crate::pages::{PageError, PageResult, Shell, hx_redirect, page_window, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::types::NewPassword;
use zhufang_domain::{PhoneNumber, Role, Username};
use zhufang_store::model::{NewUser, PageReq, User};
use zhufang_store::service::FieldError;

#[derive(Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// Masked, e.g. 138****5678.
    pub phone: Option<String>,
    pub org_unit: String,
    pub org_name: String,
    pub roles: Vec<String>,
    pub active: bool,
}

impl UserOut {
    fn new(u: &User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            phone: u.phone_masked(),
            org_unit: u.org_code.clone(),
            org_name: u.org_name.clone(),
            roles: u.roles.iter().map(|r| r.as_str().to_string()).collect(),
            active: u.active,
        }
    }
}

fn require_admin(cu: &CurrentUser) -> Result<(), AppError> {
    if cu.user.has(Role::Admin) { Ok(()) } else { Err(AppError::Forbidden) }
}

#[derive(Deserialize, IntoParams)]
pub struct UsersQuery {
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserOut>,
    pub total: i64,
}

/// Users in the caller's subtree (admins and station leaders).
#[utoipa::path(get, path = "/api/v1/users", params(UsersQuery), tag = "users", responses((status = 200, body = UserPage)))]
pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<UsersQuery>,
) -> ApiResult<Json<UserPage>> {
    if !(cu.user.has(Role::Admin) || cu.user.has(Role::StationLeader)) {
        return Err(AppError::Forbidden);
    }
    let p = state.store.list_users(&cu.user.org_path, q.q.as_deref(), PageReq::new(q.page, q.per_page)).await?;
    Ok(Json(UserPage { items: p.items.iter().map(UserOut::new).collect(), total: p.total }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUserBody {
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub org_unit: String,
    pub roles: Vec<String>,
    /// The user must change it at first login.
    pub password: String,
}

fn parse_roles(roles: &[String], errs: &mut Vec<FieldError>) -> Vec<Role> {
    let mut out = vec![];
    for r in roles {
        match r.parse::<Role>() {
            Ok(r) if !out.contains(&r) => out.push(r),
            Ok(_) => {}
            Err(_) => errs.push(FieldError::new("roles", format!("未知角色：{r}"))),
        }
    }
    if out.is_empty() && errs.is_empty() {
        errs.push(FieldError::new("roles", "请至少选择一个角色"));
    }
    out
}

async fn create_user(state: &AppState, cu: &CurrentUser, b: NewUserBody) -> Result<User, AppError> {
    require_admin(cu)?;
    let mut errs = vec![];
    let username = Username::parse(&b.username).map_err(|e| errs.push(FieldError::new(e.field, e.message))).ok();
    let phone = match b.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => PhoneNumber::parse(p).map_err(|e| errs.push(FieldError::new(e.field, e.message))).ok(),
        None => None,
    };
    let name = b.display_name.trim().to_string();
    if name.is_empty() || name.chars().count() > 50 {
        errs.push(FieldError::new("display_name", "姓名不能为空且不超过50字"));
    }
    let roles = parse_roles(&b.roles, &mut errs);
    let pw = NewPassword::parse(&b.password).map_err(|e| errs.push(FieldError::new("password", e.message))).ok();
    let org = state.store.org_unit_by_code(b.org_unit.trim()).await?;
    match &org {
        None => errs.push(FieldError::new("org_unit", "没有该单位")),
        Some(o) if !cu.user.covers(&o.path) => errs.push(FieldError::new("org_unit", "该单位不在您的管辖范围内")),
        _ => {}
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let (username, pw, org) = (username.expect("checked"), pw.expect("checked"), org.expect("checked"));
    let hash = password::hash(pw.expose().to_string()).await.map_err(AppError::Internal)?;
    let ev = AuditEvent::new(Some(cu.user.id), &cu.user.display_name, "user", 0, "create", None, None);
    let nu = NewUser {
        username: username.as_str().to_string(),
        display_name: name,
        phone: phone.map(|p| p.as_str().to_string()),
        org_unit_id: org.id,
        password_hash: hash,
        roles,
        must_change_password: true,
        created_at: Utc::now(),
    };
    Ok(state.store.create_user(&nu, &ev).await?)
}

/// Creates a user (admin); they must change the password at first login.
#[utoipa::path(post, path = "/api/v1/users", request_body = NewUserBody, tag = "users",
    responses((status = 201, body = UserOut), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<NewUserBody>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    let u = create_user(&state, &cu, b).await?;
    Ok((StatusCode::CREATED, Json(UserOut::new(&u))))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUserBody {
    pub display_name: String,
    pub phone: Option<String>,
    pub org_unit: String,
    pub roles: Vec<String>,
    pub active: bool,
}

async fn target(state: &AppState, cu: &CurrentUser, id: i64) -> Result<User, AppError> {
    let u = state.store.user(id).await?.ok_or(AppError::NotFound)?;
    if !cu.user.covers(&u.org_path) {
        return Err(AppError::NotFound);
    }
    Ok(u)
}

/// Updates a user's name, phone, unit, roles and whether the account is active (admin).
#[utoipa::path(put, path = "/api/v1/users/{id}", request_body = UpdateUserBody, tag = "users", responses((status = 200, body = UserOut)))]
pub async fn update(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<UpdateUserBody>,
) -> ApiResult<Json<UserOut>> {
    let u = update_user(&state, &cu, id, b, false).await?;
    Ok(Json(UserOut::new(&u)))
}

/// `keep_phone`: an empty phone keeps the stored one (the page shows it masked).
async fn update_user(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    b: UpdateUserBody,
    keep_phone: bool,
) -> Result<User, AppError> {
    require_admin(cu)?;
    let before = target(state, cu, id).await?;
    let mut errs = vec![];
    let phone = match b.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => PhoneNumber::parse(p)
            .map_err(|e| errs.push(FieldError::new(e.field, e.message)))
            .ok()
            .map(|p| p.as_str().to_string()),
        None if keep_phone => before.phone.clone(),
        None => None,
    };
    let roles = parse_roles(&b.roles, &mut errs);
    let org = state.store.org_unit_by_code(b.org_unit.trim()).await?;
    match &org {
        Some(o) if cu.user.covers(&o.path) => {}
        _ => errs.push(FieldError::new("org_unit", "该单位不存在或不在您的管辖范围内")),
    }
    if b.display_name.trim().is_empty() {
        errs.push(FieldError::new("display_name", "姓名不能为空"));
    }
    if id == cu.user.id && (!b.active || !roles.contains(&Role::Admin)) {
        errs.push(FieldError::new("roles", "不能停用自己或撤销自己的管理员角色"));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let ev = AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "user",
        id,
        "update",
        Some(&serde_json::json!({"roles": before.roles, "org": before.org_unit_id, "active": before.active})),
        Some(&serde_json::json!({"roles": roles, "org": org.as_ref().map(|o| o.id), "active": b.active})),
    );
    Ok(state
        .store
        .update_user(id, b.display_name.trim(), phone.as_deref(), org.expect("checked").id, &roles, b.active, &ev)
        .await?)
}

/// The edit form of the users page (urlencoded, repeated `roles`).
pub async fn update_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: String,
) -> PageResult {
    let mut b = UpdateUserBody {
        display_name: String::new(),
        phone: None,
        org_unit: String::new(),
        roles: vec![],
        active: false,
    };
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        match k.as_ref() {
            "display_name" => b.display_name = v.into_owned(),
            "phone" => b.phone = Some(v.into_owned()),
            "org_unit" => b.org_unit = v.into_owned(),
            "roles" => b.roles.push(v.into_owned()),
            "active" => b.active = true,
            _ => {}
        }
    }
    update_user(&state, &cu, id, b, true).await.map_err(|e| PageError::new(&headers, e))?;
    Ok(hx_redirect("/admin/users"))
}

#[derive(Deserialize, ToSchema)]
pub struct ResetBody {
    pub password: String,
}

async fn reset(state: &AppState, cu: &CurrentUser, id: i64, pw: &str) -> Result<(), AppError> {
    require_admin(cu)?;
    let u = target(state, cu, id).await?;
    let pw = NewPassword::parse(pw).map_err(|e| AppError::field("password", e.message))?;
    let hash = password::hash(pw.expose().to_string()).await.map_err(AppError::Internal)?;
    let ev = AuditEvent::new(Some(cu.user.id), &cu.user.display_name, "user", u.id, "reset_password", None, None);
    state.store.set_password(u.id, &hash, true, &ev).await?;
    state.store.delete_user_sessions(u.id, None).await?;
    Ok(())
}

/// Sets a new password that the user must change at next login; ends their sessions (admin).
#[utoipa::path(post, path = "/api/v1/users/{id}/password-reset", request_body = ResetBody, tag = "users", responses((status = 204)))]
pub async fn reset_password(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ResetBody>,
) -> ApiResult<StatusCode> {
    reset(&state, &cu, id, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reveal(state: &AppState, cu: &CurrentUser, id: i64) -> Result<Option<String>, AppError> {
    if !(cu.user.has(Role::Admin) || cu.user.has(Role::StationLeader)) {
        return Err(AppError::Forbidden);
    }
    let u = target(state, cu, id).await?;
    let ev = AuditEvent::new(Some(cu.user.id), &cu.user.display_name, "user", u.id, "read_personal:phone", None, None);
    state.store.audit(&ev, Utc::now()).await?;
    Ok(u.phone)
}

#[derive(Serialize, ToSchema)]
pub struct PhoneOut {
    pub phone: Option<String>,
}

/// The full phone number; the read is written to the audit log.
#[utoipa::path(get, path = "/api/v1/users/{id}/phone", tag = "users", responses((status = 200, body = PhoneOut)))]
pub async fn reveal_phone(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<PhoneOut>> {
    Ok(Json(PhoneOut { phone: reveal(&state, &cu, id).await? }))
}

pub async fn phone_fragment(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> PageResult {
    let p = reveal(&state, &cu, id).await.map_err(|e| PageError::new(&headers, e))?;
    let escaped = p.unwrap_or_default().replace('<', "&lt;");
    Ok(Html(format!("<span data-testid=\"phone-full\">{escaped}</span>")).into_response())
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersTpl {
    shell: Shell,
    users: Vec<UserOut>,
    total: i64,
    page: i64,
    window: Vec<i64>,
    q: String,
    orgs: Vec<(String, String)>,
    roles: Vec<(String, String)>,
    can_reveal: bool,
}

pub async fn page(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Query(q): Query<UsersQuery>,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    if !(cu.user.has(Role::Admin) || cu.user.has(Role::StationLeader)) {
        return Err(err(AppError::Forbidden));
    }
    let shell = Shell::new(&state, &cu, &headers, "users", "user.title").await.map_err(err)?;
    let p = state
        .store
        .list_users(&cu.user.org_path, q.q.as_deref(), PageReq::new(q.page, Some(30)))
        .await
        .map_err(|e| err(e.into()))?;
    let orgs = state
        .store
        .org_units()
        .await
        .map_err(|e| err(e.into()))?
        .into_iter()
        .filter(|o| cu.user.covers(&o.path))
        .map(|o| (o.code, o.name))
        .collect();
    let roles = Role::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), shell.tr.pick(r.label_zh(), r.label_en()).to_string()))
        .collect();
    let window = page_window(p.page, p.pages());
    let tpl = UsersTpl {
        users: p.items.iter().map(UserOut::new).collect(),
        total: p.total,
        page: p.page,
        window,
        q: q.q.unwrap_or_default(),
        orgs,
        roles,
        can_reveal: true,
        shell,
    };
    render(tpl, &headers)
}

/// The new-user form posts urlencoded with repeated `roles`.
pub async fn create_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    body: String,
) -> PageResult {
    let mut b = NewUserBody {
        username: String::new(),
        display_name: String::new(),
        phone: None,
        org_unit: String::new(),
        roles: vec![],
        password: String::new(),
    };
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        match k.as_ref() {
            "username" => b.username = v.into_owned(),
            "display_name" => b.display_name = v.into_owned(),
            "phone" => b.phone = Some(v.into_owned()),
            "org_unit" => b.org_unit = v.into_owned(),
            "roles" => b.roles.push(v.into_owned()),
            "password" => b.password = v.into_owned(),
            _ => {}
        }
    }
    create_user(&state, &cu, b).await.map_err(|e| PageError::new(&headers, e))?;
    Ok(hx_redirect("/admin/users"))
}

#[derive(Deserialize)]
pub struct ResetForm {
    password: String,
}

pub async fn reset_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ResetForm>,
) -> Response {
    match reset(&state, &cu, id, &f.password).await {
        Ok(()) => {
            let tr = crate::i18n::Tr::new(crate::i18n::Lang::from_headers(&headers));
            Html(format!("<span class=\"ok\" data-testid=\"reset-done\">{}</span>", tr.t("user.reset_done")))
                .into_response()
        }
        Err(e) => PageError::new(&headers, e).into_response(),
    }
}
