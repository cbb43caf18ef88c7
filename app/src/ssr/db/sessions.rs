//! The `sessions` table: one row per signed-in device, revocable.
use super::{Exec, Pool};
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub device_type: String,
    pub device_info: String,
    pub ip_address: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_active_at: i64,
    pub revoked_at: Option<i64>,
}

/// A session joined with its user: everything one authenticated request needs, in one query.
#[derive(Debug, Clone, FromRow)]
pub struct SessionAuthRow {
    pub session_id: String,
    pub user_id: String,
    pub expires_at: i64,
    pub last_active_at: i64,
    pub revoked_at: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub is_oidc: bool,
    pub tokens_valid_after: i64,
    pub locked_at: Option<i64>,
    pub has_passcode: bool,
    pub lock_after_minutes: i64,
    pub authenticated_at: i64,
    /// The vault's data key, sealed for this session's token (see `services::vault`).
    pub vault_key_sealed: Option<String>,
    /// When this session last proved a second factor (the code step, or step-up); `None`: one
    /// factor only.
    pub second_factor_at: Option<i64>,
}

/// A session as listed, with its owner's name.
#[derive(Debug, Clone, FromRow)]
pub struct SessionListRow {
    pub id: String,
    pub user_id: String,
    pub username: String,
    pub device_type: String,
    pub device_info: String,
    pub ip_address: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_active_at: i64,
    pub revoked_at: Option<i64>,
}

pub async fn insert(pool: impl Into<Exec<'_>>, s: &SessionRow) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, device_type, device_info, ip_address, created_at, expires_at, last_active_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&s.id)
        .bind(&s.user_id)
        .bind(&s.device_type)
        .bind(&s.device_info)
        .bind(&s.ip_address)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(s.last_active_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

const FIND_WITH_USER: &str =
    "SELECT s.id AS session_id, s.user_id, s.expires_at, s.last_active_at, s.revoked_at,
            u.username, u.display_name, u.is_admin, u.is_oidc, u.tokens_valid_after,
            s.locked_at, u.passcode_hash IS NOT NULL AS has_passcode, u.lock_after_minutes,
            COALESCE(s.authenticated_at, s.created_at) AS authenticated_at, s.vault_key_sealed,
            s.second_factor_at
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1";

/// The session check every request makes: one point read by primary key, on the point-read
/// path when there is one (SQLite), else on the pool.
pub async fn find_with_user(pool: &Pool, session_id: &str) -> Result<Option<SessionAuthRow>, sqlx::Error> {
    if let Some(found) =
        pool.point_reads().and_then(|r| r.session(session_id, |c| find_with_user_now(c, session_id)))
    {
        return Ok(found);
    }
    with_pool!(pool => {
        sqlx::query_as(FIND_WITH_USER).bind(session_id).fetch_optional(pool).await
    })
}

fn find_with_user_now(
    c: &rusqlite::Connection,
    session_id: &str,
) -> rusqlite::Result<Option<SessionAuthRow>> {
    use rusqlite::OptionalExtension;
    c.prepare_cached(FIND_WITH_USER)?
        .query_row([session_id], |r| {
            Ok(SessionAuthRow {
                session_id: r.get(0)?,
                user_id: r.get(1)?,
                expires_at: r.get(2)?,
                last_active_at: r.get(3)?,
                revoked_at: r.get(4)?,
                username: r.get(5)?,
                display_name: r.get(6)?,
                is_admin: r.get(7)?,
                is_oidc: r.get(8)?,
                tokens_valid_after: r.get(9)?,
                locked_at: r.get(10)?,
                has_passcode: r.get(11)?,
                lock_after_minutes: r.get(12)?,
                authenticated_at: r.get(13)?,
                vault_key_sealed: r.get(14)?,
                second_factor_at: r.get(15)?,
            })
        })
        .optional()
}

/// Records that the session's owner proved who they are at `at`.
pub async fn set_authenticated_at(
    pool: impl Into<Exec<'_>>,
    session_id: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE sessions SET authenticated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(session_id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Records that the session proved a second factor at `at`.
pub async fn set_second_factor_at(
    pool: impl Into<Exec<'_>>,
    session_id: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE sessions SET second_factor_at = $1 WHERE id = $2")
            .bind(at)
            .bind(session_id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// A session replacing another (screen-lock unlock) keeps the old one's authentication time
/// (a passcode is not a password) and its second factor (nor is it a new sign-in).
pub async fn carry_authenticated_at(
    pool: impl Into<Exec<'_>>,
    from: &str,
    to: &str,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "UPDATE sessions SET
                 authenticated_at = (SELECT COALESCE(authenticated_at, created_at) FROM sessions WHERE id = $1),
                 second_factor_at = (SELECT second_factor_at FROM sessions WHERE id = $1)
             WHERE id = $2",
        )
        .bind(from)
        .bind(to)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

pub async fn find(pool: impl Into<Exec<'_>>, id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(
            "SELECT id, user_id, device_type, device_info, ip_address, created_at, expires_at, last_active_at, revoked_at
             FROM sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })
}

pub async fn touch(pool: impl Into<Exec<'_>>, id: &str, now: i64) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE sessions SET last_active_at = $1 WHERE id = $2 AND last_active_at < $3")
            .bind(now)
            .bind(id)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Revokes one session; answers how many rows changed (0 when it was already revoked).
pub async fn revoke(pool: impl Into<Exec<'_>>, id: &str, now: i64) -> Result<u64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE sessions SET revoked_at = $1, vault_key_sealed = NULL WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// Revokes every live session of a user, except `keep` when given.
pub async fn revoke_all_for_user(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    keep: Option<&str>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1, vault_key_sealed = NULL
             WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $3 AND ($4 IS NULL OR id <> $5)",
        )
        .bind(now)
        .bind(user_id)
        .bind(now)
        .bind(keep)
        .bind(keep)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
}

/// Unexpired sessions (revoked ones included, so an admin sees what was cut off), newest activity first.
/// A page of live (unexpired) sessions, most recently active first: every user's, or one
/// user's; at most `fetch` rows after `after` (`(last_active_at, id)` of the last row sent).
/// Reads the `(last_active_at, id)` or `(user_id, last_active_at, id)` index in order.
pub async fn list(
    pool: impl Into<Exec<'_>>,
    user_id: Option<&str>,
    live_only: bool,
    now: i64,
    after: Option<(i64, &str)>,
    fetch: i64,
) -> Result<Vec<SessionListRow>, sqlx::Error> {
    // Before the first row: later than any time.
    let (after_at, after_id) = after.unwrap_or((i64::MAX, ""));
    let scope = match (user_id.is_some(), live_only) {
        (true, false) => "s.user_id = $5",
        (true, true) => "s.user_id = $5 AND s.revoked_at IS NULL",
        (false, false) => "$5 IS NULL",
        (false, true) => "$5 IS NULL AND s.revoked_at IS NULL",
    };
    with_exec!(pool => {
        sqlx::query_as(&format!(
            "SELECT s.id, s.user_id, u.username, s.device_type, s.device_info, s.ip_address,
                    s.created_at, s.expires_at, s.last_active_at, s.revoked_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE {scope} AND (s.last_active_at, s.id) < ($2, $3) AND s.expires_at > $1
             ORDER BY s.last_active_at DESC, s.id DESC LIMIT $4"
        ))
        .bind(now)
        .bind(after_at)
        .bind(after_id)
        .bind(fetch)
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// Locks every live session of a user (manual lock): each must unlock with the passcode.
pub async fn lock_all_for_user(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE sessions SET locked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND locked_at IS NULL AND expires_at > $3")
            .bind(now)
            .bind(user_id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// Deletes at most `batch` sessions that expired before `before`, oldest activity first; their
/// terminal grants go with them (`ON DELETE CASCADE`). No session is active after it expires,
/// so every such row lies in the range `last_active_at < before` of `sessions_active`: the
/// statement reads that range of the index, not the table.
pub async fn delete_expired(pool: impl Into<Exec<'_>>, before: i64, batch: i64) -> Result<u64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "DELETE FROM sessions WHERE id IN (
                 SELECT id FROM sessions WHERE last_active_at < $1 AND expires_at < $2
                 ORDER BY last_active_at LIMIT $3)",
        )
        .bind(before)
        .bind(before)
        .bind(batch)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
}

/// Locks one session (the server noticed it idle).
pub async fn lock(pool: impl Into<Exec<'_>>, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE sessions SET locked_at = $1 WHERE id = $2 AND locked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// Clears every lock of a user (the passcode was removed, so no one could unlock).
pub async fn unlock_all_for_user(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE sessions SET locked_at = NULL WHERE user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Keeps (or with `None` drops) the vault key sealed for a session.
pub async fn set_vault_key(
    pool: impl Into<Exec<'_>>,
    id: &str,
    sealed: Option<&str>,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE sessions SET vault_key_sealed = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(sealed)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Closes the vault in every session of a user (their password changed or was reset).
pub async fn drop_vault_keys_of_user(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE sessions SET vault_key_sealed = NULL WHERE user_id = $1 AND vault_key_sealed IS NOT NULL")
            .bind(user_id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Drops the sealed vault keys of sessions that ended (revoked ones never keep one).
pub async fn prune_vault_keys(pool: impl Into<Exec<'_>>, now: i64) -> Result<u64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE sessions SET vault_key_sealed = NULL WHERE vault_key_sealed IS NOT NULL AND expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// Sessions that still let someone in (not revoked, not expired), for the metrics.
pub async fn count_live(pool: impl Into<Exec<'_>>, now: i64) -> Result<i64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1")
            .bind(now)
            .fetch_one(pool)
            .await
    })
}
