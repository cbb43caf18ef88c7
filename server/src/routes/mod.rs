//! REST adapters under `/api`: parse input, call one service, shape the output. The whole URL
//! table is here, grouped by the document that specifies it; handlers live one file per
//! concept, named as the service they call.
mod accounts;
mod admin;
mod api_keys;
mod ldap;
mod oidc;
mod password_reset;
mod screen_lock;
mod sessions;
mod settings;
mod sign_in;
mod terminals;
mod totp;
mod vault;

use app::error::{AppError, ErrorKind};
use app::ssr::http::{clear_session_cookie, session_cookie};
use app::ssr::paging::PageRequest;
use app::ssr::services::identity::SignedIn;
use app::ssr::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The REST routes with their full paths (merged into the app, not nested: a nested router
/// rewrites every request's URI on the way in).
pub fn router() -> Router<AppState> {
    Router::new()
        // auth-api.txt: sign-in flows, camelCase.
        .route("/api/auth/status", get(accounts::status))
        .route("/api/auth/setup", post(accounts::setup))
        .route("/api/auth/providers", get(sign_in::providers))
        .route("/api/auth/login", post(sign_in::auth_login))
        .route("/api/auth/login/mfa", post(sign_in::auth_login_mfa))
        .route("/api/auth/login/ldap", post(sign_in::auth_login_ldap))
        .route("/api/auth/oidc/authorize", get(oidc::auth_authorize))
        .route("/api/auth/oidc/callback", get(oidc::auth_callback))
        .route("/api/auth/ldap/test", post(ldap::test))
        .route("/api/auth/logout", post(sessions::auth_logout))
        .route("/api/auth/me", get(accounts::auth_me))
        .route("/api/auth/ws-ticket", post(terminals::issue_ticket))
        .route("/api/auth/ws-ticket/redeem", post(terminals::redeem_ticket))
        // Extension: the directory settings (admin).
        .route("/api/auth/ldap/config", get(ldap::config).put(ldap::save_config).delete(ldap::delete_config))
        // users-api.txt: the user lifecycle, Termix field names.
        .route("/api/users/create", post(accounts::register))
        .route("/api/users/login", post(sign_in::users_login))
        .route("/api/users/logout", post(sessions::users_logout))
        .route("/api/users/me", get(accounts::users_me))
        .route("/api/users/setup-required", get(accounts::setup_required))
        .route("/api/users/count", get(admin::count))
        .route("/api/users/db-health", get(settings::db_health))
        .route("/api/users/totp/setup", post(totp::setup))
        .route("/api/users/totp/enable", post(totp::enable))
        .route("/api/users/totp/disable", post(totp::disable))
        .route("/api/users/totp/backup-codes", post(totp::backup_codes))
        .route("/api/users/totp/verify-login", post(sign_in::users_verify_login))
        // Extensions: re-entering the password for factor changes; an admin resets two-factor.
        .route("/api/users/reauthenticate", post(accounts::reauthenticate))
        .route("/api/users/totp/reset", post(totp::reset))
        .route("/api/users/sessions", get(sessions::list))
        .route("/api/users/sessions/revoke-all", post(sessions::revoke_all))
        .route("/api/users/sessions/{session_id}", delete(sessions::revoke))
        .route(
            "/api/users/registration-allowed",
            get(settings::registration).patch(settings::set_registration),
        )
        .route(
            "/api/users/password-login-allowed",
            get(settings::password_login).patch(settings::set_password_login),
        )
        .route(
            "/api/users/password-reset-allowed",
            get(settings::password_reset).patch(settings::set_password_reset),
        )
        .route(
            "/api/users/session-timeout",
            get(settings::session_timeout).patch(settings::set_session_timeout),
        )
        .route("/api/users/log-level", get(settings::log_level).patch(settings::set_log_level))
        .route("/api/users/guacamole-settings", get(settings::guacamole).patch(settings::set_guacamole))
        .route("/api/users/change-password", post(accounts::change_password))
        .route("/api/users/initiate-reset", post(password_reset::initiate))
        .route("/api/users/verify-reset-code", post(password_reset::verify_code))
        .route("/api/users/complete-reset", post(password_reset::complete))
        .route("/api/users/list", get(admin::list_users))
        .route("/api/users/make-admin", post(admin::make_admin))
        .route("/api/users/remove-admin", post(admin::remove_admin))
        .route("/api/users/delete-account", delete(accounts::delete_account))
        .route("/api/users/delete-user", delete(admin::delete_user))
        .route("/api/users/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/api/users/api-keys/{key_id}", delete(api_keys::delete))
        .route(
            "/api/users/oidc-config",
            get(oidc::public_config).post(oidc::save_config).delete(oidc::delete_config),
        )
        .route("/api/users/oidc-config/admin", get(oidc::admin_config))
        .route("/api/users/oidc/authorize", get(oidc::users_authorize))
        .route("/api/users/oidc/login", get(oidc::users_login))
        .route("/api/users/oidc/callback", get(oidc::users_callback))
        .route("/api/users/link-oidc-to-password", post(oidc::link))
        .route("/api/users/unlink-oidc-from-password", post(oidc::unlink))
        .route("/api/users/data-status", get(vault::status))
        .route("/api/users/unlock-data", post(vault::unlock))
        .route("/api/users/vault", get(vault::list))
        .route("/api/users/vault/{name}", put(vault::put_item).delete(vault::delete_item))
        // security-api.txt: screen lock and terminal locks, snake_case.
        .route("/api/security", get(screen_lock::status).patch(screen_lock::set_lock_after))
        .route("/api/security/passcode", post(screen_lock::set_passcode).delete(screen_lock::remove_passcode))
        .route("/api/security/lock", post(screen_lock::lock))
        .route("/api/security/unlock", post(screen_lock::unlock))
        .route("/api/security/activity", post(screen_lock::activity))
        .route("/api/security/single-session", post(screen_lock::single_session))
        .route("/api/security/terminal/{container_id}/mfa-status", get(terminals::status))
        .route("/api/security/terminal/{container_id}/mfa-lock", post(terminals::lock))
        .route("/api/security/terminal/{container_id}/mfa-unlock", post(terminals::unlock))
        .route("/api/security/terminal/{container_id}/mfa-verify", post(terminals::verify))
        // Anything else under `/api` is a JSON `404`, never the HTML not-found page.
        .route("/api", any(not_found))
        .route("/api/", any(not_found))
        .route("/api/{*rest}", any(not_found))
}

async fn not_found() -> AppError {
    AppError::from(ErrorKind::NotFound)
}

/// A JSON body whose every failure (bad JSON, wrong types, missing fields, wrong content
/// type) is our own `400 invalid_request`. An empty body reads as `{}`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let json_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::bad_request(format!("Could not read the request body: {e}")))?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
        if !json_type && text != b"{}" {
            return Err(AppError::bad_request("Send a JSON body with Content-Type: application/json."));
        }
        serde_json::from_slice(text)
            .map(ApiJson)
            .map_err(|e| AppError::bad_request(format!("Invalid JSON body: {e}")))
    }
}

/// The query of a paged list (extensions to the documents): `limit` (1–1000, default 1000),
/// `cursor` (a `nextCursor` from the previous page) and, for users, `search` (names starting
/// with it). Every failure, malformed query strings included, is `400 invalid_request`.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    limit: Option<String>,
    cursor: Option<String>,
    pub search: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Result<PageRequest, AppError> {
        PageRequest::parse(self.limit.as_deref(), self.cursor.as_deref())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageQuery {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map_err(|e| AppError::bad_request(format!("Invalid query string: {e}")))
    }
}

/// `{"success": true}`: users-api.txt's and security-api.txt's plain acknowledgement.
#[derive(Serialize)]
pub struct Success {
    success: bool,
}

impl Success {
    pub const TRUE: Self = Self { success: true };
}

pub fn success() -> Json<Success> {
    Json(Success::TRUE)
}

/// A JSON answer with cookies to set.
pub fn with_cookies<T: Serialize>(cookies: Vec<HeaderValue>, body: T) -> Response {
    let mut res = Json(body).into_response();
    for c in cookies {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// A JSON answer that also sets the session cookie.
pub fn with_session_cookie<T: Serialize>(state: &AppState, signed_in: &SignedIn, body: T) -> Response {
    with_cookies(vec![session_cookie(state, &signed_in.token, signed_in.max_age)], body)
}

/// A JSON answer that also removes the session cookie.
pub fn clearing_session_cookie<T: Serialize>(state: &AppState, body: T) -> Response {
    (AppendHeaders([(header::SET_COOKIE, clear_session_cookie(state))]), Json(body)).into_response()
}

/// This browser's trusted-device cookie.
pub fn trusted_device(headers: &axum::http::HeaderMap) -> Option<String> {
    app::ssr::http::cookie(headers, app::ssr::http::TRUSTED_DEVICE_COOKIE)
}
