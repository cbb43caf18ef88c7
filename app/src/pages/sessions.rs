//! Sessions: every device signed in, this one marked, each revocable.
use crate::api::{list_my_sessions, RevokeOneSession, RevokeOtherSessions, SessionView};
use crate::components::{AppFrame, Pager, Paging};
use crate::lock::LockCtx;
use leptos::prelude::*;

#[component]
pub fn SessionsPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeOneSession>::new();
    let revoke_others = ServerAction::<RevokeOtherSessions>::new();
    let lock = LockCtx::get();
    let paging = Paging::new();
    let sessions = Resource::new(
        move || (revoke.version().get(), revoke_others.version().get(), lock.unlocks(), paging.cursor()),
        move |(_, _, _, cursor)| async move { lock.check(list_my_sessions(cursor).await) },
    );
    lock.watch(move || revoke.value().get());
    lock.watch(move || revoke_others.value().get());
    // After signing out the others, the list starts again from its first page.
    Effect::new(move |_| {
        if matches!(revoke_others.value().get(), Some(Ok(_))) {
            paging.reset();
        }
    });
    let status = move || {
        if revoke.pending().get() || revoke_others.pending().get() {
            return Some(("notice", "Revoking…".to_string()));
        }
        if let Some(Err(e)) = revoke.value().get() {
            return Some(("notice notice-error", e.to_string()));
        }
        match revoke_others.value().get() {
            Some(Ok(n)) => Some(("notice notice-ok", format!("Signed out {n} other session(s)."))),
            Some(Err(e)) => Some(("notice notice-error", e.to_string())),
            None => revoke.value().get().map(|_| ("notice notice-ok", "Session revoked.".to_string())),
        }
    };
    view! {
        <AppFrame>
            <div class="page-head">
                <div>
                    <h1>"Sessions"</h1>
                    <p class="lead">"Each place you are signed in. Revoking one signs it out on its next request."</p>
                </div>
                <ActionForm action=revoke_others>
                    <button type="submit" class="btn btn-danger" disabled=move || revoke_others.pending().get()>
                        "Sign out all other sessions"
                    </button>
                </ActionForm>
            </div>
            <p role="status" aria-live="polite" class=move || status().map(|s| s.0).unwrap_or("notice")
                hidden=move || status().is_none()>
                {move || status().map(|s| s.1).unwrap_or_default()}
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(page) => {
                            let next = page.next_cursor.clone();
                            let live = page.sessions;
                            view! {
                                <ul class="session-list" data-testid="session-list">
                                    {live.into_iter().map(|s| view! { <SessionItem s=s revoke=revoke/> }).collect_view()}
                                </ul>
                                <Pager paging=paging next=next label="Session pages"/>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppFrame>
    }
}

#[component]
fn SessionItem(s: SessionView, revoke: ServerAction<RevokeOneSession>) -> impl IntoView {
    // Simple line icons: phone/tablet, monitor, or a terminal prompt for API clients.
    let icon = match s.device_type.as_str() {
        "mobile" | "tablet" => {
            "M7 2h10a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm4 17h2"
        }
        "desktop" => "M3 4h18v12H3zM8 20h8M12 16v4",
        _ => "M4 5h16v14H4zM7 10l3 2-3 2M12 15h5",
    };
    let label = if s.is_current { "Sign out this device" } else { "Revoke" };
    view! {
        <li class="card session" class:session-current=s.is_current data-testid="session">
            <svg class="session-icon" viewBox="0 0 24 24" aria-hidden="true"><path d=icon/></svg>
            <div class="session-main">
                <p class="session-title">
                    {s.device_info.clone()}
                    {s.is_current.then(|| view! { <span class="badge badge-accent" data-testid="this-device">"This device"</span> })}
                </p>
                <p class="muted small">
                    {s.username.clone()} " · " {s.ip_address.clone()} " · last active "
                    <time datetime=s.last_active_at.clone()>{s.last_active_at.replace('T', " ").replace('Z', " UTC")}</time>
                </p>
            </div>
            <ActionForm action=revoke>
                <input type="hidden" name="session_id" value=s.id.clone()/>
                <button type="submit" class="btn btn-ghost" disabled=move || revoke.pending().get()>{label}</button>
            </ActionForm>
        </li>
    }
}
