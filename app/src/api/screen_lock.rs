//! Server functions of the screen lock and single-session mode.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The screen-lock state of this browser's session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityView {
    pub has_passcode: bool,
    pub lock_after_minutes: i64,
    pub single_session_mode: bool,
    pub locked: bool,
    /// The lock screen may offer "Unlock with a passkey".
    pub has_passkey: bool,
}

/// `None` when nobody is signed in.
#[server(prefix = "/rpc")]
pub async fn security_state() -> Result<Option<SecurityView>, AppError> {
    use crate::ssr::services::{identity::Gate, screen_lock};
    let (state, caller) = match super::edge::caller(Gate::AllowLocked).await {
        Ok(x) => x,
        Err(e) if e.is(crate::error::ErrorKind::Unauthenticated) => return Ok(None),
        Err(e) => return Err(e),
    };
    let s = screen_lock::status(&state, &caller).await?;
    let has_passkey = crate::ssr::services::passkeys::offered_to(&state, &caller.user_id).await?;
    Ok(Some(SecurityView {
        has_passkey,
        has_passcode: s.has_passcode,
        lock_after_minutes: s.lock_after_minutes,
        single_session_mode: s.single_session_mode,
        locked: s.locked,
    }))
}

#[server(prefix = "/rpc")]
pub async fn set_screen_passcode(
    new_passcode: String,
    current_passcode: Option<String>,
    lock_after_minutes: i64,
) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, screen_lock};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    screen_lock::set_passcode(
        &state,
        &caller,
        &new_passcode,
        current_passcode.as_deref(),
        Some(lock_after_minutes),
    )
    .await
    .map_err(|e| e.tie("current_passcode", &[crate::error::ErrorKind::IncorrectPasscode]))
}

#[server(prefix = "/rpc")]
pub async fn set_auto_lock(lock_after_minutes: i64) -> Result<i64, AppError> {
    use crate::ssr::services::{identity::Gate, screen_lock};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    screen_lock::set_lock_after(&state, &caller, lock_after_minutes).await
}

#[server(prefix = "/rpc")]
pub async fn remove_screen_passcode(current_passcode: String) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, screen_lock};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    screen_lock::remove_passcode(&state, &caller, &current_passcode)
        .await
        .map_err(|e| e.tie("current_passcode", &[crate::error::ErrorKind::IncorrectPasscode]))
}

#[server(prefix = "/rpc")]
pub async fn set_single_session(enabled: Option<String>) -> Result<bool, AppError> {
    use crate::ssr::services::{identity::Gate, screen_lock};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    screen_lock::set_single_session(&state, &caller, enabled.is_some()).await
}

#[server(prefix = "/rpc")]
pub async fn lock_now() -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, screen_lock};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    screen_lock::lock(&state, &caller).await.map(|_| ())
}

/// Unlocks with the passcode; the new session token replaces the cookie.
#[server(prefix = "/rpc")]
pub async fn unlock_screen(passcode: String) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, screen_lock};
    let (state, caller) = super::edge::caller(Gate::AllowLocked).await?;
    let s = screen_lock::unlock(&state, &caller, &passcode).await?;
    super::edge::start(&state, &s);
    Ok(())
}

/// Real input seen by the inactivity timer.
#[server(prefix = "/rpc")]
pub async fn report_activity() -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, screen_lock};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    screen_lock::record_activity(&state, &caller).await
}
