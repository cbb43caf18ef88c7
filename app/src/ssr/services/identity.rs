//! Who is calling and who signed in: the leaf every service shares. Only the authentication
//! core (`auth`) builds a [`Caller`], and only [`Caller::require_admin`] an [`AdminUser`].
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::users::UserRow;

/// A user as the services hand it around (no secrets).
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub is_oidc: bool,
    pub has_password: bool,
    pub totp_enabled: bool,
}

impl From<UserRow> for Account {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            is_admin: u.is_admin,
            is_oidc: u.is_oidc,
            has_password: u.password_hash.is_some(),
            totp_enabled: u.totp_enabled,
        }
    }
}

/// Permissions every signed-in user holds; admins hold [`ALL_PERMISSIONS`].
pub const USER_PERMISSIONS: &[&str] = &["connections.create"];
pub const ALL_PERMISSIONS: &[&str] =
    &["settings.manage", "users.manage", "sessions.view_any", "api_keys.manage", "connections.create"];

/// Whether a route can be used while the account's screen lock is engaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Almost every route: a locked client is refused with `403 account_locked`.
    Unlocked,
    /// Refused while locked, as [`Gate::Unlocked`], but not counted as activity for the idle
    /// lock: forward-auth requests that are not page loads (an app's polling, its assets, its
    /// WebSocket), so a terminal left open in a tab still locks when nobody touches it.
    UnlockedQuiet,
    /// `GET /security`, unlock and the logout routes.
    AllowLocked,
}

/// Who is calling, as proven by a live session.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub is_oidc: bool,
    pub session_id: String,
    pub issued_at: i64,
    /// The session is screen-locked (only [`Gate::AllowLocked`] routes see such a caller).
    pub locked: bool,
    /// Set when the caller authenticated with an API key rather than a session; `session_id`
    /// is then empty.
    pub api_key_id: Option<String>,
    /// When the session's owner last proved who they are (sign-in or password re-entry).
    pub authenticated_at: i64,
    /// The secret the session's token carries (none for API keys), and the vault key sealed
    /// with it when the vault is open for this session.
    pub vault_secret: Option<crate::ssr::keys::TokenSecret>,
    pub vault_key_sealed: Option<String>,
    /// When the session last proved a second factor (the code step at sign-in, or step-up);
    /// `None` for one factor only and for API keys. Forward-auth's `two_factor` rules need it.
    pub second_factor_at: Option<i64>,
}

/// How long a sign-in or a re-entered password counts as recent for factor changes.
pub const RECENT_AUTHENTICATION_SECS: i64 = 10 * 60;

impl Caller {
    pub fn permissions(&self) -> &'static [&'static str] {
        if self.is_admin {
            ALL_PERMISSIONS
        } else {
            USER_PERMISSIONS
        }
    }

    /// The caller's session, for what is bound to one (WebSocket tickets, terminal grants,
    /// unlock, logout). An API key has none.
    pub fn session(&self) -> Result<&str, AppError> {
        match self.api_key_id {
            None => Ok(&self.session_id),
            Some(_) => Err(AppError::of(
                ErrorKind::SessionRequired,
                "This needs a signed-in session; an API key cannot do it.",
            )),
        }
    }

    /// Where a re-entered password comes from, for its attempt limit: this session (or key).
    pub fn reauth_source(&self) -> String {
        match &self.api_key_id {
            Some(k) => format!("api-key {k}"),
            None => format!("session {}", self.session_id),
        }
    }

    /// Factor changes (turning on two-factor, new backup codes, the first passcode, SSO links,
    /// resetting someone's two-factor) need the owner at the keyboard: a sign-in or the
    /// password typed again within 10 minutes, else `403 reauthentication_required`. A stolen
    /// cookie alone cannot add a factor that would then lock the owner out.
    pub fn require_recent_authentication(&self, now: i64) -> Result<(), AppError> {
        self.session()?;
        if now - self.authenticated_at > RECENT_AUTHENTICATION_SECS {
            return Err(AppError::of(
                ErrorKind::ReauthenticationRequired,
                "Enter your password again to change how you sign in.",
            ));
        }
        Ok(())
    }

    /// The only way to obtain an [`AdminUser`]: admin-only services cannot be called without it.
    pub fn require_admin(self) -> Result<AdminUser, AppError> {
        if self.is_admin {
            Ok(AdminUser(self))
        } else {
            Err(AppError::of(ErrorKind::Forbidden, "Only an administrator can do this."))
        }
    }
}

/// A caller proven to be an admin.
#[derive(Debug, Clone)]
pub struct AdminUser(Caller);

impl AdminUser {
    pub fn caller(&self) -> &Caller {
        &self.0
    }
}

/// Where a request came from, as recorded on its session.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: String,
    pub user_agent: String,
}

impl ClientMeta {
    /// `(device_type, device_info)` read from the User-Agent: `desktop`, `mobile`, `tablet` or `api`.
    pub fn device(&self) -> (String, String) {
        let ua = self.user_agent.trim();
        if ua.is_empty() {
            return ("api".into(), "Unknown client".into());
        }
        match woothee::parser::Parser::new().parse(ua) {
            Some(r) if r.category != "UNKNOWN" && r.name != "UNKNOWN" => {
                let kind = match r.category {
                    "smartphone" | "mobilephone" => {
                        if ua.contains("iPad") || (ua.contains("Android") && !ua.contains("Mobile")) {
                            "tablet"
                        } else {
                            "mobile"
                        }
                    }
                    "pc" => "desktop",
                    // A script or a library (`curl/8.5.0`): its own words say more than the
                    // parser's ("HTTP Library").
                    _ => return ("api".into(), ua.chars().take(120).collect()),
                };
                let version = r.version.split('.').next().unwrap_or("");
                let name = if version.is_empty() || version == "UNKNOWN" {
                    r.name.to_string()
                } else {
                    format!("{} {version}", r.name)
                };
                let info = if r.os == "UNKNOWN" { name } else { format!("{name} on {}", r.os) };
                (kind.into(), info)
            }
            _ => ("api".into(), ua.chars().take(120).collect()),
        }
    }
}

/// A new session and the token that proves it.
/// No `Debug`: the token must not reach a log line.
#[derive(Clone)]
pub struct SignedIn {
    pub token: String,
    /// The secret `token` carries: what is sealed for this session opens with it.
    pub vault_secret: crate::ssr::keys::TokenSecret,
    pub session_id: String,
    pub expires_at: i64,
    /// Seconds the cookie should live.
    pub max_age: i64,
    pub account: Account,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(ua: &str) -> (String, String) {
        ClientMeta { ip: "127.0.0.1".into(), user_agent: ua.into() }.device()
    }

    #[test]
    fn the_device_is_read_from_the_user_agent() {
        let (kind, info) = device("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36");
        assert_eq!(kind, "desktop");
        assert!(info.starts_with("Chrome 120"), "{info}");
        assert!(info.contains("Linux"), "{info}");
        let (kind, _) = device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1");
        assert_eq!(kind, "mobile");
        assert_eq!(device("curl/8.5.0"), ("api".to_owned(), "curl/8.5.0".to_owned()));
        assert_eq!(device("").0, "api");
    }
}
