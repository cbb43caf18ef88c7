//! Instance settings: reading is open, changing takes an [`AdminUser`].
use super::auth::AdminUser;
use crate::error::AppError;
use crate::ssr::db;
use crate::ssr::AppState;

/// The on/off instance settings. All default to on.
#[derive(Debug, Clone, Copy)]
pub enum Toggle {
    Registration,
    PasswordLogin,
    PasswordReset,
}

impl Toggle {
    fn key(self) -> &'static str {
        match self {
            Self::Registration => "registration_allowed",
            Self::PasswordLogin => "password_login_allowed",
            Self::PasswordReset => "password_reset_allowed",
        }
    }
}

pub const SESSION_TIMEOUT_KEY: &str = "session_timeout_hours";
pub const DEFAULT_SESSION_TIMEOUT_HOURS: i64 = 24;

pub async fn toggle(state: &AppState, t: Toggle) -> Result<bool, AppError> {
    Ok(db::settings::get(&state.pool, t.key()).await?.map_or(true, |v| v == "true"))
}

pub async fn set_toggle(_admin: &AdminUser, state: &AppState, t: Toggle, on: bool) -> Result<(), AppError> {
    db::settings::set(&state.pool, t.key(), if on { "true" } else { "false" }).await?;
    tracing::info!(setting = t.key(), value = on, "instance setting changed");
    Ok(())
}

pub async fn session_timeout_hours(state: &AppState) -> Result<i64, AppError> {
    Ok(db::settings::get(&state.pool, SESSION_TIMEOUT_KEY)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SESSION_TIMEOUT_HOURS))
}

/// 1–720 hours; applies to sessions started from now on.
pub async fn set_session_timeout_hours(_admin: &AdminUser, state: &AppState, hours: i64) -> Result<(), AppError> {
    if !(1..=720).contains(&hours) {
        return Err(AppError::invalid("invalid_request", Some("timeoutHours"), "The session timeout is 1 to 720 hours."));
    }
    db::settings::set(&state.pool, SESSION_TIMEOUT_KEY, &hours.to_string()).await?;
    Ok(())
}
