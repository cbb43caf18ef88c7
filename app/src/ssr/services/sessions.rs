//! Sessions: starting one at sign-in, listing and revoking them.
use super::identity::{Account, AdminUser, Caller, ClientMeta, SignedIn};
use super::settings;
use super::tokens::{self, TokenKind};
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{self, sessions::SessionRow};
use crate::ssr::keys::{new_time_ordered_id, TokenSecret};
use crate::ssr::paging::{Page, PageRequest};
use crate::ssr::AppState;

/// "Remember me" sessions last 30 days; others the instance session timeout.
pub const REMEMBER_SECS: i64 = 30 * 24 * 3600;

/// A session as the sessions list shows it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub row: db::sessions::SessionListRow,
    pub is_current: bool,
}

/// Starts a session after a sign-in (any method). In single-session mode every other session
/// of the user is revoked at once.
#[tracing::instrument(skip_all, fields(user = %account.id))]
pub async fn start_session(
    state: &AppState,
    account: Account,
    client: &ClientMeta,
    remember: bool,
) -> Result<SignedIn, AppError> {
    let now = state.now();
    let lifetime =
        if remember { REMEMBER_SECS } else { settings::session_timeout_hours(state).await? * 3600 };
    let (device_type, device_info) = client.device();
    let signed_in =
        insert_session(state, account, device_type, device_info, client.ip.clone(), now + lifetime).await?;
    let single = db::users::find_by_id(&state.pool, &signed_in.account.id)
        .await?
        .is_some_and(|u| u.single_session_mode);
    if single {
        let n = db::sessions::revoke_all_for_user(
            &state.pool,
            &signed_in.account.id,
            Some(&signed_in.session_id),
            now,
        )
        .await?;
        tracing::info!(revoked = n, "single-session mode: other sessions revoked at sign-in");
    }
    Ok(signed_in)
}

/// Writes a session row and mints its token.
pub(crate) async fn insert_session(
    state: &AppState,
    account: Account,
    device_type: String,
    device_info: String,
    ip_address: String,
    expires_at: i64,
) -> Result<SignedIn, AppError> {
    let now = state.now();
    let row = SessionRow {
        id: new_time_ordered_id(),
        user_id: account.id.clone(),
        device_type,
        device_info,
        ip_address,
        created_at: now,
        expires_at,
        last_active_at: now,
        revoked_at: None,
    };
    db::sessions::insert(&state.pool, &row).await?;
    let vault_secret = TokenSecret::random();
    let token = tokens::mint(
        &state.keys,
        TokenKind::Access,
        &account.id,
        &row.id,
        now,
        row.expires_at,
        Some(&vault_secret),
    )?;
    Ok(SignedIn {
        token,
        vault_secret,
        session_id: row.id,
        expires_at: row.expires_at,
        max_age: (expires_at - now).max(0),
        account,
    })
}

/// How long an expired session's row is kept before [`prune_expired`] deletes it.
pub const KEEP_EXPIRED_SECS: i64 = 24 * 3600;
const PRUNE_BATCH: i64 = 1000;
/// At most this many batches per run (a million rows); the next run goes on.
const PRUNE_BATCHES: usize = 1000;

/// Deletes sessions that expired more than a day ago, so the table holds what can still be
/// used rather than every sign-in ever made. A thousand rows at a time with a pause between
/// them, so sign-ins and revocations never wait behind it. Answers how many went.
pub async fn prune_expired(state: &AppState) -> Result<u64, AppError> {
    let before = state.now() - KEEP_EXPIRED_SECS;
    let mut deleted = 0;
    for _ in 0..PRUNE_BATCHES {
        let n = db::sessions::delete_expired(&state.pool, before, PRUNE_BATCH).await?;
        deleted += n;
        if n < PRUNE_BATCH as u64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    if deleted > 0 {
        tracing::info!(deleted, "expired sessions removed");
    }
    Ok(deleted)
}

/// Ends the caller's own session (logout).
pub async fn end_session(state: &AppState, caller: &Caller) -> Result<(), AppError> {
    let session = caller.session()?;
    db::sessions::revoke(&state.pool, session, state.now()).await?;
    Ok(())
}

/// Which sessions a list shows: every one (the REST list, with `isRevoked`), or only those
/// that still let someone in (the sessions page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    WithRevoked,
    LiveOnly,
}

/// A page of the sessions the caller may see: their own, or everyone's for an admin.
pub async fn list_visible_sessions(
    state: &AppState,
    caller: &Caller,
    page: &PageRequest,
    listing: Listing,
) -> Result<Page<SessionInfo>, AppError> {
    match caller.clone().require_admin() {
        Ok(admin) => list_all_sessions(state, &admin, page, listing).await,
        Err(_) => list_my_sessions(state, caller, page, listing).await,
    }
}

/// A page of the caller's own sessions.
pub async fn list_my_sessions(
    state: &AppState,
    caller: &Caller,
    page: &PageRequest,
    listing: Listing,
) -> Result<Page<SessionInfo>, AppError> {
    list_rows(state, caller, Some(&caller.user_id), page, listing).await
}

/// A page of every user's sessions.
pub async fn list_all_sessions(
    state: &AppState,
    admin: &AdminUser,
    page: &PageRequest,
    listing: Listing,
) -> Result<Page<SessionInfo>, AppError> {
    list_rows(state, admin.caller(), None, page, listing).await
}

async fn list_rows(
    state: &AppState,
    caller: &Caller,
    scope: Option<&str>,
    page: &PageRequest,
    listing: Listing,
) -> Result<Page<SessionInfo>, AppError> {
    let after = page.after_pair()?;
    let live_only = listing == Listing::LiveOnly;
    let rows = db::sessions::list(&state.pool, scope, live_only, state.now(), after, page.fetch()).await?;
    Ok(Page::of(rows, page, |r| format!("{}:{}", r.last_active_at, r.id))
        .map(|row| SessionInfo { is_current: row.id == caller.session_id, row }))
}

/// Revokes one session: the caller's own, or anyone's for an admin. Takes effect on its next
/// request. Answers whether it was the session the caller came with (the client is then
/// signed out and its cookie should go).
pub async fn revoke_session(state: &AppState, caller: &Caller, session_id: &str) -> Result<bool, AppError> {
    let row = db::sessions::find(&state.pool, session_id)
        .await?
        .ok_or_else(|| AppError::of(ErrorKind::SessionNotFound, "No such session."))?;
    if row.user_id != caller.user_id {
        caller
            .clone()
            .require_admin()
            .map_err(|_| AppError::of(ErrorKind::Forbidden, "This session is not yours."))?;
    }
    db::sessions::revoke(&state.pool, session_id, state.now()).await?;
    Ok(caller.api_key_id.is_none() && session_id == caller.session_id)
}

/// Revokes every session of `target` (default: the caller), keeping the caller's own when
/// `except_current`. Another user's sessions need an admin. Answers how many were cut off.
pub async fn revoke_all_sessions(
    state: &AppState,
    caller: &Caller,
    target: Option<&str>,
    except_current: bool,
) -> Result<u64, AppError> {
    match target.filter(|t| *t != caller.user_id) {
        None => revoke_my_sessions(state, caller, except_current).await,
        Some(other) => {
            let admin = caller.clone().require_admin().map_err(|_| {
                AppError::of(
                    ErrorKind::Forbidden,
                    "Only an administrator can revoke another user's sessions.",
                )
            })?;
            sign_out_user(state, &admin, other).await
        }
    }
}

/// Signs the caller out everywhere, or everywhere else with `except_current`.
pub async fn revoke_my_sessions(
    state: &AppState,
    caller: &Caller,
    except_current: bool,
) -> Result<u64, AppError> {
    let keep = except_current.then_some(caller.session_id.as_str()).filter(|_| caller.api_key_id.is_none());
    cut_off(state, &caller.user_id, keep).await
}

/// An admin signs another user out everywhere.
pub async fn sign_out_user(state: &AppState, _admin: &AdminUser, user_id: &str) -> Result<u64, AppError> {
    if db::users::find_by_id(&state.pool, user_id).await?.is_none() {
        return Err(AppError::of(ErrorKind::UserNotFound, "No such user."));
    }
    cut_off(state, user_id, None).await
}

async fn cut_off(state: &AppState, user_id: &str, keep: Option<&str>) -> Result<u64, AppError> {
    let now = state.now();
    let count = db::sessions::revoke_all_for_user(&state.pool, user_id, keep, now).await?;
    if keep.is_none() {
        db::users::bump_tokens_valid_after(&state.pool, user_id, now).await?;
    }
    forget_trusted_devices(state, user_id).await?;
    Ok(count)
}

/// Revoke-all also forgets the user's trusted devices: the next sign-in asks for the code again.
async fn forget_trusted_devices(state: &AppState, user_id: &str) -> Result<(), AppError> {
    db::totp::forget_trusted_devices(&state.pool, user_id).await?;
    Ok(())
}

/// How many sessions still let someone in now (the metrics' gauge).
pub async fn count_live(state: &AppState) -> Result<i64, AppError> {
    Ok(db::sessions::count_live(&state.pool, state.now()).await?)
}
