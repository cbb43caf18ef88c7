//! Forward-auth: a reverse proxy (nginx `auth_request`, Caddy `forward_auth`, Traefik
//! `forwardAuth`) asks, for each request to an app behind it, whether the caller may pass.
//! The caller is checked exactly as every API request is ([`auth::authenticate`]); this module
//! only reads what the proxy says about the original request and where to send a browser
//! that must sign in first.
use super::auth;
use super::identity::{Caller, Gate};
use crate::error::{AppError, ErrorKind};
use crate::ssr::AppState;

/// The request the proxy is asking about, as the proxy described it.
#[derive(Debug, Clone, Default)]
pub struct Original {
    /// `GET`, `POST`… (`GET` when the proxy did not say).
    pub method: String,
    /// The absolute URL, when the proxy said and is trusted to.
    pub url: Option<String>,
}

/// What the proxy is told.
pub enum Verdict {
    /// Let it through, naming the user to the app.
    Allow(Caller),
    /// Nobody is signed in, or the session's screen is locked: a browser goes to `location`
    /// (the sign-in page, or the lock screen), which sends it back to the original URL after.
    SignIn { location: String },
}

/// The groups a proxy passes on as `Remote-Groups`: every user is in `users`, admins also in
/// `admins`.
pub fn groups(caller: &Caller) -> &'static str {
    if caller.is_admin {
        "admins,users"
    } else {
        "users"
    }
}

/// Where a browser may be sent back to after signing in: an `https` (or the public URL's
/// scheme) URL on this instance's own host and port or, with `PORTCULLIS_COOKIE_DOMAIN`, on a
/// host under that domain (which the session cookie reaches); never another site (no open
/// redirect). Answers the URL to use.
pub fn safe_return(state: &AppState, rd: &str) -> Option<String> {
    let public = url::Url::parse(&state.config.public_url).ok()?;
    let target = url::Url::parse(rd.trim()).ok()?;
    let scheme_ok = target.scheme() == "https" || target.scheme() == public.scheme();
    let host = target.host_str()?;
    let this_host =
        Some(host) == public.host_str() && target.port_or_known_default() == public.port_or_known_default();
    let in_domain = state.config.cookie_domain.as_deref().is_some_and(|d| under_domain(host, d));
    (scheme_ok && (this_host || in_domain) && target.username().is_empty() && target.password().is_none())
        .then(|| target.to_string())
}

/// Whether `host` is `domain` or a name under it (`term.example.com` under `example.com`, not
/// `notexample.com` nor `example.com.evil.net`). Both as the URL parser wrote them (lowercase).
pub fn under_domain(host: &str, domain: &str) -> bool {
    host == domain || host.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.'))
}

/// One of our pages (`/login`, `/unlock`), with `rd` when the original URL is one a browser
/// may return to.
pub fn page_location(state: &AppState, page: &str, original: &Original) -> String {
    let base = state.config.public_url.trim_end_matches('/');
    match original.url.as_deref().and_then(|u| safe_return(state, u)) {
        Some(rd) => format!("{base}{page}?rd={}", crate::api::encode_query(&rd)),
        None => format!("{base}{page}"),
    }
}

/// `path` with `?rd=` when `rd` is a URL a browser may return to (the next page of a sign-in).
pub fn with_return(state: &AppState, path: &str, rd: Option<&str>) -> String {
    match rd.and_then(|r| safe_return(state, r)) {
        Some(rd) => format!("{path}?rd={}", crate::api::encode_query(&rd)),
        None => path.to_owned(),
    }
}

/// The verdict for one request. Nobody signed in goes to the sign-in page; a session whose
/// screen is locked (by hand or idle) goes to the lock screen, `/unlock`. A database that does
/// not answer is an error (`503`), never a pass.
pub async fn check(state: &AppState, token: Option<&str>, original: &Original) -> Result<Verdict, AppError> {
    match auth::authenticate(state, token, Gate::Unlocked).await {
        Ok(caller) => Ok(Verdict::Allow(caller)),
        Err(e) if e.is(ErrorKind::AccountLocked) => {
            Ok(Verdict::SignIn { location: page_location(state, "/unlock", original) })
        }
        Err(e) if e.is(ErrorKind::Unauthenticated) => {
            Ok(Verdict::SignIn { location: page_location(state, "/login", original) })
        }
        Err(e) => Err(e),
    }
}
