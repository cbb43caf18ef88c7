//! The audit log's vocabulary, shared by the server (which records events) and the pages
//! (which describe them): the closed list of event types, outcomes and how an actor was
//! authenticated, and an event as the API answers it.
use serde::{Deserialize, Serialize};

macro_rules! event_types {
    ($($variant:ident => $wire:literal, $done:literal, $try:literal;)*) => {
        /// Every kind of event the audit log holds (snake_case on the wire).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum EventType {
            $($variant),*
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $wire),*
                }
            }

            /// What happened, as the middle of a sentence ("alice … from 10.0.0.5").
            pub const fn done(self) -> &'static str {
                match self {
                    $(EventType::$variant => $done),*
                }
            }

            /// What was tried, for failures ("alice failed to …").
            pub const fn attempt(self) -> &'static str {
                match self {
                    $(EventType::$variant => $try),*
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some(EventType::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    SetupCompleted => "setup_completed", "set up this instance", "set up this instance";
    Registered => "registered", "created an account", "create an account";
    SignIn => "sign_in", "signed in", "sign in";
    SecondStepRequired => "second_step_required", "passed the first factor", "pass the first factor";
    LimitReached => "limit_reached", "reached an attempt limit", "keep trying";
    SignOut => "sign_out", "signed out", "sign out";
    SessionRevoked => "session_revoked", "revoked a session", "revoke a session";
    SessionsRevokedAll => "sessions_revoked_all", "signed out other sessions", "sign out other sessions";
    Reauthenticated => "reauthenticated", "entered the password again", "enter the password again";
    ScreenLocked => "screen_locked", "locked the screen", "lock the screen";
    ScreenUnlocked => "screen_unlocked", "unlocked the screen", "unlock the screen";
    PasscodeSet => "passcode_set", "set a screen-lock passcode", "set a screen-lock passcode";
    PasscodeChanged => "passcode_changed", "changed the screen-lock passcode", "change the screen-lock passcode";
    PasscodeRemoved => "passcode_removed", "removed the screen-lock passcode", "remove the screen-lock passcode";
    AutoLockChanged => "auto_lock_changed", "changed the auto-lock time", "change the auto-lock time";
    SingleSessionChanged => "single_session_changed", "changed single-session mode", "change single-session mode";
    TwoFactorEnabled => "two_factor_enabled", "turned on two-factor", "turn on two-factor";
    TwoFactorDisabled => "two_factor_disabled", "turned off two-factor", "turn off two-factor";
    TwoFactorReset => "two_factor_reset", "reset two-factor", "reset two-factor";
    BackupCodesRegenerated => "backup_codes_regenerated", "made new backup codes", "make new backup codes";
    PasswordChanged => "password_changed", "changed the password", "change the password";
    PasswordResetRequested => "password_reset_requested", "asked for a password reset", "ask for a password reset";
    PasswordResetCodeVerified => "password_reset_code_verified", "entered a reset code", "enter a reset code";
    PasswordResetCompleted => "password_reset_completed", "reset the password", "reset the password";
    VaultUnlocked => "vault_unlocked", "unlocked the vault", "unlock the vault";
    TerminalLocked => "terminal_locked", "locked a terminal", "lock a terminal";
    TerminalUnlocked => "terminal_unlocked", "unlocked a terminal", "unlock a terminal";
    TerminalGranted => "terminal_granted", "opened a locked terminal", "open a locked terminal";
    WsTicketIssued => "ws_ticket_issued", "was given a terminal ticket", "get a terminal ticket";
    WsTicketRedeemed => "ws_ticket_redeemed", "had a terminal ticket redeemed", "redeem a terminal ticket";
    RoleChanged => "role_changed", "changed a role", "change a role";
    UserDeleted => "user_deleted", "deleted an account", "delete an account";
    AccountDeleted => "account_deleted", "deleted their own account", "delete their own account";
    SettingChanged => "setting_changed", "changed a setting", "change a setting";
    ApiKeyCreated => "api_key_created", "created an API key", "create an API key";
    ApiKeyDeleted => "api_key_deleted", "deleted an API key", "delete an API key";
    ApiKeyUsed => "api_key_used", "used an API key", "use an API key";
    LdapConfigChanged => "ldap_config_changed", "changed the directory settings", "change the directory settings";
    OidcConfigChanged => "oidc_config_changed", "changed the single sign-on settings", "change the single sign-on settings";
    SsoLinked => "sso_linked", "linked single sign-on", "link single sign-on";
    SsoUnlinked => "sso_unlinked", "unlinked single sign-on", "unlink single sign-on";
    StepUp => "step_up", "confirmed a second factor for forward-auth", "confirm a second factor for forward-auth";
    PasskeyAdded => "passkey_added", "added a passkey", "add a passkey";
    PasskeyRenamed => "passkey_renamed", "renamed a passkey", "rename a passkey";
    PasskeyRemoved => "passkey_removed", "removed a passkey", "remove a passkey";
    AccessRulesChanged => "access_rules_changed", "changed the forward-auth access rules", "change the forward-auth access rules";
}

/// How an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Refused with an error code (wrong password, wrong code, not allowed…).
    Failure,
    /// Refused by an attempt limit.
    Refused,
}

impl Outcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            "refused" => Some(Outcome::Refused),
            _ => None,
        }
    }
}

/// How the actor proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Session,
    ApiKey,
    Gateway,
    /// Not authenticated (a sign-in, a reset request).
    None,
}

impl Via {
    pub const fn as_str(self) -> &'static str {
        match self {
            Via::Session => "session",
            Via::ApiKey => "api_key",
            Via::Gateway => "gateway",
            Via::None => "none",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "session" => Via::Session,
            "api_key" => Via::ApiKey,
            "gateway" => Via::Gateway,
            _ => Via::None,
        }
    }
}

/// Who did it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Actor {
    pub id: Option<String>,
    pub username: Option<String>,
    pub via: Via,
}

/// What it was done to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Target {
    /// `user`, `session`, `api_key`, `terminal`, `setting`, `ticket`, `passcode`.
    pub kind: String,
    pub id: String,
}

/// The account an event is about (extension: the documents' shape has no such field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Subject {
    pub id: Option<String>,
    pub username: Option<String>,
}

/// One event as `GET /api/admin/audit` and `GET /api/users/activity` answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub outcome: Outcome,
    pub code: Option<String>,
    pub actor: Actor,
    pub ip: String,
    pub user_agent: String,
    pub target: Option<Target>,
    pub user: Option<Subject>,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub details: serde_json::Value,
}

impl AuditEvent {
    /// One line a person reads: "alice signed in with a password from 10.0.0.5".
    pub fn sentence(&self) -> String {
        let who = self
            .actor
            .username
            .as_deref()
            .or(self.user.as_ref().and_then(|u| u.username.as_deref()))
            .unwrap_or("Someone");
        let mut s = match self.outcome {
            _ if self.kind == EventType::LimitReached => format!("{who} {}", self.kind.done()),
            Outcome::Success => format!("{who} {}", self.kind.done()),
            Outcome::Failure => format!("{who} failed to {}", self.kind.attempt()),
            Outcome::Refused => {
                format!("{who} was stopped by an attempt limit trying to {}", self.kind.attempt())
            }
        };
        if let Some(method) = self.details.get("method").and_then(|m| m.as_str()) {
            s.push_str(match method {
                "password" => " with a password",
                "ldap" => " with the directory",
                "sso" => " with single sign-on",
                "totp" => " with an authenticator code",
                "backup_code" => " with a backup code",
                "passkey" => " with a passkey",
                "passcode" => " with the passcode",
                _ => "",
            });
        }
        if self.details.get("trusted_device").and_then(|t| t.as_bool()) == Some(true) {
            s.push_str(" (trusted device)");
        }
        if let Some(u) = self.user.as_ref().and_then(|u| u.username.as_deref()) {
            if self.actor.username.as_deref().is_some_and(|a| a != u) {
                s.push_str(&format!(" for {u}"));
            }
        }
        if !self.ip.is_empty() && self.ip != "unknown" {
            s.push_str(&format!(" from {}", self.ip));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_from_its_wire_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
            assert_eq!(serde_json::to_value(t).unwrap(), serde_json::json!(t.as_str()));
        }
        assert_eq!(EventType::parse("nope"), None);
    }

    #[test]
    fn a_sign_in_reads_as_a_sentence() {
        let e = AuditEvent {
            id: "1".into(),
            at: "2026-12-02T10:00:00Z".into(),
            kind: EventType::SignIn,
            outcome: Outcome::Success,
            code: None,
            actor: Actor { id: Some("u1".into()), username: Some("alice".into()), via: Via::None },
            ip: "10.0.0.5".into(),
            user_agent: String::new(),
            target: None,
            user: Some(Subject { id: Some("u1".into()), username: Some("alice".into()) }),
            details: serde_json::json!({"method": "password"}),
        };
        assert_eq!(e.sentence(), "alice signed in with a password from 10.0.0.5");
        let revoked = AuditEvent {
            kind: EventType::SessionRevoked,
            actor: Actor { id: Some("a".into()), username: Some("root".into()), via: Via::Session },
            details: serde_json::json!({}),
            ..e
        };
        assert_eq!(revoked.sentence(), "root revoked a session for alice from 10.0.0.5");
    }
}
