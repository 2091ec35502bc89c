//! What patrols and visits find: each problem listed in a patrol's or a
//! visit's feedback becomes a hazard or a dispute with one click, at the
//! place the feedback was given, linked back to the task. A problem is
//! converted once (claimed first, so two clicks at once make one record).

use crate::model::*;
use crate::service::{GridRouter, ServiceError, can_see};
use crate::{Store, disputes, hazards};
use chrono::{DateTime, Utc};
use zhufang_domain::Wgs84Point;

type SResult<T> = Result<T, ServiceError>;

/// The task and its problem, for someone who may see the task.
async fn problem(store: &dyn Store, user: &User, task_id: i64, idx: i64) -> SResult<(Task, TaskProblem)> {
    let t = store.task(task_id).await?.ok_or(ServiceError::NotFound)?;
    if !can_see(user, &t) {
        return Err(ServiceError::NotFound);
    }
    // whether it was converted already is decided by the claim (`converted`)
    let p = store.task_problems(task_id).await?.into_iter().find(|p| p.idx == idx).ok_or(ServiceError::NotFound)?;
    Ok((t, p))
}

/// Where the problem was found: the feedback's position, else the task's.
fn place(t: &Task) -> Option<Wgs84Point> {
    match (t.feedback_lat.or(t.lat), t.feedback_lon.or(t.lon)) {
        (Some(lat), Some(lon)) => Wgs84Point::new(lat, lon).ok(),
        _ => None,
    }
}

/// Runs `make` with the problem claimed for `kind`; records what it made, or releases the claim.
async fn converted<T>(
    store: &dyn Store,
    task_id: i64,
    idx: i64,
    kind: &str,
    id_of: fn(&T) -> i64,
    make: impl std::future::Future<Output = SResult<T>>,
) -> SResult<T> {
    if !store.claim_task_problem(task_id, idx, kind).await? {
        return Err(ServiceError::field("problem", "该问题已转为隐患或纠纷，不能重复登记"));
    }
    match make.await {
        Ok(x) => {
            store.finish_task_problem(task_id, idx, Some(id_of(&x))).await?;
            Ok(x)
        }
        Err(e) => {
            store.finish_task_problem(task_id, idx, None).await?;
            Err(e)
        }
    }
}

/// A problem becomes a hazard (type `type_code`, default 99 其他) found on the task.
pub async fn problem_to_hazard(
    store: &dyn Store,
    router: &GridRouter,
    user: &User,
    task_id: i64,
    idx: i64,
    type_code: Option<String>,
    now: DateTime<Utc>,
) -> SResult<Hazard> {
    let (t, p) = problem(store, user, task_id, idx).await?;
    let input = hazards::CreateHazard {
        type_code: type_code.filter(|c| !c.trim().is_empty()).unwrap_or_else(|| "99".into()),
        description: p.text.clone(),
        location: place(&t),
        source_task_id: Some(t.id),
        ..Default::default()
    };
    converted(store, task_id, idx, "hazard", |h: &Hazard| h.id, hazards::create(store, router, user, input, now)).await
}

/// A problem becomes a dispute (category `category_code`, default 99 其他),
/// found on patrol or on a home visit; parties are added on the dispute.
pub async fn problem_to_dispute(
    store: &dyn Store,
    router: &GridRouter,
    user: &User,
    task_id: i64,
    idx: i64,
    category_code: Option<String>,
    now: DateTime<Utc>,
) -> SResult<Dispute> {
    let (t, p) = problem(store, user, task_id, idx).await?;
    let activity = store.catalogue_item(&t.catalogue_code).await?.map(|c| c.activity).unwrap_or_default();
    let (source, how) = if activity == "visit" { ("home_visit", "走访") } else { ("patrol", "巡查") };
    let input = disputes::CreateDispute {
        title: p.text.chars().take(30).collect(),
        description: format!("{}（{how}时发现，任务 {}）", p.text, t.number),
        category_code: category_code.filter(|c| !c.trim().is_empty()).unwrap_or_else(|| "99".into()),
        source: source.into(),
        location: place(&t),
        ..Default::default()
    };
    converted(store, task_id, idx, "dispute", |d: &Dispute| d.id, disputes::create(store, router, user, input, now))
        .await
}
