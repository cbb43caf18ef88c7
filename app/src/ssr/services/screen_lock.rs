//! The screen lock: a 6-digit passcode, auto-lock after inactivity (enforced here as well as in
//! the browser), manual lock and unlock, and single-session mode.
use super::identity::{Account, Caller, SignedIn};
use super::passwords;
use super::rate_limit::{self, Limit};
use super::sessions;
use crate::domain::Passcode;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db;
use crate::ssr::AppState;

pub const DEFAULT_LOCK_AFTER_MINUTES: i64 = 15;

/// Wrong passcodes per user: 5 per 15 minutes, then `429 too_many_attempts`.
fn failures(user_id: &str) -> Limit {
    Limit::new("passcode", user_id, 5, 15 * 60).refusing_with(ErrorKind::TooManyAttempts)
}

/// What `GET /security` reports, for the calling session.
pub struct SecurityStatus {
    pub enabled: bool,
    pub has_passcode: bool,
    pub lock_after_minutes: i64,
    pub single_session_mode: bool,
    pub locked: bool,
}

fn check_minutes(minutes: i64, code: ErrorKind) -> Result<i64, AppError> {
    if (5..=120).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(AppError::invalid(code, Some("lock_after_minutes"), "Auto-lock is 5 to 120 minutes."))
    }
}

fn no_passcode() -> AppError {
    AppError::of(ErrorKind::NoPasscode, "No screen-lock passcode is set.")
}

async fn user(state: &AppState, caller: &Caller) -> Result<db::users::UserRow, AppError> {
    db::users::find_by_id(&state.pool, &caller.user_id)
        .await?
        .ok_or(AppError::from(ErrorKind::Unauthenticated))
}

pub async fn status(state: &AppState, caller: &Caller) -> Result<SecurityStatus, AppError> {
    let u = user(state, caller).await?;
    let has = u.passcode_hash.is_some();
    Ok(SecurityStatus {
        enabled: has,
        has_passcode: has,
        lock_after_minutes: u.lock_after_minutes,
        single_session_mode: u.single_session_mode,
        locked: caller.locked,
    })
}

/// Checks a typed passcode against the stored one, counting failures; `429` after five.
async fn verify_passcode(state: &AppState, u: &db::users::UserRow, typed: &Passcode) -> Result<(), AppError> {
    let stored = u.passcode_hash.clone().ok_or_else(no_passcode)?;
    let limit = failures(&u.id);
    let attempt = rate_limit::reserve(state, &limit).await?;
    let (ok, attempt) = passwords::judge(state, attempt, typed.expose().to_owned(), Some(stored)).await?;
    if ok {
        rate_limit::refund(state, attempt).await
    } else {
        Err(ErrorKind::IncorrectPasscode.into())
    }
}

/// Sets or changes the passcode (changing needs the current one), and optionally the auto-lock minutes.
#[tracing::instrument(skip_all)]
pub async fn set_passcode(
    state: &AppState,
    caller: &Caller,
    new_passcode: &str,
    current_passcode: Option<&str>,
    lock_after_minutes: Option<i64>,
) -> Result<(), AppError> {
    let new = Passcode::parse("new_passcode", new_passcode)?;
    let minutes =
        lock_after_minutes.map(|m| check_minutes(m, ErrorKind::InvalidPasscodeFormat)).transpose()?;
    let u = user(state, caller).await?;
    if u.passcode_hash.is_none() {
        // The first passcode is a new factor: it needs the owner, not only their cookie.
        caller.require_recent_authentication(state.now())?;
    }
    if u.passcode_hash.is_some() {
        let current = current_passcode.filter(|c| !c.is_empty()).ok_or_else(|| {
            AppError::of(ErrorKind::IncorrectPasscode, "Enter your current passcode to change it.")
        })?;
        let current = Passcode::parse("current_passcode", current)
            .map_err(|_| AppError::from(ErrorKind::IncorrectPasscode))?;
        verify_passcode(state, &u, &current).await?;
    }
    let hash = passwords::hash_secret(new.expose().to_owned()).await?;
    db::users::set_passcode(&state.pool, &u.id, Some(&hash), minutes).await?;
    Ok(())
}

pub async fn set_lock_after(state: &AppState, caller: &Caller, minutes: i64) -> Result<i64, AppError> {
    let minutes = check_minutes(minutes, ErrorKind::InvalidRequest)?;
    db::users::set_lock_after_minutes(&state.pool, &caller.user_id, minutes).await?;
    Ok(minutes)
}

/// Removes the passcode, turning the screen lock off (and releasing any locked sessions,
/// which could otherwise never unlock).
#[tracing::instrument(skip_all)]
pub async fn remove_passcode(
    state: &AppState,
    caller: &Caller,
    current_passcode: &str,
) -> Result<(), AppError> {
    let u = user(state, caller).await?;
    if u.passcode_hash.is_none() {
        return Err(no_passcode());
    }
    let typed = Passcode::parse("current_passcode", current_passcode)
        .map_err(|_| AppError::from(ErrorKind::IncorrectPasscode))?;
    verify_passcode(state, &u, &typed).await?;
    db::users::set_passcode(&state.pool, &u.id, None, None).await?;
    db::sessions::unlock_all_for_user(&state.pool, &u.id).await?;
    Ok(())
}

/// Locks every session of the user at once. Answers the lock time.
pub async fn lock(state: &AppState, caller: &Caller) -> Result<i64, AppError> {
    let u = user(state, caller).await?;
    if u.passcode_hash.is_none() {
        return Err(no_passcode());
    }
    let now = state.now();
    let locked = db::sessions::lock_all_for_user(&state.pool, &u.id, now).await?;
    tracing::info!(user = %u.id, "screen lock engaged");
    if locked > 0 {
        crate::ssr::metrics::screen_locked("manual");
    }
    Ok(now)
}

/// Unlocks with the passcode: the session the caller used is revoked and a new one, for the
/// same device and until the same expiry, replaces it.
pub async fn unlock(state: &AppState, caller: &Caller, passcode: &str) -> Result<SignedIn, AppError> {
    use crate::ssr::metrics;
    let result = unlock_with_passcode(state, caller, passcode).await;
    metrics::screen_unlock(result.as_ref().map_or_else(metrics::outcome_of, |_| "success"));
    result
}

#[tracing::instrument(skip_all)]
async fn unlock_with_passcode(
    state: &AppState,
    caller: &Caller,
    passcode: &str,
) -> Result<SignedIn, AppError> {
    let session_id = caller.session()?;
    let typed = Passcode::parse("passcode", passcode)?;
    let u = user(state, caller).await?;
    if u.passcode_hash.is_none() {
        return Err(no_passcode());
    }
    verify_passcode(state, &u, &typed).await?;
    let old = db::sessions::find(&state.pool, session_id)
        .await?
        .ok_or(AppError::from(ErrorKind::Unauthenticated))?;
    let account = Account::from(u);
    let fresh = sessions::insert_session(
        state,
        account,
        old.device_type,
        old.device_info,
        old.ip_address,
        old.expires_at,
    )
    .await?;
    db::sessions::carry_authenticated_at(&state.pool, &old.id, &fresh.session_id).await?;
    super::vault::carry_to_session(state, caller, &fresh).await?;
    db::sessions::revoke(&state.pool, &old.id, state.now()).await?;
    Ok(fresh)
}

/// Turns single-session mode on or off; turning it on signs out the caller's other sessions.
pub async fn set_single_session(state: &AppState, caller: &Caller, on: bool) -> Result<bool, AppError> {
    db::users::set_single_session_mode(&state.pool, &caller.user_id, on).await?;
    if on {
        db::sessions::revoke_all_for_user(
            &state.pool,
            &caller.user_id,
            Some(&caller.session_id),
            state.now(),
        )
        .await?;
    }
    Ok(on)
}

/// Records real user activity (the browser's inactivity timer reports input it saw), so the
/// server's idle lock agrees with the browser's. Sent only on input, never by a poll.
pub async fn record_activity(state: &AppState, caller: &Caller) -> Result<(), AppError> {
    db::sessions::touch(&state.pool, &caller.session_id, state.now()).await?;
    Ok(())
}
