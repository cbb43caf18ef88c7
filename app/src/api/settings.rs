//! Server functions of the instance settings (admin page).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceView {
    pub registration: bool,
    pub password_login: bool,
    pub password_reset: bool,
    pub timeout_hours: i64,
    pub log_level: String,
    pub guacamole_enabled: bool,
    pub guacamole_url: String,
}

#[server(prefix = "/rpc")]
pub async fn instance_settings() -> Result<InstanceView, AppError> {
    use crate::ssr::services::settings;
    let (state, _admin) = super::edge::admin().await?;
    let s = settings::sign_in_settings(&state).await?;
    let g = settings::guacamole(&state).await?;
    Ok(InstanceView {
        registration: s.registration,
        password_login: s.password_login,
        password_reset: s.password_reset,
        timeout_hours: s.timeout_hours,
        log_level: settings::log_level(&state).await?,
        guacamole_enabled: g.enabled,
        guacamole_url: g.url,
    })
}

#[server(prefix = "/rpc")]
pub async fn save_sign_in_settings(
    registration: Option<String>,
    password_login: Option<String>,
    password_reset: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr::services::settings;
    let (state, admin) = super::edge::admin().await?;
    let on = |v: Option<String>| v.is_some();
    settings::save_sign_in_switches(&admin, &state, on(registration), on(password_login), on(password_reset))
        .await
}

/// How long a session lasts, in whole hours (1–720).
#[server(prefix = "/rpc")]
pub async fn save_session_timeout(timeout_hours: String) -> Result<(), AppError> {
    use crate::ssr::services::settings;
    let (state, admin) = super::edge::admin().await?;
    let timeout_hours = timeout_hours.trim().parse().map_err(|_| {
        AppError::invalid(
            crate::error::ErrorKind::InvalidRequest,
            Some("timeoutHours"),
            "Give the timeout as a whole number of hours.",
        )
    })?;
    settings::set_session_timeout_hours(&admin, &state, timeout_hours).await
}

#[server(prefix = "/rpc")]
pub async fn save_log_level(level: String) -> Result<(), AppError> {
    use crate::ssr::services::settings;
    let (state, admin) = super::edge::admin().await?;
    settings::set_log_level(&admin, &state, &level).await.map(|_| ())
}

#[server(prefix = "/rpc")]
pub async fn save_guacamole(enabled: Option<String>, url: String) -> Result<(), AppError> {
    use crate::ssr::services::settings;
    let (state, admin) = super::edge::admin().await?;
    settings::set_guacamole(&admin, &state, Some(enabled.is_some()), Some(&url)).await.map(|_| ())
}
