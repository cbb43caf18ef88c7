//! All SQL, one file per table or aggregate, written once for both backends.
//!
//! The seam: a [`Pool`] is SQLite or PostgreSQL, and [`with_pool!`] runs one function body
//! against whichever it is (the body is compiled once per backend, from one text). Statements
//! use `$1`-style placeholders and SQL both dialects read (`TRUE`/`FALSE`, `ON CONFLICT`,
//! `RETURNING`, `CASE` instead of two-argument `MAX`). Rules that check and then change
//! (attempt limits, the first admin, the last admin) run through [`serialized!`]: one statement
//! on SQLite, which takes its write lock before reading; on PostgreSQL the same statement
//! after a transaction-scoped advisory lock on the rule's key, so two nodes cannot both see
//! room.

/// Runs `body` with `pool` rebound to the concrete SQLite or PostgreSQL pool.
macro_rules! with_pool {
    ($pool:ident => $body:block) => {
        match $pool {
            $crate::ssr::db::Pool::Sqlite($pool, _) => $body,
            $crate::ssr::db::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs `body` (one statement, on the executor `conn`) so that no other call serialised on
/// one of `keys` runs between its read and its write, on any node. Given a [`Tx`], it runs inside it
/// (on PostgreSQL the lock is then held until that transaction ends).
macro_rules! serialized {
    ($pool:ident, $keys:expr, $conn:ident => $body:block) => {
        match Into::<$crate::ssr::db::Exec<'_>>::into($pool) {
            // One statement: SQLite takes the database's write lock before it reads.
            $crate::ssr::db::Exec::Pool($crate::ssr::db::Pool::Sqlite($conn, _)) => $body,
            $crate::ssr::db::Exec::Pool($crate::ssr::db::Pool::Postgres(pg)) => {
                let mut tx = pg.begin().await?;
                // A request waits a bounded time for its turn (then 503), not a connection's life.
                sqlx::query("SET LOCAL lock_timeout = '5s'").execute(&mut *tx).await?;
                $crate::ssr::db::advisory_locks(&mut *tx, $keys).await?;
                let out = {
                    let $conn = &mut *tx;
                    $body
                }?;
                tx.commit().await?;
                Ok(out)
            }
            // A `Tx` on SQLite holds the write lock from its start (`BEGIN IMMEDIATE`).
            $crate::ssr::db::Exec::Tx($crate::ssr::db::Tx::Sqlite(t)) => {
                let $conn = &mut **t;
                $body
            }
            $crate::ssr::db::Exec::Tx($crate::ssr::db::Tx::Postgres(t)) => {
                $crate::ssr::db::advisory_locks(&mut **t, $keys).await?;
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// Runs `body` with `$ex` bound to the executor an [`Exec`] stands for: the pool (either
/// backend) or the connection of an open [`Tx`]. Functions that take `impl Into<Exec>` run
/// alone when given `&state.pool` and inside the caller's transaction when given `&mut tx`.
macro_rules! with_exec {
    ($ex:ident => $body:block) => {
        match Into::<$crate::ssr::db::Exec<'_>>::into($ex) {
            $crate::ssr::db::Exec::Pool($crate::ssr::db::Pool::Sqlite($ex, _)) => $body,
            $crate::ssr::db::Exec::Pool($crate::ssr::db::Pool::Postgres($ex)) => $body,
            $crate::ssr::db::Exec::Tx($crate::ssr::db::Tx::Sqlite(t)) => {
                let $ex = &mut **t;
                $body
            }
            $crate::ssr::db::Exec::Tx($crate::ssr::db::Tx::Postgres(t)) => {
                let $ex = &mut **t;
                $body
            }
        }
    };
}

pub mod access_rules;
pub mod api_keys;
pub mod audit;
pub mod oidc;
pub mod passkeys;
pub mod password_resets;
pub mod point_reads;
pub mod rate_limits;
pub mod sessions;
pub mod settings;
pub mod terminals;
pub mod totp;
pub mod users;
pub mod vault;

use crate::error::{AppError, ErrorKind};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

pub use sqlx::Error as DbError;

pub static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
pub static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

pub use point_reads::PointReads;

/// The database: an SQLite file (one node) or PostgreSQL (one or several nodes). An SQLite
/// file also has a [`PointReads`] path for the reads every request makes.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool, PointReads),
    Postgres(PgPool),
}

/// Takes PostgreSQL's transaction-scoped advisory lock on each of `keys`, always in the same
/// order, so two transactions locking overlapping keys queue rather than deadlock.
pub async fn advisory_locks(conn: &mut sqlx::PgConnection, keys: &[&str]) -> Result<(), sqlx::Error> {
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// How many connections a node keeps, and how long a request waits for one before it is
/// answered `503`.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 8, acquire_timeout: Duration::from_secs(5) }
    }
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens (creating an SQLite file if needed) the database and runs pending migrations.
pub async fn connect(url: &str, settings: PoolSettings) -> Result<Pool, sqlx::Error> {
    if is_postgres(url) {
        // One connection first, so a wrong address, password or database name stops the start
        // with the server's own reason rather than "pool timed out".
        use sqlx::Connection;
        sqlx::PgConnection::connect(url).await?.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect(url)
            .await?;
        POSTGRES_MIGRATOR.run(&pool).await?;
        return Ok(Pool::Postgres(pool));
    }
    let reads = PointReads::for_file(url, SqliteConnectOptions::from_str(url)?.get_filename());
    let opts = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(settings.acquire_timeout);
    // No ping before each use: a SQLite connection is a file handle in this process, and the
    // ping is one more round trip to the connection's worker thread on every query (sqlx still
    // checks a connection as it goes back to the pool and closes a broken one).
    let pool = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(opts.clone())
        .await?;
    SQLITE_MIGRATOR.run(&pool).await?;
    Ok(Pool::Sqlite(pool, reads))
}

/// A transaction on either backend: a change and the audit event that records it are kept
/// together or not at all. Dropped without [`Tx::commit`], it rolls back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// Where a statement runs: alone on the pool, or inside a [`Tx`].
pub enum Exec<'a> {
    Pool(&'a Pool),
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Pool> for Exec<'a> {
    fn from(p: &'a Pool) -> Self {
        Exec::Pool(p)
    }
}

impl<'a> From<&'a mut Tx> for Exec<'a> {
    fn from(t: &'a mut Tx) -> Self {
        Exec::Tx(t)
    }
}

impl Pool {
    /// The point-read path (off on PostgreSQL and in-memory SQLite).
    pub fn point_reads(&self) -> Option<&PointReads> {
        match self {
            Pool::Sqlite(_, reads) => Some(reads),
            Pool::Postgres(_) => None,
        }
    }

    /// Opens a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`,
    /// waiting the pool's busy timeout), so what it reads cannot change before it writes; on
    /// PostgreSQL a statement waits at most 5 s for a lock.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(p, _) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => {
                let mut t = p.begin().await?;
                sqlx::query("SET LOCAL lock_timeout = '5s'").execute(&mut *t).await?;
                Tx::Postgres(t)
            }
        })
    }

    /// Which backend this is, for logs and the health answer.
    pub fn backend(&self) -> &'static str {
        match self {
            Pool::Sqlite(..) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Connections open now, of which idle, and the most this node keeps (for the metrics).
    pub fn connections(&self) -> (u32, usize, u32) {
        match self {
            Pool::Sqlite(p, _) => (p.size(), p.num_idle(), p.options().get_max_connections()),
            Pool::Postgres(p) => (p.size(), p.num_idle(), p.options().get_max_connections()),
        }
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(p, _) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// Whether the database answers a trivial query.
pub async fn ping(pool: &Pool) -> bool {
    with_pool!(pool => { sqlx::query("SELECT 1").execute(pool).await.is_ok() })
}

/// Why the database is not ready to serve, if it is not: it does not answer, or a migration of
/// this build is missing or failed. Migrations from a newer build (the first node of a rolling
/// upgrade applied them) are only logged: they add to the schema, and taking every old node out
/// of service at once would leave none.
pub async fn readiness(pool: &Pool) -> Result<(), String> {
    let (applied, expected): (Vec<(i64, bool)>, Vec<i64>) = with_pool!(pool => {
        let applied = sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await
            .map_err(|e| format!("the database does not answer: {e}"))?;
        let migrator = migrator_for(pool);
        (applied, migrator.iter().filter(|m| m.migration_type.is_up_migration()).map(|m| m.version).collect())
    });
    let newer = schema_is_current(&applied, &expected)?;
    if !newer.is_empty() {
        tracing::warn!(?newer, "the database has migrations from a newer build");
    }
    Ok(())
}

fn migrator_for<D: sqlx::Database>(_: &sqlx::Pool<D>) -> &'static sqlx::migrate::Migrator {
    if D::NAME == <sqlx::Postgres as sqlx::Database>::NAME {
        &POSTGRES_MIGRATOR
    } else {
        &SQLITE_MIGRATOR
    }
}

/// The applied migrations (`version`, `success`) against the ones this build carries: an error
/// when one of ours is missing or any failed, else the versions from a newer build.
fn schema_is_current(applied: &[(i64, bool)], expected: &[i64]) -> Result<Vec<i64>, String> {
    if let Some((v, _)) = applied.iter().find(|(_, ok)| !ok) {
        return Err(format!("migration {v} failed"));
    }
    if let Some(v) = expected.iter().find(|v| !applied.iter().any(|(a, _)| a == *v)) {
        return Err(format!("migration {v} is not applied"));
    }
    Ok(applied.iter().map(|(a, _)| *a).filter(|a| !expected.contains(a)).collect())
}

/// Database failures are logged once here, with their cause, and reach the client only as a code.
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            e if is_unavailable(&e) => {
                tracing::error!(error = %e, "database unavailable");
                AppError::from(ErrorKind::Unavailable)
            }
            e => AppError::internal("database error", &e),
        }
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

/// Whether a failure means "the database cannot be reached just now" (answered `503`, and
/// the next request may succeed) rather than a bug: no free connection in time, a connection
/// that broke, or PostgreSQL refusing work while it shuts down, starts up or runs out of
/// room (SQLSTATE classes 08, 53 and 57).
fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            true
        }
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|c| {
            // PostgreSQL: connection, resources, operator intervention, a read-only standby
            // after a fail-over, a lock not granted in time.
            c.starts_with("08") || c.starts_with("53") || c.starts_with("57") || c == "25006" || c == "55P03"
            // SQLite: busy or locked past the busy timeout (primary code in the low byte).
            || c.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
        }),
        _ => false,
    }
}

#[cfg(test)]
mod readiness_tests {
    use super::schema_is_current;

    #[test]
    fn the_schema_is_current_when_every_migration_of_this_build_applied() {
        assert_eq!(schema_is_current(&[(1, true), (2, true)], &[1, 2]), Ok(vec![]));
        assert!(schema_is_current(&[(1, true)], &[1, 2]).unwrap_err().contains("2 is not applied"));
        assert!(schema_is_current(&[(1, true), (2, false)], &[1, 2]).unwrap_err().contains("2 failed"));
        assert_eq!(schema_is_current(&[(1, true), (2, true), (3, true)], &[1, 2]), Ok(vec![3]));
    }
}
