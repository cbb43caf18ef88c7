//! Server functions of the security page's passkeys: the list, names, removal, and adding one
//! (the ceremony's two halves; the browser's WebAuthn makes the passkey in between).
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// Whether passkeys work here, and the caller's.
#[server(prefix = "/rpc")]
pub async fn my_passkeys() -> Result<(bool, Vec<PasskeyView>), AppError> {
    use crate::ssr::clock::rfc3339;
    use crate::ssr::services::{identity::Gate, passkeys};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let list = passkeys::list(&state, &caller)
        .await?
        .into_iter()
        .map(|p| PasskeyView {
            created_at: rfc3339(p.created_at),
            last_used_at: p.last_used_at.map(rfc3339),
            id: p.id,
            name: p.name,
        })
        .collect();
    Ok((passkeys::available(&state), list))
}

/// The first half of adding a passkey: the ceremony's id and the browser's options (JSON).
#[server(prefix = "/rpc")]
pub async fn begin_passkey() -> Result<(String, String), AppError> {
    use crate::ssr::services::{identity::Gate, passkeys};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let c = passkeys::begin_registration(&state, &caller).await?;
    Ok((c.challenge_id, c.options.to_string()))
}

/// The second half: the browser's new credential (JSON), named.
#[server(prefix = "/rpc")]
pub async fn finish_passkey(challenge_id: String, name: String, credential: String) -> Result<(), AppError> {
    use crate::error::ErrorKind;
    use crate::ssr::services::{identity::Gate, passkeys};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let credential = serde_json::from_str(&credential).map_err(|_| {
        AppError::invalid(ErrorKind::InvalidRequest, Some("credential"), "The browser's answer did not read.")
    })?;
    passkeys::finish_registration(&state, &caller, &challenge_id, &name, credential).await.map(|_| ())
}

#[server(prefix = "/rpc")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, passkeys};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    passkeys::remove(&state, &caller, &id).await
}
