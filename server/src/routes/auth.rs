//! `/api/auth`: sign-in flows in auth-api.txt's camelCase shape.
use super::{clearing_session_cookie, trusted_device, with_second_step_cookies, with_session_cookie, ApiJson};
use app::ssr::services::accounts::SignInContext;
use app::ssr::services::{ldap, oidc, terminals, totp};
use axum::http::HeaderMap;
use app::error::AppError;
use app::ssr::http::LockedCaller;
use app::ssr::services::accounts::{self, Account, LoginOutcome};
use app::ssr::services::auth::Caller;
use app::ssr::services::sessions::{self, ClientMeta, SignedIn};
use app::ssr::services::settings::{self, Toggle};
use app::ssr::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/status", get(status))
        .route("/auth/setup", post(setup))
        .route("/auth/providers", get(providers))
        .route("/auth/login", post(login))
        .route("/auth/login/mfa", post(login_mfa))
        .route("/auth/login/ldap", post(login_ldap))
        .route("/auth/oidc/authorize", get(oidc_authorize))
        .route("/auth/oidc/callback", get(oidc_callback))
        .route("/auth/ldap/test", post(ldap_test))
        .route("/auth/ldap/config", get(get_ldap_config).put(put_ldap_config).delete(delete_ldap_config))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/auth/ws-ticket", post(ws_ticket))
        .route("/auth/ws-ticket/redeem", post(redeem_ws_ticket))
}

fn role(is_admin: bool) -> &'static str {
    if is_admin {
        "admin"
    } else {
        "user"
    }
}

fn user_json(a: &Account) -> Value {
    json!({ "id": a.id, "username": a.username, "displayName": a.display_name, "role": role(a.is_admin) })
}

fn signed_in_response(state: &AppState, s: &SignedIn) -> Response {
    with_session_cookie(state, s, json!({ "token": s.token, "user": user_json(&s.account) }))
}

async fn status(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "needsSetup": accounts::needs_setup(&state).await? })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetupRequest {
    username: String,
    password: String,
    #[serde(default)]
    display_name: String,
}

async fn setup(State(state): State<AppState>, client: ClientMeta, ApiJson(req): ApiJson<SetupRequest>) -> Result<Response, AppError> {
    let s = accounts::set_up_instance(&state, &req.username, req.password, &req.display_name, &client).await?;
    Ok(signed_in_response(&state, &s))
}

async fn providers(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({
        "local": settings::toggle(&state, Toggle::PasswordLogin).await?,
        "ldap": ldap::is_enabled(&state).await?,
        "oidc": oidc::config(&state).await?.is_some(),
        "oidcButtonLabel": "Sign in with SSO",
    })))
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, AppError> {
    let device = trusted_device(&headers);
    login_answer(&state, accounts::sign_in_with_password(&state, &req.username, req.password, auth_api_context(&client, &device)).await?)
}

/// The same answers as `/auth/login`, the directory checking the password.
async fn login_ldap(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, AppError> {
    let device = trusted_device(&headers);
    login_answer(&state, ldap::sign_in(&state, &req.username, req.password, auth_api_context(&client, &device)).await?)
}

/// auth-api.txt's sign-ins: no "remember me", a 5-minute second step.
fn auth_api_context<'a>(client: &'a ClientMeta, device: &'a Option<String>) -> SignInContext<'a> {
    SignInContext { remember: false, client, trusted_device: device.as_deref(), mfa_ttl: totp::MFA_TTL_AUTH_API }
}

fn login_answer(state: &AppState, outcome: LoginOutcome) -> Result<Response, AppError> {
    match outcome {
        LoginOutcome::SignedIn(s) => Ok(signed_in_response(state, &s)),
        LoginOutcome::MfaRequired { mfa_token } => {
            Ok(Json(json!({ "mfaRequired": true, "mfaToken": mfa_token, "mfaMethod": "totp" })).into_response())
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MfaRequest {
    mfa_token: String,
    code: String,
    #[serde(default)]
    trust_device: bool,
}

async fn login_mfa(State(state): State<AppState>, client: ClientMeta, ApiJson(req): ApiJson<MfaRequest>) -> Result<Response, AppError> {
    let step = totp::complete_sign_in(&state, &req.mfa_token, &req.code, false, req.trust_device, &client).await?;
    let body = json!({ "token": step.signed_in.token, "user": user_json(&step.signed_in.account) });
    Ok(with_second_step_cookies(&state, &step, body))
}

async fn logout(State(state): State<AppState>, LockedCaller(caller): LockedCaller) -> Result<Response, AppError> {
    sessions::end_session(&state, &caller).await?;
    Ok(clearing_session_cookie(&state, json!({ "ok": true })))
}

async fn me(caller: Caller) -> Json<Value> {
    Json(json!({ "user": {
        "id": caller.user_id,
        "username": caller.username,
        "displayName": caller.display_name,
        "role": role(caller.is_admin),
        "permissions": caller.permissions(),
        "dismissedWarnings": [],
    }}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketRequest {
    terminal_id: Option<String>,
}

async fn ws_ticket(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<TicketRequest>) -> Result<Json<Value>, AppError> {
    let terminal = req.terminal_id.as_deref().map(app::domain::ContainerId::parse).transpose()?;
    let ticket = terminals::issue_ticket(&state, &caller, terminal.as_ref()).await?;
    Ok(Json(json!({ "ticket": ticket })))
}

#[derive(Deserialize)]
struct RedeemRequest {
    ticket: String,
}

/// For the terminal gateway only: `Authorization: Bearer <PORTCULLIS_GATEWAY_SECRET>`.
/// The route does not exist (404) while no gateway secret is configured.
async fn redeem_ws_ticket(State(state): State<AppState>, headers: HeaderMap, ApiJson(req): ApiJson<RedeemRequest>) -> Result<Json<Value>, AppError> {
    let presented = app::ssr::http::presented_token(&headers);
    app::ssr::http::check_gateway_secret(&state, presented.as_deref())?;
    let holder = terminals::redeem_ticket(&state, &req.ticket).await?;
    Ok(Json(json!({
        "userId": holder.user_id,
        "username": holder.username,
        "permissions": holder.permissions,
        "terminalId": holder.terminal_id,
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LdapTestRequest {
    url: String,
    bind_dn: String,
    bind_password: String,
    search_base: String,
}

/// Needs `settings.manage`. A directory that refuses or does not answer is `200 {success:false}`.
async fn ldap_test(State(state): State<AppState>, caller: Caller, ApiJson(req): ApiJson<LdapTestRequest>) -> Result<Json<Value>, AppError> {
    let admin = caller.require_admin()?;
    if req.bind_password.is_empty() {
        return Err(AppError::invalid("invalid_request", Some("bindPassword"), "Give the service account's password."));
    }
    Ok(Json(match ldap::test_connection(&admin, &state, &req.url, &req.bind_dn, Some(&req.bind_password), &req.search_base).await? {
        Ok(()) => json!({ "success": true }),
        Err(error) => json!({ "success": false, "error": error }),
    }))
}

async fn get_ldap_config(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    caller.require_admin()?;
    Ok(Json(match ldap::config(&state).await? {
        None => json!({ "enabled": false, "configured": false }),
        Some(c) => json!({
            "enabled": c.enabled,
            "configured": true,
            "url": c.url,
            "bindDn": c.bind_dn,
            "hasBindPassword": !c.bind_password.is_empty(),
            "searchBase": c.search_base,
            "userAttribute": c.user_attribute,
            "displayNameAttribute": c.display_name_attribute,
        }),
    }))
}

async fn put_ldap_config(State(state): State<AppState>, caller: Caller, ApiJson(input): ApiJson<ldap::ConfigInput>) -> Result<Json<Value>, AppError> {
    let admin = caller.require_admin()?;
    ldap::save_config(&admin, &state, input).await?;
    Ok(Json(json!({ "success": true })))
}

async fn delete_ldap_config(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    ldap::delete_config(&caller.require_admin()?, &state).await?;
    Ok(Json(json!({ "success": true })))
}

async fn oidc_authorize(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let started = oidc::begin(&state, oidc::Flow::Auth, false).await?;
    Ok(Json(json!({ "url": started.url })))
}

async fn oidc_callback(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<super::users::CallbackQuery>,
) -> Response {
    let outcome = super::users::finish_sso(&state, oidc::Flow::Auth, q, &client, &headers).await;
    super::sso_redirect(&state, outcome, "/?sso=success", |m| format!("/?sso_error={m}"))
}
