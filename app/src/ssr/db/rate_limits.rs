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

/// A bucket to reserve in: room means fewer than `max` hits at or after `since`.
pub struct Window<'a> {
    pub bucket: &'a str,
    pub since: i64,
    pub max: i64,
}

/// Records one hit at `at` in every window's bucket only if each has room, all or none, in
/// one statement serialised per bucket (SQLite takes the write lock before it counts; on
/// PostgreSQL an advisory lock per bucket), so parallel reservations on any node queue and
/// each sees the ones before it. Answers the new hits' ids in the windows' order, or `None`
/// when a bucket is full. The buckets must differ.
pub async fn reserve(pool: &Pool, at: i64, windows: &[Window<'_>]) -> Result<Option<Vec<i64>>, sqlx::Error> {
    let sql = reserve_statement(windows.len());
    let keys: Vec<&str> = windows.iter().map(|w| w.bucket).collect();
    let rows: Vec<(i64, String)> = serialized!(pool, &keys, pool => {
        let mut q = sqlx::query_as(&sql).bind(at);
        for w in windows {
            q = q.bind(w.bucket).bind(w.since).bind(w.max);
        }
        q.fetch_all(pool).await
    })?;
    if rows.len() != windows.len() {
        return Ok(None);
    }
    Ok(windows.iter().map(|w| rows.iter().find(|(_, b)| b == w.bucket).map(|(id, _)| *id)).collect())
}

/// `INSERT … SELECT` of one row per bucket, guarded by every bucket's count: `$1` is the
/// time, then each window's bucket, since and max.
fn reserve_statement(n: usize) -> String {
    let p = |i: usize, k: usize| format!("${}", 2 + 3 * i + k);
    let wanted: Vec<String> = (0..n).map(|i| format!("SELECT CAST({} AS TEXT) AS bucket", p(i, 0))).collect();
    let room: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "(SELECT COUNT(*) FROM rate_limit_hits WHERE bucket = {} AND at >= {}) < {}",
                p(i, 0),
                p(i, 1),
                p(i, 2)
            )
        })
        .collect();
    format!(
        "INSERT INTO rate_limit_hits (bucket, at) SELECT wanted.bucket, $1 FROM ({}) AS wanted WHERE {} \
         RETURNING id, bucket",
        wanted.join(" UNION ALL "),
        room.join(" AND ")
    )
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
