//! Single sign-on: sign-ins in flight and the provider identity on `users`.
use sqlx::{FromRow, SqlitePool};

#[derive(Debug, Clone, FromRow)]
pub struct FlowRow {
    pub nonce: String,
    pub verifier_sealed: String,
    pub remember: bool,
    pub kind: String,
    pub expires_at: i64,
    pub browser_hash: Option<String>,
}

pub struct NewFlow<'a> {
    pub state_hash: &'a str,
    pub nonce: &'a str,
    pub verifier_sealed: &'a str,
    pub remember: bool,
    pub kind: &'a str,
    pub browser_hash: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert_flow(pool: &SqlitePool, f: &NewFlow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM oidc_flows WHERE expires_at <= ?").bind(f.now).execute(pool).await?;
    sqlx::query(
        "INSERT INTO oidc_flows (state_hash, nonce, verifier_sealed, remember, kind, browser_hash, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(f.state_hash)
    .bind(f.nonce)
    .bind(f.verifier_sealed)
    .bind(f.remember)
    .bind(f.kind)
    .bind(f.browser_hash)
    .bind(f.now)
    .bind(f.expires_at)
    .execute(pool)
    .await
    .map(|_| ())
}

/// Takes a flow out: a state works once, even with two callbacks racing.
pub async fn take_flow(pool: &SqlitePool, state_hash: &str) -> Result<Option<FlowRow>, sqlx::Error> {
    sqlx::query_as("DELETE FROM oidc_flows WHERE state_hash = ? RETURNING nonce, verifier_sealed, remember, kind, expires_at, browser_hash")
        .bind(state_hash)
        .fetch_optional(pool)
        .await
}

pub async fn find_user_by_subject(pool: &SqlitePool, subject: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM users WHERE oidc_subject = ?").bind(subject).fetch_optional(pool).await
}

/// Marks a new account as signing in through the provider.
pub async fn set_subject(pool: &SqlitePool, user_id: &str, subject: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET oidc_subject = ?, is_oidc = 1 WHERE id = ?")
        .bind(subject)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn subject_of(pool: &SqlitePool, user_id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar::<_, Option<String>>("SELECT oidc_subject FROM users WHERE id = ?")
        .bind(user_id)
        .fetch_optional(pool)
        .await
        .map(Option::flatten)
}

/// Moves the provider identity of an SSO-only account onto a password account and deletes
/// the SSO-only one, in one transaction.
pub async fn merge_into(
    pool: &SqlitePool,
    oidc_user_id: &str,
    target_id: &str,
    subject: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM users WHERE id = ?").bind(oidc_user_id).execute(&mut *tx).await?;
    sqlx::query("UPDATE users SET oidc_subject = ?, is_oidc = 1 WHERE id = ?")
        .bind(subject)
        .bind(target_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

pub async fn clear_subject(pool: &SqlitePool, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET oidc_subject = NULL, is_oidc = 0 WHERE id = ?")
        .bind(user_id)
        .execute(pool)
        .await
        .map(|_| ())
}
