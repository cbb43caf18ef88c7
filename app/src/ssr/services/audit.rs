//! The audit log: every security event, with who did it, how they were authenticated, from
//! where, to what, and how it ended; never a secret.
//!
//! A change and its event are one [`Change`]: the event is written in the change's own
//! transaction, so neither exists without the other. A failure changes nothing, so it is
//! [`record`]ed alone (and recorded even though the request fails). Every stored event is also
//! one log line with the target `audit`, for log shippers.
//!
//! The client's address and browser come from the request being served ([`in_request`], set
//! by the HTTP edge for every request), so services need not pass them around.
use super::identity::{AdminUser, Caller, ClientMeta};
use crate::audit::{Actor, AuditEvent, EventType, Outcome, Subject, Target, Via};
use crate::error::{AppError, ErrorKind};
use crate::ssr::clock::rfc3339;
use crate::ssr::db::{self, audit::AuditRow, Tx};
use crate::ssr::keys::new_time_ordered_id;
use crate::ssr::paging::{Page, PageRequest};
use crate::ssr::AppState;
use axum::http::HeaderValue;
use serde_json::{Map, Value};
use std::net::IpAddr;

pub use db::audit::Filter;

/// Where the request being served came from: read only when an event is recorded.
#[derive(Clone, Default)]
pub struct RequestContext {
    pub peer: Option<IpAddr>,
    pub user_agent: Option<HeaderValue>,
    pub forwarded_for: Vec<HeaderValue>,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// Runs `f` (one request) with `ctx` as the origin of the events it records.
pub async fn in_request<F: std::future::Future>(ctx: RequestContext, f: F) -> F::Output {
    REQUEST.scope(ctx, f).await
}

/// The client of the request being served (`unknown` outside one).
pub fn current_client(state: &AppState) -> ClientMeta {
    REQUEST
        .try_with(|c| ClientMeta {
            ip: crate::ssr::http::client_ip_from(state, c.peer, c.forwarded_for.iter()),
            user_agent: c
                .user_agent
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(512)
                .collect(),
        })
        .unwrap_or_else(|_| ClientMeta { ip: "unknown".into(), user_agent: String::new() })
}

/// An event being described, before it is stored.
#[derive(Debug, Clone)]
pub struct Event {
    kind: EventType,
    outcome: Outcome,
    code: Option<&'static str>,
    actor_id: Option<String>,
    actor_name: Option<String>,
    via: Via,
    target: Option<(&'static str, String)>,
    user_id: Option<String>,
    username: Option<String>,
    details: Map<String, Value>,
    client: Option<ClientMeta>,
}

/// Names typed by strangers are kept, but not at any length.
fn clip(s: &str) -> String {
    s.trim().chars().take(64).collect()
}

impl Event {
    pub fn new(kind: EventType) -> Self {
        Self {
            kind,
            outcome: Outcome::Success,
            code: None,
            actor_id: None,
            actor_name: None,
            via: Via::None,
            target: None,
            user_id: None,
            username: None,
            details: Map::new(),
            client: None,
        }
    }

    /// Done by a signed-in caller (session or API key), about their own account unless
    /// [`Event::about`] says otherwise.
    pub fn by(mut self, caller: &Caller) -> Self {
        self.actor_id = Some(caller.user_id.clone());
        self.actor_name = Some(caller.username.clone());
        self.via = if caller.api_key_id.is_some() { Via::ApiKey } else { Via::Session };
        if self.user_id.is_none() {
            self.user_id = Some(caller.user_id.clone());
            self.username = Some(caller.username.clone());
        }
        self
    }

    pub fn by_admin(self, admin: &AdminUser) -> Self {
        self.by(admin.caller())
    }

    /// Done with an API key of this account.
    pub fn by_key_of(mut self, id: &str, username: &str) -> Self {
        self.via = Via::ApiKey;
        self.by_account(id, username)
    }

    /// Done by the terminal gateway (its shared secret).
    pub fn by_gateway(mut self) -> Self {
        self.via = Via::Gateway;
        self
    }

    /// Done by someone not yet signed in who has just proven to be this account (a sign-in).
    pub fn by_account(mut self, id: &str, username: &str) -> Self {
        self.actor_id = Some(id.to_owned());
        self.actor_name = Some(username.to_owned());
        self.about(id, username)
    }

    /// The account the event is about (`username` may be empty when only the id is known).
    pub fn about(mut self, id: &str, username: &str) -> Self {
        self.user_id = Some(id.to_owned());
        self.username = Some(username.to_owned()).filter(|u| !u.is_empty());
        self
    }

    /// Refused by an attempt limit.
    pub fn refused(mut self, e: &AppError) -> Self {
        self.outcome = Outcome::Refused;
        self.code = Some(e.code());
        self
    }

    /// The account a stranger named (it may not exist).
    pub fn about_name(mut self, username: &str) -> Self {
        self.username = Some(clip(username)).filter(|u| !u.is_empty());
        self
    }

    pub fn target(mut self, kind: &'static str, id: impl Into<String>) -> Self {
        self.target = Some((kind, id.into()));
        self
    }

    /// A detail. Never a secret: passwords, codes, tokens and keys stay out of the log.
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// The client, when the caller knows it better than the request does.
    pub fn from_client(mut self, client: &ClientMeta) -> Self {
        self.client = Some(client.clone());
        self
    }

    /// Ended in `e`: refused when an attempt limit said no, else a failure with its code.
    pub fn failed(mut self, e: &AppError) -> Self {
        self.outcome = if e.status() == 429 { Outcome::Refused } else { Outcome::Failure };
        self.code = Some(e.code());
        self
    }

    fn into_row(self, state: &AppState) -> AuditRow {
        let client = self.client.unwrap_or_else(|| current_client(state));
        let (target_kind, target_id) = match self.target {
            Some((k, id)) => (Some(k.to_owned()), Some(id)),
            None => (None, None),
        };
        AuditRow {
            id: new_time_ordered_id(),
            at: state.now(),
            kind: self.kind.as_str().to_owned(),
            outcome: self.outcome.as_str().to_owned(),
            code: self.code.map(str::to_owned),
            actor_id: self.actor_id,
            actor_name: self.actor_name,
            via: self.via.as_str().to_owned(),
            ip: client.ip,
            user_agent: client.user_agent,
            target_kind,
            target_id,
            user_id: self.user_id,
            username: self.username,
            details: Value::Object(self.details).to_string(),
        }
    }
}

/// Whether a failed request is a security event (a wrong secret, a refusal, a limit) rather
/// than malformed input or a fault of ours.
pub fn worth_recording(e: &AppError) -> bool {
    matches!(e.status(), 401 | 403 | 423 | 429)
        || matches!(e.kind(), ErrorKind::WrongResetCode | ErrorKind::InvalidResetToken | ErrorKind::SsoFailed)
}

/// One structured line per event (target `audit`), after it is stored.
fn log(row: &AuditRow) {
    tracing::info!(
        target: "audit",
        id = %row.id,
        event = %row.kind,
        outcome = %row.outcome,
        code = row.code.as_deref().unwrap_or(""),
        actor = row.actor_name.as_deref().unwrap_or(""),
        via = %row.via,
        user = row.username.as_deref().unwrap_or(""),
        ip = %row.ip,
        target_kind = row.target_kind.as_deref().unwrap_or(""),
        target = row.target_id.as_deref().unwrap_or(""),
        details = %row.details,
        "audit event"
    );
}

/// Refusals by a limit come in storms; one per kind, client and account a minute is enough to
/// see them. The memory of which were recorded is bounded.
fn first_refusal_this_minute(row: &AuditRow) -> bool {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static SEEN: LazyLock<Mutex<HashMap<String, i64>>> = LazyLock::new(Mutex::default);
    let key = format!("{}|{}|{}|{}", row.kind, row.ip, row.username.as_deref().unwrap_or(""), row.details);
    let Ok(mut seen) = SEEN.lock() else { return true };
    if seen.len() >= 10_000 {
        seen.retain(|_, at| row.at - *at < 60);
        if seen.len() >= 10_000 {
            seen.clear();
        }
    }
    match seen.get(&key) {
        Some(at) if row.at - *at < 60 => false,
        _ => {
            seen.insert(key, row.at);
            true
        }
    }
}

/// Stores an event that changes nothing else (a failure, a refusal, a use). A store that
/// cannot be written does not change the request's answer; the log line is written anyway.
pub async fn record(state: &AppState, event: Event) {
    let mut row = event.into_row(state);
    if row.outcome == Outcome::Refused.as_str() && !first_refusal_this_minute(&row) {
        return;
    }
    // A name a stranger typed: when it is an account's, the event is about that account (so
    // its owner sees the attempt among their own activity). Any other text is not kept: people
    // type their password into the username field.
    if let (None, Some(name)) = (&row.user_id, &row.username) {
        match db::users::find_by_key(&state.pool, &name.to_ascii_lowercase()).await {
            Ok(Some(u)) => {
                row.user_id = Some(u.id);
                row.username = Some(u.username);
            }
            _ => {
                row.username = None;
                row.details = with_detail(&row.details, "unknown_account", Value::Bool(true));
            }
        }
    }
    if let Err(e) = db::audit::insert(&state.pool, &row).await {
        tracing::warn!(target: "audit", error = %e, event = %row.kind, "the audit event could not be stored");
    }
    log(&row);
}

fn with_detail(details: &str, key: &str, value: Value) -> String {
    let mut map: Map<String, Value> = serde_json::from_str(details).unwrap_or_default();
    map.insert(key.to_owned(), value);
    Value::Object(map).to_string()
}

/// Records `event` (filled in by `describe`) when `result` is a failure worth recording, and
/// hands `result` back.
pub async fn on_failure<T>(
    state: &AppState,
    result: Result<T, AppError>,
    describe: impl FnOnce(&AppError) -> Event,
) -> Result<T, AppError> {
    if let Err(e) = &result {
        if worth_recording(e) && !refused_by_limit(e) {
            record(state, describe(e)).await;
        }
    }
    result
}

/// A refusal by an attempt limit: recorded once, where the limit refused, as `limit_reached`.
pub fn refused_by_limit(e: &AppError) -> bool {
    e.status() == 429
}

/// A change and the events that record it, committed together.
pub struct Change<'s> {
    state: &'s AppState,
    tx: Tx,
    rows: Vec<AuditRow>,
}

impl<'s> Change<'s> {
    pub async fn begin(state: &'s AppState) -> Result<Self, AppError> {
        Ok(Self { state, tx: state.pool.begin().await?, rows: Vec::new() })
    }

    /// The transaction the change's statements run in.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Adds the event to the change.
    pub async fn record(&mut self, event: Event) -> Result<(), AppError> {
        let row = event.into_row(self.state);
        db::audit::insert(&mut self.tx, &row).await?;
        self.rows.push(row);
        Ok(())
    }

    /// Keeps the change and its events; then logs the events.
    pub async fn commit(self) -> Result<(), AppError> {
        self.tx.commit().await?;
        self.rows.iter().for_each(log);
        Ok(())
    }
}

/// A stored event as the API answers it.
pub fn to_event(row: AuditRow) -> Option<AuditEvent> {
    Some(AuditEvent {
        at: rfc3339(row.at),
        kind: EventType::parse(&row.kind)?,
        outcome: Outcome::parse(&row.outcome)?,
        code: row.code,
        actor: Actor { id: row.actor_id, username: row.actor_name, via: Via::parse(&row.via) },
        ip: row.ip,
        user_agent: row.user_agent,
        target: match (row.target_kind, row.target_id) {
            (Some(kind), Some(id)) => Some(Target { kind, id }),
            _ => None,
        },
        user: (row.user_id.is_some() || row.username.is_some())
            .then_some(Subject { id: row.user_id, username: row.username }),
        details: serde_json::from_str(&row.details).unwrap_or(Value::Object(Map::new())),
        id: row.id,
    })
}

/// A time a filter names: RFC 3339 (`2026-12-01T10:00:00Z`), a date (`2026-12-01`, midnight
/// UTC) or Unix seconds.
pub fn parse_time(field: &'static str, raw: &str, end_of_day: bool) -> Result<i64, AppError> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    let bad = || {
        AppError::invalid(
            ErrorKind::InvalidRequest,
            Some(field),
            format!("{field} must be an RFC 3339 time, a date (YYYY-MM-DD) or Unix seconds."),
        )
    };
    if let Ok(n) = raw.parse::<i64>() {
        return Ok(n);
    }
    if let Ok(t) = time::OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(raw, &format).map_err(|_| bad())?;
    let start = day.midnight().assume_utc().unix_timestamp();
    Ok(if end_of_day { start + 86_399 } else { start })
}

/// The filters of the admin list and export, from the query's text.
#[derive(Debug, Clone, Default)]
pub struct FilterQuery<'a> {
    pub user: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub outcome: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
}

impl FilterQuery<'_> {
    pub fn parse(&self) -> Result<Filter, AppError> {
        let given = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let kind = match given(self.kind) {
            None => None,
            Some(k) => Some(EventType::parse(&k).map(|t| t.as_str().to_owned()).ok_or_else(|| {
                AppError::invalid(
                    ErrorKind::InvalidRequest,
                    Some("type"),
                    "type is not an event type this server records.",
                )
            })?),
        };
        let outcome = match given(self.outcome) {
            None => None,
            Some(o) => Some(Outcome::parse(&o).map(|o| o.as_str().to_owned()).ok_or_else(|| {
                AppError::invalid(
                    ErrorKind::InvalidRequest,
                    Some("outcome"),
                    "outcome is success, failure or refused.",
                )
            })?),
        };
        for (field, v) in [("user", self.user), ("ip", self.ip)] {
            if v.is_some_and(|v| v.chars().any(char::is_control) || v.len() > 256) {
                return Err(AppError::invalid(
                    ErrorKind::InvalidRequest,
                    Some(field),
                    format!("{field} is not a name, id or address."),
                ));
            }
        }
        Ok(Filter {
            user: given(self.user),
            about: None,
            kind,
            outcome,
            ip: given(self.ip),
            since: given(self.since).map(|s| parse_time("since", &s, false)).transpose()?,
            until: given(self.until).map(|s| parse_time("until", &s, true)).transpose()?,
        })
    }
}

/// One page of events matching `filter`, newest first.
async fn page(state: &AppState, filter: &Filter, page: &PageRequest) -> Result<Page<AuditEvent>, AppError> {
    let rows = db::audit::list(&state.pool, filter, page.after_pair()?, page.fetch()).await?;
    let page = Page::of(rows, page, |r| format!("{}:{}", r.at, r.id));
    Ok(Page { items: page.items.into_iter().filter_map(to_event).collect(), next: page.next })
}

/// The whole instance's events (admin).
pub async fn list(
    _admin: &AdminUser,
    state: &AppState,
    filter: &Filter,
    request: &PageRequest,
) -> Result<Page<AuditEvent>, AppError> {
    page(state, filter, request).await
}

/// The caller's own events: what they did and what was done to their account.
pub async fn activity(
    caller: &Caller,
    state: &AppState,
    request: &PageRequest,
) -> Result<Page<AuditEvent>, AppError> {
    let filter = Filter { about: Some(caller.user_id.clone()), ..Filter::default() };
    page(state, &filter, request).await
}

/// One of the caller's recent events, a sign-in flagged when it came from a browser or an
/// address none of their earlier sign-ins did.
#[derive(Debug, Clone)]
pub struct Recent {
    pub event: AuditEvent,
    /// "Chrome 120 on Linux", read from the User-Agent.
    pub device: String,
    pub new_device: bool,
    pub new_address: bool,
}

/// The caller's latest `shown` events, judged against their last 200 (the first sign-in on
/// record has nothing to be new against).
pub async fn recent_activity(
    caller: &Caller,
    state: &AppState,
    shown: usize,
) -> Result<Vec<Recent>, AppError> {
    use std::collections::HashSet;
    let history = activity(caller, state, &PageRequest::first(200)).await?.items;
    let (mut ips, mut devices, mut seen_one) = (HashSet::new(), HashSet::new(), false);
    let mut out: Vec<Recent> = history
        .into_iter()
        .rev()
        .map(|event| {
            let client = ClientMeta { ip: event.ip.clone(), user_agent: event.user_agent.clone() };
            let device = client.device().1;
            let mut r = Recent { event, device, new_device: false, new_address: false };
            if r.event.kind == EventType::SignIn && r.event.outcome == Outcome::Success {
                if seen_one {
                    r.new_address = !ips.contains(&client.ip);
                    r.new_device = !devices.contains(&r.device);
                }
                seen_one = true;
                ips.insert(client.ip);
                devices.insert(r.device.clone());
            }
            r
        })
        .collect();
    out.reverse();
    out.truncate(shown);
    Ok(out)
}

/// An account made: at set-up, registration, or a first directory or single sign-on login.
pub fn registered(id: &str, username: &str, method: &'static str, admin: bool) -> Event {
    Event::new(EventType::Registered)
        .by_account(id, username)
        .target("user", id)
        .detail("method", method)
        .detail("admin", admin)
}

pub const RETENTION_KEY: &str = "audit_retention_days";
pub const DEFAULT_RETENTION_DAYS: i64 = 365;

pub async fn retention_days(state: &AppState) -> Result<i64, AppError> {
    Ok(db::settings::get(&state.pool, RETENTION_KEY)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_RETENTION_DAYS))
}

/// Deletes events older than the retention time, a small batch at a time (each its own short
/// statement), until none are left; answers how many went.
pub async fn prune(state: &AppState) -> Result<u64, AppError> {
    let before = state.now() - retention_days(state).await? * 86_400;
    let mut gone = 0;
    // At most 2,000 batches (a million events) a run, with a pause between them so other
    // writers never wait behind the pruning; the next run goes on.
    for _ in 0..2000 {
        let n = db::audit::prune(&state.pool, before, 500).await?;
        gone += n;
        if n < 500 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(gone)
}
