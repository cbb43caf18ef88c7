//! Server functions of per-terminal MFA locks.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TerminalLockView {
    pub container_id: String,
    pub locked_at: String,
}

#[server(prefix = "/rpc")]
pub async fn list_terminal_locks() -> Result<Vec<TerminalLockView>, AppError> {
    use crate::ssr::services::{identity::Gate, terminals};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    Ok(terminals::list_locked(&state, &caller)
        .await?
        .into_iter()
        .map(|r| TerminalLockView {
            container_id: r.container_id,
            locked_at: crate::ssr::clock::rfc3339(r.locked_at),
        })
        .collect())
}

#[server(prefix = "/rpc")]
pub async fn lock_terminal(container_id: String) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, terminals};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let id = crate::domain::ContainerId::parse(&container_id)?;
    terminals::lock(&state, &caller, &id).await.map(|_| ())
}

#[server(prefix = "/rpc")]
/// Answers the terminal whose lock was removed.
pub async fn unlock_terminal(container_id: String, code: String) -> Result<String, AppError> {
    use crate::ssr::services::{identity::Gate, terminals};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let id = crate::domain::ContainerId::parse(&container_id)?;
    terminals::unlock(&state, &caller, &id, terminals::Proof::Code(code)).await?;
    Ok(container_id)
}

/// Answers the terminal and when its 15-minute grant ends (RFC 3339).
#[server(prefix = "/rpc")]
pub async fn verify_terminal(container_id: String, code: String) -> Result<(String, String), AppError> {
    use crate::ssr::services::{identity::Gate, terminals};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let id = crate::domain::ContainerId::parse(&container_id)?;
    let until = terminals::verify(&state, &caller, &id, terminals::Proof::Code(code)).await?;
    Ok((container_id, crate::ssr::clock::rfc3339(until)))
}
