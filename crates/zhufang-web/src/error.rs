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
