//! The one public error type: every failure a caller can branch on, and the one table mapping
//! it to an HTTP status and a wire code.
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Every failure a caller can tell apart. [`ErrorKind::wire`] is the only place a status or a
/// wire code is chosen; two kinds may share a wire code where the documents give one code two
/// statuses (a malformed code is `400 invalid_code`, a wrong one `401 invalid_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    // Input
    InvalidRequest,
    InvalidUsername,
    InvalidPassword,
    WeakPassword,
    InvalidDisplayName,
    InvalidPasscodeFormat,
    /// A second-factor code that is not a code at all (wrong length or characters).
    MalformedCode,
    InvalidContainerId,
    // Who is calling
    Unauthenticated,
    /// An MFA-pending token that is expired, used or not one.
    InvalidToken,
    InvalidCredentials,
    /// A wrong current password given to confirm a change.
    WrongPassword,
    AccountLocked,
    Forbidden,
    /// A state-changing request sent by a page of another site.
    CrossSiteRequest,
    SessionRequired,
    ReauthenticationRequired,
    NotFound,
    // Accounts and instance
    AlreadySetUp,
    SetupRequired,
    RegistrationDisabled,
    PasswordLoginDisabled,
    PasswordResetDisabled,
    UsernameTaken,
    UserNotFound,
    LastAdmin,
    AlreadyAdmin,
    NotAdmin,
    CannotDemoteSelf,
    CannotDeleteSelf,
    OidcOnly,
    SessionNotFound,
    ApiKeyNotFound,
    // Password reset
    WrongResetCode,
    InvalidResetToken,
    // Vault
    ItemNotFound,
    DataLocked,
    // Two-factor
    /// A well-formed second-factor code that is not right (`remainingAttempts` may follow).
    WrongCode,
    TotpAlreadyEnabled,
    TotpNotEnabled,
    TotpSetupRequired,
    MfaRequired,
    // Screen lock and terminals
    IncorrectPasscode,
    NoPasscode,
    TerminalMfaLocked,
    /// Forward-auth: the rule asks for a fresh second factor (a `two_factor` or `step_up` path).
    StepUpRequired,
    // Passkeys
    /// The authenticator's answer did not verify (or its ceremony is unknown or over).
    PasskeyFailed,
    /// The user has the most passkeys allowed.
    TooManyPasskeys,
    /// This authenticator's passkey is registered already.
    PasskeyExists,
    PasskeyNotFound,
    /// The public URL is not one passkeys can be bound to (an IP address).
    PasskeysUnavailable,
    // Directory and single sign-on
    IncompleteConfig,
    LdapDisabled,
    AccountConflict,
    LdapTestFailed,
    OidcDisabled,
    SsoNotAllowed,
    SsoFailed,
    AlreadyLinked,
    NotDual,
    NotOidcOnly,
    NotPasswordAccount,
    WouldDropAdmin,
    // Limits and the server itself
    RateLimited,
    TooManyAttempts,
    Unavailable,
    Internal,
}

impl ErrorKind {
    /// The one status table: HTTP status and the snake_case code clients branch on.
    pub const fn wire(self) -> (u16, &'static str) {
        use ErrorKind::*;
        match self {
            InvalidRequest => (400, "invalid_request"),
            InvalidUsername => (400, "invalid_username"),
            InvalidPassword => (400, "invalid_password"),
            WeakPassword => (400, "weak_password"),
            InvalidDisplayName => (400, "invalid_display_name"),
            InvalidPasscodeFormat => (400, "invalid_passcode_format"),
            MalformedCode => (400, "invalid_code"),
            InvalidContainerId => (400, "invalid_container_id"),
            Unauthenticated => (401, "unauthenticated"),
            InvalidToken => (401, "invalid_token"),
            InvalidCredentials => (401, "invalid_credentials"),
            WrongPassword => (401, "invalid_credentials"),
            AccountLocked => (403, "account_locked"),
            Forbidden => (403, "forbidden"),
            CrossSiteRequest => (403, "cross_site_request"),
            SessionRequired => (403, "session_required"),
            ReauthenticationRequired => (403, "reauthentication_required"),
            NotFound => (404, "not_found"),
            AlreadySetUp => (403, "already_set_up"),
            SetupRequired => (403, "setup_required"),
            RegistrationDisabled => (403, "registration_disabled"),
            PasswordLoginDisabled => (403, "password_login_disabled"),
            PasswordResetDisabled => (403, "password_reset_disabled"),
            UsernameTaken => (409, "username_taken"),
            UserNotFound => (404, "user_not_found"),
            LastAdmin => (403, "last_admin"),
            AlreadyAdmin => (400, "already_admin"),
            NotAdmin => (400, "not_admin"),
            CannotDemoteSelf => (400, "cannot_demote_self"),
            CannotDeleteSelf => (400, "cannot_delete_self"),
            OidcOnly => (403, "oidc_only"),
            SessionNotFound => (404, "session_not_found"),
            ApiKeyNotFound => (404, "api_key_not_found"),
            WrongResetCode => (400, "invalid_code"),
            InvalidResetToken => (400, "invalid_token"),
            ItemNotFound => (404, "item_not_found"),
            DataLocked => (423, "data_locked"),
            WrongCode => (401, "invalid_code"),
            TotpAlreadyEnabled => (400, "totp_already_enabled"),
            TotpNotEnabled => (400, "totp_not_enabled"),
            TotpSetupRequired => (400, "totp_setup_required"),
            MfaRequired => (400, "mfa_required"),
            IncorrectPasscode => (401, "incorrect_passcode"),
            NoPasscode => (404, "no_passcode"),
            TerminalMfaLocked => (403, "terminal_mfa_locked"),
            StepUpRequired => (403, "step_up_required"),
            PasskeyFailed => (400, "passkey_failed"),
            TooManyPasskeys => (409, "too_many_passkeys"),
            PasskeyExists => (409, "passkey_exists"),
            PasskeyNotFound => (404, "passkey_not_found"),
            PasskeysUnavailable => (400, "passkeys_unavailable"),
            IncompleteConfig => (400, "incomplete_config"),
            LdapDisabled => (403, "ldap_disabled"),
            AccountConflict => (403, "account_conflict"),
            LdapTestFailed => (400, "ldap_test_failed"),
            OidcDisabled => (404, "oidc_disabled"),
            SsoNotAllowed => (403, "sso_not_allowed"),
            SsoFailed => (400, "sso_failed"),
            AlreadyLinked => (400, "already_linked"),
            NotDual => (400, "not_dual"),
            NotOidcOnly => (400, "not_oidc_only"),
            NotPasswordAccount => (400, "not_password_account"),
            WouldDropAdmin => (400, "would_drop_admin"),
            RateLimited => (429, "rate_limited"),
            TooManyAttempts => (429, "too_many_attempts"),
            Unavailable => (503, "unavailable"),
            Internal => (500, "internal_error"),
        }
    }

    /// What people read when the failing code gave no sentence of its own.
    const fn default_message(self) -> &'static str {
        use ErrorKind::*;
        match self {
            Unauthenticated => "Sign in first.",
            InvalidToken => "This sign-in step has expired or was already used. Start again.",
            InvalidCredentials => "Invalid username or password.",
            WrongPassword => "That is not your current password.",
            AccountLocked => "The account is locked. Unlock it with your passcode.",
            Forbidden => "Only an administrator can do this.",
            SessionRequired => "This needs a signed-in session; an API key cannot do it.",
            NotFound => "No such API route.",
            UserNotFound => "No such user.",
            WrongCode => "That code is not right. Check your authenticator app and try again.",
            IncorrectPasscode => "Incorrect passcode.",
            NoPasscode => "No screen-lock passcode is set.",
            StepUpRequired => "Confirm with a code from your authenticator app first (the step-up page).",
            PasskeyFailed => "The passkey could not be checked. Try again.",
            TooManyPasskeys => "You have 10 passkeys already. Remove one to add another.",
            PasskeyExists => "This passkey is registered already.",
            PasskeyNotFound => "No such passkey.",
            PasskeysUnavailable => "Passkeys need this instance's public URL (PORTCULLIS_PUBLIC_URL) to be a domain name, such as https://auth.example.com or http://localhost:3000.",
            DataLocked => "Your encrypted data is locked. Unlock it with your password.",
            RateLimited | TooManyAttempts => "Too many attempts. Try again later.",
            Unavailable => "A service Portcullis depends on is not answering. Try again shortly.",
            Internal => "Something went wrong on the server.",
            _ => "The request was refused.",
        }
    }
}

/// Every error a route or server function can answer with.
///
/// It is WASM-safe so pages receive the same kind a REST client's `code` names. Internal
/// causes never travel in it: [`AppError::internal`] logs them once, with their chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    kind: ErrorKind,
    message: Option<Cow<'static, str>>,
    field: Option<String>,
    remaining_time: Option<u64>,
    remaining_attempts: Option<u32>,
    /// Other fields of the same form that were wrong too (field, sentence): a form hears about
    /// every wrong field at once. Pages only; the REST body names the first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    also: Vec<(String, String)>,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.message, self.remaining_time) {
            (Some(m), _) => f.write_str(m),
            (None, Some(t)) => write!(f, "Too many attempts. Try again in {t} seconds."),
            (None, None) => f.write_str(self.kind.default_message()),
        }
    }
}

impl std::error::Error for AppError {}

impl From<ErrorKind> for AppError {
    fn from(kind: ErrorKind) -> Self {
        Self {
            kind,
            message: None,
            field: None,
            remaining_time: None,
            remaining_attempts: None,
            also: Vec::new(),
        }
    }
}

impl AppError {
    /// `kind` with its own sentence.
    pub fn of(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self { message: Some(message.into()), ..kind.into() }
    }

    /// Bad input, tied to the form `field` when there is one.
    pub fn invalid(kind: ErrorKind, field: Option<&str>, message: impl Into<Cow<'static, str>>) -> Self {
        Self { field: field.map(Into::into), ..Self::of(kind, message) }
    }

    /// Malformed input of no more precise kind: `400 invalid_request`.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::of(ErrorKind::InvalidRequest, message)
    }

    /// A full bucket: `429` with the seconds until the next attempt counts.
    pub fn rate_limited(kind: ErrorKind, remaining_time: u64) -> Self {
        Self { remaining_time: Some(remaining_time), ..kind.into() }
    }

    /// Asks the client to come back after `secs` seconds (`Retry-After`, `remainingTime`).
    pub fn with_retry_after(self, secs: u64) -> Self {
        Self { remaining_time: Some(secs), ..self }
    }

    /// Ties the error to a form field with a sentence of its own.
    pub fn with_field(self, field: &str, message: impl Into<Cow<'static, str>>) -> Self {
        Self { field: Some(field.into()), message: Some(message.into()), ..self }
    }

    /// Ties an error of one of `kinds` that names no field to the form input `field` (the
    /// input the wrong secret was typed in), keeping its sentence.
    pub fn tie(self, field: &str, kinds: &[ErrorKind]) -> Self {
        if self.field.is_none() && kinds.contains(&self.kind) {
            Self { field: Some(field.into()), ..self }
        } else {
            self
        }
    }

    /// Every wrong field of a form as one error: the first answers (status, code, field), the
    /// others ride along for the page to mark too.
    pub fn all(errors: impl IntoIterator<Item = AppError>) -> Option<Self> {
        let mut errors = errors.into_iter();
        let mut first = errors.next()?;
        for e in errors {
            if let Some(f) = e.field.clone() {
                first.also.push((f, e.to_string()));
            }
        }
        Some(first)
    }

    /// This form field's sentence, when this error or one riding along is about it.
    pub fn about(&self, field: impl Fn(&str) -> bool) -> Option<String> {
        if self.field.as_deref().is_some_and(&field) {
            return Some(self.to_string());
        }
        self.also.iter().find(|(f, _)| field(f)).map(|(_, m)| m.clone())
    }

    /// A wrong secret with the tries left in its window.
    pub fn with_remaining_attempts(self, n: u32) -> Self {
        Self { remaining_attempts: Some(n), ..self }
    }

    /// Something that should not happen: logged here, once, with the whole chain of causes;
    /// the client sees only `500 internal_error`.
    pub fn internal(what: &str, cause: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(error = %chain, "{what}");
        ErrorKind::Internal.into()
    }

    /// An impossible state with no error value to show (a missing row the code just wrote, an
    /// unreadable stored value): logged once, `500 internal_error`.
    pub fn bug(what: &str) -> Self {
        tracing::error!("{what}");
        ErrorKind::Internal.into()
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind == kind
    }

    /// The HTTP status for this error, from [`ErrorKind::wire`].
    pub fn status(&self) -> u16 {
        self.kind.wire().0
    }

    /// The stable snake_case code clients branch on, from [`ErrorKind::wire`].
    pub fn code(&self) -> &'static str {
        self.kind.wire().1
    }

    /// The form field this error belongs to, if any.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// Seconds until a refused attempt would count again (only on `429`).
    pub fn remaining_time(&self) -> Option<u64> {
        self.remaining_time
    }

    /// Wrong tries left before the limit (only on some `401`s).
    pub fn remaining_attempts(&self) -> Option<u32> {
        self.remaining_attempts
    }

    /// The JSON body every error answers with: `{"error", "code"}` plus the extras API.md names.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.to_string(),
            code: self.code(),
            remaining_time: self.remaining_time,
            remaining_attempts: self.remaining_attempts,
            field: self.field.clone(),
        }
    }
}

/// The wire shape of an error.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub error: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<crate::domain::FieldError> for AppError {
    fn from(e: crate::domain::FieldError) -> Self {
        Self::invalid(e.kind, Some(e.field), e.message)
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) => Self::bad_request(m),
            E::Request(_) => ErrorKind::Unavailable.into(),
            _ => ErrorKind::Internal.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_wire_code_keeps_the_status_its_document_gives() {
        assert_eq!(AppError::from(ErrorKind::MalformedCode).status(), 400);
        assert_eq!(AppError::from(ErrorKind::WrongCode).status(), 401);
        assert_eq!(AppError::from(ErrorKind::WrongCode).code(), "invalid_code");
    }

    #[test]
    fn the_body_carries_the_extras_only_when_set() {
        let body = serde_json::to_value(AppError::rate_limited(ErrorKind::RateLimited, 42).body()).unwrap();
        assert_eq!(body["code"], "rate_limited");
        assert_eq!(body["remainingTime"], 42);
        assert!(body.get("remainingAttempts").is_none());
        assert_eq!(body["error"], "Too many attempts. Try again in 42 seconds.");
    }
}
