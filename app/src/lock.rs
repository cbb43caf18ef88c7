//! The lock screen and the browser's inactivity timer. The server enforces the lock on its own
//! (see `ssr::services::auth`); this makes the page follow it: it hides the page behind a
//! passcode dialog on manual lock, after `lock_after_minutes` without input, when another tab
//! locks, and when any request answers `403 account_locked`.
use crate::api::{lock_now, SignOut, UnlockScreen};
use crate::components::PasskeyBox;
use crate::error::{AppError, ErrorKind};
use leptos::prelude::*;

/// The page's lock state, shared by the frame, the lock screen and the security page.
#[derive(Clone, Copy)]
pub struct LockCtx {
    pub locked: RwSignal<bool>,
    /// Minutes of inactivity before the browser locks; `None` when no passcode is set.
    pub lock_after: RwSignal<Option<i64>>,
    /// The lock screen offers "Unlock with a passkey" (the user has one and passkeys work here).
    pub passkey: RwSignal<bool>,
    /// Counts unlocks. Page data fetched while locked holds "locked" errors, so resources list
    /// this in their source (see [`LockCtx::unlocks`]) and fetch again once the page is back.
    unlocked: RwSignal<u32>,
}

impl LockCtx {
    pub fn new() -> Self {
        Self {
            locked: RwSignal::new(false),
            lock_after: RwSignal::new(None),
            passkey: RwSignal::new(false),
            unlocked: RwSignal::new(0),
        }
    }

    /// The page's lock state, provided once by `App`.
    pub fn get() -> Self {
        expect_context::<LockCtx>()
    }

    /// Tracks unlocks: put this in a resource's source to refetch after the page comes back.
    pub fn unlocks(&self) -> u32 {
        self.unlocked.try_get().unwrap_or(0)
    }

    /// Sets the lock state; going from locked to unlocked counts as an unlock.
    pub fn set_locked(&self, locked: bool) {
        if self.locked.try_get_untracked() == Some(true) && !locked {
            self.unlocked.try_update(|n| *n += 1);
        }
        self.locked.try_set(locked);
    }

    /// Shows the lock screen if an answer says the account is locked.
    pub fn note(&self, e: &AppError) {
        if e.is(ErrorKind::AccountLocked) {
            self.locked.try_set(true);
        }
    }

    /// Passes a server answer through, showing the lock screen if it says the account is locked
    /// (another device or a script locked it). Wrap resource fetches with it.
    pub fn check<T>(self, r: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(e) = &r {
            self.note(e);
        }
        r
    }

    /// Watches an action's answers the same way as [`LockCtx::check`].
    pub fn watch<T: Clone + Send + Sync + 'static>(
        self,
        value: impl Fn() -> Option<Result<T, AppError>> + 'static,
    ) {
        Effect::new(move |_| {
            if let Some(Err(e)) = value() {
                self.note(&e);
            }
        });
    }

    /// Locks on the server, shows the lock screen, and tells the other tabs.
    pub fn engage(self) {
        crate::browser::spawn(async move {
            let _ = lock_now().await;
            self.locked.try_set(true);
            crate::browser::tell_other_tabs("lock");
        });
    }
}

impl Default for LockCtx {
    fn default() -> Self {
        Self::new()
    }
}

/// Starts the inactivity timer and the cross-tab listener (browser only).
///
/// Input (pointer, keys, touch, wheel, scroll) and the tab becoming visible count as activity.
/// Elapsed time is read from the wall clock, so time spent hidden or asleep counts: a laptop
/// that wakes after the limit locks at once. Activity is reported to the server at most once a
/// minute and only after real input, never by a timer, so the server's idle lock agrees.
#[component]
pub fn IdleWatch() -> impl IntoView {
    crate::browser::watch_idle(expect_context::<LockCtx>());
}

/// The full-screen passcode dialog. The page behind it is inert and invisible.
#[component]
pub fn LockScreen() -> impl IntoView {
    let ctx = expect_context::<LockCtx>();
    let unlock = ServerAction::<UnlockScreen>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let countdown = RwSignal::new(0u64);
    let input = NodeRef::<leptos::html::Input>::new();

    Effect::new(move |_| match unlock.value().get() {
        Some(Ok(())) => {
            ctx.set_locked(false);
            unlock.clear();
            crate::browser::tell_other_tabs("unlock");
        }
        Some(Err(e)) if e.remaining_time().is_some() => countdown.set(e.remaining_time().unwrap_or(0)),
        Some(Err(_)) => {
            // A wrong passcode: empty the field and put the cursor back for the next try.
            if let Some(el) = input.get_untracked() {
                el.set_value("");
                let _ = el.focus();
            }
        }
        None => {}
    });
    Effect::new(move |_| {
        if ctx.locked.get() {
            if let Some(el) = input.get() {
                let _ = el.focus();
            }
        }
    });
    // The countdown ticks only in the browser; until then (or on a page sent without the WASM)
    // the wait is said in minutes and the button stays usable (the server still refuses).
    let ticking = RwSignal::new(false);
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            ticking.set(true);
            if let Some(Err(e)) = unlock.value().get_untracked() {
                countdown.set(e.remaining_time().unwrap_or(0));
            }
            let handle = set_interval_with_handle(
                move || {
                    if countdown.try_get_untracked().unwrap_or(0) > 0 {
                        countdown.try_update(|n| *n -= 1);
                    }
                },
                std::time::Duration::from_secs(1),
            )
            .ok();
            on_cleanup(move || {
                if let Some(h) = handle {
                    h.clear();
                }
            });
        }
    });
    let message = move || match unlock.value().get() {
        Some(Err(e)) if e.remaining_time().is_some() && !ticking.get() => Some(format!(
            "Too many wrong passcodes. Try again in {} minute(s).",
            e.remaining_time().unwrap_or(0).div_ceil(60)
        )),
        Some(Err(e)) if e.remaining_time().is_some() && countdown.get() > 0 => {
            let n = countdown.get();
            Some(format!("Too many wrong passcodes. Try again in {}:{:02}.", n / 60, n % 60))
        }
        Some(Err(e)) if e.remaining_time().is_some() => Some("You can try again now.".to_string()),
        Some(Err(e)) if e.is(ErrorKind::IncorrectPasscode) => {
            Some("Incorrect passcode. Try again.".to_string())
        }
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <Show when=move || ctx.locked.get()>
            <div class="lock-backdrop">
                <div class="card lock-card" role="dialog" aria-modal="true" aria-labelledby="lock-title" aria-describedby="lock-lead" data-testid="lock-screen">
                    <div class="lock-icon" aria-hidden="true"></div>
                    <h2 id="lock-title">"Portcullis is locked"</h2>
                    <p id="lock-lead" class="muted">"Enter your 6-digit passcode to continue where you left off."</p>
                    <ActionForm action=unlock attr:class="stack">
                        <div class="field" class:field-invalid=move || message().is_some()>
                            <label for="lock-passcode">"Passcode"</label>
                            <input node_ref=input id="lock-passcode" name="passcode" type="text" inputmode="numeric"
                                autocomplete="off" maxlength="6" pattern="[0-9]{6}" required=true autofocus=true class="code-input masked"
                                spellcheck="false" data-lpignore="true" data-bwignore="true" data-form-type="other"
                                aria-invalid=move || if message().is_some() { "true" } else { "false" }
                                aria-describedby="lock-error"/>
                            <p id="lock-error" class="field-error" role="alert" hidden=move || message().is_none()>
                                {move || message().unwrap_or_default()}
                            </p>
                        </div>
                        <button type="submit" class="btn btn-primary" data-busy="Unlocking…"
                            disabled=move || { unlock.pending().get() || (ticking.get() && countdown.get() > 0) }>
                            {move || if unlock.pending().get() { "Unlocking…" } else { "Unlock" }}
                        </button>
                    </ActionForm>
                    // Works through `enhance.js`, with or without the WASM (see its passkey part).
                    <Show when=move || ctx.passkey.get()>
                        <PasskeyBox action="/rpc/passkey/unlock" label="Unlock with a passkey" busy="Unlocking…"/>
                    </Show>
                    <ActionForm action=sign_out>
                        <button type="submit" class="link-button">"Sign out instead"</button>
                    </ActionForm>
                </div>
            </div>
        </Show>
    }
}
