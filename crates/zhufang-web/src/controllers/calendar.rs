//! The working-day calendar: holidays and make-up workdays as data.

use crate::auth::CurrentUser;
use crate::controllers::ApiJson;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zhufang_domain::Role;
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::calendar::DayKind;

#[derive(Serialize, ToSchema)]
pub struct DayOut {
    pub day: String,
    /// holiday or workday
    pub kind: String,
    pub name: String,
}

#[utoipa::path(get, path = "/api/v1/calendar", tag = "calendar", responses((status = 200, body = Vec<DayOut>)))]
pub async fn list(State(state): State<AppState>, _cu: CurrentUser) -> ApiResult<Json<Vec<DayOut>>> {
    let days = state.store.calendar_days().await?;
    Ok(Json(
        days.into_iter().map(|(d, k, n)| DayOut { day: d.to_string(), kind: k.as_str().into(), name: n }).collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct DayBody {
    /// holiday, workday, or null to return the day to the ordinary week.
    pub kind: Option<String>,
    #[serde(default)]
    pub name: String,
}

/// Marks a day as holiday or make-up workday, or clears it (admin).
#[utoipa::path(put, path = "/api/v1/calendar/{day}", request_body = DayBody, tag = "calendar", responses((status = 200, body = DayOut)))]
pub async fn set_day(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(day): Path<String>,
    ApiJson(b): ApiJson<DayBody>,
) -> ApiResult<Json<DayOut>> {
    if !cu.user.has(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let d =
        NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| AppError::field("day", "日期格式须为 YYYY-MM-DD"))?;
    let kind = match b.kind.as_deref() {
        None => None,
        Some(k) => Some(DayKind::parse(k).ok_or_else(|| AppError::field("kind", "类型须为 holiday 或 workday"))?),
    };
    let ev = AuditEvent::new(
        Some(cu.user.id),
        &cu.user.display_name,
        "calendar_day",
        &day,
        "set",
        None,
        Some(&serde_json::json!({"kind": b.kind, "name": b.name})),
    );
    state.store.set_calendar_day(d, kind, b.name.trim(), &ev).await?;
    state.reload_definitions().await?;
    Ok(Json(DayOut { day, kind: kind.map(|k| k.as_str().to_string()).unwrap_or_default(), name: b.name }))
}
