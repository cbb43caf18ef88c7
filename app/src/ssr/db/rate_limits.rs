//! The `rate_limit_hits` table: counted attempts, shared by every node.
use sqlx::SqlitePool;

/// How many hits the bucket holds at or after `since`, and the oldest of them.
pub async fn window(pool: &SqlitePool, bucket: &str, since: i64) -> Result<(i64, Option<i64>), sqlx::Error> {
    sqlx::query_as("SELECT COUNT(*), MIN(at) FROM rate_limit_hits WHERE bucket = ? AND at >= ?")
        .bind(bucket)
        .bind(since)
        .fetch_one(pool)
        .await
}

/// Records a hit at `at` only if the bucket holds fewer than `max` hits since `since`, in one
/// statement: SQLite takes the write lock before the count, so parallel reservations queue
/// and each sees the ones before it. Answers the new hit's id, or `None` when full.
pub async fn reserve(
    pool: &SqlitePool,
    bucket: &str,
    at: i64,
    since: i64,
    max: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO rate_limit_hits (bucket, at)
         SELECT ?1, ?2 WHERE (SELECT COUNT(*) FROM rate_limit_hits WHERE bucket = ?1 AND at >= ?3) < ?4
         RETURNING rowid",
    )
    .bind(bucket)
    .bind(at)
    .bind(since)
    .bind(max)
    .fetch_optional(pool)
    .await
}

/// Removes one reserved hit (a refund).
pub async fn delete(pool: &SqlitePool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM rate_limit_hits WHERE rowid = ?").bind(id).execute(pool).await.map(|_| ())
}

pub async fn clear(pool: &SqlitePool, bucket: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM rate_limit_hits WHERE bucket = ?").bind(bucket).execute(pool).await.map(|_| ())
}

/// Drops hits older than any window can reach.
pub async fn prune(pool: &SqlitePool, before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM rate_limit_hits WHERE at < ?")
        .bind(before)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
}
