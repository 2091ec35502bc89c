//! zhufang web: the axum router, thin handlers (parse → service → render),
//! askama pages with htmx, the JSON API under `/api/v1`, auth and metrics.
//!
//! Handlers live in `controllers/<resource>/<action>.rs`-style modules; page
//! shells and shared view helpers in [`pages`]; the one edge error type in
//! [`error`].

pub mod auth;
pub mod controllers;
pub mod docx;
pub mod error;
pub mod i18n;
pub mod layers;
pub mod metrics;
pub mod openapi;
pub mod outbox;
pub mod pages;
pub mod state;
pub mod upload;
pub mod xlsx;

pub use state::{AppState, WebConfig};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::{Router, middleware};
use controllers::*;
use tower_http::trace::TraceLayer;

/// Builds the whole application.
pub fn router(state: AppState) -> Router {
    let upload_limit = DefaultBodyLimit::max(state.cfg.max_upload_bytes * 10 + 64 * 1024);
    let api = Router::new()
        .route("/session", post(session::create).delete(session::delete))
        .route("/me", get(me::show))
        .route("/me/password", post(me::change_password))
        .route("/org-units", get(org_units::list).post(org_units::create))
        .route("/tasks", get(tasks::list).post(tasks::create))
        .route("/tasks/export.xlsx", get(tasks::export))
        .route("/tasks/{id}", get(tasks::show))
        .route("/tasks/{id}/transitions", post(tasks::transition).layer(upload_limit))
        .route("/tasks/{id}/problems/{idx}/hazard", post(tasks::problems::to_hazard))
        .route("/tasks/{id}/problems/{idx}/dispute", post(tasks::problems::to_dispute))
        .route("/attachments/{id}", get(files::download))
        .route("/catalogue", get(catalogue::list))
        .route("/catalogue/{code}", put(catalogue::upsert))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", put(users::update))
        .route("/users/{id}/password-reset", post(users::reset_password))
        .route("/users/{id}/phone", get(users::reveal_phone))
        .route("/grids", get(grids::list))
        .route("/grids/locate", get(grids::locate))
        .route("/grids/{id}", get(grids::show).put(grids::update))
        .route("/jobs/{name}", get(grids::job))
        .route("/incidents", get(incidents::list).post(incidents::create))
        .route("/incidents/figures", get(incidents::figures))
        .route("/incidents/similar", get(incidents::similar))
        .route("/incidents/places", get(incidents::places))
        .route("/incidents/export.xlsx", get(incidents::export::export))
        .route("/incidents/import", post(incidents::import).layer(DefaultBodyLimit::max(64 * 1024 * 1024)))
        .route("/incidents/{id}", get(incidents::show))
        .route("/incidents/{id}/transitions", post(incidents::transition))
        .route("/incidents/{id}/caller", get(incidents::caller))
        .route("/duty-templates", get(duty::list).post(duty::create))
        .route("/duty-templates/generate", post(duty::generate))
        .route("/duty-templates/completion", get(duty::completion))
        .route("/duty-templates/{id}", put(duty::update))
        .route("/me/calendar-token", post(duty::new_token).delete(duty::revoke_token))
        .route("/calendar.ics", get(duty::ics))
        .route("/volunteers", get(volunteers::list).post(volunteers::create))
        .route("/volunteers/counts", get(volunteers::counts))
        .route("/volunteers/{id}", put(volunteers::update))
        .route("/signups/{id}", axum::routing::delete(volunteers::cancel_signup))
        .route("/volunteers/{id}/contact", get(volunteers::contact))
        .route("/volunteers/{id}/purge", post(volunteers::purge))
        .route("/volunteer-posts", get(volunteers::posts).post(volunteers::create_post))
        .route("/volunteer-posts/{id}", put(volunteers::update_post))
        .route("/volunteer-posts/{id}/shifts", get(volunteers::shifts))
        .route("/shifts/{id}/signups", post(volunteers::sign_up))
        .route("/signups/{id}/attendance", post(volunteers::attendance))
        .route("/incident-types", get(incidents::types))
        .route("/incident-types/{code}", put(incident_types::upsert_type))
        .route("/incident-limits", get(incident_types::limits).put(incident_types::upsert_limit))
        .route("/incident-settings", get(incident_types::settings).put(incident_types::put_settings))
        .route("/triage", post(incidents::triage))
        .route("/disputes", get(disputes::list).post(disputes::create))
        .route("/disputes/figures", get(disputes::figures))
        .route("/disputes/export.xlsx", get(disputes::export::export))
        .route("/disputes/{id}", get(disputes::show))
        .route("/disputes/{id}/transitions", post(disputes::transition))
        .route("/disputes/{id}/sessions", post(disputes::session_upload).layer(upload_limit))
        .route("/dispute-files/{id}", get(disputes::file))
        .route("/disputes/{id}/parties/{party_id}", get(disputes::party))
        .route("/disputes/{id}/notices", post(notices::issue))
        .route("/disputes/{id}/plan", put(notices::save_plan))
        .route("/notices", get(notices::list))
        .route("/notices/{id}", get(notices::show))
        .route("/notices/{id}/sign", post(notices::sign))
        .route("/notices/{id}/document.docx", get(notices::document))
        .route("/notice-template", get(notices::template).put(notices::save_template))
        .route("/dispute-categories", get(disputes::categories))
        .route("/dispute-categories/{code}", put(dispute_settings::put_category))
        .route("/dispute-classes", get(disputes::classes))
        .route("/dispute-classes/{code}", put(dispute_settings::put_class))
        .route("/dispute-rules", get(disputes::rules).put(disputes::replace_rules))
        .route("/hazards", get(hazards::list).post(hazards::create))
        .route("/hazards/figures", get(hazards::figures))
        .route("/hazards/export.xlsx", get(hazards::export::export))
        .route("/hazards/{id}", get(hazards::show))
        .route("/hazards/{id}/transitions", post(hazards::transition))
        .route("/hazards/{id}/steps", post(hazards::step_upload).layer(upload_limit))
        .route("/hazard-files/{id}", get(hazards::file))
        .route("/hazard-types", get(hazards::types))
        .route("/hazard-types/{code}", put(hazards::put_type))
        .route("/hazard-factors", get(hazards::factors).put(hazards::replace_factors))
        .route("/hazard-campaigns", get(hazards::campaigns).post(hazards::create_campaign))
        .route("/hazard-campaigns/{id}", get(hazards::campaign))
        .route("/map/layers", get(map::layer_list))
        .route("/map/points", get(map::points))
        .route("/map/heat", get(map::heat))
        .route("/map/grids", get(map::grids))
        .route("/map/unrouted", get(map::unrouted))
        .route("/grids/import", post(grids::import).layer(DefaultBodyLimit::max(64 * 1024 * 1024)))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read", post(notifications::mark_read))
        .route("/workflows/{name}", get(workflows::show).put(workflows::replace))
        .route("/calendar", get(calendar::list))
        .route("/calendar/{day}", put(calendar::set_day))
        .route("/audit", get(audit::list));

    let pages = Router::new()
        .route("/", get(board::page))
        .route("/login", get(session::login_page).post(session::login_form))
        .route("/logout", post(session::logout_form))
        .route("/lang/{code}", get(pages::set_lang))
        .route("/tasks", get(tasks::list_page).post(tasks::create_form))
        .route("/tasks/new", get(tasks::new_page))
        .route("/tasks/{id}", get(tasks::show_page))
        .route("/tasks/{id}/transitions", post(tasks::transition_form).layer(upload_limit))
        .route("/tasks/{id}/problems/{idx}/hazard", post(tasks::problems::to_hazard_form))
        .route("/tasks/{id}/problems/{idx}/dispute", post(tasks::problems::to_dispute_form))
        .route("/m", get(tasks::mine_page))
        .route("/incidents", get(incidents::pages::list_page).post(incidents::pages::create_form))
        .route("/incidents/new", get(incidents::pages::new_page))
        .route("/incidents/import", get(incidents::pages::import_page))
        .route("/incidents/figures", get(incidents::pages::figures_page))
        .route("/incidents/inbox", get(incidents::inbox::inbox_page))
        .route("/incidents/similar", get(incidents::pages::similar_fragment))
        .route("/incidents/{id}", get(incidents::pages::show_page))
        .route("/incidents/{id}/transitions", post(incidents::pages::transition_form))
        .route("/incidents/{id}/caller", get(incidents::pages::caller_fragment))
        .route("/disputes", get(disputes::pages::list_page).post(disputes::pages::create_form))
        .route("/disputes/new", get(disputes::pages::new_page))
        .route("/disputes/board", get(disputes::pages::board_page))
        .route("/disputes/figures", get(disputes::pages::figures_page))
        .route("/disputes/{id}", get(disputes::pages::show_page))
        .route("/disputes/{id}/transitions", post(disputes::pages::transition_form))
        .route("/disputes/{id}/sessions", post(disputes::pages::session_form).layer(upload_limit))
        .route("/disputes/{id}/parties/{party_id}", get(disputes::pages::party_fragment))
        .route("/disputes/{id}/notices", post(notices::issue_form))
        .route("/disputes/{id}/plan", post(notices::plan_form))
        .route("/notices", get(notices::list_page))
        .route("/notices/{id}", get(notices::show_page))
        .route("/notices/{id}/sign", post(notices::sign_form))
        .route("/hazards", get(hazards::pages::list_page).post(hazards::pages::create_form).layer(upload_limit))
        .route("/hazards/new", get(hazards::pages::new_page))
        .route("/hazards/figures", get(hazards::pages::figures_page))
        .route("/hazards/campaigns", get(hazards::pages::campaigns_page).post(hazards::pages::campaign_form))
        .route("/hazards/campaigns/{id}", get(hazards::pages::campaign_page))
        .route("/hazards/settings", get(hazards::pages::settings_page))
        .route("/hazards/settings/types", post(hazards::pages::type_form))
        .route("/hazards/settings/factors", post(hazards::pages::factors_form))
        .route("/hazards/{id}", get(hazards::pages::show_page))
        .route("/hazards/{id}/steps", post(hazards::pages::step_form).layer(upload_limit))
        .route("/duty", get(duty::calendar_page))
        .route("/duty/calendar-token", post(duty::token_form))
        .route("/duty/templates", get(duty::templates_page).post(duty::template_form))
        .route("/duty/generate", post(duty::generate_form))
        .route("/volunteers", get(volunteers::roster_page).post(volunteers::create_form))
        .route("/volunteers/{id}/contact", get(volunteers::contact_fragment))
        .route("/volunteers/{id}/purge", post(volunteers::purge_form))
        .route("/volunteers/{id}/active", post(volunteers::active_form))
        .route("/volunteers/signups/{id}/cancel", post(volunteers::cancel_signup_form))
        .route("/volunteers/posts", get(volunteers::posts_page).post(volunteers::post_form))
        .route("/volunteers/posts/{id}", get(volunteers::post_page))
        .route("/volunteers/shifts/{id}/signups", post(volunteers::sign_up_form))
        .route("/volunteers/signups/{id}/attendance", post(volunteers::attendance_form))
        .route("/grids", get(grids::list_page))
        .route("/grids/import", get(grids::import_page))
        .route("/grids/{id}", get(grids::show_page).post(grids::edit_form))
        .route("/map", get(map::index))
        .route("/map/unrouted", get(map::unrouted_page))
        .route("/map/grids/{id}/card", get(map::card))
        .route("/map/{view}", get(map::page))
        .route("/notifications", get(notifications::page))
        .route("/notifications/read", post(notifications::mark_read_form))
        .route("/account/password", get(me::password_page).post(me::password_form))
        .route("/admin/catalogue", get(catalogue::page).post(catalogue::upsert_form))
        .route("/admin/users", get(users::page).post(users::create_form))
        .route("/admin/users/{id}", post(users::update_form))
        .route("/admin/users/{id}/reset", post(users::reset_form))
        .route("/admin/users/{id}/phone", get(users::phone_fragment))
        .route("/admin/workflow", get(settings::workflow_page))
        .route("/admin/workflow/{name}", post(settings::workflow_form))
        .route("/admin/incident-types", get(incident_types::page).post(incident_types::type_form))
        .route("/admin/disputes", get(dispute_settings::page))
        .route("/admin/dispute-categories", post(dispute_settings::category_form))
        .route("/admin/dispute-classes", post(dispute_settings::class_form))
        .route("/admin/dispute-rules", post(dispute_settings::rules_form))
        .route("/admin/notice-template", post(dispute_settings::template_form))
        .route("/admin/incident-limits", post(incident_types::limit_form))
        .route("/admin/incident-settings", post(incident_types::settings_form))
        .route("/admin/calendar", post(settings::calendar_form))
        .route("/admin/audit", get(settings::audit_page))
        .route("/admin/audit/verify", get(settings::audit_verify))
        .route("/files/{id}", get(files::download))
        .route("/assets/{name}", get(assets::serve))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/api/openapi.json", get(openapi::spec))
        .route("/api/docs", get(openapi::docs));

    Router::new()
        .nest("/api/v1", api)
        .merge(pages)
        .fallback(pages::not_found)
        .layer(middleware::from_fn(pages::own_rejections))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(middleware::from_fn_with_state(state.clone(), pages::security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Keeps the duty window filled: 八个一 for stations created since, then
/// every template's occurrences from today to the window's end as tasks.
async fn run_duties(
    state: &AppState,
    today: chrono::NaiveDate,
) -> Result<zhufang_store::duty::GenerateReport, zhufang_store::service::ServiceError> {
    let now = chrono::Utc::now();
    zhufang_store::duty::ensure_station_templates(state.store.as_ref(), now).await?;
    let to = today + chrono::Duration::days(state.cfg.duty_window_days);
    zhufang_store::duty::generate(state.store.as_ref(), &state.workflow(), &state.calendar(), None, today, to, now)
        .await
}

/// Runs the deadline scanner every `every` until `shutdown` resolves.
pub async fn run_background(
    state: AppState,
    every: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    // the duty scheduler runs once a local day (and at start)
    let mut duties_done: Option<chrono::NaiveDate> = None;
    let mut rescored: Option<chrono::NaiveDate> = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = state.run_jobs().await {
                    tracing::error!(error = %e, "background job failed");
                }
                let today = zhufang_domain::calendar::local_date(chrono::Utc::now());
                if state.cfg.duty_window_days > 0 && duties_done != Some(today) {
                    duties_done = Some(today);
                    match run_duties(&state, today).await {
                        Ok(r) if !r.created.is_empty() || !r.errors.is_empty() => {
                            tracing::info!(created = r.created.len(), existing = r.existing, errors = r.errors.len(), "duty scheduler")
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = ?e, "duty scheduler failed"),
                    }
                }
                // hazard scores follow the seasons and the deadlines: once a day
                if rescored != Some(today) {
                    rescored = Some(today);
                    match zhufang_store::hazards::rescore(state.store.as_ref(), chrono::Utc::now()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(changed = n, "hazard scores"),
                        Err(e) => tracing::error!(error = %e, "hazard rescore failed"),
                    }
                }
                match zhufang_store::hazards::scan_overdue(state.store.as_ref(), chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(raised = n, "overdue hazards"),
                    Err(e) => tracing::error!(error = %e, "hazard overdue scan failed"),
                }
                match zhufang_store::disputes::scan_notices(state.store.as_ref(), chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(escalated = n, "late notices"),
                    Err(e) => tracing::error!(error = %e, "notice scan failed"),
                }
                match zhufang_store::incidents::scan_hand_overs(state.store.as_ref(), chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(escalated = n, "late hand-overs"),
                    Err(e) => tracing::error!(error = %e, "hand-over scan failed"),
                }
                match outbox::deliver_due(&state, chrono::Utc::now()).await {
                    Ok((0, 0)) => {}
                    Ok((delivered, failed)) => tracing::info!(delivered, failed, "outbox"),
                    Err(e) => tracing::error!(error = %e, "outbox delivery failed"),
                }
                match zhufang_store::service::scan_deadlines(state.store.as_ref(), chrono::Utc::now()).await {
                    Ok((soon, overdue)) if soon + overdue > 0 => tracing::info!(soon, overdue, "deadline scan"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "deadline scan failed"),
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}
