//! The step-up page forward-auth sends a browser to when a rule asks for a fresh second factor:
//! a `step_up` terminal (`?terminal=ID`: a code opens it for 15 minutes, for this session
//! only) or a `two_factor` path (no terminal: the code counts as this session's second
//! factor). Then back to `rd`. Its form posts, so it works before (or without) the WASM.
use crate::api::{step_up_state, ConfirmStepUp};
use crate::components::{describe, AuthCard, PasskeyBox, Submit};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn StepUpPage() -> impl IntoView {
    let action = ServerAction::<ConfirmStepUp>::new();
    let result = Signal::derive(move || action.value().get());
    // One field: every refusal (a wrong code, too many tries, a malformed one) is said on it.
    let error = Signal::derive(move || match result.get() {
        Some(Err(e)) => Some(describe(&e)),
        _ => None,
    });
    let query = use_query_map();
    let terminal = query.read_untracked().get("terminal").filter(|t| !t.is_empty());
    let rd = query.read_untracked().get("rd").filter(|r| !r.is_empty());
    let info = Resource::new(|| (), |_| step_up_state());
    let (title, lead) = match &terminal {
        Some(t) => (
            format!("Open terminal {t}"),
            "This terminal asks for a fresh second factor: the 6-digit code from your authenticator app, or a passkey. It opens for 15 minutes, on this device only.".to_owned(),
        ),
        None => (
            "Confirm it's you".to_owned(),
            "This page asks for a second factor: the 6-digit code from your authenticator app, or a passkey.".to_owned(),
        ),
    };
    view! {
        <AuthCard title=title lead=lead>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {
                    let (terminal, rd) = (terminal.clone(), rd.clone());
                    move || info.get().map(|r| {
                        let (terminal, rd) = (terminal.clone(), rd.clone());
                        match r {
                        Ok(v) if v.can_confirm || v.has_passkey => view! {
                            // The form carries where this goes (terminal, rd) for the passkey too.
                            <ActionForm action=action attr:class="stack" attr:id="step-up-form">
                                {v.can_confirm.then(|| view! {
                                    <div class="field" class:field-invalid=move || error.get().is_some()>
                                        <label for="f-code">"Authentication code"</label>
                                        <input id="f-code" name="code" required=true autofocus=true
                                            autocomplete="one-time-code" inputmode="numeric" maxlength="7"
                                            class="code-input"
                                            aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                                            aria-describedby="f-code-error"/>
                                        <p class="field-error" id="f-code-error" role="alert" hidden=move || error.get().is_none()>
                                            {move || error.get().unwrap_or_default()}
                                        </p>
                                    </div>
                                })}
                                {terminal.map(|t| view! { <input type="hidden" name="terminal" value=t/> })}
                                {rd.map(|rd| view! { <input type="hidden" name="rd" value=rd/> })}
                                {v.can_confirm.then(|| view! {
                                    <Submit label="Confirm" busy_label="Checking…" pending=action.pending()/>
                                })}
                            </ActionForm>
                            {v.has_passkey.then(|| view! {
                                <PasskeyBox action="/rpc/passkey/step-up" form="step-up-form" label="Use a passkey" busy="Checking…"
                                    divider=v.can_confirm primary=!v.can_confirm/>
                            })}
                        }.into_any(),
                        Ok(_) => view! {
                            <p class="notice notice-error" role="alert">
                                "This needs a code from an authenticator app or a passkey, and your account has neither. "
                                <a href="/security">"Set one up in Security"</a>", then come back."
                            </p>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }})
                }
            </Suspense>
            <p class="switch"><a href="/">"Cancel"</a></p>
        </AuthCard>
    }
}
