//! Sign-in routes of both documents: providers, password, directory, the second step.
use super::accounts::AuthSignedIn;
use super::passkeys::{AnswerBody, CeremonyBody};
use super::{trusted_device, with_cookies, with_session_cookie, ApiJson};
use app::error::AppError;
use app::ssr::http::{session_cookie, trusted_device_cookie};
use app::ssr::services::identity::{ClientMeta, SignedIn};
use app::ssr::services::sign_in::{self, Family, LoginOutcome, SecondProof, SecondStep, SignInContext};
use app::ssr::services::{ldap, oidc, settings};
use app::ssr::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Providers {
    local: bool,
    ldap: bool,
    oidc: bool,
    oidc_button_label: &'static str,
    /// Extension: passkey sign-in works here (the public URL is a domain name).
    passkey: bool,
}

#[utoipa::path(
    operation_id = "sign_in_providers",
    get,
    path = "/api/auth/providers",
    tag = "auth",
    responses((status = 200, description = "Which sign-in methods are on", body = Providers)),
)]
pub async fn providers(State(state): State<AppState>) -> Result<Json<Providers>, AppError> {
    Ok(Json(Providers {
        local: settings::toggle(&state, settings::Toggle::PasswordLogin).await?,
        ldap: ldap::is_enabled(&state).await?,
        oidc: oidc::config(&state).await?.is_some(),
        oidc_button_label: "Sign in with SSO",
        passkey: app::ssr::services::passkeys::available(&state),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AuthLoginRequest {
    username: String,
    password: String,
}

/// auth-api.txt's second step owed: `{mfaRequired, mfaToken, mfaMethod}`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthMfaRequired {
    mfa_required: bool,
    mfa_token: String,
    mfa_method: &'static str,
}

fn auth_answer(state: &AppState, outcome: LoginOutcome) -> Response {
    match outcome {
        LoginOutcome::SignedIn(s) => with_session_cookie(state, &s, AuthSignedIn::from(&s)),
        LoginOutcome::MfaRequired { mfa_token } => {
            Json(AuthMfaRequired { mfa_required: true, mfa_token, mfa_method: "totp" }).into_response()
        }
    }
}

fn auth_context<'a>(client: &'a ClientMeta, device: &'a Option<String>) -> SignInContext<'a> {
    SignInContext { family: Family::Auth, remember: false, client, trusted_device: device.as_deref() }
}

#[utoipa::path(
    operation_id = "sign_in_auth_login",
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = AuthLoginRequest,
    responses((status = 200, description = "Signed in (sets the `jwt` cookie), or a second step is owed", body = crate::openapi::AuthLoginAnswer), (status = 401, description = "Wrong credentials, or a second-step token that is dead", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn auth_login(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    ApiJson(req): ApiJson<AuthLoginRequest>,
) -> Result<Response, AppError> {
    let device = trusted_device(&headers);
    let outcome =
        sign_in::with_password(&state, &req.username, req.password, auth_context(&client, &device)).await?;
    Ok(auth_answer(&state, outcome))
}

/// The same answers as `/auth/login`, the directory checking the password.
#[utoipa::path(
    operation_id = "sign_in_auth_login_ldap",
    post,
    path = "/api/auth/login/ldap",
    tag = "auth",
    request_body = AuthLoginRequest,
    responses((status = 200, description = "Signed in through the directory, or a second step is owed", body = crate::openapi::AuthLoginAnswer), (status = 401, description = "Wrong credentials, or a second-step token that is dead", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn auth_login_ldap(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    ApiJson(req): ApiJson<AuthLoginRequest>,
) -> Result<Response, AppError> {
    let device = trusted_device(&headers);
    let outcome =
        sign_in::with_directory(&state, &req.username, req.password, auth_context(&client, &device)).await?;
    Ok(auth_answer(&state, outcome))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthMfaRequest {
    mfa_token: String,
    code: String,
    #[serde(default)]
    trust_device: bool,
}

/// The session cookie and, after a trusted second step, the trusted-device cookie.
fn second_step_cookies(state: &AppState, step: &SecondStep) -> Vec<axum::http::HeaderValue> {
    let mut cookies = vec![session_cookie(state, &step.signed_in.token, step.signed_in.max_age)];
    if let Some(device) = &step.trusted_device {
        cookies.push(trusted_device_cookie(state, device));
    }
    cookies
}

#[utoipa::path(
    operation_id = "sign_in_auth_login_mfa",
    post,
    path = "/api/auth/login/mfa",
    tag = "auth",
    request_body = AuthMfaRequest,
    responses((status = 200, description = "Signed in (sets the `jwt` cookie)", body = AuthSignedIn), (status = 401, description = "Wrong credentials, or a second-step token that is dead", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn auth_login_mfa(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<AuthMfaRequest>,
) -> Result<Response, AppError> {
    let step =
        sign_in::complete_second_step(&state, &req.mfa_token, &req.code, false, req.trust_device, &client)
            .await?;
    Ok(with_cookies(second_step_cookies(&state, &step), AuthSignedIn::from(&step.signed_in)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsersLoginRequest {
    username: String,
    password: String,
    #[serde(default)]
    remember_me: bool,
}

/// users-api.txt's signed-in answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UsersSignedIn {
    success: bool,
    is_admin: bool,
    username: String,
    #[serde(rename = "userId")]
    user_id: String,
    token: String,
}

impl From<&SignedIn> for UsersSignedIn {
    fn from(s: &SignedIn) -> Self {
        Self {
            success: true,
            is_admin: s.account.is_admin,
            username: s.account.username.clone(),
            user_id: s.account.id.clone(),
            token: s.token.clone(),
        }
    }
}

/// users-api.txt's second step owed: `{success, requires_totp, temp_token}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UsersTotpRequired {
    success: bool,
    requires_totp: bool,
    temp_token: String,
}

#[utoipa::path(
    operation_id = "sign_in_users_login",
    post,
    path = "/api/users/login",
    tag = "users",
    request_body = UsersLoginRequest,
    responses((status = 200, description = "Signed in (sets the `jwt` cookie), or a TOTP code is owed", body = crate::openapi::UsersLoginAnswer), (status = 401, description = "Wrong credentials, or a second-step token that is dead", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn users_login(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    ApiJson(req): ApiJson<UsersLoginRequest>,
) -> Result<Response, AppError> {
    let device = trusted_device(&headers);
    let ctx = SignInContext {
        family: Family::Users,
        remember: req.remember_me,
        client: &client,
        trusted_device: device.as_deref(),
    };
    Ok(match sign_in::with_password(&state, &req.username, req.password, ctx).await? {
        LoginOutcome::SignedIn(s) => with_session_cookie(&state, &s, UsersSignedIn::from(&s)),
        LoginOutcome::MfaRequired { mfa_token } => {
            Json(UsersTotpRequired { success: true, requires_totp: true, temp_token: mfa_token })
                .into_response()
        }
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VerifyLoginRequest {
    temp_token: String,
    totp_code: String,
    #[serde(default, rename = "rememberMe")]
    remember_me: bool,
}

/// `rememberMe` here both lengthens the session to 30 days and trusts this device for 30 days.
#[utoipa::path(
    operation_id = "sign_in_users_verify_login",
    post,
    path = "/api/users/totp/verify-login",
    tag = "users",
    request_body = VerifyLoginRequest,
    responses((status = 200, description = "Signed in (sets the `jwt` cookie)", body = UsersSignedIn), (status = 401, description = "Wrong credentials, or a second-step token that is dead", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn users_verify_login(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<VerifyLoginRequest>,
) -> Result<Response, AppError> {
    let step = sign_in::complete_second_step(
        &state,
        &req.temp_token,
        &req.totp_code,
        req.remember_me,
        req.remember_me,
        &client,
    )
    .await?;
    Ok(with_cookies(second_step_cookies(&state, &step), UsersSignedIn::from(&step.signed_in)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthMfaPasskeyOptionsRequest {
    mfa_token: String,
}

/// Extension: a passkey instead of a code for the second step.
#[utoipa::path(
    operation_id = "sign_in_auth_login_mfa_passkey_options",
    post,
    path = "/api/auth/login/mfa/passkey/options",
    tag = "auth",
    request_body = AuthMfaPasskeyOptionsRequest,
    responses((status = 200, description = "The options for `navigator.credentials.get()`, this user's passkeys only", body = CeremonyBody), (status = 401, description = "A second-step token that is dead", body = crate::openapi::ApiError), (status = 404, description = "`passkey_not_found`: the user has none", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn auth_login_mfa_passkey_options(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<AuthMfaPasskeyOptionsRequest>,
) -> Result<Json<CeremonyBody>, AppError> {
    Ok(Json(sign_in::second_step_passkey_options(&state, &req.mfa_token).await?.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthMfaPasskeyRequest {
    mfa_token: String,
    passkey: AnswerBody,
    #[serde(default)]
    trust_device: bool,
}

#[utoipa::path(
    operation_id = "sign_in_auth_login_mfa_passkey",
    post,
    path = "/api/auth/login/mfa/passkey",
    tag = "auth",
    request_body = AuthMfaPasskeyRequest,
    responses((status = 200, description = "Signed in (sets the `jwt` cookie)", body = AuthSignedIn), (status = 400, description = "`passkey_failed`", body = crate::openapi::ApiError), (status = 401, description = "A second-step token that is dead", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn auth_login_mfa_passkey(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<AuthMfaPasskeyRequest>,
) -> Result<Response, AppError> {
    let proof = SecondProof::Passkey(req.passkey.into());
    let step =
        sign_in::complete_second_step_with(&state, &req.mfa_token, proof, false, req.trust_device, &client)
            .await?;
    Ok(with_cookies(second_step_cookies(&state, &step), AuthSignedIn::from(&step.signed_in)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VerifyLoginPasskeyOptionsRequest {
    temp_token: String,
}

#[utoipa::path(
    operation_id = "sign_in_users_verify_login_passkey_options",
    post,
    path = "/api/users/totp/verify-login/passkey/options",
    tag = "users",
    request_body = VerifyLoginPasskeyOptionsRequest,
    responses((status = 200, description = "The options for `navigator.credentials.get()`, this user's passkeys only", body = CeremonyBody), (status = 401, description = "A second-step token that is dead", body = crate::openapi::ApiError), (status = 404, description = "`passkey_not_found`: the user has none", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn users_verify_login_passkey_options(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<VerifyLoginPasskeyOptionsRequest>,
) -> Result<Json<CeremonyBody>, AppError> {
    Ok(Json(sign_in::second_step_passkey_options(&state, &req.temp_token).await?.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VerifyLoginPasskeyRequest {
    temp_token: String,
    passkey: AnswerBody,
    #[serde(default, rename = "rememberMe")]
    remember_me: bool,
}

#[utoipa::path(
    operation_id = "sign_in_users_verify_login_passkey",
    post,
    path = "/api/users/totp/verify-login/passkey",
    tag = "users",
    request_body = VerifyLoginPasskeyRequest,
    responses((status = 200, description = "Signed in (sets the `jwt` cookie)", body = UsersSignedIn), (status = 400, description = "`passkey_failed`", body = crate::openapi::ApiError), (status = 401, description = "A second-step token that is dead", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn users_verify_login_passkey(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<VerifyLoginPasskeyRequest>,
) -> Result<Response, AppError> {
    let proof = SecondProof::Passkey(req.passkey.into());
    let step = sign_in::complete_second_step_with(
        &state,
        &req.temp_token,
        proof,
        req.remember_me,
        req.remember_me,
        &client,
    )
    .await?;
    Ok(with_cookies(second_step_cookies(&state, &step), UsersSignedIn::from(&step.signed_in)))
}
