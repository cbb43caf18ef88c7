//! `/api/users`: the user lifecycle in users-api.txt's (Termix) shape.
use super::{clearing_session_cookie, with_session_cookie, ApiJson};
use app::error::AppError;
use app::ssr::clock::rfc3339;
use app::ssr::db;
use app::ssr::http::LockedCaller;
use app::ssr::services::accounts::{self, LoginOutcome};
use app::ssr::services::auth::Caller;
use app::ssr::services::sessions::{self, ClientMeta};
use app::ssr::services::settings::{self, Toggle};
use app::ssr::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/create", post(create))
        .route("/users/login", post(login))
        .route("/users/logout", post(logout))
        .route("/users/me", get(me))
        .route("/users/setup-required", get(setup_required))
        .route("/users/count", get(count))
        .route("/users/db-health", get(db_health))
        .route("/users/sessions", get(list_sessions))
        .route("/users/sessions/revoke-all", post(revoke_all))
        .route("/users/sessions/{session_id}", delete(revoke_session))
        .route("/users/registration-allowed", get(get_registration).patch(set_registration))
        .route("/users/password-login-allowed", get(get_password_login).patch(set_password_login))
        .route("/users/password-reset-allowed", get(get_password_reset).patch(set_password_reset))
        .route("/users/session-timeout", get(get_session_timeout).patch(set_session_timeout))
}

#[derive(Deserialize)]
struct CreateRequest {
    username: String,
    password: String,
}

async fn create(State(state): State<AppState>, ApiJson(req): ApiJson<CreateRequest>) -> Result<Json<Value>, AppError> {
    let is_admin = accounts::register(&state, &req.username, req.password).await?;
    let toast = if is_admin { "Account created. You are the administrator." } else { "Account created. You can sign in now." };
    Ok(Json(json!({ "message": "User created", "is_admin": is_admin, "toast": { "type": "success", "message": toast } })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginRequest {
    username: String,
    password: String,
    #[serde(default)]
    remember_me: bool,
}

async fn login(State(state): State<AppState>, client: ClientMeta, ApiJson(req): ApiJson<LoginRequest>) -> Result<Response, AppError> {
    match accounts::sign_in_with_password(&state, &req.username, req.password, req.remember_me, &client).await? {
        LoginOutcome::SignedIn(s) => {
            let body = json!({
                "success": true,
                "is_admin": s.account.is_admin,
                "username": s.account.username,
                "userId": s.account.id,
                "token": s.token,
            });
            Ok(with_session_cookie(&state, &s, body))
        }
    }
}

async fn logout(State(state): State<AppState>, LockedCaller(caller): LockedCaller) -> Result<Response, AppError> {
    sessions::end_session(&state, &caller).await?;
    Ok(clearing_session_cookie(&state, json!({ "success": true })))
}

async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    let account = accounts::find_account(&state, &caller.user_id).await?;
    Ok(Json(json!({
        "userId": account.id,
        "username": account.username,
        "is_admin": account.is_admin,
        "is_oidc": account.is_oidc,
        "is_dual_auth": account.is_oidc && account.has_password,
        "totp_enabled": false,
        "data_unlocked": false,
    })))
}

async fn setup_required(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "setup_required": accounts::needs_setup(&state).await? })))
}

async fn count(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    let admin = caller.require_admin()?;
    Ok(Json(json!({ "count": accounts::count_users(&admin, &state).await? })))
}

async fn db_health(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    caller.require_admin()?;
    if db::ping(&state.pool).await {
        Ok(Json(json!({ "status": "ok" })))
    } else {
        Err(AppError::Unavailable)
    }
}

async fn list_sessions(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    let list = sessions::list_sessions(&state, &caller).await?;
    let sessions: Vec<Value> = list
        .into_iter()
        .map(|s| {
            json!({
                "id": s.row.id,
                "userId": s.row.user_id,
                "username": s.row.username,
                "deviceType": s.row.device_type,
                "deviceInfo": s.row.device_info,
                "ipAddress": s.row.ip_address,
                "createdAt": rfc3339(s.row.created_at),
                "expiresAt": rfc3339(s.row.expires_at),
                "lastActiveAt": rfc3339(s.row.last_active_at),
                "isRevoked": s.row.revoked_at.is_some(),
                "isCurrentSession": s.is_current,
            })
        })
        .collect();
    Ok(Json(json!({ "sessions": sessions })))
}

async fn revoke_session(State(state): State<AppState>, caller: Caller, Path(session_id): Path<String>) -> Result<Json<Value>, AppError> {
    sessions::revoke_session(&state, &caller, &session_id).await?;
    Ok(Json(json!({ "success": true })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RevokeAllRequest {
    target_user_id: Option<String>,
    #[serde(default)]
    except_current: bool,
}

async fn revoke_all(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<RevokeAllRequest>) -> Result<Json<Value>, AppError> {
    let n = sessions::revoke_all_sessions(&state, &caller, req.target_user_id.as_deref(), req.except_current).await?;
    Ok(Json(json!({ "revokedCount": n })))
}

#[derive(Deserialize)]
struct AllowedRequest {
    allowed: bool,
}

async fn get_toggle(state: &AppState, t: Toggle) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "allowed": settings::toggle(state, t).await? })))
}

async fn set_toggle(state: &AppState, caller: Caller, t: Toggle, allowed: bool) -> Result<Json<Value>, AppError> {
    let admin = caller.require_admin()?;
    settings::set_toggle(&admin, state, t, allowed).await?;
    Ok(Json(json!({ "allowed": allowed })))
}

async fn get_registration(State(s): State<AppState>) -> Result<Json<Value>, AppError> {
    get_toggle(&s, Toggle::Registration).await
}
async fn set_registration(State(s): State<AppState>, c: Caller, ApiJson(r): ApiJson<AllowedRequest>) -> Result<Json<Value>, AppError> {
    set_toggle(&s, c, Toggle::Registration, r.allowed).await
}
async fn get_password_login(State(s): State<AppState>) -> Result<Json<Value>, AppError> {
    get_toggle(&s, Toggle::PasswordLogin).await
}
async fn set_password_login(State(s): State<AppState>, c: Caller, ApiJson(r): ApiJson<AllowedRequest>) -> Result<Json<Value>, AppError> {
    set_toggle(&s, c, Toggle::PasswordLogin, r.allowed).await
}
async fn get_password_reset(State(s): State<AppState>) -> Result<Json<Value>, AppError> {
    get_toggle(&s, Toggle::PasswordReset).await
}
async fn set_password_reset(State(s): State<AppState>, c: Caller, ApiJson(r): ApiJson<AllowedRequest>) -> Result<Json<Value>, AppError> {
    set_toggle(&s, c, Toggle::PasswordReset, r.allowed).await
}

async fn get_session_timeout(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "timeoutHours": settings::session_timeout_hours(&state).await? })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TimeoutRequest {
    timeout_hours: i64,
}

async fn set_session_timeout(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<TimeoutRequest>) -> Result<Json<Value>, AppError> {
    let admin = caller.require_admin()?;
    settings::set_session_timeout_hours(&admin, &state, req.timeout_hours).await?;
    Ok(Json(json!({ "timeoutHours": req.timeout_hours })))
}
