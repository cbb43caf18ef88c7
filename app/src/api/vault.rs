//! Server functions of the encrypted vault.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An item as the page lists it: its name and when it changed. Its value stays on the server
/// until the person asks to see or copy it ([`reveal_vault_item`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaultItemView {
    pub name: String,
    pub updated_at: String,
}

/// `None` while the vault is locked for this session.
#[server(prefix = "/rpc")]
pub async fn vault_items() -> Result<Option<Vec<VaultItemView>>, AppError> {
    use crate::ssr::services::{identity::Gate, vault};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    match vault::list(&state, &caller).await {
        Ok(items) => Ok(Some(
            items
                .into_iter()
                .map(|i| VaultItemView { name: i.name, updated_at: crate::ssr::clock::rfc3339(i.updated_at) })
                .collect(),
        )),
        Err(e) if e.is(crate::error::ErrorKind::DataLocked) => Ok(None),
        Err(e) => Err(e),
    }
}

/// One item's value, when the person asks to see or copy it.
#[server(prefix = "/rpc")]
pub async fn reveal_vault_item(name: String) -> Result<String, AppError> {
    use crate::ssr::services::{identity::Gate, vault};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    vault::value_of(&state, &caller, &name).await
}

#[server(prefix = "/rpc")]
pub async fn unlock_vault(password: String) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, vault};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    vault::unlock_with_password(&state, &caller, password)
        .await
        .map_err(|e| e.tie("password", &[crate::error::ErrorKind::WrongPassword]))
}

#[server(prefix = "/rpc")]
pub async fn save_vault_item(name: String, value: String) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, vault};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    vault::put(&state, &caller, &name, &value).await
}

#[server(prefix = "/rpc")]
pub async fn remove_vault_item(name: String) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, vault};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    vault::delete(&state, &caller, &name).await
}
