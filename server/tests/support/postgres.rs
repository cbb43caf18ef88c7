//! A real PostgreSQL server for the tests: started once per test binary on a free loopback
//! port, as an ordinary user (Debian's PostgreSQL refuses to run as root), in a temporary
//! folder; a watcher stops it and removes the folder when the test process ends.
//!
//! `PORTCULLIS_TEST_BACKEND=postgres` runs the HTTP suite on it; tests that are about
//! PostgreSQL itself (two nodes, a database that stops) start their own with [`Cluster::start`].
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Whether this test run puts the instances on PostgreSQL.
pub fn selected() -> bool {
    std::env::var("PORTCULLIS_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

pub struct Cluster {
    pub dir: PathBuf,
    pub port: u16,
    bin: PathBuf,
}

/// Debian installs the server programs under /usr/lib/postgresql/<version>/bin.
fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (apt-get install postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().expect("an initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("Uid:")).map(|u| u.split_whitespace().next() == Some("0"))
        })
        .unwrap_or(false)
}

/// A command run as `nobody` when the tests run as root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn run(mut c: Command, what: &str) {
    let out = c.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out.status.success(), "{what} failed: {}", String::from_utf8_lossy(&out.stderr));
}

impl Cluster {
    /// Creates and starts a new server. Stopped (and its folder removed) when this process
    /// ends, even if a test panics.
    pub fn start() -> Cluster {
        let bin = bin_dir();
        let dir = std::env::temp_dir().join(format!("portcullis-pg-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg("nobody:nogroup").arg(&dir);
                    c
                },
                "chown",
            );
        }
        let data = dir.join("data");
        let mut init = as_server_user(&bin.join("initdb"));
        init.args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "-D"]).arg(&data);
        run(init, "initdb");
        let port = free_port();
        let cluster = Cluster { dir, port, bin };
        cluster.pg_ctl_start();
        // The watcher: when the test process is gone, stop the server and remove its folder.
        // It outlives this process on purpose, so it is never waited for.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while [ -d /proc/{pid} ]; do sleep 1; done; {stop}; rm -rf '{dir}'",
                pid = std::process::id(),
                stop = cluster.stop_command(),
                dir = cluster.dir.display(),
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        cluster
    }

    fn pg_ctl(&self) -> Command {
        let mut c = as_server_user(&self.bin.join("pg_ctl"));
        c.arg("-D").arg(self.dir.join("data"));
        c
    }

    fn stop_command(&self) -> String {
        let runner = if is_root() { "runuser -u nobody -- " } else { "" };
        format!(
            "{runner}{} -D '{}' stop -m immediate",
            self.bin.join("pg_ctl").display(),
            self.dir.join("data").display()
        )
    }

    /// Starts (or starts again) the server and waits until it accepts connections.
    pub fn pg_ctl_start(&self) {
        let mut c = self.pg_ctl();
        c.args(["-w", "-l"]).arg(self.dir.join("server.log")).arg("-o").arg(format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=400",
            self.port,
            self.dir.display()
        ));
        c.arg("start");
        run(c, "pg_ctl start");
    }

    /// Stops the server at once (what a crash or an operator's restart looks like to clients).
    pub fn stop(&self) {
        let mut c = self.pg_ctl();
        c.args(["-w", "stop", "-m", "immediate"]);
        run(c, "pg_ctl stop");
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A new empty database, or the existing one of that name (a restart of an instance).
    pub async fn database(&self, name: &str) -> String {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres")).await.unwrap();
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        if !exists {
            sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).await.unwrap();
        }
        self.url(name)
    }

    /// Everything the database holds, as `pg_dump` writes it (to check what is at rest).
    pub fn dump(&self, database: &str) -> Vec<u8> {
        let out = Command::new(self.bin.join("pg_dump"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", database])
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }
}

/// The server this test binary shares, started at first use.
pub fn shared() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

/// The database name that belongs to a test's data folder (so a restart finds it again).
pub fn database_name(data_dir: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut h);
    format!("t_{:016x}", h.finish())
}
