//! The screen lock: a 6-digit passcode, auto-lock after inactivity (enforced here as well as in
//! the browser), manual lock and unlock, and single-session mode.
use super::audit::{self, Event};
use super::identity::{Account, Caller, SignedIn};
use super::rate_limit::{self, Limit};
use super::sessions;
use super::{passkeys, passwords};
use crate::audit::EventType;
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
pub async fn set_passcode(
    state: &AppState,
    caller: &Caller,
    new_passcode: &str,
    current_passcode: Option<&str>,
    lock_after_minutes: Option<i64>,
) -> Result<(), AppError> {
    let result =
        set_or_change_passcode(state, caller, new_passcode, current_passcode, lock_after_minutes).await;
    let kind = if current_passcode.is_some_and(|c| !c.is_empty()) {
        EventType::PasscodeChanged
    } else {
        EventType::PasscodeSet
    };
    audit::on_failure(state, result, |e| Event::new(kind).by(caller).failed(e)).await
}

#[tracing::instrument(skip_all)]
async fn set_or_change_passcode(
    state: &AppState,
    caller: &Caller,
    new_passcode: &str,
    current_passcode: Option<&str>,
    lock_after_minutes: Option<i64>,
) -> Result<(), AppError> {
    let new = Passcode::parse_new("new_passcode", new_passcode)?;
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
    let kind = if u.passcode_hash.is_some() { EventType::PasscodeChanged } else { EventType::PasscodeSet };
    let mut change = audit::Change::begin(state).await?;
    db::users::set_passcode(change.tx(), &u.id, Some(&hash), minutes).await?;
    let event = Event::new(kind).by(caller);
    change
        .record(match minutes {
            Some(m) => event.detail("lock_after_minutes", m),
            None => event,
        })
        .await?;
    change.commit().await
}

pub async fn set_lock_after(state: &AppState, caller: &Caller, minutes: i64) -> Result<i64, AppError> {
    let minutes = check_minutes(minutes, ErrorKind::InvalidRequest)?;
    let mut change = audit::Change::begin(state).await?;
    db::users::set_lock_after_minutes(change.tx(), &caller.user_id, minutes).await?;
    change
        .record(Event::new(EventType::AutoLockChanged).by(caller).detail("lock_after_minutes", minutes))
        .await?;
    change.commit().await?;
    Ok(minutes)
}

/// Removes the passcode, turning the screen lock off (and releasing any locked sessions,
/// which could otherwise never unlock).
pub async fn remove_passcode(
    state: &AppState,
    caller: &Caller,
    current_passcode: &str,
) -> Result<(), AppError> {
    let result = remove_with_passcode(state, caller, current_passcode).await;
    audit::on_failure(state, result, |e| Event::new(EventType::PasscodeRemoved).by(caller).failed(e)).await
}

#[tracing::instrument(skip_all)]
async fn remove_with_passcode(
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
    let mut change = audit::Change::begin(state).await?;
    db::users::set_passcode(change.tx(), &u.id, None, None).await?;
    db::sessions::unlock_all_for_user(change.tx(), &u.id).await?;
    change.record(Event::new(EventType::PasscodeRemoved).by(caller)).await?;
    change.commit().await
}

/// Locks every session of the user at once. Answers the lock time.
pub async fn lock(state: &AppState, caller: &Caller) -> Result<i64, AppError> {
    let u = user(state, caller).await?;
    if u.passcode_hash.is_none() {
        return Err(no_passcode());
    }
    let now = state.now();
    let mut change = audit::Change::begin(state).await?;
    let locked = db::sessions::lock_all_for_user(change.tx(), &u.id, now).await?;
    change
        .record(
            Event::new(EventType::ScreenLocked).by(caller).detail("how", "manual").detail("sessions", locked),
        )
        .await?;
    change.commit().await?;
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
    audit::on_failure(state, result, |e| {
        Event::new(EventType::ScreenUnlocked).by(caller).target("session", &caller.session_id).failed(e)
    })
    .await
}

#[tracing::instrument(skip_all)]
async fn unlock_with_passcode(
    state: &AppState,
    caller: &Caller,
    passcode: &str,
) -> Result<SignedIn, AppError> {
    caller.session()?;
    let typed = Passcode::parse("passcode", passcode)?;
    let u = user(state, caller).await?;
    if u.passcode_hash.is_none() {
        return Err(no_passcode());
    }
    verify_passcode(state, &u, &typed).await?;
    replace_session(state, caller, u, "passcode").await
}

/// Starts a passkey ceremony to unlock the caller's (locked) session.
pub async fn passkey_options(state: &AppState, caller: &Caller) -> Result<passkeys::Ceremony, AppError> {
    let session_id = caller.session()?;
    passkeys::begin_for(state, &caller.user_id, passkeys::Use::Unlock(session_id)).await
}

/// Unlocks with a passkey instead of the passcode: the same new session as [`unlock`].
pub async fn unlock_with_passkey(
    state: &AppState,
    caller: &Caller,
    answer: passkeys::Answer,
) -> Result<SignedIn, AppError> {
    use crate::ssr::metrics;
    let result = async {
        let session_id = caller.session()?;
        passkeys::verify_for(state, &caller.user_id, passkeys::Use::Unlock(session_id), answer).await?;
        let u = user(state, caller).await?;
        replace_session(state, caller, u, "passkey").await
    }
    .await;
    metrics::screen_unlock(result.as_ref().map_or_else(metrics::outcome_of, |_| "success"));
    audit::on_failure(state, result, |e| {
        Event::new(EventType::ScreenUnlocked)
            .by(caller)
            .target("session", &caller.session_id)
            .detail("method", "passkey")
            .failed(e)
    })
    .await
}

/// The unlocked session: the caller's is revoked and a new one, for the same device and until
/// the same expiry, replaces it.
async fn replace_session(
    state: &AppState,
    caller: &Caller,
    u: db::users::UserRow,
    method: &'static str,
) -> Result<SignedIn, AppError> {
    let session_id = caller.session()?;
    let old = db::sessions::find(&state.pool, session_id)
        .await?
        .ok_or(AppError::from(ErrorKind::Unauthenticated))?;
    let account = Account::from(u);
    let mut change = audit::Change::begin(state).await?;
    let fresh = sessions::insert_session(
        state,
        change.tx(),
        account,
        old.device_type,
        old.device_info,
        old.ip_address,
        old.expires_at,
    )
    .await?;
    db::sessions::carry_authenticated_at(change.tx(), &old.id, &fresh.session_id).await?;
    // The vault key the caller held (read at authentication) is sealed again for the new token.
    if let Some(sealed) = super::vault::resealed_for(caller, &fresh)? {
        db::sessions::set_vault_key(change.tx(), &fresh.session_id, Some(&sealed)).await?;
    }
    db::sessions::revoke(change.tx(), &old.id, state.now()).await?;
    change
        .record(
            Event::new(EventType::ScreenUnlocked)
                .by(caller)
                .target("session", &fresh.session_id)
                .detail("method", method)
                .detail("replaced_session", old.id.as_str()),
        )
        .await?;
    change.commit().await?;
    Ok(fresh)
}

/// Turns single-session mode on or off; turning it on signs out the caller's other sessions.
pub async fn set_single_session(state: &AppState, caller: &Caller, on: bool) -> Result<bool, AppError> {
    let mut change = audit::Change::begin(state).await?;
    db::users::set_single_session_mode(change.tx(), &caller.user_id, on).await?;
    let mut event = Event::new(EventType::SingleSessionChanged).by(caller).detail("on", on);
    if on {
        let n = db::sessions::revoke_all_for_user(
            change.tx(),
            &caller.user_id,
            Some(&caller.session_id),
            state.now(),
        )
        .await?;
        event = event.detail("other_sessions_revoked", n);
    }
    change.record(event).await?;
    change.commit().await?;
    Ok(on)
}

/// Records real user activity (the browser's inactivity timer reports input it saw), so the
/// server's idle lock agrees with the browser's. Sent only on input, never by a poll.
pub async fn record_activity(state: &AppState, caller: &Caller) -> Result<(), AppError> {
    db::sessions::touch(&state.pool, &caller.session_id, state.now()).await?;
    Ok(())
}
