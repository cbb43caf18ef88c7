//! Instance settings (users-api.txt): anyone reads, an admin changes.
use super::ApiJson;
use app::error::AppError;
use app::ssr::services::identity::AdminUser;
use app::ssr::services::settings::{self, Guacamole, Toggle};
use app::ssr::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Allowed {
    allowed: bool,
}

async fn read(state: &AppState, t: Toggle) -> Result<Json<Allowed>, AppError> {
    Ok(Json(Allowed { allowed: settings::toggle(state, t).await? }))
}

async fn write(
    state: &AppState,
    admin: &AdminUser,
    t: Toggle,
    allowed: bool,
) -> Result<Json<Allowed>, AppError> {
    settings::set_toggle(admin, state, t, allowed).await?;
    Ok(Json(Allowed { allowed }))
}

#[utoipa::path(
    operation_id = "settings_registration",
    get,
    path = "/api/users/registration-allowed",
    tag = "settings",
    responses((status = 200, description = "Whether anyone may create an account", body = Allowed)),
)]
pub async fn registration(State(s): State<AppState>) -> Result<Json<Allowed>, AppError> {
    read(&s, Toggle::Registration).await
}
#[utoipa::path(
    operation_id = "settings_set_registration",
    patch,
    path = "/api/users/registration-allowed",
    tag = "settings",
    request_body = Allowed,
    responses((status = 200, description = "Saved", body = Allowed)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn set_registration(
    State(s): State<AppState>,
    a: AdminUser,
    ApiJson(r): ApiJson<Allowed>,
) -> Result<Json<Allowed>, AppError> {
    write(&s, &a, Toggle::Registration, r.allowed).await
}
#[utoipa::path(
    operation_id = "settings_password_login",
    get,
    path = "/api/users/password-login-allowed",
    tag = "settings",
    responses((status = 200, description = "Whether password sign-in is on", body = Allowed)),
)]
pub async fn password_login(State(s): State<AppState>) -> Result<Json<Allowed>, AppError> {
    read(&s, Toggle::PasswordLogin).await
}
#[utoipa::path(
    operation_id = "settings_set_password_login",
    patch,
    path = "/api/users/password-login-allowed",
    tag = "settings",
    request_body = Allowed,
    responses((status = 200, description = "Saved", body = Allowed)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn set_password_login(
    State(s): State<AppState>,
    a: AdminUser,
    ApiJson(r): ApiJson<Allowed>,
) -> Result<Json<Allowed>, AppError> {
    write(&s, &a, Toggle::PasswordLogin, r.allowed).await
}
#[utoipa::path(
    operation_id = "settings_password_reset",
    get,
    path = "/api/users/password-reset-allowed",
    tag = "settings",
    responses((status = 200, description = "Whether password reset is on", body = Allowed)),
)]
pub async fn password_reset(State(s): State<AppState>) -> Result<Json<Allowed>, AppError> {
    read(&s, Toggle::PasswordReset).await
}
#[utoipa::path(
    operation_id = "settings_set_password_reset",
    patch,
    path = "/api/users/password-reset-allowed",
    tag = "settings",
    request_body = Allowed,
    responses((status = 200, description = "Saved", body = Allowed)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn set_password_reset(
    State(s): State<AppState>,
    a: AdminUser,
    ApiJson(r): ApiJson<Allowed>,
) -> Result<Json<Allowed>, AppError> {
    write(&s, &a, Toggle::PasswordReset, r.allowed).await
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Timeout {
    timeout_hours: i64,
}

#[utoipa::path(
    operation_id = "settings_session_timeout",
    get,
    path = "/api/users/session-timeout",
    tag = "settings",
    responses((status = 200, description = "Hours a new session lasts", body = Timeout)),
)]
pub async fn session_timeout(State(state): State<AppState>) -> Result<Json<Timeout>, AppError> {
    Ok(Json(Timeout { timeout_hours: settings::session_timeout_hours(&state).await? }))
}

#[utoipa::path(
    operation_id = "settings_set_session_timeout",
    patch,
    path = "/api/users/session-timeout",
    tag = "settings",
    request_body = Timeout,
    responses((status = 200, description = "Saved", body = Timeout)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn set_session_timeout(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(req): ApiJson<Timeout>,
) -> Result<Json<Timeout>, AppError> {
    settings::set_session_timeout_hours(&admin, &state, req.timeout_hours).await?;
    Ok(Json(req))
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Level {
    level: String,
}

#[utoipa::path(
    operation_id = "settings_log_level",
    get,
    path = "/api/users/log-level",
    tag = "settings",
    responses((status = 200, description = "The log level", body = Level)),
)]
pub async fn log_level(State(state): State<AppState>) -> Result<Json<Level>, AppError> {
    Ok(Json(Level { level: settings::log_level(&state).await? }))
}

#[utoipa::path(
    operation_id = "settings_set_log_level",
    patch,
    path = "/api/users/log-level",
    tag = "settings",
    request_body = Level,
    responses((status = 200, description = "Applied at once and saved", body = Level)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn set_log_level(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(req): ApiJson<Level>,
) -> Result<Json<Level>, AppError> {
    let level = settings::set_log_level(&admin, &state, &req.level).await?;
    Ok(Json(Level { level }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GuacamoleBody {
    enabled: bool,
    url: String,
}

impl From<Guacamole> for GuacamoleBody {
    fn from(g: Guacamole) -> Self {
        Self { enabled: g.enabled, url: g.url }
    }
}

#[utoipa::path(
    operation_id = "settings_guacamole",
    get,
    path = "/api/users/guacamole-settings",
    tag = "settings",
    responses((status = 200, description = "The Guacamole settings", body = GuacamoleBody)),
)]
pub async fn guacamole(State(state): State<AppState>) -> Result<Json<GuacamoleBody>, AppError> {
    Ok(Json(settings::guacamole(&state).await?.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct GuacamoleRequest {
    enabled: Option<bool>,
    url: Option<String>,
}

#[utoipa::path(
    operation_id = "settings_set_guacamole",
    patch,
    path = "/api/users/guacamole-settings",
    tag = "settings",
    request_body = Option<GuacamoleRequest>,
    responses((status = 200, description = "Saved", body = GuacamoleBody)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn set_guacamole(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(req): ApiJson<GuacamoleRequest>,
) -> Result<Json<GuacamoleBody>, AppError> {
    Ok(Json(settings::set_guacamole(&admin, &state, req.enabled, req.url.as_deref()).await?.into()))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
}

/// `503` when the database does not answer.
#[utoipa::path(
    operation_id = "settings_db_health",
    get,
    path = "/api/users/db-health",
    tag = "admin",
    responses((status = 200, description = "The database answers", body = Health)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn db_health(State(state): State<AppState>, admin: AdminUser) -> Result<Json<Health>, AppError> {
    settings::check_database(&admin, &state).await?;
    Ok(Json(Health { status: "ok" }))
}
