//! The authentication core: one function turns a presented token into the caller, checking
//! everything that decides access against the database on every request.
use super::tokens::{self, TokenKind};
use crate::error::AppError;
use crate::ssr::db;
use crate::ssr::AppState;

/// Permissions every signed-in user holds; admins hold [`ALL_PERMISSIONS`].
pub const USER_PERMISSIONS: &[&str] = &["connections.create"];
pub const ALL_PERMISSIONS: &[&str] =
    &["settings.manage", "users.manage", "sessions.view_any", "api_keys.manage", "connections.create"];

/// Whether a route can be used while the account's screen lock is engaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Almost every route: a locked client is refused with `403 account_locked`.
    Unlocked,
    /// `GET /security`, unlock and the logout routes.
    AllowLocked,
}

/// Who is calling, as proven by a live session.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub is_oidc: bool,
    pub session_id: String,
    pub issued_at: i64,
    /// The session is screen-locked (only [`Gate::AllowLocked`] routes see such a caller).
    pub locked: bool,
    /// Set when the caller authenticated with an API key rather than a session; `session_id`
    /// is then empty.
    pub api_key_id: Option<String>,
}

impl Caller {
    pub fn permissions(&self) -> &'static [&'static str] {
        if self.is_admin {
            ALL_PERMISSIONS
        } else {
            USER_PERMISSIONS
        }
    }

    /// The caller's session, for what is bound to one (WebSocket tickets, terminal grants,
    /// unlock, logout). An API key has none.
    pub fn session(&self) -> Result<&str, AppError> {
        match self.api_key_id {
            None => Ok(&self.session_id),
            Some(_) => Err(AppError::forbidden("session_required", "This needs a signed-in session; an API key cannot do it.")),
        }
    }

    /// The only way to obtain an [`AdminUser`]: admin-only services cannot be called without it.
    pub fn require_admin(self) -> Result<AdminUser, AppError> {
        if self.is_admin {
            Ok(AdminUser(self))
        } else {
            Err(AppError::forbidden("forbidden", "Only an administrator can do this."))
        }
    }
}

/// A caller proven to be an admin.
#[derive(Debug, Clone)]
pub struct AdminUser(Caller);

impl AdminUser {
    pub fn caller(&self) -> &Caller {
        &self.0
    }
}

/// How often, at most, a session's last-active time is written.
pub(crate) const TOUCH_EVERY: i64 = 30;

/// Checks, in order: signature, algorithm, issuer, audience, expiry and kind of the token;
/// that its session row exists, is not revoked and not expired; that the user still exists
/// and has not invalidated tokens issued before this one.
#[tracing::instrument(skip_all)]
pub async fn authenticate(state: &AppState, token: Option<&str>, gate: Gate) -> Result<Caller, AppError> {
    let now = state.now();
    let token = token.ok_or(AppError::Unauthenticated)?;
    if token.starts_with(super::api_keys::PREFIX) {
        return super::api_keys::authenticate(state, token).await;
    }
    let claims = tokens::verify(&state.keys, token, TokenKind::Access, now).ok_or(AppError::Unauthenticated)?;
    let row = db::sessions::find_with_user(&state.pool, &claims.sid).await?.ok_or(AppError::Unauthenticated)?;
    if row.user_id != claims.sub || row.revoked_at.is_some() || row.expires_at <= now {
        return Err(AppError::Unauthenticated);
    }
    // The screen lock: locked by hand (every session of the user), or idle for longer than the
    // user's auto-lock time. The server decides this itself, so a client that never runs the
    // browser's timer cannot dodge it; an idle lock is written down so it outlives the request.
    let idle = row.has_passcode && now - row.last_active_at >= row.lock_after_minutes * 60;
    let locked = row.has_passcode && (row.locked_at.is_some() || idle);
    if idle && row.locked_at.is_none() {
        db::sessions::lock(&state.pool, &row.session_id, now).await?;
    }
    if claims.iat < row.tokens_valid_after {
        return Err(AppError::Unauthenticated);
    }
    if locked && gate == Gate::Unlocked {
        return Err(AppError::AccountLocked);
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
    })
}
