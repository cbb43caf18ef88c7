//! Server functions of signing in and out: setup, registration, the two sign-in steps.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user as pages show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
}

#[server(prefix = "/rpc")]
pub async fn whoami() -> Result<Option<MeView>, AppError> {
    use crate::ssr::services::identity::Gate;
    match super::edge::caller(Gate::AllowLocked).await {
        Ok((_, c)) => Ok(Some(MeView {
            id: c.user_id,
            username: c.username,
            display_name: c.display_name,
            is_admin: c.is_admin,
        })),
        Err(e) if e.is(crate::error::ErrorKind::Unauthenticated) => Ok(None),
        Err(e) => Err(e),
    }
}

#[server(prefix = "/rpc")]
pub async fn registration_open() -> Result<bool, AppError> {
    use crate::ssr::services::settings::{toggle, Toggle};
    toggle(&super::edge::state()?, Toggle::Registration).await
}

#[server(prefix = "/rpc")]
pub async fn set_up_instance(
    username: String,
    display_name: String,
    password: String,
    who_registers: Option<String>,
    password_reset: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr::services::settings::StartingPolicy;
    let (state, client) = super::edge::client()?;
    // Nothing chosen is the safe choice: only administrators create accounts, no reset.
    let open_registration = match who_registers.as_deref() {
        None | Some("admins") => false,
        Some("anyone") => true,
        Some(_) => {
            return Err(AppError::invalid(
                crate::error::ErrorKind::InvalidRequest,
                Some("who_registers"),
                "Choose who may create accounts.",
            ))
        }
    };
    let policy = StartingPolicy { open_registration, password_reset: password_reset.is_some() };
    let s = crate::ssr::services::accounts::set_up_instance(
        &state,
        &username,
        password,
        &display_name,
        policy,
        &client,
    )
    .await?;
    super::edge::start(&state, &s);
    leptos_axum::redirect("/");
    Ok(())
}

/// Password step. When a second factor is owed, the MFA-pending token goes into a short-lived
/// HttpOnly cookie and the browser moves to `/login/mfa`, with or without JavaScript.
#[server(prefix = "/rpc")]
pub async fn sign_in(
    username: String,
    password: String,
    remember: Option<String>,
    method: Option<String>,
    rd: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr::http::{cookie, TRUSTED_DEVICE_COOKIE};
    use crate::ssr::services::sign_in::{self, Family, SignInContext};
    let (state, client) = super::edge::client()?;
    let device = cookie(&super::edge::headers()?, TRUSTED_DEVICE_COOKIE);
    let ctx = SignInContext {
        family: Family::Users,
        remember: remember.is_some(),
        client: &client,
        trusted_device: device.as_deref(),
    };
    let outcome = if method.as_deref() == Some("ldap") {
        sign_in::with_directory(&state, &username, password, ctx).await?
    } else {
        sign_in::with_password(&state, &username, password, ctx).await?
    };
    super::edge::finish_sign_in(&state, outcome, rd.as_deref());
    Ok(())
}

/// Second step: a TOTP or backup code, and optionally "trust this device for 30 days"; then
/// back to `rd` (forward-auth's original URL) when it is one a browser may return to.
#[server(prefix = "/rpc")]
pub async fn verify_second_factor(
    code: String,
    trust: Option<String>,
    rd: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr::http::{cookie, MFA_COOKIE};
    use crate::ssr::services::sign_in::complete_second_step;
    let (state, client) = super::edge::client()?;
    let token = cookie(&super::edge::headers()?, MFA_COOKIE)
        .ok_or(AppError::from(crate::error::ErrorKind::InvalidToken))?;
    let codes = [crate::error::ErrorKind::WrongCode, crate::error::ErrorKind::MalformedCode];
    let step = complete_second_step(&state, &token, &code, false, trust.is_some(), &client)
        .await
        .map_err(|e| e.tie("code", &codes))?;
    leptos_axum::redirect(&super::edge::finish_second_step(&state, &step, rd.as_deref()));
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn register_account(username: String, password: String) -> Result<(), AppError> {
    let (state, client) = super::edge::client()?;
    crate::ssr::services::accounts::register(&state, &username, password, &client.ip).await?;
    // The sign-in page then has the new name filled in.
    leptos_axum::redirect(&format!("/login?registered=1&username={}", super::encode_query(username.trim())));
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ssr::services::identity::Gate;
    if let Ok((state, caller)) = super::edge::caller(Gate::AllowLocked).await {
        crate::ssr::services::sessions::end_session(&state, &caller).await?;
    }
    super::edge::end(&super::edge::state()?);
    leptos_axum::redirect("/login?signed_out=1");
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn ldap_sign_in_open() -> Result<bool, AppError> {
    crate::ssr::services::ldap::is_enabled(&super::edge::state()?).await
}

/// Whether the sign-in page offers passkeys (this instance's public URL is a domain name).
#[server(prefix = "/rpc")]
pub async fn passkey_sign_in_open() -> Result<bool, AppError> {
    Ok(crate::ssr::services::passkeys::available(&super::edge::state()?))
}

/// Whether the sign-in page offers single sign-on.
#[server(prefix = "/rpc")]
pub async fn sso_open() -> Result<bool, AppError> {
    Ok(crate::ssr::services::oidc::config(&super::edge::state()?).await?.is_some())
}
