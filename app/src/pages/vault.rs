//! The vault page: small secrets kept encrypted with a key only your password opens.
use crate::api::{
    reveal_vault_item, vault_items, RemoveVaultItem, SaveVaultItem, UnlockVault, VaultItemView,
};
use crate::components::{
    describe, empty_form_when, field_error, form_error, outcome, AppFrame, Field, FormStatus, StatusLine,
    Submit,
};
use crate::lock::LockCtx;
use leptos::prelude::*;

#[component]
pub fn VaultPage() -> impl IntoView {
    let unlock = ServerAction::<UnlockVault>::new();
    let save = ServerAction::<SaveVaultItem>::new();
    let remove = ServerAction::<RemoveVaultItem>::new();
    let lock = LockCtx::get();
    lock.watch(move || unlock.value().get());
    lock.watch(move || save.value().get());
    lock.watch(move || remove.value().get());
    let items = Resource::new(
        move || (unlock.version().get(), save.version().get(), remove.version().get(), lock.unlocks()),
        move |_| async move { lock.check(vault_items().await) },
    );
    let unlocked = Signal::derive(move || unlock.value().get());
    let saved = Signal::derive(move || save.value().get());
    let save_status = outcome(save.pending().into(), saved, |_| "Saved, encrypted.".into());
    // A saved secret should not linger in the form.
    let add_form = NodeRef::<leptos::html::Form>::new();
    empty_form_when(add_form, move || matches!(saved.get(), Some(Ok(()))));
    // One notice at a time: a delete clears "Saved", a save clears "Item deleted".
    Effect::new(move |_| {
        if remove.pending().get() {
            save.clear();
        }
    });
    Effect::new(move |_| {
        if save.pending().get() {
            remove.clear();
        }
    });
    let remove_status =
        outcome(remove.pending().into(), Signal::derive(move || remove.value().get()), |_| {
            "Item deleted.".into()
        });
    view! {
        <AppFrame>
            <h1>"Vault"</h1>
            <p class="lead">"Keep keys, tokens and notes here. They are encrypted with a key that only your password opens: not even the server's administrator can read them."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match items.await {
                        Ok(None) => view! {
                            <section class="card section" aria-labelledby="vl-title">
                                <div class="section-head">
                                    <h2 id="vl-title">"Unlock your vault"</h2>
                                    <span class="badge" data-testid="vault-status">"Locked"</span>
                                </div>
                                <p>"Enter your password to open your vault for this session. After the server restarts you will be asked again."</p>
                                <ActionForm action=unlock attr:class="stack narrow">
                                    <Field name="password" label="Password" kind="password" autocomplete="current-password" required=true
                                        autofocus=true error=field_error(unlocked, "password")/>
                                    <FormStatus error=form_error(unlocked)/>
                                    <Submit label="Unlock vault" busy_label="Unlocking…" pending=unlock.pending()/>
                                </ActionForm>
                            </section>
                        }.into_any(),
                        Ok(Some(list)) => view! {
                            <section class="card section" aria-labelledby="vi-title">
                                <div class="section-head">
                                    <h2 id="vi-title">"Items"</h2>
                                    <span class="badge badge-ok" data-testid="vault-status">"Unlocked"</span>
                                </div>
                                <StatusLine status=remove_status/>
                                {if list.is_empty() {
                                    view! { <p class="muted">"Nothing stored yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="rows" data-testid="vault-items">
                                            {list.into_iter().map(|i| view! { <VaultRow item=i remove=remove/> }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </section>
                            <section class="card section" aria-labelledby="va-title">
                                <h2 id="va-title">"Add or replace an item"</h2>
                                <ActionForm action=save node_ref=add_form attr:class="stack narrow" attr:novalidate=true>
                                    <Field name="name" label="Name" maxlength="128" required=true hint="Saving under an existing name replaces it."
                                        error=field_error(saved, "name")/>
                                    <div class="field" class:field-invalid=move || field_error(saved, "value").get().is_some()>
                                        <label for="f-value">"Secret"</label>
                                        <textarea id="f-value" name="value" rows="4" class="textarea" required=true
                                            aria-describedby="f-value-error"></textarea>
                                        <p class="field-error" id="f-value-error" role="alert" hidden=move || field_error(saved, "value").get().is_none()>
                                            {move || field_error(saved, "value").get().unwrap_or_default()}
                                        </p>
                                    </div>
                                    <StatusLine status=save_status/>
                                    <Submit label="Save item" busy_label="Saving…" pending=save.pending()/>
                                </ActionForm>
                            </section>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppFrame>
    }
}

#[component]
fn VaultRow(item: VaultItemView, remove: ServerAction<RemoveVaultItem>) -> impl IntoView {
    // The value is fetched when asked for, shown until "Hide", then forgotten.
    let value = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let copied = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let name = StoredValue::new(item.name.clone());
    // A locked screen forgets a shown value (it would stay in the page behind the lock).
    let page_lock = LockCtx::get();
    Effect::new(move |_| {
        if page_lock.locked.get() {
            value.set(None);
        }
    });
    let fetch_then = move |then: Box<dyn FnOnce(String)>| {
        busy.set(true);
        failed.set(None);
        leptos::task::spawn_local(async move {
            match reveal_vault_item(name.get_value()).await {
                Ok(v) => then(v),
                Err(e) => failed.set(Some(describe(&e))),
            }
            busy.set(false);
        });
    };
    let toggle = move |_| {
        copied.set(false);
        if value.get_untracked().is_some() {
            value.set(None);
        } else {
            fetch_then(Box::new(move |v| value.set(Some(v))));
        }
    };
    // Copying does not show the value.
    let copy = move |_| {
        copied.set(false);
        match value.get_untracked() {
            Some(v) => copied.set(crate::browser::copy_to_clipboard(&v)),
            None => fetch_then(Box::new(move |v| copied.set(crate::browser::copy_to_clipboard(&v)))),
        }
    };
    let n = item.name.clone();
    let (copy_aria, delete_aria) = (format!("Copy {n}"), format!("Delete {n}…"));
    let toggle_aria =
        move || format!("{} {}", if value.get().is_some() { "Hide" } else { "Show" }, name.get_value());
    let confirm = format!("Delete {n} for good");
    view! {
        <li class="row-item" data-testid="vault-item">
            <div class="row-main">
                <p class="row-title">{item.name.clone()}</p>
                <p class="mono small vault-value">{move || value.get().unwrap_or_else(|| "••••••••••••".into())}</p>
                <p class="muted small">"Updated " {item.updated_at.replace('T', " ").replace('Z', " UTC")}</p>
                <p class="field-error" role="alert" hidden=move || failed.get().is_none()>{move || failed.get().unwrap_or_default()}</p>
                <p class="muted small" role="status" aria-live="polite">{move || copied.get().then_some("Copied to the clipboard.")}</p>
            </div>
            <div class="row-actions">
                <button type="button" class="btn btn-ghost" aria-label=toggle_aria
                    disabled=move || busy.get() on:click=toggle>{move || if value.get().is_some() { "Hide" } else { "Show" }}</button>
                <button type="button" class="btn btn-ghost" aria-label=copy_aria disabled=move || busy.get() on:click=copy>"Copy"</button>
                <details class="confirm inline">
                    <summary class="btn btn-danger" aria-label=delete_aria>"Delete…"</summary>
                    <ActionForm action=remove attr:class="stack">
                        <input type="hidden" name="name" value=item.name.clone()/>
                        <p class="muted small">"The item cannot be brought back."</p>
                        <button type="submit" class="btn btn-danger" disabled=move || remove.pending().get()>{confirm}</button>
                    </ActionForm>
                </details>
            </div>
        </li>
    }
}
