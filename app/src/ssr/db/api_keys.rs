//! The `api_keys` table.
use super::{Exec, Pool};
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

pub async fn insert(pool: impl Into<Exec<'_>>, k: &NewApiKey<'_>) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
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

/// A page of keys, newest first: at most `fetch` rows after `after` (`(created_at, id)` of the
/// last row sent).
pub async fn list(
    pool: impl Into<Exec<'_>>,
    after: Option<(i64, &str)>,
    fetch: i64,
) -> Result<Vec<ApiKeyRow>, sqlx::Error> {
    // Before the first row: later than any time.
    let (after_at, after_id) = after.unwrap_or((i64::MAX, ""));
    with_exec!(pool => {
        sqlx::query_as(&format!(
            "{LIST} WHERE (k.created_at, k.id) < ($1, $2)
             ORDER BY k.created_at DESC, k.id DESC LIMIT $3"
        ))
        .bind(after_at)
        .bind(after_id)
        .bind(fetch)
        .fetch_all(pool)
        .await
    })
}

pub async fn find(pool: impl Into<Exec<'_>>, id: &str) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(&format!("{LIST} WHERE k.id = $1")).bind(id).fetch_optional(pool).await
    })
}

const FIND_FOR_AUTH: &str =
    "SELECT k.id, k.expires_at, k.last_used_at, u.id AS user_id, u.username, u.display_name, u.is_admin, u.is_oidc
     FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.token_hash = $1";

/// The key check an API-key request makes: one indexed point read, on the point-read path
/// when there is one.
pub async fn find_for_auth(pool: &Pool, token_hash: &str) -> Result<Option<ApiKeyAuthRow>, sqlx::Error> {
    if let Some(found) = pool.point_reads().and_then(|r| r.run(|c| find_for_auth_now(c, token_hash))) {
        return Ok(found);
    }
    with_pool!(pool => {
        sqlx::query_as(FIND_FOR_AUTH).bind(token_hash).fetch_optional(pool).await
    })
}

fn find_for_auth_now(c: &rusqlite::Connection, token_hash: &str) -> rusqlite::Result<Option<ApiKeyAuthRow>> {
    use rusqlite::OptionalExtension;
    c.prepare_cached(FIND_FOR_AUTH)?
        .query_row([token_hash], |r| {
            Ok(ApiKeyAuthRow {
                id: r.get(0)?,
                expires_at: r.get(1)?,
                last_used_at: r.get(2)?,
                user_id: r.get(3)?,
                username: r.get(4)?,
                display_name: r.get(5)?,
                is_admin: r.get(6)?,
                is_oidc: r.get(7)?,
            })
        })
        .optional()
}

pub async fn touch(pool: impl Into<Exec<'_>>, id: &str, now: i64) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Answers whether a key was deleted.
pub async fn delete(pool: impl Into<Exec<'_>>, id: &str) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM api_keys WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}
