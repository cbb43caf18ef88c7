//! The `password_resets` table: at most one open reset per user.
use super::Exec;
use sqlx::FromRow;

/// No `Debug`: it holds a secret hash.
#[derive(Clone, FromRow)]
pub struct ResetRow {
    pub user_id: String,
    pub code_hash: String,
    pub expires_at: i64,
    pub token_id: Option<String>,
    pub verified_at: Option<i64>,
}

/// Opens a reset, replacing any earlier one (its code stops working).
pub async fn open(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    code_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "INSERT INTO password_resets (user_id, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at,
                 expires_at = excluded.expires_at, token_id = NULL, verified_at = NULL, failed_attempts = 0",
        )
        .bind(user_id)
        .bind(code_hash)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// How many code checks one reset gets.
pub const CODE_TRIES: i64 = 5;

/// Takes one try of the user's open reset before its code is judged; false when it has none
/// left. One statement, so parallel checks cannot overdraw it.
pub async fn take_code_try(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "UPDATE password_resets SET failed_attempts = failed_attempts + 1
             WHERE user_id = $1 AND verified_at IS NULL AND failed_attempts < $2",
        )
        .bind(user_id)
        .bind(CODE_TRIES)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

pub async fn find(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<Option<ResetRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(
            "SELECT user_id, code_hash, expires_at, token_id, verified_at FROM password_resets WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

/// Marks the code verified and names the token that may finish the reset. Only the first of
/// two racing verifications wins.
pub async fn mark_verified(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    token_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "UPDATE password_resets SET token_id = $1, verified_at = $2, expires_at = $3
             WHERE user_id = $4 AND verified_at IS NULL",
        )
        .bind(token_id)
        .bind(now)
        .bind(expires_at)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Ends the reset that `token_id` names. Answers whether it was still open.
pub async fn consume(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    token_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1 AND token_id = $2 AND expires_at > $3")
            .bind(user_id)
            .bind(token_id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

pub async fn delete(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1").bind(user_id).execute(pool).await.map(|_| ())
    })
}
