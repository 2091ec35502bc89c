//! The page shell shared by every server-rendered page, and view helpers.

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use zhufang_domain::Role;
use zhufang_store::model::User;

/// What the layout needs: who is signed in, their language, unread count.
pub struct Shell {
    pub tr: Tr,
    pub user: User,
    pub csrf: String,
    pub unread: i64,
    pub nav: &'static str,
    pub title: String,
    /// The map base layer settings for map.js (`{"tiles": …, "attribution": …}`).
    pub map_config: String,
}

impl Shell {
    pub async fn new(
        state: &AppState,
        cu: &CurrentUser,
        headers: &HeaderMap,
        nav: &'static str,
        title_key: &str,
    ) -> Result<Self, AppError> {
        let tr = Tr::new(Lang::from_headers(headers));
        let unread = state.store.unread_count(cu.user.id).await?;
        let map_config =
            serde_json::json!({"tiles": state.cfg.map_tiles, "attribution": state.cfg.map_attribution}).to_string();
        Ok(Self {
            tr,
            user: cu.user.clone(),
            csrf: cu.csrf.clone(),
            unread,
            nav,
            title: tr.t(title_key).to_string(),
            map_config,
        })
    }
    pub fn is_admin(&self) -> bool {
        self.user.has(Role::Admin)
    }
    pub fn can_create(&self) -> bool {
        zhufang_domain::task::may_create(&self.user.roles)
    }
    /// Whether the sidebar offers an area to this user. A partner agency
    /// sees what is handed to it (tasks, its inbox, disputes and hazards it
    /// answers for, notices to sign); the police see the rest; the hand-over
    /// inbox is for those who hand over or receive.
    pub fn sees(&self, area: &str) -> bool {
        let roles = &self.user.roles;
        let police = roles.iter().any(|r| !matches!(r, Role::PartnerAgency));
        match area {
            "tasks" | "disputes" | "hazards" | "notices" => true,
            "inbox" => roles.iter().any(|r| {
                matches!(
                    r,
                    Role::PartnerAgency | Role::CommandRoom | Role::StationLeader | Role::Admin | Role::BureauAnalyst
                )
            }),
            "figures" => roles
                .iter()
                .any(|r| matches!(r, Role::StationLeader | Role::CommandRoom | Role::Admin | Role::BureauAnalyst)),
            _ => police,
        }
    }
    pub fn roles_label(&self) -> String {
        self.user
            .roles
            .iter()
            .map(|r| self.tr.pick(r.label_zh(), r.label_en()))
            .collect::<Vec<_>>()
            .join(self.tr.pick("、", ", "))
    }
    pub fn lang_code(&self) -> &'static str {
        self.tr.lang.code()
    }
}

/// A bar chart for `assets/charts.js` (ECharts): one category per group,
/// one series per figure; shares in [0, 1] are shown as percentages with
/// one decimal, None as a gap. Rendered into a `data-chart` attribute.
pub fn share_chart(categories: Vec<String>, series: Vec<(String, Vec<Option<f64>>)>) -> String {
    let pct = |v: Option<f64>| v.map(|x| (x * 1000.0).round() / 10.0);
    serde_json::json!({
        "unit": "%",
        "categories": categories,
        "series": series
            .into_iter()
            .map(|(name, data)| serde_json::json!({"name": name, "data": data.into_iter().map(pct).collect::<Vec<_>>()}))
            .collect::<Vec<_>>(),
    })
    .to_string()
}

/// A page error: full HTML page, or for htmx a fragment shown in the form's
/// message area.
pub struct PageError {
    pub tr: Tr,
    pub err: AppError,
    pub htmx: bool,
}

impl PageError {
    pub fn new(headers: &HeaderMap, err: impl Into<AppError>) -> Self {
        Self { tr: Tr::new(Lang::from_headers(headers)), err: err.into(), htmx: headers.contains_key("hx-request") }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTpl<'a> {
    tr: Tr,
    code: &'a str,
    message: String,
    status: u16,
}

#[derive(Template)]
#[template(path = "fragments/form_error.html")]
pub struct FormErrorTpl<'a> {
    pub code: &'a str,
    pub message: String,
    pub fields: &'a [zhufang_store::service::FieldError],
}

pub fn error_page(tr: Tr, err: AppError) -> Response {
    if let AppError::Internal(cause) = &err {
        tracing::error!(%cause, "internal error");
    }
    let tpl = ErrorTpl { tr, code: err.code(), message: err.message(), status: err.status().as_u16() };
    (err.status(), Html(tpl.render().unwrap_or_default())).into_response()
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if self.htmx {
            if let AppError::Internal(cause) = &self.err {
                tracing::error!(%cause, "internal error");
            }
            let tpl = FormErrorTpl { code: self.err.code(), message: self.err.message(), fields: self.err.fields() };
            (self.err.status(), Html(tpl.render().unwrap_or_default())).into_response()
        } else {
            error_page(self.tr, self.err)
        }
    }
}

pub type PageResult = Result<Response, PageError>;

pub fn render(t: impl Template, headers: &HeaderMap) -> PageResult {
    t.render().map(|s| Html(s).into_response()).map_err(|e| PageError::new(headers, e))
}

/// htmx navigation after a successful form post.
pub fn hx_redirect(to: &str) -> Response {
    (StatusCode::OK, [("hx-redirect", to.to_string())], "").into_response()
}

pub async fn set_lang(Path(code): Path<String>, headers: HeaderMap) -> Response {
    let v = if code == "en" { "en" } else { "zh" };
    let back = headers
        .get("referer")
        .and_then(|r| r.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| format!("{}{}", u.path(), u.query().map(|q| format!("?{q}")).unwrap_or_default()))
        .unwrap_or_else(|| "/".into());
    let mut resp = Redirect::to(&back).into_response();
    if let Ok(c) = HeaderValue::from_str(&format!("zf_lang={v}; Path=/; Max-Age=31536000; SameSite=Lax")) {
        resp.headers_mut().insert("set-cookie", c);
    }
    resp
}

pub async fn not_found(headers: HeaderMap, req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        AppError::NotFound.into_response()
    } else {
        error_page(Tr::new(Lang::from_headers(&headers)), AppError::NotFound)
    }
}

/// axum's own rejections (a path or query parameter that does not parse, a
/// form that does not, a wrong method, a body too large) come as plain
/// English text; they become our error: the JSON body under `/api`, the
/// error page or form fragment elsewhere, in Chinese with a stable code.
pub async fn own_rejections(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let headers = req.headers().clone();
    let resp = next.run(req).await;
    let status = resp.status();
    let plain = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.starts_with("text/plain"));
    if !plain || !matches!(status.as_u16(), 400 | 405 | 413 | 415 | 422) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let err = match status.as_u16() {
        405 => AppError::MethodNotAllowed,
        413 => AppError::PayloadTooLarge,
        415 => AppError::UnsupportedMediaType("请求内容的类型不受支持".into()),
        _ => AppError::BadRequest(crate::error::describe_rejection(&text)),
    };
    let mut out = if api { err.into_response() } else { PageError::new(&headers, err).into_response() };
    if let Some(allow) = parts.headers.get(axum::http::header::ALLOW) {
        out.headers_mut().insert(axum::http::header::ALLOW, allow.clone());
    }
    out
}

/// Conservative headers on every response: everything is served from here.
pub async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let is_docs = req.uri().path() == "/api/docs";
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    let csp = if is_docs {
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"
            .to_string()
    } else {
        // map tiles may come from the configured intranet tile server
        let tiles = state.cfg.map_tiles.as_deref().and_then(tile_origin).unwrap_or_default();
        format!(
            "default-src 'self'; img-src 'self' data: blob:{tiles}; style-src 'self' 'unsafe-inline'; script-src 'self'"
        )
    };
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert("content-security-policy", v);
    }
    resp
}

/// ` scheme://host` of a tile URL template for the CSP (`{s}` subdomains become `*`).
fn tile_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?.replace("{s}", "*");
    let ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:*[]".contains(c));
    ok.then(|| format!(" {scheme}://{host}"))
}

/// Beijing time for people.
pub fn fmt_time(t: &DateTime<Utc>) -> String {
    zhufang_domain::calendar::fmt_local(*t)
}

pub fn fmt_opt(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(fmt_time).unwrap_or_default()
}

/// Page numbers to show around the current page.
/// A ledger's filters as a query string (for paging links and exports):
/// the pairs whose value is given and not blank.
pub fn filter_query(pairs: &[(&str, &Option<String>)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

/// A share in [0, 1] as a percentage with one decimal, or — when there is none.
pub fn percent(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "—".into())
}

pub fn page_window(page: i64, pages: i64) -> Vec<i64> {
    let lo = (page - 3).max(1);
    let hi = (page + 3).min(pages);
    (lo..=hi).collect()
}
