//! Password reset by a code written to the server log (users-api.txt).
use super::accounts::SuccessMessage;
use super::ApiJson;
use app::error::AppError;
use app::ssr::services::identity::ClientMeta;
use app::ssr::services::password_reset;
use app::ssr::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct InitiateRequest {
    username: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Message {
    message: &'static str,
}

#[utoipa::path(
    operation_id = "password_reset_initiate",
    post,
    path = "/api/users/initiate-reset",
    tag = "password reset",
    request_body = InitiateRequest,
    responses((status = 200, description = "The same answer whether or not the account exists; the code is in the server log", body = Message), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn initiate(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<InitiateRequest>,
) -> Result<Json<Message>, AppError> {
    password_reset::initiate(&state, &req.username, &client.ip).await?;
    Ok(Json(Message { message: password_reset::INITIATED }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    username: String,
    reset_code: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetToken {
    temp_token: String,
}

#[utoipa::path(
    operation_id = "password_reset_verify_code",
    post,
    path = "/api/users/verify-reset-code",
    tag = "password reset",
    request_body = VerifyRequest,
    responses((status = 200, description = "A token for the new password, valid 10 minutes", body = ResetToken), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn verify_code(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Json<ResetToken>, AppError> {
    let temp_token = password_reset::verify_code(&state, &req.username, &req.reset_code, &client.ip).await?;
    Ok(Json(ResetToken { temp_token }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompleteRequest {
    username: String,
    temp_token: String,
    new_password: String,
}

#[utoipa::path(
    operation_id = "password_reset_complete",
    post,
    path = "/api/users/complete-reset",
    tag = "password reset",
    request_body = CompleteRequest,
    responses((status = 200, description = "The new password is set; every session ends", body = SuccessMessage), (status = 404, body = crate::openapi::ApiError)),
)]
pub async fn complete(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CompleteRequest>,
) -> Result<Json<SuccessMessage>, AppError> {
    password_reset::complete(&state, &req.username, &req.temp_token, req.new_password).await?;
    Ok(Json(SuccessMessage::new("Password reset. Sign in with your new password.")))
}
