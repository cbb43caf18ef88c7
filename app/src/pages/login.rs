//! Password sign-in.
use crate::api::{registration_open, SignIn};
use crate::components::{field_error, form_error, AuthCard, Field, FormStatus, Submit};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let result = Signal::derive(move || action.value().get());
    let open = Resource::new(|| (), |_| registration_open());
    let query = use_query_map();
    let registered = move || query.read().get("registered").is_some();
    view! {
        <AuthCard title="Sign in" lead="Sign in to reach your terminals.">
            <p class="notice notice-ok" role="status" hidden=move || !registered()>"Account created. Sign in with it now."</p>
            <ActionForm action=action attr:class="stack" attr:novalidate=true>
                <Field name="username" label="Username" autocomplete="username" required=true autofocus=true
                    error=field_error(result, "username")/>
                <Field name="password" label="Password" kind="password" autocomplete="current-password" required=true
                    error=field_error(result, "password")/>
                <label class="check">
                    <input type="checkbox" name="remember" value="on"/>
                    <span>"Keep me signed in for 30 days"</span>
                </label>
                <FormStatus error=form_error(result)/>
                <Submit label="Sign in" busy_label="Signing in…" pending=action.pending()/>
            </ActionForm>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    open.await.unwrap_or(false).then(|| view! {
                        <p class="switch">"New here? " <a href="/register">"Create an account"</a></p>
                    })
                })}
            </Suspense>
        </AuthCard>
    }
}
