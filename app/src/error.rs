//! The one public error type: every failure a caller can branch on, and the one table mapping it to HTTP.
use serde::{Deserialize, Serialize};

/// Every error a route or server function can answer with.
///
/// It is WASM-safe so pages receive the same `code` a REST client sees. Internal
/// causes never travel in it: they are logged once where they happen and become
/// [`AppError::Internal`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// Bad input: `code` is `invalid_request` or a more precise one; `field` ties it to a form input.
    #[error("{message}")]
    Invalid { code: String, field: Option<String>, message: String },
    #[error("Sign in first.")]
    Unauthenticated,
    #[error("This sign-in step has expired or was already used. Start again.")]
    InvalidToken,
    #[error("Invalid username or password.")]
    InvalidCredentials,
    #[error("{message}")]
    WrongSecret { code: String, message: String, remaining_attempts: Option<u32> },
    #[error("The account is locked. Unlock it with your passcode.")]
    AccountLocked,
    #[error("{message}")]
    Forbidden { code: String, message: String },
    #[error("{message}")]
    NotFound { code: String, message: String },
    #[error("{message}")]
    Conflict { code: String, message: String },
    #[error("{message}")]
    Locked { code: String, message: String },
    #[error("Too many attempts. Try again in {remaining_time} seconds.")]
    RateLimited { code: String, remaining_time: u64 },
    #[error("A service Portcullis depends on is not answering. Try again shortly.")]
    Unavailable,
    #[error("Something went wrong on the server.")]
    Internal,
}

impl AppError {
    pub fn invalid(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        Self::Invalid { code: code.into(), field: field.map(Into::into), message: message.into() }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::invalid("invalid_request", None, message)
    }
    pub fn forbidden(code: &str, message: impl Into<String>) -> Self {
        Self::Forbidden { code: code.into(), message: message.into() }
    }
    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::NotFound { code: code.into(), message: message.into() }
    }
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::Conflict { code: code.into(), message: message.into() }
    }
    /// A wrong current password given to confirm a change: `401 invalid_credentials`.
    pub fn wrong_password() -> Self {
        Self::WrongSecret { code: "invalid_credentials".into(), message: "That is not your current password.".into(), remaining_attempts: None }
    }
    pub fn rate_limited(remaining_time: u64) -> Self {
        Self::RateLimited { code: "rate_limited".into(), remaining_time }
    }

    /// Ties a field error to the page's name for the field (pages use snake_case inputs where
    /// the REST body is camelCase). `to: None` makes it a form-level error.
    pub fn rename_field(self, from: &str, to: Option<&str>) -> Self {
        match self {
            Self::Invalid { code, field: Some(f), message } if f == from => Self::Invalid { code, field: to.map(Into::into), message },
            e => e,
        }
    }

    /// The HTTP status for this error: the one status table of the service.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::Unauthenticated | Self::InvalidToken | Self::InvalidCredentials | Self::WrongSecret { .. } => 401,
            Self::AccountLocked | Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } => 409,
            Self::Locked { .. } => 423,
            Self::RateLimited { .. } => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }

    /// The stable snake_case code clients branch on.
    pub fn code(&self) -> &str {
        match self {
            Self::Invalid { code, .. }
            | Self::WrongSecret { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Locked { code, .. }
            | Self::RateLimited { code, .. } => code,
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCredentials => "invalid_credentials",
            Self::AccountLocked => "account_locked",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal_error",
        }
    }

    /// The form field this error belongs to, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The JSON body every error answers with: `{"error", "code"}` plus the extras API.md names.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "error": self.to_string(), "code": self.code() });
        match self {
            Self::RateLimited { remaining_time, .. } => body["remainingTime"] = (*remaining_time).into(),
            Self::WrongSecret { remaining_attempts: Some(n), .. } => body["remainingAttempts"] = (*n).into(),
            Self::Invalid { field: Some(f), .. } => body["field"] = f.as_str().into(),
            _ => {}
        }
        body
    }
}

impl From<crate::domain::FieldError> for AppError {
    fn from(e: crate::domain::FieldError) -> Self {
        Self::invalid(e.code, Some(e.field), e.message)
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) => Self::bad_request(m),
            E::Request(_) => Self::Unavailable,
            _ => Self::Internal,
        }
    }
}
