//! Configuration: `PORTCULLIS_*` environment variables or the matching flags, checked at start.
use clap::Parser;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Portcullis: the account and security service for self-hosted web terminals.
/// No `Debug`: it holds the instance key and the gateway secret.
#[derive(Parser)]
#[command(name = "portcullis", version, about, long_about = None)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "PORTCULLIS_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: String,
    /// Folder for the SQLite database and the generated instance key.
    #[arg(long, env = "PORTCULLIS_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: sqlite://<file> or postgres://user:password@host/db
    /// [default: sqlite://<data dir>/portcullis.db].
    #[arg(long, env = "PORTCULLIS_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Database connections this node keeps open at most.
    #[arg(long, env = "PORTCULLIS_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,
    /// Seconds a request waits for a database connection before it is answered 503.
    #[arg(long, env = "PORTCULLIS_DB_TIMEOUT_SECS", default_value_t = 5)]
    pub db_timeout_secs: u64,
    /// Instance key, at least 32 characters [default: generated into <data dir>/instance.key].
    #[arg(long, env = "PORTCULLIS_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// The URL users reach Portcullis at; `https://` turns on Secure cookies [default: http://<addr>].
    #[arg(long, env = "PORTCULLIS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Log filter: error, warn, info, debug, trace, or a tracing directive list.
    #[arg(long, env = "PORTCULLIS_LOG", default_value = "info")]
    pub log: String,
    /// Log lines as text, or as one JSON object per line for a log shipper.
    #[arg(long, env = "PORTCULLIS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Comma-separated proxy addresses or CIDRs whose X-Forwarded-For is believed.
    #[arg(long, env = "PORTCULLIS_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Secret the terminal gateway sends as a Bearer token to redeem WebSocket tickets
    /// (at least 32 characters); the redeem route is off while it is unset.
    #[arg(long, env = "PORTCULLIS_GATEWAY_SECRET", hide_env_values = true)]
    pub gateway_secret: Option<String>,
    /// Folder holding the built front end (`pkg/`, CSS, assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Checked settings. The secrets are [`SecretString`]s: `Debug` prints them redacted.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// May hold the database password: `Debug` prints it redacted.
    pub database_url: SecretString,
    pub pool: app::ssr::db::PoolSettings,
    pub secret_key: Option<SecretString>,
    pub public_url: String,
    pub log: String,
    pub log_format: LogFormat,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub gateway_secret: Option<SecretString>,
    pub site_root: String,
}

/// A setting that stops the start, named by its variable.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn bad(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { var, message: message.into() }
}

impl Args {
    pub fn settings(self) -> Result<Settings, ConfigError> {
        let addr: SocketAddr = self.addr.parse().map_err(|_| {
            bad("PORTCULLIS_ADDR", format!("{:?} is not an address like 127.0.0.1:3000", self.addr))
        })?;
        let database_url = match self.database_url {
            Some(u) if u.starts_with("sqlite:") => u,
            Some(u) if app::ssr::db::is_postgres(&u) => match url::Url::parse(&u) {
                Ok(parsed) if parsed.host().is_some() => u,
                _ => {
                    return Err(bad(
                        "PORTCULLIS_DATABASE_URL",
                        "is not a URL like postgres://user:password@host:5432/portcullis",
                    ))
                }
            },
            // The value may hold a password: it is not repeated.
            Some(_) => return Err(bad(
                "PORTCULLIS_DATABASE_URL",
                "must start with sqlite:// or postgres:// (e.g. postgres://user:password@host/portcullis)",
            )),
            None => format!("sqlite://{}", self.data_dir.join("portcullis.db").display()),
        };
        if self.db_max_connections == 0 || self.db_max_connections > 1000 {
            return Err(bad("PORTCULLIS_DB_MAX_CONNECTIONS", "must be 1 to 1000"));
        }
        if self.db_timeout_secs == 0 || self.db_timeout_secs > 300 {
            return Err(bad("PORTCULLIS_DB_TIMEOUT_SECS", "must be 1 to 300 seconds"));
        }
        let pool = app::ssr::db::PoolSettings {
            max_connections: self.db_max_connections,
            acquire_timeout: std::time::Duration::from_secs(self.db_timeout_secs),
        };
        if let Some(k) = &self.secret_key {
            if k.chars().count() < 32 {
                return Err(bad("PORTCULLIS_SECRET_KEY", "must be at least 32 characters"));
            }
        }
        let public_url = match self.public_url {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                u.trim_end_matches('/').to_owned()
            }
            Some(u) => {
                return Err(bad(
                    "PORTCULLIS_PUBLIC_URL",
                    format!("{u:?} does not start with http:// or https://"),
                ))
            }
            None => format!("http://{addr}"),
        };
        let trusted_proxies = self
            .trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        bad("PORTCULLIS_TRUSTED_PROXIES", format!("{s:?} is not an IP address or CIDR"))
                    })
            })
            .collect::<Result<_, _>>()?;
        if let Some(g) = &self.gateway_secret {
            if g.chars().count() < 32 {
                return Err(bad("PORTCULLIS_GATEWAY_SECRET", "must be at least 32 characters"));
            }
        }
        tracing_subscriber::EnvFilter::try_new(&self.log)
            .map_err(|e| bad("PORTCULLIS_LOG", format!("{:?} is not a log filter: {e}", self.log)))?;
        Ok(Settings {
            addr,
            data_dir: self.data_dir,
            database_url: SecretString::from(database_url),
            pool,
            secret_key: self.secret_key.map(SecretString::from),
            public_url,
            log: self.log,
            log_format: self.log_format,
            trusted_proxies,
            gateway_secret: self.gateway_secret.map(SecretString::from),
            site_root: self.site_root,
        })
    }
}

impl Settings {
    /// Settings for tests: port 0, a given data dir, no proxies.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: SecretString::from(format!(
                "sqlite://{}",
                data_dir.join("portcullis.db").display()
            )),
            pool: app::ssr::db::PoolSettings::default(),
            data_dir,
            secret_key: None,
            public_url: "http://127.0.0.1".into(),
            log: "warn".into(),
            log_format: LogFormat::Text,
            trusted_proxies: Vec::new(),
            gateway_secret: None,
            site_root: "target/site".into(),
        }
    }
}
