//! Server functions of one's own account: password change and deletion.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::error::ErrorKind;
use leptos::prelude::*;

#[server(prefix = "/rpc")]
pub async fn change_my_password(
    old_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::ssr::services::{accounts, identity::Gate};
    super::edge::new_passwords_match(&new_password, &confirm_password)?;
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    accounts::change_password(&state, &caller, old_password, new_password)
        .await
        .map_err(|e| e.tie("old_password", &[ErrorKind::WrongPassword]))?;
    super::edge::end(&state);
    leptos_axum::redirect("/login?password_changed=1");
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn delete_my_account(password: String) -> Result<(), AppError> {
    use crate::ssr::services::{accounts, identity::Gate};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    accounts::delete_own_account(&state, &caller, password)
        .await
        .map_err(|e| e.tie("password", &[ErrorKind::WrongPassword]))?;
    super::edge::end(&state);
    leptos_axum::redirect("/login?account_deleted=1");
    Ok(())
}

/// Whether the caller's account cannot be deleted because they are the last administrator: the
/// page then says so instead of offering a deletion that would be refused.
#[server(prefix = "/rpc")]
pub async fn deletion_blocked_as_last_admin() -> Result<bool, AppError> {
    use crate::ssr::services::{accounts, identity::Gate};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    accounts::is_last_admin(&state, &caller).await
}

/// The password typed again: factor changes are open for 10 minutes on this session.
#[server(prefix = "/rpc")]
pub async fn reauthenticate(password: String) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, passwords};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    passwords::reauthenticate(&state, &caller, password).await
}
