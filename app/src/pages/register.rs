//! Self-registration, when the instance allows it.
use crate::api::{registration_open, RegisterAccount};
use crate::components::{field_error, form_error, AuthCard, Field, FormStatus, Submit};
use leptos::prelude::*;

#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<RegisterAccount>::new();
    let result = Signal::derive(move || action.value().get());
    let open = Resource::new(|| (), |_| registration_open());
    view! {
        <AuthCard title="Create an account" lead="Choose a username and a strong password.">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    if open.await.unwrap_or(false) {
                        view! {
                            <ActionForm action=action attr:class="stack" attr:novalidate=true>
                                <Field name="username" label="Username" autocomplete="username" required=true autofocus=true
                                    hint="3–64 letters, digits and . _ - @" error=field_error(result, "username")/>
                                <Field name="password" label="Password" kind="password" autocomplete="new-password" required=true
                                    hint="At least 8 characters; common or guessable passwords are refused."
                                    error=field_error(result, "password")/>
                                <FormStatus error=form_error(result)/>
                                <Submit label="Create account" busy_label="Creating…" pending=action.pending()/>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! { <p class="notice notice-error" role="status">"Registration is turned off on this instance. Ask an administrator for an account."</p> }.into_any()
                    }
                })}
            </Suspense>
            <p class="switch">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </AuthCard>
    }
}
