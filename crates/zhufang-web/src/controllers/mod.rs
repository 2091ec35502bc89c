//! One module per resource; each action is a thin handler:
//! parse → call the service → render (JSON or a page).

pub mod assets;
pub mod audit;
pub mod board;
pub mod calendar;
pub mod catalogue;
pub mod dispute_settings;
pub mod disputes;
pub mod duty;
pub mod files;
pub mod grids;
pub mod hazards;
pub mod health;
pub mod incident_types;
pub mod incidents;
pub mod map;
pub mod me;
pub mod notices;
pub mod notifications;
pub mod org_units;
pub mod session;
pub mod settings;
pub mod tasks;
pub mod users;
pub mod volunteers;
pub mod workflows;

use crate::error::AppError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// `Json<T>` whose rejection is our error format (`bad_request` with a
/// Chinese message naming the problem).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(AppError::UnsupportedMediaType("请求须为 application/json".into()))
            }
            Err(e) => Err(AppError::BadRequest(crate::error::describe_rejection(&e.body_text()))),
        }
    }
}

/// A position from latitude and longitude given together (or neither);
/// problems go to `errs`.
pub fn parse_location(
    lat: Option<f64>,
    lon: Option<f64>,
    errs: &mut Vec<zhufang_store::service::FieldError>,
) -> Option<zhufang_domain::Wgs84Point> {
    use zhufang_store::service::FieldError;
    match (lat, lon) {
        (Some(lat), Some(lon)) => match zhufang_domain::Wgs84Point::new(lat, lon) {
            Ok(p) => Some(p),
            Err(e) => {
                errs.push(FieldError::new(e.field, e.message));
                None
            }
        },
        (None, None) => None,
        _ => {
            errs.push(FieldError::new("location", "经纬度须同时填写"));
            None
        }
    }
}

/// A whole number from a form field; anything else goes to `errs` (须为整数) and gives 0.
pub fn form_int(field: &'static str, v: &str, errs: &mut Vec<zhufang_store::service::FieldError>) -> i64 {
    v.trim().parse::<i64>().unwrap_or_else(|_| {
        errs.push(zhufang_store::service::FieldError::new(field, "须为整数"));
        0
    })
}

/// An optional number from a form field; a non-number goes to `errs`.
pub fn opt_f64(field: &str, s: &Option<String>, errs: &mut Vec<zhufang_store::service::FieldError>) -> Option<f64> {
    let s = s.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    match s.parse::<f64>() {
        Ok(v) => Some(v),
        Err(_) => {
            errs.push(zhufang_store::service::FieldError::new(field, "须为数字"));
            None
        }
    }
}

/// Parses a time given as RFC 3339, or as a Beijing local `YYYY-MM-DDTHH:MM`
/// (what a datetime-local input sends), or a date (end of that day, Beijing).
pub fn parse_time(field: &str, s: &str) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone};
    use chrono_tz::Asia::Shanghai;
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(23, 59, 59)));
    local.and_then(|n| Shanghai.from_local_datetime(&n).single()).map(|t| t.with_timezone(&chrono::Utc)).ok_or_else(
        || {
            AppError::Validation(vec![zhufang_store::service::FieldError::new(
                field,
                "时间格式不正确（如 2026-12-01 或 2026-12-01T10:00）",
            )])
        },
    )
}

/// Start of a Beijing local day.
pub fn parse_day_start(field: &str, s: &str) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::field(field, "日期格式须为 YYYY-MM-DD"))?;
    Shanghai
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok_or_else(|| AppError::field(field, "日期无效"))
}
