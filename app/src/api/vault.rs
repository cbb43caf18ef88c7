//! Server functions of the encrypted vault.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// No `Debug`: it holds a decrypted value.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct VaultItemView {
    pub name: String,
    pub value: String,
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
                .map(|i| VaultItemView {
                    name: i.name,
                    value: i.value,
                    updated_at: crate::ssr::clock::rfc3339(i.updated_at),
                })
                .collect(),
        )),
        Err(e) if e.is(crate::error::ErrorKind::DataLocked) => Ok(None),
        Err(e) => Err(e),
    }
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
