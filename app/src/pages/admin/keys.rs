//! API keys: create (shown once), list, delete.
use crate::api::{list_api_keys, list_users_page, ApiKeyView, CreateApiKey, DeleteApiKey};
use crate::components::{
    describe, empty_form_when, field_error, outcome, Field, Pager, Paging, StatusLine, Submit,
};
use crate::error::ErrorKind;
use crate::lock::LockCtx;
use leptos::prelude::*;

#[component]
pub(super) fn ApiKeysSection() -> impl IntoView {
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
    // A created key empties the form (the key itself shows above, once).
    let form = NodeRef::<leptos::html::Form>::new();
    empty_form_when(form, move || matches!(create.value().get(), Some(Ok(_))));
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            copied.set(false);
            owner.set(String::new());
        }
    });
    view! {
        <section class="card section" aria-labelledby="keys-title"
            hidden=move || matches!(keys.get(), Some(Err(e)) if e.is(ErrorKind::Forbidden))>
            <h2 id="keys-title">"Keys for scripts and apps"</h2>
            <p class="muted">"A key acts as its user from scripts and outside clients, sent as " <code>"Authorization: Bearer pcs_…"</code> "; it is shown once, when it is made."</p>
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
                <ActionForm action=create node_ref=form attr:class="stack narrow" attr:novalidate=true>
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
