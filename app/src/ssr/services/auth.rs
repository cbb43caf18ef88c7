//! The authentication core: one function turns a presented token into the caller, checking
//! everything that decides access against the database on every request.
//!
//! A presented value is either a session token (cookie `jwt` or Bearer) or an API key
//! (`pcs_…`, Bearer). Both end here, so a [`Caller`] is built in one place only.
use super::identity::{Caller, Gate};
use super::tokens::{self, TokenKind};
use crate::error::{AppError, ErrorKind};
use crate::ssr::db;
use crate::ssr::keys::digest;
use crate::ssr::AppState;

/// Every API key starts with this; the rest is 64 hex digits (32 random bytes).
pub const API_KEY_PREFIX: &str = "pcs_";

/// How often, at most, a session's last-active time is written.
pub(crate) const TOUCH_EVERY: i64 = 30;

/// Checks, in order: signature, algorithm, issuer, audience, expiry and kind of the token;
/// that its session row exists, is not revoked and not expired; that the user still exists
/// and has not invalidated tokens issued before this one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn authenticate(state: &AppState, token: Option<&str>, gate: Gate) -> Result<Caller, AppError> {
    let now = state.now();
    let token = token.ok_or(AppError::from(ErrorKind::Unauthenticated))?;
    if token.starts_with(API_KEY_PREFIX) {
        return authenticate_key(state, token).await;
    }
    let claims = tokens::verify(&state.keys, token, TokenKind::Access, now)
        .ok_or(AppError::from(ErrorKind::Unauthenticated))?;
    let row = db::sessions::find_with_user(&state.pool, &claims.sid)
        .await?
        .ok_or(AppError::from(ErrorKind::Unauthenticated))?;
    if row.user_id != claims.sub {
        return Err(AppError::from(ErrorKind::Unauthenticated));
    }
    let locked = screen_state(state, &row, claims.iat, now).await?.ok_or(ErrorKind::Unauthenticated)?;
    if locked && gate != Gate::AllowLocked {
        return Err(AppError::from(ErrorKind::AccountLocked));
    }
    // Only requests that do something count as activity; the lock-screen routes do not.
    if gate == Gate::Unlocked && now - row.last_active_at >= TOUCH_EVERY {
        db::sessions::touch(&state.pool, &row.session_id, now).await?;
    }
    Ok(Caller {
        user_id: row.user_id,
        username: row.username,
        display_name: row.display_name,
        is_admin: row.is_admin,
        is_oidc: row.is_oidc,
        session_id: row.session_id,
        issued_at: claims.iat,
        locked,
        api_key_id: None,
        authenticated_at: row.authenticated_at,
        vault_secret: claims.vk,
        vault_key_sealed: row.vault_key_sealed,
        second_factor_at: row.second_factor_at,
    })
}

/// A session as every request sees it, and a gateway redeeming one of its tickets: `None` when
/// it lets nobody in any more (revoked, expired, or `issued_at` before the user's
/// tokens-valid-after), else whether its screen is locked. The screen lock is locked by hand
/// (every session of the user) or idle for longer than the user's auto-lock time; the server
/// decides this itself, so a client that never runs the browser's timer cannot dodge it, and
/// an idle lock is written down so it outlives the request.
pub(crate) async fn screen_state(
    state: &AppState,
    row: &db::sessions::SessionAuthRow,
    issued_at: i64,
    now: i64,
) -> Result<Option<bool>, AppError> {
    if row.revoked_at.is_some() || row.expires_at <= now || issued_at < row.tokens_valid_after {
        return Ok(None);
    }
    let idle = row.has_passcode && now - row.last_active_at >= row.lock_after_minutes * 60;
    if idle && row.locked_at.is_none() {
        // Counted and recorded by the request that locked it, not by every one that saw it
        // idle at once.
        let mut change = super::audit::Change::begin(state).await?;
        if db::sessions::lock(change.tx(), &row.session_id, now).await? {
            change
                .record(
                    super::audit::Event::new(crate::audit::EventType::ScreenLocked)
                        .about(&row.user_id, &row.username)
                        .target("session", &row.session_id)
                        .detail("how", "idle"),
                )
                .await?;
            change.commit().await?;
            crate::ssr::metrics::screen_locked("idle");
        }
    }
    Ok(Some(row.has_passcode && (row.locked_at.is_some() || idle)))
}

/// The caller an API key stands for. Unknown, deleted and expired keys are `401` at once.
async fn authenticate_key(state: &AppState, token: &str) -> Result<Caller, AppError> {
    let now = state.now();
    let row = db::api_keys::find_for_auth(&state.pool, &digest(token))
        .await?
        .ok_or(AppError::from(ErrorKind::Unauthenticated))?;
    if row.expires_at.is_some_and(|t| t <= now) {
        return Err(ErrorKind::Unauthenticated.into());
    }
    if row.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY) {
        db::api_keys::touch(&state.pool, &row.id, now).await?;
        // Recorded on the first use in an hour, not on every request.
        if !db::audit::recorded_since(&state.pool, "api_key_used", &row.id, now - 3600).await? {
            let event = super::audit::Event::new(crate::audit::EventType::ApiKeyUsed)
                .by_key_of(&row.user_id, &row.username)
                .target("api_key", &row.id);
            super::audit::record(state, event).await;
        }
    }
    Ok(Caller {
        user_id: row.user_id,
        username: row.username,
        display_name: row.display_name,
        is_admin: row.is_admin,
        is_oidc: row.is_oidc,
        session_id: String::new(),
        issued_at: now,
        locked: false,
        api_key_id: Some(row.id),
        authenticated_at: 0,
        vault_secret: None,
        vault_key_sealed: None,
        second_factor_at: None,
    })
}
