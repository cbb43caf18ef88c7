//! Forward-auth for reverse proxies (extension), in the conventions Authelia's endpoints use so
//! existing proxy snippets work: `forward-auth` for Traefik and Caddy, `auth-request` for
//! nginx. The proxy's description of the original request (`X-Forwarded-*`,
//! `X-Original-*`) is believed only from `PORTCULLIS_TRUSTED_PROXIES`.
use super::ApiJson;
use app::error::{AppError, ErrorKind};
use app::ssr::http::{is_trusted_proxy, presented_token};
use app::ssr::services::access_rules::{self, RuleInput, RuleView};
use app::ssr::services::forward_auth::{self, Original, Verdict};
use app::ssr::services::identity::AdminUser;
use app::ssr::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// A header the proxy set about the original request: `None` unless the peer is one of
/// `PORTCULLIS_TRUSTED_PROXIES` (anyone else could say anything).
fn proxy_said<'a>(state: &AppState, parts: &'a Parts, name: &str) -> Option<&'a str> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0;
    if is_trusted_proxy(state, peer.ip()) {
        text(&parts.headers, name)
    } else {
        None
    }
}

/// Whether the caller is a browser navigating (it is sent to the sign-in page) rather than a
/// script or an XHR (it gets `401`).
fn is_browser(headers: &HeaderMap) -> bool {
    let html = text(headers, "accept").is_some_and(|a| a.contains("text/html"));
    let xhr = text(headers, "x-requested-with").is_some_and(|x| x.eq_ignore_ascii_case("xmlhttprequest"));
    html && !xhr
}

/// `200` with the user for the app behind the proxy: `Remote-User`, `Remote-Groups`
/// (comma-separated), `Remote-Name`, `Remote-Email` (empty: Portcullis keeps no addresses).
/// A `bypass` rule names nobody: all four empty.
fn allowed(caller: Option<&app::ssr::services::identity::Caller>) -> Response {
    let mut res = StatusCode::OK.into_response();
    let h = res.headers_mut();
    // All four, always (an empty one too): a proxy that copies them over the client's own
    // must never leave a header the client sent in place. Display names may be UTF-8.
    let (user, groups, name) = caller
        .map_or(("", "", ""), |c| (c.username.as_str(), forward_auth::groups(c), c.display_name.as_str()));
    for (name, value) in
        [("remote-user", user), ("remote-groups", groups), ("remote-name", name), ("remote-email", "")]
    {
        let value = HeaderValue::from_bytes(value.as_bytes()).unwrap_or(HeaderValue::from_static(""));
        h.insert(HeaderName::from_static(name), value);
    }
    res
}

/// `401` in our JSON shape, with the sign-in page in `Location` when given (nginx reads it).
fn unauthenticated(location: Option<&str>) -> Response {
    let mut res = AppError::from(ErrorKind::Unauthenticated).into_response();
    if let Some(v) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut res = status.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

#[utoipa::path(
    operation_id = "authz_forward_auth",
    get,
    path = "/api/authz/forward-auth",
    tag = "forward-auth",
    params(
        ("X-Forwarded-Method" = Option<String>, Header, description = "The original method (from a trusted proxy)"),
        ("X-Forwarded-Proto" = Option<String>, Header, description = "The original scheme"),
        ("X-Forwarded-Host" = Option<String>, Header, description = "The original host"),
        ("X-Forwarded-Uri" = Option<String>, Header, description = "The original path and query"),
    ),
    responses(
        (status = 200, description = "Allowed; `Remote-User`, `Remote-Groups`, `Remote-Name`, `Remote-Email` name the user"),
        (status = 302, description = "A browser that must sign in first: `Location` is the sign-in page with `rd`"),
        (status = 303, description = "The same, for an original request that was not a GET"),
    ),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn forward_auth(State(state): State<AppState>, parts: Parts) -> Result<Response, AppError> {
    let headers = &parts.headers;
    let said = |name| proxy_said(&state, &parts, name);
    let method = said("x-forwarded-method").unwrap_or("GET").to_ascii_uppercase();
    let url = match (said("x-forwarded-proto"), said("x-forwarded-host")) {
        (Some(proto), Some(host)) => {
            Some(format!("{proto}://{host}{}", said("x-forwarded-uri").unwrap_or("/")))
        }
        _ => None,
    };
    let original = Original { method, url, page_load: is_browser(headers) };
    let verdict = forward_auth::check(&state, presented_token(headers).as_deref(), &original).await?;
    let status = if original.method == "GET" || original.method == "HEAD" {
        StatusCode::FOUND
    } else {
        StatusCode::SEE_OTHER
    };
    Ok(answer(verdict, is_browser(headers), |location| redirect(status, location)))
}

/// nginx treats anything but 2xx, 401 and 403 as an error, so this never redirects: a browser
/// that must sign in (or unlock) gets `401` with the page to go to in `Location`, for
/// `error_page 401`; a script or an XHR gets a bare `401` (no `Location`), which the snippet
/// passes on as it is.
#[utoipa::path(
    operation_id = "authz_auth_request",
    get,
    path = "/api/authz/auth-request",
    tag = "forward-auth",
    params(
        ("X-Original-Method" = Option<String>, Header, description = "The original method (from a trusted proxy)"),
        ("X-Original-URL" = Option<String>, Header, description = "The original absolute URL"),
    ),
    responses(
        (status = 200, description = "Allowed; `Remote-User`, `Remote-Groups`, `Remote-Name`, `Remote-Email` name the user"),
    ),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn auth_request(State(state): State<AppState>, parts: Parts) -> Result<Response, AppError> {
    let headers = &parts.headers;
    let said = |name| proxy_said(&state, &parts, name);
    let original = Original {
        method: said("x-original-method").unwrap_or("GET").to_ascii_uppercase(),
        url: said("x-original-url").map(str::to_owned),
        page_load: is_browser(headers),
    };
    let verdict = forward_auth::check(&state, presented_token(headers).as_deref(), &original).await?;
    Ok(answer(verdict, is_browser(headers), |location| unauthenticated(Some(location))))
}

/// The verdict as the proxy hears it. A browser that must sign in, unlock or step up is sent
/// on by `send` (a redirect, or nginx's `401` with `Location`); a script or an XHR is told:
/// `401` to sign in (or unlock), `403 step_up_required` for a missing second factor, `403`
/// when refused.
fn answer(verdict: Verdict, browser: bool, send: impl Fn(&str) -> Response) -> Response {
    match verdict {
        Verdict::Allow(caller) => allowed(caller.as_ref()),
        Verdict::SignIn { location } | Verdict::StepUp { location } if browser => send(&location),
        Verdict::SignIn { .. } => unauthenticated(None),
        Verdict::StepUp { .. } => AppError::from(ErrorKind::StepUpRequired).into_response(),
        Verdict::Forbidden => {
            AppError::of(ErrorKind::Forbidden, "The access rules do not let you open this.").into_response()
        }
    }
}

/// The access rules, in the order they are checked.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Rules {
    rules: Vec<RuleView>,
}

/// The whole ordered list that replaces the rules.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRules {
    rules: Vec<RuleInput>,
}

#[utoipa::path(
    operation_id = "authz_rules",
    get,
    path = "/api/authz/rules",
    tag = "forward-auth",
    responses((status = 200, description = "The access rules, first checked first", body = Rules)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn rules(State(state): State<AppState>, admin: AdminUser) -> Result<Json<Rules>, AppError> {
    Ok(Json(Rules { rules: access_rules::list(&admin, &state).await? }))
}

/// Replaces every rule at once, all or nothing (an empty list removes them all: every
/// signed-in session passes again). A wrong rule is `400 invalid_request` naming it
/// (`rules[2].path`).
#[utoipa::path(
    operation_id = "authz_set_rules",
    put,
    path = "/api/authz/rules",
    tag = "forward-auth",
    request_body = NewRules,
    responses((status = 200, description = "Saved; the rules as stored", body = Rules)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn set_rules(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(body): ApiJson<NewRules>,
) -> Result<Json<Rules>, AppError> {
    Ok(Json(Rules { rules: access_rules::save(&admin, &state, &body.rules).await? }))
}
