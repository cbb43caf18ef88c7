//! Server functions of the audit pages: the admin's search and each user's recent activity.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The admin page's filters, as typed (empty: no filter).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditFilters {
    pub user: String,
    pub kind: String,
    pub outcome: String,
    pub ip: String,
    /// `YYYY-MM-DD` (from the start of that day, UTC).
    pub since: String,
    /// `YYYY-MM-DD` (to the end of that day, UTC).
    pub until: String,
}

impl AuditFilters {
    /// The filters as a query string for the export route (`user=…&type=…`), empty ones left out.
    pub fn query(&self) -> String {
        [
            ("user", &self.user),
            ("type", &self.kind),
            ("outcome", &self.outcome),
            ("ip", &self.ip),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", super::encode_query(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// One event as the pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRowView {
    pub id: String,
    /// RFC 3339.
    pub at: String,
    /// `2026-12-02 10:00:05 UTC`.
    pub when: String,
    /// "alice signed in with a password from 10.0.0.5".
    pub sentence: String,
    /// "Chrome 120 on Linux".
    pub device: String,
    pub kind: String,
    /// `success`, `failure` or `refused`.
    pub outcome: String,
    pub code: Option<String>,
    /// A sign-in from a browser or an address not seen before among the account's recent events.
    pub new_device: bool,
    pub new_address: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPageView {
    pub events: Vec<AuditRowView>,
    pub next_cursor: Option<String>,
}

/// How many events the admin page shows at a time.
pub const EVENTS_PER_PAGE: usize = 50;
/// How many of their own events the security page shows.
pub const RECENT_ACTIVITY: usize = 10;

#[cfg(feature = "ssr")]
fn view_of(e: crate::audit::AuditEvent) -> AuditRowView {
    let device =
        crate::ssr::services::identity::ClientMeta { ip: e.ip.clone(), user_agent: e.user_agent.clone() }
            .device()
            .1;
    AuditRowView {
        sentence: e.sentence(),
        when: e.at.replace('T', " ").replace('Z', " UTC"),
        device,
        kind: e.kind.as_str().to_owned(),
        outcome: e.outcome.as_str().to_owned(),
        code: e.code,
        new_device: false,
        new_address: false,
        id: e.id,
        at: e.at,
    }
}

/// A page of the instance's events (admin), newest first.
#[server(prefix = "/rpc")]
pub async fn audit_page(filters: AuditFilters, cursor: Option<String>) -> Result<AuditPageView, AppError> {
    use crate::ssr::services::audit::{self, FilterQuery};
    let (state, admin) = super::edge::admin().await?;
    let given = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let (user, kind, outcome, ip, since, until) = (
        given(&filters.user),
        given(&filters.kind),
        given(&filters.outcome),
        given(&filters.ip),
        given(&filters.since),
        given(&filters.until),
    );
    let filter = FilterQuery {
        user: user.as_deref(),
        kind: kind.as_deref(),
        outcome: outcome.as_deref(),
        ip: ip.as_deref(),
        since: since.as_deref(),
        until: until.as_deref(),
    }
    .parse()?;
    let page = crate::ssr::paging::PageRequest::sized(EVENTS_PER_PAGE, cursor.as_deref())?;
    let list = audit::list(&admin, &state, &filter, &page).await?;
    Ok(AuditPageView { events: list.items.into_iter().map(view_of).collect(), next_cursor: list.next })
}

/// The caller's latest events, sign-ins from a device or address their earlier events do not
/// show flagged.
#[server(prefix = "/rpc")]
pub async fn recent_activity() -> Result<Vec<AuditRowView>, AppError> {
    use crate::ssr::services::{audit, identity::Gate};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let recent = audit::recent_activity(&caller, &state, RECENT_ACTIVITY).await?;
    Ok(recent
        .into_iter()
        .map(|r| AuditRowView { new_device: r.new_device, new_address: r.new_address, ..view_of(r.event) })
        .collect())
}
