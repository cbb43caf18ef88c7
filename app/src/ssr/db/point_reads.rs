//! Point reads on the hot path (the session check every request makes), without sqlx-sqlite's
//! hand-off to a per-connection worker thread.
//!
//! sqlx runs each SQLite statement on the connection's own thread and passes the answer back
//! over channels; for a lookup by primary key that costs far more than SQLite itself (two
//! context switches against a few microseconds of work). Here the same file is opened a few
//! more times read-only, with `rusqlite`, and a point read runs right where it is asked, on a
//! prepared statement. Every read is its own transaction in WAL mode, so it sees every write
//! committed before it (a revoke, a lock, a sign-out) exactly as the sqlx pool would.
//!
//! It never waits: a busy or failing connection answers `None`, and the caller falls back to
//! the pool. Connections are kept in a small free list, one per thread using it at a time, so
//! their number is bounded by the runtime's threads, not by requests.
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// At most this many idle read connections are kept (more are closed after use).
const MAX_IDLE: usize = 16;

/// A point-read path for one SQLite file; `off()` for databases it cannot open a second time
/// (in memory) or for PostgreSQL, where every read already goes straight to the socket.
#[derive(Clone, Default)]
pub struct PointReads(Option<Arc<Inner>>);

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl std::fmt::Debug for PointReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "PointReads(on)" } else { "PointReads(off)" })
    }
}

impl PointReads {
    /// No fast path: every read goes through the pool.
    pub fn off() -> Self {
        Self(None)
    }

    /// Point reads on the SQLite database at `url`, opened at `path` (in-memory databases,
    /// which another connection cannot share, get none).
    pub fn for_file(url: &str, path: &Path) -> Self {
        if url.contains(":memory:") || url.contains("mode=memory") || path.as_os_str().is_empty() {
            return Self::off();
        }
        Self(Some(Arc::new(Inner { path: path.to_owned(), idle: Mutex::new(Vec::new()) })))
    }

    /// Runs `read` on a read-only connection; `None` when there is no fast path or it failed
    /// (busy, missing table during a migration, anything): the caller then asks the pool.
    pub fn run<T>(&self, read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>) -> Option<T> {
        let inner = self.0.as_ref()?;
        let conn = match inner.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            Some(c) => c,
            None => open(&inner.path)?,
        };
        let out = read(&conn);
        if out.is_ok() {
            if let Ok(mut idle) = inner.idle.lock() {
                if idle.len() < MAX_IDLE {
                    idle.push(conn);
                }
            }
        }
        out.ok()
    }
}

/// SQLite counts every allocation under one process-wide mutex unless told not to; with
/// requests on several threads that mutex, not the query, becomes the cost.
///
/// # Safety
/// Call it before any thread uses SQLite (first thing in `main`): `sqlite3_config` is not
/// thread-safe. Once SQLite has started it refuses (`SQLITE_MISUSE`) and changes nothing.
pub unsafe fn quiet_memory_statistics() {
    // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int; the caller guarantees no other thread
    // touches SQLite meanwhile.
    unsafe {
        rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
    }
}

fn open(path: &Path) -> Option<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(path, flags).ok()?;
    // Never wait for a lock on a runtime thread: busy means "ask the pool".
    conn.busy_timeout(std::time::Duration::ZERO).ok()?;
    conn.set_prepared_statement_cache_capacity(8);
    Some(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_sees_what_another_connection_committed_just_before() {
        let dir = std::env::temp_dir().join(format!("pc-point-reads-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (id TEXT PRIMARY KEY, v INTEGER);")
            .unwrap();
        writer.execute("INSERT INTO t VALUES ('a', 1)", []).unwrap();
        let reads = PointReads::for_file("sqlite://t.db", &path);
        let get = || reads.run(|c| c.query_row("SELECT v FROM t WHERE id = 'a'", [], |r| r.get::<_, i64>(0)));
        assert_eq!(get(), Some(1));
        writer.execute("UPDATE t SET v = 2 WHERE id = 'a'", []).unwrap();
        assert_eq!(get(), Some(2), "the kept connection must not answer from an old snapshot");
        assert_eq!(reads.run(|c| c.query_row("SELECT v FROM nope", [], |r| r.get::<_, i64>(0))), None);
        assert_eq!(
            PointReads::for_file("sqlite::memory:", Path::new("file:sqlx-in-memory-1")).run(|_| Ok(1)),
            None
        );
        assert_eq!(PointReads::for_file("sqlite://x.db?mode=memory", &path).run(|_| Ok(1)), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
