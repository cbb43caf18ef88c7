//! The `terminal_locks`, `terminal_grants` and `ws_tickets` tables.
use super::Exec;
use sqlx::FromRow;

pub async fn lock_time(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    container_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar("SELECT locked_at FROM terminal_locks WHERE user_id = $1 AND container_id = $2")
            .bind(user_id)
            .bind(container_id)
            .fetch_optional(pool)
            .await
    })
}

/// Locks a terminal; an existing lock keeps its original time. Answers the lock time.
pub async fn lock(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    container_id: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar(
            "INSERT INTO terminal_locks (user_id, container_id, locked_at) VALUES ($1, $2, $3)
             ON CONFLICT(user_id, container_id) DO UPDATE SET locked_at = terminal_locks.locked_at
             RETURNING locked_at",
        )
        .bind(user_id)
        .bind(container_id)
        .bind(now)
        .fetch_one(pool)
        .await
    })
}

pub async fn unlock(pool: impl Into<Exec<'_>>, user_id: &str, container_id: &str) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM terminal_locks WHERE user_id = $1 AND container_id = $2")
            .bind(user_id)
            .bind(container_id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

#[derive(Debug, Clone, FromRow)]
pub struct TerminalLockRow {
    pub container_id: String,
    pub locked_at: i64,
}

pub async fn list_locks(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
) -> Result<Vec<TerminalLockRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(
            "SELECT container_id, locked_at FROM terminal_locks WHERE user_id = $1 ORDER BY locked_at DESC",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

pub async fn grant(
    pool: impl Into<Exec<'_>>,
    session_id: &str,
    container_id: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "INSERT INTO terminal_grants (session_id, container_id, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT(session_id, container_id) DO UPDATE SET expires_at = excluded.expires_at",
        )
        .bind(session_id)
        .bind(container_id)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

pub async fn has_live_grant(
    pool: impl Into<Exec<'_>>,
    session_id: &str,
    container_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM terminal_grants WHERE session_id = $1 AND container_id = $2 AND expires_at > $3)")
            .bind(session_id)
            .bind(container_id)
            .bind(now)
            .fetch_one(pool)
            .await
    })
}

pub async fn insert_ticket(
    pool: impl Into<Exec<'_>>,
    ticket_hash: &str,
    session_id: &str,
    user_id: &str,
    terminal_id: Option<&str>,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("INSERT INTO ws_tickets (ticket_hash, session_id, user_id, terminal_id, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(ticket_hash)
            .bind(session_id)
            .bind(user_id)
            .bind(terminal_id)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

#[derive(Debug, Clone, FromRow)]
pub struct RedeemedTicket {
    pub session_id: String,
    pub terminal_id: Option<String>,
    pub expires_at: i64,
}

/// Spends a live ticket, atomically: of two racing redeems only one gets the row.
pub async fn redeem_ticket(
    pool: impl Into<Exec<'_>>,
    ticket_hash: &str,
    now: i64,
) -> Result<Option<RedeemedTicket>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(
            "UPDATE ws_tickets SET used_at = $1 WHERE ticket_hash = $2 AND used_at IS NULL AND expires_at > $3
             RETURNING session_id, terminal_id, expires_at",
        )
        .bind(now)
        .bind(ticket_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
    })
}

pub async fn prune_tickets(pool: impl Into<Exec<'_>>, before: i64) -> Result<u64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM ws_tickets WHERE expires_at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}
