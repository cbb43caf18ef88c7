//! The `passkeys` and `webauthn_challenges` tables.
use super::Exec;
use sqlx::FromRow;

/// A registered passkey. `passkey` is webauthn-rs' own record (public key, counter, flags) as
/// JSON; it holds no secret, but the row has no `Debug` all the same (it is not for logs).
#[derive(Clone, FromRow)]
pub struct PasskeyRow {
    pub id: String,
    pub user_id: String,
    pub credential_id: String,
    pub name: String,
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str = "id, user_id, credential_id, name, passkey, created_at, last_used_at";

pub struct NewPasskey<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub credential_id: &'a str,
    pub name: &'a str,
    pub passkey: &'a str,
    pub now: i64,
}

/// Inserts a passkey unless its user has `max` already (counted in the same statement, so
/// two racing registrations cannot pass the limit together) or its credential is registered
/// already. `Ok(false)`: the limit; a unique violation: the credential.
pub async fn insert(pool: impl Into<Exec<'_>>, p: &NewPasskey<'_>, max: i64) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "INSERT INTO passkeys (id, user_id, credential_id, name, passkey, created_at)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE (SELECT COUNT(*) FROM passkeys WHERE user_id = $2) < $7",
        )
        .bind(p.id)
        .bind(p.user_id)
        .bind(p.credential_id)
        .bind(p.name)
        .bind(p.passkey)
        .bind(p.now)
        .bind(max)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

pub async fn list_for_user(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<Vec<PasskeyRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"))
            .bind(user_id)
            .fetch_all(pool)
            .await
    })
}

pub async fn count_for_user(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<i64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1").bind(user_id).fetch_one(pool).await
    })
}

pub async fn find_by_credential(
    pool: impl Into<Exec<'_>>,
    credential_id: &str,
) -> Result<Option<PasskeyRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1"))
            .bind(credential_id)
            .fetch_optional(pool)
            .await
    })
}

/// Renames one of `user_id`'s passkeys; false when it has no such passkey.
pub async fn rename(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    id: &str,
    name: &str,
) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
            .bind(name)
            .bind(id)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// Deletes one of `user_id`'s passkeys, answering its name; `None` when it has no such passkey.
pub async fn delete(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar("DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name")
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })
}

/// Stores what an assertion changed (counter, backup flags) and when it was used, only if the
/// stored record is still `read` (false: removed, or another assertion of it got in first, so
/// two answers racing cannot both pass on one counter value).
pub async fn record_use(
    pool: impl Into<Exec<'_>>,
    id: &str,
    read: &str,
    passkey: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE passkeys SET passkey = COALESCE($1, passkey), last_used_at = $2 WHERE id = $3 AND passkey = $4")
            .bind(passkey)
            .bind(now)
            .bind(id)
            .bind(read)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// One ceremony in progress: webauthn-rs' state (JSON), for whom and what it will do.
#[derive(Clone, FromRow)]
pub struct ChallengeRow {
    pub purpose: String,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub state: String,
    pub expires_at: i64,
}

pub struct NewChallenge<'a> {
    pub id: &'a str,
    pub purpose: &'a str,
    pub user_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub state: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert_challenge(pool: impl Into<Exec<'_>>, c: &NewChallenge<'_>) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "INSERT INTO webauthn_challenges (id, purpose, user_id, session_id, state, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.id)
        .bind(c.purpose)
        .bind(c.user_id)
        .bind(c.session_id)
        .bind(c.state)
        .bind(c.now)
        .bind(c.expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Takes a ceremony out, once: the row is deleted as it is read, so a second finish with the
/// same challenge (a replay, a second node) finds nothing.
pub async fn take_challenge(
    pool: impl Into<Exec<'_>>,
    id: &str,
) -> Result<Option<ChallengeRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(
            "DELETE FROM webauthn_challenges WHERE id = $1
             RETURNING purpose, user_id, session_id, state, expires_at",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })
}

/// Drops ceremonies that ended before `before`.
pub async fn prune_challenges(pool: impl Into<Exec<'_>>, before: i64) -> Result<u64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// Live sign-in ceremonies (strangers start them; the service caps how many there may be).
pub async fn count_sign_in_challenges(pool: impl Into<Exec<'_>>, now: i64) -> Result<i64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM webauthn_challenges WHERE purpose = 'sign_in' AND expires_at > $1")
            .bind(now)
            .fetch_one(pool)
            .await
    })
}

/// Holds this user's passkey lock until the transaction ends (PostgreSQL; SQLite's write
/// transaction holds the file), so two registrations cannot both pass the limit.
pub async fn lock_user(tx: &mut super::Tx, user_id: &str) -> Result<(), sqlx::Error> {
    match tx {
        super::Tx::Sqlite(_) => Ok(()),
        super::Tx::Postgres(t) => sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("passkeys:{user_id}"))
            .execute(&mut **t)
            .await
            .map(|_| ()),
    }
}
