//! The vault: each user's wrapped data key (on `users`) and their sealed items.
use super::Exec;
use sqlx::FromRow;

/// A data key wrapped by a password-derived key: the argon2 salt and the sealed key, both encoded.
#[derive(Clone, FromRow)]
pub struct WrappedKey {
    pub vault_salt: String,
    pub vault_key_wrapped: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct ItemRow {
    pub name: String,
    pub value_enc: String,
    pub updated_at: i64,
}

const WRAPPED_KEY: &str = "SELECT vault_salt, vault_key_wrapped FROM users WHERE id = $1 AND vault_salt IS NOT NULL AND vault_key_wrapped IS NOT NULL";

pub async fn wrapped_key(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
) -> Result<Option<WrappedKey>, sqlx::Error> {
    let pool = pool.into();
    // Asked at every password sign-in: on SQLite outside a transaction, a point read.
    if let Exec::Pool(p) = &pool {
        let read = p.point_reads().and_then(|r| {
            r.run(|c| {
                use rusqlite::OptionalExtension;
                c.prepare_cached(WRAPPED_KEY)?
                    .query_row([user_id], |r| {
                        Ok(WrappedKey { vault_salt: r.get(0)?, vault_key_wrapped: r.get(1)? })
                    })
                    .optional()
            })
        });
        if let Some(found) = read {
            return Ok(found);
        }
    }
    with_exec!(pool => {
        sqlx::query_as(WRAPPED_KEY)
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

/// Stores a first wrapped key; answers false if the user already had one (two racing unlocks).
pub async fn create_wrapped_key(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    w: &WrappedKey,
) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "UPDATE users SET vault_salt = $1, vault_key_wrapped = $2 WHERE id = $3 AND vault_key_wrapped IS NULL",
        )
        .bind(&w.vault_salt)
        .bind(&w.vault_key_wrapped)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

pub async fn items(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<Vec<ItemRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as("SELECT name, value_enc, updated_at FROM vault_items WHERE user_id = $1 ORDER BY name")
            .bind(user_id)
            .fetch_all(pool)
            .await
    })
}

/// One item, by name.
pub async fn item(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    name: &str,
) -> Result<Option<ItemRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as("SELECT name, value_enc, updated_at FROM vault_items WHERE user_id = $1 AND name = $2")
            .bind(user_id)
            .bind(name)
            .fetch_optional(pool)
            .await
    })
}

pub async fn put_item(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    name: &str,
    value_enc: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "INSERT INTO vault_items (user_id, name, value_enc, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, name) DO UPDATE SET value_enc = excluded.value_enc, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(name)
        .bind(value_enc)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

pub async fn delete_item(pool: impl Into<Exec<'_>>, user_id: &str, name: &str) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM vault_items WHERE user_id = $1 AND name = $2")
            .bind(user_id)
            .bind(name)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// What a password change or reset does to the vault, in the same transaction as the password.
pub enum VaultChange {
    /// No vault yet: nothing to do.
    Keep,
    /// The same data key, wrapped by the new password.
    Rewrap(WrappedKey),
    /// A reset without the old password: the items cannot be read any more and are removed.
    Clear,
}

/// Replaces the password hash, stops every token issued before `now` (second steps still
/// waiting included), and applies the vault change: all or nothing. Answers false, changing
/// nothing, when `Keep` finds that a vault appeared since the caller looked (another request
/// created it): the caller re-wraps and tries again.
pub async fn set_password(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    hash: &str,
    now: i64,
    vault: VaultChange,
) -> Result<bool, sqlx::Error> {
    // Inside a caller's transaction this is a savepoint within it.
    use sqlx::Connection;
    with_exec!(pool => {
        let mut tx = pool.begin().await?;
        let keep = matches!(vault, VaultChange::Keep);
        let changed = sqlx::query(
            "UPDATE users SET password_hash = $1, tokens_valid_after = CASE WHEN tokens_valid_after > $2 THEN tokens_valid_after ELSE $2 END
             WHERE id = $3 AND ($4 = FALSE OR vault_key_wrapped IS NULL)",
        )
        .bind(hash)
        .bind(now)
        .bind(user_id)
        .bind(keep)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM mfa_challenges WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        match vault {
            VaultChange::Keep => {}
            VaultChange::Rewrap(w) => {
                sqlx::query("UPDATE users SET vault_salt = $1, vault_key_wrapped = $2 WHERE id = $3")
                    .bind(&w.vault_salt)
                    .bind(&w.vault_key_wrapped)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            VaultChange::Clear => {
                sqlx::query("UPDATE users SET vault_salt = NULL, vault_key_wrapped = NULL WHERE id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM vault_items WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            }
        }
        tx.commit().await.map(|_| true)
    })
}
