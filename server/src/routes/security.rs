//! `/api/security`: screen lock, single-session mode and terminal MFA locks (security-api.txt,
//! snake_case).
use super::{with_session_cookie, ApiJson};
use app::domain::ContainerId;
use app::error::AppError;
use app::ssr::clock::rfc3339;
use app::ssr::http::LockedCaller;
use app::ssr::services::auth::Caller;
use app::ssr::services::{screen_lock, terminals};
use app::ssr::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/security", get(status).patch(update))
        .route("/security/passcode", post(set_passcode).delete(remove_passcode))
        .route("/security/lock", post(lock))
        .route("/security/unlock", post(unlock))
        .route("/security/activity", post(activity))
        .route("/security/single-session", post(single_session))
        .route("/security/terminal/{container_id}/mfa-status", get(terminal_status))
        .route("/security/terminal/{container_id}/mfa-lock", post(terminal_lock))
        .route("/security/terminal/{container_id}/mfa-unlock", post(terminal_unlock))
        .route("/security/terminal/{container_id}/mfa-verify", post(terminal_verify))
}

async fn status(State(state): State<AppState>, LockedCaller(caller): LockedCaller) -> Result<Json<Value>, AppError> {
    let s = screen_lock::status(&state, &caller).await?;
    Ok(Json(json!({
        "enabled": s.enabled,
        "lock_after_minutes": s.lock_after_minutes,
        "single_session_mode": s.single_session_mode,
        "has_passcode": s.has_passcode,
        "locked": s.locked,
    })))
}

#[derive(Deserialize)]
struct PasscodeRequest {
    new_passcode: String,
    current_passcode: Option<String>,
    lock_after_minutes: Option<i64>,
}

async fn set_passcode(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<PasscodeRequest>) -> Result<Json<Value>, AppError> {
    screen_lock::set_passcode(&state, &caller, &req.new_passcode, req.current_passcode.as_deref(), req.lock_after_minutes).await?;
    Ok(Json(json!({ "success": true })))
}

#[derive(Deserialize)]
struct UpdateRequest {
    lock_after_minutes: i64,
}

async fn update(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<UpdateRequest>) -> Result<Json<Value>, AppError> {
    let minutes = screen_lock::set_lock_after(&state, &caller, req.lock_after_minutes).await?;
    Ok(Json(json!({ "success": true, "lock_after_minutes": minutes })))
}

async fn lock(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    let at = screen_lock::lock(&state, &caller).await?;
    Ok(Json(json!({ "locked": true, "locked_at": rfc3339(at) })))
}

#[derive(Deserialize)]
struct UnlockRequest {
    passcode: String,
}

async fn unlock(State(state): State<AppState>, LockedCaller(caller): LockedCaller, ApiJson(req): ApiJson<UnlockRequest>) -> Result<Response, AppError> {
    let s = screen_lock::unlock(&state, &caller, &req.passcode).await?;
    let role = if s.account.is_admin { "admin" } else { "user" };
    let body = json!({
        "token": s.token,
        "user": { "id": s.account.id, "username": s.account.username, "displayName": s.account.display_name, "role": role },
    });
    Ok(with_session_cookie(&state, &s, body))
}

/// Real user input seen by the browser's inactivity timer (see `screen_lock::record_activity`).
async fn activity(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    screen_lock::record_activity(&state, &caller).await?;
    Ok(Json(json!({ "success": true })))
}

#[derive(Deserialize)]
struct RemoveRequest {
    current_passcode: String,
}

async fn remove_passcode(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<RemoveRequest>) -> Result<Json<Value>, AppError> {
    screen_lock::remove_passcode(&state, &caller, &req.current_passcode).await?;
    Ok(Json(json!({ "success": true })))
}

#[derive(Deserialize)]
struct SingleSessionRequest {
    enabled: bool,
}

async fn single_session(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<SingleSessionRequest>) -> Result<Json<Value>, AppError> {
    let on = screen_lock::set_single_session(&state, &caller, req.enabled).await?;
    Ok(Json(json!({ "success": true, "single_session_mode": on })))
}

fn container(raw: &str) -> Result<ContainerId, AppError> {
    Ok(ContainerId::parse(raw)?)
}

async fn terminal_status(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let s = terminals::status(&state, &caller, &container(&id)?).await?;
    Ok(Json(json!({ "locked": s.locked, "locked_at": s.locked_at.map(rfc3339) })))
}

async fn terminal_lock(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let at = terminals::lock(&state, &caller, &container(&id)?).await?;
    Ok(Json(json!({ "locked": true, "locked_at": rfc3339(at) })))
}

#[derive(Deserialize)]
struct CodeRequest {
    code: String,
}

async fn terminal_unlock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Json<Value>, AppError> {
    terminals::unlock(&state, &caller, &container(&id)?, &req.code).await?;
    Ok(Json(json!({ "locked": false })))
}

async fn terminal_verify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Json<Value>, AppError> {
    let expires = terminals::verify(&state, &caller, &container(&id)?, &req.code).await?;
    Ok(Json(json!({ "verified": true, "expires_at": rfc3339(expires) })))
}
