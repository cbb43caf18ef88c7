//! Account security: two-factor sign-in (enroll, backup codes, turn off).
use crate::api::{two_factor_enabled, ConfirmTwoFactor, ReplaceBackupCodes, StartTwoFactor, TurnOffTwoFactor};
use crate::components::{field_error, form_error, AppFrame, Field, FormStatus, Submit};
use leptos::prelude::*;

#[component]
pub fn SecurityPage() -> impl IntoView {
    view! {
        <AppFrame>
            <h1>"Account security"</h1>
            <p class="lead">"Protect your sign-in with a second factor."</p>
            <TwoFactorSection/>
        </AppFrame>
    }
}

/// The backup codes, shown once, with a download and an "I saved them" confirmation.
#[component]
fn BackupCodes(codes: Vec<String>, on_done: Callback<()>) -> impl IntoView {
    let text = format!(
        "Portcullis backup codes\nEach code works once, in place of a code from your app.\n\n{}\n",
        codes.join("\n")
    );
    let href = format!("data:text/plain;charset=utf-8,{}", encode_uri(&text));
    let saved = RwSignal::new(false);
    view! {
        <div class="stack" data-testid="backup-codes">
            <p class="notice notice-ok" role="status">"Two-factor sign-in is on. Save these backup codes somewhere safe: each works once if you lose your phone."</p>
            <ol class="codes">
                {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
            </ol>
            <div class="row">
                <a class="btn btn-ghost" href=href download="portcullis-backup-codes.txt">"Download as text"</a>
            </div>
            <label class="check">
                <input type="checkbox" on:change=move |ev| saved.set(event_target_checked(&ev))/>
                <span>"I saved my backup codes"</span>
            </label>
            <button type="button" class="btn btn-primary" disabled=move || !saved.get() on:click=move |_| on_done.run(())>"Done"</button>
        </div>
    }
}

fn encode_uri(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn TwoFactorSection() -> impl IntoView {
    let start = ServerAction::<StartTwoFactor>::new();
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let turn_off = ServerAction::<TurnOffTwoFactor>::new();
    let regenerate = ServerAction::<ReplaceBackupCodes>::new();
    // Bumped when the user confirms they saved the codes: only then does the status refresh.
    let done = RwSignal::new(0u32);
    let enabled = Resource::new(move || (done.get(), turn_off.version().get()), |_| two_factor_enabled());
    let confirm_result = Signal::derive(move || confirm.value().get());
    let off_result = Signal::derive(move || turn_off.value().get());
    let regen_result = Signal::derive(move || regenerate.value().get());
    let finish = Callback::new(move |_| {
        confirm.clear();
        start.clear();
        regenerate.clear();
        done.update(|n| *n += 1);
    });

    view! {
        <section class="card section" aria-labelledby="tf-title">
            <div class="section-head">
                <h2 id="tf-title">"Two-factor sign-in"</h2>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let on = enabled.await.unwrap_or(false) || matches!(confirm_result.get(), Some(Ok(_)));
                        view! { <span class=if on { "badge badge-ok" } else { "badge" } data-testid="tf-status">{if on { "On" } else { "Off" }}</span> }
                    })}
                </Transition>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let on = enabled.await.unwrap_or(false);
                    if let Some(Ok(codes)) = confirm_result.get() {
                        return view! { <BackupCodes codes=codes on_done=finish/> }.into_any();
                    }
                    if let Some(Ok(codes)) = regen_result.get() {
                        return view! { <BackupCodes codes=codes on_done=finish/> }.into_any();
                    }
                    if on {
                        view! {
                            <p>"Signing in asks for a code from your authenticator app after your password."</p>
                            <details class="confirm">
                                <summary class="btn btn-ghost">"Regenerate backup codes…"</summary>
                                <ActionForm action=regenerate attr:class="stack">
                                    <p class="muted">"Your old backup codes stop working. Confirm with your password or a current code."</p>
                                    <Field name="password" label="Password" kind="password" autocomplete="current-password" error=field_error(regen_result, "password")/>
                                    <Field name="totp_code" label="Or a code from your app" inputmode="numeric" autocomplete="one-time-code" error=field_error(regen_result, "totp_code")/>
                                    <FormStatus error=form_error(regen_result)/>
                                    <Submit label="Regenerate codes" busy_label="Regenerating…" pending=regenerate.pending()/>
                                </ActionForm>
                            </details>
                            <details class="confirm">
                                <summary class="btn btn-danger">"Turn off two-factor sign-in…"</summary>
                                <ActionForm action=turn_off attr:class="stack">
                                    <p class="muted">"Your account will be protected by your password alone. Confirm with your password or a current code."</p>
                                    <Field name="password" label="Password" kind="password" autocomplete="current-password" error=field_error(off_result, "password")/>
                                    <Field name="totp_code" label="Or a code from your app" inputmode="numeric" autocomplete="one-time-code" error=field_error(off_result, "totp_code")/>
                                    <FormStatus error=form_error(off_result)/>
                                    <Submit label="Turn off" busy_label="Turning off…" pending=turn_off.pending()/>
                                </ActionForm>
                            </details>
                        }.into_any()
                    } else {
                        match start.value().get() {
                            Some(Ok(e)) => view! { <Enroll secret=e.secret qr=e.qr_code confirm=confirm/> }.into_any(),
                            other => view! {
                                <p>"Add a second step to signing in: a 6-digit code from an authenticator app on your phone."</p>
                                <ActionForm action=start>
                                    <Submit label="Set up two-factor sign-in" busy_label="Preparing…" pending=start.pending()/>
                                </ActionForm>
                                {off_result.get().and_then(|r| r.ok()).map(|_| view! { <p class="notice notice-ok" role="status">"Two-factor sign-in is off."</p> })}
                                {match other { Some(Err(e)) => Some(view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }), _ => None }}
                            }.into_any(),
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Enroll(secret: String, qr: String, confirm: ServerAction<ConfirmTwoFactor>) -> impl IntoView {
    let result = Signal::derive(move || confirm.value().get());
    let copied = RwSignal::new(false);
    let secret_for_copy = secret.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            if let Some(w) = web_sys::window() {
                let _ = w.navigator().clipboard().write_text(&secret_for_copy);
                copied.set(true);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &secret_for_copy;
    };
    let code_error = field_error(result, "totp_code");
    view! {
        <div class="enroll">
            <ol class="steps">
                <li>
                    <p>"Scan this QR code with your authenticator app (1Password, Aegis, Google Authenticator…)."</p>
                    <img class="qr" src=qr alt="QR code for your authenticator app" width="220" height="220"/>
                </li>
                <li>
                    <p>"Or enter this key by hand:"</p>
                    <div class="row">
                        <code class="secret" data-testid="totp-secret">{secret}</code>
                        <button type="button" class="btn btn-ghost" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                    </div>
                </li>
                <li>
                    <ActionForm action=confirm attr:class="stack">
                        <Field name="totp_code" label="Enter the 6-digit code your app shows" inputmode="numeric"
                            autocomplete="one-time-code" maxlength="6" required=true error=code_error/>
                        <FormStatus error=form_error(result)/>
                        <Submit label="Turn on" busy_label="Checking…" pending=confirm.pending()/>
                    </ActionForm>
                </li>
            </ol>
        </div>
    }
}
