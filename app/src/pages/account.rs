//! The account page: change the password, delete the account.
use crate::api::{deletion_blocked_as_last_admin, ChangeMyPassword, DeleteMyAccount};
use crate::components::{field_error, form_error, AppFrame, Field, FormStatus, Submit};
use crate::lock::LockCtx;
use leptos::prelude::*;

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangeMyPassword>::new();
    let delete = ServerAction::<DeleteMyAccount>::new();
    let lock = LockCtx::get();
    lock.watch(move || change.value().get());
    lock.watch(move || delete.value().get());
    let changed = Signal::derive(move || change.value().get());
    let deleted = Signal::derive(move || delete.value().get());
    let last_admin = Resource::new(|| (), |_| deletion_blocked_as_last_admin());
    view! {
        <AppFrame>
            <h1>"Account"</h1>
            <p class="lead">"Your password and your account."</p>
            <section class="card section" aria-labelledby="pw-title">
                <h2 id="pw-title">"Change password"</h2>
                <p class="muted">"Every session signs out, this one too, and devices you trusted for two-factor sign-in are forgotten."</p>
                <ActionForm action=change attr:class="stack narrow" attr:novalidate=true>
                    <Field name="old_password" label="Current password" kind="password" autocomplete="current-password" required=true
                        error=field_error(changed, "old_password")/>
                    <Field name="new_password" label="New password" kind="password" autocomplete="new-password" required=true
                        hint="At least 8 characters; a few unrelated words make a strong one." error=field_error(changed, "new_password")/>
                    <Field name="confirm_password" label="New password again" kind="password" autocomplete="new-password" required=true
                        error=field_error(changed, "confirm_password")/>
                    <FormStatus error=form_error(changed)/>
                    <Submit label="Change password" busy_label="Changing…" pending=change.pending()/>
                </ActionForm>
            </section>
            <section class="card section" aria-labelledby="del-title">
                <h2 id="del-title">"Delete account"</h2>
                <p class="muted">"Your account, sessions, keys and settings are removed for good."</p>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        if last_admin.await.unwrap_or(false) {
                            view! {
                                <p class="notice" data-testid="last-admin">
                                    "You are the only administrator, so this account cannot be deleted. Make someone else an administrator first, in "
                                    <a href="/admin">"Administration"</a> "."
                                </p>
                            }.into_any()
                        } else {
                            view! {
                                <details class="confirm">
                                    <summary class="btn btn-danger">"Delete my account…"</summary>
                                    <ActionForm action=delete attr:class="stack narrow">
                                        <Field name="password" label="Confirm with your password" kind="password" autocomplete="current-password"
                                            required=true error=field_error(deleted, "password")/>
                                        <FormStatus error=form_error(deleted)/>
                                        <button type="submit" class="btn btn-danger" disabled=move || delete.pending().get()>
                                            {move || if delete.pending().get() { "Deleting…" } else { "Delete my account for good" }}
                                        </button>
                                    </ActionForm>
                                </details>
                            }.into_any()
                        }
                    })}
                </Suspense>
            </section>
        </AppFrame>
    }
}
