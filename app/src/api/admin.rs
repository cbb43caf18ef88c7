//! Server functions of the admin user list.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub is_admin: bool,
    pub is_oidc: bool,
    pub totp_enabled: bool,
    pub created_at: String,
    pub is_me: bool,
}

#[cfg(feature = "ssr")]
fn user_view(me: &str, u: crate::ssr::services::admin::UserSummary) -> UserView {
    UserView {
        is_me: u.account.id == me,
        id: u.account.id,
        username: u.account.username,
        is_admin: u.account.is_admin,
        is_oidc: u.account.is_oidc,
        totp_enabled: u.account.totp_enabled,
        created_at: crate::ssr::clock::rfc3339(u.created_at),
    }
}

/// One page of the user list as the admin page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserPageView {
    pub users: Vec<UserView>,
    /// The next page's cursor, when more users follow.
    pub next_cursor: Option<String>,
}

/// How many users the admin page shows at a time.
pub const USERS_PER_PAGE: usize = 25;

/// A page of users in name order: names starting with `search`, after `cursor`.
#[server(prefix = "/rpc")]
pub async fn list_users_page(search: String, cursor: Option<String>) -> Result<UserPageView, AppError> {
    use crate::ssr::paging::PageRequest;
    use crate::ssr::services::admin;
    let (state, admin) = super::edge::admin().await?;
    let caller = admin.caller();
    let page = PageRequest::sized(USERS_PER_PAGE, cursor.as_deref())?;
    let found = admin::list_users(caller, &state, Some(&search), &page).await?;
    Ok(UserPageView {
        next_cursor: found.next,
        users: found.items.into_iter().map(|u| user_view(&caller.user_id, u)).collect(),
    })
}

/// An administrator adds an account (`role`: `user`, the default, or `admin`); answers its
/// username.
#[server(prefix = "/rpc")]
pub async fn create_user(
    username: String,
    display_name: String,
    password: String,
    role: Option<String>,
) -> Result<String, AppError> {
    use crate::ssr::services::{accounts, admin::Role};
    let (state, admin) = super::edge::admin().await?;
    let make_admin = match role.as_deref() {
        None => false,
        Some(r) => matches!(
            Role::parse(r).map_err(|e| e.with_field("role", "Choose user or administrator."))?,
            Role::Admin
        ),
    };
    accounts::create_account(&admin, &state, &username, &display_name, password, make_admin).await?;
    Ok(username.trim().to_owned())
}

/// `role` is `admin` or `user`.
#[server(prefix = "/rpc")]
pub async fn set_user_role(user_id: String, role: String) -> Result<(), AppError> {
    use crate::ssr::services::admin::{self, Role};
    let (state, admin_user) = super::edge::admin().await?;
    admin::set_role(&admin_user, &state, Some(&user_id), None, Role::parse(&role)?).await
}

#[server(prefix = "/rpc")]
pub async fn remove_user(username: String) -> Result<(), AppError> {
    use crate::ssr::services::admin;
    let (state, admin) = super::edge::admin().await?;
    admin::delete_user(&admin, &state, &username).await
}
