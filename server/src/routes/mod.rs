//! REST adapters under `/api`: parse input, call one service, shape the output. The whole URL
//! table is here, grouped by the document that specifies it; handlers live one file per
//! concept, named as the service they call.
pub(crate) mod accounts;
pub(crate) mod admin;
pub(crate) mod api_keys;
pub(crate) mod audit;
pub(crate) mod authz;
pub(crate) mod ldap;
pub(crate) mod oidc;
pub(crate) mod passkeys;
pub(crate) mod password_reset;
pub(crate) mod screen_lock;
pub(crate) mod sessions;
pub(crate) mod settings;
pub(crate) mod sign_in;
pub(crate) mod terminals;
pub(crate) mod totp;
pub(crate) mod vault;

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
use axum::routing::any;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The REST routes with their full paths (merged into the app, not nested: a nested router
/// rewrites every request's URI on the way in). Each handler carries its own OpenAPI
/// description (`#[utoipa::path]`) and is registered from it, so a route and its document
/// entry cannot part: `routes!` takes the path and method from the description. Handlers that
/// share a path are registered together.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // auth-api.txt: sign-in flows, camelCase.
        .routes(routes!(accounts::status))
        .routes(routes!(accounts::setup))
        .routes(routes!(sign_in::providers))
        .routes(routes!(sign_in::auth_login))
        .routes(routes!(sign_in::auth_login_mfa))
        .routes(routes!(sign_in::auth_login_ldap))
        .routes(routes!(oidc::auth_authorize))
        .routes(routes!(oidc::auth_callback))
        .routes(routes!(ldap::test))
        .routes(routes!(sessions::auth_logout))
        .routes(routes!(accounts::auth_me))
        .routes(routes!(terminals::issue_ticket))
        .routes(routes!(terminals::redeem_ticket))
        // Extension: the directory settings (admin).
        .routes(routes!(ldap::config, ldap::save_config, ldap::delete_config))
        // users-api.txt: the user lifecycle, Termix field names.
        .routes(routes!(accounts::register))
        .routes(routes!(sign_in::users_login))
        .routes(routes!(sessions::users_logout))
        .routes(routes!(accounts::users_me))
        .routes(routes!(accounts::setup_required))
        .routes(routes!(admin::count))
        .routes(routes!(settings::db_health))
        .routes(routes!(totp::setup))
        .routes(routes!(totp::enable))
        .routes(routes!(totp::disable))
        .routes(routes!(totp::backup_codes))
        .routes(routes!(sign_in::users_verify_login))
        // Extensions: re-entering the password for factor changes; an admin resets two-factor.
        .routes(routes!(accounts::reauthenticate))
        .routes(routes!(totp::reset))
        .routes(routes!(sessions::list))
        .routes(routes!(sessions::revoke_all))
        .routes(routes!(sessions::revoke))
        .routes(routes!(settings::registration, settings::set_registration))
        .routes(routes!(settings::password_login, settings::set_password_login))
        .routes(routes!(settings::password_reset, settings::set_password_reset))
        .routes(routes!(settings::session_timeout, settings::set_session_timeout))
        .routes(routes!(settings::log_level, settings::set_log_level))
        .routes(routes!(settings::guacamole, settings::set_guacamole))
        .routes(routes!(accounts::change_password))
        .routes(routes!(password_reset::initiate))
        .routes(routes!(password_reset::verify_code))
        .routes(routes!(password_reset::complete))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::make_admin))
        .routes(routes!(admin::remove_admin))
        .routes(routes!(accounts::delete_account))
        .routes(routes!(admin::delete_user))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(api_keys::delete))
        .routes(routes!(oidc::public_config, oidc::save_config, oidc::delete_config))
        .routes(routes!(oidc::admin_config))
        .routes(routes!(oidc::users_authorize))
        .routes(routes!(oidc::users_login))
        .routes(routes!(oidc::users_callback))
        .routes(routes!(oidc::link))
        .routes(routes!(oidc::unlink))
        .routes(routes!(vault::status))
        .routes(routes!(vault::unlock))
        .routes(routes!(vault::list))
        .routes(routes!(vault::put_item, vault::delete_item))
        // security-api.txt: screen lock and terminal locks, snake_case.
        .routes(routes!(screen_lock::status, screen_lock::set_lock_after))
        .routes(routes!(screen_lock::set_passcode, screen_lock::remove_passcode))
        .routes(routes!(screen_lock::lock))
        .routes(routes!(screen_lock::unlock))
        .routes(routes!(screen_lock::activity))
        .routes(routes!(screen_lock::single_session))
        .routes(routes!(terminals::status))
        .routes(routes!(terminals::lock))
        .routes(routes!(terminals::unlock))
        .routes(routes!(terminals::verify))
        // Extension: the audit log.
        .routes(routes!(audit::list))
        .routes(routes!(audit::export))
        .routes(routes!(audit::retention, audit::set_retention))
        .routes(routes!(audit::activity))
        // Extension: forward-auth for reverse proxies.
        .routes(routes!(authz::forward_auth))
        .routes(routes!(authz::auth_request))
        .routes(routes!(authz::rules, authz::set_rules))
        // Extension: passkeys.
        .routes(routes!(passkeys::auth_login_options))
        .routes(routes!(passkeys::auth_login))
        .routes(routes!(passkeys::users_login_options))
        .routes(routes!(passkeys::users_login))
        .routes(routes!(passkeys::list, passkeys::register))
        .routes(routes!(passkeys::register_options))
        .routes(routes!(passkeys::rename, passkeys::remove))
        .routes(routes!(passkeys::list_of_user))
        .routes(routes!(passkeys::revoke))
        .routes(routes!(sign_in::auth_login_mfa_passkey_options))
        .routes(routes!(sign_in::auth_login_mfa_passkey))
        .routes(routes!(sign_in::users_verify_login_passkey_options))
        .routes(routes!(sign_in::users_verify_login_passkey))
        .routes(routes!(screen_lock::passkey_options))
        .routes(routes!(screen_lock::unlock_passkey))
        .routes(routes!(terminals::passkey_options))
}

/// Anything else under `/api` is a JSON `404`, never the HTML not-found page. These are the
/// only routes registered without a description (the test `every_route_is_in_the_document`
/// reads this file to hold that).
pub fn not_found_routes() -> Router<AppState> {
    Router::new()
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
#[derive(Deserialize, Default, utoipa::ToSchema)]
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

/// A query string read into `T`, every failure being our own `400 invalid_request` (JSON, like
/// every other error; axum's own `Query` answers plain text).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map(ApiQuery)
            .map_err(|e| AppError::bad_request(format!("Invalid query string: {e}")))
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
#[derive(Serialize, utoipa::ToSchema)]
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
