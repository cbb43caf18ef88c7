//! Server functions of the password-reset page.

use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/rpc")]
pub async fn password_reset_open() -> Result<bool, AppError> {
    use crate::ssr::services::settings::{toggle, Toggle};
    toggle(&super::edge::state()?, Toggle::PasswordReset).await
}

#[server(prefix = "/rpc")]
pub async fn request_reset(username: String) -> Result<(), AppError> {
    let (state, client) = super::edge::client()?;
    crate::ssr::services::password_reset::initiate(&state, &username, &client.ip).await?;
    leptos_axum::redirect(&format!("/reset?step=code&username={}", super::encode_query(username.trim())));
    Ok(())
}

/// A right code leaves the reset token in a short-lived HttpOnly cookie for the last step.
#[server(prefix = "/rpc")]
pub async fn check_reset_code(username: String, reset_code: String) -> Result<(), AppError> {
    use crate::ssr::services::password_reset;
    let (state, client) = super::edge::client()?;
    let token = password_reset::verify_code(&state, &username, &reset_code, &client.ip).await?;
    super::edge::set_named(&state, crate::ssr::http::RESET_COOKIE, &token, password_reset::TOKEN_SECS);
    leptos_axum::redirect(&format!("/reset?step=password&username={}", super::encode_query(username.trim())));
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn finish_reset(
    username: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::ssr::http::{cookie, RESET_COOKIE};
    super::edge::new_passwords_match(&new_password, &confirm_password)?;
    let state = super::edge::state()?;
    let token = cookie(&super::edge::headers()?, RESET_COOKIE).unwrap_or_default();
    crate::ssr::services::password_reset::complete(&state, &username, &token, new_password).await?;
    super::edge::set_named(&state, RESET_COOKIE, "", 0);
    leptos_axum::redirect("/login?password_reset=1");
    Ok(())
}
