use app::ssr::clock::ManualClock;
use app::ssr::state::LogControl;
use app::ssr::AppState;
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::config::Settings;
use server::startup::Application;
use std::sync::{Arc, Mutex, OnceLock};

pub const ADMIN_PASSWORD: &str = "grumpy-lantern-orbit-41";
pub const USER_PASSWORD: &str = "velvet-cactus-harbor-77";
pub const START: i64 = 1_800_000_000;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub state: AppState,
    pub dir: Arc<tempfile::TempDir>,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    pub fn set_cookie(&self) -> String {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub async fn spawn_app() -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    spawn_app_in(dir, ManualClock::new(START)).await
}

/// Starts the app on an existing data directory (a "restart").
pub async fn spawn_app_in(dir: Arc<tempfile::TempDir>, clock: ManualClock) -> TestApp {
    spawn_app_with(dir, clock, |_| {}).await
}

pub const GATEWAY_SECRET: &str = "gateway-secret-gateway-secret-0123456789";

/// Starts the app with a terminal-gateway secret configured.
pub async fn spawn_app_with_gateway() -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    spawn_app_with(dir, ManualClock::new(START), |s| s.gateway_secret = Some(GATEWAY_SECRET.into())).await
}

/// Everything the apps of this test binary log, as the server log would show it.
#[derive(Clone, Default)]
pub struct LogBuffer(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'w self) -> LogBuffer {
        self.clone()
    }
}

struct Log {
    buffer: LogBuffer,
    control: Arc<dyn LogControl>,
}

/// What the tests log: everything of ours at `debug` (the libraries' chatter at `info`), so the
/// log the tests read is also the one [`crate::log_audit`] searches for secrets when the process
/// exits. The `log-level` setting changes it like the real one (its test puts this back).
pub const TEST_LOG: &str = "debug,hyper=info,hyper_util=info,h2=info,rustls=info,reqwest=info,sqlx=info";

/// One subscriber with one reloadable filter for the whole binary: per-layer filters (a second
/// layer at another level) were tried and dropped events now and then.
fn log() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = LogBuffer::default();
        let control = server::startup::init_tracing_to(
            TEST_LOG,
            server::config::LogFormat::Text,
            buffer.clone(),
            false,
        );
        crate::log_audit::search_at_exit(buffer.clone());
        Log { buffer, control }
    })
}

/// Puts the test log's level back (after a test changed it through the setting).
pub fn restore_test_log() {
    let _ = log().control.set_level(TEST_LOG);
}

/// The server log so far (all apps of this test binary share it).
pub fn server_log() -> String {
    String::from_utf8_lossy(&log().buffer.0.lock().unwrap()).into_owned()
}

pub async fn spawn_app_with(
    dir: Arc<tempfile::TempDir>,
    clock: ManualClock,
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    // The log first: events from before it (the PostgreSQL set-up's) must not be what decides
    // which call sites it hears.
    let control = log().control.clone();
    let mut settings = Settings::for_tests(dir.path().to_path_buf());
    if crate::postgres::selected() {
        let url = crate::postgres::shared().database(&crate::postgres::database_name(dir.path())).await;
        settings.database_url = url.into();
    }
    tweak(&mut settings);
    let app = Application::build(settings, Arc::new(clock.clone()), Some(control)).await.expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    // An answer that never comes fails its test in a minute instead of holding up the run.
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
        .build()
        .unwrap();
    TestApp { base, client, clock, state, dir }
}

impl TestApp {
    pub async fn send(
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
            crate::log_audit::note_request(&b);
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        crate::log_audit::note_answer(&body);
        crate::log_audit::note_exchange(token, &headers);
        Reply { status, body, headers }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(reqwest::Method::DELETE, path, token, None).await
    }

    pub async fn delete_with(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(reqwest::Method::DELETE, path, token, Some(body)).await
    }

    /// Sends a raw body with a content type, for malformed-input tests.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &'static str) -> Reply {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.json().await.unwrap_or(Value::Null);
        Reply { status, body, headers }
    }

    /// Posts `body` to a page's server function at `path` as a same-origin browser with
    /// `cookie`, answering the status and the JSON body.
    pub async fn form(&self, path: &str, cookie: Option<&str>, body: &str) -> (u16, Value) {
        let r = self.form_reply(path, cookie, body).await;
        (r.status.as_u16(), r.body)
    }

    /// As [`TestApp::form`], with the answer's headers (where a form sends the browser next).
    pub async fn form_reply(&self, path: &str, cookie: Option<&str>, body: &str) -> Reply {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("sec-fetch-site", "same-origin");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let res = req.body(body.to_owned()).send().await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        Reply { status, body: res.json().await.unwrap_or(Value::Null), headers }
    }

    /// Creates the administrator through `/auth/setup` and answers their token.
    pub async fn setup_admin(&self) -> String {
        let r = self
            .post(
                "/api/auth/setup",
                None,
                json!({"username": "admin", "password": ADMIN_PASSWORD, "displayName": "Ada Admin"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// Registers a plain user and signs them in; answers (token, user id).
    pub async fn user(&self, name: &str) -> (String, String) {
        let r =
            self.post("/api/users/create", None, json!({"username": name, "password": USER_PASSWORD})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        self.login(name, USER_PASSWORD).await
    }

    /// What the instance's database holds at rest: the SQLite file and its write-ahead log, or
    /// a dump of the PostgreSQL database.
    pub fn at_rest(&self) -> Vec<u8> {
        if crate::postgres::selected() {
            return crate::postgres::shared().dump(&crate::postgres::database_name(self.dir.path()));
        }
        let mut bytes = std::fs::read(self.dir.path().join("portcullis.db")).unwrap();
        bytes.extend(std::fs::read(self.dir.path().join("portcullis.db-wal")).unwrap_or_default());
        bytes
    }

    /// Runs a statement on the instance's database (to set up what no route can, such as
    /// an aged session).
    pub async fn sql(&self, statement: &str) {
        use app::ssr::db::Pool;
        match &self.state.pool {
            Pool::Sqlite(p, _) => sqlx::query(statement).execute(p).await.map(|_| ()),
            Pool::Postgres(p) => sqlx::query(statement).execute(p).await.map(|_| ()),
        }
        .unwrap()
    }

    /// A number the instance's database answers (`SELECT COUNT(*) …`).
    pub async fn sql_count(&self, query: &str) -> i64 {
        use app::ssr::db::Pool;
        match &self.state.pool {
            Pool::Sqlite(p, _) => sqlx::query_scalar(query).fetch_one(p).await,
            Pool::Postgres(p) => sqlx::query_scalar(query).fetch_one(p).await,
        }
        .unwrap()
    }

    pub async fn login(&self, name: &str, password: &str) -> (String, String) {
        let r = self.post("/api/users/login", None, json!({"username": name, "password": password})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        (r.body["token"].as_str().unwrap().to_owned(), r.body["userId"].as_str().unwrap().to_owned())
    }
}

/// RFC 4648 base32 without padding, as TOTP secrets are shown.
pub fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|&a| a == c.to_ascii_uppercase()).expect("base32 digit") as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    out
}

impl TestApp {
    pub fn now(&self) -> i64 {
        use app::ssr::clock::Clock;
        self.clock.now()
    }

    /// The current TOTP code for a secret, at the test clock's time.
    pub fn code(&self, secret: &[u8]) -> String {
        app::ssr::services::totp::code_at(secret, self.now() as u64)
    }

    /// Turns on two-factor for the token's user; answers (secret, backup codes).
    /// The clock then moves one step on, so the next code is fresh.
    pub async fn enable_totp(&self, token: &str) -> (Vec<u8>, Vec<String>) {
        let r = self.post("/api/users/totp/setup", Some(token), json!({})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let secret = base32_decode(r.body["secret"].as_str().unwrap());
        let r =
            self.post("/api/users/totp/enable", Some(token), json!({"totp_code": self.code(&secret)})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let codes = r.body["backup_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        self.clock.advance(30);
        (secret, codes)
    }

    /// Sends a request with a raw Cookie header.
    pub async fn post_with_cookie(&self, path: &str, cookie: &str, body: Value) -> Reply {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .json(&body)
            .send()
            .await
            .unwrap();
        crate::log_audit::note_request(&body);
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.json().await.unwrap_or(Value::Null);
        crate::log_audit::note_answer(&body);
        crate::log_audit::note_exchange(None, &headers);
        Reply { status, body, headers }
    }
}

/// The value of a cookie set by a reply.
pub fn cookie_value(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
