//! The screen lock and single-session mode (security-api.txt, snake_case).
use super::accounts::AuthSignedIn;
use super::passkeys::{AnswerBody, CeremonyBody};
use super::{success, with_session_cookie, ApiJson, Success};
use app::error::AppError;
use app::ssr::clock::rfc3339;
use app::ssr::http::LockedCaller;
use app::ssr::services::identity::Caller;
use app::ssr::services::screen_lock;
use app::ssr::AppState;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SecurityStatus)]
pub struct Status {
    enabled: bool,
    lock_after_minutes: i64,
    single_session_mode: bool,
    has_passcode: bool,
    locked: bool,
}

#[utoipa::path(
    operation_id = "screen_lock_status",
    get,
    path = "/api/security",
    tag = "screen lock",
    responses((status = 200, description = "The caller's screen-lock settings (answers while locked)", body = Status)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn status(
    State(state): State<AppState>,
    LockedCaller(caller): LockedCaller,
) -> Result<Json<Status>, AppError> {
    let s = screen_lock::status(&state, &caller).await?;
    Ok(Json(Status {
        enabled: s.enabled,
        lock_after_minutes: s.lock_after_minutes,
        single_session_mode: s.single_session_mode,
        has_passcode: s.has_passcode,
        locked: s.locked,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasscodeRequest {
    new_passcode: String,
    current_passcode: Option<String>,
    lock_after_minutes: Option<i64>,
}

#[utoipa::path(
    operation_id = "screen_lock_set_passcode",
    post,
    path = "/api/security/passcode",
    tag = "screen lock",
    request_body = PasscodeRequest,
    responses((status = 200, description = "The passcode is set", body = Success), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn set_passcode(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PasscodeRequest>,
) -> Result<Json<Success>, AppError> {
    screen_lock::set_passcode(
        &state,
        &caller,
        &req.new_passcode,
        req.current_passcode.as_deref(),
        req.lock_after_minutes,
    )
    .await?;
    Ok(success())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LockAfterRequest {
    lock_after_minutes: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LockAfter {
    success: bool,
    lock_after_minutes: i64,
}

#[utoipa::path(
    operation_id = "screen_lock_set_lock_after",
    patch,
    path = "/api/security",
    tag = "screen lock",
    request_body = LockAfterRequest,
    responses((status = 200, description = "Saved", body = LockAfter)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn set_lock_after(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<LockAfterRequest>,
) -> Result<Json<LockAfter>, AppError> {
    let lock_after_minutes = screen_lock::set_lock_after(&state, &caller, req.lock_after_minutes).await?;
    Ok(Json(LockAfter { success: true, lock_after_minutes }))
}

/// `{locked: true, locked_at}`, also the answer of a terminal lock.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Locked {
    pub locked: bool,
    pub locked_at: String,
}

#[utoipa::path(
    operation_id = "screen_lock_lock",
    post,
    path = "/api/security/lock",
    tag = "screen lock",
    responses((status = 200, description = "Every session of the caller is locked", body = Locked), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn lock(State(state): State<AppState>, caller: Caller) -> Result<Json<Locked>, AppError> {
    let at = screen_lock::lock(&state, &caller).await?;
    Ok(Json(Locked { locked: true, locked_at: rfc3339(at) }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UnlockRequest {
    passcode: String,
}

#[utoipa::path(
    operation_id = "screen_lock_unlock",
    post,
    path = "/api/security/unlock",
    tag = "screen lock",
    request_body = UnlockRequest,
    responses((status = 200, description = "A new token (and `jwt` cookie); the locked one is revoked", body = AuthSignedIn), (status = 404, body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn unlock(
    State(state): State<AppState>,
    LockedCaller(caller): LockedCaller,
    ApiJson(req): ApiJson<UnlockRequest>,
) -> Result<Response, AppError> {
    let s = screen_lock::unlock(&state, &caller, &req.passcode).await?;
    Ok(with_session_cookie(&state, &s, AuthSignedIn::from(&s)))
}

/// Extension: a passkey instead of the passcode.
#[utoipa::path(
    operation_id = "screen_lock_passkey_options",
    post,
    path = "/api/security/unlock/passkey/options",
    tag = "screen lock",
    responses((status = 200, description = "The options for `navigator.credentials.get()`, this user's passkeys only", body = CeremonyBody), (status = 404, description = "`passkey_not_found`: the user has none", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn passkey_options(
    State(state): State<AppState>,
    LockedCaller(caller): LockedCaller,
) -> Result<Json<CeremonyBody>, AppError> {
    Ok(Json(screen_lock::passkey_options(&state, &caller).await?.into()))
}

#[utoipa::path(
    operation_id = "screen_lock_unlock_passkey",
    post,
    path = "/api/security/unlock/passkey",
    tag = "screen lock",
    request_body = AnswerBody,
    responses((status = 200, description = "A new token (and `jwt` cookie); the locked one is revoked", body = AuthSignedIn), (status = 400, description = "`passkey_failed`", body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn unlock_passkey(
    State(state): State<AppState>,
    LockedCaller(caller): LockedCaller,
    ApiJson(req): ApiJson<AnswerBody>,
) -> Result<Response, AppError> {
    let s = screen_lock::unlock_with_passkey(&state, &caller, req.into()).await?;
    Ok(with_session_cookie(&state, &s, AuthSignedIn::from(&s)))
}

/// Real user input seen by the browser's inactivity timer (see `screen_lock::record_activity`).
#[utoipa::path(
    operation_id = "screen_lock_activity",
    post,
    path = "/api/security/activity",
    tag = "screen lock",
    responses((status = 200, description = "Recorded", body = Success)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn activity(State(state): State<AppState>, caller: Caller) -> Result<Json<Success>, AppError> {
    screen_lock::record_activity(&state, &caller).await?;
    Ok(success())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RemoveRequest {
    current_passcode: String,
}

#[utoipa::path(
    operation_id = "screen_lock_remove_passcode",
    delete,
    path = "/api/security/passcode",
    tag = "screen lock",
    request_body = RemoveRequest,
    responses((status = 200, description = "The passcode and the screen lock are off", body = Success), (status = 404, body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn remove_passcode(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RemoveRequest>,
) -> Result<Json<Success>, AppError> {
    screen_lock::remove_passcode(&state, &caller, &req.current_passcode).await?;
    Ok(success())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SingleSessionRequest {
    enabled: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SingleSession {
    success: bool,
    single_session_mode: bool,
}

#[utoipa::path(
    operation_id = "screen_lock_single_session",
    post,
    path = "/api/security/single-session",
    tag = "screen lock",
    request_body = SingleSessionRequest,
    responses((status = 200, description = "Saved; turning it on ends the caller's other sessions", body = SingleSession)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn single_session(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SingleSessionRequest>,
) -> Result<Json<SingleSession>, AppError> {
    let single_session_mode = screen_lock::set_single_session(&state, &caller, req.enabled).await?;
    Ok(Json(SingleSession { success: true, single_session_mode }))
}
