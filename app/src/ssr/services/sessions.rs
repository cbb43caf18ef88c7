//! Sessions: starting one at sign-in, listing and revoking them.
use super::audit::{self, Event};
use super::identity::{Account, AdminUser, Caller, ClientMeta, SignedIn};
use super::settings;
use super::tokens::{self, TokenKind};
use crate::audit::EventType;
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

/// Starts a session after a sign-in (any method), and records `event` (the sign-in, with how
/// it was made) with it. In single-session mode every other session of the user is revoked
/// at once, in the same transaction.
#[tracing::instrument(skip_all, fields(user = %account.id))]
pub async fn start_session(
    state: &AppState,
    account: Account,
    client: &ClientMeta,
    remember: bool,
    event: Event,
) -> Result<SignedIn, AppError> {
    let now = state.now();
    let lifetime =
        if remember { REMEMBER_SECS } else { settings::session_timeout_hours(state).await? * 3600 };
    let (device_type, device_info) = client.device();
    let mut change = audit::Change::begin(state).await?;
    let signed_in = insert_session(
        state,
        change.tx(),
        account,
        device_type,
        device_info,
        client.ip.clone(),
        now + lifetime,
    )
    .await?;
    let single = db::users::find_by_id(change.tx(), &signed_in.account.id)
        .await?
        .is_some_and(|u| u.single_session_mode);
    let mut event = event
        .by_account(&signed_in.account.id, &signed_in.account.username)
        .from_client(client)
        .target("session", &signed_in.session_id);
    if single {
        let n = db::sessions::revoke_all_for_user(
            change.tx(),
            &signed_in.account.id,
            Some(&signed_in.session_id),
            now,
        )
        .await?;
        event = event.detail("other_sessions_revoked", n);
        tracing::info!(revoked = n, "single-session mode: other sessions revoked at sign-in");
    }
    change.record(event).await?;
    change.commit().await?;
    Ok(signed_in)
}

/// Writes a session row and mints its token.
pub(crate) async fn insert_session(
    state: &AppState,
    ex: impl Into<db::Exec<'_>>,
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
    db::sessions::insert(ex, &row).await?;
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
    let mut change = audit::Change::begin(state).await?;
    if db::sessions::revoke(change.tx(), session, state.now()).await? > 0 {
        change.record(Event::new(EventType::SignOut).by(caller).target("session", session)).await?;
    }
    change.commit().await
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
    let event = || Event::new(EventType::SessionRevoked).by(caller).target("session", session_id);
    let result = revoke_one(state, caller, session_id, event()).await;
    audit::on_failure(state, result, |e| event().failed(e)).await
}

async fn revoke_one(
    state: &AppState,
    caller: &Caller,
    session_id: &str,
    event: Event,
) -> Result<bool, AppError> {
    let row = db::sessions::find(&state.pool, session_id)
        .await?
        .ok_or_else(|| AppError::of(ErrorKind::SessionNotFound, "No such session."))?;
    if row.user_id != caller.user_id {
        caller
            .clone()
            .require_admin()
            .map_err(|_| AppError::of(ErrorKind::Forbidden, "This session is not yours."))?;
    }
    let owner =
        db::users::find_by_id(&state.pool, &row.user_id).await?.map(|u| u.username).unwrap_or_default();
    let mut change = audit::Change::begin(state).await?;
    if db::sessions::revoke(change.tx(), session_id, state.now()).await? > 0 {
        change.record(event.about(&row.user_id, &owner)).await?;
    }
    change.commit().await?;
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
    let result = match target.filter(|t| *t != caller.user_id) {
        None => revoke_my_sessions(state, caller, except_current).await,
        Some(other) => match caller.clone().require_admin() {
            Ok(admin) => sign_out_user(state, &admin, other).await,
            Err(_) => Err(AppError::of(
                ErrorKind::Forbidden,
                "Only an administrator can revoke another user's sessions.",
            )),
        },
    };
    audit::on_failure(state, result, |e| {
        let event = Event::new(EventType::SessionsRevokedAll).by(caller);
        match target {
            Some(t) => event.target("user", t),
            None => event,
        }
        .failed(e)
    })
    .await
}

/// Signs the caller out everywhere, or everywhere else with `except_current`.
pub async fn revoke_my_sessions(
    state: &AppState,
    caller: &Caller,
    except_current: bool,
) -> Result<u64, AppError> {
    let keep = except_current.then_some(caller.session_id.as_str()).filter(|_| caller.api_key_id.is_none());
    let event = Event::new(EventType::SessionsRevokedAll).by(caller).target("user", &caller.user_id);
    cut_off(state, &caller.user_id, keep, event).await
}

/// An admin signs another user out everywhere.
pub async fn sign_out_user(state: &AppState, admin: &AdminUser, user_id: &str) -> Result<u64, AppError> {
    let Some(user) = db::users::find_by_id(&state.pool, user_id).await? else {
        return Err(AppError::of(ErrorKind::UserNotFound, "No such user."));
    };
    let event = Event::new(EventType::SessionsRevokedAll)
        .by_admin(admin)
        .about(&user.id, &user.username)
        .target("user", user_id);
    cut_off(state, user_id, None, event).await
}

async fn cut_off(state: &AppState, user_id: &str, keep: Option<&str>, event: Event) -> Result<u64, AppError> {
    let now = state.now();
    let mut change = audit::Change::begin(state).await?;
    let count = db::sessions::revoke_all_for_user(change.tx(), user_id, keep, now).await?;
    if keep.is_none() {
        db::users::bump_tokens_valid_after(change.tx(), user_id, now).await?;
    }
    // Revoke-all also forgets the user's trusted devices: the next sign-in asks for the code again.
    db::totp::forget_trusted_devices(change.tx(), user_id).await?;
    change.record(event.detail("revoked", count).detail("kept_current", keep.is_some())).await?;
    change.commit().await?;
    Ok(count)
}

/// How many sessions still let someone in now (the metrics' gauge).
pub async fn count_live(state: &AppState) -> Result<i64, AppError> {
    Ok(db::sessions::count_live(&state.pool, state.now()).await?)
}
