//! The one error type at the HTTP edge: a stable snake_case code, an HTTP
//! status and a Chinese message. Internal causes are logged, never shown.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use zhufang_store::StoreError;
use zhufang_store::service::{FieldError, ServiceError};

#[derive(Debug)]
pub enum AppError {
    Unauthorized,
    BadCredentials,
    PasswordChangeRequired,
    Forbidden,
    Csrf,
    NotFound,
    Conflict,
    InvalidTransition { state: String, action: String },
    Validation(Vec<FieldError>),
    TooManyAttempts { retry_after_secs: i64 },
    PayloadTooLarge,
    MethodNotAllowed,
    UnsupportedMediaType(String),
    BadRequest(String),
    Internal(String),
}

/// The JSON body of every error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `invalid_transition`.
    pub code: &'static str,
    /// Chinese message for people.
    pub message: String,
    /// Per-field messages for `validation_failed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub fields: Vec<FieldError>,
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::BadCredentials => "bad_credentials",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::Forbidden => "forbidden",
            AppError::Csrf => "csrf_failed",
            AppError::NotFound => "not_found",
            AppError::Conflict => "conflict",
            AppError::InvalidTransition { .. } => "invalid_transition",
            AppError::Validation(_) => "validation_failed",
            AppError::TooManyAttempts { .. } => "too_many_attempts",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::BadRequest(_) => "bad_request",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::PasswordChangeRequired | AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict | AppError::InvalidTransition { .. } => StatusCode::CONFLICT,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(&self) -> String {
        match self {
            AppError::Unauthorized => "请先登录".into(),
            AppError::BadCredentials => "用户名或密码错误".into(),
            AppError::PasswordChangeRequired => "请先修改初始密码".into(),
            AppError::Forbidden => "您没有权限执行此操作".into(),
            AppError::Csrf => "页面已过期，请刷新后重试".into(),
            AppError::NotFound => "记录不存在或不在您的管辖范围内".into(),
            AppError::Conflict => "该记录已被他人修改，请刷新后重试".into(),
            AppError::InvalidTransition { .. } => "当前状态下不能执行该操作".into(),
            AppError::Validation(_) => "提交的内容有误，请检查".into(),
            AppError::TooManyAttempts { retry_after_secs } => {
                format!("登录失败次数过多，请{}分钟后再试", (retry_after_secs + 59) / 60)
            }
            AppError::PayloadTooLarge => "上传的内容过大".into(),
            AppError::MethodNotAllowed => "该地址不支持此请求方法".into(),
            AppError::UnsupportedMediaType(m) => m.clone(),
            AppError::BadRequest(m) => m.clone(),
            AppError::Internal(_) => "系统内部错误，请稍后重试".into(),
        }
    }

    pub fn fields(&self) -> &[FieldError] {
        match self {
            AppError::Validation(f) => f,
            _ => &[],
        }
    }

    pub fn field(field: &str, message: &str) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Forbidden => AppError::Forbidden,
            ServiceError::Conflict => AppError::Conflict,
            ServiceError::InvalidTransition { state, action } => AppError::InvalidTransition { state, action },
            ServiceError::Validation(f) => AppError::Validation(f),
            ServiceError::Store(s) => s.into(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict => AppError::Conflict,
            StoreError::Duplicate(f) => AppError::field(f, "该值已存在"),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let status = self.status();
        let retry = match &self {
            AppError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail { code: self.code(), message: self.message(), fields: self.fields().to_vec() },
        };
        let mut resp = (status, Json(body)).into_response();
        if let Some(r) = retry
            && let Ok(v) = HeaderValue::from_str(&r.to_string())
        {
            resp.headers_mut().insert("retry-after", v);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, AppError>;

/// The Chinese for the plain-English text of axum's extractor rejections
/// (`prefix` names what was wrong: 地址中的参数, 查询参数, 表单, 请求内容).
/// serde's messages carry the field's path before a colon; that path is
/// kept, the rest becomes a short reason.
pub fn describe_rejection(text: &str) -> String {
    let (what, rest) = [
        ("Invalid URL: ", "地址中的参数有误"),
        ("Failed to deserialize query string: ", "查询参数有误"),
        ("Failed to deserialize form body: ", "表单内容有误"),
        ("Failed to deserialize the JSON body into the target type: ", "请求内容字段有误"),
        ("Failed to parse the request body as JSON: ", "请求内容不是有效的JSON"),
    ]
    .iter()
    .find_map(|(en, zh)| text.strip_prefix(en).map(|r| (*zh, r)))
    .unwrap_or(("请求有误", text));
    let between = |s: &str| s.split('`').nth(1).map(str::to_string);
    let reason = |r: &str| -> String {
        if r.starts_with("missing field") {
            format!("缺少“{}”", between(r).unwrap_or_default())
        } else if r.starts_with("unknown field") {
            format!("不认识“{}”", between(r).unwrap_or_default())
        } else if r.starts_with("Cannot parse") {
            format!("“{}”格式不对", between(r).unwrap_or_default())
        } else if r.starts_with("invalid type") || r.starts_with("invalid digit") || r.contains("invalid value") {
            "值的类型或格式不对".to_string()
        } else if r.starts_with("unknown variant") {
            format!("没有“{}”这一项", between(r).unwrap_or_default())
        } else if r.contains("EOF") || r.starts_with("expected") || r.contains("at line") {
            "格式不对".to_string()
        } else {
            "值不对".to_string()
        }
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return what.to_string();
    }
    // "field.path: message" (serde_path_to_error), else just the message
    match rest.split_once(": ") {
        Some((path, r))
            if !path.is_empty()
                && path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']')) =>
        {
            format!("{what}：{path} {}", reason(r))
        }
        _ => format!("{what}：{}", reason(rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_rejection;

    #[test]
    fn rejections_read_in_chinese() {
        assert_eq!(describe_rejection("Invalid URL: Cannot parse `abc` to a `i64`"), "地址中的参数有误：“abc”格式不对");
        assert_eq!(
            describe_rejection("Failed to deserialize query string: page: invalid digit found in string"),
            "查询参数有误：page 值的类型或格式不对"
        );
        assert_eq!(
            describe_rejection("Failed to deserialize form body: missing field `label`"),
            "表单内容有误：缺少“label”"
        );
        assert_eq!(
            describe_rejection(
                "Failed to deserialize the JSON body into the target type: report.households: invalid type: string \"x\", expected i64 at line 1 column 9"
            ),
            "请求内容字段有误：report.households 值的类型或格式不对"
        );
        assert_eq!(
            describe_rejection("Failed to parse the request body as JSON: EOF while parsing"),
            "请求内容不是有效的JSON：格式不对"
        );
        assert_eq!(describe_rejection(""), "请求有误");
        // never the English text itself
        assert!(!describe_rejection("something odd happened").contains("odd"));
    }
}
