//! Account security: two-factor sign-in (enroll, backup codes, turn off), the screen lock,
//! terminal locks and the account's recent security activity.
use crate::api::{
    begin_passkey, finish_passkey, list_terminal_locks, my_passkeys, passkey_sign_in_open, recent_activity,
    security_state, terminal_passkey_options, two_factor_enabled, verify_terminal_with_passkey,
    ConfirmTwoFactor, LockTerminal, RemovePasskey, RemoveScreenPasscode, ReplaceBackupCodes, SetAutoLock,
    SetScreenPasscode, SetSingleSession, StartTwoFactor, TurnOffTwoFactor, UnlockTerminal, VerifyTerminal,
};
use crate::components::{
    describe, empty_form_when, field_error, form_error, needs_reauthentication, AppFrame, Field, FormStatus,
    ReauthPrompt, Submit,
};
use crate::error::AppError;
use crate::lock::LockCtx;
use crate::pages::EventItem;
use leptos::prelude::*;

#[component]
pub fn SecurityPage() -> impl IntoView {
    view! {
        <AppFrame>
            <h1>"Security"</h1>
            <p class="lead">"Two-factor sign-in, passkeys, the screen lock, and locks on your terminals."</p>
            <TwoFactorSection/>
            <PasskeysSection/>
            <ScreenLockSection/>
            <TerminalLocksSection/>
            <RecentActivitySection/>
        </AppFrame>
    }
}

/// The caller's latest security events; sign-ins from a new device or address stand out.
#[component]
fn RecentActivitySection() -> impl IntoView {
    let lock = LockCtx::get();
    let activity =
        Resource::new(move || lock.unlocks(), move |_| async move { lock.check(recent_activity().await) });
    view! {
        <section class="card section" aria-labelledby="activity-head" data-testid="recent-activity">
            <div class="section-head">
                <h2 id="activity-head">"Recent security activity"</h2>
            </div>
            <p class="muted small">"Sign-ins, locks and changes to how you sign in. Not you? Change your password and sign out your other sessions."</p>
            <Transition fallback=|| view! { <p class="muted" role="status">"Loading activity…"</p> }>
                {move || Suspend::new(async move {
                    match activity.await {
                        Ok(events) if events.is_empty() => view! { <p class="muted">"Nothing yet."</p> }.into_any(),
                        Ok(events) => view! {
                            <ul class="rows">
                                {events.into_iter().map(|e| view! { <EventItem e=e/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The backup codes, shown once, with a download and an "I saved them" confirmation.
#[component]
fn BackupCodes(codes: Vec<String>, on_done: Callback<()>) -> impl IntoView {
    let text = format!(
        "Portcullis backup codes\nEach code works once, in place of a code from your app.\n\n{}\n",
        codes.join("\n")
    );
    let href = format!("data:text/plain;charset=utf-8,{}", crate::api::encode_query(&text));
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

#[component]
fn TwoFactorSection() -> impl IntoView {
    let start = ServerAction::<StartTwoFactor>::new();
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let turn_off = ServerAction::<TurnOffTwoFactor>::new();
    let regenerate = ServerAction::<ReplaceBackupCodes>::new();
    // Bumped when the user confirms they saved the codes: only then does the status refresh.
    let done = RwSignal::new(0u32);
    let page_lock = LockCtx::get();
    let enabled = Resource::new(
        move || (done.get(), turn_off.version().get(), page_lock.unlocks()),
        move |_| async move { page_lock.check(two_factor_enabled().await) },
    );
    let confirm_result = Signal::derive(move || confirm.value().get());
    let off_result = Signal::derive(move || turn_off.value().get());
    let regen_result = Signal::derive(move || regenerate.value().get());
    page_lock.watch(move || start.value().get());
    page_lock.watch(move || confirm.value().get());
    page_lock.watch(move || turn_off.value().get());
    page_lock.watch(move || regenerate.value().get());
    let finish = Callback::new(move |_| {
        confirm.clear();
        start.clear();
        regenerate.clear();
        done.update(|n| *n += 1);
    });
    let start_refused = needs_reauthentication(move || start.value().get());
    let confirm_refused = needs_reauthentication(move || confirm.value().get());
    let regen_refused = needs_reauthentication(move || regenerate.value().get());
    let reauth = Signal::derive(move || start_refused.get() || confirm_refused.get() || regen_refused.get());
    // After the password: setting up starts again by itself; a refused code or regeneration
    // clears its refusal so the same form can be sent again.
    let retry = Callback::new(move |_| {
        if start_refused.get_untracked() {
            start.dispatch(StartTwoFactor {});
        }
        if confirm_refused.get_untracked() {
            confirm.clear();
        }
        if regen_refused.get_untracked() {
            regenerate.clear();
        }
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
                                    <Field name="password" id="regen-password" label="Password" kind="password" autocomplete="current-password" error=field_error(regen_result, "password")/>
                                    <Field name="totp_code" id="regen-code" label="Or a code from your app" inputmode="numeric" autocomplete="one-time-code" error=field_error(regen_result, "totp_code")/>
                                    <FormStatus error=form_error(regen_result)/>
                                    <Submit label="Regenerate codes" busy_label="Regenerating…" pending=regenerate.pending()/>
                                </ActionForm>
                            </details>
                            <details class="confirm">
                                <summary class="btn btn-danger">"Turn off two-factor sign-in…"</summary>
                                <ActionForm action=turn_off attr:class="stack">
                                    <p class="muted">"Your account will be protected by your password alone. Confirm with your password or a current code."</p>
                                    <Field name="password" id="off-password" label="Password" kind="password" autocomplete="current-password" error=field_error(off_result, "password")/>
                                    <Field name="totp_code" id="off-code" label="Or a code from your app" inputmode="numeric" autocomplete="one-time-code" error=field_error(off_result, "totp_code")/>
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
                                {match other { Some(Err(e)) if !start_refused.get() => Some(view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }), _ => None }}
                            }.into_any(),
                        }
                    }
                })}
            </Transition>
            <ReauthPrompt when=reauth retry=retry/>
        </section>
    }
}

#[component]
fn Enroll(secret: String, qr: String, confirm: ServerAction<ConfirmTwoFactor>) -> impl IntoView {
    let result = Signal::derive(move || confirm.value().get());
    let copied = RwSignal::new(false);
    let secret_for_copy = secret.clone();
    let copy = move |_| {
        if crate::browser::copy_to_clipboard(&secret_for_copy) {
            copied.set(true);
        }
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

const MINUTE_CHOICES: [i64; 7] = [5, 10, 15, 30, 45, 60, 120];

#[component]
fn MinutesSelect(#[prop(into)] id: String, selected: i64) -> impl IntoView {
    view! {
        <select id=id name="lock_after_minutes" class="select">
            {MINUTE_CHOICES.iter().map(|m| view! { <option value=m.to_string() selected=*m == selected>{format!("{m} minutes")}</option> }).collect_view()}
        </select>
    }
}

#[component]
fn ScreenLockSection() -> impl IntoView {
    let lock = LockCtx::get();
    let set_passcode = ServerAction::<SetScreenPasscode>::new();
    let remove = ServerAction::<RemoveScreenPasscode>::new();
    let auto = ServerAction::<SetAutoLock>::new();
    let single = ServerAction::<SetSingleSession>::new();
    let state = Resource::new(
        move || {
            (
                set_passcode.version().get(),
                remove.version().get(),
                auto.version().get(),
                single.version().get(),
                lock.unlocks(),
            )
        },
        move |_| async move { lock.check(security_state().await) },
    );
    lock.watch(move || set_passcode.value().get());
    lock.watch(move || auto.value().get());
    lock.watch(move || single.value().get());
    // Keep the page's inactivity timer in step with what was just saved.
    Effect::new(move |_| {
        if let Some(Ok(Some(s))) = state.get() {
            lock.lock_after.set(s.has_passcode.then_some(s.lock_after_minutes));
            lock.passkey.set(s.has_passkey);
        }
    });
    let set_result = Signal::derive(move || set_passcode.value().get());
    let set_refused = needs_reauthentication(move || set_passcode.value().get());
    // After the password, the refusal goes and the passcode form is sent again by the user.
    let retry = Callback::new(move |_| set_passcode.clear());
    let remove_result = Signal::derive(move || remove.value().get());
    let status = move || -> Option<(&'static str, String)> {
        if set_passcode.pending().get() || remove.pending().get() || auto.pending().get() {
            return Some(("notice", "Saving…".into()));
        }
        if let Some(Ok(())) = set_passcode.value().get() {
            return Some(("notice notice-ok", "Passcode saved. The screen lock is on.".into()));
        }
        if let Some(Ok(())) = remove.value().get() {
            return Some(("notice notice-ok", "Passcode removed. The screen lock is off.".into()));
        }
        match auto.value().get() {
            Some(Ok(m)) => Some(("notice notice-ok", format!("Auto-lock after {m} minutes."))),
            Some(Err(e)) => Some(("notice notice-error", describe(&e))),
            None => None,
        }
    };
    let single_status = move || -> Option<(&'static str, String)> {
        if single.pending().get() {
            return Some(("notice", "Saving…".into()));
        }
        match single.value().get() {
            Some(Ok(true)) => Some((
                "notice notice-ok",
                "Single-session mode is on; your other sessions were signed out.".into(),
            )),
            Some(Ok(false)) => Some(("notice notice-ok", "Single-session mode is off.".into())),
            Some(Err(e)) => Some(("notice notice-error", describe(&e))),
            None => None,
        }
    };
    view! {
        <section class="card section" aria-labelledby="sl-title">
            <div class="section-head">
                <h2 id="sl-title">"Screen lock"</h2>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let on = state.await.ok().flatten().map(|s| s.has_passcode).unwrap_or(false);
                        view! { <span class=if on { "badge badge-ok" } else { "badge" } data-testid="sl-status">{if on { "On" } else { "Off" }}</span> }
                    })}
                </Transition>
            </div>
            <p role="status" aria-live="polite" class=move || status().map(|s| s.0).unwrap_or("notice") hidden=move || status().is_none()>
                {move || status().map(|s| s.1).unwrap_or_default()}
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let Some(s) = state.await.ok().flatten() else { return view! { <p class="muted">"Sign in again to change these settings."</p> }.into_any() };
                    let has = s.has_passcode;
                    view! {
                        <p>"A 6-digit passcode hides your terminals when you step away: after a while without input, or when you lock by hand."</p>
                        {if has {
                            view! {
                                <div class="row">
                                    <button type="button" class="btn btn-primary" data-testid="lock-now"
                                        on:click=move |_| lock.engage()>"Lock now"</button>
                                </div>
                                <ActionForm action=auto attr:class="row inline-form">
                                    <label for="sl-auto">"Lock after"</label>
                                    <MinutesSelect id="sl-auto" selected=s.lock_after_minutes/>
                                    <button type="submit" class="btn btn-ghost" disabled=move || auto.pending().get()>"Save lock time"</button>
                                </ActionForm>
                                <details class="confirm">
                                    <summary class="btn btn-ghost">"Change passcode…"</summary>
                                    <ActionForm action=set_passcode attr:class="stack">
                                        <Field name="current_passcode" id="sl-current" label="Current passcode" kind="passcode" inputmode="numeric"
                                            autocomplete="off" maxlength="6" required=true error=field_error(set_result, "current_passcode")/>
                                        <Field name="new_passcode" label="New passcode (6 digits)" kind="passcode" inputmode="numeric"
                                            autocomplete="off" maxlength="6" required=true error=field_error(set_result, "new_passcode")/>
                                        <input type="hidden" name="lock_after_minutes" value=s.lock_after_minutes.to_string()/>
                                        <FormStatus error=form_error(set_result)/>
                                        <Submit label="Save passcode" busy_label="Saving…" pending=set_passcode.pending()/>
                                    </ActionForm>
                                </details>
                                <details class="confirm">
                                    <summary class="btn btn-danger">"Remove passcode…"</summary>
                                    <ActionForm action=remove attr:class="stack">
                                        <p class="muted">"The screen lock turns off. Confirm with your current passcode."</p>
                                        <Field name="current_passcode" id="rm-current" label="Current passcode" kind="passcode" inputmode="numeric"
                                            autocomplete="off" maxlength="6" required=true error=field_error(remove_result, "current_passcode")/>
                                        <FormStatus error=form_error(remove_result)/>
                                        <Submit label="Remove passcode" busy_label="Removing…" pending=remove.pending()/>
                                    </ActionForm>
                                </details>
                            }.into_any()
                        } else {
                            view! {
                                <ActionForm action=set_passcode attr:class="stack narrow">
                                    <Field name="new_passcode" label="New passcode (6 digits)" kind="passcode" inputmode="numeric"
                                        autocomplete="off" maxlength="6" required=true
                                        hint="Six digits without a pattern: 123456, 111111 or 121212 are refused."
                                        error=field_error(set_result, "new_passcode")/>
                                    <div class="field">
                                        <label for="sl-minutes">"Lock after"</label>
                                        <MinutesSelect id="sl-minutes" selected=s.lock_after_minutes/>
                                    </div>
                                    <FormStatus error=form_error(set_result)/>
                                    <Submit label="Turn on screen lock" busy_label="Saving…" pending=set_passcode.pending()/>
                                </ActionForm>
                            }.into_any()
                        }}
                    }.into_any()
                })}
            </Transition>
            <ReauthPrompt when=set_refused retry=retry/>
        </section>
        <section class="card section" aria-labelledby="sp-title">
            <h2 id="sp-title">"Sessions policy"</h2>
            <p role="status" aria-live="polite" class=move || single_status().map(|s| s.0).unwrap_or("notice") hidden=move || single_status().is_none()>
                {move || single_status().map(|s| s.1).unwrap_or_default()}
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    state.await.ok().flatten().map(|s| view! {
                        <ActionForm action=single attr:class="stack single-session">
                            <label class="check">
                                <input type="checkbox" name="enabled" value="on" checked=s.single_session_mode/>
                                <span>"Single-session mode: signing in anywhere signs out everywhere else"</span>
                            </label>
                            <div><button type="submit" class="btn btn-primary" disabled=move || single.pending().get()>"Save policy"</button></div>
                        </ActionForm>
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TerminalLocksSection() -> impl IntoView {
    let lock = ServerAction::<LockTerminal>::new();
    let unlock = ServerAction::<UnlockTerminal>::new();
    let verify = ServerAction::<VerifyTerminal>::new();
    let page_lock = LockCtx::get();
    let locks = Resource::new(
        move || (lock.version().get(), unlock.version().get(), page_lock.unlocks()),
        move |_| async move { page_lock.check(list_terminal_locks().await) },
    );
    page_lock.watch(move || lock.value().get());
    page_lock.watch(move || verify.value().get());
    // A passkey opens a row's terminal for this session, as a code does with "Verify".
    let by_passkey = Action::new_local(|id: &String| open_with_passkey(id.clone()));
    page_lock.watch(move || by_passkey.value().get());
    // The notice speaks of the latest action only.
    Effect::new(move |_| {
        if by_passkey.pending().get() {
            verify.clear();
            unlock.clear();
        }
    });
    Effect::new(move |_| {
        if verify.pending().get() || unlock.pending().get() {
            by_passkey.clear();
        }
    });
    let lock_result = Signal::derive(move || lock.value().get());
    let status = move || -> Option<(&'static str, String)> {
        if by_passkey.pending().get() {
            return Some(("notice", "Follow your browser: use your passkey…".into()));
        }
        if lock.pending().get() || unlock.pending().get() || verify.pending().get() {
            return Some(("notice", "Checking…".into()));
        }
        match by_passkey.value().get() {
            Some(Ok((id, until))) => {
                return Some((
                    "notice notice-ok",
                    format!(
                        "Terminal {id} is open to this session until {}.",
                        until.replace('T', " ").replace('Z', " UTC")
                    ),
                ))
            }
            Some(Err(e)) => return Some(("notice notice-error", describe(&e))),
            None => {}
        }
        if let Some(Err(e)) = unlock.value().get() {
            return Some(("notice notice-error", describe(&e)));
        }
        match verify.value().get() {
            Some(Ok((id, until))) => Some((
                "notice notice-ok",
                format!(
                    "Terminal {id} is open to this session until {}.",
                    until.replace('T', " ").replace('Z', " UTC")
                ),
            )),
            Some(Err(e)) => Some(("notice notice-error", describe(&e))),
            None => match unlock.value().get() {
                Some(Ok(id)) => Some(("notice notice-ok", format!("Terminal {id} is no longer locked."))),
                _ => None,
            },
        }
    };
    view! {
        <section class="card section" aria-labelledby="tl-title">
            <div class="section-head"><h2 id="tl-title">"Terminal locks"</h2></div>
            <p>"A locked terminal opens only after a code from your authenticator app (or one of your passkeys). Verifying grants this session 15 minutes; unlocking removes the lock."</p>
            <p role="status" aria-live="polite" class=move || status().map(|s| s.0).unwrap_or("notice") hidden=move || status().is_none()>
                {move || status().map(|s| s.1).unwrap_or_default()}
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match locks.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted" data-testid="no-terminal-locks">"No terminal is locked."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="session-list" data-testid="terminal-locks">
                                {list.into_iter().map(|t| {
                                    let id = t.container_id.clone();
                                    let id2 = t.container_id.clone();
                                    let (verify_id, unlock_id) = (format!("tv-{}", t.container_id), format!("tu-{}", t.container_id));
                                    view! {
                                        <li class="card session terminal-lock" data-testid="terminal-lock">
                                            <div class="session-main">
                                                <p class="session-title mono">{t.container_id.clone()}</p>
                                                <p class="muted small">"Locked " {t.locked_at.replace('T', " ").replace('Z', " UTC")}</p>
                                            </div>
                                            <ActionForm action=verify attr:class="terminal-form">
                                                <input type="hidden" name="container_id" value=id/>
                                                <label for=verify_id.clone()>"Code to open it for 15 minutes"</label>
                                                <div class="row">
                                                    <input id=verify_id name="code" class="code-small" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required=true/>
                                                    <button type="submit" class="btn btn-ghost">"Open"</button>
                                                </div>
                                            </ActionForm>
                                            <ActionForm action=unlock attr:class="terminal-form">
                                                <input type="hidden" name="container_id" value=id2/>
                                                <label for=unlock_id.clone()>"Code to remove the lock"</label>
                                                <div class="row">
                                                    <input id=unlock_id name="code" class="code-small" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required=true/>
                                                    <button type="submit" class="btn btn-danger">"Remove lock"</button>
                                                </div>
                                            </ActionForm>
                                            <Show when=move || page_lock.passkey.get()>
                                                {
                                                    let (id, label) = (t.container_id.clone(), format!("Use a passkey for {}", t.container_id));
                                                    view! {
                                                        // Shown only where the browser can use passkeys.
                                                        <span data-passkey="">
                                                            <button type="button" class="btn btn-ghost" aria-label=label
                                                                disabled=move || by_passkey.pending().get()
                                                                on:click=move |_| { by_passkey.dispatch(id.clone()); }>
                                                                "Use a passkey"
                                                            </button>
                                                        </span>
                                                    }
                                                }
                                            </Show>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=lock attr:class="stack lock-terminal">
                <Field name="container_id" label="Lock a terminal by its container id" hint="For example cont_123; up to 128 characters."
                    error=Signal::derive(move || match lock_result.get() {
                        Some(Err(e)) => Some(e.to_string()),
                        _ => None,
                    })/>
                <div><Submit label="Lock terminal" busy_label="Locking…" pending=lock.pending()/></div>
            </ActionForm>
        </section>
    }
}

/// Opens terminal `id` for this session with a passkey; answers it with the grant's end.
async fn open_with_passkey(id: String) -> Result<(String, String), AppError> {
    let ceremony = terminal_passkey_options(id.clone()).await?;
    let credential = crate::browser::use_passkey(&ceremony.options)
        .await
        .map_err(|m| AppError::of(crate::error::ErrorKind::PasskeyFailed, m))?;
    let until = verify_terminal_with_passkey(id.clone(), ceremony.challenge_id, credential).await?;
    Ok((id, until))
}

/// Adds a passkey: the server's options, the browser's WebAuthn, the server again.
async fn add_passkey(name: String) -> Result<(), AppError> {
    // Named first, so the browser's dialog does not come up for nothing.
    let trimmed = name.trim().chars().count();
    if trimmed == 0 || trimmed > 64 {
        return Err(AppError::invalid(
            crate::error::ErrorKind::InvalidRequest,
            Some("name"),
            "Name the passkey (1 to 64 characters), for example the device it is on.",
        ));
    }
    let (challenge, options) = begin_passkey().await?;
    let credential = crate::browser::create_passkey(&options)
        .await
        .map_err(|m| AppError::of(crate::error::ErrorKind::PasskeyFailed, m))?;
    finish_passkey(challenge, name, credential).await
}

/// Passkeys: the list, "Add a passkey" with a name, and removal.
#[component]
fn PasskeysSection() -> impl IntoView {
    let page_lock = LockCtx::get();
    let remove = ServerAction::<RemovePasskey>::new();
    let name = RwSignal::new(String::new());
    let add = Action::new_local(|name: &String| add_passkey(name.clone()));
    let keys = Resource::new(
        move || (remove.version().get(), add.version().get(), page_lock.unlocks()),
        move |_| async move { page_lock.check(my_passkeys().await) },
    );
    page_lock.watch(move || remove.value().get());
    page_lock.watch(move || add.value().get());
    // The lock screen and the terminal rows offer a passkey while there is one.
    Effect::new(move |_| {
        if let Some(Ok((available, list))) = keys.get() {
            page_lock.passkey.set(available && !list.is_empty());
        }
    });
    // The notice speaks of the latest action only.
    Effect::new(move |_| {
        if remove.pending().get() {
            add.clear();
        }
    });
    Effect::new(move |_| {
        if add.pending().get() {
            remove.clear();
        }
    });
    let added = Signal::derive(move || add.value().get());
    // Added: the field is empty for the next one.
    let add_form = NodeRef::<leptos::html::Form>::new();
    empty_form_when(add_form, move || matches!(added.get(), Some(Ok(()))));
    Effect::new(move |_| {
        if matches!(added.get(), Some(Ok(()))) {
            name.set(String::new());
        }
    });
    // Whether passkeys work here does not change: asked once, so the add form below stays put
    // (field, focus) while the list loads again.
    let available = Resource::new(|| (), |_| passkey_sign_in_open());
    let add_refused = needs_reauthentication(move || add.value().get());
    let remove_refused = needs_reauthentication(move || remove.value().get());
    let reauth = Signal::derive(move || add_refused.get() || remove_refused.get());
    let retry = Callback::new(move |_| {
        if add_refused.get_untracked() {
            add.dispatch(name.get_untracked());
        }
        if remove_refused.get_untracked() {
            remove.clear();
        }
    });
    let status = move || -> Option<(&'static str, String)> {
        if add.pending().get() {
            return Some(("notice", "Follow your browser: choose where to keep the passkey…".into()));
        }
        match (added.get(), remove.value().get()) {
            (Some(Err(e)), _) if !add_refused.get() && e.field().is_none() => {
                Some(("notice notice-error", describe(&e)))
            }
            (_, Some(Err(e))) if !remove_refused.get() => Some(("notice notice-error", describe(&e))),
            (Some(Ok(())), _) => Some(("notice notice-ok", "Passkey added.".into())),
            (_, Some(Ok(()))) => Some(("notice notice-ok", "Passkey removed.".into())),
            _ => None,
        }
    };
    view! {
        <section class="card section" aria-labelledby="pk-title" data-testid="passkeys">
            <div class="section-head"><h2 id="pk-title">"Passkeys"</h2></div>
            <p>"Sign in with your device's fingerprint, face or PIN instead of your password. A passkey also unlocks the screen lock and opens locked terminals."</p>
            <p role="status" aria-live="polite" class=move || status().map(|s| s.0).unwrap_or("notice") hidden=move || status().is_none()>
                {move || status().map(|s| s.1).unwrap_or_default()}
            </p>
            <Transition fallback=|| view! { <p class="muted" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok((false, _)) => view! {
                            <p class="muted">"Passkeys need this instance to be reached by a name (its public URL), not an IP address."</p>
                        }.into_any(),
                        Ok((true, list)) => view! {
                            {list.is_empty().then(|| view! { <p class="muted" data-testid="no-passkeys">"No passkey yet."</p> })}
                            <ul class="rows" data-testid="passkey-list">
                                {list.into_iter().map(|p| {
                                    let used = p.last_used_at.as_deref().map_or_else(
                                        || "never used".to_owned(),
                                        |t| format!("last used {}", t.replace('T', " ").replace('Z', " UTC")),
                                    );
                                    let label = format!("Remove {}", p.name);
                                    view! {
                                        <li class="row-item">
                                            <div class="row-main">
                                                <p class="row-title">{p.name.clone()}</p>
                                                <p class="muted small">"added " {p.created_at.replace('T', " ").replace('Z', " UTC")} " · " {used}</p>
                                            </div>
                                            <ActionForm action=remove attr:class="row-actions">
                                                <input type="hidden" name="id" value=p.id/>
                                                <button type="submit" class="btn btn-ghost" aria-label=label>"Remove"</button>
                                            </ActionForm>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    available.await.unwrap_or(false).then(|| view! {
                        <form class="stack" novalidate=true node_ref=add_form on:submit=move |ev| {
                            ev.prevent_default();
                            add.dispatch(name.get_untracked());
                        }>
                            <Field name="passkey_name" label="Name of the new passkey" hint="For example the device it is on; 1 to 64 characters."
                                required=true maxlength="64"
                                on_input=Callback::new(move |v: String| name.set(v)) error=field_error(added, "name")/>
                            <div><Submit label="Add a passkey" busy_label="Adding…" pending=add.pending()/></div>
                        </form>
                    })
                })}
            </Suspense>
            <ReauthPrompt when=reauth retry=retry/>
        </section>
    }
}
