//! Instance settings: reading is open, changing takes an [`AdminUser`].
use super::audit::{self, Event};
use super::identity::AdminUser;
use crate::audit::EventType;
use crate::error::{AppError, ErrorKind};
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

/// Who may create accounts and whether forgotten passwords can be reset, chosen at set-up.
#[derive(Debug, Clone, Copy)]
pub struct StartingPolicy {
    /// Anyone may register (`false`: only administrators create accounts).
    pub open_registration: bool,
    pub password_reset: bool,
}

impl Default for StartingPolicy {
    /// The documents' instance: registration and reset on.
    fn default() -> Self {
        Self { open_registration: true, password_reset: true }
    }
}

/// Writes the set-up's choices inside its transaction (the set-up's own event records them).
pub async fn apply_at_setup(tx: &mut db::Tx, policy: StartingPolicy) -> Result<(), AppError> {
    let word = |on: bool| if on { "true" } else { "false" };
    db::settings::set(&mut *tx, Toggle::Registration.key(), word(policy.open_registration)).await?;
    db::settings::set(&mut *tx, Toggle::PasswordReset.key(), word(policy.password_reset)).await?;
    Ok(())
}

pub const SESSION_TIMEOUT_KEY: &str = "session_timeout_hours";
pub const DEFAULT_SESSION_TIMEOUT_HOURS: i64 = 24;

pub async fn toggle(state: &AppState, t: Toggle) -> Result<bool, AppError> {
    Ok(db::settings::get(&state.pool, t.key()).await?.is_none_or(|v| v == "true"))
}

pub async fn set_toggle(admin: &AdminUser, state: &AppState, t: Toggle, on: bool) -> Result<(), AppError> {
    change(admin, state, t.key(), if on { "true" } else { "false" }, Some("true")).await
}

/// Saves one setting and records `setting_changed` with its old and new value, together. A
/// save that changes nothing records nothing.
async fn change(
    admin: &AdminUser,
    state: &AppState,
    key: &'static str,
    value: &str,
    default: Option<&str>,
) -> Result<(), AppError> {
    let mut change = audit::Change::begin(state).await?;
    let old = db::settings::get(change.tx(), key).await?;
    if old.as_deref().or(default) == Some(value) {
        return Ok(());
    }
    db::settings::set(change.tx(), key, value).await?;
    change
        .record(
            Event::new(EventType::SettingChanged)
                .by_admin(admin)
                .target("setting", key)
                .detail("setting", key)
                .detail("old", old.as_deref().or(default))
                .detail("new", value),
        )
        .await?;
    change.commit().await
}

pub async fn session_timeout_hours(state: &AppState) -> Result<i64, AppError> {
    Ok(db::settings::get(&state.pool, SESSION_TIMEOUT_KEY)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SESSION_TIMEOUT_HOURS))
}

/// 1–720 hours; applies to sessions started from now on.
pub async fn set_session_timeout_hours(
    admin: &AdminUser,
    state: &AppState,
    hours: i64,
) -> Result<(), AppError> {
    if !(1..=720).contains(&hours) {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("timeoutHours"),
            "The session timeout is 1 to 720 hours.",
        ));
    }
    let default = DEFAULT_SESSION_TIMEOUT_HOURS.to_string();
    change(admin, state, SESSION_TIMEOUT_KEY, &hours.to_string(), Some(&default)).await
}

/// 1–3650 days; events older than that go at the next pruning.
///
/// Shortening it erases history at the next pruning, so it takes an admin at the keyboard: a
/// session (not an API key) that signed in or re-entered the password within 10 minutes.
pub async fn set_audit_retention_days(
    admin: &AdminUser,
    state: &AppState,
    days: i64,
) -> Result<(), AppError> {
    admin.caller().require_recent_authentication(state.now())?;
    if !(1..=3650).contains(&days) {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("days"),
            "Audit events are kept 1 to 3650 days.",
        ));
    }
    let default = audit::DEFAULT_RETENTION_DAYS.to_string();
    change(admin, state, audit::RETENTION_KEY, &days.to_string(), Some(&default)).await
}

/// The levels `PATCH /users/log-level` accepts.
pub const LOG_LEVELS: [&str; 4] = ["debug", "info", "warn", "error"];
const LOG_LEVEL_KEY: &str = "log_level";

/// The current log level: what an admin set last, else the configured one.
pub async fn log_level(state: &AppState) -> Result<String, AppError> {
    Ok(db::settings::get(&state.pool, LOG_LEVEL_KEY)
        .await?
        .unwrap_or_else(|| state.config.default_log_level.clone()))
}

/// Changes the log level at once on this node, within [`FOLLOW_EVERY`] on the others
/// ([`follow_shared_settings`]), and keeps it across restarts.
pub async fn set_log_level(admin: &AdminUser, state: &AppState, level: &str) -> Result<String, AppError> {
    let level = level.trim().to_ascii_lowercase();
    if !LOG_LEVELS.contains(&level.as_str()) {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("level"),
            "The level is one of debug, info, warn, error.",
        ));
    }
    apply_log_level(state, &level)?;
    change(admin, state, LOG_LEVEL_KEY, &level, Some(&state.config.default_log_level)).await?;
    tracing::warn!(level = %level, by = %admin.caller().user_id, "log level changed");
    Ok(level)
}

fn apply_log_level(state: &AppState, level: &str) -> Result<(), AppError> {
    if let Some(control) = &state.log_control {
        control.set_level(level).map_err(|e| AppError::bug(&format!("log level change failed: {e}")))?;
    }
    Ok(())
}

/// At start: an admin's earlier choice wins over the configured level.
pub async fn restore_log_level(state: &AppState) -> Result<(), AppError> {
    if let Some(level) = db::settings::get(&state.pool, LOG_LEVEL_KEY).await? {
        apply_log_level(state, &level)?;
    }
    Ok(())
}

/// How often a node looks for settings another node changed.
pub const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs for the life of the node: what a node applies in its own process (today the log
/// level; every other setting is read from the database at each use) follows what any node
/// saved, within `every`.
pub async fn follow_shared_settings(state: AppState, every: std::time::Duration) {
    let mut applied = log_level(&state).await.ok();
    loop {
        tokio::time::sleep(every).await;
        match log_level(&state).await {
            Ok(level) if applied.as_deref() != Some(level.as_str()) => {
                if apply_log_level(&state, &level).is_ok() {
                    tracing::info!(level = %level, "log level changed on another node");
                    applied = Some(level);
                }
            }
            Ok(_) => {}
            // The database is away: keep what is applied and look again.
            Err(_) => {}
        }
    }
}

/// `GET /users/db-health`: `503 unavailable` when the database does not answer.
pub async fn check_database(_admin: &AdminUser, state: &AppState) -> Result<(), AppError> {
    if db::ping(&state.pool).await {
        Ok(())
    } else {
        Err(ErrorKind::Unavailable.into())
    }
}

/// `GET /readyz`: the database answers and every migration of this build is applied; else
/// `503 unavailable` (the reason goes to the log, not to the unauthenticated caller).
pub async fn check_ready(state: &AppState) -> Result<(), AppError> {
    db::readiness(&state.pool).await.map_err(|reason| {
        tracing::warn!(%reason, "not ready");
        AppError::of(ErrorKind::Unavailable, "The database is not ready.")
    })
}

/// Where the terminal platform's Guacamole daemon (RDP/VNC proxy) is. Portcullis keeps the
/// setting for the platform to read; it does not run guacd itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guacamole {
    pub enabled: bool,
    pub url: String,
}

const GUAC_ENABLED_KEY: &str = "guacamole_enabled";
const GUAC_URL_KEY: &str = "guacamole_url";
pub const DEFAULT_GUACD: &str = "guacd:4822";

pub async fn guacamole(state: &AppState) -> Result<Guacamole, AppError> {
    Ok(Guacamole {
        enabled: db::settings::get(&state.pool, GUAC_ENABLED_KEY).await?.is_none_or(|v| v == "true"),
        url: db::settings::get(&state.pool, GUAC_URL_KEY).await?.unwrap_or_else(|| DEFAULT_GUACD.into()),
    })
}

/// Changes either or both; `url` must be `host:port`.
pub async fn set_guacamole(
    admin: &AdminUser,
    state: &AppState,
    enabled: Option<bool>,
    url: Option<&str>,
) -> Result<Guacamole, AppError> {
    if enabled.is_none() && url.is_none() {
        return Err(AppError::invalid(ErrorKind::InvalidRequest, None, "Give enabled, url or both."));
    }
    let url = url.map(parse_host_port).transpose()?;
    if let Some(url) = &url {
        change(admin, state, GUAC_URL_KEY, url, Some(DEFAULT_GUACD)).await?;
    }
    if let Some(on) = enabled {
        change(admin, state, GUAC_ENABLED_KEY, if on { "true" } else { "false" }, Some("true")).await?;
    }
    tracing::info!(by = %admin.caller().user_id, "Guacamole settings changed");
    guacamole(state).await
}

/// `host:port`: a DNS name, IPv4 address or `[IPv6]`, and a port 1–65535.
fn parse_host_port(raw: &str) -> Result<String, AppError> {
    let bad = || {
        AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("url"),
            "Give the address as host:port, for example guacd:4822.",
        )
    };
    let raw = raw.trim();
    let (host, port) = raw.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    if port == 0 || !host_ok {
        return Err(bad());
    }
    Ok(format!("{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::parse_host_port;

    #[test]
    fn guacd_addresses_are_host_and_port() {
        for ok in ["guacd:4822", "10.0.0.5:4822", "[::1]:4822", "guacd.internal.example:1"] {
            assert_eq!(parse_host_port(ok).unwrap(), ok);
        }
        for bad in [
            "guacd",
            "guacd:0",
            "guacd:65536",
            ":4822",
            "gu acd:4822",
            "http://guacd:4822",
            "[nope]:4822",
            "-x:1",
        ] {
            assert!(parse_host_port(bad).is_err(), "{bad}");
        }
    }
}

/// The sign-in settings the admin page saves together.
#[derive(Debug, Clone, Copy)]
pub struct SignInSettings {
    pub registration: bool,
    pub password_login: bool,
    pub password_reset: bool,
    pub timeout_hours: i64,
}

pub async fn sign_in_settings(state: &AppState) -> Result<SignInSettings, AppError> {
    Ok(SignInSettings {
        registration: toggle(state, Toggle::Registration).await?,
        password_login: toggle(state, Toggle::PasswordLogin).await?,
        password_reset: toggle(state, Toggle::PasswordReset).await?,
        timeout_hours: session_timeout_hours(state).await?,
    })
}

/// Saves the three sign-in switches (the admin area's "Sign-in methods").
pub async fn save_sign_in_switches(
    admin: &AdminUser,
    state: &AppState,
    registration: bool,
    password_login: bool,
    password_reset: bool,
) -> Result<(), AppError> {
    set_toggle(admin, state, Toggle::Registration, registration).await?;
    set_toggle(admin, state, Toggle::PasswordLogin, password_login).await?;
    set_toggle(admin, state, Toggle::PasswordReset, password_reset).await
}
