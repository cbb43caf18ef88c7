//! Admin user management: the user list, the admin role, deleting users.
use super::audit::{self, Event};
use super::identity::{Account, AdminUser, Caller};
use crate::audit::EventType;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db;
use crate::ssr::paging::{Page, PageRequest};
use crate::ssr::AppState;

/// A user as the user list shows them.
#[derive(Debug, Clone)]
pub struct UserSummary {
    pub account: Account,
    pub created_at: i64,
}

/// A page of users in name order, optionally only names starting with `search` (case does
/// not matter). Any signed-in user may read it (users-api.txt: admin screens and pickers use
/// it); it holds no secrets.
pub async fn list_users(
    _caller: &Caller,
    state: &AppState,
    search: Option<&str>,
    page: &PageRequest,
) -> Result<Page<UserSummary>, AppError> {
    let prefix = search.map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty());
    // No name holds other characters: nothing can match (and nothing odd reaches the range).
    if prefix.as_deref().is_some_and(|p| !p.chars().all(|c| c.is_ascii_alphanumeric() || ".-_@".contains(c)))
    {
        return Ok(Page { items: Vec::new(), next: None });
    }
    let rows = db::users::list(&state.pool, prefix.as_deref(), page.after.as_deref(), page.fetch()).await?;
    Ok(Page::of(rows, page, |u| u.username.to_ascii_lowercase())
        .map(|u| UserSummary { created_at: u.created_at, account: Account::from(u) }))
}

/// The role an admin gives a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw {
            "admin" => Ok(Self::Admin),
            "user" => Ok(Self::User),
            _ => Err(AppError::bad_request("The role is admin or user.")),
        }
    }
}

/// Gives the user named by `userId` (first) or `username` the admin role or takes it away.
pub async fn set_role(
    admin: &AdminUser,
    state: &AppState,
    user_id: Option<&str>,
    username: Option<&str>,
    role: Role,
) -> Result<(), AppError> {
    // Hands out a way in (a key, a directory, a provider, a role): the admin must be at the
    // keyboard, not only their cookie.
    let result = change_role(admin, state, user_id, username, role).await;
    audit::on_failure(state, result, |e| {
        let event = Event::new(EventType::RoleChanged).by_admin(admin).detail("admin", role == Role::Admin);
        match (user_id, username) {
            (Some(id), _) => event.about(id, "").target("user", id),
            (None, Some(name)) => event.about_name(name),
            (None, None) => event,
        }
        .failed(e)
    })
    .await
}

async fn change_role(
    admin: &AdminUser,
    state: &AppState,
    user_id: Option<&str>,
    username: Option<&str>,
    role: Role,
) -> Result<(), AppError> {
    admin.caller().require_recent_authentication(state.now())?;
    let target = find_target(state, user_id, username).await?;
    match role {
        Role::Admin => make_admin(admin, state, &target).await,
        Role::User => remove_admin(admin, state, &target).await,
    }
}

fn role_changed(admin: &AdminUser, target: &Account, is_admin: bool) -> Event {
    Event::new(EventType::RoleChanged)
        .by_admin(admin)
        .about(&target.id, &target.username)
        .target("user", &target.id)
        .detail("admin", is_admin)
}

/// Who an admin operation is aimed at: `userId` first, else `username`.
async fn find_target(
    state: &AppState,
    user_id: Option<&str>,
    username: Option<&str>,
) -> Result<Account, AppError> {
    let user_id = user_id.map(str::trim).filter(|s| !s.is_empty());
    let username = username.map(str::trim).filter(|s| !s.is_empty());
    let row = match (user_id, username) {
        (Some(id), _) => db::users::find_by_id(&state.pool, id).await?,
        (None, Some(name)) => db::users::find_by_key(&state.pool, &name.to_ascii_lowercase()).await?,
        (None, None) => {
            return Err(AppError::invalid(
                ErrorKind::InvalidRequest,
                Some("userId"),
                "Give a userId or a username.",
            ))
        }
    };
    row.map(Account::from).ok_or_else(|| AppError::of(ErrorKind::UserNotFound, "No such user."))
}

/// Grants the admin role. It takes effect on the user's next request.
#[tracing::instrument(skip_all)]
async fn make_admin(admin: &AdminUser, state: &AppState, target: &Account) -> Result<(), AppError> {
    let mut change = audit::Change::begin(state).await?;
    if !db::users::set_admin(change.tx(), &target.id, true).await? {
        return Err(AppError::invalid(ErrorKind::AlreadyAdmin, None, "This user is already an admin."));
    }
    change.record(role_changed(admin, target, true)).await?;
    change.commit().await?;
    tracing::info!(user = %target.id, by = %admin.caller().user_id, "admin role granted");
    Ok(())
}

/// Takes the admin role away. An admin cannot demote themselves, and the last admin stays one.
#[tracing::instrument(skip_all)]
async fn remove_admin(admin: &AdminUser, state: &AppState, target: &Account) -> Result<(), AppError> {
    if target.id == admin.caller().user_id {
        return Err(AppError::invalid(
            ErrorKind::CannotDemoteSelf,
            None,
            "You cannot remove your own admin role.",
        ));
    }
    if !target.is_admin {
        return Err(AppError::invalid(ErrorKind::NotAdmin, None, "This user is not an admin."));
    }
    let mut change = audit::Change::begin(state).await?;
    if !db::users::set_admin(change.tx(), &target.id, false).await? {
        return Err(AppError::of(ErrorKind::LastAdmin, "The last admin cannot lose the role."));
    }
    change.record(role_changed(admin, target, false)).await?;
    change.commit().await?;
    tracing::info!(user = %target.id, by = %admin.caller().user_id, "admin role removed");
    Ok(())
}

/// Deletes another user with all their sessions, keys, codes and data.
pub async fn delete_user(admin: &AdminUser, state: &AppState, username: &str) -> Result<(), AppError> {
    let result = delete_other(admin, state, username).await;
    audit::on_failure(state, result, |e| {
        Event::new(EventType::UserDeleted).by_admin(admin).about_name(username).failed(e)
    })
    .await
}

#[tracing::instrument(skip_all)]
async fn delete_other(admin: &AdminUser, state: &AppState, username: &str) -> Result<(), AppError> {
    if username.trim().is_empty() {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("username"),
            "Give the username to delete.",
        ));
    }
    let target = find_target(state, None, Some(username)).await?;
    if target.id == admin.caller().user_id {
        return Err(AppError::invalid(
            ErrorKind::CannotDeleteSelf,
            Some("username"),
            "Delete your own account from your account page.",
        ));
    }
    let mut change = audit::Change::begin(state).await?;
    if !db::users::delete(change.tx(), &target.id).await? {
        return Err(AppError::of(ErrorKind::LastAdmin, "The last admin cannot be deleted."));
    }
    change
        .record(
            Event::new(EventType::UserDeleted)
                .by_admin(admin)
                .about(&target.id, &target.username)
                .target("user", &target.id),
        )
        .await?;
    change.commit().await?;
    tracing::info!(user = %target.id, by = %admin.caller().user_id, "user deleted");
    Ok(())
}
