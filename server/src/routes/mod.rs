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
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        // auth-api.txt: sign-in flows, camelCase.
        .route("/auth/status", get(accounts::status))
        .route("/auth/setup", post(accounts::setup))
        .route("/auth/providers", get(sign_in::providers))
        .route("/auth/login", post(sign_in::auth_login))
        .route("/auth/login/mfa", post(sign_in::auth_login_mfa))
        .route("/auth/login/ldap", post(sign_in::auth_login_ldap))
        .route("/auth/oidc/authorize", get(oidc::auth_authorize))
        .route("/auth/oidc/callback", get(oidc::auth_callback))
        .route("/auth/ldap/test", post(ldap::test))
        .route("/auth/logout", post(sessions::auth_logout))
        .route("/auth/me", get(accounts::auth_me))
        .route("/auth/ws-ticket", post(terminals::issue_ticket))
        .route("/auth/ws-ticket/redeem", post(terminals::redeem_ticket))
        // Extension: the directory settings (admin).
        .route("/auth/ldap/config", get(ldap::config).put(ldap::save_config).delete(ldap::delete_config))
        // users-api.txt: the user lifecycle, Termix field names.
        .route("/users/create", post(accounts::register))
        .route("/users/login", post(sign_in::users_login))
        .route("/users/logout", post(sessions::users_logout))
        .route("/users/me", get(accounts::users_me))
        .route("/users/setup-required", get(accounts::setup_required))
        .route("/users/count", get(admin::count))
        .route("/users/db-health", get(settings::db_health))
        .route("/users/totp/setup", post(totp::setup))
        .route("/users/totp/enable", post(totp::enable))
        .route("/users/totp/disable", post(totp::disable))
        .route("/users/totp/backup-codes", post(totp::backup_codes))
        .route("/users/totp/verify-login", post(sign_in::users_verify_login))
        // Extensions: re-entering the password for factor changes; an admin resets two-factor.
        .route("/users/reauthenticate", post(accounts::reauthenticate))
        .route("/users/totp/reset", post(totp::reset))
        .route("/users/sessions", get(sessions::list))
        .route("/users/sessions/revoke-all", post(sessions::revoke_all))
        .route("/users/sessions/{session_id}", delete(sessions::revoke))
        .route("/users/registration-allowed", get(settings::registration).patch(settings::set_registration))
        .route(
            "/users/password-login-allowed",
            get(settings::password_login).patch(settings::set_password_login),
        )
        .route(
            "/users/password-reset-allowed",
            get(settings::password_reset).patch(settings::set_password_reset),
        )
        .route("/users/session-timeout", get(settings::session_timeout).patch(settings::set_session_timeout))
        .route("/users/log-level", get(settings::log_level).patch(settings::set_log_level))
        .route("/users/guacamole-settings", get(settings::guacamole).patch(settings::set_guacamole))
        .route("/users/change-password", post(accounts::change_password))
        .route("/users/initiate-reset", post(password_reset::initiate))
        .route("/users/verify-reset-code", post(password_reset::verify_code))
        .route("/users/complete-reset", post(password_reset::complete))
        .route("/users/list", get(admin::list_users))
        .route("/users/make-admin", post(admin::make_admin))
        .route("/users/remove-admin", post(admin::remove_admin))
        .route("/users/delete-account", delete(accounts::delete_account))
        .route("/users/delete-user", delete(admin::delete_user))
        .route("/users/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/users/api-keys/{key_id}", delete(api_keys::delete))
        .route(
            "/users/oidc-config",
            get(oidc::public_config).post(oidc::save_config).delete(oidc::delete_config),
        )
        .route("/users/oidc-config/admin", get(oidc::admin_config))
        .route("/users/oidc/authorize", get(oidc::users_authorize))
        .route("/users/oidc/login", get(oidc::users_login))
        .route("/users/oidc/callback", get(oidc::users_callback))
        .route("/users/link-oidc-to-password", post(oidc::link))
        .route("/users/unlink-oidc-from-password", post(oidc::unlink))
        .route("/users/data-status", get(vault::status))
        .route("/users/unlock-data", post(vault::unlock))
        .route("/users/vault", get(vault::list))
        .route("/users/vault/{name}", put(vault::put_item).delete(vault::delete_item))
        // security-api.txt: screen lock and terminal locks, snake_case.
        .route("/security", get(screen_lock::status).patch(screen_lock::set_lock_after))
        .route("/security/passcode", post(screen_lock::set_passcode).delete(screen_lock::remove_passcode))
        .route("/security/lock", post(screen_lock::lock))
        .route("/security/unlock", post(screen_lock::unlock))
        .route("/security/activity", post(screen_lock::activity))
        .route("/security/single-session", post(screen_lock::single_session))
        .route("/security/terminal/{container_id}/mfa-status", get(terminals::status))
        .route("/security/terminal/{container_id}/mfa-lock", post(terminals::lock))
        .route("/security/terminal/{container_id}/mfa-unlock", post(terminals::unlock))
        .route("/security/terminal/{container_id}/mfa-verify", post(terminals::verify))
        .fallback(|| async { AppError::from(ErrorKind::NotFound) })
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
