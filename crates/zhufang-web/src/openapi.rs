//! `/api/openapi.json` (utoipa) and `/api/docs` (Swagger UI, embedded).

use crate::controllers::*;
use axum::Json;
use axum::response::{Html, IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "zhufang 主防 API", description = "派出所主防平台 JSON API. Sign in with POST /api/v1/session, then send `Authorization: Bearer <token>`. Errors are `{\"error\": {\"code\", \"message\", \"fields\"}}` with stable snake_case codes."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    paths(
        session::create, session::delete, me::show, me::change_password, org_units::list, org_units::create,
        tasks::list::list, tasks::create::create, tasks::show::show, tasks::transition::transition, tasks::export::export, files::download,
        catalogue::list, catalogue::upsert, users::list, users::create, users::update, users::reset_password,
        users::reveal_phone, notifications::list, notifications::mark_read, workflows::show, workflows::replace,
        calendar::list, calendar::set_day, audit::list, grids::list, grids::locate, grids::import, grids::job,
        grids::show, grids::update, map::layer_list, map::points, map::heat, map::grids, map::unrouted,
        incidents::create, incidents::list, incidents::show, incidents::transition, incidents::caller, incidents::types, incidents::figures, incidents::import, incidents::export::export, incidents::triage, incidents::similar, incidents::places, incident_types::upsert_type, disputes::create, disputes::list, disputes::show, disputes::transition, disputes::party, disputes::categories, disputes::classes, disputes::rules, disputes::replace_rules, disputes::figures, duty::list, duty::create, duty::update, duty::generate, duty::completion, duty::new_token, duty::revoke_token, duty::ics, disputes::session_upload, disputes::file, notices::issue, notices::list, notices::show, notices::sign, notices::document, notices::save_plan, notices::template, notices::save_template, dispute_settings::put_category, dispute_settings::put_class, disputes::export::export, incident_types::limits, incident_types::upsert_limit, incident_types::settings, incident_types::put_settings,
        hazards::create, hazards::list, hazards::show, hazards::transition, hazards::step_upload, hazards::file, hazards::types, hazards::put_type, hazards::factors, hazards::replace_factors, hazards::figures, hazards::create_campaign, hazards::campaigns, hazards::campaign, hazards::export::export, tasks::problems::to_hazard, tasks::problems::to_dispute,
        volunteers::list, volunteers::create, volunteers::contact, volunteers::purge, volunteers::counts, volunteers::posts,
        volunteers::create_post, volunteers::update_post, volunteers::shifts, volunteers::sign_up, volunteers::attendance, volunteers::update, volunteers::cancel_signup,
    )
)]
pub struct ApiDoc;

pub async fn spec() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

pub async fn docs() -> Html<&'static str> {
    Html(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>zhufang API</title>
<link rel="stylesheet" href="/assets/swagger-ui.css"></head><body><div id="swagger-ui"></div>
<script src="/assets/swagger-ui-bundle.js"></script><script src="/assets/swagger-init.js"></script></body></html>"#,
    )
}
