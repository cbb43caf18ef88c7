//! API keys: admin-made, each acting as one user, shown once, stored as a digest.
//!
//! Decisions: a key is not a session, so the screen lock (which guards an unattended browser)
//! does not apply to it and it cannot do what is bound to a session (WebSocket tickets,
//! terminal grants, unlock, logout); it never creates or deletes keys, whatever its user may
//! do; a password change leaves keys alone (delete the key to cut it off, effective at once).
use super::audit::{self, Event};
use super::auth::API_KEY_PREFIX as PREFIX;
use super::identity::AdminUser;
use crate::audit::EventType;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{
    self,
    api_keys::{ApiKeyRow, NewApiKey},
};
use crate::ssr::keys::{digest, new_id, random_hex};
use crate::ssr::paging::{Page, PageRequest};
use crate::ssr::AppState;

/// How much of the key is kept in clear to tell keys apart.
const SHOWN_PREFIX: usize = 12;
const MAX_NAME: usize = 100;

/// A key just made: the only time its full value exists outside the caller's hands.
/// No `Debug`: the token must not reach a log line.
#[derive(Clone)]
pub struct CreatedKey {
    pub key: ApiKeyRow,
    pub token: String,
}

/// Reads `expiresAt`: RFC 3339, or a plain date meaning the end of that day (UTC).
/// It must lie in the future.
fn parse_expiry(raw: &str, now: i64) -> Result<i64, AppError> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    let bad = || {
        AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("expiresAt"),
            "Give the expiry as an ISO 8601 date or date-time.",
        )
    };
    let at = match time::OffsetDateTime::parse(raw, &Rfc3339) {
        Ok(t) => t.unix_timestamp(),
        Err(_) => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            let day = time::Date::parse(raw, &fmt).map_err(|_| bad())?;
            day.with_hms(23, 59, 59).map_err(|_| bad())?.assume_utc().unix_timestamp()
        }
    };
    if at <= now {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("expiresAt"),
            "The expiry must be in the future.",
        ));
    }
    Ok(at)
}

/// Who a new key acts as: a user id (REST), or a name as the admin page's form types it (any
/// case; empty is the admin themself).
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Id(&'a str),
    Name(&'a str),
}

impl Owner<'_> {
    async fn id(self, admin: &AdminUser, state: &AppState) -> Result<String, AppError> {
        let (found, field) = match self {
            Owner::Id(id) => (db::users::find_by_id(&state.pool, id).await?, None),
            Owner::Name(name) if name.trim().is_empty() => return Ok(admin.caller().user_id.clone()),
            Owner::Name(name) => (
                db::users::find_by_key(&state.pool, &name.trim().to_ascii_lowercase()).await?,
                Some("username"),
            ),
        };
        match (found, field) {
            (Some(u), _) => Ok(u.id),
            (None, None) => Err(AppError::of(ErrorKind::UserNotFound, "No such user.")),
            (None, Some(f)) => {
                Err(AppError::invalid(ErrorKind::UserNotFound, Some(f), "No user has that name."))
            }
        }
    }
}

/// Makes a key acting as `owner`. Only a signed-in admin can, never another key.
/// `expires_at` is RFC 3339 or a plain date; none for a key that does not expire.
pub async fn create(
    admin: &AdminUser,
    state: &AppState,
    name: &str,
    owner: Owner<'_>,
    expires_at: Option<&str>,
) -> Result<CreatedKey, AppError> {
    let result = make(admin, state, name, owner, expires_at).await;
    audit::on_failure(state, result, |e| {
        Event::new(EventType::ApiKeyCreated).by_admin(admin).detail("name", name.trim()).failed(e)
    })
    .await
}

#[tracing::instrument(skip_all)]
async fn make(
    admin: &AdminUser,
    state: &AppState,
    name: &str,
    owner: Owner<'_>,
    expires_at: Option<&str>,
) -> Result<CreatedKey, AppError> {
    refuse_keys(admin)?;
    // Hands out a way in: the admin must be at the keyboard, not only their cookie.
    admin.caller().require_recent_authentication(state.now())?;
    let expires_at = expires_at
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| parse_expiry(e, state.now()))
        .transpose()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("name"),
            "Name the key (1 to 100 characters).",
        ));
    }
    let user_id = &owner.id(admin, state).await?;
    let token = format!("{PREFIX}{}", random_hex(32));
    let id = new_id();
    let prefix: String = token.chars().take(SHOWN_PREFIX).collect();
    let hash = digest(&token);
    let mut change = audit::Change::begin(state).await?;
    db::api_keys::insert(
        change.tx(),
        &NewApiKey {
            id: &id,
            name,
            user_id,
            token_hash: &hash,
            token_prefix: &prefix,
            created_at: state.now(),
            expires_at,
        },
    )
    .await?;
    let owner_name =
        db::users::find_by_id(change.tx(), user_id).await?.map(|u| u.username).unwrap_or_default();
    change
        .record(
            Event::new(EventType::ApiKeyCreated)
                .by_admin(admin)
                .about(user_id, &owner_name)
                .target("api_key", &id)
                .detail("name", name)
                .detail("prefix", prefix.as_str())
                .detail("expires_at", expires_at),
        )
        .await?;
    change.commit().await?;
    tracing::info!(key = %id, user = %user_id, by = %admin.caller().user_id, "API key created");
    let key = db::api_keys::find(&state.pool, &id)
        .await?
        .ok_or_else(|| AppError::bug("an API key just created is missing"))?;
    Ok(CreatedKey { key, token })
}

/// A page of every key, newest first.
pub async fn list(
    admin: &AdminUser,
    state: &AppState,
    page: &PageRequest,
) -> Result<Page<ApiKeyRow>, AppError> {
    refuse_keys(admin)?;
    let after = page.after_pair()?;
    let rows = db::api_keys::list(&state.pool, after, page.fetch()).await?;
    Ok(Page::of(rows, page, |k| format!("{}:{}", k.created_at, k.id)))
}

/// Deletes a key; its next request is `401`.
pub async fn delete(admin: &AdminUser, state: &AppState, id: &str) -> Result<(), AppError> {
    let result = remove(admin, state, id).await;
    audit::on_failure(state, result, |e| {
        Event::new(EventType::ApiKeyDeleted).by_admin(admin).target("api_key", id).failed(e)
    })
    .await
}

async fn remove(admin: &AdminUser, state: &AppState, id: &str) -> Result<(), AppError> {
    refuse_keys(admin)?;
    let not_found = || AppError::of(ErrorKind::ApiKeyNotFound, "No such API key.");
    let key = db::api_keys::find(&state.pool, id).await?.ok_or_else(not_found)?;
    let mut change = audit::Change::begin(state).await?;
    if !db::api_keys::delete(change.tx(), id).await? {
        return Err(not_found());
    }
    change
        .record(
            Event::new(EventType::ApiKeyDeleted)
                .by_admin(admin)
                .about(&key.user_id, &key.username)
                .target("api_key", id)
                .detail("name", key.name.as_str()),
        )
        .await?;
    change.commit().await?;
    tracing::info!(key = %id, by = %admin.caller().user_id, "API key deleted");
    Ok(())
}

fn refuse_keys(admin: &AdminUser) -> Result<(), AppError> {
    match admin.caller().api_key_id {
        None => Ok(()),
        Some(_) => Err(AppError::of(ErrorKind::Forbidden, "An API key cannot create or delete API keys.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_iso_8601_and_in_the_future() {
        let now = 1_800_000_000;
        assert_eq!(parse_expiry("2030-01-01T00:00:00Z", now).unwrap(), 1_893_456_000);
        assert_eq!(parse_expiry("2030-01-01", now).unwrap(), 1_893_456_000 + 86_399);
        assert!(parse_expiry("2001-01-01T00:00:00Z", now).is_err());
        assert!(parse_expiry("tomorrow", now).is_err());
    }
}
