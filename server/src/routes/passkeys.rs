//! Extension: passkeys. Adding and managing them (users family, camelCase), and signing in
//! with one for both documents' clients.
use super::accounts::AuthSignedIn;
use super::sign_in::UsersSignedIn;
use super::{success, with_session_cookie, ApiJson, Success};
use app::error::{AppError, ErrorKind};
use app::ssr::clock::rfc3339;
use app::ssr::db::passkeys::PasskeyRow;
use app::ssr::services::identity::{AdminUser, Caller, ClientMeta};
use app::ssr::services::passkeys::{self, Ceremony};
use app::ssr::services::sign_in::{self, Family, LoginOutcome, SignInContext};
use app::ssr::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Passkey)]
pub struct PasskeyBody {
    id: String,
    name: String,
    created_at: String,
    last_used_at: Option<String>,
}

impl From<PasskeyRow> for PasskeyBody {
    fn from(p: PasskeyRow) -> Self {
        Self {
            created_at: rfc3339(p.created_at),
            last_used_at: p.last_used_at.map(rfc3339),
            id: p.id,
            name: p.name,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PasskeysBody {
    passkeys: Vec<PasskeyBody>,
}

fn listed(rows: Vec<PasskeyRow>) -> Json<PasskeysBody> {
    Json(PasskeysBody { passkeys: rows.into_iter().map(PasskeyBody::from).collect() })
}

/// A ceremony begun: pass `options` to `navigator.credentials.create()` or `.get()` (after
/// `PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON` on its
/// `publicKey`), then send the answer back with `challengeId` within 5 minutes.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CeremonyBody {
    challenge_id: String,
    #[schema(value_type = Object)]
    options: serde_json::Value,
}

impl From<Ceremony> for CeremonyBody {
    fn from(c: Ceremony) -> Self {
        Self { challenge_id: c.challenge_id, options: c.options }
    }
}

/// An authenticator's answer to a ceremony begun by one of the `…/passkey/options` routes.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PasskeyAnswer)]
pub struct AnswerBody {
    challenge_id: String,
    /// The authenticator's answer, as `credential.toJSON()` gives it.
    #[schema(value_type = Object)]
    credential: serde_json::Value,
}

impl From<AnswerBody> for passkeys::Answer {
    fn from(a: AnswerBody) -> Self {
        Self { challenge_id: a.challenge_id, credential: a.credential }
    }
}

#[utoipa::path(
    operation_id = "passkeys_list",
    get,
    path = "/api/users/passkeys",
    tag = "passkeys",
    responses((status = 200, description = "The caller's passkeys, oldest first", body = PasskeysBody)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<PasskeysBody>, AppError> {
    Ok(listed(passkeys::list(&state, &caller).await?))
}

/// Needs a sign-in or the password re-entered within 10 minutes, and fewer than 10 passkeys.
#[utoipa::path(
    operation_id = "passkeys_register_options",
    post,
    path = "/api/users/passkeys/options",
    tag = "passkeys",
    responses((status = 200, description = "The options for `navigator.credentials.create()`", body = CeremonyBody), (status = 403, description = "`reauthentication_required`", body = crate::openapi::ApiError), (status = 409, description = "`too_many_passkeys`", body = crate::openapi::ApiError), (status = 429, description = "60 ceremonies per 15 minutes per account", body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn register_options(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<CeremonyBody>, AppError> {
    Ok(Json(passkeys::begin_registration(&state, &caller).await?.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    challenge_id: String,
    name: String,
    /// The authenticator's answer, as `credential.toJSON()` gives it.
    #[schema(value_type = Object)]
    credential: serde_json::Value,
}

#[utoipa::path(
    operation_id = "passkeys_register",
    post,
    path = "/api/users/passkeys",
    tag = "passkeys",
    request_body = RegisterRequest,
    responses((status = 201, description = "The passkey is added", body = PasskeyBody), (status = 400, description = "`passkey_failed`: the answer did not verify, or the ceremony is over", body = crate::openapi::ApiError), (status = 409, description = "`passkey_exists`, `too_many_passkeys`", body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<PasskeyBody>), AppError> {
    let row =
        passkeys::finish_registration(&state, &caller, &req.challenge_id, &req.name, req.credential).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RenameRequest {
    name: String,
}

#[utoipa::path(
    operation_id = "passkeys_rename",
    patch,
    path = "/api/users/passkeys/{passkey_id}",
    tag = "passkeys",
    params(("passkey_id" = String, Path)),
    request_body = RenameRequest,
    responses((status = 200, description = "Renamed", body = Success), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn rename(
    State(state): State<AppState>,
    caller: Caller,
    Path(passkey_id): Path<String>,
    ApiJson(req): ApiJson<RenameRequest>,
) -> Result<Json<Success>, AppError> {
    passkeys::rename(&state, &caller, &passkey_id, &req.name).await?;
    Ok(success())
}

#[utoipa::path(
    operation_id = "passkeys_remove",
    delete,
    path = "/api/users/passkeys/{passkey_id}",
    tag = "passkeys",
    params(("passkey_id" = String, Path)),
    responses((status = 200, description = "Removed: it signs nobody in any more", body = Success), (status = 403, description = "`reauthentication_required`", body = crate::openapi::ApiError), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(passkey_id): Path<String>,
) -> Result<Json<Success>, AppError> {
    passkeys::remove(&state, &caller, &passkey_id).await?;
    Ok(success())
}

#[utoipa::path(
    operation_id = "passkeys_list_of_user",
    get,
    path = "/api/users/{user_id}/passkeys",
    tag = "passkeys",
    params(("user_id" = String, Path)),
    responses((status = 200, description = "That user's passkeys (admin)", body = PasskeysBody), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn list_of_user(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(user_id): Path<String>,
) -> Result<Json<PasskeysBody>, AppError> {
    Ok(listed(passkeys::list_of(&state, &admin, &user_id).await?))
}

#[utoipa::path(
    operation_id = "passkeys_revoke",
    delete,
    path = "/api/users/{user_id}/passkeys/{passkey_id}",
    tag = "passkeys",
    params(("user_id" = String, Path), ("passkey_id" = String, Path)),
    responses((status = 200, description = "Revoked (admin)", body = Success), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn revoke(
    State(state): State<AppState>,
    admin: AdminUser,
    Path((user_id, passkey_id)): Path<(String, String)>,
) -> Result<Json<Success>, AppError> {
    passkeys::revoke(&state, &admin, &user_id, &passkey_id).await?;
    Ok(success())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct OptionsRequest {
    /// The browser's autofill (conditional mediation) rather than a dialog.
    #[serde(default)]
    autofill: bool,
}

/// The body is optional: none (or an empty one) asks for a dialog.
async fn sign_in_options(
    state: &AppState,
    client: &ClientMeta,
    body: &[u8],
) -> Result<Json<CeremonyBody>, AppError> {
    let req: OptionsRequest = if body.iter().all(u8::is_ascii_whitespace) {
        OptionsRequest::default()
    } else {
        serde_json::from_slice(body).map_err(|_| {
            AppError::invalid(
                ErrorKind::InvalidRequest,
                Some("autofill"),
                "Send {\"autofill\": true} or no body.",
            )
        })?
    };
    Ok(Json(passkeys::begin_sign_in(state, client, req.autofill).await?.into()))
}

#[utoipa::path(
    operation_id = "passkeys_auth_login_options",
    post,
    path = "/api/auth/login/passkey/options",
    tag = "auth",
    request_body(content = Option<OptionsRequest>, description = "Optional: `{\"autofill\": true}`"),
    responses((status = 200, description = "The options for `navigator.credentials.get()`, no username needed", body = CeremonyBody), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn auth_login_options(
    State(state): State<AppState>,
    client: ClientMeta,
    body: Bytes,
) -> Result<Json<CeremonyBody>, AppError> {
    sign_in_options(&state, &client, &body).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyLoginRequest {
    challenge_id: String,
    /// The authenticator's answer, as `credential.toJSON()` gives it.
    #[schema(value_type = Object)]
    credential: serde_json::Value,
    /// users family only: a 30-day session.
    #[serde(default)]
    remember_me: bool,
}

#[utoipa::path(
    operation_id = "passkeys_auth_login",
    post,
    path = "/api/auth/login/passkey",
    tag = "auth",
    request_body = PasskeyLoginRequest,
    responses((status = 200, description = "Signed in with both factors (sets the `jwt` cookie)", body = AuthSignedIn), (status = 401, description = "`invalid_credentials`, whatever was wrong", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn auth_login(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<PasskeyLoginRequest>,
) -> Result<Response, AppError> {
    let ctx = SignInContext { family: Family::Auth, remember: false, client: &client, trusted_device: None };
    match sign_in::with_passkey(&state, &req.challenge_id, req.credential, ctx).await? {
        LoginOutcome::SignedIn(s) => Ok(with_session_cookie(&state, &s, AuthSignedIn::from(&s))),
        LoginOutcome::MfaRequired { .. } => Err(AppError::bug("a passkey sign-in asked for a second step")),
    }
}

#[utoipa::path(
    operation_id = "passkeys_users_login_options",
    post,
    path = "/api/users/login/passkey/options",
    tag = "users",
    request_body(content = Option<OptionsRequest>, description = "Optional: `{\"autofill\": true}`"),
    responses((status = 200, description = "The options for `navigator.credentials.get()`, no username needed", body = CeremonyBody), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn users_login_options(
    State(state): State<AppState>,
    client: ClientMeta,
    body: Bytes,
) -> Result<Json<CeremonyBody>, AppError> {
    sign_in_options(&state, &client, &body).await
}

#[utoipa::path(
    operation_id = "passkeys_users_login",
    post,
    path = "/api/users/login/passkey",
    tag = "users",
    request_body = PasskeyLoginRequest,
    responses((status = 200, description = "Signed in with both factors (sets the `jwt` cookie)", body = UsersSignedIn), (status = 401, description = "`invalid_credentials`, whatever was wrong", body = crate::openapi::ApiError), (status = 429, body = crate::openapi::ApiError)),
)]
pub async fn users_login(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<PasskeyLoginRequest>,
) -> Result<Response, AppError> {
    let ctx = SignInContext {
        family: Family::Users,
        remember: req.remember_me,
        client: &client,
        trusted_device: None,
    };
    match sign_in::with_passkey(&state, &req.challenge_id, req.credential, ctx).await? {
        LoginOutcome::SignedIn(s) => Ok(with_session_cookie(&state, &s, UsersSignedIn::from(&s))),
        LoginOutcome::MfaRequired { .. } => Err(AppError::bug("a passkey sign-in asked for a second step")),
    }
}
