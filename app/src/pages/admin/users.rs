//! Users: add an account, find, change role, sign out, reset two-factor, delete.
use crate::api::{
    list_users_page, CreateUser, RemoveUser, ResetUserTwoFactor, SetUserRole, SignOutUser, UserView,
};
use crate::components::{
    describe, empty_form_when, field_error, needs_reauthentication, outcome, Field, Pager, Paging,
    ReauthPrompt, StatusLine, Submit,
};
use crate::error::{AppError, ErrorKind};
use crate::lock::LockCtx;
use leptos::prelude::*;

/// The people on the instance, then adding one.
#[component]
pub(super) fn UsersTab() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    view! {
        <UsersSection created=create/>
        <CreateUserSection create=create/>
    }
}

/// An administrator adds an account: registration may be off.
#[component]
fn CreateUserSection(create: ServerAction<CreateUser>) -> impl IntoView {
    LockCtx::get().watch(move || create.value().get());
    let refused = needs_reauthentication(move || create.value().get());
    let retry = Callback::new(move |_| create.clear());
    let result = Signal::derive(move || create.value().get());
    let status = outcome(create.pending().into(), result, |name: &String| {
        format!("{name} can sign in now. Hand them the password; they can change it under Account.")
    });
    // A created account empties the form for the next one.
    let form = NodeRef::<leptos::html::Form>::new();
    empty_form_when(form, move || matches!(create.value().get(), Some(Ok(_))));
    view! {
        <section class="card section" aria-labelledby="add-user-title">
            <h2 id="add-user-title">"Add a person"</h2>
            <ActionForm action=create node_ref=form attr:class="stack" attr:novalidate=true>
                <Field name="username" id="new-username" label="Username" autocomplete="off" required=true
                    hint="3–64 letters, digits and . _ - @" error=field_error(result, "username")/>
                <Field name="display_name" id="new-display-name" label="Display name (optional)" autocomplete="off"
                    error=field_error(result, "displayName")/>
                <Field name="password" id="new-password" label="First password" kind="password" autocomplete="new-password" required=true
                    hint="At least 8 characters; common or guessable passwords are refused."
                    error=field_error(result, "password")/>
                <fieldset class="checks">
                    <legend>"Role"</legend>
                    <label class="check"><input type="radio" name="role" value="user" checked=true/><span>"User"</span></label>
                    <label class="check"><input type="radio" name="role" value="admin"/><span>"Administrator"</span></label>
                </fieldset>
                <StatusLine status=status/>
                <Submit label="Add person" busy_label="Adding…" pending=create.pending()/>
            </ActionForm>
            <ReauthPrompt when=refused retry=retry/>
        </section>
    }
}

#[component]
fn UsersSection(created: ServerAction<CreateUser>) -> impl IntoView {
    let role = ServerAction::<SetUserRole>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let sign_out = ServerAction::<SignOutUser>::new();
    let reset_tf = ServerAction::<ResetUserTwoFactor>::new();
    let lock = LockCtx::get();
    lock.watch(move || reset_tf.value().get());
    let reset_refused = needs_reauthentication(move || reset_tf.value().get());
    let retry_reset = Callback::new(move |_| reset_tf.clear());
    lock.watch(move || role.value().get());
    lock.watch(move || remove.value().get());
    lock.watch(move || sign_out.value().get());
    // Names starting with `search`, one page at a time.
    let search = RwSignal::new(String::new());
    let paging = Paging::new();
    let users = Resource::new(
        move || {
            let versions = (
                role.version().get(),
                remove.version().get(),
                reset_tf.version().get(),
                created.version().get(),
            );
            (versions, lock.unlocks(), search.get(), paging.cursor())
        },
        move |(_, _, search, cursor)| async move { lock.check(list_users_page(search, cursor).await) },
    );
    let pending = Signal::derive(move || {
        role.pending().get() || remove.pending().get() || sign_out.pending().get() || reset_tf.pending().get()
    });
    let status = Signal::derive(move || {
        if pending.get() {
            return Some(("notice", "Working…".to_string()));
        }
        let failed = |e: AppError| Some(("notice notice-error", describe(&e)));
        // The most recent action speaks; each clears when another runs.
        if let Some(r) = sign_out.value().get() {
            return r.map_or_else(failed, |n| {
                Some(("notice notice-ok", format!("Signed out of {n} session(s).")))
            });
        }
        if let Some(r) = reset_tf.value().get() {
            return r.map_or_else(failed, |_| {
                Some(("notice notice-ok", "Two-factor sign-in reset.".to_string()))
            });
        }
        if let Some(r) = remove.value().get() {
            return r.map_or_else(failed, |_| Some(("notice notice-ok", "User deleted.".to_string())));
        }
        role.value()
            .get()
            .and_then(|r| r.map_or_else(failed, |_| Some(("notice notice-ok", "Role changed.".to_string()))))
    });
    let clear_others = move |keep: u8| {
        if keep != 0 {
            role.clear()
        }
        if keep != 1 {
            remove.clear()
        }
        if keep != 2 {
            sign_out.clear()
        }
        if keep != 3 {
            reset_tf.clear()
        }
    };
    Effect::new(move |_| {
        if reset_tf.pending().get() {
            clear_others(3)
        }
    });
    Effect::new(move |_| {
        if role.pending().get() {
            clear_others(0)
        }
    });
    Effect::new(move |_| {
        if remove.pending().get() {
            clear_others(1)
        }
    });
    Effect::new(move |_| {
        if sign_out.pending().get() {
            clear_others(2)
        }
    });
    view! {
        <section class="card section" aria-labelledby="users-title">
            <h2 id="users-title">"People"</h2>
            <StatusLine status=status/>
            <div class="field user-search">
                <label for="user-search">"Find users"</label>
                <input id="user-search" type="search" autocomplete="off" spellcheck="false"
                    placeholder="Name starts with…" aria-describedby="user-search-hint"
                    on:input=move |ev| {
                        search.set(event_target_value(&ev));
                        paging.reset();
                    }/>
                <p class="hint" id="user-search-hint">"Type the first letters of a name; the list shows 25 at a time."</p>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(page) => {
                            let next = page.next_cursor.clone();
                            let empty = page.users.is_empty();
                            Some(view! {
                                <ul class="rows" data-testid="user-list">
                                    {page.users.into_iter().map(|u| view! { <UserRow u=u role=role remove=remove sign_out=sign_out reset_tf=reset_tf/> }).collect_view()}
                                </ul>
                                {empty.then(|| view! { <p class="muted" role="status">"No user name starts with that."</p> })}
                                <Pager paging=paging next=next label="User list pages"/>
                            }.into_any())
                        }
                        Err(e) if e.is(ErrorKind::Forbidden) => None,
                        Err(e) => Some(view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }.into_any()),
                    }
                })}
            </Transition>
            <ReauthPrompt when=reset_refused retry=retry_reset/>
        </section>
    }
}

#[component]
fn UserRow(
    u: UserView,
    role: ServerAction<SetUserRole>,
    remove: ServerAction<RemoveUser>,
    sign_out: ServerAction<SignOutUser>,
    reset_tf: ServerAction<ResetUserTwoFactor>,
) -> impl IntoView {
    let (next_role, role_label) = if u.is_admin { ("user", "Remove admin") } else { ("admin", "Make admin") };
    let created = u.created_at.split('T').next().unwrap_or_default().to_owned();
    let name = u.username.clone();
    let (id_for_role, id_for_signout, name_for_row) = (u.id.clone(), u.id.clone(), u.username.clone());
    let reset = (u.totp_enabled && !u.is_me).then(|| {
        let (id, n) = (u.id.clone(), u.username.clone());
        view! {
            <details class="confirm inline">
                <summary class="btn btn-ghost" aria-label=format!("Reset two-factor: {n}…")>"Reset two-factor…"</summary>
                <ActionForm action=reset_tf attr:class="stack">
                    <input type="hidden" name="user_id" value=id/>
                    <p class="muted small">{format!("{n} signs in with the password alone until they set up two-factor again.")}</p>
                    <button type="submit" class="btn btn-danger">{format!("Reset two-factor for {n}")}</button>
                </ActionForm>
            </details>
        }
    });
    let manage = (!u.is_me).then(|| {
        let n = u.username.clone();
        let (role_aria, delete_aria) = (format!("{role_label}: {n}"), format!("Delete {n}…"));
        let (warning, confirm) = (
            format!("{n} and all their sessions, keys and settings are removed for good."),
            format!("Delete {n}"),
        );
        view! {
            <ActionForm action=role>
                <input type="hidden" name="user_id" value=id_for_role/>
                <input type="hidden" name="role" value=next_role/>
                <button type="submit" class="btn btn-ghost" aria-label=role_aria>{role_label}</button>
            </ActionForm>
            <details class="confirm inline">
                <summary class="btn btn-danger" aria-label=delete_aria>"Delete…"</summary>
                <ActionForm action=remove attr:class="stack">
                    <input type="hidden" name="username" value=n/>
                    <p class="muted small">{warning}</p>
                    <button type="submit" class="btn btn-danger">{confirm}</button>
                </ActionForm>
            </details>
        }
    });
    view! {
        <li class="row-item" data-testid="user-row" data-username=name_for_row>
            <div class="row-main">
                <p class="row-title">
                    {u.username.clone()}
                    {u.is_me.then(|| view! { <span class="badge badge-accent">"You"</span> })}
                    {u.is_admin.then(|| view! { <span class="badge">"Admin"</span> })}
                    {u.totp_enabled.then(|| view! { <span class="badge badge-ok">"2FA"</span> })}
                    {u.is_oidc.then(|| view! { <span class="badge">"SSO"</span> })}
                </p>
                <p class="muted small">"Joined " <time datetime=u.created_at.clone()>{created}</time></p>
            </div>
            <div class="row-actions">
                <ActionForm action=sign_out>
                    <input type="hidden" name="user_id" value=id_for_signout/>
                    <button type="submit" class="btn btn-ghost" aria-label=format!("Sign out everywhere: {name}")>"Sign out everywhere"</button>
                </ActionForm>
                {reset}
                {manage}
            </div>
        </li>
    }
}
