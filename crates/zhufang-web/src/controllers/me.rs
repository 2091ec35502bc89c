//! The signed-in user: profile and own password change.

use crate::auth::{CurrentUser, PageUser, password};
use crate::controllers::ApiJson;
use crate::error::{ApiResult, AppError};
use crate::pages::{PageError, PageResult, Shell, hx_redirect, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::types::NewPassword;
use zhufang_store::model::User;

#[derive(Serialize, ToSchema)]
pub struct MeOut {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub org_unit: String,
    pub org_name: String,
    pub roles: Vec<String>,
    /// Masked.
    pub phone: Option<String>,
    pub must_change_password: bool,
}

impl MeOut {
    pub fn new(u: &User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            org_unit: u.org_code.clone(),
            org_name: u.org_name.clone(),
            roles: u.roles.iter().map(|r| r.as_str().to_string()).collect(),
            phone: u.phone_masked(),
            must_change_password: u.must_change_password,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, body = MeOut)))]
pub async fn show(cu: CurrentUser) -> Json<MeOut> {
    Json(MeOut::new(&cu.user))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    pub current_password: String,
    pub new_password: String,
}

async fn change(state: &AppState, cu: &CurrentUser, b: PasswordBody) -> Result<(), AppError> {
    let (_, hash) = state.store.user_by_username(&cu.user.username).await?.ok_or(AppError::Unauthorized)?;
    if !password::verify(b.current_password, hash).await {
        return Err(AppError::field("current_password", "当前密码不正确"));
    }
    let np = NewPassword::parse(&b.new_password).map_err(|e| AppError::field(e.field, e.message))?;
    let h = password::hash(np.expose().to_string()).await.map_err(AppError::Internal)?;
    let ev =
        AuditEvent::new(Some(cu.user.id), &cu.user.display_name, "user", cu.user.id, "change_password", None, None);
    state.store.set_password(cu.user.id, &h, false, &ev).await?;
    // Other sessions of this user end; this one stays.
    state.store.delete_user_sessions(cu.user.id, Some(&cu.token_hash)).await?;
    Ok(())
}

/// Changes the caller's own password (ends their other sessions).
#[utoipa::path(post, path = "/api/v1/me/password", request_body = PasswordBody, tag = "session",
    responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiJson(b): ApiJson<PasswordBody>,
) -> ApiResult<StatusCode> {
    change(&state, &cu, b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordTpl {
    shell: Shell,
}

pub async fn password_page(State(state): State<AppState>, PageUser(cu): PageUser, headers: HeaderMap) -> PageResult {
    let shell = Shell::new(&state, &cu, &headers, "account", "account.change_password")
        .await
        .map_err(|e| PageError::new(&headers, e))?;
    render(PasswordTpl { shell }, &headers)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn password_form(
    State(state): State<AppState>,
    PageUser(cu): PageUser,
    headers: HeaderMap,
    Form(f): Form<PasswordForm>,
) -> PageResult {
    change(&state, &cu, PasswordBody { current_password: f.current_password, new_password: f.new_password })
        .await
        .map_err(|e| PageError::new(&headers, e))?;
    Ok(hx_redirect("/?password_changed=1"))
}
