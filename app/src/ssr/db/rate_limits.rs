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

pub async fn record(pool: &SqlitePool, bucket: &str, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO rate_limit_hits (bucket, at) VALUES (?, ?)")
        .bind(bucket)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ())
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
