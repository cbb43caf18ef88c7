//! Single sign-on (OIDC): both documents' flows and callbacks, the admin settings and links.
use super::{success, trusted_device, ApiJson, ApiQuery, Success};
use app::api::encode_query;
use app::error::AppError;
use app::ssr::http::{cookie, http_only_cookie, session_cookie, MFA_COOKIE, OIDC_COOKIE};
use app::ssr::services::identity::{AdminUser, ClientMeta};
use app::ssr::services::oidc::{self, Callback, Flow, OidcConfig};
use app::ssr::services::sign_in::{self, Family, LoginOutcome};
use app::ssr::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// What anyone may read: `null` or `{client_id, issuer_url, authorization_url, scopes}`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OidcPublicConfig)]
pub struct PublicConfig {
    client_id: String,
    issuer_url: String,
    authorization_url: String,
    scopes: String,
}

#[utoipa::path(
    operation_id = "oidc_public_config",
    get,
    path = "/api/users/oidc-config",
    tag = "sso",
    responses((status = 200, description = "The public part of the single sign-on settings, or null when it is off", body = Option<PublicConfig>)),
)]
pub async fn public_config(State(state): State<AppState>) -> Result<Json<Option<PublicConfig>>, AppError> {
    Ok(Json(oidc::config(&state).await?.map(|c| PublicConfig {
        client_id: c.client_id,
        issuer_url: c.issuer_url,
        authorization_url: c.authorization_url,
        scopes: c.scopes,
    })))
}

/// Every field, the client secret decrypted (admins only, as users-api.txt specifies).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OidcAdminConfig)]
pub struct AdminConfig {
    client_id: String,
    client_secret: String,
    issuer_url: String,
    authorization_url: String,
    token_url: String,
    userinfo_url: Option<String>,
    identifier_path: String,
    name_path: String,
    scopes: String,
    allowed_users: String,
}

impl From<OidcConfig> for AdminConfig {
    fn from(c: OidcConfig) -> Self {
        Self {
            client_id: c.client_id,
            client_secret: c.client_secret,
            issuer_url: c.issuer_url,
            authorization_url: c.authorization_url,
            token_url: c.token_url,
            userinfo_url: c.userinfo_url,
            identifier_path: c.identifier_path,
            name_path: c.name_path,
            scopes: c.scopes,
            allowed_users: c.allowed_users,
        }
    }
}

#[utoipa::path(
    operation_id = "oidc_admin_config",
    get,
    path = "/api/users/oidc-config/admin",
    tag = "sso",
    responses((status = 200, description = "Every single sign-on setting, or null when it is off", body = Option<AdminConfig>)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn admin_config(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<Option<AdminConfig>>, AppError> {
    Ok(Json(oidc::config(&state).await?.map(AdminConfig::from)))
}

#[utoipa::path(
    operation_id = "oidc_save_config",
    post,
    path = "/api/users/oidc-config",
    tag = "sso",
    request_body = app::ssr::services::oidc::ConfigInput,
    responses((status = 200, description = "Saved", body = Success)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn save_config(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(input): ApiJson<oidc::ConfigInput>,
) -> Result<Json<Success>, AppError> {
    oidc::save_config(&admin, &state, input).await?;
    Ok(success())
}

#[utoipa::path(
    operation_id = "oidc_delete_config",
    delete,
    path = "/api/users/oidc-config",
    tag = "sso",
    responses((status = 200, description = "Single sign-on is off", body = Success)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn delete_config(
    State(state): State<AppState>,
    admin: AdminUser,
) -> Result<Json<Success>, AppError> {
    oidc::delete_config(&admin, &state).await?;
    Ok(success())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthStarted {
    url: String,
}

/// The binding cookie of a sign-in just started (see `oidc::Started::browser`).
fn binding_cookie(state: &AppState, started: &oidc::Started) -> axum::http::HeaderValue {
    http_only_cookie(state, OIDC_COOKIE, &started.browser, oidc::FLOW_LIFETIME_SECS)
}

#[utoipa::path(
    operation_id = "oidc_auth_authorize",
    get,
    path = "/api/auth/oidc/authorize",
    tag = "auth",
    responses((status = 200, description = "The provider URL to send the browser to (sets the binding cookie)", body = AuthStarted), (status = 404, body = crate::openapi::ApiError)),
)]
pub async fn auth_authorize(State(state): State<AppState>) -> Result<Response, AppError> {
    let started = oidc::begin(&state, Flow::Auth, false, None).await?;
    let cookie = binding_cookie(&state, &started);
    Ok((AppendHeaders([(header::SET_COOKIE, cookie)]), Json(AuthStarted { url: started.url }))
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeQuery {
    remember_me: Option<String>,
    /// Extension: where to go back to afterwards (forward-auth's sign-in page passes its `rd`).
    rd: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UsersStarted {
    auth_url: String,
    state: String,
    nonce: String,
}

#[utoipa::path(
    operation_id = "oidc_users_authorize",
    get,
    path = "/api/users/oidc/authorize",
    tag = "sso",
    params(("rememberMe" = Option<String>, Query, description = "`true` for a 30-day session")),
    responses((status = 200, description = "The provider URL to send the browser to (sets the binding cookie)", body = UsersStarted), (status = 404, body = crate::openapi::ApiError)),
)]
pub async fn users_authorize(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuthorizeQuery>,
) -> Result<Response, AppError> {
    let remember = q.remember_me.as_deref() == Some("true");
    let started = oidc::begin(&state, Flow::Users, remember, q.rd.as_deref()).await?;
    let cookie = binding_cookie(&state, &started);
    let body = UsersStarted { auth_url: started.url, state: started.state, nonce: started.nonce };
    Ok((AppendHeaders([(header::SET_COOKIE, cookie)]), Json(body)).into_response())
}

/// Not in users-api.txt: the same start as `/users/oidc/authorize`, answered as a redirect,
/// so the sign-in page's "Sign in with SSO" is a plain link that works without JavaScript.
#[utoipa::path(
    operation_id = "oidc_users_login",
    get,
    path = "/api/users/oidc/login",
    tag = "sso",
    params(("rememberMe" = Option<String>, Query, description = "`true` for a 30-day session")),
    responses((status = 303, description = "To the provider (or back to the sign-in page with the reason)", headers(("location" = String, description = "Where the browser goes")))),
)]
pub async fn users_login(State(state): State<AppState>, ApiQuery(q): ApiQuery<AuthorizeQuery>) -> Response {
    match oidc::begin(&state, Flow::Users, q.remember_me.as_deref() == Some("true"), q.rd.as_deref()).await {
        Ok(started) => {
            let cookie = binding_cookie(&state, &started);
            (AppendHeaders([(header::SET_COOKIE, cookie)]), Redirect::to(&started.url)).into_response()
        }
        Err(e) => Redirect::to(&format!("/login?error={}", encode_query(&e.to_string()))).into_response(),
    }
}

/// The end of a single sign-on in the browser: cookies, then a redirect. A sign-in that owes
/// a second step goes to the code page with the MFA-pending token in its short-lived cookie.
fn sso_redirect(
    state: &AppState,
    outcome: Result<LoginOutcome, AppError>,
    success: &str,
    back: Option<&str>,
    failure: &str,
) -> Response {
    let mut res = sso_outcome(state, outcome, success, back, failure);
    // The binding has done its work (or failed): the cookie goes either way.
    res.headers_mut().append(header::SET_COOKIE, http_only_cookie(state, OIDC_COOKIE, "", 0));
    res
}

/// `back` (the flow's checked `rd`) goes along to the second step when one is owed.
fn sso_outcome(
    state: &AppState,
    outcome: Result<LoginOutcome, AppError>,
    success: &str,
    back: Option<&str>,
    failure: &str,
) -> Response {
    match outcome {
        Ok(LoginOutcome::SignedIn(s)) => (
            AppendHeaders([(header::SET_COOKIE, session_cookie(state, &s.token, s.max_age))]),
            Redirect::to(success),
        )
            .into_response(),
        Ok(LoginOutcome::MfaRequired { mfa_token }) => {
            let cookie = http_only_cookie(state, MFA_COOKIE, &mfa_token, Family::Users.mfa_ttl());
            let next = app::ssr::services::forward_auth::with_return(state, "/login/mfa", back);
            (AppendHeaders([(header::SET_COOKIE, cookie)]), Redirect::to(&next)).into_response()
        }
        Err(e) => Redirect::to(&format!("{failure}{}", encode_query(&e.to_string()))).into_response(),
    }
}

/// A callback, the same for both flows but for where the browser goes next.
async fn callback(
    state: &AppState,
    flow: Flow,
    client: &ClientMeta,
    headers: &HeaderMap,
    q: &Callback,
) -> Response {
    let device = trusted_device(headers);
    let browser = cookie(headers, OIDC_COOKIE);
    let (outcome, back) =
        match sign_in::with_sso(state, flow, q, browser.as_deref(), client, device.as_deref()).await {
            Ok((outcome, back)) => (Ok(outcome), back),
            Err(e) => (Err(e), None),
        };
    match flow {
        Flow::Auth => sso_redirect(
            state,
            outcome,
            back.as_deref().unwrap_or("/?sso=success"),
            back.as_deref(),
            "/?sso_error=",
        ),
        Flow::Users => {
            sso_redirect(state, outcome, back.as_deref().unwrap_or("/"), back.as_deref(), "/login?error=")
        }
    }
}

#[utoipa::path(
    operation_id = "oidc_auth_callback",
    get,
    path = "/api/auth/oidc/callback",
    tag = "auth",
    params(("code" = Option<String>, Query), ("state" = Option<String>, Query), ("iss" = Option<String>, Query), ("error" = Option<String>, Query), ("error_description" = Option<String>, Query)),
    responses((status = 303, description = "Back to the app: signed in, on to the second step, or with the reason it failed", headers(("location" = String, description = "Where the browser goes")))),
)]
pub async fn auth_callback(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<Callback>,
) -> Response {
    callback(&state, Flow::Auth, &client, &headers, &q).await
}

#[utoipa::path(
    operation_id = "oidc_users_callback",
    get,
    path = "/api/users/oidc/callback",
    tag = "sso",
    params(("code" = Option<String>, Query), ("state" = Option<String>, Query), ("iss" = Option<String>, Query), ("error" = Option<String>, Query), ("error_description" = Option<String>, Query)),
    responses((status = 303, description = "Back to the app: signed in, on to the second step, or with the reason it failed", headers(("location" = String, description = "Where the browser goes")))),
)]
pub async fn users_callback(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<Callback>,
) -> Response {
    callback(&state, Flow::Users, &client, &headers, &q).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkRequest {
    oidc_user_id: String,
    target_username: String,
}

#[utoipa::path(
    operation_id = "oidc_link",
    post,
    path = "/api/users/link-oidc-to-password",
    tag = "sso",
    request_body = LinkRequest,
    responses((status = 200, description = "The accounts are one", body = Success), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn link(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(r): ApiJson<LinkRequest>,
) -> Result<Json<Success>, AppError> {
    oidc::link_to_password(&admin, &state, &r.oidc_user_id, &r.target_username).await?;
    Ok(success())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnlinkRequest {
    user_id: String,
}

#[utoipa::path(
    operation_id = "oidc_unlink",
    post,
    path = "/api/users/unlink-oidc-from-password",
    tag = "sso",
    request_body = UnlinkRequest,
    responses((status = 200, description = "The account signs in with its password only", body = Success), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn unlink(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(r): ApiJson<UnlinkRequest>,
) -> Result<Json<Success>, AppError> {
    oidc::unlink_from_password(&admin, &state, &r.user_id).await?;
    Ok(success())
}
