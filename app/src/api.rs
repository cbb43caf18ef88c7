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
pub async fn sign_in(username: String, password: String, remember: Option<String>, method: Option<String>) -> Result<(), AppError> {
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
    let outcome = if method.as_deref() == Some("ldap") {
        crate::ssr::services::ldap::sign_in(&state, &username, password, ctx).await?
    } else {
        sign_in_with_password(&state, &username, password, ctx).await?
    };
    match outcome {
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

// ---- Account: password change, account deletion, password reset ----

#[server(prefix = "/rpc")]
pub async fn change_my_password(old_password: String, new_password: String, confirm_password: String) -> Result<(), AppError> {
    use crate::ssr::services::{accounts, auth::Gate};
    if new_password != confirm_password {
        return Err(AppError::invalid("invalid_request", Some("confirm_password"), "The two new passwords differ."));
    }
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    accounts::change_password(&state, &caller, old_password, new_password)
        .await
        .map_err(|e| e.rename_field("newPassword", Some("new_password")).rename_field("oldPassword", Some("old_password")))?;
    edge::end(&state);
    leptos_axum::redirect("/login?password_changed=1");
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn delete_my_account(password: String) -> Result<(), AppError> {
    use crate::ssr::services::{accounts, auth::Gate};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    accounts::delete_own_account(&state, &caller, password).await?;
    edge::end(&state);
    leptos_axum::redirect("/login?account_deleted=1");
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn password_reset_open() -> Result<bool, AppError> {
    use crate::ssr::services::settings::{toggle, Toggle};
    toggle(&edge::state()?, Toggle::PasswordReset).await
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

#[server(prefix = "/rpc")]
pub async fn request_reset(username: String) -> Result<(), AppError> {
    let (state, client) = edge::client()?;
    crate::ssr::services::password_reset::initiate(&state, &username, &client.ip).await?;
    leptos_axum::redirect(&format!("/reset?step=code&username={}", encode_query(username.trim())));
    Ok(())
}

/// A right code leaves the reset token in a short-lived HttpOnly cookie for the last step.
#[server(prefix = "/rpc")]
pub async fn check_reset_code(username: String, reset_code: String) -> Result<(), AppError> {
    use crate::ssr::services::password_reset;
    let state = edge::state()?;
    let token = password_reset::verify_code(&state, &username, &reset_code).await.map_err(|e| e.rename_field("resetCode", Some("reset_code")))?;
    edge::set_named(&state, crate::ssr::http::RESET_COOKIE, &token, password_reset::TOKEN_SECS);
    leptos_axum::redirect(&format!("/reset?step=password&username={}", encode_query(username.trim())));
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn finish_reset(username: String, new_password: String, confirm_password: String) -> Result<(), AppError> {
    use crate::ssr::http::{cookie, RESET_COOKIE};
    if new_password != confirm_password {
        return Err(AppError::invalid("invalid_request", Some("confirm_password"), "The two new passwords differ."));
    }
    let state = edge::state()?;
    let token = cookie(&edge::headers()?, RESET_COOKIE).unwrap_or_default();
    crate::ssr::services::password_reset::complete(&state, &username, &token, new_password)
        .await
        .map_err(|e| e.rename_field("newPassword", Some("new_password")).rename_field("tempToken", None))?;
    edge::set_named(&state, RESET_COOKIE, "", 0);
    leptos_axum::redirect("/login?password_reset=1");
    Ok(())
}

// ---- Admin: instance settings, users, API keys ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceView {
    pub registration: bool,
    pub password_login: bool,
    pub password_reset: bool,
    pub timeout_hours: i64,
    pub log_level: String,
    pub guacamole_enabled: bool,
    pub guacamole_url: String,
}

#[server(prefix = "/rpc")]
pub async fn instance_settings() -> Result<InstanceView, AppError> {
    use crate::ssr::services::{auth::Gate, settings};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    caller.require_admin()?;
    let s = settings::sign_in_settings(&state).await?;
    let g = settings::guacamole(&state).await?;
    Ok(InstanceView {
        registration: s.registration,
        password_login: s.password_login,
        password_reset: s.password_reset,
        timeout_hours: s.timeout_hours,
        log_level: settings::log_level(&state).await?,
        guacamole_enabled: g.enabled,
        guacamole_url: g.url,
    })
}

#[server(prefix = "/rpc")]
pub async fn save_sign_in_settings(
    registration: Option<String>,
    password_login: Option<String>,
    password_reset: Option<String>,
    timeout_hours: String,
) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, settings};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    let admin = caller.require_admin()?;
    let timeout_hours = timeout_hours
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("invalid_request", Some("timeout_hours"), "Give the timeout as a whole number of hours."))?;
    let s = settings::SignInSettings {
        registration: registration.is_some(),
        password_login: password_login.is_some(),
        password_reset: password_reset.is_some(),
        timeout_hours,
    };
    settings::save_sign_in_settings(&admin, &state, s).await.map_err(|e| e.rename_field("timeoutHours", Some("timeout_hours")))
}

#[server(prefix = "/rpc")]
pub async fn save_log_level(level: String) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, settings};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    settings::set_log_level(&caller.require_admin()?, &state, &level).await
}

#[server(prefix = "/rpc")]
pub async fn save_guacamole(enabled: Option<String>, url: String) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, settings};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    settings::set_guacamole(&caller.require_admin()?, &state, Some(enabled.is_some()), Some(&url)).await.map(|_| ())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub is_admin: bool,
    pub is_oidc: bool,
    pub totp_enabled: bool,
    pub created_at: String,
    pub is_me: bool,
}

#[server(prefix = "/rpc")]
pub async fn list_all_users() -> Result<Vec<UserView>, AppError> {
    use crate::ssr::services::{admin, auth::Gate};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    let caller = caller.require_admin()?.caller().clone();
    Ok(admin::list_users(&caller, &state)
        .await?
        .into_iter()
        .map(|u| UserView {
            is_me: u.account.id == caller.user_id,
            id: u.account.id,
            username: u.account.username,
            is_admin: u.account.is_admin,
            is_oidc: u.account.is_oidc,
            totp_enabled: u.account.totp_enabled,
            created_at: crate::ssr::clock::rfc3339(u.created_at),
        })
        .collect())
}

/// `role` is `admin` or `user`.
#[server(prefix = "/rpc")]
pub async fn set_user_role(user_id: String, role: String) -> Result<(), AppError> {
    use crate::ssr::services::{admin, auth::Gate};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    let admin_user = caller.require_admin()?;
    let target = admin::find_target(&state, Some(&user_id), None).await?;
    match role.as_str() {
        "admin" => admin::make_admin(&admin_user, &state, &target).await,
        "user" => admin::remove_admin(&admin_user, &state, &target).await,
        _ => Err(AppError::bad_request("The role is admin or user.")),
    }
}

#[server(prefix = "/rpc")]
pub async fn remove_user(username: String) -> Result<(), AppError> {
    use crate::ssr::services::{admin, auth::Gate};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    admin::delete_user(&caller.require_admin()?, &state, &username).await
}

/// Signs a user out everywhere; answers how many sessions ended.
#[server(prefix = "/rpc")]
pub async fn sign_out_user(user_id: String) -> Result<u64, AppError> {
    use crate::ssr::services::{auth::Gate, sessions};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    sessions::revoke_all_sessions(&state, &caller, Some(&user_id), false).await
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub username: String,
    pub token_prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[cfg(feature = "ssr")]
fn key_view(k: crate::ssr::db::api_keys::ApiKeyRow) -> ApiKeyView {
    use crate::ssr::clock::rfc3339;
    ApiKeyView {
        id: k.id,
        name: k.name,
        username: k.username,
        token_prefix: k.token_prefix,
        created_at: rfc3339(k.created_at),
        expires_at: k.expires_at.map(rfc3339),
        last_used_at: k.last_used_at.map(rfc3339),
    }
}

#[server(prefix = "/rpc")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, AppError> {
    use crate::ssr::services::{api_keys, auth::Gate};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    Ok(api_keys::list(&caller.require_admin()?, &state).await?.into_iter().map(key_view).collect())
}

/// A new key: the full token is in this answer only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewKeyView {
    pub key: ApiKeyView,
    pub token: String,
}

/// `expires_on` is a date (`YYYY-MM-DD`) or empty for a key that does not expire.
#[server(prefix = "/rpc")]
pub async fn create_api_key(name: String, user_id: String, expires_on: String) -> Result<NewKeyView, AppError> {
    use crate::ssr::services::{api_keys, auth::Gate};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    let admin = caller.require_admin()?;
    let expires = match expires_on.trim() {
        "" => None,
        d => Some(api_keys::parse_expiry(d, state.now()).map_err(|e| e.rename_field("expiresAt", Some("expires_on")))?),
    };
    let created = api_keys::create(&admin, &state, &name, &user_id, expires).await?;
    Ok(NewKeyView { key: key_view(created.key), token: created.token })
}

#[server(prefix = "/rpc")]
pub async fn delete_api_key(key_id: String) -> Result<(), AppError> {
    use crate::ssr::services::{api_keys, auth::Gate};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    api_keys::delete(&caller.require_admin()?, &state, &key_id).await
}

// ---- Vault: per-user encrypted data ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaultItemView {
    pub name: String,
    pub value: String,
    pub updated_at: String,
}

/// `None` while the vault is locked for this session.
#[server(prefix = "/rpc")]
pub async fn vault_items() -> Result<Option<Vec<VaultItemView>>, AppError> {
    use crate::ssr::services::{auth::Gate, vault};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    match vault::list(&state, &caller).await {
        Ok(items) => Ok(Some(
            items
                .into_iter()
                .map(|i| VaultItemView { name: i.name, value: i.value, updated_at: crate::ssr::clock::rfc3339(i.updated_at) })
                .collect(),
        )),
        Err(AppError::Locked { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

#[server(prefix = "/rpc")]
pub async fn unlock_vault(password: String) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, vault};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    vault::unlock_with_password(&state, &caller, password).await
}

#[server(prefix = "/rpc")]
pub async fn save_vault_item(name: String, value: String) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, vault};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    vault::put(&state, &caller, &name, &value).await
}

#[server(prefix = "/rpc")]
pub async fn remove_vault_item(name: String) -> Result<(), AppError> {
    use crate::ssr::services::{auth::Gate, vault};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    vault::delete(&state, &caller, &name).await
}

// ---- Directory (LDAP) ----

#[server(prefix = "/rpc")]
pub async fn ldap_sign_in_open() -> Result<bool, AppError> {
    crate::ssr::services::ldap::is_enabled(&edge::state()?).await
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LdapView {
    pub enabled: bool,
    pub url: String,
    pub bind_dn: String,
    pub has_bind_password: bool,
    pub search_base: String,
    pub user_attribute: String,
    pub display_name_attribute: String,
}

#[server(prefix = "/rpc")]
pub async fn ldap_settings() -> Result<LdapView, AppError> {
    use crate::ssr::services::{auth::Gate, ldap};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    caller.require_admin()?;
    Ok(match ldap::config(&state).await? {
        None => LdapView { user_attribute: "uid".into(), display_name_attribute: "cn".into(), ..LdapView::default() },
        Some(c) => LdapView {
            enabled: c.enabled,
            url: c.url,
            bind_dn: c.bind_dn,
            has_bind_password: !c.bind_password.is_empty(),
            search_base: c.search_base,
            user_attribute: c.user_attribute,
            display_name_attribute: c.display_name_attribute,
        },
    })
}

/// Saves the directory settings, or with `test` set only tries them. Answers what to tell the admin.
#[server(prefix = "/rpc")]
pub async fn save_ldap_settings(
    enabled: Option<String>,
    url: String,
    bind_dn: String,
    bind_password: String,
    search_base: String,
    user_attribute: String,
    display_name_attribute: String,
    test: Option<String>,
) -> Result<String, AppError> {
    use crate::ssr::services::{auth::Gate, ldap};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    let admin = caller.require_admin()?;
    let rename = |e: AppError| {
        e.rename_field("bindDn", Some("bind_dn"))
            .rename_field("bindPassword", Some("bind_password"))
            .rename_field("searchBase", Some("search_base"))
            .rename_field("userAttribute", Some("user_attribute"))
            .rename_field("displayNameAttribute", Some("display_name_attribute"))
    };
    if test.is_some() {
        let password = Some(bind_password.as_str()).filter(|p| !p.is_empty());
        return match ldap::test_connection(&admin, &state, &url, &bind_dn, password, &search_base).await.map_err(rename)? {
            Ok(()) => Ok("The directory answered: the service account can bind and read the search base.".into()),
            Err(why) => Err(AppError::invalid("ldap_test_failed", None, why)),
        };
    }
    let input = ldap::ConfigInput {
        enabled: enabled.is_some(),
        url,
        bind_dn,
        bind_password: Some(bind_password).filter(|p| !p.is_empty()),
        search_base,
        user_attribute: Some(user_attribute),
        display_name_attribute: Some(display_name_attribute),
    };
    ldap::save_config(&admin, &state, input).await.map_err(rename)?;
    Ok("Directory settings saved.".into())
}

/// Whether the sign-in page offers single sign-on.
#[server(prefix = "/rpc")]
pub async fn sso_open() -> Result<bool, AppError> {
    Ok(crate::ssr::services::oidc::config(&edge::state()?).await?.is_some())
}

// ---- Single sign-on (OIDC) settings ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OidcView {
    pub configured: bool,
    pub client_id: String,
    pub has_client_secret: bool,
    pub issuer_url: String,
    pub authorization_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub identifier_path: String,
    pub name_path: String,
    pub scopes: String,
    pub allowed_users: String,
    pub redirect_uri: String,
}

#[server(prefix = "/rpc")]
pub async fn oidc_settings() -> Result<OidcView, AppError> {
    use crate::ssr::services::{auth::Gate, oidc};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    caller.require_admin()?;
    let redirect_uri = oidc::redirect_uri(&state, oidc::Flow::Users);
    Ok(match oidc::config(&state).await? {
        None => OidcView {
            identifier_path: "sub".into(),
            name_path: "name".into(),
            scopes: "openid email profile".into(),
            redirect_uri,
            ..OidcView::default()
        },
        Some(c) => OidcView {
            configured: true,
            client_id: c.client_id,
            has_client_secret: !c.client_secret.is_empty(),
            issuer_url: c.issuer_url,
            authorization_url: c.authorization_url,
            token_url: c.token_url,
            userinfo_url: c.userinfo_url.unwrap_or_default(),
            identifier_path: c.identifier_path,
            name_path: c.name_path,
            scopes: c.scopes,
            allowed_users: c.allowed_users,
            redirect_uri,
        },
    })
}

/// Saves the provider settings; with `remove` set, turns single sign-on off.
#[server(prefix = "/rpc")]
#[allow(clippy::too_many_arguments)]
pub async fn save_oidc_settings(
    client_id: String,
    client_secret: String,
    issuer_url: String,
    authorization_url: String,
    token_url: String,
    userinfo_url: String,
    identifier_path: String,
    name_path: String,
    scopes: String,
    allowed_users: String,
    remove: Option<String>,
) -> Result<String, AppError> {
    use crate::ssr::services::{auth::Gate, oidc};
    let (state, caller) = edge::caller(Gate::Unlocked).await?;
    let admin = caller.require_admin()?;
    if remove.is_some() {
        oidc::delete_config(&admin, &state).await?;
        return Ok("Single sign-on is off.".into());
    }
    let input = oidc::ConfigInput {
        client_id: Some(client_id),
        client_secret: Some(client_secret),
        issuer_url: Some(issuer_url),
        authorization_url: Some(authorization_url),
        token_url: Some(token_url),
        userinfo_url: Some(userinfo_url),
        identifier_path: Some(identifier_path),
        name_path: Some(name_path),
        scopes: Some(scopes),
        allowed_users: Some(allowed_users),
    };
    oidc::save_config(&admin, &state, input).await?;
    Ok("Single sign-on settings saved.".into())
}
