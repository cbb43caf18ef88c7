//! Sessions: every device signed in, this one marked, each revocable.
use crate::api::{list_my_sessions, RevokeOneSession, RevokeOtherSessions, SessionView};
use crate::components::{describe, AppFrame, Pager, Paging};
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
            return Some(("notice", "Signing out…".to_string()));
        }
        if let Some(Err(e)) = revoke.value().get() {
            return Some(("notice notice-error", describe(&e)));
        }
        match revoke_others.value().get() {
            Some(Ok(n)) => {
                Some(("notice notice-ok", format!("Signed out of {n} other session{}.", plural(n))))
            }
            Some(Err(e)) => Some(("notice notice-error", describe(&e))),
            None => revoke.value().get().map(|_| {
                ("notice notice-ok", "Signed out. That device is refused from its next request.".to_string())
            }),
        }
    };
    view! {
        <AppFrame>
            <h1>"Sessions"</h1>
            <p class="lead">"Each place you are signed in. Signing one out ends it on its next request."</p>
            <p role="status" aria-live="polite" class=move || status().map(|s| s.0).unwrap_or("notice")
                hidden=move || status().is_none()>
                {move || status().map(|s| s.1).unwrap_or_default()}
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(page) => {
                            let next = page.next_cursor.clone();
                            let others = page.sessions.iter().any(|s| !s.is_current) || next.is_some();
                            let live = page.sessions;
                            view! {
                                <ul class="session-list" data-testid="session-list">
                                    {live.into_iter().map(|s| view! { <SessionItem s=s revoke=revoke/> }).collect_view()}
                                </ul>
                                <Pager paging=paging next=next label="Session pages"/>
                                {if others {
                                    view! {
                                        <ActionForm action=revoke_others>
                                            <button type="submit" class="btn btn-danger" disabled=move || revoke_others.pending().get()>
                                                "Sign out all other sessions"
                                            </button>
                                        </ActionForm>
                                    }.into_any()
                                } else {
                                    view! { <p class="muted" data-testid="no-other-sessions">"You are signed in on this device only."</p> }.into_any()
                                }}
                            }.into_any()
                        }
                        Err(e) => view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppFrame>
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// One session: its device, where and when it was last active, and "Sign out". `owner` also
/// names whose it is (the admin area's list of everyone's).
#[component]
pub(crate) fn SessionItem(
    s: SessionView,
    revoke: ServerAction<RevokeOneSession>,
    #[prop(optional)] owner: bool,
) -> impl IntoView {
    // Simple line icons: phone/tablet, monitor, or a terminal prompt for API clients.
    let icon = match s.device_type.as_str() {
        "mobile" | "tablet" => {
            "M7 2h10a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm4 17h2"
        }
        "desktop" => "M3 4h18v12H3zM8 20h8M12 16v4",
        _ => "M4 5h16v14H4zM7 10l3 2-3 2M12 15h5",
    };
    // A script or an app names itself by its user agent (`curl/8.5`, `node`): said as what it is.
    let device = if s.device_type == "api" && s.device_info != "Unknown client" {
        format!("API client · {}", s.device_info)
    } else {
        s.device_info.clone()
    };
    let exact = s.last_active_at.replace('T', " ").replace('Z', " UTC");
    let what = if s.is_current && !owner {
        "Sign out this device".to_owned()
    } else if owner {
        format!("Sign out {} on {device}", s.username)
    } else {
        format!("Sign out {device}")
    };
    view! {
        <li class="card session" class:session-current=s.is_current data-testid="session">
            <svg class="session-icon" viewBox="0 0 24 24" aria-hidden="true"><path d=icon/></svg>
            <div class="session-main">
                <p class="session-title">
                    {owner.then(|| view! { <strong>{s.username.clone()}</strong> " · " })}
                    {device}
                    {s.is_current.then(|| view! { <span class="badge badge-accent" data-testid="this-device">"This device"</span> })}
                </p>
                <p class="muted small">
                    {s.ip_address.clone()} " · active "
                    <time datetime=s.last_active_at.clone() title=exact>{s.last_active_ago.clone()}</time>
                </p>
            </div>
            <ActionForm action=revoke>
                <input type="hidden" name="session_id" value=s.id.clone()/>
                <button type="submit" class="btn btn-ghost" aria-label=what disabled=move || revoke.pending().get()>"Sign out"</button>
            </ActionForm>
        </li>
    }
}
