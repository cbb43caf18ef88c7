//! Builds the application from checked settings: database, keys, state, router, listener.
use crate::config::{LogFormat, Settings};
use app::ssr::clock::Clock;
use app::ssr::keys::{InstanceKeys, KeyError};
use app::ssr::services::{passwords, rate_limit};
use app::ssr::state::{LogControl, RuntimeConfig};
use app::ssr::AppState;

use axum::Router;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use tracing_subscriber::{layer::SubscriberExt, reload, util::SubscriberInitExt, EnvFilter, Registry};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Database(#[from] app::ssr::db::DbError),
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("cannot write the configuration file's access rules: {0}")]
    AccessRules(app::error::AppError),
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
}

struct ReloadableLog(reload::Handle<EnvFilter, Registry>);

impl LogControl for ReloadableLog {
    fn set_level(&self, level: &str) -> Result<(), String> {
        let filter = EnvFilter::try_new(level).map_err(|e| e.to_string())?;
        self.0.reload(filter).map_err(|e| e.to_string())
    }
}

/// Installs the global subscriber (logging to stderr) and hands back the switch the
/// `log-level` setting uses.
pub fn init_tracing(filter: &str, format: LogFormat) -> Arc<dyn LogControl> {
    use std::io::IsTerminal;
    init_tracing_to(filter, format, std::io::stderr, std::io::stderr().is_terminal())
}

/// The same, logging to any writer (the tests read the log this way). JSON lines carry the
/// event's fields flattened beside `timestamp`, `level`, `target` and `message`, and `spans`,
/// the first of which is the request's (`request_id`, `method`, `path`) when the line was
/// written during one.
pub fn init_tracing_to<W>(filter: &str, format: LogFormat, writer: W, ansi: bool) -> Arc<dyn LogControl>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Clone + Send + Sync + 'static,
{
    let (layer, handle) =
        reload::Layer::new(EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info")));
    let json = format == LogFormat::Json;
    let text_lines =
        (!json).then(|| tracing_subscriber::fmt::layer().with_writer(writer.clone()).with_ansi(ansi));
    let json_lines = json.then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(writer)
    });
    tracing_subscriber::registry().with(layer).with(text_lines).with(json_lines).init();
    Arc::new(ReloadableLog(handle))
}

pub struct Application {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    router: Router,
    state: AppState,
}

impl Application {
    pub async fn build(
        settings: Settings,
        clock: Arc<dyn Clock>,
        log_control: Option<Arc<dyn LogControl>>,
    ) -> Result<Self, StartError> {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| StartError::DataDir(settings.data_dir.display().to_string(), e))?;
        let keys = match &settings.secret_key {
            Some(secret) => InstanceKeys::from_secret(secret.expose_secret())?,
            None => InstanceKeys::load_or_create(&settings.data_dir)?,
        };
        let pool = app::ssr::db::connect(settings.database_url.expose_secret(), settings.pool).await?;
        let listener = tokio::net::TcpListener::bind(settings.addr)
            .await
            .map_err(|e| StartError::Bind(settings.addr, e))?;
        let addr = listener.local_addr().map_err(|e| StartError::Bind(settings.addr, e))?;
        let leptos_options = LeptosOptions::builder()
            .output_name("portcullis")
            .site_root(settings.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .hash_files(crate::assets::hashed_build())
            .build();
        let state = AppState::new(app::ssr::state::Shared {
            pool,
            keys: Arc::new(keys),
            clock,
            config: Arc::new(RuntimeConfig {
                public_url: settings.public_url,
                cookie_domain: settings.cookie_domain,
                trusted_proxies: settings.trusted_proxies,
                gateway_secret: settings.gateway_secret,
                default_log_level: app::ssr::services::settings::LOG_LEVELS
                    .into_iter()
                    .find(|l| settings.log.trim().eq_ignore_ascii_case(l))
                    .unwrap_or("info")
                    .to_owned(),
            }),
            log_control,
            leptos_options,
            set_up: Default::default(),
        });
        app::ssr::services::access_rules::seed(&state, &settings.access_rules)
            .await
            .map_err(StartError::AccessRules)?;
        if let Err(e) = app::ssr::services::settings::restore_log_level(&state).await {
            tracing::warn!(error = %e, "could not restore the saved log level");
        }
        tokio::task::spawn_blocking(passwords::warm_up);
        let metrics = crate::metrics::Metrics::new(settings.metrics_token);
        let router = router(state.clone(), metrics);
        Ok(Self { listener, addr, router, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run_until_stopped(self) -> Result<(), StartError> {
        let state = self.state.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                let _ = rate_limit::prune(&state).await;
                let _ = app::ssr::services::vault::prune(&state).await;
                let _ = app::ssr::services::sessions::prune_expired(&state).await;
                match app::ssr::services::audit::prune(&state).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(events = n, "audit events past their retention removed"),
                    Err(e) => tracing::warn!(error = %e, "audit pruning failed; it runs again in an hour"),
                }
            }
        });
        tokio::spawn(app::ssr::services::settings::follow_shared_settings(
            self.state.clone(),
            app::ssr::services::settings::FOLLOW_EVERY,
        ));
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(StartError::Serve)
    }
}

/// The pages' routes, listed once per process. Listing them runs the app with resource loading
/// switched off for the whole process (a flag in `leptos_server`), so a page another instance
/// is rendering at that moment would wait forever for its data; after the first time, every
/// instance reuses the list.
fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// The whole HTTP surface: REST under `/api`, server functions under `/rpc`, pages, static files.
pub fn router(state: AppState, metrics: Option<crate::metrics::Metrics>) -> Router {
    let routes = page_routes();
    let opts = state.leptos_options.clone();
    // With metrics on, every matched route names its template on the answer (a layer that costs
    // nothing while they are off).
    let named = |r: Router<AppState>| match &metrics {
        Some(_) => r.route_layer(axum::middleware::from_fn(crate::metrics::name_route)),
        None => r,
    };
    // Page gating and the server functions' status fix concern pages and `/rpc` only; the REST
    // routes and static files do not pass through them.
    let pages = named(Router::<AppState>::new().leptos_routes_with_context(
        &state,
        routes,
        || {},
        move || app::shell(opts.clone()),
    ))
    .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(|| {}, app::shell))
    .layer(axum::middleware::from_fn_with_state(state.clone(), crate::pages::gate))
    .layer(axum::middleware::from_fn(crate::pages::rpc_status));
    let scrape = metrics.as_ref().map(|m| named(m.router())).unwrap_or_default();
    let (rest, paths) = crate::routes::router().merge(crate::health::router()).split_for_parts();
    let document = crate::openapi::document(paths);
    Router::new()
        .merge(named(rest))
        .merge(named(crate::routes::not_found_routes()))
        .merge(named(crate::openapi::router(&document)))
        .merge(scrape)
        .nest_service("/pkg", crate::assets::pkg(&state.leptos_options))
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::defences::edge))
        .with_state(state)
}
