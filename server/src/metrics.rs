//! Prometheus metrics at `GET /metrics`, off unless `PORTCULLIS_METRICS_TOKEN` is set; then the
//! scraper presents that token as a Bearer token (compared in constant time).
//!
//! Counters and histograms are recorded where things happen (`app::ssr::metrics`, and the
//! request line in `defences::edge`); gauges (sessions, password queue, database connections)
//! are read when scraped. The exposition is `metrics-exporter-prometheus`'s.
use app::error::{AppError, ErrorKind};
use app::ssr::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Latency buckets, in seconds: from a session check (sub-millisecond) to an argon2 queue.
const BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The live-session count is a table count: taken at most this often.
const SESSIONS_EVERY: Duration = Duration::from_secs(60);

/// The scrape route's state: the exposition handle and the scraper's token.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    token: Arc<SecretString>,
    live_sessions: Arc<Mutex<Option<(Instant, i64)>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics { token: [redacted] }")
    }
}

/// The process's recorder: one per process (the `metrics` facade has one global recorder), so a
/// second instance in the same process shares it.
fn recorder() -> &'static Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = match PrometheusBuilder::new().set_buckets(BUCKETS) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "metrics are off: the histogram buckets were refused");
                return None;
            }
        };
        let handle = match builder.install_recorder() {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "metrics are off: another recorder is installed");
                return None;
            }
        };
        // Histograms are summed into their buckets by upkeep; without it they would only grow, so
        // nothing is counted unless it runs.
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            })
            .map_err(|e| tracing::error!(error = %e, "metrics are off: could not start their upkeep"))
            .ok()?;
        describe();
        app::ssr::metrics::enable();
        Some(handle)
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "portcullis_http_requests_total",
        "Answered requests by route template, method and status."
    );
    describe_histogram!(
        "portcullis_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer, by route template, method and status."
    );
    describe_counter!("portcullis_sign_ins_total", "First factors by method and outcome.");
    describe_counter!(
        "portcullis_second_steps_total",
        "Second steps (TOTP or backup code) at sign-in, by outcome."
    );
    describe_counter!("portcullis_limit_refusals_total", "Attempts a limit turned away, by limit.");
    describe_counter!("portcullis_screen_locks_total", "Screen locks, by hand or after idling.");
    describe_counter!("portcullis_screen_unlocks_total", "Unlock attempts on the lock screen, by outcome.");
    describe_gauge!(
        "portcullis_active_sessions",
        "Sessions that still let someone in (counted at most once a minute)."
    );
    describe_gauge!("portcullis_password_queue_waiting", "Password jobs waiting for a worker.");
    describe_histogram!(
        "portcullis_password_queue_wait_seconds",
        Unit::Seconds,
        "How long a password job waited for a worker."
    );
    describe_gauge!("portcullis_db_connections", "Database connections of this node, in use or idle.");
    describe_gauge!("portcullis_db_connections_max", "The most database connections this node keeps.");
}

impl Metrics {
    /// Metrics for this instance, or `None` when no token is set (or the recorder could not be
    /// installed, which is logged).
    pub fn new(token: Option<SecretString>) -> Option<Self> {
        let token = token?;
        let handle = recorder().clone()?;
        Some(Self { handle, token: Arc::new(token), live_sessions: Arc::default() })
    }

    /// `GET /metrics`, and the layer that names each answer's route for the request metrics.
    pub fn router(&self) -> Router<AppState> {
        Router::new().route("/metrics", get(scrape)).layer(axum::Extension(self.clone()))
    }

    /// Whether `Authorization: Bearer` carries the token (never a cookie: a browser's session
    /// is not a scraper).
    fn authorized(&self, headers: &axum::http::HeaderMap) -> bool {
        use subtle::ConstantTimeEq;
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let digest = |s: &str| app::ssr::keys::digest(s);
        bool::from(digest(presented).as_bytes().ct_eq(digest(self.token.expose_secret()).as_bytes()))
    }

    async fn live_sessions(&self, state: &AppState) -> Option<i64> {
        let cached = self.live_sessions.lock().ok().and_then(|c| *c);
        if let Some((at, n)) = cached.filter(|(at, _)| at.elapsed() < SESSIONS_EVERY) {
            let _ = at;
            return Some(n);
        }
        match app::ssr::services::sessions::count_live(state).await {
            Ok(n) => {
                if let Ok(mut c) = self.live_sessions.lock() {
                    *c = Some((Instant::now(), n));
                }
                Some(n)
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not count live sessions for the metrics");
                cached.map(|(_, n)| n)
            }
        }
    }
}

async fn scrape(
    State(state): State<AppState>,
    axum::Extension(m): axum::Extension<Metrics>,
    headers: axum::http::HeaderMap,
) -> Response {
    if !m.authorized(&headers) {
        return AppError::from(ErrorKind::Unauthenticated).into_response();
    }
    if let Some(n) = m.live_sessions(&state).await {
        metrics::gauge!("portcullis_active_sessions").set(n as f64);
    }
    metrics::gauge!("portcullis_password_queue_waiting").set(app::ssr::hashing::waiting() as f64);
    let (open, idle, max) = state.pool.connections();
    metrics::gauge!("portcullis_db_connections", "state" => "in_use")
        .set(open.saturating_sub(idle as u32) as f64);
    metrics::gauge!("portcullis_db_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("portcullis_db_connections_max").set(f64::from(max));
    let mut res = m.handle.render().into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    res
}

/// The route template an answer came from (`/api/users/sessions/{session_id}`), put on the
/// answer for the request metrics; never the raw path, which a client chooses.
#[derive(Clone)]
pub struct RouteTemplate(pub Arc<str>);

/// A route layer (it runs only for matched routes) that names the route on its answer.
pub async fn name_route(req: Request, next: Next) -> Response {
    let template = req.extensions().get::<MatchedPath>().map(|p| RouteTemplate(Arc::from(p.as_str())));
    let mut res = next.run(req).await;
    if let Some(t) = template {
        res.extensions_mut().insert(t);
    }
    res
}

/// Counts one answered request (called by the edge layer when metrics are on).
pub fn record_request(method: &axum::http::Method, path: &str, res: &Response, elapsed: Duration) {
    let route: String = match res.extensions().get::<RouteTemplate>() {
        Some(t) => t.0.to_string(),
        None if path.starts_with("/pkg/") => "/pkg/{file}".to_owned(),
        None => "unmatched".to_owned(),
    };
    let method = match *method {
        axum::http::Method::GET => "GET",
        axum::http::Method::POST => "POST",
        axum::http::Method::PUT => "PUT",
        axum::http::Method::PATCH => "PATCH",
        axum::http::Method::DELETE => "DELETE",
        axum::http::Method::HEAD => "HEAD",
        axum::http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let status = res.status().as_str().to_owned();
    let labels = [("route", route), ("method", method.to_owned()), ("status", status)];
    metrics::counter!("portcullis_http_requests_total", &labels).increment(1);
    metrics::histogram!("portcullis_http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
}
