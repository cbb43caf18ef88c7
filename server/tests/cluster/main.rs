//! Several nodes on one PostgreSQL, each a real router on its own port: what one node does is
//! in force on the other at its next request. Also what a node does while PostgreSQL stops
//! and starts again under it.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#[allow(dead_code)] // shared with the other test binaries
#[path = "../support/postgres.rs"]
mod postgres;

use app::ssr::clock::ManualClock;
use app::ssr::state::LogControl;
use serde_json::{json, Value};
use server::config::Settings;
use server::startup::Application;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET_KEY: &str = "one-instance-key-shared-by-every-node-0123";
const GATEWAY_SECRET: &str = "gateway-secret-gateway-secret-0123456789";
const ADMIN_PASSWORD: &str = "grumpy-lantern-orbit-41";
const USER_PASSWORD: &str = "velvet-cactus-harbor-77";

/// The log levels a node applied, in order.
#[derive(Default)]
struct Levels(Mutex<Vec<String>>);

impl LogControl for Levels {
    fn set_level(&self, level: &str) -> Result<(), String> {
        self.0.lock().unwrap().push(level.to_owned());
        Ok(())
    }
}

struct Node {
    base: String,
    client: reqwest::Client,
    levels: Arc<Levels>,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: u16,
    body: Value,
}

impl Node {
    async fn start(database_url: &str, clock: &ManualClock, timeout: Duration) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_tests(dir.path().to_path_buf());
        settings.database_url = database_url.to_owned().into();
        settings.secret_key = Some(SECRET_KEY.to_owned().into());
        settings.gateway_secret = Some(GATEWAY_SECRET.to_owned().into());
        settings.pool.acquire_timeout = timeout;
        let levels = Arc::new(Levels::default());
        let app = Application::build(settings, Arc::new(clock.clone()), Some(levels.clone())).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Node { base, client, levels, _dir: dir }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body = res.json().await.unwrap_or(Value::Null);
        Reply { status, body }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, token, Some(body)).await
    }

    async fn login(&self, username: &str, password: &str) -> String {
        let r =
            self.post("/api/users/login", None, json!({"username": username, "password": password})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }
}

async fn two_nodes() -> (Node, Node, ManualClock) {
    let cluster = postgres::shared();
    let url = cluster.database(&format!("cluster_{}", std::process::id())).await;
    let clock = ManualClock::new(1_800_000_000);
    let a = Node::start(&url, &clock, Duration::from_secs(5)).await;
    let b = Node::start(&url, &clock, Duration::from_secs(5)).await;
    (a, b, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_agree_at_the_next_request() {
    let (a, b, _clock) = two_nodes().await;

    // Set-up on A is seen on B.
    assert_eq!(b.get("/api/auth/status", None).await.body["needsSetup"], true);
    let r = a.post("/api/auth/setup", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let admin = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(b.get("/api/auth/status", None).await.body["needsSetup"], false);
    assert_eq!(b.get("/api/auth/me", Some(&admin)).await.status, 200, "A's session works on B");

    // Sign-out on A is refused on B at the next request.
    let r = b.post("/api/users/create", None, json!({"username": "alice", "password": USER_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let alice = a.login("alice", USER_PASSWORD).await;
    assert_eq!(b.get("/api/auth/me", Some(&alice)).await.status, 200);
    assert_eq!(a.post("/api/users/logout", Some(&alice), json!({})).await.status, 200);
    assert_eq!(b.get("/api/auth/me", Some(&alice)).await.status, 401);

    // A screen lock set on B holds on A.
    let alice = a.login("alice", USER_PASSWORD).await;
    let r = b.post("/api/security/passcode", Some(&alice), json!({"new_passcode": "246813"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(b.post("/api/security/lock", Some(&alice), json!({})).await.status, 200);
    let r = a.get("/api/auth/me", Some(&alice)).await;
    assert_eq!((r.status, r.body["code"].clone()), (403, json!("account_locked")));

    // Wrong passcodes count across both: five in all, alternating, then refused on either.
    for i in 0..5 {
        let node = if i % 2 == 0 { &a } else { &b };
        let r = node.post("/api/security/unlock", Some(&alice), json!({"passcode": "000000"})).await;
        assert_eq!(r.status, 401, "wrong passcode {i}: {}", r.body);
    }
    assert_eq!(a.post("/api/security/unlock", Some(&alice), json!({"passcode": "246813"})).await.status, 429);
    assert_eq!(b.post("/api/security/unlock", Some(&alice), json!({"passcode": "246813"})).await.status, 429);

    // Sign-in attempts count across both: ten wrong passwords from one network, then refused.
    for i in 0..10 {
        let node = if i % 2 == 0 { &a } else { &b };
        let r = node
            .post("/api/users/login", None, json!({"username": "admin", "password": "wrong-password"}))
            .await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
    }
    let r = b.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.status, 429, "{}", r.body);
    let r = a.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.status, 429, "{}", r.body);

    // A WebSocket ticket is redeemed once, whichever node the gateway asks.
    let r = a.post("/api/auth/ws-ticket", Some(&admin), json!({"terminalId": "cont_1"})).await;
    let ticket = r.body["ticket"].as_str().unwrap().to_owned();
    let redeem = json!({"ticket": ticket, "terminalId": "cont_1"});
    let (x, y) = tokio::join!(
        a.post("/api/auth/ws-ticket/redeem", Some(GATEWAY_SECRET), redeem.clone()),
        b.post("/api/auth/ws-ticket/redeem", Some(GATEWAY_SECRET), redeem.clone()),
    );
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "once across both");

    // The vault opened through A reads through B.
    let bob_created =
        a.post("/api/users/create", None, json!({"username": "bob", "password": USER_PASSWORD})).await;
    assert_eq!(bob_created.status, 200, "{}", bob_created.body);
    let bob = b.login("bob", USER_PASSWORD).await;
    assert_eq!(
        a.post("/api/users/unlock-data", Some(&bob), json!({"password": USER_PASSWORD})).await.status,
        200
    );
    let r = a
        .send(
            reqwest::Method::PUT,
            "/api/users/vault/prod-key",
            Some(&bob),
            Some(json!({"value": "s3cret-value"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b.get("/api/users/vault", Some(&bob)).await;
    assert_eq!(r.body["items"][0]["value"], "s3cret-value", "{}", r.body);
    // A setting changed on A is in force on B: registration at once, the log level within
    // a few seconds (B applies it in its own process).
    let r = a
        .send(
            reqwest::Method::PATCH,
            "/api/users/registration-allowed",
            Some(&admin),
            Some(json!({"allowed": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r =
        b.post("/api/users/create", None, json!({"username": "mallory", "password": USER_PASSWORD})).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = a
        .send(reqwest::Method::PATCH, "/api/users/log-level", Some(&admin), Some(json!({"level": "debug"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut waited = Duration::ZERO;
    while b.levels.0.lock().unwrap().last().map(String::as_str) != Some("debug") {
        assert!(
            waited < Duration::from_secs(15),
            "B never applied the new level: {:?}",
            b.levels.0.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        waited += Duration::from_millis(200);
    }
}

/// Polls `check` every 200 ms for up to `within`.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "{what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_down_requests_answer_503_and_succeed_again_without_a_restart() {
    // Its own server, so stopping it disturbs no other test.
    let cluster = postgres::Cluster::start();
    let url = cluster.database("portcullis").await;
    let clock = ManualClock::new(1_800_000_000);
    let node = Node::start(&url, &clock, Duration::from_secs(2)).await;
    let r =
        node.post("/api/auth/setup", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let admin = r.body["token"].as_str().unwrap().to_owned();

    // A steady stream of requests runs through the outage; none may answer 500.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let load = {
        let (stop, seen, base, admin) = (stop.clone(), seen.clone(), node.base.clone(), admin.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let r = client.get(format!("{base}/api/auth/me")).bearer_auth(&admin).send().await;
                seen.lock().unwrap().push(r.map(|r| r.status().as_u16()).unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.stop();
    // While it is down: reads and writes answer 503 (a request waits at most the pool timeout).
    for _ in 0..3 {
        let r = node.get("/api/auth/me", Some(&admin)).await;
        assert_eq!((r.status, r.body["code"].clone()), (503, json!("unavailable")), "{}", r.body);
        let r = node
            .post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .await;
        assert_eq!(r.status, 503, "{}", r.body);
    }
    cluster.pg_ctl_start();
    // Back up: the same node answers again, without being restarted.
    eventually(Duration::from_secs(30), "the node never recovered", || async {
        node.get("/api/auth/me", Some(&admin)).await.status == 200
    })
    .await;
    let r =
        node.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The steady stream sees it too (a request sent during the outage may still be finishing).
    eventually(Duration::from_secs(30), "the steady stream never saw the node answer again", || async {
        seen.lock().unwrap().last() == Some(&200)
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    load.await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().all(|s| *s == 200 || *s == 503), "only 200 and 503 under the outage: {seen:?}");
    assert!(seen.contains(&503) && seen.last() == Some(&200), "{seen:?}");
}

/// The real binary, started on a free port against `database_url`.
struct Process {
    child: std::process::Child,
    node: Node,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_binary(database_url: &str, data_dir: &std::path::Path) -> Process {
    let port = free_port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .env("PORTCULLIS_ADDR", format!("127.0.0.1:{port}"))
        .env("PORTCULLIS_DATA_DIR", data_dir)
        .env("PORTCULLIS_DATABASE_URL", database_url)
        .env("PORTCULLIS_SECRET_KEY", SECRET_KEY)
        .env("PORTCULLIS_TRUSTED_PROXIES", "127.0.0.1")
        .env("PORTCULLIS_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let node = Node { base, client, levels: Arc::default(), _dir: tempfile::tempdir().unwrap() };
    eventually(Duration::from_secs(30), "the binary never answered", || async {
        node.client.get(format!("{}/api/auth/status", node.base)).send().await.is_ok()
    })
    .await;
    Process { child, node }
}

/// What the server acknowledged before it was killed.
#[derive(Default)]
struct Acknowledged {
    items: Vec<usize>,
    sessions: Vec<String>,
    revoked: Vec<String>,
}

/// Sign-ins, revocations and vault writes stream in until the process is killed with SIGKILL;
/// after a restart on the same database every acknowledged write is there.
async fn acknowledged_writes_survive_sigkill(database_url: &str, data_dir: &std::path::Path) {
    let mut p = start_binary(database_url, data_dir).await;
    let r =
        p.node.post("/api/auth/setup", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r =
        p.node.post("/api/users/create", None, json!({"username": "alice", "password": USER_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let alice = p.node.login("alice", USER_PASSWORD).await;
    assert_eq!(
        p.node.post("/api/users/unlock-data", Some(&alice), json!({"password": USER_PASSWORD})).await.status,
        200
    );

    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let writer = {
        let (acked, base, alice) = (acked.clone(), p.node.base.clone(), alice.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0.. {
                let r = client
                    .put(format!("{base}/api/users/vault/item-{i}"))
                    .bearer_auth(&alice)
                    .json(&json!({"value": format!("value-{i}")}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => acked.lock().unwrap().items.push(i),
                    _ => break,
                }
            }
        })
    };
    let signer = {
        let (acked, base) = (acked.clone(), p.node.base.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..90 {
                let r = client
                    .post(format!("{base}/api/users/login"))
                    .header("x-forwarded-for", format!("10.9.{}.{}", i / 200, i % 200 + 1))
                    .json(&json!({"username": "alice", "password": USER_PASSWORD}))
                    .send()
                    .await;
                let Ok(r) = r else { break };
                let Ok(body) = r.json::<Value>().await else { break };
                let Some(token) = body["token"].as_str().map(str::to_owned) else { break };
                acked.lock().unwrap().sessions.push(token.clone());
                if i % 2 == 1 {
                    let r = client.post(format!("{base}/api/users/logout")).bearer_auth(&token).send().await;
                    match r {
                        Ok(r) if r.status() == 200 => acked.lock().unwrap().revoked.push(token),
                        _ => break,
                    }
                }
            }
        })
    };
    // Kill it in the middle of the stream.
    eventually(Duration::from_secs(60), "the stream never got going", || async {
        let a = acked.lock().unwrap();
        a.items.len() >= 20 && a.revoked.len() >= 3
    })
    .await;
    p.child.kill().unwrap();
    p.child.wait().unwrap();
    writer.await.unwrap();
    signer.await.unwrap();

    let mut p = start_binary(database_url, data_dir).await;
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let r = p.node.get("/api/users/vault", Some(&alice)).await;
    assert_eq!(r.status, 200, "the vault still opens with the session's token: {}", r.body);
    let stored: Vec<(String, String)> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap().to_owned(), i["value"].as_str().unwrap().to_owned()))
        .collect();
    for i in &acked.items {
        assert!(
            stored.contains(&(format!("item-{i}"), format!("value-{i}"))),
            "item-{i} was acknowledged and lost"
        );
    }
    for token in &acked.sessions {
        let expected = if acked.revoked.contains(token) { 401 } else { 200 };
        assert_eq!(p.node.get("/api/auth/me", Some(token)).await.status, expected);
    }
    eprintln!(
        "{}: {} vault writes, {} sign-ins, {} revocations acknowledged before SIGKILL; all there after the restart",
        if database_url.starts_with("postgres") { "postgres" } else { "sqlite" },
        acked.items.len(),
        acked.sessions.len(),
        acked.revoked.len()
    );
    p.child.kill().unwrap();
    p.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("portcullis.db");
    acknowledged_writes_survive_sigkill(&format!("sqlite://{}", file.display()), dir.path()).await;
    // The file opens clean.
    use sqlx::Connection;
    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display())).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut db).await.unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = postgres::shared().database(&format!("crash_{}", std::process::id())).await;
    acknowledged_writes_survive_sigkill(&url, dir.path()).await;
}

/// The real binary with `PORTCULLIS_LOG_FORMAT=json`: every line is one JSON object, a line
/// written during a request carries the id its answer's `X-Request-Id` names, and neither the
/// password nor the session token appears anywhere.
#[tokio::test]
async fn json_logs_name_the_request_and_hold_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log_path = dir.path().join("portcullis.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .env_clear()
        .env("PORTCULLIS_ADDR", format!("127.0.0.1:{port}"))
        .env("PORTCULLIS_DATA_DIR", dir.path())
        .env("PORTCULLIS_LOG", "info")
        .env("PORTCULLIS_LOG_FORMAT", "json")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    eventually(Duration::from_secs(30), "the binary never answered", || async {
        client.get(format!("{base}/healthz")).send().await.is_ok()
    })
    .await;
    let r = client
        .post(format!("{base}/api/auth/setup"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let r = client
        .post(format!("{base}/api/users/logout"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let r = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "admin", "password": USER_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    child.kill().unwrap();
    child.wait().unwrap();

    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.iter().all(|l| l["timestamp"].is_string() && l["level"].is_string()), "{log}");
    let refused = lines
        .iter()
        .find(|l| l["message"] == "cross-site request refused")
        .unwrap_or_else(|| panic!("no refusal line in {log}"));
    assert_eq!(refused["spans"][0]["request_id"], id.as_str(), "{refused}");
    assert_eq!(refused["spans"][0]["path"], "/api/users/logout", "{refused}");
    // Lines from deeper inside a request (a service's own span) name the request too.
    let nested: Vec<_> =
        lines.iter().filter(|l| l["spans"].as_array().is_some_and(|s| s.len() > 1)).collect();
    assert!(!nested.is_empty(), "no line from a nested span in {log}");
    for line in nested {
        assert_eq!(line["spans"][0]["name"], "request", "{line}");
        assert!(line["spans"][0]["request_id"].is_string(), "{line}");
    }
    for secret in [ADMIN_PASSWORD, USER_PASSWORD, token.as_str()] {
        assert!(!log.contains(secret), "a secret is in the log:\n{log}");
    }
}

/// `portcullis --check-config` on the real binary: a good file passes without starting, a
/// wrong key or value stops with one line naming it, and the environment overrides the file.
#[test]
fn check_config_validates_the_file_without_starting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("portcullis.toml");
    let run = |text: &str, env: &[(&str, &str)]| {
        std::fs::write(&file, text).unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"));
        cmd.env_clear().arg("--check-config").arg("--config").arg(&file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let data = dir.path().join("data");
    let good = format!(
        "addr = \"127.0.0.1:0\"\ndata_dir = {:?}\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
        data.display()
    );
    let (code, out, _) = run(&good, &[]);
    assert_eq!((code, out.trim()), (Some(0), "portcullis: the configuration is valid"));
    assert!(!data.exists(), "checking must not create the data folder");

    let (code, _, err) = run("adr = \"127.0.0.1:0\"\n", &[]);
    assert_eq!(code, Some(2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown setting `adr`"), "{err}");

    let (code, _, err) = run("addr = \"nope\"\n", &[]);
    assert_eq!(code, Some(2));
    assert!(err.starts_with("portcullis: PORTCULLIS_ADDR: (`addr` in "), "{err}");
    // The environment overrides the file.
    let (code, _, err) = run("addr = \"nope\"\n", &[("PORTCULLIS_ADDR", "127.0.0.1:0")]);
    assert_eq!(code, Some(0), "{err}");
}

/// `GET /metrics` on the real binary: off (404) without a token; with one, only that Bearer
/// token reads it, and it counts what happened — sign-ins by outcome, the limit that refused,
/// locks and unlocks, requests by route template (never the raw path), live sessions — and
/// nothing secret is printed.
#[tokio::test]
async fn metrics_count_what_happened_for_the_scraper_only() {
    const METRICS_TOKEN: &str = "scrape-token-scrape-token-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log_path = dir.path().join("portcullis.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .env_clear()
        .env("PORTCULLIS_ADDR", format!("127.0.0.1:{port}"))
        .env("PORTCULLIS_DATA_DIR", dir.path())
        .env("PORTCULLIS_LOG", "debug")
        .env("PORTCULLIS_METRICS_TOKEN", METRICS_TOKEN)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let node = Node {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
        levels: Arc::default(),
        _dir: tempfile::tempdir().unwrap(),
    };
    eventually(Duration::from_secs(30), "the binary never answered", || async {
        node.client.get(format!("{}/healthz", node.base)).send().await.is_ok()
    })
    .await;
    let scrape = |token: Option<&'static str>| {
        let mut req = node.client.get(format!("{}/metrics", node.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(scrape(None).await.0, 401);
    assert_eq!(scrape(Some("scrape-token-scrape-token-0123456788")).await.0, 401);
    // Only the Bearer header carries it, never a cookie.
    let r = node
        .client
        .get(format!("{}/metrics", node.base))
        .header("cookie", format!("jwt={METRICS_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let admin =
        node.post("/api/auth/setup", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(admin.status, 200);
    let admin = admin.body["token"].as_str().unwrap().to_owned();
    let r =
        node.post("/api/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.status, 200);
    // Ten wrong passwords are judged; the eleventh is refused by the per-account limit.
    for _ in 0..10 {
        let r = node
            .post("/api/users/login", None, json!({"username": "admin", "password": USER_PASSWORD}))
            .await;
        assert_eq!(r.status, 401);
    }
    let r =
        node.post("/api/users/login", None, json!({"username": "admin", "password": USER_PASSWORD})).await;
    assert_eq!(r.status, 429);
    let other =
        node.post("/api/auth/login", None, json!({"username": "nobody", "password": ADMIN_PASSWORD})).await;
    assert_eq!(other.status, 401);
    // Bad input is rejected, not a guess.
    assert_eq!(
        node.post("/api/auth/login", None, json!({"username": " ", "password": "x"})).await.status,
        400
    );
    // The lock screen: a passcode, a lock, a wrong and a right unlock.
    let r = node.post("/api/security/passcode", Some(&admin), json!({"new_passcode": "482915"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(node.post("/api/security/lock", Some(&admin), json!({})).await.status, 200);
    assert_eq!(
        node.post("/api/security/unlock", Some(&admin), json!({"passcode": "111111"})).await.status,
        401
    );
    let unlocked = node.post("/api/security/unlock", Some(&admin), json!({"passcode": "482915"})).await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    let admin = unlocked.body["token"].as_str().unwrap().to_owned();
    // Paths a client chooses are counted under their template.
    let r = node
        .send(reqwest::Method::DELETE, "/api/users/sessions/chosen-by-client-7f3a", Some(&admin), None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(node.get("/api/no-such-route-9c2e", None).await.status, 404);

    let r =
        node.client.get(format!("{}/metrics", node.base)).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let (status, text) = scrape(Some(METRICS_TOKEN)).await;
    assert_eq!(status, 200, "{text}");
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
            .trim()
            .parse()
            .unwrap()
    };
    assert_eq!(value(r#"portcullis_sign_ins_total{method="password",outcome="success"}"#), 1.0);
    assert_eq!(value(r#"portcullis_sign_ins_total{method="password",outcome="failure"}"#), 11.0);
    assert_eq!(value(r#"portcullis_sign_ins_total{method="password",outcome="refused"}"#), 1.0);
    assert_eq!(value(r#"portcullis_sign_ins_total{method="password",outcome="rejected"}"#), 1.0);
    assert_eq!(value(r#"portcullis_limit_refusals_total{limit="login-user"}"#), 1.0);
    assert_eq!(value(r#"portcullis_screen_locks_total{reason="manual"}"#), 1.0);
    assert_eq!(value(r#"portcullis_screen_unlocks_total{outcome="failure"}"#), 1.0);
    assert_eq!(value(r#"portcullis_screen_unlocks_total{outcome="success"}"#), 1.0);
    assert_eq!(
        value(r#"portcullis_http_requests_total{route="/api/users/login",method="POST",status="401"}"#),
        10.0
    );
    assert_eq!(
        value(
            r#"portcullis_http_request_duration_seconds_count{route="/api/users/login",method="POST",status="429"}"#
        ),
        1.0
    );
    assert!(text.contains(r#"portcullis_http_request_duration_seconds_bucket{route="/api/auth/setup",method="POST",status="200",le="+Inf"} 1"#), "{text}");
    assert_eq!(
        value(
            r#"portcullis_http_requests_total{route="/api/users/sessions/{session_id}",method="DELETE",status="404"}"#
        ),
        1.0
    );
    assert_eq!(
        value(r#"portcullis_http_requests_total{route="/api/{*rest}",method="GET",status="404"}"#),
        1.0
    );
    assert!(!text.contains("chosen-by-client") && !text.contains("no-such-route"), "{text}");
    // The sign-in's session and the unlocked one (the setup's, locked, was replaced).
    assert_eq!(value("portcullis_active_sessions"), 2.0);
    assert_eq!(value("portcullis_password_queue_waiting"), 0.0);
    assert_eq!(value("portcullis_db_connections_max"), 8.0);
    assert!(value(r#"portcullis_password_queue_wait_seconds_count"#) >= 14.0, "{text}");

    child.kill().unwrap();
    child.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    for secret in [METRICS_TOKEN, ADMIN_PASSWORD, USER_PASSWORD, admin.as_str(), "482915"] {
        assert!(!log.contains(secret) && !text.contains(secret), "a secret is in the log or the metrics");
    }

    // Without a token there is no metrics route at all.
    let other_dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", other_dir.path().join("portcullis.db").display());
    let mut plain = start_binary(&url, other_dir.path()).await;
    let r = plain
        .node
        .client
        .get(format!("{}/metrics", plain.node.base))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    plain.child.kill().unwrap();
    plain.child.wait().unwrap();
}
