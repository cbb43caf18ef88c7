//! The shared state every adapter hands to the services.
use super::clock::Clock;
use super::keys::InstanceKeys;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// Settings fixed at start that services need.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// `https://…` turns on `Secure` cookies.
    pub public_url: String,
    /// The session cookie's `Domain` (`example.com`), so a sign-in at `auth.example.com` also
    /// covers apps behind forward-auth at `term.example.com`; `None`: this host only.
    pub cookie_domain: Option<String>,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The Bearer secret of the terminal gateway; the ticket-redeem route is off without it.
    pub gateway_secret: Option<secrecy::SecretString>,
    /// The log level `GET /users/log-level` reports until an admin changes it.
    pub default_log_level: String,
}

impl RuntimeConfig {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Changes the log filter at run time (the `log-level` setting).
pub trait LogControl: Send + Sync {
    fn set_level(&self, level: &str) -> Result<(), String>;
}

/// What every request shares. Cloned once per extractor and middleware, so it is one `Arc`:
/// a clone is one counter, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub pool: super::db::Pool,
    pub keys: Arc<InstanceKeys>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<RuntimeConfig>,
    pub log_control: Option<Arc<dyn LogControl>>,
    pub leptos_options: LeptosOptions,
    /// Set once an account exists. Accounts are never all removed (the last admin can be
    /// neither deleted nor demoted), so once true it stays true on every node and the
    /// set-up question costs no query from then on.
    pub set_up: std::sync::atomic::AtomicBool,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}
