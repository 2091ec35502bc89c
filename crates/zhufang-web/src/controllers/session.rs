//! Login and logout: the API session (token + cookie) and the login page.

use crate::auth::{self, CurrentUser};
use crate::controllers::ApiJson;
use crate::error::{ApiResult, AppError};
use crate::i18n::{Lang, Tr};
use crate::pages::{PageError, PageResult, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    #[schema(value_type = Object)]
    pub user: super::me::MeOut,
    /// Required as `X-CSRF-Token` on cookie-authenticated writes.
    pub csrf_token: String,
}

/// Rejects cross-site form posts to the login endpoints (no session yet, so
/// no CSRF token): the Origin, when sent, must be this host.
fn same_origin(headers: &HeaderMap) -> Result<(), AppError> {
    let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) else { return Ok(()) };
    let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("");
    let o = origin.split("://").nth(1).unwrap_or(origin);
    if o == host { Ok(()) } else { Err(AppError::Csrf) }
}

fn with_cookie(mut resp: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append("set-cookie", v);
    }
    resp
}

/// Signs in: returns a bearer token and sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", request_body = LoginBody, tag = "session",
    responses((status = 200, body = SessionOut), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<LoginBody>,
) -> ApiResult<Response> {
    same_origin(&headers)?;
    let ip = auth::client_ip(&state, &headers, Some(peer));
    let (token, user, csrf) = auth::login(&state, &b.username, &b.password, &ip, "api").await?;
    let cookie = auth::session_cookie(&token, state.cfg.session_hours * 3600, auth::is_tls(&state, &headers));
    let body = SessionOut { token, user: super::me::MeOut::new(&user), csrf_token: csrf };
    Ok(with_cookie(Json(body).into_response(), &cookie))
}

/// Signs out the current session.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", responses((status = 204)))]
pub async fn delete(State(state): State<AppState>, cu: CurrentUser, headers: HeaderMap) -> ApiResult<Response> {
    state.store.delete_session(&cu.token_hash).await?;
    Ok(with_cookie(StatusCode::NO_CONTENT.into_response(), &auth::clear_cookie(auth::is_tls(&state, &headers))))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTpl {
    tr: Tr,
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only local paths are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

/// The login form; a signed-in user goes straight on.
pub async fn login_page(cu: Option<CurrentUser>, headers: HeaderMap, Query(q): Query<NextQuery>) -> PageResult {
    if cu.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    render(LoginTpl { tr: Tr::new(Lang::from_headers(&headers)), next: safe_next(q.next.as_deref()) }, &headers)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> PageResult {
    let err = |e| PageError::new(&headers, e);
    same_origin(&headers).map_err(err)?;
    let ip = auth::client_ip(&state, &headers, Some(peer));
    let (token, _, _) = auth::login(&state, &f.username, &f.password, &ip, "cookie").await.map_err(err)?;
    let cookie = auth::session_cookie(&token, state.cfg.session_hours * 3600, auth::is_tls(&state, &headers));
    let to = safe_next(f.next.as_deref());
    let resp = if headers.contains_key("hx-request") {
        crate::pages::hx_redirect(&to)
    } else {
        Redirect::to(&to).into_response()
    };
    Ok(with_cookie(resp, &cookie))
}

pub async fn logout_form(State(state): State<AppState>, cu: CurrentUser, headers: HeaderMap) -> Response {
    let _ = state.store.delete_session(&cu.token_hash).await;
    with_cookie(crate::pages::hx_redirect("/login"), &auth::clear_cookie(auth::is_tls(&state, &headers)))
}
