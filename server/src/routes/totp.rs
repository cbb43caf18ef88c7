//! Two-factor enrollment and its backup codes (users-api.txt).
use super::{success, ApiJson, Success};
use app::error::AppError;
use app::ssr::services::identity::{AdminUser, Caller};
use app::ssr::services::totp::{self, Proof};
use app::ssr::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Enrollment {
    secret: String,
    qr_code: String,
}

#[utoipa::path(
    operation_id = "totp_setup",
    post,
    path = "/api/users/totp/setup",
    tag = "two-factor",
    responses((status = 200, description = "A new secret and its QR code (two-factor is not on yet)", body = Enrollment)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn setup(State(state): State<AppState>, caller: Caller) -> Result<Json<Enrollment>, AppError> {
    let e = totp::begin_enrollment(&state, &caller).await?;
    Ok(Json(Enrollment { secret: e.secret_base32, qr_code: e.qr_code }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnableRequest {
    totp_code: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Enabled {
    message: &'static str,
    backup_codes: Vec<String>,
}

#[utoipa::path(
    operation_id = "totp_enable",
    post,
    path = "/api/users/totp/enable",
    tag = "two-factor",
    request_body = EnableRequest,
    responses((status = 200, description = "Two-factor is on; the backup codes, shown once", body = Enabled), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<EnableRequest>,
) -> Result<Json<Enabled>, AppError> {
    let backup_codes = totp::enable(&state, &caller, &req.totp_code).await?;
    Ok(Json(Enabled { message: "Two-factor sign-in is on. Save your backup codes.", backup_codes }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ProofRequest {
    password: Option<String>,
    totp_code: Option<String>,
}

impl From<ProofRequest> for Proof {
    fn from(r: ProofRequest) -> Self {
        Proof { password: r.password, totp_code: r.totp_code }
    }
}

#[utoipa::path(
    operation_id = "totp_disable",
    post,
    path = "/api/users/totp/disable",
    tag = "two-factor",
    request_body = ProofRequest,
    responses((status = 200, description = "Two-factor is off", body = Success), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ProofRequest>,
) -> Result<Json<Success>, AppError> {
    totp::disable(&state, &caller, req.into()).await?;
    Ok(success())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BackupCodes {
    backup_codes: Vec<String>,
}

#[utoipa::path(
    operation_id = "totp_backup_codes",
    post,
    path = "/api/users/totp/backup-codes",
    tag = "two-factor",
    request_body = ProofRequest,
    responses((status = 200, description = "New backup codes, shown once; the old ones stop working", body = BackupCodes), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn backup_codes(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ProofRequest>,
) -> Result<Json<BackupCodes>, AppError> {
    let backup_codes = totp::regenerate_backup_codes(&state, &caller, req.into()).await?;
    Ok(Json(BackupCodes { backup_codes }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetRequest {
    user_id: String,
}

/// Extension (admin): turns a user's two-factor off.
#[utoipa::path(
    operation_id = "totp_reset",
    post,
    path = "/api/users/totp/reset",
    tag = "admin",
    request_body = ResetRequest,
    responses((status = 200, description = "The user signs in with the password alone", body = Success), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn reset(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Result<Json<Success>, AppError> {
    totp::reset_for_user(&admin, &state, &req.user_id).await?;
    Ok(success())
}
