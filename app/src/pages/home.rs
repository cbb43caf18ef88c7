//! Home: who is signed in and where to go next.
use crate::api::whoami;
use crate::components::AppFrame;
use crate::lock::LockCtx;
use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let lock = LockCtx::get();
    let me = Resource::new(move || lock.unlocks(), move |_| async move { lock.check(whoami().await) });
    view! {
        <AppFrame>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(u)) => view! {
                            <h1>"Welcome, " {u.display_name.clone()}</h1>
                            <p class="lead" data-testid="home-identity">
                                "Signed in as " <strong>{u.username.clone()}</strong>
                                {if u.is_admin { " · administrator" } else { " · user" }}
                            </p>
                            <div class="grid">
                                <a class="card tile" href="/sessions">
                                    <h2>"Sessions"</h2>
                                    <p>"See where you are signed in and sign out devices you do not recognise."</p>
                                </a>
                                <a class="card tile" href="/security">
                                    <h2>"Security"</h2>
                                    <p>"Two-factor sign-in, the screen lock and terminal locks."</p>
                                </a>
                                <a class="card tile" href="/vault">
                                    <h2>"Vault"</h2>
                                    <p>"Keys and notes encrypted with a key only your password opens."</p>
                                </a>
                                <a class="card tile" href="/account">
                                    <h2>"Account"</h2>
                                    <p>"Change your password or delete your account."</p>
                                </a>
                                {u.is_admin.then(|| view! {
                                    <a class="card tile" href="/admin">
                                        <h2>"Administration"</h2>
                                        <p>"Sign-in settings, users and API keys."</p>
                                    </a>
                                })}
                            </div>
                        }.into_any(),
                        Ok(None) => view! { <p class="notice notice-error" role="alert">"Your session has ended. " <a href="/login">"Sign in again"</a></p> }.into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}
