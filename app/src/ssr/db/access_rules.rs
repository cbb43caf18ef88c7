//! The `access_rules` table: forward-auth's rules, in order.
use super::{Exec, Pool};
use sqlx::FromRow;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AccessRuleRow {
    pub id: String,
    pub position: i64,
    pub host: String,
    pub path: String,
    pub policy: String,
    pub subjects: String,
}

const LIST: &str =
    "SELECT id, position, host, path, policy, subjects FROM access_rules ORDER BY position, id";

/// Every rule in the order they are checked. Read at every forward-auth request, so on the
/// point-read path when there is one (SQLite: remembered until the next commit to the file),
/// else on the pool.
pub async fn list(pool: &Pool) -> Result<std::sync::Arc<Vec<AccessRuleRow>>, sqlx::Error> {
    if let Some(found) = pool.point_reads().and_then(|r| r.table("access_rules", list_now)) {
        return Ok(found);
    }
    let rows: Vec<AccessRuleRow> = with_pool!(pool => {
        sqlx::query_as(LIST).fetch_all(pool).await
    })?;
    Ok(std::sync::Arc::new(rows))
}

fn list_now(c: &rusqlite::Connection) -> rusqlite::Result<Vec<AccessRuleRow>> {
    c.prepare_cached(LIST)?
        .query_map([], |r| {
            Ok(AccessRuleRow {
                id: r.get(0)?,
                position: r.get(1)?,
                host: r.get(2)?,
                path: r.get(3)?,
                policy: r.get(4)?,
                subjects: r.get(5)?,
            })
        })?
        .collect()
}

/// The same list inside a transaction (before replacing it).
pub async fn list_in(pool: impl Into<Exec<'_>>) -> Result<Vec<AccessRuleRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(LIST).fetch_all(pool).await
    })
}

/// Holds the rules' lock until the transaction ends: on PostgreSQL an advisory lock (other
/// nodes' edits wait); SQLite's write transaction holds the whole file already.
pub async fn lock(tx: &mut super::Tx) -> Result<(), sqlx::Error> {
    match tx {
        super::Tx::Sqlite(_) => Ok(()),
        super::Tx::Postgres(t) => {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('access_rules', 0))")
                .execute(&mut **t)
                .await
                .map(|_| ())
        }
    }
}

pub async fn delete_all(pool: impl Into<Exec<'_>>) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM access_rules").execute(pool).await.map(|_| ())
    })
}

pub async fn insert(pool: impl Into<Exec<'_>>, r: &AccessRuleRow) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "INSERT INTO access_rules (id, position, host, path, policy, subjects) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.id)
        .bind(r.position)
        .bind(&r.host)
        .bind(&r.path)
        .bind(&r.policy)
        .bind(&r.subjects)
        .execute(pool)
        .await
        .map(|_| ())
    })
}
