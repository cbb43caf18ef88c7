//! Rate limits counted in the database, so they survive restarts and hold across nodes.
use crate::error::{AppError, ErrorKind};
use crate::ssr::db;
use crate::ssr::AppState;

/// At most `max` counted attempts per `window` seconds in `bucket`.
pub struct Limit {
    pub bucket: String,
    pub max: i64,
    pub window: i64,
    /// What a full bucket answers: `429 rate_limited` unless the document names another code.
    pub refusal: ErrorKind,
}

impl Limit {
    pub fn new(kind: &str, subject: &str, max: i64, window: i64) -> Self {
        Self { bucket: format!("{kind}:{subject}"), max, window, refusal: ErrorKind::RateLimited }
    }

    pub fn refusing_with(self, refusal: ErrorKind) -> Self {
        Self { refusal, ..self }
    }

    /// `/auth/login` and `/users/login`: 30 attempts per 15 minutes per client IP.
    pub fn login_ip(ip: &str) -> Self {
        Self::new("login-ip", ip, 30, 15 * 60)
    }

    /// Failed password sign-ins per username: 10 per 15 minutes.
    pub fn login_user(username_key: &str) -> Self {
        Self::new("login-user", username_key, 10, 15 * 60)
    }
}

/// Refuses with `429` when the bucket is full, without counting.
pub async fn check(state: &AppState, limit: &Limit) -> Result<(), AppError> {
    let now = state.now();
    let (count, oldest) = db::rate_limits::window(&state.pool, &limit.bucket, now - limit.window + 1).await?;
    if count >= limit.max {
        let remaining = oldest.map_or(limit.window, |t| t + limit.window - now).max(1);
        return Err(AppError::rate_limited(limit.refusal, remaining as u64));
    }
    Ok(())
}

/// Counts one attempt.
pub async fn record(state: &AppState, limit: &Limit) -> Result<(), AppError> {
    db::rate_limits::record(&state.pool, &limit.bucket, state.now()).await?;
    Ok(())
}

/// Refuses when full, otherwise counts this attempt.
pub async fn take(state: &AppState, limit: &Limit) -> Result<(), AppError> {
    check(state, limit).await?;
    record(state, limit).await
}

pub async fn clear(state: &AppState, limit: &Limit) -> Result<(), AppError> {
    db::rate_limits::clear(&state.pool, &limit.bucket).await?;
    Ok(())
}

/// Deletes hits older than a day; run now and then.
pub async fn prune(state: &AppState) -> Result<u64, AppError> {
    Ok(db::rate_limits::prune(&state.pool, state.now() - 24 * 3600).await?)
}
