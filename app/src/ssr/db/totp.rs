//! The `backup_codes`, `trusted_devices` and `mfa_challenges` tables.
use super::Exec;
use sqlx::FromRow;

/// No `Debug`: it holds secret hashes (and sealed seeds).
#[derive(Clone, FromRow)]
pub struct BackupCodeRow {
    pub id: String,
    pub code_hash: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct ChallengeRow {
    pub id: String,
    pub user_id: String,
    pub remember: bool,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub failed_attempts: i64,
    /// The vault key opened with the password, sealed for the MFA-pending token.
    pub vault_key_sealed: Option<String>,
}

/// Replaces a user's backup codes with new hashed ones, in one transaction.
pub async fn replace_backup_codes(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    rows: &[(String, String)],
) -> Result<(), sqlx::Error> {
    // Inside a caller's transaction this is a savepoint within it.
    use sqlx::Connection;
    with_exec!(pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM backup_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        for (id, hash) in rows {
            sqlx::query("INSERT INTO backup_codes (id, user_id, code_hash) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(user_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    })
}

pub async fn unused_backup_codes(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
) -> Result<Vec<BackupCodeRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as("SELECT id, code_hash FROM backup_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .fetch_all(pool)
            .await
    })
}

/// Marks a backup code used; false when another request used it first.
pub async fn use_backup_code(pool: impl Into<Exec<'_>>, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE backup_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

pub async fn delete_backup_codes(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM backup_codes WHERE user_id = $1").bind(user_id).execute(pool).await.map(|_| ())
    })
}

pub async fn insert_trusted_device(
    pool: impl Into<Exec<'_>>,
    id: &str,
    user_id: &str,
    token_hash: &str,
    device_info: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "INSERT INTO trusted_devices (id, user_id, token_hash, device_info, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(user_id)
        .bind(token_hash)
        .bind(device_info)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

pub async fn is_trusted_device(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM trusted_devices WHERE user_id = $1 AND token_hash = $2 AND expires_at > $3)")
            .bind(user_id)
            .bind(token_hash)
            .bind(now)
            .fetch_one(pool)
            .await
    })
}

pub async fn forget_trusted_devices(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<u64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM trusted_devices WHERE user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

pub async fn insert_challenge(
    pool: impl Into<Exec<'_>>,
    id: &str,
    user_id: &str,
    remember: bool,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "INSERT INTO mfa_challenges (id, user_id, remember, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(user_id)
        .bind(remember)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

pub async fn find_challenge(
    pool: impl Into<Exec<'_>>,
    id: &str,
) -> Result<Option<ChallengeRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(
            "SELECT id, user_id, remember, expires_at, used_at, failed_attempts, vault_key_sealed FROM mfa_challenges WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })
}

/// How many tries one MFA-pending token gets.
pub const CHALLENGE_TRIES: i64 = 5;

/// Takes one of a live challenge's tries before its code is judged; false when none are
/// left (or it was spent). One statement, so parallel tries cannot overdraw it.
pub async fn take_challenge_try(pool: impl Into<Exec<'_>>, id: &str) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "UPDATE mfa_challenges SET failed_attempts = failed_attempts + 1
             WHERE id = $1 AND used_at IS NULL AND failed_attempts < $2",
        )
        .bind(id)
        .bind(CHALLENGE_TRIES)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Spends a challenge; false when it was already spent.
pub async fn use_challenge(pool: impl Into<Exec<'_>>, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE mfa_challenges SET used_at = $1, vault_key_sealed = NULL WHERE id = $2 AND used_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

pub async fn prune_challenges(pool: impl Into<Exec<'_>>, before: i64) -> Result<u64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM mfa_challenges WHERE expires_at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// Keeps the vault key sealed for a challenge's MFA-pending token until the second step.
pub async fn set_challenge_vault_key(
    pool: impl Into<Exec<'_>>,
    id: &str,
    sealed: &str,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE mfa_challenges SET vault_key_sealed = $1 WHERE id = $2")
            .bind(sealed)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}
