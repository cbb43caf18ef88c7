//! Server functions of API keys (admin page).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub username: String,
    pub token_prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[cfg(feature = "ssr")]
fn key_view(k: crate::ssr::db::api_keys::ApiKeyRow) -> ApiKeyView {
    use crate::ssr::clock::rfc3339;
    ApiKeyView {
        id: k.id,
        name: k.name,
        username: k.username,
        token_prefix: k.token_prefix,
        created_at: rfc3339(k.created_at),
        expires_at: k.expires_at.map(rfc3339),
        last_used_at: k.last_used_at.map(rfc3339),
    }
}

/// One page of API keys, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyPageView {
    pub keys: Vec<ApiKeyView>,
    /// The next page's cursor, when more keys follow.
    pub next_cursor: Option<String>,
}

/// How many keys the admin page shows at a time.
pub const KEYS_PER_PAGE: usize = 25;

#[server(prefix = "/rpc")]
pub async fn list_api_keys(cursor: Option<String>) -> Result<ApiKeyPageView, AppError> {
    use crate::ssr::services::api_keys;
    let (state, admin) = super::edge::admin().await?;
    let page = crate::ssr::paging::PageRequest::sized(KEYS_PER_PAGE, cursor.as_deref())?;
    let found = api_keys::list(&admin, &state, &page).await?;
    Ok(ApiKeyPageView { keys: found.items.into_iter().map(key_view).collect(), next_cursor: found.next })
}

/// A new key: the full token is in this answer only. No `Debug`: it holds the token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct NewKeyView {
    pub key: ApiKeyView,
    pub token: String,
}

/// `username` names the user the key acts as (empty: the admin themself); `expires_at` is a
/// date (`YYYY-MM-DD`) or empty for a key that does not expire.
#[server(prefix = "/rpc")]
pub async fn create_api_key(
    name: String,
    username: String,
    expires_at: String,
) -> Result<NewKeyView, AppError> {
    use crate::ssr::services::api_keys;
    let (state, admin) = super::edge::admin().await?;
    let owner = api_keys::Owner::Name(&username);
    let created = api_keys::create(&admin, &state, &name, owner, Some(&expires_at)).await?;
    Ok(NewKeyView { key: key_view(created.key), token: created.token })
}

#[server(prefix = "/rpc")]
pub async fn delete_api_key(key_id: String) -> Result<(), AppError> {
    use crate::ssr::services::api_keys;
    let (state, admin) = super::edge::admin().await?;
    api_keys::delete(&admin, &state, &key_id).await
}
