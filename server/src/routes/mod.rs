//! REST adapters under `/api`: parse input, call one service, shape the output.
mod auth;
mod security;
pub(crate) mod users;

use app::error::AppError;
use app::ssr::http::{clear_session_cookie, session_cookie};
use app::ssr::services::sessions::SignedIn;
use app::ssr::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::Router;
use serde::de::DeserializeOwned;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(users::router())
        .merge(security::router())
        .fallback(|| async { AppError::not_found("not_found", "No such API route.") })
}

/// A JSON body whose every failure (bad JSON, wrong types, missing fields, wrong content
/// type) is our own `400 invalid_request`. An empty body reads as `{}`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::bad_request(format!("Could not read the request body: {e}")))?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
        if !json_type && text != b"{}" {
            return Err(AppError::bad_request("Send a JSON body with Content-Type: application/json."));
        }
        serde_json::from_slice(text).map(ApiJson).map_err(|e| AppError::bad_request(format!("Invalid JSON body: {e}")))
    }
}

/// A JSON answer that also sets the session cookie.
pub fn with_session_cookie(state: &AppState, signed_in: &SignedIn, body: serde_json::Value) -> Response {
    (
        AppendHeaders([(header::SET_COOKIE, session_cookie(state, &signed_in.token, signed_in.max_age))]),
        axum::Json(body),
    )
        .into_response()
}

/// A JSON answer that sets the session cookie and, after a trusted second step, the
/// trusted-device cookie.
pub fn with_second_step_cookies(state: &AppState, step: &app::ssr::services::totp::SecondStep, body: serde_json::Value) -> Response {
    let mut res = with_session_cookie(state, &step.signed_in, body);
    if let Some(device) = &step.trusted_device {
        res.headers_mut().append(header::SET_COOKIE, app::ssr::http::trusted_device_cookie(state, device));
    }
    res
}

/// This browser's trusted-device cookie.
pub fn trusted_device(headers: &axum::http::HeaderMap) -> Option<String> {
    app::ssr::http::cookie(headers, app::ssr::http::TRUSTED_DEVICE_COOKIE)
}

/// A JSON answer that also removes the session cookie.
pub fn clearing_session_cookie(state: &AppState, body: serde_json::Value) -> Response {
    (AppendHeaders([(header::SET_COOKIE, clear_session_cookie(state))]), axum::Json(body)).into_response()
}

/// The end of a single sign-on in the browser: cookies, then a redirect. A sign-in that owes
/// a second step goes to the code page with the MFA-pending token in its short-lived cookie.
pub fn sso_redirect(
    state: &AppState,
    outcome: Result<app::ssr::services::accounts::LoginOutcome, AppError>,
    success: &str,
    failure: impl Fn(&str) -> String,
) -> Response {
    use app::ssr::services::accounts::LoginOutcome;
    use axum::response::Redirect;
    match outcome {
        Ok(LoginOutcome::SignedIn(s)) => {
            (AppendHeaders([(header::SET_COOKIE, session_cookie(state, &s.token, s.max_age))]), Redirect::to(success)).into_response()
        }
        Ok(LoginOutcome::MfaRequired { mfa_token }) => {
            let ttl = app::ssr::services::totp::MFA_TTL_USERS_API;
            let cookie = app::ssr::http::http_only_cookie(state, app::ssr::http::MFA_COOKIE, &mfa_token, ttl);
            (AppendHeaders([(header::SET_COOKIE, cookie)]), Redirect::to("/login/mfa")).into_response()
        }
        Err(e) => {
            let message = app::api::encode_query(&e.to_string());
            Redirect::to(&failure(&message)).into_response()
        }
    }
}
