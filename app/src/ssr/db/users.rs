//! The `users` table.
use super::{Exec, Pool};
use sqlx::FromRow;

/// No `Debug`: it holds secret hashes (and sealed seeds).
#[derive(Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub is_admin: bool,
    pub is_oidc: bool,
    pub tokens_valid_after: i64,
    pub created_at: i64,
    pub totp_enabled: bool,
    pub totp_secret_enc: Option<String>,
    pub totp_pending_enc: Option<String>,
    pub totp_last_step: Option<i64>,
    pub passcode_hash: Option<String>,
    pub lock_after_minutes: i64,
    pub single_session_mode: bool,
    pub ldap_dn: Option<String>,
}

const COLUMNS: &str =
    "id, username, display_name, password_hash, is_admin, is_oidc, tokens_valid_after, created_at, \
                       totp_enabled, totp_secret_enc, totp_pending_enc, totp_last_step, \
                       passcode_hash, lock_after_minutes, single_session_mode, ldap_dn";

pub struct NewUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub username_key: &'a str,
    pub display_name: &'a str,
    pub password_hash: Option<&'a str>,
    /// The directory entry of an LDAP account.
    pub ldap_dn: Option<&'a str>,
    /// The provider identity of an SSO account.
    pub oidc: Option<&'a super::oidc::ProviderIdentity>,
    pub now: i64,
}

/// The key that serialises every change to who is an admin (the first user, a demotion, a
/// deletion), across nodes.
pub(super) const WHO_ADMINISTERS: &str = "users:admins";

pub enum Admission {
    /// Insert only while the table is empty; the user becomes admin.
    OnlyFirst,
    /// Insert always; the user becomes admin only if they are the first.
    AdminIfFirst,
    /// An administrator's choice: insert always, as an admin or as a user.
    Admin,
    User,
}

/// Inserts a user. `Ok(None)` means `OnlyFirst` found users already. The "first user"
/// decision is made inside the INSERT, so two racing requests cannot both become the first admin.
pub async fn insert(
    pool: impl Into<Exec<'_>>,
    u: &NewUser<'_>,
    admission: Admission,
) -> Result<Option<bool>, sqlx::Error> {
    serialized!(pool, &[WHO_ADMINISTERS], pool => {
        let (admin, guard) = match admission {
            Admission::OnlyFirst => ("NOT EXISTS (SELECT 1 FROM users)", "WHERE NOT EXISTS (SELECT 1 FROM users)"),
            Admission::AdminIfFirst => ("NOT EXISTS (SELECT 1 FROM users)", ""),
            Admission::Admin => ("TRUE", ""),
            Admission::User => ("FALSE", ""),
        };
        let sql = format!(
            "INSERT INTO users (id, username, username_key, display_name, password_hash, ldap_dn, oidc_issuer, oidc_subject, is_oidc, is_admin, tokens_valid_after, created_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 IS NOT NULL, {admin}, $10, $11 {guard}
             RETURNING is_admin"
        );
        sqlx::query_scalar::<_, bool>(&sql)
            .bind(u.id)
            .bind(u.username)
            .bind(u.username_key)
            .bind(u.display_name)
            .bind(u.password_hash)
            .bind(u.ldap_dn)
            .bind(u.oidc.map(|o| o.issuer.as_str()))
            .bind(u.oidc.map(|o| o.subject.as_str()))
            .bind(u.oidc.map(|o| o.subject.as_str()))
            .bind(u.now)
            .bind(u.now)
            .fetch_optional(pool)
            .await
    })
}

/// A user read by one column, on the point-read path when asked outside a transaction on
/// SQLite (a sign-in reads its user twice; each trip through the pool's worker thread costs
/// more than the read).
fn point_read(pool: &Exec<'_>, column: &str, value: &str) -> Option<Option<UserRow>> {
    let Exec::Pool(p) = pool else { return None };
    p.point_reads()?.run(|c| {
        use rusqlite::OptionalExtension;
        c.prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE {column} = ?1"))?
            .query_row([value], |r| {
                Ok(UserRow {
                    id: r.get(0)?,
                    username: r.get(1)?,
                    display_name: r.get(2)?,
                    password_hash: r.get(3)?,
                    is_admin: r.get(4)?,
                    is_oidc: r.get(5)?,
                    tokens_valid_after: r.get(6)?,
                    created_at: r.get(7)?,
                    totp_enabled: r.get(8)?,
                    totp_secret_enc: r.get(9)?,
                    totp_pending_enc: r.get(10)?,
                    totp_last_step: r.get(11)?,
                    passcode_hash: r.get(12)?,
                    lock_after_minutes: r.get(13)?,
                    single_session_mode: r.get(14)?,
                    ldap_dn: r.get(15)?,
                })
            })
            .optional()
    })
}

pub async fn find_by_id(pool: impl Into<Exec<'_>>, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let pool = pool.into();
    if let Some(found) = point_read(&pool, "id", id) {
        return Ok(found);
    }
    with_exec!(pool => {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1")).bind(id).fetch_optional(pool).await
    })
}

pub async fn find_by_key(
    pool: impl Into<Exec<'_>>,
    username_key: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    let pool = pool.into();
    if let Some(found) = point_read(&pool, "username_key", username_key) {
        return Ok(found);
    }
    with_exec!(pool => {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE username_key = $1"))
            .bind(username_key)
            .fetch_optional(pool)
            .await
    })
}

pub async fn any_exist(pool: &Pool) -> Result<bool, sqlx::Error> {
    with_pool!(pool => {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)").fetch_one(pool).await
    })
}

pub async fn count(pool: &Pool) -> Result<i64, sqlx::Error> {
    with_pool!(pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await
    })
}

/// Every token of this user issued before `at` stops working.
pub async fn bump_tokens_valid_after(
    pool: impl Into<Exec<'_>>,
    id: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE users SET tokens_valid_after = CASE WHEN tokens_valid_after > $1 THEN tokens_valid_after ELSE $1 END WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Records a TOTP setup that is not enabled yet; sign-in is unchanged until it is.
pub async fn set_totp_pending(pool: impl Into<Exec<'_>>, id: &str, sealed: &str) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE users SET totp_pending_enc = $1 WHERE id = $2")
            .bind(sealed)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Turns the pending seed into the active one. Only one of two racing enables wins.
pub async fn enable_totp(pool: impl Into<Exec<'_>>, id: &str, sealed: &str) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "UPDATE users SET totp_secret_enc = $1, totp_pending_enc = NULL, totp_enabled = TRUE
             WHERE id = $2 AND totp_enabled = FALSE",
        )
        .bind(sealed)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

pub async fn disable_totp(pool: impl Into<Exec<'_>>, id: &str) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "UPDATE users SET totp_secret_enc = NULL, totp_pending_enc = NULL, totp_enabled = FALSE, totp_last_step = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Claims a TOTP step: succeeds only if no step at or after it was accepted before, so a
/// code cannot be replayed, not even by two requests racing on two nodes.
pub async fn claim_totp_step(pool: impl Into<Exec<'_>>, id: &str, step: i64) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $3)",
        )
        .bind(step)
        .bind(id)
        .bind(step)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Sets (or, with `None`, removes) the screen-lock passcode, and optionally the auto-lock minutes.
pub async fn set_passcode(
    pool: impl Into<Exec<'_>>,
    id: &str,
    hash: Option<&str>,
    lock_after_minutes: Option<i64>,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE users SET passcode_hash = $1, lock_after_minutes = COALESCE($2, lock_after_minutes) WHERE id = $3")
            .bind(hash)
            .bind(lock_after_minutes)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

pub async fn set_lock_after_minutes(
    pool: impl Into<Exec<'_>>,
    id: &str,
    minutes: i64,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE users SET lock_after_minutes = $1 WHERE id = $2")
            .bind(minutes)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

pub async fn set_single_session_mode(
    pool: impl Into<Exec<'_>>,
    id: &str,
    on: bool,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE users SET single_session_mode = $1 WHERE id = $2")
            .bind(on)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Every user, oldest first.
/// A page of users in name order: at most `fetch` rows after the name key `after` whose key
/// starts with `prefix` (both checked by the caller to hold only a name's ASCII characters).
/// Reads one range of the name-key index, whatever the table's size: the keys compare as bytes
/// on both backends (PostgreSQL's `COLLATE "C"`, with its own index), so every key starting
/// with `prefix` lies in `[prefix, prefix + "\x7f")`.
pub async fn list(
    pool: &Pool,
    prefix: Option<&str>,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    let prefix = prefix.unwrap_or("");
    let high = format!("{prefix}\u{7f}");
    let low = after.filter(|a| *a > prefix).unwrap_or(prefix);
    let bytes = if matches!(pool, Pool::Postgres(_)) { " COLLATE \"C\"" } else { "" };
    with_pool!(pool => {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM users
             WHERE username_key{bytes} >= $1 AND username_key{bytes} < $2 AND username_key <> $3
             ORDER BY username_key{bytes} LIMIT $4"
        ))
        .bind(low)
        .bind(&high)
        .bind(after.unwrap_or(""))
        .bind(fetch)
        .fetch_all(pool)
        .await
    })
}

/// Grants or takes away the admin role. Taking it away never leaves the instance without an
/// admin: the check and the change are one statement. Answers whether the row changed.
pub async fn set_admin(pool: impl Into<Exec<'_>>, id: &str, admin: bool) -> Result<bool, sqlx::Error> {
    serialized!(pool, &[WHO_ADMINISTERS], pool => {
        let sql = if admin {
            "UPDATE users SET is_admin = TRUE WHERE id = $1 AND is_admin = FALSE"
        } else {
            "UPDATE users SET is_admin = FALSE WHERE id = $1 AND is_admin = TRUE
             AND (SELECT COUNT(*) FROM users WHERE is_admin = TRUE) > 1"
        };
        sqlx::query(sql).bind(id).execute(pool).await.map(|r| r.rows_affected() == 1)
    })
}

/// Deletes a user with everything that hangs off them (sessions, keys, codes, locks: the
/// foreign keys cascade). A sole admin is never deleted: the check is inside the statement.
/// Answers whether the user was deleted.
pub async fn delete(pool: impl Into<Exec<'_>>, id: &str) -> Result<bool, sqlx::Error> {
    serialized!(pool, &[WHO_ADMINISTERS], pool => {
        sqlx::query(
            "DELETE FROM users WHERE id = $1
             AND (is_admin = FALSE OR (SELECT COUNT(*) FROM users WHERE is_admin = TRUE) > 1)",
        )
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// How many administrators there are besides `id`.
pub async fn other_admins(pool: impl Into<Exec<'_>>, id: &str) -> Result<i64, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_admin = TRUE AND id <> $1")
            .bind(id)
            .fetch_one(pool)
            .await
    })
}

pub async fn find_by_ldap_dn(pool: impl Into<Exec<'_>>, dn: &str) -> Result<Option<UserRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE ldap_dn = $1"))
            .bind(dn)
            .fetch_optional(pool)
            .await
    })
}

/// Links a freshly created account to its directory entry and keeps its display name current.
pub async fn set_ldap_identity(
    pool: impl Into<Exec<'_>>,
    id: &str,
    dn: &str,
    display_name: &str,
) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE users SET ldap_dn = $1, display_name = $2 WHERE id = $3")
            .bind(dn)
            .bind(display_name)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}
