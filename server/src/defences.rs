//! Defences every request passes: cross-site state changes refused, and the security headers.
use app::error::{AppError, ErrorKind};
use app::ssr::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

/// Whether a state-changing request was sent by a page of another site.
///
/// As Go's `CrossOriginProtection`: a browser's `Sec-Fetch-Site` decides when present
/// (`same-origin` and `none` pass; `same-site` fails too, since a sibling subdomain must not
/// ride the session cookie); without it, an `Origin` header must name this instance (its
/// public URL, or the host the request was sent to). Requests with neither header do not come
/// from a browser page (scripts, gateways, Bearer clients) and pass.
pub fn is_cross_site(headers: &HeaderMap, public_origin: &str) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = text(header::ORIGIN.as_str()) else { return false };
    if origin.eq_ignore_ascii_case(public_origin) {
        return false;
    }
    let host = text(header::HOST.as_str()).unwrap_or("");
    let origin_host = origin.split_once("://").map_or("", |(_, h)| h);
    host.is_empty() || !origin_host.eq_ignore_ascii_case(host)
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or("")),
        None => url.to_owned(),
    }
}

/// The defences every answer passes, in one layer (each extra layer costs every request):
///
/// - every request gets an id (`X-Request-Id` on the answer), and every log line written while
///   it runs carries it with the method and path; a `5xx` is logged as an error, every answer
///   at `debug`;
/// - refuses cross-site requests that could change state, on every route (REST, server
///   functions, pages): `403 cross_site_request`, before anything runs;
/// - answers under `/api` and `/rpc` carry tokens, codes and settings: no cache keeps them (nor
///   a stale health answer);
/// - behind HTTPS, browsers are told to keep using it;
/// - frames, MIME sniffing and cross-site referrers are refused, and a page sets its own,
///   stricter Content-Security-Policy with its script nonce (`set_page_headers`); every other
///   answer gets the base policy.
pub async fn edge(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let from_proxy = peer.is_some_and(|ip| app::ssr::http::is_trusted_proxy(&state, ip));
    let id = request_id(req.headers(), from_proxy);
    let span =
        tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let started = std::time::Instant::now();
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    // The request line for the metrics, copied only when they are on.
    let observed = app::ssr::metrics::enabled().then(|| (req.method().clone(), path.to_owned()));
    let api = path == "/api"
        || path.starts_with("/api/")
        || path.starts_with("/rpc/")
        || path == "/healthz"
        || path == "/readyz"
        || path == "/metrics";
    let mut res = if !safe && is_cross_site(req.headers(), &origin_of(&state.config.public_url)) {
        span.in_scope(|| tracing::info!("cross-site request refused"));
        AppError::of(ErrorKind::CrossSiteRequest, "Requests from other sites cannot change anything here.")
            .into_response()
    } else {
        // The request's origin, for the audit events it records (read only if it records one).
        let origin = app::ssr::services::audit::RequestContext {
            peer,
            user_agent: req.headers().get(header::USER_AGENT).cloned(),
            forwarded_for: req.headers().get_all("x-forwarded-for").iter().cloned().collect(),
        };
        app::ssr::services::audit::in_request(origin, next.run(req).instrument(span.clone())).await
    };
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    if let Some((method, path)) = observed {
        crate::metrics::record_request(&method, &path, &res, elapsed);
    }
    let ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, ms, "answered");
        } else {
            tracing::debug!(status, ms, "answered");
        }
    });
    secure_headers(&state, res.headers_mut(), api);
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

const REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// The request's id: the one a trusted proxy in front set (nginx `$request_id`, Traefik,
/// Caddy), when it looks like an id, so both logs name the request alike; otherwise a new one,
/// unique across nodes and restarts (a random prefix chosen at start, then a counter). A client
/// cannot choose the id its requests are logged under.
fn request_id(headers: &HeaderMap, from_proxy: bool) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::LazyLock;
    static PREFIX: LazyLock<String> = LazyLock::new(|| app::ssr::keys::random_hex(4));
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let given = headers.get(REQUEST_ID).filter(|_| from_proxy).and_then(|v| v.to_str().ok()).filter(|v| {
        (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    });
    match given {
        Some(v) => v.to_owned(),
        None => format!("{}-{:x}", *PREFIX, NEXT.fetch_add(1, Ordering::Relaxed)),
    }
}

fn secure_headers(state: &AppState, h: &mut HeaderMap, api: bool) {
    if api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.config.secure_cookies() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(app::ssr::http::BASE_POLICY));
    h.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    h.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("same-origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn fetch_metadata_decides_then_origin_then_nothing() {
        let me = "https://gate.example";
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")]), me));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")]), me));
        assert!(!is_cross_site(
            &headers(&[("sec-fetch-site", "same-origin"), ("origin", "https://evil.example")]),
            me
        ));
        assert!(is_cross_site(&headers(&[("origin", "https://evil.example"), ("host", "gate.example")]), me));
        assert!(!is_cross_site(&headers(&[("origin", "https://gate.example")]), me));
        assert!(!is_cross_site(
            &headers(&[("origin", "http://10.0.0.2:3000"), ("host", "10.0.0.2:3000")]),
            me
        ));
        assert!(!is_cross_site(&headers(&[]), me));
        assert_eq!(origin_of("https://gate.example/sub/path"), "https://gate.example");
    }
}
