//! Server functions of the sessions page.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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
    /// "3 minutes ago", as of the answer.
    pub last_active_ago: String,
    pub expires_at: String,
    pub is_current: bool,
    pub is_revoked: bool,
}

/// One page of sessions, most recent first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionPageView {
    pub sessions: Vec<SessionView>,
    /// The next page's cursor, when more sessions follow.
    pub next_cursor: Option<String>,
}

/// How many sessions the sessions page shows at a time.
pub const SESSIONS_PER_PAGE: usize = 50;

/// A page of the caller's own live sessions, most recent first, after `cursor`; this device
/// leads its page.
#[server(prefix = "/rpc")]
pub async fn list_my_sessions(cursor: Option<String>) -> Result<SessionPageView, AppError> {
    use crate::ssr::services::{identity::Gate, sessions};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let page = crate::ssr::paging::PageRequest::sized(SESSIONS_PER_PAGE, cursor.as_deref())?;
    let mut list = sessions::list_my_sessions(&state, &caller, &page, sessions::Listing::LiveOnly).await?;
    list.items.sort_by_key(|s| !s.is_current);
    Ok(page_view(list, state.now()))
}

/// A page of everyone's live sessions (administrators), most recent first, after `cursor`.
#[server(prefix = "/rpc")]
pub async fn list_all_sessions(cursor: Option<String>) -> Result<SessionPageView, AppError> {
    use crate::ssr::services::sessions;
    let (state, admin) = super::edge::admin().await?;
    let page = crate::ssr::paging::PageRequest::sized(SESSIONS_PER_PAGE, cursor.as_deref())?;
    let list = sessions::list_all_sessions(&state, &admin, &page, sessions::Listing::LiveOnly).await?;
    Ok(page_view(list, state.now()))
}

#[cfg(feature = "ssr")]
fn page_view(
    list: crate::ssr::paging::Page<crate::ssr::services::sessions::SessionInfo>,
    now: i64,
) -> SessionPageView {
    use crate::ssr::clock::{ago, rfc3339};
    let sessions = list
        .items
        .into_iter()
        .map(|s| SessionView {
            id: s.row.id,
            username: s.row.username,
            device_type: s.row.device_type,
            device_info: s.row.device_info,
            ip_address: s.row.ip_address,
            created_at: rfc3339(s.row.created_at),
            last_active_at: rfc3339(s.row.last_active_at),
            last_active_ago: ago(now, s.row.last_active_at),
            expires_at: rfc3339(s.row.expires_at),
            is_current: s.is_current,
            is_revoked: s.row.revoked_at.is_some(),
        })
        .collect();
    SessionPageView { sessions, next_cursor: list.next }
}

/// Revokes one session; revoking the current one signs this browser out.
#[server(prefix = "/rpc")]
pub async fn revoke_one_session(session_id: String) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, sessions};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    if sessions::revoke_session(&state, &caller, &session_id).await? {
        super::edge::end(&state);
        leptos_axum::redirect("/login?signed_out=1");
    }
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    use crate::ssr::services::{identity::Gate, sessions};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    sessions::revoke_my_sessions(&state, &caller, true).await
}

/// Signs a user out everywhere; answers how many sessions ended.
#[server(prefix = "/rpc")]
pub async fn sign_out_user(user_id: String) -> Result<u64, AppError> {
    let (state, admin) = super::edge::admin().await?;
    crate::ssr::services::sessions::sign_out_user(&state, &admin, &user_id).await
}
