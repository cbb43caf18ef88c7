//! Sessions: how long they last, and every signed-in session on the instance.
use crate::api::{instance_settings, list_all_sessions, RevokeOneSession, SaveSessionTimeout};
use crate::components::{field_error, outcome, Field, Pager, Paging, StatusLine, Submit};
use crate::lock::LockCtx;
use crate::pages::sessions::SessionItem;
use leptos::prelude::*;

#[component]
pub(super) fn SessionsTab() -> impl IntoView {
    let lock = LockCtx::get();
    let settings =
        Resource::new(move || lock.unlocks(), move |_| async move { lock.check(instance_settings().await) });
    let revoke = ServerAction::<RevokeOneSession>::new();
    lock.watch(move || revoke.value().get());
    let paging = Paging::new();
    let sessions = Resource::new(
        move || (revoke.version().get(), lock.unlocks(), paging.cursor()),
        move |(_, _, cursor)| async move { lock.check(list_all_sessions(cursor).await) },
    );
    let revoked = outcome(revoke.pending().into(), Signal::derive(move || revoke.value().get()), |_| {
        "Signed out. That device is refused from its next request.".into()
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                super::part(settings.await, |s| view! { <SessionLength hours=s.timeout_hours/> })
            })}
        </Suspense>
        <section class="card section" aria-labelledby="all-sessions-title">
            <h2 id="all-sessions-title">"Signed-in sessions"</h2>
            <p class="muted">"Everyone's, most recently active first. To end all of one person's sessions, use Users."</p>
            <StatusLine status=revoked/>
            <Transition fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                {move || Suspend::new(async move {
                    super::part(sessions.await, |page| {
                        let next = page.next_cursor.clone();
                        let empty = page.sessions.is_empty();
                        view! {
                            <ul class="session-list" data-testid="all-sessions">
                                {page.sessions.into_iter().map(|s| view! { <SessionItem s=s revoke=revoke owner=true/> }).collect_view()}
                            </ul>
                            {empty.then(|| view! { <p class="muted">"Nobody is signed in."</p> })}
                            <Pager paging=paging next=next label="Session pages"/>
                        }
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SessionLength(hours: i64) -> impl IntoView {
    let save = ServerAction::<SaveSessionTimeout>::new();
    LockCtx::get().watch(move || save.value().get());
    let result = Signal::derive(move || save.value().get());
    let status = outcome(save.pending().into(), result, |_| "Session length saved.".into());
    view! {
        <section class="card section" aria-labelledby="length-title">
            <h2 id="length-title">"Session length"</h2>
            <ActionForm action=save attr:class="stack">
                <Field name="timeout_hours" label="Sessions last (hours)" kind="number" inputmode="numeric" required=true
                    hint="1 to 720. Applies to sessions started from now on; “keep me signed in” lasts 30 days."
                    value=hours.to_string() error=field_error(result, "timeoutHours")/>
                <StatusLine status=status/>
                <Submit label="Save" busy_label="Saving…" pending=save.pending()/>
            </ActionForm>
        </section>
    }
}
