//! Page gating before rendering, so it holds without the WASM: no users → setup; pages that need
//! a session → login; sign-in pages while signed in → home.
use app::error::ErrorKind;
use app::ssr::http::{presented_token, LightPage};
use app::ssr::services::identity::Gate;
use app::ssr::services::{accounts, auth};
use app::ssr::AppState;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

const PUBLIC_PAGES: &[&str] = &["/login", "/login/mfa", "/register", "/reset"];
const PRIVATE_PAGES: &[&str] = &[
    "/",
    "/sessions",
    "/security",
    "/account",
    "/admin",
    "/admin/sessions",
    "/admin/api-keys",
    "/admin/sign-in",
    "/admin/access",
    "/admin/settings",
    "/admin/audit",
    "/vault",
    "/unlock",
    "/step-up",
];

pub async fn gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let path = path.as_str();
    let is_page = path == "/setup" || PUBLIC_PAGES.contains(&path) || PRIVATE_PAGES.contains(&path);
    if req.method() != Method::GET || !is_page {
        return next.run(req).await;
    }
    let needs_setup = match accounts::needs_setup(&state).await {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    if needs_setup {
        if path != "/setup" {
            return Redirect::to("/setup").into_response();
        }
        req.extensions_mut().insert(LightPage);
        return next.run(req).await;
    }
    let token = presented_token(req.headers());
    let (signed_in, locked) = match auth::authenticate(&state, token.as_deref(), Gate::AllowLocked).await {
        Ok(caller) => (true, caller.locked),
        // The database is away: say so, rather than pretend the visitor is signed out.
        Err(e) if e.is(ErrorKind::Unavailable) => return e.into_response(),
        Err(_) => (false, false),
    };
    if path == "/setup" {
        return Redirect::to(if signed_in { "/" } else { "/login" }).into_response();
    }
    let query = req.uri().query();
    let with_query = |to: &str| format!("{to}{}", query.map(|q| format!("?{q}")).unwrap_or_default());
    if PRIVATE_PAGES.contains(&path) && !signed_in {
        // Keep the query: a failed single sign-on lands on `/?sso_error=…` and the sign-in page
        // says why; the lock screen's and the step-up page's `rd` is the way back after.
        return Redirect::to(&with_query("/login")).into_response();
    }
    if PUBLIC_PAGES.contains(&path) && signed_in {
        // Sent to sign in by forward-auth while already signed in: straight back, or to the
        // lock screen first (the way back kept) when the screen is locked.
        if (path == "/login" || path == "/login/mfa") && locked {
            return Redirect::to(&with_query("/unlock")).into_response();
        }
        let back = (path == "/login" || path == "/login/mfa").then(|| return_to(&state, query)).flatten();
        return Redirect::to(back.as_deref().unwrap_or("/")).into_response();
    }
    // The lock screen on its own (forward-auth sends a locked session here with `rd`): once
    // unlocked, here or in another tab, the next visit goes back.
    if path == "/unlock" && !locked {
        return Redirect::to(return_to(&state, query).as_deref().unwrap_or("/")).into_response();
    }
    // The step-up page asks for a code only once the screen is unlocked: the lock screen
    // first, the way back kept (forward-auth asks for the step-up again on the way).
    if path == "/step-up" && locked {
        return Redirect::to(&with_query("/unlock")).into_response();
    }
    // Sign-in pages, the step-up page, and a locked session's page (only the lock screen shows), need no WASM:
    // their forms post, so they act as soon as the HTML arrives.
    if PUBLIC_PAGES.contains(&path) || path == "/step-up" || locked {
        req.extensions_mut().insert(LightPage);
    }
    next.run(req).await
}

/// Server functions answer every error with `500` (server_fn 0.8). The body is our [`AppError`],
/// so the status is put right here: a wrong password from a page is `401`, as over REST, and
/// real server faults stay the only `500`s in the log.
pub async fn rpc_status(req: Request, next: Next) -> Response {
    use axum::http::StatusCode;
    let is_rpc = req.uri().path().starts_with("/rpc/");
    let res = next.run(req).await;
    if !is_rpc
        || res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 256 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(e) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        parts.status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The `rd` of a sign-in page's query, when it is a URL a browser may be sent back to.
pub fn return_to(state: &AppState, query: Option<&str>) -> Option<String> {
    let rd = serde_urlencoded::from_str::<Vec<(String, String)>>(query?)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "rd")?
        .1;
    app::ssr::services::forward_auth::safe_return(state, &rd)
}
