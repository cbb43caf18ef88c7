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
    use crate::ssr::services::{identity::Gate, passkeys};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let credential = answer(challenge_id, &credential)?;
    passkeys::finish_registration(&state, &caller, &credential.challenge_id, &name, credential.credential)
        .await
        .map(|_| ())
}

#[server(prefix = "/rpc")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, passkeys};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    passkeys::remove(&state, &caller, &id).await
}

/// A ceremony begun for a known user: send `options` (WebAuthn's JSON form, `{publicKey: …}`)
/// to the browser and its answer back with `challenge_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyCeremony {
    pub challenge_id: String,
    pub options: String,
}

#[cfg(feature = "ssr")]
impl From<crate::ssr::services::passkeys::Ceremony> for PasskeyCeremony {
    fn from(c: crate::ssr::services::passkeys::Ceremony) -> Self {
        Self { challenge_id: c.challenge_id, options: c.options.to_string() }
    }
}

/// The browser's answer (`credential.toJSON()`, as JSON) to the ceremony `challenge_id`.
#[cfg(feature = "ssr")]
fn answer(
    challenge_id: String,
    credential: &str,
) -> Result<crate::ssr::services::passkeys::Answer, AppError> {
    let credential = serde_json::from_str(credential).map_err(|_| {
        AppError::invalid(
            crate::error::ErrorKind::InvalidRequest,
            Some("credential"),
            "The browser's answer did not read.",
        )
    })?;
    Ok(crate::ssr::services::passkeys::Answer { challenge_id, credential })
}

// The pages that load no WASM (the second step, the lock screen, the step-up page) use a
// passkey through `enhance.js`, which calls the server functions below at fixed addresses.
// Each finishing one answers where the browser goes next ("" for: stay, load again).

/// Whether the second-step page offers a passkey (this sign-in's user has one).
#[server(prefix = "/rpc")]
pub async fn second_step_has_passkey() -> Result<bool, AppError> {
    use crate::ssr::http::{cookie, MFA_COOKIE};
    let state = super::edge::state()?;
    let Some(token) = cookie(&super::edge::headers()?, MFA_COOKIE) else { return Ok(false) };
    Ok(crate::ssr::services::sign_in::second_step_has_passkey(&state, &token).await.unwrap_or(false))
}

#[server(prefix = "/rpc", endpoint = "passkey/second-step/options")]
pub async fn second_step_passkey_options() -> Result<PasskeyCeremony, AppError> {
    use crate::ssr::http::{cookie, MFA_COOKIE};
    let state = super::edge::state()?;
    let token = cookie(&super::edge::headers()?, MFA_COOKIE)
        .ok_or(AppError::from(crate::error::ErrorKind::InvalidToken))?;
    Ok(crate::ssr::services::sign_in::second_step_passkey_options(&state, &token).await?.into())
}

/// The second sign-in step with a passkey; "trust this device" and `rd` as with a code.
#[server(prefix = "/rpc", endpoint = "passkey/second-step")]
pub async fn second_step_with_passkey(
    challenge_id: String,
    credential: String,
    trust: Option<String>,
    rd: Option<String>,
) -> Result<String, AppError> {
    use crate::ssr::http::{cookie, MFA_COOKIE};
    use crate::ssr::services::sign_in::{complete_second_step_with, SecondProof};
    let (state, client) = super::edge::client()?;
    let token = cookie(&super::edge::headers()?, MFA_COOKIE)
        .ok_or(AppError::from(crate::error::ErrorKind::InvalidToken))?;
    let proof = SecondProof::Passkey(answer(challenge_id, &credential)?);
    let step = complete_second_step_with(&state, &token, proof, false, trust.is_some(), &client).await?;
    Ok(super::edge::finish_second_step(&state, &step, rd.as_deref()))
}

#[server(prefix = "/rpc", endpoint = "passkey/unlock/options")]
pub async fn unlock_passkey_options() -> Result<PasskeyCeremony, AppError> {
    use crate::ssr::services::{identity::Gate, screen_lock};
    let (state, caller) = super::edge::caller(Gate::AllowLocked).await?;
    Ok(screen_lock::passkey_options(&state, &caller).await?.into())
}

/// Unlocks the screen lock with a passkey; the new session token replaces the cookie.
#[server(prefix = "/rpc", endpoint = "passkey/unlock")]
pub async fn unlock_with_passkey(challenge_id: String, credential: String) -> Result<String, AppError> {
    use crate::ssr::services::{identity::Gate, screen_lock};
    let (state, caller) = super::edge::caller(Gate::AllowLocked).await?;
    let s = screen_lock::unlock_with_passkey(&state, &caller, answer(challenge_id, &credential)?).await?;
    super::edge::start(&state, &s);
    Ok(String::new())
}

#[server(prefix = "/rpc", endpoint = "passkey/step-up/options")]
pub async fn step_up_passkey_options(terminal: Option<String>) -> Result<PasskeyCeremony, AppError> {
    use crate::ssr::services::{forward_auth, identity::Gate};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let terminal = super::forward_auth::step_up_terminal(terminal.as_deref())?;
    Ok(forward_auth::step_up_passkey_options(&state, &caller, terminal.as_ref()).await?.into())
}

/// The step-up page with a passkey: opens `terminal` for 15 minutes (or proves this session's
/// second factor), then back to `rd`.
#[server(prefix = "/rpc", endpoint = "passkey/step-up")]
pub async fn step_up_with_passkey(
    challenge_id: String,
    credential: String,
    terminal: Option<String>,
    rd: Option<String>,
) -> Result<String, AppError> {
    use crate::ssr::services::{forward_auth, identity::Gate, terminals::Proof};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let terminal = super::forward_auth::step_up_terminal(terminal.as_deref())?;
    let proof = Proof::Passkey(answer(challenge_id, &credential)?);
    forward_auth::step_up(&state, &caller, proof, terminal.as_ref()).await?;
    Ok(super::edge::back_to(&state, rd.as_deref()))
}

/// The security page's terminal rows: a ceremony to open `container_id` with a passkey.
#[server(prefix = "/rpc")]
pub async fn terminal_passkey_options(container_id: String) -> Result<PasskeyCeremony, AppError> {
    use crate::ssr::services::{identity::Gate, terminals};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let id = crate::domain::ContainerId::parse(&container_id)?;
    Ok(terminals::passkey_options(&state, &caller, &id).await?.into())
}

/// Grants this session `container_id` for 15 minutes with a passkey; answers when the grant
/// ends (RFC 3339).
#[server(prefix = "/rpc")]
pub async fn verify_terminal_with_passkey(
    container_id: String,
    challenge_id: String,
    credential: String,
) -> Result<String, AppError> {
    use crate::ssr::services::{identity::Gate, terminals};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let id = crate::domain::ContainerId::parse(&container_id)?;
    let proof = terminals::Proof::Passkey(answer(challenge_id, &credential)?);
    Ok(crate::ssr::clock::rfc3339(terminals::verify(&state, &caller, &id, proof).await?))
}
