//! The document shell and the router.
use crate::pages::{
    AccountPage, AdminPage, AuditPage, HomePage, LoginPage, MfaPage, RegisterPage, ResetPage, SecurityPage,
    SessionsPage, SetupPage, StepUpPage, VaultPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

/// Every page renders in `SsrMode::Async`: the server waits for the page's data and sends
/// finished HTML, so pages read and their forms post before (or without) the WASM.
///
/// Light pages (sign-in, set-up, reset, a locked session: see `ssr::http::LightPage`) leave the
/// WASM out; every page carries `enhance.js` inline, which shows forms sending and buttons
/// still loading.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::http::set_page_headers();
    #[cfg(feature = "ssr")]
    let light = crate::ssr::http::is_light_page();
    #[cfg(not(feature = "ssr"))]
    let light = false;
    view! {
        <!DOCTYPE html>
        <html lang="en" data-app=if light { "light" } else { "full" }>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                <script nonce=leptos::nonce::use_nonce() inner_html=ENHANCE_JS></script>
                {(!light).then(|| view! { <HydrationScripts options/> })}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// See the top of the file for what it does.
const ENHANCE_JS: &str = include_str!("enhance.js");

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // One lock state for the whole page life: client-side navigation swaps frames, not the lock.
    provide_context(crate::lock::LockCtx::new());
    view! {
        <Title text="Portcullis"/>
        <Router>
            <FocusOnNavigate/>
            <Routes fallback=|| view! {
                <main class="auth-wrap"><section class="card auth-card"><h1>"Not found"</h1>
                <p class="lead">"There is no page here."</p><a class="btn btn-primary" href="/">"Go home"</a></section></main>
            }>
                <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/register") view=RegisterPage ssr=SsrMode::Async/>
                <Route path=path!("/login/mfa") view=MfaPage ssr=SsrMode::Async/>
                <Route path=path!("/sessions") view=SessionsPage ssr=SsrMode::Async/>
                <Route path=path!("/security") view=SecurityPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin/sessions") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin/api-keys") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin/sign-in") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin/access") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin/settings") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/vault") view=VaultPage ssr=SsrMode::Async/>
                <Route path=path!("/reset") view=ResetPage ssr=SsrMode::Async/>
                <Route path=path!("/step-up") view=StepUpPage ssr=SsrMode::Async/>
                // The lock screen on its own: a locked session sees only the lock screen on any
                // page; the server sends an unlocked one on to `rd` (see `server::pages`).
                <Route path=path!("/unlock") view=HomePage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

/// The administration pages (one route per task, see `pages::admin`) are split from the main WASM (`cargo leptos build --split`): only
/// an administrator who opens one downloads them.
struct AdminRoute;

#[lazy_route]
impl LazyRoute for AdminRoute {
    fn data() -> Self {
        AdminRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <AdminPage/> }.into_any()
    }
}

/// The audit log, split like the other administration page.
struct AuditRoute;

#[lazy_route]
impl LazyRoute for AuditRoute {
    fn data() -> Self {
        AuditRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <AuditPage/> }.into_any()
    }
}

/// Moves the focus to the new page's heading after a client-side navigation (the link that was
/// followed is gone with the old page, which would leave the focus on `<body>`).
#[component]
fn FocusOnNavigate() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    Effect::new(move |before: Option<String>| {
        let path = location.pathname.get();
        if before.is_some_and(|b| b != path) {
            crate::browser::focus_heading_soon();
        }
        path
    });
}
