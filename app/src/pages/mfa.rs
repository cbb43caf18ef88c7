//! The second sign-in step: a code from the authenticator app, or a backup code.
use crate::api::{second_step_has_passkey, VerifySecondFactor};
use crate::components::{field_error, form_error, AuthCard, FormStatus, PasskeyBox, Submit};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn MfaPage() -> impl IntoView {
    let action = ServerAction::<VerifySecondFactor>::new();
    let result = Signal::derive(move || action.value().get());
    let error = field_error(result, "code");
    let general = Signal::derive(move || match result.get() {
        Some(Err(e)) if e.is(crate::error::ErrorKind::InvalidToken) => {
            Some("This sign-in has expired. Start again with your password.".into())
        }
        _ => form_error(result).get(),
    });
    // Which code the field takes is in the address (`?backup=1`), so the switch is a link that
    // works before (or without) the WASM.
    let query = use_query_map();
    let backup = Signal::derive(move || query.read().get("backup").is_some_and(|v| v == "1"));
    // Where forward-auth sent this browser from (kept by the password step): back there after.
    let rd = Signal::derive(move || query.read().get("rd").filter(|r| !r.is_empty()));
    let switch_to = move |backup: bool| {
        let mut href = String::from("/login/mfa");
        let mut sep = '?';
        if backup {
            href.push_str("?backup=1");
            sep = '&';
        }
        if let Some(rd) = rd.get() {
            href.push(sep);
            href.push_str("rd=");
            href.push_str(&crate::api::encode_query(&rd));
        }
        href
    };
    let passkey = Resource::new(|| (), |_| second_step_has_passkey());
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    view! {
        <AuthCard title="Two-factor sign-in" lead="Enter the 6-digit code from your authenticator app.">
            <ActionForm action=action attr:class="stack" attr:id="mfa-form">
                <div class="field" class:field-invalid=move || error.get().is_some()>
                    <label for="f-code">{move || if backup.get() { "Backup code" } else { "Authentication code" }}</label>
                    <input node_ref=input id="f-code" name="code" required=true autofocus=true autocomplete="one-time-code"
                        class="code-input"
                        inputmode=move || if backup.get() { "text" } else { "numeric" }
                        maxlength=move || if backup.get() { "11" } else { "7" }
                        aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                        aria-describedby=move || if error.get().is_some() { "f-code-hint f-code-error" } else { "f-code-hint" }/>
                    // What to type, said beside the field: placeholder digits looked pre-filled.
                    <p class="hint" id="f-code-hint">
                        {move || if backup.get() { "One of the ten-character backup codes you saved." } else { "6 digits; a new code shows every 30 seconds." }}
                    </p>
                    <p class="field-error" id="f-code-error" role="alert" hidden=move || error.get().is_none()>
                        {move || error.get().unwrap_or_default()}
                    </p>
                </div>
                <a class="link-button" href=move || switch_to(!backup.get())>
                    {move || if backup.get() { "Use a code from my app instead" } else { "Use a backup code instead" }}
                </a>
                <label class="check">
                    <input type="checkbox" name="trust" value="on"/>
                    <span>"Trust this device for 30 days"</span>
                </label>
                {move || rd.get().map(|rd| view! { <input type="hidden" name="rd" value=rd/> })}
                <FormStatus error=general/>
                <Submit label="Verify" busy_label="Verifying…" pending=action.pending()/>
            </ActionForm>
            // A passkey instead of a code (`enhance.js`; "trust this device" and `rd` go along).
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    passkey.await.unwrap_or(false).then(|| view! {
                        <PasskeyBox action="/rpc/passkey/second-step" form="mfa-form" label="Use a passkey" busy="Verifying…" divider=true/>
                    })
                })}
            </Suspense>
            <p class="switch"><a href=move || {
                rd.get().map_or_else(|| "/login".to_owned(), |rd| format!("/login?rd={}", crate::api::encode_query(&rd)))
            }>"Start over"</a></p>
        </AuthCard>
    }
}
