//! Configuration: flags, then `PORTCULLIS_*` environment variables, then a TOML file
//! (`--config` / `PORTCULLIS_CONFIG`), then defaults; checked at start (or alone with
//! `--check-config`).
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};
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
    /// The session cookie's domain (`example.com`), so a sign-in at `auth.example.com` covers
    /// apps at `term.example.com` behind forward-auth; it must contain the public URL's host
    /// [default: the public URL's host only].
    #[arg(long, env = "PORTCULLIS_COOKIE_DOMAIN")]
    pub cookie_domain: Option<String>,
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
    /// Token a Prometheus scraper presents as a Bearer token at `GET /metrics` (at least 32
    /// characters); metrics are off while it is unset.
    #[arg(long, env = "PORTCULLIS_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Folder holding the built front end (`pkg/`, CSS, assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// A TOML file holding any of the settings above (keys as the flags, with `_`: `addr`,
    /// `data_dir`, `trusted_proxies`…); flags and environment variables override it.
    #[arg(long, env = "PORTCULLIS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Check the configuration (flags, environment, file) and exit without starting.
    #[arg(long)]
    pub check_config: bool,
    /// Settings the file gave (their variables), to name the file when one is wrong.
    #[arg(skip)]
    from_file: Vec<(String, String)>,
    #[arg(skip)]
    file_name: String,
    /// Forward-auth access rules from the file's `[[access_rules]]` tables (a file-only
    /// setting), written to the database at the first start that has none.
    #[arg(skip)]
    access_rules: Vec<app::ssr::services::access_rules::RuleInput>,
}

/// Every setting a configuration file may hold, as `(key, variable)`: the flags that have an
/// environment variable (all but `--config` itself), read from the command definition so the
/// file can never drift from the flags.
pub fn file_keys() -> Vec<(String, String)> {
    Args::command()
        .get_arguments()
        .filter(|a| a.get_id() != "config")
        .filter_map(|a| Some((a.get_id().to_string(), a.get_env()?.to_string_lossy().into_owned())))
        .collect()
}

/// Keys whose values are secrets: a file holding one should be readable by its owner only.
const SECRET_KEYS: &[&str] = &["database_url", "secret_key", "gateway_secret", "metrics_token"];

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Takes a value from the file unless a flag or variable set it.
fn set<T>(skip: bool, field: &mut T, value: T) {
    if !skip {
        *field = value;
    }
}

/// A file that holds a secret should not be readable by other users: says so on standard error.
fn warn_if_others_can_read(path: &std::path::Path, text: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(table) = text.parse::<toml::Table>() else { return };
        // A database URL is a secret when it carries a password (`user:password@`).
        let holds_secret = SECRET_KEYS.iter().any(|k| match table.get(*k).and_then(|v| v.as_str()) {
            Some(url) if *k == "database_url" => url.split_once("://").is_some_and(|(_, rest)| {
                rest.split('/')
                    .next()
                    .and_then(|auth| auth.rsplit_once('@'))
                    .is_some_and(|(who, _)| who.contains(':'))
            }),
            Some(_) => true,
            None => false,
        });
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0);
        if holds_secret && mode & 0o077 != 0 {
            eprintln!(
                "portcullis: warning: {} holds secrets and other users can read it (chmod 600 it)",
                path.display()
            );
        }
    }
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
    pub cookie_domain: Option<String>,
    pub log: String,
    pub log_format: LogFormat,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub gateway_secret: Option<SecretString>,
    pub metrics_token: Option<SecretString>,
    pub site_root: String,
    /// The configuration file's access rules (checked), seeded once.
    pub access_rules: Vec<app::ssr::services::access_rules::RuleInput>,
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
    /// The flags and environment, then the configuration file for what neither set.
    pub fn load() -> Result<Self, ConfigError> {
        let matches = Args::command().get_matches();
        let mut args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        if let Some(path) = args.config.clone() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| bad("PORTCULLIS_CONFIG", format!("cannot read {}: {e}", path.display())))?;
            warn_if_others_can_read(&path, &text);
            let set_elsewhere = |key: &str| {
                matches!(matches.value_source(key), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
            };
            args.apply_file(&path.display().to_string(), &text, set_elsewhere)?;
        }
        Ok(args)
    }

    /// Takes each setting of the TOML `text` that the flags and environment left unset. An
    /// unknown key or a value of the wrong type is an error naming the file and the key.
    pub fn apply_file(
        &mut self,
        file: &str,
        text: &str,
        set_elsewhere: impl Fn(&str) -> bool,
    ) -> Result<(), ConfigError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            // One line, and never the offending text (it may be a secret): the line number.
            let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let what = e.message().trim().replace('\n', "; ");
            bad("PORTCULLIS_CONFIG", format!("{file}: line {line}: {what}"))
        })?;
        let wrong =
            |key: &str, what: &str| bad("PORTCULLIS_CONFIG", format!("{file}: `{key}` must be {what}"));
        self.file_name = file.to_owned();
        let keys = file_keys();
        for (key, value) in &table {
            if key == "access_rules" {
                self.access_rules = value.clone().try_into().map_err(|e: toml::de::Error| {
                    let what = e.message().trim().replace('\n', "; ");
                    bad("PORTCULLIS_CONFIG", format!("{file}: `access_rules` must be [[access_rules]] tables of host, path, policy, subjects: {what}"))
                })?;
                app::ssr::services::access_rules::check_all(&self.access_rules)
                    .map_err(|e| bad("PORTCULLIS_CONFIG", format!("{file}: `access_rules`: {e}")))?;
                continue;
            }
            let Some((_, var)) = keys.iter().find(|(k, _)| k == key) else {
                let known: Vec<_> = keys.iter().map(|(k, _)| k.as_str()).collect();
                return Err(bad(
                    "PORTCULLIS_CONFIG",
                    format!("{file}: unknown setting `{key}` (settings: {})", known.join(", ")),
                ));
            };
            let text = || value.as_str().map(str::to_owned).ok_or_else(|| wrong(key, "a string"));
            let number = || {
                value
                    .as_integer()
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| wrong(key, "a whole number"))
            };
            // Every value is checked, even one a flag or variable overrides.
            let skip = set_elsewhere(key);
            match key.as_str() {
                "addr" => set(skip, &mut self.addr, text()?),
                "data_dir" => set(skip, &mut self.data_dir, PathBuf::from(text()?)),
                "database_url" => set(skip, &mut self.database_url, Some(text()?)),
                "db_max_connections" => set(
                    skip,
                    &mut self.db_max_connections,
                    u32::try_from(number()?).map_err(|_| wrong(key, "a number from 1 to 1000"))?,
                ),
                "db_timeout_secs" => set(skip, &mut self.db_timeout_secs, number()?),
                "secret_key" => set(skip, &mut self.secret_key, Some(text()?)),
                "public_url" => set(skip, &mut self.public_url, Some(text()?)),
                "cookie_domain" => set(skip, &mut self.cookie_domain, Some(text()?)),
                "log" => set(skip, &mut self.log, text()?),
                "log_format" => set(
                    skip,
                    &mut self.log_format,
                    <LogFormat as clap::ValueEnum>::from_str(&text()?, true)
                        .map_err(|_| wrong(key, "\"text\" or \"json\""))?,
                ),
                "trusted_proxies" => {
                    let list = match value {
                        toml::Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_str().ok_or_else(|| wrong(key, "a list of addresses")))
                            .collect::<Result<Vec<_>, _>>()?
                            .join(","),
                        _ => text()?,
                    };
                    set(skip, &mut self.trusted_proxies, list)
                }
                "gateway_secret" => set(skip, &mut self.gateway_secret, Some(text()?)),
                "metrics_token" => set(skip, &mut self.metrics_token, Some(text()?)),
                "site_root" => set(skip, &mut self.site_root, text()?),
                // A flag added without teaching the file about it (the test below catches it).
                _ => {
                    return Err(bad("PORTCULLIS_CONFIG", format!("{file}: `{key}` cannot be set in a file")))
                }
            }
            if skip {
                continue;
            }
            self.from_file.push((key.clone(), var.clone()));
        }
        Ok(())
    }

    /// Checks every setting; a wrong one that came from the configuration file names it.
    pub fn settings(self) -> Result<Settings, ConfigError> {
        let (from_file, file) = (self.from_file.clone(), self.file_name.clone());
        self.check().map_err(|e| match from_file.iter().find(|(_, var)| *var == e.var) {
            Some((key, _)) => {
                ConfigError { var: e.var, message: format!("(`{key}` in {file}) {}", e.message) }
            }
            None => e,
        })
    }

    fn check(self) -> Result<Settings, ConfigError> {
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
        let cookie_domain =
            self.cookie_domain.as_deref().map(|d| cookie_domain(d, &public_url)).transpose()?;
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
        if let Some(t) = &self.metrics_token {
            if t.chars().count() < 32 {
                return Err(bad("PORTCULLIS_METRICS_TOKEN", "must be at least 32 characters"));
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
            cookie_domain,
            log: self.log,
            log_format: self.log_format,
            trusted_proxies,
            gateway_secret: self.gateway_secret.map(SecretString::from),
            metrics_token: self.metrics_token.map(SecretString::from),
            site_root: self.site_root,
            access_rules: self.access_rules,
        })
    }
}

/// `PORTCULLIS_COOKIE_DOMAIN`, checked: a domain name (a leading dot is dropped, as browsers
/// do) with at least two labels, and the public URL's host must be it or under it, or browsers
/// would drop the cookie and nobody could sign in.
fn cookie_domain(value: &str, public_url: &str) -> Result<String, ConfigError> {
    let var = "PORTCULLIS_COOKIE_DOMAIN";
    let d = value.trim().trim_start_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if d.split('.').count() < 2 || !d.split('.').all(label_ok) {
        return Err(ConfigError {
            var,
            message: format!("{value:?} is not a domain name such as example.com"),
        });
    }
    let host =
        url::Url::parse(public_url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    if !app::ssr::services::forward_auth::under_domain(&host, &d) {
        return Err(ConfigError {
            var,
            message: format!("{d:?} does not contain the public URL's host {host:?} (PORTCULLIS_PUBLIC_URL)"),
        });
    }
    Ok(d)
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
            cookie_domain: None,
            log: "warn".into(),
            log_format: LogFormat::Text,
            trusted_proxies: Vec::new(),
            gateway_secret: None,
            metrics_token: None,
            site_root: "target/site".into(),
            access_rules: Vec::new(),
        }
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;

    fn from_file(text: &str, set_elsewhere: impl Fn(&str) -> bool) -> Result<Settings, ConfigError> {
        let mut args = Args::try_parse_from(["portcullis"]).unwrap();
        args.apply_file("portcullis.toml", text, set_elsewhere)?;
        args.settings()
    }

    #[test]
    fn the_cookie_domain_must_contain_the_public_host() {
        assert_eq!(cookie_domain(".Example.com", "https://auth.example.com").unwrap(), "example.com");
        assert_eq!(cookie_domain("example.com", "https://example.com:8443").unwrap(), "example.com");
        for (value, public) in [
            ("example.com", "https://auth.example.net"),
            ("ample.com", "https://auth.example.com"),
            ("com", "https://auth.example.com"),
            ("https://example.com", "https://auth.example.com"),
            ("example.com/x", "https://auth.example.com"),
            ("exa mple.com", "https://auth.example.com"),
        ] {
            let e = cookie_domain(value, public).unwrap_err();
            assert_eq!(e.var, "PORTCULLIS_COOKIE_DOMAIN", "{value}");
        }
    }

    #[test]
    fn the_file_fills_what_flags_and_environment_left_unset() {
        let text = r#"
            addr = "0.0.0.0:8080"
            db_max_connections = 20
            trusted_proxies = ["10.0.0.0/8", "192.168.1.1"]
            log_format = "json"
            public_url = "https://gate.example"
        "#;
        let s = from_file(text, |_| false).unwrap();
        assert_eq!(s.addr.to_string(), "0.0.0.0:8080");
        assert_eq!(s.pool.max_connections, 20);
        assert_eq!(s.trusted_proxies.len(), 2);
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.public_url, "https://gate.example");
        // A flag or variable for `addr` wins over the file.
        let s = from_file(text, |key| key == "addr").unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(s.pool.max_connections, 20);
    }

    #[test]
    fn every_setting_with_a_variable_can_be_set_in_the_file() {
        let keys = file_keys();
        assert!(keys.iter().any(|(k, v)| k == "addr" && v == "PORTCULLIS_ADDR"));
        assert!(keys.iter().any(|(k, v)| k == "site_root" && v == "LEPTOS_SITE_ROOT"));
        assert!(!keys.iter().any(|(k, _)| k == "config" || k == "check_config"));
        let value = |key: &str| match key {
            "db_max_connections" | "db_timeout_secs" => "5".to_owned(),
            "trusted_proxies" => "[\"10.0.0.0/8\"]".to_owned(),
            "log" => "\"info\"".to_owned(),
            "log_format" => "\"json\"".to_owned(),
            "addr" => "\"127.0.0.1:4000\"".to_owned(),
            "public_url" => "\"https://gate.example\"".to_owned(),
            "cookie_domain" => "\"gate.example\"".to_owned(),
            "database_url" => "\"sqlite://x.db\"".to_owned(),
            _ => format!("\"{}\"", "s".repeat(40)),
        };
        let text: String = keys.iter().map(|(k, _)| format!("{k} = {}\n", value(k))).collect();
        from_file(&text, |_| false).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }

    #[test]
    fn a_wrong_key_or_value_names_the_file_and_the_key() {
        let err = |text: &str| from_file(text, |_| false).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err("adr = \"0.0.0.0:1\"").contains("portcullis.toml: unknown setting `adr`"),
            "{}",
            err("adr = 1")
        );
        assert!(err("db_max_connections = \"many\"").contains("`db_max_connections` must be a whole number"));
        assert!(
            err("metrics_token = \"short\"").contains("PORTCULLIS_METRICS_TOKEN")
                && err("metrics_token = \"short\"").contains("at least 32 characters"),
            "{}",
            err("metrics_token = \"short\"")
        );
        assert!(err("db_max_connections = -1").contains("`db_max_connections` must be a whole number"));
        assert!(err("log_format = \"xml\"").contains("`log_format` must be"));
        assert!(err("trusted_proxies = [1]").contains("`trusted_proxies` must be a list of addresses"));
        let e = err("log = \"info\"\naddr = ");
        assert!(e.starts_with("PORTCULLIS_CONFIG: portcullis.toml: line 2:") && !e.contains('\n'), "{e}");
        // A bad value is refused even where a flag or variable overrides it.
        assert!(from_file("db_max_connections = \"many\"", |_| true).is_err());
        let e = err("addr = \"nope\"");
        assert!(e.starts_with("PORTCULLIS_ADDR: (`addr` in portcullis.toml)"), "{e}");
        assert!(err("db_max_connections = 0")
            .contains("(`db_max_connections` in portcullis.toml) must be 1 to 1000"));
        // One line each, and a secret's value is never repeated.
        let e = err("database_url = \"mysql://user:hunter2@db/x\"");
        assert!(!e.contains("hunter2") && !e.contains('\n'), "{e}");
    }
}
