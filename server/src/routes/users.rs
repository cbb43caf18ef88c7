//! `/api/users`: the user lifecycle in users-api.txt's (Termix) shape.
use super::{clearing_session_cookie, trusted_device, with_second_step_cookies, with_session_cookie, ApiJson};
use app::ssr::services::accounts::SignInContext;
use app::ssr::services::sessions::SignedIn;
use app::ssr::services::totp::{self, Proof};
use axum::http::HeaderMap;
use app::error::AppError;
use app::ssr::clock::rfc3339;
use app::ssr::db;
use app::ssr::http::LockedCaller;
use app::ssr::db::api_keys::ApiKeyRow;
use app::ssr::services::accounts::{self, LoginOutcome};
use app::ssr::services::{admin, api_keys, oidc, password_reset, vault};
use axum::extract::Query;
use axum::http::StatusCode;
use app::ssr::services::auth::Caller;
use app::ssr::services::sessions::{self, ClientMeta};
use app::ssr::services::settings::{self, Toggle};
use app::ssr::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/create", post(create))
        .route("/users/login", post(login))
        .route("/users/logout", post(logout))
        .route("/users/me", get(me))
        .route("/users/totp/setup", post(totp_setup))
        .route("/users/totp/enable", post(totp_enable))
        .route("/users/totp/disable", post(totp_disable))
        .route("/users/totp/backup-codes", post(totp_backup_codes))
        .route("/users/totp/verify-login", post(totp_verify_login))
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
        .route("/users/log-level", get(get_log_level).patch(set_log_level))
        .route("/users/guacamole-settings", get(get_guacamole).patch(set_guacamole))
        .route("/users/change-password", post(change_password))
        .route("/users/initiate-reset", post(initiate_reset))
        .route("/users/verify-reset-code", post(verify_reset_code))
        .route("/users/complete-reset", post(complete_reset))
        .route("/users/list", get(list_users))
        .route("/users/make-admin", post(make_admin))
        .route("/users/remove-admin", post(remove_admin))
        .route("/users/delete-account", delete(delete_account))
        .route("/users/delete-user", delete(delete_user))
        .route("/users/api-keys", get(list_api_keys).post(create_api_key))
        .route("/users/api-keys/{key_id}", delete(delete_api_key))
        .route("/users/oidc-config", get(oidc_public_config).post(save_oidc_config).delete(delete_oidc_config))
        .route("/users/oidc-config/admin", get(oidc_admin_config))
        .route("/users/oidc/authorize", get(oidc_authorize))
        .route("/users/oidc/login", get(oidc_login))
        .route("/users/oidc/callback", get(oidc_callback))
        .route("/users/link-oidc-to-password", post(link_oidc))
        .route("/users/unlink-oidc-from-password", post(unlink_oidc))
        .route("/users/data-status", get(data_status))
        .route("/users/unlock-data", post(unlock_data))
        .route("/users/vault", get(list_vault))
        .route("/users/vault/{name}", put(put_vault_item).delete(delete_vault_item))
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

fn login_body(s: &SignedIn) -> Value {
    json!({
        "success": true,
        "is_admin": s.account.is_admin,
        "username": s.account.username,
        "userId": s.account.id,
        "token": s.token,
    })
}

async fn login(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, AppError> {
    let device = trusted_device(&headers);
    let ctx = SignInContext {
        remember: req.remember_me,
        client: &client,
        trusted_device: device.as_deref(),
        mfa_ttl: totp::MFA_TTL_USERS_API,
    };
    match accounts::sign_in_with_password(&state, &req.username, req.password, ctx).await? {
        LoginOutcome::SignedIn(s) => Ok(with_session_cookie(&state, &s, login_body(&s))),
        LoginOutcome::MfaRequired { mfa_token } => {
            Ok(Json(json!({ "success": true, "requires_totp": true, "temp_token": mfa_token })).into_response())
        }
    }
}

async fn totp_setup(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    let e = totp::begin_enrollment(&state, &caller).await?;
    Ok(Json(json!({ "secret": e.secret_base32, "qr_code": e.qr_code })))
}

#[derive(Deserialize)]
struct EnableRequest {
    totp_code: String,
}

async fn totp_enable(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<EnableRequest>) -> Result<Json<Value>, AppError> {
    let codes = totp::enable(&state, &caller, &req.totp_code).await?;
    Ok(Json(json!({ "message": "Two-factor sign-in is on. Save your backup codes.", "backup_codes": codes })))
}

#[derive(Deserialize)]
struct ProofRequest {
    password: Option<String>,
    totp_code: Option<String>,
}

impl From<ProofRequest> for Proof {
    fn from(r: ProofRequest) -> Self {
        Proof { password: r.password, totp_code: r.totp_code }
    }
}

async fn totp_disable(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<ProofRequest>) -> Result<Json<Value>, AppError> {
    totp::disable(&state, &caller, req.into()).await?;
    Ok(Json(json!({ "success": true })))
}

async fn totp_backup_codes(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<ProofRequest>) -> Result<Json<Value>, AppError> {
    let codes = totp::regenerate_backup_codes(&state, &caller, req.into()).await?;
    Ok(Json(json!({ "backup_codes": codes })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyLoginRequest {
    #[serde(rename = "temp_token")]
    temp_token: String,
    #[serde(rename = "totp_code")]
    totp_code: String,
    #[serde(default)]
    remember_me: bool,
}

/// `rememberMe` here both lengthens the session to 30 days and trusts this device for 30 days.
async fn totp_verify_login(State(state): State<AppState>, client: ClientMeta, ApiJson(req): ApiJson<VerifyLoginRequest>) -> Result<Response, AppError> {
    let step = totp::complete_sign_in(&state, &req.temp_token, &req.totp_code, req.remember_me, req.remember_me, &client).await?;
    let body = login_body(&step.signed_in);
    Ok(with_second_step_cookies(&state, &step, body))
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
        "totp_enabled": account.totp_enabled,
        "data_unlocked": vault::is_unlocked(&state, &caller),
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

#[derive(Deserialize)]
struct LevelRequest {
    level: String,
}

async fn get_log_level(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "level": settings::log_level(&state).await? })))
}

async fn set_log_level(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<LevelRequest>) -> Result<Json<Value>, AppError> {
    let admin = caller.require_admin()?;
    settings::set_log_level(&admin, &state, &req.level).await?;
    Ok(Json(json!({ "level": settings::log_level(&state).await? })))
}

fn guacamole_body(g: settings::Guacamole) -> Json<Value> {
    Json(json!({ "enabled": g.enabled, "url": g.url }))
}

async fn get_guacamole(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    Ok(guacamole_body(settings::guacamole(&state).await?))
}

#[derive(Deserialize)]
struct GuacamoleRequest {
    enabled: Option<bool>,
    url: Option<String>,
}

async fn set_guacamole(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<GuacamoleRequest>) -> Result<Json<Value>, AppError> {
    let admin = caller.require_admin()?;
    Ok(guacamole_body(settings::set_guacamole(&admin, &state, req.enabled, req.url.as_deref()).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangePasswordRequest {
    old_password: String,
    new_password: String,
}

/// Every session ends, this one too: the cookie is cleared and the client signs in again.
async fn change_password(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<ChangePasswordRequest>) -> Result<Response, AppError> {
    accounts::change_password(&state, &caller, req.old_password, req.new_password).await?;
    let body = json!({ "success": true, "message": "Password changed. Every session has been signed out; sign in again." });
    Ok(clearing_session_cookie(&state, body))
}

#[derive(Deserialize)]
struct InitiateResetRequest {
    username: String,
}

async fn initiate_reset(State(state): State<AppState>, client: ClientMeta, ApiJson(req): ApiJson<InitiateResetRequest>) -> Result<Json<Value>, AppError> {
    password_reset::initiate(&state, &req.username, &client.ip).await?;
    Ok(Json(json!({ "message": password_reset::INITIATED })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyResetRequest {
    username: String,
    reset_code: String,
}

async fn verify_reset_code(State(state): State<AppState>, ApiJson(req): ApiJson<VerifyResetRequest>) -> Result<Json<Value>, AppError> {
    let token = password_reset::verify_code(&state, &req.username, &req.reset_code).await?;
    Ok(Json(json!({ "tempToken": token })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteResetRequest {
    username: String,
    temp_token: String,
    new_password: String,
}

async fn complete_reset(State(state): State<AppState>, ApiJson(req): ApiJson<CompleteResetRequest>) -> Result<Json<Value>, AppError> {
    password_reset::complete(&state, &req.username, &req.temp_token, req.new_password).await?;
    Ok(Json(json!({ "success": true, "message": "Password reset. Sign in with your new password." })))
}

async fn list_users(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    let users: Vec<Value> = admin::list_users(&caller, &state)
        .await?
        .into_iter()
        .map(|u| {
            json!({
                "id": u.account.id,
                "username": u.account.username,
                "is_admin": u.account.is_admin,
                "is_oidc": u.account.is_oidc,
                "totp_enabled": u.account.totp_enabled,
                "created_at": rfc3339(u.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "users": users })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetRequest {
    user_id: Option<String>,
    username: Option<String>,
}

async fn make_admin(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<TargetRequest>) -> Result<Json<Value>, AppError> {
    let admin_user = caller.require_admin()?;
    let target = admin::find_target(&state, req.user_id.as_deref(), req.username.as_deref()).await?;
    admin::make_admin(&admin_user, &state, &target).await?;
    Ok(Json(json!({ "success": true })))
}

async fn remove_admin(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<TargetRequest>) -> Result<Json<Value>, AppError> {
    let admin_user = caller.require_admin()?;
    let target = admin::find_target(&state, req.user_id.as_deref(), req.username.as_deref()).await?;
    admin::remove_admin(&admin_user, &state, &target).await?;
    Ok(Json(json!({ "success": true })))
}

#[derive(Deserialize)]
struct PasswordRequest {
    password: String,
}

async fn delete_account(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<PasswordRequest>) -> Result<Response, AppError> {
    accounts::delete_own_account(&state, &caller, req.password).await?;
    Ok(clearing_session_cookie(&state, json!({ "success": true })))
}

#[derive(Deserialize)]
struct UsernameRequest {
    username: String,
}

async fn delete_user(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<UsernameRequest>) -> Result<Json<Value>, AppError> {
    let admin_user = caller.require_admin()?;
    admin::delete_user(&admin_user, &state, &req.username).await?;
    Ok(Json(json!({ "success": true })))
}

fn api_key_body(k: &ApiKeyRow) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "userId": k.user_id,
        "username": k.username,
        "tokenPrefix": k.token_prefix,
        "createdAt": rfc3339(k.created_at),
        "expiresAt": k.expires_at.map(rfc3339),
        "lastUsedAt": k.last_used_at.map(rfc3339),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateKeyRequest {
    name: String,
    user_id: String,
    expires_at: Option<String>,
}

async fn create_api_key(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<CreateKeyRequest>) -> Result<Response, AppError> {
    let admin_user = caller.require_admin()?;
    let expires = req.expires_at.as_deref().map(|e| api_keys::parse_expiry(e, state.now())).transpose()?;
    let created = api_keys::create(&admin_user, &state, &req.name, &req.user_id, expires).await?;
    let mut body = api_key_body(&created.key);
    if let Some(obj) = body.as_object_mut() {
        obj.remove("lastUsedAt");
        obj.insert("token".into(), created.token.into());
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn list_api_keys(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    let admin_user = caller.require_admin()?;
    let keys: Vec<Value> = api_keys::list(&admin_user, &state).await?.iter().map(api_key_body).collect();
    Ok(Json(json!({ "apiKeys": keys })))
}

async fn delete_api_key(State(state): State<AppState>, caller: Caller, Path(key_id): Path<String>) -> Result<Json<Value>, AppError> {
    let admin_user = caller.require_admin()?;
    api_keys::delete(&admin_user, &state, &key_id).await?;
    Ok(Json(json!({ "success": true })))
}

async fn data_status(State(state): State<AppState>, caller: Caller) -> Json<Value> {
    let unlocked = vault::is_unlocked(&state, &caller);
    let message = if unlocked { "Your encrypted data is unlocked." } else { "Your encrypted data is locked. Unlock it with your password." };
    Json(json!({ "unlocked": unlocked, "message": message }))
}

async fn unlock_data(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<PasswordRequest>) -> Result<Json<Value>, AppError> {
    vault::unlock_with_password(&state, &caller, req.password).await?;
    Ok(Json(json!({ "success": true, "message": "Your encrypted data is unlocked for this session." })))
}

async fn list_vault(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    let items: Vec<Value> = vault::list(&state, &caller)
        .await?
        .into_iter()
        .map(|i| json!({ "name": i.name, "value": i.value, "updated_at": rfc3339(i.updated_at) }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
struct VaultValue {
    value: String,
}

async fn put_vault_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<VaultValue>,
) -> Result<Json<Value>, AppError> {
    vault::put(&state, &caller, &name, &req.value).await?;
    Ok(Json(json!({ "success": true })))
}

async fn delete_vault_item(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<Json<Value>, AppError> {
    vault::delete(&state, &caller, &name).await?;
    Ok(Json(json!({ "success": true })))
}

async fn oidc_public_config(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    Ok(Json(match oidc::config(&state).await? {
        None => Value::Null,
        Some(c) => json!({ "client_id": c.client_id, "issuer_url": c.issuer_url, "authorization_url": c.authorization_url, "scopes": c.scopes }),
    }))
}

async fn oidc_admin_config(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    caller.require_admin()?;
    Ok(Json(match oidc::config(&state).await? {
        None => Value::Null,
        Some(c) => json!({
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "issuer_url": c.issuer_url,
            "authorization_url": c.authorization_url,
            "token_url": c.token_url,
            "userinfo_url": c.userinfo_url,
            "identifier_path": c.identifier_path,
            "name_path": c.name_path,
            "scopes": c.scopes,
            "allowed_users": c.allowed_users,
        }),
    }))
}

async fn save_oidc_config(State(state): State<AppState>, caller: Caller, ApiJson(input): ApiJson<oidc::ConfigInput>) -> Result<Json<Value>, AppError> {
    let admin_user = caller.require_admin()?;
    oidc::save_config(&admin_user, &state, input).await?;
    Ok(Json(json!({ "success": true })))
}

async fn delete_oidc_config(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    oidc::delete_config(&caller.require_admin()?, &state).await?;
    Ok(Json(json!({ "success": true })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeQuery {
    remember_me: Option<String>,
}

async fn oidc_authorize(State(state): State<AppState>, Query(q): Query<AuthorizeQuery>) -> Result<Json<Value>, AppError> {
    let started = oidc::begin(&state, oidc::Flow::Users, q.remember_me.as_deref() == Some("true")).await?;
    Ok(Json(json!({ "auth_url": started.url, "state": started.state, "nonce": started.nonce })))
}

/// Not in users-api.txt: the same start as `/users/oidc/authorize`, answered as a redirect,
/// so the sign-in page's "Sign in with SSO" is a plain link that works without JavaScript.
async fn oidc_login(State(state): State<AppState>, Query(q): Query<AuthorizeQuery>) -> Response {
    match oidc::begin(&state, oidc::Flow::Users, q.remember_me.as_deref() == Some("true")).await {
        Ok(started) => axum::response::Redirect::to(&started.url).into_response(),
        Err(e) => super::sso_redirect(&state, Err(e), "/", |m| format!("/login?error={m}")),
    }
}

#[derive(Deserialize)]
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error_description: Option<String>,
    error: Option<String>,
}

pub(super) async fn finish_sso(state: &AppState, flow: oidc::Flow, q: CallbackQuery, client: &ClientMeta, headers: &HeaderMap) -> Result<LoginOutcome, AppError> {
    if let Some(err) = q.error_description.or(q.error) {
        tracing::info!(error = %err, "the identity provider ended the sign-in");
        return Err(AppError::invalid("sso_failed", None, "The identity provider did not sign you in."));
    }
    let device = trusted_device(headers);
    oidc::finish(state, flow, q.code.as_deref().unwrap_or(""), q.state.as_deref().unwrap_or(""), client, device.as_deref()).await
}

async fn oidc_callback(State(state): State<AppState>, client: ClientMeta, headers: HeaderMap, Query(q): Query<CallbackQuery>) -> Response {
    let outcome = finish_sso(&state, oidc::Flow::Users, q, &client, &headers).await;
    super::sso_redirect(&state, outcome, "/", |m| format!("/login?error={m}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkRequest {
    oidc_user_id: String,
    target_username: String,
}

async fn link_oidc(State(state): State<AppState>, caller: Caller, ApiJson(r): ApiJson<LinkRequest>) -> Result<Json<Value>, AppError> {
    oidc::link_to_password(&caller.require_admin()?, &state, &r.oidc_user_id, &r.target_username).await?;
    Ok(Json(json!({ "success": true })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnlinkRequest {
    user_id: String,
}

async fn unlink_oidc(State(state): State<AppState>, caller: Caller, ApiJson(r): ApiJson<UnlinkRequest>) -> Result<Json<Value>, AppError> {
    oidc::unlink_from_password(&caller.require_admin()?, &state, &r.user_id).await?;
    Ok(Json(json!({ "success": true })))
}
