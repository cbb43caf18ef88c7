//! Accounts: first-run setup, registration, who am I, password change, deleting one's own.
use super::{clearing_session_cookie, with_session_cookie, ApiJson, Success};
use app::error::AppError;
use app::ssr::services::accounts;
use app::ssr::services::identity::{Account, Caller, ClientMeta, SignedIn};
use app::ssr::services::settings::StartingPolicy;
use app::ssr::services::vault;
use app::ssr::AppState;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};

/// auth-api.txt's user: `role` is `admin` or `user`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthUser {
    id: String,
    username: String,
    display_name: String,
    role: &'static str,
}

fn role(is_admin: bool) -> &'static str {
    if is_admin {
        "admin"
    } else {
        "user"
    }
}

impl From<&Account> for AuthUser {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id.clone(),
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: role(a.is_admin),
        }
    }
}

/// auth-api.txt's signed-in answer: `{token, user}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthSignedIn {
    token: String,
    user: AuthUser,
}

impl From<&SignedIn> for AuthSignedIn {
    fn from(s: &SignedIn) -> Self {
        Self { token: s.token.clone(), user: AuthUser::from(&s.account) }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusBody {
    needs_setup: bool,
}

#[utoipa::path(
    operation_id = "accounts_status",
    get,
    path = "/api/auth/status",
    tag = "auth",
    responses((status = 200, description = "Whether the instance still needs its first account", body = StatusBody)),
)]
pub async fn status(State(state): State<AppState>) -> Result<Json<StatusBody>, AppError> {
    Ok(Json(StatusBody { needs_setup: accounts::needs_setup(&state).await? }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SetupRequiredBody {
    setup_required: bool,
}

#[utoipa::path(
    operation_id = "accounts_setup_required",
    get,
    path = "/api/users/setup-required",
    tag = "users",
    responses((status = 200, description = "Whether the instance still needs its first account", body = SetupRequiredBody)),
)]
pub async fn setup_required(State(state): State<AppState>) -> Result<Json<SetupRequiredBody>, AppError> {
    Ok(Json(SetupRequiredBody { setup_required: accounts::needs_setup(&state).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetupRequest {
    username: String,
    password: String,
    #[serde(default)]
    display_name: String,
    /// Extension: whether anyone may register afterwards (default `true`, the documents'
    /// behaviour; the set-up page sends `false` unless the admin chooses otherwise).
    allow_registration: Option<bool>,
    /// Extension: whether forgotten passwords can be reset with a code (default `true`).
    allow_password_reset: Option<bool>,
}

#[utoipa::path(
    operation_id = "accounts_setup",
    post,
    path = "/api/auth/setup",
    tag = "auth",
    request_body = SetupRequest,
    responses((status = 200, description = "The first account, an admin, signed in (also sets the `jwt` cookie)", body = AuthSignedIn), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn setup(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<SetupRequest>,
) -> Result<Response, AppError> {
    let documents = StartingPolicy::default();
    let policy = StartingPolicy {
        open_registration: req.allow_registration.unwrap_or(documents.open_registration),
        password_reset: req.allow_password_reset.unwrap_or(documents.password_reset),
    };
    let s =
        accounts::set_up_instance(&state, &req.username, req.password, &req.display_name, policy, &client)
            .await?;
    Ok(with_session_cookie(&state, &s, AuthSignedIn::from(&s)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = RegisterRequest)]
pub struct CreateRequest {
    username: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Toast {
    #[serde(rename = "type")]
    kind: &'static str,
    message: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Registered)]
pub struct CreatedBody {
    message: &'static str,
    is_admin: bool,
    toast: Toast,
}

#[utoipa::path(
    operation_id = "accounts_register",
    post,
    path = "/api/users/create",
    tag = "users",
    request_body = CreateRequest,
    responses((status = 200, description = "The account exists", body = CreatedBody), (status = 409, body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn register(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<CreateRequest>,
) -> Result<Json<CreatedBody>, AppError> {
    let is_admin = accounts::register(&state, &req.username, req.password, &client.ip).await?;
    let toast = if is_admin {
        "Account created. You are the administrator."
    } else {
        "Account created. You can sign in now."
    };
    Ok(Json(CreatedBody {
        message: "User created",
        is_admin,
        toast: Toast { kind: "success", message: toast },
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthMe {
    id: String,
    username: String,
    display_name: String,
    role: &'static str,
    permissions: &'static [&'static str],
    dismissed_warnings: [String; 0],
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthMeBody {
    user: AuthMe,
}

#[utoipa::path(
    operation_id = "accounts_auth_me",
    get,
    path = "/api/auth/me",
    tag = "auth",
    responses((status = 200, description = "The caller", body = AuthMeBody)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn auth_me(caller: Caller) -> Json<AuthMeBody> {
    Json(AuthMeBody {
        user: AuthMe {
            role: role(caller.is_admin),
            permissions: caller.permissions(),
            id: caller.user_id,
            username: caller.username,
            display_name: caller.display_name,
            dismissed_warnings: [],
        },
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UsersMe {
    #[serde(rename = "userId")]
    user_id: String,
    username: String,
    is_admin: bool,
    is_oidc: bool,
    is_dual_auth: bool,
    totp_enabled: bool,
    data_unlocked: bool,
}

#[utoipa::path(
    operation_id = "accounts_users_me",
    get,
    path = "/api/users/me",
    tag = "users",
    responses((status = 200, description = "The caller", body = UsersMe)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn users_me(State(state): State<AppState>, caller: Caller) -> Result<Json<UsersMe>, AppError> {
    let a = accounts::find_account(&state, &caller.user_id).await?;
    Ok(Json(UsersMe {
        data_unlocked: vault::is_unlocked(&caller),
        is_dual_auth: a.is_oidc && a.has_password,
        user_id: a.id,
        username: a.username,
        is_admin: a.is_admin,
        is_oidc: a.is_oidc,
        totp_enabled: a.totp_enabled,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    old_password: String,
    new_password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SuccessMessage {
    success: bool,
    message: &'static str,
}

impl SuccessMessage {
    pub fn new(message: &'static str) -> Self {
        Self { success: true, message }
    }
}

/// Every session ends, this one too: the cookie is cleared and the client signs in again.
#[utoipa::path(
    operation_id = "accounts_change_password",
    post,
    path = "/api/users/change-password",
    tag = "users",
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "Changed; every session ends (clears the `jwt` cookie)", body = SuccessMessage), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<Response, AppError> {
    accounts::change_password(&state, &caller, req.old_password, req.new_password).await?;
    let body = SuccessMessage::new("Password changed. Every session has been signed out; sign in again.");
    Ok(clearing_session_cookie(&state, body))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordRequest {
    pub password: String,
}

#[utoipa::path(
    operation_id = "accounts_delete_account",
    delete,
    path = "/api/users/delete-account",
    tag = "users",
    request_body = PasswordRequest,
    responses((status = 200, description = "The account and everything it had are gone (clears the `jwt` cookie)", body = Success), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<Response, AppError> {
    accounts::delete_own_account(&state, &caller, req.password).await?;
    Ok(clearing_session_cookie(&state, Success::TRUE))
}

/// Extension: the password typed again; factor changes are open for 10 minutes.
#[utoipa::path(
    operation_id = "accounts_reauthenticate",
    post,
    path = "/api/users/reauthenticate",
    tag = "users",
    request_body = PasswordRequest,
    responses((status = 200, description = "The password is right: factor changes are allowed for ten minutes", body = Success), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn reauthenticate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<Json<Success>, AppError> {
    app::ssr::services::passwords::reauthenticate(&state, &caller, req.password).await?;
    Ok(Json(Success::TRUE))
}
