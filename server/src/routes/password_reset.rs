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

#[derive(Deserialize)]
pub struct InitiateRequest {
    username: String,
}

#[derive(Serialize)]
pub struct Message {
    message: &'static str,
}

pub async fn initiate(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<InitiateRequest>,
) -> Result<Json<Message>, AppError> {
    password_reset::initiate(&state, &req.username, &client.ip).await?;
    Ok(Json(Message { message: password_reset::INITIATED }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    username: String,
    reset_code: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetToken {
    temp_token: String,
}

pub async fn verify_code(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Json<ResetToken>, AppError> {
    let temp_token = password_reset::verify_code(&state, &req.username, &req.reset_code, &client.ip).await?;
    Ok(Json(ResetToken { temp_token }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteRequest {
    username: String,
    temp_token: String,
    new_password: String,
}

pub async fn complete(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CompleteRequest>,
) -> Result<Json<SuccessMessage>, AppError> {
    password_reset::complete(&state, &req.username, &req.temp_token, req.new_password).await?;
    Ok(Json(SuccessMessage::new("Password reset. Sign in with your new password.")))
}
