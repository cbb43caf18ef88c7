//! Password reset in three steps: ask for a code, enter the code from the administrator, set
//! a new password. Each step is a form that posts, so it works before the WASM loads.
use crate::api::{password_reset_open, CheckResetCode, FinishReset, RequestReset};
use crate::components::{field_error, form_error, AuthCard, Field, FormStatus, Submit};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ResetPage() -> impl IntoView {
    let request = ServerAction::<RequestReset>::new();
    let check = ServerAction::<CheckResetCode>::new();
    let finish = ServerAction::<FinishReset>::new();
    let open = Resource::new(|| (), |_| password_reset_open());
    let query = use_query_map();
    let step = move || query.read().get("step").unwrap_or_default();
    let username = move || query.read().get("username").unwrap_or_default();
    let requested = Signal::derive(move || request.value().get());
    let checked = Signal::derive(move || check.value().get());
    let finished = Signal::derive(move || finish.value().get());
    view! {
        <AuthCard title="Reset your password" lead="Your administrator can read a one-time code from the server log and give it to you.">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    if !open.await.unwrap_or(false) {
                        return view! {
                            <p class="notice notice-error" role="alert">"Password reset is turned off on this instance. Ask your administrator."</p>
                        }.into_any();
                    }
                    match step().as_str() {
                        "code" => view! {
                            <p class="notice notice-ok" role="status">"If the account exists, a 6-digit code valid for 15 minutes is in the server log. Ask your administrator for it."</p>
                            <ActionForm action=check attr:class="stack" attr:novalidate=true>
                                <input type="hidden" name="username" value=username()/>
                                <Field name="reset_code" label="Reset code" inputmode="numeric" autocomplete="one-time-code" maxlength="6"
                                    required=true autofocus=true error=field_error(checked, "reset_code")/>
                                <FormStatus error=form_error(checked)/>
                                <Submit label="Check code" busy_label="Checking…" pending=check.pending()/>
                            </ActionForm>
                        }.into_any(),
                        "password" => view! {
                            <ActionForm action=finish attr:class="stack" attr:novalidate=true>
                                <input type="hidden" name="username" value=username()/>
                                <p>"Choose a new password for " <strong>{username()}</strong> ". Every session of the account will sign out, and items in the vault are removed: without the old password nobody can open them."</p>
                                <Field name="new_password" label="New password" kind="password" autocomplete="new-password" required=true autofocus=true
                                    hint="At least 8 characters; a few unrelated words make a strong one." error=field_error(finished, "new_password")/>
                                <Field name="confirm_password" label="New password again" kind="password" autocomplete="new-password" required=true
                                    error=field_error(finished, "confirm_password")/>
                                <FormStatus error=form_error(finished)/>
                                <Submit label="Set new password" busy_label="Saving…" pending=finish.pending()/>
                            </ActionForm>
                        }.into_any(),
                        _ => view! {
                            <ActionForm action=request attr:class="stack" attr:novalidate=true>
                                <Field name="username" label="Username" autocomplete="username" required=true autofocus=true
                                    error=field_error(requested, "username")/>
                                <FormStatus error=form_error(requested)/>
                                <Submit label="Request a reset code" busy_label="Requesting…" pending=request.pending()/>
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <p class="switch"><a href="/login">"Back to sign in"</a></p>
        </AuthCard>
    }
}
