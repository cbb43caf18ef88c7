//! The `settings` table: instance-wide key/value settings.
use super::Exec;

pub async fn get(pool: impl Into<Exec<'_>>, key: &str) -> Result<Option<String>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(pool).await
    })
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
