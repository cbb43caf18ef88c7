//! The HTTP edge shared by REST handlers and server functions: error responses, the caller
//! extractors, the client's address and the session cookie.
use super::services::auth::authenticate;
use super::services::identity::{AdminUser, Caller, ClientMeta, Gate};
use super::AppState;
use crate::error::{AppError, ErrorKind};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};

/// The Content-Security-Policy directives of every answer.
pub const BASE_POLICY: &str =
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'";

/// A page's policy: only the scripts this answer carries (by its nonce) and what they load run,
/// the WASM may compile, and everything else comes from this origin (the TOTP QR code is a
/// `data:` image). No inline styles or event handlers anywhere.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; {BASE_POLICY}"
    )
}

/// During server rendering: puts this page's policy on its answer, with the nonce leptos
/// gave this render's inline scripts, and keeps it out of every cache (a page is rendered for
/// one person; the vault and two-factor set-up show secrets).
pub fn set_page_headers() {
    use leptos::prelude::use_context;
    let Some(res) = use_context::<leptos_axum::ResponseOptions>() else { return };
    res.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let policy =
        leptos::nonce::use_nonce().and_then(|n| HeaderValue::from_str(&page_policy(&n.to_string())).ok());
    if let Some(value) = policy {
        res.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Marks a request whose page is sent without the WASM (see `pages::gate` in the server): the
/// sign-in, set-up and reset pages, and any page of a screen-locked session. Their forms post
/// natively, so they are interactive as soon as the HTML arrives.
#[derive(Clone, Copy, Debug)]
pub struct LightPage;

/// During server rendering: whether this page goes out without the WASM.
pub fn is_light_page() -> bool {
    leptos::prelude::use_context::<Parts>().is_some_and(|p| p.extensions.get::<LightPage>().is_some())
}

pub const SESSION_COOKIE: &str = "jwt";
/// The trusted-device cookie: a random value whose digest the database holds.
pub const TRUSTED_DEVICE_COOKIE: &str = "pc_trusted";
/// The MFA-pending token between the two sign-in pages (not used by the REST routes).
pub const MFA_COOKIE: &str = "pc_mfa";
/// Binds a single sign-on in flight to the browser that started it.
pub const OIDC_COOKIE: &str = "pc_oidc";
/// The password-reset token between the reset page's last two steps.
pub const RESET_COOKIE: &str = "pc_reset";

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(self.body())).into_response();
        if let Some(remaining_time) = self.remaining_time() {
            if let Ok(v) = HeaderValue::from_str(&remaining_time.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// The token a request presents: `Authorization: Bearer` first, else the `jwt` cookie.
pub fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let mut parts = v.splitn(2, ' ');
        if parts.next().is_some_and(|s| s.eq_ignore_ascii_case("bearer")) {
            return parts.next().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        }
    }
    cookie(headers, SESSION_COOKIE)
}

/// The value of one cookie.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// The client's address: the socket peer, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy. An untrusted client
/// cannot pick its own address (and so escape its per-IP limit) by sending the header.
pub fn client_ip(state: &AppState, peer: Option<IpAddr>, headers: &HeaderMap) -> String {
    client_ip_from(state, peer, headers.get_all("x-forwarded-for").iter())
}

/// Whether `ip` is one of `PORTCULLIS_TRUSTED_PROXIES` (IPv4-mapped IPv6 read as IPv4): the
/// one check for every header a proxy may speak for the client in.
pub fn is_trusted_proxy(state: &AppState, ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    state.config.trusted_proxies.iter().any(|n| n.contains(&ip))
}

/// [`client_ip`] from the `X-Forwarded-For` lines alone.
pub fn client_ip_from<'a>(
    state: &AppState,
    peer: Option<IpAddr>,
    forwarded_for: impl Iterator<Item = &'a HeaderValue>,
) -> String {
    let Some(peer) = peer.map(|p| p.to_canonical()) else { return "unknown".into() };
    let trusted = |ip: &IpAddr| is_trusted_proxy(state, *ip);
    if !trusted(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = forwarded_for
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok().map(|a| a.to_canonical()))
        .collect();
    forwarded.iter().rev().find(|ip| !trusted(ip)).copied().unwrap_or(peer).to_string()
}

pub fn client_meta(state: &AppState, parts: &Parts) -> ClientMeta {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    ClientMeta {
        ip: client_ip(state, peer, &parts.headers),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(512)
            .collect(),
    }
}

/// `Set-Cookie` for an HttpOnly, SameSite=Lax cookie (Secure behind HTTPS).
pub fn http_only_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` for a new session token (or its removal): the one cookie that also carries
/// `PORTCULLIS_COOKIE_DOMAIN`, so apps on sibling hosts behind forward-auth receive it. The
/// second-step and trusted-device cookies stay on this host.
pub fn session_cookie(state: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let Some(domain) = &state.config.cookie_domain else {
        return http_only_cookie(state, SESSION_COOKIE, token, max_age);
    };
    let secure = if state.config.secure_cookies() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Domain={domain}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` for a new trusted-device value (30 days).
pub fn trusted_device_cookie(state: &AppState, value: &str) -> HeaderValue {
    http_only_cookie(state, TRUSTED_DEVICE_COOKIE, value, super::services::totp::TRUSTED_DEVICE_SECS)
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie(state: &AppState) -> HeaderValue {
    session_cookie(state, "", 0)
}

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(client_meta(state, parts))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        authenticate(state, presented_token(&parts.headers).as_deref(), Gate::Unlocked).await
    }
}

/// A caller on one of the few routes a screen-locked client may still use.
pub struct LockedCaller(pub Caller);

impl FromRequestParts<AppState> for LockedCaller {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        authenticate(state, presented_token(&parts.headers).as_deref(), Gate::AllowLocked)
            .await
            .map(LockedCaller)
    }
}

/// An admin caller: admin-only REST routes take this, so the check cannot be forgotten.
impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Caller::from_request_parts(parts, state).await?.require_admin()
    }
}

/// The terminal gateway, proven by `Authorization: Bearer <PORTCULLIS_GATEWAY_SECRET>`,
/// compared in constant time. The routes that take it are `404` while no secret is
/// configured; a wrong or missing secret is `401`.
pub struct Gateway;

impl FromRequestParts<AppState> for Gateway {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        use secrecy::ExposeSecret;
        use subtle::ConstantTimeEq;
        let Some(expected) = state.config.gateway_secret.as_ref().map(|s| s.expose_secret()) else {
            return Err(ErrorKind::NotFound.into());
        };
        match presented_token(&parts.headers) {
            Some(p)
                if bool::from(
                    super::keys::digest(&p).as_bytes().ct_eq(super::keys::digest(expected).as_bytes()),
                ) =>
            {
                Ok(Gateway)
            }
            _ => Err(ErrorKind::Unauthenticated.into()),
        }
    }
}
