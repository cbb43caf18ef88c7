//! Load benchmark (not a test): `bash bench/run.sh`.
//!
//! Runs the release `portcullis` binary as its own process on a fresh SQLite file (or the
//! PostgreSQL database in `BENCH_DATABASE_URL`), a bare axum JSON handler as a second process,
//! and Debian's `wrk` as a third, so the figures are what a client sees. In the same run it
//! measures raw argon2id verifies with the same parameters on every core, then prints one
//! table with the ratios the performance goals are stated in:
//!
//! - `GET /api/auth/me` (valid token) and `GET /api/auth/status` against the bare handler;
//! - password sign-ins against raw argon2id;
//! - `/api/auth/me` during a sign-in storm (8 concurrent), with the server's peak memory during
//!   the storm and its memory after it;
//! - with `BENCH_USERS` users and `BENCH_SESSIONS` sessions seeded into a second file (default
//!   1,000,000 and 10,000,000; `BENCH_USERS=0` skips it) and served by a second process beside
//!   the first: `me` and sign-in against the small database in alternating turns, and the first
//!   pages of the user list and of every session (admin).
//!
//! `BENCH_SECONDS` (default 10) sets each run's length, `BENCH_TURNS` (default 6) the interleaved
//! sign-in / raw argon2id turns; `bench raw [SECONDS]` measures raw argon2id alone.
// A measuring tool, not the service: any failure should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "grumpy-lantern-orbit-41";
const SECRET_KEY: &str = "bench-instance-key-shared-by-all-nodes-0123";

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.replace('_', "").parse().ok()).unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What one `wrk` run reported.
#[derive(Clone, Copy, Debug, Default)]
struct Wrk {
    rps: f64,
    p99_ms: f64,
    requests: u64,
    non_2xx: u64,
}

fn parse_ms(s: &str) -> f64 {
    let s = s.trim();
    if let Some(v) = s.strip_suffix("us") {
        v.parse::<f64>().unwrap() / 1000.0
    } else if let Some(v) = s.strip_suffix("ms") {
        v.parse().unwrap()
    } else if let Some(v) = s.strip_suffix('s') {
        v.parse::<f64>().unwrap() * 1000.0
    } else {
        s.parse().unwrap()
    }
}

fn wrk(url: &str, connections: u32, secs: u64, token: Option<&str>, script: Option<&Path>) -> Wrk {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", &format!("-c{connections}"), &format!("-d{secs}s"), "--latency", "--timeout", "10s"]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    if let Some(s) = script {
        cmd.args(["-s", s.to_str().unwrap()]);
    }
    let out = cmd.arg(url).output().expect("run wrk (Debian package wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut w = Wrk::default();
    for line in text.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Requests/sec:") {
            w.rps = v.trim().parse().unwrap();
        } else if let Some(v) = t.strip_prefix("99%") {
            w.p99_ms = parse_ms(v);
        } else if let Some(v) = t.strip_prefix("Non-2xx or 3xx responses:") {
            w.non_2xx = v.trim().parse().unwrap();
        } else if t.contains(" requests in ") {
            w.requests = t.split_whitespace().next().unwrap().parse().unwrap();
        }
    }
    assert!(w.rps > 0.0, "wrk printed no rate for {url}:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    w
}

/// Resident memory of a process, in MiB: (now, peak).
fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(bin: &Path, data: &Path, database_url: &str) -> Self {
        let port = free_port();
        let child = Command::new(bin)
            .env("PORTCULLIS_ADDR", format!("127.0.0.1:{port}"))
            .env("PORTCULLIS_DATA_DIR", data)
            .env("PORTCULLIS_DATABASE_URL", database_url)
            .env("PORTCULLIS_SECRET_KEY", SECRET_KEY)
            .env("PORTCULLIS_TRUSTED_PROXIES", "127.0.0.1/32")
            .env("PORTCULLIS_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start portcullis");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(600);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "portcullis did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, base }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sets the instance up with the admin; answers the admin's token.
    fn set_up(&self) -> String {
        let (code, body) = post_json(
            &format!("{}/api/auth/setup", self.base),
            &format!(r#"{{"username":"admin","password":"{PASSWORD}","displayName":"Admin"}}"#),
            None,
        );
        assert_eq!(code, 200, "setup: {body}");
        token_of(&body)
    }

    fn stop(mut self) {
        let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

fn post_json(url: &str, body: &str, token: Option<&str>) -> (u16, String) {
    send_json("POST", url, body, token)
}

fn send_json(method: &str, url: &str, body: &str, token: Option<&str>) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-s",
        "-X",
        method,
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "-H",
        "Content-Type: application/json",
        "-d",
        body,
    ]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = cmd.arg(url).output().expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

fn token_of(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("json");
    v["token"].as_str().expect("token").to_owned()
}

/// A `wrk` script signing in with a random client address each time (the bench stands behind a
/// trusted proxy, so per-network limits do not cut it short): `admin`, or one of `users`
/// seeded users.
fn login_script(dir: &Path, users: u64) -> PathBuf {
    let path = dir.join(format!("login-{users}.lua"));
    let who = if users == 0 {
        "'admin'".to_owned()
    } else {
        format!("string.format('user%07d', math.random(1, {users}))")
    };
    let mut f = std::fs::File::create(&path).unwrap();
    write!(
        f,
        r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  wrk.headers["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  wrk.body = '{{"username":"' .. {who} .. '","password":"{PASSWORD}"}}'
  return wrk.format()
end
"#
    )
    .unwrap();
    path
}

/// Runs `one` over and over on every core for `secs`; answers the runs per second. `make`
/// gives each thread its own runner (and whatever memory it keeps).
fn per_second_on_every_core<F: FnMut() + Send + 'static>(secs: u64, make: impl Fn() -> F) -> f64 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let (mut one, done) = (make(), done.clone());
            std::thread::spawn(move || {
                while Instant::now() < deadline {
                    one();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn bench_argon2() -> argon2::Argon2<'static> {
    let params = argon2::Params::new(19 * 1024, 2, 1, None).unwrap();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Raw argon2id verifies per second on every core, with the server's parameters.
fn raw_argon2(secs: u64) -> f64 {
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    let a = bench_argon2();
    let hash =
        a.hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut rand_core())).unwrap().to_string();
    per_second_on_every_core(secs, || {
        let (a, hash) = (a.clone(), hash.clone());
        move || {
            let parsed = PasswordHash::new(&hash).unwrap();
            assert!(a.verify_password(PASSWORD.as_bytes(), &parsed).is_ok());
        }
    })
}

/// As [`raw_argon2`], but each thread reuses one memory area, as the server's workers do.
fn raw_argon2_reused(secs: u64) -> f64 {
    let a = bench_argon2();
    per_second_on_every_core(secs, || {
        let a = a.clone();
        let mut memory = vec![argon2::Block::default(); a.params().block_count()];
        let mut out = [0u8; 32];
        move || {
            a.hash_password_into_with_memory(
                PASSWORD.as_bytes(),
                b"sixteen byte salt",
                &mut out,
                &mut memory,
            )
            .unwrap();
        }
    })
}

fn rand_core() -> rand::rngs::OsRng {
    rand::rngs::OsRng
}

/// Samples a process's memory until stopped: the highest resident size seen.
fn sample_peak(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<f64> {
    std::thread::spawn(move || {
        let mut peak = 0f64;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(rss_mib(pid).0);
            std::thread::sleep(Duration::from_millis(50));
        }
        peak
    })
}

/// A bare axum handler answering a fixed JSON body: the ceiling of this machine and client.
fn run_bare(port: u16) -> ! {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let app = axum::Router::new().route(
            "/me",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"user": {"id": "x", "username": "admin", "role": "admin"}}))
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        axum::serve(listener, app).await.unwrap();
    });
    std::process::exit(0)
}

/// Adds `users` users (password `PASSWORD`) and `sessions` live sessions spread over them,
/// straight into the stopped instance's SQLite file.
async fn seed(db: &Path, users: u64, sessions: u64) {
    use sqlx::ConnectOptions;
    let hash = {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let params = argon2::Params::new(19 * 1024, 2, 1, None).unwrap();
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut rand_core()))
            .unwrap()
            .to_string()
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new().filename(db).connect().await.unwrap();
    sqlx::raw_sql("PRAGMA synchronous = OFF").execute(&mut conn).await.unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO users (id, username, username_key, display_name, password_hash, tokens_valid_after, created_at)
         SELECT printf('u%07d', i), printf('user%07d', i), printf('user%07d', i), printf('User %d', i), $2, 0, $3 FROM n",
    )
    .bind(users as i64)
    .bind(&hash)
    .bind(now - 86_400)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO sessions (id, user_id, device_type, device_info, ip_address, created_at, expires_at, last_active_at)
         SELECT printf('s%09d', i), printf('u%07d', 1 + i % $2), 'desktop', 'Firefox on Linux', '10.0.0.1',
                $3 - 3600, $3 + 30 * 86400, $3 - 3600 + i % 3000 FROM n",
    )
    .bind(sessions as i64)
    .bind(users as i64)
    .bind(now)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await.unwrap();
}

/// One timed GET: (milliseconds, body bytes).
fn get_once(url: &str, token: &str) -> (f64, usize) {
    let t = Instant::now();
    let out = Command::new("curl")
        .args(["-s", "-f", "-H", &format!("Authorization: Bearer {token}"), url])
        .output()
        .expect("curl");
    assert!(out.status.success(), "GET {url} failed");
    (t.elapsed().as_secs_f64() * 1000.0, out.stdout.len())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("bare") {
        run_bare(args[2].parse().unwrap());
    }
    if args.get(1).map(String::as_str) == Some("raw") {
        let secs = args.get(2).map_or(10, |s| s.parse().unwrap());
        println!("raw argon2id (the crate's verify): {:.1}/s", raw_argon2(secs));
        println!("raw argon2id (one memory area per thread, reused): {:.1}/s", raw_argon2_reused(secs));
        return;
    }
    let secs = env_num("BENCH_SECONDS", 10);
    let users = env_num("BENCH_USERS", 1_000_000);
    let sessions = env_num("BENCH_SESSIONS", 10_000_000);
    let bin = std::env::var("BENCH_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|_| "target/release/portcullis".into());
    let database = std::env::var("BENCH_DATABASE_URL").ok();
    let dir = tempfile::tempdir().unwrap();
    let db_file = dir.path().join("portcullis.db");
    let url = database.clone().unwrap_or_else(|| format!("sqlite://{}", db_file.display()));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());

    let bare_port = free_port();
    let mut bare = Command::new(std::env::current_exe().unwrap())
        .args(["bare", &bare_port.to_string()])
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(("127.0.0.1", bare_port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let bare_url = format!("http://127.0.0.1:{bare_port}/me");

    let server = Server::start(&bin, dir.path(), &url);
    let token = server.set_up();
    let me_url = format!("{}/api/auth/me", server.base);
    let status_url = format!("{}/api/auth/status", server.base);
    // Forward-auth as nginx's auth_request asks it (issue 15): an allowed session.
    let authz_url = format!("{}/api/authz/auth-request", server.base);
    println!(
        "machine: {cores} cores; database {}; wrk -t2 from its own process; {secs} s per run",
        if database.is_some() { "PostgreSQL" } else { "SQLite" }
    );

    // Warm-up, then the rates.
    let _ = wrk(&bare_url, 32, 1, None, None);
    let _ = wrk(&me_url, 32, 1, Some(&token), None);
    let idle_mib = rss_mib(server.pid()).0;
    let bare_w = wrk(&bare_url, 32, secs, None, None);
    let me_w = wrk(&me_url, 32, secs, Some(&token), None);
    let status_w = wrk(&status_url, 32, secs, None, None);
    let authz_w = wrk(&authz_url, 32, secs, Some(&token), None);
    assert_eq!(me_w.non_2xx + status_w.non_2xx + authz_w.non_2xx, 0, "me/status/authz answered errors");
    // The same with access rules: the request's URL matched against four rules, the fourth
    // deciding (`one_factor`), as a proxy in front of a terminal host asks it.
    let rules = r#"{"rules":[
        {"path":"/public/*","policy":"bypass"},
        {"path":"/ops/*","policy":"two_factor","subjects":["group:admins"]},
        {"host":"other.example.com","path":"/terminal/{id}/*","policy":"step_up"},
        {"path":"/terminal/*","policy":"one_factor"},
        {"policy":"deny"}]}"#;
    let (code, body) = send_json("PUT", &format!("{}/api/authz/rules", server.base), rules, Some(&token));
    assert_eq!(code, 200, "rules: {body}");
    let original = dir.path().join("original-url.lua");
    std::fs::write(&original, "wrk.headers[\"X-Original-URL\"] = \"http://127.0.0.1/terminal/7/ws\"\n")
        .unwrap();
    let ruled_w = wrk(&authz_url, 32, secs, Some(&token), Some(&original));
    assert_eq!(ruled_w.non_2xx, 0, "forward-auth with rules answered errors");
    let (code, body) =
        send_json("PUT", &format!("{}/api/authz/rules", server.base), r#"{"rules":[]}"#, Some(&token));
    assert_eq!(code, 200, "rules: {body}");

    let login_url = format!("{}/api/users/login", server.base);
    let admin_login = login_script(dir.path(), 0);
    // Sign-ins against raw argon2id, in six interleaved turns (sign-ins, raw, raw with reused
    // memory; then the same in reverse, …): this VM's speed drifts by ±15% within a minute, more
    // than the difference measured, so one pair of runs says little. Mirroring the order cancels
    // a steady drift; the ratios reported are of the totals (every side ran equally long), with
    // each turn's range. Two baselines: the argon2 crate's own verify (which allocates its
    // 19 MiB for each run, as most servers do) and, stricter, the same hash with one memory
    // area per thread reused, as the server's password workers do.
    // An even number, so every order has its mirror.
    let turns = env_num("BENCH_TURNS", 6).div_ceil(2) * 2;
    let sign_ins = || {
        let w = wrk(&login_url, 8, secs, None, Some(&admin_login));
        assert_eq!(w.non_2xx, 0, "sign-ins failed");
        // The sign-ins still hashing when wrk stops finish before the next side starts.
        std::thread::sleep(Duration::from_secs(1));
        w.rps
    };
    let measured: Vec<[f64; 3]> = (0..turns)
        .map(|turn| {
            if turn % 2 == 0 {
                let w = sign_ins();
                let raw = raw_argon2(secs);
                [w, raw, raw_argon2_reused(secs)]
            } else {
                let reused = raw_argon2_reused(secs);
                let raw = raw_argon2(secs);
                [sign_ins(), raw, reused]
            }
        })
        .collect();
    let mean = |i: usize| measured.iter().map(|m| m[i]).sum::<f64>() / measured.len() as f64;
    let (login_rps, raw, reused) = (mean(0), mean(1), mean(2));
    let turn_ratios: Vec<f64> = measured.iter().map(|m| m[0] / m[1]).collect();
    let spread = (
        turn_ratios.iter().copied().fold(f64::INFINITY, f64::min),
        turn_ratios.iter().copied().fold(0.0, f64::max),
    );

    // `me` during a sign-in storm, and the server's memory during and after it.
    std::thread::sleep(Duration::from_secs(6));
    let before_storm = rss_mib(server.pid()).0;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_peak(server.pid(), stop.clone());
    let storm = {
        let (url, script) = (login_url.clone(), admin_login.clone());
        std::thread::spawn(move || wrk(&url, 8, secs + 2, None, Some(&script)))
    };
    std::thread::sleep(Duration::from_secs(1));
    let during = wrk(&me_url, 8, secs, Some(&token), None);
    let storm_w = storm.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    let storm_peak = sampler.join().unwrap();
    std::thread::sleep(Duration::from_secs(8));
    let after_storm = rss_mib(server.pid()).0;

    let mut rows = vec![
        ("`GET /api/auth/me`, valid token".to_owned(), format!("{:.0} req/s vs bare axum {:.0} ({:.2}×); p99 {:.2} ms", me_w.rps, bare_w.rps, me_w.rps / bare_w.rps, me_w.p99_ms), "≥ 0.5× bare axum"),
        ("`GET /api/auth/status`".to_owned(), format!("{:.0} req/s ({:.2}× bare); p99 {:.2} ms", status_w.rps, status_w.rps / bare_w.rps, status_w.p99_ms), "≥ 0.5× bare axum"),
        ("forward-auth (`/api/authz/auth-request`), allowed session".to_owned(), format!("{:.0} req/s ({:.2}× bare); p99 {:.2} ms", authz_w.rps, authz_w.rps / bare_w.rps, authz_w.p99_ms), "(figure, issue 15)"),
        ("forward-auth, five access rules, the fourth deciding".to_owned(), format!("{:.0} req/s ({:.2}× bare); p99 {:.2} ms", ruled_w.rps, ruled_w.rps / bare_w.rps, ruled_w.p99_ms), "(figure, issue 15)"),
        ("password sign-ins".to_owned(), format!("{login_rps:.1}/s vs raw argon2id {raw:.1}/s on {cores} cores ({:.2}× over {turns} interleaved turns; turns {:.2}–{:.2}×); vs raw with reused memory {reused:.1}/s ({:.2}×)", login_rps / raw, spread.0, spread.1, login_rps / reused), "≥ 0.9×"),
        ("`/api/auth/me` during a sign-in storm (8 concurrent)".to_owned(), format!("{:.0} req/s, p99 {:.2} ms ({:.0} sign-ins/s meanwhile)", during.rps, during.p99_ms, storm_w.rps), "p99 < 10 ms"),
        (format!("RSS during {} sign-ins in {} s", storm_w.requests, secs + 2), format!("idle {idle_mib:.0} MB, before {before_storm:.0} MB, peak {storm_peak:.0} MB, 8 s after {after_storm:.0} MB"), "≤ 100 MB, back near idle"),
    ];

    if users > 0 && database.is_none() {
        // The same binary on a second file holding `users` users and `sessions` sessions, run
        // beside the first (which stays up): the two are measured in alternating turns, so the
        // VM's drift falls on both alike.
        let big_dir = tempfile::tempdir().unwrap();
        let big_file = big_dir.path().join("portcullis.db");
        let big_url = format!("sqlite://{}", big_file.display());
        let fresh = Server::start(&bin, big_dir.path(), &big_url);
        fresh.set_up();
        fresh.stop();
        let t = Instant::now();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(seed(&big_file, users, sessions));
        let seeded = t.elapsed().as_secs_f64();
        let big = Server::start(&bin, big_dir.path(), &big_url);
        let (code, body) = post_json(
            &format!("{}/api/users/login", big.base),
            &format!(r#"{{"username":"admin","password":"{PASSWORD}"}}"#),
            None,
        );
        assert_eq!(code, 200, "{body}");
        let big_token = token_of(&body);
        let big_me_url = format!("{}/api/auth/me", big.base);
        let big_login_url = format!("{}/api/users/login", big.base);
        let random_users = login_script(dir.path(), users);
        let _ = wrk(&big_me_url, 32, 1, Some(&big_token), None);

        let turns = env_num("BENCH_SEEDED_TURNS", 4).div_ceil(2) * 2;
        let (mut me_small, mut me_big, mut in_small, mut in_big) = (0.0, 0.0, 0.0, 0.0);
        let mut in_big_p99: f64 = 0.0;
        for turn in 0..turns {
            let small = || wrk(&me_url, 32, secs, Some(&token), None).rps;
            let large = || {
                let w = wrk(&big_me_url, 32, secs, Some(&big_token), None);
                assert_eq!(w.non_2xx, 0, "errors on the seeded database");
                w.rps
            };
            let small_in = || {
                let rps = wrk(&login_url, 8, secs, None, Some(&admin_login)).rps;
                std::thread::sleep(Duration::from_secs(1));
                rps
            };
            let large_in = || {
                let w = wrk(&big_login_url, 8, secs, None, Some(&random_users));
                assert_eq!(w.non_2xx, 0, "sign-in errors on the seeded database");
                std::thread::sleep(Duration::from_secs(1));
                (w.rps, w.p99_ms)
            };
            // Mirrored: small `me`, large `me`, small sign-ins, large sign-ins; then backwards.
            let (a, b, c, (d, p99)) = if turn % 2 == 0 {
                (small(), large(), small_in(), large_in())
            } else {
                let d = large_in();
                let c = small_in();
                let b = large();
                (small(), b, c, d)
            };
            me_small += a;
            me_big += b;
            in_small += c;
            in_big += d;
            in_big_p99 = in_big_p99.max(p99);
        }
        let n = turns as f64;
        rows.push((
            format!("{users} users, {sessions} sessions: `me` / sign-in ({turns} turns each, alternating with the small database)"),
            format!(
                "{:.0} req/s vs {:.0} ({:.2}× the small database) / {:.1}/s vs {:.1}/s ({:.2}×, worst p99 {:.0} ms)",
                me_big / n,
                me_small / n,
                me_big / me_small,
                in_big / n,
                in_small / n,
                in_big / in_small,
                in_big_p99
            ),
            "within 0.9× of an empty database",
        ));
        for (what, path) in [
            ("`GET /api/users/list`", "/api/users/list"),
            ("admin `GET /api/users/sessions`", "/api/users/sessions"),
        ] {
            let url = format!("{}{path}", big.base);
            let (first_ms, bytes) = get_once(&url, &big_token);
            let w = wrk(&url, 4, secs.min(5), Some(&big_token), None);
            let (rss, peak) = rss_mib(big.pid());
            rows.push((
                format!("{what}, {} users / {} sessions", users, sessions),
                format!(
                    "first page {:.0} KB in {first_ms:.0} ms; {:.0} pages/s, p99 {:.1} ms; RSS {rss:.0} MB (peak {peak:.0} MB)",
                    bytes as f64 / 1024.0,
                    w.rps,
                    w.p99_ms
                ),
                "constant memory; pages stay fast",
            ));
        }
        println!("seeded {users} users and {sessions} sessions in {seeded:.0} s");
        big.stop();
    }
    server.stop();
    let _ = bare.kill();
    let _ = bare.wait();

    println!("\n| what | measured | goal |\n| --- | --- | --- |");
    for (what, measured, goal) in rows {
        println!("| {what} | {measured} | {goal} |");
    }
}
