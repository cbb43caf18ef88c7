//! Sign-in through an LDAP directory (OpenLDAP, Active Directory).
//!
//! The flow is the usual search-then-bind: bind as the configured service account, find
//! exactly one entry whose `user_attribute` equals the typed name, then bind as that entry
//! with the typed password. The directory decides; Portcullis keeps a local account linked to
//! the entry's DN (created at the first sign-in, display name refreshed at each) so sessions,
//! two-factor, the screen lock and admin roles work as for everyone else.
//!
//! Decisions: an empty password is refused before anything is sent (an LDAP bind with an
//! empty password is an anonymous bind and "succeeds"); a directory account never takes over a
//! local account of the same name (`403 account_conflict`); directory accounts are created
//! whatever the registration setting says (the directory is the gate) but never while the
//! instance still needs its first admin; a directory that does not answer is `503`, not a
//! wrong password; the bind password is sealed with the instance key and never returned.
use super::identity::{AdminUser, ClientMeta};
use crate::domain::{DisplayName, LoginPassword, Username};
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{
    self,
    users::{Admission, NewUser, UserRow},
};
use crate::ssr::keys::new_id;
use crate::ssr::AppState;
use ldap3::{ldap_escape, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use serde::{Deserialize, Serialize};
use std::time::Duration;

const CONFIG_KEY: &str = "ldap_config";
const SEAL_CONTEXT: &str = "ldap-bind-password";
/// How long one directory conversation may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(8);

/// The directory settings. `bind_password` is the plain value in memory only (no `Debug`,
/// so it cannot reach a log line).
#[derive(Clone, Default)]
pub struct LdapConfig {
    pub enabled: bool,
    pub url: String,
    pub bind_dn: String,
    pub bind_password: String,
    pub search_base: String,
    pub user_attribute: String,
    pub display_name_attribute: String,
}

/// How the settings are stored: the bind password sealed.
#[derive(Serialize, Deserialize)]
struct Stored {
    enabled: bool,
    url: String,
    bind_dn: String,
    bind_password_sealed: String,
    search_base: String,
    user_attribute: String,
    display_name_attribute: String,
}

/// What an admin sends to change the settings (the REST body, camelCase);
/// `bind_password: None` keeps the stored one.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LdapConfigInput)]
pub struct ConfigInput {
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    pub url: String,
    pub bind_dn: String,
    pub bind_password: Option<String>,
    pub search_base: String,
    pub user_attribute: Option<String>,
    pub display_name_attribute: Option<String>,
}

fn enabled_by_default() -> bool {
    true
}

pub async fn config(state: &AppState) -> Result<Option<LdapConfig>, AppError> {
    let Some(raw) = db::settings::get(&state.pool, CONFIG_KEY).await? else { return Ok(None) };
    let stored: Stored = serde_json::from_str(&raw)
        .map_err(|e| AppError::internal("stored LDAP settings do not parse", &e))?;
    let password = state.keys.open(&stored.bind_password_sealed, SEAL_CONTEXT)?;
    Ok(Some(LdapConfig {
        enabled: stored.enabled,
        url: stored.url,
        bind_dn: stored.bind_dn,
        bind_password: String::from_utf8(password)
            .map_err(|e| AppError::internal("the sealed bind password is not UTF-8", &e))?,
        search_base: stored.search_base,
        user_attribute: stored.user_attribute,
        display_name_attribute: stored.display_name_attribute,
    }))
}

pub async fn is_enabled(state: &AppState) -> Result<bool, AppError> {
    Ok(config(state).await?.is_some_and(|c| c.enabled))
}

fn required(field: &'static str, value: &str, what: &str) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() || v.len() > 1024 {
        return Err(AppError::invalid(ErrorKind::InvalidRequest, Some(field), format!("Give the {what}.")));
    }
    Ok(v.to_owned())
}

fn check_url(raw: &str) -> Result<String, AppError> {
    let url = required("url", raw, "directory URL")?;
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("ldap://") || lower.starts_with("ldaps://")) || url.len() <= "ldaps://".len() {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("url"),
            "The URL starts with ldap:// or ldaps://.",
        ));
    }
    Ok(url)
}

fn attribute(field: &'static str, raw: Option<&str>, default: &str) -> Result<String, AppError> {
    let v = raw.map(str::trim).filter(|v| !v.is_empty()).unwrap_or(default);
    if !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        || !v.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some(field),
            "An attribute name is letters, digits and hyphens.",
        ));
    }
    Ok(v.to_owned())
}

/// Saves the directory settings (admin only). The bind password is kept when not given.
pub async fn save_config(admin: &AdminUser, state: &AppState, input: ConfigInput) -> Result<(), AppError> {
    // Hands out a way in (a key, a directory, a provider, a role): the admin must be at the
    // keyboard, not only their cookie.
    admin.caller().require_recent_authentication(state.now())?;
    let url = check_url(&input.url)?;
    let bind_dn = required("bindDn", &input.bind_dn, "service account DN")?;
    let search_base = required("searchBase", &input.search_base, "search base")?;
    let user_attribute = attribute("userAttribute", input.user_attribute.as_deref(), "uid")?;
    let display_name_attribute =
        attribute("displayNameAttribute", input.display_name_attribute.as_deref(), "cn")?;
    let bind_password = match input.bind_password.filter(|p| !p.is_empty()) {
        Some(p) => p,
        None => config(state).await?.map(|c| c.bind_password).ok_or_else(|| {
            AppError::invalid(
                ErrorKind::InvalidRequest,
                Some("bindPassword"),
                "Give the service account's password.",
            )
        })?,
    };
    let stored = Stored {
        enabled: input.enabled,
        url,
        bind_dn,
        bind_password_sealed: state.keys.seal(bind_password.as_bytes(), SEAL_CONTEXT)?,
        search_base,
        user_attribute,
        display_name_attribute,
    };
    let json = serde_json::to_string(&stored)
        .map_err(|e| AppError::internal("LDAP settings do not serialise", &e))?;
    let mut change = super::audit::Change::begin(state).await?;
    db::settings::set(change.tx(), CONFIG_KEY, &json).await?;
    change.record(config_changed(admin, "saved")).await?;
    change.commit().await?;
    tracing::info!(by = %admin.caller().user_id, enabled = input.enabled, "LDAP settings saved");
    Ok(())
}

pub async fn delete_config(admin: &AdminUser, state: &AppState) -> Result<(), AppError> {
    let mut change = super::audit::Change::begin(state).await?;
    db::settings::delete(change.tx(), CONFIG_KEY).await?;
    change.record(config_changed(admin, "removed")).await?;
    change.commit().await?;
    tracing::info!(by = %admin.caller().user_id, "LDAP settings removed");
    Ok(())
}

/// The settings' change as recorded: what was done, never a secret or the settings themselves.
fn config_changed(admin: &AdminUser, action: &'static str) -> super::audit::Event {
    super::audit::Event::new(crate::audit::EventType::LdapConfigChanged)
        .by_admin(admin)
        .target("setting", CONFIG_KEY)
        .detail("action", action)
}

/// Why a directory conversation failed.
#[derive(Debug)]
enum DirError {
    /// The directory refused a bind, or the entry is not there: the answer for the user.
    Refused(String),
    /// It did not answer, or answered nonsense.
    Unreachable(String),
}

impl From<ldap3::LdapError> for DirError {
    fn from(e: ldap3::LdapError) -> Self {
        match e {
            ldap3::LdapError::LdapResult { result } => {
                DirError::Refused(format!("the directory answered {} ({})", result.rc, result.text))
            }
            other => DirError::Unreachable(other.to_string()),
        }
    }
}

async fn connect(url: &str) -> Result<ldap3::Ldap, DirError> {
    let settings = LdapConnSettings::new().set_conn_timeout(TIMEOUT);
    let (conn, ldap) = LdapConnAsync::with_settings(settings, url).await?;
    ldap3::drive!(conn);
    Ok(ldap)
}

/// Binds as the service account and searches the base: the admin's "test connection".
async fn probe(url: &str, bind_dn: &str, bind_password: &str, search_base: &str) -> Result<(), DirError> {
    let mut ldap = connect(url).await?;
    ldap.simple_bind(bind_dn, bind_password).await?.success()?;
    ldap.search(search_base, Scope::Base, "(objectClass=*)", vec!["1.1"]).await?.success()?;
    let _ = ldap.unbind().await;
    Ok(())
}

/// Which bind password a connection test uses.
#[derive(Clone, Copy)]
pub enum TestPassword<'a> {
    /// The one given, which must not be empty (`POST /auth/ldap/test`).
    Given(&'a str),
    /// The one given, or the stored one when empty (the admin page's form).
    GivenOrStored(&'a str),
}

/// `POST /auth/ldap/test`: answers `Ok(Err(reason))` when the directory refuses or is
/// unreachable.
pub async fn test_connection(
    _admin: &AdminUser,
    state: &AppState,
    url: &str,
    bind_dn: &str,
    password: TestPassword<'_>,
    search_base: &str,
) -> Result<Result<(), String>, AppError> {
    let (bind_password, may_use_stored) = match password {
        TestPassword::Given(p) => (Some(p).filter(|p| !p.is_empty()), false),
        TestPassword::GivenOrStored(p) => (Some(p).filter(|p| !p.is_empty()), true),
    };
    if bind_password.is_none() && !may_use_stored {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("bindPassword"),
            "Give the service account's password.",
        ));
    }
    let url = check_url(url)?;
    let bind_dn = required("bindDn", bind_dn, "service account DN")?;
    let search_base = required("searchBase", search_base, "search base")?;
    let stored = match bind_password {
        Some(_) => None,
        None => config(state).await?.map(|c| c.bind_password),
    };
    let Some(bind_password) = bind_password.or(stored.as_deref()) else {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("bindPassword"),
            "Give the service account's password.",
        ));
    };
    match tokio::time::timeout(TIMEOUT, probe(&url, &bind_dn, bind_password, &search_base)).await {
        Err(_) => Ok(Err("The directory did not answer in time.".into())),
        Ok(Err(DirError::Refused(m) | DirError::Unreachable(m))) => {
            Ok(Err(format!("Could not use the directory: {m}")))
        }
        Ok(Ok(())) => Ok(Ok(())),
    }
}

/// The entry a name and password prove: its DN and display name.
async fn authenticate_entry(
    cfg: &LdapConfig,
    username: &str,
    password: &str,
) -> Result<(String, Option<String>), DirError> {
    let mut ldap = connect(&cfg.url).await?;
    ldap.simple_bind(&cfg.bind_dn, &cfg.bind_password)
        .await?
        .success()
        .map_err(|e| DirError::Unreachable(format!("the service account cannot bind: {e}")))?;
    let filter = format!("({}={})", cfg.user_attribute, ldap_escape(username));
    let (entries, _) = ldap
        .search(&cfg.search_base, Scope::Subtree, &filter, vec![cfg.display_name_attribute.as_str()])
        .await?
        .success()?;
    let [entry] = entries.as_slice() else {
        return Err(DirError::Refused(format!("{} entries match", entries.len())));
    };
    let entry = SearchEntry::construct(entry.clone());
    ldap.simple_bind(&entry.dn, password).await?.success()?;
    let _ = ldap.unbind().await;
    let display = entry.attrs.get(&cfg.display_name_attribute).and_then(|v| v.first()).cloned();
    Ok((entry.dn, display))
}

/// Proves who someone is with the directory and answers their linked local account. The same
/// limits as a password sign-in apply (per IP, and per directory username).
#[tracing::instrument(skip_all)]
pub async fn prove(
    state: &AppState,
    username: &str,
    password: &LoginPassword,
    client: &ClientMeta,
) -> Result<UserRow, AppError> {
    let cfg = config(state).await?.filter(|c| c.enabled).ok_or_else(|| {
        AppError::of(ErrorKind::LdapDisabled, "LDAP sign-in is not set up on this instance.")
    })?;
    if !db::users::any_exist(&state.pool).await? {
        return Err(AppError::of(
            ErrorKind::SetupRequired,
            "Set up the instance's first administrator before directory sign-in.",
        ));
    }
    let key = username.trim().to_ascii_lowercase();
    let attempt = super::passwords::reserve_sign_in(state, &format!("ldap:{key}"), &client.ip).await?;
    let typed = username.trim().to_owned();
    let outcome = tokio::time::timeout(TIMEOUT, authenticate_entry(&cfg, &typed, password.expose())).await;
    let (dn, display) = match outcome {
        Ok(Ok(found)) => found,
        Ok(Err(DirError::Refused(why))) => {
            tracing::info!(ip = %client.ip, reason = %why, "LDAP sign-in refused");
            return Err(AppError::from(ErrorKind::InvalidCredentials));
        }
        // A directory that is down judged nothing: the attempt is given back.
        Ok(Err(DirError::Unreachable(why))) => {
            tracing::error!(reason = %why, "the LDAP directory is unreachable");
            attempt.refund(state).await?;
            return Err(AppError::from(ErrorKind::Unavailable));
        }
        Err(_) => {
            tracing::error!("the LDAP directory did not answer in time");
            attempt.refund(state).await?;
            return Err(AppError::from(ErrorKind::Unavailable));
        }
    };
    attempt.refund(state).await?;
    local_account(state, &typed, &dn, display.as_deref()).await
}

/// The local account linked to a directory entry, created at its first sign-in.
async fn local_account(
    state: &AppState,
    typed: &str,
    dn: &str,
    display: Option<&str>,
) -> Result<UserRow, AppError> {
    let conflict = || {
        AppError::of(
            ErrorKind::AccountConflict,
            "A local account already uses this name; ask your administrator.",
        )
    };
    if let Some(user) = db::users::find_by_ldap_dn(&state.pool, dn).await? {
        if let Some(d) =
            display.and_then(|d| DisplayName::parse(d, &Username::parse(&user.username).ok()?).ok())
        {
            db::users::set_ldap_identity(&state.pool, &user.id, dn, d.as_ref()).await?;
        }
        return db::users::find_by_id(&state.pool, &user.id)
            .await?
            .ok_or_else(|| AppError::bug("a linked directory account vanished"));
    }
    let username = Username::parse(typed)?;
    let key = username.key();
    if db::users::find_by_key(&state.pool, &key).await?.is_some() {
        tracing::warn!(username = %username.as_ref(), "directory account refused: a local account has this name");
        return Err(conflict());
    }
    let display = DisplayName::parse(display.unwrap_or(""), &username)?;
    let id = new_id();
    let row = NewUser {
        id: &id,
        username: username.as_ref(),
        username_key: &key,
        display_name: display.as_ref(),
        password_hash: None,
        ldap_dn: Some(dn),
        oidc: None,
        now: state.now(),
    };
    let mut change = super::audit::Change::begin(state).await?;
    match db::users::insert(change.tx(), &row, Admission::AdminIfFirst).await {
        Ok(admin) => {
            let event = super::audit::registered(&id, username.as_ref(), "ldap", admin.unwrap_or(false));
            change.record(event).await?;
            change.commit().await?;
        }
        Err(e) if db::is_unique_violation(&e) => return Err(conflict()),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(username = %username.as_ref(), "account created for a directory user");
    db::users::find_by_id(&state.pool, &id)
        .await?
        .ok_or_else(|| AppError::bug("a directory account just created is missing"))
}
