//! Sessions: starting one at sign-in, listing and revoking them.
use super::accounts::Account;
use super::auth::Caller;
use super::settings;
use super::tokens::{self, TokenKind};
use crate::error::AppError;
use crate::ssr::db::{self, sessions::SessionRow};
use crate::ssr::keys::new_id;
use crate::ssr::AppState;

/// "Remember me" sessions last 30 days; others the instance session timeout.
pub const REMEMBER_SECS: i64 = 30 * 24 * 3600;

/// Where a request came from, as recorded on its session.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: String,
    pub user_agent: String,
}

impl ClientMeta {
    /// `(device_type, device_info)` read from the User-Agent: `desktop`, `mobile`, `tablet` or `api`.
    pub fn device(&self) -> (String, String) {
        let ua = self.user_agent.trim();
        if ua.is_empty() {
            return ("api".into(), "Unknown client".into());
        }
        match woothee::parser::Parser::new().parse(ua) {
            Some(r) if r.category != "UNKNOWN" && r.name != "UNKNOWN" => {
                let kind = match r.category {
                    "smartphone" | "mobilephone" => {
                        if ua.contains("iPad") || (ua.contains("Android") && !ua.contains("Mobile")) {
                            "tablet"
                        } else {
                            "mobile"
                        }
                    }
                    "pc" => "desktop",
                    _ => "api",
                };
                let version = r.version.split('.').next().unwrap_or("");
                let name = if version.is_empty() || version == "UNKNOWN" {
                    r.name.to_string()
                } else {
                    format!("{} {version}", r.name)
                };
                let info = if r.os == "UNKNOWN" { name } else { format!("{name} on {}", r.os) };
                (kind.into(), info)
            }
            _ => ("api".into(), ua.chars().take(120).collect()),
        }
    }
}

/// A new session and the token that proves it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub session_id: String,
    pub expires_at: i64,
    /// Seconds the cookie should live.
    pub max_age: i64,
    pub account: Account,
}

/// A session as the sessions list shows it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub row: db::sessions::SessionListRow,
    pub is_current: bool,
}

/// Starts a session after a sign-in (any method). In single-session mode every other session
/// of the user is revoked at once.
#[tracing::instrument(skip_all, fields(user = %account.id))]
pub async fn start_session(state: &AppState, account: Account, client: &ClientMeta, remember: bool) -> Result<SignedIn, AppError> {
    let now = state.now();
    let lifetime = if remember { REMEMBER_SECS } else { settings::session_timeout_hours(state).await? * 3600 };
    let (device_type, device_info) = client.device();
    let signed_in = insert_session(state, account, device_type, device_info, client.ip.clone(), now + lifetime).await?;
    let single = db::users::find_by_id(&state.pool, &signed_in.account.id).await?.is_some_and(|u| u.single_session_mode);
    if single {
        let n = db::sessions::revoke_all_for_user(&state.pool, &signed_in.account.id, Some(&signed_in.session_id), now).await?;
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
        id: new_id(),
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
    let token = tokens::mint(&state.keys, TokenKind::Access, &account.id, &row.id, now, row.expires_at)?;
    Ok(SignedIn { token, session_id: row.id, expires_at: row.expires_at, max_age: (expires_at - now).max(0), account })
}

/// Ends the caller's own session (logout).
pub async fn end_session(state: &AppState, caller: &Caller) -> Result<(), AppError> {
    let session = caller.session()?;
    db::sessions::revoke(&state.pool, session, state.now()).await?;
    state.vault.forget(session);
    Ok(())
}

/// The caller's sessions; an admin's list holds every user's.
pub async fn list_sessions(state: &AppState, caller: &Caller) -> Result<Vec<SessionInfo>, AppError> {
    let scope = (!caller.is_admin).then_some(caller.user_id.as_str());
    let rows = db::sessions::list(&state.pool, scope, state.now()).await?;
    Ok(rows
        .into_iter()
        .map(|row| SessionInfo { is_current: row.id == caller.session_id, row })
        .collect())
}

/// Revokes one session: the caller's own, or anyone's for an admin. Takes effect on its next request.
pub async fn revoke_session(state: &AppState, caller: &Caller, session_id: &str) -> Result<(), AppError> {
    let row = db::sessions::find(&state.pool, session_id)
        .await?
        .ok_or_else(|| AppError::not_found("session_not_found", "No such session."))?;
    if row.user_id != caller.user_id && !caller.is_admin {
        return Err(AppError::forbidden("forbidden", "This session is not yours."));
    }
    db::sessions::revoke(&state.pool, session_id, state.now()).await?;
    Ok(())
}

/// Revokes every session of `target` (default: the caller), keeping the caller's own when
/// `except_current`. Answers how many sessions were cut off.
pub async fn revoke_all_sessions(
    state: &AppState,
    caller: &Caller,
    target: Option<&str>,
    except_current: bool,
) -> Result<u64, AppError> {
    let target = target.unwrap_or(&caller.user_id);
    if target != caller.user_id {
        if !caller.is_admin {
            return Err(AppError::forbidden("forbidden", "Only an administrator can revoke another user's sessions."));
        }
        if db::users::find_by_id(&state.pool, target).await?.is_none() {
            return Err(AppError::not_found("user_not_found", "No such user."));
        }
    }
    let now = state.now();
    let keep = except_current.then_some(caller.session_id.as_str());
    let count = db::sessions::revoke_all_for_user(&state.pool, target, keep, now).await?;
    if keep.is_none() {
        db::users::bump_tokens_valid_after(&state.pool, target, now).await?;
    }
    forget_trusted_devices(state, target).await?;
    Ok(count)
}

/// Revoke-all also forgets the user's trusted devices: the next sign-in asks for the code again.
async fn forget_trusted_devices(state: &AppState, user_id: &str) -> Result<(), AppError> {
    db::two_factor::forget_trusted_devices(&state.pool, user_id).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(ua: &str) -> (String, String) {
        ClientMeta { ip: "127.0.0.1".into(), user_agent: ua.into() }.device()
    }

    #[test]
    fn the_device_is_read_from_the_user_agent() {
        let (kind, info) = device("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36");
        assert_eq!(kind, "desktop");
        assert!(info.starts_with("Chrome 120"), "{info}");
        assert!(info.contains("Linux"), "{info}");
        let (kind, _) = device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1");
        assert_eq!(kind, "mobile");
        assert_eq!(device("curl/8.5.0").0, "api");
        assert_eq!(device("").0, "api");
    }
}
