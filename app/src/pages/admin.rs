//! The admin page: sign-in settings, logging, Guacamole, users, API keys and forward-auth's
//! access rules.
use crate::api::{
    access_rules, instance_settings, ldap_settings, list_api_keys, list_users_page, oidc_settings,
    AccessRule, AddAccessRule, ApiKeyView, CreateApiKey, DeleteApiKey, InstanceView, LdapView,
    MoveAccessRule, OidcView, RemoveAccessRule, RemoveUser, ResetUserTwoFactor, SaveGuacamole,
    SaveLdapSettings, SaveLogLevel, SaveOidcSettings, SaveSignInSettings, SetUserRole, SignOutUser, UserView,
};
use crate::components::{
    describe, field_error, needs_reauthentication, outcome, AppFrame, Field, Pager, Paging, ReauthPrompt,
    StatusLine, Submit,
};
use crate::error::{AppError, ErrorKind};
use crate::lock::LockCtx;
use leptos::prelude::*;

#[component]
pub fn AdminPage() -> impl IntoView {
    let lock = LockCtx::get();
    let settings =
        Resource::new(move || lock.unlocks(), move |_| async move { lock.check(instance_settings().await) });
    let directory =
        Resource::new(move || lock.unlocks(), move |_| async move { lock.check(ldap_settings().await) });
    let sso =
        Resource::new(move || lock.unlocks(), move |_| async move { lock.check(oidc_settings().await) });
    view! {
        <AppFrame>
            <h1>"Administration"</h1>
            <p class="lead">"How people sign in to this instance, who they are, and the keys that act for them."</p>
            // Each part waits for its own data; nothing is created inside another part's wait,
            // so the page hydrates the same way every time.
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(s) => view! {
                            <SignInSection s=s.clone()/>
                            <div class="two-col">
                                <LoggingSection level=s.log_level.clone()/>
                                <GuacamoleSection enabled=s.guacamole_enabled url=s.guacamole_url.clone()/>
                            </div>
                        }.into_any(),
                        Err(e) if e.is(ErrorKind::Forbidden) => view! {
                            <p class="notice notice-error" role="alert">"Only administrators can see this page."</p>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move { directory.await.ok().map(|d| view! { <LdapSection d=d/> }) })}
            </Suspense>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move { sso.await.ok().map(|o| view! { <OidcSection o=o/> }) })}
            </Suspense>
            <UsersSection/>
            <ApiKeysSection/>
            <AccessRulesSection/>
        </AppFrame>
    }
}

#[component]
fn SignInSection(s: InstanceView) -> impl IntoView {
    let save = ServerAction::<SaveSignInSettings>::new();
    LockCtx::get().watch(move || save.value().get());
    let result = Signal::derive(move || save.value().get());
    let status = outcome(save.pending().into(), result, |_| "Sign-in settings saved.".into());
    view! {
        <section class="card section" aria-labelledby="si-title">
            <h2 id="si-title">"Sign-in"</h2>
            <ActionForm action=save attr:class="stack">
                <fieldset class="checks">
                    <legend class="visually-hidden">"Sign-in options"</legend>
                    <label class="check"><input type="checkbox" name="registration" value="on" checked=s.registration/>
                        <span>"Anyone can create an account"</span></label>
                    <label class="check"><input type="checkbox" name="password_login" value="on" checked=s.password_login/>
                        <span>"Password sign-in"</span></label>
                    <label class="check"><input type="checkbox" name="password_reset" value="on" checked=s.password_reset/>
                        <span>"Password reset with a code from the server log"</span></label>
                </fieldset>
                <Field name="timeout_hours" label="Sessions last (hours)" kind="number" inputmode="numeric" required=true
                    hint="1 to 720. Applies to sessions started from now on; “keep me signed in” lasts 30 days."
                    value=s.timeout_hours.to_string() error=field_error(result, "timeout_hours")/>
                <StatusLine status=status/>
                <Submit label="Save sign-in settings" busy_label="Saving…" pending=save.pending()/>
            </ActionForm>
        </section>
    }
}

#[component]
fn LoggingSection(level: String) -> impl IntoView {
    let save = ServerAction::<SaveLogLevel>::new();
    LockCtx::get().watch(move || save.value().get());
    let status = outcome(save.pending().into(), Signal::derive(move || save.value().get()), |_| {
        "Log level changed.".into()
    });
    view! {
        <section class="card section" aria-labelledby="log-title">
            <h2 id="log-title">"Server log"</h2>
            <ActionForm action=save attr:class="stack">
                <div class="field">
                    <label for="log-level">"Log level"</label>
                    <select id="log-level" name="level" class="select">
                        {["debug", "info", "warn", "error"].into_iter().map(|l| view! {
                            <option value=l selected=l == level>{l}</option>
                        }).collect_view()}
                    </select>
                    <p class="hint">"Takes effect at once. Reset codes are logged at warn."</p>
                </div>
                <StatusLine status=status/>
                <Submit label="Save" busy_label="Saving…" pending=save.pending()/>
            </ActionForm>
        </section>
    }
}

#[component]
fn GuacamoleSection(enabled: bool, url: String) -> impl IntoView {
    let save = ServerAction::<SaveGuacamole>::new();
    LockCtx::get().watch(move || save.value().get());
    let result = Signal::derive(move || save.value().get());
    let status = outcome(save.pending().into(), result, |_| "Guacamole settings saved.".into());
    view! {
        <section class="card section" aria-labelledby="guac-title">
            <h2 id="guac-title">"Remote desktop (Guacamole)"</h2>
            <ActionForm action=save attr:class="stack">
                <label class="check"><input type="checkbox" name="enabled" value="on" checked=enabled/>
                    <span>"Enable RDP and VNC through guacd"</span></label>
                <Field name="url" id="guac-url" label="guacd address" hint="host:port, for example guacd:4822" value=url required=true
                    error=field_error(result, "url")/>
                <StatusLine status=status/>
                <Submit label="Save" busy_label="Saving…" pending=save.pending()/>
            </ActionForm>
        </section>
    }
}

#[component]
fn UsersSection() -> impl IntoView {
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
            let versions = (role.version().get(), remove.version().get(), reset_tf.version().get());
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
            <h2 id="users-title">"Users"</h2>
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
                    <button type="submit" class="btn btn-ghost" aria-label=format!("Sign out {name} everywhere")>"Sign out everywhere"</button>
                </ActionForm>
                {reset}
                {manage}
            </div>
        </li>
    }
}

#[component]
fn ApiKeysSection() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let delete = ServerAction::<DeleteApiKey>::new();
    let lock = LockCtx::get();
    lock.watch(move || create.value().get());
    lock.watch(move || delete.value().get());
    let paging = Paging::new();
    let keys = Resource::new(
        move || (create.version().get(), delete.version().get(), lock.unlocks(), paging.cursor()),
        move |(_, _, _, cursor)| async move { lock.check(list_api_keys(cursor).await) },
    );
    // Names for the owner field, as it is typed (the first page of names starting with it).
    let owner = RwSignal::new(String::new());
    let suggestions = Resource::new(
        move || owner.get(),
        move |typed| async move {
            if typed.trim().is_empty() {
                return Vec::new();
            }
            list_users_page(typed, None).await.map(|p| p.users).unwrap_or_default()
        },
    );
    let created = Signal::derive(move || create.value().get());
    let deleted = outcome(delete.pending().into(), Signal::derive(move || delete.value().get()), |_| {
        "API key deleted. It stopped working at once.".into()
    });
    let copied = RwSignal::new(false);
    view! {
        <section class="card section" aria-labelledby="keys-title"
            hidden=move || matches!(keys.get(), Some(Err(e)) if e.is(ErrorKind::Forbidden))>
            <h2 id="keys-title">"API keys"</h2>
            <p class="muted">"A key acts as its user from scripts and outside clients: send it as " <code>"Authorization: Bearer pcs_…"</code> ". It is shown once."</p>
            {move || match created.get() {
                Some(Ok(k)) => {
                    let token = k.token.clone();
                    let copy = move |_| {
                        if crate::browser::copy_to_clipboard(&token) {
                            copied.set(true);
                        }
                    };
                    Some(view! {
                        <div class="notice notice-ok stack" role="status" data-testid="new-key">
                            <p>{format!("Key “{}” for {} created. Copy it now: it will not be shown again.", k.key.name, k.key.username)}</p>
                            <div class="row">
                                <code class="secret" data-testid="new-key-token">{k.token.clone()}</code>
                                <button type="button" class="btn btn-ghost" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                            </div>
                        </div>
                    }.into_any())
                }
                _ => None,
            }}
            <details class="confirm" open=move || matches!(created.get(), Some(Err(_)))>
                <summary class="btn btn-primary">"New API key…"</summary>
                <ActionForm action=create attr:class="stack narrow" attr:novalidate=true>
                    <Field name="name" label="Name" hint="What uses it, for example “backup script”." required=true maxlength="100"
                        error=field_error(created, "name")/>
                    <Field name="username" label="Acts as (optional)" hint="A user's name; names are suggested as you type. Leave empty for a key that acts as you."
                        maxlength="64" list="key-user-names" autocomplete="off"
                        on_input=Callback::new(move |v: String| owner.set(v))
                        error=field_error(created, "username")/>
                    <datalist id="key-user-names">
                        <Transition>
                            {move || Suspend::new(async move {
                                suggestions.await.into_iter().map(|u| view! { <option value=u.username/> }).collect_view()
                            })}
                        </Transition>
                    </datalist>
                    <Field name="expires_at" label="Expires on (optional)" kind="date" hint="Leave empty for a key that does not expire."
                        error=field_error(created, "expires_at")/>
                    {move || match created.get() {
                        Some(Err(e)) if e.field().is_none() => Some(view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }),
                        _ => None,
                    }}
                    <Submit label="Create key" busy_label="Creating…" pending=create.pending()/>
                </ActionForm>
            </details>
            <StatusLine status=deleted/>
            <Transition fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(page) if page.keys.is_empty() && paging.cursor_untracked().is_none() => view! { <p class="muted" data-testid="no-keys">"No API keys yet."</p> }.into_any(),
                        Ok(page) if page.keys.is_empty() => {
                            paging.step_back_if_empty(true);
                            ().into_any()
                        }
                        Ok(page) => {
                            let next = page.next_cursor.clone();
                            view! {
                                <ul class="rows" data-testid="key-list">
                                    {page.keys.into_iter().map(|k| view! { <KeyRow k=k delete=delete/> }).collect_view()}
                                </ul>
                                <Pager paging=paging next=next label="API key pages"/>
                            }.into_any()
                        }
                        Err(e) if e.is(ErrorKind::Forbidden) => ().into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn day(t: &str) -> String {
    t.split('T').next().unwrap_or_default().to_owned()
}

#[component]
fn KeyRow(k: ApiKeyView, delete: ServerAction<DeleteApiKey>) -> impl IntoView {
    let expires =
        k.expires_at.as_deref().map_or("never expires".to_owned(), |t| format!("expires {}", day(t)));
    let used = k.last_used_at.as_deref().map_or("never used".to_owned(), |t| {
        format!("last used {}", t.replace('T', " ").replace('Z', " UTC"))
    });
    view! {
        <li class="row-item" data-testid="key-row">
            <div class="row-main">
                <p class="row-title">{k.name.clone()} " " <code class="muted small">{format!("{}…", k.token_prefix)}</code></p>
                <p class="muted small">{format!("acts as {} · created {} · {expires} · {used}", k.username, day(&k.created_at))}</p>
            </div>
            <ActionForm action=delete>
                <input type="hidden" name="key_id" value=k.id.clone()/>
                <button type="submit" class="btn btn-danger" aria-label=format!("Delete key {}", k.name) disabled=move || delete.pending().get()>"Delete"</button>
            </ActionForm>
        </li>
    }
}

#[component]
fn LdapSection(d: LdapView) -> impl IntoView {
    let save = ServerAction::<SaveLdapSettings>::new();
    LockCtx::get().watch(move || save.value().get());
    let result = Signal::derive(move || save.value().get());
    let status = outcome(save.pending().into(), result, |m: &String| m.clone());
    let password_hint = if d.has_bind_password {
        "Leave empty to keep the stored password."
    } else {
        "Stored encrypted; never shown again."
    };
    view! {
        <section class="card section" aria-labelledby="ldap-title">
            <h2 id="ldap-title">"Directory (LDAP)"</h2>
            <p class="muted">"People sign in with their directory name and password; an account is made for them at their first sign-in. The service account only searches."</p>
            <ActionForm action=save attr:class="stack narrow" attr:novalidate=true>
                <label class="check"><input type="checkbox" name="enabled" value="on" checked=d.enabled/>
                    <span>"Allow sign-in with directory accounts"</span></label>
                <Field name="url" id="ldap-url" label="Directory URL" hint="ldap://host:389 or ldaps://host:636" value=d.url required=true
                    error=field_error(result, "url")/>
                <Field name="bind_dn" label="Service account DN" hint="For example cn=reader,dc=example,dc=org" value=d.bind_dn required=true
                    error=field_error(result, "bind_dn")/>
                <Field name="bind_password" label="Service account password" kind="password" autocomplete="new-password" hint=password_hint
                    error=field_error(result, "bind_password")/>
                <Field name="search_base" label="Search base" hint="Where people are, for example ou=people,dc=example,dc=org" value=d.search_base
                    required=true error=field_error(result, "search_base")/>
                <div class="two-col">
                    <Field name="user_attribute" label="Username attribute" hint="uid, or sAMAccountName for Active Directory" value=d.user_attribute
                        error=field_error(result, "user_attribute")/>
                    <Field name="display_name_attribute" label="Display name attribute" value=d.display_name_attribute
                        error=field_error(result, "display_name_attribute")/>
                </div>
                <StatusLine status=status/>
                <div class="row">
                    <Submit label="Save directory settings" busy_label="Working…" pending=save.pending()/>
                    <button type="submit" name="test" value="1" class="btn btn-ghost" disabled=move || save.pending().get()>"Test connection"</button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn OidcSection(o: OidcView) -> impl IntoView {
    let save = ServerAction::<SaveOidcSettings>::new();
    LockCtx::get().watch(move || save.value().get());
    let result = Signal::derive(move || save.value().get());
    let status = outcome(save.pending().into(), result, |m: &String| m.clone());
    let secret_hint =
        if o.has_client_secret { "Leave empty to keep the stored secret." } else { "Stored encrypted." };
    view! {
        <section class="card section" aria-labelledby="oidc-title">
            <div class="section-head">
                <h2 id="oidc-title">"Single sign-on (OpenID Connect)"</h2>
                <span class=if o.configured { "badge badge-ok" } else { "badge" }>{if o.configured { "On" } else { "Off" }}</span>
            </div>
            <p class="muted">"Register Portcullis with your provider using this redirect URI: " <code>{o.redirect_uri.clone()}</code></p>
            <ActionForm action=save attr:class="stack narrow" attr:novalidate=true>
                <Field name="client_id" id="oidc-client-id" label="Client ID" value=o.client_id error=field_error(result, "client_id")/>
                <Field name="client_secret" id="oidc-client-secret" label="Client secret" kind="password" autocomplete="new-password"
                    hint=secret_hint error=field_error(result, "client_secret")/>
                <Field name="issuer_url" label="Issuer URL" hint="For example https://auth.example.org" value=o.issuer_url error=field_error(result, "issuer_url")/>
                <Field name="authorization_url" label="Authorization URL" value=o.authorization_url error=field_error(result, "authorization_url")/>
                <Field name="token_url" label="Token URL" value=o.token_url error=field_error(result, "token_url")/>
                <Field name="userinfo_url" label="Userinfo URL (optional)" hint="Found through discovery when empty." value=o.userinfo_url
                    error=field_error(result, "userinfo_url")/>
                <div class="two-col">
                    <Field name="identifier_path" label="Identifier claim" value=o.identifier_path error=field_error(result, "identifier_path")/>
                    <Field name="name_path" label="Display name claim" value=o.name_path error=field_error(result, "name_path")/>
                </div>
                <Field name="scopes" label="Scopes" value=o.scopes error=field_error(result, "scopes")/>
                <Field name="allowed_users" label="Allowed users (optional)" hint="Comma-separated identifiers or @domains; empty allows everyone the provider signs in."
                    value=o.allowed_users error=field_error(result, "allowed_users")/>
                <StatusLine status=status/>
                <div class="row">
                    <Submit label="Save single sign-on" busy_label="Saving…" pending=save.pending()/>
                    {o.configured.then(|| view! {
                        <button type="submit" name="remove" value="1" class="btn btn-danger" disabled=move || save.pending().get()>"Turn off"</button>
                    })}
                </div>
            </ActionForm>
        </section>
    }
}

/// How each policy reads on the page.
const POLICIES: [(&str, &str); 5] = [
    ("one_factor", "Signed in (one_factor)"),
    ("two_factor", "Signed in with a second factor (two_factor)"),
    ("step_up", "A fresh code for each terminal (step_up)"),
    ("bypass", "Open to anyone (bypass)"),
    ("deny", "Refused (deny)"),
];

#[component]
fn AccessRulesSection() -> impl IntoView {
    let add = ServerAction::<AddAccessRule>::new();
    let remove = ServerAction::<RemoveAccessRule>::new();
    let reorder = ServerAction::<MoveAccessRule>::new();
    let lock = LockCtx::get();
    lock.watch(move || add.value().get());
    lock.watch(move || remove.value().get());
    lock.watch(move || reorder.value().get());
    let rules = Resource::new(
        move || (add.version().get(), remove.version().get(), reorder.version().get(), lock.unlocks()),
        move |_| async move { lock.check(access_rules().await) },
    );
    let added = Signal::derive(move || add.value().get());
    let add_status =
        outcome(add.pending().into(), added, |_| "Rule added. It applies from the next request.".into());
    let removed = outcome(remove.pending().into(), Signal::derive(move || remove.value().get()), |_| {
        "Rule removed. It stopped applying at once.".into()
    });
    let moved = outcome(reorder.pending().into(), Signal::derive(move || reorder.value().get()), |_| {
        "Order saved.".into()
    });
    view! {
        <section class="card section" aria-labelledby="rules-title" data-testid="access-rules"
            hidden=move || matches!(rules.get(), Some(Err(e)) if e.is(ErrorKind::Forbidden))>
            <h2 id="rules-title">"Forward-auth access rules"</h2>
            <p class="muted">"What a reverse proxy in front of your terminals lets through. Rules are checked from the top; the first whose host and path match decides. With no rules, every signed-in session passes; once there is one, a request no rule matches is refused."</p>
            <StatusLine status=add_status/>
            <StatusLine status=removed/>
            <StatusLine status=moved/>
            <Transition fallback=|| view! { <p class="muted">"Loading rules…"</p> }>
                {move || Suspend::new(async move {
                    match rules.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted" data-testid="no-rules">"No rules: every signed-in session passes."</p>
                        }.into_any(),
                        Ok(list) => {
                            let last = list.len() - 1;
                            view! {
                                <ol class="rows" data-testid="rule-list">
                                    {list.into_iter().enumerate().map(|(n, r)| view! {
                                        <RuleRow n=n last=last r=r remove=remove reorder=reorder/>
                                    }).collect_view()}
                                </ol>
                            }.into_any()
                        }
                        Err(e) if e.is(ErrorKind::Forbidden) => ().into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <details class="confirm" open=move || matches!(added.get(), Some(Err(_)))>
                <summary class="btn btn-primary">"Add a rule…"</summary>
                <ActionForm action=add attr:class="stack narrow" attr:novalidate=true>
                    <Field name="host" id="rule-host" label="Host" hint="term.example.com, *.example.com, or empty for any host."
                        maxlength="253" autocomplete="off" error=field_error(added, "rule_host")/>
                    <Field name="path" id="rule-path" label="Path" hint="/terminal/{id} names a terminal (step_up); /public/* takes everything under it; empty for any path."
                        maxlength="512" autocomplete="off" error=field_error(added, "rule_path")/>
                    <div class="field">
                        <label for="rule-policy">"Needs"</label>
                        <select id="rule-policy" name="policy" class="select">
                            {POLICIES.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
                        </select>
                    </div>
                    <Field name="subjects" id="rule-subjects" label="Only for (optional)" hint="group:admins, user:alice … comma-separated. Empty: everyone."
                        maxlength="2000" autocomplete="off" error=field_error(added, "rule_subjects")/>
                    <Submit label="Add rule" busy_label="Adding…" pending=add.pending()/>
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn RuleRow(
    n: usize,
    last: usize,
    r: AccessRule,
    remove: ServerAction<RemoveAccessRule>,
    reorder: ServerAction<MoveAccessRule>,
) -> impl IntoView {
    let host = if r.host.is_empty() { "any host".to_owned() } else { r.host.clone() };
    let path = if r.path.is_empty() { "any path".to_owned() } else { r.path.clone() };
    let needs =
        POLICIES.iter().find(|(v, _)| *v == r.policy).map_or(r.policy.as_str(), |(_, l)| l).to_owned();
    let who = if r.subjects.is_empty() { "everyone".to_owned() } else { r.subjects.join(", ") };
    let label = format!("rule {} ({host} {path})", n + 1);
    let (up_label, down_label, rm_label) =
        (format!("Move {label} up"), format!("Move {label} down"), format!("Remove {label}"));
    let busy = move || remove.pending().get() || reorder.pending().get();
    let (id_up, id_down, id_rm) = (r.id.clone(), r.id.clone(), r.id.clone());
    view! {
        <li class="row-item" data-testid="rule-row">
            <div class="row-main">
                <p class="row-title"><span class="muted">{format!("{}. ", n + 1)}</span><code>{host}</code>" "<code>{path}</code></p>
                <p class="muted small">{format!("{needs} · for {who}")}</p>
            </div>
            <div class="row">
                <ActionForm action=reorder>
                    <input type="hidden" name="index" value=n.to_string()/>
                    <input type="hidden" name="id" value=id_up/>
                    <input type="hidden" name="up" value="true"/>
                    <button type="submit" class="btn btn-ghost" aria-label=up_label disabled=move || n == 0 || busy()>"Up"</button>
                </ActionForm>
                <ActionForm action=reorder>
                    <input type="hidden" name="index" value=n.to_string()/>
                    <input type="hidden" name="id" value=id_down/>
                    <input type="hidden" name="up" value="false"/>
                    <button type="submit" class="btn btn-ghost" aria-label=down_label disabled=move || n == last || busy()>"Down"</button>
                </ActionForm>
                <ActionForm action=remove>
                    <input type="hidden" name="index" value=n.to_string()/>
                    <input type="hidden" name="id" value=id_rm/>
                    <button type="submit" class="btn btn-danger" aria-label=rm_label disabled=busy>"Remove"</button>
                </ActionForm>
            </div>
        </li>
    }
}
