//! First run: create the administrator.
use crate::api::SetUpInstance;
use crate::components::{field_error, form_error, AuthCard, Field, FormStatus, Submit};
use leptos::prelude::*;

#[component]
pub fn SetupPage() -> impl IntoView {
    let action = ServerAction::<SetUpInstance>::new();
    let result = Signal::derive(move || action.value().get());
    view! {
        <AuthCard title="Set up Portcullis" lead="Create the administrator account. You can add more people later.">
            <ActionForm action=action attr:class="stack" attr:novalidate=true>
                <Field name="username" label="Username" autocomplete="username" required=true autofocus=true
                    hint="3–64 letters, digits and . _ - @" error=field_error(result, "username")/>
                <Field name="display_name" label="Display name (optional)" autocomplete="name"
                    error=field_error(result, "displayName")/>
                <Field name="password" label="Password" kind="password" autocomplete="new-password" required=true
                    hint="At least 8 characters; common or guessable passwords are refused."
                    error=field_error(result, "password")/>
                <fieldset class="checks">
                    <legend>"Who can create accounts?"</legend>
                    <label class="check"><input type="radio" name="who_registers" value="admins" checked=true/>
                        <span>"Only administrators "<span class="muted">"(recommended)"</span></span></label>
                    <label class="check"><input type="radio" name="who_registers" value="anyone"/>
                        <span>"Anyone who can open the sign-in page"</span></label>
                </fieldset>
                <label class="check"><input type="checkbox" name="password_reset" value="on" aria-describedby="setup-reset-hint"/>
                    <span>"Allow self-service reset"</span></label>
                <p class="hint" id="setup-reset-hint">"Someone who forgot their password asks for a code, which is written to the server log \
                    for you to hand over. You can change both later under Administration → Sign-in methods."</p>
                <FormStatus error=form_error(result)/>
                <Submit label="Create administrator" busy_label="Creating…" pending=action.pending()/>
            </ActionForm>
        </AuthCard>
    }
}
