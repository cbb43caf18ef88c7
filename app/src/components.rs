//! The building blocks every page shares: the frame, form fields tied to their errors, status lines.
use crate::api::{security_state, whoami, MeView, Reauthenticate, SignOut};
use crate::error::AppError;
use crate::lock::{IdleWatch, LockCtx, LockScreen};
use leptos::prelude::*;
use leptos_router::components::A;

/// The error that belongs to `field`, if the last submission failed on it.
pub fn field_error<T: Clone + Send + Sync + 'static>(
    result: Signal<Option<Result<T, AppError>>>,
    field: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || match result.get() {
        Some(Err(e)) if e.field().is_some_and(|f| same_field(f, field)) => Some(describe(&e)),
        Some(Err(e)) => e.about(|f| same_field(f, field)),
        _ => None,
    })
}

/// Whether an error's field (the REST body's name, `newPassword`) is this form input
/// (`new_password`): the same words, whatever the case convention.
fn same_field(error_field: &str, input: &str) -> bool {
    let words = |s: &str| s.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect::<String>();
    words(error_field) == words(input)
}

/// An error as a sentence for people.
pub fn describe(e: &AppError) -> String {
    match (e.remaining_time(), e.remaining_attempts()) {
        (Some(t), _) => format!("Too many attempts. Try again in {} minute(s).", t.div_ceil(60)),
        (None, Some(n)) => format!("{e} {n} tries left."),
        (None, None) => e.to_string(),
    }
}

/// The error of the last submission that belongs to no single field.
pub fn form_error<T: Clone + Send + Sync + 'static>(
    result: Signal<Option<Result<T, AppError>>>,
) -> Signal<Option<String>> {
    Signal::derive(move || match result.get() {
        Some(Err(e)) if e.field().is_none() => Some(describe(&e)),
        _ => None,
    })
}

/// A labelled input whose error is announced and tied to it with `aria-describedby`.
#[component]
pub fn Field(
    #[prop(into)] name: String,
    /// The input's id when the page has two fields of one name (default `f-<name>`).
    #[prop(into, optional)]
    id: Option<String>,
    #[prop(into)] label: String,
    #[prop(into, default = "text".into())] kind: String,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(into, optional)] inputmode: Option<String>,
    #[prop(into, optional)] pattern: Option<String>,
    #[prop(into, optional)] maxlength: Option<String>,
    /// What the input starts with (a saved setting).
    #[prop(into, optional)]
    value: Option<String>,
    /// The id of a `<datalist>` of suggestions.
    #[prop(into, optional)]
    list: Option<String>,
    /// Told the text as it is typed.
    #[prop(optional)]
    on_input: Option<Callback<String>>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| format!("f-{name}"));
    // `autofocus` only acts on a full page load; after a client-side navigation, focus here.
    let input = NodeRef::<leptos::html::Input>::new();
    if autofocus {
        Effect::new(move |_| {
            if let Some(el) = input.get() {
                let _ = el.focus();
            }
        });
    }
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let (err_id, hint_id, has_hint) = (err_id.clone(), hint_id.clone(), hint.is_some());
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(err_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    // A passcode is masked text, not a password: password managers then leave it alone rather
    // than offer to save it as the site's password (`enhance.js` masks it as a password where
    // the browser cannot mask text).
    let passcode = kind == "passcode";
    let kind = if passcode { "text".to_owned() } else { kind };
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                node_ref=input
                id=id
                name=name
                type=kind
                class:masked=passcode
                spellcheck=passcode.then_some("false")
                data-lpignore=passcode.then_some("true")
                data-bwignore=passcode.then_some("true")
                data-form-type=passcode.then_some("other")
                autocomplete=autocomplete
                required=required
                autofocus=autofocus
                inputmode=inputmode
                pattern=pattern
                maxlength=maxlength
                value=value
                list=list
                on:input=move |ev| {
                    if let Some(told) = on_input {
                        told.run(event_target_value(&ev));
                    }
                }
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described
            />
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            <p class="field-error" id=err_id role="alert" hidden=move || error.get().is_none()>
                {move || error.get().unwrap_or_default()}
            </p>
        </div>
    }
}

/// The form-level status line: failed (alert) or done.
#[component]
pub fn FormStatus(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <p class="notice notice-error" role="alert" hidden=move || error.get().is_none()>
            {move || error.get().unwrap_or_default()}
        </p>
    }
}

/// Whether an answer asks for the password again before a factor change.
pub fn needs_reauthentication<T: Clone + Send + Sync + 'static>(
    result: impl Fn() -> Option<Result<T, AppError>> + Send + Sync + 'static,
) -> Signal<bool> {
    Signal::derive(
        move || matches!(result(), Some(Err(e)) if e.is(crate::error::ErrorKind::ReauthenticationRequired)),
    )
}

/// Asks, inline, for the password when a factor change answered `reauthentication_required`,
/// then runs `retry` (the change again, or clearing the refusal so the form can be sent again).
#[component]
pub fn ReauthPrompt(#[prop(into)] when: Signal<bool>, retry: Callback<()>) -> impl IntoView {
    let confirm = ServerAction::<Reauthenticate>::new();
    let result = Signal::derive(move || confirm.value().get());
    Effect::new(move |_| {
        if let Some(Ok(())) = confirm.value().get() {
            confirm.clear();
            retry.run(());
        }
    });
    view! {
        <Show when=move || when.get()>
            <div class="notice reauth stack" role="group" aria-labelledby="reauth-title" data-testid="reauth">
                <p id="reauth-title">"To change how you sign in, confirm it is you: enter your password."</p>
                <ActionForm action=confirm attr:class="stack">
                    <Field name="password" id="reauth-password" label="Your password" kind="password"
                        autocomplete="current-password" required=true autofocus=true error=field_error(result, "password")/>
                    <FormStatus error=form_error(result)/>
                    <Submit label="Confirm" busy_label="Checking…" pending=confirm.pending()/>
                </ActionForm>
            </div>
        </Show>
    }
}

/// A submit button that shows the action is pending.
#[component]
pub fn Submit(
    #[prop(into)] label: String,
    #[prop(into)] busy_label: String,
    #[prop(into)] pending: Signal<bool>,
) -> impl IntoView {
    let busy = busy_label.clone();
    view! {
        <button type="submit" class="btn btn-primary" disabled=move || pending.get() aria-busy=move || pending.get().to_string()
            data-busy=busy>
            {move || if pending.get() { busy_label.clone() } else { label.clone() }}
        </button>
    }
}

/// The centered card that setup, sign-in and registration pages sit in.
#[component]
pub fn AuthCard(
    #[prop(into)] title: String,
    #[prop(into)] lead: String,
    children: Children,
) -> impl IntoView {
    view! {
        <main class="auth-wrap" id="main">
            <section class="card auth-card" aria-labelledby="auth-title">
                <div class="brand brand-large"><span class="brand-mark" aria-hidden="true"></span>"Portcullis"</div>
                <h1 id="auth-title">{title}</h1>
                <p class="lead">{lead}</p>
                {children()}
            </section>
        </main>
    }
}

/// The signed-in frame: header with navigation, who is signed in, sign-out, and the lock screen.
/// When the session is locked the page is rendered inert and hidden behind the lock screen,
/// on the server too, so nothing behind it is readable even before the WASM loads.
#[component]
pub fn AppFrame(children: ChildrenFn) -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    let security = Resource::new(|| (), |_| security_state());
    let sign_out = ServerAction::<SignOut>::new();
    let lock = expect_context::<LockCtx>();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="muted page">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user: Option<MeView> = me.await.ok().flatten();
                if let Ok(Some(s)) = security.await {
                    lock.locked.set(s.locked);
                    lock.lock_after.set(s.has_passcode.then_some(s.lock_after_minutes));
                    lock.passkey.set(s.has_passkey);
                }
                view! {
                    <div class="app" class:concealed=move || lock.locked.get()
                        inert=move || lock.locked.get() aria-hidden=move || lock.locked.get().then_some("true")>
                        <a class="skip-link" href="#main">"Skip to content"</a>
                        <header class="topbar">
                            <A href="/" attr:class="brand"><span class="brand-mark" aria-hidden="true"></span>"Portcullis"</A>
                            <nav aria-label="Main">
                                <A href="/">"Home"</A>
                                <A href="/sessions">"Sessions"</A>
                                <A href="/security">"Security"</A>
                                <A href="/vault">"Vault"</A>
                                <A href="/account">"Account"</A>
                                {user.as_ref().is_some_and(|u| u.is_admin).then(|| view! { <A href="/admin">"Admin"</A> })}
                            </nav>
                            <div class="topbar-user">
                                {user.map(|u| view! { <span class="who" data-testid="signed-in-as">{u.display_name}</span> })}
                                <ActionForm action=sign_out>
                                    <button type="submit" class="btn btn-ghost" disabled=move || sign_out.pending().get()>
                                        {move || if sign_out.pending().get() { "Signing out…" } else { "Sign out" }}
                                    </button>
                                </ActionForm>
                            </div>
                        </header>
                        <main id="main" class="page">{children.with_value(|c| c())}</main>
                    </div>
                    <LockScreen/>
                    <IdleWatch/>
                }
            })}
        </Suspense>
    }
}

/// Empties `form` whenever `done` turns true: a saved entry should not linger, and the next
/// one starts blank.
pub fn empty_form_when(form: NodeRef<leptos::html::Form>, done: impl Fn() -> bool + Send + Sync + 'static) {
    Effect::new(move |_| {
        if done() {
            if let Some(f) = form.get_untracked() {
                f.reset();
            }
        }
    });
}

/// What an action's status line says: pending, done (with `done`'s words) or failed.
pub fn outcome<T: Clone + Send + Sync + 'static>(
    pending: Signal<bool>,
    value: Signal<Option<Result<T, AppError>>>,
    done: impl Fn(&T) -> String + Send + Sync + 'static,
) -> Signal<Option<(&'static str, String)>> {
    Signal::derive(move || {
        if pending.get() {
            return Some(("notice", "Working…".to_string()));
        }
        match value.get() {
            Some(Ok(v)) => Some(("notice notice-ok", done(&v))),
            Some(Err(e)) if e.field().is_none() => Some(("notice notice-error", describe(&e))),
            _ => None,
        }
    })
}

/// A live status line for [`outcome`].
#[component]
pub fn StatusLine(#[prop(into)] status: Signal<Option<(&'static str, String)>>) -> impl IntoView {
    view! {
        <p role="status" aria-live="polite" class=move || status.get().map(|s| s.0).unwrap_or("notice") hidden=move || status.get().is_none()>
            {move || status.get().map(|s| s.1).unwrap_or_default()}
        </p>
    }
}

/// Where a list paged by cursor stands: `cursor` names the page shown, `back` the pages
/// before it (so "Previous" needs no cursor of its own).
#[derive(Clone, Copy)]
pub struct Paging {
    cursor: RwSignal<Option<String>>,
    back: RwSignal<Vec<Option<String>>>,
}

impl Paging {
    pub fn new() -> Self {
        Self { cursor: RwSignal::new(None), back: RwSignal::new(Vec::new()) }
    }

    /// The page to load (tracked: a resource reading it reloads on a page change).
    pub fn cursor(&self) -> Option<String> {
        self.cursor.get()
    }

    /// The page shown, untracked.
    pub fn cursor_untracked(&self) -> Option<String> {
        self.cursor.get_untracked()
    }

    /// Back to the first page (the search changed).
    pub fn reset(&self) {
        self.cursor.set(None);
        self.back.set(Vec::new());
    }

    fn on_first_page(&self) -> bool {
        self.back.with(Vec::is_empty)
    }

    fn next(&self, next: Option<String>) {
        // A second click while that page loads is the same step, not another one.
        if next.is_none() || self.cursor.get_untracked() == next {
            return;
        }
        self.back.update(|b| b.push(self.cursor.get_untracked()));
        self.cursor.set(next);
    }

    /// A later page that came back empty (its last row was deleted): show the one before.
    pub fn step_back_if_empty(&self, empty: bool) {
        if empty && !self.back.with_untracked(Vec::is_empty) {
            self.previous();
        }
    }

    fn previous(&self) {
        let mut b = self.back.get_untracked();
        self.cursor.set(b.pop().flatten());
        self.back.set(b);
    }
}

impl Default for Paging {
    fn default() -> Self {
        Self::new()
    }
}

/// "Previous" and "Next" under a paged list, shown once there is more than one page.
#[component]
pub fn Pager(paging: Paging, next: Option<String>, label: &'static str) -> impl IntoView {
    let more = next.is_some() || !paging.back.with_untracked(Vec::is_empty);
    more.then(|| {
        let has_next = next.is_some();
        view! {
            <nav class="row pager" aria-label=label>
                <button type="button" class="btn btn-ghost" disabled=move || paging.on_first_page()
                    on:click=move |_| paging.previous()>"Previous"</button>
                <button type="button" class="btn btn-ghost" disabled=!has_next
                    on:click=move |_| paging.next(next.clone())>"Next"</button>
            </nav>
        }
    })
}

/// A "… with a passkey" button and its error line, run by `enhance.js` (so it works on pages
/// that load no WASM) and shown only where the browser can use passkeys. `action`: `sign-in`,
/// or the server function that finishes the ceremony; `form`: the id of the form whose fields
/// go along; `divider`: an "or" line above it; `primary`: the page's main action.
#[component]
pub fn PasskeyBox(
    #[prop(into)] action: String,
    #[prop(into, optional)] form: Option<String>,
    #[prop(into)] label: String,
    #[prop(into)] busy: String,
    #[prop(optional)] divider: bool,
    #[prop(optional)] primary: bool,
) -> impl IntoView {
    let class = if primary { "btn btn-primary btn-block" } else { "btn btn-ghost btn-block" };
    view! {
        <div class="stack" data-passkey=action data-passkey-form=form>
            {divider.then(|| view! { <p class="divider"><span>"or"</span></p> })}
            <button type="button" class=class data-passkey-start="" data-busy=busy autofocus=primary>{label}</button>
            <p class="field-error" role="alert" data-passkey-error="" hidden=true></p>
        </div>
    }
}
