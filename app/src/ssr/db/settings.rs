//! The `settings` table: instance-wide key/value settings.
use super::Exec;
use std::collections::HashMap;

/// One setting. Outside a transaction on SQLite it comes from the point-read path (the whole
/// small table, remembered until the next commit to the file): a sign-in asks for several
/// settings, and each trip through the pool's worker thread costs more than the read.
pub async fn get(pool: impl Into<Exec<'_>>, key: &str) -> Result<Option<String>, sqlx::Error> {
    let pool = pool.into();
    if let Exec::Pool(p) = &pool {
        if let Some(all) = p.point_reads().and_then(|r| r.table("settings", all_now)) {
            return Ok(all.get(key).cloned());
        }
    }
    with_exec!(pool => {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(pool).await
    })
}

fn all_now(c: &rusqlite::Connection) -> rusqlite::Result<HashMap<String, String>> {
    c.prepare_cached("SELECT key, value FROM settings")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

pub async fn set(pool: impl Into<Exec<'_>>, key: &str, value: &str) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

pub async fn delete(pool: impl Into<Exec<'_>>, key: &str) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM settings WHERE key = $1").bind(key).execute(pool).await.map(|_| ())
    })
}
