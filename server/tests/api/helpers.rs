use app::ssr::clock::ManualClock;
use app::ssr::AppState;
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::config::Settings;
use server::startup::Application;
use std::sync::Arc;

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
    let settings = Settings::for_tests(dir.path().to_path_buf());
    let app = Application::build(settings, Arc::new(clock.clone()), None).await.expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
        .build()
        .unwrap();
    TestApp { base, client, clock, state, dir }
}

impl TestApp {
    pub async fn send(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
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

    /// Creates the administrator through `/auth/setup` and answers their token.
    pub async fn setup_admin(&self) -> String {
        let r = self
            .post("/api/auth/setup", None, json!({"username": "admin", "password": ADMIN_PASSWORD, "displayName": "Ada Admin"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// Registers a plain user and signs them in; answers (token, user id).
    pub async fn user(&self, name: &str) -> (String, String) {
        let r = self.post("/api/users/create", None, json!({"username": name, "password": USER_PASSWORD})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        self.login(name, USER_PASSWORD).await
    }

    pub async fn login(&self, name: &str, password: &str) -> (String, String) {
        let r = self.post("/api/users/login", None, json!({"username": name, "password": password})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        (r.body["token"].as_str().unwrap().to_owned(), r.body["userId"].as_str().unwrap().to_owned())
    }
}
