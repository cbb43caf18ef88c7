//! Terminal guards: per-terminal MFA locks, 15-minute grants bound to a session, and the
//! single-use WebSocket tickets a terminal gateway redeems.
use super::audit::{self, Event};
use super::identity::{Caller, ALL_PERMISSIONS, USER_PERMISSIONS};
use super::{auth, passkeys, totp};
use crate::audit::EventType;
use crate::domain::ContainerId;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{self, terminals};
use crate::ssr::keys::{digest, random_hex};
use crate::ssr::AppState;

pub const GRANT_SECS: i64 = 15 * 60;
pub const TICKET_SECS: i64 = 30;

pub struct TerminalStatus {
    pub locked: bool,
    pub locked_at: Option<i64>,
}

pub async fn status(
    state: &AppState,
    caller: &Caller,
    container: &ContainerId,
) -> Result<TerminalStatus, AppError> {
    let at = terminals::lock_time(&state.pool, &caller.user_id, container.as_ref()).await?;
    Ok(TerminalStatus { locked: at.is_some(), locked_at: at })
}

/// What opens a locked terminal: a current TOTP code, or a passkey.
pub enum Proof {
    Code(String),
    Passkey(passkeys::Answer),
}

impl Proof {
    pub const fn method(&self) -> &'static str {
        match self {
            Self::Code(_) => "totp",
            Self::Passkey(_) => "passkey",
        }
    }
}

/// Checks `proof` for this caller and terminal.
async fn prove(
    state: &AppState,
    caller: &Caller,
    container: &ContainerId,
    proof: Proof,
) -> Result<(), AppError> {
    match proof {
        Proof::Code(code) => totp::prove_code(state, &caller.user_id, &code).await,
        Proof::Passkey(answer) => {
            let what = passkeys::Use::Terminal { session: caller.session()?, container: container.as_ref() };
            passkeys::verify_for(state, &caller.user_id, what, answer).await.map(|_| ())
        }
    }
}

/// Starts a passkey ceremony to open (or unlock) this terminal from this session.
pub async fn passkey_options(
    state: &AppState,
    caller: &Caller,
    container: &ContainerId,
) -> Result<passkeys::Ceremony, AppError> {
    let what = passkeys::Use::Terminal { session: caller.session()?, container: container.as_ref() };
    passkeys::begin_for(state, &caller.user_id, what).await
}

/// Locks a terminal behind a TOTP code (or a passkey). Needs two-factor sign-in to be on: the
/// step-up page and gateways ask for a code.
pub async fn lock(state: &AppState, caller: &Caller, container: &ContainerId) -> Result<i64, AppError> {
    if !totp::is_enabled(state, &caller.user_id).await? {
        return Err(AppError::invalid(
            ErrorKind::MfaRequired,
            None,
            "Turn on two-factor sign-in before locking terminals.",
        ));
    }
    let mut change = audit::Change::begin(state).await?;
    let at = terminals::lock(change.tx(), &caller.user_id, container.as_ref(), state.now()).await?;
    change
        .record(Event::new(EventType::TerminalLocked).by(caller).target("terminal", container.as_ref()))
        .await?;
    change.commit().await?;
    Ok(at)
}

/// Removes a terminal's lock with a current TOTP code or a passkey.
pub async fn unlock(
    state: &AppState,
    caller: &Caller,
    container: &ContainerId,
    proof: Proof,
) -> Result<(), AppError> {
    let method = proof.method();
    let event = || {
        Event::new(EventType::TerminalUnlocked)
            .by(caller)
            .target("terminal", container.as_ref())
            .detail("method", method)
    };
    let proven = prove(state, caller, container, proof).await;
    audit::on_failure(state, proven, |e| event().failed(e)).await?;
    let mut change = audit::Change::begin(state).await?;
    terminals::unlock(change.tx(), &caller.user_id, container.as_ref()).await?;
    change.record(event()).await?;
    change.commit().await
}

/// Grants this session access to the terminal for 15 minutes, without removing the lock.
/// Answers the grant's expiry.
pub async fn verify(
    state: &AppState,
    caller: &Caller,
    container: &ContainerId,
    proof: Proof,
) -> Result<i64, AppError> {
    let session_id = caller.session()?;
    let method = proof.method();
    let event = || {
        Event::new(EventType::TerminalGranted)
            .by(caller)
            .target("terminal", container.as_ref())
            .detail("method", method)
    };
    let proven = prove(state, caller, container, proof).await;
    audit::on_failure(state, proven, |e| event().failed(e)).await?;
    let expires = state.now() + GRANT_SECS;
    let mut change = audit::Change::begin(state).await?;
    terminals::grant(change.tx(), session_id, container.as_ref(), expires).await?;
    change.record(event().detail("minutes", GRANT_SECS / 60)).await?;
    change.commit().await?;
    Ok(expires)
}

pub async fn list_locked(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<terminals::TerminalLockRow>, AppError> {
    Ok(terminals::list_locks(&state.pool, &caller.user_id).await?)
}

/// Issues a single-use ticket, valid 30 s, bound to the caller's session and (optionally) a
/// terminal. An MFA-locked terminal needs a live grant for this session.
pub async fn issue_ticket(
    state: &AppState,
    caller: &Caller,
    terminal: Option<&ContainerId>,
) -> Result<String, AppError> {
    let event = || {
        let e = Event::new(EventType::WsTicketIssued).by(caller);
        match terminal {
            Some(t) => e.target("terminal", t.as_ref()),
            None => e,
        }
    };
    let result = new_ticket(state, caller, terminal, event()).await;
    audit::on_failure(state, result, |e| event().failed(e)).await
}

async fn new_ticket(
    state: &AppState,
    caller: &Caller,
    terminal: Option<&ContainerId>,
    event: Event,
) -> Result<String, AppError> {
    let session_id = caller.session()?;
    let now = state.now();
    if let Some(t) = terminal {
        let locked = terminals::lock_time(&state.pool, &caller.user_id, t.as_ref()).await?.is_some();
        if locked && !terminals::has_live_grant(&state.pool, session_id, t.as_ref(), now).await? {
            return Err(AppError::of(
                ErrorKind::TerminalMfaLocked,
                "This terminal is locked; verify with a code from your app first.",
            ));
        }
    }
    terminals::prune_tickets(&state.pool, now - 3600).await?;
    let ticket = random_hex(32);
    let mut change = audit::Change::begin(state).await?;
    terminals::insert_ticket(
        change.tx(),
        &digest(&ticket),
        session_id,
        &caller.user_id,
        terminal.map(|t| t.as_ref()),
        now + TICKET_SECS,
    )
    .await?;
    change.record(event.detail("session", session_id)).await?;
    change.commit().await?;
    Ok(ticket)
}

/// Who a redeemed ticket speaks for.
pub struct TicketHolder {
    pub user_id: String,
    pub username: String,
    pub permissions: &'static [&'static str],
    pub terminal_id: String,
}

/// The gateway's side: spends a ticket once, for the terminal being opened. Refused (`401`):
/// unknown, used or expired tickets, tickets issued for another terminal, and tickets whose
/// session has since ended or locked. The terminal's MFA lock is checked again here, whatever
/// held when the ticket was issued: a locked terminal needs a live grant for the ticket's
/// session (`403 terminal_mfa_locked`), so a ticket issued for no terminal opens no locked one.
///
/// Spending the ticket stands on its own (a spent ticket stays spent whatever follows); the
/// redemption's event is recorded after the checks, success or failure.
pub async fn redeem_ticket(
    state: &AppState,
    ticket: &str,
    opening: &ContainerId,
) -> Result<TicketHolder, AppError> {
    let result = spend_ticket(state, ticket, opening).await;
    let event = Event::new(EventType::WsTicketRedeemed).by_gateway().target("terminal", opening.as_ref());
    match &result {
        Ok(holder) => audit::record(state, event.about(&holder.user_id, &holder.username)).await,
        Err(e) if audit::worth_recording(e) => audit::record(state, event.failed(e)).await,
        Err(_) => {}
    }
    result
}

async fn spend_ticket(
    state: &AppState,
    ticket: &str,
    opening: &ContainerId,
) -> Result<TicketHolder, AppError> {
    let now = state.now();
    let invalid = || AppError::from(ErrorKind::InvalidToken);
    let t = terminals::redeem_ticket(&state.pool, &digest(ticket), now).await?.ok_or_else(invalid)?;
    if t.terminal_id.as_deref().is_some_and(|issued| issued != opening.as_ref()) {
        return Err(invalid());
    }
    // The ticket's session, checked as any request of it would be, locks included.
    let s = db::sessions::find_with_user(&state.pool, &t.session_id).await?.ok_or_else(invalid)?;
    let issued_at = t.expires_at - TICKET_SECS;
    if auth::screen_state(state, &s, issued_at, now).await? != Some(false) || s.locked_at.is_some() {
        return Err(invalid());
    }
    let locked = terminals::lock_time(&state.pool, &s.user_id, opening.as_ref()).await?.is_some();
    if locked && !terminals::has_live_grant(&state.pool, &t.session_id, opening.as_ref(), now).await? {
        return Err(AppError::of(
            ErrorKind::TerminalMfaLocked,
            "This terminal is locked; verify with a code from your app first.",
        ));
    }
    Ok(TicketHolder {
        user_id: s.user_id,
        username: s.username,
        permissions: if s.is_admin { ALL_PERMISSIONS } else { USER_PERMISSIONS },
        terminal_id: opening.as_ref().to_owned(),
    })
}
