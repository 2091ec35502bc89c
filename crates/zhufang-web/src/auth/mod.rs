//! Authentication: Argon2id passwords, server-side sessions (cookie or
//! bearer token, stored hashed), CSRF for cookie-authenticated writes, and
//! login throttling.

pub mod password;

use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zhufang_store::model::User;

pub const COOKIE: &str = "zf_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// 32 random bytes, base64url.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for a new session. `Secure` when configured or behind TLS.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

pub fn is_tls(state: &AppState, headers: &HeaderMap) -> bool {
    state.cfg.secure_cookies || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https")
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub token_hash: String,
    pub csrf: String,
    pub via_cookie: bool,
}

/// Paths a user who must change their password may still use.
fn allowed_before_password_change(path: &str) -> bool {
    matches!(path, "/account/password" | "/logout" | "/api/v1/me" | "/api/v1/me/password" | "/api/v1/session")
        || path.starts_with("/assets/")
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<CurrentUser, AppError> {
    let bearer = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let (token, via_cookie) = match bearer {
        Some(t) => (t, false),
        None => (cookie_value(&parts.headers, COOKIE).ok_or(AppError::Unauthorized)?, true),
    };
    if token.is_empty() {
        return Err(AppError::Unauthorized);
    }
    let hash = token_hash(token);
    let now = Utc::now();
    let session = state.store.session(&hash, now).await?.ok_or(AppError::Unauthorized)?;
    // Idle too long: signed out (the session is deleted, so it cannot come back).
    if state.cfg.session_idle_minutes > 0
        && now - session.last_seen_at > chrono::Duration::minutes(state.cfg.session_idle_minutes)
    {
        state.store.delete_session(&hash).await?;
        return Err(AppError::Unauthorized);
    }
    if now - session.last_seen_at > chrono::Duration::seconds(60) {
        state.store.touch_session(&hash, now).await?;
    }
    let user = state.store.user(session.user_id).await?.ok_or(AppError::Unauthorized)?;
    if !user.active {
        return Err(AppError::Unauthorized);
    }
    // CSRF: a cookie-authenticated write must carry the session's token.
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if via_cookie && !safe {
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if sent != Some(session.csrf_token.as_str()) {
            return Err(AppError::Csrf);
        }
    }
    // Inside nested routers the URI is stripped of its prefix; use the original.
    let path = parts.extensions.get::<axum::extract::OriginalUri>().map(|u| u.0.path().to_string());
    let path = path.as_deref().unwrap_or(parts.uri.path());
    if user.must_change_password && !allowed_before_password_change(path) {
        return Err(AppError::PasswordChangeRequired);
    }
    Ok(CurrentUser { user, token_hash: hash, csrf: session.csrf_token, via_cookie })
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await
    }
}

/// `Option<CurrentUser>`: `None` for anonymous requests (and stale sessions).
impl axum::extract::OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        match authenticate(parts, state).await {
            Ok(u) => Ok(Some(u)),
            Err(AppError::Unauthorized) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The signed-in user of a page request: a missing session redirects to the
/// login page (or tells htmx to), a pending password change to that page.
#[derive(Debug, Clone)]
pub struct PageUser(pub CurrentUser);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match authenticate(parts, state).await {
            Ok(u) => Ok(PageUser(u)),
            Err(AppError::Unauthorized) => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let to = format!(
                    "/login?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                if parts.headers.contains_key("hx-request") {
                    Err(([("hx-redirect", to)], "").into_response())
                } else {
                    Err(Redirect::to(&to).into_response())
                }
            }
            Err(AppError::PasswordChangeRequired) => {
                if parts.headers.contains_key("hx-request") {
                    Err(([("hx-redirect", "/account/password")], "").into_response())
                } else {
                    Err(Redirect::to("/account/password").into_response())
                }
            }
            Err(e) => Err(crate::pages::error_page(Tr::new(Lang::from_headers(&parts.headers)), e)),
        }
    }
}

/// The client address for throttling: the socket peer, or the first
/// `X-Forwarded-For` hop when the deployment says a proxy sets it.
pub fn client_ip(state: &AppState, headers: &HeaderMap, peer: Option<std::net::SocketAddr>) -> String {
    if state.cfg.trust_forwarded_for
        && let Some(ip) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next())
    {
        return ip.trim().to_string();
    }
    peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// Checks a username and password with throttling; on success creates a
/// session and returns (token, user, csrf).
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    ip: &str,
    kind: &str,
) -> Result<(String, User, String), AppError> {
    let now = Utc::now();
    let username = username.trim().to_ascii_lowercase();
    let window = chrono::Duration::minutes(state.cfg.login_window_minutes);
    let (by_user, by_ip) = state.store.login_failures(&username, ip, now - window).await?;
    if by_user >= state.cfg.login_max_failures || by_ip >= state.cfg.login_max_failures * 4 {
        return Err(AppError::TooManyAttempts { retry_after_secs: window.num_seconds() });
    }
    let found = state.store.user_by_username(&username).await?;
    let ok = match &found {
        Some((u, hash)) if u.active => password::verify(password.to_string(), hash.clone()).await,
        _ => {
            // Spend the same time as a real check so timing does not reveal usernames.
            password::verify(password.to_string(), password::dummy_hash().to_string()).await;
            false
        }
    };
    state.store.record_login_attempt(&username, ip, ok, now).await?;
    if !ok {
        return Err(AppError::BadCredentials);
    }
    let (user, _) = found.expect("checked");
    let token = random_token();
    let csrf = random_token();
    let expires = now + chrono::Duration::hours(state.cfg.session_hours);
    let ns = zhufang_store::model::NewSession {
        token_hash: token_hash(&token),
        user_id: user.id,
        csrf_token: csrf.clone(),
        kind: kind.to_string(),
        now,
        expires_at: expires,
    };
    let ev =
        zhufang_domain::audit::AuditEvent::new(Some(user.id), &user.display_name, "user", user.id, "login", None, None);
    state.store.create_session(&ns, &ev).await?;
    Ok((token, user, csrf))
}
