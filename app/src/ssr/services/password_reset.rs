//! Password reset without email, as users-api.txt specifies: a 6-digit code written to the
//! server log (the operator reads it and hands it over), valid 15 minutes; verifying it yields
//! a reset token of its own kind, valid 10 minutes and good for one reset.
//!
//! Decisions: the code is logged at `warn`, so it still shows when the log level is `warn`
//! (not at `error`); a new request replaces an older code; five wrong codes per username in
//! 15 minutes answer `429`; accounts without a password (single sign-on only) get no code,
//! with the same answer as an unknown name.
use super::audit::{self, Event};
use super::rate_limit::{self, Limit};
use super::settings::{self, Toggle};
use super::tokens::{self, TokenKind};
use super::{accounts, passwords};
use crate::audit::EventType;
use crate::domain::{Password, Username};
use crate::error::{AppError, ErrorKind};
use crate::ssr::db;
use crate::ssr::keys::new_id;
use crate::ssr::AppState;

pub const CODE_SECS: i64 = 15 * 60;
pub const TOKEN_SECS: i64 = 10 * 60;

/// What `/users/initiate-reset` answers, whether or not the account exists.
pub const INITIATED: &str = "If that account exists, a reset code valid for 15 minutes has been written to the server log. Ask your administrator for it.";

fn username_key(field: &'static str, raw: &str) -> Result<String, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::invalid(ErrorKind::InvalidRequest, Some(field), "Enter your username."));
    }
    Ok(raw.to_ascii_lowercase())
}

async fn ensure_enabled(state: &AppState) -> Result<(), AppError> {
    if settings::toggle(state, Toggle::PasswordReset).await? {
        Ok(())
    } else {
        Err(AppError::of(ErrorKind::PasswordResetDisabled, "Password reset is turned off on this instance."))
    }
}

fn six_digits() -> String {
    use rand::Rng;
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

/// Starts a reset. At most 10 requests per 15 minutes per client IP, so the log cannot be flooded.
pub async fn initiate(state: &AppState, username: &str, ip: &str) -> Result<(), AppError> {
    let result = start(state, username, ip).await;
    audit::on_failure(state, result, |e| {
        Event::new(EventType::PasswordResetRequested).about_name(username).failed(e)
    })
    .await
}

#[tracing::instrument(skip_all)]
async fn start(state: &AppState, username: &str, ip: &str) -> Result<(), AppError> {
    ensure_enabled(state).await?;
    let key = username_key("username", username)?;
    rate_limit::take(state, &Limit::new("reset-ip", &rate_limit::client_network(ip), 10, 15 * 60)).await?;
    let user = db::users::find_by_key(&state.pool, &key).await?.filter(|u| u.password_hash.is_some());
    let code = six_digits();
    // Hash even for an unknown name, so the answer takes as long either way.
    let hash = passwords::hash_secret(code.clone()).await?;
    let event = Event::new(EventType::PasswordResetRequested);
    let Some(user) = user else {
        tracing::info!(ip = %ip, "password reset asked for an unknown or password-less account");
        audit::record(state, event.about_name(username).detail("code_issued", false)).await;
        return Ok(());
    };
    let now = state.now();
    let mut change = audit::Change::begin(state).await?;
    db::password_resets::open(change.tx(), &user.id, &hash, now, now + CODE_SECS).await?;
    change.record(event.about(&user.id, &user.username).detail("code_issued", true)).await?;
    change.commit().await?;
    tracing::warn!(username = %user.username, code = %code, "password reset code issued; valid for 15 minutes");
    Ok(())
}

/// Checks a reset code and answers the reset token.
pub async fn verify_code(state: &AppState, username: &str, code: &str, ip: &str) -> Result<String, AppError> {
    let result = check_code(state, username, code, ip).await;
    audit::on_failure(state, result, |e| {
        Event::new(EventType::PasswordResetCodeVerified).about_name(username).failed(e)
    })
    .await
}

#[tracing::instrument(skip_all)]
async fn check_code(state: &AppState, username: &str, code: &str, ip: &str) -> Result<String, AppError> {
    ensure_enabled(state).await?;
    let key = username_key("username", username)?;
    let code = code.trim();
    let invalid = || {
        AppError::invalid(ErrorKind::WrongResetCode, Some("resetCode"), "That code is wrong or has expired.")
    };
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    // Per client network first, so a stranger spraying codes at many names is stopped too.
    rate_limit::take(state, &Limit::new("reset-verify-ip", &rate_limit::client_network(ip), 20, 15 * 60))
        .await?;
    let attempt = rate_limit::reserve(state, &Limit::new("reset-verify", &key, 5, 15 * 60)).await?;
    let now = state.now();
    let user = db::users::find_by_key(&state.pool, &key).await?;
    // The code's own tries are taken before it is judged: it dies after five.
    let open = match &user {
        Some(u) if db::password_resets::take_code_try(&state.pool, &u.id).await? => {
            db::password_resets::find(&state.pool, &u.id)
                .await?
                .filter(|r| r.verified_at.is_none() && r.expires_at > now)
        }
        _ => None,
    };
    let (ok, attempt) =
        passwords::judge(state, attempt, code.to_owned(), open.as_ref().map(|r| r.code_hash.clone())).await?;
    let (Some(user), true) = (user, ok) else {
        return Err(invalid());
    };
    let token_id = new_id();
    let mut change = audit::Change::begin(state).await?;
    if !db::password_resets::mark_verified(change.tx(), &user.id, &token_id, now, now + TOKEN_SECS).await? {
        return Err(invalid());
    }
    change.record(Event::new(EventType::PasswordResetCodeVerified).about(&user.id, &user.username)).await?;
    change.commit().await?;
    rate_limit::refund(state, attempt).await?;
    tokens::mint(&state.keys, TokenKind::Reset, &user.id, &token_id, now, now + TOKEN_SECS, None)
}

/// Sets the new password with a reset token. Every session ends and trusted devices are
/// forgotten. A weak password is refused before the token is spent, so the user can retry.
pub async fn complete(
    state: &AppState,
    username: &str,
    temp_token: &str,
    new_password: String,
) -> Result<(), AppError> {
    let result = finish(state, username, temp_token, new_password).await;
    audit::on_failure(state, result, |e| {
        Event::new(EventType::PasswordResetCompleted).about_name(username).failed(e)
    })
    .await
}

#[tracing::instrument(skip_all)]
async fn finish(
    state: &AppState,
    username: &str,
    temp_token: &str,
    new_password: String,
) -> Result<(), AppError> {
    ensure_enabled(state).await?;
    let key = username_key("username", username)?;
    if new_password.is_empty() {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("newPassword"),
            "Enter a new password.",
        ));
    }
    let bad_token = || {
        AppError::invalid(
            ErrorKind::InvalidResetToken,
            Some("tempToken"),
            "This reset has expired or was already used. Start again.",
        )
    };
    let now = state.now();
    let claims =
        tokens::verify(&state.keys, temp_token.trim(), TokenKind::Reset, now).ok_or_else(bad_token)?;
    let user = db::users::find_by_key(&state.pool, &key)
        .await?
        .ok_or_else(|| AppError::of(ErrorKind::UserNotFound, "No such user."))?;
    if claims.sub != user.id {
        return Err(bad_token());
    }
    let username =
        Username::parse(&user.username).map_err(|_| AppError::bug("a stored username no longer parses"))?;
    let password = Password::parse_for("newPassword", new_password)?;
    passwords::check_strength("newPassword", &password, &[username.as_ref(), &user.display_name]).await?;
    let hash = passwords::hash(&password).await?;
    if !db::password_resets::consume(&state.pool, &user.id, &claims.sid, now).await? {
        return Err(bad_token());
    }
    // `Clear` always applies.
    let event = Event::new(EventType::PasswordResetCompleted).about(&user.id, &user.username);
    accounts::replace_password(state, &user.id, &hash, crate::ssr::db::vault::VaultChange::Clear, event)
        .await?;
    tracing::info!(user = %user.id, "password reset completed; every session ended; encrypted data cleared");
    Ok(())
}
