//! Single sign-on: sign-ins in flight and the provider identity on `users`.
use super::{Exec, Pool, Tx};
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct FlowRow {
    pub nonce: String,
    pub verifier_sealed: String,
    pub remember: bool,
    pub kind: String,
    pub expires_at: i64,
    pub browser_hash: Option<String>,
    pub return_to: Option<String>,
}

pub struct NewFlow<'a> {
    pub state_hash: &'a str,
    pub nonce: &'a str,
    pub verifier_sealed: &'a str,
    pub remember: bool,
    pub kind: &'a str,
    pub browser_hash: &'a str,
    pub return_to: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert_flow(pool: &Pool, f: &NewFlow<'_>) -> Result<(), sqlx::Error> {
    with_pool!(pool => {
        sqlx::query("DELETE FROM oidc_flows WHERE expires_at <= $1").bind(f.now).execute(pool).await?;
        sqlx::query(
            "INSERT INTO oidc_flows (state_hash, nonce, verifier_sealed, remember, kind, browser_hash, created_at, expires_at, return_to)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(f.state_hash)
        .bind(f.nonce)
        .bind(f.verifier_sealed)
        .bind(f.remember)
        .bind(f.kind)
        .bind(f.browser_hash)
        .bind(f.now)
        .bind(f.expires_at)
        .bind(f.return_to)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Takes a flow out: a state works once, even with two callbacks racing.
pub async fn take_flow(pool: impl Into<Exec<'_>>, state_hash: &str) -> Result<Option<FlowRow>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as("DELETE FROM oidc_flows WHERE state_hash = $1 RETURNING nonce, verifier_sealed, remember, kind, expires_at, browser_hash, return_to")
            .bind(state_hash)
            .fetch_optional(pool)
            .await
    })
}

/// Who a provider says someone is: its issuer identifier and the identifier it gives them
/// (the claim at `identifier_path`, `sub` by default). Accounts are keyed by the pair.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ProviderIdentity {
    #[sqlx(rename = "oidc_issuer")]
    pub issuer: String,
    #[sqlx(rename = "oidc_subject")]
    pub subject: String,
}

pub async fn find_user(
    pool: impl Into<Exec<'_>>,
    who: &ProviderIdentity,
) -> Result<Option<String>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar("SELECT id FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2")
            .bind(&who.issuer)
            .bind(&who.subject)
            .fetch_optional(pool)
            .await
    })
}

/// The provider identity of an account, if it signs in through one. An account from before
/// issuers were recorded, with no provider configured at the upgrade, has none it can use.
pub async fn identity_of(
    pool: impl Into<Exec<'_>>,
    user_id: &str,
) -> Result<Option<ProviderIdentity>, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_as(
            "SELECT oidc_issuer, oidc_subject FROM users
              WHERE id = $1 AND oidc_subject IS NOT NULL AND oidc_issuer IS NOT NULL",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

/// Whether an account is linked to a provider at all (known issuer or not).
pub async fn is_linked(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<bool, sqlx::Error> {
    with_exec!(pool => {
        sqlx::query_scalar("SELECT oidc_subject IS NOT NULL FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await
            .map(|v| v.unwrap_or(false))
    })
}

/// Moves the provider identity of an SSO-only account onto a password account and deletes
/// the SSO-only one, inside the caller's transaction, serialised with every change to who is
/// an admin: an admin SSO account is only merged away while the target is still an admin, and
/// a target linked meanwhile is not overwritten. Answers false when either no longer holds;
/// the caller then drops the transaction, which undoes the half that happened.
pub async fn merge_into(
    tx: &mut Tx,
    oidc_user_id: &str,
    target_id: &str,
    who: &ProviderIdentity,
) -> Result<bool, sqlx::Error> {
    macro_rules! merge {
        ($conn:expr) => {{
            let conn = $conn;
            let gone = sqlx::query(
                "DELETE FROM users WHERE id = $1
                 AND (is_admin = FALSE OR EXISTS (SELECT 1 FROM users WHERE id = $2 AND is_admin = TRUE))",
            )
            .bind(oidc_user_id)
            .bind(target_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if gone == 0 {
                return Ok(false);
            }
            let linked = sqlx::query(
                "UPDATE users SET oidc_issuer = $1, oidc_subject = $2, is_oidc = TRUE
                 WHERE id = $3 AND oidc_subject IS NULL AND password_hash IS NOT NULL",
            )
            .bind(&who.issuer)
            .bind(&who.subject)
            .bind(target_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            Ok(linked == 1)
        }};
    }
    match tx {
        // The transaction holds SQLite's write lock from its start.
        Tx::Sqlite(t) => merge!(&mut **t),
        Tx::Postgres(t) => {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(super::users::WHO_ADMINISTERS)
                .execute(&mut **t)
                .await?;
            merge!(&mut **t)
        }
    }
}

pub async fn clear_subject(pool: impl Into<Exec<'_>>, user_id: &str) -> Result<(), sqlx::Error> {
    with_exec!(pool => {
        sqlx::query("UPDATE users SET oidc_issuer = NULL, oidc_subject = NULL, is_oidc = FALSE WHERE id = $1")
            .bind(user_id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;
    use sqlx::SqlitePool;

    fn wrap(p: &SqlitePool) -> Pool {
        Pool::Sqlite(p.clone(), crate::ssr::db::PointReads::off())
    }

    const ISSUER_MIGRATION: i64 = 20261125000004;

    /// A database as the previous release left it: every migration before `ISSUER_MIGRATION`.
    async fn before_issuers() -> SqlitePool {
        let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        for m in super::super::SQLITE_MIGRATOR.iter().filter(|m| m.version < ISSUER_MIGRATION) {
            sqlx::raw_sql(&m.sql).execute(&pool).await.unwrap();
        }
        pool
    }

    async fn upgrade(pool: &SqlitePool) {
        let m = super::super::SQLITE_MIGRATOR.iter().find(|m| m.version == ISSUER_MIGRATION).unwrap();
        sqlx::raw_sql(&m.sql).execute(pool).await.unwrap();
    }

    async fn sso_row(pool: &SqlitePool, id: &str, subject: &str) {
        sqlx::query(
            "INSERT INTO users (id, username, username_key, display_name, oidc_subject, is_oidc, is_admin, tokens_valid_after, created_at)
             VALUES (?, ?, ?, ?, ?, 1, 0, 0, 0)",
        )
        .bind(id)
        .bind(id)
        .bind(id)
        .bind(id)
        .bind(subject)
        .execute(pool)
        .await
        .unwrap();
    }

    fn from(issuer: &str, subject: &str) -> ProviderIdentity {
        ProviderIdentity { issuer: issuer.into(), subject: subject.into() }
    }

    #[tokio::test]
    async fn accounts_from_before_issuers_belong_to_the_provider_configured_at_the_upgrade() {
        let pool = before_issuers().await;
        sqlx::query("INSERT INTO settings (key, value) VALUES ('oidc_config', ?)")
            .bind(r#"{"client_id":"c","issuer_url":"https://id.example.org","client_secret_sealed":"x"}"#)
            .execute(&pool)
            .await
            .unwrap();
        sso_row(&pool, "u1", "sub-1").await;
        upgrade(&pool).await;
        assert_eq!(
            find_user(&wrap(&pool), &from("https://id.example.org", "sub-1")).await.unwrap().as_deref(),
            Some("u1")
        );
        assert_eq!(find_user(&wrap(&pool), &from("https://other.example.net", "sub-1")).await.unwrap(), None);
        assert_eq!(
            identity_of(&wrap(&pool), "u1").await.unwrap(),
            Some(from("https://id.example.org", "sub-1"))
        );
        // The same subject from another issuer is another account, not a unique-key clash.
        sso_row(&pool, "u2", "sub-1").await;
        sqlx::query("UPDATE users SET oidc_issuer = 'https://other.example.net' WHERE id = 'u2'")
            .execute(&pool)
            .await
            .unwrap();
        let clash = sqlx::query("UPDATE users SET oidc_issuer = 'https://id.example.org' WHERE id = 'u2'")
            .execute(&pool)
            .await;
        assert!(clash.is_err(), "one account per (issuer, subject)");
    }

    #[tokio::test]
    async fn without_a_provider_at_the_upgrade_no_issuer_can_claim_old_accounts() {
        let pool = before_issuers().await;
        sso_row(&pool, "u1", "sub-1").await;
        upgrade(&pool).await;
        assert_eq!(identity_of(&wrap(&pool), "u1").await.unwrap(), None);
        assert!(is_linked(&wrap(&pool), "u1").await.unwrap(), "still shown as an SSO account");
        assert_eq!(find_user(&wrap(&pool), &from("https://id.example.org", "sub-1")).await.unwrap(), None);
    }
}
