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
//!
//! The session check goes one step further ([`PointReads::session`]): it remembers the rows it
//! read, but only for as long as the database has not changed at all. SQLite's write-ahead-log
//! index (shared memory that every connection of every process on this file uses to find the
//! newest data) starts with a header that every commit rewrites; the check reads that header
//! first and answers from memory only when it is byte for byte the one its rows were read
//! under. Any commit, by this process or another (the `sqlite3` shell, a script), makes the next
//! request read the database again, so a revoke or a lock is in force at the very next request
//! exactly as before; an unchanged file skips the read transaction, whose shared-memory locks
//! (`fcntl`) cost more than the query.
use crate::ssr::db::sessions::SessionAuthRow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// At most this many idle read connections are kept (more are closed after use).
const MAX_IDLE: usize = 16;

/// At most this many sessions are remembered at once; beyond that the memory starts over.
const MAX_REMEMBERED: usize = 4096;

/// The WAL index header's size; the index starts with two copies of it (`walformat.html`).
const WAL_HEADER: usize = 48;

/// How long after a failed attempt the WAL index is mapped again.
const RETRY_MAP: std::time::Duration = std::time::Duration::from_secs(10);

/// A point-read path for one SQLite file; `off()` for databases it cannot open a second time
/// (in memory) or for PostgreSQL, where every read already goes straight to the socket.
#[derive(Clone, Default)]
pub struct PointReads(Option<Arc<Inner>>);

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
    /// Set up on first use; tried again at most every [`RETRY_MAP`] while it cannot be (the
    /// file not in WAL mode yet, a checkpoint holding a lock): meanwhile every check reads.
    wal: OnceLock<WalMark>,
    wal_tried: Mutex<Option<std::time::Instant>>,
    sessions: Mutex<Remembered>,
    /// Whole-table reads (the access rules) by name, with the mark they were read under.
    tables: Mutex<HashMap<&'static str, Marked>>,
}

/// A whole-table read and the WAL index header it was read under.
type Marked = ([u8; WAL_HEADER], Arc<dyn std::any::Any + Send + Sync>);

/// Session rows read while the WAL index header was `mark`.
#[derive(Default)]
struct Remembered {
    mark: Option<[u8; WAL_HEADER]>,
    rows: HashMap<String, SessionAuthRow>,
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
        Self(Some(Arc::new(Inner {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            wal: OnceLock::new(),
            wal_tried: Mutex::new(None),
            sessions: Mutex::new(Remembered::default()),
            tables: Mutex::new(HashMap::new()),
        })))
    }

    /// The session row for `id`, read with `read` unless the same row was read since the last
    /// commit to the file (see the module's documentation). `None` when there is no fast path.
    pub fn session(
        &self,
        id: &str,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<Option<SessionAuthRow>>,
    ) -> Option<Option<SessionAuthRow>> {
        let inner = self.0.as_ref()?;
        // The header before the read: a row is never filed under a mark newer than its data.
        let mark = inner.wal_mark().and_then(WalMark::read);
        if let Some(mark) = mark {
            let mut memory = inner.sessions.lock().ok()?;
            if memory.mark != Some(mark) {
                memory.rows.clear();
                memory.mark = Some(mark);
            } else if let Some(row) = memory.rows.get(id) {
                return Some(Some(row.clone()));
            }
        }
        let found = self.run(read)?;
        if let (Some(mark), Some(row)) = (mark, &found) {
            if let Ok(mut memory) = inner.sessions.lock() {
                if memory.mark == Some(mark) {
                    if memory.rows.len() >= MAX_REMEMBERED {
                        memory.rows.clear();
                    }
                    memory.rows.insert(id.to_owned(), row.clone());
                }
            }
        }
        Some(found)
    }

    /// `read`'s answer for the small table `name`, read again only after a commit to the file
    /// (the same mark as [`PointReads::session`]). `None` when there is no fast path.
    pub fn table<T: Send + Sync + 'static>(
        &self,
        name: &'static str,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<Arc<T>> {
        let inner = self.0.as_ref()?;
        // The header before the read: a value is never filed under a mark newer than its data.
        let mark = inner.wal_mark().and_then(WalMark::read);
        if let Some(mark) = mark {
            let memory = inner.tables.lock().ok()?;
            if let Some((seen, value)) = memory.get(name) {
                if *seen == mark {
                    if let Ok(value) = value.clone().downcast::<T>() {
                        return Some(value);
                    }
                }
            }
        }
        let value = Arc::new(self.run(read)?);
        if let (Some(mark), Ok(mut memory)) = (mark, inner.tables.lock()) {
            memory.insert(name, (mark, value.clone()));
        }
        Some(value)
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

impl Inner {
    /// The mapped WAL index, mapping it first when due.
    fn wal_mark(&self) -> Option<&WalMark> {
        if let Some(mark) = self.wal.get() {
            return Some(mark);
        }
        let mut tried = self.wal_tried.lock().ok()?;
        if tried.is_some_and(|t| t.elapsed() < RETRY_MAP) {
            return None;
        }
        *tried = Some(std::time::Instant::now());
        let mark = WalMark::map(&self.path)?;
        Some(self.wal.get_or_init(|| mark))
    }
}

/// SQLite's own mapping of the WAL index of one file, kept alive by a connection of its own.
struct WalMark {
    /// The first bytes of the index's first region, as SQLite mapped them (`xShmMap`).
    header: *const u8,
    /// Holds the mapping (and SQLite's claim on the shared memory, which it removes only when
    /// the last connection to the file closes). Never used for queries.
    _anchor: Mutex<rusqlite::Connection>,
}

// SAFETY: `header` points into a shared mapping that lives as long as `_anchor`, which this
// struct owns; it is only ever read, with volatile reads, like SQLite reads it.
unsafe impl Send for WalMark {}
// SAFETY: as above: concurrent volatile reads of shared memory.
unsafe impl Sync for WalMark {}

impl WalMark {
    /// Maps the WAL index of the file at `path` through a connection of its own: `None` when
    /// the file is not in WAL mode or SQLite refuses.
    fn map(path: &Path) -> Option<WalMark> {
        let anchor = open(path)?;
        let mode: String = anchor.query_row("PRAGMA journal_mode", [], |r| r.get(0)).ok()?;
        if !mode.eq_ignore_ascii_case("wal") {
            return None;
        }
        // One read transaction, so the connection has the index open.
        anchor.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).ok()?;
        let mut region: *mut std::ffi::c_void = std::ptr::null_mut();
        // SAFETY: `handle()` is this open connection's; SQLITE_FCNTL_FILE_POINTER writes the
        // main database's `sqlite3_file` pointer, valid while the connection is open. `xShmMap`
        // with `bExtend = 0` only answers SQLite's existing mapping of region 0 (32 KiB, the
        // size every WAL index region has) and never grows the file. Nothing is closed here,
        // so no POSIX lock the process holds on the file is dropped.
        unsafe {
            use rusqlite::ffi;
            let db = anchor.handle();
            let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
            let rc = ffi::sqlite3_file_control(
                db,
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_FILE_POINTER,
                (&raw mut file).cast(),
            );
            if rc != ffi::SQLITE_OK || file.is_null() || (*file).pMethods.is_null() {
                return None;
            }
            let methods = &*(*file).pMethods;
            let shm_map = if methods.iVersion >= 2 { methods.xShmMap? } else { return None };
            if shm_map(file, 0, 32 * 1024, 0, &mut region) != ffi::SQLITE_OK || region.is_null() {
                return None;
            }
        }
        let mark = WalMark { header: region.cast_const().cast(), _anchor: Mutex::new(anchor) };
        mark.read()?;
        Some(mark)
    }

    /// The header as it stands, or `None` while a writer is halfway through rewriting it.
    /// SQLite writes the second copy, then the first; reading the first, then the second, and
    /// finding them equal means neither was torn (its own `walIndexTryHdr` does the same).
    fn read(&self) -> Option<[u8; WAL_HEADER]> {
        use std::sync::atomic::{fence, AtomicU32, Ordering};
        const WORDS: usize = WAL_HEADER / 4;
        // SAFETY: the mapping is at least 32 KiB, page aligned, and lives as long as `self`;
        // another process may write it at any time, so it is only read through atomics (two
        // copies of 12 words).
        let words = unsafe { &*self.header.cast::<[AtomicU32; 2 * WORDS]>() };
        let copy = |at: usize| -> [u8; WAL_HEADER] {
            let mut out = [0u8; WAL_HEADER];
            for (i, chunk) in out.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&words[at + i].load(Ordering::Relaxed).to_ne_bytes());
            }
            out
        };
        for _ in 0..3 {
            let first = copy(0);
            fence(Ordering::SeqCst);
            let second = copy(WORDS);
            // Byte 12 is `isInit`: an index that was never written tells nothing.
            if first == second && first[12] == 1 {
                return Some(first);
            }
        }
        None
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

    fn row(id: &str, name: String) -> SessionAuthRow {
        SessionAuthRow {
            session_id: id.into(),
            user_id: "u".into(),
            expires_at: 0,
            last_active_at: 0,
            revoked_at: None,
            username: name,
            display_name: String::new(),
            is_admin: false,
            is_oidc: false,
            tokens_valid_after: 0,
            locked_at: None,
            has_passcode: false,
            lock_after_minutes: 0,
            authenticated_at: 0,
            vault_key_sealed: None,
            second_factor_at: None,
        }
    }

    #[test]
    fn a_remembered_table_is_read_again_after_any_commit() {
        let dir = std::env::temp_dir().join(format!("pc-point-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE r (n INTEGER); INSERT INTO r VALUES (1);")
            .unwrap();
        let reads = PointReads::for_file("sqlite://t.db", &path);
        let count = std::cell::Cell::new(0);
        let get = || {
            *reads
                .table("r", |c| {
                    count.set(count.get() + 1);
                    c.query_row("SELECT SUM(n) FROM r", [], |r| r.get::<_, i64>(0))
                })
                .unwrap()
        };
        assert_eq!((get(), get(), count.get()), (1, 1, 1), "an unchanged file is answered from memory");
        writer.execute("INSERT INTO r VALUES (2)", []).unwrap();
        assert_eq!((get(), count.get()), (3, 2), "a commit is seen at the next read");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_remembered_session_is_read_again_after_any_commit_by_anyone() {
        let dir = std::env::temp_dir().join(format!("pc-point-memo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode=WAL; CREATE TABLE s (id TEXT PRIMARY KEY, name TEXT);
                 CREATE TABLE other (x INTEGER); INSERT INTO s VALUES ('a', 'first');",
            )
            .unwrap();
        let reads = PointReads::for_file("sqlite://t.db", &path);
        let count = std::cell::Cell::new(0);
        let get = || {
            reads
                .session("a", |c| {
                    count.set(count.get() + 1);
                    c.query_row("SELECT name FROM s WHERE id = 'a'", [], |r| r.get(0))
                        .map(|n| Some(row("a", n)))
                })
                .unwrap()
                .unwrap()
                .username
        };
        assert_eq!(get(), "first");
        assert_eq!(get(), "first");
        assert_eq!(count.get(), 1, "an unchanged file is answered from memory");
        writer.execute("UPDATE s SET name = 'second' WHERE id = 'a'", []).unwrap();
        assert_eq!(get(), "second", "a commit by another connection is seen at the next read");
        assert_eq!(count.get(), 2);
        writer.execute("INSERT INTO other VALUES (1)", []).unwrap();
        assert_eq!(get(), "second");
        assert_eq!(count.get(), 3, "any commit at all, even to another table, forgets every row");
        // A checkpoint that empties the log changes nothing a reader sees and stays correct.
        writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        writer.execute("UPDATE s SET name = 'third' WHERE id = 'a'", []).unwrap();
        assert_eq!(get(), "third", "after the log starts over");
        // Another process, with its own mapping: Debian's sqlite3 shell (`.ci/run` installs it).
        let out = std::process::Command::new("sqlite3")
            .arg(&path)
            .arg("UPDATE s SET name = 'fourth' WHERE id = 'a';")
            .output()
            .expect("Debian's sqlite3 shell");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(get(), "fourth", "a commit by another process is seen at the next read");
        // A database not in WAL mode gets no memory at all: every call reads.
        let plain_path = dir.join("plain.db");
        rusqlite::Connection::open(&plain_path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE s (id TEXT PRIMARY KEY, name TEXT); INSERT INTO s VALUES ('a', 'x');",
            )
            .unwrap();
        let plain = PointReads::for_file("sqlite://plain.db", &plain_path);
        let reads_made = std::cell::Cell::new(0);
        for _ in 0..2 {
            plain.session("a", |_| {
                reads_made.set(reads_made.get() + 1);
                Ok(Some(row("a", "x".into())))
            });
        }
        assert_eq!(reads_made.get(), 2);
        drop((reads, plain, writer));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
