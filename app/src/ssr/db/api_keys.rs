//! The `api_keys` table.
use super::Pool;
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub user_id: String,
    pub username: String,
    pub token_prefix: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// What authenticating with a key needs: the key and its user.
#[derive(Debug, Clone, FromRow)]
pub struct ApiKeyAuthRow {
    pub id: String,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub is_oidc: bool,
}

pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub token_prefix: &'a str,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

pub async fn insert(pool: &Pool, k: &NewApiKey<'_>) -> Result<(), sqlx::Error> {
    with_pool!(pool => {
        sqlx::query(
            "INSERT INTO api_keys (id, name, user_id, token_hash, token_prefix, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(k.id)
        .bind(k.name)
        .bind(k.user_id)
        .bind(k.token_hash)
        .bind(k.token_prefix)
        .bind(k.created_at)
        .bind(k.expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

const LIST: &str =
    "SELECT k.id, k.name, k.user_id, u.username, k.token_prefix, k.created_at, k.expires_at, k.last_used_at
                    FROM api_keys k JOIN users u ON u.id = k.user_id";

pub async fn list(pool: &Pool) -> Result<Vec<ApiKeyRow>, sqlx::Error> {
    with_pool!(pool => {
        sqlx::query_as(&format!("{LIST} ORDER BY k.created_at DESC, k.name")).fetch_all(pool).await
    })
}

pub async fn find(pool: &Pool, id: &str) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    with_pool!(pool => {
        sqlx::query_as(&format!("{LIST} WHERE k.id = $1")).bind(id).fetch_optional(pool).await
    })
}

pub async fn find_for_auth(pool: &Pool, token_hash: &str) -> Result<Option<ApiKeyAuthRow>, sqlx::Error> {
    with_pool!(pool => {
        sqlx::query_as(
            "SELECT k.id, k.expires_at, k.last_used_at, u.id AS user_id, u.username, u.display_name, u.is_admin, u.is_oidc
             FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await
    })
}

pub async fn touch(pool: &Pool, id: &str, now: i64) -> Result<(), sqlx::Error> {
    with_pool!(pool => {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Answers whether a key was deleted.
pub async fn delete(pool: &Pool, id: &str) -> Result<bool, sqlx::Error> {
    with_pool!(pool => {
        sqlx::query("DELETE FROM api_keys WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}
