//! The `rate_limit_hits` table: counted attempts, shared by every node.
use super::{Exec, Pool};

/// How many hits the bucket holds at or after `since`, and the oldest of them.
pub async fn window(
    pool: impl Into<Exec<'_>>,
    bucket: &str,
    since: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as("SELECT COUNT(*), MIN(at) FROM rate_limit_hits WHERE bucket = $1 AND at >= $2")
            .bind(bucket)
            .bind(since)
            .fetch_one(pool)
            .await
    })
}

/// Records a hit at `at` only if the bucket holds fewer than `max` hits since `since`,
/// serialised per bucket (one statement on SQLite, which takes the write lock before the
/// count; an advisory lock on PostgreSQL), so parallel reservations on any node queue and
/// each sees the ones before it. Answers the new hit's id, or `None` when full.
pub async fn reserve(
    pool: &Pool,
    bucket: &str,
    at: i64,
    since: i64,
    max: i64,
) -> Result<Option<i64>, sqlx::Error> {
    serialized!(pool, bucket, pool => {
        sqlx::query_scalar(
            "INSERT INTO rate_limit_hits (bucket, at)
             SELECT $1, $2 WHERE (SELECT COUNT(*) FROM rate_limit_hits WHERE bucket = $1 AND at >= $3) < $4
             RETURNING id",
        )
        .bind(bucket)
        .bind(at)
        .bind(since)
        .bind(max)
        .fetch_optional(pool)
        .await
    })
}

/// Removes one reserved hit (a refund).
pub async fn delete(pool: impl Into<Exec<'_>>, id: i64) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM rate_limit_hits WHERE id = $1").bind(id).execute(pool).await.map(|_| ())
    })
}

/// Removes several reserved hits in one statement (the two halves of a password attempt).
pub async fn delete_all(pool: impl Into<Exec<'_>>, ids: &[i64]) -> Result<(), sqlx::Error> {
    let marks: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!("DELETE FROM rate_limit_hits WHERE id IN ({})", marks.join(", "));
    with_exec!(pool => {
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        q.execute(pool).await.map(|_| ())
    })
}

pub async fn clear(pool: impl Into<Exec<'_>>, bucket: &str) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM rate_limit_hits WHERE bucket = $1").bind(bucket).execute(pool).await.map(|_| ())
    })
}

/// Drops hits older than any window can reach.
pub async fn prune(pool: impl Into<Exec<'_>>, before: i64) -> Result<u64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM rate_limit_hits WHERE at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}
