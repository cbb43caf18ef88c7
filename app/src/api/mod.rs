//! Server functions the pages call, one file per concept, each one line deep into the same
//! services the REST routes use. `edge` is what they share: state, caller, cookies.
mod accounts;
mod admin;
mod api_keys;
mod audit;
mod forward_auth;
mod ldap;
mod oidc;
mod passkeys;
mod password_reset;
mod screen_lock;
mod sessions;
mod settings;
mod sign_in;
mod terminals;
mod totp;
mod vault;

pub use accounts::*;
pub use admin::*;
pub use api_keys::*;
pub use audit::*;
pub use forward_auth::*;
pub use ldap::*;
pub use oidc::*;
pub use passkeys::*;
pub use password_reset::*;
pub use screen_lock::*;
pub use sessions::*;
pub use settings::*;
pub use sign_in::*;
pub use terminals::*;
pub use totp::*;
pub use vault::*;

#[cfg(feature = "ssr")]
mod edge {
    use crate::error::AppError;
    use crate::ssr::http::{client_meta, presented_token, session_cookie};
    use crate::ssr::services::auth::authenticate;
    use crate::ssr::services::identity::{AdminUser, Caller, ClientMeta, Gate, SignedIn};
    use crate::ssr::AppState;
    use axum::http::{header, request::Parts, HeaderValue};
    use leptos::prelude::*;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>()
            .ok_or_else(|| AppError::bug("AppState missing from the server-function context"))
    }

    fn parts() -> Result<Parts, AppError> {
        use_context::<Parts>()
            .ok_or_else(|| AppError::bug("request parts missing from the server-function context"))
    }

    pub fn headers() -> Result<axum::http::HeaderMap, AppError> {
        Ok(parts()?.headers)
    }

    pub fn set_mfa(state: &AppState, token: &str, max_age: i64) {
        set_cookie(crate::ssr::http::http_only_cookie(state, crate::ssr::http::MFA_COOKIE, token, max_age));
    }

    /// Sets one of our HttpOnly cookies (an empty value with `max_age` 0 removes it).
    pub fn set_named(state: &AppState, name: &str, value: &str, max_age: i64) {
        set_cookie(crate::ssr::http::http_only_cookie(state, name, value, max_age));
    }

    pub fn set_trusted(state: &AppState, value: &str) {
        set_cookie(crate::ssr::http::trusted_device_cookie(state, value));
    }

    pub fn client() -> Result<(AppState, ClientMeta), AppError> {
        let state = state()?;
        let meta = client_meta(&state, &parts()?);
        Ok((state, meta))
    }

    pub async fn caller(gate: Gate) -> Result<(AppState, Caller), AppError> {
        let state = state()?;
        let token = presented_token(&parts()?.headers);
        let caller = authenticate(&state, token.as_deref(), gate).await?;
        Ok((state, caller))
    }

    /// The caller, who must be an admin: the one way server functions reach admin services.
    pub async fn admin() -> Result<(AppState, AdminUser), AppError> {
        let (state, caller) = caller(Gate::Unlocked).await?;
        Ok((state, caller.require_admin()?))
    }

    fn set_cookie(value: HeaderValue) {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.append_header(header::SET_COOKIE, value);
        }
    }

    /// A first factor's end in the browser: the session cookie and home, or the MFA-pending
    /// token in its short-lived cookie and the code page (with or without JavaScript).
    /// `back` is where forward-auth sent the browser from (`rd`), used only when it is a URL on
    /// this instance's host; when a second step is owed it goes along to the code page.
    pub fn finish_sign_in(
        state: &AppState,
        outcome: crate::ssr::services::sign_in::LoginOutcome,
        back: Option<&str>,
    ) {
        use crate::ssr::services::sign_in::{Family, LoginOutcome};
        match outcome {
            LoginOutcome::SignedIn(s) => {
                start(state, &s);
                let back = back.and_then(|b| crate::ssr::services::forward_auth::safe_return(state, b));
                leptos_axum::redirect(back.as_deref().unwrap_or("/"));
            }
            LoginOutcome::MfaRequired { mfa_token } => {
                set_mfa(state, &mfa_token, Family::Users.mfa_ttl());
                // The way back goes along to the second step.
                let next = crate::ssr::services::forward_auth::with_return(state, "/login/mfa", back);
                leptos_axum::redirect(&next);
            }
        }
    }

    /// Where a browser goes once a step is done: `rd` when it is a URL a browser may be sent
    /// back to, else home.
    pub fn back_to(state: &AppState, rd: Option<&str>) -> String {
        rd.and_then(|r| crate::ssr::services::forward_auth::safe_return(state, r))
            .unwrap_or_else(|| "/".into())
    }

    /// A second sign-in step done in the browser (a code or a passkey): the session cookie,
    /// the trusted-device cookie when asked for, the step's own cookie cleared; answers where
    /// the browser goes next ([`back_to`]).
    pub fn finish_second_step(
        state: &AppState,
        step: &crate::ssr::services::sign_in::SecondStep,
        rd: Option<&str>,
    ) -> String {
        start(state, &step.signed_in);
        if let Some(device) = &step.trusted_device {
            set_trusted(state, device);
        }
        set_mfa(state, "", 0);
        back_to(state, rd)
    }

    /// The page's "new password" and "again" fields must agree (a form-only rule: the REST routes
    /// take one field).
    pub fn new_passwords_match(new_password: &str, again: &str) -> Result<(), crate::error::AppError> {
        if new_password == again {
            return Ok(());
        }
        Err(crate::error::AppError::invalid(
            crate::error::ErrorKind::InvalidRequest,
            Some("confirm_password"),
            "The two new passwords differ.",
        ))
    }

    pub fn start(state: &AppState, s: &SignedIn) {
        set_cookie(session_cookie(state, &s.token, s.max_age));
    }

    pub fn end(state: &AppState) {
        set_cookie(crate::ssr::http::clear_session_cookie(state));
    }
}

/// Percent-encodes everything but unreserved characters (query values, data: URLs).
pub fn encode_query(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
