//! Server functions the pages call: one line deep into the same services the REST routes use.
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user as pages show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
}

/// One session in the sessions page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub username: String,
    pub device_type: String,
    pub device_info: String,
    pub ip_address: String,
    pub created_at: String,
    pub last_active_at: String,
    pub expires_at: String,
    pub is_current: bool,
    pub is_revoked: bool,
}

#[cfg(feature = "ssr")]
mod edge {
    use crate::error::AppError;
    use crate::ssr::http::{client_meta, presented_token, session_cookie};
    use crate::ssr::services::auth::{authenticate, Caller, Gate};
    use crate::ssr::services::sessions::{ClientMeta, SignedIn};
    use crate::ssr::AppState;
    use axum::http::{header, request::Parts, HeaderValue};
    use leptos::prelude::*;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server-function context");
            AppError::Internal
        })
    }

    fn parts() -> Result<Parts, AppError> {
        use_context::<Parts>().ok_or(AppError::Internal)
    }

    pub fn headers() -> Result<axum::http::HeaderMap, AppError> {
        Ok(parts()?.headers)
    }

    pub fn set_mfa(state: &AppState, token: &str, max_age: i64) {
        set_cookie(crate::ssr::http::http_only_cookie(state, crate::ssr::http::MFA_COOKIE, token, max_age));
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

    fn set_cookie(value: HeaderValue) {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.append_header(header::SET_COOKIE, value);
        }
    }

    pub fn start(state: &AppState, s: &SignedIn) {
        set_cookie(session_cookie(state, &s.token, s.max_age));
    }

    pub fn end(state: &AppState) {
        set_cookie(crate::ssr::http::clear_session_cookie(state));
    }
}

#[server(prefix = "/rpc")]
pub async fn whoami() -> Result<Option<MeView>, AppError> {
    use crate::ssr::services::auth::Gate;
    match edge::caller(Gate::AllowLocked).await {
        Ok((_, c)) => Ok(Some(MeView { id: c.user_id, username: c.username, display_name: c.display_name, is_admin: c.is_admin })),
        Err(AppError::Unauthenticated) => Ok(None),
        Err(e) => Err(e),
    }
}

#[server(prefix = "/rpc")]
pub async fn registration_open() -> Result<bool, AppError> {
    use crate::ssr::services::settings::{toggle, Toggle};
    toggle(&edge::state()?, Toggle::Registration).await
}

#[server(prefix = "/rpc")]
pub async fn set_up_instance(username: String, display_name: String, password: String) -> Result<(), AppError> {
    let (state, client) = edge::client()?;
    let s = crate::ssr::services::accounts::set_up_instance(&state, &username, password, &display_name, &client).await?;
    edge::start(&state, &s);
    leptos_axum::redirect("/");
    Ok(())
}

/// Password step. When a second factor is owed, the MFA-pending token goes into a short-lived
/// HttpOnly cookie and the browser moves to `/login/mfa`, with or without JavaScript.
#[server(prefix = "/rpc")]
pub async fn sign_in(username: String, password: String, remember: Option<String>) -> Result<(), AppError> {
    use crate::ssr::http::{cookie, TRUSTED_DEVICE_COOKIE};
    use crate::ssr::services::accounts::{sign_in_with_password, LoginOutcome, SignInContext};
    use crate::ssr::services::totp::MFA_TTL_USERS_API;
    let (state, client) = edge::client()?;
    let device = cookie(&edge::headers()?, TRUSTED_DEVICE_COOKIE);
    let ctx = SignInContext {
        remember: remember.is_some(),
        client: &client,
        trusted_device: device.as_deref(),
        mfa_ttl: MFA_TTL_USERS_API,
    };
    match sign_in_with_password(&state, &username, password, ctx).await? {
        LoginOutcome::SignedIn(s) => {
            edge::start(&state, &s);
            leptos_axum::redirect("/");
        }
        LoginOutcome::MfaRequired { mfa_token } => {
            edge::set_mfa(&state, &mfa_token, MFA_TTL_USERS_API);
            leptos_axum::redirect("/login/mfa");
        }
    }
    Ok(())
}

/// Second step: a TOTP or backup code, and optionally "trust this device for 30 days".
#[server(prefix = "/rpc")]
pub async fn verify_second_factor(code: String, trust: Option<String>) -> Result<(), AppError> {
    use crate::ssr::http::{cookie, MFA_COOKIE};
    use crate::ssr::services::totp::complete_sign_in;
    let (state, client) = edge::client()?;
    let token = cookie(&edge::headers()?, MFA_COOKIE).ok_or(AppError::InvalidToken)?;
    let step = complete_sign_in(&state, &token, &code, false, trust.is_some(), &client).await?;
    edge::start(&state, &step.signed_in);
    if let Some(device) = &step.trusted_device {
        edge::set_trusted(&state, device);
    }
    edge::set_mfa(&state, "", 0);
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn register_account(username: String, password: String) -> Result<(), AppError> {
    let state = edge::state()?;
    crate::ssr::services::accounts::register(&state, &username, password).await?;
    leptos_axum::redirect("/login?registered=1");
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ssr::services::auth::Gate;
    if let Ok((state, caller)) = edge::caller(Gate::AllowLocked).await {
        crate::ssr::services::sessions::end_session(&state, &caller).await?;
    }
    edge::end(&edge::state()?);
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn list_my_sessions() -> Result<Vec<SessionView>, AppError> {
    use crate::ssr::clock::rfc3339;
    use crate::ssr::services::{auth::Gate, sessions};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    let list = sessions::list_sessions(&state, &caller).await?;
    Ok(list
        .into_iter()
        .map(|s| SessionView {
            id: s.row.id,
            username: s.row.username,
            device_type: s.row.device_type,
            device_info: s.row.device_info,
            ip_address: s.row.ip_address,
            created_at: rfc3339(s.row.created_at),
            last_active_at: rfc3339(s.row.last_active_at),
            expires_at: rfc3339(s.row.expires_at),
            is_current: s.is_current,
            is_revoked: s.row.revoked_at.is_some(),
        })
        .collect())
}

/// Revokes one session; revoking the current one signs this browser out.
#[server(prefix = "/rpc")]
pub async fn revoke_one_session(session_id: String) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, sessions};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    sessions::revoke_session(&state, &caller, &session_id).await?;
    if session_id == caller.session_id {
        edge::end(&state);
        leptos_axum::redirect("/login");
    }
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    use crate::ssr::services::{auth::Gate, sessions};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    sessions::revoke_all_sessions(&state, &caller, None, true).await
}

/// What the enrollment step shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentView {
    pub secret: String,
    pub qr_code: String,
}

#[server(prefix = "/rpc")]
pub async fn two_factor_enabled() -> Result<bool, AppError> {
    use crate::ssr::services::{auth::Gate, totp};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    totp::is_enabled(&state, &caller.user_id).await
}

#[server(prefix = "/rpc")]
pub async fn start_two_factor() -> Result<EnrollmentView, AppError> {
    use crate::ssr::services::{auth::Gate, totp};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    let e = totp::begin_enrollment(&state, &caller).await?;
    Ok(EnrollmentView { secret: e.secret_base32, qr_code: e.qr_code })
}

#[server(prefix = "/rpc")]
pub async fn confirm_two_factor(totp_code: String) -> Result<Vec<String>, AppError> {
    use crate::ssr::services::{auth::Gate, totp};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    totp::enable(&state, &caller, &totp_code).await
}

#[server(prefix = "/rpc")]
pub async fn turn_off_two_factor(password: Option<String>, totp_code: Option<String>) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, totp};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    totp::disable(&state, &caller, totp::Proof { password, totp_code }).await
}

#[server(prefix = "/rpc")]
pub async fn replace_backup_codes(password: Option<String>, totp_code: Option<String>) -> Result<Vec<String>, AppError> {
    use crate::ssr::services::{auth::Gate, totp};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    totp::regenerate_backup_codes(&state, &caller, totp::Proof { password, totp_code }).await
}

/// The screen-lock state of this browser's session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityView {
    pub has_passcode: bool,
    pub lock_after_minutes: i64,
    pub single_session_mode: bool,
    pub locked: bool,
}

/// `None` when nobody is signed in.
#[server(prefix = "/rpc")]
pub async fn security_state() -> Result<Option<SecurityView>, AppError> {
    use crate::ssr::services::{auth::Gate, screen_lock};
    let (state, caller) = match edge::caller(Gate::AllowLocked).await {
        Ok(x) => x,
        Err(AppError::Unauthenticated) => return Ok(None),
        Err(e) => return Err(e),
    };
    let s = screen_lock::status(&state, &caller).await?;
    Ok(Some(SecurityView {
        has_passcode: s.has_passcode,
        lock_after_minutes: s.lock_after_minutes,
        single_session_mode: s.single_session_mode,
        locked: s.locked,
    }))
}

#[server(prefix = "/rpc")]
pub async fn set_screen_passcode(new_passcode: String, current_passcode: Option<String>, lock_after_minutes: i64) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, screen_lock};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    screen_lock::set_passcode(&state, &caller, &new_passcode, current_passcode.as_deref(), Some(lock_after_minutes)).await
}

#[server(prefix = "/rpc")]
pub async fn set_auto_lock(lock_after_minutes: i64) -> Result<i64, AppError> {
    use crate::ssr::services::{auth::Gate, screen_lock};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    screen_lock::set_lock_after(&state, &caller, lock_after_minutes).await
}

#[server(prefix = "/rpc")]
pub async fn remove_screen_passcode(current_passcode: String) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, screen_lock};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    screen_lock::remove_passcode(&state, &caller, &current_passcode).await
}

#[server(prefix = "/rpc")]
pub async fn set_single_session(enabled: Option<String>) -> Result<bool, AppError> {
    use crate::ssr::services::{auth::Gate, screen_lock};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    screen_lock::set_single_session(&state, &caller, enabled.is_some()).await
}

#[server(prefix = "/rpc")]
pub async fn lock_now() -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, screen_lock};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    screen_lock::lock(&state, &caller).await.map(|_| ())
}

/// Unlocks with the passcode; the new session token replaces the cookie.
#[server(prefix = "/rpc")]
pub async fn unlock_screen(passcode: String) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, screen_lock};
    let (state, caller) = edge::caller(Gate::AllowLocked).await?;
    let s = screen_lock::unlock(&state, &caller, &passcode).await?;
    edge::start(&state, &s);
    Ok(())
}

/// Real input seen by the inactivity timer.
#[server(prefix = "/rpc")]
pub async fn report_activity() -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, screen_lock};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    screen_lock::record_activity(&state, &caller).await
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TerminalLockView {
    pub container_id: String,
    pub locked_at: String,
}

#[server(prefix = "/rpc")]
pub async fn list_terminal_locks() -> Result<Vec<TerminalLockView>, AppError> {
    use crate::ssr::services::{auth::Gate, terminals};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    Ok(terminals::list_locked(&state, &caller)
        .await?
        .into_iter()
        .map(|r| TerminalLockView { container_id: r.container_id, locked_at: crate::ssr::clock::rfc3339(r.locked_at) })
        .collect())
}

#[server(prefix = "/rpc")]
pub async fn lock_terminal(container_id: String) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, terminals};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    let id = crate::domain::ContainerId::parse(&container_id)?;
    terminals::lock(&state, &caller, &id).await.map(|_| ())
}

#[server(prefix = "/rpc")]
pub async fn unlock_terminal(container_id: String, code: String) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, terminals};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    let id = crate::domain::ContainerId::parse(&container_id)?;
    terminals::unlock(&state, &caller, &id, &code).await
}

/// Answers when the 15-minute grant ends (RFC 3339).
#[server(prefix = "/rpc")]
pub async fn verify_terminal(container_id: String, code: String) -> Result<String, AppError> {
    use crate::ssr::services::{auth::Gate, terminals};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    let id = crate::domain::ContainerId::parse(&container_id)?;
    Ok(crate::ssr::clock::rfc3339(terminals::verify(&state, &caller, &id, &code).await?))
}
