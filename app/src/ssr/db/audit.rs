//! The audit log's rows: written with the change they record (inside its [`Tx`](super::Tx)) or
//! alone (failures, which change nothing else), read newest first a page at a time.
use super::{Exec, Pool};
use sqlx::FromRow;

/// One stored event. `details` is a JSON object without any secret.
#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub outcome: String,
    pub code: Option<String>,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub via: String,
    pub ip: String,
    pub user_agent: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub details: String,
}

pub async fn insert(ex: impl Into<Exec<'_>>, e: &AuditRow) -> Result<(), sqlx::Error> {
    with_exec!(ex => {
        sqlx::query(
            "INSERT INTO audit_events (id, at, type, outcome, code, actor_id, actor_name, via, ip,
                 user_agent, target_kind, target_id, user_id, username, details)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&e.id)
        .bind(e.at)
        .bind(&e.kind)
        .bind(&e.outcome)
        .bind(&e.code)
        .bind(&e.actor_id)
        .bind(&e.actor_name)
        .bind(&e.via)
        .bind(&e.ip)
        .bind(&e.user_agent)
        .bind(&e.target_kind)
        .bind(&e.target_id)
        .bind(&e.user_id)
        .bind(&e.username)
        .bind(&e.details)
        .execute(ex)
        .await
        .map(|_| ())
    })
}

/// Which events a list or an export holds. Every field narrows; `None` lets everything through.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Events about or by this user: an id, or a name (compared without regard to case).
    pub user: Option<String>,
    /// Only events about this account (a user's own activity).
    pub about: Option<String>,
    pub kind: Option<String>,
    pub outcome: Option<String>,
    pub ip: Option<String>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, inclusive.
    pub until: Option<i64>,
}

/// At most `limit` events matching `f`, newest first, after the event `(at, id)` when given.
pub async fn list(
    pool: &Pool,
    f: &Filter,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let user_name = f.user.as_ref().map(|u| u.to_lowercase());
    with_pool!(pool => {
        sqlx::query_as(
            "SELECT id, at, type, outcome, code, actor_id, actor_name, via, ip, user_agent,
                    target_kind, target_id, user_id, username, details
             FROM audit_events
             WHERE ($1 IS NULL OR user_id = $1 OR actor_id = $1
                        OR lower(username) = $2 OR lower(actor_name) = $2)
               AND ($3 IS NULL OR user_id = $3 OR actor_id = $3)
               AND ($4 IS NULL OR type = $4)
               AND ($5 IS NULL OR outcome = $5)
               AND ($6 IS NULL OR ip = $6)
               AND ($7 IS NULL OR at >= $7)
               AND ($8 IS NULL OR at <= $8)
               AND ($9 IS NULL OR at < $9 OR (at = $9 AND id < $10))
             ORDER BY at DESC, id DESC
             LIMIT $11",
        )
        .bind(&f.user)
        .bind(&user_name)
        .bind(&f.about)
        .bind(&f.kind)
        .bind(&f.outcome)
        .bind(&f.ip)
        .bind(f.since)
        .bind(f.until)
        .bind(after.map(|(at, _)| at))
        .bind(after.map(|(_, id)| id))
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Whether an event of `kind` about `target_id` was recorded at or after `since` (for events
/// recorded once per period, such as an API key's use).
pub async fn recorded_since(
    pool: &Pool,
    kind: &str,
    target_id: &str,
    since: i64,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool => {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM (SELECT 1 FROM audit_events
                 WHERE type = $1 AND target_id = $2 AND at >= $3 LIMIT 1) AS found",
        )
        .bind(kind)
        .bind(target_id)
        .bind(since)
        .fetch_one(pool)
        .await
        .map(|n| n > 0)
    })
}

/// Deletes up to `batch` events older than `before`; answers how many went. Small batches keep
/// each statement (and SQLite's write lock) short, so pruning never holds up requests.
pub async fn prune(pool: &Pool, before: i64, batch: i64) -> Result<u64, sqlx::Error> {
    with_pool!(pool => {
        sqlx::query(
            "DELETE FROM audit_events WHERE id IN
                 (SELECT id FROM audit_events WHERE at < $1 ORDER BY at LIMIT $2)",
        )
        .bind(before)
        .bind(batch)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
}
