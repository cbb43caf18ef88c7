//! Terminal guards: per-terminal MFA locks (security-api.txt) and the WebSocket tickets a
//! terminal gateway redeems (auth-api.txt).
use super::passkeys::{AnswerBody, CeremonyBody};
use super::screen_lock::Locked;
use super::ApiJson;
use app::domain::ContainerId;
use app::error::{AppError, ErrorKind};
use app::ssr::clock::rfc3339;
use app::ssr::http::Gateway;
use app::ssr::services::identity::Caller;
use app::ssr::services::terminals;
use app::ssr::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};

fn container(raw: &str) -> Result<ContainerId, AppError> {
    Ok(ContainerId::parse(raw)?)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LockStatus {
    locked: bool,
    locked_at: Option<String>,
}

#[utoipa::path(
    operation_id = "terminals_status",
    get,
    path = "/api/security/terminal/{container_id}/mfa-status",
    tag = "terminals",
    params(("container_id" = String, Path, description = "The terminal")),
    responses((status = 200, description = "Whether the terminal needs a second factor", body = LockStatus)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<LockStatus>, AppError> {
    let s = terminals::status(&state, &caller, &container(&id)?).await?;
    Ok(Json(LockStatus { locked: s.locked, locked_at: s.locked_at.map(rfc3339) }))
}

#[utoipa::path(
    operation_id = "terminals_lock",
    post,
    path = "/api/security/terminal/{container_id}/mfa-lock",
    tag = "terminals",
    params(("container_id" = String, Path, description = "The terminal")),
    responses((status = 200, description = "The terminal needs a second factor from now on", body = super::screen_lock::Locked)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn lock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Locked>, AppError> {
    let at = terminals::lock(&state, &caller, &container(&id)?).await?;
    Ok(Json(Locked { locked: true, locked_at: rfc3339(at) }))
}

/// A current TOTP code, or (extension) a passkey's answer to `…/passkey/options`: one of them.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CodeRequest {
    code: Option<String>,
    passkey: Option<AnswerBody>,
}

impl CodeRequest {
    fn proof(self) -> Result<terminals::Proof, AppError> {
        match (self.code, self.passkey) {
            (Some(code), None) => Ok(terminals::Proof::Code(code)),
            (None, Some(answer)) => Ok(terminals::Proof::Passkey(answer.into())),
            _ => Err(AppError::invalid(
                ErrorKind::InvalidRequest,
                Some("code"),
                "Send the code from your authenticator app, or a passkey's answer.",
            )),
        }
    }
}

/// Extension: a passkey instead of a code for `mfa-verify` and `mfa-unlock`.
#[utoipa::path(
    operation_id = "terminals_passkey_options",
    post,
    path = "/api/security/terminal/{container_id}/passkey/options",
    tag = "terminals",
    params(("container_id" = String, Path, description = "The terminal")),
    responses((status = 200, description = "The options for `navigator.credentials.get()`, bound to this session and terminal", body = CeremonyBody), (status = 404, description = "`passkey_not_found`: the user has none", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn passkey_options(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CeremonyBody>, AppError> {
    Ok(Json(terminals::passkey_options(&state, &caller, &container(&id)?).await?.into()))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Unlocked {
    locked: bool,
}

#[utoipa::path(
    operation_id = "terminals_unlock",
    post,
    path = "/api/security/terminal/{container_id}/mfa-unlock",
    tag = "terminals",
    request_body = CodeRequest,
    params(("container_id" = String, Path, description = "The terminal")),
    responses((status = 200, description = "The lock is removed", body = Unlocked), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Json<Unlocked>, AppError> {
    terminals::unlock(&state, &caller, &container(&id)?, req.proof()?).await?;
    Ok(Json(Unlocked { locked: false }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Verified {
    verified: bool,
    expires_at: String,
}

#[utoipa::path(
    operation_id = "terminals_verify",
    post,
    path = "/api/security/terminal/{container_id}/mfa-verify",
    tag = "terminals",
    request_body = CodeRequest,
    params(("container_id" = String, Path, description = "The terminal")),
    responses((status = 200, description = "This session may open the terminal for 15 minutes", body = Verified), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Json<Verified>, AppError> {
    let expires = terminals::verify(&state, &caller, &container(&id)?, req.proof()?).await?;
    Ok(Json(Verified { verified: true, expires_at: rfc3339(expires) }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketRequest {
    terminal_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Ticket {
    ticket: String,
}

#[utoipa::path(
    operation_id = "terminals_issue_ticket",
    post,
    path = "/api/auth/ws-ticket",
    tag = "terminals",
    request_body = Option<TicketRequest>,
    responses((status = 200, description = "A one-use WebSocket ticket, valid 30 seconds", body = Ticket)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn issue_ticket(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<TicketRequest>,
) -> Result<Json<Ticket>, AppError> {
    let terminal = req.terminal_id.as_deref().map(ContainerId::parse).transpose()?;
    let ticket = terminals::issue_ticket(&state, &caller, terminal.as_ref()).await?;
    Ok(Json(Ticket { ticket }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedeemRequest {
    ticket: String,
    /// The terminal the gateway is opening.
    terminal_id: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    user_id: String,
    username: String,
    permissions: &'static [&'static str],
    terminal_id: String,
}

/// For the terminal gateway only: `Authorization: Bearer <PORTCULLIS_GATEWAY_SECRET>`.
/// The route does not exist (404) while no gateway secret is configured.
#[utoipa::path(
    operation_id = "terminals_redeem_ticket",
    post,
    path = "/api/auth/ws-ticket/redeem",
    tag = "terminals",
    request_body = RedeemRequest,
    responses((status = 200, description = "Who the ticket was issued to", body = Holder), (status = 404, body = crate::openapi::ApiError)),
    security(("gateway" = [])),
)]
pub async fn redeem_ticket(
    State(state): State<AppState>,
    _gateway: Gateway,
    ApiJson(req): ApiJson<RedeemRequest>,
) -> Result<Json<Holder>, AppError> {
    let h = terminals::redeem_ticket(&state, &req.ticket, &container(&req.terminal_id)?).await?;
    Ok(Json(Holder {
        user_id: h.user_id,
        username: h.username,
        permissions: h.permissions,
        terminal_id: h.terminal_id,
    }))
}
